/*
 * The CPU temperature: which sensor files to read, chosen once at start-up,
 * and an allocation-free reader for them.
 *
 * Selection order: a pinned file (temp_source), else libsensors (only when
 * the sysfs root is the real /sys, because libsensors always reads /sys),
 * else a direct scan of <sysfs_root>/class/hwmon and
 * <sysfs_root>/class/thermal. Every candidate input gets a rank by chip and
 * label, and the inputs of the best rank are kept together. A reading is the
 * hottest plausible one among them, e.g. over all packages of a multi-socket
 * machine or all Tccd dies of a Ryzen part.
 */
#ifndef SX_THERMAL_H
#define SX_THERMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define THERMAL_INPUTS_MAX 8
#define THERMAL_PATH_MAX 512
#define THERMAL_DESCRIPTION_MAX 256
#define THERMAL_REASON_MAX 128

/* Readings outside this range are not a working CPU sensor. */
#define THERMAL_PLAUSIBLE_MIN_MILLIDEGREES (-20000)
#define THERMAL_PLAUSIBLE_MAX_MILLIDEGREES 150000

/*
 * Ranks of candidate inputs; 0 means "not a CPU temperature".
 * Tctl ranks below Tdie and Tccd because on some Ryzen parts it reads high
 * by a fixed offset.
 */
typedef enum {
	THERMAL_RANK_NONE = 0,
	THERMAL_RANK_BOARD = 1,      /* acpitz: a board sensor near the CPU */
	THERMAL_RANK_CPU_OFFSET = 2, /* k10temp Tctl, or its unlabelled temp1 */
	THERMAL_RANK_CPU = 3,        /* per-core or SoC sensors */
	THERMAL_RANK_CPU_DIE = 4,    /* k10temp TccdN */
	THERMAL_RANK_CPU_PACKAGE = 5,/* coretemp "Package id N", Tdie, x86_pkg_temp */
} thermal_rank_t;

/* Where candidates came from; inputs of one source are never mixed with another's. */
typedef enum {
	THERMAL_ORIGIN_PINNED,
	THERMAL_ORIGIN_LIBSENSORS,
	THERMAL_ORIGIN_HWMON,
	THERMAL_ORIGIN_THERMAL_ZONE,
} thermal_origin_t;

/* The chosen sensor: up to THERMAL_INPUTS_MAX files of millidegrees Celsius. */
typedef struct {
	int count;                       /* 0: no usable sensor */
	thermal_rank_t rank;
	thermal_origin_t origin;
	char paths[THERMAL_INPUTS_MAX][THERMAL_PATH_MAX];
	char description[THERMAL_DESCRIPTION_MAX];
	char unavailable_reason[THERMAL_REASON_MAX]; /* set when count is 0 */
} thermal_source_t;

/*
 * Chooses the source as described at the top. pinned_path may be NULL or
 * empty. use_libsensors is honoured only when sysfs_root is "/sys".
 * May allocate (directory scans, libsensors), so it runs at start-up only.
 * Prints nothing on stderr; what it found is logged at info level.
 */
SX_HIDDEN void thermal_select(const char *sysfs_root, const char *pinned_path,
    bool use_libsensors, thermal_source_t *out);

/*
 * Reads every input of source and stores the hottest plausible reading.
 * Returns false when no input gave a plausible reading. Allocation-free.
 */
SX_HIDDEN bool thermal_read_celsius(const thermal_source_t *source, double *celsius);

/* Reads a one-line text file such as tempN_label, without the newline; "" when missing. */
SX_HIDDEN void thermal_read_line(const char *path, char *buffer, size_t size);

/* Reads one file holding an integer (millidegrees). Returns 0 or a negative errno. */
SX_HIDDEN int thermal_read_millidegrees(const char *path, long *millidegrees);

/*
 * True for readings in the plausible range that are not a known stuck value:
 * exactly 127 or 128 degrees, the maximum of a signed 8-bit register, which
 * sensor chips report for a missing or broken diode.
 */
SX_HIDDEN bool thermal_millidegrees_plausible(long millidegrees);

/* Ranks an hwmon input by chip name (libsensors prefix) and label ("" when none). */
SX_HIDDEN thermal_rank_t thermal_rank_hwmon(const char *chip, const char *label);
/* Ranks a thermal zone by its type. */
SX_HIDDEN thermal_rank_t thermal_rank_zone(const char *type);

/*
 * Offers one candidate input to a selection in progress: it is read, dropped
 * when implausible, and kept when its rank beats or ties the inputs in
 * out from the same origin. Used by the scanners in thermal.c and thermal_sensors.c.
 */
SX_HIDDEN void thermal_offer(thermal_source_t *out, thermal_origin_t origin,
    thermal_rank_t rank, const char *path, const char *description);

/*
 * Adds libsensors' candidates to out. Returns the number of chips seen, or a
 * negative value when libsensors failed to initialise (out is unchanged).
 */
SX_HIDDEN int thermal_sensors_scan(thermal_source_t *out);

#endif
