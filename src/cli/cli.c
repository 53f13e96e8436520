/* cli.c - the shared machinery of cli.h: arguments, opening, errors, tables and JSON. */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonw.h"
#include "core/mem.h"

static const hb_optspec *spec_find(const hb_optspec *specs, const char *name, size_t n)
{
	for (; specs && specs->name; specs++)
		if (strlen(specs->name) == n && strncmp(specs->name, name, n) == 0)
			return specs;
	return NULL;
}

hb_err hb_args_parse(int argc, char **argv, const hb_optspec *specs, hb_args *a, hb_error *e)
{
	memset(a, 0, sizeof *a);
	bool only_pos = false;
	for (int i = 0; i < argc; i++) {
		char *arg = argv[i];
		if (only_pos || arg[0] != '-' || arg[1] == '\0') {
			if (a->npos == HB_ARGS_MAX)
				return hb_fail(e, HB_ERR_USAGE, "", "too many arguments");
			a->pos[a->npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			a->help = true;
			continue;
		}
		if (arg[1] != '-')
			return hb_fail(e, HB_ERR_USAGE, arg, "unknown option '%s'", arg);
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t n = eq ? (size_t)(eq - name) : strlen(name);
		const hb_optspec *sp = spec_find(specs, name, n);
		const char *value = eq ? eq + 1 : NULL;
		if (!sp && n > 3 && strncmp(name, "no-", 3) == 0 && !eq) {
			/* --no-favorite: a switch turned off */
			const hb_optspec *neg = spec_find(specs, name + 3, n - 3);
			if (neg && !neg->takes_value) {
				sp = neg;
				name += 3;
				n -= 3;
				value = "false";
			}
		}
		if (!sp)
			return hb_fail(e, HB_ERR_USAGE, arg, "unknown option '--%.*s'", (int)n, name);
		if (sp->takes_value && !value) {
			if (i + 1 >= argc)
				return hb_fail(e, HB_ERR_USAGE, sp->name, "option --%s needs a value", sp->name);
			value = argv[++i];
		}
		if (!sp->repeat) {
			for (int k = 0; k < a->nopt; k++)
				if (strcmp(a->opt[k].name, sp->name) == 0)
					return hb_fail(e, HB_ERR_USAGE, sp->name, "option --%s given twice",
						       sp->name);
		}
		if (a->nopt == HB_ARGS_MAX)
			return hb_fail(e, HB_ERR_USAGE, "", "too many options");
		a->opt[a->nopt].name = sp->name;
		a->opt[a->nopt].value = value;
		a->nopt++;
	}
	return HB_OK;
}

const char *hb_args_get(hb_args *a, const char *name)
{
	const char *v = NULL;
	for (int i = 0; i < a->nopt; i++)
		if (strcmp(a->opt[i].name, name) == 0)
			v = a->opt[i].value ? a->opt[i].value : "true";
	return v;
}

bool hb_args_has(hb_args *a, const char *name)
{
	return hb_args_get(a, name) != NULL;
}

const char *hb_args_nth(hb_args *a, const char *name, int n)
{
	for (int i = 0; i < a->nopt; i++)
		if (strcmp(a->opt[i].name, name) == 0 && n-- == 0)
			return a->opt[i].value;
	return NULL;
}

hb_err hb_cli_open(hb_cli *cli, bool create, hb_error *e)
{
	hb_err rc = hb_store_open(cli->db, create, &cli->store, e);
	if (rc)
		return rc;
	rc = hb_ctx_load(&cli->ctx, cli->store, cli->community, e);
	cli->ctx.actor = "cli";
	return rc;
}

void hb_cli_close(hb_cli *cli)
{
	hb_store_close(&cli->store);
}

int hb_cli_fail(hb_cli *cli, const hb_error *e)
{
	fprintf(stderr, "%s: %s\n", cli->prog ? cli->prog : "hookbridge",
		e->message[0] ? e->message : hb_err_name(e->code));
	return hb_err_exit_status(e->code);
}

int hb_cli_usage(hb_cli *cli, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", cli->prog ? cli->prog : "hookbridge");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see: %s --help)\n", cli->prog ? cli->prog : "hookbridge");
	return 2;
}

void hb_cli_print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
	json_decref(v);
}

const char *hb_cell_text(json_t *v, char *buf, size_t n)
{
	if (!v || json_is_null(v))
		return "";
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_true(v))
		return "yes";
	if (json_is_false(v))
		return "no";
	if (json_is_integer(v)) {
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	char *txt = hb_json_dump(v, JSON_COMPACT | JSON_ENCODE_ANY);
	snprintf(buf, n, "%s", txt ? txt : "");
	free(txt);
	return buf;
}

void hb_cli_print_details(json_t *obj)
{
	const char *k;
	json_t *v;
	size_t w = 0;
	json_object_foreach(obj, k, v) if (strlen(k) > w) w = strlen(k);
	json_object_foreach(obj, k, v)
	{
		char buf[4096];
		const char *txt = hb_cell_text(v, buf, sizeof buf);
		printf("%-*s  ", (int)w, k);
		for (const char *p = txt; *p; p++) { /* indent continuation lines */
			putchar(*p);
			if (*p == '\n')
				printf("%-*s  ", (int)w, "");
		}
		putchar('\n');
	}
}

#define TABLE_BATCH 500

struct hb_table {
	size_t ncols;
	char **cells; /* batch of rows, ncols each */
	size_t nrows;
	size_t *width;
	bool printed_head;
	char **head;
};

/* Display width of UTF-8 text: counts characters, not bytes. */
static size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

hb_table *hb_table_new(const char *const *headings, size_t ncols)
{
	hb_table *t = hb_calloc(1, sizeof *t);
	t->ncols = ncols;
	t->cells = hb_calloc(TABLE_BATCH * ncols, sizeof(char *));
	t->width = hb_calloc(ncols, sizeof(size_t));
	t->head = hb_calloc(ncols, sizeof(char *));
	for (size_t i = 0; i < ncols; i++) {
		t->head[i] = hb_strdup(headings[i]);
		t->width[i] = text_width(headings[i]);
	}
	return t;
}

static void print_cells(hb_table *t, char **cells)
{
	for (size_t i = 0; i < t->ncols; i++) {
		const char *c = cells[i] ? cells[i] : "";
		fputs(c, stdout);
		if (i + 1 < t->ncols)
			for (size_t pad = text_width(c); pad < t->width[i] + 2; pad++)
				putchar(' ');
	}
	putchar('\n');
}

static void flush(hb_table *t)
{
	if (!t->printed_head) {
		print_cells(t, t->head);
		t->printed_head = true;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		print_cells(t, &t->cells[r * t->ncols]);
		for (size_t i = 0; i < t->ncols; i++) {
			free(t->cells[r * t->ncols + i]);
			t->cells[r * t->ncols + i] = NULL;
		}
	}
	t->nrows = 0;
}

void hb_table_add(hb_table *t, const char *const *cells)
{
	if (t->nrows == TABLE_BATCH)
		flush(t);
	for (size_t i = 0; i < t->ncols; i++) {
		/* one line per cell: newlines and tabs shown as spaces */
		char *c = hb_strdup(cells[i] ? cells[i] : "");
		for (char *p = c; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		size_t w = text_width(c);
		if (w > 60) { /* cut long text at 59 characters and mark it */
			size_t chars = 0, at = 0;
			while (c[at] && chars < 59)
				if (((unsigned char)c[++at] & 0xc0) != 0x80)
					chars++;
			c = hb_realloc(c, at + 4);
			memcpy(c + at, "\xe2\x80\xa6", 4); /* … */
			w = 60;
		}
		if (!t->printed_head && w > t->width[i])
			t->width[i] = w > 60 ? 60 : w;
		t->cells[t->nrows * t->ncols + i] = c;
	}
	t->nrows++;
}

void hb_table_finish(hb_table **tp)
{
	hb_table *t = *tp;
	if (!t)
		return;
	flush(t);
	for (size_t i = 0; i < t->ncols; i++)
		free(t->head[i]);
	free(t->head);
	free(t->cells);
	free(t->width);
	free(t);
	*tp = NULL;
}

typedef struct list_job {
	hb_cli *cli;
	const char *const *cols;
	size_t ncols;
	bool only;
	hb_table *t;
	json_t *all;
} list_job;

static hb_err list_row(void *ud, const hb_row *row, hb_error *e)
{
	(void)e;
	list_job *j = ud;
	json_t *o = hb_record_json(&j->cli->ctx, row);
	if (j->all && j->only) {
		json_t *some = json_object();
		for (size_t i = 0; i < j->ncols; i++)
			json_object_set(some, j->cols[i], json_object_get(o, j->cols[i]));
		json_decref(o);
		o = some;
	}
	if (j->all) {
		json_array_append_new(j->all, o);
		return HB_OK;
	}
	char bufs[HB_LIST_COLS_MAX][128];
	const char *cells[HB_LIST_COLS_MAX];
	for (size_t i = 0; i < j->ncols; i++)
		cells[i] = hb_cell_text(json_object_get(o, j->cols[i]), bufs[i], sizeof bufs[i]);
	hb_table_add(j->t, cells);
	json_decref(o);
	return HB_OK;
}

int hb_cli_list_community(hb_cli *cli, hb_kind_id kind, const char *const *cols, size_t ncols,
			  bool only)
{
	hb_error e = {0};
	const hb_kind *k = hb_kind_get(kind);
	if (ncols > HB_LIST_COLS_MAX)
		ncols = HB_LIST_COLS_MAX;
	list_job j = {cli, cols, ncols, only, cli->json ? NULL : hb_table_new(cols, ncols),
		      cli->json ? json_array() : NULL};
	hb_cond cond = {hb_kind_col(k, "community_id"), hb_value_int(cli->ctx.community_id)};
	hb_list_opts o = {.conds = &cond, .nconds = 1};
	hb_err rc = cli->store->ops->list(cli->store, k, &o, list_row, &j, &e);
	if (j.all)
		hb_cli_print_json(j.all);
	else
		hb_table_finish(&j.t);
	return rc ? hb_cli_fail(cli, &e) : 0;
}
