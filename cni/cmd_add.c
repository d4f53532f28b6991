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

/* The gateway the workload routes through: the network's, else the
 * on-link default the attach core uses. */
static void
gateway_or_default(int family, const struct ipaddr *gw, struct ipaddr *ret)
{
	if (ipaddr_is_set(gw)) {
		*ret = *gw;
		return;
	}
	(void)ipaddr_parse(family == AF_INET ? ATTACH_GW4_DEFAULT : ATTACH_GW6_DEFAULT, ret);
}

/* Our part of the result: the host veth, the container interface (index 1),
 * one /32 (/128) per address and a default route per family. */
void
cni_attach_result_to_cni(const struct cni_cmd *cmd, const struct attach_result *ar,
			 struct cni_result *ret)
{
	struct cni_iface *host = &ret->ifaces[0], *cont = &ret->ifaces[1];
	bool have_default[2] = { false, false };

	ret->n_ifaces = 2;
	snprintf(host->name, sizeof(host->name), "%s", ar->host_ifname);
	snprintf(host->mac, sizeof(host->mac), "%s", ar->host_mac);
	snprintf(cont->name, sizeof(cont->name), "%s", cmd->env.ifname);
	snprintf(cont->mac, sizeof(cont->mac), "%s", ar->cont_mac);
	snprintf(cont->sandbox, sizeof(cont->sandbox), "%s", cmd->env.netns);

	for (size_t i = 0; i < ar->n_ips && ret->n_ips < CNI_MAX_IPS; i++) {
		const struct attach_ip *a = &ar->ips[i];
		struct cni_ip *ip = &ret->ips[ret->n_ips++];
		int fam = a->addr.addr.family, k = fam == AF_INET ? 0 : 1;

		prefix_from_addr(&a->addr.addr, &ip->address);
		gateway_or_default(fam, &a->gateway, &ip->gateway);
		ip->iface = 1;
		if (!have_default[k] && ret->n_routes < CNI_MAX_ROUTES) {
			struct cni_route *rt = &ret->routes[ret->n_routes++];

			memset(rt, 0, sizeof(*rt));
			rt->dst.addr.family = fam;
			rt->dst.len = 0;
			rt->gw = ip->gateway;
			have_default[k] = true;
		}
	}
}

/* The delegated IPAM's addresses become the request's (external_ipam). */
static int
req_from_ipam_result(const struct cni_result *ipr, struct attach_req *req,
		     struct cn_err *reterr)
{
	if (ipr->n_ips == 0)
		return cn_err_set(reterr, CN_E_INVALID_CONFIG, -EINVAL,
				  "ipam: plugin returned no IP addresses");
	for (size_t i = 0; i < ipr->n_ips; i++) {
		const struct cni_ip *ip = &ipr->ips[i];
		struct attach_ip *a;

		if (req->n_ips >= ATTACH_MAX_IPS)
			return cn_err_set(reterr, CN_E_INVALID_CONFIG, -E2BIG,
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
	req->n_static = cmd->conf.n_statics;
	memcpy(req->statics, cmd->conf.statics, sizeof(req->statics));
}

int
cmd_add(struct cni_cmd *cmd, struct cn_err *reterr)
{
	struct cni_result *ipr = NULL, *ours = NULL, *out = NULL;
	struct attach_result ar;
	struct attach_req req;
	struct store *s = NULL;
	struct network net;
	bool delegated = false;
	int r;

	ipr = calloc(1, sizeof(*ipr));
	ours = calloc(1, sizeof(*ours));
	out = calloc(1, sizeof(*out));
	if (ipr == NULL || ours == NULL || out == NULL) {
		r = cn_err_set(reterr, CN_E_INTERNAL, -ENOMEM, "out of memory");
		goto out_free;
	}
	cni_attach_req_init(cmd, &req);
	r = cni_store_open(cmd, &s, reterr);
	if (r < 0)
		goto out_free;

	if (cmd->conf.ipam_delegate) {
		r = cni_delegate(cmd, CNI_CMD_ADD, ipr, reterr);
		if (r < 0)
			goto out_store;
		delegated = true;
		r = req_from_ipam_result(ipr, &req, reterr);
		if (r < 0)
			goto out_release_delegate;
	} else {
		r = network_get(s, cmd->conf.network, &net, reterr);
		if (r == -ENOENT) {
			r = cni_network_missing(cmd->conf.network, r, reterr);
			goto out_store;
		}
		if (r < 0)
			goto out_store;
	}

	memset(&ar, 0, sizeof(ar));
	r = attach_workload(s, &req, &ar, reterr);
	if (r < 0)
		goto out_release_delegate;
	log_info("ADD %s %s: %s in network %s", req.container_id, req.ifname,
		 ar.host_ifname, req.network);

	cni_attach_result_to_cni(cmd, &ar, ours);
	if (cmd->conf.has_prev_result)
		*out = cmd->conf.prev_result;
	r = cni_result_append(out, ours, reterr);
	if (r < 0)
		goto out_store;
	/* DNS: the chain's, else what the IPAM plugin said; never ours. */
	if (!cmd->conf.has_prev_result && cmd->conf.ipam_delegate)
		out->dns = ipr->dns;
	r = cni_print_result(cmd, out, reterr);
	goto out_store;

out_release_delegate:
	if (delegated) {
		struct cn_err ignored = { 0 };

		if (cni_delegate(cmd, CNI_CMD_DEL, NULL, &ignored) < 0)
			log_warnx("ADD failed and the IPAM plugin %s could not release: %s",
				  cmd->conf.ipam_type, ignored.msg);
	}
out_store:
	store_free(s);
out_free:
	free(out);
	free(ours);
	free(ipr);
	return r;
}
