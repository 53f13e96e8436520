/*
 * engine.h - the delivery engine: sends due deliveries over libcurl's multi interface.
 *
 * DESIGN. One thread, one curl multi handle, no thread per request and no busy polling: the
 * loop waits in curl_multi_poll until a transfer makes progress, an outcome batch is due, or
 * the next check of the queue. Each turn of the loop runs one store transaction that writes
 * the outcomes gathered since the last turn (delivery state, attempt log and captured values
 * together) and claims as many due deliveries as there are free slots; a claimed delivery is
 * marked 'sending' with a lease, so a crash leaves it to be sent again (with the same
 * Idempotency-Key) on restart. Connections are reused through the multi handle's pool, with a
 * global limit (concurrency) and a per-host limit. Every connection passes the outbound
 * address guard.
 */
#ifndef HB_DELIVER_ENGINE_H
#define HB_DELIVER_ENGINE_H

#include <signal.h>

#include "deliver/guard.h"
#include "deliver/plan.h"

/* Upper bounds (ms) of the attempt latency buckets; one more bucket holds the slower ones. */
#define HB_LATENCY_BUCKETS 12
extern const int64_t hb_latency_bounds_ms[HB_LATENCY_BUCKETS];

typedef struct hb_engine_stats {
	int64_t sent, succeeded, failed, retrying, in_flight;
	int64_t queued;  /* claimed, waiting in memory for a free slot */
	int64_t latency[HB_LATENCY_BUCKETS + 1]; /* answered or failed attempts by duration */
	int64_t latency_ms_sum;
	/* the store's queue, looked at every few seconds: pending deliveries due now, and those
	   due later (retries waiting out their delay) */
	int64_t due, due_later;
} hb_engine_stats;

typedef struct hb_engine_opts {
	size_t concurrency;      /* transfers at once (default 64) */
	size_t per_host;         /* connections to one host (default 16) */
	const hb_guard *guard;   /* required */
	hb_plan_opts plan;       /* default timeout and retry schedule */
	int64_t until_run;       /* >0: return once this run is finished */
	bool until_idle;         /* return when nothing is in flight or due */
	bool backlog;            /* count the store's queue every few seconds (stats.due…) */
	volatile sig_atomic_t *stop; /* set (by a signal handler) to return soon */
	/* called about every 200 ms, and at the end */
	void (*tick)(void *ud, const hb_engine_stats *s);
	void *tick_ud;
} hb_engine_opts;

/* Deliver until asked to stop, or until the run or the queue is done. Deliveries left
   'sending' by a stopped process are made due first. Transfers in flight when stop is set are
   let finish (up to their timeout) and recorded. */
hb_err hb_engine_run(hb_ctx *c, const hb_engine_opts *o, hb_error *e) HB_MUST_USE;

#endif
