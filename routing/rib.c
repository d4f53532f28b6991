/* rib.c — the local RIB: every workload route leafnet put in the kernel
 * (rtm_protocol LEAFNET_RTPROT), what we advertise for it, and the
 * per-host block aggregates.
 *
 * Memory and speed: lib/hash.h's htab finds everything, through struct
 * hnodes embedded in the elements, so the elements must not move: they
 * live in slabs of RIB_CHUNK-slot chunks (mmap'd: a chunk never moves,
 * never interleaves with the heap, and goes back to the kernel with the
 * RIB).  One compact entry per kernel route, 40 bytes for IPv4 and 48 for
 * IPv6 (a 32-byte header, then the address; one slab per family), in
 * r->ptab by prefix (hash_fnv1a32).  The entries name each other by
 * 32-bit index (half a pointer; the top bit picks the IPv6 slab), and
 * hnode.user holds an entry's own.  r->itab maps an ifindex (24 bytes
 * each) to its routes, a doubly linked list of indices through the
 * entries whose first one points back at the ifindex (RE_IFHEAD), because
 * IPv4 routes vanish without a RTM_DELROUTE when their link goes down.
 * An entry keeps no block and no dump generation: its block is looked up
 * again when it goes (RE_INBLOCK says there is one), and RE_SEEN marks it
 * seen in the RIB's current generation (rib_gen()).  The tables are grown
 * here, in slab order (tab_grow()), and the next miss is prefetched where
 * there is one to overlap.  Every change is O(1) expected; 100,000 IPv4
 * routes take ~5.5 MB (ptab's bucket pointers 1 MB of it).
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
 * route shows up that the cache cannot place.  The blocks are one array
 * per refresh, found by prefix through a third htab.
 *
 * A block claimed a moment ago (issue 11 item 3: 1,000 pods on one node
 * must cost a handful of UPDATEs, one per /26, not /32s first).  The first
 * pods of a new block reach the RIB (route monitor, notify) before any
 * store read can have told it of the block; advertised as /32s, they were
 * withdrawn again when the read came (the node bench counted 20-70
 * UPDATEs for 16 blocks under load).  Three parts, chosen together:
 *   1. the attach core's notice names the block it allocated the address
 *      in and whether it is borrowed (ctl_proto.h "block", "borrowed"),
 *      so rib_note_block() takes a block of ours at once, before the route
 *      is looked up: its first route goes out as the aggregate.  Such a
 *      block is provisional (prov): a store read that began after the
 *      notice and does not name it (or names it as another node's) drops
 *      it, one that names it confirms it, and one begun before the notice
 *      keeps it as it is (it cannot have seen the claim), and so does a
 *      read that failed.  The brief was to drop one the store does not
 *      confirm "within some seconds"; on a slow etcd that turned every
 *      pod of the block into a /32 (test_bgp_block_updates_etcd), so time
 *      alone drops it only after RIB_PROV_MS (10 min, past the watch's
 *      5-minute safety re-read: a backstop for a store that never answers
 *      and for bugs, not the rule).  A borrowed
 *      address is advertised as is at once, as before.
 *   2. with the store worker (rib_set_async()), a route no known block
 *      holds is held (RE_PENDING) at most RIB_PLACE_WAIT_MS (200 ms) while
 *      the RIB asks for a read (rib_take_want()); a plugin without the
 *      notice's block, or a route seen by the monitor before the notice,
 *      still gets its aggregate this way.  A read that began before the
 *      newest pending route came (pend_newest; it was under way while the
 *      block was claimed) no longer places the pending routes as /32s:
 *      they wait for the next read, which it asks for, or place_due.
 *   3. the BGP side already packs what one loop turn queues into UPDATEs
 *      grouped by attributes (rde_out.c), withdrawals likewise, so the
 *      fewer the changes, the fewer the UPDATEs; nothing to change there.
 * The rule "is this route covered yet" is block_find() on the known
 * blocks, whatever they are (nested blocks are block_find()'s business).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dbuf.h"
#include "hash.h"
#include "ipam.h"
#include "ld_local.h"
#include "log.h"
#include "network.h"

#define RIB_NONE		UINT32_MAX
#define RIB_NET_NONE		UINT16_MAX
#define RIB_REFRESH_MIN		200	/* ms between two store reads */
#define RIB_REFRESH_PERIOD	10000	/* ms: networks change without notice
					 * (only without the store worker) */
#define RIB_PLACE_WAIT_MS	200	/* a route the RIB cannot place waits this
					 * long for the store worker's read */
#define RIB_PROV_MS		600000	/* a block only a notice named, which no
					 * store read confirmed, is dropped then */
#define RIB_BLOCK_LENS		8
#define RIB_CHUNK_SHIFT		12
#define RIB_CHUNK		(1U << RIB_CHUNK_SHIFT)	/* slots per slab chunk */
#define RIB_V6			(1U << 31)	/* entry index: in the IPv6 slab */

#define RE_USED		(1U << 0)
#define RE_ADV		(1U << 1)	/* advertised on its own */
#define RE_INBLOCK	(1U << 2)	/* counted in the block that holds it */
#define RE_V6		(1U << 3)	/* AF_INET6, else AF_INET */
#define RE_SEEN		(1U << 4)	/* seen in generation r->gen */
#define RE_IFHEAD	(1U << 5)	/* first of its ifindex: if_prev is the
					 * struct rib_if's slot, not an entry */
#define RE_PENDING	(1U << 6)	/* not placed yet: waits for a store read */

struct rib_entry {
	struct hnode hn;		/* in r->ptab; hn.user: own index */
	int32_t  ifindex;
	uint32_t if_prev, if_next;	/* routes of the same ifindex (RE_IFHEAD) */
	uint16_t net;			/* index into nets, RIB_NET_NONE */
	uint8_t  len;
	uint8_t  flags;			/* RE_* */
	uint8_t  addr[];		/* 4 or 16 bytes */
};

_Static_assert(sizeof(struct rib_entry) <= 32, "an IPv4 entry is 40 bytes, IPv6 48");
_Static_assert(offsetof(struct rib_entry, hn) == 0, "tab_grow() finds hn first");

struct rib_if {
	struct hnode hn;		/* in r->itab; hn.user: own slot */
	int32_t  ifindex;
	uint32_t head;			/* its first route */
};

_Static_assert(offsetof(struct rib_if, hn) == 0, "tab_grow() finds hn first");

struct rib_block {
	struct hnode hn;		/* in r->btab */
	struct prefix cidr;
	uint16_t net;
	bool adv;
	bool other;			/* another node's (until blocks_filter()) */
	bool prov;			/* named by a notice, not read yet */
	uint32_t count;			/* local routes inside */
	uint64_t prov_since;		/* ld_now_ms() of the notice */
};

/* Fixed-size slots in chunks that never move.  A free slot's first four
 * bytes link the free list; the rest stays as it was (an entry's flags
 * are 0). */
struct rib_slab {
	char **chunk;
	size_t n_chunks, cap_chunks;
	uint32_t n;			/* slots handed out, free ones included */
	uint32_t free;			/* first free slot, RIB_NONE */
	uint32_t size;			/* bytes per slot, a multiple of 8 */
};

struct rib {
	struct ld *d;
	struct rib_slab ents[2];	/* IPv4, IPv6 entries */
	struct rib_slab ifs;		/* struct rib_if */
	struct htab ptab;		/* entries by prefix */
	struct htab itab;		/* rib_if by ifindex */
	size_t n_used;
	uint32_t gen;			/* the generation RE_SEEN is about */

	struct network *nets;
	size_t n_nets;
	struct rib_block *blocks;
	size_t n_blocks;
	struct htab btab;		/* blocks by prefix */
	uint8_t blens[2][RIB_BLOCK_LENS];	/* distinct block lengths per family */
	size_t n_blens[2];
	size_t n_exported;

	struct rib_pool *pools;		/* per network and subnet, for the metrics */
	size_t n_pools;

	bool fixed;			/* sources set by rib_set_sources() */
	uint64_t last_refresh, refresh_due, next_periodic;
	/* rib_set_async(): the store worker reads; a refresh only asks it
	 * (want_read, taken by rib_take_want()), and a route the RIB cannot
	 * place waits (RE_PENDING) for the answer until place_due */
	bool async, want_read;
	size_t n_pending;
	uint64_t place_due;
	uint64_t pend_newest;		/* when the newest pending route came */
	uint64_t prov_due;		/* the first provisional block's expiry */
	bool have_hint;			/* hint: a borrowed address, place at once */
	struct prefix hint;
};

/* ---- slabs ------------------------------------------------------------ */

static void
slab_init(struct rib_slab *s, size_t size)
{
	memset(s, 0, sizeof(*s));
	s->free = RIB_NONE;
	s->size = (uint32_t)((size + 7) & ~(size_t)7);
}

static void
slab_done(struct rib_slab *s)
{
	for (size_t i = 0; i < s->n_chunks; i++)
		(void)munmap(s->chunk[i], (size_t)RIB_CHUNK * s->size);
	free(s->chunk);
	s->chunk = NULL;
	s->n_chunks = s->cap_chunks = 0;
}

static void *
slab_at(const struct rib_slab *s, uint32_t i)
{
	return s->chunk[i >> RIB_CHUNK_SHIFT] + (size_t)(i & (RIB_CHUNK - 1)) * s->size;
}

/* A slot (its contents undefined) and its index, or NULL. */
static void *
slab_get(struct rib_slab *s, uint32_t *ret_i)
{
	uint32_t i = s->free;
	void *p;

	if (i != RIB_NONE) {
		p = slab_at(s, i);
		memcpy(&s->free, p, sizeof(s->free));
		*ret_i = i;
		return p;
	}
	if (s->n >= RIB_V6 - 1)		/* an IPv6 index must not be RIB_NONE */
		return NULL;
	if ((s->n & (RIB_CHUNK - 1)) == 0) {
		if (GROW(s->chunk, s->cap_chunks, s->n_chunks + 1) < 0)
			return NULL;
		p = mmap(NULL, (size_t)RIB_CHUNK * s->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		s->chunk[s->n_chunks++] = p;
	}
	*ret_i = s->n++;
	return slab_at(s, *ret_i);
}

static void
slab_put(struct rib_slab *s, void *p, uint32_t i)
{
	memcpy(p, &s->free, sizeof(s->free));
	s->free = i;
}

/* Double t before an insert would make htab_insert() rehash it, walking
 * its chains: one cache miss per node.  Re-inserting the nodes in slab
 * order reads them in memory order instead (every slot of s[0 .. n_s-1]
 * starts with its struct hnode; live() says whether it is in use). */
static void
tab_grow(struct htab *t, const struct rib_slab *s, size_t n_s, bool (*live)(const void *slot))
{
	struct htab nt;

	if (t->count < t->size || t->size == 0 || htab_init(&nt, t->size * 2) < 0)
		return;				/* htab_insert() copes */
	for (size_t k = 0; k < n_s; k++)
		for (uint32_t i = 0; i < s[k].n; i++) {
			struct hnode *n = slab_at(&s[k], i);

			if (live(n))
				(void)htab_insert(&nt, n, n->hash);	/* has room */
		}
	htab_done(t);
	*t = nt;
}

/* ---- entries ---------------------------------------------------------- */

static int
fam_idx(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

static struct rib_entry *
ent(const struct rib *r, uint32_t idx)
{
	return slab_at(&r->ents[idx >> 31], idx & ~RIB_V6);
}

/* The used entry at or after *pos (IPv4 first), or NULL at the end;
 * *pos is its index.  Removing it before the next call is safe. */
static struct rib_entry *
ent_next(const struct rib *r, uint32_t *pos)
{
	for (;;) {
		const struct rib_slab *s = &r->ents[*pos >> 31];
		struct rib_entry *e;

		if ((*pos & ~RIB_V6) >= s->n) {
			if (*pos & RIB_V6)
				return NULL;
			*pos = RIB_V6;
			continue;
		}
		e = slab_at(s, *pos & ~RIB_V6);
		if (e->flags & RE_USED)
			return e;
		(*pos)++;
	}
}

#define RIB_FOR_EACH(r, pos, e) \
	for ((pos) = 0; ((e) = ent_next((r), &(pos))) != NULL; (pos)++)

static bool
ent_live(const void *slot)
{
	return ((const struct rib_entry *)slot)->flags & RE_USED;
}

static int
ent_family(const struct rib_entry *e)
{
	return (e->flags & RE_V6) ? AF_INET6 : AF_INET;
}

/* e's address is p's (same family and length already checked); constant
 * sizes, so the compiler inlines both */
static bool
ent_addr_eq(const struct rib_entry *e, const struct prefix *p)
{
	return (e->flags & RE_V6) ? memcmp(e->addr, p->addr.u.b, 16) == 0
				  : memcmp(e->addr, p->addr.u.b, 4) == 0;
}

static uint32_t
pfx_hash(const uint8_t *a, int family, unsigned len)
{
	uint8_t fl[2] = { (uint8_t)family, (uint8_t)len };
	uint32_t h = hash_fnv1a32(HASH_FNV32_INIT, fl, sizeof(fl));

	return hash_finish32(hash_fnv1a32(h, a, family == AF_INET6 ? 16 : 4));
}

static void
ent_prefix(const struct rib_entry *e, struct prefix *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->addr.family = ent_family(e);
	if (e->flags & RE_V6)
		memcpy(ret->addr.u.b, e->addr, 16);
	else
		memcpy(ret->addr.u.b, e->addr, 4);
	ret->len = e->len;
}

static struct rib_entry *
rib_find(const struct rib *r, const struct prefix *p)
{
	int family = p->addr.family;
	uint32_t h = pfx_hash(p->addr.u.b, family, p->len);
	struct hnode *n;

	HTAB_FOR_EACH_HASH(&r->ptab, h, n) {
		struct rib_entry *e = HTAB_ENTRY(n, struct rib_entry, hn);

		if (ent_family(e) == family && e->len == p->len && ent_addr_eq(e, p))
			return e;
	}
	return NULL;
}

/* A new generation: no entry has been seen in it yet. */
static void
rib_gen(struct rib *r, uint32_t gen)
{
	struct rib_entry *e;
	uint32_t pos;

	if (gen == r->gen)
		return;
	RIB_FOR_EACH(r, pos, e)
		e->flags &= ~RE_SEEN;
	r->gen = gen;
}

/* ---- ifindex -> its routes -------------------------------------------- */

static bool
if_live(const void *slot)
{
	return ((const struct rib_if *)slot)->ifindex != 0;
}

static uint32_t
if_hash(int32_t ifindex)
{
	return hash_finish32(hash_fnv1a32(HASH_FNV32_INIT, &ifindex, sizeof(ifindex)));
}

static struct rib_if *
if_find(const struct rib *r, int32_t ifindex)
{
	uint32_t h = if_hash(ifindex);
	struct hnode *n;

	HTAB_FOR_EACH_HASH(&r->itab, h, n) {
		struct rib_if *fi = HTAB_ENTRY(n, struct rib_if, hn);

		if (fi->ifindex == ifindex)
			return fi;
	}
	return NULL;
}

static int
if_link(struct rib *r, struct rib_entry *e)
{
	struct rib_if *fi;
	uint32_t slot;

	e->if_prev = e->if_next = RIB_NONE;
	if (e->ifindex <= 0)
		return 0;
	fi = if_find(r, e->ifindex);
	if (fi == NULL) {
		tab_grow(&r->itab, &r->ifs, 1, if_live);	/* before fi is live */
		fi = slab_get(&r->ifs, &slot);
		if (fi == NULL)
			return -ENOMEM;
		fi->hn.user = slot;
		fi->ifindex = e->ifindex;
		fi->head = RIB_NONE;
		if (htab_insert(&r->itab, &fi->hn, if_hash(e->ifindex)) < 0) {
			fi->ifindex = 0;
			slab_put(&r->ifs, fi, slot);
			return -ENOMEM;
		}
	}
	e->if_next = fi->head;
	if (e->if_next != RIB_NONE) {
		struct rib_entry *next = ent(r, e->if_next);

		next->flags &= ~RE_IFHEAD;
		next->if_prev = e->hn.user;
	}
	fi->head = e->hn.user;
	e->if_prev = fi->hn.user;
	e->flags |= RE_IFHEAD;
	return 0;
}

static void
if_unlink(struct rib *r, struct rib_entry *e)
{
	if (e->flags & RE_IFHEAD) {
		struct rib_if *fi = slab_at(&r->ifs, e->if_prev);

		fi->head = e->if_next;
		if (e->if_next != RIB_NONE) {
			struct rib_entry *next = ent(r, e->if_next);

			next->flags |= RE_IFHEAD;
			next->if_prev = e->if_prev;
		} else {
			htab_remove(&r->itab, &fi->hn);
			fi->ifindex = 0;
			slab_put(&r->ifs, fi, e->if_prev);
		}
	} else if (e->if_prev != RIB_NONE) {
		ent(r, e->if_prev)->if_next = e->if_next;
		if (e->if_next != RIB_NONE)
			ent(r, e->if_next)->if_prev = e->if_prev;
	}
	/* else in no list: ifindex <= 0, or out of memory in if_link() */
	e->flags &= ~RE_IFHEAD;
	e->if_prev = e->if_next = RIB_NONE;
}

/* ---- networks and blocks ---------------------------------------------- */

static uint16_t
net_find(const struct network *nets, size_t n, const struct prefix *p)
{
	for (size_t i = 0; i < n && i < RIB_NET_NONE; i++)
		for (size_t k = 0; k < nets[i].n_subnets; k++)
			if (prefix_contains_prefix(&nets[i].subnets[k].cidr, p))
				return (uint16_t)i;
	return RIB_NET_NONE;
}

/* The innermost block of this node's that holds p, or NULL.  Only this
 * node's blocks are indexed: another node's nested block inside one of
 * ours never holds a local route (ipam.c hands out nothing there). */
static struct rib_block *
block_find(const struct rib *r, const struct prefix *p)
{
	int f = fam_idx(p->addr.family);

	if (r->btab.count == 0)
		return NULL;
	for (size_t l = 0; l < r->n_blens[f]; l++) {
		struct prefix m = *p;
		struct hnode *n;
		uint32_t h;

		if (r->blens[f][l] > p->len)
			continue;
		m.len = r->blens[f][l];
		prefix_mask(&m);
		h = pfx_hash(m.addr.u.b, m.addr.family, m.len);
		HTAB_FOR_EACH_HASH(&r->btab, h, n) {
			struct rib_block *b = HTAB_ENTRY(n, struct rib_block, hn);

			if (prefix_eq(&b->cidr, &m))
				return b;
		}
	}
	return NULL;
}

/* Index this node's blocks of networks that aggregate. */
static int
blocks_index(struct rib *r)
{
	htab_done(&r->btab);
	if (htab_init(&r->btab, r->n_blocks) < 0)
		return -ENOMEM;
	r->n_blens[0] = r->n_blens[1] = 0;
	for (size_t i = 0; i < r->n_blocks; i++) {
		struct rib_block *b = &r->blocks[i];
		int f = fam_idx(b->cidr.addr.family);
		bool seen = false;

		/* sized for all of them: cannot fail */
		(void)htab_insert(&r->btab, &b->hn,
				  pfx_hash(b->cidr.addr.u.b, b->cidr.addr.family, b->cidr.len));
		for (size_t l = 0; l < r->n_blens[f]; l++)
			seen |= r->blens[f][l] == b->cidr.len;
		if (!seen && r->n_blens[f] < RIB_BLOCK_LENS) {
			/* longest first: block_find() gives the innermost
			 * block (a nested one, ipam_split.c) */
			size_t l = r->n_blens[f]++;

			for (; l > 0 && r->blens[f][l - 1] < b->cidr.len; l--)
				r->blens[f][l] = r->blens[f][l - 1];
			r->blens[f][l] = b->cidr.len;
		}
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
		    (node != NULL && b.other))
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
block_ref(struct rib *r, struct rib_block *b)
{
	struct ld_export e;

	if (b->count++ == 0) {
		export_for(r->nets, r->n_nets, b->net, b->cidr.addr.family, true, &e);
		b->adv = true;
		r->n_exported++;
		announce(r, &b->cidr, &e);
	}
}

static void
block_unref(struct rib *r, struct rib_block *b)
{
	if (b == NULL || b->count == 0)
		return;
	if (--b->count == 0) {
		b->adv = false;
		r->n_exported--;
		announce(r, &b->cidr, NULL);
	}
}

/* Place a fresh entry and advertise it (or its block). */
static void
entry_apply(struct rib *r, struct rib_entry *e)
{
	struct rib_block *b;
	struct ld_export ex;
	struct prefix p;

	ent_prefix(e, &p);
	b = block_find(r, &p);
	if (b != NULL) {
		e->flags |= RE_INBLOCK;
		block_ref(r, b);
		return;
	}
	export_for(r->nets, r->n_nets, e->net, ent_family(e), false, &ex);
	e->flags |= RE_ADV;
	r->n_exported++;
	announce(r, &p, &ex);
}

static void
entry_withdraw(struct rib *r, struct rib_entry *e)
{
	struct prefix p;

	ent_prefix(e, &p);
	if (e->flags & RE_ADV) {
		e->flags &= ~RE_ADV;
		r->n_exported--;
		announce(r, &p, NULL);
	}
	if (e->flags & RE_INBLOCK) {
		/* the blocks change only in rib_reevaluate(), which places
		 * every entry again: the block found now is the one counted */
		e->flags &= ~RE_INBLOCK;
		block_unref(r, block_find(r, &p));
	}
}

/* ---- refresh ---------------------------------------------------------- */

/* Re-evaluate every entry against (new) nets and blocks, emitting only
 * the differences.  old_* describe what was advertised.  A pending route
 * that is still in no block is placed as is only when the sources can
 * have seen its block: read from the store after it came (started, the
 * read's start, later than r->pend_newest); else (a read that began
 * before its block was claimed, or a notice's block) it goes on waiting
 * for the next read, until place_due at the latest. */
static void
rib_reevaluate(struct rib *r, const struct network *old_nets, size_t n_old_nets,
	       const struct rib_block *old_blocks, size_t n_old_blocks, uint64_t started)
{
	bool settle = started > r->pend_newest;
	struct ld_export oe, ne;
	struct rib_entry *e;
	struct prefix p;
	uint32_t pos;

	/* routes first: new blocks get their counts; a pending route is
	 * placed now (it was not advertised) or waits on */
	r->n_pending = 0;
	RIB_FOR_EACH(r, pos, e) {
		uint16_t onet = e->net;
		bool oadv = e->flags & RE_ADV, pend = e->flags & RE_PENDING;
		struct rib_block *b;

		ent_prefix(e, &p);
		e->net = net_find(r->nets, r->n_nets, &p);
		b = block_find(r, &p);
		e->flags &= ~(RE_INBLOCK | RE_PENDING);
		if (b != NULL) {
			e->flags |= RE_INBLOCK;
			b->count++;
			if (oadv) {
				e->flags &= ~RE_ADV;
				r->n_exported--;
				announce(r, &p, NULL);
			}
			continue;
		}
		if (pend && !settle) {
			e->flags |= RE_PENDING;
			r->n_pending++;
			continue;
		}
		export_for(r->nets, r->n_nets, e->net, ent_family(e), false, &ne);
		export_for(old_nets, n_old_nets, onet, ent_family(e), false, &oe);
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
		const struct rib_block *b;

		if (!old_blocks[i].adv)
			continue;
		b = block_find(r, &old_blocks[i].cidr);
		if (b == NULL || !prefix_eq(&b->cidr, &old_blocks[i].cidr) || b->count == 0) {
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
	if (r->n_pending == 0)
		r->place_due = 0;
	else
		r->want_read = true;	/* a read that can have seen them */
}

/* The earliest expiry of a provisional block, 0 if none. */
static void
prov_due_set(struct rib *r)
{
	r->prov_due = 0;
	for (size_t i = 0; i < r->n_blocks; i++)
		if (r->blocks[i].prov &&
		    (r->prov_due == 0 || r->blocks[i].prov_since + RIB_PROV_MS < r->prov_due))
			r->prov_due = r->blocks[i].prov_since + RIB_PROV_MS;
}

/* Take new sources (ownership of the arrays) and re-evaluate; started:
 * rib_reevaluate()'s. */
static void
rib_install_sources(struct rib *r, struct network *nets, size_t n_nets,
		    struct rib_block *blocks, size_t n_blocks, const char *node,
		    uint64_t started)
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
	rib_reevaluate(r, old_nets, n_old_nets, old_blocks, n_old_blocks, started);
	prov_due_set(r);
	free(old_nets);
	free(old_blocks);
}

/* The current sources again, the provisional blocks keep() refuses left
 * out and extra (if not NULL) added; false when out of memory. */
static bool
rib_resource(struct rib *r, bool (*keep)(const struct rib_block *b, uint64_t now),
	     const struct rib_block *extra, uint64_t now)
{
	struct network *nn = malloc((r->n_nets ? r->n_nets : 1) * sizeof(*nn));
	struct rib_block *nb = malloc((r->n_blocks + 1) * sizeof(*nb));
	size_t n = 0;

	if (nn == NULL || nb == NULL) {
		free(nn);
		free(nb);
		return false;
	}
	memcpy(nn, r->nets, r->n_nets * sizeof(*nn));
	for (size_t i = 0; i < r->n_blocks; i++)
		if (!r->blocks[i].prov || keep == NULL || keep(&r->blocks[i], now))
			nb[n++] = r->blocks[i];
	if (extra != NULL)
		nb[n++] = *extra;
	rib_install_sources(r, nn, r->n_nets, nb, n, NULL, 0);
	return true;
}

static bool
prov_live(const struct rib_block *b, uint64_t now)
{
	return b->prov_since + RIB_PROV_MS > now;
}


/* Addresses a subnet can hand out: all but the network address, the IPv4
 * broadcast and the gateway (ipam.c's rule).  A double: an IPv6 /64 has
 * 2^64 of them. */
static double
subnet_capacity(const struct network_subnet *sn)
{
	unsigned bits = sn->cidr.addr.family == AF_INET ? 32 : 128;
	double size = 1, reserved = 1;

	for (unsigned i = sn->cidr.len; i < bits; i++)
		size *= 2;
	if (sn->cidr.addr.family == AF_INET && sn->cidr.len < 31)
		reserved++;
	if (ipaddr_is_set(&sn->gateway) && prefix_contains(&sn->cidr, &sn->gateway))
		reserved++;
	return size > reserved ? size - reserved : 0;
}

/* One rib_pool per subnet of net, from its blocks (ipam_blocks()). */
static void
pools_add(struct rib_pool **pools, size_t *n, size_t *cap, const struct network *net,
	  const struct ipam_block *ib, size_t n_ib, const char *node)
{
	for (size_t s = 0; s < net->n_subnets; s++) {
		const struct network_subnet *sn = &net->subnets[s];
		struct rib_pool *p;

		if (GROW(*pools, *cap, *n + 1) < 0)
			return;
		p = &(*pools)[(*n)++];
		memset(p, 0, sizeof(*p));
		memcpy(p->network, net->name, sizeof(p->network));
		p->family = sn->cidr.addr.family;
		p->size = subnet_capacity(sn);
		for (size_t k = 0; k < n_ib; k++) {
			if (!prefix_contains(&sn->cidr, &ib[k].cidr.addr))
				continue;
			p->allocated += ib[k].n_used;
			p->blocks++;
			if (strcmp(ib[k].node, node) == 0)
				p->node_blocks++;
		}
	}
}

void
rib_pools(const struct rib *r, const struct rib_pool **ret, size_t *ret_n)
{
	*ret = r ? r->pools : NULL;
	*ret_n = r ? r->n_pools : 0;
}

/* What one store read gives the RIB: the networks, every network's blocks
 * (this node's are kept) and, when asked, the pool usage (the allocations:
 * a listing of alloc/ per network, the costly part, so it is read only
 * when the store worker wants pool usage, not on every blocks change).
 * Read by rib_src_read() anywhere (the store worker's thread: it touches
 * no RIB), applied on the loop by rib_src_apply().  started: when the read
 * began (ld_now_ms()), so the loop knows what it can have seen. */
struct rib_src {
	struct network *nets;
	size_t n_nets;
	struct rib_block *blocks;
	size_t n_blocks, cap_blocks;
	struct rib_pool *pools;
	size_t n_pools;
	bool have_alloc;		/* pools[].allocated was read */
	uint64_t started;
	char node[LEAFNET_NAME_MAX];
};

/* Store reads made for the RIB, and how many of them read allocations
 * (leafnetd's status: "store_reads"); any thread. */
static _Atomic uint64_t rib_n_reads, rib_n_alloc_reads;

void
rib_store_reads(uint64_t *ret_reads, uint64_t *ret_alloc)
{
	*ret_reads = rib_n_reads;
	*ret_alloc = rib_n_alloc_reads;
}

void
rib_src_free(struct rib_src *src)
{
	if (src == NULL)
		return;
	free(src->nets);
	free(src->blocks);
	free(src->pools);
	free(src);
}

int
rib_src_mine(const struct rib_src *src, struct prefix **ret, size_t *ret_n)
{
	struct prefix *v = calloc(src->n_blocks ? src->n_blocks : 1, sizeof(*v));
	size_t n = 0;

	if (v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < src->n_blocks; i++)
		if (!src->blocks[i].other)
			v[n++] = src->blocks[i].cidr;
	*ret = v;
	*ret_n = n;
	return 0;
}

struct rib_src *
rib_src_read(struct store *s, const char *node, bool alloc, int *ret_err)
{
	struct rib_src *src = calloc(1, sizeof(*src));
	size_t pools_cap = 0;
	int ret, alloc_err = 0;

	if (src == NULL) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	src->started = ld_now_ms();
	src->have_alloc = alloc;
	rib_n_reads++;
	if (alloc)
		rib_n_alloc_reads++;
	snprintf(src->node, sizeof(src->node), "%s", node);
	ret = network_list(s, &src->nets, &src->n_nets, NULL);
	if (ret < 0) {
		*ret_err = ret;
		rib_src_free(src);
		return NULL;
	}
	for (size_t i = 0; i < src->n_nets; i++) {
		const struct network *net = &src->nets[i];
		struct ipam_block *ib = NULL;
		size_t n = 0;
		int r = -EAGAIN;

		/* every network's blocks: the aggregates need them, and the
		 * pool usage the metrics show comes from the same read (its
		 * allocations only when asked).  A network whose blocks cannot
		 * be read fails the read: taken as "no blocks", it would turn
		 * every aggregate into its /32s until the next read (a slow
		 * etcd timing out did just that); allocations that cannot be
		 * read only leave the pool counts as they were. */
		if (alloc && alloc_err == 0) {
			r = ipam_blocks(s, net->name, &ib, &n);
			if (r < 0 && r != -ENOENT)
				alloc_err = r;
		}
		if (r < 0 && r != -ENOENT)
			r = ipam_block_claims(s, net->name, &ib, &n);
		if (r == -ENOENT)
			continue;		/* the network went meanwhile */
		if (r < 0) {
			*ret_err = r;
			rib_src_free(src);
			return NULL;
		}
		pools_add(&src->pools, &src->n_pools, &pools_cap, net, ib, n, node);
		for (size_t k = 0; net->aggregate && k < n; k++) {
			if (GROW(src->blocks, src->cap_blocks, src->n_blocks + 1) < 0)
				break;
			memset(&src->blocks[src->n_blocks], 0, sizeof(*src->blocks));
			src->blocks[src->n_blocks].cidr = ib[k].cidr;
			src->blocks[src->n_blocks].other = strcmp(ib[k].node, node) != 0;
			src->n_blocks++;
		}
		free(ib);
	}
	if (alloc_err < 0) {
		src->have_alloc = false;
		*ret_err = alloc_err;
	}
	return src;
}

struct rib_src *
rib_src_make(const struct network *nets, size_t n_nets, const struct ipam_block *blocks,
	     size_t n_blocks, const char *node, uint64_t started)
{
	struct rib_src *src = calloc(1, sizeof(*src));

	if (src == NULL)
		return NULL;
	src->nets = calloc(n_nets ? n_nets : 1, sizeof(*src->nets));
	src->blocks = calloc(n_blocks ? n_blocks : 1, sizeof(*src->blocks));
	if (src->nets == NULL || src->blocks == NULL) {
		rib_src_free(src);
		return NULL;
	}
	memcpy(src->nets, nets, n_nets * sizeof(*nets));
	src->n_nets = n_nets;
	for (size_t i = 0; i < n_blocks; i++) {
		src->blocks[i].cidr = blocks[i].cidr;
		src->blocks[i].other = strcmp(blocks[i].node, node) != 0;
	}
	src->n_blocks = src->cap_blocks = n_blocks;
	src->started = started;
	snprintf(src->node, sizeof(src->node), "%s", node);
	return src;
}

void
rib_src_apply(struct rib *r, struct rib_src *src)
{
	if (r == NULL || r->fixed) {
		rib_src_free(src);
		return;
	}
	if (!src->have_alloc)		/* the counts of the last read that had them */
		for (size_t i = 0; i < src->n_pools; i++)
			for (size_t k = 0; k < r->n_pools; k++)
				if (r->pools[k].family == src->pools[i].family &&
				    strcmp(r->pools[k].network, src->pools[i].network) == 0)
					src->pools[i].allocated = r->pools[k].allocated;
	free(r->pools);
	r->pools = src->pools;
	r->n_pools = src->n_pools;
	nat_sync(r->d, src->nets, src->n_nets);	/* outbound SNAT follows the list */
	/* a provisional block (rib_note_block()) the read does not name:
	 * kept if the read began before the notice (it cannot have seen the
	 * claim), else the store says no */
	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct rib_block *b = &r->blocks[i];
		bool named = false;
		char buf[PREFIX_STRLEN];

		if (!b->prov)
			continue;
		for (size_t k = 0; k < src->n_blocks && !named; k++)
			named = prefix_eq(&src->blocks[k].cidr, &b->cidr);
		if (named)
			continue;
		if (src->started > b->prov_since) {
			log_info("local RIB: block %s is not in the store: no aggregate for it",
				 prefix_fmt(&b->cidr, buf, sizeof(buf)));
			continue;
		}
		if (GROW(src->blocks, src->cap_blocks, src->n_blocks + 1) == 0)
			src->blocks[src->n_blocks++] = *b;
	}
	rib_install_sources(r, src->nets, src->n_nets, src->blocks, src->n_blocks, src->node,
			    src->started);
	r->last_refresh = ld_now_ms();
	free(src);			/* the arrays are the RIB's now */
}

static int
rib_load_store(struct rib *r)
{
	struct rib_src *src;
	int ret = 0;

	if (r->d->store == NULL)
		return 0;		/* no store (tests): nothing to place routes with */
	src = rib_src_read(r->d->store, r->d->conf.base.node_name, true, &ret);
	if (src == NULL)
		return ret;
	rib_src_apply(r, src);
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
		nb[i].other = strcmp(blocks[i].node, node) != 0;
	}
	r->fixed = true;
	rib_install_sources(r, nn, n_nets, nb, n_blocks, node, UINT64_MAX);
}

void
rib_refresh(struct rib *r, bool force)
{
	uint64_t now = ld_now_ms();

	if (r == NULL || r->fixed)
		return;
	if (r->async) {			/* the store worker reads, off the loop */
		r->want_read = true;
		return;
	}
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

void
rib_nat_recheck(struct rib *r)
{
	if (r != NULL && !r->fixed)
		nat_sync(r->d, r->nets, r->n_nets);
}

void
rib_set_async(struct rib *r, bool on)
{
	if (r == NULL)
		return;
	r->async = on;
	r->refresh_due = r->next_periodic = 0;
}

bool
rib_take_want(struct rib *r)
{
	bool w = r != NULL && r->want_read;

	if (w)
		r->want_read = false;
	return w;
}

/* The store did not answer in time: place the pending routes with what
 * the RIB knows (a /32 where the block is not known yet; the read, when
 * it comes, moves it into its block). */
static void
place_pending(struct rib *r)
{
	struct rib_entry *e;
	uint32_t pos;

	r->place_due = 0;
	if (r->n_pending == 0)
		return;
	RIB_FOR_EACH(r, pos, e)
		if (e->flags & RE_PENDING) {
			e->flags &= ~RE_PENDING;
			entry_apply(r, e);
		}
	r->n_pending = 0;
}

/* A route's address was allocated in block (ctl "notify" from this node's
 * attach core, before it looks the route up: control.c).  See the header
 * comment: a block of ours the RIB does not know yet is taken at once,
 * provisionally; a borrowed address is placed as is without waiting. */
void
rib_note_block(struct rib *r, const struct prefix *addr, const struct prefix *block,
	       bool borrowed)
{
	struct rib_entry *e;
	struct rib_block nb;
	uint16_t net;

	if (r == NULL || addr->addr.family != block->addr.family)
		return;
	if (borrowed || block->len >= addr->len) {
		/* another node's block, or a static address in none */
		e = rib_find(r, addr);
		if (e != NULL && (e->flags & RE_PENDING)) {
			e->flags &= ~RE_PENDING;
			if (r->n_pending > 0 && --r->n_pending == 0)
				r->place_due = 0;
			entry_apply(r, e);
		} else if (e == NULL) {
			r->hint = *addr;	/* rib_kernel_add() takes it */
			r->have_hint = true;
		}
		return;
	}
	if (!prefix_contains_prefix(block, addr) || block_find(r, addr) != NULL)
		return;			/* covered already (or nonsense) */
	net = net_find(r->nets, r->n_nets, block);
	if (net == RIB_NET_NONE || !r->nets[net].aggregate)
		return;			/* a network not read yet: the read places it */
	memset(&nb, 0, sizeof(nb));
	nb.cidr = *block;
	prefix_mask(&nb.cidr);
	nb.net = net;
	nb.prov = true;
	nb.prov_since = ld_now_ms();
	if (!rib_resource(r, NULL, &nb, 0))
		log_warnx("local RIB: out of memory taking a new block");
}

uint64_t
rib_timers(struct rib *r, uint64_t now)
{
	uint64_t due;

	if (r == NULL)
		return 0;
	if (now != 0 && r->place_due && r->place_due <= now)
		place_pending(r);
	if (now != 0 && r->prov_due && r->prov_due <= now) {
		for (size_t i = 0; i < r->n_blocks; i++) {
			char buf[PREFIX_STRLEN];

			if (r->blocks[i].prov && !prov_live(&r->blocks[i], now))
				log_warnx("local RIB: block %s not confirmed by the store in "
					  "%d min: no aggregate for it",
					  prefix_fmt(&r->blocks[i].cidr, buf, sizeof(buf)),
					  RIB_PROV_MS / 60000);
		}
		if (!rib_resource(r, prov_live, NULL, now))
			r->prov_due = now + 1000;	/* out of memory: later */
	}
	if (now != 0 && ((r->refresh_due && r->refresh_due <= now) ||
			 (r->next_periodic && r->next_periodic <= now)))
		rib_refresh(r, true);
	due = r->next_periodic;
	if (r->refresh_due && (due == 0 || r->refresh_due < due))
		due = r->refresh_due;
	if (r->place_due && (due == 0 || r->place_due < due))
		due = r->place_due;
	if (r->prov_due && (due == 0 || r->prov_due < due))
		due = r->prov_due;
	return due;
}

/* ---- kernel routes ---------------------------------------------------- */

int
rib_kernel_add(struct rib *r, const struct prefix *p, int ifindex, uint32_t gen)
{
	int f = fam_idx(p->addr.family);
	struct rib_entry *e;
	uint32_t slot;
	bool miss;

	if (p->addr.family != AF_INET && p->addr.family != AF_INET6)
		return -EAFNOSUPPORT;
	if (ifindex > 0)	/* if_link()'s miss overlaps rib_find()'s */
		htab_prefetch(&r->itab, if_hash(ifindex));
	rib_gen(r, gen);
	e = rib_find(r, p);
	if (e != NULL) {
		e->flags |= RE_SEEN;
		if (e->ifindex != ifindex) {
			if_unlink(r, e);
			e->ifindex = ifindex;
			(void)if_link(r, e);
		}
		return 0;
	}
	tab_grow(&r->ptab, r->ents, 2, ent_live);	/* before e is live */
	e = slab_get(&r->ents[f], &slot);
	if (e == NULL)
		return -ENOMEM;
	memset(e, 0, sizeof(*e));
	e->hn.user = slot | (f ? RIB_V6 : 0);
	if (f)
		memcpy(e->addr, p->addr.u.b, 16);
	else
		memcpy(e->addr, p->addr.u.b, 4);
	e->len = p->len;
	e->flags = RE_USED | RE_SEEN | (f ? RE_V6 : 0);
	e->ifindex = ifindex;
	if (htab_insert(&r->ptab, &e->hn, pfx_hash(p->addr.u.b, p->addr.family, p->len)) < 0) {
		e->flags = 0;
		slab_put(&r->ents[f], e, slot);
		return -ENOMEM;
	}
	r->n_used++;
	(void)if_link(r, e);

	e->net = net_find(r->nets, r->n_nets, p);
	/* Not placeable: in no known network, or in an aggregating network
	 * but in none of our known blocks (a block just claimed, or a
	 * borrowed address).  Re-read the store first when allowed. */
	miss = e->net == RIB_NET_NONE ||
	       (r->nets[e->net].aggregate && block_find(r, p) == NULL);
	if (miss && r->have_hint && prefix_eq(&r->hint, p)) {
		r->have_hint = false;	/* borrowed (rib_note_block()): as is, now */
		miss = false;
	}
	if (miss && r->async) {
		/* ask the store worker and wait for it (a block claimed just
		 * before this route: its aggregate, not a /32 first) */
		r->want_read = true;
		e->flags |= RE_PENDING;
		r->n_pending++;
		r->pend_newest = ld_now_ms();
		if (r->place_due == 0)
			r->place_due = r->pend_newest + RIB_PLACE_WAIT_MS;
		return 0;
	}
	if (miss && !r->fixed) {
		uint64_t now = ld_now_ms();

		if (!r->last_refresh || now >= r->last_refresh + RIB_REFRESH_MIN) {
			rib_refresh(r, true);	/* places this entry too */
			return 0;
		}
		rib_refresh(r, false);		/* deferred */
	}
	entry_apply(r, e);
	return 0;
}

static void
rib_remove(struct rib *r, struct rib_entry *e)
{
	uint32_t idx = e->hn.user;

	if ((e->flags & RE_PENDING) && r->n_pending > 0 && --r->n_pending == 0)
		r->place_due = 0;
	entry_withdraw(r, e);
	if_unlink(r, e);
	htab_remove(&r->ptab, &e->hn);
	e->flags = 0;
	slab_put(&r->ents[idx >> 31], e, idx & ~RIB_V6);
	r->n_used--;
}

void
rib_kernel_del(struct rib *r, const struct prefix *p)
{
	struct rib_entry *e = rib_find(r, p);

	if (e != NULL)
		rib_remove(r, e);
}

void
rib_kernel_link_down(struct rib *r, int ifindex)
{
	struct rib_if *fi;

	if (ifindex <= 0)
		return;
	fi = if_find(r, ifindex);
	while (fi != NULL) {
		struct rib_entry *e = ent(r, fi->head);
		bool last = e->if_next == RIB_NONE;

		if (!last)
			htab_prefetch(&r->ptab, ent(r, e->if_next)->hn.hash);
		rib_remove(r, e);		/* the last one frees fi */
		if (last)
			break;
	}
}

size_t
rib_sweep(struct rib *r, uint32_t gen)
{
	struct rib_entry *e;
	uint32_t pos;
	size_t n = 0;

	rib_gen(r, gen);
	RIB_FOR_EACH(r, pos, e)
		if (!(e->flags & RE_SEEN)) {
			rib_remove(r, e);
			n++;
		}
	return n;
}

bool
rib_has_kernel(const struct rib *r, const struct prefix *p)
{
	return r != NULL && rib_find(r, p) != NULL;
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
	struct rib_entry *e;
	struct ld_export ex;
	struct prefix p;
	uint32_t pos;
	int rc = 0;

	RIB_FOR_EACH(r, pos, e) {
		if (rc < 0)
			break;
		if (!(e->flags & RE_ADV))
			continue;
		ent_prefix(e, &p);
		export_for(r->nets, r->n_nets, e->net, ent_family(e), false, &ex);
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
	struct rib_entry *e;
	struct rib_route rr;
	uint32_t pos;

	RIB_FOR_EACH(r, pos, e) {
		memset(&rr, 0, sizeof(rr));
		ent_prefix(e, &rr.prefix);
		rr.network = e->net != RIB_NET_NONE ? r->nets[e->net].name : NULL;
		rr.kernel = true;
		rr.advertised = e->flags & RE_ADV;
		rr.ifindex = e->ifindex;
		export_for(r->nets, r->n_nets, e->net, ent_family(e), false, &rr.exp);
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
	slab_init(&r->ents[0], sizeof(struct rib_entry) + 4);
	slab_init(&r->ents[1], sizeof(struct rib_entry) + 16);
	slab_init(&r->ifs, sizeof(struct rib_if));
	if (htab_init(&r->ptab, 1024) < 0) {
		free(r);
		return NULL;
	}
	(void)htab_init(&r->itab, 0);
	(void)htab_init(&r->btab, 0);
	rib_refresh(r, true);
	return r;
}

void
rib_free(struct rib *r)
{
	if (r == NULL)
		return;
	htab_done(&r->ptab);
	htab_done(&r->itab);
	htab_done(&r->btab);
	slab_done(&r->ents[0]);
	slab_done(&r->ents[1]);
	slab_done(&r->ifs);
	free(r->nets);
	free(r->blocks);
	free(r->pools);
	free(r);
}
