/*
 * Unit tests for the API's learning predictor (fit, sample table, history
 * file) and the L3 cache size reader. Linked with the sources directly.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_cache.h"
#include "api_predictor.h"
#include "options.h"
#include "test_support.h"

START_TEST(fit_recovers_line)
{
	/* peak = 1000 + 8 * x */
	const double x[] = { 100, 200, 400, 800 };
	const double y[] = { 1800, 2600, 4200, 7400 };
	prediction_method_t method;
	double value = predictor_fit(x, y, 4, 1600, &method);

	ck_assert_int_eq(method, PREDICTION_FIT);
	ck_assert_double_eq_tol(value, 1000 + 8 * 1600, 1e-6);
}
END_TEST

START_TEST(fit_one_size_uses_ratio)
{
	const double x[] = { 100, 100, 100 };
	const double y[] = { 900, 1000, 1100 };
	prediction_method_t method;
	double value = predictor_fit(x, y, 3, 200, &method);

	ck_assert_int_eq(method, PREDICTION_MEAN_RATIO);
	ck_assert_double_eq_tol(value, 2000, 1e-6);
}
END_TEST

START_TEST(fit_negative_slope_falls_back)
{
	const double x[] = { 100, 200 };
	const double y[] = { 2000, 1000 };
	prediction_method_t method;
	double value = predictor_fit(x, y, 2, 100, &method);

	/* Mean ratio: (20 + 5) / 2 = 12.5 per unit of x. */
	ck_assert_int_eq(method, PREDICTION_MEAN_RATIO);
	ck_assert_double_eq_tol(value, 1250, 1e-6);
}
END_TEST

START_TEST(fit_without_sizes_uses_mean)
{
	const double x[] = { 0, 0 };
	const double y[] = { 100, 300 };
	prediction_method_t method;
	double value = predictor_fit(x, y, 2, 0, &method);

	ck_assert_int_eq(method, PREDICTION_MEAN);
	ck_assert_double_eq_tol(value, 200, 1e-6);

	value = predictor_fit(x, y, 0, 5, &method);
	ck_assert_int_eq(method, PREDICTION_NONE);
	ck_assert_double_eq(value, 0);
}
END_TEST

START_TEST(size_is_product_of_positive_params)
{
	const double params[] = { 10, 0, 3, -2 };

	ck_assert_double_eq(predictor_size_of(params, 4), 30);
	ck_assert_double_eq(predictor_size_of(params, 1), 10);
	ck_assert_double_eq(predictor_size_of(params, 0), 0);
	ck_assert_double_eq(predictor_size_of(NULL, 2), 0);
}
END_TEST

START_TEST(names_are_normalized)
{
	char name[SAFEEXEC_OPERATION_MAX];
	char long_name[100];

	ck_assert(predictor_normalize_name("np.matmul:f64-v2", name));
	ck_assert_str_eq(name, "np.matmul:f64-v2");
	ck_assert(predictor_normalize_name("a b\tc/d", name));
	ck_assert_str_eq(name, "a_b_c_d");
	ck_assert(!predictor_normalize_name("", name));
	ck_assert(!predictor_normalize_name(NULL, name));

	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ck_assert(predictor_normalize_name(long_name, name));
	ck_assert_uint_eq(strlen(name), SAFEEXEC_OPERATION_MAX - 1);
}
END_TEST

START_TEST(record_then_predict)
{
	double params[2] = { 1000, 1000 };
	prediction_t prediction;

	predictor_reset();
	predictor_predict("matmul", params, 2, &prediction);
	ck_assert_int_eq(prediction.method, PREDICTION_NONE);
	ck_assert_uint_eq(prediction.bytes, 0);

	ck_assert_int_eq(predictor_record("matmul", params, 2, 8000000), 0);
	ck_assert_int_eq(predictor_record("matmul", params, 2, 8400000), 0);
	predictor_predict("matmul", params, 2, &prediction);
	ck_assert_int_eq(prediction.method, PREDICTION_MEAN_RATIO);
	ck_assert_uint_eq(prediction.samples, 2);
	ck_assert_uint_eq(prediction.bytes, 8200000);

	params[0] = 2000;
	predictor_predict("matmul", params, 2, &prediction);
	ck_assert_uint_eq(prediction.bytes, 16400000);

	ck_assert_int_eq(predictor_record("", params, 2, 1), EINVAL);
	ck_assert_int_eq(predictor_record("x", params, 5, 1), EINVAL);
	ck_assert_int_eq(predictor_record("x", NULL, 1, 1), EINVAL);
}
END_TEST

START_TEST(ring_keeps_newest_samples)
{
	double params[1];
	prediction_t prediction;
	int i;

	predictor_reset();
	/* 10 old samples at 1000 bytes per unit, then 32 new ones at 10 bytes per unit. */
	for (i = 0; i < 10; i++) {
		params[0] = 100;
		predictor_record("ring", params, 1, 100000);
	}
	for (i = 0; i < PREDICTOR_SAMPLES_MAX; i++) {
		params[0] = 100;
		predictor_record("ring", params, 1, 1000);
	}
	predictor_predict("ring", params, 1, &prediction);
	ck_assert_uint_eq(prediction.samples, PREDICTOR_SAMPLES_MAX);
	ck_assert_uint_eq(prediction.bytes, 1000);
}
END_TEST

START_TEST(table_evicts_least_recent_type)
{
	char name[32];
	double params[1] = { 1 };
	prediction_t prediction;
	int i;

	predictor_reset();
	for (i = 0; i < PREDICTOR_TYPES_MAX; i++) {
		snprintf(name, sizeof(name), "type%d", i);
		predictor_record(name, params, 1, 100 + (uint64_t)i);
	}
	/* Touch type0 so that type1 is now the least recently used. */
	predictor_predict("type0", params, 1, &prediction);
	ck_assert_uint_eq(prediction.bytes, 100);

	predictor_record("newcomer", params, 1, 7);
	predictor_predict("newcomer", params, 1, &prediction);
	ck_assert_uint_eq(prediction.bytes, 7);
	predictor_predict("type0", params, 1, &prediction);
	ck_assert_uint_eq(prediction.bytes, 100);
	predictor_predict("type1", params, 1, &prediction);
	ck_assert_int_eq(prediction.method, PREDICTION_NONE);
	predictor_predict("type2", params, 1, &prediction);
	ck_assert_uint_eq(prediction.bytes, 102);
}
END_TEST

START_TEST(history_round_trip)
{
	char *dir = test_make_temp_dir(), path[512], temp[600];
	double params[2] = { 300, 40 };
	prediction_t prediction;
	char *text;

	snprintf(path, sizeof(path), "%s/history", dir);
	predictor_reset();
	predictor_record("solve", params, 2, 1200000);
	params[0] = 600;
	predictor_record("solve", params, 2, 2400000);
	predictor_record("fft", NULL, 0, 4096);
	ck_assert_int_eq(predictor_save_file(path), 0);

	snprintf(temp, sizeof(temp), "%s.tmp.%d", path, (int)getpid());
	ck_assert_int_eq(access(temp, F_OK), -1);
	text = test_read_file(path);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "solve 2 300 40 0 0 1200000\n"));
	ck_assert_ptr_nonnull(strstr(text, "fft 0 0 0 0 0 4096\n"));
	free(text);

	predictor_reset();
	ck_assert_int_eq(predictor_load_file(path), 3);
	params[0] = 900;
	predictor_predict("solve", params, 2, &prediction);
	ck_assert_int_eq(prediction.method, PREDICTION_FIT);
	ck_assert_uint_eq(prediction.bytes, 3600000);
	predictor_predict("fft", NULL, 0, &prediction);
	ck_assert_uint_eq(prediction.bytes, 4096);

	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(history_skips_invalid_lines)
{
	char *dir = test_make_temp_dir(), path[512], long_line[2000];
	double params[1] = { 10 };
	prediction_t prediction;
	char *text;

	memset(long_line, 'a', sizeof(long_line) - 2);
	long_line[sizeof(long_line) - 2] = '\n';
	long_line[sizeof(long_line) - 1] = '\0';
	text = malloc(4096);
	ck_assert_ptr_nonnull(text);
	snprintf(text, 4096, "# safeexec history v1\n# comment\n\n"
	    "good 1 10 0 0 0 5000\n"
	    "bad name 1 10 0 0 0 5000\n"
	    "short 1 10 0\n"
	    "neg 1 -10 0 0 0 5000\n"
	    "nan 1 nan 0 0 0 5000\n"
	    "count 9 10 0 0 0 5000\n"
	    "zero 1 10 0 0 0 0\n"
	    "extra 1 10 0 0 0 5000 7\n"
	    "sign 1 10 0 0 0 -5\n"
	    "%s"
	    "good 1 10 0 0 0 7000",
	    long_line);
	test_write_file(dir, "history", text);
	free(text);
	snprintf(path, sizeof(path), "%s/history", dir);

	predictor_reset();
	ck_assert_int_eq(predictor_load_file(path), 2);
	predictor_predict("good", params, 1, &prediction);
	ck_assert_uint_eq(prediction.samples, 2);
	ck_assert_uint_eq(prediction.bytes, 6000);
	predictor_predict("neg", params, 1, &prediction);
	ck_assert_int_eq(prediction.method, PREDICTION_NONE);

	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(predictor_load_file(path), -ENOENT);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(save_into_missing_dir_fails)
{
	char *dir = test_make_temp_dir(), path[512];

	snprintf(path, sizeof(path), "%s/no/such/dir/history", dir);
	predictor_reset();
	predictor_record("x", NULL, 0, 1);
	ck_assert_int_eq(predictor_save_file(path), ENOENT);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

/* Writes size bytes of data to path, replacing the file. */
static void
write_bytes(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, size), (ssize_t)size);
	ck_assert_int_eq(close(fd), 0);
}

/* Fails unless the file at path contains exactly size bytes of data. */
static void
assert_file_bytes(const char *path, const void *data, size_t size)
{
	char buffer[1024];
	ssize_t length;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "%s is missing", path);
	length = read(fd, buffer, sizeof(buffer));
	close(fd);
	ck_assert_int_eq(length, (ssize_t)size);
	ck_assert_msg(memcmp(buffer, data, size) == 0, "%s was changed", path);
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

/* A file like numpy's .npz (a zip archive): binary, with NUL bytes and no header line. */
static const unsigned char foreign_bytes[] = {
	'P', 'K', 3, 4, 20, 0, 0, 0, 0, 0, 0, 0, '\n', 'x', '.', 'n', 'p', 'y', 0, 0,
	0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, '\n', 0xff, 0xfe, 0,
};

START_TEST(history_leaves_foreign_file_alone)
{
	char *dir = test_make_temp_dir(), path[512], other[600];

	snprintf(path, sizeof(path), "%s/results.npz", dir);
	write_bytes(path, foreign_bytes, sizeof(foreign_bytes));
	predictor_reset();
	ck_assert_int_eq(predictor_load_file(path), -EEXIST);

	predictor_record("x", NULL, 0, 1);
	ck_assert_int_eq(predictor_save_file(path), EEXIST);
	assert_file_bytes(path, foreign_bytes, sizeof(foreign_bytes));
	snprintf(other, sizeof(other), "%s.lock", path);
	ck_assert_int_eq(access(other, F_OK), -1);
	snprintf(other, sizeof(other), "%s.tmp.%d", path, (int)getpid());
	ck_assert_int_eq(access(other, F_OK), -1);

	/* The path stays rejected in this process, even after the file is gone. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(predictor_save_file(path), EEXIST);
	ck_assert_int_eq(access(path, F_OK), -1);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(history_rejects_text_without_header)
{
	static const char text[] = "# comment\ngood 1 10 0 0 0 5000\n";
	char *dir = test_make_temp_dir(), path[512];
	double params[1] = { 10 };
	prediction_t prediction;

	snprintf(path, sizeof(path), "%s/notes", dir);
	write_bytes(path, text, strlen(text));
	predictor_reset();
	ck_assert_int_eq(predictor_load_file(path), -EEXIST);
	predictor_predict("good", params, 1, &prediction);
	ck_assert_int_eq(prediction.method, PREDICTION_NONE);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(history_found_foreign_at_save)
{
	char *dir = test_make_temp_dir(), path[512];

	/* Another program creates the file after this process started. */
	snprintf(path, sizeof(path), "%s/history", dir);
	predictor_reset();
	ck_assert_int_eq(predictor_load_file(path), -ENOENT);
	predictor_record("x", NULL, 0, 1);
	write_bytes(path, foreign_bytes, sizeof(foreign_bytes));
	ck_assert_int_eq(predictor_save_file(path), EEXIST);
	assert_file_bytes(path, foreign_bytes, sizeof(foreign_bytes));
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(history_accepts_empty_and_old_files)
{
	static const char old[] = "# safeexec history: operation param_count p0 p1 p2 p3 "
	    "peak_bytes\nsolve 1 10 0 0 0 5000\n";
	char *dir = test_make_temp_dir(), path[512];
	char *text;

	snprintf(path, sizeof(path), "%s/empty", dir);
	write_bytes(path, "", 0);
	predictor_reset();
	ck_assert_int_eq(predictor_load_file(path), 0);
	predictor_record("fft", NULL, 0, 4096);
	ck_assert_int_eq(predictor_save_file(path), 0);
	text = test_read_file(path);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_eq(strstr(text, PREDICTOR_HISTORY_HEADER), text);
	ck_assert_ptr_nonnull(strstr(text, "\nfft 0 0 0 0 0 4096\n"));
	free(text);

	snprintf(path, sizeof(path), "%s/old", dir);
	write_bytes(path, old, strlen(old));
	predictor_reset();
	ck_assert_int_eq(predictor_load_file(path), 1);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(history_refuses_symlink)
{
	char *dir = test_make_temp_dir(), path[512], target[512];
	static const char text[] = PREDICTOR_HISTORY_HEADER "\nsolve 1 10 0 0 0 5000\n";
	struct stat status;

	snprintf(target, sizeof(target), "%s/target", dir);
	snprintf(path, sizeof(path), "%s/history", dir);
	write_bytes(target, text, strlen(text));
	ck_assert_int_eq(symlink(target, path), 0);
	predictor_reset();
	ck_assert_int_eq(predictor_load_file(path), -ELOOP);
	predictor_record("x", NULL, 0, 1);
	ck_assert_int_eq(predictor_save_file(path), ELOOP);
	assert_file_bytes(target, text, strlen(text));
	ck_assert_int_eq(lstat(path, &status), 0);
	ck_assert(S_ISLNK(status.st_mode));
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(history_refuses_fifo_and_directory)
{
	char *dir = test_make_temp_dir(), path[512];
	struct stat status;

	/* Opening a FIFO for reading would block without O_NONBLOCK. */
	alarm(30);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	predictor_reset();
	ck_assert_int_eq(predictor_load_file(path), -EINVAL);
	predictor_record("x", NULL, 0, 1);
	ck_assert_int_eq(predictor_save_file(path), EINVAL);
	ck_assert_int_eq(lstat(path, &status), 0);
	ck_assert(S_ISFIFO(status.st_mode));

	snprintf(path, sizeof(path), "%s/directory", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(predictor_load_file(path), -EINVAL);
	ck_assert_int_eq(predictor_save_file(path), EINVAL);
	alarm(0);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(history_save_ignores_planted_temp_link)
{
	char *dir = test_make_temp_dir(), path[512], temp[600], victim[512];
	static const char text[] = "victim\n";
	char *saved;

	snprintf(path, sizeof(path), "%s/history", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(temp, sizeof(temp), "%s.tmp.%d", path, (int)getpid());
	write_bytes(victim, text, strlen(text));
	ck_assert_int_eq(symlink(victim, temp), 0);
	predictor_reset();
	predictor_record("x", NULL, 0, 1);
	ck_assert_int_eq(predictor_save_file(path), 0);
	assert_file_bytes(victim, text, strlen(text));
	saved = test_read_file(path);
	ck_assert_ptr_nonnull(saved);
	ck_assert_ptr_nonnull(strstr(saved, "\nx 0 0 0 0 0 1\n"));
	free(saved);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(history_save_keeps_file_mode)
{
	char *dir = test_make_temp_dir(), path[512];
	static const char text[] = PREDICTOR_HISTORY_HEADER "\n";
	struct stat status;

	snprintf(path, sizeof(path), "%s/history", dir);
	write_bytes(path, text, strlen(text));
	ck_assert_int_eq(chmod(path, 0600), 0);
	predictor_reset();
	predictor_record("x", NULL, 0, 1);
	ck_assert_int_eq(predictor_save_file(path), 0);
	ck_assert_int_eq(stat(path, &status), 0);
	ck_assert_uint_eq(status.st_mode & 0777, 0600);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(history_save_merges_with_file)
{
	char *dir = test_make_temp_dir(), path[512], *text;
	double params[1] = { 10 };
	int i;

	/* Another process saved 3 samples of "theirs" and 32 of "shared". */
	snprintf(path, sizeof(path), "%s/history", dir);
	predictor_reset();
	for (i = 0; i < 3; i++) {
		predictor_record("theirs", params, 1, 1000);
	}
	for (i = 0; i < PREDICTOR_SAMPLES_MAX; i++) {
		predictor_record("shared", params, 1, 1000);
	}
	ck_assert_int_eq(predictor_save_file(path), 0);

	/* This process saves 2 samples of "mine" and 5 newer ones of "shared". */
	predictor_reset();
	for (i = 0; i < 2; i++) {
		predictor_record("mine", params, 1, 2000);
	}
	for (i = 0; i < 5; i++) {
		predictor_record("shared", params, 1, 3000);
	}
	ck_assert_int_eq(predictor_save_file(path), 0);
	/* A second save without new samples adds nothing. */
	ck_assert_int_eq(predictor_save_file(path), 0);

	text = test_read_file(path);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(count_lines_starting(text, "theirs 1 10 0 0 0 1000\n"), 3);
	ck_assert_int_eq(count_lines_starting(text, "mine 1 10 0 0 0 2000\n"), 2);
	ck_assert_int_eq(count_lines_starting(text, "shared "), PREDICTOR_SAMPLES_MAX);
	ck_assert_int_eq(count_lines_starting(text, "shared 1 10 0 0 0 3000\n"), 5);
	free(text);

	predictor_record("mine", params, 1, 2000);
	ck_assert_int_eq(predictor_save_file(path), 0);
	text = test_read_file(path);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(count_lines_starting(text, "mine 1 10 0 0 0 2000\n"), 3);
	free(text);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(history_save_waits_for_lock)
{
	char *dir = test_make_temp_dir(), path[512], lock_path[600];
	int fd;

	/* flock conflicts between two open file descriptions, even in one process. */
	snprintf(path, sizeof(path), "%s/history", dir);
	snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	predictor_reset();
	predictor_record("x", NULL, 0, 1);
	ck_assert_int_eq(predictor_save_file(path), ETIMEDOUT);
	ck_assert_int_eq(access(path, F_OK), -1);

	close(fd);
	ck_assert_int_eq(predictor_save_file(path), 0);
	ck_assert_int_eq(access(path, F_OK), 0);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

#define HISTORY_SAVERS 8
#define HISTORY_SAVER_SAMPLES 5

/* One saver process: records its own type and the shared one, waits for go, saves. */
static void
history_saver_run(const char *path, int index, int go_fd)
{
	char name[32], byte;
	double params[1] = { 10 + index };
	int i;

	alarm(60);
	predictor_reset();
	snprintf(name, sizeof(name), "saver%d", index);
	for (i = 0; i < HISTORY_SAVER_SAMPLES; i++) {
		predictor_record(name, params, 1, 1000 + (uint64_t)index);
		predictor_record("shared", params, 1, 1000 + (uint64_t)index);
	}
	/* read returns 0 for every saver at once when the parent closes the pipe. */
	if (read(go_fd, &byte, 1) != 0) {
		_exit(3);
	}
	_exit(predictor_save_file(path) == 0 ? 0 : 4);
}

START_TEST(history_concurrent_saves_keep_all)
{
	char *dir = test_make_temp_dir(), path[512], prefix[64], *text;
	pid_t pids[HISTORY_SAVERS];
	int go[2], i, status;

	snprintf(path, sizeof(path), "%s/history", dir);
	ck_assert_int_eq(pipe(go), 0);
	for (i = 0; i < HISTORY_SAVERS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			close(go[1]);
			history_saver_run(path, i, go[0]);
		}
	}
	close(go[0]);
	close(go[1]);
	for (i = 0; i < HISTORY_SAVERS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "saver %d ended with status 0x%x", i, status);
	}

	text = test_read_file(path);
	ck_assert_ptr_nonnull(text);
	for (i = 0; i < HISTORY_SAVERS; i++) {
		snprintf(prefix, sizeof(prefix), "saver%d 1 %d 0 0 0 %d\n", i, 10 + i, 1000 + i);
		ck_assert_msg(count_lines_starting(text, prefix) == HISTORY_SAVER_SAMPLES,
		    "saver %d kept %d of %d samples in:\n%s", i, count_lines_starting(text, prefix),
		    HISTORY_SAVER_SAMPLES, text);
	}
	ck_assert_int_eq(count_lines_starting(text, "shared "), PREDICTOR_SAMPLES_MAX);
	free(text);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(cache_size_parser)
{
	uint64_t bytes = 0;

	ck_assert(cache_parse_size("32768K\n", &bytes));
	ck_assert_uint_eq(bytes, 32ULL << 20);
	ck_assert(cache_parse_size("8M", &bytes));
	ck_assert_uint_eq(bytes, 8ULL << 20);
	ck_assert(cache_parse_size("1048576", &bytes));
	ck_assert_uint_eq(bytes, 1ULL << 20);
	ck_assert(!cache_parse_size("", &bytes));
	ck_assert(!cache_parse_size("K", &bytes));
	ck_assert(!cache_parse_size("12G", &bytes));
	ck_assert(!cache_parse_size("0K", &bytes));
	ck_assert(!cache_parse_size("12 K", &bytes));
}
END_TEST

START_TEST(cache_size_from_fixture_sysfs)
{
	char *dir = test_make_temp_dir();
	const char *source = NULL;

	test_write_file(dir, "devices/system/cpu/cpu0/cache/index3/size", "16384K\n");
	snprintf(options.sysfs_root, sizeof(options.sysfs_root), "%s", dir);
	ck_assert_uint_eq(cache_l3_bytes(&source), 16ULL << 20);
	ck_assert_str_eq(source, "sysfs");
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(cache_size_default_without_sysfs)
{
	char *dir = test_make_temp_dir();
	const char *source = NULL;

	snprintf(options.sysfs_root, sizeof(options.sysfs_root), "%s", dir);
	ck_assert_uint_eq(cache_l3_bytes(&source), CACHE_L3_DEFAULT_BYTES);
	ck_assert_str_eq(source, "default");
	test_remove_tree(dir);
	free(dir);
}
END_TEST

static Suite *
api_predictor_suite(void)
{
	Suite *suite = suite_create("api_predictor");
	TCase *fit = tcase_create("fit");
	TCase *table = tcase_create("table");
	TCase *history = tcase_create("history");
	TCase *cache = tcase_create("cache");

	tcase_add_test(fit, fit_recovers_line);
	tcase_add_test(fit, fit_one_size_uses_ratio);
	tcase_add_test(fit, fit_negative_slope_falls_back);
	tcase_add_test(fit, fit_without_sizes_uses_mean);
	tcase_add_test(fit, size_is_product_of_positive_params);
	tcase_add_test(table, names_are_normalized);
	tcase_add_test(table, record_then_predict);
	tcase_add_test(table, ring_keeps_newest_samples);
	tcase_add_test(table, table_evicts_least_recent_type);
	tcase_add_test(history, history_round_trip);
	tcase_add_test(history, history_skips_invalid_lines);
	tcase_add_test(history, save_into_missing_dir_fails);
	tcase_add_test(history, history_leaves_foreign_file_alone);
	tcase_add_test(history, history_rejects_text_without_header);
	tcase_add_test(history, history_found_foreign_at_save);
	tcase_add_test(history, history_accepts_empty_and_old_files);
	tcase_add_test(history, history_refuses_symlink);
	tcase_add_test(history, history_refuses_fifo_and_directory);
	tcase_add_test(history, history_save_ignores_planted_temp_link);
	tcase_add_test(history, history_save_keeps_file_mode);
	tcase_add_test(history, history_save_merges_with_file);
	tcase_add_test(history, history_save_waits_for_lock);
	tcase_add_test(history, history_concurrent_saves_keep_all);
	tcase_add_test(cache, cache_size_parser);
	tcase_add_test(cache, cache_size_from_fixture_sysfs);
	tcase_add_test(cache, cache_size_default_without_sysfs);
	suite_add_tcase(suite, fit);
	suite_add_tcase(suite, table);
	suite_add_tcase(suite, history);
	suite_add_tcase(suite, cache);
	return suite;
}

int
main(void)
{
	return test_run_suite(api_predictor_suite());
}
