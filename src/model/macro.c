/*
 * macro.c - see macro.h. A definition is split into the macro's own fields (generic record
 * fill) and its actions; each action is checked by type, its templates compiled, and the
 * whole written in one transaction, replacing the old actions on update.
 */
#include "model/macro.h"

#include <stdio.h>
#include <string.h>

#include "deliver/outcome.h"
#include "deliver/schedule.h"
#include "deliver/sign.h"
#include "engine/template.h"
#include "model/tagctx.h"
#include "model/xdata.h"

static const char *const macro_fields[] = {"key", "name", "description", "on", "project",
					   "feedback_type", "enabled", NULL};

static bool listed(const char *const *names, const char *k)
{
	for (; *names; names++)
		if (strcmp(*names, k) == 0)
			return true;
	return false;
}

/* Compile one template field of an action in its context; errors name the action and field. */
static hb_err check_template(const hb_catalog *cat, json_t *action, const char *field,
			     hb_context ctx, size_t index, hb_error *e)
{
	json_t *v = json_object_get(action, field);
	if (!v || json_is_null(v))
		return HB_OK;
	if (!json_is_string(v))
		return hb_fail(e, HB_ERR_INVALID, field, "action %zu: %s must be a string", index, field);
	hb_template *t = NULL;
	hb_err rc = hb_template_compile(cat, json_string_value(v), json_string_length(v), ctx, &t, e);
	hb_template_free(&t);
	if (rc) {
		hb_error_prefix(e, "action %zu, %s", index, field);
		snprintf(e->field, sizeof e->field, "actions[%zu].%s", index - 1, field);
	}
	return rc;
}

static const char *const webhook_fields[] = {"type", "method", "url", "headers", "content_type",
					     "body", "capture", "signing_secret", "timeout_ms",
					     "retry", NULL};

/* Turn one webhook action of the definition into action-row input, checking it. */
static hb_err webhook_input(hb_ctx *c, const hb_catalog *cat, hb_target target, json_t *a,
			    size_t i, json_t *in, hb_error *e)
{
	const char *k;
	json_t *v;
	json_object_foreach(a, k, v) if (!listed(webhook_fields, k)) return hb_fail(
		e, HB_ERR_INVALID, k, "action %zu: unknown field '%s' for a webhook", i, k);
	const char *method = json_string_value(json_object_get(a, "method"));
	if (!json_object_get(a, "url"))
		return hb_fail(e, HB_ERR_INVALID, "url", "action %zu: a webhook needs a url", i);
	const char *ct = json_string_value(json_object_get(a, "content_type"));
	if (!ct)
		ct = method && (strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0) ? "none" : "json";
	hb_context body_ctx = strcmp(ct, "form") == 0 ? HB_CTX_FORM : HB_CTX_JSON;
	hb_err rc = check_template(cat, a, "url", HB_CTX_URL, i, e);
	if (!rc)
		rc = check_template(cat, a, "headers", HB_CTX_HEADER, i, e);
	if (!rc && strcmp(ct, "none") != 0)
		rc = check_template(cat, a, "body", body_ctx, i, e);
	if (!rc && strcmp(ct, "none") == 0 && json_object_get(a, "body"))
		rc = hb_fail(e, HB_ERR_INVALID, "body",
			     "action %zu: a body needs content_type json or form", i);
	if (rc)
		return rc;
	json_t *cap = json_object_get(a, "capture");
	if (cap && !json_is_null(cap)) {
		const char *group = json_string_value(json_object_get(cap, "group"));
		if (!json_is_object(cap) || !group || json_object_size(cap) != 1)
			return hb_fail(e, HB_ERR_INVALID, "capture",
				       "action %zu: capture must be {\"group\": \"KEY\"}", i);
		hb_row *g = NULL;
		rc = hb_record_find(c, HB_K_XGROUP, c->community_id, group, &g, e);
		if (rc)
			return rc;
		hb_target gt;
		hb_target_parse(hb_row_str(g, "target"), &gt);
		hb_row_free(&g);
		if (gt != target)
			return hb_fail(e, HB_ERR_INVALID, "capture",
				       "action %zu: group '%s' is not stored against the records this "
				       "macro runs on", i, group);
		json_object_set_new(in, "capture_group", json_string(group));
	}
	const char *secret = json_string_value(json_object_get(a, "signing_secret"));
	if (secret && (rc = hb_sign_secret_check(secret, e)))
		return rc;
	json_t *retry = json_object_get(a, "retry");
	hb_schedule sched;
	if (retry && !json_is_array(json_object_get(retry, "schedule")))
		return hb_fail(e, HB_ERR_INVALID, "retry",
			       "action %zu: retry must be {\"schedule\": [\"5s\", \"5m\", …]}", i);
	if (retry && (rc = hb_schedule_from_json(json_object_get(retry, "schedule"), &sched, e))) {
		hb_error_prefix(e, "action %zu", i);
		return rc;
	}
	json_t *timeout = json_object_get(a, "timeout_ms");
	if (timeout && (!json_is_integer(timeout) || json_integer_value(timeout) < 100 ||
			json_integer_value(timeout) > 300000))
		return hb_fail(e, HB_ERR_INVALID, "timeout_ms",
			       "action %zu: timeout_ms must be a whole number from 100 to 300000", i);
	static const char *const copy[] = {"method", "url", "headers", "body", "signing_secret",
					   "timeout_ms", NULL};
	for (const char *const *f = copy; *f; f++)
		if (json_object_get(a, *f))
			json_object_set(in, *f, json_object_get(a, *f));
	if (!method)
		json_object_set_new(in, "method", json_string("POST"));
	json_object_set_new(in, "content_type", json_string(ct));
	if (retry)
		json_object_set(in, "retry_schedule", json_object_get(retry, "schedule"));
	return HB_OK;
}

typedef struct save_job {
	json_t *def;
	bool replace;
	hb_row *macro;
} save_job;

static hb_err do_save(hb_ctx *c, void *ud, hb_error *e)
{
	save_job *j = ud;
	json_t *def = j->def, *actions = json_object_get(def, "actions");
	if (!json_is_array(actions) || json_array_size(actions) == 0)
		return hb_fail(e, HB_ERR_INVALID, "actions", "a macro needs a list of actions");
	json_t *own = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(def, k, v) {
		if (listed(macro_fields, k))
			json_object_set(own, k, v);
		else if (strcmp(k, "actions") != 0) {
			json_decref(own);
			return hb_fail(e, HB_ERR_INVALID, k, "unknown field '%s' in a macro definition", k);
		}
	}
	hb_err rc;
	if (j->replace) {
		const char *key = json_string_value(json_object_get(def, "key"));
		rc = key ? hb_record_find(c, HB_K_MACRO, c->community_id, key, &j->macro, e)
			 : hb_fail(e, HB_ERR_INVALID, "key", "the definition needs the macro's key");
		/* what cannot change is refused by the update; unchanged values are fine */
		static const char *const fixed[] = {"key", "on", "project", "feedback_type", NULL};
		for (const char *const *f = fixed; !rc && *f; f++)
			json_object_del(own, *f);
		if (!rc)
			rc = hb_record_update(c, j->macro, own, e);
	} else {
		rc = hb_record_create(c, HB_K_MACRO, own, &j->macro, e);
	}
	json_decref(own);
	if (rc)
		return rc;
	const hb_kind *ak = hb_kind_get(HB_K_ACTION);
	if (j->replace) { /* drop the old actions */
		hb_row *old = hb_row_new(ak);
		hb_cond cond = {hb_kind_col(ak, "macro_id"), hb_value_int(hb_row_id(j->macro))};
		while (!rc && c->store->ops->find(c->store, ak, &cond, 1, old, e) == HB_OK)
			rc = c->store->ops->remove(c->store, ak, hb_row_id(old), e);
		hb_row_free(&old);
		if (rc)
			return rc;
	}
	hb_target target = strcmp(hb_row_str(j->macro, "target"), "feedback") == 0
				   ? HB_TARGET_FEEDBACK : HB_TARGET_USERS;
	hb_tagctx *tags = NULL;
	rc = hb_tagctx_new(c, target, hb_row_int(j->macro, "project_id"), &tags, e);
	size_t i;
	json_t *a;
	json_array_foreach(actions, i, a) {
		if (rc)
			break;
		const char *type = json_string_value(json_object_get(a, "type"));
		if (!json_is_object(a) || !type) {
			rc = hb_fail(e, HB_ERR_INVALID, "actions", "action %zu needs a \"type\"", i + 1);
			break;
		}
		json_t *in = json_pack("{s:I, s:s}", "macro", (json_int_t)hb_row_id(j->macro), "type", type);
		if (strcmp(type, "webhook") == 0) {
			rc = webhook_input(c, hb_tagctx_catalog(tags), target, a, i + 1, in, e);
		} else { /* a native action: its settings are checked, then kept as given */
			json_t *params = json_deep_copy(a);
			json_object_del(params, "type");
			json_object_set_new(in, "params", params);
			rc = hb_native_check(type, params, target, i + 1, e);
			if (!rc && json_object_get(params, "text"))
				rc = check_template(hb_tagctx_catalog(tags), params, "text", HB_CTX_TEXT,
						    i + 1, e);
		}
		hb_row *row = hb_row_new(ak);
		hb_row_set_int(row, "position", (int64_t)i + 1);
		if (!rc)
			rc = hb_record_create_into(c, row, in, e);
		if (rc && !strstr(e->message, "action "))
			hb_error_prefix(e, "action %zu", i + 1);
		hb_row_free(&row);
		json_decref(in);
	}
	hb_tagctx_free(&tags);
	return rc;
}

hb_err hb_macro_save(hb_ctx *c, json_t *def, bool replace, hb_row **out, hb_error *e)
{
	if (!json_is_object(def))
		return hb_fail(e, HB_ERR_INVALID, "", "a macro definition is a JSON object");
	save_job j = {def, replace, NULL};
	hb_err rc = hb_tx(c, do_save, &j, e);
	if (rc || !out)
		hb_row_free(&j.macro);
	else
		*out = j.macro;
	return rc;
}

typedef struct actions_job {
	hb_ctx *c;
	json_t *arr;
} actions_job;

static hb_err add_action(void *ud, const hb_row *row, hb_error *e)
{
	(void)e;
	actions_job *j = ud;
	json_t *o = hb_record_json(j->c, row);
	json_t *params = json_object_get(o, "params");
	if (json_is_object(params))
		json_object_update(o, params);
	json_object_del(o, "params");
	json_object_del(o, "macro");
	json_object_del(o, "id");
	json_t *out = json_object(); /* drop empty webhook fields of native actions */
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) if (!json_is_null(v)) json_object_set(out, k, v);
	if (row->v[hb_kind_col(row->kind, "signing_secret")].type != HB_TYPE_NULL)
		json_object_set_new(out, "signing_secret", json_string("********"));
	json_decref(o);
	json_array_append_new(j->arr, out);
	return HB_OK;
}

json_t *hb_macro_json(hb_ctx *c, const hb_row *macro)
{
	json_t *o = hb_record_json(c, macro);
	const hb_kind *ak = hb_kind_get(HB_K_ACTION);
	actions_job j = {c, json_array()};
	hb_cond cond = {hb_kind_col(ak, "macro_id"), hb_value_int(hb_row_id(macro))};
	hb_list_opts lo = {.conds = &cond, .nconds = 1};
	hb_error e;
	if (c->store->ops->list(c->store, ak, &lo, add_action, &j, &e) == HB_OK)
		json_object_set_new(o, "actions", j.arr);
	else
		json_decref(j.arr);
	return o;
}
