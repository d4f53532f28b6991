/* test_network.c — network validation (error texts name the flag), the JSON
 * form, communities, and create/get/list/delete on a real file store. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"
#include "err.h"
#include "ipam.h"
#include "network.h"
#include "prefix.h"
#include "store.h"
#include "tmpstore.h"

static int
setup(void **state)
{
	return tmpstore_setup(state, "network");
}

/* A network with one subnet (and a gateway when gw != NULL). */
static void
mknet(struct network *n, const char *name, const char *cidr, const char *gw)
{
	network_init(n);
	snprintf(n->name, sizeof(n->name), "%s", name);
	assert_int_equal(prefix_parse(cidr, PREFIX_F_HOST_BITS, &n->subnets[0].cidr), 0);
	if (gw)
		assert_int_equal(ipaddr_parse(gw, &n->subnets[0].gateway), 0);
	n->n_subnets = 1;
}

static void
add_subnet(struct network *n, const char *cidr)
{
	assert_int_equal(prefix_parse(cidr, PREFIX_F_HOST_BITS, &n->subnets[n->n_subnets].cidr), 0);
	n->n_subnets++;
}

/* validate must fail with -EINVAL, LF_E_INVALID and all of the
 * given substrings in the message. */
static void
expect_invalid(struct network *n, const char *s1, const char *s2)
{
	struct lf_err e = { 0 };

	assert_int_equal(network_validate(n, &e), -EINVAL);
	assert_int_equal(e.code, LF_E_INVALID);
	if (!strstr(e.msg, s1) || (s2 && !strstr(e.msg, s2)))
		fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", e.msg, s1, s2 ? s2 : "");
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(network_name_valid("public"));
	assert_true(network_name_valid("a"));
	assert_true(network_name_valid("net-1.prod_x"));
	assert_true(network_name_valid("0net"));
	assert_false(network_name_valid(""));
	assert_false(network_name_valid(NULL));
	assert_false(network_name_valid("-net"));
	assert_false(network_name_valid(".net"));
	assert_false(network_name_valid("a/b"));
	assert_false(network_name_valid("a b"));
	assert_false(network_name_valid("a:b"));
	char long_name[80];
	memset(long_name, 'a', sizeof(long_name));
	long_name[63] = '\0';
	assert_true(network_name_valid(long_name));
	long_name[63] = 'a';
	long_name[64] = '\0';
	assert_false(network_name_valid(long_name));
}

static void
test_validate_subnets(void **state)
{
	struct network n;

	(void)state;
	network_init(&n);
	snprintf(n.name, sizeof(n.name), "public");
	expect_invalid(&n, "--subnet", "network public has no subnet");

	mknet(&n, "bad name", "10.0.0.0/24", NULL);
	expect_invalid(&n, "network name", "bad name");

	mknet(&n, "public", "10.0.0.0/31", NULL);
	expect_invalid(&n, "--subnet 10.0.0.0/31", "/8 to /30");
	mknet(&n, "public", "10.0.0.0/7", NULL);
	expect_invalid(&n, "--subnet 10.0.0.0/7", "/8 to /30");
	mknet(&n, "public", "fd00::/40", NULL);
	expect_invalid(&n, "--subnet fd00::/40", "/48 to /126");
	mknet(&n, "public", "fd00::/127", NULL);
	expect_invalid(&n, "--subnet fd00::/127", NULL);

	mknet(&n, "public", "10.0.0.5/24", NULL);
	expect_invalid(&n, "--subnet 10.0.0.5/24 has host bits set", "--subnet 10.0.0.0/24");

	mknet(&n, "public", "10.0.0.0/24", NULL);
	add_subnet(&n, "10.1.0.0/24");
	expect_invalid(&n, "--subnet given twice for IPv4", "10.1.0.0/24");

	mknet(&n, "public", "10.0.0.0/24", NULL);
	add_subnet(&n, "fd00:1::/64");
	assert_int_equal(network_validate(&n, NULL), 0);
}

static void
test_validate_gateway(void **state)
{
	struct network n;
	struct lf_err e = { 0 };

	(void)state;
	mknet(&n, "public", "192.168.1.0/24", "10.1.0.1");
	assert_int_equal(network_validate(&n, &e), -EINVAL);
	assert_string_equal(e.msg, "--gateway 10.1.0.1 is not inside --subnet 192.168.1.0/24; "
			    "give a gateway address from the subnet or leave --gateway out");

	mknet(&n, "public", "192.168.1.0/24", "192.168.1.0");
	expect_invalid(&n, "--gateway 192.168.1.0 is the network address", "--subnet 192.168.1.0/24");
	mknet(&n, "public", "192.168.1.0/24", "192.168.1.255");
	expect_invalid(&n, "--gateway 192.168.1.255 is the broadcast address", NULL);
	mknet(&n, "public", "192.168.1.0/24", "fd00::1");
	expect_invalid(&n, "--gateway fd00::1 is not inside --subnet 192.168.1.0/24", NULL);
	mknet(&n, "public", "fd00:1::/64", "fd00:1::");
	expect_invalid(&n, "--gateway fd00:1:: is the network address", NULL);

	mknet(&n, "public", "192.168.1.0/24", "192.168.1.254");
	assert_int_equal(network_validate(&n, NULL), 0);
	mknet(&n, "public", "fd00:1::/64", "fd00:1::ffff:ffff:ffff:ffff");
	assert_int_equal(network_validate(&n, NULL), 0);	/* no v6 broadcast */
}

static void
test_validate_blocks_communities(void **state)
{
	struct network n;

	(void)state;
	mknet(&n, "public", "10.0.0.0/16", NULL);
	n.block_size4 = 19;
	expect_invalid(&n, "--block-size 19", "/20 to /32");
	mknet(&n, "public", "10.0.0.0/16", NULL);
	n.block_size4 = 33;
	expect_invalid(&n, "--block-size 33", NULL);
	mknet(&n, "public", "fd00::/64", NULL);
	n.block_size6 = 100;
	expect_invalid(&n, "--block-size 100", "IPv6");

	/* a subnet smaller than the block is one block */
	mknet(&n, "public", "10.0.0.0/28", NULL);
	assert_int_equal(network_validate(&n, NULL), 0);
	assert_int_equal(n.block_size4, 28);
	mknet(&n, "public", "10.0.0.0/16", NULL);
	assert_int_equal(network_validate(&n, NULL), 0);
	assert_int_equal(n.block_size4, NETWORK_BLOCK4_DEFAULT);
	assert_int_equal(n.block_size6, NETWORK_BLOCK6_DEFAULT);

	/* non-routable networks get the default community */
	mknet(&n, "private", "10.9.0.0/16", NULL);
	n.routable = false;
	assert_int_equal(network_validate(&n, NULL), 0);
	assert_int_equal(n.n_communities, 1);
	assert_int_equal(n.communities[0], NETWORK_NONROUTABLE_COMMUNITY);
	mknet(&n, "private", "10.9.0.0/16", NULL);
	n.routable = false;
	n.n_communities = 1;
	n.communities[0] = (65000u << 16) | 7;
	assert_int_equal(network_validate(&n, NULL), 0);
	assert_int_equal(n.n_communities, 1);
	assert_int_equal(n.communities[0], (65000u << 16) | 7);
}

static void
test_communities(void **state)
{
	char buf[16];
	uint32_t c = 0;

	(void)state;
	assert_int_equal(community_parse("64511:100", &c), 0);
	assert_int_equal(c, NETWORK_NONROUTABLE_COMMUNITY);
	assert_string_equal(community_fmt(c, buf, sizeof(buf)), "64511:100");
	assert_int_equal(community_parse("0:0", &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(community_parse("65535:65535", &c), 0);
	assert_int_equal(c, 0xffffffffu);
	c = 42;
	assert_int_equal(community_parse("65536:1", &c), -EINVAL);
	assert_int_equal(community_parse("1:65536", &c), -EINVAL);
	assert_int_equal(community_parse("1:", &c), -EINVAL);
	assert_int_equal(community_parse(":1", &c), -EINVAL);
	assert_int_equal(community_parse("1:2:3", &c), -EINVAL);
	assert_int_equal(community_parse("a:b", &c), -EINVAL);
	assert_int_equal(community_parse("-1:2", &c), -EINVAL);
	assert_int_equal(community_parse("1: 2", &c), -EINVAL);
	assert_int_equal(community_parse("", &c), -EINVAL);
	assert_int_equal(c, 42);	/* untouched on failure */
}

static void
test_json_roundtrip(void **state)
{
	struct network n, m;
	struct lf_err e = { 0 };
	char *text;

	(void)state;
	mknet(&n, "dual", "10.2.0.0/16", "10.2.0.1");
	add_subnet(&n, "fd00:2::/64");
	n.routable = false;
	n.nat_outgoing = true;
	n.aggregate = false;
	n.block_size4 = 28;
	n.block_size6 = 120;
	n.n_communities = 2;
	n.communities[0] = (64511u << 16) | 100;
	n.communities[1] = (1u << 16) | 2;
	snprintf(n.created_by, sizeof(n.created_by), "netctl");
	text = network_to_json(&n);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"cidr\":\"10.2.0.0/16\""));
	assert_non_null(strstr(text, "\"gateway\":\"10.2.0.1\""));
	assert_non_null(strstr(text, "\"communities\":[\"64511:100\",\"1:2\"]"));
	assert_int_equal(network_from_json(text, &m, &e), 0);
	free(text);
	assert_string_equal(m.name, "dual");
	assert_int_equal(m.n_subnets, 2);
	assert_true(prefix_eq(&m.subnets[0].cidr, &n.subnets[0].cidr));
	assert_true(ipaddr_eq(&m.subnets[0].gateway, &n.subnets[0].gateway));
	assert_true(prefix_eq(&m.subnets[1].cidr, &n.subnets[1].cidr));
	assert_false(ipaddr_is_set(&m.subnets[1].gateway));
	assert_false(m.routable);
	assert_true(m.nat_outgoing);
	assert_false(m.aggregate);
	assert_int_equal(m.block_size4, 28);
	assert_int_equal(m.block_size6, 120);
	assert_int_equal(m.n_communities, 2);
	assert_int_equal(m.communities[1], (1u << 16) | 2);
	assert_string_equal(m.created_by, "netctl");

	/* defaults for absent fields */
	assert_int_equal(network_from_json("{\"name\":\"x\",\"subnets\":[{\"cidr\":\"10.0.0.0/8\"}]}",
					   &m, NULL), 0);
	assert_true(m.routable);
	assert_true(m.aggregate);
	assert_int_equal(m.block_size4, NETWORK_BLOCK4_DEFAULT);
}

static void
test_json_errors(void **state)
{
	struct network m;
	struct lf_err e = { 0 };

	(void)state;
	assert_int_equal(network_from_json("{\"subnets\":[]}", &m, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "name"));
	lf_err_clear(&e);
	assert_int_equal(network_from_json("{\"name\":\"x\",\"subnets\":[{\"cidr\":\"10.0.0.300/8\"}]}",
					   &m, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "subnets[0].cidr"));
	lf_err_clear(&e);
	assert_int_equal(network_from_json("{\"name\":\"x\",\"subnets\":[{\"cidr\":\"10.0.0.0/8\","
					   "\"gateway\":\"nope\"}]}", &m, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "subnets[0].gateway"));
	lf_err_clear(&e);
	assert_int_equal(network_from_json("{\"name\":\"x\",\"subnets\":[],\"communities\":[\"1\"]}",
					   &m, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "communities"));
	lf_err_clear(&e);
	assert_int_equal(network_from_json("{\"name\":\"x\",\"subnets\":[],\"routable\":3}",
					   &m, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "routable"));
	lf_err_clear(&e);
	assert_int_equal(network_from_json("{nope", &m, &e), -EINVAL);
}

static void
test_store_crud(void **state)
{
	struct tmpstore *f = *state;
	struct network n, got, *all;
	struct lf_err e = { 0 };
	size_t n_all;

	mknet(&n, "public", "10.10.0.0/16", "10.10.0.1");
	assert_int_equal(network_create(f->s, &n, &e), 0);
	assert_int_equal(network_create(f->s, &n, &e), -EEXIST);
	assert_int_equal(e.code, LF_E_INVALID);
	assert_string_equal(e.msg, "network public already exists");

	lf_err_clear(&e);
	mknet(&n, "other", "10.10.5.0/24", NULL);
	assert_int_equal(network_create(f->s, &n, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "--subnet 10.10.5.0/24 overlaps 10.10.0.0/16 of network public"));

	mknet(&n, "beta", "10.11.0.0/16", NULL);
	add_subnet(&n, "fd00:11::/64");
	assert_int_equal(network_create(f->s, &n, NULL), 0);

	lf_err_clear(&e);
	mknet(&n, "invalid", "10.12.0.0/31", NULL);
	assert_int_equal(network_create(f->s, &n, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "--subnet"));

	assert_int_equal(network_get(f->s, "public", &got, NULL), 0);
	assert_string_equal(got.name, "public");
	assert_int_equal(got.n_subnets, 1);
	lf_err_clear(&e);
	assert_int_equal(network_get(f->s, "nope", &got, &e), -ENOENT);
	assert_int_equal(e.code, LF_E_NOT_FOUND);
	assert_non_null(strstr(e.msg, "network nope not found"));

	assert_int_equal(network_list(f->s, &all, &n_all, NULL), 0);
	assert_int_equal(n_all, 2);
	assert_string_equal(all[0].name, "beta");
	assert_string_equal(all[1].name, "public");
	assert_int_equal(all[0].n_subnets, 2);
	free(all);

	assert_int_equal(network_delete(f->s, "beta", false, NULL), 0);
	lf_err_clear(&e);
	assert_int_equal(network_delete(f->s, "beta", false, &e), -ENOENT);
	assert_int_equal(e.code, LF_E_NOT_FOUND);
	assert_int_equal(network_list(f->s, &all, &n_all, NULL), 0);
	assert_int_equal(n_all, 1);
	free(all);
}

static void
test_delete_busy(void **state)
{
	struct tmpstore *f = *state;
	struct ipam_addr out[IPAM_MAX_ADDRS];
	struct ipam_block *blocks;
	struct lf_err e = { 0 };
	struct network n;
	size_t n_out, n_blocks;

	mknet(&n, "public", "10.20.0.0/24", NULL);
	assert_int_equal(network_create(f->s, &n, NULL), 0);
	for (int i = 0; i < 3; i++) {
		struct ipam_req req = { .network = "public", .node = "node1" };

		snprintf(req.owner.container_id, sizeof(req.owner.container_id), "c%d", i);
		snprintf(req.owner.ifname, sizeof(req.owner.ifname), "eth0");
		assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n_out, NULL), 0);
	}
	assert_int_equal(network_delete(f->s, "public", false, &e), -EBUSY);
	assert_int_equal(e.code, LF_E_BUSY);
	assert_string_equal(e.msg, "network public has 3 live allocations; "
			    "release them or use --force");
	assert_int_equal(network_delete(f->s, "public", true, NULL), 0);
	assert_int_equal(network_get(f->s, "public", &n, NULL), -ENOENT);

	/* a new network of that name starts clean */
	mknet(&n, "public", "10.20.0.0/24", NULL);
	assert_int_equal(network_create(f->s, &n, NULL), 0);
	assert_int_equal(ipam_blocks(f->s, "public", &blocks, &n_blocks), 0);
	assert_int_equal(n_blocks, 0);
	free(blocks);
	assert_int_equal(network_delete(f->s, "public", false, NULL), 0);
}

/* network_update: each field alone, the non-routable default community
 * following the class, "nothing to change", what is stored, errors. */
static void
test_update(void **state)
{
	struct tmpstore *f = *state;
	struct network_update u;
	struct lf_err e = { 0 };
	struct network n, got;
	uint32_t c;

	mknet(&n, "public", "10.30.0.0/24", "10.30.0.1");
	assert_int_equal(network_create(f->s, &n, NULL), 0);

	memset(&u, 0, sizeof(u));
	u.set = NETWORK_UPD_NAT;
	u.nat_outgoing = true;
	assert_int_equal(network_update(f->s, "public", &u, &got, NULL), 0);
	assert_true(got.nat_outgoing);
	assert_int_equal(network_update(f->s, "public", &u, NULL, NULL), 1);	/* already so */
	assert_int_equal(network_get(f->s, "public", &got, NULL), 0);
	assert_true(got.nat_outgoing);
	assert_true(got.routable);
	assert_int_equal(got.n_communities, 0);
	assert_string_equal(got.subnets[0].gateway.family ? "gw" : "", "gw");

	/* non-routable: the default community comes; routable again: it goes */
	u.set = NETWORK_UPD_ROUTABLE;
	u.routable = false;
	assert_int_equal(network_update(f->s, "public", &u, &got, NULL), 0);
	assert_int_equal(got.n_communities, 1);
	assert_int_equal(got.communities[0], NETWORK_NONROUTABLE_COMMUNITY);
	u.routable = true;
	assert_int_equal(network_update(f->s, "public", &u, &got, NULL), 0);
	assert_int_equal(got.n_communities, 0);

	/* communities replaced, then cleared; aggregation off */
	u.set = NETWORK_UPD_COMMUNITIES | NETWORK_UPD_AGGREGATE;
	u.aggregate = false;
	assert_int_equal(community_parse("65000:42", &c), 0);
	u.communities[0] = c;
	u.n_communities = 1;
	assert_int_equal(network_update(f->s, "public", &u, NULL, NULL), 0);
	assert_int_equal(network_get(f->s, "public", &got, NULL), 0);
	assert_int_equal(got.n_communities, 1);
	assert_int_equal(got.communities[0], c);
	assert_false(got.aggregate);
	assert_true(got.nat_outgoing);		/* untouched */
	u.set = NETWORK_UPD_COMMUNITIES;
	u.n_communities = 0;
	assert_int_equal(network_update(f->s, "public", &u, &got, NULL), 0);
	assert_int_equal(got.n_communities, 0);
	/* a routable network turned non-routable keeps communities given */
	u.set = NETWORK_UPD_ROUTABLE | NETWORK_UPD_COMMUNITIES;
	u.routable = false;
	u.communities[0] = c;
	u.n_communities = 1;
	assert_int_equal(network_update(f->s, "public", &u, &got, NULL), 0);
	assert_int_equal(got.n_communities, 1);
	assert_int_equal(got.communities[0], c);

	assert_int_equal(network_update(f->s, "nosuch", &u, NULL, &e), -ENOENT);
	assert_int_equal(e.code, LF_E_NOT_FOUND);
	memset(&e, 0, sizeof(e));
	u.n_communities = NETWORK_MAX_COMMUNITIES + 1;
	assert_int_equal(network_update(f->s, "public", &u, NULL, &e), -EINVAL);
	assert_int_equal(e.code, LF_E_INVALID);
	memset(&e, 0, sizeof(e));
	assert_int_equal(network_update(f->s, "bad/name", &u, NULL, &e), -EINVAL);
}

static void
test_encap(void **state)
{
	struct lf_err e = { 0 };
	struct network n, back;
	char *text;

	(void)state;
	assert_int_equal(network_encap_check("", NULL), 0);
	assert_int_equal(network_encap_check("vlan", NULL), 0);
	assert_int_equal(network_encap_check("routed", NULL), 0);
	assert_int_equal(network_encap_check("vxlan", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "no overlay"));
	assert_non_null(strstr(e.msg, "--encap=routed"));
	memset(&e, 0, sizeof(e));
	assert_int_equal(network_encap_check("IPIP", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "natively"));
	memset(&e, 0, sizeof(e));
	assert_int_equal(network_encap_check("bogus", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "unknown"));

	/* stored informationally, only when given */
	mknet(&n, "public", "192.168.1.0/24", "192.168.1.254");
	text = network_to_json(&n);
	assert_null(strstr(text, "encap"));
	free(text);
	snprintf(n.encap, sizeof(n.encap), "vlan");
	assert_int_equal(network_validate(&n, NULL), 0);
	text = network_to_json(&n);
	assert_non_null(strstr(text, "\"encap\":\"vlan\""));
	assert_int_equal(network_from_json(text, &back, NULL), 0);
	assert_string_equal(back.encap, "vlan");
	free(text);
	snprintf(n.encap, sizeof(n.encap), "vxlan");
	assert_int_equal(network_validate(&n, NULL), -EINVAL);
}

/* ipam_usage: sizes without the reserved addresses, per block and node,
 * a borrowed address counted for its node. */
static void
test_usage(void **state)
{
	struct tmpstore *f = *state;
	struct ipam_addr out[IPAM_MAX_ADDRS];
	struct ipam_usage u;
	struct network n;
	size_t n_out;

	/* a /26 that is one /26 block: node1 claims it, node2 must borrow */
	mknet(&n, "small", "10.40.0.0/26", "10.40.0.1");
	assert_int_equal(network_create(f->s, &n, NULL), 0);
	for (int i = 0; i < 3; i++) {
		struct ipam_req req = { .network = "small", .node = i < 2 ? "node1" : "node2" };

		snprintf(req.owner.container_id, sizeof(req.owner.container_id), "c%d", i);
		snprintf(req.owner.ifname, sizeof(req.owner.ifname), "eth0");
		if (i == 2) {	/* a dynamic one would get a nested block (ipam_split.c) */
			req.n_static = 1;
			assert_int_equal(ipaddr_parse("10.40.0.10", &req.statics[0]), 0);
		}
		assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n_out, NULL), 0);
	}
	assert_int_equal(network_get(f->s, "small", &n, NULL), 0);
	assert_int_equal(ipam_usage(f->s, &n, &u), 0);
	assert_int_equal(u.size, 64 - 3);	/* network, broadcast, gateway */
	assert_int_equal(u.claimed, 61);
	assert_int_equal(u.used, 3);
	assert_int_equal(u.borrowed, 1);
	assert_int_equal(u.damaged, 0);
	assert_int_equal(u.n_blocks, 1);
	assert_string_equal(u.blocks[0].node, "node1");
	assert_int_equal(u.blocks[0].size, 61);
	assert_int_equal(u.blocks[0].used, 3);
	assert_int_equal(u.n_nodes, 2);
	assert_string_equal(u.nodes[0].node, "node1");
	assert_int_equal(u.nodes[0].n_blocks, 1);
	assert_int_equal(u.nodes[0].size, 61);
	assert_int_equal(u.nodes[0].used, 3);
	assert_int_equal(u.nodes[0].allocated, 2);
	assert_int_equal(u.nodes[0].borrowed, 0);
	assert_string_equal(u.nodes[1].node, "node2");
	assert_int_equal(u.nodes[1].n_blocks, 0);
	assert_int_equal(u.nodes[1].size, 0);
	assert_int_equal(u.nodes[1].allocated, 1);
	assert_int_equal(u.nodes[1].borrowed, 1);
	ipam_usage_done(&u);
	ipam_usage_done(&u);		/* twice is fine */
	ipam_usage_done(NULL);

	/* node3 gets node1's free upper half as a nested block: its own,
	 * not borrowed, and out of node1's size */
	{
		struct ipam_req req = { .network = "small", .node = "node3" };

		snprintf(req.owner.container_id, sizeof(req.owner.container_id), "c3");
		snprintf(req.owner.ifname, sizeof(req.owner.ifname), "eth0");
		assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n_out, NULL), 0);
		assert_false(out[0].borrowed);
	}
	assert_int_equal(ipam_usage(f->s, &n, &u), 0);
	assert_int_equal(u.claimed, 61);
	assert_int_equal(u.borrowed, 1);
	assert_int_equal(u.n_blocks, 2);
	assert_int_equal(u.blocks[0].size, 61 - 31);	/* .32/27 holds the broadcast */
	assert_int_equal(u.blocks[1].size, 31);
	assert_string_equal(u.blocks[1].node, "node3");
	assert_int_equal(u.blocks[1].used, 1);
	assert_int_equal(u.n_nodes, 3);
	assert_int_equal(u.nodes[2].borrowed, 0);
	assert_int_equal(u.nodes[2].n_blocks, 1);
	ipam_usage_done(&u);

	/* an empty network, IPv6: sizes only */
	mknet(&n, "v6", "fd00:40::/64", NULL);
	assert_int_equal(network_create(f->s, &n, NULL), 0);
	assert_int_equal(ipam_usage(f->s, &n, &u), 0);
	assert_true(u.size >= (UINT64_MAX >> 1));
	assert_int_equal(u.used, 0);
	assert_int_equal(u.n_blocks, 0);
	assert_int_equal(u.n_nodes, 0);
	ipam_usage_done(&u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_validate_subnets),
		cmocka_unit_test(test_validate_gateway),
		cmocka_unit_test(test_validate_blocks_communities),
		cmocka_unit_test(test_communities),
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test_setup_teardown(test_store_crud, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_delete_busy, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_update, setup, tmpstore_teardown),
		cmocka_unit_test(test_encap),
		cmocka_unit_test_setup_teardown(test_usage, setup, tmpstore_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
