/* test_fsm.c — the BGP session and its RFC 4271 FSM, driven through the
 * real session code over socketpair()s (and one loopback TCP connection
 * for the active open), with a fake clock and poll loop (bgp_fake.h).
 * The test plays the remote speaker and checks every state reached and
 * every message sent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "bgp_fake.h"
#include "log.h"

static struct bgp *bgp_a, *bgp_b;
#define D  bgp_a
#define D2 bgp_b

static struct rx rx;

static int
setup(void **state)
{
	(void)state;
	fake_n_local = 0;
	fake_n_kr = fake_kr_calls = 0;
	fake_local[0].p = P("10.1.0.5/32");
	fake_local[0].e = (struct ld_export){ .family = AF_INET };
	fake_local[1].p = P("fd00:1::5/128");
	fake_local[1].e = (struct ld_export){ .family = AF_INET6 };
	fake_n_local = 2;
	D = fake_bgp_new();
	D2 = fake_bgp_new();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	bgp_shutdown(D, "test over");
	bgp_shutdown(D2, "test over");
	fake_bgp_free(D);
	fake_bgp_free(D2);
	for (int i = 0; i < FAKE_IO_MAX; i++)
		assert_null(fake_io[i].cb);	/* every fd unregistered */
	return 0;
}

static void
conf_one(struct bgp *d, struct peer_conf pc)
{
	struct ld_conf c;

	lconf(&c, 65001, &pc, 1);
	assert_int_equal(bgp_configure(d, &c), 0);
}

/* Passive open: Active -> OpenSent -> OpenConfirm -> Established, the
 * OPEN we send, the table, End-of-RIB, KEEPALIVEs, then Hold Timer. */
static void
test_passive_to_established(void **state)
{
	struct bgp_open o;
	struct bgp_update u;
	struct bgp_err err;
	struct ipaddr a = A("192.0.2.2");
	int sv[2];
	long i;
	size_t len, k, n_upd = 0, n_eor = 0;
	const uint8_t *m;
	bool saw_v4 = false, saw_v6 = false;

	(void)state;
	conf_one(D, pconf("192.0.2.2", 65000, PEER_TYPE_NODE,
	    PEER_IMPORT_DEFAULT, true));
	assert_string_equal(peer_state(D, "192.0.2.2"), "Active");

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &a, 40000);
	assert_string_equal(peer_state(D, "192.0.2.2"), "OpenSent");
	rx_read(sv[1], &rx);
	assert_int_equal(rx.nmsg, 1);
	assert_int_equal(rx_type(&rx, 0), BGP_MSG_OPEN);
	m = rx_msg(&rx, 0, &len);
	assert_int_equal(bgp_open_decode(m, len, &o, &err), 0);
	assert_int_equal(o.as, 65001);
	assert_int_equal(o.holdtime, 90);
	assert_int_equal(o.bgpid, 0x0a000001);
	assert_true(o.caps.flags & BGP_CAPS_F_AS4);
	assert_true(o.caps.flags & BGP_CAPS_F_RR);
	assert_true(o.caps.flags & BGP_CAPS_F_GR);
	assert_int_equal(o.caps.gr_time, 120);
	assert_int_equal(o.caps.n_mp, 2);

	remote_open(sv[1], 65000, "192.0.2.2", 30);
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "OpenConfirm");
	rx_read(sv[1], &rx);
	assert_int_equal(rx.nmsg, 1);
	assert_int_equal(rx_type(&rx, 0), BGP_MSG_KEEPALIVE);

	remote_keepalive(sv[1]);
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");
	assert_true(peer_stat(D, "192.0.2.2").up);
	rx_read(sv[1], &rx);
	for (k = 0; k < rx.nmsg; k++) {
		assert_int_equal(rx_type(&rx, k), BGP_MSG_UPDATE);
		m = rx_msg(&rx, k, &len);
		assert_int_equal(bgp_update_decode(m, len, BGP_MSG_F_AS4, &u,
		    &err), 0);
		if (u.flags & BGP_UPD_F_EOR) {
			n_eor++;
			continue;
		}
		n_upd++;
		assert_int_equal(u.attrs.aspath.nasns, 1);
		assert_int_equal(u.attrs.aspath.asn[0], 65001);
		assert_int_equal(u.attrs.origin, BGP_ORIGIN_IGP);
		assert_false(u.attrs.present &
		    BGP_ATTR_BIT(BGP_ATTR_LOCAL_PREF));	/* eBGP */
		if (u.nlri.count == 1) {
			assert_int_equal(u.attrs.nexthop.s_addr,
			    A("10.0.0.1").u.v4.s_addr);
			saw_v4 = true;
		}
		if (u.flags & BGP_UPD_F_MP_REACH) {
			struct ipaddr nh6 = A("fd00::1");

			assert_true(ipaddr_eq(&u.mp_reach.nh, &nh6));
			assert_int_equal(u.mp_reach.nlri.count, 1);
			saw_v6 = true;
		}
	}
	assert_true(saw_v4);
	assert_true(saw_v6);
	assert_int_equal(n_upd, 2);
	assert_int_equal(n_eor, 2);		/* IPv4 and IPv6 */
	assert_int_equal(peer_stat(D, "192.0.2.2").prefixes_sent, 2);

	/* negotiated hold 30 s: a KEEPALIVE every 10 s */
	fake_now += 10001;
	fake_turn(D);
	rx_read(sv[1], &rx);
	assert_int_equal(rx.nmsg, 1);
	assert_int_equal(rx_type(&rx, 0), BGP_MSG_KEEPALIVE);
	/* a KEEPALIVE from the peer keeps the session */
	fake_now += 20000;
	remote_keepalive(sv[1]);
	fake_turn(D);
	fake_now += 20000;
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");
	/* silence past the hold time: 4/0, Idle */
	fake_now += 10001;
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Idle");
	rx_read(sv[1], &rx);
	assert_int_equal(rx_notification(&rx), BGP_ERRC_HOLD << 8);
	assert_string_equal(peer_stat(D, "192.0.2.2").info,
	    "sent Hold Timer Expired: Unspecific");
	(void)i;
	close(sv[1]);

	/* back-off: after at most 5 s it waits for a connection again */
	fake_now += 5001;
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Active");
}

/* Exported changes are coalesced by prefix and grouped into UPDATEs. */
static void
test_export_changes(void **state)
{
	struct bgp_update u;
	struct bgp_err err;
	struct ld_export e4 = { .family = AF_INET };
	struct ld_export ec = { .family = AF_INET, .n_communities = 1,
	    .communities = { 64511u << 16 | 100 } };
	struct prefix p;
	const uint8_t *m;
	size_t len, k, ann = 0, wd = 0, comm = 0;
	int fd;

	(void)state;
	conf_one(D, pconf("192.0.2.2", 65000, PEER_TYPE_NODE,
	    PEER_IMPORT_DEFAULT, true));
	fd = bring_up(D, "192.0.2.2", 65000, "192.0.2.2", 90, &rx);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");

	/* 100 new /32s, one changed 3 times (last: with a community), one
	 * withdrawn before the flush -> sent once each */
	for (int i = 0; i < 100; i++) {
		char s[32];

		snprintf(s, sizeof(s), "10.2.%d.%d/32", i / 50, i % 50 + 1);
		p = P(s);
		fake_local_changed(D, &p, &e4);
	}
	p = P("10.2.0.1/32");
	fake_local_changed(D, &p, &e4);
	fake_local_changed(D, &p, &ec);
	p = P("10.1.0.5/32");
	fake_local_changed(D, &p, NULL);
	fake_turn(D);
	rx_read(fd, &rx);
	assert_true(rx.nmsg >= 2 && rx.nmsg <= 3);
	for (k = 0; k < rx.nmsg; k++) {
		m = rx_msg(&rx, k, &len);
		assert_int_equal(bgp_update_decode(m, len, BGP_MSG_F_AS4, &u,
		    &err), 0);
		ann += u.nlri.count;
		wd += u.withdrawn.count;
		if (u.attrs.present & BGP_ATTR_BIT(BGP_ATTR_COMMUNITIES)) {
			assert_int_equal(u.nlri.count, 1);
			assert_int_equal(u.attrs.comm[0], 64511u << 16 | 100);
			comm++;
		}
	}
	assert_int_equal(ann, 100);
	assert_int_equal(wd, 1);
	assert_int_equal(comm, 1);

	/* ROUTE-REFRESH: the whole table again */
	{
		struct bgp_route_refresh rr = { BGP_AFI_IPV4, 0,
		    BGP_SAFI_UNICAST };
		uint8_t buf[BGP_RREFRESH_LEN];

		assert_int_equal(bgp_rr_encode(&rr, buf, sizeof(buf)),
		    BGP_RREFRESH_LEN);
		xwrite(fd, buf, sizeof(buf));
		fake_turn(D);
		rx_read(fd, &rx);
		assert_true(rx.nmsg >= 1);
		assert_int_equal(rx_type(&rx, 0), BGP_MSG_UPDATE);
	}
	close(fd);
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Idle");
}

/* 20,000 changes into a socket the peer reads slowly: everything arrives,
 * in UPDATEs of at most 4096 octets with many prefixes each, and the
 * write buffer stays bounded (the rest waits in the prefix queue). */
static void
test_export_backpressure(void **state)
{
	static struct bgp_update u;
	struct bgp_err err;
	struct ld_export e4 = { .family = AF_INET };
	struct bgp *b;
	struct prefix p;
	const uint8_t *m;
	size_t len, total = 0, msgs = 0, maxw = 0;
	int fd, rounds = 0;

	(void)state;
	fake_n_local = 0;
	conf_one(D, pconf("192.0.2.2", 65000, PEER_TYPE_NODE,
	    PEER_IMPORT_DEFAULT, true));
	fd = bring_up(D, "192.0.2.2", 65000, "192.0.2.2", 90, &rx);
	for (int i = 0; i < 20000; i++) {
		memset(&p, 0, sizeof(p));
		p.addr.family = AF_INET;
		p.addr.u.v4.s_addr = htonl(0x0a400000u + (uint32_t)i);
		p.len = 32;
		fake_local_changed(D, &p, &e4);
	}
	b = D;
	while (total < 20000 && rounds++ < 10000) {
		fake_turn(D);
		if (session_wpending(&b->peers->conn) > maxw)
			maxw = session_wpending(&b->peers->conn);
		rx_read(fd, &rx);
		for (size_t k = 0; k < rx.nmsg; k++) {
			m = rx_msg(&rx, k, &len);
			assert_true(len <= BGP_MSG_MAX);
			assert_int_equal(bgp_update_decode(m, len,
			    BGP_MSG_F_AS4, &u, &err), 0);
			total += u.nlri.count;
			msgs++;
		}
	}
	assert_int_equal(total, 20000);
	assert_true(msgs < 200);		/* ~ 800 /32s per UPDATE */
	assert_true(maxw <= BGP_WBUF_HIWAT + 64 * BGP_MSG_MAX);
	close(fd);
}

/* OPEN checks: each bad OPEN gets its NOTIFICATION and Idle. */
static void
test_open_errors(void **state)
{
	struct ipaddr a = A("192.0.2.2");
	static const uint8_t hold1[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0, 29, 1, 4, 0xfd, 0xe8, 0, 1, 192, 0, 2, 2, 0 };
	static const uint8_t badmarker[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0, 19, 4 };
	int sv[2];

	(void)state;
	conf_one(D, pconf("192.0.2.2", 65000, PEER_TYPE_NODE,
	    PEER_IMPORT_DEFAULT, true));

	/* wrong AS: 2/2 */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &a, 40000);
	remote_open(sv[1], 65099, "192.0.2.2", 90);
	fake_turn(D);
	rx_read(sv[1], &rx);
	assert_int_equal(rx_notification(&rx),
	    BGP_ERRC_OPEN << 8 | BGP_ERRS_OPEN_PEER_AS);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Idle");
	close(sv[1]);

	/* hold time 1: 2/6 (accepted in Idle during the back-off) */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &a, 40000);
	assert_string_equal(peer_state(D, "192.0.2.2"), "OpenSent");
	xwrite(sv[1], hold1, sizeof(hold1));
	fake_turn(D);
	rx_read(sv[1], &rx);
	assert_int_equal(rx_notification(&rx),
	    BGP_ERRC_OPEN << 8 | BGP_ERRS_OPEN_HOLDTIME);
	close(sv[1]);

	/* a KEEPALIVE in OpenSent: FSM error 5/1 */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &a, 40000);
	remote_keepalive(sv[1]);
	fake_turn(D);
	rx_read(sv[1], &rx);
	assert_int_equal(rx_notification(&rx),
	    BGP_ERRC_FSM << 8 | BGP_ERRS_FSM_OPENSENT);
	close(sv[1]);

	/* a bad marker: 1/1 */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &a, 40000);
	xwrite(sv[1], badmarker, sizeof(badmarker));
	fake_turn(D);
	rx_read(sv[1], &rx);
	assert_int_equal(rx_notification(&rx),
	    BGP_ERRC_HEADER << 8 | BGP_ERRS_HDR_SYNC);
	close(sv[1]);

	/* an unknown neighbour is refused (fd closed, nothing registered) */
	{
		struct ipaddr o = A("198.51.100.7");

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		bgp_accept(D, sv[0], &o, 40000);
		assert_null(fake_io_find(sv[0]));
		assert_int_equal(read(sv[1], rx.buf, 1), 0);	/* EOF */
		close(sv[1]);
	}

	/* iBGP peer with our own router id: 2/3 */
	conf_one(D, pconf("192.0.2.2", 65001, PEER_TYPE_MESH,
	    PEER_IMPORT_ALL, true));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &a, 40000);
	remote_open(sv[1], 65001, "10.0.0.1", 90);
	fake_turn(D);
	rx_read(sv[1], &rx);
	assert_int_equal(rx_notification(&rx),
	    BGP_ERRC_OPEN << 8 | BGP_ERRS_OPEN_BGPID);
	close(sv[1]);
}

/* NOTIFICATION received, malformed UPDATE (session reset), a second OPEN
 * in Established, shutdown sends Cease/2. */
static void
test_established_errors(void **state)
{
	static const uint8_t bad_origin[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0, 23, 2, 0, 5, 0, 0 };	/* withdrawn length overruns: 3/1 */
	int fd;

	(void)state;
	conf_one(D, pconf("192.0.2.2", 65000, PEER_TYPE_NODE,
	    PEER_IMPORT_DEFAULT, true));
	fd = bring_up(D, "192.0.2.2", 65000, "192.0.2.2", 90, &rx);
	remote_notification(fd, BGP_ERRC_CEASE, BGP_ERRS_CEASE_SHUTDOWN);
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Idle");
	assert_string_equal(peer_stat(D, "192.0.2.2").info,
	    "received Cease: Administrative Shutdown");
	close(fd);

	fd = bring_up(D, "192.0.2.2", 65000, "192.0.2.2", 90, &rx);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");
	xwrite(fd, bad_origin, sizeof(bad_origin));
	fake_turn(D);
	rx_read(fd, &rx);
	assert_int_equal(rx_notification(&rx) >> 8, BGP_ERRC_UPDATE);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Idle");
	close(fd);

	fd = bring_up(D, "192.0.2.2", 65000, "192.0.2.2", 90, &rx);
	remote_open(fd, 65000, "192.0.2.2", 90);
	fake_turn(D);
	rx_read(fd, &rx);
	assert_int_equal(rx_notification(&rx),
	    BGP_ERRC_FSM << 8 | BGP_ERRS_FSM_ESTABLISHED);
	close(fd);

	fd = bring_up(D, "192.0.2.2", 65000, "192.0.2.2", 90, &rx);
	bgp_shutdown(D, "maintenance");
	rx_read(fd, &rx);
	assert_int_equal(rx_notification(&rx),
	    BGP_ERRC_CEASE << 8 | BGP_ERRS_CEASE_SHUTDOWN);
	assert_int_equal(bgp_peer_count(D), 0);
	close(fd);
}

/* Active open over loopback TCP: Idle -> Connect -> OpenSent; then a
 * colliding connection from the peer, resolved both ways (§6.8). */
static void
test_active_and_collision(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct ipaddr lo = A("127.0.0.1");
	struct peer_conf pc;
	int lfd, tcp, sv[2];

	(void)state;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);

	pc = pconf("127.0.0.1", 65000, PEER_TYPE_GLOBAL, PEER_IMPORT_DEFAULT,
	    false);
	pc.port = ntohs(sin.sin_port);
	conf_one(D, pc);
	assert_string_equal(peer_state(D, "127.0.0.1"), "Connect");
	tcp = accept(lfd, NULL, NULL);
	assert_true(tcp >= 0);
	fake_turn(D);		/* POLLOUT: connected */
	assert_string_equal(peer_state(D, "127.0.0.1"), "OpenSent");
	usleep(20000);
	rx_read(tcp, &rx);
	assert_int_equal(rx_type(&rx, 0), BGP_MSG_OPEN);

	/* the peer (higher id 10.0.0.9 > our 10.0.0.1) also connects: its
	 * connection stays, ours gets Cease/7 */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &lo, 40001);
	rx_read(sv[1], &rx);
	assert_int_equal(rx_type(&rx, 0), BGP_MSG_OPEN);
	remote_open(sv[1], 65000, "10.0.0.9", 90);
	fake_turn(D);
	assert_string_equal(peer_state(D, "127.0.0.1"), "OpenConfirm");
	usleep(20000);
	rx_read(tcp, &rx);
	assert_int_equal(rx_notification(&rx),
	    BGP_ERRC_CEASE << 8 | BGP_ERRS_CEASE_COLLISION);
	rx_read(sv[1], &rx);
	assert_int_equal(rx_type(&rx, 0), BGP_MSG_KEEPALIVE);
	remote_keepalive(sv[1]);
	fake_turn(D);
	assert_string_equal(peer_state(D, "127.0.0.1"), "Established");
	/* a third connection while Established: Cease/7 */
	{
		int sv2[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM |
		    SOCK_NONBLOCK, 0, sv2), 0);
		bgp_accept(D, sv2[0], &lo, 40002);
		rx_read(sv2[1], &rx);
		assert_int_equal(rx_notification(&rx),
		    BGP_ERRC_CEASE << 8 | BGP_ERRS_CEASE_COLLISION);
		close(sv2[1]);
	}
	close(sv[1]);
	close(tcp);
	fake_turn(D);
	assert_string_equal(peer_state(D, "127.0.0.1"), "Idle");

	/* again, but the peer's id is lower: our connection stays */
	fake_now += 5001;
	fake_turn(D);
	assert_string_equal(peer_state(D, "127.0.0.1"), "Connect");
	tcp = accept(lfd, NULL, NULL);
	assert_true(tcp >= 0);
	fake_turn(D);
	assert_string_equal(peer_state(D, "127.0.0.1"), "OpenSent");
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &lo, 40003);
	remote_open(sv[1], 65000, "9.9.9.9", 90);
	fake_turn(D);
	rx_read(sv[1], &rx);
	assert_int_equal(rx_notification(&rx),
	    BGP_ERRC_CEASE << 8 | BGP_ERRS_CEASE_COLLISION);
	assert_string_equal(peer_state(D, "127.0.0.1"), "OpenSent");
	remote_open(tcp, 65000, "9.9.9.9", 90);
	fake_turn(D);
	assert_string_equal(peer_state(D, "127.0.0.1"), "OpenConfirm");
	close(sv[1]);
	close(tcp);
	close(lfd);
}

/* ---- simultaneous connect (RFC 4271 §6.8), two speakers in one process ----
 *
 * D (id 10.0.0.1, AS 65001) and D2 (id 10.0.0.9, AS 65002) each connect
 * to a loopback listener of the test's; the test accepts each connection
 * and hands it to the other speaker's bgp_accept(), so the two TCP
 * connections join D and D2 directly, as two nodes starting at the same
 * instant.  The connection D2 opened (higher id) must be the one both
 * keep, with no retry (the fake clock never moves, so no timer can
 * fire) and no NOTIFICATION but Cease/7. */

struct simul {
	int la, lb;		/* listeners D2 and D connect to */
	int fa, fb;		/* accepted: D2's connection, D's connection */
};

static int
simul_listener(uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
simul_start(struct simul *s)
{
	struct peer_conf pc;
	struct ld_conf c;
	uint16_t pa, pb;

	s->la = simul_listener(&pa);
	s->lb = simul_listener(&pb);
	pc = pconf("127.0.0.1", 65002, PEER_TYPE_GLOBAL, PEER_IMPORT_DEFAULT,
	    false);
	pc.port = pb;
	conf_one(D, pc);
	pc = pconf("127.0.0.1", 65001, PEER_TYPE_GLOBAL, PEER_IMPORT_DEFAULT,
	    false);
	pc.port = pa;
	lconf(&c, 65002, &pc, 1);
	c.router_id = A("10.0.0.9");
	assert_int_equal(bgp_configure(D2, &c), 0);
	assert_string_equal(peer_state(D, "127.0.0.1"), "Connect");
	assert_string_equal(peer_state(D2, "127.0.0.1"), "Connect");
	s->fb = accept(s->lb, NULL, NULL);	/* D -> D2 */
	s->fa = accept(s->la, NULL, NULL);	/* D2 -> D */
	assert_true(s->fa >= 0 && s->fb >= 0);
	(void)fcntl(s->fa, F_SETFL, O_NONBLOCK);
	(void)fcntl(s->fb, F_SETFL, O_NONBLOCK);
}

/* Run one fd's callback as the loop would, for `ev`. */
static void
simul_io(int fd, short ev)
{
	struct fake_io *io = fake_io_find(fd);

	assert_non_null(io);
	io->cb(io->fd, ev, io->arg);
}

static void
simul_accept_d2(struct simul *s)
{
	struct ipaddr lo = A("127.0.0.1");

	bgp_accept(D2, s->fb, &lo, 40000);
	s->fb = -1;
}

static void
simul_accept_d(struct simul *s)
{
	struct ipaddr lo = A("127.0.0.1");

	bgp_accept(D, s->fa, &lo, 40001);
	s->fa = -1;
}

/* Both Established on one connection, the one D2 opened. */
static void
simul_check(struct simul *s)
{
	struct peer *p = D->peers, *p2 = D2->peers;
	struct sockaddr_storage a, b;
	socklen_t la = sizeof(a), lb = sizeof(b);
	int i;

	for (i = 0; i < 500; i++) {
		if (strcmp(peer_state(D, "127.0.0.1"), "Established") == 0 &&
		    strcmp(peer_state(D2, "127.0.0.1"), "Established") == 0 &&
		    p->coll.fd < 0 && p2->coll.fd < 0)
			break;
		usleep(1000);
		fake_turn(D);
		fake_turn(D2);
	}
	assert_string_equal(peer_state(D, "127.0.0.1"), "Established");
	assert_string_equal(peer_state(D2, "127.0.0.1"), "Established");
	assert_int_equal(p->coll.fd, -1);
	assert_int_equal(p2->coll.fd, -1);
	assert_false(p->conn.outgoing);		/* D accepted it */
	assert_true(p2->conn.outgoing);		/* D2 opened it */
	/* the same TCP connection on both ends */
	assert_int_equal(getsockname(p->conn.fd, (struct sockaddr *)&a, &la), 0);
	assert_int_equal(getpeername(p2->conn.fd, (struct sockaddr *)&b, &lb), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(&a, &b, la);
	/* never down, never retried, nothing but the collision said */
	assert_int_equal(p->flaps, 0);
	assert_int_equal(p2->flaps, 0);
	assert_int_equal(p->quick_tries, 0);
	assert_int_equal(p2->quick_tries, 0);
	assert_true(p->last_error[0] == '\0' ||
	    strstr(p->last_error, "Collision") != NULL);
	assert_true(p2->last_error[0] == '\0' ||
	    strstr(p2->last_error, "Collision") != NULL);
	close(s->la);
	close(s->lb);
}

/* The race itself: each accepts the other's connection while its own
 * connect() is still in progress (both in Connect). */
static void
test_simul_both_connect(void **state)
{
	struct simul s;

	(void)state;
	simul_start(&s);
	simul_accept_d2(&s);
	simul_accept_d(&s);
	assert_string_equal(peer_state(D, "127.0.0.1"), "Connect");
	assert_string_equal(peer_state(D2, "127.0.0.1"), "Connect");
	assert_true(D->peers->coll.fd >= 0);	/* both kept */
	assert_true(D->peers->conn.fd >= 0);
	simul_check(&s);
}

/* The same accepts, the other order of the two accepts and the loop
 * handling D2's side first. */
static void
test_simul_both_connect_other_order(void **state)
{
	struct simul s;

	(void)state;
	simul_start(&s);
	simul_accept_d(&s);
	simul_accept_d2(&s);
	fake_turn(D2);
	fake_turn(D);
	simul_check(&s);
}

/* The higher id (D2) is still in Connect when the lower one's OPEN
 * arrives on the connection D2 accepted: held until D2's own connect()
 * is up, then refused with Cease/7. */
static void
test_simul_hold_for_own_connect(void **state)
{
	struct simul s;
	struct peer *p2 = D2->peers;

	(void)state;
	simul_start(&s);
	p2 = D2->peers;
	simul_io(D->peers->conn.fd, POLLOUT);	/* D: connected, OPEN out */
	assert_string_equal(peer_state(D, "127.0.0.1"), "OpenSent");
	simul_accept_d2(&s);			/* D2 still in Connect */
	usleep(20000);
	simul_io(p2->coll.fd, POLLIN);		/* D's OPEN reaches D2 */
	assert_string_equal(peer_state(D2, "127.0.0.1"), "Connect");
	assert_true(p2->coll.held);
	assert_true(p2->coll.fd >= 0);
	simul_accept_d(&s);
	simul_check(&s);
}

/* The lower id (D) gets the higher one's OPEN on the connection it
 * accepted while its own connect() is in progress: the peer's wins at
 * once, D's connect() is dropped. */
static void
test_simul_lower_takes_peer_at_once(void **state)
{
	struct simul s;
	struct peer *p = D->peers;

	(void)state;
	simul_start(&s);
	p = D->peers;
	simul_io(D2->peers->conn.fd, POLLOUT);	/* D2: connected, OPEN out */
	simul_accept_d(&s);			/* D still in Connect */
	usleep(20000);
	simul_io(p->coll.fd, POLLIN);
	assert_string_equal(peer_state(D, "127.0.0.1"), "OpenConfirm");
	assert_int_equal(p->coll.fd, -1);	/* its connect() is gone */
	assert_false(p->conn.outgoing);
	/* D2 gets D's end of its own connect() only now, in OpenSent */
	simul_accept_d2(&s);
	simul_check(&s);
}

/* The connection the higher id must keep fails before its OPEN: the
 * peer's connection, held so far, carries the session instead of a
 * retry. */
static void
test_simul_own_fails_peer_takes_over(void **state)
{
	struct simul s;
	struct peer *p = D->peers, *p2 = D2->peers;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int i;

	(void)state;
	simul_start(&s);
	p = D->peers;
	p2 = D2->peers;
	simul_io(p->conn.fd, POLLOUT);		/* D: OpenSent */
	simul_accept_d2(&s);
	usleep(20000);
	simul_io(p2->coll.fd, POLLIN);		/* held at D2 */
	assert_true(p2->coll.held);
	/* D2's own connection is reset by the other end (never reached D) */
	assert_int_equal(setsockopt(s.fa, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	close(s.fa);
	s.fa = -1;
	for (i = 0; i < 200 && p2->conn.outgoing; i++) {
		usleep(1000);
		fake_turn(D2);
	}
	assert_false(p2->conn.outgoing);	/* it took D's connection */
	assert_int_equal(p2->coll.fd, -1);
	for (i = 0; i < 500; i++) {
		if (strcmp(peer_state(D, "127.0.0.1"), "Established") == 0 &&
		    strcmp(peer_state(D2, "127.0.0.1"), "Established") == 0)
			break;
		usleep(1000);
		fake_turn(D);
		fake_turn(D2);
	}
	assert_string_equal(peer_state(D, "127.0.0.1"), "Established");
	assert_string_equal(peer_state(D2, "127.0.0.1"), "Established");
	assert_true(p->conn.outgoing);
	assert_int_equal(p->flaps + p2->flaps, 0);
	close(s.la);
	close(s.lb);
}

/* Connect retry: BGP_QUICK_TRIES refused connects are retried after ~1 s,
 * then the wait doubles from 5 s up to 120 s. */
static void
test_connect_backoff(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct peer_conf pc;
	uint64_t t0, waits[BGP_QUICK_TRIES + 8];
	int lfd, n = 0;

	(void)state;
	/* a port nothing listens on: bind, read the port, close */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	close(lfd);
	pc = pconf("127.0.0.1", 65000, PEER_TYPE_GLOBAL, PEER_IMPORT_NONE,
	    false);
	pc.port = ntohs(sin.sin_port);
	conf_one(D, pc);
	t0 = fake_now;
	while (n < BGP_QUICK_TRIES + 7) {
		usleep(2000);
		fake_turn(D);		/* connection refused -> Active */
		if (strcmp(peer_state(D, "127.0.0.1"), "Active") != 0)
			continue;
		/* advance to the retry */
		while (strcmp(peer_state(D, "127.0.0.1"), "Active") == 0) {
			fake_now += 100;
			fake_turn(D);
		}
		waits[n++] = fake_now - t0;
		t0 = fake_now;
	}
	/* 1 s quick ones; then 5, 10, 20, 40, 80, 120, 120 s, each with up to
	 * 25 % jitter off */
	for (int i = 0; i < BGP_QUICK_TRIES; i++)
		assert_true(waits[i] >= 750 && waits[i] <= 1200);
	assert_true(waits[BGP_QUICK_TRIES] >= 3750 && waits[BGP_QUICK_TRIES] <= 5200);
	assert_true(waits[BGP_QUICK_TRIES + 1] >= 7500 && waits[BGP_QUICK_TRIES + 1] <= 10200);
	assert_true(waits[BGP_QUICK_TRIES + 2] >= 15000 && waits[BGP_QUICK_TRIES + 2] <= 20200);
	assert_true(waits[BGP_QUICK_TRIES + 5] >= 90000 && waits[BGP_QUICK_TRIES + 5] <= 120200);
	assert_true(waits[BGP_QUICK_TRIES + 6] >= 90000 && waits[BGP_QUICK_TRIES + 6] <= 120200);
}

/* Reconfiguration: unchanged peers keep the session, changed ones get
 * Cease/6, removed ones Cease/3. */
static void
test_reconfigure(void **state)
{
	struct peer_conf pcs[2];
	struct ld_conf c;
	int fd1, fd2;

	(void)state;
	pcs[0] = pconf("192.0.2.2", 65000, PEER_TYPE_NODE, PEER_IMPORT_DEFAULT,
	    true);
	pcs[1] = pconf("192.0.2.3", 65000, PEER_TYPE_NODE, PEER_IMPORT_DEFAULT,
	    true);
	lconf(&c, 65001, pcs, 2);
	assert_int_equal(bgp_configure(D, &c), 0);
	fd1 = bring_up(D, "192.0.2.2", 65000, "192.0.2.2", 90, &rx);
	fd2 = bring_up(D, "192.0.2.3", 65000, "192.0.2.3", 90, &rx);
	assert_int_equal(bgp_configure(D, &c), 0);	/* same */
	rx_read(fd1, &rx);
	assert_int_equal(rx.nmsg, 0);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");

	pcs[0].hold_time = 30;
	lconf(&c, 65001, pcs, 1);			/* .3 removed */
	assert_int_equal(bgp_configure(D, &c), 0);
	rx_read(fd1, &rx);
	assert_int_equal(rx_notification(&rx),
	    BGP_ERRC_CEASE << 8 | BGP_ERRS_CEASE_CONFCHANGE);
	rx_read(fd2, &rx);
	assert_int_equal(rx_notification(&rx),
	    BGP_ERRC_CEASE << 8 | BGP_ERRS_CEASE_DECONFIG);
	assert_int_equal(bgp_peer_count(D), 1);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Active");
	close(fd1);
	close(fd2);

	/* refused configurations change nothing */
	c.local_as = 0;
	assert_int_equal(bgp_configure(D, &c), -EINVAL);
	assert_int_equal(bgp_peer_count(D), 1);
}

static const uint32_t path65000[] = { 65000 };

/* A connection the daemon closed: EOF (or a reset) on our end. */
static bool
closed_by_daemon(int fd)
{
	uint8_t b[64];
	ssize_t n;

	for (int i = 0; i < 50; i++) {
		n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return true;
		if (n < 0)
			usleep(2000);
	}
	return false;
}

/* max-prefix, restart form: past the limit Cease/1 with AFI, SAFI and the
 * limit (RFC 4486), the routes gone, connections refused for the
 * restart minutes, then it comes back. */
static void
test_max_prefix(void **state)
{
	static const char *const three[] = { "10.9.0.0/24", "10.9.1.0/24", "10.9.2.0/24" };
	static const char *const one[] = { "10.9.3.0/24" };
	struct peer_conf pc;
	struct peer_status st;
	struct ipaddr a = A("192.0.2.2");
	const uint8_t *m;
	size_t len;
	long i;
	int fd, sv[2];

	(void)state;
	pc = pconf("192.0.2.2", 65000, PEER_TYPE_NODE, PEER_IMPORT_ALL, true);
	pc.max_prefix = 3;
	pc.max_prefix_restart = 2;
	conf_one(D, pc);
	fd = bring_up(D, "192.0.2.2", 65000, "192.0.2.2", 90, &rx);
	remote_update(fd, AF_INET, three, 3, path65000, 1, "192.0.2.2", -1, -1);
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");
	assert_int_equal(fake_kr_count("10.9.2.0/24"), 1);
	assert_int_equal(peer_stat(D, "192.0.2.2").prefixes_received, 3);

	remote_update(fd, AF_INET, one, 1, path65000, 1, "192.0.2.2", -1, -1);
	fake_turn(D);
	rx_read(fd, &rx);
	assert_int_equal(rx_notification(&rx), BGP_ERRC_CEASE << 8 | BGP_ERRS_CEASE_MAXPFX);
	i = rx_find(&rx, BGP_MSG_NOTIFICATION);
	m = rx_msg(&rx, (size_t)i, &len);
	assert_int_equal(len, 21 + 7);
	assert_memory_equal(m + 21, "\x00\x01\x01\x00\x00\x00\x03", 7);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Idle");
	for (size_t k = 0; k < 3; k++)
		assert_int_equal(fake_kr_count(three[k]), 0);	/* removed */
	st = peer_stat(D, "192.0.2.2");
	assert_true(st.down_until >= time(NULL) + 110 && st.down_until <= time(NULL) + 121);
	assert_non_null(strstr(st.info, "Maximum Number of Prefixes Reached (3); down for 2 min"));
	assert_int_equal(st.prefixes_received, 0);
	close(fd);

	/* it reconnects at once: refused while the hold-down runs */
	fake_now += 60000;
	fake_turn(D);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	bgp_accept(D, sv[0], &a, 40002);
	assert_true(closed_by_daemon(sv[1]));
	close(sv[1]);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Idle");

	/* two minutes on: back (passive, so Active) and accepted again */
	fake_now += 60001;
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Active");
	assert_int_equal(peer_stat(D, "192.0.2.2").down_until, 0);
	fd = bring_up(D, "192.0.2.2", 65000, "192.0.2.2", 90, &rx);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");
	close(fd);
	fake_turn(D);		/* EOF: Idle, back-off */

	/* a configuration change lifts a hold-down at once */
	fd = bring_up(D, "192.0.2.2", 65000, "192.0.2.2", 90, &rx);
	fake_turn(D);
	remote_update(fd, AF_INET, three, 3, path65000, 1, "192.0.2.2", -1, -1);
	remote_update(fd, AF_INET, one, 1, path65000, 1, "192.0.2.2", -1, -1);
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Idle");
	close(fd);
	pc.max_prefix = 10;
	conf_one(D, pc);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Active");
	fd = bring_up(D, "192.0.2.2", 65000, "192.0.2.2", 90, &rx);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");
	close(fd);
}

/* The warning form keeps the session; max-prefix and import changes reach
 * an Established session without a reset. */
static void
test_max_prefix_warning_and_live_changes(void **state)
{
	static const char *const three[] = { "10.9.0.0/24", "10.9.1.0/24", "10.9.2.0/24" };
	static const char *const dflt[] = { "0.0.0.0/0" };
	struct peer_conf pc;
	long i;
	int fd;
	const uint8_t *m;
	size_t len;
	bool v4 = false, v6 = false;

	(void)state;
	pc = pconf("192.0.2.2", 65000, PEER_TYPE_NODE, PEER_IMPORT_ALL, true);
	pc.max_prefix = 2;
	pc.max_prefix_warning = true;
	conf_one(D, pc);
	fd = bring_up(D, "192.0.2.2", 65000, "192.0.2.2", 90, &rx);
	remote_update(fd, AF_INET, three, 3, path65000, 1, "192.0.2.2", -1, -1);
	remote_update(fd, AF_INET, dflt, 1, path65000, 1, "192.0.2.2", -1, -1);
	fake_turn(D);
	rx_read(fd, &rx);
	assert_int_equal(rx_notification(&rx), -1);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");
	assert_int_equal(fake_kr_count("10.9.2.0/24"), 1);	/* all kept */
	assert_int_equal(peer_stat(D, "192.0.2.2").prefixes_received, 4);

	/* a higher limit, the restart form: applied, no reset */
	pc.max_prefix = 10;
	pc.max_prefix_warning = false;
	pc.max_prefix_restart = 5;
	conf_one(D, pc);
	fake_turn(D);
	rx_read(fd, &rx);
	assert_int_equal(rx_notification(&rx), -1);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");

	/* import narrowed: the other routes go at once, no reset, no refresh */
	pc.import = PEER_IMPORT_DEFAULT;
	conf_one(D, pc);
	fake_turn(D);
	rx_read(fd, &rx);
	assert_int_equal(rx.nmsg, 0);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");
	assert_int_equal(fake_kr_count("10.9.0.0/24"), 0);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 1);
	assert_int_equal(peer_stat(D, "192.0.2.2").prefixes_received, 1);

	/* widened: ROUTE-REFRESH for both families, the resent routes taken */
	pc.import = PEER_IMPORT_ALL;
	conf_one(D, pc);
	fake_turn(D);
	rx_read(fd, &rx);
	assert_int_equal(rx_notification(&rx), -1);
	for (i = 0; i < (long)rx.nmsg; i++) {
		if (rx_type(&rx, (size_t)i) != BGP_MSG_ROUTE_REFRESH)
			continue;
		m = rx_msg(&rx, (size_t)i, &len);
		assert_int_equal(len, 23);
		v4 |= m[19] == 0 && m[20] == 1 && m[22] == 1;
		v6 |= m[19] == 0 && m[20] == 2 && m[22] == 1;
	}
	assert_true(v4 && v6);
	remote_update(fd, AF_INET, three, 3, path65000, 1, "192.0.2.2", -1, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count("10.9.1.0/24"), 1);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");

	/* a lower limit than what it holds: Cease/1 right away */
	pc.max_prefix = 2;
	conf_one(D, pc);
	fake_turn(D);
	rx_read(fd, &rx);
	assert_int_equal(rx_notification(&rx), BGP_ERRC_CEASE << 8 | BGP_ERRS_CEASE_MAXPFX);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Idle");
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 0);
	close(fd);
	pc.max_prefix = 0;
	conf_one(D, pc);		/* a GTSM change, on the other hand: a reset */
	fd = bring_up(D, "192.0.2.2", 65000, "192.0.2.2", 90, &rx);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");
	pc.ttl_security = true;
	conf_one(D, pc);
	rx_read(fd, &rx);
	assert_int_equal(rx_notification(&rx), BGP_ERRC_CEASE << 8 | BGP_ERRS_CEASE_CONFCHANGE);
	close(fd);
}

/* GTSM on accept, over loopback TCP (no router: the TTL arrives as sent):
 * a SYN below 255 is refused before it touches the peer, one at 255 is
 * taken and its socket gets IP_MINTTL 255; without GTSM any TTL is fine. */
static int
gtsm_connect(int lfd, const struct sockaddr_in *sin, int ttl, int *ret_accepted)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(c >= 0);
	assert_int_equal(setsockopt(c, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)), 0);
	assert_int_equal(connect(c, (const struct sockaddr *)sin, sizeof(*sin)), 0);
	*ret_accepted = accept(lfd, NULL, NULL);
	assert_true(*ret_accepted >= 0);
	return c;
}

static void
test_gtsm_accept(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct ipaddr lo = A("127.0.0.1");
	struct peer_conf pc;
	int lfd, c, afd, one = 1, v;
	bool found = false;

	(void)state;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(setsockopt(lfd, IPPROTO_TCP, TCP_SAVE_SYN, &one, sizeof(one)), 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);

	pc = pconf("127.0.0.1", 65000, PEER_TYPE_NODE, PEER_IMPORT_ALL, true);
	pc.ttl_security = true;
	conf_one(D, pc);
	assert_string_equal(peer_state(D, "127.0.0.1"), "Active");

	c = gtsm_connect(lfd, &sin, 254, &afd);		/* one hop away */
	bgp_accept(D, afd, &lo, 40010);
	assert_string_equal(peer_state(D, "127.0.0.1"), "Active");
	assert_true(closed_by_daemon(c));
	close(c);
	c = gtsm_connect(lfd, &sin, 1, &afd);
	bgp_accept(D, afd, &lo, 40011);
	assert_string_equal(peer_state(D, "127.0.0.1"), "Active");
	assert_true(closed_by_daemon(c));
	close(c);

	c = gtsm_connect(lfd, &sin, 255, &afd);		/* directly connected */
	bgp_accept(D, afd, &lo, 40012);
	assert_string_equal(peer_state(D, "127.0.0.1"), "OpenSent");
	for (int i = 0; i < FAKE_IO_MAX; i++) {
		socklen_t vl = sizeof(v);

		if (fake_io[i].cb == NULL || fake_io[i].fd != afd)
			continue;
		assert_int_equal(getsockopt(afd, IPPROTO_IP, IP_MINTTL, &v, &vl), 0);
		assert_int_equal(v, 255);
		assert_int_equal(getsockopt(afd, IPPROTO_IP, IP_TTL, &v, &vl), 0);
		assert_int_equal(v, 255);
		found = true;
	}
	assert_true(found);
	close(c);
	fake_turn(D);

	/* GTSM off: TTL 64 is fine, and no minimum TTL on the socket */
	pc.ttl_security = false;
	conf_one(D, pc);
	c = gtsm_connect(lfd, &sin, 64, &afd);
	bgp_accept(D, afd, &lo, 40013);
	assert_string_equal(peer_state(D, "127.0.0.1"), "OpenSent");
	sl = sizeof(v);
	assert_int_equal(getsockopt(afd, IPPROTO_IP, IP_MINTTL, &v, &sl), 0);
	assert_int_equal(v, 0);
	close(c);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_passive_to_established,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_changes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_export_backpressure,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_established_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_active_and_collision,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_backoff, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_simul_both_connect,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_simul_both_connect_other_order, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_simul_hold_for_own_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_simul_lower_takes_peer_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_simul_own_fails_peer_takes_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconfigure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_max_prefix, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_max_prefix_warning_and_live_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gtsm_accept, setup,
		    teardown),
	};

	log_init("test_fsm", LOG_LVL_WARN, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
