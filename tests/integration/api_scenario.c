/* Helpers for the API tests; see api_scenario.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_scenario.h"

/* Finds "key=" at the start of a line. */
static const char *
api_output_find(const char *out, const char *key)
{
	size_t length = strlen(key);
	const char *line = out;

	while (line != NULL && *line != '\0') {
		if (strncmp(line, key, length) == 0 && line[length] == '=') {
			return line + length + 1;
		}
		line = strchr(line, '\n');
		line = line != NULL ? line + 1 : NULL;
	}
	return NULL;
}

double
api_output_value(const char *out, const char *key)
{
	const char *value = api_output_find(out, key);

	return value != NULL ? atof(value) : -1;
}

const char *
api_output_text(const char *out, const char *key, char *buffer, size_t size)
{
	const char *value = api_output_find(out, key);
	size_t length = value != NULL ? strcspn(value, "\n") : 0;

	if (length >= size) {
		length = size - 1;
	}
	memcpy(buffer, value != NULL ? value : "", length);
	buffer[length] = '\0';
	return buffer;
}

void
api_scenario_run(const char *name, const char *arg, char *const env[], run_result_t *result)
{
	char self[4096];
	ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *argv[] = { self, "--scenario", (char *)name, (char *)arg, NULL };

	ck_assert_int_gt(length, 0);
	self[length] = '\0';
	ck_assert_int_eq(test_run(argv, env, false, 120, result), 0);
	ck_assert_msg(result->exit_code == 0, "scenario %s exited with %d (signal %d)\n"
	    "stdout:\n%s\nstderr:\n%s", name, result->exit_code, result->signal, result->out,
	    result->err);
}

/* Writes one byte per page through a volatile pointer, which the compiler cannot drop. */
void
touch_pages(char *block, uint64_t bytes)
{
	volatile char *page = block;
	uint64_t i;

	for (i = 0; i < bytes; i += 4096) {
		page[i] = 1;
	}
}
