/*
 * The memory governor: decides large requests against the tightest memory
 * limit minus a safety margin. When a request would cross it: run cleanup
 * hooks (jemalloc purge first), sample again, stall with exponential backoff
 * up to options.stall_timeout_ms while memory might come back, then refuse.
 */
#ifndef SX_GOVERNOR_H
#define SX_GOVERNOR_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "common.h"
#include "mem_limits.h"

/* Start-up: discovers limit sources. Allocates; call from the constructor only. */
SX_HIDDEN void governor_init(void);

/*
 * The decision for one large request of bytes; see alloc_admit. Never
 * called with a shim lock held; never stalls in a signal handler's nested
 * allocation (a thread already inside the governor is admitted at once).
 * With may_wait false, a request that does not fit after cleanup is refused
 * at once, without a stall and without the endless-retry admission.
 */
SX_HIDDEN bool governor_admit(size_t bytes, alloc_kind_t kind, bool may_wait);

/* The governor's current reading of every source; also used by `safeexec status` and the API. */
typedef struct {
	limit_reading_t readings[LIMIT_SOURCE_COUNT];
	limit_source_t effective_source;     /* LIMIT_SOURCE_COUNT when no source has a limit */
	uint64_t effective_limit_bytes;      /* the limit with the least headroom; 0 if none */
	uint64_t effective_usage_bytes;      /* usage counted against it */
	uint64_t margin_bytes;
	uint64_t headroom_bytes;             /* limit - margin - usage, 0 when past it */
	uint64_t rss_bytes;
	uint64_t memtotal_bytes;
	uint64_t memavailable_bytes;
	psi_reading_t psi_memory;
} governor_view_t;

/* Samples every source now (bypassing the rate limit). Allocation-free. */
SX_HIDDEN void governor_read_view(governor_view_t *view);

/* Counters since start, for the exit summary, status and the API. */
typedef struct {
	uint64_t peak_footprint_bytes;       /* highest footprint seen at a sample */
	uint64_t largest_request_bytes;
	uint64_t large_requests;
	uint64_t stalls;
	uint64_t stall_ms;
	uint64_t refusals;
	uint64_t psi_waits;
	uint64_t purged_bytes;
	uint64_t forced_admissions;          /* admitted to break a caller's endless retry loop */
} governor_counters_t;

SX_HIDDEN void governor_read_counters(governor_counters_t *out);

/*
 * Computes the effective limit from readings and options (budget, margin) in
 * place. Pure: exposed so the launcher and unit tests share the policy.
 */
SX_HIDDEN void governor_apply_policy(governor_view_t *view);

/* The safety margin for a limit: options.safety_margin, at least 16 MiB, at most half the limit. */
SX_HIDDEN uint64_t governor_margin_for(uint64_t limit_bytes);

/*
 * Finds the cgroup directories once, from options.proc_root and sysfs_root.
 * Until it runs, governor_read_view reads only the budget, meminfo and PSI.
 */
SX_HIDDEN void governor_discover_limits(void);

/* pthread_atfork handlers, registered by the shim's constructor. */
SX_HIDDEN void governor_fork_prepare(void);
SX_HIDDEN void governor_fork_parent(void);
SX_HIDDEN void governor_fork_child(void);

#endif
