/*
 * serve.c - `hookbridge serve`: settings from flags over HOOKBRIDGE_* variables over
 * defaults, then the API server (src/api) with the delivery workers beside it, whose settings
 * (--allow-target, --concurrency, --per-host, --retry-schedule) are read exactly as
 * `hookbridge worker` reads them. --print-config shows the settings it would use.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "cli/engine_opts.h"

static const hb_optspec server_opts[] = {
	{"listen", true, false, "ADDR:PORT or [IPv6]:PORT (default 127.0.0.1:8080)"},
	{"threads", true, false, "request threads, each with its own store connection (default 2)"},
	{"max-body", true, false, "request body cap in bytes, k/m suffixes (default 1m)"},
	{"max-header", true, false, "cap on request line and headers (default 16k)"},
	{"timeout", true, false, "idle connection timeout in seconds (default 30)"},
	{"max-connections", true, false, "connections at once (default 1000)"},
	{"max-per-ip", true, false, "connections at once from one address (default 0: no cap)"},
	{"rate-limit", true, false, "requests a second per API key (default 0: none)"},
	{"flush-interval", true, false, "seconds between writes of key use counts (default 10)"},
	{"grace", true, false, "seconds a stop waits for requests in flight (default 10)"},
	{"access-log", true, false, "on or off: one log line per request (default on)"},
	{"log-format", true, false, "human or json (default human)"},
	{"tls-cert", true, false, "PEM certificate: serve HTTPS (with --tls-key)"},
	{"tls-key", true, false, "PEM private key"},
	{"no-workers", false, false, "serve the API only; deliveries are sent by `hookbridge worker`"},
	{"print-config", false, false, "print the settings and exit"},
	{"print-routes", false, false, "print the API routes and exit"},
	{NULL}};

static bool engine_opt(const char *name)
{
	for (const hb_optspec *o = hb_engine_optspecs; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return true;
	return false;
}

int hb_cmd_serve(hb_cli *cli, int argc, char **argv)
{
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge serve";
	hb_optspec opts[32] = {{NULL}};
	size_t nopts = 0;
	for (; server_opts[nopts].name; nopts++)
		opts[nopts] = server_opts[nopts];
	memcpy(opts + nopts, hb_engine_optspecs, 5 * sizeof *opts); /* with its NULL end */
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge [--db PATH] serve [--listen ADDR:PORT] [options]\n\n"
		       "Serve the REST API under /api/v1, /healthz, /readyz and /metrics, and send\n"
		       "due deliveries (as `hookbridge worker` does) unless --no-workers.\n"
		       "Server options may also be set as HOOKBRIDGE_<NAME> (--max-body: "
		       "HOOKBRIDGE_MAX_BODY;\n--no-workers: HOOKBRIDGE_WORKERS=off); delivery options "
		       "as for `hookbridge worker`.\n\noptions:\n");
		for (const hb_optspec *o = opts; o->name; o++)
			printf("  --%-18s %s\n", o->name, o->help);
		return 0;
	}
	if (a.npos)
		return hb_cli_usage(cli, "serve takes no arguments");
	if (hb_args_has(&a, "print-routes")) {
		hb_api_print_routes();
		return 0;
	}
	hb_api_config cfg;
	if (hb_api_config_init(&cfg, &e))
		return hb_cli_usage(cli, "%s", e.message);
	cfg.db = cli->db;
	for (int i = 0; i < a.nopt; i++) {
		const char *name = a.opt[i].name;
		if (strcmp(name, "print-config") == 0 || strcmp(name, "print-routes") == 0 ||
		    engine_opt(name))
			continue;
		bool off = strcmp(name, "no-workers") == 0;
		if (hb_api_config_set(&cfg, off ? "workers" : name, off ? "off" : a.opt[i].value, &e))
			return hb_cli_usage(cli, "%s", e.message);
	}
	hb_engine_opts engine;
	hb_guard *guard = NULL;
	if (hb_engine_opts_read(&a, &engine, &guard, &e)) {
		hb_guard_free(&guard);
		return hb_cli_usage(cli, "%s", e.message);
	}
	cfg.engine = &engine;
	int status = 0;
	if (hb_args_has(&a, "print-config")) {
		char *s = hb_api_config_dump(&cfg);
		printf("%s\n", s);
		free(s);
	} else {
		status = hb_api_run(&cfg);
	}
	hb_guard_free(&guard);
	return status;
}
