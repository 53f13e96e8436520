/*
 * model.h - records as users see them: created, changed, found and shown by their public
 * names, with every rule of SPEC §1-2 checked in one place. The CLI and the API both come
 * through here, so they accept and refuse exactly the same things.
 *
 * Input is a JSON object of public field names ({"email": "zoe@example.com", "project": "beta"});
 * references are given by key, email or ticket number and resolved inside the community.
 * Output is the same shape (hb_record_json). Every write runs in one transaction: it lands
 * whole or not at all.
 */
#ifndef HB_MODEL_MODEL_H
#define HB_MODEL_MODEL_H

#include <jansson.h>

#include "model/row.h"
#include "store/store.h"

/* Who is acting, in which community. */
typedef struct hb_ctx {
	hb_store *store;
	int64_t community_id;
	char community_key[65];
	bool enhanced_integrations;
	const char *actor; /* "cli", "api:<key prefix>", … for logs and notes */
	bool in_tx;        /* inside hb_tx: nested writes join the open transaction */
} hb_ctx;

/* Open the community named key (or the only one when key is NULL) into c. */
hb_err hb_ctx_load(hb_ctx *c, hb_store *s, const char *key, hb_error *e) HB_MUST_USE;

/* Create a record from public input; *out (owned by the caller; may be NULL to discard) is the
   stored row. Runs in its own transaction unless one is open (in_tx). */
hb_err hb_record_create(hb_ctx *c, hb_kind_id k, json_t *input, hb_row **out, hb_error *e)
	HB_MUST_USE;
/* Set column i of a row being created from text typed by a user (a CSV cell), with the same
   checks as JSON input. */
hb_err hb_record_set_text(hb_ctx *c, hb_row *row, int i, const char *s, size_t n, hb_error *e)
	HB_MUST_USE;
/* Create like hb_record_create, into a row whose system columns the caller has already set;
   with input NULL the row's public columns are taken as already filled (hb_record_set_text). */
hb_err hb_record_create_into(hb_ctx *c, hb_row *row, json_t *input, hb_error *e) HB_MUST_USE;
/* Apply the public fields of changes to row (found earlier) and store it. */
hb_err hb_record_update(hb_ctx *c, hb_row *row, json_t *changes, hb_error *e) HB_MUST_USE;
hb_err hb_record_delete(hb_ctx *c, const hb_row *row, hb_error *e) HB_MUST_USE;
/* Find a record by what users type: an id, a key or email (within scope_id when the kind is
   scoped by something other than the community), or a ticket number "EXA-0001". */
hb_err hb_record_find(hb_ctx *c, hb_kind_id k, int64_t scope_id, const char *name, hb_row **out,
		      hb_error *e) HB_MUST_USE;
/* The record as public JSON (references by key, secrets left out). New reference. */
json_t *hb_record_json(hb_ctx *c, const hb_row *row);
/* Display number of a feedback ticket ("EXA-0001") into out. */
hb_err hb_feedback_number(hb_ctx *c, const hb_row *ticket, char *out, size_t n, hb_error *e);

/* How hb_record_fill treats its input. */
typedef enum hb_fill_mode {
	HB_FILL_CREATE, /* required fields and defaults apply */
	HB_FILL_UPDATE, /* immutable fields refused */
	HB_FILL_MATCH,  /* values to search by: any field but hidden ones */
} hb_fill_mode;

/* Convert public input into a row: shared by create, update, search and bulk import. Columns
   not in input are left as they are. */
hb_err hb_record_fill(hb_ctx *c, hb_row *row, json_t *input, hb_fill_mode mode, hb_error *e)
	HB_MUST_USE;
/* Per-kind rules run after fill, before the row is written (rules.c). */
hb_err hb_rules_check(hb_ctx *c, hb_row *row, const hb_row *before, hb_error *e) HB_MUST_USE;

/* Run fn inside one transaction (begin, fn, commit; rollback on any failure). */
hb_err hb_tx(hb_ctx *c, hb_err (*fn)(hb_ctx *c, void *ud, hb_error *e), void *ud, hb_error *e)
	HB_MUST_USE;

#endif
