/*
 * scripts/experiments/chaotic_recall.py under the shim, scaled down. The
 * batched run finishes under a budget that its first batch exceeds, and the
 * naive run ends in a caught MemoryError. A run stopped by SIGTERM and then
 * by SIGKILL resumes to the same results as an uninterrupted run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

#define PYTHON "/usr/bin/python3"
#define EXPERIMENT "../scripts/experiments/chaotic_recall.py"

/*
 * 300 trials of 800 neurons over 150 steps: all at once they need 288 MB
 * for the trajectories alone, more than the 256 MB budget minus its margin,
 * while half of them fit.
 */
#define BUDGET_ARGS "--pattern-size", "800", "--patterns", "40", "--trials", "60", \
	"--noise", "0,0.1,0.2,0.3,0.4", "--steps", "150"
/* 24 small trials in batches of at most 3, slow enough to be interrupted. */
#define RESUME_ARGS "--pattern-size", "200", "--patterns", "10", "--trials", "8", \
	"--noise", "0,0.2,0.4", "--steps", "40", "--max-batch", "3"
#define RESUME_TRIALS 24

static char *
python_path_entry(void)
{
	static char entry[1024];

	snprintf(entry, sizeof(entry), "PYTHONPATH=%s/../python",
	    test_getenv("SAFEEXEC_TEST_SOURCE_DIR"));
	return entry;
}

static const char *
experiment_path(void)
{
	static char path[1024];

	return test_source_path(EXPERIMENT, path, sizeof(path));
}

/* dir/name in one of 4 static buffers, reused in turn: copy a path that must last. */
static char *
join_path(const char *dir, const char *name)
{
	static char paths[4][PATH_MAX];
	static int next;
	char *path = paths[next++ % 4];

	snprintf(path, PATH_MAX, "%s/%s", dir, name);
	return path;
}

/* Mean overlap of noise level `noise` in the printed table, or -2 if absent. */
static double
table_overlap(const char *out, double noise)
{
	const char *line = strstr(out, "noise  trials  mean overlap");

	while (line != NULL && (line = strchr(line, '\n')) != NULL) {
		double level, overlap;
		int trials;

		line++;
		if (sscanf(line, "%lf %d %lf", &level, &trials, &overlap) != 3) {
			break;
		}
		if (level > noise - 1e-9 && level < noise + 1e-9) {
			return overlap;
		}
	}
	return -2;
}

/* Number of lines in a file, or 0 if it is missing. */
static int
count_lines(const char *path)
{
	char *text = test_read_file(path);
	int lines = 0;

	for (const char *cursor = text; cursor != NULL && *cursor != '\0'; cursor++) {
		lines += *cursor == '\n';
	}
	free(text);
	return lines;
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The trial lines of results.jsonl (every line but the config line), sorted. */
static char **
sorted_trial_lines(const char *path, int *count)
{
	char *text = test_read_file(path);
	char **lines = calloc(4096, sizeof(char *));
	char *saveptr = NULL;
	char *line;

	ck_assert_msg(text != NULL, "%s is missing", path);
	*count = 0;
	for (line = strtok_r(text, "\n", &saveptr); line != NULL;
	    line = strtok_r(NULL, "\n", &saveptr)) {
		if (strncmp(line, "{\"config\"", 9) == 0 || strstr(line, "\"format\"") != NULL) {
			continue;
		}
		ck_assert_int_lt(*count, 4096);
		lines[(*count)++] = strdup(line);
	}
	free(text);
	qsort(lines, (size_t)*count, sizeof(char *), compare_strings);
	return lines;
}

static void
run_experiment(char *const extra_args[], char *const env[], run_result_t *result)
{
	char *argv[40] = { PYTHON, (char *)experiment_path() };
	int argc = 2;

	for (int i = 0; extra_args[i] != NULL; i++) {
		argv[argc++] = extra_args[i];
	}
	argv[argc] = NULL;
	ck_assert_int_eq(test_run(argv, env, true, 400, result), 0);
}

START_TEST(batched_run_reduces_batches)
{
	char *dir = test_make_temp_dir();
	char *args[] = { "--out", dir, "--initial-batch", "300", BUDGET_ARGS, NULL };
	char *env[] = { python_path_entry(), "SAFEEXEC_MEMORY_LIMIT=256M",
	    "SAFEEXEC_STALL_TIMEOUT=0", NULL };
	run_result_t result;
	const char *reductions;
	int reduction_count = 0;

	run_experiment(args, env, &result);
	ck_assert_msg(result.exit_code == 0, "batched run exited %d (signal %d):\n%s%s",
	    result.exit_code, result.signal, result.out, result.err);
	reductions = strstr(result.out, "reductions after MemoryError");
	ck_assert_msg(reductions != NULL, "no batch line in:\n%s", result.out);
	while (reductions > result.out && reductions[-1] == ' ') {
		reductions--;
	}
	while (reductions > result.out && reductions[-1] >= '0' && reductions[-1] <= '9') {
		reductions--;
	}
	reduction_count = atoi(reductions);
	ck_assert_msg(reduction_count >= 1, "no batch reduction under the budget:\n%s",
	    result.out);

	/* 300 trials saved, one line each, after the config line. */
	ck_assert_int_eq(count_lines(join_path(dir, "results.jsonl")), 301);
	ck_assert_int_eq(access(join_path(dir, "summary.json"), R_OK), 0);

	/* Load 0.05: clean cues are recalled, and recall falls with the noise. */
	ck_assert_double_ge(table_overlap(result.out, 0.0), 0.95);
	ck_assert_double_ge(table_overlap(result.out, 0.1), 0.9);
	ck_assert_double_lt(table_overlap(result.out, 0.4), table_overlap(result.out, 0.0) - 0.2);
	ck_assert_double_gt(table_overlap(result.out, 0.4), -1.0);
	test_run_free(&result);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(naive_run_catches_memory_error)
{
	char *dir = test_make_temp_dir();
	char *args[] = { "--out", dir, "--naive", BUDGET_ARGS, NULL };
	char *env[] = { python_path_entry(), "SAFEEXEC_MEMORY_LIMIT=256M",
	    "SAFEEXEC_STALL_TIMEOUT=0", NULL };
	run_result_t result;
	char *failure;

	run_experiment(args, env, &result);
	ck_assert_msg(result.signal == 0, "naive run was killed by signal %d:\n%s%s",
	    result.signal, result.out, result.err);
	ck_assert_msg(result.exit_code == 3, "naive run exited %d, expected 3:\n%s%s",
	    result.exit_code, result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "naive: caught MemoryError"));
	ck_assert_ptr_nonnull(strstr(result.out, "could not simulate any of the 300 trials"));
	failure = test_read_file(join_path(dir, "naive_failure.json"));
	ck_assert_ptr_nonnull(failure);
	ck_assert_ptr_nonnull(strstr(failure, "\"error\": \"MemoryError\""));
	free(failure);
	ck_assert_int_eq(access(join_path(dir, "network.npz"), R_OK), 0);
	test_run_free(&result);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

/* Starts the experiment under the shim without waiting; output goes to files in dir. */
static pid_t
spawn_experiment(const char *dir, const char *out_name)
{
	char preload[PATH_MAX + 16];
	pid_t pid;

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", test_getenv("SAFEEXEC_SHIM"));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *argv[] = { PYTHON, (char *)experiment_path(), "--out",
		    join_path(dir, "results"), "--delay-per-batch", "0.3", RESUME_ARGS, NULL };
		int fd = open(join_path(dir, out_name), O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		putenv(preload);
		putenv(python_path_entry());
		execv(PYTHON, argv);
		_exit(127);
	}
	return pid;
}

/* Waits until results.jsonl has more than `lines` lines; fails after 120 s. */
static void
wait_for_lines(const char *dir, int lines)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	const char *path = join_path(dir, "results/results.jsonl");

	for (int i = 0; i < 6000; i++) {
		if (count_lines(path) > lines) {
			return;
		}
		nanosleep(&pause, NULL);
	}
	ck_abort_msg("%s did not grow past %d lines in 120 s", path, lines);
}

static int
wait_for_exit(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		ck_assert_int_eq(errno, EINTR);
	}
	return status;
}

START_TEST(resume_after_kill_matches_full_run)
{
	char *dir = test_make_temp_dir();
	char full_dir[PATH_MAX], results_dir[PATH_MAX];
	char *full_args[] = { "--out", full_dir, RESUME_ARGS, NULL };
	char *resume_args[] = { "--out", results_dir, RESUME_ARGS, NULL };
	char *env[] = { python_path_entry(), NULL };
	char **full_lines, **resumed_lines;
	int full_count, resumed_count, saved, status;
	run_result_t result;
	char *output;
	pid_t pid;

	snprintf(full_dir, sizeof(full_dir), "%s/full", dir);
	snprintf(results_dir, sizeof(results_dir), "%s/results", dir);
	run_experiment(full_args, env, &result);
	ck_assert_msg(result.exit_code == 0, "uninterrupted run exited %d:\n%s%s",
	    result.exit_code, result.out, result.err);
	test_run_free(&result);

	/* SIGTERM after the first saved batch: a clean stop with exit status 143. */
	pid = spawn_experiment(dir, "term.out");
	wait_for_lines(dir, 1);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	status = wait_for_exit(pid);
	output = test_read_file(join_path(dir, "term.out"));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 143,
	    "after SIGTERM the run ended with wait status 0x%x:\n%s", status, output);
	ck_assert_ptr_nonnull(strstr(output, "interrupted by signal 15"));
	free(output);
	saved = count_lines(join_path(dir, "results/results.jsonl"));
	ck_assert_msg(saved < RESUME_TRIALS + 1, "the run finished before SIGTERM arrived");

	/* SIGKILL after the resumed run saved another batch: no chance to clean up. */
	pid = spawn_experiment(dir, "kill.out");
	wait_for_lines(dir, saved);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	status = wait_for_exit(pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "the run ended before SIGKILL arrived (wait status 0x%x)", status);
	output = test_read_file(join_path(dir, "kill.out"));
	ck_assert_msg(strstr(output, "resuming: ") != NULL, "second run did not resume:\n%s",
	    output);
	free(output);
	saved = count_lines(join_path(dir, "results/results.jsonl"));
	ck_assert_msg(saved < RESUME_TRIALS + 1, "the run finished before SIGKILL arrived");

	run_experiment(resume_args, env, &result);
	ck_assert_msg(result.exit_code == 0, "final run exited %d:\n%s%s",
	    result.exit_code, result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "resuming: "));
	test_run_free(&result);

	full_lines = sorted_trial_lines(join_path(dir, "full/results.jsonl"), &full_count);
	resumed_lines = sorted_trial_lines(join_path(dir, "results/results.jsonl"),
	    &resumed_count);
	ck_assert_int_eq(full_count, RESUME_TRIALS);
	ck_assert_int_eq(resumed_count, RESUME_TRIALS);
	for (int i = 0; i < full_count; i++) {
		ck_assert_str_eq(resumed_lines[i], full_lines[i]);
		free(full_lines[i]);
		free(resumed_lines[i]);
	}
	free(full_lines);
	free(resumed_lines);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

static Suite *
experiment_suite(void)
{
	Suite *suite = suite_create("experiment");
	TCase *tcase = tcase_create("experiment");

	tcase_set_timeout(tcase, 600);
	tcase_add_test(tcase, batched_run_reduces_batches);
	tcase_add_test(tcase, naive_run_catches_memory_error);
	tcase_add_test(tcase, resume_after_kill_matches_full_run);
	suite_add_tcase(suite, tcase);
	return suite;
}

int
main(void)
{
	return test_run_suite(experiment_suite());
}
