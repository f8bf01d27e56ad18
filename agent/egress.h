/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Egress entries as people write them: a CIDR ("10.0.0.0/8", "::1/128", a
 * bare address for one host), a port or port range ("443", "8000-8100")
 * and a protocol (tcp, udp, any), into struct allowlist_egress. Rule YAML
 * and attested allow-lists both go through here; rules/README.md documents
 * the format.
 */
#ifndef VOUCH_EGRESS_H
#define VOUCH_EGRESS_H

#include <stddef.h>
#include <stdint.h>
#include "allowlist.h"
#include "diag.h"
#include "yamltree.h"

#define EGRESS_TEXT_MAX		96	/* egress__format() output, with NUL */
#define EGRESS_MAX_ENTRIES	20000	/* per YAML list */

/*
 * Each parser fills its output and returns 0, or returns -EINVAL and puts
 * a reason in why (len bytes) without touching the output.
 */
int egress__parse_cidr(const char *s, struct allowlist_egress *out,
		       char *why, size_t len);
int egress__parse_ports(const char *s, uint16_t *lo, uint16_t *hi,
			char *why, size_t len);
int egress__parse_protocol(const char *s, uint8_t *protocol,
			   char *why, size_t len);

/* Whether e is an IPv4 range (held as ::ffff:a.b.c.d/96+n). */
int egress__is_ipv4(const struct allowlist_egress *e);
/* Whether the address range of outer contains that of inner. */
int egress__covers(const struct allowlist_egress *outer,
		   const struct allowlist_egress *inner);
/* "10.0.0.0/8 443/tcp", "::/0 any/any", "192.0.2.1/32 8000-8100/udp". */
void egress__format(const struct allowlist_egress *e, char *buf, size_t len);

/*
 * Reads a YAML list of {cidr, ports, protocol} mappings (ports: one port
 * or range, or a list of them: one entry each). Every error goes to diags
 * with its position; returns the number of errors. *out is allocated
 * (possibly empty) unless memory runs out.
 */
int egress__parse_yaml_list(const struct ydoc *doc, struct diags *diags,
			    const struct ynode *node,
			    struct allowlist_egress **out, size_t *n);
/* One {cidr, ports, protocol} mapping, as exceptions take it. */
int egress__parse_yaml_entry(const struct ydoc *doc, struct diags *diags,
			     const struct ynode *node,
			     struct allowlist_egress **out, size_t *n);

#endif /* VOUCH_EGRESS_H */
