/* CPU temperature source selection and reading; see thermal.h. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "fmt.h"
#include "log.h"
#include "procfs.h"
#include "thermal.h"

/* Two stuck values: the signed 8-bit register maximum, and one past it. */
#define THERMAL_STUCK_127_MILLIDEGREES 127000
#define THERMAL_STUCK_128_MILLIDEGREES 128000

void
thermal_read_line(const char *path, char *buffer, size_t size)
{
	ssize_t length = procfs_read_file(path, buffer, size);

	if (length < 0) {
		buffer[0] = '\0';
		return;
	}
	while (length > 0 && (buffer[length - 1] == '\n' || buffer[length - 1] == ' ')) {
		buffer[--length] = '\0';
	}
}

int
thermal_read_millidegrees(const char *path, long *millidegrees)
{
	char text[32];
	const char *cursor = text;
	bool negative = false;
	long value = 0;
	ssize_t length = procfs_read_file(path, text, sizeof(text));

	if (length < 0) {
		return (int)length;
	}
	while (*cursor == ' ' || *cursor == '\t') {
		cursor++;
	}
	if (*cursor == '-') {
		negative = true;
		cursor++;
	}
	if (*cursor < '0' || *cursor > '9') {
		return -EINVAL;
	}
	while (*cursor >= '0' && *cursor <= '9') {
		if (value > 100000000) {
			return -ERANGE;
		}
		value = value * 10 + (*cursor++ - '0');
	}
	if (*cursor != '\0' && *cursor != '\n' && *cursor != ' ') {
		return -EINVAL;
	}
	*millidegrees = negative ? -value : value;
	return 0;
}

bool
thermal_millidegrees_plausible(long millidegrees)
{
	if (millidegrees < THERMAL_PLAUSIBLE_MIN_MILLIDEGREES
	    || millidegrees > THERMAL_PLAUSIBLE_MAX_MILLIDEGREES) {
		return false;
	}
	return millidegrees != THERMAL_STUCK_127_MILLIDEGREES
	    && millidegrees != THERMAL_STUCK_128_MILLIDEGREES;
}

bool
thermal_read_celsius(const thermal_source_t *source, double *celsius)
{
	long hottest = 0;
	bool found = false;
	int i;

	for (i = 0; i < source->count; i++) {
		long millidegrees;

		if (thermal_read_millidegrees(source->paths[i], &millidegrees) != 0
		    || !thermal_millidegrees_plausible(millidegrees)) {
			continue;
		}
		if (!found || millidegrees > hottest) {
			hottest = millidegrees;
			found = true;
		}
	}
	if (found) {
		*celsius = (double)hottest / 1000.0;
	}
	return found;
}

static bool
thermal_contains(const char *text, const char *word)
{
	size_t length = strlen(word);

	for (; *text != '\0'; text++) {
		if (strncasecmp(text, word, length) == 0) {
			return true;
		}
	}
	return false;
}

thermal_rank_t
thermal_rank_hwmon(const char *chip, const char *label)
{
	if (strcmp(chip, "coretemp") == 0) {
		return strncmp(label, "Package id", 10) == 0 ? THERMAL_RANK_CPU_PACKAGE
		    : THERMAL_RANK_CPU;
	}
	if (strcmp(chip, "k10temp") == 0 || strcmp(chip, "zenpower") == 0) {
		if (strcmp(label, "Tdie") == 0) {
			return THERMAL_RANK_CPU_PACKAGE;
		}
		if (strncmp(label, "Tccd", 4) == 0) {
			return THERMAL_RANK_CPU_DIE;
		}
		/* Tctl, or temp1 without a label on older kernels. */
		return THERMAL_RANK_CPU_OFFSET;
	}
	if (strcmp(chip, "x86_pkg_temp") == 0) {
		return THERMAL_RANK_CPU_PACKAGE;
	}
	if (strcmp(chip, "k8temp") == 0 || thermal_contains(chip, "cpu")
	    || thermal_contains(chip, "soc")) {
		return THERMAL_RANK_CPU;
	}
	if (strcmp(chip, "acpitz") == 0) {
		return THERMAL_RANK_BOARD;
	}
	/* Super I/O chips (nct6775, it87) label their CPU diode "CPUTIN" or "PECI ...". */
	if (thermal_contains(label, "cpu") || thermal_contains(label, "peci")) {
		return THERMAL_RANK_BOARD;
	}
	return THERMAL_RANK_NONE;
}

thermal_rank_t
thermal_rank_zone(const char *type)
{
	if (strcmp(type, "x86_pkg_temp") == 0) {
		return THERMAL_RANK_CPU_PACKAGE;
	}
	/* B0D4 (PCI bus 0, device 4) is the processor thermal device of Intel laptops. */
	if (thermal_contains(type, "cpu") || thermal_contains(type, "soc")
	    || strcmp(type, "B0D4") == 0) {
		return THERMAL_RANK_CPU;
	}
	if (strcmp(type, "acpitz") == 0) {
		return THERMAL_RANK_BOARD;
	}
	return THERMAL_RANK_NONE;
}

void
thermal_offer(thermal_source_t *out, thermal_origin_t origin, thermal_rank_t rank,
    const char *path, const char *description)
{
	long millidegrees;
	int error;

	if (rank == THERMAL_RANK_NONE) {
		return;
	}
	error = thermal_read_millidegrees(path, &millidegrees);
	if (error != 0 || !thermal_millidegrees_plausible(millidegrees)) {
		log_message(LOG_LEVEL_DEBUG, "temperature input %s (%s) skipped: %s",
		    path, description, error != 0 ? "unreadable" : "implausible or stuck value");
		return;
	}
	if (out->count > 0 && (rank < out->rank || (rank == out->rank && origin != out->origin))) {
		return;
	}
	if (out->count > 0 && rank > out->rank) {
		out->count = 0;
	}
	if (out->count == THERMAL_INPUTS_MAX || strlen(path) >= THERMAL_PATH_MAX) {
		return;
	}
	if (out->count == 0) {
		out->rank = rank;
		out->origin = origin;
		fmt_format(out->description, sizeof(out->description), "%s", description);
	}
	fmt_format(out->paths[out->count], THERMAL_PATH_MAX, "%s", path);
	out->count++;
}

/* Offers every tempN_input of one hwmon device directory. */
static void
thermal_scan_hwmon_device(thermal_source_t *out, const char *device_dir, const char *chip,
    const char *device_name)
{
	DIR *dir = opendir(device_dir);
	struct dirent *entry;

	if (dir == NULL) {
		return;
	}
	while ((entry = readdir(dir)) != NULL) {
		char path[THERMAL_PATH_MAX], label[64], description[THERMAL_DESCRIPTION_MAX];
		const char *suffix = strstr(entry->d_name, "_input");
		size_t stem_length;

		if (strncmp(entry->d_name, "temp", 4) != 0 || suffix == NULL
		    || suffix[6] != '\0') {
			continue;
		}
		stem_length = (size_t)(suffix - entry->d_name);
		fmt_format(path, sizeof(path), "%s/%.*s_label", device_dir, (int)stem_length,
		    entry->d_name);
		thermal_read_line(path, label, sizeof(label));
		fmt_format(path, sizeof(path), "%s/%s", device_dir, entry->d_name);
		fmt_format(description, sizeof(description), "%s %s (%s)", chip,
		    label[0] != '\0' ? label : entry->d_name, device_name);
		thermal_offer(out, THERMAL_ORIGIN_HWMON, thermal_rank_hwmon(chip, label), path,
		    description);
	}
	closedir(dir);
}

/* Scans <sysfs_root>/class/hwmon/hwmon*; old drivers keep their files under device/. */
static void
thermal_scan_hwmon(thermal_source_t *out, const char *sysfs_root)
{
	char class_dir[THERMAL_PATH_MAX];
	DIR *dir;
	struct dirent *entry;

	fmt_format(class_dir, sizeof(class_dir), "%s/class/hwmon", sysfs_root);
	dir = opendir(class_dir);
	if (dir == NULL) {
		return;
	}
	while ((entry = readdir(dir)) != NULL) {
		char device_dir[THERMAL_PATH_MAX], path[THERMAL_PATH_MAX], chip[64];

		if (strncmp(entry->d_name, "hwmon", 5) != 0) {
			continue;
		}
		fmt_format(device_dir, sizeof(device_dir), "%s/%s", class_dir, entry->d_name);
		fmt_format(path, sizeof(path), "%s/name", device_dir);
		thermal_read_line(path, chip, sizeof(chip));
		if (chip[0] == '\0') {
			fmt_format(device_dir, sizeof(device_dir), "%s/%s/device", class_dir,
			    entry->d_name);
			fmt_format(path, sizeof(path), "%s/name", device_dir);
			thermal_read_line(path, chip, sizeof(chip));
		}
		if (chip[0] != '\0') {
			thermal_scan_hwmon_device(out, device_dir, chip, entry->d_name);
		}
	}
	closedir(dir);
}

/* Scans <sysfs_root>/class/thermal/thermal_zone*. */
static void
thermal_scan_zones(thermal_source_t *out, const char *sysfs_root)
{
	char class_dir[THERMAL_PATH_MAX];
	DIR *dir;
	struct dirent *entry;

	fmt_format(class_dir, sizeof(class_dir), "%s/class/thermal", sysfs_root);
	dir = opendir(class_dir);
	if (dir == NULL) {
		return;
	}
	while ((entry = readdir(dir)) != NULL) {
		char path[THERMAL_PATH_MAX], type[64], description[THERMAL_DESCRIPTION_MAX];

		if (strncmp(entry->d_name, "thermal_zone", 12) != 0) {
			continue;
		}
		fmt_format(path, sizeof(path), "%s/%s/type", class_dir, entry->d_name);
		thermal_read_line(path, type, sizeof(type));
		fmt_format(path, sizeof(path), "%s/%s/temp", class_dir, entry->d_name);
		fmt_format(description, sizeof(description), "thermal zone %s (%s)", type,
		    entry->d_name);
		thermal_offer(out, THERMAL_ORIGIN_THERMAL_ZONE, thermal_rank_zone(type), path,
		    description);
	}
	closedir(dir);
}

static void
thermal_select_pinned(const char *pinned_path, thermal_source_t *out)
{
	long millidegrees;
	int error = thermal_read_millidegrees(pinned_path, &millidegrees);

	/* A pinned file is used even when it does not read yet: it may be written later. */
	out->count = 1;
	out->rank = THERMAL_RANK_CPU_PACKAGE;
	out->origin = THERMAL_ORIGIN_PINNED;
	fmt_format(out->paths[0], THERMAL_PATH_MAX, "%s", pinned_path);
	fmt_format(out->description, sizeof(out->description), "temp_source %s", pinned_path);
	if (error != 0) {
		log_message(LOG_LEVEL_WARN, "temp_source %s is not readable as millidegrees "
		    "(%s); thermal gating is off until it is", pinned_path,
		    fmt_errno_text(-error));
	}
}

void
thermal_select(const char *sysfs_root, const char *pinned_path, bool use_libsensors,
    thermal_source_t *out)
{
	memset(out, 0, sizeof(*out));
	if (pinned_path != NULL && pinned_path[0] != '\0') {
		thermal_select_pinned(pinned_path, out);
	} else if (use_libsensors && strcmp(sysfs_root, "/sys") == 0) {
		thermal_sensors_scan(out);
	}
	if (out->count == 0) {
		thermal_scan_hwmon(out, sysfs_root);
		thermal_scan_zones(out, sysfs_root);
	}

	if (out->count == 0) {
		fmt_format(out->unavailable_reason, sizeof(out->unavailable_reason),
		    "no CPU temperature sensor under %s (hwmon or thermal zone)", sysfs_root);
		log_message(LOG_LEVEL_INFO, "thermal gating is off: %s", out->unavailable_reason);
		return;
	}
	log_message(LOG_LEVEL_INFO, "CPU temperature source: %s, %d input%s, first %s",
	    out->description, out->count, out->count == 1 ? "" : "s", out->paths[0]);
}
