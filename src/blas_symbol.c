/*
 * The per-routine cache behind blas_symbol_get (see blas.h): the seqlock's
 * write side and the slow path that fills it.
 */
#include <dlfcn.h>
#include <sched.h>

#include "blas.h"
#include "log.h"

/* Yields before blas_symbol_forget assumes that the writer of an odd sequence is gone. */
#define BLAS_FORGET_SPINS_MAX 1000

/*
 * Fills one entry, replacing them in turn. Another writer in progress (an
 * odd sequence) means the call goes on uncached rather than waiting, which
 * also covers a child forked in the middle of a write.
 */
static void
blas_symbol_store(blas_symbol_t *symbol, uintptr_t low, uintptr_t high, void *address)
{
	unsigned sequence = atomic_load_explicit(&symbol->sequence, memory_order_relaxed);
	blas_cache_entry_t *entry;

	if ((sequence & 1) != 0 || !atomic_compare_exchange_strong(&symbol->sequence, &sequence,
	    sequence + 1)) {
		return;
	}
	atomic_thread_fence(memory_order_release);
	entry = &symbol->entries[atomic_fetch_add(&symbol->next_entry, 1) % BLAS_CACHE_ENTRIES];
	atomic_store_explicit(&entry->caller_low, low, memory_order_relaxed);
	atomic_store_explicit(&entry->caller_high, high, memory_order_relaxed);
	atomic_store_explicit(&entry->address, address, memory_order_relaxed);
	atomic_store_explicit(&symbol->sequence, sequence + 2, memory_order_release);
}

void
blas_symbol_forget(blas_symbol_t *symbol)
{
	unsigned sequence, spins = 0;
	size_t i;

	/* An unload must not leave a stale entry, so this writer waits for another to finish. */
	for (;;) {
		sequence = atomic_load_explicit(&symbol->sequence, memory_order_relaxed);
		if ((sequence & 1) == 0) {
			if (atomic_compare_exchange_weak(&symbol->sequence, &sequence, sequence + 1)) {
				sequence++;
				break;
			}
		} else if (++spins > BLAS_FORGET_SPINS_MAX) {
			/* The writer is gone (a child forked during its write): take its place. */
			break;
		} else {
			sched_yield();
		}
	}
	atomic_thread_fence(memory_order_release);
	for (i = 0; i < BLAS_CACHE_ENTRIES; i++) {
		atomic_store_explicit(&symbol->entries[i].address, NULL, memory_order_relaxed);
	}
	atomic_store_explicit(&symbol->sequence, sequence + 1, memory_order_release);
}

/* Finds the routine for a caller in object: its binding, else a fresh lookup that is bound. */
static void *
blas_symbol_bind(blas_symbol_t *symbol, uintptr_t caller, const blas_object_t *object)
{
	void *address = blas_binding_find(object, symbol);

	if (address != NULL) {
		return address;
	}
	address = blas_resolve_for_caller(symbol->name, caller);
	/* A caller whose scope has no definition: any loaded definition is the best guess. */
	if (address == NULL) {
		address = blas_resolve(symbol->name);
	}
	if (address != NULL) {
		blas_binding_add(object, symbol, address);
	}
	return address;
}

static void
blas_symbol_log(blas_symbol_t *symbol, void *address)
{
	bool expected = false;
	Dl_info where;

	if (address == NULL) {
		if (!symbol->optional
		    && atomic_compare_exchange_strong(&symbol->reported, &expected, true)) {
			log_message(LOG_LEVEL_ERROR, "no loaded library defines %s: calls to it "
			    "return without computing (LAPACK routines set info to %d)",
			    symbol->name, BLAS_INFO_UNRESOLVED);
		}
		return;
	}
	if (log_enabled(LOG_LEVEL_DEBUG) && atomic_compare_exchange_strong(&symbol->logged,
	    &expected, true)) {
		log_message(LOG_LEVEL_DEBUG, "BLAS: %s resolved in %s", symbol->name,
		    dladdr(address, &where) != 0 && where.dli_fname != NULL ? where.dli_fname
		    : "(unknown object)");
	}
}

void *
blas_symbol_resolve(blas_symbol_t *symbol, uintptr_t caller)
{
	blas_object_t object;
	uintptr_t low = 0, high = UINTPTR_MAX;
	void *address;

	if (caller != BLAS_CALLER_ANY && blas_object_find(caller, &object)) {
		address = blas_symbol_bind(symbol, caller, &object);
		low = object.low;
		high = object.high;
	} else {
		address = blas_resolve(symbol->name);
		if (caller != BLAS_CALLER_ANY) {
			low = caller;
			high = caller + 1;
		}
	}
	blas_symbol_log(symbol, address);
	if (address != NULL) {
		blas_symbol_store(symbol, low, high, address);
	}
	return address;
}
