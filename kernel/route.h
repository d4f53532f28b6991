/* route.h — routes over rtnetlink (main table unless told otherwise). */
#ifndef LEAFNET_ROUTE_H
#define LEAFNET_ROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include "prefix.h"

struct nl;
struct nl_batch;
struct nlmsghdr;

#define ROUTE_F_ONLINK  (1U << 0)	/* RTNH_F_ONLINK: gateway is on the link */

struct route {
	struct prefix dst;		/* family is the route's family */
	struct ipaddr gateway;		/* family 0: none (directly connected) */
	int oif;			/* 0: none */
	uint8_t protocol;		/* RTPROT_*, LEAFNET_RTPROT */
	uint8_t scope;			/* RT_SCOPE_*: universe with a gateway, link without */
	uint8_t type;			/* RTN_*; 0 means RTN_UNICAST */
	uint32_t table;			/* 0 means RT_TABLE_MAIN */
	uint32_t priority;		/* metric; 0: kernel default */
	unsigned flags;			/* ROUTE_F_* */
};

/* One next hop of a route: a gateway (family 0: none, the destination
 * is on the link), its device (0: the kernel picks) and ROUTE_F_ONLINK. */
struct route_nh {
	struct ipaddr gw;
	int oif;
	unsigned flags;
};

/* The largest request route_build() makes (ROUTE_NH_MAX next hops). */
#define ROUTE_NH_MAX    16
#define ROUTE_MSG_MAX   1024

/* Build the RTM_NEWROUTE / RTM_DELROUTE request for rt into buf (size
 * bytes, at least ROUTE_MSG_MAX) with nl_msg()'s header.  With n > 1 the
 * next hops are nh[0..n) as one RTA_MULTIPATH (ECMP), with n == 1 nh[0]
 * is the gateway (and its device and flags), with n == 0 rt->gateway is.
 * Next hops are of rt's family.  0 and *ret, or -EINVAL / -EAFNOSUPPORT /
 * -E2BIG. */
int route_build(struct nl *nl, void *buf, size_t size, uint16_t type, uint16_t flags,
		const struct route *rt, const struct route_nh *nh, size_t n,
		struct nlmsghdr **ret);
/* Parse an RTM_NEWROUTE / RTM_DELROUTE message into *ret (dst as the
 * kernel sent it, gateway, oif -- both a multipath route's first hop --,
 * protocol, scope, type, table from RTA_TABLE, priority, ONLINK).
 * -ENOMSG: not a route message; -EBADMSG: malformed. */
int route_parse(const struct nlmsghdr *nlh, struct route *ret);

/* The next hops of a route message: its RTA_GATEWAY / RTA_OIF / ONLINK,
 * or those of every hop of its RTA_MULTIPATH, at most max of them into
 * hops.  Returns how many (0: none), or -EBADMSG. */
int route_parse_hops(const struct nlmsghdr *nlh, struct route_nh *hops, size_t max);

/* add: CREATE|EXCL (-EEXIST when present); replace: CREATE|REPLACE. */
int route_add(struct nl *nl, const struct route *rt);
int route_replace(struct nl *nl, const struct route *rt);
/* The same requests into a batch (nl.h); -ENOBUFS when it is full. */
int route_add_put(struct nl_batch *b, const struct route *rt);
int route_replace_put(struct nl_batch *b, const struct route *rt);
/* -ESRCH when there is no such route. */
int route_del(struct nl *nl, const struct route *rt);
/* Unicast routes of family (AF_UNSPEC: both) in table (0: main) whose
 * protocol is `protocol` (0: any). Multipath routes report their first hop. */
int route_dump(struct nl *nl, int family, uint32_t table, uint8_t protocol,
	       int (*cb)(const struct route *rt, void *arg), void *arg);

#endif
