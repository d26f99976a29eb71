/*
 * malloc, calloc, realloc, reallocarray, free and malloc_usable_size, plus
 * the glibc-internal __libc_* names, so that no caller reaches glibc's heap
 * with a pointer from this one.
 */
#include <errno.h>
#include <stdint.h>

#include "alloc.h"
#include "alloc_huge.h"
#include "je.h"

size_t alloc_large_threshold = SIZE_MAX;

void
alloc_set_threshold(size_t threshold_bytes)
{
	/* The fast path lets every smaller request through unchecked. */
	alloc_large_threshold = threshold_bytes < ALLOC_GOVERNED_MIN_BYTES
	    ? ALLOC_GOVERNED_MIN_BYTES : threshold_bytes;
}

/* caller: malloc's return address, so requests from the dynamic loader pass. */
static SX_NOINLINE void *
alloc_malloc_slow(size_t size, const void *caller)
{
	if (size < ALLOC_MIN_BYTES) {
		return sej_malloc(ALLOC_MIN_BYTES);
	}
	if (size >= alloc_large_threshold && !alloc_called_by_loader(caller)
	    && !alloc_admit(size, ALLOC_KIND_MALLOC)) {
		return NULL;
	}
	return alloc_huge_malloc(size, false);
}

SX_EXPORT void *
malloc(size_t size)
{
	if (alloc_is_fast(size)) {
		return sej_malloc(size);
	}
	return alloc_malloc_slow(size, __builtin_return_address(0));
}

SX_EXPORT void *__libc_malloc(size_t size) __attribute__((alias("malloc"), copy(malloc)));

/*
 * free and __libc_free are not defined here: the link maps them to sej_free
 * itself (--defsym in src/meson.build), so a free costs exactly what
 * jemalloc's free costs, with no jump in between.
 */

static SX_NOINLINE void *
alloc_calloc_slow(size_t count, size_t size, const void *caller)
{
	size_t total;

	if (__builtin_mul_overflow(count, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (total < ALLOC_MIN_BYTES) {
		return sej_calloc(1, ALLOC_MIN_BYTES);
	}
	if (total >= alloc_large_threshold && !alloc_called_by_loader(caller)
	    && !alloc_admit(total, ALLOC_KIND_CALLOC)) {
		return NULL;
	}
	return alloc_huge_malloc(total, true);
}

SX_EXPORT void *
calloc(size_t count, size_t size)
{
	size_t total;

	if (SX_LIKELY(!__builtin_mul_overflow(count, size, &total) && alloc_is_fast(total))) {
		return sej_calloc(count, size);
	}
	return alloc_calloc_slow(count, size, __builtin_return_address(0));
}

/* Sets errno to ENOMEM when jemalloc returned NULL without setting it (huge sizes). */
static void *
alloc_checked(void *result)
{
	if (result == NULL) {
		errno = ENOMEM;
	}
	return result;
}

static SX_NOINLINE void *
alloc_realloc_slow(void *ptr, size_t size)
{
	size_t old_size;

	/* realloc(p, 0) frees (zero_realloc:free); other tiny sizes round up. */
	if (size < ALLOC_MIN_BYTES) {
		return sej_realloc(ptr, size == 0 && ptr != NULL ? 0 : ALLOC_MIN_BYTES);
	}
	if (size < alloc_large_threshold) {
		return alloc_checked(sej_realloc(ptr, size));
	}

	if (ptr == NULL) {
		return alloc_admit(size, ALLOC_KIND_REALLOC) ? alloc_checked(sej_malloc(size)) : NULL;
	}

	/*
	 * NOTE: shrinking, or growing within the block's usable size, is not
	 * checked. The usable size can exceed the size admitted at allocation by
	 * up to a quarter (jemalloc's size classes), and growing into it commits
	 * that part unchecked.
	 */
	old_size = sej_malloc_usable_size(ptr);
	if (size <= old_size) {
		return sej_realloc(ptr, size);
	}

	switch (alloc_grow_in_place(ptr, old_size, size, 0)) {
	case ALLOC_GROW_DONE:
		return ptr;
	case ALLOC_GROW_MOVE:
		return alloc_checked(sej_realloc(ptr, size));
	case ALLOC_GROW_REFUSED:
		break;
	}
	return NULL;
}

SX_EXPORT void *
realloc(void *ptr, size_t size)
{
	if (alloc_is_fast(size)) {
		return sej_realloc(ptr, size);
	}
	return alloc_realloc_slow(ptr, size);
}

SX_EXPORT void *
reallocarray(void *ptr, size_t count, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(count, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(ptr, total);
}

SX_EXPORT size_t
malloc_usable_size(void *ptr)
{
	return sej_malloc_usable_size(ptr);
}

/*
 * glibc's own names for its allocator. A program or library that calls them
 * directly would otherwise mix glibc's heap with this one.
 */
SX_EXPORT void *__libc_calloc(size_t count, size_t size)
    __attribute__((alias("calloc"), copy(calloc)));
SX_EXPORT void *__libc_realloc(void *ptr, size_t size)
    __attribute__((alias("realloc"), copy(realloc)));
