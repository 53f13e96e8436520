/*
 * jsonw.c - see jsonw.h.
 */
#include "core/jsonw.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/pool.h"
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

/* The bytes of w that need a look of their own, as the high bit of each: not ASCII, a control
   character, a quote or a backslash (the usual bit tricks for "has a byte less than" and "has
   a zero byte", on all eight at once). A borrow can mark a byte above a marked one too, but the
   lowest mark is always exact, and only the lowest is used. */
static uint64_t special8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	uint64_t below_space = (w - ones * 0x20) & ~w;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
	uint64_t quote = (q - ones) & ~q, backslash = (b - ones) & ~b;
	return (w | below_space | quote | backslash) & high;
}

/* Runs of bytes that need no escape are copied whole: attempt logs are mostly such text. They
   are scanned eight bytes at a time, and a word with a special byte skips to that byte. */
/* How many bytes of s (n bytes) come before the first that needs a look (special8), a word at a
   time. */
static size_t plain_prefix(const char *s, size_t n)
{
	size_t i = 0;
	for (; n - i >= 8; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w);
#endif
		uint64_t marks = special8(w);
		if (marks)
			return i + (size_t)__builtin_ctzll(marks) / 8;
	}
	if (i < n && n >= 8) { /* the tail, as the last eight bytes (some already seen) */
		uint64_t w;
		memcpy(&w, s + n - 8, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w);
#endif
		uint64_t marks = special8(w) >> (8 * (8 - (n - i))); /* the bytes from i on */
		return marks ? i + (size_t)__builtin_ctzll(marks) / 8 : n;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
			break;
	}
	return i;
}

#define QUOTED_MAX 512 /* strings up to this long go through write_quoted first */
#define QUOTED_ROOM(n) (2 * (n) + 16) /* what it may touch: 2 bytes a byte, quote, slack */

/* The opening quote and s from its start, into out (which has QUOTED_ROOM(n) bytes of room past
   its end), up to the first byte that is a control character or not ASCII; returns where that
   is (n if none). Quotes and backslashes are escaped in place. A JSON body logged as a string
   has a quote every few bytes, and copying each run between two by a call cost more than the
   bytes: here each word is stored whole and the write position moves past its plain bytes
   only (the rest is written over). */
static size_t write_quoted(hb_buf *out, const char *s, size_t n)
{
	char *d = out->data + out->len;
	*d++ = '"';
	size_t i = 0;
	while (i < n) {
		if (n - i >= 8) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			memcpy(d, &w, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
			w = __builtin_bswap64(w); /* the first byte lowest, so borrows run forwards */
#endif
			uint64_t marks = special8(w);
			size_t plain = marks ? (size_t)__builtin_ctzll(marks) / 8 : 8;
			d += plain;
			i += plain;
			if (!marks)
				continue;
		}
		char c = s[i];
		if (c == '"' || c == '\\') {
			*d++ = '\\';
		} else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x80) {
			break;
		}
		*d++ = c;
		i++;
	}
	*d = '\0';
	out->len = (size_t)(d - out->data);
	return i;
}

hb_err hb_json_write_string(hb_buf *out, const char *s, size_t n, bool lenient)
{
	size_t plain = plain_prefix(s, n);
	if (plain == n && n + 2 < out->cap - out->len && n + 2 <= out->max - out->len) {
		char *d = out->data + out->len; /* nothing to escape, and room: one copy */
		d[0] = '"';
		memcpy(d + 1, s, n);
		d[n + 1] = '"';
		d[n + 2] = '\0';
		out->len += n + 2;
		return HB_OK;
	}
	hb_err rc = HB_OK;
	size_t from = 0; /* where the run-by-run writing below starts, the opening quote written */
	if (n <= QUOTED_MAX && QUOTED_ROOM(n) <= out->max - out->len && /* not near the cap */
	    (QUOTED_ROOM(n) < out->cap - out->len || hb_buf_reserve(out, QUOTED_ROOM(n)) == HB_OK)) {
		from = write_quoted(out, s, n);
		if (from == n)
			return hb_buf_addc(out, '"');
	} else {
		rc = hb_buf_addc(out, '"');
	}
	size_t run = from; /* start of the bytes not yet copied */
	for (size_t i = from > plain ? from : plain; rc == HB_OK && i < n;) {
		if (n - i >= 8) {
			uint64_t w;
			memcpy(&w, s + i, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
			w = __builtin_bswap64(w); /* the first byte lowest, so borrows run forwards */
#endif
			uint64_t marks = special8(w);
			if (!marks) {
				i += 8;
				continue;
			}
			i += (size_t)__builtin_ctzll(marks) / 8;
		}
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
		if ((c == '"' || c == '\\') && i - run + 2 < out->cap - out->len &&
		    i - run + 2 <= out->max - out->len) { /* the usual escapes, in place */
			memcpy(out->data + out->len, s + run, i - run);
			out->len += i - run;
			out->data[out->len++] = '\\';
			out->data[out->len++] = (char)c;
			out->data[out->len] = '\0';
			run = ++i;
			continue;
		}
		char ubuf[8];
		const char *esc = c < 0x80 ? escape_of(c, ubuf) : NULL;
		if (!esc && !lenient)
			return HB_ERR_INVALID; /* not UTF-8 */
		rc = add_run(out, s + run, i - run);
		if (!rc)
			rc = esc ? hb_buf_add(out, esc, esc[2] ? 6 : 2) /* \u00XX or \" \n … */
				 : hb_buf_add(out, REPLACEMENT, sizeof REPLACEMENT - 1);
		run = ++i;
	}
	if (!rc)
		rc = add_run(out, s + run, n - run);
	return rc ? rc : hb_buf_addc(out, '"');
}

hb_err hb_json_write_key(hb_buf *out, const char *key, bool first)
{
	/* keys are mostly short plain words: ,"key": in one piece when nothing needs escaping */
	char plain[40];
	size_t n = 0;
	if (!first)
		plain[n++] = ',';
	plain[n++] = '"';
	for (const char *k = key; n < sizeof plain - 2; k++, n++) {
		unsigned char c = (unsigned char)*k;
		if (!c) {
			plain[n++] = '"';
			plain[n++] = ':';
			return hb_buf_add(out, plain, n);
		}
		if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
			break;
		plain[n] = (char)c;
	}
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

hb_err hb_json_write_value(hb_buf *out, const hb_value *v)
{
	char t[HB_TIME_STR_MAX];
	switch (v->type) {
	case HB_TYPE_BOOL:
		return hb_buf_adds(out, v->u.b ? "true" : "false");
	case HB_TYPE_INT:
		return hb_buf_add_int(out, (long long)v->u.i);
	case HB_TYPE_TIME: {
		const char *text = hb_time_format(v->u.i, t);
		return hb_json_write_string(out, text, strlen(text), false);
	}
	case HB_TYPE_STRING: {
		size_t at = out->len;
		hb_err rc = hb_json_write_string(out, v->u.s.ptr ? v->u.s.ptr : "", v->u.s.len, false);
		if (rc != HB_ERR_INVALID)
			return rc;
		hb_buf_truncate(out, at); /* not UTF-8: null, as hb_value_json has it */
		return hb_buf_adds(out, "null");
	}
	default:
		return hb_buf_adds(out, "null");
	}
}

void hb_json_setup(void)
{
	json_set_alloc_funcs(hb_pool_alloc, hb_pool_free);
}

static int dump_into(const char *text, size_t n, void *ud)
{
	return hb_buf_add(ud, text, n) == HB_OK ? 0 : -1;
}

char *hb_json_dump(const json_t *v, size_t flags)
{
	hb_buf b;
	hb_buf_init(&b, HB_BUF_UNLIMITED);
	if (json_dump_callback(v, dump_into, &b, flags) != 0) {
		hb_buf_free(&b);
		return NULL;
	}
	return hb_buf_steal(&b);
}
