/*
 * config.c - the settings of `hookbridge serve`: defaults, then HOOKBRIDGE_* variables, then
 * flags; every value parsed with range checks, a bad one named in the error. The delivery
 * engine's settings are read as every delivering command reads them (cli/engine_opts.h) and
 * handed over in cfg->engine.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/jsonw.h"
#include "core/text.h"

const char *const hb_api_config_names[] = {
	"listen", "threads", "max-body", "max-header", "timeout", "max-connections", "max-per-ip",
	"rate-limit", "flush-interval", "grace", "access-log", "log-format", "tls-cert", "tls-key",
	"workers", NULL};

static hb_err parse_listen(hb_api_config *cfg, const char *v, hb_error *e)
{
	char host[64];
	const char *colon = strrchr(v, ':');
	int64_t port;
	if (!colon || !hb_text_to_int64(colon + 1, strlen(colon + 1), &port) || port < 0 ||
	    port > 65535)
		return hb_fail(e, HB_ERR_USAGE, "listen", "--listen must be ADDR:PORT, not '%s'", v);
	const char *h = v;
	size_t hl = (size_t)(colon - v);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
		h++, hl -= 2;
	if (hl >= sizeof host)
		return hb_fail(e, HB_ERR_USAGE, "listen", "--listen must be ADDR:PORT, not '%s'", v);
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&cfg->addr, 0, sizeof cfg->addr);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&cfg->addr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&cfg->addr;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
	} else {
		return hb_fail(e, HB_ERR_USAGE, "listen",
			       "--listen: '%s' is not an IP address (IPv6 goes in brackets: [::1]:8080)",
			       host);
	}
	snprintf(cfg->listen, sizeof cfg->listen, "%s", v);
	return HB_OK;
}

/* A whole number, with an optional k or m suffix (KiB, MiB) when sized. */
static hb_err parse_num(const char *name, const char *v, bool sized, uint64_t min, uint64_t max,
			uint64_t *out, hb_error *e)
{
	size_t n = strlen(v);
	uint64_t mult = 1;
	if (sized && n > 1 && (v[n - 1] == 'k' || v[n - 1] == 'K'))
		mult = 1024, n--;
	else if (sized && n > 1 && (v[n - 1] == 'm' || v[n - 1] == 'M'))
		mult = 1024 * 1024, n--;
	int64_t x;
	if (!hb_text_to_int64(v, n, &x) || x < 0 || (uint64_t)x > max / mult ||
	    (uint64_t)x * mult < min)
		return hb_fail(e, HB_ERR_USAGE, name, "--%s must be a whole number from %llu to %llu%s, "
			       "not '%s'", name, (unsigned long long)min, (unsigned long long)max,
			       sized ? " (bytes; k and m suffixes allowed)" : "", v);
	*out = (uint64_t)x * mult;
	return HB_OK;
}

hb_err hb_api_config_set(hb_api_config *cfg, const char *name, const char *v, hb_error *e)
{
	uint64_t n = 0;
	hb_err rc = HB_OK;
#define NUM(flag, field, sized, lo, hi)                                                             \
	if (strcmp(name, flag) == 0) {                                                              \
		rc = parse_num(flag, v, sized, lo, hi, &n, e);                                      \
		if (!rc)                                                                            \
			cfg->field = (__typeof__(cfg->field))n;                                         \
		return rc;                                                                          \
	}
	if (strcmp(name, "listen") == 0)
		return parse_listen(cfg, v, e);
	NUM("threads", threads, false, 1, 64)
	NUM("max-body", max_body, true, 1024, 1024 * 1024 * 1024)
	NUM("max-header", max_header, true, 4096, 1024 * 1024)
	NUM("timeout", timeout_s, false, 1, 3600)
	NUM("max-connections", max_connections, false, 1, 100000)
	NUM("max-per-ip", max_per_ip, false, 0, 100000)
	NUM("rate-limit", rate_limit, false, 0, 10000000)
	NUM("flush-interval", flush_s, false, 1, 3600)
	NUM("grace", grace_s, false, 0, 3600)
#undef NUM
	if (strcmp(name, "access-log") == 0) {
		if (strcmp(v, "on") && strcmp(v, "off") && strcmp(v, "true") && strcmp(v, "false"))
			return hb_fail(e, HB_ERR_USAGE, name, "--access-log must be on or off, not '%s'", v);
		cfg->access_log = !strcmp(v, "on") || !strcmp(v, "true");
		return HB_OK;
	}
	if (strcmp(name, "workers") == 0) {
		if (strcmp(v, "on") && strcmp(v, "off") && strcmp(v, "true") && strcmp(v, "false"))
			return hb_fail(e, HB_ERR_USAGE, name, "workers must be on or off, not '%s'", v);
		cfg->workers = !strcmp(v, "on") || !strcmp(v, "true");
		return HB_OK;
	}
	if (strcmp(name, "log-format") == 0) {
		if (strcmp(v, "human") && strcmp(v, "json"))
			return hb_fail(e, HB_ERR_USAGE, name, "--log-format must be human or json, not '%s'", v);
		cfg->log_format = strcmp(v, "json") == 0 ? HB_LOG_JSON : HB_LOG_HUMAN;
		return HB_OK;
	}
	if (strcmp(name, "tls-cert") == 0 || strcmp(name, "tls-key") == 0) {
		*(name[4] == 'c' ? &cfg->tls_cert : &cfg->tls_key) = *v ? v : NULL;
		return HB_OK;
	}
	return hb_fail(e, HB_ERR_USAGE, name, "unknown setting '%s'", name);
}

hb_err hb_api_config_init(hb_api_config *cfg, hb_error *e)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->threads = 2;
	cfg->max_body = 1024 * 1024;
	cfg->max_header = 16 * 1024;
	cfg->timeout_s = 30;
	cfg->max_connections = 1000;
	cfg->max_per_ip = 0;
	cfg->rate_limit = 0;
	cfg->flush_s = 10;
	cfg->grace_s = 10;
	cfg->access_log = true;
	cfg->workers = true;
	cfg->log_format = HB_LOG_HUMAN;
	hb_err rc = parse_listen(cfg, "127.0.0.1:8080", e);
	for (const char *const *n = hb_api_config_names; !rc && *n; n++) {
		char env[64] = "HOOKBRIDGE_";
		size_t at = strlen(env);
		for (const char *p = *n; *p && at + 1 < sizeof env; p++)
			env[at++] = *p == '-' ? '_' : (char)(*p - 'a' + 'A');
		env[at] = '\0';
		const char *v = getenv(env);
		if (v && (rc = hb_api_config_set(cfg, *n, v, e)))
			hb_error_prefix(e, "%s", env);
	}
	return rc;
}

char *hb_api_config_dump(const hb_api_config *cfg)
{
	json_t *o = json_pack("{s:s?, s:s, s:i, s:I, s:I, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:s, s:s?, s:s?}",
			      "db", cfg->db, "listen", cfg->listen, "threads", (int)cfg->threads,
			      "max-body", (json_int_t)cfg->max_body, "max-header",
			      (json_int_t)cfg->max_header, "timeout", (int)cfg->timeout_s,
			      "max-connections", (int)cfg->max_connections, "max-per-ip",
			      (int)cfg->max_per_ip, "rate-limit", (int)cfg->rate_limit,
			      "flush-interval", (int)cfg->flush_s, "grace", (int)cfg->grace_s,
			      "access-log", cfg->access_log, "log-format",
			      cfg->log_format == HB_LOG_JSON ? "json" : "human", "tls-cert",
			      cfg->tls_cert, "tls-key", cfg->tls_key);
	json_object_set_new(o, "workers", json_boolean(cfg->workers));
	if (cfg->engine) {
		json_object_set_new(o, "concurrency", json_integer((json_int_t)cfg->engine->concurrency));
		json_object_set_new(o, "per-host", json_integer((json_int_t)cfg->engine->per_host));
	}
	char *s = hb_json_dump(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}
