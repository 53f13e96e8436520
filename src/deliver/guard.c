/*
 * guard.c - the outbound address guard (see guard.h).
 *
 * DESIGN: hb_guard_check unmaps the address (::ffff:a.b.c.d is judged as a.b.c.d), lets the
 * operator's allow-list win, then looks the address up in the refusal table of its family.
 * Two IPv6 forms carry an IPv4 address inside and are judged by it: NAT64 64:ff9b::/96 (last
 * 32 bits) and 6to4 2002::/16 (bits 16-47); they pass when the embedded address is public.
 * A mapped address whose IPv4 address is public is still refused: no resolver hands those out
 * for a real host, and a socket to one is a way around filters that only look at IPv6 rules.
 */
#include "deliver/guard.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cidr.h"
#include "core/mem.h"

/* Refused by default, first match wins (so a narrower range comes before a wider one). */
static const struct {
	const char *cidr;
	const char *reason;
} deny_table[] = {
    /* IPv4 (RFC 6890 special-purpose registry, plus multicast and class E) */
    {"0.0.0.0/8", "unspecified address (0.0.0.0/8, \"this network\")"},
    {"10.0.0.0/8", "private address (RFC 1918)"},
    {"100.64.0.0/10", "shared CGNAT address (RFC 6598)"},
    {"127.0.0.0/8", "loopback address"},
    {"169.254.0.0/16", "link-local address (169.254.0.0/16, includes cloud metadata)"},
    {"172.16.0.0/12", "private address (RFC 1918)"},
    {"192.0.0.0/24", "IETF protocol assignment (192.0.0.0/24)"},
    {"192.0.2.0/24", "documentation address (RFC 5737)"},
    {"192.88.99.0/24", "deprecated 6to4 relay anycast address (RFC 7526)"},
    {"192.168.0.0/16", "private address (RFC 1918)"},
    {"198.18.0.0/15", "benchmarking address (RFC 2544)"},
    {"198.51.100.0/24", "documentation address (RFC 5737)"},
    {"203.0.113.0/24", "documentation address (RFC 5737)"},
    {"224.0.0.0/4", "multicast address"},
    {"255.255.255.255/32", "broadcast address"},
    {"240.0.0.0/4", "reserved address (240.0.0.0/4)"},
    /* IPv6 (RFC 6890 and later registry entries) */
    {"::/128", "unspecified address"},
    {"::1/128", "loopback address"},
    {"::/96", "deprecated IPv4-compatible address (::/96)"},
    {"64:ff9b:1::/48", "local-use NAT64 address (RFC 8215)"},
    {"100::/64", "discard-only address (RFC 6666)"},
    {"2001::/32", "Teredo tunnel address (2001::/32)"},
    {"2001:2::/48", "benchmarking address (RFC 5180)"},
    {"2001:10::/28", "deprecated ORCHID address (RFC 4843)"},
    {"2001:db8::/32", "documentation address (RFC 3849)"},
    {"3fff::/20", "documentation address (RFC 9637)"},
    {"fc00::/7", "unique-local address (RFC 4193)"},
    {"fe80::/10", "link-local address"},
    {"fec0::/10", "deprecated site-local address"},
    {"ff00::/8", "multicast address"},
};

#define DENY_COUNT (sizeof deny_table / sizeof deny_table[0])

struct hb_guard {
	hb_cidr deny[DENY_COUNT];
	hb_cidr nat64;	  /* 64:ff9b::/96 */
	hb_cidr six2four; /* 2002::/16 */
	hb_cidr_list allow;
};

static void parse_fixed(const char *text, hb_cidr *out)
{
	hb_error e;
	if (hb_cidr_parse(text, out, &e) != HB_OK) {
		fprintf(stderr, "hookbridge: bad built-in range: %s\n", e.message);
		abort();
	}
}

hb_guard *hb_guard_new(void)
{
	hb_guard *g = hb_calloc(1, sizeof *g);
	for (size_t i = 0; i < DENY_COUNT; i++)
		parse_fixed(deny_table[i].cidr, &g->deny[i]);
	parse_fixed("64:ff9b::/96", &g->nat64);
	parse_fixed("2002::/16", &g->six2four);
	return g;
}

hb_err hb_guard_allow(hb_guard *g, const char *cidr, hb_error *e)
{
	hb_err rc = hb_cidr_list_add(&g->allow, cidr, e);
	if (rc != HB_OK)
		hb_error_prefix(e, "--allow-target");
	return rc;
}

void hb_guard_free(hb_guard **g)
{
	if (!*g)
		return;
	hb_cidr_list_free(&(*g)->allow);
	free(*g);
	*g = NULL;
}

/* The reason the default table refuses a, or NULL. */
static const char *deny_reason(const hb_guard *g, const hb_ipaddr *a)
{
	for (size_t i = 0; i < DENY_COUNT; i++)
		if (hb_cidr_contains(&g->deny[i], a))
			return deny_table[i].reason;
	return NULL;
}

/* The IPv4 address carried inside a NAT64 or 6to4 address, if a is one; *form names it. */
static bool embedded_v4(const hb_guard *g, const hb_ipaddr *a, hb_ipaddr *v4, const char **form)
{
	memset(v4, 0, sizeof *v4);
	v4->family = AF_INET;
	if (hb_cidr_contains(&g->nat64, a)) {
		memcpy(v4->b, a->b + 12, 4);
		*form = "NAT64 form (64:ff9b::/96)";
		return true;
	}
	if (hb_cidr_contains(&g->six2four, a)) {
		memcpy(v4->b, a->b + 2, 4);
		*form = "6to4 form (2002::/16)";
		return true;
	}
	return false;
}

hb_err hb_guard_check(const hb_guard *g, const struct sockaddr *addr, hb_error *e)
{
	hb_ipaddr a;
	if (!hb_ipaddr_from_sockaddr(addr, &a))
		return hb_fail(e, HB_ERR_FORBIDDEN, "",
			       "refused to connect: address family %d is "
			       "neither IPv4 nor IPv6",
			       addr ? (int)addr->sa_family : -1);
	if (hb_cidr_list_contains(&g->allow, &a))
		return HB_OK;

	char why[256];
	why[0] = '\0';
	const char *reason = deny_reason(g, &a);
	hb_ipaddr v4;
	const char *form = NULL;
	if (a.family == AF_INET && a.mapped) {
		if (reason)
			snprintf(why, sizeof why, "%s in IPv4-mapped form", reason);
		else
			snprintf(why, sizeof why, "IPv4-mapped IPv6 address (::ffff:0:0/96)");
	} else if (reason) {
		snprintf(why, sizeof why, "%s", reason);
	} else if (a.family == AF_INET6 && embedded_v4(g, &a, &v4, &form)) {
		if (hb_cidr_list_contains(&g->allow, &v4))
			return HB_OK;
		const char *inner = deny_reason(g, &v4);
		if (inner)
			snprintf(why, sizeof why, "%s in %s", inner, form);
	}
	if (!why[0])
		return HB_OK;
	char text[HB_CIDR_TEXT_MAX];
	hb_ipaddr_format(&a, text, sizeof text);
	return hb_fail(e, HB_ERR_FORBIDDEN, "",
		       "refused to connect to %s: %s; allow it with "
		       "--allow-target",
		       text, why);
}

/* libcurl's socket opener: check the address, then open the socket as libcurl would. */
static curl_socket_t guard_opensocket(void *clientp, curlsocktype purpose,
				      struct curl_sockaddr *address)
{
	hb_guard_hook *hook = clientp;
	hb_error e;
	hb_error_clear(&e);
	if (purpose != CURLSOCKTYPE_IPCXN) {
		hook->refused = true;
		hb_fail(&hook->refusal, HB_ERR_FORBIDDEN, "",
			"refused to open a socket of an "
			"unexpected kind (%d)",
			(int)purpose);
		return CURL_SOCKET_BAD;
	}
	if (hb_guard_check(hook->guard, &address->addr, &e) != HB_OK) {
		hook->refused = true;
		hook->refusal = e;
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

void hb_guard_rearm(hb_guard_hook *hook)
{
	hook->refused = false;
	hb_error_clear(&hook->refusal);
}

void hb_guard_attach(const hb_guard *g, void *curl_easy, hb_guard_hook *hook)
{
	CURL *c = curl_easy;
	hook->guard = g;
	hb_guard_rearm(hook);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, guard_opensocket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, hook);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	/* no proxy, whatever the environment says: the guard must see the real destination; and
	   an empty no-proxy list, so that libcurl does not read the environment at every transfer */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "");
}
