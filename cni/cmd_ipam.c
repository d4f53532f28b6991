/* cmd_ipam.c — leafnet-ipam: leafnet's allocator as a CNI IPAM plugin.
 *
 * Results follow host-local: the address with its subnet's length
 * ("10.0.0.5/24"), the subnet's gateway and a default route via it.  A
 * network without --gateway reports leafnet's on-link default 169.254.1.1 /
 * fe80::1 as the gateway but no default route (see ipam_result()).  No
 * interfaces: an IPAM plugin does not make any.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leafnet.h"
#include "cni.h"
#include "err.h"
#include "ipam.h"
#include "log.h"
#include "network.h"
#include "store.h"

static void
ipam_result(const struct ipam_addr *addrs, size_t n, struct cni_result *res)
{
	bool have_default[2] = { false, false };

	for (size_t i = 0; i < n && res->n_ips < CNI_MAX_IPS; i++) {
		const struct ipam_addr *a = &addrs[i];
		struct cni_ip *ip = &res->ips[res->n_ips++];
		int k = a->addr.family == AF_INET ? 0 : 1;

		ip->address.addr = a->addr;
		ip->address.len = a->subnet.len;
		ip->gateway = a->gateway;
		ip->iface = -1;
		/* No --gateway: report leafnet's on-link default (what the
		 * leafnet plugin uses), because main plugins need one: ptp
		 * puts it on the host side of its veth and routes the subnet
		 * through it.  But no default route via it: main plugins add
		 * result routes before anything makes an off-subnet gateway
		 * reachable, so the ADD would fail ("network is unreachable"). */
		if (!ipaddr_is_set(&ip->gateway)) {
			network_gateway(a->addr.family, NULL, &ip->gateway);
			continue;
		}
		if (!have_default[k] && res->n_routes < CNI_MAX_ROUTES) {
			struct cni_route *rt = &res->routes[res->n_routes++];

			memset(rt, 0, sizeof(*rt));
			rt->dst.addr.family = a->addr.family;
			rt->gw = ip->gateway;
			have_default[k] = true;
		}
	}
}

int
cmd_ipam_add(struct cni_cmd *cmd, struct lf_err *reterr)
{
	struct ipam_addr addrs[IPAM_MAX_ADDRS];
	struct cni_result *res = NULL;
	struct ipam_req req;
	struct store *s = NULL;
	size_t n = 0;
	int r;

	/* not cni_open_network(): ipam_alloc()'s first read has the network
	 * record in it, and says when it is missing (one etcd Range less) */
	r = cni_store_open(cmd, &s, reterr);
	if (r < 0)
		return r;
	memset(&req, 0, sizeof(req));
	req.network = cmd->conf.network;
	req.node = cni_node(cmd);
	snprintf(req.owner.container_id, sizeof(req.owner.container_id), "%s", cmd->env.container_id);
	snprintf(req.owner.ifname, sizeof(req.owner.ifname), "%s", cmd->env.ifname);
	snprintf(req.owner.handle, sizeof(req.owner.handle), "%s", cmd->handle);
	req.n_static = cmd->conf.n_statics;
	memcpy(req.statics, cmd->conf.statics, sizeof(req.statics));
	r = ipam_alloc(s, &req, addrs, IPAM_MAX_ADDRS, &n, reterr);
	if (r == -ENOENT)
		r = cni_network_missing(cmd->conf.network, r, reterr);
	if (r < 0)
		goto out_store;
	res = calloc(1, sizeof(*res));
	if (res == NULL) {
		r = lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
		goto out_release;
	}
	ipam_result(addrs, n, res);
	r = cni_print_result(cmd, res, reterr);
	if (r >= 0) {
		log_info("ADD %s %s: %zu address(es) in network %s",
			 cmd->env.container_id, cmd->env.ifname, n, cmd->conf.network);
		goto out_free;
	}
out_release:
	(void)ipam_release(s, cmd->conf.network, cmd->env.container_id, cmd->env.ifname, NULL);
out_free:
	free(res);
out_store:
	store_free(s);
	return r;
}

int
cmd_ipam_del(struct cni_cmd *cmd, struct lf_err *reterr)
{
	struct lf_err err = { 0 };
	struct store *s = NULL;
	int r;

	r = cni_store_open(cmd, &s, reterr);
	if (r < 0)
		return r;
	r = ipam_release(s, cmd->conf.network, cmd->env.container_id, cmd->env.ifname, &err);
	store_free(s);
	if (r < 0 && (r == -ENOENT || err.code == LF_E_NOT_FOUND))
		r = 0;			/* network gone: nothing held */
	if (r < 0) {
		*reterr = err;
		return r;
	}
	log_info("DEL %s %s: %d address(es) released", cmd->env.container_id,
		 cmd->env.ifname, r);
	return 0;
}

int
cmd_ipam_check(struct cni_cmd *cmd, struct lf_err *reterr)
{
	struct ipam_addr addrs[IPAM_MAX_ADDRS];
	const struct cni_result *p = cmd->conf.prev_result;	/* NULL: none */
	char buf[IPADDR_STRLEN];
	size_t n = 0;
	int r;

	r = cni_held_addrs(cmd, addrs, IPAM_MAX_ADDRS, &n, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; cmd->conf.has_prev_result && i < n; i++) {
		bool found = false;

		for (size_t j = 0; j < p->n_ips; j++)
			found |= ipaddr_eq(&p->ips[j].address.addr, &addrs[i].addr);
		if (!found)
			return lf_err_set(reterr, LF_E_CHECK_FAILED, -EINVAL,
					  "prevResult: lacks %s, allocated to container %s (%s)",
					  ipaddr_fmt(&addrs[i].addr, buf, sizeof(buf)),
					  cmd->env.container_id, cmd->env.ifname);
	}
	return 0;
}

int
cmd_ipam_gc(struct cni_cmd *cmd, struct lf_err *reterr)
{
	struct store *s = NULL;
	int r, n_tmp;

	r = cni_store_open(cmd, &s, reterr);
	if (r < 0)
		return r;
	/* what killed plugins left in the store: their writers are gone */
	n_tmp = store_sweep(s, reterr);
	if (n_tmp < 0) {
		r = store_err_set(reterr, LF_E_IO, n_tmp, "removing stale temp files");
		goto out_store;
	}
	r = ipam_gc(s, cni_node(cmd), cni_gc_keep_record, &cmd->conf, reterr);
	if (r >= 0)
		cni_log_damaged(s);
	if (r < 0)
		goto out_store;
	log_info("GC network %s: %d address(es) released, %d temp file(s) removed",
		 cmd->conf.network, r, n_tmp);
	r = 0;
out_store:
	store_free(s);
	return r;
}

int
cmd_ipam_status(struct cni_cmd *cmd, struct lf_err *reterr)
{
	struct store *s = NULL;
	int r;

	r = store_open(&cmd->lconf, &s, reterr);
	if (r < 0)
		return lf_err_set(reterr, LF_E_UNAVAILABLE, r,
				  "state directory %s: %s", cmd->lconf.state_dir, strerror(-r));
	r = cni_network_usable(s, cmd->conf.network, reterr);
	store_free(s);
	return r;
}
