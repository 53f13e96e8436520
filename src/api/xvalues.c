/*
 * xvalues.c - External Data values of one record: read them all, set one (coerced to the
 * field's type exactly as a captured answer would be, engine/coerce.c), clear one.
 */
#include <string.h>

#include "api/internal.h"
#include "core/timeutil.h"
#include "engine/coerce.h"
#include "model/xdata.h"

static hb_err values_json(hb_req *r, hb_target t, const hb_row *rec, json_t **out, hb_error *e)
{
	int64_t project = t == HB_TARGET_FEEDBACK ? hb_row_int(rec, "project_id")
			  : t == HB_TARGET_PROJECTS ? hb_row_id(rec) : 0;
	*out = hb_xdata_record_json(r->c, t, hb_row_id(rec), project, e);
	return *out ? HB_OK : e->code ? e->code : HB_ERR_INTERNAL;
}

hb_err hb_h_xvalues_get(hb_req *r, hb_error *e)
{
	const char *on, *record;
	hb_target t;
	hb_err rc = hb_api_query_need(r, "on", &on, e);
	if (!rc)
		rc = hb_api_query_need(r, "record", &record, e);
	if (rc)
		return rc;
	if (!hb_target_parse(on, &t))
		return hb_fail(e, HB_ERR_BAD_REQUEST, "on", "on must be users, feedback or projects");
	hb_row *rec = NULL;
	json_t *values = NULL;
	rc = hb_api_find_target(r, t, record, false, &rec, e);
	if (!rc)
		rc = values_json(r, t, rec, &values, e);
	if (!rc)
		hb_api_reply(r, 200, json_pack("{s:s, s:s, s:o}", "on", on, "record", record, "values",
					       values));
	hb_row_free(&rec);
	return rc;
}

/* Set (value given) or clear one value; answers the field's entry. */
static hb_err set_one(hb_req *r, const char *record, const char *field, json_t *value, hb_error *e)
{
	hb_xfield_info f;
	hb_target t;
	hb_err rc = hb_xdata_field(r->c, field, &f, &t, e);
	if (rc == HB_ERR_USAGE)
		rc = HB_ERR_INVALID, e->code = rc;
	if (rc)
		return rc;
	if (f.project_id && (rc = hb_api_project_ok(r, f.project_id, e)))
		return rc;
	hb_row *rec = NULL;
	if ((rc = hb_api_find_target(r, t, record, true, &rec, e)))
		return rc;
	hb_coerced v = {0};
	if (value && (rc = hb_coerce(value, f.type, field, &v, e))) {
		snprintf(e->field, sizeof e->field, "value");
		goto out;
	}
	hb_xvalue xv = {.field_id = f.id, .record_id = hb_row_id(rec),
			.value = !value || v.clear ? hb_value_null() : v.value,
			.set_at = hb_time_now(), .source = r->auth.actor};
	char txt[HB_TIME_STR_MAX];
	if (xv.value.type == HB_TYPE_BOOL) /* stored as 0/1 */
		xv.value = hb_value_int(xv.value.u.b);
	else if (xv.value.type == HB_TYPE_TIME) /* stored as RFC 3339 text */
		xv.value = hb_value_str(hb_time_format(xv.value.u.i, txt));
	if ((rc = r->c->store->ops->xvalue_set(r->c->store, t, &xv, e)))
		goto out;
	json_t *all = NULL;
	if ((rc = values_json(r, t, rec, &all, e)))
		goto out;
	json_t *one = NULL;
	size_t i;
	json_t *item;
	json_array_foreach(all, i, item) if (strcmp(json_string_value(json_object_get(item, "field")),
						    field) == 0) one = item;
	hb_api_reply(r, 200, one ? json_incref(one) : json_object());
	json_decref(all);
out:
	hb_coerced_clear(&v);
	hb_row_free(&rec);
	return rc;
}

hb_err hb_h_xvalues_set(hb_req *r, hb_error *e)
{
	static const char *const allowed[] = {"record", "field", "value", NULL};
	hb_err rc = hb_api_body_only(r, allowed, e);
	if (rc)
		return rc;
	json_t *record = json_object_get(r->body, "record"), *field = json_object_get(r->body, "field");
	json_t *value = json_object_get(r->body, "value");
	if (!json_is_string(record))
		return hb_fail(e, HB_ERR_INVALID, "record", "record must be an email, ticket number or "
			       "project key");
	if (!json_is_string(field))
		return hb_fail(e, HB_ERR_INVALID, "field", "field must be GROUP.FIELD");
	if (!value)
		return hb_fail(e, HB_ERR_INVALID, "value", "value is required (null clears it)");
	return set_one(r, json_string_value(record), json_string_value(field), value, e);
}

hb_err hb_h_xvalues_clear(hb_req *r, hb_error *e)
{
	const char *record, *field;
	hb_err rc = hb_api_query_need(r, "record", &record, e);
	if (!rc)
		rc = hb_api_query_need(r, "field", &field, e);
	return rc ? rc : set_one(r, record, field, NULL, e);
}
