/*
 * The shim's log: one line per message, in the form
 *   YYYY-MM-DD HH:MM:SS - safeexec - LEVEL - message
 * formatted on the stack and written with write(2), so logging is safe on
 * the allocation path. Lines go to stderr, or are appended to a file that is
 * opened and closed for each line, so the shim keeps no descriptor that the
 * program could close or reuse.
 */
#ifndef SX_LOG_H
#define SX_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

typedef enum {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
} log_level_t;

/* Max length of one formatted line, including the prefix; longer messages are cut. */
#define LOG_LINE_MAX 1024

/*
 * Sets the level and destination. path NULL or empty means stderr. Captures
 * the local time zone offset, which may allocate, so call it from start-up
 * only. Before it runs, warnings and errors go to stderr with UTC times.
 */
SX_HIDDEN void log_configure(log_level_t level, const char *path);

SX_HIDDEN bool log_enabled(log_level_t level);

/* Writes one line if level is enabled and the global rate limit allows it. */
SX_HIDDEN void log_message(log_level_t level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Writes one line if level is enabled, bypassing the global rate limit. For
 * the few lines that must never be dropped: activation and the exit summary.
 */
SX_HIDDEN void log_message_always(log_level_t level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Writes one line if level is enabled and at least interval_ms have passed
 * since this limiter last let a line through. Lines held back are counted
 * and the count is appended to the next line that passes.
 */
typedef struct {
	_Atomic uint64_t last_ms;
	_Atomic uint64_t suppressed;
} log_limiter_t;

SX_HIDDEN void log_limited(log_limiter_t *limiter, uint64_t interval_ms,
    log_level_t level, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* Milliseconds from CLOCK_MONOTONIC; a syscall-free vDSO call. */
SX_HIDDEN uint64_t log_monotonic_ms(void);

/* Parses "error", "warn", "info" or "debug" (any case); returns -1 for others. */
SX_HIDDEN int log_parse_level(const char *text);

SX_HIDDEN const char *log_level_name(log_level_t level);

#endif
