/*
 * schedule.c - see schedule.h.
 */
#include "deliver/schedule.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/timeutil.h"

void hb_schedule_default(hb_schedule *out)
{
	static const int64_t s = 1000, m = 60 * s, h = 60 * m;
	static const int64_t d[] = {5 * s, 5 * m, 30 * m, 2 * h, 5 * h, 10 * h, 14 * h, 20 * h, 24 * h};
	out->n = sizeof d / sizeof d[0];
	memcpy(out->delay_ms, d, sizeof d);
}

hb_err hb_duration_parse(const char *s, int64_t *ms, hb_error *e)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	const char *p = s;
	while (*p == ' ')
		p++;
	int64_t n = 0;
	const char *digits = p;
	while (isdigit((unsigned char)*p) && n < HB_DELAY_MAX_MS)
		n = n * 10 + (*p++ - '0');
	size_t ulen = 0;
	while (isalpha((unsigned char)p[ulen]))
		ulen++;
	const char *rest = p + ulen;
	while (*rest == ' ')
		rest++;
	if (p != digits && !isdigit((unsigned char)*p) && *rest == '\0') {
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
			if (strlen(units[i].unit) == ulen && strncmp(p, units[i].unit, ulen) == 0) {
				if (n > HB_DELAY_MAX_MS / units[i].ms)
					return hb_fail(e, HB_ERR_INVALID, "retry",
						       "duration '%.40s' is longer than a week", s);
				*ms = n * units[i].ms;
				return HB_OK;
			}
		}
	}
	return hb_fail(e, HB_ERR_INVALID, "retry",
		       "'%.40s' is not a duration (write a whole number and a unit: 250ms, 5s, 5m, 2h, 1d)", s);
}

static hb_err add_delay(hb_schedule *out, const char *text, hb_error *e)
{
	if (out->n == HB_SCHEDULE_MAX)
		return hb_fail(e, HB_ERR_INVALID, "retry", "a retry schedule lists at most %d delays",
			       HB_SCHEDULE_MAX);
	hb_err rc = hb_duration_parse(text, &out->delay_ms[out->n], e);
	if (rc) {
		hb_error_prefix(e, "retry delay %zu", out->n + 1);
		return rc;
	}
	out->n++;
	return HB_OK;
}

hb_err hb_schedule_parse(const char *list, hb_schedule *out, hb_error *e)
{
	out->n = 0;
	const char *p = list;
	while (*p == ' ')
		p++;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char one[64];
		snprintf(one, sizeof one, "%.*s", (int)(len < sizeof one - 1 ? len : sizeof one - 1), p);
		hb_err rc = add_delay(out, one, e);
		if (rc)
			return rc;
		if (!comma)
			break;
		p = comma + 1;
	}
	return HB_OK;
}

hb_err hb_schedule_from_json(const json_t *arr, hb_schedule *out, hb_error *e)
{
	out->n = 0;
	if (!json_is_array(arr))
		return hb_fail(e, HB_ERR_INVALID, "retry",
			       "a retry schedule is a list of delays, e.g. [\"5s\", \"5m\"]");
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return hb_fail(e, HB_ERR_INVALID, "retry",
				       "retry delay %zu must be a string such as \"5s\"", i + 1);
		hb_err rc = add_delay(out, json_string_value(v), e);
		if (rc)
			return rc;
	}
	return HB_OK;
}

bool hb_retryable_status(int status)
{
	return status == 0 || status == 408 || status == 429 || status >= 500;
}

int64_t hb_schedule_next(const hb_schedule *s, int done, double rnd, int64_t retry_after_ms)
{
	if (done < 1 || (size_t)done > s->n)
		return -1;
	int64_t base = s->delay_ms[done - 1];
	int64_t delay = base + (int64_t)((double)base * 0.4 * (rnd - 0.5)); /* ±20 % */
	if (retry_after_ms > HB_RETRY_AFTER_MAX_MS)
		retry_after_ms = HB_RETRY_AFTER_MAX_MS;
	if (retry_after_ms > delay)
		delay = retry_after_ms;
	return delay < 0 ? 0 : delay;
}

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the form RFC 9110 requires senders use. */
static int64_t http_date(const char *v)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4], gmt[4];
	unsigned d, y, h, mi, sec;
	if (sscanf(v, "%*3s, %2u %3s %4u %2u:%2u:%2u %3s", &d, mon, &y, &h, &mi, &sec, gmt) != 7 ||
	    strcmp(gmt, "GMT") != 0)
		return -1;
	const char *m = strstr(months, mon);
	if (!m || (m - months) % 3 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	return hb_time_from_civil(y, (unsigned)((m - months) / 3 + 1), d, h, mi, sec);
}

int64_t hb_retry_after_parse(const char *v, int64_t now)
{
	while (*v == ' ')
		v++;
	if (isdigit((unsigned char)*v)) {
		int64_t n = 0;
		for (; isdigit((unsigned char)*v); v++)
			if (n < HB_RETRY_AFTER_MAX_MS)
				n = n * 10 + (*v - '0');
		while (*v == ' ')
			v++;
		return *v ? -1 : (n > HB_RETRY_AFTER_MAX_MS / 1000 ? HB_RETRY_AFTER_MAX_MS : n * 1000);
	}
	int64_t t = http_date(v);
	if (t < 0)
		return -1;
	return t <= now ? 0 : (t - now) * 1000;
}
