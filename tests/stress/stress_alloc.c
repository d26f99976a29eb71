/*
 * `stress_alloc THREADS ROUNDS`: THREADS threads allocate and free blocks of
 * mixed sizes (malloc, calloc, realloc, posix_memalign; a tenth of them
 * 1-8 MiB) and fill every page of each block with a pattern derived from
 * the block's seed, which is checked before the block is freed or grown.
 * Under a tight SAFEEXEC_MEMORY_LIMIT some large requests are refused.
 * Prints key=value lines: refused (large requests that returned NULL),
 * bad_errno (NULL without ENOMEM), small_refused (NULL below 1 MiB),
 * corrupt (blocks whose pattern changed), and jemalloc's stats.allocated
 * before the threads started and after everything was freed (read through
 * the shim's mallctl; "absent" without the shim). Exits 0 when bad_errno,
 * small_refused and corrupt are all 0.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 32
#define STRIDE 509
#define LARGE_MIN_BYTES (1u << 20)

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

typedef struct {
	unsigned char *ptr;
	size_t size;
	unsigned char seed;
} block_t;

static int round_count;
static _Atomic long refused, bad_errno, small_refused, corrupt, large_granted;

static unsigned
next_random(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

static size_t
pick_size(unsigned *state)
{
	unsigned r = next_random(state);

	switch (r % 10) {
	case 0:
		return (size_t)(r % 8 + 1) << 20;
	case 1:
	case 2:
		return r % (256 * 1024) + 4096;
	default:
		return r % 4096 + 1;
	}
}

/* Writes the pattern at every STRIDE-th byte and the seed at the last one: every page is touched. */
static void
fill_block(const block_t *block)
{
	size_t i;

	for (i = 0; i < block->size - 1; i += STRIDE) {
		block->ptr[i] = (unsigned char)(block->seed + i / STRIDE);
	}
	block->ptr[block->size - 1] = block->seed;
}

/* Checks the pattern over the first `size` bytes (a block may have grown since). */
static bool
check_block(const block_t *block, size_t size)
{
	size_t i;

	for (i = 0; i < size && i < block->size - 1; i += STRIDE) {
		if (block->ptr[i] != (unsigned char)(block->seed + i / STRIDE)) {
			return false;
		}
	}
	return size < block->size || block->ptr[block->size - 1] == block->seed;
}

static void
release_block(block_t *block)
{
	if (block->ptr == NULL) {
		return;
	}
	if (!check_block(block, block->size)) {
		atomic_fetch_add(&corrupt, 1);
	}
	free(block->ptr);
	block->ptr = NULL;
}

/* Counts a NULL result: it must carry ENOMEM and be a large request. */
static void
note_failure(size_t size)
{
	if (errno != ENOMEM) {
		atomic_fetch_add(&bad_errno, 1);
	}
	if (size < LARGE_MIN_BYTES) {
		atomic_fetch_add(&small_refused, 1);
	} else {
		atomic_fetch_add(&refused, 1);
	}
}

static bool
calloc_is_zero(const unsigned char *ptr, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += STRIDE) {
		if (ptr[i] != 0) {
			return false;
		}
	}
	return ptr[size - 1] == 0;
}

/* Allocates a new block in slot with one of four calls, chosen by r. */
static void
allocate_block(block_t *block, size_t size, unsigned r)
{
	void *ptr = NULL;

	errno = 0;
	switch (r % 4) {
	case 0:
		ptr = malloc(size);
		break;
	case 1:
		ptr = calloc(1, size);
		if (ptr != NULL && !calloc_is_zero(ptr, size)) {
			atomic_fetch_add(&corrupt, 1);
		}
		break;
	case 2:
		/* posix_memalign returns its error instead of setting errno. */
		errno = posix_memalign(&ptr, (size_t)64 << (r % 6), size);
		if (errno != 0) {
			ptr = NULL;
		}
		break;
	default:
		ptr = realloc(NULL, size);
		break;
	}
	if (ptr == NULL) {
		note_failure(size);
		return;
	}
	if (size >= LARGE_MIN_BYTES) {
		atomic_fetch_add(&large_granted, 1);
	}
	block->ptr = ptr;
	block->size = size;
	fill_block(block);
}

/* Grows a block with realloc; on refusal the old block must be intact. */
static void
grow_block(block_t *block, unsigned *state)
{
	size_t new_size = block->size + pick_size(state);
	unsigned char *grown;

	errno = 0;
	grown = realloc(block->ptr, new_size);
	if (grown == NULL) {
		note_failure(new_size);
		return;
	}
	block->ptr = grown;
	if (!check_block(block, block->size)) {
		atomic_fetch_add(&corrupt, 1);
	}
	block->size = new_size;
	fill_block(block);
}

static void *
worker(void *arg)
{
	unsigned state = (unsigned)(uintptr_t)arg * 2654435761u + 1;
	block_t blocks[SLOTS] = { { 0 } };
	int round, slot;

	for (round = 0; round < round_count; round++) {
		unsigned r = next_random(&state);

		slot = (int)(r % SLOTS);
		if (blocks[slot].ptr != NULL && r % 7 == 0) {
			grow_block(&blocks[slot], &state);
			continue;
		}
		release_block(&blocks[slot]);
		blocks[slot].seed = (unsigned char)(r >> 5);
		allocate_block(&blocks[slot], pick_size(&state), r >> 3);
	}
	for (slot = 0; slot < SLOTS; slot++) {
		release_block(&blocks[slot]);
	}
	return NULL;
}

/* Reads stats.allocated after refreshing jemalloc's statistics; 0 without mallctl. */
static size_t
read_allocated(mallctl_fn mallctl_ptr)
{
	uint64_t epoch = 1;
	size_t allocated = 0, length = sizeof(allocated), epoch_length = sizeof(epoch);

	if (mallctl_ptr == NULL) {
		return 0;
	}
	mallctl_ptr("thread.tcache.flush", NULL, NULL, NULL, 0);
	mallctl_ptr("epoch", &epoch, &epoch_length, &epoch, sizeof(epoch));
	if (mallctl_ptr("stats.allocated", &allocated, &length, NULL, 0) != 0) {
		return 0;
	}
	return allocated;
}

int
main(int argc, char **argv)
{
	mallctl_fn mallctl_ptr = (mallctl_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "mallctl");
	pthread_t threads[64];
	int thread_count, i;
	size_t before, after;

	thread_count = argc > 1 ? atoi(argv[1]) : 16;
	round_count = argc > 2 ? atoi(argv[2]) : 4000;
	if (thread_count < 1 || thread_count > 64 || round_count < 1) {
		fprintf(stderr, "usage: stress_alloc THREADS(1-64) ROUNDS\n");
		return 2;
	}
	before = read_allocated(mallctl_ptr);
	for (i = 0; i < thread_count; i++) {
		if (pthread_create(&threads[i], NULL, worker, (void *)(uintptr_t)(i + 1)) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 2;
		}
	}
	for (i = 0; i < thread_count; i++) {
		pthread_join(threads[i], NULL);
	}
	after = read_allocated(mallctl_ptr);

	printf("refused=%ld\nlarge_granted=%ld\nbad_errno=%ld\nsmall_refused=%ld\n"
	    "corrupt=%ld\n", (long)refused, (long)large_granted, (long)bad_errno,
	    (long)small_refused, (long)corrupt);
	if (mallctl_ptr == NULL) {
		printf("mallctl=absent\n");
	} else {
		printf("allocated_before=%zu\nallocated_after=%zu\n", before, after);
	}
	return bad_errno == 0 && small_refused == 0 && corrupt == 0 ? 0 : 1;
}
