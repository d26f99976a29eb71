/* The bridge from the allocation entry points to the governor. */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>

#include "alloc.h"
#include "governor.h"

/* The loader's loaded range [start, end); both 0 until alloc_find_loader runs. */
static uintptr_t alloc_loader_start;
static uintptr_t alloc_loader_end;

/* __tls_get_addr is defined by the dynamic loader itself, so dladdr on it finds ld.so. */
extern void *__tls_get_addr(void *);

static int
alloc_measure_object(struct dl_phdr_info *info, size_t size, void *data)
{
	const Dl_info *loader = data;
	uintptr_t end = 0;
	int i;

	(void)size;
	if ((void *)info->dlpi_addr != loader->dli_fbase
	    && (uintptr_t)loader->dli_fbase != info->dlpi_addr + info->dlpi_phdr[0].p_vaddr) {
		return 0;
	}
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *segment = &info->dlpi_phdr[i];

		if (segment->p_type == PT_LOAD
		    && info->dlpi_addr + segment->p_vaddr + segment->p_memsz > end) {
			end = info->dlpi_addr + segment->p_vaddr + segment->p_memsz;
		}
	}
	alloc_loader_start = (uintptr_t)loader->dli_fbase;
	alloc_loader_end = end;
	return 1;
}

void
alloc_find_loader(void)
{
	Dl_info loader;

	if (dladdr((void *)__tls_get_addr, &loader) != 0 && loader.dli_fbase != NULL) {
		dl_iterate_phdr(alloc_measure_object, &loader);
	}
}

bool
alloc_called_by_loader(const void *return_address)
{
	uintptr_t address = (uintptr_t)return_address;

	return address >= alloc_loader_start && address < alloc_loader_end;
}

const char *
alloc_kind_name(alloc_kind_t kind)
{
	static const char *const names[ALLOC_KIND_COUNT] = {
		"malloc", "calloc", "realloc", "aligned allocation", "operator new",
		"mmap", "mremap", "xallocx",
	};

	return kind < ALLOC_KIND_COUNT ? names[kind] : "allocation";
}

static bool
alloc_decide(size_t bytes, alloc_kind_t kind, bool may_wait)
{
	int saved_errno = errno;

	if (!governor_admit(bytes, kind, may_wait)) {
		errno = ENOMEM;
		return false;
	}
	/* Reading limit files must not leave a stray errno behind a successful malloc. */
	errno = saved_errno;
	return true;
}

bool
alloc_admit(size_t bytes, alloc_kind_t kind)
{
	return alloc_decide(bytes, kind, true);
}

bool
alloc_admit_now(size_t bytes, alloc_kind_t kind)
{
	return alloc_decide(bytes, kind, false);
}
