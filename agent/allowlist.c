// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"

static void free_execs(struct allowlist_exec *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].path);
	free(e);
}

static void free_image(struct allowlist_image *img)
{
	free(img->service);
	free(img->version);
	free(img->deploy_id);
	free(img->environment);
	free(img->namespace_);
	free(img->source_repo);
	free(img->source_commit);
	free(img->builder);
	free_execs(img->exec_allow, img->n_exec_allow);
	free_execs(img->exec_deny, img->n_exec_deny);
	free(img->egress_allow);
	free(img->egress_deny);
}

void allowlist__free(struct allowlist *al)
{
	if (!al)
		return;
	for (size_t i = 0; i < al->n_images; i++)
		free_image(&al->images[i]);
	free(al->images);
	for (size_t i = 0; i < al->n_key_ids; i++)
		free(al->key_ids[i]);
	free(al->key_ids);
	free(al->scope);
	free(al->source);
	free(al);
}

const struct allowlist_image *allowlist__find(const struct allowlist *al,
					      const char *digest)
{
	if (!al || !digest)
		return NULL;
	for (size_t i = 0; i < al->n_images; i++)
		if (!strcmp(al->images[i].digest, digest))
			return &al->images[i];
	return NULL;
}

int allowlist__valid_digest(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7))
		return 0;
	s += 7;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}
