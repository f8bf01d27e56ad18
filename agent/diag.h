/* SPDX-License-Identifier: GPL-2.0-only */
/* Diagnostics for outside input: each names file:line:column and a reason. */
#ifndef VOUCH_DIAG_H
#define VOUCH_DIAG_H

#include <stddef.h>
#include <stdio.h>

enum diag_severity {
	DIAG_ERROR = 0,
	DIAG_WARNING = 1,
};

struct diag {
	enum diag_severity severity;
	char *file;
	int line;		/* 1-based; 0 when the whole file is meant */
	int col;		/* 1-based; 0 when the whole line is meant */
	char *msg;
};

struct diags {
	struct diag *items;
	size_t n;
	size_t cap;
	size_t errors;
};

/* Appends one diagnostic; on allocation failure only the count grows. */
void diags__add(struct diags *d, enum diag_severity sev, const char *file,
		int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Prints "file:line:col: error: msg" lines, one per diagnostic. */
void diags__print(const struct diags *d, FILE *out);
/* The first error as one line, for log messages; "" when there is none. */
const char *diags__first_error(const struct diags *d, char *buf, size_t len);
/* Orders items[from..n) by line and column, keeping equal ones in order. */
void diags__sort(struct diags *d, size_t from);
void diags__free(struct diags *d);

#endif /* VOUCH_DIAG_H */
