/*
 * inspect.h - deliveries as people see them, and retrying them by hand: shared by the
 * command line and the API so both show and accept the same things.
 */
#ifndef HB_DELIVER_INSPECT_H
#define HB_DELIVER_INSPECT_H

#include "model/model.h"

/* A delivery of c's community by id (HB_ERR_NOT_FOUND for another community's). Caller owns
   *out. */
hb_err hb_delivery_find(hb_ctx *c, int64_t id, hb_row **out, hb_error *e) HB_MUST_USE;
/* The delivery as public JSON: its columns, the macro's key, the record by email or ticket
   number, next_attempt_at while pending; with_attempts adds "attempts_log" (each attempt with
   request, answer, error and capture). New reference. */
json_t *hb_delivery_json(hb_ctx *c, const hb_row *d, bool with_attempts);
/* Give a failed or skipped delivery one more attempt, now (HB_ERR_CONFLICT for another
   state); its run is running again. Inside the caller's transaction. */
hb_err hb_delivery_requeue(hb_ctx *c, hb_row *d, hb_error *e) HB_MUST_USE;
/* The same for every failed delivery of c's community that failed at or after since (Unix
   seconds); *count gets how many. Inside the caller's transaction. */
hb_err hb_delivery_requeue_failed(hb_ctx *c, int64_t since, int64_t *count, hb_error *e)
	HB_MUST_USE;

#endif
