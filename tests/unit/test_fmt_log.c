/* Unit tests for the allocation-free formatter and the log line format. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"
#include "test_support.h"

/* Formats with fmt_format and with snprintf and expects the same text. */
#define EXPECT_SAME(...) do { \
	char ours[256], libc[256]; \
	fmt_format(ours, sizeof(ours), __VA_ARGS__); \
	snprintf(libc, sizeof(libc), __VA_ARGS__); \
	ck_assert_str_eq(ours, libc); \
	} while (0)

START_TEST(fmt_matches_snprintf)
{
	EXPECT_SAME("plain text");
	EXPECT_SAME("%d %i %u", -42, 17, 4000000000u);
	EXPECT_SAME("%ld %lu %lld %llu", -1L, 2UL, -9223372036854775807LL - 1,
	    18446744073709551615ULL);
	EXPECT_SAME("%zu bytes", (size_t)123456789);
	EXPECT_SAME("%x %lx", 255u, 0xdeadbeefUL);
	EXPECT_SAME("[%5d] [%-5d] [%05d] [%02d:%02d]", 42, 42, 42, 7, 5);
	EXPECT_SAME("[%s] [%.3s] [%8s] [%-8s]", "abc", "abcdef", "right", "left");
	EXPECT_SAME("%.*s|", 2, "xyz");
	EXPECT_SAME("%c%c %%", 'o', 'k');
	/* Exact binary ties (85.25 to one decimal) round differently; these are not ties. */
	EXPECT_SAME("%.1f %.2f %.0f %f", 85.26, -3.14159, 2.7, 0.125);
	EXPECT_SAME("%05d", -42);
}
END_TEST

START_TEST(fmt_truncates_safely)
{
	char small[8];
	size_t length;

	memset(small, 'Z', sizeof(small));
	length = fmt_format(small, sizeof(small), "%s", "a long string that does not fit");
	ck_assert_uint_eq(length, 7);
	ck_assert_str_eq(small, "a long ");
	length = fmt_format(small, 1, "%d", 12345);
	ck_assert_uint_eq(length, 0);
	ck_assert_str_eq(small, "");
	{
		const char *volatile missing = NULL;

		length = fmt_format(small, sizeof(small), "%s", missing);
	}
	ck_assert_str_eq(small, "(null)");
}
END_TEST

START_TEST(log_line_format)
{
	char *dir = test_make_temp_dir();
	char path[512];
	char *text;
	regex_t pattern;

	snprintf(path, sizeof(path), "%s/log.txt", dir);
	log_configure(LOG_LEVEL_INFO, path);
	log_message(LOG_LEVEL_INFO, "hello %d", 7);
	log_message(LOG_LEVEL_DEBUG, "not shown");
	text = test_read_file(path);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(regcomp(&pattern, "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:"
	    "[0-9]{2} - safeexec - INFO - hello 7\n$", REG_EXTENDED), 0);
	ck_assert_msg(regexec(&pattern, text, 0, NULL, 0) == 0, "unexpected line: %s", text);
	regfree(&pattern);
	free(text);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(log_limited_suppresses)
{
	char *dir = test_make_temp_dir();
	char path[512];
	static log_limiter_t limiter;
	char *text;
	int i, lines = 0;
	const char *cursor;

	snprintf(path, sizeof(path), "%s/log.txt", dir);
	log_configure(LOG_LEVEL_WARN, path);
	for (i = 0; i < 100; i++) {
		log_limited(&limiter, 60000, LOG_LEVEL_WARN, "repeated %d", i);
	}
	text = test_read_file(path);
	ck_assert_ptr_nonnull(text);
	for (cursor = text; (cursor = strchr(cursor, '\n')) != NULL; cursor++) {
		lines++;
	}
	ck_assert_int_eq(lines, 1);
	ck_assert_ptr_nonnull(strstr(text, "repeated 0"));
	free(text);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(log_refuses_symlink)
{
	char *dir = test_make_temp_dir();
	char target[512], link_path[512];
	char *text;

	snprintf(target, sizeof(target), "%s/target.txt", dir);
	snprintf(link_path, sizeof(link_path), "%s/link.txt", dir);
	test_write_file(dir, "target.txt", "");
	ck_assert_int_eq(symlink(target, link_path), 0);
	log_configure(LOG_LEVEL_WARN, link_path);
	log_message(LOG_LEVEL_WARN, "must not reach the target");
	text = test_read_file(target);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "");
	free(text);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

static Suite *
fmt_log_suite(void)
{
	Suite *suite = suite_create("fmt_log");
	TCase *fmt = tcase_create("fmt");
	TCase *log = tcase_create("log");

	tcase_add_test(fmt, fmt_matches_snprintf);
	tcase_add_test(fmt, fmt_truncates_safely);
	tcase_add_test(log, log_line_format);
	tcase_add_test(log, log_limited_suppresses);
	tcase_add_test(log, log_refuses_symlink);
	suite_add_tcase(suite, fmt);
	suite_add_tcase(suite, log);
	return suite;
}

int
main(void)
{
	return test_run_suite(fmt_log_suite());
}
