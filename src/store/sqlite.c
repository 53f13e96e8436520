/*
 * sqlite.c - the SQLite back end of store.h (the embedded default: one file, no set-up).
 *
 * DESIGN. Statements are built from the kind descriptors (model/kind.h) — never from user
 * text — prepared once with SQLITE_PREPARE_PERSISTENT and kept in a small cache keyed by their
 * SQL, then reset and re-bound for each use. The database runs in WAL mode with foreign keys on
 * and a busy timeout; begin is BEGIN IMMEDIATE so a writer holds the lock for its whole
 * transaction. Times are stored as fixed-width RFC 3339 text, so text order is time order.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "store/sqlite_int.h"
#include "store/store.h"

#define CACHE_SLOTS 128 /* at most 255: positions are indexed in a byte */
_Static_assert(CACHE_SLOTS < 256 && (CACHE_SLOTS & (CACHE_SLOTS - 1)) == 0, "cache size");
#define CHECKPOINT_PAGES 4096 /* WAL pages (of 4 KiB) that ask for a checkpoint */
#define BULK_ROWS 16 /* rows per statement of insert_many, xvalue_set_many, update_cols_many */

typedef struct cached {
	uint64_t hash; /* of sql: most lookups compare this alone */
	char *sql;
	sqlite3_stmt *stmt;
} cached;

typedef struct sq_store {
	hb_store base;
	sqlite3 *db;
	cached cache[CACHE_SLOTS];
	size_t ncached;
	/* where each statement is in cache, by hash: open addressing, position + 1 (0: empty) */
	uint8_t where[2 * CACHE_SLOTS];
	sqlite3_stmt *insert[HB_K__COUNT]; /* hot path of bulk import: no SQL text built per row */
	sqlite3_stmt *insert_bulk[HB_K__COUNT];	    /* BULK_ROWS rows at once */
	sqlite3_stmt *xvalue_bulk[HB_TARGET_PROJECTS + 1]; /* BULK_ROWS values at once */
	int nested_reads; /* reads begun inside an open transaction, not yet ended */
	/* Statement text built from the kind descriptors, by shape (an exact 64-bit description:
	   select_shape, update_shape) and the columns a SELECT reads, so the hot statements (a
	   record by id, an API key by prefix, a delivery's outcome) are not built every time */
	struct {
		uint64_t shape, cols;
		char *sql;
	} texts[64];
	hb_checkpointer *checkpointer;
	char path[1024];
} sq_store;

static const hb_store_ops sqlite_ops;

static hb_err db_fail(sq_store *s, hb_error *e, const char *what)
{
	int ext = sqlite3_extended_errcode(s->db);
	const char *msg = sqlite3_errmsg(s->db);
	if ((ext & 0xff) == SQLITE_CONSTRAINT && strstr(msg, "FOREIGN KEY"))
		ext = SQLITE_CONSTRAINT_FOREIGNKEY; /* reported without its extended code */
	switch (ext) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return hb_fail(e, HB_ERR_CONFLICT, "", "%s: already exists (%s)", what, msg);
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return hb_fail(e, HB_ERR_CONFLICT, "", "%s: other records still refer to it", what);
	case SQLITE_CONSTRAINT_NOTNULL:
	case SQLITE_CONSTRAINT_CHECK:
		return hb_fail(e, HB_ERR_INVALID, "", "%s: %s", what, msg);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return hb_fail(e, HB_ERR_STORE, "", "%s: the database is busy (%s)", what, msg);
	default:
		return hb_fail(e, HB_ERR_STORE, "", "%s: %s", what, msg);
	}
}

/* The statement for sql, prepared once and reset for reuse. A statement still stepping (a
   list whose callback runs the same query again) is left alone and a second copy is made. */
static uint64_t sql_hash(const char *sql)
{
	/* eight bytes a step (a statement is looked up several times per delivery): mix each word
	   in with a multiply and a rotation, then the tail */
	const uint64_t k = 0x9e3779b97f4a7c15u;
	size_t n = strlen(sql), i = 0;
	uint64_t h = n * k;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, sql + i, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ (unsigned char)sql[i]) * k;
	return h ^ (h >> 32);
}

/* Put cache[i] in the hash index. */
static void index_add(sq_store *s, size_t i)
{
	const size_t mask = sizeof s->where - 1;
	size_t p = (size_t)s->cache[i].hash & mask;
	while (s->where[p])
		p = (p + 1) & mask;
	s->where[p] = (uint8_t)(i + 1);
}

static hb_err stmt_get(sq_store *s, const char *sql, sqlite3_stmt **out, hb_error *e)
{
	uint64_t h = sql_hash(sql);
	const size_t mask = sizeof s->where - 1;
	for (size_t p = (size_t)h & mask; s->where[p]; p = (p + 1) & mask) {
		cached *c = &s->cache[s->where[p] - 1];
		if (c->hash == h && strcmp(c->sql, sql) == 0 && !sqlite3_stmt_busy(c->stmt)) {
			sqlite3_reset(c->stmt);
			sqlite3_clear_bindings(c->stmt);
			*out = c->stmt;
			return HB_OK;
		}
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return db_fail(s, e, "preparing a statement");
	if (s->ncached == CACHE_SLOTS) { /* full: drop the oldest one not in use */
		size_t victim = 0;
		while (victim < s->ncached && sqlite3_stmt_busy(s->cache[victim].stmt))
			victim++;
		if (victim == s->ncached) {
			sqlite3_finalize(st);
			return hb_fail(e, HB_ERR_INTERNAL, "", "too many queries in progress at once");
		}
		sqlite3_finalize(s->cache[victim].stmt);
		free(s->cache[victim].sql);
		memmove(&s->cache[victim], &s->cache[victim + 1],
			(CACHE_SLOTS - 1 - victim) * sizeof(cached));
		s->ncached--;
		memset(s->where, 0, sizeof s->where); /* positions moved: index them again */
		for (size_t i = 0; i < s->ncached; i++)
			index_add(s, i);
	}
	s->cache[s->ncached] = (cached){h, hb_strdup(sql), st};
	index_add(s, s->ncached++);
	*out = st;
	return HB_OK;
}

int hb_sqlite_bind(sqlite3_stmt *st, int at, const hb_value *v, bool copy)
{
	char t[HB_TIME_STR_MAX];
	switch (v->type) {
	case HB_TYPE_NULL:
		return sqlite3_bind_null(st, at);
	case HB_TYPE_BOOL:
		return sqlite3_bind_int(st, at, v->u.b ? 1 : 0);
	case HB_TYPE_INT:
		return sqlite3_bind_int64(st, at, v->u.i);
	case HB_TYPE_TIME:
		return sqlite3_bind_text(st, at, hb_time_format(v->u.i, t), -1, SQLITE_TRANSIENT);
	case HB_TYPE_STRING:
		return sqlite3_bind_text64(st, at, v->u.s.ptr ? v->u.s.ptr : "", v->u.s.len,
					   copy ? SQLITE_TRANSIENT : SQLITE_STATIC, SQLITE_UTF8);
	}
	return SQLITE_MISUSE;
}

/* Strings bound in place: every caller here keeps the value alive until the statement has
   stepped. */
static int bind_value(sqlite3_stmt *st, int at, const hb_value *v)
{
	return hb_sqlite_bind(st, at, v, false);
}

/* Column i of the current result row as a value of type; a string points into the statement,
   valid until it steps again. */
static hb_value column_value(sqlite3_stmt *st, int i, hb_type type)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return hb_value_null();
	switch (type) {
	case HB_TYPE_BOOL:
		return hb_value_bool(sqlite3_column_int64(st, i) != 0);
	case HB_TYPE_INT:
		return hb_value_int(sqlite3_column_int64(st, i));
	case HB_TYPE_TIME: {
		const char *txt = (const char *)sqlite3_column_text(st, i);
		int64_t t;
		return txt && hb_time_parse(txt, strlen(txt), &t) ? hb_value_time(t) : hb_value_null();
	}
	default: {
		const char *txt = (const char *)sqlite3_column_text(st, i);
		return hb_value_strn(txt ? txt : "", (size_t)sqlite3_column_bytes(st, i));
	}
	}
}

/* Append a, b and c (any may be NULL): SQL is built on hot paths, so no printf. */
static hb_err cat3(hb_buf *sql, const char *a, const char *b, const char *c)
{
	hb_err rc = a ? hb_buf_adds(sql, a) : HB_OK;
	if (!rc && b)
		rc = hb_buf_adds(sql, b);
	if (!rc && c)
		rc = hb_buf_adds(sql, c);
	return rc;
}

/* Whether a read of the columns cols (as in hb_list_opts) reads column i. */
static bool reads_col(uint64_t cols, size_t i)
{
	return !cols || i >= 64 || (cols >> i & 1);
}

static hb_err add_columns(hb_buf *sql, const hb_kind *k, uint64_t cols)
{
	hb_err rc = HB_OK;
	bool first = true;
	for (size_t i = 0; i < k->ncols && !rc; i++)
		if (reads_col(cols, i)) {
			rc = cat3(sql, first ? "" : ", ", k->cols[i].name, NULL);
			first = false;
		}
	return rc;
}

/* The current result row of a SELECT of the columns cols of kind k into row: owned copies
   (hb_row_set) or borrowed strings (hb_row_borrow); the columns not read are null. */
static void take_row(sqlite3_stmt *st, const hb_kind *k, uint64_t cols, hb_row *row, bool own)
{
	int at = 0;
	for (size_t i = 0; i < k->ncols; i++)
		hb_row_borrow(row, (int)i,
			      reads_col(cols, i) ? column_value(st, at++, k->cols[i].type)
						 : hb_value_null());
	if (own)
		hb_row_pack(row);
}

static hb_err add_where(hb_buf *sql, const hb_kind *k, const hb_cond *c, size_t n, bool after)
{
	hb_err rc = HB_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		const char *name = k->cols[c[i].col].name;
		if (c[i].value.type == HB_TYPE_NULL)
			rc = cat3(sql, i ? " AND " : " WHERE ", name, " IS NULL");
		else
			rc = cat3(sql, i ? " AND " : " WHERE ", name, " = ?");
	}
	if (!rc && after)
		rc = cat3(sql, n ? " AND " : " WHERE ", "id > ?", NULL);
	return rc;
}

static int bind_conds(sqlite3_stmt *st, const hb_cond *c, size_t n)
{
	int at = 1;
	for (size_t i = 0; i < n; i++) {
		if (c[i].value.type == HB_TYPE_NULL)
			continue;
		int rc = bind_value(st, at++, &c[i].value);
		if (rc != SQLITE_OK)
			return rc;
	}
	return at;
}

static hb_err sq_exec(sq_store *s, const char *sql, hb_error *e)
{
	char *err = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		hb_fail(e, HB_ERR_STORE, "", "%s", err ? err : sqlite3_errmsg(s->db));
		sqlite3_free(err);
		return HB_ERR_STORE;
	}
	return HB_OK;
}

/* Step a statement that returns no rows, then reset it; on failure say what was being done. */
static hb_err run_done(sq_store *s, sqlite3_stmt *st, const char *what, hb_error *e)
{
	hb_err rc = sqlite3_step(st) == SQLITE_DONE ? HB_OK : db_fail(s, e, what);
	sqlite3_reset(st);
	return rc;
}

/* run_done for a statement about one kind of record; the message is built only on failure. */
static hb_err run_named(sq_store *s, sqlite3_stmt *st, const char *verb, const char *kind,
			hb_error *e)
{
	if (sqlite3_step(st) == SQLITE_DONE) {
		sqlite3_reset(st);
		return HB_OK;
	}
	char what[128];
	snprintf(what, sizeof what, "%s %s", verb, kind);
	hb_err rc = db_fail(s, e, what);
	sqlite3_reset(st);
	return rc;
}

static hb_err run_sql(sq_store *s, const char *sql, const char *what, hb_error *e)
{
	sqlite3_stmt *st;
	hb_err rc = stmt_get(s, sql, &st, e);
	return rc ? rc : run_done(s, st, what, e);
}

static hb_err sq_begin(hb_store *base, hb_error *e)
{
	return run_sql((sq_store *)base, "BEGIN IMMEDIATE", "starting a transaction", e);
}

/* A read inside a transaction already open (a request's read, a batch reader inside it) joins
   it: its commit or rollback only ends the nesting. */
static hb_err sq_begin_read(hb_store *base, hb_error *e)
{
	sq_store *s = (sq_store *)base;
	if (!sqlite3_get_autocommit(s->db)) {
		s->nested_reads++;
		return HB_OK;
	}
	return run_sql(s, "BEGIN DEFERRED", "starting a read", e);
}

static hb_err sq_commit(hb_store *base, hb_error *e)
{
	sq_store *s = (sq_store *)base;
	if (s->nested_reads > 0) {
		s->nested_reads--;
		return HB_OK;
	}
	return run_sql(s, "COMMIT", "committing", e);
}

static void sq_rollback(hb_store *base)
{
	sq_store *s = (sq_store *)base;
	if (s->nested_reads > 0)
		s->nested_reads--;
	else if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static hb_err sq_step_begin(hb_store *base, hb_error *e)
{
	return run_sql((sq_store *)base, "SAVEPOINT step", "starting a step", e);
}

static hb_err sq_step_end(hb_store *base, bool keep, hb_error *e)
{
	sq_store *s = (sq_store *)base;
	hb_err rc = keep ? HB_OK : run_sql(s, "ROLLBACK TO step", "undoing a step", e);
	return rc ? rc : run_sql(s, "RELEASE step", "ending a step", e);
}

/* " (?, ?), (?, ?)": rows groups of width parameters, for a VALUES list. */
static hb_err add_value_rows(hb_buf *sql, size_t rows, size_t width)
{
	hb_err rc = HB_OK;
	for (size_t r = 0; r < rows && !rc; r++) {
		rc = hb_buf_adds(sql, r ? ", (" : " (");
		for (size_t i = 0; i < width && !rc; i++)
			rc = hb_buf_adds(sql, i ? ", ?" : "?");
		if (!rc)
			rc = hb_buf_addc(sql, ')');
	}
	return rc;
}

/* A statement kept in *slot for the store's life: reset for reuse when there is one (true),
   else prepared from the text build writes into sql. */
static hb_err kept_stmt(sq_store *s, sqlite3_stmt **slot, hb_err (*build)(hb_buf *, const void *),
			const void *arg, const char *what, sqlite3_stmt **out, hb_error *e)
{
	if (*slot) {
		sqlite3_reset(*slot);
		*out = *slot;
		return HB_OK;
	}
	hb_buf sql;
	hb_buf_init(&sql, HB_BUF_UNLIMITED);
	hb_err rc = build(&sql, arg);
	if (!rc && sqlite3_prepare_v3(s->db, hb_buf_str(&sql), -1, SQLITE_PREPARE_PERSISTENT, slot,
				      NULL) != SQLITE_OK)
		rc = db_fail(s, e, what);
	hb_buf_free(&sql);
	*out = *slot;
	return rc;
}

typedef struct insert_shape {
	const hb_kind *k;
	size_t rows;
} insert_shape;

static hb_err build_insert(hb_buf *sql, const void *arg)
{
	const insert_shape *sh = arg;
	const hb_kind *k = sh->k;
	hb_err rc = cat3(sql, "INSERT INTO ", k->table, " (");
	for (size_t i = 1; i < k->ncols && !rc; i++)
		rc = cat3(sql, i > 1 ? ", " : "", k->cols[i].name, NULL);
	if (!rc)
		rc = hb_buf_adds(sql, ") VALUES");
	return rc ? rc : add_value_rows(sql, sh->rows, k->ncols - 1);
}

/* The INSERT of n rows (1 or BULK_ROWS) of kind k, prepared once per store. */
static hb_err insert_stmt(sq_store *s, const hb_kind *k, size_t n, sqlite3_stmt **out, hb_error *e)
{
	insert_shape sh = {k, n};
	return kept_stmt(s, n == 1 ? &s->insert[k->id] : &s->insert_bulk[k->id], build_insert, &sh,
			 "preparing an insert", out, e);
}

/* Bind the columns but the id of rows[0..n) to st, one row after the other. */
static hb_err bind_rows(sq_store *s, sqlite3_stmt *st, hb_row *const *rows, size_t n, hb_error *e)
{
	int at = 1;
	for (size_t r = 0; r < n; r++)
		for (size_t i = 1; i < rows[r]->kind->ncols; i++)
			if (bind_value(st, at++, &rows[r]->v[i]) != SQLITE_OK)
				return db_fail(s, e, "binding a value");
	return HB_OK;
}

static hb_err sq_insert(hb_store *base, hb_row *row, hb_error *e)
{
	sq_store *s = (sq_store *)base;
	const hb_kind *k = row->kind;
	sqlite3_stmt *st;
	hb_err rc = insert_stmt(s, k, 1, &st, e);
	if (!rc)
		rc = bind_rows(s, st, &row, 1, e);
	if (!rc)
		rc = run_named(s, st, "saving the", k->name, e);
	if (!rc)
		hb_row_borrow(row, 0, hb_value_int(sqlite3_last_insert_rowid(s->db)));
	return rc;
}

static hb_err sq_insert_many(hb_store *base, hb_row *const *rows, size_t n, hb_error *e)
{
	sq_store *s = (sq_store *)base;
	if (!n)
		return HB_OK;
	const hb_kind *k = rows[0]->kind;
	for (size_t r = 1; r < n; r++)
		if (rows[r]->kind != k)
			return hb_fail(e, HB_ERR_INTERNAL, "", "insert_many: rows of more than one kind");
	hb_err rc = HB_OK;
	size_t r = 0;
	for (; !rc && n - r >= BULK_ROWS; r += BULK_ROWS) {
		sqlite3_stmt *st;
		rc = insert_stmt(s, k, BULK_ROWS, &st, e);
		if (!rc)
			rc = bind_rows(s, st, rows + r, BULK_ROWS, e);
		if (!rc)
			rc = run_named(s, st, "saving the", k->name, e);
	}
	for (; !rc && r < n; r++)
		rc = sq_insert(base, rows[r], e);
	return rc;
}

static size_t text_slot(uint64_t shape, uint64_t cols)
{
	return (size_t)(((shape ^ cols * 0xC2B2AE3D27D4EB4Fu) * 0x9E3779B97F4A7C15u) >> 58); /* 0..63 */
}

/* The statement of a shape and columns remembered before, or NULL (shape 0: never
   remembered). */
static const char *text_of(const sq_store *s, uint64_t shape, uint64_t cols)
{
	size_t slot = text_slot(shape, cols);
	return shape && s->texts[slot].shape == shape && s->texts[slot].cols == cols
		       ? s->texts[slot].sql
		       : NULL;
}

/* Remember the statement built in sql for its shape and columns (the text moves out of sql). */
static void remember_text(sq_store *s, uint64_t shape, uint64_t cols, hb_buf *sql)
{
	if (!shape)
		return;
	size_t slot = text_slot(shape, cols);
	free(s->texts[slot].sql);
	s->texts[slot].shape = shape;
	s->texts[slot].cols = cols;
	s->texts[slot].sql = hb_buf_steal(sql);
}

/* " AND <column> = ?" (or IS NULL) of an UPDATE's expected value. */
static hb_err add_expect(hb_buf *sql, const hb_kind *k, const hb_cond *expect)
{
	return cat3(sql, " AND ", k->cols[expect->col].name,
		    expect->value.type == HB_TYPE_NULL ? " IS NULL" : " = ?");
}

/* How a statement names the rows it touches: one id, BULK_ROWS ids, or a stretch of
   consecutive ids. An IN list is gathered into a temporary index at every use (a few hundred
   instructions an id); a stretch is read straight from the table. */
typedef enum { BY_ID, BY_LIST, BY_RANGE } id_form;

static int id_params(id_form form)
{
	return form == BY_LIST ? BULK_ROWS : form == BY_RANGE ? 2 : 1;
}

static hb_err add_ids(hb_buf *sql, id_form form)
{
	if (form == BY_ID)
		return hb_buf_adds(sql, "id = ?");
	if (form == BY_RANGE)
		return hb_buf_adds(sql, "id BETWEEN ? AND ?");
	hb_err rc = hb_buf_adds(sql, "id IN (?");
	for (size_t i = 1; i < BULK_ROWS && !rc; i++)
		rc = hb_buf_adds(sql, ", ?");
	return rc ? rc : hb_buf_addc(sql, ')');
}

/* The shape of an UPDATE of count listed columns: bit 61 set (no select shape has it), the kind
   in 8 bits, the count in 4, then 6 bits a column, for up to 6 columns, the expected column
   in 7, and the form of its ids in bits 55 and 56; 0 otherwise. */
static uint64_t update_shape(const hb_kind *k, const int *cols, size_t count, const hb_cond *expect,
			     id_form form)
{
	if (!cols || count > 6 || (expect && (expect->col < 0 || expect->col >= 63)))
		return 0;
	uint64_t shape = (uint64_t)1 << 61 | ((uint64_t)k->id + 1) | (uint64_t)count << 8;
	for (size_t i = 0; i < count; i++) {
		if (cols[i] < 0 || cols[i] >= 63)
			return 0;
		shape |= (uint64_t)(cols[i] + 1) << (12 + 6 * i); /* up to bit 47 */
	}
	if (expect) /* its column, and whether it is IS NULL */
		shape |= (uint64_t)(expect->col + 1) << 48 |
			 (uint64_t)(expect->value.type == HB_TYPE_NULL) << 54;
	return shape | (uint64_t)form << 55;
}

/* The UPDATE of count columns (cols, or all but the id when NULL) of a kind's rows named by
   form, and the condition expect when not NULL; the ids' parameters follow the columns'. */
static hb_err update_stmt(sq_store *s, const hb_kind *k, const int *cols, size_t count,
			  const hb_cond *expect, id_form form, sqlite3_stmt **out, hb_error *e)
{
	uint64_t shape = update_shape(k, cols, count, expect, form);
	const char *known = text_of(s, shape, 0);
	if (known)
		return stmt_get(s, known, out, e);
	hb_buf sql;
	hb_buf_init(&sql, 4096);
	hb_err rc = cat3(&sql, "UPDATE ", k->table, " SET ");
	for (size_t i = 0; i < count && !rc; i++)
		rc = cat3(&sql, i ? ", " : "", k->cols[cols ? cols[i] : (int)i + 1].name, " = ?");
	if (!rc)
		rc = hb_buf_adds(&sql, " WHERE ");
	if (!rc)
		rc = add_ids(&sql, form);
	if (!rc && expect)
		rc = add_expect(&sql, k, expect);
	if (!rc)
		rc = stmt_get(s, hb_buf_str(&sql), out, e);
	if (!rc)
		remember_text(s, shape, 0, &sql);
	hb_buf_free(&sql);
	return rc;
}

/* UPDATE of the listed columns (all but the id when cols is NULL): an index whose columns are
   not written is left alone, which matters on the delivery queue's hot path. */
static hb_err sq_update_cols(hb_store *base, const hb_row *row, const int *cols, size_t n,
			     const hb_cond *expect, hb_error *e)
{
	sq_store *s = (sq_store *)base;
	const hb_kind *k = row->kind;
	size_t count = cols ? n : k->ncols - 1;
	if (expect && (expect->col < 0 || (size_t)expect->col >= k->ncols))
		return hb_fail(e, HB_ERR_INVALID, "", "updating the %s: no such column", k->name);
	sqlite3_stmt *st = NULL;
	hb_err rc = update_stmt(s, k, cols, count, expect, BY_ID, &st, e);
	if (rc)
		return rc;
	for (size_t i = 0; i < count; i++)
		bind_value(st, (int)i + 1, &row->v[cols ? cols[i] : (int)i + 1]);
	sqlite3_bind_int64(st, (int)count + 1, hb_row_id(row));
	if (expect && expect->value.type != HB_TYPE_NULL)
		bind_value(st, (int)count + 2, &expect->value);
	if ((rc = run_named(s, st, "updating the", k->name, e)))
		return rc;
	if (sqlite3_changes(s->db) == 0)
		return hb_fail(e, HB_ERR_NOT_FOUND, "", "%s %lld not found%s", k->name,
			       (long long)hb_row_id(row), expect ? " as it was" : "");
	return HB_OK;
}

/* A part of a set of ids that one statement names: a stretch, or up to BULK_ROWS ids (a short
   list repeats its last id). */
typedef struct id_piece {
	id_form form;
	int64_t ids[BULK_ROWS];
} id_piece;

#define MIN_STRETCH 4 /* consecutive ids worth a statement of their own */

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The pieces of ids[0..n): its stretches of MIN_STRETCH consecutive ids or more (a run's
   deliveries come out so), and the rest in lists; *count gets how many. The caller frees. */
static id_piece *id_pieces(const int64_t *ids, size_t n, size_t *count)
{
	int64_t *sorted = hb_malloc(n * sizeof *sorted);
	memcpy(sorted, ids, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, cmp_id);
	id_piece *p = hb_malloc(n * sizeof *p); /* never more pieces than ids */
	size_t np = 0, listed = 0;
	id_piece *list = NULL; /* the list being filled */
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && sorted[j] == sorted[j - 1] + 1;)
			j++;
		if (j - i >= MIN_STRETCH) {
			p[np++] = (id_piece){.form = BY_RANGE, .ids = {sorted[i], sorted[j - 1]}};
			continue;
		}
		for (size_t m = i; m < j; m++) {
			if (!list || listed == BULK_ROWS) {
				list = &p[np++];
				list->form = BY_LIST;
				listed = 0;
			}
			list->ids[listed++] = sorted[m];
		}
		for (size_t m = listed; m < BULK_ROWS; m++)
			list->ids[m] = list->ids[listed - 1];
	}
	free(sorted);
	*count = np;
	return p;
}

/* Bind piece p's ids from parameter first on, then expect's value (unless IS NULL). */
static void bind_piece(sqlite3_stmt *st, int first, const id_piece *p, const hb_cond *expect)
{
	int np = id_params(p->form);
	for (int i = 0; i < np; i++)
		sqlite3_bind_int64(st, first + i, p->ids[i]);
	if (expect && expect->value.type != HB_TYPE_NULL)
		bind_value(st, first + np, &expect->value);
}

/* How many rows of piece p match expect. */
static hb_err count_matching(sq_store *s, const hb_kind *k, const hb_cond *expect,
			     const id_piece *p, size_t *out, hb_error *e)
{
	uint64_t shape = (uint64_t)1 << 62 | ((uint64_t)k->id + 1) | (uint64_t)p->form << 16 |
			 (expect ? (uint64_t)(expect->col + 1) << 8 |
					   (uint64_t)(expect->value.type == HB_TYPE_NULL) << 15
				 : 0);
	const char *known = text_of(s, shape, 0);
	sqlite3_stmt *st = NULL;
	hb_err rc = HB_OK;
	if (known) {
		rc = stmt_get(s, known, &st, e);
	} else {
		hb_buf sql;
		hb_buf_init(&sql, 4096);
		rc = cat3(&sql, "SELECT count(*) FROM ", k->table, " WHERE ");
		if (!rc)
			rc = add_ids(&sql, p->form);
		if (!rc && expect)
			rc = add_expect(&sql, k, expect);
		if (!rc)
			rc = stmt_get(s, hb_buf_str(&sql), &st, e);
		if (!rc)
			remember_text(s, shape, 0, &sql);
		hb_buf_free(&sql);
	}
	if (rc)
		return rc;
	bind_piece(st, 1, p, expect);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = (size_t)sqlite3_column_int64(st, 0);
	else
		rc = db_fail(s, e, "counting rows");
	sqlite3_reset(st);
	return rc;
}

/* The same UPDATE for many rows by id: a statement costs about as much as writing the row, so
   rows that end alike (a batch of deliveries answered 200) are written a stretch of
   consecutive ids, or BULK_ROWS ids, at a time. All or none: the rows are first counted, and
   written only when every one matches expect. */
static hb_err sq_update_cols_many(hb_store *base, const hb_row *row, const int *cols, size_t n,
				  const hb_cond *expect, const int64_t *ids, size_t nids, bool *all,
				  hb_error *e)
{
	sq_store *s = (sq_store *)base;
	const hb_kind *k = row->kind;
	*all = false;
	if (!cols || (expect && (expect->col < 0 || (size_t)expect->col >= k->ncols)))
		return hb_fail(e, HB_ERR_INVALID, "", "updating the %s: no such column", k->name);
	*all = nids == 0;
	if (!nids)
		return HB_OK;
	size_t npieces, matching = 0;
	id_piece *pieces = id_pieces(ids, nids, &npieces);
	hb_err rc = HB_OK;
	for (size_t i = 0; i < npieces && !rc; i++) {
		size_t c = 0;
		rc = count_matching(s, k, expect, &pieces[i], &c, e);
		matching += c;
	}
	for (size_t i = 0; i < npieces && !rc && matching == nids; i++) {
		sqlite3_stmt *st = NULL;
		rc = update_stmt(s, k, cols, n, expect, pieces[i].form, &st, e);
		if (rc)
			break;
		for (size_t c = 0; c < n; c++)
			bind_value(st, (int)c + 1, &row->v[cols[c]]);
		bind_piece(st, (int)n + 1, &pieces[i], expect);
		rc = run_named(s, st, "updating the", k->name, e);
	}
	*all = !rc && matching == nids;
	free(pieces);
	return rc;
}

static hb_err sq_update(hb_store *base, const hb_row *row, hb_error *e)
{
	return sq_update_cols(base, row, NULL, 0, NULL, e);
}

static hb_err sq_remove(hb_store *base, const hb_kind *k, int64_t id, hb_error *e)
{
	sq_store *s = (sq_store *)base;
	char sql[256];
	snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = ?", k->table);
	sqlite3_stmt *st;
	hb_err rc = stmt_get(s, sql, &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	char what[128];
	snprintf(what, sizeof what, "cannot delete the %s", k->name);
	if ((rc = run_done(s, st, what, e)))
		return rc;
	if (sqlite3_changes(s->db) == 0)
		return hb_fail(e, HB_ERR_NOT_FOUND, "", "%s %lld not found", k->name, (long long)id);
	return HB_OK;
}

/* Prepare "SELECT cols FROM table WHERE conds [AND id > ?] ORDER BY id [LIMIT ?]" and bind. */
/* What a list's SELECT text depends on, packed in 64 bits (0: too many conditions to say). */
static uint64_t select_shape(const hb_kind *k, const hb_list_opts *o)
{
	if (o->nconds > 6)
		return 0;
	uint64_t shape = (uint64_t)k->id + 1; /* 8 bits */
	for (size_t i = 0; i < o->nconds; i++) {
		if (o->conds[i].col < 0 || o->conds[i].col >= 63)
			return 0;
		unsigned c = (unsigned)(o->conds[i].col + 1) << 1 | (o->conds[i].value.type == HB_TYPE_NULL);
		shape |= (uint64_t)c << (8 + 7 * i); /* 7 bits each, up to bit 50 */
	}
	return shape | (uint64_t)(o->after_id > 0) << 62 | (uint64_t)(o->limit > 0) << 63;
}

static hb_err select_stmt(sq_store *s, const hb_kind *k, const hb_list_opts *o, sqlite3_stmt **out,
			  hb_error *e)
{
	uint64_t shape = select_shape(k, o);
	const char *known = text_of(s, shape, o->cols);
	hb_err rc;
	if (known) {
		rc = stmt_get(s, known, out, e);
		if (rc)
			return rc;
		goto bind;
	}
	hb_buf sql;
	hb_buf_init(&sql, 4096);
	rc = hb_buf_adds(&sql, "SELECT ");
	if (!rc)
		rc = add_columns(&sql, k, o->cols);
	if (!rc)
		rc = cat3(&sql, " FROM ", k->table, NULL);
	if (!rc)
		rc = add_where(&sql, k, o->conds, o->nconds, o->after_id > 0);
	if (!rc)
		rc = hb_buf_adds(&sql, o->limit ? " ORDER BY id LIMIT ?" : " ORDER BY id");
	if (!rc)
		rc = stmt_get(s, hb_buf_str(&sql), out, e);
	if (!rc)
		remember_text(s, shape, o->cols, &sql);
	hb_buf_free(&sql);
	if (rc)
		return rc;
bind:;
	int at = bind_conds(*out, o->conds, o->nconds);
	if (o->after_id > 0)
		sqlite3_bind_int64(*out, at++, o->after_id);
	if (o->limit)
		sqlite3_bind_int64(*out, at, (sqlite3_int64)o->limit);
	return HB_OK;
}

/* Step st (which selects the columns cols of kind k), handing each row to fn; then reset it. */
static hb_err step_rows(sq_store *s, sqlite3_stmt *st, const hb_kind *k, uint64_t cols,
			hb_row_fn fn, void *ud, const char *what, hb_error *e)
{
	hb_row *row = hb_row_new(k);
	hb_err rc = HB_OK;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		take_row(st, k, cols, row, false);
		rc = fn(ud, row, e);
		if (rc)
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(s, e, what);
	sqlite3_reset(st);
	hb_row_free(&row);
	return rc;
}

static hb_err sq_list(hb_store *base, const hb_kind *k, const hb_list_opts *o, hb_row_fn fn,
		      void *ud, hb_error *e)
{
	sq_store *s = (sq_store *)base;
	sqlite3_stmt *st;
	hb_err rc = select_stmt(s, k, o, &st, e);
	if (rc)
		return rc;
	return step_rows(s, st, k, o->cols, fn, ud, "reading records", e);
}

/* The first row matching o (limit 1), read straight into out (its strings copied there). */
static hb_err find_one(sq_store *s, const hb_kind *k, const hb_list_opts *o, hb_row *out,
		       hb_error *e)
{
	sqlite3_stmt *st;
	hb_err rc = select_stmt(s, k, o, &st, e);
	if (rc)
		return rc;
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		take_row(st, k, o->cols, out, true);
	else if (step == SQLITE_DONE)
		rc = hb_fail(e, HB_ERR_NOT_FOUND, "", "no such %s", k->name);
	else
		rc = db_fail(s, e, "reading records");
	sqlite3_reset(st);
	return rc;
}

static hb_err sq_find(hb_store *base, const hb_kind *k, const hb_cond *conds, size_t n, hb_row *out,
		      hb_error *e)
{
	hb_list_opts o = {.conds = conds, .nconds = n, .limit = 1};
	return find_one((sq_store *)base, k, &o, out, e);
}

static hb_err sq_read(hb_store *base, const hb_kind *k, int64_t id, uint64_t cols, hb_row *out,
		      hb_error *e)
{
	hb_cond by_id = {0, hb_value_int(id)};
	hb_list_opts o = {.conds = &by_id, .nconds = 1, .limit = 1, .cols = cols};
	return find_one((sq_store *)base, k, &o, out, e);
}

/* One number over the records matching conds: head + table + WHERE … + tail. */
static hb_err scalar_where(sq_store *s, const hb_kind *k, const char *head, const char *tail,
			   const hb_cond *conds, size_t n, int64_t *out, hb_error *e)
{
	hb_buf sql;
	hb_buf_init(&sql, 4096);
	hb_err rc = cat3(&sql, head, k->table, NULL);
	if (!rc)
		rc = add_where(&sql, k, conds, n, false);
	if (!rc && tail)
		rc = hb_buf_adds(&sql, tail);
	sqlite3_stmt *st = NULL;
	if (!rc)
		rc = stmt_get(s, hb_buf_str(&sql), &st, e);
	hb_buf_free(&sql);
	if (rc)
		return rc;
	bind_conds(st, conds, n);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(s, e, "counting records");
		sqlite3_reset(st);
		return rc;
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return HB_OK;
}

static hb_err sq_count(hb_store *base, const hb_kind *k, const hb_cond *conds, size_t n,
		       int64_t *out, hb_error *e)
{
	return scalar_where((sq_store *)base, k, "SELECT count(*) FROM ", NULL, conds, n, out, e);
}

static hb_err sq_exists(hb_store *base, const hb_kind *k, const hb_cond *conds, size_t n,
			bool *out, hb_error *e)
{
	int64_t v = 0;
	hb_err rc = scalar_where((sq_store *)base, k, "SELECT EXISTS (SELECT 1 FROM ", ")", conds,
				 n, &v, e);
	*out = v != 0;
	return rc;
}

static const char *const xvalue_tables[] = {"user_xvalues", "feedback_xvalues", "project_xvalues"};

/* Written once per captured field: the text is fixed, not formatted per call. */
/* An upsert of values: its head, the VALUES rows (six parameters each), its conflict clause. */
#define XVALUE_HEAD(table)                                                                    \
	"INSERT INTO " table " (field_id, record_id, v_int, v_text, set_at, source) VALUES"
#define XVALUE_ON_CONFLICT                                                                    \
	" ON CONFLICT (record_id, field_id) DO UPDATE SET"                                     \
	" v_int = excluded.v_int, v_text = excluded.v_text,"                                   \
	" set_at = excluded.set_at, source = excluded.source"
#define XVALUE_UPSERT(table) XVALUE_HEAD(table) " (?, ?, ?, ?, ?, ?)" XVALUE_ON_CONFLICT
#define XVALUE_DELETE(table) "DELETE FROM " table " WHERE field_id = ? AND record_id = ?"
static const char *const xvalue_head[] = {XVALUE_HEAD("user_xvalues"),
					  XVALUE_HEAD("feedback_xvalues"),
					  XVALUE_HEAD("project_xvalues")};
static const char *const xvalue_upsert[] = {XVALUE_UPSERT("user_xvalues"),
					    XVALUE_UPSERT("feedback_xvalues"),
					    XVALUE_UPSERT("project_xvalues")};
static const char *const xvalue_delete[] = {XVALUE_DELETE("user_xvalues"),
					    XVALUE_DELETE("feedback_xvalues"),
					    XVALUE_DELETE("project_xvalues")};

/* Bind value xv (not null) as the six parameters from at of an upsert; ts holds its time text
   until the statement has stepped. Strings are bound in place: they outlive the step too. */
static void bind_xvalue(sqlite3_stmt *st, int at, const hb_xvalue *xv, char ts[HB_TIME_STR_MAX])
{
	hb_value none = hb_value_null();
	bool text = xv->value.type == HB_TYPE_STRING || xv->value.type == HB_TYPE_TIME;
	sqlite3_bind_int64(st, at, xv->field_id);
	sqlite3_bind_int64(st, at + 1, xv->record_id);
	bind_value(st, at + 2, text ? &none : &xv->value);
	bind_value(st, at + 3, text ? &xv->value : &none);
	sqlite3_bind_text(st, at + 4, hb_time_format(xv->set_at, ts), -1, SQLITE_STATIC);
	if (xv->source)
		sqlite3_bind_text(st, at + 5, xv->source, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, at + 5);
}

static hb_err sq_xvalue_set(hb_store *base, hb_target t, const hb_xvalue *xv, hb_error *e)
{
	sq_store *s = (sq_store *)base;
	sqlite3_stmt *st;
	bool clear = xv->value.type == HB_TYPE_NULL;
	hb_err rc = stmt_get(s, clear ? xvalue_delete[t] : xvalue_upsert[t], &st, e);
	if (rc)
		return rc;
	char ts[HB_TIME_STR_MAX];
	if (clear) {
		sqlite3_bind_int64(st, 1, xv->field_id);
		sqlite3_bind_int64(st, 2, xv->record_id);
	} else {
		bind_xvalue(st, 1, xv, ts);
	}
	return run_done(s, st, "storing an External Data value", e);
}

static hb_err build_xvalue_bulk(hb_buf *sql, const void *arg)
{
	hb_err rc = hb_buf_adds(sql, xvalue_head[*(const hb_target *)arg]);
	if (!rc)
		rc = add_value_rows(sql, BULK_ROWS, 6);
	return rc ? rc : hb_buf_adds(sql, XVALUE_ON_CONFLICT);
}

/* The upsert of BULK_ROWS values of target t, prepared once per store. */
static hb_err xvalue_bulk_stmt(sq_store *s, hb_target t, sqlite3_stmt **out, hb_error *e)
{
	return kept_stmt(s, &s->xvalue_bulk[t], build_xvalue_bulk, &t,
			 "preparing an External Data upsert", out, e);
}

/* One value as xvalue_set_many stores it: left out when its record or field is gone. */
static hb_err xvalue_set_one(hb_store *base, hb_target t, const hb_xvalue *xv, hb_error *e)
{
	hb_err rc = sq_xvalue_set(base, t, xv, e);
	return rc == HB_ERR_CONFLICT ? HB_OK : rc;
}

static hb_err sq_xvalue_set_many(hb_store *base, hb_target t, const hb_xvalue *xv, size_t n,
				 hb_error *e)
{
	sq_store *s = (sq_store *)base;
	hb_err rc = HB_OK;
	size_t i = 0;
	while (!rc && i < n) {
		size_t plain = 0; /* values to store (not to clear) from i on, up to a statement's */
		while (plain < BULK_ROWS && i + plain < n && xv[i + plain].value.type != HB_TYPE_NULL)
			plain++;
		if (plain < BULK_ROWS) { /* a short run, or a value to clear: one at a time */
			rc = xvalue_set_one(base, t, &xv[i++], e);
			continue;
		}
		sqlite3_stmt *st;
		char ts[BULK_ROWS][HB_TIME_STR_MAX];
		rc = xvalue_bulk_stmt(s, t, &st, e);
		for (size_t k = 0; !rc && k < BULK_ROWS; k++)
			bind_xvalue(st, 1 + 6 * (int)k, &xv[i + k], ts[k]);
		if (!rc)
			rc = run_done(s, st, "storing External Data values", e);
		if (rc == HB_ERR_CONFLICT) { /* a record or field gone: the statement wrote nothing */
			rc = HB_OK;
			for (size_t k = 0; !rc && k < BULK_ROWS; k++)
				rc = xvalue_set_one(base, t, &xv[i + k], e);
		}
		i += BULK_ROWS;
	}
	return rc;
}

static hb_err sq_xvalue_list(hb_store *base, hb_target t, int64_t record_id, hb_xvalue_fn fn,
			     void *ud, hb_error *e)
{
	sq_store *s = (sq_store *)base;
	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT field_id, v_int, v_text, set_at, source FROM %s WHERE record_id = ?",
		 xvalue_tables[t]);
	sqlite3_stmt *st;
	hb_err rc = stmt_get(s, sql, &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, record_id);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		hb_xvalue xv = {.field_id = sqlite3_column_int64(st, 0), .record_id = record_id};
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			xv.value = hb_value_int(sqlite3_column_int64(st, 1));
		else if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			xv.value = hb_value_strn((const char *)sqlite3_column_text(st, 2),
						 (size_t)sqlite3_column_bytes(st, 2));
		const char *at = (const char *)sqlite3_column_text(st, 3);
		if (at)
			hb_time_parse(at, strlen(at), &xv.set_at);
		xv.source = (const char *)sqlite3_column_text(st, 4);
		rc = fn(ud, &xv, e);
		if (rc)
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(s, e, "reading External Data");
	sqlite3_reset(st);
	return rc;
}

static hb_err sq_run_counts_add(hb_store *base, int64_t run_id, const int64_t delta[HB_DS_COUNT],
				hb_error *e)
{
	sq_store *s = (sq_store *)base;
	sqlite3_stmt *st;
	hb_err rc = stmt_get(s, "INSERT INTO run_counts (run_id, waiting, pending, sending, succeeded,"
				" failed, skipped) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
				" ON CONFLICT (run_id) DO UPDATE SET waiting = waiting + ?2,"
				" pending = pending + ?3, sending = sending + ?4,"
				" succeeded = succeeded + ?5, failed = failed + ?6, skipped = skipped + ?7",
			     &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	for (int i = 0; i < HB_DS_COUNT; i++)
		sqlite3_bind_int64(st, i + 2, delta[i]);
	return run_done(s, st, "counting a run's deliveries", e);
}

/* One claimed delivery, as the engine reads it. */
typedef struct claimed {
	int64_t id, run_id, record_id, position, attempts;
	bool was_pending;
} claimed;

static hb_err sq_delivery_claim(hb_store *base, int64_t now_ms, int64_t lease_until_ms, size_t max,
				hb_row_fn fn, void *ud, hb_error *e)
{
	sq_store *s = (sq_store *)base;
	const hb_kind *k = hb_kind_get(HB_K_DELIVERY);
	/* First the due deliveries, all read before any changes: the partial index deliveries_due
	   holds exactly the pending and sending ones, in due order (without the hint the planner
	   would sort every pending row); of those being sent, only a lapsed lease is taken. Then
	   each stretch is marked, which needs no temporary table, unlike an UPDATE … WHERE id IN
	   (SELECT …) RETURNING. */
	sqlite3_stmt *st = NULL;
	hb_err rc = stmt_get(s, "SELECT id, run_id, record_id, position, attempts, status = 'pending'"
				" FROM deliveries INDEXED BY deliveries_due"
				" WHERE due_at > 0 AND due_at <= ?1"
				" AND (status = 'pending' OR lease_until <= ?1)"
				" ORDER BY due_at LIMIT ?2",
			     &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	claimed *got = hb_calloc(max ? max : 1, sizeof *got);
	size_t n = 0;
	int step;
	while (n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
		claimed *c = &got[n++];
		c->id = sqlite3_column_int64(st, 0);
		c->run_id = sqlite3_column_int64(st, 1);
		c->record_id = sqlite3_column_int64(st, 2);
		c->position = sqlite3_column_int64(st, 3);
		c->attempts = sqlite3_column_int64(st, 4);
		c->was_pending = sqlite3_column_int(st, 5) != 0;
	}
	if (n < max && step != SQLITE_DONE)
		rc = db_fail(s, e, "claiming deliveries");
	sqlite3_reset(st);
	char now[HB_TIME_STR_MAX];
	hb_time_format(now_ms / 1000, now);
	/* each stretch of consecutive ids (a new run's deliveries come out so) with one UPDATE:
	   read in this write transaction, every id in the stretch is one just read */
	if (!rc)
		rc = stmt_get(s, "UPDATE deliveries SET status = 'sending', lease_until = ?3,"
				 " updated_at = ?4 WHERE id BETWEEN ?1 AND ?2 AND due_at > 0",
			      &st, e);
	hb_tally moves = {0};
	for (size_t i = 0, j; i < n && !rc; i = j) {
		for (j = i + 1; j < n && got[j].id == got[j - 1].id + 1;)
			j++;
		sqlite3_bind_int64(st, 1, got[i].id);
		sqlite3_bind_int64(st, 2, got[j - 1].id);
		sqlite3_bind_int64(st, 3, lease_until_ms);
		sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
		rc = run_done(s, st, "claiming deliveries", e);
		if (!rc && (size_t)sqlite3_changes(s->db) != j - i)
			rc = hb_fail(e, HB_ERR_INTERNAL, "",
				     "claiming deliveries: %d of %zu changed (the claim must run in a"
				     " transaction)", sqlite3_changes(s->db), j - i);
		for (size_t m = i; m < j; m++)
			if (got[m].was_pending) /* a lease that ran out leaves its delivery 'sending' */
				hb_tally_move(&moves, got[m].run_id, HB_DS_PENDING, HB_DS_SENDING);
	}
	if (!rc)
		rc = hb_tally_write(&moves, base, e);
	hb_tally_free(&moves);
	hb_row *row = hb_row_new(k);
	hb_row_set_str(row, "status", "sending");
	hb_row_set_int(row, "lease_until", lease_until_ms);
	static const char *const cols[] = {"id", "run_id", "record_id", "position", "attempts"};
	int at[5];
	for (size_t i = 0; i < 5; i++)
		at[i] = hb_kind_col(k, cols[i]);
	for (size_t i = 0; i < n && !rc; i++) {
		row->v[at[0]] = hb_value_int(got[i].id);
		row->v[at[1]] = hb_value_int(got[i].run_id);
		row->v[at[2]] = hb_value_int(got[i].record_id);
		row->v[at[3]] = hb_value_int(got[i].position);
		row->v[at[4]] = hb_value_int(got[i].attempts);
		rc = fn(ud, row, e);
	}
	hb_row_free(&row);
	free(got);
	return rc;
}

static hb_err sq_delivery_release(hb_store *base, int64_t now_ms, int64_t *n, hb_error *e)
{
	sq_store *s = (sq_store *)base;
	sqlite3_stmt *st;
	*n = 0;
	/* through the due index, which holds only pending and sending deliveries */
	hb_err rc = stmt_get(s, "UPDATE deliveries INDEXED BY deliveries_due SET status = 'pending',"
				" due_at = ?1, lease_until = NULL WHERE due_at > 0 AND status = 'sending'"
				" RETURNING run_id",
			     &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, now_ms);
	hb_tally moves = {0};
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		(*n)++;
		hb_tally_move(&moves, sqlite3_column_int64(st, 0), HB_DS_SENDING, HB_DS_PENDING);
	}
	if (step != SQLITE_DONE)
		rc = db_fail(s, e, "releasing deliveries");
	sqlite3_reset(st);
	if (!rc)
		rc = hb_tally_write(&moves, base, e);
	hb_tally_free(&moves);
	if (rc)
		*n = 0;
	return rc;
}

/* A run's counts by state into n (all zero for a run with no deliveries). */
static hb_err read_counts(sq_store *s, int64_t run_id, int64_t n[HB_DS_COUNT], hb_error *e)
{
	sqlite3_stmt *st;
	hb_err rc = stmt_get(s, "SELECT waiting, pending, sending, succeeded, failed, skipped"
				" FROM run_counts WHERE run_id = ?1", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	int step = sqlite3_step(st);
	for (int i = 0; i < HB_DS_COUNT; i++)
		n[i] = step == SQLITE_ROW ? sqlite3_column_int64(st, i) : 0;
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = db_fail(s, e, "counting a run's deliveries");
	sqlite3_reset(st);
	return rc;
}

static hb_err sq_delivery_counts(hb_store *base, int64_t run_id,
				 void (*fn)(void *ud, const char *status, int64_t n), void *ud,
				 hb_error *e)
{
	int64_t n[HB_DS_COUNT];
	hb_err rc = read_counts((sq_store *)base, run_id, n, e);
	for (int i = 0; i < HB_DS_COUNT && !rc; i++)
		if (n[i])
			fn(ud, hb_dstate_names[i], n[i]);
	return rc;
}

static hb_err sq_delivery_open(hb_store *base, int64_t run_id, bool *open, hb_error *e)
{
	int64_t n[HB_DS_COUNT];
	hb_err rc = read_counts((sq_store *)base, run_id, n, e);
	*open = !rc && n[HB_DS_WAITING] + n[HB_DS_PENDING] + n[HB_DS_SENDING] > 0;
	return rc;
}

static hb_err sq_delivery_failed(hb_store *base, int64_t since, hb_row_fn fn, void *ud,
				 hb_error *e)
{
	sq_store *s = (sq_store *)base;
	const hb_kind *k = hb_kind_get(HB_K_DELIVERY);
	hb_buf sql;
	hb_buf_init(&sql, 4096);
	/* ORDER BY id sorts the whole set before the first row is handed out, so fn may change
	   the rows the index holds */
	hb_err rc = hb_buf_adds(&sql, "SELECT ");
	if (!rc)
		rc = add_columns(&sql, k, 0);
	if (!rc)
		rc = hb_buf_adds(&sql, " FROM deliveries INDEXED BY deliveries_failed"
				       " WHERE +status = 'failed' AND updated_at >= ?1 ORDER BY id");
	sqlite3_stmt *st = NULL;
	if (!rc)
		rc = stmt_get(s, hb_buf_str(&sql), &st, e);
	hb_buf_free(&sql);
	if (rc)
		return rc;
	char at[HB_TIME_STR_MAX];
	sqlite3_bind_text(st, 1, hb_time_format(since, at), -1, SQLITE_TRANSIENT);
	return step_rows(s, st, k, 0, fn, ud, "reading failed deliveries", e);
}

static hb_err sq_delivery_backlog(hb_store *base, int64_t now_ms, int64_t *due, int64_t *later,
				  hb_error *e)
{
	sq_store *s = (sq_store *)base;
	sqlite3_stmt *st;
	/* through the due index, which holds only pending and sending deliveries */
	hb_err rc = stmt_get(s, "SELECT coalesce(sum(due_at <= ?1), 0), coalesce(sum(due_at > ?1), 0)"
				" FROM deliveries INDEXED BY deliveries_due"
				" WHERE due_at > 0 AND status = 'pending'", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, now_ms);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(s, e, "counting the delivery queue");
	} else {
		*due = sqlite3_column_int64(st, 0);
		*later = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc;
}

static void sq_close(hb_store *base)
{
	sq_store *s = (sq_store *)base;
	for (size_t i = 0; i < s->ncached; i++) {
		sqlite3_finalize(s->cache[i].stmt);
		free(s->cache[i].sql);
	}
	for (size_t i = 0; i < HB_K__COUNT; i++) {
		sqlite3_finalize(s->insert[i]);
		sqlite3_finalize(s->insert_bulk[i]);
	}
	for (size_t i = 0; i < sizeof s->xvalue_bulk / sizeof s->xvalue_bulk[0]; i++)
		sqlite3_finalize(s->xvalue_bulk[i]);
	for (size_t i = 0; i < sizeof s->texts / sizeof s->texts[0]; i++)
		free(s->texts[i].sql);
	hb_checkpointer_detach(&s->checkpointer, s->db);
	sqlite3_close(s->db);
	free(s);
}

static hb_err migrate(sq_store *s, hb_error *e)
{
	sqlite3_stmt *st;
	int version = 0;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, e, "reading the schema version");
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > hb_sqlite_nmigrations)
		return hb_fail(e, HB_ERR_VERSION, "db",
			       "%s was written by a newer hookbridge (schema version %d; this one "
			       "knows up to %d): upgrade hookbridge to open it",
			       s->path, version, hb_sqlite_nmigrations);
	for (int v = version + 1; v <= hb_sqlite_nmigrations; v++) {
		char bump[64];
		snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v);
		hb_err rc = sq_exec(s, "BEGIN IMMEDIATE", e);
		if (!rc)
			rc = sq_exec(s, hb_sqlite_migrations[v], e);
		if (!rc)
			rc = sq_exec(s, bump, e);
		if (!rc)
			rc = sq_exec(s, "COMMIT", e);
		if (rc) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			hb_error_prefix(e, "applying schema migration %d", v);
			return rc;
		}
	}
	return HB_OK;
}

hb_err hb_sqlite_open(const char *path, bool create, hb_store **out, hb_error *e)
{
	struct stat sb;
	*out = NULL;
	if (!create && stat(path, &sb) != 0)
		return hb_fail(e, HB_ERR_NOT_FOUND, "db",
			       "no database at %s (create one with: hookbridge --db %s init)", path, path);
	hb_sqlite_mem_setup();
	sq_store *s = hb_calloc(1, sizeof *s);
	s->base.ops = &sqlite_ops;
	snprintf(s->path, sizeof s->path, "%s", path);
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
	hb_err rc;
	if (sqlite3_open_v2(path, &s->db, flags, hb_sqlite_vfs()) != SQLITE_OK) {
		rc = hb_fail(e, HB_ERR_IO, "db", "cannot open database %s: %s", path,
			     s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	rc = sq_exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
			" PRAGMA foreign_keys = ON;", e);
	if (rc) {
		hb_error_prefix(e, "cannot use %s as a hookbridge database", path);
		goto fail;
	}
	/* The log is copied back into the database (a checkpoint, with two fsyncs) by a thread of
	   its own, once it holds 4,096 pages, 16 MiB, instead of SQLite's 1,000: a page written
	   again and again (the deliveries and the indexes a batch of outcomes touches) is copied
	   once per checkpoint, and no transaction waits on the fsyncs. */
	s->checkpointer = hb_checkpointer_attach(s->db, path, CHECKPOINT_PAGES);
	rc = migrate(s, e);
	if (rc)
		goto fail;
	*out = &s->base;
	return HB_OK;
fail:
	sq_close(&s->base);
	return rc;
}

struct sqlite3 *hb_sqlite_handle(hb_store *base)
{
	return ((sq_store *)base)->db;
}

static const hb_store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.begin = sq_begin,
	.begin_read = sq_begin_read,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.step_begin = sq_step_begin,
	.step_end = sq_step_end,
	.insert = sq_insert,
	.insert_many = sq_insert_many,
	.update = sq_update,
	.update_cols = sq_update_cols,
	.update_cols_many = sq_update_cols_many,
	.remove = sq_remove,
	.find = sq_find,
	.read = sq_read,
	.list = sq_list,
	.count = sq_count,
	.exists = sq_exists,
	.xvalue_set = sq_xvalue_set,
	.xvalue_set_many = sq_xvalue_set_many,
	.xvalue_list = sq_xvalue_list,
	.run_counts_add = sq_run_counts_add,
	.delivery_claim = sq_delivery_claim,
	.delivery_release = sq_delivery_release,
	.delivery_counts = sq_delivery_counts,
	.delivery_open = sq_delivery_open,
	.delivery_failed = sq_delivery_failed,
	.delivery_backlog = sq_delivery_backlog,
	.query = hb_sqlite_query,
};
