// SPDX-License-Identifier: GPL-2.0-only
/*
 * Egress policy: the entries of each scope, and the trie the kernel judges
 * with. The kernel's LPM lookup answers with the longest prefix only, so
 * each prefix is written with the port ranges of every entry whose CIDR
 * covers it; then one lookup tells all that applies to a destination.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "egress.h"
#include "log.h"
#include "policy.h"

static struct policy_egress *egress_append(struct policy *p)
{
	struct policy_egress *bigger;
	size_t n = p->n_egress;

	/* capacity doubles at powers of two, as in policy.c */
	if ((n & (n - 1)) == 0) {
		bigger = realloc(p->egress, (n ? n * 2 : 1) * sizeof(*bigger));
		if (!bigger)
			return NULL;
		p->egress = bigger;
	}
	memset(&p->egress[n], 0, sizeof(p->egress[n]));
	p->n_egress++;
	return &p->egress[n];
}

static int add_one(struct policy *p, uint32_t scope_id, uint32_t kind,
		   const struct allowlist_egress *e, const char *scope_name,
		   const char *list_name, const struct rules_exception *ex)
{
	char text[EGRESS_TEXT_MAX];
	struct policy_egress *pe;
	uint32_t rule_id;
	int err;

	pe = egress_append(p);
	if (!pe)
		return -ENOMEM;
	egress__format(e, text, sizeof(text));
	pe->text = strdup(text);
	if (!pe->text)
		return -ENOMEM;
	err = policy__add_rule(p, scope_name, list_name, pe->text, ex, &rule_id);
	if (err)
		return err;
	pe->scope_id = scope_id;
	pe->rule_id = rule_id;
	pe->kind = kind;
	pe->e = *e;
	if (ex)
		pe->expires_boot_ns = policy__unix_to_boot_ns(ex->expires);
	return 0;
}

int policy__add_egress(struct policy *p, uint32_t scope_id, uint32_t kind,
		       const struct allowlist_egress *list, size_t n,
		       const char *scope_name, const char *list_name,
		       const struct rules_exception *ex)
{
	struct policy_scope *ps;
	int err;

	if (scope_id >= p->n_scopes)
		return -EINVAL;
	ps = &p->scopes[scope_id];
	/* the kernel judges egress only in scopes with allow or deny entries */
	if (kind == VOUCH_EGRESS_ALLOW)
		ps->flags |= VOUCH_SCOPE_EGRESS | VOUCH_SCOPE_EGRESS_ALLOWLIST;
	else if (kind == VOUCH_EGRESS_DENY && n)
		ps->flags |= VOUCH_SCOPE_EGRESS;
	for (size_t i = 0; i < n; i++) {
		err = add_one(p, scope_id, kind, &list[i], scope_name,
			      list_name, ex);
		if (err)
			return err;
	}
	return 0;
}

static int compile_scope(struct policy *p, uint32_t id)
{
	const struct vouch_rules *rules = p->rules;
	const struct rules_egress *eg = &rules->scopes[id].egress;
	const char *name = p->scopes[id].name;
	int err;

	err = policy__add_egress(p, id, VOUCH_EGRESS_DENY, eg->deny,
				 eg->n_deny, name, "egress.deny", NULL);
	if (!err && eg->has_allowlist)
		err = policy__add_egress(p, id, VOUCH_EGRESS_ALLOW, eg->allow,
					 eg->n_allow, name, "egress.allow",
					 NULL);
	if (!err)
		err = policy__add_egress(p, id, VOUCH_EGRESS_DENY,
					 rules->deny_egress.deny,
					 rules->deny_egress.n_deny, NULL,
					 "deny.egress", NULL);
	return err;
}

/* An exception applies where egress is judged at all. */
static int compile_exception(struct policy *p,
			     const struct rules_exception *ex, int64_t now)
{
	int only = -1, err = 0;

	if (!ex->n_egress || ex->expires <= now)
		return 0;
	if (ex->scope)
		only = rules__scope_index(p->rules, ex->scope);
	for (size_t id = 0; !err && id < p->n_scopes; id++) {
		if ((only >= 0 && (size_t)only != id) ||
		    !(p->scopes[id].flags & VOUCH_SCOPE_EGRESS))
			continue;
		err = policy__add_egress(p, (uint32_t)id, VOUCH_EGRESS_EXCEPTION,
					 ex->egress, ex->n_egress, ex->scope,
					 "exception", ex);
	}
	return err;
}

/*
 * Scopes made for containers: the node-wide deny list, and for an image
 * its own entries; an image that declares egress allows only what it lists.
 */
static int compile_container_scope(struct policy *p, uint32_t id)
{
	const struct allowlist_image *img = p->scopes[id].image;
	const struct rules_egress *node = &p->rules->deny_egress;
	const char *name = p->scopes[id].name;
	int err = 0;

	if (img)
		err = policy__add_egress(p, id, VOUCH_EGRESS_DENY,
					 img->egress_deny, img->n_egress_deny,
					 name, "image.egress.deny", NULL);
	if (!err && img && img->egress_declared)
		err = policy__add_egress(p, id, VOUCH_EGRESS_ALLOW,
					 img->egress_allow, img->n_egress_allow,
					 name, "image.egress.allow", NULL);
	if (!err)
		err = policy__add_egress(p, id, VOUCH_EGRESS_DENY, node->deny,
					 node->n_deny, NULL, "deny.egress", NULL);
	return err;
}

int policy__compile_egress(struct policy *p)
{
	const struct vouch_rules *rules = p->rules;
	int64_t now = time(NULL);
	int err = 0;

	for (uint32_t id = 0; !err && id < p->n_scopes; id++)
		err = id < rules->n_scopes ? compile_scope(p, id) :
		      compile_container_scope(p, id);
	for (size_t i = 0; !err && i < rules->n_exceptions; i++)
		err = compile_exception(p, &rules->exceptions[i], now);
	return err;
}

/* An entry's prefix in the kernel's terms: family and masked address. */
struct prefix {
	uint32_t scope_id;
	uint32_t family;
	uint32_t len;		/* prefix bits of the family's address */
	uint8_t addr[16];
	size_t entry;		/* index in p->egress */
};

static void to_prefix(const struct policy_egress *pe, size_t entry,
		      struct prefix *out)
{
	const struct allowlist_egress *e = &pe->e;
	uint32_t bytes;

	memset(out, 0, sizeof(*out));
	out->scope_id = pe->scope_id;
	out->entry = entry;
	if (egress__is_ipv4(e)) {
		out->family = VOUCH_FAMILY_IPV4;
		out->len = e->prefix_len - 96U;
		memcpy(out->addr, e->addr + 12, 4);
	} else {
		out->family = VOUCH_FAMILY_IPV6;
		out->len = e->prefix_len;
		memcpy(out->addr, e->addr, 16);
	}
	/* host bits are cleared so that equal prefixes compare equal */
	bytes = out->len / 8;
	if (out->len % 8)
		out->addr[bytes++] &= (uint8_t)(0xff << (8 - out->len % 8));
	memset(out->addr + bytes, 0, sizeof(out->addr) - bytes);
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct prefix *x = a, *y = b;
	int c;

	if (x->scope_id != y->scope_id)
		return x->scope_id < y->scope_id ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

static int same_prefix(const struct prefix *x, const struct prefix *y)
{
	return x->scope_id == y->scope_id && x->family == y->family &&
	       x->len == y->len && !memcmp(x->addr, y->addr, sizeof(x->addr));
}

static int prefix_covers(const struct prefix *outer, const struct prefix *in)
{
	uint32_t whole = outer->len / 8, rest = outer->len % 8;

	if (outer->scope_id != in->scope_id || outer->family != in->family ||
	    outer->len > in->len || memcmp(outer->addr, in->addr, whole))
		return 0;
	return !rest || !((outer->addr[whole] ^ in->addr[whole]) &
			  (0xff << (8 - rest)));
}

/* Adds entry pe's range to rule unless an equal one is there. */
static int add_range(struct vouch_egress_rule *rule,
		     const struct policy_egress *pe)
{
	struct vouch_egress_range r = {
		.port_lo = pe->e.port_lo, .port_hi = pe->e.port_hi,
		.protocol = pe->e.protocol, .kind = (uint8_t)pe->kind,
		.rule_id = pe->rule_id,
	};

	for (uint32_t i = 0; i < rule->n; i++) {
		const struct vouch_egress_range *o = &rule->r[i];

		if (o->port_lo == r.port_lo && o->port_hi == r.port_hi &&
		    o->protocol == r.protocol && o->kind == r.kind)
			return 0;
	}
	if (rule->n == VOUCH_EGRESS_RANGES)
		return -E2BIG;
	rule->r[rule->n++] = r;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct vouch_egress_range *x = a, *y = b;

	/* deny first, then allow, then exceptions; rule order within */
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->rule_id < y->rule_id ? -1 : x->rule_id > y->rule_id;
}

/*
 * The value of the prefix group starting at sorted[g]: its own ranges and
 * those of every prefix on the stack, which are the ones covering it.
 */
static int fill_value(const struct policy *p, const struct prefix *sorted,
		      size_t n, size_t g, const size_t *stack, size_t depth,
		      struct policy_egress_prefix *out)
{
	struct vouch_egress_rule *rule = &out->rule;
	const struct prefix *pre = &sorted[g];
	int err = 0;

	memset(out, 0, sizeof(*out));
	out->key.prefixlen = VOUCH_EGRESS_KEY_HEADER_BITS + pre->len;
	out->key.gen = p->gen;
	out->key.scope_id = pre->scope_id;
	out->key.family = pre->family;
	memcpy(out->key.addr, pre->addr, sizeof(out->key.addr));
	for (size_t s = 0; !err && s < depth; s++)
		for (size_t i = stack[s]; !err && i < n &&
		     same_prefix(&sorted[i], &sorted[stack[s]]); i++)
			err = add_range(rule, &p->egress[sorted[i].entry]);
	for (size_t i = g; !err && i < n && same_prefix(&sorted[i], pre); i++)
		err = add_range(rule, &p->egress[sorted[i].entry]);
	qsort(rule->r, rule->n, sizeof(rule->r[0]), range_cmp);
	return err;
}

static void log_too_many(const struct policy *p, const struct prefix *pre)
{
	const struct policy_egress *pe = &p->egress[pre->entry];

	log_error("policy: more than %d port ranges apply to %.*s in scope '%s'; merge some entries",
		  VOUCH_EGRESS_RANGES, (int)strcspn(pe->text, " "), pe->text,
		  policy__scope_name(p, pre->scope_id));
}

static int build(struct policy *p, struct prefix *sorted, size_t n,
		 size_t *stack)
{
	size_t depth = 0;
	int err;

	for (size_t g = 0; g < n; g++) {
		if (g && same_prefix(&sorted[g], &sorted[g - 1]))
			continue;
		while (depth && !prefix_covers(&sorted[stack[depth - 1]],
					       &sorted[g]))
			depth--;
		err = fill_value(p, sorted, n, g, stack, depth,
				 &p->egress_map[p->n_egress_map]);
		if (err) {
			log_too_many(p, &sorted[g]);
			return err;
		}
		p->n_egress_map++;
		stack[depth++] = g;
	}
	return 0;
}

int policy__build_egress(struct policy *p)
{
	struct prefix *sorted;
	size_t *stack;
	int err = -ENOMEM;

	free(p->egress_map);
	p->egress_map = NULL;
	p->n_egress_map = 0;
	if (!p->n_egress)
		return 0;
	sorted = calloc(p->n_egress, sizeof(*sorted));
	stack = calloc(p->n_egress, sizeof(*stack));
	p->egress_map = calloc(p->n_egress, sizeof(*p->egress_map));
	if (!sorted || !stack || !p->egress_map)
		goto out;
	for (size_t i = 0; i < p->n_egress; i++)
		to_prefix(&p->egress[i], i, &sorted[i]);
	qsort(sorted, p->n_egress, sizeof(*sorted), prefix_cmp);
	err = build(p, sorted, p->n_egress, stack);
	/* two generations share the trie between swaps */
	if (!err && p->n_egress_map > VOUCH_MAX_EGRESS_PREFIXES / 2) {
		log_error("policy: %zu egress prefixes; the limit is %d",
			  p->n_egress_map, VOUCH_MAX_EGRESS_PREFIXES / 2);
		err = -E2BIG;
	}
out:
	free(sorted);
	free(stack);
	return err;
}

void policy__free_egress(struct policy *p)
{
	for (size_t i = 0; i < p->n_egress; i++)
		free(p->egress[i].text);
	free(p->egress);
	free(p->egress_map);
	p->egress = NULL;
	p->egress_map = NULL;
	p->n_egress = p->n_egress_map = 0;
}
