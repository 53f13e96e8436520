/*
 * template.h - dynamic tags: `{{ path }}` and `{{ path | filter:arg | … }}` in URLs, header
 * blocks, form bodies, JSON bodies and plain text (SPEC §3; user documentation in docs/tags.md).
 *
 * A template is compiled once against a catalogue (paths become slot numbers, filters and their
 * arguments are checked, and the context decides how each tag is escaped), then rendered for
 * many loaded records. Escaping is chosen by where a tag stands, never by the author:
 *   url     the whole URL; tags only after "scheme://host/", each value percent-encoded;
 *   header  "Name: value" lines; tags only in values; CR, LF or NUL in a value refused at render;
 *   form    application/x-www-form-urlencoded body; values form-encoded;
 *   json    a JSON body; inside a string literal values are JSON-escaped, where a value stands
 *           they become a typed JSON value; the literal skeleton is checked, so every render
 *           is valid JSON;
 *   text    plain text, values as they are (secrets are not allowed here).
 *
 * A compiled template is read-only and may be rendered from several threads at once.
 */
#ifndef HB_ENGINE_TEMPLATE_H
#define HB_ENGINE_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/value.h"
#include "engine/catalog.h"

typedef enum hb_context {
	HB_CTX_TEXT,
	HB_CTX_URL,
	HB_CTX_HEADER,
	HB_CTX_FORM,
	HB_CTX_JSON
} hb_context;

/* "text", "url", "header", "form", "json"; false when unknown. */
bool hb_context_parse(const char *name, hb_context *out);
/* The name of a context as hb_context_parse reads it. */
const char *hb_context_name(hb_context ctx);

typedef struct hb_template hb_template;

/* Largest template source accepted by hb_template_compile. */
#define HB_TEMPLATE_MAX (1024 * 1024)

/*
 * Compile src (len bytes) for context ctx against catalogue cat. On error (HB_ERR_PARSE, or
 * HB_ERR_TOO_LARGE) e->message reads like "line 2, column 14: unknown path 'user.emial' (did you
 * mean 'user.email'?)". Caller owns *out (hb_template_free). The template keeps no pointer into
 * cat or src.
 */
hb_err hb_template_compile(const hb_catalog *cat, const char *src, size_t len, hb_context ctx,
			   hb_template **out, hb_error *e) HB_MUST_USE;

enum { HB_RENDER_MASK_SECRETS = 1 }; /* secret paths (HB_PATH_SECRET) render as "********" */

/*
 * Render with slots[i] = value of catalogue slot i; appends to out (a capped hb_buf). On error
 * out is left as it was: HB_ERR_INVALID for a header value holding CR, LF or NUL (the message
 * names the header), HB_ERR_TOO_LARGE past out's cap.
 */
hb_err hb_template_render(const hb_template *t, const hb_value *slots, unsigned flags, hb_buf *out,
			  hb_error *e) HB_MUST_USE;
void hb_template_free(hb_template **t);
/* The catalogue slots the template reads, each once, in order of first use; returns the count
 * (which may exceed max: only the first max are written). */
size_t hb_template_slots(const hb_template *t, int *out, size_t max);
/* Whether the template reads a secret path. */
bool hb_template_uses_secrets(const hb_template *t);

/*
 * ---- Internal to the template module (template.c, tfilter.c and tjson.c). ----
 * A value moving through a filter chain, a filter with its checked arguments, and the scratch
 * space filters write into.
 */
enum {
	HB_TVAL_URLENCODED = 1, /* last filter was urlencode: URL and form contexts copy it as is */
	HB_TVAL_JSON = 2,	/* last filter was json: a JSON value position copies it as is */
};
typedef struct hb_tval {
	hb_value v;
	unsigned flags;
} hb_tval;

#define HB_TFILTER_MAXARGS 2
typedef struct hb_targ {
	bool is_int;
	int64_t i;
	const char *s; /* decoded string argument (NUL-terminated), owned by the template */
	size_t n;
	size_t off; /* where s lies in the template's string pool */
	size_t at;  /* offset in the template source, for messages */
} hb_targ;

typedef struct hb_tfilter {
	int id;
	unsigned nargs;
	hb_targ arg[HB_TFILTER_MAXARGS];
} hb_tfilter;

typedef struct hb_tscratch {
	hb_buf buf[2]; /* filters write into buf[next] and flip next */
	unsigned next;
	char num[HB_TFILTER_MAXARGS * 24 + 48]; /* text of a number or time being filtered */
} hb_tscratch;

/* The source being compiled, as the filter parser sees it. */
typedef struct hb_tsrc {
	const char *src;
	size_t end;   /* parsing stops here */
	hb_buf *pool; /* decoded string arguments go here, NUL-terminated */
	hb_error *e;
} hb_tsrc;

/* A literal (quoted string or integer) at src[*i]; *i moves past it. */
hb_err hb_targ_parse(const hb_tsrc *s, size_t *i, hb_targ *a) HB_MUST_USE;
/* A filter "name [: arg {, arg}]" at src[*i], looked up and its arguments checked; the string
 * arguments point into the pool until it grows (the template fixes them up at the end). */
hb_err hb_tfilter_parse(const hb_tsrc *s, size_t *i, hb_tfilter *f) HB_MUST_USE;
/* Fill s->e with "line L, column C: message" for source offset off; returns HB_ERR_PARSE. */
hb_err hb_template_fail(const hb_tsrc *s, size_t off, const char *fmt, ...) HB_PRINTF(3, 4);
/* A byte as a message shows it: 'x', or "a line break" and the like; may use buf. */
const char *hb_template_show(unsigned char ch, char *buf, size_t n);
/* Apply f to v in place; new text goes into sc. HB_ERR_TOO_LARGE past the scratch cap. */
hb_err hb_tfilter_apply(const hb_tfilter *f, hb_tval *v, hb_tscratch *sc) HB_MUST_USE;

#endif
