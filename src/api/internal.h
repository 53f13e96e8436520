/*
 * internal.h - what the pieces of the API server share: one request as handlers see it, the
 * route table, authentication, paging and response helpers, metrics and logs.
 *
 * DESIGN. libmicrohttpd runs a small pool of threads; each owns an hb_worker (its own store
 * connection and hb_ctx), made on its first request, so no database handle is ever shared
 * between threads. A request is matched against the route table (router.c) when its headers
 * arrive, its body is gathered under a cap, then auth.c checks the key, and the route's
 * handler runs through the same model functions as the command line. A handler answers with
 * a JSON value and a status, or returns an hb_err whose hb_error becomes the JSON error body.
 */
#ifndef HB_API_INTERNAL_H
#define HB_API_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>

#include "api/api.h"
#include "core/buf.h"
#include "core/cidr.h"
#include "model/model.h"

#define HB_API_MAX_PARAMS 4
#define HB_API_PARAM_MAX 256
#define HB_API_MAX_KEY_PROJECTS 64
#define HB_API_PAGE_DEFAULT 50
#define HB_API_PAGE_MAX 200

/* One request thread's own database connection and community context. */
typedef struct hb_worker {
	hb_store *store;
	hb_ctx ctx;
	struct hb_worker *next;
} hb_worker;

/* Who is calling: the API key that was checked. */
typedef struct hb_auth {
	int64_t key_id;
	char prefix[16];
	bool manager; /* community manager: everything in the community */
	int64_t projects[HB_API_MAX_KEY_PROJECTS]; /* project manager: these projects */
	size_t nprojects;
	char actor[32]; /* "api:<prefix>" */
} hb_auth;

typedef struct hb_req hb_req;
typedef hb_err (*hb_route_fn)(hb_req *r, hb_error *e);
/* A streamed answer's producer: append the next piece of the body to out and set *done once
   there is no more (appending nothing then). Called on the request's thread, between other
   requests' work, so it must not keep a statement or transaction open from call to call. */
typedef hb_err (*hb_api_stream_fn)(void *ud, hb_buf *out, bool *done, hb_error *e);

enum {
	HB_ROUTE_PUBLIC = 1u << 0,  /* no API key needed */
	HB_ROUTE_BODY = 1u << 1,    /* takes a JSON body */
	HB_ROUTE_MANAGER = 1u << 2, /* community managers only */
	HB_ROUTE_NOSTORE = 1u << 3, /* answers without a store connection */
	HB_ROUTE_READ = 1u << 4,    /* only reads (no body): runs in one read transaction */
};

typedef struct hb_route {
	const char *method;
	const char *pattern; /* "/api/v1/users/{user}"; also the metrics label */
	hb_route_fn fn;
	unsigned flags;
} hb_route;

struct hb_req {
	struct MHD_Connection *conn;
	const hb_api_config *cfg;
	const hb_route *route;
	hb_worker *w;
	hb_ctx *c; /* &w->ctx once the key's community is loaded */
	const char *method;
	const char *path;
	char params[HB_API_MAX_PARAMS][HB_API_PARAM_MAX]; /* {…} segments of the pattern, in order */
	int nparams;
	json_t *body;
	hb_auth auth;
	hb_ipaddr client;
	/* the answer */
	unsigned status;
	json_t *out;             /* JSON answer, or */
	const char *raw;         /* a static body of raw_len bytes with raw_type */
	size_t raw_len;
	const char *raw_type;
	bool raw_free;           /* raw was malloc'ed and goes to the answer */
	char location[512];      /* Location header of a 201, or "" */
	hb_api_stream_fn stream; /* a streamed body of raw_type (hb_api_stream), or NULL */
	void *stream_ud;
	void (*stream_free)(void *ud);
};

/* server.c: this thread's worker (store connection), opened on first use; NULL and e filled
   when the store cannot be opened. */
hb_worker *hb_api_worker(hb_req *r, hb_error *e);

/* router.c */
extern const hb_route hb_routes[];
extern const size_t hb_nroutes;
/* The route for method and path, with its parameters in r; NULL when none. *path_known is set
   when some route has this path under another method (405, not 404). */
const hb_route *hb_route_match(hb_req *r, const char *method, const char *path, bool *path_known);
/* "GET, POST" for the Allow header of a 405. */
void hb_route_allowed(const char *path, char *out, size_t n);
/* Index of a route in hb_routes (for metrics). */
size_t hb_route_index(const hb_route *route);

/* auth.c */
/* Check the request's API key and load its community into the worker. */
hb_err hb_api_authenticate(hb_req *r, hb_error *e) HB_MUST_USE;
/* May the caller touch records of this project (0: community-level records)? 403 if not. */
hb_err hb_api_project_ok(hb_req *r, int64_t project_id, hb_error *e) HB_MUST_USE;
/* May the caller see this user (a project manager: users in one of the key's projects)? */
hb_err hb_api_user_ok(hb_req *r, int64_t user_id, hb_error *e) HB_MUST_USE;
hb_err hb_api_manager_only(hb_req *r, hb_error *e) HB_MUST_USE;
/* The same questions without a refusal: for filtering lists. */
bool hb_api_has_project(const hb_req *r, int64_t project_id);
bool hb_api_user_visible(hb_req *r, int64_t user_id);
/* Key use kept in memory: add one use (and apply the rate limit). */
hb_err hb_api_usage_note(const hb_req *r, hb_error *e) HB_MUST_USE;
/* Write the uses kept in memory to the api_keys rows (one transaction). */
void hb_api_usage_flush(hb_store *s);
/* Uses of key_id not yet written: count and last time (0 when none). */
void hb_api_usage_pending(int64_t key_id, int64_t *count, int64_t *last);
void hb_api_usage_init(unsigned rate_limit);
void hb_api_usage_free(void);
void hb_api_log_refusal(const hb_req *r, const char *prefix, const char *why);

/* respond.c */
/* Answer with a JSON value (reference stolen). */
hb_err hb_api_reply(hb_req *r, unsigned status, json_t *out);
/* Answer 200 with a body of type made as it is sent: fn is called for each next piece (the
   first before the status line is sent, so its failure is still an ordinary JSON error); ud
   belongs to the answer from here on and free_fn(ud) is called once it is done or dropped. */
void hb_api_stream(hb_req *r, const char *type, hb_api_stream_fn fn, void *ud,
		   void (*free_fn)(void *ud));
/* A record as public JSON. */
json_t *hb_api_row_json(hb_req *r, const hb_row *row);
/* A query parameter, or NULL. */
const char *hb_api_query(hb_req *r, const char *name);
/* A required query parameter; 400 naming it when missing. */
hb_err hb_api_query_need(hb_req *r, const char *name, const char **out, hb_error *e) HB_MUST_USE;
/* Refuse any field of the body outside the NULL-terminated list (422 naming it). */
hb_err hb_api_body_only(hb_req *r, const char *const *allowed, hb_error *e) HB_MUST_USE;

/* records.c: the user, ticket or project that External Data of target is stored against,
   checked for reading or writing by the caller. */
hb_err hb_api_find_target(hb_req *r, hb_target t, const char *name, bool write, hb_row **out,
			  hb_error *e) HB_MUST_USE;

/* For a project-manager key: refuse a new record whose body names a project (or group) outside
   the key's projects, or none (community level). */
hb_err hb_api_precheck_project(hb_req *r, hb_kind_id kind, hb_error *e) HB_MUST_USE;

/* page.c: cursor paging over one kind. */
typedef struct hb_page_spec {
	hb_kind_id kind;
	hb_cond conds[16];
	size_t nconds;
	/* A project manager sees only rows this says yes to (NULL: all rows). */
	bool (*visible)(hb_req *r, const hb_row *row);
	json_t *(*to_json)(hb_req *r, const hb_row *row); /* NULL: hb_api_row_json */
	const char *const *reserved; /* query parameters that are not filters, besides paging */
	bool no_filters;             /* query parameters other than paging are refused */
} hb_page_spec;
/* Answer {"data":[…],"next_cursor":…} for the page asked by limit and cursor; other query
   parameters are field filters checked by the model. */
hb_err hb_api_list(hb_req *r, hb_page_spec *spec, hb_error *e) HB_MUST_USE;
/* Opaque cursor text for a last id, and back (false when it is not one of ours). */
void hb_cursor_encode(int64_t id, char *out, size_t n);
bool hb_cursor_decode(const char *s, int64_t *id);

/* metrics.c */
void hb_metrics_init(size_t nroutes);
void hb_metrics_count(size_t route, unsigned status, double seconds);
/* Prometheus text of every counter; caller frees. */
char *hb_metrics_text(void);
/* Another subsystem's metrics (deliveries, …): fn appends Prometheus text to out. */
typedef void (*hb_metrics_source)(void *ud, hb_buf *out);
void hb_metrics_add_source(hb_metrics_source fn, void *ud);
void hb_metrics_free(void);

/* workers.c: the delivery engine on its own thread (when cfg->workers), and its metrics. */
hb_err hb_api_workers_start(const hb_api_config *cfg, hb_error *e) HB_MUST_USE;
/* Ask the engine to stop (transfers in flight finish); hb_api_workers_stop then waits. */
void hb_api_workers_signal_stop(void);
void hb_api_workers_stop(void);
int hb_api_workers_running(void);

/* log.c */
void hb_log_init(hb_log_format f);
/* One line on stderr: level, message, then key/value pairs (NULL-terminated, values text). */
void hb_log(const char *level, const char *msg, ...) __attribute__((sentinel));

/* openapi.c */
extern const char hb_openapi_json[];
extern const size_t hb_openapi_json_len;

/* Handlers, one file per resource family. */
hb_err hb_h_healthz(hb_req *r, hb_error *e);
hb_err hb_h_readyz(hb_req *r, hb_error *e);
hb_err hb_h_readyz_workers(hb_req *r, hb_error *e); /* hb_h_readyz and the delivery workers */
hb_err hb_h_metrics(hb_req *r, hb_error *e);
hb_err hb_h_openapi(hb_req *r, hb_error *e);

hb_err hb_h_projects_list(hb_req *r, hb_error *e);
hb_err hb_h_projects_create(hb_req *r, hb_error *e);
hb_err hb_h_project_get(hb_req *r, hb_error *e);
hb_err hb_h_project_update(hb_req *r, hb_error *e);
hb_err hb_h_project_delete(hb_req *r, hb_error *e);
hb_err hb_h_participants_list(hb_req *r, hb_error *e);
hb_err hb_h_participants_join(hb_req *r, hb_error *e);
hb_err hb_h_users_list(hb_req *r, hb_error *e);
hb_err hb_h_users_create(hb_req *r, hb_error *e);
hb_err hb_h_user_get(hb_req *r, hb_error *e);
hb_err hb_h_user_update(hb_req *r, hb_error *e);
hb_err hb_h_user_delete(hb_req *r, hb_error *e);
hb_err hb_h_notes_list(hb_req *r, hb_error *e);
hb_err hb_h_notes_create(hb_req *r, hb_error *e);
hb_err hb_h_ftypes_list(hb_req *r, hb_error *e);
hb_err hb_h_ftypes_create(hb_req *r, hb_error *e);
hb_err hb_h_ftype_get(hb_req *r, hb_error *e);
hb_err hb_h_ftype_update(hb_req *r, hb_error *e);
hb_err hb_h_ftype_delete(hb_req *r, hb_error *e);
hb_err hb_h_feedback_list(hb_req *r, hb_error *e);
hb_err hb_h_feedback_create(hb_req *r, hb_error *e);
hb_err hb_h_feedback_get(hb_req *r, hb_error *e);
hb_err hb_h_feedback_update(hb_req *r, hb_error *e);
hb_err hb_h_feedback_delete(hb_req *r, hb_error *e);
hb_err hb_h_replies_list(hb_req *r, hb_error *e);
hb_err hb_h_replies_create(hb_req *r, hb_error *e);
hb_err hb_h_xgroups_list(hb_req *r, hb_error *e);
hb_err hb_h_xgroups_create(hb_req *r, hb_error *e);
hb_err hb_h_xgroup_get(hb_req *r, hb_error *e);
hb_err hb_h_xgroup_update(hb_req *r, hb_error *e);
hb_err hb_h_xgroup_delete(hb_req *r, hb_error *e);
hb_err hb_h_xfields_list(hb_req *r, hb_error *e);
hb_err hb_h_xfields_create(hb_req *r, hb_error *e);
hb_err hb_h_xfield_get(hb_req *r, hb_error *e);
hb_err hb_h_xfield_update(hb_req *r, hb_error *e);
hb_err hb_h_xfield_delete(hb_req *r, hb_error *e);
hb_err hb_h_xvalues_get(hb_req *r, hb_error *e);
hb_err hb_h_xvalues_set(hb_req *r, hb_error *e);
hb_err hb_h_xvalues_clear(hb_req *r, hb_error *e);
hb_err hb_h_macros_list(hb_req *r, hb_error *e);
hb_err hb_h_macros_create(hb_req *r, hb_error *e);
hb_err hb_h_macros_validate(hb_req *r, hb_error *e);
hb_err hb_h_macro_get(hb_req *r, hb_error *e);
hb_err hb_h_macro_update(hb_req *r, hb_error *e);
hb_err hb_h_macro_delete(hb_req *r, hb_error *e);
hb_err hb_h_runs_start(hb_req *r, hb_error *e);
hb_err hb_h_runs_list(hb_req *r, hb_error *e);
hb_err hb_h_run_get(hb_req *r, hb_error *e);
hb_err hb_h_macro_test(hb_req *r, hb_error *e);
hb_err hb_h_deliveries_list(hb_req *r, hb_error *e);
hb_err hb_h_deliveries_retry(hb_req *r, hb_error *e);
hb_err hb_h_delivery_get(hb_req *r, hb_error *e);
hb_err hb_h_delivery_retry(hb_req *r, hb_error *e);
hb_err hb_h_apikeys_list(hb_req *r, hb_error *e);
hb_err hb_h_apikeys_create(hb_req *r, hb_error *e);
hb_err hb_h_apikey_get(hb_req *r, hb_error *e);
hb_err hb_h_apikey_disable(hb_req *r, hb_error *e);
hb_err hb_h_secrets_list(hb_req *r, hb_error *e);
hb_err hb_h_secret_set(hb_req *r, hb_error *e);
hb_err hb_h_secret_delete(hb_req *r, hb_error *e);

#endif
