/* Finding the shim and running the command under it. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher.h"

#ifndef SAFEEXEC_LIBDIR
#define SAFEEXEC_LIBDIR "/usr/local/lib"
#endif

#define LAUNCHER_SHIM_NAME "libsafeexec.so"

/*
 * The shim next to the launcher (a build folder), then in the install
 * prefix's libdir. Returns false when neither exists.
 */
static bool
launcher_find_shim(char *path, size_t size)
{
	char self[PATH_MAX];
	ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (length > 0) {
		self[length] = '\0';
		snprintf(path, size, "%s/%s", dirname(self), LAUNCHER_SHIM_NAME);
		if (access(path, R_OK) == 0) {
			return true;
		}
	}
	snprintf(path, size, "%s/%s", SAFEEXEC_LIBDIR, LAUNCHER_SHIM_NAME);
	return access(path, R_OK) == 0;
}

int
launcher_exec(char **argv)
{
	char shim[PATH_MAX], *preload;
	const char *old_preload = getenv("LD_PRELOAD");
	size_t length;

	if (!launcher_find_shim(shim, sizeof(shim))) {
		fprintf(stderr, "safeexec: %s not found next to the launcher or in %s; "
		    "build the project or run 'meson install'\n", LAUNCHER_SHIM_NAME,
		    SAFEEXEC_LIBDIR);
		return 126;
	}

	length = strlen(shim) + (old_preload != NULL ? strlen(old_preload) : 0) + 2;
	preload = malloc(length);
	if (preload == NULL) {
		fprintf(stderr, "safeexec: out of memory\n");
		return 126;
	}
	/* The shim goes first so its malloc wins over every other definition. */
	snprintf(preload, length, "%s%s%s", shim,
	    old_preload != NULL && old_preload[0] != '\0' ? ":" : "",
	    old_preload != NULL ? old_preload : "");
	setenv("LD_PRELOAD", preload, 1);
	free(preload);

	execvp(argv[0], argv);
	fprintf(stderr, "safeexec: cannot run %s: %s\n", argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
