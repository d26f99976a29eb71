/*
 * Warning about SAFEEXEC_* environment variables that look like a mistyped
 * setting. SAFEEXEC_MEMORY_LIMT=4G would otherwise be ignored in silence and
 * the program would run unprotected. Only names within a small edit distance
 * of a real setting are reported, so other tools' SAFEEXEC_ variables pass.
 */
#include <stdbool.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "options_table.h"

#define OPTIONS_ENV_PREFIX "SAFEEXEC_"
/* Names longer than this are not compared, because no setting comes close. */
#define OPTIONS_ENV_NAME_MAX 64
/* Most edits (insertions, deletions, substitutions) between a typo and the setting. */
#define OPTIONS_ENV_TYPO_DISTANCE 2

extern char **environ;

/* Levenshtein distance between a (length a_length) and b, on two stack rows. */
static size_t
options_edit_distance(const char *a, size_t a_length, const char *b)
{
	size_t previous[OPTIONS_ENV_NAME_MAX + 1], current[OPTIONS_ENV_NAME_MAX + 1];
	size_t b_length = strlen(b), i, j;

	if (a_length > OPTIONS_ENV_NAME_MAX || b_length > OPTIONS_ENV_NAME_MAX) {
		return SIZE_MAX;
	}
	for (j = 0; j <= b_length; j++) {
		previous[j] = j;
	}
	for (i = 1; i <= a_length; i++) {
		current[0] = i;
		for (j = 1; j <= b_length; j++) {
			size_t substitute = previous[j - 1] + (a[i - 1] != b[j - 1]);
			size_t remove = previous[j] + 1, insert = current[j - 1] + 1;
			size_t best = substitute < remove ? substitute : remove;

			current[j] = best < insert ? best : insert;
		}
		memcpy(previous, current, (b_length + 1) * sizeof(previous[0]));
	}
	return previous[b_length];
}

/* Returns the variable name nearest to name, or NULL when none is close or name is one. */
static const char *
options_env_suggestion(const char *name, size_t length, char *best_name, size_t size)
{
	size_t best = SIZE_MAX, i;

	for (i = 0; i < option_entry_count; i++) {
		char env_name[OPTIONS_ENV_NAME_MAX + 1];
		size_t distance;

		options_env_name(option_entries[i].key, env_name, sizeof(env_name));
		distance = options_edit_distance(name, length, env_name);
		if (distance == 0) {
			return NULL;
		}
		if (distance < best) {
			size_t copied = strlen(env_name) < size ? strlen(env_name) : size - 1;

			best = distance;
			memcpy(best_name, env_name, copied);
			best_name[copied] = '\0';
		}
	}
	return best <= OPTIONS_ENV_TYPO_DISTANCE ? best_name : NULL;
}

void
options_warn_mistyped_environment(void)
{
	char **entry;

	for (entry = environ; entry != NULL && *entry != NULL; entry++) {
		const char *equals = strchr(*entry, '=');
		char suggestion[OPTIONS_ENV_NAME_MAX + 1];
		size_t length;

		if (strncmp(*entry, OPTIONS_ENV_PREFIX, strlen(OPTIONS_ENV_PREFIX)) != 0
		    || equals == NULL || strncmp(*entry, "SAFEEXEC_CONFIG=", 16) == 0) {
			continue;
		}
		length = (size_t)(equals - *entry);
		if (options_env_suggestion(*entry, length, suggestion, sizeof(suggestion)) != NULL) {
			log_message(LOG_LEVEL_WARN, "%.*s is not a setting and is ignored; did you "
			    "mean %s?", (int)length, *entry, suggestion);
		}
	}
}
