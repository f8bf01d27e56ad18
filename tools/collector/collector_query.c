// SPDX-License-Identifier: GPL-2.0-only
/*
 * Query parameters of GET /v1/events. Unknown and repeated parameters are
 * refused rather than ignored: a misspelt filter would otherwise widen a
 * responder's query without a word.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector_query.h"
#include "collector_time.h"

struct match_name {
	const char *param;
	const char *column;
};

static const struct match_name match_names[COLLECTOR_MATCH_COUNT] = {
	[COLLECTOR_MATCH_NODE] = { "node", "node" },
	[COLLECTOR_MATCH_AGENT] = { "agent", "agent_id" },
	[COLLECTOR_MATCH_KIND] = { "kind", "kind" },
	[COLLECTOR_MATCH_VERDICT] = { "verdict", "verdict" },
	[COLLECTOR_MATCH_ACTION] = { "action", "action" },
	[COLLECTOR_MATCH_RULE] = { "rule", "rule" },
	[COLLECTOR_MATCH_IMAGE_DIGEST] = { "image_digest", "image_digest" },
	[COLLECTOR_MATCH_DEPLOY_ID] = { "deploy_id", "deploy_id" },
	[COLLECTOR_MATCH_NAMESPACE] = { "namespace", "namespace" },
};

void collector_query__init(struct collector_query *q)
{
	memset(q, 0, sizeof(*q));
}

void collector_query__free(struct collector_query *q)
{
	if (!q)
		return;
	for (int i = 0; i < COLLECTOR_MATCH_COUNT; i++) {
		free(q->match[i]);
		q->match[i] = NULL;
	}
}

const char *collector_query__column(enum collector_match m)
{
	return match_names[m].column;
}

static int bad(char *err, size_t err_len, const char *key, const char *why)
{
	snprintf(err, err_len, "query parameter '%.64s': %s", key, why);
	return -EINVAL;
}

/* A decimal in [min, max], nothing else. */
static int parse_number(const char *value, long long min, long long max,
			long long *out)
{
	char *end;

	if (value[0] < '0' || value[0] > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoll(value, &end, 10);
	if (errno || *end || *out < min || *out > max)
		return -EINVAL;
	return 0;
}

static int set_time(int64_t *ns, int *has, const char *key,
		    const char *value, char *err, size_t err_len)
{
	if (*has)
		return bad(err, err_len, key, "given twice");
	if (collector_time__parse(value, ns))
		return bad(err, err_len, key, "not an RFC 3339 time");
	*has = 1;
	return 0;
}

static int set_after(struct collector_query *q, const char *value,
		     char *err, size_t err_len)
{
	long long v;

	if (q->has_after)
		return bad(err, err_len, "after", "given twice");
	if (parse_number(value, 0, INT64_MAX, &v))
		return bad(err, err_len, "after", "not a row id");
	q->after = v;
	q->has_after = 1;
	return 0;
}

static int set_limit(struct collector_query *q, const char *value,
		     char *err, size_t err_len)
{
	long long v;

	if (q->limit)
		return bad(err, err_len, "limit", "given twice");
	if (parse_number(value, 1, COLLECTOR_LIMIT_MAX, &v))
		return bad(err, err_len, "limit", "must be 1..10000");
	q->limit = (unsigned int)v;
	return 0;
}

static int set_follow(struct collector_query *q, const char *value,
		      char *err, size_t err_len)
{
	if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0)
		q->follow = 1;
	else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0)
		q->follow = 0;
	else
		return bad(err, err_len, "follow",
			   "must be 1, 0, true or false");
	return 0;
}

static int set_match(struct collector_query *q, int m, const char *value,
		     char *err, size_t err_len)
{
	if (q->match[m])
		return bad(err, err_len, match_names[m].param, "given twice");
	q->match[m] = strdup(value);
	return q->match[m] ? 0 : -ENOMEM;
}

int collector_query__set(struct collector_query *q, const char *key,
			 const char *value, char *err, size_t err_len)
{
	/* "?follow" without "=": MHD hands over a NULL value */
	if (!value)
		return bad(err, err_len, key, "has no value");
	for (int m = 0; m < COLLECTOR_MATCH_COUNT; m++)
		if (strcmp(key, match_names[m].param) == 0)
			return set_match(q, m, value, err, err_len);
	if (strcmp(key, "since") == 0)
		return set_time(&q->since_ns, &q->has_since, key, value, err,
				err_len);
	if (strcmp(key, "until") == 0)
		return set_time(&q->until_ns, &q->has_until, key, value, err,
				err_len);
	if (strcmp(key, "after") == 0)
		return set_after(q, value, err, err_len);
	if (strcmp(key, "limit") == 0)
		return set_limit(q, value, err, err_len);
	if (strcmp(key, "follow") == 0)
		return set_follow(q, value, err, err_len);
	return bad(err, err_len, key, "unknown");
}
