// SPDX-License-Identifier: GPL-2.0-only
// A stand-in Kubernetes API server for vouch's tests: it answers the pod
// LIST and WATCH requests of agent/k8s.c from recorded responses
// (tests/fixtures/k8s/served/, built from tests/fixtures/k8s/recorded/),
// one scenario step per request, and checks what the client asks for: the
// bearer token, fieldSelector, limit, continue and resourceVersion.
//
// node replay.js --scenario FILE --token-file FILE --report FILE
//                [--cert FILE --key FILE] [--node NAME]
// Prints the port it listens on (127.0.0.1, chosen by the kernel), then
// serves until killed. Every request appends one JSON line to the report:
// the step, whether the request matched, and the file served with where
// it came from (the scenario's "sources"). Responses carry the same in an
// X-Replay-Source header, and a line on stderr.
//
// A step: { name, request: "list"|"watch", expect: {param: value|null},
//   status (default 200), body: FILE (a JSON answer) or events: FILE (a
//   watch stream, one event a line), end: "close"|"hold"|"cut",
//   rotate_token: "NEW" (written to the token file before a cut),
//   inflate (below) }.
// "cut" sends every line but the last, then half of it, then destroys the
// connection. inflate: { line (of a watch stream), path ("a.b.0.c"), key,
// bytes } adds an annotation-like member of that many bytes at serve time,
// so that hostile sizes need no huge fixture. A request that does not match its step is answered 400 and
// reported; the step waits for a request that does.
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');

function args() {
	const a = {};
	for (let i = 2; i < process.argv.length; i += 2)
		a[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
	for (const k of ['scenario', 'token-file', 'report'])
		if (!a[k])
			throw new Error(`missing --${k}`);
	return a;
}

const opt = args();
const scenario = JSON.parse(fs.readFileSync(opt.scenario, 'utf8'));
const served = path.join(path.dirname(opt.scenario), 'served');
const node = opt.node || scenario.node;
let token = fs.readFileSync(opt['token-file'], 'utf8').trim();
let step = 0;
const open = new Set();

function report(entry) {
	fs.appendFileSync(opt.report, JSON.stringify(entry) + '\n');
}

function source(file) {
	return file ? `${file}: ${scenario.sources[file] || 'no source given'}` : '';
}

function statusBody(code, message) {
	return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {},
		status: 'Failure', message, reason: 'BadRequest', code });
}

// What is wrong with req for step s; null when it matches.
function mismatch(req, url, s) {
	const q = url.searchParams;
	const isWatch = q.get('watch') === '1' || q.get('watch') === 'true';

	if (req.method !== 'GET' || url.pathname !== '/api/v1/pods')
		return `${req.method} ${url.pathname}, not GET /api/v1/pods`;
	if (req.headers.authorization !== `Bearer ${token}`)
		return `Authorization is '${req.headers.authorization || ''}', not the current token`;
	if (q.get('fieldSelector') !== `spec.nodeName=${node}`)
		return `fieldSelector is '${q.get('fieldSelector')}'`;
	if (!s)
		return 'no step is left in the scenario';
	if (isWatch !== (s.request === 'watch'))
		return `a ${isWatch ? 'watch' : 'list'} where the step wants a ${s.request}`;
	if (isWatch && q.get('allowWatchBookmarks') !== 'true')
		return 'a watch without allowWatchBookmarks=true';
	for (const [k, v] of Object.entries(s.expect || {}))
		if (q.get(k) !== v)
			return `${k} is '${q.get(k)}', the step expects '${v}'`;
	return null;
}

function finish(res, s) {
	if (s.end === 'hold') {
		open.add(res);
		res.on('close', () => open.delete(res));
		return;
	}
	res.end();
}

// The JSON text with s.inflate applied; text itself when there is none.
function inflate(text, inf) {
	if (!inf)
		return text;
	const doc = JSON.parse(text);
	let at = doc;
	for (const part of inf.path.split('.'))
		at = at[part];
	at[inf.key] = 'x'.repeat(inf.bytes);
	return JSON.stringify(doc);
}

function cut(res, lines) {
	const last = lines.pop();
	const head = lines.map((l) => l + '\n').join('') +
		last.slice(0, Math.floor(last.length / 2));

	res.write(head, () => res.socket.destroy());
}

function serveWatch(res, s) {
	const text = fs.readFileSync(path.join(served, s.events), 'utf8');
	const lines = text.split('\n').filter((l) => l.length);

	if (s.inflate)
		lines[s.inflate.line] = inflate(lines[s.inflate.line], s.inflate);

	res.writeHead(200, { 'Content-Type': 'application/json',
		'X-Replay-Source': source(s.events) });
	if (s.end === 'cut') {
		if (s.rotate_token) {
			token = s.rotate_token;
			fs.writeFileSync(opt['token-file'], token + '\n');
		}
		cut(res, lines);
		return;
	}
	res.write(lines.map((l) => l + '\n').join(''));
	finish(res, s);
}

function serveBody(res, s) {
	const body = inflate(fs.readFileSync(path.join(served, s.body), 'utf8'),
		s.inflate);

	res.writeHead(s.status || 200, { 'Content-Type': 'application/json',
		'X-Replay-Source': source(s.body) });
	res.end(body);
}

function handle(req, res) {
	const url = new URL(req.url, 'http://replay');
	const s = scenario.steps[step];
	const why = mismatch(req, url, s);
	const entry = { step, name: s ? s.name : null, request: req.url };

	if (why) {
		report({ ...entry, ok: false, why });
		process.stderr.write(`replay: refused ${req.url}: ${why}\n`);
		res.writeHead(400, { 'Content-Type': 'application/json' });
		res.end(statusBody(400, why));
		return;
	}
	step++;
	report({ ...entry, ok: true, served: source(s.events || s.body) });
	process.stderr.write(`replay: step ${entry.step} '${s.name}': ${source(s.events || s.body)}\n`);
	if (s.events)
		serveWatch(res, s);
	else
		serveBody(res, s);
}

const server = opt.cert ?
	https.createServer({ cert: fs.readFileSync(opt.cert), key: fs.readFileSync(opt.key) }, handle) :
	http.createServer(handle);

server.listen(0, '127.0.0.1', () => {
	process.stdout.write(`${server.address().port}\n`);
});
process.on('SIGTERM', () => {
	for (const res of open)
		res.destroy();
	server.close(() => process.exit(0));
});
