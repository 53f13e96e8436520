/*
 * plan.c - see plan.h.
 */
#include "deliver/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "model/xdata.h"

static hb_err compile(const hb_plan *p, const hb_row *a, const char *col, hb_context ctx,
		      hb_template **out, hb_error *e)
{
	hb_value v = hb_row_get(a, col);
	if (v.type != HB_TYPE_STRING)
		return HB_OK;
	hb_err rc = hb_template_compile(hb_tagctx_catalog(p->tags), v.u.s.ptr, v.u.s.len, ctx, out, e);
	if (rc) /* the macro was valid when saved: a field it names has gone since */
		hb_error_prefix(e, "macro '%s', action %lld, %s", hb_row_str(p->macro, "key"),
				(long long)hb_row_int(a, "position"), col);
	return rc;
}

static hb_err capture_fields(hb_ctx *c, hb_plan *p, hb_plan_action *pa, hb_error *e)
{
	hb_xfield_info *f = NULL;
	size_t n = 0;
	hb_err rc = hb_xdata_fields(c, p->target, hb_row_int(p->macro, "project_id"), &f, &n, e);
	if (rc)
		return rc;
	pa->fields = hb_calloc(n ? n : 1, sizeof *pa->fields);
	for (size_t i = 0; i < n && !rc; i++) {
		if (f[i].group_id != pa->capture_group_id)
			continue;
		hb_plan_field *pf = &pa->fields[pa->nfields++];
		pf->id = f[i].id;
		pf->type = f[i].type;
		snprintf(pf->name, sizeof pf->name, "%s.%s", f[i].group, f[i].key);
		rc = hb_param_compile(f[i].param, &pf->param, e);
	}
	free(f);
	return rc;
}

static hb_err load_action(hb_ctx *c, hb_plan *p, const hb_row *a, const hb_plan_opts *o,
			  hb_plan_action *pa, hb_error *e)
{
	pa->position = (int)hb_row_int(a, "position");
	snprintf(pa->type, sizeof pa->type, "%s", hb_row_str(a, "type"));
	const char *params = hb_row_str(a, "params");
	if (params && *params)
		pa->params = json_loads(params, 0, NULL);
	if (strcmp(pa->type, "add_note") == 0 || strcmp(pa->type, "add_reply") == 0) {
		json_t *body = json_object_get(pa->params, "text");
		if (!json_is_string(body))
			return hb_fail(e, HB_ERR_INVALID, "text", "action %d (%s) needs a \"text\"",
				       pa->position, pa->type);
		return hb_template_compile(hb_tagctx_catalog(p->tags), json_string_value(body),
					   json_string_length(body), HB_CTX_TEXT, &pa->text, e);
	}
	if (strcmp(pa->type, "webhook") != 0)
		return HB_OK;
	snprintf(pa->method, sizeof pa->method, "%s", hb_row_str(a, "method"));
	const char *ct = hb_row_str(a, "content_type");
	pa->body_kind = !ct || strcmp(ct, "none") == 0 ? HB_BODY_NONE
			: strcmp(ct, "form") == 0      ? HB_BODY_FORM
						       : HB_BODY_JSON;
	hb_err rc = compile(p, a, "url", HB_CTX_URL, &pa->url, e);
	if (!rc)
		rc = compile(p, a, "headers", HB_CTX_HEADER, &pa->headers, e);
	if (!rc && pa->body_kind != HB_BODY_NONE)
		rc = compile(p, a, "body", pa->body_kind == HB_BODY_FORM ? HB_CTX_FORM : HB_CTX_JSON,
			     &pa->body, e);
	if (rc)
		return rc;
	pa->uses_secrets = (pa->url && hb_template_uses_secrets(pa->url)) ||
			   (pa->headers && hb_template_uses_secrets(pa->headers)) ||
			   (pa->body && hb_template_uses_secrets(pa->body));
	const char *secret = hb_row_str(a, "signing_secret");
	if (secret && *secret)
		pa->signing_secret = hb_strdup(secret);
	pa->timeout_ms = hb_row_int(a, "timeout_ms") ? (long)hb_row_int(a, "timeout_ms") : o->timeout_ms;
	pa->schedule = o->schedule;
	const char *sched = hb_row_str(a, "retry_schedule");
	if (sched && *sched) {
		json_t *arr = json_loads(sched, 0, NULL);
		rc = hb_schedule_from_json(arr, &pa->schedule, e);
		json_decref(arr);
		if (rc)
			return rc;
	}
	pa->capture_group_id = hb_row_int(a, "capture_group_id");
	return pa->capture_group_id ? capture_fields(c, p, pa, e) : HB_OK;
}

typedef struct load_job {
	hb_ctx *c;
	hb_plan *p;
	const hb_plan_opts *o;
	size_t cap;
} load_job;

static hb_err add_action(void *ud, const hb_row *row, hb_error *e)
{
	load_job *j = ud;
	hb_plan *p = j->p;
	if (p->nactions == j->cap) {
		j->cap = j->cap ? 2 * j->cap : 4;
		p->actions = hb_realloc(p->actions, j->cap * sizeof *p->actions);
	}
	hb_plan_action *pa = &p->actions[p->nactions++];
	memset(pa, 0, sizeof *pa);
	return load_action(j->c, p, row, j->o, pa, e);
}

/* A record's load reads only what the plan's templates name (not every column and External
   Data value of every record in the catalogue). */
static void need_slots(hb_plan *p)
{
	hb_tagctx_need(p->tags, NULL, 0); /* even with no template: no tag is read */
	for (size_t i = 0; i < p->nactions; i++) {
		const hb_plan_action *a = &p->actions[i];
		const hb_template *t[] = {a->url, a->headers, a->body, a->text};
		for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
			if (!t[k])
				continue;
			size_t n = hb_template_slots(t[k], NULL, 0);
			int *slots = hb_calloc(n ? n : 1, sizeof *slots);
			hb_template_slots(t[k], slots, n);
			hb_tagctx_need(p->tags, slots, n);
			free(slots);
		}
	}
}

hb_err hb_plan_load(hb_ctx *c, int64_t macro_id, const hb_plan_opts *o, hb_plan **out, hb_error *e)
{
	hb_plan *p = hb_calloc(1, sizeof *p);
	p->ctx = c;
	p->macro_id = macro_id;
	p->macro = hb_row_new(hb_kind_get(HB_K_MACRO));
	hb_cond id = {0, hb_value_int(macro_id)};
	hb_err rc = c->store->ops->find(c->store, p->macro->kind, &id, 1, p->macro, e);
	if (rc == HB_ERR_NOT_FOUND)
		rc = hb_fail(e, HB_ERR_NOT_FOUND, "macro", "the macro of this run (id %lld) was deleted",
			     (long long)macro_id);
	if (!rc) {
		p->updated_at = hb_row_get(p->macro, "updated_at").u.i;
		p->target = strcmp(hb_row_str(p->macro, "target"), "feedback") == 0 ? HB_TARGET_FEEDBACK
										   : HB_TARGET_USERS;
		rc = hb_tagctx_new(c, p->target, hb_row_int(p->macro, "project_id"), &p->tags, e);
		if (!rc)
			hb_tagctx_set_run(p->tags, p->macro, NULL);
	}
	if (!rc) {
		const hb_kind *ak = hb_kind_get(HB_K_ACTION);
		hb_cond cond = {hb_kind_col(ak, "macro_id"), hb_value_int(macro_id)};
		hb_list_opts lo = {.conds = &cond, .nconds = 1};
		load_job j = {c, p, o, 0};
		rc = c->store->ops->list(c->store, ak, &lo, add_action, &j, e);
	}
	if (rc) {
		hb_plan_free(&p);
		return rc;
	}
	need_slots(p);
	*out = p;
	return HB_OK;
}

void hb_plan_free(hb_plan **pp)
{
	hb_plan *p = *pp;
	if (!p)
		return;
	for (size_t i = 0; i < p->nactions; i++) {
		hb_plan_action *a = &p->actions[i];
		hb_template_free(&a->url);
		hb_template_free(&a->headers);
		hb_template_free(&a->body);
		hb_template_free(&a->text);
		free(a->signing_secret);
		for (size_t f = 0; f < a->nfields; f++)
			hb_param_free(&a->fields[f].param);
		free(a->fields);
		json_decref(a->params);
	}
	free(p->actions);
	hb_tagctx_free(&p->tags);
	hb_row_free(&p->macro);
	free(p);
	*pp = NULL;
}

const hb_plan_action *hb_plan_action_at(const hb_plan *p, int position)
{
	for (size_t i = 0; i < p->nactions; i++)
		if (p->actions[i].position == position)
			return &p->actions[i];
	return NULL;
}

int hb_plan_next_webhook(const hb_plan *p, int after)
{
	for (size_t i = 0; i < p->nactions; i++)
		if (p->actions[i].position > after && strcmp(p->actions[i].type, "webhook") == 0)
			return p->actions[i].position;
	return 0;
}

bool hb_plan_natives_after(const hb_plan *p, int after)
{
	for (size_t i = 0; i < p->nactions; i++)
		if (p->actions[i].position > after)
			return strcmp(p->actions[i].type, "webhook") != 0;
	return false;
}
