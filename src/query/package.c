/*
 * package.c - see package.h.
 *
 * DESIGN. Rows are read through query/rows.h, a batch of ids at a time (one statement per
 * column and batch). A paged JSON document needs its total, so it selects every matching id
 * first (8 bytes each); a CSV stream (hb_export_csv_next) needs none: each call selects the
 * next batch of ids after the last one written (keyset paging on the filter's own query) and
 * reads their rows in the same read transaction, so it holds one batch whatever the count.
 */
#include "query/package.h"

#include <stdlib.h>
#include <string.h>

#include "core/jsonw.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "model/tagctx.h"
#include "query/rows.h"

#define ROW_TEXT_MAX (16 * 1024 * 1024) /* one row of an export, as CSV or JSON text */
#define STREAM_CHUNK 4096 /* ids a CSV stream chooses with one query (rows read a batch at a time) */

typedef struct xcol {
	char *name;
	char *path;
	hb_type type;
	int slot;
} xcol;

struct hb_export {
	hb_ctx *c;
	hb_target target;
	hb_filter *filter;
	hb_tagctx *tags;
	xcol *cols;
	size_t ncols;
	int64_t *ids;
	size_t nids, cap;
	hb_buf row; /* the text of the row being written */
	hb_rows *rows; /* the columns' values for a batch of records */
	/* a CSV stream: the rows after id `after`, skip of them left out, then at most left
	   (when limited) */
	int64_t after;
	size_t skip, left;
	bool limited, header_done, end;
	int64_t *bids; /* the stream's batch of ids */
	size_t nbids;
};

static const char *target_name(hb_target t)
{
	return t == HB_TARGET_FEEDBACK ? "feedback" : "users";
}

void hb_export_free(hb_export **x)
{
	if (!x || !*x)
		return;
	hb_export *p = *x;
	for (size_t i = 0; i < p->ncols; i++) {
		free(p->cols[i].name);
		free(p->cols[i].path);
	}
	free(p->cols);
	free(p->ids);
	free(p->bids);
	hb_rows_free(&p->rows);
	hb_buf_free(&p->row);
	hb_tagctx_free(&p->tags);
	hb_filter_free(&p->filter);
	free(p);
	*x = NULL;
}

/* The filter text: an expression, or a saved filter's when it is "@KEY" (owned by *owned). */
static hb_err filter_text(hb_ctx *c, hb_target target, int64_t project_id, const char *filter,
			  const char **text, char **owned, hb_error *e)
{
	*owned = NULL;
	*text = filter ? filter : "";
	if (!filter || filter[0] != '@')
		return HB_OK;
	hb_target t;
	int64_t p;
	hb_err rc = hb_saved_filter_load(c, filter + 1, &t, &p, owned, e);
	if (rc)
		return rc;
	if (t != target)
		rc = hb_fail(e, HB_ERR_INVALID, "filter", "saved filter '%s' chooses %s, not %s",
			     filter + 1, target_name(t), target_name(target));
	else if (p && p != project_id)
		rc = hb_fail(e, HB_ERR_INVALID, "filter", "saved filter '%s' belongs to another project",
			     filter + 1);
	if (rc) {
		free(*owned);
		*owned = NULL;
	} else {
		*text = *owned;
	}
	return rc;
}

static void add_col(hb_export *x, const char *name, const hb_path_info *pi)
{
	xcol *c = &x->cols[x->ncols++];
	c->name = hb_strdup(name);
	c->path = hb_strdup(pi->path);
	c->type = pi->type;
	c->slot = pi->slot;
}

/* Columns without a view: the record's own fields, then its External Data. */
static void default_cols(hb_export *x, const hb_catalog *cat)
{
	const char *own = x->target == HB_TARGET_FEEDBACK ? "feedback." : "user.";
	size_t n = hb_catalog_nslots(cat);
	x->cols = hb_calloc(n ? n : 1, sizeof *x->cols);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			const hb_path_info *pi = hb_catalog_at(cat, i);
			if (pi->flags & HB_PATH_SECRET)
				continue;
			bool take = pass == 0 ? strncmp(pi->path, own, strlen(own)) == 0
					      : (pi->flags & HB_PATH_EXTERNAL) &&
							strncmp(pi->path, "external.", 9) == 0;
			if (take)
				add_col(x, pi->path, pi);
		}
	}
}

static hb_err view_cols(hb_export *x, const char *view, int64_t project_id, hb_error *e)
{
	hb_view_col *vc = NULL;
	size_t n = 0;
	hb_target t;
	const hb_catalog *cat = hb_tagctx_catalog(x->tags);
	hb_err rc = hb_view_load(x->c, view, &t, &vc, &n, e);
	if (!rc && t != x->target)
		rc = hb_fail(e, HB_ERR_INVALID, "view", "view '%s' shows %s, not %s", view,
			     target_name(t), target_name(x->target));
	if (!rc && (rc = hb_view_check_paths(cat, vc, n, e)))
		hb_error_prefix(e, "view '%s'%s", view, project_id ? " (in this project)" : "");
	for (size_t i = 0; !rc && i < n; i++) {
		for (size_t k = 0; k < i && !rc; k++)
			if (strcmp(vc[k].heading, vc[i].heading) == 0)
				rc = hb_fail(e, HB_ERR_INVALID, "view", "view '%s' has two columns called "
					     "'%s'; give them different headings", view, vc[i].heading);
	}
	if (!rc) {
		x->cols = hb_calloc(n, sizeof *x->cols);
		for (size_t i = 0; i < n; i++)
			add_col(x, vc[i].heading, hb_catalog_find(cat, vc[i].path, strlen(vc[i].path)));
	}
	hb_view_cols_free(&vc, n);
	return rc;
}

hb_err hb_export_new(hb_ctx *c, hb_target target, int64_t project_id, const char *filter,
		     const char *view, hb_export **out, hb_error *e)
{
	*out = NULL;
	hb_export *x = hb_calloc(1, sizeof *x);
	x->c = c;
	x->target = target;
	hb_buf_init(&x->row, ROW_TEXT_MAX);
	const char *text;
	char *owned = NULL;
	hb_err rc = filter_text(c, target, project_id, filter, &text, &owned, e);
	if (!rc && (rc = hb_filter_compile(c, target, project_id, text, strlen(text), &x->filter, e)))
		hb_error_prefix(e, "filter");
	free(owned);
	if (!rc)
		rc = hb_tagctx_new(c, target, project_id, &x->tags, e);
	if (!rc && view && *view)
		rc = view_cols(x, view, project_id, e);
	else if (!rc)
		default_cols(x, hb_tagctx_catalog(x->tags));
	if (!rc) {
		const char **paths = hb_calloc(x->ncols ? x->ncols : 1, sizeof *paths);
		for (size_t i = 0; i < x->ncols; i++)
			paths[i] = x->cols[i].path;
		rc = hb_rows_new(c, x->filter, x->tags, paths, x->ncols, &x->rows, e);
		free(paths);
	}
	if (rc)
		hb_export_free(&x);
	*out = x;
	return rc;
}

json_t *hb_export_fields_json(const hb_export *x)
{
	json_t *a = json_array();
	for (size_t i = 0; i < x->ncols; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "name", x->cols[i].name, "path",
						   x->cols[i].path, "type",
						   hb_type_name(x->cols[i].type)));
	return a;
}

static hb_err take_id(void *ud, const hb_qrow *row, hb_error *e)
{
	(void)e;
	hb_export *x = ud;
	if (x->nids == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 1024;
		x->ids = hb_realloc(x->ids, x->cap * sizeof *x->ids);
	}
	x->ids[x->nids++] = row->id;
	return HB_OK;
}

hb_err hb_export_select(hb_export *x, int64_t after_id, size_t limit, hb_error *e)
{
	hb_query q = *hb_filter_query(x->filter);
	q.after_id = after_id;
	q.limit = limit;
	x->nids = 0;
	return x->c->store->ops->query(x->c->store, &q, take_id, x, e);
}

hb_err hb_export_select_one(hb_export *x, int64_t id, hb_error *e)
{
	hb_err rc = hb_export_select(x, id > 0 ? id - 1 : 0, 1, e);
	if (!rc && (x->nids != 1 || x->ids[0] != id)) {
		x->nids = 0;
		rc = hb_fail(e, HB_ERR_NOT_FOUND, "", "no such record here");
	}
	return rc;
}

size_t hb_export_count(const hb_export *x)
{
	return x->nids;
}

int64_t hb_export_id(const hb_export *x, size_t i)
{
	return i < x->nids ? x->ids[i] : 0;
}

/* An object of column name → value for a row of values (one per column). */
static json_t *row_object(const hb_export *x, const hb_value *vals)
{
	json_t *o = json_object();
	for (size_t k = 0; k < x->ncols; k++)
		json_object_set_new(o, x->cols[k].name, hb_value_json(&vals[k]));
	return o;
}

hb_err hb_export_row_json(hb_export *x, size_t i, json_t **out, hb_error *e)
{
	*out = NULL;
	if (i >= x->nids)
		return hb_fail(e, HB_ERR_NOT_FOUND, "", "no such row");
	hb_err rc = hb_rows_load(x->rows, &x->ids[i], 1, x->c->in_tx, e);
	if (!rc)
		*out = row_object(x, hb_rows_at(x->rows, 0));
	return rc;
}

static int dump_cb(const char *p, size_t n, void *ud)
{
	return hb_buf_add(ud, p, n) ? -1 : 0;
}

/* Hand x->row to fn, or say the row was too large. */
static hb_err flush_row(hb_export *x, hb_err rc, hb_export_write_fn fn, void *ud, hb_error *e)
{
	if (rc)
		return hb_fail(e, HB_ERR_TOO_LARGE, "", "a row is over %d MiB as text",
			       ROW_TEXT_MAX / (1024 * 1024));
	rc = fn(ud, hb_buf_str(&x->row), x->row.len, e);
	hb_buf_reset(&x->row);
	return rc;
}

hb_err hb_export_json_rows(hb_export *x, size_t from, size_t to, hb_export_write_fn fn, void *ud,
			   hb_error *e)
{
	if (to > x->nids)
		to = x->nids;
	hb_err rc = HB_OK;
	for (size_t i = from; !rc && i < to; i++) {
		size_t b = (i - from) % HB_ROWS_BATCH;
		if (b == 0) {
			size_t n = to - i < HB_ROWS_BATCH ? to - i : HB_ROWS_BATCH;
			if ((rc = hb_rows_load(x->rows, &x->ids[i], n, x->c->in_tx, e)))
				break;
		}
		json_t *o = row_object(x, hb_rows_at(x->rows, b));
		hb_err w = i > from ? hb_buf_addc(&x->row, ',') : HB_OK;
		if (!w && json_dump_callback(o, dump_cb, &x->row, JSON_COMPACT | JSON_PRESERVE_ORDER))
			w = HB_ERR_TOO_LARGE;
		json_decref(o);
		rc = flush_row(x, w, fn, ud, e);
	}
	return rc;
}

hb_err hb_export_json(hb_export *x, size_t page, size_t page_size, hb_export_write_fn fn,
		      void *ud, hb_error *e)
{
	size_t total = x->nids;
	if (page < 1)
		page = 1;
	if (page_size == 0) /* one page of every row */
		page_size = total ? total : 1;
	size_t pages = (total + page_size - 1) / page_size;
	size_t from = (page - 1) < pages ? (page - 1) * page_size : total;
	size_t to = total - from < page_size ? total : from + page_size;
	json_t *head = json_pack("{s:{s:I, s:I, s:I, s:I}, s:o}", "paging", "total_pages",
				 (json_int_t)pages, "current_page", (json_int_t)page, "page_size",
				 (json_int_t)page_size, "total_results", (json_int_t)total, "fields",
				 hb_export_fields_json(x));
	char *text = hb_json_dump(head, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(head);
	size_t len = strlen(text);
	text[len - 1] = ','; /* the object goes on with "data" */
	hb_err rc = fn(ud, text, len, e);
	free(text);
	if (!rc)
		rc = fn(ud, "\"data\":[", 8, e);
	if (!rc)
		rc = hb_export_json_rows(x, from, to, fn, ud, e);
	if (!rc)
		rc = fn(ud, "]}\n", 3, e);
	return rc;
}

hb_err hb_csv_field(hb_buf *b, const char *s, size_t n)
{
	bool quote = n && (s[0] == ' ' || s[n - 1] == ' ');
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (!quote)
		return hb_buf_add(b, s, n);
	hb_err rc = hb_buf_addc(b, '"');
	for (size_t i = 0; !rc && i < n; i++) {
		if (s[i] == '"')
			rc = hb_buf_addc(b, '"');
		if (!rc)
			rc = hb_buf_addc(b, s[i]);
	}
	return rc ? rc : hb_buf_addc(b, '"');
}

static hb_err csv_value(hb_buf *b, const hb_value *v)
{
	char t[HB_TIME_STR_MAX];
	switch (v->type) {
	case HB_TYPE_BOOL:
		return hb_buf_adds(b, v->u.b ? "true" : "false");
	case HB_TYPE_INT:
		return hb_buf_add_int(b, (long long)v->u.i);
	case HB_TYPE_TIME:
		return hb_buf_adds(b, hb_time_format(v->u.i, t));
	case HB_TYPE_STRING:
		return hb_csv_field(b, v->u.s.ptr, v->u.s.len);
	default:
		return HB_OK;
	}
}

/* The header row into b. */
static hb_err csv_header(const hb_export *x, hb_buf *b)
{
	hb_err w = HB_OK;
	for (size_t k = 0; !w && k < x->ncols; k++) {
		if (k)
			w = hb_buf_addc(b, ',');
		if (!w)
			w = hb_csv_field(b, x->cols[k].name, strlen(x->cols[k].name));
	}
	return w ? w : hb_buf_add(b, "\r\n", 2);
}

/* Row i of the last load into b. */
static hb_err csv_row(const hb_export *x, size_t i, hb_buf *b)
{
	const hb_value *vals = hb_rows_at(x->rows, i);
	hb_err w = HB_OK;
	for (size_t k = 0; !w && k < x->ncols; k++) {
		if (k)
			w = hb_buf_addc(b, ',');
		if (!w)
			w = csv_value(b, &vals[k]);
	}
	return w ? w : hb_buf_add(b, "\r\n", 2);
}

hb_err hb_export_csv(hb_export *x, size_t from, size_t to, hb_export_write_fn fn, void *ud,
		     hb_error *e)
{
	hb_err rc = flush_row(x, csv_header(x, &x->row), fn, ud, e);
	if (to > x->nids)
		to = x->nids;
	for (size_t i = from; !rc && i < to; i += HB_ROWS_BATCH) {
		size_t n = to - i < HB_ROWS_BATCH ? to - i : HB_ROWS_BATCH;
		rc = hb_rows_load(x->rows, &x->ids[i], n, x->c->in_tx, e);
		for (size_t k = 0; !rc && k < n; k++)
			rc = flush_row(x, csv_row(x, k, &x->row), fn, ud, e);
	}
	return rc;
}

void hb_export_csv_stream(hb_export *x, size_t skip, size_t count)
{
	x->after = 0;
	x->skip = skip;
	x->left = count;
	x->limited = count > 0;
	x->header_done = x->end = false;
	if (!x->bids)
		x->bids = hb_calloc(STREAM_CHUNK, sizeof *x->bids);
}

static hb_err take_batch_id(void *ud, const hb_qrow *row, hb_error *e)
{
	(void)e;
	hb_export *x = ud;
	x->bids[x->nbids++] = row->id;
	return HB_OK;
}

typedef struct skip_job {
	int64_t last;
	size_t n;
} skip_job;

static hb_err take_skipped(void *ud, const hb_qrow *row, hb_error *e)
{
	(void)e;
	skip_job *j = ud;
	j->last = row->id;
	j->n++;
	return HB_OK;
}

/* The stream's next piece into b (up to STREAM_CHUNK rows, chosen by one query and read a
   batch at a time), inside the read transaction of the caller. */
static hb_err stream_batch(hb_export *x, hb_buf *b, hb_error *e)
{
	hb_query q = *hb_filter_query(x->filter);
	hb_err rc = HB_OK;
	if (x->skip) { /* the rows before a page: only the id of the last is kept */
		skip_job j = {0, 0};
		q.after_id = x->after;
		q.limit = x->skip;
		if ((rc = x->c->store->ops->query(x->c->store, &q, take_skipped, &j, e)))
			return rc;
		x->after = j.last;
		x->end = j.n < x->skip;
		x->skip = 0;
		if (x->end)
			return HB_OK;
	}
	size_t want = x->limited && x->left < STREAM_CHUNK ? x->left : STREAM_CHUNK;
	q.after_id = x->after;
	q.limit = want;
	x->nbids = 0;
	if (want && (rc = x->c->store->ops->query(x->c->store, &q, take_batch_id, x, e)))
		return rc;
	if (x->nbids < want || want == 0 || (x->limited && x->left == x->nbids))
		x->end = true;
	if (x->nbids == 0)
		return HB_OK;
	x->after = x->bids[x->nbids - 1];
	x->left -= x->limited ? x->nbids : 0;
	for (size_t at = 0; !rc && at < x->nbids; at += HB_ROWS_BATCH) {
		size_t n = x->nbids - at < HB_ROWS_BATCH ? x->nbids - at : HB_ROWS_BATCH;
		rc = hb_rows_load(x->rows, x->bids + at, n, true, e);
		for (size_t i = 0; !rc && i < n; i++)
			if (csv_row(x, i, b))
				rc = hb_fail(e, HB_ERR_TOO_LARGE, "", "a piece of the export is over %zu "
					     "bytes as text", b->max);
	}
	return rc;
}

hb_err hb_export_csv_next(hb_export *x, hb_buf *out, bool *done, hb_error *e)
{
	*done = false;
	if (!x->header_done) {
		if (csv_header(x, out))
			return hb_fail(e, HB_ERR_TOO_LARGE, "", "the header row is over %zu bytes",
				       out->max);
		x->header_done = true;
	}
	if (x->end) {
		*done = true;
		return HB_OK;
	}
	hb_store *s = x->c->store;
	hb_err rc = x->c->in_tx ? HB_OK : s->ops->begin_read(s, e);
	if (!rc)
		rc = stream_batch(x, out, e);
	if (!x->c->in_tx && rc) {
		s->ops->rollback(s);
	} else if (!x->c->in_tx) {
		hb_error ignored = {0};
		if ((rc = s->ops->commit(s, &ignored)))
			*e = ignored;
	}
	if (rc)
		x->end = true;
	return rc;
}

/* ---- saved packages ---- */

hb_err hb_package_check(hb_ctx *c, json_t *input, hb_error *e)
{
	const char *on = json_string_value(json_object_get(input, "on"));
	hb_target t;
	if (!on || !hb_target_parse(on, &t) || t == HB_TARGET_PROJECTS)
		return hb_fail(e, HB_ERR_INVALID, "on", "on must be users or feedback");
	int64_t project_id = 0;
	hb_err rc = HB_OK;
	json_t *p = json_object_get(input, "project");
	if (p && !json_is_null(p)) {
		if (!json_is_string(p))
			return hb_fail(e, HB_ERR_INVALID, "project", "project must be a project key");
		hb_row *row = NULL;
		if ((rc = hb_record_find(c, HB_K_PROJECT, c->community_id, json_string_value(p), &row, e)))
			return rc;
		project_id = hb_row_id(row);
		hb_row_free(&row);
	}
	json_t *f = json_object_get(input, "filter"), *v = json_object_get(input, "view");
	if (f && !json_is_null(f) && !json_is_string(f))
		return hb_fail(e, HB_ERR_INVALID, "filter", "filter must be text");
	if (v && !json_is_null(v) && !json_is_string(v))
		return hb_fail(e, HB_ERR_INVALID, "view", "view must be a view key");
	hb_export *x = NULL;
	rc = hb_export_new(c, t, project_id, json_string_value(f), json_string_value(v), &x, e);
	hb_export_free(&x);
	if (rc && !e->field[0])
		snprintf(e->field, sizeof e->field, "%s", json_string_value(v) ? "view" : "filter");
	return rc;
}

void hb_package_clear(hb_package *p)
{
	free(p->key);
	free(p->filter);
	free(p->view);
	memset(p, 0, sizeof *p);
}

hb_err hb_package_load(hb_ctx *c, const char *key, hb_package *out, hb_error *e)
{
	memset(out, 0, sizeof *out);
	hb_row *row = NULL;
	hb_err rc = hb_record_find(c, HB_K_PACKAGE, c->community_id, key, &row, e);
	if (rc == HB_ERR_NOT_FOUND || rc == HB_ERR_INVALID)
		return hb_fail(e, HB_ERR_NOT_FOUND, "package", "no data package '%s'", key);
	if (rc)
		return rc;
	json_t *o = hb_record_json(c, row);
	out->key = hb_strdup(json_string_value(json_object_get(o, "key")));
	out->target = strcmp(hb_row_str(row, "target"), "feedback") == 0 ? HB_TARGET_FEEDBACK
									 : HB_TARGET_USERS;
	out->project_id = hb_row_int(row, "project_id");
	const char *f = json_string_value(json_object_get(o, "filter"));
	const char *v = json_string_value(json_object_get(o, "view"));
	out->filter = f ? hb_strdup(f) : NULL;
	out->view = v ? hb_strdup(v) : NULL;
	const char *fmt = json_string_value(json_object_get(o, "format"));
	out->csv = fmt && strcmp(fmt, "csv") == 0;
	json_decref(o);
	hb_row_free(&row);
	return HB_OK;
}

hb_err hb_package_export(hb_ctx *c, const hb_package *p, hb_export **out, hb_error *e)
{
	hb_err rc = hb_export_new(c, p->target, p->project_id, p->filter, p->view, out, e);
	if (rc)
		hb_error_prefix(e, "data package '%s'", p->key);
	return rc;
}

static hb_err whole(const char *s, const char *name, size_t max, size_t *out, hb_error *e)
{
	int64_t n;
	if (!hb_text_to_int64(s, strlen(s), &n) || n < 1 || (uint64_t)n > max)
		return hb_fail(e, HB_ERR_USAGE, name, "%s must be a whole number from 1 to %zu", name, max);
	*out = (size_t)n;
	return HB_OK;
}

hb_err hb_package_paging(const char *page, const char *page_size, size_t dflt, size_t *pg,
			 size_t *size, hb_error *e)
{
	*pg = 1;
	*size = dflt;
	hb_err rc = page ? whole(page, "page", (size_t)1 << 40, pg, e) : HB_OK;
	if (!rc && page_size)
		rc = whole(page_size, "page_size", HB_PACKAGE_PAGE_MAX, size, e);
	return rc;
}
