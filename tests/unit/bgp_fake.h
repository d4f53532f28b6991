/* bgp_fake.h — a stand-in for leafnetd's loop and local side, for the BGP
 * side's unit tests (test_fsm.c, test_rde.c): a fake clock, fake loop
 * registrations, and the local side's end of the message queues (msg.h):
 * a fake local RIB that answers LOCAL_DUMP_REQ, and a recorder for the
 * KR_CHANGE / KR_DELETE messages.  Peers talk to the test over
 * socketpair()s (or a loopback TCP socket for an active open); the test
 * plays the remote speaker with the codec in bgp_msg.h.
 *
 * Defining every loop symbol the BGP side uses keeps the linker from
 * pulling loop.o out of librouting.a; the BGP side calls nothing else of
 * the local side.  Include once, in one test file.
 */
#ifndef BGP_FAKE_H
#define BGP_FAKE_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "leafnetd.h"
#include "loop.h"
#include "msg.h"
#include "bgp_msg.h"
#include "bgp.h"

/* ---- clock and timers ---- */

static uint64_t fake_now = 1000000;

uint64_t ld_now_ms(void) { return fake_now; }
void timer_set(struct ld_timer *t, uint64_t in_ms) { t->due = fake_now + in_ms; }
void timer_stop(struct ld_timer *t) { t->due = 0; }
bool timer_running(const struct ld_timer *t) { return t->due != 0; }
bool timer_expired(const struct ld_timer *t, uint64_t now)
{
	return t->due != 0 && t->due <= now;
}

/* ---- the poll loop ---- */

#define FAKE_IO_MAX 64
static struct fake_io {
	int fd;
	short events;
	loop_io_cb cb;
	void *arg;
} fake_io[FAKE_IO_MAX];

int
loop_io_add(struct ld_loop *l, int fd, short events, loop_io_cb cb, void *arg)
{
	(void)l;
	for (int i = 0; i < FAKE_IO_MAX; i++)
		if (fake_io[i].cb == NULL) {
			fake_io[i] = (struct fake_io){ fd, events, cb, arg };
			return 0;
		}
	return -ENOSPC;
}

static __attribute__((unused)) struct fake_io *
fake_io_find(int fd)
{
	for (int i = 0; i < FAKE_IO_MAX; i++)
		if (fake_io[i].cb != NULL && fake_io[i].fd == fd)
			return &fake_io[i];
	return NULL;
}

void
loop_io_events(struct ld_loop *l, int fd, short events)
{
	struct fake_io *io = fake_io_find(fd);

	(void)l;
	if (io)
		io->events = events;
}

void
loop_io_del(struct ld_loop *l, int fd)
{
	struct fake_io *io = fake_io_find(fd);

	(void)l;
	if (io)
		memset(io, 0, sizeof(*io));
}

void loop_wakeup_at(struct ld_loop *l, uint64_t due) { (void)l; (void)due; }

/* ---- the local side: its ends of the queues ---- */

#define FAKE_SIDES 4
static struct fake_side {
	struct bgp *b;
	struct msgq to_local, to_bgp;
} fake_side[FAKE_SIDES];

static __attribute__((unused)) struct fake_side *
fake_side_of(struct bgp *b)
{
	for (int i = 0; i < FAKE_SIDES; i++)
		if (fake_side[i].b == b)
			return &fake_side[i];
	abort();
}

/* A BGP instance with its own pair of queues. */
static __attribute__((unused)) struct bgp *
fake_bgp_new(void)
{
	for (int i = 0; i < FAKE_SIDES; i++)
		if (fake_side[i].b == NULL) {
			fake_side[i].b = bgp_new(NULL, &fake_side[i].to_local);
			if (fake_side[i].b == NULL)
				abort();
			return fake_side[i].b;
		}
	abort();
}

static __attribute__((unused)) void
fake_bgp_free(struct bgp *b)
{
	struct fake_side *fs;

	if (b == NULL)
		return;
	fs = fake_side_of(b);
	bgp_free(b);
	msgq_done(&fs->to_local);
	msgq_done(&fs->to_bgp);
	fs->b = NULL;
}

/* What rib.c would send when a local prefix changes (e NULL: withdraw). */
static __attribute__((unused)) void
fake_local_changed(struct bgp *b, const struct prefix *p,
    const struct ld_export *e)
{
	if (msgq_put_local(&fake_side_of(b)->to_bgp, 0, p, e) < 0)
		abort();
}

#define FAKE_LOCAL_MAX 16
static struct fake_local {
	struct prefix p;
	struct ld_export e;
} fake_local[FAKE_LOCAL_MAX];
static size_t fake_n_local;

#define FAKE_KR_MAX 1024
static struct fake_kr {
	struct prefix p;
	size_t n;
	struct ipaddr nh[16];
} fake_kr[FAKE_KR_MAX];		/* current state per prefix */
static size_t fake_n_kr, fake_kr_calls;
static size_t fake_sweeps;		/* LD_MSG_KR_SWEEP received */
static size_t fake_kr_at_sweep;		/* fake_kr_calls when it came */

static void
fake_kr_set(const struct prefix *p, const struct ipaddr *nh, size_t n)
{
	size_t i;

	fake_kr_calls++;
	for (i = 0; i < fake_n_kr; i++)
		if (prefix_eq(&fake_kr[i].p, p))
			break;
	if (i == fake_n_kr) {
		if (fake_n_kr == FAKE_KR_MAX)
			abort();
		fake_n_kr++;
	}
	fake_kr[i].p = *p;
	fake_kr[i].n = n > 16 ? 16 : n;
	if (fake_kr[i].n > 0)
		memcpy(fake_kr[i].nh, nh, fake_kr[i].n * sizeof(*nh));
}

/* Next hops: usable unless a test says otherwise (fake_nh_set). */
#define FAKE_NH_MAX 64
static struct fake_nh {
	struct ipaddr a;
	enum ld_nh_state state;
	bool tracked;
} fake_nh[FAKE_NH_MAX];
static size_t fake_n_nh;

static struct fake_nh *
fake_nh_find(const struct ipaddr *a, bool create)
{
	for (size_t i = 0; i < fake_n_nh; i++)
		if (ipaddr_eq(&fake_nh[i].a, a))
			return &fake_nh[i];
	if (!create || fake_n_nh == FAKE_NH_MAX)
		abort();
	fake_nh[fake_n_nh] = (struct fake_nh){ *a, LD_NH_USABLE, false };
	return &fake_nh[fake_n_nh++];
}

/* Next hops the BGP side is watching now. */
static __attribute__((unused)) size_t
fake_nh_tracked(void)
{
	size_t n = 0;

	for (size_t i = 0; i < fake_n_nh; i++)
		n += fake_nh[i].tracked;
	return n;
}

/* What the local side's resolver would say of next hop s from now on;
 * a tracked one is told at once (NH_STATE), as kroute.c does. */
static __attribute__((unused)) void
fake_nh_set(struct bgp *b, const char *s, enum ld_nh_state st)
{
	struct ipaddr a;
	struct fake_nh *nh;

	memset(&a, 0, sizeof(a));
	if (ipaddr_parse(s, &a) < 0)
		abort();
	nh = fake_nh_find(&a, true);
	nh->state = st;
	if (nh->tracked && msgq_put_nh(&fake_side_of(b)->to_bgp, LD_MSG_NH_STATE,
	    &a, st) < 0)
		abort();
}

/* The local side's handler of the BGP side's messages. */
static void
fake_local_msg(const struct ld_msg *m, void *arg)
{
	struct fake_side *fs = arg;
	struct fake_nh *nh;

	switch (m->type) {
	case LD_MSG_NH_TRACK:
		nh = fake_nh_find(&m->p.addr, true);
		nh->tracked = true;
		if (msgq_put_nh(&fs->to_bgp, LD_MSG_NH_STATE, &m->p.addr,
		    nh->state) < 0)
			abort();
		break;
	case LD_MSG_NH_UNTRACK:
		fake_nh_find(&m->p.addr, true)->tracked = false;
		break;
	case LD_MSG_KR_CHANGE:
		fake_kr_set(&m->p, m->u.kr.nh, m->u.kr.n);
		break;
	case LD_MSG_KR_DELETE:
		fake_kr_set(&m->p, NULL, 0);
		break;
	case LD_MSG_KR_SWEEP:
		fake_sweeps++;
		fake_kr_at_sweep = fake_kr_calls;
		break;
	case LD_MSG_LOCAL_DUMP_REQ:
		for (size_t i = 0; i < fake_n_local; i++)
			if (msgq_put_local(&fs->to_bgp, m->id, &fake_local[i].p,
			    &fake_local[i].e) < 0)
				abort();
		if (msgq_put_ctl(&fs->to_bgp, LD_MSG_LOCAL_DUMP_END, m->id) < 0)
			abort();
		break;
	default:
		abort();
	}
}

/* Deliver both queues, as daemon.c's ld_exchange() does. */
static __attribute__((unused)) void
fake_exchange(struct bgp *b)
{
	struct fake_side *fs = fake_side_of(b);

	for (int i = 0; i < 4 && (!msgq_empty(&fs->to_local) ||
	    !msgq_empty(&fs->to_bgp)); i++) {
		(void)msgq_drain(&fs->to_local, fake_local_msg, fs);
		(void)msgq_drain(&fs->to_bgp, bgp_msg, b);
	}
}

/* One loop turn: poll every registered fd once, run callbacks, timers,
 * the message exchange, flush -- what daemon.c does. */
static __attribute__((unused)) void
fake_turn(struct bgp *b)
{
	struct pollfd pfd[FAKE_IO_MAX];
	int fds[FAKE_IO_MAX];
	int n = 0;

	for (int i = 0; i < FAKE_IO_MAX; i++)
		if (fake_io[i].cb != NULL) {
			pfd[n] = (struct pollfd){ fake_io[i].fd,
			    fake_io[i].events, 0 };
			fds[n++] = fake_io[i].fd;
		}
	if (n > 0 && poll(pfd, (nfds_t)n, 0) > 0)
		for (int i = 0; i < n; i++) {
			struct fake_io *io = fake_io_find(fds[i]);

			if (pfd[i].revents && io)
				io->cb(io->fd, pfd[i].revents, io->arg);
		}
	(void)bgp_timers(b, fake_now);
	fake_exchange(b);
	bgp_flush(b);
}

/* Next hops installed for s ("10.0.0.0/8"), -1 if never touched. */
static __attribute__((unused)) long
fake_kr_count(const char *s)
{
	struct prefix p;

	if (prefix_parse(s, 0, &p) < 0)
		return -2;
	for (size_t i = 0; i < fake_n_kr; i++)
		if (prefix_eq(&fake_kr[i].p, &p))
			return (long)fake_kr[i].n;
	return -1;
}

static __attribute__((unused)) bool
fake_kr_has(const char *s, const char *nh)
{
	struct prefix p;
	struct ipaddr a;

	if (prefix_parse(s, 0, &p) < 0 || ipaddr_parse(nh, &a) < 0)
		return false;
	for (size_t i = 0; i < fake_n_kr; i++)
		if (prefix_eq(&fake_kr[i].p, &p))
			for (size_t j = 0; j < fake_kr[i].n; j++)
				if (ipaddr_eq(&fake_kr[i].nh[j], &a))
					return true;
	return false;
}

/* ---- the remote speaker ---- */

static __attribute__((unused)) struct ipaddr
A(const char *s)
{
	struct ipaddr a;

	memset(&a, 0, sizeof(a));
	if (ipaddr_parse(s, &a) < 0)
		abort();
	return a;
}

static __attribute__((unused)) struct prefix
P(const char *s)
{
	struct prefix p;

	if (prefix_parse(s, 0, &p) < 0)
		abort();
	return p;
}

static __attribute__((unused)) void
xwrite(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			abort();
		p += w;
		n -= (size_t)w;
	}
}

static __attribute__((unused)) void
remote_open(int fd, uint32_t as, const char *id, uint16_t hold)
{
	struct bgp_open o;
	uint8_t buf[BGP_MSG_MAX];
	int n;

	memset(&o, 0, sizeof(o));
	o.version = 4;
	o.holdtime = hold;
	o.bgpid = ntohl(A(id).u.v4.s_addr);
	o.caps.flags = BGP_CAPS_F_MP | BGP_CAPS_F_AS4 | BGP_CAPS_F_RR;
	o.caps.as4 = as;
	o.caps.n_mp = 2;
	o.caps.mp[0] = (struct bgp_afisafi){ BGP_AFI_IPV4, BGP_SAFI_UNICAST };
	o.caps.mp[1] = (struct bgp_afisafi){ BGP_AFI_IPV6, BGP_SAFI_UNICAST };
	n = bgp_open_encode(&o, buf, sizeof(buf));
	if (n < 0)
		abort();
	xwrite(fd, buf, (size_t)n);
}

static __attribute__((unused)) void
remote_keepalive(int fd)
{
	uint8_t buf[BGP_HDR_LEN];

	if (bgp_keepalive_encode(buf, sizeof(buf)) != BGP_HDR_LEN)
		abort();
	xwrite(fd, buf, sizeof(buf));
}

static __attribute__((unused)) void
remote_notification(int fd, uint8_t code, uint8_t sub)
{
	struct bgp_notification n = { .code = code, .subcode = sub };
	uint8_t buf[64];
	int len = bgp_notification_encode(&n, buf, sizeof(buf));

	if (len < 0)
		abort();
	xwrite(fd, buf, (size_t)len);
}

static __attribute__((unused)) int
emit_fd(const uint8_t *msg, size_t len, void *arg)
{
	xwrite(*(int *)arg, msg, len);
	return 0;
}

/* Announce (path != NULL: AS numbers, npath of them) or withdraw. */
static __attribute__((unused)) void
remote_update(int fd, int family, const char *const *pfx, size_t n,
    const uint32_t *path, size_t npath, const char *nh, int lp, int med)
{
	static struct bgp_attrs a;
	struct prefix ps[64];
	struct bgp_pack pk;

	memset(&pk, 0, sizeof(pk));
	for (size_t i = 0; i < n; i++)
		ps[i] = P(pfx[i]);
	if (nh != NULL) {
		bgp_attrs_init(&a);
		a.present = BGP_ATTR_BIT(BGP_ATTR_ORIGIN) |
		    BGP_ATTR_BIT(BGP_ATTR_AS_PATH);
		if (npath > 0)
			(void)bgp_aspath_append(&a.aspath, BGP_ASSEG_SEQUENCE,
			    path, npath);
		if (family == AF_INET) {
			a.present |= BGP_ATTR_BIT(BGP_ATTR_NEXT_HOP);
			a.nexthop = A(nh).u.v4;
		} else {
			pk.mp_nh = A(nh);
		}
		if (lp >= 0) {
			a.present |= BGP_ATTR_BIT(BGP_ATTR_LOCAL_PREF);
			a.local_pref = (uint32_t)lp;
		}
		if (med >= 0) {
			a.present |= BGP_ATTR_BIT(BGP_ATTR_MED);
			a.med = (uint32_t)med;
		}
		pk.attrs = &a;
	}
	pk.flags = BGP_MSG_F_AS4;
	pk.emit = emit_fd;
	pk.arg = &fd;
	if (bgp_update_pack(&pk, family, ps, n) < 1)
		abort();
}

/* Everything the daemon wrote to the remote end so far, split into
 * messages. */
struct rx {
	uint8_t buf[1 << 20];
	size_t len;
	size_t nmsg;
	size_t off[4096];
};

static __attribute__((unused)) void
rx_read(int fd, struct rx *r)
{
	ssize_t n;
	size_t o;

	r->len = r->nmsg = 0;
	for (;;) {
		n = recv(fd, r->buf + r->len, sizeof(r->buf) - r->len,
		    MSG_DONTWAIT);
		if (n <= 0)
			break;
		r->len += (size_t)n;
	}
	for (o = 0; o + BGP_HDR_LEN <= r->len && r->nmsg < 4096;) {
		size_t l = (size_t)r->buf[o + 16] << 8 | r->buf[o + 17];

		if (l < BGP_HDR_LEN || o + l > r->len)
			break;
		r->off[r->nmsg++] = o;
		o += l;
	}
}

static __attribute__((unused)) uint8_t
rx_type(const struct rx *r, size_t i)
{
	return r->buf[r->off[i] + 18];
}

static __attribute__((unused)) const uint8_t *
rx_msg(const struct rx *r, size_t i, size_t *len)
{
	const uint8_t *m = r->buf + r->off[i];

	*len = (size_t)m[16] << 8 | m[17];
	return m;
}

/* Index of the first message of type, or -1. */
static __attribute__((unused)) long
rx_find(const struct rx *r, uint8_t type)
{
	for (size_t i = 0; i < r->nmsg; i++)
		if (rx_type(r, i) == type)
			return (long)i;
	return -1;
}

/* The NOTIFICATION code << 8 | subcode sent, or -1. */
static __attribute__((unused)) int
rx_notification(const struct rx *r)
{
	long i = rx_find(r, BGP_MSG_NOTIFICATION);
	size_t len;
	const uint8_t *m;

	if (i < 0)
		return -1;
	m = rx_msg(r, (size_t)i, &len);
	return m[19] << 8 | m[20];
}

static __attribute__((unused)) const char *
peer_state(struct bgp *d, const char *addr)
{
	struct peer_status st;
	struct ipaddr a = A(addr);

	for (size_t i = 0; i < bgp_peer_count(d); i++)
		if (bgp_peer_status(d, i, &st) == 0 && ipaddr_eq(&st.addr, &a))
			return st.state;
	return "none";
}

static __attribute__((unused)) struct peer_status
peer_stat(struct bgp *d, const char *addr)
{
	struct peer_status st;
	struct ipaddr a = A(addr);

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < bgp_peer_count(d); i++)
		if (bgp_peer_status(d, i, &st) == 0 && ipaddr_eq(&st.addr, &a))
			return st;
	memset(&st, 0, sizeof(st));
	return st;
}

static __attribute__((unused)) struct peer_conf
pconf(const char *addr, uint32_t as, enum peer_type type,
    enum peer_import import, bool passive)
{
	struct peer_conf c;

	memset(&c, 0, sizeof(c));
	c.addr = A(addr);
	c.remote_as = as;
	c.port = 179;
	c.type = type;
	c.import = import;
	c.passive = passive;
	c.hold_time = 90;
	c.connect_retry = 5;
	return c;
}

static __attribute__((unused)) void
lconf(struct ld_conf *c, uint32_t as, struct peer_conf *peers, size_t n)
{
	memset(c, 0, sizeof(*c));
	c->local_as = as;
	c->router_id = A("10.0.0.1");
	c->nexthop4 = A("10.0.0.1");
	c->nexthop6 = A("fd00::1");
	c->listen_port = 179;
	c->peers = peers;
	c->n_peers = n;
}

/* Bring a passive peer `addr` up over a socketpair; returns the remote
 * end.  The remote uses AS `as`, id `id`, hold `hold`. */
static __attribute__((unused)) int
bring_up(struct bgp *d, const char *addr, uint32_t as, const char *id,
    uint16_t hold, struct rx *r)
{
	int sv[2];
	struct ipaddr a = A(addr);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	bgp_accept(d, sv[0], &a, 40000);
	remote_open(sv[1], as, id, hold);
	fake_turn(d);
	remote_keepalive(sv[1]);
	fake_turn(d);
	rx_read(sv[1], r);
	return sv[1];
}

#endif
