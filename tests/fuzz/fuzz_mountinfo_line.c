/* Fuzzes limits_parse_mountinfo_line with one /proc/self/mountinfo line (not NUL-terminated). */
#include "fuzz_support.h"
#include "mem_limits.h"

static void
fuzz_check_terminated(const char *field, size_t size)
{
	if (memchr(field, '\0', size) == NULL) {
		__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_exact_copy(data, size);
	limits_mount_t mount;

	if (limits_parse_mountinfo_line(line, size, &mount) == 0) {
		fuzz_check_terminated(mount.root, sizeof(mount.root));
		fuzz_check_terminated(mount.mount_point, sizeof(mount.mount_point));
		fuzz_check_terminated(mount.fstype, sizeof(mount.fstype));
		if (mount.mount_point[0] != '/') {
			__builtin_trap();
		}
	}
	free(line);
	return 0;
}
