/* cmd_status.c — leafnet STATUS (CNI 1.1.0): can an ADD succeed now, and
 * will the workload be reachable from outside this host?
 *
 *   0   yes (and no output);
 *   50  "plugin not available": the state cannot be read or the network has
 *       no free address (naming why);
 *   51  "limited connectivity": BGP is configured for this node but
 *       leafnetd does not answer on its control socket, or answers with no
 *       session established — workloads get addresses and host routes, but
 *       nobody outside this host learns them.
 *
 * Without any BGP configuration (one host, or routes spread some other
 * way) leafnetd is not needed and STATUS never blocks pods over it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgpconf.h"
#include "cni.h"
#include "ctl.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "store.h"

/* Under kubelet's STATUS polling a dead socket costs nothing (ENOENT or
 * ECONNREFUSED at once); a hung leafnetd costs this much per call. */
#define STATUS_CTL_TIMEOUT_MS 200

/* Would leafnetd on node peer with other, a node with a router IP, over
 * the mesh or route reflection (routing/config.c's rules)?  self NULL:
 * node has no record. */
static bool
node_peers_with(const struct bgp_node *self, const struct bgp_node *other,
		const struct bgp_node *nodes, size_t n, const struct bgp_config *bc)
{
	uint32_t as = self && self->as ? self->as : bc->default_node_as;
	bool as_rr = self && self->rr;

	if (!other->router_ip4.addr.family && !other->router_ip6.addr.family)
		return false;
	for (size_t i = 0; i < n && !as_rr; i++)
		as_rr = nodes[i].rr && (!self || strcmp(nodes[i].name, self->name) != 0) &&
			(nodes[i].as ? nodes[i].as : bc->default_node_as) == as;
	if (as_rr && (other->as ? other->as : bc->default_node_as) == as)
		return (self && self->rr) || other->rr;
	return bc->node_mesh;
}

/* Does this node speak BGP at all: a node-specific peer of its own, any
 * global peer, or the node-to-node mesh or route reflection with another
 * node that has a router IP (leafnetd's own rules for its peer list).
 * Cheapest reads first; stops at the first hit.  1 yes, 0 no, -errno when
 * the store cannot be read. */
static int
bgp_configured(struct store *s, const char *node, struct lf_err *reterr)
{
	struct bgp_peer *peers = NULL;
	struct bgp_node self, *nodes = NULL;
	struct bgp_config bc;
	bool have_self = false;
	size_t n = 0;
	int r, yes = 0;

	r = bgpconf_node_get(s, node, &self, NULL);
	if (r == 0) {
		have_self = true;
		if (self.n_peers > 0) {
			bgpconf_node_done(&self);
			return 1;
		}
	} else if (r != -ENOENT && r != -EINVAL) {	/* EINVAL: a name no record can have */
		return lf_err_set(reterr, LF_E_UNAVAILABLE, r,
				  "reading node %s's BGP record: %s", node, strerror(-r));
	}
	r = bgpconf_peer_list(s, NULL, &peers, &n, NULL);
	if (r < 0) {
		yes = lf_err_set(reterr, LF_E_UNAVAILABLE, r,
				 "reading the global BGP peers: %s", strerror(-r));
		goto out_self;
	}
	free(peers);
	if (n > 0) {
		yes = 1;
		goto out_self;
	}
	r = bgpconf_get(s, &bc, NULL);
	if (r < 0) {
		yes = lf_err_set(reterr, LF_E_UNAVAILABLE, r,
				 "reading the BGP configuration: %s", strerror(-r));
		goto out_self;
	}
	r = bgpconf_node_list(s, &nodes, &n, NULL);
	if (r < 0) {
		yes = lf_err_set(reterr, LF_E_UNAVAILABLE, r,
				 "reading the node records: %s", strerror(-r));
		goto out_self;
	}
	for (size_t i = 0; i < n && !yes; i++)
		yes = strcmp(nodes[i].name, node) != 0 &&
		      node_peers_with(have_self ? &self : NULL, &nodes[i], nodes, n, &bc);
	bgpconf_nodes_free(nodes, n);
out_self:
	if (have_self)
		bgpconf_node_done(&self);
	return yes;
}

/* "192.0.2.1 Active, 10.0.0.2 Connect" into buf (cut short with "..."),
 * and whether any session is up. */
static bool
peers_summary(const cJSON *peers, char *buf, size_t size)
{
	const cJSON *p;
	size_t off = 0;
	bool up = false;

	buf[0] = '\0';
	cJSON_ArrayForEach(p, peers) {
		char addr[IPADDR_STRLEN] = "?", state[32] = "?";
		bool is_up = false;
		int n;

		(void)json_get_str(p, "address", addr, sizeof(addr), false, NULL, NULL);
		(void)json_get_str(p, "state", state, sizeof(state), false, NULL, NULL);
		(void)json_get_bool(p, "up", &is_up, false, NULL, NULL);
		up |= is_up;
		if (off + 4 >= size)
			continue;
		n = snprintf(buf + off, size - off, "%s%s %s", off ? ", " : "", addr, state);
		if (n < 0 || (size_t)n >= size - off) {
			snprintf(buf + (size - 4), 4, "...");
			off = size;
			continue;
		}
		off += (size_t)n;
	}
	return up;
}

/* BGP configured for this node: leafnetd must answer and hold at least one
 * established session, or workload routes reach no one. */
static int
status_leafnetd(const struct cni_cmd *cmd, struct store *s, struct lf_err *reterr)
{
	const char *sock = cmd->lconf.control_socket;
	char *resp = NULL, list[160], err[LF_ERR_MSG_MAX];
	const cJSON *peers = NULL;
	struct lf_err e = { 0 };
	cJSON *root = NULL;
	int r;

	r = bgp_configured(s, cni_node(cmd), reterr);
	if (r <= 0)
		return r;
	if (sock[0] == '\0')
		return lf_err_set(reterr, LF_E_DEGRADED, -ENOTCONN,
				  "BGP is configured but the leafnet config (%s) names no "
				  "control_socket, so leafnetd cannot be asked whether workload "
				  "routes are advertised; set control_socket",
				  cmd->lconf.path[0] ? cmd->lconf.path : "built-in defaults");
	r = ctl_request(sock, "{\"cmd\":\"status\"}", &resp, STATUS_CTL_TIMEOUT_MS);
	if (r < 0) {
		lf_err_set(reterr, LF_E_DEGRADED, r,
			   "leafnetd is not answering on %s: workload routes are not "
			   "advertised; start leafnetd", sock);
		lf_err_details(reterr, "%s: %s%s", sock, strerror(-r),
			       r == -ETIMEDOUT ? " (no answer within 200 ms)" : "");
		return r;
	}
	r = json_parse(resp, &root, &e);
	free(resp);
	if (r < 0)
		return lf_err_set(reterr, LF_E_DEGRADED, r,
				  "leafnetd on %s answered with something that is not JSON "
				  "(%s); is it the same version as this plugin?", sock, e.msg);
	if (json_get_str(root, "error", err, sizeof(err), false, NULL, NULL) == 0) {
		r = lf_err_set(reterr, LF_E_DEGRADED, -EPROTO,
			       "leafnetd on %s refused the status request: %s", sock, err);
		goto out_free;
	}
	(void)json_get_arr(root, "peers", &peers, false, NULL, NULL);
	if (peers_summary(peers, list, sizeof(list))) {
		r = 0;
		goto out_free;
	}
	r = lf_err_set(reterr, LF_E_DEGRADED, -ENOTCONN,
		       "no BGP session is established (peers: %s): workload routes are "
		       "not advertised; see netctl status", list[0] ? list
		       : "none yet, leafnetd picks up configuration within a second");
out_free:
	cJSON_Delete(root);
	return r;
}

int
cmd_status(struct cni_cmd *cmd, struct lf_err *reterr)
{
	struct store *s = NULL;
	int r;

	if (cmd->conf.ipam_delegate) {
		r = cni_delegate_newer(cmd, CNI_CMD_STATUS, reterr);
		if (r < 0)
			return r;
	}
	r = store_open(&cmd->lconf, &s, reterr);
	if (r < 0)
		return lf_err_set(reterr, LF_E_UNAVAILABLE, r,
				  "state directory %s: %s", cmd->lconf.state_dir,
				  strerror(-r));
	if (!cmd->conf.ipam_delegate) {
		r = cni_network_usable(s, cmd->conf.network, reterr);
		if (r < 0)
			goto out_store;
	}
	r = status_leafnetd(cmd, s, reterr);
	if (r < 0)
		log_debug("STATUS: %d: %s", reterr ? reterr->code : 0, reterr ? reterr->msg : "");
out_store:
	store_free(s);
	return r;
}
