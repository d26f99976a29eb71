/*
 * Runs the glibc-parity, thread and fork programs with the shim preloaded and
 * checks their output and exit status.
 */
#include <stdio.h>
#include <string.h>

#include "test_support.h"

static void
run_prog(const char *const args[], char *const env[], run_result_t *result)
{
	char path[512];
	char *argv[8] = { 0 };
	size_t i;

	argv[0] = (char *)test_prog_path(args[0], path, sizeof(path));
	for (i = 1; args[i] != NULL && i < 7; i++) {
		argv[i] = (char *)args[i];
	}
	ck_assert_int_eq(test_run(argv, env, true, 240, result), 0);
}

static void
expect_case_ok(const char *name)
{
	const char *args[] = { "alloc_semantics", name, NULL };
	char expected[64];
	run_result_t result;

	run_prog(args, NULL, &result);
	snprintf(expected, sizeof(expected), "ok %s", name);
	ck_assert_msg(result.exit_code == 0, "%s failed: %s%s", name, result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, expected));
	test_run_free(&result);
}

START_TEST(malloc_zero_unique) { expect_case_ok("malloc_zero"); }
END_TEST
START_TEST(realloc_zero_frees) { expect_case_ok("realloc_zero"); }
END_TEST
START_TEST(calloc_overflow_enomem) { expect_case_ok("calloc_overflow"); }
END_TEST
START_TEST(alignment_rules) { expect_case_ok("alignment"); }
END_TEST
START_TEST(huge_alignment_enomem) { expect_case_ok("huge_alignment"); }
END_TEST
START_TEST(free_preserves_errno) { expect_case_ok("errno_free"); }
END_TEST
START_TEST(calloc_is_lazy) { expect_case_ok("calloc_lazy"); }
END_TEST
START_TEST(realloc_keeps_content) { expect_case_ok("realloc_content"); }
END_TEST
START_TEST(usable_size_writable) { expect_case_ok("usable_size_write"); }
END_TEST

START_TEST(threads_eight_no_corruption)
{
	const char *args[] = { "alloc_threads", "8", "40000", NULL };
	run_result_t result;

	run_prog(args, NULL, &result);
	ck_assert_msg(result.exit_code == 0, "alloc_threads: %s%s", result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "corrupt=0"));
	ck_assert_ptr_nonnull(strstr(result.out, "failed=0"));
	test_run_free(&result);
}
END_TEST

START_TEST(threads_under_tight_budget)
{
	const char *args[] = { "alloc_threads", "16", "6000", NULL };
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=200M", "SAFEEXEC_STALL_TIMEOUT=10ms", NULL };
	run_result_t result;

	run_prog(args, env, &result);
	ck_assert_msg(result.exit_code == 0, "alloc_threads: %s%s", result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "corrupt=0"));
	test_run_free(&result);
}
END_TEST

START_TEST(fork_while_threads_allocate)
{
	const char *args[] = { "alloc_fork", "60", NULL };
	run_result_t result;

	run_prog(args, NULL, &result);
	ck_assert_msg(result.exit_code == 0, "alloc_fork: %s%s", result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "bad=0"));
	test_run_free(&result);
}
END_TEST

START_TEST(disabled_is_pass_through)
{
	const char *args[] = { "alloc_limit", "grow", NULL };
	char *env[] = { "SAFEEXEC_DISABLE=1", "SAFEEXEC_MEMORY_LIMIT=256M", NULL };
	run_result_t result;

	run_prog(args, env, &result);
	ck_assert_int_eq(result.exit_code, 0);
	/* Disabled: no governor, so all 16 blocks of 64 MiB are granted. */
	ck_assert_ptr_nonnull(strstr(result.out, "blocks=16"));
	test_run_free(&result);
}
END_TEST

static Suite *
semantics_suite(void)
{
	Suite *suite = suite_create("alloc_semantics");
	TCase *parity = tcase_create("glibc_parity");
	TCase *concurrency = tcase_create("concurrency");

	tcase_add_test(parity, malloc_zero_unique);
	tcase_add_test(parity, realloc_zero_frees);
	tcase_add_test(parity, calloc_overflow_enomem);
	tcase_add_test(parity, alignment_rules);
	tcase_add_test(parity, huge_alignment_enomem);
	tcase_add_test(parity, free_preserves_errno);
	tcase_add_test(parity, calloc_is_lazy);
	tcase_add_test(parity, realloc_keeps_content);
	tcase_add_test(parity, usable_size_writable);
	tcase_add_test(parity, disabled_is_pass_through);
	tcase_add_test(concurrency, threads_eight_no_corruption);
	tcase_add_test(concurrency, threads_under_tight_budget);
	tcase_add_test(concurrency, fork_while_threads_allocate);
	tcase_set_timeout(concurrency, 300);
	suite_add_tcase(suite, parity);
	suite_add_tcase(suite, concurrency);
	return suite;
}

int
main(void)
{
	return test_run_suite(semantics_suite());
}
