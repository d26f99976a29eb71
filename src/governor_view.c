/*
 * The governor's view of memory: every limit source read now, the budget
 * and margin from the options, and the source with the least headroom.
 * Shared by the shim and the launcher's `safeexec status`.
 */
#include <math.h>
#include <string.h>

#include "fmt.h"
#include "governor.h"
#include "options.h"

/* Minimum headroom in bytes, whatever the margin option is set to. */
#define GOVERNOR_MARGIN_MIN_BYTES (16 * SX_MIB)

static limits_context_t governor_limits;
static bool governor_limits_ready;

void
governor_discover_limits(void)
{
	limits_discover(&governor_limits, options.proc_root, options.sysfs_root);
	governor_limits_ready = true;
}

/* The configured budget, resolved against MemTotal when given as a percentage. */
static void
governor_fill_budget(limit_reading_t *budget, uint64_t memtotal_bytes, uint64_t rss_bytes)
{
	memset(budget, 0, sizeof(*budget));
	if (options.memory_limit_percent > 0 && memtotal_bytes > 0) {
		budget->limit_bytes = (uint64_t)((double)memtotal_bytes
		    * options.memory_limit_percent / 100.0);
		fmt_format(budget->detail, sizeof(budget->detail),
		    "SAFEEXEC_MEMORY_LIMIT=%.1f%% of MemTotal", options.memory_limit_percent);
	} else if (options.memory_limit_bytes > 0) {
		budget->limit_bytes = options.memory_limit_bytes;
		fmt_format(budget->detail, sizeof(budget->detail), "SAFEEXEC_MEMORY_LIMIT");
	} else {
		fmt_format(budget->detail, sizeof(budget->detail), "not set");
		return;
	}
	budget->present = true;
	budget->usage_bytes = rss_bytes;
}

uint64_t
governor_margin_for(uint64_t limit_bytes)
{
	uint64_t margin = options.safety_margin_percent > 0
	    ? (uint64_t)((double)limit_bytes * options.safety_margin_percent / 100.0)
	    : options.safety_margin_bytes;

	if (margin < GOVERNOR_MARGIN_MIN_BYTES) {
		margin = GOVERNOR_MARGIN_MIN_BYTES;
	}
	/* A margin of more than half the limit would refuse nearly everything. */
	if (margin > limit_bytes / 2) {
		margin = limit_bytes / 2;
	}
	return margin;
}

void
governor_apply_policy(governor_view_t *view)
{
	uint64_t best_headroom = UINT64_MAX;
	int source;

	governor_fill_budget(&view->readings[LIMIT_SOURCE_BUDGET], view->memtotal_bytes,
	    view->rss_bytes);

	view->effective_source = LIMIT_SOURCE_COUNT;
	view->effective_limit_bytes = 0;
	view->effective_usage_bytes = view->rss_bytes;
	view->margin_bytes = 0;
	view->headroom_bytes = UINT64_MAX;

	for (source = 0; source < LIMIT_SOURCE_COUNT; source++) {
		const limit_reading_t *reading = &view->readings[source];
		uint64_t margin, used, headroom;

		if (!reading->present) {
			continue;
		}
		margin = governor_margin_for(reading->limit_bytes);
		/* A garbage usage value must not wrap around into a large headroom. */
		if (__builtin_add_overflow(reading->usage_bytes, margin, &used)) {
			used = UINT64_MAX;
		}
		headroom = reading->limit_bytes > used ? reading->limit_bytes - used : 0;
		if (headroom < best_headroom) {
			best_headroom = headroom;
			view->effective_source = (limit_source_t)source;
			view->effective_limit_bytes = reading->limit_bytes;
			view->effective_usage_bytes = reading->usage_bytes;
			view->margin_bytes = margin;
			view->headroom_bytes = headroom;
		}
	}
}

void
governor_read_view(governor_view_t *view)
{
	limits_basics_t basics;

	memset(view, 0, sizeof(*view));
	limits_read_basics(options.proc_root, &basics);
	if (basics.self_error == 0) {
		view->rss_bytes = basics.self.rss_bytes;
	}
	if (basics.meminfo_error == 0) {
		view->memtotal_bytes = basics.meminfo.total_bytes;
		view->memavailable_bytes = basics.meminfo.available_bytes;
	}
	if (limits_read_psi(options.proc_root, "memory", &view->psi_memory) != 0) {
		view->psi_memory.present = false;
	}
	if (governor_limits_ready) {
		limits_read_sources(&governor_limits, &basics, view->readings);
	}
	governor_apply_policy(view);
}
