/*
 * The batch executor's state and its sizing policy, shared by api_batch.c
 * (the run loop) and api_batch_size.c (how many items the next batch gets).
 */
#ifndef SX_API_BATCH_H
#define SX_API_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "api_status.h"
#include "common.h"
#include "safeexec.h"

/* First batch when nothing bounds it: no batch_size, per-item memory, cache or max. */
#define BATCH_DEFAULT_FIRST_ITEMS 1024
/*
 * Share of the work headroom (api_work_headroom) one batch may be predicted
 * to use. The rest absorbs prediction error and the program's other
 * allocations during the batch.
 */
#define BATCH_HEADROOM_SHARE 0.8
/* Successful batches in a row after which the size may double again. */
#define BATCH_GROW_AFTER 4

typedef struct {
	struct safeexec_batch_options options;  /* defaults applied */
	struct safeexec_batch_result *result;
	char operation[SAFEEXEC_OPERATION_MAX]; /* normalized; empty: no history */
	uint64_t size;                  /* items in the next batch */
	uint64_t ceiling;               /* largest size not known to fail with ENOMEM */
	uint64_t cache_bound;           /* UINT64_MAX when no working set was given */
	uint64_t learned_item_bytes;    /* per-item peak of the last successful batch */
	unsigned successes_at_size;
	uint64_t start_ms;
} batch_t;

/*
 * Predicts the peak bytes of a batch of count items: from item_bytes, else
 * from the history of operation, else from this run's measurements.
 * Returns false when nothing is known yet.
 */
SX_HIDDEN bool batch_predict(const batch_t *batch, uint64_t count, uint64_t *bytes);

/* Chooses the first batch size; sets batch->size and result->first_batch_size. */
SX_HIDDEN void batch_size_first(batch_t *batch);

/*
 * Chooses the size of the next batch from the current size and the items
 * left: shrinks it when the memory headroom or memory pressure requires,
 * grows it back after BATCH_GROW_AFTER successes. Logs and counts
 * reductions. *predicted_bytes receives the batch's prediction, 0 if unknown.
 */
SX_HIDDEN uint64_t batch_size_next(batch_t *batch, uint64_t items_left,
    const api_health_t *health, uint64_t *predicted_bytes);

/* Counts a reduction from batch->size to size and logs why. */
SX_HIDDEN void batch_size_reduce(batch_t *batch, uint64_t size, const char *why);

#endif
