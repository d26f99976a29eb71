/*
 * The timeline trace: when the option trace_file (SAFEEXEC_TRACE_FILE) is
 * set, the shim appends one text line per record to that file. A sampler
 * thread writes a "sample" record every TRACE_SAMPLE_INTERVAL_MS, and the
 * governor, the gates, the API and the Python module write "event" records
 * (stall, refusal, purge, thermal pause, batch boundaries, marks).
 *
 * Format. Lines starting with '#' are comments. Every other line is a record
 * of space-separated key=value fields, always these keys in this order:
 *
 *   t=<seconds since this process started tracing, 3 decimals>
 *   epoch=<Unix time in seconds, 3 decimals>
 *   pid=<process id>
 *   kind=<sample|event>
 *   name=<"interval", "start" or "exit" for samples; the event's name>
 *   value=<bytes the event concerns, e.g. a refused request; 0 if none>
 *   rss=<resident set of the process, bytes>
 *   usage=<usage counted against the effective limit, bytes>
 *   limit=<effective memory limit, bytes; 0 when there is none>
 *   margin=<safety margin kept below the limit, bytes>
 *   headroom=<limit - margin - usage, bytes; 0 past it or without a limit>
 *   temp=<CPU temperature in degrees Celsius, 1 decimal, or nan>
 *   stalls=<governor stalls since start>
 *   refusals=<governor refusals since start>
 *   detail=<free text without spaces, or "-">
 *
 * Marks from safeexec_trace_mark (the C API and the Python module's batch
 * boundaries) are events named "mark" with the detail "<event>:<detail>".
 * name and detail keep letters, digits and _ . , : ; / + @ % = - and turn
 * every other byte into '_'. detail is the last field, so it may contain
 * '='. Several processes (forked children, programs started under the
 * launcher) may append to one file, so readers group lines by pid. epoch
 * puts every process on one time axis. A forked child keeps its parent's
 * origin for t. Nothing rotates the file: a sample adds about 200 bytes,
 * about 7 MB per hour of run time.
 *
 * Every record is formatted with fmt_format on the stack and written with a
 * single write(2) to a descriptor opened with O_APPEND for that record and
 * closed right after it. Keeping a descriptor open would save two system
 * calls per record, at about 10 records per second. But a program may close
 * or dup2 over descriptors it does not know about, and a reused number would
 * then send records into the program's own file. log.c writes its file the
 * same way for the same reason.
 */
#ifndef SX_TRACE_H
#define SX_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

#define TRACE_SAMPLE_INTERVAL_MS 100
/* Max length of one record, newline included; longer details are cut. */
#define TRACE_LINE_MAX 512
#define TRACE_NAME_MAX 32
#define TRACE_DETAIL_MAX 200

/*
 * Start-up, after options_load and governor_init: when trace_file is set,
 * writes the format comment and a "start" sample, registers the fork
 * handler and starts the sampler thread. Allocates (pthread_create,
 * pthread_atfork); call it from the constructor only.
 */
SX_HIDDEN void trace_init(void);

/* Returns true when trace_init ran with a trace file set. */
SX_HIDDEN bool trace_enabled(void);

/*
 * Appends an event record with the current readings. name and detail may
 * be NULL. Takes no lock and does not allocate, so it may be called from
 * any thread, including from the slow path of malloc. The exception is the
 * first call in a forked child, which restarts the sampler thread that the
 * fork did not copy. pthread_create then makes small allocations (the new
 * thread's TLS), and these stay below the large-request threshold, so they
 * never reach the governor.
 */
SX_HIDDEN void trace_event(const char *name, uint64_t value_bytes, const char *detail);

/* Appends a "sample" record now, with name as its name; used at exit. */
SX_HIDDEN void trace_sample(const char *name);

#endif
