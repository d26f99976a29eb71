/*
 * Cleanup hooks: callbacks that give memory back, run in priority order on
 * the governor's slow path before a request is refused. The built-in hook
 * (priority 0) purges the memory jemalloc keeps for freed blocks.
 *
 * A hook runs inside the malloc of whichever thread needs memory. So it must
 * not take a lock that an allocating thread may hold, and must not wait for
 * another thread. It should not allocate much, because its allocations
 * bypass the governor. It returns an estimate of the bytes it released, or 0.
 */
#ifndef SX_CLEANUP_H
#define SX_CLEANUP_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define CLEANUP_HOOKS_MAX 32
#define CLEANUP_NAME_MAX 48

typedef size_t (*cleanup_fn_t)(void *arg);

/*
 * Registers fn; lower priority values run first. Returns a positive id,
 * or -ENOSPC when CLEANUP_HOOKS_MAX hooks exist, or -EINVAL for a NULL fn.
 */
SX_HIDDEN int cleanup_register(cleanup_fn_t fn, void *arg, int priority, const char *name);

/* Removes hook id; returns 0 or -ENOENT. A hook running now finishes first. */
SX_HIDDEN int cleanup_unregister(int id);

/*
 * Runs every hook once, in priority order, logging what each released.
 * Returns the sum of the hooks' estimates. Allocation-free; holds the
 * registry lock only while copying the list, never while a hook runs.
 */
SX_HIDDEN uint64_t cleanup_run_all(const char *reason);

/* Number of times cleanup_run_all ran, for the exit summary. */
SX_HIDDEN uint64_t cleanup_run_count(void);

/* pthread_atfork handlers, registered by the shim's constructor. */
SX_HIDDEN void cleanup_fork_prepare(void);
SX_HIDDEN void cleanup_fork_parent(void);
SX_HIDDEN void cleanup_fork_child(void);

#endif
