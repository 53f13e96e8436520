/* Unit tests of retry schedules: durations, lists, jitter bounds, Retry-After, what retries. */
#include "deliver/request.h"
#include "deliver/run.h"
#include "deliver/schedule.h"
#include "harness.h"

TEST(schedule_durations)
{
	int64_t ms;
	hb_error e = {0};
	CHECK_INT(hb_duration_parse("250ms", &ms, &e), HB_OK);
	CHECK_INT(ms, 250);
	CHECK_INT(hb_duration_parse("5s", &ms, &e), HB_OK);
	CHECK_INT(ms, 5000);
	CHECK_INT(hb_duration_parse(" 5m ", &ms, &e), HB_OK);
	CHECK_INT(ms, 300000);
	CHECK_INT(hb_duration_parse("2h", &ms, &e), HB_OK);
	CHECK_INT(ms, 7200000);
	CHECK_INT(hb_duration_parse("1d", &ms, &e), HB_OK);
	CHECK_INT(ms, 86400000);
	static const char *const bad[] = {"5", "s", "5x", "-5s", "5 s s", "1.5s", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_INT(hb_duration_parse(bad[i], &ms, &e), HB_ERR_INVALID);
		CHECK_CONTAINS(e.message, "not a duration");
	}
	CHECK_INT(hb_duration_parse("8d", &ms, &e), HB_ERR_INVALID);
	CHECK_CONTAINS(e.message, "longer than a week");
}

TEST(schedule_lists)
{
	hb_schedule s;
	hb_error e = {0};
	CHECK_INT(hb_schedule_parse("1s,5s, 30s", &s, &e), HB_OK);
	CHECK_INT(s.n, 3);
	CHECK_INT(s.delay_ms[2], 30000);
	CHECK_INT(hb_schedule_parse("", &s, &e), HB_OK);
	CHECK_INT(s.n, 0);
	CHECK_INT(hb_schedule_parse("1s,soon", &s, &e), HB_ERR_INVALID);
	CHECK_CONTAINS(e.message, "retry delay 2: 'soon' is not a duration");
	json_t *arr = json_pack("[ss]", "5s", "5m");
	CHECK_INT(hb_schedule_from_json(arr, &s, &e), HB_OK);
	CHECK_INT(s.delay_ms[1], 300000);
	json_decref(arr);
	arr = json_pack("[si]", "5s", 5);
	CHECK_INT(hb_schedule_from_json(arr, &s, &e), HB_ERR_INVALID);
	CHECK_CONTAINS(e.message, "retry delay 2 must be a string");
	json_decref(arr);
	hb_schedule_default(&s);
	CHECK_INT(s.n, 9);
	CHECK_INT(s.delay_ms[0], 5000);
	CHECK_INT(s.delay_ms[8], 24LL * 3600 * 1000);
}

TEST(schedule_jitter_and_retry_after)
{
	hb_schedule s;
	hb_error e = {0};
	CHECK_INT(hb_schedule_parse("10s,1m", &s, &e), HB_OK);
	CHECK_INT(hb_schedule_next(&s, 1, 0.0, -1), 8000);   /* -20 % */
	CHECK_INT(hb_schedule_next(&s, 1, 0.5, -1), 10000);  /* on time */
	CHECK_INT(hb_schedule_next(&s, 1, 0.999999, -1) / 100, 119); /* just under +20 % */
	CHECK_INT(hb_schedule_next(&s, 2, 0.5, -1), 60000);
	CHECK_INT(hb_schedule_next(&s, 3, 0.5, -1), -1);     /* used up: failed */
	CHECK_INT(hb_schedule_next(&s, 1, 0.5, 30000), 30000); /* Retry-After asks for longer */
	CHECK_INT(hb_schedule_next(&s, 1, 0.5, 1000), 10000);  /* …or shorter: the schedule wins */
	CHECK_INT(hb_schedule_next(&s, 1, 0.5, 999999999999), HB_RETRY_AFTER_MAX_MS);
}

TEST(schedule_retry_after_header)
{
	int64_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
	CHECK_INT(hb_retry_after_parse("120", now), 120000);
	CHECK_INT(hb_retry_after_parse(" 0 ", now), 0);
	CHECK_INT(hb_retry_after_parse("Sun, 06 Nov 1994 08:51:37 GMT", now), 120000);
	CHECK_INT(hb_retry_after_parse("Sun, 06 Nov 1994 08:00:00 GMT", now), 0); /* past */
	CHECK_INT(hb_retry_after_parse("99999999999", now), HB_RETRY_AFTER_MAX_MS);
	CHECK_INT(hb_retry_after_parse("soon", now), -1);
	CHECK_INT(hb_retry_after_parse("12s", now), -1);
	CHECK_INT(hb_retry_after_parse("Sun, 06 Nov 1994 08:51:37 PST", now), -1);
}

TEST(schedule_what_retries)
{
	CHECK(hb_retryable_status(0));
	CHECK(hb_retryable_status(408));
	CHECK(hb_retryable_status(429));
	CHECK(hb_retryable_status(500));
	CHECK(hb_retryable_status(503));
	CHECK(!hb_retryable_status(400));
	CHECK(!hb_retryable_status(404));
	CHECK(!hb_retryable_status(301));
}

TEST(request_credential_headers)
{
	CHECK(hb_header_is_credential("Authorization", 13));
	CHECK(hb_header_is_credential("x-api-key", 9));
	CHECK(hb_header_is_credential("X-Shopify-Access-Token", 22));
	CHECK(hb_header_is_credential("Cookie", 6));
	CHECK(hb_header_is_credential("SET-COOKIE", 10));
	CHECK(hb_header_is_credential("Proxy-Authorization", 19));
	CHECK(!hb_header_is_credential("Cookies-Note", 12)); /* "cookie" only as the whole name */
	CHECK(!hb_header_is_credential("Content-Type", 12));
	CHECK(!hb_header_is_credential("webhook-signature", 17));
	CHECK(!hb_header_is_credential("Idempotency-Key", 15));
	/* each word anywhere in the name, in any case; a word cut short is not one */
	CHECK(hb_header_is_credential("X-Client-SECRET", 15));
	CHECK(hb_header_is_credential("db-password-hint", 16));
	CHECK(hb_header_is_credential("x-authz", 7));
	CHECK(hb_header_is_credential("tokens", 6));
	CHECK(hb_header_is_credential("X-Kkey", 6));
	CHECK(!hb_header_is_credential("X-Ke", 4));
	CHECK(!hb_header_is_credential("X-Tok-En", 8));
	CHECK(!hb_header_is_credential("Server", 6));
	CHECK(!hb_header_is_credential("Date", 4));
	CHECK(!hb_header_is_credential("Content-Length", 14));
}

/* The Idempotency-Key of a delivery: what snprintf("hbd_%s_%lld") gives, cut the same way. */
TEST(delivery_key_is_token_and_id)
{
	static const int64_t ids[] = {0, 7, 10, 123456789, INT64_MAX};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		char got[64], want[64];
		hb_delivery_key("r5Tk", ids[i], got, sizeof got);
		snprintf(want, sizeof want, "hbd_%s_%lld", "r5Tk", (long long)ids[i]);
		CHECK_STR(got, want);
		for (size_t n = 1; n < 12; n++) {
			hb_delivery_key("r5Tk", ids[i], got, n);
			snprintf(want, n, "hbd_%s_%lld", "r5Tk", (long long)ids[i]);
			CHECK_STR(got, want);
		}
	}
}
