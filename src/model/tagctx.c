/* tagctx.c - the catalogue of real records and its loader (tagctx.h). */
#include "model/tagctx.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/timeutil.h"

/* What fills a slot. */
typedef enum src_kind {
	SRC_NATIVE,   /* a column of a record read by hb_tagctx_load */
	SRC_EXTERNAL, /* an External Data value of that record */
	SRC_NOW,      /* the time of the load */
	SRC_KEPT,     /* a value kept by the context: macro, run, secret */
} src_kind;
typedef enum src_rec {
	REC_MAIN,
	REC_SUBMITTER,
	REC_PROJECT,
	REC_COMMUNITY,
	REC_MACRO,
	REC_RUN,
	REC_SECRET,
} src_rec;

typedef struct slot_src {
	src_kind kind;
	src_rec rec;
	const char *col;     /* macro, run: column name */
	const hb_column *native; /* native: the record's column */
	int native_at;       /* …and its index */
	hb_xfield_info field; /* external */
} slot_src;

/* A referenced record's name (project key, submitter email), read once in a while. */
typedef struct ref_name {
	hb_kind_id kind;
	int64_t id, at;
	char *name;
} ref_name;
#define REF_CACHE 32
/* The project, community and references of many records in a row are the same: what was read
   in the last two seconds is reused rather than read again per record. */
#define SHARED_FRESH_S 2

struct hb_tagctx {
	hb_ctx *c;
	hb_target target;
	int64_t project_id;
	hb_catalog *cat;
	slot_src *src;
	size_t nsrc;
	hb_value *slots;
	hb_row *held[4]; /* the loaded records, backing string slots */
	int64_t held_id[4], held_at[4]; /* project and community stay loaded for a moment */
	ref_name refs[REF_CACHE];
	size_t nrefs;
	char **strs;     /* other strings backing slots */
	size_t nstrs;
	hb_value *kept;  /* SRC_KEPT values by slot (null elsewhere) */
	char **kept_own; /* the copies behind kept strings, by slot */
	/* what a load reads: every slot until hb_tagctx_need names some (need is then by slot,
	   and need_list the slots named, in the order named) */
	bool *need;
	int *need_list;
	size_t nneed;
	bool need_rec[4];       /* records read besides the main one, by src_rec */
	uint64_t need_cols[4];  /* the columns read of each (as hb_list_opts.cols; 0 = all) */
	bool need_external[2];  /* External Data read, of REC_MAIN and REC_SUBMITTER */
	hb_row **ahead; /* main records read ahead (hb_tagctx_read_ahead), NULL once taken */
	size_t nahead, cap_ahead;
};

static void add(hb_tagctx *t, const char *path, const char *label, hb_type type, unsigned flags,
		slot_src s)
{
	int slot = hb_catalog_add(t->cat, path, label, type, flags, 0);
	t->src = hb_realloc(t->src, ((size_t)slot + 1) * sizeof *t->src);
	t->src[slot] = s;
	t->nsrc = (size_t)slot + 1;
}

/* Replace the kept value of slot i with a copy of v. */
static void keep(hb_tagctx *t, size_t i, hb_value v)
{
	char *old = t->kept_own[i];
	if (old) {
		if (t->src[i].rec == REC_SECRET)
			explicit_bzero(old, t->kept[i].u.s.len);
		free(old);
		t->kept_own[i] = NULL;
	}
	if (v.type == HB_TYPE_STRING) {
		t->kept_own[i] = hb_strndup(v.u.s.ptr ? v.u.s.ptr : "", v.u.s.len);
		v.u.s.ptr = t->kept_own[i];
	}
	t->kept[i] = v;
}

static void add_run_paths(hb_tagctx *t)
{
	static const struct {
		src_rec rec;
		const char *path, *col, *label;
		hb_type type;
	} paths[] = {
		{REC_MACRO, "macro.id", "id", "the macro's id", HB_TYPE_INT},
		{REC_MACRO, "macro.key", "key", "the macro's key", HB_TYPE_STRING},
		{REC_MACRO, "macro.name", "name", "the macro's name", HB_TYPE_STRING},
		{REC_MACRO, "macro.description", "description", "the macro's description",
		 HB_TYPE_STRING},
		{REC_RUN, "run.id", "id", "the run's id", HB_TYPE_INT},
		{REC_RUN, "run.started_by", "started_by", "who or what started the run",
		 HB_TYPE_STRING},
		{REC_RUN, "run.started_at", "created_at", "when the run started", HB_TYPE_TIME},
		{REC_RUN, "run.selection", "selection", "which records the run was started on",
		 HB_TYPE_STRING},
		{REC_RUN, "run.total", "total", "how many records the run chose", HB_TYPE_INT},
	};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		add(t, paths[i].path, paths[i].label, paths[i].type, 0,
		    (slot_src){SRC_KEPT, paths[i].rec, paths[i].col, NULL, 0, {0}});
}

/* One secret of the community: a path named for it; its value is kept once slots exist. */
typedef struct secret_job {
	hb_tagctx *t;
	char **values; /* by slot, until the slots are allocated */
	size_t nvalues;
} secret_job;

static hb_err take_secret(void *ud, const hb_row *row, hb_error *e)
{
	(void)e;
	secret_job *j = ud;
	hb_value name = hb_row_get(row, "name"), value = hb_row_get(row, "value");
	if (name.type != HB_TYPE_STRING || value.type != HB_TYPE_STRING)
		return HB_OK;
	char path[128];
	snprintf(path, sizeof path, "secret.%.*s", (int)name.u.s.len, name.u.s.ptr);
	add(j->t, path, "a secret of the community (masked in previews and logs)", HB_TYPE_STRING,
	    HB_PATH_SECRET, (slot_src){SRC_KEPT, REC_SECRET, NULL, NULL, 0, {0}});
	size_t slot = j->t->nsrc - 1;
	j->values = hb_realloc(j->values, (slot + 1) * sizeof *j->values);
	for (size_t i = j->nvalues; i <= slot; i++)
		j->values[i] = NULL;
	j->nvalues = slot + 1;
	j->values[slot] = hb_strndup(value.u.s.ptr, value.u.s.len);
	return HB_OK;
}

static hb_err add_secrets(hb_tagctx *t, secret_job *j, hb_error *e)
{
	hb_cond cond = {hb_kind_col(hb_kind_get(HB_K_SECRET), "community_id"),
			hb_value_int(t->c->community_id)};
	hb_list_opts o = {.conds = &cond, .nconds = 1};
	j->t = t;
	return t->c->store->ops->list(t->c->store, hb_kind_get(HB_K_SECRET), &o, take_secret, j, e);
}

static void add_native(hb_tagctx *t, const char *prefix, hb_kind_id kid, src_rec rec)
{
	const hb_kind *k = hb_kind_get(kid);
	for (size_t i = 0; i < k->ncols; i++) {
		const hb_column *col = &k->cols[i];
		if (col->flags & (HB_COL_HIDDEN | HB_COL_SECRET))
			continue;
		char path[128];
		snprintf(path, sizeof path, "%s.%s", prefix, hb_col_public_name(col));
		hb_type type = (col->flags & (HB_COL_REF | HB_COL_JSON)) ? HB_TYPE_STRING : col->type;
		if (kid == HB_K_FEEDBACK && strcmp(col->name, "number") == 0)
			type = HB_TYPE_STRING;
		add(t, path, col->help, type, 0, (slot_src){SRC_NATIVE, rec, NULL, col, (int)i});
	}
}

static hb_err add_external(hb_tagctx *t, const char *prefix, hb_target target, src_rec rec,
			   hb_error *e)
{
	hb_xfield_info *f = NULL;
	size_t n = 0;
	hb_err rc = hb_xdata_fields(t->c, target, t->project_id, &f, &n, e);
	for (size_t i = 0; !rc && i < n; i++) {
		char path[200];
		snprintf(path, sizeof path, "%s.%s.%s", prefix, f[i].group, f[i].key);
		slot_src s = {SRC_EXTERNAL, rec, NULL, NULL, 0, f[i]};
		add(t, path, f[i].label, f[i].type, HB_PATH_EXTERNAL, s);
	}
	free(f);
	return rc;
}

hb_err hb_tagctx_new(hb_ctx *c, hb_target target, int64_t project_id, hb_tagctx **out,
		     hb_error *e)
{
	hb_tagctx *t = hb_calloc(1, sizeof *t);
	t->c = c;
	t->target = target;
	t->project_id = project_id;
	t->cat = hb_catalog_new();
	hb_err rc;
	if (target == HB_TARGET_FEEDBACK) {
		add_native(t, "feedback", HB_K_FEEDBACK, REC_MAIN);
		add_native(t, "submitter", HB_K_USER, REC_SUBMITTER);
		rc = add_external(t, "external", HB_TARGET_FEEDBACK, REC_MAIN, e);
		if (!rc)
			rc = add_external(t, "submitter.external", HB_TARGET_USERS, REC_SUBMITTER, e);
	} else {
		add_native(t, "user", HB_K_USER, REC_MAIN);
		rc = add_external(t, "external", HB_TARGET_USERS, REC_MAIN, e);
	}
	add_native(t, "project", HB_K_PROJECT, REC_PROJECT);
	add_native(t, "community", HB_K_COMMUNITY, REC_COMMUNITY);
	add_run_paths(t);
	add(t, "now", "the time of the run", HB_TYPE_TIME, 0, (slot_src){SRC_NOW, 0, NULL, NULL, 0, {0}});
	secret_job sj = {0};
	if (!rc)
		rc = add_secrets(t, &sj, e);
	size_t n = t->nsrc ? t->nsrc : 1;
	t->slots = hb_calloc(n, sizeof *t->slots);
	t->kept = hb_calloc(n, sizeof *t->kept);
	t->kept_own = hb_calloc(n, sizeof *t->kept_own);
	for (size_t i = 0; i < sj.nvalues; i++) {
		if (!sj.values[i])
			continue;
		size_t len = strlen(sj.values[i]);
		if (!rc)
			keep(t, i, hb_value_strn(sj.values[i], len));
		explicit_bzero(sj.values[i], len);
		free(sj.values[i]);
	}
	free(sj.values);
	if (rc)
		hb_tagctx_free(&t);
	*out = t;
	return rc;
}

/* Let go of what the last load held; the project and community only with all, and the main
   record's row neither (the next load reads every column of it again, into the same row). */
static void release(hb_tagctx *t, bool all)
{
	for (int i = 0; i < 4; i++) {
		if (!all && (i == REC_MAIN || i == REC_PROJECT || i == REC_COMMUNITY))
			continue;
		hb_row_free(&t->held[i]);
	}
	for (size_t i = 0; all && i < t->nrefs; i++)
		free(t->refs[i].name);
	for (size_t i = 0; i < t->nstrs; i++)
		free(t->strs[i]);
	free(t->strs);
	t->strs = NULL;
	t->nstrs = 0;
}

void hb_tagctx_free(hb_tagctx **tp)
{
	if (!tp || !*tp)
		return;
	hb_tagctx *t = *tp;
	release(t, true);
	hb_tagctx_drop_ahead(t);
	free(t->ahead);
	for (size_t i = 0; t->kept_own && i < t->nsrc; i++)
		keep(t, i, hb_value_null());
	hb_catalog_free(&t->cat);
	free(t->src);
	free(t->slots);
	free(t->kept);
	free(t->kept_own);
	free(t->need);
	free(t->need_list);
	free(t);
	*tp = NULL;
}

const hb_catalog *hb_tagctx_catalog(const hb_tagctx *t)
{
	return t->cat;
}

/* Column name of kind kid as a bit of hb_list_opts.cols (none past the 64th: always read). */
static uint64_t col_bit(hb_kind_id kid, const char *name)
{
	int i = hb_kind_col(hb_kind_get(kid), name);
	return i >= 0 && i < 64 ? (uint64_t)1 << i : 0;
}

void hb_tagctx_need(hb_tagctx *t, const int *slots, size_t n)
{
	if (!t->need) {
		t->need = hb_calloc(t->nsrc ? t->nsrc : 1, sizeof *t->need);
		t->need_list = hb_calloc(t->nsrc ? t->nsrc : 1, sizeof *t->need_list);
		for (size_t i = 0; i < t->nsrc; i++) /* a load fills only those named from now on */
			t->slots[i] = hb_value_null();
		for (int r = 0; r < 4; r++)
			t->need_cols[r] = 1; /* the id */
		if (t->target == HB_TARGET_FEEDBACK) /* what the load itself reads of a ticket */
			t->need_cols[REC_MAIN] |= col_bit(HB_K_FEEDBACK, "project_id") |
						  col_bit(HB_K_FEEDBACK, "submitter_id");
	}
	for (size_t i = 0; i < n; i++) {
		if (slots[i] < 0 || (size_t)slots[i] >= t->nsrc)
			continue;
		const slot_src *s = &t->src[slots[i]];
		if (!t->need[slots[i]])
			t->need_list[t->nneed++] = slots[i];
		t->need[slots[i]] = true;
		if (s->kind == SRC_NATIVE) {
			t->need_rec[s->rec] = true;
			if (s->native_at < 64)
				t->need_cols[s->rec] |= (uint64_t)1 << s->native_at;
			if (s->rec == REC_MAIN && t->target == HB_TARGET_FEEDBACK &&
			    strcmp(s->native->name, "number") == 0) /* EXA-0001 needs the ticket's type */
				t->need_cols[REC_MAIN] |= col_bit(HB_K_FEEDBACK, "type_id");
		} else if (s->kind == SRC_EXTERNAL) {
			t->need_external[s->rec] = true;
		}
	}
}

/* Whether a load reads record rec (index into held), or rec's External Data. */
static bool reads_rec(const hb_tagctx *t, src_rec rec)
{
	return !t->need || t->need_rec[rec];
}

static bool reads_external(const hb_tagctx *t, src_rec rec)
{
	return !t->need || t->need_external[rec];
}

/* Record id of kind kid into *out (a row reused from load to load): the columns cols only, as
   hb_list_opts.cols (0 = all). */
static hb_err load_row(hb_tagctx *t, hb_kind_id kid, int64_t id, uint64_t cols, hb_row **out,
		       hb_error *e)
{
	const hb_kind *k = hb_kind_get(kid);
	if (!*out)
		*out = hb_row_new(k);
	hb_err rc = t->c->store->ops->read(t->c->store, k, id, cols, *out, e);
	if (rc == HB_ERR_NOT_FOUND)
		rc = hb_fail(e, rc, "", "%s %lld no longer exists", k->name, (long long)id);
	if (rc)
		hb_row_free(out);
	return rc;
}

/* The name a reference shows as (a key or an email), from a small cache kept fresh like the
   project and community. */
static hb_value ref_value(hb_tagctx *t, hb_kind_id kid, int64_t id)
{
	int64_t now = hb_time_now();
	size_t oldest = 0;
	for (size_t i = 0; i < t->nrefs; i++) {
		ref_name *r = &t->refs[i];
		if (r->kind == kid && r->id == id && now - r->at < SHARED_FRESH_S)
			return hb_value_str(r->name);
		if (r->at < t->refs[oldest].at)
			oldest = i;
	}
	hb_row *row = NULL;
	hb_error e;
	if (load_row(t, kid, id, 0, &row, &e) != HB_OK)
		return hb_value_null();
	const hb_kind *k = row->kind;
	hb_value v = k->lookup_col >= 0 ? row->v[k->lookup_col] : hb_value_null();
	ref_name *r = t->nrefs < REF_CACHE ? &t->refs[t->nrefs++] : &t->refs[oldest];
	free(r->name);
	*r = (ref_name){kid, id, now,
			v.type == HB_TYPE_STRING ? hb_strndup(v.u.s.ptr, v.u.s.len) : NULL};
	hb_row_free(&row);
	return hb_value_str(r->name);
}

/* A string the slots point at until the next load. */
static hb_value kept_str(hb_tagctx *t, const char *s, size_t n)
{
	char *copy = hb_strndup(s, n);
	t->strs = hb_realloc(t->strs, (t->nstrs + 1) * sizeof *t->strs);
	t->strs[t->nstrs++] = copy;
	return hb_value_strn(copy, n);
}

/* The value of a native path from its loaded record, as people see it: references by name,
   a ticket's number as EXA-0001. */
static hb_value native_value(hb_tagctx *t, const slot_src *s)
{
	const hb_row *row = t->held[s->rec];
	if (!row || s->native_at >= (int)row->kind->ncols)
		return hb_value_null();
	hb_value v = row->v[s->native_at];
	if (v.type == HB_TYPE_NULL)
		return v;
	if (s->native->flags & HB_COL_REF)
		return ref_value(t, s->native->ref, v.u.i);
	if (row->kind->id == HB_K_FEEDBACK && strcmp(s->native->name, "number") == 0) {
		char num[64];
		hb_error e;
		return hb_feedback_number(t->c, row, num, sizeof num, &e) ? hb_value_null()
									   : kept_str(t, num, strlen(num));
	}
	return v;
}

typedef struct xload {
	hb_tagctx *t;
	src_rec rec;
} xload;

static hb_err take_x(void *ud, const hb_xvalue *xv, hb_error *e)
{
	(void)e;
	xload *x = ud;
	hb_tagctx *t = x->t;
	for (size_t i = 0; i < t->nsrc; i++) {
		slot_src *s = &t->src[i];
		if (s->kind != SRC_EXTERNAL || s->rec != x->rec || s->field.id != xv->field_id ||
		    (t->need && !t->need[i])) /* a slot not named stays null */
			continue;
		hb_value v = hb_xdata_typed(&s->field, xv->value);
		if (v.type == HB_TYPE_STRING) /* the store's text lives only during this call */
			v = kept_str(t, v.u.s.ptr, v.u.s.len);
		t->slots[i] = v;
	}
	return HB_OK;
}


static hb_err load_shared(hb_tagctx *t, src_rec rec, hb_kind_id kid, int64_t id, hb_error *e)
{
	int64_t now = hb_time_now();
	if (t->held[rec] && t->held_id[rec] == id && now - t->held_at[rec] < SHARED_FRESH_S)
		return HB_OK;
	hb_err rc = load_row(t, kid, id, t->need_cols[rec], &t->held[rec], e);
	t->held_id[rec] = id;
	t->held_at[rec] = now;
	return rc;
}

typedef struct ahead_fill {
	hb_tagctx *t;
	const int64_t *ids;
	size_t n;
} ahead_fill;

static hb_err keep_ahead(void *ud, const hb_row *row, hb_error *e)
{
	(void)e;
	ahead_fill *f = ud;
	hb_tagctx *t = f->t;
	int64_t id = hb_row_id(row);
	size_t i = 0;
	while (i < f->n && f->ids[i] != id)
		i++;
	if (i == f->n) /* in the span, but not asked for */
		return HB_OK;
	if (t->nahead == t->cap_ahead) {
		t->cap_ahead = t->cap_ahead ? 2 * t->cap_ahead : 16;
		t->ahead = hb_realloc(t->ahead, t->cap_ahead * sizeof *t->ahead);
	}
	hb_row *copy = hb_row_new(row->kind);
	for (size_t c = 0; c < row->kind->ncols; c++)
		hb_row_borrow(copy, (int)c, row->v[c]);
	hb_row_pack(copy); /* the strings, which live only during this call, in one block */
	t->ahead[t->nahead++] = copy;
	return HB_OK;
}

void hb_tagctx_read_ahead(hb_tagctx *t, const int64_t *ids, size_t n)
{
	hb_tagctx_drop_ahead(t);
	if (n < 2)
		return;
	int64_t lo = ids[0], hi = ids[0];
	for (size_t i = 1; i < n; i++) {
		lo = ids[i] < lo ? ids[i] : lo;
		hi = ids[i] > hi ? ids[i] : hi;
	}
	if (lo < 1 || (uint64_t)(hi - lo) >= 2 * (uint64_t)n) /* far apart: each load reads */
		return;
	const hb_kind *k = hb_kind_get(t->target == HB_TARGET_FEEDBACK ? HB_K_FEEDBACK : HB_K_USER);
	hb_list_opts o = {.after_id = lo - 1,
			  .limit = (size_t)(hi - lo + 1),
			  .cols = t->need_cols[REC_MAIN]};
	hb_error ignored;
	if (t->c->store->ops->list(t->c->store, k, &o, keep_ahead, &(ahead_fill){t, ids, n},
				   &ignored) != HB_OK)
		hb_tagctx_drop_ahead(t);
}

void hb_tagctx_drop_ahead(hb_tagctx *t)
{
	for (size_t i = 0; i < t->nahead; i++)
		hb_row_free(&t->ahead[i]);
	t->nahead = 0;
}

/* Record id read ahead, made the loaded main record; false if it was not read ahead. */
static bool take_ahead(hb_tagctx *t, int64_t id)
{
	for (size_t i = 0; i < t->nahead; i++) {
		if (t->ahead[i] && hb_row_id(t->ahead[i]) == id) {
			hb_row_free(&t->held[REC_MAIN]);
			t->held[REC_MAIN] = t->ahead[i];
			t->ahead[i] = NULL;
			return true;
		}
	}
	return false;
}

hb_err hb_tagctx_load(hb_tagctx *t, int64_t record_id, const hb_value **slots, hb_error *e)
{
	release(t, false);
	hb_kind_id main = t->target == HB_TARGET_FEEDBACK ? HB_K_FEEDBACK : HB_K_USER;
	hb_err rc = take_ahead(t, record_id) ? HB_OK
					     : load_row(t, main, record_id, t->need_cols[REC_MAIN],
							&t->held[REC_MAIN], e);
	int64_t project = t->project_id, submitter = 0;
	if (!rc && t->target == HB_TARGET_FEEDBACK) {
		project = hb_row_int(t->held[REC_MAIN], "project_id");
		submitter = hb_row_int(t->held[REC_MAIN], "submitter_id");
		if (reads_rec(t, REC_SUBMITTER))
			rc = load_row(t, HB_K_USER, submitter, t->need_cols[REC_SUBMITTER],
				      &t->held[REC_SUBMITTER], e);
	}
	if (!rc && project && reads_rec(t, REC_PROJECT))
		rc = load_shared(t, REC_PROJECT, HB_K_PROJECT, project, e);
	else if (!rc) /* a ticket's project, then none: nothing may linger */
		hb_row_free(&t->held[REC_PROJECT]);
	if (!rc && reads_rec(t, REC_COMMUNITY))
		rc = load_shared(t, REC_COMMUNITY, HB_K_COMMUNITY, t->c->community_id, e);
	if (rc)
		return rc;
	/* the slots named by hb_tagctx_need (the others stay null), or every one */
	size_t nfill = t->need ? t->nneed : t->nsrc;
	for (size_t k = 0; k < nfill; k++) {
		size_t i = t->need ? (size_t)t->need_list[k] : k;
		slot_src *s = &t->src[i];
		if (s->kind == SRC_NOW)
			t->slots[i] = hb_value_time(hb_time_now());
		else if (s->kind == SRC_KEPT)
			t->slots[i] = t->kept[i];
		else if (s->kind == SRC_NATIVE)
			t->slots[i] = native_value(t, s);
		else
			t->slots[i] = hb_value_null();
	}
	if (reads_external(t, REC_MAIN))
		rc = t->c->store->ops->xvalue_list(t->c->store, t->target, record_id, take_x,
						   &(xload){t, REC_MAIN}, e);
	if (!rc && submitter && reads_external(t, REC_SUBMITTER))
		rc = t->c->store->ops->xvalue_list(t->c->store, HB_TARGET_USERS, submitter, take_x,
						   &(xload){t, REC_SUBMITTER}, e);
	*slots = t->slots;
	return rc;
}

/* The value of column col of row as a path of type type wants it (null when it differs). */
static hb_value run_value(const hb_row *row, const char *col, hb_type type)
{
	if (!row || hb_kind_col(row->kind, col) < 0)
		return hb_value_null();
	hb_value v = hb_row_get(row, col);
	return v.type == type ? v : hb_value_null();
}

void hb_tagctx_set_run(hb_tagctx *t, const hb_row *macro, const hb_row *run)
{
	if (macro && macro->kind->id != HB_K_MACRO)
		macro = NULL;
	if (run && run->kind->id != HB_K_RUN)
		run = NULL;
	for (size_t i = 0; i < t->nsrc; i++) {
		const slot_src *s = &t->src[i];
		if (s->kind != SRC_KEPT || (s->rec != REC_MACRO && s->rec != REC_RUN))
			continue;
		const hb_row *row = s->rec == REC_MACRO ? macro : run;
		keep(t, i, run_value(row, s->col, hb_catalog_at(t->cat, i)->type));
	}
}
