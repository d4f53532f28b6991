/* rib.c — the local RIB: every workload route leafnet put in the kernel
 * (rtm_protocol LEAFNET_RTPROT), what we advertise for it, and the
 * per-host block aggregates.
 *
 * Memory and speed: one compact 48-byte entry per kernel route in a slab
 * array, found through a hash of the prefix (hash_fnv1a32; the chains are
 * 32-bit indices into the slab, not lib/hash.h's pointers, because the
 * slab moves when it grows and an index costs half a pointer); a second index maps an
 * ifindex to its routes (a doubly linked list through the entries) because
 * IPv4 routes vanish without a RTM_DELROUTE when their link goes down.
 * Every change is O(1) expected; 100,000 routes take ~5 MB.
 *
 * What is advertised (the simplest correct rule):
 *   - a block claimed by this node in a network with "aggregate" on is
 *     advertised as one prefix (ld_export.aggregate) while at least one
 *     local route lies inside it, and the routes inside it are not;
 *   - every other local route (borrowed addresses, networks without
 *     aggregation, prefixes in no known network) is advertised as is;
 *   - routes of non-routable networks carry the network's communities.
 * Every change of that set reaches the BGP side at once as a LOCAL_ADV or
 * LOCAL_WD message (msg.h) on d->to_bgp; a LOCAL_DUMP_REQ is answered
 * with the whole set (rib_dump()).
 *
 * Networks and blocks come from the store, cached; re-read every
 * RIB_REFRESH_PERIOD, and sooner (at most every RIB_REFRESH_MIN) when a
 * route shows up that the cache cannot place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dbuf.h"
#include "hash.h"
#include "ipam.h"
#include "ld_local.h"
#include "log.h"
#include "network.h"

#define RIB_NONE		UINT32_MAX
#define RIB_NET_NONE		UINT16_MAX
#define RIB_REFRESH_MIN		200	/* ms between two store reads */
#define RIB_REFRESH_PERIOD	10000	/* ms: networks change without notice */
#define RIB_BLOCK_LENS		8

#define RE_USED	(1U << 0)
#define RE_ADV	(1U << 1)		/* advertised on its own */

struct rib_entry {
	uint8_t  addr[16];
	uint8_t  family;
	uint8_t  len;
	uint8_t  flags;
	uint8_t  pad;
	int32_t  ifindex;
	uint32_t hnext;			/* hash chain; free list when unused */
	uint32_t if_prev, if_next;	/* routes of the same ifindex */
	uint32_t gen;
	uint32_t block;			/* index into blocks, RIB_NONE */
	uint16_t net;			/* index into nets, RIB_NET_NONE */
	uint16_t pad2;
};

struct rib_block {
	struct prefix cidr;
	uint16_t net;
	bool adv;
	uint32_t count;			/* local routes inside */
	uint32_t hnext;
};

struct rib_ifslot {
	int32_t ifindex;		/* 0 = empty */
	uint32_t head;
};

struct rib {
	struct ld *d;
	struct rib_entry *ents;
	size_t n_ents, cap_ents, n_used;
	uint32_t free_head;
	uint32_t *buckets;
	size_t n_buckets;		/* power of two */
	struct rib_ifslot *ifmap;
	size_t ifmap_cap, ifmap_used;	/* cap: power of two */

	struct network *nets;
	size_t n_nets;
	struct rib_block *blocks;
	size_t n_blocks;
	uint32_t *bbuckets;
	size_t n_bbuckets;
	uint8_t blens[2][RIB_BLOCK_LENS];	/* distinct block lengths per family */
	size_t n_blens[2];
	size_t n_exported;

	bool fixed;			/* sources set by rib_set_sources() */
	uint64_t last_refresh, refresh_due, next_periodic;
};

/* ---- hashing ---------------------------------------------------------- */

static uint32_t
pfx_hash(const uint8_t *a, int family, unsigned len)
{
	uint8_t fl[2] = { (uint8_t)family, (uint8_t)len };
	uint32_t h = hash_fnv1a32(HASH_FNV32_INIT, fl, sizeof(fl));

	return hash_finish32(hash_fnv1a32(h, a, ipaddr_len(family)));
}

static void
ent_prefix(const struct rib_entry *e, struct prefix *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->addr.family = e->family;
	memcpy(ret->addr.u.b, e->addr, 16);
	ret->len = e->len;
}

static int
rib_rehash(struct rib *r, size_t n)
{
	uint32_t *b = malloc(n * sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	memset(b, 0xff, n * sizeof(*b));
	for (size_t i = 0; i < r->n_ents; i++) {
		struct rib_entry *e = &r->ents[i];
		uint32_t h;

		if (!(e->flags & RE_USED))
			continue;
		h = pfx_hash(e->addr, e->family, e->len) & (n - 1);
		e->hnext = b[h];
		b[h] = (uint32_t)i;
	}
	free(r->buckets);
	r->buckets = b;
	r->n_buckets = n;
	return 0;
}

static uint32_t
rib_find(const struct rib *r, const struct prefix *p)
{
	uint32_t i;

	if (r->n_buckets == 0)
		return RIB_NONE;
	i = r->buckets[pfx_hash(p->addr.u.b, p->addr.family, p->len) & (r->n_buckets - 1)];
	for (; i != RIB_NONE; i = r->ents[i].hnext) {
		const struct rib_entry *e = &r->ents[i];

		if (e->family == p->addr.family && e->len == p->len &&
		    memcmp(e->addr, p->addr.u.b, 16) == 0)
			return i;
	}
	return RIB_NONE;
}

/* ---- ifindex index (open addressing, backward-shift deletion) --------- */

static size_t
if_slot(const struct rib *r, int32_t ifindex)
{
	size_t m = r->ifmap_cap - 1, i = ((uint32_t)ifindex * 2654435761u) & m;

	while (r->ifmap[i].ifindex != 0 && r->ifmap[i].ifindex != ifindex)
		i = (i + 1) & m;
	return i;
}

static int
if_grow(struct rib *r)
{
	struct rib_ifslot *old = r->ifmap;
	size_t oldcap = r->ifmap_cap, cap = oldcap ? oldcap * 2 : 64;

	r->ifmap = calloc(cap, sizeof(*r->ifmap));
	if (r->ifmap == NULL) {
		r->ifmap = old;
		return -ENOMEM;
	}
	r->ifmap_cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].ifindex != 0)
			r->ifmap[if_slot(r, old[i].ifindex)] = old[i];
	free(old);
	return 0;
}

static void
if_remove_slot(struct rib *r, size_t i)
{
	size_t m = r->ifmap_cap - 1, j = i;

	r->ifmap[i].ifindex = 0;
	r->ifmap_used--;
	for (;;) {
		size_t k;

		j = (j + 1) & m;
		if (r->ifmap[j].ifindex == 0)
			return;
		k = ((uint32_t)r->ifmap[j].ifindex * 2654435761u) & m;
		/* move j back to i unless its home k lies cyclically in (i, j] */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		r->ifmap[i] = r->ifmap[j];
		r->ifmap[j].ifindex = 0;
		i = j;
	}
}

static int
if_link(struct rib *r, uint32_t idx)
{
	struct rib_entry *e = &r->ents[idx];
	size_t s;

	e->if_prev = e->if_next = RIB_NONE;
	if (e->ifindex <= 0)
		return 0;
	if ((r->ifmap_used + 1) * 4 > r->ifmap_cap * 3 && if_grow(r) < 0)
		return -ENOMEM;
	s = if_slot(r, e->ifindex);
	if (r->ifmap[s].ifindex == 0) {
		r->ifmap[s].ifindex = e->ifindex;
		r->ifmap[s].head = RIB_NONE;
		r->ifmap_used++;
	}
	e->if_next = r->ifmap[s].head;
	if (e->if_next != RIB_NONE)
		r->ents[e->if_next].if_prev = idx;
	r->ifmap[s].head = idx;
	return 0;
}

static void
if_unlink(struct rib *r, uint32_t idx)
{
	struct rib_entry *e = &r->ents[idx];
	size_t s;

	if (e->ifindex <= 0 || r->ifmap_cap == 0)
		return;
	if (e->if_prev != RIB_NONE) {
		r->ents[e->if_prev].if_next = e->if_next;
	} else {
		s = if_slot(r, e->ifindex);
		if (r->ifmap[s].ifindex == e->ifindex)
			r->ifmap[s].head = e->if_next;
		if (e->if_next == RIB_NONE && r->ifmap[s].ifindex == e->ifindex)
			if_remove_slot(r, s);
	}
	if (e->if_next != RIB_NONE)
		r->ents[e->if_next].if_prev = e->if_prev;
	e->if_prev = e->if_next = RIB_NONE;
}

/* ---- networks and blocks ---------------------------------------------- */

static int
fam_idx(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

static uint16_t
net_find(const struct network *nets, size_t n, const struct prefix *p)
{
	for (size_t i = 0; i < n && i < RIB_NET_NONE; i++)
		for (size_t k = 0; k < nets[i].n_subnets; k++)
			if (prefix_contains_prefix(&nets[i].subnets[k].cidr, p))
				return (uint16_t)i;
	return RIB_NET_NONE;
}

static uint32_t
block_find(const struct rib *r, const struct prefix *p)
{
	int f = fam_idx(p->addr.family);

	if (r->n_bbuckets == 0)
		return RIB_NONE;
	for (size_t l = 0; l < r->n_blens[f]; l++) {
		struct prefix m = *p;
		uint32_t i;

		if (r->blens[f][l] > p->len)
			continue;
		m.len = r->blens[f][l];
		prefix_mask(&m);
		i = r->bbuckets[pfx_hash(m.addr.u.b, m.addr.family, m.len) & (r->n_bbuckets - 1)];
		for (; i != RIB_NONE; i = r->blocks[i].hnext)
			if (prefix_eq(&r->blocks[i].cidr, &m))
				return i;
	}
	return RIB_NONE;
}

/* Index this node's blocks of networks that aggregate. */
static int
blocks_index(struct rib *r)
{
	size_t nb = 16;

	while (nb < r->n_blocks * 2)
		nb *= 2;
	free(r->bbuckets);
	r->bbuckets = malloc(nb * sizeof(*r->bbuckets));
	if (r->bbuckets == NULL) {
		r->n_bbuckets = 0;
		return -ENOMEM;
	}
	memset(r->bbuckets, 0xff, nb * sizeof(*r->bbuckets));
	r->n_bbuckets = nb;
	r->n_blens[0] = r->n_blens[1] = 0;
	for (size_t i = 0; i < r->n_blocks; i++) {
		struct rib_block *b = &r->blocks[i];
		int f = fam_idx(b->cidr.addr.family);
		uint32_t h = pfx_hash(b->cidr.addr.u.b, b->cidr.addr.family, b->cidr.len) & (nb - 1);
		bool seen = false;

		b->hnext = r->bbuckets[h];
		r->bbuckets[h] = (uint32_t)i;
		for (size_t l = 0; l < r->n_blens[f]; l++)
			seen |= r->blens[f][l] == b->cidr.len;
		if (!seen && r->n_blens[f] < RIB_BLOCK_LENS)
			r->blens[f][r->n_blens[f]++] = b->cidr.len;
	}
	return 0;
}

/* Keep the blocks of `node` that lie in a network with aggregate on. */
static void
blocks_filter(struct rib *r, const char *node)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n_blocks; i++) {
		struct rib_block b = r->blocks[i];

		if (b.net == RIB_NET_NONE || !r->nets[b.net].aggregate ||
		    (node != NULL && b.hnext == 1))	/* hnext: 1 = other node */
			continue;
		b.count = 0;
		b.adv = false;
		r->blocks[k++] = b;
	}
	r->n_blocks = k;
}

/* ---- export ----------------------------------------------------------- */

static void
export_for(const struct network *nets, size_t n_nets, uint16_t net, int family,
	   bool aggregate, struct ld_export *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->family = family;
	ret->aggregate = aggregate;
	if (net == RIB_NET_NONE || net >= n_nets || nets[net].routable)
		return;
	ret->n_communities = nets[net].n_communities;
	if (ret->n_communities > 8)
		ret->n_communities = 8;
	memcpy(ret->communities, nets[net].communities,
	       ret->n_communities * sizeof(uint32_t));
}

static bool
export_eq(const struct ld_export *a, const struct ld_export *b)
{
	return a->family == b->family && a->aggregate == b->aggregate &&
	       a->n_communities == b->n_communities &&
	       memcmp(a->communities, b->communities, a->n_communities * sizeof(uint32_t)) == 0;
}

static void
announce(struct rib *r, const struct prefix *p, const struct ld_export *e)
{
	if (msgq_put_local(&r->d->to_bgp, 0, p, e) < 0)
		log_warnx("local RIB: out of memory telling the BGP side");
}

static void
block_ref(struct rib *r, uint32_t b)
{
	struct ld_export e;

	if (b == RIB_NONE)
		return;
	if (r->blocks[b].count++ == 0) {
		export_for(r->nets, r->n_nets, r->blocks[b].net, r->blocks[b].cidr.addr.family,
			   true, &e);
		r->blocks[b].adv = true;
		r->n_exported++;
		announce(r, &r->blocks[b].cidr, &e);
	}
}

static void
block_unref(struct rib *r, uint32_t b)
{
	if (b == RIB_NONE || r->blocks[b].count == 0)
		return;
	if (--r->blocks[b].count == 0) {
		r->blocks[b].adv = false;
		r->n_exported--;
		announce(r, &r->blocks[b].cidr, NULL);
	}
}

/* Place a fresh entry and advertise it (or its block). */
static void
entry_apply(struct rib *r, uint32_t idx)
{
	struct rib_entry *e = &r->ents[idx];
	struct ld_export ex;
	struct prefix p;

	ent_prefix(e, &p);
	e->block = block_find(r, &p);
	if (e->block != RIB_NONE) {
		block_ref(r, e->block);
		return;
	}
	export_for(r->nets, r->n_nets, e->net, e->family, false, &ex);
	e->flags |= RE_ADV;
	r->n_exported++;
	announce(r, &p, &ex);
}

static void
entry_withdraw(struct rib *r, uint32_t idx)
{
	struct rib_entry *e = &r->ents[idx];
	struct prefix p;

	if (e->flags & RE_ADV) {
		ent_prefix(e, &p);
		e->flags &= ~RE_ADV;
		r->n_exported--;
		announce(r, &p, NULL);
	}
	block_unref(r, e->block);
	e->block = RIB_NONE;
}

/* ---- refresh ---------------------------------------------------------- */

/* Re-evaluate every entry against (new) nets and blocks, emitting only
 * the differences.  old_* describe what was advertised. */
static void
rib_reevaluate(struct rib *r, const struct network *old_nets, size_t n_old_nets,
	       const struct rib_block *old_blocks, size_t n_old_blocks)
{
	struct ld_export oe, ne;
	struct prefix p;

	/* routes first: new blocks get their counts */
	for (size_t i = 0; i < r->n_ents; i++) {
		struct rib_entry *e = &r->ents[i];
		uint16_t onet = e->net;
		bool oadv = e->flags & RE_ADV;

		if (!(e->flags & RE_USED))
			continue;
		ent_prefix(e, &p);
		e->net = net_find(r->nets, r->n_nets, &p);
		e->block = block_find(r, &p);
		if (e->block != RIB_NONE) {
			r->blocks[e->block].count++;
			if (oadv) {
				e->flags &= ~RE_ADV;
				r->n_exported--;
				announce(r, &p, NULL);
			}
			continue;
		}
		export_for(r->nets, r->n_nets, e->net, e->family, false, &ne);
		export_for(old_nets, n_old_nets, onet, e->family, false, &oe);
		if (!oadv) {
			e->flags |= RE_ADV;
			r->n_exported++;
			announce(r, &p, &ne);
		} else if (!export_eq(&oe, &ne)) {
			announce(r, &p, &ne);
		}
	}
	/* blocks that went away or emptied */
	for (size_t i = 0; i < n_old_blocks; i++) {
		uint32_t b;

		if (!old_blocks[i].adv)
			continue;
		b = block_find(r, &old_blocks[i].cidr);
		if (b == RIB_NONE || !prefix_eq(&r->blocks[b].cidr, &old_blocks[i].cidr) ||
		    r->blocks[b].count == 0) {
			r->n_exported--;
			announce(r, &old_blocks[i].cidr, NULL);
		}
	}
	/* blocks that are (still) advertised */
	for (size_t i = 0; i < r->n_blocks; i++) {
		struct rib_block *b = &r->blocks[i];
		bool was = false;
		uint16_t onet = RIB_NET_NONE;

		if (b->count == 0)
			continue;
		for (size_t k = 0; k < n_old_blocks; k++)
			if (old_blocks[k].adv && prefix_eq(&old_blocks[k].cidr, &b->cidr)) {
				was = true;
				onet = old_blocks[k].net;
			}
		b->adv = true;
		export_for(r->nets, r->n_nets, b->net, b->cidr.addr.family, true, &ne);
		export_for(old_nets, n_old_nets, onet, b->cidr.addr.family, true, &oe);
		if (!was)
			r->n_exported++;
		if (!was || !export_eq(&oe, &ne))
			announce(r, &b->cidr, &ne);
	}
}

/* Take new sources (ownership of the arrays) and re-evaluate. */
static void
rib_install_sources(struct rib *r, struct network *nets, size_t n_nets,
		    struct rib_block *blocks, size_t n_blocks, const char *node)
{
	struct network *old_nets = r->nets;
	struct rib_block *old_blocks = r->blocks;
	size_t n_old_nets = r->n_nets, n_old_blocks = r->n_blocks;

	r->nets = nets;
	r->n_nets = n_nets;
	r->blocks = blocks;
	r->n_blocks = n_blocks;
	for (size_t i = 0; i < r->n_blocks; i++)
		r->blocks[i].net = net_find(nets, n_nets, &r->blocks[i].cidr);
	blocks_filter(r, node);
	if (blocks_index(r) < 0)
		r->n_blocks = 0;
	rib_reevaluate(r, old_nets, n_old_nets, old_blocks, n_old_blocks);
	free(old_nets);
	free(old_blocks);
}

static int
rib_load_store(struct rib *r)
{
	struct network *nets = NULL;
	struct rib_block *blocks = NULL;
	size_t n_nets = 0, n_blocks = 0, cap = 0;
	const char *node = r->d->conf.base.node_name;
	int ret;

	if (r->d->store == NULL)
		return 0;		/* no store (tests): nothing to place routes with */
	ret = network_list(r->d->store, &nets, &n_nets, NULL);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n_nets; i++) {
		struct ipam_block *ib = NULL;
		size_t n = 0;

		if (!nets[i].aggregate)
			continue;
		if (ipam_blocks(r->d->store, nets[i].name, &ib, &n) < 0)
			continue;
		for (size_t k = 0; k < n; k++) {
			if (GROW(blocks, cap, n_blocks + 1) < 0)
				break;
			memset(&blocks[n_blocks], 0, sizeof(*blocks));
			blocks[n_blocks].cidr = ib[k].cidr;
			/* hnext carries "someone else's" until blocks_filter() */
			blocks[n_blocks].hnext = strcmp(ib[k].node, node) != 0;
			n_blocks++;
		}
		free(ib);
	}
	nat_sync(r->d, nets, n_nets);		/* outbound SNAT follows the list */
	rib_install_sources(r, nets, n_nets, blocks, n_blocks, node);
	return 0;
}

void
rib_set_sources(struct rib *r, const struct network *nets, size_t n_nets,
		const struct ipam_block *blocks, size_t n_blocks, const char *node)
{
	struct network *nn = calloc(n_nets ? n_nets : 1, sizeof(*nn));
	struct rib_block *nb = calloc(n_blocks ? n_blocks : 1, sizeof(*nb));

	if (nn == NULL || nb == NULL) {
		free(nn);
		free(nb);
		return;
	}
	memcpy(nn, nets, n_nets * sizeof(*nn));
	for (size_t i = 0; i < n_blocks; i++) {
		nb[i].cidr = blocks[i].cidr;
		nb[i].hnext = strcmp(blocks[i].node, node) != 0;
	}
	r->fixed = true;
	rib_install_sources(r, nn, n_nets, nb, n_blocks, node);
}

void
rib_refresh(struct rib *r, bool force)
{
	uint64_t now = ld_now_ms();

	if (r == NULL || r->fixed)
		return;
	if (!force && r->last_refresh && now < r->last_refresh + RIB_REFRESH_MIN) {
		if (r->refresh_due == 0)
			r->refresh_due = r->last_refresh + RIB_REFRESH_MIN;
		return;
	}
	r->last_refresh = now;
	r->refresh_due = 0;
	r->next_periodic = now + RIB_REFRESH_PERIOD;
	if (rib_load_store(r) < 0)
		log_warnx("local RIB: cannot read the networks from the store; "
			  "advertising routes without aggregation or communities");
}

uint64_t
rib_timers(struct rib *r, uint64_t now)
{
	uint64_t due;

	if (r == NULL)
		return 0;
	if (now != 0 && ((r->refresh_due && r->refresh_due <= now) ||
			 (r->next_periodic && r->next_periodic <= now)))
		rib_refresh(r, true);
	due = r->next_periodic;
	if (r->refresh_due && (due == 0 || r->refresh_due < due))
		due = r->refresh_due;
	return due;
}

/* ---- kernel routes ---------------------------------------------------- */

int
rib_kernel_add(struct rib *r, const struct prefix *p, int ifindex, uint32_t gen)
{
	struct rib_entry *e;
	uint32_t idx, h;
	bool miss;

	idx = rib_find(r, p);
	if (idx != RIB_NONE) {
		e = &r->ents[idx];
		e->gen = gen;
		if (e->ifindex != ifindex) {
			if_unlink(r, idx);
			e->ifindex = ifindex;
			(void)if_link(r, idx);
		}
		return 0;
	}
	if (r->n_used + 1 > r->n_buckets &&
	    rib_rehash(r, r->n_buckets ? r->n_buckets * 2 : 1024) < 0)
		return -ENOMEM;
	if (r->free_head != RIB_NONE) {
		idx = r->free_head;
		r->free_head = r->ents[idx].hnext;
	} else {
		if (GROW(r->ents, r->cap_ents, r->n_ents + 1) < 0)
			return -ENOMEM;
		idx = (uint32_t)r->n_ents++;
	}
	e = &r->ents[idx];
	memset(e, 0, sizeof(*e));
	memcpy(e->addr, p->addr.u.b, 16);
	e->family = (uint8_t)p->addr.family;
	e->len = p->len;
	e->flags = RE_USED;
	e->ifindex = ifindex;
	e->gen = gen;
	e->block = RIB_NONE;
	h = pfx_hash(e->addr, e->family, e->len) & (r->n_buckets - 1);
	e->hnext = r->buckets[h];
	r->buckets[h] = idx;
	r->n_used++;
	(void)if_link(r, idx);

	e->net = net_find(r->nets, r->n_nets, p);
	/* Not placeable: in no known network, or in an aggregating network
	 * but in none of our known blocks (a block just claimed, or a
	 * borrowed address).  Re-read the store first when allowed. */
	miss = e->net == RIB_NET_NONE ||
	       (r->nets[e->net].aggregate && block_find(r, p) == RIB_NONE);
	if (miss && !r->fixed) {
		uint64_t now = ld_now_ms();

		if (!r->last_refresh || now >= r->last_refresh + RIB_REFRESH_MIN) {
			rib_refresh(r, true);	/* places this entry too */
			return 0;
		}
		rib_refresh(r, false);		/* deferred */
	}
	entry_apply(r, idx);
	return 0;
}

static void
rib_remove(struct rib *r, uint32_t idx)
{
	struct rib_entry *e = &r->ents[idx];
	uint32_t *pp;

	entry_withdraw(r, idx);
	if_unlink(r, idx);
	pp = &r->buckets[pfx_hash(e->addr, e->family, e->len) & (r->n_buckets - 1)];
	while (*pp != idx)
		pp = &r->ents[*pp].hnext;
	*pp = e->hnext;
	e->flags = 0;
	e->family = 0;
	e->hnext = r->free_head;
	r->free_head = idx;
	r->n_used--;
}

void
rib_kernel_del(struct rib *r, const struct prefix *p)
{
	uint32_t idx = rib_find(r, p);

	if (idx != RIB_NONE)
		rib_remove(r, idx);
}

void
rib_kernel_link_down(struct rib *r, int ifindex)
{
	size_t s;

	if (ifindex <= 0 || r->ifmap_cap == 0)
		return;
	for (;;) {
		s = if_slot(r, ifindex);
		if (r->ifmap[s].ifindex != ifindex || r->ifmap[s].head == RIB_NONE)
			return;
		rib_remove(r, r->ifmap[s].head);
	}
}

size_t
rib_sweep(struct rib *r, uint32_t gen)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_ents; i++)
		if ((r->ents[i].flags & RE_USED) && r->ents[i].gen != gen) {
			rib_remove(r, (uint32_t)i);
			n++;
		}
	return n;
}

bool
rib_has_kernel(const struct rib *r, const struct prefix *p)
{
	return r != NULL && rib_find(r, p) != RIB_NONE;
}

size_t
rib_count(const struct rib *r)
{
	return r ? r->n_used : 0;
}

size_t
rib_exported(const struct rib *r)
{
	return r ? r->n_exported : 0;
}

/* ---- walks ------------------------------------------------------------ */

void
rib_dump(struct rib *r, uint32_t id)
{
	struct msgq *q = &r->d->to_bgp;
	struct ld_export ex;
	struct prefix p;
	int rc = 0;

	for (size_t i = 0; i < r->n_ents && rc == 0; i++) {
		const struct rib_entry *e = &r->ents[i];

		if (!(e->flags & RE_ADV))
			continue;
		ent_prefix(e, &p);
		export_for(r->nets, r->n_nets, e->net, e->family, false, &ex);
		rc = msgq_put_local(q, id, &p, &ex);
	}
	for (size_t i = 0; i < r->n_blocks && rc == 0; i++) {
		if (!r->blocks[i].adv)
			continue;
		export_for(r->nets, r->n_nets, r->blocks[i].net,
			   r->blocks[i].cidr.addr.family, true, &ex);
		rc = msgq_put_local(q, id, &r->blocks[i].cidr, &ex);
	}
	if (rc < 0)
		log_warnx("local RIB: out of memory answering a table dump");
	(void)msgq_put_ctl(q, LD_MSG_LOCAL_DUMP_END, id);
}

void
rib_walk_all(struct rib *r, void (*cb)(const struct rib_route *rr, void *arg), void *arg)
{
	struct rib_route rr;

	for (size_t i = 0; i < r->n_ents; i++) {
		const struct rib_entry *e = &r->ents[i];

		if (!(e->flags & RE_USED))
			continue;
		memset(&rr, 0, sizeof(rr));
		ent_prefix(e, &rr.prefix);
		rr.network = e->net != RIB_NET_NONE ? r->nets[e->net].name : NULL;
		rr.kernel = true;
		rr.advertised = e->flags & RE_ADV;
		rr.ifindex = e->ifindex;
		export_for(r->nets, r->n_nets, e->net, e->family, false, &rr.exp);
		cb(&rr, arg);
	}
	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct rib_block *b = &r->blocks[i];

		if (!b->adv)
			continue;
		memset(&rr, 0, sizeof(rr));
		rr.prefix = b->cidr;
		rr.network = b->net != RIB_NET_NONE ? r->nets[b->net].name : NULL;
		rr.advertised = true;
		export_for(r->nets, r->n_nets, b->net, b->cidr.addr.family, true, &rr.exp);
		cb(&rr, arg);
	}
}

/* ---- life ------------------------------------------------------------- */

struct rib *
rib_new(struct ld *d)
{
	struct rib *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->d = d;
	r->free_head = RIB_NONE;
	if (rib_rehash(r, 1024) < 0) {
		free(r);
		return NULL;
	}
	rib_refresh(r, true);
	return r;
}

void
rib_free(struct rib *r)
{
	if (r == NULL)
		return;
	free(r->ents);
	free(r->buckets);
	free(r->ifmap);
	free(r->nets);
	free(r->blocks);
	free(r->bbuckets);
	free(r);
}
