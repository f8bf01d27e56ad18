// SPDX-License-Identifier: GPL-2.0-only
// Builds the files tests/k8s/replay.js serves (tests/fixtures/k8s/served/)
// from the recorded API objects in tests/fixtures/k8s/recorded/. Every edit
// made to a recording is here, and listed in tests/fixtures/k8s/README.md.
// Run it after changing a recording: node tests/k8s/make-fixtures.js
'use strict';

const fs = require('fs');
const path = require('path');

const DIR = path.join(__dirname, '..', 'fixtures', 'k8s');
const NODE = 'k8s-e2e-node';

function recorded(name) {
	return JSON.parse(fs.readFileSync(path.join(DIR, 'recorded', name)));
}

// The test's node instead of the node each pod was recorded on.
function onNode(pod) {
	const copy = JSON.parse(JSON.stringify(pod));
	copy.spec.nodeName = NODE;
	return copy;
}

function podList(rv, cont, items) {
	const meta = { resourceVersion: rv };
	if (cont)
		meta.continue = cont;
	return { kind: 'PodList', apiVersion: 'v1', metadata: meta, items };
}

function event(type, object) {
	return JSON.stringify({ type, object });
}

const nginx = recorded('enterpriseih-tools-pods.json').items.map(onNode);
const fluent = onNode(recorded('fluent-bit-options_use-kubelet-enabled.meta.json').items[0]);
const ready = onNode(recorded('pulumi-pod-ready.json'));
const failing = recorded('pulumi-workflow-pod-imagePullError.json').map(onNode);
const bookmark = JSON.parse(fs.readFileSync(path.join(DIR, 'recorded', 'kube-rs-watch-bookmark.json')));
const gone = fs.readFileSync(path.join(DIR, 'recorded', 'shipcat-watch-error-410.json'), 'utf8').trim();

// P1 stays a dockershim pod. P2 becomes a containerd pod, P3 a CRI-O pod,
// with the ID and image forms those runtimes report.
const [p1, p2] = nginx;
const c2 = p2.status.containerStatuses[0];
c2.containerID = c2.containerID.replace('docker://', 'containerd://');
c2.image = 'docker.io/library/nginx:1.14.2';
c2.imageID = c2.imageID.replace('docker-pullable://nginx@', 'docker.io/library/nginx@');
const p3 = fluent;
const c3 = p3.status.containerStatuses[0];
c3.containerID = c3.containerID.replace('docker://', 'cri-o://');
c3.image = 'docker.io/fluent/fluent-bit:latest';
c3.imageID = c3.imageID.replace('docker-pullable://fluent/', 'docker.io/fluent/');
// vouch's own metadata, which no recorded pod could carry.
p3.metadata.labels['app.kubernetes.io/version'] = '1.0.6';
p3.metadata.annotations['vouch.dev/deploy-id'] = 'deploy-fluent-bit-2019-04-03';

// The deletion of P5 carries a resourceVersion after the list's.
const p5gone = JSON.parse(JSON.stringify(ready));
p5gone.metadata.resourceVersion = '411513';
const p1gone = JSON.parse(JSON.stringify(p1));
p1gone.metadata.resourceVersion = '411570';
bookmark.object.metadata.resourceVersion = '411550';

// The HTTP 410 answers: the Status of the recorded ERROR event, with the
// message the API server gives in each case (from Kubernetes' source,
// staging/src/k8s.io/apiserver/pkg/storage/etcd3/errors.go) and the
// reason newer servers give.
function status410(message) {
	const st = JSON.parse(gone).object;
	st.message = message;
	st.reason = 'Expired';
	return st;
}

const out = {
	'list-1.json': podList('411510', 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDExNTEwLCJzdGFydCI6Im5naW54In0', [p1, p2]),
	'list-2.json': podList('411510', null, [p3, ready]),
	'relist-1.json': podList('411560', 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDExNTYwLCJzdGFydCI6Im5naW54In0', [p1, p2]),
	'relist-2.json': podList('411560', null, [p3, failing[4]]),
	'watch-1.jsonl': [event('DELETED', p5gone), event('ADDED', failing[1]),
		event('MODIFIED', failing[2]), event('MODIFIED', failing[3])].join('\n') + '\n',
	'watch-2.jsonl': [event('MODIFIED', failing[3]), event('MODIFIED', failing[4]),
		JSON.stringify(bookmark), gone].join('\n') + '\n',
	'watch-3.jsonl': [event('DELETED', p1gone)].join('\n') + '\n',
	'watch-410.json': status410('too old resource version: 411550 (411560)'),
	'continue-410.json': status410('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'),
};

fs.mkdirSync(path.join(DIR, 'served'), { recursive: true });
for (const [name, body] of Object.entries(out)) {
	const text = typeof body === 'string' ? body : JSON.stringify(body) + '\n';
	fs.writeFileSync(path.join(DIR, 'served', name), text);
}
