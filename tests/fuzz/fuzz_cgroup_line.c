/* Fuzzes limits_parse_cgroup_line with one /proc/self/cgroup line (not NUL-terminated). */
#include "fuzz_support.h"
#include "mem_limits.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_exact_copy(data, size);
	limits_cgroup_entry_t entry;

	if (limits_parse_cgroup_line(line, size, &entry) == 0) {
		/* An accepted path is NUL-terminated within the buffer and absolute. */
		if (memchr(entry.path, '\0', sizeof(entry.path)) == NULL || entry.path[0] != '/') {
			__builtin_trap();
		}
	}
	free(line);
	return 0;
}
