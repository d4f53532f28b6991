/* ipam.h — address allocation inside leafnet networks.
 *
 * Per-host blocks: a node claims blocks (default /26, /122) of a network's
 * subnet ("blocks/<net>/<cidr_>" holds the owning node) and allocates inside
 * its own blocks first, so it can advertise one aggregate per block.  When
 * no block can be claimed it claims a free aligned part of another node's
 * block as a nested block of its own (same record, "blocks/<net>/<sub>",
 * down to an eighth of a block: ipam_split.c), advertised as its own
 * aggregate; only when no such part is free anywhere does it borrow a
 * single free address from another node's block (advertised as a /32 /
 * /128).  The block's owner never hands out addresses of a part lent so.
 *
 * Allocations ("alloc/<net>/<addr>") record the owner; an index
 * ("owners/<net>/<owner-key>") maps (container id, ifname) to its
 * addresses so a repeated ADD returns the same addresses (idempotent) and
 * DEL is O(1).  All changes to one network happen under the network's store
 * lock; the address claim itself is an exclusive create, so a process killed
 * at any point never leaves an address owned twice — at worst an
 * allocation whose owner is gone, which GC releases.
 *
 * Never handed out: the subnet's network address, the IPv4 broadcast
 * address, and the gateway.
 *
 * Damaged records (ipam_check()) keep their addresses taken.  DEL frees
 * what a damaged record held when its owner can still be told: the owner
 * record lists the address, or (owner record damaged) the allocation
 * record names the owner or is the same stored record as the owner key; a
 * repeated ADD then keeps those addresses and writes the records anew.
 * Errors name the record's key. 
 */
#ifndef LEAFNET_IPAM_H
#define LEAFNET_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "prefix.h"
#include "conf.h"

struct store;
struct lf_err;

#define IPAM_ID_MAX      256	/* container id (CNI allows long ids) */
#define IPAM_IFNAME_MAX  16
#define IPAM_HANDLE_MAX  256
#define IPAM_MAX_ADDRS   4	/* per (container, ifname): one per family, + statics */

struct ipam_owner {
	char container_id[IPAM_ID_MAX];
	char ifname[IPAM_IFNAME_MAX];
	char handle[IPAM_HANDLE_MAX];	/* free text: "k8s:ns/pod", "docker:<ep>" */
};

struct ipam_req {
	const char *network;
	const char *node;		/* this host's node name */
	struct ipam_owner owner;
	unsigned families;		/* IPAM_F_V4 | IPAM_F_V6; 0 = every subnet */
	size_t n_static;		/* specific addresses wanted (CNI "ips", IP=) */
	struct ipaddr statics[IPAM_MAX_ADDRS];
};
#define IPAM_F_V4 (1U << 0)
#define IPAM_F_V6 (1U << 1)

struct ipam_addr {
	struct ipaddr addr;
	struct prefix subnet;		/* the network's subnet it came from */
	struct prefix block;		/* the block it lies in */
	struct ipaddr gateway;		/* the subnet's gateway, family 0 if none */
	bool borrowed;			/* from another node's block */
};

struct ipam_record {			/* one allocation, for listings and GC */
	struct ipaddr addr;
	char network[LEAFNET_NAME_MAX];
	char node[LEAFNET_NAME_MAX];
	struct ipam_owner owner;
	time_t created;
	int broken;			/* 0, or why the record cannot be read
					 * (-errno): the address stays taken */
};

/* A record that is there but cannot be used (not JSON, wrong shape, a
 * directory where a value belongs, a read error): what ipam_check() finds. */
struct ipam_broken {
	char key[384];			/* the store key */
	int  err;			/* -errno: why it cannot be read */
	char what[160];			/* what it holds or describes */
};

struct ipam_block {
	struct prefix cidr;
	char node[LEAFNET_NAME_MAX];
	size_t n_used;
	bool lent;			/* part of it is another node's nested
					 * block ("lent": true in its record) */
	char ver[48];			/* its record's version as read (STORE_VER_MAX),
					 * "" unknown: a split's txn compares it */
};

/* Allocate (or return the existing) addresses for req->owner.  Errors:
 * -ENOENT/LF_E_NOT_FOUND unknown network; -ENOSPC/LF_E_POOL_EXHAUSTED;
 * -EADDRINUSE/LF_E_ADDR_IN_USE static address owned by someone else;
 * -EINVAL/LF_E_INVALID static address outside every subnet or a
 * reserved one.  On failure nothing new stays allocated. */
int ipam_alloc(struct store *s, const struct ipam_req *req,
	       struct ipam_addr *ret, size_t max, size_t *ret_n, struct lf_err *reterr);
/* The same; *ret_had (not NULL) says whether the owner held addresses
 * before this call (a retried ADD), which a caller would otherwise learn
 * by an ipam_lookup() first: one store request less. */
int ipam_alloc_ex(struct store *s, const struct ipam_req *req,
		  struct ipam_addr *ret, size_t max, size_t *ret_n, bool *ret_had,
		  struct lf_err *reterr);

/* Release everything (container_id, ifname) holds in network; releasing
 * nothing is success (returns 0).  Returns the number released. */
int ipam_release(struct store *s, const char *network, const char *container_id,
		 const char *ifname, struct lf_err *reterr);
/* The same; ret_addrs[0..*ret_n) (at most max) are the addresses the
 * owner held and were released (what ipam_lookup() said before), so a
 * DEL needs no lookup first: one store request less. */
int ipam_release_ex(struct store *s, const char *network, const char *container_id,
		    const char *ifname, struct ipaddr *ret_addrs, size_t max, size_t *ret_n,
		    struct lf_err *reterr);
/* Release one address whatever its owner (Docker ReleaseAddress). */
int ipam_release_addr(struct store *s, const char *network, const struct ipaddr *a,
		      struct lf_err *reterr);

/* The addresses (container_id, ifname) holds; *ret_n = 0 when none. */
int ipam_lookup(struct store *s, const char *network, const char *container_id,
		const char *ifname, struct ipam_addr *ret, size_t max, size_t *ret_n);

/* Every allocation of network (NULL = all networks); *ret malloc'd. */
int ipam_list(struct store *s, const char *network, struct ipam_record **ret, size_t *ret_n);
/* A block claim's store key ("blocks/<net>/10.0.0.0_26") back to its
 * prefix, and the claiming node from its record's text (NULL or
 * unreadable: node ""), for a watcher deciding whether a change concerns
 * it; -EINVAL when key is no block key. */
int ipam_block_event(const char *key, const char *val, struct prefix *ret_cidr,
		     char *ret_node, size_t node_size);
/* Blocks of network; *ret malloc'd. */
int ipam_blocks(struct store *s, const char *network, struct ipam_block **ret, size_t *ret_n);
/* The same without reading the allocations (n_used stays 0): the claims
 * alone, for leafnetd's aggregates (one listing of blocks/, none of alloc/). */
int ipam_block_claims(struct store *s, const char *network, struct ipam_block **ret,
		      size_t *ret_n);

/* Pool usage of one network, for `netctl ipam show` (and metrics).
 * Sizes count usable addresses (never the subnet's network address, IPv4
 * broadcast or gateway) and saturate at UINT64_MAX.  An allocation is
 * borrowed when it lies outside every block its own node claimed. */
struct ipam_usage_block {
	struct prefix cidr;
	char     node[LEAFNET_NAME_MAX];
	uint64_t size;			/* usable addresses */
	uint64_t used;			/* allocations inside, by any node */
};
struct ipam_usage_node {
	char     node[LEAFNET_NAME_MAX];
	size_t   n_blocks;
	uint64_t size;			/* usable addresses in its blocks */
	uint64_t used;			/* allocations inside its blocks, by any node */
	uint64_t allocated;		/* allocations this node made */
	uint64_t borrowed;		/* ... of them outside its own blocks */
};
struct ipam_usage {
	uint64_t size;			/* usable addresses of every subnet */
	uint64_t claimed;		/* usable addresses in claimed blocks */
	uint64_t used;			/* allocations (damaged records included) */
	uint64_t borrowed;
	uint64_t damaged;		/* allocation records that cannot be read */
	size_t   n_blocks;
	struct ipam_usage_block *blocks;	/* sorted by address */
	size_t   n_nodes;
	struct ipam_usage_node *nodes;		/* sorted by name */
};
struct network;
int  ipam_usage(struct store *s, const struct network *n, struct ipam_usage *ret);
void ipam_usage_done(struct ipam_usage *u);	/* NULL-safe */

/* Release every allocation on `node` (NULL = any) for which keep() says
 * false.  Returns the number released. */
int ipam_gc(struct store *s, const char *node,
	    bool (*keep)(const struct ipam_record *r, void *arg), void *arg,
	    struct lf_err *reterr);

/* Damaged records: network records, and of network (NULL = every network)
 * its allocations, owner records and block claims.  A damaged allocation
 * keeps its address out of use until its owner's DEL (when the owner can
 * still be told: its owner record, or the same stored record under the
 * owner key), a GC that can judge its owner, or ipam_repair() frees it.
 * *ret malloc'd; *ret_n == 0 when all is well. */
int ipam_check(struct store *s, const char *network, struct ipam_broken **ret,
	       size_t *ret_n, struct lf_err *reterr);
/* Remove the damaged record under key (one that ipam_check() lists):
 * -EBUSY when it reads fine (nothing to repair), -ENOENT when absent,
 * -EINVAL for a key that is not an IPAM or network record. */
int ipam_repair(struct store *s, const char *key, struct lf_err *reterr);

/* Drop every allocation, owner index and block of a network (used by a
 * forced network delete). */
int ipam_purge_network(struct store *s, const char *network);

#endif
