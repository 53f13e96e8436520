/*
 * sqlite_query.c - the query op of the SQLite back end: one hb_query (store.h) becomes ONE
 * parameterized SELECT.
 *
 * DESIGN. Table and column names come from the kind descriptors only; every value of the
 * filter (and every id of the scope) is bound as a parameter, in the order the text is
 * written. Records are aliased t, the records they refer to r1, r2, … (LEFT JOIN on their
 * id), grouped External Data values g0, g1 (LEFT JOIN on field and record). A comparison on
 * External Data is a semi-join `owner IN (SELECT record_id FROM x WHERE field_id = ? AND …)`,
 * which the (field_id, v_int, v_text) index answers; booleans and integers live in v_int,
 * text and times (RFC 3339, so text order is time order) in v_text, with `v_int IS NULL`
 * said so that the index reaches v_text. Two-valued
 * logic: SQL gives NULL for a comparison with a missing value, which already fails a WHERE;
 * under `not` it is folded to false first (NOT coalesce(x, 0)), so `not (a = 1)` matches the
 * records without a value, as docs/filters.md says. contains/starts with are LIKE with the
 * pattern's own % _ and \ escaped, ignoring ASCII case.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "store/sqlite_int.h"

#define SQL_MAX (1024 * 1024) /* cap on the statement text a filter may produce */

static const char *const xtables[] = {"user_xvalues", "feedback_xvalues", "project_xvalues"};

typedef struct bind {
	hb_value v;
	char *owned; /* LIKE pattern built here */
} bind;

typedef struct gen {
	const hb_query *q;
	hb_buf sql;
	bind *binds;
	size_t nbinds, cap;
	hb_err rc;
} gen;

static void add(gen *g, const char *fmt, ...) HB_PRINTF(2, 3);
static void add(gen *g, const char *fmt, ...)
{
	if (g->rc)
		return;
	va_list ap;
	va_start(ap, fmt);
	g->rc = hb_buf_vprintf(&g->sql, fmt, ap);
	va_end(ap);
}

/* A "?" in the text and its value. */
static void param(gen *g, hb_value v, char *owned)
{
	if (g->nbinds == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->binds = hb_realloc(g->binds, g->cap * sizeof *g->binds);
	}
	g->binds[g->nbinds++] = (bind){v, owned};
	add(g, "?");
}

static const hb_kind *rel_kind(const hb_query *q, int rel)
{
	return rel == 0 ? q->kind : q->rels[rel - 1].kind;
}

static void alias(gen *g, int rel)
{
	if (rel == 0)
		add(g, "t");
	else
		add(g, "r%d", rel);
}

/* The id of the record a field's External Data belongs to. */
static void owner(gen *g, int rel)
{
	if (rel == 0) {
		add(g, "t.id");
		return;
	}
	const hb_qrel *r = &g->q->rels[rel - 1];
	if (r->via >= 0)
		add(g, "t.%s", g->q->kind->cols[r->via].name);
	else
		param(g, hb_value_int(r->id), NULL);
}

static const char *vcol(hb_type t)
{
	return (t == HB_TYPE_BOOL || t == HB_TYPE_INT) ? "v_int" : "v_text";
}

static void column(gen *g, const hb_qfield *f)
{
	alias(g, f->rel);
	add(g, ".%s", rel_kind(g->q, f->rel)->cols[f->col].name);
}

static const char *cmp_sql(hb_qop op)
{
	switch (op) {
	case HB_Q_EQ:
		return " = ";
	case HB_Q_NE:
		return " <> ";
	case HB_Q_LT:
		return " < ";
	case HB_Q_LE:
		return " <= ";
	case HB_Q_GT:
		return " > ";
	default:
		return " >= ";
	}
}

static char *like_pattern(const hb_value *v, bool contains)
{
	size_t n = v->u.s.len;
	char *p = hb_calloc(1, 2 * n + 3), *o = p;
	if (contains)
		*o++ = '%';
	for (size_t i = 0; i < n; i++) {
		char c = v->u.s.ptr[i];
		if (c == '%' || c == '_' || c == '\\')
			*o++ = '\\';
		*o++ = c;
	}
	*o++ = '%';
	*o = '\0';
	return p;
}

/* The test itself, on `expr` written by fn (a column, or v_int / v_text of a subquery). */
static void test(gen *g, const hb_qnode *x, void (*expr)(gen *, const hb_qfield *))
{
	const hb_qfield *f = &x->field;
	switch (x->op) {
	case HB_Q_IN:
		expr(g, f);
		add(g, " IN (");
		for (size_t i = 0; i < x->nvals; i++) {
			if (i)
				add(g, ", ");
			param(g, x->vals[i], NULL);
		}
		add(g, ")");
		break;
	case HB_Q_CONTAINS:
	case HB_Q_STARTS: {
		char *pat = like_pattern(&x->vals[0], x->op == HB_Q_CONTAINS);
		expr(g, f);
		add(g, " LIKE ");
		param(g, hb_value_strn(pat, strlen(pat)), pat);
		add(g, " ESCAPE '\\'");
		break;
	}
	default:
		expr(g, f);
		add(g, "%s", cmp_sql(x->op));
		param(g, x->vals[0], NULL);
	}
}

static void xvalue_expr(gen *g, const hb_qfield *f)
{
	add(g, "%s", vcol(f->type));
}

/* owner [NOT] IN (SELECT record_id FROM x WHERE field_id = ? [AND [v_int IS NULL AND] test]) */
static void external(gen *g, const hb_qnode *x)
{
	const hb_qfield *f = &x->field;
	bool empty = x->op == HB_Q_EMPTY;
	owner(g, f->rel);
	add(g, "%s IN (SELECT record_id FROM %s WHERE field_id = ", empty ? " NOT" : "",
	    xtables[f->xtarget]);
	param(g, hb_value_int(f->xfield), NULL);
	/* text values have no v_int: saying so lets the (field, v_int, v_text) index reach v_text */
	bool text = strcmp(vcol(f->type), "v_text") == 0;
	if (x->op == HB_Q_EMPTY || x->op == HB_Q_NOT_EMPTY) {
		if (f->type == HB_TYPE_STRING)
			add(g, " AND v_int IS NULL AND v_text <> ''");
	} else {
		add(g, text ? " AND v_int IS NULL AND " : " AND ");
		test(g, x, xvalue_expr);
	}
	add(g, ")");
}

static void node(gen *g, const hb_qnode *x)
{
	switch (x->op) {
	case HB_Q_ALL:
		add(g, "1");
		return;
	case HB_Q_NONE:
		add(g, "0");
		return;
	case HB_Q_AND:
	case HB_Q_OR:
		add(g, "(");
		for (size_t i = 0; i < x->nkids; i++) {
			if (i)
				add(g, x->op == HB_Q_AND ? " AND " : " OR ");
			node(g, &x->kids[i]);
		}
		add(g, ")");
		return;
	case HB_Q_NOT:
		add(g, "NOT coalesce(");
		node(g, &x->kids[0]);
		add(g, ", 0)");
		return;
	default:
		break;
	}
	if (x->field.col < 0) {
		external(g, x);
		return;
	}
	bool text = x->field.type == HB_TYPE_STRING;
	if (x->op == HB_Q_EMPTY) {
		add(g, "(");
		column(g, &x->field);
		add(g, " IS NULL");
		if (text) {
			add(g, " OR ");
			column(g, &x->field);
			add(g, " = ''");
		}
		add(g, ")");
	} else if (x->op == HB_Q_NOT_EMPTY) {
		add(g, "(");
		column(g, &x->field);
		add(g, " IS NOT NULL");
		if (text) {
			add(g, " AND ");
			column(g, &x->field);
			add(g, " <> ''");
		}
		add(g, ")");
	} else {
		test(g, x, column);
	}
}

/* The expression a group key is read from. */
static void group_expr(gen *g, const hb_qfield *f, int i)
{
	if (f->col >= 0)
		column(g, f);
	else
		add(g, "g%d.%s", i, vcol(f->type));
}

static void bucket_expr(gen *g)
{
	const hb_qfield *f = &g->q->bucket_field;
	switch (g->q->bucket) {
	case HB_QB_DAY:
		add(g, "substr(");
		group_expr(g, f, 2);
		add(g, ", 1, 10)");
		break;
	case HB_QB_WEEK: /* the Monday on or before the day */
		add(g, "date(");
		group_expr(g, f, 2);
		add(g, ", '-6 days', 'weekday 1')");
		break;
	default:
		add(g, "substr(");
		group_expr(g, f, 2);
		add(g, ", 1, 7) || '-01'");
	}
}

static void join_external(gen *g, const hb_qfield *f, int i)
{
	if (f->col >= 0)
		return;
	add(g, " LEFT JOIN %s g%d ON g%d.field_id = ", xtables[f->xtarget], i, i);
	param(g, hb_value_int(f->xfield), NULL);
	add(g, " AND g%d.record_id = ", i);
	owner(g, f->rel);
}

static void build(gen *g)
{
	const hb_query *q = g->q;
	bool grouped = q->ngroup || q->bucket != HB_QB_NONE;
	add(g, "SELECT ");
	if (grouped) {
		size_t nkeys = 0;
		if (q->bucket != HB_QB_NONE) {
			bucket_expr(g);
			nkeys++;
		}
		for (size_t i = 0; i < q->ngroup; i++) {
			add(g, "%s", nkeys++ ? ", " : "");
			group_expr(g, &q->group[i], (int)i);
		}
		add(g, ", count(*)");
	} else {
		add(g, "t.id");
	}
	add(g, " FROM %s t", q->kind->table);
	for (size_t i = 0; i < q->nrels; i++) {
		const hb_qrel *r = &q->rels[i];
		add(g, " LEFT JOIN %s r%zu ON r%zu.id = ", r->kind->table, i + 1, i + 1);
		if (r->via >= 0)
			add(g, "t.%s", q->kind->cols[r->via].name);
		else
			param(g, hb_value_int(r->id), NULL);
	}
	if (grouped) {
		for (size_t i = 0; i < q->ngroup; i++)
			join_external(g, &q->group[i], (int)i);
		if (q->bucket != HB_QB_NONE)
			join_external(g, &q->bucket_field, 2);
	}
	/* "+": the scope (community, project) holds most records, so its index would only turn a
	   sequential scan in id order into random reads plus a sort; keep the planner off it. */
	add(g, " WHERE 1");
	for (size_t i = 0; i < q->nconds; i++) {
		add(g, " AND +t.%s = ", q->kind->cols[q->conds[i].col].name);
		param(g, q->conds[i].value, NULL);
	}
	if (q->member) {
		add(g, " AND t.id IN (SELECT %s FROM %s WHERE 1", q->member->cols[q->member_col].name,
		    q->member->table);
		for (size_t i = 0; i < q->nmember_conds; i++) {
			add(g, " AND %s = ", q->member->cols[q->member_conds[i].col].name);
			param(g, q->member_conds[i].value, NULL);
		}
		add(g, ")");
	}
	if (q->where) {
		add(g, " AND ");
		node(g, q->where);
	}
	if (grouped) {
		size_t nkeys = q->ngroup + (q->bucket != HB_QB_NONE);
		add(g, " GROUP BY ");
		for (size_t i = 1; i <= nkeys; i++)
			add(g, "%s%zu", i > 1 ? ", " : "", i);
		add(g, " ORDER BY ");
		for (size_t i = 1; i <= nkeys; i++)
			add(g, "%s%zu", i > 1 ? ", " : "", i);
		return;
	}
	if (q->after_id > 0) {
		add(g, " AND t.id > ");
		param(g, hb_value_int(q->after_id), NULL);
	}
	add(g, " ORDER BY t.id");
	if (q->limit) {
		add(g, " LIMIT ");
		param(g, hb_value_int((int64_t)q->limit), NULL);
	}
}

static int bind_one(sqlite3_stmt *st, int at, const hb_value *v)
{
	return hb_sqlite_bind(st, at, v, true);
}

/* Result column at as a value of type t (strings borrowed from the statement). */
static hb_value read_key(sqlite3_stmt *st, int at, hb_type t)
{
	if (sqlite3_column_type(st, at) == SQLITE_NULL)
		return hb_value_null();
	switch (t) {
	case HB_TYPE_BOOL:
		return hb_value_bool(sqlite3_column_int64(st, at) != 0);
	case HB_TYPE_INT:
		return hb_value_int(sqlite3_column_int64(st, at));
	case HB_TYPE_TIME: {
		const char *txt = (const char *)sqlite3_column_text(st, at);
		int64_t v;
		if (txt && hb_time_parse(txt, strlen(txt), &v))
			return hb_value_time(v);
		return hb_value_null();
	}
	default: {
		const char *txt = (const char *)sqlite3_column_text(st, at);
		return hb_value_strn(txt ? txt : "", (size_t)sqlite3_column_bytes(st, at));
	}
	}
}

hb_err hb_sqlite_query(hb_store *s, const hb_query *q, hb_qrow_fn fn, void *ud, hb_error *e)
{
	sqlite3 *db = hb_sqlite_handle(s);
	gen g = {.q = q};
	hb_buf_init(&g.sql, SQL_MAX);
	sqlite3_stmt *st = NULL;
	hb_err rc = HB_OK;
	build(&g);
	if (g.rc) {
		rc = hb_fail(e, HB_ERR_TOO_LARGE, "filter", "the filter is too large to run");
		goto out;
	}
	if (sqlite3_prepare_v2(db, hb_buf_str(&g.sql), -1, &st, NULL) != SQLITE_OK) {
		rc = hb_fail(e, HB_ERR_STORE, "", "preparing a query: %s", sqlite3_errmsg(db));
		goto out;
	}
	for (size_t i = 0; i < g.nbinds; i++) {
		if (bind_one(st, (int)i + 1, &g.binds[i].v) != SQLITE_OK) {
			rc = hb_fail(e, HB_ERR_STORE, "", "binding a query value: %s", sqlite3_errmsg(db));
			goto out;
		}
	}
	bool grouped = q->ngroup || q->bucket != HB_QB_NONE;
	size_t nkeys = q->ngroup + (q->bucket != HB_QB_NONE);
	hb_value keys[HB_QUERY_MAX_GROUP + 1];
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		hb_qrow row = {0};
		if (grouped) {
			int at = 0;
			if (q->bucket != HB_QB_NONE)
				keys[at] = read_key(st, at, HB_TYPE_TIME), at++;
			for (size_t i = 0; i < q->ngroup; i++, at++)
				keys[at] = read_key(st, at, q->group[i].type);
			row.keys = keys;
			row.nkeys = nkeys;
			row.count = sqlite3_column_int64(st, (int)nkeys);
		} else {
			row.id = sqlite3_column_int64(st, 0);
		}
		if ((rc = fn(ud, &row, e)))
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = hb_fail(e, HB_ERR_STORE, "", "running a query: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	for (size_t i = 0; i < g.nbinds; i++)
		free(g.binds[i].owned);
	free(g.binds);
	hb_buf_free(&g.sql);
	return rc;
}
