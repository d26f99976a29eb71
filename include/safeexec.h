/*
 * safeexec: the opt-in C API of libsafeexec.
 *
 * The shim protects a program without any call to this API once it is
 * preloaded (LD_PRELOAD or the `safeexec` launcher). This API lets a program
 * read the shim's view of memory, temperature and CPU load and run work
 * with prediction, retries and cleanup. It also processes items in batches
 * that fit the memory left and waits until the machine is cool and idle
 * enough.
 *
 * Linking. Two ways, and the same header serves both:
 *  - Link with the library: cc prog.c $(pkg-config --cflags --libs safeexec).
 *    Linking puts the shim's malloc in the program, so it is active without
 *    LD_PRELOAD.
 *  - Build against the header only and let the library arrive by LD_PRELOAD.
 *    Define SAFEEXEC_WEAK before including this header: every function is
 *    then declared weak, stays NULL when the library is absent, and the
 *    program must call safeexec_available() first and skip the API when it
 *    returns 0.
 *
 * Conventions. Functions that return int return 0 or a positive errno value,
 * unless their comment states otherwise. Structures have fixed-size fields
 * only, so that they map directly onto Python ctypes. Every "options"
 * structure must be filled by its *_init function first, which sets the
 * defaults, and then changed field by field. Text fields are always
 * NUL-terminated, and text longer than a field is cut.
 *
 * Thread safety. Every function may be called from any thread at any time
 * after the library is loaded, unless its comment says otherwise. No
 * function may be called from a signal handler or from a cleanup hook.
 */
#ifndef SAFEEXEC_H
#define SAFEEXEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a structure or a function changes incompatibly. */
#define SAFEEXEC_API_VERSION 1

#if defined(SAFEEXEC_WEAK)
#define SAFEEXEC_DECL __attribute__((weak))
#else
#define SAFEEXEC_DECL
#endif

/* Max size of an operation type name, including the NUL. */
#define SAFEEXEC_OPERATION_MAX 48
/* Number of size parameters that a prediction can use. */
#define SAFEEXEC_PARAMS_MAX 4
/* Size of the text fields in the result structures, including the NUL. */
#define SAFEEXEC_TEXT_MAX 256

/* Returns SAFEEXEC_API_VERSION of the loaded library. */
SAFEEXEC_DECL int safeexec_api_version(void);

/*
 * Returns 1 when the library's functions can be called, 0 otherwise.
 * Without SAFEEXEC_WEAK the program cannot start without the library, so
 * this returns 1.
 */
static inline int
safeexec_available(void)
{
#if defined(SAFEEXEC_WEAK)
	return safeexec_api_version != NULL && safeexec_api_version() >= 1;
#else
	return 1;
#endif
}

/* ---------------------------------------------------------------- scope */

/*
 * Starts explicit use of the API: loads the history file (option
 * history_file, SAFEEXEC_HISTORY_FILE) and starts the counters that
 * safeexec_shutdown reports. Optional: every function also works without
 * it. Calling it again is harmless. Returns 0.
 */
SAFEEXEC_DECL int safeexec_init(void);

/*
 * Logs a summary of the API's work at info level (executions, retries,
 * batches, predictions, cleanup runs) and saves the history file. The
 * library stays usable afterwards, and the history is also saved at exit.
 * Returns 0, or an errno value when the history file could not be written
 * (the file is left as it was).
 */
SAFEEXEC_DECL int safeexec_shutdown(void);

/* --------------------------------------------------------------- status */

/* The shim's view of memory, temperature and CPU load. NaN means "not available". */
struct safeexec_status {
	int shim_active;                 /* 0 when disabled (SAFEEXEC_DISABLE) */
	int healthy;                     /* 1 when nothing below applies pressure now */
	char unhealthy_reason[SAFEEXEC_TEXT_MAX]; /* why not healthy; empty when healthy */

	uint64_t limit_bytes;            /* effective memory limit; 0 when none */
	char limit_source[32];           /* e.g. "budget", "cgroup-v2", "meminfo"; "none" */
	char limit_detail[SAFEEXEC_TEXT_MAX]; /* file or variable the limit came from */
	uint64_t usage_bytes;            /* usage counted against the limit */
	uint64_t margin_bytes;           /* kept free below the limit */
	uint64_t headroom_bytes;         /* limit - margin - usage; 0 past it; UINT64_MAX without a limit */
	uint64_t retained_bytes;         /* freed memory the allocator keeps resident for reuse */
	uint64_t footprint_bytes;        /* resident set size of the process */
	uint64_t peak_footprint_bytes;   /* highest footprint the governor sampled */
	uint64_t memtotal_bytes;
	uint64_t memavailable_bytes;

	double psi_memory_some_avg10;    /* percent; NaN without PSI */
	double psi_memory_threshold;     /* option psi_threshold, percent */
	double psi_cpu_some_avg10;       /* percent; NaN without PSI */
	double cpu_limit_percent;        /* option cpu_limit; 0 when CPU gating is off */
	double temperature_celsius;      /* NaN without a sensor */
	double thermal_limit_celsius;
	char temperature_source[SAFEEXEC_TEXT_MAX]; /* sensor, or why none */

	/* Counters since the library started. */
	uint64_t large_requests;
	uint64_t stalls;
	uint64_t stall_ms;
	uint64_t refusals;
	uint64_t cleanup_runs;
	uint64_t blas_calls;
	uint64_t blas_gated;
	uint64_t paused_ms;
	uint64_t thermal_pauses;
	uint64_t cpu_pauses;
};

/*
 * Fills *out with a fresh reading of every limit and sensor. Reads a few
 * files under /proc and /sys; does not wait. Returns 0, or EINVAL for a
 * NULL out.
 */
SAFEEXEC_DECL int safeexec_status(struct safeexec_status *out);

/* -------------------------------------------------------------- execute */

/* The caller's work: returns 0, or an errno value (ENOMEM: out of memory). */
typedef int (*safeexec_fn)(void *arg);

/*
 * The caller's workload reduction, called after an attempt failed with
 * ENOMEM (or before one when the prediction does not fit): makes the next
 * attempt need less memory, e.g. a smaller chunk or a lower precision.
 * reduction counts from 1. It may update params so that the prediction
 * follows the smaller workload. Returns 0 when it reduced the workload,
 * nonzero when nothing is left to reduce.
 */
typedef int (*safeexec_reduce_fn)(unsigned reduction, double params[SAFEEXEC_PARAMS_MAX],
    void *arg);

/* Flags for safeexec_exec_options.flags. */
#define SAFEEXEC_EXEC_NO_WAIT         0x1u /* refuse at once when the prediction does not fit */
#define SAFEEXEC_EXEC_REQUIRE_HEALTHY 0x2u /* fail with EAGAIN when still unhealthy after waiting */
#define SAFEEXEC_EXEC_NO_HISTORY      0x4u /* neither use nor record history */

struct safeexec_exec_options {
	/*
	 * Operation type for the history, e.g. "matmul"; empty: no history.
	 * Letters, digits and _ . : - are kept, other characters become _.
	 */
	char operation[SAFEEXEC_OPERATION_MAX];
	double params[SAFEEXEC_PARAMS_MAX]; /* size parameters, e.g. rows, cols */
	int param_count;                 /* 0..SAFEEXEC_PARAMS_MAX */
	uint64_t predicted_bytes;        /* caller's own estimate; 0: from history */
	unsigned max_attempts;           /* calls of fn at most; default (and 0) 3 */
	uint64_t backoff_initial_ms;     /* delay before the 2nd attempt; default 100 */
	uint64_t backoff_max_ms;         /* delay cap, doubling until it; default 5000 */
	uint64_t wait_max_ms;            /* wait for health or headroom; default stall_timeout */
	safeexec_reduce_fn reduce;       /* optional */
	void *reduce_arg;
	unsigned flags;                  /* SAFEEXEC_EXEC_* */
};

struct safeexec_exec_result {
	int error;                       /* 0, or the errno value of the final failure */
	int refused;                     /* 1 when fn was not run because the prediction did not fit */
	unsigned attempts;               /* calls of fn */
	unsigned reductions;             /* successful calls of reduce */
	unsigned cleanups;               /* cleanup runs started by this call */
	uint64_t elapsed_ms;
	uint64_t waited_ms;              /* in backoff and waiting for health or headroom */
	uint64_t predicted_bytes;        /* for the last attempt; 0 when unknown */
	char prediction_source[16];      /* "hint", "history", "none" */
	uint64_t peak_bytes;             /* measured for the last attempt */
	uint64_t peak_thread_bytes;      /* allocations on the calling thread */
	uint64_t peak_process_bytes;     /* growth of the process's resident set */
	char message[SAFEEXEC_TEXT_MAX]; /* what happened, for a log or an exception */
};

/* Fills *options with the defaults. */
SAFEEXEC_DECL void safeexec_exec_options_init(struct safeexec_exec_options *options);

/*
 * Runs fn(arg) safely:
 *  1. waits up to wait_max_ms while the system is unhealthy (as
 *     safeexec_throttle does), then goes on, or fails with EAGAIN under
 *     SAFEEXEC_EXEC_REQUIRE_HEALTHY;
 *  2. predicts the peak memory from predicted_bytes or from the history of
 *     operation with these params;
 *  3. when the prediction exceeds the headroom (plus the memory the
 *     allocator retains for reuse): runs the cleanup hooks, waits up to
 *     wait_max_ms for memory (not under SAFEEXEC_EXEC_NO_WAIT), calls
 *     reduce while it helps, and otherwise refuses: returns ENOMEM with
 *     result->refused set, without calling fn and without retrying;
 *  4. runs fn, measuring its peak memory, and records it in the history;
 *  5. on ENOMEM: runs the cleanup hooks, calls reduce, retries; on another
 *     error: retries. Every retry waits first, from backoff_initial_ms
 *     doubling to backoff_max_ms, and at most max_attempts calls are made.
 * options may be NULL for the defaults; result may be NULL.
 * Returns 0 or the errno value of the final failure (also in result->error).
 * Several threads may run this at once, but the process-wide part of the
 * measurement then includes the other threads' work.
 */
SAFEEXEC_DECL int safeexec_execute(safeexec_fn fn, void *arg,
    const struct safeexec_exec_options *options, struct safeexec_exec_result *result);

/*
 * Predicts the peak bytes of operation with params from the history alone.
 * Returns 0 when the history has no sample of it, or for a param_count
 * outside 0..SAFEEXEC_PARAMS_MAX.
 */
SAFEEXEC_DECL uint64_t safeexec_predict(const char *operation, const double *params,
    int param_count);

/*
 * Adds one measured sample to the history, as safeexec_execute does. The
 * history keeps the 32 newest samples of each of at most 64 operations.
 * Returns 0, or EINVAL for an empty operation, a param_count outside
 * 0..SAFEEXEC_PARAMS_MAX or NULL params with a param_count above 0.
 */
SAFEEXEC_DECL int safeexec_record(const char *operation, const double *params,
    int param_count, uint64_t peak_bytes);

/* ---------------------------------------------------------------- batch */

/*
 * Processes items first .. first + count - 1. Returns 0, or an errno value;
 * ENOMEM means "this batch did not fit" and makes the executor retry the
 * same items in a smaller batch. fn must leave no partial effect on ENOMEM.
 */
typedef int (*safeexec_batch_fn)(uint64_t first, uint64_t count, void *arg);

/*
 * Receives every finished batch right after it finished, in order, so the
 * caller can keep partial results. Returns 0 to go on, nonzero to stop the
 * run (safeexec_batch then returns ECANCELED; the batch counts as done).
 */
typedef int (*safeexec_checkpoint_fn)(uint64_t first, uint64_t count, void *arg);

/* Reports progress before each batch: batch_index counts from 1. */
typedef void (*safeexec_progress_fn)(uint64_t batch_index, uint64_t batches_estimated,
    uint64_t items_done, uint64_t items_total, void *arg);

struct safeexec_batch_options {
	char operation[SAFEEXEC_OPERATION_MAX]; /* history of per-item bytes; empty: none */
	uint64_t item_bytes;             /* memory per item; 0: from history or measured */
	uint64_t item_working_set_bytes; /* bytes touched per item; bounds a batch by the L3 cache */
	uint64_t batch_size;             /* first batch size; 0: automatic */
	uint64_t max_batch_size;         /* 0: no bound */
	unsigned max_attempts;           /* calls per batch, see safeexec_batch; default (and 0) 3 */
	uint64_t backoff_initial_ms;     /* default 100 */
	uint64_t backoff_max_ms;         /* default 5000 */
	uint64_t wait_max_ms;            /* wait for health or headroom per batch; default stall_timeout */
	safeexec_progress_fn progress;   /* optional */
	void *progress_arg;
	safeexec_checkpoint_fn checkpoint; /* optional */
	void *checkpoint_arg;
};

struct safeexec_batch_result {
	int error;                       /* 0, or the errno value that stopped the run */
	uint64_t items_total;
	uint64_t items_completed;        /* items 0 .. items_completed - 1 are done */
	uint64_t first_failed_item;      /* first item not done; items_total when all are */
	uint64_t batches;                /* finished batches */
	uint64_t failed_batches;         /* calls of fn that returned an error */
	uint64_t reductions;             /* times the batch size went down */
	uint64_t first_batch_size;
	uint64_t last_batch_size;
	uint64_t smallest_batch_size;
	uint64_t item_bytes;             /* per-item memory used for sizing at the end; 0 unknown */
	uint64_t cache_bound_items;      /* batch bound from the L3 cache; 0 when none */
	uint64_t l3_cache_bytes;
	uint64_t peak_bytes;             /* highest measured batch peak */
	uint64_t elapsed_ms;
	char message[SAFEEXEC_TEXT_MAX];
};

/* Fills *options with the defaults. */
SAFEEXEC_DECL void safeexec_batch_options_init(struct safeexec_batch_options *options);

/*
 * Runs fn over items 0 .. items - 1 in consecutive batches, in order, each
 * item in exactly one successful batch:
 *  - the first batch size is batch_size, or else comes from the per-item
 *    memory (item_bytes, else the history of operation) and the headroom.
 *    max_batch_size bounds every batch, and so does the L3 cache size when
 *    item_working_set_bytes is set. Without any of these the first batch
 *    has 1024 items;
 *  - before each batch it waits up to wait_max_ms for health, logs
 *    "Processing batch i/n (done/total items)" at info level, calls
 *    progress, and shrinks the batch when the headroom went down;
 *  - a batch that fails with ENOMEM runs the cleanup hooks and is retried
 *    at once with half the items, down to 1 item;
 *  - a batch of 1 item that fails with ENOMEM, and a batch that fails with
 *    another error, is retried at the same size with backoff, up to
 *    max_attempts calls, and then the run stops;
 *  - after each batch it calls checkpoint and records the measured per-item
 *    memory in the history.
 * When the run stops, result records which items completed (always a prefix,
 * 0 .. items_completed - 1) and which item failed.
 * options may be NULL for the defaults; result may be NULL.
 * Returns 0, the errno value that stopped the run, ECANCELED when the
 * checkpoint stopped it, or EINVAL for a NULL fn.
 * Several threads may run batches at once, but each sizes its batches from
 * the same headroom, so together they can need more than it.
 */
SAFEEXEC_DECL int safeexec_batch(uint64_t items, safeexec_batch_fn fn, void *arg,
    const struct safeexec_batch_options *options, struct safeexec_batch_result *result);

/*
 * Returns the L3 cache size in bytes, from hwloc, else sysfs, else 8 MiB.
 * The first call discovers the topology, which can take some milliseconds.
 */
SAFEEXEC_DECL uint64_t safeexec_l3_cache_bytes(void);

/* ------------------------------------------------------------- throttle */

/*
 * Blocks until it is safe to run heavy work. It waits while the CPU is
 * above the thermal limit or CPU pressure is above cpu_limit (the shim's
 * thermal and CPU gate). It also waits while the headroom is below the
 * safety margin or memory pressure (PSI some avg10) is above
 * psi_threshold. The headroom counts the memory the allocator retains for
 * reuse. Returns 0 when it is safe, or ETIMEDOUT when it is still unsafe
 * after max_wait_ms.
 * With max_wait_ms > 0 it first passes the shim's thermal and CPU gate,
 * whose pause can last up to thermal_max_wait or cpu_max_wait, even past
 * max_wait_ms. With max_wait_ms 0 it only checks, without waiting.
 */
SAFEEXEC_DECL int safeexec_throttle(uint64_t max_wait_ms);

/*
 * Runs the block that follows after safeexec_throttle(max_wait_ms), even
 * when it timed out. Inside the block, safeexec_throttle_rc is its result:
 *   SAFEEXEC_THROTTLED(60000) { heavy_work(); }
 * A break inside the block leaves the block.
 */
#define SAFEEXEC_THROTTLED(max_wait_ms) \
	for (int safeexec_throttle_rc = safeexec_throttle(max_wait_ms), \
	    safeexec_throttle_once_ = 1; safeexec_throttle_once_; \
	    safeexec_throttle_once_ = 0, (void)safeexec_throttle_rc)

/* -------------------------------------------------------------- cleanup */

/*
 * A cleanup hook: gives memory back (drops caches, frees pools) and returns
 * an estimate of the bytes it released, or 0.
 * It runs on the thread whose large allocation would otherwise be refused,
 * possibly inside that thread's malloc, so it must:
 *  - not take a lock that an allocating thread may hold (including locks of
 *    the program's own data structures that are held around allocations);
 *  - not wait for another thread;
 *  - not allocate much: its allocations bypass the governor;
 *  - not call any function of this API.
 */
typedef size_t (*safeexec_cleanup_fn)(void *arg);

/*
 * Registers fn with a priority and a name for the log, cut to 47 bytes.
 * Lower priorities run first, and the shim's own jemalloc purge has
 * priority 0. Hooks run in priority order before the governor refuses a
 * request. They also run before safeexec_execute refuses or retries after
 * ENOMEM, and before a batch is retried after ENOMEM. Each run is logged
 * with the bytes each hook released.
 * Returns a positive id, or -ENOSPC when 32 hooks exist, or -EINVAL for a
 * NULL fn.
 */
SAFEEXEC_DECL int safeexec_cleanup_register(safeexec_cleanup_fn fn, void *arg, int priority,
    const char *name);

/*
 * Removes hook id. A run of that hook already in progress finishes first,
 * so arg must stay valid until this returns. Returns 0 or ENOENT.
 */
SAFEEXEC_DECL int safeexec_cleanup_unregister(int id);

/* Runs every hook now, as the governor would; returns the bytes they report. */
SAFEEXEC_DECL uint64_t safeexec_cleanup_run(const char *reason);

/* ---------------------------------------------------------------- trace */

/*
 * Appends an event record named "mark" to the trace file (option
 * trace_file, SAFEEXEC_TRACE_FILE) with the detail "<event>:<detail>", or
 * "<event>" when detail is NULL or empty, e.g. ("phase", "training") gives
 * detail=phase:training. Characters that the trace format does not keep
 * become '_', and the detail is cut to 199 bytes. Does nothing when no
 * trace file is set. Allocation-free.
 */
SAFEEXEC_DECL void safeexec_trace_mark(const char *event, const char *detail);

#ifdef __cplusplus
}
#endif

#endif
