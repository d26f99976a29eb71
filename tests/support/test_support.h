/* Helpers shared by the Check suites: run child processes, temp dirs, files. */
#ifndef SX_TEST_SUPPORT_H
#define SX_TEST_SUPPORT_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

/* Output and status of a finished child process. */
typedef struct {
	int exit_code;       /* -1 if killed by a signal */
	int signal;          /* 0 unless killed by a signal */
	char *out;           /* stdout, NUL-terminated, owned by the result */
	char *err;           /* stderr, NUL-terminated, owned by the result */
	double wall_seconds;
} run_result_t;

/*
 * Runs argv with extra environment entries ("NAME=value", NULL-terminated,
 * may be NULL) added to the current environment. When preload is true the
 * built shim ($SAFEEXEC_SHIM) is prepended to LD_PRELOAD. Kills the child
 * (by pid) after timeout_s. Returns 0 or -1 if it could not start.
 */
int test_run(char *const argv[], char *const extra_env[], bool preload,
    int timeout_s, run_result_t *result);
void test_run_free(run_result_t *result);

/* Path of a built test program in tests/progs, e.g. "alloc_matrix". */
const char *test_prog_path(const char *name, char *buffer, size_t size);
/* Path of a file in the source tree's tests folder, e.g. "py/numpy_ops.py". */
const char *test_source_path(const char *relative, char *buffer, size_t size);
/* Required environment variable, failing the test when it is missing. */
const char *test_getenv(const char *name);

/* Creates a fresh temporary directory; removed by test_remove_tree. */
char *test_make_temp_dir(void);
void test_remove_tree(const char *path);
/* Writes text to dir/relative, creating parent directories. */
void test_write_file(const char *dir, const char *relative, const char *text);
/*
 * Replaces path's content with text atomically (write a sibling, then
 * rename), so a concurrent reader never sees half a value.
 */
void test_replace_file(const char *path, const char *text);
/* Reads a whole file; NULL if missing. Caller frees. */
char *test_read_file(const char *path);

/* Runs a Check suite and returns the process exit status. */
int test_run_suite(Suite *suite);

#endif
