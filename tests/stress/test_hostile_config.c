/*
 * Hostile configuration: garbage, overflowing numbers, negative sizes,
 * percentages above 100, unknown keys, huge, unreadable, foreign-owned and
 * group-writable config files, FIFOs and symlinks where files are expected,
 * and secure execution (AT_SECURE). Each bad setting must produce one clear
 * warning and keep the default. The host program, a shell with the shim
 * preloaded, must print its own output and exit with its own status.
 * Values are read back with options_probe, which loads the options as the
 * shim does. tests/unit/test_options.c and tests/integration/test_governor.c
 * cover the launcher's handling of the simpler cases.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.h"

#define SX_ARRAY_SIZE_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The host: its output and status are what a bad setting must not change. */
#define HOST_SCRIPT "echo host ran; exit 3"
#define NOBODY "65534"

static char *temp_dir;
static char config_path[1024];
static char config_entry[1100];

static void
setup(void)
{
	temp_dir = test_make_temp_dir();
	/* Readable by the unprivileged user that some cases run as. */
	chmod(temp_dir, 0755);
	snprintf(config_path, sizeof(config_path), "%s/safeexec.conf", temp_dir);
	snprintf(config_entry, sizeof(config_entry), "SAFEEXEC_CONFIG=%s", config_path);
}

static void
teardown(void)
{
	test_remove_tree(temp_dir);
	free(temp_dir);
}

static const char *
build_path(const char *name, char *buffer, size_t size)
{
	snprintf(buffer, size, "%s/stress/%s", test_getenv("SAFEEXEC_TEST_BUILD"), name);
	return buffer;
}

static void
write_config(const char *text, mode_t mode)
{
	test_write_file(temp_dir, "safeexec.conf", text);
	ck_assert_int_eq(chmod(config_path, mode), 0);
}

static int
count_of(const char *text, const char *needle)
{
	int count = 0;

	for (text = strstr(text, needle); text != NULL; text = strstr(text + 1, needle)) {
		count++;
	}
	return count;
}

/* Runs the host shell with the shim preloaded and checks its output and status. */
static void
run_host(char *const env[], run_result_t *result)
{
	char *argv[] = { "/bin/sh", "-c", HOST_SCRIPT, NULL };

	ck_assert_int_eq(test_run(argv, env, true, 60, result), 0);
	ck_assert_msg(result->exit_code == 3, "host exited %d (signal %d): %s", result->exit_code,
	    result->signal, result->err);
	ck_assert_str_eq(result->out, "host ran\n");
}

/* Runs options_probe without the shim and returns its output, which the caller frees. */
static char *
probe_options(char *const env[])
{
	char path[1024];
	char *argv[] = { (char *)build_path("options_probe", path, sizeof(path)), NULL };
	run_result_t result;
	char *out;

	ck_assert_int_eq(test_run(argv, env, false, 60, &result), 0);
	ck_assert_msg(result.exit_code == 0, "options_probe exited %d: %s", result.exit_code,
	    result.err);
	out = result.out;
	result.out = NULL;
	test_run_free(&result);
	return out;
}

/* Asserts that options_probe's output has the line "key=value". */
static void
assert_option(const char *probe_out, const char *key, const char *value)
{
	char line[256];

	snprintf(line, sizeof(line), "\n%s=%s\n", key, value);
	ck_assert_msg(strstr(probe_out, line) != NULL, "expected %s=%s in:\n%s", key, value,
	    probe_out);
}

/* Asserts one warning about each key, then that the host ran and every value stayed default. */
static void
check_each_rejected_once(const char *const keys[], size_t count)
{
	char *env[] = { config_entry, NULL };
	run_result_t result;
	char *probe;
	size_t i;

	run_host(env, &result);
	for (i = 0; i < count; i++) {
		char needle[128];

		snprintf(needle, sizeof(needle), "' for %s (SAFEEXEC_", keys[i]);
		ck_assert_msg(count_of(result.err, needle) == 1, "expected one warning about %s:\n%s",
		    keys[i], result.err);
	}
	test_run_free(&result);

	probe = probe_options(env);
	assert_option(probe, "memory_limit", "0");
	assert_option(probe, "safety_margin", "10%");
	assert_option(probe, "large_threshold", "1048576");
	assert_option(probe, "stall_timeout", "2000ms");
	assert_option(probe, "psi_threshold", "40");
	assert_option(probe, "thermal_limit", "85");
	assert_option(probe, "max_workers", "0");
	assert_option(probe, "poll_ms", "500ms");
	free(probe);
}

START_TEST(overflowing_numbers)
{
	static const char *const keys[] = {
		"memory_limit", "large_threshold", "stall_timeout", "thermal_limit",
		"max_workers", "blas_min_flops", "cpu_limit", "psi_threshold", "poll_ms",
	};

	write_config("memory_limit = 99999999999999999999999G\nlarge_threshold = 1e400\n"
	    "stall_timeout = 1e308s\nthermal_limit = 1e999\n"
	    "max_workers = 18446744073709551617\nblas_min_flops = 1e31\ncpu_limit = inf\n"
	    "psi_threshold = nan\npoll_ms = 0x7fffffffffffffff\n", 0644);
	check_each_rejected_once(keys, SX_ARRAY_SIZE_OF(keys));
}
END_TEST

START_TEST(negative_sizes)
{
	static const char *const keys[] = {
		"memory_limit", "safety_margin", "large_threshold", "stall_timeout", "poll_ms",
		"max_workers", "thermal_limit",
	};

	write_config("memory_limit = -1\nsafety_margin = -10%\nlarge_threshold = -4096\n"
	    "stall_timeout = -2s\npoll_ms = -1\nmax_workers = -3\nthermal_limit = -300\n", 0644);
	check_each_rejected_once(keys, SX_ARRAY_SIZE_OF(keys));
}
END_TEST

START_TEST(percentages_above_100)
{
	static const char *const keys[] = { "memory_limit", "safety_margin", "psi_threshold" };

	write_config("memory_limit = 100.5%\nsafety_margin = 1000%\npsi_threshold = 150\n", 0644);
	check_each_rejected_once(keys, SX_ARRAY_SIZE_OF(keys));
}
END_TEST

START_TEST(garbage_bytes)
{
	static const char garbage[] = "\x01\x02\xff\xfe[safeexec\n=value without key\n"
	    "memory_limit\n\x7f\x1b[31m = \xc3\x28\n[safeexec]\nmemory_limit = 3G\x01junk\n";
	char *env[] = { config_entry, NULL };
	char long_line[6000];
	run_result_t result;
	char *probe;
	FILE *file;

	memset(long_line, 'k', sizeof(long_line) - 2);
	long_line[sizeof(long_line) - 2] = '\n';
	long_line[sizeof(long_line) - 1] = '\0';
	file = fopen(config_path, "w");
	ck_assert_ptr_nonnull(file);
	/* The NUL bytes of garbage go into the file too. */
	ck_assert_uint_eq(fwrite(garbage, 1, sizeof(garbage), file), sizeof(garbage));
	fputs(long_line, file);
	fclose(file);
	chmod(config_path, 0644);

	run_host(env, &result);
	ck_assert_msg(strstr(result.err, "syntax error") != NULL, "%s", result.err);
	test_run_free(&result);
	probe = probe_options(env);
	assert_option(probe, "memory_limit", "0");
	free(probe);
}
END_TEST

START_TEST(unknown_keys_and_sections)
{
	char *env[] = { config_entry, NULL };
	run_result_t result;
	char *probe;

	write_config("memroy_limit = 1G\n[other]\nmemory_limit = 1G\n[safeexec]\n"
	    "stall_timeout = 3s\n", 0644);
	run_host(env, &result);
	ck_assert_int_eq(count_of(result.err, "unknown option 'memroy_limit'"), 1);
	ck_assert_int_eq(count_of(result.err, "section [other]"), 1);
	test_run_free(&result);
	/* The valid line after the bad ones still applies. */
	probe = probe_options(env);
	assert_option(probe, "memory_limit", "0");
	assert_option(probe, "stall_timeout", "3000ms");
	free(probe);
}
END_TEST

START_TEST(huge_file_ignored)
{
	char *env[] = { config_entry, NULL };
	run_result_t result;
	char *text, *probe;
	size_t i, length = 0, size = 1 << 20;

	text = malloc(size + 64);
	ck_assert_ptr_nonnull(text);
	length += (size_t)sprintf(text, "memory_limit = 3G\n");
	for (i = 0; length + 32 < size; i++) {
		length += (size_t)sprintf(text + length, "# filler line %zu\n", i);
	}
	write_config(text, 0644);
	free(text);

	run_host(env, &result);
	ck_assert_int_eq(count_of(result.err, "not a regular file of at most 65536 bytes"), 1);
	test_run_free(&result);
	probe = probe_options(env);
	assert_option(probe, "memory_limit", "0");
	free(probe);
}
END_TEST

START_TEST(directory_and_fifo_ignored)
{
	char fifo_entry[1200], dir_entry[1200], fifo_path[1100];
	char *fifo_env[] = { fifo_entry, NULL }, *dir_env[] = { dir_entry, NULL };
	run_result_t result;

	snprintf(fifo_path, sizeof(fifo_path), "%s/fifo.conf", temp_dir);
	ck_assert_int_eq(mkfifo(fifo_path, 0644), 0);
	snprintf(fifo_entry, sizeof(fifo_entry), "SAFEEXEC_CONFIG=%s", fifo_path);
	snprintf(dir_entry, sizeof(dir_entry), "SAFEEXEC_CONFIG=%s", temp_dir);

	/* A FIFO is never opened, so the host cannot block waiting for a writer. */
	run_host(fifo_env, &result);
	ck_assert_int_eq(count_of(result.err, "is not a regular file"), 1);
	test_run_free(&result);
	run_host(dir_env, &result);
	ck_assert_int_eq(count_of(result.err, "is not a regular file"), 1);
	test_run_free(&result);
}
END_TEST

START_TEST(group_writable_rejected)
{
	char *env[] = { config_entry, NULL };
	run_result_t result;
	char *probe;

	write_config("memory_limit = 3G\n", 0620);
	run_host(env, &result);
	ck_assert_int_eq(count_of(result.err, "writable by group or others (mode 620)"), 1);
	test_run_free(&result);
	probe = probe_options(env);
	assert_option(probe, "memory_limit", "0");
	free(probe);
}
END_TEST

START_TEST(foreign_owner_rejected)
{
	char *env[] = { config_entry, NULL };
	run_result_t result;
	char *probe;

	write_config("memory_limit = 3G\n", 0644);
	if (geteuid() != 0) {
		/* Giving a file away needs root. The other cases still run. */
		printf("foreign_owner_rejected: skipped, chown to uid " NOBODY " needs root\n");
		return;
	}
	ck_assert_int_eq(chown(config_path, 65534, 65534), 0);
	run_host(env, &result);
	ck_assert_int_eq(count_of(result.err, "is owned by uid 65534, not by root or you"), 1);
	test_run_free(&result);
	probe = probe_options(env);
	assert_option(probe, "memory_limit", "0");
	free(probe);
}
END_TEST

/*
 * Root reads a mode-0000 file anyway, so as root the host runs as uid 65534
 * (nobody) through setpriv. The file stays root's, which the trust check accepts.
 */
START_TEST(unreadable_file_ignored)
{
	char preload[1200];
	char *direct_argv[] = { "/bin/sh", "-c", HOST_SCRIPT, NULL };
	char *nobody_argv[] = { "/usr/bin/setpriv", "--reuid=" NOBODY, "--regid=" NOBODY,
	    "--clear-groups", "--", "/usr/bin/env", preload, "/bin/sh", "-c", HOST_SCRIPT,
	    NULL };
	char *env[] = { config_entry, NULL };
	bool as_root = geteuid() == 0;
	run_result_t result;

	write_config("memory_limit = 3G\n", 0);
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", test_getenv("SAFEEXEC_SHIM"));
	if (as_root) {
		ck_assert_msg(access("/usr/bin/setpriv", X_OK) == 0, "setpriv (util-linux) missing");
	}
	ck_assert_int_eq(test_run(as_root ? nobody_argv : direct_argv, env, !as_root, 60,
	    &result), 0);
	ck_assert_msg(result.exit_code == 3, "host exited %d: %s", result.exit_code, result.err);
	ck_assert_str_eq(result.out, "host ran\n");
	ck_assert_msg(count_of(result.err, "cannot open config file") == 1, "%s", result.err);
	ck_assert_ptr_nonnull(strstr(result.err, "Permission denied"));
	test_run_free(&result);
}
END_TEST

START_TEST(symlinked_log_file_not_followed)
{
	char log_entry[1200], link_path[1100], target_path[1100];
	char *env[] = { log_entry, "SAFEEXEC_LOG_LEVEL=info", NULL };
	run_result_t result;
	struct stat info;

	snprintf(link_path, sizeof(link_path), "%s/safeexec.log", temp_dir);
	snprintf(target_path, sizeof(target_path), "%s/victim", temp_dir);
	ck_assert_int_eq(symlink(target_path, link_path), 0);
	snprintf(log_entry, sizeof(log_entry), "SAFEEXEC_LOG_FILE=%s", link_path);

	run_host(env, &result);
	/* One warning, then the lines go to stderr. The symlink's target is never created. */
	ck_assert_msg(count_of(result.err, "it is a symbolic link, which is not followed") == 1,
	    "%s", result.err);
	ck_assert_ptr_nonnull(strstr(result.err, "INFO - active in pid"));
	ck_assert_int_eq(stat(target_path, &info), -1);
	ck_assert_int_eq(errno, ENOENT);
	test_run_free(&result);
}
END_TEST

/* Regression: each of these paths used to block the host in the shim's constructor. */
START_TEST(fifo_paths_do_not_block)
{
	static const char *const variables[] = {
		"SAFEEXEC_TEMP_SOURCE", "SAFEEXEC_LOG_FILE", "SAFEEXEC_TRACE_FILE",
	};
	char fifo_path[1100], entry[1200];
	char *env[] = { entry, "SAFEEXEC_LOG_LEVEL=info", NULL };
	run_result_t result;
	size_t i;

	snprintf(fifo_path, sizeof(fifo_path), "%s/fifo", temp_dir);
	ck_assert_int_eq(mkfifo(fifo_path, 0600), 0);
	for (i = 0; i < SX_ARRAY_SIZE_OF(variables); i++) {
		snprintf(entry, sizeof(entry), "%s=%s", variables[i], fifo_path);
		run_host(env, &result);
		ck_assert_msg(result.wall_seconds < 30, "%s: %.1f s", variables[i],
		    result.wall_seconds);
		test_run_free(&result);
	}
}
END_TEST

/*
 * Paths that fit the options (900 bytes) but not the readers' buffers (512
 * bytes), and paths past the options' 1023 bytes, which are rejected. The
 * host must run either way.
 */
START_TEST(overlong_paths)
{
	static const char *const variables[] = {
		"SAFEEXEC_PROC_ROOT", "SAFEEXEC_SYSFS_ROOT", "SAFEEXEC_TEMP_SOURCE",
		"SAFEEXEC_LOG_FILE", "SAFEEXEC_TRACE_FILE", "SAFEEXEC_HISTORY_FILE",
	};
	static const size_t lengths[] = { 900, 2000 };
	char entry[2100];
	char *env[] = { entry, "SAFEEXEC_MEMORY_LIMIT=1G", "SAFEEXEC_LOG_LEVEL=debug", NULL };
	run_result_t result;
	size_t i, j, k, prefix;

	for (i = 0; i < SX_ARRAY_SIZE_OF(variables); i++) {
		for (j = 0; j < SX_ARRAY_SIZE_OF(lengths); j++) {
			prefix = (size_t)snprintf(entry, sizeof(entry), "%s=", variables[i]);
			for (k = 0; k < lengths[j]; k += 2) {
				entry[prefix + k] = '/';
				entry[prefix + k + 1] = 'x';
			}
			entry[prefix + lengths[j]] = '\0';
			run_host(env, &result);
			if (lengths[j] > 1023) {
				ck_assert_msg(strstr(result.err, "a path shorter than 1024 bytes") != NULL,
				    "%s: %s", variables[i], result.err);
			}
			test_run_free(&result);
		}
	}
}
END_TEST

static void
install_copy(const char *from, const char *to, mode_t mode)
{
	char *argv[] = { "/bin/cp", (char *)from, (char *)to, NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, NULL, false, 30, &result), 0);
	ck_assert_int_eq(result.exit_code, 0);
	test_run_free(&result);
	/* Owned by uid 1 (daemon), so a setuid copy changes the effective uid of uid 65534. */
	ck_assert_int_eq(chown(to, 1, 1), 0);
	ck_assert_int_eq(chmod(to, mode), 0);
}

/*
 * Secure execution: a setuid copy of options_probe, run by uid 65534, gets
 * AT_SECURE and must ignore SAFEEXEC_* and SAFEEXEC_CONFIG's user file.
 * A plain copy run the same way is the control.
 */
START_TEST(secure_execution_ignores_environment)
{
	char probe[1024], setuid_copy[1100], plain_copy[1100], user_config[1100];
	char config_env[1200];
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=3G", "SAFEEXEC_LOG_LEVEL=debug", config_env,
	    NULL };
	char *setuid_argv[] = { "/usr/bin/setpriv", "--reuid=" NOBODY, "--regid=" NOBODY,
	    "--clear-groups", "--", setuid_copy, NULL };
	char *plain_argv[] = { "/usr/bin/setpriv", "--reuid=" NOBODY, "--regid=" NOBODY,
	    "--clear-groups", "--", plain_copy, NULL };
	run_result_t plain, secure;

	if (geteuid() != 0) {
		printf("secure_execution_ignores_environment: skipped, making a setuid copy "
		    "owned by another user needs root\n");
		return;
	}
	build_path("options_probe", probe, sizeof(probe));
	snprintf(setuid_copy, sizeof(setuid_copy), "%s/probe-setuid", temp_dir);
	snprintf(plain_copy, sizeof(plain_copy), "%s/probe-plain", temp_dir);
	install_copy(probe, setuid_copy, 04755);
	install_copy(probe, plain_copy, 0755);
	snprintf(user_config, sizeof(user_config), "%s/user.conf", temp_dir);
	test_write_file(temp_dir, "user.conf", "stall_timeout = 9s\n");
	ck_assert_int_eq(chown(user_config, 65534, 65534), 0);
	snprintf(config_env, sizeof(config_env), "SAFEEXEC_CONFIG=%s", user_config);

	ck_assert_int_eq(test_run(plain_argv, env, false, 30, &plain), 0);
	ck_assert_msg(plain.exit_code == 0, "%s", plain.err);
	assert_option(plain.out, "memory_limit", "3221225472");
	assert_option(plain.out, "stall_timeout", "9000ms");
	ck_assert_ptr_nonnull(strstr(plain.out, "at_secure=0\n"));

	ck_assert_int_eq(test_run(setuid_argv, env, false, 30, &secure), 0);
	ck_assert_msg(secure.exit_code == 0, "%s", secure.err);
	if (strstr(secure.out, "at_secure=1\n") == NULL) {
		/* A nosuid mount of the temp folder ignores the setuid bit. */
		printf("secure_execution_ignores_environment: skipped, the setuid bit had no "
		    "effect under %s (nosuid mount?)\n", temp_dir);
	} else {
		assert_option(secure.out, "memory_limit", "0");
		assert_option(secure.out, "log_level", "WARN");
		assert_option(secure.out, "stall_timeout", "2000ms");
	}
	test_run_free(&plain);
	test_run_free(&secure);
}
END_TEST

static Suite *
hostile_config_suite(void)
{
	Suite *suite = suite_create("hostile_config");
	TCase *values = tcase_create("values");
	TCase *files = tcase_create("files");
	TCase *secure = tcase_create("secure");

	tcase_add_checked_fixture(values, setup, teardown);
	tcase_add_test(values, overflowing_numbers);
	tcase_add_test(values, negative_sizes);
	tcase_add_test(values, percentages_above_100);
	tcase_add_test(values, garbage_bytes);
	tcase_add_test(values, unknown_keys_and_sections);
	tcase_add_checked_fixture(files, setup, teardown);
	tcase_add_test(files, huge_file_ignored);
	tcase_add_test(files, directory_and_fifo_ignored);
	tcase_add_test(files, group_writable_rejected);
	tcase_add_test(files, foreign_owner_rejected);
	tcase_add_test(files, unreadable_file_ignored);
	tcase_add_test(files, symlinked_log_file_not_followed);
	tcase_add_test(files, fifo_paths_do_not_block);
	tcase_add_test(files, overlong_paths);
	tcase_add_checked_fixture(secure, setup, teardown);
	tcase_add_test(secure, secure_execution_ignores_environment);
	suite_add_tcase(suite, values);
	suite_add_tcase(suite, files);
	suite_add_tcase(suite, secure);
	return suite;
}

int
main(void)
{
	return test_run_suite(hostile_config_suite());
}
