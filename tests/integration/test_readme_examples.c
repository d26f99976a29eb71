/*
 * The README's examples: each is a file under examples/ that the README quotes
 * verbatim, so the text a user copies is the text the tests run. The C
 * example is built and run against the installed library by api_install.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static char *
read_source_file(const char *relative)
{
	char path[1024];
	char *text;

	snprintf(path, sizeof(path), "%s/../%s", test_getenv("SAFEEXEC_TEST_SOURCE_DIR"), relative);
	text = test_read_file(path);
	ck_assert_msg(text != NULL, "cannot read %s", path);
	return text;
}

static void
expect_quoted_in_readme(const char *relative)
{
	char *readme = read_source_file("README.md");
	char *example = read_source_file(relative);

	ck_assert_msg(strstr(readme, example) != NULL,
	    "README.md does not quote %s verbatim; copy the file into its code block",
	    relative);
	free(readme);
	free(example);
}

START_TEST(readme_quotes_c_example) { expect_quoted_in_readme("examples/batch_example.c"); }
END_TEST

START_TEST(readme_quotes_python_example)
{
	expect_quoted_in_readme("examples/batch_example.py");
}
END_TEST

START_TEST(python_example_runs)
{
	char script[1024], pythonpath[1100];
	char *argv[] = { (char *)test_getenv("SAFEEXEC_LAUNCHER"), "--memory-limit", "300M",
	    "--", "/usr/bin/python3", script, NULL };
	char *env[] = { pythonpath, NULL };
	run_result_t result;

	snprintf(script, sizeof(script), "%s/../examples/batch_example.py",
	    test_getenv("SAFEEXEC_TEST_SOURCE_DIR"));
	snprintf(pythonpath, sizeof(pythonpath), "PYTHONPATH=%s/../python",
	    test_getenv("SAFEEXEC_TEST_SOURCE_DIR"));
	ck_assert_int_eq(test_run(argv, env, false, 180, &result), 0);
	ck_assert_msg(result.exit_code == 0, "%s%s", result.out, result.err);
	ck_assert_ptr_nonnull(strstr(result.out, "results: 200 "));
	/* 200 items of 4 MiB cannot run at once under 300 MB: the batch was split. */
	ck_assert_ptr_null(strstr(result.out, "batch sizes: [200]"));
	ck_assert_ptr_null(strstr(result.out, "memory errors: 0"));
	test_run_free(&result);
}
END_TEST

static Suite *
readme_suite(void)
{
	Suite *suite = suite_create("readme_examples");
	TCase *examples = tcase_create("examples");

	tcase_add_test(examples, readme_quotes_c_example);
	tcase_add_test(examples, readme_quotes_python_example);
	tcase_add_test(examples, python_example_runs);
	tcase_set_timeout(examples, 200);
	suite_add_tcase(suite, examples);
	return suite;
}

int
main(void)
{
	return test_run_suite(readme_suite());
}
