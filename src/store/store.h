/*
 * store.h - the narrow interface between hookbridge and its database.
 *
 * DESIGN. A back end is a table of function pointers (hb_store_ops) chosen once, by
 * hb_store_open, from the database address: a file path means SQLite, "postgresql://…" means
 * PostgreSQL. Records travel as hb_row values of a described kind (model/kind.h); each back end
 * builds its statements from the descriptors, prepares them once and binds every value, so no
 * SQL dialect and no text from users ever crosses this line. Callers group work in
 * transactions with begin/commit; a failed command rolls back and leaves nothing half-written.
 */
#ifndef HB_STORE_STORE_H
#define HB_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "model/row.h"

typedef struct hb_store hb_store;

/* One equality condition: column `col` of the kind = value (a null value means IS NULL). */
typedef struct hb_cond {
	int col;
	hb_value value;
} hb_cond;

typedef struct hb_list_opts {
	const hb_cond *conds;
	size_t nconds;
	int64_t after_id; /* only rows with id > after_id (cursor paging) */
	size_t limit;     /* 0 = no limit */
	uint64_t cols;    /* read only these columns (bit i = column i; columns past the 64th are
			     always read), the others are null; 0 = every column */
} hb_list_opts;

/* Called once per row of a list; the row's strings are valid only during the call. A
   non-OK return stops the list and is returned by it. */
typedef hb_err (*hb_row_fn)(void *ud, const hb_row *row, hb_error *e);

/* What an External Data value is stored against. */
typedef enum hb_target { HB_TARGET_USERS, HB_TARGET_FEEDBACK, HB_TARGET_PROJECTS } hb_target;

typedef struct hb_xvalue {
	int64_t field_id;
	int64_t record_id;
	hb_value value;     /* null = no value */
	int64_t set_at;
	const char *source; /* which delivery, listener or person set it; may be NULL */
} hb_xvalue;

typedef hb_err (*hb_xvalue_fn)(void *ud, const hb_xvalue *xv, hb_error *e);

/* A delivery's states, in the order of a run's counts. */
typedef enum hb_dstate {
	HB_DS_WAITING,
	HB_DS_PENDING,
	HB_DS_SENDING,
	HB_DS_SUCCEEDED,
	HB_DS_FAILED,
	HB_DS_SKIPPED,
	HB_DS_COUNT
} hb_dstate;
extern const char *const hb_dstate_names[HB_DS_COUNT];
/* The state called name; HB_DS_COUNT when there is none. */
hb_dstate hb_dstate_of(const char *name);

/* Changes of state of deliveries, added up per run, then written to the runs' counts at once
   (run_counts_add below): a batch of outcomes or a claim touches few runs. */
typedef struct hb_tally_run {
	int64_t run_id;
	int64_t delta[HB_DS_COUNT];
} hb_tally_run;
typedef struct hb_tally {
	hb_tally_run *runs;
	size_t n, cap;
} hb_tally;
/* Count one delivery of run_id moving from one state to another (from == HB_DS_COUNT: a new
   delivery; to == HB_DS_COUNT: one deleted). */
void hb_tally_move(hb_tally *t, int64_t run_id, hb_dstate from, hb_dstate to);
/* Write what t has counted in the open transaction, and empty it. */
hb_err hb_tally_write(hb_tally *t, hb_store *s, hb_error *e) HB_MUST_USE;
void hb_tally_free(hb_tally *t);

/* ---- Queries: the records a compiled filter chooses (query/filter.h builds these). ----
   A query names stored things only by descriptor (kind, column index) or External Data field
   id; each back end turns it into one parameterized statement of its own dialect. */

/* A record the chosen record refers to (a ticket's submitter or project), or one fixed record
   (the community, the project a user list is scoped to). */
typedef struct hb_qrel {
	const hb_kind *kind;
	int via;    /* column of the chosen record holding the id, or -1: the record `id` below */
	int64_t id;
} hb_qrel;

/* Where a value is read from. */
typedef struct hb_qfield {
	int rel;            /* 0: the chosen record; n > 0: hb_query.rels[n - 1] */
	int col;            /* column of that record's kind, or -1: an External Data value */
	int64_t xfield;     /* with col < 0: the External Data field id … */
	hb_target xtarget;  /* … and what its values are stored against */
	hb_type type;       /* type of the values (a boolean column is HB_TYPE_BOOL) */
} hb_qfield;

typedef enum hb_qop {
	HB_Q_ALL,       /* every record */
	HB_Q_NONE,      /* no record */
	HB_Q_AND,
	HB_Q_OR,
	HB_Q_NOT,
	HB_Q_EQ,
	HB_Q_NE,
	HB_Q_LT,
	HB_Q_LE,
	HB_Q_GT,
	HB_Q_GE,
	HB_Q_IN,        /* equal to one of vals */
	HB_Q_CONTAINS,  /* text holds vals[0], ignoring ASCII case */
	HB_Q_STARTS,    /* text starts with vals[0], ignoring ASCII case */
	HB_Q_EMPTY,     /* no value (or empty text) */
	HB_Q_NOT_EMPTY,
} hb_qop;

/* One node of a filter. A comparison never matches a record without a value (empty), and
   `not` is plain negation of what matched: two-valued logic throughout. */
typedef struct hb_qnode {
	hb_qop op;
	hb_qfield field;            /* comparisons */
	const hb_value *vals;       /* the literal(s), of field.type; bound, never pasted */
	size_t nvals;
	const struct hb_qnode *kids; /* and / or: nkids operands; not: one */
	size_t nkids;
} hb_qnode;

typedef enum hb_qbucket { HB_QB_NONE, HB_QB_DAY, HB_QB_WEEK, HB_QB_MONTH } hb_qbucket;

#define HB_QUERY_MAX_GROUP 2

typedef struct hb_query {
	const hb_kind *kind;         /* the records chosen (users or feedback tickets) */
	const hb_cond *conds;        /* equality conditions on them (community, project) */
	size_t nconds;
	/* When member is set: only records that have a row of `member` whose column member_col
	   holds their id and that meets member_conds (users taking part in a project). */
	const hb_kind *member;
	int member_col;
	const hb_cond *member_conds;
	size_t nmember_conds;
	const hb_qrel *rels;
	size_t nrels;
	const hb_qnode *where;       /* NULL: every record */
	/* Grouping: with ngroup or bucket set, rows are groups with counts instead of ids. */
	hb_qfield group[HB_QUERY_MAX_GROUP];
	size_t ngroup;
	hb_qbucket bucket;           /* per day, week (from Monday) or month of bucket_field */
	hb_qfield bucket_field;
	int64_t after_id;            /* ids only: records with id > after_id */
	size_t limit;                /* ids only: 0 = no limit */
} hb_query;

/* One answer of a query: a record id, or a group (keys in the order bucket, group[0], group[1];
   a bucket key is the time its period starts; a null key collects records without a value). */
typedef struct hb_qrow {
	int64_t id;
	const hb_value *keys; /* strings valid only during the call */
	size_t nkeys;
	int64_t count;
} hb_qrow;

typedef hb_err (*hb_qrow_fn)(void *ud, const hb_qrow *row, hb_error *e);

typedef struct hb_store_ops {
	const char *name;
	void (*close)(hb_store *s);
	/* Transactions; begin takes the write lock at once so a transaction never fails half-way
	   for lack of it. */
	hb_err (*begin)(hb_store *s, hb_error *e);
	/* A read-only transaction: many reads see one snapshot and share one lock (end it with
	   commit). Inside a transaction already open it joins that one. */
	hb_err (*begin_read)(hb_store *s, hb_error *e);
	hb_err (*commit)(hb_store *s, hb_error *e);
	void (*rollback)(hb_store *s);
	/* A step inside an open transaction that may fail alone: mark where it starts, then end
	   it keeping its writes, or undoing them and nothing else (SQL savepoints). */
	hb_err (*step_begin)(hb_store *s, hb_error *e);
	hb_err (*step_end)(hb_store *s, bool keep, hb_error *e);
	/* Insert row (its id is ignored) and set its id. A duplicate is HB_ERR_CONFLICT. */
	hb_err (*insert)(hb_store *s, hb_row *row, hb_error *e);
	/* Insert n rows of one kind, many per statement (for batches: a statement costs about as
	   much as two rows); their ids are ignored and not set. On failure some may be written:
	   use it inside a transaction. */
	hb_err (*insert_many)(hb_store *s, hb_row *const *rows, size_t n, hb_error *e);
	/* Write every column of row to the record with row's id; HB_ERR_NOT_FOUND if none. */
	hb_err (*update)(hb_store *s, const hb_row *row, hb_error *e);
	/* The same, writing only the n columns cols (indexes into the kind's columns), and only if
	   the record also matches expect when it is not NULL: HB_ERR_NOT_FOUND when it does not. */
	hb_err (*update_cols)(hb_store *s, const hb_row *row, const int *cols, size_t n,
			      const hb_cond *expect, hb_error *e);
	/* The same for the records with the nids (distinct) ids, many per statement (row gives the
	   values; its id is ignored), all or none: only if every one matches expect, which *all
	   says. On failure some may be written: use it inside a transaction. */
	hb_err (*update_cols_many)(hb_store *s, const hb_row *row, const int *cols, size_t n,
				   const hb_cond *expect, const int64_t *ids, size_t nids, bool *all,
				   hb_error *e);
	/* Delete by id; HB_ERR_NOT_FOUND if none, HB_ERR_CONFLICT if other records need it. */
	hb_err (*remove)(hb_store *s, const hb_kind *k, int64_t id, hb_error *e);
	/* The first record (lowest id) matching all conditions, copied into out (owned). */
	hb_err (*find)(hb_store *s, const hb_kind *k, const hb_cond *conds, size_t n, hb_row *out,
		       hb_error *e);
	/* Record id of kind k into out (owned), reading only the columns in cols as in
	   hb_list_opts (0 = every column); HB_ERR_NOT_FOUND if none. */
	hb_err (*read)(hb_store *s, const hb_kind *k, int64_t id, uint64_t cols, hb_row *out,
		       hb_error *e);
	/* Every matching record in id order, handed to fn. */
	hb_err (*list)(hb_store *s, const hb_kind *k, const hb_list_opts *o, hb_row_fn fn, void *ud,
		       hb_error *e);
	hb_err (*count)(hb_store *s, const hb_kind *k, const hb_cond *conds, size_t n, int64_t *out,
			hb_error *e);
	/* Whether any record matches all conditions (cheaper than counting them). */
	hb_err (*exists)(hb_store *s, const hb_kind *k, const hb_cond *conds, size_t n, bool *out,
			 hb_error *e);
	/* Store one External Data value (a null value deletes it). A record or field that does not
	   exist is HB_ERR_CONFLICT. */
	hb_err (*xvalue_set)(hb_store *s, hb_target t, const hb_xvalue *xv, hb_error *e);
	/* Store n values in order as xvalue_set would, many per statement; a value whose record
	   or field no longer exists is left out (the others are stored). */
	hb_err (*xvalue_set_many)(hb_store *s, hb_target t, const hb_xvalue *xv, size_t n,
				  hb_error *e);
	/* Every External Data value of one record. */
	hb_err (*xvalue_list)(hb_store *s, hb_target t, int64_t record_id, hb_xvalue_fn fn, void *ud,
			      hb_error *e);
	/* The delivery engine's queue (deliveries are rows of kind HB_K_DELIVERY).
	   A run's deliveries are counted by state (delivery_counts): a write that changes a
	   delivery's status says so in the same transaction (through an hb_tally, which calls
	   run_counts_add), except claim and release, which count their own. Adds delta[state] to
	   the run's counts. */
	hb_err (*run_counts_add)(hb_store *s, int64_t run_id, const int64_t delta[HB_DS_COUNT],
				 hb_error *e);
	/* Claim up to max deliveries due at now_ms — pending ones, and ones being sent whose
	   lease has run out — marking each 'sending' with a lease until lease_until_ms; fn gets
	   each claimed row (its id, run_id, record_id, position, attempts, status and lease_until:
	   the rest is not read). Inside a transaction (begin). */
	hb_err (*delivery_claim)(hb_store *s, int64_t now_ms, int64_t lease_until_ms, size_t max,
				 hb_row_fn fn, void *ud, hb_error *e);
	/* Make every delivery being sent due at once (*n gets how many): for a single node that
	   restarts, everything marked 'sending' was in flight when it stopped. */
	hb_err (*delivery_release)(hb_store *s, int64_t now_ms, int64_t *n, hb_error *e);
	/* A run's deliveries by status: fn gets each status present and its count (one row read,
	   whatever the run's size). */
	hb_err (*delivery_counts)(hb_store *s, int64_t run_id,
				  void (*fn)(void *ud, const char *status, int64_t n), void *ud,
				  hb_error *e);
	/* Whether a run still has deliveries waiting, pending or being sent. */
	hb_err (*delivery_open)(hb_store *s, int64_t run_id, bool *open, hb_error *e);
	/* Failed deliveries last changed at or after since (Unix seconds), in id order; they are
	   all read before fn gets the first, so fn may change them. */
	hb_err (*delivery_failed)(hb_store *s, int64_t since, hb_row_fn fn, void *ud, hb_error *e);
	/* How many pending deliveries are due at now_ms, and how many later (retries waiting). */
	hb_err (*delivery_backlog)(hb_store *s, int64_t now_ms, int64_t *due, int64_t *later,
				   hb_error *e);
	/* The records q chooses, in id order (or its groups, in key order), handed to fn. */
	hb_err (*query)(hb_store *s, const hb_query *q, hb_qrow_fn fn, void *ud, hb_error *e);
} hb_store_ops;

/* Every back end's store begins with its ops table. */
struct hb_store {
	const hb_store_ops *ops;
};

/* Open (creating when asked) the database at address, applying migrations. Refuses a database
   written by a newer hookbridge. Caller owns *out (hb_store_close). */
hb_err hb_store_open(const char *address, bool create, hb_store **out, hb_error *e) HB_MUST_USE;
void hb_store_close(hb_store **s);

/* The schema version this build writes. */
#define HB_SCHEMA_VERSION 9

/* Back ends (one file each). */
hb_err hb_sqlite_open(const char *path, bool create, hb_store **out, hb_error *e);

#endif
