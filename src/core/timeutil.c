/* timeutil.c - RFC 3339 formatting and parsing without the C library's local-time traps. */
#include "core/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t hb_time_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static int64_t ms_of(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t hb_time_now_ms(void)
{
	return ms_of(CLOCK_REALTIME);
}

int64_t hb_time_mono_ms(void)
{
	return ms_of(CLOCK_MONOTONIC);
}

char *hb_time_format(int64_t t, char *out)
{
	/* bulk work stamps many rows with the same second: remember the last one per thread */
	static _Thread_local int64_t last_t = INT64_MIN;
	static _Thread_local char last[HB_TIME_STR_MAX];
	if (t == last_t) {
		memcpy(out, last, HB_TIME_STR_MAX);
		return out;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		snprintf(out, HB_TIME_STR_MAX, "%s", "invalid-time");
		return out;
	}
	snprintf(out, HB_TIME_STR_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	memcpy(last, out, HB_TIME_STR_MAX);
	last_t = t;
	return out;
}

/* Howard Hinnant's days_from_civil. */
int64_t hb_time_from_civil(int64_t y, unsigned mon, unsigned d, unsigned h, unsigned mi, unsigned sec)
{
	y -= mon <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;
	return days * 86400 + h * 3600 + mi * 60 + sec;
}

static bool digits(const char *s, size_t n, size_t at, size_t count, unsigned *out)
{
	if (at + count > n)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < count; i++) {
		char c = s[at + i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*out = v;
	return true;
}

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool hb_time_parse(const char *s, size_t n, int64_t *out)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h = 0, mi = 0, sec = 0;
	if (!digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || !digits(s, n, 5, 2, &mo) ||
	    s[7] != '-' || !digits(s, n, 8, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return false;
	size_t i = 10;
	int64_t offset = 0;
	if (i < n) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return false;
		i++;
		if (!digits(s, n, i, 2, &h) || i + 2 >= n || s[i + 2] != ':' ||
		    !digits(s, n, i + 3, 2, &mi))
			return false;
		i += 5;
		if (i < n && s[i] == ':') {
			if (!digits(s, n, i + 1, 2, &sec))
				return false;
			i += 3;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				size_t start = ++i;
				while (i < n && s[i] >= '0' && s[i] <= '9')
					i++;
				if (i == start)
					return false;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return false;
		if (sec == 60)
			sec = 59; /* leap second: keep within the minute */
		if (i == n)
			return false; /* a time of day needs a zone */
		if (s[i] == 'Z' || s[i] == 'z') {
			i++;
		} else if (s[i] == '+' || s[i] == '-') {
			unsigned oh, om;
			int sign = s[i] == '-' ? -1 : 1;
			if (!digits(s, n, i + 1, 2, &oh))
				return false;
			if (i + 3 < n && s[i + 3] == ':') {
				if (!digits(s, n, i + 4, 2, &om))
					return false;
				i += 6;
			} else if (digits(s, n, i + 3, 2, &om)) {
				i += 5;
			} else {
				return false;
			}
			if (oh > 23 || om > 59)
				return false;
			offset = sign * (int64_t)(oh * 3600 + om * 60);
		} else {
			return false;
		}
	}
	if (i != n)
		return false;
	*out = hb_time_from_civil(y, mo, d, h, mi, sec) - offset;
	return true;
}
