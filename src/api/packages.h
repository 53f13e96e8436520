/*
 * packages.h - handlers of api/packages.c: data packages, record lookups, reports, and the
 * filtered (?filter=, ?view=) form of the users and feedback lists.
 */
#ifndef HB_API_PACKAGES_H
#define HB_API_PACKAGES_H

#include "api/internal.h"

hb_err hb_h_project_package(hb_req *r, hb_error *e);
hb_err hb_h_community_package(hb_req *r, hb_error *e);
hb_err hb_h_lookup(hb_req *r, hb_error *e);
hb_err hb_h_reports(hb_req *r, hb_error *e);

/* Does this list request ask for a filter or a view? */
bool hb_api_wants_query(hb_req *r);
/* The users (or feedback) list through ?filter= (an expression or @SAVED) and ?view=, with the
   same limit/cursor paging as every list. */
hb_err hb_api_list_query(hb_req *r, hb_target t, hb_error *e) HB_MUST_USE;

#endif
