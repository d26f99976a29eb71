/* Allocation-free formatting; see fmt.h for the supported conversions. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fmt.h"

typedef struct {
	char *out;
	size_t size;
	size_t length;
} fmt_buffer_t;

typedef struct {
	bool left_align;
	bool zero_pad;
	int width;
	int precision; /* -1 when absent */
	int long_count; /* 0, 1 (l) or 2 (ll); z counts as 2 */
} fmt_spec_t;

static void
fmt_put_char(fmt_buffer_t *buffer, char c)
{
	if (buffer->length + 1 < buffer->size) {
		buffer->out[buffer->length] = c;
	}
	buffer->length++;
}

static void
fmt_put_padded(fmt_buffer_t *buffer, const char *text, size_t text_length,
    const fmt_spec_t *spec)
{
	size_t pad = spec->width > 0 && (size_t)spec->width > text_length
	    ? (size_t)spec->width - text_length : 0;
	char pad_char = spec->zero_pad && !spec->left_align ? '0' : ' ';
	size_t i;

	/* A zero-padded negative number keeps its sign in front of the zeros. */
	if (pad_char == '0' && text_length > 0 && text[0] == '-') {
		fmt_put_char(buffer, '-');
		text++;
		text_length--;
	}
	if (!spec->left_align) {
		for (i = 0; i < pad; i++) {
			fmt_put_char(buffer, pad_char);
		}
	}
	for (i = 0; i < text_length; i++) {
		fmt_put_char(buffer, text[i]);
	}
	if (spec->left_align) {
		for (i = 0; i < pad; i++) {
			fmt_put_char(buffer, ' ');
		}
	}
}

/* Writes value in base into the end of digits; returns the first digit. */
static char *
fmt_unsigned_digits(unsigned long long value, unsigned base, char *end)
{
	static const char digit_chars[] = "0123456789abcdef";
	char *cursor = end;

	do {
		*--cursor = digit_chars[value % base];
		value /= base;
	} while (value != 0);
	return cursor;
}

static void
fmt_put_integer(fmt_buffer_t *buffer, unsigned long long magnitude,
    bool negative, unsigned base, const fmt_spec_t *spec)
{
	char digits[32];
	char *end = digits + sizeof(digits);
	char *start = fmt_unsigned_digits(magnitude, base, end);

	if (negative) {
		*--start = '-';
	}
	fmt_put_padded(buffer, start, (size_t)(end - start), spec);
}

static void
fmt_put_double(fmt_buffer_t *buffer, double value, const fmt_spec_t *spec)
{
	char text[48];
	size_t length = 0;
	int precision = spec->precision < 0 ? 6 : (spec->precision > 9 ? 9 : spec->precision);
	unsigned long long scale = 1, whole, fraction;
	char digits[32];
	char *end = digits + sizeof(digits);
	char *start;
	int i;

	if (value != value) {
		fmt_put_padded(buffer, "nan", 3, spec);
		return;
	}
	if (value < 0) {
		text[length++] = '-';
		value = -value;
	}
	if (value > 1e18) {
		fmt_put_padded(buffer, value == value + 1 ? "inf" : "huge", 3, spec);
		return;
	}

	for (i = 0; i < precision; i++) {
		scale *= 10;
	}
	whole = (unsigned long long)value;
	fraction = (unsigned long long)((value - (double)whole) * (double)scale + 0.5);
	if (fraction >= scale) {
		whole++;
		fraction -= scale;
	}

	start = fmt_unsigned_digits(whole, 10, end);
	memcpy(text + length, start, (size_t)(end - start));
	length += (size_t)(end - start);
	if (precision > 0) {
		text[length++] = '.';
		for (i = precision - 1; i >= 0; i--) {
			text[length + (size_t)i] = (char)('0' + fraction % 10);
			fraction /= 10;
		}
		length += (size_t)precision;
	}
	fmt_put_padded(buffer, text, length, spec);
}

/* Parses flags, width, precision and length; returns the conversion character's position. */
static const char *
fmt_parse_spec(const char *cursor, va_list *args, fmt_spec_t *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->precision = -1;

	for (;; cursor++) {
		if (*cursor == '-') {
			spec->left_align = true;
		} else if (*cursor == '0') {
			spec->zero_pad = true;
		} else {
			break;
		}
	}
	while (*cursor >= '0' && *cursor <= '9') {
		spec->width = spec->width * 10 + (*cursor++ - '0');
	}
	if (*cursor == '.') {
		cursor++;
		spec->precision = 0;
		if (*cursor == '*') {
			spec->precision = va_arg(*args, int);
			cursor++;
		}
		while (*cursor >= '0' && *cursor <= '9') {
			spec->precision = spec->precision * 10 + (*cursor++ - '0');
		}
	}
	for (;; cursor++) {
		if (*cursor == 'l') {
			spec->long_count++;
		} else if (*cursor == 'z') {
			spec->long_count = 2;
		} else {
			break;
		}
	}
	return cursor;
}

static void
fmt_put_signed_arg(fmt_buffer_t *buffer, va_list *args, const fmt_spec_t *spec)
{
	long long value;

	if (spec->long_count >= 2) {
		value = va_arg(*args, long long);
	} else if (spec->long_count == 1) {
		value = va_arg(*args, long);
	} else {
		value = va_arg(*args, int);
	}
	fmt_put_integer(buffer, value < 0 ? 0ULL - (unsigned long long)value
	    : (unsigned long long)value, value < 0, 10, spec);
}

static void
fmt_put_unsigned_arg(fmt_buffer_t *buffer, va_list *args, unsigned base,
    const fmt_spec_t *spec)
{
	unsigned long long value;

	if (spec->long_count >= 2) {
		value = va_arg(*args, unsigned long long);
	} else if (spec->long_count == 1) {
		value = va_arg(*args, unsigned long);
	} else {
		value = va_arg(*args, unsigned int);
	}
	fmt_put_integer(buffer, value, false, base, spec);
}

static void
fmt_put_string_arg(fmt_buffer_t *buffer, va_list *args, const fmt_spec_t *spec)
{
	const char *text = va_arg(*args, const char *);
	size_t length;

	if (text == NULL) {
		text = "(null)";
	}
	length = strlen(text);
	if (spec->precision >= 0 && (size_t)spec->precision < length) {
		length = (size_t)spec->precision;
	}
	fmt_put_padded(buffer, text, length, spec);
}

size_t
fmt_vformat(char *out, size_t size, const char *format, va_list args)
{
	fmt_buffer_t buffer = { out, size, 0 };
	va_list cursor_args;
	const char *cursor;

	va_copy(cursor_args, args);
	for (cursor = format; *cursor != '\0'; cursor++) {
		fmt_spec_t spec;
		char c;

		if (*cursor != '%') {
			fmt_put_char(&buffer, *cursor);
			continue;
		}
		cursor = fmt_parse_spec(cursor + 1, &cursor_args, &spec);
		switch (*cursor) {
		case 'd':
		case 'i':
			fmt_put_signed_arg(&buffer, &cursor_args, &spec);
			break;
		case 'u':
			fmt_put_unsigned_arg(&buffer, &cursor_args, 10, &spec);
			break;
		case 'o':
			fmt_put_unsigned_arg(&buffer, &cursor_args, 8, &spec);
			break;
		case 'x':
			fmt_put_unsigned_arg(&buffer, &cursor_args, 16, &spec);
			break;
		case 'p':
			fmt_put_char(&buffer, '0');
			fmt_put_char(&buffer, 'x');
			fmt_put_integer(&buffer, (uintptr_t)va_arg(cursor_args, void *),
			    false, 16, &spec);
			break;
		case 'f':
			fmt_put_double(&buffer, va_arg(cursor_args, double), &spec);
			break;
		case 's':
			fmt_put_string_arg(&buffer, &cursor_args, &spec);
			break;
		case 'c':
			c = (char)va_arg(cursor_args, int);
			fmt_put_padded(&buffer, &c, 1, &spec);
			break;
		case '%':
			fmt_put_char(&buffer, '%');
			break;
		case '\0':
			cursor--;
			break;
		default:
			fmt_put_char(&buffer, '%');
			fmt_put_char(&buffer, *cursor);
			break;
		}
	}
	va_end(cursor_args);

	if (size > 0) {
		out[buffer.length < size ? buffer.length : size - 1] = '\0';
	}
	return buffer.length < size ? buffer.length : (size > 0 ? size - 1 : 0);
}

size_t
fmt_format(char *out, size_t size, const char *format, ...)
{
	va_list args;
	size_t length;

	va_start(args, format);
	length = fmt_vformat(out, size, format, args);
	va_end(args);
	return length;
}

const char *
fmt_errno_text(int error)
{
	static const struct {
		int value;
		const char *text;
	} table[] = {
		{ EPERM, "Operation not permitted (EPERM)" },
		{ ENOENT, "No such file or directory (ENOENT)" },
		{ EIO, "Input/output error (EIO)" },
		{ ENXIO, "No such device or address (ENXIO)" },
		{ EAGAIN, "Resource temporarily unavailable (EAGAIN)" },
		{ ENOMEM, "Cannot allocate memory (ENOMEM)" },
		{ EACCES, "Permission denied (EACCES)" },
		{ ENODEV, "No such device (ENODEV)" },
		{ ENOTDIR, "Not a directory (ENOTDIR)" },
		{ EISDIR, "Is a directory (EISDIR)" },
		{ EINVAL, "Invalid argument (EINVAL)" },
		{ ENAMETOOLONG, "File name too long (ENAMETOOLONG)" },
		{ ELOOP, "Too many levels of symbolic links (ELOOP)" },
		{ EOPNOTSUPP, "Operation not supported (EOPNOTSUPP)" },
		{ EFBIG, "File too large (EFBIG)" },
		{ ERANGE, "Numerical result out of range (ERANGE)" },
	};
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(table); i++) {
		if (table[i].value == error) {
			return table[i].text;
		}
	}
	return "unknown error";
}
