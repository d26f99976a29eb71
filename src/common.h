/* Compiler helpers shared by every source file of the shim. */
#ifndef SX_COMMON_H
#define SX_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define SX_LIKELY(x) __builtin_expect(!!(x), 1)
#define SX_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Internal symbols are hidden: direct calls inside the .so, nothing exported. */
#define SX_HIDDEN __attribute__((visibility("hidden")))
/* Interposed symbols keep default visibility so they win symbol lookup. */
#define SX_EXPORT __attribute__((visibility("default")))
#define SX_NOINLINE __attribute__((noinline))
#define SX_COLD __attribute__((cold, noinline))

/*
 * Initial-exec TLS: a fixed offset from the thread pointer, so reading it
 * never calls __tls_get_addr, which can allocate on first use per thread
 * and would recurse into malloc.
 */
#define SX_TLS __thread __attribute__((tls_model("initial-exec")))

#define SX_KIB ((uint64_t)1024)
#define SX_MIB (SX_KIB * 1024)
#define SX_GIB (SX_MIB * 1024)

#define SX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
