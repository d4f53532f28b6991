/* netdrv.c — NetworkDriver.*: Docker networks are leafnet networks, Docker
 * endpoints are workloads attached by the same core as CNI's.
 *
 * CreateEndpoint only records the endpoint.  Join makes the veth pair
 * (attach_workload in Docker mode: the workload side stays in our netns as
 * SrcName, unconfigured, and Docker moves, renames and addresses it) and
 * answers the gateway and a connected route to it.  Leave removes the veth
 * (and with it the host route); DeleteEndpoint forgets the endpoint.
 * Deleting what is already gone — an unknown network or endpoint in
 * DeleteNetwork, Leave or DeleteEndpoint — is success, so Docker can always
 * clean up; creating or joining with an unknown ID is an error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "attach.h"
#include "dp.h"
#include "err.h"
#include "ipam.h"
#include "log.h"
#include "network.h"
#include "store.h"

static char
famc(int family)
{
	return family == AF_INET ? '4' : '6';
}

/* The leafnet network a CreateNetwork maps to; ret_exists tells whether it
 * is already there. */
static int
pick_network(struct dp *d, const struct dp_create_network *cn, char *ret, size_t size,
	     struct lf_err *reterr)
{
	if (cn->opts.network[0]) {
		snprintf(ret, size, "%s", cn->opts.network);
		return 0;
	}
	for (size_t i = 0; i < cn->n_ip; i++) {
		struct dp_pool_rec rec;
		char poolid[DP_ID_MAX];

		dp_pool_id(&cn->ip[i].pool, poolid, sizeof(poolid));
		if (dp_pool_get(d, poolid, &rec) == 0 && rec.network[0]) {
			snprintf(ret, size, "%s", rec.network);
			return 0;
		}
	}
	/* Docker's own IPAM (or a pool made before the network existed):
	 * the network whose subnet is the pool */
	for (size_t i = 0; i < cn->n_ip; i++) {
		struct network *nets = NULL;
		size_t n = 0;
		int r = network_list(d->s, &nets, &n, reterr);

		if (r < 0)
			return store_err_set(reterr, LF_E_IO, r,
					     "listing leafnet networks");
		for (size_t k = 0; k < n && !ret[0]; k++)
			for (size_t j = 0; j < nets[k].n_subnets; j++)
				if (prefix_eq(&nets[k].subnets[j].cidr, &cn->ip[i].pool))
					snprintf(ret, size, "%s", nets[k].name);
		free(nets);
		if (ret[0])
			return 0;
	}
	snprintf(ret, size, "docker-%.12s", cn->netid);
	return 0;
}

/* Adopting an existing network: what Docker says must agree with it. */
static int
check_adopt(const struct network *net, const struct dp_create_network *cn,
	    struct lf_err *reterr)
{
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN];

	for (size_t i = 0; i < cn->n_ip; i++) {
		const struct dp_ipdata *ip = &cn->ip[i];
		int fam = ip->pool.addr.family;
		const struct network_subnet *sn = network_subnet_for(net, fam);
		struct ipaddr def;

		if (!sn)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "leafnet network %s has no IPv%c subnet, Docker gave %s",
					  net->name, famc(fam), prefix_fmt(&ip->pool, a, sizeof(a)));
		if (!prefix_eq(&sn->cidr, &ip->pool))
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "Docker's pool %s is not leafnet network %s's IPv%c "
					  "subnet %s; use --ipam-driver leafnet (or --subnet=%s)",
					  prefix_fmt(&ip->pool, a, sizeof(a)), net->name, famc(fam),
					  prefix_fmt(&sn->cidr, b, sizeof(b)),
					  prefix_fmt(&sn->cidr, b, sizeof(b)));
		network_gateway(fam, NULL, &def);
		if (ipaddr_is_set(&ip->gateway) && !ipaddr_eq(&ip->gateway, &sn->gateway) &&
		    !(!ipaddr_is_set(&sn->gateway) && ipaddr_eq(&ip->gateway, &def)))
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "gateway %s differs from leafnet network %s's (%s); "
					  "drop --gateway", ipaddr_fmt(&ip->gateway, a, sizeof(a)),
					  net->name, ipaddr_is_set(&sn->gateway) ?
					  ipaddr_fmt(&sn->gateway, b, sizeof(b)) : "none");
	}
	if (cn->opts.routable >= 0 && (bool)cn->opts.routable != net->routable)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "leafnet network %s is %s; drop -o routable or change it "
				  "with netctl", net->name, net->routable ? "routable" : "non-routable");
	if (cn->opts.nat_outgoing >= 0 && (bool)cn->opts.nat_outgoing != net->nat_outgoing)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "leafnet network %s has nat-outgoing %s; drop -o nat-outgoing",
				  net->name, net->nat_outgoing ? "on" : "off");
	return 0;
}

static int
create_leafnet_network(struct dp *d, const char *name, const struct dp_create_network *cn,
		       struct lf_err *reterr)
{
	struct network net;
	int r;

	if (cn->n_ip == 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "no IPv4Data or IPv6Data: leafnet network %s needs a subnet", name);
	if (!network_name_valid(name))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "option network=%s: not a valid leafnet network name "
				  "([A-Za-z0-9][A-Za-z0-9_.-]{0,62})", name);
	network_init(&net);
	snprintf(net.name, sizeof(net.name), "%s", name);
	for (size_t i = 0; i < cn->n_ip && net.n_subnets < NETWORK_MAX_SUBNETS; i++) {
		net.subnets[net.n_subnets].cidr = cn->ip[i].pool;
		net.subnets[net.n_subnets].gateway = cn->ip[i].gateway;
		net.n_subnets++;
	}
	if (cn->opts.routable >= 0)
		net.routable = cn->opts.routable;
	if (cn->opts.nat_outgoing >= 0)
		net.nat_outgoing = cn->opts.nat_outgoing;
	snprintf(net.created_by, sizeof(net.created_by), "docker");
	r = network_validate(&net, reterr);
	if (r < 0)
		return r;
	return network_create(d->s, &net, reterr);
}

int
dp_create_network(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	struct dp_create_network cn;
	struct dp_net_rec rec = { 0 };
	struct store_lock *lock;
	struct network net;
	char pool[PREFIX_STRLEN];
	int r;

	(void)resp;
	if ((r = dp_parse_create_network(req, &cn, reterr)) < 0)
		return r;
	/* Only leafnet's allocator may hand out a leafnet network's addresses:
	 * Docker's default IPAM would allocate beside it, blind to CNI. */
	for (size_t i = 0; i < cn.n_ip; i++)
		if (cn.ip[i].space[0] && strcmp(cn.ip[i].space, DP_SPACE_LOCAL) != 0 &&
		    strcmp(cn.ip[i].space, DP_SPACE_GLOBAL) != 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "pool %s comes from another IPAM driver (address "
					  "space %s); give --ipam-driver with this plugin's name "
					  "too, so leafnet allocates the addresses",
					  prefix_fmt(&cn.ip[i].pool, pool, sizeof(pool)),
					  cn.ip[i].space);
	if ((r = dp_lock(d, &lock, reterr)) < 0)
		return r;
	if (dp_net_get(d, cn.netid, &rec) == 0) {	/* a repeated request */
		r = 0;
		goto out_unlock;
	}
	r = pick_network(d, &cn, rec.network, sizeof(rec.network), reterr);
	if (r < 0)
		goto out_unlock;
	r = network_get(d->s, rec.network, &net, NULL);
	if (r == 0) {
		r = check_adopt(&net, &cn, reterr);
		if (r < 0)
			goto out_unlock;
		rec.created = !strcmp(net.created_by, "docker");
		log_info("CreateNetwork %.12s: adopting leafnet network %s", cn.netid, rec.network);
	} else if (r == -ENOENT) {
		r = create_leafnet_network(d, rec.network, &cn, reterr);
		if (r < 0)
			goto out_unlock;
		rec.created = true;
		log_info("CreateNetwork %.12s: created leafnet network %s", cn.netid, rec.network);
	} else {
		r = store_err_set(reterr, LF_E_IO, r,
				  "reading leafnet network %s", rec.network);
		goto out_unlock;
	}
	/* pending pools now belong to the network */
	for (size_t i = 0; i < cn.n_ip; i++) {
		struct dp_pool_rec p;
		char poolid[DP_ID_MAX];

		dp_pool_id(&cn.ip[i].pool, poolid, sizeof(poolid));
		if (dp_pool_get(d, poolid, &p) == 0 && !p.network[0]) {
			snprintf(p.network, sizeof(p.network), "%s", rec.network);
			(void)dp_pool_put(d, poolid, &p);
		}
	}
	rec.mtu = cn.opts.mtu;
	r = dp_net_put(d, cn.netid, &rec);
	if (r < 0)
		r = store_err_set(reterr, LF_E_IO, r, "recording network %s", cn.netid);
out_unlock:
	store_unlock(lock);
	return r;
}

int
dp_delete_network(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	struct dp_net_rec rec;
	struct store_lock *lock;
	struct dp_ids ids;
	size_t users = 0;
	int r;

	(void)resp;
	if ((r = dp_parse_ids(req, false, &ids, reterr)) < 0)
		return r;
	if ((r = dp_lock(d, &lock, reterr)) < 0)
		return r;
	r = dp_net_get(d, ids.netid, &rec);
	if (r < 0) {
		log_warnx("DeleteNetwork %s: not known (already deleted?)", ids.netid);
		r = 0;
		goto out_unlock;
	}
	if (rec.created && dp_net_users(d, rec.network, ids.netid, &users) == 0 && users == 0) {
		struct lf_err e = { 0 };

		r = network_delete(d->s, rec.network, false, &e);
		if (r < 0 && r != -ENOENT)
			log_warnx("DeleteNetwork %.12s: keeping leafnet network %s: %s",
				  ids.netid, rec.network, e.msg);
		else
			log_info("DeleteNetwork %.12s: deleted leafnet network %s", ids.netid,
				 rec.network);
	}
	r = dp_net_del(d, ids.netid);
	if (r < 0 && r != -ENOENT)
		r = store_err_set(reterr, LF_E_IO, r,
				  "removing network record %s", ids.netid);
	else
		r = 0;
out_unlock:
	store_unlock(lock);
	return r;
}

/* Docker gave no address (a null IPAM driver): allocate from the network. */
static int
endpoint_allocate(struct dp *d, const char *epid, struct dp_ep_rec *e, cJSON *resp,
		  struct lf_err *reterr)
{
	struct ipam_addr got[IPAM_MAX_ADDRS];
	struct ipam_req ir = { 0 };
	char s[PREFIX_STRLEN];
	uint8_t mac[6];
	cJSON *iface;
	size_t n = 0;
	int r;

	ir.network = e->network;
	ir.node = d->conf.node_name;
	snprintf(ir.owner.container_id, sizeof(ir.owner.container_id), "%s", epid);
	snprintf(ir.owner.ifname, sizeof(ir.owner.ifname), "%s", e->src_name);
	snprintf(ir.owner.handle, sizeof(ir.owner.handle), "docker:%s", epid);
	r = ipam_alloc(d->s, &ir, got, IPAM_MAX_ADDRS, &n, reterr);
	if (r < 0)
		return r;
	iface = cJSON_AddObjectToObject(resp, "Interface");
	if (!iface)
		return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n && e->n_addrs < 2; i++) {
		prefix_from_addr(&got[i].addr, &e->addrs[e->n_addrs++]);
		cJSON_AddStringToObject(iface, got[i].addr.family == AF_INET ? "Address"
					: "AddressIPv6", prefix_fmt(&e->addrs[e->n_addrs - 1],
								     s, sizeof(s)));
	}
	if (getrandom(mac, sizeof(mac), 0) != sizeof(mac))
		memset(mac, 0x5a, sizeof(mac));
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
	snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	cJSON_AddStringToObject(iface, "MacAddress", s);
	e->allocated = true;
	return 0;
}

int
dp_create_endpoint(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	struct dp_create_endpoint ce;
	struct dp_ep_rec e = { 0 }, old;
	struct dp_net_rec nrec;
	int r;

	if ((r = dp_parse_create_endpoint(req, &ce, reterr)) < 0)
		return r;
	r = dp_net_get(d, ce.netid, &nrec);
	if (r < 0)
		return lf_err_set(reterr, LF_E_NOT_FOUND, -ENOENT,
				  "NetworkID %s: unknown network (not created by leafnet-docker)",
				  ce.netid);
	if (dp_ep_get(d, ce.epid, &old) == 0) {
		if (strcmp(old.netid, ce.netid) != 0)
			return lf_err_set(reterr, LF_E_INVALID, -EEXIST,
					  "EndpointID %s already exists in another network",
					  ce.epid);
		return 0;		/* a repeated request */
	}
	snprintf(e.netid, sizeof(e.netid), "%s", ce.netid);
	snprintf(e.network, sizeof(e.network), "%s", nrec.network);
	dp_src_name(ce.epid, e.src_name);
	e.mtu = nrec.mtu;
	if (ce.addr4.addr.family)
		e.addrs[e.n_addrs++] = ce.addr4;
	if (ce.addr6.addr.family)
		e.addrs[e.n_addrs++] = ce.addr6;
	if (e.n_addrs == 0) {
		r = endpoint_allocate(d, ce.epid, &e, resp, reterr);
		if (r < 0)
			return r;
	}
	r = dp_ep_create(d, ce.epid, &e);
	if (r < 0) {
		/* recorded before the release, whose own failure must not win */
		(void)store_err_set(reterr, LF_E_IO, r, "recording endpoint %s", ce.epid);
		if (e.allocated)
			(void)ipam_release(d->s, e.network, ce.epid, e.src_name, NULL);
		return r;
	}
	log_info("CreateEndpoint %.12s on %s: %zu address(es)%s", ce.epid, e.network,
		 e.n_addrs, e.allocated ? " allocated by leafnet" : "");
	return 0;
}

int
dp_endpoint_info(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	struct dp_ids ids;
	struct dp_ep_rec e;
	char host[IFNAMSIZ];
	cJSON *v;

	(void)reterr;
	/* Always 200 with a Value: an error here is fatal to Docker. */
	v = cJSON_AddObjectToObject(resp, "Value");
	if (v && dp_parse_ids(req, true, &ids, NULL) == 0 && dp_ep_get(d, ids.epid, &e) == 0) {
		attach_host_ifname(ids.epid, e.src_name, host);
		cJSON_AddStringToObject(v, "leafnet.network", e.network);
		cJSON_AddStringToObject(v, "leafnet.host_ifname", host);
	}
	return 0;
}

/* Leave and DeleteEndpoint: take the endpoint's veth and host route down.
 * Leave keeps the addresses (until DeleteEndpoint / ReleaseAddress);
 * DeleteEndpoint also releases the ones we allocated and drops the record.
 * An endpoint not known is already gone: Docker repeats teardowns. */
static int
ep_teardown(struct dp *d, const cJSON *req, bool delete, struct lf_err *reterr)
{
	const char *method = delete ? "DeleteEndpoint" : "Leave";
	struct detach_req dr;
	struct dp_ids ids;
	struct dp_ep_rec e;
	int r;

	if ((r = dp_parse_ids(req, true, &ids, reterr)) < 0)
		return r;
	if (dp_ep_get(d, ids.epid, &e) < 0) {
		log_warnx("%s %s: endpoint not known (already deleted?)", method, ids.epid);
		return 0;
	}
	memset(&dr, 0, sizeof(dr));
	snprintf(dr.container_id, sizeof(dr.container_id), "%s", ids.epid);
	snprintf(dr.ifname, sizeof(dr.ifname), "%s", e.src_name);
	snprintf(dr.network, sizeof(dr.network), "%s", e.network);
	dr.external_ipam = !(delete && e.allocated);
	snprintf(dr.ctl_socket, sizeof(dr.ctl_socket), "%s", d->conf.control_socket);
	/* the veth is deleted by the reaper thread, off Docker's clock */
	dr.flags = DETACH_F_DEFER_DELETE | DETACH_F_NO_TOMBSTONE;
	r = detach_workload(d->s, &dr, reterr);
	if (r < 0)
		return r;
	dp_reaper_delete(r);
	if (delete) {
		r = dp_ep_del(d, ids.epid);
		if (r < 0 && r != -ENOENT)
			return store_err_set(reterr, LF_E_IO, r,
					     "removing endpoint record %s", ids.epid);
	}
	log_info("%s %.12s", method, ids.epid);
	return 0;
}

int
dp_delete_endpoint(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	(void)resp;
	return ep_teardown(d, req, true, reterr);
}

int
dp_join(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	struct attach_result ar;
	struct attach_req *ar_req;
	struct dp_ids ids;
	struct dp_ep_rec e;
	struct network net;
	bool have_net;
	cJSON *j;
	int r;

	if ((r = dp_parse_ids(req, true, &ids, reterr)) < 0)
		return r;
	if (dp_ep_get(d, ids.epid, &e) < 0)
		return lf_err_set(reterr, LF_E_NOT_FOUND, -ENOENT,
				  "EndpointID %s: unknown endpoint (CreateEndpoint first)", ids.epid);
	if (strcmp(e.netid, ids.netid) != 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "EndpointID %s belongs to network %s, not %s", ids.epid,
				  e.netid, ids.netid);
	have_net = network_get(d->s, e.network, &net, NULL) == 0;
	ar_req = calloc(1, sizeof(*ar_req));
	if (!ar_req)
		return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
	snprintf(ar_req->container_id, sizeof(ar_req->container_id), "%s", ids.epid);
	snprintf(ar_req->ifname, sizeof(ar_req->ifname), "%s", e.src_name);
	snprintf(ar_req->network, sizeof(ar_req->network), "%s", e.network);
	snprintf(ar_req->node, sizeof(ar_req->node), "%s", d->conf.node_name);
	snprintf(ar_req->handle, sizeof(ar_req->handle), "docker:%s", ids.epid);
	snprintf(ar_req->ctl_socket, sizeof(ar_req->ctl_socket), "%s", d->conf.control_socket);
	ar_req->mtu = e.mtu;
	ar_req->peer_in_caller_ns = true;
	ar_req->external_ipam = true;	/* allocated by the IPAM side or CreateEndpoint */
	for (size_t i = 0; i < e.n_addrs; i++) {
		struct attach_ip *ip = &ar_req->ips[ar_req->n_ips++];
		const struct network_subnet *sn =
			have_net ? network_subnet_for(&net, e.addrs[i].addr.family) : NULL;

		prefix_from_addr(&e.addrs[i].addr, &ip->addr);
		ip->subnet = sn ? sn->cidr : e.addrs[i];
		prefix_mask(&ip->subnet);
		if (sn)
			ip->gateway = sn->gateway;	/* family 0: the default */
	}
	memset(&ar, 0, sizeof(ar));
	r = attach_workload(d->s, ar_req, &ar, reterr);
	free(ar_req);
	if (r < 0)
		return r;
	j = dp_join_response(e.src_name, &ar);
	if (!j)
		return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
	while (j->child) {
		cJSON *it = cJSON_DetachItemViaPointer(j, j->child);

		cJSON_AddItemToObject(resp, it->string, it);
	}
	cJSON_Delete(j);
	log_info("Join %.12s: %s (host %s) on %s", ids.epid, e.src_name, ar.host_ifname,
		 e.network);
	return 0;
}

int
dp_leave(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	(void)resp;
	return ep_teardown(d, req, false, reterr);
}

/* Program/RevokeExternalConnectivity: routed networks have no port
 * mappings or NAT for Docker to program; validate and accept. */
int
dp_program_ext(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	struct dp_ids ids;

	(void)d;
	(void)resp;
	return dp_parse_ids(req, true, &ids, reterr);
}
