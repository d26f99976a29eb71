/*
 * `dlopen_host PLUGIN.so`: a C program (like Python) that dlopens a C++
 * library. Checks that the library's operator new was served by the shim
 * (jemalloc's thread.allocated grew by at least what it allocated) and that a
 * block from its new can be released with the host's free.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef long (*plugin_work_fn)(uint64_t *allocated_delta, void **leaked);

int
main(int argc, char **argv)
{
	void *handle, *leaked = NULL;
	plugin_work_fn work;
	uint64_t delta = 0;
	long total;

	if (argc != 2) {
		fprintf(stderr, "usage: dlopen_host PLUGIN.so\n");
		return 2;
	}
	handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		fprintf(stderr, "dlopen failed: %s\n", dlerror());
		return 1;
	}
	*(void **)&work = dlsym(handle, "plugin_work");
	if (work == NULL) {
		fprintf(stderr, "plugin_work not found\n");
		return 1;
	}
	total = work(&delta, &leaked);
	free(leaked);
	printf("total=%ld\nallocated_delta=%llu\n", total, (unsigned long long)delta);
	/* 1000 strings of 100..149 bytes plus 4096 bytes: over 100 KiB through jemalloc. */
	if (total != 124500 || delta < 100000) {
		return 1;
	}
	dlclose(handle);
	printf("ok\n");
	return 0;
}
