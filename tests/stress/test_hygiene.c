/*
 * Resource hygiene while the shim works hard in a program (large requests,
 * refusals under a budget, stalls, mmap, threads, log and trace files). The
 * shim leaves no descriptor open and opens every descriptor with O_CLOEXEC.
 * It copes with a program that closes every descriptor above 2. It changes
 * neither the signal dispositions, the signal mask, the resource limits,
 * nor errno on successful calls. hygiene_probe does the work and reports; each case
 * compares a run with the shim against a run without it. In the runs with
 * the shim, libsxopenspy is preloaded ahead of it and reports every open(2)
 * made without O_CLOEXEC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static char *temp_dir;
static char log_entry[1100], trace_entry[1100], log_path[1024], trace_path[1024];

static void
setup(void)
{
	temp_dir = test_make_temp_dir();
	snprintf(log_path, sizeof(log_path), "%s/safeexec.log", temp_dir);
	snprintf(trace_path, sizeof(trace_path), "%s/trace.txt", temp_dir);
	snprintf(log_entry, sizeof(log_entry), "SAFEEXEC_LOG_FILE=%s", log_path);
	snprintf(trace_entry, sizeof(trace_entry), "SAFEEXEC_TRACE_FILE=%s", trace_path);
}

static void
teardown(void)
{
	test_remove_tree(temp_dir);
	free(temp_dir);
}

/*
 * Runs hygiene_probe MODE [ARG]. With preload, the open spy and the shim are
 * preloaded, and the shim gets a budget, a log file and a trace file.
 */
static void
run_probe(const char *mode, const char *arg, bool preload, run_result_t *result)
{
	char path[1024], preload_entry[2200];
	char *argv[] = { path, (char *)mode, (char *)arg, NULL };
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=256M", "SAFEEXEC_STALL_TIMEOUT=100ms",
	    "SAFEEXEC_LOG_LEVEL=info", log_entry, trace_entry, preload_entry, NULL };
	const char *build = test_getenv("SAFEEXEC_TEST_BUILD");

	snprintf(path, sizeof(path), "%s/stress/hygiene_probe", build);
	snprintf(preload_entry, sizeof(preload_entry), "LD_PRELOAD=%s/stress/libsxopenspy.so:%s",
	    build, test_getenv("SAFEEXEC_SHIM"));
	ck_assert_int_eq(test_run(argv, preload ? env : NULL, false, 120, result), 0);
	ck_assert_msg(result->exit_code == 0, "hygiene_probe %s exited %d: %s", mode,
	    result->exit_code, result->err);
}

/* Copies the value of "key=" (up to the end of its line) into out. */
static void
value_of(const char *out, const char *key, char *value, size_t size)
{
	char pattern[64];
	const char *found, *end;

	snprintf(pattern, sizeof(pattern), "%s=", key);
	found = strstr(out, pattern);
	ck_assert_msg(found != NULL, "no %s in: %s", key, out);
	found += strlen(pattern);
	end = strchr(found, '\n');
	ck_assert_ptr_nonnull(end);
	ck_assert_uint_lt((size_t)(end - found), size);
	memcpy(value, found, (size_t)(end - found));
	value[end - found] = '\0';
}

/* Asserts that the shim wrote to its log and trace files, so it did open files. */
static void
assert_shim_files_written(void)
{
	char *log_text = test_read_file(log_path), *trace_text = test_read_file(trace_path);

	ck_assert_ptr_nonnull(log_text);
	ck_assert_ptr_nonnull(trace_text);
	ck_assert_ptr_nonnull(strstr(log_text, "refused malloc"));
	ck_assert_ptr_nonnull(strstr(trace_text, "kind=event name=refusal"));
	free(log_text);
	free(trace_text);
}

START_TEST(no_descriptor_left_open)
{
	char plain_start[1024], start[1024], end[1024], not_cloexec[32];
	run_result_t plain, shim;

	run_probe("fds", NULL, false, &plain);
	run_probe("fds", NULL, true, &shim);
	value_of(plain.out, "fds_start", plain_start, sizeof(plain_start));
	value_of(shim.out, "fds_start", start, sizeof(start));
	value_of(shim.out, "fds_end", end, sizeof(end));
	value_of(shim.out, "not_cloexec", not_cloexec, sizeof(not_cloexec));

	/* The constructor left nothing open, and neither did the work. */
	ck_assert_str_eq(start, plain_start);
	ck_assert_str_eq(end, start);
	/* Every open(2) of the shim had O_CLOEXEC, as had what the scanner saw open. */
	ck_assert_msg(strstr(shim.err, "open_spy: opens=") != NULL, "%s", shim.err);
	ck_assert_ptr_null(strstr(shim.err, "open_spy: opens=0 "));
	ck_assert_msg(strstr(shim.err, " not_cloexec=0 ") != NULL, "%s", shim.err);
	ck_assert_str_eq(not_cloexec, "0");
	assert_shim_files_written();
	test_run_free(&plain);
	test_run_free(&shim);
}
END_TEST

START_TEST(program_closes_all_descriptors)
{
	char own_path[1100], value[32], expected[1200];
	run_result_t shim;

	snprintf(own_path, sizeof(own_path), "%s/own.txt", temp_dir);
	run_probe("closefds", own_path, true, &shim);
	value_of(shim.out, "own_fd", value, sizeof(value));
	ck_assert_str_eq(value, "3");
	/* The shim's log and trace lines never went into the program's descriptor 3. */
	value_of(shim.out, "own_file_intact", value, sizeof(value));
	ck_assert_str_eq(value, "1");
	/* The program's own open, without O_CLOEXEC, is the only one the spy flags. */
	snprintf(expected, sizeof(expected), " not_cloexec=1 first=%s\n", own_path);
	ck_assert_msg(strstr(shim.err, expected) != NULL, "%s", shim.err);
	assert_shim_files_written();
	test_run_free(&shim);
}
END_TEST

START_TEST(signal_dispositions_unchanged)
{
	char plain_start[64], start[64], end[64];
	run_result_t plain, shim;

	run_probe("signals", NULL, false, &plain);
	run_probe("signals", NULL, true, &shim);
	value_of(plain.out, "signals_start", plain_start, sizeof(plain_start));
	value_of(shim.out, "signals_start", start, sizeof(start));
	value_of(shim.out, "signals_end", end, sizeof(end));
	ck_assert_str_eq(start, plain_start);
	ck_assert_str_eq(end, start);
	test_run_free(&plain);
	test_run_free(&shim);
}
END_TEST

START_TEST(errno_kept_on_success)
{
	char changed[32], names[512];
	run_result_t shim;

	run_probe("errno", NULL, true, &shim);
	value_of(shim.out, "errno_changed", changed, sizeof(changed));
	value_of(shim.out, "changed", names, sizeof(names));
	ck_assert_msg(strcmp(changed, "0") == 0, "errno changed by: %s", names);
	assert_shim_files_written();
	test_run_free(&shim);
}
END_TEST

START_TEST(resource_limits_unchanged)
{
	char plain_start[1024], start[1024], end[1024];
	run_result_t plain, shim;

	run_probe("rlimits", NULL, false, &plain);
	run_probe("rlimits", NULL, true, &shim);
	value_of(plain.out, "rlimits_start", plain_start, sizeof(plain_start));
	value_of(shim.out, "rlimits_start", start, sizeof(start));
	value_of(shim.out, "rlimits_end", end, sizeof(end));
	ck_assert_str_eq(start, plain_start);
	ck_assert_str_eq(end, start);
	test_run_free(&plain);
	test_run_free(&shim);
}
END_TEST

static Suite *
hygiene_suite(void)
{
	Suite *suite = suite_create("hygiene");
	TCase *descriptors = tcase_create("descriptors");
	TCase *state = tcase_create("process_state");

	tcase_add_checked_fixture(descriptors, setup, teardown);
	tcase_add_test(descriptors, no_descriptor_left_open);
	tcase_add_test(descriptors, program_closes_all_descriptors);
	tcase_add_checked_fixture(state, setup, teardown);
	tcase_add_test(state, signal_dispositions_unchanged);
	tcase_add_test(state, errno_kept_on_success);
	tcase_add_test(state, resource_limits_unchanged);
	suite_add_tcase(suite, descriptors);
	suite_add_tcase(suite, state);
	return suite;
}

int
main(void)
{
	return test_run_suite(hygiene_suite());
}
