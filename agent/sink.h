/* SPDX-License-Identifier: GPL-2.0-only */
/* Local event sinks: JSON lines to stdout or to a file. */
#ifndef VOUCH_SINK_H
#define VOUCH_SINK_H

#include <stdio.h>
#include "event.h"

struct sink;

/* "stdout" or a file path, appended to; NULL and errno on failure. */
struct sink *sink__open(const char *where);
/* Writes one event as one JSON line; 0 or -errno. */
int sink__write(struct sink *s, const struct event *ev);
int sink__flush(struct sink *s);
void sink__close(struct sink *s);

/* The JSON text of one event, without newline; the caller frees it. */
char *sink__format_json(const struct event *ev);

#endif /* VOUCH_SINK_H */
