/*
 * jemalloc's non-standard API (mallocx, sdallocx, mallctl, ...). A program
 * linked with -ljemalloc resolves these to the shim's copy, so its pointers
 * and the shim's malloc/free stay in one heap. These forward without
 * governor checks, except mallocx, rallocx and xallocx at or above the
 * threshold.
 */
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "je.h"

SX_EXPORT void *
mallocx(size_t size, int flags)
{
	if (SX_UNLIKELY(size >= alloc_large_threshold)
	    && !alloc_admit(size, ALLOC_KIND_MALLOC)) {
		return NULL;
	}
	return sej_mallocx(size, flags);
}

SX_EXPORT void *
rallocx(void *ptr, size_t size, int flags)
{
	size_t old_size;

	if (SX_LIKELY(size < alloc_large_threshold)) {
		return sej_rallocx(ptr, size, flags);
	}

	old_size = sej_sallocx(ptr, 0);
	if (size <= old_size) {
		return sej_rallocx(ptr, size, flags);
	}
	switch (alloc_grow_in_place(ptr, old_size, size, flags)) {
	case ALLOC_GROW_DONE:
		return ptr;
	case ALLOC_GROW_MOVE:
		return sej_rallocx(ptr, size, flags);
	case ALLOC_GROW_REFUSED:
		break;
	}
	return NULL;
}

/* Admits growing a block of old_size usable bytes to hold target bytes. */
static bool
xallocx_admit(size_t old_size, size_t target, int flags)
{
	size_t new_size = sej_nallocx(target, flags);

	return new_size != 0 && alloc_admit_now(new_size - old_size, ALLOC_KIND_XALLOCX);
}

/*
 * Growth past the threshold is admitted first. A refusal leaves the block
 * as it is, which is how xallocx reports that it could not grow, so the
 * governor refuses it at once rather than stalling.
 */
SX_EXPORT size_t
xallocx(void *ptr, size_t size, size_t extra, int flags)
{
	size_t old_size, requested;

	if (SX_LIKELY(size < alloc_large_threshold && extra < alloc_large_threshold - size)) {
		return sej_xallocx(ptr, size, extra, flags);
	}

	old_size = sej_sallocx(ptr, 0);
	requested = extra > SIZE_MAX - size ? SIZE_MAX : size + extra;
	if (requested <= old_size) {
		return sej_xallocx(ptr, size, extra, flags);
	}
	if (extra > 0 && xallocx_admit(old_size, requested, flags)) {
		return sej_xallocx(ptr, size, extra, flags);
	}
	if (size > old_size && xallocx_admit(old_size, size, flags)) {
		return sej_xallocx(ptr, size, 0, flags);
	}
	return old_size;
}

SX_EXPORT size_t
sallocx(const void *ptr, int flags)
{
	return sej_sallocx(ptr, flags);
}

SX_EXPORT void
dallocx(void *ptr, int flags)
{
	sej_dallocx(ptr, flags);
}

SX_EXPORT void
sdallocx(void *ptr, size_t size, int flags)
{
	sej_sdallocx(ptr, size, flags);
}

SX_EXPORT size_t
nallocx(size_t size, int flags)
{
	return sej_nallocx(size, flags);
}

SX_EXPORT int
mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
	return sej_mallctl(name, oldp, oldlenp, newp, newlen);
}

SX_EXPORT int
mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp)
{
	return sej_mallctlnametomib(name, mibp, miblenp);
}

SX_EXPORT int
mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp,
    void *newp, size_t newlen)
{
	return sej_mallctlbymib(mib, miblen, oldp, oldlenp, newp, newlen);
}

SX_EXPORT void
malloc_stats_print(void (*write_cb)(void *, const char *), void *cbopaque,
    const char *opts)
{
	sej_malloc_stats_print(write_cb, cbopaque, opts);
}

/* Purges freed memory, as glibc's malloc_trim does; returns 1 if any was released. */
SX_EXPORT int
malloc_trim(size_t pad)
{
	(void)pad;
	return je_purge_all() > 0;
}
