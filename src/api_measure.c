/* Peak memory of API-run work; see api_measure.h. */
#include <stddef.h>
#include <string.h>

#include "api_measure.h"
#include "je.h"
#include "mem_limits.h"
#include "log.h"
#include "options.h"
#include "procfs.h"

bool
measure_thread_peak_reset(void)
{
	return sej_mallctl("thread.peak.reset", NULL, NULL, NULL, 0) == 0;
}

bool
measure_thread_peak_read(uint64_t *bytes)
{
	size_t length = sizeof(*bytes);

	*bytes = 0;
	return sej_mallctl("thread.peak.read", bytes, &length, NULL, 0) == 0
	    && length == sizeof(*bytes);
}

static uint64_t
measure_read_rss(void)
{
	self_memory_t self;

	return limits_read_self_memory(options.proc_root, &self) == 0 ? self.rss_bytes : 0;
}

/* VmHWM from <proc_root>/self/status in bytes, or 0 when it cannot be read. */
static uint64_t
measure_read_hwm(void)
{
	char path[LIMITS_PATH_MAX];
	procfs_lines_t lines;
	const char *line;
	size_t length, start, end;
	uint64_t kib = 0;

	if (procfs_join(path, sizeof(path), options.proc_root, "self/status") < 0
	    || procfs_lines_open(&lines, path) != 0) {
		return 0;
	}
	while (procfs_lines_next(&lines, &line, &length) == 1) {
		if (length < 6 || memcmp(line, "VmHWM:", 6) != 0) {
			continue;
		}
		for (start = 6; start < length && (line[start] == ' ' || line[start] == '\t');
		    start++) {
		}
		for (end = start; end < length && line[end] >= '0' && line[end] <= '9'; end++) {
		}
		if (procfs_parse_u64(line + start, end - start, &kib) != 0) {
			kib = 0;
		}
		break;
	}
	procfs_lines_close(&lines);
	return kib * SX_KIB;
}

void
measure_start(measure_t *measure)
{
	memset(measure, 0, sizeof(*measure));
	measure->rss_before_bytes = measure_read_rss();
	measure->hwm_before_bytes = measure_read_hwm();
	measure->start_ms = log_monotonic_ms();
	/*
	 * Last, so that reading the files above is not part of the peak.
	 * NOTE: a measurement nested on the same thread (safeexec_execute
	 * inside a batch function) resets the outer one's thread peak, so the
	 * outer result only contains the peak after the inner call started.
	 */
	measure->thread_peak_valid = measure_thread_peak_reset();
}

/*
 * The process part is a lower bound of the true peak: the growth of the
 * resident set from start to end, or, when the process set a new
 * high-water mark meanwhile, that mark minus the resident set at start.
 * NOTE: work on other threads that allocated and freed memory below the
 * previous high-water mark is not seen.
 */
void
measure_stop(const measure_t *measure, measure_result_t *out)
{
	uint64_t rss_after, hwm_after, thread_peak = 0;

	memset(out, 0, sizeof(*out));
	if (measure->thread_peak_valid && measure_thread_peak_read(&thread_peak)) {
		out->thread_peak_bytes = thread_peak;
	}
	rss_after = measure_read_rss();
	hwm_after = measure_read_hwm();
	out->elapsed_ms = log_monotonic_ms() - measure->start_ms;

	if (rss_after > measure->rss_before_bytes) {
		out->process_peak_bytes = rss_after - measure->rss_before_bytes;
	}
	if (hwm_after > measure->hwm_before_bytes && hwm_after > measure->rss_before_bytes
	    && hwm_after - measure->rss_before_bytes > out->process_peak_bytes) {
		out->process_peak_bytes = hwm_after - measure->rss_before_bytes;
	}
	out->peak_bytes = out->thread_peak_bytes > out->process_peak_bytes
	    ? out->thread_peak_bytes : out->process_peak_bytes;
}
