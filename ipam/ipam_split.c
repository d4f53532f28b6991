/* ipam_split.c — nested blocks: when no whole block is left, a node claims
 * an aligned, entirely free sub-prefix of another node's block as a block
 * of its own ("blocks/<net>/<sub>", the same record as a block), so a
 * nearly full pool stays aggregated instead of leaking /32s (issue 11).
 *
 * Rules (see ipam_private.h for the functions):
 *   - only top-level blocks (of the subnet's block length) are split, and
 *     a nested block is never split again: nesting is one level deep, so
 *     the blocks that can hold an address are the top-level one and one
 *     per length from block_len + 1 to ipam_split_min_len();
 *   - the chooser takes the largest free aligned sub-prefix, from the block
 *     with most free space (ties: the lower block), the highest such
 *     sub-prefix in it (the owner hands out from the start of its block);
 *     no more than IPAM_SPLIT_MAX_ADDRS addresses (so that the claim's
 *     compares fit one txn; a block of more than 256 addresses therefore
 *     never splits and its pool borrows single addresses as before —
 *     comparing in chunks would not be one atomic claim), no fewer than
 *     ipam_split_min_len() gives;
 *   - the claim is one store_txn(): absent are the sub-prefix's block key,
 *     every other nested key overlapping it (longer or shorter) and every
 *     allocation key inside it, and the parent block's record is the one
 *     read; then its block key is put and, by the block's first split
 *     only, the parent's record rewritten with "lent": true (every other
 *     field kept).  A parent marked already is compared, not rewritten:
 *     splits of different parts of one block do not fail each other, and
 *     the owner's commit compares the nested keys of its addresses in a
 *     marked block (ipam.c commit()).  Plugins before this rule compared
 *     only a marked block's version: during a rolling upgrade an old
 *     owner can take an address inside a nested block a new node claims
 *     at that moment (the address is then routed to the nested block's
 *     node), so upgrade before pools run low, or all nodes at once.  A
 *     lost claim returns what stood in its way (struct ipam_split_loss,
 *     from the txn's failure branch), so the next try chooses around it
 *     without listing everything again.
 *     So a concurrent split of an overlapping range, or an allocation
 *     inside the range by anyone, makes exactly one of them win, without
 *     a network lock — provided the other side's commit also compares
 *     either the parent block's record version where it read it unmarked
 *     (the first split changes it) or (for an allocation a in a top-level
 *     block B) the nested keys of a absent (ipam_nested_keys()).  On the
 *     file store that needs the txn's directory locks on keys created by
 *     link(2) too (store_file.c file_txn: write skew otherwise).
 *   - the "lent" flag keeps the hot path as cheap as before: the owner
 *     reads its block's record anyway (ipam_block_get()) and looks for
 *     nested blocks only in a block that has lent something.
 *   - a nested block stays with its claimer, like any block.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>

#include "err.h"
#include "json.h"
#include "store.h"
#include "network.h"
#include "ipam.h"
#include "ipam_private.h"

unsigned
ipam_split_min_len(unsigned block_len, int family)
{
	unsigned max = prefix_maxlen(family);
	unsigned min = block_len + IPAM_SPLIT_DEPTH;

	/* never a nested block of fewer than 4 addresses: a /31 or /32 saves
	 * nothing over a borrowed address */
	if (min > max - 2)
		min = max - 2;
	return min;
}

int
ipam_nested_keys(const char *net, const struct prefix *block, const struct ipaddr *a,
		 unsigned min_len, char (*keys)[IPAM_KEY_MAX], size_t max)
{
	size_t n = 0;

	for (unsigned len = block->len + 1u; len <= min_len && n < max; len++) {
		struct prefix p = { .addr = *a, .len = (uint8_t)len };
		int r;

		prefix_mask(&p);
		r = ipam_key_block(keys[n], sizeof(keys[n]), net, &p);
		if (r < 0)
			return r;
		n++;
	}
	return (int)n;
}

/* Number of used[] addresses inside p (used sorted). */
static size_t
used_in(const struct ipaddr *used, size_t n_used, const struct prefix *p)
{
	struct ipaddr last;
	size_t lo = 0, hi = n_used, k = 0;

	while (lo < hi) {		/* first used >= p's start */
		size_t mid = lo + (hi - lo) / 2;
		if (ipaddr_cmp(&used[mid], &p->addr) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	prefix_last(p, &last);
	for (size_t i = lo; i < n_used && ipaddr_cmp(&used[i], &last) <= 0; i++)
		k++;
	return k;
}

/* Does any block other than blocks[self] overlap p? */
static bool
nested_overlaps(const struct ipam_block *blocks, size_t n, size_t self, const struct prefix *p)
{
	for (size_t j = self + 1; j < n; j++) {
		if (!prefix_contains_prefix(&blocks[self].cidr, &blocks[j].cidr))
			break;		/* sorted: past the parent */
		if (prefix_overlaps(&blocks[j].cidr, p))
			return true;
	}
	return false;
}

int
ipam_split_choose(const struct ipam_block *blocks, size_t n, const struct ipaddr *used,
		  size_t n_used, const struct prefix *subnet, const char *node,
		  unsigned block_len, uint64_t spread, struct prefix *ret)
{
	struct cand { struct prefix p; uint64_t free; } *cand;
	int fam = subnet->addr.family;
	unsigned max = prefix_maxlen(fam);
	unsigned min_len = ipam_split_min_len(block_len, fam);
	unsigned start = block_len + 1;
	int r = -ENOSPC;

	cand = calloc(n ? n : 1, sizeof(*cand));
	if (!cand)
		return -ENOMEM;
	/* compares per txn: a sub-prefix's every address is one (etcd allows
	 * 128 per txn by default) */
	while (start <= max && max - start > IPAM_SPLIT_MAX_BITS)
		start++;
	for (unsigned len = start; len <= min_len && r == -ENOSPC; len++) {
		size_t n_cand = 0, best = 0, n_room = 0, want;

		/* every other node's block with a free sub-prefix of len: its
		 * highest one, and the block's free space */
		for (size_t i = 0; i < n; i++) {
			const struct ipam_block *b = &blocks[i];
			uint64_t lent = 0;

			if (b->cidr.len != block_len || strcmp(b->node, node) == 0 ||
			    !prefix_contains_prefix(subnet, &b->cidr))
				continue;
			for (size_t j = i + 1; j < n && prefix_contains_prefix(&b->cidr,
									   &blocks[j].cidr); j++)
				lent += prefix_size(&blocks[j].cidr);
			for (uint64_t idx = ((uint64_t)1 << (len - block_len)); idx-- > 0;) {
				struct prefix p;

				if (prefix_subnet(&b->cidr, len, idx, &p) < 0)
					continue;
				if (used_in(used, n_used, &p) == 0 &&
				    !nested_overlaps(blocks, n, i, &p)) {
					cand[n_cand].p = p;
					cand[n_cand].free = prefix_size(&b->cidr) - lent -
							    used_in(used, n_used, &b->cidr);
					if (cand[n_cand].free > cand[best].free)
						best = n_cand;	/* the first of equals */
					n_cand++;
					break;	/* the highest free one */
				}
			}
		}
		if (n_cand == 0)
			continue;
		r = 0;
		if (!spread) {
			*ret = cand[best].p;
			break;
		}
		/* spread: the (spread % k)-th of the k blocks with at least
		 * half the emptiest one's free space (an owner nearly out of
		 * room is not pushed to split or borrow itself) */
		for (size_t i = 0; i < n_cand; i++)
			n_room += cand[i].free * 2 >= cand[best].free;
		want = (size_t)(spread % n_room);
		for (size_t i = 0; i < n_cand; i++)
			if (cand[i].free * 2 >= cand[best].free && want-- == 0) {
				*ret = cand[i].p;
				break;
			}
	}
	free(cand);
	return r;
}

/* Every block key that overlaps sub and could exist: the nested lengths
 * from block_len + 1 to min_len, each the one containing sub (shorter) or
 * each inside it (longer); pfx[i] is keys[i]'s prefix. */
static int
overlap_keys(const char *net, const struct prefix *sub, unsigned block_len,
	     unsigned min_len, char (*keys)[IPAM_KEY_MAX], struct prefix *pfx, size_t max,
	     size_t *ret_n, size_t *ret_self)
{
	size_t n = 0;
	int r;

	for (unsigned len = block_len + 1; len <= min_len; len++) {
		if (len <= sub->len) {
			struct prefix p = *sub;

			p.len = (uint8_t)len;
			prefix_mask(&p);
			if (n == max)
				return -E2BIG;
			if (len == sub->len)
				*ret_self = n;
			pfx[n] = p;
			if ((r = ipam_key_block(keys[n++], IPAM_KEY_MAX, net, &p)) < 0)
				return r;
			continue;
		}
		for (uint64_t idx = 0; idx < ((uint64_t)1 << (len - sub->len)); idx++) {
			struct prefix p;

			if (n == max)
				return -E2BIG;
			if ((r = prefix_subnet(sub, len, idx, &p)) < 0)
				return r;
			pfx[n] = p;
			if ((r = ipam_key_block(keys[n++], IPAM_KEY_MAX, net, &p)) < 0)
				return r;
		}
	}
	*ret_n = n;
	return 0;
}

/* A lost claim's loss from its txn's failure branch: cur[i] is cmp key i
 * now; [0] the parent, [1, 1 + n_nested) the nested keys (pfx), then the
 * allocation keys of sub in order. */
static void
loss_fill(struct ipam_split_loss *loss, const struct store_kv *cur, size_t n,
	  const struct prefix *parent, const struct prefix *pfx, size_t n_nested,
	  const struct prefix *sub)
{
	memset(loss, 0, sizeof(*loss));
	if (!cur[0].val || !cur[0].ver[0]) {
		loss->parent_gone = true;
		return;
	}
	ipam_block_parse(cur[0].val, parent, &loss->parent);
	memcpy(loss->parent.ver, cur[0].ver, sizeof(loss->parent.ver));
	for (size_t i = 1; i < 1 + n_nested && i < n; i++) {
		if (!cur[i].ver[0] || loss->n_nested == IPAM_SPLIT_LOSS_NESTED)
			continue;
		/* a damaged one (no value) is claimed too: node "" */
		ipam_block_parse(cur[i].val ? cur[i].val : "", &pfx[i - 1],
				 &loss->nested[loss->n_nested]);
		memcpy(loss->nested[loss->n_nested++].ver, cur[i].ver, sizeof(cur[i].ver));
	}
	for (size_t i = 1 + n_nested; i < n; i++)
		if (cur[i].ver[0] && loss->n_used < IPAM_SPLIT_MAX_ADDRS &&
		    prefix_nth(sub, i - 1 - n_nested, &loss->used[loss->n_used]) == 0)
			loss->n_used++;
}

int
ipam_split_claim(struct store *s, const char *net, const char *node,
		 const struct prefix *sub, unsigned block_len, const struct ipam_block *known,
		 struct ipam_split_loss *loss, struct lf_err *reterr)
{
	enum { MAXK = 2 * IPAM_SPLIT_MAX_ADDRS + 2 * IPAM_SPLIT_DEPTH + 2 };
	unsigned min_len = ipam_split_min_len(block_len, sub->addr.family);
	char (*keys)[IPAM_KEY_MAX] = NULL;
	struct prefix pfx[IPAM_SPLIT_LOSS_NESTED];
	struct store_cmp *cmp = NULL;
	struct store_kv *cur = NULL;
	struct store_op op[2];
	size_t n_op = 0;
	struct store_kv pkv = { 0 };
	const char *pver;
	struct prefix parent;
	cJSON *po = NULL;
	char *ptext = NULL;
	uint64_t size = prefix_size(sub);
	size_t n = 0, n_nested = 0, self = 0;
	char *text = NULL;
	cJSON *o;
	int r;

	if (size > IPAM_SPLIT_MAX_ADDRS || sub->len <= block_len || sub->len > min_len)
		return -EINVAL;
	keys = calloc(MAXK, sizeof(*keys));
	cmp = calloc(MAXK, sizeof(*cmp));
	cur = loss ? calloc(MAXK, sizeof(*cur)) : NULL;
	if (!keys || !cmp || (loss && !cur)) {
		r = -ENOMEM;
		goto out;
	}
	/* the parent's record, compared, and rewritten with "lent" unless it
	 * has it already: then a split leaves it alone, so splits of other
	 * parts of one block do not fail each other's txn, nor the commit of
	 * an owner that read it marked (that one compares the nested keys of
	 * its address, ipam.c commit()).  Known from the blocks listed
	 * (known) when it is marked: no read. */
	parent = *sub;
	parent.len = (uint8_t)block_len;
	prefix_mask(&parent);
	if ((r = ipam_key_block(keys[0], IPAM_KEY_MAX, net, &parent)) < 0)
		goto out;
	if (known && known->lent && known->ver[0] && prefix_eq(&known->cidr, &parent)) {
		pver = known->ver;
	} else {
		pkv.key = keys[0];
		if ((r = store_get_many(s, &pkv, 1, reterr)) < 0)
			goto out;
		if (!pkv.val || json_parse(pkv.val, &po, NULL) < 0) {
			if (loss) {
				memset(loss, 0, sizeof(*loss));
				loss->parent_gone = true;
			}
			r = -EAGAIN;	/* gone or unreadable: choose again */
			goto out;
		}
		pver = pkv.ver;
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(po, "lent"))) {
			cJSON_DeleteItemFromObjectCaseSensitive(po, "lent");
			if (!cJSON_AddTrueToObject(po, "lent") || !(ptext = json_print(po))) {
				r = -ENOMEM;
				goto out;
			}
		}
	}
	/* the sub-prefix's own key (keys[self]) is the op's too */
	if ((r = overlap_keys(net, sub, block_len, min_len, keys + 1, pfx,
			      IPAM_SPLIT_LOSS_NESTED, &n, &self)) < 0)
		goto out;
	n_nested = n;
	n++;
	self++;
	for (uint64_t off = 0; off < size; off++) {
		struct ipaddr a;

		if (n == MAXK) {
			r = -E2BIG;
			goto out;
		}
		if ((r = prefix_nth(sub, off, &a)) < 0 ||
		    (r = ipam_key_alloc(keys[n], IPAM_KEY_MAX, net, &a)) < 0)
			goto out;
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		cmp[i].key = keys[i];
		cmp[i].ver = i == 0 ? pver : "";
	}
	if (!(o = cJSON_CreateObject())) {
		r = -ENOMEM;
		goto out;
	}
	if (cJSON_AddStringToObject(o, "node", node) && json_add_prefix(o, "cidr", sub))
		text = json_print(o);
	cJSON_Delete(o);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	if (ptext) {
		op[n_op].key = keys[0];
		op[n_op++].val = ptext;
	}
	op[n_op].key = keys[self];
	op[n_op++].val = text;
	/* durable, like every block claim (flags 0).  The parent's mark
	 * first: the file backend applies ops in order, and a crash between
	 * must leave a marked parent without a nested block (harmless: a
	 * few lookups more), never a nested block the owner's hot path
	 * would not look for. */
	r = store_txn(s, cmp, n, op, n_op, 0, cur, reterr);
	if (r == -EAGAIN && loss)
		loss_fill(loss, cur, n, &parent, pfx, n_nested, sub);
out:
	if (cur)
		store_kv_free(cur, MAXK);
	free(cur);
	free(ptext);
	cJSON_Delete(po);
	store_kv_free(&pkv, 1);
	free(text);
	free(cmp);
	free(keys);
	return r;
}
