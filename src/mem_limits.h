/*
 * The memory limits that apply to this process, read from files
 * under an injectable /proc and /sys root (fixture trees in tests).
 * Every read here is allocation-free (open, read into a stack buffer,
 * close) and returns an error instead of exiting, because it runs on the
 * slow path of an allocation.
 */
#ifndef SX_MEM_LIMITS_H
#define SX_MEM_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

#define LIMITS_PATH_MAX 512
/*
 * Max number of cgroup levels read, counted from the process's own cgroup
 * upwards. The levels above a longer chain are not read.
 */
#define LIMITS_CGROUP_DEPTH_MAX 16

typedef enum {
	LIMIT_SOURCE_BUDGET,     /* SAFEEXEC_MEMORY_LIMIT; filled by the governor */
	LIMIT_SOURCE_CGROUP_V2,  /* memory.max / memory.high along the chain */
	LIMIT_SOURCE_CGROUP_V1,  /* memory.limit_in_bytes along the hierarchy */
	LIMIT_SOURCE_MEMINFO,    /* RSS + MemAvailable */
	LIMIT_SOURCE_RLIMIT_AS,  /* RLIMIT_AS against the virtual size */
	LIMIT_SOURCE_RLIMIT_DATA,/* RLIMIT_DATA against the data segment size */
	LIMIT_SOURCE_COUNT
} limit_source_t;

/* One source's view: a ceiling and the usage that counts against it. */
typedef struct {
	bool present;                 /* false: no limit from this source */
	uint64_t limit_bytes;
	uint64_t usage_bytes;
	char detail[LIMITS_PATH_MAX]; /* file the limit came from, or why absent */
} limit_reading_t;

typedef struct {
	uint64_t total_bytes;         /* MemTotal */
	uint64_t available_bytes;     /* MemAvailable, or an estimate */
	bool available_estimated;     /* the kernel had no MemAvailable */
} meminfo_t;

typedef struct {
	bool present;                 /* false: file missing, empty or unsupported */
	double some_avg10;            /* percent */
	double some_avg60;
	double full_avg10;            /* NaN when the file has no "full" line (cpu) */
} psi_reading_t;

typedef struct {
	uint64_t rss_bytes;           /* resident set, /proc/self/statm field 2 */
	uint64_t virtual_bytes;       /* field 1 */
	uint64_t data_bytes;          /* field 6: data + stack */
} self_memory_t;

/*
 * cgroup directories found at start-up: for each level from the process's
 * own cgroup up to the root, the directory to read limit files from.
 * Index 0 is the process's own cgroup.
 */
typedef struct {
	char proc_root[LIMITS_PATH_MAX];
	char sysfs_root[LIMITS_PATH_MAX];
	int v2_levels;                /* 0: no v2 hierarchy with the memory controller */
	char v2_dirs[LIMITS_CGROUP_DEPTH_MAX][LIMITS_PATH_MAX];
	int v1_levels;                /* 0: no v1 memory hierarchy */
	char v1_dirs[LIMITS_CGROUP_DEPTH_MAX][LIMITS_PATH_MAX];
	char v2_absent_reason[128];
	char v1_absent_reason[128];
} limits_context_t;

/*
 * Finds the process's cgroup v1 memory and v2 directories from
 * <proc_root>/self/mountinfo and <proc_root>/self/cgroup. Mount points under
 * /sys are read under sysfs_root. NULL roots mean /proc and /sys. Without
 * mountinfo the standard mount points are tried: v2 at /sys/fs/cgroup or
 * /sys/fs/cgroup/unified, v1 memory at /sys/fs/cgroup/memory. Returns 0, or
 * -ENAMETOOLONG when a root does not fit; a missing or unreadable file
 * leaves that hierarchy with 0 levels and a reason.
 */
SX_HIDDEN int limits_discover(limits_context_t *context, const char *proc_root,
    const char *sysfs_root);

/* The two /proc files that several sources share, each with its read status (0 or -errno). */
typedef struct {
	meminfo_t meminfo;
	int meminfo_error;
	self_memory_t self;
	int self_error;
} limits_basics_t;

/* Reads <proc_root>/meminfo and <proc_root>/self/statm once for every source. */
SX_HIDDEN void limits_read_basics(const char *proc_root, limits_basics_t *out);

/*
 * Reads every source except the budget into readings[source], using basics
 * for meminfo and the process's own memory. memtotal comes from meminfo and
 * turns v1 limits above it into "no limit".
 */
SX_HIDDEN void limits_read_sources(const limits_context_t *context,
    const limits_basics_t *basics, limit_reading_t readings[LIMIT_SOURCE_COUNT]);

/* limits_read_basics followed by limits_read_sources. */
SX_HIDDEN void limits_read_all(const limits_context_t *context,
    limit_reading_t readings[LIMIT_SOURCE_COUNT]);

/* Individual readers; each returns 0 or a negative errno. */
SX_HIDDEN int limits_read_meminfo(const char *proc_root, meminfo_t *out);
/*
 * Reads <proc_root>/pressure/<resource> ("memory", "cpu" or "io"). A missing
 * file, PSI disabled (EOPNOTSUPP) or unparsable text gives present = false
 * and the error.
 */
SX_HIDDEN int limits_read_psi(const char *proc_root, const char *resource,
    psi_reading_t *out);
SX_HIDDEN int limits_read_self_memory(const char *proc_root, self_memory_t *out);
/*
 * The cgroup readers take the smallest limit over all levels (for v2 over
 * memory.max and memory.high) and the usage of the level that sets it,
 * falling back to the leaf's usage. An absent hierarchy or no limit at any
 * level gives present = false, the reason in detail and 0. A level whose
 * file is missing is skipped. When no limit was found and some file could
 * not be read or parsed, the first such error is returned. When the usage
 * cannot be read, the limit is still filled, usage is 0 and the error is
 * returned.
 */
SX_HIDDEN int limits_read_cgroup_v2(const limits_context_t *context,
    limit_reading_t *out);
/*
 * v1 limits at or above 2^62 (the kernel's "unlimited" shows as
 * PAGE_COUNTER_MAX * 4096 = 9223372036854771712) or above memtotal_bytes
 * (when it is not 0) do not count as limits.
 */
SX_HIDDEN int limits_read_cgroup_v1(const limits_context_t *context,
    uint64_t memtotal_bytes, limit_reading_t *out);

/*
 * Text parsers behind the readers, for unit tests and fuzzing. Each takes a
 * NUL-terminated text (a NUL byte ends it), accepts a missing final newline
 * and returns 0 or -EINVAL. A number above UINT64_MAX is invalid.
 */
/*
 * Parses /proc/meminfo in any field order. MemTotal is required. Without
 * MemAvailable (kernels before 3.14) the available memory is estimated as
 * MemFree + Active(file) + Inactive(file) + SReclaimable, which counts all
 * file pages and reclaimable slab as freeable, so it can be too high. The
 * kernel's own MemAvailable keeps the low watermarks back and counts only
 * part of those pages. Fields missing from old kernels count as 0.
 */
SX_HIDDEN int limits_parse_meminfo(const char *text, meminfo_t *out);
/*
 * Parses a /proc/pressure file: a "some" line is required and a "full" line
 * is optional (the cpu file of kernels before 5.13 has none), in any order.
 * Each line needs avg10, avg60, avg300 (percent, 0 to 100) and total. On
 * failure *out has present = false.
 */
SX_HIDDEN int limits_parse_psi(const char *text, psi_reading_t *out);
/* Parses memory.max / memory.high / limit_in_bytes: "max" sets *unlimited. */
SX_HIDDEN int limits_parse_limit_value(const char *text, uint64_t *bytes, bool *unlimited);
/* Parses /proc/self/statm, seven counts of pages, into bytes. */
SX_HIDDEN int limits_parse_statm(const char *text, uint64_t page_size_bytes,
    self_memory_t *out);

/* The fields of one /proc/self/mountinfo line that the cgroup lookup uses. */
typedef struct {
	char root[LIMITS_PATH_MAX];        /* field 4, octal escapes such as \040 decoded */
	char mount_point[LIMITS_PATH_MAX]; /* field 5, decoded the same way */
	char fstype[64];                   /* first field after the "-" separator */
	bool memory_option;                /* "memory" among the super options */
} limits_mount_t;

/*
 * Parses one mountinfo line (no newline, length bytes, not NUL-terminated).
 * Returns 0, -EINVAL for a malformed line or -ENAMETOOLONG when a field does
 * not fit in *out.
 */
SX_HIDDEN int limits_parse_mountinfo_line(const char *line, size_t length,
    limits_mount_t *out);

/* One /proc/self/cgroup line: "hierarchy-id:controller-list:path". */
typedef struct {
	uint64_t hierarchy_id;             /* 0 with an empty list: the v2 entry */
	bool controllers_empty;
	bool memory_controller;            /* "memory" in the comma-separated list */
	char path[LIMITS_PATH_MAX];        /* starts with '/' */
} limits_cgroup_entry_t;

/* Parses one /proc/self/cgroup line, as limits_parse_mountinfo_line does. */
SX_HIDDEN int limits_parse_cgroup_line(const char *line, size_t length,
    limits_cgroup_entry_t *out);

/* sysconf(_SC_PAGESIZE), read once and then cached. */
SX_HIDDEN uint64_t limits_page_size_bytes(void);

SX_HIDDEN const char *limits_source_name(limit_source_t source);

#endif
