/*
 * Every C++ operator new and delete, written in C so that the shim does not
 * pull libstdc++ into programs that have no C++ in them. On failure the
 * throwing forms call the program's new-handler and throw std::bad_alloc
 * through libstdc++'s own functions, found with dlsym only then: a program
 * that calls operator new has libstdc++ loaded.
 * The mangled names are those of the Itanium C++ ABI for a 64-bit size_t.
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>

#include "alloc.h"
#include "alloc_huge.h"
#include "je.h"
#include "log.h"

typedef void (*cxx_new_handler_t)(void);

/* std::get_new_handler() and the function that throws std::bad_alloc, in libstdc++ and libc++. */
#define CXX_GET_NEW_HANDLER "_ZSt15get_new_handlerv"
#define CXX_THROW_BAD_ALLOC "_ZSt17__throw_bad_allocv"
#define CXX_LIBCXX_THROW_BAD_ALLOC "_ZNSt3__117__throw_bad_allocEv"

static void *
cxx_allocate(size_t size, size_t alignment)
{
	void *ptr = NULL;

	if (size < ALLOC_MIN_BYTES) {
		size = ALLOC_MIN_BYTES;
	}
	if (size >= alloc_large_threshold && !alloc_admit(size, ALLOC_KIND_CXX_NEW)) {
		return NULL;
	}
	if (alignment <= 16) {
		return alloc_huge_malloc(size, false);
	}
	if (sej_posix_memalign(&ptr, alignment, size) != 0) {
		return NULL;
	}
	return ptr;
}

static SX_COLD void
cxx_throw_bad_alloc(void)
{
	void (*throw_bad_alloc)(void);

	*(void **)&throw_bad_alloc = dlsym(RTLD_DEFAULT, CXX_THROW_BAD_ALLOC);
	if (throw_bad_alloc == NULL) {
		*(void **)&throw_bad_alloc = dlsym(RTLD_DEFAULT, CXX_LIBCXX_THROW_BAD_ALLOC);
	}
	/*
	 * NOTE: a throwing operator new must not return NULL. Without a C++
	 * runtime to throw from, the only conforming outcome left is abort(),
	 * which is also what a runtime built without exceptions does.
	 */
	if (throw_bad_alloc == NULL) {
		log_message(LOG_LEVEL_ERROR, "operator new failed and neither %s nor %s "
		    "was found (no C++ runtime loaded); aborting", CXX_THROW_BAD_ALLOC,
		    CXX_LIBCXX_THROW_BAD_ALLOC);
		abort();
	}
	throw_bad_alloc();
	abort();
}

/*
 * Retries the allocation while the program has a new-handler installed,
 * as [new.delete.single] requires. Without one, the throwing forms throw
 * std::bad_alloc and the nothrow forms return NULL.
 */
static SX_COLD void *
cxx_allocate_slow(size_t size, size_t alignment, bool nothrow)
{
	cxx_new_handler_t (*get_new_handler)(void);

	for (;;) {
		void *ptr = cxx_allocate(size, alignment);
		cxx_new_handler_t handler = NULL;

		if (ptr != NULL) {
			return ptr;
		}

		*(void **)&get_new_handler = dlsym(RTLD_DEFAULT, CXX_GET_NEW_HANDLER);
		if (get_new_handler != NULL) {
			handler = get_new_handler();
		}
		if (handler == NULL) {
			break;
		}
		handler();
	}

	if (nothrow) {
		return NULL;
	}
	cxx_throw_bad_alloc();
	return NULL;
}

static inline void *
cxx_new(size_t size, size_t alignment, bool nothrow)
{
	/* libstdc++ throws std::bad_alloc for an alignment that is not a power of two. */
	if (SX_UNLIKELY((alignment & (alignment - 1)) != 0)) {
		if (!nothrow) {
			cxx_throw_bad_alloc();
		}
		return NULL;
	}
	if (SX_LIKELY(alloc_is_fast(size) && alignment <= 16)) {
		void *ptr = sej_malloc(size);

		if (SX_LIKELY(ptr != NULL)) {
			return ptr;
		}
	}
	return cxx_allocate_slow(size, alignment, nothrow);
}

/* operator new(size_t) and new[](size_t). */
SX_EXPORT void *_Znwm(size_t size) { return cxx_new(size, 0, false); }
SX_EXPORT void *_Znam(size_t size) { return cxx_new(size, 0, false); }

/* operator new(size_t, const std::nothrow_t &) and the array form. */
SX_EXPORT void *_ZnwmRKSt9nothrow_t(size_t size, const void *tag)
{ (void)tag; return cxx_new(size, 0, true); }
SX_EXPORT void *_ZnamRKSt9nothrow_t(size_t size, const void *tag)
{ (void)tag; return cxx_new(size, 0, true); }

/* operator new(size_t, std::align_val_t) and the array form. */
SX_EXPORT void *_ZnwmSt11align_val_t(size_t size, size_t alignment)
{ return cxx_new(size, alignment, false); }
SX_EXPORT void *_ZnamSt11align_val_t(size_t size, size_t alignment)
{ return cxx_new(size, alignment, false); }

/* operator new(size_t, std::align_val_t, const std::nothrow_t &), both forms. */
SX_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size,
    size_t alignment, const void *tag)
{ (void)tag; return cxx_new(size, alignment, true); }
SX_EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size,
    size_t alignment, const void *tag)
{ (void)tag; return cxx_new(size, alignment, true); }

/*
 * Every delete form frees through jemalloc's free, which finds the size and
 * alignment itself, so a wrong size from a buggy caller cannot corrupt the heap.
 */
SX_EXPORT void _ZdlPv(void *ptr) { sej_free(ptr); }
SX_EXPORT void _ZdaPv(void *ptr) { sej_free(ptr); }
SX_EXPORT void _ZdlPvm(void *ptr, size_t size) { (void)size; sej_free(ptr); }
SX_EXPORT void _ZdaPvm(void *ptr, size_t size) { (void)size; sej_free(ptr); }
SX_EXPORT void _ZdlPvRKSt9nothrow_t(void *ptr, const void *tag)
{ (void)tag; sej_free(ptr); }
SX_EXPORT void _ZdaPvRKSt9nothrow_t(void *ptr, const void *tag)
{ (void)tag; sej_free(ptr); }
SX_EXPORT void _ZdlPvSt11align_val_t(void *ptr, size_t alignment)
{ (void)alignment; sej_free(ptr); }
SX_EXPORT void _ZdaPvSt11align_val_t(void *ptr, size_t alignment)
{ (void)alignment; sej_free(ptr); }
SX_EXPORT void _ZdlPvmSt11align_val_t(void *ptr, size_t size, size_t alignment)
{ (void)size; (void)alignment; sej_free(ptr); }
SX_EXPORT void _ZdaPvmSt11align_val_t(void *ptr, size_t size, size_t alignment)
{ (void)size; (void)alignment; sej_free(ptr); }
SX_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *ptr, size_t alignment,
    const void *tag)
{ (void)alignment; (void)tag; sej_free(ptr); }
SX_EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *ptr, size_t alignment,
    const void *tag)
{ (void)alignment; (void)tag; sej_free(ptr); }
