/*
 * Allocation-free access to small /proc and /sys files: build paths under an
 * injectable root, read a whole file into a caller buffer, walk a file of
 * any size line by line, and parse the decimal numbers these files contain.
 * Nothing here keeps state between calls, so every function is reentrant.
 */
#ifndef SX_PROCFS_H
#define SX_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"

/* Size of the line buffer. procfs_lines_next skips lines that do not fit with their newline. */
#define PROCFS_LINE_MAX 4096

/*
 * Writes "<root>/<relative>" to out (a leading '/' of relative is not
 * doubled). Returns the length, or -ENAMETOOLONG when it does not fit in
 * size bytes with its NUL.
 */
SX_HIDDEN int procfs_join(char *out, size_t size, const char *root, const char *relative);

/*
 * Reads the whole file at path into buffer and NUL-terminates it. Returns the
 * byte count, -EFBIG when the file has more than size - 1 bytes, or the
 * negative errno of open or read. Retries calls interrupted by a signal.
 */
SX_HIDDEN ssize_t procfs_read_file(const char *path, char *buffer, size_t size);

/* A file read one line at a time through a fixed buffer, for files of any size. */
typedef struct {
	int fd;
	size_t start;                 /* first unread byte in buffer */
	size_t end;                   /* one past the last byte read */
	bool at_eof;
	char buffer[PROCFS_LINE_MAX];
} procfs_lines_t;

/* Opens path for procfs_lines_next. Returns 0 or the negative errno of open. */
SX_HIDDEN int procfs_lines_open(procfs_lines_t *lines, const char *path);

/*
 * Finds the next line and returns 1 with it in *line and *length. The line
 * has no newline and no NUL terminator, and the pointer is valid until the
 * next call. Returns 0 at the end of the file or the negative errno of read.
 * A last line without a newline is returned. Lines longer than
 * PROCFS_LINE_MAX - 1 bytes are skipped.
 */
SX_HIDDEN int procfs_lines_next(procfs_lines_t *lines, const char **line, size_t *length);

SX_HIDDEN void procfs_lines_close(procfs_lines_t *lines);

/*
 * Finds the line of text[0, length) that starts at *offset (without its
 * newline) and moves *offset past it. Returns false at the end.
 */
SX_HIDDEN bool procfs_next_line(const char *text, size_t length, size_t *offset,
    const char **line, size_t *line_length);

/*
 * Finds the next token of line[0, length) at or after *offset, separated by
 * spaces, tabs or newlines, and moves *offset past it. Returns false when
 * only separators are left.
 */
SX_HIDDEN bool procfs_next_token(const char *line, size_t length, size_t *offset,
    const char **token, size_t *token_length);

/*
 * Parses exactly length bytes of decimal digits (no sign, no spaces) into
 * *value. Returns 0, or -EINVAL for an empty or non-digit text or a value
 * above UINT64_MAX.
 */
SX_HIDDEN int procfs_parse_u64(const char *text, size_t length, uint64_t *value);

/* Multiplies with overflow checking: returns false when a * b exceeds UINT64_MAX. */
SX_HIDDEN bool procfs_multiply_u64(uint64_t a, uint64_t b, uint64_t *product);

#endif
