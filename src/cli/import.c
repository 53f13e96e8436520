/*
 * import.c - `hookbridge user import FILE.csv [--project P]`: a header row names the columns
 * (user fields: email, first_name, …); the file is streamed; everything lands in one
 * transaction. Each bad row is reported with its line, column and field, and by default
 * nothing is imported when any row is bad.
 */
#include <stdio.h>
#include <string.h>

#include "cli/records.h"
#include "core/csv.h"

#define MAX_REPORTED 20

typedef struct import_job {
	FILE *file;
	const char *path;
	const char *project;
	bool skip_invalid;
	long imported, bad;
	int cols[HB_CSV_FIELDS_MAX]; /* user column of each CSV column */
	size_t ncols;
	hb_row *user; /* the current line as a row */
} import_job;

static hb_err read_header(import_job *j, hb_csv *csv, hb_error *e)
{
	const hb_kind *k = hb_kind_get(HB_K_USER);
	hb_err rc = hb_csv_next(csv, e);
	if (rc == HB_ERR_NOT_FOUND)
		return hb_fail(e, HB_ERR_INVALID, "", "%s is empty: the first line must name the columns",
			       j->path);
	if (rc)
		return rc;
	bool has_email = false;
	j->ncols = csv->nfields;
	for (size_t i = 0; i < csv->nfields; i++) {
		char name[64];
		snprintf(name, sizeof name, "%s", hb_csv_field(csv, i));
		for (char *p = name; *p; p++)
			if (*p == '-' || *p == ' ')
				*p = '_';
		int col = hb_kind_col(k, name);
		if (col < 0 || (k->cols[col].flags & (HB_COL_SYSTEM | HB_COL_HIDDEN)))
			return hb_fail(e, HB_ERR_INVALID, name,
				       "%s line 1, column %zu: '%s' is not a user field", j->path, i + 1,
				       hb_csv_field(csv, i));
		for (size_t k2 = 0; k2 < i; k2++)
			if (j->cols[k2] == col)
				return hb_fail(e, HB_ERR_INVALID, name, "%s line 1: column '%s' given twice",
					       j->path, name);
		j->cols[i] = col;
		has_email |= strcmp(k->cols[col].name, "email") == 0;
	}
	if (!has_email)
		return hb_fail(e, HB_ERR_INVALID, "email", "%s line 1: an 'email' column is required",
			       j->path);
	return HB_OK;
}

static hb_err import_all(hb_ctx *c, void *ud, hb_error *e)
{
	import_job *j = ud;
	const hb_kind *k = hb_kind_get(HB_K_USER);
	hb_csv csv;
	hb_csv_init(&csv, j->file);
	hb_err rc = read_header(j, &csv, e);
	hb_error first = {0};
	while (!rc) {
		rc = hb_csv_next(&csv, e);
		if (rc == HB_ERR_NOT_FOUND) {
			rc = HB_OK;
			break;
		}
		if (rc)
			break;
		if (csv.nfields == 1 && !*hb_csv_field(&csv, 0))
			continue; /* blank line */
		hb_error re = {0};
		hb_err row_rc = HB_OK;
		if (csv.nfields != j->ncols) {
			row_rc = hb_fail(&re, HB_ERR_INVALID, "", "line %ld: %zu fields, the header has %zu",
					 csv.line, csv.nfields, j->ncols);
		} else {
			/* one row, reused for every line of the file */
			hb_row_clear(j->user);
			for (size_t i = 0; i < csv.nfields && !row_rc; i++) {
				const char *cell = hb_csv_field(&csv, i);
				if (*cell) /* an empty cell leaves the field empty */
					row_rc = hb_record_set_text(c, j->user, j->cols[i], cell,
								    strlen(cell), &re);
			}
			if (!row_rc)
				row_rc = hb_record_create_into(c, j->user, NULL, &re);
			if (!row_rc && j->project) {
				json_t *p = json_pack("{s:s, s:I}", "project", j->project, "user",
						      (json_int_t)hb_row_id(j->user));
				row_rc = hb_record_create(c, HB_K_PARTICIPATION, p, NULL, &re);
				json_decref(p);
			}
			if (row_rc && !strstr(re.message, "line ")) {
				size_t col = 0;
				for (size_t i = 0; i < j->ncols; i++)
					if (strcmp(hb_col_public_name(&k->cols[j->cols[i]]), re.field) == 0)
						col = i + 1;
				char msg[HB_ERROR_MSG_MAX], field[HB_ERROR_FIELD_MAX];
				snprintf(msg, sizeof msg, "%s", re.message);
				snprintf(field, sizeof field, "%s", re.field);
				if (col)
					hb_fail(&re, row_rc, field, "line %ld, column %zu (%s): %.400s",
						csv.line, col, field, msg);
				else
					hb_fail(&re, row_rc, field, "line %ld: %.450s", csv.line, msg);
			}
		}
		if (row_rc == HB_ERR_NOT_FOUND || row_rc == HB_ERR_INVALID || row_rc == HB_ERR_CONFLICT) {
			if (++j->bad <= MAX_REPORTED)
				fprintf(stderr, "%s %s\n", j->path, re.message);
			if (j->bad == 1)
				first = re;
			continue;
		}
		if (row_rc) {
			*e = re;
			rc = row_rc;
			break;
		}
		j->imported++;
	}
	hb_csv_free(&csv);
	if (!rc && j->bad && !j->skip_invalid) {
		j->imported = 0;
		return hb_fail(e, HB_ERR_INVALID, first.field,
			       "%ld bad row(s), nothing imported (first: %s %s); fix them, or pass "
			       "--skip-invalid to import the good rows",
			       j->bad, j->path, first.message);
	}
	return rc;
}

int hb_cmd_user_import(hb_cli *cli, int argc, char **argv)
{
	static const hb_optspec opts[] = {
		{"project", true, false, "add every imported user to this project"},
		{"skip-invalid", false, false, "import the good rows even when some are bad"},
		{NULL}};
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge user import";
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge user import FILE.csv [--project P] [--skip-invalid]\n\n"
		       "Import users from CSV. The first line names the columns (email is required;\n"
		       "also first_name, last_name, username, phone, company, street1, street2, city,\n"
		       "state, postal_code, country). One transaction: by default nothing is imported\n"
		       "when any row is bad. Use - to read standard input.\n");
		return 0;
	}
	if (a.npos != 1)
		return hb_cli_usage(cli, "expected one FILE.csv");
	import_job j = {.path = a.pos[0], .project = hb_args_get(&a, "project"),
			.skip_invalid = hb_args_has(&a, "skip-invalid")};
	j.file = strcmp(j.path, "-") == 0 ? stdin : fopen(j.path, "r");
	if (!j.file) {
		fprintf(stderr, "%s: cannot open %s: %m\n", cli->prog, j.path);
		return 1;
	}
	static char iobuf[1 << 16];
	setvbuf(j.file, iobuf, _IOFBF, sizeof iobuf);
	j.user = hb_row_new(hb_kind_get(HB_K_USER));
	int status = 0;
	if (hb_cli_open(cli, false, &e))
		status = hb_cli_fail(cli, &e);
	else if (hb_tx(&cli->ctx, import_all, &j, &e))
		status = hb_cli_fail(cli, &e);
	else if (cli->json)
		hb_cli_print_json(json_pack("{s:I, s:I}", "imported", (json_int_t)j.imported, "skipped",
					    (json_int_t)j.bad));
	else
		printf("imported %ld user(s)%s\n", j.imported, j.bad ? " (bad rows skipped)" : "");
	if (j.file != stdin)
		fclose(j.file);
	hb_row_free(&j.user);
	return status;
}
