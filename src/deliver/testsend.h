/*
 * testsend.h - "send test": one webhook of a macro for one record, now, outside any run — the
 * first thing a person setting up an integration reaches for. It shows the rendered request
 * (secrets masked), sends it unless asked not to, and shows the answer and, per External Data
 * field, what capture would store or why not. Nothing is stored unless asked.
 */
#ifndef HB_DELIVER_TESTSEND_H
#define HB_DELIVER_TESTSEND_H

#include "deliver/guard.h"
#include "model/model.h"

typedef struct hb_test_opts {
	int position;          /* the webhook action (1-based); 0: the macro's first webhook */
	bool dry_run;          /* render only */
	bool store;            /* store what a 2xx answer captures */
	const hb_guard *guard; /* the address rules */
} hb_test_opts;

/* Test macro (a row of HB_K_MACRO) on the record record_id (a user or ticket id, as the macro
   runs on). *out (new reference) is {"action","request","sent","response","duration_ms",
   "error_class","error","capture","stored"}. Errors are for what prevents the test (no such
   webhook, a template that cannot render is reported in *out instead). */
hb_err hb_macro_test(hb_ctx *c, const hb_row *macro, int64_t record_id, const hb_test_opts *o,
		     json_t **out, hb_error *e) HB_MUST_USE;

#endif
