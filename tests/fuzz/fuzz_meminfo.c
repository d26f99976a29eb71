/* Fuzzes limits_parse_meminfo with /proc/meminfo text. */
#include "fuzz_support.h"
#include "mem_limits.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_terminated_copy(data, size);
	meminfo_t meminfo;

	if (limits_parse_meminfo(text, &meminfo) == 0) {
		/* The parser clamps the available memory to MemTotal. */
		if (meminfo.available_bytes > meminfo.total_bytes) {
			__builtin_trap();
		}
	}
	free(text);
	return 0;
}
