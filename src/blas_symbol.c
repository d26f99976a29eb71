/*
 * The per-routine cache behind blas_symbol_get (see blas.h): the seqlock's
 * write side and the slow path that fills it.
 */
#include <dlfcn.h>
#include <sched.h>

#include "blas.h"
#include "log.h"

_Atomic unsigned long blas_unload_generation;

extern blas_symbol_t *const __start_safeexec_blas_exports[] SX_HIDDEN;
extern blas_symbol_t *const __stop_safeexec_blas_exports[] SX_HIDDEN;

/*
 * Resolutions tried while unloads land in the middle of one, with a yield
 * between them. A result that raced an unload is still bound (the
 * binding checks that its library is loaded) but is not cached.
 */
#define BLAS_RESOLVE_ATTEMPTS 10

/* Returns the cache entry for callers in [low, high), from a hash of its first page. */
static size_t
blas_symbol_slot(uintptr_t low)
{
	return (size_t)(((uint64_t)(low >> 12) * 0x9e3779b97f4a7c15ULL) >> 61) % BLAS_CACHE_ENTRIES;
}

/*
 * Takes the write side of the seqlock and returns the odd sequence, or
 * returns 0 without it when another writer is active and waiting is not
 * wanted.
 */
static unsigned
blas_symbol_lock(blas_symbol_t *symbol, bool wait)
{
	unsigned sequence;

	for (;;) {
		sequence = atomic_load_explicit(&symbol->sequence, memory_order_relaxed);
		if ((sequence & 1) == 0) {
			if (atomic_compare_exchange_weak(&symbol->sequence, &sequence, sequence + 1)) {
				break;
			}
			continue;
		}
		if (!wait) {
			return 0;
		}
		sched_yield();
	}
	atomic_thread_fence(memory_order_release);
	return sequence + 1;
}

static void
blas_symbol_unlock(blas_symbol_t *symbol, unsigned sequence)
{
	atomic_store_explicit(&symbol->sequence, sequence + 1, memory_order_release);
}

/* Fills the caller's entry unless another writer is active or an unload came since generation. */
static void
blas_symbol_store(blas_symbol_t *symbol, uintptr_t low, uintptr_t high, void *address,
    unsigned long generation)
{
	unsigned sequence = blas_symbol_lock(symbol, false);
	blas_cache_entry_t *entry = &symbol->entries[blas_symbol_slot(low)];

	if (sequence == 0) {
		return;
	}
	/* blas_symbol_forget runs after the generation moves, so it clears anything stored before. */
	if (atomic_load(&blas_unload_generation) == generation) {
		atomic_store_explicit(&entry->caller_low, low, memory_order_relaxed);
		atomic_store_explicit(&entry->caller_high, high, memory_order_relaxed);
		atomic_store_explicit(&entry->address, address, memory_order_relaxed);
	}
	blas_symbol_unlock(symbol, sequence);
}

void
blas_symbol_forget(blas_symbol_t *symbol)
{
	unsigned sequence = blas_symbol_lock(symbol, true);
	size_t i;

	for (i = 0; i < BLAS_CACHE_ENTRIES; i++) {
		atomic_store_explicit(&symbol->entries[i].address, NULL, memory_order_relaxed);
	}
	blas_symbol_unlock(symbol, sequence);
}

void
blas_symbol_reset_after_fork(blas_symbol_t *symbol)
{
	unsigned sequence = atomic_load_explicit(&symbol->sequence, memory_order_relaxed);
	size_t i;

	/* Only the forking thread runs in the child, so a writer interrupted by the fork never ends. */
	if ((sequence & 1) == 0) {
		return;
	}
	for (i = 0; i < BLAS_CACHE_ENTRIES; i++) {
		atomic_store_explicit(&symbol->entries[i].address, NULL, memory_order_relaxed);
	}
	atomic_store_explicit(&symbol->sequence, sequence + 1, memory_order_release);
}

void
blas_symbols_reset_after_fork(void)
{
	blas_symbol_t *const *symbol;

	for (symbol = __start_safeexec_blas_exports; symbol < __stop_safeexec_blas_exports;
	    symbol++) {
		blas_symbol_reset_after_fork(*symbol);
	}
	blas_threads_reset_after_fork();
}

/*
 * Keeps the library that defines address loaded, and returns the reference
 * (NULL when none was taken). The dynamic loader records such a dependency
 * when it binds a reference to a library outside the caller's own
 * dependencies, and drops it when the caller is unloaded. Without it,
 * closing a BLAS opened with RTLD_GLOBAL would unmap it under a bound caller.
 */
static void *
blas_symbol_pin(void *address)
{
	Dl_info where;
	void *handle = NULL;

	if (dladdr(address, &where) != 0 && where.dli_fname != NULL && where.dli_fname[0] != '\0') {
		handle = dlopen(where.dli_fname, RTLD_NOLOAD | RTLD_LAZY);
		if (handle == NULL) {
			(void)dlerror();
		}
	}
	return handle;
}

static bool
blas_symbol_in_object(void *address, const blas_object_t *object)
{
	blas_object_t target;

	return blas_object_find((uintptr_t)address, &target) && target.base == object->base
	    && target.name_hash == object->name_hash;
}

/* Finds the routine for a caller in object: its binding, else a fresh lookup that is bound. */
static void *
blas_symbol_bind(blas_symbol_t *symbol, uintptr_t caller, const blas_object_t *object)
{
	void *address = blas_binding_find(object, symbol);
	void *pin = NULL;
	bool outside_scope;

	if (address != NULL) {
		return address;
	}
	address = blas_resolve_for_caller(symbol->name, caller, &outside_scope);
	/* A caller whose scope has no definition: any loaded definition is the best guess. */
	if (address == NULL) {
		address = blas_resolve(symbol->name);
		outside_scope = true;
	}
	if (address == NULL) {
		return NULL;
	}
	/* A BLAS bound to its own routine (a self-call through its PLT) must not keep itself loaded. */
	if (outside_scope && !blas_symbol_in_object(address, object)) {
		pin = blas_symbol_pin(address);
	}
	/* Not bound (table full, or an unload came meanwhile): the reference is not kept. */
	if (!blas_binding_add(object, symbol, address, pin) && pin != NULL) {
		dlclose(pin);
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

/* Resolves once for caller and stores the caller's range in range[0..1]. */
static void *
blas_symbol_lookup(blas_symbol_t *symbol, uintptr_t caller, uintptr_t range[2])
{
	blas_object_t object;

	range[0] = 0;
	range[1] = UINTPTR_MAX;
	if (caller != BLAS_CALLER_ANY && blas_object_find(caller, &object)) {
		range[0] = object.low;
		range[1] = object.high;
		return blas_symbol_bind(symbol, caller, &object);
	}
	if (caller != BLAS_CALLER_ANY) {
		range[0] = caller;
		range[1] = caller + 1;
	}
	return blas_resolve(symbol->name);
}

void *
blas_symbol_resolve(blas_symbol_t *symbol, uintptr_t caller)
{
	uintptr_t range[2];
	unsigned long generation;
	void *address = NULL;
	int attempt;

	for (attempt = 0; attempt < BLAS_RESOLVE_ATTEMPTS; attempt++) {
		generation = atomic_load(&blas_unload_generation);
		address = blas_symbol_lookup(symbol, caller, range);
		if (atomic_load(&blas_unload_generation) == generation) {
			break;
		}
		sched_yield();
	}
	blas_symbol_log(symbol, address);
	if (address != NULL) {
		blas_symbol_store(symbol, range[0], range[1], address, generation);
	}
	return address;
}
