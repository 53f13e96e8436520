/*
 * jsonw.h - writing JSON text straight into a buffer.
 *
 * hb_value_json makes a jansson value of a typed value. The rest is for logs written per delivery, where building a jansson tree only to print it costs more
 * than the rest of the work: strings are escaped here, the punctuation is the caller's.
 */
#ifndef HB_CORE_JSONW_H
#define HB_CORE_JSONW_H

#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/value.h"

/* s (n bytes) as a JSON string. Invalid UTF-8 is HB_ERR_INVALID, or U+FFFD when lenient.
   Over out's cap: HB_ERR_TOO_LARGE, keeping what fitted (cut before a UTF-8 sequence). */
hb_err hb_json_write_string(hb_buf *out, const char *s, size_t n, bool lenient) HB_MUST_USE;
/* `"key":`, preceded by a comma unless first. */
hb_err hb_json_write_key(hb_buf *out, const char *key, bool first) HB_MUST_USE;

/* Give jansson its memory from the per-thread pool (core/pool.h): once, before any jansson
   value is made (main does it first). Parsing an answer took some twenty-five mallocs. */
void hb_json_setup(void);
/* The text json_dumps would give, but in memory of malloc's own, for free() (jansson's may be
   the pool's); NULL if v cannot be written. */
char *hb_json_dump(const json_t *v, size_t flags);

/* A typed value as a JSON value: times as RFC 3339 text, a string that is not UTF-8 as null.
   New reference. */
json_t *hb_value_json(const hb_value *v);
/* The same value written as JSON text. */
hb_err hb_json_write_value(hb_buf *out, const hb_value *v) HB_MUST_USE;

#endif
