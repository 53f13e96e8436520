/*
 * metrics.c - counters for /metrics in the Prometheus text format: API requests by route
 * and status, and their total time. Counters are plain integers updated with atomic adds from
 * every request thread; other subsystems (the delivery engine) add their own lines through
 * hb_metrics_add_source.
 */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/mem.h"

/* The statuses the API answers with; anything else is counted under "other". */
static const unsigned statuses[] = {200, 201, 204, 400, 401, 403, 404, 405, 409,
				    413, 415, 422, 429, 431, 500, 503, 0};
#define NSTATUS (sizeof statuses / sizeof statuses[0])

typedef struct route_counters {
	unsigned long long by_status[NSTATUS];
	unsigned long long micros; /* total time answering */
} route_counters;

static route_counters *counters; /* nroutes + 1: the last is "no route" */
static size_t ncounters;
static struct {
	hb_metrics_source fn;
	void *ud;
} sources[8];
static size_t nsources;

void hb_metrics_init(size_t nroutes)
{
	ncounters = nroutes + 1;
	counters = hb_calloc(ncounters, sizeof *counters);
}

void hb_metrics_free(void)
{
	free(counters);
	counters = NULL;
	nsources = 0;
}

void hb_metrics_add_source(hb_metrics_source fn, void *ud)
{
	if (nsources < sizeof sources / sizeof sources[0])
		sources[nsources++] = (__typeof__(sources[0])){fn, ud};
}

void hb_metrics_count(size_t route, unsigned status, double seconds)
{
	if (!counters)
		return;
	if (route >= ncounters)
		route = ncounters - 1;
	size_t s = 0;
	while (statuses[s] && statuses[s] != status)
		s++;
	__atomic_add_fetch(&counters[route].by_status[s], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&counters[route].micros, (unsigned long long)(seconds * 1e6),
			   __ATOMIC_RELAXED);
}

char *hb_metrics_text(void)
{
	hb_buf b;
	hb_buf_init(&b, HB_BUF_UNLIMITED);
	hb_err rc = hb_buf_adds(&b, "# HELP hookbridge_api_requests_total API requests answered, "
				     "by route and status.\n# TYPE hookbridge_api_requests_total counter\n");
	for (size_t r = 0; r < ncounters && !rc; r++) {
		const char *label = r < hb_nroutes ? hb_routes[r].pattern : "unmatched";
		const char *method = r < hb_nroutes ? hb_routes[r].method : "";
		for (size_t s = 0; s < NSTATUS && !rc; s++) {
			unsigned long long n = __atomic_load_n(&counters[r].by_status[s], __ATOMIC_RELAXED);
			if (!n)
				continue;
			char st[16];
			snprintf(st, sizeof st, "%u", statuses[s]);
			rc = hb_buf_printf(&b,
					   "hookbridge_api_requests_total{method=\"%s\",route=\"%s\","
					   "status=\"%s\"} %llu\n",
					   method, label, statuses[s] ? st : "other", n);
		}
	}
	if (!rc)
		rc = hb_buf_adds(&b, "# HELP hookbridge_api_request_seconds_total Time spent answering "
				     "API requests, by route.\n# TYPE hookbridge_api_request_seconds_total "
				     "counter\n");
	for (size_t r = 0; r < ncounters && !rc; r++) {
		unsigned long long us = __atomic_load_n(&counters[r].micros, __ATOMIC_RELAXED);
		if (!us)
			continue;
		rc = hb_buf_printf(&b, "hookbridge_api_request_seconds_total{method=\"%s\",route=\"%s\"} "
				       "%llu.%06llu\n",
				   r < hb_nroutes ? hb_routes[r].method : "",
				   r < hb_nroutes ? hb_routes[r].pattern : "unmatched", us / 1000000,
				   us % 1000000);
	}
	for (size_t i = 0; i < nsources; i++)
		sources[i].fn(sources[i].ud, &b);
	return hb_buf_steal(&b);
}
