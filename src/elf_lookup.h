/*
 * Reading the dynamic symbol table of an object that the dynamic loader
 * has already mapped, without calling into the loader. Unlike dlsym, these
 * functions search only the object itself, take no lock and leave dlerror
 * alone, because they only read mapped memory. So they may run inside a
 * dl_iterate_phdr callback.
 */
#ifndef SX_ELF_LOOKUP_H
#define SX_ELF_LOOKUP_H

#include <link.h>
#include <stdbool.h>
#include <stdint.h>

#include "common.h"

/* st_info packs binding and type the same way in 32- and 64-bit objects. */
#define ELF_SYMBOL_BINDING(INFO) ELF32_ST_BIND(INFO)
#define ELF_SYMBOL_TYPE(INFO) ELF32_ST_TYPE(INFO)
#define ELF_SYMBOL_INFO(BINDING, TYPE) ELF32_ST_INFO((BINDING), (TYPE))

/* The symbol table of one loaded object, as found through its PT_DYNAMIC segment. */
typedef struct elf_object {
	const ElfW(Sym) *symbols;
	const char *strings;
	const uint32_t *gnu_hash;   /* DT_GNU_HASH, or NULL */
	const uint32_t *sysv_hash;  /* DT_HASH, used when there is no GNU hash */
} elf_object_t;

/*
 * Fills object from one dl_iterate_phdr entry. Returns 0, or -1 when the
 * object has no dynamic symbol table or no hash table to search it by.
 */
SX_HIDDEN int elf_object_open(elf_object_t *object, const struct dl_phdr_info *info);

/*
 * Returns the entry named name that object defines (st_shndx is not
 * SHN_UNDEF), whatever its binding, or NULL. With several versions of the
 * name, the first in hash order is returned.
 */
SX_HIDDEN const ElfW(Sym) *elf_object_find(const elf_object_t *object, const char *name);

/* True when entry takes part in symbol lookup: a global, weak or unique definition. */
SX_HIDDEN bool elf_symbol_is_public(const ElfW(Sym) *entry);

/* True when a dynamic section has a DT_RPATH or DT_RUNPATH entry. */
SX_HIDDEN bool elf_dynamic_has_search_path(const ElfW(Dyn) *dynamic);

/* True when address lies inside one of the PT_LOAD segments of info's object. */
SX_HIDDEN bool elf_object_contains(const struct dl_phdr_info *info, uintptr_t address);

#endif
