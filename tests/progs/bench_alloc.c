/*
 * Allocation micro-benchmarks for scripts/bench. `bench_alloc MODE THREADS`:
 *   small: malloc/free pairs of sizes 16 B to 4 KiB, a fixed cycle of sizes;
 *          prints ns per pair (each thread does the same number of pairs).
 *   large: allocate 1 to 8 MiB, touch every page, free; prints ns per block.
 *   huge:  1 MiB to 64 MiB requests (the governor's path), touched; ns per block.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *mode;
static long iterations;

static double
now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec * 1e9 + (double)now.tv_nsec;
}

static void *
run_small(void *arg)
{
	static const size_t sizes[] = { 16, 32, 48, 64, 96, 128, 256, 512, 1024, 2048, 4096 };
	void *slots[8] = { 0 };
	long i;

	(void)arg;
	for (i = 0; i < iterations; i++) {
		size_t size = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
		void *p = malloc(size);

		/* Keep a few blocks live, as programs do, so pairs are not trivially LIFO. */
		*(volatile char *)p = 1;
		free(slots[i & 7]);
		slots[i & 7] = p;
	}
	for (i = 0; i < 8; i++) {
		free(slots[i]);
	}
	return NULL;
}

static void *
run_large(void *arg)
{
	size_t max_mib = *(size_t *)arg;
	unsigned state = 1;
	long i;

	for (i = 0; i < iterations; i++) {
		size_t size, offset;
		char *p;

		state = state * 1103515245u + 12345u;
		size = ((size_t)1 << 20) + (state >> 4) % ((max_mib - 1) << 20);
		p = malloc(size);
		if (p == NULL) {
			continue;
		}
		/*
		 * volatile: the block is freed unread, so the compiler may drop plain
		 * stores, and it did, which left malloc and free alone to be timed.
		 */
		for (offset = 0; offset < size; offset += 4096) {
			((volatile char *)p)[offset] = (char)offset;
		}
		free(p);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	int threads = argc > 2 ? atoi(argv[2]) : 1, i;
	pthread_t handles[16];
	size_t max_mib = 8;
	double start, elapsed;
	void *(*body)(void *);

	mode = argc > 1 ? argv[1] : "small";
	if (threads < 1 || threads > 16) {
		fprintf(stderr, "THREADS must be 1..16\n");
		return 2;
	}
	if (strcmp(mode, "small") == 0) {
		iterations = 20000000;
		body = run_small;
	} else if (strcmp(mode, "large") == 0) {
		iterations = 2000;
		body = run_large;
	} else if (strcmp(mode, "huge") == 0) {
		iterations = 200;
		max_mib = 64;
		body = run_large;
	} else {
		fprintf(stderr, "usage: bench_alloc small|large|huge [THREADS]\n");
		return 2;
	}

	start = now_ns();
	for (i = 0; i < threads; i++) {
		pthread_create(&handles[i], NULL, body, &max_mib);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(handles[i], NULL);
	}
	elapsed = now_ns() - start;
	printf("%.2f\n", elapsed / (double)iterations);
	return 0;
}
