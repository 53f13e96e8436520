/*
 * deliver.c - the delivery commands: `macro run`, `macro log`, `delivery list|show|retry` and
 * `worker`. Engine settings (--allow-target, --concurrency, --per-host, --retry-schedule) are
 * read the same way wherever the engine runs (engine_opts below; `serve` uses it too).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/engine_opts.h"
#include "core/jsonw.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "deliver/engine.h"
#include "deliver/run.h"
#include "deliver/testsend.h"
#include "query/saved.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ---- engine settings, shared by every command that delivers */

const hb_optspec hb_engine_optspecs[] = {
	{"allow-target", true, true, "CIDR range webhooks may reach despite the address rules (repeatable)"},
	{"concurrency", true, false, "requests in flight at once (default 64)"},
	{"per-host", true, false, "connections to one host at once (default 16)"},
	{"retry-schedule", true, false, "default retry delays, e.g. 5s,5m,30m (default: SPEC schedule)"},
	{NULL},
};

static hb_err count_opt(const char *v, const char *name, size_t *out, hb_error *e)
{
	char *end;
	long n = v ? strtol(v, &end, 10) : 0;
	if (!v)
		return HB_OK;
	if (*end || n < 1 || n > 10000)
		return hb_fail(e, HB_ERR_USAGE, name, "--%s must be a whole number from 1 to 10000", name);
	*out = (size_t)n;
	return HB_OK;
}

hb_err hb_engine_opts_read(hb_args *a, hb_engine_opts *o, hb_guard **guard, hb_error *e)
{
	memset(o, 0, sizeof *o);
	o->concurrency = 64;
	o->per_host = 16;
	o->plan.timeout_ms = 15000;
	hb_schedule_default(&o->plan.schedule);
	*guard = hb_guard_new();
	hb_err rc = HB_OK;
	for (int i = 0; !rc && hb_args_nth(a, "allow-target", i); i++)
		rc = hb_guard_allow(*guard, hb_args_nth(a, "allow-target", i), e);
	const char *env = getenv("HOOKBRIDGE_ALLOW_TARGET"); /* comma-separated ranges */
	while (!rc && env && *env) {
		const char *comma = strchr(env, ',');
		char one[128];
		size_t len = comma ? (size_t)(comma - env) : strlen(env);
		snprintf(one, sizeof one, "%.*s", (int)(len < 127 ? len : 127), env);
		if (*one)
			rc = hb_guard_allow(*guard, one, e);
		env = comma ? comma + 1 : NULL;
	}
	const char *conc = hb_args_get(a, "concurrency");
	rc = rc ? rc : count_opt(conc ? conc : getenv("HOOKBRIDGE_CONCURRENCY"), "concurrency", &o->concurrency, e);
	const char *host = hb_args_get(a, "per-host");
	rc = rc ? rc : count_opt(host ? host : getenv("HOOKBRIDGE_PER_HOST"), "per-host", &o->per_host, e);
	const char *sched = hb_args_get(a, "retry-schedule");
	if (!sched)
		sched = getenv("HOOKBRIDGE_RETRY_SCHEDULE");
	if (!rc && sched)
		rc = hb_schedule_parse(sched, &o->plan.schedule, e);
	o->guard = *guard;
	return rc;
}

/* ---- progress */

typedef struct progress {
	hb_cli *cli;
	int64_t run_id;
	int64_t started_ms;
	bool tty;
} progress;

static void on_tick(void *ud, const hb_engine_stats *s)
{
	(void)s;
	progress *p = ud;
	if (!p->tty)
		return;
	hb_run_counts n;
	hb_error e;
	if (hb_run_counts_get(&p->cli->ctx, p->run_id, &n, &e))
		return;
	int64_t done = n.succeeded + n.failed + n.skipped;
	double secs = (double)(hb_time_mono_ms() - p->started_ms) / 1000.0;
	double rate = secs > 0 ? (double)done / secs : 0;
	int width = 30, fill = n.total ? (int)(width * done / n.total) : width;
	char bar[64];
	for (int i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	long eta = rate > 0 ? (long)((double)(n.total - done) / rate) : 0;
	fprintf(stderr, "\r[%s] %lld/%lld  %.0f/s  %lld failed  %lld retrying  ETA %ld:%02ld ", bar,
		(long long)done, (long long)n.total, rate, (long long)n.failed,
		(long long)(n.pending + n.sending), eta / 60, eta % 60);
	fflush(stderr);
}

static int deliver_until(hb_cli *cli, hb_args *a, int64_t run_id, bool idle)
{
	hb_engine_opts o;
	hb_guard *guard = NULL;
	hb_error e = {0};
	int status = 0;
	if (hb_engine_opts_read(a, &o, &guard, &e)) {
		hb_guard_free(&guard);
		return hb_cli_fail(cli, &e);
	}
	progress p = {cli, run_id, hb_time_mono_ms(), run_id && isatty(2) && !cli->json};
	o.until_run = run_id;
	o.until_idle = idle;
	o.stop = &stop_flag;
	o.tick = on_tick;
	o.tick_ud = &p;
	catch_signals();
	if (hb_engine_run(&cli->ctx, &o, &e))
		status = hb_cli_fail(cli, &e);
	if (p.tty)
		fputc('\n', stderr);
	hb_guard_free(&guard);
	return status;
}

/* ---- macro run, macro log */

static void print_run(hb_cli *cli, const hb_row *run)
{
	json_t *o = hb_run_json(&cli->ctx, run);
	if (cli->json) {
		hb_cli_print_json(o);
		return;
	}
	json_t *d = json_object_get(o, "deliveries");
	printf("run %lld of macro %s: %s, %lld records\n", (long long)hb_row_id(run),
	       json_string_value(json_object_get(o, "macro")), hb_row_str(run, "status"),
	       (long long)hb_row_int(run, "total"));
	printf("deliveries: %lld succeeded, %lld failed, %lld skipped, %lld to send or retry, "
	       "%lld waiting for an earlier webhook\n",
	       (long long)json_integer_value(json_object_get(d, "succeeded")),
	       (long long)json_integer_value(json_object_get(d, "failed")),
	       (long long)json_integer_value(json_object_get(d, "skipped")),
	       (long long)(json_integer_value(json_object_get(d, "pending")) +
			   json_integer_value(json_object_get(d, "sending"))),
	       (long long)json_integer_value(json_object_get(d, "waiting")));
	json_decref(o);
}

static hb_err pick(hb_cli *cli, hb_args *a, const hb_row *macro, int64_t **ids, size_t *n,
		   char *describe, size_t dn, hb_error *e)
{
	bool feedback = strcmp(hb_row_str(macro, "target"), "feedback") == 0;
	const char *opt = feedback ? "feedback" : "user";
	const char *other = feedback ? "user" : "feedback";
	if (hb_args_has(a, other))
		return hb_fail(e, HB_ERR_USAGE, other, "macro '%s' runs on %s: use --%s or --all",
			       hb_row_str(macro, "key"), feedback ? "feedback tickets" : "users", opt);
	int given = 0;
	while (hb_args_nth(a, opt, given))
		given++;
	const char *filter = hb_args_get(a, "filter");
	if ((given > 0) + hb_args_has(a, "all") + (filter != NULL) != 1)
		return hb_fail(e, HB_ERR_USAGE, opt, "choose the records: --%s …, --all or --filter F", opt);
	if (hb_args_has(a, "all")) {
		snprintf(describe, dn, "all %s", feedback ? "feedback tickets" : "users");
		return HB_OK;
	}
	if (filter) {
		snprintf(describe, dn, "filter: %s", filter);
		return HB_OK;
	}
	*ids = calloc((size_t)given, sizeof **ids);
	for (int i = 0; i < given; i++) {
		hb_row *r = NULL;
		hb_err rc = hb_record_find(&cli->ctx, feedback ? HB_K_FEEDBACK : HB_K_USER,
					   cli->ctx.community_id, hb_args_nth(a, opt, i), &r, e);
		if (rc)
			return rc;
		(*ids)[(*n)++] = hb_row_id(r);
		hb_row_free(&r);
	}
	snprintf(describe, dn, "%d %s%s", given, feedback ? "feedback ticket" : "user",
		 given == 1 ? "" : "s");
	return HB_OK;
}

static int macro_run(hb_cli *cli, int argc, char **argv)
{
	hb_optspec opts[16] = {{"user", true, true, "a user's email or id (repeatable)"},
			       {"feedback", true, true, "a ticket number such as EXA-0001 (repeatable)"},
			       {"all", false, false, "every record the macro applies to"},
			       {"filter", true, false, "those a filter chooses (an expression, or @SAVED)"},
			       {"wait", false, false, "deliver now, until every delivery is settled"}};
	memcpy(opts + 5, hb_engine_optspecs, 5 * sizeof *opts);
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge macro run";
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge macro run KEY (--user E… | --feedback N… | --all | --filter F)"
		       " [--wait]\n\n"
		       "Creates a run and one delivery per webhook per record, durably. Without --wait\n"
		       "the deliveries are sent by `hookbridge serve` or `hookbridge worker`; with it\n"
		       "they are sent now, with a progress bar, until each has succeeded or failed.\n");
		return 0;
	}
	if (a.npos != 1)
		return hb_cli_usage(cli, "expected the macro's KEY");
	hb_engine_opts checked;
	hb_guard *guard = NULL;
	hb_err bad = hb_engine_opts_read(&a, &checked, &guard, &e); /* before anything is written */
	hb_guard_free(&guard);
	if (bad)
		return hb_cli_usage(cli, "%s", e.message);
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	hb_row *macro = NULL, *run = NULL;
	int64_t *ids = NULL;
	size_t n = 0;
	char describe[200];
	char *saved = NULL;
	const char *filter = hb_args_get(&a, "filter");
	hb_err rc = hb_record_find(&cli->ctx, HB_K_MACRO, cli->ctx.community_id, a.pos[0], &macro, &e);
	if (!rc)
		rc = pick(cli, &a, macro, &ids, &n, describe, sizeof describe, &e);
	if (!rc && filter && filter[0] == '@') { /* a saved filter, for the same records */
		hb_target t;
		int64_t project;
		rc = hb_saved_filter_load(&cli->ctx, filter + 1, &t, &project, &saved, &e);
		if (!rc && (t == HB_TARGET_FEEDBACK) != (strcmp(hb_row_str(macro, "target"), "feedback") == 0))
			rc = hb_fail(&e, HB_ERR_INVALID, "filter", "saved filter '%s' chooses other records "
				     "than macro '%s' runs on", filter + 1, a.pos[0]);
		filter = saved;
	}
	hb_selection sel = {ids, n, hb_args_has(&a, "all"), filter, describe};
	if (!rc)
		rc = hb_run_start(&cli->ctx, macro, &sel, NULL, NULL, &run, &e);
	free(ids);
	free(saved);
	hb_row_free(&macro);
	if (rc) {
		hb_row_free(&run);
		return rc == HB_ERR_USAGE ? hb_cli_usage(cli, "%s", e.message) : hb_cli_fail(cli, &e);
	}
	int status = 0;
	if (hb_args_has(&a, "wait")) {
		status = deliver_until(cli, &a, hb_row_id(run), false);
		hb_cond id = {0, hb_value_int(hb_row_id(run))};
		if (cli->store->ops->find(cli->store, run->kind, &id, 1, run, &e))
			status = hb_cli_fail(cli, &e);
	} else if (!cli->json) {
		printf("created run %lld: its deliveries are sent by `hookbridge serve` or "
		       "`hookbridge worker`\n", (long long)hb_row_id(run));
	}
	if (!status)
		print_run(cli, run);
	hb_row_free(&run);
	return status;
}

typedef struct log_job {
	hb_cli *cli;
	hb_table *t;
	json_t *arr;
} log_job;

static hb_err log_one(void *ud, const hb_row *run, hb_error *e)
{
	(void)e;
	log_job *j = ud;
	json_t *o = hb_run_json(&j->cli->ctx, run);
	if (j->arr) {
		json_array_append_new(j->arr, o);
		return HB_OK;
	}
	json_t *d = json_object_get(o, "deliveries");
	char cells[8][64];
	const char *row[8];
	snprintf(cells[0], 64, "%lld", (long long)hb_row_id(run));
	hb_cell_text(json_object_get(o, "created_at"), cells[1], 64);
	hb_cell_text(json_object_get(o, "started_by"), cells[2], 64);
	hb_cell_text(json_object_get(o, "selection"), cells[3], 64);
	hb_cell_text(json_object_get(o, "status"), cells[4], 64);
	static const char *const k[] = {"succeeded", "failed", "skipped"};
	for (int i = 0; i < 3; i++)
		hb_cell_text(json_object_get(d, k[i]), cells[5 + i], 64);
	for (int i = 0; i < 8; i++)
		row[i] = cells[i];
	hb_table_add(j->t, row);
	json_decref(o);
	return HB_OK;
}

static int macro_log(hb_cli *cli, int argc, char **argv)
{
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge macro log";
	if (hb_args_parse(argc, argv, NULL, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help || a.npos != 1) {
		printf("usage: hookbridge macro log KEY\n\nEvery run of the macro: when, who or what "
		       "started it, on which records, and how its deliveries ended.\n");
		return a.help ? 0 : 2;
	}
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	hb_row *m = NULL;
	hb_err rc = hb_record_find(&cli->ctx, HB_K_MACRO, cli->ctx.community_id, a.pos[0], &m, &e);
	if (rc)
		return hb_cli_fail(cli, &e);
	static const char *const heads[] = {"RUN", "STARTED", "BY", "RECORDS", "STATUS",
					    "SUCCEEDED", "FAILED", "SKIPPED"};
	log_job j = {cli, cli->json ? NULL : hb_table_new(heads, 8), cli->json ? json_array() : NULL};
	const hb_kind *k = hb_kind_get(HB_K_RUN);
	hb_cond cond = {hb_kind_col(k, "macro_id"), hb_value_int(hb_row_id(m))};
	hb_list_opts lo = {.conds = &cond, .nconds = 1};
	rc = cli->store->ops->list(cli->store, k, &lo, log_one, &j, &e);
	hb_row_free(&m);
	if (j.t)
		hb_table_finish(&j.t);
	if (j.arr)
		rc ? json_decref(j.arr) : hb_cli_print_json(j.arr);
	return rc ? hb_cli_fail(cli, &e) : 0;
}

/* ---- macro test */

static void print_headers(json_t *headers)
{
	size_t i;
	json_t *h;
	json_array_foreach(headers, i, h)
		printf("  %s: %s\n", json_string_value(json_array_get(h, 0)),
		       json_string_value(json_array_get(h, 1)));
}

static void print_body(json_t *body)
{
	const char *text = json_string_value(json_object_get(body, "text"));
	if (text && *text)
		printf("\n%s%s\n", text, json_is_true(json_object_get(body, "truncated")) ? "\n(cut short)" : "");
}

static void print_test(json_t *r)
{
	json_t *req = json_object_get(r, "request");
	printf("request (action %lld):\n  %s %s\n", (long long)json_integer_value(json_object_get(r, "action")),
	       json_string_value(json_object_get(req, "method")), json_string_value(json_object_get(req, "url")));
	print_headers(json_object_get(req, "headers"));
	print_body(json_object_get(req, "body"));
	json_t *ans = json_object_get(r, "response");
	if (json_is_object(ans)) {
		printf("\nanswer: %lld in %lld ms\n", (long long)json_integer_value(json_object_get(ans, "status")),
		       (long long)json_integer_value(json_object_get(r, "duration_ms")));
		print_headers(json_object_get(ans, "headers"));
		print_body(json_object_get(ans, "body"));
	} else if (!json_is_true(json_object_get(r, "sent"))) {
		printf("\nnot sent (dry run)\n");
	}
	if (json_object_get(r, "error"))
		printf("\nerror (%s): %s\n", json_string_value(json_object_get(r, "error_class")),
		       json_string_value(json_object_get(r, "error")));
	json_t *cap = json_object_get(r, "capture");
	if (json_array_size(cap)) {
		bool stored = json_is_true(json_object_get(r, "stored"));
		printf("\ncapture (%s):\n", stored ? "stored" : "nothing stored; --store to keep it");
		size_t i;
		json_t *f;
		json_array_foreach(cap, i, f) {
			const char *outcome = json_string_value(json_object_get(f, "outcome"));
			char *v = hb_json_dump(json_object_get(f, "value"), JSON_ENCODE_ANY);
			printf("  %-32s %s%s%s%s\n", json_string_value(json_object_get(f, "field")),
			       strcmp(outcome, "stored") == 0 ? (stored ? "stored " : "would store ") : outcome,
			       v && strcmp(outcome, "stored") == 0 ? v : "",
			       json_object_get(f, "error") ? ": " : "",
			       json_object_get(f, "error") ? json_string_value(json_object_get(f, "error")) : "");
			free(v);
		}
	}
}

static int macro_test(hb_cli *cli, int argc, char **argv)
{
	hb_optspec opts[16] = {{"user", true, false, "the user's email or id"},
			       {"feedback", true, false, "the ticket number, such as EXA-0001"},
			       {"action", true, false, "which webhook (action number; default the first)"},
			       {"dry-run", false, false, "render only, send nothing"},
			       {"store", false, false, "store what a 2xx answer captures"}};
	memcpy(opts + 5, hb_engine_optspecs, 5 * sizeof *opts);
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge macro test";
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge macro test KEY (--user E | --feedback N) [--action N] [--dry-run] "
		       "[--store]\n\nRenders one webhook for one record (secrets masked), sends it unless "
		       "--dry-run,\nand shows the answer and what each External Data field would "
		       "store.\n");
		return 0;
	}
	if (a.npos != 1)
		return hb_cli_usage(cli, "expected the macro's KEY");
	const char *who = hb_args_get(&a, "user"), *ticket = hb_args_get(&a, "feedback");
	if (!who == !ticket)
		return hb_cli_usage(cli, "choose one record: --user E or --feedback N");
	int64_t action = 0;
	const char *act = hb_args_get(&a, "action");
	if (act && (!hb_text_to_int64(act, strlen(act), &action) || action < 1 || action > 1000))
		return hb_cli_usage(cli, "--action takes an action number, not '%s'", act);
	hb_engine_opts eo;
	hb_guard *guard = NULL;
	if (hb_engine_opts_read(&a, &eo, &guard, &e)) {
		hb_guard_free(&guard);
		return hb_cli_usage(cli, "%s", e.message);
	}
	hb_row *macro = NULL, *rec = NULL;
	json_t *res = NULL;
	hb_err rc = hb_cli_open(cli, false, &e);
	if (!rc)
		rc = hb_record_find(&cli->ctx, HB_K_MACRO, cli->ctx.community_id, a.pos[0], &macro, &e);
	bool fb = !rc && strcmp(hb_row_str(macro, "target"), "feedback") == 0;
	if (!rc && fb != (ticket != NULL))
		rc = hb_fail(&e, HB_ERR_USAGE, fb ? "feedback" : "user", "macro '%s' runs on %s: use --%s",
			     a.pos[0], fb ? "feedback tickets" : "users", fb ? "feedback" : "user");
	if (!rc)
		rc = hb_record_find(&cli->ctx, fb ? HB_K_FEEDBACK : HB_K_USER, cli->ctx.community_id,
				    fb ? ticket : who, &rec, &e);
	hb_test_opts to = {(int)action, hb_args_has(&a, "dry-run"), hb_args_has(&a, "store"), guard};
	if (!rc)
		rc = hb_macro_test(&cli->ctx, macro, hb_row_id(rec), &to, &res, &e);
	hb_row_free(&macro);
	hb_row_free(&rec);
	hb_guard_free(&guard);
	if (rc)
		return rc == HB_ERR_USAGE ? hb_cli_usage(cli, "%s", e.message) : hb_cli_fail(cli, &e);
	if (cli->json) {
		hb_cli_print_json(res);
	} else {
		print_test(res);
		json_decref(res);
	}
	return 0;
}

int hb_cmd_macro_runs(hb_cli *cli, int argc, char **argv)
{
	if (strcmp(argv[0], "test") == 0)
		return macro_test(cli, argc - 1, argv + 1);
	if (strcmp(argv[0], "run") == 0)
		return macro_run(cli, argc - 1, argv + 1);
	return macro_log(cli, argc - 1, argv + 1);
}

/* ---- worker */

int hb_cmd_worker(hb_cli *cli, int argc, char **argv)
{
	hb_optspec opts[8] = {{"until-idle", false, false, "stop once nothing is due or in flight"}};
	memcpy(opts + 1, hb_engine_optspecs, 5 * sizeof *opts);
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge worker";
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge worker [--allow-target CIDR]… [--concurrency N] [--per-host N]\n"
		       "                         [--retry-schedule LIST] [--until-idle]\n\n"
		       "Sends due deliveries until SIGTERM or SIGINT; deliveries in flight when it\n"
		       "stopped are sent again first.\n");
		return 0;
	}
	if (a.npos)
		return hb_cli_usage(cli, "worker takes no arguments");
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	cli->ctx.actor = "worker";
	return deliver_until(cli, &a, 0, hb_args_has(&a, "until-idle"));
}
