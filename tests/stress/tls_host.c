/*
 * `tls_host LIBRARY THREADS ROUNDS`: THREADS threads each dlopen LIBRARY
 * (libsxtls), fill their 1 MiB thread-local buffer through tls_lib_fill,
 * check the sum and dlclose it, ROUNDS times. Prints rounds and failures;
 * exits 0 when failures is 0.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef unsigned long (*fill_fn)(unsigned char);

static const char *library;
static int rounds;
static _Atomic long failures, completed;

static void *
worker(void *arg)
{
	unsigned char seed = (unsigned char)(uintptr_t)arg;
	int round;

	for (round = 0; round < rounds; round++) {
		void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
		fill_fn fill;

		if (handle == NULL) {
			fprintf(stderr, "dlopen: %s\n", dlerror());
			atomic_fetch_add(&failures, 1);
			continue;
		}
		fill = (fill_fn)(uintptr_t)dlsym(handle, "tls_lib_fill");
		if (fill == NULL || fill(seed) != 256UL * seed) {
			atomic_fetch_add(&failures, 1);
		}
		if (dlclose(handle) != 0) {
			atomic_fetch_add(&failures, 1);
		}
		atomic_fetch_add(&completed, 1);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t threads[32];
	int thread_count, i;

	if (argc < 4) {
		fprintf(stderr, "usage: tls_host LIBRARY THREADS ROUNDS\n");
		return 2;
	}
	library = argv[1];
	thread_count = atoi(argv[2]);
	rounds = atoi(argv[3]);
	if (thread_count < 1 || thread_count > 32) {
		fprintf(stderr, "THREADS must be 1..32\n");
		return 2;
	}
	for (i = 0; i < thread_count; i++) {
		pthread_create(&threads[i], NULL, worker, (void *)(uintptr_t)(i + 1));
	}
	for (i = 0; i < thread_count; i++) {
		pthread_join(threads[i], NULL);
	}
	printf("rounds=%ld\nfailures=%ld\n", (long)completed, (long)failures);
	return failures == 0 ? 0 : 1;
}
