/*
 * filter.h - the filter language of SPEC §7: an expression over Data Engine paths that chooses
 * users or feedback tickets, e.g.
 *
 *     external.shipping.is_valid = false and user.country in ("US", "CA")
 *
 * DESIGN. Two steps. hb_filter_parse reads the text against a catalogue (engine/catalog.h) and
 * gives a typed tree: every path known, every literal of its path's type, errors with line and
 * column. hb_filter_compile then resolves each path to where it is stored (a column of the
 * record or of a record it refers to, or an External Data field id) and gives an hb_query
 * (store/store.h), which each back end turns into one parameterized statement. No text of the
 * filter ever becomes SQL: literals travel as bound values. docs/filters.md is the reference.
 */
#ifndef HB_QUERY_FILTER_H
#define HB_QUERY_FILTER_H

#include "engine/catalog.h"
#include "model/model.h"

#define HB_FILTER_MAX_TEXT 16384 /* longest filter text accepted */
#define HB_FILTER_MAX_NODES 1000 /* most comparisons and operators in one filter */

/* One node of a parsed filter: and/or/not over kids, or a comparison of path with vals. */
typedef struct hb_fexpr {
	hb_qop op;
	const hb_path_info *path; /* comparisons; owned by the catalogue */
	hb_value *vals;           /* literals of the path's type */
	size_t nvals;
	struct hb_fexpr *kids;    /* and / or: nkids, not: 1 */
	size_t nkids;
	int line, col;            /* where it starts in the text (1-based) */
} hb_fexpr;

typedef struct hb_fparse hb_fparse;

/* Parse text[0..len) against cat. On success *out (owned by the caller, hb_fparse_free) holds
   the tree; on failure e says what and where ("line 1, column 5: …"), code HB_ERR_INVALID.
   Relative times (now - 7d) are taken from now_s. */
hb_err hb_filter_parse(const hb_catalog *cat, const char *text, size_t len, int64_t now_s,
		       hb_fparse **out, hb_error *e) HB_MUST_USE;
const hb_fexpr *hb_fparse_root(const hb_fparse *p);
void hb_fparse_free(hb_fparse **p);
/* The tree in a canonical prefix form, e.g. (and (= user.country "US") (empty x.y.z)), into a
   new string owned by the caller: for tests and `filter show`. */
char *hb_fexpr_describe(const hb_fexpr *x);

/* A filter compiled for the records of one scope. */
typedef struct hb_filter hb_filter;

/* Compile text for records of target (users or feedback) in c's community, within project
   (0 = community level: every user, every ticket). An empty text chooses every record.
   Caller owns *out (hb_filter_free). */
hb_err hb_filter_compile(hb_ctx *c, hb_target target, int64_t project_id, const char *text,
			 size_t len, hb_filter **out, hb_error *e) HB_MUST_USE;
void hb_filter_free(hb_filter **f);
/* The query the filter stands for, owned by f; copy it to set paging or grouping. */
const hb_query *hb_filter_query(const hb_filter *f);
/* The catalogue paths were checked against (owned by f), for views and reports. */
const hb_catalog *hb_filter_catalog(const hb_filter *f);
/* Resolve one catalogue path (a view column, a report's group) to where it is stored, adding
   the relation it needs to f's query. */
hb_err hb_filter_field(hb_filter *f, const char *path, hb_qfield *out, hb_error *e) HB_MUST_USE;

/* Called with the next ids (ascending) of the records a filter matches; the store is idle
   during the call, so it may read and write. */
typedef hb_err (*hb_filter_ids_fn)(void *ud, const int64_t *ids, size_t n, hb_error *e);
/* Every record id f matches, in id order, batch ids at a time (batch 0: 1000). The matches
   are chosen once, before the first call (later changes do not add or drop any); f's query
   paging (after_id, limit) applies. */
hb_err hb_filter_each_batch(hb_ctx *c, const hb_filter *f, size_t batch, hb_filter_ids_fn fn,
			    void *ud, hb_error *e) HB_MUST_USE;
/* The same from filter text: compile for target and project, then hand over ids in batches.
   A bad filter is HB_ERR_INVALID with line and column, before any id is handed over. */
hb_err hb_filter_ids(hb_ctx *c, hb_target target, int64_t project_id, const char *text,
		     size_t batch, hb_filter_ids_fn fn, void *ud, hb_error *e) HB_MUST_USE;

#endif
