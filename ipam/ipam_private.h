/* ipam_private.h — shared by the ipam/ sources only: store keys, the JSON records
 * and the helpers that run with the network's lock held.
 *
 * Store layout (one network <net>):
 *   networks/<net>                network JSON (network.c)
 *   blocks/<net>/<cidr_>          {"node","cidr"}: a block claimed by node;
 *                                  also a nested block, inside another
 *                                  node's block (ipam_split.c)
 *   owners/<net>/<hash>-<ifname>  {"container_id","ifname","handle","node",
 *                                  "created","addrs":[...]}: what one
 *                                  owner holds (the owner record)
 *   alloc/<net>/<addr>            one allocation: the owner record of its
 *                                  owner (only the owner fields and
 *                                  "created" count; the address is the key)
 *   hints/<net>/<node>            {"v4","v6"}, blank-padded: last address
 *                                  this node handed out (round-robin start)
 * An ADD writes the owner record once, as one file hard-linked under the
 * allocation key of each new address and under the owner key (the puts of
 * one val in its store_txn, each expected absent): one file creation
 * instead of one per key.  Who writes what without the network lock:
 * ipam.c's header.  A later
 * put or delete of one key leaves the other links alone, so a record under
 * an alloc key may list addresses its owner no longer holds; its "addrs"
 * are never read there.
 * The owner key is a 64-bit FNV-1a hash of "cid\0ifname" plus a sanitised
 * ifname; the full id and ifname inside the JSON are compared on every read,
 * so a hash collision reads as "no index" and never as someone else's.
 */
#ifndef LEAFNET_IPAM_PRIVATE_H
#define LEAFNET_IPAM_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include "prefix.h"
#include "ipam.h"

struct store;
struct store_lock;
struct network;
struct network_subnet;

#define IPAM_KEY_MAX 384

struct ipam_index {
	struct ipam_owner owner;
	char node[LEAFNET_NAME_MAX];
	time_t created;			/* 0: not recorded */
	size_t n_addrs;
	struct ipaddr addrs[IPAM_MAX_ADDRS];
};

/* ipam_rec.c */
struct lf_err;

/* -EINVAL (and reterr) unless name is a valid network name. */
int  ipam_name_check(const char *name, struct lf_err *reterr);
/* The network's lock; on failure reterr says "cannot lock network". */
int  ipam_lock(struct store *s, const char *net, struct store_lock **ret,
	       struct lf_err *reterr);
/* This host's lock of the network (store_lock_local): serialises the ADDs
 * and DELs of this host in net, nothing else (see ipam.c). */
int  ipam_lock_local(struct store *s, const char *net, struct store_lock **ret,
		     struct lf_err *reterr);
int  ipam_key_alloc(char *buf, size_t size, const char *net, const struct ipaddr *a);
int  ipam_key_block(char *buf, size_t size, const char *net, const struct prefix *p);
int  ipam_key_owner(char *buf, size_t size, const char *net, const char *cid,
		    const char *ifname);
/* The names under <kind>/<net> ("alloc", "blocks", "owners"), sorted. */
int  ipam_list_names(struct store *s, const char *kind, const char *net, char ***ret,
		     size_t *ret_n);
bool ipam_owner_is(const struct ipam_owner *o, const char *cid, const char *ifname);

/* r (a failed read) says the record is there but cannot be used: not
 * JSON or the wrong shape, a directory, a read error.  Not absence, not a
 * datastore that cannot be reached (store_err_transient), not ENOMEM. */
bool ipam_rec_broken(int r);
/* The names under alloc/<net>: values and, damaged, directories; sorted. */
int  ipam_alloc_names(struct store *s, const char *net, char ***ret, size_t *ret_n);
/* When the owner record of (cid, ifname) cannot be read: the addresses the
 * allocation records give it — readable ones naming it, and damaged ones
 * that are the same stored record as its owner key (store_same_record);
 * broken[i] says which.  At most max. */
int  ipam_owner_recover(struct store *s, const char *net, const char *cid,
			const char *ifname, struct ipaddr *ret, bool *ret_broken, size_t max,
			size_t *ret_n);

/* The owner record's JSON (malloc'd, NULL on OOM). */
char *ipam_index_to_json(const struct ipam_index *x);
/* -ENOENT when absent, -EINVAL when unreadable. */
int  ipam_record_get(struct store *s, const char *net, const struct ipaddr *a,
		     struct ipam_record *ret);
/* -ENOENT when absent, -ENOTUNIQ when the key belongs to another
 * (cid, ifname) (a hash collision), -EINVAL when unreadable. */
int  ipam_index_get(struct store *s, const char *net, const char *cid,
		    const char *ifname, struct ipam_index *ret);
/* The same from a value read already: -EINVAL when unreadable. */
int  ipam_record_parse(const char *text, const char *net, const struct ipaddr *a,
		       struct ipam_record *ret);
int  ipam_index_parse(const char *text, struct ipam_index *ret);
/* key's value (malloc'd) and version token (STORE_VER_MAX bytes); -ENOENT
 * when absent, -EISDIR when damaged (a directory: ver "dir"). */
int  ipam_get_ver(struct store *s, const char *key, char **ret_text, char *ret_ver);
/* Delete key if its version is still ver (compare-and-delete): 0, or
 * -EAGAIN when it changed meanwhile (nothing deleted). */
int  ipam_delete_cas(struct store *s, const char *key, const char *ver);
/* Delete the allocation record of a if it is still damaged (unreadable):
 * 0, -ENOENT when gone, -EAGAIN when readable now or changed meanwhile. */
int  ipam_delete_broken(struct store *s, const char *net, const struct ipaddr *a);
/* By full key, no ownership check. */
int  ipam_index_read(struct store *s, const char *key, struct ipam_index *ret);
/* n_addrs == 0 deletes the index. */
int  ipam_index_put(struct store *s, const char *net, const struct ipam_index *x);

/* Block cidr from its claim record's text (ver left ""): an unreadable
 * claim still counts as claimed (node ""), never as ours. */
void ipam_block_parse(const char *text, const struct prefix *cidr, struct ipam_block *ret);
/* Blocks of net sorted by address (a nested block right after the block
 * holding it: by address, then length), n_used = 0, each with its
 * record's version.  *ret malloc'd. */
int  ipam_blocks_load(struct store *s, const char *net, struct ipam_block **ret,
		      size_t *ret_n);
/* Index of the innermost block holding a, or -1. blocks sorted as above. */
long ipam_block_find(const struct ipam_block *b, size_t n, const struct ipaddr *a);
/* Addresses with an allocation in net, sorted.  *ret malloc'd. */
int  ipam_used_load(struct store *s, const char *net, struct ipaddr **ret, size_t *ret_n);
bool ipam_used_has(const struct ipaddr *used, size_t n, const struct ipaddr *a);

/* The block length of sn's blocks (never shorter than sn). */
unsigned ipam_block_len(const struct network *n, const struct network_subnet *sn);
/* The innermost claimed block holding a (one lookup for the top-level
 * block, as every one of a network has the same size, then one
 * store_get_many() of its nested keys); -ENOENT when unclaimed. */
int  ipam_block_get(struct store *s, const struct network *n, const struct ipaddr *a,
		    struct ipam_block *ret);
/* Describe an allocated address for the caller (subnet, gateway, block,
 * borrowed as seen from node). */
int  ipam_addr_describe(struct store *s, const struct network *n, const char *node,
			const struct ipaddr *a, struct ipam_addr *ret);

/* ipam_split.c: nested blocks (see there for the rules). */
#define IPAM_SPLIT_DEPTH	3	/* nested blocks down to block_len + 3 */
#define IPAM_SPLIT_MAX_BITS	5	/* at most 32 addresses: one compare each, of
					 * STORE_TXN_MAX (64) keys in one txn */
#define IPAM_SPLIT_MAX_ADDRS	(1U << IPAM_SPLIT_MAX_BITS)
/* The longest nested block length for blocks of block_len. */
unsigned ipam_split_min_len(unsigned block_len, int family);
/* The keys of the nested blocks that could hold a inside the top-level
 * block `block` (one per length block->len + 1 .. min_len, shortest
 * first), at most max; returns how many.  An allocation of a in block must
 * find them all absent (or its own) — a lock-free commit compares them
 * absent in its txn. */
int  ipam_nested_keys(const char *net, const struct prefix *block, const struct ipaddr *a,
		      unsigned min_len, char (*keys)[IPAM_KEY_MAX], size_t max);
/* The innermost nested block of top-level block top holding a into *ret:
 * 1, or 0 (*ret untouched) when none.  One store_get_many().  An
 * unreadable nested claim counts as someone else's (node ""). */
int  ipam_nested_get(struct store *s, const char *net, const struct prefix *top,
		     const struct ipaddr *a, struct ipam_block *ret);
/* Choose the sub-prefix to claim for node in subnet: blocks sorted as
 * ipam_blocks_load(), used sorted (every allocation, and what this call
 * reserved).  -ENOSPC when no free one of ipam_split_min_len() or larger.
 * Always the largest free length first, the highest free sub-prefix of
 * that length in a block.  spread 0: the block with most free space (the
 * first of equals); else the (spread % k)-th of the k blocks that have
 * one and at least half the emptiest one's free space: hosts splitting at
 * once scatter over them instead of all racing for the emptiest
 * (split_block() spreads every try but the very first). -ENOMEM. */
int  ipam_split_choose(const struct ipam_block *blocks, size_t n, const struct ipaddr *used,
		       size_t n_used, const struct prefix *subnet, const char *node,
		       unsigned block_len, uint64_t spread, struct prefix *ret);
/* What stood in a lost claim's way, from its txn's failure branch (the
 * compared keys as they are now), so that the next try can choose without
 * listing the blocks and allocations again: the parent's record now
 * (ver set; parent_gone: absent or unreadable, read everything again),
 * the nested blocks that overlap sub, the addresses allocated inside it. */
#define IPAM_SPLIT_LOSS_NESTED	(2u << IPAM_SPLIT_DEPTH)
struct ipam_split_loss {
	bool parent_gone;
	struct ipam_block parent;
	struct ipam_block nested[IPAM_SPLIT_LOSS_NESTED];
	size_t n_nested;
	struct ipaddr used[IPAM_SPLIT_MAX_ADDRS];
	size_t n_used;
};
/* Claim sub for node in one store_txn() (a read of the parent's record
 * before it, unless known, the parent as listed with its version, is
 * marked lent already); -EAGAIN when something overlapping was claimed or
 * allocated meanwhile, or the parent changed: then *loss (if not NULL)
 * says what. */
int  ipam_split_claim(struct store *s, const char *net, const char *node,
		      const struct prefix *sub, unsigned block_len,
		      const struct ipam_block *known, struct ipam_split_loss *loss,
		      struct lf_err *reterr);

/* With the lock held: delete the allocation of a if it is still the one in
 * r (same owner), and drop it from its owner's index.  1 released, 0 not. */
int  ipam_release_locked(struct store *s, const char *net, const struct ipam_record *r);
/* With the lock held. */
int  ipam_purge_locked(struct store *s, const char *net);
int  ipam_count_locked(struct store *s, const char *net, size_t *ret_n);

#endif
