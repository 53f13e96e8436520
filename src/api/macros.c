/*
 * macros.c - macros over the API: the same JSON definitions as `hookbridge macro create
 * --file`, saved and checked by hb_macro_save (every template compiled against the Data
 * Engine), validated without saving, replaced whole with PUT, and deleted.
 */
#include <string.h>

#include "api/internal.h"
#include "model/macro.h"

static bool macro_visible(hb_req *r, const hb_row *row)
{
	return hb_api_has_project(r, hb_row_int(row, "project_id"));
}

hb_err hb_h_macros_list(hb_req *r, hb_error *e)
{
	hb_page_spec spec = {.kind = HB_K_MACRO, .visible = macro_visible};
	return hb_api_list(r, &spec, e);
}

static hb_err find_macro(hb_req *r, hb_row **m, hb_error *e)
{
	hb_err rc = hb_record_find(r->c, HB_K_MACRO, r->c->community_id, r->params[0], m, e);
	if (!rc && (rc = hb_api_project_ok(r, hb_row_int(*m, "project_id"), e)))
		hb_row_free(m);
	return rc;
}

typedef struct save_job {
	hb_req *r;
	json_t *def;
	bool replace;
	hb_row *macro;
} save_job;

static hb_err do_save(hb_ctx *c, void *ud, hb_error *e)
{
	save_job *j = ud;
	hb_err rc = hb_macro_save(c, j->def, j->replace, &j->macro, e);
	if (!rc) /* where the model put it, checked before anything is kept */
		rc = hb_api_project_ok(j->r, hb_row_int(j->macro, "project_id"), e);
	return rc;
}

/* A template that does not compile is a wrong field of valid JSON: 422, like every check. */
static hb_err as_invalid(hb_err rc, hb_error *e)
{
	if (rc == HB_ERR_PARSE)
		e->code = rc = HB_ERR_INVALID;
	return rc;
}

static hb_err save(hb_req *r, json_t *def, bool replace, unsigned status, hb_error *e)
{
	save_job j = {r, def, replace, NULL};
	hb_err rc = hb_api_precheck_project(r, HB_K_MACRO, e);
	if (!rc)
		rc = as_invalid(hb_tx(r->c, do_save, &j, e), e);
	if (!rc) {
		if (status == 201)
			snprintf(r->location, sizeof r->location, "/api/v1/macros/%s",
				 hb_row_str(j.macro, "key"));
		hb_api_reply(r, status, hb_macro_json(r->c, j.macro));
	}
	hb_row_free(&j.macro);
	return rc;
}

hb_err hb_h_macros_create(hb_req *r, hb_error *e)
{
	return save(r, r->body, false, 201, e);
}

hb_err hb_h_macro_update(hb_req *r, hb_error *e)
{
	hb_row *m = NULL;
	hb_err rc = find_macro(r, &m, e);
	hb_row_free(&m);
	if (rc)
		return rc;
	if (!json_is_object(r->body))
		return hb_fail(e, HB_ERR_INVALID, "", "a macro definition is a JSON object");
	json_t *key = json_object_get(r->body, "key");
	if (key && (!json_is_string(key) || strcmp(json_string_value(key), r->params[0]) != 0))
		return hb_fail(e, HB_ERR_INVALID, "key", "the key in the body must be the key in the path");
	json_t *def = json_deep_copy(r->body);
	json_object_set_new(def, "key", json_string(r->params[0]));
	rc = save(r, def, true, 200, e);
	json_decref(def);
	return rc;
}

static hb_err do_validate(hb_ctx *c, void *ud, hb_error *e)
{
	save_job *j = ud;
	hb_err rc = do_save(c, ud, e);
	hb_row_free(&j->macro);
	return rc ? rc : HB_ERR__COUNT; /* checked: now undo it */
}

hb_err hb_h_macros_validate(hb_req *r, hb_error *e)
{
	/* saved for real inside a transaction that is always rolled back: exactly the checks of a
	   save, nothing kept. A definition whose key exists is checked as its replacement. */
	json_t *key = json_object_get(r->body, "key");
	hb_row *m = NULL;
	bool replace = json_is_string(key) &&
		       hb_record_find(r->c, HB_K_MACRO, r->c->community_id, json_string_value(key),
				      &m, e) == HB_OK;
	hb_row_free(&m);
	hb_error_clear(e);
	save_job j = {r, r->body, replace, NULL};
	hb_err rc = hb_api_precheck_project(r, HB_K_MACRO, e);
	if (rc)
		return rc;
	rc = as_invalid(hb_tx(r->c, do_validate, &j, e), e);
	if (rc != HB_ERR__COUNT)
		return rc ? rc : hb_fail(e, HB_ERR_INTERNAL, "", "validation kept a change");
	hb_error_clear(e);
	return hb_api_reply(r, 200, json_pack("{s:b, s:s}", "valid", 1, "as",
					      replace ? "update" : "create"));
}

hb_err hb_h_macro_get(hb_req *r, hb_error *e)
{
	hb_row *m = NULL;
	hb_err rc = find_macro(r, &m, e);
	if (!rc)
		hb_api_reply(r, 200, hb_macro_json(r->c, m));
	hb_row_free(&m);
	return rc;
}

hb_err hb_h_macro_delete(hb_req *r, hb_error *e)
{
	hb_row *m = NULL;
	hb_err rc = find_macro(r, &m, e);
	if (!rc)
		rc = hb_record_delete(r->c, m, e);
	if (!rc)
		hb_api_reply(r, 204, NULL);
	hb_row_free(&m);
	return rc;
}
