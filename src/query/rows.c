/* rows.c - see rows.h. */
#include "query/rows.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

struct hb_rows {
	hb_ctx *c;
	hb_filter *f;
	hb_tagctx *tags;
	size_t npaths;
	hb_qfield *fields; /* where each path is stored (batched) */
	int *slots;        /* each path's catalogue slot (record by record) */
	bool batched;
	/* the last load */
	const int64_t *ids;
	size_t n, cap;
	hb_value *vals;    /* n * npaths */
	size_t *soff;      /* offset in text of each string value (SIZE_MAX: none) */
	bool *seen;        /* batched: a record came back for ids[i] */
	hb_value *idv;     /* batched: the ids as values of the query */
	hb_buf text;
};

static const char *kind_name(const hb_filter *f)
{
	return hb_filter_query(f)->kind->name;
}

hb_err hb_rows_new(hb_ctx *c, hb_filter *f, hb_tagctx *tags, const char *const *paths, size_t n,
		   hb_rows **out, hb_error *e)
{
	*out = NULL;
	hb_rows *r = hb_calloc(1, sizeof *r);
	r->c = c;
	r->f = f;
	r->tags = tags;
	r->npaths = n;
	r->fields = hb_calloc(n ? n : 1, sizeof *r->fields);
	r->slots = hb_calloc(n ? n : 1, sizeof *r->slots);
	r->batched = true;
	hb_buf_init(&r->text, HB_ROWS_TEXT_MAX);
	const hb_catalog *cat = hb_tagctx_catalog(tags);
	for (size_t i = 0; i < n; i++) {
		const hb_path_info *pi = hb_catalog_find(cat, paths[i], strlen(paths[i]));
		if (!pi) {
			hb_rows_free(&r);
			return hb_fail(e, HB_ERR_INVALID, "view", "unknown path '%s'", paths[i]);
		}
		r->slots[i] = pi->slot;
		hb_error ignored = {0};
		/* a path stored with another type than it shows (a ticket number shown as EXA-0001)
		   or not stored at all (now, macro.*, run.*, secret.*) is read by the loader */
		if (!r->batched || (pi->flags & HB_PATH_SECRET) ||
		    hb_filter_field(f, paths[i], &r->fields[i], &ignored) ||
		    r->fields[i].type != pi->type)
			r->batched = false;
	}
	*out = r;
	return HB_OK;
}

void hb_rows_free(hb_rows **rp)
{
	if (!rp || !*rp)
		return;
	hb_rows *r = *rp;
	free(r->fields);
	free(r->slots);
	free(r->vals);
	free(r->soff);
	free(r->seen);
	free(r->idv);
	hb_buf_free(&r->text);
	free(r);
	*rp = NULL;
}

bool hb_rows_batched(const hb_rows *r)
{
	return r->batched;
}

/* Keep value v as path k of row i (a string's bytes copied into r->text). */
static hb_err put(hb_rows *r, size_t i, size_t k, hb_value v, hb_error *e)
{
	size_t at = i * r->npaths + k;
	r->soff[at] = SIZE_MAX;
	if (v.type == HB_TYPE_STRING) {
		r->soff[at] = r->text.len;
		if (hb_buf_add(&r->text, v.u.s.ptr ? v.u.s.ptr : "", v.u.s.len) ||
		    hb_buf_addc(&r->text, '\0'))
			return hb_fail(e, HB_ERR_TOO_LARGE, "", "the values of %zu records are over %d MiB "
				       "as text", r->n, HB_ROWS_TEXT_MAX / (1024 * 1024));
	}
	r->vals[at] = v;
	return HB_OK;
}

typedef struct path_job {
	hb_rows *r;
	size_t k, at;
} path_job;

/* One group of (id, value): the value of path k for record id, when id is in the batch. */
static hb_err take_value(void *ud, const hb_qrow *row, hb_error *e)
{
	path_job *j = ud;
	hb_rows *r = j->r;
	if (row->nkeys != 2 || row->keys[0].type != HB_TYPE_INT)
		return HB_OK;
	int64_t id = row->keys[0].u.i;
	while (j->at < r->n && r->ids[j->at] < id)
		j->at++;
	if (j->at == r->n || r->ids[j->at] != id)
		return HB_OK;
	if (j->k == 0)
		r->seen[j->at] = true;
	return put(r, j->at, j->k, row->keys[1], e);
}

static hb_err load_batched(hb_rows *r, hb_error *e)
{
	const hb_query *base = hb_filter_query(r->f);
	/* a dense batch by its id range (one scan); a sparse one, whose range holds many records
	   the filter did not choose, by its ids */
	hb_qfield idf = {0, hb_kind_col(base->kind, "id"), 0, 0, HB_TYPE_INT};
	hb_value range[2] = {hb_value_int(r->ids[0]), hb_value_int(r->ids[r->n - 1])};
	hb_qnode kids[2] = {
		{.op = HB_Q_GE, .field = idf, .vals = &range[0], .nvals = 1},
		{.op = HB_Q_LE, .field = idf, .vals = &range[1], .nvals = 1},
	};
	hb_qnode where = {.op = HB_Q_AND, .kids = kids, .nkids = 2};
	if ((uint64_t)(r->ids[r->n - 1] - r->ids[0]) >= 2 * (uint64_t)r->n) {
		for (size_t i = 0; i < r->n; i++)
			r->idv[i] = hb_value_int(r->ids[i]);
		where = (hb_qnode){.op = HB_Q_IN, .field = idf, .vals = r->idv, .nvals = r->n};
	}
	hb_err rc = HB_OK;
	for (size_t k = 0; !rc && k < r->npaths; k++) {
		hb_query q = *base; /* scope and relations of the filter; its own test is done */
		q.where = &where;
		q.group[0] = idf;
		q.group[1] = r->fields[k];
		q.ngroup = 2;
		q.bucket = HB_QB_NONE;
		q.after_id = 0;
		q.limit = 0;
		path_job j = {r, k, 0};
		rc = r->c->store->ops->query(r->c->store, &q, take_value, &j, e);
	}
	for (size_t i = 0; !rc && r->npaths && i < r->n; i++)
		if (!r->seen[i])
			rc = hb_fail(e, HB_ERR_NOT_FOUND, "", "%s %lld no longer exists", kind_name(r->f),
				     (long long)r->ids[i]);
	return rc;
}

static hb_err load_each(hb_rows *r, hb_error *e)
{
	hb_err rc = HB_OK;
	for (size_t i = 0; !rc && i < r->n; i++) {
		const hb_value *slots;
		rc = hb_tagctx_load(r->tags, r->ids[i], &slots, e);
		for (size_t k = 0; !rc && k < r->npaths; k++)
			rc = put(r, i, k, slots[r->slots[k]], e);
	}
	return rc;
}

hb_err hb_rows_load(hb_rows *r, const int64_t *ids, size_t n, bool in_tx, hb_error *e)
{
	r->ids = ids;
	r->n = n;
	hb_buf_reset(&r->text);
	if (n > r->cap) {
		r->cap = n;
		free(r->vals);
		free(r->soff);
		free(r->seen);
		free(r->idv);
		r->idv = hb_calloc(n, sizeof *r->idv);
		r->vals = hb_calloc(n * (r->npaths ? r->npaths : 1), sizeof *r->vals);
		r->soff = hb_calloc(n * (r->npaths ? r->npaths : 1), sizeof *r->soff);
		r->seen = hb_calloc(n, sizeof *r->seen);
	}
	if (n == 0)
		return HB_OK;
	for (size_t i = 0; i < n * r->npaths; i++) {
		r->vals[i] = hb_value_null();
		r->soff[i] = SIZE_MAX;
	}
	memset(r->seen, 0, n * sizeof *r->seen);
	hb_store *s = r->c->store;
	hb_err rc = in_tx ? HB_OK : s->ops->begin_read(s, e);
	if (rc)
		return rc;
	rc = r->batched ? load_batched(r, e) : load_each(r, e);
	if (!in_tx) {
		hb_error ignored = {0};
		if (rc)
			s->ops->rollback(s);
		else if ((rc = s->ops->commit(s, &ignored)))
			*e = ignored;
	}
	/* the text buffer no longer moves: point the strings at it */
	for (size_t i = 0; !rc && i < n * r->npaths; i++)
		if (r->soff[i] != SIZE_MAX)
			r->vals[i].u.s.ptr = r->text.data + r->soff[i];
	if (rc)
		r->n = 0;
	return rc;
}

const hb_value *hb_rows_at(const hb_rows *r, size_t i)
{
	return &r->vals[i * r->npaths];
}
