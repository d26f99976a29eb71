/*
 * glibc-parity checks, one case per run: `alloc_semantics CASE`. Prints
 * "ok CASE" and exits 0 when every check holds, otherwise prints what
 * differed and exits 1. Run with the shim preloaded by test_alloc_semantics.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

#define EXPECT(cond) do { if (!(cond)) { \
	printf("FAILED: %s (line %d, errno %d)\n", #cond, __LINE__, errno); failures++; } \
	} while (0)

static long
read_rss_kib(void)
{
	FILE *file = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	while (file != NULL && fgets(line, sizeof(line), file) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
		}
	}
	if (file != NULL) {
		fclose(file);
	}
	return kib;
}

static void
case_malloc_zero(void)
{
	void *a = malloc(0), *b = malloc(0);

	EXPECT(a != NULL);
	EXPECT(b != NULL);
	EXPECT(a != b);
	free(a);
	free(b);
}

static void
case_realloc_zero(void)
{
	void *p = malloc(100);
	void *q;

	errno = 0;
	q = realloc(p, 0);
	EXPECT(q == NULL);
	q = realloc(NULL, 64);
	EXPECT(q != NULL);
	free(q);
}

static void
case_calloc_overflow(void)
{
	/* volatile: the compiler must not see the overflow and warn at build time. */
	volatile size_t half = SIZE_MAX / 2;
	void *p;

	errno = 0;
	p = calloc(half, 3);
	EXPECT(p == NULL);
	EXPECT(errno == ENOMEM);
	errno = 0;
	p = reallocarray(NULL, half, 3);
	EXPECT(p == NULL);
	EXPECT(errno == ENOMEM);
	p = reallocarray(NULL, 10, 10);
	EXPECT(p != NULL);
	free(p);
}

static void
case_alignment(void)
{
	void *p = (void *)0x1234, *q;
	size_t sizes[] = { 1, 7, 16, 24, 100, 1000, 4096, 100000, 3 << 20 };
	size_t i;

	EXPECT(posix_memalign(&p, 3, 64) == EINVAL);
	EXPECT(p == (void *)0x1234);
	EXPECT(posix_memalign(&p, 4, 64) == EINVAL);
	EXPECT(p == (void *)0x1234);
	EXPECT(posix_memalign(&p, 4096, 64) == 0);
	EXPECT(((uintptr_t)p & 4095) == 0);
	free(p);

	/* glibc 2.36 (Debian 12): aligned_alloc is memalign, so 24 rounds up to 32. */
	q = aligned_alloc(24, 48);
	EXPECT(q != NULL && ((uintptr_t)q & 31) == 0);
	free(q);
	errno = 0;
	q = memalign((size_t)1 << 63, 64);
	EXPECT(q == NULL);
	EXPECT(errno == ENOMEM);
	q = aligned_alloc(256, 512);
	EXPECT(q != NULL && ((uintptr_t)q & 255) == 0);
	free(q);

	/* glibc rounds a memalign alignment up to a power of two. */
	q = memalign(24, 100);
	EXPECT(q != NULL && ((uintptr_t)q & 31) == 0);
	free(q);
	q = valloc(10);
	EXPECT(q != NULL && ((uintptr_t)q & 4095) == 0);
	free(q);
	q = pvalloc(10);
	EXPECT(q != NULL && ((uintptr_t)q & 4095) == 0);
	EXPECT(malloc_usable_size(q) >= 4096);
	free(q);

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		q = malloc(sizes[i]);
		EXPECT(q != NULL && ((uintptr_t)q & 15) == 0);
		EXPECT(malloc_usable_size(q) >= sizes[i]);
		free(q);
	}
	EXPECT(malloc_usable_size(NULL) == 0);
}

/* An alignment of 1 TiB needs that much address space: glibc and the shim give ENOMEM. */
static void
case_huge_alignment(void)
{
	void *p = (void *)0x1234, *q;

	errno = 0;
	q = aligned_alloc((size_t)1 << 40, 64);
	EXPECT(q == NULL);
	EXPECT(errno == ENOMEM);
	EXPECT(posix_memalign(&p, (size_t)1 << 40, 64) == ENOMEM);
	EXPECT(p == (void *)0x1234);
	q = malloc(64);
	EXPECT(q != NULL);
	free(q);
}

static void
case_errno_free(void)
{
	int i;

	for (i = 0; i < 1000; i++) {
		void *p = malloc((size_t)(i % 7 + 1) << (i % 24));

		errno = 12345;
		free(p);
		EXPECT(errno == 12345);
	}
	errno = 777;
	free(NULL);
	EXPECT(errno == 777);
}

static void
case_calloc_lazy(void)
{
	size_t bytes = (size_t)1 << 30;
	long before = read_rss_kib(), after;
	unsigned char *p = calloc(1, bytes);
	size_t i;

	EXPECT(p != NULL);
	if (p == NULL) {
		return;
	}
	after = read_rss_kib();
	/* A fresh 1 GiB calloc must not touch its pages: RSS grows by far less. */
	EXPECT(after - before < 64 * 1024);
	for (i = 0; i < bytes; i += 1 << 20) {
		EXPECT(p[i] == 0);
	}
	free(p);
}

static void
case_realloc_content(void)
{
	size_t size = 16, i;
	unsigned char *p = malloc(size);

	for (i = 0; i < size; i++) {
		p[i] = (unsigned char)i;
	}
	/* Grow through small, large and huge sizes; the prefix must survive each move. */
	while (size < ((size_t)64 << 20)) {
		unsigned char *q = realloc(p, size * 4);

		EXPECT(q != NULL);
		if (q == NULL) {
			break;
		}
		p = q;
		for (i = 0; i < 16; i++) {
			EXPECT(p[i] == (unsigned char)i);
		}
		size *= 4;
	}
	free(p);
}

static void
case_usable_size_write(void)
{
	int i;

	for (i = 1; i < 5000; i += 37) {
		unsigned char *p = malloc((size_t)i);
		size_t usable = malloc_usable_size(p);

		memset(p, 0xab, usable);
		free(p);
	}
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(void);
	} cases[] = {
		{ "malloc_zero", case_malloc_zero },
		{ "realloc_zero", case_realloc_zero },
		{ "calloc_overflow", case_calloc_overflow },
		{ "alignment", case_alignment },
		{ "huge_alignment", case_huge_alignment },
		{ "errno_free", case_errno_free },
		{ "calloc_lazy", case_calloc_lazy },
		{ "realloc_content", case_realloc_content },
		{ "usable_size_write", case_usable_size_write },
	};
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: alloc_semantics CASE\n");
		return 2;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], cases[i].name) == 0) {
			cases[i].run();
			if (failures == 0) {
				printf("ok %s\n", argv[1]);
			}
			return failures == 0 ? 0 : 1;
		}
	}
	fprintf(stderr, "unknown case %s\n", argv[1]);
	return 2;
}
