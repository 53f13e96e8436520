/*
 * cidr.h - IP addresses and address ranges ("10.0.0.0/8", "2001:db8::/32", a bare address).
 *
 * Used by the outbound address guard (deliver/guard.c) and by API-key IP allow-lists. An
 * address is compared in its plain form: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the
 * IPv4 address a.b.c.d, so "10.0.0.0/8" matches both 10.1.2.3 and ::ffff:10.1.2.3, and a range
 * written inside ::ffff:0:0/96 is stored as the IPv4 range it names.
 */
#ifndef HB_CORE_CIDR_H
#define HB_CORE_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/error.h"

/* Longest text of an address or range (an IPv6 address with an embedded IPv4 one, "/128"). */
#define HB_CIDR_TEXT_MAX 64

/* One address: AF_INET uses b[0..4), AF_INET6 b[0..16). */
typedef struct hb_ipaddr {
	int family;
	uint8_t b[16];
	bool mapped; /* came from ::ffff:a.b.c.d and was turned into the IPv4 address */
} hb_ipaddr;

/* A range: the network address (host bits zero) and the prefix length. */
typedef struct hb_cidr {
	hb_ipaddr net;
	unsigned prefix; /* 0-32 for AF_INET, 0-128 for AF_INET6 */
} hb_cidr;

/* A growable list of ranges; zero-initialised ({0}) is an empty list. */
typedef struct hb_cidr_list {
	hb_cidr *items; /* owned */
	size_t len;
	size_t cap;
} hb_cidr_list;

/* The address of sa (AF_INET or AF_INET6, mapped forms unmapped); false for other families. */
bool hb_ipaddr_from_sockaddr(const struct sockaddr *sa, hb_ipaddr *out);
/* The address as text ("10.1.2.3", "::1"; "::ffff:10.1.2.3" when it came mapped). */
void hb_ipaddr_format(const hb_ipaddr *a, char *out, size_t n);

/* Parse "ADDR/LEN" or a bare address (a /32 or /128). Host bits must be zero. */
hb_err hb_cidr_parse(const char *text, hb_cidr *out, hb_error *e) HB_MUST_USE;
/* The range as canonical text ("10.0.0.0/8"). */
void hb_cidr_format(const hb_cidr *c, char *out, size_t n);
/* Whether the range holds the address (families must agree after unmapping). */
bool hb_cidr_contains(const hb_cidr *c, const hb_ipaddr *a);
/* Whether the range holds the address of sa; false for non-IP families. */
bool hb_cidr_contains_sockaddr(const hb_cidr *c, const struct sockaddr *sa);

/* Parse text and append it to the list; the list is unchanged on error. */
hb_err hb_cidr_list_add(hb_cidr_list *l, const char *text, hb_error *e) HB_MUST_USE;
/* Whether any range of the list holds the address. */
bool hb_cidr_list_contains(const hb_cidr_list *l, const hb_ipaddr *a);
bool hb_cidr_list_contains_sockaddr(const hb_cidr_list *l, const struct sockaddr *sa);
/* Free the ranges; the list is empty afterwards and may be reused. */
void hb_cidr_list_free(hb_cidr_list *l);

#endif
