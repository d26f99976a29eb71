/*
 * Unit tests for the temperature source selection (fixture sysfs trees under
 * tests/fixtures/thermal), the sensor file reader, and the CPU load and core
 * count readers (fixture trees and trees written to temp dirs).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu_load.h"
#include "thermal.h"
#include "test_support.h"

static char fixture_root[1024];

/* Returns the root of one fixture tree, e.g. "coretemp". */
static const char *
fixture(const char *name)
{
	snprintf(fixture_root, sizeof(fixture_root), "%s/thermal/%s",
	    test_getenv("SAFEEXEC_TEST_FIXTURES"), name);
	return fixture_root;
}

static bool
ends_with(const char *text, const char *suffix)
{
	size_t text_length = strlen(text), suffix_length = strlen(suffix);

	return text_length >= suffix_length
	    && strcmp(text + text_length - suffix_length, suffix) == 0;
}

static double
select_and_read(const char *name, thermal_source_t *source)
{
	double celsius = NAN;

	thermal_select(fixture(name), NULL, false, source);
	ck_assert_msg(source->count > 0, "fixture %s: no source (%s)", name,
	    source->unavailable_reason);
	ck_assert_msg(thermal_read_celsius(source, &celsius), "fixture %s: no reading", name);
	return celsius;
}

/* Source selection on fixture trees */

START_TEST(coretemp_package_chosen)
{
	thermal_source_t source;
	double celsius = select_and_read("coretemp", &source);

	ck_assert_int_eq(source.count, 1);
	ck_assert_int_eq(source.origin, THERMAL_ORIGIN_HWMON);
	ck_assert_int_eq(source.rank, THERMAL_RANK_CPU_PACKAGE);
	ck_assert_msg(ends_with(source.paths[0], "/hwmon1/temp1_input"), "path %s",
	    source.paths[0]);
	ck_assert_ptr_nonnull(strstr(source.description, "Package id 0"));
	ck_assert_double_eq_tol(celsius, 62.0, 1e-9);
}
END_TEST

START_TEST(coretemp_two_packages_hottest)
{
	thermal_source_t source;
	double celsius = select_and_read("coretemp_two_packages", &source);

	ck_assert_int_eq(source.count, 2);
	ck_assert_double_eq_tol(celsius, 66.0, 1e-9);
}
END_TEST

START_TEST(k10temp_tdie_over_tctl)
{
	thermal_source_t source;
	double celsius = select_and_read("k10temp_tdie", &source);

	ck_assert_int_eq(source.count, 1);
	ck_assert_msg(ends_with(source.paths[0], "/temp2_input"), "path %s", source.paths[0]);
	ck_assert_ptr_nonnull(strstr(source.description, "Tdie"));
	ck_assert_double_eq_tol(celsius, 65.0, 1e-9);
}
END_TEST

START_TEST(k10temp_hottest_tccd_over_tctl)
{
	thermal_source_t source;
	double celsius = select_and_read("k10temp_tccd", &source);
	int i;

	ck_assert_int_eq(source.count, 2);
	ck_assert_int_eq(source.rank, THERMAL_RANK_CPU_DIE);
	for (i = 0; i < source.count; i++) {
		ck_assert_msg(!ends_with(source.paths[i], "/temp1_input"), "Tctl chosen: %s",
		    source.paths[i]);
	}
	ck_assert_double_eq_tol(celsius, 68.0, 1e-9);
}
END_TEST

START_TEST(stuck_127_skipped)
{
	thermal_source_t source;
	double celsius = select_and_read("stuck", &source);
	int i;

	ck_assert_int_eq(source.rank, THERMAL_RANK_CPU);
	ck_assert_int_eq(source.count, 2);
	for (i = 0; i < source.count; i++) {
		ck_assert_msg(!ends_with(source.paths[i], "/hwmon0/temp1_input"),
		    "stuck input chosen: %s", source.paths[i]);
	}
	ck_assert_double_eq_tol(celsius, 55.0, 1e-9);
}
END_TEST

START_TEST(no_cpu_sensor)
{
	thermal_source_t source;
	double celsius = -1.0;

	thermal_select(fixture("none"), NULL, false, &source);
	ck_assert_int_eq(source.count, 0);
	ck_assert_ptr_nonnull(strstr(source.unavailable_reason, "no CPU temperature sensor"));
	ck_assert(!thermal_read_celsius(&source, &celsius));
	ck_assert_double_eq(celsius, -1.0);
}
END_TEST

START_TEST(missing_sysfs_root)
{
	thermal_source_t source;

	thermal_select("/nonexistent/safeexec-test-sys", NULL, false, &source);
	ck_assert_int_eq(source.count, 0);
	ck_assert_str_ne(source.unavailable_reason, "");
}
END_TEST

START_TEST(thermal_zone_fallback)
{
	thermal_source_t source;
	double celsius = select_and_read("thermal_zone", &source);

	ck_assert_int_eq(source.count, 1);
	ck_assert_int_eq(source.origin, THERMAL_ORIGIN_THERMAL_ZONE);
	ck_assert_msg(ends_with(source.paths[0], "/thermal_zone1/temp"), "path %s",
	    source.paths[0]);
	ck_assert_ptr_nonnull(strstr(source.description, "x86_pkg_temp"));
	ck_assert_double_eq_tol(celsius, 58.0, 1e-9);
}
END_TEST

START_TEST(pinned_file_wins)
{
	char *dir = test_make_temp_dir();
	char path[1024];
	thermal_source_t source;
	double celsius = 0.0;

	test_write_file(dir, "temp", "91500\n");
	snprintf(path, sizeof(path), "%s/temp", dir);
	thermal_select(fixture("coretemp"), path, false, &source);
	ck_assert_int_eq(source.count, 1);
	ck_assert_int_eq(source.origin, THERMAL_ORIGIN_PINNED);
	ck_assert_str_eq(source.paths[0], path);
	ck_assert(thermal_read_celsius(&source, &celsius));
	ck_assert_double_eq_tol(celsius, 91.5, 1e-9);

	/* A pinned file that is missing stays the source; it just gives no reading. */
	snprintf(path, sizeof(path), "%s/missing", dir);
	thermal_select(fixture("coretemp"), path, false, &source);
	ck_assert_int_eq(source.count, 1);
	ck_assert(!thermal_read_celsius(&source, &celsius));
	test_remove_tree(dir);
	free(dir);
}
END_TEST

/* The real machine: libsensors runs, and nothing reaches stderr at any level. */
START_TEST(real_machine_silent)
{
	char *dir = test_make_temp_dir();
	char path[1024];
	char *captured;
	thermal_source_t source;
	int saved_stderr = dup(STDERR_FILENO);
	int fd;

	snprintf(path, sizeof(path), "%s/stderr", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, STDERR_FILENO);
	thermal_select("/sys", NULL, true, &source);
	dup2(saved_stderr, STDERR_FILENO);
	close(fd);
	close(saved_stderr);

	captured = test_read_file(path);
	ck_assert_ptr_nonnull(captured);
	ck_assert_msg(captured[0] == '\0', "stderr got: %s", captured);
	ck_assert(source.count > 0 || source.unavailable_reason[0] != '\0');
	free(captured);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

/* Reader and ranks */

START_TEST(millidegree_file_forms)
{
	char *dir = test_make_temp_dir();
	char path[1024];
	long millidegrees = 0;

	test_write_file(dir, "plain", "45000\n");
	test_write_file(dir, "negative", "-5000\n");
	test_write_file(dir, "garbage", "hot\n");
	test_write_file(dir, "empty", "");
	test_write_file(dir, "trailing", "45000x\n");

	snprintf(path, sizeof(path), "%s/plain", dir);
	ck_assert_int_eq(thermal_read_millidegrees(path, &millidegrees), 0);
	ck_assert_int_eq(millidegrees, 45000);
	snprintf(path, sizeof(path), "%s/negative", dir);
	ck_assert_int_eq(thermal_read_millidegrees(path, &millidegrees), 0);
	ck_assert_int_eq(millidegrees, -5000);
	snprintf(path, sizeof(path), "%s/garbage", dir);
	ck_assert_int_eq(thermal_read_millidegrees(path, &millidegrees), -EINVAL);
	snprintf(path, sizeof(path), "%s/empty", dir);
	ck_assert_int_eq(thermal_read_millidegrees(path, &millidegrees), -EINVAL);
	snprintf(path, sizeof(path), "%s/trailing", dir);
	ck_assert_int_eq(thermal_read_millidegrees(path, &millidegrees), -EINVAL);
	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(thermal_read_millidegrees(path, &millidegrees), -ENOENT);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(plausible_range_and_stuck_values)
{
	ck_assert(thermal_millidegrees_plausible(45000));
	ck_assert(thermal_millidegrees_plausible(-20000));
	ck_assert(thermal_millidegrees_plausible(150000));
	ck_assert(thermal_millidegrees_plausible(126999));
	ck_assert(!thermal_millidegrees_plausible(-20001));
	ck_assert(!thermal_millidegrees_plausible(150001));
	ck_assert(!thermal_millidegrees_plausible(127000));
	ck_assert(!thermal_millidegrees_plausible(128000));
	ck_assert(!thermal_millidegrees_plausible(255000));
}
END_TEST

START_TEST(hwmon_and_zone_ranks)
{
	ck_assert_int_eq(thermal_rank_hwmon("coretemp", "Package id 1"), THERMAL_RANK_CPU_PACKAGE);
	ck_assert_int_eq(thermal_rank_hwmon("coretemp", "Core 3"), THERMAL_RANK_CPU);
	ck_assert_int_eq(thermal_rank_hwmon("k10temp", "Tdie"), THERMAL_RANK_CPU_PACKAGE);
	ck_assert_int_eq(thermal_rank_hwmon("k10temp", "Tccd4"), THERMAL_RANK_CPU_DIE);
	ck_assert_int_eq(thermal_rank_hwmon("k10temp", "Tctl"), THERMAL_RANK_CPU_OFFSET);
	ck_assert_int_eq(thermal_rank_hwmon("k10temp", ""), THERMAL_RANK_CPU_OFFSET);
	ck_assert_int_eq(thermal_rank_hwmon("zenpower", "Tdie"), THERMAL_RANK_CPU_PACKAGE);
	ck_assert_int_eq(thermal_rank_hwmon("cpu_thermal", ""), THERMAL_RANK_CPU);
	ck_assert_int_eq(thermal_rank_hwmon("acpitz", ""), THERMAL_RANK_BOARD);
	ck_assert_int_eq(thermal_rank_hwmon("nct6775", "CPUTIN"), THERMAL_RANK_BOARD);
	ck_assert_int_eq(thermal_rank_hwmon("nvme", "Composite"), THERMAL_RANK_NONE);
	ck_assert_int_eq(thermal_rank_hwmon("amdgpu", "edge"), THERMAL_RANK_NONE);
	ck_assert_int_eq(thermal_rank_zone("x86_pkg_temp"), THERMAL_RANK_CPU_PACKAGE);
	ck_assert_int_eq(thermal_rank_zone("cpu-thermal"), THERMAL_RANK_CPU);
	ck_assert_int_eq(thermal_rank_zone("soc_thermal"), THERMAL_RANK_CPU);
	ck_assert_int_eq(thermal_rank_zone("acpitz"), THERMAL_RANK_BOARD);
	ck_assert_int_eq(thermal_rank_zone("iwlwifi_1"), THERMAL_RANK_NONE);
}
END_TEST

/* CPU load and core counts */

START_TEST(cpu_list_forms)
{
	unsigned cpus[16];

	ck_assert_int_eq(cpu_load_parse_cpu_list("0-3,8,10-11\n", cpus, 16), 7);
	ck_assert_uint_eq(cpus[0], 0);
	ck_assert_uint_eq(cpus[3], 3);
	ck_assert_uint_eq(cpus[4], 8);
	ck_assert_uint_eq(cpus[6], 11);
	ck_assert_int_eq(cpu_load_parse_cpu_list("5", cpus, 16), 1);
	ck_assert_uint_eq(cpus[0], 5);
	ck_assert_int_eq(cpu_load_parse_cpu_list("0-31", cpus, 16), 16);
	ck_assert_int_eq(cpu_load_parse_cpu_list("3-1", cpus, 16), -EINVAL);
	ck_assert_int_eq(cpu_load_parse_cpu_list("a", cpus, 16), -EINVAL);
	ck_assert_int_eq(cpu_load_parse_cpu_list("1,,2", cpus, 16), -EINVAL);
}
END_TEST

START_TEST(loadavg_forms)
{
	double load = 0.0;

	ck_assert_int_eq(cpu_load_parse_loadavg("3.52 2.10 1.00 2/345 6789\n", &load), 0);
	ck_assert_double_eq_tol(load, 3.52, 1e-9);
	ck_assert_int_eq(cpu_load_parse_loadavg("12 1 1 1/1 1", &load), 0);
	ck_assert_double_eq_tol(load, 12.0, 1e-9);
	ck_assert_int_eq(cpu_load_parse_loadavg("", &load), -EINVAL);
	ck_assert_int_eq(cpu_load_parse_loadavg("x.5 1 1", &load), -EINVAL);
}
END_TEST

START_TEST(physical_cores_skip_smt)
{
	const char *root = fixture("cpu_topology");

	ck_assert_uint_eq(cpu_load_online_cpus(root), 4);
	ck_assert_uint_eq(cpu_load_physical_cores(root), 2);
}
END_TEST

START_TEST(physical_cores_without_topology)
{
	char *dir = test_make_temp_dir();

	test_write_file(dir, "devices/system/cpu/online", "0-5\n");
	ck_assert_uint_eq(cpu_load_online_cpus(dir), 6);
	ck_assert_uint_eq(cpu_load_physical_cores(dir), 6);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(cpu_load_psi_and_loadavg)
{
	char *dir = test_make_temp_dir();
	cpu_load_t load;

	test_write_file(dir, "pressure/cpu", "some avg10=42.50 avg60=10.00 avg300=1.00 "
	    "total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	test_write_file(dir, "loadavg", "6.00 5.00 4.00 3/200 999\n");
	ck_assert_int_eq(cpu_load_read(dir, 4, &load), 0);
	ck_assert(load.psi_available);
	ck_assert_double_eq_tol(load.psi_some_avg10, 42.5, 1e-9);
	ck_assert(load.loadavg_available);
	ck_assert_double_eq_tol(load.load_per_cpu, 1.5, 1e-9);
	ck_assert_double_eq_tol(cpu_load_percent(&load), 42.5, 1e-9);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(cpu_load_without_psi)
{
	char *dir = test_make_temp_dir();
	cpu_load_t load;

	test_write_file(dir, "loadavg", "6.00 5.00 4.00 3/200 999\n");
	ck_assert_int_eq(cpu_load_read(dir, 2, &load), 0);
	ck_assert(!load.psi_available);
	ck_assert(isnan(load.psi_some_avg10));
	ck_assert_double_eq_tol(cpu_load_percent(&load), 300.0, 1e-9);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(cpu_load_nothing_readable)
{
	char *dir = test_make_temp_dir();
	cpu_load_t load;

	ck_assert_int_eq(cpu_load_read(dir, 2, &load), -ENOENT);
	ck_assert(isnan(cpu_load_percent(&load)));
	test_remove_tree(dir);
	free(dir);
}
END_TEST

static Suite *
thermal_suite(void)
{
	Suite *suite = suite_create("thermal");
	TCase *selection = tcase_create("selection");
	TCase *reader = tcase_create("reader");
	TCase *cpu = tcase_create("cpu_load");

	tcase_add_test(selection, coretemp_package_chosen);
	tcase_add_test(selection, coretemp_two_packages_hottest);
	tcase_add_test(selection, k10temp_tdie_over_tctl);
	tcase_add_test(selection, k10temp_hottest_tccd_over_tctl);
	tcase_add_test(selection, stuck_127_skipped);
	tcase_add_test(selection, no_cpu_sensor);
	tcase_add_test(selection, missing_sysfs_root);
	tcase_add_test(selection, thermal_zone_fallback);
	tcase_add_test(selection, pinned_file_wins);
	tcase_add_test(selection, real_machine_silent);
	tcase_add_test(reader, millidegree_file_forms);
	tcase_add_test(reader, plausible_range_and_stuck_values);
	tcase_add_test(reader, hwmon_and_zone_ranks);
	tcase_add_test(cpu, cpu_list_forms);
	tcase_add_test(cpu, loadavg_forms);
	tcase_add_test(cpu, physical_cores_skip_smt);
	tcase_add_test(cpu, physical_cores_without_topology);
	tcase_add_test(cpu, cpu_load_psi_and_loadavg);
	tcase_add_test(cpu, cpu_load_without_psi);
	tcase_add_test(cpu, cpu_load_nothing_readable);
	suite_add_tcase(suite, selection);
	suite_add_tcase(suite, reader);
	suite_add_tcase(suite, cpu);
	return suite;
}

int
main(void)
{
	return test_run_suite(thermal_suite());
}
