/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Checks on JSON from outside (jansson trees): expected types, required
 * fields, no unknown fields, printable text. Every problem becomes an
 * error "FILE: PATH: REASON" with the JSON path of the value.
 */
#ifndef VOUCH_JCHECK_H
#define VOUCH_JCHECK_H

#include <stddef.h>
#include <jansson.h>

#include "diag.h"

/* Duplicate keys are refused in every JSON vouch reads from outside. */
#define JCHECK_FLAGS	(JSON_REJECT_DUPLICATES)

struct jcheck {
	const char *name;	/* the file, for messages */
	struct diags *diags;
};

void jcheck__err(const struct jcheck *c, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "an object", "a string"... for messages. */
const char *jcheck__kind(const json_t *j);
/* A JSON path into out; one too long for out is cut short. */
void jcheck__path(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* path "." key, or key alone at the top. */
void jcheck__join(char *out, size_t len, const char *path, const char *key);
/* Reports each field of obj not in allowed (NULL-terminated). */
int jcheck__only(const struct jcheck *c, json_t *obj, const char *path,
		 const char *const *allowed);
/* obj[key] when it has type; NULL (an error when required) otherwise. */
json_t *jcheck__want(const struct jcheck *c, json_t *obj, const char *path,
		     const char *key, json_type type, int required);
/* obj[key] as 1..max printable characters, or NULL. */
const char *jcheck__text(const struct jcheck *c, json_t *obj,
			 const char *path, const char *key, size_t max,
			 int required);
int jcheck__text_ok(const char *s);
int jcheck__hex64_ok(const char *s);
/* Parses buf with JCHECK_FLAGS; what names it in the error. */
json_t *jcheck__load(const char *name, const char *buf, size_t len,
		     const char *what, struct diags *diags);

#endif /* VOUCH_JCHECK_H */
