/*
 * packages.c - the API's reading side of SPEC §6-7: data packages
 * (projects/{project}/data-packages/{key} and community-level data-packages/{key}), record
 * lookups (lookup/{users|feedback|projects}/{id}), ?filter= and ?view= on the users and
 * feedback lists, and reports. Everything goes through the same model as the command line
 * (query/package.h, query/filter.h), so both accept and refuse the same filters and views.
 *
 * Access: a project-manager key reads only packages, reports and records of its projects; a
 * filtered list shows it only the users and tickets of its projects. Packages also need the
 * community's enhanced integrations (SPEC §8). A package's CSV is streamed (hb_api_stream):
 * everything that can be refused (arguments, access, the package, its filter and view) is
 * checked first and answered as a JSON error; then the rows go out as the store hands them
 * over, a few thousand at a time, so any number of rows is served in the memory of one piece
 * (query/package.h). Other answers (JSON pages, lookups, reports) are built in a buffer capped
 * at CSV_MAX.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "api/packages.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "deliver/run.h"
#include "query/package.h"

#define CSV_MAX (64 * 1024 * 1024) /* largest JSON page, lookup or report answered at once */
#define SCAN_MAX 2000               /* ids a project manager's filtered page looks at */
#define MAX_GROUPS 100000           /* groups a report answers */

static hb_err to_buf(void *ud, const char *p, size_t n, hb_error *e)
{
	if (hb_buf_add(ud, p, n))
		return hb_fail(e, HB_ERR_TOO_LARGE, "page_size", "the export is over %d MiB; ask for "
			       "it in pages (page, page_size)", CSV_MAX / (1024 * 1024));
	return HB_OK;
}

/* Answer with the text in b (handed over) as type. */
static hb_err reply_text(hb_req *r, hb_buf *b, const char *type)
{
	r->status = 200;
	r->raw_len = b->len;
	r->raw = hb_buf_steal(b);
	r->raw_free = true;
	r->raw_type = type;
	return HB_OK;
}

/* format=json|csv, or dflt when absent. */
static hb_err want_csv(hb_req *r, bool dflt, bool *csv, hb_error *e)
{
	const char *f = hb_api_query(r, "format");
	*csv = dflt;
	if (!f)
		return HB_OK;
	if (strcmp(f, "csv") && strcmp(f, "json"))
		return hb_fail(e, HB_ERR_BAD_REQUEST, "format", "format must be json or csv");
	*csv = strcmp(f, "csv") == 0;
	return HB_OK;
}

/* Refuse query parameters outside allowed (NULL-terminated); apiKey is always allowed. */
typedef struct arg_job {
	const char *const *allowed;
	hb_error *e;
	hb_err rc;
} arg_job;

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	(void)kind;
	(void)v;
	arg_job *j = cls;
	if (j->rc || strcmp(k, "apiKey") == 0)
		return MHD_YES;
	for (const char *const *a = j->allowed; *a; a++)
		if (strcmp(*a, k) == 0)
			return MHD_YES;
	j->rc = hb_fail(j->e, HB_ERR_BAD_REQUEST, k, "unknown query parameter '%s'", k);
	return MHD_NO;
}

static hb_err args_only(hb_req *r, const char *const *allowed, hb_error *e)
{
	arg_job j = {allowed, e, HB_OK};
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_arg, &j);
	return j.rc;
}

static hb_err paging_arg(hb_req *r, size_t dflt, size_t *page, size_t *size, hb_error *e)
{
	hb_err rc = hb_package_paging(hb_api_query(r, "page"), hb_api_query(r, "page_size"), dflt,
				      page, size, e);
	if (!rc)
		return HB_OK;
	hb_error copy = *e; /* hb_fail writes into e: no overlapping copy */
	return hb_fail(e, HB_ERR_BAD_REQUEST, copy.field, "%s", copy.message);
}

/* ---- data packages ---- */

/* A package's CSV as it is sent. The request's thread also serves other requests between two
   pieces, and they load their own key's community into the worker's context: the stream keeps
   a context of its own (same store connection, same thread). */
typedef struct csv_stream {
	hb_ctx ctx;
	hb_export *x;
} csv_stream;

static hb_err csv_stream_next(void *ud, hb_buf *out, bool *done, hb_error *e)
{
	csv_stream *cs = ud;
	return hb_export_csv_next(cs->x, out, done, e);
}

static void csv_stream_free(void *ud)
{
	csv_stream *cs = ud;
	hb_export_free(&cs->x);
	free(cs);
}

static hb_err serve_package(hb_req *r, const hb_package *p, hb_error *e)
{
	static const char *const allowed[] = {"format", "page", "page_size", NULL};
	bool csv;
	size_t page, size;
	hb_export *x = NULL;
	hb_err rc = args_only(r, allowed, e);
	if (!rc)
		rc = want_csv(r, p->csv, &csv, e);
	if (!rc)
		rc = paging_arg(r, csv ? 0 : HB_PACKAGE_PAGE_DEFAULT, &page, &size, e);
	if (!rc && csv && hb_api_query(r, "page") && !hb_api_query(r, "page_size"))
		rc = hb_fail(e, HB_ERR_BAD_REQUEST, "page_size", "page needs page_size");
	if (rc)
		return rc;
	if (csv) {
		csv_stream *cs = hb_calloc(1, sizeof *cs);
		cs->ctx = *r->c;
		cs->ctx.actor = NULL; /* the request's text goes away before the stream ends */
		cs->ctx.in_tx = false;
		if ((rc = hb_package_export(&cs->ctx, p, &cs->x, e))) {
			csv_stream_free(cs);
			return rc;
		}
		hb_export_csv_stream(cs->x, size ? (page - 1) * size : 0, size);
		hb_api_stream(r, "text/csv; charset=utf-8", csv_stream_next, cs, csv_stream_free);
		return HB_OK;
	}
	hb_buf b;
	hb_buf_init(&b, CSV_MAX);
	rc = hb_package_export(r->c, p, &x, e);
	if (!rc)
		rc = hb_export_select(x, 0, 0, e);
	if (!rc)
		rc = hb_export_json(x, page, size, to_buf, &b, e);
	if (!rc)
		reply_text(r, &b, "application/json");
	hb_buf_free(&b);
	hb_export_free(&x);
	return rc;
}

static hb_err load_package(hb_req *r, const char *key, hb_package *p, hb_error *e)
{
	hb_err rc = hb_integrations_check(r->c, e);
	return rc ? rc : hb_package_load(r->c, key, p, e);
}

hb_err hb_h_project_package(hb_req *r, hb_error *e)
{
	hb_row *proj = NULL;
	hb_package p = {0};
	hb_err rc = hb_record_find(r->c, HB_K_PROJECT, r->c->community_id, r->params[0], &proj, e);
	if (!rc)
		rc = hb_api_project_ok(r, hb_row_id(proj), e);
	if (!rc)
		rc = load_package(r, r->params[1], &p, e);
	if (!rc && p.project_id != hb_row_id(proj))
		rc = hb_fail(e, HB_ERR_NOT_FOUND, "package", "project '%s' has no data package '%s'",
			     r->params[0], r->params[1]);
	if (!rc)
		rc = serve_package(r, &p, e);
	hb_package_clear(&p);
	hb_row_free(&proj);
	return rc;
}

hb_err hb_h_community_package(hb_req *r, hb_error *e)
{
	hb_package p = {0};
	hb_err rc = load_package(r, r->params[0], &p, e);
	if (!rc && p.project_id)
		rc = hb_fail(e, HB_ERR_NOT_FOUND, "package", "data package '%s' belongs to a project: "
			     "ask for it under /api/v1/projects/{project}/data-packages/", r->params[0]);
	if (!rc && !r->auth.manager)
		rc = hb_fail(e, HB_ERR_FORBIDDEN, "", "only a community-manager key may read "
			     "community-level data packages");
	if (!rc)
		rc = serve_package(r, &p, e);
	hb_package_clear(&p);
	return rc;
}

/* ---- lookups ---- */

static hb_err lookup_project(hb_req *r, bool csv, hb_error *e)
{
	if (hb_api_query(r, "view"))
		return hb_fail(e, HB_ERR_BAD_REQUEST, "view", "views show users or feedback; a project "
			       "is shown with all its fields");
	hb_row *row = NULL;
	hb_err rc = hb_record_find(r->c, HB_K_PROJECT, r->c->community_id, r->params[1], &row, e);
	if (rc == HB_ERR_INVALID)
		rc = hb_fail(e, HB_ERR_NOT_FOUND, "id", "no project '%s'", r->params[1]);
	if (!rc)
		rc = hb_api_project_ok(r, hb_row_id(row), e);
	json_t *xv = NULL;
	if (!rc)
		xv = hb_xdata_record_json(r->c, HB_TARGET_PROJECTS, hb_row_id(row), hb_row_id(row), e);
	if (!rc && !xv)
		rc = e->code ? e->code : HB_ERR_INTERNAL;
	if (rc) {
		hb_row_free(&row);
		return rc;
	}
	json_t *data = hb_api_row_json(r, row), *fields = json_array();
	const hb_kind *k = hb_kind_get(HB_K_PROJECT);
	for (size_t i = 0; i < k->ncols; i++) {
		if (k->cols[i].flags & (HB_COL_HIDDEN | HB_COL_SECRET))
			continue;
		const char *name = hb_col_public_name(&k->cols[i]);
		json_array_append_new(fields, json_pack("{s:s, s:s, s:s}", "name", name, "path",
							"project.", "type", hb_type_name(k->cols[i].type)));
		json_t *f = json_array_get(fields, json_array_size(fields) - 1);
		char path[128];
		snprintf(path, sizeof path, "project.%s", name);
		json_object_set_new(f, "path", json_string(path));
	}
	size_t i;
	json_t *v;
	json_array_foreach(xv, i, v) {
		char name[300];
		snprintf(name, sizeof name, "external.%s", json_string_value(json_object_get(v, "field")));
		json_array_append_new(fields, json_pack("{s:s, s:s, s:O}", "name", name, "path", name,
							"type", json_object_get(v, "type")));
		json_object_set(data, name, json_object_get(v, "value"));
	}
	json_decref(xv);
	hb_row_free(&row);
	json_t *o = json_pack("{s:o, s:o}", "fields", fields, "data", data);
	if (!csv)
		return hb_api_reply(r, 200, o);
	/* CSV of the same: header of field names, one row */
	hb_buf b;
	hb_buf_init(&b, CSV_MAX);
	for (int row_n = 0; row_n < 2; row_n++) {
		json_array_foreach(fields, i, v) {
			const char *name = json_string_value(json_object_get(v, "name"));
			json_t *cell = row_n ? json_object_get(data, name) : json_string(name);
			char t[64];
			const char *s = json_is_string(cell) ? json_string_value(cell)
					: json_is_true(cell) ? "true" : json_is_false(cell) ? "false"
					: json_is_integer(cell) ? (snprintf(t, sizeof t, "%lld",
									  (long long)json_integer_value(cell)), t)
					: "";
			if (i && !rc)
				rc = hb_buf_addc(&b, ',');
			if (!rc)
				rc = hb_csv_field(&b, s, strlen(s));
			if (!row_n)
				json_decref(cell);
		}
		rc = rc ? rc : hb_buf_adds(&b, "\r\n");
	}
	json_decref(o);
	if (!rc)
		reply_text(r, &b, "text/csv; charset=utf-8");
	hb_buf_free(&b);
	return rc ? hb_fail(e, rc, "", "the record is too large to answer as CSV") : HB_OK;
}

hb_err hb_h_lookup(hb_req *r, hb_error *e)
{
	static const char *const allowed[] = {"format", "view", NULL};
	const char *on = r->params[0], *name = r->params[1];
	bool csv;
	hb_err rc = args_only(r, allowed, e);
	if (!rc)
		rc = want_csv(r, false, &csv, e);
	if (rc)
		return rc;
	if (strcmp(on, "projects") == 0)
		return lookup_project(r, csv, e);
	hb_target t;
	if (!hb_target_parse(on, &t)) /* projects were answered above */
		return hb_fail(e, HB_ERR_NOT_FOUND, "", "lookups are of users, feedback or projects, not "
			       "'%s'", on);
	hb_row *row = NULL;
	hb_export *x = NULL;
	hb_buf b;
	hb_buf_init(&b, CSV_MAX);
	rc = hb_record_find(r->c, t == HB_TARGET_USERS ? HB_K_USER : HB_K_FEEDBACK,
			    t == HB_TARGET_USERS ? r->c->community_id : 0, name, &row, e);
	if (rc == HB_ERR_INVALID)
		rc = hb_fail(e, HB_ERR_NOT_FOUND, "id", "no %s '%s'", t == HB_TARGET_USERS ? "user"
			     : "feedback ticket", name);
	if (!rc)
		rc = t == HB_TARGET_USERS ? hb_api_user_ok(r, hb_row_id(row), e)
					  : hb_api_project_ok(r, hb_row_int(row, "project_id"), e);
	if (!rc)
		rc = hb_export_new(r->c, t, 0, NULL, hb_api_query(r, "view"), &x, e);
	if (rc && rc != HB_ERR_FORBIDDEN && rc != HB_ERR_NOT_FOUND && !row)
		rc = hb_fail(e, HB_ERR_NOT_FOUND, "id", "no such record '%s'", name);
	if (rc == HB_ERR_NOT_FOUND && x == NULL && row && hb_api_query(r, "view"))
		snprintf(e->field, sizeof e->field, "view");
	if (!rc)
		rc = hb_export_select_one(x, hb_row_id(row), e);
	if (!rc && csv) {
		rc = hb_export_csv(x, 0, 1, to_buf, &b, e);
		if (!rc)
			reply_text(r, &b, "text/csv; charset=utf-8");
	} else if (!rc) {
		json_t *data = NULL;
		rc = hb_export_row_json(x, 0, &data, e);
		if (!rc)
			hb_api_reply(r, 200, json_pack("{s:o, s:o}", "fields", hb_export_fields_json(x),
						       "data", data));
	}
	hb_buf_free(&b);
	hb_export_free(&x);
	hb_row_free(&row);
	return rc;
}

/* ---- users and feedback lists with ?filter= and ?view= ---- */

bool hb_api_wants_query(hb_req *r)
{
	return hb_api_query(r, "filter") || hb_api_query(r, "view");
}

static bool row_visible(hb_req *r, hb_target t, int64_t id)
{
	if (r->auth.manager)
		return true;
	if (t == HB_TARGET_USERS)
		return hb_api_user_visible(r, id);
	char name[32];
	hb_row *row = NULL;
	hb_error e;
	snprintf(name, sizeof name, "%lld", (long long)id);
	bool ok = !hb_record_find(r->c, HB_K_FEEDBACK, 0, name, &row, &e) &&
		  hb_api_has_project(r, hb_row_int(row, "project_id"));
	hb_row_free(&row);
	return ok;
}

hb_err hb_api_list_query(hb_req *r, hb_target t, hb_error *e)
{
	static const char *const allowed[] = {"filter", "view", "limit", "cursor", NULL};
	const char *l = hb_api_query(r, "limit"), *c = hb_api_query(r, "cursor");
	int64_t n, after = 0;
	size_t limit = HB_API_PAGE_DEFAULT;
	hb_err rc = args_only(r, allowed, e);
	if (rc)
		return rc;
	if (l) {
		if (!hb_text_to_int64(l, strlen(l), &n) || n < 1 || n > HB_API_PAGE_MAX)
			return hb_fail(e, HB_ERR_BAD_REQUEST, "limit",
				       "limit must be a whole number from 1 to %d", HB_API_PAGE_MAX);
		limit = (size_t)n;
	}
	if (c && !hb_cursor_decode(c, &after))
		return hb_fail(e, HB_ERR_BAD_REQUEST, "cursor",
			       "the cursor is not one this server handed out");
	const char *view = hb_api_query(r, "view");
	hb_export *x = NULL;
	rc = hb_export_new(r->c, t, 0, hb_api_query(r, "filter"), view, &x, e);
	if (rc == HB_ERR_NOT_FOUND) { /* a saved filter or view named but missing */
		hb_error copy = *e;
		rc = hb_fail(e, HB_ERR_INVALID, copy.field, "%s", copy.message);
	}
	/* A manager's page is limit + 1 ids; a project manager's scan is bounded and the cursor
	   goes on from where it stopped. */
	if (!rc)
		rc = hb_export_select(x, after, r->auth.manager ? limit + 1 : SCAN_MAX, e);
	json_t *data = json_array();
	int64_t last = 0;
	bool more = false;
	size_t i;
	for (i = 0; !rc && i < hb_export_count(x); i++) {
		int64_t id = hb_export_id(x, i);
		if (json_array_size(data) == limit) {
			more = true;
			break;
		}
		last = id;
		if (!row_visible(r, t, id))
			continue;
		json_t *o = NULL;
		if (view) {
			rc = hb_export_row_json(x, i, &o, e);
		} else {
			char name[32];
			hb_row *row = NULL;
			snprintf(name, sizeof name, "%lld", (long long)id);
			rc = hb_record_find(r->c, t == HB_TARGET_USERS ? HB_K_USER : HB_K_FEEDBACK, 0, name,
					    &row, e);
			if (!rc)
				o = hb_api_row_json(r, row);
			hb_row_free(&row);
		}
		if (o)
			json_array_append_new(data, o);
	}
	if (!rc && !more && !r->auth.manager && hb_export_count(x) == SCAN_MAX)
		more = true; /* the scan stopped before the end */
	hb_export_free(&x);
	if (rc) {
		json_decref(data);
		return rc;
	}
	char cur[64];
	hb_cursor_encode(last, cur, sizeof cur);
	return hb_api_reply(r, 200, json_pack("{s:o, s:o}", "data", data, "next_cursor",
					      more ? json_string(cur) : json_null()));
}

/* ---- reports ---- */

typedef struct rep {
	json_t *groups;
	int64_t total;
	hb_qbucket bucket;
	const char *heads[HB_QUERY_MAX_GROUP + 1];
	size_t nheads;
	hb_err over;
} rep;

static json_t *key_json(const hb_value *v, bool period, hb_qbucket b)
{
	char t[HB_TIME_STR_MAX];
	switch (v->type) {
	case HB_TYPE_BOOL:
		return json_boolean(v->u.b);
	case HB_TYPE_INT:
		return json_integer(v->u.i);
	case HB_TYPE_TIME:
		hb_time_format(v->u.i, t);
		return json_stringn(t, period ? (b == HB_QB_MONTH ? 7 : 10) : strlen(t));
	case HB_TYPE_STRING: {
		json_t *s = json_stringn(v->u.s.ptr, v->u.s.len);
		return s ? s : json_null();
	}
	default:
		return json_null();
	}
}

static hb_err take_group(void *ud, const hb_qrow *row, hb_error *e)
{
	rep *p = ud;
	if (json_array_size(p->groups) == MAX_GROUPS)
		return hb_fail(e, HB_ERR_TOO_LARGE, "group_by", "more than %d groups: group by a path "
			       "with fewer distinct values", MAX_GROUPS);
	json_t *g = json_object();
	for (size_t i = 0; i < row->nkeys && i < p->nheads; i++)
		json_object_set_new(g, p->heads[i], key_json(&row->keys[i], i == 0 &&
							     p->bucket != HB_QB_NONE, p->bucket));
	json_object_set_new(g, "count", json_integer(row->count));
	json_array_append_new(p->groups, g);
	p->total += row->count;
	return HB_OK;
}

static double percent(int64_t count, int64_t total)
{
	return total ? round((double)count * 10000.0 / (double)total) / 100.0 : 0.0;
}

static hb_err report_csv(hb_req *r, const rep *p, hb_error *e)
{
	hb_buf b;
	hb_buf_init(&b, CSV_MAX);
	hb_err rc = HB_OK;
	for (size_t k = 0; !rc && k < p->nheads; k++)
		rc = hb_buf_printf(&b, "%s,", p->heads[k]); /* paths and period names: no quoting */
	rc = rc ? rc : hb_buf_adds(&b, "count,percent\r\n");
	size_t i;
	json_t *g;
	json_array_foreach(p->groups, i, g) {
		for (size_t k = 0; !rc && k < p->nheads; k++) {
			json_t *v = json_object_get(g, p->heads[k]);
			const char *s = json_is_string(v) ? json_string_value(v) : NULL;
			if (s && strpbrk(s, ",\"\r\n")) {
				rc = hb_buf_addc(&b, '"');
				for (const char *c = s; !rc && *c; c++)
					rc = *c == '"' ? hb_buf_adds(&b, "\"\"") : hb_buf_addc(&b, *c);
				rc = rc ? rc : hb_buf_addc(&b, '"');
			} else if (s) {
				rc = hb_buf_adds(&b, s);
			} else if (json_is_boolean(v)) {
				rc = hb_buf_adds(&b, json_is_true(v) ? "true" : "false");
			} else if (json_is_integer(v)) {
				rc = hb_buf_add_int(&b, (long long)json_integer_value(v));
			}
			rc = rc ? rc : hb_buf_addc(&b, ',');
		}
		int64_t n = json_integer_value(json_object_get(g, "count"));
		if (!rc)
			rc = hb_buf_printf(&b, "%lld,%.2f\r\n", (long long)n, percent(n, p->total));
	}
	if (!rc)
		reply_text(r, &b, "text/csv; charset=utf-8");
	hb_buf_free(&b);
	return rc ? hb_fail(e, rc, "", "the report is too large to answer as CSV") : HB_OK;
}

/* Split "a,b" into at most HB_QUERY_MAX_GROUP paths (in buf). */
static size_t split_paths(char *buf, const char **out)
{
	size_t n = 0;
	for (char *tok = buf, *comma; tok && *tok; tok = comma ? comma + 1 : NULL) {
		comma = strchr(tok, ',');
		if (comma)
			*comma = '\0';
		if (n == HB_QUERY_MAX_GROUP)
			return n + 1;
		out[n++] = tok;
	}
	return n;
}

hb_err hb_h_reports(hb_req *r, hb_error *e)
{
	static const char *const allowed[] = {"on", "group_by", "by", "by_path", "filter", "project",
					      "format", NULL};
	const char *on = NULL;
	bool csv;
	hb_err rc = args_only(r, allowed, e);
	if (!rc)
		rc = hb_api_query_need(r, "on", &on, e);
	if (!rc)
		rc = want_csv(r, false, &csv, e);
	if (rc)
		return rc;
	hb_target t;
	if (!hb_target_parse(on, &t) || t == HB_TARGET_PROJECTS)
		return hb_fail(e, HB_ERR_BAD_REQUEST, "on", "on must be users or feedback");
	rep p = {.bucket = HB_QB_NONE};
	const char *by = hb_api_query(r, "by"), *by_path = hb_api_query(r, "by_path");
	if (by) {
		if (strcmp(by, "day") == 0)
			p.bucket = HB_QB_DAY;
		else if (strcmp(by, "week") == 0)
			p.bucket = HB_QB_WEEK;
		else if (strcmp(by, "month") == 0)
			p.bucket = HB_QB_MONTH;
		else
			return hb_fail(e, HB_ERR_BAD_REQUEST, "by", "by must be day, week or month");
		if (!by_path)
			return hb_fail(e, HB_ERR_BAD_REQUEST, "by_path", "by %s needs by_path, a datetime "
				       "path such as user.created_at", by);
	} else if (by_path) {
		return hb_fail(e, HB_ERR_BAD_REQUEST, "by", "by_path goes with by=day|week|month");
	}
	char gbuf[HB_API_PARAM_MAX * 2];
	const char *gb = hb_api_query(r, "group_by"), *paths[HB_QUERY_MAX_GROUP + 1];
	snprintf(gbuf, sizeof gbuf, "%s", gb ? gb : "");
	size_t ngroup = split_paths(gbuf, paths);
	if (ngroup > HB_QUERY_MAX_GROUP)
		return hb_fail(e, HB_ERR_BAD_REQUEST, "group_by", "at most %d paths, comma-separated",
			       HB_QUERY_MAX_GROUP);
	if (!ngroup && !by)
		return hb_fail(e, HB_ERR_BAD_REQUEST, "group_by", "give group_by, by with by_path, or "
			       "both");
	int64_t project_id = 0;
	const char *project = hb_api_query(r, "project");
	if (project) {
		hb_row *row = NULL;
		rc = hb_record_find(r->c, HB_K_PROJECT, r->c->community_id, project, &row, e);
		if (rc == HB_ERR_NOT_FOUND || rc == HB_ERR_INVALID)
			rc = hb_fail(e, HB_ERR_INVALID, "project", "no project '%s'", project);
		project_id = rc ? 0 : hb_row_id(row);
		hb_row_free(&row);
		if (rc)
			return rc;
	}
	if ((rc = hb_api_project_ok(r, project_id, e)))
		return rc;
	hb_export *x = NULL;
	hb_filter *f = NULL;
	const char *filter = hb_api_query(r, "filter");
	/* the export resolves @SAVED filters; its compiled filter is not shared, so compile the
	   same text again for grouping */
	rc = hb_export_new(r->c, t, project_id, filter, NULL, &x, e);
	hb_export_free(&x);
	char *saved = NULL;
	if (!rc && filter && filter[0] == '@') {
		hb_target st;
		int64_t sp;
		rc = hb_saved_filter_load(r->c, filter + 1, &st, &sp, &saved, e);
		filter = saved;
	}
	if (!rc)
		rc = hb_filter_compile(r->c, t, project_id, filter ? filter : "",
				       filter ? strlen(filter) : 0, &f, e);
	free(saved);
	hb_qfield fields[HB_QUERY_MAX_GROUP], bf = {0};
	for (size_t i = 0; !rc && i < ngroup; i++)
		if ((rc = hb_filter_field(f, paths[i], &fields[i], e)))
			snprintf(e->field, sizeof e->field, "group_by");
	if (!rc && by_path) {
		if ((rc = hb_filter_field(f, by_path, &bf, e)))
			snprintf(e->field, sizeof e->field, "by_path");
		else if (bf.type != HB_TYPE_TIME)
			rc = hb_fail(e, HB_ERR_INVALID, "by_path", "'%s' is not a datetime", by_path);
	}
	if (rc == HB_ERR_NOT_FOUND) {
		hb_error copy = *e;
		rc = hb_fail(e, HB_ERR_INVALID, copy.field, "%s", copy.message);
	}
	p.groups = json_array();
	if (!rc) {
		hb_query q = *hb_filter_query(f);
		if (by_path)
			p.heads[p.nheads++] = by;
		for (size_t i = 0; i < ngroup; i++) {
			q.group[i] = fields[i];
			p.heads[p.nheads++] = paths[i];
		}
		q.ngroup = ngroup;
		q.bucket = p.bucket;
		q.bucket_field = bf;
		rc = r->c->store->ops->query(r->c->store, &q, take_group, &p, e);
	}
	hb_filter_free(&f);
	if (!rc) {
		size_t i;
		json_t *g;
		json_array_foreach(p.groups, i, g) json_object_set_new(
			g, "percent",
			json_real(percent(json_integer_value(json_object_get(g, "count")), p.total)));
	}
	if (!rc && csv) {
		rc = report_csv(r, &p, e);
	} else if (!rc) {
		json_t *gby = json_array();
		for (size_t i = 0; i < ngroup; i++)
			json_array_append_new(gby, json_string(paths[i]));
		json_t *o = json_pack("{s:s, s:o, s:I, s:O}", "on", on, "group_by", gby, "total",
				      (json_int_t)p.total, "groups", p.groups);
		if (by)
			json_object_set_new(o, "per", json_pack("{s:s, s:s}", "period", by, "path", by_path));
		if (hb_api_query(r, "filter"))
			json_object_set_new(o, "filter", json_string(hb_api_query(r, "filter")));
		hb_api_reply(r, 200, o);
	}
	json_decref(p.groups);
	return rc;
}
