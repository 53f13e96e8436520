/*
 * Unit tests of src/engine/template.c, tfilter.c and escape.c: the worked examples of the
 * webhook guide (Slack, trade.gov, Shippo, Jira) rendered byte for byte, every context, every
 * filter, every compile error with its line and column, masking of secrets, and the refusal
 * of line breaks in header values.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/mem.h"
#include "core/timeutil.h"
#include "engine/escape.h"
#include "engine/template.h"
#include "harness.h"

enum {
	S_FIRST,
	S_LAST,
	S_EMAIL,
	S_NICK,
	S_TITLE,
	S_DESC,
	S_ID,
	S_VALID,
	S_NOW,
	S_JIRA,
	S_SHIPPO,
	S_TRADE,
	S_STREET1,
	S_CITY,
	S_ZIP,
	S_COUNTRY,
	S_SCORE,
	S_CREATED,
	S__COUNT
};

static hb_catalog *test_catalog(void)
{
	hb_catalog *c = hb_catalog_new();
	hb_catalog_add(c, "user.first_name", "First name", HB_TYPE_STRING, 0, 0);
	hb_catalog_add(c, "user.last_name", "Last name", HB_TYPE_STRING, 0, 0);
	hb_catalog_add(c, "user.email", "Email", HB_TYPE_STRING, 0, 0);
	hb_catalog_add(c, "user.nickname", "Nickname", HB_TYPE_STRING, 0, 0);
	hb_catalog_add(c, "feedback.title", "Title", HB_TYPE_STRING, 0, 0);
	hb_catalog_add(c, "feedback.description", "Description", HB_TYPE_STRING, 0, 0);
	hb_catalog_add(c, "user.id", "User id", HB_TYPE_INT, 0, 0);
	hb_catalog_add(c, "external.shipping.is_valid", "Valid", HB_TYPE_BOOL, HB_PATH_EXTERNAL, 7);
	hb_catalog_add(c, "now", "Now", HB_TYPE_TIME, 0, 0);
	hb_catalog_add(c, "secret.jira", "Jira token", HB_TYPE_STRING, HB_PATH_SECRET, 0);
	hb_catalog_add(c, "secret.shippo", "Shippo token", HB_TYPE_STRING, HB_PATH_SECRET, 0);
	hb_catalog_add(c, "secret.tradegov", "trade.gov key", HB_TYPE_STRING, HB_PATH_SECRET, 0);
	hb_catalog_add(c, "user.street1", "Street", HB_TYPE_STRING, 0, 0);
	hb_catalog_add(c, "user.city", "City", HB_TYPE_STRING, 0, 0);
	hb_catalog_add(c, "user.postal_code", "Postal code", HB_TYPE_STRING, 0, 0);
	hb_catalog_add(c, "user.country", "Country", HB_TYPE_STRING, 0, 0);
	hb_catalog_add(c, "project.score", "Score", HB_TYPE_INT, 0, 0);
	hb_catalog_add(c, "feedback.created", "Created", HB_TYPE_TIME, 0, 0);
	return c;
}

/* A record with ordinary values; tests overwrite what they need. */
static void test_record(hb_value *r)
{
	for (int i = 0; i < S__COUNT; i++)
		r[i] = hb_value_null();
	r[S_FIRST] = hb_value_str("Zoë");
	r[S_LAST] = hb_value_str("O'Brien & Co");
	r[S_EMAIL] = hb_value_str("zoe@example.com");
	r[S_TITLE] = hb_value_str("Crash on save");
	r[S_DESC] = hb_value_str("It crashes.");
	r[S_ID] = hb_value_int(1042);
	r[S_VALID] = hb_value_bool(true);
	r[S_NOW] = hb_value_time(1795852800); /* 2026-11-28T08:00:00Z */
	r[S_JIRA] = hb_value_str("jira-token-123");
	r[S_SHIPPO] = hb_value_str("shippo_live_abc");
	r[S_TRADE] = hb_value_str("tg-key-9");
	r[S_CREATED] = hb_value_time(1795795200); /* 2026-11-27T16:00:00Z */
}

static char result[8192];

/* Compile and render; the output, or "COMPILE: message" / "RENDER: message". */
static const char *render_flags(const char *tpl, hb_context ctx, const hb_value *rec,
				unsigned flags)
{
	hb_catalog *cat = test_catalog();
	hb_template *t = NULL;
	hb_error e = {0};
	if (hb_template_compile(cat, tpl, strlen(tpl), ctx, &t, &e)) {
		snprintf(result, sizeof result, "COMPILE: %s", e.message);
		hb_catalog_free(&cat);
		return result;
	}
	hb_catalog_free(&cat); /* the template must not need it any more */
	hb_buf out;
	hb_buf_init(&out, 1 << 20);
	if (hb_template_render(t, rec, flags, &out, &e))
		snprintf(result, sizeof result, "RENDER: %s", e.message);
	else
		snprintf(result, sizeof result, "%s", hb_buf_str(&out));
	hb_buf_free(&out);
	hb_template_free(&t);
	return result;
}

static const char *render(const char *tpl, hb_context ctx, const hb_value *rec)
{
	return render_flags(tpl, ctx, rec, 0);
}

/* Render a text template with the standard record. */
static const char *text(const char *tpl)
{
	hb_value r[S__COUNT];
	test_record(r);
	return render(tpl, HB_CTX_TEXT, r);
}

/* ---- the four worked examples */

TEST(template_example_slack)
{
	hb_value r[S__COUNT];
	test_record(r);
	const char *title = "Crash when saving \"draft\" in C:\\Users\\zoë\nline two 🎉 }} done";
	r[S_TITLE] = hb_value_str(title);
	const char *tpl =
	    "{\n"
	    "  \"channel\": \"#beta\",\n"
	    "  \"text\": \"New feedback from {{ user.first_name }}: {{ feedback.title }}\",\n"
	    "  \"blocks\": [{\"type\": \"section\", \"text\": {\"type\": \"mrkdwn\", "
	    "\"text\": \"*{{feedback.title}}*\"}}],\n"
	    "  \"user_id\": {{ user.id }}\n"
	    "}";
	const char *got = render(tpl, HB_CTX_JSON, r);
	CHECK_STR(got,
		  "{\n"
		  "  \"channel\": \"#beta\",\n"
		  "  \"text\": \"New feedback from Zoë: Crash when saving \\\"draft\\\" in "
		  "C:\\\\Users\\\\zoë\\nline two 🎉 }} done\",\n"
		  "  \"blocks\": [{\"type\": \"section\", \"text\": {\"type\": \"mrkdwn\", "
		  "\"text\": \"*Crash when saving \\\"draft\\\" in C:\\\\Users\\\\zoë\\nline two 🎉 "
		  "}} done*\"}}],\n"
		  "  \"user_id\": 1042\n"
		  "}");
	json_error_t je;
	json_t *j = json_loads(got, 0, &je);
	CHECK(j != NULL);
	json_t *blocks = json_object_get(j, "blocks");
	const char *back = json_string_value(
	    json_object_get(json_object_get(json_array_get(blocks, 0), "text"), "text"));
	char want[200];
	snprintf(want, sizeof want, "*%s*", title);
	CHECK_STR(back, want);
	json_decref(j);
}

TEST(template_example_tradegov)
{
	hb_value r[S__COUNT];
	test_record(r);
	CHECK_STR(render("https://data.trade.gov/consolidated_screening_list/v1/search"
			 "?name={{ user.first_name }} {{ user.last_name }}&fuzzy_name=true\n",
			 HB_CTX_URL, r),
		  "https://data.trade.gov/consolidated_screening_list/v1/search"
		  "?name=Zo%C3%AB%20O%27Brien%20%26%20Co&fuzzy_name=true");
	const char *hdr = "subscription-key: {{ secret.tradegov }}\nAccept: application/json";
	CHECK_STR(render(hdr, HB_CTX_HEADER, r),
		  "subscription-key: tg-key-9\nAccept: application/json");
	CHECK_STR(render_flags(hdr, HB_CTX_HEADER, r, HB_RENDER_MASK_SECRETS),
		  "subscription-key: ********\nAccept: application/json");
}

TEST(template_example_shippo)
{
	hb_value r[S__COUNT];
	test_record(r);
	r[S_FIRST] = hb_value_str("Zoë");
	r[S_LAST] = hb_value_str("O'Brien");
	r[S_STREET1] = hb_value_str("12 Main St & Sons = Suite 5");
	r[S_CITY] = hb_value_str("San Francisco");
	r[S_ZIP] = hb_value_str("94117");
	r[S_COUNTRY] = hb_value_str("US");
	CHECK_STR(render("name={{user.first_name}} {{user.last_name}}&street1={{user.street1}}"
			 "&city={{user.city}}&zip={{user.postal_code}}&country={{user.country}}"
			 "&validate=true\n",
			 HB_CTX_FORM, r),
		  "name=Zo%C3%AB+O%27Brien&street1=12+Main+St+%26+Sons+%3D+Suite+5"
		  "&city=San+Francisco&zip=94117&country=US&validate=true");
	const char *hdr = "Authorization: ShippoToken {{secret.shippo}}\r\n"
			  "Accept: application/json\r\n";
	CHECK_STR(render(hdr, HB_CTX_HEADER, r),
		  "Authorization: ShippoToken shippo_live_abc\nAccept: application/json\n");
	CHECK_STR(render_flags(hdr, HB_CTX_HEADER, r, HB_RENDER_MASK_SECRETS),
		  "Authorization: ShippoToken ********\nAccept: application/json\n");
}

TEST(template_example_jira)
{
	hb_value r[S__COUNT];
	test_record(r);
	static const char desc[] = "Steps:\t1. open\r\n2. \x1b[31mred\x1b[0m\x01\x7f end\0tail\xff";
	r[S_TITLE] = hb_value_str("Crash on save");
	r[S_DESC] = hb_value_strn(desc, sizeof desc - 1);
	const char *tpl = "{\"fields\": {\n"
			  "  \"project\": {\"key\": \"BETA\"},\n"
			  "  \"summary\": \"[{{ user.email }}] {{ feedback.title }}\",\n"
			  "  \"description\": \"{{ feedback.description }}\",\n"
			  "  \"issuetype\": {\"name\": \"Bug\"},\n"
			  "  \"duedate\": \"{{ now | add_days: 7 | date: \"%Y-%m-%d\" }}\",\n"
			  "  \"customfield_10042\": {{ external.shipping.is_valid }},\n"
			  "  \"customfield_10043\": {{ feedback.created }}\n"
			  "}}";
	const char *got = render(tpl, HB_CTX_JSON, r);
	CHECK_STR(got, "{\"fields\": {\n"
		       "  \"project\": {\"key\": \"BETA\"},\n"
		       "  \"summary\": \"[zoe@example.com] Crash on save\",\n"
		       "  \"description\": \"Steps:\\t1. open\\r\\n2. \\u001b[31mred\\u001b[0m"
		       "\\u0001\x7f end\xef\xbf\xbdtail\xef\xbf\xbd\",\n"
		       "  \"issuetype\": {\"name\": \"Bug\"},\n"
		       "  \"duedate\": \"2026-12-05\",\n"
		       "  \"customfield_10042\": true,\n"
		       "  \"customfield_10043\": \"2026-11-27T16:00:00Z\"\n"
		       "}}");
	json_error_t je;
	json_t *j = json_loads(got, 0, &je);
	CHECK(j != NULL);
	json_decref(j);
	const char *hdr = "Authorization: Basic {{ secret.jira | prepend: \"zoe@example.com:\" | "
			  "base64 }}\nContent-Type: application/json";
	CHECK_STR(render(hdr, HB_CTX_HEADER, r),
		  "Authorization: Basic em9lQGV4YW1wbGUuY29tOmppcmEtdG9rZW4tMTIz\n"
		  "Content-Type: application/json");
	CHECK_STR(render_flags(hdr, HB_CTX_HEADER, r, HB_RENDER_MASK_SECRETS),
		  "Authorization: Basic ********\nContent-Type: application/json");
}

/* ---- contexts */

TEST(template_context_names)
{
	hb_context c;
	CHECK(hb_context_parse("json", &c) && c == HB_CTX_JSON);
	CHECK(hb_context_parse("url", &c) && c == HB_CTX_URL);
	CHECK(hb_context_parse("header", &c) && c == HB_CTX_HEADER);
	CHECK(hb_context_parse("form", &c) && c == HB_CTX_FORM);
	CHECK(hb_context_parse("text", &c) && c == HB_CTX_TEXT);
	CHECK(!hb_context_parse("xml", &c));
	CHECK_STR(hb_context_name(HB_CTX_FORM), "form");
}

TEST(template_context_text)
{
	CHECK_STR(text("Hi {{user.first_name}}, <{{ user.last_name }}> #{{user.id}} "
		       "{{external.shipping.is_valid}} {{now}} [{{user.nickname}}]"),
		  "Hi Zoë, <O'Brien & Co> #1042 true 2026-11-28T08:00:00Z []");
	CHECK_STR(text("no tags }} here { {"), "no tags }} here { {");
	CHECK_STR(text("{{{user.id}}}"), "{1042}");
	CHECK_STR(text("{{ \"{{ literal }}\" }} and {{ 7 }}"), "{{ literal }} and 7");
	CHECK_STR(text(""), "");
}

TEST(template_context_url)
{
	hb_value r[S__COUNT];
	test_record(r);
	r[S_TITLE] = hb_value_str("a/b c?d#e\r\n");
	CHECK_STR(
	    render("https://api.example.com/v1/items/{{feedback.title}}/x?q={{feedback.title}}"
		   "#{{feedback.title}}",
		   HB_CTX_URL, r),
	    "https://api.example.com/v1/items/a%2Fb%20c%3Fd%23e%0D%0A/x?q=a%2Fb%20c%3Fd%23e%0D%0A"
	    "#a%2Fb%20c%3Fd%23e%0D%0A");
	/* unreserved characters stay, literal non-ASCII and spaces are encoded */
	r[S_TITLE] = hb_value_str("A-z_0.9~");
	CHECK_STR(render("  https://h.example/café menu/{{feedback.title}}  ", HB_CTX_URL, r),
		  "https://h.example/caf%C3%A9%20menu/A-z_0.9~");
	CHECK_STR(render("https://h.example:8443/{{user.id}}", HB_CTX_URL, r),
		  "https://h.example:8443/1042");
	/* urlencode is not encoded a second time */
	CHECK_STR(render("https://h.example/?q={{ user.last_name | urlencode }}", HB_CTX_URL, r),
		  "https://h.example/?q=O%27Brien%20%26%20Co");
	CHECK_STR(render("https://h.example/?q={{ user.nickname }}", HB_CTX_URL, r),
		  "https://h.example/?q=");
}

TEST(template_context_form)
{
	hb_value r[S__COUNT];
	test_record(r);
	r[S_TITLE] = hb_value_str("a+b=c&d e*~\n");
	CHECK_STR(render("t={{feedback.title}}&n={{user.id}}&v={{external.shipping.is_valid}}",
			 HB_CTX_FORM, r),
		  "t=a%2Bb%3Dc%26d+e*%7E%0A&n=1042&v=true");
	CHECK_STR(render("q={{ feedback.title | urlencode }}", HB_CTX_FORM, r),
		  "q=a%2Bb%3Dc%26d%20e%2A~%0A");
	CHECK_STR(render("a=1\tb", HB_CTX_FORM, r), "a=1%09b");
}

TEST(template_context_header)
{
	hb_value r[S__COUNT];
	test_record(r);
	CHECK_STR(render("X-User: {{user.email}}\n\nX-Id:{{user.id}}", HB_CTX_HEADER, r),
		  "X-User: zoe@example.com\n\nX-Id:1042");
	r[S_TITLE] = hb_value_str("evil\r\nX-Injected: 1");
	CHECK_STR(render("Accept: */*\nX-Title: {{ feedback.title }}", HB_CTX_HEADER, r),
		  "RENDER: header 'X-Title': the value of {{ feedback.title }} contains a line "
		  "break (CR or LF); refused");
	r[S_TITLE] = hb_value_str("line\nbreak");
	CHECK_STR(render("X-Title: {{ feedback.title }}", HB_CTX_HEADER, r),
		  "RENDER: header 'X-Title': the value of {{ feedback.title }} contains a line "
		  "break (CR or LF); refused");
	r[S_TITLE] = hb_value_strn("nul\0byte", 8);
	CHECK_STR(render("X-Title: {{ feedback.title }}", HB_CTX_HEADER, r),
		  "RENDER: header 'X-Title': the value of {{ feedback.title }} contains a NUL "
		  "byte; refused");
	/* the secret does not leak into the message */
	r[S_JIRA] = hb_value_str("tok\nen");
	CHECK_STR(render("Authorization: Bearer {{ secret.jira }}", HB_CTX_HEADER, r),
		  "RENDER: header 'Authorization': the value of {{ secret.jira }} contains a line "
		  "break (CR or LF); refused");
	/* strip_newlines makes such a value acceptable */
	r[S_TITLE] = hb_value_str("line\r\nbreak");
	CHECK_STR(render("X-Title: {{ feedback.title | strip_newlines }}", HB_CTX_HEADER, r),
		  "X-Title: linebreak");
}

TEST(template_context_json_typed_values)
{
	hb_value r[S__COUNT];
	test_record(r);
	r[S_TITLE] = hb_value_str("");
	const char *tpl = "[{{user.id}}, {{external.shipping.is_valid}}, {{now}}, {{user.email}}, "
			  "{{user.nickname}}, {{feedback.title}}, {{ 12 }}, {{ \"x\" }}]";
	CHECK_STR(render(tpl, HB_CTX_JSON, r),
		  "[1042, true, \"2026-11-28T08:00:00Z\", \"zoe@example.com\", null, null, 12, "
		  "\"x\"]");
	r[S_ID] = hb_value_int(-9223372036854775807LL - 1);
	r[S_VALID] = hb_value_bool(false);
	CHECK_STR(
	    render("{\"a\":{{user.id}},\"b\":{{external.shipping.is_valid}}}", HB_CTX_JSON, r),
	    "{\"a\":-9223372036854775808,\"b\":false}");
	/* inside strings every type is text; empty is empty */
	CHECK_STR(
	    render("{\"s\":\"{{user.id}}|{{external.shipping.is_valid}}|{{now}}|{{user.nickname}}"
		   "\"}",
		   HB_CTX_JSON, r),
	    "{\"s\":\"-9223372036854775808|false|2026-11-28T08:00:00Z|\"}");
	/* tags inside keys are escaped like any string */
	CHECK_STR(render("{\"k_{{user.last_name}}\": 1}", HB_CTX_JSON, r),
		  "{\"k_O'Brien & Co\": 1}");
}

TEST(template_context_json_escaping)
{
	hb_value r[S__COUNT];
	test_record(r);
	r[S_TITLE] =
	    hb_value_str("\xe2\x80\xa8|\xe2\x80\xa9|\xc3|\xed\xa0\x80|\x08\x0c|</script>|é");
	CHECK_STR(
	    render("{\"t\":\"{{feedback.title}}\"}", HB_CTX_JSON, r),
	    "{\"t\":\"\\u2028|\\u2029|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\\b\\f|"
	    "</script>|é\"}");
	/* json filter: raw in a value position, escaped inside a string */
	r[S_TITLE] = hb_value_str("say \"hi\"");
	CHECK_STR(render("{\"a\":{{feedback.title|json}},\"b\":\"{{feedback.title|json}}\","
			 "\"c\":{{user.nickname|json}},\"d\":{{user.id|json}}}",
			 HB_CTX_JSON, r),
		  "{\"a\":\"say \\\"hi\\\"\",\"b\":\"\\\"say \\\\\\\"hi\\\\\\\"\\\"\",\"c\":null,"
		  "\"d\":1042}");
}

TEST(template_masking)
{
	hb_value r[S__COUNT];
	test_record(r);
	CHECK_STR(render_flags("{\"k\":{{secret.jira}},\"s\":\"x{{secret.jira | upper}}x\"}",
			       HB_CTX_JSON, r, HB_RENDER_MASK_SECRETS),
		  "{\"k\":\"********\",\"s\":\"x********x\"}");
	CHECK_STR(render("{\"k\":{{secret.jira}}}", HB_CTX_JSON, r), "{\"k\":\"jira-token-123\"}");
	CHECK_STR(render_flags("https://h.example/?key={{secret.tradegov}}", HB_CTX_URL, r,
			       HB_RENDER_MASK_SECRETS),
		  "https://h.example/?key=********");
	CHECK_STR(render_flags("key={{secret.tradegov}}&u={{user.id}}", HB_CTX_FORM, r,
			       HB_RENDER_MASK_SECRETS),
		  "key=********&u=1042");
	CHECK_STR(render("{{ secret.jira }}", HB_CTX_TEXT, r),
		  "COMPILE: line 1, column 1: a secret cannot be used in plain text, only in the "
		  "URL, headers and body of a webhook");
}

/* ---- filters */

TEST(template_filter_text)
{
	hb_value r[S__COUNT];
	test_record(r);
	r[S_TITLE] = hb_value_str("  Ärger über Straße ÿ ĳ Ωμέγα привет  ");
	r[S_DESC] = hb_value_str("a\r\nb\nc");
	CHECK_STR(render("{{ feedback.title | upper }}", HB_CTX_TEXT, r),
		  "  ÄRGER ÜBER STRAßE Ÿ Ĳ ΩΜΈΓΑ ПРИВЕТ  ");
	CHECK_STR(render("{{ feedback.title | lower }}", HB_CTX_TEXT, r),
		  "  ärger über straße ÿ ĳ ωμέγα привет  ");
	CHECK_STR(render("[{{ feedback.title | trim }}]", HB_CTX_TEXT, r),
		  "[Ärger über Straße ÿ ĳ Ωμέγα привет]");
	CHECK_STR(render("[{{ feedback.title | strip | lstrip | rstrip }}]", HB_CTX_TEXT, r),
		  "[Ärger über Straße ÿ ĳ Ωμέγα привет]");
	CHECK_STR(render("[{{ feedback.title | lstrip }}]", HB_CTX_TEXT, r),
		  "[Ärger über Straße ÿ ĳ Ωμέγα привет  ]");
	CHECK_STR(render("[{{ feedback.title | rstrip }}]", HB_CTX_TEXT, r),
		  "[  Ärger über Straße ÿ ĳ Ωμέγα привет]");
	CHECK_STR(text("{{ \"élan vital\" | capitalize }} {{ \"mcDonald\" | capitalize }}"),
		  "Élan vital McDonald");
	CHECK_STR(render("{{ feedback.description | strip_newlines }}", HB_CTX_TEXT, r), "abc");
	CHECK_STR(text("{{ \"a.b.a\" | replace: \"a\", \"x\" }} {{ \"a.b.a\" | replace_first: "
		       "'a', 'x' }} {{ 'a.b.a' | remove: '.' }}"),
		  "x.b.x x.b.a aba");
	CHECK_STR(text("{{ user.first_name | append: \"!\" | prepend: 'Hi ' }}"), "Hi Zoë!");
	CHECK_STR(text("{{ user.nickname | append: \"!\" }}"), "!");
	CHECK_STR(text("{{ '<a href=\"x\">Tom & Jerry\\'s</a>' | escape }}"),
		  "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
	CHECK_STR(text("{{ user.last_name | base64 }}|{{ 'ab' | base64 }}|{{ 'a' | base64 }}"),
		  "TydCcmllbiAmIENv|YWI=|YQ==");
	CHECK_STR(text("{{ user.last_name | urlencode }}"), "O%27Brien%20%26%20Co");
}

TEST(template_filter_default)
{
	hb_value r[S__COUNT];
	test_record(r);
	r[S_TITLE] = hb_value_str("");
	CHECK_STR(render("{{ user.nickname | default: \"friend\" }} {{ feedback.title | default: "
			 "'untitled' }} {{ user.first_name | default: 'x' }}",
			 HB_CTX_TEXT, r),
		  "friend untitled Zoë");
	CHECK_STR(render("{\"n\":{{ user.nickname | default: 0 }},\"s\":{{ user.nickname | "
			 "default: \"none\" }},\"u\":{{ user.nickname | upper }}}",
			 HB_CTX_JSON, r),
		  "{\"n\":0,\"s\":\"none\",\"u\":null}");
}

TEST(template_filter_truncate_slice_size)
{
	hb_value r[S__COUNT];
	test_record(r);
	r[S_TITLE] = hb_value_str("Zoë’s 🎉 party tonight");
	CHECK_STR(render("{{ feedback.title | truncate: 9 }}", HB_CTX_TEXT, r), "Zoë’s ...");
	CHECK_STR(render("{{ feedback.title | truncate: 8, \"…\" }}", HB_CTX_TEXT, r), "Zoë’s 🎉…");
	CHECK_STR(render("{{ feedback.title | truncate: 7, \"\" }}", HB_CTX_TEXT, r), "Zoë’s 🎉");
	CHECK_STR(render("{{ feedback.title | truncate: 100 }}", HB_CTX_TEXT, r),
		  "Zoë’s 🎉 party tonight");
	CHECK_STR(render("{{ feedback.title | truncate: 2 }}", HB_CTX_TEXT, r), "...");
	CHECK_STR(render("{{ feedback.title | size }}", HB_CTX_TEXT, r), "21");
	CHECK_STR(render("{\"n\":{{ user.nickname | size }}}", HB_CTX_JSON, r), "{\"n\":0}");
	CHECK_STR(render("{{ feedback.title | slice: 2, 5 }}", HB_CTX_TEXT, r), "ë’s 🎉");
	CHECK_STR(render("{{ feedback.title | slice: 2 }}", HB_CTX_TEXT, r), "ë");
	CHECK_STR(render("{{ feedback.title | slice: -7, 3 }}", HB_CTX_TEXT, r), "ton");
	CHECK_STR(render("[{{ feedback.title | slice: -70, 3 }}]", HB_CTX_TEXT, r), "[]");
	CHECK_STR(render("[{{ feedback.title | slice: 30, 3 }}]", HB_CTX_TEXT, r), "[]");
	CHECK_STR(render("{{ feedback.title | left: 4 }}|{{ feedback.title | right: 7 }}|"
			 "{{ feedback.title | right: 99 | size }}",
			 HB_CTX_TEXT, r),
		  "Zoë’|tonight|21");
	CHECK_STR(text("{{ user.id | size }} {{ user.id | slice: 1, 2 }}"), "4 04");
}

TEST(template_filter_numbers)
{
	CHECK_STR(
	    text("{{ user.id | plus: 8 }} {{ user.id | minus: 1042 }} {{ user.id | times: -2 }} "
		 "{{ user.id | divided_by: 10 }} {{ user.id | modulo: 10 }}"),
	    "1050 0 -2084 104 2");
	CHECK_STR(text("{{ -7 | divided_by: 2 }} {{ -7 | modulo: 2 }} {{ 7 | modulo: -2 }}"),
		  "-4 1 -1");
	CHECK_STR(text("{{ ' 41 ' | plus: 1 }}"), "42");
	hb_value r[S__COUNT];
	test_record(r);
	r[S_ID] = hb_value_int(9223372036854775807LL);
	CHECK_STR(render("{\"a\":{{ user.id | plus: 1 }},\"b\":{{ user.email | plus: 1 }},"
			 "\"c\":{{ user.id | minus: 7 }},\"d\":{{ -9223372036854775808 | "
			 "divided_by: -1 }}}",
			 HB_CTX_JSON, r),
		  "{\"a\":null,\"b\":null,\"c\":9223372036854775800,\"d\":null}");
}

TEST(template_filter_dates)
{
	hb_value r[S__COUNT];
	test_record(r);
	r[S_TITLE] = hb_value_str("2026-03-01T23:30:00+02:00");
	CHECK_STR(render("{{ now | date: \"%Y-%m-%d %H:%M\" }}|{{ now | date: '%a %d %b %Y' }}|"
			 "{{ now | date: '%-d/%-m' }}",
			 HB_CTX_TEXT, r),
		  "2026-11-28 08:00|Sat 28 Nov 2026|28/11");
	CHECK_STR(render("{{ feedback.title | date: '%Y-%m-%dT%H:%M:%SZ' }}", HB_CTX_TEXT, r),
		  "2026-03-01T21:30:00Z");
	CHECK_STR(render("{{ user.email | date: '%Y' }}|{{ 0 | date: '%Y' }}", HB_CTX_TEXT, r),
		  "zoe@example.com|1970");
	CHECK_STR(
	    render("{{ now | add_days: -28 }}|{{ feedback.title | add_days: 1 | date: '%F' }}",
		   HB_CTX_TEXT, r),
	    "2026-10-31T08:00:00Z|2026-03-02");
	CHECK_STR(render("{\"d\":{{ now | add_days: 2 }},\"e\":{{ user.nickname | date: '%Y' }}}",
			 HB_CTX_JSON, r),
		  "{\"d\":\"2026-11-30T08:00:00Z\",\"e\":null}");
}

TEST(template_filter_quoting_and_whitespace)
{
	CHECK_STR(text("{{user.id|plus:1|minus:1}}"), "1042");
	CHECK_STR(text("{{\n\tuser.id\n|\nplus\n:\n1\n}}"), "1043");
	CHECK_STR(text("{{ 'a}}b' | append: \"}}\\\"\\\\\\n\\t\" }}"), "a}}b}}\"\\\n\t");
	CHECK_STR(text("{{ \"it's\" | append: '\\'s' }}"), "it's's");
}

/* ---- compile errors */

static const char *err(const char *tpl, hb_context ctx)
{
	hb_value r[S__COUNT];
	test_record(r);
	return render(tpl, ctx, r);
}

TEST(template_errors_paths_filters_arguments)
{
	CHECK_STR(err("Hello,\nHi there, {{ user.emial }}", HB_CTX_TEXT),
		  "COMPILE: line 2, column 14: unknown path 'user.emial' (did you mean "
		  "'user.email'?)");
	CHECK_STR(err("{{ zzzzzzzzzz }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 4: unknown path 'zzzzzzzzzz'");
	CHECK_STR(err("{{ user.email | uper }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 17: unknown filter 'uper' (did you mean 'upper'?)");
	CHECK_STR(err("{{ user.email | frobnicate }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 17: unknown filter 'frobnicate'");
	CHECK_STR(err("{{ user.email | truncate: \"x\" }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 27: argument 1 of filter 'truncate' must be a whole "
		  "number");
	CHECK_STR(err("{{ user.email | append: 5 }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 25: argument 1 of filter 'append' must be a quoted "
		  "string");
	CHECK_STR(err("{{ user.email | replace: \"a\" }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 17: filter 'replace' needs 2 arguments (got 1)");
	CHECK_STR(err("{{ user.email | truncate }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 17: filter 'truncate' needs 1 or 2 arguments (got 0)");
	CHECK_STR(err("{{ user.email | upper: 1 }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 24: filter 'upper' takes no argument");
	CHECK_STR(err("{{ user.email | slice: 1, 2, 3 }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 30: filter 'slice' takes at most 2 arguments");
	CHECK_STR(err("{{ user.id | divided_by: 0 }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 26: filter 'divided_by' cannot divide by 0");
	CHECK_STR(err("{{ user.id | truncate: -1 }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 24: filter 'truncate' needs a length of 0 or more");
	CHECK_STR(err("{{ now | date: '%Q' }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 16: bad date format '%Q' (use strftime conversions "
		  "such as %Y-%m-%d %H:%M, at most 128 characters)");
	CHECK_STR(err("{{ user.id | plus: 99999999999999999999 }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 20: number '99999999999999999999' is out of range");
	CHECK_STR(err("{{ user.id | plus: x }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 20: expected an argument (a quoted string or a number), "
		  "found 'x'");
	CHECK_STR(err("{{ user.id | append: 'abc }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 22: unclosed quoted string (no closing ')");
	CHECK_STR(
	    err("{{ user.id | append: 'a\\qb' }}", HB_CTX_TEXT),
	    "COMPILE: line 1, column 24: unknown escape '\\q' in a quoted argument (use \\\\, "
	    "\\\", \\', \\n, \\r or \\t)");
	CHECK_STR(err("{{ user.id | }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 14: expected a filter name after '|', found '}'");
}

TEST(template_errors_tags)
{
	CHECK_STR(err("abc\n  {{ user.email ", HB_CTX_TEXT),
		  "COMPILE: line 2, column 3: unclosed '{{' (no matching '}}')");
	CHECK_STR(err("x {{", HB_CTX_TEXT),
		  "COMPILE: line 1, column 3: unclosed '{{' (no matching '}}')");
	CHECK_STR(err("a {{ }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 3: empty tag: write a path such as {{ user.email }}");
	CHECK_STR(err("{{ user.email user.id }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 15: expected '|' or '}}' in the tag, found 'u'");
	CHECK_STR(err("{{ @x }}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 4: expected a path such as user.email, found '@'");
	CHECK_STR(err("héllo wörld \xff {{user.id}}", HB_CTX_TEXT),
		  "COMPILE: line 1, column 13: the template is not valid UTF-8");
}

TEST(template_errors_contexts)
{
	CHECK_STR(err("X-{{ user.id }}: 1", HB_CTX_HEADER),
		  "COMPILE: line 1, column 3: a tag cannot stand in a header name");
	CHECK_STR(err("Accept: */*\n{{ user.id }}: 1", HB_CTX_HEADER),
		  "COMPILE: line 2, column 1: a tag cannot stand in a header name");
	CHECK_STR(err("Accept */*", HB_CTX_HEADER),
		  "COMPILE: line 1, column 7: a space cannot stand in a header name");
	CHECK_STR(err("Accept\nX: 1", HB_CTX_HEADER),
		  "COMPILE: line 1, column 1: a header line must read 'Name: value'");
	CHECK_STR(err("X: a\rb", HB_CTX_HEADER),
		  "COMPILE: line 1, column 5: a bare carriage return (CR) cannot stand in headers");
	CHECK_STR(err("https://{{ user.email }}.example.com/", HB_CTX_URL),
		  "COMPILE: line 1, column 9: a tag cannot stand in the host part of a URL (host, "
		  "port or user): the destination must be written out");
	CHECK_STR(err("https://api.example.com{{ user.id }}", HB_CTX_URL),
		  "COMPILE: line 1, column 24: a tag cannot stand in the host part of a URL (host, "
		  "port or user): the destination must be written out");
	CHECK_STR(err("{{ user.email }}/path", HB_CTX_URL),
		  "COMPILE: line 1, column 1: a tag cannot stand in the scheme or host of a URL: "
		  "write out 'https://host/' before the first tag");
	CHECK_STR(err("https://h.example/a\nb", HB_CTX_URL),
		  "COMPILE: line 1, column 20: a URL cannot contain a line break here");
	CHECK_STR(err("https://h .example/", HB_CTX_URL),
		  "COMPILE: line 1, column 10: a URL cannot contain a space here");
}

TEST(template_errors_json)
{
	CHECK_STR(err("{ {{user.email}}: 1}", HB_CTX_JSON),
		  "COMPILE: line 1, column 3: a tag cannot stand where an object key is expected; "
		  "write it inside quotes: \"{{ … }}\"");
	CHECK_STR(err("{\"a\": {{user.id}} \"b\": 2}", HB_CTX_JSON),
		  "COMPILE: line 1, column 19: expected ',' or '}' after a value, found '\"'");
	CHECK_STR(
	    err("{\"a\": 1 {{user.id}}}", HB_CTX_JSON),
	    "COMPILE: line 1, column 9: a tag cannot stand right after a value (missing ','?)");
	CHECK_STR(
	    err("{\"a\": 12{{user.id}}}", HB_CTX_JSON),
	    "COMPILE: line 1, column 9: a tag cannot stand right after a value (missing ','?)");
	CHECK_STR(err("{\"a\" {{user.id}}}", HB_CTX_JSON),
		  "COMPILE: line 1, column 6: a tag cannot stand here: expected ':' after the key");
	CHECK_STR(err("{\"a\": tr{{user.id}}}", HB_CTX_JSON),
		  "COMPILE: line 1, column 9: a tag cannot stand inside 'true'");
	CHECK_STR(err("{\"a\": \"\\{{user.id}}\"}", HB_CTX_JSON),
		  "COMPILE: line 1, column 9: a tag cannot stand inside a \\ escape of a JSON "
		  "string");
	CHECK_STR(err("{{user.id}}", HB_CTX_JSON),
		  "COMPILE: line 1, column 1: a JSON body must be an object or an array; put the "
		  "tag inside '{…}' or '[…]'");
	CHECK_STR(err("\"{{user.id}}\"", HB_CTX_JSON),
		  "COMPILE: line 1, column 1: a JSON body must be an object or an array (start it "
		  "with '{' or '['), found '\"'");
	CHECK_STR(err("[1] {{user.id}}", HB_CTX_JSON),
		  "COMPILE: line 1, column 5: a tag cannot stand after the end of the JSON body");
	CHECK_STR(
	    err("{\"text\": \"{{ feedback.title }}\",\n  \"n\": {{ user.id }}\n", HB_CTX_JSON),
	    "COMPILE: line 3, column 1: the JSON body ends before its closing '}'");
	CHECK_STR(err("{\"text\": \"abc {{ feedback.title }}}", HB_CTX_JSON),
		  "COMPILE: line 1, column 10: unclosed string (no closing '\"')");
	CHECK_STR(err("{\"a\": \"x\ty\"}", HB_CTX_JSON),
		  "COMPILE: line 1, column 9: a tab must be escaped inside a JSON string (write "
		  "\\n, \\t or \\u00XX)");
	CHECK_STR(err("{\"a\": [1,]}", HB_CTX_JSON),
		  "COMPILE: line 1, column 10: expected a JSON value, found ']'");
	CHECK_STR(err("{\"a\": [1}", HB_CTX_JSON),
		  "COMPILE: line 1, column 9: '}' does not close the open '['");
	CHECK_STR(err("{\"a\": 01}", HB_CTX_JSON),
		  "COMPILE: line 1, column 8: expected ',' or '}' after a value, found '1'");
	CHECK_STR(err("{\"a\": 1e999}", HB_CTX_JSON),
		  "COMPILE: line 1, column 7: number '1e999' is out of range");
	CHECK_STR(err("{\"a\": 99999999999999999999}", HB_CTX_JSON),
		  "COMPILE: line 1, column 7: number '99999999999999999999' is out of range");
	CHECK_STR(err("{\"a\": -}", HB_CTX_JSON),
		  "COMPILE: line 1, column 7: incomplete number '-'");
	CHECK_STR(
	    err("{\"a\": \"\\ud800x\"}", HB_CTX_JSON),
	    "COMPILE: line 1, column 14: a \\u escape of a high surrogate must be followed by "
	    "the \\u escape of a low surrogate");
	CHECK_STR(err("{\"a\": \"\\u0000\"}", HB_CTX_JSON),
		  "COMPILE: line 1, column 13: \\u0000 is refused by many receivers; remove it");
	CHECK_STR(err("  \n ", HB_CTX_JSON), "COMPILE: line 2, column 2: the JSON body is empty");
	CHECK_STR(err("{\"a\": 1} x", HB_CTX_JSON),
		  "COMPILE: line 1, column 10: text after the end of the JSON body: 'x'");
	/* what is valid stays as written */
	CHECK_STR(err(" {\"a\": [true, false, null, -0.5e+3, \"\\ud83c\\udf89\\n\"], \"b\": {}}\n",
		      HB_CTX_JSON),
		  " {\"a\": [true, false, null, -0.5e+3, \"\\ud83c\\udf89\\n\"], \"b\": {}}\n");
}

/* ---- rendering details */

TEST(template_slots_and_secrets)
{
	hb_catalog *cat = test_catalog();
	hb_template *t = NULL;
	hb_error e = {0};
	const char *tpl = "{{user.id}} {{user.email}} {{user.id | plus: 1}} {{ 'x' }} {{now}}";
	CHECK_INT(hb_template_compile(cat, tpl, strlen(tpl), HB_CTX_TEXT, &t, &e), HB_OK);
	int slots[8];
	CHECK_INT(hb_template_slots(t, slots, 8), 3);
	CHECK_INT(slots[0], S_ID);
	CHECK_INT(slots[1], S_EMAIL);
	CHECK_INT(slots[2], S_NOW);
	CHECK_INT(hb_template_slots(t, slots, 1), 3);
	CHECK(!hb_template_uses_secrets(t));
	hb_template_free(&t);
	CHECK(t == NULL);
	tpl = "X: {{secret.jira}}";
	CHECK_INT(hb_template_compile(cat, tpl, strlen(tpl), HB_CTX_HEADER, &t, &e), HB_OK);
	CHECK(hb_template_uses_secrets(t));
	hb_template_free(&t);
	hb_template_free(&t);
	hb_catalog_free(&cat);
}

TEST(template_render_cap_keeps_buffer)
{
	hb_catalog *cat = test_catalog();
	hb_template *t = NULL;
	hb_error e = {0};
	const char *tpl = "{\"d\":\"{{feedback.description}}\"}";
	CHECK_INT(hb_template_compile(cat, tpl, strlen(tpl), HB_CTX_JSON, &t, &e), HB_OK);
	hb_value r[S__COUNT];
	test_record(r);
	r[S_DESC] = hb_value_str("\"\"\"\"\"\"\"\"\"\"");
	hb_buf out;
	hb_buf_init(&out, 30);
	CHECK_INT(hb_buf_adds(&out, "keep:"), HB_OK);
	CHECK_INT(hb_template_render(t, r, 0, &out, &e), HB_ERR_TOO_LARGE);
	CHECK_STR(hb_buf_str(&out), "keep:");
	CHECK_STR(e.message, "the rendered json is over its limit of 30 bytes");
	r[S_DESC] = hb_value_str("ok");
	CHECK_INT(hb_template_render(t, r, 0, &out, &e), HB_OK);
	CHECK_INT(hb_template_render(t, r, 0, &out, &e), HB_OK);
	CHECK_STR(hb_buf_str(&out), "keep:{\"d\":\"ok\"}{\"d\":\"ok\"}");
	hb_buf_free(&out);
	hb_template_free(&t);
	hb_catalog_free(&cat);
}

TEST(template_escape_helpers)
{
	hb_buf b;
	hb_buf_init(&b, 1024);
	hb_value v = hb_value_time(-62167219200LL);
	CHECK_INT(hb_escape_json_value(&b, &v), HB_OK);
	v = hb_value_time(253402300800LL);
	CHECK_INT(hb_escape_json_value(&b, &v), HB_OK);
	CHECK_STR(hb_buf_str(&b), "\"0000-01-01T00:00:00Z\"\"invalid-time\"");
	char t1[HB_VALUE_TEXT_MAX], t2[HB_TIME_STR_MAX];
	for (int64_t t = -86400LL * 800; t < 86400LL * 366 * 90; t += 86399 * 17) {
		hb_escape_time_text(t, t1);
		hb_time_format(t, t2);
		CHECK_STR(t1, t2);
	}
	hb_buf_reset(&b);
	CHECK_INT(hb_escape_html(&b, "a<b", 3), HB_OK);
	CHECK_INT(hb_escape_form(&b, " ~*", 3), HB_OK);
	CHECK_INT(hb_escape_url(&b, " ~*", 3), HB_OK);
	CHECK_INT(hb_escape_json_quoted(&b, "\x1f", 1), HB_OK);
	CHECK_STR(hb_buf_str(&b), "a&lt;b+%7E*%20~%2A\"\\u001f\"");
	hb_buf_free(&b);
}
