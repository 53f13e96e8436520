/*
 * request.c - see request.h.
 */
#include "deliver/request.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/jsonw.h"
#include "core/text.h"
#include "deliver/sign.h"

#ifndef HB_VERSION
#define HB_VERSION "0.0.0"
#endif

static const char mask[] = "********";

/* Whether the lower-case name s (NUL-terminated) has one of the words that mark a credential
   anywhere in it: one pass, as every header of every answer goes through here. */
static bool names_credential(const char *s)
{
	for (; *s; s++) {
		const char *w;
		switch (*s) {
		case 'k': w = "key"; break;
		case 't': w = "token"; break;
		case 's': w = "secret"; break;
		case 'p': w = "password"; break;
		case 'a': w = "auth"; break;
		default: continue;
		}
		size_t i = 1;
		while (w[i] && s[i] == w[i])
			i++;
		if (!w[i])
			return true;
	}
	return false;
}

/* Whether the lower-case name low (len bytes) is word (a literal). */
#define IS(low, len, word) ((len) == sizeof(word) - 1 && memcmp(low, word, sizeof(word) - 1) == 0)

bool hb_header_is_credential(const char *name, size_t len)
{
	char low[128];
	if (len >= sizeof low)
		len = sizeof low - 1;
	for (size_t i = 0; i < len; i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	low[len] = '\0';
	if (IS(low, len, "cookie") || IS(low, len, "set-cookie"))
		return true;
	if ((len >= 8 && memcmp(low, "webhook-", 8) == 0) || IS(low, len, "idempotency-key"))
		return false;
	return names_credential(low); /* Authorization and Proxy-Authorization among them */
}

hb_err hb_log_body(hb_buf *out, const char *body, size_t len, bool truncated)
{
	bool cut = len > HB_LOG_BODY_MAX;
	size_t n = cut ? HB_LOG_BODY_MAX : len;
	while (cut && n > 0 && ((unsigned char)body[n] & 0xC0) == 0x80)
		n--; /* do not cut a UTF-8 sequence in two */
	size_t bad;
	hb_err rc = hb_json_write_key(out, "text", true);
	if (rc)
		return rc;
	if (hb_text_is_utf8(body, n, &bad)) {
		rc = hb_json_write_string(out, body, n, false);
	} else {
		char what[64];
		int w = snprintf(what, sizeof what, "(%zu bytes, not UTF-8 text)", len);
		rc = hb_json_write_string(out, what, (size_t)w, false);
	}
	if (!rc)
		rc = hb_buf_adds(out, ",\"bytes\":");
	if (!rc)
		rc = hb_buf_add_int(out, (long long)len);
	if (!rc && (cut || truncated))
		rc = hb_buf_adds(out, ",\"truncated\":true");
	return rc;
}

hb_err hb_log_header(hb_buf *out, const char *name, size_t nlen, const char *val, size_t vlen)
{
	return hb_log_header_at(out, 0, name, nlen, val, vlen);
}

hb_err hb_log_header_at(hb_buf *out, size_t list_at, const char *name, size_t nlen,
			const char *val, size_t vlen)
{
	hb_err rc = hb_buf_adds(out, out->len > list_at ? ",[" : "[");
	if (!rc)
		rc = hb_json_write_string(out, name, nlen, true);
	if (!rc)
		rc = hb_buf_addc(out, ',');
	if (!rc)
		rc = hb_json_write_string(out, val, vlen, true);
	return rc ? rc : hb_buf_addc(out, ']');
}

/* Split a rendered header block into "Name: value" lines; fn gets name and value. */
typedef hb_err (*header_fn)(void *ud, const char *name, size_t nlen, const char *val,
			    size_t vlen, hb_error *e);

static hb_err each_header(const char *block, header_fn fn, void *ud, hb_error *e)
{
	const char *p = block;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *colon = memchr(p, ':', len);
		if (colon) {
			const char *v = colon + 1, *end = p + len;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
				end--;
			hb_err rc = fn(ud, p, (size_t)(colon - p), v, (size_t)(end - v), e);
			if (rc)
				return rc;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return HB_OK;
}

typedef struct send_job {
	hb_request *r;
	bool has_type;
} send_job;

/* "name: value" onto the request's header list ("name;" for an empty value: curl drops a
   "name:" one); the caller has checked that it fits in HB_HEADERS_MAX. Joined by hand: this
   runs for every header of every request. */
static void send_header(hb_request *r, const char *name, size_t nlen, const char *val, size_t vlen)
{
	char line[HB_HEADERS_MAX];
	memcpy(line, name, nlen);
	size_t n = nlen;
	if (vlen) {
		line[n++] = ':';
		line[n++] = ' ';
		memcpy(line + n, val, vlen);
		n += vlen;
	} else {
		line[n++] = ';';
	}
	line[n] = '\0';
	r->headers = curl_slist_append(r->headers, line);
}

static hb_err add_sent(void *ud, const char *name, size_t nlen, const char *val, size_t vlen,
		       hb_error *e)
{
	send_job *j = ud;
	if (nlen + vlen + 3 > HB_HEADERS_MAX)
		return hb_fail(e, HB_ERR_TOO_LARGE, "headers", "header '%.*s' is too long",
			       (int)(nlen > 60 ? 60 : nlen), name);
	if (nlen == 12 && strncasecmp(name, "content-type", 12) == 0)
		j->has_type = true;
	send_header(j->r, name, nlen, val, vlen);
	return HB_OK;
}

static hb_err add_logged(void *ud, const char *name, size_t nlen, const char *val, size_t vlen,
			 hb_error *e)
{
	(void)e;
	hb_buf *list = ud;
	if (!hb_header_is_credential(name, nlen))
		return hb_log_header(list, name, nlen, val, vlen);
	/* keep the scheme word ("Bearer ********") so the log still helps */
	const char *sp = memchr(val, ' ', vlen);
	char shown[40];
	int n = sp && sp - val < 20 ? snprintf(shown, sizeof shown, "%.*s %s", (int)(sp - val), val, mask)
				    : snprintf(shown, sizeof shown, "%s", mask);
	return hb_log_header(list, name, nlen, shown, (size_t)n);
}

/* The log: {"method","url","body":{…},"headers":[[name,value]…]}. */
static hb_err write_log(hb_request *r, const char *url, size_t ulen, const char *body,
			size_t blen, const hb_buf *headers)
{
	hb_buf *l = &r->log;
	size_t shown = blen < HB_LOG_BODY_MAX ? blen : HB_LOG_BODY_MAX;
	/* room for it all at once (escapes double at most a URL's or a quoted body's bytes) */
	hb_err rc = hb_buf_reserve(l, 2 * ulen + 2 * shown + headers->len + 128);
	if (!rc)
		rc = hb_buf_adds(l, "{\"method\":");
	if (!rc)
		rc = hb_json_write_string(l, r->method, strlen(r->method), true);
	if (!rc)
		rc = hb_json_write_key(l, "url", false);
	if (!rc)
		rc = hb_json_write_string(l, url, ulen, true);
	if (!rc)
		rc = hb_buf_adds(l, ",\"body\":{");
	if (!rc)
		rc = hb_log_body(l, body, blen, false);
	if (!rc)
		rc = hb_buf_adds(l, "},\"headers\":[");
	if (!rc)
		rc = hb_buf_add(l, hb_buf_str(headers), headers->len);
	return rc ? rc : hb_buf_adds(l, "]}");
}

static hb_err render(const hb_template *t, const hb_value *slots, unsigned flags, hb_buf *out,
		     const char *what, hb_error *e)
{
	if (!t)
		return HB_OK;
	hb_err rc = hb_template_render(t, slots, flags, out, e);
	if (rc == HB_ERR_TOO_LARGE)
		return hb_fail(e, rc, what, "the rendered %s is larger than %zu bytes", what, out->max);
	if (rc)
		hb_error_prefix(e, "rendering the %s", what);
	return rc;
}

hb_err hb_request_build(const hb_plan_action *a, const hb_value *slots, const char *key,
			int64_t now, hb_request *r, hb_error *e)
{
	memset(r, 0, sizeof *r);
	r->method = a->method;
	hb_buf_init(&r->url, HB_URL_MAX);
	hb_buf_init(&r->body, HB_BODY_MAX);
	hb_buf_init(&r->log, HB_BUF_UNLIMITED);
	hb_buf headers, masked, logged, u, b;
	hb_buf_init(&headers, HB_HEADERS_MAX);
	hb_buf_init(&masked, HB_HEADERS_MAX);
	hb_buf_init(&logged, HB_BUF_UNLIMITED); /* the log's header list */
	hb_buf_init(&u, HB_URL_MAX);
	hb_buf_init(&b, HB_BODY_MAX);
	hb_err rc = render(a->url, slots, 0, &r->url, "URL", e);
	if (!rc)
		rc = render(a->headers, slots, 0, &headers, "headers", e);
	if (!rc)
		rc = render(a->body, slots, 0, &r->body, "body", e);
	send_job sj = {r, false};
	if (!rc)
		rc = each_header(hb_buf_str(&headers), add_sent, &sj, e);
	/* the logged copy: rendered again with secrets masked when the action uses any */
	const hb_buf *lu = &r->url, *lb = &r->body, *lh = &headers;
	if (!rc && a->uses_secrets) {
		rc = render(a->url, slots, HB_RENDER_MASK_SECRETS, &u, "URL", e);
		if (!rc)
			rc = render(a->headers, slots, HB_RENDER_MASK_SECRETS, &masked, "headers", e);
		if (!rc)
			rc = render(a->body, slots, HB_RENDER_MASK_SECRETS, &b, "body", e);
		lu = &u, lb = &b, lh = &masked;
	}
	if (!rc)
		rc = each_header(hb_buf_str(lh), add_logged, &logged, e);
	if (!rc && !sj.has_type && a->body_kind != HB_BODY_NONE) {
		const char *type = a->body_kind == HB_BODY_FORM ? "application/x-www-form-urlencoded"
								: "application/json";
		send_header(r, "Content-Type", 12, type, strlen(type));
		rc = hb_log_header(&logged, "Content-Type", 12, type, strlen(type));
	}
	if (!rc) {
		static const char agent[] = "hookbridge/" HB_VERSION;
		size_t klen = strlen(key);
		send_header(r, "Idempotency-Key", 15, key, klen);
		rc = hb_log_header(&logged, "Idempotency-Key", 15, key, klen);
		send_header(r, "User-Agent", 10, agent, sizeof agent - 1);
		if (!rc)
			rc = hb_log_header(&logged, "User-Agent", 10, agent, sizeof agent - 1);
		/* no "Expect: 100-continue" round trip before larger bodies */
		r->headers = curl_slist_append(r->headers, "Expect:");
	}
	if (!rc && a->signing_secret) {
		char sig[HB_SIGN_SIG_MAX];
		rc = hb_sign(a->signing_secret, key, now, r->body.data ? r->body.data : "", r->body.len,
			     sig, sizeof sig, e);
		if (!rc) {
			char ts[24];
			snprintf(ts, sizeof ts, "%lld", (long long)now);
			static const char *const names[] = {"webhook-id", "webhook-timestamp",
							    "webhook-signature"};
			const char *vals[] = {key, ts, sig};
			for (int i = 0; i < 3 && !rc; i++) {
				send_header(r, names[i], strlen(names[i]), vals[i], strlen(vals[i]));
				rc = hb_log_header(&logged, names[i], strlen(names[i]), vals[i],
						   strlen(vals[i]));
			}
		}
	}
	/* even a request that failed to build is logged as far as it got */
	hb_err lrc = write_log(r, hb_buf_str(lu), lu->len, hb_buf_str(lb), lb->len, &logged);
	if (!rc && lrc)
		rc = hb_fail(e, lrc, "", "the request log could not be written");
	hb_buf_free(&headers);
	hb_buf_free(&masked);
	hb_buf_free(&logged);
	hb_buf_free(&u);
	hb_buf_free(&b);
	return rc;
}

void hb_request_free(hb_request *r)
{
	hb_buf_free(&r->url);
	hb_buf_free(&r->body);
	curl_slist_free_all(r->headers);
	hb_buf_free(&r->log);
	memset(r, 0, sizeof *r);
}
