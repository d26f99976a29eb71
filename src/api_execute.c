/*
 * safeexec_execute: health check, prediction, margin check, measured run,
 * retries with backoff. The steps are listed in safeexec.h.
 */
#include <errno.h>
#include <string.h>

#include "api_measure.h"
#include "api_predictor.h"
#include "api_scope.h"
#include "api_status.h"
#include "api_throttle.h"
#include "cleanup.h"
#include "fmt.h"
#include "log.h"
#include "options.h"
#include "safeexec.h"

#define EXECUTE_DEFAULT_ATTEMPTS 3
#define EXECUTE_DEFAULT_BACKOFF_MS 100
#define EXECUTE_DEFAULT_BACKOFF_MAX_MS 5000
/* Max calls of reduce in one margin check, for a callback that never returns nonzero. */
#define EXECUTE_REDUCTIONS_PER_CHECK_MAX 16
#define EXECUTE_POLL_MS 50

typedef struct {
	struct safeexec_exec_options options;  /* defaults applied; params change on reduce */
	struct safeexec_exec_result *result;
	char operation[SAFEEXEC_OPERATION_MAX]; /* normalized; empty: no history */
	uint64_t hint_bytes;                    /* the caller's estimate, scaled by reductions */
	uint64_t start_ms;
} execute_t;

SX_EXPORT void
safeexec_exec_options_init(struct safeexec_exec_options *out)
{
	if (out == NULL) {
		return;
	}
	memset(out, 0, sizeof(*out));
	out->max_attempts = EXECUTE_DEFAULT_ATTEMPTS;
	out->backoff_initial_ms = EXECUTE_DEFAULT_BACKOFF_MS;
	out->backoff_max_ms = EXECUTE_DEFAULT_BACKOFF_MAX_MS;
	out->wait_max_ms = options.stall_timeout_ms;
}

static void
execute_setup(execute_t *execute, const struct safeexec_exec_options *options,
    struct safeexec_exec_result *result)
{
	memset(execute, 0, sizeof(*execute));
	if (options != NULL) {
		execute->options = *options;
	} else {
		safeexec_exec_options_init(&execute->options);
	}
	if (execute->options.max_attempts == 0) {
		execute->options.max_attempts = EXECUTE_DEFAULT_ATTEMPTS;
	}
	if (execute->options.param_count < 0) {
		execute->options.param_count = 0;
	} else if (execute->options.param_count > SAFEEXEC_PARAMS_MAX) {
		execute->options.param_count = SAFEEXEC_PARAMS_MAX;
	}
	if (!(execute->options.flags & SAFEEXEC_EXEC_NO_HISTORY)) {
		execute->options.operation[SAFEEXEC_OPERATION_MAX - 1] = '\0';
		predictor_normalize_name(execute->options.operation, execute->operation);
	}
	execute->hint_bytes = execute->options.predicted_bytes;
	execute->result = result;
	execute->start_ms = log_monotonic_ms();
	memset(result, 0, sizeof(*result));
	fmt_format(result->prediction_source, sizeof(result->prediction_source), "none");
}

/* Sets result->predicted_bytes and prediction_source for the current params. */
static void
execute_predict(execute_t *execute)
{
	struct safeexec_exec_result *result = execute->result;
	prediction_t prediction;

	result->predicted_bytes = 0;
	fmt_format(result->prediction_source, sizeof(result->prediction_source), "none");
	if (execute->hint_bytes > 0) {
		result->predicted_bytes = execute->hint_bytes;
		fmt_format(result->prediction_source, sizeof(result->prediction_source), "hint");
		api_stats_add(&api_stats.predictions_hint, 1);
		return;
	}
	if (execute->operation[0] == '\0') {
		return;
	}
	predictor_predict(execute->operation, execute->options.params,
	    execute->options.param_count, &prediction);
	if (prediction.method != PREDICTION_NONE) {
		result->predicted_bytes = prediction.bytes;
		fmt_format(result->prediction_source, sizeof(result->prediction_source),
		    "history");
		api_stats_add(&api_stats.predictions_history, 1);
	}
}

/* Calls the caller's reduce; scales a hint by the change of the size params. */
static bool
execute_reduce(execute_t *execute, const char *why)
{
	struct safeexec_exec_options *options = &execute->options;
	double before, after;

	if (options->reduce == NULL) {
		return false;
	}
	before = predictor_size_of(options->params, options->param_count);
	if (options->reduce(execute->result->reductions + 1, options->params,
	    options->reduce_arg) != 0) {
		return false;
	}
	execute->result->reductions++;
	api_stats_add(&api_stats.reductions, 1);
	after = predictor_size_of(options->params, options->param_count);
	if (execute->hint_bytes > 0 && before > 0 && after > 0 && after < before) {
		execute->hint_bytes = (uint64_t)((double)execute->hint_bytes * after / before);
	}
	log_message(LOG_LEVEL_INFO, "safeexec_execute %s: workload reduction %u (%s)",
	    execute->operation[0] != '\0' ? execute->operation : "-",
	    execute->result->reductions, why);
	return true;
}

static void
execute_cleanup(execute_t *execute, const char *reason)
{
	cleanup_run_all(reason);
	execute->result->cleanups++;
	api_stats_add(&api_stats.cleanups, 1);
}

static bool
execute_fits(const execute_t *execute)
{
	return execute->result->predicted_bytes <= api_work_headroom();
}

/* Waits up to wait_max_ms for the prediction to fit; returns true when it does. */
static bool
execute_wait_to_fit(execute_t *execute)
{
	uint64_t start_ms = log_monotonic_ms(), elapsed_ms = 0;
	bool fits = false;

	while (!fits && elapsed_ms < execute->options.wait_max_ms) {
		uint64_t left_ms = execute->options.wait_max_ms - elapsed_ms;

		api_sleep_ms(left_ms < EXECUTE_POLL_MS ? left_ms : EXECUTE_POLL_MS);
		elapsed_ms = log_monotonic_ms() - start_ms;
		fits = execute_fits(execute);
	}
	execute->result->waited_ms += elapsed_ms;
	return fits;
}

/*
 * The margin check before an attempt: returns 0 when the prediction is
 * unknown or fits, or ENOMEM after cleanup, waiting and reductions failed.
 */
static int
execute_check_margin(execute_t *execute)
{
	struct safeexec_exec_result *result = execute->result;
	char reason[160];
	unsigned reductions = 0;

	execute_predict(execute);
	if (result->predicted_bytes == 0 || execute_fits(execute)) {
		return 0;
	}

	fmt_format(reason, sizeof(reason), "safeexec_execute %s: predicted %llu MB exceeds "
	    "the headroom", execute->operation[0] != '\0' ? execute->operation : "-",
	    (unsigned long long)(result->predicted_bytes / SX_MIB));
	execute_cleanup(execute, reason);
	if (execute_fits(execute)) {
		return 0;
	}
	if (!(execute->options.flags & SAFEEXEC_EXEC_NO_WAIT) && execute_wait_to_fit(execute)) {
		return 0;
	}
	while (reductions++ < EXECUTE_REDUCTIONS_PER_CHECK_MAX
	    && execute_reduce(execute, "prediction exceeds the headroom")) {
		execute_predict(execute);
		if (execute_fits(execute)) {
			return 0;
		}
	}

	result->refused = 1;
	return ENOMEM;
}

/* Runs fn once with measurement; records the peak of a successful run. */
static int
execute_attempt(execute_t *execute, safeexec_fn fn, void *arg)
{
	struct safeexec_exec_result *result = execute->result;
	measure_t measure;
	measure_result_t measured;
	int error;

	measure_start(&measure);
	error = fn(arg);
	measure_stop(&measure, &measured);

	result->attempts++;
	api_stats_add(&api_stats.attempts, 1);
	result->peak_bytes = measured.peak_bytes;
	result->peak_thread_bytes = measured.thread_peak_bytes;
	result->peak_process_bytes = measured.process_peak_bytes;
	if (error == 0 && execute->operation[0] != '\0' && measured.peak_bytes > 0) {
		predictor_record(execute->operation, execute->options.params,
		    execute->options.param_count, measured.peak_bytes);
	}
	return error;
}

/* The health check before an attempt: 0, or EAGAIN under SAFEEXEC_EXEC_REQUIRE_HEALTHY. */
static int
execute_check_health(execute_t *execute)
{
	api_health_t health;
	uint64_t waited_ms = 0;
	int error;

	error = api_throttle_wait(execute->options.wait_max_ms, true, GATE_POINT_THROTTLE,
	    "safeexec_execute", &health, &waited_ms);
	execute->result->waited_ms += waited_ms;
	if (error != 0 && (execute->options.flags & SAFEEXEC_EXEC_REQUIRE_HEALTHY)) {
		return EAGAIN;
	}
	return 0;
}

static void
execute_describe(execute_t *execute, int error)
{
	struct safeexec_exec_result *result = execute->result;
	char buffer[64];
	const char *errno_text;

	if (error == 0) {
		fmt_format(result->message, sizeof(result->message), "completed after %u "
		    "attempts: peak %llu MB, predicted %llu MB (%s)", result->attempts,
		    (unsigned long long)(result->peak_bytes / SX_MIB),
		    (unsigned long long)(result->predicted_bytes / SX_MIB),
		    result->prediction_source);
		return;
	}
	errno_text = strerror_r(error, buffer, sizeof(buffer));
	if (result->refused) {
		fmt_format(result->message, sizeof(result->message), "refused: predicted %llu "
		    "MB (%s) exceeds the memory headroom of %llu MB after cleanup, waiting "
		    "and %u reductions", (unsigned long long)(result->predicted_bytes / SX_MIB),
		    result->prediction_source,
		    (unsigned long long)(api_work_headroom() / SX_MIB), result->reductions);
	} else {
		fmt_format(result->message, sizeof(result->message), "failed after %u "
		    "attempts: %s (errno %d)", result->attempts, errno_text, error);
	}
}

/* Sleeps before the next attempt and doubles the delay, up to backoff_max_ms. */
static void
execute_back_off(execute_t *execute, uint64_t *backoff_ms, int error)
{
	log_message(LOG_LEVEL_INFO, "safeexec_execute %s: attempt %u of %u failed (errno "
	    "%d); retrying in %llu ms", execute->operation[0] != '\0' ? execute->operation
	    : "-", execute->result->attempts, execute->options.max_attempts, error,
	    (unsigned long long)*backoff_ms);
	api_sleep_ms(*backoff_ms);
	execute->result->waited_ms += *backoff_ms;
	*backoff_ms = *backoff_ms > UINT64_MAX / 2 ? UINT64_MAX : *backoff_ms * 2;
	if (*backoff_ms > execute->options.backoff_max_ms) {
		*backoff_ms = execute->options.backoff_max_ms;
	}
}

static int
execute_run(execute_t *execute, safeexec_fn fn, void *arg)
{
	uint64_t backoff_ms = execute->options.backoff_initial_ms;
	char reason[96];
	int error;

	if (backoff_ms > execute->options.backoff_max_ms) {
		execute->options.backoff_max_ms = backoff_ms;
	}
	for (;;) {
		error = execute_check_health(execute);
		if (error == 0) {
			error = execute_check_margin(execute);
		}
		if (error != 0) {
			return error;
		}
		error = execute_attempt(execute, fn, arg);
		if (error == 0 || execute->result->attempts >= execute->options.max_attempts) {
			return error;
		}
		if (error == ENOMEM) {
			fmt_format(reason, sizeof(reason), "safeexec_execute %s: attempt %u ran "
			    "out of memory", execute->operation[0] != '\0' ? execute->operation
			    : "-", execute->result->attempts);
			execute_cleanup(execute, reason);
			execute_reduce(execute, "the last attempt ran out of memory");
		}
		execute_back_off(execute, &backoff_ms, error);
	}
}

SX_EXPORT int
safeexec_execute(safeexec_fn fn, void *arg, const struct safeexec_exec_options *options,
    struct safeexec_exec_result *result)
{
	struct safeexec_exec_result local;
	execute_t execute;
	int error;

	if (result == NULL) {
		result = &local;
	}
	execute_setup(&execute, options, result);
	if (fn == NULL) {
		result->error = EINVAL;
		fmt_format(result->message, sizeof(result->message), "invalid argument: fn is "
		    "NULL");
		return EINVAL;
	}

	api_stats_add(&api_stats.executions, 1);
	error = execute_run(&execute, fn, arg);
	result->error = error;
	result->elapsed_ms = log_monotonic_ms() - execute.start_ms;
	execute_describe(&execute, error);
	if (error != 0) {
		api_stats_add(&api_stats.execution_failures, 1);
		api_stats_add(&api_stats.refusals, result->refused ? 1 : 0);
		log_message(LOG_LEVEL_WARN, "safeexec_execute %s: %s",
		    execute.operation[0] != '\0' ? execute.operation : "-", result->message);
	} else {
		log_message(LOG_LEVEL_DEBUG, "safeexec_execute %s: %s",
		    execute.operation[0] != '\0' ? execute.operation : "-", result->message);
	}
	return error;
}
