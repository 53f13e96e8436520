/*
 * package.h - data packages and exports (SPEC §6): rows chosen by a filter, columns by a view,
 * written as paged JSON or RFC 4180 CSV. A data package is a saved (key, name, on, project,
 * filter, view, format), an ordinary described kind (HB_K_PACKAGE) written through the model;
 * an export is what serves it, and also serves record lookups and filtered lists in a view.
 * Shared by the command line (`package …`) and the API (data-packages, lookup).
 *
 * DESIGN. An export compiles its filter once and resolves its columns against the catalogue
 * of its records (model/tagctx.h). Selecting runs the store's query op once and keeps only
 * the matching ids (8 bytes a row); rows are then read a batch at a time (query/rows.h) while
 * no statement is open and written through a caller's function. A CSV stream
 * (hb_export_csv_stream, hb_export_csv_next) keeps no ids at all: each step chooses the next
 * batch of matches after the last id written and reads their rows in the same read
 * transaction, so its memory is one batch whatever the number of rows. The JSON document is
 *
 *     {"paging": {"total_pages", "current_page", "page_size", "total_results"},
 *      "fields": [{"name", "path", "type"}], "data": [{name: value, …}, …]}
 *
 * and the CSV has one header row of field names, then one row per record, CRLF line ends.
 */
#ifndef HB_QUERY_PACKAGE_H
#define HB_QUERY_PACKAGE_H

#include "core/buf.h"
#include "query/saved.h"

#define HB_PACKAGE_PAGE_DEFAULT 100  /* rows a JSON page holds when none is asked (API) */
#define HB_PACKAGE_PAGE_MAX 10000    /* largest page size accepted */

typedef struct hb_export hb_export;

/* Prepare an export of target's records within project_id (0 = community level). filter is an
   expression, "@KEY" of a saved filter (for the same records and project or community level),
   or NULL/"" for every record; view is a saved view's key for the same records, or NULL for
   the record's own fields and its External Data. Caller owns *out (hb_export_free). */
hb_err hb_export_new(hb_ctx *c, hb_target target, int64_t project_id, const char *filter,
		     const char *view, hb_export **out, hb_error *e) HB_MUST_USE;
void hb_export_free(hb_export **x);
/* The columns as JSON: [{"name", "path", "type"}] (new reference). */
json_t *hb_export_fields_json(const hb_export *x);

/* Choose the rows: records with id > after_id, at most limit of them (0 = all), id order.
   Replaces any earlier selection. */
hb_err hb_export_select(hb_export *x, int64_t after_id, size_t limit, hb_error *e) HB_MUST_USE;
/* Choose one record by id (a lookup); HB_ERR_NOT_FOUND when the filter does not choose it. */
hb_err hb_export_select_one(hb_export *x, int64_t id, hb_error *e) HB_MUST_USE;
size_t hb_export_count(const hb_export *x);
/* The id of the i-th row selected. */
int64_t hb_export_id(const hb_export *x, size_t i);

/* Called with the next piece of an export's text. */
typedef hb_err (*hb_export_write_fn)(void *ud, const char *p, size_t n, hb_error *e);

/* The rows [from, to) of the selection as objects of field name → value (times as RFC 3339
   text, no value as null), each handed to fn as compact JSON text joined by ",". */
hb_err hb_export_json_rows(hb_export *x, size_t from, size_t to, hb_export_write_fn fn, void *ud,
			   hb_error *e) HB_MUST_USE;
/* The whole JSON document for page (1-based) of page_size rows of the selection; page_size 0
   puts every row on one page. */
hb_err hb_export_json(hb_export *x, size_t page, size_t page_size, hb_export_write_fn fn,
		      void *ud, hb_error *e) HB_MUST_USE;
/* CSV: a header row, then rows [from, to) of the selection (to is capped at the count). */
hb_err hb_export_csv(hb_export *x, size_t from, size_t to, hb_export_write_fn fn, void *ud,
		     hb_error *e) HB_MUST_USE;
/* A CSV stream of the filter's matches in id order: skip of them left out, then count of them
   (0: all). It reads nothing until hb_export_csv_next; it replaces any stream started
   before and needs no selection. */
void hb_export_csv_stream(hb_export *x, size_t skip, size_t count);
/* Append the stream's next piece to out: the header row and the first rows, then up to a few
   thousand rows a call; *done (and nothing appended) once every row is written. Each call runs in a
   read transaction of its own (or in the open one when c->in_tx), so between calls the store
   is free for other work. After an error the stream is over. */
hb_err hb_export_csv_next(hb_export *x, hb_buf *out, bool *done, hb_error *e) HB_MUST_USE;
/* One RFC 4180 field into b: quoted when it holds a comma, quote, CR or LF, or starts or ends
   with a space (quotes doubled). Every CSV the product writes goes through it. */
hb_err hb_csv_field(hb_buf *b, const char *s, size_t n) HB_MUST_USE;
/* One row (of the id i-th selected) as a JSON object (new reference), for single lookups. */
hb_err hb_export_row_json(hb_export *x, size_t i, json_t **out, hb_error *e) HB_MUST_USE;

/* ---- saved packages ---- */

typedef struct hb_package {
	char *key;
	hb_target target;
	int64_t project_id; /* 0: community level */
	char *filter;       /* expression or @SAVED; NULL: every record */
	char *view;         /* view key; NULL: the record's fields */
	bool csv;           /* format served when none is asked */
} hb_package;

/* Check the public input of a package (on, project, filter, view, format) before it is
   written: the filter must compile for its records and the view show them. */
hb_err hb_package_check(hb_ctx *c, json_t *input, hb_error *e) HB_MUST_USE;
/* A saved package by key (HB_ERR_NOT_FOUND naming it when there is none); clear it with
   hb_package_clear. */
hb_err hb_package_load(hb_ctx *c, const char *key, hb_package *out, hb_error *e) HB_MUST_USE;
void hb_package_clear(hb_package *p);
/* The export a package stands for. */
hb_err hb_package_export(hb_ctx *c, const hb_package *p, hb_export **out, hb_error *e)
	HB_MUST_USE;
/* Page and page size from text (either may be NULL: page 1, page_size dflt); HB_ERR_USAGE
   naming the wrong one. */
hb_err hb_package_paging(const char *page, const char *page_size, size_t dflt, size_t *pg,
			 size_t *size, hb_error *e) HB_MUST_USE;

#endif
