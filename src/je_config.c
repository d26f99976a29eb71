/* Settings and maintenance calls for the shim's private jemalloc. */
#include <stdint.h>

#include "je.h"

/*
 * Read by jemalloc on its first allocation, before the shim's constructor.
 * dirty_decay_ms/muzzy_decay_ms -1 keep freed pages for reuse instead of
 * returning them to the kernel on a timer. With jemalloc 5.3's defaults, a
 * loop that allocates, touches and frees 1-8 MiB blocks ran 30x slower than
 * glibc on a 2-core x86-64 VM, because every reuse faulted the pages in
 * again. The governor purges them when memory is short (je_purge_all).
 * oversize_threshold:0 keeps large blocks in the normal arenas, whose decay
 * these settings control, instead of the dedicated huge arena that purges
 * at once. zero_realloc:free gives glibc's realloc(p, 0).
 * A user's MALLOC_CONF environment variable is applied after this string.
 */
SX_EXPORT const char *sej_malloc_conf =
    "oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1,"
    "zero_realloc:free,background_thread:false";

/* jemalloc's MALLCTL_ARENAS_ALL: the pseudo-index that addresses every arena. */
#define JE_ARENAS_ALL_NAME "4096"

/* Makes jemalloc merge its per-arena counters, which every stats.* read needs first. */
static int
je_refresh_stats(void)
{
	uint64_t epoch = 1;
	size_t len = sizeof(epoch);

	return sej_mallctl("epoch", &epoch, &len, &epoch, len);
}

int
je_read_stats(size_t *active_bytes, size_t *resident_bytes)
{
	size_t len = sizeof(size_t);

	if (je_refresh_stats() != 0
	    || sej_mallctl("stats.active", active_bytes, &len, NULL, 0) != 0) {
		return -1;
	}
	len = sizeof(size_t);
	if (sej_mallctl("stats.resident", resident_bytes, &len, NULL, 0) != 0) {
		return -1;
	}
	return 0;
}

int
je_read_allocated(size_t *allocated_bytes)
{
	size_t len = sizeof(size_t);

	if (je_refresh_stats() != 0) {
		return -1;
	}
	return sej_mallctl("stats.allocated", allocated_bytes, &len, NULL, 0);
}

size_t
je_purge_all(void)
{
	size_t active_before = 0, resident_before = 0;
	size_t active_after = 0, resident_after = 0;

	(void)je_read_stats(&active_before, &resident_before);

	sej_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
	sej_mallctl("arena." JE_ARENAS_ALL_NAME ".purge", NULL, NULL, NULL, 0);

	if (je_read_stats(&active_after, &resident_after) != 0) {
		return 0;
	}
	return resident_before > resident_after ? resident_before - resident_after : 0;
}
