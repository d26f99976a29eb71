/*
 * Gate points: places where heavy work (a large BLAS/LAPACK call, a large
 * allocation, an API throttle or batch step) first waits while the machine
 * is over its thermal or CPU limit.
 *
 * Thermal policy: above thermal_limit the gate is "hot" and callers wait,
 * re-reading every poll_ms, until the temperature falls to thermal_resume
 * (hysteresis shared by all threads) or thermal_max_wait passes, after which
 * the caller proceeds with a warning. CPU policy: while the load (see
 * cpu_load.h) is above cpu_limit, callers wait up to cpu_max_wait.
 *
 * One reading of each sensor is shared by all threads for poll_ms: a value
 * and a timestamp in atomics. No lock is held while a caller sleeps.
 */
#ifndef SX_GATE_H
#define SX_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

typedef enum {
	GATE_POINT_BLAS,
	GATE_POINT_ALLOCATION,
	GATE_POINT_THROTTLE,
	GATE_POINT_BATCH,
} gate_point_t;

/*
 * Picks the temperature source (libsensors may run here), counts physical
 * cores and online CPUs, and takes the first readings. Start-up only: it
 * allocates. Reads the global options, so options_load runs first. Calling
 * it again repeats the discovery (the launcher and tests do).
 */
SX_HIDDEN void gate_init(void);

/*
 * Waits while the machine is over the thermal or CPU limit, re-reading every
 * options.poll_ms, up to thermal_max_wait and then cpu_max_wait. Returns the
 * milliseconds waited. Allocation-free, holds no lock while sleeping, safe
 * from any thread, and returns 0 at once when the shim is disabled or
 * gate_init has not run. 'what' names the caller in log lines.
 */
SX_HIDDEN uint64_t gate_pass(gate_point_t point, const char *what);

/* True when the latest shared reading is over a limit (the thermal one until it falls to resume). */
SX_HIDDEN bool gate_over_limit(void);

/* Threads a BLAS library may use while over a limit: max_workers, or the physical core count. */
SX_HIDDEN unsigned gate_worker_limit(void);

/* Counts one outermost BLAS/LAPACK call seen by the wrappers. */
SX_HIDDEN void gate_count_blas_call(void);

/* Snapshot for `safeexec status` and the API. */
typedef struct {
	bool thermal_available;       /* a source exists and its latest reading was plausible */
	double celsius;               /* NaN when not available */
	char source[256];             /* e.g. "coretemp Package id 0 (hwmon2)" */
	char unavailable_reason[128]; /* set when thermal_available is false */
	double limit_celsius;
	double resume_celsius;
	bool cpu_psi_available;
	double cpu_psi_some_avg10;    /* percent; NaN without PSI */
	double load_per_cpu;          /* 1-minute load average / online CPUs; NaN when unreadable */
	double peak_celsius;          /* hottest reading since gate_init; NaN before any */
	uint64_t blas_calls;          /* outermost BLAS/LAPACK calls seen */
	uint64_t blas_gated;          /* of those, estimated above blas_min_flops and so checked */
	uint64_t paused_ms;           /* total time callers spent waiting, all gate points */
	uint64_t thermal_pauses;      /* callers that waited for the temperature */
	uint64_t cpu_pauses;          /* callers that waited for the CPU load */
	unsigned physical_cores;
} gate_status_t;

/* Fills out with fresh (or at most poll_ms old) readings and the counters. Allocation-free. */
SX_HIDDEN void gate_read_status(gate_status_t *out);

#endif
