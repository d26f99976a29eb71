/*
 * Finding the real BLAS/LAPACK routine behind a wrapper.
 *
 * dlsym(RTLD_NEXT) searches only the global scope after the shim, but
 * Python extension modules (numpy's included) are dlopen'ed with
 * RTLD_LOCAL, so the BLAS library they link is in a local scope that
 * RTLD_NEXT does not search. Instead every loaded object is visited with
 * dl_iterate_phdr, reopened with RTLD_NOLOAD (which only adds a reference),
 * asked with dlsym (which searches the object and its dependencies), and
 * closed again. The first definition outside the shim wins.
 *
 * dl_iterate_phdr holds the loader's list lock while its callback runs, and
 * dlopen takes the loader's main lock, so calling dlopen inside the
 * callback could deadlock against a concurrent dlopen. The callback only
 * copies names into a stack buffer; they are opened after it returns.
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "blas.h"
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

/* The base address and file name of the shim itself. */
static void
blas_resolve_self(Dl_info *self)
{
	if (dladdr((void *)blas_resolve_self, self) == 0) {
		memset(self, 0, sizeof(*self));
	}
}

/* Looks name up in the object called object_name ("" is the main program). */
static void *
blas_resolve_in(const char *object_name, const char *name, const Dl_info *self)
{
	void *handle;
	void *address;
	Dl_info where;

	if (self->dli_fname != NULL && strcmp(object_name, self->dli_fname) == 0) {
		return NULL;
	}
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
	/* The global scope, and any object linked against the shim, finds the wrapper itself. */
	if (address != NULL && dladdr(address, &where) != 0
	    && where.dli_fbase == self->dli_fbase) {
		address = NULL;
	}
	dlclose(handle);
	return address;
}

void *
blas_resolve(const char *name)
{
	blas_resolve_batch_t batch;
	Dl_info self;
	size_t skip = 0;

	blas_resolve_self(&self);
	do {
		size_t offset = 0, i;

		memset(&batch, 0, offsetof(blas_resolve_batch_t, names));
		batch.skip = skip;
		dl_iterate_phdr(blas_resolve_collect, &batch);
		for (i = 0; i < batch.copied; i++) {
			const char *object_name = batch.names + offset;
			void *address = blas_resolve_in(object_name, name, &self);

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

void *
blas_symbol_resolve(blas_symbol_t *symbol)
{
	void *address = blas_resolve(symbol->name);
	Dl_info where;
	bool expected = false;

	if (address == NULL) {
		if (!symbol->optional
		    && atomic_compare_exchange_strong(&symbol->reported, &expected, true)) {
			log_message(LOG_LEVEL_ERROR, "no loaded library defines %s: calls to it "
			    "return without computing (LAPACK routines set info to %d)",
			    symbol->name, BLAS_INFO_UNRESOLVED);
		}
		return NULL;
	}
	if (atomic_exchange(&symbol->address, address) == NULL && log_enabled(LOG_LEVEL_DEBUG)) {
		log_message(LOG_LEVEL_DEBUG, "BLAS: %s resolved in %s", symbol->name,
		    dladdr(address, &where) != 0 && where.dli_fname != NULL ? where.dli_fname
		    : "(unknown object)");
	}
	return address;
}
