/* config.c — the configuration leafnetd runs with: the config file plus
 * the BGP model in the store (bgpconf/bgpconf.h), normalized into one
 * struct ld_conf.  A reload builds a fresh struct, validates it and only
 * then hands it to the BGP side; a bad one leaves the running one alone.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "addr.h"
#include "bgpconf.h"
#include "dbuf.h"
#include "err.h"
#include "json.h"
#include "ld_local.h"
#include "log.h"
#include "nl.h"
#include "store.h"

#define LD_CONNECT_RETRY 5	/* seconds; a DC fabric wants it short */

static int __attribute__((format(printf, 3, 4)))
conf_err(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A store read's error: the message, then the store's own words (the etcd
 * endpoint and what it said), when there are any. */
static const char *
store_err_text(const struct lf_err *e, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s", e->msg, e->details[0] ? " (" : "", e->details,
		 e->details[0] ? ")" : "");
	return buf;
}

const char *
ld_peer_type_name(enum peer_type t)
{
	switch (t) {
	case PEER_TYPE_MESH:	return "node-to-node mesh";
	case PEER_TYPE_GLOBAL:	return "global";
	case PEER_TYPE_NODE:	return "node specific";
	case PEER_TYPE_RR:	return "route reflector";
	}
	return "?";
}

const char *
ld_peer_role_name(enum peer_type t, bool rr_client)
{
	if (rr_client)
		return "rr-client";
	switch (t) {
	case PEER_TYPE_RR:	return "rr";
	case PEER_TYPE_MESH:	return "mesh";
	case PEER_TYPE_GLOBAL:
	case PEER_TYPE_NODE:	break;
	}
	return "tor";
}

const char *
ld_peer_import_name(enum peer_import i)
{
	return i == PEER_IMPORT_ALL ? "all" : i == PEER_IMPORT_DEFAULT ? "default" : "none";
}

/* The first global (scope universe) address of family on any interface. */
struct first_addr {
	int family;
	struct ipaddr found;
};

static int
first_addr_cb(const struct addr_info *ai, void *arg)
{
	struct first_addr *fa = arg;

	if (fa->found.family || ai->addr.addr.family != fa->family ||
	    ai->scope != RT_SCOPE_UNIVERSE ||
	    (ai->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED | IFA_F_DEPRECATED)))
		return 0;
	fa->found = ai->addr.addr;
	return 0;
}

static void
host_first_addr(int family, struct ipaddr *ret)
{
	struct first_addr fa = { .family = family };
	struct nl nl;

	memset(ret, 0, sizeof(*ret));
	if (nl_open(&nl) < 0)
		return;
	(void)addr_dump(&nl, family, 0, first_addr_cb, &fa);
	nl_close(&nl);
	*ret = fa.found;
}

/* Append a peer unless its address is already there (first one wins:
 * node-specific before global before mesh). */
static int
peer_push(struct ld_conf *c, size_t *cap, const struct peer_conf *p)
{
	char a[IPADDR_STRLEN];

	for (size_t i = 0; i < c->n_peers; i++)
		if (ipaddr_eq(&c->peers[i].addr, &p->addr)) {
			log_warnx("peer %s is configured as %s and as %s peer; using the %s one",
				  ipaddr_fmt(&p->addr, a, sizeof(a)),
				  ld_peer_type_name(c->peers[i].type),
				  ld_peer_type_name(p->type), ld_peer_type_name(c->peers[i].type));
			return 0;
		}
	if (GROW(c->peers, *cap, c->n_peers + 1) < 0)
		return -ENOMEM;
	c->peers[c->n_peers++] = *p;
	return 0;
}

static enum peer_import
import_of(enum bgpconf_import i)
{
	return i == BGPCONF_IMPORT_DEFAULT ? PEER_IMPORT_DEFAULT :
	       i == BGPCONF_IMPORT_NONE ? PEER_IMPORT_NONE : PEER_IMPORT_ALL;
}

/* A global or node-specific peer's import policy: its own, else the
 * store's (`netctl bgp import`), else the config file's bgp_import
 * (bgpconf_import_resolve() has the order and why). */
static enum peer_import
peer_import(const struct ld_conf *c, const struct bgp_peer *bp, const struct bgp_config *bc)
{
	return import_of(bgpconf_import_resolve(bp->import, bc->import, c->base.bgp_import));
}

static void
peer_from_store(struct peer_conf *pc, const struct bgp_peer *bp, enum peer_type type,
		enum peer_import import, const struct bgp_config *bc)
{
	memset(pc, 0, sizeof(*pc));
	pc->addr = bp->addr;
	pc->remote_as = bp->as;
	pc->port = bc->listen_port;
	pc->type = type;
	pc->import = import;
	snprintf(pc->password, sizeof(pc->password), "%s", bp->password);
	pc->ttl_security = bp->ttl_security;
	pc->max_prefix = bp->max_prefix;
	pc->max_prefix_warning = bp->max_prefix_warning;
	if (bp->max_prefix && !bp->max_prefix_warning)
		pc->max_prefix_restart = bp->max_prefix_restart ? bp->max_prefix_restart
								: BGPCONF_MAXPFX_RESTART_DEFAULT;
	pc->hold_time = bc->hold_time;
	pc->connect_retry = LD_CONNECT_RETRY;
}

static bool
is_own_addr(const struct ld_conf *c, const struct ipaddr *a)
{
	return ipaddr_eq(a, &c->router_id) || ipaddr_eq(a, &c->nexthop4) ||
	       ipaddr_eq(a, &c->nexthop6);
}

static int
conf_peers(struct ld_conf *c, struct store *s, const struct bgp_config *bc,
	   const struct bgp_node *self, char *err, size_t errsize)
{
	struct bgp_peer *globals = NULL;
	struct bgp_node *nodes = NULL;
	size_t n_globals = 0, n_nodes = 0, cap = 0;
	char et[LF_ERR_MSG_MAX + LF_ERR_DETAILS_MAX + 4];
	struct lf_err e = { 0 };
	struct peer_conf pc;
	bool as_rr;
	int r;

	for (size_t i = 0; self && i < self->n_peers; i++) {
		peer_from_store(&pc, &self->peers[i], PEER_TYPE_NODE,
				peer_import(c, &self->peers[i], bc), bc);
		if ((r = peer_push(c, &cap, &pc)) < 0)
			return conf_err(err, errsize, "out of memory");
	}
	r = bgpconf_peer_list(s, NULL, &globals, &n_globals, &e);
	if (r < 0)
		return conf_err(err, errsize, "reading the global BGP peers: %s",
				store_err_text(&e, et, sizeof(et)));
	for (size_t i = 0; i < n_globals && r >= 0; i++) {
		peer_from_store(&pc, &globals[i], PEER_TYPE_GLOBAL,
				peer_import(c, &globals[i], bc), bc);
		r = peer_push(c, &cap, &pc);
	}
	free(globals);
	if (r < 0)
		return conf_err(err, errsize, "out of memory");
	r = bgpconf_node_list(s, &nodes, &n_nodes, &e);
	if (r < 0)
		return conf_err(err, errsize, "reading the node records: %s",
				store_err_text(&e, et, sizeof(et)));
	/* Route reflection replaces the mesh among the nodes of an AS that
	 * has a reflector node, mesh on or off: each node peers with every
	 * reflector of its AS (as its client), a reflector with every node of
	 * its AS (clients, and the other reflectors as non-clients).  Nodes
	 * of other ASes mesh with us as before, when the mesh is on. */
	as_rr = c->rr;
	for (size_t i = 0; i < n_nodes && !as_rr; i++)
		as_rr = nodes[i].rr && strcmp(nodes[i].name, c->base.node_name) != 0 &&
			(nodes[i].as ? nodes[i].as : bc->default_node_as) == c->local_as;
	for (size_t i = 0; i < n_nodes && r >= 0; i++) {
		const struct bgp_node *n = &nodes[i];
		const struct prefix *ips[2] = { &n->router_ip4, &n->router_ip6 };
		uint32_t as = n->as ? n->as : bc->default_node_as;
		enum peer_type type = PEER_TYPE_MESH;

		if (strcmp(n->name, c->base.node_name) == 0)
			continue;
		if (as_rr && as == c->local_as) {
			if (!c->rr && !n->rr)
				continue;	/* two clients: no session */
			type = PEER_TYPE_RR;
		} else if (!c->node_mesh) {
			continue;
		}
		for (size_t k = 0; k < 2 && r >= 0; k++) {
			struct bgp_peer bp = { 0 };

			if (!ips[k]->addr.family || is_own_addr(c, &ips[k]->addr))
				continue;
			bp.addr = ips[k]->addr;
			bp.as = as;
			peer_from_store(&pc, &bp, type, PEER_IMPORT_ALL, bc);
			pc.rr_client = type == PEER_TYPE_RR && c->rr && !n->rr;
			snprintf(pc.name, sizeof(pc.name), "%s", n->name);
			r = peer_push(c, &cap, &pc);
		}
	}
	bgpconf_nodes_free(nodes, n_nodes);
	return r < 0 ? conf_err(err, errsize, "out of memory") : 0;
}

static int
conf_validate(const struct ld_conf *c, char *err, size_t errsize)
{
	char a[IPADDR_STRLEN];

	if (bgpconf_check_as(c->local_as, "local AS", NULL) < 0)
		return conf_err(err, errsize, "local AS %u is not usable (0 and 23456 are "
				"refused): fix it with 'netctl bgp default-node-as N' or "
				"'netctl bgp create %s --as=N ...'", c->local_as,
				c->base.node_name);
	if (c->n_peers > 0 && c->router_id.family != AF_INET)
		return conf_err(err, errsize, "no router ID: node %s has no IPv4 router IP "
				"and the host has no global IPv4 address; set one with "
				"'netctl bgp create %s --router-ip=IP/LEN ...'",
				c->base.node_name, c->base.node_name);
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct peer_conf *p = &c->peers[i];

		ipaddr_fmt(&p->addr, a, sizeof(a));
		if (bgpconf_check_as(p->remote_as, NULL, NULL) < 0)
			return conf_err(err, errsize, "peer %s: AS %u is not usable",
					a, p->remote_as);
		if (p->hold_time == 1 || p->hold_time == 2)
			return conf_err(err, errsize, "peer %s: hold time %u s (must be 0 "
					"or at least 3)", a, p->hold_time);
		if (p->addr.family == AF_INET6 && !c->nexthop6.family)
			log_warnx("peer %s: no global IPv6 address to use as next hop; "
				  "IPv6 routes will not be advertised correctly", a);
	}
	return 0;
}

int
ld_conf_build(const char *path, struct store *s, struct ld_conf *ret,
	      char *err, size_t errsize)
{
	struct ld_conf c;
	struct bgp_config bc;
	struct bgp_node self;
	char et[LF_ERR_MSG_MAX + LF_ERR_DETAILS_MAX + 4];
	struct lf_err e = { 0 };
	bool have_self = false;
	char a[IPADDR_STRLEN];
	int r;

	memset(&c, 0, sizeof(c));
	r = conf_load(path, &c.base, &e);
	if (r < 0)
		return conf_err(err, errsize, "%s", e.msg);
	/* the revision first: what we read after it is at least that new */
	r = bgpconf_revision(s, &c.revision, &e);
	if (r == 0)
		r = bgpconf_get(s, &bc, &e);
	if (bgpconf_damaged_err(r)) {
		bgpconf_defaults(&bc);	/* damaged: reported below, defaults meanwhile */
		lf_err_clear(&e);
		r = 0;
	}
	if (r < 0)
		return conf_err(err, errsize, "reading the BGP configuration: %s",
				store_err_text(&e, et, sizeof(et)));
	/* damaged BGP records are skipped, loudly, and do not stop us */
	{
		char **bad = NULL;
		size_t n_bad = 0;

		if (bgpconf_damaged(s, &bad, &n_bad, NULL) == 0)
			for (size_t i = 0; i < n_bad; i++)
				log_warnx("damaged BGP record %s", bad[i]);
		store_names_free(bad, n_bad);
	}
	r = bgpconf_node_get(s, c.base.node_name, &self, &e);
	if (bgpconf_damaged_err(r) && r != -ENOENT) {
		lf_err_clear(&e);
		r = -ENOENT;	/* its record is damaged (logged above): as if none */
	}
	if (r == 0)
		have_self = true;
	else if (r != -ENOENT)
		return conf_err(err, errsize, "reading node %s: %s", c.base.node_name,
				store_err_text(&e, et, sizeof(et)));

	c.local_as = have_self && self.as ? self.as : bc.default_node_as;
	c.node_mesh = bc.node_mesh;
	c.rr = have_self && self.rr;
	if (have_self && self.router_ip4.addr.family == AF_INET) {
		c.router_id = self.router_ip4.addr;
	} else {
		host_first_addr(AF_INET, &c.router_id);
		if (c.router_id.family)
			log_info("node %s has no IPv4 router IP; using the host's first "
				 "global IPv4 address %s", c.base.node_name,
				 ipaddr_fmt(&c.router_id, a, sizeof(a)));
	}
	c.nexthop4 = c.router_id;
	if (c.rr)
		c.cluster_id = self.cluster_id.family == AF_INET ? self.cluster_id : c.router_id;
	if (have_self && self.router_ip6.addr.family == AF_INET6) {
		c.nexthop6 = self.router_ip6.addr;
	} else {
		host_first_addr(AF_INET6, &c.nexthop6);
		if (c.nexthop6.family)
			log_info("node %s has no IPv6 router IP; using the host's first "
				 "global IPv6 address %s", c.base.node_name,
				 ipaddr_fmt(&c.nexthop6, a, sizeof(a)));
	}
	if (c.base.bgp_listen_address[0])
		(void)ipaddr_parse(c.base.bgp_listen_address, &c.listen_addr);
	c.listen_port = (uint16_t)c.base.bgp_port;

	r = conf_peers(&c, s, &bc, have_self ? &self : NULL, err, errsize);
	if (have_self)
		bgpconf_node_done(&self);
	if (r == 0)
		r = conf_validate(&c, err, errsize);
	if (r < 0) {
		ld_conf_done(&c);
		return r;
	}
	*ret = c;
	return 0;
}

void
ld_conf_done(struct ld_conf *c)
{
	if (c == NULL)
		return;
	free(c->peers);
	c->peers = NULL;
	c->n_peers = 0;
}

char *
ld_conf_to_json(const struct ld_conf *c)
{
	cJSON *root = cJSON_CreateObject(), *peers, *p;
	char *text = NULL;

	if (root == NULL)
		return NULL;
	cJSON_AddStringToObject(root, "node", c->base.node_name);
	cJSON_AddStringToObject(root, "state_dir", c->base.state_dir);
	cJSON_AddStringToObject(root, "datastore", c->base.datastore);
	cJSON_AddStringToObject(root, "control_socket", c->base.control_socket);
	cJSON_AddNumberToObject(root, "as", c->local_as);
	(void)json_add_addr(root, "router_id", &c->router_id);
	(void)json_add_addr(root, "nexthop4", &c->nexthop4);
	(void)json_add_addr(root, "nexthop6", &c->nexthop6);
	if (c->listen_addr.family)
		(void)json_add_addr(root, "listen_address", &c->listen_addr);
	else
		cJSON_AddStringToObject(root, "listen_address", "any");
	cJSON_AddNumberToObject(root, "listen_port", c->listen_port);
	cJSON_AddBoolToObject(root, "node_mesh", c->node_mesh);
	if (c->rr) {
		cJSON *rr = cJSON_AddObjectToObject(root, "route_reflector");

		if (rr)
			(void)json_add_addr(rr, "cluster_id", &c->cluster_id);
	}
	cJSON_AddNumberToObject(root, "revision", (double)c->revision);
	peers = cJSON_AddArrayToObject(root, "peers");
	for (size_t i = 0; peers && i < c->n_peers; i++) {
		const struct peer_conf *pc = &c->peers[i];

		p = cJSON_CreateObject();
		if (p == NULL || !cJSON_AddItemToArray(peers, p))
			goto out;
		(void)json_add_addr(p, "address", &pc->addr);
		cJSON_AddNumberToObject(p, "as", pc->remote_as);
		cJSON_AddNumberToObject(p, "port", pc->port);
		cJSON_AddStringToObject(p, "type", ld_peer_type_name(pc->type));
		cJSON_AddStringToObject(p, "import", ld_peer_import_name(pc->import));
		cJSON_AddBoolToObject(p, "ibgp", pc->remote_as == c->local_as);
		cJSON_AddBoolToObject(p, "passive", pc->passive);
		cJSON_AddBoolToObject(p, "rr_client", pc->rr_client);
		cJSON_AddBoolToObject(p, "password_set", pc->password[0] != '\0');	/* never the key */
		cJSON_AddNumberToObject(p, "hold_time", pc->hold_time);
		cJSON_AddNumberToObject(p, "connect_retry", pc->connect_retry);
		cJSON_AddNumberToObject(p, "max_prefix", pc->max_prefix);
		if (pc->max_prefix) {
			cJSON_AddStringToObject(p, "max_prefix_action",
						pc->max_prefix_warning ? "warning" : "restart");
			if (!pc->max_prefix_warning)
				cJSON_AddNumberToObject(p, "max_prefix_restart",
							pc->max_prefix_restart);
		}
		cJSON_AddBoolToObject(p, "ttl_security", pc->ttl_security);
		if (pc->name[0])
			cJSON_AddStringToObject(p, "node", pc->name);
	}
	text = cJSON_Print(root);
out:
	cJSON_Delete(root);
	return text;
}

int
ld_conf_check(struct ld *d, bool force, char *reterr, size_t reterrsize)
{
	struct ld_conf nc;
	char err[512];
	uint64_t rev = 0;
	int r;

	if (!force) {
		/* the cheap check: one store_get */
		if (bgpconf_revision(d->store, &rev, NULL) < 0 ||
		    rev == d->conf.revision || rev == d->bad_revision)
			return 0;
		log_info("BGP configuration revision %llu -> %llu: reloading",
			 (unsigned long long)d->conf.revision, (unsigned long long)rev);
	}
	r = ld_conf_build(d->config_path, d->store, &nc, err, sizeof(err));
	if (r < 0) {
		log_warnx("reload refused, keeping the running configuration: %s", err);
		if (!force)
			d->bad_revision = rev;
		if (reterr)
			snprintf(reterr, reterrsize, "%s", err);
		return r;
	}
	return ld_conf_apply(d, &nc, reterr, reterrsize);
}

int
ld_conf_apply(struct ld *d, struct ld_conf *ncp, char *reterr, size_t reterrsize)
{
	struct ld_conf nc = *ncp;
	int r;

	memset(ncp, 0, sizeof(*ncp));		/* ours now */
	if (strcmp(nc.base.state_dir, d->conf.base.state_dir) != 0 ||
	    strcmp(nc.base.control_socket, d->conf.base.control_socket) != 0 ||
	    strcmp(nc.base.node_name, d->conf.base.node_name) != 0 ||
	    strcmp(nc.base.datastore, d->conf.base.datastore) != 0)
		log_warnx("state_dir, datastore, node_name and control_socket changes "
			  "take effect only when leafnetd restarts");
	/* those stay what the running daemon was started with */
	memcpy(nc.base.state_dir, d->conf.base.state_dir, sizeof(nc.base.state_dir));
	memcpy(nc.base.control_socket, d->conf.base.control_socket,
	       sizeof(nc.base.control_socket));
	memcpy(nc.base.node_name, d->conf.base.node_name, sizeof(nc.base.node_name));
	memcpy(nc.base.datastore, d->conf.base.datastore, sizeof(nc.base.datastore));

	r = bgp_configure(d->bgp, &nc);
	if (r < 0) {
		log_warnx("reload refused by the BGP side (%s), keeping the running "
			  "configuration", strerror(-r));
		ld_conf_done(&nc);
		if (reterr)
			snprintf(reterr, reterrsize, "the BGP side refused it: %s",
				 strerror(-r));
		return r;
	}
	if (!ipaddr_eq(&nc.listen_addr, &d->conf.listen_addr) ||
	    nc.listen_port != d->conf.listen_port) {
		listener_close(d);
		if (listener_open(d, &nc.listen_addr, nc.listen_port) < 0)
			log_warnx("no BGP listener until the next reload: only "
				  "outgoing sessions work");
	}
	if (!d->debug)
		log_set_level(nc.base.log_level);
	ld_conf_done(&d->conf);
	d->conf = nc;
	d->bad_revision = 0;
	rib_refresh(d->rib, true);
	log_info("configuration reloaded: AS %u, %zu peers, revision %llu",
		 d->conf.local_as, d->conf.n_peers, (unsigned long long)d->conf.revision);
	return 1;
}
