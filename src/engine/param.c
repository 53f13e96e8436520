/*
 * param.c - compiling and looking up External Data parameters (see param.h).
 *
 * DESIGN. A parameter compiles to a kind and, for body paths, a list of steps. Dotted paths
 * and JSON Pointers share the step list: a dotted key only matches an object member, a bracket
 * index only an array element, and a JSON Pointer token matches either (a member of that name
 * in an object, or the element at that canonical decimal index in an array). Lookup is then a
 * plain walk; any mismatch means "missing", never an error, because answers vary.
 */
#include "engine/param.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/text.h"

/* Bracket indexes and pointer tokens longer than this many digits cannot address anything. */
#define INDEX_MAX_DIGITS 9
/* How much of the parameter an error message repeats. */
#define ECHO_MAX_CHARS 60

typedef enum { KIND_PATH, KIND_STATUS, KIND_HEADER, KIND_BODY } param_kind;
typedef enum { STEP_KEY, STEP_INDEX, STEP_TOKEN } step_kind;

typedef struct step {
	step_kind kind;
	char *key; /* STEP_KEY and STEP_TOKEN: decoded name, owned */
	size_t keylen;
	size_t index;	/* STEP_INDEX, and STEP_TOKEN when has_index */
	bool has_index; /* STEP_TOKEN: the token is a canonical array index */
} step;

struct hb_param {
	char *text; /* as typed, owned */
	param_kind kind;
	step *steps; /* KIND_PATH */
	size_t nsteps;
	char *header; /* KIND_HEADER: the header name, owned */
};

typedef struct parser {
	const char *text;
	size_t len;
	hb_param *p;
	hb_error *e;
} parser;

/* 1-based column of byte pos, counted in characters (the text is valid UTF-8 by then). */
static size_t column_of(const char *s, size_t pos)
{
	size_t col = 1;
	for (size_t i = 0; i < pos; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			col++;
	return col;
}

/* The parameter as shown in messages: at most ECHO_MAX_CHARS characters, controls as '?'. */
static void echo_text(const char *s, size_t n, char *out, size_t outn)
{
	size_t o = 0, chars = 0, i = 0;
	while (i < n && o + 8 < outn) {
		unsigned char c = (unsigned char)s[i];
		if ((c & 0xc0) != 0x80 && chars++ == ECHO_MAX_CHARS) {
			memcpy(out + o, "\xe2\x80\xa6", 3); /* … */
			o += 3;
			break;
		}
		out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		i++;
	}
	out[o] = '\0';
}

/* Fail at byte pos of the text with a reason; always returns HB_ERR_INVALID. */
static hb_err HB_PRINTF(3, 4) fail_at(parser *ps, size_t pos, const char *fmt, ...)
{
	char why[256], shown[ECHO_MAX_CHARS * 4 + 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	echo_text(ps->text, ps->len, shown, sizeof shown);
	return hb_fail(ps->e, HB_ERR_INVALID, "parameter", "parameter '%s', column %zu: %s", shown,
		       column_of(ps->text, pos), why);
}

/* Describe the byte at pos for "… is not allowed" messages. */
static void describe_char(const char *s, size_t pos, char *out, size_t n)
{
	unsigned char c = (unsigned char)s[pos];
	if (c == ' ')
		snprintf(out, n, "a space");
	else if (c > 0x20 && c < 0x7f)
		snprintf(out, n, "'%c'", c);
	else
		snprintf(out, n, "byte 0x%02x", c);
}

static step *add_step(parser *ps)
{
	hb_param *p = ps->p;
	/* Each step consumes at least one byte of text, so len + 1 slots always suffice. */
	if (!p->steps)
		p->steps = hb_calloc(ps->len + 1, sizeof(step));
	return &p->steps[p->nsteps++];
}

static bool is_key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '$' || c >= 0x80;
}

/* A bare key at *i (after '.' or at the start). */
static hb_err parse_key(parser *ps, size_t *i)
{
	size_t start = *i, j = start;
	while (j < ps->len && is_key_char((unsigned char)ps->text[j]))
		j++;
	if (j == start) {
		char what[32];
		if (j == ps->len)
			return fail_at(ps, j, "expected a key after '.'");
		if (ps->text[j] == '.')
			return fail_at(ps, j, "expected a key, found '.'");
		if (ps->text[j] == ']')
			return fail_at(ps, j, "']' has no matching '['");
		describe_char(ps->text, j, what, sizeof what);
		return fail_at(ps, j, "%s is not allowed in a key (quote odd keys: a[\"x y\"])",
			       what);
	}
	step *st = add_step(ps);
	st->kind = STEP_KEY;
	st->key = hb_strndup(ps->text + start, j - start);
	st->keylen = j - start;
	*i = j;
	return HB_OK;
}

/* A quoted key ["…"] whose opening quote is at q; '[' was at open. */
static hb_err parse_quoted(parser *ps, size_t open, size_t q, size_t *i)
{
	char *key = hb_malloc(ps->len + 1);
	size_t n = 0, j = q + 1;
	for (;;) {
		if (j >= ps->len) {
			free(key);
			return fail_at(ps, q, "quoted key is not closed");
		}
		char c = ps->text[j];
		if (c == '"')
			break;
		if (c == '\\') {
			if (j + 1 < ps->len &&
			    (ps->text[j + 1] == '"' || ps->text[j + 1] == '\\')) {
				key[n++] = ps->text[j + 1];
				j += 2;
				continue;
			}
			free(key);
			return fail_at(ps, j,
				       "in a quoted key a backslash may only escape '\"' or '\\'");
		}
		key[n++] = c;
		j++;
	}
	j++; /* the closing quote */
	if (j >= ps->len) {
		free(key);
		return fail_at(ps, open, "'[' is not closed");
	}
	if (ps->text[j] != ']') {
		free(key);
		return fail_at(ps, j, "expected ']' after the quoted key");
	}
	key[n] = '\0';
	step *st = add_step(ps);
	st->kind = STEP_KEY;
	st->key = key;
	st->keylen = n;
	*i = j + 1;
	return HB_OK;
}

/* A bracket at *i: an array index [12] or a quoted key ["name"]. */
static hb_err parse_bracket(parser *ps, size_t *i)
{
	size_t open = *i, j = open + 1;
	if (j < ps->len && ps->text[j] == '"')
		return parse_quoted(ps, open, j, i);
	if (j < ps->len && ps->text[j] == '\'')
		return fail_at(ps, j, "quote keys with double quotes: [\"key\"]");
	const char *close = memchr(ps->text + j, ']', ps->len - j);
	if (!close)
		return fail_at(ps, open, "'[' is not closed");
	size_t end = (size_t)(close - ps->text);
	if (end == j)
		return fail_at(ps, j, "array index must be a number");
	size_t index = 0;
	for (size_t k = j; k < end; k++) {
		char c = ps->text[k];
		if (c < '0' || c > '9')
			return fail_at(ps, k, "array index must be a number");
		if (k - j == INDEX_MAX_DIGITS)
			return fail_at(ps, j, "array index is too large (at most %d digits)",
				       INDEX_MAX_DIGITS);
		index = index * 10 + (size_t)(c - '0');
	}
	step *st = add_step(ps);
	st->kind = STEP_INDEX;
	st->index = index;
	*i = end + 1;
	return HB_OK;
}

static hb_err parse_dotted(parser *ps)
{
	size_t i = 0;
	hb_err rc = ps->text[0] == '[' ? parse_bracket(ps, &i) : parse_key(ps, &i);
	while (rc == HB_OK && i < ps->len) {
		char c = ps->text[i];
		if (c == '.') {
			i++;
			rc = parse_key(ps, &i);
		} else if (c == '[') {
			rc = parse_bracket(ps, &i);
		} else if (ps->text[i - 1] == ']') {
			return fail_at(ps, i, "expected '.' or '[' after ']'");
		} else if (c == ']') {
			return fail_at(ps, i, "']' has no matching '['");
		} else {
			char what[32];
			describe_char(ps->text, i, what, sizeof what);
			return fail_at(
			    ps, i, "%s is not allowed in a key (quote odd keys: a[\"x y\"])", what);
		}
	}
	return rc;
}

/* A token is an array index when it is canonical decimal ("0", or no leading zero). */
static bool token_index(const char *s, size_t n, size_t *out)
{
	if (n == 0 || n > INDEX_MAX_DIGITS || (n > 1 && s[0] == '0'))
		return false;
	size_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static hb_err parse_pointer(parser *ps)
{
	size_t i = 0; /* at a '/' */
	while (i < ps->len) {
		char *key = hb_malloc(ps->len + 1);
		size_t n = 0, j = i + 1;
		for (; j < ps->len && ps->text[j] != '/'; j++) {
			char c = ps->text[j];
			if (c == '~') {
				char d = j + 1 < ps->len ? ps->text[j + 1] : '\0';
				if (d != '0' && d != '1') {
					free(key);
					return fail_at(
					    ps, j,
					    "'~' must be followed by 0 or 1 in a JSON Pointer "
					    "(~0 is '~', ~1 is '/')");
				}
				c = d == '0' ? '~' : '/';
				j++;
			}
			key[n++] = c;
		}
		key[n] = '\0';
		step *st = add_step(ps);
		st->kind = STEP_TOKEN;
		st->key = key;
		st->keylen = n;
		st->has_index = token_index(key, n, &st->index);
		i = j;
	}
	return HB_OK;
}

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static hb_err parse_special(parser *ps)
{
	static const char expected[] = "expected @status, @header.NAME or @body";
	const char *s = ps->text + 1;
	size_t n = strcspn(s, ".");
	if (hb_text_ieq(s, n, "status") || hb_text_ieq(s, n, "body")) {
		if (1 + n != ps->len)
			return fail_at(ps, 1 + n, "nothing may follow @%.*s", (int)n, s);
		ps->p->kind = hb_text_ieq(s, n, "status") ? KIND_STATUS : KIND_BODY;
		return HB_OK;
	}
	if (!hb_text_ieq(s, n, "header"))
		return fail_at(ps, 1, "unknown name after '@' (%s)", expected);
	size_t start = 1 + n + 1; /* after "@header." */
	if (start > ps->len || start == ps->len)
		return fail_at(ps, ps->len, "expected a header name after '@header.'");
	for (size_t k = start; k < ps->len; k++) {
		if (!is_tchar((unsigned char)ps->text[k])) {
			char what[32];
			describe_char(ps->text, k, what, sizeof what);
			return fail_at(ps, k, "%s is not allowed in a header name", what);
		}
	}
	ps->p->kind = KIND_HEADER;
	ps->p->header = hb_strndup(ps->text + start, ps->len - start);
	return HB_OK;
}

hb_err hb_param_compile(const char *text, hb_param **out, hb_error *e)
{
	*out = NULL;
	size_t len = text ? strlen(text) : 0, bad;
	if (len == 0)
		return hb_fail(
		    e, HB_ERR_INVALID, "parameter",
		    "parameter is empty (expected a path such as results[0].name, a JSON "
		    "Pointer such as /results/0/name, @status or @header.NAME)");
	if (len > HB_PARAM_MAX_LEN)
		return hb_fail(e, HB_ERR_INVALID, "parameter", "parameter is longer than %d bytes",
			       HB_PARAM_MAX_LEN);
	if (!hb_text_is_utf8(text, len, &bad))
		return hb_fail(e, HB_ERR_INVALID, "parameter",
			       "parameter is not valid UTF-8 (byte %zu)", bad + 1);
	hb_param *p = hb_calloc(1, sizeof *p);
	p->text = hb_strndup(text, len);
	parser ps = {.text = p->text, .len = len, .p = p, .e = e};
	hb_err rc = HB_OK;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c == 0x7f) {
			rc = fail_at(&ps, i, "control character (byte 0x%02x) is not allowed", c);
			goto out;
		}
	}
	if (text[0] == '@')
		rc = parse_special(&ps);
	else if (text[0] == '/')
		rc = parse_pointer(&ps);
	else
		rc = parse_dotted(&ps);
out:
	if (rc != HB_OK)
		hb_param_free(&p);
	*out = p;
	return rc;
}

void hb_param_free(hb_param **pp)
{
	if (!pp || !*pp)
		return;
	hb_param *p = *pp;
	for (size_t i = 0; i < p->nsteps; i++)
		free(p->steps[i].key);
	free(p->steps);
	free(p->header);
	free(p->text);
	free(p);
	*pp = NULL;
}

const char *hb_param_text(const hb_param *p)
{
	return p->text;
}

static bool ascii_ieq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
		if (!x)
			return true;
	}
}

static json_t *walk(const hb_param *p, json_t *node)
{
	for (size_t i = 0; node && i < p->nsteps; i++) {
		const step *st = &p->steps[i];
		if (json_is_object(node) && st->kind != STEP_INDEX)
			node = json_object_getn(node, st->key, st->keylen);
		else if (json_is_array(node) && st->kind == STEP_INDEX)
			node = json_array_get(node, st->index);
		else if (json_is_array(node) && st->kind == STEP_TOKEN && st->has_index)
			node = json_array_get(node, st->index);
		else
			node = NULL;
	}
	return node;
}

json_t *hb_param_find(const hb_param *p, const hb_answer *a)
{
	if (!p || !a)
		return NULL;
	switch (p->kind) {
	case KIND_STATUS:
		return json_integer(a->status);
	case KIND_HEADER:
		for (size_t i = 0; i < a->nheaders; i++) {
			const hb_header *h = &a->headers[i];
			if (h->name && h->value && ascii_ieq(h->name, p->header))
				return json_stringn_nocheck(h->value, strlen(h->value));
		}
		return NULL;
	case KIND_BODY:
		return a->body ? json_incref(a->body) : NULL;
	case KIND_PATH: {
		json_t *v = walk(p, a->body);
		return v ? json_incref(v) : NULL;
	}
	}
	return NULL;
}
