// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for agent/attest.c. Keys, statements and envelopes are made
 * at test time with OpenSSL; every refusal the attestation issue lists is
 * checked for its precise reason.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include "attest.h"
#include "utc.h"

#define D1	"1111111111111111111111111111111111111111111111111111111111111111"
#define D2	"2222222222222222222222222222222222222222222222222222222222222222"
#define IMAGE(d) "\"sha256:" d "\": {\"service\": \"api\", \"version\": \"1.2.3\"," \
	" \"deploy_id\": \"d-42\", \"environment\": \"prod\"," \
	" \"namespace\": \"payments\"," \
	" \"source\": {\"repo\": \"https://git.example/api\", \"commit\": \"abc\"}," \
	" \"builder\": \"ci\"," \
	" \"exec\": {\"allow\": [\"/usr/bin/\"," \
	" {\"path\": \"/app/server\", \"sha256\": \"" D1 "\"}]," \
	" \"deny\": [\"/bin/sh\"]}," \
	" \"egress\": {\"allow\": [{\"cidr\": \"10.0.0.0/8\"," \
	" \"ports\": [443, \"8000-8080\"], \"protocol\": \"tcp\"}," \
	" {\"cidr\": \"2001:db8::/32\"}], \"deny\": [{\"cidr\": \"10.9.0.0/16\"}]}}"
#define SUBJECT(d) "{\"name\": \"registry.example/api\", \"digest\": {\"sha256\": \"" d "\"}}"

enum how { PAE, RAW, P1363, LONGFORM };

struct signing {
	EVP_PKEY *key;
	enum how how;
};

static struct diags diags;
static char dir[64], trust_path[128], bundle[128];
static EVP_PKEY *k1, *k2, *k_untrusted, *k_revoked, *k_expired;
static struct trust *trust;
static struct attest_state state;
static int64_t now;

static void write_file(const char *p, const char *text, size_t len)
{
	FILE *f = fopen(p, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void write_pub(EVP_PKEY *k, const char *name)
{
	char p[160];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	PEM_write_PUBKEY(f, k);
	fclose(f);
}

static char *id_of(EVP_PKEY *k)
{
	static char ids[8][DSSE_KEY_ID_LEN + 1];
	static int next;
	char *id = ids[next++ % 8];

	cr_assert_eq(dsse__key_id(k, id), 0);
	return id;
}

static void load_trust(unsigned int threshold)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "version: 1\nscope: prod\nthreshold: %u\nmax_validity: 30d\n"
		 "min_serial: 2\nkeys:\n"
		 "  - {name: k1, file: k1.pub}\n"
		 "  - {name: k2, file: k2.pub}\n"
		 "  - {name: old, file: revoked.pub}\n"
		 "  - {name: expired, file: expired.pub, not_after: 2020-01-01T00:00:00Z}\n"
		 "revoked: [%s]\n", threshold, id_of(k_revoked));
	write_file(trust_path, text, strlen(text));
	trust__free(trust);
	trust = trust__load(trust_path, &diags);
	cr_assert_not_null(trust, "%s", diags.n ? diags.items[0].msg : "");
}

static void setup(void)
{
	memset(&diags, 0, sizeof(diags));
	memset(&state, 0, sizeof(state));
	strcpy(dir, "/tmp/vouch-test-attest-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(trust_path, sizeof(trust_path), "%s/trust.yaml", dir);
	snprintf(bundle, sizeof(bundle), "%s/bundle.json", dir);
	k1 = EVP_EC_gen("P-256");
	k2 = EVP_EC_gen("P-256");
	k_untrusted = EVP_EC_gen("P-256");
	k_revoked = EVP_EC_gen("P-256");
	k_expired = EVP_EC_gen("P-256");
	write_pub(k1, "k1.pub");
	write_pub(k2, "k2.pub");
	write_pub(k_revoked, "revoked.pub");
	write_pub(k_expired, "expired.pub");
	cr_assert_eq(utc__parse("2026-12-01T00:00:00Z", 20, &now), 0);
	load_trust(1);
}

static void teardown(void)
{
	char cmd[128];

	trust__free(trust);
	trust = NULL;
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k_untrusted);
	EVP_PKEY_free(k_revoked);
	EVP_PKEY_free(k_expired);
	diags__free(&diags);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(attest, .init = setup, .fini = teardown, .timeout = 30);

/* A statement; NULL arguments take the defaults of a valid one. */
static char *statement_with(long serial, const char *issued,
			    const char *expires, const char *scope,
			    const char *images, const char *subjects)
{
	char *s = NULL;

	cr_assert(asprintf(&s,
		  "{\"_type\": \"https://in-toto.io/Statement/v1\","
		  " \"subject\": [%s],"
		  " \"predicateType\": \"https://vouch.dev/allowlist/v1\","
		  " \"predicate\": {\"serial\": %ld, \"issued\": \"%s\","
		  " \"expires\": \"%s\", \"scope\": \"%s\", \"images\": {%s}}}",
		  subjects ? subjects : SUBJECT(D1), serial,
		  issued ? issued : "2026-11-30T23:00:00Z",
		  expires ? expires : "2026-12-07T00:00:00Z",
		  scope ? scope : "prod", images ? images : IMAGE(D1)) > 0);
	return s;
}

static char *statement(long serial)
{
	return statement_with(serial, NULL, NULL, NULL, NULL, NULL);
}

/* DER to raw r||s, or to BER with a long-form SEQUENCE length. */
static size_t reshape(unsigned char *sig, size_t len, enum how how)
{
	const unsigned char *p = sig;
	ECDSA_SIG *es;
	const BIGNUM *r, *s;

	if (how == LONGFORM) {
		memmove(sig + 3, sig + 2, len - 2);
		sig[2] = sig[1];
		sig[1] = 0x81;
		return len + 1;
	}
	es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	cr_assert_not_null(es);
	ECDSA_SIG_get0(es, &r, &s);
	BN_bn2binpad(r, sig, 32);
	BN_bn2binpad(s, sig + 32, 32);
	ECDSA_SIG_free(es);
	return 64;
}

static json_t *sign_one(const char *type, const char *payload,
			const struct signing *s)
{
	unsigned char *pae, *sig, buf[128];
	size_t pae_len, len;
	char *b64;
	json_t *j;

	pae = dsse__pae(type, strlen(type), (const unsigned char *)payload,
			strlen(payload), &pae_len);
	if (s->how == RAW)
		sig = dsse__sign(s->key, (const unsigned char *)payload,
				 strlen(payload), &len);
	else
		sig = dsse__sign(s->key, pae, pae_len, &len);
	cr_assert_not_null(sig);
	memcpy(buf, sig, len);
	if (s->how == P1363 || s->how == LONGFORM)
		len = reshape(buf, len, s->how);
	b64 = dsse__b64_encode(buf, len);
	j = json_pack("{s:s, s:s}", "keyid", id_of(s->key), "sig", b64);
	free(b64);
	free(sig);
	free(pae);
	return j;
}

static char *envelope_of(const char *payload, const char *type,
			 const struct signing *s, size_t n)
{
	json_t *sigs = json_array(), *env;
	char *b64, *text;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(sigs, sign_one(type, payload, &s[i]));
	b64 = dsse__b64_encode((const unsigned char *)payload, strlen(payload));
	env = json_pack("{s:s, s:s, s:o}", "payloadType", type, "payload", b64,
			"signatures", sigs);
	text = json_dumps(env, JSON_COMPACT);
	json_decref(env);
	free(b64);
	return text;
}

/* A valid statement with serial, signed by k1 over the PAE. */
static char *signed_by(EVP_PKEY *k, enum how how, char *payload)
{
	struct signing s = { k, how };
	char *text = envelope_of(payload, ATTEST_PAYLOAD_TYPE, &s, 1);

	free(payload);
	return text;
}

static struct allowlist *verify(const char *text)
{
	write_file(bundle, text, strlen(text));
	chmod(bundle, 0644);
	return attest__verify_file(trust, bundle, &state, now, &diags);
}

static void assert_diag(enum diag_severity sev, const char *want)
{
	for (size_t i = 0; i < diags.n; i++)
		if (diags.items[i].severity == sev &&
		    strstr(diags.items[i].msg, want))
			return;
	for (size_t i = 0; i < diags.n; i++)
		fprintf(stderr, "  diag: %s\n", diags.items[i].msg);
	cr_assert_fail("no diagnostic containing '%s'", want);
}

static void assert_refused(char *text, const char *want)
{
	struct allowlist *al = verify(text);

	free(text);
	cr_assert_null(al, "accepted; expected '%s'", want);
	assert_diag(DIAG_ERROR, want);
}

static struct allowlist *assert_accepted(char *text)
{
	struct allowlist *al = verify(text);

	free(text);
	if (!al)
		for (size_t i = 0; i < diags.n; i++)
			fprintf(stderr, "  diag: %s\n", diags.items[i].msg);
	cr_assert_not_null(al);
	return al;
}

Test(attest, a_valid_envelope_gives_the_whole_allowlist)
{
	struct allowlist *al = assert_accepted(signed_by(k1, PAE, statement(5)));
	const struct allowlist_image *img;

	cr_assert(al->attested);
	cr_assert_eq(al->serial, 5);
	cr_assert_str_eq(al->scope, "prod");
	cr_assert_eq(al->n_key_ids, 1);
	cr_assert_str_eq(al->key_ids[0], id_of(k1));
	cr_assert_eq(strlen(al->payload_sha256), 64);
	cr_assert_eq(al->expires - al->issued, 6 * 86400 + 3600);
	img = allowlist__find(al, "sha256:" D1);
	cr_assert_not_null(img);
	cr_assert_str_eq(img->service, "api");
	cr_assert_str_eq(img->version, "1.2.3");
	cr_assert_str_eq(img->deploy_id, "d-42");
	cr_assert_str_eq(img->environment, "prod");
	cr_assert_str_eq(img->namespace_, "payments");
	cr_assert_str_eq(img->source_repo, "https://git.example/api");
	cr_assert_str_eq(img->source_commit, "abc");
	cr_assert_str_eq(img->builder, "ci");
	cr_assert_eq(img->n_exec_allow, 2);
	cr_assert_str_eq(img->exec_allow[0].path, "/usr/bin/");
	cr_assert_not(img->exec_allow[0].has_sha256);
	cr_assert(img->exec_allow[1].has_sha256);
	cr_assert_eq(img->exec_allow[1].sha256[31], 0x11);
	cr_assert_eq(img->n_exec_deny, 1);
	/* two port items: two entries; then the IPv6 rule with any port */
	cr_assert_eq(img->n_egress_allow, 3);
	cr_assert_eq(img->egress_allow[0].prefix_len, 104);
	cr_assert_eq(img->egress_allow[0].addr[10], 0xff);
	cr_assert_eq(img->egress_allow[0].addr[12], 10);
	cr_assert_eq(img->egress_allow[0].protocol, ALLOWLIST_PROTO_TCP);
	cr_assert_eq(img->egress_allow[0].port_lo, 443);
	cr_assert_eq(img->egress_allow[1].port_lo, 8000);
	cr_assert_eq(img->egress_allow[1].port_hi, 8080);
	cr_assert_eq(img->egress_allow[2].prefix_len, 32);
	cr_assert_eq(img->egress_allow[2].port_hi, 65535);
	cr_assert_eq(img->egress_allow[2].protocol, ALLOWLIST_PROTO_ANY);
	cr_assert_eq(img->n_egress_deny, 1);
	allowlist__free(al);
}

Test(attest, a_sigstore_bundle_is_accepted)
{
	char *env = signed_by(k1, PAE, statement(5)), *text = NULL;

	cr_assert(asprintf(&text,
		  "{\"mediaType\": \"application/vnd.dev.sigstore.bundle.v0.3+json\","
		  " \"verificationMaterial\": {\"publicKey\": {\"hint\": \"%s\"},"
		  " \"tlogEntries\": []}, \"dsseEnvelope\": %s}", id_of(k1), env) > 0);
	free(env);
	allowlist__free(assert_accepted(text));
}

Test(attest, a_sigstore_bundle_with_a_certificate_is_refused)
{
	char *env = signed_by(k1, PAE, statement(5)), *text = NULL;

	cr_assert(asprintf(&text,
		  "{\"mediaType\": \"application/vnd.dev.sigstore.bundle.v0.3+json\","
		  " \"verificationMaterial\": {\"certificate\": {\"rawBytes\": \"AAAA\"},"
		  " \"tlogEntries\": []}, \"dsseEnvelope\": %s}", env) > 0);
	free(env);
	assert_refused(text, "vouch verifies offline, with trust-config keys only");
}

Test(attest, an_untrusted_key_is_refused)
{
	assert_refused(signed_by(k_untrusted, PAE, statement(5)),
		       "key not in the trust config");
	assert_diag(DIAG_ERROR,
		    "0 valid signature(s) by distinct trusted keys; the trust config requires 1");
}

Test(attest, a_revoked_key_is_refused)
{
	char want[128];

	snprintf(want, sizeof(want), "signature 0 by key %.16s: key revoked",
		 id_of(k_revoked));
	assert_refused(signed_by(k_revoked, PAE, statement(5)), want);
}

Test(attest, an_expired_key_is_refused)
{
	assert_refused(signed_by(k_expired, PAE, statement(5)),
		       "key expired at 2020-01-01T00:00:00Z");
}

Test(attest, a_signature_over_the_payload_instead_of_the_pae_is_refused)
{
	assert_refused(signed_by(k1, RAW, statement(5)),
		       "signed over the raw payload, not the DSSE PAE");
}

Test(attest, a_wrong_payload_type_is_refused)
{
	struct signing s = { k1, PAE };
	char *payload = statement(5);

	assert_refused(envelope_of(payload, "application/json", &s, 1),
		       "payloadType: 'application/json' is not application/vnd.in-toto+json");
	free(payload);
}

Test(attest, a_tampered_payload_is_refused)
{
	char *a = statement(5), *b = statement(6), *text;
	struct signing s = { k1, PAE };
	json_t *env, *other;
	char *b64;

	text = envelope_of(a, ATTEST_PAYLOAD_TYPE, &s, 1);
	env = json_loads(text, 0, NULL);
	b64 = dsse__b64_encode((const unsigned char *)b, strlen(b));
	other = json_string(b64);
	json_object_set_new(env, "payload", other);
	free(text);
	text = json_dumps(env, JSON_COMPACT);
	assert_refused(text, "does not verify (payload or payloadType changed after signing)");
	json_decref(env);
	free(b64);
	free(a);
	free(b);
}

Test(attest, p1363_signatures_are_refused)
{
	assert_refused(signed_by(k1, P1363, statement(5)),
		       "64 bytes, not DER: an IEEE P1363 r||s signature? only DER is accepted");
}

Test(attest, non_minimal_der_signatures_are_refused)
{
	char want[128];

	snprintf(want, sizeof(want), "signature 0 by key %.16s: not minimal DER",
		 id_of(k1));
	assert_refused(signed_by(k1, LONGFORM, statement(5)), want);
}

Test(attest, duplicate_keys_are_refused_in_the_envelope)
{
	char *text = signed_by(k1, PAE, statement(5)), *dup = NULL;

	/* the same field again, before the real one */
	cr_assert(asprintf(&dup, "{\"payloadType\": \"x\", %s", text + 1) > 0);
	free(text);
	assert_refused(dup, "duplicate object key");
}

Test(attest, duplicate_keys_are_refused_in_the_signed_payload)
{
	char *s = statement(5), *dup = NULL;
	char *pos = strstr(s, "\"service\"");

	/* a second "service" in the image entry, under a valid signature */
	cr_assert(asprintf(&dup, "%.*s\"service\": \"evil\", %s",
			   (int)(pos - s), s, pos) > 0);
	free(s);
	assert_refused(signed_by(k1, PAE, dup), "duplicate object key");
}

Test(attest, duplicate_keys_are_refused_in_a_sigstore_bundle)
{
	char *env = signed_by(k1, PAE, statement(5)), *text = NULL;

	cr_assert(asprintf(&text,
		  "{\"mediaType\": \"application/vnd.dev.sigstore.bundle.v0.3+json\","
		  " \"verificationMaterial\": {\"publicKey\": {\"hint\": \"a\", \"hint\": \"b\"},"
		  " \"tlogEntries\": []}, \"dsseEnvelope\": %s}", env) > 0);
	free(env);
	assert_refused(text, "duplicate object key");
}

static char *with_field(char *text, const char *key, const char *value)
{
	json_t *env = json_loads(text, 0, NULL), *sig;
	char *out;

	free(text);
	sig = json_array_get(json_object_get(env, "signatures"), 0);
	if (!strcmp(key, "sig"))
		json_object_set_new(sig, key, json_string(value));
	else
		json_object_set_new(env, key, json_string(value));
	out = json_dumps(env, JSON_COMPACT);
	json_decref(env);
	return out;
}

Test(attest, invalid_base64_is_refused)
{
	assert_refused(with_field(signed_by(k1, PAE, statement(5)), "payload",
				  "eyJf*"), "payload: invalid base64");
	assert_refused(with_field(signed_by(k1, PAE, statement(5)), "sig",
				  "MEUCIQ"),
		       "signatures[0].sig: invalid base64: length is not a multiple of 4");
	assert_refused(with_field(signed_by(k1, PAE, statement(5)), "sig",
				  "MEUCIR=="), "non-zero bits");
}

Test(attest, an_expired_bundle_is_refused)
{
	assert_refused(signed_by(k1, PAE, statement_with(5, "2026-11-01T00:00:00Z",
							 "2026-11-30T00:00:00Z",
							 NULL, NULL, NULL)),
		       "the allow-list expired at 2026-11-30T00:00:00Z");
}

Test(attest, validity_longer_than_the_trust_config_allows_is_refused)
{
	assert_refused(signed_by(k1, PAE, statement_with(5, NULL,
							 "2027-06-01T00:00:00Z",
							 NULL, NULL, NULL)),
		       "longer than the trust config's max_validity of 2592000 s");
}

Test(attest, a_bundle_issued_in_the_future_is_refused)
{
	assert_refused(signed_by(k1, PAE, statement_with(5, "2026-12-01T00:10:00Z",
							 NULL, NULL, NULL, NULL)),
		       "more than 300 s ahead of this node's clock");
}

Test(attest, a_serial_below_the_trust_minimum_is_refused)
{
	assert_refused(signed_by(k1, PAE, statement(1)),
		       "serial 1 is below the trust config's min_serial 2");
}

Test(attest, a_lower_serial_is_refused)
{
	state.have = 1;
	state.serial = 5;
	strcpy(state.payload_sha256, D2);
	assert_refused(signed_by(k1, PAE, statement(4)),
		       "serial 4 is not above the last accepted 5");
}

Test(attest, the_same_serial_with_other_content_is_tampering)
{
	struct allowlist *al = assert_accepted(signed_by(k1, PAE, statement(5)));

	state.have = 1;
	state.serial = 5;
	memcpy(state.payload_sha256, al->payload_sha256, 65);
	allowlist__free(al);
	/* the same content again: a reload, accepted */
	allowlist__free(assert_accepted(signed_by(k1, PAE, statement(5))));
	assert_refused(signed_by(k1, PAE, statement_with(5, NULL, NULL, NULL,
							 IMAGE(D2), SUBJECT(D2))),
		       "serial 5 was already accepted with other content");
	assert_diag(DIAG_ERROR, "refused as tampering");
}

Test(attest, a_wrong_scope_is_refused)
{
	assert_refused(signed_by(k1, PAE, statement_with(5, NULL, NULL, "staging",
							 NULL, NULL)),
		       "scope 'staging' is not this node's scope 'prod'");
}

Test(attest, an_entry_for_a_digest_that_is_not_a_subject_is_refused)
{
	assert_refused(signed_by(k1, PAE, statement_with(5, NULL, NULL, NULL,
							 IMAGE(D1) ", " IMAGE(D2),
							 NULL)),
		       "sha256:" D2 " has an entry but is not a subject of the statement");
}

Test(attest, a_subject_without_an_entry_is_refused)
{
	assert_refused(signed_by(k1, PAE, statement_with(5, NULL, NULL, NULL, NULL,
							 SUBJECT(D1) ", " SUBJECT(D2))),
		       "sha256:" D2 " is a subject but has no entry in predicate.images");
}

Test(attest, an_unknown_predicate_field_names_its_path)
{
	char *s = statement(5), *bad = NULL;
	char *pos = strstr(s, "\"exec\": {");

	cr_assert(asprintf(&bad, "%.*s\"exec\": {\"allow_all\": true, %s",
			   (int)(pos - s), s, pos + 9) > 0);
	free(s);
	assert_refused(signed_by(k1, PAE, bad),
		       "predicate.images[\"sha256:" D1 "\"].exec: unknown field 'allow_all'");
}

Test(attest, schema_errors_are_all_reported)
{
	const char *img = "\"sha256:" D1 "\": {\"service\": 7, \"version\": \"1\","
		" \"environment\": \"prod\","
		" \"exec\": {\"allow\": [\"relative\", \"/a/../b\","
		" {\"path\": \"/x/\", \"sha256\": \"" D1 "\"}]},"
		" \"egress\": {\"allow\": [{\"cidr\": \"10.0.0.1/8\"},"
		" {\"cidr\": \"10.0.0.0/8\", \"ports\": [0]},"
		" {\"cidr\": \"::/0\", \"protocol\": \"icmp\"}]}}";

	assert_refused(signed_by(k1, PAE, statement_with(5, NULL, NULL, NULL,
							 img, NULL)),
		       ".service: expected a string, got an integer");
	assert_diag(DIAG_ERROR, ".deploy_id: missing required field");
	assert_diag(DIAG_ERROR, "exec.allow[0]: 'relative': not an absolute path");
	assert_diag(DIAG_ERROR, "exec.allow[1]: '/a/../b': has a '.' or '..' component");
	assert_diag(DIAG_ERROR,
		    "exec.allow[2]: sha256 must be 64 lower-case hex digits, on a file path");
	assert_diag(DIAG_ERROR, "egress.allow[0].cidr: '10.0.0.1/8': "
		    "address bits are set past the prefix length");
	assert_diag(DIAG_ERROR, "egress.allow[1].ports[0]: expected a port");
	assert_diag(DIAG_ERROR, "egress.allow[2].protocol: expected tcp, udp or any, got 'icmp'");
}

Test(attest, oversized_input_is_refused)
{
	size_t len = ATTEST_MAX_FILE_BYTES + 10;
	char *big = malloc(len + 1);

	memset(big, ' ', len);
	big[len] = '\0';
	assert_refused(big, "; the limit is 4194304");
}

Test(attest, a_symlinked_bundle_is_refused)
{
	char link[160], *text = signed_by(k1, PAE, statement(5));

	write_file(bundle, text, strlen(text));
	free(text);
	snprintf(link, sizeof(link), "%s/link.json", dir);
	cr_assert_eq(symlink(bundle, link), 0);
	cr_assert_null(attest__verify_file(trust, link, &state, now, &diags));
	assert_diag(DIAG_ERROR, "is a symbolic link");
}

Test(attest, a_world_writable_bundle_is_refused)
{
	char *text = signed_by(k1, PAE, statement(5));

	write_file(bundle, text, strlen(text));
	free(text);
	chmod(bundle, 0666);
	cr_assert_null(attest__verify_file(trust, bundle, &state, now, &diags));
	assert_diag(DIAG_ERROR, "is writable by everyone");
}

Test(attest, rotation_two_keys_meet_a_threshold_of_two)
{
	struct signing both[] = { { k1, PAE }, { k2, PAE } };
	struct signing twice[] = { { k1, PAE }, { k1, PAE } };
	char *payload = statement(5);
	struct allowlist *al;

	load_trust(2);
	al = assert_accepted(envelope_of(payload, ATTEST_PAYLOAD_TYPE, both, 2));
	cr_assert_eq(al->n_key_ids, 2);
	cr_assert_str_eq(al->key_ids[1], id_of(k2));
	allowlist__free(al);
	assert_refused(envelope_of(payload, ATTEST_PAYLOAD_TYPE, twice, 2),
		       "the same key again; it counts once");
	assert_diag(DIAG_ERROR,
		    "1 valid signature(s) by distinct trusted keys; the trust config requires 2");
	free(payload);
}

Test(attest, a_bad_signature_beside_enough_good_ones_is_a_warning)
{
	struct signing s[] = { { k_untrusted, PAE }, { k1, PAE } };
	char *payload = statement(5);

	allowlist__free(assert_accepted(envelope_of(payload, ATTEST_PAYLOAD_TYPE,
						    s, 2)));
	assert_diag(DIAG_WARNING, "signature 0 by key");
	free(payload);
}

Test(attest, state_round_trips_and_a_damaged_state_is_an_error)
{
	struct allowlist *al = assert_accepted(signed_by(k1, PAE, statement(7)));
	struct attest_state st;
	char p[160];

	cr_assert_eq(attest__load_state(dir, "prod", &st, &diags), 0);
	cr_assert_not(st.have);
	cr_assert_eq(attest__commit_state(dir, al), 0);
	cr_assert_eq(attest__load_state(dir, "prod", &st, &diags), 0);
	cr_assert(st.have);
	cr_assert_eq(st.serial, 7);
	cr_assert_str_eq(st.payload_sha256, al->payload_sha256);
	snprintf(p, sizeof(p), "%s/allowlist-prod.state", dir);
	write_file(p, "{\"scope\": \"prod\", \"serial\": 7}", 30);
	cr_assert_neq(attest__load_state(dir, "prod", &st, &diags), 0);
	assert_diag(DIAG_ERROR, "payload_sha256: missing required field");
	cr_assert_not(st.have);
	allowlist__free(al);
}

Test(attest, cidr_forms)
{
	uint8_t a[16], n;

	cr_assert_null(attest__parse_cidr("192.0.2.1", a, &n));
	cr_assert_eq(n, 128);
	cr_assert_eq(a[15], 1);
	cr_assert_null(attest__parse_cidr("0.0.0.0/0", a, &n));
	cr_assert_eq(n, 96);
	cr_assert_null(attest__parse_cidr("::/0", a, &n));
	cr_assert_eq(n, 0);
	cr_assert_null(attest__parse_cidr("2001:db8::1", a, &n));
	cr_assert_eq(n, 128);
	cr_assert_not_null(attest__parse_cidr("10.0.0.0/33", a, &n));
	cr_assert_not_null(attest__parse_cidr("10.0.0.0/", a, &n));
	cr_assert_not_null(attest__parse_cidr("10.0.0.0/+8", a, &n));
	cr_assert_not_null(attest__parse_cidr("example.com", a, &n));
	cr_assert_not_null(attest__parse_cidr("2001:db8::1/64", a, &n));
}

Test(attest, not_json_and_not_an_envelope)
{
	assert_refused(strdup("{\"payload\": \"\", "), "the bundle is not valid JSON");
	assert_refused(strdup("[1]"),
		       "expected a DSSE envelope or a Sigstore bundle, got an array");
	assert_refused(strdup("{\"a\": 1}"), "neither a DSSE envelope");
}

Test(attest, port_ranges_are_digits_dash_digits)
{
	const char *img = "\"sha256:" D1 "\": {\"service\": \"a\", \"version\": \"1\","
		" \"deploy_id\": \"d\", \"environment\": \"e\","
		" \"exec\": {\"allow\": [\"/bin/\"]},"
		" \"egress\": {\"allow\": [{\"cidr\": \"10.0.0.0/8\","
		" \"ports\": [\" 80-90\", \"+80-90\", \"90-80\", \"80-\", \"1-65536\", 65536]}]}}";
	int n = 0;

	assert_refused(signed_by(k1, PAE, statement_with(5, NULL, NULL, NULL,
							 img, NULL)),
		       "ports[0]: expected a port");
	for (size_t i = 0; i < diags.n; i++)
		n += strstr(diags.items[i].msg, "expected a port") != NULL;
	cr_assert_eq(n, 6);
}
