/*
 * catalog.h - the Data Engine's field catalogue: every path a template, filter, view or report
 * may name ("user.email", "feedback.title", "external.shipping.is_valid", "now", …), its type,
 * and the slot it is read from.
 *
 * DESIGN. A catalogue is built once for a scope (records of one kind, in one community and
 * maybe one project). Each path gets a slot number; a "loaded record" is simply an array of
 * hb_value with one entry per slot (hb_catalog_nslots), filled by the loader. Templates and
 * filters resolve paths to slots when they are compiled, so rendering is an array index.
 */
#ifndef HB_ENGINE_CATALOG_H
#define HB_ENGINE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/value.h"

typedef struct hb_catalog hb_catalog;

enum {
	HB_PATH_SECRET = 1u << 0, /* a credential: masked in every preview, log and answer */
	HB_PATH_EXTERNAL = 1u << 1, /* an External Data field */
};

typedef struct hb_path_info {
	const char *path;  /* "user.email"; owned by the catalogue */
	const char *label; /* what people see ("Email"); owned by the catalogue */
	hb_type type;      /* the type its values have (HB_TYPE_STRING for most native text) */
	unsigned flags;    /* HB_PATH_* */
	int slot;          /* index into a loaded record's value array */
	long long ref;     /* what the loader needs to fill the slot (e.g. an External Data field id) */
} hb_path_info;

/* An empty catalogue; the caller owns it (hb_catalog_free). */
hb_catalog *hb_catalog_new(void);
void hb_catalog_free(hb_catalog **cat);
/* Add a path and give it the next slot; returns the slot. Path and label are copied. */
int hb_catalog_add(hb_catalog *cat, const char *path, const char *label, hb_type type,
		   unsigned flags, long long ref);
/* Find a path of length n; the returned info is owned by the catalogue (NULL when unknown). */
const hb_path_info *hb_catalog_find(const hb_catalog *cat, const char *path, size_t n);
size_t hb_catalog_nslots(const hb_catalog *cat);
/* The i-th path in the order they were added (0 <= i < nslots). */
const hb_path_info *hb_catalog_at(const hb_catalog *cat, size_t i);
/* Paths that start with the given text, nearest spelling first, for "did you mean" hints:
 * writes the closest known path to a typo into out (size n), or "" when nothing is close. */
void hb_catalog_suggest(const hb_catalog *cat, const char *path, size_t len, char *out, size_t n);

#endif
