/*
 * `blas_host CALLER.so [TEMP_FILE]`: loads a library with dlopen(RTLD_LOCAL),
 * the way Python loads numpy's extension modules, and runs its
 * blas_caller_run. When BLAS_HOST_FIRST names a library, that one is loaded
 * first, also with RTLD_LOCAL. When BLAS_HOST_LATER_GLOBAL names one, it is
 * loaded with RTLD_GLOBAL after the first run, another library
 * (BLAS_HOST_UNLOAD) is loaded and closed, and the checks run again: the
 * caller stays bound to its own BLAS, as it would without the shim. Exits
 * with the number of failed checks.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef int (*caller_run_fn)(const char *temp_path);

int
main(int argc, char **argv)
{
	const char *first, *later;
	void *handle;
	caller_run_fn run;
	int failures;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: blas_host CALLER.so [TEMP_FILE]\n");
		return 2;
	}
	first = getenv("BLAS_HOST_FIRST");
	if (first != NULL && dlopen(first, RTLD_NOW | RTLD_LOCAL) == NULL) {
		fprintf(stderr, "dlopen failed: %s\n", dlerror());
		return 2;
	}
	handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		fprintf(stderr, "dlopen failed: %s\n", dlerror());
		return 2;
	}
	*(void **)&run = dlsym(handle, "blas_caller_run");
	if (run == NULL) {
		fprintf(stderr, "blas_caller_run not found in %s\n", argv[1]);
		return 2;
	}
	failures = run(argc == 3 ? argv[2] : NULL);
	fflush(stdout);
	later = getenv("BLAS_HOST_LATER_GLOBAL");
	if (later != NULL) {
		const char *unload = getenv("BLAS_HOST_UNLOAD");
		void *other;

		if (dlopen(later, RTLD_NOW | RTLD_GLOBAL) == NULL || unload == NULL
		    || (other = dlopen(unload, RTLD_NOW | RTLD_LOCAL)) == NULL) {
			fprintf(stderr, "dlopen failed: %s\n", dlerror());
			return 2;
		}
		dlclose(other);
		printf("after a global BLAS and an unload:\n");
		failures += run(NULL);
		fflush(stdout);
	}
	dlclose(handle);
	return failures;
}
