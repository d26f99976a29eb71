/* safeexec_status and the health check behind the API; see api_status.h. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "api_status.h"
#include "cleanup.h"
#include "fmt.h"
#include "je.h"
#include "options.h"

/*
 * Freed pages jemalloc keeps, at most the resident set: jemalloc counts a
 * page as resident once it handed it out, even if the program never
 * touched it, and reusing an untouched page grows the resident set.
 */
static uint64_t
api_retained_bytes(uint64_t rss_bytes)
{
	size_t active = 0, resident = 0;

	if (je_read_stats(&active, &resident) != 0 || resident <= active) {
		return 0;
	}
	return resident - active < rss_bytes ? resident - active : rss_bytes;
}

/* Adds the retained bytes to a headroom, saturating; UINT64_MAX stays "no limit". */
static uint64_t
api_headroom_plus_retained(bool has_limit, uint64_t headroom, uint64_t retained)
{
	if (!has_limit) {
		return UINT64_MAX;
	}
	return headroom > UINT64_MAX - retained ? UINT64_MAX - 1 : headroom + retained;
}

uint64_t
api_work_headroom(void)
{
	governor_view_t view;

	governor_read_view(&view);
	return api_headroom_plus_retained(view.effective_source < LIMIT_SOURCE_COUNT,
	    view.headroom_bytes, api_retained_bytes(view.rss_bytes));
}

/* Appends "; " and a formatted clause to the reason text. */
static void
api_health_append(api_health_t *health, const char *clause)
{
	size_t used = strlen(health->reason);

	fmt_format(health->reason + used, sizeof(health->reason) - used, "%s%s",
	    used > 0 ? "; " : "", clause);
}

static void
api_health_judge_memory(api_health_t *health)
{
	const governor_view_t *view = &health->view;
	char clause[128];

	health->has_limit = view->effective_source < LIMIT_SOURCE_COUNT;
	health->retained_bytes = api_retained_bytes(view->rss_bytes);
	health->work_headroom_bytes = api_headroom_plus_retained(health->has_limit,
	    view->headroom_bytes, health->retained_bytes);
	if (health->has_limit && health->work_headroom_bytes < view->margin_bytes) {
		health->memory_low = true;
		fmt_format(clause, sizeof(clause), "memory headroom %llu MB is below the "
		    "safety margin %llu MB (%s limit %llu MB)",
		    (unsigned long long)(health->work_headroom_bytes / SX_MIB),
		    (unsigned long long)(view->margin_bytes / SX_MIB),
		    limits_source_name(view->effective_source),
		    (unsigned long long)(view->effective_limit_bytes / SX_MIB));
		api_health_append(health, clause);
	}
	if (view->psi_memory.present
	    && view->psi_memory.some_avg10 > options.psi_threshold_percent) {
		health->memory_pressure = true;
		fmt_format(clause, sizeof(clause), "memory pressure %.1f%% is above "
		    "psi_threshold %.1f%%", view->psi_memory.some_avg10,
		    options.psi_threshold_percent);
		api_health_append(health, clause);
	}
}

static void
api_health_judge_cpu(api_health_t *health)
{
	const gate_status_t *gate = &health->gate;
	char clause[128];
	double load_percent;

	if (gate->thermal_available && gate->celsius >= gate->limit_celsius) {
		health->too_hot = true;
		fmt_format(clause, sizeof(clause), "CPU temperature %.1f C is at or above the "
		    "thermal limit %.1f C", gate->celsius, gate->limit_celsius);
		api_health_append(health, clause);
	}
	if (options.cpu_limit_percent <= 0) {
		return;
	}
	load_percent = gate->cpu_psi_available ? gate->cpu_psi_some_avg10
	    : gate->load_per_cpu * 100.0;
	if (load_percent > options.cpu_limit_percent) {
		health->cpu_busy = true;
		fmt_format(clause, sizeof(clause), "CPU %s %.1f%% is above cpu_limit %.1f%%",
		    gate->cpu_psi_available ? "pressure" : "load per CPU", load_percent,
		    options.cpu_limit_percent);
		api_health_append(health, clause);
	}
}

void
api_health_read(api_health_t *health)
{
	memset(health, 0, sizeof(*health));
	governor_read_view(&health->view);
	gate_read_status(&health->gate);
	api_health_judge_memory(health);
	api_health_judge_cpu(health);
	health->healthy = !health->memory_low && !health->memory_pressure
	    && !health->too_hot && !health->cpu_busy;
}

static void
api_status_copy_text(char *out, size_t size, const char *text)
{
	fmt_format(out, size, "%s", text != NULL ? text : "");
}

static void
api_status_fill_memory(struct safeexec_status *out, const api_health_t *health)
{
	const governor_view_t *view = &health->view;
	governor_counters_t counters;

	governor_read_counters(&counters);
	out->limit_bytes = view->effective_limit_bytes;
	api_status_copy_text(out->limit_source, sizeof(out->limit_source),
	    health->has_limit ? limits_source_name(view->effective_source) : "none");
	api_status_copy_text(out->limit_detail, sizeof(out->limit_detail),
	    health->has_limit ? view->readings[view->effective_source].detail : "");
	out->usage_bytes = view->effective_usage_bytes;
	out->margin_bytes = view->margin_bytes;
	out->headroom_bytes = health->has_limit ? view->headroom_bytes : UINT64_MAX;
	out->retained_bytes = health->retained_bytes;
	out->footprint_bytes = view->rss_bytes;
	out->peak_footprint_bytes = counters.peak_footprint_bytes > view->rss_bytes
	    ? counters.peak_footprint_bytes : view->rss_bytes;
	out->memtotal_bytes = view->memtotal_bytes;
	out->memavailable_bytes = view->memavailable_bytes;
	out->psi_memory_some_avg10 = view->psi_memory.present ? view->psi_memory.some_avg10
	    : NAN;
	out->psi_memory_threshold = options.psi_threshold_percent;

	out->large_requests = counters.large_requests;
	out->stalls = counters.stalls;
	out->stall_ms = counters.stall_ms;
	out->refusals = counters.refusals;
	out->cleanup_runs = cleanup_run_count();
}

static void
api_status_fill_cpu(struct safeexec_status *out, const api_health_t *health)
{
	const gate_status_t *gate = &health->gate;

	out->psi_cpu_some_avg10 = gate->cpu_psi_available ? gate->cpu_psi_some_avg10 : NAN;
	out->cpu_limit_percent = options.cpu_limit_percent;
	out->temperature_celsius = gate->thermal_available ? gate->celsius : NAN;
	out->thermal_limit_celsius = gate->limit_celsius;
	api_status_copy_text(out->temperature_source, sizeof(out->temperature_source),
	    gate->thermal_available ? gate->source : gate->unavailable_reason);
	out->blas_calls = gate->blas_calls;
	out->blas_gated = gate->blas_gated;
	out->paused_ms = gate->paused_ms;
	out->thermal_pauses = gate->thermal_pauses;
	out->cpu_pauses = gate->cpu_pauses;
}

SX_EXPORT int
safeexec_status(struct safeexec_status *out)
{
	api_health_t health;

	if (out == NULL) {
		return EINVAL;
	}
	memset(out, 0, sizeof(*out));
	api_health_read(&health);
	out->shim_active = !options.disable;
	out->healthy = health.healthy;
	api_status_copy_text(out->unhealthy_reason, sizeof(out->unhealthy_reason),
	    health.reason);
	api_status_fill_memory(out, &health);
	api_status_fill_cpu(out, &health);
	return 0;
}
