/*
 * kind.h - the record model of SPEC §1-2 as data: one hb_kind per record type, one hb_column
 * per stored column.
 *
 * DESIGN. The descriptors drive everything generic: the store back ends build their statements
 * from them (names come from these static tables, never from user text), the model validates
 * input against them (required, key and email syntax, choices, lengths, references), and the
 * CLI and the API read and write records through them. A column's user-facing name is `input`
 * when it differs from the stored name: a reference column "project_id" is typed as "project"
 * and holds the referenced record's key or email.
 */
#ifndef HB_MODEL_KIND_H
#define HB_MODEL_KIND_H

#include <stdbool.h>
#include <stddef.h>

#include "core/value.h"

typedef enum hb_kind_id {
	HB_K_COMMUNITY,
	HB_K_PROJECT,
	HB_K_USER,
	HB_K_PARTICIPATION,
	HB_K_NOTE,
	HB_K_FEEDBACK_TYPE,
	HB_K_FEEDBACK,
	HB_K_REPLY,
	HB_K_XGROUP,
	HB_K_XFIELD,
	HB_K_MACRO,
	HB_K_ACTION,
	HB_K_APIKEY,
	HB_K_SECRET,
	HB_K_RUN,
	HB_K_DELIVERY,
	HB_K_ATTEMPT,
	HB_K_FILTER,
	HB_K_VIEW,
	HB_K_PACKAGE,
	HB_K__COUNT
} hb_kind_id;

enum {
	HB_COL_REQUIRED = 1u << 0,  /* must be given on create */
	HB_COL_KEY = 1u << 1,       /* key syntax [a-z0-9][a-z0-9_-]{0,63} */
	HB_COL_EMAIL = 1u << 2,     /* email syntax, stored lower-case */
	HB_COL_SYSTEM = 1u << 3,    /* set by hookbridge, never from input */
	HB_COL_IMMUTABLE = 1u << 4, /* given on create, never changed */
	HB_COL_REF = 1u << 5,       /* id of a record of kind `ref`; input is its key/email */
	HB_COL_JSON = 1u << 6,      /* text holding JSON; input is a JSON value */
	HB_COL_SECRET = 1u << 7,    /* never shown */
	HB_COL_HIDDEN = 1u << 8,    /* internal bookkeeping, not shown */
	HB_COL_MULTILINE = 1u << 9, /* free text that may hold newlines */
};

typedef struct hb_column {
	const char *name;    /* stored name */
	const char *input;   /* user-facing name when it differs (references), else NULL */
	hb_type type;        /* HB_TYPE_STRING, _INT, _BOOL or _TIME; references are _INT */
	unsigned flags;      /* HB_COL_* */
	hb_kind_id ref;      /* with HB_COL_REF */
	const char *choices; /* "a|b|c" when only these values are allowed */
	unsigned max_len;    /* for strings; 0 = the default cap */
	const char *help;    /* one line for --help */
	const char *dflt;    /* value on create when none is given (as typed), or NULL */
} hb_column;

typedef struct hb_kind {
	hb_kind_id id;
	const char *name;   /* "user" (singular, for messages) */
	const char *table;  /* stored table name */
	const hb_column *cols;
	size_t ncols;       /* cols[0] is "id" */
	int scope_col;      /* column whose value scopes uniqueness of lookup_col, or -1 */
	int lookup_col;     /* the column that names a record (key, email), or -1 */
	const char *lookup_name; /* how messages call it ("key", "email") */
} hb_kind;

#define HB_TEXT_MAX 65536 /* default cap on a text column */

const hb_kind *hb_kind_get(hb_kind_id id);
/* Column index by stored or input name; -1 when the kind has no such column. */
int hb_kind_col(const hb_kind *k, const char *name);
/* The user-facing name of column i. */
const char *hb_col_public_name(const hb_column *c);
/* Is value s one of the column's choices? (true when it has none) */
bool hb_col_choice_ok(const hb_column *c, const char *s, size_t n);

#endif
