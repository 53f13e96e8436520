/*
 * xdata.h - External Data as users see it: the fields that apply to a record, and a record's
 * values shown by field (favorites first) or set and cleared by "group.field" name.
 */
#ifndef HB_MODEL_XDATA_H
#define HB_MODEL_XDATA_H

#include "model/model.h"

typedef struct hb_xfield_info {
	int64_t id;
	int64_t group_id;
	int64_t project_id; /* 0: a community-wide group */
	char group[65];
	char key[65];
	char label[201];
	char param[501];
	hb_type type;
	bool favorite;
	int64_t position;
} hb_xfield_info;

/* Every field of the groups stored against target in the community, in group then field
   order. project_id != 0 keeps community-wide groups and that project's groups only.
   *out is owned by the caller (free). */
hb_err hb_xdata_fields(hb_ctx *c, hb_target target, int64_t project_id, hb_xfield_info **out,
		       size_t *n, hb_error *e) HB_MUST_USE;
/* One field by "group.field". */
hb_err hb_xdata_field(hb_ctx *c, const char *dotted, hb_xfield_info *out, hb_target *target,
		      hb_error *e) HB_MUST_USE;
/* A stored value (v_int or v_text as the store keeps it) in the field's type. */
hb_value hb_xdata_typed(const hb_xfield_info *f, hb_value raw);
/* The record's values as a JSON array of {field,label,type,value,favorite,set_at,source},
   favorites first. New reference. */
json_t *hb_xdata_record_json(hb_ctx *c, hb_target target, int64_t record_id, int64_t project_id,
			     hb_error *e);
/* Target of a group's "on" text. */
bool hb_target_parse(const char *on, hb_target *out);

#endif
