/*
 * outcome.h - what one attempt of one delivery came to, and writing it down.
 *
 * The engine fills an hb_outcome when an attempt ends (answer, error, or a request that could
 * not be built), including the values captured from a 2xx answer, already coerced. Outcomes
 * are written in batches, one transaction for many; for each, the delivery's new state, the
 * attempt's log and the captured values land together (SPEC §4: never a partial record). When
 * a webhook succeeds, the native actions that follow it run in the same transaction and the
 * record's next webhook becomes due; when it fails for good, the record's later webhooks are
 * skipped.
 */
#ifndef HB_DELIVER_OUTCOME_H
#define HB_DELIVER_OUTCOME_H

#include "deliver/plan.h"
#include "engine/coerce.h"

#define HB_ANSWER_MAX (1024 * 1024) /* answers are read up to this; the rest is cut */

typedef struct hb_captured {
	int64_t field_id;
	hb_coerced v;
} hb_captured;

typedef enum hb_final {
	HB_FINAL_SUCCEEDED,
	HB_FINAL_RETRY, /* due again at due_at */
	HB_FINAL_FAILED,
} hb_final;

typedef struct hb_outcome {
	int64_t delivery_id, run_id, record_id;
	int position; /* the webhook action */
	int attempt;  /* 1 for the first */
	hb_final final;
	int64_t due_at;      /* with HB_FINAL_RETRY: Unix ms */
	int http_status;     /* 0: no answer */
	const char *error_class; /* static text, or NULL on success */
	char *error;         /* owned; NULL on success */
	int64_t started_at;  /* Unix seconds */
	int64_t duration_ms;
	hb_buf request, response, capture; /* owned JSON text logs (empty: none) */
	hb_captured *values; /* owned */
	size_t nvalues;
	hb_plan *plan;       /* borrowed: the plan stays alive until the outcome is written */
	hb_row *row;         /* owned: the delivery as claimed (NULL: read it again) */
} hb_outcome;

void hb_outcome_clear(hb_outcome *o);

/* Capture from a 2xx answer into o->values and o->capture (per field: stored, cleared,
   missing or an error, the error naming field, value and reason). body is already bounded;
   truncated says the answer went past HB_ANSWER_MAX (then nothing is captured). */
void hb_capture(const hb_plan_action *a, hb_outcome *o, const hb_header *headers, size_t nheaders,
		const char *body, size_t len, bool truncated);

/* Write outcomes [0, n) inside the caller's transaction. Runs touched get marked finished when
   nothing of theirs is left to send. */
hb_err hb_outcomes_write(hb_ctx *c, hb_outcome *o, size_t n, hb_error *e) HB_MUST_USE;

/* Run the native actions between webhook `after` (0: the start) and the next webhook for one
   record, inside the caller's transaction. */
hb_err hb_native_run(hb_ctx *c, hb_plan *p, int after, int64_t record_id, hb_error *e) HB_MUST_USE;

/* Check a native action's settings when a macro is saved: the fields each type needs, with
   values of the right kind. */
hb_err hb_native_check(const char *type, json_t *params, hb_target target, size_t index,
		       hb_error *e) HB_MUST_USE;

/* Mark a run finished when none of its deliveries is waiting, pending or being sent. */
hb_err hb_run_settle(hb_ctx *c, int64_t run_id, hb_error *e) HB_MUST_USE;

#endif
