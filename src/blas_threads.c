/*
 * Limiting a BLAS library's threads while the machine is over its thermal
 * or CPU limit, and restoring them afterwards. The thread-control functions
 * of OpenBLAS (in all four spellings of blas.h), BLIS and MKL are resolved
 * like the wrapped routines, from whichever loaded object defines them.
 */
#include <stdatomic.h>

#include "blas.h"
#include "gate.h"
#include "log.h"

typedef enum {
	BLAS_THREADS_IDLE,       /* threads as the library set them */
	BLAS_THREADS_CLAMPED,
	BLAS_THREADS_CHANGING,   /* one thread is clamping or restoring */
} blas_threads_state_t;

/* One library's setter and getter. BLIS counts threads in a 64-bit dim_t. */
typedef struct {
	const char *library;
	blas_symbol_t set;
	blas_symbol_t get;
	bool wide;
	int64_t saved;           /* count before clamping; 0 when not clamped */
} blas_threads_api_t;

static blas_threads_api_t blas_threads_apis[] = {
	{ "OpenBLAS", BLAS_SYMBOL_OPTIONAL("openblas_set_num_threads"),
	    BLAS_SYMBOL_OPTIONAL("openblas_get_num_threads"), false, 0 },
	{ "OpenBLAS (64-bit integers)", BLAS_SYMBOL_OPTIONAL("openblas_set_num_threads64_"),
	    BLAS_SYMBOL_OPTIONAL("openblas_get_num_threads64_"), false, 0 },
	{ "scipy-openblas", BLAS_SYMBOL_OPTIONAL("scipy_openblas_set_num_threads"),
	    BLAS_SYMBOL_OPTIONAL("scipy_openblas_get_num_threads"), false, 0 },
	{ "scipy-openblas64", BLAS_SYMBOL_OPTIONAL("scipy_openblas_set_num_threads64_"),
	    BLAS_SYMBOL_OPTIONAL("scipy_openblas_get_num_threads64_"), false, 0 },
	{ "BLIS", BLAS_SYMBOL_OPTIONAL("bli_thread_set_num_threads"),
	    BLAS_SYMBOL_OPTIONAL("bli_thread_get_num_threads"), true, 0 },
	{ "MKL", BLAS_SYMBOL_OPTIONAL("MKL_Set_Num_Threads"),
	    BLAS_SYMBOL_OPTIONAL("MKL_Get_Max_Threads"), false, 0 },
};

static _Atomic int blas_threads_state = BLAS_THREADS_IDLE;

static bool
blas_threads_read(blas_threads_api_t *api, int64_t *threads)
{
	void *get = blas_symbol_get(&api->get, BLAS_CALLER_ANY);

	if (get == NULL || blas_symbol_get(&api->set, BLAS_CALLER_ANY) == NULL) {
		return false;
	}
	*threads = api->wide ? ((int64_t (*)(void))get)() : ((int (*)(void))get)();
	return true;
}

static void
blas_threads_write(blas_threads_api_t *api, int64_t threads)
{
	void *set = blas_symbol_get(&api->set, BLAS_CALLER_ANY);

	/* The library may have been unloaded since the count was read. */
	if (set == NULL) {
		return;
	}
	if (api->wide) {
		((void (*)(int64_t))set)(threads);
	} else {
		((void (*)(int))set)((int)threads);
	}
}

static void
blas_threads_clamp(void)
{
	int64_t limit = gate_worker_limit();
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(blas_threads_apis); i++) {
		blas_threads_api_t *api = &blas_threads_apis[i];
		int64_t threads;

		/* BLIS returns -1 when no count was set; that state cannot be restored. */
		if (!blas_threads_read(api, &threads) || threads <= limit) {
			continue;
		}
		api->saved = threads;
		blas_threads_write(api, limit);
		log_message(LOG_LEVEL_INFO, "%s threads limited from %lld to %lld while over "
		    "the thermal or CPU limit", api->library, (long long)threads,
		    (long long)limit);
	}
}

static void
blas_threads_restore(void)
{
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(blas_threads_apis); i++) {
		blas_threads_api_t *api = &blas_threads_apis[i];

		if (api->saved <= 0) {
			continue;
		}
		blas_threads_write(api, api->saved);
		log_message(LOG_LEVEL_INFO, "%s threads restored to %lld", api->library,
		    (long long)api->saved);
		api->saved = 0;
	}
}

void
blas_threads_update(bool over_limit)
{
	int expected = over_limit ? BLAS_THREADS_IDLE : BLAS_THREADS_CLAMPED;

	/* The state machine lets one thread at a time change the counts; others go on. */
	if (!atomic_compare_exchange_strong(&blas_threads_state, &expected,
	    BLAS_THREADS_CHANGING)) {
		return;
	}
	if (over_limit) {
		blas_threads_clamp();
	} else {
		blas_threads_restore();
	}
	atomic_store(&blas_threads_state, over_limit ? BLAS_THREADS_CLAMPED : BLAS_THREADS_IDLE);
}

void
blas_threads_forget(void)
{
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(blas_threads_apis); i++) {
		blas_symbol_forget(&blas_threads_apis[i].set);
		blas_symbol_forget(&blas_threads_apis[i].get);
	}
}

void
blas_threads_reset_after_fork(void)
{
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(blas_threads_apis); i++) {
		blas_symbol_reset_after_fork(&blas_threads_apis[i].set);
		blas_symbol_reset_after_fork(&blas_threads_apis[i].get);
	}
}
