/*
 * Readers and parsers for /proc/meminfo, the /proc/pressure files and
 * /proc/self/statm, and for the value of a cgroup limit file. The parsers
 * work on (pointer, length) lines and never read past them, so they are
 * safe to fuzz.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "mem_limits.h"
#include "procfs.h"

enum {
	MEMINFO_TOTAL,
	MEMINFO_FREE,
	MEMINFO_AVAILABLE,
	MEMINFO_ACTIVE_FILE,
	MEMINFO_INACTIVE_FILE,
	MEMINFO_SRECLAIMABLE,
	MEMINFO_FIELD_COUNT
};

static const char *const limits_meminfo_keys[MEMINFO_FIELD_COUNT] = {
	"MemTotal", "MemFree", "MemAvailable", "Active(file)", "Inactive(file)",
	"SReclaimable",
};

/* The meminfo fields found so far, in bytes. */
typedef struct {
	uint64_t bytes[MEMINFO_FIELD_COUNT];
	unsigned seen_mask;
} limits_meminfo_scan_t;

static _Atomic uint64_t limits_cached_page_size_bytes;

uint64_t
limits_page_size_bytes(void)
{
	uint64_t size = atomic_load_explicit(&limits_cached_page_size_bytes,
	    memory_order_relaxed);

	if (size == 0) {
		long queried = sysconf(_SC_PAGESIZE);

		size = queried > 0 ? (uint64_t)queried : 4096;
		atomic_store_explicit(&limits_cached_page_size_bytes, size,
		    memory_order_relaxed);
	}
	return size;
}

static bool
limits_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static bool
limits_token_equals(const char *token, size_t length, const char *expected)
{
	return strlen(expected) == length && memcmp(token, expected, length) == 0;
}

/* Reads one "Key: value kB" line. Lines of other keys are ignored. */
static int
limits_meminfo_scan_line(limits_meminfo_scan_t *scan, const char *line, size_t length)
{
	const char *colon = memchr(line, ':', length);
	const char *token;
	size_t key_length, token_length, offset;
	uint64_t kib;
	int field;

	if (colon == NULL) {
		return 0;
	}
	key_length = (size_t)(colon - line);
	for (field = 0; field < MEMINFO_FIELD_COUNT; field++) {
		if (limits_token_equals(line, key_length, limits_meminfo_keys[field])) {
			break;
		}
	}
	if (field == MEMINFO_FIELD_COUNT) {
		return 0;
	}
	if ((scan->seen_mask & (1u << field)) != 0) {
		return -EINVAL;
	}

	offset = key_length + 1;
	if (!procfs_next_token(line, length, &offset, &token, &token_length) ||
	    procfs_parse_u64(token, token_length, &kib) != 0) {
		return -EINVAL;
	}
	/* The unit is optional, but nothing other than "kB" may follow. */
	if (procfs_next_token(line, length, &offset, &token, &token_length) &&
	    !limits_token_equals(token, token_length, "kB")) {
		return -EINVAL;
	}
	if (procfs_next_token(line, length, &offset, &token, &token_length)) {
		return -EINVAL;
	}
	if (!procfs_multiply_u64(kib, SX_KIB, &scan->bytes[field])) {
		return -EINVAL;
	}
	scan->seen_mask |= 1u << field;
	return 0;
}

static int
limits_meminfo_finish(const limits_meminfo_scan_t *scan, meminfo_t *out)
{
	uint64_t estimate = 0;
	int field;

	if ((scan->seen_mask & (1u << MEMINFO_TOTAL)) == 0 || scan->bytes[MEMINFO_TOTAL] == 0) {
		return -EINVAL;
	}
	out->total_bytes = scan->bytes[MEMINFO_TOTAL];
	if ((scan->seen_mask & (1u << MEMINFO_AVAILABLE)) != 0) {
		out->available_bytes = scan->bytes[MEMINFO_AVAILABLE];
		out->available_estimated = false;
	} else {
		if ((scan->seen_mask & (1u << MEMINFO_FREE)) == 0) {
			return -EINVAL;
		}
		for (field = MEMINFO_FREE; field < MEMINFO_FIELD_COUNT; field++) {
			if (field != MEMINFO_AVAILABLE &&
			    __builtin_add_overflow(estimate, scan->bytes[field], &estimate)) {
				return -EINVAL;
			}
		}
		out->available_bytes = estimate;
		out->available_estimated = true;
	}
	if (out->available_bytes > out->total_bytes) {
		out->available_bytes = out->total_bytes;
	}
	return 0;
}

int
limits_parse_meminfo(const char *text, meminfo_t *out)
{
	limits_meminfo_scan_t scan = { { 0 }, 0 };
	size_t length = strlen(text), offset = 0, line_length;
	const char *line;
	int error;

	while (procfs_next_line(text, length, &offset, &line, &line_length)) {
		error = limits_meminfo_scan_line(&scan, line, line_length);
		if (error != 0) {
			return error;
		}
	}
	return limits_meminfo_finish(&scan, out);
}

int
limits_read_meminfo(const char *proc_root, meminfo_t *out)
{
	limits_meminfo_scan_t scan = { { 0 }, 0 };
	char path[LIMITS_PATH_MAX];
	procfs_lines_t lines;
	const char *line;
	size_t line_length;
	int result;

	if (procfs_join(path, sizeof(path), proc_root, "meminfo") < 0) {
		return -ENAMETOOLONG;
	}
	result = procfs_lines_open(&lines, path);
	if (result < 0) {
		return result;
	}
	while ((result = procfs_lines_next(&lines, &line, &line_length)) > 0) {
		result = limits_meminfo_scan_line(&scan, line, line_length);
		if (result != 0) {
			break;
		}
	}
	procfs_lines_close(&lines);
	if (result != 0) {
		return result;
	}
	return limits_meminfo_finish(&scan, out);
}

/* Parses a PSI average: digits, optionally '.' and more digits, at most 100. */
static int
limits_parse_percent(const char *text, size_t length, double *percent)
{
	const char *dot = memchr(text, '.', length);
	size_t whole_length = dot != NULL ? (size_t)(dot - text) : length;
	size_t fraction_length = dot != NULL ? length - whole_length - 1 : 0;
	uint64_t whole, fraction = 0;
	double scale = 1.0;
	size_t i;

	/* Longer fractions than 9 digits add nothing a percentage needs. */
	if (whole_length == 0 || whole_length > 3 || fraction_length > 9 ||
	    (dot != NULL && fraction_length == 0)) {
		return -EINVAL;
	}
	if (procfs_parse_u64(text, whole_length, &whole) != 0 ||
	    (dot != NULL && procfs_parse_u64(dot + 1, fraction_length, &fraction) != 0)) {
		return -EINVAL;
	}
	for (i = 0; i < fraction_length; i++) {
		scale *= 10.0;
	}
	*percent = (double)whole + (double)fraction / scale;
	return *percent <= 100.0 ? 0 : -EINVAL;
}

/*
 * Parses the key=value pairs after "some" or "full". avg10, avg60, avg300
 * and total must each appear once. Unknown keys are ignored.
 */
static int
limits_parse_psi_averages(const char *line, size_t length, size_t offset,
    double *avg10, double *avg60)
{
	static const char *const keys[] = { "avg10", "avg60", "avg300", "total" };
	const char *token, *equals;
	size_t token_length, key_length, value_length, key;
	unsigned seen_mask = 0;
	double ignored, *targets[] = { avg10, avg60, &ignored };
	uint64_t total;

	while (procfs_next_token(line, length, &offset, &token, &token_length)) {
		equals = memchr(token, '=', token_length);
		if (equals == NULL) {
			return -EINVAL;
		}
		key_length = (size_t)(equals - token);
		value_length = token_length - key_length - 1;
		for (key = 0; key < SX_ARRAY_SIZE(keys); key++) {
			if (limits_token_equals(token, key_length, keys[key])) {
				break;
			}
		}
		if (key == SX_ARRAY_SIZE(keys)) {
			continue;
		}
		if ((seen_mask & (1u << key)) != 0) {
			return -EINVAL;
		}
		seen_mask |= 1u << key;
		if (key < SX_ARRAY_SIZE(targets)
		    ? limits_parse_percent(equals + 1, value_length, targets[key]) != 0
		    : procfs_parse_u64(equals + 1, value_length, &total) != 0) {
			return -EINVAL;
		}
	}
	return seen_mask == (1u << SX_ARRAY_SIZE(keys)) - 1 ? 0 : -EINVAL;
}

static int
limits_parse_psi_lines(const char *text, psi_reading_t *out)
{
	size_t length = strlen(text), offset = 0, line_length, token_offset, kind_length;
	const char *line, *kind;
	bool have_some = false, have_full = false;
	double unused_full_avg60;

	while (procfs_next_line(text, length, &offset, &line, &line_length)) {
		token_offset = 0;
		if (!procfs_next_token(line, line_length, &token_offset, &kind, &kind_length)) {
			continue;
		}
		if (limits_token_equals(kind, kind_length, "some") && !have_some) {
			have_some = true;
			if (limits_parse_psi_averages(line, line_length, token_offset,
			    &out->some_avg10, &out->some_avg60) != 0) {
				return -EINVAL;
			}
		} else if (limits_token_equals(kind, kind_length, "full") && !have_full) {
			have_full = true;
			if (limits_parse_psi_averages(line, line_length, token_offset,
			    &out->full_avg10, &unused_full_avg60) != 0) {
				return -EINVAL;
			}
		} else {
			return -EINVAL;
		}
	}
	return have_some ? 0 : -EINVAL;
}

int
limits_parse_psi(const char *text, psi_reading_t *out)
{
	int error;

	out->present = false;
	out->some_avg10 = 0.0;
	out->some_avg60 = 0.0;
	out->full_avg10 = NAN;
	error = limits_parse_psi_lines(text, out);
	if (error != 0) {
		out->some_avg10 = 0.0;
		out->some_avg60 = 0.0;
		out->full_avg10 = NAN;
		return error;
	}
	out->present = true;
	return 0;
}

int
limits_read_psi(const char *proc_root, const char *resource, psi_reading_t *out)
{
	char directory[LIMITS_PATH_MAX], path[LIMITS_PATH_MAX], text[512];
	ssize_t got;

	out->present = false;
	out->some_avg10 = 0.0;
	out->some_avg60 = 0.0;
	out->full_avg10 = NAN;
	if (resource[0] == '\0' || resource[0] == '.' || strchr(resource, '/') != NULL) {
		return -EINVAL;
	}
	if (procfs_join(directory, sizeof(directory), proc_root, "pressure") < 0 ||
	    procfs_join(path, sizeof(path), directory, resource) < 0) {
		return -ENAMETOOLONG;
	}
	got = procfs_read_file(path, text, sizeof(text));
	if (got < 0) {
		return (int)got;
	}
	return limits_parse_psi(text, out);
}

int
limits_parse_limit_value(const char *text, uint64_t *bytes, bool *unlimited)
{
	size_t length = strlen(text);

	while (length > 0 && limits_is_blank(text[length - 1])) {
		length--;
	}
	if (limits_token_equals(text, length, "max")) {
		*bytes = UINT64_MAX;
		*unlimited = true;
		return 0;
	}
	if (procfs_parse_u64(text, length, bytes) != 0) {
		return -EINVAL;
	}
	*unlimited = false;
	return 0;
}

int
limits_parse_statm(const char *text, uint64_t page_size_bytes, self_memory_t *out)
{
	/* size resident shared text lib data dt, all in pages */
	enum { STATM_FIELDS = 7, STATM_SIZE = 0, STATM_RESIDENT = 1, STATM_DATA = 5 };
	uint64_t pages[STATM_FIELDS];
	size_t length = strlen(text), offset = 0, token_length, count = 0;
	const char *token;

	while (procfs_next_token(text, length, &offset, &token, &token_length)) {
		if (count == STATM_FIELDS || procfs_parse_u64(token, token_length, &pages[count]) != 0) {
			return -EINVAL;
		}
		count++;
	}
	if (count != STATM_FIELDS ||
	    !procfs_multiply_u64(pages[STATM_SIZE], page_size_bytes, &out->virtual_bytes) ||
	    !procfs_multiply_u64(pages[STATM_RESIDENT], page_size_bytes, &out->rss_bytes) ||
	    !procfs_multiply_u64(pages[STATM_DATA], page_size_bytes, &out->data_bytes)) {
		return -EINVAL;
	}
	return 0;
}

int
limits_read_self_memory(const char *proc_root, self_memory_t *out)
{
	char path[LIMITS_PATH_MAX], text[256];
	ssize_t got;

	if (procfs_join(path, sizeof(path), proc_root, "self/statm") < 0) {
		return -ENAMETOOLONG;
	}
	got = procfs_read_file(path, text, sizeof(text));
	if (got < 0) {
		return (int)got;
	}
	return limits_parse_statm(text, limits_page_size_bytes(), out);
}
