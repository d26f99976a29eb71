/*
 * Stress and fault tests with the shim preloaded into real programs (built
 * from tests/stress): many threads under a budget that forces refusals,
 * fork while threads allocate with BLAS in the children, signals delivered
 * to a thread stalled in the governor, thousands of thread create/join
 * cycles, allocation from other libraries' constructors and destructors,
 * and dlopen/dlclose of a library with 1 MiB of thread-local data. Each
 * program bounds its own work; test_run kills it (by pid) after a timeout,
 * so a deadlock fails the test instead of hanging the suite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_support.h"

/* Path of a program or library built in tests/stress. */
static const char *
stress_path(const char *name, char *buffer, size_t size)
{
	snprintf(buffer, size, "%s/stress/%s", test_getenv("SAFEEXEC_TEST_BUILD"), name);
	return buffer;
}

/* Value of "key=" at the start of a line of out, or -1 when it is missing. */
static double
output_value(const char *out, const char *key)
{
	char pattern[64];
	const char *found;

	snprintf(pattern, sizeof(pattern), "\n%s=", key);
	if (strncmp(out, pattern + 1, strlen(pattern + 1)) == 0) {
		return atof(out + strlen(pattern + 1));
	}
	found = strstr(out, pattern);
	return found != NULL ? atof(found + strlen(pattern)) : -1;
}

/* The last 2000 bytes of text. */
static const char *
tail_of(const char *text)
{
	size_t length = strlen(text);

	return length > 2000 ? text + length - 2000 : text;
}

static void
run_checked(char *const argv[], char *const env[], bool preload, int timeout_s,
    run_result_t *result)
{
	ck_assert_int_eq(test_run(argv, env, preload, timeout_s, result), 0);
	/* Check cuts long messages, so only the output's end is shown. */
	ck_assert_msg(result->signal == 0, "%s killed by signal %d (timeout %d s)\n%s\n%s",
	    argv[0], result->signal, timeout_s, result->out, tail_of(result->err));
	ck_assert_msg(result->exit_code == 0, "%s exited %d\n%s\n%s", argv[0],
	    result->exit_code, result->out, tail_of(result->err));
}

START_TEST(threads_tight_budget)
{
	char path[1024];
	char *argv[] = { (char *)stress_path("stress_alloc", path, sizeof(path)), "16", "3000",
	    NULL };
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=200M", "SAFEEXEC_STALL_TIMEOUT=10ms", NULL };
	run_result_t result;
	double before, after;

	run_checked(argv, env, true, 300, &result);
	ck_assert_double_gt(output_value(result.out, "refused"), 0);
	ck_assert_double_gt(output_value(result.out, "large_granted"), 0);
	ck_assert_double_eq(output_value(result.out, "bad_errno"), 0);
	ck_assert_double_eq(output_value(result.out, "small_refused"), 0);
	ck_assert_double_eq(output_value(result.out, "corrupt"), 0);
	ck_assert_ptr_null(strstr(result.out, "mallctl=absent"));
	/* Everything was freed: jemalloc's count of allocated bytes is back where it began. */
	before = output_value(result.out, "allocated_before");
	after = output_value(result.out, "allocated_after");
	ck_assert_double_gt(before, 0);
	ck_assert_msg(after < before + 1024 * 1024, "allocated before %.0f, after %.0f: %s",
	    before, after, result.out);
	ck_assert_ptr_nonnull(strstr(result.err, "returning ENOMEM"));
	test_run_free(&result);
}
END_TEST

/* The OpenBLAS of Debian's libopenblas0-pthread. */
static const char *
openblas_path(void)
{
	static const char *const candidates[] = {
		"/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
		"/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
		"/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
	};
	size_t i;

	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		if (access(candidates[i], R_OK) == 0) {
			return candidates[i];
		}
	}
	ck_abort_msg("OpenBLAS not found; install the Debian package libopenblas0-pthread");
	return NULL;
}

START_TEST(fork_while_threads_allocate)
{
	char path[1024];
	char *argv[] = { (char *)stress_path("stress_fork", path, sizeof(path)), "20",
	    (char *)openblas_path(), NULL };
	char *env[] = { "OPENBLAS_NUM_THREADS=2", "SAFEEXEC_MEMORY_LIMIT=2G", NULL };
	run_result_t result;

	run_checked(argv, env, true, 300, &result);
	ck_assert_double_eq(output_value(result.out, "children_ok"), 20);
	ck_assert_double_eq(output_value(result.out, "children_hung"), 0);
	ck_assert_double_eq(output_value(result.out, "dgemm_error"), 0);
	test_run_free(&result);
}
END_TEST

START_TEST(signals_during_stall_deadline)
{
	char path[1024];
	char *argv[] = { (char *)stress_path("stress_signal", path, sizeof(path)), "deadline",
	    NULL };
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=512M", "SAFEEXEC_STALL_TIMEOUT=2s", NULL };
	run_result_t result;

	run_checked(argv, env, true, 120, &result);
	ck_assert_ptr_nonnull(strstr(result.out, "result=refused"));
	ck_assert_double_eq(output_value(result.out, "errno"), 12);
	/* Interrupted sleeps do not end the stall early: it lasts until its deadline. */
	ck_assert_double_ge(output_value(result.out, "seconds"), 1.9);
	ck_assert_double_lt(output_value(result.out, "seconds"), 30);
	ck_assert_double_ge(output_value(result.out, "signals"), 10);
	ck_assert_ptr_nonnull(strstr(result.err, "stalling malloc of 209715200 bytes"));
	test_run_free(&result);
}
END_TEST

START_TEST(signals_during_stall_release)
{
	char path[1024];
	char *argv[] = { (char *)stress_path("stress_signal", path, sizeof(path)), "release",
	    NULL };
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=512M", "SAFEEXEC_STALL_TIMEOUT=20s",
	    "SAFEEXEC_LOG_LEVEL=info", NULL };
	run_result_t result;

	run_checked(argv, env, true, 120, &result);
	ck_assert_ptr_nonnull(strstr(result.out, "result=granted"));
	/* The EINTR of the interrupted sleeps does not leak into a successful malloc. */
	ck_assert_double_eq(output_value(result.out, "errno"), 0);
	ck_assert_double_ge(output_value(result.out, "signals"), 1);
	ck_assert_ptr_nonnull(strstr(result.err, "admitted after a stall"));
	test_run_free(&result);
}
END_TEST

START_TEST(thread_create_join_cycles)
{
	char path[1024];
	char *argv[] = { (char *)stress_path("stress_thread_cycles", path, sizeof(path)),
	    "4000", NULL };
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=1G", NULL };
	run_result_t result;

	run_checked(argv, env, true, 300, &result);
	ck_assert_double_eq(output_value(result.out, "cycles"), 4000);
	ck_assert_double_eq(output_value(result.out, "failures"), 0);
	test_run_free(&result);
}
END_TEST

START_TEST(constructor_allocations_linked)
{
	char path[1024];
	char *argv[] = { (char *)stress_path("ctor_host", path, sizeof(path)), NULL };
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=1G", NULL };
	run_result_t result;
	const char *ctor, *check, *main_line, *dtor;

	run_checked(argv, env, true, 60, &result);
	ctor = strstr(result.out, "ctor: ok");
	check = strstr(result.out, "check: ok");
	main_line = strstr(result.out, "main: ok");
	dtor = strstr(result.out, "dtor: ok");
	ck_assert_msg(ctor != NULL && check != NULL && main_line != NULL && dtor != NULL,
	    "output: %s", result.out);
	ck_assert(ctor < check);
	ck_assert(main_line < dtor);
	test_run_free(&result);
}
END_TEST

START_TEST(constructor_allocations_preloaded_after_shim)
{
	char library[1024], preload[2200];
	char host[1024];
	/* Not /bin/echo: coreutils close stdout at exit, before the destructor writes. */
	char *argv[] = { (char *)stress_path("stress_thread_cycles", host, sizeof(host)), "8",
	    NULL };
	char *env[] = { preload, "SAFEEXEC_MEMORY_LIMIT=1G", NULL };
	run_result_t result;

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s:%s", test_getenv("SAFEEXEC_SHIM"),
	    stress_path("libsxctor.so", library, sizeof(library)));
	run_checked(argv, env, false, 60, &result);
	ck_assert_msg(strstr(result.out, "ctor: ok") != NULL, "output: %s", result.out);
	ck_assert_msg(strstr(result.out, "cycles=8") != NULL, "output: %s", result.out);
	ck_assert_msg(strstr(result.out, "dtor: ok") != NULL, "output: %s", result.out);
	test_run_free(&result);
}
END_TEST

START_TEST(dlopen_large_tls_threads)
{
	char path[1024], library[1024];
	char *argv[] = { (char *)stress_path("tls_host", path, sizeof(path)),
	    (char *)stress_path("libsxtls.so", library, sizeof(library)), "4", "40", NULL };
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=1G", NULL };
	run_result_t result;

	run_checked(argv, env, true, 120, &result);
	ck_assert_double_eq(output_value(result.out, "rounds"), 160);
	ck_assert_double_eq(output_value(result.out, "failures"), 0);
	test_run_free(&result);
}
END_TEST

START_TEST(tls_block_over_budget_admitted)
{
	/*
	 * glibc aborts the program when the loader cannot allocate a TLS block,
	 * so the loader's requests pass even over a 4 MiB budget.
	 */
	char path[1024], library[1024];
	char *argv[] = { (char *)stress_path("tls_host", path, sizeof(path)),
	    (char *)stress_path("libsxtls.so", library, sizeof(library)), "2", "2", NULL };
	char *env[] = { "SAFEEXEC_MEMORY_LIMIT=4M", "SAFEEXEC_STALL_TIMEOUT=0", NULL };
	run_result_t result;

	run_checked(argv, env, true, 60, &result);
	ck_assert_double_eq(output_value(result.out, "rounds"), 4);
	ck_assert_double_eq(output_value(result.out, "failures"), 0);
	test_run_free(&result);
}
END_TEST

static Suite *
stress_suite(void)
{
	Suite *suite = suite_create("stress");
	TCase *threads = tcase_create("threads");
	TCase *faults = tcase_create("faults");
	TCase *libraries = tcase_create("libraries");

	tcase_set_timeout(threads, 400);
	tcase_set_timeout(faults, 200);
	tcase_add_test(threads, threads_tight_budget);
	tcase_add_test(threads, fork_while_threads_allocate);
	tcase_add_test(threads, thread_create_join_cycles);
	tcase_add_test(faults, signals_during_stall_deadline);
	tcase_add_test(faults, signals_during_stall_release);
	tcase_add_test(libraries, constructor_allocations_linked);
	tcase_add_test(libraries, constructor_allocations_preloaded_after_shim);
	tcase_add_test(libraries, dlopen_large_tls_threads);
	tcase_add_test(libraries, tls_block_over_budget_admitted);
	suite_add_tcase(suite, threads);
	suite_add_tcase(suite, faults);
	suite_add_tcase(suite, libraries);
	return suite;
}

int
main(void)
{
	return test_run_suite(stress_suite());
}
