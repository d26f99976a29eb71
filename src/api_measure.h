/*
 * Peak memory of a piece of work run by the API. The private jemalloc
 * reports a per-thread peak: bytes allocated minus freed on the calling
 * thread since a reset. Work done on other threads, such as BLAS workers,
 * shows as growth of the process's resident set. The peak is the larger of
 * the two.
 */
#ifndef SX_API_MEASURE_H
#define SX_API_MEASURE_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

typedef struct {
	bool thread_peak_valid;       /* jemalloc's thread.peak mallctls work */
	uint64_t rss_before_bytes;
	uint64_t hwm_before_bytes;    /* VmHWM: the process's resident high-water mark */
	uint64_t start_ms;
} measure_t;

typedef struct {
	uint64_t peak_bytes;          /* max of the two below */
	uint64_t thread_peak_bytes;   /* 0 when thread.peak is unavailable */
	uint64_t process_peak_bytes;  /* resident set growth seen */
	uint64_t elapsed_ms;
} measure_result_t;

/* Starts a measurement on this thread; resets this thread's jemalloc peak. */
SX_HIDDEN void measure_start(measure_t *measure);

/* Ends it; must run on the thread that called measure_start. */
SX_HIDDEN void measure_stop(const measure_t *measure, measure_result_t *out);

/* Resets and reads jemalloc's thread.peak; false when this build lacks it. */
SX_HIDDEN bool measure_thread_peak_reset(void);
SX_HIDDEN bool measure_thread_peak_read(uint64_t *bytes);

#endif
