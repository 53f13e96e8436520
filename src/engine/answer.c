/*
 * answer.c - parsing a webhook answer's body for capture (see answer.h).
 *
 * DESIGN. jansson refuses a whole document when one integer literal does not fit in 64 bits
 * ("too big integer"), or one real overflows a double, which would lose every other field of the
 * answer. When it reports that, the body is lexed again: outside strings, each such number
 * literal is wrapped in quotes, so it becomes a string of its exact text, and the result is
 * parsed once more. Error positions of that second parse are mapped back to the original body.
 */
#include "engine/answer.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/text.h"

static const char FORM_TYPE[] = "application/x-www-form-urlencoded";

/* The media type of a Content-Type (before any ';'), compared without case. */
static bool media_type_is(const char *ct, const char *type)
{
	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t n = strcspn(ct, "; \t");
	return hb_text_ieq(ct, n, type);
}

static bool all_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode one form component s[0..n) into out; *bad is the offset of a bad %-escape. */
static bool form_decode(const char *s, size_t n, hb_buf *out, size_t *bad)
{
	hb_buf_reset(out);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				*bad = i;
				return false;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		/* out was created with room for the whole body, so this cannot fail. */
		if (hb_buf_addc(out, c) != HB_OK) {
			*bad = i;
			return false;
		}
	}
	return true;
}

/* Add the pair body[i..end) ("key=value", "key" or "key=") to obj; false with *bad set at a
 * bad %-escape. */
static bool form_pair(const char *body, size_t i, size_t end, hb_buf *key, hb_buf *val, json_t *obj,
		      size_t *bad)
{
	const char *eq = memchr(body + i, '=', end - i);
	size_t kend = eq ? (size_t)(eq - body) : end;
	size_t vstart = eq ? kend + 1 : end;
	if (!form_decode(body + i, kend - i, key, bad)) {
		*bad += i;
		return false;
	}
	if (!form_decode(body + vstart, end - vstart, val, bad)) {
		*bad += vstart;
		return false;
	}
	/* A repeated key replaces the earlier value: the last one wins. */
	json_object_setn_new_nocheck(obj, hb_buf_str(key), key->len,
				     json_stringn_nocheck(hb_buf_str(val), val->len));
	return true;
}

/* Form bodies keep bytes as sent: text that is not UTF-8 is refused per field by coercion. */
static hb_err parse_form(const char *body, size_t len, json_t **out, hb_error *e)
{
	hb_buf key, val;
	hb_buf_init(&key, len + 1); /* a decoded component is never longer than the body */
	hb_buf_init(&val, len + 1);
	json_t *obj = json_object();
	hb_err rc = HB_OK;
	for (size_t i = 0; i < len;) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - body) : len, bad = 0;
		if (end > i && !form_pair(body, i, end, &key, &val, obj, &bad)) {
			rc = hb_fail(e, HB_ERR_PARSE, "body",
				     "answer body (form) has a bad %%-escape at byte %zu (expected "
				     "%%XX with two hexadecimal digits)",
				     bad + 1);
			break;
		}
		i = end + 1;
	}
	hb_buf_free(&key);
	hb_buf_free(&val);
	if (rc != HB_OK)
		json_decref(obj);
	*out = rc == HB_OK ? obj : NULL;
	return rc;
}

/* Scan a number literal at body[i]; returns its end. */
static size_t number_end(const char *s, size_t n, size_t i)
{
	while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '+' ||
			 s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
		i++;
	return i;
}

/* True for a literal jansson would read but cannot hold: an integer beyond int64 (no leading
 * zero, as JSON demands) or a real beyond a double. */
static bool number_overflows(const char *s, size_t n, hb_buf *scratch)
{
	size_t d = s[0] == '-' ? 1 : 0;
	if (d == n || s[d] < '0' || s[d] > '9')
		return false;
	bool integer = true;
	for (size_t i = d; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			integer = false;
	}
	if (integer) {
		int64_t v;
		return !(n - d > 1 && s[d] == '0') && !hb_text_to_int64(s, n, &v);
	}
	hb_buf_reset(scratch);
	if (hb_buf_add(scratch, s, n) != HB_OK)
		return false;
	errno = 0;
	double x = strtod(hb_buf_str(scratch), NULL);
	return errno == ERANGE && isinf(x);
}

/*
 * Copy body into out with every overflowing number literal outside strings quoted; the offsets
 * (in out) of each inserted pair of quotes go into quotes, as an array of size_t pairs.
 */
static hb_err quote_big_numbers(const char *body, size_t len, hb_buf *out, hb_buf *quotes)
{
	hb_buf scratch;
	hb_buf_init(&scratch, len + 1);
	hb_err rc = HB_OK;
	bool in_string = false;
	size_t i = 0;
	while (rc == HB_OK && i < len) {
		char c = body[i];
		if (in_string) {
			size_t k = c == '\\' && i + 1 < len ? 2 : 1;
			in_string = c != '"';
			rc = hb_buf_add(out, body + i, k);
			i += k;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t end = number_end(body, len, i);
			if (number_overflows(body + i, end - i, &scratch)) {
				size_t at[2] = {out->len, out->len + 1 + (end - i)};
				rc = hb_buf_add(quotes, at, sizeof at);
				if (rc == HB_OK)
					rc = hb_buf_addc(out, '"');
				if (rc == HB_OK)
					rc = hb_buf_add(out, body + i, end - i);
				if (rc == HB_OK)
					rc = hb_buf_addc(out, '"');
			} else {
				rc = hb_buf_add(out, body + i, end - i);
			}
			i = end;
		} else {
			in_string = c == '"';
			rc = hb_buf_addc(out, c);
			i++;
		}
	}
	hb_buf_free(&scratch);
	return rc;
}

/* Byte offset pos of the rewritten text, as an offset in the original body. */
static size_t unquoted_offset(size_t pos, const hb_buf *quotes)
{
	size_t n = quotes->len / (2 * sizeof(size_t)), shift = 0;
	for (size_t k = 0; k < n; k++) {
		size_t at[2]; /* the opening and the closing quote */
		memcpy(at, quotes->data + k * sizeof at, sizeof at);
		if (at[0] >= pos)
			break;
		shift += at[1] < pos ? 2 : 1;
	}
	return pos > shift ? pos - shift : 0;
}

/* Report a JSON syntax error with line and column (in characters) of the last byte jansson
 * read, which is where it stopped: pos is the count of bytes read, as in json_error_t. */
static hb_err json_fail(const char *body, size_t len, size_t pos, const char *why, hb_error *e)
{
	size_t line = 1, col = 1;
	for (size_t i = 0; i + 1 < pos && i < len; i++) {
		if (body[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)body[i] & 0xc0) != 0x80) {
			col++;
		}
	}
	/* jansson quotes the text near the fault: show it without controls or broken bytes. */
	char clean[JSON_ERROR_TEXT_LENGTH];
	size_t n = 0;
	for (size_t i = 0; why[i] && n + 1 < sizeof clean; i++) {
		unsigned char c = (unsigned char)why[i];
		clean[n++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	clean[n] = '\0';
	return hb_fail(e, HB_ERR_PARSE, "body",
		       "answer body is not valid JSON: %s (line %zu, column %zu)", clean, line,
		       col);
}

static hb_err parse_json(const char *body, size_t len, json_t **out, hb_error *e)
{
	const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
	json_error_t err;
	*out = json_loadb(body, len, flags, &err);
	if (*out)
		return HB_OK;
	if (json_error_code(&err) != json_error_numeric_overflow)
		return json_fail(body, len, (size_t)err.position, err.text, e);
	hb_buf text, quotes;
	/* Two quotes per literal of at least one byte: never more than three times the body. */
	hb_buf_init(&text, 3 * len + 16);
	hb_buf_init(&quotes, (len + 1) * 2 * sizeof(size_t));
	hb_err rc = quote_big_numbers(body, len, &text, &quotes);
	if (rc != HB_OK) {
		rc = hb_fail(e, HB_ERR_TOO_LARGE, "body", "answer body has too many large numbers");
		goto out;
	}
	*out = json_loadb(hb_buf_str(&text), text.len, flags, &err);
	if (!*out)
		rc = json_fail(body, len, unquoted_offset((size_t)err.position, &quotes), err.text,
			       e);
out:
	hb_buf_free(&text);
	hb_buf_free(&quotes);
	return rc;
}

hb_err hb_answer_parse_body(const char *body, size_t len, const char *content_type, json_t **out,
			    hb_error *e)
{
	*out = NULL;
	if (!body || all_space(body, len))
		return HB_OK;
	if (media_type_is(content_type, FORM_TYPE))
		return parse_form(body, len, out, e);
	/* A UTF-8 byte order mark is not JSON, but some servers send one. */
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
		body += 3;
		len -= 3;
	}
	return parse_json(body, len, out, e);
}
