/* Fuzzes limits_parse_psi with /proc/pressure/{memory,cpu,io} text. */
#include <math.h>

#include "fuzz_support.h"
#include "mem_limits.h"

static void
fuzz_check_percent(double percent)
{
	if (!(percent >= 0.0 && percent <= 100.0)) {
		__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_terminated_copy(data, size);
	psi_reading_t psi;

	if (limits_parse_psi(text, &psi) == 0) {
		/* The contract: every accepted average is a percentage. */
		if (!psi.present) {
			__builtin_trap();
		}
		fuzz_check_percent(psi.some_avg10);
		fuzz_check_percent(psi.some_avg60);
		if (!isnan(psi.full_avg10)) {
			fuzz_check_percent(psi.full_avg10);
		}
	} else if (psi.present) {
		__builtin_trap();
	}
	free(text);
	return 0;
}
