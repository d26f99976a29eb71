/* The public face of the cleanup hook registry (cleanup.h). */
#include "cleanup.h"
#include "safeexec.h"

/* Hooks pass through unchanged, so the public and internal types must match. */
_Static_assert(__builtin_types_compatible_p(safeexec_cleanup_fn, cleanup_fn_t),
    "safeexec_cleanup_fn and cleanup_fn_t differ");

SX_EXPORT int
safeexec_cleanup_register(safeexec_cleanup_fn fn, void *arg, int priority, const char *name)
{
	return cleanup_register(fn, arg, priority, name);
}

SX_EXPORT int
safeexec_cleanup_unregister(int id)
{
	return -cleanup_unregister(id);
}

SX_EXPORT uint64_t
safeexec_cleanup_run(const char *reason)
{
	return cleanup_run_all(reason != NULL ? reason : "safeexec_cleanup_run");
}
