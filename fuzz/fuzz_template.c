/*
 * fuzz_template.c - libFuzzer target for the template compiler and renderer.
 *
 * Input layout: byte 0 picks the context, byte 1 the render flags, bytes 2-3 the template length
 * (little-endian, cut to what is there); the template follows, and the rest, split at 0xFF bytes,
 * gives the string values of the record (integer, boolean and time slots come from the first
 * bytes of that rest). Whatever compiles must render, and the render must keep the context's
 * promise: JSON parses with jansson (json_loadb, no flags), a URL or form body holds no raw
 * space, CR or LF, a header block holds no CR or NUL and as many lines as the template has.
 * A broken promise aborts, which libFuzzer reports.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/template.h"

enum { NSTR = 5, NSLOTS = 10 };

static hb_catalog *catalog(void)
{
	static hb_catalog *cat;
	if (cat)
		return cat;
	cat = hb_catalog_new();
	hb_catalog_add(cat, "user.first_name", NULL, HB_TYPE_STRING, 0, 0);
	hb_catalog_add(cat, "user.email", NULL, HB_TYPE_STRING, 0, 0);
	hb_catalog_add(cat, "feedback.title", NULL, HB_TYPE_STRING, 0, 0);
	hb_catalog_add(cat, "feedback.description", NULL, HB_TYPE_STRING, 0, 0);
	hb_catalog_add(cat, "secret.jira", NULL, HB_TYPE_STRING, HB_PATH_SECRET, 0);
	hb_catalog_add(cat, "user.id", NULL, HB_TYPE_INT, 0, 0);
	hb_catalog_add(cat, "external.shipping.is_valid", NULL, HB_TYPE_BOOL, 0, 0);
	hb_catalog_add(cat, "now", NULL, HB_TYPE_TIME, 0, 0);
	hb_catalog_add(cat, "user.nickname", NULL, HB_TYPE_STRING, 0, 0);
	hb_catalog_add(cat, "project.score", NULL, HB_TYPE_INT, 0, 0);
	return cat;
}

static size_t count(const char *s, size_t n, char c)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

static void fail(const char *what, const hb_buf *out)
{
	fprintf(stderr, "broken promise: %s\n--- render (%zu bytes) ---\n%.*s\n", what, out->len,
		(int)out->len, hb_buf_str(out));
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	hb_context ctx = (hb_context)(data[0] % 5);
	unsigned flags = data[1] & HB_RENDER_MASK_SECRETS;
	size_t tlen = (size_t)data[2] | (size_t)data[3] << 8;
	data += 4;
	size -= 4;
	if (tlen > size)
		tlen = size;
	const char *tpl = (const char *)data;
	const uint8_t *rest = data + tlen;
	size_t rn = size - tlen;

	hb_value rec[NSLOTS], empty[NSLOTS];
	for (int i = 0; i < NSLOTS; i++)
		rec[i] = empty[i] = hb_value_null();
	int64_t num = 0;
	for (size_t i = 0; i < 8 && i < rn; i++)
		num = (int64_t)((uint64_t)num << 8 | rest[i]);
	rec[5] = hb_value_int(num);
	rec[6] = hb_value_bool(rn && (rest[0] & 1));
	rec[7] = hb_value_time(num % 400000000000LL);
	rec[9] = rn > 1 && (rest[1] & 1) ? hb_value_int(-num) : hb_value_strn("", 0);
	int slot_of[NSTR] = {0, 1, 2, 3, 4};
	size_t at = 0;
	for (int k = 0; k < NSTR && at <= rn; k++) {
		const uint8_t *end = memchr(rest + at, 0xff, rn - at);
		size_t n = end ? (size_t)(end - (rest + at)) : rn - at;
		rec[slot_of[k]] = hb_value_strn((const char *)rest + at, n);
		at += n + 1;
	}

	hb_template *t = NULL;
	hb_error e = {0};
	if (hb_template_compile(catalog(), tpl, tlen, ctx, &t, &e))
		return 0;
	hb_buf out;
	hb_buf_init(&out, 1 << 22);
	hb_err rc = hb_template_render(t, rec, flags, &out, &e);
	if (rc == HB_OK) {
		json_error_t je;
		json_t *j;
		switch (ctx) {
		case HB_CTX_JSON:
			j = json_loadb(out.data ? out.data : "", out.len, 0, &je);
			if (!j)
				fail(je.text, &out);
			json_decref(j);
			break;
		case HB_CTX_URL:
		case HB_CTX_FORM:
			if (count(out.data, out.len, ' ') || count(out.data, out.len, '\r') ||
			    count(out.data, out.len, '\n'))
				fail("raw space, CR or LF in a URL or form body", &out);
			break;
		case HB_CTX_HEADER: {
			hb_buf ref;
			hb_buf_init(&ref, 1 << 22);
			/* the reference may be refused too: a filter argument can hold a CR */
			bool ref_ok = hb_template_render(t, empty, 0, &ref, &e) == HB_OK;
			if (count(out.data, out.len, '\r') || count(out.data, out.len, '\0') ||
			    (ref_ok &&
			     count(out.data, out.len, '\n') != count(ref.data, ref.len, '\n')))
				fail("a value added a header line, a CR or a NUL", &out);
			hb_buf_free(&ref);
			break;
		}
		case HB_CTX_TEXT:
			break;
		}
	} else if (rc != HB_ERR_INVALID || ctx != HB_CTX_HEADER) {
		if (rc != HB_ERR_TOO_LARGE)
			fail("render failed", &out);
	}
	hb_buf_free(&out);
	hb_template_free(&t);
	return 0;
}
