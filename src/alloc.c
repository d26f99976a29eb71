/*
 * malloc, calloc, realloc, reallocarray, free and malloc_usable_size, plus
 * the glibc-internal __libc_* names, so that no caller reaches glibc's heap
 * with a pointer from this one.
 */
#include <errno.h>
#include <stdint.h>

#include "alloc.h"
#include "je.h"

size_t alloc_large_threshold = SIZE_MAX;

static SX_NOINLINE void *
alloc_malloc_slow(size_t size)
{
	if (!alloc_admit(size, ALLOC_KIND_MALLOC)) {
		return NULL;
	}
	return sej_malloc(size);
}

SX_EXPORT void *
malloc(size_t size)
{
	if (SX_LIKELY(size < alloc_large_threshold)) {
		return sej_malloc(size);
	}
	return alloc_malloc_slow(size);
}

SX_EXPORT void
free(void *ptr)
{
	sej_free(ptr);
}

static SX_NOINLINE void *
alloc_calloc_slow(size_t count, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(count, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (!alloc_admit(total, ALLOC_KIND_CALLOC)) {
		return NULL;
	}
	return sej_calloc(count, size);
}

SX_EXPORT void *
calloc(size_t count, size_t size)
{
	size_t total;

	if (SX_LIKELY(!__builtin_mul_overflow(count, size, &total)
	    && total < alloc_large_threshold)) {
		return sej_calloc(count, size);
	}
	return alloc_calloc_slow(count, size);
}

static SX_NOINLINE void *
alloc_realloc_slow(void *ptr, size_t size)
{
	size_t old_size = ptr != NULL ? sej_malloc_usable_size(ptr) : 0;

	/* Shrinking, or growing within the block, commits nothing new. */
	if (size > old_size && !alloc_admit(size - old_size, ALLOC_KIND_REALLOC)) {
		return NULL;
	}
	return sej_realloc(ptr, size);
}

SX_EXPORT void *
realloc(void *ptr, size_t size)
{
	if (SX_LIKELY(size < alloc_large_threshold)) {
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
SX_EXPORT void *__libc_malloc(size_t size) __attribute__((alias("malloc"), copy(malloc)));
SX_EXPORT void __libc_free(void *ptr) __attribute__((alias("free"), copy(free)));
SX_EXPORT void *__libc_calloc(size_t count, size_t size)
    __attribute__((alias("calloc"), copy(calloc)));
SX_EXPORT void *__libc_realloc(void *ptr, size_t size)
    __attribute__((alias("realloc"), copy(realloc)));
