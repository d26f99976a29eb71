/*
 * `alloc_threads THREADS ROUNDS`: each thread allocates blocks of mixed sizes,
 * fills them with a pattern derived from the block's address and round, checks
 * the pattern before freeing, and hands some blocks to the next thread to free
 * (cross-thread frees). Prints "ok" and exits 0 when no block was corrupted.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64

typedef struct {
	unsigned char *ptr;
	size_t size;
	unsigned char seed;
} block_t;

static int thread_count, round_count;
static _Atomic long corrupt_blocks, failed_allocations;
static block_t handoff[64][SLOTS];
static pthread_mutex_t handoff_locks[64];

static size_t
pick_size(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	switch ((*state >> 16) % 8) {
	case 0:
		return (*state >> 8) % 4096 + 1;
	case 1:
		return (*state >> 8) % (256 * 1024) + 1;
	case 2:
		return ((*state >> 8) % 3 + 1) << 20;
	default:
		return (*state >> 8) % 512 + 1;
	}
}

static void
fill_block(block_t *block)
{
	size_t i;

	for (i = 0; i < block->size; i += 61) {
		block->ptr[i] = (unsigned char)(block->seed + i);
	}
}

static void
check_and_free(block_t *block)
{
	size_t i;

	if (block->ptr == NULL) {
		return;
	}
	for (i = 0; i < block->size; i += 61) {
		if (block->ptr[i] != (unsigned char)(block->seed + i)) {
			atomic_fetch_add(&corrupt_blocks, 1);
			break;
		}
	}
	free(block->ptr);
	block->ptr = NULL;
}

static void *
worker(void *arg)
{
	int id = (int)(intptr_t)arg, next = (id + 1) % thread_count, round, slot;
	unsigned state = (unsigned)id * 7919u + 1;
	block_t local[SLOTS] = { 0 };

	for (round = 0; round < round_count; round++) {
		slot = (int)((state >> 4) % SLOTS);
		check_and_free(&local[slot]);
		local[slot].size = pick_size(&state);
		local[slot].seed = (unsigned char)(round + id);
		local[slot].ptr = malloc(local[slot].size);
		if (local[slot].ptr == NULL) {
			atomic_fetch_add(&failed_allocations, 1);
			continue;
		}
		fill_block(&local[slot]);

		/* Every 4th block is freed by the next thread. */
		if (round % 4 == 0) {
			pthread_mutex_lock(&handoff_locks[next]);
			check_and_free(&handoff[next][slot]);
			handoff[next][slot] = local[slot];
			pthread_mutex_unlock(&handoff_locks[next]);
			local[slot].ptr = NULL;
		}
	}
	for (slot = 0; slot < SLOTS; slot++) {
		check_and_free(&local[slot]);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t threads[64];
	int i, j;

	thread_count = argc > 1 ? atoi(argv[1]) : 8;
	round_count = argc > 2 ? atoi(argv[2]) : 20000;
	if (thread_count < 1 || thread_count > 64) {
		fprintf(stderr, "THREADS must be 1..64\n");
		return 2;
	}
	for (i = 0; i < thread_count; i++) {
		pthread_mutex_init(&handoff_locks[i], NULL);
	}
	for (i = 0; i < thread_count; i++) {
		pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i);
	}
	for (i = 0; i < thread_count; i++) {
		pthread_join(threads[i], NULL);
	}
	for (i = 0; i < thread_count; i++) {
		for (j = 0; j < SLOTS; j++) {
			check_and_free(&handoff[i][j]);
		}
	}
	printf("corrupt=%ld failed=%ld\n", (long)corrupt_blocks, (long)failed_allocations);
	if (corrupt_blocks == 0) {
		printf("ok\n");
	}
	return corrupt_blocks == 0 ? 0 : 1;
}
