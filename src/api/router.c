/*
 * router.c - the route table of the API: method, path pattern, handler and access flags,
 * one line per route; nothing else in the server knows the list. A pattern's {name} segments
 * match one path segment each and are handed to the handler in order; literal segments win
 * over parameters when both would match. Routes marked R only read: the key check and the
 * handler run in one read transaction (one snapshot, one lock, see server.c).
 */
#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include "api/packages.h"

#define P HB_ROUTE_PUBLIC
#define B HB_ROUTE_BODY
#define M HB_ROUTE_MANAGER
#define N HB_ROUTE_NOSTORE
#define R HB_ROUTE_READ
#define V1 "/api/v1"

const hb_route hb_routes[] = {
	{"GET", "/healthz", hb_h_healthz, P | N},
	{"GET", "/readyz", hb_h_readyz_workers, P},
	{"GET", "/metrics", hb_h_metrics, P | N},
	{"GET", V1 "/openapi.json", hb_h_openapi, P | N},

	{"GET", V1 "/projects", hb_h_projects_list, R},
	{"POST", V1 "/projects", hb_h_projects_create, B | M},
	{"GET", V1 "/projects/{project}", hb_h_project_get, R},
	{"PATCH", V1 "/projects/{project}", hb_h_project_update, B},
	{"DELETE", V1 "/projects/{project}", hb_h_project_delete, M},
	{"GET", V1 "/projects/{project}/participants", hb_h_participants_list, R},
	{"POST", V1 "/projects/{project}/participants", hb_h_participants_join, B},

	{"GET", V1 "/users", hb_h_users_list, R},
	{"POST", V1 "/users", hb_h_users_create, B},
	{"GET", V1 "/users/{user}", hb_h_user_get, R},
	{"PATCH", V1 "/users/{user}", hb_h_user_update, B},
	{"DELETE", V1 "/users/{user}", hb_h_user_delete, M},
	{"GET", V1 "/users/{user}/notes", hb_h_notes_list, R},
	{"POST", V1 "/users/{user}/notes", hb_h_notes_create, B},

	{"GET", V1 "/feedback-types", hb_h_ftypes_list, R},
	{"POST", V1 "/feedback-types", hb_h_ftypes_create, B},
	{"GET", V1 "/feedback-types/{id}", hb_h_ftype_get, R},
	{"PATCH", V1 "/feedback-types/{id}", hb_h_ftype_update, B},
	{"DELETE", V1 "/feedback-types/{id}", hb_h_ftype_delete, 0},

	{"GET", V1 "/feedback", hb_h_feedback_list, R},
	{"POST", V1 "/feedback", hb_h_feedback_create, B},
	{"GET", V1 "/feedback/{number}", hb_h_feedback_get, R},
	{"PATCH", V1 "/feedback/{number}", hb_h_feedback_update, B},
	{"DELETE", V1 "/feedback/{number}", hb_h_feedback_delete, 0},
	{"GET", V1 "/feedback/{number}/replies", hb_h_replies_list, R},
	{"POST", V1 "/feedback/{number}/replies", hb_h_replies_create, B},

	{"GET", V1 "/xdata/groups", hb_h_xgroups_list, R},
	{"POST", V1 "/xdata/groups", hb_h_xgroups_create, B},
	{"GET", V1 "/xdata/groups/{group}", hb_h_xgroup_get, R},
	{"PATCH", V1 "/xdata/groups/{group}", hb_h_xgroup_update, B},
	{"DELETE", V1 "/xdata/groups/{group}", hb_h_xgroup_delete, 0},
	{"GET", V1 "/xdata/fields", hb_h_xfields_list, R},
	{"POST", V1 "/xdata/fields", hb_h_xfields_create, B},
	{"GET", V1 "/xdata/fields/{field}", hb_h_xfield_get, R},
	{"PATCH", V1 "/xdata/fields/{field}", hb_h_xfield_update, B},
	{"DELETE", V1 "/xdata/fields/{field}", hb_h_xfield_delete, 0},
	{"GET", V1 "/xdata/values", hb_h_xvalues_get, R},
	{"PUT", V1 "/xdata/values", hb_h_xvalues_set, B},
	{"DELETE", V1 "/xdata/values", hb_h_xvalues_clear, 0},

	{"GET", V1 "/macros", hb_h_macros_list, R},
	{"POST", V1 "/macros", hb_h_macros_create, B},
	{"POST", V1 "/macros/validate", hb_h_macros_validate, B},
	{"GET", V1 "/macros/{key}", hb_h_macro_get, R},
	{"PUT", V1 "/macros/{key}", hb_h_macro_update, B},
	{"DELETE", V1 "/macros/{key}", hb_h_macro_delete, 0},
	{"POST", V1 "/macros/{key}/runs", hb_h_runs_start, B},
	{"GET", V1 "/macros/{key}/runs", hb_h_runs_list, R},
	{"POST", V1 "/macros/{key}/test", hb_h_macro_test, B},
	{"GET", V1 "/runs/{id}", hb_h_run_get, R},
	{"GET", V1 "/deliveries", hb_h_deliveries_list, R},
	{"POST", V1 "/deliveries/retry", hb_h_deliveries_retry, B | M},
	{"GET", V1 "/deliveries/{id}", hb_h_delivery_get, R},
	{"POST", V1 "/deliveries/{id}/retry", hb_h_delivery_retry, 0},

	/* data packages, lookups and reports (api/packages.c) */
	{"GET", V1 "/projects/{project}/data-packages/{key}", hb_h_project_package, R},
	{"GET", V1 "/data-packages/{key}", hb_h_community_package, R},
	{"GET", V1 "/lookup/{on}/{id}", hb_h_lookup, R},
	{"GET", V1 "/reports", hb_h_reports, R},

	{"GET", V1 "/apikeys", hb_h_apikeys_list, M | R},
	{"POST", V1 "/apikeys", hb_h_apikeys_create, B | M},
	{"GET", V1 "/apikeys/{id}", hb_h_apikey_get, M | R},
	{"POST", V1 "/apikeys/{id}/disable", hb_h_apikey_disable, M},

	{"GET", V1 "/secrets", hb_h_secrets_list, M | R},
	{"PUT", V1 "/secrets/{name}", hb_h_secret_set, B | M},
	{"DELETE", V1 "/secrets/{name}", hb_h_secret_delete, M},
};
const size_t hb_nroutes = sizeof hb_routes / sizeof hb_routes[0];

size_t hb_route_index(const hb_route *route)
{
	return (size_t)(route - hb_routes);
}

/* Match path against pattern; parameters into r when r is not NULL. Returns the number of
   literal segments matched (to prefer literals), or -1. One pass over both strings, so a route
   whose first literal differs is passed over after a few characters. */
static int match(const char *pattern, const char *path, hb_req *r)
{
	const char *p = pattern, *s = path;
	int literals = 0, np = 0;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return -1;
		p++, s++;
		if (*p == '{') {
			size_t pl = strcspn(p, "/"), sl = strcspn(s, "/");
			if (pl < 2 || p[pl - 1] != '}' || sl == 0 || sl >= HB_API_PARAM_MAX ||
			    np == HB_API_MAX_PARAMS)
				return -1;
			if (r) {
				memcpy(r->params[np], s, sl);
				r->params[np][sl] = '\0';
			}
			np++;
			p += pl, s += sl;
			continue;
		}
		while (*p && *p != '/' && *p == *s)
			p++, s++;
		if ((*p && *p != '/') || (*s && *s != '/'))
			return -1; /* the segments differ */
		literals++;
	}
	if (*p || (*s && strcmp(s, "/") != 0)) /* one trailing slash is forgiven */
		return -1;
	if (r)
		r->nparams = np;
	return literals;
}

const hb_route *hb_route_match(hb_req *r, const char *method, const char *path, bool *path_known)
{
	const hb_route *best = NULL;
	int best_lit = -1;
	*path_known = false;
	for (size_t i = 0; i < hb_nroutes; i++) {
		int lit = match(hb_routes[i].pattern, path, NULL);
		if (lit < 0)
			continue;
		*path_known = true;
		if (strcmp(hb_routes[i].method, method) == 0 && lit > best_lit) {
			best = &hb_routes[i];
			best_lit = lit;
		}
	}
	if (best)
		match(best->pattern, path, r);
	return best;
}

void hb_route_allowed(const char *path, char *out, size_t n)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < hb_nroutes && at < n; i++) {
		if (match(hb_routes[i].pattern, path, NULL) < 0 || strstr(out, hb_routes[i].method))
			continue;
		int w = snprintf(out + at, n - at, "%s%s", at ? ", " : "", hb_routes[i].method);
		if (w < 0)
			break;
		at += (size_t)w;
	}
}

void hb_api_print_routes(void)
{
	for (size_t i = 0; i < hb_nroutes; i++)
		printf("%s %s\n", hb_routes[i].method, hb_routes[i].pattern);
}
