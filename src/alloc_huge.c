/* Huge page placement of large blocks, and madvise; see alloc_huge.h. */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc_huge.h"
#include "je.h"
#include "log.h"
#include "options.h"
#include "thp_mode.h"

size_t alloc_huge_min_bytes = SIZE_MAX;

typedef int (*madvise_fn_t)(void *, size_t, int);

/* libc's madvise, so that a wrapper preloaded after the shim still receives the calls. */
static _Atomic(madvise_fn_t) alloc_huge_next_madvise;

/* log2 of the huge page size, as a mallocx alignment flag. */
static int alloc_huge_align_flag;

/* The base page size: how far a program may round its block's start up. */
static size_t alloc_huge_base_page_bytes = 4096;

/*
 * The calling thread's latest placed block, [start, start + usable size).
 * Two words of initial-exec TLS, so madvise reads them without a lookup or a
 * lock. The block may have been freed since (see madvise below).
 */
static SX_TLS char *alloc_huge_last_start;
static SX_TLS char *alloc_huge_last_end;

void
alloc_huge_resolve_next(void)
{
	madvise_fn_t next;

	*(void **)&next = dlsym(RTLD_NEXT, "madvise");
	atomic_store_explicit(&alloc_huge_next_madvise, next, memory_order_release);
}

/*
 * Returns true when RLIMIT_AS or RLIMIT_DATA is finite. Both count address
 * space, and each placed block reserves up to one huge page more of it: under
 * `ulimit -v 2097152`, 32% fewer 4 MiB blocks fitted with placement on.
 */
static bool
alloc_huge_address_space_limited(void)
{
	struct rlimit as_limit, data_limit;

	return (getrlimit(RLIMIT_AS, &as_limit) == 0 && as_limit.rlim_cur != RLIM_INFINITY)
	    || (getrlimit(RLIMIT_DATA, &data_limit) == 0
	    && data_limit.rlim_cur != RLIM_INFINITY);
}

void
alloc_huge_init(void)
{
	thp_mode_t mode = thp_mode_read(options.sysfs_root);
	size_t page_bytes;

	if (!options.huge_pages) {
		log_message(LOG_LEVEL_INFO, "huge pages: large blocks keep jemalloc's placement "
		    "(huge_pages is 0)");
		return;
	}
	if (mode != THP_MODE_MADVISE && mode != THP_MODE_ALWAYS) {
		log_message(LOG_LEVEL_INFO, "huge pages: not used (transparent huge pages: %s)",
		    thp_mode_name(mode));
		return;
	}
	if (alloc_huge_address_space_limited()) {
		log_message(LOG_LEVEL_INFO, "huge pages: not used (RLIMIT_AS or RLIMIT_DATA is "
		    "set, and placement costs address space)");
		return;
	}
	page_bytes = thp_page_bytes_read(options.sysfs_root);
	if (page_bytes == 0) {
		log_message(LOG_LEVEL_INFO, "huge pages: not used (no valid "
		    "transparent_hugepage/hpage_pmd_size)");
		return;
	}

	alloc_huge_align_flag = JE_MALLOCX_LG_ALIGN(__builtin_ctzl(page_bytes));
	if (getauxval(AT_PAGESZ) != 0) {
		alloc_huge_base_page_bytes = getauxval(AT_PAGESZ);
	}
	alloc_huge_min_bytes = 2 * page_bytes;
	log_message(LOG_LEVEL_INFO, "huge pages: blocks of %zu KB and up start on %zu KB "
	    "boundaries (transparent huge pages: %s)", alloc_huge_min_bytes / 1024,
	    page_bytes / 1024, thp_mode_name(mode));
}

void *
alloc_huge_malloc(size_t size, bool zero)
{
	void *ptr;

	if (size < alloc_huge_min_bytes) {
		return zero ? sej_calloc(1, size) : sej_malloc(size);
	}

	ptr = sej_mallocx(size, alloc_huge_align_flag | (zero ? JE_MALLOCX_ZERO : 0));
	if (ptr == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	alloc_huge_last_start = ptr;
	alloc_huge_last_end = (char *)ptr + sej_sallocx(ptr, 0);
	return ptr;
}

int
sej_os_madvise(void *addr, size_t length, int advice)
{
	return (int)syscall(SYS_madvise, addr, length, advice);
}

/* Calls the next madvise in symbol lookup order (libc's), or the system call before start-up. */
static int
alloc_huge_forward(void *addr, size_t length, int advice)
{
	madvise_fn_t next = atomic_load_explicit(&alloc_huge_next_madvise, memory_order_acquire);

	return next != NULL ? next(addr, length, advice) : sej_os_madvise(addr, length, advice);
}

/*
 * Returns true when [begin, begin + length) is this thread's latest placed
 * block less its first page.
 */
static bool
alloc_huge_is_block_tail(const char *begin, size_t length)
{
	const char *start = alloc_huge_last_start;

	return start != NULL && begin > start && length > 0
	    && ((uintptr_t)begin & (alloc_huge_base_page_bytes - 1)) == 0
	    && (size_t)(begin - start) <= alloc_huge_base_page_bytes
	    && length <= (size_t)(alloc_huge_last_end - begin);
}

void
alloc_huge_forget(const void *addr, size_t length)
{
	uintptr_t begin = (uintptr_t)addr;
	uintptr_t end = length > UINTPTR_MAX - begin ? UINTPTR_MAX : begin + length;

	if (alloc_huge_last_start != NULL && begin < (uintptr_t)alloc_huge_last_end
	    && (uintptr_t)alloc_huge_last_start < end) {
		alloc_huge_last_start = NULL;
	}
}

/*
 * The first MADV_HUGEPAGE request for this thread's latest placed block,
 * rounded up to the first page boundary after the block's start, is
 * extended down to that start. The record is dropped after that request,
 * and as soon as the program advises, maps or unmaps any part of the block
 * itself, so the shim never overrides the program's own advice. If the
 * extended call fails, the program's own request is made instead. Every
 * other call is forwarded unchanged.
 */
SX_EXPORT int
madvise(void *addr, size_t length, int advice)
{
	char *start = alloc_huge_last_start;
	int saved_errno = errno;

	if (advice != MADV_HUGEPAGE || !alloc_huge_is_block_tail(addr, length)) {
		alloc_huge_forget(addr, length);
		return alloc_huge_forward(addr, length, advice);
	}

	alloc_huge_last_start = NULL;
	if (alloc_huge_forward(start, length + (size_t)((char *)addr - start), advice) == 0) {
		return 0;
	}
	errno = saved_errno;
	return alloc_huge_forward(addr, length, advice);
}
