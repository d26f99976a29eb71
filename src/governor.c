/*
 * The governor's decision for large requests: predict, clean up, stall with
 * a deadline, refuse. See governor.h for the contract.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "fmt.h"
#include "gate.h"
#include "governor.h"
#include "governor_sample.h"
#include "je.h"
#include "log.h"
#include "options.h"
#include "trace.h"

/* First and longest sleep of a stall's exponential backoff. */
#define GOVERNOR_BACKOFF_FIRST_MS 1
#define GOVERNOR_BACKOFF_MAX_MS 100

static struct {
	_Atomic uint64_t largest_request_bytes;
	_Atomic uint64_t large_requests;
	_Atomic uint64_t stalls;
	_Atomic uint64_t stall_ms;
	_Atomic uint64_t refusals;
	_Atomic uint64_t psi_waits;
	_Atomic uint64_t purged_bytes;
	_Atomic uint64_t forced_admissions;
} governor_counts;

/*
 * Threads stalling now. A stall waits for memory to come back. When another
 * thread is already waiting, a second waiter would compete for the same
 * bytes and only multiply the delay, so it is refused at once.
 */
static _Atomic int governor_stalling_threads;

/* Set while this thread is inside the governor; nested requests are admitted. */
static SX_TLS int governor_depth;

/*
 * Some libraries retry a refused request at once and without end: OpenBLAS
 * 0.3's buffer allocator alternates mmap and malloc of the same size until
 * one succeeds, so a refusal would hang the program at 100% CPU. A thread
 * that requests about the same size again within GOVERNOR_RETRY_WINDOW_MS of a
 * refusal is such a caller. Its retries skip the stall, and after
 * GOVERNOR_RETRY_ADMIT_AFTER of them the request is admitted with an error
 * logged. Programs that retry after a pause of at least that long (the
 * Python batch executor's backoff starts at 10 ms) are not affected.
 */
#define GOVERNOR_RETRY_WINDOW_MS 5
#define GOVERNOR_RETRY_ADMIT_AFTER 4
static SX_TLS size_t governor_retry_bytes;
static SX_TLS unsigned governor_retry_count;
static SX_TLS uint64_t governor_retry_end_ms;
static log_limiter_t governor_retry_limiter;

static log_limiter_t governor_predict_limiter;
static log_limiter_t governor_refuse_limiter;
static log_limiter_t governor_stall_limiter;
static log_limiter_t governor_psi_limiter;

static size_t
governor_purge_hook(void *arg)
{
	size_t released;

	(void)arg;
	released = je_purge_all();
	atomic_fetch_add(&governor_counts.purged_bytes, released);
	if (released > 0) {
		trace_event("purge", released, NULL);
	}
	return released;
}

void
governor_init(void)
{
	governor_discover_limits();
	cleanup_register(governor_purge_hook, NULL, 0, "jemalloc purge");
}

static void
governor_sleep_ms(uint64_t ms)
{
	struct timespec delay = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	/* EINTR ends the sleep early; the caller's loop checks its deadline again. */
	nanosleep(&delay, NULL);
}

/*
 * Waits, bounded by options.psi_wait_ms, while memory PSI "some avg10" is
 * above options.psi_threshold_percent, so reclaim can catch up.
 */
static void
governor_wait_for_psi(size_t bytes, alloc_kind_t kind)
{
	uint64_t deadline_ms = log_monotonic_ms() + options.psi_wait_ms;
	psi_reading_t psi;
	bool waited = false;

	while (limits_read_psi(options.proc_root, "memory", &psi) == 0 && psi.present
	    && psi.some_avg10 > options.psi_threshold_percent
	    && log_monotonic_ms() < deadline_ms) {
		if (!waited) {
			atomic_fetch_add(&governor_counts.psi_waits, 1);
			log_limited(&governor_psi_limiter, 5000, LOG_LEVEL_WARN,
			    "memory pressure %.1f%% (PSI some avg10) is above %.1f%%: %s of %zu "
			    "bytes waits up to %llu ms for reclaim", psi.some_avg10,
			    options.psi_threshold_percent, alloc_kind_name(kind), bytes,
			    (unsigned long long)options.psi_wait_ms);
			waited = true;
		}
		governor_sleep_ms(10);
	}
}

static void
governor_log_prediction(size_t bytes, const char *outcome)
{
	governor_sample_t sample;
	uint64_t granted;

	governor_get_sample(false, &sample);
	granted = governor_granted_total() - sample.granted_mark;
	log_limited(&governor_predict_limiter, 1000, LOG_LEVEL_INFO,
	    "Operation impact prediction: current %llu MB, predicted %llu MB, limit %llu MB "
	    "(%s, margin %llu MB): %s",
	    (unsigned long long)((sample.usage_bytes + granted) / SX_MIB),
	    (unsigned long long)((sample.usage_bytes + granted + bytes) / SX_MIB),
	    (unsigned long long)(sample.limit_bytes / SX_MIB),
	    limits_source_name(sample.source),
	    (unsigned long long)(sample.margin_bytes / SX_MIB), outcome);
}

/* Stalls with exponential backoff until the request fits or the stall timeout passes. */
static bool
governor_stall(size_t bytes, alloc_kind_t kind)
{
	uint64_t start_ms = log_monotonic_ms();
	uint64_t deadline_ms = start_ms + options.stall_timeout_ms;
	uint64_t backoff_ms = GOVERNOR_BACKOFF_FIRST_MS;
	bool fits = false;

	atomic_fetch_add(&governor_counts.stalls, 1);
	trace_event("stall", bytes, alloc_kind_name(kind));
	log_limited(&governor_stall_limiter, 2000, LOG_LEVEL_WARN,
	    "stalling %s of %zu bytes for up to %llu ms: memory is above the limit minus "
	    "the margin", alloc_kind_name(kind), bytes,
	    (unsigned long long)options.stall_timeout_ms);

	while (!fits) {
		uint64_t now_ms = log_monotonic_ms();

		if (now_ms >= deadline_ms) {
			break;
		}
		governor_sleep_ms(backoff_ms < deadline_ms - now_ms ? backoff_ms
		    : deadline_ms - now_ms);
		backoff_ms = backoff_ms * 2 > GOVERNOR_BACKOFF_MAX_MS
		    ? GOVERNOR_BACKOFF_MAX_MS : backoff_ms * 2;
		/* Other threads may have freed blocks that jemalloc keeps: give them back. */
		governor_purge_hook(NULL);
		fits = governor_fits(bytes, true);
	}
	atomic_fetch_add(&governor_counts.stall_ms, log_monotonic_ms() - start_ms);
	return fits;
}

/*
 * True when this thread was refused about the same size moments ago. "About":
 * within 1/16, because OpenBLAS requests the buffer from mmap and the buffer
 * plus a page from malloc.
 */
static bool
governor_is_quick_retry(size_t bytes)
{
	size_t difference = bytes > governor_retry_bytes ? bytes - governor_retry_bytes
	    : governor_retry_bytes - bytes;

	return governor_retry_count > 0 && difference <= governor_retry_bytes / 16
	    && log_monotonic_ms() - governor_retry_end_ms < GOVERNOR_RETRY_WINDOW_MS;
}

/* Stalls unless another thread is stalling already; true when the request fits after it. */
static bool
governor_stall_alone(size_t bytes, alloc_kind_t kind)
{
	bool fits = false;

	if (atomic_fetch_add(&governor_stalling_threads, 1) == 0) {
		fits = governor_stall(bytes, kind);
	}
	atomic_fetch_sub(&governor_stalling_threads, 1);
	return fits;
}

static bool
governor_decide(size_t bytes, alloc_kind_t kind, bool may_wait)
{
	governor_sample_t sample;
	char reason[96];
	bool retry;

	/* The common case costs no file read: a sample at most 5 ms old. */
	governor_get_sample(false, &sample);
	if (options.psi_threshold_percent > 0 && !isnan(sample.psi_some_avg10)
	    && sample.psi_some_avg10 > options.psi_threshold_percent) {
		governor_wait_for_psi(bytes, kind);
	}
	if (bytes <= governor_headroom(&sample)) {
		return true;
	}
	/*
	 * The sample may count blocks granted and freed since it was taken; a
	 * fresh one costs a few file reads, a needless purge far more.
	 */
	if (governor_granted_total() != sample.granted_mark
	    && governor_fits(bytes, true)) {
		return true;
	}

	/* Over the line: give back what the program freed, then look again. */
	fmt_format(reason, sizeof(reason), "before %s of %zu bytes", alloc_kind_name(kind),
	    bytes);
	cleanup_run_all(reason);
	if (governor_fits(bytes, true)) {
		governor_log_prediction(bytes, "admitted after cleanup");
		return true;
	}

	/* A caller that cannot wait keeps what it has: no stall, no forced admission. */
	if (!may_wait) {
		governor_log_prediction(bytes, "refused");
		atomic_fetch_add(&governor_counts.refusals, 1);
		return false;
	}

	retry = governor_is_quick_retry(bytes);
	if (retry && governor_retry_count >= GOVERNOR_RETRY_ADMIT_AFTER) {
		log_limited(&governor_retry_limiter, 10000, LOG_LEVEL_ERROR,
		    "admitting %s of %zu bytes over the memory limit: the same size was "
		    "requested again within %d ms of each of %u refusals, as a caller that "
		    "retries without pause does (OpenBLAS's buffer allocator loops forever)",
		    alloc_kind_name(kind), bytes, GOVERNOR_RETRY_WINDOW_MS, governor_retry_count);
		atomic_fetch_add(&governor_counts.forced_admissions, 1);
		governor_retry_count = 0;
		return true;
	}

	if (!retry && options.stall_timeout_ms > 0 && governor_could_ever_fit(bytes)
	    && governor_stall_alone(bytes, kind)) {
		governor_log_prediction(bytes, "admitted after a stall");
		return true;
	}

	governor_log_prediction(bytes, "refused");
	atomic_fetch_add(&governor_counts.refusals, 1);
	trace_event("refusal", bytes, alloc_kind_name(kind));
	log_limited(&governor_refuse_limiter, 1000, LOG_LEVEL_WARN,
	    "refused %s of %zu bytes (%llu %s): it would cross the memory limit minus the "
	    "safety margin; returning ENOMEM", alloc_kind_name(kind), bytes,
	    (unsigned long long)(bytes >= SX_MIB ? bytes / SX_MIB : bytes / SX_KIB),
	    bytes >= SX_MIB ? "MB" : "KB");
	governor_retry_count = retry ? governor_retry_count + 1 : 1;
	governor_retry_bytes = bytes;
	governor_retry_end_ms = log_monotonic_ms();
	return false;
}

bool
governor_admit(size_t bytes, alloc_kind_t kind, bool may_wait)
{
	bool admitted;

	if (governor_depth > 0) {
		return true;
	}
	governor_depth++;

	atomic_fetch_add(&governor_counts.large_requests, 1);
	governor_store_max(&governor_counts.largest_request_bytes, bytes);
	admitted = governor_decide(bytes, kind, may_wait);
	if (admitted) {
		governor_note_granted(bytes);
		/* A large allocation is a gate point: heavy work waits while the CPU is too hot. */
		gate_pass(GATE_POINT_ALLOCATION, alloc_kind_name(kind));
	}

	governor_depth--;
	return admitted;
}

void
governor_read_counters(governor_counters_t *out)
{
	out->peak_footprint_bytes = governor_sampled_peak_rss();
	out->largest_request_bytes = atomic_load(&governor_counts.largest_request_bytes);
	out->large_requests = atomic_load(&governor_counts.large_requests);
	out->stalls = atomic_load(&governor_counts.stalls);
	out->stall_ms = atomic_load(&governor_counts.stall_ms);
	out->refusals = atomic_load(&governor_counts.refusals);
	out->psi_waits = atomic_load(&governor_counts.psi_waits);
	out->purged_bytes = atomic_load(&governor_counts.purged_bytes);
	out->forced_admissions = atomic_load(&governor_counts.forced_admissions);
}
