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
 * its record is damaged (the caller's owner record lists a, and every
 * writer of the key held the network lock: it is the owner's); 0 when it
 * is free or someone else's. */
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
		  char *key, size_t size)
{
	struct ipaddr addrs[IPAM_MAX_ADDRS];
	bool broken[IPAM_MAX_ADDRS];
	size_t n = 0;
	int r, released = 0;

	r = ipam_owner_recover(s, net, cid, ifname, addrs, broken, IPAM_MAX_ADDRS, &n);
	if (r < 0) {
		snprintf(key, size, "alloc/%s", net);
		return r;
	}
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

int
ipam_release(struct store *s, const char *network, const char *container_id,
	     const char *ifname, struct lf_err *reterr)
{
	char key[IPAM_KEY_MAX];
	struct ipam_record rec;
	struct store_lock *lock;
	struct ipam_index x;
	int r, n = 0;

	r = ipam_name_check(network, reterr);
	if (r < 0)
		return r;
	if (!container_id || !ifname)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "container id and interface name are required");
	r = ipam_lock(s, network, &lock, reterr);
	if (r < 0)
		return r;
	(void)ipam_key_owner(key, sizeof(key), network, container_id, ifname);
	r = ipam_index_get(s, network, container_id, ifname, &x);
	if (r == -ENOENT || r == -ENOTUNIQ) {
		r = 0;			/* nothing held: done */
		goto out_unlock;
	}
	if (ipam_rec_broken(r)) {	/* damaged owner record: recover */
		r = release_recovered(s, network, container_id, ifname, key, sizeof(key));
		if (r < 0)
			goto out_io;
		goto out_unlock;
	}
	if (r < 0)
		goto out_io;
	for (size_t i = 0; i < x.n_addrs; i++) {
		r = ipam_key_alloc(key, sizeof(key), network, &x.addrs[i]);
		if (r < 0)
			goto out_io;
		r = held_by(s, network, &x.addrs[i], container_id, ifname, &rec);
		if (r < 0)
			goto out_io;
		if (r == 0)
			continue;
		r = store_delete_ex(s, key, STORE_F_VOLATILE, reterr);
		if (r == 0)
			n++;
		else if (r != -ENOENT)
			goto out_io;
	}
	r = ipam_key_owner(key, sizeof(key), network, container_id, ifname);
	if (r == 0)
		r = store_delete_ex(s, key, STORE_F_VOLATILE, reterr);
	if (r < 0 && r != -ENOENT)
		goto out_io;
	r = n;
	goto out_unlock;

out_io:
	(void)store_err_set(reterr, LF_E_IO, r,
			    "releasing %.64s/%s in network %s (record %s)", container_id,
			    ifname, network, key);
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
	} else if (ipam_rec_broken(r)) {	/* unreadable: just drop it */
		r = store_delete_ex(s, key, STORE_F_VOLATILE, reterr);
		r = r == 0 ? 1 : r == -ENOENT ? 0 : r;
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
