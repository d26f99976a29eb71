/*
 * The governor's shared state hammered from many threads, without the
 * interposed allocator, so ThreadSanitizer can watch it (scripts/sanitize
 * builds this suite with -Dsanitize_core=thread): the cleanup hook registry,
 * the log rate limiters, the gate's shared sensor reading and the
 * governor's view of the limit files. Each case also checks its own
 * invariants, so it is a real test in the plain and AddressSanitizer builds.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "gate.h"
#include "governor.h"
#include "log.h"
#include "options.h"
#include "test_support.h"

#define THREADS 8

static char *temp_dir;
static char log_path[1024];

static void
setup(void)
{
	options_load();
	temp_dir = test_make_temp_dir();
	snprintf(log_path, sizeof(log_path), "%s/log", temp_dir);
	log_configure(LOG_LEVEL_INFO, log_path);
}

static void
teardown(void)
{
	log_configure(LOG_LEVEL_WARN, "");
	test_remove_tree(temp_dir);
	free(temp_dir);
}

static void
start_threads(pthread_t *threads, int count, void *(*body)(void *), void *arg)
{
	int i;

	for (i = 0; i < count; i++) {
		ck_assert_int_eq(pthread_create(&threads[i], NULL, body, arg), 0);
	}
}

static void
join_threads(pthread_t *threads, int count)
{
	int i;

	for (i = 0; i < count; i++) {
		ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
	}
}

/* --- cleanup registry --- */

static _Atomic long hook_calls;
static _Atomic long registry_errors;
static _Atomic bool registry_stop;

static size_t
count_hook(void *arg)
{
	(void)arg;
	atomic_fetch_add(&hook_calls, 1);
	return 1;
}

static void *
register_loop(void *unused)
{
	int round;

	(void)unused;
	for (round = 0; round < 2000; round++) {
		int id = cleanup_register(count_hook, NULL, round % 5, "stress");

		if (id <= 0) {
			atomic_fetch_add(&registry_errors, 1);
			continue;
		}
		if (cleanup_unregister(id) != 0) {
			atomic_fetch_add(&registry_errors, 1);
		}
		/* A second removal of the same id finds nothing. */
		if (cleanup_unregister(id) != -ENOENT) {
			atomic_fetch_add(&registry_errors, 1);
		}
	}
	return NULL;
}

static void *
run_all_loop(void *unused)
{
	(void)unused;
	while (!atomic_load(&registry_stop)) {
		cleanup_run_all("stress");
	}
	return NULL;
}

START_TEST(registry_register_run_unregister)
{
	pthread_t registrars[THREADS], runners[2];
	long calls_after;

	log_configure(LOG_LEVEL_WARN, log_path);
	start_threads(runners, 2, run_all_loop, NULL);
	start_threads(registrars, THREADS, register_loop, NULL);
	join_threads(registrars, THREADS);
	atomic_store(&registry_stop, true);
	join_threads(runners, 2);

	ck_assert_int_eq(atomic_load(&registry_errors), 0);
	/* Every hook is gone: a run calls nothing and releases nothing. */
	calls_after = atomic_load(&hook_calls);
	ck_assert_uint_eq(cleanup_run_all("after"), 0);
	ck_assert_int_eq(atomic_load(&hook_calls), calls_after);
}
END_TEST

static _Atomic int registered_ids[CLEANUP_HOOKS_MAX + 16];

static void *
register_once(void *arg)
{
	int index = (int)(long)arg;

	atomic_store(&registered_ids[index], cleanup_register(count_hook, NULL, index,
	    "capacity"));
	return NULL;
}

START_TEST(registry_capacity_under_contention)
{
	enum { REQUESTS = CLEANUP_HOOKS_MAX + 16 };
	pthread_t threads[REQUESTS];
	int i, j, accepted = 0, rejected = 0;

	for (i = 0; i < REQUESTS; i++) {
		ck_assert_int_eq(pthread_create(&threads[i], NULL, register_once,
		    (void *)(long)i), 0);
	}
	join_threads(threads, REQUESTS);
	for (i = 0; i < REQUESTS; i++) {
		int id = atomic_load(&registered_ids[i]);

		if (id == -ENOSPC) {
			rejected++;
			continue;
		}
		ck_assert_int_gt(id, 0);
		accepted++;
		for (j = 0; j < i; j++) {
			ck_assert_int_ne(id, atomic_load(&registered_ids[j]));
		}
	}
	ck_assert_int_eq(accepted, CLEANUP_HOOKS_MAX);
	ck_assert_int_eq(rejected, REQUESTS - CLEANUP_HOOKS_MAX);
	ck_assert_uint_eq(cleanup_run_all("full"), CLEANUP_HOOKS_MAX);
	for (i = 0; i < REQUESTS; i++) {
		if (atomic_load(&registered_ids[i]) > 0) {
			ck_assert_int_eq(cleanup_unregister(atomic_load(&registered_ids[i])), 0);
		}
	}
}
END_TEST

/* --- log rate limiters --- */

#define LOG_ATTEMPTS 500

static log_limiter_t shared_limiter;

static void *
log_limited_loop(void *unused)
{
	int i;

	(void)unused;
	for (i = 0; i < LOG_ATTEMPTS; i++) {
		log_limited(&shared_limiter, 60000, LOG_LEVEL_WARN, "limited line %d", i);
	}
	return NULL;
}

static void *
log_message_loop(void *unused)
{
	int i;

	(void)unused;
	for (i = 0; i < LOG_ATTEMPTS; i++) {
		log_message(LOG_LEVEL_WARN, "global line %d", i);
	}
	return NULL;
}

/* Sums the "(N <marker>)" counts and the lines containing word; checks every line's format. */
static void
scan_log(const char *text, const char *word, const char *marker, long *lines, long *counted)
{
	const char *line = text;

	*lines = 0;
	*counted = 0;
	while (*line != '\0') {
		const char *end = strchr(line, '\n');
		const char *found;

		ck_assert_msg(end != NULL, "unterminated log line: %s", line);
		ck_assert_msg(strncmp(line + 19, " - safeexec - ", 14) == 0, "bad line: %.*s",
		    (int)(end - line), line);
		if ((found = strstr(line, word)) != NULL && found < end) {
			(*lines)++;
		}
		found = strstr(line, marker);
		if (found != NULL && found < end) {
			const char *open = found;

			while (open > line && *open != '(') {
				open--;
			}
			*counted += atol(open + 1);
		}
		line = end + 1;
	}
}

START_TEST(limiter_counts_every_attempt)
{
	pthread_t threads[THREADS];
	long lines, suppressed;
	char *text;

	start_threads(threads, THREADS, log_limited_loop, NULL);
	join_threads(threads, THREADS);
	/* The interval is a minute, so one line passed and the rest were counted. */
	text = test_read_file(log_path);
	ck_assert_ptr_nonnull(text);
	scan_log(text, "limited line", "similar messages suppressed", &lines, &suppressed);
	ck_assert_int_eq(lines, 1);
	/* The line that passed reports the attempts counted before it; the rest wait. */
	ck_assert_int_eq(suppressed + (long)atomic_load(&shared_limiter.suppressed),
	    THREADS * LOG_ATTEMPTS - 1);
	free(text);
}
END_TEST

START_TEST(global_rate_limit_counts_drops)
{
	pthread_t threads[THREADS];
	struct timespec pause = { 0, 300000000L };
	long lines, dropped;
	char *text;

	start_threads(threads, THREADS, log_message_loop, NULL);
	join_threads(threads, THREADS);
	/* After a pause the bucket has tokens again; this line reports what was dropped. */
	nanosleep(&pause, NULL);
	log_message(LOG_LEVEL_WARN, "final line");
	text = test_read_file(log_path);
	ck_assert_ptr_nonnull(text);
	scan_log(text, "global line", "earlier messages dropped", &lines, &dropped);
	ck_assert_int_gt(lines, 0);
	ck_assert_int_eq(lines + dropped, THREADS * LOG_ATTEMPTS);
	ck_assert_ptr_nonnull(strstr(text, "final line"));
	free(text);
}
END_TEST

/* --- the gate's shared reading --- */

static char temp_path[900];
static _Atomic bool writer_stop;
static _Atomic long bad_readings, gate_waits;

static void
write_temperature(const char *millidegrees)
{
	char text[32];

	snprintf(text, sizeof(text), "%s\n", millidegrees);
	test_replace_file(temp_path, text);
}

static void *
temperature_writer(void *unused)
{
	int round = 0;

	(void)unused;
	while (!atomic_load(&writer_stop)) {
		struct timespec pause = { 0, 1000000L };

		write_temperature(round++ % 2 == 0 ? "40000" : "60000");
		nanosleep(&pause, NULL);
	}
	return NULL;
}

static void *
gate_loop(void *unused)
{
	int i;

	(void)unused;
	for (i = 0; i < 2000; i++) {
		gate_status_t status;

		if (gate_pass(GATE_POINT_BLAS, "stress") != 0) {
			atomic_fetch_add(&gate_waits, 1);
		}
		gate_read_status(&status);
		/* Every reading is one of the two values written, never a mix. */
		if (!status.thermal_available || (status.celsius != 40.0 && status.celsius != 60.0)) {
			atomic_fetch_add(&bad_readings, 1);
		}
		gate_count_blas_call();
	}
	return NULL;
}

START_TEST(gate_shared_reading_under_threads)
{
	pthread_t threads[THREADS], writer;
	gate_status_t status;

	snprintf(temp_path, sizeof(temp_path), "%s/temp", temp_dir);
	snprintf(options.temp_source, sizeof(options.temp_source), "%s", temp_path);
	snprintf(options.proc_root, sizeof(options.proc_root), "%s/proc", temp_dir);
	snprintf(options.sysfs_root, sizeof(options.sysfs_root), "%s/sys", temp_dir);
	options.thermal_limit_celsius = 85.0;
	options.thermal_resume_celsius = 80.0;
	options.poll_ms = 1;
	write_temperature("40000");
	gate_init();

	ck_assert_int_eq(pthread_create(&writer, NULL, temperature_writer, NULL), 0);
	start_threads(threads, THREADS, gate_loop, NULL);
	join_threads(threads, THREADS);
	atomic_store(&writer_stop, true);
	ck_assert_int_eq(pthread_join(writer, NULL), 0);

	ck_assert_int_eq(atomic_load(&bad_readings), 0);
	ck_assert_int_eq(atomic_load(&gate_waits), 0);
	gate_read_status(&status);
	ck_assert_uint_eq(status.blas_calls, THREADS * 2000);
	ck_assert_double_eq(status.peak_celsius, 60.0);
	ck_assert_uint_eq(status.thermal_pauses, 0);
}
END_TEST

/* --- the governor's view of the limit files --- */

static governor_view_t first_view;
static _Atomic long view_mismatches;

static void *
view_loop(void *unused)
{
	int i;

	(void)unused;
	for (i = 0; i < 300; i++) {
		governor_view_t view;

		governor_read_view(&view);
		if (view.effective_source != first_view.effective_source
		    || view.effective_limit_bytes != first_view.effective_limit_bytes
		    || view.memtotal_bytes != first_view.memtotal_bytes
		    || view.rss_bytes != first_view.rss_bytes) {
			atomic_fetch_add(&view_mismatches, 1);
		}
	}
	return NULL;
}

START_TEST(governor_view_from_fixture_threads)
{
	pthread_t threads[THREADS];
	char root[900];

	snprintf(root, sizeof(root), "%s/limits/v2_parent_limit",
	    test_getenv("SAFEEXEC_TEST_FIXTURES"));
	snprintf(options.proc_root, sizeof(options.proc_root), "%s/proc", root);
	snprintf(options.sysfs_root, sizeof(options.sysfs_root), "%s/sys", root);
	governor_discover_limits();
	governor_read_view(&first_view);
	ck_assert_int_eq(first_view.effective_source, LIMIT_SOURCE_CGROUP_V2);
	ck_assert_uint_gt(first_view.effective_limit_bytes, 0);

	start_threads(threads, THREADS, view_loop, NULL);
	join_threads(threads, THREADS);
	ck_assert_int_eq(atomic_load(&view_mismatches), 0);
}
END_TEST

static Suite *
core_threads_suite(void)
{
	Suite *suite = suite_create("core_threads");
	TCase *registry = tcase_create("registry");
	TCase *logging = tcase_create("log");
	TCase *shared = tcase_create("shared_readings");

	tcase_add_checked_fixture(registry, setup, teardown);
	tcase_add_test(registry, registry_register_run_unregister);
	tcase_add_test(registry, registry_capacity_under_contention);
	tcase_add_checked_fixture(logging, setup, teardown);
	tcase_add_test(logging, limiter_counts_every_attempt);
	tcase_add_test(logging, global_rate_limit_counts_drops);
	tcase_add_checked_fixture(shared, setup, teardown);
	tcase_add_test(shared, gate_shared_reading_under_threads);
	tcase_add_test(shared, governor_view_from_fixture_threads);
	suite_add_tcase(suite, registry);
	suite_add_tcase(suite, logging);
	suite_add_tcase(suite, shared);
	return suite;
}

int
main(void)
{
	return test_run_suite(core_threads_suite());
}
