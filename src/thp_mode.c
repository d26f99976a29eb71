/* Reads the kernel's transparent huge page mode; see thp_mode.h. */
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

const char *
thp_mode_name(thp_mode_t mode)
{
	return thp_mode_names[mode];
}
