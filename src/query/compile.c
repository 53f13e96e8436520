/*
 * compile.c - from a parsed filter to an hb_query: each catalogue path resolved to where it is
 * stored, the scope (community, project) added as conditions, and ids handed out in batches.
 *
 * Paths resolve by their prefix: the record's own columns ("user.", "feedback."), a record it
 * refers to ("submitter.", "project.", and reference columns such as feedback.type, which
 * compare the referenced record's key or email), fixed records ("community.", and "project."
 * of a user list scoped to a project), and External Data ("external.", "submitter.external.")
 * by field id. A ticket number ("EXA-0001") is looked up once here and compared as an id.
 */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/timeutil.h"
#include "model/tagctx.h"
#include "model/xdata.h"
#include "query/filter.h"

#define MAX_RELS 8
#define DEFAULT_BATCH 1000

struct hb_filter {
	hb_ctx *c;
	hb_target target;
	int64_t project_id;
	hb_tagctx *tags;
	hb_fparse *parse;
	hb_xfield_info *xf[2]; /* [0]: fields of the target, [1]: user fields (submitter) */
	size_t nxf[2];
	hb_qrel rels[MAX_RELS];
	hb_cond conds[2];
	hb_cond member_conds[1];
	hb_query q;
	void **allocs; /* nodes and values made here */
	size_t nallocs;
};

static void *keep(hb_filter *f, size_t n)
{
	void *p = hb_calloc(1, n ? n : 1);
	f->allocs = hb_realloc(f->allocs, (f->nallocs + 1) * sizeof *f->allocs);
	f->allocs[f->nallocs++] = p;
	return p;
}

void hb_filter_free(hb_filter **fp)
{
	if (!fp || !*fp)
		return;
	hb_filter *f = *fp;
	for (size_t i = 0; i < f->nallocs; i++)
		free(f->allocs[i]);
	free(f->allocs);
	free(f->xf[0]);
	free(f->xf[1]);
	hb_fparse_free(&f->parse);
	hb_tagctx_free(&f->tags);
	free(f);
	*fp = NULL;
}

const hb_query *hb_filter_query(const hb_filter *f)
{
	return &f->q;
}

const hb_catalog *hb_filter_catalog(const hb_filter *f)
{
	return hb_tagctx_catalog(f->tags);
}

static int add_rel(hb_filter *f, hb_kind_id kid, int via, int64_t id)
{
	const hb_kind *k = hb_kind_get(kid);
	for (size_t i = 0; i < f->q.nrels; i++)
		if (f->rels[i].kind == k && f->rels[i].via == via && f->rels[i].id == id)
			return (int)i + 1;
	if (f->q.nrels == MAX_RELS)
		return -1;
	f->rels[f->q.nrels++] = (hb_qrel){k, via, via < 0 ? id : 0};
	return (int)f->q.nrels;
}

static bool starts(const char *s, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);
	if (strncmp(s, prefix, n) != 0)
		return false;
	*rest = s + n;
	return true;
}

static hb_err external(hb_filter *f, int which, int rel, const char *dotted, hb_qfield *out,
		       hb_error *e)
{
	const char *dot = strchr(dotted, '.');
	for (size_t i = 0; dot && i < f->nxf[which]; i++) {
		const hb_xfield_info *x = &f->xf[which][i];
		if (strlen(x->group) == (size_t)(dot - dotted) &&
		    strncmp(x->group, dotted, (size_t)(dot - dotted)) == 0 && strcmp(x->key, dot + 1) == 0) {
			*out = (hb_qfield){rel, -1, x->id,
					   which ? HB_TARGET_USERS : f->target, x->type};
			return HB_OK;
		}
	}
	return hb_fail(e, HB_ERR_INVALID, "filter", "no External Data field '%s'", dotted);
}

/* Where the catalogue path is stored. */
static hb_err resolve(hb_filter *f, const char *path, hb_qfield *out, hb_error *e)
{
	const char *rest;
	hb_kind_id kid;
	int rel = 0;
	bool fb = f->target == HB_TARGET_FEEDBACK;
	if (starts(path, "submitter.external.", &rest) && fb)
		return external(f, 1, add_rel(f, HB_K_USER, hb_kind_col(hb_kind_get(HB_K_FEEDBACK),
									 "submitter_id"), 0),
				rest, out, e);
	if (starts(path, "external.", &rest))
		return external(f, 0, 0, rest, out, e);
	if (starts(path, fb ? "feedback." : "user.", &rest)) {
		kid = fb ? HB_K_FEEDBACK : HB_K_USER;
	} else if (fb && starts(path, "submitter.", &rest)) {
		kid = HB_K_USER;
		rel = add_rel(f, kid, hb_kind_col(hb_kind_get(HB_K_FEEDBACK), "submitter_id"), 0);
	} else if (starts(path, "project.", &rest)) {
		if (!fb && !f->project_id)
			return hb_fail(e, HB_ERR_INVALID, "filter", "'%s' needs a project: list the users "
				       "of one project (--project P)", path);
		kid = HB_K_PROJECT;
		rel = fb ? add_rel(f, kid, hb_kind_col(hb_kind_get(HB_K_FEEDBACK), "project_id"), 0)
			 : add_rel(f, kid, -1, f->project_id);
	} else if (starts(path, "community.", &rest)) {
		kid = HB_K_COMMUNITY;
		rel = add_rel(f, kid, -1, f->c->community_id);
	} else {
		return hb_fail(e, HB_ERR_INVALID, "filter", "'%s' is not a field of the record", path);
	}
	const hb_kind *k = hb_kind_get(kid);
	int col = hb_kind_col(k, rest);
	if (col < 0 || rel < 0)
		return hb_fail(e, HB_ERR_INVALID, "filter", "'%s' cannot be used in a filter", path);
	const hb_column *c = &k->cols[col];
	if (c->flags & HB_COL_REF) { /* compare the referenced record's key or email */
		if (rel != 0)
			return hb_fail(e, HB_ERR_INVALID, "filter", "'%s' cannot be used in a filter", path);
		const hb_kind *rk = hb_kind_get(c->ref);
		rel = add_rel(f, c->ref, col, 0);
		if (rel < 0 || rk->lookup_col < 0)
			return hb_fail(e, HB_ERR_INVALID, "filter", "'%s' cannot be used in a filter", path);
		*out = (hb_qfield){rel, rk->lookup_col, 0, 0, rk->cols[rk->lookup_col].type};
		return HB_OK;
	}
	*out = (hb_qfield){rel, col, 0, 0, c->type};
	return HB_OK;
}

static bool is_ticket_number(const hb_filter *f, const hb_qfield *q)
{
	return f->target == HB_TARGET_FEEDBACK && q->rel == 0 && q->col >= 0 &&
	       strcmp(hb_kind_get(HB_K_FEEDBACK)->cols[q->col].name, "number") == 0;
}

static hb_err at(hb_error *e, const hb_fexpr *x)
{
	hb_error_prefix(e, "line %d, column %d", x->line, x->col);
	return e ? e->code : HB_ERR_INVALID;
}

/* "EXA-0001" → the ticket's id; 0 (no ticket) when there is none. */
static hb_err ticket_id(hb_filter *f, const hb_value *v, hb_value *out, hb_error *e)
{
	*out = hb_value_int(0);
	if (memchr(v->u.s.ptr, '\0', v->u.s.len) || v->u.s.len > 64)
		return HB_OK;
	char name[65];
	memcpy(name, v->u.s.ptr, v->u.s.len);
	name[v->u.s.len] = '\0';
	hb_row *row = NULL;
	hb_error ignored = {0};
	hb_err rc = hb_record_find(f->c, HB_K_FEEDBACK, 0, name, &row, &ignored);
	if (!rc)
		*out = hb_value_int(hb_row_id(row));
	hb_row_free(&row);
	if (rc == HB_ERR_NOT_FOUND || rc == HB_ERR_INVALID)
		rc = HB_OK;
	else if (rc)
		*e = ignored;
	return rc;
}

static hb_err lower(hb_filter *f, const hb_fexpr *x, hb_qnode *out, hb_error *e)
{
	memset(out, 0, sizeof *out);
	out->op = x->op;
	hb_err rc = HB_OK;
	if (x->nkids) {
		hb_qnode *kids = keep(f, x->nkids * sizeof *kids);
		for (size_t i = 0; i < x->nkids && !rc; i++)
			rc = lower(f, &x->kids[i], &kids[i], e);
		out->kids = kids;
		out->nkids = x->nkids;
		return rc;
	}
	if (!x->path)
		return HB_OK;
	if ((rc = resolve(f, x->path->path, &out->field, e)))
		return at(e, x);
	out->vals = x->vals;
	out->nvals = x->nvals;
	if (is_ticket_number(f, &out->field) && x->nvals) {
		if (x->op != HB_Q_EQ && x->op != HB_Q_NE && x->op != HB_Q_IN) {
			hb_fail(e, HB_ERR_INVALID, "filter", "feedback.number can be compared only with "
				"=, != or in");
			return at(e, x);
		}
		hb_value *ids = keep(f, x->nvals * sizeof *ids);
		for (size_t i = 0; i < x->nvals && !rc; i++)
			rc = ticket_id(f, &x->vals[i], &ids[i], e);
		out->field = (hb_qfield){0, 0, 0, 0, HB_TYPE_INT};
		out->vals = ids;
	}
	if ((x->op == HB_Q_CONTAINS || x->op == HB_Q_STARTS) &&
	    memchr(x->vals[0].u.s.ptr, '\0', x->vals[0].u.s.len))
		out->op = HB_Q_NONE; /* stored text never holds NUL */
	return rc;
}

hb_err hb_filter_field(hb_filter *f, const char *path, hb_qfield *out, hb_error *e)
{
	const hb_path_info *p = hb_catalog_find(hb_filter_catalog(f), path, strlen(path));
	if (!p || strcmp(path, "now") == 0) {
		char hint[200];
		hb_catalog_suggest(hb_filter_catalog(f), path, strlen(path), hint, sizeof hint);
		if (hint[0])
			return hb_fail(e, HB_ERR_INVALID, "path", "unknown path '%s' (did you mean '%s'?)",
				       path, hint);
		return hb_fail(e, HB_ERR_INVALID, "path", "unknown path '%s' (see: hookbridge tags)", path);
	}
	return resolve(f, path, out, e);
}

hb_err hb_filter_compile(hb_ctx *c, hb_target target, int64_t project_id, const char *text,
			 size_t len, hb_filter **out, hb_error *e)
{
	*out = NULL;
	if (target != HB_TARGET_USERS && target != HB_TARGET_FEEDBACK)
		return hb_fail(e, HB_ERR_INVALID, "on", "filters choose users or feedback tickets");
	hb_filter *f = hb_calloc(1, sizeof *f);
	f->c = c;
	f->target = target;
	f->project_id = project_id;
	hb_err rc = hb_tagctx_new(c, target, project_id, &f->tags, e);
	if (!rc)
		rc = hb_xdata_fields(c, target, project_id, &f->xf[0], &f->nxf[0], e);
	if (!rc && target == HB_TARGET_FEEDBACK)
		rc = hb_xdata_fields(c, HB_TARGET_USERS, project_id, &f->xf[1], &f->nxf[1], e);
	if (!rc)
		rc = hb_filter_parse(hb_tagctx_catalog(f->tags), text ? text : "", text ? len : 0,
				     hb_time_now(), &f->parse, e);
	if (rc)
		goto out;
	const hb_kind *k = hb_kind_get(target == HB_TARGET_FEEDBACK ? HB_K_FEEDBACK : HB_K_USER);
	f->q.kind = k;
	f->q.rels = f->rels;
	f->q.conds = f->conds;
	f->conds[f->q.nconds++] = (hb_cond){hb_kind_col(k, "community_id"), hb_value_int(c->community_id)};
	if (project_id && target == HB_TARGET_FEEDBACK) {
		f->conds[f->q.nconds++] = (hb_cond){hb_kind_col(k, "project_id"), hb_value_int(project_id)};
	} else if (project_id) {
		const hb_kind *pk = hb_kind_get(HB_K_PARTICIPATION);
		f->q.member = pk;
		f->q.member_col = hb_kind_col(pk, "user_id");
		f->member_conds[0] = (hb_cond){hb_kind_col(pk, "project_id"), hb_value_int(project_id)};
		f->q.member_conds = f->member_conds;
		f->q.nmember_conds = 1;
	}
	const hb_fexpr *root = hb_fparse_root(f->parse);
	if (root->op != HB_Q_ALL) {
		hb_qnode *where = keep(f, sizeof *where);
		rc = lower(f, root, where, e);
		f->q.where = where;
	}
out:
	if (rc)
		hb_filter_free(&f);
	*out = f;
	return rc;
}

typedef struct ids_job {
	int64_t *ids;
	size_t n, cap;
} ids_job;

static hb_err take_id(void *ud, const hb_qrow *row, hb_error *e)
{
	(void)e;
	ids_job *j = ud;
	if (j->n == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 1024;
		j->ids = hb_realloc(j->ids, j->cap * sizeof *j->ids);
	}
	j->ids[j->n++] = row->id;
	return HB_OK;
}

/* The query runs once and its ids (8 bytes a match) are kept: running it again per batch
   would evaluate its External Data semi-joins again each time. */
hb_err hb_filter_each_batch(hb_ctx *c, const hb_filter *f, size_t batch, hb_filter_ids_fn fn,
			    void *ud, hb_error *e)
{
	if (!batch)
		batch = DEFAULT_BATCH;
	hb_query q = f->q;
	q.ngroup = 0;
	q.bucket = HB_QB_NONE;
	ids_job j = {0};
	hb_err rc = c->store->ops->query(c->store, &q, take_id, &j, e);
	for (size_t at = 0; !rc && at < j.n; at += batch)
		rc = fn(ud, j.ids + at, j.n - at < batch ? j.n - at : batch, e);
	free(j.ids);
	return rc;
}

hb_err hb_filter_ids(hb_ctx *c, hb_target target, int64_t project_id, const char *text,
		     size_t batch, hb_filter_ids_fn fn, void *ud, hb_error *e)
{
	hb_filter *f = NULL;
	hb_err rc = hb_filter_compile(c, target, project_id, text, text ? strlen(text) : 0, &f, e);
	if (!rc)
		rc = hb_filter_each_batch(c, f, batch, fn, ud, e);
	hb_filter_free(&f);
	return rc;
}
