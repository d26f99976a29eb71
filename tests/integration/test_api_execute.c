/*
 * The public API in real processes linked with -lsafeexec: safeexec_execute
 * (measurement, retries, backoff, refusal, reductions, history),
 * cleanup hooks, safeexec_status and safeexec_throttle.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api_scenario.h"
#include "safeexec.h"

#define MIB (1024ULL * 1024)

/* ------------------------------------------------------------ scenarios */

static uint64_t
now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/* Allocates, touches and frees *(uint64_t *)arg bytes. */
static int
touch_bytes(void *arg)
{
	uint64_t bytes = *(uint64_t *)arg;
	char *block = malloc(bytes);

	if (block == NULL) {
		return ENOMEM;
	}
	touch_pages(block, bytes);
	free(block);
	return 0;
}

static void
print_result(const struct safeexec_exec_result *result)
{
	printf("error=%d\nrefused=%d\nattempts=%u\nreductions=%u\ncleanups=%u\n"
	    "elapsed_ms=%llu\nwaited_ms=%llu\npredicted=%llu\nsource=%s\npeak=%llu\n"
	    "peak_thread=%llu\nmessage=%s\n", result->error, result->refused,
	    result->attempts, result->reductions, result->cleanups,
	    (unsigned long long)result->elapsed_ms, (unsigned long long)result->waited_ms,
	    (unsigned long long)result->predicted_bytes, result->prediction_source,
	    (unsigned long long)result->peak_bytes,
	    (unsigned long long)result->peak_thread_bytes, result->message);
}

static int
scenario_peak(void)
{
	struct safeexec_exec_result result;
	uint64_t bytes = 64 * MIB;
	int error = safeexec_execute(touch_bytes, &bytes, NULL, &result);

	print_result(&result);
	return error;
}

/* Fails with the errno in fail_with for the first `failures` calls, recording call times. */
struct flaky {
	int failures;
	int fail_with;
	int calls;
	uint64_t call_ms[8];
};

static int
flaky_call(void *arg)
{
	struct flaky *flaky = arg;

	if (flaky->calls < 8) {
		flaky->call_ms[flaky->calls] = now_ms();
	}
	return flaky->calls++ < flaky->failures ? flaky->fail_with : 0;
}

static void
print_gaps(const struct flaky *flaky)
{
	int i;

	printf("calls=%d\n", flaky->calls);
	for (i = 1; i < flaky->calls && i < 8; i++) {
		printf("gap%d=%llu\n", i, (unsigned long long)(flaky->call_ms[i]
		    - flaky->call_ms[i - 1]));
	}
}

static int
scenario_retry(int failures, unsigned attempts, uint64_t initial_ms, uint64_t max_ms)
{
	struct safeexec_exec_options options;
	struct safeexec_exec_result result;
	struct flaky flaky = { failures, EIO, 0, { 0 } };

	safeexec_exec_options_init(&options);
	options.max_attempts = attempts;
	options.backoff_initial_ms = initial_ms;
	options.backoff_max_ms = max_ms;
	safeexec_execute(flaky_call, &flaky, &options, &result);
	print_result(&result);
	print_gaps(&flaky);
	return 0;
}

static int hook_runs;

static size_t
count_hook(void *arg)
{
	(void)arg;
	hook_runs++;
	return 0;
}

/* Calls of halve_first_param and the first parameter it left. */
struct reduce_state {
	int calls;
	double param0;
};

static int
halve_first_param(unsigned reduction, double params[SAFEEXEC_PARAMS_MAX], void *arg)
{
	struct reduce_state *state = arg;

	(void)reduction;
	if (params[0] < 2) {
		return 1;
	}
	params[0] /= 2;
	state->calls++;
	state->param0 = params[0];
	return 0;
}


static int
scenario_enomem_reduce(void)
{
	struct safeexec_exec_options options;
	struct safeexec_exec_result result;
	struct flaky flaky = { 1, ENOMEM, 0, { 0 } };
	struct reduce_state reduce = { 0, 0 };

	safeexec_cleanup_register(count_hook, NULL, 50, "count");
	safeexec_exec_options_init(&options);
	options.params[0] = 1024;
	options.param_count = 1;
	options.backoff_initial_ms = 20;
	options.reduce = halve_first_param;
	options.reduce_arg = &reduce;
	safeexec_execute(flaky_call, &flaky, &options, &result);
	print_result(&result);
	print_gaps(&flaky);
	printf("reduce_calls=%d\nhook_runs=%d\nparam0=%.0f\n", reduce.calls, hook_runs,
	    reduce.param0);
	return 0;
}

static char hook_order[64];

static size_t
order_hook(void *arg)
{
	strncat(hook_order, (const char *)arg, sizeof(hook_order) - strlen(hook_order) - 1);
	return 0;
}

/* arg: "nowait", "wait" or "reduce". Asks for 4 GiB under a 256 MiB budget. */
static int
scenario_refusal(const char *mode)
{
	struct safeexec_exec_options options;
	struct safeexec_exec_result result;
	struct flaky flaky = { 0, 0, 0, { 0 } };
	struct reduce_state reduce = { 0, 0 };

	safeexec_cleanup_register(order_hook, "b", 5, "second");
	safeexec_cleanup_register(order_hook, "a", -1, "first");
	safeexec_cleanup_register(order_hook, "c", 10, "third");
	safeexec_exec_options_init(&options);
	snprintf(options.operation, sizeof(options.operation), "huge");
	options.predicted_bytes = 4096 * MIB;
	options.params[0] = 4096;
	options.param_count = 1;
	if (strcmp(mode, "nowait") == 0) {
		options.flags = SAFEEXEC_EXEC_NO_WAIT;
	} else if (strcmp(mode, "wait") == 0) {
		options.wait_max_ms = 300;
	} else {
		options.flags = SAFEEXEC_EXEC_NO_WAIT;
		options.reduce = halve_first_param;
		options.reduce_arg = &reduce;
	}
	safeexec_execute(flaky_call, &flaky, &options, &result);
	print_result(&result);
	printf("calls=%d\norder=%s\nreduce_calls=%d\nparam0=%.0f\n", flaky.calls, hook_order,
	    reduce.calls, reduce.param0);
	return 0;
}

/* Runs "touch" with a size in MiB and prints the prediction and the measured peak. */
static void
run_touch(const char *label, uint64_t mib)
{
	struct safeexec_exec_options options;
	struct safeexec_exec_result result;
	uint64_t bytes = mib * MIB;

	safeexec_exec_options_init(&options);
	snprintf(options.operation, sizeof(options.operation), "touch");
	options.params[0] = (double)mib;
	options.param_count = 1;
	safeexec_execute(touch_bytes, &bytes, &options, &result);
	printf("%s_predicted=%llu\n%s_peak=%llu\n%s_source=%s\n%s_error=%d\n", label,
	    (unsigned long long)result.predicted_bytes, label,
	    (unsigned long long)result.peak_bytes, label, result.prediction_source, label,
	    result.error);
}

static int
scenario_predict_repeat(void)
{
	run_touch("first", 32);
	run_touch("second", 32);
	run_touch("third", 32);
	run_touch("small", 16);
	run_touch("medium", 48);
	run_touch("large", 64);
	return 0;
}

static int
scenario_history_save(void)
{
	run_touch("save", 8);
	/* No safeexec_shutdown: the history must be written at exit. */
	return 0;
}

static int
scenario_history_load(void)
{
	double params[1] = { 8 };

	safeexec_init();
	printf("predict=%llu\n", (unsigned long long)safeexec_predict("touch", params, 1));
	run_touch("load", 8);
	return safeexec_shutdown();
}

/* Waits up to 60 s for path to exist; returns 0 when it does. */
static int
wait_for_file(const char *path)
{
	struct timespec pause = { 0, 1000000 };
	int i;

	for (i = 0; i < 60000; i++) {
		if (access(path, F_OK) == 0) {
			return 0;
		}
		nanosleep(&pause, NULL);
	}
	return ETIMEDOUT;
}

/*
 * Records samples of "run_<label>" and of "shared", signals readiness with
 * the file "<SAFEEXEC_TEST_GO_FILE>.ready.<label>", waits for the go file
 * and exits without safeexec_shutdown, so that the history is saved at exit
 * at about the same moment as the other runs' histories.
 */
static int
scenario_history_record(const char *label)
{
	const char *go = getenv("SAFEEXEC_TEST_GO_FILE");
	char operation[SAFEEXEC_OPERATION_MAX], ready[1024];
	double params[1] = { 10 };
	int i, fd;

	if (go == NULL) {
		return 2;
	}
	snprintf(operation, sizeof(operation), "run_%s", label);
	for (i = 0; i < 5; i++) {
		if (safeexec_record(operation, params, 1, 4096) != 0
		    || safeexec_record("shared", params, 1, 4096) != 0) {
			return 3;
		}
	}
	snprintf(ready, sizeof(ready), "%s.ready.%s", go, label);
	fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		return 4;
	}
	close(fd);
	return wait_for_file(go) == 0 ? 0 : 5;
}

static int
scenario_status(void)
{
	struct safeexec_status status;
	int error = safeexec_status(&status);

	printf("rc=%d\nactive=%d\nhealthy=%d\nreason=%s\nlimit=%llu\nsource=%s\nmargin=%llu\n"
	    "headroom=%llu\nfootprint=%llu\npsi_memory=%f\ntemperature=%f\n"
	    "thermal_limit=%f\nnull_rc=%d\n", error, status.shim_active, status.healthy,
	    status.unhealthy_reason, (unsigned long long)status.limit_bytes,
	    status.limit_source, (unsigned long long)status.margin_bytes,
	    (unsigned long long)status.headroom_bytes,
	    (unsigned long long)status.footprint_bytes, status.psi_memory_some_avg10,
	    status.temperature_celsius, status.thermal_limit_celsius,
	    safeexec_status(NULL));
	return 0;
}

static char *held_blocks[32];

/* Holds small blocks (below the governor's threshold) to fill a tiny budget. */
static int
scenario_throttle(const char *max_wait)
{
	uint64_t start = now_ms();
	int block_rc = -1, i;

	for (i = 0; i < 32; i++) {
		held_blocks[i] = malloc(512 * 1024);
		touch_pages(held_blocks[i], 512 * 1024);
	}
	SAFEEXEC_THROTTLED(strtoull(max_wait, NULL, 10)) {
		block_rc = safeexec_throttle_rc;
	}
	printf("throttle_rc=%d\nelapsed_ms=%llu\n", block_rc, (unsigned long long)(now_ms() - start));
	return scenario_status();
}

static int
scenario_main(const char *name, const char *arg)
{
	if (strcmp(name, "peak") == 0) {
		return scenario_peak();
	} else if (strcmp(name, "retry") == 0) {
		return scenario_retry(2, 3, 100, 1000);
	} else if (strcmp(name, "retry_exhausted") == 0) {
		return scenario_retry(100, 4, 50, 120);
	} else if (strcmp(name, "enomem_reduce") == 0) {
		return scenario_enomem_reduce();
	} else if (strcmp(name, "refusal") == 0) {
		return scenario_refusal(arg);
	} else if (strcmp(name, "predict_repeat") == 0) {
		return scenario_predict_repeat();
	} else if (strcmp(name, "history_save") == 0) {
		return scenario_history_save();
	} else if (strcmp(name, "history_load") == 0) {
		return scenario_history_load();
	} else if (strcmp(name, "history_record") == 0) {
		return scenario_history_record(arg);
	} else if (strcmp(name, "status") == 0) {
		return scenario_status();
	} else if (strcmp(name, "throttle") == 0) {
		return scenario_throttle(arg);
	}
	fprintf(stderr, "unknown scenario %s\n", name);
	return 2;
}

/* ---------------------------------------------------------------- tests */

#define OUT(key) api_output_value(result.out, key)

START_TEST(thread_peak_measures_allocation)
{
	char *env[] = { API_CALM_ENV, NULL };
	run_result_t result;

	api_scenario_run("peak", NULL, env, &result);
	ck_assert_int_eq((int)OUT("error"), 0);
	ck_assert_int_eq((int)OUT("attempts"), 1);
	/* jemalloc's thread.peak.read works in the private build: 64 MiB seen. */
	ck_assert_double_ge(OUT("peak_thread"), 64.0 * MIB);
	ck_assert_double_le(OUT("peak_thread"), 68.0 * MIB);
	ck_assert_double_ge(OUT("peak"), OUT("peak_thread"));
	test_run_free(&result);
}
END_TEST

START_TEST(retry_backs_off_then_succeeds)
{
	char *env[] = { API_CALM_ENV, "SAFEEXEC_LOG_LEVEL=info", NULL };
	run_result_t result;

	api_scenario_run("retry", NULL, env, &result);
	ck_assert_int_eq((int)OUT("error"), 0);
	ck_assert_int_eq((int)OUT("attempts"), 3);
	ck_assert_int_eq((int)OUT("calls"), 3);
	/* 100 ms, then doubled to 200 ms; the upper bounds only catch runaway waits. */
	ck_assert_double_ge(OUT("gap1"), 100);
	ck_assert_double_lt(OUT("gap1"), 5000);
	ck_assert_double_ge(OUT("gap2"), 200);
	ck_assert_double_lt(OUT("gap2"), 5000);
	ck_assert_double_ge(OUT("waited_ms"), 300);
	ck_assert_ptr_nonnull(strstr(result.err, "attempt 1 of 3 failed (errno 5); retrying "
	    "in 100 ms"));
	test_run_free(&result);
}
END_TEST

START_TEST(retry_gives_up_after_max_attempts)
{
	char *env[] = { API_CALM_ENV, NULL };
	run_result_t result;

	api_scenario_run("retry_exhausted", NULL, env, &result);
	ck_assert_int_eq((int)OUT("error"), EIO);
	ck_assert_int_eq((int)OUT("attempts"), 4);
	ck_assert_int_eq((int)OUT("calls"), 4);
	ck_assert_int_eq((int)OUT("refused"), 0);
	/* 50, 100, then capped at 120 ms. */
	ck_assert_double_ge(OUT("gap1"), 50);
	ck_assert_double_ge(OUT("gap2"), 100);
	ck_assert_double_ge(OUT("gap3"), 120);
	ck_assert_double_lt(OUT("gap3"), 5000);
	ck_assert_ptr_nonnull(strstr(result.out, "message=failed after 4 attempts"));
	ck_assert_ptr_nonnull(strstr(result.err, "failed after 4 attempts"));
	test_run_free(&result);
}
END_TEST

START_TEST(enomem_runs_cleanup_and_reduce)
{
	char *env[] = { API_CALM_ENV, NULL };
	run_result_t result;

	api_scenario_run("enomem_reduce", NULL, env, &result);
	ck_assert_int_eq((int)OUT("error"), 0);
	ck_assert_int_eq((int)OUT("attempts"), 2);
	ck_assert_int_eq((int)OUT("reductions"), 1);
	ck_assert_int_eq((int)OUT("reduce_calls"), 1);
	ck_assert_int_ge((int)OUT("cleanups"), 1);
	ck_assert_int_ge((int)OUT("hook_runs"), 1);
	ck_assert_double_ge(OUT("gap1"), 20);
	test_run_free(&result);
}
END_TEST

START_TEST(refusal_runs_hooks_in_priority_order)
{
	char *env[] = { API_CALM_ENV, "SAFEEXEC_MEMORY_LIMIT=256M", "SAFEEXEC_LOG_LEVEL=info",
	    NULL };
	char text[64];
	run_result_t result;

	api_scenario_run("refusal", "nowait", env, &result);
	ck_assert_int_eq((int)OUT("error"), ENOMEM);
	ck_assert_int_eq((int)OUT("refused"), 1);
	ck_assert_int_eq((int)OUT("calls"), 0);
	ck_assert_int_eq((int)OUT("attempts"), 0);
	ck_assert_int_eq((int)OUT("cleanups"), 1);
	ck_assert_str_eq(api_output_text(result.out, "order", text, sizeof(text)), "abc");
	ck_assert_str_eq(api_output_text(result.out, "source", text, sizeof(text)), "hint");
	ck_assert_ptr_nonnull(strstr(result.err, "cleanup hook 'first' (priority -1)"));
	ck_assert_ptr_nonnull(strstr(result.err, "cleanup hook 'third' (priority 10)"));
	ck_assert_ptr_nonnull(strstr(result.err, "refused: predicted 4096 MB (hint)"));
	test_run_free(&result);
}
END_TEST

START_TEST(refusal_waits_before_refusing)
{
	char *env[] = { API_CALM_ENV, "SAFEEXEC_MEMORY_LIMIT=256M", NULL };
	char text[64];
	run_result_t result;

	api_scenario_run("refusal", "wait", env, &result);
	ck_assert_int_eq((int)OUT("error"), ENOMEM);
	ck_assert_int_eq((int)OUT("refused"), 1);
	ck_assert_int_eq((int)OUT("calls"), 0);
	ck_assert_double_ge(OUT("waited_ms"), 300);
	ck_assert_str_eq(api_output_text(result.out, "order", text, sizeof(text)), "abc");
	test_run_free(&result);
}
END_TEST

START_TEST(refusal_avoided_by_reductions)
{
	char *env[] = { API_CALM_ENV, "SAFEEXEC_MEMORY_LIMIT=256M", NULL };
	run_result_t result;

	api_scenario_run("refusal", "reduce", env, &result);
	ck_assert_int_eq((int)OUT("error"), 0);
	ck_assert_int_eq((int)OUT("refused"), 0);
	ck_assert_int_eq((int)OUT("calls"), 1);
	/* 4096 MiB halved until it fits 256 MiB minus the margin: 128 MiB at most. */
	ck_assert_double_le(OUT("param0"), 128);
	ck_assert_double_ge(OUT("param0"), 32);
	ck_assert_int_eq((int)OUT("reductions"), (int)OUT("reduce_calls"));
	ck_assert_double_le(OUT("predicted"), 128.0 * MIB);
	test_run_free(&result);
}
END_TEST

/* Fails unless key_predicted is within 20% of key_peak. */
static void
assert_prediction_close(const run_result_t *result, const char *label)
{
	char key[64];
	double predicted, peak;

	snprintf(key, sizeof(key), "%s_predicted", label);
	predicted = api_output_value(result->out, key);
	snprintf(key, sizeof(key), "%s_peak", label);
	peak = api_output_value(result->out, key);
	ck_assert_msg(peak > 0, "%s: no peak measured\n%s", label, result->out);
	ck_assert_msg(fabs(predicted - peak) <= 0.2 * peak, "%s: predicted %.0f, peak %.0f",
	    label, predicted, peak);
}

START_TEST(history_predicts_repeated_operation)
{
	char *env[] = { API_CALM_ENV, NULL };
	char text[32];
	run_result_t result;

	api_scenario_run("predict_repeat", NULL, env, &result);
	ck_assert_str_eq(api_output_text(result.out, "first_source", text, sizeof(text)),
	    "none");
	ck_assert_str_eq(api_output_text(result.out, "second_source", text, sizeof(text)),
	    "history");
	assert_prediction_close(&result, "second");
	assert_prediction_close(&result, "third");
	assert_prediction_close(&result, "small");
	assert_prediction_close(&result, "medium");
	assert_prediction_close(&result, "large");
	test_run_free(&result);
}
END_TEST

START_TEST(history_file_survives_restart)
{
	char *dir = test_make_temp_dir(), setting[700], path[600], text[32], *saved;
	char *env[] = { API_CALM_ENV, setting, "SAFEEXEC_LOG_LEVEL=info", NULL };
	run_result_t result;

	snprintf(path, sizeof(path), "%s/history", dir);
	snprintf(setting, sizeof(setting), "SAFEEXEC_HISTORY_FILE=%s", path);
	api_scenario_run("history_save", NULL, env, &result);
	test_run_free(&result);
	saved = test_read_file(path);
	ck_assert_ptr_nonnull(saved);
	ck_assert_ptr_nonnull(strstr(saved, "\ntouch 1 8 0 0 0 "));
	free(saved);

	api_scenario_run("history_load", NULL, env, &result);
	ck_assert_double_ge(OUT("predict"), 0.8 * 8 * MIB);
	ck_assert_double_le(OUT("predict"), 1.2 * 8 * MIB);
	ck_assert_str_eq(api_output_text(result.out, "load_source", text, sizeof(text)),
	    "history");
	ck_assert_ptr_nonnull(strstr(result.err, "API summary for pid"));
	test_run_free(&result);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

/* Number of occurrences of needle in text. */
static int
count_occurrences(const char *text, const char *needle)
{
	int count = 0;

	for (text = strstr(text, needle); text != NULL; text = strstr(text + 1, needle)) {
		count++;
	}
	return count;
}

/* Number of lines of text that start with prefix. */
static int
count_lines_starting(const char *text, const char *prefix)
{
	const char *line = text;
	int count = 0;

	while (line != NULL && *line != '\0') {
		count += strncmp(line, prefix, strlen(prefix)) == 0;
		line = strchr(line, '\n');
		line = line != NULL ? line + 1 : NULL;
	}
	return count;
}

START_TEST(history_foreign_file_left_alone)
{
	/* A zip archive's first bytes, as in a numpy .npz file. */
	static const char foreign[] = "PK\003\004\024\001results x.npy \223NUMPY\n";
	char *dir = test_make_temp_dir(), setting[700], path[600], lock_path[700], *saved;
	char *env[] = { API_CALM_ENV, setting, NULL };
	run_result_t result;

	snprintf(path, sizeof(path), "%s/results.npz", dir);
	snprintf(setting, sizeof(setting), "SAFEEXEC_HISTORY_FILE=%s", path);
	test_write_file(dir, "results.npz", foreign);
	api_scenario_run("history_save", NULL, env, &result);

	saved = test_read_file(path);
	ck_assert_ptr_nonnull(saved);
	ck_assert_str_eq(saved, foreign);
	free(saved);
	snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
	ck_assert_int_eq(access(lock_path, F_OK), -1);
	ck_assert_int_eq(count_occurrences(result.err, "is not a safeexec history file"), 1);
	ck_assert_ptr_nonnull(strstr(result.err, path));
	ck_assert_ptr_nonnull(strstr(result.err, "SAFEEXEC_HISTORY_FILE"));
	ck_assert_ptr_null(strstr(result.err, "invalid lines"));
	ck_assert_str_eq(api_output_text(result.out, "save_source", setting, sizeof(setting)),
	    "none");
	test_run_free(&result);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

#define HISTORY_RUNS 8

START_TEST(history_concurrent_runs_merge)
{
	char *dir = test_make_temp_dir(), path[600], go[600], ready[700], self[4096];
	char label[16], prefix[64], *saved;
	pid_t pids[HISTORY_RUNS];
	ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int i, status;

	ck_assert_int_gt(length, 0);
	self[length] = '\0';
	snprintf(path, sizeof(path), "%s/history", dir);
	snprintf(go, sizeof(go), "%s/go", dir);
	/* Check runs each test in its own process, so these settings end with the test. */
	setenv("SAFEEXEC_HISTORY_FILE", path, 1);
	setenv("SAFEEXEC_TEST_GO_FILE", go, 1);
	setenv("SAFEEXEC_PSI_THRESHOLD", "100", 1);
	setenv("SAFEEXEC_THERMAL_LIMIT", "150", 1);
	for (i = 0; i < HISTORY_RUNS; i++) {
		snprintf(label, sizeof(label), "%d", i);
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			char *argv[] = { self, "--scenario", "history_record", label, NULL };

			execv(self, argv);
			_exit(127);
		}
	}
	for (i = 0; i < HISTORY_RUNS; i++) {
		snprintf(ready, sizeof(ready), "%s.ready.%d", go, i);
		ck_assert_msg(wait_for_file(ready) == 0, "run %d did not get ready", i);
	}
	test_write_file(dir, "go", "");
	for (i = 0; i < HISTORY_RUNS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "run %d ended with status 0x%x", i, status);
	}

	saved = test_read_file(path);
	ck_assert_ptr_nonnull(saved);
	for (i = 0; i < HISTORY_RUNS; i++) {
		snprintf(prefix, sizeof(prefix), "run_%d 1 10 0 0 0 4096\n", i);
		ck_assert_msg(count_lines_starting(saved, prefix) == 5,
		    "run %d kept %d of 5 samples in:\n%s", i, count_lines_starting(saved, prefix),
		    saved);
	}
	ck_assert_int_eq(count_lines_starting(saved, "shared "), 32);
	free(saved);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(status_reports_budget)
{
	char *env[] = { API_CALM_ENV, "SAFEEXEC_MEMORY_LIMIT=512M", NULL };
	char reason[256];
	run_result_t result;

	api_scenario_run("status", NULL, env, &result);
	ck_assert_int_eq((int)OUT("rc"), 0);
	ck_assert_int_eq((int)OUT("null_rc"), EINVAL);
	ck_assert_int_eq((int)OUT("active"), 1);
	/* A cgroup limit below 512 MiB would win; the budget is the ceiling. */
	ck_assert_double_gt(OUT("limit"), 0);
	ck_assert_double_le(OUT("limit"), 512.0 * MIB);
	ck_assert_double_gt(OUT("margin"), 0);
	ck_assert_double_lt(OUT("headroom"), OUT("limit"));
	ck_assert_double_gt(OUT("footprint"), 0);
	ck_assert_double_eq(OUT("thermal_limit"), 150);
	api_output_text(result.out, "reason", reason, sizeof(reason));
	ck_assert_int_eq((int)OUT("healthy"), reason[0] == '\0');
	test_run_free(&result);
}
END_TEST

START_TEST(throttle_times_out_when_memory_low)
{
	char *env[] = { API_CALM_ENV, "SAFEEXEC_MEMORY_LIMIT=32M", NULL };
	char reason[256];
	run_result_t result;

	api_scenario_run("throttle", "300", env, &result);
	ck_assert_int_eq((int)OUT("throttle_rc"), ETIMEDOUT);
	ck_assert_double_ge(OUT("elapsed_ms"), 300);
	ck_assert_int_eq((int)OUT("healthy"), 0);
	api_output_text(result.out, "reason", reason, sizeof(reason));
	ck_assert_ptr_nonnull(strstr(reason, "is below the safety margin"));
	test_run_free(&result);
}
END_TEST

START_TEST(throttle_passes_with_room)
{
	char *env[] = { API_CALM_ENV, "SAFEEXEC_MEMORY_LIMIT=1G", NULL };
	run_result_t result;

	api_scenario_run("throttle", "1000", env, &result);
	ck_assert_int_eq((int)OUT("throttle_rc"), 0);
	ck_assert_int_eq((int)OUT("healthy"), 1);
	test_run_free(&result);
}
END_TEST

static Suite *
api_execute_suite(void)
{
	Suite *suite = suite_create("api_execute");
	TCase *execute = tcase_create("execute");
	TCase *refusal = tcase_create("refusal");
	TCase *history = tcase_create("history");
	TCase *status = tcase_create("status");

	tcase_add_test(execute, thread_peak_measures_allocation);
	tcase_add_test(execute, retry_backs_off_then_succeeds);
	tcase_add_test(execute, retry_gives_up_after_max_attempts);
	tcase_add_test(execute, enomem_runs_cleanup_and_reduce);
	tcase_add_test(refusal, refusal_runs_hooks_in_priority_order);
	tcase_add_test(refusal, refusal_waits_before_refusing);
	tcase_add_test(refusal, refusal_avoided_by_reductions);
	tcase_add_test(history, history_predicts_repeated_operation);
	tcase_add_test(history, history_file_survives_restart);
	tcase_add_test(history, history_foreign_file_left_alone);
	tcase_add_test(history, history_concurrent_runs_merge);
	tcase_add_test(status, status_reports_budget);
	tcase_add_test(status, throttle_times_out_when_memory_low);
	tcase_add_test(status, throttle_passes_with_room);
	suite_add_tcase(suite, execute);
	suite_add_tcase(suite, refusal);
	suite_add_tcase(suite, history);
	suite_add_tcase(suite, status);
	return suite;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--scenario") == 0) {
		return scenario_main(argv[2], argc > 3 ? argv[3] : NULL);
	}
	return test_run_suite(api_execute_suite());
}
