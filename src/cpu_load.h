/*
 * CPU load as the gate measures it: PSI cpu pressure ("some avg10", percent of
 * time in which some runnable task waited for a CPU), or, on kernels
 * without PSI, the 1-minute load average per online CPU x 100. Also the
 * online CPU and physical core counts. Files are read under an injectable
 * /proc and /sys root, so fixture trees can stand in for the machine.
 */
#ifndef SX_CPU_LOAD_H
#define SX_CPU_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/* Max CPU number taken from a CPU list; higher numbers are ignored. */
#define CPU_LOAD_CPUS_MAX 8192

typedef struct {
	bool psi_available;
	double psi_some_avg10;     /* percent */
	bool loadavg_available;
	double load_per_cpu;       /* 1-minute load average / online CPUs */
} cpu_load_t;

/*
 * Reads <proc_root>/pressure/cpu and <proc_root>/loadavg. online_cpus
 * divides the load average (at least 1 is used). Returns 0 when either
 * source was read, -ENOENT when neither was. Allocation-free.
 */
SX_HIDDEN int cpu_load_read(const char *proc_root, unsigned online_cpus, cpu_load_t *out);

/* The value compared with cpu_limit: PSI when available, else load per CPU x 100; NaN without either. */
SX_HIDDEN double cpu_load_percent(const cpu_load_t *load);

/* Online CPUs from <sysfs_root>/devices/system/cpu/online, else sysconf; at least 1. */
SX_HIDDEN unsigned cpu_load_online_cpus(const char *sysfs_root);

/*
 * Physical cores: distinct (physical_package_id, core_id) pairs among the
 * online CPUs, from <sysfs_root>/devices/system/cpu/cpuN/topology. SMT
 * siblings share a pair. Falls back to the online CPU count when the
 * topology files are missing. Allocates; start-up only.
 */
SX_HIDDEN unsigned cpu_load_physical_cores(const char *sysfs_root);

/*
 * Parses a kernel CPU list such as "0-3,8,10-11" into cpus (ascending as
 * written, at most max entries). Returns the number of entries or -EINVAL.
 */
SX_HIDDEN int cpu_load_parse_cpu_list(const char *text, unsigned *cpus, size_t max);

/* Parses the first field of /proc/loadavg. Returns 0 or -EINVAL. */
SX_HIDDEN int cpu_load_parse_loadavg(const char *text, double *load_1min);

#endif
