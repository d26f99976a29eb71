/*
 * Fuzzes limits_parse_statm with /proc/self/statm text. The first input byte
 * picks the page size (2^(byte % 64)), so the multiplication overflow checks
 * are reached as well as the common 4 KiB case.
 */
#include "fuzz_support.h"
#include "mem_limits.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t page_size_bytes = 4096;
	self_memory_t memory;
	char *text;

	if (size > 0) {
		page_size_bytes = (uint64_t)1 << (data[0] % 64);
		data++;
		size--;
	}
	text = fuzz_terminated_copy(data, size);
	limits_parse_statm(text, page_size_bytes, &memory);
	free(text);
	return 0;
}
