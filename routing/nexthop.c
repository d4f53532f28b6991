/* nexthop.c — next-hop resolution for learned routes (nexthop.h).
 *
 * One hash table of routes keyed by prefix (kernel routes and learned
 * routes side by side; a prefix may hold several kernel routes, by metric
 * and device), a count of routes per family and prefix length so a
 * longest-match lookup probes only the lengths in use, the node's
 * addresses, and the tracked next hops with their cached answers.
 *
 * A lookup for address a walks the lengths from the longest down.  At the
 * first length with a route for a that is not on the way (the route being
 * resolved and the learned routes the walk went through), the route with
 * the lowest metric decides, as in the kernel: a connected route gives a
 * itself on its device, a route with a gateway gives that hop, a
 * blackhole (or any non-unicast route) gives nothing, a learned route
 * gives what its own BGP next hops resolve to.  A learned route that
 * resolves to nothing is about to be removed from the kernel, so the
 * kernel routes of the same prefix, or the shorter ones, are looked at
 * instead, which keeps the answer from flapping while it goes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "hash.h"
#include "nexthop.h"

#define NH_BUDGET	256		/* lookups per answer (fan-out bound) */

struct nh_rt {
	struct hnode	hn;		/* in nh_table.rt, by prefix */
	struct prefix	p;		/* host bits clear */
	bool		learned;
	uint8_t		type;		/* kernel: RTN_* */
	uint32_t	metric;
	struct route_nh	hop;		/* kernel: its (first) hop */
	size_t		n;		/* learned: its BGP next hops */
	struct ipaddr	nh[];
};

struct nh_addr {
	struct hnode	hn;
	struct ipaddr	a;
	int		ifindex;
};

struct nh_track {
	struct hnode	hn;
	struct ipaddr	a;
	struct nh_res	res;
};

struct nh_table {
	struct htab	rt;		/* struct nh_rt */
	struct htab	addr;		/* struct nh_addr */
	struct htab	track;		/* struct nh_track */
	uint32_t	nlen[2][129];	/* routes per family and length */
	unsigned	flags;		/* NH_F_* */
	bool		dirty;
};

static int
fam_idx(int family)
{
	return family == AF_INET ? 0 : family == AF_INET6 ? 1 : -1;
}

/* What a learned route's metric is in the kernel (kroute sets none). */
static uint32_t
learned_metric(int family)
{
	return family == AF_INET6 ? 1024 : 0;
}

static uint32_t
pfx_hash(const struct prefix *p)
{
	uint32_t h = hash_fnv1a32(HASH_FNV32_INIT, &p->len, 1);

	h = hash_fnv1a32(h, &p->addr.family, sizeof(p->addr.family));
	return hash_finish32(hash_fnv1a32(h, p->addr.u.b, ipaddr_len(p->addr.family)));
}

static uint32_t
addr_hash(const struct ipaddr *a)
{
	uint32_t h = hash_fnv1a32(HASH_FNV32_INIT, &a->family, sizeof(a->family));

	return hash_finish32(hash_fnv1a32(h, a->u.b, ipaddr_len(a->family)));
}

struct nh_table *
nh_table_new(void)
{
	struct nh_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	(void)htab_init(&t->rt, 0);
	(void)htab_init(&t->addr, 0);
	(void)htab_init(&t->track, 0);
	return t;
}

static void
rt_remove(struct nh_table *t, struct nh_rt *e)
{
	htab_remove(&t->rt, &e->hn);
	t->nlen[fam_idx(e->p.addr.family)][e->p.len]--;
	free(e);
	t->dirty = true;
}

static int
rt_insert(struct nh_table *t, struct nh_rt *e)
{
	int r = htab_insert(&t->rt, &e->hn, pfx_hash(&e->p));

	if (r < 0) {
		free(e);
		return r;
	}
	t->nlen[fam_idx(e->p.addr.family)][e->p.len]++;
	t->dirty = true;
	return 0;
}

void
nh_table_free(struct nh_table *t)
{
	struct hnode *hn, *nx;
	size_t i;

	if (t == NULL)
		return;
	HTAB_FOR_EACH_SAFE(&t->rt, i, hn, nx)
		free(HTAB_ENTRY(hn, struct nh_rt, hn));
	HTAB_FOR_EACH_SAFE(&t->addr, i, hn, nx)
		free(HTAB_ENTRY(hn, struct nh_addr, hn));
	HTAB_FOR_EACH_SAFE(&t->track, i, hn, nx)
		free(HTAB_ENTRY(hn, struct nh_track, hn));
	htab_done(&t->rt);
	htab_done(&t->addr);
	htab_done(&t->track);
	free(t);
}

void
nh_set_flags(struct nh_table *t, unsigned flags)
{
	if (t->flags != flags)
		t->dirty = true;
	t->flags = flags;
}

bool
nh_dirty(const struct nh_table *t)
{
	return t->dirty;
}

/* ---- addresses ---- */

static struct nh_addr *
addr_find(const struct nh_table *t, const struct ipaddr *a, int ifindex)
{
	uint32_t h = addr_hash(a);
	struct hnode *hn;

	HTAB_FOR_EACH_HASH(&t->addr, h, hn) {
		struct nh_addr *e = HTAB_ENTRY(hn, struct nh_addr, hn);

		if (ipaddr_eq(&e->a, a) && (ifindex < 0 || e->ifindex == ifindex))
			return e;
	}
	return NULL;
}

int
nh_addr_add(struct nh_table *t, const struct ipaddr *a, int ifindex)
{
	struct nh_addr *e;
	int r;

	if (fam_idx(a->family) < 0)
		return -EAFNOSUPPORT;
	if (addr_find(t, a, ifindex) != NULL)
		return 0;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -ENOMEM;
	e->a = *a;
	e->ifindex = ifindex;
	if ((r = htab_insert(&t->addr, &e->hn, addr_hash(a))) < 0) {
		free(e);
		return r;
	}
	t->dirty = true;
	return 0;
}

void
nh_addr_del(struct nh_table *t, const struct ipaddr *a, int ifindex)
{
	struct nh_addr *e = addr_find(t, a, ifindex);

	if (e == NULL)
		return;
	htab_remove(&t->addr, &e->hn);
	free(e);
	t->dirty = true;
}

bool
nh_is_local(const struct nh_table *t, const struct ipaddr *a)
{
	return addr_find(t, a, -1) != NULL;
}

/* ---- routes ---- */

static bool
kernel_key_eq(const struct nh_rt *e, const struct prefix *p, uint32_t metric, int oif)
{
	return !e->learned && e->metric == metric && e->hop.oif == oif && prefix_eq(&e->p, p);
}

static void
kernel_drop(struct nh_table *t, const struct prefix *p, uint32_t metric, int oif, bool any_oif)
{
	uint32_t h = pfx_hash(p);
	struct hnode *hn;
	bool again = true;

	/* one at a time: removing breaks the chain walk */
	while (again) {
		again = false;
		HTAB_FOR_EACH_HASH(&t->rt, h, hn) {
			struct nh_rt *e = HTAB_ENTRY(hn, struct nh_rt, hn);

			if (!e->learned && e->metric == metric && prefix_eq(&e->p, p) &&
			    (any_oif || e->hop.oif == oif)) {
				rt_remove(t, e);
				again = true;
				break;
			}
		}
	}
}

static bool
kernel_type_ok(uint8_t type)
{
	switch (type) {
	case RTN_UNICAST:
	case RTN_BLACKHOLE:
	case RTN_UNREACHABLE:
	case RTN_PROHIBIT:
	case RTN_THROW:
		return true;
	}
	return false;		/* local, broadcast, multicast: not forwarding */
}

static void
rt_key(const struct route *rt, struct prefix *ret)
{
	*ret = rt->dst;
	prefix_mask(ret);
}

int
nh_kernel_add(struct nh_table *t, const struct route *rt, bool replace)
{
	struct prefix p;
	struct nh_rt *e;
	uint32_t h;
	struct hnode *hn;
	uint8_t type = rt->type ? rt->type : RTN_UNICAST;

	if (fam_idx(rt->dst.addr.family) < 0 || !kernel_type_ok(type))
		return 0;
	rt_key(rt, &p);
	if (replace)
		kernel_drop(t, &p, rt->priority, 0, true);
	/* a unicast route with neither gateway nor device points at a
	 * nexthop object (RTA_NH_ID), which we do not read: not used */
	if (type == RTN_UNICAST && !rt->gateway.family && rt->oif <= 0)
		return 0;
	h = pfx_hash(&p);
	HTAB_FOR_EACH_HASH(&t->rt, h, hn) {
		e = HTAB_ENTRY(hn, struct nh_rt, hn);
		if (kernel_key_eq(e, &p, rt->priority, rt->oif)) {
			e->type = type;
			e->hop.gw = rt->gateway;
			e->hop.flags = rt->flags & ROUTE_F_ONLINK;
			t->dirty = true;
			return 0;
		}
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -ENOMEM;
	e->p = p;
	e->type = type;
	e->metric = rt->priority;
	e->hop.gw = rt->gateway;
	e->hop.oif = rt->oif;
	e->hop.flags = rt->flags & ROUTE_F_ONLINK;
	return rt_insert(t, e);
}

void
nh_kernel_del(struct nh_table *t, const struct route *rt)
{
	struct prefix p;

	if (fam_idx(rt->dst.addr.family) < 0)
		return;
	rt_key(rt, &p);
	kernel_drop(t, &p, rt->priority, rt->oif, false);
}

void
nh_kernel_replaced(struct nh_table *t, const struct route *rt)
{
	struct prefix p;

	if (fam_idx(rt->dst.addr.family) < 0)
		return;
	rt_key(rt, &p);
	kernel_drop(t, &p, rt->priority, 0, true);
}

static void
kernel_sweep(struct nh_table *t, int ifindex, bool all)
{
	struct hnode *hn, *nx;
	size_t i;

	HTAB_FOR_EACH_SAFE(&t->rt, i, hn, nx) {
		struct nh_rt *e = HTAB_ENTRY(hn, struct nh_rt, hn);

		if (!e->learned && (all || e->hop.oif == ifindex))
			rt_remove(t, e);
	}
}

void
nh_kernel_link_down(struct nh_table *t, int ifindex)
{
	if (ifindex > 0)
		kernel_sweep(t, ifindex, false);
}

void
nh_kernel_clear(struct nh_table *t)
{
	struct hnode *hn, *nx;
	size_t i;

	kernel_sweep(t, 0, true);
	HTAB_FOR_EACH_SAFE(&t->addr, i, hn, nx) {
		htab_remove(&t->addr, hn);
		free(HTAB_ENTRY(hn, struct nh_addr, hn));
	}
	t->dirty = true;
}

static struct nh_rt *
learned_find(const struct nh_table *t, const struct prefix *p)
{
	uint32_t h = pfx_hash(p);
	struct hnode *hn;

	HTAB_FOR_EACH_HASH(&t->rt, h, hn) {
		struct nh_rt *e = HTAB_ENTRY(hn, struct nh_rt, hn);

		if (e->learned && prefix_eq(&e->p, p))
			return e;
	}
	return NULL;
}

int
nh_learned_set(struct nh_table *t, const struct prefix *p, const struct ipaddr *nh, size_t n)
{
	struct prefix k = *p;
	struct nh_rt *e;

	if (fam_idx(p->addr.family) < 0)
		return -EAFNOSUPPORT;
	prefix_mask(&k);
	if ((e = learned_find(t, &k)) != NULL) {
		bool same = e->n == n;

		for (size_t i = 0; same && i < n; i++)
			same = ipaddr_eq(&e->nh[i], &nh[i]);
		if (same)
			return 0;
		rt_remove(t, e);
	}
	if (n == 0)
		return 0;
	if ((e = calloc(1, sizeof(*e) + n * sizeof(*nh))) == NULL)
		return -ENOMEM;
	e->p = k;
	e->learned = true;
	e->type = RTN_UNICAST;
	e->metric = learned_metric(k.addr.family);
	e->n = n;
	memcpy(e->nh, nh, n * sizeof(*nh));
	return rt_insert(t, e);
}

/* ---- resolution ---- */

bool
route_nh_eq(const struct route_nh *a, const struct route_nh *b)
{
	return route_nh_cmp(a, b) == 0;
}

int
route_nh_cmp(const struct route_nh *a, const struct route_nh *b)
{
	int c = ipaddr_cmp(&a->gw, &b->gw);

	if (c != 0)
		return c;
	if (a->oif != b->oif)
		return a->oif < b->oif ? -1 : 1;
	if (a->flags != b->flags)
		return a->flags < b->flags ? -1 : 1;
	return 0;
}

static int
route_nh_qcmp(const void *a, const void *b)
{
	return route_nh_cmp(a, b);
}

static void
hops_add(struct route_nh *hops, size_t *n, size_t max, const struct route_nh *h)
{
	for (size_t i = 0; i < *n; i++)
		if (route_nh_eq(&hops[i], h))
			return;
	if (*n < max)
		hops[(*n)++] = *h;
}

struct nh_walk {
	const struct nh_table *t;
	const struct prefix *chain[NH_DEPTH_MAX + 1];	/* the way here */
	size_t depth;
	unsigned budget;
	struct nh_res *res;		/* the answer being built: its via */
};

static bool
on_chain(const struct nh_walk *w, const struct prefix *p)
{
	for (size_t i = 0; i < w->depth; i++)
		if (prefix_eq(w->chain[i], p))
			return true;
	return false;
}

static void
via_add(struct nh_res *res, const struct prefix *p)
{
	for (size_t i = 0; i < res->n_via; i++)
		if (prefix_eq(&res->via[i], p))
			return;
	if (res->n_via < NH_VIA_MAX)
		res->via[res->n_via++] = *p;
	else
		res->via_more = true;
}

static bool
is_link_local(const struct ipaddr *a)
{
	return a->family == AF_INET6 && a->u.b[0] == 0xfe && (a->u.b[1] & 0xc0) == 0x80;
}

/* The hops of learned route lr: what its next hops resolve to, not
 * through lr or the way here.  0 when none resolves. */
static size_t walk(struct nh_walk *w, const struct ipaddr *a, struct route_nh *hops,
		   enum ld_nh_state *ret_state);

static size_t
walk_learned(struct nh_walk *w, const struct nh_rt *lr, struct route_nh *hops)
{
	size_t n = 0;

	if (w->depth >= NH_DEPTH_MAX + 1)
		return 0;
	w->chain[w->depth++] = &lr->p;
	for (size_t i = 0; i < lr->n; i++) {
		struct route_nh sub[NH_HOPS_MAX];
		enum ld_nh_state st;
		size_t sn = walk(w, &lr->nh[i], sub, &st);

		for (size_t j = 0; j < sn; j++)
			hops_add(hops, &n, NH_HOPS_MAX, &sub[j]);
	}
	w->depth--;
	if (n > 0)
		via_add(w->res, &lr->p);
	return n;
}

/* Resolve a: its hops (0: none; *ret_state says why). */
static size_t
walk(struct nh_walk *w, const struct ipaddr *a, struct route_nh *hops,
     enum ld_nh_state *ret_state)
{
	const struct nh_table *t = w->t;
	int fi = fam_idx(a->family);
	size_t n = 0;

	*ret_state = LD_NH_UNREACHABLE;
	if (fi < 0 || w->budget == 0)
		return 0;
	w->budget--;
	if (nh_is_local(t, a)) {
		*ret_state = LD_NH_LOCAL;
		return 0;
	}
	for (int len = (int)prefix_maxlen(a->family); len >= 0; len--) {
		const struct nh_rt *lr = NULL;
		uint32_t kmetric = UINT32_MAX, h;
		struct hnode *hn;
		struct prefix k;
		int oif = -1;
		bool many = false;

		if (t->nlen[fi][len] == 0)
			continue;
		memset(&k, 0, sizeof(k));
		k.addr = *a;
		k.len = (uint8_t)len;
		prefix_mask(&k);
		h = pfx_hash(&k);
		HTAB_FOR_EACH_HASH(&t->rt, h, hn) {
			const struct nh_rt *e = HTAB_ENTRY(hn, struct nh_rt, hn);

			if (!prefix_eq(&e->p, &k))
				continue;
			if (e->learned) {
				if (!on_chain(w, &e->p))
					lr = e;
			} else if (e->metric < kmetric) {
				kmetric = e->metric;
			}
		}
		if (lr != NULL && (kmetric == UINT32_MAX || lr->metric <= kmetric)) {
			if ((n = walk_learned(w, lr, hops)) > 0) {
				*ret_state = LD_NH_USABLE;
				return n;
			}
			/* resolves nothing: it goes; what is under it stays */
		}
		if (kmetric == UINT32_MAX)
			continue;
		HTAB_FOR_EACH_HASH(&t->rt, h, hn) {
			const struct nh_rt *e = HTAB_ENTRY(hn, struct nh_rt, hn);
			struct route_nh c;

			if (e->learned || e->metric != kmetric || !prefix_eq(&e->p, &k))
				continue;
			if (e->type != RTN_UNICAST)
				return 0;		/* a blackhole, unreachable ... */
			if (e->hop.gw.family) {
				c = e->hop;
			} else {
				memset(&c, 0, sizeof(c));
				c.gw = *a;
				c.oif = e->hop.oif;
			}
			if (oif >= 0 && c.oif != oif)
				many = true;
			oif = c.oif;
			hops_add(hops, &n, NH_HOPS_MAX, &c);
		}
		/* fe80::/64 is on every interface: which one is not ours to guess */
		if (many && is_link_local(a))
			return 0;
		if (n > 0)
			*ret_state = LD_NH_USABLE;
		return n;
	}
	return 0;
}

void
nh_resolve(const struct nh_table *t, const struct ipaddr *a, const struct prefix *self,
	   struct nh_res *ret)
{
	struct nh_walk w;
	struct route_nh hops[NH_HOPS_MAX];
	enum ld_nh_state st;
	size_t n;

	memset(ret, 0, sizeof(*ret));
	memset(&w, 0, sizeof(w));
	w.t = t;
	w.budget = NH_BUDGET;
	w.res = ret;
	if (self != NULL)
		w.chain[w.depth++] = self;
	n = walk(&w, a, hops, &st);
	ret->state = st;
	if (n == 0) {
		if (st == LD_NH_USABLE)
			ret->state = LD_NH_UNREACHABLE;
		ret->n_via = 0;
		ret->via_more = false;
		memset(ret->via, 0, sizeof(ret->via));
		return;
	}
	ret->recursive = ret->n_via > 0;
	for (size_t i = 0; i < n && !ret->recursive; i++)
		if (!ipaddr_eq(&hops[i].gw, a))
			ret->recursive = true;
	if (ret->recursive && (t->flags & NH_F_ONLINK)) {
		size_t m = 0;
		struct route_nh ol[NH_HOPS_MAX];

		for (size_t i = 0; i < n; i++) {
			struct route_nh c;

			if (hops[i].oif <= 0)
				continue;
			memset(&c, 0, sizeof(c));
			c.gw = *a;
			c.oif = hops[i].oif;
			c.flags = ROUTE_F_ONLINK;
			hops_add(ol, &m, NH_HOPS_MAX, &c);
		}
		if (m > 0) {
			memcpy(hops, ol, m * sizeof(*ol));
			n = m;
		}
	}
	qsort(hops, n, sizeof(*hops), route_nh_qcmp);
	memcpy(ret->hop, hops, n * sizeof(*hops));
	ret->n = (uint8_t)n;
}

static bool
res_via(const struct nh_res *r, const struct prefix *p)
{
	if (r->via_more)
		return true;
	for (size_t i = 0; i < r->n_via; i++)
		if (prefix_eq(&r->via[i], p))
			return true;
	return false;
}

size_t
nh_route_hops(const struct nh_table *t, const struct prefix *p, const struct ipaddr *nh,
	      size_t n, struct route_nh *ret, size_t max)
{
	struct prefix k = *p;
	size_t m = 0;

	prefix_mask(&k);
	for (size_t i = 0; i < n; i++) {
		const struct nh_res *r = nh_tracked(t, &nh[i]);
		struct nh_res tmp;

		if (r == NULL || res_via(r, &k)) {
			nh_resolve(t, &nh[i], &k, &tmp);
			r = &tmp;
		}
		if (r->state != LD_NH_USABLE)
			continue;
		for (size_t j = 0; j < r->n; j++)
			hops_add(ret, &m, max, &r->hop[j]);
	}
	qsort(ret, m, sizeof(*ret), route_nh_qcmp);
	return m;
}

bool
nh_res_eq(const struct nh_res *a, const struct nh_res *b)
{
	if (a->state != b->state || a->recursive != b->recursive || a->n != b->n ||
	    a->n_via != b->n_via || a->via_more != b->via_more)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!route_nh_eq(&a->hop[i], &b->hop[i]))
			return false;
	for (size_t i = 0; i < a->n_via; i++)
		if (!prefix_eq(&a->via[i], &b->via[i]))
			return false;
	return true;
}

/* ---- tracked next hops ---- */

static struct nh_track *
track_find(const struct nh_table *t, const struct ipaddr *a)
{
	uint32_t h = addr_hash(a);
	struct hnode *hn;

	HTAB_FOR_EACH_HASH(&t->track, h, hn) {
		struct nh_track *e = HTAB_ENTRY(hn, struct nh_track, hn);

		if (ipaddr_eq(&e->a, a))
			return e;
	}
	return NULL;
}

const struct nh_res *
nh_track(struct nh_table *t, const struct ipaddr *a)
{
	struct nh_track *e = track_find(t, a);

	if (e != NULL)
		return &e->res;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->a = *a;
	nh_resolve(t, a, NULL, &e->res);
	if (htab_insert(&t->track, &e->hn, addr_hash(a)) < 0) {
		free(e);
		return NULL;
	}
	return &e->res;
}

void
nh_untrack(struct nh_table *t, const struct ipaddr *a)
{
	struct nh_track *e = track_find(t, a);

	if (e == NULL)
		return;
	htab_remove(&t->track, &e->hn);
	free(e);
}

const struct nh_res *
nh_tracked(const struct nh_table *t, const struct ipaddr *a)
{
	const struct nh_track *e = track_find(t, a);

	return e ? &e->res : NULL;
}

size_t
nh_tracked_count(const struct nh_table *t)
{
	return t->track.count;
}

size_t
nh_eval(struct nh_table *t,
	void (*cb)(const struct ipaddr *a, const struct nh_res *old, const struct nh_res *res,
		   void *arg), void *arg)
{
	struct hnode *hn, *nx;
	size_t i, changed = 0;

	if (!t->dirty)
		return 0;
	t->dirty = false;
	HTAB_FOR_EACH_SAFE(&t->track, i, hn, nx) {
		struct nh_track *e = HTAB_ENTRY(hn, struct nh_track, hn);
		struct nh_res r, old;

		nh_resolve(t, &e->a, NULL, &r);
		if (nh_res_eq(&r, &e->res))
			continue;
		old = e->res;
		e->res = r;
		changed++;
		if (cb != NULL)
			cb(&e->a, &old, &e->res, arg);
	}
	return changed;
}

const char *
nh_state_name(enum ld_nh_state s)
{
	switch (s) {
	case LD_NH_UNKNOWN:	return "not resolved yet";
	case LD_NH_USABLE:	return "usable";
	case LD_NH_LOCAL:	return "our own address";
	case LD_NH_UNREACHABLE:	return "not reachable (no connected network or route resolves it)";
	}
	return "?";
}
