/*
 * Interposed dlopen and dlclose. They keep the BLAS wrapper names visible
 * during a dlopen and update them afterwards (blas_exports.c).
 *
 * glibc's dlopen reads its return address to find the caller's namespace,
 * DT_RPATH, DT_RUNPATH and $ORIGIN. So dlopen only calls blas_dlopen_route
 * for the target, and jumps there with the caller's return address still
 * on the stack. The shim calls the real dlopen itself only when the caller
 * cannot change the result. That is a path with a slash and no $, or a bare
 * name from an object with no search path of its own, in the base namespace.
 *
 * TODO: a bare name from an object without a search path, loaded by one
 * with a DT_RPATH, is searched without that loader's DT_RPATH.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdatomic.h>
#include <string.h>

#include "blas.h"
#include "elf_lookup.h"
#include "log.h"

typedef void *(*blas_dlopen_fn)(const char *file, int flags);
typedef int (*blas_dlclose_fn)(void *handle);

/* dlopen calls in progress on this thread through blas_dlopen_bracketed. */
static SX_TLS unsigned blas_dlopen_depth;

/* The real dlopen and dlclose, found on first use. */
static _Atomic(void *) blas_dlopen_next;
static _Atomic(void *) blas_dlclose_next;

/* Stands in for a real dlopen or dlclose that could not be found, so NULL is never called. */
static void *
blas_dlopen_missing(const char *file, int flags)
{
	(void)file;
	(void)flags;
	errno = ENOSYS;
	return NULL;
}

static int
blas_dlclose_missing(void *handle)
{
	(void)handle;
	return -1;
}

/* Returns the cached next definition of name after the shim, or fallback when there is none. */
static void *
blas_dlopen_next_definition(_Atomic(void *) *cache, const char *name, void *fallback)
{
	void *next = atomic_load_explicit(cache, memory_order_acquire);

	if (SX_LIKELY(next != NULL)) {
		return next;
	}
	next = dlsym(RTLD_NEXT, name);
	if (next == NULL) {
		log_message(LOG_LEVEL_ERROR, "dlsym(RTLD_NEXT, \"%s\") found nothing: "
		    "%s calls fail", name, name);
		next = fallback;
	}
	atomic_store_explicit(cache, next, memory_order_release);
	return next;
}

static blas_dlopen_fn
blas_dlopen_real(void)
{
	return (blas_dlopen_fn)blas_dlopen_next_definition(&blas_dlopen_next, "dlopen",
	    (void *)blas_dlopen_missing);
}

static blas_dlclose_fn
blas_dlclose_real(void)
{
	return (blas_dlclose_fn)blas_dlopen_next_definition(&blas_dlclose_next, "dlclose",
	    (void *)blas_dlclose_missing);
}

/* True when the real dlopen would find the same file whether caller or the shim calls it. */
static bool
blas_dlopen_caller_irrelevant(const char *file, const void *caller)
{
	struct link_map *map = NULL;
	Lmid_t namespace_id = LM_ID_BASE;
	Dl_info where;

	if (strchr(file, '$') != NULL
	    || dladdr1(caller, &where, (void **)&map, RTLD_DL_LINKMAP) == 0 || map == NULL
	    || dlinfo(map, RTLD_DI_LMID, &namespace_id) != 0 || namespace_id != LM_ID_BASE) {
		return false;
	}
	return strchr(file, '/') != NULL || !elf_dynamic_has_search_path(map->l_ld);
}

/* The real dlopen between the two halves of a BLAS export window, when it may load objects. */
static void *
blas_dlopen_bracketed(const char *file, int flags)
{
	void *handle, *loaded;
	int saved_errno;

	/*
	 * Opening an object that is already loaded loads nothing, so no window
	 * is needed. The extra reference keeps another thread from unloading it
	 * in between.
	 */
	loaded = blas_dlopen_real()(file, RTLD_LAZY | RTLD_NOLOAD);
	if (loaded != NULL) {
		handle = blas_dlopen_real()(file, flags);
		saved_errno = errno;
		blas_dlclose_real()(loaded);
		errno = saved_errno;
		return handle;
	}
	blas_dlopen_depth++;
	blas_exports_open_window();
	handle = blas_dlopen_real()(file, flags);
	saved_errno = errno;
	blas_exports_close_window();
	blas_dlopen_depth--;
	if (blas_dlopen_depth == 0) {
		blas_bindings_release_pins();
	}
	errno = saved_errno;
	return handle;
}

/*
 * Called by dlopen with its arguments and return address; returns the
 * function that dlopen jumps to with the same arguments. No window is
 * opened for dlopen(NULL), RTLD_NOLOAD, calls made while this thread is
 * already inside a window (constructors of the objects being loaded), and
 * calls whose result depends on the caller.
 */
SX_HIDDEN blas_dlopen_fn blas_dlopen_route(const char *file, int flags, const void *caller);

blas_dlopen_fn
blas_dlopen_route(const char *file, int flags, const void *caller)
{
	if (blas_dlopen_depth > 0 || file == NULL || (flags & RTLD_NOLOAD) != 0
	    || !blas_dlopen_caller_irrelevant(file, caller)) {
		return blas_dlopen_real();
	}
	return blas_dlopen_bracketed;
}

#if defined(__x86_64__)
/*
 * dlopen keeps its caller's return address on the stack and leaves by an
 * indirect jump, so the function it reaches gets the original caller.
 */
__asm__(
	".text\n"
	".globl dlopen\n"
	".type dlopen, @function\n"
	".p2align 4\n"
	"dlopen:\n"
	"	.cfi_startproc\n"
	"	push %rdi\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	push %rsi\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	sub $8, %rsp\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	mov 24(%rsp), %rdx\n"
	"	call blas_dlopen_route\n"
	"	add $8, %rsp\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	pop %rsi\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	pop %rdi\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	jmp *%rax\n"
	"	.cfi_endproc\n"
	".size dlopen, .-dlopen\n");
#else
/* Elsewhere the caller is kept only when the compiler makes this call a tail call (-O2). */
SX_EXPORT void *
dlopen(const char *file, int flags)
{
	return blas_dlopen_route(file, flags, __builtin_return_address(0))(file, flags);
}
#endif

SX_EXPORT int
dlclose(void *handle)
{
	int result = blas_dlclose_real()(handle);
	int saved_errno = errno;

	if (blas_dlopen_depth == 0) {
		blas_exports_refresh();
		blas_bindings_release_pins();
	}
	errno = saved_errno;
	return result;
}
