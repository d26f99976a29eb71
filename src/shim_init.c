/*
 * The shim's constructor and destructor: load the options, start the
 * governor, open the slow path, and report a summary at exit.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "alloc_huge.h"
#include "blas.h"
#include "cleanup.h"
#include "fmt.h"
#include "gate.h"
#include "governor.h"
#include "log.h"
#include "mmap.h"
#include "options.h"
#include "procfs.h"
#include "trace.h"

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
	log_message_always(LOG_LEVEL_INFO, "active in pid %d: limit %llu MB (%s), margin %llu MB, "
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
	blas_exports_init();
	/* Forwarding goes through libc, so wrappers preloaded after the shim see the calls. */
	mmap_resolve_next();
	alloc_huge_resolve_next();
	if (options.disable) {
		log_message(LOG_LEVEL_INFO, "disabled by SAFEEXEC_DISABLE: plain jemalloc, "
		    "no governor");
		return;
	}

	alloc_find_loader();
	governor_init();
	gate_init();
	pthread_atfork(shim_fork_prepare, shim_fork_parent, shim_fork_child);

	alloc_huge_init();
	alloc_set_threshold(options.large_threshold_bytes);
	shim_active = true;
	trace_init();
	shim_log_activation();
}

/* VmHWM from /proc/self/status: the true peak RSS, in bytes; 0 if unreadable. */
static uint64_t
shim_read_peak_rss(void)
{
	char path[512], text[4096];
	const char *found;
	ssize_t length;

	if (procfs_join(path, sizeof(path), options.proc_root, "self/status") != 0) {
		return 0;
	}
	length = procfs_read_file(path, text, sizeof(text) - 1);
	if (length <= 0) {
		return 0;
	}
	text[length] = '\0';
	found = strstr(text, "VmHWM:");
	return found != NULL ? strtoull(found + 6, NULL, 10) * 1024 : 0;
}

__attribute__((destructor)) static void
shim_stop(void)
{
	governor_counters_t counters;
	gate_status_t gate;
	char peak_text[64];
	uint64_t peak_rss_bytes;

	if (!shim_active) {
		return;
	}
	trace_sample("exit");
	if (!log_enabled(LOG_LEVEL_INFO)) {
		return;
	}
	governor_read_counters(&counters);
	gate_read_status(&gate);
	peak_rss_bytes = shim_read_peak_rss();
	if (peak_rss_bytes > counters.peak_footprint_bytes) {
		counters.peak_footprint_bytes = peak_rss_bytes;
	}
	if (isnan(gate.peak_celsius)) {
		fmt_format(peak_text, sizeof(peak_text), "no temperature reading");
	} else {
		fmt_format(peak_text, sizeof(peak_text), "peak temperature %.1f C",
		    gate.peak_celsius);
	}
	log_message_always(LOG_LEVEL_INFO, "summary for pid %d: peak footprint %llu MB, largest "
	    "request %llu MB, %llu large requests, %llu stalls (%llu ms), %llu refusals, "
	    "%llu cleanup runs (%llu MB purged), %llu PSI waits, %llu forced admissions, "
	    "%llu BLAS calls seen, "
	    "%llu gated, %llu ms paused (%llu thermal, %llu CPU pauses), %s", (int)getpid(),
	    (unsigned long long)(counters.peak_footprint_bytes / SX_MIB),
	    (unsigned long long)(counters.largest_request_bytes / SX_MIB),
	    (unsigned long long)counters.large_requests,
	    (unsigned long long)counters.stalls, (unsigned long long)counters.stall_ms,
	    (unsigned long long)counters.refusals,
	    (unsigned long long)cleanup_run_count(),
	    (unsigned long long)(counters.purged_bytes / SX_MIB),
	    (unsigned long long)counters.psi_waits,
	    (unsigned long long)counters.forced_admissions,
	    (unsigned long long)gate.blas_calls, (unsigned long long)gate.blas_gated,
	    (unsigned long long)gate.paused_ms, (unsigned long long)gate.thermal_pauses,
	    (unsigned long long)gate.cpu_pauses, peak_text);
}
