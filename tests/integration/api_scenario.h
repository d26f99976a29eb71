/*
 * Helpers for the API tests: each test binary links libsafeexec and runs
 * itself again as "<binary> --scenario NAME [ARG]" with the settings of the
 * case in its environment. A scenario prints "key=value" lines on stdout
 * for the test to check.
 */
#ifndef SX_API_SCENARIO_H
#define SX_API_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "test_support.h"

/*
 * Settings that keep the machine's own state out of the API's health
 * check: memory pressure and temperature never count as unhealthy.
 */
#define API_CALM_ENV "SAFEEXEC_PSI_THRESHOLD=100", "SAFEEXEC_THERMAL_LIMIT=150"

/* Runs scenario name with arg (may be NULL); fails the test unless it exits with 0. */
void api_scenario_run(const char *name, const char *arg, char *const env[],
    run_result_t *result);

/* Writes one byte per page through a volatile pointer, which the compiler cannot drop. */
void touch_pages(char *block, uint64_t bytes);

/* Value of the first "key=" line in out, or -1 when missing. */
double api_output_value(const char *out, const char *key);

/* Text after "key=" up to the end of its line, or "" when missing. */
const char *api_output_text(const char *out, const char *key, char *buffer, size_t size);

#endif
