/*
 * auth.c - who may call the API (SPEC §8). A request names its key in `Authorization: Bearer`,
 * `X-API-Key` or the `apiKey` query parameter; the key's public prefix finds its row, the
 * SHA-256 of the whole key is compared in constant time with the stored hash, and then the
 * enabled flag (401), the IP allow-list (403) and the role decide. Community managers may do
 * everything in their community; project managers only what belongs to their projects.
 *
 * DESIGN. Use counts and last-use times are kept in a small table in memory, guarded by one
 * mutex (request threads add, the main thread takes), and written to the api_keys rows every
 * few seconds and at shutdown, so a request costs no database write. The same table holds each
 * key's token bucket when a rate limit is set. Refused attempts are logged with the key's
 * prefix and the client address, never the secret. Nothing about a key is cached between
 * requests: its row is read (inside the request's read transaction for read-only routes) and
 * the secret hashed every time, so a key disabled or re-scoped by any process is refused from
 * the next request on; a cache would save about a fifth of a request's work only if the store
 * could say cheaply that nothing changed, which it cannot yet.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/internal.h"
#include "core/mem.h"
#include "core/timeutil.h"

typedef struct usage {
	int64_t key_id;
	int64_t count; /* uses not yet written */
	int64_t last;  /* last use, Unix seconds */
	double tokens; /* rate limit bucket */
	double refilled;
} usage;

static pthread_mutex_t usage_lock = PTHREAD_MUTEX_INITIALIZER;
static usage *uses;
static size_t nuses, capuses;
static unsigned rate;

void hb_api_usage_init(unsigned rate_limit)
{
	rate = rate_limit;
}

void hb_api_usage_free(void)
{
	free(uses);
	uses = NULL;
	nuses = capuses = 0;
}

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static usage *usage_slot(int64_t key_id)
{
	for (size_t i = 0; i < nuses; i++)
		if (uses[i].key_id == key_id)
			return &uses[i];
	if (nuses == capuses) {
		capuses = capuses ? capuses * 2 : 16;
		uses = hb_realloc(uses, capuses * sizeof *uses);
	}
	usage *u = &uses[nuses++];
	*u = (usage){.key_id = key_id, .tokens = rate, .refilled = now_mono()};
	return u;
}

hb_err hb_api_usage_note(const hb_req *r, hb_error *e)
{
	hb_err rc = HB_OK;
	pthread_mutex_lock(&usage_lock);
	usage *u = usage_slot(r->auth.key_id);
	if (rate) {
		double t = now_mono();
		u->tokens += (t - u->refilled) * rate;
		if (u->tokens > rate)
			u->tokens = rate; /* a burst of at most one second's worth */
		u->refilled = t;
		if (u->tokens < 1)
			rc = hb_fail(e, HB_ERR_RATE_LIMITED, "", "more than %u requests a second with this "
				     "key: slow down", rate);
		else
			u->tokens -= 1;
	}
	if (!rc) {
		u->count++;
		u->last = hb_time_now();
	}
	pthread_mutex_unlock(&usage_lock);
	return rc;
}

void hb_api_usage_pending(int64_t key_id, int64_t *count, int64_t *last)
{
	*count = *last = 0;
	pthread_mutex_lock(&usage_lock);
	for (size_t i = 0; i < nuses; i++)
		if (uses[i].key_id == key_id) {
			*count = uses[i].count;
			*last = uses[i].last;
		}
	pthread_mutex_unlock(&usage_lock);
}

typedef struct flush_job {
	usage *items;
	size_t n;
} flush_job;

static hb_err flush_all(hb_ctx *c, void *ud, hb_error *e)
{
	flush_job *j = ud;
	const hb_kind *k = hb_kind_get(HB_K_APIKEY);
	hb_row *row = hb_row_new(k);
	hb_err rc = HB_OK;
	for (size_t i = 0; i < j->n && !rc; i++) {
		hb_cond cond = {0, hb_value_int(j->items[i].key_id)};
		rc = c->store->ops->find(c->store, k, &cond, 1, row, e);
		if (rc == HB_ERR_NOT_FOUND) { /* deleted meanwhile */
			rc = HB_OK;
			continue;
		}
		if (rc)
			break;
		hb_row_set_int(row, "use_count", hb_row_int(row, "use_count") + j->items[i].count);
		int64_t last = hb_row_get(row, "last_used_at").type == HB_TYPE_TIME
				       ? hb_row_get(row, "last_used_at").u.i : 0;
		if (j->items[i].last > last)
			hb_row_set_time(row, "last_used_at", j->items[i].last);
		rc = c->store->ops->update(c->store, row, e);
	}
	hb_row_free(&row);
	return rc;
}

void hb_api_usage_flush(hb_store *s)
{
	flush_job j = {NULL, 0};
	pthread_mutex_lock(&usage_lock);
	for (size_t i = 0; i < nuses; i++)
		if (uses[i].count)
			j.n++;
	if (j.n) {
		j.items = hb_calloc(j.n, sizeof *j.items);
		size_t at = 0;
		for (size_t i = 0; i < nuses; i++)
			if (uses[i].count) {
				j.items[at++] = uses[i];
				uses[i].count = 0;
			}
	}
	pthread_mutex_unlock(&usage_lock);
	if (!j.n)
		return;
	hb_ctx c = {.store = s};
	hb_error e = {0};
	if (hb_tx(&c, flush_all, &j, &e)) {
		hb_log("warn", "could not record API key use; will retry", "error", e.message, NULL);
		pthread_mutex_lock(&usage_lock); /* give the counts back for the next flush */
		for (size_t i = 0; i < j.n; i++) {
			usage *u = usage_slot(j.items[i].key_id);
			u->count += j.items[i].count;
			if (j.items[i].last > u->last)
				u->last = j.items[i].last;
		}
		pthread_mutex_unlock(&usage_lock);
	}
	free(j.items);
}

void hb_api_log_refusal(const hb_req *r, const char *prefix, const char *why)
{
	char ip[HB_CIDR_TEXT_MAX];
	hb_ipaddr_format(&r->client, ip, sizeof ip);
	hb_log("warn", "request refused", "reason", why, "key", prefix && *prefix ? prefix : "-", "ip",
	       ip, "method", r->method, "path", r->path, NULL);
}

/* The key as sent, or NULL. */
static const char *key_text(hb_req *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		while (*h == ' ')
			h++;
		return h;
	}
	if ((h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-API-Key")))
		return h;
	return hb_api_query(r, "apiKey");
}

/* SHA-256, fetched once: EVP_sha256() in EVP_Digest looks the algorithm up on every call,
   which costs more than hashing a key. Never freed: it lives as long as the process. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256;

static void fetch_sha256(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static hb_err refuse(hb_req *r, hb_error *e, hb_err code, const char *prefix, const char *why,
		     const char *msg)
{
	hb_api_log_refusal(r, prefix, why);
	return hb_fail(e, code, "", "%s", msg);
}

static hb_err load_community(hb_req *r, int64_t id, hb_error *e)
{
	hb_ctx *c = &r->w->ctx;
	c->store = r->w->store;
	c->in_tx = false;
	c->actor = r->auth.actor;
	r->c = c;
	if (c->community_id == id && id)
		return HB_OK; /* the worker's last request was for the same community */
	const hb_kind *k = hb_kind_get(HB_K_COMMUNITY);
	hb_row *row = hb_row_new(k);
	hb_cond cond = {0, hb_value_int(id)};
	hb_err rc = c->store->ops->find(c->store, k, &cond, 1, row, e);
	if (!rc) {
		c->community_id = id;
		snprintf(c->community_key, sizeof c->community_key, "%s", hb_row_str(row, "key"));
		c->enhanced_integrations = hb_row_int(row, "enhanced_integrations") != 0;
	}
	hb_row_free(&row);
	return rc;
}

hb_err hb_api_authenticate(hb_req *r, hb_error *e)
{
	const char *key = key_text(r);
	if (!key || !*key)
		return refuse(r, e, HB_ERR_UNAUTHORIZED, NULL, "no key",
			      "an API key is required: send Authorization: Bearer <key>");
	/* hb_<8 hex prefix>_<32 hex secret> */
	size_t n = strlen(key);
	char prefix[9];
	if (n != 3 + 8 + 1 + 32 || memcmp(key, "hb_", 3) != 0 || key[11] != '_' ||
	    !is_hex(key + 3, 8) || !is_hex(key + 12, 32))
		return refuse(r, e, HB_ERR_UNAUTHORIZED, NULL, "malformed key", "the API key is not valid");
	memcpy(prefix, key + 3, 8);
	prefix[8] = '\0';
	const hb_kind *k = hb_kind_get(HB_K_APIKEY);
	hb_row *row = hb_row_new(k);
	hb_cond cond = {hb_kind_col(k, "prefix"), hb_value_str(prefix)};
	hb_err rc = r->w->store->ops->find(r->w->store, k, &cond, 1, row, e);
	if (rc == HB_ERR_NOT_FOUND) {
		rc = refuse(r, e, HB_ERR_UNAUTHORIZED, prefix, "unknown key", "the API key is not valid");
		goto out;
	}
	if (rc)
		goto out;
	unsigned char digest[32];
	char hex[65];
	unsigned dlen = 0;
	pthread_once(&sha256_once, fetch_sha256);
	if (!sha256 || EVP_Digest(key, n, digest, &dlen, sha256, NULL) != 1 || dlen != 32) {
		rc = hb_fail(e, HB_ERR_INTERNAL, "", "SHA-256 is not available");
		goto out;
	}
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[64] = '\0';
	const char *stored = hb_row_str(row, "secret_hash");
	if (!stored || strlen(stored) != 64 || CRYPTO_memcmp(stored, hex, 64) != 0) {
		rc = refuse(r, e, HB_ERR_UNAUTHORIZED, prefix, "wrong secret", "the API key is not valid");
		goto out;
	}
	if (!hb_row_int(row, "enabled")) {
		rc = refuse(r, e, HB_ERR_UNAUTHORIZED, prefix, "key disabled", "the API key is disabled");
		goto out;
	}
	const char *ips = hb_row_str(row, "allow_ips");
	json_t *list = ips ? json_loads(ips, 0, NULL) : NULL;
	if (json_array_size(list)) {
		bool inside = false;
		size_t i;
		json_t *v;
		json_array_foreach(list, i, v) {
			hb_cidr cidr;
			hb_error ignore;
			if (json_is_string(v) && !hb_cidr_parse(json_string_value(v), &cidr, &ignore) &&
			    hb_cidr_contains(&cidr, &r->client))
				inside = true;
		}
		if (!inside) {
			json_decref(list);
			rc = refuse(r, e, HB_ERR_FORBIDDEN, prefix, "address not allowed",
				    "this API key may not be used from this address");
			goto out;
		}
	}
	json_decref(list);
	hb_auth *a = &r->auth;
	a->key_id = hb_row_id(row);
	snprintf(a->prefix, sizeof a->prefix, "%s", prefix);
	snprintf(a->actor, sizeof a->actor, "api:%s", prefix);
	a->manager = strcmp(hb_row_str(row, "role"), "community-manager") == 0;
	const char *projects = hb_row_str(row, "projects");
	json_t *pl = projects ? json_loads(projects, 0, NULL) : NULL;
	size_t i;
	json_t *v;
	json_array_foreach(pl, i, v) if (json_is_integer(v) && a->nprojects < HB_API_MAX_KEY_PROJECTS)
		a->projects[a->nprojects++] = json_integer_value(v);
	json_decref(pl);
	rc = load_community(r, hb_row_int(row, "community_id"), e);
	if (!rc && (r->route->flags & HB_ROUTE_MANAGER))
		rc = hb_api_manager_only(r, e);
	if (!rc)
		rc = hb_api_usage_note(r, e);
out:
	hb_row_free(&row);
	return rc;
}

hb_err hb_api_manager_only(hb_req *r, hb_error *e)
{
	if (r->auth.manager)
		return HB_OK;
	hb_api_log_refusal(r, r->auth.prefix, "needs a community manager");
	return hb_fail(e, HB_ERR_FORBIDDEN, "", "only a community-manager key may do this");
}

bool hb_api_has_project(const hb_req *r, int64_t project_id)
{
	if (r->auth.manager)
		return true;
	for (size_t i = 0; project_id && i < r->auth.nprojects; i++)
		if (r->auth.projects[i] == project_id)
			return true;
	return false;
}

hb_err hb_api_project_ok(hb_req *r, int64_t project_id, hb_error *e)
{
	if (hb_api_has_project(r, project_id))
		return HB_OK;
	hb_api_log_refusal(r, r->auth.prefix, project_id ? "other project" : "community-level record");
	return hb_fail(e, HB_ERR_FORBIDDEN, "",
		       project_id ? "this API key may not use records of that project"
				  : "only a community-manager key may change community-level records");
}

bool hb_api_user_visible(hb_req *r, int64_t user_id)
{
	if (r->auth.manager)
		return true;
	const hb_kind *k = hb_kind_get(HB_K_PARTICIPATION);
	for (size_t i = 0; i < r->auth.nprojects; i++) {
		hb_cond conds[2] = {{hb_kind_col(k, "project_id"), hb_value_int(r->auth.projects[i])},
				    {hb_kind_col(k, "user_id"), hb_value_int(user_id)}};
		bool any = false;
		hb_error ignore;
		if (!r->c->store->ops->exists(r->c->store, k, conds, 2, &any, &ignore) && any)
			return true;
	}
	return false;
}

hb_err hb_api_user_ok(hb_req *r, int64_t user_id, hb_error *e)
{
	if (hb_api_user_visible(r, user_id))
		return HB_OK;
	hb_api_log_refusal(r, r->auth.prefix, "user outside the key's projects");
	return hb_fail(e, HB_ERR_FORBIDDEN, "", "this user is in none of this API key's projects");
}
