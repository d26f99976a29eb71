/* The shim's mmap interposer and the unintercepted calls its own code uses. */
#ifndef SX_MMAP_H
#define SX_MMAP_H

#include <stddef.h>
#include <sys/types.h>

#include "common.h"

/*
 * Resolves the next definitions of mmap, munmap and mremap (another
 * preloaded library's, or glibc's) with dlsym. Called once from the
 * constructor. Until then, and if dlsym finds nothing, calls go straight to
 * the kernel.
 */
SX_HIDDEN void mmap_resolve_next(void);

/*
 * jemalloc's own mmap and munmap (renamed by scripts/jemalloc-rename). They
 * go to the kernel without passing the interposer, so jemalloc's mappings are
 * neither counted twice nor able to recurse into the governor.
 */
SX_HIDDEN void *sej_os_mmap(void *addr, size_t length, int prot, int flags,
    int fd, off_t offset);
SX_HIDDEN int sej_os_munmap(void *addr, size_t length);

#endif
