/*
 * The API's health check, shared by safeexec_status, safeexec_throttle,
 * safeexec_execute and safeexec_batch: the governor's view, the gate's
 * thermal and CPU readings, and the verdict "healthy now" with a reason.
 */
#ifndef SX_API_STATUS_H
#define SX_API_STATUS_H

#include <stdbool.h>

#include "common.h"
#include "gate.h"
#include "governor.h"
#include "safeexec.h"

typedef struct {
	governor_view_t view;
	gate_status_t gate;
	bool has_limit;               /* some source limits memory */
	uint64_t retained_bytes;      /* resident in jemalloc but not allocated: reusable */
	uint64_t work_headroom_bytes; /* headroom + retained; UINT64_MAX without a limit */
	bool memory_low;              /* a limit exists and work headroom < margin */
	bool memory_pressure;         /* PSI memory some avg10 > psi_threshold */
	bool too_hot;                 /* temperature >= thermal_limit */
	bool cpu_busy;                /* CPU gating on and the CPU above cpu_limit */
	bool healthy;                 /* none of the four above */
	char reason[SAFEEXEC_TEXT_MAX]; /* every failed condition with its values */
} api_health_t;

/* Reads the view and the gate's status now and judges them. Allocation-free. */
SX_HIDDEN void api_health_read(api_health_t *health);

/*
 * Memory that new work can use now without crossing the margin: the
 * governor's headroom plus the freed memory jemalloc keeps resident. A new
 * allocation reuses that memory without growing the resident set, and the
 * shim keeps freed pages until the governor purges them. Returns
 * UINT64_MAX without a limit.
 * NOTE: an estimate; fragmentation can keep part of the retained memory
 * from serving one large request. Allocation-free.
 */
SX_HIDDEN uint64_t api_work_headroom(void);

#endif
