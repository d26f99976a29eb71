/*
 * Finding the real BLAS/LAPACK routine behind a wrapper.
 *
 * A call resolves to what the calling object would have bound to without
 * the shim: first the global scope after the shim (dlsym(RTLD_NEXT)), then
 * the caller's own dependencies (dlsym on a RTLD_NOLOAD handle of the
 * calling object). Python loads numpy's extension modules with RTLD_LOCAL,
 * so their BLAS is only in that second place, and another library loaded
 * earlier in a different local scope must not capture their calls. The
 * result is cached per calling object.
 *
 * When the caller's scope has no definition (a pointer taken with
 * dlsym(RTLD_DEFAULT), say), every loaded object is tried in load order:
 * visited with dl_iterate_phdr, reopened with RTLD_NOLOAD, asked with
 * dlsym and closed again. dl_iterate_phdr holds the loader's list lock
 * while its callback runs, and dlopen takes the loader's main lock, so the
 * callback only copies names into a stack buffer, opened after it returns.
 *
 * Definitions in any copy of the shim are skipped, so two preloaded copies
 * do not forward to each other.
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "blas.h"
#include "elf_lookup.h"
#include "log.h"

/* Names are copied in batches of this many bytes; more objects take more passes. */
#define BLAS_RESOLVE_BATCH_BYTES 4096

typedef struct {
	size_t skip;          /* objects handled by earlier passes */
	size_t seen;          /* objects visited in this pass */
	size_t copied;        /* objects whose names are in names */
	bool full;            /* the batch buffer ran out; another pass is needed */
	size_t used;
	char names[BLAS_RESOLVE_BATCH_BYTES];
} blas_resolve_batch_t;

static int
blas_resolve_collect(struct dl_phdr_info *info, size_t size, void *data)
{
	blas_resolve_batch_t *batch = data;
	const char *name = info->dlpi_name != NULL ? info->dlpi_name : "";
	size_t length = strlen(name);

	(void)size;
	if (batch->seen++ < batch->skip) {
		return 0;
	}
	if (batch->used + length + 1 > sizeof(batch->names)) {
		batch->full = true;
		return 1;
	}
	memcpy(batch->names + batch->used, name, length + 1);
	batch->used += length + 1;
	batch->copied++;
	return 0;
}

/* An address to classify, and whether a copy of the shim contains it. */
typedef struct {
	uintptr_t address;
	bool in_shim;
} blas_shim_query_t;

/* dl_iterate_phdr callback: finds the object that contains query->address. */
static int
blas_resolve_check_shim(struct dl_phdr_info *info, size_t size, void *data)
{
	blas_shim_query_t *query = data;
	elf_object_t object;

	(void)size;
	if (!elf_object_contains(info, query->address)) {
		return 0;
	}
	query->in_shim = elf_object_open(&object, info) == 0 && blas_object_is_shim(&object);
	return 1;
}

bool
blas_object_is_shim(const elf_object_t *object)
{
	const ElfW(Sym) *marker = elf_object_find(object, BLAS_SHIM_MARKER);

	return marker != NULL && elf_symbol_is_public(marker);
}

/*
 * NULL when address is a definition of this shim or of another copy of it
 * (preloaded twice, two copies would otherwise forward to each other).
 */
static void *
blas_resolve_outside(void *address)
{
	blas_shim_query_t query = { (uintptr_t)address, false };

	if (address == NULL) {
		return NULL;
	}
	dl_iterate_phdr(blas_resolve_check_shim, &query);
	return query.in_shim ? NULL : address;
}

/* Looks name up in the object called object_name ("" is the main program). */
static void *
blas_resolve_in(const char *object_name, const char *name)
{
	void *handle;
	void *address;

	/* NULL opens the main program, whose dlsym searches the global scope. */
	handle = dlopen(object_name[0] != '\0' ? object_name : NULL, RTLD_NOLOAD | RTLD_LAZY);
	if (handle == NULL) {
		(void)dlerror();
		return NULL;
	}
	address = dlsym(handle, name);
	if (address == NULL) {
		(void)dlerror();
	}
	/* The global scope, and any object linked against the shim, finds a wrapper. */
	address = blas_resolve_outside(address);
	dlclose(handle);
	return address;
}

void *
blas_resolve(const char *name)
{
	blas_resolve_batch_t batch;
	size_t skip = 0;

	do {
		size_t offset = 0, i;

		memset(&batch, 0, offsetof(blas_resolve_batch_t, names));
		batch.skip = skip;
		dl_iterate_phdr(blas_resolve_collect, &batch);
		for (i = 0; i < batch.copied; i++) {
			const char *object_name = batch.names + offset;
			void *address = blas_resolve_in(object_name, name);

			if (address != NULL) {
				return address;
			}
			offset += strlen(object_name) + 1;
		}
		skip += batch.copied;
		/* A name longer than the whole buffer is skipped. */
		if (batch.full && batch.copied == 0) {
			skip++;
		}
	} while (batch.full);
	return NULL;
}

/* FNV-1a over a file name, to distinguish objects loaded one after another at one address. */
uint64_t
blas_object_name_hash(const char *name)
{
	uint64_t hash = 14695981039346656037ULL;

	for (; name != NULL && *name != '\0'; name++) {
		hash = (hash ^ (unsigned char)*name) * 1099511628211ULL;
	}
	return hash;
}

bool
blas_object_find(uintptr_t address, blas_object_t *out)
{
	struct dl_find_object found;

	memset(out, 0, sizeof(*out));
	if (_dl_find_object((void *)address, &found) != 0 || found.dlfo_link_map == NULL) {
		return false;
	}
	out->base = found.dlfo_link_map->l_addr;
	out->name_hash = blas_object_name_hash(found.dlfo_link_map->l_name);
	out->low = (uintptr_t)found.dlfo_map_start;
	out->high = (uintptr_t)found.dlfo_map_end;
	return true;
}

void *
blas_resolve_for_caller(const char *name, uintptr_t caller, bool *from_global)
{
	struct dl_find_object found;
	struct link_map *map;
	void *address, *handle;

	*from_global = false;
	if (_dl_find_object((void *)caller, &found) != 0 || found.dlfo_link_map == NULL) {
		return NULL;
	}
	map = found.dlfo_link_map;
	address = blas_resolve_outside(dlsym(RTLD_NEXT, name));
	if (address != NULL) {
		*from_global = true;
		return address;
	}
	handle = dlopen(map->l_name != NULL && map->l_name[0] != '\0' ? map->l_name : NULL,
	    RTLD_NOLOAD | RTLD_LAZY);
	if (handle == NULL) {
		(void)dlerror();
		return NULL;
	}
	address = blas_resolve_outside(dlsym(handle, name));
	dlclose(handle);
	return address;
}
