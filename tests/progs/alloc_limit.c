/*
 * Memory-governor scenarios, one per run: `alloc_limit CASE`. Prints
 * key=value lines that the integration tests check.
 *   grow:    allocate and touch 64 MiB blocks until malloc returns NULL or
 *            1 GiB is held; prints blocks, errno and peak RSS (VmHWM).
 *   grow_mid: the same with 96 KiB blocks, from malloc and calloc in turn,
 *            for a threshold between the fast path's bound and 1 MiB.
 *   realloc: grows one buffer by 1 MiB per realloc, touching the new part,
 *            until realloc returns NULL or 1 GiB; prints the size reached and
 *            peak RSS. Each move copies while the old block stays resident.
 *   xallocx: calls jemalloc's xallocx (the shim's copy, found with dlsym) to
 *            grow a 1 MiB block in place to 400 MiB; prints whether it grew
 *            and how long the call took.
 *   purge:   touch and free 300 MiB in 1 MiB blocks (jemalloc keeps them),
 *            then request 300 MiB at once; prints whether it succeeded.
 *   stall:   hold 300 MiB, then request 200 MiB; prints the result and the
 *            time the request took.
 *   release: hold 300 MiB, then request 200 MiB while another thread frees
 *            the 300 MiB after 300 ms; prints the result.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

static long
read_status_kib(const char *field)
{
	FILE *file = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	size_t length = strlen(field);

	while (file != NULL && fgets(line, sizeof(line), file) != NULL) {
		if (strncmp(line, field, length) == 0) {
			kib = strtol(line + length, NULL, 10);
		}
	}
	if (file != NULL) {
		fclose(file);
	}
	return kib;
}

static double
now_seconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static char *
touch(char *p, size_t size)
{
	if (p != NULL) {
		memset(p, 0x5a, size);
	}
	return p;
}

static int
case_grow(void)
{
	char *blocks[16];
	int count = 0, saved_errno = 0, i;

	while (count < 16) {
		errno = 0;
		blocks[count] = touch(malloc(64 * MIB), 64 * MIB);
		if (blocks[count] == NULL) {
			saved_errno = errno;
			break;
		}
		count++;
	}
	printf("blocks=%d\nrefused=%d\nerrno=%d\nenomem=%d\npeak_rss_kib=%ld\n", count,
	    count < 16, saved_errno, saved_errno == ENOMEM, read_status_kib("VmHWM:"));
	for (i = 0; i < count; i++) {
		free(blocks[i]);
	}
	return 0;
}

static int
case_grow_mid(void)
{
	enum { BLOCK = 96 << 10, MAX_BLOCKS = (1 << 30) / BLOCK };
	static char *blocks[MAX_BLOCKS];
	int count = 0, saved_errno = 0, i;

	while (count < MAX_BLOCKS) {
		errno = 0;
		blocks[count] = count % 2 == 0 ? touch(malloc(BLOCK), BLOCK)
		    : touch(calloc(1, BLOCK), BLOCK);
		if (blocks[count] == NULL) {
			saved_errno = errno;
			break;
		}
		count++;
	}
	printf("blocks=%d\nrefused=%d\nenomem=%d\npeak_rss_kib=%ld\n", count,
	    count < MAX_BLOCKS, saved_errno == ENOMEM, read_status_kib("VmHWM:"));
	for (i = 0; i < count; i++) {
		free(blocks[i]);
	}
	return 0;
}

static int
case_realloc(void)
{
	size_t size = MIB;
	char *buffer = touch(malloc(size), size);
	int saved_errno = 0;

	while (buffer != NULL && size < 1024 * MIB) {
		char *grown;

		errno = 0;
		grown = realloc(buffer, size + MIB);
		if (grown == NULL) {
			saved_errno = errno;
			break;
		}
		buffer = grown;
		memset(buffer + size, 0x5a, MIB);
		size += MIB;
	}
	printf("reached_mib=%zu\nrefused=%d\nenomem=%d\npeak_rss_kib=%ld\n", size / MIB,
	    size < 1024 * MIB, saved_errno == ENOMEM, read_status_kib("VmHWM:"));
	free(buffer);
	return 0;
}

static int
case_xallocx(void)
{
	size_t (*xallocx_fn)(void *, size_t, size_t, int);
	void *(*mallocx_fn)(size_t, int);
	double start;
	size_t result;
	char *block;

	*(void **)&xallocx_fn = dlsym(RTLD_DEFAULT, "xallocx");
	*(void **)&mallocx_fn = dlsym(RTLD_DEFAULT, "mallocx");
	if (xallocx_fn == NULL || mallocx_fn == NULL) {
		printf("no_jemalloc_api=1\n");
		return 1;
	}
	block = touch(mallocx_fn(MIB, 0), MIB);
	start = now_seconds();
	result = xallocx_fn(block, 400 * MIB, 0, 0);
	printf("grew=%d\nseconds=%.3f\n", result >= 400 * MIB, now_seconds() - start);
	free(block);
	return 0;
}

static int
case_purge(void)
{
	char *blocks[300];
	char *big;
	int i;

	for (i = 0; i < 300; i++) {
		blocks[i] = touch(malloc(MIB), MIB);
	}
	for (i = 0; i < 300; i++) {
		free(blocks[i]);
	}
	printf("rss_after_free_kib=%ld\n", read_status_kib("VmRSS:"));
	big = touch(malloc(300 * MIB), 300 * MIB);
	printf("big_ok=%d\n", big != NULL);
	printf("peak_rss_kib=%ld\n", read_status_kib("VmHWM:"));
	free(big);
	return 0;
}

static char *held;

static void *
release_later(void *arg)
{
	(void)arg;
	usleep(300 * 1000);
	free(held);
	held = NULL;
	return NULL;
}

static int
case_stall(int release)
{
	pthread_t thread;
	double start;
	char *big;

	held = touch(malloc(300 * MIB), 300 * MIB);
	if (held == NULL) {
		printf("setup_failed=1\n");
		return 1;
	}
	if (release) {
		pthread_create(&thread, NULL, release_later, NULL);
	}
	start = now_seconds();
	errno = 0;
	big = malloc(200 * MIB);
	printf("big_ok=%d\nerrno=%d\nseconds=%.3f\n", big != NULL, errno, now_seconds() - start);
	if (release) {
		pthread_join(thread, NULL);
	}
	free(big);
	free(held);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: alloc_limit grow|grow_mid|realloc|xallocx|purge|stall|release\n");
		return 2;
	}
	if (strcmp(argv[1], "grow") == 0) {
		return case_grow();
	}
	if (strcmp(argv[1], "grow_mid") == 0) {
		return case_grow_mid();
	}
	if (strcmp(argv[1], "realloc") == 0) {
		return case_realloc();
	}
	if (strcmp(argv[1], "xallocx") == 0) {
		return case_xallocx();
	}
	if (strcmp(argv[1], "purge") == 0) {
		return case_purge();
	}
	if (strcmp(argv[1], "stall") == 0) {
		return case_stall(0);
	}
	if (strcmp(argv[1], "release") == 0) {
		return case_stall(1);
	}
	fprintf(stderr, "unknown case %s\n", argv[1]);
	return 2;
}
