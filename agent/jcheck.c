// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checks on JSON from outside, for the attestation's envelope, bundle and
 * statement: each problem is a diagnostic naming its JSON path.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jcheck.h"

void jcheck__err(const struct jcheck *c, const char *path, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	diags__add(c->diags, DIAG_ERROR, c->name, 0, 0, "%s: %s", path,
		   msg ? msg : "out of memory");
	free(msg);
}

const char *jcheck__kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a fractional number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

void jcheck__path(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

void jcheck__join(char *out, size_t len, const char *path, const char *key)
{
	jcheck__path(out, len, "%s%s%s", path, *path ? "." : "", key);
}

/* Every field of obj must be in allowed; each stranger is an error. */
int jcheck__only(const struct jcheck *c, json_t *obj, const char *path,
		 const char *const *allowed)
{
	const char *key;
	json_t *val;
	int bad = 0;

	json_object_foreach(obj, key, val) {
		size_t i = 0;

		while (allowed[i] && strcmp(allowed[i], key) != 0)
			i++;
		if (!allowed[i]) {
			jcheck__err(c, path[0] ? path : "$", "unknown field '%s'", key);
			bad++;
		}
	}
	return bad;
}

json_t *jcheck__want(const struct jcheck *c, json_t *obj, const char *path,
		     const char *key, json_type type, int required)
{
	static const char *const names[] = {
		[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
		[JSON_STRING] = "a string", [JSON_INTEGER] = "an integer",
	};
	json_t *val = json_object_get(obj, key);
	char at[512];

	jcheck__join(at, sizeof(at), path, key);
	if (!val) {
		if (required)
			jcheck__err(c, at, "missing required field");
		return NULL;
	}
	if (json_typeof(val) != type) {
		jcheck__err(c, at, "expected %s, got %s", names[type], jcheck__kind(val));
		return NULL;
	}
	return val;
}

/* Printable text: no C0 or C1 controls, no DEL (jansson checked UTF-8). */
int jcheck__text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++)
		if (*p < 0x20 || *p == 0x7f ||
		    (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return 0;
	return 1;
}

const char *jcheck__text(const struct jcheck *c, json_t *obj,
			 const char *path, const char *key, size_t max,
			 int required)
{
	json_t *val = jcheck__want(c, obj, path, key, JSON_STRING, required);
	const char *s;
	char at[512];

	if (!val)
		return NULL;
	s = json_string_value(val);
	jcheck__join(at, sizeof(at), path, key);
	if (json_string_length(val) == 0 || json_string_length(val) > max ||
	    strlen(s) != json_string_length(val) || !jcheck__text_ok(s)) {
		jcheck__err(c, at, "must be 1 to %zu printable characters", max);
		return NULL;
	}
	return s;
}

int jcheck__hex64_ok(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

json_t *jcheck__load(const char *name, const char *buf, size_t len,
		     const char *what, struct diags *diags)
{
	json_error_t e;
	json_t *j = json_loadb(buf, len, JCHECK_FLAGS, &e);

	if (!j)
		diags__add(diags, DIAG_ERROR, name, e.line > 0 ? e.line : 0,
			   e.column > 0 ? e.column : 0, "%s is not valid JSON: %s",
			   what, e.text);
	return j;
}
