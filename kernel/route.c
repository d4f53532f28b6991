/* route.c — RTM_*ROUTE requests. */
#include <errno.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "nl.h"
#include "route.h"

int
route_build(struct nl *nl, void *buf, size_t size, uint16_t type, uint16_t flags,
	    const struct route *rt, const struct route_nh *nh, size_t n,
	    struct nlmsghdr **ret)
{
	int family = rt->dst.addr.family;
	size_t alen = ipaddr_len(family);
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (!alen || rt->dst.len > prefix_maxlen(family))
		return -EINVAL;
	if (n > ROUTE_NH_MAX || size < ROUTE_MSG_MAX)
		return -E2BIG;
	if (rt->gateway.family && rt->gateway.family != family)
		return -EAFNOSUPPORT;
	for (size_t i = 0; i < n; i++)
		if (nh[i].gw.family != family && (nh[i].gw.family || !nh[i].oif))
			return -EAFNOSUPPORT;
	nlh = nl_msg(nl, buf, type, flags);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = rt->dst.len;
	rtm->rtm_protocol = rt->protocol;
	rtm->rtm_scope = rt->scope;
	rtm->rtm_type = rt->type ? rt->type : RTN_UNICAST;
	if ((rt->flags & ROUTE_F_ONLINK) || (n == 1 && (nh[0].flags & ROUTE_F_ONLINK)))
		rtm->rtm_flags |= RTNH_F_ONLINK;
	if (rt->table && rt->table < 256) {
		rtm->rtm_table = (uint8_t)rt->table;
	} else {
		rtm->rtm_table = rt->table ? RT_TABLE_UNSPEC : RT_TABLE_MAIN;
		if (rt->table)
			mnl_attr_put_u32(nlh, RTA_TABLE, rt->table);
	}
	if (rt->dst.len)
		mnl_attr_put(nlh, RTA_DST, alen, rt->dst.addr.u.b);
	if (n == 1 && nh[0].gw.family)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, nh[0].gw.u.b);
	else if (n == 0 && rt->gateway.family)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, rt->gateway.u.b);
	if (n == 1 && nh[0].oif > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)nh[0].oif);
	else if (rt->oif > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)rt->oif);
	if (rt->priority)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, rt->priority);
	if (n > 1) {
		struct nlattr *mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);

		for (size_t i = 0; i < n; i++) {
			struct rtnexthop *rtnh = mnl_nlmsg_get_payload_tail(nlh);

			memset(rtnh, 0, sizeof(*rtnh));
			rtnh->rtnh_ifindex = nh[i].oif > 0 ? nh[i].oif : 0;
			if (nh[i].flags & ROUTE_F_ONLINK)
				rtnh->rtnh_flags |= RTNH_F_ONLINK;
			nlh->nlmsg_len += MNL_ALIGN(sizeof(*rtnh));
			if (nh[i].gw.family)
				mnl_attr_put(nlh, RTA_GATEWAY, alen, nh[i].gw.u.b);
			rtnh->rtnh_len = (unsigned short)((char *)mnl_nlmsg_get_payload_tail(nlh) -
							  (char *)rtnh);
		}
		mnl_attr_nest_end(nlh, mp);
	}
	*ret = nlh;
	return 0;
}

static int
route_msg(struct nl *nl, void *buf, uint16_t type, uint16_t flags,
	  const struct route *rt, struct nlmsghdr **ret)
{
	return route_build(nl, buf, MNL_SOCKET_BUFFER_SIZE, type, flags, rt, NULL, 0, ret);
}

static int
route_send(struct nl *nl, uint16_t type, uint16_t flags, const struct route *rt)
{
	char buf[NL_MSG_SIZE] = { 0 };	/* attribute padding goes to the kernel too */
	struct nlmsghdr *nlh;
	int r;

	r = route_msg(nl, buf, type, flags, rt, &nlh);
	if (r < 0)
		return r;
	return nl_talk(nl, nlh);
}

static int
route_put(struct nl_batch *b, uint16_t type, uint16_t flags, const struct route *rt)
{
	struct nlmsghdr *nlh;
	void *buf = nl_batch_buf(b);

	if (buf == NULL)
		return -ENOBUFS;
	return route_build(b->nl, buf, NL_BATCH_MSG_MAX, type, flags, rt, NULL, 0, &nlh);
}

int
route_add_put(struct nl_batch *b, const struct route *rt)
{
	return route_put(b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, rt);
}

int
route_replace_put(struct nl_batch *b, const struct route *rt)
{
	return route_put(b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, rt);
}

int
route_add(struct nl *nl, const struct route *rt)
{
	return route_send(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, rt);
}

int
route_replace(struct nl *nl, const struct route *rt)
{
	return route_send(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, rt);
}

int
route_del(struct nl *nl, const struct route *rt)
{
	return route_send(nl, RTM_DELROUTE, 0, rt);
}

struct route_dump_arg {
	int family;
	uint32_t table;
	uint8_t protocol;
	int (*cb)(const struct route *rt, void *arg);
	void *arg;
};

static int
route_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case RTA_OIF:
	case RTA_TABLE:
	case RTA_PRIORITY:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

int
route_parse(const struct nlmsghdr *nlh, struct route *ret)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm;
	struct route rt;
	size_t alen;

	if ((nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE))
		return -ENOMSG;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return -EBADMSG;
	rtm = mnl_nlmsg_get_payload(nlh);
	alen = ipaddr_len(rtm->rtm_family);
	if (!alen || rtm->rtm_dst_len > prefix_maxlen(rtm->rtm_family))
		return -EBADMSG;
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb) < 0)
		return -EBADMSG;
	memset(&rt, 0, sizeof(rt));
	rt.table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	rt.dst.addr.family = rtm->rtm_family;
	rt.dst.len = rtm->rtm_dst_len;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) == alen)
		memcpy(rt.dst.addr.u.b, mnl_attr_get_payload(tb[RTA_DST]), alen);
	if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == alen) {
		rt.gateway.family = rtm->rtm_family;
		memcpy(rt.gateway.u.b, mnl_attr_get_payload(tb[RTA_GATEWAY]), alen);
	}
	if (tb[RTA_OIF])
		rt.oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_PRIORITY])
		rt.priority = mnl_attr_get_u32(tb[RTA_PRIORITY]);
	if (tb[RTA_MULTIPATH] && !rt.oif &&
	    mnl_attr_get_payload_len(tb[RTA_MULTIPATH]) >= sizeof(struct rtnexthop)) {
		const struct rtnexthop *nh = mnl_attr_get_payload(tb[RTA_MULTIPATH]);
		const struct nlattr *a;

		rt.oif = nh->rtnh_ifindex;
		if (nh->rtnh_flags & RTNH_F_ONLINK)
			rt.flags |= ROUTE_F_ONLINK;
		/* the first hop's gateway, from the attributes inside it */
		if (nh->rtnh_len >= sizeof(*nh) &&
		    nh->rtnh_len <= mnl_attr_get_payload_len(tb[RTA_MULTIPATH]) &&
		    !rt.gateway.family)
			for (a = (const struct nlattr *)RTNH_DATA(nh);
			     mnl_attr_ok(a, (int)((const char *)nh + nh->rtnh_len - (const char *)a));
			     a = mnl_attr_next(a))
				if (mnl_attr_get_type(a) == RTA_GATEWAY &&
				    mnl_attr_get_payload_len(a) == alen) {
					rt.gateway.family = rtm->rtm_family;
					memcpy(rt.gateway.u.b, mnl_attr_get_payload(a), alen);
				}
	}
	rt.protocol = rtm->rtm_protocol;
	rt.scope = rtm->rtm_scope;
	rt.type = rtm->rtm_type;
	if (rtm->rtm_flags & RTNH_F_ONLINK)
		rt.flags |= ROUTE_F_ONLINK;
	*ret = rt;
	return 0;
}

int
route_parse_hops(const struct nlmsghdr *nlh, struct route_nh *hops, size_t max)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm;
	size_t alen, n = 0;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return -EBADMSG;
	rtm = mnl_nlmsg_get_payload(nlh);
	alen = ipaddr_len(rtm->rtm_family);
	if (!alen || mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb) < 0)
		return -EBADMSG;
	if (!tb[RTA_MULTIPATH]) {
		if (max == 0 || (!tb[RTA_GATEWAY] && !tb[RTA_OIF]))
			return 0;
		memset(&hops[0], 0, sizeof(hops[0]));
		if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == alen) {
			hops[0].gw.family = rtm->rtm_family;
			memcpy(hops[0].gw.u.b, mnl_attr_get_payload(tb[RTA_GATEWAY]), alen);
		}
		if (tb[RTA_OIF])
			hops[0].oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
		if (rtm->rtm_flags & RTNH_F_ONLINK)
			hops[0].flags |= ROUTE_F_ONLINK;
		return 1;
	}
	{
		const char *p = mnl_attr_get_payload(tb[RTA_MULTIPATH]);
		size_t left = mnl_attr_get_payload_len(tb[RTA_MULTIPATH]);

		while (left >= sizeof(struct rtnexthop) && n < max) {
			const struct rtnexthop *rtnh = (const void *)p;
			size_t len = rtnh->rtnh_len;

			if (len < sizeof(*rtnh) || len > left)
				return -EBADMSG;
			memset(&hops[n], 0, sizeof(hops[n]));
			hops[n].oif = rtnh->rtnh_ifindex;
			if (rtnh->rtnh_flags & RTNH_F_ONLINK)
				hops[n].flags |= ROUTE_F_ONLINK;
			/* the hop's attributes follow it (RTNH_DATA) */
			for (const struct nlattr *a = (const void *)(p + RTNH_ALIGN(sizeof(*rtnh)));
			     (const char *)a + sizeof(*a) <= p + len &&
			     a->nla_len >= sizeof(*a) && (const char *)a + a->nla_len <= p + len;
			     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len))) {
				if ((a->nla_type & NLA_TYPE_MASK) != RTA_GATEWAY ||
				    a->nla_len != NLA_HDRLEN + alen)
					continue;
				hops[n].gw.family = rtm->rtm_family;
				memcpy(hops[n].gw.u.b, (const char *)a + NLA_HDRLEN, alen);
				break;
			}
			n++;
			len = RTNH_ALIGN(len);
			if (len >= left)
				break;
			p += len;
			left -= len;
		}
	}
	return (int)n;
}

static int
route_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct route_dump_arg *d = arg;
	struct route rt;
	int r;

	if (nlh->nlmsg_type != RTM_NEWROUTE || route_parse(nlh, &rt) < 0)
		return MNL_CB_OK;
	if ((d->family != AF_UNSPEC && rt.dst.addr.family != d->family) ||
	    (d->protocol && rt.protocol != d->protocol) ||
	    rt.type != RTN_UNICAST || rt.table != d->table)
		return MNL_CB_OK;
	r = d->cb(&rt, d->arg);
	if (r < 0) {
		errno = -r;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int
route_dump(struct nl *nl, int family, uint32_t table, uint8_t protocol,
	   int (*cb)(const struct route *rt, void *arg), void *arg)
{
	char buf[NL_MSG_SIZE] = { 0 };	/* attribute padding goes to the kernel too */
	struct route_dump_arg d = {
		.family = family, .table = table ? table : RT_TABLE_MAIN,
		.protocol = protocol, .cb = cb, .arg = arg,
	};
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	nlh = nl_msg(nl, buf, RTM_GETROUTE, 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	return nl_dump(nl, nlh, route_dump_cb, &d);
}
