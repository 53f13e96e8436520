/*
 * transfer.c - see transfer.h.
 */
#include "deliver/transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "deliver/schedule.h"

#define HEADERS_MAX (64 * 1024)

void hb_transfer_init(hb_transfer *t)
{
	memset(t, 0, sizeof *t);
	t->easy = curl_easy_init();
	hb_buf_init(&t->body, HB_ANSWER_MAX);
	hb_buf_init(&t->header_text, HB_BUF_UNLIMITED);
}

void hb_transfer_free(hb_transfer *t)
{
	curl_easy_cleanup(t->easy);
	curl_url_cleanup(t->url);
	free(t->url_text);
	hb_buf_free(&t->body);
	hb_buf_free(&t->header_text);
	free(t->header_at);
	memset(t, 0, sizeof *t);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	hb_transfer *t = ud;
	size_t len = size * n;
	if (t->body.len + len > HB_ANSWER_MAX) {
		size_t room = HB_ANSWER_MAX - t->body.len;
		if (room && hb_buf_add(&t->body, p, room) != HB_OK)
			return 0;
		t->cut = true;
		return 0; /* stop reading: the transfer ends with CURLE_WRITE_ERROR */
	}
	return hb_buf_add(&t->body, p, len) == HB_OK ? len : 0;
}

static void clear_headers(hb_transfer *t)
{
	hb_buf_reset(&t->header_text);
	t->nheaders = 0;
	t->header_bytes = 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	hb_transfer *t = ud;
	size_t len = size * n;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new answer (after 1xx): start over */
		clear_headers(t);
		return len;
	}
	t->header_bytes += len;
	const char *colon = memchr(p, ':', len);
	if (!colon || t->header_bytes > HEADERS_MAX)
		return len;
	const char *v = colon + 1, *end = p + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	size_t bad, nlen = (size_t)(colon - p), vlen = (size_t)(end - v);
	if (!hb_text_is_utf8(p, nlen, &bad) || memchr(p, '\0', nlen))
		return len; /* a name that is not text: left out */
	static const char not_text[] = "(not UTF-8 text)"; /* said rather than guessed */
	if (!hb_text_is_utf8(v, vlen, &bad) || memchr(v, '\0', vlen))
		v = not_text, vlen = sizeof not_text - 1;
	if (t->nheaders == t->cap_headers) {
		t->cap_headers = t->cap_headers ? 2 * t->cap_headers : 16;
		t->header_at = hb_realloc(t->header_at, t->cap_headers * sizeof *t->header_at);
	}
	size_t at = t->header_text.len;
	if (hb_buf_add(&t->header_text, p, nlen) || hb_buf_add(&t->header_text, "", 1) ||
	    hb_buf_add(&t->header_text, v, vlen) || hb_buf_add(&t->header_text, "", 1))
		return 0; /* out of memory: the transfer fails */
	t->header_at[t->nheaders++] = at;
	return len;
}

static hb_header header_get(const hb_transfer *t, size_t i)
{
	const char *name = t->header_text.data + t->header_at[i];
	return (hb_header){name, name + strlen(name) + 1};
}

/* The options every request on the handle shares, set when the handle first meets guard. */
static void set_fixed(hb_transfer *t, const hb_guard *guard)
{
	CURL *c = t->easy;
	curl_easy_reset(c);
	free(t->url_text); /* the reset dropped the URL */
	t->url_text = NULL;
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf);
	hb_guard_attach(guard, c, &t->hook);
	t->guard = guard;
	t->fixed = true;
}

/* The request's URL on the handle. libcurl parses a URL given as text at every transfer, and
   writes it out again in normal form: about a seventh of its work for a small request. A URL
   given parsed (CURLOPT_CURLU) is only copied, so the URL is parsed here, once per handle while
   it stays the same (a macro's URL often does), with the flags libcurl's own parse uses. The
   text is set too, so that libcurl's idea of the URL (its messages, CURLINFO_EFFECTIVE_URL)
   follows. A URL this parse refuses is left to libcurl as text, which reports it. */
static void set_url(hb_transfer *t, const char *url)
{
	if (t->url_text && strcmp(t->url_text, url) == 0)
		return;
	free(t->url_text);
	t->url_text = hb_strdup(url);
	if (!t->url)
		t->url = curl_url();
	bool parsed = t->url && curl_url_set(t->url, CURLUPART_URL, url,
					     CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK;
	curl_easy_setopt(t->easy, CURLOPT_CURLU, parsed ? t->url : NULL);
	curl_easy_setopt(t->easy, CURLOPT_URL, url);
}

/* Only what differs between requests is set each time (no reset of the whole handle): the
   URL, the method and body, the headers and the timeout. Every method sets all three of
   HTTPGET or POSTFIELDS, and CUSTOMREQUEST, so nothing of the previous request's carries. */
void hb_transfer_prepare(hb_transfer *t, const hb_plan_action *a, const hb_request *req,
			 const hb_guard *guard)
{
	CURL *c = t->easy;
	if (!t->fixed || t->guard != guard)
		set_fixed(t, guard);
	hb_guard_rearm(&t->hook);
	hb_buf_reset(&t->body);
	t->cut = false;
	clear_headers(t);
	t->errbuf[0] = '\0';
	set_url(t, hb_buf_str(&req->url));
	const char *m = a->method;
	bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
	if (!get && (a->body_kind != HB_BODY_NONE || post)) { /* a body: POST, or m with one */
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, hb_buf_str(&req->body));
	} else { /* none: GET, or m without one */
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, get || post ? NULL : m);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, req->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, a->timeout_ms);
}

static const char *curl_class(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return "connect";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return "tls";
	default:
		return "network";
	}
}

/* {"status","headers":[[name,value]…],"body":{…}}, credentials masked. */
static hb_err answer_log(const hb_transfer *t, long status, hb_buf *out)
{
	size_t shown = t->body.len < HB_LOG_BODY_MAX ? t->body.len : HB_LOG_BODY_MAX;
	/* room for it all at once (escapes double at most the quoted bytes) */
	hb_err rc = hb_buf_reserve(out, 2 * t->header_text.len + 8 * t->nheaders + 2 * shown + 128);
	if (!rc)
		rc = hb_buf_adds(out, "{\"status\":");
	if (!rc)
		rc = hb_buf_add_int(out, status);
	if (!rc)
		rc = hb_buf_adds(out, ",\"headers\":[");
	size_t list_at = out->len; /* where the list starts: a comma before all but the first */
	for (size_t i = 0; i < t->nheaders && !rc; i++) {
		hb_header h = header_get(t, i);
		size_t nlen = strlen(h.name);
		bool secret = hb_header_is_credential(h.name, nlen);
		rc = hb_log_header_at(out, list_at, h.name, nlen, secret ? "********" : h.value,
				      secret ? 8 : strlen(h.value));
	}
	if (!rc)
		rc = hb_buf_adds(out, "],\"body\":{");
	if (!rc)
		rc = hb_log_body(out, hb_buf_str(&t->body), t->body.len, t->cut);
	if (!rc)
		rc = hb_buf_adds(out, "}}");
	return rc;
}

static const char *header_value(const hb_transfer *t, const char *name)
{
	for (size_t i = 0; i < t->nheaders; i++) {
		hb_header h = header_get(t, i);
		if (strcasecmp(h.name, name) == 0)
			return h.value;
	}
	return NULL;
}

static void fail(hb_outcome *o, const char *cls, const char *msg)
{
	o->final = HB_FINAL_FAILED;
	o->error_class = cls;
	o->error = hb_strdup(msg);
}

void hb_transfer_outcome(hb_transfer *t, CURLcode res, const hb_plan_action *a, hb_outcome *o,
			 bool *retryable, int64_t *retry_after_ms)
{
	*retryable = false;
	*retry_after_ms = -1;
	long status = 0;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	bool answered = status > 0 && (res == CURLE_OK || (res == CURLE_WRITE_ERROR && t->cut));
	char msg[CURL_ERROR_SIZE + 160];
	if (t->hook.refused) {
		fail(o, "refused", t->hook.refusal.message);
	} else if (res == CURLE_UNSUPPORTED_PROTOCOL) {
		fail(o, "refused", "only http and https URLs are allowed");
	} else if (!answered) {
		snprintf(msg, sizeof msg, "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(res));
		fail(o, curl_class(res), msg);
		*retryable = true;
	} else {
		o->http_status = (int)status;
		hb_buf_init(&o->response, HB_BUF_UNLIMITED);
		if (answer_log(t, status, &o->response))
			hb_buf_free(&o->response); /* out of memory: the attempt goes unlogged */
		if (status >= 200 && status < 300) {
			o->final = HB_FINAL_SUCCEEDED;
			size_t nh = t->nheaders;
			hb_header *hdrs = hb_calloc(nh ? nh : 1, sizeof *hdrs);
			for (size_t i = 0; i < nh; i++)
				hdrs[i] = header_get(t, i);
			hb_capture(a, o, hdrs, nh, hb_buf_str(&t->body), t->body.len, t->cut);
			free(hdrs);
		} else if (status >= 300 && status < 400) {
			const char *loc = header_value(t, "location");
			snprintf(msg, sizeof msg, "answered %ld; redirects are not followed%s%.100s%s",
				 status, loc ? " (Location: " : "", loc ? loc : "", loc ? ")" : "");
			fail(o, "redirect", msg);
		} else {
			snprintf(msg, sizeof msg, "answered %ld", status);
			fail(o, "http", msg);
			const char *ra = header_value(t, "retry-after");
			*retry_after_ms = ra ? hb_retry_after_parse(ra, hb_time_now()) : -1;
			*retryable = hb_retryable_status((int)status);
		}
	}
}
