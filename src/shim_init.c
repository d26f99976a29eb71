/*
 * The shim's constructor and destructor: load the options, start the
 * governor, open the slow path, and report a summary at exit.
 */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "alloc.h"
#include "cleanup.h"
#include "governor.h"
#include "log.h"
#include "mmap.h"
#include "options.h"

/* Below this, checking every request would cost more than it could protect. */
#define SHIM_THRESHOLD_MIN_BYTES 4096

static bool shim_active;

static void
shim_fork_prepare(void)
{
	cleanup_fork_prepare();
	governor_fork_prepare();
}

static void
shim_fork_parent(void)
{
	governor_fork_parent();
	cleanup_fork_parent();
}

static void
shim_fork_child(void)
{
	governor_fork_child();
	cleanup_fork_child();
}

static void
shim_log_activation(void)
{
	governor_view_t view;

	if (!log_enabled(LOG_LEVEL_INFO)) {
		return;
	}
	governor_read_view(&view);
	log_message(LOG_LEVEL_INFO, "active in pid %d: limit %llu MB (%s), margin %llu MB, "
	    "headroom %llu MB, large threshold %llu bytes, stall timeout %llu ms, "
	    "PSI threshold %.1f%%", (int)getpid(),
	    (unsigned long long)(view.effective_limit_bytes / SX_MIB),
	    view.effective_source < LIMIT_SOURCE_COUNT
	    ? limits_source_name(view.effective_source) : "none",
	    (unsigned long long)(view.margin_bytes / SX_MIB),
	    view.headroom_bytes == UINT64_MAX ? 0ULL
	    : (unsigned long long)(view.headroom_bytes / SX_MIB),
	    (unsigned long long)alloc_large_threshold,
	    (unsigned long long)options.stall_timeout_ms, options.psi_threshold_percent);
}

__attribute__((constructor)) static void
shim_start(void)
{
	options_load();
	if (options.disable) {
		log_message(LOG_LEVEL_INFO, "disabled by SAFEEXEC_DISABLE: plain jemalloc, "
		    "no governor");
		return;
	}

	mmap_resolve_next();
	governor_init();
	pthread_atfork(shim_fork_prepare, shim_fork_parent, shim_fork_child);

	alloc_large_threshold = options.large_threshold_bytes < SHIM_THRESHOLD_MIN_BYTES
	    ? SHIM_THRESHOLD_MIN_BYTES : options.large_threshold_bytes;
	shim_active = true;
	shim_log_activation();
}

__attribute__((destructor)) static void
shim_stop(void)
{
	governor_counters_t counters;

	if (!shim_active || !log_enabled(LOG_LEVEL_INFO)) {
		return;
	}
	governor_read_counters(&counters);
	log_message(LOG_LEVEL_INFO, "summary for pid %d: peak footprint %llu MB, largest "
	    "request %llu MB, %llu large requests, %llu stalls (%llu ms), %llu refusals, "
	    "%llu cleanup runs (%llu MB purged), %llu PSI waits", (int)getpid(),
	    (unsigned long long)(counters.peak_footprint_bytes / SX_MIB),
	    (unsigned long long)(counters.largest_request_bytes / SX_MIB),
	    (unsigned long long)counters.large_requests,
	    (unsigned long long)counters.stalls, (unsigned long long)counters.stall_ms,
	    (unsigned long long)counters.refusals,
	    (unsigned long long)cleanup_run_count(),
	    (unsigned long long)(counters.purged_bytes / SX_MIB),
	    (unsigned long long)counters.psi_waits);
}
