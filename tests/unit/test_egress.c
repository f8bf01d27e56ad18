// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for agent/egress.c: CIDR, ports, protocol, and YAML entries. */
#include <errno.h>
#include <string.h>
#include <criterion/criterion.h>

#include "egress.h"

static char why[256];

static struct allowlist_egress cidr(const char *s)
{
	struct allowlist_egress e = { 0 };

	cr_assert_eq(egress__parse_cidr(s, &e, why, sizeof(why)), 0,
		     "'%s' refused: %s", s, why);
	return e;
}

static void bad_cidr(const char *s, const char *msg)
{
	struct allowlist_egress e = { .prefix_len = 77 };

	cr_assert_eq(egress__parse_cidr(s, &e, why, sizeof(why)), -EINVAL,
		     "'%s' accepted", s);
	cr_assert_str_eq(why, msg);
	cr_assert_eq(e.prefix_len, 77, "output touched on error");
}

static void formats_as(const char *in, const char *want)
{
	struct allowlist_egress e = cidr(in);
	char buf[EGRESS_TEXT_MAX];

	e.port_hi = 65535;
	egress__format(&e, buf, sizeof(buf));
	cr_assert_str_eq(buf, want);
}

Test(egress, ipv4_is_held_mapped)
{
	struct allowlist_egress e = cidr("10.0.0.0/8");
	static const uint8_t want[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0,
	};

	cr_assert_eq(e.prefix_len, 104);
	cr_assert_arr_eq(e.addr, want, 16);
	cr_assert(egress__is_ipv4(&e));
}

Test(egress, forms_accepted)
{
	formats_as("10.0.0.0/8", "10.0.0.0/8 any/any");
	formats_as("0.0.0.0/0", "0.0.0.0/0 any/any");
	formats_as("192.0.2.7", "192.0.2.7/32 any/any");
	formats_as("::1/128", "::1/128 any/any");
	formats_as("::/0", "::/0 any/any");
	formats_as("2001:db8::/32", "2001:db8::/32 any/any");
	formats_as("fe80::1", "fe80::1/128 any/any");
	/* written as IPv4-mapped IPv6: an IPv4 rule */
	formats_as("::ffff:10.1.0.0/112", "10.1.0.0/16 any/any");
}

Test(egress, ipv6_never_covers_ipv4)
{
	struct allowlist_egress all6 = cidr("::/0"), all4 = cidr("0.0.0.0/0");
	struct allowlist_egress lo = cidr("127.0.0.1");

	cr_assert_not(egress__is_ipv4(&all6));
	cr_assert_not(egress__covers(&all6, &lo));
	cr_assert(egress__covers(&all4, &lo));
	cr_assert_not(egress__covers(&lo, &all4));
}

Test(egress, covers_counts_bits)
{
	struct allowlist_egress a = cidr("10.0.0.0/9"), in = cidr("10.127.0.1");
	struct allowlist_egress out = cidr("10.128.0.1");

	cr_assert(egress__covers(&a, &in));
	cr_assert_not(egress__covers(&a, &out));
	cr_assert(egress__covers(&a, &a));
}

Test(egress, bad_addresses_are_refused)
{
	bad_cidr("", "'' is not an address or CIDR");
	bad_cidr("/8", "'/8' is not an address or CIDR");
	bad_cidr("10.0.0", "'10.0.0' is not an IPv4 or IPv6 address");
	bad_cidr("example.com", "'example.com' is not an IPv4 or IPv6 address");
	bad_cidr(" 10.0.0.0/8", "' 10.0.0.0' is not an IPv4 or IPv6 address");
	bad_cidr("10.0.0.0/33", "'10.0.0.0/33': the prefix length must be 0 to 32");
	bad_cidr("10.0.0.0/", "'10.0.0.0/': the prefix length must be 0 to 32");
	bad_cidr("10.0.0.0/-1", "'10.0.0.0/-1': the prefix length must be 0 to 32");
	bad_cidr("10.0.0.0/8 ", "'10.0.0.0/8 ': the prefix length must be 0 to 32");
	bad_cidr("::/129", "'::/129': the prefix length must be 0 to 128");
	bad_cidr("10.0.0.1/8",
		 "'10.0.0.1/8' has bits set past its prefix length; write the network address");
	bad_cidr("2001:db8::1/64",
		 "'2001:db8::1/64' has bits set past its prefix length; write the network address");
}

Test(egress, ports)
{
	uint16_t lo = 1, hi = 1;

	cr_assert_eq(egress__parse_ports("443", &lo, &hi, why, sizeof(why)), 0);
	cr_assert_eq(lo, 443);
	cr_assert_eq(hi, 443);
	cr_assert_eq(egress__parse_ports("8000-8100", &lo, &hi, why, sizeof(why)), 0);
	cr_assert_eq(lo, 8000);
	cr_assert_eq(hi, 8100);
	cr_assert_eq(egress__parse_ports("1-65535", &lo, &hi, why, sizeof(why)), 0);
	cr_assert_eq(hi, 65535);
	cr_assert_eq(egress__parse_ports("0", &lo, &hi, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "'0' is not a port (1 to 65535)");
	cr_assert_eq(egress__parse_ports("65536", &lo, &hi, why, sizeof(why)), -EINVAL);
	cr_assert_eq(egress__parse_ports("+80", &lo, &hi, why, sizeof(why)), -EINVAL);
	cr_assert_eq(egress__parse_ports("80-", &lo, &hi, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "'80-' is not a port range (LOW-HIGH, 1 to 65535)");
	cr_assert_eq(egress__parse_ports("90-80", &lo, &hi, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "port range '90-80' ends before it starts");
	cr_assert_eq(lo, 1, "output touched on error");
}

Test(egress, protocols)
{
	uint8_t p = 99;

	cr_assert_eq(egress__parse_protocol("tcp", &p, why, sizeof(why)), 0);
	cr_assert_eq(p, 6);
	cr_assert_eq(egress__parse_protocol("udp", &p, why, sizeof(why)), 0);
	cr_assert_eq(p, 17);
	cr_assert_eq(egress__parse_protocol("any", &p, why, sizeof(why)), 0);
	cr_assert_eq(p, 0);
	cr_assert_eq(egress__parse_protocol("TCP", &p, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "unknown protocol 'TCP'; expected tcp, udp or any");
}

static struct diags diags;
static struct ydoc *doc;

static void reset(void)
{
	memset(&diags, 0, sizeof(diags));
	doc = NULL;
}

static void done(void)
{
	diags__free(&diags);
	ytree__free(doc);
}

TestSuite(egress_yaml, .init = reset, .fini = done, .timeout = 10);

static int parse_list(const char *text, struct allowlist_egress **out,
		      size_t *n)
{
	doc = ytree__load_buffer("t.yaml", text, strlen(text), &diags);
	cr_assert_not_null(doc);
	return egress__parse_yaml_list(doc, &diags, doc->root, out, n);
}

static void assert_diag(size_t i, int line, int col, const char *msg)
{
	cr_assert_lt(i, diags.n, "only %zu diagnostics", diags.n);
	cr_assert_str_eq(diags.items[i].msg, msg);
	cr_assert_eq(diags.items[i].line, line, "line of '%s'", msg);
	cr_assert_eq(diags.items[i].col, col, "column of '%s'", msg);
}

Test(egress_yaml, list_with_ports_expands)
{
	struct allowlist_egress *e = NULL;
	size_t n = 0;

	cr_assert_eq(parse_list("- {cidr: 10.0.0.0/8, ports: [443, 8000-8100], protocol: tcp}\n"
				"- cidr: \"::1/128\"\n", &e, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(e[0].port_lo, 443);
	cr_assert_eq(e[1].port_hi, 8100);
	cr_assert_eq(e[1].protocol, 6);
	cr_assert_eq(e[2].prefix_len, 128);
	cr_assert_eq(e[2].port_lo, 0);
	cr_assert_eq(e[2].port_hi, 65535);
	cr_assert_eq(e[2].protocol, 0);
	free(e);
}

Test(egress_yaml, every_error_has_its_place)
{
	struct allowlist_egress *e = NULL;
	size_t n = 0;

	cr_assert_eq(parse_list("- {cidr: 10.0.0.1/8}\n"
				"- {ports: 80}\n"
				"- {cidr: 10.0.0.0/8, protocol: icmp}\n"
				"- {cidr: 10.0.0.0/8, ports: [], port: 1}\n"
				"- {cidr: 10.0.0.0/8, ports: [80, 0]}\n"
				"- 42\n", &e, &n), 7);
	diags__sort(&diags, 0);
	assert_diag(0, 1, 10, "'10.0.0.1/8' has bits set past its prefix "
		    "length; write the network address");
	assert_diag(1, 2, 3, "missing required key 'cidr' in an egress entry");
	assert_diag(2, 3, 32, "unknown protocol 'icmp'; expected tcp, udp or any");
	assert_diag(3, 4, 29, "'ports' needs at least one port; leave it out for any port");
	assert_diag(4, 4, 33, "unknown key 'port' in an egress entry; valid "
		    "keys: cidr, ports, protocol");
	assert_diag(5, 5, 34, "'0' is not a port (1 to 65535)");
	assert_diag(6, 6, 3, "expected an egress entry (a mapping with 'cidr'), got a string");
	cr_assert_eq(n, 1, "the good port of line 5 is kept");
	free(e);
}

Test(egress_yaml, not_a_list)
{
	struct allowlist_egress *e = NULL;
	size_t n = 0;

	cr_assert_eq(parse_list("cidr: 10.0.0.0/8\n", &e, &n), 1);
	assert_diag(0, 1, 1, "expected a list of egress entries, got a mapping");
	cr_assert_eq(n, 0);
	free(e);
}
