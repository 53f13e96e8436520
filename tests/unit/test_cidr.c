/* Unit tests of src/core/cidr: parsing ranges, their error messages, and matching addresses. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/cidr.h"
#include "harness.h"


static int in_range(const char *cidr, const char *addr)
{
	hb_cidr c;
	hb_error e;
	struct sockaddr_storage ss;
	const struct sockaddr *sa = hb_test_sockaddr(addr, &ss);
	if (!sa || hb_cidr_parse(cidr, &c, &e) != HB_OK)
		return -1;
	return hb_cidr_contains_sockaddr(&c, sa) ? 1 : 0;
}

static const char *parse_error(const char *text, hb_error *e)
{
	hb_cidr c;
	hb_error_clear(e);
	if (hb_cidr_parse(text, &c, e) == HB_OK)
		return "(parsed)";
	return e->message;
}

TEST(cidr_parse_and_format)
{
	struct {
		const char *in, *out;
	} cases[] = {
	    {"10.0.0.0/8", "10.0.0.0/8"},
	    {"192.168.1.7", "192.168.1.7/32"},
	    {"0.0.0.0/0", "0.0.0.0/0"},
	    {"2001:db8::/32", "2001:db8::/32"},
	    {"2001:0DB8:0000::/32", "2001:db8::/32"},
	    {"::1", "::1/128"},
	    {"::/0", "::/0"},
	    {"::ffff:10.0.0.0/104", "10.0.0.0/8"}, /* a mapped range is the IPv4 range */
	    {"::ffff:127.0.0.1", "127.0.0.1/32"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		hb_cidr c;
		hb_error e;
		char text[HB_CIDR_TEXT_MAX];
		CHECK_INT(hb_cidr_parse(cases[i].in, &c, &e), HB_OK);
		hb_cidr_format(&c, text, sizeof text);
		CHECK_STR(text, cases[i].out);
	}
}

TEST(cidr_parse_errors_say_what_is_wrong)
{
	hb_error e;
	CHECK_STR(parse_error("10.0.0.0/33", &e),
		  "'10.0.0.0/33': prefix length must be 0-32 for IPv4");
	CHECK_INT(e.code, HB_ERR_INVALID);
	CHECK_STR(parse_error("fd00::/129", &e),
		  "'fd00::/129': prefix length must be 0-128 for IPv6");
	CHECK_STR(parse_error("10.0.0.0/", &e), "'10.0.0.0/': prefix length must be 0-32 for IPv4");
	CHECK_STR(parse_error("10.0.0.0/8x", &e),
		  "'10.0.0.0/8x': prefix length must be 0-32 for IPv4");
	CHECK_STR(parse_error("10.0.0.0/-1", &e),
		  "'10.0.0.0/-1': prefix length must be 0-32 for IPv4");
	CHECK_STR(parse_error("10.0.0.0/0008", &e),
		  "'10.0.0.0/0008': prefix length must be 0-32 for IPv4");
	CHECK_STR(parse_error("10.0.0/8", &e),
		  "'10.0.0/8': '10.0.0' is not an IPv4 address (expected a.b.c.d)");
	CHECK_STR(parse_error("256.1.1.1", &e),
		  "'256.1.1.1': '256.1.1.1' is not an IPv4 address (expected a.b.c.d)");
	CHECK_STR(parse_error("example.com/8", &e),
		  "'example.com/8': 'example.com' is not an IPv4 address (expected a.b.c.d)");
	CHECK_STR(parse_error("fe80::1%eth0", &e),
		  "'fe80::1%eth0': 'fe80::1%eth0' is not an IPv6 address");
	CHECK_STR(parse_error("2001:db8:::/48", &e),
		  "'2001:db8:::/48': '2001:db8:::' is not an IPv6 address");
	CHECK_STR(parse_error("", &e), "empty address range");
	CHECK_STR(parse_error(" 10.0.0.0/8", &e),
		  "' 10.0.0.0/8': ' 10.0.0.0' is not an IPv4 address (expected a.b.c.d)");
	CHECK_STR(
	    parse_error("10.1.2.3/8", &e),
	    "'10.1.2.3/8': address has bits set past the /8 prefix (did you mean 10.0.0.0/8?)");
	CHECK_STR(parse_error("2001:db8::1/32", &e),
		  "'2001:db8::1/32': address has bits set past "
		  "the /32 prefix (did you mean 2001:db8::/32?)");
	CHECK_STR(parse_error("192.168.1.129/25", &e), "'192.168.1.129/25': address has bits set "
						       "past the /25 prefix (did you mean "
						       "192.168.1.128/25?)");
	CHECK_CONTAINS(
	    parse_error("1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd/1", &e),
	    "too long for an address range");
}

TEST(cidr_matching_v4_v6_and_mapped)
{
	CHECK_INT(in_range("10.0.0.0/8", "10.255.1.2"), 1);
	CHECK_INT(in_range("10.0.0.0/8", "11.0.0.0"), 0);
	CHECK_INT(in_range("10.0.0.0/8", "9.255.255.255"), 0);
	CHECK_INT(in_range("172.16.0.0/12", "172.31.255.255"), 1);
	CHECK_INT(in_range("172.16.0.0/12", "172.32.0.0"), 0);
	CHECK_INT(in_range("192.168.1.128/25", "192.168.1.200"), 1);
	CHECK_INT(in_range("192.168.1.128/25", "192.168.1.127"), 0);
	CHECK_INT(in_range("0.0.0.0/0", "8.8.8.8"), 1);
	CHECK_INT(in_range("0.0.0.0/0", "::1"), 0); /* families do not mix */
	CHECK_INT(in_range("::/0", "10.0.0.1"), 0);
	CHECK_INT(in_range("127.0.0.1", "127.0.0.1"), 1);
	CHECK_INT(in_range("127.0.0.1", "127.0.0.2"), 0);
	CHECK_INT(in_range("2001:db8::/32", "2001:db8:ffff::1"), 1);
	CHECK_INT(in_range("2001:db8::/32", "2001:db9::1"), 0);
	CHECK_INT(in_range("fc00::/7", "fdff::1"), 1);
	CHECK_INT(in_range("fc00::/7", "fe00::1"), 0);
	CHECK_INT(in_range("::1", "::1"), 1);
	/* IPv4-mapped IPv6 addresses are matched as their IPv4 address. */
	CHECK_INT(in_range("10.0.0.0/8", "::ffff:10.1.2.3"), 1);
	CHECK_INT(in_range("127.0.0.1/32", "::ffff:127.0.0.1"), 1);
	CHECK_INT(in_range("::ffff:10.0.0.0/104", "10.9.9.9"), 1);
	CHECK_INT(in_range("::ffff:0:0/96", "10.9.9.9"), 1);
	CHECK_INT(in_range("::ffff:0:0/96", "::1"), 0);
	CHECK_INT(in_range("10.0.0.0/8", "::10.1.2.3"), 0); /* IPv4-compatible is not mapped */
}

TEST(cidr_sockaddr_mapped_flag_and_format)
{
	struct sockaddr_storage ss;
	hb_ipaddr a;
	char text[HB_CIDR_TEXT_MAX];
	CHECK(hb_ipaddr_from_sockaddr(hb_test_sockaddr("::ffff:10.1.2.3", &ss), &a));
	CHECK_INT(a.family, AF_INET);
	CHECK(a.mapped);
	hb_ipaddr_format(&a, text, sizeof text);
	CHECK_STR(text, "::ffff:10.1.2.3");
	CHECK(hb_ipaddr_from_sockaddr(hb_test_sockaddr("2001:db8::1", &ss), &a));
	CHECK_INT(a.family, AF_INET6);
	CHECK(!a.mapped);
	hb_ipaddr_format(&a, text, sizeof text);
	CHECK_STR(text, "2001:db8::1");
	struct sockaddr unix_sa = {.sa_family = AF_UNIX};
	CHECK(!hb_ipaddr_from_sockaddr(&unix_sa, &a));
	CHECK(!hb_ipaddr_from_sockaddr(NULL, &a));
}

TEST(cidr_list)
{
	hb_cidr_list l = {0};
	hb_error e;
	struct sockaddr_storage ss;
	CHECK(!hb_cidr_list_contains_sockaddr(&l, hb_test_sockaddr("10.0.0.1", &ss)));
	CHECK_INT(hb_cidr_list_add(&l, "10.0.0.0/8", &e), HB_OK);
	CHECK_INT(hb_cidr_list_add(&l, "fd00::/8", &e), HB_OK);
	CHECK_INT(hb_cidr_list_add(&l, "192.168.0.1/16", &e), HB_ERR_INVALID);
	CHECK_CONTAINS(e.message, "did you mean 192.168.0.0/16?");
	for (int i = 0; i < 10; i++) /* grows past its first allocation */
		CHECK_INT(hb_cidr_list_add(&l, "203.0.113.0/24", &e), HB_OK);
	CHECK_INT(l.len, 12);
	CHECK(hb_cidr_list_contains_sockaddr(&l, hb_test_sockaddr("10.0.0.1", &ss)));
	CHECK(hb_cidr_list_contains_sockaddr(&l, hb_test_sockaddr("::ffff:10.0.0.1", &ss)));
	CHECK(hb_cidr_list_contains_sockaddr(&l, hb_test_sockaddr("fd12::1", &ss)));
	CHECK(hb_cidr_list_contains_sockaddr(&l, hb_test_sockaddr("203.0.113.9", &ss)));
	CHECK(!hb_cidr_list_contains_sockaddr(&l, hb_test_sockaddr("192.168.0.1", &ss)));
	CHECK(!hb_cidr_list_contains_sockaddr(&l, hb_test_sockaddr("fe80::1", &ss)));
	hb_cidr_list_free(&l);
	CHECK(l.items == NULL);
	CHECK_INT(l.len, 0);
}
