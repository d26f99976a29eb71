/*
 * The predictor's sample table, shared by api_predictor.c (fit, record) and
 * api_history.c (history file). Every access holds predictor_lock.
 */
#ifndef SX_API_PREDICTOR_TABLE_H
#define SX_API_PREDICTOR_TABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api_predictor.h"
#include "common.h"

typedef struct {
	double params[SAFEEXEC_PARAMS_MAX];
	int param_count;
	uint64_t peak_bytes;
} predictor_sample_t;

/* One operation type's ring of its newest samples. */
typedef struct {
	char name[SAFEEXEC_OPERATION_MAX]; /* empty: free slot */
	uint64_t last_use;                 /* for evicting the least recently used type */
	unsigned count;
	unsigned next;                     /* slot the next sample goes to */
	predictor_sample_t samples[PREDICTOR_SAMPLES_MAX];
} predictor_type_t;

SX_HIDDEN extern pthread_mutex_t predictor_lock;
SX_HIDDEN extern predictor_type_t predictor_types[PREDICTOR_TYPES_MAX];
/* Samples were added since the history file was last written. */
SX_HIDDEN extern bool predictor_dirty;

/*
 * Returns the type called name, or NULL; with create, a new type in a free
 * slot or in place of the least recently used one.
 */
SX_HIDDEN predictor_type_t *predictor_find_locked(const char *name, bool create);

SX_HIDDEN void predictor_insert_locked(predictor_type_t *type, const double *params,
    int param_count, uint64_t peak_bytes);

#endif
