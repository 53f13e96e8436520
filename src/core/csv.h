/*
 * csv.h - a streaming RFC 4180 reader: one record at a time from a FILE, with the line and
 * column where each field starts, so a bad value can be reported exactly. Quoted fields may
 * hold commas, doubled quotes and newlines. A field is capped (HB_CSV_FIELD_MAX).
 */
#ifndef HB_CORE_CSV_H
#define HB_CORE_CSV_H

#include <stdio.h>

#include "core/buf.h"

#define HB_CSV_FIELD_MAX (64 * 1024)
#define HB_CSV_FIELDS_MAX 256

typedef struct hb_csv {
	FILE *in;
	long line;          /* line the current record starts on (1-based) */
	long next_line;
	hb_buf data;        /* the fields, NUL-separated */
	size_t nfields;
	size_t start[HB_CSV_FIELDS_MAX];
	int col[HB_CSV_FIELDS_MAX]; /* 1-based column (field number) */
} hb_csv;

void hb_csv_init(hb_csv *c, FILE *in);
void hb_csv_free(hb_csv *c);
/* Read the next record: HB_OK with nfields set, HB_ERR_NOT_FOUND at end of input, or
   HB_ERR_PARSE with a message naming the line and column. */
hb_err hb_csv_next(hb_csv *c, hb_error *e) HB_MUST_USE;
static inline const char *hb_csv_field(const hb_csv *c, size_t i)
{
	return c->data.data + c->start[i];
}

#endif
