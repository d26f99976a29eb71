/*
 * The kernel's transparent huge page mode, read from
 * <sysfs_root>/kernel/mm/transparent_hugepage/enabled, where the selected
 * word is the one in brackets: "always [madvise] never".
 */
#ifndef SX_THP_MODE_H
#define SX_THP_MODE_H

#include <stddef.h>

#include "common.h"

typedef enum {
	THP_MODE_UNAVAILABLE, /* no such file, or a text without a known selection */
	THP_MODE_NEVER,
	THP_MODE_MADVISE,     /* huge pages only for ranges advised MADV_HUGEPAGE */
	THP_MODE_ALWAYS,
} thp_mode_t;

/* Returns the mode selected in text (NUL-terminated), or THP_MODE_UNAVAILABLE. */
SX_HIDDEN thp_mode_t thp_mode_parse(const char *text);

/* Reads and parses the file under sysfs_root. Returns THP_MODE_UNAVAILABLE if it is unreadable. */
SX_HIDDEN thp_mode_t thp_mode_read(const char *sysfs_root);

/*
 * Reads the huge page size from <sysfs_root>/kernel/mm/transparent_hugepage/
 * hpage_pmd_size. Returns 0 when it is missing or not a power of two from
 * 64 KiB to 1 GiB.
 */
SX_HIDDEN size_t thp_page_bytes_read(const char *sysfs_root);

/* Returns "unavailable", "never", "madvise" or "always". */
SX_HIDDEN const char *thp_mode_name(thp_mode_t mode);

#endif
