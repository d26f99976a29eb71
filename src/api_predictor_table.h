/*
 * The predictor's sample table, shared by api_predictor.c (fit, record) and
 * api_history.c (history file). Every access holds predictor_lock.
 */
#ifndef SX_API_PREDICTOR_TABLE_H
#define SX_API_PREDICTOR_TABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api_predictor.h"
#include "common.h"

typedef struct {
	double params[SAFEEXEC_PARAMS_MAX];
	int param_count;
	uint64_t peak_bytes;
	uint64_t serial;                   /* record order; 0: read from a history file */
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
/* Source of the types' last_use stamps. */
SX_HIDDEN extern uint64_t predictor_clock;
/* Serial of the newest recorded sample; samples above predictor_saved_serial are unsaved. */
SX_HIDDEN extern uint64_t predictor_serial;
SX_HIDDEN extern uint64_t predictor_saved_serial;

/*
 * Returns the type called name in types[0..capacity), or NULL; with create,
 * a new type in a free slot or in place of the least recently used one.
 * Stamps the returned type with ++*clock. Works on any table, such as the
 * history file's merge table; the caller serializes access.
 */
SX_HIDDEN predictor_type_t *predictor_table_find(predictor_type_t *types, size_t capacity,
    uint64_t *clock, const char *name, bool create);

/* predictor_table_find on the global table. */
SX_HIDDEN predictor_type_t *predictor_find_locked(const char *name, bool create);

/* Adds a sample as the type's newest, replacing its oldest when the ring is full. */
SX_HIDDEN void predictor_insert_locked(predictor_type_t *type, const double *params,
    int param_count, uint64_t peak_bytes, uint64_t serial);

/* Returns the type's k-th oldest sample, for k below type->count. */
SX_HIDDEN const predictor_sample_t *predictor_sample_at(const predictor_type_t *type,
    unsigned k);

#endif
