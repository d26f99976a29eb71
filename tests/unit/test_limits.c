/*
 * Unit tests for the memory limit readers: text parsers, the procfs helpers,
 * cgroup discovery and reading on fixture trees (tests/fixtures/limits and
 * trees written to temp dirs), and a read-only pass over the real /proc and
 * /sys.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "mem_limits.h"
#include "procfs.h"
#include "test_support.h"

#define GIB (1024ULL * 1024 * 1024)

/* Roots of the current fixture tree. The context is large, so it is static. */
static char proc_root[LIMITS_PATH_MAX];
static char sysfs_root[LIMITS_PATH_MAX];
static limits_context_t context;
static limit_reading_t readings[LIMIT_SOURCE_COUNT];

static void
use_fixture(const char *name)
{
	const char *fixtures = test_getenv("SAFEEXEC_TEST_FIXTURES");

	snprintf(proc_root, sizeof(proc_root), "%s/limits/%s/proc", fixtures, name);
	snprintf(sysfs_root, sizeof(sysfs_root), "%s/limits/%s/sys", fixtures, name);
}

static void
use_temp_tree(const char *dir)
{
	snprintf(proc_root, sizeof(proc_root), "%s/proc", dir);
	snprintf(sysfs_root, sizeof(sysfs_root), "%s/sys", dir);
}

/* Returns "<sysfs_root>/<relative>" in a static buffer. */
static const char *
sys_path(const char *relative)
{
	static char path[LIMITS_PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", sysfs_root, relative);
	return path;
}

static void
discover_and_read(void)
{
	ck_assert_int_eq(limits_discover(&context, proc_root, sysfs_root), 0);
	limits_read_all(&context, readings);
}

/* Text parsers */

START_TEST(limit_value_forms)
{
	uint64_t bytes = 0;
	bool unlimited = true;

	ck_assert_int_eq(limits_parse_limit_value("max\n", &bytes, &unlimited), 0);
	ck_assert(unlimited);
	ck_assert_int_eq(limits_parse_limit_value("max", &bytes, &unlimited), 0);
	ck_assert(unlimited);
	ck_assert_int_eq(limits_parse_limit_value("4294967296\n", &bytes, &unlimited), 0);
	ck_assert(!unlimited);
	ck_assert_uint_eq(bytes, 4294967296ULL);
	ck_assert_int_eq(limits_parse_limit_value("0", &bytes, &unlimited), 0);
	ck_assert_uint_eq(bytes, 0);
	ck_assert_int_eq(limits_parse_limit_value("18446744073709551615", &bytes, &unlimited), 0);
	ck_assert_uint_eq(bytes, UINT64_MAX);
}
END_TEST

START_TEST(limit_value_rejects_garbage)
{
	static const char *const invalid[] = {
		"", "\n", "-1", "+5", " 12", "12a", "0x10", "maxx", "ma", "1 2",
		"18446744073709551616", "99999999999999999999999999",
	};
	uint64_t bytes = 7;
	bool unlimited = false;
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(invalid); i++) {
		ck_assert_msg(limits_parse_limit_value(invalid[i], &bytes, &unlimited) == -EINVAL,
		    "'%s' was accepted", invalid[i]);
	}
	ck_assert_uint_eq(bytes, 7);
}
END_TEST

START_TEST(meminfo_standard_order)
{
	meminfo_t info;

	ck_assert_int_eq(limits_parse_meminfo("MemTotal:       16384 kB\n"
	    "MemFree:         1024 kB\nMemAvailable:    8192 kB\nBuffers: 12 kB\n", &info), 0);
	ck_assert_uint_eq(info.total_bytes, 16384 * 1024ULL);
	ck_assert_uint_eq(info.available_bytes, 8192 * 1024ULL);
	ck_assert(!info.available_estimated);
}
END_TEST

START_TEST(meminfo_unusual_order)
{
	meminfo_t info;

	ck_assert_int_eq(limits_parse_meminfo("HugePages_Total:       0\n"
	    "MemAvailable:    4096 kB\nCached: 1 kB\nMemTotal:       32768 kB", &info), 0);
	ck_assert_uint_eq(info.total_bytes, 32768 * 1024ULL);
	ck_assert_uint_eq(info.available_bytes, 4096 * 1024ULL);
	ck_assert(!info.available_estimated);
}
END_TEST

START_TEST(meminfo_estimates_available)
{
	meminfo_t info;

	ck_assert_int_eq(limits_parse_meminfo("MemTotal: 100000 kB\nMemFree: 10000 kB\n"
	    "Active(file): 2000 kB\nInactive(file): 3000 kB\nSReclaimable: 400 kB\n"
	    "Active(anon): 999 kB\nSUnreclaim: 777 kB\n", &info), 0);
	ck_assert(info.available_estimated);
	ck_assert_uint_eq(info.available_bytes, (10000 + 2000 + 3000 + 400) * 1024ULL);
	ck_assert_uint_eq(info.total_bytes, 100000 * 1024ULL);
}
END_TEST

START_TEST(meminfo_estimate_with_only_memfree)
{
	meminfo_t info;

	ck_assert_int_eq(limits_parse_meminfo("MemFree: 500 kB\nMemTotal: 1000 kB\n", &info), 0);
	ck_assert(info.available_estimated);
	ck_assert_uint_eq(info.available_bytes, 500 * 1024ULL);
}
END_TEST

START_TEST(meminfo_available_clamped_to_total)
{
	meminfo_t info;

	ck_assert_int_eq(limits_parse_meminfo("MemTotal: 1000 kB\nMemAvailable: 5000 kB\n",
	    &info), 0);
	ck_assert_uint_eq(info.available_bytes, 1000 * 1024ULL);
}
END_TEST

START_TEST(meminfo_rejects_garbage)
{
	static const char *const invalid[] = {
		"",
		"\n\n",
		"garbage without colons",
		"MemFree: 100 kB\n",                              /* no MemTotal */
		"MemTotal: 1000 kB\n",                            /* nothing to estimate from */
		"MemTotal: 0 kB\nMemAvailable: 0 kB\n",
		"MemTotal: abc kB\nMemAvailable: 1 kB\n",
		"MemTotal: 1000 MB\nMemAvailable: 1 kB\n",
		"MemTotal: 1000 kB extra\nMemAvailable: 1 kB\n",
		"MemTotal:\nMemAvailable: 1 kB\n",
		"MemTotal: -5 kB\nMemAvailable: 1 kB\n",
		"MemTotal: 18446744073709551616 kB\nMemAvailable: 1 kB\n",
		"MemTotal: 18014398509481984 kB\nMemAvailable: 1 kB\n", /* kB * 1024 overflows */
		"MemTotal: 1000 kB\nMemTotal: 1000 kB\nMemAvailable: 1 kB\n",
		"MemTotal: 1000 kB\nMemFree: 18014398509481983 kB\n"
		    "Active(file): 18014398509481983 kB\n",         /* estimate overflows */
	};
	meminfo_t info;
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(invalid); i++) {
		ck_assert_msg(limits_parse_meminfo(invalid[i], &info) == -EINVAL,
		    "case %zu was accepted", i);
	}
}
END_TEST

START_TEST(meminfo_stops_at_nul)
{
	static const char text[] = "MemTotal: 1000 kB\nMemAvailable: 1\0 00 kB\n";
	meminfo_t info;

	ck_assert_int_eq(limits_parse_meminfo(text, &info), 0);
	ck_assert_uint_eq(info.available_bytes, 1024);
}
END_TEST

START_TEST(psi_memory_both_lines)
{
	psi_reading_t psi;

	ck_assert_int_eq(limits_parse_psi("some avg10=0.29 avg60=0.06 avg300=0.21 total=4808513\n"
	    "full avg10=12.50 avg60=0.00 avg300=0.00 total=0\n", &psi), 0);
	ck_assert(psi.present);
	ck_assert_double_eq_tol(psi.some_avg10, 0.29, 1e-9);
	ck_assert_double_eq_tol(psi.some_avg60, 0.06, 1e-9);
	ck_assert_double_eq_tol(psi.full_avg10, 12.5, 1e-9);
}
END_TEST

START_TEST(psi_lines_in_any_order)
{
	psi_reading_t psi;

	ck_assert_int_eq(limits_parse_psi("full avg10=1.00 avg60=2.00 avg300=3.00 total=4\n"
	    "some total=9 avg300=0.5 avg60=55.25 avg10=100.00", &psi), 0);
	ck_assert(psi.present);
	ck_assert_double_eq_tol(psi.some_avg10, 100.0, 1e-9);
	ck_assert_double_eq_tol(psi.some_avg60, 55.25, 1e-9);
	ck_assert_double_eq_tol(psi.full_avg10, 1.0, 1e-9);
}
END_TEST

START_TEST(psi_only_some_line)
{
	psi_reading_t psi;

	ck_assert_int_eq(limits_parse_psi("some avg10=3.10 avg60=2.00 avg300=1.00 total=77\n",
	    &psi), 0);
	ck_assert(psi.present);
	ck_assert_double_eq_tol(psi.some_avg10, 3.1, 1e-9);
	ck_assert(isnan(psi.full_avg10));
}
END_TEST

START_TEST(psi_rejects_garbage)
{
	static const char *const invalid[] = {
		"",
		"\n",
		"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",      /* no "some" */
		"some avg10=0.29 avg6",                                    /* cut off */
		"some avg10=0.29\n",
		"some avg10=0.29 avg60=0.06 avg300=0.21\n",                /* no total */
		"some avg10=101.00 avg60=0.06 avg300=0.21 total=1\n",
		"some avg10=-1.00 avg60=0.06 avg300=0.21 total=1\n",
		"some avg10=1e3 avg60=0.06 avg300=0.21 total=1\n",
		"some avg10=. avg60=0.06 avg300=0.21 total=1\n",
		"some avg10=1. avg60=0.06 avg300=0.21 total=1\n",
		"some avg10= avg60=0.06 avg300=0.21 total=1\n",
		"some avg10=1 avg10=2 avg60=0.06 avg300=0.21 total=1\n",
		"some avg10=1 avg60=0.06 avg300=0.21 total=18446744073709551616\n",
		"some avg10=1 avg60=0.06 avg300=0.21 total=1 junk\n",
		"some avg10=1 avg60=0.06 avg300=0.21 total=1\n"
		    "some avg10=1 avg60=0.06 avg300=0.21 total=1\n",
		"some avg10=1 avg60=0.06 avg300=0.21 total=1\nbogus line\n",
		"\xff\xfe\x01garbled",
	};
	psi_reading_t psi;
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(invalid); i++) {
		psi.present = true;
		ck_assert_msg(limits_parse_psi(invalid[i], &psi) == -EINVAL,
		    "case %zu was accepted", i);
		ck_assert_msg(!psi.present, "case %zu left present set", i);
	}
}
END_TEST

START_TEST(statm_pages_to_bytes)
{
	self_memory_t self;

	ck_assert_int_eq(limits_parse_statm("262144 25000 5000 100 0 30000 0\n", 4096, &self), 0);
	ck_assert_uint_eq(self.virtual_bytes, 262144ULL * 4096);
	ck_assert_uint_eq(self.rss_bytes, 25000ULL * 4096);
	ck_assert_uint_eq(self.data_bytes, 30000ULL * 4096);
}
END_TEST

START_TEST(statm_rejects_garbage)
{
	static const char *const invalid[] = {
		"", "1 2 3 4 5 6", "1 2 3 4 5 6 7 8", "1 2 3 x 5 6 7", "1 2 3 4 5 6 -7",
		"18446744073709551616 2 3 4 5 6 7",
		"9007199254740992 2 3 4 5 6 7",   /* pages * 4096 overflows */
	};
	self_memory_t self;
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(invalid); i++) {
		ck_assert_msg(limits_parse_statm(invalid[i], 4096, &self) == -EINVAL,
		    "'%s' was accepted", invalid[i]);
	}
}
END_TEST

START_TEST(mountinfo_line_fields)
{
	static const char v1[] = "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:16 "
	    "master:3 - cgroup cgroup rw,memory";
	static const char v2[] = "41 31 0:38 /docker/a\\040b /sys/fs/cgroup/my\\040dir rw - "
	    "cgroup2 cgroup2 rw,nsdelegate";
	limits_mount_t mount;

	ck_assert_int_eq(limits_parse_mountinfo_line(v1, strlen(v1), &mount), 0);
	ck_assert_str_eq(mount.fstype, "cgroup");
	ck_assert_str_eq(mount.root, "/");
	ck_assert_str_eq(mount.mount_point, "/sys/fs/cgroup/memory");
	ck_assert(mount.memory_option);

	ck_assert_int_eq(limits_parse_mountinfo_line(v2, strlen(v2), &mount), 0);
	ck_assert_str_eq(mount.fstype, "cgroup2");
	ck_assert_str_eq(mount.root, "/docker/a b");
	ck_assert_str_eq(mount.mount_point, "/sys/fs/cgroup/my dir");
	ck_assert(!mount.memory_option);
}
END_TEST

START_TEST(mountinfo_line_memory_option_exact)
{
	static const char line[] = "35 31 0:32 / /x rw - cgroup cgroup rw,memoryx,nomemory";
	limits_mount_t mount;

	ck_assert_int_eq(limits_parse_mountinfo_line(line, strlen(line), &mount), 0);
	ck_assert(!mount.memory_option);
}
END_TEST

START_TEST(mountinfo_line_rejects_garbage)
{
	static const char *const invalid[] = {
		"",
		"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime cgroup cgroup rw,memory",
		"35 31 0:32 / /sys/fs/cgroup/memory rw -",
		"35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup",
		"35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup",
		"35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw extra",
		"x 31 0:32 / /sys rw - cgroup cgroup rw",
		"35 31 032 / /sys rw - cgroup cgroup rw",
		"35 31 0:32 / relative rw - cgroup cgroup rw",
		"35 31 0:32 /a\\000b /sys rw - cgroup cgroup rw",
		"35",
	};
	limits_mount_t mount;
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(invalid); i++) {
		ck_assert_msg(limits_parse_mountinfo_line(invalid[i], strlen(invalid[i]), &mount)
		    == -EINVAL, "'%s' was accepted", invalid[i]);
	}
}
END_TEST

START_TEST(mountinfo_line_respects_length)
{
	/* Only the first 20 bytes are the line, and the rest must not be read. */
	static const char text[] = "35 31 0:32 / /a rw -  - cgroup cgroup rw,memory";
	limits_mount_t mount;

	ck_assert_int_eq(limits_parse_mountinfo_line(text, 20, &mount), -EINVAL);
}
END_TEST

START_TEST(cgroup_line_fields)
{
	limits_cgroup_entry_t entry;

	ck_assert_int_eq(limits_parse_cgroup_line("4:memory,foo:/x", 15, &entry), 0);
	ck_assert_uint_eq(entry.hierarchy_id, 4);
	ck_assert(entry.memory_controller);
	ck_assert(!entry.controllers_empty);
	ck_assert_str_eq(entry.path, "/x");

	ck_assert_int_eq(limits_parse_cgroup_line("0::/", 4, &entry), 0);
	ck_assert_uint_eq(entry.hierarchy_id, 0);
	ck_assert(entry.controllers_empty);
	ck_assert(!entry.memory_controller);
	ck_assert_str_eq(entry.path, "/");

	ck_assert_int_eq(limits_parse_cgroup_line("9:name=systemd:/a:b", 19, &entry), 0);
	ck_assert_str_eq(entry.path, "/a:b");
	ck_assert(!entry.memory_controller);

	ck_assert_int_eq(limits_parse_cgroup_line("3:cpu,memory:/y", 15, &entry), 0);
	ck_assert(entry.memory_controller);
}
END_TEST

START_TEST(cgroup_line_rejects_garbage)
{
	static const char *const invalid[] = {
		"", "garbage", "4:memory", "4:memory:", "4:memory:relative", "x:memory:/",
		":memory:/", "99999999999999999999999:memory:/",
	};
	limits_cgroup_entry_t entry;
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(invalid); i++) {
		ck_assert_msg(limits_parse_cgroup_line(invalid[i], strlen(invalid[i]), &entry)
		    == -EINVAL, "'%s' was accepted", invalid[i]);
	}
}
END_TEST

/* procfs helpers */

START_TEST(procfs_join_paths)
{
	char path[16];

	ck_assert_int_eq(procfs_join(path, sizeof(path), "/proc", "meminfo"), 13);
	ck_assert_str_eq(path, "/proc/meminfo");
	ck_assert_int_eq(procfs_join(path, sizeof(path), "/proc/", "/self"), 10);
	ck_assert_str_eq(path, "/proc/self");
	ck_assert_int_eq(procfs_join(path, sizeof(path), "", "sys"), 4);
	ck_assert_str_eq(path, "/sys");
	ck_assert_int_eq(procfs_join(path, sizeof(path), "/proc", "0123456789"), -ENAMETOOLONG);
}
END_TEST

START_TEST(procfs_read_file_limits)
{
	char *dir = test_make_temp_dir();
	char path[256], buffer[8];

	test_write_file(dir, "small", "1234567");
	test_write_file(dir, "big", "12345678");
	test_write_file(dir, "empty", "");

	snprintf(path, sizeof(path), "%s/small", dir);
	ck_assert_int_eq(procfs_read_file(path, buffer, sizeof(buffer)), 7);
	ck_assert_str_eq(buffer, "1234567");
	snprintf(path, sizeof(path), "%s/big", dir);
	ck_assert_int_eq(procfs_read_file(path, buffer, sizeof(buffer)), -EFBIG);
	snprintf(path, sizeof(path), "%s/empty", dir);
	ck_assert_int_eq(procfs_read_file(path, buffer, sizeof(buffer)), 0);
	ck_assert_str_eq(buffer, "");
	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(procfs_read_file(path, buffer, sizeof(buffer)), -ENOENT);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(procfs_lines_skip_overlong)
{
	char *dir = test_make_temp_dir();
	char *text = malloc(3 * PROCFS_LINE_MAX);
	char path[256];
	procfs_lines_t lines;
	const char *line;
	size_t length;

	/*
	 * The file contains "first", an overlong line, a line of exactly
	 * PROCFS_LINE_MAX - 1 bytes and "last" without a newline.
	 */
	ck_assert_ptr_nonnull(text);
	strcpy(text, "first\n");
	memset(text + 6, 'x', PROCFS_LINE_MAX + 10);
	text[6 + PROCFS_LINE_MAX + 10] = '\n';
	memset(text + 7 + PROCFS_LINE_MAX + 10, 'y', PROCFS_LINE_MAX - 1);
	strcpy(text + 7 + PROCFS_LINE_MAX + 10 + PROCFS_LINE_MAX - 1, "\nlast");
	test_write_file(dir, "lines", text);
	snprintf(path, sizeof(path), "%s/lines", dir);

	ck_assert_int_eq(procfs_lines_open(&lines, path), 0);
	ck_assert_int_eq(procfs_lines_next(&lines, &line, &length), 1);
	ck_assert_uint_eq(length, 5);
	ck_assert(memcmp(line, "first", 5) == 0);
	ck_assert_int_eq(procfs_lines_next(&lines, &line, &length), 1);
	ck_assert_uint_eq(length, PROCFS_LINE_MAX - 1);
	ck_assert_int_eq(line[0], 'y');
	ck_assert_int_eq(procfs_lines_next(&lines, &line, &length), 1);
	ck_assert_uint_eq(length, 4);
	ck_assert(memcmp(line, "last", 4) == 0);
	ck_assert_int_eq(procfs_lines_next(&lines, &line, &length), 0);
	procfs_lines_close(&lines);

	test_remove_tree(dir);
	free(dir);
	free(text);
}
END_TEST

/* cgroup discovery and reading on fixture trees */

START_TEST(v2_parent_limit_wins)
{
	use_fixture("v2_parent_limit");
	discover_and_read();

	ck_assert_int_eq(context.v2_levels, 4);
	ck_assert_str_eq(context.v2_dirs[0],
	    sys_path("fs/cgroup/user.slice/user-1000.slice/app.scope"));
	ck_assert_str_eq(context.v2_dirs[3], sys_path("fs/cgroup"));
	ck_assert(readings[LIMIT_SOURCE_CGROUP_V2].present);
	ck_assert_uint_eq(readings[LIMIT_SOURCE_CGROUP_V2].limit_bytes, 4 * GIB);
	ck_assert_uint_eq(readings[LIMIT_SOURCE_CGROUP_V2].usage_bytes, 2000000000ULL);
	ck_assert_str_eq(readings[LIMIT_SOURCE_CGROUP_V2].detail,
	    sys_path("fs/cgroup/user.slice/user-1000.slice/memory.max"));
	ck_assert_int_eq(context.v1_levels, 0);
	ck_assert(!readings[LIMIT_SOURCE_CGROUP_V1].present);
	ck_assert_str_eq(readings[LIMIT_SOURCE_CGROUP_V1].detail, "not mounted");
}
END_TEST

START_TEST(v2_high_tighter_than_max)
{
	limit_reading_t reading;

	use_fixture("v2_high_tighter");
	ck_assert_int_eq(limits_discover(&context, proc_root, sysfs_root), 0);

	ck_assert_int_eq(limits_read_cgroup_v2(&context, &reading), 0);
	ck_assert(reading.present);
	ck_assert_uint_eq(reading.limit_bytes, 1 * GIB);
	ck_assert_uint_eq(reading.usage_bytes, 524288000ULL);
	ck_assert_str_eq(reading.detail, sys_path("fs/cgroup/job/memory.high"));
}
END_TEST

START_TEST(hybrid_v2_without_memory_v1_counts)
{
	use_fixture("hybrid_v1_limit");
	discover_and_read();

	ck_assert_int_eq(context.v2_levels, 0);
	ck_assert(!readings[LIMIT_SOURCE_CGROUP_V2].present);
	ck_assert_str_eq(readings[LIMIT_SOURCE_CGROUP_V2].detail,
	    "no memory controller in cgroup v2 hierarchy");
	ck_assert_int_eq(context.v1_levels, 3);
	ck_assert(readings[LIMIT_SOURCE_CGROUP_V1].present);
	ck_assert_uint_eq(readings[LIMIT_SOURCE_CGROUP_V1].limit_bytes, 1 * GIB);
	ck_assert_uint_eq(readings[LIMIT_SOURCE_CGROUP_V1].usage_bytes, 104857600ULL);
	ck_assert_str_eq(readings[LIMIT_SOURCE_CGROUP_V1].detail,
	    sys_path("fs/cgroup/memory/process_api/abc/memory.limit_in_bytes"));
}
END_TEST

START_TEST(v1_unlimited_sentinel)
{
	use_fixture("v1_unlimited");
	discover_and_read();

	ck_assert_int_eq(context.v1_levels, 3);
	ck_assert(!readings[LIMIT_SOURCE_CGROUP_V1].present);
	ck_assert_str_eq(readings[LIMIT_SOURCE_CGROUP_V1].detail, "unlimited");
}
END_TEST

START_TEST(v1_limit_above_memtotal)
{
	limit_reading_t reading;

	use_fixture("v1_above_memtotal");
	discover_and_read();

	ck_assert_int_eq(context.v1_levels, 2);
	ck_assert(!readings[LIMIT_SOURCE_CGROUP_V1].present);
	ck_assert_str_eq(readings[LIMIT_SOURCE_CGROUP_V1].detail, "limit above MemTotal");

	/* Without a known MemTotal the same 64 GiB counts, so the filter is what removed it. */
	ck_assert_int_eq(limits_read_cgroup_v1(&context, 0, &reading), 0);
	ck_assert(reading.present);
	ck_assert_uint_eq(reading.limit_bytes, 64 * GIB);
}
END_TEST

START_TEST(mountinfo_missing_fallback)
{
	use_fixture("mountinfo_missing");
	discover_and_read();

	ck_assert_int_eq(context.v2_levels, 2);
	ck_assert_str_eq(context.v2_dirs[0], sys_path("fs/cgroup/unified/app"));
	ck_assert(readings[LIMIT_SOURCE_CGROUP_V2].present);
	ck_assert_uint_eq(readings[LIMIT_SOURCE_CGROUP_V2].limit_bytes, 3 * GIB);
	ck_assert_int_eq(context.v1_levels, 2);
	ck_assert_str_eq(context.v1_dirs[0], sys_path("fs/cgroup/memory/app"));
	ck_assert(readings[LIMIT_SOURCE_CGROUP_V1].present);
	ck_assert_uint_eq(readings[LIMIT_SOURCE_CGROUP_V1].limit_bytes, 2 * GIB);
	ck_assert_uint_eq(readings[LIMIT_SOURCE_CGROUP_V1].usage_bytes, 2097152ULL);
}
END_TEST

START_TEST(cgroup_namespace_root)
{
	use_fixture("cgroupns_root");
	discover_and_read();

	ck_assert_int_eq(context.v2_levels, 1);
	ck_assert_str_eq(context.v2_dirs[0], sys_path("fs/cgroup"));
	ck_assert(readings[LIMIT_SOURCE_CGROUP_V2].present);
	ck_assert_uint_eq(readings[LIMIT_SOURCE_CGROUP_V2].limit_bytes, 512ULL << 20);
	ck_assert_uint_eq(readings[LIMIT_SOURCE_CGROUP_V2].usage_bytes, 12345678ULL);
	ck_assert_str_eq(readings[LIMIT_SOURCE_CGROUP_V2].detail,
	    sys_path("fs/cgroup/memory.max"));
}
END_TEST

static const char *const temp_v2_mountinfo =
    "31 24 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";

START_TEST(v2_usage_falls_back_to_leaf)
{
	char *dir = test_make_temp_dir();

	test_write_file(dir, "proc/self/cgroup", "0::/a/b\n");
	test_write_file(dir, "proc/self/mountinfo", temp_v2_mountinfo);
	test_write_file(dir, "sys/fs/cgroup/a/b/cgroup.controllers", "memory\n");
	test_write_file(dir, "sys/fs/cgroup/a/b/memory.current", "4096\n");
	test_write_file(dir, "sys/fs/cgroup/a/memory.max", "1048576\n");
	use_temp_tree(dir);
	ck_assert_int_eq(limits_discover(&context, proc_root, sysfs_root), 0);

	ck_assert_int_eq(limits_read_cgroup_v2(&context, &readings[0]), 0);
	ck_assert(readings[0].present);
	ck_assert_uint_eq(readings[0].limit_bytes, 1048576);
	ck_assert_uint_eq(readings[0].usage_bytes, 4096);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(v2_garbled_limit_file_reported)
{
	char *dir = test_make_temp_dir();

	test_write_file(dir, "proc/self/cgroup", "0::/a\n");
	test_write_file(dir, "proc/self/mountinfo", temp_v2_mountinfo);
	test_write_file(dir, "sys/fs/cgroup/a/cgroup.controllers", "memory\n");
	test_write_file(dir, "sys/fs/cgroup/a/memory.max", "12junk\n");
	use_temp_tree(dir);
	ck_assert_int_eq(limits_discover(&context, proc_root, sysfs_root), 0);

	ck_assert_int_eq(limits_read_cgroup_v2(&context, &readings[0]), -EINVAL);
	ck_assert(!readings[0].present);
	ck_assert_ptr_nonnull(strstr(readings[0].detail, "memory.max"));
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(v1_bind_mount_root_prefix)
{
	char *dir = test_make_temp_dir();

	/* A container without a cgroup namespace: the mount's root is its own cgroup. */
	test_write_file(dir, "proc/self/cgroup", "7:memory:/docker/abc\n");
	test_write_file(dir, "proc/self/mountinfo",
	    "50 40 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n");
	test_write_file(dir, "sys/fs/cgroup/memory/memory.limit_in_bytes", "268435456\n");
	test_write_file(dir, "sys/fs/cgroup/memory/memory.usage_in_bytes", "1000\n");
	use_temp_tree(dir);
	ck_assert_int_eq(limits_discover(&context, proc_root, sysfs_root), 0);

	ck_assert_int_eq(context.v1_levels, 1);
	ck_assert_str_eq(context.v1_dirs[0], sys_path("fs/cgroup/memory"));
	ck_assert_int_eq(limits_read_cgroup_v1(&context, 0, &readings[0]), 0);
	ck_assert(readings[0].present);
	ck_assert_uint_eq(readings[0].limit_bytes, 256ULL << 20);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(cgroup_outside_mount_absent)
{
	char *dir = test_make_temp_dir();

	test_write_file(dir, "proc/self/cgroup", "7:memory:/docker/abc\n0::/x\n");
	test_write_file(dir, "proc/self/mountinfo",
	    "50 40 0:32 /docker/abcd /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n");
	use_temp_tree(dir);
	ck_assert_int_eq(limits_discover(&context, proc_root, sysfs_root), 0);

	ck_assert_int_eq(context.v1_levels, 0);
	ck_assert_ptr_nonnull(strstr(context.v1_absent_reason, "outside"));
	ck_assert_int_eq(context.v2_levels, 0);
	ck_assert_str_eq(context.v2_absent_reason, "not mounted");
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(cgroup_file_missing_absent)
{
	char *dir = test_make_temp_dir();

	test_write_file(dir, "proc/self/mountinfo", temp_v2_mountinfo);
	use_temp_tree(dir);
	ck_assert_int_eq(limits_discover(&context, proc_root, sysfs_root), 0);

	ck_assert_int_eq(context.v2_levels, 0);
	ck_assert_int_eq(context.v1_levels, 0);
	ck_assert_ptr_nonnull(strstr(context.v2_absent_reason, "failed to read"));
	ck_assert_ptr_nonnull(strstr(context.v1_absent_reason, "failed to read"));
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(mountinfo_escaped_and_overlong_lines)
{
	char *dir = test_make_temp_dir();
	char *mountinfo = malloc(PROCFS_LINE_MAX + 512);
	size_t length;

	/* An overlay line longer than the line buffer comes before the cgroup2 line. */
	ck_assert_ptr_nonnull(mountinfo);
	strcpy(mountinfo, "600 500 0:45 / / rw - overlay overlay rw,lowerdir=");
	length = strlen(mountinfo);
	memset(mountinfo + length, 'l', PROCFS_LINE_MAX);
	strcpy(mountinfo + length + PROCFS_LINE_MAX, "\n");
	strcat(mountinfo, "31 24 0:27 / /sys/fs/my\\040cgroup rw - cgroup2 cgroup2 rw\n");
	test_write_file(dir, "proc/self/mountinfo", mountinfo);
	test_write_file(dir, "proc/self/cgroup", "0::/job\n");
	test_write_file(dir, "sys/fs/my cgroup/job/cgroup.controllers", "memory\n");
	use_temp_tree(dir);
	ck_assert_int_eq(limits_discover(&context, proc_root, sysfs_root), 0);

	ck_assert_int_eq(context.v2_levels, 2);
	ck_assert_str_eq(context.v2_dirs[0], sys_path("fs/my cgroup/job"));
	test_remove_tree(dir);
	free(dir);
	free(mountinfo);
}
END_TEST

START_TEST(cgroup_depth_keeps_nearest_levels)
{
	char *dir = test_make_temp_dir();
	char path[LIMITS_PATH_MAX] = "0::";
	char expected[LIMITS_PATH_MAX] = "fs/cgroup";
	int i;

	for (i = 0; i < 20; i++) {
		strcat(path, "/d");
		strcat(expected, "/d");
	}
	strcat(path, "\n");
	test_write_file(dir, "proc/self/cgroup", path);
	test_write_file(dir, "proc/self/mountinfo", temp_v2_mountinfo);
	snprintf(path, sizeof(path), "sys/%s/cgroup.controllers", expected);
	test_write_file(dir, path, "memory\n");
	use_temp_tree(dir);
	ck_assert_int_eq(limits_discover(&context, proc_root, sysfs_root), 0);

	ck_assert_int_eq(context.v2_levels, LIMITS_CGROUP_DEPTH_MAX);
	ck_assert_str_eq(context.v2_dirs[0], sys_path(expected));
	test_remove_tree(dir);
	free(dir);
}
END_TEST

/* /proc readers and the combined reading */

START_TEST(meminfo_reader_and_source)
{
	uint64_t page = limits_page_size_bytes();

	use_fixture("v2_parent_limit");
	discover_and_read();

	ck_assert(readings[LIMIT_SOURCE_MEMINFO].present);
	ck_assert_uint_eq(readings[LIMIT_SOURCE_MEMINFO].usage_bytes, 25000 * page);
	ck_assert_uint_eq(readings[LIMIT_SOURCE_MEMINFO].limit_bytes,
	    25000 * page + 12582912ULL * 1024);
	ck_assert_ptr_nonnull(strstr(readings[LIMIT_SOURCE_MEMINFO].detail, "/meminfo"));
}
END_TEST

START_TEST(meminfo_reader_estimate_in_detail)
{
	char *dir = test_make_temp_dir();
	meminfo_t info;

	test_write_file(dir, "proc/meminfo", "SReclaimable: 1 kB\nInactive(file): 2 kB\n"
	    "MemFree: 3 kB\nActive(file): 4 kB\nMemTotal: 1000 kB\n");
	test_write_file(dir, "proc/self/statm", "10 2 1 1 0 3 0\n");
	use_temp_tree(dir);

	ck_assert_int_eq(limits_read_meminfo(proc_root, &info), 0);
	ck_assert(info.available_estimated);
	ck_assert_uint_eq(info.available_bytes, 10 * 1024);
	discover_and_read();
	ck_assert(readings[LIMIT_SOURCE_MEMINFO].present);
	ck_assert_ptr_nonnull(strstr(readings[LIMIT_SOURCE_MEMINFO].detail, "estimated"));
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(meminfo_reader_missing_file)
{
	char *dir = test_make_temp_dir();
	meminfo_t info;

	use_temp_tree(dir);
	ck_assert_int_eq(limits_read_meminfo(proc_root, &info), -ENOENT);
	discover_and_read();
	ck_assert(!readings[LIMIT_SOURCE_MEMINFO].present);
	ck_assert_ptr_nonnull(strstr(readings[LIMIT_SOURCE_MEMINFO].detail, "failed to read"));
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(psi_reader_cases)
{
	char *dir = test_make_temp_dir();
	psi_reading_t psi;

	test_write_file(dir, "proc/pressure/memory", "");
	test_write_file(dir, "proc/pressure/cpu", "some avg10=1.50 avg60=0.00 avg300=0.00 total=5\n");
	test_write_file(dir, "proc/pressure/io", "some avg10=0.00 avg60=0.0");
	use_temp_tree(dir);

	psi.present = true;
	ck_assert_int_eq(limits_read_psi(proc_root, "memory", &psi), -EINVAL);
	ck_assert(!psi.present);
	ck_assert_int_eq(limits_read_psi(proc_root, "cpu", &psi), 0);
	ck_assert(psi.present);
	ck_assert_double_eq_tol(psi.some_avg10, 1.5, 1e-9);
	ck_assert(isnan(psi.full_avg10));
	psi.present = true;
	ck_assert_int_eq(limits_read_psi(proc_root, "io", &psi), -EINVAL);
	ck_assert(!psi.present);
	psi.present = true;
	ck_assert_int_eq(limits_read_psi(proc_root, "irq", &psi), -ENOENT);
	ck_assert(!psi.present);
	ck_assert_int_eq(limits_read_psi(proc_root, "../meminfo", &psi), -EINVAL);
	ck_assert_int_eq(limits_read_psi(proc_root, "", &psi), -EINVAL);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(rlimits_from_getrlimit)
{
	struct rlimit saved_as, saved_data, limit;
	uint64_t as_limit = 64 * GIB;

	ck_assert_int_eq(getrlimit(RLIMIT_AS, &saved_as), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_DATA, &saved_data), 0);
	if (saved_as.rlim_max != RLIM_INFINITY && saved_as.rlim_max < as_limit) {
		as_limit = saved_as.rlim_max;
	}
	limit.rlim_cur = as_limit;
	limit.rlim_max = saved_as.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &limit), 0);

	use_fixture("v2_parent_limit");
	discover_and_read();
	ck_assert(readings[LIMIT_SOURCE_RLIMIT_AS].present);
	ck_assert_uint_eq(readings[LIMIT_SOURCE_RLIMIT_AS].limit_bytes, as_limit);
	ck_assert_uint_eq(readings[LIMIT_SOURCE_RLIMIT_AS].usage_bytes,
	    262144 * limits_page_size_bytes());
	ck_assert_str_eq(readings[LIMIT_SOURCE_RLIMIT_AS].detail, "getrlimit(RLIMIT_AS)");
	if (saved_data.rlim_cur == RLIM_INFINITY) {
		ck_assert(!readings[LIMIT_SOURCE_RLIMIT_DATA].present);
		ck_assert_str_eq(readings[LIMIT_SOURCE_RLIMIT_DATA].detail, "unlimited");
	} else {
		ck_assert_uint_eq(readings[LIMIT_SOURCE_RLIMIT_DATA].usage_bytes,
		    30000 * limits_page_size_bytes());
	}
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &saved_as), 0);
}
END_TEST

START_TEST(source_names)
{
	ck_assert_str_eq(limits_source_name(LIMIT_SOURCE_CGROUP_V2), "cgroup_v2");
	ck_assert_str_eq(limits_source_name(LIMIT_SOURCE_RLIMIT_DATA), "rlimit_data");
	ck_assert_str_eq(limits_source_name(LIMIT_SOURCE_COUNT), "unknown");
}
END_TEST

/* Reads the real /proc and /sys without writing. The values depend on the machine. */
START_TEST(real_machine_sensible)
{
	meminfo_t info;
	self_memory_t self;
	psi_reading_t psi;
	int source, error;

	ck_assert_int_eq(limits_discover(&context, "/proc", "/sys"), 0);
	ck_assert_int_eq(limits_read_meminfo("/proc", &info), 0);
	ck_assert_uint_gt(info.total_bytes, 0);
	ck_assert_uint_le(info.available_bytes, info.total_bytes);
	ck_assert_int_eq(limits_read_self_memory("/proc", &self), 0);
	ck_assert_uint_gt(self.rss_bytes, 0);
	ck_assert_uint_ge(self.virtual_bytes, self.rss_bytes);

	limits_read_all(&context, readings);
	ck_assert(readings[LIMIT_SOURCE_MEMINFO].present);
	ck_assert_uint_gt(readings[LIMIT_SOURCE_MEMINFO].limit_bytes,
	    readings[LIMIT_SOURCE_MEMINFO].usage_bytes);
	for (source = LIMIT_SOURCE_CGROUP_V2; source < LIMIT_SOURCE_COUNT; source++) {
		ck_assert_msg(readings[source].detail[0] != '\0', "%s has no detail",
		    limits_source_name(source));
		if (readings[source].present) {
			ck_assert_msg(readings[source].limit_bytes > 0, "%s limit is 0",
			    limits_source_name(source));
		}
	}

	error = limits_read_psi("/proc", "memory", &psi);
	if (error == 0) {
		ck_assert(psi.present);
		ck_assert(psi.some_avg10 >= 0.0 && psi.some_avg10 <= 100.0);
	} else {
		ck_assert(!psi.present);
	}
}
END_TEST

static Suite *
limits_suite(void)
{
	Suite *suite = suite_create("limits");
	TCase *parsers = tcase_create("parsers");
	TCase *procfs = tcase_create("procfs");
	TCase *cgroups = tcase_create("cgroups");
	TCase *readers = tcase_create("readers");

	tcase_add_test(parsers, limit_value_forms);
	tcase_add_test(parsers, limit_value_rejects_garbage);
	tcase_add_test(parsers, meminfo_standard_order);
	tcase_add_test(parsers, meminfo_unusual_order);
	tcase_add_test(parsers, meminfo_estimates_available);
	tcase_add_test(parsers, meminfo_estimate_with_only_memfree);
	tcase_add_test(parsers, meminfo_available_clamped_to_total);
	tcase_add_test(parsers, meminfo_rejects_garbage);
	tcase_add_test(parsers, meminfo_stops_at_nul);
	tcase_add_test(parsers, psi_memory_both_lines);
	tcase_add_test(parsers, psi_lines_in_any_order);
	tcase_add_test(parsers, psi_only_some_line);
	tcase_add_test(parsers, psi_rejects_garbage);
	tcase_add_test(parsers, statm_pages_to_bytes);
	tcase_add_test(parsers, statm_rejects_garbage);
	tcase_add_test(parsers, mountinfo_line_fields);
	tcase_add_test(parsers, mountinfo_line_memory_option_exact);
	tcase_add_test(parsers, mountinfo_line_rejects_garbage);
	tcase_add_test(parsers, mountinfo_line_respects_length);
	tcase_add_test(parsers, cgroup_line_fields);
	tcase_add_test(parsers, cgroup_line_rejects_garbage);
	tcase_add_test(procfs, procfs_join_paths);
	tcase_add_test(procfs, procfs_read_file_limits);
	tcase_add_test(procfs, procfs_lines_skip_overlong);
	tcase_add_test(cgroups, v2_parent_limit_wins);
	tcase_add_test(cgroups, v2_high_tighter_than_max);
	tcase_add_test(cgroups, hybrid_v2_without_memory_v1_counts);
	tcase_add_test(cgroups, v1_unlimited_sentinel);
	tcase_add_test(cgroups, v1_limit_above_memtotal);
	tcase_add_test(cgroups, mountinfo_missing_fallback);
	tcase_add_test(cgroups, cgroup_namespace_root);
	tcase_add_test(cgroups, v2_usage_falls_back_to_leaf);
	tcase_add_test(cgroups, v2_garbled_limit_file_reported);
	tcase_add_test(cgroups, v1_bind_mount_root_prefix);
	tcase_add_test(cgroups, cgroup_outside_mount_absent);
	tcase_add_test(cgroups, cgroup_file_missing_absent);
	tcase_add_test(cgroups, mountinfo_escaped_and_overlong_lines);
	tcase_add_test(cgroups, cgroup_depth_keeps_nearest_levels);
	tcase_add_test(readers, meminfo_reader_and_source);
	tcase_add_test(readers, meminfo_reader_estimate_in_detail);
	tcase_add_test(readers, meminfo_reader_missing_file);
	tcase_add_test(readers, psi_reader_cases);
	tcase_add_test(readers, rlimits_from_getrlimit);
	tcase_add_test(readers, source_names);
	tcase_add_test(readers, real_machine_sensible);
	suite_add_tcase(suite, parsers);
	suite_add_tcase(suite, procfs);
	suite_add_tcase(suite, cgroups);
	suite_add_tcase(suite, readers);
	return suite;
}

int
main(void)
{
	return test_run_suite(limits_suite());
}
