/*
 * Explicit scope of the API: safeexec_init, safeexec_shutdown and its
 * summary, and saving the history file at exit for programs that never
 * call safeexec_shutdown.
 */
#include <stdatomic.h>
#include <unistd.h>

#include "api_predictor.h"
#include "api_scope.h"
#include "log.h"
#include "options.h"
#include "safeexec.h"

api_stats_t api_stats;

static _Atomic uint64_t scope_start_ms;

SX_EXPORT int
safeexec_api_version(void)
{
	return SAFEEXEC_API_VERSION;
}

SX_EXPORT int
safeexec_init(void)
{
	uint64_t unset = 0;

	predictor_load_once();
	if (atomic_compare_exchange_strong(&scope_start_ms, &unset, log_monotonic_ms())) {
		log_message(LOG_LEVEL_INFO, "API initialised in pid %d; history file: %s",
		    (int)getpid(), options.history_file[0] != '\0' ? options.history_file
		    : "none");
	}
	return 0;
}

static void
scope_log_summary(void)
{
	uint64_t start_ms = atomic_load(&scope_start_ms);

	log_message(LOG_LEVEL_INFO, "API summary for pid %d after %llu ms: %llu executions "
	    "(%llu failed, %llu attempts, %llu refused, %llu reductions, %llu cleanup runs; "
	    "predictions: %llu from hints, %llu from history)", (int)getpid(),
	    start_ms != 0 ? (unsigned long long)(log_monotonic_ms() - start_ms) : 0ULL,
	    (unsigned long long)atomic_load(&api_stats.executions),
	    (unsigned long long)atomic_load(&api_stats.execution_failures),
	    (unsigned long long)atomic_load(&api_stats.attempts),
	    (unsigned long long)atomic_load(&api_stats.refusals),
	    (unsigned long long)atomic_load(&api_stats.reductions),
	    (unsigned long long)atomic_load(&api_stats.cleanups),
	    (unsigned long long)atomic_load(&api_stats.predictions_hint),
	    (unsigned long long)atomic_load(&api_stats.predictions_history));
	log_message(LOG_LEVEL_INFO, "API summary for pid %d: %llu batch runs (%llu failed), "
	    "%llu batches, %llu items, %llu batch size reductions; %llu throttle calls "
	    "(%llu timed out, %llu ms waited)", (int)getpid(),
	    (unsigned long long)atomic_load(&api_stats.batch_runs),
	    (unsigned long long)atomic_load(&api_stats.batch_failures),
	    (unsigned long long)atomic_load(&api_stats.batches),
	    (unsigned long long)atomic_load(&api_stats.batch_items),
	    (unsigned long long)atomic_load(&api_stats.batch_reductions),
	    (unsigned long long)atomic_load(&api_stats.throttle_calls),
	    (unsigned long long)atomic_load(&api_stats.throttle_timeouts),
	    (unsigned long long)atomic_load(&api_stats.throttle_waited_ms));
}

SX_EXPORT int
safeexec_shutdown(void)
{
	scope_log_summary();
	return predictor_save_if_changed();
}

/* Saves the history of programs that exit without safeexec_shutdown. */
__attribute__((destructor)) static void
scope_save_at_exit(void)
{
	predictor_save_if_changed();
}
