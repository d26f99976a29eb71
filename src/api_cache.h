/* The L3 cache size that bounds cache-aware batches. */
#ifndef SX_API_CACHE_H
#define SX_API_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

/* Used when neither hwloc nor sysfs gives a size. */
#define CACHE_L3_DEFAULT_BYTES (8 * SX_MIB)

/*
 * Returns the size of the first L3 cache: from hwloc (only when sysfs_root
 * is the real /sys, because hwloc always reads /sys), else from
 * <sysfs_root>/devices/system/cpu/cpu0/cache/index3/size, else
 * CACHE_L3_DEFAULT_BYTES. Detected on the first call and then kept.
 * *source, when not NULL, receives "hwloc", "sysfs" or "default".
 */
SX_HIDDEN uint64_t cache_l3_bytes(const char **source);

/* Parses a sysfs cache size such as "32768K" or "8M". Returns false when invalid. */
SX_HIDDEN bool cache_parse_size(const char *text, uint64_t *bytes);

#endif
