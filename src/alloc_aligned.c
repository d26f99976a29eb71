/* posix_memalign, aligned_alloc, memalign, valloc and pvalloc. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "alloc.h"
#include "je.h"

static bool
alloc_is_power_of_two(size_t value)
{
	return value != 0 && (value & (value - 1)) == 0;
}

static size_t
alloc_page_size(void)
{
	static size_t page_bytes;

	if (page_bytes == 0) {
		page_bytes = (size_t)sysconf(_SC_PAGESIZE);
	}
	return page_bytes;
}

/*
 * The bytes the governor is asked about: jemalloc maps size plus the
 * alignment for an over-aligned block and keeps that address space, so an
 * alignment of 2^36 would reserve 64 GiB for a 64-byte block.
 */
static size_t
alloc_aligned_cost(size_t size, size_t alignment)
{
	size_t total;

	if (alignment <= alloc_page_size()) {
		return size;
	}
	return __builtin_add_overflow(size, alignment, &total) ? SIZE_MAX : total;
}

static SX_NOINLINE int
alloc_posix_memalign_slow(void **memptr, size_t alignment, size_t size)
{
	int saved_errno = errno;

	if (!alloc_admit(alloc_aligned_cost(size, alignment), ALLOC_KIND_ALIGNED)) {
		errno = saved_errno;
		return ENOMEM;
	}
	return sej_posix_memalign(memptr, alignment, size);
}

SX_EXPORT int
posix_memalign(void **memptr, size_t alignment, size_t size)
{
	if (SX_LIKELY(size < alloc_large_threshold && alignment < alloc_large_threshold)) {
		return sej_posix_memalign(memptr, alignment, size);
	}
	/* An invalid alignment is EINVAL before any question of memory. */
	if (!alloc_is_power_of_two(alignment) || alignment % sizeof(void *) != 0) {
		return EINVAL;
	}
	return alloc_posix_memalign_slow(memptr, alignment, size);
}

/*
 * glibc's memalign accepts any alignment: one that is not a power of two is
 * rounded up to the next power of two, and one above SIZE_MAX / 2 + 1 is
 * EINVAL. jemalloc rejects non-powers of two, so round here.
 */
SX_EXPORT void *
memalign(size_t alignment, size_t size)
{
	size_t rounded = 16;
	void *ptr;

	if (alignment > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	while (rounded < alignment) {
		rounded <<= 1;
	}

	if (SX_UNLIKELY(alloc_aligned_cost(size, rounded) >= alloc_large_threshold)
	    && !alloc_admit(alloc_aligned_cost(size, rounded), ALLOC_KIND_ALIGNED)) {
		return NULL;
	}
	ptr = sej_memalign(rounded, size);
	if (ptr == NULL) {
		errno = ENOMEM;
	}
	return ptr;
}

/*
 * In glibc 2.36 (Debian 12) aligned_alloc is an alias of memalign, so it
 * accepts any alignment too. glibc 2.38 and C17 reject alignments that are
 * not powers of two with EINVAL instead.
 */
SX_EXPORT void *aligned_alloc(size_t alignment, size_t size)
    __attribute__((alias("memalign")));

SX_EXPORT void *
valloc(size_t size)
{
	return memalign(alloc_page_size(), size);
}

/* pvalloc rounds the size up to whole pages, and pvalloc(0) gives one page. */
SX_EXPORT void *
pvalloc(size_t size)
{
	size_t page_bytes = alloc_page_size();
	size_t rounded;

	if (size == 0) {
		size = page_bytes;
	}
	if (__builtin_add_overflow(size, page_bytes - 1, &rounded)) {
		errno = ENOMEM;
		return NULL;
	}
	rounded &= ~(page_bytes - 1);
	return memalign(page_bytes, rounded);
}

SX_EXPORT void *__libc_memalign(size_t alignment, size_t size)
    __attribute__((alias("memalign")));
SX_EXPORT void *__libc_valloc(size_t size) __attribute__((alias("valloc")));
SX_EXPORT void *__libc_pvalloc(size_t size) __attribute__((alias("pvalloc")));
