// SPDX-License-Identifier: GPL-2.0-only
/* Egress entries: CIDR, ports and protocol, from text and from YAML. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress.h"

static const uint8_t v4_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

static int fail(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A decimal number of at most max, digits only (no sign, no spaces). */
static int parse_uint(const char *s, size_t n, unsigned long max,
		      unsigned long *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 10)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Whether any bit of addr past the first plen bits is set. */
static int has_host_bits(const uint8_t addr[16], unsigned int plen)
{
	for (unsigned int bit = plen; bit < 128; bit++)
		if (addr[bit / 8] & (0x80 >> (bit % 8)))
			return 1;
	return 0;
}

int egress__parse_cidr(const char *s, struct allowlist_egress *out,
		       char *why, size_t len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	struct allowlist_egress e = { 0 };
	unsigned long plen, max;
	struct in_addr a4;
	int v4;

	if (hlen == 0 || hlen >= sizeof(host))
		return fail(why, len, "'%s' is not an address or CIDR", s);
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	v4 = inet_pton(AF_INET, host, &a4) == 1;
	if (v4) {
		memcpy(e.addr, v4_mapped, sizeof(v4_mapped));
		memcpy(e.addr + 12, &a4, 4);
	} else if (inet_pton(AF_INET6, host, e.addr) != 1) {
		return fail(why, len, "'%s' is not an IPv4 or IPv6 address", host);
	}
	max = v4 ? 32 : 128;
	plen = max;
	if (slash && parse_uint(slash + 1, strlen(slash + 1), max, &plen))
		return fail(why, len, "'%s': the prefix length must be 0 to %lu",
			    s, max);
	e.prefix_len = (uint8_t)(v4 ? 96 + plen : plen);
	if (has_host_bits(e.addr, e.prefix_len))
		return fail(why, len,
			    "'%s' has bits set past its prefix length; write the network address",
			    s);
	memcpy(out->addr, e.addr, sizeof(e.addr));
	out->prefix_len = e.prefix_len;
	return 0;
}

int egress__parse_ports(const char *s, uint16_t *lo, uint16_t *hi,
			char *why, size_t len)
{
	const char *dash = strchr(s, '-');
	unsigned long a, b;

	if (!dash) {
		if (parse_uint(s, strlen(s), 65535, &a) || a == 0)
			return fail(why, len, "'%s' is not a port (1 to 65535)", s);
		*lo = *hi = (uint16_t)a;
		return 0;
	}
	if (parse_uint(s, (size_t)(dash - s), 65535, &a) ||
	    parse_uint(dash + 1, strlen(dash + 1), 65535, &b) || a == 0)
		return fail(why, len,
			    "'%s' is not a port range (LOW-HIGH, 1 to 65535)", s);
	if (a > b)
		return fail(why, len, "port range '%s' ends before it starts", s);
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int egress__parse_protocol(const char *s, uint8_t *protocol,
			   char *why, size_t len)
{
	if (!strcmp(s, "tcp"))
		*protocol = ALLOWLIST_PROTO_TCP;
	else if (!strcmp(s, "udp"))
		*protocol = ALLOWLIST_PROTO_UDP;
	else if (!strcmp(s, "any"))
		*protocol = ALLOWLIST_PROTO_ANY;
	else
		return fail(why, len,
			    "unknown protocol '%s'; expected tcp, udp or any", s);
	return 0;
}

int egress__is_ipv4(const struct allowlist_egress *e)
{
	return e->prefix_len >= 96 && !memcmp(e->addr, v4_mapped, 12);
}

int egress__covers(const struct allowlist_egress *outer,
		   const struct allowlist_egress *inner)
{
	unsigned int plen = outer->prefix_len, whole = plen / 8;

	if (egress__is_ipv4(outer) != egress__is_ipv4(inner) ||
	    plen > inner->prefix_len)
		return 0;
	if (memcmp(outer->addr, inner->addr, whole))
		return 0;
	if (plen % 8 == 0)
		return 1;
	return !((outer->addr[whole] ^ inner->addr[whole]) &
		 (0xff << (8 - plen % 8)));
}

void egress__format(const struct allowlist_egress *e, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN], ports[16];
	const char *proto = e->protocol == ALLOWLIST_PROTO_TCP ? "tcp" :
			    e->protocol == ALLOWLIST_PROTO_UDP ? "udp" : "any";
	int v4 = egress__is_ipv4(e);

	if (v4)
		inet_ntop(AF_INET, e->addr + 12, addr, sizeof(addr));
	else
		inet_ntop(AF_INET6, e->addr, addr, sizeof(addr));
	if (e->port_lo == 0 && e->port_hi == 65535)
		strcpy(ports, "any");
	else if (e->port_lo == e->port_hi)
		snprintf(ports, sizeof(ports), "%u", e->port_lo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", e->port_lo, e->port_hi);
	snprintf(buf, len, "%s/%u %s/%s", addr,
		 v4 ? e->prefix_len - 96 : e->prefix_len, ports, proto);
}

/* YAML: errors go to diags at the node's position. */
struct yctx {
	const struct ydoc *doc;
	struct diags *diags;
	int errors;
	struct allowlist_egress *items;
	size_t n;
	size_t cap;
};

static void yerr(struct yctx *y, const struct ynode *node, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));

static void yerr(struct yctx *y, const struct ynode *node, const char *fmt,
		 ...)
{
	va_list ap;

	va_start(ap, fmt);
	ytree__verror(y->doc, y->diags, node, fmt, ap);
	va_end(ap);
	y->errors++;
}

static const char *scalar(struct yctx *y, const struct ynode *node,
			  const char *what)
{
	if (node->type == YNODE_SCALAR)
		return node->value;
	yerr(y, node, "expected %s, got %s", what, ytree__describe(node));
	return NULL;
}

static void push(struct yctx *y, const struct ynode *at,
		 const struct allowlist_egress *e)
{
	struct allowlist_egress *bigger;

	if (y->n >= EGRESS_MAX_ENTRIES) {
		if (y->n++ == EGRESS_MAX_ENTRIES)
			yerr(y, at, "more than %d egress entries in one list",
			     EGRESS_MAX_ENTRIES);
		return;
	}
	if (y->n == y->cap) {
		y->cap = y->cap ? y->cap * 2 : 8;
		bigger = realloc(y->items, y->cap * sizeof(*bigger));
		if (!bigger) {
			yerr(y, at, "out of memory");
			return;
		}
		y->items = bigger;
	}
	y->items[y->n++] = *e;
}

/* One port or range node, pushed as an entry of base's address. */
static void push_ports(struct yctx *y, const struct ynode *node,
		       struct allowlist_egress *base)
{
	const char *s = scalar(y, node, "a port or LOW-HIGH range");
	char why[160];

	if (!s)
		return;
	if (egress__parse_ports(s, &base->port_lo, &base->port_hi, why,
				sizeof(why))) {
		yerr(y, node, "%s", why);
		return;
	}
	push(y, node, base);
}

static const char *const entry_keys[] = { "cidr", "ports", "protocol", NULL };

static void parse_entry(struct yctx *y, const struct ynode *map)
{
	struct allowlist_egress e = { .port_lo = 0, .port_hi = 65535 };
	const struct ynode *cidr, *ports, *proto;
	const char *s;
	char why[160];
	int bad = 0;

	if (map->type != YNODE_MAPPING) {
		yerr(y, map, "expected an egress entry (a mapping with 'cidr'), got %s",
		     ytree__describe(map));
		return;
	}
	bad += ytree__check_keys(y->doc, map, entry_keys, "an egress entry",
				 y->diags);
	y->errors += bad;
	cidr = ytree__get(map, "cidr");
	ports = ytree__get(map, "ports");
	proto = ytree__get(map, "protocol");
	if (!cidr) {
		yerr(y, map, "missing required key 'cidr' in an egress entry");
		return;
	}
	s = scalar(y, cidr, "a CIDR such as 10.0.0.0/8");
	if (!s)
		return;
	if (egress__parse_cidr(s, &e, why, sizeof(why))) {
		yerr(y, cidr, "%s", why);
		return;
	}
	if (proto) {
		s = scalar(y, proto, "tcp, udp or any");
		if (!s || egress__parse_protocol(s, &e.protocol, why, sizeof(why))) {
			if (s)
				yerr(y, proto, "%s", why);
			return;
		}
	}
	if (!ports) {
		push(y, map, &e);
	} else if (ports->type == YNODE_SEQUENCE) {
		if (ports->n_kids == 0)
			yerr(y, ports, "'ports' needs at least one port; leave it out for any port");
		for (size_t i = 0; i < ports->n_kids; i++)
			push_ports(y, ports->kids[i], &e);
	} else {
		push_ports(y, ports, &e);
	}
}

static int finish(struct yctx *y, struct allowlist_egress **out, size_t *n)
{
	if (!y->items)
		y->items = calloc(1, sizeof(*y->items));
	*out = y->items;
	*n = y->n < EGRESS_MAX_ENTRIES ? y->n : EGRESS_MAX_ENTRIES;
	return y->errors;
}

int egress__parse_yaml_list(const struct ydoc *doc, struct diags *diags,
			    const struct ynode *node,
			    struct allowlist_egress **out, size_t *n)
{
	struct yctx y = { .doc = doc, .diags = diags };

	if (node->type != YNODE_SEQUENCE)
		yerr(&y, node, "expected a list of egress entries, got %s",
		     ytree__describe(node));
	else
		for (size_t i = 0; i < node->n_kids; i++)
			parse_entry(&y, node->kids[i]);
	return finish(&y, out, n);
}

int egress__parse_yaml_entry(const struct ydoc *doc, struct diags *diags,
			     const struct ynode *node,
			     struct allowlist_egress **out, size_t *n)
{
	struct yctx y = { .doc = doc, .diags = diags };

	parse_entry(&y, node);
	return finish(&y, out, n);
}
