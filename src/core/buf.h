/*
 * buf.h - a growable byte buffer with a hard cap.
 *
 * Anything sized by the outside world (request bodies, answers, templates, rendered output)
 * is built in an hb_buf whose limit is named where it is created; going over the limit
 * returns HB_ERR_TOO_LARGE and leaves the buffer as it was. The data is always
 * NUL-terminated so it can be used as a C string when it holds text.
 */
#ifndef HB_CORE_BUF_H
#define HB_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "core/error.h"

typedef struct hb_buf {
	char *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max; /* hard limit on len */
} hb_buf;

#define HB_BUF_UNLIMITED ((size_t)-1 / 2)

void hb_buf_init(hb_buf *b, size_t max);
void hb_buf_free(hb_buf *b);
/* Forget the contents, keep the memory. */
static inline void hb_buf_reset(hb_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}
/* Forget what came after the first len bytes (len <= b->len). */
static inline void hb_buf_truncate(hb_buf *b, size_t len)
{
	b->len = len;
	if (b->data)
		b->data[len] = '\0';
}
/* Make room for n more bytes; HB_ERR_TOO_LARGE past max. */
hb_err hb_buf_reserve(hb_buf *b, size_t n) HB_MUST_USE;
hb_err hb_buf_add_grow(hb_buf *b, const void *p, size_t n) HB_MUST_USE;
/* Append n bytes; inline because logs and JSON are written a few bytes at a time. */
static inline HB_MUST_USE hb_err hb_buf_add(hb_buf *b, const void *p, size_t n)
{
	if (n < b->cap - b->len && n <= b->max - b->len) { /* room for them and the NUL */
		memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return HB_OK;
	}
	return hb_buf_add_grow(b, p, n);
}
hb_err hb_buf_adds(hb_buf *b, const char *s) HB_MUST_USE;
hb_err hb_buf_add_slow(hb_buf *b, char c) HB_MUST_USE;
/* Append one byte; inline because parsers call it per character. */
static inline HB_MUST_USE hb_err hb_buf_addc(hb_buf *b, char c)
{
	if (b->len + 1 < b->cap && b->len < b->max) { /* room for c and the NUL */
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return HB_OK;
	}
	return hb_buf_add_slow(b, c);
}
/* Append v in decimal (what "%lld" gives, without printf's cost). */
hb_err hb_buf_add_int(hb_buf *b, long long v) HB_MUST_USE;
hb_err hb_buf_printf(hb_buf *b, const char *fmt, ...) HB_PRINTF(2, 3) HB_MUST_USE;
hb_err hb_buf_vprintf(hb_buf *b, const char *fmt, va_list ap) HB_MUST_USE;
/* Hand the bytes to the caller (who frees them) and leave b empty. Never NULL. */
char *hb_buf_steal(hb_buf *b);
/* The contents as a C string ("" when empty); owned by b. */
static inline const char *hb_buf_str(const hb_buf *b)
{
	return b->data ? b->data : "";
}

#endif
