/*
 * coerce.c - the coercion rules of SPEC §4 (see coerce.h), and a small compact-JSON writer.
 *
 * The writer is ours rather than jansson's json_dumps because captured text must be exact and
 * bounded: reals come out in shortest round-trip form (0.1, not 0.10000000000000001), output
 * goes through a capped hb_buf, and invalid UTF-8 (which header values and form bodies may
 * carry) is either refused (stored strings) or shown as U+FFFD (error messages).
 */
#include "engine/coerce.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonw.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"

/* Years 1 to 9999: what RFC 3339 can write. */
#define TIME_MIN (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define TIME_MAX 253402300799LL	  /* 9999-12-31T23:59:59Z */
/* Enough JSON text to show HB_COERCE_ECHO_CHARS characters of any value. */
#define ECHO_BYTES (HB_COERCE_ECHO_CHARS * 8 + 16)

/* Shortest %g text that reads back as d, with ".0" kept for whole numbers ("2.0"). */
static void format_real(double d, char *out, size_t n)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, n, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
	if (!strpbrk(out, ".eEn")) { /* 'n': inf and nan, which JSON cannot hold anyway */
		size_t len = strlen(out);
		if (len + 3 <= n)
			memcpy(out + len, ".0", 3);
	}
}

static hb_err write_string(const char *s, size_t n, hb_buf *out, bool lenient)
{
	return hb_json_write_string(out, s, n, lenient);
}

static hb_err write_json(const json_t *v, hb_buf *out, bool lenient)
{
	char num[40];
	hb_err rc = HB_OK;
	switch (json_typeof(v)) {
	case JSON_NULL:
		return hb_buf_adds(out, "null");
	case JSON_TRUE:
		return hb_buf_adds(out, "true");
	case JSON_FALSE:
		return hb_buf_adds(out, "false");
	case JSON_INTEGER:
		return hb_buf_add_int(out, (long long)json_integer_value(v));
	case JSON_REAL:
		format_real(json_real_value(v), num, sizeof num);
		return hb_buf_adds(out, num);
	case JSON_STRING:
		return write_string(json_string_value(v), json_string_length(v), out, lenient);
	case JSON_ARRAY: {
		rc = hb_buf_addc(out, '[');
		for (size_t i = 0; rc == HB_OK && i < json_array_size(v); i++) {
			if (i > 0)
				rc = hb_buf_addc(out, ',');
			if (rc == HB_OK)
				rc = write_json(json_array_get(v, i), out, lenient);
		}
		return rc ? rc : hb_buf_addc(out, ']');
	}
	case JSON_OBJECT: {
		rc = hb_buf_addc(out, '{');
		bool first = true;
		const char *key;
		size_t klen;
		json_t *m;
		/* jansson keeps members in insertion order, i.e. the order of the answer. */
		json_object_keylen_foreach((json_t *)v, key, klen, m)
		{
			if (rc != HB_OK)
				break;
			if (!first)
				rc = hb_buf_addc(out, ',');
			first = false;
			if (rc == HB_OK)
				rc = write_string(key, klen, out, lenient);
			if (rc == HB_OK)
				rc = hb_buf_addc(out, ':');
			if (rc == HB_OK)
				rc = write_json(m, out, lenient);
		}
		return rc ? rc : hb_buf_addc(out, '}');
	}
	}
	return HB_ERR_INTERNAL;
}

/* v as JSON text cut to HB_COERCE_ECHO_CHARS characters with "…", for messages. */
static void echo_value(const json_t *v, char *shown, size_t n)
{
	hb_buf b;
	hb_buf_init(&b, ECHO_BYTES);
	/* Over the cap the buffer keeps what fitted, which is more than is shown. */
	bool over = write_json(v, &b, true) != HB_OK;
	const char *s = hb_buf_str(&b);
	size_t i = 0, chars = 0;
	while (s[i] && chars < HB_COERCE_ECHO_CHARS) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	bool cut = s[i] != '\0' || over;
	snprintf(shown, n, "%.*s%s%s", (int)i, s, cut ? "\xe2\x80\xa6" : "",
		 cut && json_is_string(v) ? "\"" : "");
	hb_buf_free(&b);
}

static hb_err cannot(hb_error *e, const char *field, const json_t *v, const char *as,
		     const char *why)
{
	char shown[ECHO_BYTES + 8];
	echo_value(v, shown, sizeof shown);
	return hb_fail(e, HB_ERR_COERCE, field, "field %s: cannot store %s as %s (%s)", field,
		       shown, as, why);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The string of v without surrounding ASCII whitespace. */
static void trimmed(const json_t *v, const char **s, size_t *n)
{
	const char *p = json_string_value(v);
	size_t len = json_string_length(v);
	while (len > 0 && is_space(p[0]))
		p++, len--;
	while (len > 0 && is_space(p[len - 1]))
		len--;
	*s = p;
	*n = len;
}

static hb_err to_bool(const json_t *v, const char *field, hb_coerced *out, hb_error *e)
{
	static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};
	if (json_is_boolean(v)) {
		out->value = hb_value_bool(json_is_true(v));
		return HB_OK;
	}
	if (json_is_number(v)) {
		double d = json_number_value(v);
		if (d == 0 || d == 1) {
			out->value = hb_value_bool(d == 1);
			return HB_OK;
		}
	}
	if (json_is_string(v)) {
		const char *s;
		size_t n;
		trimmed(v, &s, &n);
		for (size_t i = 0; i < 3; i++) {
			if (hb_text_ieq(s, n, yes[i]) || hb_text_ieq(s, n, no[i])) {
				out->value = hb_value_bool(hb_text_ieq(s, n, yes[i]));
				return HB_OK;
			}
		}
	}
	return cannot(e, field, v, "a boolean", "expected true/false, yes/no or 1/0");
}

static const char OUT_OF_RANGE[] = "out of the 64-bit integer range";

/* A real with no fraction, within int64. */
static hb_err int_from_real(const json_t *v, const char *field, hb_coerced *out, hb_error *e)
{
	double d = json_real_value(v);
	if (d != trunc(d))
		return cannot(e, field, v, "an integer", "it has a fraction");
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return cannot(e, field, v, "an integer", OUT_OF_RANGE);
	out->value = hb_value_int((int64_t)d);
	return HB_OK;
}

/* "42", " -7 ", "+3", "4.0", "-12.000"; "4.5" has a fraction; digits beyond int64 are out of
 * range. Exponents and hexadecimal are not numbers here. */
static hb_err int_from_string(const json_t *v, const char *field, hb_coerced *out, hb_error *e)
{
	const char *s;
	size_t n;
	int64_t i;
	trimmed(v, &s, &n);
	if (hb_text_to_int64(s, n, &i)) {
		out->value = hb_value_int(i);
		return HB_OK;
	}
	size_t k = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0, digits = k;
	while (digits < n && s[digits] >= '0' && s[digits] <= '9')
		digits++;
	bool zero_fraction = true;
	size_t end = digits;
	if (end < n && s[end] == '.') {
		size_t f = ++end;
		while (end < n && s[end] >= '0' && s[end] <= '9')
			zero_fraction &= s[end++] == '0';
		if (end == f)
			end = 0; /* "4." is not a number */
	}
	if (digits == k || end != n)
		return cannot(e, field, v, "an integer", "expected a whole number");
	if (!zero_fraction)
		return cannot(e, field, v, "an integer", "it has a fraction");
	if (!hb_text_to_int64(s, digits, &i))
		return cannot(e, field, v, "an integer", OUT_OF_RANGE);
	out->value = hb_value_int(i);
	return HB_OK;
}

static hb_err to_int(const json_t *v, const char *field, hb_coerced *out, hb_error *e)
{
	if (json_is_integer(v)) {
		out->value = hb_value_int(json_integer_value(v));
		return HB_OK;
	}
	if (json_is_real(v))
		return int_from_real(v, field, out, e);
	if (json_is_string(v))
		return int_from_string(v, field, out, e);
	return cannot(e, field, v, "an integer", "expected a whole number");
}

static hb_err to_time(const json_t *v, const char *field, hb_coerced *out, hb_error *e)
{
	static const char SECONDS_RANGE[] =
	    "Unix seconds outside the years 1 to 9999; milliseconds are not accepted";
	int64_t t;
	if (json_is_integer(v)) {
		t = json_integer_value(v);
		if (t < TIME_MIN || t > TIME_MAX)
			return cannot(e, field, v, "a datetime", SECONDS_RANGE);
	} else if (json_is_real(v)) {
		/* Fractions of a second are dropped, as they are in strings. */
		double d = floor(json_real_value(v));
		if (!(d >= (double)TIME_MIN && d <= (double)TIME_MAX))
			return cannot(e, field, v, "a datetime", SECONDS_RANGE);
		t = (int64_t)d;
	} else if (json_is_string(v)) {
		const char *s;
		size_t n;
		trimmed(v, &s, &n);
		if (!hb_time_parse(s, n, &t))
			return cannot(e, field, v, "a datetime",
				      "expected an RFC 3339 date-time such as "
				      "2026-11-28T10:00:00Z, or Unix seconds");
		if (t < TIME_MIN || t > TIME_MAX)
			return cannot(e, field, v, "a datetime", "outside the years 1 to 9999");
	} else {
		return cannot(e, field, v, "a datetime",
			      "expected an RFC 3339 date-time such as 2026-11-28T10:00:00Z, or "
			      "Unix seconds");
	}
	out->value = hb_value_time(t);
	return HB_OK;
}

static void keep_string(hb_coerced *out, char *owned, size_t n)
{
	out->owned = owned;
	out->value = hb_value_strn(owned, n);
}

static hb_err to_string(const json_t *v, const char *field, hb_coerced *out, hb_error *e)
{
	char why[96], num[40];
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v), bad;
		if (n > HB_COERCE_STRING_MAX) {
			snprintf(why, sizeof why, "longer than the %d-byte limit",
				 HB_COERCE_STRING_MAX);
			return cannot(e, field, v, "a string", why);
		}
		if (!hb_text_is_utf8(s, n, &bad)) {
			snprintf(why, sizeof why, "not valid UTF-8 at byte %zu", bad + 1);
			return cannot(e, field, v, "a string", why);
		}
		if (memchr(s, '\0', n))
			return cannot(e, field, v, "a string", "it contains a NUL character");
		keep_string(out, hb_strndup(s, n), n);
		return HB_OK;
	}
	if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v)) {
		if (json_is_integer(v))
			snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			format_real(json_real_value(v), num, sizeof num);
		else
			snprintf(num, sizeof num, "%s", json_is_true(v) ? "true" : "false");
		keep_string(out, hb_strdup(num), strlen(num));
		return HB_OK;
	}
	hb_buf b;
	hb_buf_init(&b, HB_COERCE_STRING_MAX);
	hb_err rc = write_json(v, &b, false);
	if (rc == HB_ERR_TOO_LARGE) {
		snprintf(why, sizeof why, "its JSON text is longer than the %d-byte limit",
			 HB_COERCE_STRING_MAX);
		rc = cannot(e, field, v, "a string", why);
	} else if (rc != HB_OK) {
		rc = cannot(e, field, v, "a string", "it holds text that is not valid UTF-8");
	} else {
		size_t n = b.len;
		keep_string(out, hb_buf_steal(&b), n);
	}
	hb_buf_free(&b);
	return rc;
}

hb_err hb_coerce(const json_t *v, hb_type type, const char *field, hb_coerced *out, hb_error *e)
{
	*out = (hb_coerced){.clear = false, .value = hb_value_null(), .owned = NULL};
	if (!field)
		field = "(unnamed)";
	if (!v)
		return hb_fail(e, HB_ERR_INTERNAL, field, "field %s: no value to coerce", field);
	if (json_is_null(v)) {
		out->clear = true;
		return HB_OK;
	}
	switch (type) {
	case HB_TYPE_BOOL:
		return to_bool(v, field, out, e);
	case HB_TYPE_INT:
		return to_int(v, field, out, e);
	case HB_TYPE_TIME:
		return to_time(v, field, out, e);
	case HB_TYPE_STRING:
		return to_string(v, field, out, e);
	case HB_TYPE_NULL:
		break;
	}
	return hb_fail(e, HB_ERR_INTERNAL, field,
		       "field %s: cannot capture into a field of type %s", field,
		       hb_type_name(type));
}

void hb_coerced_clear(hb_coerced *c)
{
	if (!c)
		return;
	free(c->owned);
	*c = (hb_coerced){.clear = false, .value = hb_value_null(), .owned = NULL};
}
