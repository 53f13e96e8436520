/*
 * parse.c - the filter language's reader: text → typed tree (filter.h), checked against a
 * catalogue as it is read.
 *
 * DESIGN. A small hand-written lexer hands tokens (words, strings, numbers, dates, durations,
 * punctuation) to a recursive-descent parser with the usual precedence: `not` binds tighter
 * than `and`, which binds tighter than `or`. Each comparison knows its path's type when it
 * reads the literal, so a literal is converted (or refused) right there, with the literal's
 * own line and column in the message. Everything the tree holds lives in one arena freed
 * with it. A date alone ("2025-03-01") stands for that whole day: `= date` becomes a range.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "query/filter.h"

#define MAX_DEPTH 64
#define DAY 86400

typedef struct arena_block {
	struct arena_block *next;
	max_align_t data[];
} arena_block;

struct hb_fparse {
	arena_block *blocks;
	hb_fexpr *root;
};

static void *arena_alloc(hb_fparse *p, size_t n)
{
	arena_block *b = hb_calloc(1, sizeof *b + n + 1);
	b->next = p->blocks;
	p->blocks = b;
	return b->data;
}

void hb_fparse_free(hb_fparse **pp)
{
	if (!pp || !*pp)
		return;
	for (arena_block *b = (*pp)->blocks, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	free(*pp);
	*pp = NULL;
}

const hb_fexpr *hb_fparse_root(const hb_fparse *p)
{
	return p->root;
}

typedef enum tok_kind {
	T_EOF,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_CMP,      /* = != <> < <= > >= */
	T_PLUS,
	T_MINUS,
	T_WORD,     /* path or keyword */
	T_STRING,
	T_INT,
	T_TIME,     /* a date or date-time */
	T_DURATION, /* 7d */
} tok_kind;

typedef struct tok {
	tok_kind kind;
	const char *at; /* source text of the token */
	size_t len;
	int line, col;
	hb_qop cmp;     /* T_CMP */
	int64_t num;    /* T_INT value, T_TIME seconds, T_DURATION seconds */
	bool date_only; /* T_TIME without a time of day */
	char *str;      /* T_STRING decoded (arena) */
	size_t slen;
} tok;

typedef struct parser {
	hb_fparse *p;
	const hb_catalog *cat;
	const char *s;
	size_t n, pos;
	int line;
	size_t line_start;
	tok t; /* current token */
	int64_t now;
	int depth;
	size_t nodes;
	hb_error *e;
} parser;

static int column_of(const parser *ps, size_t at)
{
	int col = 1;
	for (size_t i = ps->line_start; i < at; i++)
		if (((unsigned char)ps->s[i] & 0xc0) != 0x80)
			col++;
	return col;
}

static hb_err fail_at(parser *ps, int line, int col, const char *fmt, ...) HB_PRINTF(4, 5);
static hb_err fail_at(parser *ps, int line, int col, const char *fmt, ...)
{
	char msg[HB_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return hb_fail(ps->e, HB_ERR_INVALID, "filter", "line %d, column %d: %s", line, col, msg);
}

static bool is_word_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_word_char(char c)
{
	return is_word_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static hb_err lex_string(parser *ps, tok *t)
{
	char q = ps->s[ps->pos++];
	hb_buf b;
	hb_buf_init(&b, HB_FILTER_MAX_TEXT);
	hb_err rc = HB_OK;
	for (;;) {
		if (ps->pos >= ps->n) {
			rc = fail_at(ps, t->line, t->col, "text starting here has no closing %c", q);
			goto out;
		}
		char c = ps->s[ps->pos++];
		if (c == q)
			break;
		if (c == '\n') {
			ps->line++;
			ps->line_start = ps->pos;
		}
		if (c == '\\') {
			if (ps->pos >= ps->n)
				continue; /* reported as unterminated above */
			c = ps->s[ps->pos++];
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
		}
		if ((rc = hb_buf_addc(&b, c)))
			goto out;
	}
	t->kind = T_STRING;
	t->slen = b.len;
	t->str = arena_alloc(ps->p, b.len);
	if (b.len)
		memcpy(t->str, b.data, b.len);
out:
	hb_buf_free(&b);
	return rc;
}

/* 2025-03-01, 2025-03-01T10:00:00Z, 2025-03-01T10:00:00+02:00 */
static hb_err lex_time(parser *ps, tok *t)
{
	size_t start = ps->pos;
	while (ps->pos < ps->n && ps->s[ps->pos] &&
	       (is_digit(ps->s[ps->pos]) || strchr("-:TtZz.+", ps->s[ps->pos])))
		ps->pos++;
	t->kind = T_TIME;
	t->date_only = ps->pos - start == 10;
	if (!hb_time_parse(ps->s + start, ps->pos - start, &t->num))
		return fail_at(ps, t->line, t->col, "'%.*s' is not a date (2025-03-01) or time "
			       "(2025-03-01T10:00:00Z)", (int)(ps->pos - start), ps->s + start);
	return HB_OK;
}

static hb_err lex_number(parser *ps, tok *t)
{
	size_t start = ps->pos;
	while (ps->pos < ps->n && is_digit(ps->s[ps->pos]))
		ps->pos++;
	size_t digits = ps->pos - start;
	if (digits == 4 && ps->pos + 1 < ps->n && ps->s[ps->pos] == '-' && is_digit(ps->s[ps->pos + 1])) {
		ps->pos = start;
		return lex_time(ps, t);
	}
	if (!hb_text_to_int64(ps->s + start, digits, &t->num))
		return fail_at(ps, t->line, t->col, "%.*s is too large a number", (int)digits, ps->s + start);
	if (ps->pos < ps->n && is_word_start(ps->s[ps->pos])) {
		size_t u = ps->pos;
		while (ps->pos < ps->n && is_word_char(ps->s[ps->pos]))
			ps->pos++;
		static const struct {
			const char *name;
			int64_t secs;
		} units[] = {{"s", 1}, {"m", 60}, {"h", 3600}, {"d", DAY}, {"w", 7 * DAY}};
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
			if (hb_text_ieq(ps->s + u, ps->pos - u, units[i].name)) {
				if (t->num > INT64_MAX / units[i].secs)
					return fail_at(ps, t->line, t->col, "that duration is too long");
				t->kind = T_DURATION;
				t->num *= units[i].secs;
				return HB_OK;
			}
		}
		return fail_at(ps, t->line, t->col, "'%.*s' is not a number or a duration (7d, 12h, "
			       "30m, 45s, 2w)", (int)(ps->pos - start), ps->s + start);
	}
	t->kind = T_INT;
	return HB_OK;
}

static hb_err next(parser *ps)
{
	tok *t = &ps->t;
	while (ps->pos < ps->n && ps->s[ps->pos] && strchr(" \t\r\n", ps->s[ps->pos])) {
		if (ps->s[ps->pos] == '\n') {
			ps->line++;
			ps->line_start = ps->pos + 1;
		}
		ps->pos++;
	}
	memset(t, 0, sizeof *t);
	t->at = ps->s + ps->pos;
	t->line = ps->line;
	t->col = column_of(ps, ps->pos);
	if (ps->pos >= ps->n) {
		t->kind = T_EOF;
		return HB_OK;
	}
	char c = ps->s[ps->pos];
	char d = ps->pos + 1 < ps->n ? ps->s[ps->pos + 1] : '\0';
	hb_err rc = HB_OK;
	switch (c) {
	case '(':
		t->kind = T_LPAREN, ps->pos++;
		break;
	case ')':
		t->kind = T_RPAREN, ps->pos++;
		break;
	case ',':
		t->kind = T_COMMA, ps->pos++;
		break;
	case '+':
		t->kind = T_PLUS, ps->pos++;
		break;
	case '-':
		t->kind = T_MINUS, ps->pos++;
		break;
	case '=':
		t->kind = T_CMP, t->cmp = HB_Q_EQ, ps->pos += d == '=' ? 2 : 1;
		break;
	case '!':
		if (d != '=')
			return fail_at(ps, t->line, t->col, "'!' must be followed by '=' (use not for negation)");
		t->kind = T_CMP, t->cmp = HB_Q_NE, ps->pos += 2;
		break;
	case '<':
		t->kind = T_CMP;
		t->cmp = d == '=' ? HB_Q_LE : d == '>' ? HB_Q_NE : HB_Q_LT;
		ps->pos += (d == '=' || d == '>') ? 2 : 1;
		break;
	case '>':
		t->kind = T_CMP, t->cmp = d == '=' ? HB_Q_GE : HB_Q_GT, ps->pos += d == '=' ? 2 : 1;
		break;
	case '"':
	case '\'':
		rc = lex_string(ps, t);
		break;
	default:
		if (is_digit(c)) {
			rc = lex_number(ps, t);
		} else if (is_word_start(c)) {
			bool dotted = false;
			while (ps->pos < ps->n) {
				char w = ps->s[ps->pos];
				char after = ps->pos + 1 < ps->n ? ps->s[ps->pos + 1] : '\0';
				if (is_word_char(w))
					ps->pos++;
				else if (w == '.' && is_word_char(after))
					ps->pos++, dotted = true;
				else if (w == '-' && dotted && is_word_char(after)) /* keys may hold '-' */
					ps->pos++;
				else
					break;
			}
			t->kind = T_WORD;
		} else if ((unsigned char)c < 0x20 || c == 0x7f) {
			return fail_at(ps, t->line, t->col, "control character 0x%02x is not allowed here",
				       (unsigned char)c);
		} else {
			size_t len = hb_text_utf8_seq(ps->s + ps->pos, ps->n - ps->pos, NULL);
			return fail_at(ps, t->line, t->col, "unexpected '%.*s'", (int)(len ? len : 1),
				       ps->s + ps->pos);
		}
	}
	t->len = (size_t)(ps->s + ps->pos - t->at);
	return rc;
}

static bool is_kw(const tok *t, const char *kw)
{
	return t->kind == T_WORD && hb_text_ieq(t->at, t->len, kw);
}

static const char *const keywords[] = {"and", "or", "not", "in", "contains", "starts", "with",
				       "is", "empty", "true", "false", "now", "today", NULL};

static bool is_keyword(const tok *t)
{
	for (int i = 0; keywords[i]; i++)
		if (is_kw(t, keywords[i]))
			return true;
	return false;
}

/* At most max bytes of s[0..len), cut before a UTF-8 sequence, never inside one. */
static int clip(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return (int)len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return (int)max;
}

static const char *tok_desc(const tok *t, char *buf, size_t n)
{
	if (t->kind == T_EOF)
		return "the end of the filter";
	snprintf(buf, n, "'%.*s'", clip(t->at, t->len, 40), t->at);
	return buf;
}

static hb_err expect_tok(parser *ps, tok_kind k, const char *what)
{
	char b[64];
	if (ps->t.kind != k)
		return fail_at(ps, ps->t.line, ps->t.col, "expected %s, found %s", what,
			       tok_desc(&ps->t, b, sizeof b));
	return next(ps);
}

static hb_fexpr *new_node(parser *ps, hb_qop op, int line, int col)
{
	ps->nodes++;
	hb_fexpr *x = arena_alloc(ps->p, sizeof *x);
	x->op = op;
	x->line = line;
	x->col = col;
	return x;
}

static const char *type_article(hb_type t)
{
	return t == HB_TYPE_INT ? "an" : "a";
}

static hb_err mismatch(parser *ps, const hb_path_info *path, const tok *lit)
{
	return fail_at(ps, lit->line, lit->col, "'%s' is %s %s; it cannot be compared with %.*s",
		       path->path, type_article(path->type), hb_type_name(path->type),
		       clip(lit->at, lit->len, 60), lit->at);
}

/* now, today, with optional + / - durations: "now - 7d", "today + 1d". */
static hb_err parse_relative(parser *ps, int64_t *out)
{
	int64_t t = ps->now;
	if (is_kw(&ps->t, "today"))
		t -= ((t % DAY) + DAY) % DAY;
	hb_err rc = next(ps);
	while (!rc && (ps->t.kind == T_PLUS || ps->t.kind == T_MINUS)) {
		bool minus = ps->t.kind == T_MINUS;
		if ((rc = next(ps)))
			return rc;
		if (ps->t.kind != T_DURATION) {
			char b[64];
			return fail_at(ps, ps->t.line, ps->t.col, "expected a duration such as 7d, 12h, "
				       "30m, 45s or 2w, found %s", tok_desc(&ps->t, b, sizeof b));
		}
		t += minus ? -ps->t.num : ps->t.num;
		rc = next(ps);
	}
	*out = t;
	return rc;
}

/* Read one literal for path; *date_only is set for a date alone on a datetime path. */
static hb_err parse_literal(parser *ps, const hb_path_info *path, hb_value *out, bool *date_only)
{
	tok lit = ps->t;
	hb_type want = path->type;
	*date_only = false;
	if (lit.kind == T_WORD && (is_kw(&lit, "now") || is_kw(&lit, "today"))) {
		if (want != HB_TYPE_TIME)
			return mismatch(ps, path, &lit);
		int64_t t = 0;
		hb_err rc = parse_relative(ps, &t);
		*out = hb_value_time(t);
		return rc;
	}
	if (lit.kind == T_MINUS) { /* a negative number */
		hb_err rc = next(ps);
		if (rc)
			return rc;
		if (ps->t.kind != T_INT)
			return fail_at(ps, lit.line, lit.col, "expected a number after '-'");
		lit.len = (size_t)(ps->t.at + ps->t.len - lit.at);
		lit.kind = T_INT;
		lit.num = -ps->t.num;
	}
	switch (lit.kind) {
	case T_STRING:
		if (want == HB_TYPE_STRING) {
			*out = hb_value_strn(lit.str, lit.slen);
		} else if (want == HB_TYPE_TIME) {
			int64_t t;
			if (!hb_time_parse(lit.str, lit.slen, &t))
				return mismatch(ps, path, &lit);
			*out = hb_value_time(t);
			*date_only = lit.slen == 10;
		} else {
			return mismatch(ps, path, &lit);
		}
		break;
	case T_INT:
		if (want != HB_TYPE_INT)
			return mismatch(ps, path, &lit);
		*out = hb_value_int(lit.num);
		break;
	case T_TIME:
		if (want != HB_TYPE_TIME)
			return mismatch(ps, path, &lit);
		*out = hb_value_time(lit.num);
		*date_only = lit.date_only;
		break;
	case T_WORD:
		if (is_kw(&lit, "true") || is_kw(&lit, "false")) {
			if (want != HB_TYPE_BOOL)
				return mismatch(ps, path, &lit);
			*out = hb_value_bool(is_kw(&lit, "true"));
			break;
		}
		return fail_at(ps, lit.line, lit.col, "expected a value (\"text\", a number, true, false, "
			       "a date or now), found '%.*s'; text must be quoted",
			       clip(lit.at, lit.len, 40), lit.at);
	default: {
		char b[64];
		return fail_at(ps, lit.line, lit.col, "expected a value after '%s', found %s", path->path,
			       tok_desc(&lit, b, sizeof b));
	}
	}
	return next(ps);
}

static hb_fexpr *cmp_node(parser *ps, hb_qop op, const hb_path_info *path, hb_value v, int line,
			  int col)
{
	hb_fexpr *x = new_node(ps, op, line, col);
	x->path = path;
	x->vals = arena_alloc(ps->p, sizeof *x->vals);
	x->vals[0] = v;
	x->nvals = 1;
	return x;
}

static hb_fexpr *pair_node(parser *ps, hb_qop op, hb_fexpr *a, hb_fexpr *b)
{
	hb_fexpr *x = new_node(ps, op, a->line, a->col);
	x->kids = arena_alloc(ps->p, 2 * sizeof *x->kids);
	x->kids[0] = *a;
	x->kids[1] = *b;
	x->nkids = 2;
	return x;
}

/* A comparison with a date alone covers the whole day. */
static hb_fexpr *compare(parser *ps, hb_qop op, const hb_path_info *path, hb_value v,
			 bool date_only, int line, int col)
{
	if (!date_only)
		return cmp_node(ps, op, path, v, line, col);
	hb_value end = hb_value_time(v.u.i + DAY);
	switch (op) {
	case HB_Q_EQ:
		return pair_node(ps, HB_Q_AND, cmp_node(ps, HB_Q_GE, path, v, line, col),
				 cmp_node(ps, HB_Q_LT, path, end, line, col));
	case HB_Q_NE:
		return pair_node(ps, HB_Q_OR, cmp_node(ps, HB_Q_LT, path, v, line, col),
				 cmp_node(ps, HB_Q_GE, path, end, line, col));
	case HB_Q_LE:
		return cmp_node(ps, HB_Q_LT, path, end, line, col);
	case HB_Q_GT:
		return cmp_node(ps, HB_Q_GE, path, end, line, col);
	default:
		return cmp_node(ps, op, path, v, line, col);
	}
}

static hb_fexpr *negate(parser *ps, hb_fexpr *x)
{
	hb_fexpr *n = new_node(ps, HB_Q_NOT, x->line, x->col);
	n->kids = x;
	n->nkids = 1;
	return n;
}

static hb_err parse_in(parser *ps, const hb_path_info *path, int line, int col, hb_fexpr **out)
{
	hb_err rc = expect_tok(ps, T_LPAREN, "'(' and a list of values after in");
	if (rc)
		return rc;
	size_t cap = 8, n = 0;
	hb_value *vals = hb_calloc(cap, sizeof *vals);
	hb_fexpr *days = NULL; /* dates alone: an or of day ranges */
	for (;;) {
		if (ps->nodes + n > HB_FILTER_MAX_NODES) {
			rc = fail_at(ps, ps->t.line, ps->t.col, "the list is too long (at most %d values)",
				     HB_FILTER_MAX_NODES);
			break;
		}
		hb_value v;
		bool date_only;
		if ((rc = parse_literal(ps, path, &v, &date_only)))
			break;
		if (date_only) {
			hb_fexpr *d = compare(ps, HB_Q_EQ, path, v, true, line, col);
			days = days ? pair_node(ps, HB_Q_OR, days, d) : d;
		} else {
			if (n == cap)
				vals = hb_realloc(vals, (cap *= 2) * sizeof *vals);
			vals[n++] = v;
		}
		if (ps->t.kind == T_COMMA) {
			if ((rc = next(ps)))
				break;
			continue;
		}
		rc = expect_tok(ps, T_RPAREN, "',' or ')' in the list of values");
		break;
	}
	if (!rc) {
		hb_fexpr *x = NULL;
		if (n) {
			x = new_node(ps, HB_Q_IN, line, col);
			x->path = path;
			x->vals = arena_alloc(ps->p, n * sizeof *vals);
			memcpy(x->vals, vals, n * sizeof *vals);
			x->nvals = n;
		}
		*out = x && days ? pair_node(ps, HB_Q_OR, x, days) : x ? x : days;
	}
	free(vals);
	return rc;
}

static hb_err parse_comparison(parser *ps, hb_fexpr **out)
{
	char b[64];
	tok pt = ps->t;
	if (is_kw(&pt, "now") || is_kw(&pt, "today"))
		return fail_at(ps, pt.line, pt.col, "%.*s is not a field of the record; compare a "
			       "datetime field with it, e.g. user.created_at > now - 7d", (int)pt.len, pt.at);
	if (pt.kind != T_WORD || is_keyword(&pt))
		return fail_at(ps, pt.line, pt.col, "expected a path such as user.country or "
			       "external.group.field, found %s", tok_desc(&pt, b, sizeof b));
	const hb_path_info *path = hb_catalog_find(ps->cat, pt.at, pt.len);
	if (!path) {
		char hint[200];
		hb_catalog_suggest(ps->cat, pt.at, pt.len, hint, sizeof hint);
		if (hint[0])
			return fail_at(ps, pt.line, pt.col, "unknown path '%.*s' (did you mean '%s'?)",
				       (int)pt.len, pt.at, hint);
		return fail_at(ps, pt.line, pt.col, "unknown path '%.*s' (see: hookbridge tags)",
			       (int)pt.len, pt.at);
	}
	hb_err rc = next(ps);
	if (rc)
		return rc;
	tok op = ps->t;
	bool negated = false;
	if (op.kind == T_CMP) {
		if (path->type == HB_TYPE_BOOL && op.cmp != HB_Q_EQ && op.cmp != HB_Q_NE)
			return fail_at(ps, op.line, op.col, "'%s' is a boolean; compare it with = or !=",
				       path->path);
		if ((rc = next(ps)))
			return rc;
		hb_value v;
		bool date_only;
		if ((rc = parse_literal(ps, path, &v, &date_only)))
			return rc;
		*out = compare(ps, op.cmp, path, v, date_only, pt.line, pt.col);
		return HB_OK;
	}
	if (is_kw(&op, "is")) {
		if ((rc = next(ps)))
			return rc;
		if (is_kw(&ps->t, "not")) {
			negated = true;
			if ((rc = next(ps)))
				return rc;
		}
		if (!is_kw(&ps->t, "empty"))
			return fail_at(ps, ps->t.line, ps->t.col, "expected 'empty' after 'is%s', found %s",
				       negated ? " not" : "", tok_desc(&ps->t, b, sizeof b));
		*out = new_node(ps, negated ? HB_Q_NOT_EMPTY : HB_Q_EMPTY, pt.line, pt.col);
		(*out)->path = path;
		return next(ps);
	}
	if (is_kw(&op, "not")) { /* not in, not contains, not starts with */
		negated = true;
		if ((rc = next(ps)))
			return rc;
		op = ps->t;
	}
	hb_fexpr *x = NULL;
	if (is_kw(&op, "in")) {
		if ((rc = next(ps)) || (rc = parse_in(ps, path, pt.line, pt.col, &x)))
			return rc;
	} else if (is_kw(&op, "contains") || is_kw(&op, "starts")) {
		bool starts = is_kw(&op, "starts");
		if (path->type != HB_TYPE_STRING)
			return fail_at(ps, op.line, op.col, "'%s' is %s %s; %s applies to text only",
				       path->path, type_article(path->type), hb_type_name(path->type),
				       starts ? "starts with" : "contains");
		if ((rc = next(ps)))
			return rc;
		if (starts) {
			if (!is_kw(&ps->t, "with"))
				return fail_at(ps, ps->t.line, ps->t.col, "expected 'with' after 'starts', "
					       "found %s", tok_desc(&ps->t, b, sizeof b));
			if ((rc = next(ps)))
				return rc;
		}
		hb_value v;
		bool date_only;
		if ((rc = parse_literal(ps, path, &v, &date_only)))
			return rc;
		x = cmp_node(ps, starts ? HB_Q_STARTS : HB_Q_CONTAINS, path, v, pt.line, pt.col);
	} else {
		return fail_at(ps, op.line, op.col, "expected an operator after '%s' (=, !=, <, <=, >, "
			       ">=, in, contains, starts with, is empty, is not empty), found %s",
			       path->path, tok_desc(&op, b, sizeof b));
	}
	*out = negated ? negate(ps, x) : x;
	return HB_OK;
}

static hb_err parse_or(parser *ps, hb_fexpr **out);

static hb_err parse_unary(parser *ps, hb_fexpr **out)
{
	if (ps->nodes > HB_FILTER_MAX_NODES)
		return fail_at(ps, ps->t.line, ps->t.col, "the filter is too long (at most %d "
			       "comparisons and operators)", HB_FILTER_MAX_NODES);
	if (++ps->depth > MAX_DEPTH)
		return fail_at(ps, ps->t.line, ps->t.col, "the filter nests too deeply (at most %d levels)",
			       MAX_DEPTH);
	hb_err rc;
	tok t = ps->t;
	if (is_kw(&t, "not")) {
		hb_fexpr *x;
		if (!(rc = next(ps)) && !(rc = parse_unary(ps, &x))) {
			*out = negate(ps, x);
			(*out)->line = t.line, (*out)->col = t.col;
		}
	} else if (t.kind == T_LPAREN) {
		if (!(rc = next(ps)) && !(rc = parse_or(ps, out)))
			rc = expect_tok(ps, T_RPAREN, "')'");
	} else {
		rc = parse_comparison(ps, out);
	}
	ps->depth--;
	return rc;
}

/* and / or chains become one n-ary node. */
static hb_err parse_chain(parser *ps, hb_qop op, const char *kw, hb_err (*sub)(parser *, hb_fexpr **),
			  hb_fexpr **out)
{
	hb_fexpr *first;
	hb_err rc = sub(ps, &first);
	if (rc || !is_kw(&ps->t, kw)) {
		*out = rc ? NULL : first;
		return rc;
	}
	size_t cap = 4, n = 0;
	hb_fexpr **items = hb_calloc(cap, sizeof *items);
	items[n++] = first;
	while (!rc && is_kw(&ps->t, kw)) {
		hb_fexpr *x;
		if ((rc = next(ps)) || (rc = sub(ps, &x)))
			break;
		if (n == cap)
			items = hb_realloc(items, (cap *= 2) * sizeof *items);
		items[n++] = x;
	}
	if (!rc) {
		hb_fexpr *x = new_node(ps, op, first->line, first->col);
		x->kids = arena_alloc(ps->p, n * sizeof *x->kids);
		for (size_t i = 0; i < n; i++)
			x->kids[i] = *items[i];
		x->nkids = n;
		*out = x;
	}
	free(items);
	return rc;
}

static hb_err parse_and(parser *ps, hb_fexpr **out)
{
	return parse_chain(ps, HB_Q_AND, "and", parse_unary, out);
}

static hb_err parse_or(parser *ps, hb_fexpr **out)
{
	return parse_chain(ps, HB_Q_OR, "or", parse_and, out);
}

hb_err hb_filter_parse(const hb_catalog *cat, const char *text, size_t len, int64_t now_s,
		       hb_fparse **out, hb_error *e)
{
	*out = NULL;
	if (len > HB_FILTER_MAX_TEXT)
		return hb_fail(e, HB_ERR_TOO_LARGE, "filter", "the filter is longer than %d bytes",
			       HB_FILTER_MAX_TEXT);
	parser ps = {.cat = cat, .s = text, .n = len, .line = 1, .now = now_s, .e = e};
	size_t bad;
	if (!hb_text_is_utf8(text, len, &bad)) {
		for (size_t i = 0; i < bad; i++)
			if (text[i] == '\n')
				ps.line++, ps.line_start = i + 1;
		return fail_at(&ps, ps.line, column_of(&ps, bad), "the filter is not valid UTF-8 text");
	}
	ps.p = hb_calloc(1, sizeof *ps.p);
	hb_err rc = next(&ps);
	if (!rc && ps.t.kind == T_EOF) {
		ps.p->root = new_node(&ps, HB_Q_ALL, 1, 1);
	} else if (!rc && !(rc = parse_or(&ps, &ps.p->root)) && ps.t.kind != T_EOF) {
		char b[64];
		rc = fail_at(&ps, ps.t.line, ps.t.col, "expected and, or or the end of the filter, found %s",
			     tok_desc(&ps.t, b, sizeof b));
	}
	if (rc)
		hb_fparse_free(&ps.p);
	*out = ps.p;
	return rc;
}

static const char *const op_names[] = {
	[HB_Q_ALL] = "all", [HB_Q_NONE] = "none", [HB_Q_AND] = "and", [HB_Q_OR] = "or",
	[HB_Q_NOT] = "not", [HB_Q_EQ] = "=", [HB_Q_NE] = "!=", [HB_Q_LT] = "<",
	[HB_Q_LE] = "<=", [HB_Q_GT] = ">", [HB_Q_GE] = ">=", [HB_Q_IN] = "in",
	[HB_Q_CONTAINS] = "contains", [HB_Q_STARTS] = "starts", [HB_Q_EMPTY] = "empty",
	[HB_Q_NOT_EMPTY] = "not-empty",
};

static hb_err describe(hb_buf *b, const hb_fexpr *x)
{
	hb_err rc = hb_buf_printf(b, "(%s", op_names[x->op]);
	if (!rc && x->path)
		rc = hb_buf_printf(b, " %s", x->path->path);
	for (size_t i = 0; !rc && i < x->nvals; i++) {
		const hb_value *v = &x->vals[i];
		char t[HB_TIME_STR_MAX];
		switch (v->type) {
		case HB_TYPE_BOOL:
			rc = hb_buf_adds(b, v->u.b ? " true" : " false");
			break;
		case HB_TYPE_INT:
			rc = hb_buf_printf(b, " %lld", (long long)v->u.i);
			break;
		case HB_TYPE_TIME:
			rc = hb_buf_printf(b, " %s", hb_time_format(v->u.i, t));
			break;
		case HB_TYPE_STRING:
			rc = hb_buf_adds(b, " \"");
			for (size_t k = 0; !rc && k < v->u.s.len; k++) {
				char c = v->u.s.ptr[k];
				if (c == '"' || c == '\\')
					rc = hb_buf_addc(b, '\\');
				if (!rc)
					rc = c ? hb_buf_addc(b, c) : hb_buf_adds(b, "\\0");
			}
			if (!rc)
				rc = hb_buf_addc(b, '"');
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; !rc && i < x->nkids; i++) {
		rc = hb_buf_addc(b, ' ');
		if (!rc)
			rc = describe(b, &x->kids[i]);
	}
	return rc ? rc : hb_buf_addc(b, ')');
}

char *hb_fexpr_describe(const hb_fexpr *x)
{
	hb_buf b;
	hb_buf_init(&b, HB_BUF_UNLIMITED);
	if (describe(&b, x) != HB_OK)
		hb_buf_reset(&b);
	return hb_buf_steal(&b);
}
