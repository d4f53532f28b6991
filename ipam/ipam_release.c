/* ipam_release.c — give addresses back, and look up what an owner holds.
 *
 * Releasing is idempotent: whatever is already gone counts as released.
 * Only allocations still owned by the (container id, ifname) asked about
 * are deleted, so a stale index never frees someone else's address.  The
 * node's blocks stay claimed (they are its affinity, see ipam.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "network.h"
#include "ipam.h"
#include "ipam_private.h"

/* 1 when a is still allocated to (cid, ifname), its record in *ret; 2 when
 * its record is damaged (the caller's owner record lists a, and a key is
 * only written by the txn that found it absent: it is the owner's); 0 when
 * it is free or someone else's. */
static int
held_by(struct store *s, const char *net, const struct ipaddr *a, const char *cid,
	const char *ifname, struct ipam_record *ret)
{
	int r;

	r = ipam_record_get(s, net, a, ret);
	if (r == -ENOENT)
		return 0;
	if (ipam_rec_broken(r))
		return 2;
	if (r < 0)
		return r;
	return ipam_owner_is(&ret->owner, cid, ifname);
}

/* The owner record of (cid, ifname) is damaged: free what the allocation
 * records still give it (ipam_owner_recover), then the owner key. */
static int
release_recovered(struct store *s, const char *net, const char *cid, const char *ifname,
		  char *key, size_t size, struct ipaddr *addrs, size_t *ret_n)
{
	bool broken[IPAM_MAX_ADDRS];
	size_t n = 0;
	int r, released = 0;

	r = ipam_owner_recover(s, net, cid, ifname, addrs, broken, IPAM_MAX_ADDRS, &n);
	if (r < 0) {
		snprintf(key, size, "alloc/%s", net);
		return r;
	}
	*ret_n = n;
	for (size_t i = 0; i < n; i++) {
		if ((r = ipam_key_alloc(key, size, net, &addrs[i])) < 0)
			return r;
		r = store_delete_ex(s, key, STORE_F_VOLATILE, NULL);
		if (r < 0 && r != -ENOENT)
			return r;
		released += r == 0;
	}
	if ((r = ipam_key_owner(key, size, net, cid, ifname)) < 0)
		return r;
	r = store_delete_ex(s, key, STORE_F_VOLATILE, NULL);
	if (r < 0 && r != -ENOENT)
		return r;
	return released;
}

static void
key_copy(char *dst, size_t size, const char *src)
{
	if (snprintf(dst, size, "%s", src) >= (int)size)
		dst[size - 1] = '\0';
}

#define RELEASE_RETRY   0x7fff	/* release_once(): the txn found a change (never a count) */
#define RELEASE_RETRIES 32

/* One attempt of ipam_release() with this host's lock held: the owner
 * record (one read), its allocation records (one store_get_many), and one
 * store_txn deleting the allocations still the owner's and then the owner
 * key, each compared with the version read — so a release never deletes
 * an allocation made meanwhile by someone else (ADDs take no network
 * lock).  RELEASE_RETRY when a compare failed (nothing deleted). */
static int
release_once(struct store *s, const char *network, const char *container_id,
	     const char *ifname, char *key, size_t size, struct ipaddr *held,
	     size_t *n_held, struct lf_err *reterr)
{
	char akeys[IPAM_MAX_ADDRS][IPAM_KEY_MAX], over[STORE_VER_MAX];
	struct store_kv kv[IPAM_MAX_ADDRS];
	struct store_cmp cmp[IPAM_MAX_ADDRS + 1];
	struct store_op ops[IPAM_MAX_ADDRS + 1];
	struct ipam_record rec;
	struct ipam_index x;
	size_t n_ops = 0;
	char *text;
	int r, n = 0;

	(void)ipam_key_owner(key, size, network, container_id, ifname);
	r = ipam_get_ver(s, key, &text, over);
	if (r == -ENOENT)
		return 0;		/* nothing held: done */
	if (r == 0) {
		r = ipam_index_parse(text, &x);
		free(text);
		if (r == 0 && !ipam_owner_is(&x.owner, container_id, ifname))
			return 0;	/* hash collision: not ours */
	}
	if (ipam_rec_broken(r) || r == -EISDIR)	/* damaged owner record: recover */
		return release_recovered(s, network, container_id, ifname, key, size, held,
					 n_held);
	if (r < 0)
		return r;
	memset(kv, 0, sizeof(kv));
	for (size_t i = 0; i < x.n_addrs; i++) {
		r = ipam_key_alloc(akeys[i], sizeof(akeys[i]), network, &x.addrs[i]);
		if (r < 0) {
			key_copy(key, size, akeys[i]);
			return r;
		}
		kv[i].key = akeys[i];
	}
	r = x.n_addrs ? store_get_many(s, kv, x.n_addrs, NULL) : 0;
	if (r < 0) {
		/* which one cannot be read: say so (key by key) */
		for (size_t i = 0; i < x.n_addrs; i++) {
			char ver[STORE_VER_MAX];
			int e = ipam_get_ver(s, akeys[i], &text, ver);

			if (e == 0)
				free(text);
			if (e < 0 && e != -ENOENT && e != -EISDIR) {
				key_copy(key, size, akeys[i]);
				return e;
			}
		}
		return r;
	}
	for (size_t i = 0; i < x.n_addrs; i++) {
		if (!kv[i].val && !kv[i].ver[0])
			continue;		/* gone already */
		if (!kv[i].val) {		/* a directory: damaged, listed in our record */
			r = store_delete_ex(s, akeys[i], STORE_F_VOLATILE, reterr);
			if (r < 0 && r != -ENOENT) {
				key_copy(key, size, akeys[i]);
				goto out;
			}
			n += r == 0;
			held[(*n_held)++] = x.addrs[i];
			continue;
		}
		/* someone else's now: leave it; damaged: listed in our owner
		 * record and only this host's ADDs of this owner write it */
		r = ipam_record_parse(kv[i].val, network, &x.addrs[i], &rec);
		if (r == 0 && !ipam_owner_is(&rec.owner, container_id, ifname))
			continue;
		cmp[n_ops] = (struct store_cmp){ akeys[i], kv[i].ver };
		ops[n_ops++] = (struct store_op){ akeys[i], NULL };
		held[(*n_held)++] = x.addrs[i];
	}
	cmp[n_ops] = (struct store_cmp){ key, over };
	ops[n_ops++] = (struct store_op){ key, NULL };		/* the owner key last */
	r = store_txn(s, cmp, n_ops, ops, n_ops, STORE_F_VOLATILE, NULL, reterr);
	if (r == -EAGAIN)
		r = RELEASE_RETRY;
	else if (r == 0)
		r = n + (int)n_ops - 1;
out:
	store_kv_free(kv, x.n_addrs);
	return r;
}

int
ipam_release(struct store *s, const char *network, const char *container_id,
	     const char *ifname, struct lf_err *reterr)
{
	return ipam_release_ex(s, network, container_id, ifname, NULL, 0, NULL, reterr);
}

int
ipam_release_ex(struct store *s, const char *network, const char *container_id,
		const char *ifname, struct ipaddr *ret_addrs, size_t max, size_t *ret_n,
		struct lf_err *reterr)
{
	struct ipaddr held[IPAM_MAX_ADDRS];
	char key[IPAM_KEY_MAX];
	struct store_lock *lock;
	size_t n_held = 0;
	int r;

	if (ret_n)
		*ret_n = 0;

	r = ipam_name_check(network, reterr);
	if (r < 0)
		return r;
	if (!container_id || !ifname)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "container id and interface name are required");
	/* this host's lock: its ADDs and DELs of the network, see ipam.c */
	r = ipam_lock_local(s, network, &lock, reterr);
	if (r < 0)
		return r;
	for (int attempt = 0;; attempt++) {
		n_held = 0;
		r = release_once(s, network, container_id, ifname, key, sizeof(key), held,
				 &n_held, reterr);
		if (r != RELEASE_RETRY)
			break;
		if (attempt == RELEASE_RETRIES) {
			r = lf_err_set(reterr, LF_E_AGAIN, -EAGAIN,
				       "releasing %.64s/%s in network %s: the store changed "
				       "under every attempt; retry", container_id, ifname, network);
			goto out_unlock;
		}
	}
	if (r < 0)
		(void)store_err_set(reterr, LF_E_IO, r,
				    "releasing %.64s/%s in network %s (record %s)", container_id,
				    ifname, network, key);
	else if (ret_n && ret_addrs) {
		*ret_n = n_held < max ? n_held : max;
		memcpy(ret_addrs, held, *ret_n * sizeof(held[0]));
	}
out_unlock:
	store_unlock(lock);
	return r;
}

int
ipam_release_addr(struct store *s, const char *network, const struct ipaddr *a,
		  struct lf_err *reterr)
{
	char key[IPAM_KEY_MAX], abuf[IPADDR_STRLEN];
	struct store_lock *lock;
	struct ipam_record rec;
	int r;

	r = ipam_name_check(network, reterr);
	if (r < 0)
		return r;
	r = ipam_key_alloc(key, sizeof(key), network, a);
	if (r < 0)
		return lf_err_set(reterr, LF_E_INVALID, r, "invalid address");
	r = ipam_lock(s, network, &lock, reterr);
	if (r < 0)
		return r;
	r = ipam_record_get(s, network, a, &rec);
	if (r == -ENOENT) {
		r = 0;
	} else if (ipam_rec_broken(r)) {	/* unreadable: just drop it, unless rewritten */
		r = ipam_delete_broken(s, network, a);
		r = r == 0 ? 1 : r == -ENOENT || r == -EAGAIN ? 0 : r;
	} else if (r == 0) {
		r = ipam_release_locked(s, network, &rec);
	}
	store_unlock(lock);
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r,
				     "releasing %s in network %s (record %s)",
				     ipaddr_fmt(a, abuf, sizeof(abuf)), network, key);
	return r;
}

int
ipam_lookup(struct store *s, const char *network, const char *container_id,
	    const char *ifname, struct ipam_addr *ret, size_t max, size_t *ret_n)
{
	struct ipam_addr desc[IPAM_MAX_ADDRS];
	struct ipam_record rec;
	struct ipam_index x;
	struct network net;
	size_t n = 0;
	int r;

	if (!network || !network_name_valid(network) || !container_id || !ifname)
		return -EINVAL;
	r = ipam_index_get(s, network, container_id, ifname, &x);
	if (ipam_rec_broken(r)) {	/* damaged owner record: what the allocations say */
		bool broken[IPAM_MAX_ADDRS];

		memset(&x, 0, sizeof(x));
		r = ipam_owner_recover(s, network, container_id, ifname, x.addrs, broken,
				       IPAM_MAX_ADDRS, &x.n_addrs);
	}
	if (r == -ENOENT || r == -ENOTUNIQ) {
		*ret_n = 0;
		return 0;
	}
	if (r < 0)
		return r;
	r = network_get(s, network, &net, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < x.n_addrs; i++) {
		rec.node[0] = '\0';
		r = held_by(s, network, &x.addrs[i], container_id, ifname, &rec);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		r = ipam_addr_describe(s, &net, x.node[0] ? x.node : rec.node,
				       &x.addrs[i], &desc[n]);
		if (r < 0)
			return r;
		n++;
	}
	if (n > max)
		return -ENOBUFS;
	memcpy(ret, desc, n * sizeof(desc[0]));
	*ret_n = n;
	return 0;
}
