/* route.h — routes over rtnetlink (main table unless told otherwise). */
#ifndef LEAFNET_ROUTE_H
#define LEAFNET_ROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include "prefix.h"

struct nl;

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

/* add: CREATE|EXCL (-EEXIST when present); replace: CREATE|REPLACE. */
int route_add(struct nl *nl, const struct route *rt);
int route_replace(struct nl *nl, const struct route *rt);
/* -ESRCH when there is no such route. */
int route_del(struct nl *nl, const struct route *rt);
/* Unicast routes of family (AF_UNSPEC: both) in table (0: main) whose
 * protocol is `protocol` (0: any). Multipath routes report their first hop. */
int route_dump(struct nl *nl, int family, uint32_t table, uint8_t protocol,
	       int (*cb)(const struct route *rt, void *arg), void *arg);

#endif
