// SPDX-License-Identifier: GPL-2.0-only
// Validates every document of every Kubernetes manifest named on the
// command line against Kubernetes' own resource schemas, through the
// model classes of kubernetes-models (their validate() checks the OpenAPI
// schema: types, required fields, enums, and no unknown fields).
// Prints one line per document; exits 1 when any is invalid.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

// "apps/v1" -> "apps/v1"; the core group "v1" lives at "v1".
function modelPath(apiVersion, kind) {
	if (typeof apiVersion !== 'string' || typeof kind !== 'string' ||
	    !/^[a-z0-9.]+(\/[a-z0-9]+)?$/.test(apiVersion) || !/^[A-Za-z]+$/.test(kind))
		return null;
	return `kubernetes-models/${apiVersion}/${kind}`;
}

async function validateDoc(file, index, doc) {
	const where = `${file}#${index}`;
	if (doc.errors.length)
		return `${where}: YAML: ${doc.errors[0].message}`;
	const obj = doc.toJS({ maxAliasCount: 0 });
	if (obj === null)
		return null;	// an empty document between separators
	const path = modelPath(obj.apiVersion, obj.kind);
	if (!path)
		return `${where}: no valid apiVersion and kind`;
	let Model;
	try {
		Model = (await import(path))[obj.kind];
	} catch {
		return `${where}: ${obj.apiVersion} ${obj.kind} is not a Kubernetes resource`;
	}
	try {
		new Model(obj).validate();
	} catch (err) {
		const details = (err.errors || []).map((e) =>
			`${e.instancePath || '/'} ${e.message}`).join('; ');
		return `${where}: ${obj.kind} ${obj.metadata?.name}: ${details || err.message}`;
	}
	console.log(`ok   ${where} ${obj.apiVersion} ${obj.kind} ${obj.metadata?.name}`);
	return null;
}

let failed = 0, seen = 0;
for (const file of process.argv.slice(2)) {
	const docs = parseAllDocuments(readFileSync(file, 'utf8'), { uniqueKeys: true });
	for (const [i, doc] of docs.entries()) {
		seen++;
		const problem = await validateDoc(file, i, doc);
		if (problem) {
			failed++;
			console.log(`FAIL ${problem}`);
		}
	}
}
if (!seen) {
	console.log('FAIL no document given');
	failed++;
}
process.exit(failed ? 1 : 0);
