/*
 * tjson.c - the JSON skeleton checker of the template module (tjson.h).
 *
 * DESIGN. A small JSON lexer over the literal text of a template in the JSON context, driven one
 * byte at a time by template.c. A stack of open '{' and '[' and a state for what may come next
 * (value, key, ':', ',' or a close) decide where a tag may stand: inside a string literal, as a
 * run of characters of that string, or where a value is expected, as a whole value. Strings,
 * escapes (surrogate pairs included), numbers (which must fit jansson's types) and the words
 * true, false and null are checked as they go by, so every render is valid JSON.
 */
#include "engine/tjson.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/text.h"

#define fail_at(c, ...) hb_template_fail((c)->ts, __VA_ARGS__)
#define show hb_template_show

void hb_tjson_init(hb_tjson *j, const hb_tsrc *ts)
{
	memset(j, 0, sizeof *j);
	j->ts = ts;
	j->js = HB_JS_VALUE;
}

static bool json_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* A number of the skeleton has ended at off: check it is one jansson can hold. */
static hb_err json_number_end(hb_tjson *c, size_t off)
{
	if (c->ns == HB_JN_MINUS || c->ns == HB_JN_DOT || c->ns == HB_JN_E || c->ns == HB_JN_ESIGN)
		return fail_at(c, c->tok_at, "incomplete number '%.*s'", (int)(off - c->tok_at),
			       c->ts->src + c->tok_at);
	const char *s = c->ts->src + c->tok_at;
	size_t n = off - c->tok_at;
	bool ok;
	if (c->ns == HB_JN_ZERO || c->ns == HB_JN_INT) {
		int64_t v;
		ok = hb_text_to_int64(s, n, &v);
	} else {
		char *tmp = hb_strndup(s, n);
		ok = !isinf(strtod(tmp, NULL));
		free(tmp);
	}
	if (!ok)
		return fail_at(c, c->tok_at, "number '%.*s' is out of range",
			       (int)(n > 40 ? 40 : n), s);
	c->js = c->depth ? HB_JS_AFTER : HB_JS_DONE;
	return HB_OK;
}

static void json_value_done(hb_tjson *c)
{
	c->js = c->depth ? HB_JS_AFTER : HB_JS_DONE;
}

/* Feed one byte of literal text at offset off to the JSON scanner. */
hb_err hb_tjson_byte(hb_tjson *c, size_t off)
{
	char ch = c->ts->src[off];
	char sb[40];
	hb_err rc;
again:
	switch (c->js) {
	case HB_JS_STR:
		if (c->need_low && ch != '\\')
			return fail_at(c, off,
				       "a \\u escape of a high surrogate must be followed by "
				       "the \\u escape of a low surrogate");
		if (ch == '"') {
			c->js = c->str_key ? HB_JS_COLON : HB_JS_AFTER;
		} else if (ch == '\\') {
			c->js = HB_JS_STR_ESC;
		} else if ((unsigned char)ch < 0x20) {
			return fail_at(c, off,
				       "%s must be escaped inside a JSON string (write \\n, \\t or "
				       "\\u00XX)",
				       show((unsigned char)ch, sb, sizeof sb));
		}
		return HB_OK;
	case HB_JS_STR_ESC:
		if (c->need_low && ch != 'u')
			return fail_at(c, off,
				       "a \\u escape of a high surrogate must be followed by "
				       "the \\u escape of a low surrogate");
		if (ch == 'u') {
			c->js = HB_JS_STR_U;
			c->u_digits = 0;
			c->u_val = 0;
		} else if (strchr("\"\\/bfnrt", ch) && ch) {
			c->js = HB_JS_STR;
		} else {
			return fail_at(c, off, "unknown escape '\\%c' in a JSON string", ch);
		}
		return HB_OK;
	case HB_JS_STR_U: {
		int h = hexval(ch);
		if (h < 0)
			return fail_at(c, off, "a \\u escape needs four hex digits");
		c->u_val = c->u_val * 16 + (unsigned)h;
		if (++c->u_digits < 4)
			return HB_OK;
		c->js = HB_JS_STR;
		if (c->need_low) {
			if (c->u_val < 0xdc00 || c->u_val > 0xdfff)
				return fail_at(c, off,
					       "a \\u escape of a high surrogate must be "
					       "followed by the \\u escape of a low surrogate");
			c->need_low = false;
		} else if (c->u_val >= 0xd800 && c->u_val <= 0xdbff) {
			c->need_low = true;
		} else if (c->u_val >= 0xdc00 && c->u_val <= 0xdfff) {
			return fail_at(c, off, "a lone low surrogate \\u escape is not valid");
		} else if (c->u_val == 0) {
			return fail_at(c, off, "\\u0000 is refused by many receivers; remove it");
		}
		return HB_OK;
	}
	case HB_JS_NUM: {
		enum hb_tjson_num ns = c->ns;
		bool digit = ch >= '0' && ch <= '9';
		if (digit && (ns == HB_JN_MINUS || ns == HB_JN_INT))
			c->ns = (ns == HB_JN_MINUS && ch == '0') ? HB_JN_ZERO : HB_JN_INT;
		else if (digit && (ns == HB_JN_DOT || ns == HB_JN_FRAC))
			c->ns = HB_JN_FRAC;
		else if (digit && (ns == HB_JN_E || ns == HB_JN_ESIGN || ns == HB_JN_EXP))
			c->ns = HB_JN_EXP;
		else if (ch == '.' && (ns == HB_JN_ZERO || ns == HB_JN_INT))
			c->ns = HB_JN_DOT;
		else if ((ch == 'e' || ch == 'E') &&
			 (ns == HB_JN_ZERO || ns == HB_JN_INT || ns == HB_JN_FRAC))
			c->ns = HB_JN_E;
		else if ((ch == '+' || ch == '-') && ns == HB_JN_E)
			c->ns = HB_JN_ESIGN;
		else {
			if ((rc = json_number_end(c, off)))
				return rc;
			goto again;
		}
		return HB_OK;
	}
	case HB_JS_WORD:
		if (ch != c->word[c->word_i])
			return fail_at(c, c->tok_at, "expected '%s'", c->word);
		if (c->word[++c->word_i] == '\0')
			json_value_done(c);
		return HB_OK;
	default:
		break;
	}
	if (json_ws(ch))
		return HB_OK;
	switch (c->js) {
	case HB_JS_VALUE:
	case HB_JS_VALUE_OR_CLOSE:
		if (ch == ']' && c->js == HB_JS_VALUE_OR_CLOSE)
			goto close;
		if (c->depth == 0 && ch != '{' && ch != '[')
			return fail_at(c, off,
				       "a JSON body must be an object or an array (start it "
				       "with '{' or '['), found %s",
				       show((unsigned char)ch, sb, sizeof sb));
		c->tok_at = off;
		if (ch == '{' || ch == '[') {
			if (c->depth == HB_TJSON_MAX_DEPTH)
				return fail_at(c, off, "JSON nested more than %d deep",
					       HB_TJSON_MAX_DEPTH);
			c->stack[c->depth++] = ch;
			c->js = ch == '{' ? HB_JS_KEY_OR_CLOSE : HB_JS_VALUE_OR_CLOSE;
		} else if (ch == '"') {
			c->js = HB_JS_STR;
			c->str_key = false;
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			c->js = HB_JS_NUM;
			c->ns = ch == '-' ? HB_JN_MINUS : ch == '0' ? HB_JN_ZERO : HB_JN_INT;
		} else if (ch == 't' || ch == 'f' || ch == 'n') {
			c->js = HB_JS_WORD;
			c->word = ch == 't' ? "true" : ch == 'f' ? "false" : "null";
			c->word_i = 1;
		} else {
			return fail_at(c, off, "expected a JSON value, found %s",
				       show((unsigned char)ch, sb, sizeof sb));
		}
		return HB_OK;
	case HB_JS_KEY:
	case HB_JS_KEY_OR_CLOSE:
		if (ch == '}' && c->js == HB_JS_KEY_OR_CLOSE)
			goto close;
		if (ch != '"')
			return fail_at(c, off, "expected a quoted object key, found %s",
				       show((unsigned char)ch, sb, sizeof sb));
		c->js = HB_JS_STR;
		c->str_key = true;
		c->tok_at = off;
		return HB_OK;
	case HB_JS_COLON:
		if (ch != ':')
			return fail_at(c, off, "expected ':' after an object key, found %s",
				       show((unsigned char)ch, sb, sizeof sb));
		c->js = HB_JS_VALUE;
		return HB_OK;
	case HB_JS_AFTER:
		if (ch == ',') {
			c->js = c->stack[c->depth - 1] == '{' ? HB_JS_KEY : HB_JS_VALUE;
			return HB_OK;
		}
		if (ch == '}' || ch == ']')
			goto close;
		return fail_at(c, off, "expected ',' or '%c' after a value, found %s",
			       c->stack[c->depth - 1] == '{' ? '}' : ']',
			       show((unsigned char)ch, sb, sizeof sb));
	case HB_JS_DONE:
		return fail_at(c, off, "text after the end of the JSON body: %s",
			       show((unsigned char)ch, sb, sizeof sb));
	default:
		return fail_at(c, off, "internal: JSON scanner state");
	}
close:
	if (c->stack[c->depth - 1] != (ch == '}' ? '{' : '['))
		return fail_at(c, off, "'%c' does not close the open '%c'", ch,
			       c->stack[c->depth - 1]);
	c->depth--;
	json_value_done(c);
	return HB_OK;
}

/* Where may a tag stand in the JSON skeleton at offset off? Sets *mode. */
hb_err hb_tjson_tag(hb_tjson *c, size_t off, bool *as_value)
{
	hb_err rc;
	if (c->js == HB_JS_NUM) {
		if ((rc = json_number_end(c, off)))
			return rc;
	}
	switch (c->js) {
	case HB_JS_STR:
		if (c->need_low)
			break;
		*as_value = false;
		return HB_OK;
	case HB_JS_VALUE:
	case HB_JS_VALUE_OR_CLOSE:
		if (c->depth == 0)
			return fail_at(c, off,
				       "a JSON body must be an object or an array; put the "
				       "tag inside '{…}' or '[…]'");
		*as_value = true;
		json_value_done(c);
		return HB_OK;
	case HB_JS_KEY:
	case HB_JS_KEY_OR_CLOSE:
		return fail_at(c, off,
			       "a tag cannot stand where an object key is expected; "
			       "write it inside quotes: \"{{ … }}\"");
	case HB_JS_COLON:
		return fail_at(c, off, "a tag cannot stand here: expected ':' after the key");
	case HB_JS_AFTER:
		return fail_at(c, off, "a tag cannot stand right after a value (missing ','?)");
	case HB_JS_DONE:
		return fail_at(c, off, "a tag cannot stand after the end of the JSON body");
	case HB_JS_WORD:
		return fail_at(c, off, "a tag cannot stand inside '%s'", c->word);
	default:
		break;
	}
	return fail_at(c, off, "a tag cannot stand inside a \\ escape of a JSON string");
}

hb_err hb_tjson_end(hb_tjson *c)
{
	hb_err rc;
	if (c->js == HB_JS_NUM && (rc = json_number_end(c, c->ts->end)))
		return rc;
	switch (c->js) {
	case HB_JS_DONE:
		return HB_OK;
	case HB_JS_VALUE:
		if (c->depth == 0)
			return fail_at(c, c->ts->end, "the JSON body is empty");
		break;
	case HB_JS_STR:
	case HB_JS_STR_ESC:
	case HB_JS_STR_U:
		return fail_at(c, c->tok_at, "unclosed string (no closing '\"')");
	case HB_JS_WORD:
		return fail_at(c, c->tok_at, "expected '%s'", c->word);
	default:
		break;
	}
	return fail_at(c, c->ts->end, "the JSON body ends before its closing '%c'",
		       c->stack[c->depth - 1] == '{' ? '}' : ']');
}
