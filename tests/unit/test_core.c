/* Unit tests of src/core: buffers, text checks, times. */
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/jsonw.h"
#include "core/pool.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "harness.h"

TEST(buf_cap_refuses_and_keeps_contents)
{
	hb_buf b;
	hb_buf_init(&b, 8);
	CHECK_INT(hb_buf_adds(&b, "hello"), HB_OK);
	CHECK_INT(hb_buf_adds(&b, "world"), HB_ERR_TOO_LARGE);
	CHECK_STR(hb_buf_str(&b), "hello");
	CHECK_INT(hb_buf_printf(&b, "%d", 123), HB_OK);
	CHECK_STR(hb_buf_str(&b), "hello123");
	CHECK_INT(hb_buf_addc(&b, 'x'), HB_ERR_TOO_LARGE);
	hb_buf_free(&b);
}

TEST(buf_add_int_writes_what_printf_writes)
{
	static const long long values[] = {0, 7, -7, 10, 99, -100, 1234567890123LL, LLONG_MAX,
					   LLONG_MIN};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		char want[32];
		snprintf(want, sizeof want, "%lld", values[i]);
		hb_buf b;
		hb_buf_init(&b, HB_BUF_UNLIMITED);
		CHECK_INT(hb_buf_add_int(&b, values[i]), HB_OK);
		CHECK_STR(hb_buf_str(&b), want);
		hb_buf_free(&b);
	}
	hb_buf b;
	hb_buf_init(&b, 3);
	CHECK_INT(hb_buf_add_int(&b, 1234), HB_ERR_TOO_LARGE); /* the cap holds */
	CHECK_STR(hb_buf_str(&b), "");
	hb_buf_free(&b);
}

TEST(text_keys)
{
	CHECK(hb_text_is_key("beta"));
	CHECK(hb_text_is_key("a1_b-c"));
	CHECK(hb_text_is_key("0"));
	CHECK(!hb_text_is_key(""));
	CHECK(!hb_text_is_key("-a"));
	CHECK(!hb_text_is_key("_a"));
	CHECK(!hb_text_is_key("Beta"));
	CHECK(!hb_text_is_key("a b"));
	CHECK(hb_text_is_key("a234567890123456789012345678901234567890123456789012345678901234"));
	CHECK(!hb_text_is_key("a2345678901234567890123456789012345678901234567890123456789012345"));
}

TEST(text_emails)
{
	CHECK(hb_text_is_email("zoe@example.com"));
	CHECK(hb_text_is_email("first.last+tag@sub.example.co.uk"));
	CHECK(!hb_text_is_email("zoe"));
	CHECK(!hb_text_is_email("zoe@"));
	CHECK(!hb_text_is_email("@example.com"));
	CHECK(!hb_text_is_email("zoe@example"));
	CHECK(!hb_text_is_email("zo e@example.com"));
	CHECK(!hb_text_is_email("zoe@@example.com"));
	CHECK(!hb_text_is_email("zoe@example..com"));
	CHECK(!hb_text_is_email("zoe.@example.com"));
}

TEST(text_int64_range)
{
	int64_t v;
	CHECK(hb_text_to_int64("9223372036854775807", 19, &v));
	CHECK(v == INT64_MAX);
	CHECK(!hb_text_to_int64("9223372036854775808", 19, &v));
	CHECK(hb_text_to_int64("-9223372036854775808", 20, &v));
	CHECK(v == INT64_MIN);
	CHECK(!hb_text_to_int64("-9223372036854775809", 20, &v));
	CHECK(!hb_text_to_int64("12a", 3, &v));
	CHECK(!hb_text_to_int64("", 0, &v));
	CHECK(!hb_text_to_int64("-", 1, &v));
}

TEST(text_utf8)
{
	size_t at;
	CHECK(hb_text_is_utf8("Zo\xc3\xab \xf0\x9f\x98\x80", 9, &at));
	CHECK(!hb_text_is_utf8("a\xc0\xaf", 3, &at));
	CHECK_INT(at, 1);
	CHECK(!hb_text_is_utf8("\xed\xa0\x80", 3, &at)); /* surrogate */
	CHECK(!hb_text_is_utf8("\xe2\x82", 2, &at));     /* cut short */
	/* long ASCII runs go eight bytes at a time: a bad byte anywhere after one is still found */
	const char *ascii = "{\"email\":\"zoe@example.com\",\"n\":1}";
	CHECK(hb_text_is_utf8(ascii, strlen(ascii), &at));
	char buf[40];
	for (size_t bad = 0; bad < 33; bad++) {
		memcpy(buf, ascii, 33);
		buf[bad] = (char)0xff;
		at = 99;
		CHECK(!hb_text_is_utf8(buf, 33, &at));
		CHECK_INT(at, bad);
	}
	CHECK(hb_text_is_utf8("0123456789abcdef\xc3\xab", 18, &at)); /* a sequence after two runs */
	CHECK(!hb_text_is_utf8("0123456789abcdef\xc3", 17, &at));
	CHECK_INT(at, 16);
}

TEST(time_roundtrip)
{
	int64_t t;
	char out[HB_TIME_STR_MAX];
	const char *s = "2026-11-28T10:00:00+02:00";
	CHECK(hb_time_parse(s, strlen(s), &t));
	CHECK_STR(hb_time_format(t, out), "2026-11-28T08:00:00Z");
	CHECK(hb_time_parse("2026-11-28", 10, &t));
	CHECK_STR(hb_time_format(t, out), "2026-11-28T00:00:00Z");
	CHECK_INT(t, 1795824000);
	s = "2026-11-28T08:00:00.123Z";
	CHECK(hb_time_parse(s, strlen(s), &t));
	CHECK_STR(hb_time_format(t, out), "2026-11-28T08:00:00Z");
	s = "2024-02-29T23:59:59-0130";
	CHECK(hb_time_parse(s, strlen(s), &t));
	CHECK_STR(hb_time_format(t, out), "2024-03-01T01:29:59Z");
	CHECK(!hb_time_parse("2026-02-29", 10, &t));
	CHECK(!hb_time_parse("yesterday", 9, &t));
	CHECK(!hb_time_parse("2026-11-28T10:00", 16, &t)); /* no zone */
	CHECK(!hb_time_parse("2026-11-28T25:00:00Z", 20, &t));
}

/* The JSON string writer scans eight bytes at a time: a byte that needs an escape (or a check
   as UTF-8) at any offset of a word, or in a short tail, must still be seen. Each string
   round-trips through a JSON parser, and invalid UTF-8 is refused unless lenient. Short strings
   are written into room reserved first, long ones (some rounds) and those near a buffer's cap
   run by run: both ways give the same bytes. */
TEST(json_string_escapes_at_every_offset)
{
	static const char *const pieces[] = {"a", "\"", "\\", "\n", "\x01", "\x1f", "\xc3\xa9",
					     "\xe2\x82\xac", "\x7f", " ", "/"};
	const size_t npieces = sizeof pieces / sizeof pieces[0];
	uint64_t seed = 42;
	for (int round = 0; round < 3000; round++) {
		char in[2400];
		size_t n = 0, len = (size_t)(round % 40) + (round % 7 == 0 ? 500 : 0);
		while (n < len) {
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			const char *p = pieces[(seed >> 33) % npieces];
			size_t pl = strlen(p);
			memcpy(in + n, p, pl);
			n += pl;
		}
		hb_buf b, tight;
		hb_buf_init(&b, HB_BUF_UNLIMITED);
		CHECK_INT(hb_json_write_string(&b, in, n, false), HB_OK);
		/* the same bytes in a buffer capped at exactly their length: no room to spare */
		hb_buf_init(&tight, b.len);
		CHECK_INT(hb_json_write_string(&tight, in, n, false), HB_OK);
		CHECK_STR(hb_buf_str(&tight), hb_buf_str(&b));
		hb_buf_free(&tight);
		json_error_t err;
		json_t *back = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		CHECK(back != NULL);
		if (back) {
			CHECK_INT(json_string_length(back), n);
			CHECK(memcmp(json_string_value(back), in, n) == 0);
		}
		json_decref(back);
		hb_buf_free(&b);
		if (hb_test_failed_now())
			return;
	}
	for (size_t at = 0; at < 20; at++) { /* a bad byte anywhere: refused, or replaced */
		char in[20];
		memset(in, 'x', sizeof in);
		in[at] = (char)0xff;
		hb_buf b;
		hb_buf_init(&b, HB_BUF_UNLIMITED);
		CHECK_INT(hb_json_write_string(&b, in, sizeof in, false), HB_ERR_INVALID);
		hb_buf_reset(&b);
		CHECK_INT(hb_json_write_string(&b, in, sizeof in, true), HB_OK);
		CHECK(strstr(hb_buf_str(&b), "\xef\xbf\xbd") != NULL);
		hb_buf_free(&b);
	}
}

static void *pool_free_in_thread(void *p)
{
	hb_pool_free(p); /* kept on this thread's list, given back to malloc when it exits */
	return NULL;
}

TEST(pool_sizes_realloc_and_threads)
{
	CHECK_INT(hb_pool_roundup(1), 32);
	CHECK_INT(hb_pool_roundup(33), 64);
	CHECK_INT(hb_pool_roundup(4096), 4096);
	CHECK_INT(hb_pool_roundup(4097), 4104);
	char *p = hb_pool_alloc(0); /* a block all the same, as malloc(0) may give */
	CHECK(p != NULL);
	hb_pool_free(p);
	hb_pool_free(NULL);
	/* grown through every class and past them, the contents stay */
	p = hb_pool_alloc(10);
	memcpy(p, "0123456789", 10);
	for (size_t n = 20; n <= 20000; n *= 2) {
		p = hb_pool_realloc(p, n);
		CHECK(p != NULL);
		CHECK(hb_pool_size(p) >= n);
		CHECK(memcmp(p, "0123456789", 10) == 0);
		memset(p + 10, 'x', n - 10);
	}
	char *same = hb_pool_realloc(p, 20000); /* a big block is resized by copy, still whole */
	CHECK(memcmp(same, "0123456789xxx", 13) == 0);
	hb_pool_free(same);
	/* a small block that still fits its class stays put */
	p = hb_pool_alloc(100);
	CHECK(hb_pool_realloc(p, 120) == p);
	CHECK(hb_pool_realloc(p, 50) == p);
	/* freed by another thread */
	pthread_t th;
	CHECK_INT(pthread_create(&th, NULL, pool_free_in_thread, p), 0);
	CHECK_INT(pthread_join(th, NULL), 0);
	/* many blocks of many sizes at once, all different memory */
	char *many[64];
	for (int i = 0; i < 64; i++) {
		many[i] = hb_pool_alloc((size_t)(i * 70 + 1));
		memset(many[i], i, (size_t)(i * 70 + 1));
	}
	for (int i = 0; i < 64; i++) {
		CHECK(many[i][0] == (char)i && many[i][i * 70] == (char)i);
		hb_pool_free(many[i]);
	}
	hb_pool_release_thread();
}

TEST(json_keys_plain_escaped_and_long)
{
	hb_buf b;
	hb_buf_init(&b, HB_BUF_UNLIMITED);
	CHECK_INT(hb_buf_addc(&b, '{'), HB_OK);
	CHECK_INT(hb_json_write_key(&b, "status", true), HB_OK);
	CHECK_INT(hb_buf_addc(&b, '1'), HB_OK);
	CHECK_INT(hb_json_write_key(&b, "", false), HB_OK);
	CHECK_INT(hb_buf_addc(&b, '2'), HB_OK);
	CHECK_INT(hb_json_write_key(&b, "say \"hi\"\n", false), HB_OK);
	CHECK_INT(hb_buf_addc(&b, '3'), HB_OK);
	CHECK_INT(hb_json_write_key(&b, "Zo\xc3\xab", false), HB_OK);
	CHECK_INT(hb_buf_addc(&b, '4'), HB_OK);
	/* longer than the one-piece path holds, with and without the comma */
	const char *long_key = "a_key_well_past_the_forty_bytes_of_the_quick_path";
	CHECK_INT(hb_json_write_key(&b, long_key, false), HB_OK);
	CHECK_INT(hb_buf_addc(&b, '5'), HB_OK);
	CHECK_INT(hb_buf_addc(&b, '}'), HB_OK);
	CHECK_STR(hb_buf_str(&b), "{\"status\":1,\"\":2,\"say \\\"hi\\\"\\n\":3,\"Zo\xc3\xab\":4,"
				  "\"a_key_well_past_the_forty_bytes_of_the_quick_path\":5}");
	for (size_t n = 30; n < 44; n++) { /* around the edge of the quick path */
		char key[64];
		memset(key, 'k', n);
		key[n] = '\0';
		hb_buf_reset(&b);
		CHECK_INT(hb_json_write_key(&b, key, n & 1), HB_OK);
		CHECK_INT(b.len, n + 3 + !(n & 1));
		CHECK(b.data[b.len - 1] == ':' && b.data[b.len - 2] == '"');
	}
	/* not UTF-8: refused, as a string would be */
	CHECK_INT(hb_json_write_key(&b, "bad\xff", true), HB_ERR_INVALID);
	hb_buf_free(&b);
}
