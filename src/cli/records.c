/*
 * records.c - the generic record commands: `GROUP create|list|show|update|delete` for
 * projects, users, feedback types, feedback tickets and External Data groups and fields.
 *
 * DESIGN. Each group is one line of the spec table below; its options come from the kind's
 * descriptors (a column "postal_code" is the option --postal-code), values are turned into
 * the same public JSON input the API takes, and the model does every check. Show adds the
 * sections that belong to one kind (cli/extras.c).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/query.h"
#include "cli/records.h"
#include "core/mem.h"
#include "core/text.h"

static const hb_recspec specs[] = {
	{"project", HB_K_PROJECT, {"key"}, {NULL}, "key,name,status,created_at", "projects",
	 "KEY --name NAME"},
	{"user", HB_K_USER, {NULL}, {NULL}, "id,email,first_name,last_name,company,country", "users",
	 "--email EMAIL [--first-name …]"},
	{"feedback-type", HB_K_FEEDBACK_TYPE, {"project", "key"}, {"project", "key"},
	 "project,key,name,prefix,statuses,default_status", "feedback types",
	 "PROJECT KEY --name N --prefix EXA --statuses \"New,Open,Closed\""},
	{"feedback", HB_K_FEEDBACK, {"project", "type"}, {NULL},
	 "number,title,status,severity,submitter,created_at", "feedback tickets",
	 "PROJECT TYPE --title T --submitter EMAIL"},
	{"xdata group", HB_K_XGROUP, {"key"}, {NULL}, "key,name,on,project", "External Data groups",
	 "KEY --on users|feedback|projects --name N [--project P]"},
	{"macro", HB_K_MACRO, {NULL}, {NULL}, "key,name,on,project,enabled,updated_at", "macros",
	 "--file F.json"},
	{"xdata field", HB_K_XFIELD, {"group", "key"}, {"group", "key"},
	 "group,key,label,type,param,favorite", "External Data fields",
	 "GROUP KEY --label L --param PATH --type boolean|datetime|integer|string [--favorite]"},
};

const hb_recspec *hb_recspec_get(const char *group)
{
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
		if (strcmp(specs[i].group, group) == 0)
			return &specs[i];
	return NULL;
}

/* "postal_code" → "postal-code" */
static void dashed(const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s", name);
	for (char *p = out; *p; p++)
		if (*p == '_')
			*p = '-';
}

/* Option specs for the columns of a kind that input may set (plus extra). */
static hb_optspec *column_opts(const hb_kind *k, bool for_match, const hb_optspec *extra)
{
	size_t n = 0, nextra = 0;
	while (extra && extra[nextra].name)
		nextra++;
	hb_optspec *o = hb_calloc(k->ncols + nextra + 1, sizeof *o);
	for (size_t i = 0; i < k->ncols; i++) {
		const hb_column *c = &k->cols[i];
		if (c->flags & HB_COL_HIDDEN)
			continue;
		if ((c->flags & HB_COL_SYSTEM) && !(for_match && (c->flags & HB_COL_REF)))
			continue;
		char name[64];
		dashed(hb_col_public_name(c), name, sizeof name);
		o[n].name = hb_strdup(name);
		o[n].takes_value = c->type != HB_TYPE_BOOL || for_match;
		o[n].help = c->help;
		n++;
	}
	for (size_t i = 0; i < nextra; i++) {
		o[n] = extra[i];
		o[n].name = hb_strdup(extra[i].name);
		n++;
	}
	return o;
}

static void free_opts(hb_optspec **o)
{
	for (hb_optspec *p = *o; p && p->name; p++)
		free((char *)p->name);
	free(*o);
	*o = NULL;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "1", "on"}, *const no[] = {"false", "no", "0", "off"};
	for (int i = 0; i < 4; i++) {
		if (hb_text_ieq(s, strlen(s), yes[i])) {
			*out = true;
			return true;
		}
		if (hb_text_ieq(s, strlen(s), no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* A command-line value for column c as public JSON input. */
hb_err hb_cli_value(const hb_column *c, const char *s, json_t **out, hb_error *e)
{
	const char *pub = hb_col_public_name(c);
	*out = NULL;
	if (c->flags & HB_COL_JSON) {
		if (s[0] == '[' || s[0] == '{') {
			json_error_t je;
			*out = json_loads(s, 0, &je);
			if (!*out)
				return hb_fail(e, HB_ERR_INVALID, pub, "--%s: invalid JSON: %s", pub, je.text);
			return HB_OK;
		}
		json_t *a = json_array();
		const char *p = s;
		while (*p) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			while (n && (*p == ' ' || *p == '\t'))
				p++, n--;
			while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
				n--;
			if (n)
				json_array_append_new(a, json_stringn(p, n));
			if (!comma)
				break;
			p = comma + 1;
		}
		*out = a;
		return HB_OK;
	}
	if (c->flags & HB_COL_REF) {
		*out = json_string(s);
		return HB_OK;
	}
	switch (c->type) {
	case HB_TYPE_INT: {
		int64_t v;
		if (!hb_text_to_int64(s, strlen(s), &v))
			return hb_fail(e, HB_ERR_INVALID, pub, "--%s must be a whole number, not '%s'", pub, s);
		*out = json_integer(v);
		return HB_OK;
	}
	case HB_TYPE_BOOL: {
		bool b;
		if (!parse_bool(s, &b))
			return hb_fail(e, HB_ERR_INVALID, pub, "--%s must be true or false, not '%s'", pub, s);
		*out = json_boolean(b);
		return HB_OK;
	}
	default:
		*out = json_string(s);
		if (!*out) /* jansson refuses invalid UTF-8 */
			return hb_fail(e, HB_ERR_INVALID, pub, "--%s is not valid UTF-8 text", pub);
		return HB_OK;
	}
}

/* Turn the options (and create positionals) into a public JSON input object. */
static hb_err build_input(const hb_kind *k, hb_args *a, const char *const *posnames, int npos,
			  json_t **out, hb_error *e)
{
	json_t *in = json_object();
	hb_err rc = HB_OK;
	for (int i = 0; i < npos && !rc; i++) {
		int col = hb_kind_col(k, posnames[i]);
		json_t *v = NULL;
		rc = hb_cli_value(&k->cols[col], a->pos[i], &v, e);
		if (!rc)
			json_object_set_new(in, hb_col_public_name(&k->cols[col]), v);
	}
	for (int i = 0; i < a->nopt && !rc; i++) {
		char name[64];
		snprintf(name, sizeof name, "%s", a->opt[i].name);
		for (char *p = name; *p; p++)
			if (*p == '-')
				*p = '_';
		int col = hb_kind_col(k, name);
		if (col < 0)
			continue; /* an option of the command, not a column */
		json_t *v = NULL;
		rc = hb_cli_value(&k->cols[col], a->opt[i].value ? a->opt[i].value : "true", &v, e);
		if (!rc)
			json_object_set_new(in, hb_col_public_name(&k->cols[col]), v);
	}
	if (rc)
		json_decref(in);
	else
		*out = in;
	return rc;
}

static int npositional(const char *const *names)
{
	int n = 0;
	while (n < 3 && names[n])
		n++;
	return n;
}

hb_err hb_recspec_locate(hb_cli *cli, const hb_recspec *sp, char **pos, int npos, hb_row **out,
			 hb_error *e)
{
	const hb_kind *k = hb_kind_get(sp->kind);
	if (sp->locate[0]) {
		if (npos != 2)
			return hb_fail(e, HB_ERR_USAGE, "", "name the %s with %s %s", k->name,
				       sp->locate[0], sp->locate[1]);
		const hb_column *pc = &k->cols[hb_kind_col(k, sp->locate[0])];
		hb_row *parent = NULL;
		hb_err rc = hb_record_find(&cli->ctx, pc->ref, cli->ctx.community_id, pos[0], &parent, e);
		if (rc)
			return rc;
		rc = hb_record_find(&cli->ctx, sp->kind, hb_row_id(parent), pos[1], out, e);
		if (rc == HB_ERR_NOT_FOUND)
			hb_fail(e, rc, sp->locate[1], "no %s '%s' in %s '%s'", k->name, pos[1],
				hb_kind_get(pc->ref)->name, pos[0]);
		hb_row_free(&parent);
		return rc;
	}
	if (npos != 1)
		return hb_fail(e, HB_ERR_USAGE, "", "name one %s", k->name);
	return hb_record_find(&cli->ctx, sp->kind, cli->ctx.community_id, pos[0], out, e);
}

static void print_help(const char *prog, const char *verb, const hb_recspec *sp,
		       const hb_optspec *opts)
{
	const hb_kind *k = hb_kind_get(sp->kind);
	char where[128] = "";
	if (sp->locate[0])
		snprintf(where, sizeof where, "%s %s", sp->locate[0], sp->locate[1]);
	else
		snprintf(where, sizeof where, "%s", k->lookup_name ? k->lookup_name : "ID");
	for (char *p = where; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	if (strcmp(verb, "create") == 0)
		printf("usage: %s %s\n\nCreate a %s.\n", prog, sp->create_usage, k->name);
	else if (strcmp(verb, "list") == 0)
		printf("usage: %s [--FIELD VALUE]… [--limit N] [--after ID]\n\nList %s; each "
		       "--FIELD VALUE keeps only records with that value.\n", prog, sp->plural);
	else if (strcmp(verb, "update") == 0)
		printf("usage: %s %s [--FIELD VALUE]…\n\nChange fields of a %s.\n", prog, where, k->name);
	else
		printf("usage: %s %s\n\n%s a %s.\n", prog, where,
		       strcmp(verb, "show") == 0 ? "Show" : "Delete", k->name);
	if (opts && opts->name) {
		printf("\noptions:\n");
		for (const hb_optspec *o = opts; o->name; o++)
			printf("  --%-22s %s\n", o->takes_value ? o->name : o->name, o->help ? o->help : "");
	}
	printf("\nglobal options: --db PATH, --community KEY, --json\n");
}

static void show_record(hb_cli *cli, const hb_recspec *sp, const hb_row *row)
{
	json_t *o = hb_record_json(&cli->ctx, row);
	hb_cli_add_extras(cli, sp, row, o);
	if (cli->json)
		hb_cli_print_json(o);
	else {
		hb_cli_print_extras_table(o);
		json_decref(o);
	}
}

typedef struct list_job {
	hb_cli *cli;
	const hb_recspec *sp;
	hb_table *table;
	const char *cols[16];
	size_t ncols;
	bool first;
} list_job;

static hb_err list_row(void *ud, const hb_row *row, hb_error *e)
{
	(void)e;
	list_job *j = ud;
	json_t *o = hb_record_json(&j->cli->ctx, row);
	if (j->cli->json) {
		fputs(j->first ? "[\n  " : ",\n  ", stdout);
		json_dumpf(o, stdout, JSON_COMPACT);
	} else {
		char bufs[16][256];
		const char *cells[16];
		for (size_t i = 0; i < j->ncols; i++)
			cells[i] = hb_cell_text(json_object_get(o, j->cols[i]), bufs[i], sizeof bufs[i]);
		hb_table_add(j->table, cells);
	}
	j->first = false;
	json_decref(o);
	return HB_OK;
}

static int do_list(hb_cli *cli, const hb_recspec *sp, hb_args *a)
{
	if (hb_cli_list_wants_query(sp->kind, a)) /* --filter, --view, --count: cli/filter.c */
		return hb_cli_list_query(cli, sp->kind, a, sp->columns);
	const hb_kind *k = hb_kind_get(sp->kind);
	hb_error e = {0};
	hb_row *match = hb_row_new(k);
	json_t *in = NULL;
	hb_cond conds[16];
	size_t nconds = 0;
	int status = 0;
	hb_list_opts lo = {0};
	const char *limit = hb_args_get(a, "limit"), *after = hb_args_get(a, "after");
	int64_t n;
	if (limit) {
		if (!hb_text_to_int64(limit, strlen(limit), &n) || n < 1)
			return hb_cli_usage(cli, "--limit must be a positive whole number");
		lo.limit = (size_t)n;
	}
	if (after) {
		if (!hb_text_to_int64(after, strlen(after), &n) || n < 0)
			return hb_cli_usage(cli, "--after must be a record id");
		lo.after_id = n;
	}
	hb_err rc = build_input(k, a, NULL, 0, &in, &e);
	json_object_del(in, "limit");
	json_object_del(in, "after");
	if (!rc)
		rc = hb_record_fill(&cli->ctx, match, in, HB_FILL_MATCH, &e);
	if (rc) {
		status = hb_cli_fail(cli, &e);
		goto out;
	}
	int ci = hb_kind_col(k, "community_id");
	if (ci >= 0)
		conds[nconds++] = (hb_cond){ci, hb_value_int(cli->ctx.community_id)};
	const char *name;
	json_t *v;
	json_object_foreach(in, name, v) {
		int col = hb_kind_col(k, name);
		if (nconds < 16)
			conds[nconds++] = (hb_cond){col, match->v[col]};
	}
	lo.conds = conds;
	lo.nconds = nconds;
	list_job j = {cli, sp, NULL, {0}, 0, true};
	char *colspec = hb_strdup(sp->columns);
	for (char *tok = colspec, *comma; tok && j.ncols < 16; tok = comma ? comma + 1 : NULL) {
		comma = strchr(tok, ',');
		if (comma)
			*comma = '\0';
		j.cols[j.ncols++] = tok;
	}
	if (!cli->json)
		j.table = hb_table_new(j.cols, j.ncols);
	rc = cli->store->ops->list(cli->store, k, &lo, list_row, &j, &e);
	if (cli->json)
		fputs(j.first ? "[]\n" : "\n]\n", stdout);
	else
		hb_table_finish(&j.table);
	free(colspec);
	if (rc)
		status = hb_cli_fail(cli, &e);
out:
	json_decref(in);
	hb_row_free(&match);
	return status;
}

int hb_cmd_records(hb_cli *cli, const char *group, int argc, char **argv)
{
	const hb_recspec *sp = hb_recspec_get(group);
	if (!sp)
		return hb_cli_usage(cli, "unknown command group '%s'", group);
	const hb_kind *k = hb_kind_get(sp->kind);
	char prog[128];
	hb_error e = {0};
	hb_args a;
	int status = 0;
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		printf("usage: hookbridge %s create|list|show|update|delete …\n\nManage %s. "
		       "Each command takes --help.\n", group, sp->plural);
		return argc < 1 ? 2 : 0;
	}
	const char *verb = argv[0];
	snprintf(prog, sizeof prog, "hookbridge %s %s", group, verb);
	cli->prog = prog;
	static const hb_optspec list_extra[] = {{"limit", true, false, "at most N records"},
						{"after", true, false, "records after this id (paging)"},
						{NULL}};
	/* users and tickets: chosen by a filter, shown through a view (cli/filter.c) */
	static const hb_optspec query_extra[] = {{"limit", true, false, "at most N records"},
						 {"after", true, false, "records after this id (paging)"},
						 {"filter", true, false, "a filter expression, or @KEY of a saved one"},
						 {"view", true, false, "key of a saved view: its columns"},
						 {"count", false, false, "print only how many records match"},
						 {"format", true, false, "table (default), json or csv"},
						 {"project", true, false, "only this project's records"},
						 {NULL}};
	bool queried = sp->kind == HB_K_USER || sp->kind == HB_K_FEEDBACK;
	bool creating = strcmp(verb, "create") == 0, listing = strcmp(verb, "list") == 0;
	bool updating = strcmp(verb, "update") == 0;
	if (!creating && !listing && !updating && strcmp(verb, "show") && strcmp(verb, "delete"))
		return hb_cli_usage(cli, "unknown command '%s' (create, list, show, update or delete)", verb);
	hb_optspec *opts = (creating || updating || listing)
				   ? column_opts(k, listing, listing ? (queried ? query_extra : list_extra) : NULL)
				   : hb_calloc(1, sizeof(hb_optspec));
	hb_err rc = hb_args_parse(argc - 1, argv + 1, opts, &a, &e);
	if (a.help) {
		print_help(prog, verb, sp, opts);
		goto out;
	}
	if (rc) {
		status = hb_cli_usage(cli, "%s", e.message);
		goto out;
	}
	if ((rc = hb_cli_open(cli, false, &e))) {
		status = hb_cli_fail(cli, &e);
		goto out;
	}
	if (listing) {
		if (a.npos)
			status = hb_cli_usage(cli, "list takes no arguments, only --FIELD VALUE options");
		else
			status = do_list(cli, sp, &a);
		goto out;
	}
	hb_row *row = NULL;
	json_t *in = NULL;
	if (creating) {
		int np = npositional(sp->create_pos);
		if (a.npos != np) {
			status = hb_cli_usage(cli, "expected %s", sp->create_usage);
			goto out;
		}
		rc = build_input(k, &a, sp->create_pos, np, &in, &e);
		if (!rc)
			rc = hb_record_create(&cli->ctx, sp->kind, in, &row, &e);
	} else {
		rc = hb_recspec_locate(cli, sp, a.pos, a.npos, &row, &e);
		if (rc == HB_ERR_USAGE) {
			status = hb_cli_usage(cli, "%s", e.message);
			goto out;
		}
		if (!rc && updating) {
			rc = build_input(k, &a, NULL, 0, &in, &e);
			if (!rc && json_object_size(in) == 0)
				rc = hb_fail(&e, HB_ERR_USAGE, "", "nothing to change: give --FIELD VALUE options");
			if (!rc)
				rc = hb_record_update(&cli->ctx, row, in, &e);
		} else if (!rc && strcmp(verb, "delete") == 0) {
			rc = hb_record_delete(&cli->ctx, row, &e);
			if (!rc && !cli->json)
				printf("deleted %s %s\n", k->name, a.pos[a.npos - 1]);
			else if (!rc)
				hb_cli_print_json(json_pack("{s:b}", "deleted", 1));
			hb_row_free(&row);
		}
	}
	json_decref(in);
	if (rc)
		status = hb_cli_fail(cli, &e);
	else if (row)
		show_record(cli, sp, row);
	hb_row_free(&row);
out:
	free_opts(&opts);
	return status;
}
