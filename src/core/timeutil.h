/*
 * timeutil.h - UTC times as Unix seconds, written and read as RFC 3339.
 * Stored and printed form: "2026-11-28T08:00:00Z" (fixed width, so text order is time order).
 */
#ifndef HB_CORE_TIMEUTIL_H
#define HB_CORE_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HB_TIME_STR_MAX 32

int64_t hb_time_now(void);
/* Now in Unix milliseconds (wall clock: stored due times and leases). */
int64_t hb_time_now_ms(void);
/* Milliseconds of a monotonic clock, for measuring durations. */
int64_t hb_time_mono_ms(void);
/* Write t as "YYYY-MM-DDTHH:MM:SSZ" into out (at least HB_TIME_STR_MAX bytes); returns out. */
char *hb_time_format(int64_t t, char *out);
/*
 * Parse RFC 3339 / ISO 8601: "2026-11-28T10:00:00+02:00", "…Z", fractional seconds (dropped),
 * a space instead of T, or a date alone ("2026-11-28", midnight UTC). The whole of s[0..n)
 * must be used. False when it is not such a time.
 */
bool hb_time_parse(const char *s, size_t n, int64_t *out);
/* Days-from-civil: Unix seconds of a UTC calendar time; no range checks beyond the caller's. */
int64_t hb_time_from_civil(int64_t y, unsigned mon, unsigned d, unsigned h, unsigned mi, unsigned sec);

#endif
