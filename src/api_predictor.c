/*
 * The learning predictor: per-operation sample rings and the fit; see
 * api_predictor.h. The history file's reader and writer are in
 * api_history.c.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "api_predictor.h"
#include "api_predictor_table.h"

pthread_mutex_t predictor_lock = PTHREAD_MUTEX_INITIALIZER;
predictor_type_t predictor_types[PREDICTOR_TYPES_MAX];
uint64_t predictor_clock;
uint64_t predictor_serial;
uint64_t predictor_saved_serial;

static bool
predictor_name_char_valid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
	    || c == '_' || c == '.' || c == ':' || c == '-';
}

bool
predictor_normalize_name(const char *operation, char out[SAFEEXEC_OPERATION_MAX])
{
	size_t i;

	out[0] = '\0';
	if (operation == NULL) {
		return false;
	}
	for (i = 0; i < SAFEEXEC_OPERATION_MAX - 1 && operation[i] != '\0'; i++) {
		out[i] = predictor_name_char_valid(operation[i]) ? operation[i] : '_';
	}
	out[i] = '\0';
	return i > 0;
}

double
predictor_size_of(const double *params, int param_count)
{
	double size = 1.0;
	bool any = false;
	int i;

	for (i = 0; params != NULL && i < param_count && i < SAFEEXEC_PARAMS_MAX; i++) {
		if (isfinite(params[i]) && params[i] > 0) {
			size *= params[i];
			any = true;
		}
	}
	return any ? size : 0.0;
}

/*
 * The model, in order of preference:
 *  1. least squares of peak = a + b * x over the samples, where x is the
 *     product of the size parameters (predictor_size_of). The intercept
 *     absorbs fixed costs such as buffers that do not grow with the size.
 *     Used when the samples have at least two distinct sizes and the fit
 *     has a slope >= 0 and a positive value at x_query;
 *  2. otherwise the mean ratio peak / x, scaled to x_query, when every
 *     sample and the query have x > 0 (one size seen, or a fit that went
 *     negative on noisy samples);
 *  3. otherwise the mean peak.
 */
double
predictor_fit(const double *x, const double *y, size_t n, double x_query,
    prediction_method_t *method)
{
	double mean_x = 0, mean_y = 0, sxx = 0, sxy = 0, ratio = 0;
	double min_x = INFINITY, max_x = 0;
	bool all_positive = true;
	size_t i;

	*method = PREDICTION_NONE;
	if (n == 0) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		mean_x += x[i] / (double)n;
		mean_y += y[i] / (double)n;
		min_x = fmin(min_x, x[i]);
		max_x = fmax(max_x, x[i]);
		all_positive = all_positive && x[i] > 0;
	}

	if (n >= 2 && x_query > 0 && max_x > min_x * (1 + 1e-9)) {
		for (i = 0; i < n; i++) {
			sxx += (x[i] - mean_x) * (x[i] - mean_x);
			sxy += (x[i] - mean_x) * (y[i] - mean_y);
		}
		if (sxx > 0) {
			double slope = sxy / sxx;
			double value = mean_y + slope * (x_query - mean_x);

			if (slope >= 0 && value > 0) {
				*method = PREDICTION_FIT;
				return value;
			}
		}
	}

	if (all_positive && x_query > 0) {
		for (i = 0; i < n; i++) {
			ratio += y[i] / x[i] / (double)n;
		}
		*method = PREDICTION_MEAN_RATIO;
		return ratio * x_query;
	}
	*method = PREDICTION_MEAN;
	return mean_y;
}

predictor_type_t *
predictor_table_find(predictor_type_t *types, size_t capacity, uint64_t *clock,
    const char *name, bool create)
{
	predictor_type_t *oldest = &types[0];
	size_t i;

	for (i = 0; i < capacity; i++) {
		predictor_type_t *type = &types[i];

		if (type->name[0] != '\0' && strcmp(type->name, name) == 0) {
			type->last_use = ++*clock;
			return type;
		}
		if (type->last_use < oldest->last_use) {
			oldest = type;
		}
	}
	if (!create) {
		return NULL;
	}

	/* Free slots have last_use 0, so the oldest is a free one while any is left. */
	memset(oldest, 0, sizeof(*oldest));
	strcpy(oldest->name, name);
	oldest->last_use = ++*clock;
	return oldest;
}

predictor_type_t *
predictor_find_locked(const char *name, bool create)
{
	return predictor_table_find(predictor_types, PREDICTOR_TYPES_MAX, &predictor_clock,
	    name, create);
}

const predictor_sample_t *
predictor_sample_at(const predictor_type_t *type, unsigned k)
{
	return &type->samples[(type->next + PREDICTOR_SAMPLES_MAX - type->count + k)
	    % PREDICTOR_SAMPLES_MAX];
}

void
predictor_insert_locked(predictor_type_t *type, const double *params, int param_count,
    uint64_t peak_bytes, uint64_t serial)
{
	predictor_sample_t *sample = &type->samples[type->next];
	int i;

	memset(sample, 0, sizeof(*sample));
	sample->param_count = param_count < 0 ? 0
	    : param_count > SAFEEXEC_PARAMS_MAX ? SAFEEXEC_PARAMS_MAX : param_count;
	for (i = 0; params != NULL && i < sample->param_count; i++) {
		sample->params[i] = params[i];
	}
	sample->peak_bytes = peak_bytes;
	sample->serial = serial;
	type->next = (type->next + 1) % PREDICTOR_SAMPLES_MAX;
	if (type->count < PREDICTOR_SAMPLES_MAX) {
		type->count++;
	}
}

void
predictor_predict(const char *operation, const double *params, int param_count,
    prediction_t *out)
{
	char name[SAFEEXEC_OPERATION_MAX];
	double x[PREDICTOR_SAMPLES_MAX], y[PREDICTOR_SAMPLES_MAX];
	const predictor_type_t *type;
	size_t n = 0, i;
	double value;

	memset(out, 0, sizeof(*out));
	if (!predictor_normalize_name(operation, name)) {
		return;
	}
	predictor_load_once();

	pthread_mutex_lock(&predictor_lock);
	type = predictor_find_locked(name, false);
	for (i = 0; type != NULL && i < type->count; i++) {
		x[n] = predictor_size_of(type->samples[i].params, type->samples[i].param_count);
		y[n] = (double)type->samples[i].peak_bytes;
		n++;
	}
	pthread_mutex_unlock(&predictor_lock);

	value = predictor_fit(x, y, n, predictor_size_of(params, param_count), &out->method);
	out->samples = (unsigned)n;
	out->bytes = value >= 1.8e19 ? UINT64_MAX : (uint64_t)llround(value);
}

int
predictor_record(const char *operation, const double *params, int param_count,
    uint64_t peak_bytes)
{
	char name[SAFEEXEC_OPERATION_MAX];
	predictor_type_t *type;

	if (!predictor_normalize_name(operation, name) || param_count < 0
	    || param_count > SAFEEXEC_PARAMS_MAX || (param_count > 0 && params == NULL)) {
		return EINVAL;
	}
	predictor_load_once();

	pthread_mutex_lock(&predictor_lock);
	type = predictor_find_locked(name, true);
	predictor_insert_locked(type, params, param_count, peak_bytes, ++predictor_serial);
	pthread_mutex_unlock(&predictor_lock);
	return 0;
}

void
predictor_reset(void)
{
	pthread_mutex_lock(&predictor_lock);
	memset(predictor_types, 0, sizeof(predictor_types));
	predictor_clock = 0;
	predictor_serial = 0;
	predictor_saved_serial = 0;
	pthread_mutex_unlock(&predictor_lock);
}

SX_EXPORT uint64_t
safeexec_predict(const char *operation, const double *params, int param_count)
{
	prediction_t prediction;

	if (param_count < 0 || param_count > SAFEEXEC_PARAMS_MAX) {
		return 0;
	}
	predictor_predict(operation, params, param_count, &prediction);
	return prediction.bytes;
}

SX_EXPORT int
safeexec_record(const char *operation, const double *params, int param_count,
    uint64_t peak_bytes)
{
	return predictor_record(operation, params, param_count, peak_bytes);
}
