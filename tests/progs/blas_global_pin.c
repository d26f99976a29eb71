/*
 * `blas_global_pin FAKE_BLAS.so CALLER.so`: CALLER.so has no BLAS of its own
 * and finds FAKE_BLAS.so, opened with RTLD_GLOBAL, in the global scope. The
 * dynamic loader keeps such a library loaded while a caller is bound to it,
 * and lets it go with the caller. Prints "kept while bound: yes|no" after
 * closing FAKE_BLAS.so, then "unloaded with the caller: yes|no", and exits
 * with the number of failed checks (2 on a loading error).
 */
#include <dlfcn.h>
#include <stdio.h>

typedef int (*caller_run_fn)(const char *temp_path);

static int
run_checks(void *caller)
{
	caller_run_fn run;

	*(void **)&run = dlsym(caller, "blas_caller_run");
	if (run == NULL) {
		return 1;
	}
	return run(NULL);
}

int
main(int argc, char **argv)
{
	void *blas, *caller, *probe;
	int failures;

	if (argc != 3) {
		fprintf(stderr, "usage: blas_global_pin FAKE_BLAS.so CALLER.so\n");
		return 2;
	}
	blas = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
	caller = blas != NULL ? dlopen(argv[2], RTLD_NOW | RTLD_LOCAL) : NULL;
	if (caller == NULL) {
		fprintf(stderr, "dlopen failed: %s\n", dlerror());
		return 2;
	}
	failures = run_checks(caller);
	dlclose(blas);
	probe = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
	printf("kept while bound: %s\n", probe != NULL ? "yes" : "no");
	if (probe != NULL) {
		dlclose(probe);
		failures += run_checks(caller);
	}
	dlclose(caller);
	probe = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
	printf("unloaded with the caller: %s\n", probe == NULL ? "yes" : "no");
	fflush(stdout);
	return failures;
}
