/*
 * fuzz_coerce.c - libFuzzer target for answer bodies and coercion (src/engine/answer.c and
 * coerce.c).
 *
 * The first byte picks the Content-Type (JSON, form, or none), the rest is the body. Every value
 * in the parsed body, containers included, is coerced to each of the four field types and the
 * result is checked: integers re-render to the same number, strings are valid UTF-8 within the
 * cap and equal to their source, times are in range, compact JSON reads back as the same value,
 * and failures carry a well-formed message.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/timeutil.h"
#include "engine/answer.h"
#include "engine/coerce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELD "fuzz.field"

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "invariant failed: %s (line %d)\n", #cond, __LINE__);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void check_int(const json_t *v, int64_t i)
{
	char text[32];
	int n = snprintf(text, sizeof text, "%lld", (long long)i);
	int64_t back;
	REQUIRE(hb_text_to_int64(text, (size_t)n, &back) && back == i);
	if (json_is_integer(v))
		REQUIRE(json_integer_value(v) == i);
	if (json_is_real(v))
		REQUIRE((double)i == json_real_value(v));
}

static void check_time(const json_t *v, int64_t t)
{
	char text[HB_TIME_STR_MAX];
	hb_time_format(t, text);
	int64_t back;
	REQUIRE(hb_time_parse(text, strlen(text), &back) && back == t);
	if (json_is_integer(v))
		REQUIRE(json_integer_value(v) == t);
}

static void check_string(const json_t *v, const hb_coerced *c)
{
	const char *s = c->value.u.s.ptr;
	size_t n = c->value.u.s.len;
	REQUIRE(s == c->owned);
	REQUIRE(n <= HB_COERCE_STRING_MAX);
	REQUIRE(hb_text_is_utf8(s, n, NULL));
	REQUIRE(memchr(s, '\0', n) == NULL);
	if (json_is_string(v)) {
		REQUIRE(n == json_string_length(v) && memcmp(s, json_string_value(v), n) == 0);
	} else if (json_is_integer(v)) {
		int64_t back;
		REQUIRE(hb_text_to_int64(s, n, &back) && back == json_integer_value(v));
	} else if (json_is_real(v)) {
		REQUIRE(strtod(s, NULL) == json_real_value(v));
	} else if (json_is_array(v) || json_is_object(v)) {
		json_error_t err;
		json_t *back = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		/* jansson refuses NUL in object keys, which the text may rightly hold. */
		REQUIRE(back || strstr(s, "\\u0000"));
		if (back)
			REQUIRE(json_equal(back, (json_t *)v));
		json_decref(back);
	}
}

static void check_failure(hb_err rc, const hb_error *e, const hb_coerced *c)
{
	size_t n = strlen(e->message);
	REQUIRE(rc == HB_ERR_COERCE);
	REQUIRE(!c->clear && c->owned == NULL);
	REQUIRE(strncmp(e->message, "field " FIELD ": cannot store ", 29) == 0);
	REQUIRE(n + 1 < sizeof e->message);
	REQUIRE(hb_text_is_utf8(e->message, n, NULL));
	REQUIRE(strcmp(e->field, FIELD) == 0);
}

static void check_value(const json_t *v)
{
	static const hb_type types[] = {HB_TYPE_BOOL, HB_TYPE_INT, HB_TYPE_TIME, HB_TYPE_STRING};
	for (size_t k = 0; k < 4; k++) {
		hb_coerced c;
		hb_error e;
		hb_error_clear(&e);
		hb_err rc = hb_coerce(v, types[k], FIELD, &c, &e);
		if (rc != HB_OK) {
			check_failure(rc, &e, &c);
			continue;
		}
		REQUIRE(c.clear == json_is_null(v));
		if (!c.clear) {
			REQUIRE(c.value.type == types[k]);
			if (types[k] == HB_TYPE_BOOL && json_is_boolean(v))
				REQUIRE(c.value.u.b == json_is_true(v));
			if (types[k] == HB_TYPE_INT)
				check_int(v, c.value.u.i);
			if (types[k] == HB_TYPE_TIME)
				check_time(v, c.value.u.i);
			if (types[k] == HB_TYPE_STRING)
				check_string(v, &c);
		}
		hb_coerced_clear(&c);
		REQUIRE(c.owned == NULL);
	}
}

static void visit(const json_t *v)
{
	check_value(v);
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			visit(json_array_get(v, i));
	} else if (json_is_object(v)) {
		const char *key;
		json_t *m;
		json_object_foreach((json_t *)v, key, m) visit(m);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {"application/json", "application/x-www-form-urlencoded",
					    NULL};
	if (size == 0)
		return 0;
	const char *ct = types[data[0] % 3];
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	json_t *v = NULL;
	hb_error e;
	hb_error_clear(&e);
	hb_err rc = hb_answer_parse_body(body, len, ct, &v, &e);
	if (rc != HB_OK) {
		REQUIRE(v == NULL);
		REQUIRE(rc == HB_ERR_PARSE || rc == HB_ERR_TOO_LARGE);
		REQUIRE(e.message[0] != '\0');
		REQUIRE(hb_text_is_utf8(e.message, strlen(e.message), NULL));
		return 0;
	}
	if (!v)
		return 0;
	if (ct && ct[12] == 'x') {
		REQUIRE(json_is_object(v));
	} else {
		/* When jansson takes the body as it is, so must we, unchanged. */
		json_error_t err;
		json_t *plain = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		if (plain)
			REQUIRE(json_equal(plain, v));
		json_decref(plain);
	}
	visit(v);
	json_decref(v);
	return 0;
}
