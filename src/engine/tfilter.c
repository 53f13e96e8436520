/*
 * tfilter.c - the filters of dynamic tags (`{{ path | upper | truncate:20 }}`): their names,
 * the arguments each takes (checked when a template is compiled), and what each does to a value
 * when it is rendered. User documentation: docs/tags.md.
 *
 * DESIGN. A filter takes one hb_tval and leaves one. Text results go into the render's scratch
 * buffers (two, used in turn, so a filter can read the previous result while writing its own)
 * or, for trim and slice, point into the input; nothing is allocated per record once the scratch
 * buffers have grown. An empty value (null) stays empty through the text filters, so
 * `{{ x | upper }}` is still null in a JSON value position.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "engine/escape.h"
#include "engine/template.h"

enum {
	F_DEFAULT,
	F_UPPER,
	F_LOWER,
	F_CAPITALIZE,
	F_TRIM,
	F_STRIP,
	F_LSTRIP,
	F_RSTRIP,
	F_STRIP_NEWLINES,
	F_TRUNCATE,
	F_DATE,
	F_ADD_DAYS,
	F_URLENCODE,
	F_JSON,
	F_BASE64,
	F_ESCAPE,
	F_REPLACE,
	F_REPLACE_FIRST,
	F_REMOVE,
	F_APPEND,
	F_PREPEND,
	F_PLUS,
	F_MINUS,
	F_TIMES,
	F_DIVIDED_BY,
	F_MODULO,
	F_SIZE,
	F_SLICE,
	F_LEFT,
	F_RIGHT,
	F__COUNT
};

/* Argument specs: s string, i integer, v either; what follows '?' may be left out. */
static const struct fdef {
	const char *name;
	const char *args;
} fdefs[F__COUNT] = {
    [F_DEFAULT] = {"default", "v"},
    [F_UPPER] = {"upper", ""},
    [F_LOWER] = {"lower", ""},
    [F_CAPITALIZE] = {"capitalize", ""},
    [F_TRIM] = {"trim", ""},
    [F_STRIP] = {"strip", ""},
    [F_LSTRIP] = {"lstrip", ""},
    [F_RSTRIP] = {"rstrip", ""},
    [F_STRIP_NEWLINES] = {"strip_newlines", ""},
    [F_TRUNCATE] = {"truncate", "i?s"},
    [F_DATE] = {"date", "s"},
    [F_ADD_DAYS] = {"add_days", "i"},
    [F_URLENCODE] = {"urlencode", ""},
    [F_JSON] = {"json", ""},
    [F_BASE64] = {"base64", ""},
    [F_ESCAPE] = {"escape", ""},
    [F_REPLACE] = {"replace", "ss"},
    [F_REPLACE_FIRST] = {"replace_first", "ss"},
    [F_REMOVE] = {"remove", "s"},
    [F_APPEND] = {"append", "s"},
    [F_PREPEND] = {"prepend", "s"},
    [F_PLUS] = {"plus", "i"},
    [F_MINUS] = {"minus", "i"},
    [F_TIMES] = {"times", "i"},
    [F_DIVIDED_BY] = {"divided_by", "i"},
    [F_MODULO] = {"modulo", "i"},
    [F_SIZE] = {"size", ""},
    [F_SLICE] = {"slice", "i?i"},
    [F_LEFT] = {"left", "i"},
    [F_RIGHT] = {"right", "i"},
};


/* A strftime format we know the output size of: conversions from a fixed list only. */
static bool date_format_ok(const char *f, size_t n)
{
	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (f[i] != '%')
			continue;
		if (++i < n && f[i] == '-')
			i++;
		if (i >= n || !strchr("aAbBcdDeFgGhHIjmMnpRStTuVwyYzZ%", f[i]) || f[i] == '\0')
			return false;
	}
	return true;
}

/* Find filter name[0..n) and check f->arg against it. False with a message in why and the
 * index of the faulty argument in *bad_arg (-1: the filter itself) when it does not fit. */
static bool bind(hb_tfilter *f, const char *name, size_t n, char *why, size_t whylen, int *bad_arg)
{
	*bad_arg = -1;
	f->id = -1;
	for (int k = 0; k < F__COUNT; k++) {
		if (strlen(fdefs[k].name) == n && memcmp(fdefs[k].name, name, n) == 0)
			f->id = k;
	}
	if (f->id < 0) {
		size_t best = 3;
		const char *hint = NULL;
		for (int k = 0; k < F__COUNT; k++) {
			size_t d = hb_text_distance(name, n, fdefs[k].name, strlen(fdefs[k].name));
			if (d < best) {
				best = d;
				hint = fdefs[k].name;
			}
		}
		if (hint)
			snprintf(why, whylen, "unknown filter '%.*s' (did you mean '%s'?)", (int)n,
				 name, hint);
		else
			snprintf(why, whylen, "unknown filter '%.*s'", (int)n, name);
		return false;
	}
	const struct fdef *d = &fdefs[f->id];
	unsigned need = 0, most = 0;
	for (const char *a = d->args; *a; a++) {
		if (*a == '?')
			need = most;
		else
			most++;
	}
	if (!strchr(d->args, '?'))
		need = most;
	if (f->nargs < need || f->nargs > most) {
		if (most == 0)
			snprintf(why, whylen, "filter '%s' takes no argument", d->name);
		else if (need == most)
			snprintf(why, whylen, "filter '%s' needs %u argument%s (got %u)", d->name,
				 most, most == 1 ? "" : "s", f->nargs);
		else
			snprintf(why, whylen, "filter '%s' needs %u or %u arguments (got %u)",
				 d->name, need, most, f->nargs);
		*bad_arg = f->nargs > most ? (int)most : -1;
		return false;
	}
	const char *spec = d->args;
	for (unsigned k = 0; k < f->nargs; k++, spec++) {
		if (*spec == '?')
			spec++;
		const hb_targ *a = &f->arg[k];
		*bad_arg = (int)k;
		if (*spec == 'i' && !a->is_int) {
			snprintf(why, whylen, "argument %u of filter '%s' must be a whole number",
				 k + 1, d->name);
			return false;
		}
		if (*spec == 's' && a->is_int) {
			snprintf(why, whylen, "argument %u of filter '%s' must be a quoted string",
				 k + 1, d->name);
			return false;
		}
	}
	*bad_arg = 0;
	switch (f->id) {
	case F_TRUNCATE:
	case F_LEFT:
	case F_RIGHT:
		if (f->arg[0].i < 0) {
			snprintf(why, whylen, "filter '%s' needs a length of 0 or more", d->name);
			return false;
		}
		break;
	case F_SLICE:
		if (f->nargs == 2 && f->arg[1].i < 0) {
			*bad_arg = 1;
			snprintf(why, whylen, "filter 'slice' needs a length of 0 or more");
			return false;
		}
		break;
	case F_DIVIDED_BY:
	case F_MODULO:
		if (f->arg[0].i == 0) {
			snprintf(why, whylen, "filter '%s' cannot divide by 0", d->name);
			return false;
		}
		break;
	case F_DATE:
		if (!date_format_ok(f->arg[0].s, f->arg[0].n)) {
			snprintf(why, whylen,
				 "bad date format '%s' (use strftime conversions such as "
				 "%%Y-%%m-%%d %%H:%%M, at most 128 characters)",
				 f->arg[0].s);
			return false;
		}
		break;
	case F_ADD_DAYS:
		if (f->arg[0].i > 3660000 || f->arg[0].i < -3660000) {
			snprintf(why, whylen, "filter 'add_days' takes at most 3660000 days");
			return false;
		}
		break;
	}
	*bad_arg = -1;
	return true;
}

const char *hb_template_show(unsigned char ch, char *buf, size_t n)
{
	if (ch == '\n')
		return "a line break";
	if (ch == '\r')
		return "a carriage return (CR)";
	if (ch == '\t')
		return "a tab";
	if (ch == ' ')
		return "a space";
	if (ch < 0x20 || ch == 0x7f)
		snprintf(buf, n, "control character 0x%02X", ch);
	else if (ch >= 0x80)
		snprintf(buf, n, "a non-ASCII character");
	else
		snprintf(buf, n, "'%c'", ch);
	return buf;
}

/* ---- parsing: name [':' arg {',' arg}] */

static bool tag_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static size_t skip_ws(const hb_tsrc *c, size_t i)
{
	while (i < c->end && tag_ws(c->src[i]))
		i++;
	return i;
}

/* A quoted string at *i ('…' or "…", with \\ \" \' \n \r \t), decoded into the pool at *off. */
static hb_err parse_string(const hb_tsrc *c, size_t *i, size_t *off, size_t *n)
{
	char q = c->src[*i];
	size_t at = *i, start = c->pool->len;
	hb_err rc;
	for (size_t k = at + 1; k < c->end; k++) {
		char ch = c->src[k];
		if (ch == q) {
			*n = c->pool->len - start;
			*off = start;
			*i = k + 1;
			if ((rc = hb_buf_addc(c->pool, '\0')))
				return hb_fail(c->e, rc, NULL,
					       "the template is too large to compile");
			return HB_OK;
		}
		if (ch == '\\') {
			if (++k >= c->end)
				break;
			switch (c->src[k]) {
			case '\\':
			case '"':
			case '\'':
				ch = c->src[k];
				break;
			case 'n':
				ch = '\n';
				break;
			case 'r':
				ch = '\r';
				break;
			case 't':
				ch = '\t';
				break;
			default:
				return hb_template_fail(
				    c, k - 1,
				    "unknown escape '\\%c' in a quoted argument "
				    "(use \\\\, \\\", \\', \\n, \\r or \\t)",
				    c->src[k]);
			}
		}
		if ((rc = hb_buf_addc(c->pool, ch)))
			return hb_fail(c->e, rc, NULL, "the template is too large to compile");
	}
	return hb_template_fail(c, at, "unclosed quoted string (no closing %c)", q);
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

hb_err hb_targ_parse(const hb_tsrc *c, size_t *i, hb_targ *a)
{
	size_t at = *i;
	char sb[40];
	a->at = at;
	if (at < c->end && (c->src[at] == '"' || c->src[at] == '\'')) {
		a->is_int = false;
		return parse_string(c, i, &a->off, &a->n);
	}
	size_t k = at;
	if (k < c->end && (c->src[k] == '-' || c->src[k] == '+'))
		k++;
	while (k < c->end && is_digit(c->src[k]))
		k++;
	if (k == at || !is_digit(c->src[k - 1]))
		return hb_template_fail(
		    c, at, "expected an argument (a quoted string or a number), found %s",
		    at < c->end ? hb_template_show((unsigned char)c->src[at], sb, sizeof sb)
				: "the end of the template");
	a->is_int = true;
	if (!hb_text_to_int64(c->src + at, k - at, &a->i))
		return hb_template_fail(c, at, "number '%.*s' is out of range", (int)(k - at),
					c->src + at);
	*i = k;
	return HB_OK;
}

static bool path_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '_' ||
	       ch == '.' || ch == '-';
}

hb_err hb_tfilter_parse(const hb_tsrc *c, size_t *i, hb_tfilter *f)
{
	size_t at = *i, k = at;
	char sb[40];
	while (k < c->end && path_char(c->src[k]) && c->src[k] != '.')
		k++;
	if (k == at)
		return hb_template_fail(
		    c, at, "expected a filter name after '|', found %s",
		    at < c->end ? hb_template_show((unsigned char)c->src[at], sb, sizeof sb)
				: "the end of the template");
	memset(f, 0, sizeof *f);
	size_t name_end = k;
	k = skip_ws(c, k);
	if (k < c->end && c->src[k] == ':') {
		do {
			k = skip_ws(c, k + 1);
			if (f->nargs == HB_TFILTER_MAXARGS)
				return hb_template_fail(
				    c, k, "filter '%.*s' takes at most %d arguments",
				    (int)(name_end - at), c->src + at, HB_TFILTER_MAXARGS);
			hb_err rc = hb_targ_parse(c, &k, &f->arg[f->nargs++]);
			if (rc)
				return rc;
			k = skip_ws(c, k);
		} while (k < c->end && c->src[k] == ',');
	}
	for (unsigned a = 0; a < f->nargs; a++) /* valid until the pool grows again */
		if (!f->arg[a].is_int)
			f->arg[a].s = c->pool->data + f->arg[a].off;
	char why[300];
	int bad;
	bool ok = bind(f, c->src + at, name_end - at, why, sizeof why, &bad);
	if (!ok)
		return hb_template_fail(
		    c, bad >= 0 && (unsigned)bad < f->nargs ? f->arg[bad].at : at, "%s", why);
	*i = k;
	return HB_OK;
}

/* ---- helpers for apply ---- */

static hb_buf *take(hb_tscratch *sc)
{
	hb_buf *b = &sc->buf[sc->next];
	sc->next ^= 1;
	hb_buf_reset(b);
	return b;
}

static void set_buf(hb_tval *v, const hb_buf *b)
{
	v->v = hb_value_strn(b->len ? b->data : "", b->len);
}

static const char *text(const hb_tval *v, hb_tscratch *sc, size_t *n)
{
	return hb_escape_value_text(&v->v, sc->num, n);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Simple case mapping of ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic letters; every
 * mapping keeps the UTF-8 length, so the result is as long as the input. */
static unsigned to_upper(unsigned c)
{
	if (c >= 'a' && c <= 'z')
		return c - 32;
	if (c < 0xe0)
		return c;
	if (c <= 0xfe)
		return c == 0xf7 ? c : c - 32;
	if (c == 0xff)
		return 0x178;
	if ((c >= 0x100 && c <= 0x12f) || (c >= 0x132 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c & ~1u;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return (c & 1) ? c : c - 1;
	if (c >= 0x3b1 && c <= 0x3c9)
		return c == 0x3c2 ? 0x3a3 : c - 32;
	if (c == 0x3ac)
		return 0x386;
	if (c >= 0x3ad && c <= 0x3af)
		return c - 37;
	if (c == 0x3cc)
		return 0x38c;
	if (c == 0x3cd || c == 0x3ce)
		return c - 63;
	if (c >= 0x430 && c <= 0x44f)
		return c - 32;
	if (c >= 0x450 && c <= 0x45f)
		return c - 80;
	return c;
}

static unsigned to_lower(unsigned c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0xc0)
		return c;
	if (c <= 0xde)
		return c == 0xd7 ? c : c + 32;
	if (c == 0x178)
		return 0xff;
	if ((c >= 0x100 && c <= 0x12f) || (c >= 0x132 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c | 1u;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return (c & 1) ? c + 1 : c;
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
		return c + 32;
	if (c == 0x386)
		return 0x3ac;
	if (c >= 0x388 && c <= 0x38a)
		return c + 37;
	if (c == 0x38c)
		return 0x3cc;
	if (c == 0x38e || c == 0x38f)
		return c + 63;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	return c;
}

/* Map the case of s[0..n) into o (n bytes); only the first character when first_only. */
static void map_case(const char *s, size_t n, char *o, bool upper, bool first_only)
{
	memcpy(o, s, n);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			o[i] = (char)(upper ? to_upper(c) : to_lower(c));
			i++;
		} else if (c >= 0xc2 && c <= 0xdf && i + 1 < n &&
			   ((unsigned char)s[i + 1] & 0xc0) == 0x80) {
			unsigned cp = ((c & 0x1fu) << 6) | ((unsigned char)s[i + 1] & 0x3fu);
			unsigned m = upper ? to_upper(cp) : to_lower(cp);
			o[i] = (char)(0xc0 | (m >> 6));
			o[i + 1] = (char)(0x80 | (m & 0x3f));
			i += 2;
		} else {
			i++;
			while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
				i++;
		}
		if (first_only)
			break;
	}
}

/* Byte offset of the character after the first k characters of s[0..n) (n if fewer). */
static size_t char_offset(const char *s, size_t n, size_t k)
{
	size_t i = 0;
	while (i < n && k) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		k--;
	}
	return i;
}

static size_t char_count(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

/* Integer of a value for arithmetic: integers, and strings that spell one. */
static bool int_of(const hb_tval *v, int64_t *out)
{
	if (v->v.type == HB_TYPE_INT) {
		*out = v->v.u.i;
		return true;
	}
	if (v->v.type != HB_TYPE_STRING)
		return false;
	const char *s = v->v.u.s.ptr;
	size_t n = v->v.u.s.len;
	while (n && is_ws(*s))
		s++, n--;
	while (n && is_ws(s[n - 1]))
		n--;
	return hb_text_to_int64(s, n, out);
}

/* Time of a value for date filters: datetimes, Unix seconds, RFC 3339 strings. */
static bool time_of(const hb_tval *v, int64_t *out)
{
	if (v->v.type == HB_TYPE_TIME || v->v.type == HB_TYPE_INT) {
		*out = v->v.u.i;
		return true;
	}
	return v->v.type == HB_TYPE_STRING && hb_time_parse(v->v.u.s.ptr, v->v.u.s.len, out);
}

/* First occurrence of needle (nn > 0 bytes) in h[0..n), or NULL. */
static const char *find(const char *h, size_t n, const char *needle, size_t nn)
{
	while (n >= nn) {
		const char *p = memchr(h, needle[0], n - nn + 1);
		if (!p)
			return NULL;
		if (memcmp(p, needle, nn) == 0)
			return p;
		n -= (size_t)(p - h) + 1;
		h = p + 1;
	}
	return NULL;
}

static hb_err replace(hb_tval *v, hb_tscratch *sc, const hb_targ *from, const char *to, size_t ton,
		      bool all)
{
	size_t n;
	const char *s = text(v, sc, &n);
	if (from->n == 0 || n < from->n)
		return HB_OK;
	hb_buf *b = take(sc);
	size_t i = 0, run = 0;
	hb_err rc = HB_OK;
	while (i + from->n <= n) {
		const char *hit = find(s + i, n - i, from->s, from->n);
		if (!hit)
			break;
		i = (size_t)(hit - s);
		if ((rc = hb_buf_add(b, s + run, i - run)) || (rc = hb_buf_add(b, to, ton)))
			return rc;
		i += from->n;
		run = i;
		if (!all)
			break;
	}
	if ((rc = hb_buf_add(b, s + run, n - run)))
		return rc;
	set_buf(v, b);
	return HB_OK;
}

static hb_err arith(const hb_tfilter *f, hb_tval *v)
{
	int64_t a, b = f->arg[0].i, r;
	if (!int_of(v, &a)) {
		v->v = hb_value_null();
		return HB_OK;
	}
	bool bad = false;
	switch (f->id) {
	case F_PLUS:
		bad = __builtin_add_overflow(a, b, &r);
		break;
	case F_MINUS:
		bad = __builtin_sub_overflow(a, b, &r);
		break;
	case F_TIMES:
		bad = __builtin_mul_overflow(a, b, &r);
		break;
	default: /* F_DIVIDED_BY, F_MODULO: floored, as in Liquid */
		if (a == INT64_MIN && b == -1) {
			bad = true;
			break;
		}
		r = f->id == F_DIVIDED_BY ? a / b : a % b;
		if (f->id == F_DIVIDED_BY && (a % b != 0) && ((a < 0) != (b < 0)))
			r--;
		if (f->id == F_MODULO && r != 0 && ((r < 0) != (b < 0)))
			r += b;
	}
	v->v = bad ? hb_value_null() : hb_value_int(r);
	return HB_OK;
}

static hb_err do_date(const hb_tfilter *f, hb_tval *v, hb_tscratch *sc)
{
	int64_t t;
	if (!time_of(v, &t))
		return HB_OK; /* not a time: left as it is */
	time_t tt = (time_t)t;
	struct tm tm;
	char tmp[128 * 40];
	size_t n = 0;
	if (gmtime_r(&tt, &tm))
		n = strftime(tmp, sizeof tmp, f->arg[0].s, &tm);
	hb_buf *b = take(sc);
	hb_err rc = hb_buf_add(b, tmp, n);
	if (!rc)
		set_buf(v, b);
	return rc;
}

hb_err hb_tfilter_apply(const hb_tfilter *f, hb_tval *v, hb_tscratch *sc)
{
	const hb_targ *a0 = &f->arg[0];
	unsigned flags = 0;
	hb_err rc = HB_OK;
	size_t n;
	const char *s;
	hb_buf *b;

	if (v->v.type == HB_TYPE_NULL) {
		switch (f->id) {
		case F_DEFAULT:
		case F_APPEND:
		case F_PREPEND:
		case F_JSON:
		case F_SIZE:
			break;
		default:
			v->flags = 0;
			return HB_OK;
		}
	}
	switch (f->id) {
	case F_DEFAULT:
		if (v->v.type == HB_TYPE_NULL || (v->v.type == HB_TYPE_STRING && v->v.u.s.len == 0))
			v->v = a0->is_int ? hb_value_int(a0->i) : hb_value_strn(a0->s, a0->n);
		else
			flags = v->flags;
		break;
	case F_UPPER:
	case F_LOWER:
	case F_CAPITALIZE:
		s = text(v, sc, &n);
		b = take(sc);
		if ((rc = hb_buf_reserve(b, n)))
			break;
		map_case(s, n, b->data, f->id != F_LOWER, f->id == F_CAPITALIZE);
		b->len = n;
		b->data[n] = '\0';
		set_buf(v, b);
		break;
	case F_TRIM:
	case F_STRIP:
	case F_LSTRIP:
	case F_RSTRIP:
		s = text(v, sc, &n);
		if (f->id != F_RSTRIP)
			while (n && is_ws(*s))
				s++, n--;
		if (f->id != F_LSTRIP)
			while (n && is_ws(s[n - 1]))
				n--;
		v->v = hb_value_strn(s, n);
		break;
	case F_STRIP_NEWLINES:
		s = text(v, sc, &n);
		b = take(sc);
		for (size_t i = 0; i < n && !rc; i++)
			if (s[i] != '\r' && s[i] != '\n')
				rc = hb_buf_addc(b, s[i]);
		if (!rc)
			set_buf(v, b);
		break;
	case F_TRUNCATE: {
		const char *ell = f->nargs > 1 ? f->arg[1].s : "...";
		size_t elln = f->nargs > 1 ? f->arg[1].n : 3;
		s = text(v, sc, &n);
		size_t max = (size_t)a0->i;
		if (char_count(s, n) <= max) {
			v->v = hb_value_strn(s, n);
			break;
		}
		size_t ec = char_count(ell, elln);
		size_t keep = char_offset(s, n, max > ec ? max - ec : 0);
		b = take(sc);
		if (!(rc = hb_buf_add(b, s, keep)) && !(rc = hb_buf_add(b, ell, elln)))
			set_buf(v, b);
		break;
	}
	case F_DATE:
		rc = do_date(f, v, sc);
		break;
	case F_ADD_DAYS: {
		int64_t t;
		if (time_of(v, &t) && t < INT64_MAX / 2 && t > INT64_MIN / 2)
			v->v = hb_value_time(t + a0->i * 86400);
		break;
	}
	case F_URLENCODE:
	case F_BASE64:
	case F_ESCAPE:
		s = text(v, sc, &n);
		b = take(sc);
		rc = f->id == F_URLENCODE ? hb_escape_url(b, s, n)
		     : f->id == F_BASE64  ? hb_escape_base64(b, s, n)
					  : hb_escape_html(b, s, n);
		if (!rc)
			set_buf(v, b);
		flags = f->id == F_URLENCODE ? HB_TVAL_URLENCODED : 0;
		break;
	case F_JSON:
		b = take(sc);
		if (!(rc = hb_escape_json_value(b, &v->v)))
			set_buf(v, b);
		flags = HB_TVAL_JSON;
		break;
	case F_REPLACE:
	case F_REPLACE_FIRST:
		rc = replace(v, sc, a0, f->arg[1].s, f->arg[1].n, f->id == F_REPLACE);
		break;
	case F_REMOVE:
		rc = replace(v, sc, a0, "", 0, true);
		break;
	case F_APPEND:
	case F_PREPEND:
		s = text(v, sc, &n);
		b = take(sc);
		if (f->id == F_PREPEND)
			rc = hb_buf_add(b, a0->s, a0->n);
		if (!rc)
			rc = hb_buf_add(b, s, n);
		if (!rc && f->id == F_APPEND)
			rc = hb_buf_add(b, a0->s, a0->n);
		if (!rc)
			set_buf(v, b);
		break;
	case F_PLUS:
	case F_MINUS:
	case F_TIMES:
	case F_DIVIDED_BY:
	case F_MODULO:
		rc = arith(f, v);
		break;
	case F_SIZE:
		s = text(v, sc, &n);
		v->v = hb_value_int((int64_t)char_count(s, n));
		break;
	case F_SLICE:
	case F_LEFT:
	case F_RIGHT: {
		s = text(v, sc, &n);
		int64_t count = (int64_t)char_count(s, n);
		int64_t start = f->id == F_SLICE ? a0->i : f->id == F_LEFT ? 0 : count - a0->i;
		int64_t len = f->id == F_SLICE ? (f->nargs > 1 ? f->arg[1].i : 1) : a0->i;
		if (start < 0 && f->id == F_SLICE) {
			start += count;
			if (start < 0)
				len = 0;
		}
		if (start < 0) {
			len += f->id == F_SLICE ? 0 : start;
			start = 0;
		}
		if (start > count)
			start = count;
		if (len > count - start)
			len = count - start;
		if (len < 0)
			len = 0;
		size_t from = char_offset(s, n, (size_t)start);
		size_t to = from + char_offset(s + from, n - from, (size_t)len);
		v->v = hb_value_strn(s + from, to - from);
		break;
	}
	}
	v->flags = flags;
	return rc;
}
