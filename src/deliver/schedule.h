/*
 * schedule.h - when a delivery is tried again (SPEC §5).
 *
 * A retry schedule is a list of delays after each failed attempt ("5s", "5m", "30m", …): a
 * delivery gets 1 + length attempts. Each delay is spread by ±20 % jitter so that many
 * deliveries failing together do not come back together. A `Retry-After` answer (seconds or
 * an HTTP date) is honoured when it asks for longer than the schedule, up to a bound.
 * What is worth retrying: connection errors, timeouts, 408, 429 and 5xx; every other 4xx and
 * every 3xx (redirects are not followed) fails at once.
 */
#ifndef HB_DELIVER_SCHEDULE_H
#define HB_DELIVER_SCHEDULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define HB_SCHEDULE_MAX 32                        /* most retries a schedule may list */
#define HB_DELAY_MAX_MS (7LL * 24 * 3600 * 1000)  /* longest single delay: a week */
#define HB_RETRY_AFTER_MAX_MS (24LL * 3600 * 1000) /* Retry-After is honoured up to a day */

typedef struct hb_schedule {
	size_t n;                       /* retries after the first attempt */
	int64_t delay_ms[HB_SCHEDULE_MAX];
} hb_schedule;

/* SPEC §5's default: 5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h, 24h. */
void hb_schedule_default(hb_schedule *out);
/* A duration as users write it: "250ms", "5s", "5m", "2h", "1d" (a whole number and a unit). */
hb_err hb_duration_parse(const char *s, int64_t *ms, hb_error *e) HB_MUST_USE;
/* A schedule from a comma-separated list ("1s,5s,30s") or, with json non-NULL, a JSON array of
   such strings; an empty list means no retries. Errors name the entry at fault. */
hb_err hb_schedule_parse(const char *list, hb_schedule *out, hb_error *e) HB_MUST_USE;
hb_err hb_schedule_from_json(const json_t *arr, hb_schedule *out, hb_error *e) HB_MUST_USE;

/* Whether an attempt that ended so is worth another one: status 0 means no answer (connection
   error, timeout, refused address — the caller passes retryable=false for a refusal). */
bool hb_retryable_status(int status);

/* Delay before attempt number `done + 1`, after `done` attempts (1-based count), or -1 when the
   schedule is used up. rnd is a uniform random number in [0, 1) for the jitter; retry_after_ms
   (or -1) is what the answer asked for. */
int64_t hb_schedule_next(const hb_schedule *s, int done, double rnd, int64_t retry_after_ms);

/* A Retry-After header value: delta seconds or an HTTP date (RFC 9110), relative to now
   (Unix seconds). -1 when it is neither. */
int64_t hb_retry_after_parse(const char *v, int64_t now);

#endif
