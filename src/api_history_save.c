/*
 * Saving the history file. Under a lock file, this merges the process's
 * unsaved samples with the samples now in the file and replaces the file
 * (see predictor_save_file in api_predictor.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_history.h"
#include "api_predictor.h"
#include "api_predictor_table.h"
#include "log.h"
#include "options.h"

/* The merge table has room for the file's types and this process's before the oldest are cut. */
#define HISTORY_MERGE_TYPES (2 * PREDICTOR_TYPES_MAX)
#define HISTORY_LOCK_POLL_MS 10

/* Orders types by last use, oldest first, so that loading the file keeps their order. */
static int
history_compare_last_use(const void *left, const void *right)
{
	const predictor_type_t *a = *(const predictor_type_t *const *)left;
	const predictor_type_t *b = *(const predictor_type_t *const *)right;

	return (a->last_use > b->last_use) - (a->last_use < b->last_use);
}

/* Fills sorted with the named types of types[0..capacity), oldest first; returns their count. */
static size_t
history_sort_types(predictor_type_t *types, size_t capacity, predictor_type_t **sorted)
{
	size_t i, count = 0;

	for (i = 0; i < capacity; i++) {
		if (types[i].name[0] != '\0') {
			sorted[count++] = &types[i];
		}
	}
	qsort(sorted, count, sizeof(*sorted), history_compare_last_use);
	return count;
}

/*
 * Appends the global table's samples with a serial above
 * predictor_saved_serial to the merge table, the most recently used types
 * last. Returns the highest serial appended, or 0.
 */
static uint64_t
history_merge_unsaved_locked(predictor_type_t *merged, uint64_t *clock)
{
	predictor_type_t *sorted[PREDICTOR_TYPES_MAX], *target;
	uint64_t newest = 0;
	size_t count = history_sort_types(predictor_types, PREDICTOR_TYPES_MAX, sorted), i;
	unsigned k;

	for (i = 0; i < count; i++) {
		target = NULL;
		for (k = 0; k < sorted[i]->count; k++) {
			const predictor_sample_t *sample = predictor_sample_at(sorted[i], k);

			if (sample->serial <= predictor_saved_serial) {
				continue;
			}
			if (target == NULL) {
				target = predictor_table_find(merged, HISTORY_MERGE_TYPES, clock,
				    sorted[i]->name, true);
			}
			predictor_insert_locked(target, sample->params, sample->param_count,
			    sample->peak_bytes, 0);
			newest = sample->serial > newest ? sample->serial : newest;
		}
	}
	return newest;
}

/* Writes the most recently used PREDICTOR_TYPES_MAX types, each type's samples oldest first. */
static int
history_write_table(FILE *file, predictor_type_t *types)
{
	predictor_type_t *sorted[HISTORY_MERGE_TYPES];
	size_t count = history_sort_types(types, HISTORY_MERGE_TYPES, sorted), t;
	unsigned k;
	int i;

	fprintf(file, PREDICTOR_HISTORY_HEADER
	    ": operation param_count p0 p1 p2 p3 peak_bytes\n");
	for (t = count > PREDICTOR_TYPES_MAX ? count - PREDICTOR_TYPES_MAX : 0; t < count; t++) {
		for (k = 0; k < sorted[t]->count; k++) {
			const predictor_sample_t *sample = predictor_sample_at(sorted[t], k);

			fprintf(file, "%s %d", sorted[t]->name, sample->param_count);
			for (i = 0; i < SAFEEXEC_PARAMS_MAX; i++) {
				fprintf(file, " %.17g", sample->params[i]);
			}
			fprintf(file, " %llu\n", (unsigned long long)sample->peak_bytes);
		}
	}
	return ferror(file) ? EIO : 0;
}

/*
 * Writes types to "<path>.tmp.<pid>" and renames it over path. The new file
 * gets the permission bits of the file it replaces, given as mode, or the
 * umask's default when mode is 0. The caller holds the lock file, so no
 * other saver uses the temporary name, and a stale file or link there is
 * removed first.
 */
static int
history_replace_file(const char *path, predictor_type_t *types, mode_t mode)
{
	char temp[OPTIONS_PATH_MAX + 32];
	FILE *file;
	int fd, error;

	if ((size_t)snprintf(temp, sizeof(temp), "%s.tmp.%d", path, (int)getpid())
	    >= sizeof(temp)) {
		return ENAMETOOLONG;
	}
	unlink(temp);
	fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0) {
		return errno;
	}
	file = mode != 0 && fchmod(fd, mode) != 0 ? NULL : fdopen(fd, "w");
	if (file == NULL) {
		error = errno;
		close(fd);
		unlink(temp);
		return error;
	}

	error = history_write_table(file, types);
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

/* Opens "<path>.lock" and takes an exclusive flock on it, waiting a bounded time. */
static int
history_lock_file(const char *path, int *lock_fd)
{
	char lock_path[OPTIONS_PATH_MAX + 8];
	struct timespec poll = { 0, HISTORY_LOCK_POLL_MS * 1000000L };
	struct stat status;
	int fd, waited_ms, error;

	if ((size_t)snprintf(lock_path, sizeof(lock_path), "%s.lock", path)
	    >= sizeof(lock_path)) {
		return ENAMETOOLONG;
	}
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0666);
	if (fd < 0) {
		return errno;
	}
	if (fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
		close(fd);
		return EINVAL;
	}
	for (waited_ms = 0;; waited_ms += HISTORY_LOCK_POLL_MS) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*lock_fd = fd;
			return 0;
		}
		error = errno;
		if (error != EWOULDBLOCK && error != EINTR) {
			break;
		}
		if (waited_ms >= PREDICTOR_HISTORY_LOCK_WAIT_MS) {
			error = ETIMEDOUT;
			break;
		}
		nanosleep(&poll, NULL);
	}
	close(fd);
	return error;
}

/* The part of predictor_save_file that runs with the lock file held. */
static int
history_merge_and_replace(const char *path)
{
	predictor_type_t *merged = calloc(HISTORY_MERGE_TYPES, sizeof(*merged));
	uint64_t clock = 0, newest;
	mode_t mode = 0;
	int loaded, error;

	if (merged == NULL) {
		return ENOMEM;
	}
	loaded = history_read_table(path, merged, HISTORY_MERGE_TYPES, &clock, &mode);
	if (loaded < 0 && loaded != -ENOENT) {
		free(merged);
		if (history_error_rejects(-loaded)) {
			history_reject_locked(path, -loaded);
		}
		return -loaded;
	}

	pthread_mutex_lock(&predictor_lock);
	newest = history_merge_unsaved_locked(merged, &clock);
	pthread_mutex_unlock(&predictor_lock);

	error = history_replace_file(path, merged, mode);
	free(merged);
	if (error == 0) {
		pthread_mutex_lock(&predictor_lock);
		predictor_saved_serial = newest > predictor_saved_serial ? newest
		    : predictor_saved_serial;
		pthread_mutex_unlock(&predictor_lock);
	}
	return error;
}

int
predictor_save_file(const char *path)
{
	int lock_fd = -1, error;

	pthread_mutex_lock(&history_save_lock);
	error = history_rejection_locked(path);
	if (error == 0) {
		error = history_lock_file(path, &lock_fd);
	}
	if (error == 0) {
		error = history_merge_and_replace(path);
		/* Closing the only descriptor of the lock file releases the flock. */
		close(lock_fd);
	}
	pthread_mutex_unlock(&history_save_lock);
	return error;
}

int
predictor_save_if_changed(void)
{
	bool unsaved, rejected;
	int error;

	if (options.history_file[0] == '\0') {
		return 0;
	}
	pthread_mutex_lock(&predictor_lock);
	unsaved = predictor_serial > predictor_saved_serial;
	pthread_mutex_unlock(&predictor_lock);
	if (!unsaved) {
		return 0;
	}

	error = predictor_save_file(options.history_file);
	pthread_mutex_lock(&history_save_lock);
	rejected = error != 0 && history_rejection_locked(options.history_file) != 0;
	pthread_mutex_unlock(&history_save_lock);
	if (rejected) {
		history_warn_rejected(options.history_file, error);
	} else if (error == ETIMEDOUT) {
		log_message(LOG_LEVEL_WARN, "history: timed out after %d ms waiting for the lock "
		    "on %s.lock, which another process holds; the file is left as it was",
		    PREDICTOR_HISTORY_LOCK_WAIT_MS, options.history_file);
	} else if (error != 0) {
		log_message(LOG_LEVEL_WARN, "history: cannot write %s (errno %d); the file is "
		    "left as it was", options.history_file, error);
	}
	return error;
}
