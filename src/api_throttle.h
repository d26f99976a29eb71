/* Waiting until the machine is safe to load: safeexec_throttle and the API's pre-checks. */
#ifndef SX_API_THROTTLE_H
#define SX_API_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#include "api_status.h"
#include "common.h"

/* Sleeps ms milliseconds, resuming after signals. */
SX_HIDDEN void api_sleep_ms(uint64_t ms);

/*
 * Polls api_health_read until the system is healthy or max_wait_ms have
 * passed, sleeping options.poll_ms (10 to 1000 ms) between readings. With
 * pass_gate, passes gate_point first, which may pause longer than
 * max_wait_ms (see safeexec_throttle). what names the caller in the log.
 * Returns 0 when healthy, ETIMEDOUT otherwise; the last reading is left
 * in *health and the time spent in *waited_ms.
 */
SX_HIDDEN int api_throttle_wait(uint64_t max_wait_ms, bool pass_gate, gate_point_t gate_point,
    const char *what, api_health_t *health, uint64_t *waited_ms);

#endif
