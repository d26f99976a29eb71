/* Huge page placement of large blocks, and madvise; see alloc_huge.h. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc_huge.h"
#include "je.h"
#include "log.h"
#include "options.h"
#include "procfs.h"
#include "thp_mode.h"

size_t alloc_huge_min_bytes = SIZE_MAX;

/* log2 of the huge page size, as a mallocx alignment flag. */
static int alloc_huge_align_flag;

/* The base page size: how far a program may round its block's start up. */
static size_t alloc_huge_base_page_bytes = 4096;

/*
 * The calling thread's latest placed block, [start, end). Two words of
 * initial-exec TLS: madvise reads them without a lookup or a lock. A stale
 * value is harmless (see madvise below).
 */
static SX_TLS char *alloc_huge_last_start;
static SX_TLS char *alloc_huge_last_end;

/* Reads the huge page size from sysfs. Returns 0 when it is missing or implausible. */
static size_t
alloc_huge_read_page_bytes(void)
{
	char path[512], text[32];
	uint64_t bytes = 0;
	ssize_t length;

	if (procfs_join(path, sizeof(path), options.sysfs_root,
	    "kernel/mm/transparent_hugepage/hpage_pmd_size") < 0) {
		return 0;
	}
	length = procfs_read_file(path, text, sizeof(text));
	while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == ' ')) {
		length--;
	}
	if (length <= 0 || procfs_parse_u64(text, (size_t)length, &bytes) != 0) {
		return 0;
	}

	/* PMD sizes are powers of two: 2 MiB on x86-64, 2 MiB to 512 MiB on arm64. */
	if (bytes < ((uint64_t)64 << 10) || bytes > ((uint64_t)1 << 30)
	    || (bytes & (bytes - 1)) != 0) {
		return 0;
	}
	return (size_t)bytes;
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
	page_bytes = alloc_huge_read_page_bytes();
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

	assert(size >= alloc_huge_min_bytes);

	ptr = sej_mallocx(size, alloc_huge_align_flag | (zero ? JE_MALLOCX_ZERO : 0));
	if (ptr == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	alloc_huge_last_start = ptr;
	alloc_huge_last_end = (char *)ptr + size;
	return ptr;
}

/*
 * A MADV_HUGEPAGE request that starts within the first page after the start
 * of this thread's latest placed block, and ends inside it, is the program
 * advising that block from a rounded-up address: it is extended down to the
 * block's start. If the block has been freed since, the extra page is at
 * most one page of another block in the same huge page, whose contents the
 * advice does not change. Every other call is passed to the kernel as is.
 */
SX_EXPORT int
madvise(void *addr, size_t length, int advice)
{
	char *start = alloc_huge_last_start;
	char *begin = addr;

	if (advice == MADV_HUGEPAGE && start != NULL && begin > start
	    && (size_t)(begin - start) <= alloc_huge_base_page_bytes && length <= (size_t)(alloc_huge_last_end - begin)) {
		length += (size_t)(begin - start);
		begin = start;
	}
	return (int)syscall(SYS_madvise, begin, length, advice);
}
