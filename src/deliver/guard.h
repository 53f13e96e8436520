/*
 * guard.h - the outbound address guard: which addresses a webhook may connect to.
 *
 * A webhook URL is chosen by users, so without a guard it could reach the machine's own
 * services or the private network behind it (server-side request forgery). The guard is
 * checked on the address actually connected to, after DNS, for every connection attempt
 * (hb_guard_attach hooks it into libcurl's socket opening), so a name that resolves to a
 * private address, or re-resolves to one later, is refused too. Loopback, private, link-local,
 * unique-local, CGNAT, unspecified, multicast, broadcast, documentation and other reserved
 * ranges are refused by default (the table is in guard.c); an operator allow-list
 * (`--allow-target CIDR`) opens chosen ranges and always wins over the default refusals.
 */
#ifndef HB_DELIVER_GUARD_H
#define HB_DELIVER_GUARD_H

#include <stdbool.h>
#include <sys/socket.h>

#include "core/error.h"

typedef struct hb_guard hb_guard;

/* A guard with the default refusals and an empty allow-list; free with hb_guard_free. */
hb_guard *hb_guard_new(void);
/* Open a range ("127.0.0.1/32", "fd00::/8", a bare address); HB_ERR_INVALID if malformed. */
hb_err hb_guard_allow(hb_guard *g, const char *cidr, hb_error *e) HB_MUST_USE;
void hb_guard_free(hb_guard **g);

/* HB_OK if connecting to addr is allowed, else HB_ERR_FORBIDDEN with a message such as
 * "refused to connect to 10.1.2.3: private address (RFC 1918); allow it with --allow-target".
 * Families other than IPv4 and IPv6 are refused. */
hb_err hb_guard_check(const hb_guard *g, const struct sockaddr *addr, hb_error *e) HB_MUST_USE;

/* What the guard did during one transfer; owned by the caller, who must keep it alive (and
 * in place) until the transfer is done. `refused` is set when any address was refused and
 * `refusal` then holds the message of the last refusal (for the attempt's log). */
typedef struct hb_guard_hook {
	const hb_guard *guard;
	bool refused;
	hb_error refusal;
} hb_guard_hook;

/* Install the guard on a libcurl easy handle (a CURL *): every socket is checked before it
 * is opened (refused addresses get CURL_SOCKET_BAD, so nothing is connected and the transfer
 * fails with CURLE_COULDNT_CONNECT), only http and https are allowed, redirects are not
 * followed, and proxies from the environment are turned off so the address checked is the
 * target's own. hook is reset here. */
void hb_guard_attach(const hb_guard *g, void *curl_easy, hb_guard_hook *hook);
/* Forget the last transfer's refusals, for the next transfer on the same handle. */
void hb_guard_rearm(hb_guard_hook *hook);

#endif
