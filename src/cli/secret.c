/*
 * secret.c - `hookbridge secret set|list|delete`: the community's secret store, the credentials
 * templates name as {{secret.NAME}} (SPEC §3, §10).
 *
 * A value goes in and never comes out: set reads it from --value or standard input and answers
 * with the name and dates only; list shows names and dates; no message, table or JSON carries a
 * value. Names are looked up by name only (never as an id), so a secret called "7" is never
 * confused with the record whose id is 7.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/text.h"

/* The stored length cap of a value (kind.c, secrets.value), for reading standard input. */
#define SECRET_VALUE_MAX 8192

static int usage_all(FILE *out)
{
	fprintf(out,
		"usage: hookbridge secret set NAME (--value V | --stdin)\n"
		"       hookbridge secret list\n"
		"       hookbridge secret delete NAME\n\n"
		"Credentials that templates use as {{secret.NAME}} in the URL, headers and body of "
		"a webhook.\nValues are never shown back: not by list, not in previews, logs or "
		"answers.\n");
	return out == stdout ? 0 : 2;
}

static hb_err check_name(const char *name, hb_error *e)
{
	if (!hb_text_is_key(name))
		return hb_fail(
		    e, HB_ERR_INVALID, "name",
		    "'%s' is not a valid secret name: use 1-64 of a-z, 0-9, '_' and '-', "
		    "starting with a letter or digit",
		    name);
	return HB_OK;
}

/* The community's secret called name into *out (owned by the caller). */
static hb_err find_secret(hb_ctx *c, const char *name, hb_row **out, hb_error *e)
{
	const hb_kind *k = hb_kind_get(HB_K_SECRET);
	hb_cond conds[2] = {{hb_kind_col(k, "community_id"), hb_value_int(c->community_id)},
			    {hb_kind_col(k, "name"), hb_value_str(name)}};
	hb_row *row = hb_row_new(k);
	hb_err rc = c->store->ops->find(c->store, k, conds, 2, row, e);
	if (rc == HB_ERR_NOT_FOUND)
		rc = hb_fail(e, HB_ERR_NOT_FOUND, "name", "no secret '%s'", name);
	if (rc)
		hb_row_free(&row);
	*out = row;
	return rc;
}

/* Read standard input whole, up to SECRET_VALUE_MAX bytes after one trailing line break is
   taken off. Caller owns *out (wipe it before freeing). */
static hb_err read_stdin(char **out, size_t *len, hb_error *e)
{
	hb_buf b;
	hb_buf_init(&b, SECRET_VALUE_MAX + 2); /* room for the "\r\n" taken off below */
	char chunk[1024];
	size_t n;
	/* one allocation up front: no copy of the value is left behind by a realloc */
	hb_err rc = hb_buf_reserve(&b, SECRET_VALUE_MAX + 2);
	while (!rc && (n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		rc = hb_buf_add(&b, chunk, n);
	explicit_bzero(chunk, sizeof chunk);
	if (!rc && ferror(stdin))
		rc = hb_fail(e, HB_ERR_IO, "stdin", "cannot read the value from standard input");
	else if (rc)
		rc = hb_fail(e, HB_ERR_INVALID, "value",
			     "the value on standard input is over %d bytes", SECRET_VALUE_MAX);
	if (!rc && b.len > 0 && b.data[b.len - 1] == '\n') {
		b.len--;
		if (b.len > 0 && b.data[b.len - 1] == '\r')
			b.len--;
	}
	if (!rc)
		b.data[b.len] = '\0';
	if (!rc && b.len > SECRET_VALUE_MAX)
		rc = hb_fail(e, HB_ERR_INVALID, "value",
			     "the value on standard input is over %d bytes", SECRET_VALUE_MAX);
	if (rc) {
		if (b.data)
			explicit_bzero(b.data, b.cap);
		hb_buf_free(&b);
		return rc;
	}
	*len = b.len;
	*out = hb_buf_steal(&b);
	return HB_OK;
}

typedef struct set_job {
	const char *name;
	const char *value;
	size_t len;
	hb_row *row; /* the stored secret */
	bool replaced;
} set_job;

static hb_err do_set(hb_ctx *c, void *ud, hb_error *e)
{
	set_job *j = ud;
	json_t *v = json_stringn(j->value, j->len);
	if (!v)
		return hb_fail(e, HB_ERR_INVALID, "value", "the value is not valid UTF-8 text");
	json_t *in = json_object();
	json_object_set_new(in, "value", v);
	hb_err rc = find_secret(c, j->name, &j->row, e);
	if (rc == HB_ERR_NOT_FOUND) {
		json_object_set_new(in, "name", json_string(j->name));
		rc = hb_record_create(c, HB_K_SECRET, in, &j->row, e);
	} else if (!rc) {
		j->replaced = true;
		rc = hb_record_update(c, j->row, in, e);
	}
	json_decref(in);
	return rc;
}

static int set(hb_cli *cli, int argc, char **argv)
{
	static const hb_optspec opts[] = {
	    {"value", true, false,
	     "the value (visible to other users of this machine: prefer --stdin)"},
	    {"stdin", false, false, "read the value from standard input"},
	    {NULL}};
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge secret set";
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf(
		    "usage: hookbridge secret set NAME (--value V | --stdin)\n\n"
		    "Create the secret NAME, or replace its value. With --stdin the value is read "
		    "from "
		    "standard\ninput and one trailing line break is taken off. The value is never "
		    "shown back.\n");
		return 0;
	}
	if (a.npos != 1) /* never echo the arguments: one of them may be the value */
		return hb_cli_usage(cli,
				    "expected exactly one argument, the secret's NAME (give the "
				    "value with --value or --stdin)");
	const char *value = hb_args_get(&a, "value");
	bool from_stdin = hb_args_has(&a, "stdin");
	if (!!value == from_stdin)
		return hb_cli_usage(cli, "give the value with --value V or --stdin (one of them)");
	const char *name = a.pos[0];
	if (check_name(name, &e))
		return hb_cli_fail(cli, &e);
	char *read = NULL;
	size_t len = value ? strlen(value) : 0;
	if (from_stdin && read_stdin(&read, &len, &e))
		return hb_cli_fail(cli, &e);
	set_job j = {.name = name, .value = value ? value : read, .len = len};
	int status = 0;
	if (len == 0)
		status = hb_cli_usage(cli, "the value of secret '%s' is empty", name);
	else if (hb_cli_open(cli, false, &e) || hb_tx(&cli->ctx, do_set, &j, &e))
		status = hb_cli_fail(cli, &e);
	if (read) {
		explicit_bzero(read, len);
		free(read);
	}
	if (status) {
		hb_row_free(&j.row);
		return status;
	}
	if (cli->json) {
		json_t *o = hb_record_json(&cli->ctx, j.row);
		json_object_set_new(o, "replaced", json_boolean(j.replaced));
		hb_cli_print_json(o);
	} else {
		printf("%s secret '%s'\n", j.replaced ? "replaced" : "created", name);
	}
	hb_row_free(&j.row);
	return 0;
}

static int list(hb_cli *cli)
{
	static const char *const cols[] = {"name", "created_at", "updated_at"};
	return hb_cli_list_community(cli, HB_K_SECRET, cols, 3, true);
}

static int delete (hb_cli *cli, const char *name)
{
	hb_error e = {0};
	hb_row *row = NULL;
	hb_err rc = find_secret(&cli->ctx, name, &row, &e);
	if (!rc)
		rc = hb_record_delete(&cli->ctx, row, &e);
	hb_row_free(&row);
	if (rc)
		return hb_cli_fail(cli, &e);
	if (cli->json)
		hb_cli_print_json(json_pack("{s:b, s:s}", "deleted", 1, "name", name));
	else
		printf("deleted secret '%s'\n", name);
	return 0;
}

int hb_cmd_secret(hb_cli *cli, int argc, char **argv)
{
	hb_error e = {0};
	if (argc >= 1 && strcmp(argv[0], "set") == 0)
		return set(cli, argc - 1, argv + 1);
	if (argc >= 1 && (strcmp(argv[0], "list") == 0 || strcmp(argv[0], "delete") == 0)) {
		bool del = argv[0][0] == 'd';
		cli->prog = del ? "hookbridge secret delete" : "hookbridge secret list";
		hb_args a;
		if (hb_args_parse(argc - 1, argv + 1, NULL, &a, &e))
			return hb_cli_usage(cli, "%s", e.message);
		if (a.help) {
			printf("usage: %s%s\n", cli->prog, del ? " NAME" : "");
			return 0;
		}
		if (a.npos != (del ? 1 : 0))
			return hb_cli_usage(cli,
					    del ? "expected the secret's NAME" : "no arguments");
		if (del && check_name(a.pos[0], &e))
			return hb_cli_fail(cli, &e);
		if (hb_cli_open(cli, false, &e))
			return hb_cli_fail(cli, &e);
		return del ? delete (cli, a.pos[0]) : list(cli);
	}
	if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0))
		return usage_all(stdout);
	cli->prog = "hookbridge secret";
	return argc < 1
		   ? usage_all(stderr)
		   : hb_cli_usage(cli, "unknown subcommand '%s' (set, list or delete)", argv[0]);
}
