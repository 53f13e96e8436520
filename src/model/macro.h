/*
 * macro.h - macros as users write them: a JSON definition (docs/macros.md) with ordered
 * actions, checked as a whole when saved — every template compiled against the catalogue of
 * the records the macro runs on, in the context it will render in — and stored with its
 * actions in one transaction.
 */
#ifndef HB_MODEL_MACRO_H
#define HB_MODEL_MACRO_H

#include "model/model.h"

/* Create (replace = false) or replace the definition of an existing macro of the same key.
   *out (may be NULL) is the stored macro row, owned by the caller. */
hb_err hb_macro_save(hb_ctx *c, json_t *def, bool replace, hb_row **out, hb_error *e) HB_MUST_USE;
/* The macro with its actions as public JSON (signing secrets left out). New reference. */
json_t *hb_macro_json(hb_ctx *c, const hb_row *macro);

#endif
