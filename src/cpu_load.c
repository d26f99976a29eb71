/* CPU pressure, load average and core counts; see cpu_load.h. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "cpu_load.h"
#include "fmt.h"
#include "mem_limits.h"
#include "procfs.h"

#define CPU_LOAD_PATH_MAX 1200

int
cpu_load_parse_loadavg(const char *text, double *load_1min)
{
	double whole = 0.0, scale = 0.1, fraction = 0.0;
	const char *cursor = text;

	if (*cursor < '0' || *cursor > '9') {
		return -EINVAL;
	}
	while (*cursor >= '0' && *cursor <= '9') {
		whole = whole * 10.0 + (double)(*cursor++ - '0');
	}
	if (*cursor == '.') {
		cursor++;
		while (*cursor >= '0' && *cursor <= '9') {
			fraction += scale * (double)(*cursor++ - '0');
			scale /= 10.0;
		}
	}
	if (*cursor != ' ' && *cursor != '\n' && *cursor != '\0') {
		return -EINVAL;
	}
	*load_1min = whole + fraction;
	return 0;
}

int
cpu_load_read(const char *proc_root, unsigned online_cpus, cpu_load_t *out)
{
	char path[CPU_LOAD_PATH_MAX], text[256];
	psi_reading_t psi;
	double load_1min;

	out->psi_available = false;
	out->psi_some_avg10 = NAN;
	out->loadavg_available = false;
	out->load_per_cpu = NAN;

	if (limits_read_psi(proc_root, "cpu", &psi) == 0 && psi.present) {
		out->psi_available = true;
		out->psi_some_avg10 = psi.some_avg10;
	}
	if (procfs_join(path, sizeof(path), proc_root, "loadavg") >= 0
	    && procfs_read_file(path, text, sizeof(text)) > 0
	    && cpu_load_parse_loadavg(text, &load_1min) == 0) {
		out->loadavg_available = true;
		out->load_per_cpu = load_1min / (double)(online_cpus > 0 ? online_cpus : 1);
	}
	return out->psi_available || out->loadavg_available ? 0 : -ENOENT;
}

double
cpu_load_percent(const cpu_load_t *load)
{
	if (load->psi_available) {
		return load->psi_some_avg10;
	}
	if (load->loadavg_available) {
		return load->load_per_cpu * 100.0;
	}
	return NAN;
}

/* Parses an unsigned decimal number at *cursor and moves past it. */
static bool
cpu_load_parse_number(const char **cursor, unsigned *value)
{
	uint64_t number = 0;

	if (**cursor < '0' || **cursor > '9') {
		return false;
	}
	while (**cursor >= '0' && **cursor <= '9') {
		number = number * 10 + (uint64_t)(*(*cursor)++ - '0');
		if (number > UINT32_MAX) {
			return false;
		}
	}
	*value = (unsigned)number;
	return true;
}

int
cpu_load_parse_cpu_list(const char *text, unsigned *cpus, size_t max)
{
	const char *cursor = text;
	size_t count = 0;

	while (*cursor != '\0' && *cursor != '\n') {
		unsigned first, last, cpu;

		if (!cpu_load_parse_number(&cursor, &first)) {
			return -EINVAL;
		}
		last = first;
		if (*cursor == '-') {
			cursor++;
			if (!cpu_load_parse_number(&cursor, &last) || last < first) {
				return -EINVAL;
			}
		}
		for (cpu = first; cpu <= last && cpu < CPU_LOAD_CPUS_MAX; cpu++) {
			if (count < max) {
				cpus[count++] = cpu;
			}
		}
		if (*cursor == ',') {
			cursor++;
		} else if (*cursor != '\0' && *cursor != '\n') {
			return -EINVAL;
		}
	}
	return (int)count;
}

/* Reads the online CPU list into a new array; returns the count, 0 on failure. */
static int
cpu_load_read_online(const char *sysfs_root, unsigned **cpus)
{
	char path[CPU_LOAD_PATH_MAX], text[4096];
	int count;

	*cpus = NULL;
	if (procfs_join(path, sizeof(path), sysfs_root, "devices/system/cpu/online") < 0
	    || procfs_read_file(path, text, sizeof(text)) <= 0) {
		return 0;
	}
	*cpus = calloc(CPU_LOAD_CPUS_MAX, sizeof(unsigned));
	if (*cpus == NULL) {
		return 0;
	}
	count = cpu_load_parse_cpu_list(text, *cpus, CPU_LOAD_CPUS_MAX);
	return count > 0 ? count : 0;
}

unsigned
cpu_load_online_cpus(const char *sysfs_root)
{
	unsigned *cpus;
	int count = cpu_load_read_online(sysfs_root, &cpus);
	long configured;

	free(cpus);
	if (count > 0) {
		return (unsigned)count;
	}
	configured = sysconf(_SC_NPROCESSORS_ONLN);
	return configured > 0 ? (unsigned)configured : 1;
}

/* Reads one topology number of a CPU; false when missing. */
static bool
cpu_load_read_topology(const char *sysfs_root, unsigned cpu, const char *name,
    unsigned *value)
{
	char relative[128], path[CPU_LOAD_PATH_MAX], text[32];
	const char *cursor = text;

	fmt_format(relative, sizeof(relative), "devices/system/cpu/cpu%u/topology/%s", cpu, name);
	if (procfs_join(path, sizeof(path), sysfs_root, relative) < 0
	    || procfs_read_file(path, text, sizeof(text)) <= 0) {
		return false;
	}
	return cpu_load_parse_number(&cursor, value);
}

unsigned
cpu_load_physical_cores(const char *sysfs_root)
{
	unsigned *cpus;
	uint64_t *cores;
	int count = cpu_load_read_online(sysfs_root, &cpus);
	unsigned distinct = 0;
	int i;

	cores = count > 0 ? calloc((size_t)count, sizeof(uint64_t)) : NULL;
	for (i = 0; cores != NULL && i < count; i++) {
		unsigned package, core, j;
		uint64_t key;

		if (!cpu_load_read_topology(sysfs_root, cpus[i], "physical_package_id", &package)
		    || !cpu_load_read_topology(sysfs_root, cpus[i], "core_id", &core)) {
			distinct = 0;
			break;
		}
		key = ((uint64_t)package << 32) | core;
		for (j = 0; j < distinct && cores[j] != key; j++) {
		}
		if (j == distinct) {
			cores[distinct++] = key;
		}
	}
	free(cores);
	free(cpus);
	return distinct > 0 ? distinct : cpu_load_online_cpus(sysfs_root);
}
