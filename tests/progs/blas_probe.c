/*
 * `blas_probe FAKE_BLAS.so CALLER.so`: shows which BLAS names symbol lookup
 * finds as a BLAS library comes and goes. It looks up a few names with
 * dlsym(RTLD_DEFAULT) before loading FAKE_BLAS.so with RTLD_LOCAL, while it
 * is loaded, and after dlclose, printing "STAGE NAME absent" or
 * "STAGE NAME in FILE". Then it runs CALLER.so's checks (CALLER.so links
 * FAKE_BLAS.so), unloads both, reserves the address range the BLAS had, and
 * runs the checks again: a wrapper that kept the address of the first copy
 * would call into that reserved, inaccessible range. Exits with the number
 * of failed checks, or 2 on a loading error.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Where a loaded library lies: its load address and the bytes its segments span. */
typedef struct {
	uintptr_t base;
	size_t span;
} library_range_t;

typedef int (*caller_run_fn)(const char *temp_path);

static const char *const probed_names[] = {
	"cblas_dgemm", "dgemm_", "scipy_dgemm_64_", "dgetrf_", "zgesdd_64_",
};

static void
probe(const char *stage)
{
	size_t i;

	for (i = 0; i < sizeof(probed_names) / sizeof(probed_names[0]); i++) {
		void *address = dlsym(RTLD_DEFAULT, probed_names[i]);
		Dl_info where;

		if (address == NULL) {
			printf("%s %s absent\n", stage, probed_names[i]);
		} else {
			printf("%s %s in %s\n", stage, probed_names[i],
			    dladdr(address, &where) != 0 && where.dli_fname != NULL
			    ? where.dli_fname : "(unknown)");
		}
	}
}

static int
measure_span(struct dl_phdr_info *info, size_t size, void *data)
{
	library_range_t *range = data;
	ElfW(Half) i;

	(void)size;
	if (info->dlpi_addr != range->base) {
		return 0;
	}
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *segment = &info->dlpi_phdr[i];

		if (segment->p_type == PT_LOAD && segment->p_vaddr + segment->p_memsz > range->span) {
			range->span = segment->p_vaddr + segment->p_memsz;
		}
	}
	return 1;
}

/* Where the already loaded fake BLAS at path lies; base 0 when it is not loaded. */
static library_range_t
library_range(const char *path)
{
	void *handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	void *symbol = handle != NULL ? dlsym(handle, "fake_blas_last_name") : NULL;
	library_range_t range = { 0, 0 };
	Dl_info where;

	if (symbol != NULL && dladdr(symbol, &where) != 0) {
		range.base = (uintptr_t)where.dli_fbase;
		dl_iterate_phdr(measure_span, &range);
	}
	if (handle != NULL) {
		dlclose(handle);
	}
	return range;
}

/* Maps inaccessible pages over range, so that stale pointers into it fault. */
static int
reserve(library_range_t range)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t bytes = (range.span + page - 1) / page * page;
	void *start = (void *)range.base;

	return mmap(start, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
	    -1, 0) == start ? 0 : -1;
}

/*
 * Loads path, runs its blas_caller_run, stores where the BLAS at blas_path
 * was loaded, and unloads both; returns the failures, or -1.
 */
static int
run_caller(const char *path, const char *blas_path, library_range_t *blas_range)
{
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	caller_run_fn run;
	int failures;

	if (handle == NULL) {
		fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		return -1;
	}
	*(void **)&run = dlsym(handle, "blas_caller_run");
	if (run == NULL) {
		fprintf(stderr, "blas_caller_run not found in %s\n", path);
		dlclose(handle);
		return -1;
	}
	failures = run(NULL);
	fflush(stdout);
	*blas_range = library_range(blas_path);
	dlclose(handle);
	return failures;
}

int
main(int argc, char **argv)
{
	library_range_t first_range, second_range;
	void *handle;
	int first, second;

	if (argc != 3) {
		fprintf(stderr, "usage: blas_probe FAKE_BLAS.so CALLER.so\n");
		return 2;
	}
	probe("before");
	handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
		return 2;
	}
	probe("loaded");
	dlclose(handle);
	probe("closed");

	first = run_caller(argv[2], argv[1], &first_range);
	if (first < 0 || first_range.base == 0) {
		return 2;
	}
	if (reserve(first_range) != 0) {
		perror("mmap over the first BLAS copy");
		return 2;
	}
	second = run_caller(argv[2], argv[1], &second_range);
	if (second < 0) {
		return 2;
	}
	printf("reloaded caller: %d failures, BLAS %s\n", second,
	    second_range.base != first_range.base ? "moved" : "at the same address");
	return first + second;
}
