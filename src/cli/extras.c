/*
 * extras.c - the sections shown with one record: a user's External Data (favorites first),
 * projects and notes; a ticket's External Data and replies; a project's External Data.
 */
#include <string.h>

#include "cli/records.h"
#include "model/xdata.h"

typedef struct gather {
	hb_ctx *c;
	json_t *arr;
} gather;

static hb_err gather_row(void *ud, const hb_row *row, hb_error *e)
{
	(void)e;
	gather *g = ud;
	json_t *o = hb_record_json(g->c, row);
	json_object_del(o, "id");
	json_object_del(o, "user");
	json_object_del(o, "feedback");
	json_array_append_new(g->arr, o);
	return HB_OK;
}

static json_t *children(hb_ctx *c, hb_kind_id kid, const char *col, int64_t id)
{
	const hb_kind *k = hb_kind_get(kid);
	gather g = {c, json_array()};
	hb_cond cond = {hb_kind_col(k, col), hb_value_int(id)};
	hb_list_opts o = {.conds = &cond, .nconds = 1};
	hb_error e;
	if (c->store->ops->list(c->store, k, &o, gather_row, &g, &e)) {
		json_decref(g.arr);
		return json_null();
	}
	return g.arr;
}

void hb_cli_add_extras(hb_cli *cli, const hb_recspec *sp, const hb_row *row, json_t *obj)
{
	hb_error e;
	hb_ctx *c = &cli->ctx;
	json_t *x = NULL;
	switch (sp->kind) {
	case HB_K_USER:
		x = hb_xdata_record_json(c, HB_TARGET_USERS, hb_row_id(row), 0, &e);
		json_object_set_new(obj, "external", x ? x : json_array());
		json_object_set_new(obj, "projects", children(c, HB_K_PARTICIPATION, "user_id", hb_row_id(row)));
		json_object_set_new(obj, "notes", children(c, HB_K_NOTE, "user_id", hb_row_id(row)));
		break;
	case HB_K_FEEDBACK:
		x = hb_xdata_record_json(c, HB_TARGET_FEEDBACK, hb_row_id(row),
					 hb_row_int(row, "project_id"), &e);
		json_object_set_new(obj, "external", x ? x : json_array());
		json_object_set_new(obj, "replies", children(c, HB_K_REPLY, "feedback_id", hb_row_id(row)));
		break;
	case HB_K_PROJECT:
		x = hb_xdata_record_json(c, HB_TARGET_PROJECTS, hb_row_id(row), hb_row_id(row), &e);
		json_object_set_new(obj, "external", x ? x : json_array());
		break;
	default:
		break;
	}
}

void hb_cli_print_extras_table(json_t *obj)
{
	json_t *plain = json_object();
	const char *k;
	json_t *v;
	/* scalar fields and lists of names go in the details; lists of records get tables */
	json_object_foreach(obj, k, v) if (!json_is_array(v) ||
					    (json_array_size(v) && !json_is_object(json_array_get(v, 0))))
		json_object_set(plain, k, v);
	hb_cli_print_details(plain);
	json_decref(plain);
	json_object_foreach(obj, k, v)
	{
		if (!json_is_array(v) || !json_is_object(json_array_get(v, 0)))
			continue;
		printf("\n%s:\n", k);
		json_t *first = json_array_get(v, 0);
		const char *heads[12];
		size_t n = 0;
		const char *h;
		json_t *hv;
		json_object_foreach(first, h, hv) if (n < 12) heads[n++] = h;
		hb_table *t = hb_table_new(heads, n);
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item)
		{
			char bufs[12][256];
			const char *cells[12];
			for (size_t c = 0; c < n; c++)
				cells[c] = hb_cell_text(json_object_get(item, heads[c]), bufs[c], sizeof bufs[c]);
			hb_table_add(t, cells);
		}
		hb_table_finish(&t);
	}
}
