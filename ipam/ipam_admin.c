/* ipam_admin.c — listings, garbage collection and purging of the IPAM.
 *
 * None of this is on the ADD/DEL path: listing whole directories is fine.
 * GC asks keep() about every allocation without holding the network lock
 * (the callback may be slow: it may ask a container runtime), then takes
 * the lock and releases only allocations that are still exactly the ones it
 * judged (same owner, same creation time).
 *
 * Damaged records (not JSON, cut short, a directory where the record
 * belongs, a read error) never free an address by themselves and never
 * hide one.  A damaged allocation is judged by the owner whose (readable)
 * owner record lists it, and freed when keep() says that owner is gone; one
 * nobody lists is kept — by a GC over every node (node == NULL) it is
 * dropped — and ipam_check() reports it, ipam_repair() removes it (netctl
 * ipam check | repair).  A damaged owner record stays while an allocation
 * is the same stored record (the file store's links): its owner's DEL or
 * ADD still matches them through it (ipam_owner_recover). 
 *
 * ipam_purge_network returns the number of allocations dropped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "dbuf.h"
#include "network.h"
#include "ipam.h"
#include "ipam_private.h"

static int
record_cmp(const void *a, const void *b)
{
	const struct ipam_record *x = a, *y = b;
	int c = strcmp(x->network, y->network);

	return c ? c : ipaddr_cmp(&x->addr, &y->addr);
}

/* Append net's allocations to *v (*n of *cap used). */
static int
records_load(struct store *s, const char *net, struct ipam_record **v, size_t *n,
	     size_t *cap)
{
	struct ipam_record *nv;
	struct ipaddr a;
	char **names;
	size_t n_names;
	int r;

	r = ipam_alloc_names(s, net, &names, &n_names);
	if (r < 0)
		return r;
	if (n_names == 0)
		goto out_free_names;
	if ((r = grow_array((void **)v, cap, *n + n_names, sizeof(**v))) < 0)
		goto out_free_names;
	nv = *v;
	for (size_t i = 0; i < n_names; i++) {
		if (ipaddr_parse(names[i], &a) < 0)
			continue;
		r = ipam_record_get(s, net, &a, &nv[*n]);
		if (ipam_rec_broken(r)) {
			/* unreadable: list it without an owner so it shows */
			memset(&nv[*n], 0, sizeof(nv[*n]));
			nv[*n].addr = a;
			nv[*n].broken = r;
			snprintf(nv[*n].network, sizeof(nv[*n].network), "%s", net);
			r = 0;
		} else if (r == 0) {
			nv[*n].broken = 0;
		}
		if (r == -ENOENT)
			continue;	/* released meanwhile */
		if (r < 0)
			goto out_free_names;
		(*n)++;
	}
	r = 0;
out_free_names:
	store_names_free(names, n_names);
	return r;
}

static int
networks_with_state(struct store *s, char ***ret, size_t *ret_n)
{
	return store_list_dirs(s, "alloc", ret, ret_n, NULL);
}

int
ipam_list(struct store *s, const char *network, struct ipam_record **ret, size_t *ret_n)
{
	struct ipam_record *v = NULL;
	char **nets = NULL;
	size_t n = 0, cap = 0, n_nets = 0;
	int r;

	if (network) {
		if (!network_name_valid(network))
			return -EINVAL;
		r = records_load(s, network, &v, &n, &cap);
	} else {
		r = networks_with_state(s, &nets, &n_nets);
		for (size_t i = 0; r == 0 && i < n_nets; i++)
			if (network_name_valid(nets[i]))
				r = records_load(s, nets[i], &v, &n, &cap);
		store_names_free(nets, n_nets);
	}
	if (r < 0) {
		free(v);
		return r;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), record_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

int
ipam_blocks(struct store *s, const char *network, struct ipam_block **ret, size_t *ret_n)
{
	struct ipam_block *blocks;
	struct ipaddr *used;
	size_t n_blocks, n_used;
	int r;

	if (!network || !network_name_valid(network))
		return -EINVAL;
	r = ipam_blocks_load(s, network, &blocks, &n_blocks);
	if (r < 0)
		return r;
	r = ipam_used_load(s, network, &used, &n_used);
	if (r < 0) {
		free(blocks);
		return r;
	}
	for (size_t i = 0; i < n_used; i++) {
		long bi = ipam_block_find(blocks, n_blocks, &used[i]);
		if (bi >= 0)
			blocks[bi].n_used++;
	}
	free(used);
	*ret = blocks;
	*ret_n = n_blocks;
	return 0;
}

int
ipam_block_claims(struct store *s, const char *network, struct ipam_block **ret,
		  size_t *ret_n)
{
	if (!network || !network_name_valid(network))
		return -EINVAL;
	return ipam_blocks_load(s, network, ret, ret_n);
}

/* ---- usage ------------------------------------------------------------ */

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Usable addresses of p inside subnet sn: its size less the reserved
 * addresses (network, IPv4 broadcast, gateway) it holds. */
static uint64_t
usable(const struct prefix *p, const struct network_subnet *sn)
{
	uint64_t size = prefix_size(p), res = 0;
	struct ipaddr x;

	if (size == UINT64_MAX)
		return size;
	if (prefix_nth(&sn->cidr, 0, &x) == 0 && prefix_contains(p, &x))
		res++;
	if (p->addr.family == AF_INET && sn->cidr.len < 31) {
		prefix_last(&sn->cidr, &x);
		if (prefix_contains(p, &x))
			res++;
	}
	if (ipaddr_is_set(&sn->gateway) && prefix_contains(p, &sn->gateway))
		res++;
	return size > res ? size - res : 0;
}

static const struct network_subnet *
subnet_of(const struct network *n, const struct ipaddr *a)
{
	for (size_t i = 0; i < n->n_subnets && i < NETWORK_MAX_SUBNETS; i++)
		if (prefix_contains(&n->subnets[i].cidr, a))
			return &n->subnets[i];
	return NULL;
}

static struct ipam_usage_node *
usage_node(struct ipam_usage *u, size_t *cap, const char *node)
{
	struct ipam_usage_node *x;

	for (size_t i = 0; i < u->n_nodes; i++)
		if (strcmp(u->nodes[i].node, node) == 0)
			return &u->nodes[i];
	if (GROW(u->nodes, *cap, u->n_nodes + 1) < 0)
		return NULL;
	x = &u->nodes[u->n_nodes++];
	memset(x, 0, sizeof(*x));
	snprintf(x->node, sizeof(x->node), "%s", node);
	return x;
}

static int
usage_node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ipam_usage_node *)a)->node,
		      ((const struct ipam_usage_node *)b)->node);
}

/* Does node own a block holding a? */
static bool
own_block(const struct ipam_block *b, size_t n, const char *node, const struct ipaddr *a)
{
	long bi = ipam_block_find(b, n, a);

	return bi >= 0 && strcmp(b[bi].node, node) == 0;
}

int
ipam_usage(struct store *s, const struct network *n, struct ipam_usage *ret)
{
	struct ipam_usage u = { 0 };
	struct ipam_block *blocks = NULL;
	struct ipam_record *recs = NULL;
	struct ipam_usage_node *x;
	size_t n_blocks = 0, n_recs = 0, cap = 0;
	int r;

	r = ipam_blocks_load(s, n->name, &blocks, &n_blocks);
	if (r < 0)
		return r;
	r = ipam_list(s, n->name, &recs, &n_recs);
	if (r < 0)
		goto out_free;
	for (size_t i = 0; i < n->n_subnets && i < NETWORK_MAX_SUBNETS; i++)
		u.size = sat_add(u.size, usable(&n->subnets[i].cidr, &n->subnets[i]));
	if (n_blocks > 0 && !(u.blocks = calloc(n_blocks, sizeof(*u.blocks)))) {
		r = -ENOMEM;
		goto out_free;
	}
	for (size_t i = 0; i < n_blocks; i++) {
		const struct network_subnet *sn = subnet_of(n, &blocks[i].cidr.addr);
		struct ipam_usage_block *ub = &u.blocks[u.n_blocks++];

		ub->cidr = blocks[i].cidr;
		snprintf(ub->node, sizeof(ub->node), "%s", blocks[i].node);
		ub->size = sn ? usable(&blocks[i].cidr, sn) : prefix_size(&blocks[i].cidr);
		/* nested blocks (ipam_split.c) sort right after their parent:
		 * the parent's size is what it has not lent */
		for (size_t j = i + 1; j < n_blocks &&
		     prefix_contains_prefix(&blocks[i].cidr, &blocks[j].cidr); j++) {
			uint64_t ns = sn ? usable(&blocks[j].cidr, sn) : prefix_size(&blocks[j].cidr);

			ub->size = ub->size > ns ? ub->size - ns : 0;
		}
		u.claimed = sat_add(u.claimed, ub->size);
		if (!(x = usage_node(&u, &cap, blocks[i].node))) {
			r = -ENOMEM;
			goto out_free;
		}
		x->n_blocks++;
		x->size = sat_add(x->size, ub->size);
	}
	for (size_t i = 0; i < n_recs; i++) {
		long bi = ipam_block_find(blocks, n_blocks, &recs[i].addr);

		u.used++;
		if (bi >= 0) {
			u.blocks[bi].used++;
			if (!(x = usage_node(&u, &cap, blocks[bi].node))) {
				r = -ENOMEM;
				goto out_free;
			}
			x->used++;
		}
		if (recs[i].broken || !recs[i].node[0]) {
			u.damaged++;
			continue;
		}
		if (!(x = usage_node(&u, &cap, recs[i].node))) {
			r = -ENOMEM;
			goto out_free;
		}
		x->allocated++;
		if (!own_block(blocks, n_blocks, recs[i].node, &recs[i].addr)) {
			x->borrowed++;
			u.borrowed++;
		}
	}
	if (u.n_nodes > 1)
		qsort(u.nodes, u.n_nodes, sizeof(*u.nodes), usage_node_cmp);
	*ret = u;
	memset(&u, 0, sizeof(u));
	r = 0;
out_free:
	ipam_usage_done(&u);
	free(recs);
	free(blocks);
	return r;
}

void
ipam_usage_done(struct ipam_usage *u)
{
	if (!u)
		return;
	free(u->blocks);
	free(u->nodes);
	u->blocks = NULL;
	u->nodes = NULL;
	u->n_blocks = u->n_nodes = 0;
}

/* Is any allocation of net the same stored record as the owner key okey? */
static bool
holds_alloc(struct store *s, const char *net, const char *okey)
{
	char akey[IPAM_KEY_MAX], **names;
	size_t n;
	bool found = false;

	if (ipam_alloc_names(s, net, &names, &n) < 0)
		return true;		/* cannot tell: keep it */
	for (size_t i = 0; i < n && !found; i++)
		found = snprintf(akey, sizeof(akey), "alloc/%s/%s", net, names[i]) <
				(int)sizeof(akey) &&
			store_same_record(s, akey, okey, NULL) == 1;
	store_names_free(names, n);
	return found;
}

/* The owner a damaged allocation record of a belonged to, from the readable
 * owner records of net (x: loaded lazily, *nx of them); false if none
 * lists it. */
static bool
broken_owner(struct store *s, const char *net, const struct ipaddr *a,
	     struct ipam_index **x, size_t *nx, bool *loaded, struct ipam_index *ret)
{
	if (!*loaded) {
		char key[IPAM_KEY_MAX], **names;
		size_t n;

		*loaded = true;
		if (ipam_list_names(s, "owners", net, &names, &n) < 0)
			return false;
		if (n > 0 && (*x = calloc(n, sizeof(**x))) != NULL) {
			for (size_t i = 0; i < n; i++)
				if (snprintf(key, sizeof(key), "owners/%s/%s", net, names[i]) <
				    (int)sizeof(key) && ipam_index_read(s, key, &(*x)[*nx]) == 0)
					(*nx)++;
		}
		store_names_free(names, n);
	}
	for (size_t i = 0; i < *nx; i++)
		for (size_t k = 0; k < (*x)[i].n_addrs; k++)
			if (ipaddr_eq(&(*x)[i].addrs[k], a)) {
				*ret = (*x)[i];
				return true;
			}
	return false;
}

/* Drop index entries (and whole indexes) whose allocations are gone, and
 * indexes that sit under a key not theirs or are damaged and hold nothing. */
static int
gc_indexes_locked(struct store *s, const char *net)
{
	char key[IPAM_KEY_MAX], want[IPAM_KEY_MAX];
	struct ipam_record rec;
	struct ipam_index x;
	char **names;
	size_t n_names;
	int r;

	r = ipam_list_names(s, "owners", net, &names, &n_names);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_names; i++) {
		size_t j = 0;

		if (snprintf(key, sizeof(key), "owners/%s/%s", net, names[i]) >= (int)sizeof(key))
			continue;
		r = ipam_index_read(s, key, &x);
		if (r == -ENOENT)
			continue;
		if (r == 0 && (ipam_key_owner(want, sizeof(want), net, x.owner.container_id,
					      x.owner.ifname) < 0 || strcmp(want, key) != 0)) {
			(void)store_delete(s, key, NULL);	/* not its key */
			continue;
		}
		if (ipam_rec_broken(r)) {
			/* damaged: dropped once no allocation is the same
			 * stored record (its owner's DEL or ADD still finds
			 * those through it) */
			if (!holds_alloc(s, net, key))
				(void)store_delete(s, key, NULL);
			continue;
		}
		if (r < 0)
			goto out_free_names;
		for (size_t k = 0; k < x.n_addrs; k++) {
			r = ipam_record_get(s, net, &x.addrs[k], &rec);
			if ((r == 0 && ipam_owner_is(&rec.owner, x.owner.container_id,
						     x.owner.ifname)) || ipam_rec_broken(r))
				x.addrs[j++] = x.addrs[k];	/* a damaged one: still its */
			else if (r < 0 && r != -ENOENT)
				goto out_free_names;
		}
		if (j != x.n_addrs) {
			x.n_addrs = j;
			r = ipam_index_put(s, net, &x);	/* deletes when empty */
			if (r < 0)
				goto out_free_names;
		}
	}
	r = 0;
out_free_names:
	store_names_free(names, n_names);
	return r;
}

/* The owner index of r's owner exists and does not list r's address. */
static bool
index_disowns(struct store *s, const char *net, const struct ipam_record *r)
{
	struct ipam_index x;

	if (ipam_index_get(s, net, r->owner.container_id, r->owner.ifname, &x) != 0)
		return false;	/* no index (or unreadable): not ours to judge */
	for (size_t k = 0; k < x.n_addrs; k++)
		if (ipaddr_eq(&x.addrs[k], &r->addr))
			return false;
	return true;
}

static int
gc_network(struct store *s, const char *net, const char *node,
	   bool (*keep)(const struct ipam_record *r, void *arg), void *arg)
{
	struct ipam_record *v = NULL, cur;
	struct ipam_index *idx = NULL, owner;
	struct store_lock *lock;
	size_t n = 0, cap = 0, n_drop = 0, n_idx = 0;
	bool idx_loaded = false, *orphan = NULL;
	int r, released = 0;

	r = records_load(s, net, &v, &n, &cap);
	if (r < 0)
		return r;
	/* a damaged record: judge the owner whose owner record lists it */
	for (size_t i = 0; i < n; i++) {
		if (!v[i].broken ||
		    !broken_owner(s, net, &v[i].addr, &idx, &n_idx, &idx_loaded, &owner))
			continue;
		v[i].owner = owner.owner;
		snprintf(v[i].node, sizeof(v[i].node), "%s", owner.node);
	}
	free(idx);
	/* judge without the lock; keep the rejected ones at the front.  An
	 * allocation of a container that keep() wants is still dropped when
	 * that container's owner index exists and does not list it: an ADD
	 * killed between writing the allocation and its owner index, then
	 * retried, took another address, and this one belongs to nobody. */
	orphan = calloc(n ? n : 1, sizeof(*orphan));
	if (orphan == NULL) {
		r = -ENOMEM;
		goto out_free;
	}
	for (size_t i = 0; i < n; i++) {
		bool orph = false;

		if (node && strcmp(v[i].node, node) != 0)
			continue;
		if (v[i].owner.container_id[0] && keep(&v[i], arg)) {
			orph = !v[i].broken && index_disowns(s, net, &v[i]);
			if (!orph)
				continue;
		}
		orphan[n_drop] = orph;
		v[n_drop++] = v[i];
	}
	r = ipam_lock(s, net, &lock, NULL);
	if (r < 0)
		goto out_free;
	for (size_t i = 0; i < n_drop; i++) {
		r = ipam_record_get(s, net, &v[i].addr, &cur);
		if (r == -ENOENT)
			continue;
		if (ipam_rec_broken(r) && v[i].broken) {
			struct ipam_index x;
			size_t j = 0;

			/* damaged then and now: freed when its owner was
			 * judged gone, or by a GC over every node */
			if (!v[i].owner.container_id[0] && node != NULL)
				continue;
			if (ipam_delete_broken(s, net, &v[i].addr) < 0)
				continue;	/* rewritten meanwhile (a CAS): not judged */
			released++;
			if (v[i].owner.container_id[0] &&
			    ipam_index_get(s, net, v[i].owner.container_id,
					   v[i].owner.ifname, &x) == 0) {
				for (size_t k = 0; k < x.n_addrs; k++)
					if (!ipaddr_eq(&x.addrs[k], &v[i].addr))
						x.addrs[j++] = x.addrs[k];
				x.n_addrs = j;
				(void)ipam_index_put(s, net, &x);
			}
			continue;
		}
		if (r < 0 && !ipam_rec_broken(r))
			goto out_unlock;
		if (r < 0 || v[i].broken || cur.created != v[i].created ||
		    !ipam_owner_is(&cur.owner, v[i].owner.container_id, v[i].owner.ifname))
			continue;	/* changed since it was judged */
		if (orphan[i] && !index_disowns(s, net, &cur))
			continue;	/* its owner's index took it back meanwhile */
		r = ipam_release_locked(s, net, &cur);
		if (r < 0)
			goto out_unlock;
		released += r;
	}
	r = gc_indexes_locked(s, net);
out_unlock:
	store_unlock(lock);
out_free:
	free(orphan);
	free(v);
	return r < 0 ? r : released;
}

int
ipam_gc(struct store *s, const char *node,
	bool (*keep)(const struct ipam_record *r, void *arg), void *arg,
	struct lf_err *reterr)
{
	char **nets = NULL, **owner_nets = NULL;
	size_t n_nets = 0, n_owner_nets = 0;
	int r, total = 0;

	if (!keep)
		return lf_err_set(reterr, LF_E_INTERNAL, -EINVAL,
				  "ipam_gc needs a keep() callback");
	r = networks_with_state(s, &nets, &n_nets);
	if (r < 0)
		goto out_io;
	for (size_t i = 0; i < n_nets; i++) {
		if (!network_name_valid(nets[i]))
			continue;
		r = gc_network(s, nets[i], node, keep, arg);
		if (r < 0) {
			(void)store_err_set(reterr, LF_E_IO, r,
					    "garbage collecting network %s", nets[i]);
			goto out_free;
		}
		total += r;
	}
	/* networks with owner indexes but no allocation directory at all */
	r = store_list_dirs(s, "owners", &owner_nets, &n_owner_nets, NULL);
	if (r < 0)
		goto out_io;
	for (size_t i = 0; i < n_owner_nets; i++) {
		struct store_lock *lock;
		bool seen = false;

		for (size_t k = 0; k < n_nets && !seen; k++)
			seen = strcmp(nets[k], owner_nets[i]) == 0;
		if (seen || !network_name_valid(owner_nets[i]))
			continue;
		r = ipam_lock(s, owner_nets[i], &lock, NULL);
		if (r < 0)
			goto out_io;
		r = gc_indexes_locked(s, owner_nets[i]);
		store_unlock(lock);
		if (r < 0)
			goto out_io;
	}
	r = total;
	goto out_free;

out_io:
	(void)store_err_set(reterr, LF_E_IO, r, "garbage collecting allocations");
out_free:
	store_names_free(nets, n_nets);
	store_names_free(owner_nets, n_owner_nets);
	return r;
}

int
ipam_purge_network(struct store *s, const char *network)
{
	struct store_lock *lock;
	int r;

	if (!network || !network_name_valid(network))
		return -EINVAL;
	r = ipam_lock(s, network, &lock, NULL);
	if (r < 0)
		return r;
	/* ADDs take no network lock (ipam.c).  An ADD that read the network
	 * before the record is rewritten here (a new version) fails its
	 * txn, so after a purge, a rewrite and a count that finds nothing no
	 * ADD from before the purge can still commit; one that committed
	 * while the purge ran is found by the count and purged again.  (When
	 * the network record is absent no ADD can commit at all.) */
	for (int round = 0; round < 8; round++) {
		char key[IPAM_KEY_MAX], *text = NULL;
		size_t n = 0;
		int b;

		b = ipam_purge_locked(s, network);
		if (b < 0) {
			r = b;
			break;
		}
		r = round == 0 ? b : r + b;
		snprintf(key, sizeof(key), "networks/%s", network);
		if (store_get(s, key, &text, NULL) < 0)
			break;
		b = store_put(s, key, text, NULL);
		free(text);
		if (b < 0 || ipam_count_locked(s, network, &n) < 0 || n == 0)
			break;
	}
	store_unlock(lock);
	return r;
}

/* ---- damaged records: check and repair ---------------------------------- */

struct broken_list {
	struct ipam_broken *v;
	size_t n, cap;
};

static int
broken_add(struct broken_list *b, const char *key, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
broken_add(struct broken_list *b, const char *key, int err, const char *fmt, ...)
{
	va_list ap;

	if (GROW(b->v, b->cap, b->n + 1) < 0)
		return -ENOMEM;
	snprintf(b->v[b->n].key, sizeof(b->v[b->n].key), "%s", key);
	b->v[b->n].err = err;
	va_start(ap, fmt);
	(void)vsnprintf(b->v[b->n].what, sizeof(b->v[b->n].what), fmt, ap);
	va_end(ap);
	b->n++;
	return 0;
}

/* 0 when the network record under key reads, else why not. */
static int
network_rec_state(struct store *s, const char *key)
{
	struct network n;
	char *text;
	int r;

	if ((r = store_get(s, key, &text, NULL)) < 0)
		return r;
	r = network_from_json(text, &n, NULL);
	free(text);
	return r < 0 ? -EINVAL : 0;
}

static int
check_network(struct store *s, const char *net, struct broken_list *b)
{
	char key[IPAM_KEY_MAX], abuf[IPADDR_STRLEN], dir[IPAM_KEY_MAX], **names;
	struct ipam_index *idx = NULL, owner, x;
	struct ipam_record rec;
	size_t n, n_idx = 0;
	bool loaded = false;
	struct ipaddr a;
	int r;

	if ((r = ipam_alloc_names(s, net, &names, &n)) < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (ipaddr_parse(names[i], &a) < 0)
			continue;
		r = ipam_record_get(s, net, &a, &rec);
		if (!ipam_rec_broken(r)) {
			r = r == -ENOENT ? 0 : r;
			continue;
		}
		(void)ipam_key_alloc(key, sizeof(key), net, &a);
		ipaddr_fmt(&a, abuf, sizeof(abuf));
		if (broken_owner(s, net, &a, &idx, &n_idx, &loaded, &owner))
			r = broken_add(b, key, r, "address %s of network %s, held by %.64s/%s "
				       "(its owner record says); freed by its DEL", abuf, net,
				       owner.owner.container_id, owner.owner.ifname);
		else
			r = broken_add(b, key, r, "address %s of network %s, owner unknown; "
				       "kept out of use", abuf, net);
	}
	free(idx);
	store_names_free(names, n);
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "owners/%s", net);
	if ((r = store_list_all(s, dir, &names, &n, NULL)) < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (snprintf(key, sizeof(key), "%s/%s", dir, names[i]) >= (int)sizeof(key))
			continue;
		r = ipam_index_read(s, key, &x);
		if (!ipam_rec_broken(r)) {
			r = r == -ENOENT ? 0 : r;
			continue;
		}
		r = broken_add(b, key, r, "owner record in network %s (%s)", net,
			       holds_alloc(s, net, key) ?
			       "its allocations are the same record" : "holds no address");
	}
	store_names_free(names, n);
	return r < 0 ? r : 0;
}

static bool
name_in(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

int
ipam_check(struct store *s, const char *network, struct ipam_broken **ret, size_t *ret_n,
	   struct lf_err *reterr)
{
	struct broken_list b = { 0 };
	char key[IPAM_KEY_MAX], **nets = NULL, **more = NULL;
	size_t n_nets = 0, n_more = 0, cap;
	int r;

	if (network && !network_name_valid(network))
		return ipam_name_check(network, reterr);
	if ((r = store_list_all(s, "networks", &nets, &n_nets, NULL)) < 0)
		goto out_io;
	for (size_t i = 0; i < n_nets; i++) {
		if (network && strcmp(nets[i], network) != 0)
			continue;
		snprintf(key, sizeof(key), "networks/%s", nets[i]);
		r = network_rec_state(s, key);
		if (ipam_rec_broken(r) &&
		    (r = broken_add(&b, key, r, "network %s: its definition cannot be read; "
				    "remove it (netctl ipam repair %s) and create it again",
				    nets[i], key)) < 0)
			goto out_io;
		if (r < 0 && r != -ENOENT && !ipam_rec_broken(r))
			goto out_io;
	}
	/* every network with state, also one whose record is gone */
	if (!network && (r = store_list_dirs(s, "alloc", &more, &n_more, NULL)) < 0)
		goto out_io;
	cap = n_nets;
	for (size_t i = 0; i < n_more; i++)
		if (!name_in(nets, n_nets, more[i]) && network_name_valid(more[i]) &&
		    GROW(nets, cap, n_nets + 1) == 0)
			nets[n_nets++] = strdup(more[i]);
	for (size_t i = 0; i < n_nets; i++) {
		if (nets[i] == NULL || !network_name_valid(nets[i]) ||
		    (network && strcmp(nets[i], network) != 0))
			continue;
		if ((r = check_network(s, nets[i], &b)) < 0)
			goto out_io;
	}
	if (network && !name_in(nets, n_nets, network) && (r = check_network(s, network, &b)) < 0)
		goto out_io;
	*ret = b.v;
	*ret_n = b.n;
	b.v = NULL;
	r = 0;
	goto out_free;
out_io:
	(void)store_err_set(reterr, LF_E_IO, r, "checking the IPAM records");
out_free:
	free(b.v);
	store_names_free(nets, n_nets);
	store_names_free(more, n_more);
	return r;
}

int
ipam_repair(struct store *s, const char *key, struct lf_err *reterr)
{
	char net[LEAFNET_NAME_MAX], *slash;
	struct store_lock *lock = NULL;
	struct ipam_record rec;
	struct ipam_index x;
	struct ipaddr a;
	int r;

	if (key == NULL)
		return -EINVAL;
	if (strncmp(key, "networks/", 9) == 0 && network_name_valid(key + 9)) {
		r = network_rec_state(s, key);
		if (r == 0)
			return lf_err_set(reterr, LF_E_INVALID, -EBUSY,
					  "record %s reads fine: nothing to repair "
					  "(netctl network rm %s removes the network)", key, key + 9);
		if (r == -ENOENT || !ipam_rec_broken(r))
			goto out_err;
		r = store_delete(s, key, reterr);
		goto out_err;
	}
	if (strncmp(key, "alloc/", 6) != 0 && strncmp(key, "owners/", 7) != 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s is not a record netctl ipam repair knows: give a key "
				  "`netctl ipam check` lists", key);
	snprintf(net, sizeof(net), "%s", strchr(key, '/') + 1);
	if ((slash = strchr(net, '/')) == NULL || !network_name_valid((*slash = '\0', net)))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL, "%s: no network in the key", key);
	if ((r = ipam_lock(s, net, &lock, reterr)) < 0)
		return r;
	if (key[0] == 'a') {
		r = ipaddr_parse(strrchr(key, '/') + 1, &a) < 0 ? -EINVAL :
		    ipam_record_get(s, net, &a, &rec);
	} else {
		r = ipam_index_read(s, key, &x);
	}
	if (r == 0)
		r = lf_err_set(reterr, LF_E_INVALID, -EBUSY,
			       "record %s reads fine: nothing to repair (netctl ipam repair "
			       "removes only damaged records)", key);
	else if (ipam_rec_broken(r))
		r = store_delete_ex(s, key, STORE_F_VOLATILE, reterr);
	store_unlock(lock);
out_err:
	if (r < 0)
		return store_err_set(reterr, r == -ENOENT ? LF_E_NOT_FOUND : LF_E_IO, r,
				     "repairing %s", key);
	return 0;
}
