/* Unit tests of the filter language: the parser against a hand-made catalogue (every operator,
   precedence, literals, errors with line and column), then compiled filters run on a real
   SQLite database (native and External Data paths, empty values, injection attempts). */
#include <stdio.h>
#include <stdlib.h>

#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "harness.h"
#include "model/xdata.h"
#include "query/filter.h"

#define NOW 1767225600 /* 2026-01-01T00:00:00Z */

static hb_catalog *test_catalog(void)
{
	hb_catalog *c = hb_catalog_new();
	hb_catalog_add(c, "user.email", NULL, HB_TYPE_STRING, 0, 0);
	hb_catalog_add(c, "user.country", NULL, HB_TYPE_STRING, 0, 0);
	hb_catalog_add(c, "user.created_at", NULL, HB_TYPE_TIME, 0, 0);
	hb_catalog_add(c, "external.shipping.is_valid", NULL, HB_TYPE_BOOL, HB_PATH_EXTERNAL, 0);
	hb_catalog_add(c, "external.shipping.score", NULL, HB_TYPE_INT, HB_PATH_EXTERNAL, 0);
	hb_catalog_add(c, "external.ship-2.label", NULL, HB_TYPE_STRING, HB_PATH_EXTERNAL, 0);
	hb_catalog_add(c, "now", NULL, HB_TYPE_TIME, 0, 0);
	return c;
}

/* The canonical form of a parsed filter, or "ERROR: message". Static buffer. */
static const char *parsed(const char *text)
{
	static char out[2048];
	hb_catalog *cat = test_catalog();
	hb_fparse *p = NULL;
	hb_error e = {0};
	if (hb_filter_parse(cat, text, strlen(text), NOW, &p, &e)) {
		snprintf(out, sizeof out, "ERROR: %s", e.message);
	} else {
		char *d = hb_fexpr_describe(hb_fparse_root(p));
		snprintf(out, sizeof out, "%s", d);
		free(d);
	}
	hb_fparse_free(&p);
	hb_catalog_free(&cat);
	return out;
}

TEST(filter_parse_comparisons)
{
	CHECK_STR(parsed("user.country = \"US\""), "(= user.country \"US\")");
	CHECK_STR(parsed("user.country == 'US'"), "(= user.country \"US\")");
	CHECK_STR(parsed("user.country != 'US'"), "(!= user.country \"US\")");
	CHECK_STR(parsed("user.country <> 'US'"), "(!= user.country \"US\")");
	CHECK_STR(parsed("external.shipping.score < 5"), "(< external.shipping.score 5)");
	CHECK_STR(parsed("external.shipping.score <= -5"), "(<= external.shipping.score -5)");
	CHECK_STR(parsed("external.shipping.score > 5"), "(> external.shipping.score 5)");
	CHECK_STR(parsed("external.shipping.score >= 5"), "(>= external.shipping.score 5)");
	CHECK_STR(parsed("external.shipping.is_valid = false"), "(= external.shipping.is_valid false)");
	CHECK_STR(parsed("external.shipping.is_valid != TRUE"), "(!= external.shipping.is_valid true)");
	CHECK_STR(parsed("user.email contains \"@Example\""), "(contains user.email \"@Example\")");
	CHECK_STR(parsed("user.email starts with 'zoe'"), "(starts user.email \"zoe\")");
	CHECK_STR(parsed("user.email not contains 'x'"), "(not (contains user.email \"x\"))");
	CHECK_STR(parsed("user.country is empty"), "(empty user.country)");
	CHECK_STR(parsed("user.country IS NOT EMPTY"), "(not-empty user.country)");
	CHECK_STR(parsed("user.country in (\"US\", 'CA')"), "(in user.country \"US\" \"CA\")");
	CHECK_STR(parsed("user.country not in ('US')"), "(not (in user.country \"US\"))");
	CHECK_STR(parsed("external.ship-2.label = 'a\\\"b\\\\c'"), "(= external.ship-2.label \"a\\\"b\\\\c\")");
	CHECK_STR(parsed(""), "(all)");
	CHECK_STR(parsed("  \n "), "(all)");
}

TEST(filter_parse_dates)
{
	CHECK_STR(parsed("user.created_at > now - 7d"), "(> user.created_at 2025-12-25T00:00:00Z)");
	CHECK_STR(parsed("user.created_at > now-1w+2h"), "(> user.created_at 2025-12-25T02:00:00Z)");
	CHECK_STR(parsed("user.created_at >= today - 30m"), "(>= user.created_at 2025-12-31T23:30:00Z)");
	CHECK_STR(parsed("user.created_at < 2025-03-01T10:00:00+02:00"),
		  "(< user.created_at 2025-03-01T08:00:00Z)");
	CHECK_STR(parsed("user.created_at < \"2025-03-01T10:00:00Z\""),
		  "(< user.created_at 2025-03-01T10:00:00Z)");
	/* a date alone is the whole day */
	CHECK_STR(parsed("user.created_at = 2025-03-01"),
		  "(and (>= user.created_at 2025-03-01T00:00:00Z) (< user.created_at 2025-03-02T00:00:00Z))");
	CHECK_STR(parsed("user.created_at != 2025-03-01"),
		  "(or (< user.created_at 2025-03-01T00:00:00Z) (>= user.created_at 2025-03-02T00:00:00Z))");
	CHECK_STR(parsed("user.created_at <= 2025-03-01"), "(< user.created_at 2025-03-02T00:00:00Z)");
	CHECK_STR(parsed("user.created_at > 2025-03-01"), "(>= user.created_at 2025-03-02T00:00:00Z)");
	CHECK_STR(parsed("user.created_at < 2025-03-01"), "(< user.created_at 2025-03-01T00:00:00Z)");
	CHECK_STR(parsed("user.created_at in (2025-03-01)"),
		  "(and (>= user.created_at 2025-03-01T00:00:00Z) (< user.created_at 2025-03-02T00:00:00Z))");
}

TEST(filter_parse_precedence)
{
	CHECK_STR(parsed("user.country = 'A' or user.country = 'B' and external.shipping.score = 1"),
		  "(or (= user.country \"A\") (and (= user.country \"B\") (= external.shipping.score 1)))");
	CHECK_STR(parsed("(user.country = 'A' or user.country = 'B') and external.shipping.score = 1"),
		  "(and (or (= user.country \"A\") (= user.country \"B\")) (= external.shipping.score 1))");
	CHECK_STR(parsed("not user.country = 'A' and user.email is empty"),
		  "(and (not (= user.country \"A\")) (empty user.email))");
	CHECK_STR(parsed("not (user.country = 'A' and user.email is empty)"),
		  "(not (and (= user.country \"A\") (empty user.email)))");
	CHECK_STR(parsed("user.country = 'A' AND user.country = 'B' and user.country = 'C'"),
		  "(and (= user.country \"A\") (= user.country \"B\") (= user.country \"C\"))");
	CHECK_STR(parsed("not not user.country is empty"), "(not (not (empty user.country)))");
}

TEST(filter_parse_errors_have_positions)
{
	CHECK_STR(parsed("user.emial = 'x'"),
		  "ERROR: line 1, column 1: unknown path 'user.emial' (did you mean 'user.email'?)");
	CHECK_STR(parsed("user.country = 'US' and\n  external.shipping.is_valid = 'yes'"),
		  "ERROR: line 2, column 32: 'external.shipping.is_valid' is a boolean; it cannot be "
		  "compared with 'yes'");
	CHECK_STR(parsed("external.shipping.score = \"5\""),
		  "ERROR: line 1, column 27: 'external.shipping.score' is an integer; it cannot be "
		  "compared with \"5\"");
	CHECK_STR(parsed("user.country = 5"),
		  "ERROR: line 1, column 16: 'user.country' is a string; it cannot be compared with 5");
	CHECK_STR(parsed("user.created_at > 'soon'"),
		  "ERROR: line 1, column 19: 'user.created_at' is a datetime; it cannot be compared with 'soon'");
	CHECK_STR(parsed("user.country = now"),
		  "ERROR: line 1, column 16: 'user.country' is a string; it cannot be compared with now");
	CHECK_STR(parsed("external.shipping.is_valid < true"),
		  "ERROR: line 1, column 28: 'external.shipping.is_valid' is a boolean; compare it with = or !=");
	CHECK_STR(parsed("external.shipping.score contains 1"),
		  "ERROR: line 1, column 25: 'external.shipping.score' is an integer; contains applies to text only");
	CHECK_STR(parsed("user.country = US"),
		  "ERROR: line 1, column 16: expected a value (\"text\", a number, true, false, a date or now), "
		  "found 'US'; text must be quoted");
	CHECK_STR(parsed("user.country = 'US"), "ERROR: line 1, column 16: text starting here has no closing '");
	CHECK_STR(parsed("(user.country = 'US'"), "ERROR: line 1, column 21: expected ')', found the end of the filter");
	CHECK_STR(parsed("user.country = 'US')"),
		  "ERROR: line 1, column 20: expected and, or or the end of the filter, found ')'");
	CHECK_STR(parsed("user.country"),
		  "ERROR: line 1, column 13: expected an operator after 'user.country' (=, !=, <, <=, >, >=, in, "
		  "contains, starts with, is empty, is not empty), found the end of the filter");
	CHECK_STR(parsed("user.country in ()"),
		  "ERROR: line 1, column 18: expected a value after 'user.country', found ')'");
	CHECK_STR(parsed("user.country is full"), "ERROR: line 1, column 17: expected 'empty' after 'is', found 'full'");
	CHECK_STR(parsed("user.email starts 'a'"), "ERROR: line 1, column 19: expected 'with' after 'starts', found ''a''");
	CHECK_STR(parsed("and user.country = 'a'"),
		  "ERROR: line 1, column 1: expected a path such as user.country or external.group.field, found 'and'");
	CHECK_STR(parsed("now > user.created_at"),
		  "ERROR: line 1, column 1: now is not a field of the record; compare a datetime field with it, "
		  "e.g. user.created_at > now - 7d");
	CHECK_STR(parsed("user.created_at > now - 7y"),
		  "ERROR: line 1, column 25: '7y' is not a number or a duration (7d, 12h, 30m, 45s, 2w)");
	CHECK_STR(parsed("user.created_at > 2025-13-01"),
		  "ERROR: line 1, column 19: '2025-13-01' is not a date (2025-03-01) or time (2025-03-01T10:00:00Z)");
	CHECK_STR(parsed("user.country = 'é' and ü"), "ERROR: line 1, column 24: unexpected 'ü'");
	CHECK_STR(parsed("user.country ! 'x'"), "ERROR: line 1, column 14: '!' must be followed by '=' (use not for negation)");
	CHECK_STR(parsed("external.shipping.score = 99999999999999999999"),
		  "ERROR: line 1, column 27: 99999999999999999999 is too large a number");
	/* quoted source in messages is cut between characters, never inside one */
	char longlit[200];
	size_t at = (size_t)snprintf(longlit, sizeof longlit, "external.shipping.score = \"");
	for (int i = 0; i < 40; i++)
		at += (size_t)snprintf(longlit + at, sizeof longlit - at, "\xc3\xa9");
	snprintf(longlit + at, sizeof longlit - at, "\"");
	const char *m = parsed(longlit);
	CHECK(hb_text_is_utf8(m, strlen(m), NULL));
	CHECK_CONTAINS(m, "it cannot be compared with \"\xc3\xa9");
	const char bad[] = "user.country = 'a' \xff";
	CHECK_STR(parsed(bad), "ERROR: line 1, column 20: the filter is not valid UTF-8 text");
}

TEST(filter_parse_limits)
{
	/* deep nesting and long filters are refused, not a crash */
	char deep[400];
	size_t n = 0;
	for (int i = 0; i < 100; i++)
		deep[n++] = '(';
	deep[n] = '\0';
	CHECK_CONTAINS(parsed(deep), "nests too deeply");
	char *longf = hb_calloc(1, 40000);
	for (size_t i = 0; i + 30 < 20000; i += 27)
		memcpy(longf + i, "user.country = 'x' or     ", 26), longf[i + 26] = ' ';
	CHECK_CONTAINS(parsed(longf), "longer than");
	free(longf);
	/* a NUL outside text is refused; inside text it is data */
	hb_catalog *cat = test_catalog();
	hb_fparse *p = NULL;
	hb_error e = {0};
	CHECK_INT(hb_filter_parse(cat, "user.country = 'a'\0", 19, NOW, &p, &e), HB_ERR_INVALID);
	CHECK_CONTAINS(e.message, "control character 0x00");
	CHECK_INT(hb_filter_parse(cat, "user.country = 'a\0b'", 20, NOW, &p, &e), HB_OK);
	char *d = hb_fexpr_describe(hb_fparse_root(p));
	CHECK_STR(d, "(= user.country \"a\\0b\")");
	free(d);
	hb_fparse_free(&p);
	hb_catalog_free(&cat);
}

/* ---- compiled filters on a real database ---- */

static hb_store *store;
static hb_ctx ctx;

static void must(hb_err rc, const hb_error *e)
{
	if (rc)
		hb_test_failf(__FILE__, __LINE__, "setup failed: %s", e->message);
}

static int64_t create(hb_kind_id k, const char *json)
{
	hb_error e = {0};
	json_t *in = json_loads(json, 0, NULL);
	hb_row *row = NULL;
	must(hb_record_create(&ctx, k, in, &row, &e), &e);
	json_decref(in);
	int64_t id = row ? hb_row_id(row) : 0;
	hb_row_free(&row);
	return id;
}

static void xset(hb_target t, const char *dotted, int64_t record, hb_value v)
{
	hb_error e = {0};
	hb_xfield_info f;
	hb_target ft;
	must(hb_xdata_field(&ctx, dotted, &f, &ft, &e), &e);
	hb_xvalue xv = {.field_id = f.id, .record_id = record, .value = v, .set_at = hb_time_now()};
	must(store->ops->xvalue_set(store, t, &xv, &e), &e);
}

/* users 1..5 and two tickets; External Data on some of them. */
static void setup_db(void)
{
	char path[400];
	snprintf(path, sizeof path, "%s/filter.db", hb_test_tmpdir());
	hb_error e = {0};
	memset(&ctx, 0, sizeof ctx);
	must(hb_store_open(path, true, &store, &e), &e);
	ctx.store = store;
	create(HB_K_COMMUNITY, "{\"key\":\"acme\",\"name\":\"Acme\"}");
	must(hb_ctx_load(&ctx, store, "acme", &e), &e);
	ctx.actor = "test";
	create(HB_K_PROJECT, "{\"key\":\"beta\",\"name\":\"Beta\"}");
	create(HB_K_USER, "{\"email\":\"ann@example.com\",\"country\":\"US\",\"company\":\"50%_off\"}");
	create(HB_K_USER, "{\"email\":\"bob@example.com\",\"country\":\"CA\",\"company\":\"Bob's\"}");
	create(HB_K_USER, "{\"email\":\"cy@example.org\",\"country\":\"US\"}");
	create(HB_K_USER, "{\"email\":\"dee@example.com\",\"country\":\"\"}");
	create(HB_K_USER, "{\"email\":\"eve@example.com\",\"country\":\"IE\",\"first_name\":\"' or 1=1 --\"}");
	create(HB_K_PARTICIPATION, "{\"project\":\"beta\",\"user\":\"ann@example.com\"}");
	create(HB_K_PARTICIPATION, "{\"project\":\"beta\",\"user\":\"cy@example.org\"}");
	create(HB_K_XGROUP, "{\"key\":\"shipping\",\"name\":\"Shipping\",\"on\":\"users\"}");
	create(HB_K_XFIELD, "{\"group\":\"shipping\",\"key\":\"is_valid\",\"label\":\"Valid\",\"param\":\"v\",\"type\":\"boolean\"}");
	create(HB_K_XFIELD, "{\"group\":\"shipping\",\"key\":\"score\",\"label\":\"Score\",\"param\":\"s\",\"type\":\"integer\"}");
	create(HB_K_XFIELD, "{\"group\":\"shipping\",\"key\":\"carrier\",\"label\":\"Carrier\",\"param\":\"c\",\"type\":\"string\"}");
	create(HB_K_XFIELD, "{\"group\":\"shipping\",\"key\":\"checked_at\",\"label\":\"Checked\",\"param\":\"t\",\"type\":\"datetime\"}");
	create(HB_K_XGROUP, "{\"key\":\"jira\",\"name\":\"Jira\",\"on\":\"feedback\"}");
	create(HB_K_XFIELD, "{\"group\":\"jira\",\"key\":\"key\",\"label\":\"Key\",\"param\":\"key\",\"type\":\"string\"}");
	/* ann: valid, 90, UPS; bob: invalid, 40, ""; cy: invalid; dee: nothing; eve: valid, 70 */
	xset(HB_TARGET_USERS, "shipping.is_valid", 1, hb_value_bool(true));
	xset(HB_TARGET_USERS, "shipping.score", 1, hb_value_int(90));
	xset(HB_TARGET_USERS, "shipping.carrier", 1, hb_value_str("UPS"));
	xset(HB_TARGET_USERS, "shipping.checked_at", 1, hb_value_time(NOW - 3600));
	xset(HB_TARGET_USERS, "shipping.is_valid", 2, hb_value_bool(false));
	xset(HB_TARGET_USERS, "shipping.score", 2, hb_value_int(40));
	xset(HB_TARGET_USERS, "shipping.carrier", 2, hb_value_str(""));
	xset(HB_TARGET_USERS, "shipping.checked_at", 2, hb_value_time(NOW - 30 * 86400));
	xset(HB_TARGET_USERS, "shipping.is_valid", 3, hb_value_bool(false));
	xset(HB_TARGET_USERS, "shipping.is_valid", 5, hb_value_bool(true));
	xset(HB_TARGET_USERS, "shipping.score", 5, hb_value_int(70));
	create(HB_K_FEEDBACK_TYPE, "{\"project\":\"beta\",\"key\":\"bug\",\"name\":\"Bug\",\"prefix\":\"EXA\",\"statuses\":[\"New\",\"Closed\"]}");
	create(HB_K_FEEDBACK, "{\"project\":\"beta\",\"type\":\"bug\",\"title\":\"Crash\",\"submitter\":\"ann@example.com\",\"severity\":\"high\"}");
	create(HB_K_FEEDBACK, "{\"project\":\"beta\",\"type\":\"bug\",\"title\":\"Typo\",\"submitter\":\"bob@example.com\"}");
	xset(HB_TARGET_FEEDBACK, "jira.key", 2, hb_value_str("BETA-7"));
}

static void teardown_db(void)
{
	hb_store_close(&store);
}

static hb_err add_ids(void *ud, const int64_t *ids, size_t n, hb_error *e)
{
	(void)e;
	char *out = ud;
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), 1024 - strlen(out), "%s%lld", *out ? "," : "", (long long)ids[i]);
	return HB_OK;
}

/* Ids matching text ("1,3"), or "ERROR: …". Static buffer. */
static const char *match_in(hb_target t, int64_t project, const char *text, size_t batch)
{
	static char out[1024];
	out[0] = '\0';
	hb_error e = {0};
	if (hb_filter_ids(&ctx, t, project, text, batch, add_ids, out, &e))
		snprintf(out, sizeof out, "ERROR: %s", e.message);
	return out;
}

static const char *users(const char *text)
{
	return match_in(HB_TARGET_USERS, 0, text, 2);
}

TEST(filter_sql_native_and_external)
{
	setup_db();
	CHECK_STR(users(""), "1,2,3,4,5");
	CHECK_STR(users("user.country = 'US'"), "1,3");
	CHECK_STR(users("user.country != 'US'"), "2,5"); /* dee's "" is stored as no value */
	CHECK_STR(users("user.country in ('US', 'CA')"), "1,2,3");
	CHECK_STR(users("user.country < 'D'"), "2");
	CHECK_STR(users("user.email contains 'EXAMPLE.COM'"), "1,2,4,5");
	CHECK_STR(users("user.email starts with 'b'"), "2");
	CHECK_STR(users("user.email ends"), "ERROR: line 1, column 12: expected an operator after 'user.email' (=, !=, <, <=, >, >=, in, contains, starts with, is empty, is not empty), found 'ends'");
	CHECK_STR(users("user.company contains '%'"), "1");
	CHECK_STR(users("user.company contains '_'"), "1");
	CHECK_STR(users("user.company starts with '50%'"), "1");
	CHECK_STR(users("user.company contains \"'\""), "2");
	CHECK_STR(users("user.country is empty"), "4");
	CHECK_STR(users("user.company is empty"), "3,4,5");
	CHECK_STR(users("user.company is not empty"), "1,2");
	CHECK_STR(users("external.shipping.is_valid = false and user.country in (\"US\", \"CA\")"), "2,3");
	CHECK_STR(users("external.shipping.is_valid = true"), "1,5");
	CHECK_STR(users("external.shipping.is_valid != true"), "2,3");
	CHECK_STR(users("external.shipping.score >= 70"), "1,5");
	CHECK_STR(users("external.shipping.score < 80 or user.country = 'CA'"), "2,5");
	CHECK_STR(users("external.shipping.score in (40, 90)"), "1,2");
	CHECK_STR(users("external.shipping.carrier = 'UPS'"), "1");
	CHECK_STR(users("external.shipping.carrier contains 'p'"), "1");
	CHECK_STR(users("external.shipping.checked_at > 2025-12-30"), "1");
	CHECK_STR(users("external.shipping.checked_at = 2025-12-02"), "2");
	CHECK_STR(users("user.created_at < now - 7d"), "");
	CHECK_STR(users("external.shipping.checked_at < 2020-01-01"), "");
	CHECK_STR(users("user.created_at > now - 1h and user.created_at <= now"), "1,2,3,4,5");
	CHECK_STR(users("community.key = 'acme'"), "1,2,3,4,5");
	teardown_db();
}

TEST(filter_sql_empty_values)
{
	setup_db();
	/* no value matches is empty and no comparison; not is plain negation */
	CHECK_STR(users("external.shipping.score is empty"), "3,4");
	CHECK_STR(users("external.shipping.score is not empty"), "1,2,5");
	CHECK_STR(users("external.shipping.score != 90"), "2,5");
	CHECK_STR(users("not external.shipping.score = 90"), "2,3,4,5");
	CHECK_STR(users("not (external.shipping.score > 50 or external.shipping.is_valid = false)"), "4");
	CHECK_STR(users("external.shipping.carrier is empty"), "2,3,4,5"); /* "" counts as empty */
	CHECK_STR(users("external.shipping.carrier is not empty"), "1");
	CHECK_STR(users("external.shipping.is_valid is empty"), "4");
	CHECK_STR(users("user.company != 'x'"), "1,2");
	CHECK_STR(users("not user.company = 'x'"), "1,2,3,4,5");
	CHECK_STR(users("not not user.company = 'Bob''s'"), "ERROR: line 1, column 29: expected and, or or the end of the filter, found ''s''");
	teardown_db();
}

TEST(filter_sql_injection_is_plain_text)
{
	setup_db();
	CHECK_STR(users("user.country = \"' or 1=1 --\""), "");
	CHECK_STR(users("user.country = '\\' or 1=1 --'"), "");
	CHECK_STR(users("user.first_name = \"' or 1=1 --\""), "5");
	CHECK_STR(users("user.email contains \"'); DROP TABLE users; --\""), "");
	CHECK_STR(users("user.email = \"\\\\\" or user.email = '\\\"'"), "");
	CHECK_STR(users("external.shipping.carrier = \"x' OR '1'='1\""), "");
	CHECK_STR(users("user.country in ('US\" or \"1\"=\"1', \"%\")"), "");
	CHECK_STR(users("user.email starts with '%'"), "");
	/* NUL inside text: data, never a terminator */
	hb_error e = {0};
	char out[256] = "";
	CHECK_INT(hb_filter_ids(&ctx, HB_TARGET_USERS, 0, "user.email contains ''", 0, add_ids, out, &e), HB_OK);
	CHECK_STR(out, "1,2,3,4,5");
	hb_filter *f = NULL;
	static const char nul_contains[] = "user.email contains 'a\0'";
	CHECK_INT(hb_filter_compile(&ctx, HB_TARGET_USERS, 0, nul_contains, sizeof nul_contains - 1, &f, &e), HB_OK);
	out[0] = '\0';
	CHECK_INT(hb_filter_each_batch(&ctx, f, 0, add_ids, out, &e), HB_OK);
	CHECK_STR(out, "");
	hb_filter_free(&f);
	static const char nul_eq[] = "user.email = 'ann@example.com\0' or user.email starts with '\0'";
	CHECK_INT(hb_filter_compile(&ctx, HB_TARGET_USERS, 0, nul_eq, sizeof nul_eq - 1, &f, &e), HB_OK);
	CHECK_INT(hb_filter_each_batch(&ctx, f, 0, add_ids, out, &e), HB_OK);
	CHECK_STR(out, "");
	hb_filter_free(&f);
	/* the tables are all still there */
	CHECK_STR(users("user.email is not empty"), "1,2,3,4,5");
	teardown_db();
}

TEST(filter_sql_scope_and_feedback)
{
	setup_db();
	int64_t beta = 1;
	CHECK_STR(match_in(HB_TARGET_USERS, beta, "", 0), "1,3");
	CHECK_STR(match_in(HB_TARGET_USERS, beta, "external.shipping.is_valid = false", 0), "3");
	CHECK_STR(match_in(HB_TARGET_USERS, beta, "project.key = 'beta'", 0), "1,3");
	CHECK_STR(match_in(HB_TARGET_USERS, 0, "project.key = 'beta'", 0),
		  "ERROR: line 1, column 1: 'project.key' needs a project: list the users of one project (--project P)");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "feedback.severity = 'high'", 0), "1");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "feedback.severity is empty", 0), "2");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "feedback.type = 'bug' and feedback.project = 'beta'", 0), "1,2");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "feedback.submitter = 'bob@example.com'", 0), "2");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "submitter.country = 'US'", 0), "1");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "submitter.external.shipping.is_valid = false", 0), "2");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "external.jira.key starts with 'BETA-'", 0), "2");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "external.jira.key is empty", 0), "1");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "project.name = 'Beta'", 0), "1,2");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, beta, "", 0), "1,2");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "feedback.number = 'EXA-0002'", 0), "2");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "feedback.number in ('exa-1', 'NOPE-9', 'EXA-0099')", 0), "1");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "feedback.number != 'EXA-0002'", 0), "1");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "feedback.number contains '1'", 0),
		  "ERROR: line 1, column 1: feedback.number can be compared only with =, != or in");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "user.country = 'US'", 0),
		  "ERROR: line 1, column 1: unknown path 'user.country' (see: hookbridge tags)");
	CHECK_STR(match_in(HB_TARGET_FEEDBACK, 0, "feedback.severty = 'high'", 0),
		  "ERROR: line 1, column 1: unknown path 'feedback.severty' (did you mean 'feedback.severity'?)");
	teardown_db();
}

typedef struct groups {
	char text[512];
} groups;

static hb_err add_group(void *ud, const hb_qrow *r, hb_error *e)
{
	(void)e;
	groups *g = ud;
	size_t n = strlen(g->text);
	snprintf(g->text + n, sizeof g->text - n, "%s", n ? " " : "");
	for (size_t i = 0; i < r->nkeys; i++) {
		n = strlen(g->text);
		const hb_value *v = &r->keys[i];
		char t[HB_TIME_STR_MAX];
		if (v->type == HB_TYPE_NULL)
			snprintf(g->text + n, sizeof g->text - n, "-");
		else if (v->type == HB_TYPE_BOOL)
			snprintf(g->text + n, sizeof g->text - n, "%s", v->u.b ? "true" : "false");
		else if (v->type == HB_TYPE_INT)
			snprintf(g->text + n, sizeof g->text - n, "%lld", (long long)v->u.i);
		else if (v->type == HB_TYPE_TIME)
			snprintf(g->text + n, sizeof g->text - n, "%.10s", hb_time_format(v->u.i, t));
		else
			snprintf(g->text + n, sizeof g->text - n, "'%.*s'", (int)v->u.s.len, v->u.s.ptr);
		n = strlen(g->text);
		snprintf(g->text + n, sizeof g->text - n, "/");
	}
	n = strlen(g->text);
	snprintf(g->text + n, sizeof g->text - n, "%lld", (long long)r->count);
	return HB_OK;
}

TEST(filter_sql_groups)
{
	setup_db();
	hb_error e = {0};
	hb_filter *f = NULL;
	CHECK_INT(hb_filter_compile(&ctx, HB_TARGET_USERS, 0, "", 0, &f, &e), HB_OK);
	hb_qfield valid, country, checked;
	CHECK_INT(hb_filter_field(f, "external.shipping.is_valid", &valid, &e), HB_OK);
	CHECK_INT(hb_filter_field(f, "user.country", &country, &e), HB_OK);
	CHECK_INT(hb_filter_field(f, "external.shipping.checked_at", &checked, &e), HB_OK);
	CHECK_INT(hb_filter_field(f, "user.contry", &country, &e), HB_ERR_INVALID);
	CHECK_CONTAINS(e.message, "did you mean 'user.country'");
	hb_query q = *hb_filter_query(f);
	q.group[0] = valid;
	q.ngroup = 1;
	groups g = {""};
	CHECK_INT(store->ops->query(store, &q, add_group, &g, &e), HB_OK);
	CHECK_STR(g.text, "-/1 false/2 true/2");
	q.group[1] = country;
	q.ngroup = 2;
	g.text[0] = '\0';
	CHECK_INT(store->ops->query(store, &q, add_group, &g, &e), HB_OK);
	CHECK_STR(g.text, "-/-/1 false/'CA'/1 false/'US'/1 true/'IE'/1 true/'US'/1");
	q.ngroup = 1;
	q.bucket = HB_QB_MONTH;
	q.bucket_field = checked;
	g.text[0] = '\0';
	CHECK_INT(store->ops->query(store, &q, add_group, &g, &e), HB_OK);
	CHECK_STR(g.text, "-/-/1 -/false/1 -/true/1 2025-12-01/false/1 2025-12-01/true/1");
	q.bucket = HB_QB_WEEK; /* 2025-12-02 is a Tuesday, 2025-12-31 a Wednesday */
	q.ngroup = 0;
	g.text[0] = '\0';
	CHECK_INT(store->ops->query(store, &q, add_group, &g, &e), HB_OK);
	CHECK_STR(g.text, "-/3 2025-12-01/1 2025-12-29/1");
	q.bucket = HB_QB_DAY;
	g.text[0] = '\0';
	CHECK_INT(store->ops->query(store, &q, add_group, &g, &e), HB_OK);
	CHECK_STR(g.text, "-/3 2025-12-02/1 2025-12-31/1");
	hb_filter_free(&f);
	/* grouped and filtered */
	CHECK_INT(hb_filter_compile(&ctx, HB_TARGET_USERS, 0, "user.country in ('US','CA')", 27, &f, &e), HB_OK);
	CHECK_INT(hb_filter_field(f, "external.shipping.is_valid", &valid, &e), HB_OK);
	q = *hb_filter_query(f);
	q.group[0] = valid;
	q.ngroup = 1;
	g.text[0] = '\0';
	CHECK_INT(store->ops->query(store, &q, add_group, &g, &e), HB_OK);
	CHECK_STR(g.text, "false/2 true/1");
	hb_filter_free(&f);
	teardown_db();
}
