/*
 * The memory governor in real processes: refusals under a budget, purge
 * before refusal, stalls that end at their deadline or when memory returns,
 * and numpy's MemoryError.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define PYTHON "/usr/bin/python3"

/* Value of "key=" in a program's output, or -1. */
static double
output_value(const char *out, const char *key)
{
	char pattern[64];
	const char *found;

	snprintf(pattern, sizeof(pattern), "%s=", key);
	found = strstr(out, pattern);
	return found != NULL ? atof(found + strlen(pattern)) : -1;
}

static void
run_limit_case(const char *name, char *const env[], bool preload, run_result_t *result)
{
	char path[512];
	char *argv[] = { (char *)test_prog_path("alloc_limit", path, sizeof(path)),
	    (char *)name, NULL };

	ck_assert_int_eq(test_run(argv, env, preload, 120, result), 0);
	ck_assert_msg(result->exit_code == 0, "alloc_limit %s: %s%s", name, result->out,
	    result->err);
}

START_TEST(budget_refuses_before_limit)
{
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=512M", "SAFEEXEC_LOG_LEVEL=info", NULL };
	run_result_t result;

	run_limit_case("grow", env, true, &result);
	ck_assert_int_eq((int)output_value(result.out, "refused"), 1);
	ck_assert_int_eq((int)output_value(result.out, "enomem"), 1);
	ck_assert_double_lt(output_value(result.out, "peak_rss_kib"), 512 * 1024);
	ck_assert_double_ge(output_value(result.out, "blocks"), 5);
	ck_assert_ptr_nonnull(strstr(result.err, "refused malloc of 67108864 bytes"));
	ck_assert_ptr_nonnull(strstr(result.err, "Operation impact prediction: current"));
	ck_assert_ptr_nonnull(strstr(result.err, "limit 512 MB (budget"));
	test_run_free(&result);
}
END_TEST

/*
 * Requests under 64 KiB skip the governor on the fast path; from there up to
 * the threshold the slow path compares with it. A 64K threshold must still
 * stop 96 KiB blocks from malloc and calloc at the budget.
 */
START_TEST(lowest_threshold_covers_mid_sizes)
{
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=256M", "SAFEEXEC_LARGE_THRESHOLD=64K",
	    "SAFEEXEC_STALL_TIMEOUT=100ms", NULL };
	run_result_t result;

	run_limit_case("grow_mid", env, true, &result);
	ck_assert_int_eq((int)output_value(result.out, "refused"), 1);
	ck_assert_int_eq((int)output_value(result.out, "enomem"), 1);
	ck_assert_double_lt(output_value(result.out, "peak_rss_kib"), 256 * 1024);
	ck_assert_double_ge(output_value(result.out, "blocks"), 1000);
	test_run_free(&result);
}
END_TEST

/* A realloc that moves keeps the old block resident while it copies: both count. */
START_TEST(realloc_growth_stays_under_budget)
{
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=256M", "SAFEEXEC_STALL_TIMEOUT=100ms", NULL };
	run_result_t result;

	run_limit_case("realloc", env, true, &result);
	ck_assert_int_eq((int)output_value(result.out, "refused"), 1);
	ck_assert_int_eq((int)output_value(result.out, "enomem"), 1);
	ck_assert_double_lt(output_value(result.out, "peak_rss_kib"), 256 * 1024);
	ck_assert_double_ge(output_value(result.out, "reached_mib"), 64);
	test_run_free(&result);
}
END_TEST

/* xallocx growth past the budget is refused at once: the block stays as it was. */
START_TEST(xallocx_growth_refused_at_once)
{
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=256M", "SAFEEXEC_LOG_LEVEL=info", NULL };
	run_result_t result;

	run_limit_case("xallocx", env, true, &result);
	ck_assert_int_eq((int)output_value(result.out, "grew"), 0);
	ck_assert_double_lt(output_value(result.out, "seconds"), 1.0);
	ck_assert_ptr_nonnull(strstr(result.err, "before xallocx of"));
	ck_assert_ptr_nonnull(strstr(result.err, "predicted"));
	test_run_free(&result);
}
END_TEST

START_TEST(without_shim_grows_past)
{
	run_result_t result;

	run_limit_case("grow", NULL, false, &result);
	ck_assert_int_eq((int)output_value(result.out, "refused"), 0);
	ck_assert_double_gt(output_value(result.out, "peak_rss_kib"), 512 * 1024);
	test_run_free(&result);
}
END_TEST

START_TEST(purge_before_refusal)
{
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=512M", "SAFEEXEC_LOG_LEVEL=info",
	    "SAFEEXEC_STALL_TIMEOUT=0", NULL };
	run_result_t result;

	run_limit_case("purge", env, true, &result);
	/* jemalloc kept the freed 300 MiB resident; the purge made room for the new block. */
	ck_assert_double_gt(output_value(result.out, "rss_after_free_kib"), 250 * 1024);
	ck_assert_int_eq((int)output_value(result.out, "big_ok"), 1);
	ck_assert_double_lt(output_value(result.out, "peak_rss_kib"), 512 * 1024);
	ck_assert_ptr_nonnull(strstr(result.err, "cleanup hook 'jemalloc purge'"));
	ck_assert_ptr_nonnull(strstr(result.err, "admitted after cleanup"));
	test_run_free(&result);
}
END_TEST

START_TEST(stall_ends_at_deadline)
{
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=512M", "SAFEEXEC_STALL_TIMEOUT=700ms", NULL };
	run_result_t result;

	run_limit_case("stall", env, true, &result);
	ck_assert_int_eq((int)output_value(result.out, "big_ok"), 0);
	ck_assert_int_eq((int)output_value(result.out, "errno"), 12);
	ck_assert_double_ge(output_value(result.out, "seconds"), 0.69);
	ck_assert_double_lt(output_value(result.out, "seconds"), 10.0);
	ck_assert_ptr_nonnull(strstr(result.err, "stalling malloc of 209715200 bytes"));
	test_run_free(&result);
}
END_TEST

START_TEST(stall_resumes_when_freed)
{
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=512M", "SAFEEXEC_STALL_TIMEOUT=10s",
	    "SAFEEXEC_LOG_LEVEL=info", NULL };
	run_result_t result;

	run_limit_case("release", env, true, &result);
	ck_assert_int_eq((int)output_value(result.out, "big_ok"), 1);
	ck_assert_double_ge(output_value(result.out, "seconds"), 0.25);
	ck_assert_double_lt(output_value(result.out, "seconds"), 9.0);
	ck_assert_ptr_nonnull(strstr(result.err, "admitted after a stall"));
	test_run_free(&result);
}
END_TEST

START_TEST(numpy_memory_error_then_recovers)
{
	char *argv[] = { PYTHON, "-c",
		"import numpy as np\n"
		"errors = 0\n"
		"for make in (np.ones, np.zeros):\n"
		"    try:\n"
		"        a = make(2**28)\n"
		"        a[::4096] = 1\n"
		"    except MemoryError:\n"
		"        errors += 1\n"
		"b = np.ones(100 * 2**20 // 8)\n"
		"print('errors', errors)\n"
		"print('sum', int(b.sum()))\n", NULL };
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=1G", NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, env, true, 120, &result), 0);
	ck_assert_msg(result.exit_code == 0, "%s%s", result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "errors 2"));
	ck_assert_ptr_nonnull(strstr(result.out, "sum 13107200"));
	test_run_free(&result);
}
END_TEST

START_TEST(endless_retry_is_admitted)
{
	/* OpenBLAS retries its 128 MiB buffer without end; 100M cannot hold it. */
	char *argv[] = { PYTHON, "-c", "import numpy; print(numpy.ones(10).sum())", NULL };
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=100M", NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, env, true, 60, &result), 0);
	ck_assert_int_eq(result.signal, 0);
	ck_assert_int_eq(result.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(result.out, "10.0"));
	ck_assert_ptr_nonnull(strstr(result.err, "retries without pause"));
	test_run_free(&result);
}
END_TEST

START_TEST(launcher_runs_with_budget)
{
	char *argv[] = { (char *)test_getenv("SAFEEXEC_LAUNCHER"), "--memory-limit", "1G",
	    "--log-level", "info", "--", PYTHON, "-c",
	    "import numpy as np\n"
	    "try:\n"
	    "    np.ones(2**28)\n"
	    "except MemoryError:\n"
	    "    raise SystemExit(42)\n", NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, NULL, false, 120, &result), 0);
	ck_assert_int_eq(result.exit_code, 42);
	ck_assert_ptr_nonnull(strstr(result.err, "limit 1024 MB (budget)"));
	ck_assert_ptr_nonnull(strstr(result.err, "summary for pid"));
	test_run_free(&result);
}
END_TEST

START_TEST(launcher_status_json)
{
	char *argv[] = { (char *)test_getenv("SAFEEXEC_LAUNCHER"), "--memory-limit", "3G",
	    "status", "--json", NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, NULL, false, 60, &result), 0);
	ck_assert_int_eq(result.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(result.out, "\"limit_bytes\": 3221225472"));
	ck_assert_ptr_nonnull(strstr(result.out, "\"limit_source\": \"budget\""));
	ck_assert_ptr_nonnull(strstr(result.out, "\"margin_bytes\": 322122547"));
	ck_assert_ptr_nonnull(strstr(result.out, "\"available_bytes\""));
	ck_assert_ptr_nonnull(strstr(result.out, "\"psi_some_avg10\""));
	test_run_free(&result);
}
END_TEST

START_TEST(launcher_rejects_bad_value)
{
	char *argv[] = { (char *)test_getenv("SAFEEXEC_LAUNCHER"), "--memory-limit", "lots",
	    "--", "/bin/true", NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, NULL, false, 60, &result), 0);
	ck_assert_int_eq(result.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(result.err, "invalid value 'lots' for memory_limit"));
	test_run_free(&result);
}
END_TEST

START_TEST(launcher_rejects_stray_arguments)
{
	char *status_argv[] = { (char *)test_getenv("SAFEEXEC_LAUNCHER"), "status", "extra", NULL };
	char *config_argv[] = { (char *)test_getenv("SAFEEXEC_LAUNCHER"), "config", "extra", NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(status_argv, NULL, false, 60, &result), 0);
	ck_assert_int_eq(result.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(result.err, "status takes only --json"));
	test_run_free(&result);
	ck_assert_int_eq(test_run(config_argv, NULL, false, 60, &result), 0);
	ck_assert_int_eq(result.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(result.err, "config takes no arguments"));
	test_run_free(&result);
}
END_TEST

START_TEST(launcher_json_without_readings)
{
	char *dir = test_make_temp_dir();
	char *argv[] = { (char *)test_getenv("SAFEEXEC_LAUNCHER"), "--proc-root", dir,
	    "--sysfs-root", dir, "status", "--json", NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, NULL, false, 60, &result), 0);
	ck_assert_int_eq(result.exit_code, 0);
	/* JSON has no NaN: missing readings are null. */
	ck_assert_ptr_null(strstr(result.out, "nan"));
	ck_assert_ptr_nonnull(strstr(result.out, "\"psi_some_avg10\": null"));
	test_run_free(&result);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(launcher_paths_made_absolute)
{
	char *argv[] = { (char *)test_getenv("SAFEEXEC_LAUNCHER"), "--log-file", "relative.log",
	    "--", "/bin/sh", "-c", "cd / && echo \"$SAFEEXEC_LOG_FILE\"", NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, NULL, false, 60, &result), 0);
	ck_assert_int_eq(result.exit_code, 0);
	ck_assert_msg(result.out[0] == '/', "SAFEEXEC_LOG_FILE is not absolute: %s", result.out);
	ck_assert_ptr_nonnull(strstr(result.out, "/relative.log"));
	test_run_free(&result);
}
END_TEST

START_TEST(bad_env_warns_and_runs)
{
	char *argv[] = { "/bin/echo", "still running", NULL };
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=-5G", "SAFEEXEC_STALL_TIMEOUT=forever",
	    "SAFEEXEC_LOG_LEVEL=chatty", NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, env, true, 60, &result), 0);
	ck_assert_int_eq(result.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(result.out, "still running"));
	ck_assert_ptr_nonnull(strstr(result.err, "invalid value '-5G' for memory_limit"));
	ck_assert_ptr_nonnull(strstr(result.err, "invalid value 'forever' for stall_timeout"));
	ck_assert_ptr_nonnull(strstr(result.err, "invalid value 'chatty' for log_level"));
	test_run_free(&result);
}
END_TEST

static Suite *
governor_suite(void)
{
	Suite *suite = suite_create("governor");
	TCase *limits = tcase_create("limits");
	TCase *launcher = tcase_create("launcher");

	tcase_add_test(limits, budget_refuses_before_limit);
	tcase_add_test(limits, lowest_threshold_covers_mid_sizes);
	tcase_add_test(limits, realloc_growth_stays_under_budget);
	tcase_add_test(limits, xallocx_growth_refused_at_once);
	tcase_add_test(limits, without_shim_grows_past);
	tcase_add_test(limits, purge_before_refusal);
	tcase_add_test(limits, stall_ends_at_deadline);
	tcase_add_test(limits, stall_resumes_when_freed);
	tcase_add_test(limits, numpy_memory_error_then_recovers);
	tcase_add_test(limits, endless_retry_is_admitted);
	tcase_add_test(launcher, launcher_runs_with_budget);
	tcase_add_test(launcher, launcher_status_json);
	tcase_add_test(launcher, launcher_rejects_bad_value);
	tcase_add_test(launcher, launcher_rejects_stray_arguments);
	tcase_add_test(launcher, launcher_json_without_readings);
	tcase_add_test(launcher, launcher_paths_made_absolute);
	tcase_add_test(launcher, bad_env_warns_and_runs);
	suite_add_tcase(suite, limits);
	suite_add_tcase(suite, launcher);
	return suite;
}

int
main(void)
{
	return test_run_suite(governor_suite());
}
