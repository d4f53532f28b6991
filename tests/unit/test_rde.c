/* test_rde.c — the route decision engine through real sessions: best
 * path, ECMP next hops sent to the local side (KR_CHANGE), import policy
 * (downward default), loop detection, max-prefix, RFC 7606
 * treat-as-withdraw, session-down flush, and that interned attribute sets
 * are shared and all freed. */
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

enum { TOR1, TOR2, MESH1, MESH2, MESH3, NPEERS };
static const char *const addrs[NPEERS] = {
	"192.0.2.2", "192.0.2.3", "10.0.0.2", "10.0.0.3", "10.0.0.4",
};
static int fds[NPEERS];

static void
stats(size_t *prefixes, size_t *asets)
{
	rde_stats(D, prefixes, asets, NULL);
}

static int
setup(void **state)
{
	struct peer_conf pcs[NPEERS];
	struct ld_conf c;

	(void)state;
	fake_n_local = 0;
	fake_n_kr = fake_kr_calls = 0;
	pcs[TOR1] = pconf(addrs[TOR1], 65000, PEER_TYPE_NODE,
	    PEER_IMPORT_DEFAULT, true);
	pcs[TOR2] = pconf(addrs[TOR2], 65000, PEER_TYPE_NODE,
	    PEER_IMPORT_DEFAULT, true);
	pcs[MESH1] = pconf(addrs[MESH1], 65001, PEER_TYPE_MESH,
	    PEER_IMPORT_ALL, true);
	pcs[MESH2] = pconf(addrs[MESH2], 65001, PEER_TYPE_MESH,
	    PEER_IMPORT_ALL, true);
	pcs[MESH3] = pconf(addrs[MESH3], 65001, PEER_TYPE_MESH,
	    PEER_IMPORT_ALL, true);
	pcs[MESH3].max_prefix = 2;
	lconf(&c, 65001, pcs, NPEERS);
	D = fake_bgp_new();
	assert_int_equal(bgp_configure(D, &c), 0);
	for (int i = 0; i < NPEERS; i++) {
		fds[i] = bring_up(D, addrs[i], i < MESH1 ? 65000 : 65001,
		    addrs[i], 90, &rx);
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
	fake_turn(D);		/* every session sees EOF and goes down */
	stats(&np, &na);
	assert_int_equal(np, 0);
	assert_int_equal(na, 0);
	bgp_shutdown(D, "test over");
	fake_bgp_free(D);
	return 0;
}

static const char *const dflt[] = { "0.0.0.0/0" };
static const uint32_t tor_path[] = { 65000 };
static const uint32_t long_path[] = { 65000, 65100 };

/* Downward default from two ToRs: ECMP; a ToR's other routes refused. */
static void
test_default_ecmp(void **state)
{
	static const char *const other[] = { "10.99.0.0/16" };
	static const char *const dflt6[] = { "::/0" };
	size_t np;

	(void)state;
	remote_update(fds[TOR1], AF_INET, dflt, 1, tor_path, 1, "192.0.2.2",
	    -1, -1);
	remote_update(fds[TOR1], AF_INET, other, 1, tor_path, 1, "192.0.2.2",
	    -1, -1);
	remote_update(fds[TOR1], AF_INET6, dflt6, 1, tor_path, 1,
	    "2001:db8::2", -1, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 1);
	assert_int_equal(fake_kr_count("10.99.0.0/16"), -1);	/* import */
	assert_int_equal(fake_kr_count("::/0"), 1);
	assert_true(fake_kr_has("::/0", "2001:db8::2"));
	stats(&np, NULL);
	assert_int_equal(np, 2);
	assert_int_equal(peer_stat(D, addrs[TOR1]).prefixes_received, 2);

	remote_update(fds[TOR2], AF_INET, dflt, 1, tor_path, 1, "192.0.2.3",
	    -1, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 2);
	assert_true(fake_kr_has("0.0.0.0/0", "192.0.2.2"));
	assert_true(fake_kr_has("0.0.0.0/0", "192.0.2.3"));

	/* the same route again changes nothing in the kernel */
	{
		size_t calls = fake_kr_calls;

		remote_update(fds[TOR2], AF_INET, dflt, 1, tor_path, 1,
		    "192.0.2.3", -1, -1);
		fake_turn(D);
		assert_int_equal(fake_kr_calls, calls);
	}

	/* a longer AS path loses */
	remote_update(fds[TOR2], AF_INET, dflt, 1, long_path, 2, "192.0.2.3",
	    -1, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 1);
	assert_true(fake_kr_has("0.0.0.0/0", "192.0.2.2"));

	/* ToR1 goes away: ToR2's longer path is all there is */
	close(fds[TOR1]);
	fake_turn(D);
	assert_string_equal(peer_state(D, addrs[TOR1]), "Idle");
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 1);
	assert_true(fake_kr_has("0.0.0.0/0", "192.0.2.3"));
	assert_int_equal(fake_kr_count("::/0"), 0);		/* removed */

	/* and withdraws it */
	remote_update(fds[TOR2], AF_INET, dflt, 1, NULL, 0, NULL, -1, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), 0);
	fds[TOR1] = socket(AF_UNIX, SOCK_STREAM, 0);	/* for teardown */
}

/* iBGP mesh: LOCAL_PREF, then ECMP, then MED. */
static void
test_best_path(void **state)
{
	static const char *const blk[] = { "10.5.0.0/26" };
	static const uint32_t own[] = { 65005, 65001 };

	(void)state;
	remote_update(fds[MESH1], AF_INET, blk, 1, NULL, 0, "10.0.0.2", 200,
	    -1);
	remote_update(fds[MESH2], AF_INET, blk, 1, NULL, 0, "10.0.0.3", 100,
	    -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count("10.5.0.0/26"), 1);
	assert_true(fake_kr_has("10.5.0.0/26", "10.0.0.2"));

	remote_update(fds[MESH1], AF_INET, blk, 1, NULL, 0, "10.0.0.2", 100,
	    -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count("10.5.0.0/26"), 2);

	remote_update(fds[MESH1], AF_INET, blk, 1, NULL, 0, "10.0.0.2", 100,
	    5);
	remote_update(fds[MESH2], AF_INET, blk, 1, NULL, 0, "10.0.0.3", 100,
	    10);
	fake_turn(D);
	assert_int_equal(fake_kr_count("10.5.0.0/26"), 1);
	assert_true(fake_kr_has("10.5.0.0/26", "10.0.0.2"));

	/* an eBGP path with our own AS in it is a loop: ignored */
	remote_update(fds[TOR1], AF_INET, dflt, 1, own, 2, "192.0.2.2", -1,
	    -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count("0.0.0.0/0"), -1);
}

/* max-prefix: the third prefix ends the session with Cease/1 and what the
 * peer sent is withdrawn. */
static void
test_max_prefix(void **state)
{
	static const char *const two[] = { "10.7.0.0/26", "10.7.0.64/26" };
	static const char *const three[] = { "10.7.0.128/26" };

	(void)state;
	remote_update(fds[MESH3], AF_INET, two, 2, NULL, 0, "10.0.0.4", 100,
	    -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count("10.7.0.0/26"), 1);
	assert_int_equal(fake_kr_count("10.7.0.64/26"), 1);
	remote_update(fds[MESH3], AF_INET, three, 1, NULL, 0, "10.0.0.4", 100,
	    -1);
	fake_turn(D);
	rx_read(fds[MESH3], &rx);
	assert_int_equal(rx_notification(&rx),
	    BGP_ERRC_CEASE << 8 | BGP_ERRS_CEASE_MAXPFX);
	assert_string_equal(peer_state(D, addrs[MESH3]), "Idle");
	assert_int_equal(fake_kr_count("10.7.0.0/26"), 0);
	assert_int_equal(fake_kr_count("10.7.0.64/26"), 0);
	assert_int_equal(fake_kr_count("10.7.0.128/26"), 0);
}

/* RFC 7606: a bad ORIGIN value withdraws the UPDATE's prefixes and keeps
 * the session. */
static void
test_treat_as_withdraw(void **state)
{
	static const char *const p[] = { "10.6.0.0/24" };
	static const uint8_t bad[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0, 48, 2, 0, 0, 0, 21,
		0x40, 1, 1, 5,				/* ORIGIN 5 */
		0x40, 2, 0,				/* AS_PATH empty */
		0x40, 3, 4, 10, 0, 0, 2,		/* NEXT_HOP */
		0x40, 5, 4, 0, 0, 0, 100,		/* LOCAL_PREF */
		24, 10, 6, 0 };

	(void)state;
	remote_update(fds[MESH1], AF_INET, p, 1, NULL, 0, "10.0.0.2", 100, -1);
	fake_turn(D);
	assert_int_equal(fake_kr_count("10.6.0.0/24"), 1);
	xwrite(fds[MESH1], bad, sizeof(bad));
	fake_turn(D);
	assert_int_equal(fake_kr_count("10.6.0.0/24"), 0);
	assert_string_equal(peer_state(D, addrs[MESH1]), "Established");
	rx_read(fds[MESH1], &rx);
	assert_int_equal(rx_notification(&rx), -1);
}

/* 200 prefixes from one peer with one attribute set: one interned set;
 * a second peer with the same attributes but another next hop: two. */
static void
test_interning(void **state)
{
	static char names[200][24];
	const char *pfx[64];
	size_t np, na;

	(void)state;
	for (int i = 0; i < 200; i++)
		snprintf(names[i], sizeof(names[i]), "10.8.%d.0/24", i);
	for (int i = 0; i < 200; i += 50) {
		for (int j = 0; j < 50; j++)
			pfx[j] = names[i + j];
		remote_update(fds[MESH1], AF_INET, pfx, 50, NULL, 0,
		    "10.0.0.2", 100, -1);
		remote_update(fds[MESH2], AF_INET, pfx, 50, NULL, 0,
		    "10.0.0.3", 100, -1);
		fake_turn(D);
	}
	stats(&np, &na);
	assert_int_equal(np, 200);
	assert_int_equal(na, 2);
	assert_int_equal(fake_kr_count("10.8.199.0/24"), 2);
	/* a changed attribute on half moves them to a third set */
	for (int j = 0; j < 50; j++)
		pfx[j] = names[j];
	remote_update(fds[MESH1], AF_INET, pfx, 50, NULL, 0, "10.0.0.2", 300,
	    -1);
	fake_turn(D);
	stats(&np, &na);
	assert_int_equal(na, 3);
	assert_int_equal(fake_kr_count("10.8.0.0/24"), 1);
	/* session down: all of MESH1's paths and sets go */
	close(fds[MESH1]);
	fake_turn(D);
	stats(&np, &na);
	assert_int_equal(np, 200);
	assert_int_equal(na, 1);
	assert_int_equal(fake_kr_count("10.8.0.0/24"), 1);
	assert_true(fake_kr_has("10.8.0.0/24", "10.0.0.3"));
	fds[MESH1] = socket(AF_UNIX, SOCK_STREAM, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_ecmp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_best_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_max_prefix, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_treat_as_withdraw, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_interning, setup,
		    teardown),
	};

	log_init("test_rde", LOG_LVL_WARN, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
