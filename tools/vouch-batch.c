// SPDX-License-Identifier: GPL-2.0-only
/*
 * vouch-batch: writes a vouch.v1.EventBatch protobuf to stdout, for tests
 * that talk to vouch-collector with curl. Events are numbered from
 * --seq-from; every other field is the same in each.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vouch.pb-c.h"

#define MAX_COUNT	100000

struct batch_args {
	unsigned long long seq_from;
	unsigned long count;
	Vouch__V1__Event ev;
	Vouch__V1__Process proc;
	Vouch__V1__Workload work;
	char *argv[2];
};

static const char usage[] =
"Usage: vouch-batch [options] > batch.pb\n"
"\n"
"Writes one vouch.v1.EventBatch (protobuf) to stdout.\n"
"\n"
"  --agent ID          agent_id (default agent-1)\n"
"  --node NAME         node (default node-1)\n"
"  --seq-from N        seq of the first event (default 1)\n"
"  --count K           events in the batch (default 1)\n"
"  --kind KIND         kind (default exec)\n"
"  --time RFC3339      time (default 2026-01-01T00:00:00.000000001Z)\n"
"  --verdict V         verdict (default deny)\n"
"  --action A          action (default killed)\n"
"  --rule R            rule\n"
"  --exe PATH          process exe, with argv [PATH, \"-x\"]\n"
"  --namespace NS      workload namespace\n"
"  --image-digest D    workload image digest\n"
"  --deploy-id X       workload deploy ID\n"
"  -h, --help          show this help\n";

static int parse_count(const char *s, unsigned long long max,
		       unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || !*s || *out > max ? -EINVAL : 0;
}

static int set_number(struct batch_args *a, int opt, const char *arg)
{
	unsigned long long n;

	if (parse_count(arg, opt == 'c' ? MAX_COUNT : ~0ULL, &n))
		return -EINVAL;
	if (opt == 'c')
		a->count = n;
	else
		a->seq_from = n;
	return 0;
}

static char **string_field(struct batch_args *a, int opt)
{
	switch (opt) {
	case 'a':
		return &a->ev.agent_id;
	case 'n':
		return &a->ev.node;
	case 'k':
		return &a->ev.kind;
	case 't':
		return &a->ev.time;
	case 'v':
		return &a->ev.verdict;
	case 'A':
		return &a->ev.action;
	case 'r':
		return &a->ev.rule;
	case 'e':
		return &a->proc.exe;
	case 'N':
		return &a->work.namespace_;
	case 'i':
		return &a->work.image_digest;
	case 'D':
		return &a->work.deploy_id;
	}
	return NULL;
}

static int set_field(struct batch_args *a, int opt, char *arg)
{
	char **field = string_field(a, opt);

	if (opt == 's' || opt == 'c')
		return set_number(a, opt, arg);
	if (!field)
		return -EINVAL;
	*field = arg;
	return 0;
}

static int parse_args(int argc, char **argv, struct batch_args *a)
{
	static const struct option opts[] = {
		{ "agent", required_argument, NULL, 'a' },
		{ "node", required_argument, NULL, 'n' },
		{ "seq-from", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "kind", required_argument, NULL, 'k' },
		{ "time", required_argument, NULL, 't' },
		{ "verdict", required_argument, NULL, 'v' },
		{ "action", required_argument, NULL, 'A' },
		{ "rule", required_argument, NULL, 'r' },
		{ "exe", required_argument, NULL, 'e' },
		{ "namespace", required_argument, NULL, 'N' },
		{ "image-digest", required_argument, NULL, 'i' },
		{ "deploy-id", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			exit(0);
		}
		if (set_field(a, opt, optarg)) {
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	return optind < argc ? -EINVAL : 0;
}

static void defaults(struct batch_args *a)
{
	static char dash_x[] = "-x";

	vouch__v1__event__init(&a->ev);
	vouch__v1__process__init(&a->proc);
	vouch__v1__workload__init(&a->work);
	a->seq_from = 1;
	a->count = 1;
	a->ev.agent_id = "agent-1";
	a->ev.node = "node-1";
	a->ev.kind = "exec";
	a->ev.time = "2026-01-01T00:00:00.000000001Z";
	a->ev.verdict = "deny";
	a->ev.action = "killed";
	a->ev.mode = "enforce";
	a->argv[1] = dash_x;
}

/* Events share every string; only seq differs. */
static int write_batch(struct batch_args *a)
{
	Vouch__V1__EventBatch batch = VOUCH__V1__EVENT_BATCH__INIT;
	Vouch__V1__Event *evs = calloc(a->count, sizeof(*evs));
	Vouch__V1__Event **ptrs = calloc(a->count, sizeof(*ptrs));
	size_t len;
	uint8_t *buf;
	int ret = -ENOMEM;

	/* protobuf-c's unset strings are "", not NULL */
	if (*a->proc.exe) {
		a->argv[0] = a->proc.exe;
		a->proc.argv = a->argv;
		a->proc.n_argv = 2;
		a->ev.process = &a->proc;
	}
	if (*a->work.namespace_ || *a->work.image_digest ||
	    *a->work.deploy_id)
		a->ev.workload = &a->work;
	for (size_t i = 0; evs && ptrs && i < a->count; i++) {
		evs[i] = a->ev;
		evs[i].seq = a->seq_from + i;
		ptrs[i] = &evs[i];
	}
	batch.n_events = a->count;
	batch.events = ptrs;
	len = evs && ptrs ? vouch__v1__event_batch__get_packed_size(&batch) : 0;
	buf = len ? malloc(len) : NULL;
	if (buf) {
		vouch__v1__event_batch__pack(&batch, buf);
		ret = fwrite(buf, 1, len, stdout) == len ? 0 : -EIO;
	}
	free(buf);
	free(ptrs);
	free(evs);
	return ret;
}

int main(int argc, char **argv)
{
	struct batch_args a;

	defaults(&a);
	if (parse_args(argc, argv, &a))
		return 2;
	if (isatty(STDOUT_FILENO)) {
		fputs("vouch-batch: refusing to write protobuf to a terminal\n",
		      stderr);
		return 2;
	}
	if (write_batch(&a) || fflush(stdout)) {
		fputs("vouch-batch: failed to write the batch\n", stderr);
		return 1;
	}
	return 0;
}
