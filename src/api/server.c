/*
 * server.c - the HTTP side of the API on libmicrohttpd: limits, the life of one request, the
 * per-thread store connections, logs and metrics, and a clean stop.
 *
 * DESIGN. libmicrohttpd polls with epoll in a small pool of threads (--threads). A request's
 * first callback has its headers: the route is matched, a declared body over --max-body is
 * refused at once with 413, and later callbacks gather the body into a capped buffer (a body
 * that grows past the cap without declaring its length is drained and refused). The last
 * callback checks the key, parses the JSON body and runs the handler on the thread's own
 * hb_worker. Header size is capped by the connection memory limit, idle connections by the
 * timeout, and clients by connection caps. On SIGTERM or SIGINT the listening socket is closed
 * at once, requests in flight get up to --grace seconds to finish (answers then carry
 * "Connection: close"), key use counts are written back and every store is closed. The
 * delivery workers (workers.c) run beside the server on a thread of their own and are asked
 * to stop at the same moment; the stop waits for their transfers in flight to be recorded.
 *
 * STREAMED ANSWERS (hb_api_stream). A handler may answer with a producer instead of a body.
 * libmicrohttpd's own pull model carries it (MHD_create_response_from_callback with an
 * unknown size, so HTTP/1.1 clients get chunked transfer encoding): when the connection can
 * take more, the request's thread asks the producer for its next piece and copies it out,
 * so no other thread, pipe or copy of the whole body exists and a slow client simply makes
 * the producer wait. The first piece is made before the status line is queued, so an error
 * there is still a JSON error with its status. A failure after that cannot change the status
 * any more: the connection is closed without the terminating zero-length chunk, which every
 * HTTP client reports as a truncated body (curl: "transfer closed with outstanding read data
 * remaining", exit 18), and the error goes to the log.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/internal.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "core/text.h"

static volatile sig_atomic_t stop_signal;
static int stopping; /* read by request threads: set once, atomically */
static unsigned long in_flight;
static const hb_api_config *config;

static pthread_mutex_t workers_lock = PTHREAD_MUTEX_INITIALIZER;
static hb_worker *workers;
static _Thread_local hb_worker *my_worker;

#define STREAM_PIECE_MAX (64 * 1024 * 1024) /* one piece of a streamed answer */
#define STREAM_BLOCK (64 * 1024)            /* bytes libmicrohttpd asks for at a time */

/* A streamed answer in flight: owned by its libmicrohttpd response. */
typedef struct stream {
	hb_api_stream_fn fn;
	void *ud;
	void (*free_fn)(void *ud);
	hb_buf piece;
	size_t off; /* bytes of piece already sent */
	bool done;
	char path[256];
} stream;

typedef struct call {
	hb_req req;
	stream *stream; /* primed, not yet handed to a response */
	hb_buf body;
	bool too_large;
	bool answered;
	bool path_known;
	double start;
} call;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

hb_worker *hb_api_worker(hb_req *r, hb_error *e)
{
	if (!my_worker) {
		hb_store *s = NULL;
		if (hb_store_open(config->db, false, &s, e)) {
			hb_log("error", "cannot open the store", "error", e->message, NULL);
			return NULL;
		}
		hb_worker *w = hb_calloc(1, sizeof *w);
		w->store = s;
		pthread_mutex_lock(&workers_lock);
		w->next = workers;
		workers = w;
		pthread_mutex_unlock(&workers_lock);
		my_worker = w;
	}
	r->w = my_worker;
	return my_worker;
}

static void close_workers(void)
{
	pthread_mutex_lock(&workers_lock);
	while (workers) {
		hb_worker *w = workers;
		workers = w->next;
		hb_store_close(&w->store);
		free(w);
	}
	pthread_mutex_unlock(&workers_lock);
}

static void stream_end(void *cls)
{
	stream *st = cls;
	if (st->free_fn)
		st->free_fn(st->ud);
	hb_buf_free(&st->piece);
	free(st);
}

/* libmicrohttpd wants up to max more bytes of the body. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	stream *st = cls;
	while (st->off == st->piece.len) {
		if (st->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		hb_buf_reset(&st->piece);
		st->off = 0;
		hb_error e = {0};
		if (st->fn(st->ud, &st->piece, &st->done, &e)) {
			hb_log("error", "streamed answer cut short", "path", st->path, "error",
			       e.message[0] ? e.message : hb_err_name(e.code), NULL);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	size_t n = st->piece.len - st->off < max ? st->piece.len - st->off : max;
	memcpy(buf, st->piece.data + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

/* Take the producer a handler set in r and make its first piece. */
static hb_err stream_prime(call *cl, hb_error *e)
{
	hb_req *r = &cl->req;
	stream *st = hb_calloc(1, sizeof *st);
	st->fn = r->stream;
	st->ud = r->stream_ud;
	st->free_fn = r->stream_free;
	r->stream = NULL;
	r->stream_ud = NULL;
	r->stream_free = NULL;
	snprintf(st->path, sizeof st->path, "%s", r->path);
	hb_buf_init(&st->piece, STREAM_PIECE_MAX);
	hb_err rc = st->fn(st->ud, &st->piece, &st->done, e);
	if (rc)
		stream_end(st);
	else
		cl->stream = st;
	return rc;
}

/* Build and queue the answer held in r (or the error e when rc is set). */
static enum MHD_Result respond(call *cl, hb_err rc, const hb_error *e)
{
	hb_req *r = &cl->req;
	char *body = NULL;
	size_t len = 0;
	const char *type = "application/json";
	if (rc) {
		r->status = (unsigned)hb_err_http_status(rc);
		json_t *err = json_pack("{s:s, s:s}", "code", hb_err_name(rc), "message",
					e->message[0] ? e->message : hb_err_name(rc));
		if (e->field[0]) {
			json_t *f = json_string(e->field);
			json_object_set_new(err, "field", f ? f : json_string("?"));
		}
		if (!json_object_get(err, "message")) /* a message cut inside a UTF-8 sequence */
			json_object_set_new(err, "message", json_string(hb_err_name(rc)));
		json_t *o = json_pack("{s:o}", "error", err);
		body = hb_json_dump(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
	} else if (r->raw) {
		type = r->raw_type;
	} else if (r->out) {
		body = hb_json_dump(r->out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	}
	if (body)
		len = strlen(body);
	if (!rc && cl->stream)
		type = r->raw_type;
	struct MHD_Response *resp =
		!rc && cl->stream ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
								       stream_read, cl->stream,
								       stream_end)
		: r->raw && !rc ? MHD_create_response_from_buffer(r->raw_len, (void *)r->raw,
								r->raw_free ? MHD_RESPMEM_MUST_FREE
									    : MHD_RESPMEM_PERSISTENT)
			      : MHD_create_response_from_buffer(len, body ? body : (void *)"",
								body ? MHD_RESPMEM_MUST_FREE
								     : MHD_RESPMEM_PERSISTENT);
	if (!rc && cl->stream) { /* the response owns it now, even when it could not be made */
		if (!resp)
			stream_end(cl->stream);
		cl->stream = NULL;
	}
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	if (r->status != 204)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (rc == HB_ERR_METHOD) {
		char allow[64];
		hb_route_allowed(r->path, allow, sizeof allow);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	}
	if (rc == HB_ERR_RATE_LIMITED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (__atomic_load_n(&stopping, __ATOMIC_RELAXED) || rc == HB_ERR_TOO_LARGE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	cl->answered = true;
	double secs = now_s() - cl->start;
	hb_metrics_count(r->route ? hb_route_index(r->route) : hb_nroutes, r->status, secs);
	if (config->access_log) {
		char status[8], ms[32], ip[HB_CIDR_TEXT_MAX];
		snprintf(status, sizeof status, "%u", r->status);
		snprintf(ms, sizeof ms, "%.3f", secs * 1e3);
		hb_ipaddr_format(&r->client, ip, sizeof ip);
		hb_log("info", "request", "method", r->method, "path", r->path, "status", status, "ms",
		       ms, "key", r->auth.prefix[0] ? r->auth.prefix : NULL, "ip", ip,
		       rc ? "error" : NULL, rc ? hb_err_name(rc) : NULL, NULL);
	}
	return ret;
}

static bool is_json_type(const char *ct)
{
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	size_t n = strcspn(ct, "; ");
	return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

/* A route that only reads: the key check and the handler see one snapshot, taking the
   database's read lock once instead of once per statement. */
static hb_err read_only(hb_req *r, hb_error *e)
{
	hb_store *s = r->w->store;
	hb_error ignore;
	bool tx = s->ops->begin_read(s, &ignore) == HB_OK; /* without it: one lock per statement */
	hb_err rc = r->route->flags & HB_ROUTE_PUBLIC ? HB_OK : hb_api_authenticate(r, e);
	if (!rc)
		rc = r->route->fn(r, e);
	if (tx && s->ops->commit(s, &ignore))
		s->ops->rollback(s);
	return rc;
}

/* Everything after the body has arrived. */
static hb_err dispatch(call *cl, hb_error *e)
{
	hb_req *r = &cl->req;
	if (!r->route)
		return cl->path_known
			       ? hb_fail(e, HB_ERR_METHOD, "", "%s is not allowed on %s", r->method, r->path)
			       : hb_fail(e, HB_ERR_NOT_FOUND, "", "no such route: %s", r->path);
	if (cl->too_large)
		return hb_fail(e, HB_ERR_TOO_LARGE, "", "the request body is larger than %zu bytes",
			       config->max_body);
	if (!(r->route->flags & HB_ROUTE_NOSTORE) && !hb_api_worker(r, e))
		return hb_fail(e, HB_ERR_UNAVAILABLE, "", "the store cannot be reached");
	if ((r->route->flags & (HB_ROUTE_READ | HB_ROUTE_BODY | HB_ROUTE_NOSTORE)) == HB_ROUTE_READ)
		return read_only(r, e);
	hb_err rc;
	if (!(r->route->flags & HB_ROUTE_PUBLIC) && (rc = hb_api_authenticate(r, e)))
		return rc;
	if (r->route->flags & HB_ROUTE_BODY) {
		const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_TYPE);
		if (cl->body.len == 0)
			return hb_fail(e, HB_ERR_BAD_REQUEST, "", "this request needs a JSON body");
		if (!is_json_type(ct))
			return hb_fail(e, HB_ERR_MEDIA_TYPE, "", "send the body as Content-Type: "
				       "application/json");
		json_error_t je;
		r->body = json_loadb(cl->body.data, cl->body.len, JSON_REJECT_DUPLICATES, &je);
		if (!r->body)
			return hb_fail(e, HB_ERR_PARSE, "", "the body is not valid JSON: %s (line %d, "
				       "column %d)", je.text, je.line, je.column);
	}
	return r->route->fn(r, e);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **state)
{
	(void)cls;
	(void)version;
	call *cl = *state;
	hb_error e = {0};
	if (!cl) {
		cl = hb_calloc(1, sizeof *cl);
		*state = cl;
		__atomic_add_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
		cl->start = now_s();
		hb_req *r = &cl->req;
		r->conn = conn;
		r->cfg = config;
		r->method = method;
		r->path = url;
		r->status = 200;
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr)
			hb_ipaddr_from_sockaddr(ci->client_addr, &r->client);
		r->route = hb_route_match(r, method, url, &cl->path_known);
		hb_buf_init(&cl->body, config->max_body);
		const char *cl_text = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								  MHD_HTTP_HEADER_CONTENT_LENGTH);
		int64_t declared;
		if (cl_text && hb_text_to_int64(cl_text, strlen(cl_text), &declared) &&
		    (uint64_t)declared > config->max_body) {
			hb_fail(&e, HB_ERR_TOO_LARGE, "", "the request body is larger than %zu bytes",
				config->max_body);
			return respond(cl, HB_ERR_TOO_LARGE, &e);
		}
		return MHD_YES;
	}
	if (cl->answered) { /* refused early: drop whatever still arrives */
		*size = 0;
		return MHD_YES;
	}
	if (*size) {
		if (!cl->too_large && hb_buf_add(&cl->body, data, *size))
			cl->too_large = true; /* keep reading, answer 413 at the end */
		*size = 0;
		return MHD_YES;
	}
	hb_err rc = dispatch(cl, &e);
	if (!rc && cl->req.stream)
		rc = stream_prime(cl, &e);
	if (rc == HB_ERR_NOMEM || rc == HB_ERR_STORE || rc == HB_ERR_INTERNAL || rc == HB_ERR_IO)
		hb_log("error", "request failed", "path", url, "error", e.message, NULL);
	return respond(cl, rc, &e);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
			 enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)conn;
	(void)why;
	call *cl = *state;
	if (!cl)
		return;
	json_decref(cl->req.body);
	json_decref(cl->req.out);
	if (cl->req.stream_free) /* a producer set but never started */
		cl->req.stream_free(cl->req.stream_ud);
	if (cl->stream)
		stream_end(cl->stream);
	if (cl->req.raw_free && !cl->answered)
		free((void *)cl->req.raw);
	hb_buf_free(&cl->body);
	free(cl);
	*state = NULL;
	__atomic_sub_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	hb_log("warn", "http", "detail", msg, NULL);
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

static char *read_file(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *p = hb_malloc(max + 1);
	size_t n = fread(p, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		free(p);
		return NULL;
	}
	p[n] = '\0';
	return p;
}

int hb_api_run(const hb_api_config *cfg)
{
	config = cfg;
	hb_log_init(cfg->log_format);
	hb_error e = {0};
	hb_store *main_store = NULL; /* the main thread's own: usage flushes */
	if (hb_store_open(cfg->db, false, &main_store, &e)) {
		fprintf(stderr, "hookbridge serve: %s\n", e.message);
		return hb_err_exit_status(e.code);
	}
	char *cert = NULL, *key = NULL;
	if (!cfg->tls_cert != !cfg->tls_key) {
		fprintf(stderr, "hookbridge serve: --tls-cert and --tls-key go together\n");
		hb_store_close(&main_store);
		return 2;
	}
	if (cfg->tls_cert && (!(cert = read_file(cfg->tls_cert, 1 << 20)) ||
			      !(key = read_file(cfg->tls_key, 1 << 20)))) {
		fprintf(stderr, "hookbridge serve: cannot read %s\n", cert ? cfg->tls_key : cfg->tls_cert);
		free(cert);
		hb_store_close(&main_store);
		return 2;
	}
	hb_metrics_init(hb_nroutes);
	hb_api_usage_init(cfg->rate_limit);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG;
	if (cfg->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cert)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem tls_opts[] = {
		{cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, key},
		{MHD_OPTION_END, 0, NULL},
	};
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&cfg->addr,
		MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s,
		MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		cfg->max_per_ip, MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->max_header,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "hookbridge serve: cannot listen on %s\n", cfg->listen);
		free(cert);
		free(key);
		hb_store_close(&main_store);
		hb_metrics_free();
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char port[16];
	snprintf(port, sizeof port, "%u", di ? di->port : 0);
	hb_log("info", "listening", "address", cfg->listen, "port", port, "tls", cert ? "on" : "off",
	       "version", HB_VERSION, NULL);
	if (hb_api_workers_start(cfg, &e)) {
		fprintf(stderr, "hookbridge serve: cannot start the delivery workers: %s\n", e.message);
		MHD_stop_daemon(d);
		free(cert);
		free(key);
		hb_store_close(&main_store);
		hb_metrics_free();
		return hb_err_exit_status(e.code);
	}
	double last_flush = now_s();
	while (!stop_signal) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
		if (now_s() - last_flush >= cfg->flush_s) {
			hb_api_usage_flush(main_store);
			last_flush = now_s();
		}
	}
	hb_log("info", "stopping", "signal", stop_signal == SIGINT ? "SIGINT" : "SIGTERM", NULL);
	__atomic_store_n(&stopping, 1, __ATOMIC_SEQ_CST);
	hb_api_workers_signal_stop(); /* they finish their transfers while requests finish */
	MHD_socket ls = MHD_quiesce_daemon(d); /* no new connections from here on */
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	double deadline = now_s() + cfg->grace_s;
	while (__atomic_load_n(&in_flight, __ATOMIC_SEQ_CST) && now_s() < deadline) {
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(d);
	hb_api_workers_stop();
	hb_api_usage_flush(main_store);
	close_workers();
	hb_store_close(&main_store);
	hb_api_usage_free();
	hb_metrics_free();
	free(cert);
	free(key);
	hb_log("info", "stopped", NULL);
	return 0;
}
