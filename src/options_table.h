/* The option table's layout, shared by options_table.c and options_load.c. */
#ifndef SX_OPTIONS_TABLE_H
#define SX_OPTIONS_TABLE_H

#include <stddef.h>

#include "options.h"

typedef enum {
	OPTION_TYPE_BOOL,
	OPTION_TYPE_LOG_LEVEL,
	OPTION_TYPE_PATH,
	OPTION_TYPE_SIZE,       /* min, when not 0, is the smallest size accepted */
	OPTION_TYPE_SIZE_OR_PERCENT,
	OPTION_TYPE_DURATION,   /* min is the unit of a bare number, in ms */
	OPTION_TYPE_NUMBER,     /* double within [min, max] */
	OPTION_TYPE_COUNT,      /* uint64_t within [min, max] */
} option_type_t;

typedef struct {
	const char *key;
	option_type_t type;
	size_t offset;
	size_t percent_offset;
	double min;
	double max;
	const char *default_text;
	const char *help;
} option_entry_t;

typedef struct {
	option_source_t source;
	char origin[OPTIONS_PATH_MAX + 32];
} option_state_t;

SX_HIDDEN extern const option_entry_t option_entries[];
SX_HIDDEN extern const size_t option_entry_count;
SX_HIDDEN extern option_state_t option_states[];

SX_HIDDEN const option_entry_t *options_find(const char *key);
SX_HIDDEN void options_set_defaults(void);

/* Writes the environment variable of key: memory_limit gives SAFEEXEC_MEMORY_LIMIT. */
SX_HIDDEN void options_env_name(const char *key, char *out, size_t size);

#endif
