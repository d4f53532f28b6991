/* cmd_add.c — leafnet ADD: config -> struct attach_req -> attach_workload()
 * -> the CNI result (appended to a chained prevResult). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "cni.h"
#include "err.h"
#include "log.h"
#include "network.h"
#include "store.h"

/* Append our part of the result to dst: the host veth, the container
 * interface, one /32 (/128) per address and the routes the attach core made
 * (a default route per family, or on a secondary interface a route to each
 * subnet).  Appending in place (rather than building ours apart and copying
 * both into a third result) keeps ADD to one struct cni_result. */
static int
attach_result_append(const struct cni_cmd *cmd, const struct attach_result *ar,
		     struct cni_result *dst, struct lf_err *reterr)
{
	size_t base = dst->n_ifaces;
	struct cni_iface *host, *cont;

	if (base + 2 > CNI_MAX_IFACES || dst->n_ips + ar->n_ips > CNI_MAX_IPS ||
	    dst->n_routes + ar->n_routes > CNI_MAX_ROUTES)
		return lf_err_set(reterr, LF_E_INVALID, -E2BIG,
				  "prevResult: too many interfaces, ips or routes to add ours");
	host = &dst->ifaces[base];
	cont = &dst->ifaces[base + 1];
	memset(host, 0, sizeof(*host));
	memset(cont, 0, sizeof(*cont));
	snprintf(host->name, sizeof(host->name), "%s", ar->host_ifname);
	snprintf(host->mac, sizeof(host->mac), "%s", ar->host_mac);
	snprintf(cont->name, sizeof(cont->name), "%s", cmd->env.ifname);
	snprintf(cont->mac, sizeof(cont->mac), "%s", ar->cont_mac);
	/* fits: env.netns has the size of a result's sandbox */
	snprintf(cont->sandbox, sizeof(cont->sandbox), "%s", cmd->env.netns);
	dst->n_ifaces += 2;

	for (size_t i = 0; i < ar->n_ips; i++) {
		const struct attach_ip *a = &ar->ips[i];
		struct cni_ip *ip = &dst->ips[dst->n_ips++];

		memset(ip, 0, sizeof(*ip));
		prefix_from_addr(&a->addr.addr, &ip->address);
		network_gateway(a->addr.addr.family, &a->gateway, &ip->gateway);
		ip->iface = (int)base + 1;
	}
	for (size_t i = 0; i < ar->n_routes; i++) {
		struct cni_route *rt = &dst->routes[dst->n_routes++];

		memset(rt, 0, sizeof(*rt));
		rt->dst = ar->routes[i].dst;
		rt->gw = ar->routes[i].gateway;
	}
	return 0;
}

/* The delegated IPAM's addresses become the request's (external_ipam). */
static int
req_from_ipam_result(const struct cni_result *ipr, struct attach_req *req,
		     struct lf_err *reterr)
{
	if (ipr->n_ips == 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "ipam: plugin returned no IP addresses");
	for (size_t i = 0; i < ipr->n_ips; i++) {
		const struct cni_ip *ip = &ipr->ips[i];
		struct attach_ip *a;

		if (req->n_ips >= ATTACH_MAX_IPS)
			return lf_err_set(reterr, LF_E_INVALID, -E2BIG,
					  "ipam: plugin returned more than %d addresses",
					  ATTACH_MAX_IPS);
		a = &req->ips[req->n_ips++];
		prefix_from_addr(&ip->address.addr, &a->addr);
		a->subnet = ip->address;
		prefix_mask(&a->subnet);
		a->gateway = ip->gateway;
	}
	req->external_ipam = true;
	return 0;
}

void
cni_attach_req_init(const struct cni_cmd *cmd, struct attach_req *req)
{
	memset(req, 0, sizeof(*req));
	snprintf(req->container_id, sizeof(req->container_id), "%s", cmd->env.container_id);
	snprintf(req->netns, sizeof(req->netns), "%s", cmd->env.netns);
	snprintf(req->ifname, sizeof(req->ifname), "%s", cmd->env.ifname);
	snprintf(req->network, sizeof(req->network), "%s", cmd->conf.network);
	snprintf(req->node, sizeof(req->node), "%s", cni_node(cmd));
	snprintf(req->handle, sizeof(req->handle), "%s", cmd->handle);
	req->mtu = cmd->conf.mtu;
	req->has_mac = cmd->conf.has_mac;
	memcpy(req->mac, cmd->conf.mac, sizeof(req->mac));
	snprintf(req->ctl_socket, sizeof(req->ctl_socket), "%s", cmd->lconf.control_socket);
	req->n_static = cmd->conf.n_statics;
	memcpy(req->statics, cmd->conf.statics, sizeof(req->statics));
}

int
cmd_add(struct cni_cmd *cmd, struct lf_err *reterr)
{
	struct cni_result *ipr = NULL, *ours = NULL, *out;
	struct attach_result ar;
	struct attach_req req;
	struct store *s = NULL;
	bool delegated = false;
	int r;

	cni_attach_req_init(cmd, &req);
	r = cni_store_open(cmd, &s, reterr);
	if (r < 0)
		return r;

	if (cmd->conf.ipam_delegate) {
		ipr = calloc(1, sizeof(*ipr));
		if (ipr == NULL) {
			r = lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
			goto out_store;
		}
		r = cni_delegate(cmd, CNI_CMD_ADD, ipr, reterr);
		if (r < 0)
			goto out_store;
		delegated = true;
		r = req_from_ipam_result(ipr, &req, reterr);
		if (r < 0)
			goto out_release_delegate;
	}

	/* The network is read once, by the IPAM under its lock; an unknown
	 * one comes back as -ENOENT / LF_E_NOT_FOUND. */
	memset(&ar, 0, sizeof(ar));
	r = attach_workload(s, &req, &ar, reterr);
	if (r == -ENOENT && !delegated && reterr != NULL && reterr->code == LF_E_NOT_FOUND) {
		r = cni_network_missing(cmd->conf.network, r, reterr);
		goto out_store;
	}
	if (r < 0)
		goto out_release_delegate;
	log_info("ADD %s %s: %s in network %s", req.container_id, req.ifname,
		 ar.host_ifname, req.network);

	/* The result is the chain's prevResult with ours appended, else a
	 * fresh one: never a copy. */
	out = cmd->conf.prev_result;
	if (out == NULL && (out = ours = calloc(1, sizeof(*ours))) == NULL) {
		r = lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
		goto out_store;
	}
	r = attach_result_append(cmd, &ar, out, reterr);
	if (r < 0)
		goto out_store;
	/* DNS: the chain's, else what the IPAM plugin said; never ours. */
	if (!cmd->conf.has_prev_result && delegated)
		out->dns = ipr->dns;
	r = cni_print_result(cmd, out, reterr);
	goto out_store;

out_release_delegate:
	if (delegated) {
		struct lf_err ignored = { 0 };

		if (cni_delegate(cmd, CNI_CMD_DEL, NULL, &ignored) < 0)
			log_warnx("ADD failed and the IPAM plugin %s could not release: %s",
				  cmd->conf.ipam_type, ignored.msg);
	}
out_store:
	store_free(s);
	free(ours);
	free(ipr);
	return r;
}
