/*
 * How the governor admits the growth of an existing block (realloc and
 * rallocx). Growing in place commits the new part only. A move copies into a
 * new block while jemalloc keeps the old one's pages for reuse, so it commits
 * the whole new block. A realloc loop that grew one buffer by 1 MiB at a time
 * reached 483 MB under a 256 MB budget when only the difference was checked.
 */
#include <errno.h>

#include "alloc.h"
#include "je.h"

alloc_grow_t
alloc_grow_in_place(void *ptr, size_t old_size, size_t size, int flags)
{
	size_t new_size = sej_nallocx(size, flags);

	if (new_size == 0) {
		errno = ENOMEM;
		return ALLOC_GROW_REFUSED;
	}
	if (new_size > old_size && !alloc_admit(new_size - old_size, ALLOC_KIND_REALLOC)) {
		return ALLOC_GROW_REFUSED;
	}

	if (sej_xallocx(ptr, size, 0, flags) >= size) {
		return ALLOC_GROW_DONE;
	}

	/* The old block stays resident after the copy: admit it again for the move. */
	if (!alloc_admit(old_size, ALLOC_KIND_REALLOC)) {
		return ALLOC_GROW_REFUSED;
	}
	return ALLOC_GROW_MOVE;
}
