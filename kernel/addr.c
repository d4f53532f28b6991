/* addr.c — RTM_*ADDR requests. */
#include <errno.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "addr.h"
#include "nl.h"

static int
addr_msg(struct nl *nl, void *buf, uint16_t type, uint16_t flags, int ifindex,
	 const struct prefix *p, struct nlmsghdr **ret)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	size_t alen = ipaddr_len(p->addr.family);

	if (ifindex <= 0 || !alen || p->len > prefix_maxlen(p->addr.family))
		return -EINVAL;
	nlh = nl_msg(nl, buf, type, flags);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)p->addr.family;
	ifa->ifa_prefixlen = p->len;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;	/* IPv6 derives it from the address */
	mnl_attr_put(nlh, IFA_LOCAL, alen, p->addr.u.b);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, p->addr.u.b);
	*ret = nlh;
	return 0;
}

static int
addr_add_build(struct nl *nl, void *buf, int ifindex, const struct prefix *p, unsigned flags,
	       struct nlmsghdr **ret)
{
	struct nlmsghdr *nlh;
	uint16_t nlf = NLM_F_CREATE;
	int r;

	nlf |= (flags & ADDR_F_REPLACE) ? NLM_F_REPLACE : NLM_F_EXCL;
	r = addr_msg(nl, buf, RTM_NEWADDR, nlf, ifindex, p, &nlh);
	if (r < 0)
		return r;
	if ((flags & ADDR_F_SCOPE_HOST) && p->addr.family == AF_INET) {
		struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

		ifa->ifa_scope = RT_SCOPE_HOST;
	}
	if ((flags & ADDR_F_NODAD) && p->addr.family == AF_INET6) {
		struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

		ifa->ifa_flags |= IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	*ret = nlh;
	return 0;
}

int
addr_add(struct nl *nl, int ifindex, const struct prefix *p, unsigned flags)
{
	char buf[NL_MSG_SIZE] = { 0 };	/* attribute padding goes to the kernel too */
	struct nlmsghdr *nlh;
	int r;

	r = addr_add_build(nl, buf, ifindex, p, flags, &nlh);
	return r < 0 ? r : nl_talk(nl, nlh);
}

int
addr_add_put(struct nl_batch *b, int ifindex, const struct prefix *p, unsigned flags)
{
	struct nlmsghdr *nlh;
	void *buf = nl_batch_buf(b);

	if (buf == NULL)
		return -ENOBUFS;
	return addr_add_build(b->nl, buf, ifindex, p, flags, &nlh);
}

struct addr_dump_arg {
	int ifindex;
	int (*cb)(const struct addr_info *ai, void *arg);
	void *arg;
};

static int
addr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

int
addr_parse(const struct nlmsghdr *nlh, struct addr_info *ret)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct addr_info ai;
	size_t alen;

	if ((nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR))
		return -ENOMSG;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) ||
	    mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb) < 0)
		return -EBADMSG;
	alen = ipaddr_len(ifa->ifa_family);
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!alen || !a || mnl_attr_get_payload_len(a) != alen)
		return -EBADMSG;
	memset(&ai, 0, sizeof(ai));
	ai.ifindex = (int)ifa->ifa_index;
	ai.addr.addr.family = ifa->ifa_family;
	memcpy(ai.addr.addr.u.b, mnl_attr_get_payload(a), alen);
	ai.addr.len = ifa->ifa_prefixlen;
	ai.scope = ifa->ifa_scope;
	ai.flags = ifa->ifa_flags;
	if (tb[IFA_FLAGS] && mnl_attr_get_payload_len(tb[IFA_FLAGS]) == 4)
		ai.flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
	*ret = ai;
	return 0;
}

static int
addr_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct addr_dump_arg *d = arg;
	struct addr_info ai;
	int r;

	if (nlh->nlmsg_type != RTM_NEWADDR || addr_parse(nlh, &ai) < 0)
		return MNL_CB_OK;
	if (d->ifindex > 0 && ai.ifindex != d->ifindex)
		return MNL_CB_OK;
	r = d->cb(&ai, d->arg);
	if (r < 0) {
		errno = -r;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int
addr_dump(struct nl *nl, int family, int ifindex,
	  int (*cb)(const struct addr_info *ai, void *arg), void *arg)
{
	char buf[NL_MSG_SIZE] = { 0 };	/* attribute padding goes to the kernel too */
	struct addr_dump_arg d = { .ifindex = ifindex, .cb = cb, .arg = arg };
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;

	nlh = nl_msg(nl, buf, RTM_GETADDR, 0);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	return nl_dump(nl, nlh, addr_dump_cb, &d);
}
