/* kroute.c — leafnetd and the kernel routing table.
 *
 * In: our workload routes (rtm_protocol LEAFNET_RTPROT).  A dump at start,
 * then a NETLINK_ROUTE socket subscribed to the IPv4/IPv6 route groups
 * feeds every change to the local RIB as it happens.  Link events matter
 * too: when a link goes down the kernel drops its IPv4 routes without a
 * RTM_DELROUTE.  If the kernel overflows the socket (ENOBUFS) events are
 * lost, so we resync at once: a fresh socket (what was queued on the old
 * one is older than the dump and must not be replayed after it), a fresh
 * dump, and a sweep of what the dump did not show.  Never a scan timer.
 *
 * Out: routes the BGP side learned (kroute_learned_set), installed with
 * rtm_protocol RTPROT_BGP so they are never mistaken for workload routes;
 * ECMP through RTA_MULTIPATH.
 *
 * This is the only file that writes routes (route.h) for leafnetd.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "leafnet.h"
#include "ld_local.h"
#include "log.h"
#include "nl.h"
#include "route.h"

#ifndef RTPROT_BGP
#define RTPROT_BGP 186
#endif
#ifndef RTM_F_FIB_MATCH
#define RTM_F_FIB_MATCH 0x2000
#endif
/* Large enough for a burst of ~200,000 route events between two reads. */
#define KROUTE_RCVBUF		(32 * 1024 * 1024)
#define KROUTE_READS_PER_TURN	512
#define KROUTE_LEARNED_BUCKETS	4096

struct learned {
	struct learned *next;
	struct prefix p;
	size_t n;
	struct ipaddr nh[];
};

struct kroute {
	struct nl req;			/* dumps, lookups, learned routes */
	struct mnl_socket *mon;		/* the route/link monitor */
	int mon_fd;
	uint32_t gen;			/* dump generation for rib_sweep() */
	size_t resyncs;
	struct learned *learned[KROUTE_LEARNED_BUCKETS];
	size_t n_learned;
};

/* ---- monitor ---------------------------------------------------------- */

static int
kr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == RTA_OIF || type == RTA_TABLE) &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

/* A route message about one of our workload routes?  Fills p and oif. */
static bool
kr_parse_route(const struct nlmsghdr *nlh, struct prefix *p, int *oif)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm;
	uint32_t table;
	size_t alen;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return false;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_protocol != LEAFNET_RTPROT || rtm->rtm_type != RTN_UNICAST)
		return false;
	alen = ipaddr_len(rtm->rtm_family);
	if (!alen || rtm->rtm_dst_len > prefix_maxlen(rtm->rtm_family))
		return false;
	if (mnl_attr_parse(nlh, sizeof(*rtm), kr_attr_cb, tb) < 0)
		return false;
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != RT_TABLE_MAIN)
		return false;
	memset(p, 0, sizeof(*p));
	p->addr.family = rtm->rtm_family;
	p->len = rtm->rtm_dst_len;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) == alen)
		memcpy(p->addr.u.b, mnl_attr_get_payload(tb[RTA_DST]), alen);
	prefix_mask(p);
	*oif = tb[RTA_OIF] ? (int)mnl_attr_get_u32(tb[RTA_OIF]) : 0;
	if (!*oif && tb[RTA_MULTIPATH] &&
	    mnl_attr_get_payload_len(tb[RTA_MULTIPATH]) >= sizeof(struct rtnexthop)) {
		const struct rtnexthop *nh = mnl_attr_get_payload(tb[RTA_MULTIPATH]);

		*oif = nh->rtnh_ifindex;
	}
	return true;
}

static int
kr_event_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct ld *d = arg;
	struct prefix p;
	int oif;

	switch (nlh->nlmsg_type) {
	case RTM_NEWROUTE:
		if (kr_parse_route(nlh, &p, &oif))
			(void)rib_kernel_add(d->rib, &p, oif, d->kr->gen);
		break;
	case RTM_DELROUTE:
		if (kr_parse_route(nlh, &p, &oif))
			rib_kernel_del(d->rib, &p);
		break;
	case RTM_NEWLINK:
	case RTM_DELLINK: {
		const struct ifinfomsg *ifi;

		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
			break;
		ifi = mnl_nlmsg_get_payload(nlh);
		if (nlh->nlmsg_type == RTM_DELLINK || !(ifi->ifi_flags & IFF_UP))
			rib_kernel_link_down(d->rib, ifi->ifi_index);
		break;
	}
	}
	return MNL_CB_OK;
}

static void kr_mon_cb(struct ld *d, int fd, short revents, void *arg);

static int
kr_mon_open(struct ld *d)
{
	struct kroute *kr = d->kr;
	const char *test = getenv("LEAFNETD_TEST_RCVBUF");	/* test hook: force ENOBUFS */
	int size = test && atoi(test) > 0 ? atoi(test) : KROUTE_RCVBUF;
	unsigned groups = RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_LINK;
	int r;

	kr->mon = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (kr->mon == NULL)
		return -errno;
	kr->mon_fd = mnl_socket_get_fd(kr->mon);
	/* FORCE goes past net.core.rmem_max when we are root; the test
	 * size must stick, so it uses the plain option */
	if (test || setsockopt(kr->mon_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(kr->mon_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (mnl_socket_bind(kr->mon, groups, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(kr->mon);
		kr->mon = NULL;
		return r;
	}
	r = ld_io_add(d, kr->mon_fd, POLLIN, kr_mon_cb, NULL);
	if (r < 0) {
		mnl_socket_close(kr->mon);
		kr->mon = NULL;
	}
	return r;
}

static void
kr_mon_close(struct ld *d)
{
	if (d->kr->mon == NULL)
		return;
	ld_io_del(d, d->kr->mon_fd);
	mnl_socket_close(d->kr->mon);
	d->kr->mon = NULL;
}

struct kr_dump {
	struct ld *d;
	size_t n;
};

static int
kr_dump_cb(const struct route *rt, void *arg)
{
	struct kr_dump *kd = arg;
	struct prefix p = rt->dst;

	prefix_mask(&p);
	kd->n++;
	return rib_kernel_add(kd->d->rib, &p, rt->oif, kd->d->kr->gen);
}

/* Dump our routes into the RIB and drop what the dump did not show. */
static int
kr_dump(struct ld *d, size_t *ret_n, size_t *ret_gone)
{
	struct kr_dump kd = { .d = d };
	int r = -EINTR;

	for (int tries = 0; tries < 5 && r == -EINTR; tries++) {
		d->kr->gen++;
		kd.n = 0;
		r = route_dump(&d->kr->req, AF_UNSPEC, 0, LEAFNET_RTPROT, kr_dump_cb, &kd);
	}
	if (r < 0)
		return r;
	*ret_gone = rib_sweep(d->rib, d->kr->gen);
	*ret_n = kd.n;
	return 0;
}

static void
kr_resync(struct ld *d)
{
	uint64_t t0 = ld_now_ms();
	size_t n = 0, gone = 0;
	int r;

	d->kr->resyncs++;
	kr_mon_close(d);
	r = kr_mon_open(d);
	if (r < 0)
		fatalx("route monitor: cannot reopen the netlink socket: %s", strerror(-r));
	r = kr_dump(d, &n, &gone);
	if (r < 0) {
		/* keep what we have; the next overflow or restart fixes it */
		log_warnx("route monitor: resync dump failed: %s", strerror(-r));
		return;
	}
	log_info("route monitor: the kernel dropped events (socket overflow); "
		 "resynced %zu workload routes (%zu gone) in %llu ms", n, gone,
		 (unsigned long long)(ld_now_ms() - t0));
}

static void
kr_mon_cb(struct ld *d, int fd, short revents, void *arg)
{
	static char buf[65536];

	(void)fd;
	(void)revents;
	(void)arg;
	for (int i = 0; i < KROUTE_READS_PER_TURN; i++) {
		ssize_t n = recv(d->kr->mon_fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				kr_resync(d);
				return;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("route monitor: recv");
			return;
		}
		(void)mnl_cb_run(buf, (size_t)n, 0, 0, kr_event_cb, d);
	}
}

/* ---- targeted check (control "notify") ------------------------------- */

struct kr_check {
	const struct prefix *want;
	bool found;
	int oif;
};

static int
kr_check_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct kr_check *kc = arg;
	struct prefix p;
	int oif;

	if (nlh->nlmsg_type == RTM_NEWROUTE && kr_parse_route(nlh, &p, &oif) &&
	    prefix_eq(&p, kc->want)) {
		kc->found = true;
		kc->oif = oif;
	}
	return MNL_CB_OK;
}

int
kroute_check(struct ld *d, const struct prefix *p)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct kr_check kc = { .want = p };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int r;

	nlh = nl_msg(&d->kr->req, buf, RTM_GETROUTE, 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)p->addr.family;
	rtm->rtm_dst_len = (uint8_t)prefix_maxlen(p->addr.family);
	rtm->rtm_flags = RTM_F_FIB_MATCH;
	mnl_attr_put(nlh, RTA_DST, ipaddr_len(p->addr.family), p->addr.u.b);
	r = nl_talk_cb(&d->kr->req, nlh, kr_check_cb, &kc);
	if (r < 0 && r != -ENETUNREACH && r != -EHOSTUNREACH && r != -ESRCH && r != -ENOENT)
		return r;
	if (kc.found)
		return rib_kernel_add(d->rib, p, kc.oif, d->kr->gen);
	rib_kernel_del(d->rib, p);
	return 0;
}

size_t
kroute_resyncs(const struct ld *d)
{
	return d->kr ? d->kr->resyncs : 0;
}

/* ---- learned routes out ---------------------------------------------- */

static size_t
learned_bucket(const struct prefix *p)
{
	uint32_t h = 2166136261u ^ p->len;

	for (size_t i = 0; i < ipaddr_len(p->addr.family); i++)
		h = (h ^ p->addr.u.b[i]) * 16777619u;
	return h % KROUTE_LEARNED_BUCKETS;
}

static int
kr_learned_msg(struct kroute *kr, const struct prefix *p, const struct ipaddr *nh,
	       size_t n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	size_t alen = ipaddr_len(p->addr.family);
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	nlh = nl_msg(&kr->req, buf, n ? RTM_NEWROUTE : RTM_DELROUTE,
		     n ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)p->addr.family;
	rtm->rtm_dst_len = p->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BGP;
	rtm->rtm_scope = n ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
	rtm->rtm_type = RTN_UNICAST;
	if (p->len)
		mnl_attr_put(nlh, RTA_DST, alen, p->addr.u.b);
	if (n == 1) {
		mnl_attr_put(nlh, RTA_GATEWAY, alen, nh[0].u.b);
	} else if (n > 1) {
		struct nlattr *mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);

		for (size_t i = 0; i < n; i++) {
			struct rtnexthop *rtnh;

			rtnh = mnl_nlmsg_get_payload_tail(nlh);
			if (mnl_nlmsg_get_payload_len(nlh) + 64 > sizeof(buf) - 256)
				return -E2BIG;
			memset(rtnh, 0, sizeof(*rtnh));
			nlh->nlmsg_len += MNL_ALIGN(sizeof(*rtnh));
			mnl_attr_put(nlh, RTA_GATEWAY, alen, nh[i].u.b);
			rtnh->rtnh_len = (unsigned short)((char *)mnl_nlmsg_get_payload_tail(nlh) -
							  (char *)rtnh);
		}
		mnl_attr_nest_end(nlh, mp);
	}
	return nl_talk(&kr->req, nlh);
}

int
kroute_learned_set(struct ld *d, const struct prefix *p, const struct ipaddr *nexthops,
		   size_t n)
{
	struct kroute *kr = d->kr;
	struct learned **pp, *l;
	char a[PREFIX_STRLEN];
	int r;

	if (kr == NULL || !ipaddr_len(p->addr.family))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (nexthops[i].family != p->addr.family)
			return -EAFNOSUPPORT;
	/* never replace a workload route with a learned one */
	if (n && rib_has_kernel(d->rib, p)) {
		log_debug("learned route %s not installed: it is a local workload route",
			  prefix_fmt(p, a, sizeof(a)));
		return -EEXIST;
	}
	for (pp = &kr->learned[learned_bucket(p)]; *pp; pp = &(*pp)->next)
		if (prefix_eq(&(*pp)->p, p))
			break;
	if (n == 0 && *pp == NULL)
		return 0;
	r = kr_learned_msg(kr, p, nexthops, n);
	if (r == -ESRCH && n == 0)
		r = 0;
	if (r < 0) {
		log_warnx("kernel route %s (%zu next hops): %s%s%s", prefix_fmt(p, a, sizeof(a)),
			  n, strerror(-r), kr->req.ext[0] ? ": " : "", kr->req.ext);
		return r;
	}
	if (*pp != NULL) {
		l = *pp;
		*pp = l->next;
		free(l);
		kr->n_learned--;
	}
	if (n == 0)
		return 0;
	l = malloc(sizeof(*l) + n * sizeof(l->nh[0]));
	if (l == NULL)
		return -ENOMEM;	/* installed, not remembered: flushed at next start */
	l->p = *p;
	l->n = n;
	memcpy(l->nh, nexthops, n * sizeof(l->nh[0]));
	l->next = kr->learned[learned_bucket(p)];
	kr->learned[learned_bucket(p)] = l;
	kr->n_learned++;
	return 0;
}

void
kroute_learned_walk(struct ld *d,
		    void (*cb)(const struct prefix *p, const struct ipaddr *nh, size_t n,
			       void *arg), void *arg)
{
	if (d->kr == NULL)
		return;
	for (size_t b = 0; b < KROUTE_LEARNED_BUCKETS; b++)
		for (struct learned *l = d->kr->learned[b]; l; l = l->next)
			cb(&l->p, l->nh, l->n, arg);
}

/* Routes of RTPROT_BGP left by a previous run (one that was killed and
 * could not remove them).  With graceful restart (RFC 4724) we would keep
 * them until the peers' End-of-RIB and then delete only the stale ones;
 * until then a restart starts clean.
 *
 * The dump only collects them: a route_del() on the same socket while the
 * dump is being read would swallow the rest of the dump (its answers are
 * skipped as stale) and leave the dump waiting for an NLMSG_DONE that
 * never comes -- leafnetd hung at start after any crash. */
struct kr_stale {
	struct route *rt;
	size_t n, cap;
};

static int
kr_stale_cb(const struct route *rt, void *arg)
{
	struct kr_stale *st = arg;

	if (st->n == st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 64;
		struct route *nr = realloc(st->rt, ncap * sizeof(*nr));

		if (nr == NULL)
			return -ENOMEM;
		st->rt = nr;
		st->cap = ncap;
	}
	st->rt[st->n++] = *rt;
	return 0;
}

static void
kr_flush_stale(struct kroute *kr)
{
	struct kr_stale st = { 0 };
	size_t gone = 0;
	int r;

	r = route_dump(&kr->req, AF_UNSPEC, 0, RTPROT_BGP, kr_stale_cb, &st);
	if (r < 0)
		log_warnx("dumping stale learned routes (protocol %d): %s", RTPROT_BGP,
			  strerror(-r));
	for (size_t i = 0; i < st.n; i++) {
		struct route del = st.rt[i];

		/* by prefix, protocol and table: every next hop of it goes */
		memset(&del.gateway, 0, sizeof(del.gateway));
		del.oif = 0;
		del.flags = 0;
		del.scope = RT_SCOPE_NOWHERE;
		if (route_del(&kr->req, &del) == 0)
			gone++;
	}
	if (gone > 0)
		log_info("removed %zu learned routes (protocol %d) a previous run left behind",
			 gone, RTPROT_BGP);
	free(st.rt);
}

/* ---- life ------------------------------------------------------------- */

int
kroute_open(struct ld *d)
{
	size_t n = 0, gone = 0;
	uint64_t t0 = ld_now_ms();
	int r;

	d->kr = calloc(1, sizeof(*d->kr));
	if (d->kr == NULL)
		return -ENOMEM;
	r = nl_open(&d->kr->req);
	if (r < 0) {
		log_warnx("netlink socket: %s", strerror(-r));
		return r;
	}
	kr_flush_stale(d->kr);
	/* subscribe before the dump: a change during the dump is then seen
	 * again as an event, which the RIB takes idempotently */
	r = kr_mon_open(d);
	if (r < 0) {
		log_warnx("route monitor: %s", strerror(-r));
		return r;
	}
	r = kr_dump(d, &n, &gone);
	if (r < 0) {
		log_warnx("dumping the kernel's workload routes: %s", strerror(-r));
		return r;
	}
	log_info("%zu workload routes (protocol %d) in the kernel, loaded in %llu ms",
		 n, LEAFNET_RTPROT, (unsigned long long)(ld_now_ms() - t0));
	return 0;
}

void
kroute_close(struct ld *d)
{
	struct kroute *kr = d->kr;

	if (kr == NULL)
		return;
	kr_mon_close(d);
	for (size_t b = 0; b < KROUTE_LEARNED_BUCKETS; b++) {
		struct learned *l = kr->learned[b], *next;

		for (; l; l = next) {
			next = l->next;
			if (kr->req.sock)
				(void)kr_learned_msg(kr, &l->p, NULL, 0);
			free(l);
		}
	}
	nl_close(&kr->req);
	free(kr);
	d->kr = NULL;
}
