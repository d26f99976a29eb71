/* The bridge from the allocation entry points to the governor. */
#include <errno.h>

#include "alloc.h"
#include "governor.h"

const char *
alloc_kind_name(alloc_kind_t kind)
{
	static const char *const names[ALLOC_KIND_COUNT] = {
		"malloc", "calloc", "realloc", "aligned allocation", "operator new",
		"mmap", "mremap",
	};

	return kind < ALLOC_KIND_COUNT ? names[kind] : "allocation";
}

bool
alloc_admit(size_t bytes, alloc_kind_t kind)
{
	int saved_errno = errno;

	if (!governor_admit(bytes, kind)) {
		errno = ENOMEM;
		return false;
	}
	/* Reading limit files must not leave a stray errno behind a successful malloc. */
	errno = saved_errno;
	return true;
}
