/* link.h — network interfaces over rtnetlink: look up, create a veth pair,
 * change, delete, dump. */
#ifndef LEAFNET_LINK_H
#define LEAFNET_LINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

struct nl;
struct nl_batch;
struct nlmsghdr;

#define LINK_ALIAS_MAX   256		/* IFALIASZ */
#define LINK_KIND_MAX    16
#define LINK_V4CONF_MAX  4

struct link_info {
	int ifindex;
	char ifname[IFNAMSIZ];
	unsigned flags;			/* IFF_* */
	unsigned mtu;
	uint8_t mac[6];
	bool has_mac;
	int peer_ifindex;		/* IFLA_LINK: a veth's peer, in the peer's netns */
	int peer_netnsid;		/* IFLA_LINK_NETNSID: the peer's netns as this
					 * netns numbers it; -1: the same netns */
	uint32_t group;			/* IFLA_GROUP (0: the default group) */
	char alias[LINK_ALIAS_MAX];	/* "" when none */
	char kind[LINK_KIND_MAX];	/* "veth", "" for plain devices */
};

struct link_veth {
	const char *ifname;		/* this side, in the socket's netns */
	const char *peer_ifname;	/* the other side */
	int peer_nsfd;			/* netns of the peer; -1: same as ours */
	unsigned mtu;			/* both sides; 0: kernel default */
	const uint8_t *mac;		/* NULL: kernel picks */
	const uint8_t *peer_mac;
	unsigned n_queues;		/* tx and rx queues of both sides; 0: the
					 * kernel's default (veth: one per CPU,
					 * then cut to one in use) */
	bool up;			/* this side IFF_UP from the start (no
					 * request of its own; the peer cannot be:
					 * veth opens a side only once its peer is
					 * linked, -ENOTCONN) */
	bool echo;			/* NLM_F_ECHO: the kernel answers with the
					 * new link (this side; IFLA_LINK is the
					 * peer's index) before the ACK -- since
					 * Linux 6.2; older ones only ACK */
};

struct link_change {
	const char *ifname;		/* rename; NULL: keep.  Kernels before 6.4
					 * refuse to rename a link that is up
					 * (-EBUSY): take it down first */
	unsigned mtu;			/* 0: keep */
	const char *alias;		/* NULL: keep */
	bool up;			/* bring it up (false: leave the state alone) */
	bool down;			/* take it down (wins over up) */
	uint32_t group;			/* IFLA_GROUP; 0: keep */
	size_t n_v4conf;		/* net.ipv4.conf.<if>.* via IFLA_AF_SPEC */
	struct { int id; uint32_t val; } v4conf[LINK_V4CONF_MAX];	/* IPV4_DEVCONF_* */
};

/* Look up by ifindex (> 0) or else by name; -ENODEV when there is none. */
int link_get(struct nl *nl, const char *ifname, int ifindex, struct link_info *ret);
/* Create a veth pair (add semantics: -EEXIST if ifname exists). */
int link_veth_add(struct nl *nl, const struct link_veth *v);
/* The same two requests into a batch (nl.h); -ENOBUFS when it is full. */
int link_veth_put(struct nl_batch *b, const struct link_veth *v);
int link_change_put(struct nl_batch *b, int ifindex, const char *ifname,
		    const struct link_change *c);
/* An RTM_NEWLINK message (a dump's, an echo's) into *ret; -EBADMSG. */
int link_parse(const struct nlmsghdr *nlh, struct link_info *ret);
/* Change the link with ifindex (> 0) or else the one named ifname.  Without
 * NLM_F_CREATE this never makes a link: -ENODEV when there is none. */
int link_change(struct nl *nl, int ifindex, const char *ifname, const struct link_change *c);
int link_set_up(struct nl *nl, int ifindex);
int link_set_down(struct nl *nl, int ifindex);
/* Delete by ifindex (> 0) or else by name; -ENODEV when there is none. */
int link_del(struct nl *nl, const char *ifname, int ifindex);
/* Delete every link of the socket's netns in group (> 0), in one request:
 * the kernel unregisters them together (one set of RCU grace periods).
 * -ENODEV when the group is empty; -EOPNOTSUPP when one of them cannot be
 * deleted (nothing is then). */
int link_del_group(struct nl *nl, uint32_t group);
/* Call cb for every link of the socket's netns. */
int link_dump(struct nl *nl, int (*cb)(const struct link_info *li, void *arg), void *arg);

/* "aa:bb:cc:dd:ee:ff" into buf (>= 18 bytes). */
const char *link_mac_fmt(const uint8_t mac[6], char *buf, size_t size);

#endif
