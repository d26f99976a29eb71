/*
 * BLAS/LAPACK interposition. The shim defines the names of the heavy BLAS
 * and LAPACK routines (gemm and the drivers behind numpy.linalg) in four
 * spellings each. They are the plain names (dgemm_, cblas_dgemm), the
 * 64-bit integer ones (dgemm_64_, cblas_dgemm64_), and both of these with
 * the scipy_ prefix of numpy's and scipy's wheels (scipy_dgemm_,
 * scipy_cblas_dgemm64_). Each
 * wrapper estimates the call's floating-point operations, passes the BLAS
 * gate point when the estimate is above blas_min_flops, and forwards every
 * argument unchanged to the real routine.
 *
 * The real routine is found in the loaded object that defines the same
 * name (see blas_resolve.c); numpy loads BLAS in a local scope, where
 * dlsym(RTLD_NEXT) finds nothing.
 *
 * A wrapper's name is visible to symbol lookup only while some loaded
 * object defines the real routine (see blas_exports.c), so a program that
 * probes for a BLAS finds none when none is loaded. Should a call still
 * arrive with no definition loaded, the wrapper logs an error once and
 * returns without touching its outputs; LAPACK wrappers then set *info to
 * BLAS_INFO_UNRESOLVED. It never calls NULL.
 */
#ifndef SX_BLAS_H
#define SX_BLAS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* LAPACK info of a call whose routine no loaded library defines; real LAPACK uses -1..-20. */
#define BLAS_INFO_UNRESOLVED (-1000)

/* Calling objects whose resolution a symbol keeps in its lock-free cache. */
#define BLAS_CACHE_ENTRIES 8

/* One cached resolution: callers in [caller_low, caller_high) use address. */
typedef struct {
	_Atomic uintptr_t caller_low;
	_Atomic uintptr_t caller_high;
	_Atomic(void *) address;       /* NULL: an empty entry */
} blas_cache_entry_t;

/*
 * One real routine and its resolutions for up to BLAS_CACHE_ENTRIES calling
 * objects. A seqlock guards the entries: sequence is odd while a writer
 * changes them, and a reader that sees it change takes the slow path.
 */
typedef struct {
	const char *name;
	_Atomic unsigned sequence;
	blas_cache_entry_t entries[BLAS_CACHE_ENTRIES];  /* indexed by a hash of the caller */
	_Atomic bool logged;           /* the first resolution was logged */
	_Atomic bool reported;         /* the "not found" error was logged */
	bool optional;                 /* absence is normal: log nothing */
	/* Exported wrappers only, owned by blas_exports.c under its lock: */
	void *export_entry;            /* the shim's own .dynsym entry for name */
	bool defined_elsewhere;        /* a loaded object defines name */
} blas_symbol_t;

#define BLAS_SYMBOL_INIT(NAME) { (NAME), 0, { { 0, 0, NULL } }, false, false, false, NULL, false }
#define BLAS_SYMBOL_OPTIONAL(NAME) { (NAME), 0, { { 0, 0, NULL } }, false, false, true, NULL, false }

/*
 * Counts unloads that dropped the caches. A resolution that started before
 * one may name an unloaded library, so it is not cached.
 */
SX_HIDDEN extern _Atomic unsigned long blas_unload_generation;

/*
 * In a forked child, before any other thread exists: makes every seqlock
 * that a writer held at the fork usable again, emptying its cache.
 */
SX_HIDDEN void blas_symbol_reset_after_fork(blas_symbol_t *symbol);
SX_HIDDEN void blas_symbols_reset_after_fork(void);
SX_HIDDEN void blas_threads_reset_after_fork(void);

/* Caller value for lookups made by the shim itself: any definition will do. */
#define BLAS_CALLER_ANY ((uintptr_t)0)

/* A loaded object, identified by its load address and a hash of its file name. */
typedef struct {
	uintptr_t base;
	uint64_t name_hash;
	uintptr_t low;                 /* the span of its PT_LOAD segments */
	uintptr_t high;
} blas_object_t;

/* Hash of a loaded object's file name, as dl_iterate_phdr gives it. */
SX_HIDDEN uint64_t blas_object_name_hash(const char *name);

/*
 * Finds the loaded object that contains address with _dl_find_object, which
 * takes no lock (a forked child may find dl_iterate_phdr's lock held by a
 * thread that no longer exists). Returns false when no object contains it.
 */
SX_HIDDEN bool blas_object_find(uintptr_t address, blas_object_t *out);

/*
 * Bindings of (calling object, routine) to a real address, kept like the
 * dynamic loader's own: a later library in the global scope does not take
 * over a caller that is already bound. Only an unload drops them.
 */
SX_HIDDEN void *blas_binding_find(const blas_object_t *caller, const blas_symbol_t *symbol);
/*
 * Adds a binding that owns pin (a dlopen reference, or NULL). Returns false
 * when the table is full or the object defining address is no longer loaded.
 */
SX_HIDDEN bool blas_binding_add(const blas_object_t *caller, const blas_symbol_t *symbol,
    void *address, void *pin);
/*
 * Drops the bindings whose calling or defining object is no longer loaded.
 * Their references (pin, from dlopen) are queued, because prune runs under
 * locks that a dlclose may need; blas_bindings_release_pins closes them.
 */
SX_HIDDEN void blas_bindings_prune(void);
/* Closes the queued references; call with no lock of the shim held. */
SX_HIDDEN void blas_bindings_release_pins(void);
SX_HIDDEN void blas_bindings_fork_prepare(void);
SX_HIDDEN void blas_bindings_fork_parent(void);
SX_HIDDEN void blas_bindings_fork_child(void);

/*
 * Every exported wrapper's symbol is listed in this section, which the
 * linker brackets with __start_ and __stop_ symbols; blas_exports.c walks it.
 */
#define BLAS_EXPORTS_SECTION safeexec_blas_exports
#define BLAS_EXPORTS_STRING(SECTION) #SECTION
#define BLAS_EXPORTS_NAME(SECTION) BLAS_EXPORTS_STRING(SECTION)
#define BLAS_EXPORTS_ENTRY                                                       \
	__attribute__((section(BLAS_EXPORTS_NAME(BLAS_EXPORTS_SECTION)), used))

/* A name that only the shim exports: it marks an object as a copy of the shim. */
#define BLAS_SHIM_MARKER "safeexec_api_version"

/* True when object exports BLAS_SHIM_MARKER. */
struct elf_object;
SX_HIDDEN bool blas_object_is_shim(const struct elf_object *object);

/*
 * Looks name up in every loaded object except the shim, in load order, and
 * returns the first definition, or NULL. Calls dlopen(RTLD_NOLOAD) and
 * dlsym, so it may allocate; never call it on the allocation path.
 */
SX_HIDDEN void *blas_resolve(const char *name);

/*
 * Finds what the object containing caller would bind name to without the
 * shim: the global scope after the shim, then that object's own
 * dependencies. NULL when neither defines it. *from_global is set when the
 * definition came from the global scope.
 */
SX_HIDDEN void *blas_resolve_for_caller(const char *name, uintptr_t caller, bool *from_global);

/*
 * Slow path of blas_symbol_get: the caller's binding if it has one, else
 * blas_resolve_for_caller, else blas_resolve. Binds and caches the result
 * for the calling object, and logs the outcome once.
 */
SX_HIDDEN void *blas_symbol_resolve(blas_symbol_t *symbol, uintptr_t caller);

/* Empties the symbol's cache; later calls resolve again. */
SX_HIDDEN void blas_symbol_forget(blas_symbol_t *symbol);

/*
 * Returns the real routine for a call from caller (a return address, or
 * BLAS_CALLER_ANY), or NULL when no loaded object defines it.
 */
static inline void *
blas_symbol_get(blas_symbol_t *symbol, uintptr_t caller)
{
	unsigned before = atomic_load_explicit(&symbol->sequence, memory_order_acquire);
	size_t i;

	for (i = 0; i < BLAS_CACHE_ENTRIES; i++) {
		const blas_cache_entry_t *entry = &symbol->entries[i];
		void *address = atomic_load_explicit(&entry->address, memory_order_relaxed);
		uintptr_t low = atomic_load_explicit(&entry->caller_low, memory_order_relaxed);
		uintptr_t high = atomic_load_explicit(&entry->caller_high, memory_order_relaxed);

		if (address != NULL && caller - low < high - low) {
			atomic_thread_fence(memory_order_acquire);
			if (SX_LIKELY((before & 1) == 0 && atomic_load_explicit(&symbol->sequence,
			    memory_order_relaxed) == before)) {
				return address;
			}
			break;
		}
	}
	return blas_symbol_resolve(symbol, caller);
}

/*
 * Hides every wrapper name that no loaded object defines, and registers the
 * fork handlers of the export lock. Called once from the shim's constructor.
 */
SX_HIDDEN void blas_exports_init(void);

/*
 * Bracket a dlopen that may load a BLAS. While any bracket is open, every
 * wrapper name is visible, so objects relocated during the dlopen (Python
 * loads extension modules with RTLD_NOW) bind to the wrappers. The closing
 * call hides the names that no loaded object defines.
 */
SX_HIDDEN void blas_exports_open_window(void);
SX_HIDDEN void blas_exports_close_window(void);

/*
 * After a dlclose, or a dlopen without a window: when objects were loaded or
 * unloaded since the last scan, updates the visible names. After an unload
 * it also drops every cached real address (it may point into an unmapped
 * library) and the bindings of unloaded objects.
 */
SX_HIDDEN void blas_exports_refresh(void);

/* Forgets the cached addresses of the thread-control functions (blas_threads.c). */
SX_HIDDEN void blas_threads_forget(void);

/* Nesting depth of wrapped calls on this thread (LAPACK calling BLAS through the PLT). */
SX_HIDDEN extern SX_TLS unsigned blas_depth;

/*
 * Starts a wrapped call. The outermost call on a thread is counted, and when
 * flops is above blas_min_flops it passes the BLAS gate point and adjusts
 * the BLAS library's thread count. Nested calls only count depth.
 */
SX_HIDDEN void blas_call_enter_outermost(const char *name, double flops);

static inline void
blas_call_enter(const char *name, double flops)
{
	if (blas_depth++ == 0) {
		blas_call_enter_outermost(name, flops);
	}
}

static inline void
blas_call_leave(void)
{
	blas_depth--;
}

/*
 * Clamps the BLAS library's threads to gate_worker_limit while over_limit,
 * and restores the previous count once it is not. Cheap when the state
 * does not change.
 */
SX_HIDDEN void blas_threads_update(bool over_limit);

/*
 * Floating-point operation estimates for real arithmetic (LAPACK Working
 * Note 41 counts); complex wrappers multiply by 4. Integers are the
 * routine's dimensions, already dereferenced.
 */
SX_HIDDEN double blas_flops_gemm(int64_t m, int64_t n, int64_t k);
SX_HIDDEN double blas_flops_getrf(int64_t m, int64_t n);
SX_HIDDEN double blas_flops_getri(int64_t n);
SX_HIDDEN double blas_flops_gesv(int64_t n, int64_t nrhs);
SX_HIDDEN double blas_flops_potrf(int64_t n);
SX_HIDDEN double blas_flops_geqrf(int64_t m, int64_t n);
SX_HIDDEN double blas_flops_syevd(int64_t n, char jobz);
SX_HIDDEN double blas_flops_geev(int64_t n);
SX_HIDDEN double blas_flops_gesdd(int64_t m, int64_t n, char jobz);
SX_HIDDEN double blas_flops_gelsd(int64_t m, int64_t n, int64_t nrhs);

/* Factor applied to real flop counts for complex routines. */
#define BLAS_COMPLEX_FACTOR 4.0

/*
 * One wrapper: NAME is the exported symbol, PARAMS its parenthesised
 * parameter list, ARGS the same names as an argument list, FLOPS the
 * estimate (may use the parameters), ON_MISSING a statement run when the
 * real routine is missing (e.g. setting *info).
 */
#define BLAS_WRAPPER(NAME, PARAMS, ARGS, FLOPS, ON_MISSING)                      \
	static blas_symbol_t NAME##_symbol = BLAS_SYMBOL_INIT(#NAME);            \
	static blas_symbol_t *const NAME##_export BLAS_EXPORTS_ENTRY = &NAME##_symbol; \
	SX_EXPORT void NAME PARAMS;                                              \
	SX_EXPORT void NAME PARAMS                                               \
	{                                                                        \
		void (*real) PARAMS = (void (*) PARAMS)blas_symbol_get(&NAME##_symbol, \
		    (uintptr_t)__builtin_return_address(0));                     \
                                                                                 \
		if (SX_UNLIKELY(real == NULL)) {                                 \
			ON_MISSING;                                              \
			return;                                                  \
		}                                                                \
		blas_call_enter(#NAME, (FLOPS));                                 \
		real ARGS;                                                       \
		blas_call_leave();                                               \
	}

/*
 * Instantiates ROUTINE(NAME, INT, ...) for the four Fortran spellings of
 * BASE: BASE_ and scipy_BASE_ with 32-bit integers, BASE_64_ and
 * scipy_BASE_64_ with 64-bit integers.
 */
#define BLAS_FORTRAN_SPELLINGS(ROUTINE, BASE, ...)                               \
	ROUTINE(BASE##_, int32_t, __VA_ARGS__)                                   \
	ROUTINE(BASE##_64_, int64_t, __VA_ARGS__)                                \
	ROUTINE(scipy_##BASE##_, int32_t, __VA_ARGS__)                           \
	ROUTINE(scipy_##BASE##_64_, int64_t, __VA_ARGS__)

/* A LAPACK call asking only for the workspace size (lwork = -1) does no work. */
#define BLAS_WORKSPACE_QUERY(LWORK) (*(LWORK) == -1)

#endif
