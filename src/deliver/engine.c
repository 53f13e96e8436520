/*
 * engine.c - see engine.h.
 */
#include "deliver/engine.h"

#include <curl/curl.h>
#include <malloc.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/mem.h"
#include "core/timeutil.h"
#include "deliver/outcome.h"
#include "deliver/request.h"
#include "deliver/run.h"
#include "deliver/transfer.h"

#define FLUSH_BATCH 256      /* outcomes written per transaction at most */
#define FLUSH_AFTER_MS 20    /* …or once the oldest has waited this long */
#define IDLE_CHECK_MS 200    /* how often an empty queue is looked at again */
#define CLAIM_GAP_MS 2       /* shortest gap between two claims while the queue is full */
#define QUEUE_PER_SLOT 16    /* claimed deliveries held ready per transfer slot */
#define PLAN_CHECK_MS 2000   /* how often a cached macro is checked for edits */
#define LEASE_MS (6 * 60 * 1000) /* longer than any transfer may take */
#define RESUME_CHECK_MS 5000 /* how often runs whose creator died are looked for */
/* Each flush frees a batch's logs and answers at once; with glibc's default threshold (128 KiB)
   that shrinks the heap and the next batch grows it again, a system call and fresh page faults
   every few milliseconds (about a tenth of the engine's time). Freed memory is kept instead. */
#define KEEP_FREED_BYTES (32 << 20)

typedef struct job {
	struct job *next_free;
	hb_transfer t;
	hb_outcome out;
	const hb_plan_action *action;
	hb_request req;
	int64_t started_ms;
	char key[64];
} job;

typedef struct plan_entry {
	hb_plan *plan;
	int64_t checked_ms;
} plan_entry;

typedef struct run_entry {
	int64_t id, macro_id, community_id;
	char token[16];
	hb_row *row; /* for the run.* tags */
} run_entry;

typedef struct community_entry {
	int64_t id;
	hb_ctx ctx;
} community_entry;

typedef struct engine {
	hb_ctx *c;
	const hb_engine_opts *o;
	CURLM *multi;
	job *jobs, *free_jobs;
	size_t in_flight;
	hb_outcome *done; /* finished attempts not yet written */
	size_t ndone, capdone;
	int64_t first_done_ms;
	/* claimed deliveries waiting for a free slot, oldest first (a ring): claiming several
	   slots' worth at once keeps transactions few and large */
	hb_row **queue;
	size_t qhead, qlen, qcap;
	plan_entry *plans;
	size_t nplans;
	hb_plan **retired;
	size_t nretired;
	run_entry runs[64];
	size_t nruns;
	community_entry *communities;
	size_t ncommunities;
	hb_engine_stats stats;
	size_t creating; /* runs a live process is still creating, at the last look */
	uint64_t rnd;
	bool stopping;
} engine;

const int64_t hb_latency_bounds_ms[HB_LATENCY_BUCKETS] = {5,   10,   25,   50,	 100,  250,
							   500, 1000, 2500, 5000, 10000, 15000};

static void count_latency(hb_engine_stats *s, int64_t ms)
{
	size_t b = 0;
	while (b < HB_LATENCY_BUCKETS && ms > hb_latency_bounds_ms[b])
		b++;
	s->latency[b]++;
	s->latency_ms_sum += ms;
}

static double jitter(engine *g)
{
	g->rnd ^= g->rnd << 13; /* xorshift64: jitter needs spread, not secrecy */
	g->rnd ^= g->rnd >> 7;
	g->rnd ^= g->rnd << 17;
	return (double)(g->rnd >> 11) / 9007199254740992.0;
}

/* ---- caches: communities, runs and plans */

static hb_ctx *community_ctx(engine *g, int64_t id, hb_error *e)
{
	if (id == g->c->community_id)
		return g->c;
	for (size_t i = 0; i < g->ncommunities; i++)
		if (g->communities[i].id == id)
			return &g->communities[i].ctx;
	hb_row *row = hb_row_new(hb_kind_get(HB_K_COMMUNITY));
	hb_cond cond = {0, hb_value_int(id)};
	hb_err rc = g->c->store->ops->find(g->c->store, row->kind, &cond, 1, row, e);
	hb_ctx ctx = {0};
	if (!rc)
		rc = hb_ctx_load(&ctx, g->c->store, hb_row_str(row, "key"), e);
	hb_row_free(&row);
	if (rc)
		return NULL;
	ctx.actor = g->c->actor;
	g->communities = hb_realloc(g->communities, (g->ncommunities + 1) * sizeof *g->communities);
	g->communities[g->ncommunities] = (community_entry){id, ctx};
	return &g->communities[g->ncommunities++].ctx;
}

static hb_ctx *ctx_for(void *ud, int64_t community_id, hb_error *e)
{
	return community_ctx(ud, community_id, e);
}

static const run_entry *run_info(engine *g, int64_t run_id, hb_error *e)
{
	for (size_t i = 0; i < g->nruns; i++)
		if (g->runs[i].id == run_id)
			return &g->runs[i];
	hb_row *run = hb_row_new(hb_kind_get(HB_K_RUN));
	hb_cond cond = {0, hb_value_int(run_id)};
	hb_err rc = g->c->store->ops->find(g->c->store, run->kind, &cond, 1, run, e);
	if (rc) {
		hb_row_free(&run);
		return NULL;
	}
	size_t at = g->nruns < 64 ? g->nruns++ : (size_t)(g->rnd % 64);
	run_entry *r = &g->runs[at];
	hb_row_free(&r->row);
	r->row = run;
	r->id = run_id;
	r->macro_id = hb_row_int(run, "macro_id");
	r->community_id = hb_row_int(run, "community_id");
	snprintf(r->token, sizeof r->token, "%s", hb_row_str(run, "token"));
	return r;
}

static hb_plan *plan_for(engine *g, const run_entry *run, hb_error *e)
{
	int64_t now = hb_time_now_ms();
	plan_entry *pe = NULL;
	for (size_t i = 0; i < g->nplans && !pe; i++)
		if (g->plans[i].plan->macro_id == run->macro_id)
			pe = &g->plans[i];
	if (pe && now - pe->checked_ms < PLAN_CHECK_MS)
		return pe->plan;
	hb_ctx *c = community_ctx(g, run->community_id, e);
	if (!c)
		return NULL;
	if (pe) { /* still the same macro? */
		hb_row *m = hb_row_new(hb_kind_get(HB_K_MACRO));
		hb_cond cond = {0, hb_value_int(run->macro_id)};
		bool same = c->store->ops->find(c->store, m->kind, &cond, 1, m, e) == HB_OK &&
			    hb_row_get(m, "updated_at").u.i == pe->plan->updated_at;
		hb_row_free(&m);
		pe->checked_ms = now;
		if (same)
			return pe->plan;
		/* outcomes in flight still point at the old plan: keep it until the end */
		g->retired = hb_realloc(g->retired, (g->nretired + 1) * sizeof *g->retired);
		g->retired[g->nretired++] = pe->plan;
		pe->plan = NULL;
	}
	hb_plan *p = NULL;
	if (hb_plan_load(c, run->macro_id, &g->o->plan, &p, e))
		return NULL;
	if (!pe) {
		g->plans = hb_realloc(g->plans, (g->nplans + 1) * sizeof *g->plans);
		pe = &g->plans[g->nplans++];
	}
	*pe = (plan_entry){p, now};
	return p;
}

/* ---- finished attempts */

static hb_outcome *new_outcome(engine *g)
{
	if (g->ndone == g->capdone) {
		g->capdone = g->capdone ? 2 * g->capdone : 64;
		g->done = hb_realloc(g->done, g->capdone * sizeof *g->done);
	}
	if (g->ndone == 0)
		g->first_done_ms = hb_time_now_ms();
	hb_outcome *o = &g->done[g->ndone++];
	memset(o, 0, sizeof *o);
	return o;
}

/* A retryable failure: another try on the schedule, or failed for good when it is used up. */
static void retry_or_fail(engine *g, hb_outcome *o, const hb_schedule *s, int64_t retry_after_ms)
{
	int64_t delay = hb_schedule_next(s, o->attempt, jitter(g), retry_after_ms);
	if (delay >= 0) {
		o->final = HB_FINAL_RETRY;
		o->due_at = hb_time_now_ms() + delay;
		g->stats.retrying++;
	} else {
		o->final = HB_FINAL_FAILED;
		g->stats.failed++;
	}
}

static void fail_now(engine *g, hb_outcome *o, const char *cls, const char *msg)
{
	o->error_class = cls;
	o->error = hb_strdup(msg);
	o->final = HB_FINAL_FAILED;
	g->stats.failed++;
}

/* ---- transfers */

/* Start sending delivery d (owned: it goes into the outcome). */
static void start(engine *g, job *j, hb_row *d)
{
	hb_error e = {0};
	hb_outcome *o = &j->out;
	memset(o, 0, sizeof *o);
	o->delivery_id = hb_row_id(d);
	o->run_id = hb_row_int(d, "run_id");
	o->record_id = hb_row_int(d, "record_id");
	o->position = (int)hb_row_int(d, "position");
	o->attempt = (int)hb_row_int(d, "attempts") + 1;
	o->started_at = hb_time_now();
	o->row = d;
	j->started_ms = hb_time_now_ms();
	const run_entry *run = run_info(g, o->run_id, &e);
	hb_plan *plan = run ? plan_for(g, run, &e) : NULL;
	o->plan = plan;
	j->action = plan ? hb_plan_action_at(plan, o->position) : NULL;
	const hb_value *slots = NULL;
	const char *cls = "internal";
	bool ready = false;
	if (plan && plan->run_id != run->id) { /* run.* tags follow the delivery's run */
		hb_tagctx_set_run(plan->tags, plan->macro, run->row);
		plan->run_id = run->id;
	}
	if (plan && !j->action)
		hb_fail(&e, HB_ERR_NOT_FOUND, "", "the macro no longer has a webhook at action %d",
			o->position);
	if (j->action && hb_tagctx_load(plan->tags, o->record_id, &slots, &e) != HB_OK)
		cls = "record";
	else if (j->action) {
		hb_delivery_key(run->token, o->delivery_id, j->key, sizeof j->key);
		ready = hb_request_build(j->action, slots, j->key, o->started_at, &j->req, &e) == HB_OK;
		if (!ready)
			cls = "render";
	}
	if (!ready) { /* nothing can be sent: record why, at once */
		hb_outcome *done = new_outcome(g);
		*done = *o;
		done->request = j->req.log; /* the request's log moves to the outcome */
		j->req.log = (hb_buf){0};
		fail_now(g, done, cls, e.message[0] ? e.message : "the delivery could not be prepared");
		hb_request_free(&j->req);
		j->next_free = g->free_jobs;
		g->free_jobs = j;
		return;
	}
	hb_transfer_prepare(&j->t, j->action, &j->req, g->o->guard);
	curl_easy_setopt(j->t.easy, CURLOPT_PRIVATE, j);
	curl_multi_add_handle(g->multi, j->t.easy);
	g->in_flight++;
	g->stats.sent++;
}

static void finish(engine *g, job *j, CURLcode res)
{
	curl_multi_remove_handle(g->multi, j->t.easy);
	g->in_flight--;
	hb_outcome *o = new_outcome(g);
	*o = j->out;
	o->duration_ms = hb_time_now_ms() - j->started_ms;
	count_latency(&g->stats, o->duration_ms);
	o->request = j->req.log; /* the request's log moves to the outcome */
	j->req.log = (hb_buf){0};
	const hb_plan_action *a = j->action;
	bool retryable;
	int64_t retry_after;
	hb_transfer_outcome(&j->t, res, a, o, &retryable, &retry_after);
	if (o->final != HB_FINAL_SUCCEEDED) { /* a success is counted when written (sync_store) */
		if (retryable)
			retry_or_fail(g, o, &a->schedule, retry_after);
		else
			g->stats.failed++;
	}
	if (o->final == HB_FINAL_FAILED && o->attempt > 1 && retryable) {
		size_t n = strlen(o->error) + 48;
		char *longer = hb_calloc(1, n);
		snprintf(longer, n, "%s (attempt %d of %zu)", o->error, o->attempt, a->schedule.n + 1);
		free(o->error);
		o->error = longer;
	}
	hb_request_free(&j->req);
	j->next_free = g->free_jobs;
	g->free_jobs = j;
}

/* ---- the loop */

static hb_err take_claimed(void *ud, const hb_row *row, hb_error *e)
{
	(void)e;
	engine *g = ud;
	hb_row *copy = hb_row_new(row->kind);
	hb_row_copy(copy, row);
	g->queue[(g->qhead + g->qlen++) % g->qcap] = copy;
	return HB_OK;
}

static hb_row *queue_pop(engine *g)
{
	hb_row *d = g->queue[g->qhead];
	g->queue[g->qhead] = NULL;
	g->qhead = (g->qhead + 1) % g->qcap;
	g->qlen--;
	return d;
}

/* One transaction: write the finished attempts, claim what the queue has room for. */
static hb_err sync_store(engine *g, size_t want, hb_error *e)
{
	hb_store *s = g->c->store;
	hb_err rc = s->ops->begin(s, e);
	if (rc)
		return rc;
	rc = hb_outcomes_write(g->c, g->done, g->ndone, e);
	int64_t now = hb_time_now_ms();
	size_t before = g->qlen;
	if (!rc && want)
		rc = s->ops->delivery_claim(s, now, now + LEASE_MS, want, take_claimed, g, e);
	if (!rc)
		rc = s->ops->commit(s, e);
	if (rc) {
		s->ops->rollback(s);
		while (g->qlen > before) { /* the claim was undone: drop what it queued */
			g->qlen--;
			hb_row_free(&g->queue[(g->qhead + g->qlen) % g->qcap]);
		}
		return rc;
	}
	for (size_t i = 0; i < g->ndone; i++) {
		hb_outcome *o = &g->done[i];
		/* successes are counted once written: a native action after the webhook may still
		   fail the delivery then */
		if (o->final == HB_FINAL_SUCCEEDED)
			g->stats.succeeded++;
		else if (o->error_class && strcmp(o->error_class, "action") == 0)
			g->stats.failed++;
		hb_outcome_clear(o);
	}
	g->ndone = 0;
	return HB_OK;
}

/* On stopping: the claimed deliveries never started are due again at once, for the next start
   or another worker (their lease would hold them back for minutes). */
static hb_err unclaim_queue(engine *g, hb_error *e)
{
	if (g->qlen == 0)
		return HB_OK;
	hb_store *s = g->c->store;
	const hb_kind *k = hb_kind_get(HB_K_DELIVERY);
	int cols[] = {hb_kind_col(k, "status"), hb_kind_col(k, "due_at")};
	hb_cond expect = {cols[0], hb_value_str("sending")};
	hb_tally t = {0};
	hb_err rc = s->ops->begin(s, e);
	for (size_t i = 0; i < g->qlen && !rc; i++) {
		hb_row *d = g->queue[(g->qhead + i) % g->qcap];
		hb_row_set_str(d, "status", "pending");
		hb_row_set_int(d, "due_at", hb_time_now_ms());
		rc = s->ops->update_cols(s, d, cols, 2, &expect, e);
		if (!rc)
			hb_tally_move(&t, hb_row_int(d, "run_id"), HB_DS_SENDING, HB_DS_PENDING);
		else if (rc == HB_ERR_NOT_FOUND) /* its run was deleted, or another worker has it */
			rc = HB_OK;
	}
	if (!rc)
		rc = hb_tally_write(&t, s, e);
	hb_tally_free(&t);
	if (!rc)
		rc = s->ops->commit(s, e);
	if (rc)
		s->ops->rollback(s);
	while (g->qlen)
		hb_row_free(&g->queue[(g->qhead + --g->qlen) % g->qcap]);
	return rc;
}

static bool run_finished(engine *g, int64_t run_id)
{
	hb_row *run = hb_row_new(hb_kind_get(HB_K_RUN));
	hb_cond cond = {0, hb_value_int(run_id)};
	hb_error e;
	bool done = g->c->store->ops->find(g->c->store, run->kind, &cond, 1, run, &e) != HB_OK ||
		    strcmp(hb_row_str(run, "status"), "finished") == 0;
	hb_row_free(&run);
	return done;
}

/* Finished attempts are written once many have gathered, once the oldest has waited long
   enough, or when nothing else is left to do. */
static bool flush_due(const engine *g, int64_t now)
{
	return g->ndone > 0 &&
	       (g->ndone >= FLUSH_BATCH || now - g->first_done_ms >= FLUSH_AFTER_MS ||
		(g->in_flight == 0 && (g->qlen == 0 || g->stopping)));
}

#define READ_AHEAD_MAX 64 /* records read ahead at once */

/* The records of the deliveries about to start that belong to the first one's run (usually
   all of them), read ahead in one statement; returns the tag context holding them, or NULL. */
static hb_tagctx *read_ahead(engine *g)
{
	size_t n = 0;
	for (const job *j = g->free_jobs; j && n < g->qlen && n < READ_AHEAD_MAX; j = j->next_free)
		n++;
	if (n < 2)
		return NULL;
	int64_t run_id = hb_row_int(g->queue[g->qhead], "run_id");
	hb_error e = {0}; /* a run or plan that cannot be read: start() reports it */
	const run_entry *run = run_info(g, run_id, &e);
	hb_plan *plan = run ? plan_for(g, run, &e) : NULL;
	if (!plan)
		return NULL;
	int64_t ids[READ_AHEAD_MAX];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const hb_row *d = g->queue[(g->qhead + i) % g->qcap];
		if (hb_row_int(d, "run_id") == run_id)
			ids[k++] = hb_row_int(d, "record_id");
	}
	hb_tagctx_read_ahead(plan->tags, ids, k);
	return plan->tags;
}

/* Start what the free slots can take; the records' tags are read in one read transaction,
   most of them ahead in one statement. */
static void start_queued(engine *g)
{
	if (g->stopping || !g->qlen || !g->free_jobs)
		return;
	hb_store *s = g->c->store;
	hb_error ignored; /* without it each read takes its own lock */
	bool read_tx = s->ops->begin_read(s, &ignored) == HB_OK;
	hb_tagctx *ahead = read_tx ? read_ahead(g) : NULL;
	while (g->qlen && g->free_jobs) {
		job *j = g->free_jobs;
		g->free_jobs = j->next_free;
		start(g, j, queue_pop(g));
	}
	if (ahead) /* before the transaction ends: later loads must see later writes */
		hb_tagctx_drop_ahead(ahead);
	if (read_tx && s->ops->commit(s, &ignored))
		s->ops->rollback(s);
}

static hb_err loop(engine *g, hb_error *e)
{
	const hb_engine_opts *o = g->o;
	int64_t next_check = 0, last_tick = 0, next_resume = 0;
	bool queue_empty = false;
	for (;;) {
		if (o->stop && *o->stop)
			g->stopping = true;
		int64_t now = hb_time_now_ms();
		if (!g->stopping && now >= next_resume) { /* runs left half-created by a killed process */
			hb_err rc = hb_run_resume_stale(g->c, ctx_for, g, &g->creating, e);
			if (!rc && o->backlog) /* a scan of the due index: only for those who show it */
				rc = g->c->store->ops->delivery_backlog(g->c->store, hb_time_now_ms(), &g->stats.due,
									&g->stats.due_later, e);
			if (rc)
				return rc;
			now = hb_time_now_ms();
			next_resume = now + (g->creating ? 1000 : RESUME_CHECK_MS);
			next_check = now; /* what was carried on is due */
		}
		start_queued(g);
		/* refill the queue in large groups, once it is down to one delivery per slot; the
		   same transaction writes what has finished */
		bool want_claim = !g->stopping && now >= next_check && g->qlen < o->concurrency;
		if (want_claim || flush_due(g, now)) {
			size_t want = want_claim ? g->qcap - g->qlen : 0, before = g->qlen;
			bool had_outcomes = g->ndone > 0;
			hb_err rc = sync_store(g, want, e);
			if (rc)
				return rc;
			if (want) {
				queue_empty = g->qlen - before < want;
				next_check = now + (queue_empty ? IDLE_CHECK_MS : CLAIM_GAP_MS);
			}
			if (o->until_run && had_outcomes && run_finished(g, o->until_run))
				g->stopping = true;
			start_queued(g);
		}
		if (now - last_tick >= 200) {
			last_tick = now;
			g->stats.in_flight = (int64_t)g->in_flight;
			g->stats.queued = (int64_t)g->qlen;
			if (o->tick)
				o->tick(o->tick_ud, &g->stats);
		}
		if (g->in_flight == 0 && g->ndone == 0) {
			if (g->stopping)
				break;
			if (o->until_idle && queue_empty && g->qlen == 0 && g->creating == 0)
				break;
			if (o->until_run && queue_empty && g->qlen == 0 && run_finished(g, o->until_run))
				break;
		}
		int running = 0;
		curl_multi_perform(g->multi, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(g->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			job *j;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			finish(g, j, msg->data.result);
		}
		if (flush_due(g, hb_time_now_ms()) || (g->qlen && g->free_jobs && !g->stopping))
			continue; /* write them, or fill the free slots, now */
		/* sleep until a transfer moves, or the next claim or flush is due */
		now = hb_time_now_ms();
		int64_t wait = IDLE_CHECK_MS;
		if (!g->stopping && g->qlen < o->concurrency && next_check - now < wait)
			wait = next_check - now;
		if (g->ndone > 0 && g->first_done_ms + FLUSH_AFTER_MS - now < wait)
			wait = g->first_done_ms + FLUSH_AFTER_MS - now;
		curl_multi_poll(g->multi, NULL, 0, wait > 0 ? (int)wait : 0, NULL);
	}
	g->stats.in_flight = 0;
	if (o->tick)
		o->tick(o->tick_ud, &g->stats);
	return HB_OK;
}

hb_err hb_engine_run(hb_ctx *c, const hb_engine_opts *o, hb_error *e)
{
	mallopt(M_TRIM_THRESHOLD, KEEP_FREED_BYTES);
	engine *g = hb_calloc(1, sizeof *g);
	g->c = c;
	g->o = o;
	if (RAND_bytes((unsigned char *)&g->rnd, sizeof g->rnd) != 1 || g->rnd == 0)
		g->rnd = (uint64_t)hb_time_now_ms() | 1;
	g->multi = curl_multi_init();
	curl_multi_setopt(g->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o->concurrency);
	curl_multi_setopt(g->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->per_host);
	curl_multi_setopt(g->multi, CURLMOPT_MAXCONNECTS, (long)o->concurrency);
	g->jobs = hb_calloc(o->concurrency, sizeof *g->jobs);
	g->qcap = o->concurrency * QUEUE_PER_SLOT;
	g->queue = hb_calloc(g->qcap, sizeof *g->queue);
	for (size_t i = 0; i < o->concurrency; i++) {
		job *j = &g->jobs[i];
		hb_transfer_init(&j->t);
		j->next_free = g->free_jobs;
		g->free_jobs = j;
	}
	int64_t released = 0;
	hb_err rc = c->store->ops->delivery_release(c->store, hb_time_now_ms(), &released, e);
	if (!rc)
		rc = loop(g, e);
	hb_error later = {0}; /* a failure of the loop is the one reported */
	hb_err unclaimed = unclaim_queue(g, rc ? &later : e);
	if (!rc)
		rc = unclaimed;
	for (size_t i = 0; i < g->ndone; i++)
		hb_outcome_clear(&g->done[i]);
	for (size_t i = 0; i < o->concurrency; i++) {
		job *j = &g->jobs[i];
		curl_multi_remove_handle(g->multi, j->t.easy);
		hb_transfer_free(&j->t);
		hb_request_free(&j->req);
	}
	curl_multi_cleanup(g->multi);
	for (size_t i = 0; i < g->nplans; i++)
		hb_plan_free(&g->plans[i].plan);
	for (size_t i = 0; i < g->nretired; i++)
		hb_plan_free(&g->retired[i]);
	for (size_t i = 0; i < g->nruns; i++)
		hb_row_free(&g->runs[i].row);
	free(g->communities);
	free(g->plans);
	free(g->retired);
	free(g->done);
	free(g->queue);
	free(g->jobs);
	free(g);
	return rc;
}
