/* rde_priv.h — what rde.c (Adj-RIB-In, best path) and rde_out.c
 * (Adj-RIB-Out, UPDATE packing) share: the table structures, hashing.
 */
#ifndef LEAFNET_RDE_PRIV_H
#define LEAFNET_RDE_PRIV_H

#include <stdlib.h>
#include <string.h>

#include "bgp.h"
#include "hash.h"

#define RDE_ECMP_MAX	16
#define RDE_BATCH	4096	/* prefixes sorted and packed per round */

/* ---- interned path attributes (received) ---- */

#define ASET_F_MED	0x1
#define ASET_F_LP	0x2
#define ASET_F_ORIG	0x4

struct rde_nexthop;

struct rde_aset {
	struct hnode	 hn;		/* in rde.atab; hn.hash is the key's */
	uint32_t	 refcnt;
	struct rde_nexthop *nh;		/* nexthop's state (rde_nexthop.c) */
	struct ipaddr	 nexthop;
	uint32_t	 med, local_pref, originator_id;
	uint32_t	 first_as;	/* neighbouring AS, for MED */
	uint16_t	 pathlen;	/* bgp_aspath_count() */
	uint8_t		 origin, flags;
	uint16_t	 nsegs, nasns, n_cluster, n_comm, n_lcomm;
	uint32_t	 nwords;
	uint32_t	 w[];		/* segs, asns, cluster, comm, lcomm */
};
/* The part of an aset that is its key (hashed and compared as bytes). */
#define ASET_KEY_OFF	offsetof(struct rde_aset, nexthop)
#define ASET_KEY_LEN	(offsetof(struct rde_aset, w) - ASET_KEY_OFF)

struct rde_path {
	struct rde_path	*next;
	struct peer	*peer;
	struct rde_aset	*a;
	struct rde_prefix *rp;		/* the prefix it is a path to */
	struct rde_path	*nh_next, **nh_pprev;	/* on its next hop's list */
	bool		 stale;		/* kept across the peer's restart (gr.c) */
};

/* A next hop the paths use, and what the local side says of it: a path
 * whose next hop is not usable (our own address, unresolvable, not
 * answered yet) stays in the Adj-RIB-In but never takes part in the
 * decision (RFC 4271 §9.1.2). */
struct rde_nexthop {
	struct hnode	 hn;		/* in rde.ntab */
	struct ipaddr	 addr;
	uint32_t	 refcnt;	/* attribute sets with this next hop */
	uint32_t	 state;		/* enum ld_nh_state, from NH_STATE */
	bool		 self;		/* our router id or advertised next hop */
	struct rde_path	*paths;		/* every path through it */
};

static inline bool
rde_nh_usable(const struct rde_nexthop *nh)
{
	return nh != NULL && nh->state == LD_NH_USABLE && !nh->self;
}

struct rde_prefix {
	struct hnode	 hn;		/* in rde.ptab */
	struct prefix	 p;
	struct rde_path	*paths;
	uint32_t	 nh_hash;	/* what we told kroute, to skip no-ops */
	uint8_t		 nh_n;
	/* route reflection (rde_rr.c): the path reflected now, as it was
	 * chosen (rr_from NULL: none); a reference to rr_a is held */
	bool		 rr_client;	/* rr_from was a client then */
	struct peer	*rr_from;
	struct rde_aset	*rr_a;
	uint32_t	 rr_orig;	/* ORIGINATOR_ID sent */
};

/* ---- interned export attributes (sent) ---- */

struct rde_xattr {
	struct hnode	 hn;		/* in rde.xtab */
	uint32_t	 refcnt;
	struct ld_export e;
};

struct rde_out {
	struct hnode	 hn;		/* in rde_peer.out */
	struct rde_out	*next;		/* queue order */
	struct prefix	 p;
	struct rde_xattr *x;		/* a local route; NULL: see ra */
	struct rde_aset	*ra;		/* a reflected one (rde_rr.c); both
					 * NULL: withdraw */
	uint32_t	 ra_orig;	/* its ORIGINATOR_ID */
};

/* The RDE's state for one peer: its Adj-RIB-Out queue, coalesced by
 * prefix, and where its table dump stands. */
struct rde_peer {
	struct htab	 out;		/* struct rde_out by prefix */
	struct rde_out	*head, *tail;	/* oldest first */
	uint32_t	 dump_id;	/* LOCAL_DUMP_REQ outstanding; 0 = none */
	bool		 eor_pending;	/* End-of-RIB after the dump and queue */
};

struct rde {
	struct htab	 ptab;		/* struct rde_prefix */
	struct htab	 atab;		/* struct rde_aset */
	struct htab	 xtab;		/* struct rde_xattr */
	struct htab	 ltab;		/* struct rde_local (rde_rr.c) */
	struct htab	 ntab;		/* struct rde_nexthop */
	struct bgp	*bgp;
	struct bgp_attrs *scratch;	/* export attributes being built */
	struct rde_out	*batch[RDE_BATCH];
	struct prefix	 pfx[RDE_BATCH];
	bool		 warned_nh6;
};

/* ---- shared between the files ---- */

/* rde.c */
void	 aset_put(struct rde *r, struct rde_aset *s);	/* NULL-safe */
/* Run the decision for p again (after something other than its paths
 * changed); nothing when no path is stored for p. */
void	 rde_decide_prefix(struct bgp *b, const struct prefix *p);

/* rde_out.c: queue for peer a local route (x), a reflected one (ra,
 * with ORIGINATOR_ID orig) or, both NULL, a withdraw of p, replacing
 * what is pending for p. */
void	 rde_out_set(struct peer *peer, const struct prefix *p,
	    struct rde_xattr *x, struct rde_aset *ra, uint32_t orig);

/* rde_rr.c: route reflection (RFC 4456) */
void	 rr_init(struct rde *r);
void	 rr_done(struct rde *r);
/* p's best path is now best (NULL: none): reflect it, or withdraw what
 * was reflected, to the peers that should see the change. */
void	 rr_decide(struct bgp *b, struct rde_prefix *rp,
	    const struct rde_path *best);
/* A local route for p appeared (present) or went (LOCAL_ADV/WD id 0,
 * already queued for every peer): a prefix we originate is not
 * reflected. */
void	 rr_local(struct bgp *b, const struct prefix *p, bool present);
/* Queue every reflected route peer should have (it came up, or asked
 * for a refresh). */
void	 rr_peer_dump(struct peer *peer);
/* The attributes of a reflected route for peer. */
const struct bgp_attrs *rr_export_attrs(struct peer *peer,
	    const struct rde_aset *a, uint32_t orig);
/* rde.c */
/* Decide p again (its paths' next hops changed state). */
void	rde_decide(struct bgp *b, struct rde_prefix *rp);

/* rde_nexthop.c */
void	rde_nh_init(struct rde *r);
void	rde_nh_done(struct rde *r);
/* The next hop a (a reference; the local side is asked about a new one),
 * NULL on OOM / drop a reference. */
struct rde_nexthop *rde_nh_get(struct rde *r, const struct ipaddr *a);
void	rde_nh_put(struct rde *r, struct rde_nexthop *nh);
/* Path x joins / leaves the list of x->a->nh. */
void	rde_nh_link(struct rde_path *x);
void	rde_nh_unlink(struct rde_path *x);

/* ---- hashing ---- */

static inline uint32_t
prefix_hash(const struct prefix *p)
{
	uint32_t h = hash_fnv1a32(HASH_FNV32_INIT, &p->len, 1);

	h = hash_fnv1a32(h, p->addr.u.b, ipaddr_len(p->addr.family));
	return hash_finish32(h);
}

static inline bool
pfx_eq(const struct prefix *a, const struct prefix *b)
{
	return a->len == b->len && a->addr.family == b->addr.family &&
	    memcmp(a->addr.u.b, b->addr.u.b,
	    ipaddr_len(a->addr.family)) == 0;
}

#endif
