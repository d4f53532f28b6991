/* test_gr.c — graceful restart (RFC 4724, routing/gr.c) through real
 * sessions over socketpair()s with a fake clock (bgp_fake.h).
 *
 * Helper: a GR peer's routes outlive its TCP connection (stale, nothing
 * changes in the kernel), an identical re-advertisement changes nothing,
 * End-of-RIB removes what was not re-advertised (per family), the restart
 * time and the stale-path time bound the wait, a NOTIFICATION or a
 * missing F bit ends it at once.  A new connection while Established is
 * only a restart once a valid OPEN arrives on it.  Restarting speaker:
 * LD_MSG_GR_KEPT sets the R bit and defers selection (no kernel message,
 * no UPDATE) until every GR peer's End-of-RIB or the deferral timer, then
 * selects everything once and sends LD_MSG_KR_SWEEP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "bgp_fake.h"
#include "log.h"

static struct bgp *bgp_d;
#define D bgp_d

static struct rx rx;

static const uint32_t tor_path[] = { 65000 };
static const char *const dflt[] = { "0.0.0.0/0" };
static const char *const nets[] = { "10.9.0.0/16" };
static const char *const nets2[] = { "10.8.0.0/16" };
static const char *const dflt6[] = { "::/0" };

enum { GR_NONE = -1 };

/* The remote's OPEN: gr_time GR_NONE = no capability; rflag = R bit;
 * fwd = F bits (GR_AF_V4 | GR_AF_V6). */
static void
remote_open_gr(int fd, uint32_t as, const char *id, int gr_time, bool rflag,
    uint8_t fwd)
{
	struct bgp_open o;
	uint8_t buf[BGP_MSG_MAX];
	int n;

	memset(&o, 0, sizeof(o));
	o.version = 4;
	o.holdtime = 90;
	o.bgpid = ntohl(A(id).u.v4.s_addr);
	o.caps.flags = BGP_CAPS_F_MP | BGP_CAPS_F_AS4 | BGP_CAPS_F_RR;
	o.caps.as4 = as;
	o.caps.n_mp = 2;
	o.caps.mp[0] = (struct bgp_afisafi){ BGP_AFI_IPV4, BGP_SAFI_UNICAST };
	o.caps.mp[1] = (struct bgp_afisafi){ BGP_AFI_IPV6, BGP_SAFI_UNICAST };
	if (gr_time != GR_NONE) {
		o.caps.flags |= BGP_CAPS_F_GR;
		o.caps.gr_time = (uint16_t)gr_time;
		o.caps.gr_flags = rflag ? BGP_GR_F_RESTART : 0;
		o.caps.n_gr = 2;
		o.caps.gr[0] = (struct bgp_gr_af){ BGP_AFI_IPV4,
		    BGP_SAFI_UNICAST, (fwd & GR_AF_V4) ?
		    BGP_GR_AF_F_FORWARDING : 0 };
		o.caps.gr[1] = (struct bgp_gr_af){ BGP_AFI_IPV6,
		    BGP_SAFI_UNICAST, (fwd & GR_AF_V6) ?
		    BGP_GR_AF_F_FORWARDING : 0 };
	}
	n = bgp_open_encode(&o, buf, sizeof(buf));
	if (n < 0)
		abort();
	xwrite(fd, buf, (size_t)n);
}

static void
remote_eor(int fd, uint16_t afi)
{
	uint8_t buf[64];
	int n = bgp_eor_encode(afi, BGP_SAFI_UNICAST, buf, sizeof(buf));

	if (n < 0)
		abort();
	xwrite(fd, buf, (size_t)n);
}

/* Accept a connection from addr and bring it to Established. */
static int
up_gr(const char *addr, int gr_time, bool rflag, uint8_t fwd)
{
	int sv[2];
	struct ipaddr a = A(addr);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &a, 40000);
	remote_open_gr(sv[1], 65000, addr, gr_time, rflag, fwd);
	fake_turn(D);
	remote_keepalive(sv[1]);
	fake_turn(D);
	assert_string_equal(peer_state(D, addr), "Established");
	rx_read(sv[1], &rx);
	return sv[1];
}

static void
announce_all(int fd)
{
	remote_update(fd, AF_INET, dflt, 1, tor_path, 1, "192.0.2.2", -1, -1);
	remote_update(fd, AF_INET, nets, 1, tor_path, 1, "192.0.2.2", -1, -1);
	remote_update(fd, AF_INET6, dflt6, 1, tor_path, 1, "2001:db8::2", -1,
	    -1);
}

static void
conf_peers(const char *const *addrs, size_t n)
{
	struct peer_conf pcs[4];
	struct ld_conf c;

	for (size_t i = 0; i < n; i++)
		pcs[i] = pconf(addrs[i], 65000, PEER_TYPE_NODE,
		    PEER_IMPORT_ALL, true);
	lconf(&c, 65001, pcs, n);
	assert_int_equal(bgp_configure(D, &c), 0);
}

static const char *const one[] = { "192.0.2.2" };
static const char *const two[] = { "192.0.2.2", "192.0.2.3" };

static int
setup(void **state)
{
	(void)state;
	fake_n_kr = fake_kr_calls = fake_sweeps = fake_kr_at_sweep = 0;
	fake_local[0].p = P("10.1.0.0/26");
	fake_local[0].e = (struct ld_export){ .family = AF_INET,
	    .aggregate = true };
	fake_n_local = 1;
	D = fake_bgp_new();
	return 0;
}

static int
teardown(void **state)
{
	size_t np, na;

	(void)state;
	bgp_shutdown(D, "test over");
	fake_turn(D);
	rde_stats(D, &np, &na, NULL);
	assert_int_equal(np, 0);	/* no stale path outlives a stop */
	assert_int_equal(na, 0);
	fake_bgp_free(D);
	for (int i = 0; i < FAKE_IO_MAX; i++)
		assert_null(fake_io[i].cb);
	return 0;
}

/* Our OPEN: restart time, F for both families, no R bit normally. */
static void
test_open_caps(void **state)
{
	struct bgp_open o;
	struct bgp_err err;
	struct ipaddr a = A("192.0.2.2");
	const uint8_t *m;
	size_t len;
	int sv[2];

	(void)state;
	conf_peers(one, 1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &a, 40000);
	rx_read(sv[1], &rx);
	assert_int_equal(rx_type(&rx, 0), BGP_MSG_OPEN);
	m = rx_msg(&rx, 0, &len);
	assert_int_equal(bgp_open_decode(m, len, &o, &err), 0);
	assert_true(o.caps.flags & BGP_CAPS_F_GR);
	assert_int_equal(o.caps.gr_time, BGP_GR_TIME);
	assert_int_equal(o.caps.gr_flags & BGP_GR_F_RESTART, 0);
	assert_int_equal(o.caps.n_gr, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(o.caps.gr[i].safi, BGP_SAFI_UNICAST);
		assert_true(o.caps.gr[i].flags & BGP_GR_AF_F_FORWARDING);
	}
	assert_int_equal(o.caps.gr[0].afi, BGP_AFI_IPV4);
	assert_int_equal(o.caps.gr[1].afi, BGP_AFI_IPV6);
	close(sv[1]);
	fake_turn(D);
}

/* TCP closed: routes stay (no kernel message), stale; back with F: the
 * same routes again change nothing, End-of-RIB per family removes what
 * was not re-advertised. */
static void
test_helper_restart(void **state)
{
	size_t calls;
	int fd;

	(void)state;
	conf_peers(one, 1);
	fd = up_gr("192.0.2.2", 120, false, GR_AF_V4 | GR_AF_V6);
	announce_all(fd);
	fake_turn(D);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 1);
	assert_int_equal(fake_kr_count("10.9.0.0/16"), 1);
	assert_int_equal(fake_kr_count("::/0"), 1);
	calls = fake_kr_calls;

	close(fd);			/* the peer died: FIN, no NOTIFICATION */
	fake_turn(D);
	assert_string_not_equal(peer_state(D, "192.0.2.2"), "Established");
	assert_int_equal(fake_kr_calls, calls);		/* kernel untouched */
	assert_int_equal(peer_stat(D, "192.0.2.2").gr_stale, 3);
	assert_int_equal(peer_stat(D, "192.0.2.2").prefixes_received, 3);
	assert_true(peer_stat(D, "192.0.2.2").gr_stale_ms > 0);
	assert_true(peer_stat(D, "192.0.2.2").gr_stale_ms <= 120000);

	fake_now += 5000;		/* it comes back within its restart time */
	fd = up_gr("192.0.2.2", 120, true, GR_AF_V4 | GR_AF_V6);
	assert_int_equal(peer_stat(D, "192.0.2.2").gr_stale, 3);
	assert_true(peer_stat(D, "192.0.2.2").gr_restarting);
	remote_update(fd, AF_INET, dflt, 1, tor_path, 1, "192.0.2.2", -1, -1);
	remote_update(fd, AF_INET, nets2, 1, tor_path, 1, "192.0.2.2", -1, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_calls, calls + 1);	/* only the new one */
	assert_int_equal(fake_kr_count("10.8.0.0/16"), 1);
	assert_int_equal(peer_stat(D, "192.0.2.2").gr_stale, 2);
	calls = fake_kr_calls;

	remote_eor(fd, BGP_AFI_IPV4);
	fake_turn(D);
	assert_int_equal(fake_kr_count("10.9.0.0/16"), 0);	/* withdrawn */
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 1);	/* kept as is */
	assert_int_equal(fake_kr_count("::/0"), 1);	/* v6: no EoR yet */
	assert_int_equal(fake_kr_calls, calls + 1);
	assert_int_equal(peer_stat(D, "192.0.2.2").gr_stale, 1);

	remote_eor(fd, BGP_AFI_IPV6);
	fake_turn(D);
	assert_int_equal(fake_kr_count("::/0"), 0);
	assert_int_equal(peer_stat(D, "192.0.2.2").gr_stale, 0);
	assert_int_equal(peer_stat(D, "192.0.2.2").gr_stale_ms, 0);
	assert_int_equal(peer_stat(D, "192.0.2.2").prefixes_received, 2);
	assert_int_equal(peer_stat(D, "192.0.2.2").flaps, 1);
	close(fd);
	fake_turn(D);
}

/* The restart time and the stale-path time bound the wait. */
static void
test_helper_timers(void **state)
{
	int fd;

	(void)state;
	conf_peers(one, 1);
	fd = up_gr("192.0.2.2", 30, false, GR_AF_V4 | GR_AF_V6);
	announce_all(fd);
	fake_turn(D);
	close(fd);
	fake_turn(D);
	assert_int_equal(peer_stat(D, "192.0.2.2").gr_stale, 3);
	fake_now += 29000;
	fake_turn(D);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 1);
	fake_now += 1000;		/* its 30 s restart time is over */
	fake_turn(D);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 0);
	assert_int_equal(fake_kr_count("10.9.0.0/16"), 0);
	assert_int_equal(fake_kr_count("::/0"), 0);
	assert_int_equal(peer_stat(D, "192.0.2.2").gr_stale, 0);
	assert_int_equal(peer_stat(D, "192.0.2.2").prefixes_received, 0);

	/* back, routes, gone again, back without End-of-RIB */
	fd = up_gr("192.0.2.2", 30, false, GR_AF_V4 | GR_AF_V6);
	announce_all(fd);
	fake_turn(D);
	close(fd);
	fake_turn(D);
	fd = up_gr("192.0.2.2", 30, false, GR_AF_V4 | GR_AF_V6);
	fake_now += BGP_GR_STALE_S * 1000ULL - 1;
	remote_keepalive(fd);
	fake_turn(D);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 1);
	fake_now += 1;
	remote_keepalive(fd);
	fake_turn(D);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 0);
	assert_int_equal(peer_stat(D, "192.0.2.2").gr_stale, 0);
	close(fd);
	fake_turn(D);
}

/* A NOTIFICATION ends it the RFC 4271 way; so does a peer without the
 * capability; a new OPEN without the F bit for a family drops that
 * family's stale routes at once. */
static void
test_helper_not_kept(void **state)
{
	int fd;

	(void)state;
	conf_peers(one, 1);
	fd = up_gr("192.0.2.2", 120, false, GR_AF_V4 | GR_AF_V6);
	announce_all(fd);
	fake_turn(D);
	remote_notification(fd, BGP_ERRC_CEASE, BGP_ERRS_CEASE_SHUTDOWN);
	fake_turn(D);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 0);
	assert_int_equal(peer_stat(D, "192.0.2.2").gr_stale, 0);
	close(fd);
	fake_turn(D);

	fd = up_gr("192.0.2.2", GR_NONE, false, 0);
	announce_all(fd);
	fake_turn(D);
	close(fd);
	fake_turn(D);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 0);
	assert_int_equal(fake_kr_count("::/0"), 0);

	fd = up_gr("192.0.2.2", 120, false, GR_AF_V4 | GR_AF_V6);
	announce_all(fd);
	fake_turn(D);
	close(fd);
	fake_turn(D);
	assert_int_equal(fake_kr_count("::/0"), 1);
	fd = up_gr("192.0.2.2", 120, true, GR_AF_V4);	/* no F for IPv6 */
	assert_int_equal(fake_kr_count("::/0"), 0);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 1);
	assert_int_equal(peer_stat(D, "192.0.2.2").gr_stale, 2);
	close(fd);
	fake_turn(D);
}

/* A second connection while Established: nothing happens without a
 * valid OPEN on it; with one, the session is replaced and its routes
 * kept as stale. */
static void
test_replace_needs_open(void **state)
{
	struct ipaddr a = A("192.0.2.2");
	struct peer_status st;
	time_t since;
	char c;
	int fd, sv[2];
	size_t calls;

	(void)state;
	conf_peers(one, 1);
	fd = up_gr("192.0.2.2", 120, false, GR_AF_V4 | GR_AF_V6);
	announce_all(fd);
	fake_turn(D);
	calls = fake_kr_calls;
	since = peer_stat(D, "192.0.2.2").since;

	/* too young: a collision's tail, Cease/7 at once */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &a, 40001);
	rx_read(sv[1], &rx);
	assert_int_equal(rx_notification(&rx), BGP_ERRC_CEASE << 8 |
	    BGP_ERRS_CEASE_COLLISION);
	close(sv[1]);

	fake_now += BGP_RESTART_GUARD_MS;
	/* a bare TCP connection, then closed: the session stays */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &a, 40002);
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");
	rx_read(sv[1], &rx);
	assert_int_equal(rx.nmsg, 1);			/* our OPEN */
	assert_int_equal(rx_type(&rx, 0), BGP_MSG_OPEN);
	close(sv[1]);
	fake_turn(D);
	st = peer_stat(D, "192.0.2.2");
	assert_string_equal(st.state, "Established");
	assert_int_equal(st.flaps, 0);
	assert_int_equal(st.since, since);

	/* an OPEN with the wrong AS on it: refused on that connection */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &a, 40003);
	remote_open_gr(sv[1], 65099, "192.0.2.2", 120, true, 3);
	fake_turn(D);
	rx_read(sv[1], &rx);
	assert_int_equal(rx_notification(&rx) >> 8, BGP_ERRC_OPEN);
	close(sv[1]);
	fake_turn(D);
	st = peer_stat(D, "192.0.2.2");
	assert_string_equal(st.state, "Established");
	assert_int_equal(st.flaps, 0);
	assert_int_equal(st.gr_stale, 0);
	/* the old connection still works */
	remote_keepalive(fd);
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");
	assert_int_equal(recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT), -1);

	/* a valid OPEN: the peer restarted; the old connection is closed
	 * without a NOTIFICATION, its routes stay, stale */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	bgp_accept(D, sv[0], &a, 40004);
	remote_open_gr(sv[1], 65000, "192.0.2.2", 120, true, 3);
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "OpenConfirm");
	assert_int_equal(recv(fd, &c, 1, MSG_DONTWAIT), 0);	/* EOF */
	close(fd);
	st = peer_stat(D, "192.0.2.2");
	assert_int_equal(st.flaps, 1);
	assert_int_equal(st.gr_stale, 3);
	assert_int_equal(fake_kr_calls, calls);
	fd = sv[1];
	rx_read(fd, &rx);
	assert_true(rx_find(&rx, BGP_MSG_KEEPALIVE) >= 0);
	assert_int_equal(rx_find(&rx, BGP_MSG_NOTIFICATION), -1);
	remote_keepalive(fd);
	fake_turn(D);
	assert_string_equal(peer_state(D, "192.0.2.2"), "Established");
	announce_all(fd);
	remote_eor(fd, BGP_AFI_IPV4);
	remote_eor(fd, BGP_AFI_IPV6);
	fake_turn(D);
	assert_int_equal(fake_kr_calls, calls);		/* same routes */
	assert_int_equal(peer_stat(D, "192.0.2.2").gr_stale, 0);
	close(fd);
	fake_turn(D);
}

/* The kernel kept learned routes: R bit, no selection and no UPDATE until
 * both GR peers' End-of-RIB, then everything once and the sweep. */
static void
test_restarting_deferral(void **state)
{
	struct bgp_open o;
	struct bgp_err err;
	const uint8_t *m;
	size_t len;
	int f1, f2;

	(void)state;
	conf_peers(two, 2);
	assert_int_equal(msgq_put_ctl(&fake_side_of(D)->to_bgp,
	    LD_MSG_GR_KEPT, 3), 0);
	fake_exchange(D);
	f1 = up_gr("192.0.2.2", 120, false, GR_AF_V4 | GR_AF_V6);
	m = rx_msg(&rx, 0, &len);
	assert_int_equal(rx_type(&rx, 0), BGP_MSG_OPEN);
	assert_int_equal(bgp_open_decode(m, len, &o, &err), 0);
	assert_true(o.caps.gr_flags & BGP_GR_F_RESTART);
	assert_true(o.caps.gr[0].flags & BGP_GR_AF_F_FORWARDING);
	f2 = up_gr("192.0.2.3", 120, false, GR_AF_V4 | GR_AF_V6);

	announce_all(f1);
	remote_eor(f1, BGP_AFI_IPV4);
	remote_eor(f1, BGP_AFI_IPV6);
	remote_update(f2, AF_INET, dflt, 1, tor_path, 1, "192.0.2.3", -1, -1);
	remote_eor(f2, BGP_AFI_IPV4);
	fake_turn(D);
	assert_int_equal(fake_kr_calls, 0);	/* selection deferred */
	assert_int_equal(fake_sweeps, 0);
	rx_read(f1, &rx);
	assert_int_equal(rx_find(&rx, BGP_MSG_UPDATE), -1);	/* no table */

	remote_eor(f2, BGP_AFI_IPV6);		/* the last one */
	fake_turn(D);
	assert_int_equal(fake_sweeps, 1);
	assert_int_equal(fake_kr_at_sweep, 3);	/* selection, then sweep */
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 2);	/* ECMP at once */
	assert_int_equal(fake_kr_count("10.9.0.0/16"), 1);
	assert_int_equal(fake_kr_count("::/0"), 1);
	assert_int_equal(fake_kr_calls, 3);	/* once per prefix */
	rx_read(f1, &rx);
	assert_true(rx_find(&rx, BGP_MSG_UPDATE) >= 0);	/* table + EoR */

	/* later sessions: no R bit */
	close(f2);
	fake_turn(D);
	f2 = up_gr("192.0.2.3", 120, false, GR_AF_V4 | GR_AF_V6);
	m = rx_msg(&rx, 0, &len);
	assert_int_equal(bgp_open_decode(m, len, &o, &err), 0);
	assert_int_equal(o.caps.gr_flags & BGP_GR_F_RESTART, 0);
	close(f1);
	close(f2);
	fake_turn(D);
}

/* The last End-of-RIB in the same read as the routes: the deferral also
 * waits for the local side's answer about their next hops, or they would
 * be unusable at selection and swept. */
static void
test_restarting_nh_answer(void **state)
{
	int f1;

	(void)state;
	conf_peers(one, 1);
	assert_int_equal(msgq_put_ctl(&fake_side_of(D)->to_bgp,
	    LD_MSG_GR_KEPT, 2), 0);
	fake_exchange(D);
	f1 = up_gr("192.0.2.2", 120, false, GR_AF_V4 | GR_AF_V6);
	announce_all(f1);
	remote_eor(f1, BGP_AFI_IPV4);
	remote_eor(f1, BGP_AFI_IPV6);
	fake_turn(D);
	assert_false(gr_deferring(D));
	assert_int_equal(fake_sweeps, 1);
	assert_int_equal(fake_kr_at_sweep, 3);	/* all three before it */
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 1);
	assert_int_equal(fake_kr_count("10.9.0.0/16"), 1);
	assert_int_equal(fake_kr_count("::/0"), 1);
	close(f1);
	fake_turn(D);
}

/* A peer that never comes back does not hold the deferral past
 * BGP_GR_DEFER_S; peers restarting themselves or without the
 * capability are not waited for. */
static void
test_restarting_bounded(void **state)
{
	int f1, f2;

	(void)state;
	conf_peers(two, 2);
	assert_int_equal(msgq_put_ctl(&fake_side_of(D)->to_bgp,
	    LD_MSG_GR_KEPT, 1), 0);
	fake_exchange(D);
	assert_true(gr_deferring(D));
	f1 = up_gr("192.0.2.2", 120, false, GR_AF_V4 | GR_AF_V6);
	remote_update(f1, AF_INET, dflt, 1, tor_path, 1, "192.0.2.2", -1, -1);
	remote_eor(f1, BGP_AFI_IPV4);
	remote_eor(f1, BGP_AFI_IPV6);
	fake_turn(D);
	assert_int_equal(fake_kr_calls, 0);	/* 192.0.2.3 never came */
	fake_now += BGP_GR_DEFER_S * 1000ULL;
	fake_turn(D);
	assert_false(gr_deferring(D));
	assert_int_equal(fake_sweeps, 1);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 1);
	close(f1);
	fake_turn(D);
	bgp_shutdown(D, "again");
	fake_turn(D);

	/* restarting peer (R) and a peer without GR: not waited for */
	fake_sweeps = 0;
	conf_peers(two, 2);
	assert_int_equal(msgq_put_ctl(&fake_side_of(D)->to_bgp,
	    LD_MSG_GR_KEPT, 1), 0);
	fake_exchange(D);
	f1 = up_gr("192.0.2.2", 120, true, GR_AF_V4 | GR_AF_V6);
	assert_true(gr_deferring(D));
	f2 = up_gr("192.0.2.3", GR_NONE, false, 0);
	assert_false(gr_deferring(D));
	assert_int_equal(fake_sweeps, 1);
	close(f1);
	close(f2);
	fake_turn(D);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_caps, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_helper_restart, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_helper_timers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_helper_not_kept, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_replace_needs_open, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_restarting_deferral, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_restarting_nh_answer,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_restarting_bounded, setup,
		    teardown),
	};

	log_init("test_gr", LOG_LVL_WARN, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
