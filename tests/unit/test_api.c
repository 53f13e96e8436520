/* Unit tests of the pure parts of src/api: cursors, route matching and server settings. */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "harness.h"

TEST(api_cursor_round_trip)
{
	static const int64_t ids[] = {0, 1, 9, 10, 12345, 999999999, INT64_MAX};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		char c[64];
		int64_t back = -1;
		hb_cursor_encode(ids[i], c, sizeof c);
		CHECK(strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
		      strlen(c));
		CHECK(hb_cursor_decode(c, &back));
		CHECK(back == ids[i]);
	}
}

TEST(api_cursor_refuses_foreign_text)
{
	int64_t id;
	/* not base64url, empty, another prefix ("c=12"), a sign, a space, overlong */
	static const char *const bad[] = {"", "not a cursor", "Yz0xMg", "YzE6LTE", "YzE6IDE",
					  "YzE6MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw", "Y", "====",
					  "YzE6"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(!hb_cursor_decode(bad[i], &id));
}

TEST(api_routes_match_literals_first)
{
	hb_req r;
	bool known;
	memset(&r, 0, sizeof r);
	const hb_route *rt = hb_route_match(&r, "POST", "/api/v1/macros/validate", &known);
	CHECK(rt && strcmp(rt->pattern, "/api/v1/macros/validate") == 0);
	rt = hb_route_match(&r, "GET", "/api/v1/macros/validate", &known);
	CHECK(rt && strcmp(rt->pattern, "/api/v1/macros/{key}") == 0);
	CHECK_STR(r.params[0], "validate");
	rt = hb_route_match(&r, "GET", "/api/v1/users/zoe@example.com/notes/", &known);
	CHECK(rt && strcmp(rt->pattern, "/api/v1/users/{user}/notes") == 0);
	CHECK_STR(r.params[0], "zoe@example.com");
	CHECK(!hb_route_match(&r, "PUT", "/api/v1/users", &known) && known);
	CHECK(!hb_route_match(&r, "GET", "/api/v1/users//notes", &known) && !known);
	CHECK(!hb_route_match(&r, "GET", "/api/v1/nothing", &known) && !known);
	char allow[64];
	hb_route_allowed("/api/v1/users", allow, sizeof allow);
	CHECK_STR(allow, "GET, POST");
}

TEST(api_routes_compare_whole_segments)
{
	hb_req r;
	bool known;
	memset(&r, 0, sizeof r);
	/* a segment that only starts like a route's, or is cut short, matches nothing */
	CHECK(!hb_route_match(&r, "GET", "/api/v1/userss", &known) && !known);
	CHECK(!hb_route_match(&r, "GET", "/api/v1/user", &known) && !known);
	CHECK(!hb_route_match(&r, "GET", "/api/v1/users/a/notesx", &known) && !known);
	CHECK(!hb_route_match(&r, "GET", "/api/v1/users/a/notes//", &known) && !known);
	CHECK(!hb_route_match(&r, "GET", "api/v1/users", &known) && !known);
	CHECK(!hb_route_match(&r, "GET", "/", &known) && !known);
	const hb_route *rt = hb_route_match(&r, "GET", "/api/v1/lookup/users/42", &known);
	CHECK(rt && r.nparams == 2);
	CHECK_STR(r.params[0], "users");
	CHECK_STR(r.params[1], "42");
	char longest[HB_API_PARAM_MAX + 32];
	memset(longest, 'a', sizeof longest);
	memcpy(longest, "/api/v1/users/", 14);
	longest[14 + HB_API_PARAM_MAX - 1] = '\0'; /* the longest parameter that fits */
	CHECK(hb_route_match(&r, "GET", longest, &known) != NULL);
	CHECK(strlen(r.params[0]) == HB_API_PARAM_MAX - 1);
	longest[14 + HB_API_PARAM_MAX - 1] = 'a';
	longest[14 + HB_API_PARAM_MAX] = '\0'; /* one more */
	CHECK(!hb_route_match(&r, "GET", longest, &known) && !known);
}

TEST(api_read_routes_are_plain_reads)
{
	/* a route run in one read transaction must not take a body, nor write: every such route
	   is a GET that needs the store */
	size_t reads = 0;
	for (size_t i = 0; i < hb_nroutes; i++) {
		const hb_route *rt = &hb_routes[i];
		if (!(rt->flags & HB_ROUTE_READ))
			continue;
		reads++;
		CHECK_STR(rt->method, "GET");
		CHECK(!(rt->flags & (HB_ROUTE_BODY | HB_ROUTE_NOSTORE | HB_ROUTE_PUBLIC)));
	}
	CHECK(reads > 20);
	bool known;
	hb_req r;
	memset(&r, 0, sizeof r);
	const hb_route *rt = hb_route_match(&r, "GET", "/api/v1/users/zoe@example.com", &known);
	CHECK(rt && (rt->flags & HB_ROUTE_READ));
}

TEST(api_config_parses_and_refuses)
{
	hb_api_config cfg;
	hb_error e;
	unsetenv("HOOKBRIDGE_MAX_BODY");
	CHECK(hb_api_config_init(&cfg, &e) == HB_OK);
	CHECK(cfg.max_body == 1024 * 1024);
	CHECK(hb_api_config_set(&cfg, "max-body", "2m", &e) == HB_OK);
	CHECK(cfg.max_body == 2 * 1024 * 1024);
	CHECK(hb_api_config_set(&cfg, "listen", "[::1]:80", &e) == HB_OK);
	CHECK(cfg.addr.ss_family == AF_INET6);
	CHECK(hb_api_config_set(&cfg, "listen", "localhost:80", &e) == HB_ERR_USAGE);
	CHECK(hb_api_config_set(&cfg, "listen", "127.0.0.1:70000", &e) == HB_ERR_USAGE);
	CHECK(hb_api_config_set(&cfg, "threads", "0", &e) == HB_ERR_USAGE);
	CHECK(hb_api_config_set(&cfg, "max-body", "12q", &e) == HB_ERR_USAGE);
	CHECK_CONTAINS(e.message, "max-body");
	CHECK(hb_api_config_set(&cfg, "log-format", "xml", &e) == HB_ERR_USAGE);
	setenv("HOOKBRIDGE_MAX_BODY", "nope", 1);
	CHECK(hb_api_config_init(&cfg, &e) == HB_ERR_USAGE);
	CHECK_CONTAINS(e.message, "HOOKBRIDGE_MAX_BODY");
	unsetenv("HOOKBRIDGE_MAX_BODY");
}
