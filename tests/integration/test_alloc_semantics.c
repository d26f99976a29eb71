/*
 * Runs the glibc-parity, thread and fork programs with the shim preloaded and
 * checks their output and exit status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Value of the line "key=VALUE" in a program's output, or -1. */
static int
output_int(const char *out, const char *key)
{
	size_t length = strlen(key);
	const char *line;

	for (line = out; line != NULL && *line != '\0'; line = strchr(line, '\n')) {
		line += *line == '\n';
		if (strncmp(line, key, length) == 0 && line[length] == '=') {
			return atoi(line + length + 1);
		}
	}
	return -1;
}

/*
 * Runs huge_pages CASE with a fixture sysfs tree whose transparent huge page
 * mode is thp_enabled (NULL: the real /sys), plus one extra variable.
 */
static void
run_huge_case(const char *name, const char *thp_enabled, const char *extra,
    run_result_t *result)
{
	const char *args[] = { "huge_pages", name, NULL };
	char root_env[600];
	char *env[3] = { NULL, NULL, NULL };
	char *root = NULL;
	size_t count = 0;

	if (thp_enabled != NULL) {
		root = test_make_temp_dir();
		test_write_file(root, "kernel/mm/transparent_hugepage/enabled", thp_enabled);
		test_write_file(root, "kernel/mm/transparent_hugepage/hpage_pmd_size", "2097152\n");
		snprintf(root_env, sizeof(root_env), "SAFEEXEC_SYSFS_ROOT=%s", root);
		env[count++] = root_env;
	}
	if (extra != NULL) {
		env[count++] = (char *)extra;
	}
	run_prog(args, env, result);
	ck_assert_msg(result->exit_code == 0, "huge_pages %s: %s%s", name, result->out,
	    result->err);
	if (root != NULL) {
		test_remove_tree(root);
		free(root);
	}
}

START_TEST(huge_blocks_start_on_boundaries)
{
	run_result_t result;

	run_huge_case("place", "always [madvise] never\n", NULL, &result);
	ck_assert_int_eq(output_int(result.out, "aligned"), 9);
	ck_assert_int_eq(output_int(result.out, "calloc_zeroed"), 1);
	test_run_free(&result);

	run_huge_case("place", "[always] madvise never\n", NULL, &result);
	ck_assert_int_eq(output_int(result.out, "aligned"), 9);
	test_run_free(&result);
}
END_TEST

/*
 * Without placement, jemalloc starts a large block at a random cache line of
 * its first page. Nine blocks on 2 MiB boundaries would be chance (at most
 * 1 in 2^54).
 */
START_TEST(huge_placement_off_when_not_wanted)
{
	run_result_t result;

	run_huge_case("place", "always [madvise] never\n", "SAFEEXEC_HUGE_PAGES=0", &result);
	ck_assert_int_lt(output_int(result.out, "aligned"), 9);
	ck_assert_int_eq(output_int(result.out, "calloc_zeroed"), 1);
	test_run_free(&result);

	run_huge_case("place", "always madvise [never]\n", NULL, &result);
	ck_assert_int_lt(output_int(result.out, "aligned"), 9);
	test_run_free(&result);

	run_huge_case("place", "garbage\n", NULL, &result);
	ck_assert_int_lt(output_int(result.out, "aligned"), 9);
	test_run_free(&result);
}
END_TEST

/* Placement costs address space, so it is off under `ulimit -v`. */
START_TEST(huge_placement_off_under_address_limit)
{
	char path[512], command[700], root_env[600];
	char *argv[] = { "/bin/sh", "-c", command, NULL };
	char *env[] = { root_env, NULL };
	run_result_t result;

	snprintf(command, sizeof(command), "ulimit -v 16000000 && exec %s place",
	    test_prog_path("huge_pages", path, sizeof(path)));
	snprintf(root_env, sizeof(root_env), "SAFEEXEC_SYSFS_ROOT=%s/thp/madvise",
	    test_getenv("SAFEEXEC_TEST_FIXTURES"));
	ck_assert_int_eq(test_run(argv, env, true, 120, &result), 0);
	ck_assert_msg(result.exit_code == 0, "huge_pages place: %s%s", result.out, result.err);
	ck_assert_int_lt(output_int(result.out, "aligned"), 9);
	ck_assert_int_eq(output_int(result.out, "calloc_zeroed"), 1);
	test_run_free(&result);
}
END_TEST

/*
 * numpy advises its arrays from the first page boundary after their start;
 * the interposed madvise extends that to the block's first byte. Needs a
 * kernel with transparent huge pages, since only then does the advice show.
 */
START_TEST(numpy_style_advice_covers_first_page)
{
	char *mode = test_read_file("/sys/kernel/mm/transparent_hugepage/enabled");
	bool thp_usable = mode != NULL && strstr(mode, "[never]") == NULL;
	run_result_t result;

	if (!thp_usable) {
		fprintf(stderr, "numpy_style_advice_covers_first_page: transparent huge pages "
		    "are off or missing here; only the forwarding of madvise is checked\n");
	}
	run_huge_case("advise", NULL, NULL, &result);
	ck_assert_int_eq(output_int(result.out, "dontneed_rc"), 0);
	ck_assert_int_eq(output_int(result.out, "dontneed_zeroed"), 1);
	ck_assert_int_eq(output_int(result.out, "unaligned_rc"), -1);
	ck_assert_int_eq(output_int(result.out, "unaligned_einval"), 1);
	if (thp_usable) {
		ck_assert_int_eq(output_int(result.out, "madvise_rc"), 0);
		ck_assert_int_eq(output_int(result.out, "first_byte_advised"), 1);
		ck_assert_int_eq(output_int(result.out, "last_byte_advised"), 1);
	}
	test_run_free(&result);
	free(mode);

	/* Without placement the program's own rounding leaves the first page out. */
	run_huge_case("advise", NULL, "SAFEEXEC_HUGE_PAGES=0", &result);
	ck_assert_int_eq(output_int(result.out, "first_byte_advised"), 0);
	test_run_free(&result);
}
END_TEST

/*
 * The record of a freed block must not turn the advice of a later mapping
 * into ENOMEM. jemalloc unmaps freed memory only when configured to, as
 * MALLOC_CONF does here. The kernel put the new mapping one page after the
 * freed block's start in 10 of 10 runs on Linux 6.18.
 */
START_TEST(stale_record_keeps_advice_working)
{
	const char *args[] = { "huge_pages", "stale", NULL };
	char *env[] = { "MALLOC_CONF=retain:false,dirty_decay_ms:0,muzzy_decay_ms:0", NULL };
	run_result_t result;

	run_prog(args, env, &result);
	ck_assert_msg(result.exit_code == 0, "huge_pages stale: %s%s", result.out, result.err);
	ck_assert_int_eq(output_int(result.out, "stale_rc"), 0);
	if (output_int(result.out, "one_page_after") != 1) {
		fprintf(stderr, "stale_record_keeps_advice_working: the kernel placed the "
		    "mapping elsewhere, so the case was not exercised\n");
	}
	test_run_free(&result);
}
END_TEST

/* The shim never overrides a program's own advice for its block's first page. */
START_TEST(own_advice_on_first_page_kept)
{
	char *mode = test_read_file("/sys/kernel/mm/transparent_hugepage/enabled");
	run_result_t result;

	run_huge_case("nohuge", NULL, NULL, &result);
	ck_assert_int_eq(output_int(result.out, "first_byte_advised"), 0);
	if (mode != NULL && strstr(mode, "[never]") == NULL) {
		ck_assert_int_eq(output_int(result.out, "nohuge_rc"), 0);
		ck_assert_int_eq(output_int(result.out, "first_byte_no_huge"), 1);
	}
	test_run_free(&result);
	free(mode);
}
END_TEST

/* A madvise wrapper preloaded after the shim receives the program's calls, also when disabled. */
START_TEST(later_madvise_wrapper_sees_calls)
{
	char program[512], counter[600], preload[1300];
	char *argv[] = { (char *)test_prog_path("huge_pages", program, sizeof(program)),
	    "count", NULL };
	char *env[3] = { preload, NULL, NULL };
	run_result_t result;

	test_prog_path("libsxmadvisecounter.so", counter, sizeof(counter));
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s:%s", test_getenv("SAFEEXEC_SHIM"),
	    counter);
	ck_assert_int_eq(test_run(argv, env, false, 60, &result), 0);
	ck_assert_msg(result.exit_code == 0, "huge_pages count: %s%s", result.out, result.err);
	ck_assert_int_eq(output_int(result.out, "wrapper_calls"), 1);
	test_run_free(&result);

	env[1] = "SAFEEXEC_DISABLE=1";
	ck_assert_int_eq(test_run(argv, env, false, 60, &result), 0);
	ck_assert_int_eq(output_int(result.out, "count_rc"), 0);
	ck_assert_int_eq(output_int(result.out, "wrapper_calls"), 1);
	test_run_free(&result);
}
END_TEST

static Suite *
semantics_suite(void)
{
	Suite *suite = suite_create("alloc_semantics");
	TCase *parity = tcase_create("glibc_parity");
	TCase *concurrency = tcase_create("concurrency");
	TCase *huge = tcase_create("huge_pages");

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
	tcase_add_test(huge, huge_blocks_start_on_boundaries);
	tcase_add_test(huge, huge_placement_off_when_not_wanted);
	tcase_add_test(huge, huge_placement_off_under_address_limit);
	tcase_add_test(huge, numpy_style_advice_covers_first_page);
	tcase_add_test(huge, stale_record_keeps_advice_working);
	tcase_add_test(huge, own_advice_on_first_page_kept);
	tcase_add_test(huge, later_madvise_wrapper_sees_calls);
	suite_add_tcase(suite, parity);
	suite_add_tcase(suite, huge);
	suite_add_tcase(suite, concurrency);
	return suite;
}

int
main(void)
{
	return test_run_suite(semantics_suite());
}
