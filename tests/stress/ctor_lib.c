/*
 * libsxctor: a library whose constructor and destructor allocate, to check
 * allocations made before main (possibly before the shim's own constructor
 * has run) and after it returns. The constructor keeps a 64-byte block and
 * a 4 MiB block filled with a pattern; ctor_lib_check (called from main)
 * and the destructor verify them. Each prints one line through write(2):
 * "ctor: ok", "check: ok" or "dtor: ok", or the failure.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LARGE_BYTES ((size_t)4 << 20)

static unsigned char *kept_small, *kept_large;

static void
say(const char *line)
{
	ssize_t ignored = write(STDOUT_FILENO, line, strlen(line));

	(void)ignored;
}

static int
blocks_intact(void)
{
	size_t i;

	if (kept_small == NULL || kept_large == NULL) {
		return 0;
	}
	for (i = 0; i < 64; i++) {
		if (kept_small[i] != (unsigned char)i) {
			return 0;
		}
	}
	for (i = 0; i < LARGE_BYTES; i += 4096) {
		if (kept_large[i] != (unsigned char)(i >> 12)) {
			return 0;
		}
	}
	return 1;
}

/* Allocates and frees one of each kind; returns 0 when one failed. */
static int
churn(void)
{
	void *aligned = NULL;
	unsigned char *zeroed = calloc(1, LARGE_BYTES);
	char *grown = realloc(NULL, 100);
	int ok = zeroed != NULL && grown != NULL && zeroed[LARGE_BYTES - 1] == 0;

	if (grown != NULL) {
		memset(grown, 'x', 100);
		grown = realloc(grown, LARGE_BYTES);
		ok = ok && grown != NULL && grown[99] == 'x';
	}
	ok = ok && posix_memalign(&aligned, 4096, LARGE_BYTES) == 0
	    && ((size_t)aligned & 4095) == 0;
	free(aligned);
	free(grown);
	free(zeroed);
	return ok;
}

__attribute__((constructor)) static void
ctor_lib_start(void)
{
	size_t i;

	kept_small = malloc(64);
	kept_large = malloc(LARGE_BYTES);
	if (kept_small == NULL || kept_large == NULL) {
		say("ctor: allocation failed\n");
		return;
	}
	for (i = 0; i < 64; i++) {
		kept_small[i] = (unsigned char)i;
	}
	for (i = 0; i < LARGE_BYTES; i += 4096) {
		kept_large[i] = (unsigned char)(i >> 12);
	}
	say(churn() ? "ctor: ok\n" : "ctor: churn failed\n");
}

int
ctor_lib_check(void)
{
	int ok = blocks_intact() && churn();

	say(ok ? "check: ok\n" : "check: failed\n");
	return ok;
}

__attribute__((destructor)) static void
ctor_lib_stop(void)
{
	int ok = blocks_intact() && churn();

	free(kept_small);
	free(kept_large);
	kept_small = NULL;
	kept_large = NULL;
	say(ok ? "dtor: ok\n" : "dtor: failed\n");
}
