/*
 * The shim's settings: one table (options_table.c) read once at start-up from
 * the config files and then the SAFEEXEC_* environment, which wins. A value
 * that does not parse is reported once, with the option, the value and the
 * accepted form, and the default is kept.
 */
#ifndef SX_OPTIONS_H
#define SX_OPTIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "common.h"

#define OPTIONS_PATH_MAX 1024

typedef struct {
	bool disable;
	int log_level;
	char log_file[OPTIONS_PATH_MAX];

	/* Memory governor. A percent of 0 means the byte value applies. */
	uint64_t memory_limit_bytes;      /* 0: no budget of its own */
	double memory_limit_percent;      /* of physical RAM */
	uint64_t safety_margin_bytes;
	double safety_margin_percent;     /* of the effective limit */
	uint64_t large_threshold_bytes;
	bool huge_pages;                  /* place blocks of two huge pages and up on a boundary */
	uint64_t stall_timeout_ms;
	double psi_threshold_percent;     /* memory "some avg10" */
	uint64_t psi_wait_ms;
	char proc_root[OPTIONS_PATH_MAX];
	char sysfs_root[OPTIONS_PATH_MAX];

	/* Thermal and CPU gating. */
	double thermal_limit_celsius;
	double thermal_resume_celsius;    /* NaN: 5 below the limit */
	uint64_t thermal_max_wait_ms;
	uint64_t poll_ms;
	char temp_source[OPTIONS_PATH_MAX];
	double cpu_limit_percent;         /* cpu "some avg10", or load per CPU x 100 */
	uint64_t cpu_max_wait_ms;
	uint64_t max_workers;             /* 0: physical cores */
	double blas_min_flops;

	/* Records. */
	char trace_file[OPTIONS_PATH_MAX];
	char history_file[OPTIONS_PATH_MAX];
} options_t;

typedef enum {
	OPTION_SOURCE_DEFAULT,
	OPTION_SOURCE_FILE,
	OPTION_SOURCE_ENV,
} option_source_t;

/* The effective settings. Written only by options_load, before any thread reads them. */
SX_HIDDEN extern options_t options;

/*
 * Fills `options` from the defaults, the config files and the environment,
 * warning about each invalid value. Allocates (getenv, inih), so it runs in
 * the constructor or in the launcher, never on the allocation path.
 * With secure execution (setuid, AT_SECURE) the environment and user files are ignored.
 */
SX_HIDDEN void options_load(void);

/*
 * Warns once about each SAFEEXEC_* environment variable whose name is within
 * two edits of a setting's variable without being one (a likely typo).
 */
SX_HIDDEN void options_warn_mistyped_environment(void);

/* Number of entries in the option table. */
SX_HIDDEN size_t options_count(void);

/*
 * Describes entry index for `safeexec config`: names, current value as text,
 * where it came from and the help text. Returns false past the end.
 */
typedef struct {
	const char *key;          /* config file key, e.g. memory_limit */
	const char *env_name;     /* e.g. SAFEEXEC_MEMORY_LIMIT */
	const char *help;
	const char *default_text;
	char value_text[OPTIONS_PATH_MAX];
	option_source_t source;
	const char *origin;       /* the file or variable it came from */
} option_info_t;

SX_HIDDEN bool options_describe(size_t index, option_info_t *info);

/* Applies one key = value pair, as from a file; used by the launcher and tests. */
SX_HIDDEN bool options_set(const char *key, const char *value, option_source_t source,
    const char *origin);

/* Value parsers, exposed for unit tests and fuzzing. Return false on invalid input. */
SX_HIDDEN bool options_parse_size(const char *text, uint64_t *bytes);
SX_HIDDEN bool options_parse_size_or_percent(const char *text, uint64_t *bytes,
    double *percent);
SX_HIDDEN bool options_parse_duration_ms(const char *text, uint64_t default_unit_ms,
    uint64_t *ms);
SX_HIDDEN bool options_parse_bool(const char *text, bool *value);
SX_HIDDEN bool options_parse_number(const char *text, double min, double max,
    double *value);

#endif
