// SPDX-License-Identifier: GPL-2.0-only
// Writes each data entry of the ConfigMap in FILE to DIR/KEY, so that the
// test can check the configuration and rules it ships with vouch's tools.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const [file, dir] = process.argv.slice(2);
for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
	const obj = doc.toJS({ maxAliasCount: 0 });
	if (obj?.kind !== 'ConfigMap')
		continue;
	for (const [key, value] of Object.entries(obj.data ?? {})) {
		if (!/^[A-Za-z0-9._-]+$/.test(key) || key.startsWith('.'))
			throw new Error(`unexpected ConfigMap key '${key}'`);
		writeFileSync(`${dir}/${key}`, value);
		console.log(key);
	}
}
