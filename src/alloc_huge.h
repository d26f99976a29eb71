/*
 * Placement of large blocks for transparent huge pages (THP). A block of two
 * huge pages or more (4 MiB on x86-64) from malloc, calloc or operator new
 * starts on a huge page boundary. Huge pages can then back all of it but the
 * partial huge page at its end.
 *
 * The shim never requests huge pages itself: in the kernel's madvise mode,
 * only memory that the program advises MADV_HUGEPAGE gets them. numpy
 * advises each array of 4 MiB and up, but from the first page boundary after
 * the array's start. For a block on a huge page boundary, that leaves out the
 * whole first huge page, so the interposed madvise extends such a request
 * down to the start of the calling thread's latest placed block.
 * numpy (a*2+1).sum() on 4M-element arrays: 15 huge pages per array instead
 * of 14, and 3% faster (docs/benchmarks.md).
 */
#ifndef SX_ALLOC_HUGE_H
#define SX_ALLOC_HUGE_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/* Size from which blocks are placed on a boundary. SIZE_MAX when placement is off. */
SX_HIDDEN extern size_t alloc_huge_min_bytes;

/*
 * Turns placement on when the huge_pages option allows it, the kernel's THP
 * mode is madvise or always, and no address space limit is set. Called once
 * at start-up, after the options.
 */
SX_HIDDEN void alloc_huge_init(void);

/*
 * Allocates size bytes, zeroed when zero is true. From alloc_huge_min_bytes
 * up the block starts on a huge page boundary and is recorded for madvise;
 * smaller blocks go where jemalloc puts them. Returns NULL with errno ENOMEM.
 */
SX_HIDDEN void *alloc_huge_malloc(size_t size, bool zero);

/* Looks up libc's madvise for forwarding. Called first at start-up, even when disabled. */
SX_HIDDEN void alloc_huge_resolve_next(void);

/*
 * Drops the calling thread's record of its latest placed block if
 * [addr, addr + length) overlaps it: the program maps, unmaps or advises
 * that memory itself, so its own later advice must not be extended.
 */
SX_HIDDEN void alloc_huge_forget(const void *addr, size_t length);

/*
 * jemalloc's own madvise (renamed by scripts/jemalloc-rename): the system
 * call, so jemalloc's purges do not pass the interposer.
 */
SX_HIDDEN int sej_os_madvise(void *addr, size_t length, int advice);

#endif
