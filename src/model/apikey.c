/* apikey.c - creating API keys: random secrets, stored hashed; projects and CIDRs checked. */
#include "model/apikey.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "core/cidr.h"

static void to_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Projects by key → JSON array of ids; CIDRs checked. */
static hb_err normalize(hb_ctx *c, json_t *in, hb_error *e)
{
	json_t *projects = json_object_get(in, "projects");
	if (projects && !json_is_array(projects))
		return hb_fail(e, HB_ERR_INVALID, "projects", "projects must be a list of project keys");
	if (projects) {
		json_t *ids = json_array();
		size_t i;
		json_t *p;
		json_array_foreach(projects, i, p) {
			hb_row *row = NULL;
			if (!json_is_string(p)) {
				json_decref(ids);
				return hb_fail(e, HB_ERR_INVALID, "projects", "projects must be project keys");
			}
			hb_err rc = hb_record_find(c, HB_K_PROJECT, c->community_id, json_string_value(p),
						   &row, e);
			if (rc) {
				json_decref(ids);
				return rc;
			}
			json_array_append_new(ids, json_integer(hb_row_id(row)));
			hb_row_free(&row);
		}
		json_object_set_new(in, "projects", ids);
	}
	json_t *ips = json_object_get(in, "allow_ips");
	if (ips && !json_is_array(ips))
		return hb_fail(e, HB_ERR_INVALID, "allow_ips", "allow_ips must be a list of CIDR ranges");
	size_t i;
	json_t *ip;
	json_array_foreach(ips, i, ip) {
		hb_cidr cidr;
		if (!json_is_string(ip))
			return hb_fail(e, HB_ERR_INVALID, "allow_ips", "allow_ips must be CIDR strings");
		hb_err rc = hb_cidr_parse(json_string_value(ip), &cidr, e);
		if (rc) {
			snprintf(e->field, sizeof e->field, "allow_ips");
			return rc;
		}
	}
	return HB_OK;
}

hb_err hb_apikey_create(hb_ctx *c, json_t *input, hb_row **out, char *secret, size_t n,
			hb_error *e)
{
	unsigned char raw[4 + 16], digest[32];
	char prefix[9], sec[33], hash[65];
	if (RAND_bytes(raw, sizeof raw) != 1)
		return hb_fail(e, HB_ERR_INTERNAL, "", "no randomness available for a new key");
	to_hex(raw, 4, prefix);
	to_hex(raw + 4, 16, sec);
	json_t *in = json_deep_copy(input);
	hb_err rc = normalize(c, in, e);
	if (rc)
		goto out;
	snprintf(secret, n, "hb_%s_%s", prefix, sec);
	unsigned int dlen = 0;
	EVP_Digest(secret, strlen(secret), digest, &dlen, EVP_sha256(), NULL);
	to_hex(digest, 32, hash);
	/* prefix and hash are system columns: preset on the row, never taken from input */
	hb_row *row = hb_row_new(hb_kind_get(HB_K_APIKEY));
	hb_row_set_str(row, "prefix", prefix);
	hb_row_set_str(row, "secret_hash", hash);
	hb_row_set_int(row, "use_count", 0);
	rc = hb_record_create_into(c, row, in, e);
	if (rc)
		hb_row_free(&row);
	*out = row;
out:
	json_decref(in);
	return rc;
}
