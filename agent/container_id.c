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

	if (len <= slen || memcmp(leaf + len - slen, suffix, slen))
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

/* One path component that names a container by itself. */
static int parse_component(const char *s, size_t len, const char *path,
			   struct container_id *out)
{
	static const char crio[] = "crio-";
	size_t plen = sizeof(crio) - 1;

	if (parse_scope(s, len, out) == 0)
		return 0;
	/* CRI-O's cgroupfs manager: crio-<id> (crio-conmon-<id> is not) */
	if (len == plen + FULL_ID_LEN && !strncmp(s, crio, plen) &&
	    is_hex_id(s + plen, FULL_ID_LEN)) {
		set_id(out, s + plen, FULL_ID_LEN, "cri-o");
		return 0;
	}
	if (is_hex_id(s, len)) {
		/* cgroupfs driver: /docker/<id>, /kubepods/<qos>/pod<uid>/<id> */
		set_id(out, s, len, strstr(path, "/docker/") ? "docker" :
		       "containerd");
		return 0;
	}
	return -ENOENT;
}

/* What kubelet, systemd and the runtimes make that is no container. */
static int is_infrastructure(const char *leaf)
{
	return strstr(leaf, ".slice") || strstr(leaf, ".scope") ||
	       !strncmp(leaf, "pod", 3) || !strncmp(leaf, "crio-", 5) ||
	       !strcmp(leaf, "burstable") || !strcmp(leaf, "besteffort");
}

int container_id__is_infrastructure(const char *path)
{
	const char *leaf = strrchr(path, '/');

	leaf = leaf ? leaf + 1 : path;
	return is_infrastructure(leaf);
}

int container_id__parse(const char *path, int below_root,
			struct container_id *out)
{
	const char *stop = path + strlen(path), *start, *leaf;

	memset(out, 0, sizeof(*out));
	/*
	 * The nearest component that names a container: a cgroup nested in
	 * one (crun's "container", systemd inside) is part of it.
	 */
	while (stop > path) {
		for (start = stop; start > path && start[-1] != '/'; start--)
			;
		if (!parse_component(start, (size_t)(stop - start), path, out)) {
			find_pod_uid(path, out);
			return 0;
		}
		stop = start > path ? start - 1 : path;
	}
	leaf = strrchr(path, '/');
	leaf = leaf ? leaf + 1 : path;
	if (!below_root || is_infrastructure(leaf) ||
	    !is_runc_id(leaf, strlen(leaf)))
		return -ENOENT;
	set_id(out, leaf, strlen(leaf), "runc");
	return 0;
}
