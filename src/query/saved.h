/*
 * saved.h - saved filters and views (SPEC §7): checked against the Data Engine when they are
 * saved, loaded by key when they are used. The records themselves are ordinary described
 * kinds (HB_K_FILTER, HB_K_VIEW) written through the model; this adds what is particular to
 * them, shared by the command line and the API.
 */
#ifndef HB_QUERY_SAVED_H
#define HB_QUERY_SAVED_H

#include "query/filter.h"

#define HB_VIEW_MAX_COLUMNS 64

/* One column of a view. */
typedef struct hb_view_col {
	char *path;    /* catalogue path, e.g. "external.shipping.is_valid" */
	char *heading; /* what the column is called in tables and CSV */
} hb_view_col;

/* Check the public input of a saved filter (on, project, expression) before it is written:
   the expression must compile for its records. */
hb_err hb_saved_filter_check(hb_ctx *c, json_t *input, hb_error *e) HB_MUST_USE;
/* Check the public input of a view (on, columns): every column a known path. Columns may be
   given as "path" strings; they are rewritten to {"path", "heading"} objects in input. */
hb_err hb_saved_view_check(hb_ctx *c, json_t *input, hb_error *e) HB_MUST_USE;
/* A saved filter by key: its records, project (0 = community level) and expression (owned by
   the caller). */
hb_err hb_saved_filter_load(hb_ctx *c, const char *key, hb_target *target, int64_t *project_id,
			    char **expression, hb_error *e) HB_MUST_USE;
/* A view by key: its records and columns (owned by the caller, hb_view_cols_free). */
hb_err hb_view_load(hb_ctx *c, const char *key, hb_target *target, hb_view_col **cols, size_t *n,
		    hb_error *e) HB_MUST_USE;
/* Columns from their JSON form (an array of {"path","heading"} objects or path strings). */
hb_err hb_view_columns(json_t *columns, hb_view_col **cols, size_t *n, hb_error *e) HB_MUST_USE;
void hb_view_cols_free(hb_view_col **cols, size_t n);
/* Check every column path against cat (error names the column and suggests a spelling). */
hb_err hb_view_check_paths(const hb_catalog *cat, const hb_view_col *cols, size_t n, hb_error *e)
	HB_MUST_USE;

#endif
