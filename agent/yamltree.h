/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A bounded YAML reader on top of libyaml's event parser. It builds a small
 * tree with the position of every node and refuses what vouch's inputs never
 * need and an attacker would use: aliases and anchors, duplicate keys, more
 * than one document, deep nesting, huge files and scalars, bad UTF-8.
 */
#ifndef VOUCH_YAMLTREE_H
#define VOUCH_YAMLTREE_H

#include <stdarg.h>
#include <stddef.h>
#include "diag.h"

#define YTREE_MAX_FILE_BYTES	(8U << 20)
#define YTREE_MAX_DEPTH		32
#define YTREE_MAX_NODES		500000
#define YTREE_MAX_SCALAR	4096

enum ynode_type {
	YNODE_SCALAR = 0,
	YNODE_SEQUENCE = 1,
	YNODE_MAPPING = 2,
};

struct ynode {
	enum ynode_type type;
	int line;		/* 1-based */
	int col;		/* 1-based */
	/* YNODE_SCALAR */
	char *value;		/* NUL-terminated; no embedded NUL accepted */
	size_t len;
	int quoted;		/* written in quotes: never a bool or a number */
	/* YNODE_SEQUENCE: items; YNODE_MAPPING: key, value, key, value... */
	struct ynode **kids;
	size_t n_kids;
};

struct ydoc {
	char *file;
	struct ynode *root;	/* NULL for an empty document */
};

/* Reads and parses a file; NULL with diagnostics on any error. */
struct ydoc *ytree__load_file(const char *path, struct diags *diags);
/* Parses a buffer; name is used in diagnostics. */
struct ydoc *ytree__load_buffer(const char *name, const char *buf, size_t len,
				struct diags *diags);
void ytree__free(struct ydoc *doc);

/*
 * Adds an error at node's position in doc (the whole file when node is
 * NULL). The va_list form lets each loader keep a short printf wrapper.
 */
void ytree__verror(const struct ydoc *doc, struct diags *diags,
		   const struct ynode *node, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Mapping lookup by key; NULL when absent or when map is not a mapping. */
const struct ynode *ytree__get(const struct ynode *map, const char *key);
/* "a string", "an empty value", "a list" or "a mapping", for messages. */
const char *ytree__describe(const struct ynode *node);
/*
 * Reports every key of map not in keys (NULL-terminated) as an error naming
 * what the mapping is and listing the valid keys; returns how many.
 */
int ytree__check_keys(const struct ydoc *doc, const struct ynode *map,
		      const char *const *keys, const char *what,
		      struct diags *diags);

#endif /* VOUCH_YAMLTREE_H */
