/*
 * Real programs under the shim: Python with numpy, a C++ program using every
 * operator new/delete form, and a C host that dlopens a C++ library.
 */
#include <stdio.h>
#include <string.h>

#include "test_support.h"

#define PYTHON "/usr/bin/python3"

START_TEST(numpy_results_identical)
{
	char script[512];
	char *argv[] = { PYTHON, (char *)test_source_path("py/numpy_ops.py", script,
	    sizeof(script)), NULL };
	run_result_t plain, shimmed;

	ck_assert_int_eq(test_run(argv, NULL, false, 300, &plain), 0);
	ck_assert_int_eq(test_run(argv, NULL, true, 300, &shimmed), 0);
	ck_assert_msg(plain.exit_code == 0, "numpy without the shim failed: %s", plain.err);
	ck_assert_msg(shimmed.exit_code == 0, "numpy with the shim failed: %s", shimmed.err);
	ck_assert_ptr_nonnull(strstr(shimmed.out, "inv "));
	ck_assert_ptr_nonnull(strstr(shimmed.out, "zeros "));
	ck_assert_str_eq(shimmed.out, plain.out);
	test_run_free(&plain);
	test_run_free(&shimmed);
}
END_TEST

START_TEST(numpy_served_by_shim)
{
	char *argv[] = { PYTHON, "-c",
		"import ctypes, numpy as np\n"
		"lib = ctypes.CDLL(None)\n"
		"v = ctypes.c_uint64(0); n = ctypes.c_size_t(8)\n"
		"a = np.ones(10_000_000)\n"
		"e = ctypes.c_uint64(1)\n"
		"lib.mallctl(b'epoch', ctypes.byref(e), ctypes.byref(n), ctypes.byref(e), 8)\n"
		"n = ctypes.c_size_t(8)\n"
		"assert lib.mallctl(b'stats.allocated', ctypes.byref(v), ctypes.byref(n), None, 0)"
		" == 0\n"
		"print('allocated', v.value)\n"
		"assert v.value >= 80_000_000, v.value\n"
		"print('ok')\n", NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, NULL, true, 120, &result), 0);
	ck_assert_msg(result.exit_code == 0, "%s%s", result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "ok"));
	test_run_free(&result);
}
END_TEST

static void
run_cxx_case(const char *name, char *const env[])
{
	char path[512], expected[64];
	char *argv[] = { (char *)test_prog_path("cxx_new_delete", path, sizeof(path)),
	    (char *)name, NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, env, true, 120, &result), 0);
	snprintf(expected, sizeof(expected), "ok %s", name);
	ck_assert_msg(result.exit_code == 0, "cxx %s: %s%s", name, result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, expected));
	test_run_free(&result);
}

START_TEST(cxx_every_form) { run_cxx_case("forms", NULL); }
END_TEST

START_TEST(cxx_huge_blocks_placed)
{
	char sysfs[1100];
	char *env[] = { sysfs, NULL };

	snprintf(sysfs, sizeof(sysfs), "SAFEEXEC_SYSFS_ROOT=%s/thp/madvise",
	    test_getenv("SAFEEXEC_TEST_FIXTURES"));
	run_cxx_case("huge_placement", env);
}
END_TEST

START_TEST(cxx_bad_alloc_under_limit)
{
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=512M", "SAFEEXEC_STALL_TIMEOUT=100ms", NULL };

	run_cxx_case("bad_alloc", env);
}
END_TEST

START_TEST(cxx_new_handler_retry)
{
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=512M", "SAFEEXEC_STALL_TIMEOUT=100ms", NULL };

	run_cxx_case("new_handler", env);
}
END_TEST

START_TEST(dlopen_cxx_from_c)
{
	char host[512], plugin[512];
	char *argv[] = { (char *)test_prog_path("dlopen_host", host, sizeof(host)),
	    (char *)test_prog_path("libcxx_plugin.so", plugin, sizeof(plugin)), NULL };
	run_result_t result;

	ck_assert_int_eq(test_run(argv, NULL, true, 60, &result), 0);
	ck_assert_msg(result.exit_code == 0, "dlopen_host: %s%s", result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "total=124500"));
	ck_assert_ptr_nonnull(strstr(result.out, "ok"));
	test_run_free(&result);
}
END_TEST

static Suite *
programs_suite(void)
{
	Suite *suite = suite_create("alloc_programs");
	TCase *python = tcase_create("python");
	TCase *cxx = tcase_create("cxx");

	tcase_add_test(python, numpy_results_identical);
	tcase_add_test(python, numpy_served_by_shim);
	tcase_add_test(cxx, cxx_every_form);
	tcase_add_test(cxx, cxx_huge_blocks_placed);
	tcase_add_test(cxx, cxx_bad_alloc_under_limit);
	tcase_add_test(cxx, cxx_new_handler_retry);
	tcase_add_test(cxx, dlopen_cxx_from_c);
	tcase_set_timeout(python, 300);
	suite_add_tcase(suite, python);
	suite_add_tcase(suite, cxx);
	return suite;
}

int
main(void)
{
	return test_run_suite(programs_suite());
}
