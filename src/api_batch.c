/*
 * safeexec_batch: runs the caller's function over consecutive batches of
 * items, shrinking batches that do not fit and keeping every finished
 * batch. The contract is in safeexec.h; the sizing is in api_batch_size.c.
 */
#include <errno.h>
#include <string.h>

#include "api_batch.h"
#include "api_cache.h"
#include "api_measure.h"
#include "api_predictor.h"
#include "api_scope.h"
#include "api_throttle.h"
#include "cleanup.h"
#include "fmt.h"
#include "log.h"
#include "options.h"
#include "trace.h"

#define BATCH_DEFAULT_ATTEMPTS 3
#define BATCH_DEFAULT_BACKOFF_MS 100
#define BATCH_DEFAULT_BACKOFF_MAX_MS 5000

SX_EXPORT void
safeexec_batch_options_init(struct safeexec_batch_options *out)
{
	if (out == NULL) {
		return;
	}
	memset(out, 0, sizeof(*out));
	out->max_attempts = BATCH_DEFAULT_ATTEMPTS;
	out->backoff_initial_ms = BATCH_DEFAULT_BACKOFF_MS;
	out->backoff_max_ms = BATCH_DEFAULT_BACKOFF_MAX_MS;
	out->wait_max_ms = options.stall_timeout_ms;
}

static void
batch_setup(batch_t *batch, uint64_t items, const struct safeexec_batch_options *options,
    struct safeexec_batch_result *result)
{
	memset(batch, 0, sizeof(*batch));
	memset(result, 0, sizeof(*result));
	if (options != NULL) {
		batch->options = *options;
	} else {
		safeexec_batch_options_init(&batch->options);
	}
	if (batch->options.max_attempts == 0) {
		batch->options.max_attempts = BATCH_DEFAULT_ATTEMPTS;
	}
	if (batch->options.backoff_max_ms < batch->options.backoff_initial_ms) {
		batch->options.backoff_max_ms = batch->options.backoff_initial_ms;
	}
	batch->options.operation[SAFEEXEC_OPERATION_MAX - 1] = '\0';
	predictor_normalize_name(batch->options.operation, batch->operation);

	batch->result = result;
	batch->ceiling = UINT64_MAX;
	batch->cache_bound = UINT64_MAX;
	batch->start_ms = log_monotonic_ms();
	result->items_total = items;
	result->first_failed_item = items;
	if (batch->options.item_working_set_bytes > 0) {
		result->l3_cache_bytes = cache_l3_bytes(NULL);
		batch->cache_bound = result->l3_cache_bytes / batch->options.item_working_set_bytes;
		if (batch->cache_bound < 1) {
			batch->cache_bound = 1;
		}
		result->cache_bound_items = batch->cache_bound;
	}
}

/* Logs, traces and reports the batch about to run. */
static void
batch_announce(const batch_t *batch, uint64_t done, uint64_t size, uint64_t predicted_bytes)
{
	const struct safeexec_batch_result *result = batch->result;
	uint64_t left = result->items_total - done;
	uint64_t index = result->batches + 1;
	uint64_t estimated = result->batches + (left + size - 1) / size;
	char detail[TRACE_DETAIL_MAX];

	log_message(LOG_LEVEL_INFO, "Processing batch %llu/%llu (%llu/%llu items)",
	    (unsigned long long)index, (unsigned long long)estimated,
	    (unsigned long long)done, (unsigned long long)result->items_total);
	fmt_format(detail, sizeof(detail), "%llu/%llu,items=%llu/%llu,size=%llu,op=%s",
	    (unsigned long long)index, (unsigned long long)estimated,
	    (unsigned long long)done, (unsigned long long)result->items_total,
	    (unsigned long long)size, batch->operation[0] != '\0' ? batch->operation : "-");
	trace_event("batch", predicted_bytes, detail);
	if (batch->options.progress != NULL) {
		batch->options.progress(index, estimated, done, result->items_total,
		    batch->options.progress_arg);
	}
}

/* Records a finished batch. Returns ECANCELED when the checkpoint callback returns nonzero. */
static int
batch_finish(batch_t *batch, uint64_t first, uint64_t size, const measure_result_t *measured)
{
	struct safeexec_batch_result *result = batch->result;
	double params[1] = { (double)size };

	result->batches++;
	result->items_completed = first + size;
	result->last_batch_size = size;
	if (measured->peak_bytes > result->peak_bytes) {
		result->peak_bytes = measured->peak_bytes;
	}
	if (measured->peak_bytes > 0) {
		batch->learned_item_bytes = (measured->peak_bytes + size - 1) / size;
		if (batch->operation[0] != '\0') {
			predictor_record(batch->operation, params, 1, measured->peak_bytes);
		}
	}
	batch->successes_at_size++;
	api_stats_add(&api_stats.batches, 1);
	api_stats_add(&api_stats.batch_items, size);

	if (batch->options.checkpoint != NULL
	    && batch->options.checkpoint(first, size, batch->options.checkpoint_arg) != 0) {
		return ECANCELED;
	}
	return 0;
}

/* Runs one batch of size items from first, measured. */
static int
batch_call(batch_t *batch, safeexec_batch_fn fn, void *arg, uint64_t first, uint64_t size,
    measure_result_t *measured)
{
	measure_t measure;
	int error;

	if (size < batch->result->smallest_batch_size) {
		batch->result->smallest_batch_size = size;
	}
	measure_start(&measure);
	error = fn(first, size, arg);
	measure_stop(&measure, measured);
	if (error != 0) {
		batch->result->failed_batches++;
	}
	return error;
}

/*
 * Handles a failed batch. Returns 0 to retry (smaller, or the same after a
 * backoff), or the error that stops the run.
 */
static int
batch_handle_failure(batch_t *batch, uint64_t first, uint64_t size, int error,
    unsigned *attempts, uint64_t *backoff_ms)
{
	char reason[128];

	if (error == ENOMEM) {
		fmt_format(reason, sizeof(reason), "safeexec_batch: %llu items from item %llu "
		    "ran out of memory", (unsigned long long)size, (unsigned long long)first);
		cleanup_run_all(reason);
		if (size > 1) {
			batch->ceiling = size - 1;
			batch->size = size;
			batch_size_reduce(batch, size / 2, "the last batch ran out of memory");
			*attempts = 0;
			return 0;
		}
	}
	if (++*attempts >= batch->options.max_attempts) {
		return error;
	}
	log_message(LOG_LEVEL_INFO, "safeexec_batch: batch of %llu items from item %llu "
	    "failed (errno %d), attempt %u of %u; retrying in %llu ms",
	    (unsigned long long)size, (unsigned long long)first, error, *attempts,
	    batch->options.max_attempts, (unsigned long long)*backoff_ms);
	api_sleep_ms(*backoff_ms);
	*backoff_ms = *backoff_ms > batch->options.backoff_max_ms / 2
	    ? batch->options.backoff_max_ms : *backoff_ms * 2;
	return 0;
}

static int
batch_run(batch_t *batch, safeexec_batch_fn fn, void *arg)
{
	struct safeexec_batch_result *result = batch->result;
	uint64_t done = 0, size, predicted_bytes, waited_ms;
	uint64_t backoff_ms = batch->options.backoff_initial_ms;
	unsigned attempts = 0;
	measure_result_t measured;
	api_health_t health;
	int error;

	batch_size_first(batch);
	while (done < result->items_total) {
		api_throttle_wait(batch->options.wait_max_ms, true, GATE_POINT_BATCH,
		    "safeexec_batch", &health, &waited_ms);
		size = batch_size_next(batch, result->items_total - done, &health,
		    &predicted_bytes);
		batch_announce(batch, done, size, predicted_bytes);

		error = batch_call(batch, fn, arg, done, size, &measured);
		if (error == 0) {
			attempts = 0;
			backoff_ms = batch->options.backoff_initial_ms;
			error = batch_finish(batch, done, size, &measured);
			done += size;
		} else {
			error = batch_handle_failure(batch, done, size, error, &attempts,
			    &backoff_ms);
		}
		if (error != 0) {
			return error;
		}
	}
	return 0;
}

static void
batch_describe(const batch_t *batch, int error)
{
	struct safeexec_batch_result *result = batch->result;
	char buffer[64];

	if (error == 0) {
		fmt_format(result->message, sizeof(result->message), "processed %llu items in "
		    "%llu batches (%llu size reductions, smallest batch %llu items)",
		    (unsigned long long)result->items_completed,
		    (unsigned long long)result->batches, (unsigned long long)result->reductions,
		    (unsigned long long)result->smallest_batch_size);
		return;
	}
	fmt_format(result->message, sizeof(result->message), "stopped at item %llu of %llu: "
	    "%s (errno %d); the first %llu items are complete", (unsigned long long)
	    result->first_failed_item, (unsigned long long)result->items_total,
	    error == ECANCELED ? "the checkpoint callback asked to stop"
	    : strerror_r(error, buffer, sizeof(buffer)), error,
	    (unsigned long long)result->items_completed);
}

SX_EXPORT int
safeexec_batch(uint64_t items, safeexec_batch_fn fn, void *arg,
    const struct safeexec_batch_options *options, struct safeexec_batch_result *result)
{
	struct safeexec_batch_result local;
	batch_t batch;
	int error = 0;

	if (result == NULL) {
		result = &local;
	}
	batch_setup(&batch, items, options, result);
	if (fn == NULL) {
		result->error = EINVAL;
		fmt_format(result->message, sizeof(result->message), "invalid argument: fn is "
		    "NULL");
		return EINVAL;
	}

	api_stats_add(&api_stats.batch_runs, 1);
	if (items > 0) {
		error = batch_run(&batch, fn, arg);
	}
	result->error = error;
	result->first_failed_item = error != 0 ? result->items_completed : items;
	result->item_bytes = batch.options.item_bytes > 0 ? batch.options.item_bytes
	    : batch.learned_item_bytes;
	result->elapsed_ms = log_monotonic_ms() - batch.start_ms;
	batch_describe(&batch, error);
	if (error != 0) {
		api_stats_add(&api_stats.batch_failures, 1);
		log_message(LOG_LEVEL_WARN, "safeexec_batch: %s", result->message);
	} else {
		log_message(LOG_LEVEL_INFO, "safeexec_batch: %s", result->message);
	}
	return error;
}
