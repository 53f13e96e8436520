/*
 * run.h - starting a macro on chosen records, and reading how runs went.
 *
 * A run is created durably before anything is sent: its deliveries (one per webhook action
 * per record) are written in batches of a thousand records, one transaction each, so a run
 * over a million records streams and never holds them all. The first webhook of each record
 * is due at once; later ones wait until the one before succeeds. Native actions that come
 * before the first webhook run while the batch is written.
 */
#ifndef HB_DELIVER_RUN_H
#define HB_DELIVER_RUN_H

#include "deliver/plan.h"

typedef struct hb_selection {
	const int64_t *ids; /* chosen record ids (users or feedback tickets) */
	size_t nids;
	bool all;           /* every record the macro applies to */
	const char *filter; /* or those of them a filter chooses (docs/filters.md) */
	const char *describe; /* "3 users", "all users", … as the run log shows it */
} hb_selection;

/* A creator holds its run with a lease, renewed with every batch; a run still 'creating'
   whose lease ran out lost its creator (killed), and hb_run_resume_stale carries it on. */
#define HB_RUN_CREATE_LEASE_MS 15000

/* Called after each batch is committed with the records written so far. */
typedef void (*hb_run_progress_fn)(void *ud, int64_t written);

/* Create a run of macro (a row of HB_K_MACRO) over sel. *run_out (may be NULL) is the run row,
   owned by the caller. Refused (HB_ERR_FORBIDDEN) when the community may not use webhooks
   (SPEC §8) and the macro has one, or when the macro is disabled. */
hb_err hb_run_start(hb_ctx *c, const hb_row *macro, const hb_selection *sel,
		    hb_run_progress_fn progress, void *ud, hb_row **run_out, hb_error *e) HB_MUST_USE;

/* The context of community id (owned by the caller's cache), or NULL with e set. */
typedef hb_ctx *(*hb_run_ctx_fn)(void *ud, int64_t community_id, hb_error *e);

/* Carry on every run whose creation stopped (its creator's lease ran out) from where its
   last batch left it, each in its community's context (ctx_for), one at a time; when two
   workers try, one wins and the other moves on. *creating gets how many runs are still being
   created by a live process. A run that cannot be carried on (its macro was deleted or its
   filter no longer compiles) is let run with what it has, and its selection says why. */
hb_err hb_run_resume_stale(hb_ctx *c, hb_run_ctx_fn ctx_for, void *ud, size_t *creating,
			   hb_error *e) HB_MUST_USE;

typedef struct hb_run_counts {
	int64_t total, waiting, pending, sending, succeeded, failed, skipped;
} hb_run_counts;

hb_err hb_run_counts_get(hb_ctx *c, int64_t run_id, hb_run_counts *out, hb_error *e) HB_MUST_USE;
/* The run as JSON with its counts. New reference. */
json_t *hb_run_json(hb_ctx *c, const hb_row *run);
/* Idempotency key (and webhook-id) of a delivery: "hbd_<run token>_<id>". */
void hb_delivery_key(const char *token, int64_t id, char *out, size_t n);

/* Whether the community may send webhooks: SPEC §8's two conditions, with the message. */
hb_err hb_integrations_check(hb_ctx *c, hb_error *e) HB_MUST_USE;

#endif
