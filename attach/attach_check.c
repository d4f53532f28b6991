/* attach_check.c — attach_check() (CNI CHECK) and attach_gc() (CNI GC):
 * read the kernel and compare with what attach_workload() makes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#include "addr.h"
#include "attach.h"
#include "attach_private.h"
#include "dbuf.h"
#include "err.h"
#include "link.h"
#include "log.h"
#include "netns.h"
#include "nl.h"
#include "route.h"

struct check_set {
	const struct attach_result *expect;
	int ifindex;
	bool found[ATTACH_MAX_IPS];
	/* container routes, per expected address */
	bool subnet_here[ATTACH_MAX_IPS];	/* subnet via its gateway on ifindex */
	bool subnet_other[ATTACH_MAX_IPS];	/* subnet routed by another interface */
	bool default_other[2];			/* v4, v6 default on another interface */
};

static int
check_addr_cb(const struct addr_info *ai, void *arg)
{
	struct check_set *cs = arg;

	for (size_t i = 0; i < cs->expect->n_ips; i++)
		if (prefix_eq(&ai->addr, &cs->expect->ips[i].addr))
			cs->found[i] = true;
	return 0;
}

/* found[i]: the default route via ips[i]'s gateway on our interface;
 * subnet_here/other[i]: the route to ips[i]'s subnet (a secondary
 * interface's route, or an earlier interface's that ADD left alone). */
static int
check_cont_route_cb(const struct route *rt, void *arg)
{
	struct check_set *cs = arg;

	for (size_t i = 0; i < cs->expect->n_ips; i++) {
		const struct attach_ip *ip = &cs->expect->ips[i];
		struct prefix sub = ip->subnet;

		if (rt->dst.addr.family != ip->addr.addr.family)
			continue;
		if (rt->dst.len == 0 && rt->oif == cs->ifindex &&
		    ipaddr_eq(&rt->gateway, &ip->gateway))
			cs->found[i] = true;
		if (rt->dst.len == 0 && rt->oif != cs->ifindex)
			cs->default_other[rt->dst.addr.family == AF_INET ? 0 : 1] = true;
		if (sub.addr.family != ip->addr.addr.family)
			continue;
		prefix_mask(&sub);
		if (!prefix_eq(&rt->dst, &sub))
			continue;
		if (rt->oif != cs->ifindex)
			cs->subnet_other[i] = true;
		else if (ipaddr_eq(&rt->gateway, &ip->gateway))
			cs->subnet_here[i] = true;
	}
	return 0;
}

static int
check_hostroute_cb(const struct route *rt, void *arg)
{
	struct check_set *cs = arg;

	if (rt->oif != cs->ifindex)
		return 0;
	for (size_t i = 0; i < cs->expect->n_ips; i++)
		if (prefix_eq(&rt->dst, &cs->expect->ips[i].addr))
			cs->found[i] = true;
	return 0;
}

static int __attribute__((format(printf, 3, 4)))
check_fail(struct lf_err *reterr, int r, const char *fmt, ...)
{
	char msg[LF_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return lf_err_set(reterr, LF_E_CHECK_FAILED, r, "%s", msg);
}

/* Does some address of ip i's family have the default route via its
 * gateway on our interface (the interface owns the family's default)? */
static bool
family_has_default(const struct check_set *cs, size_t i)
{
	const struct attach_result *e = cs->expect;

	for (size_t j = 0; j < e->n_ips; j++)
		if (cs->found[j] && e->ips[j].addr.addr.family == e->ips[i].addr.addr.family)
			return true;
	return false;
}

/* The MAC of li (`what` names it) against want, "aa:bb:cc:dd:ee:ff" in
 * either case ("": not checked).  0 or -EINVAL with the mismatch named. */
static int
check_mac(const struct link_info *li, const char *want, const char *what,
	  struct lf_err *reterr)
{
	char have[18];

	if (want[0] == '\0')
		return 0;
	if (!li->has_mac)
		return check_fail(reterr, -EINVAL, "%s has no MAC address, expected %s", what, want);
	link_mac_fmt(li->mac, have, sizeof(have));
	if (strcasecmp(have, want) != 0)
		return check_fail(reterr, -EINVAL, "%s has MAC address %s, expected %s", what,
				  have, want);
	return 0;
}

static int
check_container(const struct attach_req *req, const struct attach_result *expect,
		struct lf_err *reterr)
{
	struct check_set cs = { .expect = expect };
	char s[PREFIX_STRLEN], want_mac[18] = "";
	char what[IFNAMSIZ + PATH_MAX + 32];
	struct link_info li;
	struct nl nl;
	int r;

	r = nl_open_netns(&nl, req->netns);
	if (r < 0)
		return check_fail(reterr, r == -ENOENT ? -ENOENT : r,
				  "network namespace %s cannot be entered: %s", req->netns,
				  strerror(-r));
	r = link_get(&nl, req->ifname, 0, &li);
	if (r < 0) {
		r = check_fail(reterr, -ENOENT, "interface %s is missing in %s", req->ifname,
			   req->netns);
		goto out_close;
	}
	if (!(li.flags & IFF_UP)) {
		r = check_fail(reterr, -EINVAL, "interface %s in %s is down", req->ifname,
			       req->netns);
		goto out_close;
	}
	snprintf(what, sizeof(what), "interface %s in %s", req->ifname, req->netns);
	if (req->has_mac)
		link_mac_fmt(req->mac, want_mac, sizeof(want_mac));
	if ((r = check_mac(&li, want_mac, what, reterr)) < 0 ||
	    (r = check_mac(&li, expect->cont_mac, what, reterr)) < 0)
		goto out_close;
	cs.ifindex = li.ifindex;
	r = addr_dump(&nl, AF_UNSPEC, li.ifindex, check_addr_cb, &cs);
	if (r < 0) {
		nl_fail(&nl, reterr, r, "container %s: listing addresses", req->netns);
		goto out_close;
	}
	for (size_t i = 0; i < expect->n_ips; i++) {
		if (cs.found[i])
			continue;
		r = check_fail(reterr, -ENOENT, "address %s on %s in %s is missing",
			       prefix_fmt(&expect->ips[i].addr, s, sizeof(s)), req->ifname,
			       req->netns);
		goto out_close;
	}
	memset(cs.found, 0, sizeof(cs.found));
	r = route_dump(&nl, AF_UNSPEC, 0, 0, check_cont_route_cb, &cs);
	if (r < 0) {
		nl_fail(&nl, reterr, r, "container %s: listing routes", req->netns);
		goto out_close;
	}
	/* Per family: the default route on this interface (it was the first),
	 * else — a secondary interface — each subnet's route via the gateway
	 * on it, or, while another interface has the default route, on the
	 * earlier interface that already routed the subnet. */
	for (size_t i = 0; i < expect->n_ips; i++) {
		const struct attach_ip *ip = &expect->ips[i];
		bool other = cs.default_other[ip->addr.addr.family == AF_INET ? 0 : 1];
		char gw[IPADDR_STRLEN];

		if (family_has_default(&cs, i) || cs.subnet_here[i] ||
		    (other && cs.subnet_other[i]))
			continue;
		if (ip->subnet.addr.family != ip->addr.addr.family) {
			r = check_fail(reterr, -ENOENT,
				       "default route via %s dev %s in %s is missing",
				       ipaddr_fmt(&ip->gateway, gw, sizeof(gw)), req->ifname,
				       req->netns);
		} else {
			struct prefix sub = ip->subnet;

			prefix_mask(&sub);
			r = check_fail(reterr, -ENOENT,
				       "neither a default route nor a route to %s via %s dev %s "
				       "in %s: the interface's route is missing",
				       prefix_fmt(&sub, s, sizeof(s)),
				       ipaddr_fmt(&ip->gateway, gw, sizeof(gw)), req->ifname,
				       req->netns);
		}
		goto out_close;
	}
	r = 0;
out_close:
	nl_close(&nl);
	return r;
}

static int
check_host(const struct attach_req *req, const struct attach_result *expect,
	   struct lf_err *reterr)
{
	struct check_set cs = { .expect = expect };
	char ifname[IFNAMSIZ], s[PREFIX_STRLEN], what[IFNAMSIZ + 16];
	struct link_info li;
	struct nl nl;
	int r;

	attach_host_ifname(req->container_id, req->ifname, ifname);
	r = nl_open(&nl);
	if (r < 0)
		return lf_err_set(reterr, LF_E_KERNEL, r, "opening a netlink socket: %s",
				  strerror(-r));
	r = link_get(&nl, ifname, 0, &li);
	if (r < 0) {
		r = check_fail(reterr, -ENOENT, "host veth %s is missing", ifname);
		goto out_close;
	}
	if (!(li.flags & IFF_UP)) {
		r = check_fail(reterr, -EINVAL, "host veth %s is down", ifname);
		goto out_close;
	}
	snprintf(what, sizeof(what), "host veth %s", ifname);
	r = check_mac(&li, expect->host_mac, what, reterr);
	if (r < 0)
		goto out_close;
	cs.ifindex = li.ifindex;
	r = route_dump(&nl, AF_UNSPEC, 0, LEAFNET_RTPROT, check_hostroute_cb, &cs);
	if (r < 0) {
		nl_fail(&nl, reterr, r, "listing host routes");
		goto out_close;
	}
	for (size_t i = 0; i < expect->n_ips; i++) {
		if (cs.found[i])
			continue;
		r = check_fail(reterr, -ENOENT, "host route %s via %s proto leafnet is missing",
			       prefix_fmt(&expect->ips[i].addr, s, sizeof(s)), ifname);
		goto out_close;
	}
	r = 0;
out_close:
	nl_close(&nl);
	return r;
}

int
attach_check(const struct attach_req *req, const struct attach_result *expect,
	     struct lf_err *reterr)
{
	int r;

	if (!req->container_id[0])
		return lf_err_set_field(reterr, LF_E_INVALID, LF_F_CONTAINER_ID, -EINVAL,
					"CHECK needs the container id");
	if (!attach_ifname_valid(req->ifname))
		return lf_err_set_field(reterr, LF_E_INVALID, LF_F_IFNAME, -EINVAL,
					"CHECK needs a valid interface name");
	if (!req->netns[0])
		return lf_err_set_field(reterr, LF_E_INVALID, LF_F_NETNS, -EINVAL,
					"CHECK needs the network namespace");
	r = check_host(req, expect, reterr);
	if (r < 0)
		return r;
	return check_container(req, expect, reterr);
}

/* ---- GC ---- */

/* A candidate: a host veth whose alias names an owner of our network, or
 * (container_id NULL) one with no alias at all — an ADD killed between
 * creating the pair and setting its alias (the kernel takes no
 * IFLA_IFALIAS when it creates a link), which only its name can judge. */
struct gc_cand {
	char ifname[IFNAMSIZ];		/* host veth */
	char owner_ifname[IFNAMSIZ];
	char *container_id;		/* NULL: no alias */
	int ifindex;
};

struct gc_list {
	const char *network;
	struct gc_cand *v;
	size_t n, cap;
};

static void
gc_list_clear(struct gc_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].container_id);
	l->n = 0;
}

/* "lfn" + 11 lower-case hex digits: attach_host_ifname()'s form. */
static bool
gc_host_name(const char *ifname)
{
	size_t n = strlen(LEAFNET_IFPREFIX);

	if (strncmp(ifname, LEAFNET_IFPREFIX, n) != 0 || strlen(ifname) != n + 11)
		return false;
	return strspn(ifname + n, "0123456789abcdef") == 11;
}

/* Half-made: our name, a veth, no alias, and the peer in another netns (a
 * Docker-mode pair keeps its peer here until libnetwork moves it: that one
 * is leafnet-docker's). */
static bool
gc_half_made(const struct link_info *li)
{
	return gc_host_name(li->ifname) && li->alias[0] == '\0' &&
	       strcmp(li->kind, "veth") == 0 && li->peer_netnsid >= 0;
}

static int
gc_link_cb(const struct link_info *li, void *arg)
{
	struct gc_list *l = arg;
	char network[LEAFNET_NAME_MAX], owner_if[IFNAMSIZ], want[IFNAMSIZ];
	const char *cid = NULL;
	struct gc_cand *c;

	if (strncmp(li->ifname, LEAFNET_IFPREFIX, strlen(LEAFNET_IFPREFIX)) != 0)
		return 0;
	if (gc_half_made(li)) {
		owner_if[0] = '\0';
	} else {
		if (attach_alias_parse(li->alias, network, sizeof(network), owner_if,
				       sizeof(owner_if), &cid) < 0)
			return 0;	/* not ours, or made by someone else */
		if (strcmp(network, l->network) != 0)
			return 0;
		/* the name must be the one we derive from the owner, or the
		 * alias was written by someone else and we keep our hands off */
		attach_host_ifname(cid, owner_if, want);
		if (strcmp(want, li->ifname) != 0)
			return 0;
	}
	if (GROW(l->v, l->cap, l->n + 1) < 0)
		return -ENOMEM;
	c = &l->v[l->n];
	c->container_id = NULL;
	if (cid && !(c->container_id = strdup(cid)))
		return -ENOMEM;
	memcpy(c->ifname, li->ifname, IFNAMSIZ);
	memcpy(c->owner_ifname, owner_if, IFNAMSIZ);
	c->ifindex = li->ifindex;
	l->n++;
	return 0;
}

/* Delete a half-made veth, if it still is one: an ADD in flight sets its
 * alias one request after creating the pair, and a veth that got its alias
 * meanwhile is judged by it at the next GC.  (Deleting between this look
 * and that request makes the ADD fail cleanly: every later step of it
 * needs the veth.) */
static int
gc_del_half_made(struct nl *nl, const struct gc_cand *c)
{
	struct link_info li;
	int r;

	r = link_get(nl, NULL, c->ifindex, &li);
	if (r < 0)
		return r;
	if (strcmp(li.ifname, c->ifname) != 0 || !gc_half_made(&li))
		return -ENODEV;		/* someone else's now: not ours to judge */
	return link_del(nl, NULL, c->ifindex);
}

int
attach_gc(const char *network,
	  bool (*keep)(const char *container_id, const char *ifname, void *arg),
	  bool (*keep_host)(const char *host_ifname, void *arg),
	  void *arg, struct lf_err *reterr)
{
	struct gc_list l = { .network = network ? network : "" };
	int r, removed = 0, tries = 0;
	struct nl nl;

	r = nl_open(&nl);
	if (r < 0)
		return lf_err_set(reterr, LF_E_KERNEL, r, "opening a netlink socket: %s",
				  strerror(-r));
	/* tombstones first: dead by definition, whatever network */
	r = attach_tomb_reap(&nl);
	if (r < 0) {
		nl_fail(&nl, reterr, r, "deleting detached veths");
		goto out_free;
	}
	removed = r;
	do {
		gc_list_clear(&l);
		r = link_dump(&nl, gc_link_cb, &l);
	} while (r == -EINTR && ++tries < 5);	/* links changed under the dump */
	if (r < 0) {
		nl_fail(&nl, reterr, r, "listing interfaces");
		goto out_free;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct gc_cand *c = &l.v[i];

		if (c->container_id) {
			if (keep && keep(c->container_id, c->owner_ifname, arg))
				continue;
			r = link_del(&nl, c->ifname, 0);
		} else {
			if (keep_host && keep_host(c->ifname, arg))
				continue;
			r = gc_del_half_made(&nl, c);
		}
		if (r == -ENODEV)
			continue;	/* a concurrent DEL got there first */
		if (r < 0) {
			nl_fail(&nl, reterr, r, "deleting stale veth %s (container %s)",
				c->ifname, c->container_id ? c->container_id : "unknown");
			goto out_free;
		}
		log_debug("gc: deleted %s of container %s/%s", c->ifname,
			  c->container_id ? c->container_id : "?", c->owner_ifname);
		removed++;
	}
	r = removed;
out_free:
	gc_list_clear(&l);
	free(l.v);
	nl_close(&nl);
	return r;
}
