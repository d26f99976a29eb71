/*
 * Temperature inputs found through libsensors. libsensors runs only here, at
 * start-up, to find input files (chip path + "/" + subfeature name). The
 * gate later reads those files itself, without allocating.
 *
 * libsensors reports problems by calling three global hooks, and its
 * defaults print on stderr, and the fatal one also ends the process. They
 * are replaced for the duration of the scan and restored afterwards, so a
 * host program that uses libsensors itself keeps its own hooks.
 */
#include <limits.h>
#include <setjmp.h>

#include <sensors/error.h>
#include <sensors/sensors.h>
#include <string.h>

#include "fmt.h"
#include "log.h"
#include "thermal.h"

/* Jump target of the fatal-error hook, which libsensors requires never to return. */
static jmp_buf thermal_sensors_escape;

static void
thermal_sensors_parse_error(const char *error, int line)
{
	log_message(LOG_LEVEL_DEBUG, "libsensors configuration, line %d: %s", line, error);
}

static void
thermal_sensors_parse_error_wfn(const char *error, const char *file, int line)
{
	log_message(LOG_LEVEL_DEBUG, "libsensors configuration %s, line %d: %s",
	    file != NULL ? file : "(unknown file)", line, error);
}

static void
thermal_sensors_fatal_error(const char *function, const char *error)
{
	log_message(LOG_LEVEL_INFO, "libsensors failed in %s: %s; scanning sysfs directly",
	    function, error);
	longjmp(thermal_sensors_escape, 1);
}

/* Offers the temperature inputs of one chip. */
static void
thermal_sensors_scan_chip(thermal_source_t *out, const sensors_chip_name *chip)
{
	const sensors_feature *feature;
	char chip_name[64];
	int feature_number = 0;

	if (sensors_snprintf_chip_name(chip_name, sizeof(chip_name), chip) < 0) {
		fmt_format(chip_name, sizeof(chip_name), "%s", chip->prefix);
	}
	while ((feature = sensors_get_features(chip, &feature_number)) != NULL) {
		const sensors_subfeature *input;
		char path[THERMAL_PATH_MAX], label[64], description[THERMAL_DESCRIPTION_MAX];

		if (feature->type != SENSORS_FEATURE_TEMP) {
			continue;
		}
		input = sensors_get_subfeature(chip, feature, SENSORS_SUBFEATURE_TEMP_INPUT);
		if (input == NULL) {
			continue;
		}

		/*
		 * The driver's own label, not sensors_get_label: a "label"
		 * statement in sensors3.conf would otherwise change the rank.
		 */
		fmt_format(path, sizeof(path), "%s/%s_label", chip->path, feature->name);
		thermal_read_line(path, label, sizeof(label));

		fmt_format(path, sizeof(path), "%s/%s", chip->path, input->name);
		fmt_format(description, sizeof(description), "%s %s (libsensors)", chip_name,
		    label[0] != '\0' ? label : feature->name);
		thermal_offer(out, THERMAL_ORIGIN_LIBSENSORS, thermal_rank_hwmon(chip->prefix, label),
		    path, description);
	}
}

/* Runs libsensors with the hooks replaced; a fatal error jumps back here. */
static int
thermal_sensors_scan_guarded(thermal_source_t *out)
{
	const sensors_chip_name *chip;
	int chip_number = 0;
	int chips = 0;
	int error;

	/* NULL: the default files, /etc/sensors3.conf and /etc/sensors.d, whose ignore
	 * statements are honoured; parse errors go to the replaced hooks. */
	error = sensors_init(NULL);
	if (error != 0) {
		log_message(LOG_LEVEL_DEBUG, "libsensors initialisation failed (%d); scanning "
		    "sysfs directly", error);
		sensors_cleanup();
		return -1;
	}
	while ((chip = sensors_get_detected_chips(NULL, &chip_number)) != NULL) {
		thermal_sensors_scan_chip(out, chip);
		chips++;
	}
	sensors_cleanup();
	return chips;
}

int
thermal_sensors_scan(thermal_source_t *out)
{
	void (*saved_parse_error)(const char *, int) = sensors_parse_error;
	void (*saved_parse_error_wfn)(const char *, const char *, int) = sensors_parse_error_wfn;
	void (*saved_fatal_error)(const char *, const char *) = sensors_fatal_error;
	thermal_source_t found;
	volatile int chips = -1;

	memset(&found, 0, sizeof(found));
	sensors_parse_error = thermal_sensors_parse_error;
	sensors_parse_error_wfn = thermal_sensors_parse_error_wfn;
	sensors_fatal_error = thermal_sensors_fatal_error;

	/*
	 * After a fatal error libsensors' state is half built; it is left as
	 * is (leaked), because sensors_cleanup on it could fail the same way.
	 */
	if (setjmp(thermal_sensors_escape) == 0) {
		chips = thermal_sensors_scan_guarded(&found);
	}

	sensors_parse_error = saved_parse_error;
	sensors_parse_error_wfn = saved_parse_error_wfn;
	sensors_fatal_error = saved_fatal_error;

	if (chips > 0) {
		*out = found;
	}
	log_message(LOG_LEVEL_DEBUG, "libsensors: %d chip%s, %d temperature input%s chosen",
	    chips, chips == 1 ? "" : "s", found.count, found.count == 1 ? "" : "s");
	return chips;
}
