/*
 * Symbol lookup in a mapped object's dynamic symbol table through its GNU
 * or System V hash table, the way the dynamic loader does it. See
 * elf_lookup.h.
 */
#include <string.h>

#include "elf_lookup.h"

/*
 * Most loaders rewrite the addresses in a writable .dynamic to absolute
 * ones at load time; read-only ones (the vDSO's) keep file offsets. An
 * offset is always below the object's load address.
 */
static const void *
elf_dynamic_pointer(const struct dl_phdr_info *info, ElfW(Addr) value)
{
	return (const void *)(value < info->dlpi_addr ? info->dlpi_addr + value : value);
}

static const ElfW(Dyn) *
elf_find_dynamic(const struct dl_phdr_info *info)
{
	ElfW(Half) i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) {
			return (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
		}
	}
	return NULL;
}

int
elf_object_open(elf_object_t *object, const struct dl_phdr_info *info)
{
	const ElfW(Dyn) *entry = elf_find_dynamic(info);

	memset(object, 0, sizeof(*object));
	if (entry == NULL) {
		return -1;
	}
	for (; entry->d_tag != DT_NULL; entry++) {
		const void *pointer = elf_dynamic_pointer(info, entry->d_un.d_ptr);

		switch (entry->d_tag) {
		case DT_SYMTAB:
			object->symbols = pointer;
			break;
		case DT_STRTAB:
			object->strings = pointer;
			break;
		case DT_GNU_HASH:
			object->gnu_hash = pointer;
			break;
		case DT_HASH:
			object->sysv_hash = pointer;
			break;
		default:
			break;
		}
	}
	if (object->symbols == NULL || object->strings == NULL
	    || (object->gnu_hash == NULL && object->sysv_hash == NULL)) {
		return -1;
	}
	return 0;
}

static uint32_t
elf_gnu_hash(const char *name)
{
	uint32_t hash = 5381;

	for (; *name != '\0'; name++) {
		hash = hash * 33 + (unsigned char)*name;
	}
	return hash;
}

static uint32_t
elf_sysv_hash(const char *name)
{
	uint32_t hash = 0, high;

	for (; *name != '\0'; name++) {
		hash = (hash << 4) + (unsigned char)*name;
		high = hash & 0xf0000000u;
		hash ^= high >> 24;
		hash &= ~high;
	}
	return hash;
}

static const ElfW(Sym) *
elf_match(const elf_object_t *object, uint32_t index, const char *name)
{
	const ElfW(Sym) *entry = &object->symbols[index];

	if (entry->st_shndx == SHN_UNDEF || strcmp(object->strings + entry->st_name, name) != 0) {
		return NULL;
	}
	return entry;
}

/*
 * Layout: nbuckets, symoffset, bloom_size, bloom_shift, the bloom words,
 * the buckets, then one hash per symbol from symoffset on, whose low bit
 * marks the end of a chain.
 */
static const ElfW(Sym) *
elf_find_gnu(const elf_object_t *object, const char *name)
{
	const uint32_t *table = object->gnu_hash;
	const uint32_t bucket_count = table[0], first = table[1], bloom_size = table[2];
	const uint32_t bloom_shift = table[3], word_bits = sizeof(ElfW(Addr)) * 8;
	const ElfW(Addr) *bloom = (const ElfW(Addr) *)(table + 4);
	const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
	const uint32_t *chain = buckets + bucket_count;
	const uint32_t hash = elf_gnu_hash(name);
	ElfW(Addr) word, mask;
	uint32_t index;

	if (bucket_count == 0 || bloom_size == 0) {
		return NULL;
	}
	word = bloom[(hash / word_bits) % bloom_size];
	mask = ((ElfW(Addr))1 << (hash % word_bits))
	    | ((ElfW(Addr))1 << ((hash >> bloom_shift) % word_bits));
	if ((word & mask) != mask) {
		return NULL;
	}
	for (index = buckets[hash % bucket_count]; index >= first && index != 0; index++) {
		uint32_t chained = chain[index - first];

		if ((chained | 1) == (hash | 1)) {
			const ElfW(Sym) *entry = elf_match(object, index, name);

			if (entry != NULL) {
				return entry;
			}
		}
		if ((chained & 1) != 0) {
			break;
		}
	}
	return NULL;
}

/* Layout: nbucket, nchain, the buckets, then the chain, ending at STN_UNDEF. */
static const ElfW(Sym) *
elf_find_sysv(const elf_object_t *object, const char *name)
{
	const uint32_t *table = object->sysv_hash;
	const uint32_t bucket_count = table[0], chain_count = table[1];
	const uint32_t *buckets = table + 2, *chain = buckets + bucket_count;
	uint32_t index, steps = 0;

	if (bucket_count == 0) {
		return NULL;
	}
	/* steps bounds the walk, so a corrupt chain cannot loop forever. */
	for (index = buckets[elf_sysv_hash(name) % bucket_count];
	    index != STN_UNDEF && index < chain_count && steps++ < chain_count;
	    index = chain[index]) {
		const ElfW(Sym) *entry = elf_match(object, index, name);

		if (entry != NULL) {
			return entry;
		}
	}
	return NULL;
}

const ElfW(Sym) *
elf_object_find(const elf_object_t *object, const char *name)
{
	if (object->gnu_hash != NULL) {
		return elf_find_gnu(object, name);
	}
	return elf_find_sysv(object, name);
}

bool
elf_symbol_is_public(const ElfW(Sym) *entry)
{
	unsigned binding = ELF_SYMBOL_BINDING(entry->st_info);

	return binding == STB_GLOBAL || binding == STB_WEAK || binding == STB_GNU_UNIQUE;
}

bool
elf_object_contains(const struct dl_phdr_info *info, uintptr_t address)
{
	ElfW(Half) i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + segment->p_vaddr;

		if (segment->p_type == PT_LOAD && address >= start
		    && address - start < segment->p_memsz) {
			return true;
		}
	}
	return false;
}

bool
elf_dynamic_has_search_path(const ElfW(Dyn) *dynamic)
{
	for (; dynamic != NULL && dynamic->d_tag != DT_NULL; dynamic++) {
		if (dynamic->d_tag == DT_RPATH || dynamic->d_tag == DT_RUNPATH) {
			return true;
		}
	}
	return false;
}
