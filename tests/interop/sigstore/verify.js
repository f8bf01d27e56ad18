// SPDX-License-Identifier: GPL-2.0-only
// An independent check of what `vouchctl attest --sigstore` writes: the
// Sigstore project's own verifier (@sigstore/verify), offline, with the
// public key as the only trusted material and no transparency log, SCT or
// timestamp required. Usage: node verify.js BUNDLE.json PUBLIC.pem
// Prints "verified KEY_HINT" and exits 0, or prints the error and exits 1.
'use strict';

const fs = require('fs');
const nodeCrypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

function main(bundlePath, keyPath) {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const der = nodeCrypto.createPublicKey(fs.readFileSync(keyPath, 'utf8'))
    .export({ format: 'der', type: 'spki' });
  const hint = bundle.verificationMaterial.content.publicKey.hint;
  // The trusted root is empty: no CA, no TSA, no Rekor, no CT log.
  const root = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [],
  };
  const keys = {};
  keys[hint] = { rawBytes: der, keyDetails: 5 /* PKIX_ECDSA_P256_SHA_256 */ };
  const verifier = new Verifier(toTrustMaterial(root, keys), {
    tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0,
  });
  verifier.verify(toSignedEntity(bundle));
  console.log(`verified ${hint}`);
}

try {
  main(process.argv[2], process.argv[3]);
} catch (e) {
  console.log(`refused: ${e.code || e.name}: ${e.message}`);
  process.exit(1);
}
