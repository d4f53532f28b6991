/* test_rde_rr.c — route reflection (RFC 4456, routing/rde_rr.c) through
 * real sessions: leafnetd as a reflector (AS 65001, router id 10.0.0.1,
 * cluster id 10.0.0.100) with three clients, one non-client iBGP peer
 * (another reflector) and an eBGP ToR.  Which peer gets which route
 * (client -> everyone else, non-client -> clients only, never back, eBGP
 * -> nobody), the attributes (next hop kept, ORIGINATOR_ID set or kept,
 * our cluster id prepended, LOCAL_PREF and communities kept), loop
 * detection on receipt (our router id as ORIGINATOR_ID, our cluster id in
 * the CLUSTER_LIST), withdraws, a session drop with a second path, a peer
 * that comes up late, a prefix we originate ourselves, IPv6, and that a
 * plain node reflects nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "bgp_fake.h"
#include "log.h"

static struct bgp *bgp_d;
#define D bgp_d

enum { C1, C2, C3, NC, TOR, NPEERS };
static const char *const addrs[NPEERS] = {
	"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "192.0.2.2",
};
static int fds[NPEERS];
static struct rx rxs[NPEERS];
#define CLUSTER 0x0a000064U	/* 10.0.0.100 */
#define OUR_ID	0x0a000001U	/* 10.0.0.1 */

static uint32_t
id_of(int i)
{
	return ntohl(A(addrs[i]).u.v4.s_addr);
}

static void
conf_all(bool rr, size_t n)
{
	struct peer_conf pcs[NPEERS];
	struct ld_conf c;

	for (int i = C1; i <= C3; i++) {
		pcs[i] = pconf(addrs[i], 65001, PEER_TYPE_RR, PEER_IMPORT_ALL,
		    true);
		pcs[i].rr_client = rr;
	}
	pcs[NC] = pconf(addrs[NC], 65001, PEER_TYPE_RR, PEER_IMPORT_ALL, true);
	pcs[TOR] = pconf(addrs[TOR], 65000, PEER_TYPE_NODE, PEER_IMPORT_ALL,
	    true);
	lconf(&c, 65001, pcs, n);
	c.rr = rr;
	if (rr)
		c.cluster_id = A("10.0.0.100");
	assert_int_equal(bgp_configure(D, &c), 0);
}

/* Read what fd has after what r holds already. */
static void
rx_append(int fd, struct rx *r)
{
	static struct rx more;
	size_t len = r->len;

	rx_read(fd, &more);
	assert_true(len + more.len <= sizeof(r->buf));
	memcpy(r->buf + len, more.buf, more.len);
	r->len = len + more.len;
	for (size_t k = 0; k < more.nmsg && r->nmsg < 4096; k++)
		r->off[r->nmsg++] = len + more.off[k];
}

/* Bring peer i up; rxs[i] gets everything it was sent, up to and with
 * its End-of-RIB. */
static void
up(int i)
{
	fds[i] = bring_up(D, addrs[i], i == TOR ? 65000 : 65001, addrs[i], 90,
	    &rxs[i]);
	assert_string_equal(peer_state(D, addrs[i]), "Established");
	fake_turn(D);
	rx_append(fds[i], &rxs[i]);
}

static int
setup_rr(bool rr)
{
	fake_n_local = 0;
	fake_n_kr = fake_kr_calls = 0;
	D = fake_bgp_new();
	conf_all(rr, NPEERS);
	for (int i = 0; i < NPEERS; i++)
		up(i);
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	return setup_rr(true);
}

static int
setup_plain(void **state)
{
	(void)state;
	return setup_rr(false);
}

static int
teardown(void **state)
{
	size_t np, na, nx;

	(void)state;
	for (int i = 0; i < NPEERS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	fake_turn(D);
	rde_stats(D, &np, &na, NULL);
	assert_int_equal(np, 0);
	assert_int_equal(na, 0);
	bgp_shutdown(D, "test over");
	rde_stats(D, NULL, &na, &nx);
	assert_int_equal(na, 0);	/* no reference left in a queue */
	assert_int_equal(nx, 0);
	fake_bgp_free(D);
	return 0;
}

/* ---- the remote speakers ---- */

struct route {
	const char *pfx;
	const char *nh;
	uint32_t orig;			/* 0: no ORIGINATOR_ID */
	uint32_t cl[4];
	size_t ncl;
	const uint32_t *path;		/* eBGP */
	size_t npath;
	uint32_t comm;			/* 0: none */
	uint32_t lp;			/* iBGP LOCAL_PREF; 0: 150 */
};

static void
send_route(int fd, const struct route *r)
{
	static struct bgp_attrs a;
	struct prefix p = P(r->pfx);
	struct bgp_pack pk;

	memset(&pk, 0, sizeof(pk));
	bgp_attrs_init(&a);
	a.present = BGP_ATTR_BIT(BGP_ATTR_ORIGIN) |
	    BGP_ATTR_BIT(BGP_ATTR_AS_PATH);
	if (r->npath > 0)
		(void)bgp_aspath_append(&a.aspath, BGP_ASSEG_SEQUENCE, r->path,
		    r->npath);
	else {
		a.present |= BGP_ATTR_BIT(BGP_ATTR_LOCAL_PREF);
		a.local_pref = r->lp ? r->lp : 150;
	}
	if (p.addr.family == AF_INET) {
		a.present |= BGP_ATTR_BIT(BGP_ATTR_NEXT_HOP);
		a.nexthop = A(r->nh).u.v4;
	} else {
		pk.mp_nh = A(r->nh);
	}
	if (r->orig) {
		a.present |= BGP_ATTR_BIT(BGP_ATTR_ORIGINATOR_ID);
		a.originator_id = r->orig;
	}
	if (r->ncl) {
		a.present |= BGP_ATTR_BIT(BGP_ATTR_CLUSTER_LIST);
		memcpy(a.cluster, r->cl, r->ncl * sizeof(r->cl[0]));
		a.n_cluster = (uint16_t)r->ncl;
	}
	if (r->comm) {
		a.present |= BGP_ATTR_BIT(BGP_ATTR_COMMUNITIES);
		a.comm[a.n_comm++] = r->comm;
	}
	pk.attrs = &a;
	pk.flags = BGP_MSG_F_AS4;
	pk.emit = emit_fd;
	pk.arg = &fd;
	if (bgp_update_pack(&pk, p.addr.family, &p, 1) < 1)
		abort();
}

static void
send_withdraw(int fd, const char *pfx)
{
	struct prefix p = P(pfx);
	struct bgp_pack pk;

	memset(&pk, 0, sizeof(pk));
	pk.flags = BGP_MSG_F_AS4;
	pk.emit = emit_fd;
	pk.arg = &fd;
	if (bgp_update_pack(&pk, p.addr.family, &p, 1) < 1)
		abort();
}

/* ---- what each peer got ---- */

struct got {
	int state;			/* 0 nothing, 1 announced, 2 withdrawn */
	struct ipaddr nh;
	bool has_orig;
	uint32_t orig;
	uint16_t ncl;
	uint32_t cl[4];
	uint32_t lp;
	uint16_t n_comm;
	uint32_t comm;
	unsigned pathlen;
};

static void
turn_and_read(void)
{
	fake_turn(D);
	for (int i = 0; i < NPEERS; i++)
		if (fds[i] >= 0)
			rx_read(fds[i], &rxs[i]);
}

static bool
nlri_has(const struct bgp_nlri *n, const struct prefix *want)
{
	struct bgp_nlri_iter it;
	struct prefix p;

	if (n->raw == NULL && n->pfx == NULL)
		return false;
	bgp_nlri_iter_init(n, &it);
	while (bgp_nlri_next(&it, &p) == 1)
		if (prefix_eq(&p, want))
			return true;
	return false;
}

/* The last thing peer i was told about pfx in what turn_and_read() read. */
static struct got
got(int i, const char *pfx)
{
	static struct bgp_update u;
	struct prefix want = P(pfx);
	struct bgp_err err;
	struct got g;
	const uint8_t *m;
	size_t len;

	memset(&g, 0, sizeof(g));
	for (size_t k = 0; k < rxs[i].nmsg; k++) {
		if (rx_type(&rxs[i], k) != BGP_MSG_UPDATE)
			continue;
		m = rx_msg(&rxs[i], k, &len);
		memset(&err, 0, sizeof(err));
		assert_int_equal(bgp_update_decode(m, len, BGP_MSG_F_AS4, &u,
		    &err), 0);
		assert_int_equal(err.action, BGP_ERR_NONE);
		if (nlri_has(&u.withdrawn, &want) ||
		    nlri_has(&u.mp_unreach, &want))
			g.state = 2;
		if (nlri_has(&u.nlri, &want) ||
		    nlri_has(&u.mp_reach.nlri, &want)) {
			g.state = 1;
			if (want.addr.family == AF_INET) {
				memset(&g.nh, 0, sizeof(g.nh));
				g.nh.family = AF_INET;
				g.nh.u.v4 = u.attrs.nexthop;
			} else {
				g.nh = u.mp_reach.nh;
			}
			g.has_orig = u.attrs.present &
			    BGP_ATTR_BIT(BGP_ATTR_ORIGINATOR_ID);
			g.orig = u.attrs.originator_id;
			g.ncl = u.attrs.n_cluster;
			for (int c = 0; c < 4 && c < g.ncl; c++)
				g.cl[c] = u.attrs.cluster[c];
			g.lp = u.attrs.local_pref;
			g.n_comm = u.attrs.n_comm;
			g.comm = g.n_comm ? u.attrs.comm[0] : 0;
			g.pathlen = bgp_aspath_count(&u.attrs.aspath);
		}
	}
	return g;
}

static void
assert_reflected(int i, const char *pfx, const char *nh, uint32_t orig,
    const uint32_t *cl, size_t ncl)
{
	struct got g = got(i, pfx);
	struct ipaddr want = A(nh);

	if (g.state != 1)
		fail_msg("%s not announced to %s (state %d)", pfx, addrs[i],
		    g.state);
	assert_true(ipaddr_eq(&g.nh, &want));		/* next hop kept */
	assert_true(g.has_orig);
	assert_int_equal(g.orig, orig);
	assert_int_equal(g.ncl, ncl);
	for (size_t c = 0; c < ncl; c++)
		assert_int_equal(g.cl[c], cl[c]);
	assert_int_equal(g.lp, 150);			/* LOCAL_PREF kept */
	assert_int_equal(g.pathlen, 0);			/* iBGP: no prepend */
}

static void
assert_nothing(int i, const char *pfx)
{
	struct got g = got(i, pfx);

	if (g.state != 0)
		fail_msg("%s: %s was told about it (state %d)", pfx, addrs[i],
		    g.state);
}

static void
assert_withdrawn(int i, const char *pfx)
{
	struct got g = got(i, pfx);

	if (g.state != 2)
		fail_msg("%s: not withdrawn from %s (state %d)", pfx,
		    addrs[i], g.state);
}

/* Nothing announced (a withdraw of what was never sent may be: a change
 * queued and undone in one turn leaves its withdraw). */
static void
assert_not_announced(int i, const char *pfx)
{
	struct got g = got(i, pfx);

	if (g.state == 1)
		fail_msg("%s: announced to %s", pfx, addrs[i]);
}

static const uint32_t ours[] = { CLUSTER };

/* ---- the tests ---- */

/* A client's route goes to the other clients and the non-client, with
 * ORIGINATOR_ID = the client's router id and CLUSTER_LIST = ours; not
 * back to the client, not to the eBGP ToR.  Its withdraw follows. */
static void
test_client_route(void **state)
{
	const struct route r = { .pfx = "10.1.0.0/26", .nh = "10.0.0.2",
	    .comm = 64511U << 16 | 100 };

	(void)state;
	send_route(fds[C1], &r);
	turn_and_read();
	assert_true(fake_kr_has("10.1.0.0/26", "10.0.0.2"));	/* used too */
	assert_reflected(C2, r.pfx, "10.0.0.2", id_of(C1), ours, 1);
	assert_reflected(C3, r.pfx, "10.0.0.2", id_of(C1), ours, 1);
	assert_reflected(NC, r.pfx, "10.0.0.2", id_of(C1), ours, 1);
	assert_int_equal(got(C2, r.pfx).n_comm, 1);		/* kept */
	assert_int_equal(got(C2, r.pfx).comm, 64511U << 16 | 100);
	assert_nothing(C1, r.pfx);
	assert_nothing(TOR, r.pfx);
	assert_int_equal(peer_stat(D, addrs[C2]).prefixes_sent, 1);

	/* the same route again: nothing new goes out */
	send_route(fds[C1], &r);
	turn_and_read();
	for (int i = 0; i < NPEERS; i++)
		assert_nothing(i, r.pfx);

	send_withdraw(fds[C1], r.pfx);
	turn_and_read();
	assert_withdrawn(C2, r.pfx);
	assert_withdrawn(C3, r.pfx);
	assert_withdrawn(NC, r.pfx);
	assert_nothing(C1, r.pfx);
	assert_nothing(TOR, r.pfx);
	assert_int_equal(fake_kr_count("10.1.0.0/26"), 0);
	assert_int_equal(peer_stat(D, addrs[C2]).prefixes_sent, 0);
}

/* A non-client's route (another reflector's reflection of its own
 * client) goes to our clients only, keeping its ORIGINATOR_ID, our
 * cluster id in front of its CLUSTER_LIST; not to its originator. */
static void
test_nonclient_route(void **state)
{
	const struct route r = { .pfx = "10.2.0.0/26", .nh = "10.0.0.9",
	    .orig = 0x0a000009, .cl = { 0x0a0000c8 }, .ncl = 1 };
	const struct route o = { .pfx = "10.2.1.0/26", .nh = "10.0.0.3",
	    .orig = 0x0a000003, .cl = { 0x0a0000c8 }, .ncl = 1 };
	const uint32_t cl[] = { CLUSTER, 0x0a0000c8 };

	(void)state;
	send_route(fds[NC], &r);
	send_route(fds[NC], &o);
	turn_and_read();
	for (int i = C1; i <= C3; i++)
		assert_reflected(i, r.pfx, "10.0.0.9", 0x0a000009, cl, 2);
	assert_nothing(NC, r.pfx);
	assert_nothing(TOR, r.pfx);
	/* o's originator is C2: everyone but C2 */
	assert_reflected(C1, o.pfx, "10.0.0.3", 0x0a000003, cl, 2);
	assert_reflected(C3, o.pfx, "10.0.0.3", 0x0a000003, cl, 2);
	assert_nothing(C2, o.pfx);
	send_withdraw(fds[NC], r.pfx);
	send_withdraw(fds[NC], o.pfx);
	turn_and_read();
	for (int i = C1; i <= C3; i++)
		assert_withdrawn(i, r.pfx);
	assert_nothing(C2, o.pfx);
}

/* RFC 4456 §8: our router id as ORIGINATOR_ID, or our cluster id in the
 * CLUSTER_LIST, is a loop: the route is neither used nor reflected (and
 * a client route with our id as ORIGINATOR_ID neither). */
static void
test_loops(void **state)
{
	const struct route a = { .pfx = "10.3.0.0/26", .nh = "10.0.0.9",
	    .orig = 0x0a000009, .cl = { 0x0a0000c8, CLUSTER }, .ncl = 2 };
	const struct route b = { .pfx = "10.3.1.0/26", .nh = "10.0.0.9",
	    .orig = OUR_ID, .cl = { 0x0a0000c8 }, .ncl = 1 };
	const struct route c = { .pfx = "10.3.2.0/26", .nh = "10.0.0.2",
	    .orig = OUR_ID };

	(void)state;
	send_route(fds[NC], &a);
	send_route(fds[NC], &b);
	send_route(fds[C1], &c);
	turn_and_read();
	assert_int_equal(fake_kr_count("10.3.0.0/26"), -1);
	assert_int_equal(fake_kr_count("10.3.1.0/26"), -1);
	assert_int_equal(fake_kr_count("10.3.2.0/26"), -1);
	for (int i = 0; i < NPEERS; i++) {
		assert_nothing(i, a.pfx);
		assert_nothing(i, b.pfx);
		assert_nothing(i, c.pfx);
	}
	assert_int_equal(peer_stat(D, addrs[NC]).prefixes_received, 0);
	assert_string_equal(peer_state(D, addrs[NC]), "Established");
}

/* An eBGP route is used but reflected to nobody; when a client has the
 * same prefix with a lower LOCAL_PREF, the eBGP path stays best and
 * nothing is reflected either; once the ToR withdraws, the client's path
 * is reflected. */
static void
test_ebgp_not_reflected(void **state)
{
	static const uint32_t path[] = { 65000 };
	const struct route e = { .pfx = "10.4.0.0/24", .nh = "192.0.2.2", .path = path,
	    .npath = 1 };
	const struct route c = { .pfx = "10.4.0.0/24", .nh = "10.0.0.2",
	    .lp = 50 };

	(void)state;
	send_route(fds[TOR], &e);
	send_route(fds[C1], &c);
	turn_and_read();
	assert_true(fake_kr_has("10.4.0.0/24", "192.0.2.2"));
	for (int i = 0; i < NPEERS; i++)
		assert_not_announced(i, e.pfx);
	send_withdraw(fds[TOR], e.pfx);
	turn_and_read();
	assert_true(fake_kr_has("10.4.0.0/24", "10.0.0.2"));
	assert_int_equal(got(C2, c.pfx).state, 1);
	assert_int_equal(got(C2, c.pfx).lp, 50);
	assert_int_equal(got(NC, c.pfx).orig, id_of(C1));
	assert_nothing(TOR, c.pfx);
	send_withdraw(fds[C1], c.pfx);
	turn_and_read();
}

/* Two paths: C1's own and the other reflector's copy of it (another
 * cluster, so not a loop).  The shorter CLUSTER_LIST wins and is
 * reflected; when C1's session drops, the copy takes over: to the clients
 * only, and C1's withdraw never leaves the others without the route. */
static void
test_session_drop(void **state)
{
	const struct route d = { .pfx = "10.5.0.0/26", .nh = "10.0.0.2" };
	const struct route n = { .pfx = "10.5.0.0/26", .nh = "10.0.0.2",
	    .orig = 0x0a000002, .cl = { 0x0a0000c8 }, .ncl = 1 };
	const uint32_t cl[] = { CLUSTER, 0x0a0000c8 };

	(void)state;
	send_route(fds[NC], &n);
	send_route(fds[C1], &d);
	turn_and_read();
	assert_reflected(C2, d.pfx, "10.0.0.2", id_of(C1), ours, 1);
	assert_reflected(NC, d.pfx, "10.0.0.2", id_of(C1), ours, 1);

	close(fds[C1]);
	fds[C1] = -1;
	turn_and_read();
	assert_string_equal(peer_state(D, addrs[C1]), "Idle");
	assert_true(fake_kr_has("10.5.0.0/26", "10.0.0.2"));	/* still */
	assert_reflected(C2, d.pfx, "10.0.0.2", 0x0a000002, cl, 2);
	assert_reflected(C3, d.pfx, "10.0.0.2", 0x0a000002, cl, 2);
	assert_withdrawn(NC, d.pfx);	/* a non-client's route: not to NC */
	send_withdraw(fds[NC], d.pfx);
	turn_and_read();
	assert_withdrawn(C2, d.pfx);
	assert_int_equal(fake_kr_count("10.5.0.0/26"), 0);
}

/* A peer that comes up after the routes were learned gets the reflected
 * ones in its initial table, before its End-of-RIB. */
static void
test_late_peer(void **state)
{
	const struct route r = { .pfx = "10.6.0.0/26", .nh = "10.0.0.2" };
	long eor;

	(void)state;
	close(fds[C3]);
	fds[C3] = -1;
	fake_turn(D);
	send_route(fds[C1], &r);
	turn_and_read();
	assert_reflected(C2, r.pfx, "10.0.0.2", id_of(C1), ours, 1);
	fake_now += 60000;		/* past the idle hold */
	(void)bgp_timers(D, fake_now);
	up(C3);
	assert_reflected(C3, r.pfx, "10.0.0.2", id_of(C1), ours, 1);
	/* the route came before the End-of-RIB markers */
	eor = -1;
	for (size_t k = 0; k < rxs[C3].nmsg; k++) {
		static struct bgp_update u;
		struct bgp_err err;
		const uint8_t *m;
		size_t len;

		if (rx_type(&rxs[C3], k) != BGP_MSG_UPDATE)
			continue;
		m = rx_msg(&rxs[C3], k, &len);
		memset(&err, 0, sizeof(err));
		assert_int_equal(bgp_update_decode(m, len, BGP_MSG_F_AS4, &u,
		    &err), 0);
		if (u.flags & BGP_UPD_F_EOR)
			eor = (long)k;
		else
			assert_int_equal(eor, -1);	/* nothing after it */
	}
	assert_true(eor > 0);
	send_withdraw(fds[C1], r.pfx);
	turn_and_read();
	assert_withdrawn(C3, r.pfx);
}

/* A prefix we originate is advertised as ours, not reflected; when our
 * route goes, the client's is reflected in its place; when ours comes
 * back, it replaces the reflected one everywhere. */
static void
test_local_wins(void **state)
{
	const struct route r = { .pfx = "10.7.0.0/26", .nh = "10.0.0.2" };
	struct ld_export e = { .family = AF_INET, .aggregate = true };
	struct prefix p = P(r.pfx);
	struct ipaddr self = A("10.0.0.1");
	struct got g;

	(void)state;
	fake_local_changed(D, &p, &e);
	turn_and_read();
	assert_int_equal(got(C2, r.pfx).state, 1);
	assert_false(got(C2, r.pfx).has_orig);			/* ours */
	g = got(C2, r.pfx);
	assert_true(ipaddr_eq(&g.nh, &self));
	assert_int_equal(got(TOR, r.pfx).state, 1);
	send_route(fds[C1], &r);
	turn_and_read();
	for (int i = 0; i < NPEERS; i++)
		assert_nothing(i, r.pfx);

	fake_local_changed(D, &p, NULL);
	turn_and_read();
	assert_reflected(C2, r.pfx, "10.0.0.2", id_of(C1), ours, 1);
	assert_reflected(NC, r.pfx, "10.0.0.2", id_of(C1), ours, 1);
	assert_withdrawn(C1, r.pfx);
	assert_withdrawn(TOR, r.pfx);

	fake_local_changed(D, &p, &e);
	turn_and_read();
	for (int i = 0; i < NPEERS; i++) {
		assert_int_equal(got(i, r.pfx).state, 1);
		assert_false(got(i, r.pfx).has_orig);
	}
	send_withdraw(fds[C1], r.pfx);
	turn_and_read();
	for (int i = 0; i < NPEERS; i++)
		assert_nothing(i, r.pfx);	/* ours stays */
	fake_local_changed(D, &p, NULL);
	turn_and_read();
}

/* IPv6: the global next hop is kept in MP_REACH. */
static void
test_ipv6(void **state)
{
	const struct route r = { .pfx = "2001:db8:7::/64", .nh = "fd00::2" };

	(void)state;
	send_route(fds[C1], &r);
	turn_and_read();
	assert_reflected(C3, r.pfx, "fd00::2", id_of(C1), ours, 1);
	assert_nothing(C1, r.pfx);
	assert_nothing(TOR, r.pfx);
	send_withdraw(fds[C1], r.pfx);
	turn_and_read();
	assert_withdrawn(C3, r.pfx);
}

/* Reflection off (a plain node; the same peers): iBGP routes are used,
 * never re-advertised. */
static void
test_plain_node(void **state)
{
	const struct route r = { .pfx = "10.8.0.0/26", .nh = "10.0.0.2" };

	(void)state;
	send_route(fds[C1], &r);
	turn_and_read();
	assert_true(fake_kr_has("10.8.0.0/26", "10.0.0.2"));
	for (int i = 0; i < NPEERS; i++)
		assert_nothing(i, r.pfx);
	send_withdraw(fds[C1], r.pfx);
	turn_and_read();
}

/* Turning reflection on restarts the iBGP sessions; afterwards the
 * client's route is reflected. */
static void
test_turn_on(void **state)
{
	const struct route r = { .pfx = "10.9.0.0/26", .nh = "10.0.0.2" };

	(void)state;
	conf_all(true, NPEERS);
	for (int i = 0; i < NPEERS; i++) {
		close(fds[i]);
		fake_turn(D);
	}
	fake_now += 60000;
	(void)bgp_timers(D, fake_now);
	for (int i = 0; i < NPEERS; i++)
		up(i);
	send_route(fds[C1], &r);
	turn_and_read();
	assert_reflected(C2, r.pfx, "10.0.0.2", id_of(C1), ours, 1);
	send_withdraw(fds[C1], r.pfx);
	turn_and_read();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_client_route, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nonclient_route, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_loops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ebgp_not_reflected,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_drop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_late_peer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_local_wins, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_node, setup_plain,
		    teardown),
		cmocka_unit_test_setup_teardown(test_turn_on, setup_plain,
		    teardown),
	};

	log_init("test_rde_rr", LOG_LVL_WARN, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
