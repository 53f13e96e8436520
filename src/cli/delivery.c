/*
 * delivery.c - `hookbridge delivery list|show|retry`: the delivery log and hand retries.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/engine_opts.h"
#include "core/jsonw.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "deliver/inspect.h"

typedef struct list_job {
	hb_cli *cli;
	hb_table *t;
	json_t *arr;
} list_job;

static hb_err list_one(void *ud, const hb_row *d, hb_error *e)
{
	(void)e;
	list_job *j = ud;
	json_t *o = hb_delivery_json(&j->cli->ctx, d, false);
	if (j->arr) {
		json_array_append_new(j->arr, o);
		return HB_OK;
	}
	static const char *const cols[] = {"id", "run", "macro", "record", "action", "status",
					   "attempts", "last_status", "last_error", "updated_at"};
	char cells[10][64];
	const char *row[10];
	for (int i = 0; i < 10; i++)
		row[i] = hb_cell_text(json_object_get(o, cols[i]), cells[i], 64);
	hb_table_add(j->t, row);
	json_decref(o);
	return HB_OK;
}

static int list(hb_cli *cli, int argc, char **argv)
{
	static const hb_optspec opts[] = {{"run", true, false, "only this run's deliveries"},
					  {"status", true, false, "waiting, pending, sending, succeeded, failed or skipped"},
					  {NULL}};
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge delivery list";
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge delivery list [--run ID] [--status S]\n");
		return 0;
	}
	const hb_kind *k = hb_kind_get(HB_K_DELIVERY);
	hb_cond conds[2];
	size_t n = 0;
	const char *run = hb_args_get(&a, "run"), *status = hb_args_get(&a, "status");
	int64_t run_id = 0;
	if (run && (!hb_text_to_int64(run, strlen(run), &run_id) || run_id < 1))
		return hb_cli_usage(cli, "--run takes a run id (a number), not '%s'", run);
	if (status && !hb_col_choice_ok(&k->cols[hb_kind_col(k, "status")], status, strlen(status)))
		return hb_cli_usage(cli, "--status must be one of waiting, pending, sending, "
					 "succeeded, failed, skipped");
	if (a.npos)
		return hb_cli_usage(cli, "list takes no arguments");
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	if (run)
		conds[n++] = (hb_cond){hb_kind_col(k, "run_id"), hb_value_int(run_id)};
	if (status)
		conds[n++] = (hb_cond){hb_kind_col(k, "status"), hb_value_str(status)};
	static const char *const heads[] = {"ID", "RUN", "MACRO", "RECORD", "ACTION", "STATUS",
					    "ATTEMPTS", "HTTP", "LAST ERROR", "UPDATED"};
	list_job j = {cli, cli->json ? NULL : hb_table_new(heads, 10), cli->json ? json_array() : NULL};
	hb_list_opts lo = {conds, n, 0, 0};
	hb_err rc = cli->store->ops->list(cli->store, k, &lo, list_one, &j, &e);
	if (j.t)
		hb_table_finish(&j.t);
	if (j.arr)
		rc ? json_decref(j.arr) : hb_cli_print_json(j.arr);
	return rc ? hb_cli_fail(cli, &e) : 0;
}

static hb_err find_delivery(hb_cli *cli, const char *text, hb_row **out, hb_error *e)
{
	int64_t id;
	if (!hb_text_to_int64(text, strlen(text), &id) || id < 1)
		return hb_fail(e, HB_ERR_USAGE, "id", "a delivery id is a number, not '%.40s'", text);
	return hb_delivery_find(&cli->ctx, id, out, e);
}

static int show(hb_cli *cli, int argc, char **argv)
{
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge delivery show";
	if (hb_args_parse(argc, argv, NULL, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help || a.npos != 1) {
		printf("usage: hookbridge delivery show ID\n\nThe delivery and every attempt: request "
		       "(secrets masked), answer, duration, error and what was captured.\n");
		return a.help ? 0 : 2;
	}
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	hb_row *d = NULL;
	hb_err rc = find_delivery(cli, a.pos[0], &d, &e);
	if (rc) {
		hb_row_free(&d);
		return rc == HB_ERR_USAGE ? hb_cli_usage(cli, "%s", e.message) : hb_cli_fail(cli, &e);
	}
	json_t *o = hb_delivery_json(&cli->ctx, d, true);
	hb_row_free(&d);
	if (cli->json) {
		hb_cli_print_json(o);
		return 0;
	}
	json_t *log = json_incref(json_object_get(o, "attempts_log"));
	json_object_del(o, "attempts_log");
	hb_cli_print_details(o);
	size_t i;
	json_t *at;
	json_array_foreach(log, i, at) {
		printf("\nattempt %lld at %s, %lld ms\n", (long long)json_integer_value(json_object_get(at, "number")),
		       json_string_value(json_object_get(at, "started_at")),
		       (long long)json_integer_value(json_object_get(at, "duration_ms")));
		char *s = hb_json_dump(at, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s ? s : "");
		free(s);
	}
	json_decref(log);
	json_decref(o);
	return 0;
}

typedef struct retry_job {
	hb_cli *cli;
	const char *id;
	const char *since;
	int64_t count;
} retry_job;

static hb_err do_retry(hb_ctx *c, void *ud, hb_error *e)
{
	retry_job *r = ud;
	if (r->id) {
		hb_row *d = NULL;
		hb_err rc = find_delivery(r->cli, r->id, &d, e);
		if (!rc)
			rc = hb_delivery_requeue(c, d, e);
		hb_row_free(&d);
		r->count = !rc;
		return rc;
	}
	int64_t since = 0;
	if (!hb_time_parse(r->since, strlen(r->since), &since))
		return hb_fail(e, HB_ERR_USAGE, "since", "--since takes a time such as 2026-11-28 or "
			       "2026-11-28T10:00:00Z, not '%.40s'", r->since);
	return hb_delivery_requeue_failed(c, since, &r->count, e);
}

static int retry(hb_cli *cli, int argc, char **argv)
{
	hb_optspec opts[12] = {{"failed", false, false, "every failed delivery (with --since)"},
			       {"since", true, false, "with --failed: those that failed since this time"},
			       {"wait", false, false, "send them now"}};
	memcpy(opts + 3, hb_engine_optspecs, 5 * sizeof *opts);
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge delivery retry";
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge delivery retry ID [--wait]\n"
		       "       hookbridge delivery retry --failed --since TIME [--wait]\n\n"
		       "Gives failed deliveries one more attempt.\n");
		return 0;
	}
	bool bulk = hb_args_has(&a, "failed");
	if (bulk ? (a.npos != 0 || !hb_args_has(&a, "since")) : (a.npos != 1 || hb_args_has(&a, "since")))
		return hb_cli_usage(cli, "expected a delivery ID, or --failed --since TIME");
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	retry_job r = {cli, bulk ? NULL : a.pos[0], hb_args_get(&a, "since"), 0};
	hb_err rc = hb_tx(&cli->ctx, do_retry, &r, &e);
	if (rc)
		return rc == HB_ERR_USAGE ? hb_cli_usage(cli, "%s", e.message) : hb_cli_fail(cli, &e);
	if (cli->json)
		hb_cli_print_json(json_pack("{s:I}", "retried", (json_int_t)r.count));
	else
		printf("%lld deliver%s queued for another attempt\n", (long long)r.count,
		       r.count == 1 ? "y" : "ies");
	if (!hb_args_has(&a, "wait"))
		return 0;
	hb_engine_opts o;
	hb_guard *guard = NULL;
	if (!hb_engine_opts_read(&a, &o, &guard, &e)) {
		o.until_idle = true;
		rc = hb_engine_run(&cli->ctx, &o, &e);
	} else {
		rc = e.code;
	}
	hb_guard_free(&guard);
	return rc ? hb_cli_fail(cli, &e) : 0;
}

int hb_cmd_delivery(hb_cli *cli, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "list") == 0)
		return list(cli, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "show") == 0)
		return show(cli, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "retry") == 0)
		return retry(cli, argc - 1, argv + 1);
	printf("usage: hookbridge delivery list [--run ID] [--status S]\n"
	       "       hookbridge delivery show ID\n"
	       "       hookbridge delivery retry ID | --failed --since TIME\n");
	return argc < 1 || strcmp(argv[0], "--help") ? 2 : 0;
}
