/* buf.c - the capped growable buffer of buf.h. */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/text.h"

void hb_buf_init(hb_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void hb_buf_free(hb_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

hb_err hb_buf_reserve(hb_buf *b, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return HB_ERR_TOO_LARGE;
	size_t need = b->len + n + 1; /* + NUL */
	if (need <= b->cap)
		return HB_OK;
	/* 256 to start: URLs, bodies and attempt logs then grow once or twice, not four times */
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = hb_realloc(b->data, cap);
	b->cap = cap;
	return HB_OK;
}

hb_err hb_buf_add_grow(hb_buf *b, const void *p, size_t n)
{
	hb_err rc = hb_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return HB_OK;
}

hb_err hb_buf_adds(hb_buf *b, const char *s)
{
	return hb_buf_add(b, s, strlen(s));
}

hb_err hb_buf_add_int(hb_buf *b, long long v)
{
	char digits[HB_DECIMAL_MAX];
	size_t n = hb_text_decimal(digits, v);
	return hb_buf_add(b, digits, n);
}

hb_err hb_buf_add_slow(hb_buf *b, char c)
{
	return hb_buf_add(b, &c, 1);
}

hb_err hb_buf_vprintf(hb_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return HB_ERR_INTERNAL;
	hb_err rc = hb_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return HB_OK;
}

hb_err hb_buf_printf(hb_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hb_err rc = hb_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *hb_buf_steal(hb_buf *b)
{
	char *p = b->data ? b->data : hb_strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
