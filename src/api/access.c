/*
 * access.c - API keys and secrets over the API (community managers only). A new key's secret
 * is in the create answer and nowhere else, ever; secrets' values are written, never read back.
 * Key listings add the uses counted in memory since the last write to the database.
 */
#include <string.h>

#include "api/internal.h"
#include "core/timeutil.h"
#include "model/apikey.h"

static json_t *key_json(hb_req *r, const hb_row *row)
{
	json_t *o = hb_api_row_json(r, row);
	int64_t n, last;
	hb_api_usage_pending(hb_row_id(row), &n, &last);
	if (n) {
		char t[HB_TIME_STR_MAX];
		json_object_set_new(o, "use_count",
				    json_integer(hb_row_int(row, "use_count") + n));
		json_object_set_new(o, "last_used_at", json_string(hb_time_format(last, t)));
	}
	return o;
}

hb_err hb_h_apikeys_list(hb_req *r, hb_error *e)
{
	hb_page_spec spec = {.kind = HB_K_APIKEY, .to_json = key_json};
	return hb_api_list(r, &spec, e);
}

hb_err hb_h_apikeys_create(hb_req *r, hb_error *e)
{
	static const char *const allowed[] = {"name", "description", "role", "projects", "allow_ips",
					      NULL};
	hb_err rc = hb_api_body_only(r, allowed, e);
	if (rc)
		return rc;
	char secret[HB_APIKEY_MAX];
	hb_row *row = NULL;
	rc = hb_apikey_create(r->c, r->body, &row, secret, sizeof secret, e);
	if (rc)
		return rc;
	json_t *o = key_json(r, row);
	json_object_set_new(o, "key", json_string(secret));
	snprintf(r->location, sizeof r->location, "/api/v1/apikeys/%lld", (long long)hb_row_id(row));
	hb_row_free(&row);
	return hb_api_reply(r, 201, o);
}

static hb_err find_key(hb_req *r, hb_row **out, hb_error *e)
{
	return hb_record_find(r->c, HB_K_APIKEY, r->c->community_id, r->params[0], out, e);
}

hb_err hb_h_apikey_get(hb_req *r, hb_error *e)
{
	hb_row *row = NULL;
	hb_err rc = find_key(r, &row, e);
	if (!rc)
		hb_api_reply(r, 200, key_json(r, row));
	hb_row_free(&row);
	return rc;
}

typedef struct disable_job {
	hb_req *r;
	hb_row *row;
} disable_job;

static hb_err do_disable(hb_ctx *c, void *ud, hb_error *e)
{
	disable_job *j = ud;
	/* found inside the transaction, so a use-count flush cannot interleave */
	hb_err rc = find_key(j->r, &j->row, e);
	if (!rc) {
		json_t *ch = json_pack("{s:b}", "enabled", 0);
		rc = hb_record_update(c, j->row, ch, e);
		json_decref(ch);
	}
	return rc;
}

hb_err hb_h_apikey_disable(hb_req *r, hb_error *e)
{
	disable_job j = {r, NULL};
	hb_err rc = hb_tx(r->c, do_disable, &j, e);
	if (!rc)
		hb_api_reply(r, 200, key_json(r, j.row));
	hb_row_free(&j.row);
	return rc;
}

hb_err hb_h_secrets_list(hb_req *r, hb_error *e)
{
	hb_page_spec spec = {.kind = HB_K_SECRET, .no_filters = true};
	return hb_api_list(r, &spec, e);
}

typedef struct secret_job {
	hb_req *r;
	bool created;
	hb_row *row;
} secret_job;

static hb_err do_set_secret(hb_ctx *c, void *ud, hb_error *e)
{
	secret_job *j = ud;
	json_t *value = json_object_get(j->r->body, "value");
	hb_err rc = hb_record_find(c, HB_K_SECRET, c->community_id, j->r->params[0], &j->row, e);
	if (rc == HB_ERR_NOT_FOUND) {
		json_t *in = json_pack("{s:s, s:O}", "name", j->r->params[0], "value", value);
		j->created = true;
		hb_error_clear(e);
		rc = hb_record_create(c, HB_K_SECRET, in, &j->row, e);
		json_decref(in);
	} else if (!rc) {
		json_t *ch = json_pack("{s:O}", "value", value);
		rc = hb_record_update(c, j->row, ch, e);
		json_decref(ch);
	}
	return rc;
}

hb_err hb_h_secret_set(hb_req *r, hb_error *e)
{
	static const char *const allowed[] = {"value", NULL};
	hb_err rc = hb_api_body_only(r, allowed, e);
	if (rc)
		return rc;
	if (!json_object_get(r->body, "value"))
		return hb_fail(e, HB_ERR_INVALID, "value", "value is required");
	secret_job j = {r, false, NULL};
	rc = hb_tx(r->c, do_set_secret, &j, e);
	if (!rc)
		hb_api_reply(r, j.created ? 201 : 200, hb_api_row_json(r, j.row));
	hb_row_free(&j.row);
	return rc;
}

hb_err hb_h_secret_delete(hb_req *r, hb_error *e)
{
	hb_row *row = NULL;
	hb_err rc = hb_record_find(r->c, HB_K_SECRET, r->c->community_id, r->params[0], &row, e);
	if (!rc)
		rc = hb_record_delete(r->c, row, e);
	if (!rc)
		hb_api_reply(r, 204, NULL);
	hb_row_free(&row);
	return rc;
}
