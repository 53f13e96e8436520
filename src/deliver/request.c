/*
 * request.c - see request.h.
 */
#include "deliver/request.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/text.h"
#include "deliver/sign.h"

#ifndef HB_VERSION
#define HB_VERSION "0.0.0"
#endif

static const char mask[] = "********";

bool hb_header_is_credential(const char *name, size_t len)
{
	static const char *const exact[] = {"authorization", "proxy-authorization", "cookie",
					    "set-cookie", NULL};
	static const char *const part[] = {"key", "token", "secret", "password", "auth", NULL};
	char low[128];
	if (len >= sizeof low)
		len = sizeof low - 1;
	for (size_t i = 0; i < len; i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	low[len] = '\0';
	for (const char *const *p = exact; *p; p++)
		if (strcmp(low, *p) == 0)
			return true;
	if (strncmp(low, "webhook-", 8) == 0 || strcmp(low, "idempotency-key") == 0)
		return false;
	for (const char *const *p = part; *p; p++)
		if (strstr(low, *p))
			return true;
	return false;
}

json_t *hb_log_body(const char *body, size_t len)
{
	bool cut = len > HB_LOG_BODY_MAX;
	size_t n = cut ? HB_LOG_BODY_MAX : len;
	while (cut && n > 0 && ((unsigned char)body[n] & 0xC0) == 0x80)
		n--; /* do not cut a UTF-8 sequence in two */
	json_t *o = json_object();
	size_t bad;
	if (hb_text_is_utf8(body, n, &bad))
		json_object_set_new(o, "text", json_stringn(body, n));
	else
		json_object_set_new(o, "text", json_sprintf("(%zu bytes, not UTF-8 text)", len));
	json_object_set_new(o, "bytes", json_integer((json_int_t)len));
	if (cut)
		json_object_set_new(o, "truncated", json_true());
	return o;
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

static hb_err add_sent(void *ud, const char *name, size_t nlen, const char *val, size_t vlen,
		       hb_error *e)
{
	send_job *j = ud;
	char line[HB_HEADERS_MAX];
	if (nlen + vlen + 3 > sizeof line)
		return hb_fail(e, HB_ERR_TOO_LARGE, "headers", "header '%.*s' is too long",
			       (int)(nlen > 60 ? 60 : nlen), name);
	if (nlen == 12 && strncasecmp(name, "content-type", 12) == 0)
		j->has_type = true;
	/* "Name;" sends a header with an empty value (curl drops "Name:" ones) */
	int n = vlen ? snprintf(line, sizeof line, "%.*s: %.*s", (int)nlen, name, (int)vlen, val)
		     : snprintf(line, sizeof line, "%.*s;", (int)nlen, name);
	(void)n;
	j->r->headers = curl_slist_append(j->r->headers, line);
	return HB_OK;
}

static hb_err add_logged(void *ud, const char *name, size_t nlen, const char *val, size_t vlen,
			 hb_error *e)
{
	(void)e;
	json_t *arr = ud;
	json_t *v;
	if (!hb_header_is_credential(name, nlen)) {
		v = json_stringn(val, vlen);
	} else { /* keep the scheme word ("Bearer ********") so the log still helps */
		const char *sp = memchr(val, ' ', vlen);
		v = sp && sp - val < 20 ? json_sprintf("%.*s %s", (int)(sp - val), val, mask)
					: json_string(mask);
	}
	json_array_append_new(arr, json_pack("[s%o]", name, nlen, v ? v : json_string("?")));
	return HB_OK;
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
	hb_buf headers, masked;
	hb_buf_init(&headers, HB_HEADERS_MAX);
	hb_buf_init(&masked, HB_HEADERS_MAX);
	r->log = json_object();
	json_t *logged = json_array();
	json_object_set_new(r->log, "method", json_string(a->method));
	hb_err rc = render(a->url, slots, 0, &r->url, "URL", e);
	if (!rc)
		rc = render(a->headers, slots, 0, &headers, "headers", e);
	if (!rc)
		rc = render(a->body, slots, 0, &r->body, "body", e);
	send_job sj = {r, false};
	if (!rc)
		rc = each_header(hb_buf_str(&headers), add_sent, &sj, e);
	if (!rc && a->uses_secrets) { /* the logged copy: rendered again with secrets masked */
		hb_buf u, b;
		hb_buf_init(&u, HB_URL_MAX);
		hb_buf_init(&b, HB_BODY_MAX);
		rc = render(a->url, slots, HB_RENDER_MASK_SECRETS, &u, "URL", e);
		if (!rc)
			rc = render(a->headers, slots, HB_RENDER_MASK_SECRETS, &masked, "headers", e);
		if (!rc)
			rc = render(a->body, slots, HB_RENDER_MASK_SECRETS, &b, "body", e);
		json_object_set_new(r->log, "url", json_string(hb_buf_str(&u)));
		json_object_set_new(r->log, "body", hb_log_body(hb_buf_str(&b), b.len));
		hb_buf_free(&u);
		hb_buf_free(&b);
	} else {
		json_object_set_new(r->log, "url", json_string(hb_buf_str(&r->url)));
		json_object_set_new(r->log, "body", hb_log_body(hb_buf_str(&r->body), r->body.len));
		rc = rc ? rc : hb_buf_adds(&masked, hb_buf_str(&headers));
	}
	if (!rc)
		rc = each_header(hb_buf_str(&masked), add_logged, logged, e);
	char line[512];
	if (!rc && !sj.has_type && a->body_kind != HB_BODY_NONE) {
		snprintf(line, sizeof line, "Content-Type: %s",
			 a->body_kind == HB_BODY_FORM ? "application/x-www-form-urlencoded"
						      : "application/json");
		r->headers = curl_slist_append(r->headers, line);
		json_array_append_new(logged, json_pack("[ss]", "Content-Type", line + 14));
	}
	if (!rc) {
		snprintf(line, sizeof line, "Idempotency-Key: %s", key);
		r->headers = curl_slist_append(r->headers, line);
		json_array_append_new(logged, json_pack("[ss]", "Idempotency-Key", key));
		snprintf(line, sizeof line, "User-Agent: hookbridge/%s", HB_VERSION);
		r->headers = curl_slist_append(r->headers, line);
		json_array_append_new(logged, json_pack("[ss]", "User-Agent", line + 12));
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
			for (int i = 0; i < 3; i++) {
				snprintf(line, sizeof line, "%s: %s", names[i], vals[i]);
				r->headers = curl_slist_append(r->headers, line);
				json_array_append_new(logged, json_pack("[ss]", names[i], vals[i]));
			}
		}
	}
	json_object_set_new(r->log, "headers", logged);
	hb_buf_free(&headers);
	hb_buf_free(&masked);
	return rc;
}

void hb_request_free(hb_request *r)
{
	hb_buf_free(&r->url);
	hb_buf_free(&r->body);
	curl_slist_free_all(r->headers);
	json_decref(r->log);
	memset(r, 0, sizeof *r);
}
