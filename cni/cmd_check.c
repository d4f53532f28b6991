/* cmd_check.c — leafnet CHECK: the allocation exists, the prevResult's
 * addresses are the ones leafnet gave this container, and the kernel state
 * (veth pair, addresses, routes) is what ADD made. */
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

/* Index of our container interface in the prevResult, -1 when absent. */
/* A prevResult "mac" longer than a MAC address cannot match one: leave the
 * expectation empty (not checked) rather than compare a truncated string. */
static void
copy_mac(char dst[18], const char *mac)
{
	size_t n = strnlen(mac, 18);

	if (n < 18)
		memcpy(dst, mac, n + 1);
}

static int
prev_cont_iface(const struct cni_cmd *cmd)
{
	const struct cni_result *p = cmd->conf.prev_result;

	for (size_t i = 0; i < p->n_ifaces; i++)
		if (strcmp(p->ifaces[i].name, cmd->env.ifname) == 0 &&
		    p->ifaces[i].sandbox[0] != '\0')
			return (int)i;
	return -1;
}

/* Leafnet's own IPAM: what the store says this container holds. */
static int
expect_from_store(struct cni_cmd *cmd, struct attach_result *expect, struct lf_err *reterr)
{
	struct ipam_addr addrs[IPAM_MAX_ADDRS];
	size_t n = 0;
	int r;

	r = cni_held_addrs(cmd, addrs, IPAM_MAX_ADDRS, &n, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && i < ATTACH_MAX_IPS; i++) {
		struct attach_ip *a = &expect->ips[expect->n_ips++];

		prefix_from_addr(&addrs[i].addr, &a->addr);
		a->subnet = addrs[i].subnet;
		network_gateway(a->addr.addr.family, &addrs[i].gateway, &a->gateway);
	}
	return 0;
}

/* An external IPAM: the prevResult's addresses on our interface. */
static int
expect_from_prev(struct cni_cmd *cmd, int idx, struct attach_result *expect,
		 struct lf_err *reterr)
{
	const struct cni_result *p = cmd->conf.prev_result;

	if (!cmd->conf.has_prev_result)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "prevResult: missing (CHECK with ipam.type \"%s\" needs the ADD result)",
				  cmd->conf.ipam_type);
	for (size_t i = 0; i < p->n_ips && expect->n_ips < ATTACH_MAX_IPS; i++) {
		struct attach_ip *a;

		if (p->ips[i].iface != idx)
			continue;
		a = &expect->ips[expect->n_ips++];
		prefix_from_addr(&p->ips[i].address.addr, &a->addr);
		a->subnet = p->ips[i].address;
		prefix_mask(&a->subnet);
		network_gateway(a->addr.addr.family, &p->ips[i].gateway, &a->gateway);
	}
	if (expect->n_ips == 0)
		return lf_err_set(reterr, LF_E_CHECK_FAILED, -ENOENT,
				  "prevResult: no address on interface %s", cmd->env.ifname);
	return 0;
}

/* The prevResult and the allocation must agree both ways. */
static int
compare_prev(const struct cni_cmd *cmd, int idx, const struct attach_result *expect,
	     struct lf_err *reterr)
{
	const struct cni_result *p = cmd->conf.prev_result;
	char buf[PREFIX_STRLEN];

	for (size_t i = 0; i < p->n_ips; i++) {
		bool ours = false;

		if (idx < 0 || p->ips[i].iface != idx)
			continue;
		for (size_t j = 0; j < expect->n_ips; j++)
			ours |= ipaddr_eq(&p->ips[i].address.addr, &expect->ips[j].addr.addr);
		if (!ours)
			return lf_err_set(reterr, LF_E_CHECK_FAILED, -EINVAL,
					  "prevResult: %s on %s was not allocated to container %s by leafnet",
					  prefix_fmt(&p->ips[i].address, buf, sizeof(buf)),
					  cmd->env.ifname, cmd->env.container_id);
	}
	for (size_t j = 0; j < expect->n_ips; j++) {
		bool found = false;

		for (size_t i = 0; i < p->n_ips; i++)
			found |= ipaddr_eq(&p->ips[i].address.addr, &expect->ips[j].addr.addr);
		if (!found)
			return lf_err_set(reterr, LF_E_CHECK_FAILED, -EINVAL,
					  "prevResult: lacks %s, allocated to container %s (%s)",
					  ipaddr_fmt(&expect->ips[j].addr.addr, buf, sizeof(buf)),
					  cmd->env.container_id, cmd->env.ifname);
	}
	return 0;
}

int
cmd_check(struct cni_cmd *cmd, struct lf_err *reterr)
{
	const struct cni_result *p = cmd->conf.prev_result;	/* NULL: none */
	struct attach_result expect;
	struct attach_req req;
	int idx, r;

	memset(&expect, 0, sizeof(expect));
	cni_attach_req_init(cmd, &req);
	idx = cmd->conf.has_prev_result ? prev_cont_iface(cmd) : -1;
	if (cmd->conf.has_prev_result && idx < 0)
		return lf_err_set(reterr, LF_E_CHECK_FAILED, -ENOENT,
				  "prevResult: no interface %s with a sandbox", cmd->env.ifname);

	if (cmd->conf.ipam_delegate) {
		r = cni_delegate(cmd, CNI_CMD_CHECK, NULL, reterr);
		if (r < 0)
			return r;
		r = expect_from_prev(cmd, idx, &expect, reterr);
		req.external_ipam = true;
		req.n_ips = expect.n_ips;
		memcpy(req.ips, expect.ips, sizeof(req.ips));
	} else {
		r = expect_from_store(cmd, &expect, reterr);
	}
	if (r < 0)
		return r;
	if (cmd->conf.has_prev_result) {
		r = compare_prev(cmd, idx, &expect, reterr);
		if (r < 0)
			return r;
		copy_mac(expect.cont_mac, p->ifaces[idx].mac);
	}
	attach_host_ifname(cmd->env.container_id, cmd->env.ifname, expect.host_ifname);
	for (size_t i = 0; p != NULL && i < p->n_ifaces; i++)
		if (strcmp(p->ifaces[i].name, expect.host_ifname) == 0)
			copy_mac(expect.host_mac, p->ifaces[i].mac);
	r = attach_check(&req, &expect, reterr);
	if (r < 0 && reterr != NULL && reterr->code == 0)
		lf_err_set(reterr, LF_E_CHECK_FAILED, r, "CHECK failed: %s", strerror(-r));
	return r;
}
