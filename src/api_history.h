/*
 * Internals shared by the history file's reader (api_history.c) and its
 * writer (api_history_save.c).
 */
#ifndef SX_API_HISTORY_H
#define SX_API_HISTORY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api_predictor_table.h"
#include "common.h"

/* Serializes saves and guards the rejected path; taken before predictor_lock. */
SX_HIDDEN extern pthread_mutex_t history_save_lock;

/*
 * Reads the history file at path into types[0..capacity), whose last_use
 * stamps come from *clock. Returns what predictor_load_file returns, but
 * records no rejection. On success *mode gets the file's permission bits.
 * The caller holds whatever guards the table.
 */
SX_HIDDEN int history_read_table(const char *path, predictor_type_t *types,
    size_t capacity, uint64_t *clock, mode_t *mode);

/* True for the errors that make a path rejected: ELOOP, EINVAL and EEXIST. */
SX_HIDDEN bool history_error_rejects(int error);

/* Marks path as never to be written, for error; the caller holds history_save_lock. */
SX_HIDDEN void history_reject_locked(const char *path, int error);

/* Returns the error that rejected path, or 0; the caller holds history_save_lock. */
SX_HIDDEN int history_rejection_locked(const char *path);

/* Warns once per process that path is rejected for error; takes history_save_lock. */
SX_HIDDEN void history_warn_rejected(const char *path, int error);

#endif
