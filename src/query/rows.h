/*
 * rows.h - the values of a few catalogue paths (the columns of a view) for a batch of records,
 * read with a handful of statements instead of several per record. Exports (query/package.h)
 * and the filtered listings of the command line read their rows through it.
 *
 * DESIGN. Each path is resolved once through the filter (hb_filter_field) to where it is
 * stored: a column of the record, of a record it refers to (a reference shows the referenced
 * record's key or email), of the community or project, or an External Data value. A batch of
 * ascending ids is then read with ONE store query per path: the filter's own scope and
 * relations, restricted to the batch's id range (when the batch is dense) or to `id IN (its
 * ids)` (when it is sparse), and grouped by (record id, that path), so
 * each group is one record and its key is the value (the relations and External Data joins
 * are the store's, as for reports). A path that cannot be read that
 * way (a ticket number shown as EXA-0001, now, macro.*, run.*) makes the whole reader load
 * record by record through the Data Engine's loader (model/tagctx.h) instead, which gives
 * the same values more slowly. Either way a batch is read in one read transaction, and its
 * strings are copied into one buffer, so memory is one batch, whatever the record count.
 */
#ifndef HB_QUERY_ROWS_H
#define HB_QUERY_ROWS_H

#include "model/tagctx.h"
#include "query/filter.h"

#define HB_ROWS_BATCH 500               /* records a batch usually holds */
#define HB_ROWS_TEXT_MAX (64 * 1024 * 1024) /* text of one batch's values */

typedef struct hb_rows hb_rows;

/* A reader of the n paths (each in the catalogue of tags; f and tags for the same records and
   project) over records f chooses. f gains the relations the paths need. Caller owns *out
   (hb_rows_free); f and tags must outlive it. */
hb_err hb_rows_new(hb_ctx *c, hb_filter *f, hb_tagctx *tags, const char *const *paths, size_t n,
		   hb_rows **out, hb_error *e) HB_MUST_USE;
void hb_rows_free(hb_rows **r);
/* Whether batches are read path by path (false: record by record). */
bool hb_rows_batched(const hb_rows *r);
/* Read the records ids[0..n) (ascending) in one read transaction, unless a transaction is
   open already (in_tx says so). A record that no longer exists is HB_ERR_NOT_FOUND. */
hb_err hb_rows_load(hb_rows *r, const int64_t *ids, size_t n, bool in_tx, hb_error *e)
	HB_MUST_USE;
/* The values of the i-th record of the last load, one per path, in order (strings valid until
   the next load). */
const hb_value *hb_rows_at(const hb_rows *r, size_t i);

#endif
