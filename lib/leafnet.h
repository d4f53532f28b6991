/* leafnet.h — the kernel-visible contract: every number and name leafnet
 * leaves in the kernel, for every layer and front end to share.  Nothing
 * here may change without a migration: a new leafnet must still find what
 * an older one made (routes by protocol, veths by prefix and alias).
 *
 * Protocol numbers (rtm_protocol), /etc/iproute2/rt_protos.d/leafnet.conf
 * (packaging/rt_protos.d/) gives them names for `ip route`:
 *   76  workload host routes the attach core adds (addr/32 dev lfn...)
 *   77  routes leafnetd learned over BGP and installed.  Not 186
 *       (RTPROT_BGP): FRR's zebra and others use that one, and leafnetd
 *       flushes its own protocol at start.  Unused by the well-known
 *       daemons (iproute2's rt_protos: 0-4, 8-19, 42-44, 99, 186-192).
 */
#ifndef LEAFNET_LEAFNET_H
#define LEAFNET_LEAFNET_H

#define LEAFNET_RTPROT          76	/* workload host routes */
#define LEAFNET_RTPROT_LEARNED  77	/* routes learned over BGP */

/* Host-side veth names: prefix + 11 hex digits of a hash of the owner. */
#define LEAFNET_IFPREFIX        "lfn"
/* Docker mode: the workload side before libnetwork moves it. */
#define LEAFNET_DOCKER_IFPREFIX "lfd"
/* A detached veth on its way out (CNI DEL renames the workload side, so
 * the workload's ifname is free at once, and deletes the pair later):
 * prefix + the host side's ifindex in hex.  The host side keeps its name
 * (an ADD of the same owner renames it to the tombstone name first) and is
 * put in LEAFNET_TOMB_GROUP, so one RTM_DELLINK of that group deletes
 * every pair on its way out at once.  With our alias, either mark is never
 * a live workload: GC and every DEL's deleter delete whatever carries it. */
#define LEAFNET_TOMB_PREFIX     "lfx"
#define LEAFNET_TOMB_GROUP      0x6c6678u	/* IFLA_GROUP, "lfx" */
/* IFLA_IFALIAS of every host veth: "leafnet:<network>:<ifname>:<container id>" */
#define LEAFNET_ALIAS_TAG       "leafnet:"

/* The workload's gateway when a network names none (on-link; the host
 * answers with proxy ARP / NDP). */
#define LEAFNET_GW4_DEFAULT     "169.254.1.1"
#define LEAFNET_GW6_DEFAULT     "fe80::1"

#endif
