/* Unit tests for the option value parsers and the option table. */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "options_table.h"
#include "test_support.h"

START_TEST(size_suffixes)
{
	uint64_t bytes = 0;

	ck_assert(options_parse_size("0", &bytes));
	ck_assert_uint_eq(bytes, 0);
	ck_assert(options_parse_size("1048576", &bytes));
	ck_assert_uint_eq(bytes, 1048576);
	ck_assert(options_parse_size("512K", &bytes));
	ck_assert_uint_eq(bytes, 512 * 1024);
	ck_assert(options_parse_size("64M", &bytes));
	ck_assert_uint_eq(bytes, 64ULL << 20);
	ck_assert(options_parse_size("2G", &bytes));
	ck_assert_uint_eq(bytes, 2ULL << 30);
	ck_assert(options_parse_size("1.5g", &bytes));
	ck_assert_uint_eq(bytes, 3ULL << 29);
	ck_assert(options_parse_size("4GiB", &bytes));
	ck_assert_uint_eq(bytes, 4ULL << 30);
	ck_assert(options_parse_size("16 MB", &bytes));
	ck_assert_uint_eq(bytes, 16ULL << 20);
	ck_assert(options_parse_size("1T", &bytes));
	ck_assert_uint_eq(bytes, 1ULL << 40);
}
END_TEST

START_TEST(size_rejects_garbage)
{
	static const char *const invalid[] = {
		"", "abc", "-1", "-5M", "12Q", "1e400", "nan", "inf", "0x10",
		"99999999999999999999999", "8E", "1MM", "M", "12 34",
	};
	uint64_t bytes = 77;
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(invalid); i++) {
		ck_assert_msg(!options_parse_size(invalid[i], &bytes), "'%s' was accepted",
		    invalid[i]);
	}
	ck_assert_uint_eq(bytes, 77);
}
END_TEST

START_TEST(size_or_percent)
{
	uint64_t bytes = 0;
	double percent = 0;

	ck_assert(options_parse_size_or_percent("50%", &bytes, &percent));
	ck_assert_double_eq(percent, 50);
	ck_assert_uint_eq(bytes, 0);
	ck_assert(options_parse_size_or_percent("2.5%", &bytes, &percent));
	ck_assert_double_eq(percent, 2.5);
	ck_assert(options_parse_size_or_percent("4G", &bytes, &percent));
	ck_assert_uint_eq(bytes, 4ULL << 30);
	ck_assert_double_eq(percent, 0);
	ck_assert(!options_parse_size_or_percent("150%", &bytes, &percent));
	ck_assert(!options_parse_size_or_percent("0%", &bytes, &percent));
	ck_assert(!options_parse_size_or_percent("-10%", &bytes, &percent));
	ck_assert(!options_parse_size_or_percent("10%%", &bytes, &percent));
	ck_assert(!options_parse_size_or_percent("%", &bytes, &percent));
}
END_TEST

START_TEST(duration_units)
{
	uint64_t ms = 0;

	ck_assert(options_parse_duration_ms("250ms", 1000, &ms));
	ck_assert_uint_eq(ms, 250);
	ck_assert(options_parse_duration_ms("2s", 1, &ms));
	ck_assert_uint_eq(ms, 2000);
	ck_assert(options_parse_duration_ms("1.5s", 1, &ms));
	ck_assert_uint_eq(ms, 1500);
	ck_assert(options_parse_duration_ms("5min", 1, &ms));
	ck_assert_uint_eq(ms, 300000);
	ck_assert(options_parse_duration_ms("1h", 1, &ms));
	ck_assert_uint_eq(ms, 3600000);
	ck_assert(options_parse_duration_ms("3", 1000, &ms));
	ck_assert_uint_eq(ms, 3000);
	ck_assert(options_parse_duration_ms("3", 1, &ms));
	ck_assert_uint_eq(ms, 3);
	ck_assert(!options_parse_duration_ms("3 weeks", 1, &ms));
	ck_assert(!options_parse_duration_ms("-1s", 1, &ms));
	ck_assert(!options_parse_duration_ms("400d", 1, &ms));
	ck_assert(!options_parse_duration_ms("10000h", 1, &ms));
}
END_TEST

START_TEST(bool_words)
{
	static const char *const yes[] = { "1", "true", "TRUE", "yes", "on", "enabled" };
	static const char *const no[] = { "0", "false", "No", "off", "disabled" };
	bool value;
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(yes); i++) {
		value = false;
		ck_assert_msg(options_parse_bool(yes[i], &value), "'%s' rejected", yes[i]);
		ck_assert(value);
	}
	for (i = 0; i < SX_ARRAY_SIZE(no); i++) {
		value = true;
		ck_assert_msg(options_parse_bool(no[i], &value), "'%s' rejected", no[i]);
		ck_assert(!value);
	}
	ck_assert(!options_parse_bool("maybe", &value));
	ck_assert(!options_parse_bool("", &value));
	ck_assert(!options_parse_bool("2", &value));
}
END_TEST

START_TEST(number_ranges_and_celsius)
{
	double value = 0;

	ck_assert(options_parse_number("85", -20, 150, &value));
	ck_assert_double_eq(value, 85);
	ck_assert(options_parse_number("85C", -20, 150, &value));
	ck_assert_double_eq(value, 85);
	ck_assert(options_parse_number("72.5\xc2\xb0""C", -20, 150, &value));
	ck_assert_double_eq(value, 72.5);
	ck_assert(options_parse_number("-10", -20, 150, &value));
	ck_assert_double_eq(value, -10);
	ck_assert(!options_parse_number("200", -20, 150, &value));
	ck_assert(!options_parse_number("hot", -20, 150, &value));
	ck_assert(!options_parse_number("85F", -20, 150, &value));
}
END_TEST

START_TEST(table_defaults_parse)
{
	option_info_t info;
	size_t i;

	options_set_defaults();
	ck_assert_uint_gt(options_count(), 15);
	for (i = 0; options_describe(i, &info); i++) {
		ck_assert_int_eq(info.source, OPTION_SOURCE_DEFAULT);
		ck_assert_str_eq(strncmp(info.env_name, "SAFEEXEC_", 9) == 0 ? "prefix" : info.env_name,
		    "prefix");
	}
	ck_assert_uint_eq(i, options_count());
	ck_assert_uint_eq(options.large_threshold_bytes, 1 << 20);
	ck_assert_double_eq(options.safety_margin_percent, 10);
	ck_assert_uint_eq(options.stall_timeout_ms, 2000);
	ck_assert_str_eq(options.proc_root, "/proc");
	ck_assert(!options.disable);
}
END_TEST

START_TEST(set_invalid_keeps_default)
{
	options_set_defaults();
	ck_assert(!options_set("memory_limit", "lots", OPTION_SOURCE_ENV, "test"));
	ck_assert_uint_eq(options.memory_limit_bytes, 0);
	ck_assert(options_set("memory_limit", "512M", OPTION_SOURCE_ENV, "test"));
	ck_assert_uint_eq(options.memory_limit_bytes, 512ULL << 20);
	ck_assert(!options_set("memory_limit", "-1G", OPTION_SOURCE_ENV, "test"));
	ck_assert_uint_eq(options.memory_limit_bytes, 512ULL << 20);
	ck_assert(!options_set("no_such_option", "1", OPTION_SOURCE_FILE, "test"));
}
END_TEST

/* The fast path never checks requests under 64 KiB, so a lower threshold is refused. */
START_TEST(large_threshold_has_a_minimum)
{
	options_set_defaults();
	ck_assert(!options_set("large_threshold", "4K", OPTION_SOURCE_ENV, "test"));
	ck_assert_uint_eq(options.large_threshold_bytes, 1 << 20);
	ck_assert(!options_set("large_threshold", "65535", OPTION_SOURCE_ENV, "test"));
	ck_assert(options_set("large_threshold", "64K", OPTION_SOURCE_ENV, "test"));
	ck_assert_uint_eq(options.large_threshold_bytes, 64 << 10);
}
END_TEST

/* Runs options_load in a child with the given environment and config file text. */
static void
load_in_child(const char *config_text, const char *config_mode, char *const env[],
    run_result_t *result)
{
	char *dir = test_make_temp_dir();
	char config_path[512], launcher_config[600];
	char *argv[] = { (char *)test_getenv("SAFEEXEC_LAUNCHER"), "config", NULL };
	char *full_env[16];
	size_t count = 0;

	snprintf(config_path, sizeof(config_path), "%s/safeexec.conf", dir);
	test_write_file(dir, "safeexec.conf", config_text);
	chmod(config_path, (mode_t)strtol(config_mode, NULL, 8));
	snprintf(launcher_config, sizeof(launcher_config), "SAFEEXEC_CONFIG=%s", config_path);
	full_env[count++] = launcher_config;
	while (env != NULL && *env != NULL && count < 15) {
		full_env[count++] = *env++;
	}
	full_env[count] = NULL;
	ck_assert_int_eq(test_run(argv, full_env, false, 30, result), 0);
	test_remove_tree(dir);
	free(dir);
}

START_TEST(config_file_and_env_precedence)
{
	char *env[] = { "SAFEEXEC_STALL_TIMEOUT=750ms", NULL };
	run_result_t result;

	load_in_child("# comment\n[safeexec]\nmemory_limit = 3G\nstall_timeout = 9s\n"
	    "log_level = info\n", "0644", env, &result);
	ck_assert_int_eq(result.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(result.out, "memory_limit       3221225472"));
	ck_assert_ptr_nonnull(strstr(result.out, "stall_timeout      750ms"));
	ck_assert_ptr_nonnull(strstr(result.out, "SAFEEXEC_STALL_TIMEOUT"));
	ck_assert_ptr_nonnull(strstr(result.out, "safeexec.conf"));
	test_run_free(&result);
}
END_TEST

START_TEST(small_large_threshold_warns)
{
	char *env[] = { "SAFEEXEC_LARGE_THRESHOLD=4K", NULL };
	run_result_t result;

	load_in_child("", "0644", env, &result);
	ck_assert_int_eq(result.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(result.err, "invalid value '4K' for large_threshold "
	    "(SAFEEXEC_LARGE_THRESHOLD): expected a size of at least 64K, such as 1M or 64M; "
	    "keeping the default"));
	ck_assert_ptr_nonnull(strstr(result.out, "large_threshold    1048576 "));
	test_run_free(&result);
}
END_TEST

START_TEST(config_file_bad_values_warn)
{
	run_result_t result;

	load_in_child("memory_limit = banana\nunknown_key = 1\nsafety_margin = 250%\n"
	    "this line has no equals sign\n", "0644", NULL, &result);
	ck_assert_int_eq(result.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(result.err, "invalid value 'banana' for memory_limit "
	    "(SAFEEXEC_MEMORY_LIMIT)"));
	ck_assert_ptr_nonnull(strstr(result.err, "unknown option 'unknown_key'"));
	ck_assert_ptr_nonnull(strstr(result.err, "invalid value '250%' for safety_margin"));
	ck_assert_ptr_nonnull(strstr(result.err, "syntax error on line 4"));
	ck_assert_ptr_nonnull(strstr(result.out, "memory_limit       0 "));
	test_run_free(&result);
}
END_TEST

/* A near miss of a setting's variable is warned about; other SAFEEXEC_ names are not. */
START_TEST(mistyped_env_variable_warns)
{
	char *env[] = { "SAFEEXEC_MEMORY_LIMT=4G", "SAFEEXEC_STALL_TIMOUT=1s",
	    "SAFEEXEC_SOMETHING_ELSE=1", NULL };
	run_result_t result;

	load_in_child("", "0644", env, &result);
	ck_assert_int_eq(result.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(result.err, "SAFEEXEC_MEMORY_LIMT is not a setting and is "
	    "ignored; did you mean SAFEEXEC_MEMORY_LIMIT?"));
	ck_assert_ptr_nonnull(strstr(result.err, "did you mean SAFEEXEC_STALL_TIMEOUT?"));
	ck_assert_ptr_null(strstr(result.err, "SAFEEXEC_SOMETHING_ELSE"));
	ck_assert_ptr_nonnull(strstr(result.out, "memory_limit       0 "));
	test_run_free(&result);
}
END_TEST

START_TEST(config_file_world_writable_rejected)
{
	run_result_t result;

	load_in_child("memory_limit = 3G\n", "0666", NULL, &result);
	ck_assert_int_eq(result.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(result.err, "writable by group or others"));
	ck_assert_ptr_nonnull(strstr(result.out, "memory_limit       0 "));
	test_run_free(&result);
}
END_TEST

static Suite *
options_suite(void)
{
	Suite *suite = suite_create("options");
	TCase *parsers = tcase_create("parsers");
	TCase *files = tcase_create("files");

	tcase_add_test(parsers, size_suffixes);
	tcase_add_test(parsers, size_rejects_garbage);
	tcase_add_test(parsers, size_or_percent);
	tcase_add_test(parsers, duration_units);
	tcase_add_test(parsers, bool_words);
	tcase_add_test(parsers, number_ranges_and_celsius);
	tcase_add_test(parsers, table_defaults_parse);
	tcase_add_test(parsers, set_invalid_keeps_default);
	tcase_add_test(parsers, large_threshold_has_a_minimum);
	tcase_add_test(files, config_file_and_env_precedence);
	tcase_add_test(files, config_file_bad_values_warn);
	tcase_add_test(files, small_large_threshold_warns);
	tcase_add_test(files, config_file_world_writable_rejected);
	tcase_add_test(files, mistyped_env_variable_warns);
	suite_add_tcase(suite, parsers);
	suite_add_tcase(suite, files);
	return suite;
}

int
main(void)
{
	return test_run_suite(options_suite());
}
