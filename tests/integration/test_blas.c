/*
 * BLAS/LAPACK interposition under real loading conditions. A test BLAS
 * library in a local (RTLD_LOCAL) scope is reached through every spelling,
 * and its thread count is clamped while over the thermal limit. Debian's
 * numpy (OpenBLAS or the reference BLAS) gives bit-identical results with
 * the shim.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define PYTHON "/usr/bin/python3"

/* Every wrapped spelling that libsxblascaller.so calls. */
static const char *const forwarded_names[] = {
	"dgemm_", "dgemm_64_", "scipy_dgemm_", "scipy_dgemm_64_",
	"cblas_dgemm", "cblas_dgemm64_", "scipy_cblas_dgemm", "scipy_cblas_dgemm64_",
	"dgesv_", "dgesv_64_", "scipy_dgesv_", "scipy_dgesv_64_",
	"dpotrf_", "dpotrf_64_",
};
#define FORWARDED_COUNT (sizeof(forwarded_names) / sizeof(forwarded_names[0]))

static size_t
count_occurrences(const char *text, const char *needle)
{
	size_t count = 0;

	for (text = strstr(text, needle); text != NULL; text = strstr(text + 1, needle)) {
		count++;
	}
	return count;
}

static void
run_blas_host(char *const env[], bool preload, const char *temp_path, run_result_t *result)
{
	char host[512], caller[512];
	char *argv[] = { (char *)test_prog_path("blas_host", host, sizeof(host)),
	    (char *)test_prog_path("libsxblascaller.so", caller, sizeof(caller)),
	    (char *)temp_path, NULL };

	ck_assert_int_eq(test_run(argv, env, preload, 120, result), 0);
}

START_TEST(fake_blas_direct_without_shim)
{
	run_result_t result;
	size_t i;

	run_blas_host(NULL, false, NULL, &result);
	ck_assert_msg(result.exit_code == 0, "blas_host: %s%s", result.out, result.err);
	for (i = 0; i < FORWARDED_COUNT; i++) {
		char line[64];

		snprintf(line, sizeof(line), "ok %s\n", forwarded_names[i]);
		ck_assert_msg(strstr(result.out, line) != NULL, "missing '%s' in:\n%s", line,
		    result.out);
	}
	ck_assert_ptr_nonnull(strstr(result.out, "dgetrf_ absent"));
	test_run_free(&result);
}
END_TEST

START_TEST(fake_blas_forwarded_in_local_scope)
{
	char *env[] = { "SAFEEXEC_LOG_LEVEL=debug", NULL };
	run_result_t result;
	size_t i;

	run_blas_host(env, true, NULL, &result);
	ck_assert_msg(result.exit_code == 0, "blas_host: %s%s", result.out, result.err);
	for (i = 0; i < FORWARDED_COUNT; i++) {
		char line[128];

		snprintf(line, sizeof(line), "ok %s\n", forwarded_names[i]);
		ck_assert_msg(strstr(result.out, line) != NULL, "missing '%s' in:\n%s", line,
		    result.out);
		/* The wrapper ran (it logged its resolution) and found the test library. */
		snprintf(line, sizeof(line), "BLAS: %s resolved in ", forwarded_names[i]);
		ck_assert_msg(strstr(result.err, line) != NULL, "missing '%s' in:\n%s", line,
		    result.err);
	}
	ck_assert_uint_eq(count_occurrences(result.err, "libsxfakeblas.so"),
	    FORWARDED_COUNT);
	test_run_free(&result);
}
END_TEST

START_TEST(unresolved_routine_sets_info)
{
	run_result_t result;

	run_blas_host(NULL, true, NULL, &result);
	ck_assert_msg(result.exit_code == 0, "blas_host: %s%s", result.out, result.err);
	ck_assert_msg(strstr(result.out, "dgetrf_ info -1000, matrix untouched") != NULL,
	    "out:\n%s", result.out);
	ck_assert_uint_eq(count_occurrences(result.err, "ERROR - no loaded library defines "
	    "dgetrf_"), 1);
	test_run_free(&result);
}
END_TEST

static void
run_blas_probe(bool preload, run_result_t *result)
{
	char probe[512], fake[512], caller[512];
	char *argv[] = { (char *)test_prog_path("blas_probe", probe, sizeof(probe)),
	    (char *)test_prog_path("libsxfakeblas.so", fake, sizeof(fake)),
	    (char *)test_prog_path("libsxblascaller.so", caller, sizeof(caller)), NULL };

	ck_assert_int_eq(test_run(argv, NULL, preload, 120, result), 0);
}

static void
assert_line(const char *text, const char *line)
{
	ck_assert_msg(strstr(text, line) != NULL, "missing '%s' in:\n%s", line, text);
}

/* Every spelling that libsxblascaller.so calls printed its "ok" line. */
static void
assert_all_forwarded(const char *out)
{
	size_t i;

	for (i = 0; i < FORWARDED_COUNT; i++) {
		char line[128];

		snprintf(line, sizeof(line), "ok %s\n", forwarded_names[i]);
		assert_line(out, line);
	}
}

/* A wrapper name is found only while a loaded library defines the routine. */
START_TEST(wrapper_names_follow_loaded_blas)
{
	run_result_t result;

	run_blas_probe(true, &result);
	ck_assert_msg(result.exit_code == 0, "blas_probe: %s%s", result.out, result.err);
	assert_line(result.out, "before cblas_dgemm absent\n");
	assert_line(result.out, "before dgemm_ absent\n");
	assert_line(result.out, "before scipy_dgemm_64_ absent\n");
	/* Found in the shim: a program reaching it is forwarded to the local-scope BLAS. */
	assert_line(result.out, "loaded cblas_dgemm in ");
	ck_assert_ptr_nonnull(strstr(result.out, "libsafeexec.so\n"));
	ck_assert_ptr_null(strstr(result.out, "loaded cblas_dgemm absent"));
	ck_assert_ptr_null(strstr(result.out, "loaded scipy_dgemm_64_ absent"));
	/* The test BLAS defines neither. */
	assert_line(result.out, "loaded dgetrf_ absent\n");
	assert_line(result.out, "loaded zgesdd_64_ absent\n");
	assert_line(result.out, "closed cblas_dgemm absent\n");
	assert_line(result.out, "closed scipy_dgemm_64_ absent\n");
	test_run_free(&result);
}
END_TEST

/* Without the shim, a library loaded with RTLD_LOCAL is never in the global scope. */
START_TEST(probe_without_shim_finds_nothing)
{
	run_result_t result;

	run_blas_probe(false, &result);
	ck_assert_msg(result.exit_code == 0, "blas_probe: %s%s", result.out, result.err);
	ck_assert_ptr_null(strstr(result.out, " in "));
	assert_line(result.out, "reloaded caller: 0 failures, BLAS moved\n");
	test_run_free(&result);
}
END_TEST

/* The cached real addresses are dropped when the BLAS is unloaded. */
START_TEST(blas_reloaded_elsewhere_is_followed)
{
	run_result_t result;

	run_blas_probe(true, &result);
	ck_assert_msg(result.exit_code == 0, "blas_probe (signal %d): %s%s",
	    result.signal, result.out, result.err);
	assert_line(result.out, "reloaded caller: 0 failures, BLAS moved\n");
	test_run_free(&result);
}
END_TEST

/* dlopen of a bare name still searches the calling library's DT_RUNPATH. */
START_TEST(dlopen_keeps_caller_runpath)
{
	char program[512];
	char *argv[] = { (char *)test_prog_path("dlopen_runpath", program, sizeof(program)),
	    NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, NULL, true, 60, &result), 0);
	ck_assert_msg(result.exit_code == 0, "dlopen_runpath: %s%s", result.out, result.err);
	assert_line(result.out, "answer 42\n");
	test_run_free(&result);
}
END_TEST

/* A BLAS loaded earlier in another local scope does not capture the caller's calls. */
START_TEST(caller_reaches_its_own_blas)
{
	char other[512], variable[600];
	char *env[] = { "SAFEEXEC_LOG_LEVEL=debug", variable, NULL };
	run_result_t result;

	snprintf(variable, sizeof(variable), "BLAS_HOST_FIRST=%s",
	    test_prog_path("libsxotherblas.so", other, sizeof(other)));
	run_blas_host(env, true, NULL, &result);
	ck_assert_msg(result.exit_code == 0, "blas_host: %s%s", result.out, result.err);
	assert_all_forwarded(result.out);
	ck_assert_ptr_null(strstr(result.err, "libsxotherblas.so"));
	test_run_free(&result);
}
END_TEST

/* A BLAS loaded later with RTLD_GLOBAL does not take over a caller that is already bound. */
START_TEST(bound_caller_keeps_its_blas)
{
	char other[512], target[512], later[600], unload[600];
	char *env[] = { later, unload, NULL };
	run_result_t result;

	snprintf(later, sizeof(later), "BLAS_HOST_LATER_GLOBAL=%s",
	    test_prog_path("libsxotherblas.so", other, sizeof(other)));
	snprintf(unload, sizeof(unload), "BLAS_HOST_UNLOAD=%s",
	    test_prog_path("runpath/libsxrunpathtarget.so", target, sizeof(target)));
	run_blas_host(env, true, NULL, &result);
	ck_assert_msg(result.exit_code == 0, "blas_host: %s%s", result.out, result.err);
	assert_line(result.out, "after a global BLAS and an unload:\n");
	ck_assert_ptr_null(strstr(result.out, "FAIL"));
	test_run_free(&result);
}
END_TEST

/* A BLAS found in the global scope lives as long as a caller bound to it, and no longer. */
START_TEST(global_blas_lives_with_its_caller)
{
	char program[512], fake[512], caller[512];
	char *argv[] = { (char *)test_prog_path("blas_global_pin", program, sizeof(program)),
	    (char *)test_prog_path("libsxfakeblas.so", fake, sizeof(fake)),
	    (char *)test_prog_path("libsxblascallerglobal.so", caller, sizeof(caller)), NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, NULL, true, 60, &result), 0);
	ck_assert_msg(result.exit_code == 0, "blas_global_pin: %s%s", result.out, result.err);
	assert_line(result.out, "kept while bound: yes\n");
	assert_line(result.out, "unloaded with the caller: yes\n");
	test_run_free(&result);
}
END_TEST

/* A child forked while another thread is inside dlopen starts with the names hidden. */
START_TEST(fork_during_dlopen_hides_names)
{
	char program[512], library[512];
	char *argv[] = { (char *)test_prog_path("fork_during_dlopen", program, sizeof(program)),
	    (char *)test_prog_path("libsxslowinit.so", library, sizeof(library)), NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, NULL, true, 60, &result), 0);
	ck_assert_msg(result.exit_code == 0, "fork_during_dlopen: %s%s", result.out, result.err);
	assert_line(result.out, "child: absent\n");
	test_run_free(&result);
}
END_TEST

/* Copies the built shim to dir/libsafeexec.so and returns "LD_PRELOAD=SHIM:COPY". */
static char *
preload_two_copies(const char *dir)
{
	char copy[512], command[1200], *entry = malloc(1100);

	snprintf(copy, sizeof(copy), "%s/libsafeexec.so", dir);
	snprintf(command, sizeof(command), "cp '%s' '%s'", test_getenv("SAFEEXEC_SHIM"), copy);
	ck_assert_int_eq(system(command), 0);
	snprintf(entry, 1100, "LD_PRELOAD=%s:%s", test_getenv("SAFEEXEC_SHIM"), copy);
	return entry;
}

/* Two copies of the shim in one process forward to the BLAS, not to each other. */
START_TEST(two_shim_copies_reach_blas)
{
	char *dir = test_make_temp_dir();
	char *env[] = { preload_two_copies(dir), NULL };
	run_result_t result;

	run_blas_host(env, false, NULL, &result);
	ck_assert_msg(result.exit_code == 0, "blas_host (signal %d): %s%s", result.signal,
	    result.out, result.err);
	assert_all_forwarded(result.out);
	test_run_free(&result);
	free(env[0]);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(threads_clamped_while_hot)
{
	char *dir = test_make_temp_dir();
	char temp_path[1024], source[1100];
	char *env[] = { source, "SAFEEXEC_LOG_LEVEL=info", "SAFEEXEC_BLAS_MIN_FLOPS=0",
	    "SAFEEXEC_THERMAL_MAX_WAIT=100ms", "SAFEEXEC_POLL_MS=10",
	    "SAFEEXEC_MAX_WORKERS=3", NULL };
	run_result_t result;

	test_write_file(dir, "temp", "90000\n");
	snprintf(temp_path, sizeof(temp_path), "%s/temp", dir);
	snprintf(source, sizeof(source), "SAFEEXEC_TEMP_SOURCE=%s", temp_path);
	run_blas_host(env, true, temp_path, &result);
	ck_assert_msg(result.exit_code == 0, "blas_host: %s%s", result.out, result.err);
	ck_assert_msg(strstr(result.out, "threads before 16\n") != NULL, "%s", result.out);
	ck_assert_msg(strstr(result.out, "threads while hot 3\n") != NULL, "%s", result.out);
	ck_assert_msg(strstr(result.out, "threads after cooling 16\n") != NULL, "%s",
	    result.out);
	ck_assert_msg(strstr(result.err, "OpenBLAS threads limited from 16 to 3") != NULL,
	    "%s", result.err);
	ck_assert_msg(strstr(result.err, "OpenBLAS threads restored to 16") != NULL, "%s",
	    result.err);
	test_run_free(&result);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(numpy_blas_seen_and_identical)
{
	char script[512];
	char *argv[] = { PYTHON, (char *)test_source_path("py/blas_numpy_ops.py", script,
	    sizeof(script)), NULL };
	char *env[] = { "SAFEEXEC_LOG_LEVEL=debug", NULL };
	run_result_t plain, shimmed;

	ck_assert_int_eq(test_run(argv, NULL, false, 300, &plain), 0);
	ck_assert_int_eq(test_run(argv, env, true, 300, &shimmed), 0);
	ck_assert_msg(plain.exit_code == 0, "numpy without the shim failed: %s", plain.err);
	ck_assert_msg(shimmed.exit_code == 0, "numpy with the shim failed: %s", shimmed.err);
	ck_assert_ptr_nonnull(strstr(plain.out, "solve "));
	ck_assert_str_eq(shimmed.out, plain.out);

	/* dot is cblas_dgemm; inv and solve are dgesv_ in numpy's umath_linalg. */
	ck_assert_msg(strstr(shimmed.err, "BLAS: cblas_dgemm resolved in ") != NULL, "%s",
	    shimmed.err);
	ck_assert_msg(strstr(shimmed.err, "BLAS: dgesv_ resolved in ") != NULL, "%s",
	    shimmed.err);
	ck_assert_msg(strstr(shimmed.err, "BLAS: cblas_zgemm resolved in ") != NULL, "%s",
	    shimmed.err);
	ck_assert_ptr_null(strstr(shimmed.err, "no loaded library defines"));
	test_run_free(&plain);
	test_run_free(&shimmed);
}
END_TEST

static Suite *
blas_suite(void)
{
	Suite *suite = suite_create("blas");
	TCase *forwarding = tcase_create("forwarding");
	TCase *numpy = tcase_create("numpy");

	tcase_set_timeout(numpy, 600);
	tcase_add_test(forwarding, fake_blas_direct_without_shim);
	tcase_add_test(forwarding, fake_blas_forwarded_in_local_scope);
	tcase_add_test(forwarding, unresolved_routine_sets_info);
	tcase_add_test(forwarding, threads_clamped_while_hot);
	tcase_add_test(forwarding, wrapper_names_follow_loaded_blas);
	tcase_add_test(forwarding, probe_without_shim_finds_nothing);
	tcase_add_test(forwarding, blas_reloaded_elsewhere_is_followed);
	tcase_add_test(forwarding, dlopen_keeps_caller_runpath);
	tcase_add_test(forwarding, caller_reaches_its_own_blas);
	tcase_add_test(forwarding, bound_caller_keeps_its_blas);
	tcase_add_test(forwarding, global_blas_lives_with_its_caller);
	tcase_add_test(forwarding, fork_during_dlopen_hides_names);
	tcase_add_test(forwarding, two_shim_copies_reach_blas);
	tcase_add_test(numpy, numpy_blas_seen_and_identical);
	suite_add_tcase(suite, forwarding);
	suite_add_tcase(suite, numpy);
	return suite;
}

int
main(void)
{
	return test_run_suite(blas_suite());
}
