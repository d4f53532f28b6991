/* ipamdrv.c — IpamDriver.*: Docker's pools are leafnet networks' subnets,
 * Docker's addresses are leafnet allocations (the same allocator as CNI).
 *
 * RequestPool finds the leafnet network for a pool (--ipam-opt network=NAME,
 * else the network whose subnet is the pool); a pool no network has yet is
 * recorded "pending" and becomes a network at CreateNetwork.  The gateway
 * is never allocated: it is the network's gateway (returned in the pool's
 * Data, so Docker does not even ask), or .1 of a pending pool, or --gateway.
 * Any other address is an allocation owned by "docker:<pool>:any:<nonce>"
 * ("docker:<pool>:<addr>:<nonce>" when Docker asks for a specific one). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "leafnet.h"
#include "dp.h"
#include "err.h"
#include "json.h"
#include "ipam.h"
#include "log.h"
#include "network.h"
#include "store.h"

static char
famc(int family)
{
	return family == AF_INET ? '4' : '6';
}

static bool
space_ok(const char *space)
{
	return !space[0] || !strcmp(space, DP_SPACE_LOCAL) || !strcmp(space, DP_SPACE_GLOBAL);
}

/* The leafnet network whose subnet of the pool's family is exactly pool;
 * 1 when found (name into ret), 0 when none, <0 on error (an overlap). */
static int
network_by_pool(struct dp *d, const struct prefix *pool, char *ret, size_t size,
		struct lf_err *reterr)
{
	struct network *nets = NULL;
	size_t n = 0;
	int r, found = 0;

	r = network_list(d->s, &nets, &n, reterr);
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "listing leafnet networks");
	for (size_t i = 0; i < n && found == 0; i++) {
		for (size_t j = 0; j < nets[i].n_subnets; j++) {
			const struct prefix *c = &nets[i].subnets[j].cidr;
			char a[PREFIX_STRLEN], b[PREFIX_STRLEN];

			if (prefix_eq(c, pool)) {
				snprintf(ret, size, "%s", nets[i].name);
				found = 1;
				break;
			}
			if (prefix_overlaps(c, pool)) {
				found = lf_err_set(reterr, LF_E_INVALID, -EEXIST,
						   "pool %s overlaps leafnet network %s's subnet %s; "
						   "use --subnet=%s to join that network, or another "
						   "subnet", prefix_fmt(pool, a, sizeof(a)),
						   nets[i].name, prefix_fmt(c, b, sizeof(b)),
						   prefix_fmt(c, b, sizeof(b)));
				break;
			}
		}
	}
	free(nets);
	return found;
}

int
dp_request_pool(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	struct dp_pool_req pr;
	struct dp_pool_rec rec;
	struct store_lock *lock;
	struct network net;
	char poolid[DP_ID_MAX], s[PREFIX_STRLEN];
	int family, r;

	if ((r = dp_parse_request_pool(req, &pr, reterr)) < 0)
		return r;
	if (!space_ok(pr.space))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "AddressSpace \"%s\" is not leafnet's (%s, %s)", pr.space,
				  DP_SPACE_LOCAL, DP_SPACE_GLOBAL);
	if (pr.subpool.addr.family && !prefix_eq(&pr.subpool, &pr.pool))
		return lf_err_set(reterr, LF_E_UNSUPPORTED, -ENOTSUP,
				  "SubPool (--ip-range) is not supported: leafnet allocates from "
				  "per-host blocks of the whole subnet; drop --ip-range");
	family = pr.v6 ? AF_INET6 : AF_INET;
	memset(&rec, 0, sizeof(rec));
	rec.cidr = pr.pool;

	if ((r = dp_lock(d, &lock, reterr)) < 0)
		return r;
	if (pr.opts.network[0]) {
		r = network_get(d->s, pr.opts.network, &net, NULL);
		if (r == 0) {
			const struct network_subnet *sn = network_subnet_for(&net, family);

			if (!sn) {
				r = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					       "leafnet network %s has no IPv%c subnet "
					       "(netctl network inspect %s)", net.name,
					       famc(family), net.name);
				goto out_unlock;
			}
			if (pr.pool.addr.family && !prefix_eq(&pr.pool, &sn->cidr)) {
				char a[PREFIX_STRLEN];

				r = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					       "leafnet network %s's IPv%c subnet is %s, not %s; "
					       "drop --subnet or give --subnet=%s", net.name,
					       famc(family), prefix_fmt(&sn->cidr, a, sizeof(a)),
					       prefix_fmt(&pr.pool, s, sizeof(s)),
					       prefix_fmt(&sn->cidr, a, sizeof(a)));
				goto out_unlock;
			}
			rec.cidr = sn->cidr;
			rec.gateway = sn->gateway;
			snprintf(rec.network, sizeof(rec.network), "%s", net.name);
		} else if (r != -ENOENT) {
			r = store_err_set(reterr, LF_E_IO, r,
					  "reading leafnet network %s", pr.opts.network);
			goto out_unlock;
		} else if (!pr.pool.addr.family) {
			r = lf_err_set(reterr, LF_E_NOT_FOUND, -ENOENT,
				       "leafnet network %s does not exist; create it with netctl "
				       "network create, or give --subnet to create it from Docker",
				       pr.opts.network);
			goto out_unlock;
		}
		/* else pending: CreateNetwork makes the network by that name */
		if (r == -ENOENT)
			snprintf(rec.network, sizeof(rec.network), "%s", pr.opts.network);
	} else if (pr.pool.addr.family) {
		r = network_by_pool(d, &pr.pool, rec.network, sizeof(rec.network), reterr);
		if (r < 0)
			goto out_unlock;
		if (r == 1 && network_get(d->s, rec.network, &net, NULL) == 0) {
			const struct network_subnet *sn = network_subnet_for(&net, family);

			if (sn)
				rec.gateway = sn->gateway;
		}
	} else {
		r = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
			       "no IPv%c pool given: leafnet needs --subnet=CIDR, or --ipam-opt "
			       "network=NAME to use an existing leafnet network", famc(family));
		goto out_unlock;
	}

	dp_pool_id(&rec.cidr, poolid, sizeof(poolid));
	{
		struct dp_pool_rec old;

		if (dp_pool_get(d, poolid, &old) == 0) {
			old.refs++;
			if (!old.network[0] && rec.network[0])
				snprintf(old.network, sizeof(old.network), "%s", rec.network);
			if (!ipaddr_is_set(&old.gateway))
				old.gateway = rec.gateway;
			rec = old;
		} else {
			rec.refs = 1;
		}
	}
	r = dp_pool_put(d, poolid, &rec);
	if (r < 0) {
		r = store_err_set(reterr, LF_E_IO, r, "recording pool %s", poolid);
		goto out_unlock;
	}
	log_info("RequestPool %s: network %s, %u reference(s)", poolid,
		 rec.network[0] ? rec.network : "(made at CreateNetwork)", rec.refs);
	if (!cJSON_AddStringToObject(resp, "PoolID", poolid) ||
	    !json_add_prefix(resp, "Pool", &rec.cidr)) {
		r = lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
		goto out_unlock;
	}
	{
		cJSON *data = cJSON_AddObjectToObject(resp, "Data");

		/* The network's gateway: Docker then does not ask for one. */
		if (data && ipaddr_is_set(&rec.gateway))
			cJSON_AddStringToObject(data, DP_OPT_GATEWAY,
						dp_cidr_fmt(&rec.gateway, rec.cidr.len, s, sizeof(s)));
	}
	r = 0;
out_unlock:
	store_unlock(lock);
	return r;
}

int
dp_release_pool(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	char poolid[DP_ID_MAX];
	struct dp_pool_rec rec;
	struct store_lock *lock;
	int r;

	(void)resp;
	if ((r = dp_parse_pool_id(req, poolid, sizeof(poolid), reterr)) < 0)
		return r;
	if ((r = dp_lock(d, &lock, reterr)) < 0)
		return r;
	r = dp_pool_get(d, poolid, &rec);
	if (r < 0) {
		r = lf_err_set(reterr, LF_E_NOT_FOUND, r, "PoolID %s: %s", poolid,
			       r == -ENOENT ? "no such pool" : "unreadable record");
		goto out_unlock;
	}
	if (rec.refs > 1) {
		rec.refs--;
		r = dp_pool_put(d, poolid, &rec);
	} else {
		r = dp_pool_del(d, poolid);
	}
	if (r < 0)
		r = store_err_set(reterr, LF_E_IO, r, "updating pool %s", poolid);
	else
		log_info("ReleasePool %s: %u reference(s) left", poolid, rec.refs - 1);
out_unlock:
	store_unlock(lock);
	return r;
}

/* The gateway of a pool: never an allocation. */
static int
request_gateway(struct dp *d, const char *poolid, struct dp_pool_rec *rec,
		const struct dp_addr_req *ar, struct ipaddr *ret, struct lf_err *reterr)
{
	int family = rec->cidr.addr.family;
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	struct network net;
	int r;

	if (rec->network[0] && network_get(d->s, rec->network, &net, NULL) == 0) {
		const struct network_subnet *sn = network_subnet_for(&net, family);
		struct ipaddr gw;

		if (sn && ipaddr_is_set(&sn->gateway))
			gw = sn->gateway;
		else if (ar->addr.family)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "leafnet network %s has no IPv%c gateway (its workloads "
					  "use %s on-link); drop --gateway=%s", net.name,
					  famc(family), family == AF_INET ? LEAFNET_GW4_DEFAULT
					  : LEAFNET_GW6_DEFAULT, ipaddr_fmt(&ar->addr, a, sizeof(a)));
		else
			network_gateway(family, NULL, &gw);
		if (ar->addr.family && !ipaddr_eq(&ar->addr, &gw))
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "leafnet network %s's gateway is %s, not %s; drop "
					  "--gateway or give --gateway=%s", net.name,
					  ipaddr_fmt(&gw, a, sizeof(a)),
					  ipaddr_fmt(&ar->addr, b, sizeof(b)), a);
		*ret = gw;
		return 0;
	}
	/* pending pool: --gateway, else the subnet's first address */
	if (ar->addr.family) {
		struct ipaddr last;

		prefix_last(&rec->cidr, &last);
		if (!prefix_contains(&rec->cidr, &ar->addr) ||
		    ipaddr_eq(&ar->addr, &rec->cidr.addr) ||
		    (family == AF_INET && ipaddr_eq(&ar->addr, &last)))
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "gateway %s is not a usable address of pool %s",
					  ipaddr_fmt(&ar->addr, a, sizeof(a)), poolid);
		rec->gateway = ar->addr;
	} else if (!ipaddr_is_set(&rec->gateway)) {
		r = prefix_nth(&rec->cidr, 1, &rec->gateway);
		if (r < 0)
			return lf_err_set(reterr, LF_E_INVALID, r,
					  "pool %s has no room for a gateway", poolid);
	}
	r = dp_pool_put(d, poolid, rec);
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "recording pool %s", poolid);
	*ret = rec->gateway;
	return 0;
}

int
dp_request_address(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	struct ipam_addr got[IPAM_MAX_ADDRS];
	struct dp_addr_req ar;
	struct dp_pool_rec rec;
	struct store_lock *lock;
	struct ipam_req ir;
	struct ipaddr addr;
	char s[PREFIX_STRLEN];
	uint64_t nonce = 0;
	unsigned len;
	size_t n = 0;
	int r;

	if ((r = dp_parse_addr_req(req, false, &ar, reterr)) < 0)
		return r;
	if ((r = dp_lock(d, &lock, reterr)) < 0)
		return r;
	r = dp_pool_get(d, ar.poolid, &rec);
	if (r < 0) {
		r = lf_err_set(reterr, LF_E_NOT_FOUND, r, "PoolID %s: %s", ar.poolid,
			       r == -ENOENT ? "no such pool (RequestPool first)"
			       : "unreadable record");
		goto out_unlock;
	}
	if (ar.addr.family && ar.addr.family != rec.cidr.addr.family) {
		r = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
			       "Address %s is not of pool %s's family",
			       ipaddr_fmt(&ar.addr, s, sizeof(s)), ar.poolid);
		goto out_unlock;
	}
	if (ar.gateway) {
		r = request_gateway(d, ar.poolid, &rec, &ar, &addr, reterr);
		if (r < 0)
			goto out_unlock;
		len = prefix_contains(&rec.cidr, &addr) ? rec.cidr.len
							: prefix_maxlen(addr.family);
		goto out_answer;
	}
	if (!rec.network[0]) {
		r = lf_err_set(reterr, LF_E_UNSUPPORTED, -ENOTSUP,
			       "pool %s has no network yet: auxiliary addresses "
			       "(--aux-address) are not supported by leafnet", ar.poolid);
		goto out_unlock;
	}
	memset(&ir, 0, sizeof(ir));
	ir.network = rec.network;
	ir.node = d->conf.node_name;
	ir.families = rec.cidr.addr.family == AF_INET ? IPAM_F_V4 : IPAM_F_V6;
	/* a fresh owner per request: asking twice for one address is refused
	 * (in use), as with Docker's own IPAM, never answered twice */
	if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
		nonce ^= (uint64_t)(uintptr_t)&nonce;
	if (ar.addr.family) {
		ir.n_static = 1;
		ir.statics[0] = ar.addr;
	}
	snprintf(ir.owner.container_id, sizeof(ir.owner.container_id), "docker:%s:%s:%016" PRIx64,
		 ar.poolid, ar.addr.family ? ipaddr_fmt(&ar.addr, s, sizeof(s)) : "any", nonce);
	snprintf(ir.owner.ifname, sizeof(ir.owner.ifname), "docker");
	snprintf(ir.owner.handle, sizeof(ir.owner.handle), "docker-ipam:%s", ar.poolid);
	r = ipam_alloc(d->s, &ir, got, IPAM_MAX_ADDRS, &n, reterr);
	if (r < 0)
		goto out_unlock;
	if (n == 0) {
		r = lf_err_set(reterr, LF_E_POOL_EXHAUSTED, -ENOSPC, "network %s gave no address",
			       rec.network);
		goto out_unlock;
	}
	addr = got[0].addr;
	/* /32 (/128): the workload routes everything through the gateway, as
	 * with CNI; Join makes the gateway on-link. */
	len = prefix_maxlen(addr.family);
out_answer:
	if (!cJSON_AddStringToObject(resp, "Address", dp_cidr_fmt(&addr, len, s, sizeof(s))) ||
	    !cJSON_AddObjectToObject(resp, "Data")) {
		r = lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
		goto out_unlock;
	}
	log_info("RequestAddress %s%s: %s", ar.poolid, ar.gateway ? " (gateway)" : "", s);
	r = 0;
out_unlock:
	store_unlock(lock);
	return r;
}

int
dp_release_address(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	struct dp_addr_req ar;
	struct dp_pool_rec rec;
	struct ipaddr def;
	char s[IPADDR_STRLEN];
	int r;

	(void)resp;
	if ((r = dp_parse_addr_req(req, true, &ar, reterr)) < 0)
		return r;
	r = dp_pool_get(d, ar.poolid, &rec);
	if (r < 0)
		return lf_err_set(reterr, LF_E_NOT_FOUND, r, "PoolID %s: %s", ar.poolid,
				  r == -ENOENT ? "no such pool" : "unreadable record");
	network_gateway(ar.addr.family, NULL, &def);
	if (ipaddr_eq(&ar.addr, &rec.gateway) || ipaddr_eq(&ar.addr, &def) || !rec.network[0]) {
		log_info("ReleaseAddress %s %s: gateway, nothing allocated", ar.poolid,
			 ipaddr_fmt(&ar.addr, s, sizeof(s)));
		return 0;
	}
	r = ipam_release_addr(d->s, rec.network, &ar.addr, reterr);
	if (r == -ENOENT) {		/* the network is gone, and its allocations */
		lf_err_clear(reterr);
		r = 0;
	}
	if (r < 0)
		return r;
	log_info("ReleaseAddress %s %s: %s", ar.poolid, ipaddr_fmt(&ar.addr, s, sizeof(s)),
		 r > 0 ? "released" : "was not allocated");
	return 0;
}
