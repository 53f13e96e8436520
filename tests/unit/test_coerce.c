/* Unit tests of src/engine/coerce.c: every rule of SPEC §4, with exact results and messages. */
#include <stdio.h>
#include <stdlib.h>

#include "core/timeutil.h"
#include "engine/answer.h"
#include "engine/coerce.h"
#include "harness.h"

/*
 * Coerce the JSON text `json` (parsed as an answer body, so big integers behave as in capture)
 * to type for field "shipping.f", and describe the outcome: "true", "42", a UTC time, "s:TEXT"
 * for strings, "(clear)", or the error message. Static storage: valid until the next call.
 */
static const char *coerced(const char *json, hb_type type)
{
	static char out[HB_ERROR_MSG_MAX + 64];
	json_t *v = NULL;
	hb_error e;
	hb_error_clear(&e);
	if (hb_answer_parse_body(json, strlen(json), "application/json", &v, &e) != HB_OK || !v) {
		snprintf(out, sizeof out, "(bad test input: %s)", e.message);
		return out;
	}
	hb_coerced c;
	hb_err rc = hb_coerce(v, type, "shipping.f", &c, &e);
	json_decref(v);
	if (rc != HB_OK) {
		if (rc != HB_ERR_COERCE || strcmp(e.field, "shipping.f") != 0 || c.owned)
			snprintf(out, sizeof out, "(bad failure %d)", rc);
		else
			snprintf(out, sizeof out, "%s", e.message);
		return out;
	}
	char t[HB_TIME_STR_MAX];
	if (c.clear)
		snprintf(out, sizeof out, "(clear)");
	else if (c.value.type != type)
		snprintf(out, sizeof out, "(wrong type %d)", c.value.type);
	else if (type == HB_TYPE_BOOL)
		snprintf(out, sizeof out, "%s", c.value.u.b ? "true" : "false");
	else if (type == HB_TYPE_INT)
		snprintf(out, sizeof out, "%lld", (long long)c.value.u.i);
	else if (type == HB_TYPE_TIME)
		snprintf(out, sizeof out, "%s", hb_time_format(c.value.u.i, t));
	else if (c.value.u.s.ptr != c.owned)
		snprintf(out, sizeof out, "(string not owned)");
	else
		snprintf(out, sizeof out, "s:%.*s", (int)c.value.u.s.len, c.value.u.s.ptr);
	hb_coerced_clear(&c);
	return out;
}

#define B(json, expected) CHECK_STR(coerced(json, HB_TYPE_BOOL), expected)
#define I(json, expected) CHECK_STR(coerced(json, HB_TYPE_INT), expected)
#define T(json, expected) CHECK_STR(coerced(json, HB_TYPE_TIME), expected)
#define S(json, expected) CHECK_STR(coerced(json, HB_TYPE_STRING), expected)

#define BOOL_WHY "as a boolean (expected true/false, yes/no or 1/0)"
#define INT_WHOLE "as an integer (expected a whole number)"
#define INT_RANGE "as an integer (out of the 64-bit integer range)"
#define INT_FRACTION "as an integer (it has a fraction)"
#define TIME_WHY                                                                                   \
	"as a datetime (expected an RFC 3339 date-time such as 2026-11-28T10:00:00Z, or Unix "     \
	"seconds)"
#define TIME_SECONDS                                                                               \
	"as a datetime (Unix seconds outside the years 1 to 9999; milliseconds are not accepted)"

TEST(coerce_boolean)
{
	B("true", "true");
	B("false", "false");
	B("\"TRUE\"", "true");
	B("\"yes\"", "true");
	B("\"Yes\"", "true");
	B("\"no\"", "false");
	B("\"False\"", "false");
	B("\" no \"", "false");
	B("1", "true");
	B("0", "false");
	B("1.0", "true");
	B("0.0", "false");
	B("\"1\"", "true");
	B("\"0\"", "false");
	B("2", "field shipping.f: cannot store 2 " BOOL_WHY);
	B("-1", "field shipping.f: cannot store -1 " BOOL_WHY);
	B("0.5", "field shipping.f: cannot store 0.5 " BOOL_WHY);
	B("\"maybe\"", "field shipping.f: cannot store \"maybe\" " BOOL_WHY);
	B("\"\"", "field shipping.f: cannot store \"\" " BOOL_WHY);
	B("\"on\"", "field shipping.f: cannot store \"on\" " BOOL_WHY);
	B("[true]", "field shipping.f: cannot store [true] " BOOL_WHY);
	B("{\"v\":true}", "field shipping.f: cannot store {\"v\":true} " BOOL_WHY);
	B("null", "(clear)");
}

TEST(coerce_integer)
{
	I("42", "42");
	I("-7", "-7");
	I("9223372036854775807", "9223372036854775807");
	I("-9223372036854775808", "-9223372036854775808");
	I("9223372036854775808",
	  "field shipping.f: cannot store \"9223372036854775808\" " INT_RANGE);
	I("-9223372036854775809",
	  "field shipping.f: cannot store \"-9223372036854775809\" " INT_RANGE);
	I("\"42\"", "42");
	I("\"-7\"", "-7");
	I("\" 42\\n\"", "42");
	I("\"+3\"", "3");
	I("\"4.0\"", "4");
	I("\"-12.000\"", "-12");
	I("\"9223372036854775807\"", "9223372036854775807");
	I("\"9223372036854775808\"",
	  "field shipping.f: cannot store \"9223372036854775808\" " INT_RANGE);
	I("\"9223372036854775808.0\"",
	  "field shipping.f: cannot store \"9223372036854775808.0\" " INT_RANGE);
	I("\"4.5\"", "field shipping.f: cannot store \"4.5\" " INT_FRACTION);
	I("\"\"", "field shipping.f: cannot store \"\" " INT_WHOLE);
	I("\"  \"", "field shipping.f: cannot store \"  \" " INT_WHOLE);
	I("\"4.\"", "field shipping.f: cannot store \"4.\" " INT_WHOLE);
	I("\"1e3\"", "field shipping.f: cannot store \"1e3\" " INT_WHOLE);
	I("\"0x10\"", "field shipping.f: cannot store \"0x10\" " INT_WHOLE);
	I("\"12 apples\"", "field shipping.f: cannot store \"12 apples\" " INT_WHOLE);
	I("4.0", "4");
	I("-3.0", "-3");
	I("1e3", "1000");
	I("4.5", "field shipping.f: cannot store 4.5 " INT_FRACTION);
	I("9.3e18", "field shipping.f: cannot store 9.3e+18 " INT_RANGE);
	I("9223372036854775808.0",
	  "field shipping.f: cannot store 9.223372036854776e+18 " INT_RANGE);
	I("-9223372036854775808.0", "-9223372036854775808");
	I("true", "field shipping.f: cannot store true " INT_WHOLE);
	I("[1]", "field shipping.f: cannot store [1] " INT_WHOLE);
	I("null", "(clear)");
}

TEST(coerce_datetime)
{
	T("\"2026-11-28T10:00:00+02:00\"", "2026-11-28T08:00:00Z");
	T("\"2026-11-28T10:00:00Z\"", "2026-11-28T10:00:00Z");
	T("\"2026-11-28T10:00:00.123-05:30\"", "2026-11-28T15:30:00Z");
	T("\"2026-11-28\"", "2026-11-28T00:00:00Z");
	T("\" 2026-11-28 \"", "2026-11-28T00:00:00Z");
	T("1764324000", "2025-11-28T10:00:00Z");
	T("1764324000.0", "2025-11-28T10:00:00Z");
	T("1764324000.9", "2025-11-28T10:00:00Z");
	T("0", "1970-01-01T00:00:00Z");
	T("-1", "1969-12-31T23:59:59Z");
	T("253402300799", "9999-12-31T23:59:59Z");
	T("-62135596800", "0001-01-01T00:00:00Z");
	T("\"yesterday\"", "field shipping.f: cannot store \"yesterday\" " TIME_WHY);
	T("\"2026-02-30\"", "field shipping.f: cannot store \"2026-02-30\" " TIME_WHY);
	T("\"2026-11-28T10:00:00\"",
	  "field shipping.f: cannot store \"2026-11-28T10:00:00\" " TIME_WHY);
	T("\"1764324000\"", "field shipping.f: cannot store \"1764324000\" " TIME_WHY);
	T("\"\"", "field shipping.f: cannot store \"\" " TIME_WHY);
	T("true", "field shipping.f: cannot store true " TIME_WHY);
	T("{\"at\":1}", "field shipping.f: cannot store {\"at\":1} " TIME_WHY);
	T("1764324000000", "field shipping.f: cannot store 1764324000000 " TIME_SECONDS);
	T("253402300800", "field shipping.f: cannot store 253402300800 " TIME_SECONDS);
	T("-62135596801", "field shipping.f: cannot store -62135596801 " TIME_SECONDS);
	T("1e300", "field shipping.f: cannot store 1e+300 " TIME_SECONDS);
	T("\"0000-06-01\"", "field shipping.f: cannot store \"0000-06-01\" as a datetime (outside "
			    "the years 1 to 9999)");
	T("\"0001-01-01T00:00:00+01:00\"",
	  "field shipping.f: cannot store \"0001-01-01T00:00:00+01:00\" as a datetime (outside "
	  "the years 1 to 9999)");
	T("\"9999-12-31T23:59:59Z\"", "9999-12-31T23:59:59Z");
	T("null", "(clear)");
}

TEST(coerce_string)
{
	S("\"as it is \"", "s:as it is ");
	S("\"\"", "s:");
	S("\"caf\\u00e9 \\ud83d\\ude00\"", "s:caf\xc3\xa9 \xf0\x9f\x98\x80");
	S("42", "s:42");
	S("-9223372036854775808", "s:-9223372036854775808");
	S("9223372036854775808", "s:9223372036854775808"); /* the exact digits survive */
	S("1.5", "s:1.5");
	S("0.1", "s:0.1");
	S("2.0", "s:2.0");
	S("1e21", "s:1e+21");
	S("-0.0", "s:-0.0");
	S("true", "s:true");
	S("false", "s:false");
	S("{ \"b\" : 1, \"a\" : [ 1.5, \"x\\n\", null, {} ] }",
	  "s:{\"b\":1,\"a\":[1.5,\"x\\n\",null,{}]}");
	S("[]", "s:[]");
	S("{\"z\":0.1,\"y\":\"\\u0000\\u001f\\\"\\\\/\"}",
	  "s:{\"z\":0.1,\"y\":\"\\u0000\\u001f\\\"\\\\/\"}");
	S("\"a\\u0000b\"",
	  "field shipping.f: cannot store \"a\\u0000b\" as a string (it contains a "
	  "NUL character)");
	S("null", "(clear)");
}

TEST(coerce_string_limits_and_bad_utf8)
{
	hb_error e;
	hb_coerced c;
	json_t *bad = json_stringn_nocheck("caf\xe9", 4);
	CHECK_INT(hb_coerce(bad, HB_TYPE_STRING, "shipping.name", &c, &e), HB_ERR_COERCE);
	CHECK_STR(e.message, "field shipping.name: cannot store \"caf\xef\xbf\xbd\" as a string "
			     "(not valid UTF-8 at byte 4)");
	CHECK_STR(e.field, "shipping.name");
	CHECK(c.owned == NULL && !c.clear);
	/* The same bytes are fine for a type that does not keep text. */
	CHECK_INT(hb_coerce(bad, HB_TYPE_BOOL, "shipping.name", &c, &e), HB_ERR_COERCE);
	CHECK_STR(e.message, "field shipping.name: cannot store \"caf\xef\xbf\xbd\" " BOOL_WHY);
	json_t *arr = json_pack("[O]", bad);
	CHECK_INT(hb_coerce(arr, HB_TYPE_STRING, "shipping.name", &c, &e), HB_ERR_COERCE);
	CHECK_STR(e.message, "field shipping.name: cannot store [\"caf\xef\xbf\xbd\"] as a string "
			     "(it holds text that is not valid UTF-8)");
	json_decref(arr);

	char *big = malloc(HB_COERCE_STRING_MAX + 2);
	CHECK(big);
	memset(big, 'x', HB_COERCE_STRING_MAX + 1);
	json_t *s = json_stringn(big, HB_COERCE_STRING_MAX);
	CHECK_INT(hb_coerce(s, HB_TYPE_STRING, "f", &c, &e), HB_OK);
	CHECK_INT(c.value.u.s.len, HB_COERCE_STRING_MAX);
	hb_coerced_clear(&c);
	CHECK(c.owned == NULL);
	json_decref(s);
	s = json_stringn(big, HB_COERCE_STRING_MAX + 1);
	CHECK_INT(hb_coerce(s, HB_TYPE_STRING, "f", &c, &e), HB_ERR_COERCE);
	CHECK_STR(e.message, "field f: cannot store \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			     "\xe2\x80\xa6\" as a string (longer than the 65536-byte limit)");
	json_decref(s);
	/* Compact JSON text past the limit. */
	s = json_pack("{s:s#}", "k", big, (int)(HB_COERCE_STRING_MAX - 4));
	CHECK_INT(hb_coerce(s, HB_TYPE_STRING, "f", &c, &e), HB_ERR_COERCE);
	CHECK_STR(e.message, "field f: cannot store {\"k\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			     "\xe2\x80\xa6 as a string (its JSON text is longer than the "
			     "65536-byte limit)");
	json_decref(s);
	free(big);
	json_decref(bad);
}

TEST(coerce_messages_cut_values_short)
{
	I("\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
	  "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
	  "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
	  "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"",
	  "field shipping.f: cannot store "
	  "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	  "\xe2\x80\xa6\" " INT_WHOLE);
	B("[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]",
	  "field shipping.f: cannot store "
	  "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,\xe2\x80\xa6 " BOOL_WHY);
	/* Exactly 40 characters of JSON text: shown whole. */
	B("\"12345678901234567890123456789012345678\"",
	  "field shipping.f: cannot store \"12345678901234567890123456789012345678\" " BOOL_WHY);
	B("\"line\\nbreak\"", "field shipping.f: cannot store \"line\\nbreak\" " BOOL_WHY);
}

TEST(coerce_null_clears_missing_is_callers)
{
	hb_coerced c;
	hb_error e;
	static const hb_type types[] = {HB_TYPE_BOOL, HB_TYPE_INT, HB_TYPE_TIME, HB_TYPE_STRING};
	for (size_t i = 0; i < 4; i++) {
		CHECK_INT(hb_coerce(json_null(), types[i], "f", &c, &e), HB_OK);
		CHECK(c.clear);
		CHECK_INT(c.value.type, HB_TYPE_NULL);
		hb_coerced_clear(&c);
	}
	/* Missing (no value at all) is never coerced: capture leaves the stored value alone. */
	CHECK_INT(hb_coerce(NULL, HB_TYPE_INT, "f", &c, &e), HB_ERR_INTERNAL);
	CHECK_INT(hb_coerce(json_true(), HB_TYPE_NULL, "f", &c, &e), HB_ERR_INTERNAL);
	CHECK_STR(e.message, "field f: cannot capture into a field of type empty");
}

TEST(coerce_json_text_is_compact_and_ordered)
{
	json_t *v =
	    json_pack("{s:i,s:[f,s,n],s:{}}", "zeta", 1, "alpha", 0.25, "\xe2\x82\xac", "mid");
	hb_coerced c;
	hb_error e = {0};
	CHECK_INT(hb_coerce(v, HB_TYPE_STRING, "f", &c, &e), HB_OK);
	CHECK_STR(c.value.u.s.ptr, "{\"zeta\":1,\"alpha\":[0.25,\"\xe2\x82\xac\",null],\"mid\":{}}");
	hb_coerced_clear(&c);
	json_decref(v);
}
