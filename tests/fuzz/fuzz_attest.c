// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: any bytes as an allow-list bundle, verified against a
 * trust config with one key made at start, and as the statement inside
 * one (signatures would stop most inputs before the schema otherwise). It
 * must refuse or accept without crashing, leaking or running away.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/ec.h>

#include "attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct trust *fuzz_trust(void)
{
	struct trust *t = calloc(1, sizeof(*t));

	t->keys = calloc(1, sizeof(*t->keys));
	t->keys[0].key = EVP_EC_gen("P-256");
	t->keys[0].not_before = INT64_MIN;
	t->keys[0].not_after = INT64_MAX;
	dsse__key_id(t->keys[0].key, t->keys[0].id);
	t->n_keys = 1;
	t->threshold = 1;
	t->scope = strdup("fuzz");
	t->source = strdup("fuzz");
	t->min_serial = 1;
	t->max_validity = TRUST_MAX_VALIDITY_DEFAULT;
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trust *t;
	struct attest_state st = { .have = 1, .serial = 3 };
	struct diags d = { 0 };

	if (!t)
		t = fuzz_trust();
	allowlist__free(attest__verify_buffer(t, "fuzz.json",
					      (const char *)data, size, &st,
					      1800000000, &d));
	allowlist__free(attest__parse_statement("fuzz.json", data, size, &d));
	diags__free(&d);
	return 0;
}
