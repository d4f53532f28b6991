/* neigh.c — RTM_*NEIGH requests. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "neigh.h"
#include "nl.h"

static struct nlmsghdr *
neigh_msg(struct nl *nl, void *buf, uint16_t type, uint16_t flags, int ifindex,
	  const struct ipaddr *addr, uint8_t ntf)
{
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	nlh = nl_msg(nl, buf, type, flags);
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)addr->family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = NUD_PERMANENT;
	ndm->ndm_flags = ntf;
	ndm->ndm_type = RTN_UNICAST;
	mnl_attr_put(nlh, NDA_DST, ipaddr_len(addr->family), addr->u.b);
	return nlh;
}

static int
neigh_perm_build(struct nl *nl, void *buf, int ifindex, const struct ipaddr *addr,
		 const uint8_t mac[6], struct nlmsghdr **ret)
{
	struct nlmsghdr *nlh;

	if (ifindex <= 0 || !ipaddr_len(addr->family))
		return -EINVAL;
	nlh = neigh_msg(nl, buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
			ifindex, addr, 0);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	*ret = nlh;
	return 0;
}

static int
neigh_proxy_build(struct nl *nl, void *buf, int ifindex, const struct ipaddr *addr,
		  struct nlmsghdr **ret)
{
	if (ifindex <= 0 || !ipaddr_len(addr->family))
		return -EINVAL;
	*ret = neigh_msg(nl, buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
			 ifindex, addr, NTF_PROXY);
	return 0;
}

int
neigh_set_permanent(struct nl *nl, int ifindex, const struct ipaddr *addr,
		    const uint8_t mac[6])
{
	char buf[NL_MSG_SIZE] = { 0 };	/* attribute padding goes to the kernel too */
	struct nlmsghdr *nlh;
	int r;

	r = neigh_perm_build(nl, buf, ifindex, addr, mac, &nlh);
	return r < 0 ? r : nl_talk(nl, nlh);
}

int
neigh_add_proxy(struct nl *nl, int ifindex, const struct ipaddr *addr)
{
	char buf[NL_MSG_SIZE] = { 0 };	/* attribute padding goes to the kernel too */
	struct nlmsghdr *nlh;
	int r;

	r = neigh_proxy_build(nl, buf, ifindex, addr, &nlh);
	return r < 0 ? r : nl_talk(nl, nlh);
}

int
neigh_set_permanent_put(struct nl_batch *b, int ifindex, const struct ipaddr *addr,
			const uint8_t mac[6])
{
	struct nlmsghdr *nlh;
	void *buf = nl_batch_buf(b);

	if (buf == NULL)
		return -ENOBUFS;
	return neigh_perm_build(b->nl, buf, ifindex, addr, mac, &nlh);
}

int
neigh_add_proxy_put(struct nl_batch *b, int ifindex, const struct ipaddr *addr)
{
	struct nlmsghdr *nlh;
	void *buf = nl_batch_buf(b);

	if (buf == NULL)
		return -ENOBUFS;
	return neigh_proxy_build(b->nl, buf, ifindex, addr, &nlh);
}
