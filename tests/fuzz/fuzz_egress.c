// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: any bytes as a YAML list of egress entries, and each
 * entry's strings through the CIDR, port and protocol parsers. Whatever is
 * accepted must format and compare without crashing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "egress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct allowlist_egress *e, size_t n)
{
	char buf[EGRESS_TEXT_MAX];

	for (size_t i = 0; i < n; i++) {
		egress__format(&e[i], buf, sizeof(buf));
		egress__covers(&e[0], &e[i]);
		egress__covers(&e[i], &e[0]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct allowlist_egress *e = NULL;
	struct diags d = { 0 };
	struct ydoc *doc;
	size_t n = 0;

	doc = ytree__load_buffer("fuzz.yaml", (const char *)data, size, &d);
	if (doc && doc->root) {
		egress__parse_yaml_list(doc, &d, doc->root, &e, &n);
		exercise(e, n);
		free(e);
	}
	ytree__free(doc);
	diags__free(&d);
	return 0;
}
