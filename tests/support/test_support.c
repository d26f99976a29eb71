/* Helpers shared by the Check suites; see test_support.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

extern char **environ;

const char *
test_getenv(const char *name)
{
	const char *value = getenv(name);

	ck_assert_msg(value != NULL, "environment variable %s is not set; run the "
	    "tests through meson test", name);
	return value;
}

const char *
test_prog_path(const char *name, char *buffer, size_t size)
{
	snprintf(buffer, size, "%s/progs/%s", test_getenv("SAFEEXEC_TEST_BUILD"), name);
	return buffer;
}

const char *
test_source_path(const char *relative, char *buffer, size_t size)
{
	snprintf(buffer, size, "%s/%s", test_getenv("SAFEEXEC_TEST_SOURCE_DIR"), relative);
	return buffer;
}

static double
test_now_seconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Builds the child's environment: ours, with extra entries replacing same-named ones. */
static char **
test_build_env(char *const extra_env[], bool preload)
{
	size_t count = 0, extra = 0, i, j, out = 0;
	char **env;
	static char preload_entry[PATH_MAX * 2];

	while (environ[count] != NULL) {
		count++;
	}
	while (extra_env != NULL && extra_env[extra] != NULL) {
		extra++;
	}
	env = calloc(count + extra + 2, sizeof(char *));
	ck_assert_ptr_nonnull(env);

	for (i = 0; i < count; i++) {
		const char *equals = strchr(environ[i], '=');
		size_t name_length = equals != NULL ? (size_t)(equals - environ[i]) : 0;
		bool replaced = preload && strncmp(environ[i], "LD_PRELOAD=", 11) == 0;

		for (j = 0; j < extra && !replaced; j++) {
			replaced = strncmp(extra_env[j], environ[i], name_length + 1) == 0;
		}
		if (!replaced) {
			env[out++] = environ[i];
		}
	}
	for (j = 0; j < extra; j++) {
		env[out++] = extra_env[j];
	}
	if (preload) {
		const char *old = getenv("LD_PRELOAD");

		snprintf(preload_entry, sizeof(preload_entry), "LD_PRELOAD=%s%s%s",
		    test_getenv("SAFEEXEC_SHIM"), old != NULL && old[0] != '\0' ? ":" : "",
		    old != NULL ? old : "");
		env[out++] = preload_entry;
	}
	env[out] = NULL;
	return env;
}

/* Appends what is readable on fd to *buffer; returns false at end of file. */
static bool
test_drain(int fd, char **buffer, size_t *length)
{
	char chunk[65536];
	ssize_t got = read(fd, chunk, sizeof(chunk));

	if (got <= 0) {
		return got < 0 && errno == EINTR;
	}
	*buffer = realloc(*buffer, *length + (size_t)got + 1);
	ck_assert_ptr_nonnull(*buffer);
	memcpy(*buffer + *length, chunk, (size_t)got);
	*length += (size_t)got;
	(*buffer)[*length] = '\0';
	return true;
}

int
test_run(char *const argv[], char *const extra_env[], bool preload, int timeout_s,
    run_result_t *result)
{
	int out_pipe[2], err_pipe[2], status = 0;
	size_t out_length = 0, err_length = 0;
	bool out_open = true, err_open = true, killed = false;
	double start = test_now_seconds();
	char **env = test_build_env(extra_env, preload);
	pid_t pid;

	memset(result, 0, sizeof(*result));
	result->out = calloc(1, 1);
	result->err = calloc(1, 1);
	if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
		free(env);
		return -1;
	}

	pid = fork();
	if (pid == 0) {
		dup2(out_pipe[1], STDOUT_FILENO);
		dup2(err_pipe[1], STDERR_FILENO);
		execve(argv[0], argv, env);
		fprintf(stderr, "execve %s failed: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(env);
	close(out_pipe[1]);
	close(err_pipe[1]);
	if (pid < 0) {
		close(out_pipe[0]);
		close(err_pipe[0]);
		return -1;
	}

	while (out_open || err_open) {
		struct pollfd fds[2] = {
			{ out_open ? out_pipe[0] : -1, POLLIN, 0 },
			{ err_open ? err_pipe[0] : -1, POLLIN, 0 },
		};
		int ready = poll(fds, 2, 200);

		if (!killed && test_now_seconds() - start > timeout_s) {
			kill(pid, SIGKILL);
			killed = true;
		}
		if (ready <= 0) {
			continue;
		}
		if (out_open && (fds[0].revents & (POLLIN | POLLHUP)) != 0) {
			out_open = test_drain(out_pipe[0], &result->out, &out_length);
		}
		if (err_open && (fds[1].revents & (POLLIN | POLLHUP)) != 0) {
			err_open = test_drain(err_pipe[0], &result->err, &err_length);
		}
	}
	close(out_pipe[0]);
	close(err_pipe[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}

	result->wall_seconds = test_now_seconds() - start;
	if (WIFSIGNALED(status)) {
		result->exit_code = -1;
		result->signal = WTERMSIG(status);
	} else {
		result->exit_code = WEXITSTATUS(status);
	}
	return 0;
}

void
test_run_free(run_result_t *result)
{
	free(result->out);
	free(result->err);
	result->out = NULL;
	result->err = NULL;
}

char *
test_make_temp_dir(void)
{
	char *path = strdup("/tmp/safeexec-test-XXXXXX");

	ck_assert_ptr_nonnull(path);
	ck_assert_ptr_nonnull(mkdtemp(path));
	return path;
}

static int
test_remove_entry(const char *path, const struct stat *info, int type, struct FTW *ftw)
{
	(void)info;
	(void)type;
	(void)ftw;
	return remove(path);
}

void
test_remove_tree(const char *path)
{
	/* Only trees this suite made under /tmp are removed. */
	if (path != NULL && strncmp(path, "/tmp/safeexec-test-", 19) == 0) {
		nftw(path, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
}

void
test_write_file(const char *dir, const char *relative, const char *text)
{
	char path[PATH_MAX];
	char *slash;
	FILE *file;

	snprintf(path, sizeof(path), "%s/%s", dir, relative);
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	file = fopen(path, "w");
	ck_assert_msg(file != NULL, "cannot create %s: %s", path, strerror(errno));
	fputs(text, file);
	fclose(file);
}

void
test_replace_file(const char *path, const char *text)
{
	char staging[PATH_MAX + 8];
	FILE *file;

	snprintf(staging, sizeof(staging), "%s.new", path);
	file = fopen(staging, "w");
	ck_assert_msg(file != NULL, "cannot create %s: %s", staging, strerror(errno));
	fputs(text, file);
	fclose(file);
	ck_assert_int_eq(rename(staging, path), 0);
}

char *
test_read_file(const char *path)
{
	FILE *file = fopen(path, "r");
	char *text;
	long length;

	if (file == NULL) {
		return NULL;
	}
	fseek(file, 0, SEEK_END);
	length = ftell(file);
	fseek(file, 0, SEEK_SET);
	text = calloc(1, (size_t)length + 1);
	ck_assert_ptr_nonnull(text);
	if (length > 0 && fread(text, 1, (size_t)length, file) != (size_t)length) {
		length = 0;
	}
	text[length] = '\0';
	fclose(file);
	return text;
}

int
test_run_suite(Suite *suite)
{
	SRunner *runner = srunner_create(suite);
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
