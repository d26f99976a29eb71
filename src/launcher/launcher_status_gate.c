/* The thermal and CPU part of `safeexec status`. */
#include <math.h>
#include <stdio.h>

#include "gate.h"
#include "launcher.h"

void
launcher_status_json_gate(FILE *out)
{
	gate_status_t gate;

	gate_init();
	gate_read_status(&gate);
	fputs(", \"thermal\": {\"celsius\": ", out);
	if (gate.thermal_available && !isnan(gate.celsius)) {
		fprintf(out, "%.1f", gate.celsius);
	} else {
		fputs("null", out);
	}
	fputs(", \"source\": ", out);
	fprintf(out, "\"%s\"", gate.thermal_available ? gate.source : "none");
	fprintf(out, ", \"unavailable_reason\": \"%s\"", gate.thermal_available ? ""
	    : gate.unavailable_reason);
	fprintf(out, ", \"limit_celsius\": %.1f, \"resume_celsius\": %.1f}",
	    gate.limit_celsius, gate.resume_celsius);
	fputs(", \"cpu\": {\"psi_some_avg10\": ", out);
	if (gate.cpu_psi_available) {
		fprintf(out, "%.2f", gate.cpu_psi_some_avg10);
	} else {
		fputs("null", out);
	}
	fputs(", \"load_per_cpu\": ", out);
	if (isnan(gate.load_per_cpu) || isinf(gate.load_per_cpu)) {
		fputs("null", out);
	} else {
		fprintf(out, "%.2f", gate.load_per_cpu);
	}
	fprintf(out, ", \"physical_cores\": %u}", gate.physical_cores);
}

void
launcher_status_text_gate(FILE *out)
{
	gate_status_t gate;

	gate_init();
	gate_read_status(&gate);
	if (gate.thermal_available) {
		fprintf(out, "Temperature:       %.1f C from %s (limit %.1f C, resume %.1f C)\n",
		    gate.celsius, gate.source, gate.limit_celsius, gate.resume_celsius);
	} else {
		fprintf(out, "Temperature:       not available (%s); thermal gating is off\n",
		    gate.unavailable_reason);
	}
	if (gate.cpu_psi_available) {
		fprintf(out, "CPU PSI:           some avg10 %.2f%%\n", gate.cpu_psi_some_avg10);
	} else {
		fprintf(out, "CPU PSI:           not available; load per CPU %.2f\n",
		    gate.load_per_cpu);
	}
	fprintf(out, "Physical cores:    %u\n", gate.physical_cores);
}
