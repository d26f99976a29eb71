/* How many items each batch gets; see api_batch.h. */
#include <string.h>

#include "api_batch.h"
#include "api_predictor.h"
#include "api_scope.h"
#include "log.h"

static uint64_t
batch_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t
batch_multiply_saturating(uint64_t a, uint64_t b)
{
	return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

bool
batch_predict(const batch_t *batch, uint64_t count, uint64_t *bytes)
{
	prediction_t prediction;
	double params[1] = { (double)count };

	if (batch->options.item_bytes > 0) {
		*bytes = batch_multiply_saturating(count, batch->options.item_bytes);
		return true;
	}
	if (batch->operation[0] != '\0') {
		predictor_predict(batch->operation, params, 1, &prediction);
		if (prediction.method != PREDICTION_NONE) {
			*bytes = prediction.bytes;
			return true;
		}
	}
	if (batch->learned_item_bytes > 0) {
		*bytes = batch_multiply_saturating(count, batch->learned_item_bytes);
		return true;
	}
	*bytes = 0;
	return false;
}

/*
 * The largest count up to limit whose prediction fits budget_bytes, at
 * least 1; limit when nothing is known. Binary search, because the
 * prediction grows with the count (the fit's slope is never negative).
 */
static uint64_t
batch_memory_bound(const batch_t *batch, uint64_t limit, uint64_t budget_bytes)
{
	uint64_t low = 1, high = limit, bytes;

	if (budget_bytes == UINT64_MAX || !batch_predict(batch, 1, &bytes)) {
		return limit;
	}
	if (bytes > budget_bytes) {
		return 1;
	}
	while (low < high) {
		uint64_t middle = low + (high - low + 1) / 2;

		batch_predict(batch, middle, &bytes);
		if (bytes <= budget_bytes) {
			low = middle;
		} else {
			high = middle - 1;
		}
	}
	return low;
}

static uint64_t
batch_budget_bytes(void)
{
	uint64_t headroom = api_work_headroom();

	return headroom == UINT64_MAX ? UINT64_MAX
	    : (uint64_t)((double)headroom * BATCH_HEADROOM_SHARE);
}

/* The bounds that apply to every batch: items left, max_batch_size, the cache. */
static uint64_t
batch_static_bound(const batch_t *batch, uint64_t items_left)
{
	uint64_t bound = batch_min(items_left, batch->cache_bound);

	if (batch->options.max_batch_size > 0) {
		bound = batch_min(bound, batch->options.max_batch_size);
	}
	return bound < 1 ? 1 : bound;
}

void
batch_size_first(batch_t *batch)
{
	uint64_t items = batch->result->items_total, size, unknown_bytes;
	bool nothing_known;

	nothing_known = batch->options.batch_size == 0
	    && !batch_predict(batch, 1, &unknown_bytes)
	    && batch->cache_bound == UINT64_MAX && batch->options.max_batch_size == 0;
	if (batch->options.batch_size > 0) {
		size = batch->options.batch_size;
	} else if (nothing_known) {
		size = BATCH_DEFAULT_FIRST_ITEMS;
	} else {
		size = batch_memory_bound(batch, batch_static_bound(batch, items),
		    batch_budget_bytes());
	}
	size = batch_min(size, batch_static_bound(batch, items));
	batch->size = size;
	batch->result->first_batch_size = size;
	batch->result->smallest_batch_size = size;
}

void
batch_size_reduce(batch_t *batch, uint64_t size, const char *why)
{
	log_message(LOG_LEVEL_INFO, "batch size reduced from %llu to %llu items: %s",
	    (unsigned long long)batch->size, (unsigned long long)size, why);
	batch->size = size;
	batch->successes_at_size = 0;
	batch->result->reductions++;
	api_stats_add(&api_stats.batch_reductions, 1);
}

/* Doubles the size after enough successes, up to the first size and below any failed size. */
static void
batch_size_grow(batch_t *batch)
{
	uint64_t grown = batch_multiply_saturating(batch->size, 2);

	if (batch->successes_at_size < BATCH_GROW_AFTER) {
		return;
	}
	grown = batch_min(grown, batch_min(batch->ceiling, batch->result->first_batch_size));
	if (grown > batch->size) {
		log_message(LOG_LEVEL_DEBUG, "batch size raised from %llu to %llu items",
		    (unsigned long long)batch->size, (unsigned long long)grown);
		batch->size = grown;
		batch->successes_at_size = 0;
	}
}

uint64_t
batch_size_next(batch_t *batch, uint64_t items_left, const api_health_t *health,
    uint64_t *predicted_bytes)
{
	uint64_t budget = batch_budget_bytes(), bound, size;

	batch_size_grow(batch);
	if (health->memory_pressure && batch->size > 1) {
		batch_size_reduce(batch, batch->size / 2, "memory pressure (PSI) is above "
		    "psi_threshold");
	}

	bound = batch_memory_bound(batch, batch_min(batch->size, items_left), budget);
	if (bound < batch_min(batch->size, items_left)) {
		batch_size_reduce(batch, bound, "the predicted batch memory exceeds the "
		    "headroom");
	}
	size = batch_min(batch->size, batch_static_bound(batch, items_left));
	if (!batch_predict(batch, size, predicted_bytes)) {
		*predicted_bytes = 0;
	}
	return size;
}
