// SPDX-License-Identifier: GPL-2.0-only
/*
 * A bounded YAML reader. libyaml's document loader expands aliases and keeps
 * no limits, so this builds its own tree from the event stream and stops at
 * the first event that could make the input cost more than its size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "yamltree.h"

#define CORE_TAG_PREFIX	"tag:yaml.org,2002:"

struct builder {
	const char *name;
	const unsigned char *buf;	/* the input, for reader error positions */
	size_t len;
	struct diags *diags;
	struct ynode *root;
	struct ynode *stack[YTREE_MAX_DEPTH];
	int depth;
	size_t n_nodes;
	int n_docs;
	int failed;		/* an error that stops parsing was reported */
};

static void report(struct builder *b, const yaml_mark_t *mark,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void report(struct builder *b, const yaml_mark_t *mark,
		   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diags__add(b->diags, DIAG_ERROR, b->name, (int)mark->line + 1,
		   (int)mark->column + 1, "%s", msg);
}

static void node_free(struct ynode *node)
{
	if (!node)
		return;
	for (size_t i = 0; i < node->n_kids; i++)
		node_free(node->kids[i]);
	free(node->kids);
	free(node->value);
	free(node);
}

void ytree__free(struct ydoc *doc)
{
	if (!doc)
		return;
	node_free(doc->root);
	free(doc->file);
	free(doc);
}

/* Line and column of a byte offset; columns count characters, as libyaml's. */
static void offset_position(const struct builder *b, size_t offset,
			    yaml_mark_t *mark)
{
	size_t line = 0, col = 0;

	if (offset > b->len)
		offset = b->len;
	for (size_t i = 0; i < offset; i++) {
		if (b->buf[i] == '\n') {
			line++;
			col = 0;
		} else if ((b->buf[i] & 0xc0) != 0x80) {
			col++;
		}
	}
	mark->line = line;
	mark->column = col;
}

static void report_parser_error(struct builder *b, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	yaml_mark_t mark = p->problem_mark;

	if (p->error == YAML_MEMORY_ERROR) {
		diags__add(b->diags, DIAG_ERROR, b->name, 0, 0,
			   "out of memory while parsing");
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		offset_position(b, p->problem_offset, &mark);
		report(b, &mark, "%s (byte 0x%02x)", problem,
		       (unsigned int)(p->problem_value & 0xff));
		return;
	}
	if (p->context)
		report(b, &mark, "%s (%s at line %zu)", problem, p->context,
		       p->context_mark.line + 1);
	else
		report(b, &mark, "%s", problem);
}

static int core_tag_ok(const char *tag, enum ynode_type type)
{
	static const char *const scalar_tags[] = {
		"str", "int", "bool", "null", "float", NULL
	};
	const char *name;

	if (strncmp(tag, CORE_TAG_PREFIX, strlen(CORE_TAG_PREFIX)) != 0)
		return 0;
	name = tag + strlen(CORE_TAG_PREFIX);
	if (type == YNODE_SEQUENCE)
		return strcmp(name, "seq") == 0;
	if (type == YNODE_MAPPING)
		return strcmp(name, "map") == 0;
	for (int i = 0; scalar_tags[i]; i++)
		if (strcmp(name, scalar_tags[i]) == 0)
			return 1;
	return 0;
}

/* Checks shared by every node event; returns 0 when the node may be built. */
static int check_node(struct builder *b, const yaml_event_t *ev,
		      const yaml_char_t *anchor, const yaml_char_t *tag,
		      enum ynode_type type)
{
	if (anchor) {
		report(b, &ev->start_mark, "aliases and anchors are not allowed");
		b->failed = 1;
		return -1;
	}
	if (++b->n_nodes > YTREE_MAX_NODES) {
		report(b, &ev->start_mark, "more than %d nodes",
		       YTREE_MAX_NODES);
		b->failed = 1;
		return -1;
	}
	if (tag && !core_tag_ok((const char *)tag, type))
		report(b, &ev->start_mark,
		       "tag '%s' is not allowed; only YAML core tags are",
		       (const char *)tag);
	return 0;
}

static struct ynode *node_new(struct builder *b, const yaml_event_t *ev,
			      enum ynode_type type)
{
	struct ynode *node = calloc(1, sizeof(*node));

	if (!node) {
		report(b, &ev->start_mark, "out of memory");
		b->failed = 1;
		return NULL;
	}
	node->type = type;
	node->line = (int)ev->start_mark.line + 1;
	node->col = (int)ev->start_mark.column + 1;
	return node;
}

static int in_key_position(const struct builder *b)
{
	const struct ynode *parent;

	if (b->depth == 0)
		return 0;
	parent = b->stack[b->depth - 1];
	return parent->type == YNODE_MAPPING && parent->n_kids % 2 == 0;
}

static int attach(struct builder *b, struct ynode *node)
{
	struct ynode *parent;
	struct ynode **kids;
	size_t cap;

	if (b->depth == 0) {
		b->root = node;
		return 0;
	}
	parent = b->stack[b->depth - 1];
	/* Capacity doubles at each power of two, so n_kids implies it. */
	if (parent->n_kids == 0 || !(parent->n_kids & (parent->n_kids - 1))) {
		cap = parent->n_kids ? parent->n_kids * 2 : 1;
		kids = realloc(parent->kids, cap * sizeof(*kids));
		if (!kids)
			return -1;
		parent->kids = kids;
	}
	parent->kids[parent->n_kids++] = node;
	return 0;
}

static void attach_or_fail(struct builder *b, const yaml_event_t *ev,
			   struct ynode *node)
{
	if (!attach(b, node))
		return;
	node_free(node);
	report(b, &ev->start_mark, "out of memory");
	b->failed = 1;
}

static void on_scalar(struct builder *b, const yaml_event_t *ev)
{
	const yaml_char_t *tag = ev->data.scalar.tag;
	size_t len = ev->data.scalar.length;
	struct ynode *node;

	if (check_node(b, ev, ev->data.scalar.anchor, tag, YNODE_SCALAR))
		return;
	if (len > YTREE_MAX_SCALAR)
		report(b, &ev->start_mark, "scalar is %zu bytes, the limit is %d",
		       len, YTREE_MAX_SCALAR);
	else if (memchr(ev->data.scalar.value, '\0', len))
		report(b, &ev->start_mark, "scalar contains a NUL byte");

	node = node_new(b, ev, YNODE_SCALAR);
	if (!node)
		return;
	node->value = strndup((const char *)ev->data.scalar.value, len);
	node->len = len;
	node->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		(tag && strcmp((const char *)tag, CORE_TAG_PREFIX "str") == 0);
	if (!node->value) {
		node_free(node);
		report(b, &ev->start_mark, "out of memory");
		b->failed = 1;
		return;
	}
	attach_or_fail(b, ev, node);
}

static void on_collection_start(struct builder *b, const yaml_event_t *ev,
				enum ynode_type type)
{
	const yaml_char_t *anchor, *tag;
	struct ynode *node;

	if (type == YNODE_MAPPING) {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	} else {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	}
	if (check_node(b, ev, anchor, tag, type))
		return;
	if (b->depth >= YTREE_MAX_DEPTH) {
		report(b, &ev->start_mark, "nesting deeper than %d levels",
		       YTREE_MAX_DEPTH);
		b->failed = 1;
		return;
	}
	if (in_key_position(b))
		report(b, &ev->start_mark, "mapping keys must be scalars");

	node = node_new(b, ev, type);
	if (!node)
		return;
	attach_or_fail(b, ev, node);
	if (!b->failed)
		b->stack[b->depth++] = node;
}

struct key_ref {
	const struct ynode *key;
	size_t pos;
};

static int key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->key->value, y->key->value);

	if (c)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void report_duplicates(struct builder *b, const struct ynode **first,
			      const struct ynode *map, size_t n_keys)
{
	for (size_t i = 0; i < n_keys; i++) {
		const struct ynode *key = map->kids[2 * i];

		if (!first[i])
			continue;
		diags__add(b->diags, DIAG_ERROR, b->name, key->line, key->col,
			   "duplicate key '%s' (first at line %d)", key->value,
			   first[i]->line);
	}
}

/*
 * Sorting finds duplicates in O(n log n), so a mapping with 100000 keys
 * costs no more than its size; errors are still reported in file order.
 */
static void check_duplicate_keys(struct builder *b, const struct ynode *map)
{
	size_t n_keys = map->n_kids / 2;
	const struct ynode **first;
	struct key_ref *refs;
	size_t run = 0;

	if (n_keys < 2)
		return;
	refs = calloc(n_keys, sizeof(*refs));
	first = calloc(n_keys, sizeof(*first));
	if (!refs || !first) {
		diags__add(b->diags, DIAG_ERROR, b->name, map->line, map->col,
			   "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_keys; i++) {
		refs[i].key = map->kids[2 * i];
		refs[i].pos = i;
	}
	for (size_t i = 0; i < n_keys; i++)
		if (refs[i].key->type != YNODE_SCALAR)
			goto out;	/* already refused: keys must be scalars */
	qsort(refs, n_keys, sizeof(*refs), key_ref_cmp);
	for (size_t i = 1; i < n_keys; i++) {
		if (strcmp(refs[i].key->value, refs[run].key->value) != 0)
			run = i;
		else
			first[refs[i].pos] = refs[run].key;
	}
	report_duplicates(b, first, map, n_keys);
out:
	free(refs);
	free(first);
}

static void on_collection_end(struct builder *b)
{
	struct ynode *node;

	if (b->depth == 0)
		return;
	node = b->stack[--b->depth];
	if (node->type == YNODE_MAPPING)
		check_duplicate_keys(b, node);
}

static void on_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->n_docs > 1) {
			report(b, &ev->start_mark,
			       "more than one document; a file holds exactly one");
			b->failed = 1;
		}
		break;
	case YAML_ALIAS_EVENT:
		report(b, &ev->start_mark, "aliases and anchors are not allowed");
		b->failed = 1;
		break;
	case YAML_SCALAR_EVENT:
		on_scalar(b, ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
		on_collection_start(b, ev, YNODE_SEQUENCE);
		break;
	case YAML_MAPPING_START_EVENT:
		on_collection_start(b, ev, YNODE_MAPPING);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		on_collection_end(b);
		break;
	default:
		break;
	}
}

static void parse_events(struct builder *b, yaml_parser_t *parser)
{
	yaml_event_t ev;
	int done = 0;

	while (!done && !b->failed) {
		if (!yaml_parser_parse(parser, &ev)) {
			report_parser_error(b, parser);
			return;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		on_event(b, &ev);
		yaml_event_delete(&ev);
	}
}

static struct ydoc *doc_new(const char *name, struct ynode *root)
{
	struct ydoc *doc = calloc(1, sizeof(*doc));

	if (!doc)
		return NULL;
	doc->file = strdup(name);
	if (!doc->file) {
		free(doc);
		return NULL;
	}
	doc->root = root;
	return doc;
}

struct ydoc *ytree__load_buffer(const char *name, const char *buf, size_t len,
				struct diags *diags)
{
	struct builder b = {
		.name = name, .buf = (const unsigned char *)buf, .len = len,
		.diags = diags,
	};
	size_t errors = diags->errors;
	yaml_parser_t parser;
	struct ydoc *doc;
	size_t bom;

	if (len > YTREE_MAX_FILE_BYTES) {
		diags__add(diags, DIAG_ERROR, name, 0, 0,
			   "input is %zu bytes, the limit is %u", len,
			   YTREE_MAX_FILE_BYTES);
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		diags__add(diags, DIAG_ERROR, name, 0, 0, "out of memory");
		return NULL;
	}
	/*
	 * UTF-8 only: left to detect the encoding, libyaml would take UTF-16
	 * after its BOM. A UTF-8 BOM, which editors add, is skipped here.
	 */
	bom = len >= 3 && memcmp(b.buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	yaml_parser_set_input_string(&parser, b.buf + bom, len - bom);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	parse_events(&b, &parser);
	yaml_parser_delete(&parser);

	doc = diags->errors == errors ? doc_new(name, b.root) : NULL;
	if (!doc) {
		if (diags->errors == errors)
			diags__add(diags, DIAG_ERROR, name, 0, 0, "out of memory");
		node_free(b.root);
	}
	return doc;
}

static int check_file_size(const char *path, int fd, size_t *size,
			   struct diags *diags)
{
	struct stat st;

	if (fstat(fd, &st)) {
		diags__add(diags, DIAG_ERROR, path, 0, 0, "failed to stat: %s",
			   strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		diags__add(diags, DIAG_ERROR, path, 0, 0,
			   "not a regular file");
		return -1;
	}
	if (st.st_size > (off_t)YTREE_MAX_FILE_BYTES) {
		diags__add(diags, DIAG_ERROR, path, 0, 0,
			   "file is %lld bytes, the limit is %u",
			   (long long)st.st_size, YTREE_MAX_FILE_BYTES);
		return -1;
	}
	*size = (size_t)st.st_size;
	return 0;
}

static ssize_t read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Reads at most the size fstat reported; a file still growing is refused. */
static char *read_bounded(const char *path, int fd, size_t *len,
			  struct diags *diags)
{
	size_t size;
	ssize_t got;
	char *buf;
	char extra;

	if (check_file_size(path, fd, &size, diags))
		return NULL;
	buf = malloc(size + 1);
	if (!buf) {
		diags__add(diags, DIAG_ERROR, path, 0, 0, "out of memory");
		return NULL;
	}
	got = read_full(fd, buf, size);
	if (got >= 0 && (size_t)got == size && read_full(fd, &extra, 1) > 0) {
		diags__add(diags, DIAG_ERROR, path, 0, 0,
			   "file changed while it was read");
		free(buf);
		return NULL;
	}
	if (got < 0) {
		diags__add(diags, DIAG_ERROR, path, 0, 0, "failed to read: %s",
			   strerror(errno));
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = (size_t)got;
	return buf;
}

struct ydoc *ytree__load_file(const char *path, struct diags *diags)
{
	struct ydoc *doc;
	size_t len = 0;
	char *buf;
	int fd;

	/* O_NONBLOCK: opening a FIFO must not hang; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		diags__add(diags, DIAG_ERROR, path, 0, 0, "failed to open: %s",
			   strerror(errno));
		return NULL;
	}
	buf = read_bounded(path, fd, &len, diags);
	close(fd);
	if (!buf)
		return NULL;

	doc = ytree__load_buffer(path, buf, len, diags);
	free(buf);
	return doc;
}

const struct ynode *ytree__get(const struct ynode *map, const char *key)
{
	if (!map || map->type != YNODE_MAPPING)
		return NULL;
	for (size_t i = 0; i + 1 < map->n_kids; i += 2) {
		const struct ynode *k = map->kids[i];

		if (k->type == YNODE_SCALAR && strcmp(k->value, key) == 0)
			return map->kids[i + 1];
	}
	return NULL;
}

const char *ytree__describe(const struct ynode *node)
{
	if (!node)
		return "nothing";
	if (node->type == YNODE_SEQUENCE)
		return "a list";
	if (node->type == YNODE_MAPPING)
		return "a mapping";
	if (!node->quoted && node->len == 0)
		return "an empty value";
	return "a string";
}

static int key_known(const char *key, const char *const *keys)
{
	for (int i = 0; keys[i]; i++)
		if (strcmp(key, keys[i]) == 0)
			return 1;
	return 0;
}

static void join_keys(const char *const *keys, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; keys[i] && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? ", " : "", keys[i]);
}

int ytree__check_keys(const struct ydoc *doc, const struct ynode *map,
		      const char *const *keys, const char *what,
		      struct diags *diags)
{
	char valid[512];
	int unknown = 0;

	if (!map || map->type != YNODE_MAPPING)
		return 0;
	join_keys(keys, valid, sizeof(valid));
	for (size_t i = 0; i + 1 < map->n_kids; i += 2) {
		const struct ynode *k = map->kids[i];

		if (k->type != YNODE_SCALAR || key_known(k->value, keys))
			continue;
		diags__add(diags, DIAG_ERROR, doc->file, k->line, k->col,
			   "unknown key '%s' in %s; valid keys: %s", k->value,
			   what, valid);
		unknown++;
	}
	return unknown;
}

void ytree__verror(const struct ydoc *doc, struct diags *diags,
		   const struct ynode *node, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	diags__add(diags, DIAG_ERROR, doc->file, node ? node->line : 0,
		   node ? node->col : 0, "%s", msg);
}
