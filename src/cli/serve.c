/*
 * serve.c - `hookbridge serve`: the HTTP server on libmicrohttpd. So far it answers the
 * operational endpoints (/healthz, /readyz); the REST API is built on this next.
 * SIGTERM and SIGINT stop it cleanly.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *data,
			      size_t *size, void **state)
{
	(void)version;
	(void)data;
	(void)size;
	(void)state;
	hb_cli *cli = cls;
	unsigned status = 200;
	const char *body;
	char buf[256];
	if (strcmp(method, "GET") != 0) {
		status = 405;
		body = "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"only GET is served here\"}}";
	} else if (strcmp(url, "/healthz") == 0) {
		body = "{\"status\":\"ok\"}";
	} else if (strcmp(url, "/readyz") == 0) {
		int64_t n = 0;
		hb_error e = {0};
		if (cli->store->ops->count(cli->store, hb_kind_get(HB_K_COMMUNITY), NULL, 0, &n, &e)) {
			status = 503;
			snprintf(buf, sizeof buf, "{\"status\":\"unavailable\",\"store\":\"%s\"}", hb_err_name(e.code));
			body = buf;
		} else {
			body = "{\"status\":\"ready\",\"store\":\"ok\"}";
		}
	} else {
		status = 404;
		body = "{\"error\":{\"code\":\"not_found\",\"message\":\"no such route\"}}";
	}
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

int hb_cmd_serve(hb_cli *cli, int argc, char **argv)
{
	static const hb_optspec opts[] = {{"listen", true, false, "ADDR:PORT (default 127.0.0.1:8080)"},
					  {NULL}};
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge serve";
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge serve [--listen ADDR:PORT]\n\nServe /healthz and /readyz.\n");
		return 0;
	}
	const char *listen = hb_args_get(&a, "listen");
	if (!listen)
		listen = getenv("HOOKBRIDGE_LISTEN");
	if (!listen)
		listen = "127.0.0.1:8080";
	char host[64];
	const char *colon = strrchr(listen, ':');
	long port = colon ? strtol(colon + 1, NULL, 10) : 0;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (!colon || (size_t)(colon - listen) >= sizeof host || port < 0 || port > 65535)
		return hb_cli_usage(cli, "--listen must be IPv4ADDR:PORT, not '%s'", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return hb_cli_usage(cli, "--listen: '%s' is not an IPv4 address", host);
	sa.sin_port = htons((uint16_t)port);
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, answer, cli,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
		MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "%s: cannot listen on %s\n", cli->prog, listen);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fprintf(stderr, "hookbridge %s listening on http://%s\n", HB_VERSION, listen);
	while (!stopping)
		pause();
	MHD_stop_daemon(d);
	fprintf(stderr, "hookbridge: stopped\n");
	return 0;
}
