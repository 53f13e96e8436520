/*
 * tagctx.h - the Data Engine's catalogue for real records, and loading one record into it.
 *
 * For records "on users" the paths are user.*, project.* (when a project is given),
 * community.*, external.<group>.<field> of user groups, now. For "on feedback": feedback.*,
 * submitter.*, project.*, community.*, external.… of feedback groups, submitter.external.… of
 * user groups, now. Native columns keep their stored names (user.first_name); references show
 * as their key (feedback.type, feedback.number as EXA-0001).
 *
 * Both kinds of record also get macro.id, macro.key, macro.name, macro.description, run.id,
 * run.started_by, run.started_at, run.selection and run.total (the macro and run a delivery
 * belongs to: hb_tagctx_set_run), and secret.<name> for each secret of the community, flagged
 * HB_PATH_SECRET (a template renders them masked when asked, and refuses them in plain text).
 *
 * DESIGN. Record paths are read again by every hb_tagctx_load; macro, run and secret paths hold
 * values the context keeps (copies) from hb_tagctx_new or hb_tagctx_set_run until they are set
 * again or the context is freed, so a delivery sets its run once and loads many records.
 * Secret values are read once, when the context is built, and wiped from memory when freed.
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
/* Read the records of ids ahead, in one statement, for the loads that follow in the same read
   transaction: a load of one of them takes it instead of reading it. Only when they are close
   together (no more than twice as many ids in their span as ids); otherwise, or if the read
   fails, each load reads its own as before. hb_tagctx_drop_ahead forgets what is left; call it
   before the read transaction ends, since later loads must see later writes. */
void hb_tagctx_read_ahead(hb_tagctx *t, const int64_t *ids, size_t n);
void hb_tagctx_drop_ahead(hb_tagctx *t);
/* From now on a load reads only these slots, besides those named by earlier calls; the others
   are null. The record itself is always read (a load fails when it is gone); its submitter,
   project, community and External Data only when a named slot comes from them; of each record
   only the columns named. Without any call, a load reads every slot. */
void hb_tagctx_need(hb_tagctx *t, const int *slots, size_t n);
/* Fill macro.* from a macro row (kind HB_K_MACRO) and run.* from a run row (kind HB_K_RUN);
   either may be NULL, and then its paths are empty. The values are copied and kept for every
   later hb_tagctx_load until the next call. */
void hb_tagctx_set_run(hb_tagctx *t, const hb_row *macro, const hb_row *run);

#endif
