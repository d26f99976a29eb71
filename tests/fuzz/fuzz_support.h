/*
 * Helpers shared by the libFuzzer harnesses: copies of the input with exact
 * bounds, so AddressSanitizer reports a read one byte past the text, and a
 * temporary file holding the input for parsers that read a file by path.
 */
#ifndef SX_FUZZ_SUPPORT_H
#define SX_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Returns a heap copy of data with a NUL after its last byte. Calls abort() when malloc fails. */
static inline char *
fuzz_terminated_copy(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (text == NULL) {
		abort();
	}
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

/* Returns a heap copy of exactly size bytes (at least one allocated byte). */
static inline char *
fuzz_exact_copy(const uint8_t *data, size_t size)
{
	char *copy = malloc(size > 0 ? size : 1);

	if (copy == NULL) {
		abort();
	}
	memcpy(copy, data, size);
	return copy;
}

static char fuzz_file_path[64];

static void
fuzz_file_remove(void)
{
	unlink(fuzz_file_path);
}

/*
 * Replaces the content of the harness's temporary file with data and writes
 * its path to path. The file (mode 0600, in /tmp) is created once, kept
 * open and removed at exit. A memfd's /proc/self/fd/N path would not do,
 * because readers that open with O_NOFOLLOW reject that symbolic link.
 */
static inline void
fuzz_file_with(const uint8_t *data, size_t size, char *path, size_t path_size)
{
	static int fd = -1;
	size_t done = 0;

	if (fd < 0) {
		snprintf(fuzz_file_path, sizeof(fuzz_file_path), "/tmp/sx-fuzz-input-XXXXXX");
		fd = mkstemp(fuzz_file_path);
		if (fd < 0) {
			abort();
		}
		atexit(fuzz_file_remove);
	}
	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		abort();
	}
	while (done < size) {
		ssize_t written = write(fd, data + done, size - done);

		if (written <= 0) {
			abort();
		}
		done += (size_t)written;
	}
	snprintf(path, path_size, "%s", fuzz_file_path);
}

#endif
