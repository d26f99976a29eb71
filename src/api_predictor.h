/*
 * The learning predictor behind safeexec_execute and safeexec_batch: a
 * fixed table of recent peak-memory samples per operation type, a fit of
 * peak bytes against the operation's size parameters, and the optional
 * history file that keeps the samples across runs.
 *
 * Only API calls use it, never the allocation path, so it may allocate and
 * use stdio, and its mutex is never taken inside malloc.
 */
#ifndef SX_API_PREDICTOR_H
#define SX_API_PREDICTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "safeexec.h"

#define PREDICTOR_TYPES_MAX 64
#define PREDICTOR_SAMPLES_MAX 32

typedef enum {
	PREDICTION_NONE,         /* no sample */
	PREDICTION_FIT,          /* least squares: peak = a + b * x */
	PREDICTION_MEAN_RATIO,   /* mean of peak / x, times x */
	PREDICTION_MEAN,         /* mean peak, when x is unusable */
} prediction_method_t;

typedef struct {
	uint64_t bytes;
	prediction_method_t method;
	unsigned samples;
} prediction_t;

/*
 * Copies operation into out, keeping letters, digits and _ . : - and
 * turning other bytes into _, cut to SAFEEXEC_OPERATION_MAX - 1 bytes.
 * Returns false when the result is empty.
 */
SX_HIDDEN bool predictor_normalize_name(const char *operation,
    char out[SAFEEXEC_OPERATION_MAX]);

/*
 * The fit's input x for a set of size parameters: the product of the
 * parameters that are above 0, or 0 when none is.
 */
SX_HIDDEN double predictor_size_of(const double *params, int param_count);

/*
 * Predicts y at x_query from n samples (x[i], y[i]). Pure; for tests.
 * Returns the prediction in bytes (0 when n is 0) and the method used.
 */
SX_HIDDEN double predictor_fit(const double *x, const double *y, size_t n, double x_query,
    prediction_method_t *method);

/* Predicts from the history of operation; method PREDICTION_NONE when it has no sample. */
SX_HIDDEN void predictor_predict(const char *operation, const double *params,
    int param_count, prediction_t *out);

/* Adds a sample; the oldest sample of the type goes when its 32 slots are full. */
SX_HIDDEN int predictor_record(const char *operation, const double *params,
    int param_count, uint64_t peak_bytes);

/*
 * First line of a history file. A non-empty file that starts otherwise
 * belongs to something else, so it is neither loaded nor overwritten. Files
 * from before the version tag, whose first line is "# safeexec history" or
 * "# safeexec history: ...", are accepted as version 1.
 */
#define PREDICTOR_HISTORY_HEADER "# safeexec history v1"

/*
 * Loads options.history_file once per process (later calls do nothing).
 * A missing file is an empty history; invalid lines are skipped and counted
 * in one warning. A file that predictor_load_file rejects gets one warning,
 * and this process then keeps its samples in memory only.
 */
SX_HIDDEN void predictor_load_once(void);

/*
 * Merges the samples of the history file at path into the table. Returns
 * the number of samples read (0 for an empty file), or a negative errno:
 *   -ELOOP   path is a symbolic link, which is never followed;
 *   -EINVAL  path is not a regular file (a directory, FIFO or device);
 *   -EEXIST  the file is not empty and does not start with the header;
 *   -errno   of open(2) otherwise, -ENOENT for a missing file.
 * After -ELOOP, -EINVAL or -EEXIST the path is rejected: predictor_save_file
 * never writes to it in this process. Only the latest rejected path is kept.
 */
SX_HIDDEN int predictor_load_file(const char *path);

/*
 * Merges this process's unsaved samples into the history file at path.
 * It takes an exclusive flock(2) on "<path>.lock", which is created if
 * missing and left in place. Under that lock it re-reads the file and
 * appends the unsaved samples. It keeps the newest PREDICTOR_SAMPLES_MAX
 * samples per type and the PREDICTOR_TYPES_MAX most recently used types,
 * then writes "<path>.tmp.<pid>" and renames it over path. Concurrent savers thus keep each other's
 * samples, and a reader never sees a partial file. Returns 0 or an errno
 * value: the codes of predictor_load_file for a rejected path (nothing is
 * written), ETIMEDOUT when the lock stayed taken for
 * PREDICTOR_HISTORY_LOCK_WAIT_MS, or the error of a failed step.
 */
SX_HIDDEN int predictor_save_file(const char *path);

#define PREDICTOR_HISTORY_LOCK_WAIT_MS 10000

/*
 * Saves to options.history_file when samples were recorded since the last
 * save. Warns once per process when the path is rejected, and on each other
 * failure. Returns what predictor_save_file returned, or 0.
 */
SX_HIDDEN int predictor_save_if_changed(void);

/* Forgets every sample; for tests. */
SX_HIDDEN void predictor_reset(void);

#endif
