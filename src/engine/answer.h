/*
 * answer.h - parsing the body of a webhook's answer for capture (SPEC §4).
 *
 * JSON bodies (any top-level value) and application/x-www-form-urlencoded bodies are
 * understood; with any other or no Content-Type the body is tried as JSON. The parsed body is
 * what hb_param_find (param.h) walks. Integers beyond 64 bits do not spoil the rest of the
 * answer: they come back as strings of their exact digits, so an integer field reports them out
 * of range and a string field keeps the text.
 */
#ifndef HB_ENGINE_ANSWER_H
#define HB_ENGINE_ANSWER_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

/*
 * Parse body[0..len) by its Content-Type (NULL when the answer had none): JSON, or a form
 * body into an object of strings (repeated keys: the last wins; '+' is a space; %XX decoded;
 * a bad %-escape is an error). An empty or all-whitespace body gives *out = NULL and HB_OK.
 * HB_ERR_PARSE with the line and column of the fault otherwise. Caller owns *out. The input
 * must already be bounded by the caller's cap on answer bodies.
 */
hb_err hb_answer_parse_body(const char *body, size_t len, const char *content_type, json_t **out,
			    hb_error *e) HB_MUST_USE;

#endif
