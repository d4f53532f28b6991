/* test_nexthop.c — the next-hop resolver (routing/nexthop.c) over small
 * tables: our own addresses, connected networks, longest match and
 * metrics, blackholes, recursion through learned routes (never through
 * the route itself, mutual recursion fails), the default route, onlink
 * (configured and inherited), link down, replace, link-local ambiguity,
 * routes through nexthop objects, tracking and nh_eval's reports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/rtnetlink.h>

#include "nexthop.h"

static struct ipaddr
A(const char *s)
{
	struct ipaddr a;

	memset(&a, 0, sizeof(a));
	if (ipaddr_parse(s, &a) < 0)
		abort();
	return a;
}

static struct prefix
P(const char *s)
{
	struct prefix p;

	memset(&p, 0, sizeof(p));
	if (prefix_parse(s, 0, &p) < 0)
		abort();
	return p;
}

/* A kernel route: dst, gateway ("" none), device, metric, type. */
static struct route
R(const char *dst, const char *gw, int oif, uint32_t metric, uint8_t type)
{
	struct route rt;

	memset(&rt, 0, sizeof(rt));
	rt.dst = P(dst);
	if (gw[0])
		rt.gateway = A(gw);
	rt.oif = oif;
	rt.priority = metric;
	rt.type = type;
	rt.table = RT_TABLE_MAIN;
	return rt;
}

static void
kadd(struct nh_table *t, const char *dst, const char *gw, int oif)
{
	struct route rt = R(dst, gw, oif, 0, RTN_UNICAST);

	assert_int_equal(nh_kernel_add(t, &rt, false), 0);
}

static void
learn(struct nh_table *t, const char *p, const char *nh1, const char *nh2)
{
	struct ipaddr nh[2];
	size_t n = 0;
	struct prefix pp = P(p);

	nh[n++] = A(nh1);
	if (nh2 != NULL)
		nh[n++] = A(nh2);
	assert_int_equal(nh_learned_set(t, &pp, nh, n), 0);
}

static struct nh_res
res(const struct nh_table *t, const char *a, const char *self)
{
	struct nh_res r;
	struct prefix sp;
	struct ipaddr x = A(a);

	if (self != NULL)
		sp = P(self);
	nh_resolve(t, &x, self ? &sp : NULL, &r);
	return r;
}

static void
assert_hop(const struct nh_res *r, size_t i, const char *gw, int oif, unsigned flags)
{
	struct ipaddr g = A(gw);

	assert_true(i < r->n);
	assert_true(ipaddr_eq(&r->hop[i].gw, &g));
	assert_int_equal(r->hop[i].oif, oif);
	assert_int_equal(r->hop[i].flags, flags);
}

static int
setup(void **state)
{
	struct nh_table *t = nh_table_new();
	struct ipaddr a = A("10.1.0.1"), a6 = A("fd00:1::1");

	assert_non_null(t);
	/* the node: 10.1.0.1/24 and fd00:1::1/64 on ifindex 2 */
	assert_int_equal(nh_addr_add(t, &a, 2), 0);
	assert_int_equal(nh_addr_add(t, &a6, 2), 0);
	kadd(t, "10.1.0.0/24", "", 2);
	kadd(t, "fd00:1::/64", "", 2);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	nh_table_free(*state);
	return 0;
}

static void
test_connected_local_unreachable(void **state)
{
	struct nh_table *t = *state;
	struct nh_res r;

	r = res(t, "10.1.0.7", NULL);
	assert_int_equal(r.state, LD_NH_USABLE);
	assert_false(r.recursive);
	assert_int_equal(r.n, 1);
	assert_hop(&r, 0, "10.1.0.7", 2, 0);

	r = res(t, "fd00:1::7", NULL);
	assert_int_equal(r.state, LD_NH_USABLE);
	assert_hop(&r, 0, "fd00:1::7", 2, 0);

	assert_int_equal(res(t, "10.1.0.1", NULL).state, LD_NH_LOCAL);
	assert_int_equal(res(t, "fd00:1::1", NULL).state, LD_NH_LOCAL);
	assert_int_equal(res(t, "10.9.0.1", NULL).state, LD_NH_UNREACHABLE);
	assert_int_equal(res(t, "10.9.0.1", NULL).n, 0);
	{
		struct nh_res z;

		nh_resolve(t, &(struct ipaddr){ 0 }, NULL, &z);	/* no family */
		assert_int_equal(z.state, LD_NH_UNREACHABLE);
	}

	/* an address on another interface is ours as well; gone, it is not */
	{
		struct ipaddr lo = A("10.255.0.1");

		assert_int_equal(nh_addr_add(t, &lo, 1), 0);
		assert_int_equal(res(t, "10.255.0.1", NULL).state, LD_NH_LOCAL);
		nh_addr_del(t, &lo, 1);
		assert_int_equal(res(t, "10.255.0.1", NULL).state, LD_NH_UNREACHABLE);
	}
}

static void
test_recursive_kernel(void **state)
{
	struct nh_table *t = *state;
	struct route rt;
	struct nh_res r;

	kadd(t, "10.9.0.0/16", "10.1.0.254", 2);
	r = res(t, "10.9.0.1", NULL);
	assert_int_equal(r.state, LD_NH_USABLE);
	assert_true(r.recursive);
	assert_hop(&r, 0, "10.1.0.254", 2, 0);

	/* the longest match decides: a /24 via another gateway, a blackhole */
	kadd(t, "10.9.1.0/24", "10.1.0.253", 2);
	assert_hop((r = res(t, "10.9.1.5", NULL), &r), 0, "10.1.0.253", 2, 0);
	rt = R("10.9.2.0/24", "", 0, 0, RTN_BLACKHOLE);
	assert_int_equal(nh_kernel_add(t, &rt, false), 0);
	assert_int_equal(res(t, "10.9.2.5", NULL).state, LD_NH_UNREACHABLE);
	assert_int_equal(res(t, "10.9.3.5", NULL).state, LD_NH_USABLE);

	/* the lowest metric of one prefix */
	rt = R("10.9.1.0/24", "10.1.0.252", 2, 50, RTN_UNICAST);
	assert_int_equal(nh_kernel_add(t, &rt, false), 0);
	rt = R("10.9.1.0/24", "10.1.0.251", 3, 100, RTN_UNICAST);
	assert_int_equal(nh_kernel_add(t, &rt, false), 0);
	r = res(t, "10.9.1.5", NULL);
	assert_int_equal(r.n, 1);
	assert_hop(&r, 0, "10.1.0.253", 2, 0);		/* metric 0 */
	rt = R("10.9.1.0/24", "10.1.0.253", 2, 0, RTN_UNICAST);
	nh_kernel_del(t, &rt);
	assert_hop((r = res(t, "10.9.1.5", NULL), &r), 0, "10.1.0.252", 2, 0);

	/* the route goes: not resolvable any more */
	rt = R("10.9.0.0/16", "10.1.0.254", 2, 0, RTN_UNICAST);
	nh_kernel_del(t, &rt);
	assert_int_equal(res(t, "10.9.0.1", NULL).state, LD_NH_UNREACHABLE);

	/* a default route resolves what nothing longer does */
	kadd(t, "0.0.0.0/0", "10.1.0.254", 2);
	assert_hop((r = res(t, "10.9.0.1", NULL), &r), 0, "10.1.0.254", 2, 0);
	assert_hop((r = res(t, "192.0.2.1", NULL), &r), 0, "10.1.0.254", 2, 0);
}

static void
test_onlink(void **state)
{
	struct nh_table *t = *state;
	struct route rt;
	struct nh_res r;

	/* the resolving route's onlink flag is inherited */
	rt = R("0.0.0.0/0", "169.254.0.1", 3, 0, RTN_UNICAST);
	rt.flags = ROUTE_F_ONLINK;
	assert_int_equal(nh_kernel_add(t, &rt, false), 0);
	r = res(t, "10.50.0.1", NULL);
	assert_hop(&r, 0, "169.254.0.1", 3, ROUTE_F_ONLINK);

	/* configured: a resolved next hop goes onlink on the route's device,
	 * a connected one stays as it is */
	nh_set_flags(t, NH_F_ONLINK);
	r = res(t, "10.50.0.1", NULL);
	assert_int_equal(r.n, 1);
	assert_hop(&r, 0, "10.50.0.1", 3, ROUTE_F_ONLINK);
	r = res(t, "10.1.0.7", NULL);
	assert_hop(&r, 0, "10.1.0.7", 2, 0);
}

static void
test_recursive_learned(void **state)
{
	struct nh_table *t = *state;
	struct prefix self = P("10.20.0.0/16");
	struct ipaddr nh = A("10.20.0.9");
	struct route_nh hops[NH_HOPS_MAX];
	struct nh_res r;

	/* a learned route (its next hop connected) resolves another's */
	learn(t, "10.20.0.0/16", "10.1.0.9", NULL);
	r = res(t, "10.20.3.4", NULL);
	assert_int_equal(r.state, LD_NH_USABLE);
	assert_true(r.recursive);
	assert_hop(&r, 0, "10.1.0.9", 2, 0);
	assert_int_equal(r.n_via, 1);
	assert_true(prefix_eq(&r.via[0], &self));

	/* ... but not its own next hop: never through itself */
	learn(t, "10.30.0.0/16", "10.30.0.1", NULL);
	assert_int_equal(res(t, "10.30.0.1", NULL).state, LD_NH_UNREACHABLE);
	assert_int_equal(res(t, "10.30.0.1", "10.30.0.0/16").state, LD_NH_UNREACHABLE);
	self = P("10.30.0.0/16");
	nh = A("10.30.0.1");
	assert_int_equal(nh_route_hops(t, &self, &nh, 1, hops, NH_HOPS_MAX), 0);
	/* a shorter route under it does resolve it */
	kadd(t, "10.0.0.0/8", "10.1.0.254", 2);
	assert_hop((r = res(t, "10.30.0.1", "10.30.0.0/16"), &r), 0, "10.1.0.254", 2, 0);
	assert_int_equal(nh_route_hops(t, &self, &nh, 1, hops, NH_HOPS_MAX), 1);
	assert_true(ipaddr_eq(&hops[0].gw, &(struct ipaddr){ .family = AF_INET,
		.u.b = { 10, 1, 0, 254 } }));

	/* ECMP through a learned route with two next hops, deduplicated */
	learn(t, "10.40.0.0/16", "10.1.0.11", "10.1.0.12");
	r = res(t, "10.40.1.1", NULL);
	assert_int_equal(r.n, 2);
	assert_hop(&r, 0, "10.1.0.11", 2, 0);
	assert_hop(&r, 1, "10.1.0.12", 2, 0);
	{
		struct ipaddr two[3] = { A("10.40.1.1"), A("10.1.0.12"), A("10.1.0.11") };
		struct prefix p = P("10.41.0.0/16");

		assert_int_equal(nh_route_hops(t, &p, two, 3, hops, NH_HOPS_MAX), 2);
	}
	/* a learned route that resolves nothing hides nothing under it */
	learn(t, "10.60.0.0/16", "172.16.0.1", NULL);
	assert_hop((r = res(t, "10.60.0.5", NULL), &r), 0, "10.1.0.254", 2, 0);
	learn(t, "10.60.0.0/16", "10.1.0.13", NULL);	/* replaced */
	assert_hop((r = res(t, "10.60.0.5", NULL), &r), 0, "10.1.0.13", 2, 0);
	assert_int_equal(nh_learned_set(t, &(struct prefix){ .addr = A("10.60.0.0"),
		.len = 16 }, NULL, 0), 0);
	assert_hop((r = res(t, "10.60.0.5", NULL), &r), 0, "10.1.0.254", 2, 0);
}

static void
test_mutual_recursion(void **state)
{
	struct nh_table *t = *state;
	struct nh_res r;

	learn(t, "10.40.0.0/16", "10.50.0.1", NULL);
	learn(t, "10.50.0.0/16", "10.40.0.1", NULL);
	assert_int_equal(res(t, "10.40.0.1", NULL).state, LD_NH_UNREACHABLE);
	assert_int_equal(res(t, "10.50.0.1", NULL).state, LD_NH_UNREACHABLE);
	/* a real route for one of them: both resolve, down to it */
	kadd(t, "10.50.0.0/24", "10.1.0.250", 2);
	r = res(t, "10.40.0.1", NULL);
	assert_int_equal(r.state, LD_NH_USABLE);
	assert_hop(&r, 0, "10.1.0.250", 2, 0);
	r = res(t, "10.50.7.1", NULL);			/* via 10.50/16 */
	assert_hop(&r, 0, "10.1.0.250", 2, 0);
	assert_int_equal(r.n_via, 2);
}

static void
test_link_down_replace(void **state)
{
	struct nh_table *t = *state;
	struct route rt;
	struct nh_res r;

	kadd(t, "10.9.0.0/16", "10.1.0.254", 2);
	kadd(t, "10.8.0.0/16", "10.2.0.254", 3);
	nh_kernel_link_down(t, 2);
	assert_int_equal(res(t, "10.9.0.1", NULL).state, LD_NH_UNREACHABLE);
	assert_int_equal(res(t, "10.1.0.7", NULL).state, LD_NH_UNREACHABLE);
	assert_int_equal(res(t, "10.8.0.1", NULL).state, LD_NH_USABLE);
	assert_int_equal(res(t, "10.1.0.1", NULL).state, LD_NH_LOCAL);	/* stays */

	/* NLM_F_REPLACE: the route of that destination and metric is new */
	rt = R("10.8.0.0/16", "10.3.0.254", 4, 0, RTN_UNICAST);
	assert_int_equal(nh_kernel_add(t, &rt, true), 0);
	r = res(t, "10.8.0.1", NULL);
	assert_int_equal(r.n, 1);
	assert_hop(&r, 0, "10.3.0.254", 4, 0);
	/* ours replaced it */
	nh_kernel_replaced(t, &rt);
	assert_int_equal(res(t, "10.8.0.1", NULL).state, LD_NH_UNREACHABLE);

	/* a route through a nexthop object (no gateway, no device): unused */
	rt = R("10.7.0.0/16", "", 0, 0, RTN_UNICAST);
	assert_int_equal(nh_kernel_add(t, &rt, false), 0);
	assert_int_equal(res(t, "10.7.0.1", NULL).state, LD_NH_UNREACHABLE);

	/* everything forgotten (a resync) but learned routes */
	learn(t, "10.70.0.0/16", "10.3.0.9", NULL);
	kadd(t, "10.3.0.0/24", "", 4);
	assert_int_equal(res(t, "10.70.0.1", NULL).state, LD_NH_USABLE);
	nh_kernel_clear(t);
	assert_int_equal(res(t, "10.70.0.1", NULL).state, LD_NH_UNREACHABLE);
	assert_int_equal(res(t, "10.1.0.1", NULL).state, LD_NH_UNREACHABLE);
	kadd(t, "10.3.0.0/24", "", 4);
	assert_int_equal(res(t, "10.70.0.1", NULL).state, LD_NH_USABLE);
}

static void
test_link_local(void **state)
{
	struct nh_table *t = *state;
	struct route rt;
	struct nh_res r;

	rt = R("fe80::/64", "", 2, 256, RTN_UNICAST);
	assert_int_equal(nh_kernel_add(t, &rt, false), 0);
	r = res(t, "fe80::1", NULL);
	assert_int_equal(r.state, LD_NH_USABLE);
	assert_hop(&r, 0, "fe80::1", 2, 0);
	rt.oif = 3;
	assert_int_equal(nh_kernel_add(t, &rt, false), 0);
	assert_int_equal(res(t, "fe80::1", NULL).state, LD_NH_UNREACHABLE);
	/* a global address on two links is fine (the kernel picks) */
	rt = R("fd00:9::/64", "", 2, 256, RTN_UNICAST);
	assert_int_equal(nh_kernel_add(t, &rt, false), 0);
	rt.oif = 3;
	assert_int_equal(nh_kernel_add(t, &rt, false), 0);
	assert_int_equal(res(t, "fd00:9::5", NULL).n, 2);
}

struct seen {
	size_t n;
	enum ld_nh_state old, now;
};

static void
seen_cb(const struct ipaddr *a, const struct nh_res *old, const struct nh_res *r, void *arg)
{
	struct seen *s = arg;

	(void)a;
	s->n++;
	s->old = old->state;
	s->now = r->state;
}

static void
test_track_eval(void **state)
{
	struct nh_table *t = *state;
	struct ipaddr a = A("10.9.0.1");
	struct seen s = { 0 };
	struct route rt;

	(void)nh_eval(t, NULL, NULL);		/* the setup's changes */
	assert_false(nh_dirty(t));
	assert_int_equal(nh_track(t, &a)->state, LD_NH_UNREACHABLE);
	assert_int_equal(nh_track(t, &a)->state, LD_NH_UNREACHABLE);	/* idempotent */
	assert_int_equal(nh_tracked_count(t), 1);
	assert_null(nh_tracked(t, &(struct ipaddr){ .family = AF_INET }));

	kadd(t, "10.9.0.0/16", "10.1.0.254", 2);
	assert_true(nh_dirty(t));
	assert_int_equal(nh_eval(t, seen_cb, &s), 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.old, LD_NH_UNREACHABLE);
	assert_int_equal(s.now, LD_NH_USABLE);
	assert_int_equal(nh_tracked(t, &a)->state, LD_NH_USABLE);
	assert_int_equal(nh_eval(t, seen_cb, &s), 0);		/* not dirty */

	/* a change that does not touch it: evaluated, not reported */
	kadd(t, "10.8.0.0/16", "10.1.0.254", 2);
	assert_int_equal(nh_eval(t, seen_cb, &s), 0);
	/* another gateway: reported, still usable */
	rt = R("10.9.0.0/16", "10.1.0.253", 2, 0, RTN_UNICAST);
	assert_int_equal(nh_kernel_add(t, &rt, true), 0);
	assert_int_equal(nh_eval(t, seen_cb, &s), 1);
	assert_int_equal(s.now, LD_NH_USABLE);
	assert_true(ipaddr_eq(&nh_tracked(t, &a)->hop[0].gw, &(struct ipaddr){
		.family = AF_INET, .u.b = { 10, 1, 0, 253 } }));
	/* the address becomes ours */
	assert_int_equal(nh_addr_add(t, &a, 5), 0);
	assert_int_equal(nh_eval(t, seen_cb, &s), 1);
	assert_int_equal(s.now, LD_NH_LOCAL);
	nh_untrack(t, &a);
	assert_int_equal(nh_tracked_count(t), 0);
	nh_untrack(t, &a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connected_local_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recursive_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_onlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recursive_learned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mutual_recursion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_down_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_track_eval, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
