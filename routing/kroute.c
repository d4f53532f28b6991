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
 * The same monitor (and a dump at start and after an overflow) feeds the
 * next-hop table (nexthop.c) with every other route of the main table,
 * the node's addresses and link downs: the BGP side asks whether each
 * next hop it holds is usable (NH_TRACK) and hears so at once and on every
 * change (NH_STATE); learned routes are installed resolved through it.
 *
 * Out: routes the BGP side learned, as LD_MSG_KR_CHANGE / KR_DELETE
 * messages (msg.h).  kroute_learned_msg() stages each as a netlink request
 * in this turn's batch; kroute_commit() at the end of the turn sends the
 * batch in one sendmsg and reads the ACKs back (nl_talk_batch), logging
 * the kernel's extack text for each failure, so a turn that changed 1,000
 * routes costs a handful of system calls, not 1,000 round trips.  They are
 * installed with rtm_protocol LEAFNET_RTPROT_LEARNED (77, lib/leafnet.h):
 * never mistaken for workload routes, and never another daemon's (FRR and
 * others use RTPROT_BGP, 186).  ECMP through RTA_MULTIPATH (route_build()).
 *
 * Graceful restart (RFC 4724, routing/gr.c): the learned routes a killed
 * or restarted leafnetd left are kept at start, as installed, marked stale
 * and wanted by nobody yet, and the BGP side is told (LD_MSG_GR_KEPT).  A
 * KR_CHANGE whose hops resolve to what the kernel has only clears the
 * mark (no netlink request at all); at LD_MSG_KR_SWEEP (route selection
 * done) what is still stale is removed.  At a clean stop every learned
 * route goes.
 *
 * This is the only file that writes routes (route.h) for leafnetd.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/filter.h>
#include <linux/rtnetlink.h>

#include "addr.h"
#include "clock.h"
#include "dbuf.h"
#include "hash.h"
#include "leafnet.h"
#include "ld_local.h"
#include "log.h"
#include "nexthop.h"
#include "nl.h"
#include "route.h"

#ifndef RTM_F_FIB_MATCH
#define RTM_F_FIB_MATCH 0x2000
#endif
/* Large enough for a burst of ~200,000 route events between two reads. */
#define KROUTE_RCVBUF		(32 * 1024 * 1024)
#define KROUTE_READS_PER_TURN	512
/* One netlink batch: at most this many requests or bytes per sendmsg, so
 * the ACKs always fit the request socket's receive buffer. */
#define KR_BATCH_MSGS		128
#define KR_BATCH_BYTES		(32 * 1024)

/* Back-off of a learned route the kernel refused (or a hop of it). */
#define KR_RETRY_MIN_MS		1000
#define KR_RETRY_MAX_MS		30000

/* A learned route: what the BGP side wants (its BGP next hops) and what
 * the kernel has (the resolved hops it ACKed). */
struct learned {
	struct hnode hn;
	struct prefix p;
	uint8_t n;			/* BGP next hops wanted; 0: none */
	uint8_t n_inst;			/* hops in the kernel; 0: not installed */
	uint8_t n_bad;			/* hops the kernel refused: left out */
	uint8_t npend;			/* requests for it in the batch */
	bool probe;			/* refused as a whole: try hop by hop */
	bool probed;			/* ... done; until a retry, not again */
	bool timed;			/* the back-off's retry is running */
	bool soon;			/* retry_due brought forward by a change */
	bool stale;			/* a previous run's, not wanted again yet */
	uint32_t retry_ms;		/* current back-off; 0: none */
	uint64_t retry_due;		/* refused: try again then; 0: no */
	uint64_t refused;		/* when it last was */
	struct ipaddr *nh;		/* [n] */
	struct route_nh *inst;		/* [n_inst] */
	struct route_nh *bad;		/* [n_bad] */
};

/* A request in the batch, and what to do with the table when it is ACKed. */
struct kr_pending {
	struct prefix p;
	uint32_t n;			/* 0: delete */
	uint32_t n_bgp;
	bool track;			/* update the learned table */
	bool probe;			/* one hop alone: does the kernel take it? */
	struct route_nh nh[LD_MSG_NH_MAX];
	struct ipaddr bgp[LD_MSG_NH_MAX];	/* the BGP next hops behind it */
};

struct kroute {
	struct nl req;			/* dumps, lookups, learned routes */
	struct mnl_socket *mon;		/* the route/link monitor */
	int mon_fd;
	uint32_t gen;			/* dump generation for rib_sweep() */
	size_t resyncs;
	struct htab learned;		/* struct learned by prefix */
	size_t n_installed;		/* ... with a route in the kernel */
	size_t n_stale;			/* ... a previous run's, stale */
	struct nh_table *nh;		/* next-hop resolution (nexthop.c) */
	bool kernel_changed;		/* a kernel route, address or link did */
	struct prefix *todo;		/* learned routes to look at again */
	size_t ntodo, cap_todo;
	size_t n_retry;			/* learned routes with retry_due */
	uint64_t retry_next;		/* the earliest of them */

	/* this turn's batch */
	char *bbuf;			/* KR_BATCH_BYTES + ROUTE_MSG_MAX */
	size_t blen, bn;
	struct kr_pending pend[KR_BATCH_MSGS];
	size_t batches, batched;	/* sent so far, for the log */
	size_t bfail;			/* failures in the current commit */
};

static uint32_t
learned_hash(const struct prefix *p)
{
	uint32_t h = hash_fnv1a32(HASH_FNV32_INIT, &p->len, 1);

	return hash_finish32(hash_fnv1a32(h, p->addr.u.b, ipaddr_len(p->addr.family)));
}

static struct learned *
learned_find(struct kroute *kr, const struct prefix *p)
{
	uint32_t h = learned_hash(p);
	struct hnode *hn;

	HTAB_FOR_EACH_HASH(&kr->learned, h, hn) {
		struct learned *l = HTAB_ENTRY(hn, struct learned, hn);

		if (prefix_eq(&l->p, p))
			return l;
	}
	return NULL;
}

static int
learned_insert(struct kroute *kr, struct learned *l)
{
	const struct prefix *p = &l->p;
	uint32_t h = learned_hash(p);

	return htab_insert(&kr->learned, &l->hn, h);
}

/* ---- monitor ---------------------------------------------------------- */

/* A route message about one of our workload routes?  Fills p and oif. */
static bool
kr_parse_route(const struct nlmsghdr *nlh, struct prefix *p, int *oif)
{
	struct route rt;

	if (route_parse(nlh, &rt) < 0 || rt.protocol != LEAFNET_RTPROT ||
	    rt.type != RTN_UNICAST || rt.table != RT_TABLE_MAIN)
		return false;
	*p = rt.dst;
	prefix_mask(p);
	*oif = rt.oif;
	return true;
}

/* ---- what next-hop resolution needs (nexthop.c) ----------------------- */

/* A route of the main table for the next-hop table: every protocol's but
 * ours (workload routes resolve nothing, learned ones go in as we install
 * them, with their BGP next hops). */
static void
kr_nh_route(struct ld *d, const struct nlmsghdr *nlh, const struct route *rt)
{
	struct kroute *kr = d->kr;
	bool replace = nlh->nlmsg_type == RTM_NEWROUTE && (nlh->nlmsg_flags & NLM_F_REPLACE);

	if (rt->table != RT_TABLE_MAIN)
		return;
	if (rt->protocol == LEAFNET_RTPROT || rt->protocol == LEAFNET_RTPROT_LEARNED) {
		if (replace)		/* ours took another's place */
			nh_kernel_replaced(kr->nh, rt);
		return;
	}
	if (nlh->nlmsg_type == RTM_NEWROUTE)
		(void)nh_kernel_add(kr->nh, rt, replace);
	else
		nh_kernel_del(kr->nh, rt);
	kr->kernel_changed = true;
}

static void
kr_nh_addr(struct ld *d, const struct nlmsghdr *nlh)
{
	struct addr_info ai;

	if (addr_parse(nlh, &ai) < 0)
		return;
	if (nlh->nlmsg_type == RTM_NEWADDR)
		(void)nh_addr_add(d->kr->nh, &ai.addr.addr, ai.ifindex);
	else
		nh_addr_del(d->kr->nh, &ai.addr.addr, ai.ifindex);
	d->kr->kernel_changed = true;
}

static int
kr_nh_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct route rt;

	if (nlh->nlmsg_type == RTM_NEWROUTE && route_parse(nlh, &rt) == 0)
		kr_nh_route(arg, nlh, &rt);
	return MNL_CB_OK;
}

static int
kr_nh_addr_cb(const struct addr_info *ai, void *arg)
{
	struct ld *d = arg;

	(void)nh_addr_add(d->kr->nh, &ai->addr.addr, ai->ifindex);
	return 0;
}

/* The node's addresses and every table-main route, afresh. */
static int
kr_nh_load(struct ld *d)
{
	struct kroute *kr = d->kr;
	int r = -EINTR;

	for (int tries = 0; tries < 5 && r == -EINTR; tries++) {
		char buf[NL_MSG_SIZE] = { 0 };
		struct nlmsghdr *nlh;
		struct rtmsg *rtm;

		nh_kernel_clear(kr->nh);
		r = addr_dump(&kr->req, AF_UNSPEC, 0, kr_nh_addr_cb, d);
		if (r < 0)
			continue;
		nlh = nl_msg(&kr->req, buf, RTM_GETROUTE, 0);
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = AF_UNSPEC;
		r = nl_dump(&kr->req, nlh, kr_nh_dump_cb, d);
	}
	kr->kernel_changed = true;
	return r;
}

static int
kr_event_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct ld *d = arg;
	struct prefix p;
	struct route rt;

	switch (nlh->nlmsg_type) {
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (route_parse(nlh, &rt) < 0)
			break;
		kr_nh_route(d, nlh, &rt);
		/* our workload routes, for the local RIB */
		if (rt.protocol != LEAFNET_RTPROT || rt.type != RTN_UNICAST ||
		    rt.table != RT_TABLE_MAIN)
			break;
		p = rt.dst;
		prefix_mask(&p);
		if (nlh->nlmsg_type == RTM_NEWROUTE)
			(void)rib_kernel_add(d->rib, &p, rt.oif, d->kr->gen);
		else
			rib_kernel_del(d->rib, &p);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		kr_nh_addr(d, nlh);
		break;
	case RTM_NEWLINK:
	case RTM_DELLINK: {
		const struct ifinfomsg *ifi;

		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
			break;
		ifi = mnl_nlmsg_get_payload(nlh);
		if (nlh->nlmsg_type == RTM_DELLINK || !(ifi->ifi_flags & IFF_UP)) {
			rib_kernel_link_down(d->rib, ifi->ifi_index);
			nh_kernel_link_down(d->kr->nh, ifi->ifi_index);
			d->kr->kernel_changed = true;
		}
		break;
	}
	}
	return MNL_CB_OK;
}

static void kr_mon_cb(int fd, short revents, void *arg);

/* The kernel tells the monitor about our own learned routes too, each
 * notification carrying the port id of the socket whose request made it
 * (nlmsg_pid): 100,000 installs would be 100,000 messages read and thrown
 * away, enough to overflow the monitor into a resync dump of the whole
 * table.  A socket filter drops them in the kernel (zebra does the same
 * for its own changes).  Everything else passes, workload routes (the
 * plugins' sockets) and the kernel's own (port id 0) alike. */
static void
kr_mon_filter(struct kroute *kr)
{
	struct sock_filter code[] = {
		/* a word load is big-endian: compare with htonl() of the id */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_pid)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(kr->req.portid), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	if (kr->req.portid != 0 &&
	    setsockopt(kr->mon_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		log_debug("route monitor: no socket filter for our own routes: %s",
			  strerror(errno));
}

static int
kr_mon_open(struct ld *d)
{
	struct kroute *kr = d->kr;
	const char *test = getenv("LEAFNETD_TEST_RCVBUF");	/* test hook: force ENOBUFS */
	int size = test && atoi(test) > 0 ? atoi(test) : KROUTE_RCVBUF;
	unsigned groups = RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_LINK |
			  RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	int r;

	kr->mon = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (kr->mon == NULL)
		return -errno;
	kr->mon_fd = mnl_socket_get_fd(kr->mon);
	/* FORCE goes past net.core.rmem_max when we are root; the test
	 * size must stick, so it uses the plain option */
	if (test || setsockopt(kr->mon_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(kr->mon_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	kr_mon_filter(kr);
	if (mnl_socket_bind(kr->mon, groups, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(kr->mon);
		kr->mon = NULL;
		return r;
	}
	r = loop_io_add(d->loop, kr->mon_fd, POLLIN, kr_mon_cb, d);
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
	loop_io_del(d->loop, d->kr->mon_fd);
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
	uint64_t t0 = clock_now_ms();
	size_t n = 0, gone = 0;
	int r;

	d->kr->resyncs++;
	kr_mon_close(d);
	r = kr_mon_open(d);
	if (r < 0)
		fatalx("route monitor: cannot reopen the netlink socket: %s", strerror(-r));
	r = kr_nh_load(d);
	if (r < 0)
		log_warnx("route monitor: resync of routes and addresses for next hops "
			  "failed: %s", strerror(-r));
	r = kr_dump(d, &n, &gone);
	if (r < 0) {
		/* keep what we have; the next overflow or restart fixes it */
		log_warnx("route monitor: resync dump failed: %s", strerror(-r));
		return;
	}
	log_info("route monitor: the kernel dropped events (socket overflow); "
		 "resynced %zu workload routes (%zu gone) in %llu ms", n, gone,
		 (unsigned long long)(clock_now_ms() - t0));
}

static void
kr_mon_cb(int fd, short revents, void *arg)
{
	static char buf[65536];
	struct ld *d = arg;

	(void)fd;
	(void)revents;
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

size_t
kroute_learned_count(const struct ld *d)
{
	return d->kr ? d->kr->n_installed : 0;
}

/* ---- learned routes out: one netlink batch per turn ------------------ */

/* A learned route is installed resolved (nexthop.c): every BGP next hop
 * the BGP side chose becomes the hops that resolve it, on a connected
 * network "via NH dev D", through a route "via GW dev D" (the route's own
 * gateway, device and onlink flag), or "via NH dev D onlink" when
 * bgp_nexthop_onlink is set.  A next hop that resolves nothing is left
 * out (the BGP side hears so from NH_STATE and chooses again).
 *
 * A refusal is never final.  When the kernel refuses an ECMP route, each
 * hop is tried alone, the refused ones are left out and the others
 * installed, so one bad next hop never costs the good ones their route;
 * a refused route or hop is tried again after a back-off (1 s doubling to
 * 30 s), at once when a kernel route, address or link changes, or when
 * the resolution of one of its next hops does. */

static void kr_sync(struct ld *d, struct learned *l);

static int
kr_hop_qcmp(const void *a, const void *b)
{
	return route_nh_cmp(a, b);	/* the order nh_route_hops() returns */
}

static bool
hops_eq(const struct route_nh *a, size_t na, const struct route_nh *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!route_nh_eq(&a[i], &b[i]))
			return false;
	return true;
}

/* *dst = a copy of src[0..n) (NULL when n is 0); -ENOMEM keeps *dst. */
static int
arr_set(void **dst, const void *src, size_t n, size_t size)
{
	void *p = NULL;

	if (n > 0) {
		if ((p = malloc(n * size)) == NULL)
			return -ENOMEM;
		memcpy(p, src, n * size);
	}
	free(*dst);
	*dst = p;
	return 0;
}

static struct learned *
learned_new(struct kroute *kr, const struct prefix *p)
{
	struct learned *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->p = *p;
	if (learned_insert(kr, l) < 0) {
		free(l);
		return NULL;
	}
	return l;
}

static void
learned_free(struct kroute *kr, struct learned *l)
{
	if (l->stale)
		kr->n_stale--;
	if (l->retry_due)
		kr->n_retry--;
	if (l->n_inst)
		kr->n_installed--;
	htab_remove(&kr->learned, &l->hn);
	free(l->nh);
	free(l->inst);
	free(l->bad);
	free(l);
}

/* Look at l again after this batch (a refusal, a delete ACKed). */
static void
kr_todo_add(struct kroute *kr, const struct prefix *p)
{
	if (GROW(kr->todo, kr->cap_todo, kr->ntodo + 1) == 0)
		kr->todo[kr->ntodo++] = *p;
	/* else the retry timer gets to it */
}

/* Refused: try again after the back-off, which doubles when the last
 * timed retry was refused too (a retry a change brought keeps it). */
static void
kr_retry_schedule(struct kroute *kr, struct learned *l)
{
	if (l->retry_ms == 0)
		l->retry_ms = KR_RETRY_MIN_MS;
	else if (l->timed)
		l->retry_ms *= 2;
	l->timed = false;
	if (l->retry_ms > KR_RETRY_MAX_MS)
		l->retry_ms = KR_RETRY_MAX_MS;
	if (l->retry_due == 0)
		kr->n_retry++;
	l->refused = ld_now_ms();
	l->retry_due = l->refused + l->retry_ms;
	l->soon = false;
	if (kr->retry_next == 0 || l->retry_due < kr->retry_next)
		kr->retry_next = l->retry_due;
}

/* Leave hop h of l out until the retry; false when it already was (or
 * cannot be: then only the retry looks at l again). */
static bool
kr_bad_add(struct learned *l, const struct route_nh *h)
{
	struct route_nh *b;

	for (size_t i = 0; i < l->n_bad; i++)
		if (route_nh_eq(&l->bad[i], h))
			return false;
	if (l->n_bad >= LD_MSG_NH_MAX ||
	    (b = realloc(l->bad, (l->n_bad + 1u) * sizeof(*b))) == NULL)
		return false;
	b[l->n_bad++] = *h;
	l->bad = b;
	return true;
}

static void
kr_ack(size_t i, int err, void *arg)
{
	struct ld *d = arg;
	struct kroute *kr = d->kr;
	struct kr_pending *pd = &kr->pend[i];
	struct learned *l;
	char a[PREFIX_STRLEN], g[IPADDR_STRLEN];

	if (err == -ESRCH && pd->n == 0)
		err = 0;		/* already gone */
	l = pd->track ? learned_find(kr, &pd->p) : NULL;
	if (l != NULL && l->npend > 0)
		l->npend--;
	if (err < 0) {
		kr->bfail++;
		if (pd->probe)
			log_warnx("kernel route %s via %s alone (protocol %d): %s%s%s; left "
				  "out, tried again later", prefix_fmt(&pd->p, a, sizeof(a)),
				  ipaddr_fmt(&pd->nh[0].gw, g, sizeof(g)), LEAFNET_RTPROT_LEARNED,
				  strerror(-err), kr->req.ext[0] ? ": " : "", kr->req.ext);
		else
			log_warnx("kernel route %s (%u next hops, protocol %d): %s%s%s%s",
				  prefix_fmt(&pd->p, a, sizeof(a)), pd->n, LEAFNET_RTPROT_LEARNED,
				  strerror(-err), kr->req.ext[0] ? ": " : "", kr->req.ext,
				  l == NULL ? "" : pd->n > 1 ? "; trying each next hop alone" :
				  "; tried again later");
		if (l == NULL)
			return;
		kr_retry_schedule(kr, l);
		if (pd->n == 0)
			return;		/* a delete: only the retry tries it again */
		if (pd->n > 1 && !pd->probe) {
			/* every hop alone was taken, but not all of them
			 * together: keep what is there until the retry */
			if (l->probed)
				return;
			l->probe = true;
		} else if (!kr_bad_add(l, &pd->nh[0])) {
			return;
		}
		kr_todo_add(kr, &l->p);
		return;
	}
	if (l == NULL)
		return;
	if (pd->n == 0) {
		if (l->n_inst)
			kr->n_installed--;
		l->n_inst = 0;
		free(l->inst);
		l->inst = NULL;
		(void)nh_learned_set(kr->nh, &l->p, NULL, 0);
		if (l->n == 0)
			kr_todo_add(kr, &l->p);		/* to be freed */
		return;
	}
	if (arr_set((void **)&l->inst, pd->nh, pd->n, sizeof(pd->nh[0])) < 0) {
		/* installed, not remembered: flushed at next start */
		log_warnx("kernel route %s: out of memory remembering it",
			  prefix_fmt(&pd->p, a, sizeof(a)));
		return;
	}
	if (l->n_inst == 0)
		kr->n_installed++;
	l->n_inst = (uint8_t)pd->n;
	(void)nh_learned_set(kr->nh, &l->p, pd->bgp, pd->n_bgp);
	if (!pd->probe) {
		l->probed = false;
		if (l->n_bad == 0)
			l->retry_ms = 0;	/* taken whole: the back-off starts over */
	}
}

/* Send what is staged and read the ACKs. */
static void
kr_batch_send(struct ld *d)
{
	struct kroute *kr = d->kr;

	if (kr->bn == 0)
		return;
	(void)nl_talk_batch(&kr->req, kr->bbuf, kr->blen, kr->bn, kr_ack, d);
	kr->batches++;
	kr->batched += kr->bn;
	kr->bn = 0;
	kr->blen = 0;
}

/* Stage one request: rt via nh[0..n) (n == 0: delete).  l: the learned
 * route it is for (its table follows when the kernel ACKs it); NULL for
 * a flush.  probe: one hop of a refused ECMP route, alone. */
static int
kr_stage(struct ld *d, const struct route *rt, const struct route_nh *nh, size_t n,
	 struct learned *l, bool probe)
{
	struct kroute *kr = d->kr;
	struct kr_pending *pd;
	struct nlmsghdr *nlh;
	int r;

	/* a prefix twice in one batch: let the first one be ACKed (and
	 * the table follow) before the second is judged */
	for (size_t i = 0; i < kr->bn; i++)
		if (prefix_eq(&kr->pend[i].p, &rt->dst)) {
			kr_batch_send(d);
			break;
		}
	if (kr->bn == KR_BATCH_MSGS)
		kr_batch_send(d);
	r = route_build(&kr->req, kr->bbuf + kr->blen, ROUTE_MSG_MAX,
			n ? RTM_NEWROUTE : RTM_DELROUTE, n ? NLM_F_CREATE | NLM_F_REPLACE : 0,
			rt, nh, n, &nlh);
	if (r < 0)
		return r;
	kr->blen += MNL_ALIGN(nlh->nlmsg_len);
	pd = &kr->pend[kr->bn++];
	pd->p = rt->dst;
	pd->n = (uint32_t)n;
	pd->track = l != NULL;
	pd->probe = probe;
	pd->n_bgp = 0;
	if (n > 0)
		memcpy(pd->nh, nh, n * sizeof(nh[0]));
	if (l != NULL) {
		l->npend++;
		pd->n_bgp = l->n;
		if (l->n > 0)
			memcpy(pd->bgp, l->nh, l->n * sizeof(l->nh[0]));
	}
	if (kr->blen >= KR_BATCH_BYTES)
		kr_batch_send(d);
	return 0;
}

static void
kr_route_init(struct route *rt, const struct prefix *p, bool del)
{
	memset(rt, 0, sizeof(*rt));
	rt->dst = *p;
	rt->protocol = LEAFNET_RTPROT_LEARNED;
	rt->scope = del ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE;
	rt->type = RTN_UNICAST;
}

/* What l should have in the kernel now: its next hops resolved, without
 * the hops the kernel refused.  Returns how many. */
static size_t
kr_want(struct kroute *kr, const struct learned *l, struct route_nh *hops)
{
	size_t n = 0, m = 0;

	if (l->n > 0)
		n = nh_route_hops(kr->nh, &l->p, l->nh, l->n, hops, ROUTE_NH_MAX);
	for (size_t i = 0; i < n; i++) {
		bool bad = false;

		for (size_t j = 0; j < l->n_bad && !bad; j++)
			bad = route_nh_eq(&hops[i], &l->bad[j]);
		if (!bad)
			hops[m++] = hops[i];
	}
	return m;
}

/* Bring the kernel's route for l in line with what is wanted: stage a
 * replace or a delete when they differ.  Frees l once nothing is wanted,
 * installed or pending. */
static void
kr_sync(struct ld *d, struct learned *l)
{
	struct kroute *kr = d->kr;
	struct route_nh hops[ROUTE_NH_MAX];
	char a[PREFIX_STRLEN];
	struct route rt;
	size_t n;
	bool kept = false;
	int r;

	if (l->stale) {
		if (l->n == 0)
			return;		/* a previous run's: only the sweep */
		l->stale = false;	/* wanted again (graceful restart) */
		kr->n_stale--;
		kept = true;
	}
	if (l->npend > 0)		/* judge against what the kernel has */
		kr_batch_send(d);
	n = kr_want(kr, l, hops);
	if (hops_eq(hops, n, l->inst, l->n_inst)) {
		if (kept)		/* the kernel has it already */
			(void)nh_learned_set(kr->nh, &l->p, l->nh, l->n);
		if (l->n == 0 && l->n_inst == 0 && l->npend == 0)
			learned_free(kr, l);
		return;
	}
	kr_route_init(&rt, &l->p, n == 0);
	r = kr_stage(d, &rt, hops, n, l, false);
	if (r < 0)
		log_warnx("kernel route %s (%zu next hops): %s", prefix_fmt(&l->p, a, sizeof(a)),
			  n, strerror(-r));
}

/* The kernel refused l's ECMP route: stage each hop alone, then look at
 * it again with the refused ones left out. */
static void
kr_probe(struct ld *d, struct learned *l)
{
	struct route_nh hops[ROUTE_NH_MAX];
	struct route rt;
	size_t n;

	l->probe = false;
	l->probed = true;
	n = kr_want(d->kr, l, hops);
	kr_route_init(&rt, &l->p, false);
	for (size_t i = 0; n > 1 && i < n; i++)
		(void)kr_stage(d, &rt, &hops[i], 1, l, true);
	if (n > 1)
		kr_todo_add(d->kr, &l->p);
	else
		kr_sync(d, l);
}

/* Clear what l's refusals left out and look at it again (timed: the
 * back-off's retry, not one a change brought). */
static void
kr_retry_now(struct ld *d, struct learned *l, bool timed)
{
	l->timed = timed;
	if (l->retry_due) {
		l->retry_due = 0;
		d->kr->n_retry--;
	}
	free(l->bad);
	l->bad = NULL;
	l->n_bad = 0;
	l->probed = false;
	kr_sync(d, l);
}

void
kroute_learned_msg(struct ld *d, const struct ld_msg *m)
{
	struct kroute *kr = d->kr;
	const struct prefix *p = &m->p;
	size_t n = m->type == LD_MSG_KR_CHANGE ? m->u.kr.n : 0;
	char a[PREFIX_STRLEN];
	struct learned *l;

	if (kr == NULL || !ipaddr_len(p->addr.family) || n > LD_MSG_NH_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		if (m->u.kr.nh[i].family != p->addr.family)
			return;
	/* never replace a workload route with a learned one */
	if (n && rib_has_kernel(d->rib, p)) {
		log_warnx("learned route %s not installed: it is a local workload route",
			  prefix_fmt(p, a, sizeof(a)));
		return;
	}
	if ((l = learned_find(kr, p)) == NULL) {
		if (n == 0)
			return;		/* nothing of ours to remove */
		if ((l = learned_new(kr, p)) == NULL) {
			log_warnx("kernel route %s: out of memory", prefix_fmt(p, a, sizeof(a)));
			return;
		}
	}
	if (arr_set((void **)&l->nh, m->u.kr.nh, n, sizeof(m->u.kr.nh[0])) < 0) {
		log_warnx("kernel route %s: out of memory", prefix_fmt(p, a, sizeof(a)));
		n = 0;
		free(l->nh);
		l->nh = NULL;
	}
	l->n = (uint8_t)n;
	kr_sync(d, l);
}

/* ---- next hops the BGP side watches ---------------------------------- */

void
kroute_nh_msg(struct ld *d, const struct ld_msg *m)
{
	struct kroute *kr = d->kr;
	const struct nh_res *res = NULL;
	char a[IPADDR_STRLEN];

	if (m->type == LD_MSG_NH_UNTRACK) {
		if (kr != NULL)
			nh_untrack(kr->nh, &m->p.addr);
		return;
	}
	if (kr != NULL && (res = nh_track(kr->nh, &m->p.addr)) == NULL)
		log_warnx("next hop %s: out of memory tracking it",
			  ipaddr_fmt(&m->p.addr, a, sizeof(a)));
	if (res != NULL && res->state != LD_NH_USABLE)
		log_info("next hop %s: %s: its routes are not used",
			 ipaddr_fmt(&m->p.addr, a, sizeof(a)), nh_state_name(res->state));
	if (msgq_put_nh(&d->to_bgp, LD_MSG_NH_STATE, &m->p.addr,
			res ? res->state : LD_NH_UNREACHABLE) < 0)
		log_warnx("next hop %s: out of memory answering", ipaddr_fmt(&m->p.addr, a, sizeof(a)));
}

#define KR_EVAL_MAX	64

struct kr_eval {
	struct ld *d;
	struct ipaddr changed[KR_EVAL_MAX];
	size_t n;
	bool all;
};

static void
kr_nh_changed(const struct ipaddr *a, const struct nh_res *old, const struct nh_res *res,
	      void *arg)
{
	struct kr_eval *ev = arg;
	char s[IPADDR_STRLEN], g[IPADDR_STRLEN];

	if (old->state != res->state) {
		if (res->state == LD_NH_USABLE)
			log_info("next hop %s: usable%s%s", ipaddr_fmt(a, s, sizeof(s)),
				 res->recursive ? " through " : "",
				 res->recursive ? ipaddr_fmt(&res->hop[0].gw, g, sizeof(g)) : "");
		else
			log_info("next hop %s: %s: its routes are not used",
				 ipaddr_fmt(a, s, sizeof(s)), nh_state_name(res->state));
		if (msgq_put_nh(&ev->d->to_bgp, LD_MSG_NH_STATE, a, res->state) < 0)
			log_warnx("next hop %s: out of memory telling the BGP side",
				  ipaddr_fmt(a, s, sizeof(s)));
	}
	if (ev->n < KR_EVAL_MAX)
		ev->changed[ev->n++] = *a;
	else
		ev->all = true;
}

static bool
kr_uses(const struct learned *l, const struct kr_eval *ev)
{
	if (ev->all)
		return true;
	for (size_t i = 0; i < l->n; i++)
		for (size_t j = 0; j < ev->n; j++)
			if (ipaddr_eq(&l->nh[i], &ev->changed[j]))
				return true;
	return false;
}

/* After a change of the kernel's routes, addresses or links, or of the
 * learned routes installed: answer the BGP side where a next hop's state
 * changed, and move the learned routes whose next hops resolve otherwise
 * now (or that a refusal holds back: the change may have fixed it). */
static void
kr_reeval(struct ld *d)
{
	struct kroute *kr = d->kr;
	struct kr_eval ev = { .d = d };
	bool kernel = kr->kernel_changed && kr->n_retry > 0;
	uint64_t now = ld_now_ms();
	struct hnode *hn, *nx;
	size_t i;

	kr->kernel_changed = false;
	nh_set_flags(kr->nh, d->conf.base.bgp_nexthop_onlink ? NH_F_ONLINK : 0);
	if (nh_eval(kr->nh, kr_nh_changed, &ev) == 0 && !kernel)
		return;
	HTAB_FOR_EACH_SAFE(&kr->learned, i, hn, nx) {
		struct learned *l = HTAB_ENTRY(hn, struct learned, hn);

		if (kr_uses(l, &ev)) {
			kr_retry_now(d, l, false);
		} else if (kernel && l->retry_due) {
			/* a kernel change retries a refusal at once, but not
			 * more often than once a KR_RETRY_MIN_MS */
			uint64_t soon = l->refused + KR_RETRY_MIN_MS;

			if (now >= soon) {
				kr_retry_now(d, l, false);
			} else if (soon < l->retry_due) {
				l->retry_due = soon;
				l->soon = true;
				if (soon < kr->retry_next)
					kr->retry_next = soon;
			}
		}
	}
}

/* Retries that are due. */
static void
kr_retries(struct ld *d, uint64_t now)
{
	struct kroute *kr = d->kr;
	struct hnode *hn, *nx;
	size_t i;

	if (kr->n_retry == 0 || now < kr->retry_next)
		return;
	kr->retry_next = 0;
	HTAB_FOR_EACH_SAFE(&kr->learned, i, hn, nx) {
		struct learned *l = HTAB_ENTRY(hn, struct learned, hn);

		if (l->retry_due == 0)
			continue;
		if (l->retry_due <= now)
			kr_retry_now(d, l, !l->soon);
		else if (kr->retry_next == 0 || l->retry_due < kr->retry_next)
			kr->retry_next = l->retry_due;
	}
}

/* What refusals and ACKs left to look at. */
static void
kr_todo(struct ld *d)
{
	struct kroute *kr = d->kr;
	struct prefix *todo = kr->todo;
	size_t n = kr->ntodo;

	if (n == 0)
		return;
	kr->todo = NULL;
	kr->ntodo = kr->cap_todo = 0;
	for (size_t i = 0; i < n; i++) {
		struct learned *l = learned_find(kr, &todo[i]);

		if (l == NULL)
			continue;
		if (l->probe)
			kr_probe(d, l);
		else
			kr_sync(d, l);
	}
	free(todo);
}

void
kroute_commit(struct ld *d)
{
	struct kroute *kr = d->kr;
	size_t before;
	int round;

	if (kr == NULL)
		return;
	before = kr->batched;
	kr->bfail = 0;
	for (round = 0; round < 8; round++) {
		kr_batch_send(d);
		kr_todo(d);
		kr_reeval(d);
		kr_retries(d, ld_now_ms());
		if (kr->bn == 0 && kr->ntodo == 0 && !nh_dirty(kr->nh))
			break;
	}
	kr_batch_send(d);
	if (kr->ntodo > 0 || nh_dirty(kr->nh))
		loop_wakeup_at(d->loop, ld_now_ms());	/* more next turn */
	if (kr->n_retry > 0)
		loop_wakeup_at(d->loop, kr->retry_next);
	if (kr->batched != before)
		log_debug("kernel: %zu learned route changes, %zu failed",
			  kr->batched - before, kr->bfail);
}

void
kroute_learned_walk(struct ld *d,
		    void (*cb)(const struct prefix *p, const struct ipaddr *nh, size_t n,
			       void *arg), void *arg)
{
	struct hnode *hn, *nx;
	size_t i;

	if (d->kr == NULL)
		return;
	HTAB_FOR_EACH_SAFE(&d->kr->learned, i, hn, nx) {
		struct learned *l = HTAB_ENTRY(hn, struct learned, hn);

		if (l->n_inst > 0)
			cb(&l->p, l->nh, l->n, arg);
	}
}

/* Routes of LEAFNET_RTPROT_LEARNED left by a previous run (one that was
 * killed, or restarted), and only those: other daemons' routes (FRR's
 * zebra uses RTPROT_BGP) are none of ours.  They keep forwarding while we
 * are away and come back: each is adopted into the learned table as
 * installed (every hop of it: RTA_MULTIPATH, or a kernel that dumps IPv6
 * ECMP hop by hop), wanted by nobody and marked stale, and the BGP side
 * defers route selection until the peers' End-of-RIB (gr.c).  The dump
 * only collects: a request on the same socket while the dump is being
 * read would swallow the rest of it. */
struct kr_adopt {
	struct kroute *kr;
	size_t n;
	int err;
};

static int
kr_adopt_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct kr_adopt *ka = arg;
	struct kroute *kr = ka->kr;
	struct route_nh hops[ROUTE_NH_MAX];
	struct learned *l;
	struct route rt;
	size_t have;
	int n;

	if (nlh->nlmsg_type != RTM_NEWROUTE || route_parse(nlh, &rt) < 0 ||
	    rt.protocol != LEAFNET_RTPROT_LEARNED || rt.type != RTN_UNICAST ||
	    rt.table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	prefix_mask(&rt.dst);
	if ((l = learned_find(kr, &rt.dst)) == NULL) {
		if ((l = learned_new(kr, &rt.dst)) == NULL) {
			ka->err = -ENOMEM;
			return MNL_CB_OK;
		}
		l->stale = true;
		kr->n_stale++;
		ka->n++;
	}
	have = l->n_inst;
	if (have > 0)
		memcpy(hops, l->inst, have * sizeof(hops[0]));
	/* none (not one we make): kept without, so never "the same", and
	 * swept at the end */
	if ((n = route_parse_hops(nlh, hops + have, ROUTE_NH_MAX - have)) < 0)
		n = 0;
	have += (size_t)n;
	if (have == 0) {		/* still "installed", so it is removed */
		memset(hops, 0, sizeof(hops[0]));
		have = 1;
	}
	qsort(hops, have, sizeof(hops[0]), kr_hop_qcmp);
	if (arr_set((void **)&l->inst, hops, have, sizeof(hops[0])) < 0) {
		ka->err = -ENOMEM;
		return MNL_CB_OK;
	}
	if (l->n_inst == 0)
		kr->n_installed++;
	l->n_inst = (uint8_t)have;
	/* until it is wanted again, it resolves next hops through its
	 * kernel gateways (a recursive route behind it stays usable) */
	{
		struct ipaddr gw[ROUTE_NH_MAX];
		size_t m = 0;

		for (size_t i = 0; i < have; i++)
			if (hops[i].gw.family)
				gw[m++] = hops[i].gw;
		(void)nh_learned_set(kr->nh, &l->p, gw, m);
	}
	return MNL_CB_OK;
}

static void
kr_adopt_stale(struct ld *d)
{
	char buf[NL_MSG_SIZE] = { 0 };
	struct kr_adopt ka = { .kr = d->kr };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int r;

	nlh = nl_msg(&d->kr->req, buf, RTM_GETROUTE, 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_UNSPEC;
	r = nl_dump(&d->kr->req, nlh, kr_adopt_cb, &ka);
	if (r < 0 || ka.err < 0)
		log_warnx("dumping the learned routes (protocol %d) a previous run left: %s",
			  LEAFNET_RTPROT_LEARNED, strerror(r < 0 ? -r : -ka.err));
	if (ka.n == 0)
		return;
	log_info("graceful restart: %zu learned routes (protocol %d) of a previous run "
		 "kept in the kernel, stale until the peers' End-of-RIB",
		 ka.n, LEAFNET_RTPROT_LEARNED);
	if (msgq_put_ctl(&d->to_bgp, LD_MSG_GR_KEPT, (uint32_t)ka.n) < 0) {
		/* without the deferral nothing would sweep them: now then */
		log_warnx("graceful restart: out of memory; removing them now");
		kroute_sweep(d);
	}
}

void
kroute_sweep(struct ld *d)
{
	struct kroute *kr = d->kr;
	struct hnode *hn, *nx;
	size_t i, gone = 0;

	if (kr == NULL || kr->n_stale == 0)
		return;
	HTAB_FOR_EACH_SAFE(&kr->learned, i, hn, nx) {
		struct learned *l = HTAB_ENTRY(hn, struct learned, hn);

		if (!l->stale)
			continue;
		l->stale = false;
		kr->n_stale--;
		gone++;
		kr_sync(d, l);		/* nothing wanted: a delete */
	}
	if (gone > 0)
		log_info("graceful restart: removing %zu stale learned routes (protocol %d) "
			 "no peer advertised again", gone, LEAFNET_RTPROT_LEARNED);
}

size_t
kroute_stale_count(const struct ld *d)
{
	return d->kr ? d->kr->n_stale : 0;
}

/* ---- life ------------------------------------------------------------- */

int
kroute_open(struct ld *d)
{
	size_t n = 0, gone = 0;
	uint64_t t0 = clock_now_ms();
	int r;

	d->kr = calloc(1, sizeof(*d->kr));
	if (d->kr == NULL)
		return -ENOMEM;
	d->kr->bbuf = malloc(KR_BATCH_BYTES + ROUTE_MSG_MAX);
	if (d->kr->bbuf == NULL)
		return -ENOMEM;
	(void)htab_init(&d->kr->learned, 0);
	if ((d->kr->nh = nh_table_new()) == NULL)
		return -ENOMEM;
	nh_set_flags(d->kr->nh, d->conf.base.bgp_nexthop_onlink ? NH_F_ONLINK : 0);
	r = nl_open(&d->kr->req);
	if (r < 0) {
		log_warnx("netlink socket: %s", strerror(-r));
		return r;
	}
	{
		/* room for a whole batch of ACKs (and their extack text) */
		int size = 1024 * 1024, fd = mnl_socket_get_fd(d->kr->req.sock);

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	kr_adopt_stale(d);
	/* subscribe before the dump: a change during the dump is then seen
	 * again as an event, which the RIB takes idempotently */
	r = kr_mon_open(d);
	if (r < 0) {
		log_warnx("route monitor: %s", strerror(-r));
		return r;
	}
	r = kr_nh_load(d);
	if (r < 0) {
		log_warnx("dumping the kernel's routes and addresses (to resolve next hops): %s",
			  strerror(-r));
		return r;
	}
	r = kr_dump(d, &n, &gone);
	if (r < 0) {
		log_warnx("dumping the kernel's workload routes: %s", strerror(-r));
		return r;
	}
	log_info("%zu workload routes (protocol %d) in the kernel, loaded in %llu ms",
		 n, LEAFNET_RTPROT, (unsigned long long)(clock_now_ms() - t0));
	return 0;
}

void
kroute_close(struct ld *d)
{
	struct kroute *kr = d->kr;
	struct hnode *hn, *nx;
	size_t i;

	if (kr == NULL)
		return;
	kr_mon_close(d);
	if (kr->req.sock && kr->bbuf) {
		kr_batch_send(d);		/* what is staged, then ours go */
		HTAB_FOR_EACH_SAFE(&kr->learned, i, hn, nx) {
			struct learned *l = HTAB_ENTRY(hn, struct learned, hn);
			struct route del;

			if (l->n_inst == 0)
				continue;
			kr_route_init(&del, &l->p, true);
			(void)kr_stage(d, &del, NULL, 0, NULL, false);
		}
		kr_batch_send(d);
	}
	HTAB_FOR_EACH_SAFE(&kr->learned, i, hn, nx)
		learned_free(kr, HTAB_ENTRY(hn, struct learned, hn));
	htab_done(&kr->learned);
	nh_table_free(kr->nh);
	free(kr->todo);
	nl_close(&kr->req);
	free(kr->bbuf);
	free(kr);
	d->kr = NULL;
}
