/*
 * The history file: the predictor's samples as text, one sample a line,
 *   # comment
 *   <operation> <param_count> <p0> <p1> <p2> <p3> <peak_bytes>
 * with unused parameters written as 0. Lines that do not parse are skipped,
 * so a damaged or hand-edited file costs samples, not the run.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_predictor.h"
#include "api_predictor_table.h"
#include "log.h"
#include "options.h"

#define HISTORY_LINE_MAX 512
#define HISTORY_FIELDS 7

static pthread_once_t history_once = PTHREAD_ONCE_INIT;

/* Fork handlers: a child must not inherit the lock held by another thread. */
static void
history_fork_prepare(void)
{
	pthread_mutex_lock(&predictor_lock);
}

static void
history_fork_parent(void)
{
	pthread_mutex_unlock(&predictor_lock);
}

static void
history_fork_child(void)
{
	pthread_mutex_init(&predictor_lock, NULL);
}

static void
history_load_configured(void)
{
	int loaded;

	pthread_atfork(history_fork_prepare, history_fork_parent, history_fork_child);
	if (options.history_file[0] == '\0') {
		return;
	}
	loaded = predictor_load_file(options.history_file);
	if (loaded >= 0) {
		log_message(LOG_LEVEL_DEBUG, "history: loaded %d samples from %s", loaded,
		    options.history_file);
	} else if (loaded != -ENOENT) {
		log_message(LOG_LEVEL_WARN, "history: cannot open %s (errno %d); starting with "
		    "an empty history", options.history_file, -loaded);
	}
}

void
predictor_load_once(void)
{
	pthread_once(&history_once, history_load_configured);
}

static bool
history_parse_double(const char *text, double *value)
{
	char *end;

	errno = 0;
	*value = strtod(text, &end);
	return errno == 0 && *end == '\0' && end != text && isfinite(*value) && *value >= 0;
}

static bool
history_parse_u64(const char *text, uint64_t *value)
{
	char *end;

	if (text[0] < '0' || text[0] > '9') {
		return false;
	}
	errno = 0;
	*value = strtoull(text, &end, 10);
	return errno == 0 && *end == '\0';
}

/* Parses one line into a sample and its normalized name; false for an invalid line. */
static bool
history_parse_line(char *line, char name[SAFEEXEC_OPERATION_MAX],
    predictor_sample_t *sample)
{
	char *fields[HISTORY_FIELDS], *save = NULL, *field;
	uint64_t count;
	int n = 0, i;

	for (field = strtok_r(line, " \t\r\n", &save); field != NULL;
	    field = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == HISTORY_FIELDS) {
			return false;
		}
		fields[n++] = field;
	}
	if (n != HISTORY_FIELDS || !predictor_normalize_name(fields[0], name)
	    || strcmp(name, fields[0]) != 0) {
		return false;
	}
	if (!history_parse_u64(fields[1], &count) || count > SAFEEXEC_PARAMS_MAX) {
		return false;
	}
	sample->param_count = (int)count;
	for (i = 0; i < SAFEEXEC_PARAMS_MAX; i++) {
		if (!history_parse_double(fields[2 + i], &sample->params[i])) {
			return false;
		}
	}
	return history_parse_u64(fields[6], &sample->peak_bytes) && sample->peak_bytes > 0;
}

/* Reads the rest of a line that did not fit the buffer. */
static void
history_skip_line(FILE *file)
{
	int c;

	do {
		c = fgetc(file);
	} while (c != EOF && c != '\n');
}

int
predictor_load_file(const char *path)
{
	char line[HISTORY_LINE_MAX], name[SAFEEXEC_OPERATION_MAX];
	predictor_sample_t sample;
	int loaded = 0, invalid = 0;
	FILE *file = fopen(path, "re");

	if (file == NULL) {
		return -errno;
	}
	while (fgets(line, sizeof(line), file) != NULL) {
		size_t length = strlen(line);

		if (length == sizeof(line) - 1 && line[length - 1] != '\n') {
			history_skip_line(file);
			invalid++;
			continue;
		}
		if (line[strspn(line, " \t\r\n")] == '\0' || line[strspn(line, " \t")] == '#') {
			continue;
		}
		memset(&sample, 0, sizeof(sample));
		if (!history_parse_line(line, name, &sample)) {
			invalid++;
			continue;
		}
		pthread_mutex_lock(&predictor_lock);
		predictor_insert_locked(predictor_find_locked(name, true), sample.params,
		    sample.param_count, sample.peak_bytes);
		pthread_mutex_unlock(&predictor_lock);
		loaded++;
	}
	fclose(file);

	if (invalid > 0) {
		log_message(LOG_LEVEL_WARN, "history: skipped %d invalid lines in %s (expected "
		    "'operation param_count p0 p1 p2 p3 peak_bytes')", invalid, path);
	}
	return loaded;
}

/* Writes every type's samples, oldest first, so loading them keeps their order. */
static int
history_write_locked(FILE *file)
{
	size_t t;
	unsigned k;
	int i;

	fprintf(file, "# safeexec history: operation param_count p0 p1 p2 p3 peak_bytes\n");
	for (t = 0; t < PREDICTOR_TYPES_MAX; t++) {
		const predictor_type_t *type = &predictor_types[t];

		for (k = 0; type->name[0] != '\0' && k < type->count; k++) {
			const predictor_sample_t *sample = &type->samples[(type->next
			    + PREDICTOR_SAMPLES_MAX - type->count + k) % PREDICTOR_SAMPLES_MAX];

			fprintf(file, "%s %d", type->name, sample->param_count);
			for (i = 0; i < SAFEEXEC_PARAMS_MAX; i++) {
				fprintf(file, " %.17g", sample->params[i]);
			}
			fprintf(file, " %llu\n", (unsigned long long)sample->peak_bytes);
		}
	}
	return ferror(file) ? EIO : 0;
}

int
predictor_save_file(const char *path)
{
	char temp[OPTIONS_PATH_MAX + 32];
	FILE *file;
	int error;

	if ((size_t)snprintf(temp, sizeof(temp), "%s.tmp.%d", path, (int)getpid())
	    >= sizeof(temp)) {
		return ENAMETOOLONG;
	}
	file = fopen(temp, "we");
	if (file == NULL) {
		return errno;
	}

	pthread_mutex_lock(&predictor_lock);
	error = history_write_locked(file);
	pthread_mutex_unlock(&predictor_lock);

	if (fflush(file) != 0 && error == 0) {
		error = errno;
	}
	if (error == 0 && fsync(fileno(file)) != 0) {
		error = errno;
	}
	if (fclose(file) != 0 && error == 0) {
		error = errno;
	}
	if (error == 0 && rename(temp, path) != 0) {
		error = errno;
	}
	if (error != 0) {
		unlink(temp);
	}
	return error;
}

int
predictor_save_if_changed(void)
{
	bool dirty;
	int error;

	if (options.history_file[0] == '\0') {
		return 0;
	}
	pthread_mutex_lock(&predictor_lock);
	dirty = predictor_dirty;
	predictor_dirty = false;
	pthread_mutex_unlock(&predictor_lock);
	if (!dirty) {
		return 0;
	}

	error = predictor_save_file(options.history_file);
	if (error != 0) {
		pthread_mutex_lock(&predictor_lock);
		predictor_dirty = true;
		pthread_mutex_unlock(&predictor_lock);
		log_message(LOG_LEVEL_WARN, "history: cannot write %s (errno %d); the file is "
		    "left as it was", options.history_file, error);
	}
	return error;
}
