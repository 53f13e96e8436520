/*
 * escape.c - the encoders of escape.h.
 *
 * DESIGN. Each encoder walks its input once, copies runs of bytes that need no change with one
 * hb_buf_add, and writes the escape of the odd byte out; a 256-entry table says which bytes are
 * odd. Values are mostly plain text, so the common case is one copy per value.
 */
#include "engine/escape.h"

#include <string.h>

#include "core/text.h"

static const char hexd[] = "0123456789ABCDEF"; /* percent-encoding: upper case (RFC 3986) */
static const char hexl[] = "0123456789abcdef"; /* \u escapes: lower case, as most encoders */

/* JSON byte classes: 0 copy as is, 1 escape, 2 start of a multi-byte sequence (check it). */
static const unsigned char json_class[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x80 ... 0xff] = 2,
};

hb_err hb_escape_json_str(hb_buf *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;
	hb_err rc = HB_OK;
	while (i < n) {
		unsigned char c = s[i];
		unsigned char cls = json_class[c];
		if (cls == 0) {
			i++;
			continue;
		}
		unsigned cp = 0;
		size_t len = 0;
		if (cls == 2) {
			len = hb_text_utf8_seq((const char *)s + i, n - i, &cp);
			if (len && cp != 0x2028 && cp != 0x2029) {
				i += len;
				continue;
			}
		}
		if (i > run && (rc = hb_buf_add(out, s + run, i - run)))
			return rc;
		char esc[8];
		size_t elen = 2;
		esc[0] = '\\';
		if (cls == 2 && len) { /* U+2028 or U+2029 */
			memcpy(esc, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
			elen = 6;
			i += len;
		} else if (cls == 2 || c == 0) { /* not UTF-8, or NUL: U+FFFD */
			memcpy(esc, "\xef\xbf\xbd", 3);
			elen = 3;
			i++;
		} else {
			switch (c) {
			case '"':
				esc[1] = '"';
				break;
			case '\\':
				esc[1] = '\\';
				break;
			case '\b':
				esc[1] = 'b';
				break;
			case '\f':
				esc[1] = 'f';
				break;
			case '\n':
				esc[1] = 'n';
				break;
			case '\r':
				esc[1] = 'r';
				break;
			case '\t':
				esc[1] = 't';
				break;
			default:
				memcpy(esc, "\\u00", 4);
				esc[4] = hexl[c >> 4];
				esc[5] = hexl[c & 15];
				elen = 6;
			}
			i++;
		}
		if ((rc = hb_buf_add(out, esc, elen)))
			return rc;
		run = i;
	}
	if (i > run)
		rc = hb_buf_add(out, s + run, i - run);
	return rc;
}

hb_err hb_escape_json_quoted(hb_buf *out, const char *s, size_t n)
{
	hb_err rc = hb_buf_addc(out, '"');
	if (!rc)
		rc = hb_escape_json_str(out, s, n);
	if (!rc)
		rc = hb_buf_addc(out, '"');
	return rc;
}

hb_err hb_escape_json_value(hb_buf *out, const hb_value *v)
{
	char tmp[HB_VALUE_TEXT_MAX + 2];
	size_t n;
	switch (v->type) {
	case HB_TYPE_NULL:
		return hb_buf_add(out, "null", 4);
	case HB_TYPE_BOOL:
		return v->u.b ? hb_buf_add(out, "true", 4) : hb_buf_add(out, "false", 5);
	case HB_TYPE_INT:
		n = hb_escape_int_text(v->u.i, tmp);
		return hb_buf_add(out, tmp, n);
	case HB_TYPE_TIME:
		tmp[0] = '"';
		n = hb_escape_time_text(v->u.i, tmp + 1);
		tmp[n + 1] = '"';
		return hb_buf_add(out, tmp, n + 2);
	case HB_TYPE_STRING:
		return hb_escape_json_quoted(out, v->u.s.ptr, v->u.s.len);
	}
	return HB_ERR_INTERNAL;
}

/* Percent-encoding: 1 = keep for URLs (unreserved), 2 = keep for forms, 3 = both. */
static const unsigned char pct_keep[256] = {
    ['A' ... 'Z'] = 3, ['a' ... 'z'] = 3, ['0' ... '9'] = 3, ['-'] = 3,
    ['.'] = 3,	       ['_'] = 3,	  ['~'] = 1,	     ['*'] = 2,
};

static hb_err pct_encode(hb_buf *out, const char *str, size_t n, unsigned keep, bool plus)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t run = 0;
	hb_err rc;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (pct_keep[c] & keep)
			continue;
		if (i > run && (rc = hb_buf_add(out, s + run, i - run)))
			return rc;
		if (plus && c == ' ') {
			rc = hb_buf_addc(out, '+');
		} else {
			char esc[3] = {'%', hexd[c >> 4], hexd[c & 15]};
			rc = hb_buf_add(out, esc, 3);
		}
		if (rc)
			return rc;
		run = i + 1;
	}
	return n > run ? hb_buf_add(out, s + run, n - run) : HB_OK;
}

hb_err hb_escape_url(hb_buf *out, const char *s, size_t n)
{
	return pct_encode(out, s, n, 1, false);
}

hb_err hb_escape_form(hb_buf *out, const char *s, size_t n)
{
	return pct_encode(out, s, n, 2, true);
}

hb_err hb_escape_html(hb_buf *out, const char *s, size_t n)
{
	size_t run = 0;
	hb_err rc;
	for (size_t i = 0; i < n; i++) {
		const char *ent;
		switch (s[i]) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			continue;
		}
		if (i > run && (rc = hb_buf_add(out, s + run, i - run)))
			return rc;
		if ((rc = hb_buf_adds(out, ent)))
			return rc;
		run = i + 1;
	}
	return n > run ? hb_buf_add(out, s + run, n - run) : HB_OK;
}

hb_err hb_escape_base64(hb_buf *out, const void *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = p;
	if (n > (HB_BUF_UNLIMITED / 4) * 3)
		return HB_ERR_TOO_LARGE;
	size_t olen = (n + 2) / 3 * 4;
	hb_err rc = hb_buf_reserve(out, olen);
	if (rc)
		return rc;
	char *o = out->data + out->len;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	out->len += olen;
	out->data[out->len] = '\0';
	return HB_OK;
}

size_t hb_escape_int_text(int64_t v, char *buf)
{
	char tmp[24];
	size_t n = 0;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	size_t len = 0;
	if (v < 0)
		buf[len++] = '-';
	while (n)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
}

static void two(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

size_t hb_escape_time_text(int64_t t, char *buf)
{
	/* 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, as hb_time_format accepts */
	if (t < -62167219200LL || t > 253402300799LL) {
		memcpy(buf, "invalid-time", 13);
		return 12;
	}
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t secs = t - days * 86400;
	/* Howard Hinnant's civil_from_days */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	unsigned yy = (unsigned)y;
	two(buf, yy / 100);
	two(buf + 2, yy % 100);
	buf[4] = '-';
	two(buf + 5, m);
	buf[7] = '-';
	two(buf + 8, d);
	buf[10] = 'T';
	two(buf + 11, (unsigned)(secs / 3600));
	buf[13] = ':';
	two(buf + 14, (unsigned)(secs / 60 % 60));
	buf[16] = ':';
	two(buf + 17, (unsigned)(secs % 60));
	buf[19] = 'Z';
	buf[20] = '\0';
	return 20;
}

const char *hb_escape_value_text(const hb_value *v, char *buf, size_t *len)
{
	switch (v->type) {
	case HB_TYPE_BOOL:
		*len = v->u.b ? 4 : 5;
		return v->u.b ? "true" : "false";
	case HB_TYPE_INT:
		*len = hb_escape_int_text(v->u.i, buf);
		return buf;
	case HB_TYPE_TIME:
		*len = hb_escape_time_text(v->u.i, buf);
		return buf;
	case HB_TYPE_STRING:
		*len = v->u.s.len;
		return v->u.s.len ? v->u.s.ptr : "";
	case HB_TYPE_NULL:
		break;
	}
	*len = 0;
	return "";
}
