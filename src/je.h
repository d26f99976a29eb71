/*
 * The shim's private copy of jemalloc, linked statically from Debian's
 * libjemalloc_pic.a with every public name prefixed by sej_ (see
 * scripts/jemalloc-rename). Calls to these are direct calls inside
 * libsafeexec.so, which is what keeps the fast path within a few
 * instructions of plain jemalloc.
 */
#ifndef SX_JE_H
#define SX_JE_H

#include <stddef.h>

#include "common.h"

SX_HIDDEN void *sej_malloc(size_t size);
SX_HIDDEN void *sej_calloc(size_t count, size_t size);
SX_HIDDEN void *sej_realloc(void *ptr, size_t size);
/* Default visibility: free is mapped to it by --defsym and exported (see alloc.c). */
void sej_free(void *ptr);
SX_HIDDEN int sej_posix_memalign(void **memptr, size_t alignment, size_t size);
SX_HIDDEN void *sej_memalign(size_t alignment, size_t size);
SX_HIDDEN size_t sej_malloc_usable_size(const void *ptr);

/* mallocx flags, with the values of jemalloc.h (not included: it would declare the unprefixed names). */
#define JE_MALLOCX_LG_ALIGN(lg) ((int)(lg))
#define JE_MALLOCX_ZERO ((int)0x40)

SX_HIDDEN void *sej_mallocx(size_t size, int flags);
SX_HIDDEN void *sej_rallocx(void *ptr, size_t size, int flags);
SX_HIDDEN size_t sej_xallocx(void *ptr, size_t size, size_t extra, int flags);
SX_HIDDEN size_t sej_sallocx(const void *ptr, int flags);
SX_HIDDEN void sej_dallocx(void *ptr, int flags);
SX_HIDDEN void sej_sdallocx(void *ptr, size_t size, int flags);
SX_HIDDEN size_t sej_nallocx(size_t size, int flags);
SX_HIDDEN int sej_mallctl(const char *name, void *oldp, size_t *oldlenp,
    void *newp, size_t newlen);
SX_HIDDEN int sej_mallctlnametomib(const char *name, size_t *mibp,
    size_t *miblenp);
SX_HIDDEN int sej_mallctlbymib(const size_t *mib, size_t miblen, void *oldp,
    size_t *oldlenp, void *newp, size_t newlen);
SX_HIDDEN void sej_malloc_stats_print(void (*write_cb)(void *, const char *),
    void *cbopaque, const char *opts);

/*
 * Returns every page that jemalloc holds for freed allocations to the
 * kernel: flushes this thread's cache and purges all arenas. Safe on the
 * slow path of an allocation because the caller holds no jemalloc lock.
 * Returns the bytes of resident memory released, as jemalloc's stats see it.
 */
SX_HIDDEN size_t je_purge_all(void);

/* Bytes allocated to the program (live blocks, touched or not), after refreshing stats. */
SX_HIDDEN int je_read_allocated(size_t *allocated_bytes);

/* Bytes in active pages (allocated to the program) and resident, per jemalloc stats. */
SX_HIDDEN int je_read_stats(size_t *active_bytes, size_t *resident_bytes);

#endif
