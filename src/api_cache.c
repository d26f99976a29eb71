/* L3 cache size detection; see api_cache.h. */
#include <dlfcn.h>
#include <hwloc.h>
#include <pthread.h>
#include <string.h>

#include "api_cache.h"
#include "mem_limits.h"
#include "log.h"
#include "options.h"
#include "procfs.h"
#include "safeexec.h"

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static uint64_t cache_bytes;
static const char *cache_source;

bool
cache_parse_size(const char *text, uint64_t *bytes)
{
	size_t digits = strspn(text, "0123456789");
	const char *suffix = text + digits;
	uint64_t value, unit = 1;

	if (procfs_parse_u64(text, digits, &value) != 0) {
		return false;
	}
	if (*suffix == 'K') {
		unit = SX_KIB;
		suffix++;
	} else if (*suffix == 'M') {
		unit = SX_MIB;
		suffix++;
	}
	if (suffix[strspn(suffix, " \t\r\n")] != '\0') {
		return false;
	}
	return procfs_multiply_u64(value, unit, bytes) && *bytes > 0;
}

/*
 * hwloc is loaded with dlopen on the first batch call, not linked: linking it
 * would load libhwloc and libudev into every process the shim is preloaded
 * into. The header gives the types; the soname is that of Debian 12's libhwloc15.
 */
#define CACHE_HWLOC_SONAME "libhwloc.so.15"

typedef struct {
	int (*topology_init)(hwloc_topology_t *);
	int (*topology_load)(hwloc_topology_t);
	void (*topology_destroy)(hwloc_topology_t);
	int (*get_type_depth)(hwloc_topology_t, hwloc_obj_type_t);
	hwloc_obj_t (*get_obj_by_depth)(hwloc_topology_t, int, unsigned);
} cache_hwloc_api_t;

static bool
cache_load_hwloc(void *library, cache_hwloc_api_t *api)
{
	*(void **)&api->topology_init = dlsym(library, "hwloc_topology_init");
	*(void **)&api->topology_load = dlsym(library, "hwloc_topology_load");
	*(void **)&api->topology_destroy = dlsym(library, "hwloc_topology_destroy");
	*(void **)&api->get_type_depth = dlsym(library, "hwloc_get_type_depth");
	*(void **)&api->get_obj_by_depth = dlsym(library, "hwloc_get_obj_by_depth");
	return api->topology_init != NULL && api->topology_load != NULL
	    && api->topology_destroy != NULL && api->get_type_depth != NULL
	    && api->get_obj_by_depth != NULL;
}

static uint64_t
cache_read_hwloc(void)
{
	void *library = dlopen(CACHE_HWLOC_SONAME, RTLD_NOW | RTLD_LOCAL);
	cache_hwloc_api_t api;
	hwloc_topology_t topology;
	hwloc_obj_t cache;
	uint64_t bytes = 0;
	int depth;

	if (library == NULL) {
		log_message(LOG_LEVEL_DEBUG, "%s not loaded (%s); reading the L3 size from "
		    "sysfs", CACHE_HWLOC_SONAME, dlerror());
		return 0;
	}
	if (!cache_load_hwloc(library, &api) || api.topology_init(&topology) != 0) {
		goto out;
	}
	if (api.topology_load(topology) == 0) {
		depth = api.get_type_depth(topology, HWLOC_OBJ_L3CACHE);
		cache = depth >= 0 ? api.get_obj_by_depth(topology, depth, 0) : NULL;
		if (cache != NULL && cache->attr != NULL) {
			bytes = cache->attr->cache.size;
		}
	}
	api.topology_destroy(topology);
out:
	dlclose(library);
	return bytes;
}

static uint64_t
cache_read_sysfs(void)
{
	char path[LIMITS_PATH_MAX], text[64];
	uint64_t bytes;

	if (procfs_join(path, sizeof(path), options.sysfs_root,
	    "devices/system/cpu/cpu0/cache/index3/size") < 0
	    || procfs_read_file(path, text, sizeof(text)) < 0
	    || !cache_parse_size(text, &bytes)) {
		return 0;
	}
	return bytes;
}

static void
cache_detect(void)
{
	if (strcmp(options.sysfs_root, "/sys") == 0) {
		cache_bytes = cache_read_hwloc();
		cache_source = "hwloc";
	}
	if (cache_bytes == 0) {
		cache_bytes = cache_read_sysfs();
		cache_source = "sysfs";
	}
	if (cache_bytes == 0) {
		cache_bytes = CACHE_L3_DEFAULT_BYTES;
		cache_source = "default";
	}
	log_message(LOG_LEVEL_DEBUG, "L3 cache: %llu KiB (%s)",
	    (unsigned long long)(cache_bytes / SX_KIB), cache_source);
}

uint64_t
cache_l3_bytes(const char **source)
{
	pthread_once(&cache_once, cache_detect);
	if (source != NULL) {
		*source = cache_source;
	}
	return cache_bytes;
}

SX_EXPORT uint64_t
safeexec_l3_cache_bytes(void)
{
	return cache_l3_bytes(NULL);
}
