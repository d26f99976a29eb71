/*
 * Loading the option table: defaults, then config files, then SAFEEXEC_*
 * environment variables. Runs at start-up only: it calls getenv, stat and
 * inih, which allocate.
 */
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mem_limits.h"
#include "options.h"
#include "options_table.h"
#include "thermal.h"

/* A config file larger than this is not a config file: it is rejected. */
#define OPTIONS_FILE_MAX_BYTES (64 * 1024)
#define OPTIONS_SYSTEM_FILE "/etc/safeexec.conf"

typedef struct {
	const char *path;
	char origin[OPTIONS_PATH_MAX + 32];
} options_file_context_t;

/* inih callback. Keys may sit at top level or under [safeexec]. */
static int
options_file_entry(void *user, const char *section, const char *name, const char *value)
{
	options_file_context_t *context = user;

	if (section[0] != '\0' && strcmp(section, "safeexec") != 0) {
		log_message(LOG_LEVEL_WARN, "section [%s] in %s is not [safeexec]; "
		    "its key '%s' is ignored", section, context->path, name);
		return 1;
	}
	options_set(name, value, OPTION_SOURCE_FILE, context->origin);
	return 1;
}

/*
 * Rejects files that another user could have written, as sudo and ssh do: a
 * file not owned by root or the caller, or writable by group or others.
 */
static bool
options_file_is_trusted(const char *path, const struct stat *info)
{
	if (info->st_uid != 0 && info->st_uid != getuid()) {
		log_message(LOG_LEVEL_WARN, "config file %s is owned by uid %u, not by "
		    "root or you; ignored", path, (unsigned)info->st_uid);
		return false;
	}
	if ((info->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		log_message(LOG_LEVEL_WARN, "config file %s is writable by group or others "
		    "(mode %o); ignored (fix with chmod go-w)", path,
		    (unsigned)(info->st_mode & 0777));
		return false;
	}
	return true;
}

/* Reads one INI file; a missing file is silent only when missing_ok. */
static void
options_load_file(const char *path, bool missing_ok)
{
	options_file_context_t context = { .path = path };
	struct stat info;
	FILE *file;
	int result;

	if (stat(path, &info) != 0) {
		if (!missing_ok) {
			log_message(LOG_LEVEL_WARN, "config file %s not found; using defaults "
			    "and the environment", path);
		}
		return;
	}
	if (!S_ISREG(info.st_mode) || info.st_size > OPTIONS_FILE_MAX_BYTES) {
		log_message(LOG_LEVEL_WARN, "config file %s is not a regular file of at most "
		    "%d bytes; ignored", path, OPTIONS_FILE_MAX_BYTES);
		return;
	}
	if (!options_file_is_trusted(path, &info)) {
		return;
	}

	file = fopen(path, "re");
	if (file == NULL) {
		log_message(LOG_LEVEL_WARN, "cannot open config file %s: %s; ignored", path,
		    strerror(errno));
		return;
	}
	snprintf(context.origin, sizeof(context.origin), "%s", path);
	result = ini_parse_file(file, options_file_entry, &context);
	fclose(file);
	if (result > 0) {
		log_message(LOG_LEVEL_WARN, "config file %s: syntax error on line %d; "
		    "that line is ignored", path, result);
	}
}

static void
options_load_files(bool secure)
{
	const char *explicit_path = secure ? NULL : getenv("SAFEEXEC_CONFIG");
	const char *config_home = secure ? NULL : getenv("XDG_CONFIG_HOME");
	const char *home = secure ? NULL : getenv("HOME");
	char user_path[OPTIONS_PATH_MAX];

	if (explicit_path != NULL && explicit_path[0] != '\0') {
		options_load_file(explicit_path, false);
		return;
	}
	options_load_file(OPTIONS_SYSTEM_FILE, true);
	if (secure) {
		return;
	}

	if (config_home != NULL && config_home[0] == '/') {
		snprintf(user_path, sizeof(user_path), "%s/safeexec/safeexec.conf", config_home);
	} else if (home != NULL && home[0] == '/') {
		snprintf(user_path, sizeof(user_path), "%s/.config/safeexec/safeexec.conf", home);
	} else {
		return;
	}
	options_load_file(user_path, true);
}

static void
options_load_environment(void)
{
	size_t i;

	for (i = 0; i < option_entry_count; i++) {
		char env_name[64];
		const char *value;

		options_env_name(option_entries[i].key, env_name, sizeof(env_name));
		value = getenv(env_name);
		if (value != NULL) {
			options_set(option_entries[i].key, value, OPTION_SOURCE_ENV, env_name);
		}
	}
}

/*
 * The readers build paths under proc_root and sysfs_root, and read
 * temp_source, in 512-byte buffers (LIMITS_PATH_MAX, THERMAL_PATH_MAX). A
 * longer setting would be cut and could name another file, so it is
 * rejected here; 128 bytes stay free for the file names appended to a root.
 */
static void
options_check_root_lengths(void)
{
	static const struct {
		const char *key;
		char *value;
		const char *fallback;
		size_t max_length;
	} paths[] = {
		{ "proc_root", options.proc_root, "/proc", LIMITS_PATH_MAX - 128 },
		{ "sysfs_root", options.sysfs_root, "/sys", LIMITS_PATH_MAX - 128 },
		{ "temp_source", options.temp_source, "", THERMAL_PATH_MAX - 1 },
	};
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(paths); i++) {
		if (strlen(paths[i].value) <= paths[i].max_length) {
			continue;
		}
		log_message(LOG_LEVEL_WARN, "%s is %zu bytes long, over the %zu that the readers "
		    "accept; using '%s'", paths[i].key, strlen(paths[i].value),
		    paths[i].max_length, paths[i].fallback);
		strcpy(paths[i].value, paths[i].fallback);
	}
}

void
options_load(void)
{
	/* AT_SECURE: setuid or file capabilities; the caller's environment is not trusted. */
	bool secure = getauxval(AT_SECURE) != 0;

	options_set_defaults();
	if (!secure) {
		/* Warnings about the files follow the requested log settings. */
		const char *level_text = getenv("SAFEEXEC_LOG_LEVEL");
		int level = level_text != NULL ? log_parse_level(level_text) : -1;

		log_configure(level >= 0 ? (log_level_t)level : LOG_LEVEL_WARN,
		    getenv("SAFEEXEC_LOG_FILE"));
	}
	options_load_files(secure);
	if (!secure) {
		options_load_environment();
		options_warn_mistyped_environment();
	}

	options_check_root_lengths();
	if (isnan(options.thermal_resume_celsius)) {
		options.thermal_resume_celsius = options.thermal_limit_celsius - 5;
	}
	if (options.thermal_resume_celsius > options.thermal_limit_celsius) {
		log_message(LOG_LEVEL_WARN, "thermal_resume %.1f is above thermal_limit %.1f; "
		    "using %.1f", options.thermal_resume_celsius, options.thermal_limit_celsius,
		    options.thermal_limit_celsius - 5);
		options.thermal_resume_celsius = options.thermal_limit_celsius - 5;
	}
	log_configure((log_level_t)options.log_level, options.log_file);
}

static void
options_format_value(const option_entry_t *entry, char *out, size_t size)
{
	const char *base = (const char *)&options;
	double percent;

	switch (entry->type) {
	case OPTION_TYPE_BOOL:
		snprintf(out, size, "%s", *(const bool *)(base + entry->offset) ? "1" : "0");
		break;
	case OPTION_TYPE_LOG_LEVEL:
		snprintf(out, size, "%s", log_level_name(*(const int *)(base + entry->offset)));
		break;
	case OPTION_TYPE_PATH:
		snprintf(out, size, "%s", base + entry->offset);
		break;
	case OPTION_TYPE_SIZE_OR_PERCENT:
		percent = *(const double *)(base + entry->percent_offset);
		if (percent > 0) {
			snprintf(out, size, "%g%%", percent);
			break;
		}
		/* fall through */
	case OPTION_TYPE_SIZE:
		snprintf(out, size, "%llu", (unsigned long long)*(const uint64_t *)(base
		    + entry->offset));
		break;
	case OPTION_TYPE_DURATION:
		snprintf(out, size, "%llums", (unsigned long long)*(const uint64_t *)(base
		    + entry->offset));
		break;
	case OPTION_TYPE_NUMBER:
		snprintf(out, size, "%g", *(const double *)(base + entry->offset));
		break;
	case OPTION_TYPE_COUNT:
		snprintf(out, size, "%llu", (unsigned long long)*(const uint64_t *)(base
		    + entry->offset));
		break;
	}
}

bool
options_describe(size_t index, option_info_t *info)
{
	static char env_names[64][64];
	const option_entry_t *entry;

	if (index >= option_entry_count || index >= SX_ARRAY_SIZE(env_names)) {
		return false;
	}
	entry = &option_entries[index];
	options_env_name(entry->key, env_names[index], sizeof(env_names[index]));
	info->key = entry->key;
	info->env_name = env_names[index];
	info->help = entry->help;
	info->default_text = entry->default_text;
	options_format_value(entry, info->value_text, sizeof(info->value_text));
	info->source = option_states[index].source;
	info->origin = option_states[index].origin;
	return true;
}
