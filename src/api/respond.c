/* respond.c - small helpers handlers share: answers, query parameters, body checks. */
#include <string.h>

#include "api/internal.h"

hb_err hb_api_reply(hb_req *r, unsigned status, json_t *out)
{
	json_decref(r->out);
	r->status = status;
	r->out = out;
	return HB_OK;
}

void hb_api_stream(hb_req *r, const char *type, hb_api_stream_fn fn, void *ud,
		   void (*free_fn)(void *ud))
{
	if (r->stream_free)
		r->stream_free(r->stream_ud);
	r->status = 200;
	r->raw_type = type;
	r->stream = fn;
	r->stream_ud = ud;
	r->stream_free = free_fn;
}

json_t *hb_api_row_json(hb_req *r, const hb_row *row)
{
	return hb_record_json(r->c, row);
}

const char *hb_api_query(hb_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

hb_err hb_api_query_need(hb_req *r, const char *name, const char **out, hb_error *e)
{
	*out = hb_api_query(r, name);
	if (!*out || !**out)
		return hb_fail(e, HB_ERR_BAD_REQUEST, name, "the query parameter '%s' is required", name);
	return HB_OK;
}

hb_err hb_api_body_only(hb_req *r, const char *const *allowed, hb_error *e)
{
	if (!json_is_object(r->body))
		return hb_fail(e, HB_ERR_INVALID, "", "the body must be a JSON object");
	const char *k;
	json_t *v;
	json_object_foreach(r->body, k, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, k) == 0;
		if (!ok)
			return hb_fail(e, HB_ERR_INVALID, k, "unknown field '%s'", k);
	}
	return HB_OK;
}
