/*
 * Unit tests of src/deliver/guard: the default refusals of every address class, the allow-list,
 * and the libcurl hook on a real transfer. Only 127.0.0.1 is ever connected to; refusals of
 * other addresses are tested through hb_guard_check alone.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "deliver/guard.h"
#include "harness.h"


/* The guard's message for addr, or "allowed". */
static const char *verdict(const hb_guard *g, const char *addr, hb_error *e)
{
	struct sockaddr_storage ss;
	const struct sockaddr *sa = hb_test_sockaddr(addr, &ss);
	if (!sa)
		return "(bad test address)";
	hb_error_clear(e);
	hb_err rc = hb_guard_check(g, sa, e);
	if (rc == HB_OK)
		return "allowed";
	if (rc != HB_ERR_FORBIDDEN)
		return "(wrong code)";
	return e->message;
}

TEST(guard_refuses_every_special_class_by_default)
{
	hb_guard *g = hb_guard_new();
	hb_error e;
	/* address, the reason the message must carry */
	static const char *const refused[][2] = {
	    {"0.0.0.0", "unspecified address"},
	    {"0.1.2.3", "unspecified address (0.0.0.0/8"},
	    {"10.1.2.3", "private address (RFC 1918)"},
	    {"172.16.0.1", "private address (RFC 1918)"},
	    {"172.31.255.255", "private address (RFC 1918)"},
	    {"192.168.1.1", "private address (RFC 1918)"},
	    {"100.64.0.1", "shared CGNAT address (RFC 6598)"},
	    {"100.127.255.255", "shared CGNAT address (RFC 6598)"},
	    {"127.0.0.1", "loopback address"},
	    {"127.255.255.254", "loopback address"},
	    {"169.254.169.254", "link-local address"},
	    {"192.0.0.8", "IETF protocol assignment"},
	    {"192.0.2.1", "documentation address (RFC 5737)"},
	    {"198.51.100.1", "documentation address (RFC 5737)"},
	    {"203.0.113.1", "documentation address (RFC 5737)"},
	    {"192.88.99.1", "6to4 relay anycast"},
	    {"198.18.0.1", "benchmarking address"},
	    {"198.19.255.255", "benchmarking address"},
	    {"224.0.0.1", "multicast address"},
	    {"239.255.255.250", "multicast address"},
	    {"240.0.0.1", "reserved address (240.0.0.0/4)"},
	    {"255.255.255.255", "broadcast address"},
	    {"::", "unspecified address"},
	    {"::1", "loopback address"},
	    {"::10.0.0.1", "deprecated IPv4-compatible address"},
	    {"::ffff:10.1.2.3", "private address (RFC 1918) in IPv4-mapped form"},
	    {"::ffff:127.0.0.1", "loopback address in IPv4-mapped form"},
	    {"::ffff:169.254.169.254", "link-local address (169.254.0.0/16, includes cloud "
				       "metadata) in IPv4-mapped form"},
	    {"::ffff:8.8.8.8", "IPv4-mapped IPv6 address (::ffff:0:0/96)"},
	    {"64:ff9b::10.0.0.1", "private address (RFC 1918) in NAT64 form (64:ff9b::/96)"},
	    {"64:ff9b::127.0.0.1", "loopback address in NAT64 form"},
	    {"64:ff9b:1::1", "local-use NAT64 address"},
	    {"2002:a00:1::1", "private address (RFC 1918) in 6to4 form (2002::/16)"},
	    {"2002:7f00:1::", "loopback address in 6to4 form"},
	    {"100::1", "discard-only address"},
	    {"2001::1", "Teredo tunnel address"},
	    {"2001:2::1", "benchmarking address"},
	    {"2001:db8::1", "documentation address (RFC 3849)"},
	    {"3fff::1", "documentation address (RFC 9637)"},
	    {"fc00::1", "unique-local address (RFC 4193)"},
	    {"fd12:3456::1", "unique-local address (RFC 4193)"},
	    {"fe80::1", "link-local address"},
	    {"febf:ffff::1", "link-local address"},
	    {"fec0::1", "deprecated site-local address"},
	    {"ff02::1", "multicast address"},
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		const char *msg = verdict(g, refused[i][0], &e);
		CHECK_CONTAINS(msg, refused[i][1]);
		CHECK_CONTAINS(msg, "; allow it with --allow-target");
		CHECK_INT(e.code, HB_ERR_FORBIDDEN);
	}
	/* Whole messages. */
	CHECK_STR(verdict(g, "10.1.2.3", &e), "refused to connect to 10.1.2.3: private address "
					      "(RFC 1918); allow it with --allow-target");
	CHECK_STR(verdict(g, "::ffff:10.1.2.3", &e),
		  "refused to connect to ::ffff:10.1.2.3: private address (RFC 1918) in "
		  "IPv4-mapped form; allow it with --allow-target");
	CHECK_STR(verdict(g, "64:ff9b::10.0.0.1", &e),
		  "refused to connect to 64:ff9b::a00:1: private address (RFC 1918) in NAT64 form "
		  "(64:ff9b::/96); allow it with --allow-target");
	CHECK_STR(
	    verdict(g, "fe80::1", &e),
	    "refused to connect to fe80::1: link-local address; allow it with --allow-target");

	/* Public addresses, including the neighbours of refused ranges. */
	static const char *const allowed[] = {
	    "8.8.8.8",
	    "1.1.1.1",
	    "9.255.255.255",
	    "11.0.0.0",
	    "100.63.255.255",
	    "100.128.0.0",
	    "126.255.255.255",
	    "128.0.0.0",
	    "169.253.255.255",
	    "169.255.0.0",
	    "172.15.255.255",
	    "172.32.0.0",
	    "192.167.255.255",
	    "192.169.0.0",
	    "198.17.255.255",
	    "198.20.0.0",
	    "223.255.255.255",
	    "2606:4700:4700::1111",
	    "2001:4860:4860::8888",
	    "2001:200::1",
	    "64:ff9b::8.8.8.8",
	    "2002:808:808::1",
	    "fbff:ffff::1",
	};
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
		const char *got = verdict(g, allowed[i], &e);
		if (strcmp(got, "allowed") != 0)
			hb_test_failf(__FILE__, __LINE__, "%s: %s", allowed[i], got);
	}
	struct sockaddr other = {.sa_family = AF_UNIX};
	CHECK_INT(hb_guard_check(g, &other, &e), HB_ERR_FORBIDDEN);
	CHECK_STR(e.message, "refused to connect: address family 1 is neither IPv4 nor IPv6");
	hb_guard_free(&g);
	CHECK(g == NULL);
	hb_guard_free(&g); /* a second free is harmless */
}

TEST(guard_allow_list_opens_chosen_ranges)
{
	hb_guard *g = hb_guard_new();
	hb_error e;
	CHECK_INT(hb_guard_allow(g, "127.0.0.1/32", &e), HB_OK);
	CHECK_INT(hb_guard_allow(g, "10.0.0.0/8", &e), HB_OK);
	CHECK_INT(hb_guard_allow(g, "fd00::/8", &e), HB_OK);
	CHECK_STR(verdict(g, "127.0.0.1", &e), "allowed");
	CHECK_STR(verdict(g, "::ffff:127.0.0.1", &e), "allowed"); /* the same host, mapped */
	CHECK_CONTAINS(verdict(g, "127.0.0.2", &e), "loopback address");
	CHECK_CONTAINS(verdict(g, "::1", &e), "loopback address"); /* not opened by 127.0.0.1 */
	CHECK_STR(verdict(g, "10.200.0.1", &e), "allowed");
	CHECK_STR(verdict(g, "64:ff9b::10.0.0.1", &e), "allowed"); /* NAT64 of an allowed host */
	CHECK_STR(verdict(g, "2002:a00:1::1", &e), "allowed");
	CHECK_CONTAINS(verdict(g, "192.168.0.1", &e), "private address (RFC 1918)");
	CHECK_STR(verdict(g, "fd12::1", &e), "allowed");
	CHECK_CONTAINS(verdict(g, "fc00::1", &e), "unique-local");

	CHECK_INT(hb_guard_allow(g, "10.0.0.0/33", &e), HB_ERR_INVALID);
	CHECK_STR(e.message, "--allow-target: '10.0.0.0/33': prefix length must be 0-32 for IPv4");
	CHECK_INT(hb_guard_allow(g, "localhost", &e), HB_ERR_INVALID);
	CHECK_STR(e.message, "--allow-target: 'localhost': 'localhost' is not an IPv4 address "
			     "(expected a.b.c.d)");
	hb_guard_free(&g);

	g = hb_guard_new(); /* everything opened */
	CHECK_INT(hb_guard_allow(g, "0.0.0.0/0", &e), HB_OK);
	CHECK_INT(hb_guard_allow(g, "::/0", &e), HB_OK);
	CHECK_STR(verdict(g, "169.254.169.254", &e), "allowed");
	CHECK_STR(verdict(g, "ff02::1", &e), "allowed");
	CHECK_STR(verdict(g, "::ffff:8.8.8.8", &e), "allowed");
	hb_guard_free(&g);
}

/* A listening TCP socket on 127.0.0.1, non-blocking so accept() can poll; port in *port. */
static int listen_loopback(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof sin;
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Whether a connection is waiting on the listening socket (accepting and closing it). */
static int accepted_one(int lfd)
{
	int c = accept(lfd, NULL, NULL);
	if (c >= 0) {
		close(c);
		return 1;
	}
	return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
}

/* Run one transfer to url with the guard attached; CONNECT_ONLY, so no answer is needed. */
static CURLcode transfer(const hb_guard *g, const char *url, hb_guard_hook *hook)
{
	CURL *c = curl_easy_init();
	if (!c)
		return CURLE_FAILED_INIT;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	hb_guard_attach(g, c, hook);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	return rc;
}

TEST(guard_hook_on_a_real_loopback_transfer)
{
	int port = 0;
	int lfd = listen_loopback(&port);
	CHECK(lfd >= 0);
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", port);
	hb_guard *g = hb_guard_new();
	hb_guard_hook hook;

	/* Refused before any socket is connected: the listener never sees a connection. */
	CURLcode rc = transfer(g, url, &hook);
	CHECK_INT(rc, CURLE_COULDNT_CONNECT);
	CHECK(hook.refused);
	CHECK_INT(hook.refusal.code, HB_ERR_FORBIDDEN);
	CHECK_STR(hook.refusal.message, "refused to connect to 127.0.0.1: loopback address; "
					"allow it with --allow-target");
	CHECK_INT(accepted_one(lfd), 0);

	/* A name is judged by the address it resolves to ("localhost" never leaves the host). */
	snprintf(url, sizeof url, "http://localhost:%d/hook", port);
	CHECK_INT(transfer(g, url, &hook), CURLE_COULDNT_CONNECT);
	CHECK(hook.refused);
	CHECK_CONTAINS(hook.refusal.message, "loopback address");
	CHECK_INT(accepted_one(lfd), 0);

	/* Only http and https. */
	snprintf(url, sizeof url, "ftp://127.0.0.1:%d/", port);
	CHECK_INT(transfer(g, url, &hook), CURLE_UNSUPPORTED_PROTOCOL);
	CHECK_INT(accepted_one(lfd), 0);
	CHECK_INT(transfer(g, "file:///etc/hostname", &hook), CURLE_UNSUPPORTED_PROTOCOL);

	/* Opened by the allow-list: the connection arrives. */
	hb_error e;
	CHECK_INT(hb_guard_allow(g, "127.0.0.1/32", &e), HB_OK);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", port);
	CHECK_INT(transfer(g, url, &hook), CURLE_OK);
	CHECK(!hook.refused);
	CHECK_STR(hook.refusal.message, "");
	CHECK_INT(accepted_one(lfd), 1);
	hb_guard_free(&g);
	close(lfd);
}
