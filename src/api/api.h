/*
 * api.h - the HTTP server of `hookbridge serve`: the REST API under /api/v1 (docs/api.md,
 * docs/openapi.json), /healthz, /readyz and /metrics, on libmicrohttpd.
 *
 * The command line fills an hb_api_config from flags and HOOKBRIDGE_* variables and calls
 * hb_api_run, which serves until SIGTERM or SIGINT and then lets requests in flight finish.
 */
#ifndef HB_API_API_H
#define HB_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/error.h"
#include "deliver/engine.h"

typedef enum hb_log_format { HB_LOG_HUMAN, HB_LOG_JSON } hb_log_format;

typedef struct hb_api_config {
	const char *db;              /* database address (as for every command) */
	char listen[128];            /* "127.0.0.1:8080", "[::1]:8080" */
	struct sockaddr_storage addr; /* listen parsed */
	unsigned threads;            /* request threads, each with its own store connection */
	size_t max_body;             /* request body cap in bytes (413 beyond) */
	size_t max_header;           /* cap on the request line and headers together */
	unsigned timeout_s;          /* idle connection timeout */
	unsigned max_connections;    /* connections at once, over all clients */
	unsigned max_per_ip;         /* connections at once from one address (0: no cap) */
	unsigned rate_limit;         /* requests per second per API key (0: no limit) */
	unsigned flush_s;            /* how often key use counts are written back */
	unsigned grace_s;            /* how long a stop waits for requests in flight */
	bool access_log;             /* one log line per request */
	hb_log_format log_format;
	const char *tls_cert;        /* PEM files; both or neither */
	const char *tls_key;
	bool workers;                /* run the delivery engine too (--no-workers: API only) */
	const hb_engine_opts *engine; /* engine settings and address rules (test-sends use the
					 rules too); owned by the caller */
} hb_api_config;

/* Defaults, then HOOKBRIDGE_* variables over them. A bad variable is an error naming it. */
hb_err hb_api_config_init(hb_api_config *cfg, hb_error *e) HB_MUST_USE;
/* Set one setting by its flag name ("max-body", "listen", …) from text. */
hb_err hb_api_config_set(hb_api_config *cfg, const char *name, const char *value, hb_error *e)
	HB_MUST_USE;
/* The settings as a JSON text (for --print-config); caller frees. */
char *hb_api_config_dump(const hb_api_config *cfg);
/* Names of the settings hb_api_config_set takes, NULL-terminated. */
extern const char *const hb_api_config_names[];

/* Serve until a stop signal; returns the process exit status. */
int hb_api_run(const hb_api_config *cfg);
/* Print every route ("METHOD PATTERN") on stdout, for tools that check the docs against it. */
void hb_api_print_routes(void);

#endif
