/* rde_priv.h — what rde.c (Adj-RIB-In, best path) and rde_out.c
 * (Adj-RIB-Out, UPDATE packing) share: the table structures, hashing.
 */
#ifndef LEAFNET_RDE_PRIV_H
#define LEAFNET_RDE_PRIV_H

#include <stdlib.h>
#include <string.h>

#include "bgp.h"

#define RDE_ECMP_MAX	16
#define RDE_BATCH	4096	/* prefixes sorted and packed per round */

/* ---- interned path attributes (received) ---- */

#define ASET_F_MED	0x1
#define ASET_F_LP	0x2
#define ASET_F_ORIG	0x4

struct rde_aset {
	struct rde_aset	*next;		/* hash chain */
	uint32_t	 hash, refcnt;
	struct ipaddr	 nexthop;
	uint32_t	 med, local_pref, originator_id;
	uint32_t	 first_as;	/* neighbouring AS, for MED */
	uint16_t	 pathlen;	/* bgp_aspath_count() */
	uint8_t		 origin, flags;
	uint16_t	 nsegs, nasns, n_cluster, n_comm, n_lcomm;
	uint32_t	 nwords;
	uint32_t	 w[];		/* segs, asns, cluster, comm, lcomm */
};

struct rde_path {
	struct rde_path	*next;
	struct peer	*peer;
	struct rde_aset	*a;
};

struct rde_prefix {
	struct rde_prefix *next;	/* hash chain */
	struct prefix	 p;
	struct rde_path	*paths;
	uint32_t	 nh_hash;	/* what kroute has, to skip no-ops */
	uint8_t		 nh_n;
};

/* ---- interned export attributes (sent) ---- */

struct rde_xattr {
	struct rde_xattr *next;
	uint32_t	 hash, refcnt;
	struct ld_export e;
};

struct rde_out {
	struct rde_out	*hnext;
	struct rde_out	*next, *prev;
	struct prefix	 p;
	struct rde_xattr *x;		/* NULL: withdraw */
};

struct rde {
	struct rde_prefix **ptab;
	size_t		 ptab_size, nprefix;
	struct rde_aset	**atab;
	size_t		 atab_size, naset;
	struct rde_xattr **xtab;
	size_t		 xtab_size, nxattr;
	struct bgp_attrs *scratch;	/* export attributes being built */
	struct rde_out	*batch[RDE_BATCH];
	struct prefix	 pfx[RDE_BATCH];
	bool		 warned_nh6;
};

/* ---- hashing ---- */

static inline uint32_t
fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n-- > 0)
		h = (h ^ *b++) * 16777619U;
	return h;
}

static inline uint32_t
prefix_hash(const struct prefix *p)
{
	uint32_t h = 2166136261U;

	h = fnv(h, &p->len, 1);
	h = fnv(h, p->addr.u.b, ipaddr_len(p->addr.family));
	return h ^ (h >> 15);
}

static inline bool
pfx_eq(const struct prefix *a, const struct prefix *b)
{
	return a->len == b->len && a->addr.family == b->addr.family &&
	    memcmp(a->addr.u.b, b->addr.u.b,
	    ipaddr_len(a->addr.family)) == 0;
}

/* Grow a chained table (an array of next-first nodes) to twice its size. */
#define TAB_GROW(tab, size, type, hashof) do {				\
	size_t ns_ = (size) ? (size) * 2 : 1024, i_;			\
	type **nt_ = calloc(ns_, sizeof(*nt_));				\
	type *e_, *n_;							\
	if (nt_ == NULL)						\
		break;		/* keep the old one: slower, still ok */\
	for (i_ = 0; i_ < (size); i_++)					\
		for (e_ = (tab)[i_]; e_ != NULL; e_ = n_) {		\
			n_ = e_->next;					\
			e_->next = nt_[(hashof(e_)) & (ns_ - 1)];	\
			nt_[(hashof(e_)) & (ns_ - 1)] = e_;		\
		}							\
	free(tab);							\
	(tab) = nt_;							\
	(size) = ns_;							\
} while (0)

#define PFX_HASHOF(e)	prefix_hash(&(e)->p)
#define SET_HASHOF(e)	((e)->hash)

#endif
