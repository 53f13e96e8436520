/* xdata.c - see xdata.h. */
#include "model/xdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonw.h"
#include "core/mem.h"
#include "core/timeutil.h"

bool hb_target_parse(const char *on, hb_target *out)
{
	static const char *const names[] = {"users", "feedback", "projects"};
	for (int i = 0; i < 3; i++)
		if (strcmp(on, names[i]) == 0) {
			*out = (hb_target)i;
			return true;
		}
	return false;
}

typedef struct collect {
	hb_ctx *c;
	hb_target target;
	int64_t project_id;
	hb_xfield_info *items;
	size_t n, cap;
	const hb_row *group;
} collect;

static hb_err add_field(void *ud, const hb_row *f, hb_error *e)
{
	(void)e;
	collect *col = ud;
	if (col->n == col->cap) {
		col->cap = col->cap ? col->cap * 2 : 16;
		col->items = hb_realloc(col->items, col->cap * sizeof *col->items);
	}
	hb_xfield_info *x = &col->items[col->n++];
	memset(x, 0, sizeof *x);
	x->id = hb_row_id(f);
	x->group_id = hb_row_id(col->group);
	x->project_id = hb_row_int(col->group, "project_id");
	snprintf(x->group, sizeof x->group, "%s", hb_row_str(col->group, "key"));
	snprintf(x->key, sizeof x->key, "%s", hb_row_str(f, "key"));
	snprintf(x->label, sizeof x->label, "%s", hb_row_str(f, "label"));
	snprintf(x->param, sizeof x->param, "%s", hb_row_str(f, "param"));
	if (!hb_type_parse(hb_row_str(f, "type"), &x->type))
		x->type = HB_TYPE_STRING;
	x->favorite = hb_row_int(f, "favorite") != 0;
	x->position = hb_row_int(f, "position");
	return HB_OK;
}

static hb_err add_group(void *ud, const hb_row *g, hb_error *e)
{
	collect *col = ud;
	hb_target t;
	if (!hb_target_parse(hb_row_str(g, "target"), &t) || t != col->target)
		return HB_OK;
	int64_t gp = hb_row_int(g, "project_id");
	if (col->project_id && gp && gp != col->project_id)
		return HB_OK;
	col->group = g;
	const hb_kind *fk = hb_kind_get(HB_K_XFIELD);
	hb_cond cond = {hb_kind_col(fk, "group_id"), hb_value_int(hb_row_id(g))};
	hb_list_opts o = {.conds = &cond, .nconds = 1};
	return col->c->store->ops->list(col->c->store, fk, &o, add_field, col, e);
}

hb_err hb_xdata_fields(hb_ctx *c, hb_target target, int64_t project_id, hb_xfield_info **out,
		       size_t *n, hb_error *e)
{
	collect col = {.c = c, .target = target, .project_id = project_id};
	const hb_kind *gk = hb_kind_get(HB_K_XGROUP);
	hb_cond cond = {1, hb_value_int(c->community_id)};
	hb_list_opts o = {.conds = &cond, .nconds = 1};
	hb_err rc = c->store->ops->list(c->store, gk, &o, add_group, &col, e);
	if (rc) {
		free(col.items);
		return rc;
	}
	*out = col.items;
	*n = col.n;
	return HB_OK;
}

hb_err hb_xdata_field(hb_ctx *c, const char *dotted, hb_xfield_info *out, hb_target *target,
		      hb_error *e)
{
	const char *dot = strchr(dotted, '.');
	if (!dot || dot == dotted || !dot[1] || strchr(dot + 1, '.'))
		return hb_fail(e, HB_ERR_USAGE, "field", "name the field as GROUP.FIELD, not '%s'", dotted);
	char group[65];
	if ((size_t)(dot - dotted) >= sizeof group)
		return hb_fail(e, HB_ERR_NOT_FOUND, "field", "no External Data group '%.*s'",
			       (int)(dot - dotted), dotted);
	memcpy(group, dotted, (size_t)(dot - dotted));
	group[dot - dotted] = '\0';
	hb_row *g = NULL, *f = NULL;
	hb_err rc = hb_record_find(c, HB_K_XGROUP, c->community_id, group, &g, e);
	if (rc)
		return rc;
	rc = hb_record_find(c, HB_K_XFIELD, hb_row_id(g), dot + 1, &f, e);
	if (rc == HB_ERR_NOT_FOUND)
		rc = hb_fail(e, rc, "field", "no field '%s' in External Data group '%s'", dot + 1, group);
	if (!rc) {
		collect col = {.c = c, .group = g};
		add_field(&col, f, e);
		*out = col.items[0];
		free(col.items);
		hb_target_parse(hb_row_str(g, "target"), target);
	}
	hb_row_free(&g);
	hb_row_free(&f);
	return rc;
}

hb_value hb_xdata_typed(const hb_xfield_info *f, hb_value raw)
{
	int64_t t;
	switch (f->type) {
	case HB_TYPE_BOOL:
		return raw.type == HB_TYPE_INT ? hb_value_bool(raw.u.i != 0) : hb_value_null();
	case HB_TYPE_INT:
		return raw.type == HB_TYPE_INT ? raw : hb_value_null();
	case HB_TYPE_TIME:
		if (raw.type == HB_TYPE_STRING && hb_time_parse(raw.u.s.ptr, raw.u.s.len, &t))
			return hb_value_time(t);
		return hb_value_null();
	default:
		return raw.type == HB_TYPE_STRING ? raw : hb_value_null();
	}
}

typedef struct values_job {
	const hb_xfield_info *fields;
	size_t n;
	json_t **slots; /* one per field */
} values_job;

static hb_err take_value(void *ud, const hb_xvalue *xv, hb_error *e)
{
	(void)e;
	values_job *j = ud;
	char t[HB_TIME_STR_MAX];
	for (size_t i = 0; i < j->n; i++) {
		if (j->fields[i].id != xv->field_id)
			continue;
		json_t *o = json_object();
		hb_value typed = hb_xdata_typed(&j->fields[i], xv->value);
		json_object_set_new(o, "value", hb_value_json(&typed));
		json_object_set_new(o, "set_at", json_string(hb_time_format(xv->set_at, t)));
		json_object_set_new(o, "source", xv->source ? json_string(xv->source) : json_null());
		j->slots[i] = o;
	}
	return HB_OK;
}

json_t *hb_xdata_record_json(hb_ctx *c, hb_target target, int64_t record_id, int64_t project_id,
			     hb_error *e)
{
	hb_xfield_info *fields = NULL;
	size_t n = 0;
	if (hb_xdata_fields(c, target, project_id, &fields, &n, e))
		return NULL;
	values_job j = {fields, n, hb_calloc(n ? n : 1, sizeof(json_t *))};
	json_t *out = NULL;
	if (!c->store->ops->xvalue_list(c->store, target, record_id, take_value, &j, e)) {
		out = json_array();
		for (int pass = 0; pass < 2; pass++) { /* favorites first */
			for (size_t i = 0; i < n; i++) {
				if (fields[i].favorite != (pass == 0))
					continue;
				char name[140];
				snprintf(name, sizeof name, "%s.%s", fields[i].group, fields[i].key);
				json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "field", name, "label",
						      fields[i].label, "type", hb_type_name(fields[i].type),
						      "favorite", fields[i].favorite);
				if (j.slots[i])
					json_object_update(o, j.slots[i]);
				else
					json_object_set_new(o, "value", json_null());
				json_array_append_new(out, o);
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		json_decref(j.slots[i]);
	free(j.slots);
	free(fields);
	return out;
}
