/* Allocation-free reading of /proc and /sys files; see procfs.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

int
procfs_join(char *out, size_t size, const char *root, const char *relative)
{
	size_t root_length = strlen(root);
	size_t relative_length;
	size_t total;

	while (relative[0] == '/') {
		relative++;
	}
	relative_length = strlen(relative);
	if (root_length > 0 && root[root_length - 1] == '/') {
		root_length--;
	}

	total = root_length + 1 + relative_length;
	if (total >= size) {
		return -ENAMETOOLONG;
	}
	memcpy(out, root, root_length);
	out[root_length] = '/';
	memcpy(out + root_length + 1, relative, relative_length);
	out[total] = '\0';
	return (int)total;
}

static int
procfs_open(const char *path)
{
	int fd;

	/*
	 * O_NONBLOCK: a FIFO where a file is expected (say, a temp_source set by
	 * mistake) would block open(2) until a writer came. Regular, /proc and
	 * /sys files ignore the flag.
	 */
	do {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	} while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

/* Calls read(2), retrying after EINTR. Returns the byte count or a negative errno. */
static ssize_t
procfs_read_some(int fd, char *buffer, size_t size)
{
	ssize_t got;

	do {
		got = read(fd, buffer, size);
	} while (got < 0 && errno == EINTR);
	return got < 0 ? -errno : got;
}

ssize_t
procfs_read_file(const char *path, char *buffer, size_t size)
{
	size_t length = 0;
	ssize_t got = 1;
	char extra;
	int fd;

	if (size == 0) {
		return -EINVAL;
	}
	buffer[0] = '\0';
	fd = procfs_open(path);
	if (fd < 0) {
		return fd;
	}

	/* /proc files may come in several short reads, so read until end of file. */
	while (length < size - 1) {
		got = procfs_read_some(fd, buffer + length, size - 1 - length);
		if (got <= 0) {
			break;
		}
		length += (size_t)got;
	}
	if (got > 0 && length == size - 1) {
		got = procfs_read_some(fd, &extra, 1);
		if (got > 0) {
			got = -EFBIG;
		}
	}
	close(fd);

	buffer[length] = '\0';
	return got < 0 ? got : (ssize_t)length;
}

int
procfs_lines_open(procfs_lines_t *lines, const char *path)
{
	lines->start = 0;
	lines->end = 0;
	lines->at_eof = false;
	lines->fd = procfs_open(path);
	return lines->fd < 0 ? lines->fd : 0;
}

/* Moves unread bytes to the front and reads more. Returns 0 or a negative errno. */
static int
procfs_lines_fill(procfs_lines_t *lines)
{
	ssize_t got;

	if (lines->start > 0) {
		memmove(lines->buffer, lines->buffer + lines->start, lines->end - lines->start);
		lines->end -= lines->start;
		lines->start = 0;
	}
	got = procfs_read_some(lines->fd, lines->buffer + lines->end,
	    sizeof(lines->buffer) - lines->end);
	if (got < 0) {
		return (int)got;
	}
	if (got == 0) {
		lines->at_eof = true;
	}
	lines->end += (size_t)got;
	return 0;
}

int
procfs_lines_next(procfs_lines_t *lines, const char **line, size_t *length)
{
	bool skipping = false;

	for (;;) {
		char *begin = lines->buffer + lines->start;
		char *newline = memchr(begin, '\n', lines->end - lines->start);
		int error;

		if (newline != NULL) {
			lines->start = (size_t)(newline - lines->buffer) + 1;
			if (skipping) {
				skipping = false;
				continue;
			}
			*line = begin;
			*length = (size_t)(newline - begin);
			return 1;
		}
		if (lines->at_eof) {
			if (lines->start == lines->end || skipping) {
				lines->start = lines->end;
				return 0;
			}
			*line = begin;
			*length = lines->end - lines->start;
			lines->start = lines->end;
			return 1;
		}
		if (lines->start == 0 && lines->end == sizeof(lines->buffer)) {
			/* A full buffer without a newline: drop the overlong line's bytes. */
			skipping = true;
			lines->end = 0;
		}
		error = procfs_lines_fill(lines);
		if (error < 0) {
			return error;
		}
	}
}

void
procfs_lines_close(procfs_lines_t *lines)
{
	if (lines->fd >= 0) {
		close(lines->fd);
		lines->fd = -1;
	}
}

static bool
procfs_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

bool
procfs_next_line(const char *text, size_t length, size_t *offset,
    const char **line, size_t *line_length)
{
	const char *newline;

	if (*offset >= length) {
		return false;
	}
	*line = text + *offset;
	newline = memchr(*line, '\n', length - *offset);
	*line_length = newline != NULL ? (size_t)(newline - *line) : length - *offset;
	*offset += *line_length + 1;
	return true;
}

bool
procfs_next_token(const char *line, size_t length, size_t *offset,
    const char **token, size_t *token_length)
{
	size_t start = *offset;
	size_t end;

	while (start < length && procfs_is_blank(line[start])) {
		start++;
	}
	if (start >= length) {
		*offset = length;
		return false;
	}
	end = start;
	while (end < length && !procfs_is_blank(line[end])) {
		end++;
	}
	*token = line + start;
	*token_length = end - start;
	*offset = end;
	return true;
}

int
procfs_parse_u64(const char *text, size_t length, uint64_t *value)
{
	uint64_t result = 0;
	size_t i;

	if (length == 0) {
		return -EINVAL;
	}
	for (i = 0; i < length; i++) {
		unsigned digit = (unsigned char)text[i] - (unsigned)'0';

		if (digit > 9) {
			return -EINVAL;
		}
		if (result > (UINT64_MAX - digit) / 10) {
			return -EINVAL;
		}
		result = result * 10 + digit;
	}
	*value = result;
	return 0;
}

bool
procfs_multiply_u64(uint64_t a, uint64_t b, uint64_t *product)
{
	return !__builtin_mul_overflow(a, b, product);
}
