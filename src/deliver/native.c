/*
 * native.c - the macro actions that change hookbridge's own records (SPEC §2): set a ticket's
 * status or a field, add a note (user) or a reply (ticket), set team or score, remove from the
 * project. They go through the same model functions as the CLI and the API, so the same rules
 * hold; they run inside the transaction that records the webhook before them.
 */
#include <stdio.h>
#include <string.h>

#include "deliver/outcome.h"

static const char *param(const hb_plan_action *a, const char *name)
{
	return json_string_value(json_object_get(a->params, name));
}

/* Render a note or reply body for the record. */
static hb_err render_text(hb_plan *p, const hb_plan_action *a, int64_t record_id, hb_buf *out,
			  hb_error *e)
{
	const hb_value *slots;
	hb_err rc = hb_tagctx_load(p->tags, record_id, &slots, e);
	return rc ? rc : hb_template_render(a->text, slots, HB_RENDER_MASK_SECRETS, out, e);
}

/* The participation the action changes: the user's (or the ticket submitter's) in the
   macro's project (or the ticket's). */
static hb_err participation(hb_ctx *c, hb_plan *p, int64_t record_id, hb_row **out, hb_error *e)
{
	int64_t user = record_id, project = hb_row_int(p->macro, "project_id");
	if (p->target == HB_TARGET_FEEDBACK) {
		hb_row *fb = NULL;
		char name[24];
		snprintf(name, sizeof name, "%lld", (long long)record_id);
		hb_err rc = hb_record_find(c, HB_K_FEEDBACK, 0, name, &fb, e);
		if (rc)
			return rc;
		user = hb_row_int(fb, "submitter_id");
		project = hb_row_int(fb, "project_id");
		hb_row_free(&fb);
	}
	if (!project)
		return hb_fail(e, HB_ERR_INVALID, "project",
			       "this action needs a project: the macro is not in one");
	const hb_kind *k = hb_kind_get(HB_K_PARTICIPATION);
	hb_cond conds[] = {{hb_kind_col(k, "project_id"), hb_value_int(project)},
			   {hb_kind_col(k, "user_id"), hb_value_int(user)}};
	*out = hb_row_new(k);
	hb_err rc = c->store->ops->find(c->store, k, conds, 2, *out, e);
	if (rc == HB_ERR_NOT_FOUND)
		rc = hb_fail(e, HB_ERR_NOT_FOUND, "user", "the user is not in the project");
	return rc;
}

static hb_err update_record(hb_ctx *c, hb_plan *p, int64_t record_id, json_t *changes, hb_error *e)
{
	hb_row *row = NULL;
	char name[24];
	snprintf(name, sizeof name, "%lld", (long long)record_id);
	hb_err rc = hb_record_find(c, p->target == HB_TARGET_FEEDBACK ? HB_K_FEEDBACK : HB_K_USER, 0,
				   name, &row, e);
	if (!rc)
		rc = hb_record_update(c, row, changes, e);
	hb_row_free(&row);
	return rc;
}

static hb_err run_one(hb_ctx *c, hb_plan *p, const hb_plan_action *a, int64_t record_id, hb_error *e)
{
	const char *t = a->type;
	char source[96];
	snprintf(source, sizeof source, "macro:%s", hb_row_str(p->macro, "key"));
	hb_err rc = HB_OK;
	json_t *in = NULL;
	if (strcmp(t, "set_status") == 0 || strcmp(t, "set_field") == 0) {
		const char *field = strcmp(t, "set_status") == 0 ? "status" : param(a, "field");
		json_t *v = strcmp(t, "set_status") == 0 ? json_object_get(a->params, "status")
							  : json_object_get(a->params, "value");
		if (!field || !v)
			return hb_fail(e, HB_ERR_INVALID, "params", "%s needs %s", t,
				       strcmp(t, "set_status") == 0 ? "a \"status\""
								    : "a \"field\" and a \"value\"");
		in = json_object();
		json_object_set(in, field, v);
		rc = update_record(c, p, record_id, in, e);
	} else if (strcmp(t, "add_note") == 0 || strcmp(t, "add_reply") == 0) {
		bool note = strcmp(t, "add_note") == 0;
		hb_buf body;
		hb_buf_init(&body, 65536);
		rc = render_text(p, a, record_id, &body, e);
		if (!rc) {
			in = json_pack("{s:I, s:s, s:s}", note ? "user" : "feedback", (json_int_t)record_id,
				       "body", hb_buf_str(&body), note ? "source" : "author", source);
			rc = hb_record_create(c, note ? HB_K_NOTE : HB_K_REPLY, in, NULL, e);
		}
		hb_buf_free(&body);
	} else if (strcmp(t, "set_team") == 0 || strcmp(t, "set_score") == 0 ||
		   strcmp(t, "remove_from_project") == 0) {
		hb_row *part = NULL;
		rc = participation(c, p, record_id, &part, e);
		in = json_object();
		if (strcmp(t, "set_team") == 0)
			json_object_set(in, "team", json_object_get(a->params, "team"));
		else if (strcmp(t, "set_score") == 0)
			json_object_set(in, "score", json_object_get(a->params, "score"));
		else
			json_object_set_new(in, "status", json_string("removed"));
		if (!rc)
			rc = hb_record_update(c, part, in, e);
		hb_row_free(&part);
	}
	json_decref(in);
	if (rc)
		hb_error_prefix(e, "action %d (%s)", a->position, t);
	return rc;
}

hb_err hb_native_check(const char *type, json_t *params, hb_target target, size_t index,
		       hb_error *e)
{
	static const struct {
		const char *type, *field;
		json_type want;
		int target; /* -1: any */
	} rules[] = {
		{"set_status", "status", JSON_STRING, HB_TARGET_FEEDBACK},
		{"set_field", "field", JSON_STRING, -1},
		{"add_note", "text", JSON_STRING, HB_TARGET_USERS},
		{"add_reply", "text", JSON_STRING, HB_TARGET_FEEDBACK},
		{"set_team", "team", JSON_STRING, -1},
		{"set_score", "score", JSON_INTEGER, -1},
		{"remove_from_project", NULL, JSON_NULL, -1},
	};
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		if (strcmp(rules[i].type, type) != 0)
			continue;
		if (rules[i].target >= 0 && (int)target != rules[i].target)
			return hb_fail(e, HB_ERR_INVALID, "type", "action %zu: %s works on %s only", index,
				       type, rules[i].target == HB_TARGET_USERS ? "users" : "feedback tickets");
		json_t *v = rules[i].field ? json_object_get(params, rules[i].field) : NULL;
		if (rules[i].field && (!v || json_typeof(v) != rules[i].want))
			return hb_fail(e, HB_ERR_INVALID, rules[i].field, "action %zu: %s needs \"%s\" (%s)",
				       index, type, rules[i].field,
				       rules[i].want == JSON_INTEGER ? "a whole number" : "a text");
		if (strcmp(type, "set_field") == 0 && !json_object_get(params, "value"))
			return hb_fail(e, HB_ERR_INVALID, "value", "action %zu: set_field needs a \"value\"",
				       index);
		return HB_OK;
	}
	return hb_fail(e, HB_ERR_INVALID, "type", "action %zu: unknown action type '%s'", index, type);
}

hb_err hb_native_run(hb_ctx *c, hb_plan *p, int after, int64_t record_id, hb_error *e)
{
	bool was = c->in_tx;
	c->in_tx = true; /* the caller's transaction */
	hb_err rc = HB_OK;
	for (size_t i = 0; i < p->nactions && !rc; i++) {
		const hb_plan_action *a = &p->actions[i];
		if (a->position <= after)
			continue;
		if (strcmp(a->type, "webhook") == 0)
			break;
		rc = run_one(c, p, a, record_id, e);
	}
	c->in_tx = was;
	return rc;
}
