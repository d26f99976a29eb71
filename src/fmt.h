/*
 * An allocation-free snprintf for the shim's messages. glibc's printf family
 * may call malloc (for some conversions and for locale data), and the shim
 * formats messages while it is deciding a malloc.
 * Supports %% %c %s %d %i %u %o %x %p, the length modifiers l, ll and z,
 * a width with the 0 and - flags, a precision on %s (also .*) and on %f.
 */
#ifndef SX_FMT_H
#define SX_FMT_H

#include <stdarg.h>
#include <stddef.h>

#include "common.h"

/*
 * Writes at most size bytes, always NUL-terminated when size > 0, and
 * returns the number of characters written, not counting the NUL. Output
 * that does not fit is cut.
 */
SX_HIDDEN size_t fmt_vformat(char *out, size_t size, const char *format, va_list args);
SX_HIDDEN size_t fmt_format(char *out, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Returns a short description of an errno value, such as "No such file or
 * directory (ENOENT)", from a fixed table, because strerror may allocate for
 * its locale data. Values not in the table give "unknown error".
 */
SX_HIDDEN const char *fmt_errno_text(int error);

#endif
