/*
 * `stress_thread_cycles CYCLES`: creates and joins CYCLES threads, four at
 * a time. Each thread allocates small blocks, one 1 MiB block (a large
 * request, so the governor runs in a fresh thread), and frees a block that
 * another thread allocated. Prints cycles and failures (thread that could
 * not be created or joined, allocation that failed, corrupt block), and
 * exits 0 when failures is 0.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 4

static _Atomic long failures;
static void *_Atomic handoff;

static void *
body(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	unsigned char *small[8], *large, *previous;
	int i;

	for (i = 0; i < 8; i++) {
		small[i] = malloc((size_t)(seed * 13 + (unsigned)i * 97) % 2000 + 1);
		if (small[i] == NULL) {
			atomic_fetch_add(&failures, 1);
		}
	}
	large = malloc((size_t)1 << 20);
	if (large == NULL) {
		atomic_fetch_add(&failures, 1);
	} else {
		memset(large, (int)(seed & 0xff), (size_t)1 << 20);
		if (large[12345] != (unsigned char)(seed & 0xff)) {
			atomic_fetch_add(&failures, 1);
		}
	}
	/* Cross-thread free: this thread frees what an earlier one left. */
	previous = atomic_exchange(&handoff, large);
	free(previous);
	for (i = 0; i < 8; i++) {
		free(small[i]);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	long cycles = argc > 1 ? atol(argv[1]) : 5000, done;
	pthread_t threads[BATCH];
	int i;

	for (done = 0; done < cycles; done += BATCH) {
		for (i = 0; i < BATCH; i++) {
			if (pthread_create(&threads[i], NULL, body, (void *)(uintptr_t)(done + i)) != 0) {
				atomic_fetch_add(&failures, 1);
				threads[i] = 0;
			}
		}
		for (i = 0; i < BATCH; i++) {
			if (threads[i] != 0 && pthread_join(threads[i], NULL) != 0) {
				atomic_fetch_add(&failures, 1);
			}
		}
	}
	free(atomic_exchange(&handoff, NULL));
	printf("cycles=%ld\nfailures=%ld\n", done, (long)failures);
	return failures == 0 ? 0 : 1;
}
