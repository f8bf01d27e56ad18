// SPDX-License-Identifier: GPL-2.0-only
/* Diagnostics for outside input: a growing list of file:line:col messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

/*
 * A hostile file can produce one error per node; past this many the rest
 * are only counted, so reporting stays bounded in memory and in output.
 */
#define DIAGS_MAX_ITEMS	1000

static const char *severity_name(enum diag_severity sev)
{
	return sev == DIAG_WARNING ? "warning" : "error";
}

static int diags_grow(struct diags *d)
{
	size_t cap = d->cap ? d->cap * 2 : 16;
	struct diag *items;

	if (d->n < d->cap)
		return 0;
	items = realloc(d->items, cap * sizeof(*items));
	if (!items)
		return -1;
	d->items = items;
	d->cap = cap;
	return 0;
}

/*
 * Messages quote hostile input; a control character (C0, DEL, or C1 in its
 * UTF-8 form) reaching a terminal could rewrite what the operator sees.
 */
static void sanitize(char *msg)
{
	unsigned char *p = (unsigned char *)msg;

	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			*p = '?';
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			p[0] = '?';
			p[1] = '?';
			p++;
		}
	}
}

static void diags_push(struct diags *d, enum diag_severity sev,
		       const char *file, int line, int col, char *msg)
{
	struct diag *item;
	char *file_copy = strdup(file ? file : "");

	if (!file_copy || diags_grow(d)) {
		free(file_copy);
		free(msg);
		return;
	}
	item = &d->items[d->n++];
	item->severity = sev;
	item->file = file_copy;
	item->line = line;
	item->col = col;
	item->msg = msg;
}

void diags__add(struct diags *d, enum diag_severity sev, const char *file,
		int line, int col, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	if (sev == DIAG_ERROR)
		d->errors++;
	if (d->n >= DIAGS_MAX_ITEMS)
		return;
	if (d->n == DIAGS_MAX_ITEMS - 1) {
		msg = strdup("too many diagnostics; the rest are not shown");
		if (msg)
			diags_push(d, sev, file, 0, 0, msg);
		return;
	}

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	sanitize(msg);
	diags_push(d, sev, file, line, col, msg);
}

static void format_one(const struct diag *item, char *buf, size_t len)
{
	const char *sev = severity_name(item->severity);

	if (item->line <= 0)
		snprintf(buf, len, "%s: %s: %s", item->file, sev, item->msg);
	else if (item->col <= 0)
		snprintf(buf, len, "%s:%d: %s: %s", item->file, item->line,
			 sev, item->msg);
	else
		snprintf(buf, len, "%s:%d:%d: %s: %s", item->file, item->line,
			 item->col, sev, item->msg);
}

void diags__print(const struct diags *d, FILE *out)
{
	char line[2048];

	for (size_t i = 0; i < d->n; i++) {
		format_one(&d->items[i], line, sizeof(line));
		fprintf(out, "%s\n", line);
	}
}

const char *diags__first_error(const struct diags *d, char *buf, size_t len)
{
	if (len == 0)
		return "";
	buf[0] = '\0';
	for (size_t i = 0; i < d->n; i++) {
		if (d->items[i].severity == DIAG_ERROR) {
			format_one(&d->items[i], buf, len);
			return buf;
		}
	}
	/* Errors were counted but could not be stored: say so. */
	if (d->errors)
		snprintf(buf, len, "out of memory while reporting %zu errors",
			 d->errors);
	return buf;
}

static int diag_before(const struct diag *a, const struct diag *b)
{
	if (a->line != b->line)
		return a->line < b->line;
	return a->col < b->col;
}

/* Insertion sort: stable, and items are capped at DIAGS_MAX_ITEMS. */
void diags__sort(struct diags *d, size_t from)
{
	/* The "too many" notice, when present, stays last. */
	size_t n = d->n < DIAGS_MAX_ITEMS ? d->n : DIAGS_MAX_ITEMS - 1;

	for (size_t i = from + 1; i < n; i++) {
		struct diag item = d->items[i];
		size_t j = i;

		while (j > from && diag_before(&item, &d->items[j - 1])) {
			d->items[j] = d->items[j - 1];
			j--;
		}
		d->items[j] = item;
	}
}

void diags__free(struct diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].msg);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}
