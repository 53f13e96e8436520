/*
 * plan.h - a macro made ready to send: its actions in order, every webhook template compiled
 * against the catalogue of the records it runs on, each capture field's parameter compiled,
 * and the retry schedule resolved. A plan is built once per macro and reused for every record
 * of every run (the engine keeps them in a small cache).
 */
#ifndef HB_DELIVER_PLAN_H
#define HB_DELIVER_PLAN_H

#include "deliver/schedule.h"
#include "engine/param.h"
#include "engine/template.h"
#include "model/tagctx.h"

typedef enum hb_body_kind { HB_BODY_NONE, HB_BODY_JSON, HB_BODY_FORM } hb_body_kind;

typedef struct hb_plan_field {
	int64_t id;
	char name[132]; /* "group.field", as messages name it */
	hb_type type;
	hb_param *param;
} hb_plan_field;

typedef struct hb_plan_action {
	int position;  /* 1-based, as stored */
	char type[24]; /* "webhook", "set_status", … */
	/* webhook */
	char method[8];
	hb_template *url, *headers, *body;
	hb_body_kind body_kind;
	bool uses_secrets;
	char *signing_secret; /* NULL: unsigned */
	long timeout_ms;
	hb_schedule schedule;
	hb_plan_field *fields; /* capture: the group's fields; nfields 0 when capture is off */
	size_t nfields;
	int64_t capture_group_id;
	/* native actions: their settings as stored */
	json_t *params;
	hb_template *text; /* add_note / add_reply body, compiled as text */
} hb_plan_action;

typedef struct hb_plan {
	hb_ctx *ctx;        /* the macro's community; outlives the plan */
	int64_t macro_id;
	int64_t updated_at; /* the macro's, to notice edits */
	hb_row *macro;
	hb_target target;
	hb_tagctx *tags; /* catalogue and record loader for the macro's records */
	int64_t run_id;  /* the run whose run.* tags tags holds (hb_tagctx_set_run), or 0 */
	hb_plan_action *actions;
	size_t nactions;
} hb_plan;

typedef struct hb_plan_opts {
	hb_schedule schedule; /* used by webhooks that set none */
	long timeout_ms;      /* likewise (SPEC §5: 15 s) */
} hb_plan_opts;

/* Build the plan of macro macro_id (in c's community). Caller owns *out (hb_plan_free). */
hb_err hb_plan_load(hb_ctx *c, int64_t macro_id, const hb_plan_opts *o, hb_plan **out,
		    hb_error *e) HB_MUST_USE;
void hb_plan_free(hb_plan **p);
/* The action at a 1-based position, or NULL. */
const hb_plan_action *hb_plan_action_at(const hb_plan *p, int position);
/* Position of the first webhook action after `after` (0: from the start), or 0 when none. */
int hb_plan_next_webhook(const hb_plan *p, int after);
/* Whether native actions follow the action at position after, before the next webhook. */
bool hb_plan_natives_after(const hb_plan *p, int after);

#endif
