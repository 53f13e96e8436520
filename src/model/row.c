/* row.c - see row.h. */
#include "model/row.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* One allocation: the row, then its values, then its owned pointers (rows are made and freed
   a few times per delivery). */
typedef struct row_block {
	hb_row row;
	hb_value v[];
} row_block;

hb_row *hb_row_new(const hb_kind *k)
{
	size_t n = k->ncols ? k->ncols : 1;
	row_block *b = hb_calloc(1, sizeof *b + n * (sizeof(hb_value) + sizeof(char *)));
	hb_row *r = &b->row;
	r->kind = k;
	r->v = b->v;
	r->owned = (char **)(b->v + n);
	return r;
}

static void drop(hb_row *r, int i)
{
	if (r->owned[i]) {
		free(r->owned[i]);
		r->owned[i] = NULL;
	}
}

void hb_row_clear(hb_row *r)
{
	for (size_t i = 0; i < r->kind->ncols; i++) {
		drop(r, (int)i);
		r->v[i] = hb_value_null();
	}
	free(r->packed);
	r->packed = NULL;
}

void hb_row_free(hb_row **rp)
{
	if (!rp || !*rp)
		return;
	hb_row *r = *rp;
	for (size_t i = 0; i < r->kind->ncols; i++)
		drop(r, (int)i);
	free(r->packed);
	free(r); /* the row_block */
	*rp = NULL;
}

void hb_row_pack(hb_row *r)
{
	size_t total = 0;
	for (size_t i = 0; i < r->kind->ncols; i++)
		if (r->v[i].type == HB_TYPE_STRING && !r->owned[i])
			total += r->v[i].u.s.len + 1;
	char *block = total ? hb_malloc(total) : NULL, *at = block;
	for (size_t i = 0; total && i < r->kind->ncols; i++) {
		hb_value *v = &r->v[i];
		if (v->type != HB_TYPE_STRING || r->owned[i])
			continue;
		if (v->u.s.len)
			memcpy(at, v->u.s.ptr, v->u.s.len);
		at[v->u.s.len] = '\0';
		v->u.s.ptr = at;
		at += v->u.s.len + 1;
	}
	free(r->packed); /* after the copy: some strings may have been in it */
	r->packed = block;
}

void hb_row_set(hb_row *r, int i, hb_value v)
{
	if (i < 0)
		return;
	char *copy = NULL;
	if (v.type == HB_TYPE_STRING) {
		copy = hb_strndup(v.u.s.ptr ? v.u.s.ptr : "", v.u.s.len);
		v.u.s.ptr = copy;
	}
	drop(r, i);
	r->owned[i] = copy;
	r->v[i] = v;
}

void hb_row_take(hb_row *r, int i, char *s, size_t n)
{
	drop(r, i);
	r->owned[i] = s;
	r->v[i] = hb_value_strn(s, n);
}

void hb_row_borrow(hb_row *r, int i, hb_value v)
{
	drop(r, i);
	r->v[i] = v;
}

void hb_row_copy(hb_row *dst, const hb_row *src)
{
	for (size_t i = 0; i < src->kind->ncols; i++)
		hb_row_set(dst, (int)i, src->v[i]);
}

static int col(const hb_row *r, const char *name)
{
	int i = hb_kind_col(r->kind, name);
	if (i < 0) {
		fprintf(stderr, "hookbridge: internal error: %s has no column %s\n", r->kind->name, name);
		abort();
	}
	return i;
}

void hb_row_set_str(hb_row *r, const char *c, const char *s)
{
	hb_row_set(r, col(r, c), hb_value_str(s));
}

void hb_row_set_int(hb_row *r, const char *c, int64_t i)
{
	hb_row_set(r, col(r, c), hb_value_int(i));
}

void hb_row_set_bool(hb_row *r, const char *c, bool b)
{
	hb_row_set(r, col(r, c), hb_value_bool(b));
}

void hb_row_set_time(hb_row *r, const char *c, int64_t t)
{
	hb_row_set(r, col(r, c), hb_value_time(t));
}

void hb_row_set_null(hb_row *r, const char *c)
{
	hb_row_set(r, col(r, c), hb_value_null());
}

hb_value hb_row_get(const hb_row *r, const char *c)
{
	return r->v[col(r, c)];
}

const char *hb_row_str(const hb_row *r, const char *c)
{
	int i = col(r, c);
	if (r->v[i].type != HB_TYPE_STRING)
		return NULL;
	return r->owned[i] ? r->owned[i] : r->v[i].u.s.ptr;
}

int64_t hb_row_int(const hb_row *r, const char *c)
{
	hb_value v = r->v[col(r, c)];
	if (v.type == HB_TYPE_INT || v.type == HB_TYPE_TIME)
		return v.u.i;
	if (v.type == HB_TYPE_BOOL)
		return v.u.b;
	return 0;
}
