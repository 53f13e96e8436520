/*
 * jsonw.c - see jsonw.h.
 */
#include "core/jsonw.h"

#include <stdio.h>

#include "core/text.h"
#include "core/timeutil.h"

static const char REPLACEMENT[] = "\xef\xbf\xbd"; /* U+FFFD */

/* The escape for byte c, or NULL when it is written as it is. */
static const char *escape_of(unsigned char c, char ubuf[8])
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	default:
		if (c >= 0x20)
			return NULL;
		snprintf(ubuf, 8, "\\u%04x", c);
		return ubuf;
	}
}

/* Append a run of text; over the cap, what fits is kept (cut before a UTF-8 sequence) so that
   an echo still shows the start. */
static hb_err add_run(hb_buf *out, const char *s, size_t n)
{
	hb_err rc = hb_buf_add(out, s, n);
	if (rc == HB_ERR_TOO_LARGE && out->max > out->len) {
		size_t fit = out->max - out->len;
		while (fit > 0 && ((unsigned char)s[fit] & 0xc0) == 0x80)
			fit--;
		if (hb_buf_add(out, s, fit) != HB_OK)
			return rc; /* cannot happen: it fits */
	}
	return rc;
}

/* Runs of bytes that need no escape are copied whole: attempt logs are mostly such text. */
hb_err hb_json_write_string(hb_buf *out, const char *s, size_t n, bool lenient)
{
	hb_err rc = hb_buf_addc(out, '"');
	size_t run = 0; /* start of the bytes not yet copied */
	for (size_t i = 0; rc == HB_OK && i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		size_t k = c < 0x80 ? 0 : hb_text_utf8_seq(s + i, n - i, NULL);
		if (k) { /* a whole UTF-8 sequence: part of the run */
			i += k;
			continue;
		}
		char ubuf[8];
		const char *esc = c < 0x80 ? escape_of(c, ubuf) : NULL;
		if (!esc && !lenient)
			return HB_ERR_INVALID; /* not UTF-8 */
		rc = add_run(out, s + run, i - run);
		if (!rc)
			rc = hb_buf_adds(out, esc ? esc : REPLACEMENT);
		run = ++i;
	}
	if (!rc)
		rc = add_run(out, s + run, n - run);
	return rc ? rc : hb_buf_addc(out, '"');
}

hb_err hb_json_write_key(hb_buf *out, const char *key, bool first)
{
	hb_err rc = first ? HB_OK : hb_buf_addc(out, ',');
	if (!rc)
		rc = hb_json_write_string(out, key, strlen(key), false);
	return rc ? rc : hb_buf_addc(out, ':');
}

json_t *hb_value_json(const hb_value *v)
{
	char t[HB_TIME_STR_MAX];
	switch (v->type) {
	case HB_TYPE_BOOL:
		return json_boolean(v->u.b);
	case HB_TYPE_INT:
		return json_integer((json_int_t)v->u.i);
	case HB_TYPE_TIME:
		return json_string(hb_time_format(v->u.i, t));
	case HB_TYPE_STRING: {
		json_t *s = json_stringn(v->u.s.ptr, v->u.s.len);
		return s ? s : json_null();
	}
	default:
		return json_null();
	}
}
