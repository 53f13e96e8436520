/* ops.c - the operational endpoints: /healthz, /readyz, /metrics and the OpenAPI document. */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

hb_err hb_h_healthz(hb_req *r, hb_error *e)
{
	(void)e;
	return hb_api_reply(r, 200, json_pack("{s:s}", "status", "ok"));
}

hb_err hb_h_readyz(hb_req *r, hb_error *e)
{
	int64_t n = 0;
	hb_worker *w = hb_api_worker(r, e);
	hb_err rc = w ? w->store->ops->count(w->store, hb_kind_get(HB_K_COMMUNITY), NULL, 0, &n, e)
		      : HB_ERR_UNAVAILABLE;
	if (rc)
		return hb_api_reply(r, 503, json_pack("{s:s, s:s}", "status", "unavailable", "store",
						      hb_err_name(rc)));
	return hb_api_reply(r, 200, json_pack("{s:s, s:s}", "status", "ready", "store", "ok"));
}

hb_err hb_h_metrics(hb_req *r, hb_error *e)
{
	(void)e;
	char *text = hb_metrics_text();
	r->raw = text;
	r->raw_free = true;
	r->raw_len = strlen(text);
	r->raw_type = "text/plain; version=0.0.4";
	return HB_OK;
}

hb_err hb_h_openapi(hb_req *r, hb_error *e)
{
	(void)e;
	r->raw = hb_openapi_json;
	r->raw_len = hb_openapi_json_len;
	r->raw_type = "application/json";
	return HB_OK;
}
