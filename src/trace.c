/* The timeline trace file; see trace.h for the record format. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "gate.h"
#include "governor.h"
#include "log.h"
#include "options.h"
#include "trace.h"

/* The sampler needs a few KB for the governor's view and the limit readers' buffers. */
#define TRACE_SAMPLER_STACK_BYTES (256 * SX_KIB)

typedef enum {
	TRACE_SAMPLER_STOPPED,
	TRACE_SAMPLER_RUNNING,
	TRACE_SAMPLER_FAILED,   /* pthread_create failed, and this process does not retry */
} trace_sampler_state_t;

static bool trace_ready;
static uint64_t trace_start_ns;
static _Atomic int trace_sampler_state = TRACE_SAMPLER_STOPPED;
static _Atomic bool trace_open_failed;

static uint64_t
trace_clock_ns(clockid_t clock)
{
	struct timespec now;

	clock_gettime(clock, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

bool
trace_enabled(void)
{
	return trace_ready;
}

/* Copies text into out, turning bytes that would break the line format into '_'. */
static void
trace_copy_token(char *out, size_t size, const char *text)
{
	static const char kept[] = "_.,:;/+@%=-";
	size_t length = 0;

	if (text == NULL || text[0] == '\0') {
		text = "-";
	}
	for (; text[length] != '\0' && length + 1 < size; length++) {
		unsigned char c = (unsigned char)text[length];
		bool alphanumeric = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		    || (c >= '0' && c <= '9');

		out[length] = alphanumeric || (c != '\0' && strchr(kept, c) != NULL)
		    ? (char)c : '_';
	}
	out[length] = '\0';
}

static void
trace_write_line(const char *line, size_t length)
{
	int saved_errno = errno;
	/* O_NONBLOCK: a FIFO without a reader fails with ENXIO instead of blocking. */
	int fd = open(options.trace_file,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);

	if (fd < 0) {
		if (!atomic_exchange(&trace_open_failed, true)) {
			log_message(LOG_LEVEL_WARN, "failed to open the trace file %s (errno %d): "
			    "records are dropped until it opens; check that its directory exists "
			    "and is writable", options.trace_file, errno);
		}
		errno = saved_errno;
		return;
	}
	/* One write(2) per record: O_APPEND keeps records of several processes whole. */
	while (length > 0) {
		ssize_t written = write(fd, line, length);

		if (written < 0 && errno == EINTR) {
			continue;
		}
		if (written <= 0) {
			break;
		}
		line += written;
		length -= (size_t)written;
	}
	close(fd);
	errno = saved_errno;
}

static void
trace_write_record(const char *kind, const char *name, uint64_t value_bytes,
    const char *detail)
{
	char line[TRACE_LINE_MAX];
	char name_token[TRACE_NAME_MAX];
	char detail_token[TRACE_DETAIL_MAX];
	governor_view_t view;
	governor_counters_t counters;
	gate_status_t gate;
	uint64_t elapsed_ms = (trace_clock_ns(CLOCK_MONOTONIC) - trace_start_ns) / 1000000u;
	uint64_t epoch_ms = trace_clock_ns(CLOCK_REALTIME) / 1000000u;
	size_t length;

	governor_read_view(&view);
	governor_read_counters(&counters);
	gate_read_status(&gate);
	trace_copy_token(name_token, sizeof(name_token), name);
	trace_copy_token(detail_token, sizeof(detail_token), detail);

	length = fmt_format(line, sizeof(line) - 1,
	    "t=%llu.%03llu epoch=%llu.%03llu pid=%d kind=%s name=%s value=%llu rss=%llu "
	    "usage=%llu limit=%llu margin=%llu headroom=%llu temp=%.1f stalls=%llu "
	    "refusals=%llu detail=%s",
	    (unsigned long long)(elapsed_ms / 1000), (unsigned long long)(elapsed_ms % 1000),
	    (unsigned long long)(epoch_ms / 1000), (unsigned long long)(epoch_ms % 1000),
	    (int)getpid(), kind, name_token, (unsigned long long)value_bytes,
	    (unsigned long long)view.rss_bytes,
	    (unsigned long long)view.effective_usage_bytes,
	    (unsigned long long)view.effective_limit_bytes,
	    (unsigned long long)view.margin_bytes,
	    view.effective_limit_bytes == 0 ? 0ULL
	    : (unsigned long long)view.headroom_bytes,
	    gate.thermal_available ? gate.celsius : NAN,
	    (unsigned long long)counters.stalls, (unsigned long long)counters.refusals,
	    detail_token);
	line[length++] = '\n';
	trace_write_line(line, length);
}

void
trace_sample(const char *name)
{
	if (trace_ready) {
		trace_write_record("sample", name, 0, NULL);
	}
}

static void *
trace_sampler_main(void *arg)
{
	struct timespec next;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		next.tv_nsec += TRACE_SAMPLE_INTERVAL_MS * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec += next.tv_nsec / 1000000000L;
			next.tv_nsec %= 1000000000L;
		}
		/* Absolute deadlines: the time spent writing a record does not add up as drift. */
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
		}
		trace_sample("interval");
	}
	return NULL;
}

/* Starts the sampler unless it runs or failed to start in this process. */
static void
trace_sampler_ensure(void)
{
	int expected = TRACE_SAMPLER_STOPPED;
	pthread_attr_t attributes;
	sigset_t all_signals, saved_signals;
	pthread_t thread;
	int error;

	if (atomic_load_explicit(&trace_sampler_state, memory_order_acquire)
	    != TRACE_SAMPLER_STOPPED
	    || !atomic_compare_exchange_strong(&trace_sampler_state, &expected,
	    TRACE_SAMPLER_RUNNING)) {
		return;
	}

	/* The sampler blocks every signal, so signals meant for the program reach its threads. */
	sigfillset(&all_signals);
	pthread_sigmask(SIG_SETMASK, &all_signals, &saved_signals);
	pthread_attr_init(&attributes);
	pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attributes, TRACE_SAMPLER_STACK_BYTES);
	error = pthread_create(&thread, &attributes, trace_sampler_main, NULL);
	pthread_attr_destroy(&attributes);
	pthread_sigmask(SIG_SETMASK, &saved_signals, NULL);

	if (error != 0) {
		atomic_store(&trace_sampler_state, TRACE_SAMPLER_FAILED);
		log_message(LOG_LEVEL_WARN, "failed to start the trace sampler thread (errno %d): "
		    "the trace gets events but no samples", error);
		return;
	}
	pthread_setname_np(thread, "safeexec-trace");
}

/* Threads do not survive fork: the child's next trace call starts its own sampler. */
static void
trace_fork_child(void)
{
	atomic_store(&trace_sampler_state, TRACE_SAMPLER_STOPPED);
}

void
trace_init(void)
{
	static const char header[] =
	    "# safeexec trace v1: one record per line, space-separated key=value fields: "
	    "t epoch pid kind name value rss usage limit margin headroom temp stalls "
	    "refusals detail (see src/trace.h)\n";
	char comm[64];
	char comm_path[] = "/proc/self/comm";
	ssize_t comm_length = -1;
	int fd;

	if (trace_ready || options.trace_file[0] == '\0') {
		return;
	}
	trace_start_ns = trace_clock_ns(CLOCK_MONOTONIC);
	trace_ready = true;

	fd = open(comm_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		comm_length = read(fd, comm, sizeof(comm) - 1);
		close(fd);
	}
	if (comm_length > 0 && comm[comm_length - 1] == '\n') {
		comm_length--;
	}
	comm[comm_length > 0 ? comm_length : 0] = '\0';

	trace_write_line(header, sizeof(header) - 1);
	trace_write_record("sample", "start", 0, comm);
	pthread_atfork(NULL, NULL, trace_fork_child);
	trace_sampler_ensure();
}

void
trace_event(const char *name, uint64_t value_bytes, const char *detail)
{
	if (!trace_ready) {
		return;
	}
	trace_sampler_ensure();
	trace_write_record("event", name, value_bytes, detail);
}
