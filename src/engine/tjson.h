/*
 * tjson.h - internal to the template module: the lexical checker of a JSON body's literal
 * skeleton. template.c feeds it the literal text between tags byte by byte and asks it, at each
 * tag, whether the tag stands inside a string literal or where a whole value is expected; at the
 * end it checks that the body is complete. Whatever the tags' values, a skeleton it accepts
 * renders as valid JSON that jansson can read.
 */
#ifndef HB_ENGINE_TJSON_H
#define HB_ENGINE_TJSON_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/template.h"

#define HB_TJSON_MAX_DEPTH 512

enum hb_tjson_state {
	HB_JS_VALUE,
	HB_JS_VALUE_OR_CLOSE,
	HB_JS_KEY,
	HB_JS_KEY_OR_CLOSE,
	HB_JS_COLON,
	HB_JS_AFTER,
	HB_JS_DONE,
	HB_JS_STR,
	HB_JS_STR_ESC,
	HB_JS_STR_U,
	HB_JS_NUM,
	HB_JS_WORD,
};
enum hb_tjson_num {
	HB_JN_MINUS,
	HB_JN_ZERO,
	HB_JN_INT,
	HB_JN_DOT,
	HB_JN_FRAC,
	HB_JN_E,
	HB_JN_ESIGN,
	HB_JN_EXP
};

/* Scanner state; zero-initialise it (hb_tjson_init) before the first byte. */
typedef struct hb_tjson {
	const hb_tsrc *ts; /* the source (ts->src, ts->end) and where errors go (ts->e) */
	enum hb_tjson_state js;
	enum hb_tjson_num ns;
	char stack[HB_TJSON_MAX_DEPTH];
	int depth;
	bool str_key, need_low;
	int u_digits;
	unsigned u_val;
	size_t tok_at; /* where the current string, number or word began */
	const char *word;
	size_t word_i;
} hb_tjson;

/* Start scanning the source ts (which must outlive the scanner). */
void hb_tjson_init(hb_tjson *j, const hb_tsrc *ts);
/* Feed the literal byte at offset off; HB_ERR_PARSE with line and column when it cannot stand
   there. */
hb_err hb_tjson_byte(hb_tjson *j, size_t off) HB_MUST_USE;
/* A tag stands at offset off: *as_value is false inside a string literal (the value is
   JSON-escaped) and true where a whole value is expected; HB_ERR_PARSE anywhere else. */
hb_err hb_tjson_tag(hb_tjson *j, size_t off, bool *as_value) HB_MUST_USE;
/* The source has ended at ts->end: the body must be complete. */
hb_err hb_tjson_end(hb_tjson *j) HB_MUST_USE;

#endif
