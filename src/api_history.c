/*
 * The history file: the predictor's samples as text, one sample a line,
 *   # safeexec history v1
 *   # comment
 *   <operation> <param_count> <p0> <p1> <p2> <p3> <peak_bytes>
 * with unused parameters written as 0. Lines that do not parse are skipped,
 * so a damaged or hand-edited file costs samples, not the run. A file that
 * does not start with the header line is someone else's, so it is never
 * loaded or overwritten (see predictor_load_file). This file loads and
 * rejects; api_history_save.c merges and writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_history.h"
#include "api_predictor.h"
#include "api_predictor_table.h"
#include "log.h"
#include "options.h"

#define HISTORY_LINE_MAX 512
#define HISTORY_FIELDS 7
#define HISTORY_HEADER_LEGACY "# safeexec history"

static pthread_once_t history_once = PTHREAD_ONCE_INIT;
pthread_mutex_t history_save_lock = PTHREAD_MUTEX_INITIALIZER;
/* A path that must not be written in this process, and why (an errno value). */
static char history_rejected_path[OPTIONS_PATH_MAX];
static int history_rejected_error;
static bool history_rejection_warned;

/* Fork handlers: a child must not inherit a lock held by another thread. */
static void
history_fork_prepare(void)
{
	pthread_mutex_lock(&history_save_lock);
	pthread_mutex_lock(&predictor_lock);
}

static void
history_fork_parent(void)
{
	pthread_mutex_unlock(&predictor_lock);
	pthread_mutex_unlock(&history_save_lock);
}

static void
history_fork_child(void)
{
	pthread_mutex_init(&predictor_lock, NULL);
	pthread_mutex_init(&history_save_lock, NULL);
}

bool
history_error_rejects(int error)
{
	return error == ELOOP || error == EINVAL || error == EEXIST;
}

int
history_rejection_locked(const char *path)
{
	if (history_rejected_path[0] != '\0' && strcmp(history_rejected_path, path) == 0) {
		return history_rejected_error;
	}
	return 0;
}

void
history_warn_rejected(const char *path, int error)
{
	const char *problem = error == ELOOP ? "is a symbolic link, which safeexec does not follow"
	    : error == EINVAL ? "is not a regular file"
	    : "is not a safeexec history file (its first line is not '"
	    PREDICTOR_HISTORY_HEADER "')";

	pthread_mutex_lock(&history_save_lock);
	if (history_rejection_warned) {
		pthread_mutex_unlock(&history_save_lock);
		return;
	}
	history_rejection_warned = true;
	pthread_mutex_unlock(&history_save_lock);
	log_message(LOG_LEVEL_WARN, "history: %s %s; safeexec leaves it unchanged and keeps "
	    "this process's samples in memory only. Set SAFEEXEC_HISTORY_FILE "
	    "(--history-file) to a new path, or move the file away", path, problem);
}

void
history_reject_locked(const char *path, int error)
{
	snprintf(history_rejected_path, sizeof(history_rejected_path), "%s", path);
	history_rejected_error = error;
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
	} else if (history_error_rejects(-loaded)) {
		history_warn_rejected(options.history_file, -loaded);
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

/*
 * True for PREDICTOR_HISTORY_HEADER, and for the untagged header of older
 * versions, each alone on the line or followed by ':' or a blank.
 */
static bool
history_header_valid(const char *line)
{
	const char *rest;

	if (strncmp(line, HISTORY_HEADER_LEGACY, strlen(HISTORY_HEADER_LEGACY)) != 0) {
		return false;
	}
	rest = line + strlen(HISTORY_HEADER_LEGACY);
	if (strncmp(rest, " v1", 3) == 0) {
		rest += 3;
	}
	return rest[0] == '\0' || strchr(":\r\n \t", rest[0]) != NULL;
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

/*
 * Opens path for reading without following a symbolic link or blocking on
 * a FIFO, and checks that it is a regular file. Returns a stream or NULL
 * with *error set; *mode gets the file's permission bits.
 */
static FILE *
history_open_regular(const char *path, mode_t *mode, int *error)
{
	struct stat status;
	FILE *file;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0) {
		*error = errno;
		return NULL;
	}
	if (fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
		*error = EINVAL;
		close(fd);
		return NULL;
	}
	*mode = status.st_mode & 07777;
	file = fdopen(fd, "r");
	if (file == NULL) {
		*error = errno;
		close(fd);
	}
	return file;
}

int
history_read_table(const char *path, predictor_type_t *types, size_t capacity,
    uint64_t *clock, mode_t *mode)
{
	char line[HISTORY_LINE_MAX], name[SAFEEXEC_OPERATION_MAX];
	predictor_sample_t sample;
	int loaded = 0, invalid = 0, error = 0;
	bool first = true;
	FILE *file = history_open_regular(path, mode, &error);

	if (file == NULL) {
		return -error;
	}
	while (fgets(line, sizeof(line), file) != NULL) {
		size_t length = strlen(line);
		bool cut = length == sizeof(line) - 1 && line[length - 1] != '\n';

		if (cut) {
			history_skip_line(file);
		}
		if (first && !history_header_valid(line)) {
			fclose(file);
			return -EEXIST;
		}
		if (first) {
			first = false;
			continue;
		}
		if (cut) {
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
		predictor_insert_locked(predictor_table_find(types, capacity, clock, name, true),
		    sample.params, sample.param_count, sample.peak_bytes, 0);
		loaded++;
	}
	fclose(file);

	if (invalid > 0) {
		log_message(LOG_LEVEL_WARN, "history: skipped %d invalid lines in %s (expected "
		    "'operation param_count p0 p1 p2 p3 peak_bytes')", invalid, path);
	}
	return loaded;
}

int
predictor_load_file(const char *path)
{
	mode_t mode;
	int loaded;

	pthread_mutex_lock(&predictor_lock);
	loaded = history_read_table(path, predictor_types, PREDICTOR_TYPES_MAX,
	    &predictor_clock, &mode);
	pthread_mutex_unlock(&predictor_lock);

	if (loaded < 0 && history_error_rejects(-loaded)) {
		pthread_mutex_lock(&history_save_lock);
		history_reject_locked(path, -loaded);
		pthread_mutex_unlock(&history_save_lock);
	}
	return loaded;
}

