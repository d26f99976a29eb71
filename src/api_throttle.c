/* safeexec_throttle and the waits of the API's pre-checks; see api_throttle.h. */
#include <errno.h>
#include <time.h>

#include "api_scope.h"
#include "api_throttle.h"
#include "log.h"
#include "options.h"

#define THROTTLE_POLL_MIN_MS 10
#define THROTTLE_POLL_MAX_MS 1000

static log_limiter_t throttle_wait_limiter;
static log_limiter_t throttle_timeout_limiter;

void
api_sleep_ms(uint64_t ms)
{
	struct timespec rest = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&rest, &rest) != 0 && errno == EINTR) {
	}
}

static uint64_t
throttle_poll_ms(void)
{
	if (options.poll_ms < THROTTLE_POLL_MIN_MS) {
		return THROTTLE_POLL_MIN_MS;
	}
	return options.poll_ms > THROTTLE_POLL_MAX_MS ? THROTTLE_POLL_MAX_MS : options.poll_ms;
}

int
api_throttle_wait(uint64_t max_wait_ms, bool pass_gate, gate_point_t gate_point,
    const char *what, api_health_t *health, uint64_t *waited_ms)
{
	uint64_t start_ms = log_monotonic_ms(), now_ms, poll_ms = throttle_poll_ms();
	bool logged = false;

	if (pass_gate) {
		gate_pass(gate_point, what);
	}
	for (;;) {
		api_health_read(health);
		now_ms = log_monotonic_ms();
		*waited_ms = now_ms - start_ms;
		if (health->healthy) {
			return 0;
		}
		if (*waited_ms >= max_wait_ms) {
			break;
		}
		if (!logged) {
			log_limited(&throttle_wait_limiter, 1000, LOG_LEVEL_INFO, "%s waits up to "
			    "%llu ms: %s", what, (unsigned long long)max_wait_ms, health->reason);
			logged = true;
		}
		api_sleep_ms(max_wait_ms - *waited_ms < poll_ms ? max_wait_ms - *waited_ms
		    : poll_ms);
	}
	if (max_wait_ms > 0) {
		log_limited(&throttle_timeout_limiter, 1000, LOG_LEVEL_WARN, "%s: still unsafe "
		    "after %llu ms: %s", what, (unsigned long long)*waited_ms, health->reason);
	}
	return ETIMEDOUT;
}

SX_EXPORT int
safeexec_throttle(uint64_t max_wait_ms)
{
	api_health_t health;
	uint64_t waited_ms;
	int result;

	result = api_throttle_wait(max_wait_ms, max_wait_ms > 0, GATE_POINT_THROTTLE,
	    "safeexec_throttle", &health, &waited_ms);
	api_stats_add(&api_stats.throttle_calls, 1);
	api_stats_add(&api_stats.throttle_waited_ms, waited_ms);
	if (result != 0) {
		api_stats_add(&api_stats.throttle_timeouts, 1);
	}
	return result;
}
