/*
 * workers.c - the delivery engine inside `hookbridge serve`: hb_engine_run on a thread of its
 * own, with its own store connection and hb_ctx (no database handle is shared between
 * threads), the same settings as `hookbridge worker`. Its figures reach /metrics and its
 * health /readyz.
 *
 * DESIGN. The engine thread owns everything it touches; what others read is a handful of
 * counters copied by its tick callback (about every 200 ms) into integers read and written
 * with atomic operations, and a state word: running, stopped (asked to) or failed. A stop sets
 * the engine's own stop flag, which lets transfers in flight finish and be recorded; the main
 * thread then joins it.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/internal.h"

enum { W_OFF, W_RUNNING, W_DONE, W_FAILED };

static pthread_t thread;
static int state = W_OFF;
static volatile sig_atomic_t stop_flag;
static hb_engine_opts opts;
static hb_store *store;
static hb_ctx ctx;
static int64_t sent, succeeded, failed, retrying, in_flight;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static hb_engine_stats last; /* the rest of the engine's figures, under stats_lock */

static void on_tick(void *ud, const hb_engine_stats *s)
{
	(void)ud;
	pthread_mutex_lock(&stats_lock);
	last = *s;
	pthread_mutex_unlock(&stats_lock);
	__atomic_store_n(&sent, s->sent, __ATOMIC_RELAXED);
	__atomic_store_n(&succeeded, s->succeeded, __ATOMIC_RELAXED);
	__atomic_store_n(&failed, s->failed, __ATOMIC_RELAXED);
	__atomic_store_n(&retrying, s->retrying, __ATOMIC_RELAXED);
	__atomic_store_n(&in_flight, s->in_flight, __ATOMIC_RELAXED);
}

static void *engine_main(void *arg)
{
	(void)arg;
	hb_error e = {0};
	hb_err rc = hb_engine_run(&ctx, &opts, &e);
	if (rc)
		hb_log("error", "the delivery workers stopped", "error",
		       e.message[0] ? e.message : hb_err_name(rc), NULL);
	__atomic_store_n(&state, rc ? W_FAILED : W_DONE, __ATOMIC_SEQ_CST);
	return NULL;
}

static void metrics(void *ud, hb_buf *out)
{
	(void)ud;
	static const char *const names[] = {"sent", "succeeded", "failed", "retrying"};
	int64_t *values[] = {&sent, &succeeded, &failed, &retrying};
	hb_err rc = hb_buf_adds(out, "# HELP hookbridge_deliveries_total Delivery attempts since the "
				     "server started, by outcome.\n# TYPE hookbridge_deliveries_total "
				     "counter\n");
	for (size_t i = 0; i < 4 && !rc; i++)
		rc = hb_buf_printf(out, "hookbridge_deliveries_total{outcome=\"%s\"} %lld\n", names[i],
				   (long long)__atomic_load_n(values[i], __ATOMIC_RELAXED));
	if (!rc)
		rc = hb_buf_printf(out, "# HELP hookbridge_deliveries_in_flight Transfers under way.\n"
				       "# TYPE hookbridge_deliveries_in_flight gauge\n"
				       "hookbridge_deliveries_in_flight %lld\n"
				       "# HELP hookbridge_workers_up 1 while the delivery workers run.\n"
				       "# TYPE hookbridge_workers_up gauge\nhookbridge_workers_up %d\n",
				   (long long)__atomic_load_n(&in_flight, __ATOMIC_RELAXED),
				   hb_api_workers_running());
	pthread_mutex_lock(&stats_lock);
	hb_engine_stats s = last;
	pthread_mutex_unlock(&stats_lock);
	if (!rc)
		rc = hb_buf_adds(out, "# HELP hookbridge_attempt_duration_seconds How long delivery "
				      "attempts took, from start to answer or error.\n"
				      "# TYPE hookbridge_attempt_duration_seconds histogram\n");
	int64_t cumulative = 0;
	for (size_t i = 0; i <= HB_LATENCY_BUCKETS && !rc; i++) {
		cumulative += s.latency[i];
		char le[24];
		if (i < HB_LATENCY_BUCKETS)
			snprintf(le, sizeof le, "%g", (double)hb_latency_bounds_ms[i] / 1000);
		else
			snprintf(le, sizeof le, "+Inf");
		rc = hb_buf_printf(out, "hookbridge_attempt_duration_seconds_bucket{le=\"%s\"} %lld\n",
				   le, (long long)cumulative);
	}
	if (!rc)
		rc = hb_buf_printf(out,
				   "hookbridge_attempt_duration_seconds_sum %.3f\n"
				   "hookbridge_attempt_duration_seconds_count %lld\n"
				   "# HELP hookbridge_deliveries_due Pending deliveries due now (looked at "
				   "every few seconds).\n# TYPE hookbridge_deliveries_due gauge\n"
				   "hookbridge_deliveries_due %lld\n"
				   "# HELP hookbridge_retries_waiting Pending deliveries waiting out a retry "
				   "delay.\n# TYPE hookbridge_retries_waiting gauge\n"
				   "hookbridge_retries_waiting %lld\n"
				   "# HELP hookbridge_deliveries_queued Deliveries claimed by the workers, "
				   "waiting for a free slot.\n# TYPE hookbridge_deliveries_queued gauge\n"
				   "hookbridge_deliveries_queued %lld\n",
				   (double)s.latency_ms_sum / 1000, (long long)cumulative, (long long)s.due,
				   (long long)s.due_later, (long long)s.queued);
	(void)rc; /* a metrics text cut short by memory is still valid up to there */
}

hb_err hb_api_workers_start(const hb_api_config *cfg, hb_error *e)
{
	hb_metrics_add_source(metrics, NULL);
	if (!cfg->workers)
		return HB_OK;
	if (!cfg->engine)
		return hb_fail(e, HB_ERR_INTERNAL, "", "no delivery settings");
	hb_err rc = hb_store_open(cfg->db, false, &store, e);
	if (rc)
		return rc;
	opts = *cfg->engine;
	opts.until_run = 0;
	opts.until_idle = false;
	opts.backlog = true; /* for /metrics */
	opts.stop = &stop_flag;
	opts.tick = on_tick;
	opts.tick_ud = NULL;
	memset(&ctx, 0, sizeof ctx); /* no community: the engine loads each run's own */
	ctx.store = store;
	ctx.actor = "worker";
	stop_flag = 0;
	__atomic_store_n(&state, W_RUNNING, __ATOMIC_SEQ_CST);
	if (pthread_create(&thread, NULL, engine_main, NULL) != 0) {
		__atomic_store_n(&state, W_OFF, __ATOMIC_SEQ_CST);
		hb_store_close(&store);
		return hb_fail(e, HB_ERR_INTERNAL, "", "cannot start the delivery thread");
	}
	char conc[16], host[16];
	snprintf(conc, sizeof conc, "%zu", opts.concurrency);
	snprintf(host, sizeof host, "%zu", opts.per_host);
	hb_log("info", "delivery workers started", "concurrency", conc, "per_host", host, NULL);
	return HB_OK;
}

void hb_api_workers_signal_stop(void)
{
	stop_flag = 1;
}

void hb_api_workers_stop(void)
{
	if (__atomic_load_n(&state, __ATOMIC_SEQ_CST) == W_OFF)
		return;
	stop_flag = 1;
	pthread_join(thread, NULL);
	hb_store_close(&store);
	__atomic_store_n(&state, W_OFF, __ATOMIC_SEQ_CST);
	hb_log("info", "delivery workers stopped", NULL);
}

int hb_api_workers_running(void)
{
	return __atomic_load_n(&state, __ATOMIC_SEQ_CST) == W_RUNNING;
}

hb_err hb_h_readyz_workers(hb_req *r, hb_error *e)
{
	hb_err rc = hb_h_readyz(r, e);
	if (rc || !json_is_object(r->out))
		return rc;
	const char *w = !r->cfg->workers ? "off" : hb_api_workers_running() ? "running" : "stopped";
	json_object_set_new(r->out, "workers", json_string(w));
	if (r->cfg->workers && !hb_api_workers_running()) {
		json_object_set_new(r->out, "status", json_string("unavailable"));
		r->status = 503;
	}
	return HB_OK;
}
