/*
 * Start-up discovery of the process's cgroup directories, and the combined
 * reading of every limit source. The line parsers and the cgroup readers are
 * in limits_cgroup.c, the /proc readers in limits_proc.c.
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fmt.h"
#include "mem_limits.h"
#include "procfs.h"

/* The best mount found so far for one hierarchy. */
typedef struct {
	bool found;
	size_t root_length;            /* 0 for the hierarchy's root "/" */
	char mount_point[LIMITS_PATH_MAX];
} limits_mount_choice_t;

/* What limits_cgroup_scan_mounts looks for and finds for one hierarchy. */
typedef struct {
	const char *cgroup_path;       /* NULL: the process has no entry */
	bool mount_seen;               /* a mount of this kind exists */
	limits_mount_choice_t choice;
} limits_mount_search_t;

/*
 * Reads <proc_root>/self/cgroup and copies the v2 path and the v1 memory
 * path (each left empty when its line is missing). Returns 0 or the negative
 * errno of the read.
 */
static int
limits_cgroup_read_self(limits_context_t *context, char *v2_path, char *v1_path)
{
	char path[LIMITS_PATH_MAX];
	limits_cgroup_entry_t entry;
	procfs_lines_t lines;
	const char *line;
	size_t length;
	int result;

	if (procfs_join(path, sizeof(path), context->proc_root, "self/cgroup") < 0) {
		return -ENAMETOOLONG;
	}
	result = procfs_lines_open(&lines, path);
	if (result < 0) {
		return result;
	}
	while ((result = procfs_lines_next(&lines, &line, &length)) > 0) {
		if (limits_parse_cgroup_line(line, length, &entry) != 0) {
			continue;
		}
		if (entry.hierarchy_id == 0 && entry.controllers_empty) {
			memcpy(v2_path, entry.path, sizeof(entry.path));
		} else if (entry.memory_controller) {
			memcpy(v1_path, entry.path, sizeof(entry.path));
		}
	}
	procfs_lines_close(&lines);
	return result;
}

/* Length of root when it is a whole-component prefix of path, or -1. "/" has length 0. */
static long
limits_root_prefix_length(const char *root, const char *path)
{
	size_t length = strlen(root);

	while (length > 0 && root[length - 1] == '/') {
		length--;
	}
	if (strncmp(root, path, length) != 0 || (path[length] != '\0' && path[length] != '/')) {
		return -1;
	}
	return (long)length;
}

static bool
limits_is_under_sys(const char *path)
{
	return strncmp(path, "/sys", 4) == 0 && (path[4] == '\0' || path[4] == '/');
}

/*
 * Keeps the better of the current choice and a new mount: the longer root
 * wins, then a mount point under /sys, then the smaller mount point, so
 * the result does not depend on the order of the lines.
 */
static void
limits_mount_consider(limits_mount_search_t *search, const limits_mount_t *mount)
{
	limits_mount_choice_t *choice = &search->choice;
	long root_length;
	bool better;

	search->mount_seen = true;
	if (search->cgroup_path == NULL) {
		return;
	}
	root_length = limits_root_prefix_length(mount->root, search->cgroup_path);
	if (root_length < 0) {
		return;
	}
	better = !choice->found || (size_t)root_length > choice->root_length;
	if (choice->found && (size_t)root_length == choice->root_length) {
		bool new_sys = limits_is_under_sys(mount->mount_point);
		bool old_sys = limits_is_under_sys(choice->mount_point);

		better = new_sys != old_sys ? new_sys
		    : strcmp(mount->mount_point, choice->mount_point) < 0;
	}
	if (better) {
		choice->found = true;
		choice->root_length = (size_t)root_length;
		memcpy(choice->mount_point, mount->mount_point, sizeof(choice->mount_point));
	}
}

/* Scans mountinfo for cgroup2 and v1 memory mounts. Returns 0 or the negative errno of the read. */
static int
limits_cgroup_scan_mounts(const char *proc_root, limits_mount_search_t *v2,
    limits_mount_search_t *v1)
{
	char path[LIMITS_PATH_MAX];
	limits_mount_t mount;
	procfs_lines_t lines;
	const char *line;
	size_t length;
	int result;

	if (procfs_join(path, sizeof(path), proc_root, "self/mountinfo") < 0) {
		return -ENAMETOOLONG;
	}
	result = procfs_lines_open(&lines, path);
	if (result < 0) {
		return result;
	}
	while ((result = procfs_lines_next(&lines, &line, &length)) > 0) {
		if (limits_parse_mountinfo_line(line, length, &mount) != 0) {
			continue;
		}
		if (strcmp(mount.fstype, "cgroup2") == 0) {
			limits_mount_consider(v2, &mount);
		} else if (strcmp(mount.fstype, "cgroup") == 0 && mount.memory_option) {
			limits_mount_consider(v1, &mount);
		}
	}
	procfs_lines_close(&lines);
	return result;
}

/* Picks a standard mount point whose marker file exists, for a system without mountinfo. */
static void
limits_fallback_mount(const limits_context_t *context, limits_mount_search_t *search,
    const char *const candidates[], size_t count, const char *marker)
{
	char directory[LIMITS_PATH_MAX], path[LIMITS_PATH_MAX];
	size_t i;

	for (i = 0; i < count; i++) {
		if (procfs_join(directory, sizeof(directory), context->sysfs_root,
		    candidates[i] + 4) < 0 ||
		    procfs_join(path, sizeof(path), directory, marker) < 0 ||
		    access(path, F_OK) != 0) {
			continue;
		}
		search->mount_seen = true;
		search->choice.found = true;
		search->choice.root_length = 0;
		fmt_format(search->choice.mount_point, sizeof(search->choice.mount_point),
		    "%s", candidates[i]);
		return;
	}
}

/*
 * Fills dirs with the cgroup directory and its ancestors up to the mount
 * point, nearest first, and returns the number of levels (0 when a path
 * does not fit).
 */
static int
limits_build_levels(const limits_context_t *context, const limits_mount_search_t *search,
    char dirs[LIMITS_CGROUP_DEPTH_MAX][LIMITS_PATH_MAX])
{
	const char *mount_point = search->choice.mount_point;
	const char *relative = search->cgroup_path + search->choice.root_length;
	const char *base = mount_point;
	size_t prefix_length = 0, base_length, relative_length = strlen(relative), length;
	char leaf[LIMITS_PATH_MAX];
	int levels = 0;

	/* A mount point under /sys is read under sysfs_root. */
	if (limits_is_under_sys(mount_point)) {
		prefix_length = strlen(context->sysfs_root);
		base = mount_point + 4;
	}
	base_length = prefix_length + strlen(base);
	if (base_length + relative_length >= sizeof(leaf)) {
		return 0;
	}
	memcpy(leaf, context->sysfs_root, prefix_length);
	memcpy(leaf + prefix_length, base, base_length - prefix_length);
	memcpy(leaf + base_length, relative, relative_length);
	length = base_length + relative_length;

	/* Level 0 is the leaf, and each further level drops the last path component. */
	while (length > base_length && leaf[length - 1] == '/') {
		length--;
	}
	while (levels < LIMITS_CGROUP_DEPTH_MAX) {
		memcpy(dirs[levels], leaf, length);
		dirs[levels][length] = '\0';
		levels++;
		if (length <= base_length) {
			break;
		}
		while (length > base_length && leaf[length - 1] != '/') {
			length--;
		}
		while (length > base_length && leaf[length - 1] == '/') {
			length--;
		}
	}
	return levels;
}

/* True when the blank-separated words of text include word. */
static bool
limits_words_contain(const char *text, const char *word)
{
	size_t word_length = strlen(word);
	const char *cursor = text;

	while (*cursor != '\0') {
		size_t length = strcspn(cursor, " \t\n");

		if (length == word_length && memcmp(cursor, word, length) == 0) {
			return true;
		}
		cursor += length;
		cursor += strspn(cursor, " \t\n");
	}
	return false;
}

/* True when the leaf's cgroup.controllers lists "memory". Otherwise sets the reason. */
static bool
limits_v2_has_memory(limits_context_t *context)
{
	char path[LIMITS_PATH_MAX], text[512];

	if (procfs_join(path, sizeof(path), context->v2_dirs[0], "cgroup.controllers") < 0 ||
	    procfs_read_file(path, text, sizeof(text)) < 0) {
		fmt_format(context->v2_absent_reason, sizeof(context->v2_absent_reason),
		    "failed to read cgroup.controllers in the process's cgroup v2 directory");
		return false;
	}
	if (limits_words_contain(text, "memory")) {
		return true;
	}
	fmt_format(context->v2_absent_reason, sizeof(context->v2_absent_reason),
	    "no memory controller in cgroup v2 hierarchy");
	return false;
}

/* Sets levels from a finished search, or the reason the hierarchy is absent. */
static int
limits_finish_search(const limits_context_t *context, const limits_mount_search_t *search,
    const char *entry_name, char dirs[LIMITS_CGROUP_DEPTH_MAX][LIMITS_PATH_MAX],
    char *reason, size_t reason_size)
{
	int levels;

	if (!search->mount_seen) {
		fmt_format(reason, reason_size, "not mounted");
		return 0;
	}
	if (search->cgroup_path == NULL) {
		fmt_format(reason, reason_size, "no %s line in %s/self/cgroup", entry_name,
		    context->proc_root);
		return 0;
	}
	if (!search->choice.found) {
		fmt_format(reason, reason_size, "cgroup %s is outside the mounted hierarchy",
		    search->cgroup_path);
		return 0;
	}
	levels = limits_build_levels(context, search, dirs);
	if (levels == 0) {
		fmt_format(reason, reason_size, "cgroup path too long");
	}
	return levels;
}

/* Fills the v2 and v1 directory lists of a context whose roots are set. */
static void
limits_discover_cgroups(limits_context_t *context)
{
	static const char *const v2_places[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	static const char *const v1_places[] = { "/sys/fs/cgroup/memory" };
	char v2_path[LIMITS_PATH_MAX] = "", v1_path[LIMITS_PATH_MAX] = "";
	limits_mount_search_t v2 = { 0 }, v1 = { 0 };
	int error;

	error = limits_cgroup_read_self(context, v2_path, v1_path);
	if (error < 0) {
		fmt_format(context->v2_absent_reason, sizeof(context->v2_absent_reason),
		    "failed to read %s/self/cgroup (%s)", context->proc_root,
		    fmt_errno_text(-error));
		fmt_format(context->v1_absent_reason, sizeof(context->v1_absent_reason),
		    "failed to read %s/self/cgroup (%s)", context->proc_root,
		    fmt_errno_text(-error));
		return;
	}
	v2.cgroup_path = v2_path[0] != '\0' ? v2_path : NULL;
	v1.cgroup_path = v1_path[0] != '\0' ? v1_path : NULL;

	if (limits_cgroup_scan_mounts(context->proc_root, &v2, &v1) < 0) {
		memset(&v2.choice, 0, sizeof(v2.choice));
		memset(&v1.choice, 0, sizeof(v1.choice));
		v2.mount_seen = v1.mount_seen = false;
		limits_fallback_mount(context, &v2, v2_places, SX_ARRAY_SIZE(v2_places),
		    "cgroup.controllers");
		limits_fallback_mount(context, &v1, v1_places, SX_ARRAY_SIZE(v1_places),
		    "memory.limit_in_bytes");
	}

	context->v2_levels = limits_finish_search(context, &v2, "\"0::\"", context->v2_dirs,
	    context->v2_absent_reason, sizeof(context->v2_absent_reason));
	if (context->v2_levels > 0 && !limits_v2_has_memory(context)) {
		context->v2_levels = 0;
	}
	context->v1_levels = limits_finish_search(context, &v1, "memory", context->v1_dirs,
	    context->v1_absent_reason, sizeof(context->v1_absent_reason));
}

/* Copies root without trailing slashes, so "/" becomes "" and joins give "/x". */
static int
limits_copy_root(char *out, size_t size, const char *root)
{
	size_t length = strlen(root);

	while (length > 0 && root[length - 1] == '/') {
		length--;
	}
	if (length >= size) {
		return -ENAMETOOLONG;
	}
	memcpy(out, root, length);
	out[length] = '\0';
	return 0;
}

int
limits_discover(limits_context_t *context, const char *proc_root, const char *sysfs_root)
{
	memset(context, 0, sizeof(*context));
	if (limits_copy_root(context->proc_root, sizeof(context->proc_root),
	    proc_root != NULL ? proc_root : "/proc") != 0 ||
	    limits_copy_root(context->sysfs_root, sizeof(context->sysfs_root),
	    sysfs_root != NULL ? sysfs_root : "/sys") != 0) {
		fmt_format(context->v2_absent_reason, sizeof(context->v2_absent_reason),
		    "proc or sysfs root too long");
		fmt_format(context->v1_absent_reason, sizeof(context->v1_absent_reason),
		    "proc or sysfs root too long");
		return -ENAMETOOLONG;
	}
	(void)limits_page_size_bytes();
	limits_discover_cgroups(context);
	return 0;
}

static void
limits_fill_meminfo(const limits_context_t *context, int meminfo_error,
    const meminfo_t *meminfo, int self_error, const self_memory_t *self,
    limit_reading_t *out)
{
	out->present = false;
	out->limit_bytes = 0;
	out->usage_bytes = 0;
	if (meminfo_error != 0) {
		fmt_format(out->detail, sizeof(out->detail), "failed to read %s/meminfo (%s)",
		    context->proc_root, fmt_errno_text(-meminfo_error));
		return;
	}
	if (self_error != 0) {
		fmt_format(out->detail, sizeof(out->detail), "failed to read %s/self/statm (%s)",
		    context->proc_root, fmt_errno_text(-self_error));
		return;
	}

	/* The process could grow by what the machine has available. */
	out->present = true;
	out->usage_bytes = self->rss_bytes;
	if (__builtin_add_overflow(self->rss_bytes, meminfo->available_bytes, &out->limit_bytes)) {
		out->limit_bytes = UINT64_MAX;
	}
	fmt_format(out->detail, sizeof(out->detail), "%s/meminfo%s", context->proc_root,
	    meminfo->available_estimated ? " (MemAvailable estimated)" : "");
}

static void
limits_fill_rlimit(int resource, const char *name, int self_error, uint64_t usage_bytes,
    limit_reading_t *out)
{
	struct rlimit limit;

	out->present = false;
	out->limit_bytes = 0;
	out->usage_bytes = 0;
	if (getrlimit(resource, &limit) != 0) {
		fmt_format(out->detail, sizeof(out->detail), "getrlimit(%s) failed (%s)",
		    name, fmt_errno_text(errno));
		return;
	}
	if (limit.rlim_cur == RLIM_INFINITY) {
		fmt_format(out->detail, sizeof(out->detail), "unlimited");
		return;
	}
	if (self_error != 0) {
		fmt_format(out->detail, sizeof(out->detail),
		    "%s is set but self/statm is unreadable (%s)", name,
		    fmt_errno_text(-self_error));
		return;
	}
	out->present = true;
	out->limit_bytes = (uint64_t)limit.rlim_cur;
	out->usage_bytes = usage_bytes;
	fmt_format(out->detail, sizeof(out->detail), "getrlimit(%s)", name);
}

void
limits_read_basics(const char *proc_root, limits_basics_t *out)
{
	memset(out, 0, sizeof(*out));
	out->meminfo_error = limits_read_meminfo(proc_root, &out->meminfo);
	out->self_error = limits_read_self_memory(proc_root, &out->self);
}

void
limits_read_sources(const limits_context_t *context, const limits_basics_t *basics,
    limit_reading_t readings[LIMIT_SOURCE_COUNT])
{
	limits_fill_meminfo(context, basics->meminfo_error, &basics->meminfo,
	    basics->self_error, &basics->self, &readings[LIMIT_SOURCE_MEMINFO]);
	(void)limits_read_cgroup_v2(context, &readings[LIMIT_SOURCE_CGROUP_V2]);
	(void)limits_read_cgroup_v1(context,
	    basics->meminfo_error == 0 ? basics->meminfo.total_bytes : 0,
	    &readings[LIMIT_SOURCE_CGROUP_V1]);
	limits_fill_rlimit(RLIMIT_AS, "RLIMIT_AS", basics->self_error,
	    basics->self.virtual_bytes, &readings[LIMIT_SOURCE_RLIMIT_AS]);
	limits_fill_rlimit(RLIMIT_DATA, "RLIMIT_DATA", basics->self_error,
	    basics->self.data_bytes, &readings[LIMIT_SOURCE_RLIMIT_DATA]);
}

void
limits_read_all(const limits_context_t *context, limit_reading_t readings[LIMIT_SOURCE_COUNT])
{
	limits_basics_t basics;

	limits_read_basics(context->proc_root, &basics);
	limits_read_sources(context, &basics, readings);
}

const char *
limits_source_name(limit_source_t source)
{
	static const char *const names[LIMIT_SOURCE_COUNT] = {
		[LIMIT_SOURCE_BUDGET] = "budget",
		[LIMIT_SOURCE_CGROUP_V2] = "cgroup_v2",
		[LIMIT_SOURCE_CGROUP_V1] = "cgroup_v1",
		[LIMIT_SOURCE_MEMINFO] = "meminfo",
		[LIMIT_SOURCE_RLIMIT_AS] = "rlimit_as",
		[LIMIT_SOURCE_RLIMIT_DATA] = "rlimit_data",
	};

	return (unsigned)source < LIMIT_SOURCE_COUNT ? names[source] : "unknown";
}
