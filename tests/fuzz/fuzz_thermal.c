/*
 * Fuzzes the hwmon and thermal zone readers: thermal_read_millidegrees and
 * thermal_read_line read the input as a sysfs file (through a temporary file), and
 * thermal_rank_hwmon and thermal_rank_zone rank it as a chip name, label or
 * zone type. The input is split at its first newline: chip before, label after.
 */
#include "fuzz_support.h"
#include "log.h"
#include "thermal.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_configure(LOG_LEVEL_ERROR, "");
	return 0;
}

static void
fuzz_rank(const uint8_t *data, size_t size)
{
	char *text = fuzz_terminated_copy(data, size);
	char *newline = strchr(text, '\n');
	const char *label = "";
	thermal_rank_t rank;

	if (newline != NULL) {
		*newline = '\0';
		label = newline + 1;
	}
	rank = thermal_rank_hwmon(text, label);
	if (rank > THERMAL_RANK_CPU_PACKAGE) {
		__builtin_trap();
	}
	rank = thermal_rank_zone(text);
	if (rank > THERMAL_RANK_CPU_PACKAGE) {
		__builtin_trap();
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t line_sizes[] = { 1, 2, 16, 256 };
	char path[64], *line;
	long millidegrees = 0;
	size_t i;

	fuzz_file_with(data, size, path, sizeof(path));
	if (thermal_read_millidegrees(path, &millidegrees) == 0) {
		/* The reader stops at values above 10^8 before taking a digit more. */
		if (millidegrees > 1000000009L || millidegrees < -1000000009L) {
			__builtin_trap();
		}
		(void)thermal_millidegrees_plausible(millidegrees);
	}
	for (i = 0; i < sizeof(line_sizes) / sizeof(line_sizes[0]); i++) {
		line = malloc(line_sizes[i]);
		if (line == NULL) {
			abort();
		}
		thermal_read_line(path, line, line_sizes[i]);
		if (memchr(line, '\0', line_sizes[i]) == NULL) {
			__builtin_trap();
		}
		free(line);
	}
	fuzz_rank(data, size);
	return 0;
}
