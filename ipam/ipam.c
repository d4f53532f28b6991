/* ipam.c — allocate and release addresses of a network.
 *
 * Everything that changes a network's allocations runs under the network's
 * store lock ("ipam-<net>").  Addresses are chosen first (probing
 * "alloc/<net>/<addr>"), then claimed together with the owner index in one
 * store_create_many(): each "alloc/<net>/<addr>" is an exclusive create,
 * so even without the lock no address is ever owned twice; the owner index
 * comes last, and a crash in between leaves at worst an allocation whose
 * index is missing, which GC releases.
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
 * The hot path (this node's current block has a free address after the
 * hint) costs: the network record, the owner index (absent), the hint, the
 * hint's block claim, one lookup per probed address, one file created and
 * linked under the allocation and index keys, and the hint overwritten in
 * place — no directory is listed.  The node's block claims are listed only
 * when that block is full, and the whole allocation directory only once
 * direct probing gets long (full blocks, exhaustion).  On a disk the one
 * file creation (~0.15 ms on ext4) is most of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cJSON.h>

#include "err.h"
#include "json.h"
#include "store.h"
#include "dbuf.h"
#include "network.h"
#include "ipam.h"
#include "ipam_private.h"

#define DIRECT_PROBES 32	/* then list alloc/<net> once and search in memory */
#define MAX_TOUCHED   (2 * IPAM_MAX_ADDRS)

struct alloc_ctx {
	struct store *s;
	const struct ipam_req *req;
	const struct network *net;
	struct lf_err *reterr;
	time_t now;
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
	/* the owner's addresses whose allocation record is damaged (or whose
	 * owner record was): commit() writes them anew */
	struct ipaddr repair[IPAM_MAX_ADDRS];
	size_t n_repair;
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

static void
hint_load(struct alloc_ctx *c)
{
	static const char *const keys[2] = { "v4", "v6" };
	char key[IPAM_KEY_MAX], buf[IPADDR_STRLEN];
	cJSON *o;
	char *text;

	snprintf(key, sizeof(key), "hints/%s/%s", c->req->network, c->req->node);
	if (store_get(c->s, key, &text, NULL) < 0)
		return;			/* a hint: absent or unreadable is fine */
	if (json_parse(text, &o, NULL) == 0) {
		for (int i = 0; i < 2; i++)
			if (json_get_str(o, keys[i], buf, sizeof(buf), false, NULL, NULL) == 0)
				(void)ipaddr_parse(buf, &c->hint[i]);
		cJSON_Delete(o);
	}
	free(text);
}

/* The hint changes on every ADD.  Replacing its file by rename would cost
 * a new inode and, on ext4, a writeback forced by the rename (~0.3 ms
 * together); it is rewritten in place instead (STORE_F_INPLACE), padded
 * with blanks to one width so the file never changes size.  It is read and
 * written under the network lock; a value torn by a crash is unreadable or
 * points elsewhere, and either only moves where the next scan starts. */
#define HINT_WIDTH 128		/* {"v4":"<15>","v6":"<39>"} is 75 */

static void
hint_save(struct alloc_ctx *c)
{
	static const char *const keys[2] = { "v4", "v6" };
	char key[IPAM_KEY_MAX], buf[IPADDR_STRLEN], padded[HINT_WIDTH + 1];
	char *text = NULL;
	bool ok = true;
	cJSON *o;

	if (!c->hint_dirty || !(o = cJSON_CreateObject()))
		return;
	for (int i = 0; i < 2 && ok; i++)
		if (ipaddr_is_set(&c->hint[i]))
			ok = cJSON_AddStringToObject(o, keys[i],
					ipaddr_fmt(&c->hint[i], buf, sizeof(buf))) != NULL;
	if (ok)
		text = json_print(o);
	cJSON_Delete(o);
	if (!text)
		return;
	snprintf(key, sizeof(key), "hints/%s/%s", c->req->network, c->req->node);
	snprintf(padded, sizeof(padded), "%-*s\n", HINT_WIDTH - 1, text);
	/* losing a hint is harmless */
	(void)store_put_ex(c->s, key, strlen(text) < HINT_WIDTH ? padded : text,
			   STORE_F_VOLATILE | STORE_F_INPLACE, NULL);
	free(text);
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
	if (!c->used_loaded && c->probes >= DIRECT_PROBES) {
		r = ipam_used_load(c->s, c->req->network, &c->used, &c->n_used);
		if (r < 0)
			return r;
		c->used_loaded = true;
	}
	if (c->used_loaded)
		return ipam_used_has(c->used, c->n_used, a);

	c->probes++;
	r = ipam_key_alloc(key, sizeof(key), c->req->network, a);
	if (r < 0)
		return r;
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
 * yet: commit() claims every reserved address at once, exclusively, with
 * the network lock held all along — so all of one owner's allocations and
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

/* Claim the first unclaimed block of sn for this node; -ENOSPC if none. */
static int
claim_block(struct alloc_ctx *c, const struct network_subnet *sn, struct prefix *ret)
{
	unsigned len = ipam_block_len(c->net, sn);
	char key[IPAM_KEY_MAX], *text;
	struct ipam_block *nb;
	struct ipaddr last;
	struct prefix b;
	size_t p = 0;
	cJSON *o;
	int r;

	if (c->n_claimed == MAX_TOUCHED)
		return -E2BIG;
	for (uint64_t idx = 0;; idx++) {
		r = prefix_subnet(&sn->cidr, len, idx, &b);
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
		r = store_create(c->s, key, text, c->reterr);
		free(text);
		if (r == -EEXIST)
			continue;	/* claimed behind our back; try the next */
		if (r < 0)
			return r;
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
 * ipam_blocks_load()'s order (address, then length). */
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
	return 0;
}

/* No whole block left: claim the largest free aligned sub-prefix of
 * another node's block as a nested block of this node (ipam_split.c), in
 * one store_txn.  -ENOSPC when none of the minimum size is free anywhere,
 * -EAGAIN when the txn lost to a concurrent claim or allocation (the
 * blocks and allocations are read again for the retry).  The ADD's own
 * allocation inside it is committed as usual, after: the nested block is
 * this node's from the txn on, and a failed ADD keeps it (like a block
 * claim, rollback() drops it). */
static int
split_block(struct alloc_ctx *c, const struct network_subnet *sn, struct prefix *ret)
{
	unsigned len = ipam_block_len(c->net, sn);
	struct ipaddr *all;
	struct prefix sub;
	size_t n_all;
	int r;

	if (c->n_claimed == MAX_TOUCHED)
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
			      len, &sub);
	free(all);
	if (r < 0)
		return r;
	r = ipam_split_claim(c->s, c->req->network, c->req->node, &sub, len, c->reterr);
	if (r == -EAGAIN) {
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
	c->claimed[c->n_claimed++] = sub;
	r = blocks_insert(c, &sub);
	if (r < 0)
		return r;	/* the claim is in the undo log */
	*ret = sub;
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

		r = ipam_block_get(c->s, c->net, &c->hint[fi], &hk);
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
	/* 5. a nested block: a free part of another node's block */
	for (int tries = 0; tries < 4; tries++) {
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
	/* 6. borrow one address from another node's block */
	for (size_t j = 0; j < c->n_blocks; j++) {
		if (block_mine(c, j) || !block_in_subnet(c, j, sn))
			continue;
		b = c->blocks[j].cidr;
		r = scan(c, sn, &b, 0, prefix_size(&b), ret);
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
	for (size_t i = 0; i < c->n_claimed; i++)
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
			 * ours (every writer holds the lock); mend it */
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
 * (store_create_many), instead of a file per address plus one for the
 * index.  An index that exists already (a repeated ADD that changed
 * something, or an unreadable one) is replaced by a put afterwards. */
static int
commit(struct alloc_ctx *c, const struct ipam_index *x, bool index_exists)
{
	char keys[MAX_TOUCHED + 1][IPAM_KEY_MAX], abuf[IPADDR_STRLEN];
	const char *kp[MAX_TOUCHED + 1];
	size_t n = 0, existing = 0;
	char *text;
	int r;

	for (size_t i = 0; i < c->n_created; i++, n++) {
		r = ipam_key_alloc(keys[n], sizeof(keys[n]), c->req->network, &c->created[i]);
		if (r < 0)
			return r;
		kp[n] = keys[n];
	}
	r = ipam_key_owner(keys[n], sizeof(keys[n]), c->req->network,
			   x->owner.container_id, x->owner.ifname);
	if (r < 0)
		return r;
	kp[n] = keys[n];
	text = ipam_index_to_json(x);
	if (!text)
		return -ENOMEM;
	if (!index_exists) {
		r = store_create_many(c->s, kp, n + 1, text, STORE_F_VOLATILE, &existing, c->reterr);
		if (r == -EEXIST && existing == n)
			index_exists = true;	/* appeared after all: put it below */
		else if (r < 0)
			goto out_eexist;
		else
			c->committed = true;
	}
	if (index_exists) {
		if (n > 0) {
			r = store_create_many(c->s, kp, n, text, STORE_F_VOLATILE, &existing, c->reterr);
			if (r < 0)
				goto out_eexist;
			c->committed = true;
		}
		r = put_mend(c, kp[n], text);
		if (r < 0)
			r = store_err_set(c->reterr, LF_E_IO, r, "writing %s", kp[n]);
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
	free(text);
	return r;

out_eexist:
	free(text);
	/* Every writer holds the network lock, under which is_used() found the
	 * address free: someone changed the state directory behind our back.
	 * A retried ADD sees the record and picks another address. */
	if (r == -EEXIST && existing < c->n_created)
		return lf_err_set(c->reterr, LF_E_AGAIN, -EADDRINUSE,
				  "address %s in network %s was allocated while the network "
				  "was locked (state changed outside leafnet?); retry",
				  ipaddr_fmt(&c->created[existing], abuf, sizeof(abuf)),
				  c->req->network);
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

int
ipam_alloc(struct store *s, const struct ipam_req *req,
	   struct ipam_addr *ret, size_t max, size_t *ret_n, struct lf_err *reterr)
{
	struct alloc_ctx c = { .s = s, .req = req, .reterr = reterr, .now = time(NULL) };
	struct ipaddr res[MAX_TOUCHED];
	struct ipam_addr desc[IPAM_MAX_ADDRS];
	struct store_lock *lock;
	struct network net;
	struct ipam_index old;
	size_t n_res = 0;
	bool intact, index_exists;
	int r;

	r = req_check(req, reterr);
	if (r < 0)
		return r;
	r = ipam_lock(s, req->network, &lock, reterr);
	if (r < 0)
		return r;
	r = network_get(s, req->network, &net, reterr);
	if (r < 0)
		goto out_unlock;
	c.net = &net;
	r = families_check(&c);
	if (r < 0)
		goto out_unlock;
	r = existing_load(&c, &old, &intact, &index_exists);
	if (r < 0)
		goto out_io;

	if (intact) {		/* a repeated ADD: the same answer */
		n_res = old.n_addrs;
		memcpy(res, old.addrs, n_res * sizeof(res[0]));
	} else {
		hint_load(&c);
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
		r = ipam_addr_describe(s, &net, req->node, &res[i], &desc[i]);
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
		r = commit(&c, &old, index_exists);	/* the index last */
		if (r < 0)
			goto out_rollback;
		hint_save(&c);
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
	free(c.blocks);
	free(c.used);
out_unlock:
	store_unlock(lock);
	return r;
}
