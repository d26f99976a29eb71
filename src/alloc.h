/*
 * The interposed allocation family. Every entry point compares the request
 * with a constant and, below it, tail-calls the private jemalloc directly:
 * one subtraction, one compare and one jump over plain jemalloc. Larger and
 * tiny requests take a non-inlined slow path, which rounds tiny ones up and
 * consults the governor for those at or above alloc_large_threshold.
 */
#ifndef SX_ALLOC_H
#define SX_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/*
 * Requests of at least this many bytes go through the governor. SIZE_MAX
 * until start-up has read the options, and when the shim is disabled, so
 * that no request reaches the governor before it exists.
 */
SX_HIDDEN extern size_t alloc_large_threshold;

/*
 * glibc aligns every block to 16 bytes, but jemalloc's smallest size class
 * (8 bytes) is only 8-aligned, so requests below this are rounded up to it.
 */
#define ALLOC_MIN_BYTES 16

/*
 * The smallest threshold that the large_threshold option accepts. Requests
 * below it never reach the governor, so the fast path compares the size with
 * this constant rather than loading alloc_large_threshold: the load cost 2-3%
 * of a small malloc/free pair (docs/benchmarks.md). Requests from here up to
 * the threshold take the slow path, which forwards them unchecked.
 */
#define ALLOC_GOVERNED_MIN_BYTES ((size_t)64 << 10)

/*
 * True when size needs neither rounding up nor the governor. One unsigned
 * compare rejects both tiny requests (size - ALLOC_MIN_BYTES wraps around to
 * a huge value) and requests of ALLOC_GOVERNED_MIN_BYTES and up.
 */
static inline bool
alloc_is_fast(size_t size)
{
	return SX_LIKELY(size - ALLOC_MIN_BYTES < ALLOC_GOVERNED_MIN_BYTES - ALLOC_MIN_BYTES);
}

/*
 * Sets the threshold, raised to ALLOC_GOVERNED_MIN_BYTES if below it.
 * Called at start-up only.
 */
SX_HIDDEN void alloc_set_threshold(size_t threshold_bytes);

/*
 * Records the dynamic loader's code range; start-up only. Requests that the
 * loader makes for thread-local storage are never refused: glibc aborts the
 * program when such a request fails.
 */
SX_HIDDEN void alloc_find_loader(void);

/* True when return_address lies in the dynamic loader's code. */
SX_HIDDEN bool alloc_called_by_loader(const void *return_address);

/* Kinds of request, for the governor's messages and counters. */
typedef enum {
	ALLOC_KIND_MALLOC,
	ALLOC_KIND_CALLOC,
	ALLOC_KIND_REALLOC,
	ALLOC_KIND_ALIGNED,
	ALLOC_KIND_CXX_NEW,
	ALLOC_KIND_MMAP,
	ALLOC_KIND_MREMAP,
	ALLOC_KIND_XALLOCX,
	ALLOC_KIND_COUNT
} alloc_kind_t;

/* Returns the kind's name as the C function or operator is called. */
SX_HIDDEN const char *alloc_kind_name(alloc_kind_t kind);

/*
 * Asks the governor whether bytes of new memory may be committed. Returns
 * true to go ahead. Returns false, with errno set to ENOMEM, to refuse.
 * A nested call from the governor's own work (cleanup hooks, logging)
 * is always admitted.
 */
SX_HIDDEN bool alloc_admit(size_t bytes, alloc_kind_t kind);

/*
 * Like alloc_admit, for a caller that keeps what it has when refused
 * (xallocx): a request that does not fit after cleanup is refused at once,
 * without a stall and without the admission after quick retries.
 */
SX_HIDDEN bool alloc_admit_now(size_t bytes, alloc_kind_t kind);

/* Outcomes of alloc_grow_in_place. */
typedef enum {
	ALLOC_GROW_DONE,     /* grown in place: return the same pointer */
	ALLOC_GROW_MOVE,     /* admitted as a move: call jemalloc's realloc */
	ALLOC_GROW_REFUSED,  /* refused: errno is ENOMEM and the block is unchanged */
} alloc_grow_t;

/*
 * Grows ptr's block (old_size usable bytes) to size bytes in place if
 * jemalloc can, after the governor admits the new part. Otherwise admits a
 * move, which also keeps the old block's pages resident. Precondition:
 * size > old_size.
 */
SX_HIDDEN alloc_grow_t alloc_grow_in_place(void *ptr, size_t old_size, size_t size,
    int flags);

#endif
