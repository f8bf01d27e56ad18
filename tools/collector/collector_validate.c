// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checks on an EventBatch from the network. protobuf-c decodes; this
 * module decides what a well-formed batch may still not carry. Messages
 * name the event by its index in the batch, so an agent's operator can
 * find it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "collector_time.h"
#include "collector_validate.h"

/* The store keeps seq in a signed 64-bit column. */
#define MAX_SEQ		((uint64_t)INT64_MAX)

static int reject(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int reject(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* An unset proto3 string is "" in protobuf-c, never NULL; be safe anyway */
static int empty(const char *s)
{
	return !s || !*s;
}

static int too_long(const char *s)
{
	return s && strnlen(s, COLLECTOR_MAX_STRING + 1) > COLLECTOR_MAX_STRING;
}

struct field {
	const char *name;
	const char *value;
};

#define N_FIELDS(a)	(sizeof(a) / sizeof((a)[0]))

static int check_fields(const struct field *fields, size_t n, size_t index,
			char *err, size_t err_len)
{
	for (size_t i = 0; i < n; i++)
		if (too_long(fields[i].value))
			return reject(err, err_len,
				      "event %zu: %s is longer than %d bytes",
				      index, fields[i].name,
				      COLLECTOR_MAX_STRING);
	return 0;
}

static int check_list(char *const *list, size_t n, const char *name,
		      size_t index, char *err, size_t err_len)
{
	for (size_t i = 0; i < n; i++)
		if (too_long(list[i]))
			return reject(err, err_len,
				      "event %zu: %s[%zu] is longer than %d bytes",
				      index, name, i, COLLECTOR_MAX_STRING);
	return 0;
}

static int check_process(const Vouch__V1__Process *p, size_t index,
			 char *err, size_t err_len)
{
	const struct field fields[] = {
		{ "process.comm", p->comm },
		{ "process.exe", p->exe },
		{ "process.parent_exe", p->parent_exe },
	};
	int ret;

	if (p->n_argv > COLLECTOR_MAX_ARGV)
		return reject(err, err_len,
			      "event %zu: process.argv has %zu entries, at most %d",
			      index, p->n_argv, COLLECTOR_MAX_ARGV);
	if (p->n_exe_flags > COLLECTOR_MAX_EXE_FLAGS)
		return reject(err, err_len,
			      "event %zu: process.exe_flags has %zu entries, at most %d",
			      index, p->n_exe_flags, COLLECTOR_MAX_EXE_FLAGS);
	ret = check_list(p->argv, p->n_argv, "process.argv", index, err,
			 err_len);
	if (!ret)
		ret = check_list(p->exe_flags, p->n_exe_flags,
				 "process.exe_flags", index, err, err_len);
	if (!ret)
		ret = check_fields(fields, N_FIELDS(fields), index, err,
				   err_len);
	return ret;
}

static int check_workload(const Vouch__V1__Workload *w, size_t index,
			  char *err, size_t err_len)
{
	const struct field fields[] = {
		{ "workload.kind", w->kind },
		{ "workload.cgroup_path", w->cgroup_path },
		{ "workload.scope", w->scope },
		{ "workload.container_id", w->container_id },
		{ "workload.pod", w->pod },
		{ "workload.namespace", w->namespace_ },
		{ "workload.image_ref", w->image_ref },
		{ "workload.image_digest", w->image_digest },
		{ "workload.service", w->service },
		{ "workload.version", w->version },
		{ "workload.deploy_id", w->deploy_id },
		{ "workload.environment", w->environment },
		{ "workload.systemd_unit", w->systemd_unit },
	};

	return check_fields(fields, N_FIELDS(fields), index, err, err_len);
}

/* Network, policy and loss: their few strings. */
static int check_small_parts(const Vouch__V1__Event *ev, size_t index,
			     char *err, size_t err_len)
{
	struct field fields[5];
	size_t n = 0;

	if (ev->network) {
		fields[n++] = (struct field){ "network.family",
					      ev->network->family };
		fields[n++] = (struct field){ "network.protocol",
					      ev->network->protocol };
		fields[n++] = (struct field){ "network.dest_addr",
					      ev->network->dest_addr };
	}
	if (ev->policy)
		fields[n++] = (struct field){ "policy.key_id",
					      ev->policy->key_id };
	if (ev->loss)
		fields[n++] = (struct field){ "loss.kind", ev->loss->kind };
	return check_fields(fields, n, index, err, err_len);
}

static int check_header(const Vouch__V1__Event *ev, size_t index, char *err,
			size_t err_len)
{
	const struct field fields[] = {
		{ "agent_id", ev->agent_id }, { "node", ev->node },
		{ "time", ev->time }, { "kind", ev->kind },
		{ "verdict", ev->verdict }, { "action", ev->action },
		{ "mode", ev->mode }, { "rule", ev->rule },
		{ "reason", ev->reason },
	};
	int64_t ns;

	if (empty(ev->agent_id))
		return reject(err, err_len, "event %zu: agent_id is empty",
			      index);
	if (ev->seq == 0)
		return reject(err, err_len, "event %zu: seq must be > 0",
			      index);
	if (ev->seq > MAX_SEQ)
		return reject(err, err_len,
			      "event %zu: seq must be < 2^63", index);
	if (empty(ev->kind))
		return reject(err, err_len, "event %zu: kind is empty", index);
	if (!empty(ev->time) && !too_long(ev->time) &&
	    collector_time__parse(ev->time, &ns))
		return reject(err, err_len,
			      "event %zu: time '%.64s' is not an RFC 3339 time",
			      index, ev->time);
	return check_fields(fields, N_FIELDS(fields), index, err, err_len);
}

static int check_event(const Vouch__V1__Event *ev, size_t index, char *err,
		       size_t err_len)
{
	int ret;

	ret = check_header(ev, index, err, err_len);
	if (!ret && ev->process)
		ret = check_process(ev->process, index, err, err_len);
	if (!ret && ev->workload)
		ret = check_workload(ev->workload, index, err, err_len);
	if (!ret)
		ret = check_small_parts(ev, index, err, err_len);
	return ret;
}

int collector_validate__batch(const Vouch__V1__EventBatch *batch, char *err,
			      size_t err_len)
{
	int ret;

	if (batch->n_events == 0)
		return reject(err, err_len, "batch has no events");
	if (batch->n_events > COLLECTOR_MAX_EVENTS)
		return reject(err, err_len,
			      "batch has %zu events, at most %d",
			      batch->n_events, COLLECTOR_MAX_EVENTS);
	for (size_t i = 0; i < batch->n_events; i++) {
		ret = check_event(batch->events[i], i, err, err_len);
		if (ret)
			return ret;
	}
	return 0;
}

Vouch__V1__EventBatch *collector_validate__decode(const uint8_t *buf,
						   size_t len, char *err,
						   size_t err_len)
{
	Vouch__V1__EventBatch *batch;
	int ret;

	/* protobuf-c says nothing about why; both causes are the sender's */
	batch = vouch__v1__event_batch__unpack(NULL, len, buf);
	if (!batch) {
		snprintf(err, err_len,
			 "body is not a vouch.v1.EventBatch protobuf");
		errno = EBADMSG;
		return NULL;
	}

	ret = collector_validate__batch(batch, err, err_len);
	if (ret) {
		vouch__v1__event_batch__free_unpacked(batch, NULL);
		errno = -ret;
		return NULL;
	}
	return batch;
}
