/* Reads the kernel's transparent huge page mode; see thp_mode.h. */
#include <stdint.h>
#include <string.h>

#include "procfs.h"
#include "thp_mode.h"

static const char *const thp_mode_names[] = {
	[THP_MODE_UNAVAILABLE] = "unavailable",
	[THP_MODE_NEVER] = "never",
	[THP_MODE_MADVISE] = "madvise",
	[THP_MODE_ALWAYS] = "always",
};

thp_mode_t
thp_mode_parse(const char *text)
{
	const char *open = strchr(text, '[');
	const char *close = open != NULL ? strchr(open, ']') : NULL;
	size_t length;
	int mode;

	if (close == NULL) {
		return THP_MODE_UNAVAILABLE;
	}

	length = (size_t)(close - open - 1);
	for (mode = THP_MODE_NEVER; mode <= THP_MODE_ALWAYS; mode++) {
		if (strlen(thp_mode_names[mode]) == length
		    && strncmp(open + 1, thp_mode_names[mode], length) == 0) {
			return (thp_mode_t)mode;
		}
	}
	return THP_MODE_UNAVAILABLE;
}

thp_mode_t
thp_mode_read(const char *sysfs_root)
{
	char path[512], text[256];

	if (procfs_join(path, sizeof(path), sysfs_root,
	    "kernel/mm/transparent_hugepage/enabled") < 0
	    || procfs_read_file(path, text, sizeof(text)) < 0) {
		return THP_MODE_UNAVAILABLE;
	}
	return thp_mode_parse(text);
}

size_t
thp_page_bytes_read(const char *sysfs_root)
{
	char path[512], text[32];
	uint64_t bytes = 0;
	ssize_t length;

	if (procfs_join(path, sizeof(path), sysfs_root,
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

const char *
thp_mode_name(thp_mode_t mode)
{
	return thp_mode_names[mode];
}
