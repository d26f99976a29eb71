/* Parsers for option values: sizes, percentages, durations, booleans, numbers. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options.h"

/* Parses a finite, non-negative decimal number and returns the rest of the text. */
static bool
options_parse_leading_number(const char *text, double *value, const char **rest)
{
	char *end;

	while (isspace((unsigned char)*text)) {
		text++;
	}
	/* strtod accepts "inf", "nan" and hex; a size or duration is plain digits. */
	if (!isdigit((unsigned char)*text) && *text != '.') {
		return false;
	}
	errno = 0;
	*value = strtod(text, &end);
	if (end == text || errno == ERANGE || !isfinite(*value) || *value < 0) {
		return false;
	}
	/* strtod also takes hex ("0x10"); only decimal digits, a point and an exponent count. */
	for (const char *c = text; c < end; c++) {
		if (!isdigit((unsigned char)*c) && strchr(".eE+-", *c) == NULL) {
			return false;
		}
	}
	while (isspace((unsigned char)*end)) {
		end++;
	}
	*rest = end;
	return true;
}

static bool
options_is_blank(const char *text)
{
	while (isspace((unsigned char)*text)) {
		text++;
	}
	return *text == '\0';
}

/* Multiplier of a size suffix: K, M, G, T, with optional B or iB; binary units. */
static bool
options_size_multiplier(const char *suffix, double *multiplier)
{
	static const struct {
		char letter;
		double multiplier;
	} units[] = {
		{ 'k', 1024.0 }, { 'm', 1048576.0 }, { 'g', 1073741824.0 },
		{ 't', 1099511627776.0 },
	};
	char trimmed[8];
	size_t length = strlen(suffix), i;

	while (length > 0 && isspace((unsigned char)suffix[length - 1])) {
		length--;
	}
	if (length == 0 || (length == 1 && tolower((unsigned char)suffix[0]) == 'b')) {
		*multiplier = 1.0;
		return true;
	}
	if (length >= sizeof(trimmed)) {
		return false;
	}
	memcpy(trimmed, suffix, length);
	trimmed[length] = '\0';

	for (i = 0; i < SX_ARRAY_SIZE(units); i++) {
		if (tolower((unsigned char)trimmed[0]) != units[i].letter) {
			continue;
		}
		if (trimmed[1] == '\0' || strcasecmp(trimmed + 1, "b") == 0
		    || strcasecmp(trimmed + 1, "ib") == 0) {
			*multiplier = units[i].multiplier;
			return true;
		}
	}
	return false;
}

bool
options_parse_size(const char *text, uint64_t *bytes)
{
	double number, multiplier, total;
	const char *rest;

	if (!options_parse_leading_number(text, &number, &rest)
	    || !options_size_multiplier(rest, &multiplier)) {
		return false;
	}
	total = number * multiplier;
	/* 2^63 bytes is past any real memory and keeps later sums from overflowing. */
	if (total >= 9223372036854775808.0) {
		return false;
	}
	*bytes = (uint64_t)total;
	return true;
}

bool
options_parse_size_or_percent(const char *text, uint64_t *bytes, double *percent)
{
	double number;
	const char *rest;

	if (strchr(text, '%') == NULL) {
		if (!options_parse_size(text, bytes)) {
			return false;
		}
		*percent = 0;
		return true;
	}
	if (!options_parse_leading_number(text, &number, &rest) || *rest != '%'
	    || !options_is_blank(rest + 1) || number <= 0 || number > 100) {
		return false;
	}
	*percent = number;
	*bytes = 0;
	return true;
}

bool
options_parse_duration_ms(const char *text, uint64_t default_unit_ms, uint64_t *ms)
{
	static const struct {
		const char *suffix;
		double ms;
	} units[] = {
		{ "ms", 1.0 }, { "s", 1000.0 }, { "sec", 1000.0 }, { "m", 60000.0 },
		{ "min", 60000.0 }, { "h", 3600000.0 },
	};
	double number, total = -1;
	const char *rest;
	size_t i;

	if (!options_parse_leading_number(text, &number, &rest)) {
		return false;
	}
	if (options_is_blank(rest)) {
		total = number * (double)default_unit_ms;
	}
	for (i = 0; i < SX_ARRAY_SIZE(units) && total < 0; i++) {
		size_t length = strlen(units[i].suffix);

		if (strncasecmp(rest, units[i].suffix, length) == 0
		    && options_is_blank(rest + length)) {
			total = number * units[i].ms;
		}
	}
	/* Over a year is a typo, not a wait. */
	if (total < 0 || total > 365.0 * 24 * 3600 * 1000) {
		return false;
	}
	*ms = (uint64_t)total;
	return true;
}

bool
options_parse_bool(const char *text, bool *value)
{
	static const char *const true_words[] = { "1", "true", "yes", "on", "enable", "enabled" };
	static const char *const false_words[] = { "0", "false", "no", "off", "disable", "disabled" };
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(true_words); i++) {
		if (strcasecmp(text, true_words[i]) == 0) {
			*value = true;
			return true;
		}
	}
	for (i = 0; i < SX_ARRAY_SIZE(false_words); i++) {
		if (strcasecmp(text, false_words[i]) == 0) {
			*value = false;
			return true;
		}
	}
	return false;
}

bool
options_parse_number(const char *text, double min, double max, double *value)
{
	double number;
	const char *rest;
	bool negative = false;

	while (isspace((unsigned char)*text)) {
		text++;
	}
	if (*text == '-') {
		negative = true;
		text++;
	}
	if (!options_parse_leading_number(text, &number, &rest)) {
		return false;
	}
	/* A temperature may carry its unit: 85C or 85°C. */
	if (strcmp(rest, "\xc2\xb0""C") == 0 || strcasecmp(rest, "C") == 0) {
		rest += strlen(rest);
	}
	if (!options_is_blank(rest)) {
		return false;
	}
	number = negative ? -number : number;
	if (number < min || number > max) {
		return false;
	}
	*value = number;
	return true;
}
