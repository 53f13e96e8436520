/* csv.c - see csv.h. */
#include "core/csv.h"

void hb_csv_init(hb_csv *c, FILE *in)
{
	c->in = in;
	c->line = 0;
	c->next_line = 1;
	hb_buf_init(&c->data, HB_CSV_FIELD_MAX * 4);
	c->nfields = 0;
}

void hb_csv_free(hb_csv *c)
{
	hb_buf_free(&c->data);
}

static hb_err end_field(hb_csv *c, hb_error *e)
{
	if (hb_buf_addc(&c->data, '\0'))
		return hb_fail(e, HB_ERR_TOO_LARGE, "", "line %ld: record longer than %d bytes", c->line,
			       HB_CSV_FIELD_MAX * 4);
	if (c->nfields == HB_CSV_FIELDS_MAX)
		return hb_fail(e, HB_ERR_PARSE, "", "line %ld: more than %d fields", c->line,
			       HB_CSV_FIELDS_MAX);
	c->nfields++;
	if (c->nfields < HB_CSV_FIELDS_MAX) {
		c->start[c->nfields] = c->data.len;
		c->col[c->nfields] = (int)c->nfields + 1;
	}
	return HB_OK;
}

hb_err hb_csv_next(hb_csv *c, hb_error *e)
{
	hb_buf_reset(&c->data);
	c->nfields = 0;
	c->start[0] = 0;
	c->col[0] = 1;
	c->line = c->next_line;
	int ch = getc_unlocked(c->in);
	if (ch == EOF)
		return HB_ERR_NOT_FOUND;
	size_t field_start = 0;
	for (;;) {
		field_start = c->data.len;
		if (ch == '"') { /* quoted field */
			for (;;) {
				ch = getc_unlocked(c->in);
				if (ch == EOF)
					return hb_fail(e, HB_ERR_PARSE, "",
						       "line %ld, column %zu: a quoted field is never closed",
						       c->line, c->nfields + 1);
				if (ch == '"') {
					ch = getc_unlocked(c->in);
					if (ch != '"')
						break;
				}
				if (ch == '\n')
					c->next_line++;
				if (hb_buf_addc(&c->data, (char)ch))
					return hb_fail(e, HB_ERR_TOO_LARGE, "", "line %ld: record too long", c->line);
			}
			if (ch != ',' && ch != '\n' && ch != '\r' && ch != EOF)
				return hb_fail(e, HB_ERR_PARSE, "",
					       "line %ld, column %zu: text after a closing quote", c->line,
					       c->nfields + 1);
		} else {
			while (ch != ',' && ch != '\n' && ch != '\r' && ch != EOF) {
				if (ch == '"')
					return hb_fail(e, HB_ERR_PARSE, "",
						       "line %ld, column %zu: a quote inside an unquoted field",
						       c->line, c->nfields + 1);
				if (hb_buf_addc(&c->data, (char)ch))
					return hb_fail(e, HB_ERR_TOO_LARGE, "", "line %ld: record too long", c->line);
				ch = getc_unlocked(c->in);
			}
		}
		if (c->data.len - field_start > HB_CSV_FIELD_MAX)
			return hb_fail(e, HB_ERR_TOO_LARGE, "", "line %ld, column %zu: field longer than %d bytes",
				       c->line, c->nfields + 1, HB_CSV_FIELD_MAX);
		hb_err rc = end_field(c, e);
		if (rc)
			return rc;
		if (ch == ',') {
			ch = getc_unlocked(c->in);
			continue;
		}
		if (ch == '\r') {
			ch = getc_unlocked(c->in);
			if (ch != '\n' && ch != EOF)
				ungetc(ch, c->in);
		}
		c->next_line++;
		return HB_OK;
	}
}
