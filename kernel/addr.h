/* addr.h — interface addresses over rtnetlink. */
#ifndef LEAFNET_ADDR_H
#define LEAFNET_ADDR_H

#include <stdbool.h>
#include "prefix.h"

struct nl;
struct nlmsghdr;
struct nl_batch;

#define ADDR_F_NODAD    (1U << 0)	/* IPv6: skip duplicate address detection */
#define ADDR_F_REPLACE  (1U << 1)	/* CREATE|REPLACE instead of CREATE|EXCL */
#define ADDR_F_SCOPE_HOST (1U << 2)	/* IPv4: scope host (local, never a source
					 * the host picks for other destinations) */

struct addr_info {
	int ifindex;
	struct prefix addr;		/* the local address and its prefix length */
	unsigned char scope;
	unsigned flags;			/* IFA_F_* */
};

/* Add p (address + prefix length) to ifindex. */
int addr_add(struct nl *nl, int ifindex, const struct prefix *p, unsigned flags);
/* Parse an RTM_NEWADDR / RTM_DELADDR message (the route monitor's).
 * -ENOMSG: not an address message; -EBADMSG: malformed. */
int addr_parse(const struct nlmsghdr *nlh, struct addr_info *ret);
/* The same request into a batch (nl.h); -ENOBUFS when it is full. */
int addr_add_put(struct nl_batch *b, int ifindex, const struct prefix *p, unsigned flags);
/* Addresses of family (AF_UNSPEC: all) on ifindex (0: every interface). */
int addr_dump(struct nl *nl, int family, int ifindex,
	      int (*cb)(const struct addr_info *ai, void *arg), void *arg);

#endif
