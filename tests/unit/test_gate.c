/*
 * Unit tests for the gate policy: thermal pauses with hysteresis and a max
 * wait, CPU-load pauses from PSI or the load average, the status snapshot,
 * and the BLAS worker limit. The temperature comes from a pinned file that
 * the tests rewrite; /proc and /sys are temp trees or fixtures.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"
#include "log.h"
#include "options.h"
#include "test_support.h"

static char *temp_dir;
static char temp_path[1024];
static char log_path[1024];

/* Replaces the pinned temperature file atomically, so a read never gets half a value. */
static void
write_temperature(const char *millidegrees)
{
	char text[32];

	snprintf(text, sizeof(text), "%s\n", millidegrees);
	test_replace_file(temp_path, text);
}

/* Defaults, then a pinned sensor, fast polling, and the log in a file. */
static void
setup(void)
{
	options_load();
	temp_dir = test_make_temp_dir();
	snprintf(temp_path, sizeof(temp_path), "%s/temp", temp_dir);
	snprintf(log_path, sizeof(log_path), "%s/log", temp_dir);
	snprintf(options.temp_source, sizeof(options.temp_source), "%s", temp_path);
	snprintf(options.proc_root, sizeof(options.proc_root), "%s/proc", temp_dir);
	snprintf(options.sysfs_root, sizeof(options.sysfs_root), "%s/sys", temp_dir);
	options.thermal_limit_celsius = 85.0;
	options.thermal_resume_celsius = 80.0;
	options.thermal_max_wait_ms = 60000;
	options.poll_ms = 10;
	options.cpu_limit_percent = 0.0;
	options.cpu_max_wait_ms = 60000;
	options.max_workers = 0;
	log_configure(LOG_LEVEL_INFO, log_path);
}

static void
teardown(void)
{
	test_remove_tree(temp_dir);
	free(temp_dir);
}

static char *
read_log(void)
{
	char *text = test_read_file(log_path);

	return text != NULL ? text : calloc(1, 1);
}

static void
sleep_ms(long ms)
{
	struct timespec delay = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&delay, NULL);
}

static void *
cool_down_later(void *unused)
{
	(void)unused;
	sleep_ms(300);
	write_temperature("78000");
	return NULL;
}

START_TEST(pause_until_resume_temperature)
{
	pthread_t writer;
	gate_status_t status;
	uint64_t waited_ms;
	char *log_text;

	write_temperature("90000");
	gate_init();
	ck_assert(gate_over_limit());
	ck_assert_int_eq(pthread_create(&writer, NULL, cool_down_later, NULL), 0);
	waited_ms = gate_pass(GATE_POINT_BLAS, "dgemm_");
	pthread_join(writer, NULL);

	ck_assert_uint_gt(waited_ms, 0);
	ck_assert(!gate_over_limit());
	gate_read_status(&status);
	ck_assert(status.thermal_available);
	ck_assert_double_eq_tol(status.celsius, 78.0, 1e-9);
	ck_assert_double_eq_tol(status.peak_celsius, 90.0, 1e-9);
	ck_assert_uint_eq(status.thermal_pauses, 1);
	ck_assert_uint_eq(status.blas_gated, 1);
	ck_assert_uint_eq(status.paused_ms, waited_ms);

	log_text = read_log();
	ck_assert_msg(strstr(log_text, "WARN - Critical temperature: 90.0 °C, pausing dgemm_")
	    != NULL, "log: %s", log_text);
	ck_assert_msg(strstr(log_text, "INFO - dgemm_ resumed after ") != NULL, "log: %s",
	    log_text);
	ck_assert_msg(strstr(log_text, " s at 78.0 °C") != NULL, "log: %s", log_text);
	free(log_text);
}
END_TEST

START_TEST(max_wait_then_proceed)
{
	uint64_t waited_ms;
	char *log_text;

	write_temperature("95000");
	options.thermal_max_wait_ms = 200;
	gate_init();
	waited_ms = gate_pass(GATE_POINT_ALLOCATION, "malloc");

	/* The loop only ends at the max wait, because the file never cools. */
	ck_assert_uint_ge(waited_ms, 200);
	ck_assert(gate_over_limit());
	log_text = read_log();
	ck_assert_msg(strstr(log_text, "temperature still 95.0 °C after") != NULL, "log: %s",
	    log_text);
	ck_assert_msg(strstr(log_text, "malloc proceeds") != NULL, "log: %s", log_text);
	free(log_text);
}
END_TEST

START_TEST(hysteresis_between_resume_and_limit)
{
	gate_status_t status;

	options.thermal_max_wait_ms = 100;
	write_temperature("83000");
	gate_init();
	ck_assert_uint_eq(gate_pass(GATE_POINT_THROTTLE, "step"), 0);
	ck_assert(!gate_over_limit());

	write_temperature("90000");
	sleep_ms(20);
	ck_assert_uint_ge(gate_pass(GATE_POINT_THROTTLE, "step"), 100);

	/*
	 * Cooler than the limit but not yet at resume: still hot. The pause above
	 * ended at its max wait, so this episode does not pause again.
	 */
	write_temperature("83000");
	sleep_ms(20);
	ck_assert_uint_eq(gate_pass(GATE_POINT_THROTTLE, "step"), 0);
	ck_assert(gate_over_limit());

	write_temperature("80000");
	sleep_ms(20);
	ck_assert_uint_eq(gate_pass(GATE_POINT_THROTTLE, "step"), 0);
	ck_assert(!gate_over_limit());

	/* A new hot episode pauses again. */
	write_temperature("90000");
	sleep_ms(20);
	ck_assert_uint_ge(gate_pass(GATE_POINT_THROTTLE, "step"), 100);
	gate_read_status(&status);
	ck_assert_uint_eq(status.thermal_pauses, 2);
	ck_assert_uint_eq(status.blas_gated, 0);
}
END_TEST

START_TEST(no_sensor_no_gating)
{
	gate_status_t status;
	char *log_text;

	options.temp_source[0] = '\0';
	snprintf(options.sysfs_root, sizeof(options.sysfs_root), "%s/thermal/none",
	    test_getenv("SAFEEXEC_TEST_FIXTURES"));
	log_configure(LOG_LEVEL_WARN, log_path);
	gate_init();
	ck_assert_uint_eq(gate_pass(GATE_POINT_BLAS, "dgemm_"), 0);
	gate_read_status(&status);
	ck_assert(!status.thermal_available);
	ck_assert(isnan(status.celsius));
	ck_assert_msg(strstr(status.unavailable_reason, "no CPU temperature sensor") != NULL,
	    "reason: %s", status.unavailable_reason);
	log_text = read_log();
	ck_assert_msg(log_text[0] == '\0', "warnings logged: %s", log_text);
	free(log_text);
}
END_TEST

START_TEST(disabled_never_waits)
{
	write_temperature("99000");
	gate_init();
	options.disable = true;
	ck_assert_uint_eq(gate_pass(GATE_POINT_BLAS, "dgemm_"), 0);
}
END_TEST

START_TEST(cpu_psi_pause)
{
	gate_status_t status;

	write_temperature("50000");
	test_write_file(temp_dir, "proc/pressure/cpu",
	    "some avg10=95.00 avg60=80.00 avg300=40.00 total=1\n");
	test_write_file(temp_dir, "proc/loadavg", "1.00 1.00 1.00 1/100 1\n");
	options.cpu_limit_percent = 50.0;
	options.cpu_max_wait_ms = 100;
	gate_init();
	ck_assert_uint_ge(gate_pass(GATE_POINT_BATCH, "batch"), 100);
	ck_assert(gate_over_limit());

	test_write_file(temp_dir, "proc/pressure/cpu",
	    "some avg10=10.00 avg60=80.00 avg300=40.00 total=1\n");
	sleep_ms(20);
	ck_assert_uint_eq(gate_pass(GATE_POINT_BATCH, "batch"), 0);
	ck_assert(!gate_over_limit());
	gate_read_status(&status);
	ck_assert(status.cpu_psi_available);
	ck_assert_double_eq_tol(status.cpu_psi_some_avg10, 10.0, 1e-9);
	ck_assert_uint_eq(status.cpu_pauses, 1);
	ck_assert_uint_eq(status.thermal_pauses, 0);
}
END_TEST

START_TEST(cpu_loadavg_fallback)
{
	gate_status_t status;

	write_temperature("50000");
	test_write_file(temp_dir, "proc/loadavg", "6.00 5.00 4.00 3/200 999\n");
	test_write_file(temp_dir, "sys/devices/system/cpu/online", "0-1\n");
	options.cpu_limit_percent = 200.0;
	options.cpu_max_wait_ms = 100;
	gate_init();
	gate_read_status(&status);
	ck_assert(!status.cpu_psi_available);
	ck_assert_double_eq_tol(status.load_per_cpu, 3.0, 1e-9);
	ck_assert_uint_ge(gate_pass(GATE_POINT_BLAS, "dgemm_"), 100);

	options.cpu_limit_percent = 400.0;
	ck_assert_uint_eq(gate_pass(GATE_POINT_BLAS, "dgemm_"), 0);
}
END_TEST

START_TEST(worker_limit_from_topology)
{
	gate_status_t status;

	write_temperature("50000");
	snprintf(options.sysfs_root, sizeof(options.sysfs_root), "%s/thermal/cpu_topology",
	    test_getenv("SAFEEXEC_TEST_FIXTURES"));
	gate_init();
	gate_read_status(&status);
	ck_assert_uint_eq(status.physical_cores, 2);
	ck_assert_uint_eq(gate_worker_limit(), 2);
	options.max_workers = 3;
	ck_assert_uint_eq(gate_worker_limit(), 3);
}
END_TEST

START_TEST(blas_call_counter)
{
	gate_status_t status;

	write_temperature("50000");
	gate_init();
	gate_count_blas_call();
	gate_count_blas_call();
	gate_pass(GATE_POINT_BLAS, "dgemm_");
	gate_read_status(&status);
	ck_assert_uint_eq(status.blas_calls, 2);
	ck_assert_uint_eq(status.blas_gated, 1);
	ck_assert_uint_eq(status.paused_ms, 0);
	ck_assert_double_eq_tol(status.limit_celsius, 85.0, 1e-9);
	ck_assert_double_eq_tol(status.resume_celsius, 80.0, 1e-9);
	ck_assert_ptr_nonnull(strstr(status.source, temp_path));
}
END_TEST

static Suite *
gate_suite(void)
{
	Suite *suite = suite_create("gate");
	TCase *thermal = tcase_create("thermal");
	TCase *cpu = tcase_create("cpu");
	TCase *status = tcase_create("status");

	tcase_add_checked_fixture(thermal, setup, teardown);
	tcase_add_checked_fixture(cpu, setup, teardown);
	tcase_add_checked_fixture(status, setup, teardown);
	tcase_add_test(thermal, pause_until_resume_temperature);
	tcase_add_test(thermal, max_wait_then_proceed);
	tcase_add_test(thermal, hysteresis_between_resume_and_limit);
	tcase_add_test(thermal, no_sensor_no_gating);
	tcase_add_test(thermal, disabled_never_waits);
	tcase_add_test(cpu, cpu_psi_pause);
	tcase_add_test(cpu, cpu_loadavg_fallback);
	tcase_add_test(status, worker_limit_from_topology);
	tcase_add_test(status, blas_call_counter);
	suite_add_tcase(suite, thermal);
	suite_add_tcase(suite, cpu);
	suite_add_tcase(suite, status);
	return suite;
}

int
main(void)
{
	return test_run_suite(gate_suite());
}
