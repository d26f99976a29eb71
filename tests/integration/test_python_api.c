/*
 * The Python module python/safeexec: its ctypes mirror of the C structures,
 * status, throttle, execute and batch under the shim with a budget, and the
 * degraded mode without the shim. The checks themselves are in
 * tests/py/py_api_checks.py and tests/py/py_batch_scenario.py; each prints
 * one line per failed check.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safeexec.h"
#include "test_support.h"

#define PYTHON "/usr/bin/python3"

/* Every field of struct safeexec_status, in order, for the layout check. */
#define STATUS_FIELDS(X) \
	X(shim_active) X(healthy) X(unhealthy_reason) X(limit_bytes) X(limit_source) \
	X(limit_detail) X(usage_bytes) X(margin_bytes) X(headroom_bytes) \
	X(retained_bytes) X(footprint_bytes) X(peak_footprint_bytes) X(memtotal_bytes) \
	X(memavailable_bytes) X(psi_memory_some_avg10) X(psi_memory_threshold) \
	X(psi_cpu_some_avg10) X(cpu_limit_percent) X(temperature_celsius) \
	X(thermal_limit_celsius) X(temperature_source) X(large_requests) X(stalls) \
	X(stall_ms) X(refusals) X(cleanup_runs) X(blas_calls) X(blas_gated) \
	X(paused_ms) X(thermal_pauses) X(cpu_pauses)

/* "size=N,field=offset,..." as the compiler laid out struct safeexec_status. */
static void
status_layout(char *out, size_t size)
{
	size_t length = (size_t)snprintf(out, size, "size=%zu",
	    sizeof(struct safeexec_status));

#define APPEND_FIELD(name) \
	length += (size_t)snprintf(out + length, size - length, ",%s=%zu", #name, \
	    offsetof(struct safeexec_status, name));
	STATUS_FIELDS(APPEND_FIELD)
#undef APPEND_FIELD
	ck_assert_uint_lt(length, size);
}

/* "PYTHONPATH=<source>/python", static so it outlives the call. */
static char *
python_path_entry(void)
{
	static char entry[1024];

	snprintf(entry, sizeof(entry), "PYTHONPATH=%s/../python",
	    test_getenv("SAFEEXEC_TEST_SOURCE_DIR"));
	return entry;
}

static void
run_python(const char *script, const char *argument1, const char *argument2,
    char *const env[], bool preload, run_result_t *result)
{
	char path[1024];
	char *argv[] = { PYTHON, (char *)test_source_path(script, path, sizeof(path)),
	    (char *)argument1, (char *)argument2, NULL };

	ck_assert_int_eq(test_run(argv, env, preload, 300, result), 0);
}

START_TEST(api_checks_under_shim)
{
	char layout[4096];
	char *env[] = { python_path_entry(), "SAFEEXEC_MEMORY_LIMIT=256M",
	    "SAFEEXEC_STALL_TIMEOUT=0", "SAFEEXEC_THERMAL_LIMIT=150",
	    "SAFEEXEC_PSI_THRESHOLD=100", "SAFEEXEC_CPU_LIMIT=0", NULL };
	run_result_t result;

	status_layout(layout, sizeof(layout));
	run_python("py/py_api_checks.py", "shim", layout, env, true, &result);
	ck_assert_msg(result.exit_code == 0, "py_api_checks.py shim exited %d (signal %d):\n%s%s",
	    result.exit_code, result.signal, result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "api checks ok"));
	test_run_free(&result);
}
END_TEST

START_TEST(api_checks_degraded)
{
	char *env[] = { python_path_entry(), NULL };
	run_result_t result;

	run_python("py/py_api_checks.py", "degraded", NULL, env, false, &result);
	ck_assert_msg(result.exit_code == 0, "py_api_checks.py degraded exited %d:\n%s%s",
	    result.exit_code, result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "api checks ok"));
	test_run_free(&result);
}
END_TEST

START_TEST(batch_scenario_under_budget)
{
	char *env[] = { python_path_entry(), "SAFEEXEC_MEMORY_LIMIT=192M",
	    "SAFEEXEC_STALL_TIMEOUT=0", NULL };
	run_result_t result;

	run_python("py/py_batch_scenario.py", NULL, NULL, env, true, &result);
	ck_assert_msg(result.exit_code == 0, "py_batch_scenario.py exited %d (signal %d):\n%s%s",
	    result.exit_code, result.signal, result.out, result.err);
	ck_assert_msg(strstr(result.out, "scenario ok ") != NULL, "no success line in:\n%s",
	    result.out);
	test_run_free(&result);
}
END_TEST

static Suite *
python_api_suite(void)
{
	Suite *suite = suite_create("python_api");
	TCase *tcase = tcase_create("python_api");

	tcase_set_timeout(tcase, 300);
	tcase_add_test(tcase, api_checks_under_shim);
	tcase_add_test(tcase, api_checks_degraded);
	tcase_add_test(tcase, batch_scenario_under_budget);
	suite_add_tcase(suite, tcase);
	return suite;
}

int
main(void)
{
	return test_run_suite(python_api_suite());
}
