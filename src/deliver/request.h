/*
 * request.h - one webhook attempt as it goes on the wire, and as it is logged.
 *
 * Built from a plan action and a loaded record: the URL, header block and body templates are
 * rendered in their contexts; hookbridge adds Content-Type (unless the headers set one),
 * Idempotency-Key (the delivery's stable key), User-Agent and, with a signing secret, the
 * Standard Webhooks headers. The logged copy is rendered again with secrets masked, and
 * credential headers (Authorization, Cookie, …) are masked whatever their source.
 */
#ifndef HB_DELIVER_REQUEST_H
#define HB_DELIVER_REQUEST_H

#include <curl/curl.h>
#include <jansson.h>

#include "core/buf.h"
#include "deliver/plan.h"

#define HB_URL_MAX 8192
#define HB_HEADERS_MAX (64 * 1024)
#define HB_BODY_MAX (4 * 1024 * 1024)
#define HB_LOG_BODY_MAX (64 * 1024) /* bodies are kept in attempt logs up to this */

typedef struct hb_request {
	const char *method;
	hb_buf url;
	hb_buf body;
	struct curl_slist *headers; /* every header sent, hookbridge's included */
	hb_buf log; /* JSON text {"method","url","body":{…},"headers":[[name,value]…]}, masked */
} hb_request;

/* Render action a for the record in slots; key is the delivery's Idempotency-Key (and
   webhook-id), now the attempt's Unix time. HB_ERR_INVALID/TOO_LARGE/… when it cannot be
   rendered (a header value with a line break, a URL over the cap): the message says why.
   hb_request_free in every case. */
hb_err hb_request_build(const hb_plan_action *a, const hb_value *slots, const char *key,
			int64_t now, hb_request *r, hb_error *e) HB_MUST_USE;
void hb_request_free(hb_request *r);

/* Whether a header's value is a credential that logs must not show. */
bool hb_header_is_credential(const char *name, size_t len);
/* The members of a logged body object ("text", "bytes", and "truncated" when it was cut here
   or truncated says it was cut before): text up to HB_LOG_BODY_MAX, kept when valid UTF-8,
   otherwise described. */
hb_err hb_log_body(hb_buf *out, const char *body, size_t len, bool truncated) HB_MUST_USE;
/* One [name, value] pair of a logged header list, comma-separated from those before. */
hb_err hb_log_header(hb_buf *out, const char *name, size_t nlen, const char *val, size_t vlen)
	HB_MUST_USE;
/* The same, for a list that starts at list_at in out (a comma before all but its first). */
hb_err hb_log_header_at(hb_buf *out, size_t list_at, const char *name, size_t nlen,
			const char *val, size_t vlen) HB_MUST_USE;

#endif
