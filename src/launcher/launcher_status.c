/* `safeexec config` and `safeexec status`. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "governor.h"
#include "launcher.h"
#include "options.h"

static const char *
launcher_source_text(const option_info_t *info)
{
	switch (info->source) {
	case OPTION_SOURCE_DEFAULT:
		return "default";
	case OPTION_SOURCE_FILE:
	case OPTION_SOURCE_ENV:
		return info->origin;
	}
	return "default";
}

int
launcher_print_config(FILE *out)
{
	option_info_t info;
	size_t i;

	fprintf(out, "%-18s %-24s %s\n", "OPTION", "VALUE", "FROM");
	for (i = 0; options_describe(i, &info); i++) {
		fprintf(out, "%-18s %-24s %s\n", info.key,
		    info.value_text[0] != '\0' ? info.value_text : "(empty)",
		    launcher_source_text(&info));
	}
	return 0;
}

/* Writes text as a JSON string, escaping what JSON requires. */
static void
launcher_json_string(FILE *out, const char *text)
{
	fputc('"', out);
	for (; *text != '\0'; text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '"' || c == '\\') {
			fprintf(out, "\\%c", c);
		} else if (c < 0x20) {
			fprintf(out, "\\u%04x", c);
		} else {
			fputc(c, out);
		}
	}
	fputc('"', out);
}

static void
launcher_json_number(FILE *out, double value)
{
	if (isnan(value) || isinf(value)) {
		fputs("null", out);
	} else {
		fprintf(out, "%.2f", value);
	}
}

static const char *
launcher_effective_source(const governor_view_t *view)
{
	return view->effective_source < LIMIT_SOURCE_COUNT
	    ? limits_source_name(view->effective_source) : "none";
}

static void
launcher_status_json(FILE *out, const governor_view_t *view)
{
	int source;

	fprintf(out, "{\"memory\": {\"limit_bytes\": %llu, \"limit_source\": ",
	    (unsigned long long)view->effective_limit_bytes);
	launcher_json_string(out, launcher_effective_source(view));
	fprintf(out, ", \"margin_bytes\": %llu, \"available_bytes\": %llu, "
	    "\"footprint_bytes\": %llu, \"usage_bytes\": %llu, \"memtotal_bytes\": %llu, "
	    "\"memavailable_bytes\": %llu, \"psi_some_avg10\": ",
	    (unsigned long long)view->margin_bytes,
	    (unsigned long long)(view->headroom_bytes == UINT64_MAX
	    ? view->memavailable_bytes : view->headroom_bytes),
	    (unsigned long long)view->rss_bytes,
	    (unsigned long long)view->effective_usage_bytes,
	    (unsigned long long)view->memtotal_bytes,
	    (unsigned long long)view->memavailable_bytes);
	launcher_json_number(out, view->psi_memory.present ? view->psi_memory.some_avg10 : NAN);
	fputs(", \"sources\": {", out);
	for (source = 0; source < LIMIT_SOURCE_COUNT; source++) {
		const limit_reading_t *reading = &view->readings[source];

		fprintf(out, "%s", source > 0 ? ", " : "");
		launcher_json_string(out, limits_source_name((limit_source_t)source));
		fprintf(out, ": {\"present\": %s, \"limit_bytes\": %llu, \"usage_bytes\": %llu, "
		    "\"detail\": ", reading->present ? "true" : "false",
		    (unsigned long long)reading->limit_bytes,
		    (unsigned long long)reading->usage_bytes);
		launcher_json_string(out, reading->detail);
		fputc('}', out);
	}
	fputs("}}", out);
	launcher_status_json_gate(out);
	fputs("}\n", out);
}

static void
launcher_status_text(FILE *out, const governor_view_t *view)
{
	int source;

	fprintf(out, "Memory limit sources:\n");
	for (source = 0; source < LIMIT_SOURCE_COUNT; source++) {
		const limit_reading_t *reading = &view->readings[source];

		if (reading->present) {
			fprintf(out, "  %-12s %10.1f MiB  (usage %.1f MiB)  %s\n",
			    limits_source_name((limit_source_t)source),
			    (double)reading->limit_bytes / (double)SX_MIB,
			    (double)reading->usage_bytes / (double)SX_MIB, reading->detail);
		} else {
			fprintf(out, "  %-12s       none  %s\n",
			    limits_source_name((limit_source_t)source), reading->detail);
		}
	}
	fprintf(out, "Effective limit:   %.1f MiB (%s)\n",
	    (double)view->effective_limit_bytes / (double)SX_MIB,
	    launcher_effective_source(view));
	fprintf(out, "Safety margin:     %.1f MiB\n", (double)view->margin_bytes / (double)SX_MIB);
	if (view->headroom_bytes != UINT64_MAX) {
		fprintf(out, "Headroom:          %.1f MiB\n",
		    (double)view->headroom_bytes / (double)SX_MIB);
	}
	fprintf(out, "Footprint (RSS):   %.1f MiB\n", (double)view->rss_bytes / (double)SX_MIB);
	if (view->psi_memory.present) {
		fprintf(out, "Memory PSI:        some avg10 %.2f%%\n", view->psi_memory.some_avg10);
	} else {
		fprintf(out, "Memory PSI:        not available\n");
	}
	launcher_status_text_gate(out);
}

int
launcher_print_status(FILE *out, bool json)
{
	governor_view_t view;

	governor_discover_limits();
	governor_read_view(&view);
	if (json) {
		launcher_status_json(out, &view);
	} else {
		launcher_status_text(out, &view);
	}
	return 0;
}
