/*
 * The governor's samples of the limits: taken at most every
 * GOVERNOR_SAMPLE_INTERVAL_MS (less often far from the limit) under one
 * mutex, with the bytes granted since and the memory granted but not yet
 * touched. See governor_sample.h.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

#include "governor.h"
#include "governor_sample.h"
#include "je.h"
#include "log.h"
#include "options.h"

/* A sample of the limits is reused for this long before files are read again. */
#define GOVERNOR_SAMPLE_INTERVAL_MS 5
/*
 * Far from the limit, a sample is reused for up to this long. A sample reads
 * about eight files, measured at 60 to 150 us with cold caches, and numpy
 * makes a 32 MB temporary every few milliseconds.
 */
#define GOVERNOR_SAMPLE_FAR_INTERVAL_MS 50

static pthread_mutex_t governor_sample_lock = PTHREAD_MUTEX_INITIALIZER;
static governor_sample_t governor_sample;

/*
 * Memory granted but not yet touched is invisible to RSS, so a sample taken
 * between malloc and memset would forget it. The governor tracks it as
 * "pending": what jemalloc's live allocations grew by since the last sample,
 * less what RSS grew by. Guarded by governor_sample_lock.
 */
static uint64_t governor_prev_allocated_bytes;
static uint64_t governor_prev_rss_bytes;
static uint64_t governor_pending_bytes;

/* Bytes admitted since start; those since the last sample are not yet in its usage. */
static _Atomic uint64_t governor_granted_bytes;

/* Highest RSS seen at a sample, for the exit summary. */
static _Atomic uint64_t governor_peak_rss_bytes;

void
governor_store_max(_Atomic uint64_t *target, uint64_t value)
{
	uint64_t current = atomic_load_explicit(target, memory_order_relaxed);

	while (value > current && !atomic_compare_exchange_weak(target, &current, value)) {
	}
}

void
governor_note_granted(size_t bytes)
{
	atomic_fetch_add(&governor_granted_bytes, bytes);
}

uint64_t
governor_granted_total(void)
{
	return atomic_load(&governor_granted_bytes);
}

uint64_t
governor_sampled_peak_rss(void)
{
	return atomic_load(&governor_peak_rss_bytes);
}

/* Updates governor_pending_bytes; the caller holds governor_sample_lock. */
static void
governor_update_pending(uint64_t rss_bytes)
{
	size_t allocated_bytes;
	int64_t pending, allocated_growth, rss_growth;

	if (je_read_allocated(&allocated_bytes) != 0) {
		return;
	}
	allocated_growth = (int64_t)allocated_bytes - (int64_t)governor_prev_allocated_bytes;
	rss_growth = (int64_t)rss_bytes - (int64_t)governor_prev_rss_bytes;
	pending = (int64_t)governor_pending_bytes + allocated_growth
	    - (rss_growth > 0 ? rss_growth : 0);

	governor_pending_bytes = pending > 0 ? (uint64_t)pending : 0;
	governor_prev_allocated_bytes = allocated_bytes;
	governor_prev_rss_bytes = rss_bytes;
}

/* Reads the limits into governor_sample; the caller holds governor_sample_lock. */
static void
governor_take_sample_locked(uint64_t now_ms)
{
	governor_view_t view;

	/* The mark is read before the files, so grants made meanwhile count twice, never zero times. */
	governor_sample.granted_mark = atomic_load(&governor_granted_bytes);
	governor_read_view(&view);

	governor_update_pending(view.rss_bytes);

	governor_sample.time_ms = now_ms;
	governor_sample.headroom_bytes = view.headroom_bytes;
	governor_sample.limit_bytes = view.effective_limit_bytes;
	governor_sample.usage_bytes = view.effective_usage_bytes;
	/* The rlimit sources count address space, which includes untouched blocks already. */
	if (view.effective_source != LIMIT_SOURCE_RLIMIT_AS
	    && view.effective_source != LIMIT_SOURCE_RLIMIT_DATA
	    && view.headroom_bytes != UINT64_MAX) {
		governor_sample.usage_bytes += governor_pending_bytes;
		governor_sample.headroom_bytes = view.headroom_bytes > governor_pending_bytes
		    ? view.headroom_bytes - governor_pending_bytes : 0;
	}
	governor_sample.margin_bytes = view.margin_bytes;
	governor_sample.source = view.effective_source;
	governor_sample.psi_some_avg10 = view.psi_memory.present
	    ? view.psi_memory.some_avg10 : NAN;
	governor_store_max(&governor_peak_rss_bytes, view.rss_bytes);
}

/*
 * True when governor_sample may be reused at now_ms: it is younger than
 * GOVERNOR_SAMPLE_INTERVAL_MS, or younger than GOVERNOR_SAMPLE_FAR_INTERVAL_MS
 * while at least half the limit is still free after the grants since and
 * memory pressure is not above psi_threshold. The caller holds
 * governor_sample_lock.
 */
static bool
governor_sample_usable_locked(uint64_t now_ms)
{
	uint64_t age_ms = now_ms - governor_sample.time_ms;
	uint64_t granted;

	if (governor_sample.time_ms == 0 || age_ms >= GOVERNOR_SAMPLE_FAR_INTERVAL_MS) {
		return false;
	}
	if (age_ms < GOVERNOR_SAMPLE_INTERVAL_MS || governor_sample.headroom_bytes == UINT64_MAX) {
		return true;
	}
	if (options.psi_threshold_percent > 0 && !isnan(governor_sample.psi_some_avg10)
	    && governor_sample.psi_some_avg10 > options.psi_threshold_percent) {
		return false;
	}
	granted = atomic_load(&governor_granted_bytes) - governor_sample.granted_mark;
	return governor_sample.headroom_bytes > granted
	    && governor_sample.headroom_bytes - granted >= governor_sample.limit_bytes / 2;
}

/* Copies the current sample, taking a fresh one when it may not be reused or when force. */
void
governor_get_sample(bool force, governor_sample_t *out)
{
	uint64_t now_ms = log_monotonic_ms();

	pthread_mutex_lock(&governor_sample_lock);
	if (force || !governor_sample_usable_locked(now_ms)) {
		governor_take_sample_locked(now_ms);
	}
	*out = governor_sample;
	pthread_mutex_unlock(&governor_sample_lock);
}

/* Headroom left for new requests: the sample's, less what was granted since. */
uint64_t
governor_headroom(const governor_sample_t *sample)
{
	uint64_t granted = atomic_load(&governor_granted_bytes) - sample->granted_mark;

	if (sample->headroom_bytes == UINT64_MAX) {
		return UINT64_MAX;
	}
	return sample->headroom_bytes > granted ? sample->headroom_bytes - granted : 0;
}

bool
governor_fits(size_t bytes, bool force)
{
	governor_sample_t sample;

	governor_get_sample(force, &sample);
	/*
	 * A fresh sample already shows every block allocated before its read.
	 * Grants that other threads made during the read are left to the next
	 * request: they are mostly blocks freed again at once (frees are not
	 * counted), and counting them made threads that recycle large blocks
	 * purge and stall far from any limit.
	 */
	if (force) {
		return sample.headroom_bytes == UINT64_MAX || bytes <= sample.headroom_bytes;
	}
	return bytes <= governor_headroom(&sample);
}

/* True when the request could fit if everything else the process uses went away. */
bool
governor_could_ever_fit(size_t bytes)
{
	governor_sample_t sample;

	governor_get_sample(false, &sample);
	return sample.headroom_bytes == UINT64_MAX
	    || bytes <= sample.limit_bytes - sample.margin_bytes;
}

void
governor_fork_prepare(void)
{
	pthread_mutex_lock(&governor_sample_lock);
}

void
governor_fork_parent(void)
{
	pthread_mutex_unlock(&governor_sample_lock);
}

void
governor_fork_child(void)
{
	pthread_mutex_init(&governor_sample_lock, NULL);
}
