/*
 * template.c - compiling and rendering dynamic-tag templates (template.h).
 *
 * DESIGN. Compiling walks the source once. Text between tags goes to a context scanner that
 * checks it and keeps it (URL and form scanners encode stray bytes, the header scanner turns
 * CRLF into LF); each tag is parsed (head, filters, arguments), its path resolved to a slot,
 * and the scanner says how the context escapes it, or refuses it. The JSON scanner (tjson.c) is
 * a small JSON lexer over the literal text in which a tag is either a run of characters inside a
 * string literal or a whole value; whatever the values, the render is then valid JSON. The
 * result is a flat list of ops (literal text, or a tag with its slot, filters and escape mode)
 * over one string pool, so rendering a record is a loop of copies and escapes into the output
 * buffer.
 * Filters write into scratch buffers kept with the template and reused for every record; a
 * render that finds them in use by another thread uses its own for that call.
 */
#include "engine/template.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/text.h"
#include "engine/escape.h"
#include "engine/tjson.h"

enum { OP_LIT, OP_TAG };
enum { EM_RAW, EM_PCT, EM_FORM, EM_HEADER, EM_JSON_STR, EM_JSON_VAL };

struct op {
	unsigned char kind, mode, secret, has_const;
	int slot;		   /* catalogue slot, -1 for a literal head */
	uint32_t off, len;	   /* literal text; for a tag, its head as written (for messages) */
	uint32_t hdr_off, hdr_len; /* header name (EM_HEADER) */
	uint32_t filt, nfilt;	   /* filters[filt .. filt+nfilt) */
	uint32_t const_off;	   /* literal head string in the pool */
	hb_value konst;		   /* literal head */
};

struct scratch_box {
	atomic_flag busy;
	hb_tscratch sc;
};

struct hb_template {
	hb_context ctx;
	struct op *ops;
	size_t nops;
	hb_tfilter *filters;
	size_t nfilters;
	char *pool;
	int *slots;
	size_t nslots;
	bool secrets;
	struct scratch_box *box;
};

static const char *const ctx_names[] = {
    [HB_CTX_TEXT] = "text", [HB_CTX_URL] = "url",   [HB_CTX_HEADER] = "header",
    [HB_CTX_FORM] = "form", [HB_CTX_JSON] = "json",
};

bool hb_context_parse(const char *name, hb_context *out)
{
	for (size_t i = 0; i < sizeof ctx_names / sizeof ctx_names[0]; i++) {
		if (strcmp(name, ctx_names[i]) == 0) {
			*out = (hb_context)i;
			return true;
		}
	}
	return false;
}

const char *hb_context_name(hb_context ctx)
{
	return (unsigned)ctx < sizeof ctx_names / sizeof ctx_names[0] ? ctx_names[ctx] : "?";
}

/* ---------------------------------------------------------------- compiling */

enum ustate { U_SCHEME, U_SLASH1, U_SLASH2, U_AUTH, U_PATH, U_QUERY, U_FRAG, U_OPAQUE };
enum hstate { H_LINE, H_NAME, H_VALUE };

struct comp {
	const hb_catalog *cat;
	const char *src;
	size_t end; /* scanning stops here (trailing text trimmed by some contexts) */
	hb_context ctx;
	hb_error *e;
	hb_buf pool;
	hb_tsrc ts; /* what tfilter.c's parsers see of the above */
	struct op *ops;
	size_t nops, capops;
	hb_tfilter *filts;
	size_t nfilts, capfilts;
	hb_tjson json; /* the JSON skeleton scanner (tjson.c) */
	/* URL */
	enum ustate us;
	size_t scheme_len, auth_len;
	/* header */
	enum hstate hs;
	size_t name_at;
	uint32_t hdr_off, hdr_len;
};

hb_err hb_template_fail(const hb_tsrc *ts, size_t off, const char *fmt, ...)
{
	size_t line = 1, col = 1;
	for (size_t i = 0; i < off; i++) {
		unsigned char ch = (unsigned char)ts->src[i];
		if (ch == '\n') {
			line++;
			col = 1;
		} else if ((ch & 0xc0) != 0x80) {
			col++;
		}
	}
	char msg[HB_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return hb_fail(ts->e, HB_ERR_PARSE, NULL, "line %zu, column %zu: %s", line, col, msg);
}

#define fail_at(c, ...) hb_template_fail(&(c)->ts, __VA_ARGS__)
#define show hb_template_show

static hb_err pool_add(struct comp *c, const void *p, size_t n, uint32_t *off)
{
	*off = (uint32_t)c->pool.len;
	hb_err rc = hb_buf_add(&c->pool, p, n);
	if (!rc)
		rc = hb_buf_addc(&c->pool, '\0');
	if (rc)
		return hb_fail(c->e, rc, NULL, "the template is too large to compile");
	return HB_OK;
}

static struct op *op_push(struct comp *c)
{
	if (c->nops == c->capops) {
		c->capops = c->capops ? c->capops * 2 : 16;
		c->ops = hb_realloc(c->ops, c->capops * sizeof *c->ops);
	}
	struct op *op = &c->ops[c->nops++];
	memset(op, 0, sizeof *op);
	return op;
}

/* Append literal output text, extending the previous literal op when it ends the pool. */
static hb_err lit_add(struct comp *c, const char *p, size_t n)
{
	if (n == 0)
		return HB_OK;
	struct op *last = c->nops ? &c->ops[c->nops - 1] : NULL;
	if (!last || last->kind != OP_LIT || last->off + last->len != c->pool.len) {
		last = op_push(c);
		last->kind = OP_LIT;
		last->off = (uint32_t)c->pool.len;
	}
	hb_err rc = hb_buf_add(&c->pool, p, n);
	if (rc)
		return hb_fail(c->e, rc, NULL, "the template is too large to compile");
	last->len += (uint32_t)n;
	return HB_OK;
}

static hb_err lit_pct(struct comp *c, unsigned char ch)
{
	static const char hexd[] = "0123456789ABCDEF";
	char esc[3] = {'%', hexd[ch >> 4], hexd[ch & 15]};
	return lit_add(c, esc, 3);
}

/* ---- URL, header and form scanners */

static hb_err url_byte(struct comp *c, size_t off)
{
	unsigned char ch = (unsigned char)c->src[off];
	char sb[40];
	if (ch == ' ' && (c->us == U_PATH || c->us == U_QUERY || c->us == U_FRAG))
		return lit_add(c, "%20", 3);
	if (ch <= 0x20 || ch == 0x7f)
		return fail_at(c, off, "a URL cannot contain %s here", show(ch, sb, sizeof sb));
	bool alnum =
	    (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
	switch (c->us) {
	case U_SCHEME:
		if (ch == ':')
			c->us = c->scheme_len ? U_SLASH1 : U_OPAQUE;
		else if (!alnum && ch != '+' && ch != '-' && ch != '.')
			c->us = U_OPAQUE;
		else
			c->scheme_len++;
		break;
	case U_SLASH1:
	case U_SLASH2:
		c->us = ch != '/' ? U_OPAQUE : c->us == U_SLASH1 ? U_SLASH2 : U_AUTH;
		break;
	case U_AUTH:
		if (ch >= 0x80)
			return fail_at(c, off, "write the host of a URL in ASCII (punycode)");
		if (ch == '/' || ch == '?' || ch == '#')
			c->us = ch == '/' ? U_PATH : ch == '?' ? U_QUERY : U_FRAG;
		else
			c->auth_len++;
		break;
	case U_PATH:
		if (ch == '?' || ch == '#')
			c->us = ch == '?' ? U_QUERY : U_FRAG;
		break;
	case U_QUERY:
		if (ch == '#')
			c->us = U_FRAG;
		break;
	default:
		break;
	}
	if (ch >= 0x80)
		return lit_pct(c, ch);
	return lit_add(c, (const char *)&ch, 1);
}

static hb_err url_tag(struct comp *c, size_t off, unsigned char *mode)
{
	if ((c->us == U_PATH || c->us == U_QUERY || c->us == U_FRAG) && c->auth_len > 0) {
		*mode = EM_PCT;
		return HB_OK;
	}
	if (c->us == U_AUTH)
		return fail_at(c, off,
			       "a tag cannot stand in the host part of a URL (host, port "
			       "or user): the destination must be written out");
	return fail_at(c, off,
		       "a tag cannot stand in the scheme or host of a URL: write out "
		       "'https://host/' before the first tag");
}

static bool token_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static hb_err header_byte(struct comp *c, size_t off)
{
	unsigned char ch = (unsigned char)c->src[off];
	char sb[40];
	if (ch == '\r') {
		if (off + 1 < c->end && c->src[off + 1] == '\n')
			return HB_OK; /* CRLF is kept as LF */
		return fail_at(c, off, "a bare carriage return (CR) cannot stand in headers");
	}
	switch (c->hs) {
	case H_LINE:
		if (ch == '\n')
			break;
		if (ch == ':')
			return fail_at(c, off, "a header line must start with its name");
		if (!token_char(ch))
			return fail_at(c, off, "%s cannot stand in a header name",
				       show(ch, sb, sizeof sb));
		c->hs = H_NAME;
		c->name_at = off;
		break;
	case H_NAME:
		if (ch == ':') {
			hb_err rc = pool_add(c, c->src + c->name_at, off - c->name_at, &c->hdr_off);
			if (rc)
				return rc;
			c->hdr_len = (uint32_t)(off - c->name_at);
			c->hs = H_VALUE;
		} else if (ch == '\n') {
			return fail_at(c, c->name_at, "a header line must read 'Name: value'");
		} else if (!token_char(ch)) {
			return fail_at(c, off, "%s cannot stand in a header name",
				       show(ch, sb, sizeof sb));
		}
		break;
	case H_VALUE:
		if (ch == '\n')
			c->hs = H_LINE;
		else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return fail_at(c, off, "%s cannot stand in a header value",
				       show(ch, sb, sizeof sb));
		break;
	}
	return lit_add(c, (const char *)&ch, 1);
}

static hb_err form_byte(struct comp *c, size_t off)
{
	unsigned char ch = (unsigned char)c->src[off];
	if (ch == ' ')
		return lit_add(c, "+", 1);
	if (ch < 0x20 || ch >= 0x7f)
		return lit_pct(c, ch);
	return lit_add(c, (const char *)&ch, 1);
}

/* Literal text src[from..to) between tags. */
static hb_err ctx_text(struct comp *c, size_t from, size_t to)
{
	hb_err rc = HB_OK;
	if (c->ctx == HB_CTX_TEXT)
		return lit_add(c, c->src + from, to - from);
	for (size_t i = from; i < to && !rc; i++) {
		switch (c->ctx) {
		case HB_CTX_JSON:
			rc = hb_tjson_byte(&c->json, i);
			break;
		case HB_CTX_URL:
			rc = url_byte(c, i);
			break;
		case HB_CTX_HEADER:
			rc = header_byte(c, i);
			break;
		default:
			rc = form_byte(c, i);
			break;
		}
	}
	if (!rc && c->ctx == HB_CTX_JSON)
		rc = lit_add(c, c->src + from, to - from);
	return rc;
}

static hb_err ctx_tag(struct comp *c, size_t off, struct op *op)
{
	switch (c->ctx) {
	case HB_CTX_TEXT:
		if (op->secret)
			return fail_at(c, off,
				       "a secret cannot be used in plain text, only in the "
				       "URL, headers and body of a webhook");
		op->mode = EM_RAW;
		return HB_OK;
	case HB_CTX_FORM:
		op->mode = EM_FORM;
		return HB_OK;
	case HB_CTX_URL:
		return url_tag(c, off, &op->mode);
	case HB_CTX_HEADER:
		if (c->hs != H_VALUE)
			return fail_at(c, off, "a tag cannot stand in a header name");
		op->mode = EM_HEADER;
		op->hdr_off = c->hdr_off;
		op->hdr_len = c->hdr_len;
		return HB_OK;
	case HB_CTX_JSON:
	{
		bool as_value = false;
		hb_err rc = hb_tjson_tag(&c->json, off, &as_value);
		op->mode = as_value ? EM_JSON_VAL : EM_JSON_STR;
		return rc;
	}
	}
	return HB_ERR_INTERNAL;
}

static hb_err ctx_end(struct comp *c)
{
	if (c->ctx == HB_CTX_JSON)
		return hb_tjson_end(&c->json);
	if (c->ctx == HB_CTX_HEADER && c->hs == H_NAME)
		return fail_at(c, c->name_at, "a header line must read 'Name: value'");
	return HB_OK;
}

/* ---- tags */

static bool tag_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static size_t skip_ws(struct comp *c, size_t i)
{
	while (i < c->end && tag_ws(c->src[i]))
		i++;
	return i;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool path_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '_' ||
	       ch == '.' || ch == '-';
}

/* One filter at *i, appended to the template's list. */
static hb_err parse_filter(struct comp *c, size_t *i)
{
	if (c->nfilts == c->capfilts) {
		c->capfilts = c->capfilts ? c->capfilts * 2 : 16;
		c->filts = hb_realloc(c->filts, c->capfilts * sizeof *c->filts);
	}
	hb_err rc = hb_tfilter_parse(&c->ts, i, &c->filts[c->nfilts]);
	if (!rc)
		c->nfilts++;
	return rc;
}

/* The tag whose "{{" is at offset at; *next gets the offset after its "}}". */
static hb_err parse_tag(struct comp *c, size_t at, size_t *next)
{
	char sb[40];
	hb_err rc;
	struct op tag = {.kind = OP_TAG, .slot = -1};
	size_t i = skip_ws(c, at + 2), h = i;
	if (i >= c->end)
		return fail_at(c, at, "unclosed '{{' (no matching '}}')");
	if (c->src[i] == '"' || c->src[i] == '\'' || is_digit(c->src[i]) || c->src[i] == '-') {
		hb_targ a = {0};
		if ((rc = hb_targ_parse(&c->ts, &i, &a)))
			return rc;
		tag.has_const = 1;
		if (a.is_int)
			tag.konst = hb_value_int(a.i);
		else {
			tag.konst = hb_value_strn(NULL, a.n);
			tag.const_off = (uint32_t)a.off;
		}
	} else {
		while (i < c->end && path_char(c->src[i]))
			i++;
		if (i == h) {
			if (c->src[i] == '}' && i + 1 < c->end && c->src[i + 1] == '}')
				return fail_at(c, at,
					       "empty tag: write a path such as "
					       "{{ user.email }}");
			return fail_at(c, h, "expected a path such as user.email, found %s",
				       show((unsigned char)c->src[h], sb, sizeof sb));
		}
		const hb_path_info *pi = hb_catalog_find(c->cat, c->src + h, i - h);
		if (!pi) {
			char hint[200];
			hb_catalog_suggest(c->cat, c->src + h, i - h, hint, sizeof hint);
			if (hint[0])
				return fail_at(c, h, "unknown path '%.*s' (did you mean '%s'?)",
					       (int)(i - h), c->src + h, hint);
			return fail_at(c, h, "unknown path '%.*s'", (int)(i - h), c->src + h);
		}
		tag.slot = pi->slot;
		tag.secret = (pi->flags & HB_PATH_SECRET) != 0;
	}
	if ((rc = pool_add(c, c->src + h, i - h, &tag.off)))
		return rc;
	tag.len = (uint32_t)(i - h);
	tag.filt = (uint32_t)c->nfilts;
	for (;;) {
		i = skip_ws(c, i);
		if (i + 1 < c->end && c->src[i] == '}' && c->src[i + 1] == '}')
			break;
		if (i >= c->end)
			return fail_at(c, at, "unclosed '{{' (no matching '}}')");
		if (c->src[i] != '|')
			return fail_at(c, i, "expected '|' or '}}' in the tag, found %s",
				       show((unsigned char)c->src[i], sb, sizeof sb));
		i = skip_ws(c, i + 1);
		if ((rc = parse_filter(c, &i)))
			return rc;
	}
	tag.nfilt = (uint32_t)c->nfilts - tag.filt;
	if ((rc = ctx_tag(c, at, &tag)))
		return rc;
	*op_push(c) = tag;
	*next = i + 2;
	return HB_OK;
}

static void resolve_pool(hb_template *t)
{
	for (size_t f = 0; f < t->nfilters; f++)
		for (unsigned a = 0; a < t->filters[f].nargs; a++)
			if (!t->filters[f].arg[a].is_int)
				t->filters[f].arg[a].s = t->pool + t->filters[f].arg[a].off;
	for (size_t k = 0; k < t->nops; k++)
		if (t->ops[k].has_const && t->ops[k].konst.type == HB_TYPE_STRING)
			t->ops[k].konst.u.s.ptr = t->pool + t->ops[k].const_off;
}

static void collect_slots(hb_template *t)
{
	t->slots = hb_calloc(t->nops + 1, sizeof(int));
	for (size_t k = 0; k < t->nops; k++) {
		const struct op *op = &t->ops[k];
		if (op->kind != OP_TAG || op->slot < 0)
			continue;
		t->secrets |= op->secret;
		bool seen = false;
		for (size_t j = 0; j < t->nslots && !seen; j++)
			seen = t->slots[j] == op->slot;
		if (!seen)
			t->slots[t->nslots++] = op->slot;
	}
}

hb_err hb_template_compile(const hb_catalog *cat, const char *src, size_t len, hb_context ctx,
			   hb_template **out, hb_error *e)
{
	*out = NULL;
	if (len > HB_TEMPLATE_MAX)
		return hb_fail(e, HB_ERR_TOO_LARGE, NULL, "the template is over %d bytes",
			       HB_TEMPLATE_MAX);
	if ((unsigned)ctx > HB_CTX_JSON)
		return hb_fail(e, HB_ERR_INVALID, NULL, "unknown template context");
	struct comp c = {.cat = cat, .src = src, .end = len, .ctx = ctx, .e = e};
	hb_buf_init(&c.pool, 8 * (size_t)HB_TEMPLATE_MAX);
	c.ts = (hb_tsrc){.src = src, .end = len, .pool = &c.pool, .e = e};
	hb_tjson_init(&c.json, &c.ts);
	hb_err rc;
	size_t bad, i = 0;
	if (!hb_text_is_utf8(src, len, &bad)) {
		rc = fail_at(&c, bad, "the template is not valid UTF-8");
		goto out;
	}
	if (ctx == HB_CTX_URL) { /* surrounding blanks are not part of a URL */
		while (i < c.end && tag_ws(src[i]))
			i++;
		while (c.end > i && tag_ws(src[c.end - 1]))
			c.end--;
	} else if (ctx == HB_CTX_FORM) { /* nor a form body's final line break */
		while (c.end > 0 && (src[c.end - 1] == '\n' || src[c.end - 1] == '\r'))
			c.end--;
	}
	c.ts.end = c.end;
	size_t lit = i;
	while (i + 1 < c.end) {
		const char *p = memchr(src + i, '{', c.end - i - 1);
		if (!p)
			break;
		size_t at = (size_t)(p - src);
		if (src[at + 1] != '{') {
			i = at + 1;
			continue;
		}
		while (at + 2 < c.end &&
		       src[at + 2] == '{') /* "{{{x}}}": the tag is the inner "{{" */
			at++;
		if ((rc = ctx_text(&c, lit, at)) || (rc = parse_tag(&c, at, &i)))
			goto out;
		lit = i;
	}
	if ((rc = ctx_text(&c, lit, c.end)) || (rc = ctx_end(&c)))
		goto out;

	hb_template *t = hb_calloc(1, sizeof *t);
	t->ctx = ctx;
	t->ops = c.ops;
	t->nops = c.nops;
	t->filters = c.filts;
	t->nfilters = c.nfilts;
	t->pool = hb_buf_steal(&c.pool);
	c.ops = NULL;
	c.filts = NULL;
	resolve_pool(t);
	collect_slots(t);
	t->box = hb_calloc(1, sizeof *t->box);
	atomic_flag_clear(&t->box->busy);
	*out = t;
	rc = HB_OK;
out:
	hb_buf_free(&c.pool);
	free(c.ops);
	free(c.filts);
	return rc;
}

/* ---------------------------------------------------------------- rendering */

static hb_err header_refuse(const hb_template *t, const struct op *op, const char *what,
			    hb_error *e)
{
	return hb_fail(
	    e, HB_ERR_INVALID, NULL, "header '%.*s': the value of {{ %.*s }} contains %s; refused",
	    (int)op->hdr_len, t->pool + op->hdr_off, (int)op->len, t->pool + op->off, what);
}

/* Put the value v of tag op into out, escaped as the tag's place demands. */
static hb_err emit(const hb_template *t, const struct op *op, const hb_tval *tv, hb_buf *out,
		   hb_tscratch *sc, hb_error *e)
{
	size_t n;
	const char *s;
	if (op->mode == EM_JSON_VAL) {
		if (tv->flags & HB_TVAL_JSON)
			return hb_buf_add(out, tv->v.u.s.ptr, tv->v.u.s.len);
		if (tv->v.type == HB_TYPE_NULL ||
		    (tv->v.type == HB_TYPE_STRING && tv->v.u.s.len == 0))
			return hb_buf_add(out, "null", 4);
		return hb_escape_json_value(out, &tv->v);
	}
	s = hb_escape_value_text(&tv->v, sc->num, &n);
	switch (op->mode) {
	case EM_JSON_STR:
		return hb_escape_json_str(out, s, n);
	case EM_PCT:
		if (tv->flags & HB_TVAL_URLENCODED)
			break;
		return hb_escape_url(out, s, n);
	case EM_FORM:
		if (tv->flags & HB_TVAL_URLENCODED)
			break;
		return hb_escape_form(out, s, n);
	case EM_HEADER:
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '\r' || s[i] == '\n')
				return header_refuse(t, op, "a line break (CR or LF)", e);
			if (s[i] == '\0')
				return header_refuse(t, op, "a NUL byte", e);
		}
		break;
	default:
		break;
	}
	return hb_buf_add(out, s, n);
}

static hb_err render_tag(const hb_template *t, const struct op *op, const hb_value *slots,
			 unsigned flags, hb_tscratch *sc, hb_buf *out, hb_error *e)
{
	if (op->secret && (flags & HB_RENDER_MASK_SECRETS))
		return op->mode == EM_JSON_VAL ? hb_buf_add(out, "\"********\"", 10)
					       : hb_buf_add(out, "********", 8);
	hb_tval tv = {.v = op->has_const ? op->konst : slots[op->slot]};
	if (tv.v.type == HB_TYPE_STRING && !tv.v.u.s.ptr)
		tv.v.u.s.len = 0;
	for (uint32_t k = 0; k < op->nfilt; k++) {
		hb_err rc = hb_tfilter_apply(&t->filters[op->filt + k], &tv, sc);
		if (rc)
			return rc;
	}
	return emit(t, op, &tv, out, sc, e);
}

hb_err hb_template_render(const hb_template *t, const hb_value *slots, unsigned flags, hb_buf *out,
			  hb_error *e)
{
	size_t start = out->len;
	struct scratch_box *box = t->box;
	hb_tscratch own, *sc = &box->sc;
	bool shared = !atomic_flag_test_and_set_explicit(&box->busy, memory_order_acquire);
	if (!shared) {
		memset(&own, 0, sizeof own);
		sc = &own;
	}
	sc->buf[0].max = sc->buf[1].max = out->max;
	hb_err rc = HB_OK;
	for (size_t k = 0; k < t->nops && !rc; k++) {
		const struct op *op = &t->ops[k];
		if (op->kind == OP_LIT)
			rc = hb_buf_add(out, t->pool + op->off, op->len);
		else
			rc = render_tag(t, op, slots, flags, sc, out, e);
	}
	for (int b = 0; b < 2; b++) /* keep the scratch space, unless a huge value grew it */
		if (!shared || sc->buf[b].cap > 1024 * 1024)
			hb_buf_free(&sc->buf[b]);
	if (shared)
		atomic_flag_clear_explicit(&box->busy, memory_order_release);
	if (rc) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		if (rc == HB_ERR_TOO_LARGE)
			hb_fail(e, rc, NULL, "the rendered %s is over its limit of %zu bytes",
				hb_context_name(t->ctx), out->max);
	}
	return rc;
}

void hb_template_free(hb_template **tp)
{
	if (!tp || !*tp)
		return;
	hb_template *t = *tp;
	free(t->ops);
	free(t->filters);
	free(t->pool);
	free(t->slots);
	if (t->box) {
		hb_buf_free(&t->box->sc.buf[0]);
		hb_buf_free(&t->box->sc.buf[1]);
		free(t->box);
	}
	free(t);
	*tp = NULL;
}

size_t hb_template_slots(const hb_template *t, int *out, size_t max)
{
	for (size_t i = 0; i < t->nslots && i < max; i++)
		out[i] = t->slots[i];
	return t->nslots;
}

bool hb_template_uses_secrets(const hb_template *t)
{
	return t->secrets;
}
