/* attach.h — the one attach/detach core both plugins call.
 *
 * attach_workload():
 *   1. allocate addresses (ipam_alloc, idempotent per container id+ifname),
 *      unless the request carries addresses from an external IPAM;
 *   2. create a veth pair: host side named attach_host_ifname() (stable for
 *      a container id + ifname, so a retried ADD replaces a half-made pair),
 *      IFLA_IFALIAS "leafnet:<network>:<ifname>:<container id>" so GC can
 *      find its owner, the peer created directly inside the container's netns
 *      under its final name (ifname) and MTU;
 *   3. container side (through a netlink socket opened inside the netns):
 *      up, address /32 (/128, nodad), a permanent
 *      neighbour entry gateway -> host veth MAC, default route via the
 *      gateway onlink (v4 default gateway 169.254.1.1, v6 fe80::1).
 *      A secondary interface — one whose family already has a default
 *      route in the container (any interface, any metric: the first
 *      interface owns it) — gets instead a route to each of its subnets
 *      via the gateway, onlink; a subnet some earlier interface already
 *      routes is left to it;
 *   4. host side: up, proxy_arp=1 and forwarding=1 on the veth, the v6
 *      link-local fe80::1 on the veth for every v6 workload (it lets the host
 *      solicit neighbours while the veth's own link-local is still in DAD),
 *      plus a proxy NDP entry for a global v6 gateway (proxy_ndp=1), each
 *      IPv4 gateway as a /32 on the veth (scope host, so the host answers
 *      the workload's pings to its gateway but never picks the address as
 *      the source of its own traffic; Docker mode: scope global), and the
 *      host route
 *      addr/32 dev veth scope link proto leafnet (LEAFNET_RTPROT).
 *   Any failure undoes everything it did (veth deleted, new allocation
 *   released) and reports what failed with the kernel's extack text.
 *
 * detach_workload() is idempotent: missing netns, interface or allocation
 * are success.  It takes the host veth down (which removes the host routes
 * through it at once), releases the addresses, and deletes the veth by
 * ifindex.  That deletion is 10-30 ms of kernel RCU teardown no one needs to
 * watch: a caller that can do it off its own clock sets
 * DETACH_F_DEFER_DELETE, gets the ifindex back and calls
 * detach_link_delete() when it likes (the CNI binary, single-threaded, does
 * it from a detached child).  Then the workload side is first renamed, down,
 * to a tombstone (LEAFNET_TOMB_PREFIX + host ifindex in hex, with our
 * alias), so when detach_workload() returns the workload's ifname is free in
 * its netns; the host side is only taken down (a rename costs ~0.15 ms), and
 * an ADD of the same container and ifname before the deleter ran renames it
 * to a tombstone then.  A tombstone is never taken for a workload, and
 * attach_gc() deletes every one left behind (its deleter killed), and every
 * downed host side whose owner is gone.  The library never forks.
 */
#ifndef LEAFNET_ATTACH_H
#define LEAFNET_ATTACH_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "prefix.h"
#include "ipam.h"
#include "leafnet.h"

struct store;
struct lf_err;

#define ATTACH_MAX_IPS      IPAM_MAX_ADDRS
#define ATTACH_MTU_DEFAULT  1500

struct attach_ip {
	struct prefix addr;		/* as configured on the workload: /32, /128 */
	struct prefix subnet;		/* the pool it came from (informational) */
	struct ipaddr gateway;		/* workload's default gateway */
	struct prefix block;		/* leafnet IPAM: its block (family 0 if not) */
	bool borrowed;			/* ... another node's (leafnetd's notice) */
};

struct attach_req {
	char container_id[IPAM_ID_MAX];
	char netns[PATH_MAX];		/* path, e.g. /var/run/netns/x, /proc/PID/ns/net */
	char ifname[IFNAMSIZ];		/* inside the container, e.g. eth0 */
	unsigned mtu;			/* 0: ATTACH_MTU_DEFAULT */
	/* The workload interface's MAC (a unicast address); without it a
	 * random locally administered one.  A repeated ADD sets it again. */
	bool has_mac;
	uint8_t mac[6];
	char network[LEAFNET_NAME_MAX];	/* leafnet network; needed unless external_ipam */
	char node[LEAFNET_NAME_MAX];	/* this host (conf node_name) */
	char handle[IPAM_HANDLE_MAX];	/* recorded with the allocation */
	/* IPAM: either leafnet's own (static requests optional) ... */
	size_t n_static;
	struct ipaddr statics[ATTACH_MAX_IPS];
	unsigned families;		/* IPAM_F_*; 0 = every subnet of the network */
	/* ... or addresses that an external IPAM plugin already allocated. */
	bool external_ipam;
	size_t n_ips;
	struct attach_ip ips[ATTACH_MAX_IPS];
	/* leafnetd's control socket (conf control_socket): told about each
	 * new host route (ctl/ctl.h ctl_notify); "" = no notice. */
	char ctl_socket[PATH_MAX];
	/* Docker mode (libnetwork moves the interface itself): the workload
	 * side of the veth is created in the caller's netns, named ifname,
	 * with nothing configured on it (no address, route or neighbour —
	 * Docker configures it after moving it into the sandbox); netns is
	 * "".  The host side gets everything as usual, plus each IPv4
	 * gateway as a /32 on the host veth, so the host answers ARP for the
	 * gateway without needing a route to it. */
	bool peer_in_caller_ns;
};

/* A route made in the container: dst 0/0 (the interface owns its family's
 * default route) or a subnet (a secondary interface), via gateway onlink. */
struct attach_route {
	struct prefix dst;
	struct ipaddr gateway;
};

struct attach_result {
	char host_ifname[IFNAMSIZ];
	char host_mac[18];		/* "aa:bb:cc:dd:ee:ff" */
	char cont_mac[18];
	int  cont_ifindex;
	size_t n_ips;
	struct attach_ip ips[ATTACH_MAX_IPS];
	/* the container routes step 3 made (none in Docker mode) */
	size_t n_routes;
	struct attach_route routes[ATTACH_MAX_IPS];
};

struct detach_req {
	char container_id[IPAM_ID_MAX];
	char netns[PATH_MAX];		/* may be "" (runtimes send none on a late DEL) */
	char ifname[IFNAMSIZ];
	char network[LEAFNET_NAME_MAX];	/* "" with external_ipam */
	bool external_ipam;		/* do not release addresses */
	char ctl_socket[PATH_MAX];	/* as in attach_req; "" = no notice */
	unsigned flags;			/* DETACH_F_* */
};
/* Leave the (downed) host veth for the caller: detach_workload() returns its
 * ifindex (> 0) on success instead of deleting it. */
#define DETACH_F_DEFER_DELETE (1U << 0)
/* With DEFER_DELETE: no tombstone renames, only the host side taken down.
 * For Docker mode, where libnetwork owns the workload side's name and the
 * host name (a hash of the endpoint id) is never asked for again. */
#define DETACH_F_NO_TOMBSTONE (1U << 1)

/* "lfn" + 11 hex digits of a hash of container_id and ifname. */
void attach_host_ifname(const char *container_id, const char *ifname, char ret[IFNAMSIZ]);

int attach_workload(struct store *s, const struct attach_req *req,
		    struct attach_result *ret, struct lf_err *reterr);
/* 0, or with DETACH_F_DEFER_DELETE the ifindex still to delete (0: none);
 * -errno on failure (then nothing is left to delete). */
int detach_workload(struct store *s, const struct detach_req *req, struct lf_err *reterr);
/* Delete the link with ifindex from a netlink socket of its own (so it may
 * run in a forked child).  Already gone is success.  0 or -errno. */
int detach_link_delete(int ifindex);
/* The same for a CNI DEL's pair, and with it every other pair on its way
 * out (LEAFNET_TOMB_GROUP), in one request.  0 or -errno. */
int detach_tombs_delete(int ifindex);

/* Verify the kernel state matches what attach_workload() made for req with
 * the addresses in `expect` (host veth, container interface and its
 * addresses, their MACs when expect->host_mac / cont_mac are not "" or
 * req->has_mac, host route with LEAFNET_RTPROT, and per family either the
 * default route via the gateway on this interface or — a secondary
 * interface — the route to each ips[].subnet via the gateway on it, or on
 * an earlier interface that routes that subnet already).  expect->routes
 * is not read.  0 when all is well, else -ENOENT/-EINVAL with
 * LF_E_CHECK_FAILED naming what is missing. */
int attach_check(const struct attach_req *req, const struct attach_result *expect,
		 struct lf_err *reterr);

/* GC of interfaces: delete every tombstone (see detach_workload()), every
 * host veth named LEAFNET_IFPREFIX* whose alias says it belongs to
 * `network` ("" with external IPAM: matches veths whose alias network is
 * "") and whose owner (container id, ifname) keep() rejects, and every
 * half-made one — a veth of our name with no alias yet, left by an ADD
 * killed between creating the pair and setting its alias — whose name
 * keep_host() rejects (it is attach_host_ifname() of its owner; which
 * network it was for is not known).  Their host routes go with them.
 * Returns the number removed. */
int attach_gc(const char *network,
	      bool (*keep)(const char *container_id, const char *ifname, void *arg),
	      bool (*keep_host)(const char *host_ifname, void *arg),
	      void *arg, struct lf_err *reterr);

/* Test hook: when $LEAFNET_TEST_PAUSE names a step ("after-ipam",
 * "after-veth", "after-addr"), sleep there for $LEAFNET_TEST_PAUSE_MS
 * (default 10000) so a test can SIGKILL the process mid-ADD.  Both are read
 * once per process, at the first call. */
void attach_test_pause(const char *step);

#endif
