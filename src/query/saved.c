/* saved.c - see saved.h. */
#include "query/saved.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "model/tagctx.h"

static hb_err target_of(json_t *input, hb_target *t, hb_error *e)
{
	const char *on = json_string_value(json_object_get(input, "on"));
	if (!on || !hb_target_parse(on, t) || *t == HB_TARGET_PROJECTS)
		return hb_fail(e, HB_ERR_INVALID, "on", "on must be users or feedback");
	return HB_OK;
}

hb_err hb_saved_filter_check(hb_ctx *c, json_t *input, hb_error *e)
{
	hb_target t;
	hb_err rc = target_of(input, &t, e);
	if (rc)
		return rc;
	int64_t project_id = 0;
	const char *project = json_string_value(json_object_get(input, "project"));
	if (project) {
		hb_row *p = NULL;
		if ((rc = hb_record_find(c, HB_K_PROJECT, c->community_id, project, &p, e)))
			return rc;
		project_id = hb_row_id(p);
		hb_row_free(&p);
	}
	json_t *x = json_object_get(input, "expression");
	if (!json_is_string(x))
		return hb_fail(e, HB_ERR_INVALID, "expression", "expression is required");
	hb_filter *f = NULL;
	rc = hb_filter_compile(c, t, project_id, json_string_value(x), json_string_length(x), &f, e);
	hb_filter_free(&f);
	if (rc) {
		hb_error_prefix(e, "expression");
		snprintf(e->field, sizeof e->field, "expression");
	}
	return rc;
}

void hb_view_cols_free(hb_view_col **cols, size_t n)
{
	if (!cols || !*cols)
		return;
	for (size_t i = 0; i < n; i++) {
		free((*cols)[i].path);
		free((*cols)[i].heading);
	}
	free(*cols);
	*cols = NULL;
}

hb_err hb_view_columns(json_t *columns, hb_view_col **out, size_t *n, hb_error *e)
{
	*out = NULL;
	*n = 0;
	if (!json_is_array(columns) || json_array_size(columns) == 0 ||
	    json_array_size(columns) > HB_VIEW_MAX_COLUMNS)
		return hb_fail(e, HB_ERR_INVALID, "columns", "columns must be a list of 1 to %d paths",
			       HB_VIEW_MAX_COLUMNS);
	hb_view_col *cols = hb_calloc(json_array_size(columns), sizeof *cols);
	size_t i;
	json_t *c;
	json_array_foreach(columns, i, c) {
		const char *path = json_is_string(c) ? json_string_value(c)
						     : json_string_value(json_object_get(c, "path"));
		const char *heading = json_string_value(json_object_get(c, "heading"));
		if (!path || !*path || strlen(path) > 200 || (heading && strlen(heading) > 200)) {
			hb_view_cols_free(&cols, i);
			return hb_fail(e, HB_ERR_INVALID, "columns", "column %zu needs a path (at most 200 "
				       "characters) and may have a heading", i + 1);
		}
		cols[i].path = hb_strdup(path);
		cols[i].heading = hb_strdup(heading && *heading ? heading : path);
	}
	*out = cols;
	*n = i;
	return HB_OK;
}

hb_err hb_view_check_paths(const hb_catalog *cat, const hb_view_col *cols, size_t n, hb_error *e)
{
	for (size_t i = 0; i < n; i++) {
		if (hb_catalog_find(cat, cols[i].path, strlen(cols[i].path)) &&
		    strcmp(cols[i].path, "now") != 0)
			continue;
		char hint[200];
		hb_catalog_suggest(cat, cols[i].path, strlen(cols[i].path), hint, sizeof hint);
		if (hint[0])
			return hb_fail(e, HB_ERR_INVALID, "columns", "column %zu: unknown path '%s' (did "
				       "you mean '%s'?)", i + 1, cols[i].path, hint);
		return hb_fail(e, HB_ERR_INVALID, "columns", "column %zu: unknown path '%s' (see: "
			       "hookbridge tags)", i + 1, cols[i].path);
	}
	return HB_OK;
}

hb_err hb_saved_view_check(hb_ctx *c, json_t *input, hb_error *e)
{
	hb_target t;
	hb_err rc = target_of(input, &t, e);
	hb_view_col *cols = NULL;
	size_t n = 0;
	hb_tagctx *tags = NULL;
	if (!rc)
		rc = hb_view_columns(json_object_get(input, "columns"), &cols, &n, e);
	if (!rc)
		rc = hb_tagctx_new(c, t, 0, &tags, e);
	if (!rc)
		rc = hb_view_check_paths(hb_tagctx_catalog(tags), cols, n, e);
	if (!rc) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:s, s:s}", "path", cols[i].path, "heading",
							   cols[i].heading));
		json_object_set_new(input, "columns", a);
	}
	hb_tagctx_free(&tags);
	hb_view_cols_free(&cols, n);
	return rc;
}

static hb_err find_saved(hb_ctx *c, hb_kind_id kind, const char *key, json_t **out, hb_error *e)
{
	hb_row *row = NULL;
	hb_err rc = hb_record_find(c, kind, c->community_id, key, &row, e);
	if (rc == HB_ERR_NOT_FOUND)
		rc = hb_fail(e, rc, kind == HB_K_FILTER ? "filter" : "view", "no saved %s '%s'",
			     kind == HB_K_FILTER ? "filter" : "view", key);
	if (!rc)
		*out = hb_record_json(c, row);
	hb_row_free(&row);
	return rc;
}

hb_err hb_saved_filter_load(hb_ctx *c, const char *key, hb_target *target, int64_t *project_id,
			    char **expression, hb_error *e)
{
	json_t *o = NULL;
	hb_err rc = find_saved(c, HB_K_FILTER, key, &o, e);
	if (!rc)
		rc = target_of(o, target, e);
	*project_id = 0;
	const char *project = json_string_value(json_object_get(o, "project"));
	if (!rc && project) {
		hb_row *p = NULL;
		rc = hb_record_find(c, HB_K_PROJECT, c->community_id, project, &p, e);
		if (!rc)
			*project_id = hb_row_id(p);
		hb_row_free(&p);
	}
	if (!rc)
		*expression = hb_strdup(json_string_value(json_object_get(o, "expression")));
	json_decref(o);
	return rc;
}

hb_err hb_view_load(hb_ctx *c, const char *key, hb_target *target, hb_view_col **cols, size_t *n,
		    hb_error *e)
{
	json_t *o = NULL;
	hb_err rc = find_saved(c, HB_K_VIEW, key, &o, e);
	if (!rc)
		rc = target_of(o, target, e);
	if (!rc)
		rc = hb_view_columns(json_object_get(o, "columns"), cols, n, e);
	json_decref(o);
	return rc;
}
