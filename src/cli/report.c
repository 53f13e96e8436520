/*
 * report.c - `hookbridge report`: count users or feedback tickets grouped by one or two
 * catalogue paths (External Data included), optionally per day, week or month of a datetime
 * path and optionally filtered, with totals and percentages, as a table, JSON or CSV.
 *
 * The counting is one grouped query in the store (hb_query with group fields); the groups are
 * held here only to know the total before the percentages are printed. Their number is capped.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/query.h"
#include "core/mem.h"
#include "core/timeutil.h"

#define MAX_GROUPS 1000000

typedef struct group {
	json_t *keys; /* array of JSON values: period (when per period), then each path */
	int64_t count;
} group;

typedef struct report {
	group *groups;
	size_t n, cap;
	int64_t total;
	hb_qbucket bucket;
} report;

static json_t *period_json(const hb_value *v, hb_qbucket b)
{
	if (v->type != HB_TYPE_TIME)
		return json_null();
	char t[HB_TIME_STR_MAX];
	hb_time_format(v->u.i, t);
	return json_stringn(t, b == HB_QB_MONTH ? 7 : 10);
}

static hb_err take_group(void *ud, const hb_qrow *row, hb_error *e)
{
	report *r = ud;
	if (r->n == MAX_GROUPS)
		return hb_fail(e, HB_ERR_TOO_LARGE, "group-by", "more than %d groups: group by a path "
			       "with fewer distinct values", MAX_GROUPS);
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->groups = hb_realloc(r->groups, r->cap * sizeof *r->groups);
	}
	json_t *keys = json_array();
	for (size_t i = 0; i < row->nkeys; i++)
		json_array_append_new(keys, i == 0 && r->bucket != HB_QB_NONE
						    ? period_json(&row->keys[0], r->bucket)
						    : hb_value_json(&row->keys[i]));
	r->groups[r->n++] = (group){keys, row->count};
	r->total += row->count;
	return HB_OK;
}

static double percent(int64_t count, int64_t total)
{
	return total ? round((double)count * 10000.0 / (double)total) / 100.0 : 0.0;
}

static void cell_text(json_t *v, char *buf, size_t n, bool table)
{
	if (json_is_null(v))
		snprintf(buf, n, "%s", table ? "(empty)" : "");
	else if (json_is_boolean(v))
		snprintf(buf, n, "%s", json_is_true(v) ? "true" : "false");
	else
		snprintf(buf, n, "%s", hb_cell_text(v, buf, n));
}

static void print_report(hb_cli *cli, const report *r, const char *format, const char *const *heads,
			 size_t nkeys, const char *on, const char *by_path, hb_args *a)
{
	if (strcmp(format, "json") == 0) {
		json_t *groups = json_array();
		for (size_t i = 0; i < r->n; i++) {
			json_t *g = json_object();
			for (size_t k = 0; k < nkeys; k++)
				json_object_set(g, heads[k], json_array_get(r->groups[i].keys, k));
			json_object_set_new(g, "count", json_integer(r->groups[i].count));
			json_object_set_new(g, "percent", json_real(percent(r->groups[i].count, r->total)));
			json_array_append_new(groups, g);
		}
		json_t *by = json_array();
		for (int i = 0; hb_args_nth(a, "group-by", i); i++)
			json_array_append_new(by, json_string(hb_args_nth(a, "group-by", i)));
		json_t *o = json_pack("{s:s, s:o, s:I, s:o}", "on", on, "group_by", by, "total",
				      (json_int_t)r->total, "groups", groups);
		if (by_path)
			json_object_set_new(o, "per", json_pack("{s:s, s:s}", "period", hb_args_get(a, "by"),
								"path", by_path));
		if (hb_args_has(a, "filter"))
			json_object_set_new(o, "filter", json_string(hb_args_get(a, "filter")));
		hb_cli_print_json(o);
		return;
	}
	char buf[4096];
	if (strcmp(format, "csv") == 0) {
		for (size_t k = 0; k < nkeys; k++) {
			hb_csv_write_field(stdout, heads[k], strlen(heads[k]));
			fputc(',', stdout);
		}
		fputs("count,percent\r\n", stdout);
		for (size_t i = 0; i < r->n; i++) {
			for (size_t k = 0; k < nkeys; k++) {
				cell_text(json_array_get(r->groups[i].keys, k), buf, sizeof buf, false);
				hb_csv_write_field(stdout, buf, strlen(buf));
				fputc(',', stdout);
			}
			printf("%lld,%.2f\r\n", (long long)r->groups[i].count,
			       percent(r->groups[i].count, r->total));
		}
		return;
	}
	const char *cols[HB_QUERY_MAX_GROUP + 3];
	for (size_t k = 0; k < nkeys; k++)
		cols[k] = heads[k];
	cols[nkeys] = "count";
	cols[nkeys + 1] = "percent";
	(void)cli;
	hb_table *t = hb_table_new(cols, nkeys + 2);
	char cells[HB_QUERY_MAX_GROUP + 3][512];
	const char *row[HB_QUERY_MAX_GROUP + 3];
	for (size_t i = 0; i <= r->n; i++) {
		bool total = i == r->n;
		for (size_t k = 0; k < nkeys; k++) {
			if (total)
				snprintf(cells[k], sizeof cells[k], "%s", k == 0 ? "total" : "");
			else
				cell_text(json_array_get(r->groups[i].keys, k), cells[k], sizeof cells[k], true);
			row[k] = cells[k];
		}
		int64_t count = total ? r->total : r->groups[i].count;
		snprintf(cells[nkeys], sizeof cells[nkeys], "%lld", (long long)count);
		snprintf(cells[nkeys + 1], sizeof cells[nkeys + 1], "%.2f%%", percent(count, r->total));
		row[nkeys] = cells[nkeys];
		row[nkeys + 1] = cells[nkeys + 1];
		hb_table_add(t, row);
	}
	hb_table_finish(&t);
}

int hb_cmd_report(hb_cli *cli, int argc, char **argv)
{
	static const hb_optspec opts[] = {
		{"on", true, false, "users or feedback"},
		{"group-by", true, true, "a path to group by (at most two)"},
		{"by", true, false, "day, week or month, followed by a datetime path"},
		{"filter", true, false, "count only the records this filter (or @SAVED) chooses"},
		{"project", true, false, "only this project's users or tickets"},
		{"format", true, false, "table (default), json or csv"},
		{NULL}};
	cli->prog = "hookbridge report";
	hb_args a;
	hb_error e = {0};
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge report --on users|feedback --group-by PATH [--group-by PATH]\n"
		       "       [--by day|week|month PATH] [--filter F] [--project P] [--format table|json|csv]\n\n"
		       "Count records grouped by paths (External Data included), per period of a datetime\n"
		       "path or not; totals and percentages. Paths: hookbridge tags --on …\n");
		return 0;
	}
	const char *on = hb_args_get(&a, "on");
	hb_target target;
	if (!on || (strcmp(on, "users") && strcmp(on, "feedback")))
		return hb_cli_usage(cli, "--on users or --on feedback is required");
	target = strcmp(on, "users") == 0 ? HB_TARGET_USERS : HB_TARGET_FEEDBACK;
	const char *format = hb_args_get(&a, "format");
	if (!format)
		format = cli->json ? "json" : "table";
	if (strcmp(format, "table") && strcmp(format, "json") && strcmp(format, "csv"))
		return hb_cli_usage(cli, "--format must be table, json or csv");
	int ngroup = 0;
	while (hb_args_nth(&a, "group-by", ngroup))
		ngroup++;
	if (ngroup > HB_QUERY_MAX_GROUP)
		return hb_cli_usage(cli, "at most %d --group-by paths", HB_QUERY_MAX_GROUP);
	hb_qbucket bucket = HB_QB_NONE;
	const char *by = hb_args_get(&a, "by"), *by_path = NULL;
	if (by) {
		if (strcmp(by, "day") == 0)
			bucket = HB_QB_DAY;
		else if (strcmp(by, "week") == 0)
			bucket = HB_QB_WEEK;
		else if (strcmp(by, "month") == 0)
			bucket = HB_QB_MONTH;
		else
			return hb_cli_usage(cli, "--by must be day, week or month, not '%s'", by);
		if (a.npos != 1)
			return hb_cli_usage(cli, "--by %s needs a datetime path after it, e.g. --by %s "
					    "user.created_at", by, by);
		by_path = a.pos[0];
	} else if (a.npos) {
		return hb_cli_usage(cli, "unexpected argument '%s'", a.pos[0]);
	}
	if (!ngroup && !by)
		return hb_cli_usage(cli, "give --group-by PATH, --by day|week|month PATH, or both");
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	hb_filter *f = NULL;
	int64_t project_id;
	report r = {.bucket = bucket};
	const char *heads[HB_QUERY_MAX_GROUP + 1];
	size_t nkeys = 0;
	hb_err rc = hb_cli_filter_from_args(cli, target, hb_args_get(&a, "filter"),
					    hb_args_get(&a, "project"), &f, &project_id, &e);
	hb_qfield fields[HB_QUERY_MAX_GROUP], bf = {0};
	for (int i = 0; !rc && i < ngroup; i++) {
		rc = hb_filter_field(f, hb_args_nth(&a, "group-by", i), &fields[i], &e);
		if (rc)
			hb_error_prefix(&e, "--group-by");
	}
	if (!rc && by_path) {
		rc = hb_filter_field(f, by_path, &bf, &e);
		if (rc)
			hb_error_prefix(&e, "--by");
		else if (bf.type != HB_TYPE_TIME)
			rc = hb_fail(&e, HB_ERR_INVALID, "by", "--by: '%s' is %s %s, not a datetime",
				     by_path, bf.type == HB_TYPE_INT ? "an" : "a", hb_type_name(bf.type));
	}
	if (!rc) {
		hb_query q = *hb_filter_query(f);
		if (by_path)
			heads[nkeys++] = by;
		for (int i = 0; i < ngroup; i++) {
			q.group[i] = fields[i];
			heads[nkeys++] = hb_args_nth(&a, "group-by", i);
		}
		q.ngroup = (size_t)ngroup;
		q.bucket = bucket;
		q.bucket_field = bf;
		rc = cli->store->ops->query(cli->store, &q, take_group, &r, &e);
	}
	if (!rc)
		print_report(cli, &r, format, heads, nkeys, on, by_path, &a);
	for (size_t i = 0; i < r.n; i++)
		json_decref(r.groups[i].keys);
	free(r.groups);
	hb_filter_free(&f);
	return rc ? hb_cli_fail(cli, &e) : 0;
}
