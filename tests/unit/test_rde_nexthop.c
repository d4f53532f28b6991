/* test_rde_nexthop.c — next hops in the decision (routing/rde_nexthop.c),
 * through real sessions, with bgp_fake.h playing the local side's
 * resolver: a path is used only once its next hop is said usable; an
 * unusable path stays in the Adj-RIB-In (counted as unusable) and is used
 * as soon as its next hop becomes usable, and dropped from the kernel when
 * it stops being; one peer's unusable path never hides another peer's
 * usable one (best path or ECMP); our router id and advertised next hop
 * are never usable; every next hop asked about is released again. */
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

enum { TOR1, TOR2, NPEERS };
static const char *const addrs[NPEERS] = { "192.0.2.2", "192.0.2.3" };
static int fds[NPEERS];

static const char *const pfx[] = { "10.10.0.0/16" };
static const char *const pfx2[] = { "10.11.0.0/16" };
static const uint32_t path1[] = { 65000 };
static const uint32_t path2[] = { 65000, 65100 };

static int
setup(void **state)
{
	struct peer_conf pcs[NPEERS];
	struct ld_conf c;

	(void)state;
	fake_n_local = 0;
	fake_n_kr = fake_kr_calls = 0;
	fake_n_nh = 0;
	for (int i = 0; i < NPEERS; i++)
		pcs[i] = pconf(addrs[i], 65000, PEER_TYPE_NODE, PEER_IMPORT_ALL, true);
	lconf(&c, 65001, pcs, NPEERS);
	D = fake_bgp_new();
	assert_int_equal(bgp_configure(D, &c), 0);
	for (int i = 0; i < NPEERS; i++) {
		fds[i] = bring_up(D, addrs[i], 65000, addrs[i], 90, &rx);
		assert_string_equal(peer_state(D, addrs[i]), "Established");
	}
	return 0;
}

static int
teardown(void **state)
{
	size_t np, na;

	(void)state;
	for (int i = 0; i < NPEERS; i++)
		close(fds[i]);
	fake_turn(D);
	rde_stats(D, &np, &na, NULL);
	assert_int_equal(np, 0);
	assert_int_equal(na, 0);
	/* every next hop asked about was released again */
	assert_int_equal(fake_nh_tracked(), 0);
	bgp_shutdown(D, "test over");
	fake_bgp_free(D);
	return 0;
}

/* Unresolvable, then resolvable, then unresolvable again. */
static void
test_later_usable(void **state)
{
	(void)state;
	fake_nh_set(D, "192.0.2.9", LD_NH_UNREACHABLE);
	remote_update(fds[TOR1], AF_INET, pfx, 1, path1, 1, "192.0.2.9", -1, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count(pfx[0]), -1);		/* never installed */
	assert_int_equal(peer_stat(D, addrs[TOR1]).prefixes_received, 1);
	assert_int_equal(peer_stat(D, addrs[TOR1]).prefixes_unusable, 1);
	assert_int_equal(fake_nh_tracked(), 1);

	fake_nh_set(D, "192.0.2.9", LD_NH_USABLE);		/* a route appeared */
	fake_turn(D);
	assert_int_equal(fake_kr_count(pfx[0]), 1);
	assert_true(fake_kr_has(pfx[0], "192.0.2.9"));
	assert_int_equal(peer_stat(D, addrs[TOR1]).prefixes_unusable, 0);

	fake_nh_set(D, "192.0.2.9", LD_NH_UNREACHABLE);	/* ... and went */
	fake_turn(D);
	assert_int_equal(fake_kr_count(pfx[0]), 0);
	assert_int_equal(peer_stat(D, addrs[TOR1]).prefixes_received, 1);
	assert_int_equal(peer_stat(D, addrs[TOR1]).prefixes_unusable, 1);

	/* the path moves to a usable next hop: counted as usable */
	remote_update(fds[TOR1], AF_INET, pfx, 1, path1, 1, "192.0.2.2", -1, -1);
	fake_turn(D);
	assert_true(fake_kr_has(pfx[0], "192.0.2.2"));
	assert_int_equal(peer_stat(D, addrs[TOR1]).prefixes_unusable, 0);
	assert_int_equal(fake_nh_tracked(), 1);		/* .9 released */

	remote_update(fds[TOR1], AF_INET, pfx, 1, NULL, 0, NULL, -1, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count(pfx[0]), 0);
	assert_int_equal(fake_nh_tracked(), 0);
}

/* The better path's next hop is bad: the other peer's path is used. */
static void
test_bad_best_path(void **state)
{
	(void)state;
	fake_nh_set(D, "192.0.2.2", LD_NH_LOCAL);
	remote_update(fds[TOR1], AF_INET, pfx, 1, path1, 1, "192.0.2.2", -1, -1);
	remote_update(fds[TOR2], AF_INET, pfx, 1, path2, 2, "192.0.2.3", -1, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count(pfx[0]), 1);
	assert_true(fake_kr_has(pfx[0], "192.0.2.3"));

	fake_nh_set(D, "192.0.2.2", LD_NH_USABLE);		/* the shorter path wins */
	fake_turn(D);
	assert_int_equal(fake_kr_count(pfx[0]), 1);
	assert_true(fake_kr_has(pfx[0], "192.0.2.2"));
}

/* ECMP: the unusable path leaves the set, the usable one stays; when it
 * becomes usable, both are used. */
static void
test_ecmp(void **state)
{
	(void)state;
	fake_nh_set(D, "192.0.2.3", LD_NH_UNREACHABLE);
	remote_update(fds[TOR1], AF_INET, pfx, 1, path1, 1, "192.0.2.2", -1, -1);
	remote_update(fds[TOR2], AF_INET, pfx, 1, path1, 1, "192.0.2.3", -1, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count(pfx[0]), 1);
	assert_true(fake_kr_has(pfx[0], "192.0.2.2"));
	assert_int_equal(peer_stat(D, addrs[TOR2]).prefixes_unusable, 1);

	fake_nh_set(D, "192.0.2.3", LD_NH_USABLE);
	fake_turn(D);
	assert_int_equal(fake_kr_count(pfx[0]), 2);
	assert_true(fake_kr_has(pfx[0], "192.0.2.3"));

	fake_nh_set(D, "192.0.2.2", LD_NH_UNREACHABLE);
	fake_turn(D);
	assert_int_equal(fake_kr_count(pfx[0]), 1);
	assert_true(fake_kr_has(pfx[0], "192.0.2.3"));

	/* the peer of the bad path goes down: the good one is untouched */
	close(fds[TOR1]);
	fds[TOR1] = -1;
	fake_turn(D);
	assert_int_equal(fake_kr_count(pfx[0]), 1);
	assert_true(fake_kr_has(pfx[0], "192.0.2.3"));
	fds[TOR1] = bring_up(D, addrs[TOR1], 65000, addrs[TOR1], 90, &rx);
}

/* Our router id and the next hop we advertise: never usable, whatever
 * the resolver says; a new router id frees the old one. */
static void
test_our_address(void **state)
{
	struct peer_conf pcs[NPEERS];
	struct ld_conf c;

	(void)state;
	remote_update(fds[TOR1], AF_INET, pfx, 1, path1, 1, "10.0.0.1", -1, -1);
	remote_update(fds[TOR2], AF_INET, pfx2, 1, path1, 1, "192.0.2.3", -1, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count(pfx[0]), -1);
	assert_int_equal(fake_kr_count(pfx2[0]), 1);
	assert_int_equal(peer_stat(D, addrs[TOR1]).prefixes_unusable, 1);

	for (int i = 0; i < NPEERS; i++)
		pcs[i] = pconf(addrs[i], 65000, PEER_TYPE_NODE, PEER_IMPORT_ALL, true);
	lconf(&c, 65001, pcs, NPEERS);
	c.router_id = A("10.0.0.5");
	c.nexthop4 = A("10.0.0.5");
	assert_int_equal(bgp_configure(D, &c), 0);	/* sessions restart */
	fake_turn(D);
	for (int i = 0; i < NPEERS; i++) {
		close(fds[i]);
		fake_turn(D);
		fds[i] = bring_up(D, addrs[i], 65000, addrs[i], 90, &rx);
	}
	remote_update(fds[TOR1], AF_INET, pfx, 1, path1, 1, "10.0.0.1", -1, -1);
	remote_update(fds[TOR2], AF_INET, pfx2, 1, path1, 1, "10.0.0.5", -1, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count(pfx[0]), 1);
	assert_int_equal(fake_kr_count(pfx2[0]), 0);
	assert_int_equal(peer_stat(D, addrs[TOR2]).prefixes_unusable, 1);
}

/* An IPv6 next hop, and an answer about a next hop nobody uses any more. */
static void
test_v6_and_stale_answer(void **state)
{
	static const char *const p6[] = { "2001:db8:10::/48" };
	size_t calls;

	(void)state;
	fake_nh_set(D, "2001:db8::9", LD_NH_UNREACHABLE);
	remote_update(fds[TOR1], AF_INET6, p6, 1, path1, 1, "2001:db8::9", -1, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count(p6[0]), -1);
	fake_nh_set(D, "2001:db8::9", LD_NH_USABLE);
	fake_turn(D);
	assert_true(fake_kr_has(p6[0], "2001:db8::9"));

	remote_update(fds[TOR1], AF_INET6, p6, 1, NULL, 0, NULL, -1, -1);
	fake_turn(D);
	calls = fake_kr_calls;
	if (msgq_put_nh(&fake_side_of(D)->to_bgp, LD_MSG_NH_STATE,
	    &(struct ipaddr){ .family = AF_INET6 }, LD_NH_USABLE) < 0)
		abort();
	fake_turn(D);
	assert_int_equal(fake_kr_calls, calls);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_later_usable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_best_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ecmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_our_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_and_stale_answer, setup, teardown),
	};

	log_set_level(LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
