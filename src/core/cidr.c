/* cidr.c - parsing and matching of IP addresses and ranges (see cidr.h). */
#include "core/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Turn ::ffff:a.b.c.d into a.b.c.d in place. */
static void unmap(hb_ipaddr *a)
{
	if (a->family != AF_INET6 || memcmp(a->b, mapped_prefix, sizeof mapped_prefix) != 0)
		return;
	memmove(a->b, a->b + 12, 4);
	memset(a->b + 4, 0, 12);
	a->family = AF_INET;
	a->mapped = true;
}

bool hb_ipaddr_from_sockaddr(const struct sockaddr *sa, hb_ipaddr *out)
{
	memset(out, 0, sizeof *out);
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, sa, sizeof sin);
		out->family = AF_INET;
		memcpy(out->b, &sin.sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;
		memcpy(&sin6, sa, sizeof sin6);
		out->family = AF_INET6;
		memcpy(out->b, &sin6.sin6_addr, 16);
		unmap(out);
		return true;
	}
	return false;
}

void hb_ipaddr_format(const hb_ipaddr *a, char *out, size_t n)
{
	char text[INET6_ADDRSTRLEN] = "?";
	if (a->family == AF_INET || a->family == AF_INET6)
		inet_ntop(a->family, a->b, text, sizeof text);
	snprintf(out, n, "%s%s", a->mapped ? "::ffff:" : "", text);
}

/* Zero the bits of b past the first prefix bits. */
static void clear_host_bits(uint8_t *b, size_t nbytes, unsigned prefix)
{
	for (size_t i = 0; i < nbytes; i++) {
		unsigned bit0 = (unsigned)i * 8;
		if (bit0 >= prefix)
			b[i] = 0;
		else if (bit0 + 8 > prefix)
			b[i] &= (uint8_t)(0xffu << (8 - (prefix - bit0)));
	}
}

static bool prefix_equal(const uint8_t *x, const uint8_t *y, unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;
	if (memcmp(x, y, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (x[whole] & mask) == (y[whole] & mask);
}

hb_err hb_cidr_parse(const char *text, hb_cidr *out, hb_error *e)
{
	memset(out, 0, sizeof *out);
	size_t n = strlen(text);
	if (n == 0)
		return hb_fail(e, HB_ERR_INVALID, "cidr", "empty address range");
	if (n >= HB_CIDR_TEXT_MAX)
		return hb_fail(e, HB_ERR_INVALID, "cidr", "'%.40s…': too long for an address range",
			       text);
	char addr[HB_CIDR_TEXT_MAX];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : n;
	memcpy(addr, text, alen);
	addr[alen] = '\0';

	hb_ipaddr ip = {0};
	if (strchr(addr, ':')) {
		ip.family = AF_INET6;
		if (inet_pton(AF_INET6, addr, ip.b) != 1)
			return hb_fail(e, HB_ERR_INVALID, "cidr",
				       "'%s': '%s' is not an IPv6 address", text, addr);
	} else {
		ip.family = AF_INET;
		if (inet_pton(AF_INET, addr, ip.b) != 1)
			return hb_fail(e, HB_ERR_INVALID, "cidr",
				       "'%s': '%s' is not an IPv4 address (expected a.b.c.d)", text,
				       addr);
	}
	unsigned max = ip.family == AF_INET ? 32 : 128;
	unsigned prefix = max;
	if (slash) {
		const char *p = slash + 1;
		size_t plen = strlen(p);
		bool digits = plen > 0 && plen <= 3;
		for (size_t i = 0; digits && i < plen; i++)
			digits = p[i] >= '0' && p[i] <= '9';
		unsigned v = 0;
		for (size_t i = 0; digits && i < plen; i++)
			v = v * 10 + (unsigned)(p[i] - '0');
		if (!digits || v > max)
			return hb_fail(e, HB_ERR_INVALID, "cidr",
				       "'%s': prefix length must be 0-%u for %s", text, max,
				       ip.family == AF_INET ? "IPv4" : "IPv6");
		prefix = v;
	}
	hb_cidr suggest = {.net = ip, .prefix = prefix};
	clear_host_bits(suggest.net.b, max / 8, prefix);
	if (memcmp(suggest.net.b, ip.b, sizeof ip.b) != 0) {
		char s[HB_CIDR_TEXT_MAX];
		hb_cidr_format(&suggest, s, sizeof s);
		return hb_fail(e, HB_ERR_INVALID, "cidr",
			       "'%s': address has bits set past the /%u prefix (did you mean %s?)",
			       text, prefix, s);
	}
	/* A range inside ::ffff:0:0/96 names IPv4 addresses; store it as the IPv4 range. */
	if (ip.family == AF_INET6 && prefix >= 96 &&
	    memcmp(ip.b, mapped_prefix, sizeof mapped_prefix) == 0) {
		unmap(&ip);
		ip.mapped = false;
		prefix -= 96;
	}
	out->net = ip;
	out->prefix = prefix;
	return HB_OK;
}

void hb_cidr_format(const hb_cidr *c, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (c->net.family == AF_INET || c->net.family == AF_INET6)
		inet_ntop(c->net.family, c->net.b, a, sizeof a);
	snprintf(out, n, "%s/%u", a, c->prefix);
}

bool hb_cidr_contains(const hb_cidr *c, const hb_ipaddr *a)
{
	if (c->net.family != a->family)
		return false;
	return prefix_equal(c->net.b, a->b, c->prefix);
}

bool hb_cidr_contains_sockaddr(const hb_cidr *c, const struct sockaddr *sa)
{
	hb_ipaddr a;
	return hb_ipaddr_from_sockaddr(sa, &a) && hb_cidr_contains(c, &a);
}

hb_err hb_cidr_list_add(hb_cidr_list *l, const char *text, hb_error *e)
{
	hb_cidr c;
	hb_err rc = hb_cidr_parse(text, &c, e);
	if (rc != HB_OK)
		return rc;
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->items = hb_realloc(l->items, l->cap * sizeof *l->items);
	}
	l->items[l->len++] = c;
	return HB_OK;
}

bool hb_cidr_list_contains(const hb_cidr_list *l, const hb_ipaddr *a)
{
	for (size_t i = 0; i < l->len; i++)
		if (hb_cidr_contains(&l->items[i], a))
			return true;
	return false;
}

bool hb_cidr_list_contains_sockaddr(const hb_cidr_list *l, const struct sockaddr *sa)
{
	hb_ipaddr a;
	return hb_ipaddr_from_sockaddr(sa, &a) && hb_cidr_list_contains(l, &a);
}

void hb_cidr_list_free(hb_cidr_list *l)
{
	free(l->items);
	l->items = NULL;
	l->len = l->cap = 0;
}
