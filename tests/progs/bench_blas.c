/*
 * `bench_blas [CALLS]`: the cost of one tiny (4x4) dgemm_ call, for
 * comparing runs with and without the shim preloaded. Linked against the
 * system libblas.so.3, so calls go through symbol lookup like numpy's.
 * Prints one number, nanoseconds per call, as scripts/bench expects.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void dgemm_(const char *, const char *, const int32_t *, const int32_t *, const int32_t *,
    const double *, const double *, const int32_t *, const double *, const int32_t *,
    const double *, double *, const int32_t *, size_t, size_t);

#define DEFAULT_CALLS 1000000L
#define WARMUP_CALLS 1000L

static double
now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec * 1e9 + (double)now.tv_nsec;
}

int
main(int argc, char **argv)
{
	long calls = argc > 1 ? strtol(argv[1], NULL, 10) : DEFAULT_CALLS;
	int32_t size = 4;
	double a[16], b[16], c[16] = { 0 }, alpha = 1.0, beta = 0.5;
	double start;
	long i;

	if (calls <= 0) {
		fprintf(stderr, "usage: bench_blas [CALLS > 0]\n");
		return 2;
	}
	for (i = 0; i < 16; i++) {
		a[i] = (double)i / 16.0;
		b[i] = 1.0 - (double)i / 32.0;
	}
	for (i = 0; i < WARMUP_CALLS; i++) {
		dgemm_("N", "N", &size, &size, &size, &alpha, a, &size, b, &size, &beta, c, &size,
		    1, 1);
	}
	start = now_ns();
	for (i = 0; i < calls; i++) {
		dgemm_("N", "N", &size, &size, &size, &alpha, a, &size, b, &size, &beta, c, &size,
		    1, 1);
	}
	printf("%.1f\n", (now_ns() - start) / (double)calls);
	/* c keeps the calls observable. */
	return c[0] == c[0] ? 0 : 1;
}
