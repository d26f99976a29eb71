/* Allocation-free, rate-limited logging; see log.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"

/* Global cap: a burst of LOG_BURST lines, refilled at LOG_LINES_PER_SECOND. */
#define LOG_BURST 50
#define LOG_LINES_PER_SECOND 10

static _Atomic int log_current_level = LOG_LEVEL_WARN;
static char log_path[4096];
static long log_utc_offset_s;
static _Atomic uint64_t log_tokens_updated_ms;
static _Atomic int64_t log_tokens = LOG_BURST;
static _Atomic uint64_t log_dropped;
/* Set once the log file could not be opened and that was reported on stderr. */
static _Atomic bool log_open_failed;

static const char *const log_level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

const char *
log_level_name(log_level_t level)
{
	return level <= LOG_LEVEL_DEBUG ? log_level_names[level] : "DEBUG";
}

int
log_parse_level(const char *text)
{
	static const char *const accepted[] = { "error", "warn", "info", "debug" };
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(accepted); i++) {
		if (strcasecmp(text, accepted[i]) == 0) {
			return (int)i;
		}
	}
	if (strcasecmp(text, "warning") == 0) {
		return LOG_LEVEL_WARN;
	}
	return -1;
}

void
log_configure(log_level_t level, const char *path)
{
	time_t now = time(NULL);
	struct tm local;

	atomic_store(&log_current_level, (int)level);
	if (path != NULL) {
		size_t length = strlen(path);

		if (length >= sizeof(log_path)) {
			length = 0;
		}
		memcpy(log_path, path, length);
		log_path[length] = '\0';
		atomic_store(&log_open_failed, false);
	}
	if (localtime_r(&now, &local) != NULL) {
		log_utc_offset_s = local.tm_gmtoff;
	}
}

bool
log_enabled(log_level_t level)
{
	return (int)level <= atomic_load_explicit(&log_current_level, memory_order_relaxed);
}

uint64_t
log_monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted). */
static void
log_civil_from_days(long days, int *year, int *month, int *day)
{
	long era, doe, yoe, doy, mp;

	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = (int)(yoe + era * 400 + (*month <= 2));
}

static size_t
log_format_prefix(char *line, size_t size, log_level_t level)
{
	struct timespec now;
	long seconds, days, second_of_day;
	int year, month, day;

	clock_gettime(CLOCK_REALTIME, &now);
	seconds = (long)now.tv_sec + log_utc_offset_s;
	days = seconds / 86400;
	second_of_day = seconds % 86400;
	if (second_of_day < 0) {
		second_of_day += 86400;
		days--;
	}
	log_civil_from_days(days, &year, &month, &day);
	return fmt_format(line, size, "%04d-%02d-%02d %02ld:%02ld:%02ld - safeexec - %s - ",
	    year, month, day, second_of_day / 3600, second_of_day / 60 % 60,
	    second_of_day % 60, log_level_name(level));
}

/* Takes one token from the global bucket; false when the burst is spent. */
static bool
log_take_token(void)
{
	uint64_t now_ms = log_monotonic_ms();
	uint64_t updated_ms = atomic_load(&log_tokens_updated_ms);
	uint64_t refill = (now_ms - updated_ms) * LOG_LINES_PER_SECOND / 1000;

	if (refill > 0 && atomic_compare_exchange_strong(&log_tokens_updated_ms,
	    &updated_ms, now_ms)) {
		int64_t tokens = atomic_fetch_add(&log_tokens, (int64_t)refill) + (int64_t)refill;

		if (tokens > LOG_BURST) {
			atomic_store(&log_tokens, LOG_BURST);
		}
	}
	if (atomic_fetch_sub(&log_tokens, 1) <= 0) {
		atomic_fetch_add(&log_tokens, 1);
		return false;
	}
	return true;
}

static void
log_write_all(int fd, const char *line, size_t length)
{
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
}

/* Says once on stderr why the log file is not used; the lines follow on stderr. */
static void
log_report_open_failure(int error)
{
	char line[LOG_LINE_MAX];
	size_t length;

	if (atomic_exchange(&log_open_failed, true)) {
		return;
	}
	length = log_format_prefix(line, sizeof(line) - 1, LOG_LEVEL_WARN);
	length += fmt_format(line + length, sizeof(line) - 1 - length, "cannot open the log "
	    "file %s (errno %d%s); logging to stderr instead", log_path, error,
	    error == ELOOP ? ": it is a symbolic link, which is not followed"
	    : error == ENXIO ? ": it is a FIFO without a reader" : "");
	line[length++] = '\n';
	log_write_all(STDERR_FILENO, line, length);
}

static void
log_write_line(const char *line, size_t length)
{
	int saved_errno = errno;
	int fd = STDERR_FILENO;

	/*
	 * O_NOFOLLOW: a symlink planted at the log path is not followed.
	 * O_NONBLOCK: a FIFO without a reader fails with ENXIO instead of
	 * blocking the program.
	 */
	if (log_path[0] != '\0') {
		fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW
		    | O_NONBLOCK, 0600);
		if (fd < 0) {
			log_report_open_failure(errno);
			fd = STDERR_FILENO;
		}
	}
	log_write_all(fd, line, length);
	if (fd != STDERR_FILENO) {
		close(fd);
	}
	errno = saved_errno;
}

static void
log_vwrite(log_level_t level, uint64_t suppressed, const char *format, va_list args)
{
	char line[LOG_LINE_MAX];
	size_t length = log_format_prefix(line, sizeof(line) - 1, level);
	uint64_t dropped = atomic_exchange(&log_dropped, 0);

	length += fmt_vformat(line + length, sizeof(line) - 1 - length, format, args);
	if (suppressed > 0) {
		length += fmt_format(line + length, sizeof(line) - 1 - length,
		    " (%llu similar messages suppressed)", (unsigned long long)suppressed);
	}
	if (dropped > 0) {
		length += fmt_format(line + length, sizeof(line) - 1 - length,
		    " (%llu earlier messages dropped by the rate limit)",
		    (unsigned long long)dropped);
	}
	line[length++] = '\n';
	log_write_line(line, length);
}

void
log_message(log_level_t level, const char *format, ...)
{
	va_list args;

	if (!log_enabled(level)) {
		return;
	}
	if (!log_take_token()) {
		atomic_fetch_add(&log_dropped, 1);
		return;
	}
	va_start(args, format);
	log_vwrite(level, 0, format, args);
	va_end(args);
}

void
log_message_always(log_level_t level, const char *format, ...)
{
	va_list args;

	if (!log_enabled(level)) {
		return;
	}
	va_start(args, format);
	log_vwrite(level, 0, format, args);
	va_end(args);
}

void
log_limited(log_limiter_t *limiter, uint64_t interval_ms, log_level_t level,
    const char *format, ...)
{
	uint64_t now_ms = log_monotonic_ms();
	uint64_t last_ms = atomic_load(&limiter->last_ms);
	va_list args;

	if (!log_enabled(level)) {
		return;
	}
	if ((last_ms != 0 && now_ms - last_ms < interval_ms)
	    || !atomic_compare_exchange_strong(&limiter->last_ms, &last_ms, now_ms)) {
		atomic_fetch_add(&limiter->suppressed, 1);
		return;
	}
	va_start(args, format);
	log_vwrite(level, atomic_exchange(&limiter->suppressed, 0), format, args);
	va_end(args);
}
