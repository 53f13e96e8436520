/*
 * transfer.h - one HTTP exchange of a webhook on a libcurl easy handle: setting it up from a
 * built request (method, body, headers, timeouts, the address guard) and reading what came
 * back into an attempt outcome (status, answer log, error class, capture). The delivery engine
 * runs many at once on its multi handle; a test-send runs one on its own.
 */
#ifndef HB_DELIVER_TRANSFER_H
#define HB_DELIVER_TRANSFER_H

#include <curl/curl.h>

#include "deliver/guard.h"
#include "deliver/outcome.h"
#include "deliver/request.h"

typedef struct hb_transfer {
	CURL *easy;
	hb_guard_hook hook;
	bool fixed;            /* the options all requests share are set, */
	const hb_guard *guard; /* for this guard */
	CURLU *url;	       /* the URL set on the handle, parsed (NULL until the first) */
	char *url_text;	       /* and as text (NULL: none set since the handle was reset) */
	hb_buf body;     /* the answer, up to HB_ANSWER_MAX */
	bool cut;        /* it was longer */
	hb_buf header_text; /* the answer's headers, each as "name\0value\0" */
	size_t *header_at;  /* where each one starts in header_text */
	size_t nheaders, cap_headers;
	size_t header_bytes;
	char errbuf[CURL_ERROR_SIZE];
} hb_transfer;

void hb_transfer_init(hb_transfer *t);
void hb_transfer_free(hb_transfer *t);
/* Set the easy handle up for req (which must outlive the transfer) as action a sends it. */
void hb_transfer_prepare(hb_transfer *t, const hb_plan_action *a, const hb_request *req,
			 const hb_guard *guard);

/* How an exchange ended, before any retry policy: o gets http_status, response, error_class,
   error and (for 2xx) the capture; final is SUCCEEDED or FAILED. *retryable says whether
   another attempt could help, *retry_after_ms what the answer asked for (-1: nothing). */
void hb_transfer_outcome(hb_transfer *t, CURLcode res, const hb_plan_action *a, hb_outcome *o,
			 bool *retryable, int64_t *retry_after_ms);

#endif
