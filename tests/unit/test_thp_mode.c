/*
 * Unit tests for the transparent huge page mode reader: the bracketed word
 * selects the mode, and anything else reads as unavailable.
 */
#include <stdlib.h>

#include "test_support.h"
#include "thp_mode.h"

START_TEST(bracketed_word_selects_mode)
{
	ck_assert_int_eq(thp_mode_parse("always [madvise] never\n"), THP_MODE_MADVISE);
	ck_assert_int_eq(thp_mode_parse("[always] madvise never\n"), THP_MODE_ALWAYS);
	ck_assert_int_eq(thp_mode_parse("always madvise [never]\n"), THP_MODE_NEVER);
	/* Newer kernels add words; the selection is still the bracketed one. */
	ck_assert_int_eq(thp_mode_parse("always inherit [madvise] never\n"), THP_MODE_MADVISE);
	ck_assert_str_eq(thp_mode_name(THP_MODE_MADVISE), "madvise");
}
END_TEST

START_TEST(unknown_text_is_unavailable)
{
	ck_assert_int_eq(thp_mode_parse(""), THP_MODE_UNAVAILABLE);
	ck_assert_int_eq(thp_mode_parse("always madvise never\n"), THP_MODE_UNAVAILABLE);
	ck_assert_int_eq(thp_mode_parse("[inherit] always never\n"), THP_MODE_UNAVAILABLE);
	ck_assert_int_eq(thp_mode_parse("[madvise\n"), THP_MODE_UNAVAILABLE);
	ck_assert_int_eq(thp_mode_parse("[madvisee]"), THP_MODE_UNAVAILABLE);
	ck_assert_int_eq(thp_mode_parse("[]"), THP_MODE_UNAVAILABLE);
}
END_TEST

START_TEST(read_from_injected_root)
{
	char *root = test_make_temp_dir();

	ck_assert_int_eq(thp_mode_read(root), THP_MODE_UNAVAILABLE);
	test_write_file(root, "kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n");
	ck_assert_int_eq(thp_mode_read(root), THP_MODE_ALWAYS);
	test_remove_tree(root);
	free(root);
}
END_TEST

START_TEST(page_size_read_and_checked)
{
	char *root = test_make_temp_dir();
	const char *relative = "kernel/mm/transparent_hugepage/hpage_pmd_size";

	ck_assert_uint_eq(thp_page_bytes_read(root), 0);
	test_write_file(root, relative, "2097152\n");
	ck_assert_uint_eq(thp_page_bytes_read(root), 2097152);
	test_write_file(root, relative, "3145728\n");
	ck_assert_uint_eq(thp_page_bytes_read(root), 0);
	test_write_file(root, relative, "4096\n");
	ck_assert_uint_eq(thp_page_bytes_read(root), 0);
	test_write_file(root, relative, "2097152 kB\n");
	ck_assert_uint_eq(thp_page_bytes_read(root), 0);
	test_remove_tree(root);
	free(root);
}
END_TEST

static Suite *
thp_mode_suite(void)
{
	Suite *suite = suite_create("thp_mode");
	TCase *parse = tcase_create("parse");

	tcase_add_test(parse, bracketed_word_selects_mode);
	tcase_add_test(parse, unknown_text_is_unavailable);
	tcase_add_test(parse, read_from_injected_root);
	tcase_add_test(parse, page_size_read_and_checked);
	suite_add_tcase(suite, parse);
	return suite;
}

int
main(void)
{
	return test_run_suite(thp_mode_suite());
}
