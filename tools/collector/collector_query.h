/* SPDX-License-Identifier: GPL-2.0-only */
/* The filters of GET /v1/events, parsed from its query parameters. */
#ifndef VOUCH_COLLECTOR_QUERY_H
#define VOUCH_COLLECTOR_QUERY_H

#include <stddef.h>
#include <stdint.h>

#define COLLECTOR_LIMIT_DEFAULT	1000
#define COLLECTOR_LIMIT_MAX	10000

/* Filters on equality, each with a column of the events table. */
enum collector_match {
	COLLECTOR_MATCH_NODE = 0,
	COLLECTOR_MATCH_AGENT = 1,
	COLLECTOR_MATCH_KIND = 2,
	COLLECTOR_MATCH_VERDICT = 3,
	COLLECTOR_MATCH_ACTION = 4,
	COLLECTOR_MATCH_RULE = 5,
	COLLECTOR_MATCH_IMAGE_DIGEST = 6,
	COLLECTOR_MATCH_DEPLOY_ID = 7,
	COLLECTOR_MATCH_NAMESPACE = 8,
	COLLECTOR_MATCH_COUNT = 9,
};

struct collector_query {
	char *match[COLLECTOR_MATCH_COUNT];	/* NULL: any value */
	int64_t since_ns;			/* time_ns >= since */
	int64_t until_ns;			/* time_ns < until */
	int has_since;
	int has_until;
	int64_t after;				/* row id cursor */
	int has_after;
	unsigned int limit;			/* 0: not given */
	int follow;
};

void collector_query__init(struct collector_query *q);
/*
 * Applies one parameter. Returns 0, or -EINVAL with a message in err for
 * an unknown, repeated or malformed parameter; -ENOMEM.
 */
int collector_query__set(struct collector_query *q, const char *key,
			 const char *value, char *err, size_t err_len);
/* Frees what the query holds; the struct itself is the caller's. */
void collector_query__free(struct collector_query *q);
/* The events table column a match filter compares. */
const char *collector_query__column(enum collector_match m);

#endif /* VOUCH_COLLECTOR_QUERY_H */
