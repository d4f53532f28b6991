/* test_rib.c — the local RIB: what is advertised for workload routes,
 * per-host block aggregation, communities, link-down, sweep, and the
 * cost of 100,000 routes.  The BGP side is this file's reader of the
 * LOCAL_ADV / LOCAL_WD messages the RIB queues (msg.h), which records
 * every change. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ipam.h"
#include "ld_local.h"
#include "network.h"

/* ---- the BGP side, recorded ------------------------------------------- */

struct change {
	char prefix[PREFIX_STRLEN];
	bool withdraw;
	bool aggregate;
	size_t n_comm;
	uint32_t comm0;
};

static struct change changes[64];
static size_t n_changes, n_total;

static void
record(const struct ld_msg *m, void *arg)
{
	(void)arg;
	assert_true(m->type == LD_MSG_LOCAL_ADV || m->type == LD_MSG_LOCAL_WD);
	assert_int_equal(m->id, 0);
	n_total++;
	if (n_changes < 64) {
		struct change *c = &changes[n_changes++];
		const struct ld_export *e = m->type == LD_MSG_LOCAL_ADV ? &m->u.adv : NULL;

		prefix_fmt(&m->p, c->prefix, sizeof(c->prefix));
		c->withdraw = e == NULL;
		c->aggregate = e && e->aggregate;
		c->n_comm = e ? e->n_communities : 0;
		c->comm0 = e && e->n_communities ? e->communities[0] : 0;
	}
}

static struct ld d;

/* What the RIB told the BGP side so far. */
static size_t
changes_n(void)
{
	(void)msgq_drain(&d.to_bgp, record, NULL);
	return n_changes;
}

static size_t
total_n(void)
{
	(void)msgq_drain(&d.to_bgp, record, NULL);
	return n_total;
}

static void
reset(void)
{
	(void)msgq_drain(&d.to_bgp, record, NULL);
	n_changes = 0;
	n_total = 0;
}

static struct prefix
P(const char *s)
{
	struct prefix p;

	assert_int_equal(prefix_parse(s, PREFIX_F_NO_LEN, &p), 0);
	return p;
}

static void
expect(size_t i, const char *prefix, bool withdraw, bool aggregate)
{
	assert_true(i < changes_n());
	assert_string_equal(changes[i].prefix, prefix);
	assert_int_equal(changes[i].withdraw, withdraw);
	assert_int_equal(changes[i].aggregate, aggregate);
}

/* two networks: "pub" (routable, aggregate) 10.0.0.0/16 with /26 blocks,
 * "priv" (non-routable, no aggregation) 10.1.0.0/16, community 64511:100 */
static struct network nets[2];
static struct ipam_block blocks[2];

static int
setup(void **state)
{
	(void)state;
	memset(&d, 0, sizeof(d));
	network_init(&nets[0]);
	snprintf(nets[0].name, sizeof(nets[0].name), "pub");
	nets[0].n_subnets = 1;
	nets[0].subnets[0].cidr = P("10.0.0.0/16");
	network_init(&nets[1]);
	snprintf(nets[1].name, sizeof(nets[1].name), "priv");
	nets[1].n_subnets = 1;
	nets[1].subnets[0].cidr = P("10.1.0.0/16");
	nets[1].routable = false;
	nets[1].aggregate = false;
	nets[1].n_communities = 1;
	nets[1].communities[0] = NETWORK_NONROUTABLE_COMMUNITY;
	memset(blocks, 0, sizeof(blocks));
	blocks[0].cidr = P("10.0.0.0/26");
	snprintf(blocks[0].node, sizeof(blocks[0].node), "n1");
	blocks[1].cidr = P("10.0.0.64/26");
	snprintf(blocks[1].node, sizeof(blocks[1].node), "n2");
	d.rib = rib_new(&d);
	assert_non_null(d.rib);
	rib_set_sources(d.rib, nets, 2, blocks, 2, "n1");
	reset();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rib_free(d.rib);
	d.rib = NULL;
	msgq_done(&d.to_bgp);
	return 0;
}

static void
test_block_aggregate(void **state)
{
	struct prefix a = P("10.0.0.5/32"), b = P("10.0.0.6/32");

	(void)state;
	assert_int_equal(rib_kernel_add(d.rib, &a, 3, 1), 0);
	assert_int_equal(changes_n(), 1);
	expect(0, "10.0.0.0/26", false, true);
	assert_int_equal(rib_kernel_add(d.rib, &b, 4, 1), 0);
	assert_int_equal(changes_n(), 1);		/* the block is already out */
	assert_int_equal(rib_kernel_add(d.rib, &b, 4, 1), 0);	/* idempotent */
	assert_int_equal(changes_n(), 1);
	assert_int_equal(rib_count(d.rib), 2);
	assert_int_equal(rib_exported(d.rib), 1);
	rib_kernel_del(d.rib, &a);
	assert_int_equal(changes_n(), 1);
	rib_kernel_del(d.rib, &a);		/* idempotent */
	rib_kernel_del(d.rib, &b);
	assert_int_equal(changes_n(), 2);
	expect(1, "10.0.0.0/26", true, false);	/* a withdrawal has no export */
	assert_int_equal(rib_exported(d.rib), 0);
}

static void
test_borrowed_and_outside(void **state)
{
	struct prefix borrowed = P("10.0.0.70/32"), outside = P("192.168.9.9/32");
	struct prefix v6 = P("fd00:1::5/128");

	(void)state;
	rib_kernel_add(d.rib, &borrowed, 3, 1);	/* n2's block */
	rib_kernel_add(d.rib, &outside, 3, 1);	/* no network */
	rib_kernel_add(d.rib, &v6, 3, 1);
	assert_int_equal(changes_n(), 3);
	expect(0, "10.0.0.70/32", false, false);
	expect(1, "192.168.9.9/32", false, false);
	expect(2, "fd00:1::5/128", false, false);
	assert_int_equal(changes[0].n_comm, 0);
	assert_int_equal(rib_exported(d.rib), 3);
}

static void
test_nonroutable_communities(void **state)
{
	struct prefix a = P("10.1.2.3/32"), b = P("10.1.2.4/32");

	(void)state;
	rib_kernel_add(d.rib, &a, 3, 1);
	rib_kernel_add(d.rib, &b, 3, 1);	/* no aggregation in priv */
	assert_int_equal(changes_n(), 2);
	expect(0, "10.1.2.3/32", false, false);
	assert_int_equal(changes[0].n_comm, 1);
	assert_int_equal(changes[0].comm0, NETWORK_NONROUTABLE_COMMUNITY);
}

static void
test_block_claimed_later(void **state)
{
	struct prefix a = P("10.0.0.130/32");
	struct ipam_block more[3];

	(void)state;
	rib_kernel_add(d.rib, &a, 3, 1);	/* in no known block yet */
	assert_int_equal(changes_n(), 1);
	expect(0, "10.0.0.130/32", false, false);
	memcpy(more, blocks, sizeof(blocks));
	memset(&more[2], 0, sizeof(more[2]));
	more[2].cidr = P("10.0.0.128/26");
	snprintf(more[2].node, sizeof(more[2].node), "n1");
	rib_set_sources(d.rib, nets, 2, more, 3, "n1");
	assert_int_equal(changes_n(), 3);
	expect(1, "10.0.0.130/32", true, false);
	expect(2, "10.0.0.128/26", false, true);
	/* the block goes to another node: back to a /32 */
	snprintf(more[2].node, sizeof(more[2].node), "n3");
	rib_set_sources(d.rib, nets, 2, more, 3, "n1");
	assert_int_equal(changes_n(), 5);
	expect(3, "10.0.0.130/32", false, false);
	expect(4, "10.0.0.128/26", true, false);
}

static void
test_aggregate_off_and_community_change(void **state)
{
	struct prefix a = P("10.0.0.5/32");
	struct network n2[2];

	(void)state;
	rib_kernel_add(d.rib, &a, 3, 1);
	expect(0, "10.0.0.0/26", false, true);
	memcpy(n2, nets, sizeof(nets));
	n2[0].aggregate = false;
	rib_set_sources(d.rib, n2, 2, blocks, 2, "n1");
	assert_int_equal(changes_n(), 3);
	expect(1, "10.0.0.5/32", false, false);
	expect(2, "10.0.0.0/26", true, false);
	/* the network becomes non-routable: re-announced with the community */
	n2[0].routable = false;
	n2[0].n_communities = 1;
	n2[0].communities[0] = (65000u << 16) | 7;
	rib_set_sources(d.rib, n2, 2, blocks, 2, "n1");
	assert_int_equal(changes_n(), 4);
	expect(3, "10.0.0.5/32", false, false);
	assert_int_equal(changes[3].comm0, (65000u << 16) | 7);
	/* nothing changed: nothing sent */
	rib_set_sources(d.rib, n2, 2, blocks, 2, "n1");
	assert_int_equal(changes_n(), 4);
}

static void
test_link_down_and_sweep(void **state)
{
	struct prefix a = P("192.168.0.1/32"), b = P("192.168.0.2/32"), c = P("192.168.0.3/32");

	(void)state;
	rib_kernel_add(d.rib, &a, 7, 1);
	rib_kernel_add(d.rib, &b, 7, 1);
	rib_kernel_add(d.rib, &c, 8, 1);
	rib_kernel_add(d.rib, &b, 9, 1);	/* moved to another link */
	reset();
	rib_kernel_link_down(d.rib, 7);
	assert_int_equal(changes_n(), 1);
	expect(0, "192.168.0.1/32", true, false);
	assert_int_equal(rib_count(d.rib), 2);
	rib_kernel_link_down(d.rib, 7);
	assert_int_equal(changes_n(), 1);
	/* a dump (generation 2) saw only c */
	rib_kernel_add(d.rib, &c, 8, 2);
	assert_int_equal(rib_sweep(d.rib, 2), 1);
	assert_true(rib_has_kernel(d.rib, &c));
	assert_false(rib_has_kernel(d.rib, &b));
}

/* IPv4 and IPv6 routes on one link, the middle one of a link's list
 * removed, slots reused, aggregated routes leaving their block. */
static void
test_link_lists_and_reuse(void **state)
{
	struct prefix a = P("192.168.0.1/32"), b = P("fd00:9::1/128"), c = P("192.168.0.3/32");
	struct prefix in1 = P("10.0.0.5/32"), in2 = P("10.0.0.6/32");

	(void)state;
	rib_kernel_add(d.rib, &a, 7, 1);
	rib_kernel_add(d.rib, &b, 7, 1);
	rib_kernel_add(d.rib, &c, 7, 1);
	rib_kernel_del(d.rib, &b);		/* the middle of 7's list */
	rib_kernel_add(d.rib, &b, 8, 1);	/* its slot again, another link */
	rib_kernel_add(d.rib, &c, 8, 1);	/* the head of 7's list moves */
	reset();
	rib_kernel_link_down(d.rib, 8);
	assert_int_equal(changes_n(), 2);
	assert_int_equal(rib_count(d.rib), 1);
	assert_true(rib_has_kernel(d.rib, &a));
	rib_kernel_link_down(d.rib, 7);
	assert_int_equal(rib_count(d.rib), 0);
	/* two routes in one block: one aggregate, gone with the last */
	rib_kernel_add(d.rib, &in1, 9, 1);
	rib_kernel_add(d.rib, &in2, 10, 1);
	rib_kernel_add(d.rib, &a, 0, 1);	/* no link: in no list */
	reset();
	rib_kernel_del(d.rib, &in1);
	assert_int_equal(changes_n(), 0);
	rib_kernel_link_down(d.rib, 10);
	assert_int_equal(changes_n(), 1);
	expect(0, "10.0.0.0/26", true, false);	/* a withdrawal carries no export */
	assert_int_equal(rib_exported(d.rib), 1);
	rib_kernel_del(d.rib, &a);
	assert_int_equal(rib_count(d.rib), 0);
	assert_int_equal(rib_exported(d.rib), 0);
}

static double
secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* 100,000 /32s outside blocks, 2 routes per link: add, link-down half,
 * delete the rest; everything consistent and fast. */
static void
test_scale_100k(void **state)
{
	const uint32_t n = 100000;
	struct timespec t0, t1, t2;
	struct prefix p = P("172.16.0.0/32");

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = htonl(0xac100000u + i);

		memcpy(p.addr.u.b, &v, 4);
		assert_int_equal(rib_kernel_add(d.rib, &p, (int)(100 + i / 2), 1), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(rib_count(d.rib), n);
	assert_int_equal(rib_exported(d.rib), n);
	assert_int_equal(total_n(), n);
	/* links 100 .. 100 + n/4 - 1 carry routes 0 .. n/2 - 1 */
	for (uint32_t i = 0; i < n / 4; i++)
		rib_kernel_link_down(d.rib, (int)(100 + i));
	assert_int_equal(rib_count(d.rib), n / 2);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = htonl(0xac100000u + i);

		memcpy(p.addr.u.b, &v, 4);
		rib_kernel_del(d.rib, &p);
	}
	clock_gettime(CLOCK_MONOTONIC, &t2);
	assert_int_equal(rib_count(d.rib), 0);
	assert_int_equal(rib_exported(d.rib), 0);
	assert_int_equal(total_n(), 2 * n);
	fprintf(stderr, "# rib: %u adds in %.1f ms, removal of all in %.1f ms\n", n,
		secs(&t0, &t1) * 1e3, secs(&t1, &t2) * 1e3);
	assert_true(secs(&t0, &t1) < 1.0);
}

/* ---- with the store worker (rib_set_async): new blocks, notices ---------- */

/* The RIB as leafnetd runs it: the store worker's reads, handed over. */
static int
setup_async(void **state)
{
	(void)state;
	setup(state);
	rib_free(d.rib);
	d.rib = rib_new(&d);
	assert_non_null(d.rib);
	rib_set_async(d.rib, true);
	rib_src_apply(d.rib, rib_src_make(nets, 2, blocks, 2, "n1", ld_now_ms()));
	(void)rib_take_want(d.rib);
	reset();
	return 0;
}

/* blocks[] and one more of n1's */
static void
read_with(const char *cidr, uint64_t started)
{
	struct ipam_block more[3];

	memcpy(more, blocks, sizeof(blocks));
	memset(&more[2], 0, sizeof(more[2]));
	if (cidr != NULL) {
		more[2].cidr = P(cidr);
		snprintf(more[2].node, sizeof(more[2].node), "n1");
	}
	rib_src_apply(d.rib, rib_src_make(nets, 2, more, cidr ? 3 : 2, "n1", started));
}

/* The notice names a block of ours the RIB does not know: the first route
 * goes out as the aggregate, never as a /32, through a stale read (begun
 * before the notice) and the confirming one. */
static void
test_async_notice_block(void **state)
{
	struct prefix a = P("10.0.0.130/32"), b = P("10.0.0.131/32");
	struct prefix blk = P("10.0.0.128/26");
	uint64_t before = ld_now_ms() - 1;

	(void)state;
	rib_note_block(d.rib, &a, &blk, false);
	assert_int_equal(changes_n(), 0);	/* no route in it yet */
	assert_int_equal(rib_kernel_add(d.rib, &a, 3, 1), 0);
	assert_int_equal(changes_n(), 1);
	expect(0, "10.0.0.128/26", false, true);
	rib_note_block(d.rib, &b, &blk, false);	/* known now: nothing */
	assert_int_equal(rib_kernel_add(d.rib, &b, 3, 1), 0);
	read_with(NULL, before);		/* began before the claim */
	assert_int_equal(changes_n(), 1);
	read_with("10.0.0.128/26", ld_now_ms() + 1);	/* confirms it */
	assert_int_equal(changes_n(), 1);
	read_with("10.0.0.128/26", ld_now_ms() + 2);
	/* confirmed: no expiry any more */
	assert_int_equal(rib_timers(d.rib, ld_now_ms() + 601000), 0);
	assert_int_equal(changes_n(), 1);
	rib_kernel_del(d.rib, &a);
	rib_kernel_del(d.rib, &b);
	assert_int_equal(changes_n(), 2);
	expect(1, "10.0.0.128/26", true, false);
	assert_int_equal(rib_exported(d.rib), 0);
}

/* The route comes first (the route monitor), the notice after it. */
static void
test_async_route_then_notice(void **state)
{
	struct prefix a = P("10.0.0.140/32"), blk = P("10.0.0.128/26");

	(void)state;
	assert_int_equal(rib_kernel_add(d.rib, &a, 3, 1), 0);
	assert_int_equal(changes_n(), 0);	/* held, a read asked for */
	assert_true(rib_take_want(d.rib));
	rib_note_block(d.rib, &a, &blk, false);
	assert_int_equal(changes_n(), 1);
	expect(0, "10.0.0.128/26", false, true);
	/* the deadline finds nothing held */
	(void)rib_timers(d.rib, ld_now_ms() + 1000);
	assert_int_equal(changes_n(), 1);
}

/* A read begun before the route came does not name its new block (it was
 * under way while the block was claimed): the route waits for the next
 * read instead of going out as a /32. */
static void
test_async_stale_read(void **state)
{
	struct prefix a = P("10.0.0.200/32");
	uint64_t before = ld_now_ms() - 1;

	(void)state;
	assert_int_equal(rib_kernel_add(d.rib, &a, 3, 1), 0);
	assert_true(rib_take_want(d.rib));
	read_with(NULL, before);
	assert_int_equal(changes_n(), 0);	/* still held */
	assert_true(rib_take_want(d.rib));	/* and another read asked for */
	read_with("10.0.0.192/26", ld_now_ms() + 1);
	assert_int_equal(changes_n(), 1);
	expect(0, "10.0.0.192/26", false, true);
}

/* A read begun after the route came that names no block for it: the
 * route is not ours to aggregate, out as a /32 at once. */
static void
test_async_fresh_read_no_block(void **state)
{
	struct prefix a = P("10.0.0.200/32");

	(void)state;
	assert_int_equal(rib_kernel_add(d.rib, &a, 3, 1), 0);
	read_with(NULL, ld_now_ms() + 1);
	assert_int_equal(changes_n(), 1);
	expect(0, "10.0.0.200/32", false, false);
}

/* No read at all: the /32 after the hold (<= 200 ms), and a provisional
 * block the store never confirms goes after RIB_PROV_MS (10 min); one the store
 * denies goes at once. */
static void
test_async_deadlines_and_denial(void **state)
{
	struct prefix a = P("10.0.0.200/32"), c = P("10.0.0.130/32");
	struct prefix blk = P("10.0.0.128/26");
	uint64_t now = ld_now_ms(), due;

	(void)state;
	assert_int_equal(rib_kernel_add(d.rib, &a, 3, 1), 0);
	due = rib_timers(d.rib, 0);
	assert_true(due > 0 && due <= now + 200 + 5);
	(void)rib_timers(d.rib, due);
	assert_int_equal(changes_n(), 1);
	expect(0, "10.0.0.200/32", false, false);

	rib_note_block(d.rib, &c, &blk, false);
	assert_int_equal(rib_kernel_add(d.rib, &c, 3, 1), 0);
	assert_int_equal(changes_n(), 2);
	expect(1, "10.0.0.128/26", false, true);
	(void)rib_timers(d.rib, ld_now_ms() + 601000);	/* never confirmed */
	assert_int_equal(changes_n(), 4);
	expect(2, "10.0.0.130/32", false, false);
	expect(3, "10.0.0.128/26", true, false);
	rib_kernel_del(d.rib, &c);
	reset();

	rib_note_block(d.rib, &c, &blk, false);
	assert_int_equal(rib_kernel_add(d.rib, &c, 3, 1), 0);
	assert_int_equal(changes_n(), 1);
	read_with(NULL, ld_now_ms() + 1);	/* the store says no */
	assert_int_equal(changes_n(), 3);
	expect(1, "10.0.0.130/32", false, false);
	expect(2, "10.0.0.128/26", true, false);
}

/* A borrowed address goes out as a /32 at once, whichever comes first. */
static void
test_async_borrowed_notice(void **state)
{
	struct prefix a = P("10.0.0.70/32"), b = P("10.0.0.71/32");
	struct prefix theirs = P("10.0.0.64/26");

	(void)state;
	rib_note_block(d.rib, &a, &theirs, true);
	assert_int_equal(rib_kernel_add(d.rib, &a, 3, 1), 0);
	assert_int_equal(changes_n(), 1);
	expect(0, "10.0.0.70/32", false, false);
	assert_int_equal(rib_kernel_add(d.rib, &b, 3, 1), 0);
	assert_int_equal(changes_n(), 1);	/* held: no notice yet */
	rib_note_block(d.rib, &b, &theirs, true);
	assert_int_equal(changes_n(), 2);
	expect(1, "10.0.0.71/32", false, false);
	assert_int_equal(rib_timers(d.rib, 0), 0);	/* nothing held */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_block_aggregate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_borrowed_and_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonroutable_communities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_claimed_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aggregate_off_and_community_change,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_down_and_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_lists_and_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scale_100k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_notice_block, setup_async, teardown),
		cmocka_unit_test_setup_teardown(test_async_route_then_notice, setup_async,
						teardown),
		cmocka_unit_test_setup_teardown(test_async_stale_read, setup_async, teardown),
		cmocka_unit_test_setup_teardown(test_async_fresh_read_no_block, setup_async,
						teardown),
		cmocka_unit_test_setup_teardown(test_async_deadlines_and_denial, setup_async,
						teardown),
		cmocka_unit_test_setup_teardown(test_async_borrowed_notice, setup_async,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
