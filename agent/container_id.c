// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "container_id.h"

#define FULL_ID_LEN	64

/* Systemd scope names: prefix + 64 hex + ".scope". */
static const struct {
	const char *prefix;
	const char *runtime;
} scope_kinds[] = {
	{ "cri-containerd-", "containerd" },
	{ "crio-", "cri-o" },
	{ "docker-", "docker" },
	{ "libpod-", "podman" },
};

static int is_hex_id(const char *s, size_t len)
{
	if (len != FULL_ID_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* runc's own rule for IDs: letters, digits, _ + - . and no "." or "..". */
static int is_runc_id(const char *s, size_t len)
{
	if (len == 0 || len > CONTAINER_ID_MAX)
		return 0;
	if ((len == 1 && s[0] == '.') || (len == 2 && !strncmp(s, "..", 2)))
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '+' ||
		      c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static void set_id(struct container_id *out, const char *s, size_t len,
		   const char *runtime)
{
	memcpy(out->id, s, len);
	out->id[len] = '\0';
	out->runtime = runtime;
}

static int parse_scope(const char *leaf, size_t len, struct container_id *out)
{
	static const char suffix[] = ".scope";
	size_t slen = sizeof(suffix) - 1;

	if (len <= slen || strcmp(leaf + len - slen, suffix))
		return -ENOENT;
	for (size_t i = 0; i < sizeof(scope_kinds) / sizeof(scope_kinds[0]); i++) {
		size_t plen = strlen(scope_kinds[i].prefix);

		if (len < plen + slen || strncmp(leaf, scope_kinds[i].prefix, plen))
			continue;
		/* conmon scopes hold the monitor, not the container */
		if (!is_hex_id(leaf + plen, len - plen - slen))
			return -ENOENT;
		set_id(out, leaf + plen, FULL_ID_LEN, scope_kinds[i].runtime);
		return 0;
	}
	return -ENOENT;
}

/*
 * kubepods: ".../pod<uid>/..." (cgroupfs) or
 * ".../kubepods-besteffort-pod<uid with _>.slice/..." (systemd).
 */
static void find_pod_uid(const char *path, struct container_id *out)
{
	const char *p = strstr(path, "pod");
	size_t n = 0;

	for (; p; p = strstr(p + 3, "pod")) {
		if (p != path && p[-1] != '/' && p[-1] != '-')
			continue;
		p += 3;
		while (n < CONTAINER_POD_UID_MAX &&
		       ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f') ||
			p[n] == '-' || p[n] == '_')) {
			out->pod_uid[n] = p[n] == '_' ? '-' : p[n];
			n++;
		}
		if (n >= 32)
			break;
		n = 0;
	}
	out->pod_uid[n] = '\0';
}

int container_id__parse(const char *path, int below_root,
			struct container_id *out)
{
	const char *leaf = strrchr(path, '/');
	size_t len;

	memset(out, 0, sizeof(*out));
	leaf = leaf ? leaf + 1 : path;
	len = strlen(leaf);
	if (parse_scope(leaf, len, out) == 0) {
		find_pod_uid(path, out);
		return 0;
	}
	if (is_hex_id(leaf, len)) {
		/* cgroupfs driver: /docker/<id>, /kubepods/<qos>/pod<uid>/<id> */
		set_id(out, leaf, len, strstr(path, "/docker/") ? "docker" :
		       "containerd");
		find_pod_uid(path, out);
		return 0;
	}
	if (!below_root || strstr(leaf, ".slice") || !strncmp(leaf, "pod", 3) ||
	    !is_runc_id(leaf, len))
		return -ENOENT;
	set_id(out, leaf, len, "runc");
	return 0;
}
