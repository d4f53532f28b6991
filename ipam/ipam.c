/* ipam.c — allocate and release addresses of a network.
 *
 * Locks and compare-and-swap.  An ADD (ipam_alloc) and a DEL (ipam_release)
 * take no network-wide lock: only this host's lock of the network
 * ("ipam-local-<net>", store_lock_local: a flock, no round trip), which
 * serialises the ADDs and DELs of one host — the users of this node's hint
 * and of the owner records of this node's containers.  Across hosts the
 * store's compare-and-swap protects what the network lock ("ipam-<net>",
 * on etcd a lease-held key: several requests shared by every host) used
 * to: the commit is one store_txn that expects every new alloc key absent
 * (so no address is ever owned twice: another host's ADD, a borrow or a
 * static ADD of the same address fails one of the two txns), every newly
 * claimed block key absent (no block claimed twice), the owner key as read,
 * and the network record at the version read (a network deleted, recreated
 * or changed meanwhile fails the txn; the retry reads it again and says
 * "not found").  A failed txn writes nothing; the ADD starts again from
 * its reads (up to CAS_RETRIES times, then also under the network lock, as
 * GC and admin are).  A DEL deletes in one txn comparing the versions it
 * read, so it never frees an allocation someone made meanwhile.  GC,
 * purge, repair and network create/update/delete still take the network
 * lock among themselves, and delete by compare-and-delete too (see
 * ipam_release_locked, ipam_delete_broken, network_delete,
 * ipam_purge_network).
 *
 * The hot path (this node's hint block has a free address after the hint,
 * no owner record yet): one store_get_many (network, owner key, hint), one
 * store_get_many (the hint's block claim and the AHEAD_ADDRS alloc keys
 * after the hint), one store_txn — three etcd requests, no lock key.
 * Whatever the read ahead does not answer is asked key by key as before
 * (full block, exhaustion, first ADD of a node, repeated ADDs).
 *
 * Allocation records, owner index and hints are written STORE_F_VOLATILE
 * (atomic, not fsync'd): after a power loss every workload is gone, the
 * runtime re-ADDs and GC releases the rest, and an existing record — even an
 * empty one — always counts as taken.  Block claims are written durably.
 * That takes six fsyncs (~4 ms here) off every ADD.
 *
 * Where an address comes from, in order: the static address asked for;
 * this node's blocks, starting after the address this node handed out last
 * (round robin, like host-local, so a just-released address is not reused
 * while another is free); a newly claimed block; a nested block, a free
 * aligned part of another node's block (ipam_split.c); a single address
 * borrowed from another node's block.  Addresses inside a nested block
 * another node claimed are never handed out from the block around it
 * (lent_away()).  A commit that does not hold the network lock must
 * compare the nested keys of each address absent (ipam_nested_keys()), as
 * the split's txn compares the allocation keys absent.  Blocks are never given back by a release:
 * they are the node's affinity, kept so its routes stay aggregated.  Only
 * deleting the network (ipam_purge_network) drops them.
 *
 * On the file store the commit is the same txn: the txn locks of the
 * network's and the block's directories (shared: only compared), a stat
 * of each, one file created and linked under the allocation and index
 * keys (the link is their compare); the hint is rewritten in place after
 * it (hint_inplace) — no directory is listed.  The txn locks are not
 * redundant beside this host's lock: netctl (network update/delete,
 * ipam repair/purge) and leafnetd's GC write networks, blocks and
 * allocations without it (store_file.c, file_txn).  The node's block claims are listed only when
 * that block is full, and the whole allocation directory only once direct
 * probing gets long (full blocks, exhaustion).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cJSON.h>

#include "err.h"
#include "hash.h"
#include "json.h"
#include "store.h"
#include "dbuf.h"
#include "network.h"
#include "ipam.h"
#include "ipam_private.h"

#define DIRECT_PROBES 32	/* then list alloc/<net> once and search in memory */
#define MAX_TOUCHED   (2 * IPAM_MAX_ADDRS)
#define AHEAD_ADDRS   12	/* alloc keys read ahead after each hint */
#define PREFETCH_MAX  (3 + 2 * (1 + AHEAD_ADDRS))
#define NOTE_MAX      256	/* the hint kept with this host's lock */
#define CAS_RETRIES   16	/* conflicts before the network lock is taken too */
#define CAS_RETRY     1		/* alloc_once(): a txn compare failed, start again */

struct alloc_ctx {
	struct store *s;
	const struct ipam_req *req;
	const struct network *net;
	struct lf_err *reterr;
	time_t now;
	/* 0 on the first attempt; else hash(node, attempt): where a retried
	 * claim, split or borrow starts looking (spread_seed()) */
	uint64_t spread;
	int attempt;
	unsigned n_tries;		/* split_block() calls: spread_any() */
	unsigned split_lost;		/* split claims lost in a row */
	struct ipam_block *blocks;	/* sorted (a nested block after its parent,
					 * ipam_split.c); grows on a claim */
	size_t n_blocks, cap_blocks;
	bool blocks_loaded;		/* only the slow path lists them */
	struct ipaddr *used;		/* loaded lazily, see is_used() */
	size_t n_used;
	bool used_loaded;
	unsigned probes;
	struct ipaddr hint[2];		/* [0] v4, [1] v6 */
	struct prefix hb;		/* the hint's block as read, hb_lent its */
	bool hb_known, hb_lent;		/* "lent" flag: see lent_away() */
	bool hint_dirty;
	struct ipaddr created[MAX_TOUCHED];	/* reserved by take() */
	size_t n_created;
	bool committed;			/* created[] are in the store */
	struct prefix claimed[MAX_TOUCHED];
	size_t n_claimed;
	char *claim_text[MAX_TOUCHED];	/* claimed[i]'s record, for the txn */
	/* nested blocks claimed by split_block(): written at once by their
	 * own txn (ipam_split_claim), not by the commit's; undone on failure */
	struct prefix split[MAX_TOUCHED];
	size_t n_split;
	/* the owner's addresses whose allocation record is damaged (or whose
	 * owner record was): commit() writes them anew */
	struct ipaddr repair[IPAM_MAX_ADDRS];
	size_t n_repair;
	/* read ahead in one store_get_many (prefetch_hints()): the hints'
	 * blocks and the alloc keys after the hints; is_used() and the hint's
	 * block lookup consult these before asking the store */
	struct store_kv pre[PREFETCH_MAX];
	char pre_key[PREFETCH_MAX][IPAM_KEY_MAX];
	size_t n_pre;
	int hb_state[2];		/* 0 unknown, 1 hblock[] claimed, 2 unclaimed,
					 * -1 asked for (pre[hb_idx[]]) */
	size_t hb_idx[2];
	struct ipam_block hblock[2];
	char net_ver[STORE_VER_MAX];	/* compared by the commit's txn */
	char owner_ver[STORE_VER_MAX];
};

static const char *
fam_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* Why a is never handed out, or NULL. */
static const char *
addr_reserved(const struct network_subnet *sn, const struct ipaddr *a)
{
	struct ipaddr x;

	if (prefix_nth(&sn->cidr, 0, &x) == 0 && ipaddr_eq(&x, a))
		return "network address";
	if (a->family == AF_INET) {
		prefix_last(&sn->cidr, &x);
		if (ipaddr_eq(&x, a))
			return "broadcast address";
	}
	if (ipaddr_is_set(&sn->gateway) && ipaddr_eq(&sn->gateway, a))
		return "gateway";
	return NULL;
}

static bool
block_mine(const struct alloc_ctx *c, size_t i)
{
	return strcmp(c->blocks[i].node, c->req->node) == 0;
}

static int
req_check(const struct ipam_req *req, struct lf_err *reterr)
{
	if (ipam_name_check(req->network, reterr) < 0)
		return -EINVAL;
	if (!req->node || !network_name_valid(req->node))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "node name \"%s\" is invalid: set node_name in the leafnet "
				  "config to 1-63 characters [A-Za-z0-9_.-]",
				  req->node ? req->node : "");
	if (!req->owner.container_id[0])
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "container id is empty");
	if (!req->owner.ifname[0])
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "interface name is empty");
	if (req->n_static > IPAM_MAX_ADDRS)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "at most %d static addresses per interface", IPAM_MAX_ADDRS);
	return 0;
}

/* text: the hint as read (NULL: absent; absent or unreadable is fine) */
static void
hint_load(struct alloc_ctx *c, const char *text)
{
	static const char *const keys[2] = { "v4", "v6" };
	char buf[IPADDR_STRLEN];
	cJSON *o;

	if (text && json_parse(text, &o, NULL) == 0) {
		for (int i = 0; i < 2; i++)
			if (json_get_str(o, keys[i], buf, sizeof(buf), false, NULL, NULL) == 0)
				(void)ipaddr_parse(buf, &c->hint[i]);
		cJSON_Delete(o);
	}
}

/* The hint changes on every ADD.  Replacing its file by rename would cost
 * a new inode and, on ext4, a writeback forced by the rename (~0.3 ms
 * together); it is rewritten in place instead (STORE_F_INPLACE), padded
 * with blanks to one width so the file never changes size.  It is read and
 * written under the network lock; a value torn by a crash is unreadable or
 * points elsewhere, and either only moves where the next scan starts. */
#define HINT_WIDTH 128		/* {"v4":"<15>","v6":"<39>"} is 75 */

/* The hint's value, padded, in buf (HINT_WIDTH + 1); false when none. */
static bool
hint_text(struct alloc_ctx *c, char *buf_out)
{
	static const char *const keys[2] = { "v4", "v6" };
	char buf[IPADDR_STRLEN];
	char *text = NULL;
	bool ok = true;
	cJSON *o;

	if (!c->hint_dirty || !(o = cJSON_CreateObject()))
		return false;
	for (int i = 0; i < 2 && ok; i++)
		if (ipaddr_is_set(&c->hint[i]))
			ok = cJSON_AddStringToObject(o, keys[i],
					ipaddr_fmt(&c->hint[i], buf, sizeof(buf))) != NULL;
	if (ok)
		text = json_print(o);
	cJSON_Delete(o);
	if (!text)
		return false;
	ok = strlen(text) < HINT_WIDTH;		/* always: 75 at most */
	if (ok)
		snprintf(buf_out, HINT_WIDTH + 1, "%-*s\n", HINT_WIDTH - 1, text);
	free(text);
	return ok;
}

/* Where the hint goes.  On etcd it is one more op of the commit's txn (a
 * separate put would be one more request per ADD).  On the file store a
 * txn op is temp + rename, the in-place rewrite this comment is about
 * saves that, so there it stays a separate in-place write after the
 * commit: it is this node's own key, written under this host's local lock,
 * so nothing else writes it concurrently (a reader on another host does
 * not exist: the file store is one host). */
static bool
hint_inplace(const struct alloc_ctx *c)
{
	return strcmp(store_backend_name(c->s), "file") == 0;
}

static void
hint_save(struct alloc_ctx *c)
{
	char key[IPAM_KEY_MAX], padded[HINT_WIDTH + 1];

	if (!hint_text(c, padded))
		return;
	snprintf(key, sizeof(key), "hints/%s/%s", c->req->network, c->req->node);
	/* losing a hint is harmless */
	(void)store_put_ex(c->s, key, padded, STORE_F_VOLATILE | STORE_F_INPLACE, NULL);
}

/* 1 when a has an allocation, 0 when free, -errno. */
static int
is_used(struct alloc_ctx *c, const struct ipaddr *a)
{
	char key[IPAM_KEY_MAX];
	char *text;
	int r;

	for (size_t i = 0; i < c->n_created; i++)
		if (ipaddr_eq(&c->created[i], a))
			return 1;
	r = ipam_key_alloc(key, sizeof(key), c->req->network, a);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n_pre; i++)
		if (strcmp(c->pre[i].key, key) == 0)	/* read ahead: damaged is taken */
			return c->pre[i].val != NULL || c->pre[i].ver[0] != '\0';
	if (!c->used_loaded && c->probes >= DIRECT_PROBES) {
		r = ipam_used_load(c->s, c->req->network, &c->used, &c->n_used);
		if (r < 0)
			return r;
		c->used_loaded = true;
	}
	if (c->used_loaded)
		return ipam_used_has(c->used, c->n_used, a);

	c->probes++;
	r = store_get(c->s, key, &text, NULL);
	if (r == -ENOENT)
		return 0;
	if (ipam_rec_broken(r))
		return 1;	/* a damaged record still holds its address */
	if (r < 0)
		return store_err_set(c->reterr, LF_E_IO, r, "reading %s", key);
	free(text);
	return 1;
}

static int
addr_qcmp(const void *a, const void *b)
{
	return ipaddr_cmp(a, b);
}

/* Reserve a (found free by is_used()) for the owner.  Nothing is written
 * yet: commit() claims every reserved address at once, in one txn that
 * expects each alloc key absent — so all of one owner's allocations and
 * its index are a single file (see ipam_private.h). */
static int
take(struct alloc_ctx *c, const struct ipaddr *a)
{
	if (c->n_created == MAX_TOUCHED)
		return -E2BIG;
	c->created[c->n_created++] = *a;
	return 0;
}

/* 1 when a, inside block b, lies in a nested block another node claimed
 * from b (ipam_split.c): taken for this node, whatever its allocations
 * say; 0 when not, -errno.  A nested block is never split again, so only
 * a top-level b is looked into: from the loaded blocks when the slow path
 * has them; on the hot path (the hint's block, just read) nothing when
 * its record says nothing was lent, else one store_get_many() of a's
 * nested keys. */
static int
lent_away(struct alloc_ctx *c, const struct network_subnet *sn, const struct prefix *b,
	  const struct ipaddr *a)
{
	struct ipam_block nb;
	int r;

	if (b->len != ipam_block_len(c->net, sn))
		return 0;
	if (c->blocks_loaded) {
		long bi = ipam_block_find(c->blocks, c->n_blocks, a);

		return bi >= 0 && c->blocks[bi].cidr.len > b->len &&
		       strcmp(c->blocks[bi].node, c->req->node) != 0;
	}
	if (c->hb_known && !c->hb_lent && prefix_eq(b, &c->hb))
		return 0;
	r = ipam_nested_get(c->s, c->req->network, b, a, &nb);
	if (r < 0)
		return store_err_set(c->reterr, LF_E_IO, r, "reading the nested blocks of %s",
				     c->req->network);
	return r > 0 && strcmp(nb.node, c->req->node) != 0;
}

/* First free address of b at offsets [from, to), claimed; -ENOENT if none. */
static int
scan(struct alloc_ctx *c, const struct network_subnet *sn, const struct prefix *b,
     uint64_t from, uint64_t to, struct ipaddr *ret)
{
	struct ipaddr a;
	int r;

	for (uint64_t off = from; off < to; off++) {
		if (prefix_nth(b, off, &a) < 0)
			break;
		if (addr_reserved(sn, &a))
			continue;
		r = lent_away(c, sn, b, &a);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		r = is_used(c, &a);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		r = take(c, &a);
		if (r < 0)
			return r;
		*ret = a;
		return 0;
	}
	return -ENOENT;
}

/* scan() from b's last address down to its first. */
static int
scan_down(struct alloc_ctx *c, const struct network_subnet *sn, const struct prefix *b,
	  struct ipaddr *ret)
{
	for (uint64_t off = prefix_size(b); off-- > 0;) {
		int r = scan(c, sn, b, off, off + 1, ret);

		if (r != -ENOENT)
			return r;
	}
	return -ENOENT;
}

static int
blocks_load(struct alloc_ctx *c)
{
	int r;

	if (c->blocks_loaded)
		return 0;
	c->blocks_loaded = true;
	r = ipam_blocks_load(c->s, c->req->network, &c->blocks, &c->n_blocks);
	c->cap_blocks = c->n_blocks;
	return r;
}

/* Where a retried claim starts (0: the first unclaimed block).  The first
 * attempt takes the lowest free block, which keeps a pool compact; an
 * attempt that lost a txn to another host lost it because both chose the
 * same lowest block, and all the losers would choose the next one
 * together again (24 hosts' first ADDs at once on etcd: 319 txns, 10
 * failed).  A retry starts at hash(node, attempt) instead: the hosts
 * scatter over the free blocks and each retry is likely its last. */
static uint64_t
spread_seed(const char *node, int attempt)
{
	uint64_t h = HASH_FNV64_INIT;

	if (attempt == 0)
		return 0;
	h = hash_fnv1a64(h, node, strlen(node));
	h = hash_fnv1a64(h, &attempt, sizeof(attempt));
	return h ? h : 1;
}

/* Where split_block()'s k-th try looks: hash(node, attempt, k).  Used
 * from the second try of the first attempt on, not only on a retried
 * attempt as spread_seed(): a split happens only when the pool runs low,
 * when many hosts want the same few free parts at once.  34 hosts
 * splitting 16 blocks, all choosing the emptiest on each of their tries,
 * lost 33 txns a round and timed out (bench/etcd_bench --hosts 50, the
 * 78 % pool). */
static uint64_t
spread_any(const struct alloc_ctx *c, unsigned k)
{
	uint64_t h = HASH_FNV64_INIT;

	h = hash_fnv1a64(h, c->req->node, strlen(c->req->node));
	h = hash_fnv1a64(h, &c->attempt, sizeof(c->attempt));
	h = hash_fnv1a64(h, &k, sizeof(k));
	return h ? h : 1;
}

/* The index claim_block() starts at among sn's 2^bits blocks. */
static uint64_t
claim_start(const struct alloc_ctx *c, unsigned bits)
{
	if (!c->spread || bits == 0)
		return 0;
	if (bits > 32)		/* IPv6: a start anywhere in the first 2^32 */
		bits = 32;
	return c->spread & (((uint64_t)1 << bits) - 1);
}

/* Claim the first unclaimed block of sn for this node, from claim_start()
 * on and round to the start of sn; -ENOSPC if none. */
static int
claim_block(struct alloc_ctx *c, const struct network_subnet *sn, struct prefix *ret)
{
	unsigned len = ipam_block_len(c->net, sn);
	uint64_t start = len > sn->cidr.len ? claim_start(c, len - sn->cidr.len) : 0;
	bool wrapped = false;
	char key[IPAM_KEY_MAX], *text;
	struct ipam_block *nb;
	struct ipaddr last;
	struct prefix b;
	size_t p = 0;
	cJSON *o;
	int r;

	if (c->n_claimed == MAX_TOUCHED)
		return -E2BIG;
	if (start) {		/* the walk alongside c->blocks starts there too */
		r = prefix_subnet(&sn->cidr, len, start, &b);
		if (r < 0)
			start = 0;
		while (r == 0 && p < c->n_blocks) {
			prefix_last(&c->blocks[p].cidr, &last);
			if (ipaddr_cmp(&last, &b.addr) >= 0)
				break;
			p++;
		}
	}
	for (uint64_t idx = start;; idx++) {
		if (wrapped && idx >= start)
			return -ENOSPC;
		r = prefix_subnet(&sn->cidr, len, idx, &b);
		if (r == -ERANGE && start && !wrapped) {
			wrapped = true;	/* the blocks before start */
			idx = (uint64_t)-1;
			p = 0;
			continue;
		}
		if (r == -ERANGE)
			return -ENOSPC;
		if (r < 0)
			return r;
		/* c->blocks is sorted, top-level blocks disjoint (nested
		 * ones lie inside, after their parent): walk it alongside */
		while (p < c->n_blocks) {
			prefix_last(&c->blocks[p].cidr, &last);
			if (ipaddr_cmp(&last, &b.addr) >= 0)
				break;
			p++;
		}
		if (p < c->n_blocks && prefix_overlaps(&c->blocks[p].cidr, &b))
			continue;

		r = ipam_key_block(key, sizeof(key), c->req->network, &b);
		if (r < 0)
			return r;
		o = cJSON_CreateObject();
		if (!o)
			return -ENOMEM;
		text = NULL;
		if (cJSON_AddStringToObject(o, "node", c->req->node) &&
		    json_add_prefix(o, "cidr", &b))
			text = json_print(o);
		cJSON_Delete(o);
		if (!text)
			return -ENOMEM;
		/* unclaimed when the blocks were listed; the commit's txn
		 * expects its key absent, so a claim by another host in
		 * between fails the txn and the retry lists it */
		c->claim_text[c->n_claimed] = text;
		c->claimed[c->n_claimed++] = b;

		if (GROW(c->blocks, c->cap_blocks, c->n_blocks + 1) < 0)
			return -ENOMEM;	/* the claim is in the undo log */
		nb = c->blocks;
		memmove(&nb[p + 1], &nb[p], (c->n_blocks - p) * sizeof(*nb));
		memset(&nb[p], 0, sizeof(*nb));
		nb[p].cidr = b;
		snprintf(nb[p].node, sizeof(nb[p].node), "%s", c->req->node);
		c->n_blocks++;
		*ret = b;
		return 0;
	}
}

/* Insert block (cidr, this node) into c->blocks, kept in
 * ipam_blocks_load()'s order (address, then length): its index, or
 * -ENOMEM. */
static int
blocks_insert(struct alloc_ctx *c, const struct prefix *cidr)
{
	size_t p = 0;

	if (GROW(c->blocks, c->cap_blocks, c->n_blocks + 1) < 0)
		return -ENOMEM;
	while (p < c->n_blocks) {
		int d = ipaddr_cmp(&c->blocks[p].cidr.addr, &cidr->addr);

		if (d > 0 || (d == 0 && c->blocks[p].cidr.len > cidr->len))
			break;
		p++;
	}
	memmove(&c->blocks[p + 1], &c->blocks[p], (c->n_blocks - p) * sizeof(*c->blocks));
	memset(&c->blocks[p], 0, sizeof(*c->blocks));
	c->blocks[p].cidr = *cidr;
	snprintf(c->blocks[p].node, sizeof(c->blocks[p].node), "%s", c->req->node);
	c->n_blocks++;
	return (int)p;
}

/* The index of top-level block top in c->blocks, or -1. */
static long
top_index(const struct alloc_ctx *c, const struct prefix *top)
{
	long i = ipam_block_find(c->blocks, c->n_blocks, &top->addr);

	while (i > 0 && c->blocks[i].cidr.len != top->len)
		i--;		/* from a nested block at its start back to it */
	return i >= 0 && prefix_eq(&c->blocks[i].cidr, top) ? i : -1;
}

/* Fold what a lost split claim found in its way into c's blocks and
 * used addresses, so that the next try chooses around it without listing
 * both again (up to 2 losses in a row; the third lists them). */
static int
split_learn(struct alloc_ctx *c, const struct ipam_split_loss *loss)
{
	long pi;

	if (loss->parent_gone)
		return -ENOENT;
	pi = top_index(c, &loss->parent.cidr);
	if (pi < 0 || strcmp(c->blocks[pi].node, loss->parent.node) != 0)
		return -ENOENT;	/* someone else's now: not a small change */
	c->blocks[pi].lent = loss->parent.lent;
	memcpy(c->blocks[pi].ver, loss->parent.ver, sizeof(c->blocks[pi].ver));
	for (size_t i = 0; i < loss->n_nested; i++) {
		long j = ipam_block_find(c->blocks, c->n_blocks, &loss->nested[i].cidr.addr);
		int p;

		if (j >= 0 && prefix_eq(&c->blocks[j].cidr, &loss->nested[i].cidr))
			continue;	/* known already */
		if ((p = blocks_insert(c, &loss->nested[i].cidr)) < 0)
			return p;
		c->blocks[p] = loss->nested[i];	/* its node, not this one */
	}
	if (loss->n_used > 0) {
		struct ipaddr *u = realloc(c->used, (c->n_used + loss->n_used) * sizeof(*u));
		size_t n = c->n_used;

		if (!u)
			return -ENOMEM;
		c->used = u;
		for (size_t i = 0; i < loss->n_used; i++)
			if (!ipam_used_has(c->used, n, &loss->used[i]))
				c->used[c->n_used++] = loss->used[i];
		qsort(c->used, c->n_used, sizeof(*c->used), addr_qcmp);
	}
	return 0;
}

/* No whole block left: claim the largest free aligned sub-prefix of
 * another node's block as a nested block of this node (ipam_split.c), in
 * one store_txn.  -ENOSPC when none of the minimum size is free anywhere,
 * -EAGAIN when the txn lost to a concurrent claim or allocation.  The
 * next try chooses again: around what the lost txn found in its way
 * (split_learn()) after a first or second loss in a row, from the blocks
 * and allocations listed again after a third; so that a try costs one
 * txn, not the 4-5 requests of listing everything again, when 30 hosts
 * split the last blocks at once.  The ADD's own allocation inside it is
 * committed as usual, after: the nested block is this node's from the
 * txn on, and a failed ADD keeps it (like a block claim, rollback()
 * drops it). */
static int
split_block(struct alloc_ctx *c, const struct network_subnet *sn, struct prefix *ret)
{
	unsigned len = ipam_block_len(c->net, sn);
	struct ipam_split_loss loss;
	struct ipaddr *all;
	struct prefix sub, parent;
	long pi;
	size_t n_all;
	int r;

	if (c->n_split == MAX_TOUCHED)
		return -E2BIG;
	if (!c->used_loaded) {
		r = ipam_used_load(c->s, c->req->network, &c->used, &c->n_used);
		if (r < 0)
			return r;
		c->used_loaded = true;
	}
	/* what this call reserved counts as used too */
	n_all = c->n_used + c->n_created;
	all = calloc(n_all ? n_all : 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	memcpy(all, c->used, c->n_used * sizeof(*all));
	memcpy(all + c->n_used, c->created, c->n_created * sizeof(*all));
	qsort(all, n_all, sizeof(*all), addr_qcmp);
	r = ipam_split_choose(c->blocks, c->n_blocks, all, n_all, &sn->cidr, c->req->node,
			      len, c->attempt == 0 && c->n_tries == 0 ? 0 : spread_any(c, c->n_tries),
			      &sub);
	c->n_tries++;
	free(all);
	if (r < 0)
		return r;
	parent = sub;
	parent.len = (uint8_t)len;
	prefix_mask(&parent);
	pi = top_index(c, &parent);
	r = ipam_split_claim(c->s, c->req->network, c->req->node, &sub, len,
			     pi >= 0 ? &c->blocks[pi] : NULL, &loss, c->reterr);
	if (r == -EAGAIN) {
		if (++c->split_lost % 3 != 0 && split_learn(c, &loss) == 0)
			return -EAGAIN;
		free(c->blocks);
		free(c->used);
		c->blocks = NULL;
		c->used = NULL;
		c->n_blocks = c->cap_blocks = c->n_used = 0;
		c->blocks_loaded = c->used_loaded = false;
		r = blocks_load(c);
		return r < 0 ? r : -EAGAIN;
	}
	if (r < 0)
		return r;
	c->split_lost = 0;
	c->split[c->n_split++] = sub;
	r = blocks_insert(c, &sub);
	if (r < 0)
		return r;	/* the claim is in the undo log */
	*ret = sub;
	return 0;
}

static int pre_add(struct alloc_ctx *c, int (*mk)(char *, size_t, const char *, const void *),
		   const void *what);
static int mk_block(char *buf, size_t size, const char *net, const void *p);
static void prefetch_parse(struct alloc_ctx *c);

/* The hint's block read ahead is another node's top-level block with
 * parts lent (ipam_split.c): the hint, this node's last address, lies in
 * a nested block of this node's inside it, as a rule.  Find it
 * (ipam_nested_get: one read) and read its record (one more: the commit
 * compares its version, not the parent's, which other nodes' splits
 * rewrite) in place of the parent's.  Only when the note did not guess
 * the nested block (the first ADD after a split names it, note_save()). */
static int
hint_nested(struct alloc_ctx *c, int fi)
{
	struct ipam_block nb;
	size_t idx = c->n_pre;
	int r;

	r = ipam_nested_get(c->s, c->req->network, &c->hblock[fi].cidr, &c->hint[fi], &nb);
	if (r < 0)
		return store_err_set(c->reterr, LF_E_IO, r, "reading the nested blocks of %s",
				     c->req->network);
	if (r == 0 || strcmp(nb.node, c->req->node) != 0)
		return 0;	/* not ours: the slow path looks for ours */
	if (pre_add(c, mk_block, &nb.cidr) < 0)
		return 0;
	r = store_get_many(c->s, &c->pre[idx], 1, NULL);
	if (r < 0) {		/* only a read ahead: the slow path then */
		store_kv_free(&c->pre[idx], 1);
		c->n_pre = idx;
		return 0;
	}
	c->hb_idx[fi] = idx;
	c->hblock[fi].cidr = nb.cidr;
	c->hblock[fi].lent = false;
	c->hb_state[fi] = -1;
	prefetch_parse(c);
	return 0;
}

static bool
block_in_subnet(const struct alloc_ctx *c, size_t i, const struct network_subnet *sn)
{
	return prefix_contains_prefix(&sn->cidr, &c->blocks[i].cidr);
}

static int
alloc_dynamic(struct alloc_ctx *c, const struct network_subnet *sn, struct ipaddr *ret)
{
	int fi = sn->cidr.addr.family == AF_INET6;
	struct prefix hb, b;
	bool have_hb = false;
	uint64_t hoff = 0;
	int r;

	/* 1. after the last address handed out, in its block: the hot path,
	 * one lookup for the block and one per probed address */
	if (ipaddr_is_set(&c->hint[fi])) {
		struct ipam_block hk;

		if (c->hb_state[fi] == 1 && c->hblock[fi].lent &&
		    strcmp(c->hblock[fi].node, c->req->node) != 0) {
			r = hint_nested(c, fi);
			if (r < 0)
				return r;
		}
		if (c->hb_state[fi] == 1) {
			hk = c->hblock[fi];
			r = 0;
		} else if (c->hb_state[fi] == 2) {
			r = -ENOENT;
		} else {
			r = ipam_block_get(c->s, c->net, &c->hint[fi], &hk);
		}
		if (r < 0 && r != -ENOENT && r != -EINVAL)
			return r;
		if (r == 0 && strcmp(hk.node, c->req->node) == 0 &&
		    prefix_contains_prefix(&sn->cidr, &hk.cidr) &&
		    prefix_offset(&hk.cidr, &c->hint[fi], &hoff) == 0) {
			hb = hk.cidr;
			have_hb = true;
			c->hb = hk.cidr;
			c->hb_lent = hk.lent;
			c->hb_known = true;
		}
	}
	if (have_hb) {
		r = scan(c, sn, &hb, hoff + 1, prefix_size(&hb), ret);
		if (r != -ENOENT)
			goto out_mine;
	}
	r = blocks_load(c);
	if (r < 0)
		return r;
	/* 2. this node's other blocks */
	for (size_t j = 0; j < c->n_blocks; j++) {
		if (!block_mine(c, j) || !block_in_subnet(c, j, sn) ||
		    (have_hb && prefix_eq(&c->blocks[j].cidr, &hb)))
			continue;
		b = c->blocks[j].cidr;
		r = scan(c, sn, &b, 0, prefix_size(&b), ret);
		if (r != -ENOENT)
			goto out_mine;
	}
	/* 3. the start of the hint's block, the hint itself last */
	if (have_hb) {
		r = scan(c, sn, &hb, 0, hoff + 1, ret);
		if (r != -ENOENT)
			goto out_mine;
	}
	/* 4. a new block (tiny /31 or /32 blocks may hold only reserved
	 * addresses: then the next one) */
	for (int tries = 0; tries < 3; tries++) {
		r = claim_block(c, sn, &b);
		if (r == -ENOSPC)
			break;
		if (r < 0)
			return r;
		r = scan(c, sn, &b, 0, prefix_size(&b), ret);
		if (r != -ENOENT)
			goto out_mine;
	}
	/* 5. a nested block: a free part of another node's block (a lost
	 * try costs one txn, split_block()) */
	for (int tries = 0; tries < 6; tries++) {
		r = split_block(c, sn, &b);
		if (r == -EAGAIN)
			continue;
		if (r == -ENOSPC)
			break;
		if (r < 0)
			return r;
		r = scan(c, sn, &b, 0, prefix_size(&b), ret);
		if (r != -ENOENT)
			goto out_mine;
	}
	/* 6. borrow one address from another node's block (a retry starts
	 * at another block than the hosts it lost to, spread_seed()), from
	 * the block's top down: away from its owner, who hands out from the
	 * start and whose next ADD would otherwise want the same address */
	for (size_t k = 0; k < c->n_blocks; k++) {
		size_t j = (size_t)((k + c->spread) % c->n_blocks);

		if (block_mine(c, j) || !block_in_subnet(c, j, sn))
			continue;
		b = c->blocks[j].cidr;
		r = scan_down(c, sn, &b, ret);
		if (r != -ENOENT)
			return r;
	}
	return -ENOSPC;

out_mine:
	if (r == 0) {
		c->hint[fi] = *ret;
		c->hint_dirty = true;
	}
	return r;
}

static const struct network_subnet *
subnet_of(const struct network *n, const struct ipaddr *a)
{
	for (size_t i = 0; i < n->n_subnets; i++)
		if (prefix_contains(&n->subnets[i].cidr, a))
			return &n->subnets[i];
	return NULL;
}

static int
static_check(const struct alloc_ctx *c, const struct ipaddr *a)
{
	const struct network_subnet *sn = subnet_of(c->net, a);
	char abuf[IPADDR_STRLEN], pbuf[PREFIX_STRLEN];
	const char *why;

	ipaddr_fmt(a, abuf, sizeof(abuf));
	if (!sn) {
		char list[4 * PREFIX_STRLEN] = "";
		size_t len = 0;

		for (size_t i = 0; i < c->net->n_subnets && len < sizeof(list); i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
				i ? ", " : "",
				prefix_fmt(&c->net->subnets[i].cidr, pbuf, sizeof(pbuf)));
		return lf_err_set(c->reterr, LF_E_INVALID, -EINVAL,
				  "requested address %s is not inside network %s (%s); "
				  "ask for an address in its subnet or leave it out",
				  abuf, c->net->name, list);
	}
	why = addr_reserved(sn, a);
	if (why)
		return lf_err_set(c->reterr, LF_E_INVALID, -EINVAL,
				  "requested address %s is the %s of %s in network %s "
				  "and is never assigned; ask for another address",
				  abuf, why, prefix_fmt(&sn->cidr, pbuf, sizeof(pbuf)),
				  c->net->name);
	return 0;
}

/* 1 when a already belongs to this owner, 0 when claimed now, -errno. */
static int
alloc_static(struct alloc_ctx *c, const struct ipaddr *a)
{
	const struct ipam_owner *me = &c->req->owner;
	char abuf[IPADDR_STRLEN];
	struct ipam_record rec;
	int r;

	ipaddr_fmt(a, abuf, sizeof(abuf));
	r = ipam_record_get(c->s, c->req->network, a, &rec);
	if (r == 0 && ipam_owner_is(&rec.owner, me->container_id, me->ifname))
		return 1;
	if (r == -ENOENT) {
		struct ipam_block b;
		char pbuf[PREFIX_STRLEN];
		const struct network_subnet *sn = subnet_of(c->net, a);

		/* inside another node's nested block: theirs, even free (its
		 * aggregate routes the whole range to them) */
		r = sn ? ipam_block_get(c->s, c->net, a, &b) : -ENOENT;
		if (r < 0 && r != -ENOENT && r != -EINVAL)
			return store_err_set(c->reterr, LF_E_IO, r, "reading the block of %s",
					     abuf);
		if (r == 0 && b.cidr.len > ipam_block_len(c->net, sn) &&
		    strcmp(b.node, c->req->node) != 0)
			return lf_err_set(c->reterr, LF_E_ADDR_IN_USE, -EADDRINUSE,
					  "requested address %s in network %s lies in block %s "
					  "that node %s claimed; ask for another address",
					  abuf, c->req->network,
					  prefix_fmt(&b.cidr, pbuf, sizeof(pbuf)), b.node);
		return take(c, a);
	}
	if (r < 0 && !ipam_rec_broken(r))
		return r;
	if (r < 0)
		rec.owner.container_id[0] = '\0';
	if (rec.owner.container_id[0])
		return lf_err_set(c->reterr, LF_E_ADDR_IN_USE, -EADDRINUSE,
				  "requested address %s in network %s is already in use "
				  "by container %.64s (%s); ask for another address",
				  abuf, c->req->network, rec.owner.container_id,
				  rec.owner.ifname);
	return lf_err_set(c->reterr, LF_E_ADDR_IN_USE, -EADDRINUSE,
			  "requested address %s in network %s is already in use; "
			  "ask for another address", abuf, c->req->network);
}

static void
rollback(struct alloc_ctx *c)
{
	char key[IPAM_KEY_MAX];

	for (size_t i = 0; c->committed && i < c->n_created; i++)
		if (ipam_key_alloc(key, sizeof(key), c->req->network, &c->created[i]) == 0)
			(void)store_delete_ex(c->s, key, STORE_F_VOLATILE, NULL);
	/* block claims are written by the commit's txn with the allocations */
	for (size_t i = 0; i < c->n_split; i++)
		if (ipam_key_block(key, sizeof(key), c->req->network, &c->split[i]) == 0)
			(void)store_delete(c->s, key, NULL);
	c->n_split = 0;
	for (size_t i = 0; c->committed && i < c->n_claimed; i++)
		if (ipam_key_block(key, sizeof(key), c->req->network, &c->claimed[i]) == 0)
			(void)store_delete(c->s, key, NULL);
	c->n_created = c->n_claimed = 0;
}

static bool
addr_in(const struct ipaddr *v, size_t n, const struct ipaddr *a)
{
	for (size_t i = 0; i < n; i++)
		if (ipaddr_eq(&v[i], a))
			return true;
	return false;
}

/* Does what the owner holds answer the request: every static address, and
 * one address of every family asked for without a static one? */
static bool
existing_covers(const struct alloc_ctx *c, const struct ipam_index *x)
{
	const struct ipam_req *req = c->req;

	for (size_t i = 0; i < req->n_static; i++)
		if (!addr_in(x->addrs, x->n_addrs, &req->statics[i]))
			return false;
	for (size_t si = 0; si < c->net->n_subnets; si++) {
		int fam = c->net->subnets[si].cidr.addr.family;
		unsigned bit = fam == AF_INET6 ? IPAM_F_V6 : IPAM_F_V4;
		bool found = false;

		if (req->families && !(req->families & bit))
			continue;
		for (size_t i = 0; i < req->n_static && !found; i++)
			found = req->statics[i].family == fam;
		for (size_t i = 0; i < x->n_addrs && !found; i++)
			found = x->addrs[i].family == fam;
		if (!found)
			return false;
	}
	return true;
}

/* Addresses of the owner's index still owned by it; *ret_intact when the
 * index exists, every address in it is still the owner's, and they answer
 * the request (then a repeated ADD gets the same answer and nothing is
 * written). */
static int
existing_load(struct alloc_ctx *c, struct ipam_index *x, bool *ret_intact,
	      bool *ret_exists)
{
	const struct ipam_owner *me = &c->req->owner;
	struct ipam_record rec;
	size_t j = 0;
	int r;

	*ret_intact = false;
	r = ipam_index_get(c->s, c->req->network, me->container_id, me->ifname, x);
	*ret_exists = r == 0 || ipam_rec_broken(r);
	if (r == -ENOTUNIQ)	/* 64-bit hash collision: never overwrite theirs */
		return lf_err_set(c->reterr, LF_E_INTERNAL, r,
				  "owner index key of %.64s/%s collides with another "
				  "owner's in network %s", me->container_id, me->ifname,
				  c->req->network);
	if (r == -ENOENT) {
		memset(x, 0, sizeof(x[0]));
		return 0;
	}
	if (ipam_rec_broken(r)) {
		/* A damaged owner record: the allocation records still say
		 * what it held (their own copy, or the same stored record);
		 * keep those addresses and write every record anew. */
		bool broken[IPAM_MAX_ADDRS];

		memset(x, 0, sizeof(x[0]));
		r = ipam_owner_recover(c->s, c->req->network, me->container_id, me->ifname,
				       x->addrs, broken, IPAM_MAX_ADDRS, &x->n_addrs);
		if (r < 0)
			return r;
		for (size_t i = 0; i < x->n_addrs; i++)
			if (broken[i])
				c->repair[c->n_repair++] = x->addrs[i];
		return 0;
	}
	if (r < 0)
		return r;
	for (size_t i = 0; i < x->n_addrs; i++) {
		r = ipam_record_get(c->s, c->req->network, &x->addrs[i], &rec);
		if (r == 0 && ipam_owner_is(&rec.owner, me->container_id, me->ifname)) {
			x->addrs[j++] = x->addrs[i];
		} else if (ipam_rec_broken(r)) {
			/* listed in our owner record, its own record damaged:
			 * ours (an address is only ever written by the txn that
			 * found it absent, and this owner's ADDs and DELs hold
			 * this host's lock); mend it */
			c->repair[c->n_repair++] = x->addrs[i];
			x->addrs[j++] = x->addrs[i];
		} else if (r < 0 && r != -ENOENT) {
			return r;
		}
	}
	*ret_intact = j > 0 && j == x->n_addrs && c->n_repair == 0;
	x->n_addrs = j;
	if (*ret_intact)
		*ret_intact = existing_covers(c, x);
	return 0;
}

/* Fill res with what the request wants, reusing old (still owned)
 * addresses where they fit. */
static int
alloc_all(struct alloc_ctx *c, struct ipam_index *old, struct ipaddr *res, size_t *n_res)
{
	const struct ipam_req *req = c->req;
	bool old_used[IPAM_MAX_ADDRS] = { false };
	size_t n = 0;
	int r;

	for (size_t i = 0; i < req->n_static; i++) {
		r = static_check(c, &req->statics[i]);
		if (r < 0)
			return r;
	}
	for (size_t si = 0; si < c->net->n_subnets; si++) {
		const struct network_subnet *sn = &c->net->subnets[si];
		int fam = sn->cidr.addr.family;
		unsigned bit = fam == AF_INET6 ? IPAM_F_V6 : IPAM_F_V4;
		bool had_static = false;

		for (size_t i = 0; i < req->n_static; i++) {
			const struct ipaddr *a = &req->statics[i];

			if (!prefix_contains(&sn->cidr, a))
				continue;
			had_static = true;
			if (addr_in(res, n, a))
				continue;	/* asked twice */
			for (size_t k = 0; k < old->n_addrs; k++)
				if (ipaddr_eq(&old->addrs[k], a))
					old_used[k] = true;
			if (n == MAX_TOUCHED)
				return -E2BIG;
			r = alloc_static(c, a);
			if (r < 0)
				return r;
			res[n++] = *a;
		}
		if (had_static || (req->families && !(req->families & bit)))
			continue;

		size_t k;
		for (k = 0; k < old->n_addrs; k++)
			if (!old_used[k] && old->addrs[k].family == fam)
				break;
		if (n == MAX_TOUCHED)
			return -E2BIG;
		if (k < old->n_addrs) {
			old_used[k] = true;
			res[n++] = old->addrs[k];
			continue;
		}
		r = alloc_dynamic(c, sn, &res[n]);
		if (r == -ENOSPC) {
			char pbuf[PREFIX_STRLEN];
			return lf_err_set(c->reterr, LF_E_POOL_EXHAUSTED, -ENOSPC,
					  "network %s has no free address left in %s; release "
					  "unused workloads or create a network with a larger --subnet",
					  c->net->name, prefix_fmt(&sn->cidr, pbuf, sizeof(pbuf)));
		}
		if (r < 0)
			return r;
		n++;
	}
	/* keep what the owner still holds and nobody asked about: not leaked */
	for (size_t k = 0; k < old->n_addrs; k++) {
		if (old_used[k] || addr_in(res, n, &old->addrs[k]))
			continue;
		if (n == MAX_TOUCHED)
			return -E2BIG;
		res[n++] = old->addrs[k];
	}
	*n_res = n;
	return 0;
}

/* Put text under key, also over a damaged key that is a directory. */
static int
put_mend(struct alloc_ctx *c, const char *key, const char *text)
{
	int r = store_put_ex(c->s, key, text, STORE_F_VOLATILE, NULL);

	if (r == -EISDIR && (r = store_delete_ex(c->s, key, STORE_F_VOLATILE, NULL)) == 0)
		r = store_put_ex(c->s, key, text, STORE_F_VOLATILE, c->reterr);
	return r;
}

/* Store the owner record x: under the allocation key of every address this
 * call reserved and, last, under the owner's index key — one file, linked
 * (the txn's puts of one val), instead of a file per address plus one for
 * the index — together with the blocks claimed for them, in ONE store_txn
 * that expects the network record unchanged since it was read (a network
 * deleted or changed meanwhile fails it), every alloc key and every
 * claimed block absent, and the owner key as read.  CAS_RETRY when a
 * compare failed: nothing was written, start again.  An index that exists
 * already (a repeated ADD that changed something, or an unreadable one) is
 * compared by version and replaced by a put afterwards (put_mend: it may be
 * a directory to remove). */
static int
commit(struct alloc_ctx *c, const struct ipam_index *x, bool index_exists)
{
	enum { MAXK = 1 + 2 * MAX_TOUCHED + 2 + MAX_TOUCHED * IPAM_SPLIT_DEPTH + 2 };
	char keys[MAXK][IPAM_KEY_MAX], hint[HINT_WIDTH + 1];
	struct store_cmp cmp[MAXK];
	struct store_op ops[MAXK];
	size_t nk = 0, n_cmp = 0, n_ops = 0, okey;
	struct lf_err te = { 0 };
	char *text;
	int r;

	snprintf(keys[nk], sizeof(keys[nk]), "networks/%s", c->req->network);
	cmp[n_cmp++] = (struct store_cmp){ keys[nk++], c->net_ver };
	/* the blocks first: an allocation is never in a block not yet
	 * claimed (a process killed part way leaves a prefix of the ops) */
	for (size_t i = 0; i < c->n_claimed; i++, nk++) {
		r = ipam_key_block(keys[nk], sizeof(keys[nk]), c->req->network, &c->claimed[i]);
		if (r < 0)
			return r;
		cmp[n_cmp++] = (struct store_cmp){ keys[nk], "" };
		ops[n_ops++] = (struct store_op){ keys[nk], c->claim_text[i] };
	}
	text = ipam_index_to_json(x);
	if (!text)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_created; i++, nk++) {
		r = ipam_key_alloc(keys[nk], sizeof(keys[nk]), c->req->network, &c->created[i]);
		if (r < 0)
			goto out;
		cmp[n_cmp++] = (struct store_cmp){ keys[nk], "" };
		ops[n_ops++] = (struct store_op){ keys[nk], text };
	}
	/* Nested blocks (ipam_split.c): no other node may have claimed a
	 * part of the block holding a new address since it was read.  The
	 * first split of a block rewrites it (the "lent" mark), so where the
	 * block was read ahead unmarked its version is compared; else (a
	 * marked block, which later splits leave alone, or a block not read
	 * ahead) the nested keys that could hold the address are compared
	 * absent, from the innermost block known to hold it (this node's own
	 * nested block needs no compare: it is never split again). */
	for (size_t i = 0; i < c->n_created; i++) {
		const struct ipaddr *a = &c->created[i];
		const struct network_subnet *sn = subnet_of(c->net, a);
		int fi = a->family == AF_INET6;
		struct prefix top;
		bool done = false;
		int k;

		if (!sn)
			continue;
		for (size_t j = 0; j < c->n_claimed && !done; j++)
			done = prefix_contains(&c->claimed[j], a);	/* new: compared absent */
		/* in a nested block this call claimed (its txn may have
		 * rewritten the parent, so the parent's version read before is
		 * stale): ours, never split again, and any other writer of a's
		 * key fails */
		for (size_t j = 0; j < c->n_split && !done; j++)
			done = prefix_contains(&c->split[j], a);
		if (!done && c->hb_state[fi] == 1 && !c->hblock[fi].lent &&
		    prefix_contains(&c->hblock[fi].cidr, a)) {
			bool seen = false;

			for (size_t j = 0; j < n_cmp && !seen; j++)
				seen = strcmp(cmp[j].key, c->pre_key[c->hb_idx[fi]]) == 0;
			if (!seen)
				cmp[n_cmp++] = (struct store_cmp){ c->pre_key[c->hb_idx[fi]],
								   c->pre[c->hb_idx[fi]].ver };
			done = true;
		}
		if (done)
			continue;
		top.addr = *a;
		top.len = (uint8_t)ipam_block_len(c->net, sn);
		prefix_mask(&top);
		if (!c->blocks_loaded && c->hb_state[fi] == 1 && c->hblock[fi].lent &&
		    strcmp(c->hblock[fi].node, c->req->node) == 0 &&
		    prefix_eq(&c->hblock[fi].cidr, &top)) {
			/* the hot path in this node's marked block, read ahead
			 * (nothing listed: a came from scanning it, and passed
			 * lent_away()), so no nested block holds a.  Else a may
			 * lie in a nested block known from the listing — this
			 * node's in another's block, or one borrowed from —
			 * whose key is not absent: compare from there */
		} else {
			long bi;

			if (!c->blocks_loaded && (r = blocks_load(c)) < 0)
				goto out;
			bi = ipam_block_find(c->blocks, c->n_blocks, a);
			if (bi >= 0 && prefix_contains_prefix(&top, &c->blocks[bi].cidr))
				top = c->blocks[bi].cidr;	/* innermost known */
		}
		k = ipam_nested_keys(c->req->network, &top, a,
				     ipam_split_min_len(ipam_block_len(c->net, sn), a->family),
				     &keys[nk], MAXK - nk - 3);
		if (k < 0) {
			r = k;
			goto out;
		}
		for (int j = 0; j < k; j++, nk++)
			cmp[n_cmp++] = (struct store_cmp){ keys[nk], "" };
	}
	okey = nk;
	r = ipam_key_owner(keys[nk++], sizeof(keys[0]), c->req->network,
			   x->owner.container_id, x->owner.ifname);
	if (r < 0)
		goto out;
	if (!index_exists) {
		cmp[n_cmp++] = (struct store_cmp){ keys[okey], "" };
		ops[n_ops++] = (struct store_op){ keys[okey], text };	/* the index last */
	} else if (strcmp(c->owner_ver, "dir") != 0) {
		cmp[n_cmp++] = (struct store_cmp){ keys[okey], c->owner_ver };
	}
	if (!hint_inplace(c) && hint_text(c, hint)) {
		snprintf(keys[nk], sizeof(keys[nk]), "hints/%s/%s", c->req->network, c->req->node);
		ops[n_ops++] = (struct store_op){ keys[nk++], hint };	/* blind */
		c->hint_dirty = false;
	}
	/* block claims are durable (store.h), allocations are not */
	r = store_txn(c->s, cmp, n_cmp, ops, n_ops, c->n_claimed ? 0 : STORE_F_VOLATILE,
		      NULL, &te);
	if (r == -EAGAIN || r == -EEXIST) {
		r = CAS_RETRY;
		goto out;
	}
	if (r < 0) {
		if (te.details[0])
			lf_err_details(c->reterr, "%s", te.details);
		goto out;
	}
	c->committed = true;
	if (index_exists) {
		r = put_mend(c, keys[okey], text);
		if (r < 0)
			r = store_err_set(c->reterr, LF_E_IO, r, "writing %s", keys[okey]);
	}
	/* damaged allocation records of addresses the owner keeps: rewritten
	 * (a damaged key that is a directory is removed first) */
	for (size_t i = 0; r == 0 && i < c->n_repair; i++) {
		if (!addr_in(x->addrs, x->n_addrs, &c->repair[i]))
			continue;
		if ((r = ipam_key_alloc(keys[0], sizeof(keys[0]), c->req->network,
					&c->repair[i])) < 0)
			break;
		r = put_mend(c, keys[0], text);
		if (r < 0)
			r = store_err_set(c->reterr, LF_E_IO, r, "rewriting damaged record %s",
					  keys[0]);
	}
out:
	free(text);
	return r;
}

static int
families_check(const struct alloc_ctx *c)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	static const unsigned bits[2] = { IPAM_F_V4, IPAM_F_V6 };

	for (int i = 0; i < 2; i++)
		if ((c->req->families & bits[i]) && !network_subnet_for(c->net, fams[i]))
			return lf_err_set(c->reterr, LF_E_INVALID, -EINVAL,
					  "network %s has no %s subnet; do not ask for %s, "
					  "or recreate the network with an %s --subnet",
					  c->net->name, fam_name(fams[i]), fam_name(fams[i]),
					  fam_name(fams[i]));
	return 0;
}

static int
pre_add(struct alloc_ctx *c, int (*mk)(char *, size_t, const char *, const void *),
	const void *what)
{
	int r;

	if (c->n_pre == PREFETCH_MAX)
		return -E2BIG;
	r = mk(c->pre_key[c->n_pre], sizeof(c->pre_key[0]), c->req->network, what);
	if (r < 0)
		return r;
	c->pre[c->n_pre].key = c->pre_key[c->n_pre];
	c->n_pre++;
	return 0;
}

static int
mk_alloc(char *buf, size_t size, const char *net, const void *a)
{
	return ipam_key_alloc(buf, size, net, a);
}

static int
mk_block(char *buf, size_t size, const char *net, const void *p)
{
	return ipam_key_block(buf, size, net, p);
}

/* Read ahead, for each family's hint h[fi] (blocks[fi] its block when
 * known, else from the network): its block claim and the alloc keys of
 * the AHEAD_ADDRS addresses after it in that block.  What is found there
 * is only a start: an address found free is compared absent by the
 * commit's txn. */
static int
prefetch_add(struct alloc_ctx *c, const struct ipaddr *h, const struct prefix *blocks)
{
	int r;

	for (int fi = 0; fi < 2; fi++) {
		const struct network_subnet *sn = NULL;
		struct prefix p;
		struct ipaddr a;
		uint64_t hoff;

		if (!ipaddr_is_set(&h[fi]))
			continue;
		if (blocks) {
			p = blocks[fi];
		} else {
			if (!(sn = subnet_of(c->net, &h[fi])))
				continue;
			p.addr = h[fi];
			p.len = (uint8_t)ipam_block_len(c->net, sn);
			prefix_mask(&p);
		}
		if (prefix_offset(&p, &h[fi], &hoff) < 0)
			continue;
		c->hb_idx[fi] = c->n_pre;
		if ((r = pre_add(c, mk_block, &p)) < 0)
			return r;
		c->hblock[fi].cidr = p;
		c->hb_state[fi] = -1;
		/* on the file store a probe costs what reading ahead costs,
		 * and the first probe usually hits: read the block only */
		for (uint64_t off = hoff + 1, k = 0, ahead = hint_inplace(c) ? 0 : AHEAD_ADDRS;
		     off < prefix_size(&p) && k < ahead; off++) {
			if (prefix_nth(&p, off, &a) < 0)
				break;
			if (sn && addr_reserved(sn, &a))
				continue;
			if ((r = pre_add(c, mk_alloc, &a)) < 0)
				return r;
			k++;
		}
	}
	return 0;
}

/* Forget the read ahead from pre[from] on. */
static void
prefetch_drop(struct alloc_ctx *c, size_t from)
{
	store_kv_free(c->pre + from, c->n_pre - from);
	c->n_pre = from;
	c->hb_state[0] = c->hb_state[1] = 0;
}

/* The block claims read ahead, into hb_state[]/hblock[]. */
static void
prefetch_parse(struct alloc_ctx *c)
{
	for (int fi = 0; fi < 2; fi++) {
		const struct store_kv *kv = &c->pre[c->hb_idx[fi]];
		cJSON *o;

		if (c->hb_state[fi] != -1)
			continue;
		c->hb_state[fi] = 0;		/* damaged: ask ipam_block_get() */
		if (!kv->val && !kv->ver[0]) {
			c->hb_state[fi] = 2;
		} else if (kv->val) {		/* as block_read(): no node = not ours */
			c->hblock[fi].node[0] = '\0';
			if (json_parse(kv->val, &o, NULL) == 0) {
				(void)json_get_str(o, "node", c->hblock[fi].node,
						   sizeof(c->hblock[fi].node), false, NULL, NULL);
				c->hblock[fi].lent = cJSON_IsTrue(
					cJSON_GetObjectItemCaseSensitive(o, "lent"));
				cJSON_Delete(o);
			}
			c->hb_state[fi] = 1;
		}
	}
}

/* The second read of the hot path, when the first could not guess the
 * hints (no note, or a stale one): one store_get_many. */
static int
prefetch_hints(struct alloc_ctx *c)
{
	size_t from = c->n_pre;
	int r;

	if ((r = prefetch_add(c, c->hint, NULL)) < 0)
		return r;
	if (c->n_pre == from)
		return 0;
	r = store_get_many(c->s, c->pre + from, c->n_pre - from, NULL);
	if (r < 0) {
		/* only a read ahead: one unreadable key fails all of it, so
		 * forget it and let the probes ask key by key (and say what
		 * cannot be read, if it matters) */
		prefetch_drop(c, from);
		return 0;
	}
	prefetch_parse(c);
	return 0;
}

/* The note kept with this host's lock (store_lock_note_get): the node and
 * the hint and its block per family, "<node> <v4> <block> <v6> <block>",
 * "-" for none (two configs of one host may name two nodes).  It
 * lets the first read also fetch the hint's block and the addresses after
 * it; it is checked against the hint and network read then. */
static bool
note_parse(const char *note, const char *node, struct ipaddr *h, struct prefix *b)
{
	char t[4][PREFIX_STRLEN + 1], nn[LEAFNET_NAME_MAX + 1];
	bool any = false;

	memset(h, 0, 2 * sizeof(*h));
	if (sscanf(note, "%63s %48s %48s %48s %48s", nn, t[0], t[1], t[2], t[3]) != 5 ||
	    strcmp(nn, node) != 0)
		return false;
	for (int fi = 0; fi < 2; fi++) {
		if (strcmp(t[2 * fi], "-") == 0)
			continue;
		if (ipaddr_parse(t[2 * fi], &h[fi]) < 0 ||
		    prefix_parse(t[2 * fi + 1], 0, &b[fi]) < 0)
			return false;
		any = true;
	}
	return any;
}

/* The block holding hint[fi] into *ret: the innermost this call knows of
 * (a nested block it split off or found, ipam_split.c), else the
 * top-level block of sn.  The note names it so that a nested block's
 * holder reads its own block ahead, not the parent another node owns
 * (which would send every ADD of it down the slow path). */
static void
hint_block(const struct alloc_ctx *c, int fi, const struct network_subnet *sn,
	   struct prefix *ret)
{
	const struct ipaddr *h = &c->hint[fi];

	for (size_t i = 0; i < c->n_split; i++)
		if (prefix_contains(&c->split[i], h)) {
			*ret = c->split[i];
			return;
		}
	if (c->blocks_loaded) {
		long bi = ipam_block_find(c->blocks, c->n_blocks, h);

		if (bi >= 0 && block_mine(c, (size_t)bi)) {
			*ret = c->blocks[bi].cidr;
			return;
		}
	}
	if (c->hb_known && prefix_contains(&c->hb, h)) {
		*ret = c->hb;
		return;
	}
	ret->addr = *h;
	ret->len = (uint8_t)ipam_block_len(c->net, sn);
	prefix_mask(ret);
}

static void
note_save(struct alloc_ctx *c, struct store_lock *lock)
{
	char note[NOTE_MAX], a[IPADDR_STRLEN], p[PREFIX_STRLEN];
	size_t len = (size_t)snprintf(note, sizeof(note), "%s ", c->req->node);

	for (int fi = 0; fi < 2; fi++) {
		const struct network_subnet *sn;
		struct prefix b;

		if (!ipaddr_is_set(&c->hint[fi]) || !(sn = subnet_of(c->net, &c->hint[fi]))) {
			len += (size_t)snprintf(note + len, sizeof(note) - len, "- - ");
			continue;
		}
		hint_block(c, fi, sn, &b);
		len += (size_t)snprintf(note + len, sizeof(note) - len, "%s %s ",
					ipaddr_fmt(&c->hint[fi], a, sizeof(a)),
					prefix_fmt(&b, p, sizeof(p)));
	}
	(void)store_lock_note_set(lock, note);	/* only a guess for next time */
}

/* Did the note guess the hints read (and their blocks, the network's)? */
static bool
note_matches(struct alloc_ctx *c, const struct ipaddr *h, const struct prefix *b)
{
	for (int fi = 0; fi < 2; fi++) {
		const struct network_subnet *sn;
		struct prefix p;

		if (ipaddr_is_set(&h[fi]) != ipaddr_is_set(&c->hint[fi]))
			return false;
		if (!ipaddr_is_set(&h[fi]))
			continue;
		if (!ipaddr_eq(&h[fi], &c->hint[fi]) || !(sn = subnet_of(c->net, &h[fi])))
			return false;
		/* the top-level block, or a nested one holding the hint */
		p.len = (uint8_t)ipam_block_len(c->net, sn);
		if (b[fi].len < p.len ||
		    b[fi].len > ipam_split_min_len(p.len, h[fi].family) ||
		    !prefix_contains(&b[fi], &h[fi]))
			return false;
	}
	return true;
}

/* ipam_addr_describe() without a read where the block is known: the
 * hints' blocks read ahead, and the blocks this call claims (not in the
 * store until the commit). */
static int
describe(struct alloc_ctx *c, const struct ipaddr *a, struct ipam_addr *ret)
{
	const struct network_subnet *sn = network_subnet_for(c->net, a->family);
	const struct prefix *b = NULL;
	bool borrowed = false;

	for (size_t i = 0; i < c->n_split && !b; i++)	/* nested: innermost first */
		if (prefix_contains(&c->split[i], a))
			b = &c->split[i];
	for (size_t i = 0; i < c->n_claimed && !b; i++)
		if (prefix_contains(&c->claimed[i], a))
			b = &c->claimed[i];
	/* the hint's block, when ours and nothing nested in it — or when
	 * parts of it are lent but a was taken by this call on the hot path
	 * (nothing listed: scan() of that block asked lent_away(), and a node
	 * never splits its own block, so the innermost block holding a is
	 * this one; ipam_addr_describe() would read the block and its nested
	 * keys again: 2 etcd requests an ADD for the owner of a lent block) */
	for (int fi = 0; fi < 2 && !b; fi++)
		if (c->hb_state[fi] == 1 &&
		    (!c->hblock[fi].lent ||
		     (!c->blocks_loaded && addr_in(c->created, c->n_created, a))) &&
		    strcmp(c->hblock[fi].node, c->req->node) == 0 &&
		    prefix_contains(&c->hblock[fi].cidr, a))
			b = &c->hblock[fi].cidr;
	/* taken by this call off the blocks listed (another block of this
	 * node's, or borrowed, perhaps from a nested block inside this node's
	 * own): the innermost of them holding a, which the commit's compares
	 * keep true (its nested keys absent) */
	if (!b && c->blocks_loaded && addr_in(c->created, c->n_created, a)) {
		long bi = ipam_block_find(c->blocks, c->n_blocks, a);

		if (bi >= 0) {
			b = &c->blocks[bi].cidr;
			borrowed = strcmp(c->blocks[bi].node, c->req->node) != 0;
		}
	}
	if (!b)
		return ipam_addr_describe(c->s, c->net, c->req->node, a, ret);
	memset(ret, 0, sizeof(*ret));
	ret->addr = *a;
	if (sn) {
		ret->subnet = sn->cidr;
		ret->gateway = sn->gateway;
	}
	ret->block = *b;
	ret->borrowed = borrowed;
	return 0;
}

/* One attempt of ipam_alloc() with this host's lock held: 0, -errno, or
 * CAS_RETRY when the commit's txn found the store changed since it was
 * read (nothing written; reterr untouched). */
static int
alloc_once(struct store *s, const struct ipam_req *req, int attempt, struct network *net,
	   struct store_lock *lock, struct ipam_addr *ret, size_t max, size_t *ret_n,
	   bool *ret_had, struct lf_err *reterr)
{
	struct alloc_ctx c = { .s = s, .req = req, .reterr = reterr, .now = time(NULL),
			       .spread = spread_seed(req->node, attempt), .attempt = attempt };
	struct store_kv *kv = c.pre;
	struct ipaddr res[MAX_TOUCHED], ghint[2];
	struct ipam_addr desc[IPAM_MAX_ADDRS];
	struct prefix gblock[2];
	struct ipam_index old;
	char note[NOTE_MAX];
	size_t n_res = 0;
	bool intact = false, index_exists = false, guessed = false;
	int r;

	/* 1. one read: the network, the owner key, this node's hint and —
	 * guessed from the note this host keeps with its lock — the hint's
	 * block and the addresses after the hint */
	snprintf(c.pre_key[0], sizeof(c.pre_key[0]), "networks/%s", req->network);
	r = ipam_key_owner(c.pre_key[1], sizeof(c.pre_key[1]), req->network,
			   req->owner.container_id, req->owner.ifname);
	if (r < 0)
		return lf_err_set(reterr, LF_E_INVALID, r, "invalid owner key");
	snprintf(c.pre_key[2], sizeof(c.pre_key[2]), "hints/%s/%s", req->network, req->node);
	for (c.n_pre = 0; c.n_pre < 3; c.n_pre++)
		c.pre[c.n_pre].key = c.pre_key[c.n_pre];
	if (store_lock_note_get(lock, note, sizeof(note)) > 0 && note_parse(note, req->node, ghint, gblock))
		guessed = prefetch_add(&c, ghint, gblock) == 0;
	r = store_get_many(s, c.pre, c.n_pre, reterr);
	if (r < 0 && c.n_pre > 3) {	/* the read ahead may be what fails */
		prefetch_drop(&c, 3);
		guessed = false;
		r = store_get_many(s, c.pre, 3, reterr);
	}
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "allocating in network %s", req->network);
	{
		struct lf_err pe = { 0 };

		r = kv[0].val ? network_from_json(kv[0].val, net, &pe) : -ENOENT;
	}
	if (r < 0) {
		/* absent or damaged: network_get() reads again and says which
		 * (and how to fix it); present and sound by now: start again */
		r = network_get(s, req->network, net, reterr);
		if (r == 0)
			r = CAS_RETRY;
		goto out_free;
	}
	snprintf(c.net_ver, sizeof(c.net_ver), "%s", kv[0].ver);
	snprintf(c.owner_ver, sizeof(c.owner_ver), "%s", kv[1].ver);
	c.net = net;
	r = families_check(&c);
	if (r < 0)
		goto out_free;
	if (kv[1].val || kv[1].ver[0]) {	/* the owner holds something: look */
		r = existing_load(&c, &old, &intact, &index_exists);
		if (r < 0)
			goto out_io;
	} else {
		memset(&old, 0, sizeof(old));
	}
	if (ret_had)
		*ret_had = old.n_addrs > 0;

	if (intact) {		/* a repeated ADD: the same answer */
		n_res = old.n_addrs;
		memcpy(res, old.addrs, n_res * sizeof(res[0]));
	} else {
		hint_load(&c, kv[2].val);
		if (guessed && note_matches(&c, ghint, gblock)) {
			prefetch_parse(&c);
			r = 0;
		} else {
			/* 2. one more read: the hints' blocks, the addresses
			 * after them */
			if (guessed)
				prefetch_drop(&c, 3);
			r = prefetch_hints(&c);
		}
		if (r == 0)
			r = alloc_all(&c, &old, res, &n_res);
		if (r == 0 && n_res > IPAM_MAX_ADDRS)
			r = -E2BIG;
		if (r == -E2BIG)
			r = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				       "too many addresses for %s in network %s: at most %d "
				       "per interface", req->owner.ifname, req->network,
				       IPAM_MAX_ADDRS);
		if (r < 0)
			goto out_rollback;
	}
	if (n_res > max) {
		r = lf_err_set(reterr, LF_E_INTERNAL, -ENOBUFS,
			       "room for %zu addresses, %zu allocated", max, n_res);
		goto out_rollback;
	}
	for (size_t i = 0; i < n_res; i++) {
		r = intact ? ipam_addr_describe(s, net, req->node, &res[i], &desc[i])
			   : describe(&c, &res[i], &desc[i]);
		if (r < 0)
			goto out_rollback;
	}
	if (!intact) {
		memset(&old, 0, sizeof(old));
		old.owner = req->owner;
		snprintf(old.node, sizeof(old.node), "%s", req->node);
		old.created = c.now;
		old.n_addrs = n_res;
		memcpy(old.addrs, res, n_res * sizeof(res[0]));
		/* 3. one txn */
		r = commit(&c, &old, index_exists);
		if (r == CAS_RETRY)
			goto out_free;
		if (r < 0)
			goto out_rollback;
		if (hint_inplace(&c))
			hint_save(&c);
		if (!hint_inplace(&c))	/* etcd: the note guesses the next read */
			note_save(&c, lock);
	}
	memcpy(ret, desc, n_res * sizeof(desc[0]));
	*ret_n = n_res;
	r = 0;
	goto out_free;

out_rollback:
	/* recorded first, while reterr->details still say what failed */
	(void)store_err_set(reterr, LF_E_IO, r, "allocating in network %s", req->network);
	rollback(&c);
	goto out_free;
out_io:
	(void)store_err_set(reterr, LF_E_IO, r, "allocating in network %s", req->network);
out_free:
	for (size_t i = 0; i < c.n_claimed; i++)
		free(c.claim_text[i]);
	free(c.blocks);
	free(c.used);
	store_kv_free(c.pre, c.n_pre);
	return r;
}

int
ipam_alloc(struct store *s, const struct ipam_req *req,
	   struct ipam_addr *ret, size_t max, size_t *ret_n, struct lf_err *reterr)
{
	return ipam_alloc_ex(s, req, ret, max, ret_n, NULL, reterr);
}

int
ipam_alloc_ex(struct store *s, const struct ipam_req *req,
	      struct ipam_addr *ret, size_t max, size_t *ret_n, bool *ret_had,
	      struct lf_err *reterr)
{
	struct store_lock *lock, *glock = NULL;
	struct network net;
	int r;

	r = req_check(req, reterr);
	if (r < 0)
		return r;
	r = ipam_lock_local(s, req->network, &lock, reterr);
	if (r < 0)
		return r;
	for (int attempt = 0;; attempt++) {
		/* Conflicts again and again (other hosts claiming the same
		 * blocks or borrowing the same addresses): take the network
		 * lock too, which every host's slow path shares, and go on. */
		if (attempt == CAS_RETRIES) {
			r = ipam_lock(s, req->network, &glock, reterr);
			if (r < 0)
				break;
		}
		r = alloc_once(s, req, attempt, &net, lock, ret, max, ret_n, ret_had, reterr);
		if (r != CAS_RETRY)
			break;
		if (attempt == 2 * CAS_RETRIES) {
			r = lf_err_set(reterr, LF_E_AGAIN, -EAGAIN,
				       "allocating in network %s: the store changed under "
				       "every one of %d attempts; retry", req->network, attempt + 1);
			break;
		}
	}
	store_unlock(glock);
	store_unlock(lock);
	return r;
}
