/*
 * log.c - the server's log on stderr: one line per event, human-readable by default or one
 * JSON object per line (--log-format json). Callers pass only what may be shown: never a key's
 * secret, never a query string.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include "core/jsonw.h"
#include "core/timeutil.h"

static hb_log_format format = HB_LOG_HUMAN;

void hb_log_init(hb_log_format f)
{
	format = f;
}

void hb_log(const char *level, const char *msg, ...)
{
	char t[HB_TIME_STR_MAX];
	hb_time_format(hb_time_now(), t);
	va_list ap;
	va_start(ap, msg);
	if (format == HB_LOG_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "time", t, "level", level, "msg", msg);
		const char *k;
		while ((k = va_arg(ap, const char *))) {
			const char *v = va_arg(ap, const char *);
			json_t *jv = v ? json_string(v) : json_null();
			json_object_set_new(o, k, jv ? jv : json_string("(not UTF-8)"));
		}
		char *line = hb_json_dump(o, JSON_COMPACT | JSON_ENSURE_ASCII);
		if (line)
			fprintf(stderr, "%s\n", line);
		free(line);
		json_decref(o);
	} else {
		char line[2048];
		int at = snprintf(line, sizeof line, "%s %-5s %s", t, level, msg);
		const char *k;
		while ((k = va_arg(ap, const char *))) {
			const char *v = va_arg(ap, const char *);
			if (at >= 0 && (size_t)at < sizeof line)
				at += snprintf(line + at, sizeof line - (size_t)at, " %s=", k);
			/* one line per event: control characters cannot forge another; values with
			   spaces or quotes are quoted */
			const char *val = v ? v : "-";
			bool quote = strpbrk(val, " \"") != NULL;
			if (quote && at >= 0 && (size_t)at + 1 < sizeof line)
				line[at++] = '"';
			for (const char *p = val; *p && at >= 0 && (size_t)at + 3 < sizeof line; p++) {
				if (*p == '"' || *p == '\\')
					line[at++] = '\\';
				line[at++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
			}
			if (quote && at >= 0 && (size_t)at + 1 < sizeof line)
				line[at++] = '"';
			if (at >= 0 && (size_t)at < sizeof line)
				line[at] = '\0';
		}
		fprintf(stderr, "%s\n", line);
	}
	va_end(ap);
}
