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
 * Out: routes the BGP side learned, as LD_MSG_KR_CHANGE / KR_DELETE
 * messages (msg.h).  kroute_learned_msg() stages each as a netlink request
 * in this turn's batch; kroute_commit() at the end of the turn sends the
 * batch in one sendmsg and reads the ACKs back (nl_talk_batch), logging
 * the kernel's extack text for each failure, so a turn that changed 1,000
 * routes costs a handful of system calls, not 1,000 round trips.  They are
 * installed with rtm_protocol LEAFNET_RTPROT_LEARNED (77, lib/leafnet.h):
 * never mistaken for workload routes, and never another daemon's (FRR and
 * others use RTPROT_BGP, 186).  At start and stop only protocol 77 is
 * flushed.  ECMP through RTA_MULTIPATH (route_build()).
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

#include "clock.h"
#include "dbuf.h"
#include "hash.h"
#include "leafnet.h"
#include "ld_local.h"
#include "log.h"
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

struct learned {
	struct hnode hn;
	struct prefix p;
	size_t n;
	struct ipaddr nh[];
};

/* A request in the batch, and what to do with the table when it is ACKed. */
struct kr_pending {
	struct prefix p;
	uint32_t n;			/* 0: delete */
	bool track;			/* update the learned table */
	struct ipaddr nh[LD_MSG_NH_MAX];
};

struct kroute {
	struct nl req;			/* dumps, lookups, learned routes */
	struct mnl_socket *mon;		/* the route/link monitor */
	int mon_fd;
	uint32_t gen;			/* dump generation for rib_sweep() */
	size_t resyncs;
	struct htab learned;		/* struct learned by prefix */

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
	return d->kr ? d->kr->learned.count : 0;
}

/* ---- learned routes out: one netlink batch per turn ------------------ */

static void
kr_ack(size_t i, int err, void *arg)
{
	struct ld *d = arg;
	struct kroute *kr = d->kr;
	struct kr_pending *pd = &kr->pend[i];
	struct learned *l;
	char a[PREFIX_STRLEN];

	if (err == -ESRCH && pd->n == 0)
		err = 0;		/* already gone */
	if (err < 0) {
		kr->bfail++;
		log_warnx("kernel route %s (%u next hops, protocol %d): %s%s%s",
			  prefix_fmt(&pd->p, a, sizeof(a)), pd->n, LEAFNET_RTPROT_LEARNED,
			  strerror(-err), kr->req.ext[0] ? ": " : "", kr->req.ext);
		return;
	}
	if (!pd->track)
		return;
	if ((l = learned_find(kr, &pd->p)) != NULL) {
		htab_remove(&kr->learned, &l->hn);
		free(l);
	}
	if (pd->n == 0)
		return;
	l = malloc(sizeof(*l) + pd->n * sizeof(l->nh[0]));
	if (l != NULL) {
		l->p = pd->p;
		l->n = pd->n;
		memcpy(l->nh, pd->nh, pd->n * sizeof(l->nh[0]));
		if (learned_insert(kr, l) == 0)
			return;
		free(l);
	}
	/* installed, not remembered: flushed at next start */
	log_warnx("kernel route %s: out of memory remembering it",
		  prefix_fmt(&pd->p, a, sizeof(a)));
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

/* Stage one request: p via nh[0..n) (n == 0: delete).  track: keep the
 * learned table in step when the kernel ACKs it. */
static int
kr_stage(struct ld *d, const struct route *rt, const struct ipaddr *nh, size_t n, bool track)
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
	pd->track = track;
	if (n > 0)
		memcpy(pd->nh, nh, n * sizeof(nh[0]));
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

void
kroute_learned_msg(struct ld *d, const struct ld_msg *m)
{
	struct kroute *kr = d->kr;
	const struct prefix *p = &m->p;
	size_t n = m->type == LD_MSG_KR_CHANGE ? m->u.kr.n : 0;
	char a[PREFIX_STRLEN];
	struct route rt;
	int r;

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
	kr_route_init(&rt, p, n == 0);
	if (n == 0) {
		bool staged = false;

		for (size_t i = 0; i < kr->bn && !staged; i++)
			staged = prefix_eq(&kr->pend[i].p, p);
		if (!staged && learned_find(kr, p) == NULL)
			return;		/* nothing of ours to remove */
	}
	r = kr_stage(d, &rt, m->u.kr.nh, n, true);
	if (r < 0)
		log_warnx("kernel route %s (%zu next hops): %s", prefix_fmt(p, a, sizeof(a)),
			  n, strerror(-r));
}

void
kroute_commit(struct ld *d)
{
	struct kroute *kr = d->kr;
	size_t before;

	if (kr == NULL || kr->bn == 0)
		return;
	before = kr->batched;
	kr->bfail = 0;
	kr_batch_send(d);
	log_debug("kernel: %zu learned route changes in one batch, %zu failed",
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

		cb(&l->p, l->nh, l->n, arg);
	}
}

/* Routes of LEAFNET_RTPROT_LEARNED left by a previous run (one that was
 * killed and could not remove them), and only those: other daemons'
 * routes (FRR's zebra uses RTPROT_BGP) are none of ours.  With graceful
 * restart (RFC 4724) we would keep them until the peers' End-of-RIB and
 * then delete only the stale ones; until then a restart starts clean.
 *
 * The dump only collects them: a request on the same socket while the
 * dump is being read would swallow the rest of the dump (its answers are
 * skipped as stale) and leave the dump waiting for an NLMSG_DONE that
 * never comes -- leafnetd hung at start after any crash.  Then they go
 * in batches. */
struct kr_stale {
	struct route *rt;
	size_t n, cap;
};

static int
kr_stale_cb(const struct route *rt, void *arg)
{
	struct kr_stale *st = arg;

	if (GROW(st->rt, st->cap, st->n + 1) < 0)
		return -ENOMEM;
	st->rt[st->n++] = *rt;
	return 0;
}

static void
kr_flush_stale(struct ld *d)
{
	struct kroute *kr = d->kr;
	struct kr_stale st = { 0 };
	size_t gone = 0;
	int r;

	r = route_dump(&kr->req, AF_UNSPEC, 0, LEAFNET_RTPROT_LEARNED, kr_stale_cb, &st);
	if (r < 0)
		log_warnx("dumping stale learned routes (protocol %d): %s",
			  LEAFNET_RTPROT_LEARNED, strerror(-r));
	kr->bfail = 0;
	for (size_t i = 0; i < st.n; i++) {
		struct route del;

		/* by prefix, protocol and table: every next hop of it goes */
		kr_route_init(&del, &st.rt[i].dst, true);
		del.table = st.rt[i].table;
		if (kr_stage(d, &del, NULL, 0, false) == 0)
			gone++;
	}
	kr_batch_send(d);
	gone -= kr->bfail < gone ? kr->bfail : gone;
	if (gone > 0)
		log_info("removed %zu learned routes (protocol %d) a previous run left behind",
			 gone, LEAFNET_RTPROT_LEARNED);
	free(st.rt);
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
	kr_flush_stale(d);
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

			kr_route_init(&del, &l->p, true);
			(void)kr_stage(d, &del, NULL, 0, false);
		}
		kr_batch_send(d);
	}
	HTAB_FOR_EACH_SAFE(&kr->learned, i, hn, nx)
		free(HTAB_ENTRY(hn, struct learned, hn));
	htab_done(&kr->learned);
	nl_close(&kr->req);
	free(kr->bbuf);
	free(kr);
	d->kr = NULL;
}
