/*
 * The governor's shared sample of the limits, used by its decision code.
 * Private to governor.c and governor_sample.c.
 */
#ifndef SX_GOVERNOR_SAMPLE_H
#define SX_GOVERNOR_SAMPLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "mem_limits.h"

/* The compact result of one sample, all the decision needs. */
typedef struct {
	uint64_t time_ms;
	uint64_t granted_mark;    /* governor_granted_bytes when sampled */
	uint64_t headroom_bytes;  /* UINT64_MAX: no limit anywhere */
	uint64_t limit_bytes;
	uint64_t usage_bytes;
	uint64_t margin_bytes;
	limit_source_t source;
	double psi_some_avg10;    /* NaN when PSI is unavailable */
} governor_sample_t;

/* Copies a sample no older than the sample interval, or a fresh one if force. */
SX_HIDDEN void governor_get_sample(bool force, governor_sample_t *out);

/* Headroom left for new requests: the sample's, less what was granted since. */
SX_HIDDEN uint64_t governor_headroom(const governor_sample_t *sample);

/*
 * True when bytes fit the headroom of a current sample less the grants since,
 * or, if force, the headroom of a fresh sample alone.
 */
SX_HIDDEN bool governor_fits(size_t bytes, bool force);

/* True when the request could fit if everything else the process uses went away. */
SX_HIDDEN bool governor_could_ever_fit(size_t bytes);

/* Counts bytes admitted; they stay in predictions until the next sample. */
SX_HIDDEN void governor_note_granted(size_t bytes);
SX_HIDDEN uint64_t governor_granted_total(void);

/* Highest RSS seen at a sample. */
SX_HIDDEN uint64_t governor_sampled_peak_rss(void);

/* Raises *target to value if value is larger. */
SX_HIDDEN void governor_store_max(_Atomic uint64_t *target, uint64_t value);

#endif
