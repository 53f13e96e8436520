/*
 * apikey.h - API keys (SPEC §8): "hb_<prefix>_<secret>", where the prefix is public and
 * names the key, and the secret (128 bits of randomness) is shown once and stored only as
 * its SHA-256.
 */
#ifndef HB_MODEL_APIKEY_H
#define HB_MODEL_APIKEY_H

#include "model/model.h"

#define HB_APIKEY_MAX 64

/* Create a key from public input {name, description, role, projects: [keys], allow_ips: [CIDR]};
   writes the full key (shown once) into secret. *out owned by the caller. */
hb_err hb_apikey_create(hb_ctx *c, json_t *input, hb_row **out, char *secret, size_t n,
			hb_error *e) HB_MUST_USE;

#endif
