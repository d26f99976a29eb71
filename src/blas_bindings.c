/*
 * Bindings of (calling object, routine) to a real address (see blas.h). The
 * dynamic loader binds an object's reference once, so a BLAS loaded later
 * with RTLD_GLOBAL does not take over callers that are already bound. The
 * wrappers keep that rule with this table, which only the slow path reads.
 */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

#include "blas.h"

/* Maximum number of bindings. Past it, calls still resolve but are not bound. */
#define BLAS_BINDINGS_MAX 2048

typedef struct {
	blas_object_t caller;
	const blas_symbol_t *symbol;
	void *address;
	void *pin;                     /* a dlopen reference to target, or NULL */
	blas_object_t target;          /* the object that defines address */
	bool caller_loaded;            /* scratch for blas_bindings_prune */
	bool target_loaded;
} blas_binding_t;

/* Lock for the table, held across a call into the dynamic loader only in prune. */
static pthread_mutex_t blas_bindings_lock = PTHREAD_MUTEX_INITIALIZER;
static blas_binding_t blas_bindings[BLAS_BINDINGS_MAX];
static size_t blas_binding_count;
/* References of pruned bindings, waiting for blas_bindings_release_pins. */
static void *blas_pins_to_release[BLAS_BINDINGS_MAX];
static size_t blas_pins_to_release_count;
/* The thread that is releasing references: a dlclose it makes must not start another release. */
static SX_TLS bool blas_pins_releasing;

static bool
blas_object_same(const blas_object_t *a, const blas_object_t *b)
{
	return a->base == b->base && a->name_hash == b->name_hash;
}

void *
blas_binding_find(const blas_object_t *caller, const blas_symbol_t *symbol)
{
	void *address = NULL;
	size_t i;

	pthread_mutex_lock(&blas_bindings_lock);
	for (i = 0; i < blas_binding_count && address == NULL; i++) {
		if (blas_bindings[i].symbol == symbol && blas_object_same(&blas_bindings[i].caller,
		    caller)) {
			address = blas_bindings[i].address;
		}
	}
	pthread_mutex_unlock(&blas_bindings_lock);
	return address;
}

bool
blas_binding_add(const blas_object_t *caller, const blas_symbol_t *symbol, void *address,
    void *pin)
{
	blas_binding_t binding;
	blas_object_t now;
	bool added = false;

	memset(&binding, 0, sizeof(binding));
	binding.caller = *caller;
	binding.symbol = symbol;
	binding.address = address;
	binding.pin = pin;
	if (!blas_object_find((uintptr_t)address, &binding.target)) {
		return false;
	}
	pthread_mutex_lock(&blas_bindings_lock);
	/*
	 * Every unload is followed by blas_bindings_prune, under this lock. So a
	 * target still loaded here is either kept or pruned later, never left
	 * dangling. Two threads may race to bind one pair; either result is valid.
	 */
	if (blas_binding_count < BLAS_BINDINGS_MAX && blas_object_find((uintptr_t)address, &now)
	    && blas_object_same(&now, &binding.target)) {
		blas_bindings[blas_binding_count++] = binding;
		added = true;
	}
	pthread_mutex_unlock(&blas_bindings_lock);
	return added;
}

/* dl_iterate_phdr callback: marks the bindings whose objects are still loaded. */
static int
blas_bindings_mark(struct dl_phdr_info *info, size_t size, void *data)
{
	blas_object_t object;
	size_t i;

	(void)size;
	(void)data;
	memset(&object, 0, sizeof(object));
	object.base = info->dlpi_addr;
	object.name_hash = blas_object_name_hash(info->dlpi_name);
	for (i = 0; i < blas_binding_count; i++) {
		blas_bindings[i].caller_loaded |= blas_object_same(&blas_bindings[i].caller, &object);
		blas_bindings[i].target_loaded |= blas_object_same(&blas_bindings[i].target, &object);
	}
	return 0;
}

void
blas_bindings_prune(void)
{
	size_t i, survivors = 0;

	pthread_mutex_lock(&blas_bindings_lock);
	for (i = 0; i < blas_binding_count; i++) {
		blas_bindings[i].caller_loaded = false;
		blas_bindings[i].target_loaded = false;
	}
	dl_iterate_phdr(blas_bindings_mark, NULL);
	for (i = 0; i < blas_binding_count; i++) {
		if (blas_bindings[i].caller_loaded && blas_bindings[i].target_loaded) {
			blas_bindings[survivors++] = blas_bindings[i];
		} else if (blas_bindings[i].pin != NULL
		    && blas_pins_to_release_count < BLAS_BINDINGS_MAX) {
			blas_pins_to_release[blas_pins_to_release_count++] = blas_bindings[i].pin;
		}
	}
	blas_binding_count = survivors;
	pthread_mutex_unlock(&blas_bindings_lock);
}

void
blas_bindings_release_pins(void)
{
	if (blas_pins_releasing) {
		return;
	}
	blas_pins_releasing = true;
	for (;;) {
		void *pin = NULL;

		pthread_mutex_lock(&blas_bindings_lock);
		if (blas_pins_to_release_count > 0) {
			pin = blas_pins_to_release[--blas_pins_to_release_count];
		}
		pthread_mutex_unlock(&blas_bindings_lock);
		if (pin == NULL) {
			break;
		}
		/* The interposed dlclose: an unload it causes is scanned like any other. */
		dlclose(pin);
	}
	blas_pins_releasing = false;
}

void
blas_bindings_fork_prepare(void)
{
	pthread_mutex_lock(&blas_bindings_lock);
}

void
blas_bindings_fork_parent(void)
{
	pthread_mutex_unlock(&blas_bindings_lock);
}

void
blas_bindings_fork_child(void)
{
	pthread_mutex_unlock(&blas_bindings_lock);
}
