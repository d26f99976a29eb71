/* The API's counters for the summary that safeexec_shutdown logs. */
#ifndef SX_API_SCOPE_H
#define SX_API_SCOPE_H

#include <stdatomic.h>
#include <stdint.h>

#include "common.h"

typedef struct {
	_Atomic uint64_t executions;
	_Atomic uint64_t execution_failures;
	_Atomic uint64_t attempts;
	_Atomic uint64_t refusals;
	_Atomic uint64_t reductions;
	_Atomic uint64_t cleanups;
	_Atomic uint64_t predictions_hint;
	_Atomic uint64_t predictions_history;
	_Atomic uint64_t batch_runs;
	_Atomic uint64_t batch_failures;
	_Atomic uint64_t batches;
	_Atomic uint64_t batch_items;
	_Atomic uint64_t batch_reductions;
	_Atomic uint64_t throttle_calls;
	_Atomic uint64_t throttle_timeouts;
	_Atomic uint64_t throttle_waited_ms;
} api_stats_t;

SX_HIDDEN extern api_stats_t api_stats;

static inline void
api_stats_add(_Atomic uint64_t *counter, uint64_t amount)
{
	atomic_fetch_add_explicit(counter, amount, memory_order_relaxed);
}

#endif
