/* Unit tests of src/engine/param.c and answer.c: parameter syntax, lookups, answer bodies. */
#include <stdlib.h>

#include "engine/answer.h"
#include "engine/param.h"
#include "harness.h"

/* The message hb_param_compile gives for text ("" when it compiles). */
static const char *compile_error(const char *text)
{
	static hb_error e;
	hb_param *p = NULL;
	hb_error_clear(&e);
	hb_err rc = hb_param_compile(text, &p, &e);
	if (rc == HB_OK) {
		hb_param_free(&p);
		return "";
	}
	if (p || rc != HB_ERR_INVALID)
		return "(bad return)";
	return e.message;
}

static json_t *body_of(const char *json)
{
	json_error_t err;
	return json_loads(json, JSON_DECODE_ANY, &err);
}

/* The JSON text of what param finds in answer a ("(missing)" when nothing); caller frees. */
static char *find_text(const char *param, const hb_answer *a)
{
	hb_param *p = NULL;
	hb_error e;
	if (hb_param_compile(param, &p, &e) != HB_OK)
		return strdup(e.message);
	json_t *v = hb_param_find(p, a);
	hb_param_free(&p);
	if (!v)
		return strdup("(missing)");
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	return s;
}

#define CHECK_FIND(param, answer, expected)                                                        \
	do {                                                                                       \
		char *got_ = find_text(param, answer);                                             \
		int ok_ = strcmp(got_, expected) == 0;                                             \
		if (!ok_)                                                                          \
			hb_test_failf(__FILE__, __LINE__,                                          \
				      "find %s\n  got:      [%s]\n  expected: [%s]", param, got_,  \
				      expected);                                                   \
		free(got_);                                                                        \
		if (!ok_)                                                                          \
			return;                                                                    \
	} while (0)

static const char ANSWER[] =
    "{\"validation_results\":{\"is_valid\":false,\"reasons\":[\"zip\"]},"
    "\"results\":[{\"name\":\"first\"},{\"name\":\"second\",\"tags\":[[1,2],[3]]}],"
    "\"x.y\":{\"b\":\"dotted\"},\"a/b\":1,\"m~n\":2,\"\":\"empty key\",\"0\":\"zero key\","
    "\"gone\":null,\"say \\\"hi\\\"\":\"quoted\"}";

TEST(param_dotted_paths_and_indexes)
{
	static const hb_header headers[] = {{"Content-Type", "application/json"},
					    {"X-Request-Id", "abc"},
					    {"x-request-id", "second"}};
	hb_answer a = {.status = 201, .headers = headers, .nheaders = 3, .body = body_of(ANSWER)};
	CHECK(a.body);
	CHECK_FIND("validation_results.is_valid", &a, "false");
	CHECK_FIND("validation_results.reasons[0]", &a, "\"zip\"");
	CHECK_FIND("results[0].name", &a, "\"first\"");
	CHECK_FIND("results[1].name", &a, "\"second\"");
	CHECK_FIND("results[1].tags[0][1]", &a, "2");
	CHECK_FIND("results[1].tags", &a, "[[1,2],[3]]");
	CHECK_FIND("results[2].name", &a, "(missing)");
	CHECK_FIND("results.name", &a, "(missing)"); /* a key does not match an array */
	CHECK_FIND("validation_results[0]", &a,
		   "(missing)"); /* an index does not match an object */
	CHECK_FIND("nothing.here", &a, "(missing)");
	CHECK_FIND("validation_results.is_valid.deeper", &a, "(missing)");
	CHECK_FIND("[\"x.y\"].b", &a, "\"dotted\"");
	CHECK_FIND("[\"say \\\"hi\\\"\"]", &a, "\"quoted\"");
	CHECK_FIND("[\"\"]", &a, "\"empty key\"");
	CHECK_FIND("0", &a, "\"zero key\"");
	CHECK_FIND("gone", &a, "null"); /* present, and null: clears */
	CHECK_FIND("@status", &a, "201");
	CHECK_FIND("@STATUS", &a, "201");
	CHECK_FIND("@header.content-type", &a, "\"application/json\"");
	CHECK_FIND("@header.X-REQUEST-ID", &a, "\"abc\""); /* first occurrence */
	CHECK_FIND("@header.X-Missing", &a, "(missing)");
	CHECK_FIND("@body", &a,
		   "{\"validation_results\":{\"is_valid\":false,\"reasons\":[\"zip\"]},"
		   "\"results\":[{\"name\":\"first\"},{\"name\":\"second\",\"tags\":"
		   "[[1,2],[3]]}],\"x.y\":{\"b\":\"dotted\"},\"a/b\":1,\"m~n\":2,\"\":"
		   "\"empty key\",\"0\":\"zero key\",\"gone\":null,\"say \\\"hi\\\"\":"
		   "\"quoted\"}");
	json_decref(a.body);
}

TEST(param_json_pointer)
{
	hb_answer a = {.status = 200, .body = body_of(ANSWER)};
	CHECK(a.body);
	CHECK_FIND("/results/0/name", &a, "\"first\"");
	CHECK_FIND("/results/1/tags/1/0", &a, "3");
	CHECK_FIND("/validation_results/is_valid", &a, "false");
	CHECK_FIND("/a~1b", &a, "1");
	CHECK_FIND("/m~0n", &a, "2");
	CHECK_FIND("/x.y/b", &a, "\"dotted\"");
	CHECK_FIND("/", &a, "\"empty key\"");
	CHECK_FIND("/0", &a, "\"zero key\"");		 /* on an object a token is a key */
	CHECK_FIND("/results/01/name", &a, "(missing)"); /* not a canonical index */
	CHECK_FIND("/results/-", &a, "(missing)");
	CHECK_FIND("/results/9/name", &a, "(missing)");
	CHECK_FIND("/gone", &a, "null");
	json_decref(a.body);

	hb_answer top = {.status = 200, .body = body_of("[10,20]")};
	CHECK_FIND("/1", &top, "20");
	CHECK_FIND("[0]", &top, "10");
	json_decref(top.body);

	hb_answer none = {.status = 204, .body = NULL};
	CHECK_FIND("results[0].name", &none, "(missing)");
	CHECK_FIND("/results", &none, "(missing)");
	CHECK_FIND("@body", &none, "(missing)");
	CHECK_FIND("@status", &none, "204");
}

TEST(param_header_bytes_kept_as_received)
{
	static const hb_header headers[] = {{"X-Raw", "caf\xe9"}};
	hb_answer a = {.status = 200, .headers = headers, .nheaders = 1};
	hb_param *p = NULL;
	hb_error e;
	CHECK_INT(hb_param_compile("@header.X-Raw", &p, &e), HB_OK);
	json_t *v = hb_param_find(p, &a);
	CHECK(v && json_is_string(v));
	CHECK_INT(json_string_length(v), 4);
	CHECK(memcmp(json_string_value(v), "caf\xe9", 4) == 0);
	CHECK_STR(hb_param_text(p), "@header.X-Raw");
	json_decref(v);
	hb_param_free(&p);
	CHECK(p == NULL);
}

TEST(param_errors_give_column_and_reason)
{
	CHECK_STR(compile_error("results[x].name"),
		  "parameter 'results[x].name', column 9: array index must be a number");
	CHECK_STR(
	    compile_error(""),
	    "parameter is empty (expected a path such as results[0].name, a JSON Pointer such "
	    "as /results/0/name, @status or @header.NAME)");
	CHECK_STR(compile_error("results[0"), "parameter 'results[0', column 8: '[' is not closed");
	CHECK_STR(compile_error("results["), "parameter 'results[', column 8: '[' is not closed");
	CHECK_STR(compile_error("results[]"),
		  "parameter 'results[]', column 9: array index must be a number");
	CHECK_STR(compile_error("results[-1]"),
		  "parameter 'results[-1]', column 9: array index must be a number");
	CHECK_STR(compile_error("results[1x]"),
		  "parameter 'results[1x]', column 10: array index must be a number");
	CHECK_STR(
	    compile_error("a[1234567890]"),
	    "parameter 'a[1234567890]', column 3: array index is too large (at most 9 digits)");
	CHECK_STR(compile_error("a.b."), "parameter 'a.b.', column 5: expected a key after '.'");
	CHECK_STR(compile_error(".a"), "parameter '.a', column 1: expected a key, found '.'");
	CHECK_STR(compile_error("a..b"), "parameter 'a..b', column 3: expected a key, found '.'");
	CHECK_STR(compile_error("a b"),
		  "parameter 'a b', column 2: a space is not allowed in a key (quote odd keys: "
		  "a[\"x y\"])");
	CHECK_STR(compile_error("a.b#c"),
		  "parameter 'a.b#c', column 4: '#' is not allowed in a key (quote odd keys: "
		  "a[\"x y\"])");
	CHECK_STR(compile_error("a]"), "parameter 'a]', column 2: ']' has no matching '['");
	CHECK_STR(compile_error("a[0]b"),
		  "parameter 'a[0]b', column 5: expected '.' or '[' after ']'");
	CHECK_STR(compile_error("a[\"x"), "parameter 'a[\"x', column 3: quoted key is not closed");
	CHECK_STR(compile_error("a[\"x\""), "parameter 'a[\"x\"', column 2: '[' is not closed");
	CHECK_STR(compile_error("a[\"x\"y]"),
		  "parameter 'a[\"x\"y]', column 6: expected ']' after the quoted key");
	CHECK_STR(compile_error("a[\"\\n\"]"),
		  "parameter 'a[\"\\n\"]', column 4: in a quoted key a backslash may only escape "
		  "'\"' or '\\'");
	CHECK_STR(compile_error("a['x']"),
		  "parameter 'a['x']', column 3: quote keys with double quotes: [\"key\"]");
	CHECK_STR(compile_error("a\tb"),
		  "parameter 'a?b', column 2: control character (byte 0x09) is not allowed");
	CHECK_STR(compile_error("/a/~2"),
		  "parameter '/a/~2', column 4: '~' must be followed by 0 or 1 in a JSON Pointer "
		  "(~0 is '~', ~1 is '/')");
	CHECK_STR(compile_error("/a~"),
		  "parameter '/a~', column 3: '~' must be followed by 0 or 1 in a JSON Pointer "
		  "(~0 is '~', ~1 is '/')");
	CHECK_STR(compile_error("@"),
		  "parameter '@', column 2: unknown name after '@' (expected @status, @header.NAME "
		  "or @body)");
	CHECK_STR(compile_error("@stat"),
		  "parameter '@stat', column 2: unknown name after '@' (expected @status, "
		  "@header.NAME or @body)");
	CHECK_STR(compile_error("@status.code"),
		  "parameter '@status.code', column 8: nothing may follow @status");
	CHECK_STR(compile_error("@header"),
		  "parameter '@header', column 8: expected a header name after '@header.'");
	CHECK_STR(compile_error("@header."),
		  "parameter '@header.', column 9: expected a header name after '@header.'");
	CHECK_STR(compile_error("@header.X:Y"),
		  "parameter '@header.X:Y', column 10: ':' is not allowed in a header name");
	CHECK_STR(compile_error("r\xc3\xa9sultats[x]"), /* columns count characters */
		  "parameter 'r\xc3\xa9sultats[x]', column 11: array index must be a number");
	CHECK_STR(compile_error("bad\xff"), "parameter is not valid UTF-8 (byte 4)");
	CHECK_STR(
	    compile_error(NULL),
	    "parameter is empty (expected a path such as results[0].name, a JSON Pointer such "
	    "as /results/0/name, @status or @header.NAME)");
}

TEST(param_errors_cut_long_text)
{
	char text[HB_PARAM_MAX_LEN + 2];
	memset(text, 'a', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	CHECK_STR(compile_error(text), "parameter is longer than 1024 bytes");
	text[HB_PARAM_MAX_LEN] = '\0';
	CHECK_STR(compile_error(text), "");
	text[100] = '#';
	CHECK_STR(
	    compile_error(text),
	    "parameter 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xe2\x80\xa6', "
	    "column 101: '#' is not allowed in a key (quote odd keys: a[\"x y\"])");
}

TEST(param_valid_forms_compile)
{
	static const char *const ok[] = {
	    "validation_results.is_valid",
	    "results[0].name",
	    "/results/0/name",
	    "@status",
	    "@header.Content-Type",
	    "@body",
	    "a[\"x.y\"].b",
	    "[0]",
	    "[\"a\"][\"b\"]",
	    "data.$id",
	    "r\xc3\xa9sum\xc3\xa9",
	    "a-b_c.d9",
	    "/",
	    "//",
	    "/a b/c",
	    "@header.X-Weird_!#$%&'*+.^`|~",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		const char *msg = compile_error(ok[i]);
		if (*msg) {
			hb_test_failf(__FILE__, __LINE__, "%s: %s", ok[i], msg);
			return;
		}
	}
}

/* Parse body with content type ct and return it as compact JSON, or the error message. */
static char *parse_text(const char *body, size_t len, const char *ct)
{
	json_t *v = NULL;
	hb_error e;
	hb_error_clear(&e);
	hb_err rc = hb_answer_parse_body(body, len, ct, &v, &e);
	if (rc != HB_OK)
		return strdup(v ? "(value on error)" : e.message);
	if (!v)
		return strdup("(none)");
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	return s;
}

#define CHECK_PARSE(body, ct, expected)                                                            \
	do {                                                                                       \
		char *got_ = parse_text(body, strlen(body), ct);                                   \
		int ok_ = strcmp(got_, expected) == 0;                                             \
		if (!ok_)                                                                          \
			hb_test_failf(__FILE__, __LINE__,                                          \
				      "parse %s\n  got:      [%s]\n  expected: [%s]", body, got_,  \
				      expected);                                                   \
		free(got_);                                                                        \
		if (!ok_)                                                                          \
			return;                                                                    \
	} while (0)

TEST(answer_json_bodies)
{
	CHECK_PARSE("{\"a\":1,\"b\":[true,null]}", "application/json",
		    "{\"a\":1,\"b\":[true,null]}");
	CHECK_PARSE("{\"a\":1}", "Application/JSON; charset=utf-8", "{\"a\":1}");
	CHECK_PARSE("{\"a\":1}", NULL, "{\"a\":1}");
	CHECK_PARSE("{\"a\":1}", "text/plain", "{\"a\":1}");
	CHECK_PARSE("\xef\xbb\xbf{\"a\":1}", "application/json", "{\"a\":1}");
	CHECK_PARSE("42", "application/json", "42");
	CHECK_PARSE("\"ok\"", NULL, "\"ok\"");
	CHECK_PARSE("", "application/json", "(none)");
	CHECK_PARSE(" \r\n\t", "application/json", "(none)");
	CHECK_PARSE("{\"a\":1,\"a\":2}", NULL, "{\"a\":2}");
	CHECK_PARSE("{\"a\":\"x\\u0000y\"}", NULL, "{\"a\":\"x\\u0000y\"}");
	CHECK_PARSE("{\"a\":1,\n \"b\": tru}", "application/json",
		    "answer body is not valid JSON: invalid token near 'tru' (line 2, column 9)");
	CHECK_PARSE("<html>", "text/html",
		    "answer body is not valid JSON: invalid token near '<' (line 1, column 1)");
}

TEST(answer_json_big_integers_keep_other_fields)
{
	/* jansson alone refuses this whole document ("too big integer"). */
	CHECK_PARSE("{\"id\":9223372036854775808,\"ok\":true,\"small\":9223372036854775807,"
		    "\"neg\":-9223372036854775809,\"min\":-9223372036854775808,"
		    "\"s\":\"12345678901234567890123\",\"list\":[1,99999999999999999999]}",
		    "application/json",
		    "{\"id\":\"9223372036854775808\",\"ok\":true,\"small\":9223372036854775807,"
		    "\"neg\":\"-9223372036854775809\",\"min\":-9223372036854775808,"
		    "\"s\":\"12345678901234567890123\",\"list\":[1,\"99999999999999999999\"]}");
	CHECK_PARSE("{\"big\":1e999,\"r\":1.5}", NULL, "{\"big\":\"1e999\",\"r\":1.5}");
	CHECK_PARSE("99999999999999999999", NULL, "\"99999999999999999999\"");
	CHECK_PARSE("{\"s\":\"a\\\"b\",\"n\":99999999999999999999}", NULL,
		    "{\"s\":\"a\\\"b\",\"n\":\"99999999999999999999\"}");
	/* An error after a rewritten literal is reported where it is in the original body. */
	CHECK_PARSE("{\"n\":99999999999999999999, \"b\": tru}", NULL,
		    "answer body is not valid JSON: invalid token near 'tru' (line 1, column 35)");
	CHECK_PARSE("[99999999999999999999,\n 99999999999999999999, x]", NULL,
		    "answer body is not valid JSON: invalid token near 'x' (line 2, column 24)");
	/* A leading zero is invalid JSON, not a big number. */
	CHECK_PARSE("{\"n\":099999999999999999999}", NULL,
		    "answer body is not valid JSON: invalid token near '0' (line 1, column 6)");
}

TEST(answer_form_bodies)
{
	static const char form[] = "application/x-www-form-urlencoded";
	CHECK_PARSE("a=1&b=two+words&c=%41%62%2b&d=&e", form,
		    "{\"a\":\"1\",\"b\":\"two words\",\"c\":\"Ab+\",\"d\":\"\",\"e\":\"\"}");
	CHECK_PARSE("k=first&k=last", form, "{\"k\":\"last\"}");
	CHECK_PARSE("&&x=%C3%A9&", "application/x-www-form-urlencoded; charset=UTF-8",
		    "{\"x\":\"\xc3\xa9\"}");
	CHECK_PARSE("a%2Eb=1", form, "{\"a.b\":\"1\"}");
	CHECK_PARSE("a=1&b=%4", form,
		    "answer body (form) has a bad %-escape at byte 7 (expected %XX with two "
		    "hexadecimal digits)");
	CHECK_PARSE("a=%zz", form,
		    "answer body (form) has a bad %-escape at byte 3 (expected %XX with two "
		    "hexadecimal digits)");
	CHECK_PARSE("%g=1", form,
		    "answer body (form) has a bad %-escape at byte 1 (expected %XX with two "
		    "hexadecimal digits)");
}

TEST(answer_form_keeps_bytes_that_are_not_utf8)
{
	json_t *v = NULL;
	hb_error e;
	CHECK_INT(hb_answer_parse_body("name=caf%E9&ok=1", 16, "application/x-www-form-urlencoded",
				       &v, &e),
		  HB_OK);
	CHECK(json_is_object(v));
	json_t *name = json_object_get(v, "name");
	CHECK(json_is_string(name));
	CHECK_INT(json_string_length(name), 4);
	CHECK(memcmp(json_string_value(name), "caf\xe9", 4) == 0);
	CHECK_STR(json_string_value(json_object_get(v, "ok")), "1");
	json_decref(v);
}
