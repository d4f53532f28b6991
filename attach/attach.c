/* attach.c — attach_workload(): addresses from IPAM, a veth pair, the
 * container side and the host side of a routed workload
 * (detach_workload() is in attach_detach.c, CHECK and GC in attach_check.c).
 *
 * Kernel work: one netlink socket in the host netns and one opened inside
 * the container's netns, reused for every step, and four round trips in
 * all (nl_batch: several requests per sendmsg, every ACK read back): the
 * veth pair made with both sides up and the host side's alias and
 * proxy_arp/forwarding set; one dump of the container's (small) main table
 * for default routes, which tells a first interface from a secondary one;
 * the container side (lo up, addresses, gateway neighbours, routes); the
 * host side (gateway addresses, host routes last).  The kernel echoes the
 * new veth (NLM_F_ECHO, Linux 6.2+), so no lookup of either side is
 * needed; older kernels get one.  A ledger (what has been allocated,
 * whether the veth exists) lets any failure undo exactly what this call
 * did: deleting the host veth takes its peer, the peer's addresses,
 * neighbours and routes (default or, on a secondary interface, subnet
 * routes), and our host routes with it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>

#include "addr.h"
#include "attach.h"
#include "attach_private.h"
#include "ctl.h"
#include "err.h"
#include "hash.h"
#include "ipam.h"
#include "link.h"
#include "log.h"
#include "neigh.h"
#include "netns.h"
#include "network.h"
#include "nl.h"
#include "route.h"
#include "sysctl.h"

struct attach_ctx {
	struct store *s;
	const struct attach_req *req;
	struct lf_err *reterr;
	struct nl host;			/* socket in our (the host's) netns */
	struct nl cont;			/* socket inside the container's netns */
	int nsfd;
	char host_ifname[IFNAMSIZ];
	uint8_t host_mac[6], cont_mac[6];
	int host_ifindex, cont_ifindex;	/* from the veth's echo, else looked up */
	size_t n_ips;
	struct attach_ip ips[ATTACH_MAX_IPS];
	size_t n_routes;		/* container routes made (they go with the veth) */
	struct attach_route routes[ATTACH_MAX_IPS];
	/* ledger */
	bool alloc_new;			/* addresses allocated by this call */
	bool veth_made;
};

static uint64_t
attach_hash(const char *container_id, const char *ifname)
{
	uint64_t h = HASH_FNV64_INIT;

	h = hash_fnv1a64(h, container_id, strlen(container_id) + 1);	/* with the NUL */
	return hash_fnv1a64(h, ifname, strlen(ifname));
}

void
attach_host_ifname(const char *container_id, const char *ifname, char ret[IFNAMSIZ])
{
	snprintf(ret, IFNAMSIZ, LEAFNET_IFPREFIX "%011llx",
		 (unsigned long long)(attach_hash(container_id, ifname) & 0xfffffffffffULL));
}

/* The hook's settings, read once per process (ADD must not pay a getenv
 * per step; leafnet-docker runs ADDs on several threads). */
static struct {
	char step[32];			/* "": no pause */
	unsigned long ms;
} test_pause;
static pthread_once_t test_pause_once = PTHREAD_ONCE_INIT;

static void
test_pause_read(void)
{
	const char *want = getenv("LEAFNET_TEST_PAUSE");
	const char *ms_s = getenv("LEAFNET_TEST_PAUSE_MS");

	test_pause.ms = 10000;
	if (want == NULL || strlen(want) >= sizeof(test_pause.step))
		return;
	strcpy(test_pause.step, want);
	if (ms_s && *ms_s) {
		char *end;
		unsigned long v = strtoul(ms_s, &end, 10);

		if (*end == '\0')
			test_pause.ms = v;
	}
}

void
attach_test_pause(const char *step)
{
	struct timespec ts;

	(void)pthread_once(&test_pause_once, test_pause_read);
	if (test_pause.step[0] == '\0' || strcmp(test_pause.step, step) != 0)
		return;
	log_debug("test pause at %s for %lu ms", step, test_pause.ms);
	ts.tv_sec = (time_t)(test_pause.ms / 1000);
	ts.tv_nsec = (long)(test_pause.ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
attach_alias(const char *network, const char *ifname, const char *container_id,
	     char *buf, size_t size)
{
	const char *parts[] = { ATTACH_ALIAS_TAG, network, ":", ifname, ":", container_id };
	size_t off = 0;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t n = strlen(parts[i]);

		if (off + n >= size)
			return -ENAMETOOLONG;
		memcpy(buf + off, parts[i], n);
		off += n;
	}
	buf[off] = '\0';
	return 0;
}

int
attach_alias_parse(const char *alias, char *network, size_t network_size,
		   char *ifname, size_t ifname_size, const char **ret_container_id)
{
	const char *p, *c1, *c2;

	if (strncmp(alias, ATTACH_ALIAS_TAG, strlen(ATTACH_ALIAS_TAG)) != 0)
		return -EINVAL;
	p = alias + strlen(ATTACH_ALIAS_TAG);
	c1 = strchr(p, ':');
	if (!c1)
		return -EINVAL;
	c2 = strchr(c1 + 1, ':');		/* ifnames never contain ':' */
	if (!c2 || c2 == c1 + 1 || c2[1] == '\0')
		return -EINVAL;
	if ((size_t)(c1 - p) >= network_size || (size_t)(c2 - c1 - 1) >= ifname_size)
		return -EINVAL;
	memcpy(network, p, (size_t)(c1 - p));
	network[c1 - p] = '\0';
	memcpy(ifname, c1 + 1, (size_t)(c2 - c1 - 1));
	ifname[c2 - c1 - 1] = '\0';
	*ret_container_id = c2 + 1;
	return 0;
}

static bool
attach_mac_valid(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !(mac[0] & 0x01) && memcmp(mac, zero, 6) != 0;	/* unicast, not 0 */
}

bool
attach_ifname_valid(const char *ifname)
{
	size_t n = ifname ? strlen(ifname) : 0;

	if (n == 0 || n >= IFNAMSIZ || !strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return false;
	/* what the kernel's dev_valid_name() refuses */
	return strpbrk(ifname, "/: \t\n\r\v\f") == NULL;
}

static int
attach_validate(const struct attach_req *req, struct lf_err *reterr)
{
	char alias[LINK_ALIAS_MAX];

	if (!req->container_id[0])
		return lf_err_set_field(reterr, LF_E_INVALID, LF_F_CONTAINER_ID, -EINVAL,
					"container id is empty");
	if (!req->netns[0] && !req->peer_in_caller_ns)
		return lf_err_set_field(reterr, LF_E_INVALID, LF_F_NETNS, -EINVAL,
					"network namespace path is empty");
	if (!attach_ifname_valid(req->ifname))
		return lf_err_set_field(reterr, LF_E_INVALID, LF_F_IFNAME, -EINVAL,
					"interface name \"%s\" is not a valid Linux interface "
					"name (1-15 characters, no '/', ':' or spaces)",
					req->ifname);
	if (!req->external_ipam && !req->network[0])
		return lf_err_set_field(reterr, LF_E_INVALID, LF_F_NETWORK, -EINVAL,
					"no leafnet network named (config \"network\")");
	if (req->external_ipam && req->n_ips == 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "the IPAM plugin returned no addresses");
	if (req->n_ips > ATTACH_MAX_IPS || req->n_static > ATTACH_MAX_IPS)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "at most %d addresses per interface", ATTACH_MAX_IPS);
	if (req->has_mac && !attach_mac_valid(req->mac))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "mac %02x:%02x:%02x:%02x:%02x:%02x is not a unicast address",
				  req->mac[0], req->mac[1], req->mac[2], req->mac[3],
				  req->mac[4], req->mac[5]);
	if (req->mtu && (req->mtu < 68 || req->mtu > 65535))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "mtu %u is out of range (68-65535)", req->mtu);
	if (attach_alias(req->network, req->ifname, req->container_id,
			 alias, sizeof(alias)) < 0)
		return lf_err_set_field(reterr, LF_E_INVALID, LF_F_CONTAINER_ID, -ENAMETOOLONG,
					"container id is too long (%zu characters; network "
					"name, interface name and container id must fit in %d)",
					strlen(req->container_id), LINK_ALIAS_MAX - 1 -
					(int)strlen(ATTACH_ALIAS_TAG) - 2);
	return 0;
}

static void
attach_ip_set(struct attach_ip *ip, const struct ipaddr *a, const struct prefix *subnet,
	      const struct ipaddr *gw)
{
	memset(ip, 0, sizeof(*ip));
	prefix_from_addr(a, &ip->addr);
	if (subnet)
		ip->subnet = *subnet;
	network_gateway(a->family, gw, &ip->gateway);
}

/* Step 1: the addresses, from our IPAM or from the request. */
static int
attach_addresses(struct attach_ctx *c)
{
	const struct attach_req *req = c->req;
	struct ipam_addr got[ATTACH_MAX_IPS];
	struct ipam_req ir;
	size_t n = 0;
	bool had = false;
	int r;

	if (req->external_ipam) {
		for (size_t i = 0; i < req->n_ips; i++) {
			const struct attach_ip *in = &req->ips[i];

			if (in->addr.addr.family != AF_INET && in->addr.addr.family != AF_INET6)
				return lf_err_set(c->reterr, LF_E_INVALID, -EINVAL,
						  "address %zu from the IPAM plugin has no family", i);
			attach_ip_set(&c->ips[i], &in->addr.addr, &in->subnet, &in->gateway);
		}
		c->n_ips = req->n_ips;
		return 0;
	}

	memset(&ir, 0, sizeof(ir));
	ir.network = req->network;
	ir.node = req->node;
	snprintf(ir.owner.container_id, sizeof(ir.owner.container_id), "%s", req->container_id);
	snprintf(ir.owner.ifname, sizeof(ir.owner.ifname), "%s", req->ifname);
	snprintf(ir.owner.handle, sizeof(ir.owner.handle), "%s", req->handle);
	ir.families = req->families;
	ir.n_static = req->n_static;
	memcpy(ir.statics, req->statics, sizeof(ir.statics));
	/* Know whether the allocation predates us, so a failure releases only
	 * what this call allocated (a retried ADD keeps its addresses). */
	r = ipam_alloc_ex(c->s, &ir, got, ATTACH_MAX_IPS, &n, &had, c->reterr);
	if (r < 0)
		return r;
	c->alloc_new = !had;
	if (n == 0)
		return lf_err_set(c->reterr, LF_E_POOL_EXHAUSTED, -ENOSPC,
				  "network %s gave no address", req->network);
	for (size_t i = 0; i < n && i < ATTACH_MAX_IPS; i++) {
		attach_ip_set(&c->ips[i], &got[i].addr, &got[i].subnet, &got[i].gateway);
		c->ips[i].block = got[i].block;
		c->ips[i].borrowed = got[i].borrowed;
	}
	c->n_ips = n;
	return 0;
}

static void
random_mac(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6) {
		/* no entropy source at all: fall back to a time-based one */
		uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 24);

		memcpy(mac, &t, 6);
	}
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);	/* unicast, locally administered */
}

/* The kernel's echo of the new veth: its index and its peer's. */
static int
veth_echo_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct attach_ctx *c = arg;
	struct link_info li;

	if (link_parse(nlh, &li) < 0 || strcmp(li.ifname, c->host_ifname) != 0)
		return 0;
	c->host_ifindex = li.ifindex;
	c->cont_ifindex = li.peer_ifindex;
	return 0;
}

/* The pair and, in the same round trip, the host side's alias (the kernel
 * ignores IFLA_IFALIAS when it creates a link: set it right away, so GC
 * can tell whose veth this is even if we die now) and, for IPv4,
 * net.ipv4.conf.<veth>.proxy_arp=1 and forwarding=1.  The error is the
 * first failed request's; *ret_create tells whether the pair was made. */
static int
attach_veth_batch(struct attach_ctx *c, const struct link_veth *v, const char *alias,
		  bool *ret_create)
{
	struct link_change ch = { .alias = alias };
	struct nl_batch b;
	bool v4 = false;
	int r;

	for (size_t i = 0; i < c->n_ips; i++)
		v4 |= c->ips[i].addr.addr.family == AF_INET;
	if (v4) {
		ch.n_v4conf = 2;
		ch.v4conf[0].id = IPV4_DEVCONF_PROXY_ARP;
		ch.v4conf[0].val = 1;
		ch.v4conf[1].id = IPV4_DEVCONF_FORWARDING;
		ch.v4conf[1].val = 1;
	}
	c->host_ifindex = c->cont_ifindex = 0;
	nl_batch_init(&b, &c->host, veth_echo_cb, c);
	if ((r = link_veth_put(&b, v)) < 0 ||
	    (r = link_change_put(&b, 0, c->host_ifname, &ch)) < 0)
		return r;
	r = nl_batch_send(&b);
	*ret_create = b.err[0] == 0;
	return r;
}

/* An ADD finds a veth of our name: a retried ADD of the same container
 * and ifname left it, or the container's DEL did (it keeps the host name
 * until its deleter runs: a re-attach right after DEL).  A DEL'd one is
 * down and its workload side already a tombstone: renaming the host side
 * to one too frees the name at the cost of a rename, and the DEL's deleter
 * (or GC) deletes the pair.  Anything else is deleted now (its peer may
 * hold the ifname in the container).  0: try the create again;
 * *ret_renamed is the index of the veth renamed (0: none was). */
static int
attach_veth_leftover(struct attach_ctx *c, const char *alias, int *ret_renamed)
{
	struct link_info li;
	int r;

	*ret_renamed = 0;
	r = link_get(&c->host, c->host_ifname, 0, &li);
	if (r == -ENODEV)
		return 0;		/* a concurrent DEL, GC or reaper got there */
	if (r < 0)
		return nl_fail(&c->host, c->reterr, r, "looking up leftover veth %s",
			       c->host_ifname);
	if (!(li.flags & IFF_UP) && strcmp(li.kind, "veth") == 0) {
		char tomb[IFNAMSIZ];
		struct link_change ch = { .ifname = tomb, .alias = alias,
					  .group = LEAFNET_TOMB_GROUP };

		snprintf(tomb, sizeof(tomb), LEAFNET_TOMB_PREFIX "%x", (unsigned)li.ifindex);
		r = link_change(&c->host, li.ifindex, NULL, &ch);
		if (r == 0 || r == -ENODEV) {
			log_debug("attach: veth %s of a detached workload renamed to %s",
				  c->host_ifname, tomb);
			*ret_renamed = r == 0 ? li.ifindex : 0;
			return 0;
		}
	}
	r = link_del(&c->host, NULL, li.ifindex);
	if (r < 0 && r != -ENODEV)
		return nl_fail(&c->host, c->reterr, r, "deleting leftover veth %s",
			       c->host_ifname);
	if (r == 0)
		log_debug("attach: deleted leftover veth %s", c->host_ifname);
	return 0;
}

/* Step 2: the veth pair, peer born in the container's netns under its
 * final name, both sides up from the start. */
static int
attach_veth(struct attach_ctx *c)
{
	const struct attach_req *req = c->req;
	char alias[LINK_ALIAS_MAX];
	struct link_veth v = { 0 };
	bool made = false;
	int r, renamed = 0;

	(void)attach_alias(req->network, req->ifname, req->container_id, alias, sizeof(alias));
	random_mac(c->host_mac);
	if (req->has_mac)
		memcpy(c->cont_mac, req->mac, 6);
	else
		random_mac(c->cont_mac);
	/* Born in the container's netns under its final name: renaming it
	 * there afterwards would cost the kernel a second round of sysfs and
	 * notifier work (~0.15 ms of an ADD).  The host side is up from the
	 * start (a request less); the workload side cannot be (veth opens a
	 * side only once its peer is linked: -ENOTCONN), step 3 brings it up. */
	v.ifname = c->host_ifname;
	v.peer_ifname = req->ifname;
	v.peer_nsfd = c->nsfd;
	v.mtu = req->mtu ? req->mtu : ATTACH_MTU_DEFAULT;
	v.mac = c->host_mac;
	v.peer_mac = c->cont_mac;
	v.up = true;
	v.echo = true;
	/* One queue each way, as the kernel ends up using anyway: left to
	 * it, a veth is made with a queue per CPU and then cut down to one,
	 * which costs an expedited RCU grace period and sysfs churn while
	 * holding the RTNL (~0.1 ms of an ADD). */
	v.n_queues = 1;
	r = attach_veth_batch(c, &v, alias, &made);
	if (!made && r == -EEXIST) {
		/* Either a veth with our name is left (see above), or the
		 * container has an interface called ifname.  Asked only now,
		 * not before every create: the common case pays no extra
		 * round trip. */
		r = attach_veth_leftover(c, alias, &renamed);
		if (r < 0)
			return r;
		r = attach_veth_batch(c, &v, alias, &made);
		if (!made && r == -EEXIST && renamed > 0) {
			/* its workload side still held ifname in the container
			 * (an ADD killed before it brought the veth up): delete
			 * the pair now */
			r = link_del(&c->host, NULL, renamed);
			if (r < 0 && r != -ENODEV)
				return nl_fail(&c->host, c->reterr, r,
					       "deleting leftover veth %s", c->host_ifname);
			r = attach_veth_batch(c, &v, alias, &made);
		}
	}
	if (made)
		c->veth_made = true;
	if (!made && r == -EEXIST)
		return lf_err_set_field(c->reterr, LF_E_EXISTS, LF_F_IFNAME, r,
					"interface %s already exists in the container's netns "
					"%s; pick another interface name or remove it",
					req->ifname, req->netns);
	if (!made)
		return nl_fail(&c->host, c->reterr, r, "creating veth %s (peer %s in %s)",
			       c->host_ifname, req->ifname, req->netns);
	if (r < 0)
		return nl_fail(&c->host, c->reterr, r, "setting alias%s of veth %s",
			       c->n_ips ? " and proxy_arp/forwarding" : "", c->host_ifname);
	return 0;
}

static int
attach_cont_fail(struct attach_ctx *c, int r, const char *what, const struct prefix *p)
{
	char s[PREFIX_STRLEN];

	return nl_fail(&c->cont, c->reterr, r, "container %s: %s %s on %s", c->req->netns,
		       what, p ? prefix_fmt(p, s, sizeof(s)) : "", c->req->ifname);
}

/* Families (IPAM_F_*) that already have a default route in the container:
 * the interface that made it first owns it, whatever its metric. */
static int
cont_default_cb(const struct route *rt, void *arg)
{
	unsigned *fams = arg;

	if (rt->dst.len == 0)
		*fams |= rt->dst.addr.family == AF_INET ? IPAM_F_V4 : IPAM_F_V6;
	return 0;
}

static bool
cont_route_made(const struct attach_ctx *c, const struct prefix *dst)
{
	for (size_t i = 0; i < c->n_routes; i++)
		if (prefix_eq(&c->routes[i].dst, dst))
			return true;
	return false;
}

/* The container route for ip: its family's default route via the gateway,
 * or -- on a secondary interface, whose family has a default route already --
 * a route to ip's subnet via the gateway, so traffic to that network
 * leaves through this interface.  -EINVAL (with the error set) when no
 * subnet is known for a secondary interface. */
static int
attach_cont_route_for(struct attach_ctx *c, const struct attach_ip *ip, unsigned have_default,
		      struct route *rt)
{
	int fam = ip->addr.addr.family;
	unsigned fbit = fam == AF_INET ? IPAM_F_V4 : IPAM_F_V6;
	char s[PREFIX_STRLEN];

	memset(rt, 0, sizeof(*rt));
	rt->gateway = ip->gateway;
	rt->oif = c->cont_ifindex;
	rt->protocol = RTPROT_BOOT;
	rt->scope = RT_SCOPE_UNIVERSE;
	rt->flags = ROUTE_F_ONLINK;
	if (!(have_default & fbit)) {
		rt->dst.addr.family = fam;
		return 0;
	}
	if (ip->subnet.addr.family != fam)
		return lf_err_set(c->reterr, LF_E_INVALID, -EINVAL,
				  "container %s already has an IPv%c default route "
				  "and no subnet is known for %s, so %s cannot be "
				  "routed as a secondary interface",
				  c->req->netns, fam == AF_INET ? '4' : '6',
				  prefix_fmt(&ip->addr, s, sizeof(s)), c->req->ifname);
	rt->dst = ip->subnet;
	prefix_mask(&rt->dst);
	return 0;
}

static void
attach_cont_route_made(struct attach_ctx *c, const struct route *rt)
{
	if (c->n_routes < ATTACH_MAX_IPS) {
		c->routes[c->n_routes].dst = rt->dst;
		c->routes[c->n_routes].gateway = rt->gateway;
		c->n_routes++;
	}
}

/* The container route for ip, one request at a time: when the batched
 * one found its route taken.  *have_default gains the family when the
 * default route turns out to be taken. */
static int
attach_cont_route(struct attach_ctx *c, const struct attach_ip *ip, unsigned *have_default)
{
	unsigned fbit = ip->addr.addr.family == AF_INET ? IPAM_F_V4 : IPAM_F_V6;
	char s[PREFIX_STRLEN], g[IPADDR_STRLEN];
	struct route rt;
	int r;

	for (;;) {
		r = attach_cont_route_for(c, ip, *have_default, &rt);
		if (r < 0)
			return r;
		if (cont_route_made(c, &rt.dst))
			return 0;	/* an earlier address of ours made it */
		r = route_add(&c->cont, &rt);
		if (r != -EEXIST)
			break;
		if (*have_default & fbit) {
			/* an earlier interface routes this subnet: it keeps it */
			log_debug("attach: %s: route to %s exists already, left to it",
				  c->req->ifname, prefix_fmt(&rt.dst, s, sizeof(s)));
			return 0;
		}
		/* a default route appeared since we looked (a concurrent ADD
		 * of another interface): this one is secondary after all */
		*have_default |= fbit;
	}
	if (r < 0)
		return nl_fail(&c->cont, c->reterr, r, "container %s: adding route %s via %s on %s",
			       c->req->netns, prefix_fmt(&rt.dst, s, sizeof(s)),
			       ipaddr_fmt(&rt.gateway, g, sizeof(g)), c->req->ifname);
	attach_cont_route_made(c, &rt);
	return 0;
}

/* Step 3: the container side: it and lo up, the addresses, a permanent
 * neighbour for each gateway and the routes, in
 * one round trip after the dump that tells whether this is the
 * container's first interface of each family or a secondary one (Multus'
 * net1, a second leafnet network). */
static int
attach_container(struct attach_ctx *c)
{
	const struct attach_req *req = c->req;
	struct link_change up = { .up = true };
	enum { K_UP, K_LO, K_ADDR, K_NEIGH, K_ROUTE } kind[NL_BATCH_REQS];
	size_t what[NL_BATCH_REQS];
	struct route rts[ATTACH_MAX_IPS];
	bool batched[ATTACH_MAX_IPS] = { false };
	unsigned fams = 0, have_default = 0;
	struct nl_batch b;
	size_t k = 0;
	int r;

	if (c->cont_ifindex <= 0) {
		/* no echo from the kernel (before 6.2): look the peer up */
		struct link_info li;

		r = link_get(&c->cont, req->ifname, 0, &li);
		if (r < 0)
			return nl_fail(&c->cont, c->reterr, r,
				       "container %s: looking up new veth peer %s",
				       req->netns, req->ifname);
		c->cont_ifindex = li.ifindex;
		c->host_ifindex = li.peer_ifindex;	/* IFLA_LINK: the host side's index */
	}
	for (size_t i = 0; i < c->n_ips; i++)
		fams |= c->ips[i].addr.addr.family == AF_INET ? IPAM_F_V4 : IPAM_F_V6;
	r = route_dump(&c->cont, fams == IPAM_F_V4 ? AF_INET : fams == IPAM_F_V6 ? AF_INET6
						: AF_UNSPEC, 0, 0, cont_default_cb, &have_default);
	if (r < 0)
		return nl_fail(&c->cont, c->reterr, r, "container %s: listing routes", req->netns);

	nl_batch_init(&b, &c->cont, NULL, NULL);
	r = link_change_put(&b, c->cont_ifindex, NULL, &up);
	kind[k] = K_UP;
	what[k++] = 0;
	if (r == 0)
		r = link_change_put(&b, 1, NULL, &up);	/* lo is always ifindex 1 */
	kind[k] = K_LO;
	what[k++] = 0;
	for (size_t i = 0; r == 0 && i < c->n_ips; i++) {
		r = addr_add_put(&b, c->cont_ifindex, &c->ips[i].addr, ADDR_F_NODAD);
		kind[k] = K_ADDR;
		what[k++] = i;
	}
	for (size_t i = 0; r == 0 && i < c->n_ips; i++) {
		r = neigh_set_permanent_put(&b, c->cont_ifindex, &c->ips[i].gateway, c->host_mac);
		kind[k] = K_NEIGH;
		what[k++] = i;
	}
	for (size_t i = 0; r == 0 && i < c->n_ips; i++) {
		bool dup = false;

		r = attach_cont_route_for(c, &c->ips[i], have_default, &rts[i]);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			dup |= batched[j] && prefix_eq(&rts[j].dst, &rts[i].dst);
		if (dup)
			continue;	/* an earlier address of ours makes it */
		r = route_add_put(&b, &rts[i]);
		batched[i] = true;
		kind[k] = K_ROUTE;
		what[k++] = i;
	}
	if (r < 0)
		return lf_err_set(c->reterr, LF_E_INTERNAL, r, "container %s: %s", req->netns,
				  strerror(-r));
	(void)nl_batch_send(&b);
	for (size_t j = 0; j < k; j++) {
		const struct attach_ip *ip = &c->ips[what[j]];
		struct prefix gwp;

		r = b.err[j];
		if (kind[j] == K_ROUTE && r == 0)
			attach_cont_route_made(c, &rts[what[j]]);
		if (r == 0)
			continue;
		switch (kind[j]) {
		case K_UP:
			return nl_fail(&c->cont, c->reterr, r, "container %s: bringing %s up",
				       req->netns, req->ifname);
		case K_LO:
			return nl_fail(&c->cont, c->reterr, r, "container %s: bringing lo up",
				       req->netns);
		case K_ADDR:
			return attach_cont_fail(c, r, "adding address", &ip->addr);
		case K_NEIGH:
			prefix_from_addr(&ip->gateway, &gwp);
			return attach_cont_fail(c, r, "adding permanent neighbour for gateway",
						&gwp);
		case K_ROUTE:
			break;
		}
	}
	/* A route taken since the dump (a concurrent ADD of another interface
	 * made the default route first): the slow way, which tells. */
	for (size_t j = 0; j < k; j++) {
		if (kind[j] != K_ROUTE || b.err[j] == 0)
			continue;
		if (b.err[j] != -EEXIST) {
			char s[PREFIX_STRLEN], g[IPADDR_STRLEN];
			const struct route *rt = &rts[what[j]];

			if (b.failed == (int)j)
				return nl_fail(&c->cont, c->reterr, b.err[j],
					       "container %s: adding route %s via %s on %s",
					       req->netns, prefix_fmt(&rt->dst, s, sizeof(s)),
					       ipaddr_fmt(&rt->gateway, g, sizeof(g)), req->ifname);
			return lf_err_set(c->reterr, LF_E_KERNEL, b.err[j],
					  "container %s: adding route %s via %s on %s: %s",
					  req->netns, prefix_fmt(&rt->dst, s, sizeof(s)),
					  ipaddr_fmt(&rt->gateway, g, sizeof(g)), req->ifname,
					  strerror(-b.err[j]));
		}
		r = attach_cont_route(c, &c->ips[what[j]], &have_default);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Step 3, Docker mode: the workload side stays here, unconfigured; only
 * learn its index, MAC and the host side's index. */
static int
attach_peer_local(struct attach_ctx *c)
{
	struct link_info li;
	int r;

	r = link_get(&c->host, c->req->ifname, 0, &li);
	if (r < 0)
		return nl_fail(&c->host, c->reterr, r, "looking up new veth peer %s",
			       c->req->ifname);
	c->cont_ifindex = li.ifindex;
	c->host_ifindex = li.peer_ifindex;
	if (li.has_mac)
		memcpy(c->cont_mac, li.mac, 6);
	return 0;
}

static bool
ipaddr_is_linklocal6(const struct ipaddr *a)
{
	return a->family == AF_INET6 && a->u.b[0] == 0xfe && (a->u.b[1] & 0xc0) == 0x80;
}

/* Step 4: the host side (up, with proxy_arp and forwarding, since step 2),
 * in one round trip: what the workload's gateways need, then the host
 * routes, last, for they make the workload reachable (and leafnetd
 * advertise it).
 *
 * Each IPv4 gateway as a /32 on the host veth.  The host owns the
 * address, so it answers the workload's ARP for it and its pings whatever
 * its routing table says; the same /32 on many veths is fine (each gets its
 * own local route), and it goes with the veth.  A CNI workload's gateway
 * is scope host: still local, but never the source the host picks for its
 * own traffic to the workload (a scope link address on the veth would be,
 * for every host route "dev veth scope link").  Docker mode keeps it
 * global, as it always was.
 *
 * IPv6: a link-local gateway lives on the veth itself.  A global one is
 * answered by proxy NDP, and the veth still gets fe80::1 without DAD:
 * until its own link-local address has finished DAD (a second or more)
 * the host could not send neighbour solicitations to the workload, and v6
 * would be dead. */
static int
attach_host(struct attach_ctx *c)
{
	unsigned gwflags = ADDR_F_REPLACE | (c->req->peer_in_caller_ns ? 0 : ADDR_F_SCOPE_HOST);
	struct prefix pfx[NL_BATCH_REQS];
	const char *what[NL_BATCH_REQS];
	struct ipaddr gw4_done = { 0 }, ll_done = { 0 };
	bool proxy_ndp = false;
	char s[PREFIX_STRLEN];
	struct nl_batch b;
	size_t k = 0;
	int r = 0;

	if (c->host_ifindex <= 0) {
		struct link_info li;

		r = link_get(&c->host, c->host_ifname, 0, &li);
		if (r < 0)
			return nl_fail(&c->host, c->reterr, r, "looking up veth %s",
				       c->host_ifname);
		c->host_ifindex = li.ifindex;
	}
	nl_batch_init(&b, &c->host, NULL, NULL);
	for (size_t i = 0; r == 0 && i < c->n_ips; i++) {
		const struct attach_ip *ip = &c->ips[i];
		struct prefix gw;

		if (ip->gateway.family == AF_INET) {
			if (ipaddr_eq(&ip->gateway, &gw4_done))
				continue;	/* they repeat */
			prefix_from_addr(&ip->gateway, &pfx[k]);
			what[k++] = "adding gateway";
			r = addr_add_put(&b, c->host_ifindex, &pfx[k - 1], gwflags);
			gw4_done = ip->gateway;
			continue;
		}
		if (ip->addr.addr.family != AF_INET6)
			continue;
		if (ipaddr_is_linklocal6(&ip->gateway))
			gw.addr = ip->gateway;
		else
			(void)ipaddr_parse(LEAFNET_GW6_DEFAULT, &gw.addr);
		gw.len = 64;
		if (!ipaddr_eq(&gw.addr, &ll_done)) {
			pfx[k] = gw;
			what[k++] = "adding";
			r = addr_add_put(&b, c->host_ifindex, &gw, ADDR_F_NODAD | ADDR_F_REPLACE);
			ll_done = gw.addr;
		}
		if (r < 0 || ipaddr_is_linklocal6(&ip->gateway))
			continue;
		if (!proxy_ndp) {
			/* no netlink for it (IPv6 devconf is read-only there) */
			r = sysctl_net_if("ipv6", c->host_ifname, "proxy_ndp", "1");
			if (r < 0)
				return lf_err_set(c->reterr, LF_E_KERNEL, r,
						  "setting net.ipv6.conf.%s.proxy_ndp=1: %s",
						  c->host_ifname, strerror(-r));
			proxy_ndp = true;
		}
		prefix_from_addr(&ip->gateway, &pfx[k]);
		what[k++] = "adding proxy NDP entry for";
		r = neigh_add_proxy_put(&b, c->host_ifindex, &ip->gateway);
	}
	for (size_t i = 0; r == 0 && i < c->n_ips; i++) {
		struct route rt = { 0 };

		rt.dst = c->ips[i].addr;
		rt.oif = c->host_ifindex;
		rt.protocol = LEAFNET_RTPROT;
		rt.scope = RT_SCOPE_LINK;
		pfx[k] = rt.dst;
		what[k++] = "adding host route";
		r = route_replace_put(&b, &rt);
	}
	if (r < 0)
		return lf_err_set(c->reterr, LF_E_INTERNAL, r, "veth %s: %s", c->host_ifname,
				  strerror(-r));
	r = nl_batch_send(&b);
	if (r < 0 && b.failed >= 0 && (size_t)b.failed < k)
		return nl_fail(&c->host, c->reterr, r, "%s %s on veth %s", what[b.failed],
			       prefix_fmt(&pfx[b.failed], s, sizeof(s)), c->host_ifname);
	if (r < 0)
		return nl_fail(&c->host, c->reterr, r, "veth %s", c->host_ifname);
	return 0;
}

static void
attach_rollback(struct attach_ctx *c)
{
	int r;

	if (c->veth_made) {
		r = link_del(&c->host, c->host_ifname, 0);
		if (r < 0 && r != -ENODEV)
			log_debug("attach rollback: deleting %s: %s", c->host_ifname, strerror(-r));
	}
	if (c->alloc_new) {
		r = ipam_release(c->s, c->req->network, c->req->container_id,
				 c->req->ifname, NULL);
		if (r < 0)
			log_debug("attach rollback: releasing addresses of %s/%s: %s",
				  c->req->container_id, c->req->ifname, strerror(-r));
	}
}

int
attach_workload(struct store *s, const struct attach_req *req,
		struct attach_result *ret, struct lf_err *reterr)
{
	struct attach_ctx c = { .s = s, .req = req, .reterr = reterr, .nsfd = -1 };
	int r;

	r = attach_validate(req, reterr);
	if (r < 0)
		return r;
	attach_host_ifname(req->container_id, req->ifname, c.host_ifname);

	if (req->peer_in_caller_ns) {
		r = nl_open(&c.host);
		if (r < 0)
			return lf_err_set(reterr, LF_E_KERNEL, r, "opening a netlink socket: %s",
					  strerror(-r));
	} else {
		c.nsfd = netns_open(req->netns);
		if (c.nsfd < 0)
			return lf_err_set_field(reterr, LF_E_INVALID, LF_F_NETNS, c.nsfd,
						"network namespace %s: %s", req->netns,
						c.nsfd == -EINVAL ? "not a network namespace"
								  : strerror(-c.nsfd));
		r = nl_open(&c.host);
		if (r < 0) {
			lf_err_set(reterr, LF_E_KERNEL, r, "opening a netlink socket: %s",
				   strerror(-r));
			goto out_close_ns;
		}
		r = nl_open_netns_fd(&c.cont, c.nsfd);
		if (r < 0) {
			lf_err_set(reterr, LF_E_KERNEL, r, "opening a netlink socket in %s: %s",
				   req->netns, strerror(-r));
			goto out_close_host;
		}
	}

	r = attach_addresses(&c);
	if (r < 0)
		goto out_close_cont;
	attach_test_pause("after-ipam");
	r = attach_veth(&c);
	if (r < 0)
		goto out_rollback;
	attach_test_pause("after-veth");
	r = req->peer_in_caller_ns ? attach_peer_local(&c) : attach_container(&c);
	if (r < 0)
		goto out_rollback;
	attach_test_pause("after-addr");
	r = attach_host(&c);
	if (r < 0)
		goto out_rollback;

	memset(ret, 0, sizeof(*ret));
	memcpy(ret->host_ifname, c.host_ifname, IFNAMSIZ);
	link_mac_fmt(c.host_mac, ret->host_mac, sizeof(ret->host_mac));
	link_mac_fmt(c.cont_mac, ret->cont_mac, sizeof(ret->cont_mac));
	ret->cont_ifindex = c.cont_ifindex;
	ret->n_ips = c.n_ips;
	memcpy(ret->ips, c.ips, sizeof(ret->ips));
	ret->n_routes = c.n_routes;
	memcpy(ret->routes, c.routes, sizeof(ret->routes));
	/* leafnetd's fast path; its route monitor sees the routes anyway */
	for (size_t i = 0; i < c.n_ips; i++)
		(void)ctl_notify(req->ctl_socket, "add", &c.ips[i].addr,
				 c.ips[i].block.addr.family ? &c.ips[i].block : NULL,
				 c.ips[i].borrowed);
	r = 0;
	goto out_close_cont;

out_rollback:
	attach_rollback(&c);
out_close_cont:
	nl_close(&c.cont);
out_close_host:
	nl_close(&c.host);
out_close_ns:
	if (c.nsfd >= 0)
		close(c.nsfd);
	return r;
}
