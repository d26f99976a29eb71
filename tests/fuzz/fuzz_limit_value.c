/* Fuzzes limits_parse_limit_value with memory.max, memory.high and limit_in_bytes text. */
#include "fuzz_support.h"
#include "mem_limits.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_terminated_copy(data, size);
	uint64_t bytes = 0;
	bool unlimited = false;

	limits_parse_limit_value(text, &bytes, &unlimited);
	free(text);
	return 0;
}
