/*
 * Huge page placement of large blocks, checked from inside a preloaded
 * process. `huge_pages CASE` prints key=value lines:
 *   place:  holds eight 8 MiB blocks from malloc and one from calloc at once.
 *           Prints how many start on a 2 MiB boundary, and whether the
 *           calloc block reads as zeros.
 *   advise: advises an 8 MiB block as numpy does (MADV_HUGEPAGE from the
 *           first page boundary after its start) and prints whether the
 *           mapping that contains the block's first byte carries the advice
 *           ("hg" in smaps VmFlags). Also checks that MADV_DONTNEED is
 *           forwarded: a touched page reads as zero after it, and that an
 *           unaligned start still fails with EINVAL.
 *   nohuge: advises a block's first page MADV_NOHUGEPAGE and the rest
 *           MADV_HUGEPAGE, numpy-style; prints the first byte's advice.
 *   count:  makes one madvise call and prints how many calls reached a
 *           wrapper preloaded after the shim (0 if none is loaded).
 *   stale:  frees a placed block, maps memory right after its first page
 *           where the kernel allows, and advises that mapping; prints the
 *           result, which must be success.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCK_BYTES ((size_t)8 << 20)
#define HUGE_BYTES ((uintptr_t)2 << 20)
#define PAGE_BYTES ((uintptr_t)4096)

static int
case_place(void)
{
	char *blocks[9];
	int aligned = 0, zeroed = 1, i;
	size_t offset;

	for (i = 0; i < 9; i++) {
		blocks[i] = i < 8 ? malloc(BLOCK_BYTES) : calloc(1, BLOCK_BYTES);
		if (blocks[i] == NULL) {
			printf("alloc_failed=%d\n", i);
			return 1;
		}
		aligned += ((uintptr_t)blocks[i] & (HUGE_BYTES - 1)) == 0;
	}
	for (offset = 0; offset < BLOCK_BYTES; offset += 512) {
		zeroed &= blocks[8][offset] == 0;
	}
	for (i = 0; i < 9; i++) {
		memset(blocks[i], i, BLOCK_BYTES);
		free(blocks[i]);
	}
	printf("aligned=%d\nblocks=9\ncalloc_zeroed=%d\n", aligned, zeroed);
	return 0;
}

/*
 * Returns 1 if the smaps entry that contains address has flag (" hg", " nh")
 * in VmFlags, 0 if not, and -1 if no entry contains it.
 */
static int
flag_at(const void *address, const char *flag)
{
	FILE *smaps = fopen("/proc/self/smaps", "r");
	char line[512];
	int inside = 0, result = -1;

	while (smaps != NULL && fgets(line, sizeof(line), smaps) != NULL) {
		unsigned long low, high;

		if (sscanf(line, "%lx-%lx ", &low, &high) == 2) {
			inside = (uintptr_t)address >= low && (uintptr_t)address < high;
		} else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
			result = strstr(line, flag) != NULL;
			break;
		}
	}
	if (smaps != NULL) {
		fclose(smaps);
	}
	return result;
}

static int
advised_at(const void *address)
{
	return flag_at(address, " hg");
}

static int
case_advise(void)
{
	char *block = malloc(BLOCK_BYTES);
	uintptr_t start, skip;
	int rc;

	if (block == NULL) {
		printf("alloc_failed=1\n");
		return 1;
	}

	/* numpy's rounding: from the next page boundary, a whole page on when already aligned. */
	start = (uintptr_t)block;
	skip = PAGE_BYTES - start % PAGE_BYTES;
	rc = madvise((void *)(start + skip), BLOCK_BYTES - skip, MADV_HUGEPAGE);
	memset(block, 1, BLOCK_BYTES);
	printf("madvise_rc=%d\nfirst_byte_advised=%d\nlast_byte_advised=%d\n", rc,
	    advised_at(block), advised_at(block + BLOCK_BYTES - 1));

	/* An unaligned start stays invalid, even one byte into a placed block. */
	errno = 0;
	rc = madvise(block + 1, PAGE_BYTES, MADV_HUGEPAGE);
	printf("unaligned_rc=%d\nunaligned_einval=%d\n", rc, errno == EINVAL);

	/* Forwarding: MADV_DONTNEED drops a private anonymous page, which then reads as zero. */
	rc = madvise((void *)((start + 3 * PAGE_BYTES) & ~(PAGE_BYTES - 1)), PAGE_BYTES,
	    MADV_DONTNEED);
	printf("dontneed_rc=%d\ndontneed_zeroed=%d\n", rc,
	    block[((start + 3 * PAGE_BYTES) & ~(PAGE_BYTES - 1)) - start] == 0);
	free(block);
	return 0;
}

/*
 * A freed block's record must not make the advice of a later mapping fail:
 * with jemalloc configured to unmap freed memory, the kernel may place a new
 * mapping one page after the freed block's start.
 */
static int
case_stale(void)
{
	size_t length = ((size_t)10 << 20) - PAGE_BYTES;
	char *block = malloc(BLOCK_BYTES);
	uintptr_t freed_start = (uintptr_t)block;
	char *mapping;
	int rc;

	free(block);
	mapping = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mapping == MAP_FAILED) {
		printf("mmap_failed=1\n");
		return 1;
	}
	errno = 0;
	rc = madvise(mapping, (size_t)4 << 20, MADV_HUGEPAGE);
	printf("one_page_after=%d\nstale_rc=%d\nstale_errno=%d\n",
	    (uintptr_t)mapping == freed_start + PAGE_BYTES, rc, errno);
	munmap(mapping, length);
	return 0;
}

static int
case_nohuge(void)
{
	char *block = malloc(BLOCK_BYTES);
	uintptr_t first_page = (uintptr_t)block & ~(PAGE_BYTES - 1);
	int rc_no, rc_yes;

	if (block == NULL) {
		printf("alloc_failed=1\n");
		return 1;
	}
	rc_no = madvise((void *)first_page, PAGE_BYTES, MADV_NOHUGEPAGE);
	rc_yes = madvise((void *)(first_page + PAGE_BYTES),
	    BLOCK_BYTES - (first_page + PAGE_BYTES - (uintptr_t)block), MADV_HUGEPAGE);
	printf("nohuge_rc=%d\nhuge_rc=%d\nfirst_byte_advised=%d\nfirst_byte_no_huge=%d\n",
	    rc_no, rc_yes, advised_at(block), flag_at(block, " nh"));
	free(block);
	return 0;
}

static int
case_count(void)
{
	int (*calls)(void);
	char *block = malloc(BLOCK_BYTES);
	uintptr_t page = ((uintptr_t)block + PAGE_BYTES - 1) & ~(PAGE_BYTES - 1);
	int rc = madvise((void *)page, PAGE_BYTES, MADV_NORMAL);

	*(void **)&calls = dlsym(RTLD_DEFAULT, "sx_madvise_counter_calls");
	printf("count_rc=%d\nwrapper_calls=%d\n", rc, calls != NULL ? calls() : 0);
	free(block);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "place") == 0) {
		return case_place();
	}
	if (argc == 2 && strcmp(argv[1], "advise") == 0) {
		return case_advise();
	}
	if (argc == 2 && strcmp(argv[1], "stale") == 0) {
		return case_stale();
	}
	if (argc == 2 && strcmp(argv[1], "nohuge") == 0) {
		return case_nohuge();
	}
	if (argc == 2 && strcmp(argv[1], "count") == 0) {
		return case_count();
	}
	fprintf(stderr, "usage: huge_pages place|advise|nohuge|count|stale\n");
	return 2;
}
