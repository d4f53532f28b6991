/* neigh.h — neighbour (ARP / NDP) entries over rtnetlink. */
#ifndef LEAFNET_NEIGH_H
#define LEAFNET_NEIGH_H

#include <stdint.h>
#include "prefix.h"

struct nl;
struct nl_batch;

/* Permanent entry addr -> mac on ifindex (replace semantics: idempotent). */
int neigh_set_permanent(struct nl *nl, int ifindex, const struct ipaddr *addr,
			const uint8_t mac[6]);
/* Proxy entry (NTF_PROXY): answer ARP/NS for addr on ifindex.  For IPv6 it
 * takes effect with net.ipv6.conf.<if>.proxy_ndp=1. */
int neigh_add_proxy(struct nl *nl, int ifindex, const struct ipaddr *addr);
/* The same requests into a batch (nl.h); -ENOBUFS when it is full. */
int neigh_set_permanent_put(struct nl_batch *b, int ifindex, const struct ipaddr *addr,
			    const uint8_t mac[6]);
int neigh_add_proxy_put(struct nl_batch *b, int ifindex, const struct ipaddr *addr);

#endif
