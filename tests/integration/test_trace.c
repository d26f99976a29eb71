/*
 * The trace file (SAFEEXEC_TRACE_FILE): record format, periodic samples,
 * events from marks and refusals, a sampler in forked children, an
 * unwritable path, and scripts/safeexec-plot turning a trace into a PNG.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.h"

#define PYTHON "/usr/bin/python3"

static const char *const record_keys[] = { "t", "epoch", "pid", "kind", "name", "value",
	"rss", "usage", "limit", "margin", "headroom", "temp", "stalls", "refusals", "detail" };
#define RECORD_KEY_COUNT (sizeof(record_keys) / sizeof(record_keys[0]))

static char *
python_path_entry(void)
{
	static char entry[1024];

	snprintf(entry, sizeof(entry), "PYTHONPATH=%s/../python",
	    test_getenv("SAFEEXEC_TEST_SOURCE_DIR"));
	return entry;
}

/* Checks that a record line has exactly the documented keys in order. */
static void
check_record_keys(const char *line)
{
	char copy[1024];
	char *saveptr = NULL;
	char *field;
	size_t index = 0;

	ck_assert_uint_lt(strlen(line), sizeof(copy));
	strcpy(copy, line);
	for (field = strtok_r(copy, " ", &saveptr); field != NULL;
	    field = strtok_r(NULL, " ", &saveptr), index++) {
		size_t key_length = strcspn(field, "=");

		ck_assert_msg(index < RECORD_KEY_COUNT, "extra field %s in: %s", field, line);
		ck_assert_msg(field[key_length] == '=' && strlen(record_keys[index]) == key_length
		    && strncmp(field, record_keys[index], key_length) == 0,
		    "field %zu is %s, expected %s=: %s", index, field, record_keys[index], line);
	}
	ck_assert_msg(index == RECORD_KEY_COUNT, "only %zu fields in: %s", index, line);
}

/* Counts the record lines of pid that contain every one of the given fragments. */
static int
count_records(const char *trace, long pid, const char *fragment1, const char *fragment2)
{
	char pid_field[32];
	const char *line = trace;
	int count = 0;

	snprintf(pid_field, sizeof(pid_field), " pid=%ld ", pid);
	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t length = end != NULL ? (size_t)(end - line) : strlen(line);
		char record[1024];

		if (length < sizeof(record)) {
			memcpy(record, line, length);
			record[length] = '\0';
			count += strstr(record, pid_field) != NULL
			    && (fragment1 == NULL || strstr(record, fragment1) != NULL)
			    && (fragment2 == NULL || strstr(record, fragment2) != NULL);
		}
		line = end != NULL ? end + 1 : NULL;
	}
	return count;
}

/* Runs tests/py/py_trace_events.py with trace_path as the trace file; returns its text. */
static char *
write_trace(const char *trace_path, long *parent, long *child)
{
	char trace_entry[PATH_MAX + 32], script[1024];
	char *env[] = { python_path_entry(), trace_entry, "SAFEEXEC_MEMORY_LIMIT=256M",
	    "SAFEEXEC_STALL_TIMEOUT=0", NULL };
	char *argv[] = { PYTHON, (char *)test_source_path("py/py_trace_events.py", script,
	    sizeof(script)), NULL };
	run_result_t result;
	const char *pids;
	char *trace;

	snprintf(trace_entry, sizeof(trace_entry), "SAFEEXEC_TRACE_FILE=%s", trace_path);
	ck_assert_int_eq(test_run(argv, env, true, 120, &result), 0);
	ck_assert_msg(result.exit_code == 0, "py_trace_events.py exited %d:\n%s%s",
	    result.exit_code, result.out, result.err);
	pids = strstr(result.out, "parent=");
	ck_assert_msg(pids != NULL && sscanf(pids, "parent=%ld child=%ld", parent, child) == 2,
	    "no pids in:\n%s", result.out);
	test_run_free(&result);

	trace = test_read_file(trace_path);
	ck_assert_msg(trace != NULL, "no trace file at %s", trace_path);
	return trace;
}

START_TEST(trace_has_samples_and_events)
{
	char *dir = test_make_temp_dir();
	char trace_path[PATH_MAX];
	char *trace, *copy, *line, *saveptr = NULL;
	long parent, child;
	int records = 0;

	snprintf(trace_path, sizeof(trace_path), "%s/trace.txt", dir);
	trace = write_trace(trace_path, &parent, &child);

	ck_assert_msg(strncmp(trace, "# safeexec trace v1", 19) == 0,
	    "the trace does not start with its format comment:\n%.300s", trace);
	copy = strdup(trace);
	for (line = strtok_r(copy, "\n", &saveptr); line != NULL;
	    line = strtok_r(NULL, "\n", &saveptr)) {
		if (line[0] != '#') {
			check_record_keys(line);
			records++;
		}
	}
	free(copy);
	ck_assert_int_ge(records, 5);

	/* The parent: start and exit samples, samples every 100 ms over about 1 s. */
	ck_assert_int_eq(count_records(trace, parent, "kind=sample name=start", NULL), 1);
	ck_assert_int_eq(count_records(trace, parent, "kind=sample name=exit", NULL), 1);
	ck_assert_int_ge(count_records(trace, parent, "kind=sample name=interval", NULL), 4);
	ck_assert_int_ge(count_records(trace, parent, "kind=sample", " limit=268435456 "), 4);
	/* The mark, with its space turned into '_', and the refusal in the counters. */
	ck_assert_int_eq(count_records(trace, parent, "kind=event name=mark",
	    "detail=phase:start_run"), 1);
	ck_assert_int_eq(count_records(trace, parent, "kind=event name=mark",
	    "detail=phase:done"), 1);
	ck_assert_int_ge(count_records(trace, parent, "kind=sample", " refusals=1 "), 1);

	/* The forked child restarted its own sampler on its first mark. */
	ck_assert_int_eq(count_records(trace, child, "kind=event name=mark",
	    "detail=child:forked"), 1);
	ck_assert_int_ge(count_records(trace, child, "kind=sample name=interval", NULL), 2);

	free(trace);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(trace_unwritable_path_warns)
{
	char *env[] = { "SAFEEXEC_TRACE_FILE=/tmp/safeexec-test-missing-dir/x/trace.txt", NULL };
	char *argv[] = { PYTHON, "-c", "import time; time.sleep(0.3); print('ran')", NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, env, true, 60, &result), 0);
	ck_assert_msg(result.exit_code == 0, "exited %d:\n%s", result.exit_code, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "ran"));
	ck_assert_ptr_nonnull(strstr(result.err, "failed to open the trace file"));
	/* Warned once, not once per record. */
	ck_assert_ptr_null(strstr(strstr(result.err, "failed to open the trace file") + 1,
	    "failed to open the trace file"));
	test_run_free(&result);
}
END_TEST

START_TEST(plot_writes_png)
{
	char *dir = test_make_temp_dir();
	char trace_path[PATH_MAX], png_path[PATH_MAX], plot[1024];
	char *argv[] = { PYTHON, (char *)test_source_path("../scripts/safeexec-plot", plot,
	    sizeof(plot)), trace_path, png_path, NULL };
	static const unsigned char png_signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n',
		0x1a, '\n' };
	unsigned char header[8];
	run_result_t result;
	long parent, child;
	struct stat info;
	FILE *png;

	snprintf(trace_path, sizeof(trace_path), "%s/trace.txt", dir);
	snprintf(png_path, sizeof(png_path), "%s/trace.png", dir);
	free(write_trace(trace_path, &parent, &child));

	ck_assert_int_eq(test_run(argv, NULL, false, 120, &result), 0);
	ck_assert_msg(result.exit_code == 0, "safeexec-plot exited %d:\n%s%s", result.exit_code,
	    result.out, result.err);
	ck_assert_int_eq(stat(png_path, &info), 0);
	ck_assert_int_gt(info.st_size, 10000);
	png = fopen(png_path, "rb");
	ck_assert_ptr_nonnull(png);
	ck_assert_uint_eq(fread(header, 1, sizeof(header), png), sizeof(header));
	fclose(png);
	ck_assert_mem_eq(header, png_signature, sizeof(png_signature));
	test_run_free(&result);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(plot_rejects_empty_trace)
{
	char *dir = test_make_temp_dir();
	char trace_path[PATH_MAX], png_path[PATH_MAX], plot[1024];
	char *argv[] = { PYTHON, (char *)test_source_path("../scripts/safeexec-plot", plot,
	    sizeof(plot)), trace_path, png_path, NULL };
	run_result_t result;

	test_write_file(dir, "trace.txt", "# safeexec trace v1: no records\n");
	snprintf(trace_path, sizeof(trace_path), "%s/trace.txt", dir);
	snprintf(png_path, sizeof(png_path), "%s/trace.png", dir);
	ck_assert_int_eq(test_run(argv, NULL, false, 60, &result), 0);
	ck_assert_int_eq(result.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(result.err, "holds no trace records"));
	ck_assert_int_ne(access(png_path, F_OK), 0);
	test_run_free(&result);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

static Suite *
trace_suite(void)
{
	Suite *suite = suite_create("trace");
	TCase *tcase = tcase_create("trace");

	tcase_set_timeout(tcase, 300);
	tcase_add_test(tcase, trace_has_samples_and_events);
	tcase_add_test(tcase, trace_unwritable_path_warns);
	tcase_add_test(tcase, plot_writes_png);
	tcase_add_test(tcase, plot_rejects_empty_trace);
	suite_add_tcase(suite, tcase);
	return suite;
}

int
main(void)
{
	return test_run_suite(trace_suite());
}
