/*
 * escape.h - the encoders that put a value into a piece of HTTP text safely: JSON string
 * escaping and JSON values, percent-encoding for URLs, form-encoding, HTML escaping, base64,
 * and the plain-text form of a typed value.
 *
 * The template renderer uses them for its contexts; anything else that writes JSON, URLs or
 * form bodies (capture logs, data packages, the API) should use them too so that every part of
 * hookbridge escapes the same way. Each append function adds to a capped hb_buf and returns
 * HB_ERR_TOO_LARGE (with the buffer possibly holding part of the text) when the cap is reached.
 */
#ifndef HB_ENGINE_ESCAPE_H
#define HB_ENGINE_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/value.h"

/* Room for the text of any non-string value: an int64, "false", or an RFC 3339 time. */
#define HB_VALUE_TEXT_MAX 40

/*
 * Append s[0..n) escaped for the inside of a JSON string literal (no quotes added):
 * '"' and '\' escaped, control characters as \b \f \n \r \t or \u00XX, U+2028 and U+2029 as
 * \u2028 / \u2029 (they end lines in JavaScript), and every byte that is not part of valid UTF-8,
 * as well as NUL (refused by many receivers, PostgreSQL jsonb among them), replaced by U+FFFD.
 * The result is always valid UTF-8 that jansson and every JSON parser accept.
 */
hb_err hb_escape_json_str(hb_buf *out, const char *s, size_t n) HB_MUST_USE;
/* The same between double quotes. */
hb_err hb_escape_json_quoted(hb_buf *out, const char *s, size_t n) HB_MUST_USE;
/* The JSON form of a value: null, true/false, a number, a quoted RFC 3339 time, a quoted string. */
hb_err hb_escape_json_value(hb_buf *out, const hb_value *v) HB_MUST_USE;

/* Percent-encode every byte but the unreserved A-Z a-z 0-9 - . _ ~ (so ' ' → %20, '/' → %2F). */
hb_err hb_escape_url(hb_buf *out, const char *s, size_t n) HB_MUST_USE;
/* application/x-www-form-urlencoded: ' ' → '+', A-Z a-z 0-9 * - . _ kept, the rest %XX. */
hb_err hb_escape_form(hb_buf *out, const char *s, size_t n) HB_MUST_USE;
/* HTML text and attribute escaping: & < > " ' become entities. */
hb_err hb_escape_html(hb_buf *out, const char *s, size_t n) HB_MUST_USE;
/* Standard base64 (RFC 4648 §4) with '=' padding. */
hb_err hb_escape_base64(hb_buf *out, const void *p, size_t n) HB_MUST_USE;

/* Decimal text of v into buf (at least HB_VALUE_TEXT_MAX bytes, NUL-terminated); returns length. */
size_t hb_escape_int_text(int64_t v, char *buf);
/* "YYYY-MM-DDTHH:MM:SSZ" into buf, the same bytes as hb_time_format; returns length. */
size_t hb_escape_time_text(int64_t t, char *buf);
/*
 * The plain text of a value: "" for null, "true"/"false", decimal, RFC 3339, or the string's own
 * bytes. Returns a pointer into v's string or into buf (HB_VALUE_TEXT_MAX bytes); *len set.
 */
const char *hb_escape_value_text(const hb_value *v, char *buf, size_t *len);

#endif
