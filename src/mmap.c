/*
 * mmap, mmap64, munmap and mremap. Anonymous mappings that commit memory
 * and are at least the large threshold are admitted by the governor like a
 * malloc; everything else is forwarded unchanged.
 */
/*
 * meson builds with _FILE_OFFSET_BITS=64, under which glibc's headers rename
 * mmap to mmap64. This file defines both names itself, so it needs the plain ones.
 */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc.h"
#include "alloc_huge.h"
#include "mmap.h"

typedef void *(*mmap_fn_t)(void *, size_t, int, int, int, off_t);
typedef int (*munmap_fn_t)(void *, size_t);
typedef void *(*mremap_fn_t)(void *, size_t, size_t, int, ...);

static _Atomic(mmap_fn_t) next_mmap;
static _Atomic(munmap_fn_t) next_munmap;
static _Atomic(mremap_fn_t) next_mremap;

void
mmap_resolve_next(void)
{
	mmap_fn_t found_mmap;
	munmap_fn_t found_munmap;
	mremap_fn_t found_mremap;

	*(void **)&found_mmap = dlsym(RTLD_NEXT, "mmap");
	*(void **)&found_munmap = dlsym(RTLD_NEXT, "munmap");
	*(void **)&found_mremap = dlsym(RTLD_NEXT, "mremap");

	atomic_store_explicit(&next_mmap, found_mmap, memory_order_release);
	atomic_store_explicit(&next_munmap, found_munmap, memory_order_release);
	atomic_store_explicit(&next_mremap, found_mremap, memory_order_release);
}

void *
sej_os_mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
	return (void *)syscall(SYS_mmap, addr, length, prot, flags, fd, offset);
}

int
sej_os_munmap(void *addr, size_t length)
{
	return (int)syscall(SYS_munmap, addr, length);
}

/* A mapping commits memory when writes to it need new anonymous pages. */
static bool
mmap_commits_memory(int prot, int flags)
{
	return (flags & MAP_ANONYMOUS) != 0 && prot != PROT_NONE
	    && (flags & MAP_NORESERVE) == 0;
}

static void *
mmap_forward(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
	mmap_fn_t next = atomic_load_explicit(&next_mmap, memory_order_acquire);

	if (next != NULL) {
		return next(addr, length, prot, flags, fd, offset);
	}
	return sej_os_mmap(addr, length, prot, flags, fd, offset);
}

SX_EXPORT void *
mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
	void *result;

	/* Lengths past PTRDIFF_MAX go straight to the kernel, which rejects them itself. */
	if (SX_UNLIKELY(length >= alloc_large_threshold) && length <= PTRDIFF_MAX
	    && mmap_commits_memory(prot, flags)
	    && !alloc_admit(length, ALLOC_KIND_MMAP)) {
		return MAP_FAILED;
	}
	result = mmap_forward(addr, length, prot, flags, fd, offset);
	if (result != MAP_FAILED) {
		alloc_huge_forget(result, length);
	}
	return result;
}

SX_EXPORT void *mmap64(void *addr, size_t length, int prot, int flags, int fd,
    off_t offset) __attribute__((alias("mmap")));

SX_EXPORT int
munmap(void *addr, size_t length)
{
	munmap_fn_t next = atomic_load_explicit(&next_munmap, memory_order_acquire);

	alloc_huge_forget(addr, length);
	if (next != NULL) {
		return next(addr, length);
	}
	return sej_os_munmap(addr, length);
}

/*
 * mremap is variadic: the fifth argument, the new address, exists only with
 * MREMAP_FIXED. Growth is admitted as new memory because the mapping's
 * kind is not known here; file mappings that grow past the threshold are rare.
 */
SX_EXPORT void *
mremap(void *old_address, size_t old_size, size_t new_size, int flags, ...)
{
	mremap_fn_t next = atomic_load_explicit(&next_mremap, memory_order_acquire);
	void *new_address = NULL;

	if ((flags & MREMAP_FIXED) != 0) {
		va_list args;

		va_start(args, flags);
		new_address = va_arg(args, void *);
		va_end(args);
	}

	if (SX_UNLIKELY(new_size > old_size) && new_size <= PTRDIFF_MAX
	    && new_size - old_size >= alloc_large_threshold
	    && !alloc_admit(new_size - old_size, ALLOC_KIND_MREMAP)) {
		return MAP_FAILED;
	}
	alloc_huge_forget(old_address, old_size);
	if (new_address != NULL) {
		alloc_huge_forget(new_address, new_size);
	}

	if (next != NULL) {
		return next(old_address, old_size, new_size, flags, new_address);
	}
	return (void *)syscall(SYS_mremap, old_address, old_size, new_size, flags,
	    new_address);
}
