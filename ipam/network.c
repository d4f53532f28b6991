/* network.c — leafnet networks: validation, JSON form, and their records in
 * the store ("networks/<name>").  Creating and deleting a network runs under
 * the network's IPAM lock (deletion must not race an allocation) and
 * creation also under "networks" (the subnet overlap check must not race
 * another creation).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cJSON.h>

#include "dbuf.h"
#include "err.h"
#include "json.h"
#include "leafnet.h"
#include "store.h"
#include "network.h"
#include "ipam_private.h"

#define SUBNET4_MIN 8
#define SUBNET4_MAX 30
#define SUBNET6_MIN 48
#define SUBNET6_MAX 126
#define BLOCK4_MIN  20
#define BLOCK4_MAX  32
#define BLOCK6_MIN  112
#define BLOCK6_MAX  128

bool
network_name_valid(const char *name)
{
	size_t len;

	if (!name || !name[0])
		return false;
	len = strlen(name);
	if (len >= LEAFNET_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

void
network_init(struct network *n)
{
	memset(n, 0, sizeof(*n));
	n->routable = true;
	n->nat_outgoing = false;
	n->aggregate = true;
	n->block_size4 = NETWORK_BLOCK4_DEFAULT;
	n->block_size6 = NETWORK_BLOCK6_DEFAULT;
}

const struct network_subnet *
network_subnet_for(const struct network *n, int family)
{
	for (size_t i = 0; i < n->n_subnets && i < NETWORK_MAX_SUBNETS; i++)
		if (n->subnets[i].cidr.addr.family == family)
			return &n->subnets[i];
	return NULL;
}

int
community_parse(const char *s, uint32_t *ret)
{
	unsigned long a, b;
	char *end;

	if (!s || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	a = strtoul(s, &end, 10);
	if (errno || *end != ':' || a > 65535 || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	b = strtoul(end + 1, &end, 10);
	if (errno || *end != '\0' || b > 65535)
		return -EINVAL;
	*ret = (uint32_t)((a << 16) | b);
	return 0;
}

const char *
community_fmt(uint32_t c, char *buf, size_t size)
{
	snprintf(buf, size, "%u:%u", (unsigned)(c >> 16), (unsigned)(c & 0xffff));
	return buf;
}

static int
subnet_validate(const struct network_subnet *sn, struct lf_err *reterr)
{
	char pbuf[PREFIX_STRLEN], abuf[IPADDR_STRLEN], mbuf[PREFIX_STRLEN];
	int fam = sn->cidr.addr.family;
	unsigned lo = fam == AF_INET ? SUBNET4_MIN : SUBNET6_MIN;
	unsigned hi = fam == AF_INET ? SUBNET4_MAX : SUBNET6_MAX;
	struct prefix masked = sn->cidr;
	struct ipaddr x;

	if (fam != AF_INET && fam != AF_INET6)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--subnet is not an IPv4 or IPv6 prefix; "
				  "write it as 10.1.0.0/16 or fd00:1::/64");
	prefix_fmt(&sn->cidr, pbuf, sizeof(pbuf));
	prefix_mask(&masked);
	if (!prefix_eq(&masked, &sn->cidr))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--subnet %s has host bits set; did you mean --subnet %s?",
				  pbuf, prefix_fmt(&masked, mbuf, sizeof(mbuf)));
	if (sn->cidr.len < lo || sn->cidr.len > hi)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--subnet %s: %s subnets must be /%u to /%u; "
				  "give a prefix length in that range",
				  pbuf, fam == AF_INET ? "IPv4" : "IPv6", lo, hi);
	if (!ipaddr_is_set(&sn->gateway))
		return 0;
	ipaddr_fmt(&sn->gateway, abuf, sizeof(abuf));
	if (sn->gateway.family != fam || !prefix_contains(&sn->cidr, &sn->gateway))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--gateway %s is not inside --subnet %s; give a gateway "
				  "address from the subnet or leave --gateway out", abuf, pbuf);
	(void)prefix_nth(&sn->cidr, 0, &x);
	if (ipaddr_eq(&x, &sn->gateway))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--gateway %s is the network address of --subnet %s; "
				  "use a host address of the subnet", abuf, pbuf);
	prefix_last(&sn->cidr, &x);
	if (fam == AF_INET && ipaddr_eq(&x, &sn->gateway))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--gateway %s is the broadcast address of --subnet %s; "
				  "use a host address of the subnet", abuf, pbuf);
	return 0;
}

int
network_validate(struct network *n, struct lf_err *reterr)
{
	char p1[PREFIX_STRLEN], p2[PREFIX_STRLEN];
	int r;

	r = ipam_name_check(n->name, reterr);
	if (r < 0)
		return r;
	if (n->n_subnets == 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "network %s has no subnet; give one with --subnet "
				  "(e.g. --subnet=10.1.0.0/16)", n->name);
	if (n->n_subnets > NETWORK_MAX_SUBNETS)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "network %s: at most %d --subnet", n->name, NETWORK_MAX_SUBNETS);
	for (size_t i = 0; i < n->n_subnets; i++) {
		r = subnet_validate(&n->subnets[i], reterr);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (n->subnets[j].cidr.addr.family == n->subnets[i].cidr.addr.family)
				return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					"--subnet given twice for %s (%s and %s); a network has "
					"at most one IPv4 and one IPv6 subnet",
					n->subnets[i].cidr.addr.family == AF_INET ? "IPv4" : "IPv6",
					prefix_fmt(&n->subnets[j].cidr, p1, sizeof(p1)),
					prefix_fmt(&n->subnets[i].cidr, p2, sizeof(p2)));
	}
	if (n->block_size4 < BLOCK4_MIN || n->block_size4 > BLOCK4_MAX)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--block-size %u is out of range: IPv4 blocks are /%d to /%d "
				  "(default %d)", n->block_size4, BLOCK4_MIN, BLOCK4_MAX,
				  NETWORK_BLOCK4_DEFAULT);
	if (n->block_size6 < BLOCK6_MIN || n->block_size6 > BLOCK6_MAX)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--block-size %u is out of range for IPv6: blocks are /%d to "
				  "/%d (default %d)", n->block_size6, BLOCK6_MIN, BLOCK6_MAX,
				  NETWORK_BLOCK6_DEFAULT);
	/* A block cannot be larger than its subnet: a subnet smaller than the
	 * block size (say a /28 with the default /26) is one single block, so
	 * the block size becomes the subnet's length. */
	for (size_t i = 0; i < n->n_subnets; i++) {
		const struct prefix *p = &n->subnets[i].cidr;
		uint8_t *bs = p->addr.family == AF_INET ? &n->block_size4 : &n->block_size6;

		if (*bs < p->len)
			*bs = p->len;
	}
	if (n->n_communities > NETWORK_MAX_COMMUNITIES)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--community given %zu times; at most %d", n->n_communities,
				  NETWORK_MAX_COMMUNITIES);
	if (!n->routable && n->n_communities == 0)
		n->communities[n->n_communities++] = NETWORK_NONROUTABLE_COMMUNITY;
	n->created_by[sizeof(n->created_by) - 1] = '\0';
	n->encap[sizeof(n->encap) - 1] = '\0';
	return network_encap_check(n->encap, reterr);
}

int
network_encap_check(const char *encap, struct lf_err *reterr)
{
	static const char *const overlays[] = {
		"vxlan", "ipip", "ip-in-ip", "ipinip", "gre", "geneve", "overlay", "gue", NULL,
	};

	if (!encap || !encap[0] || strcmp(encap, "vlan") == 0 || strcmp(encap, "routed") == 0)
		return 0;
	for (size_t i = 0; overlays[i]; i++)
		if (strcasecmp(encap, overlays[i]) == 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "--encap=%s: leafnet builds no overlay, it routes each "
					  "workload address natively over BGP; leave --encap out or "
					  "give --encap=routed, and peer nodes with their ToR "
					  "('netctl bgp create') or the node mesh", encap);
	return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
			  "--encap=%s: unknown; leafnet routes natively: give "
			  "--encap=routed (or vlan, the same) or leave --encap out", encap);
}

char *
network_to_json(const struct network *n)
{
	char buf[PREFIX_STRLEN];
	cJSON *o, *subnets = NULL, *comms = NULL, *sub;
	char *text = NULL;
	bool ok;

	o = cJSON_CreateObject();
	if (!o)
		return NULL;
	ok = cJSON_AddStringToObject(o, "name", n->name) &&
	     (subnets = cJSON_AddArrayToObject(o, "subnets"));
	for (size_t i = 0; ok && i < n->n_subnets && i < NETWORK_MAX_SUBNETS; i++) {
		const struct network_subnet *sn = &n->subnets[i];

		ok = (sub = cJSON_CreateObject()) && cJSON_AddItemToArray(subnets, sub) &&
		     json_add_prefix(sub, "cidr", &sn->cidr);
		if (ok && ipaddr_is_set(&sn->gateway))
			ok = json_add_addr(sub, "gateway", &sn->gateway) != NULL;
	}
	ok = ok && cJSON_AddBoolToObject(o, "routable", n->routable) &&
	     cJSON_AddBoolToObject(o, "nat_outgoing", n->nat_outgoing) &&
	     cJSON_AddBoolToObject(o, "aggregate", n->aggregate) &&
	     cJSON_AddNumberToObject(o, "block_size4", n->block_size4) &&
	     cJSON_AddNumberToObject(o, "block_size6", n->block_size6) &&
	     (comms = cJSON_AddArrayToObject(o, "communities"));
	for (size_t i = 0; ok && i < n->n_communities && i < NETWORK_MAX_COMMUNITIES; i++) {
		cJSON *c = cJSON_CreateString(community_fmt(n->communities[i], buf, sizeof(buf)));
		ok = c && cJSON_AddItemToArray(comms, c);
	}
	ok = ok && cJSON_AddStringToObject(o, "created_by", n->created_by);
	if (ok && n->encap[0])
		ok = cJSON_AddStringToObject(o, "encap", n->encap) != NULL;
	if (ok)
		text = json_print(o);
	cJSON_Delete(o);
	return text;
}

static int
subnets_from_json(const cJSON *arr, struct network *n, struct lf_err *reterr)
{
	char ctx[32], buf[PREFIX_STRLEN];
	const cJSON *it;
	size_t i = 0;
	int r;

	cJSON_ArrayForEach(it, arr) {
		struct network_subnet *sn;

		if (i == NETWORK_MAX_SUBNETS)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "subnets: at most %d", NETWORK_MAX_SUBNETS);
		sn = &n->subnets[i];
		snprintf(ctx, sizeof(ctx), "subnets[%zu].", i);
		if (!cJSON_IsObject(it))
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "subnets[%zu]: expected an object", i);
		r = json_get_str(it, "cidr", buf, sizeof(buf), true, ctx, reterr);
		if (r < 0)
			return -EINVAL;
		if (prefix_parse(buf, 0, &sn->cidr) < 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%scidr: \"%s\" is not a prefix like 10.1.0.0/16", ctx, buf);
		r = json_get_str(it, "gateway", buf, sizeof(buf), false, ctx, reterr);
		if (r == -EINVAL)
			return r;
		if (r == 0 && buf[0] && ipaddr_parse(buf, &sn->gateway) < 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%sgateway: \"%s\" is not an IP address", ctx, buf);
		i++;
	}
	n->n_subnets = i;
	return 0;
}

int
network_from_json(const char *text, struct network *ret, struct lf_err *reterr)
{
	const cJSON *arr, *it;
	struct network n;
	uint32_t u;
	cJSON *o;
	int r;

	r = json_parse(text, &o, reterr);
	if (r < 0)
		return r;
	network_init(&n);
	r = -EINVAL;
	if (!cJSON_IsObject(o)) {
		(void)lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				 "network: expected a JSON object");
		goto out_free_json;
	}
	if (json_get_str(o, "name", n.name, sizeof(n.name), true, NULL, reterr) < 0)
		goto out_free_json;
	/* the name becomes part of store keys: a record is no way around
	 * the rule netctl enforces */
	if (!network_name_valid(n.name)) {
		(void)lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				 "name: \"%s\" is not a valid network name", n.name);
		goto out_free_json;
	}
	if (json_get_arr(o, "subnets", &arr, true, NULL, reterr) < 0 ||
	    subnets_from_json(arr, &n, reterr) < 0)
		goto out_free_json;
	if (json_get_bool(o, "routable", &n.routable, false, NULL, reterr) == -EINVAL ||
	    json_get_bool(o, "nat_outgoing", &n.nat_outgoing, false, NULL, reterr) == -EINVAL ||
	    json_get_bool(o, "aggregate", &n.aggregate, false, NULL, reterr) == -EINVAL)
		goto out_free_json;
	r = json_get_u32(o, "block_size4", &u, false, NULL, reterr);
	if (r == 0 && u > 32)
		r = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
			       "block_size4: %u is not a prefix length", u);
	if (r == -EINVAL)
		goto out_free_json;
	if (r == 0)
		n.block_size4 = (uint8_t)u;
	r = json_get_u32(o, "block_size6", &u, false, NULL, reterr);
	if (r == 0 && u > 128)
		r = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
			       "block_size6: %u is not a prefix length", u);
	if (r == -EINVAL)
		goto out_free_json;
	if (r == 0)
		n.block_size6 = (uint8_t)u;
	r = json_get_arr(o, "communities", &arr, false, NULL, reterr);
	if (r == -EINVAL)
		goto out_free_json;
	if (r == 0) {
		cJSON_ArrayForEach(it, arr) {
			if (n.n_communities == NETWORK_MAX_COMMUNITIES || !cJSON_IsString(it) ||
			    community_parse(it->valuestring, &n.communities[n.n_communities]) < 0) {
				r = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					       "communities: expected at most %d strings "
					       "\"A:B\" with A and B in 0..65535",
					       NETWORK_MAX_COMMUNITIES);
				goto out_free_json;
			}
			n.n_communities++;
		}
	}
	r = json_get_str(o, "created_by", n.created_by, sizeof(n.created_by), false,
			 NULL, reterr);
	if (r == -EINVAL)
		goto out_free_json;
	r = json_get_str(o, "encap", n.encap, sizeof(n.encap), false, NULL, reterr);
	if (r == -EINVAL)
		goto out_free_json;
	if (network_encap_check(n.encap, NULL) < 0) {
		r = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
			       "encap: \"%s\" is not \"vlan\" or \"routed\"", n.encap);
		goto out_free_json;
	}
	*ret = n;
	r = 0;
out_free_json:
	cJSON_Delete(o);
	return r;
}

int
network_get(struct store *s, const char *name, struct network *ret, struct lf_err *reterr)
{
	char key[IPAM_KEY_MAX], *text;
	struct network n;
	int r;

	r = ipam_name_check(name, reterr);
	if (r < 0)
		return r;
	snprintf(key, sizeof(key), "networks/%s", name);
	r = store_get(s, key, &text, reterr);
	if (r == -ENOENT)
		return lf_err_set(reterr, LF_E_NOT_FOUND, r,
				  "network %s not found; create it with "
				  "`netctl network create %s --subnet=CIDR`", name, name);
	if (r < 0 && !store_err_transient(r) && r != -ENOMEM)
		return store_err_set(reterr, LF_E_IO, r,
				     "network %s: record %s cannot be read; see `netctl ipam "
				     "check`, remove it with `netctl ipam repair %s`", name, key, key);
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "reading network %s (record %s)",
				     name, key);
	{
		struct lf_err pe = { 0 };

		r = network_from_json(text, &n, &pe);
		free(text);
		if (r < 0) {
			lf_err_set(reterr, LF_E_IO, r,
				   "network %s: record %s is damaged (%s); see `netctl ipam "
				   "check`, remove it with `netctl ipam repair %s` and create "
				   "the network again", name, key, pe.msg, key);
			return r;
		}
	}
	*ret = n;
	return 0;
}

static int
store_name_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A new network's subnets must not overlap any existing network's. */
static int
overlap_check(struct store *s, const struct network *n, struct lf_err *reterr)
{
	char p1[PREFIX_STRLEN], p2[PREFIX_STRLEN];
	struct network *all;
	size_t n_all;
	int r;

	r = network_list(s, &all, &n_all, reterr);
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "listing networks");
	for (size_t i = 0; i < n_all && r == 0; i++)
		for (size_t a = 0; a < n->n_subnets && r == 0; a++)
			for (size_t b = 0; b < all[i].n_subnets && r == 0; b++)
				if (prefix_overlaps(&n->subnets[a].cidr, &all[i].subnets[b].cidr))
					r = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
						"--subnet %s overlaps %s of network %s; "
						"pick a subnet no other network uses",
						prefix_fmt(&n->subnets[a].cidr, p1, sizeof(p1)),
						prefix_fmt(&all[i].subnets[b].cidr, p2, sizeof(p2)),
						all[i].name);
	free(all);
	return r;
}

int
network_create(struct store *s, const struct network *n, struct lf_err *reterr)
{
	struct store_lock *glock, *lock;
	char key[IPAM_KEY_MAX], *text;
	struct network v = *n;
	int r;

	r = network_validate(&v, reterr);
	if (r < 0)
		return r;
	r = store_lock(s, "networks", &glock, reterr);
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "cannot lock the networks");
	r = ipam_lock(s, v.name, &lock, reterr);
	if (r < 0)
		goto out_unlock_global;
	snprintf(key, sizeof(key), "networks/%s", v.name);
	if (store_get(s, key, &text, NULL) == 0) {
		free(text);
		r = lf_err_set(reterr, LF_E_INVALID, -EEXIST,
			       "network %s already exists", v.name);
		goto out_unlock;
	}
	r = overlap_check(s, &v, reterr);
	if (r < 0)
		goto out_unlock;
	/* leftovers of an earlier network of that name (a crashed delete) */
	r = ipam_purge_locked(s, v.name);
	if (r < 0) {
		(void)store_err_set(reterr, LF_E_IO, r,
				    "clearing old state of network %s", v.name);
		goto out_unlock;
	}
	text = network_to_json(&v);
	if (!text) {
		r = lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
		goto out_unlock;
	}
	r = store_create(s, key, text, reterr);
	free(text);
	if (r == -EEXIST)
		r = lf_err_set(reterr, LF_E_INVALID, -EEXIST,
			       "network %s already exists", v.name);
	else if (r < 0)
		r = store_err_set(reterr, LF_E_IO, r, "writing network %s", v.name);
out_unlock:
	store_unlock(lock);
out_unlock_global:
	store_unlock(glock);
	return r;
}

static bool
communities_eq(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

int
network_update(struct store *s, const char *name, const struct network_update *u,
	       struct network *ret, struct lf_err *reterr)
{
	char key[IPAM_KEY_MAX], *text;
	struct store_lock *lock;
	struct network old, n;
	int r;

	r = ipam_name_check(name, reterr);
	if (r < 0)
		return r;
	if (u->n_communities > NETWORK_MAX_COMMUNITIES)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--community given %zu times; at most %d", u->n_communities,
				  NETWORK_MAX_COMMUNITIES);
	r = ipam_lock(s, name, &lock, reterr);
	if (r < 0)
		return r;
	r = network_get(s, name, &old, reterr);
	if (r < 0)
		goto out_unlock;
	n = old;
	if (u->set & NETWORK_UPD_NAT)
		n.nat_outgoing = u->nat_outgoing;
	if (u->set & NETWORK_UPD_AGGREGATE)
		n.aggregate = u->aggregate;
	if (u->set & NETWORK_UPD_COMMUNITIES) {
		n.n_communities = u->n_communities;
		memcpy(n.communities, u->communities, u->n_communities * sizeof(u->communities[0]));
	}
	if (u->set & NETWORK_UPD_ROUTABLE) {
		n.routable = u->routable;
		/* the default community marks a non-routable network: it goes
		 * when the network becomes routable, unless given again */
		if (n.routable && !old.routable && !(u->set & NETWORK_UPD_COMMUNITIES) &&
		    n.n_communities == 1 && n.communities[0] == NETWORK_NONROUTABLE_COMMUNITY)
			n.n_communities = 0;
	}
	r = network_validate(&n, reterr);
	if (r < 0)
		goto out_unlock;
	if (n.nat_outgoing == old.nat_outgoing && n.routable == old.routable &&
	    n.aggregate == old.aggregate &&
	    communities_eq(n.communities, n.n_communities, old.communities, old.n_communities)) {
		r = 1;
		goto out_done;
	}
	text = network_to_json(&n);
	if (!text) {
		r = lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
		goto out_unlock;
	}
	snprintf(key, sizeof(key), "networks/%s", name);
	r = store_put(s, key, text, reterr);
	free(text);
	if (r < 0) {
		r = store_err_set(reterr, LF_E_IO, r, "writing network %s", name);
		goto out_unlock;
	}
	r = 0;
out_done:
	if (ret)
		*ret = n;
out_unlock:
	store_unlock(lock);
	return r;
}

int
network_list_ex(struct store *s, struct network **ret, size_t *ret_n, char ***ret_broken,
		size_t *ret_n_broken, struct lf_err *reterr)
{
	struct network *v = NULL;
	char **names, **dirs = NULL, **bad = NULL;
	size_t n_names, n_dirs = 0, n = 0, n_bad = 0, cap_bad = 0;
	int r;

	r = store_list(s, "networks", &names, &n_names, reterr);
	if (r < 0)
		return r;
	/* a directory where a network's record belongs is a damaged one */
	if (ret_broken != NULL && (r = store_list_dirs(s, "networks", &dirs, &n_dirs,
						       reterr)) < 0)
		goto out_free;
	if (n_names > 0 && !(v = calloc(n_names, sizeof(*v)))) {
		r = -ENOMEM;
		goto out_free;
	}
	for (size_t i = 0; i < n_names + n_dirs; i++) {
		const char *name = i < n_names ? names[i] : dirs[i - n_names];
		struct lf_err e = { 0 };

		r = i < n_names ? network_get(s, name, &v[n], &e) : -EISDIR;
		if (r == 0) {
			n++;
		} else if (r == -ENOENT) {
			r = 0;
		} else if (store_err_transient(r) || r == -ENOMEM) {
			/* I/O: give up, with what the store said */
			if (reterr != NULL && reterr->code == 0 && e.details[0] != '\0')
				lf_err_details(reterr, "%s", e.details);
			break;
		} else {
			/* damaged: reported (or skipped) */
			r = 0;
			if (ret_broken == NULL || !network_name_valid(name))
				continue;
			if (GROW(bad, cap_bad, n_bad + 1) < 0 ||
			    (bad[n_bad] = strdup(name)) == NULL) {
				r = -ENOMEM;
				break;
			}
			n_bad++;
		}
	}
	if (r < 0)
		goto out_free;
	if (bad != NULL && n_bad > 1)
		qsort(bad, n_bad, sizeof(*bad), store_name_cmp_str);
	*ret = v;		/* store_list sorts, so this is by name */
	*ret_n = n;
	v = NULL;
	if (ret_broken != NULL) {
		*ret_broken = bad;
		*ret_n_broken = n_bad;
		bad = NULL;
		n_bad = 0;
	}
out_free:
	free(v);
	store_names_free(bad, n_bad);
	store_names_free(dirs, n_dirs);
	store_names_free(names, n_names);
	return r;
}

int
network_list(struct store *s, struct network **ret, size_t *ret_n, struct lf_err *reterr)
{
	return network_list_ex(s, ret, ret_n, NULL, NULL, reterr);
}

int
network_delete(struct store *s, const char *name, bool force, struct lf_err *reterr)
{
	char key[IPAM_KEY_MAX], *text;
	struct store_lock *lock;
	size_t n_alloc;
	int r;

	r = ipam_name_check(name, reterr);
	if (r < 0)
		return r;
	r = ipam_lock(s, name, &lock, reterr);
	if (r < 0)
		return r;
	snprintf(key, sizeof(key), "networks/%s", name);
	r = store_get(s, key, &text, NULL);
	if (r == -ENOENT) {
		r = lf_err_set(reterr, LF_E_NOT_FOUND, r, "network %s not found", name);
		goto out_unlock;
	}
	if (r < 0)
		goto out_io;
	free(text);
	r = ipam_count_locked(s, name, &n_alloc);
	if (r < 0)
		goto out_io;
	if (n_alloc > 0 && !force) {
		r = lf_err_set(reterr, LF_E_BUSY, -EBUSY,
			       "network %s has %zu live allocation%s; release them or use --force",
			       name, n_alloc, n_alloc == 1 ? "" : "s");
		goto out_unlock;
	}
	/* The record first, then the state.  ADDs take no network lock
	 * (ipam.c): each compares this record's version in its commit's txn,
	 * so once it is gone no ADD that read it can commit, and the purge
	 * below sees every allocation there will be.  (The other way round an
	 * ADD committing after the purge would leave an allocation behind.)
	 * A crash in between leaves state without a network: network_create()
	 * purges such leftovers before it creates the name again. */
	r = store_delete(s, key, reterr);
	if (r == -ENOENT)
		r = 0;
	if (r >= 0)
		r = ipam_purge_locked(s, name);
	if (r < 0)
		goto out_io;
	r = 0;
	goto out_unlock;

out_io:
	(void)store_err_set(reterr, LF_E_IO, r, "deleting network %s", name);
out_unlock:
	store_unlock(lock);
	return r;
}

void
network_gateway(int family, const struct ipaddr *gw, struct ipaddr *ret)
{
	if (gw != NULL && ipaddr_is_set(gw) && gw->family == family) {
		*ret = *gw;
		return;
	}
	(void)ipaddr_parse(family == AF_INET ? LEAFNET_GW4_DEFAULT : LEAFNET_GW6_DEFAULT, ret);
}
