/*
 * Visibility of the BLAS/LAPACK wrapper names to symbol lookup. A name is
 * visible only while a loaded object defines the real routine, so that
 * dlsym(RTLD_DEFAULT, "cblas_dgemm") finds nothing when no BLAS is loaded.
 * A hidden name keeps its .dynsym entry with the binding rewritten to
 * STB_LOCAL, which the dynamic loader skips. docs/design.md has the rules.
 *
 * TODO: a weak reference to a routine that no library defines, relocated
 * during a dlopen (every name is visible then) or before the shim's
 * constructor, still binds to the wrapper, which reports the call as
 * unresolved.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "blas.h"
#include "elf_lookup.h"
#include "fmt.h"
#include "log.h"

extern blas_symbol_t *const __start_safeexec_blas_exports[] SX_HIDDEN;
extern blas_symbol_t *const __stop_safeexec_blas_exports[] SX_HIDDEN;

#define BLAS_EXPORTS_FOREACH(ENTRY)                                                   \
	for (blas_symbol_t *const *ENTRY = __start_safeexec_blas_exports;             \
	    ENTRY < __stop_safeexec_blas_exports; ENTRY++)

/* Lock for every field below and for each symbol's export_entry and defined_elsewhere. */
static pthread_mutex_t blas_exports_lock = PTHREAD_MUTEX_INITIALIZER;

static bool blas_exports_ready;          /* the shim's entries were found */
static unsigned blas_exports_windows;    /* dlopen calls in progress with every name shown */
static uintptr_t blas_exports_pages;     /* page-aligned start of the entries */
static size_t blas_exports_pages_bytes;
static int blas_exports_protection;      /* the protection of their segment */
/* The loader's load and unload counters at the last scan. */
static unsigned long long blas_exports_adds, blas_exports_subs;

static bool
blas_exports_is_self(const struct dl_phdr_info *info)
{
	return elf_object_contains(info, (uintptr_t)blas_exports_init);
}

static int
blas_exports_protection_of(ElfW(Word) flags)
{
	return ((flags & PF_R) != 0 ? PROT_READ : 0) | ((flags & PF_W) != 0 ? PROT_WRITE : 0)
	    | ((flags & PF_X) != 0 ? PROT_EXEC : 0);
}

/* Records the page range that contains the entries, and its segment's protection. */
static bool
blas_exports_measure(const struct dl_phdr_info *info, uintptr_t low, uintptr_t high)
{
	uintptr_t page = getauxval(AT_PAGESZ);
	ElfW(Half) i;

	if (page == 0 || low == 0) {
		return false;
	}
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + segment->p_vaddr;

		if (segment->p_type == PT_LOAD && low >= start && high <= start + segment->p_memsz) {
			blas_exports_protection = blas_exports_protection_of(segment->p_flags);
			blas_exports_pages = low & ~(page - 1);
			blas_exports_pages_bytes = ((high + page - 1) & ~(page - 1)) - blas_exports_pages;
			return true;
		}
	}
	return false;
}

/* dl_iterate_phdr callback: finds the shim's own entry for each wrapper name. */
static int
blas_exports_find_own(struct dl_phdr_info *info, size_t size, void *data)
{
	elf_object_t object;
	uintptr_t low = 0, high = 0;

	(void)size;
	if (!blas_exports_is_self(info)) {
		return 0;
	}
	if (elf_object_open(&object, info) == 0) {
		BLAS_EXPORTS_FOREACH(symbol) {
			const ElfW(Sym) *entry = elf_object_find(&object, (*symbol)->name);
			uintptr_t address = (uintptr_t)entry;

			(*symbol)->export_entry = (void *)entry;
			if (entry != NULL) {
				low = low == 0 || address < low ? address : low;
				high = address + sizeof(*entry) > high ? address + sizeof(*entry) : high;
			}
		}
		*(bool *)data = blas_exports_measure(info, low, high);
	}
	return 1;
}

/* dl_iterate_phdr callback: marks the names that another object defines. */
static int
blas_exports_scan_object(struct dl_phdr_info *info, size_t size, void *data)
{
	elf_object_t object;

	(void)data;
	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
		blas_exports_adds = info->dlpi_adds;
		blas_exports_subs = info->dlpi_subs;
	}
	/* Another copy of the shim defines the names too, but only as wrappers. */
	if (blas_exports_is_self(info) || elf_object_open(&object, info) != 0
	    || blas_object_is_shim(&object)) {
		return 0;
	}
	BLAS_EXPORTS_FOREACH(symbol) {
		const ElfW(Sym) *entry;

		if ((*symbol)->defined_elsewhere) {
			continue;
		}
		entry = elf_object_find(&object, (*symbol)->name);
		(*symbol)->defined_elsewhere = entry != NULL && elf_symbol_is_public(entry);
	}
	return 0;
}

/* dl_iterate_phdr callback: reads the load and unload counters only. */
static int
blas_exports_read_counters(struct dl_phdr_info *info, size_t size, void *data)
{
	unsigned long long *counters = data;

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
		counters[0] = info->dlpi_adds;
		counters[1] = info->dlpi_subs;
	}
	return 1;
}

/*
 * Updates defined_elsewhere. After loads only, defined names stay defined.
 * After an unload, every name is looked up again and every cached address is dropped.
 */
static void
blas_exports_scan(bool unloaded)
{
	if (unloaded) {
		/* First, so that resolutions still in flight neither cache nor bind their result. */
		atomic_fetch_add(&blas_unload_generation, 1);
		BLAS_EXPORTS_FOREACH(symbol) {
			(*symbol)->defined_elsewhere = false;
			blas_symbol_forget(*symbol);
		}
		blas_threads_forget();
		blas_bindings_prune();
	}
	dl_iterate_phdr(blas_exports_scan_object, NULL);
}

/* Rescans when objects were loaded or unloaded since the last scan. */
static void
blas_exports_scan_if_changed(void)
{
	unsigned long long counters[2] = { 0, 0 };

	dl_iterate_phdr(blas_exports_read_counters, counters);
	if (counters[1] != blas_exports_subs) {
		blas_exports_scan(true);
	} else if (counters[0] != blas_exports_adds) {
		blas_exports_scan(false);
	}
}

static unsigned char
blas_exports_binding_for(const blas_symbol_t *symbol, bool show_all)
{
	const ElfW(Sym) *entry = symbol->export_entry;
	unsigned char binding = show_all || symbol->defined_elsewhere ? STB_GLOBAL : STB_LOCAL;

	return ELF_SYMBOL_INFO(binding, ELF_SYMBOL_TYPE(entry->st_info));
}

/* Rewrites the bindings that differ, making the pages writable only for the rewrite. */
static void
blas_exports_apply(bool show_all)
{
	bool changes = false;

	BLAS_EXPORTS_FOREACH(symbol) {
		const ElfW(Sym) *entry = (*symbol)->export_entry;

		changes |= entry != NULL && entry->st_info != blas_exports_binding_for(*symbol, show_all);
	}
	if (!changes) {
		return;
	}
	if (mprotect((void *)blas_exports_pages, blas_exports_pages_bytes,
	    blas_exports_protection | PROT_WRITE) != 0) {
		log_message(LOG_LEVEL_WARN, "mprotect of the shim's symbol table failed (%s): "
		    "BLAS wrapper names stay visible to dlsym", fmt_errno_text(errno));
		blas_exports_ready = false;
		return;
	}
	BLAS_EXPORTS_FOREACH(symbol) {
		ElfW(Sym) *entry = (*symbol)->export_entry;

		if (entry != NULL) {
			entry->st_info = blas_exports_binding_for(*symbol, show_all);
		}
	}
	(void)mprotect((void *)blas_exports_pages, blas_exports_pages_bytes,
	    blas_exports_protection);
}

static void
blas_exports_fork_prepare(void)
{
	pthread_mutex_lock(&blas_exports_lock);
	blas_bindings_fork_prepare();
}

static void
blas_exports_fork_parent(void)
{
	blas_bindings_fork_parent();
	pthread_mutex_unlock(&blas_exports_lock);
}

/*
 * The child has only the forking thread, so no other dlopen is in progress:
 * the windows that other threads had open are closed and the names hidden.
 * The names follow the last scan: glibc does not reset the loader's list
 * lock in the child, so dl_iterate_phdr could wait forever for a thread
 * that held it at the fork. The next dlopen or dlclose scans again.
 */
static void
blas_exports_fork_child(void)
{
	blas_exports_windows = 0;
	if (blas_exports_ready) {
		blas_exports_apply(false);
	}
	blas_symbols_reset_after_fork();
	blas_bindings_fork_child();
	pthread_mutex_unlock(&blas_exports_lock);
}

void
blas_exports_init(void)
{
	bool found = false;

	pthread_mutex_lock(&blas_exports_lock);
	dl_iterate_phdr(blas_exports_find_own, &found);
	blas_exports_ready = found;
	if (!found) {
		log_message(LOG_LEVEL_WARN, "the shim's own symbol table was not found: "
		    "BLAS wrapper names stay visible to dlsym");
	}
	blas_exports_scan(false);
	if (blas_exports_ready && blas_exports_windows == 0) {
		blas_exports_apply(false);
	}
	pthread_mutex_unlock(&blas_exports_lock);
	pthread_atfork(blas_exports_fork_prepare, blas_exports_fork_parent,
	    blas_exports_fork_child);
}

void
blas_exports_open_window(void)
{
	pthread_mutex_lock(&blas_exports_lock);
	if (blas_exports_windows++ == 0 && blas_exports_ready) {
		blas_exports_apply(true);
	}
	pthread_mutex_unlock(&blas_exports_lock);
}

void
blas_exports_close_window(void)
{
	pthread_mutex_lock(&blas_exports_lock);
	/* 0 already when a constructor forked inside this dlopen: the child closed every window. */
	if (blas_exports_windows == 0 || --blas_exports_windows == 0) {
		blas_exports_scan_if_changed();
		if (blas_exports_ready) {
			blas_exports_apply(false);
		}
	}
	pthread_mutex_unlock(&blas_exports_lock);
}

void
blas_exports_refresh(void)
{
	pthread_mutex_lock(&blas_exports_lock);
	blas_exports_scan_if_changed();
	if (blas_exports_ready && blas_exports_windows == 0) {
		blas_exports_apply(false);
	}
	pthread_mutex_unlock(&blas_exports_lock);
}
