/*
 * tagctx.h - the Data Engine's catalogue for real records, and loading one record into it.
 *
 * For records "on users" the paths are user.*, project.* (when a project is given),
 * community.*, external.<group>.<field> of user groups, now. For "on feedback": feedback.*,
 * submitter.*, project.*, community.*, external.… of feedback groups, submitter.external.… of
 * user groups, now. Native columns keep their stored names (user.first_name); references show
 * as their key (feedback.type, feedback.number as EXA-0001).
 */
#ifndef HB_MODEL_TAGCTX_H
#define HB_MODEL_TAGCTX_H

#include "engine/catalog.h"
#include "model/model.h"
#include "model/xdata.h"

typedef struct hb_tagctx hb_tagctx;

/* Build the catalogue for records of target (users or feedback), optionally within a project
   (0 = community level). Caller owns *out. */
hb_err hb_tagctx_new(hb_ctx *c, hb_target target, int64_t project_id, hb_tagctx **out,
		     hb_error *e) HB_MUST_USE;
void hb_tagctx_free(hb_tagctx **t);
const hb_catalog *hb_tagctx_catalog(const hb_tagctx *t);
/* Fill the slots (one per catalogue path) for one record; strings stay valid until the next
   load or free. Returns the slots array owned by t. */
hb_err hb_tagctx_load(hb_tagctx *t, int64_t record_id, const hb_value **slots, hb_error *e)
	HB_MUST_USE;

#endif
