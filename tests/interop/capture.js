// SPDX-License-Identifier: GPL-2.0-only
// A recording endpoint for vouch's interoperability test: it receives
// vouchd's POST /v1/events, decodes each body with protobufjs (an
// implementation independent of the protobuf-c that encoded it) against
// include/vouch.proto, appends every event as one JSON line to OUT, and
// answers 200. Usage: node capture.js PROTO OUT; prints the port it
// listens on (127.0.0.1, chosen by the kernel).
'use strict';

const http = require('http');
const fs = require('fs');
const protobuf = require('protobufjs');

const [protoPath, outFile] = process.argv.slice(2);
const Batch = protobuf.loadSync(protoPath).lookupType('vouch.v1.EventBatch');
const LIMIT = 8 << 20;

function answer(res, status, text) {
	res.writeHead(status, { 'Content-Type': 'text/plain' });
	res.end(text + '\n');
}

function store(body) {
	const batch = Batch.decode(body);
	const lines = batch.events.map((ev) => JSON.stringify(
		Batch.lookupType('vouch.v1.Event').toObject(ev,
			{ longs: Number, defaults: false, arrays: true })));
	fs.appendFileSync(outFile, lines.map((l) => l + '\n').join(''));
	return batch.events.length;
}

const server = http.createServer((req, res) => {
	const chunks = [];
	let size = 0;

	if (req.method !== 'POST' || req.url !== '/v1/events')
		return answer(res, 404, 'not here');
	if (req.headers['content-type'] !== 'application/x-protobuf')
		return answer(res, 415, 'wrong content type');
	req.on('data', (c) => {
		size += c.length;
		if (size <= LIMIT)
			chunks.push(c);
	});
	req.on('end', () => {
		if (size > LIMIT)
			return answer(res, 413, 'too large');
		try {
			answer(res, 200, 'stored ' + store(Buffer.concat(chunks)));
		} catch (e) {
			answer(res, 400, 'undecodable: ' + e.message);
		}
	});
});

server.listen(0, '127.0.0.1', () => {
	console.log(server.address().port);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
