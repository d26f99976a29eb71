/* The option table: every setting's names, type, default and help in one place. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "log.h"
#include "options.h"
#include "options_table.h"

options_t options;

#define OFF(field) offsetof(options_t, field)
#define NO_FIELD ((size_t)-1)

const option_entry_t option_entries[] = {
	{ "disable", OPTION_TYPE_BOOL, OFF(disable), NO_FIELD, 0, 0, "0",
	    "1 makes the shim a plain pass-through to jemalloc (no governor, no gating)" },
	{ "log_level", OPTION_TYPE_LOG_LEVEL, OFF(log_level), NO_FIELD, 0, 0, "warn",
	    "error, warn, info or debug" },
	{ "log_file", OPTION_TYPE_PATH, OFF(log_file), NO_FIELD, 0, 0, "",
	    "file to append log lines to; empty means stderr" },
	{ "memory_limit", OPTION_TYPE_SIZE_OR_PERCENT, OFF(memory_limit_bytes),
	    OFF(memory_limit_percent), 0, 0, "0",
	    "memory budget of the process: bytes with K/M/G/T suffix, or a percentage "
	    "of physical RAM; 0 means only the machine's own limits apply" },
	{ "safety_margin", OPTION_TYPE_SIZE_OR_PERCENT, OFF(safety_margin_bytes),
	    OFF(safety_margin_percent), 0, 0, "10%",
	    "headroom kept below the effective limit: bytes or a percentage of the limit "
	    "(at least 16M is kept in any case)" },
	{ "large_threshold", OPTION_TYPE_SIZE, OFF(large_threshold_bytes), NO_FIELD,
	    ALLOC_GOVERNED_MIN_BYTES, 0, "1M", "requests of at least this size are checked by the governor (64K or more)" },
	{ "huge_pages", OPTION_TYPE_BOOL, OFF(huge_pages), NO_FIELD, 0, 0, "1",
	    "1 starts blocks of two huge pages and up (4M on x86-64) on huge page boundaries, "
	    "so that transparent huge pages can back them whole; 0 leaves placement to "
	    "jemalloc" },
	{ "stall_timeout", OPTION_TYPE_DURATION, OFF(stall_timeout_ms), NO_FIELD, 1000, 0,
	    "2s", "longest wait for memory before a request is refused (ms, s, min; bare "
	    "numbers are seconds)" },
	{ "psi_threshold", OPTION_TYPE_NUMBER, OFF(psi_threshold_percent), NO_FIELD, 0, 100,
	    "40", "memory pressure (PSI some avg10, percent) above which large requests "
	    "wait briefly for reclaim" },
	{ "psi_wait", OPTION_TYPE_DURATION, OFF(psi_wait_ms), NO_FIELD, 1, 0, "200ms",
	    "longest wait of a large request under memory pressure (bare numbers are ms)" },
	{ "proc_root", OPTION_TYPE_PATH, OFF(proc_root), NO_FIELD, 0, 0, "/proc",
	    "where /proc is read from (for tests with fixture trees)" },
	{ "sysfs_root", OPTION_TYPE_PATH, OFF(sysfs_root), NO_FIELD, 0, 0, "/sys",
	    "where /sys is read from (for tests with fixture trees)" },
	{ "thermal_limit", OPTION_TYPE_NUMBER, OFF(thermal_limit_celsius), NO_FIELD, -20, 150,
	    "85", "CPU temperature in degrees Celsius above which heavy calls pause" },
	{ "thermal_resume", OPTION_TYPE_NUMBER, OFF(thermal_resume_celsius), NO_FIELD, -20,
	    150, "", "temperature at which paused calls resume; empty means 5 below the limit" },
	{ "thermal_max_wait", OPTION_TYPE_DURATION, OFF(thermal_max_wait_ms), NO_FIELD, 1000,
	    0, "5min", "longest thermal pause before the call proceeds with a warning "
	    "(bare numbers are seconds)" },
	{ "poll_ms", OPTION_TYPE_DURATION, OFF(poll_ms), NO_FIELD, 1, 0, "500",
	    "interval between sensor readings, shared by all threads (bare numbers are ms)" },
	{ "temp_source", OPTION_TYPE_PATH, OFF(temp_source), NO_FIELD, 0, 0, "",
	    "file holding the temperature in millidegrees Celsius; empty means automatic" },
	{ "cpu_limit", OPTION_TYPE_NUMBER, OFF(cpu_limit_percent), NO_FIELD, 0, 10000, "0",
	    "CPU pressure (PSI some avg10, percent; or load average per CPU x 100 without "
	    "PSI) above which heavy calls pause; 0 disables" },
	{ "cpu_max_wait", OPTION_TYPE_DURATION, OFF(cpu_max_wait_ms), NO_FIELD, 1000, 0,
	    "60s", "longest CPU-load pause (bare numbers are seconds)" },
	{ "max_workers", OPTION_TYPE_COUNT, OFF(max_workers), NO_FIELD, 0, 4096, "0",
	    "BLAS threads allowed while over a limit; 0 means the physical core count" },
	{ "blas_min_flops", OPTION_TYPE_NUMBER, OFF(blas_min_flops), NO_FIELD, 0, 1e30, "1e8",
	    "BLAS/LAPACK calls estimated above this many floating-point operations are gated" },
	{ "trace_file", OPTION_TYPE_PATH, OFF(trace_file), NO_FIELD, 0, 0, "",
	    "file to append the timeline (one line per event and sample) to" },
	{ "history_file", OPTION_TYPE_PATH, OFF(history_file), NO_FIELD, 0, 0, "",
	    "file that keeps the learned per-operation memory history across runs" },
};

const size_t option_entry_count = SX_ARRAY_SIZE(option_entries);
option_state_t option_states[SX_ARRAY_SIZE(option_entries)];

void
options_env_name(const char *key, char *out, size_t size)
{
	size_t length = 0;

	snprintf(out, size, "SAFEEXEC_%s", key);
	for (length = 0; out[length] != '\0'; length++) {
		if (out[length] >= 'a' && out[length] <= 'z') {
			out[length] = (char)(out[length] - 'a' + 'A');
		}
	}
}

size_t
options_count(void)
{
	return option_entry_count;
}

const option_entry_t *
options_find(const char *key)
{
	size_t i;

	for (i = 0; i < option_entry_count; i++) {
		if (strcmp(option_entries[i].key, key) == 0) {
			return &option_entries[i];
		}
	}
	return NULL;
}

/* The accepted form of a type, for warnings about invalid values. */
static const char *
options_type_form(option_type_t type)
{
	switch (type) {
	case OPTION_TYPE_BOOL:
		return "1/0, true/false, yes/no or on/off";
	case OPTION_TYPE_LOG_LEVEL:
		return "error, warn, info or debug";
	case OPTION_TYPE_PATH:
		return "a path shorter than 1024 bytes";
	case OPTION_TYPE_SIZE:
		return "a size such as 1048576, 512K, 64M or 2G";
	case OPTION_TYPE_SIZE_OR_PERCENT:
		return "a size such as 512M or 4G, or a percentage such as 50%";
	case OPTION_TYPE_DURATION:
		return "a duration such as 250ms, 2s or 5min";
	case OPTION_TYPE_NUMBER:
	case OPTION_TYPE_COUNT:
		return NULL;
	}
	return "a valid value";
}

/* Writes the accepted form of entry's values, with the range of numbers, into buffer. */
static const char *
options_describe_form(const option_entry_t *entry, char *buffer, size_t size)
{
	const char *form = options_type_form(entry->type);

	if (entry->type == OPTION_TYPE_SIZE && entry->min > 0) {
		snprintf(buffer, size, "a size of at least %gK, such as 1M or 64M",
		    entry->min / 1024);
		return buffer;
	}
	if (form != NULL) {
		return form;
	}
	snprintf(buffer, size, "a%s number from %g to %g",
	    entry->type == OPTION_TYPE_COUNT ? " whole" : "", entry->min, entry->max);
	return buffer;
}

static bool
options_apply(const option_entry_t *entry, const char *value)
{
	char *base = (char *)&options;
	uint64_t size_bytes;
	double number;
	bool flag;
	int level;

	switch (entry->type) {
	case OPTION_TYPE_BOOL:
		if (!options_parse_bool(value, &flag)) {
			return false;
		}
		*(bool *)(base + entry->offset) = flag;
		return true;
	case OPTION_TYPE_LOG_LEVEL:
		level = log_parse_level(value);
		if (level < 0) {
			return false;
		}
		*(int *)(base + entry->offset) = level;
		return true;
	case OPTION_TYPE_PATH:
		if (strlen(value) >= OPTIONS_PATH_MAX) {
			return false;
		}
		strcpy(base + entry->offset, value);
		return true;
	case OPTION_TYPE_SIZE:
		/* min, where set, is the smallest size accepted; 0 has no bound. */
		if (!options_parse_size(value, &size_bytes) || size_bytes < (uint64_t)entry->min) {
			return false;
		}
		*(uint64_t *)(base + entry->offset) = size_bytes;
		return true;
	case OPTION_TYPE_SIZE_OR_PERCENT:
		return options_parse_size_or_percent(value, (uint64_t *)(base + entry->offset),
		    (double *)(base + entry->percent_offset));
	case OPTION_TYPE_DURATION:
		return options_parse_duration_ms(value, (uint64_t)entry->min,
		    (uint64_t *)(base + entry->offset));
	case OPTION_TYPE_NUMBER:
		/* An empty value means "derived" where the default is empty (thermal_resume). */
		if (value[0] == '\0' && entry->default_text[0] == '\0') {
			*(double *)(base + entry->offset) = NAN;
			return true;
		}
		if (!options_parse_number(value, entry->min, entry->max, &number)) {
			return false;
		}
		*(double *)(base + entry->offset) = number;
		return true;
	case OPTION_TYPE_COUNT:
		if (!options_parse_number(value, entry->min, entry->max, &number)
		    || number != floor(number)) {
			return false;
		}
		*(uint64_t *)(base + entry->offset) = (uint64_t)number;
		return true;
	}
	return false;
}

bool
options_set(const char *key, const char *value, option_source_t source,
    const char *origin)
{
	const option_entry_t *entry = options_find(key);
	size_t index;

	if (entry == NULL) {
		log_message(LOG_LEVEL_WARN, "unknown option '%s' in %s; ignored (run "
		    "'safeexec config' to list the options)", key, origin);
		return false;
	}
	index = (size_t)(entry - option_entries);
	if (!options_apply(entry, value)) {
		char env_name[64], form[96];

		options_env_name(entry->key, env_name, sizeof(env_name));
		/* The environment variable is named once: it is both the option's name and the origin. */
		log_message(LOG_LEVEL_WARN, "invalid value '%.200s' for %s (%s)%s%s: expected %s; "
		    "keeping %s", value, entry->key, env_name,
		    strcmp(origin, env_name) == 0 ? "" : " in ",
		    strcmp(origin, env_name) == 0 ? "" : origin,
		    options_describe_form(entry, form, sizeof(form)),
		    option_states[index].source == OPTION_SOURCE_DEFAULT
		    ? "the default" : "the earlier value");
		return false;
	}
	option_states[index].source = source;
	snprintf(option_states[index].origin, sizeof(option_states[index].origin), "%s",
	    origin);
	return true;
}

void
options_set_defaults(void)
{
	size_t i;

	memset(&options, 0, sizeof(options));
	for (i = 0; i < option_entry_count; i++) {
		/* Defaults are written in the table as text and go through the same parser. */
		if (!options_apply(&option_entries[i], option_entries[i].default_text)) {
			log_message(LOG_LEVEL_ERROR, "internal error: default '%s' of %s "
			    "does not parse", option_entries[i].default_text,
			    option_entries[i].key);
		}
		option_states[i].source = OPTION_SOURCE_DEFAULT;
		option_states[i].origin[0] = '\0';
	}
}
