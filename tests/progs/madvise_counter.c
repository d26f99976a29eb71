/*
 * A madvise wrapper for tests: preloaded after the shim, it counts the calls
 * that reach it and forwards them to libc. The count is read with
 * dlsym(RTLD_DEFAULT, "sx_madvise_counter_calls").
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdatomic.h>

static atomic_int counter_calls;

__attribute__((visibility("default"))) int
sx_madvise_counter_calls(void)
{
	return atomic_load(&counter_calls);
}

__attribute__((visibility("default"))) int
madvise(void *addr, size_t length, int advice)
{
	int (*next)(void *, size_t, int);

	atomic_fetch_add(&counter_calls, 1);
	*(void **)&next = dlsym(RTLD_NEXT, "madvise");
	return next != NULL ? next(addr, length, advice) : -1;
}
