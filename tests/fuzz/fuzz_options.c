/*
 * Fuzzes the option loader and the value parsers. The first input byte picks
 * the mode and the rest is the payload:
 *   0: the payload is a config file, read by options_load through
 *      SAFEEXEC_CONFIG (inih, then options_set for each key);
 *   1: the next byte picks an option and the payload is its SAFEEXEC_*
 *      environment variable, read by options_load;
 *   2: every options_parse_* function parses the payload.
 * The log level is kept at error so the warnings about invalid values do not
 * slow the fuzzer down, and log_file is never taken from the input, so the
 * harness creates no file.
 */
#include <math.h>

#include "fuzz_support.h"
#include "log.h"
#include "options.h"
#include "options_table.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	unsetenv("SAFEEXEC_LOG_FILE");
	setenv("SAFEEXEC_LOG_LEVEL", "error", 1);
	log_configure(LOG_LEVEL_ERROR, "");
	return 0;
}

/* Runs options_load and reads back every value, as `safeexec config` does. */
static void
fuzz_load_and_describe(void)
{
	option_info_t info;
	size_t i;

	options_load();
	log_configure(LOG_LEVEL_ERROR, "");
	for (i = 0; options_describe(i, &info); i++) {
		if (memchr(info.value_text, '\0', sizeof(info.value_text)) == NULL) {
			__builtin_trap();
		}
	}
	if (options.thermal_resume_celsius > options.thermal_limit_celsius) {
		__builtin_trap();
	}
	if (options.memory_limit_percent < 0 || options.memory_limit_percent > 100) {
		__builtin_trap();
	}
}

static void
fuzz_config_file(const uint8_t *data, size_t size)
{
	char path[64];

	fuzz_file_with(data, size, path, sizeof(path));
	setenv("SAFEEXEC_CONFIG", path, 1);
	fuzz_load_and_describe();
}

static void
fuzz_environment(const uint8_t *data, size_t size)
{
	const option_entry_t *entry;
	char path[64], env_name[64], *value;

	if (size == 0) {
		return;
	}
	entry = &option_entries[data[0] % option_entry_count];
	if (strcmp(entry->key, "log_file") == 0) {
		return;
	}
	options_env_name(entry->key, env_name, sizeof(env_name));
	value = fuzz_terminated_copy(data + 1, size - 1);
	/* An empty config file, so no file of the machine is read. */
	fuzz_file_with(data, 0, path, sizeof(path));
	setenv("SAFEEXEC_CONFIG", path, 1);
	setenv(env_name, value, 1);
	fuzz_load_and_describe();
	if (strcmp(entry->key, "log_level") == 0) {
		setenv(env_name, "error", 1);
	} else {
		unsetenv(env_name);
	}
	free(value);
}

static void
fuzz_value_parsers(const uint8_t *data, size_t size)
{
	char *text = fuzz_terminated_copy(data, size);
	uint64_t bytes = 0, ms = 0;
	double percent = 0, number = 0;
	bool flag = false;

	if (options_parse_size(text, &bytes) && bytes >= ((uint64_t)1 << 63)) {
		__builtin_trap();
	}
	if (options_parse_size_or_percent(text, &bytes, &percent)
	    && !(percent == 0 || (percent > 0 && percent <= 100))) {
		__builtin_trap();
	}
	if (options_parse_duration_ms(text, 1000, &ms) && ms > 366ULL * 24 * 3600 * 1000) {
		__builtin_trap();
	}
	options_parse_duration_ms(text, 1, &ms);
	options_parse_bool(text, &flag);
	if (options_parse_number(text, -20, 150, &number)
	    && !(number >= -20 && number <= 150)) {
		__builtin_trap();
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0) {
		return 0;
	}
	switch (data[0] % 3) {
	case 0:
		fuzz_config_file(data + 1, size - 1);
		break;
	case 1:
		fuzz_environment(data + 1, size - 1);
		break;
	default:
		fuzz_value_parsers(data + 1, size - 1);
		break;
	}
	return 0;
}
