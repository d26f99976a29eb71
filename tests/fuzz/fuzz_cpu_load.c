/*
 * Fuzzes the CPU load readers' parsers: cpu_load_parse_cpu_list with the
 * text of /sys/devices/system/cpu/online, and cpu_load_parse_loadavg with
 * /proc/loadavg. The first input byte sets how many entries the list may hold.
 */
#include <math.h>

#include "cpu_load.h"
#include "fuzz_support.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max = 8;
	unsigned *cpus;
	double load = 0;
	char *text;
	int count, i;

	if (size > 0) {
		max = data[0] % 64;
		data++;
		size--;
	}
	text = fuzz_terminated_copy(data, size);
	cpus = malloc((max > 0 ? max : 1) * sizeof(*cpus));
	if (cpus == NULL) {
		abort();
	}
	count = cpu_load_parse_cpu_list(text, cpus, max);
	if (count > (int)max) {
		__builtin_trap();
	}
	for (i = 0; i < count; i++) {
		if (cpus[i] >= CPU_LOAD_CPUS_MAX) {
			__builtin_trap();
		}
	}
	if (cpu_load_parse_loadavg(text, &load) == 0 && !(load >= 0)) {
		__builtin_trap();
	}
	free(cpus);
	free(text);
	return 0;
}
