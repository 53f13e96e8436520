/*
 * runs.c - macro runs, deliveries and test-sends over the API: the same model functions as
 * `hookbridge macro run|log|test` and `hookbridge delivery list|show|retry`, with the same
 * checks. A run is created durably and answered with 202; the server's delivery workers (or a
 * `hookbridge worker`) send it. A project-manager key may start, test and inspect only macros
 * of its projects, and only runs and deliveries of those macros.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "deliver/inspect.h"
#include "deliver/run.h"
#include "deliver/testsend.h"
#include "query/saved.h"

/* Rows a delivery page may scan: the work of one request stays bounded however few of them
   the caller may see; the cursor then marks how far the scan got. */
#define SCAN_MAX 2000
/* Records one run request may name by hand (beyond that: "all" or a filter). */
#define MAX_NAMED 10000

static hb_err find_macro(hb_req *r, hb_row **m, hb_error *e)
{
	hb_err rc = hb_record_find(r->c, HB_K_MACRO, r->c->community_id, r->params[0], m, e);
	if (!rc && (rc = hb_api_project_ok(r, hb_row_int(*m, "project_id"), e)))
		hb_row_free(m);
	return rc;
}

static hb_err find_by_id(hb_ctx *c, hb_kind_id k, int64_t id, hb_row *out, hb_error *e)
{
	hb_cond cond = {0, hb_value_int(id)};
	return c->store->ops->find(c->store, hb_kind_get(k), &cond, 1, out, e);
}

/* The run run_id of the caller's community, whose macro the caller may use. */
static hb_err run_ok(hb_req *r, int64_t run_id, hb_row *run, hb_error *e)
{
	hb_err rc = find_by_id(r->c, HB_K_RUN, run_id, run, e);
	if (rc == HB_ERR_NOT_FOUND || (!rc && hb_row_int(run, "community_id") != r->c->community_id))
		return hb_fail(e, HB_ERR_NOT_FOUND, "run", "no run %lld", (long long)run_id);
	if (rc || r->auth.manager)
		return rc;
	hb_row *m = hb_row_new(hb_kind_get(HB_K_MACRO));
	rc = find_by_id(r->c, HB_K_MACRO, hb_row_int(run, "macro_id"), m, e);
	if (!rc)
		rc = hb_api_project_ok(r, hb_row_int(m, "project_id"), e);
	hb_row_free(&m);
	return rc;
}

static hb_err parse_id(const char *text, const char *what, int64_t *id, hb_error *e)
{
	if (!hb_text_to_int64(text, strlen(text), id) || *id < 1)
		return hb_fail(e, HB_ERR_NOT_FOUND, what, "a %s id is a number, not '%.40s'", what, text);
	return HB_OK;
}

/* ---- POST /macros/{macro}/runs */

/* The body's record list into ids, each found (and checked for a project-manager key). */
static hb_err named_records(hb_req *r, json_t *list, bool feedback, int64_t **ids, size_t *n,
			    hb_error *e)
{
	const char *field = feedback ? "feedback" : "users";
	if (!json_is_array(list) || json_array_size(list) == 0)
		return hb_fail(e, HB_ERR_INVALID, field, "%s must be a non-empty list of %s", field,
			       feedback ? "ticket numbers such as EXA-0001" : "emails or user ids");
	if (json_array_size(list) > MAX_NAMED)
		return hb_fail(e, HB_ERR_TOO_LARGE, field, "at most %d records may be named; use "
			       "\"all\" or \"filter\" for more", MAX_NAMED);
	*ids = calloc(json_array_size(list), sizeof **ids);
	if (!*ids)
		return hb_fail(e, HB_ERR_NOMEM, "", "out of memory");
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		char name[HB_API_PARAM_MAX];
		if (json_is_string(v))
			snprintf(name, sizeof name, "%s", json_string_value(v));
		else if (json_is_integer(v) && !feedback)
			snprintf(name, sizeof name, "%lld", (long long)json_integer_value(v));
		else
			return hb_fail(e, HB_ERR_INVALID, field, "%s[%zu] must be %s", field, i,
				       feedback ? "a ticket number" : "an email or a user id");
		hb_row *row = NULL;
		hb_err rc = hb_api_find_target(r, feedback ? HB_TARGET_FEEDBACK : HB_TARGET_USERS,
					       name, false, &row, e);
		if (rc == HB_ERR_NOT_FOUND) /* a bad name in the body, not a missing resource */
			rc = hb_fail(e, HB_ERR_INVALID, field, "%s[%zu]: no %s '%.80s'", field, i,
				     feedback ? "feedback ticket" : "user", name);
		if (rc)
			return rc;
		(*ids)[(*n)++] = hb_row_id(row);
		hb_row_free(&row);
	}
	return HB_OK;
}

hb_err hb_h_runs_start(hb_req *r, hb_error *e)
{
	static const char *const allowed[] = {"users", "feedback", "all", "filter", NULL};
	hb_err rc = hb_api_body_only(r, allowed, e);
	if (rc)
		return rc;
	hb_row *macro = NULL, *run = NULL;
	int64_t *ids = NULL;
	size_t n = 0;
	char *saved = NULL;
	char describe[200];
	rc = find_macro(r, &macro, e);
	if (rc)
		goto out;
	bool fb = strcmp(hb_row_str(macro, "target"), "feedback") == 0;
	const char *mine = fb ? "feedback" : "users", *other = fb ? "users" : "feedback";
	json_t *list = json_object_get(r->body, mine), *all = json_object_get(r->body, "all");
	json_t *filter = json_object_get(r->body, "filter");
	if (json_object_get(r->body, other)) {
		rc = hb_fail(e, HB_ERR_INVALID, other, "macro '%s' runs on %s: use \"%s\", \"all\" or "
			     "\"filter\"", r->params[0], fb ? "feedback tickets" : "users", mine);
		goto out;
	}
	if ((list != NULL) + (all != NULL) + (filter != NULL) != 1) {
		rc = hb_fail(e, HB_ERR_INVALID, "", "choose the records with exactly one of \"%s\", "
			     "\"all\" or \"filter\"", mine);
		goto out;
	}
	if (all && !json_is_true(all)) {
		rc = hb_fail(e, HB_ERR_INVALID, "all", "all must be true");
		goto out;
	}
	if (filter && (!json_is_string(filter) || !json_string_length(filter))) {
		rc = hb_fail(e, HB_ERR_INVALID, "filter", "filter must be an expression or @SAVED");
		goto out;
	}
	const char *ftext = filter ? json_string_value(filter) : NULL;
	if (list) {
		rc = named_records(r, list, fb, &ids, &n, e);
		snprintf(describe, sizeof describe, "%zu %s%s", n, fb ? "feedback ticket" : "user",
			 n == 1 ? "" : "s");
	} else if (all) {
		snprintf(describe, sizeof describe, "all %s", fb ? "feedback tickets" : "users");
	} else {
		snprintf(describe, sizeof describe, "filter: %.180s", ftext ? ftext : "");
	}
	if (!rc && ftext && ftext[0] == '@') { /* a saved filter, for the same records */
		hb_target t;
		int64_t project;
		rc = hb_saved_filter_load(r->c, ftext + 1, &t, &project, &saved, e);
		if (rc == HB_ERR_NOT_FOUND)
			e->code = rc = HB_ERR_INVALID;
		if (!rc && (t == HB_TARGET_FEEDBACK) != fb)
			rc = hb_fail(e, HB_ERR_INVALID, "filter", "saved filter '%s' chooses other "
				     "records than macro '%s' runs on", ftext + 1, r->params[0]);
		if (!rc && project)
			rc = hb_api_project_ok(r, project, e);
		ftext = saved;
	}
	if (rc)
		goto out;
	hb_selection sel = {ids, n, all != NULL, ftext, describe};
	rc = hb_run_start(r->c, macro, &sel, NULL, NULL, &run, e);
	if (rc == HB_ERR_PARSE || rc == HB_ERR_USAGE) /* a filter that does not compile */
		e->code = rc = HB_ERR_INVALID;
	if (!rc) {
		snprintf(r->location, sizeof r->location, "/api/v1/runs/%lld", (long long)hb_row_id(run));
		hb_api_reply(r, 202, hb_run_json(r->c, run));
	}
out:
	free(ids);
	free(saved);
	hb_row_free(&macro);
	hb_row_free(&run);
	return rc;
}

/* ---- GET /macros/{macro}/runs, GET /runs/{run} */

static json_t *run_json(hb_req *r, const hb_row *row)
{
	return hb_run_json(r->c, row);
}

hb_err hb_h_runs_list(hb_req *r, hb_error *e)
{
	hb_row *m = NULL;
	hb_err rc = find_macro(r, &m, e);
	if (rc)
		return rc;
	const hb_kind *k = hb_kind_get(HB_K_RUN);
	hb_page_spec spec = {.kind = HB_K_RUN, .to_json = run_json, .no_filters = true};
	spec.conds[spec.nconds++] = (hb_cond){hb_kind_col(k, "macro_id"), hb_value_int(hb_row_id(m))};
	rc = hb_api_list(r, &spec, e);
	hb_row_free(&m);
	return rc;
}

hb_err hb_h_run_get(hb_req *r, hb_error *e)
{
	int64_t id;
	hb_err rc = parse_id(r->params[0], "run", &id, e);
	if (rc)
		return rc;
	hb_row *run = hb_row_new(hb_kind_get(HB_K_RUN));
	rc = run_ok(r, id, run, e);
	if (!rc)
		hb_api_reply(r, 200, hb_run_json(r->c, run));
	hb_row_free(&run);
	return rc;
}

/* ---- GET /deliveries */

typedef struct dlist_job {
	hb_req *r;
	json_t *data;
	size_t limit;
	int64_t last_id, last_scanned;
	size_t scanned;
	bool more;
	int64_t seen_run; /* the last run looked at, and whether the caller may see it */
	bool seen_ok;
	hb_row *run;
} dlist_job;

static hb_err take_delivery(void *ud, const hb_row *d, hb_error *e)
{
	dlist_job *j = ud;
	j->scanned++;
	j->last_scanned = hb_row_id(d);
	int64_t run_id = hb_row_int(d, "run_id");
	if (run_id != j->seen_run) { /* a page's deliveries mostly share a few runs */
		hb_error ignore;
		j->seen_run = run_id;
		j->seen_ok = run_ok(j->r, run_id, j->run, &ignore) == HB_OK;
	}
	if (!j->seen_ok)
		return HB_OK;
	if (json_array_size(j->data) == j->limit) {
		j->more = true;
		return HB_ERR__COUNT; /* one past the page: there is a next one */
	}
	(void)e;
	json_array_append_new(j->data, hb_delivery_json(j->r->c, d, false));
	j->last_id = hb_row_id(d);
	return HB_OK;
}

typedef struct query_job {
	hb_error *e;
	hb_err rc;
} query_job;

static enum MHD_Result only_known(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	(void)kind;
	(void)v;
	query_job *q = cls;
	static const char *const known[] = {"limit", "cursor", "apiKey", "run", "status", NULL};
	for (const char *const *p = known; *p; p++)
		if (strcmp(*p, k) == 0)
			return MHD_YES;
	q->rc = hb_fail(q->e, HB_ERR_BAD_REQUEST, k, "unknown query parameter '%s'", k);
	return MHD_NO;
}

hb_err hb_h_deliveries_list(hb_req *r, hb_error *e)
{
	const hb_kind *k = hb_kind_get(HB_K_DELIVERY);
	query_job q = {e, HB_OK};
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, only_known, &q);
	if (q.rc)
		return q.rc;
	const char *l = hb_api_query(r, "limit"), *cur = hb_api_query(r, "cursor");
	const char *run = hb_api_query(r, "run"), *status = hb_api_query(r, "status");
	int64_t limit = HB_API_PAGE_DEFAULT, after = 0, run_id = 0;
	if (l && (!hb_text_to_int64(l, strlen(l), &limit) || limit < 1 || limit > HB_API_PAGE_MAX))
		return hb_fail(e, HB_ERR_BAD_REQUEST, "limit", "limit must be a whole number from 1 to %d",
			       HB_API_PAGE_MAX);
	if (cur && !hb_cursor_decode(cur, &after))
		return hb_fail(e, HB_ERR_BAD_REQUEST, "cursor", "the cursor is not one this server handed out");
	if (run && (!hb_text_to_int64(run, strlen(run), &run_id) || run_id < 1))
		return hb_fail(e, HB_ERR_INVALID, "run", "run takes a run id (a number), not '%.40s'", run);
	if (status && !hb_col_choice_ok(&k->cols[hb_kind_col(k, "status")], status, strlen(status)))
		return hb_fail(e, HB_ERR_INVALID, "status", "status must be one of waiting, pending, "
			       "sending, succeeded, failed, skipped");
	hb_cond conds[2];
	size_t n = 0;
	if (run)
		conds[n++] = (hb_cond){hb_kind_col(k, "run_id"), hb_value_int(run_id)};
	if (status)
		conds[n++] = (hb_cond){hb_kind_col(k, "status"), hb_value_str(status)};
	dlist_job j = {r, json_array(), (size_t)limit, 0, 0, 0, false, 0, false,
		       hb_row_new(hb_kind_get(HB_K_RUN))};
	hb_list_opts lo = {conds, n, after, SCAN_MAX};
	hb_err rc = r->c->store->ops->list(r->c->store, k, &lo, take_delivery, &j, e);
	if (rc == HB_ERR__COUNT)
		rc = HB_OK;
	else if (!rc && j.scanned == SCAN_MAX) { /* page not full, scan not done */
		j.more = true;
		j.last_id = j.last_scanned;
	}
	hb_row_free(&j.run);
	if (rc) {
		json_decref(j.data);
		return rc;
	}
	char next[64];
	hb_cursor_encode(j.last_id, next, sizeof next);
	return hb_api_reply(r, 200, json_pack("{s:o, s:o}", "data", j.data, "next_cursor",
					      j.more ? json_string(next) : json_null()));
}

/* ---- GET /deliveries/{delivery}, retries */

static hb_err find_delivery(hb_req *r, hb_row **d, hb_error *e)
{
	int64_t id;
	hb_err rc = parse_id(r->params[0], "delivery", &id, e);
	if (!rc)
		rc = hb_delivery_find(r->c, id, d, e);
	hb_row *run = hb_row_new(hb_kind_get(HB_K_RUN));
	if (!rc)
		rc = run_ok(r, hb_row_int(*d, "run_id"), run, e);
	hb_row_free(&run);
	if (rc)
		hb_row_free(d);
	return rc;
}

hb_err hb_h_delivery_get(hb_req *r, hb_error *e)
{
	hb_row *d = NULL;
	hb_err rc = find_delivery(r, &d, e);
	if (!rc)
		hb_api_reply(r, 200, hb_delivery_json(r->c, d, true));
	hb_row_free(&d);
	return rc;
}

typedef struct retry_job {
	hb_req *r;
	hb_row *d;
	int64_t since;
	int64_t count;
} retry_job;

static hb_err do_retry_one(hb_ctx *c, void *ud, hb_error *e)
{
	retry_job *j = ud;
	hb_err rc = find_delivery(j->r, &j->d, e); /* inside the transaction: no race with workers */
	return rc ? rc : hb_delivery_requeue(c, j->d, e);
}

hb_err hb_h_delivery_retry(hb_req *r, hb_error *e)
{
	retry_job j = {r, NULL, 0, 0};
	hb_err rc = hb_tx(r->c, do_retry_one, &j, e);
	if (!rc)
		hb_api_reply(r, 202, hb_delivery_json(r->c, j.d, false));
	hb_row_free(&j.d);
	return rc;
}

static hb_err do_retry_failed(hb_ctx *c, void *ud, hb_error *e)
{
	retry_job *j = ud;
	return hb_delivery_requeue_failed(c, j->since, &j->count, e);
}

hb_err hb_h_deliveries_retry(hb_req *r, hb_error *e)
{
	static const char *const allowed[] = {"status", "since", NULL};
	hb_err rc = hb_api_body_only(r, allowed, e);
	if (rc)
		return rc;
	json_t *status = json_object_get(r->body, "status"), *since = json_object_get(r->body, "since");
	if (!json_is_string(status) || strcmp(json_string_value(status), "failed") != 0)
		return hb_fail(e, HB_ERR_INVALID, "status", "status must be \"failed\": only failed "
			       "deliveries are retried in bulk");
	retry_job j = {r, NULL, 0, 0};
	if (!json_is_string(since) ||
	    !hb_time_parse(json_string_value(since), json_string_length(since), &j.since))
		return hb_fail(e, HB_ERR_INVALID, "since", "since takes a time such as 2026-11-28 or "
			       "2026-11-28T10:00:00Z");
	rc = hb_tx(r->c, do_retry_failed, &j, e);
	if (!rc)
		hb_api_reply(r, 202, json_pack("{s:I}", "retried", (json_int_t)j.count));
	return rc;
}

/* ---- POST /macros/{macro}/test */

hb_err hb_h_macro_test(hb_req *r, hb_error *e)
{
	static const char *const allowed[] = {"user", "feedback", "action", "dry_run", "store", NULL};
	hb_err rc = hb_api_body_only(r, allowed, e);
	if (rc)
		return rc;
	json_t *user = json_object_get(r->body, "user"), *ticket = json_object_get(r->body, "feedback");
	json_t *action = json_object_get(r->body, "action"), *dry = json_object_get(r->body, "dry_run");
	json_t *store = json_object_get(r->body, "store");
	if (!user == !ticket)
		return hb_fail(e, HB_ERR_INVALID, "", "choose one record: \"user\" or \"feedback\"");
	if (user && !json_is_string(user) && !json_is_integer(user))
		return hb_fail(e, HB_ERR_INVALID, "user", "user must be an email or a user id");
	if (ticket && !json_is_string(ticket))
		return hb_fail(e, HB_ERR_INVALID, "feedback", "feedback must be a ticket number");
	if (action && (!json_is_integer(action) || json_integer_value(action) < 1 ||
		       json_integer_value(action) > 1000))
		return hb_fail(e, HB_ERR_INVALID, "action", "action must be an action number (1-1000)");
	if (dry && !json_is_boolean(dry))
		return hb_fail(e, HB_ERR_INVALID, "dry_run", "dry_run must be true or false");
	if (store && !json_is_boolean(store))
		return hb_fail(e, HB_ERR_INVALID, "store", "store must be true or false");
	hb_row *macro = NULL, *rec = NULL;
	json_t *res = NULL;
	rc = find_macro(r, &macro, e);
	bool fb = !rc && strcmp(hb_row_str(macro, "target"), "feedback") == 0;
	if (!rc && fb != (ticket != NULL))
		rc = hb_fail(e, HB_ERR_INVALID, fb ? "user" : "feedback", "macro '%s' runs on %s: use "
			     "\"%s\"", r->params[0], fb ? "feedback tickets" : "users",
			     fb ? "feedback" : "user");
	char name[HB_API_PARAM_MAX];
	if (user && json_is_integer(user))
		snprintf(name, sizeof name, "%lld", (long long)json_integer_value(user));
	else
		snprintf(name, sizeof name, "%s", json_string_value(user ? user : ticket));
	if (!rc) {
		rc = hb_api_find_target(r, fb ? HB_TARGET_FEEDBACK : HB_TARGET_USERS, name, false,
					&rec, e);
		if (rc == HB_ERR_NOT_FOUND)
			rc = hb_fail(e, HB_ERR_INVALID, fb ? "feedback" : "user", "no %s '%.80s'",
				     fb ? "feedback ticket" : "user", name);
	}
	hb_test_opts to = {action ? (int)json_integer_value(action) : 0, json_is_true(dry),
			   json_is_true(store), r->cfg->engine ? r->cfg->engine->guard : NULL};
	if (!rc && !to.guard)
		rc = hb_fail(e, HB_ERR_UNAVAILABLE, "", "the server has no address rules for sending");
	if (!rc)
		rc = hb_macro_test(r->c, macro, hb_row_id(rec), &to, &res, e);
	if (rc == HB_ERR_USAGE || (rc == HB_ERR_NOT_FOUND && strcmp(e->field, "action") == 0))
		e->code = rc = HB_ERR_INVALID; /* no such webhook action: a wrong field */
	if (!rc)
		hb_api_reply(r, 200, res);
	hb_row_free(&macro);
	hb_row_free(&rec);
	return rc;
}
