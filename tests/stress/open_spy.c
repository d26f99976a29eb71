/*
 * libsxopenspy: preloaded ahead of the shim, it interposes open, open64,
 * openat and openat64, counts the calls and those without O_CLOEXEC, and
 * passes each call to the kernel with syscall(2), which does not allocate.
 * At exit it writes "open_spy: opens=N not_cloexec=M first=PATH" to
 * stderr. Calls made inside glibc (fopen, opendir) do not go through these
 * symbols and are not seen.
 */
/* Meson sets _FILE_OFFSET_BITS=64, which renames open to open64 in fcntl.h. */
#undef _FILE_OFFSET_BITS
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic long spy_opens, spy_not_cloexec;
static char spy_first_path[256];
static atomic_flag spy_first_taken = ATOMIC_FLAG_INIT;

static int
spy_openat(int directory, const char *path, int flags, mode_t mode)
{
	atomic_fetch_add(&spy_opens, 1);
	if ((flags & O_CLOEXEC) == 0) {
		atomic_fetch_add(&spy_not_cloexec, 1);
		if (!atomic_flag_test_and_set(&spy_first_taken)) {
			strncpy(spy_first_path, path, sizeof(spy_first_path) - 1);
		}
	}
	return (int)syscall(SYS_openat, directory, path, flags, mode);
}

/* The mode argument exists only when O_CREAT or O_TMPFILE is set. */
#define SPY_MODE(flags, mode) do { \
	if (((flags) & (O_CREAT | O_TMPFILE)) != 0) { \
		va_list args; \
		va_start(args, flags); \
		mode = (mode_t)va_arg(args, int); \
		va_end(args); \
	} \
} while (0)

int
open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	SPY_MODE(flags, mode);
	return spy_openat(AT_FDCWD, path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	SPY_MODE(flags, mode);
	return spy_openat(AT_FDCWD, path, flags, mode);
}

int
openat(int directory, const char *path, int flags, ...)
{
	mode_t mode = 0;

	SPY_MODE(flags, mode);
	return spy_openat(directory, path, flags, mode);
}

int
openat64(int directory, const char *path, int flags, ...)
{
	mode_t mode = 0;

	SPY_MODE(flags, mode);
	return spy_openat(directory, path, flags, mode);
}

__attribute__((destructor)) static void
spy_report(void)
{
	char line[400];
	int length = snprintf(line, sizeof(line), "open_spy: opens=%ld not_cloexec=%ld first=%s\n",
	    (long)spy_opens, (long)spy_not_cloexec, spy_first_path);
	ssize_t ignored = write(STDERR_FILENO, line, (size_t)length);

	(void)ignored;
}
