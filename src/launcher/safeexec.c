/*
 * The safeexec launcher:
 *   safeexec [OPTIONS] [--] COMMAND [ARGS...]   run COMMAND under the shim
 *   safeexec [OPTIONS] config                   print the effective settings
 *   safeexec [OPTIONS] status [--json]          print what the shim would see now
 * Every entry of the option table is a long option (memory_limit becomes
 * --memory-limit), passed to the command as its SAFEEXEC_* variable.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher.h"
#include "log.h"
#include "options.h"
#include "options_table.h"

#ifndef SAFEEXEC_LIBDIR
#define SAFEEXEC_LIBDIR "/usr/local/lib"
#endif
#ifndef SAFEEXEC_VERSION
#define SAFEEXEC_VERSION "unknown"
#endif

#define LAUNCHER_SHIM_NAME "libsafeexec.so"
/* getopt_long values for options not in the table. */
enum { LAUNCHER_OPT_HELP = 1000, LAUNCHER_OPT_VERSION, LAUNCHER_OPT_CONFIG_FILE };

typedef struct {
	const char *key;
	const char *value;
} launcher_setting_t;

static void
launcher_print_help(FILE *out)
{
	size_t i;

	fprintf(out,
	    "Usage: safeexec [OPTIONS] [--] COMMAND [ARGS...]\n"
	    "       safeexec [OPTIONS] config\n"
	    "       safeexec [OPTIONS] status [--json]\n"
	    "\n"
	    "Runs COMMAND with libsafeexec.so preloaded: large allocations are checked\n"
	    "against the tightest memory limit, refused with ENOMEM (MemoryError in\n"
	    "Python) instead of letting the OOM killer end the process, and heavy BLAS\n"
	    "calls pause while the CPU is too hot or overloaded. The exit status is\n"
	    "COMMAND's; 127 if it was not found, 126 if it could not run, 2 for invalid\n"
	    "options.\n"
	    "\n"
	    "Options (each also settable as the SAFEEXEC_* variable shown, or in a config\n"
	    "file as key = value):\n"
	    "  --config FILE          read settings from FILE instead of\n"
	    "                         /etc/safeexec.conf and ~/.config/safeexec/safeexec.conf\n"
	    "  -h, --help             print this help\n"
	    "  -V, --version          print the version\n");
	for (i = 0; i < option_entry_count; i++) {
		char env_name[64], flag[64];
		size_t j;

		options_env_name(option_entries[i].key, env_name, sizeof(env_name));
		snprintf(flag, sizeof(flag), "--%s", option_entries[i].key);
		for (j = 0; flag[j] != '\0'; j++) {
			flag[j] = flag[j] == '_' ? '-' : flag[j];
		}
		fprintf(out, "  %s VALUE\n      %s (%s, default '%s')\n", flag,
		    option_entries[i].help, env_name, option_entries[i].default_text);
	}
}

/* Builds getopt_long's table: one entry per option-table key, with hyphens. */
static struct option *
launcher_build_long_options(char names[][64])
{
	struct option *long_options = calloc(option_entry_count + 4, sizeof(*long_options));
	size_t i, j, count = 0;

	if (long_options == NULL) {
		return NULL;
	}
	for (i = 0; i < option_entry_count; i++) {
		snprintf(names[i], 64, "%s", option_entries[i].key);
		for (j = 0; names[i][j] != '\0'; j++) {
			names[i][j] = names[i][j] == '_' ? '-' : names[i][j];
		}
		long_options[count++] = (struct option){ names[i], required_argument, NULL,
		    (int)i };
	}
	long_options[count++] = (struct option){ "help", no_argument, NULL, LAUNCHER_OPT_HELP };
	long_options[count++] = (struct option){ "version", no_argument, NULL,
	    LAUNCHER_OPT_VERSION };
	long_options[count++] = (struct option){ "config", required_argument, NULL,
	    LAUNCHER_OPT_CONFIG_FILE };
	return long_options;
}

/* Validates one command-line setting with the shim's own parser. */
static bool
launcher_check_setting(const launcher_setting_t *setting)
{
	char origin[96];
	size_t i;

	snprintf(origin, sizeof(origin), "--%s", setting->key);
	for (i = 0; origin[i] != '\0'; i++) {
		origin[i] = origin[i] == '_' ? '-' : origin[i];
	}
	return options_set(setting->key, setting->value, OPTION_SOURCE_ENV, origin);
}

/*
 * Returns path made absolute against the launcher's working directory, in
 * storage that lives until exit: the command may change directory before its
 * shim reads the path. Returns path itself when it is absolute or empty.
 */
static const char *
launcher_absolute_path(const char *path)
{
	char cwd[4096];
	char *absolute;
	size_t length;

	if (path[0] == '\0' || path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL) {
		return path;
	}
	length = strlen(cwd) + strlen(path) + 2;
	absolute = malloc(length);
	if (absolute == NULL) {
		return path;
	}
	snprintf(absolute, length, "%s/%s", cwd, path);
	return absolute;
}

/* Exports the settings as SAFEEXEC_* so the shim in COMMAND reads them. */
static int
launcher_export_settings(const launcher_setting_t *settings, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		char env_name[64];

		options_env_name(settings[i].key, env_name, sizeof(env_name));
		if (setenv(env_name, settings[i].value, 1) != 0) {
			fprintf(stderr, "safeexec: setenv %s failed: %s\n", env_name,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Loads options as the shim would, then applies the command line on top.
 * When quiet, problems in the environment and config files are not reported
 * here, because the shim in the command reports them itself.
 */
static bool
launcher_load_options(const launcher_setting_t *settings, size_t count, bool quiet)
{
	const char *level = getenv("SAFEEXEC_LOG_LEVEL");
	char *saved_level = level != NULL ? strdup(level) : NULL;
	bool valid = true;
	size_t i;

	if (quiet) {
		setenv("SAFEEXEC_LOG_LEVEL", "error", 1);
	}
	options_load();
	if (quiet) {
		if (saved_level != NULL) {
			setenv("SAFEEXEC_LOG_LEVEL", saved_level, 1);
		} else {
			unsetenv("SAFEEXEC_LOG_LEVEL");
		}
		log_configure(LOG_LEVEL_WARN, NULL);
	}
	free(saved_level);
	for (i = 0; i < count; i++) {
		valid = launcher_check_setting(&settings[i]) && valid;
	}
	return valid;
}

int
main(int argc, char **argv)
{
	char names[128][64];
	struct option *long_options;
	launcher_setting_t *settings;
	size_t setting_count = 0;
	bool subcommand;
	int opt;

	if (option_entry_count > SX_ARRAY_SIZE(names)) {
		fprintf(stderr, "safeexec: internal error: option table too large\n");
		return 2;
	}
	long_options = launcher_build_long_options(names);
	settings = calloc((size_t)argc + 1, sizeof(*settings));
	if (long_options == NULL || settings == NULL) {
		fprintf(stderr, "safeexec: out of memory\n");
		return 2;
	}

	/* "+": stop at the first non-option, which is COMMAND or a subcommand. */
	while ((opt = getopt_long(argc, argv, "+hV", long_options, NULL)) != -1) {
		if (opt == 'h' || opt == LAUNCHER_OPT_HELP) {
			launcher_print_help(stdout);
			return 0;
		}
		if (opt == 'V' || opt == LAUNCHER_OPT_VERSION) {
			printf("safeexec %s\n", SAFEEXEC_VERSION);
			return 0;
		}
		if (opt == LAUNCHER_OPT_CONFIG_FILE) {
			setenv("SAFEEXEC_CONFIG", launcher_absolute_path(optarg), 1);
			continue;
		}
		if (opt >= 0 && (size_t)opt < option_entry_count) {
			settings[setting_count].key = option_entries[opt].key;
			settings[setting_count].value = option_entries[opt].type == OPTION_TYPE_PATH
			    ? launcher_absolute_path(optarg) : optarg;
			setting_count++;
			continue;
		}
		fprintf(stderr, "Try 'safeexec --help' for the options.\n");
		return 2;
	}

	if (optind >= argc) {
		fprintf(stderr, "safeexec: missing COMMAND\nTry 'safeexec --help' for usage.\n");
		return 2;
	}
	subcommand = strcmp(argv[optind - 1], "--") != 0 && (strcmp(argv[optind], "config") == 0
	    || strcmp(argv[optind], "status") == 0);
	if (!launcher_load_options(settings, setting_count, !subcommand)) {
		fprintf(stderr, "safeexec: a command-line option has an invalid value (see the "
		    "message above); nothing was run\n");
		return 2;
	}

	/* After "--", a COMMAND called config or status is run, not taken as a subcommand. */
	if (strcmp(argv[optind - 1], "--") == 0) {
		if (launcher_export_settings(settings, setting_count) != 0) {
			return 2;
		}
		return launcher_exec(argv + optind);
	}
	if (strcmp(argv[optind], "config") == 0) {
		if (optind + 1 < argc) {
			fprintf(stderr, "safeexec: config takes no arguments, got '%s'\n",
			    argv[optind + 1]);
			return 2;
		}
		return launcher_print_config(stdout);
	}
	if (strcmp(argv[optind], "status") == 0) {
		bool json = optind + 1 < argc && strcmp(argv[optind + 1], "--json") == 0;

		if (optind + (json ? 2 : 1) < argc) {
			fprintf(stderr, "safeexec: status takes only --json, got '%s'\n",
			    argv[optind + (json ? 2 : 1)]);
			return 2;
		}
		return launcher_print_status(stdout, json);
	}
	if (launcher_export_settings(settings, setting_count) != 0) {
		return 2;
	}
	return launcher_exec(argv + optind);
}
