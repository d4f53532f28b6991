/* ipam_admin.c — listings, garbage collection and purging of the IPAM.
 *
 * None of this is on the ADD/DEL path: listing whole directories is fine.
 * GC asks keep() about every allocation without holding the network lock
 * (the callback may be slow: it may ask a container runtime), then takes
 * the lock and releases only allocations that are still exactly the ones it
 * judged (same owner, same creation time).  An allocation record that
 * cannot be read has no owner to ask about; it is dropped only by a GC over
 * every node (node == NULL), since its node is unknown too.
 *
 * ipam_purge_network returns the number of allocations dropped.
 */
#include <errno.h>
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

	r = ipam_list_names(s, "alloc", net, &names, &n_names);
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
		if (r == -EINVAL) {
			/* unreadable: list it without an owner so it shows */
			memset(&nv[*n], 0, sizeof(nv[*n]));
			nv[*n].addr = a;
			snprintf(nv[*n].network, sizeof(nv[*n].network), "%s", net);
			r = 0;
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

/* Drop index entries (and whole indexes) whose allocations are gone, and
 * indexes that cannot be read or sit under a key not theirs. */
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
					      x.owner.ifname) < 0 || strcmp(want, key) != 0))
			r = -EINVAL;
		if (r == -EINVAL) {
			(void)store_delete(s, key, NULL);
			continue;
		}
		if (r < 0)
			goto out_free_names;
		for (size_t k = 0; k < x.n_addrs; k++) {
			r = ipam_record_get(s, net, &x.addrs[k], &rec);
			if (r == 0 && ipam_owner_is(&rec.owner, x.owner.container_id,
						    x.owner.ifname))
				x.addrs[j++] = x.addrs[k];
			else if (r < 0 && r != -ENOENT && r != -EINVAL)
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

static int
gc_network(struct store *s, const char *net, const char *node,
	   bool (*keep)(const struct ipam_record *r, void *arg), void *arg)
{
	struct ipam_record *v = NULL, cur;
	struct store_lock *lock;
	size_t n = 0, cap = 0, n_drop = 0;
	int r, released = 0;

	r = records_load(s, net, &v, &n, &cap);
	if (r < 0)
		return r;
	/* judge without the lock; keep the rejected ones at the front */
	for (size_t i = 0; i < n; i++) {
		if (node && strcmp(v[i].node, node) != 0)
			continue;
		if (v[i].owner.container_id[0] && keep(&v[i], arg))
			continue;
		v[n_drop++] = v[i];
	}
	r = ipam_lock(s, net, &lock, NULL);
	if (r < 0)
		goto out_free;
	for (size_t i = 0; i < n_drop; i++) {
		r = ipam_record_get(s, net, &v[i].addr, &cur);
		if (r == -ENOENT)
			continue;
		if (r == -EINVAL && !v[i].owner.container_id[0]) {
			char key[IPAM_KEY_MAX];	/* unreadable then and now */

			if (ipam_key_alloc(key, sizeof(key), net, &v[i].addr) == 0 &&
			    store_delete(s, key, NULL) == 0)
				released++;
			continue;
		}
		if (r < 0 && r != -EINVAL)
			goto out_unlock;
		if (r == -EINVAL || cur.created != v[i].created ||
		    !ipam_owner_is(&cur.owner, v[i].owner.container_id, v[i].owner.ifname))
			continue;	/* changed since it was judged */
		r = ipam_release_locked(s, net, &cur);
		if (r < 0)
			goto out_unlock;
		released += r;
	}
	r = gc_indexes_locked(s, net);
out_unlock:
	store_unlock(lock);
out_free:
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
	r = ipam_purge_locked(s, network);
	store_unlock(lock);
	return r;
}
