/*
 * cgroup v1 and v2 memory limits: the parsers for /proc/self/cgroup and
 * /proc/self/mountinfo lines, and the readers of the limit files along the
 * chain of directories that limits_discover found.
 */
#include <errno.h>
#include <string.h>

#include "fmt.h"
#include "mem_limits.h"
#include "procfs.h"

/*
 * Limit values at or above this mean "no limit". v1 shows its unlimited
 * setting as PAGE_COUNTER_MAX pages, which is 9223372036854771712 with
 * 4 KiB pages.
 */
#define LIMITS_UNLIMITED_MIN_BYTES ((uint64_t)1 << 62)

/* Copies a mountinfo field, decoding the kernel's \ooo octal escapes. */
static int
limits_copy_unescaped(char *out, size_t size, const char *field, size_t length)
{
	size_t in = 0, written = 0;

	while (in < length) {
		char c = field[in];

		if (c == '\\' && length - in >= 4 &&
		    field[in + 1] >= '0' && field[in + 1] <= '3' &&
		    field[in + 2] >= '0' && field[in + 2] <= '7' &&
		    field[in + 3] >= '0' && field[in + 3] <= '7') {
			c = (char)((field[in + 1] - '0') * 64 + (field[in + 2] - '0') * 8 +
			    (field[in + 3] - '0'));
			in += 4;
		} else {
			in++;
		}
		if (c == '\0') {
			return -EINVAL;
		}
		if (written + 1 >= size) {
			return -ENAMETOOLONG;
		}
		out[written++] = c;
	}
	out[written] = '\0';
	return 0;
}

/* True when the comma-separated list[0, length) contains name. */
static bool
limits_list_contains(const char *list, size_t length, const char *name)
{
	size_t name_length = strlen(name), start = 0, end;

	while (start <= length) {
		const char *comma = memchr(list + start, ',', length - start);

		end = comma != NULL ? (size_t)(comma - list) : length;
		if (end - start == name_length && memcmp(list + start, name, name_length) == 0) {
			return true;
		}
		start = end + 1;
	}
	return false;
}

static bool
limits_is_digits(const char *text, size_t length)
{
	uint64_t ignored;

	return procfs_parse_u64(text, length, &ignored) == 0;
}

/* Checks "major:minor". */
static bool
limits_is_device_number(const char *field, size_t length)
{
	const char *colon = memchr(field, ':', length);
	size_t major_length;

	if (colon == NULL) {
		return false;
	}
	major_length = (size_t)(colon - field);
	return limits_is_digits(field, major_length) &&
	    limits_is_digits(colon + 1, length - major_length - 1);
}

int
limits_parse_mountinfo_line(const char *line, size_t length, limits_mount_t *out)
{
	const char *field, *fstype = NULL, *super_options = NULL;
	size_t field_length, fstype_length = 0, super_length = 0, offset = 0;
	size_t index, after_separator = 0;
	bool separator_seen = false;
	int error = 0;

	/*
	 * Fields: mount-id parent-id major:minor root mount-point options,
	 * optional fields, "-", fstype source super-options.
	 */
	for (index = 0; procfs_next_token(line, length, &offset, &field, &field_length); index++) {
		if (index < 2 && !limits_is_digits(field, field_length)) {
			return -EINVAL;
		}
		if (index == 2 && !limits_is_device_number(field, field_length)) {
			return -EINVAL;
		}
		if (index == 3) {
			error = limits_copy_unescaped(out->root, sizeof(out->root), field,
			    field_length);
		}
		if (index == 4) {
			if (field_length == 0 || field[0] != '/') {
				return -EINVAL;
			}
			error = limits_copy_unescaped(out->mount_point, sizeof(out->mount_point),
			    field, field_length);
		}
		if (error != 0) {
			return error;
		}
		if (index < 6) {
			continue;
		}

		if (!separator_seen) {
			separator_seen = field_length == 1 && field[0] == '-';
			continue;
		}
		if (after_separator == 0) {
			fstype = field;
			fstype_length = field_length;
		} else if (after_separator == 2) {
			super_options = field;
			super_length = field_length;
		} else if (after_separator > 2) {
			return -EINVAL;
		}
		after_separator++;
	}

	if (super_options == NULL || fstype_length == 0) {
		return -EINVAL;
	}
	if (fstype_length >= sizeof(out->fstype)) {
		return -ENAMETOOLONG;
	}
	memcpy(out->fstype, fstype, fstype_length);
	out->fstype[fstype_length] = '\0';
	out->memory_option = limits_list_contains(super_options, super_length, "memory");
	return 0;
}

int
limits_parse_cgroup_line(const char *line, size_t length, limits_cgroup_entry_t *out)
{
	const char *first = memchr(line, ':', length), *second;
	size_t id_length, list_length, path_length;

	if (first == NULL) {
		return -EINVAL;
	}
	id_length = (size_t)(first - line);
	second = memchr(first + 1, ':', length - id_length - 1);
	if (second == NULL || procfs_parse_u64(line, id_length, &out->hierarchy_id) != 0) {
		return -EINVAL;
	}
	list_length = (size_t)(second - first - 1);
	path_length = length - (size_t)(second + 1 - line);
	if (path_length == 0 || second[1] != '/' || memchr(second + 1, '\0', path_length) != NULL) {
		return -EINVAL;
	}
	if (path_length >= sizeof(out->path)) {
		return -ENAMETOOLONG;
	}
	out->controllers_empty = list_length == 0;
	out->memory_controller = limits_list_contains(first + 1, list_length, "memory");
	memcpy(out->path, second + 1, path_length);
	out->path[path_length] = '\0';
	return 0;
}

/* The smallest limit found by limits_cgroup_walk. */
typedef struct {
	bool found;
	int level;
	size_t file;
	uint64_t bytes;
	bool above_memtotal;           /* some level's limit was above MemTotal */
	int first_error;               /* first failure other than a missing file */
	int error_level;
	size_t error_file;
} limits_walk_t;

static void
limits_reading_absent(limit_reading_t *out, const char *reason)
{
	out->present = false;
	out->limit_bytes = 0;
	out->usage_bytes = 0;
	fmt_format(out->detail, sizeof(out->detail), "%s", reason);
}

/* Reads and parses <directory>/<file>. Returns 0 or a negative errno. */
static int
limits_cgroup_read_value(const char *directory, const char *file, uint64_t *bytes,
    bool *unlimited)
{
	char path[LIMITS_PATH_MAX], text[64];
	ssize_t got;

	if (procfs_join(path, sizeof(path), directory, file) < 0) {
		return -ENAMETOOLONG;
	}
	got = procfs_read_file(path, text, sizeof(text));
	if (got < 0) {
		return (int)got;
	}
	return limits_parse_limit_value(text, bytes, unlimited);
}

/*
 * Finds the smallest limit in files over dirs[0, levels). Ties go to the
 * level nearest the process, then to the earlier file.
 */
static void
limits_cgroup_walk(const char dirs[][LIMITS_PATH_MAX], int levels,
    const char *const files[], size_t file_count, uint64_t memtotal_bytes,
    limits_walk_t *walk)
{
	uint64_t bytes;
	bool unlimited;
	size_t file;
	int level, error;

	memset(walk, 0, sizeof(*walk));
	for (level = 0; level < levels; level++) {
		for (file = 0; file < file_count; file++) {
			error = limits_cgroup_read_value(dirs[level], files[file], &bytes, &unlimited);
			if (error == -ENOENT) {
				continue;
			}
			if (error != 0) {
				if (walk->first_error == 0) {
					walk->first_error = error;
					walk->error_level = level;
					walk->error_file = file;
				}
				continue;
			}
			if (unlimited || bytes >= LIMITS_UNLIMITED_MIN_BYTES) {
				continue;
			}
			if (memtotal_bytes != 0 && bytes > memtotal_bytes) {
				walk->above_memtotal = true;
				continue;
			}
			if (!walk->found || bytes < walk->bytes) {
				walk->found = true;
				walk->level = level;
				walk->file = file;
				walk->bytes = bytes;
			}
		}
	}
}

/* Turns a walk into a reading, with the usage from usage_file. */
static int
limits_cgroup_fill(const char dirs[][LIMITS_PATH_MAX], const char *const files[],
    const char *usage_file, const limits_walk_t *walk, limit_reading_t *out)
{
	bool unlimited = false;
	int error;

	if (!walk->found) {
		limits_reading_absent(out, walk->above_memtotal ? "limit above MemTotal" : "unlimited");
		if (walk->first_error != 0) {
			fmt_format(out->detail, sizeof(out->detail), "failed to read %s/%s (%s)",
			    dirs[walk->error_level], files[walk->error_file],
			    fmt_errno_text(-walk->first_error));
		}
		return walk->first_error;
	}

	out->present = true;
	out->limit_bytes = walk->bytes;
	fmt_format(out->detail, sizeof(out->detail), "%s/%s", dirs[walk->level],
	    files[walk->file]);
	error = limits_cgroup_read_value(dirs[walk->level], usage_file, &out->usage_bytes,
	    &unlimited);
	if (error != 0 || unlimited) {
		error = limits_cgroup_read_value(dirs[0], usage_file, &out->usage_bytes, &unlimited);
	}
	if (error == 0 && unlimited) {
		error = -EINVAL;
	}
	if (error != 0) {
		out->usage_bytes = 0;
	}
	return error;
}

int
limits_read_cgroup_v2(const limits_context_t *context, limit_reading_t *out)
{
	static const char *const files[] = { "memory.max", "memory.high" };
	limits_walk_t walk;

	if (context->v2_levels <= 0) {
		limits_reading_absent(out, context->v2_absent_reason);
		return 0;
	}
	limits_cgroup_walk(context->v2_dirs, context->v2_levels, files, SX_ARRAY_SIZE(files), 0,
	    &walk);
	return limits_cgroup_fill(context->v2_dirs, files, "memory.current", &walk, out);
}

int
limits_read_cgroup_v1(const limits_context_t *context, uint64_t memtotal_bytes,
    limit_reading_t *out)
{
	static const char *const files[] = { "memory.limit_in_bytes" };
	limits_walk_t walk;

	/*
	 * NOTE: before Linux 5.11 a v1 parent's limit covers its children only
	 * when memory.use_hierarchy is 1. That file is not read, so on such a
	 * kernel with it set to 0 a parent's limit is counted although it does
	 * not apply, which errs towards a lower limit.
	 */
	if (context->v1_levels <= 0) {
		limits_reading_absent(out, context->v1_absent_reason);
		return 0;
	}
	limits_cgroup_walk(context->v1_dirs, context->v1_levels, files, SX_ARRAY_SIZE(files),
	    memtotal_bytes, &walk);
	return limits_cgroup_fill(context->v1_dirs, files, "memory.usage_in_bytes", &walk, out);
}
