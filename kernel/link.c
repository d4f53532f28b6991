/* link.c — RTM_*LINK requests. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>

#include "link.h"
#include "nl.h"

static struct ifinfomsg *
link_hdr(struct nlmsghdr *nlh, int ifindex)
{
	struct ifinfomsg *ifi;

	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return ifi;
}

static int
link_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
		return MNL_CB_OK;		/* newer than our headers */
	switch (type) {
	case IFLA_IFNAME:
	case IFLA_IFALIAS:
		if (mnl_attr_validate(attr, MNL_TYPE_STRING) < 0)
			return MNL_CB_ERROR;
		break;
	case IFLA_MTU:
	case IFLA_GROUP:
	case IFLA_LINK:
	case IFLA_LINK_NETNSID:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		break;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

static void
attr_strcpy(char *dst, size_t size, const struct nlattr *attr)
{
	size_t n = mnl_attr_get_payload_len(attr);
	const char *s = mnl_attr_get_payload(attr);

	n = strnlen(s, n);
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Parse an RTM_NEWLINK message into *li. */
int
link_parse(const struct nlmsghdr *nlh, struct link_info *li)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return -EBADMSG;
	if (mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, tb) < 0)
		return -EBADMSG;
	memset(li, 0, sizeof(*li));
	li->ifindex = ifi->ifi_index;
	li->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		attr_strcpy(li->ifname, sizeof(li->ifname), tb[IFLA_IFNAME]);
	if (tb[IFLA_IFALIAS])
		attr_strcpy(li->alias, sizeof(li->alias), tb[IFLA_IFALIAS]);
	if (tb[IFLA_MTU])
		li->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_GROUP])
		li->group = mnl_attr_get_u32(tb[IFLA_GROUP]);
	if (tb[IFLA_LINK])
		li->peer_ifindex = (int)mnl_attr_get_u32(tb[IFLA_LINK]);
	li->peer_netnsid = tb[IFLA_LINK_NETNSID] ? (int)mnl_attr_get_u32(tb[IFLA_LINK_NETNSID])
						 : -1;
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
		memcpy(li->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
		li->has_mac = true;
	}
	if (tb[IFLA_LINKINFO]) {
		const struct nlattr *a;

		mnl_attr_for_each_nested(a, tb[IFLA_LINKINFO]) {
			if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
			    mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
				attr_strcpy(li->kind, sizeof(li->kind), a);
		}
	}
	return 0;
}

static int
link_get_cb(const struct nlmsghdr *nlh, void *arg)
{
	if (link_parse(nlh, arg) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int
link_get(struct nl *nl, const char *ifname, int ifindex, struct link_info *ret)
{
	char buf[NL_MSG_SIZE] = { 0 };	/* attribute padding goes to the kernel too */
	struct link_info li = { .ifindex = 0 };
	struct nlmsghdr *nlh;
	int r;

	nlh = nl_msg(nl, buf, RTM_GETLINK, 0);
	link_hdr(nlh, ifindex > 0 ? ifindex : 0);
	if (ifindex <= 0) {
		if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
			return -EINVAL;
		mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	}
	/* no stats, no VF details: only what we read */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = nl_talk_cb(nl, nlh, link_get_cb, &li);
	if (r < 0)
		return r;
	if (li.ifindex <= 0)
		return -ENODEV;
	*ret = li;
	return 0;
}

static int
link_veth_build(struct nl *nl, void *buf, const struct link_veth *v, struct nlmsghdr **ret)
{
	struct nlattr *linkinfo, *data, *peer;
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;

	if (!v->ifname || !v->peer_ifname)
		return -EINVAL;
	nlh = nl_msg(nl, buf, RTM_NEWLINK,
		     NLM_F_CREATE | NLM_F_EXCL | (v->echo ? NLM_F_ECHO : 0));
	ifi = link_hdr(nlh, 0);
	if (v->up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->ifname);
	if (v->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
	if (v->n_queues) {
		mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, v->n_queues);
		mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, v->n_queues);
	}
	if (v->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->mac);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	link_hdr(nlh, 0);	/* the peer's ifinfomsg sits inside the nest */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->peer_ifname);
	if (v->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
	if (v->n_queues) {
		mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, v->n_queues);
		mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, v->n_queues);
	}
	if (v->peer_mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->peer_mac);
	if (v->peer_nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)v->peer_nsfd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	*ret = nlh;
	return 0;
}

int
link_veth_add(struct nl *nl, const struct link_veth *v)
{
	char buf[NL_MSG_SIZE] = { 0 };	/* attribute padding goes to the kernel too */
	struct nlmsghdr *nlh;
	int r;

	r = link_veth_build(nl, buf, v, &nlh);
	return r < 0 ? r : nl_talk(nl, nlh);
}

int
link_veth_put(struct nl_batch *b, const struct link_veth *v)
{
	struct nlmsghdr *nlh;
	void *buf = nl_batch_buf(b);

	if (buf == NULL)
		return -ENOBUFS;
	return link_veth_build(b->nl, buf, v, &nlh);
}

static int
link_change_build(struct nl *nl, void *buf, int ifindex, const char *ifname,
		  const struct link_change *c, struct nlmsghdr **ret)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;

	if (c->n_v4conf > LINK_V4CONF_MAX)
		return -EINVAL;
	if (ifindex <= 0 && (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ || c->ifname))
		return -EINVAL;		/* renaming needs the index */
	nlh = nl_msg(nl, buf, RTM_NEWLINK, 0);
	ifi = link_hdr(nlh, ifindex > 0 ? ifindex : 0);
	if (ifindex <= 0)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	if (c->up || c->down) {
		ifi->ifi_flags = c->down ? 0 : IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	if (c->ifname)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, c->ifname);
	if (c->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
	if (c->alias)
		mnl_attr_put_strz(nlh, IFLA_IFALIAS, c->alias);
	if (c->group)
		mnl_attr_put_u32(nlh, IFLA_GROUP, c->group);
	if (c->n_v4conf) {
		struct nlattr *spec, *inet, *conf;

		spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
		inet = mnl_attr_nest_start(nlh, AF_INET);
		conf = mnl_attr_nest_start(nlh, IFLA_INET_CONF);
		for (size_t i = 0; i < c->n_v4conf; i++)
			mnl_attr_put_u32(nlh, (uint16_t)c->v4conf[i].id, c->v4conf[i].val);
		mnl_attr_nest_end(nlh, conf);
		mnl_attr_nest_end(nlh, inet);
		mnl_attr_nest_end(nlh, spec);
	}
	*ret = nlh;
	return 0;
}

int
link_change(struct nl *nl, int ifindex, const char *ifname, const struct link_change *c)
{
	char buf[NL_MSG_SIZE] = { 0 };	/* attribute padding goes to the kernel too */
	struct nlmsghdr *nlh;
	int r;

	r = link_change_build(nl, buf, ifindex, ifname, c, &nlh);
	return r < 0 ? r : nl_talk(nl, nlh);
}

int
link_change_put(struct nl_batch *b, int ifindex, const char *ifname,
		const struct link_change *c)
{
	struct nlmsghdr *nlh;
	void *buf = nl_batch_buf(b);

	if (buf == NULL)
		return -ENOBUFS;
	return link_change_build(b->nl, buf, ifindex, ifname, c, &nlh);
}

int
link_set_up(struct nl *nl, int ifindex)
{
	struct link_change c = { .up = true };

	return link_change(nl, ifindex, NULL, &c);
}

int
link_set_down(struct nl *nl, int ifindex)
{
	struct link_change c = { .down = true };

	return link_change(nl, ifindex, NULL, &c);
}

int
link_del(struct nl *nl, const char *ifname, int ifindex)
{
	char buf[NL_MSG_SIZE] = { 0 };	/* attribute padding goes to the kernel too */
	struct nlmsghdr *nlh;

	nlh = nl_msg(nl, buf, RTM_DELLINK, 0);
	link_hdr(nlh, ifindex > 0 ? ifindex : 0);
	if (ifindex <= 0) {
		if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
			return -EINVAL;
		mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	}
	return nl_talk(nl, nlh);
}

int
link_del_group(struct nl *nl, uint32_t group)
{
	char buf[NL_MSG_SIZE] = { 0 };	/* attribute padding goes to the kernel too */
	struct nlmsghdr *nlh;

	if (group == 0)
		return -EINVAL;		/* the default group: every link */
	nlh = nl_msg(nl, buf, RTM_DELLINK, 0);
	link_hdr(nlh, 0);
	mnl_attr_put_u32(nlh, IFLA_GROUP, group);
	return nl_talk(nl, nlh);
}

struct link_dump_arg {
	int (*cb)(const struct link_info *li, void *arg);
	void *arg;
};

static int
link_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct link_dump_arg *d = arg;
	struct link_info li;
	int r;

	if (link_parse(nlh, &li) < 0)
		return MNL_CB_OK;		/* not a link: skip */
	r = d->cb(&li, d->arg);
	if (r < 0) {
		errno = -r;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int
link_dump(struct nl *nl, int (*cb)(const struct link_info *li, void *arg), void *arg)
{
	char buf[NL_MSG_SIZE] = { 0 };	/* attribute padding goes to the kernel too */
	struct link_dump_arg d = { .cb = cb, .arg = arg };
	struct nlmsghdr *nlh;

	nlh = nl_msg(nl, buf, RTM_GETLINK, 0);
	link_hdr(nlh, 0);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nl_dump(nl, nlh, link_dump_cb, &d);
}

const char *
link_mac_fmt(const uint8_t mac[6], char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
