/* The thermal and CPU-load gate; see gate.h. */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "cpu_load.h"
#include "fmt.h"
#include "gate.h"
#include "log.h"
#include "options.h"
#include "thermal.h"

/* Value of a shared reading whose file could not be read or was implausible. */
#define GATE_NO_READING INT64_MIN
/* Repeated pause and resume lines are held back for this long. */
#define GATE_LOG_INTERVAL_MS 5000

/* One reading shared by all threads: fixed-point value (x1000) and when it was taken. */
typedef struct {
	_Atomic uint64_t read_ms;     /* monotonic ms; 0 before the first reading */
	_Atomic int64_t value_milli;
} gate_reading_t;

/* Written by gate_init only, before gate_ready is set. */
static thermal_source_t gate_thermal;
static unsigned gate_online_cpus = 1;
static unsigned gate_physical_cores = 1;
static _Atomic bool gate_ready;

static gate_reading_t gate_temperature = { 0, GATE_NO_READING };
static gate_reading_t gate_cpu_load = { 0, GATE_NO_READING };
static _Atomic bool gate_thermal_hot;
static _Atomic bool gate_cpu_over;
/*
 * Set when a pause ended at its max wait, cleared when the reading is back
 * under the limit. While set, gate points do not pause again: one full wait
 * per hot (or overloaded) episode, not one per call.
 */
static _Atomic bool gate_thermal_gave_up;
static _Atomic bool gate_cpu_gave_up;
static _Atomic int64_t gate_peak_millidegrees = GATE_NO_READING;

static _Atomic uint64_t gate_blas_calls;
static _Atomic uint64_t gate_blas_gated;
static _Atomic uint64_t gate_paused_ms;
static _Atomic uint64_t gate_thermal_pauses;
static _Atomic uint64_t gate_cpu_pauses;

static log_limiter_t gate_pause_limiter;
static log_limiter_t gate_resume_limiter;
static log_limiter_t gate_timeout_limiter;

static double
gate_resume_celsius(void)
{
	if (isnan(options.thermal_resume_celsius)) {
		return options.thermal_limit_celsius - 5.0;
	}
	return options.thermal_resume_celsius;
}

static int64_t
gate_read_temperature_milli(void)
{
	double celsius;

	if (gate_thermal.count == 0 || !thermal_read_celsius(&gate_thermal, &celsius)) {
		return GATE_NO_READING;
	}
	return (int64_t)llround(celsius * 1000.0);
}

static int64_t
gate_read_cpu_load_milli(void)
{
	cpu_load_t load;
	double percent;

	if (cpu_load_read(options.proc_root, gate_online_cpus, &load) != 0) {
		return GATE_NO_READING;
	}
	percent = cpu_load_percent(&load);
	return isnan(percent) ? GATE_NO_READING : (int64_t)llround(percent * 1000.0);
}

/*
 * Returns the shared reading, taking a new one when it is poll_ms old. One
 * thread wins the timestamp and reads; the others use the previous value.
 */
static int64_t
gate_reading_get(gate_reading_t *reading, int64_t (*read_milli)(void))
{
	uint64_t now_ms = log_monotonic_ms();
	uint64_t read_ms = atomic_load_explicit(&reading->read_ms, memory_order_acquire);

	if (read_ms == 0 || now_ms - read_ms >= options.poll_ms) {
		if (atomic_compare_exchange_strong(&reading->read_ms, &read_ms,
		    now_ms != 0 ? now_ms : 1)) {
			atomic_store_explicit(&reading->value_milli, read_milli(),
			    memory_order_release);
		}
	}
	return atomic_load_explicit(&reading->value_milli, memory_order_acquire);
}

/* Reads the temperature and updates the shared hot state. Returns the reading. */
static int64_t
gate_update_thermal(bool *hot)
{
	int64_t millidegrees = gate_reading_get(&gate_temperature, gate_read_temperature_milli);
	int64_t peak = atomic_load(&gate_peak_millidegrees);

	if (millidegrees == GATE_NO_READING) {
		/*
		 * The state stays as it was: a failed read in the middle of a
		 * pause does not end it, and without any reading it is never hot.
		 */
		*hot = atomic_load(&gate_thermal_hot);
		return millidegrees;
	}
	while ((peak == GATE_NO_READING || millidegrees > peak)
	    && !atomic_compare_exchange_weak(&gate_peak_millidegrees, &peak, millidegrees)) {
	}
	if ((double)millidegrees > options.thermal_limit_celsius * 1000.0) {
		atomic_store(&gate_thermal_hot, true);
	} else if ((double)millidegrees <= gate_resume_celsius() * 1000.0) {
		atomic_store(&gate_thermal_hot, false);
	}
	*hot = atomic_load(&gate_thermal_hot);
	return millidegrees;
}

/* Reads the CPU load and updates the shared over-limit state. Returns the reading. */
static int64_t
gate_update_cpu(bool *over)
{
	int64_t milli;

	if (options.cpu_limit_percent <= 0.0) {
		atomic_store(&gate_cpu_over, false);
		*over = false;
		return GATE_NO_READING;
	}
	milli = gate_reading_get(&gate_cpu_load, gate_read_cpu_load_milli);
	*over = milli != GATE_NO_READING
	    && (double)milli > options.cpu_limit_percent * 1000.0;
	atomic_store(&gate_cpu_over, *over);
	return milli;
}

/* Sleeps for ms, resuming after signals. */
static void
gate_sleep_ms(uint64_t ms)
{
	struct timespec remaining = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&remaining, &remaining) != 0 && errno == EINTR) {
	}
}

static uint64_t
gate_wait_thermal(const char *what)
{
	uint64_t start_ms, waited_ms;
	bool hot;
	int64_t millidegrees = gate_update_thermal(&hot);
	int64_t reading;

	if (!hot) {
		atomic_store(&gate_thermal_gave_up, false);
		return 0;
	}
	if (atomic_load(&gate_thermal_gave_up)) {
		return 0;
	}
	start_ms = log_monotonic_ms();
	atomic_fetch_add(&gate_thermal_pauses, 1);
	log_limited(&gate_pause_limiter, GATE_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
	    "Critical temperature: %.1f °C, pausing %s (limit %.1f °C, resuming at %.1f °C)",
	    (double)millidegrees / 1000.0, what, options.thermal_limit_celsius,
	    gate_resume_celsius());
	for (;;) {
		waited_ms = log_monotonic_ms() - start_ms;
		if (waited_ms >= options.thermal_max_wait_ms) {
			log_limited(&gate_timeout_limiter, GATE_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "temperature still %.1f °C after %.1f s (thermal_max_wait); %s "
			    "proceeds, and gate points no longer pause until it falls to the "
			    "resume point", (double)millidegrees / 1000.0, (double)waited_ms / 1000.0,
			    what);
			atomic_store(&gate_thermal_gave_up, true);
			return waited_ms;
		}
		gate_sleep_ms(options.poll_ms < options.thermal_max_wait_ms - waited_ms
		    ? options.poll_ms : options.thermal_max_wait_ms - waited_ms);
		reading = gate_update_thermal(&hot);
		if (reading != GATE_NO_READING) {
			millidegrees = reading;
		}
		if (!hot) {
			waited_ms = log_monotonic_ms() - start_ms;
			log_limited(&gate_resume_limiter, GATE_LOG_INTERVAL_MS, LOG_LEVEL_INFO,
			    "%s resumed after %.1f s at %.1f °C", what, (double)waited_ms / 1000.0,
			    (double)millidegrees / 1000.0);
			return waited_ms;
		}
	}
}

static uint64_t
gate_wait_cpu(const char *what)
{
	uint64_t start_ms, waited_ms;
	bool over;
	int64_t milli = gate_update_cpu(&over);

	if (!over) {
		atomic_store(&gate_cpu_gave_up, false);
		return 0;
	}
	if (atomic_load(&gate_cpu_gave_up)) {
		return 0;
	}
	start_ms = log_monotonic_ms();
	atomic_fetch_add(&gate_cpu_pauses, 1);
	log_limited(&gate_pause_limiter, GATE_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
	    "CPU load %.1f%% is above cpu_limit %.1f%%, pausing %s", (double)milli / 1000.0,
	    options.cpu_limit_percent, what);
	for (;;) {
		waited_ms = log_monotonic_ms() - start_ms;
		if (waited_ms >= options.cpu_max_wait_ms) {
			log_limited(&gate_timeout_limiter, GATE_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "CPU load still %.1f%% after %.1f s (cpu_max_wait); %s proceeds, and "
			    "gate points no longer pause until the load falls below the limit",
			    (double)milli / 1000.0, (double)waited_ms / 1000.0, what);
			atomic_store(&gate_cpu_gave_up, true);
			return waited_ms;
		}
		gate_sleep_ms(options.poll_ms < options.cpu_max_wait_ms - waited_ms
		    ? options.poll_ms : options.cpu_max_wait_ms - waited_ms);
		milli = gate_update_cpu(&over);
		if (!over) {
			waited_ms = log_monotonic_ms() - start_ms;
			log_limited(&gate_resume_limiter, GATE_LOG_INTERVAL_MS, LOG_LEVEL_INFO,
			    "%s resumed after %.1f s at CPU load %.1f%%", what,
			    (double)waited_ms / 1000.0, (double)milli / 1000.0);
			return waited_ms;
		}
	}
}

void
gate_init(void)
{
	bool state;

	atomic_store(&gate_ready, false);
	thermal_select(options.sysfs_root, options.temp_source, true, &gate_thermal);
	gate_online_cpus = cpu_load_online_cpus(options.sysfs_root);
	gate_physical_cores = cpu_load_physical_cores(options.sysfs_root);

	atomic_store(&gate_temperature.read_ms, 0);
	atomic_store(&gate_cpu_load.read_ms, 0);
	atomic_store(&gate_thermal_hot, false);
	atomic_store(&gate_thermal_gave_up, false);
	atomic_store(&gate_cpu_gave_up, false);
	atomic_store(&gate_peak_millidegrees, GATE_NO_READING);
	gate_update_thermal(&state);
	gate_update_cpu(&state);
	log_message(LOG_LEVEL_DEBUG, "gate: %u online CPUs, %u physical cores, BLAS "
	    "threads over a limit: %u", gate_online_cpus, gate_physical_cores,
	    gate_worker_limit());
	atomic_store(&gate_ready, true);
}

uint64_t
gate_pass(gate_point_t point, const char *what)
{
	uint64_t waited_ms;

	if (options.disable || !atomic_load_explicit(&gate_ready, memory_order_acquire)) {
		return 0;
	}
	if (point == GATE_POINT_BLAS) {
		atomic_fetch_add_explicit(&gate_blas_gated, 1, memory_order_relaxed);
	}
	waited_ms = gate_wait_thermal(what);
	waited_ms += gate_wait_cpu(what);
	if (waited_ms > 0) {
		atomic_fetch_add(&gate_paused_ms, waited_ms);
	}
	return waited_ms;
}

bool
gate_over_limit(void)
{
	return atomic_load(&gate_thermal_hot) || atomic_load(&gate_cpu_over);
}

unsigned
gate_worker_limit(void)
{
	if (options.max_workers > 0) {
		return (unsigned)options.max_workers;
	}
	return gate_physical_cores > 0 ? gate_physical_cores : 1;
}

void
gate_count_blas_call(void)
{
	atomic_fetch_add_explicit(&gate_blas_calls, 1, memory_order_relaxed);
}

static void
gate_read_thermal_status(gate_status_t *out)
{
	bool hot;
	int64_t millidegrees = GATE_NO_READING;
	int64_t peak = atomic_load(&gate_peak_millidegrees);

	if (atomic_load(&gate_ready)) {
		millidegrees = gate_update_thermal(&hot);
	}
	out->thermal_available = millidegrees != GATE_NO_READING;
	out->celsius = out->thermal_available ? (double)millidegrees / 1000.0 : NAN;
	out->peak_celsius = peak != GATE_NO_READING ? (double)peak / 1000.0 : NAN;
	out->limit_celsius = options.thermal_limit_celsius;
	out->resume_celsius = gate_resume_celsius();
	if (gate_thermal.count > 1) {
		fmt_format(out->source, sizeof(out->source), "%s and %d more input%s",
		    gate_thermal.description, gate_thermal.count - 1,
		    gate_thermal.count == 2 ? "" : "s");
	} else {
		fmt_format(out->source, sizeof(out->source), "%s", gate_thermal.description);
	}
	if (!atomic_load(&gate_ready)) {
		fmt_format(out->unavailable_reason, sizeof(out->unavailable_reason),
		    "the gate is not initialised");
	} else if (gate_thermal.count == 0) {
		fmt_format(out->unavailable_reason, sizeof(out->unavailable_reason), "%s",
		    gate_thermal.unavailable_reason);
	} else if (!out->thermal_available) {
		fmt_format(out->unavailable_reason, sizeof(out->unavailable_reason),
		    "%.100s gave no plausible reading", gate_thermal.paths[0]);
	}
}

void
gate_read_status(gate_status_t *out)
{
	cpu_load_t load;

	memset(out, 0, sizeof(*out));
	gate_read_thermal_status(out);

	cpu_load_read(options.proc_root, gate_online_cpus, &load);
	out->cpu_psi_available = load.psi_available;
	out->cpu_psi_some_avg10 = load.psi_some_avg10;
	out->load_per_cpu = load.load_per_cpu;

	out->blas_calls = atomic_load(&gate_blas_calls);
	out->blas_gated = atomic_load(&gate_blas_gated);
	out->paused_ms = atomic_load(&gate_paused_ms);
	out->thermal_pauses = atomic_load(&gate_thermal_pauses);
	out->cpu_pauses = atomic_load(&gate_cpu_pauses);
	out->physical_cores = gate_physical_cores;
}
