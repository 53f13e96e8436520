/*
 * row.h - one record as an array of typed values, one per column of its kind.
 * A row owns the strings it was given with hb_row_set; hb_row_borrow only points at them
 * (used by the store while it hands rows to a callback, to avoid a copy per row).
 */
#ifndef HB_MODEL_ROW_H
#define HB_MODEL_ROW_H

#include "model/kind.h"

typedef struct hb_row {
	const hb_kind *kind;
	hb_value *v;   /* kind->ncols values */
	char **owned;  /* owned[i]: storage behind v[i] when the row owns it */
	char *packed;  /* storage behind the strings hb_row_pack moved, owned */
} hb_row;

/* A row of all-null values; the caller owns it (hb_row_free). */
hb_row *hb_row_new(const hb_kind *k);
void hb_row_free(hb_row **r);
/* Make every value null (keeps the allocation). */
void hb_row_clear(hb_row *r);
/* Set column i to v, copying string bytes. */
void hb_row_set(hb_row *r, int i, hb_value v);
/* Set column i to the string s[0..n) and take ownership of s (allocated with malloc). */
void hb_row_take(hb_row *r, int i, char *s, size_t n);
/* Set column i to v without copying: the bytes must outlive their use through the row. */
void hb_row_borrow(hb_row *r, int i, hb_value v);
/* Copy every value of src (same kind) into dst, owning the copies. */
void hb_row_copy(hb_row *dst, const hb_row *src);
/* Make the row own the strings it borrows, all copied into one allocation: a row read from
   the store takes one malloc rather than one a string. */
void hb_row_pack(hb_row *r);
void hb_row_set_str(hb_row *r, const char *col, const char *s);
void hb_row_set_int(hb_row *r, const char *col, int64_t i);
void hb_row_set_bool(hb_row *r, const char *col, bool b);
void hb_row_set_time(hb_row *r, const char *col, int64_t t);
void hb_row_set_null(hb_row *r, const char *col);
/* Value of a column by name (a null value when the kind has no such column). */
hb_value hb_row_get(const hb_row *r, const char *col);
/* NUL-terminated text of a string column, or NULL when null; only for owned/copied rows. */
const char *hb_row_str(const hb_row *r, const char *col);
int64_t hb_row_int(const hb_row *r, const char *col); /* 0 when null */
static inline int64_t hb_row_id(const hb_row *r)
{
	return r->v[0].u.i;
}

#endif
