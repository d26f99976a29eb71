/*
 * The thermal gate in a real program: numpy's matrix product under the shim
 * with SAFEEXEC_TEMP_SOURCE pinned to a file that the test rewrites. The
 * product pauses while the file reads 90 °C and resumes once it reads 78 °C.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_support.h"

#define PYTHON "/usr/bin/python3"
/* How long the watcher waits for the pause line before giving up. */
#define WATCH_LIMIT_MS 120000

typedef struct {
	const char *log_path;
	const char *temp_path;
	bool cooled;           /* the pause line was seen and the file rewritten */
} watcher_t;

/* Replaces the file atomically, so the shim never reads half a value. */
static void
write_temperature(const char *path, const char *millidegrees)
{
	char text[32];

	snprintf(text, sizeof(text), "%s\n", millidegrees);
	test_replace_file(path, text);
}

/* Waits for the shim's pause line in the log, then cools the sensor file down. */
static void *
watch_and_cool(void *data)
{
	watcher_t *watcher = data;
	struct timespec delay = { 0, 20 * 1000000L };
	long waited_ms;

	for (waited_ms = 0; waited_ms < WATCH_LIMIT_MS; waited_ms += 20) {
		char *log_text = test_read_file(watcher->log_path);
		bool paused = log_text != NULL && strstr(log_text, "Critical temperature") != NULL;

		free(log_text);
		if (paused) {
			write_temperature(watcher->temp_path, "78000");
			watcher->cooled = true;
			return NULL;
		}
		nanosleep(&delay, NULL);
	}
	return NULL;
}

static char *
run_matmul(const char *temp_path, const char *log_path, const char *max_wait,
    run_result_t *result)
{
	char script[512], source[1100], log_file[1100], wait[64];
	char *argv[] = { PYTHON, (char *)test_source_path("py/thermal_matmul.py", script,
	    sizeof(script)), NULL };
	/*
	 * Large allocations are gate points too. The 8 MB arrays stay below
	 * this threshold, so the matrix product is the first call that pauses.
	 */
	char *env[] = { source, log_file, wait, "SAFEEXEC_LOG_LEVEL=info",
	    "SAFEEXEC_POLL_MS=20", "SAFEEXEC_LARGE_THRESHOLD=1G", NULL };

	snprintf(source, sizeof(source), "SAFEEXEC_TEMP_SOURCE=%s", temp_path);
	snprintf(log_file, sizeof(log_file), "SAFEEXEC_LOG_FILE=%s", log_path);
	snprintf(wait, sizeof(wait), "SAFEEXEC_THERMAL_MAX_WAIT=%s", max_wait);
	ck_assert_int_eq(test_run(argv, env, true, 300, result), 0);
	return test_read_file(log_path);
}

START_TEST(matmul_pauses_until_cool)
{
	char *dir = test_make_temp_dir();
	char temp_path[1024], log_path[1024];
	watcher_t watcher = { log_path, temp_path, false };
	pthread_t thread;
	run_result_t result;
	char *log_text, *pause, *resume;

	snprintf(temp_path, sizeof(temp_path), "%s/temp", dir);
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	write_temperature(temp_path, "90000");
	ck_assert_int_eq(pthread_create(&thread, NULL, watch_and_cool, &watcher), 0);
	log_text = run_matmul(temp_path, log_path, "200s", &result);
	pthread_join(thread, NULL);

	ck_assert_msg(result.exit_code == 0, "python: %s%s", result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "done "));
	ck_assert_msg(watcher.cooled, "no pause line in the log:\n%s", log_text);
	ck_assert_ptr_nonnull(log_text);
	pause = strstr(log_text, "WARN - Critical temperature: 90.0 °C, pausing cblas_dgemm");
	resume = strstr(log_text, "INFO - cblas_dgemm resumed after ");
	ck_assert_msg(pause != NULL, "log:\n%s", log_text);
	ck_assert_msg(resume != NULL && resume > pause, "log:\n%s", log_text);
	/* It could only resume at 78 °C after the test rewrote the file. */
	ck_assert_msg(strstr(resume, " s at 78.0 °C") != NULL, "log:\n%s", log_text);
	ck_assert_ptr_null(strstr(log_text, "proceeds"));
	free(log_text);
	test_run_free(&result);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(matmul_proceeds_after_max_wait)
{
	char *dir = test_make_temp_dir();
	char temp_path[1024], log_path[1024];
	run_result_t result;
	char *log_text;

	snprintf(temp_path, sizeof(temp_path), "%s/temp", dir);
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	write_temperature(temp_path, "95000");
	log_text = run_matmul(temp_path, log_path, "300ms", &result);

	ck_assert_msg(result.exit_code == 0, "python: %s%s", result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "done "));
	ck_assert_ptr_nonnull(log_text);
	ck_assert_msg(strstr(log_text, "Critical temperature: 95.0 °C, pausing cblas_dgemm")
	    != NULL, "log:\n%s", log_text);
	ck_assert_msg(strstr(log_text, "temperature still 95.0 °C after") != NULL, "log:\n%s",
	    log_text);
	ck_assert_msg(strstr(log_text, "cblas_dgemm proceeds") != NULL, "log:\n%s", log_text);
	free(log_text);
	test_run_free(&result);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

/* Without a sensor the gate is off and the default log level prints nothing. */
START_TEST(no_sensor_silent)
{
	char script[512], sysfs[1100];
	char *argv[] = { PYTHON, (char *)test_source_path("py/thermal_matmul.py", script,
	    sizeof(script)), NULL };
	char *env[] = { sysfs, "SAFEEXEC_LOG_LEVEL=warn", NULL };
	run_result_t result;

	snprintf(sysfs, sizeof(sysfs), "SAFEEXEC_SYSFS_ROOT=%s/thermal/none",
	    test_getenv("SAFEEXEC_TEST_FIXTURES"));
	ck_assert_int_eq(test_run(argv, env, true, 300, &result), 0);
	ck_assert_msg(result.exit_code == 0, "python: %s%s", result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "done "));
	ck_assert_msg(result.err[0] == '\0', "stderr:\n%s", result.err);
	test_run_free(&result);
}
END_TEST

static Suite *
thermal_pause_suite(void)
{
	Suite *suite = suite_create("thermal_pause");
	TCase *pause = tcase_create("pause");

	tcase_set_timeout(pause, 600);
	tcase_add_test(pause, matmul_pauses_until_cool);
	tcase_add_test(pause, matmul_proceeds_after_max_wait);
	tcase_add_test(pause, no_sensor_silent);
	suite_add_tcase(suite, pause);
	return suite;
}

int
main(void)
{
	return test_run_suite(thermal_pause_suite());
}
