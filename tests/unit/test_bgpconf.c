/* test_bgpconf.c — the BGP configuration model: AS and address parsing,
 * defaults, global and node peers (v4 + v6), duplicates, create-bgp
 * atomicity, the revision counter, and concurrent writers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "err.h"
#include "prefix.h"
#include "store.h"
#include "tmpstore.h"
#include "bgpconf.h"

static int
setup(void **state)
{
	return tmpstore_setup(state, "bgpconf");
}

static uint64_t
revision(struct store *s)
{
	uint64_t rev = 12345;

	assert_int_equal(bgpconf_revision(s, &rev, NULL), 0);
	return rev;
}

static struct bgp_peer
peer(const char *ip, uint32_t as, const char *pw)
{
	struct bgp_peer p;

	memset(&p, 0, sizeof(p));
	assert_int_equal(ipaddr_parse(ip, &p.addr), 0);
	p.as = as;
	snprintf(p.password, sizeof(p.password), "%s", pw ? pw : "");
	return p;
}

static void
assert_peer(const struct bgp_peer *p, const char *ip, uint32_t as)
{
	char buf[IPADDR_STRLEN];

	assert_string_equal(ipaddr_fmt(&p->addr, buf, sizeof(buf)), ip);
	assert_int_equal(p->as, as);
}

/* ------------------------------------------------------------ parsing */

static void
test_parse_as(void **state)
{
	static const struct { const char *s; int ret; uint32_t as; } cases[] = {
		{ "1", 0, 1 },
		{ "65535", 0, 65535 },
		{ "65536", 0, 65536 },
		{ "64511", 0, 64511 },
		{ "4294967295", 0, 4294967295U },
		{ "23456", 0, 23456 },		/* parses; refused by check_as */
		{ "1.10", 0, 65546 },
		{ "0.65535", 0, 65535 },
		{ "65535.65535", 0, 4294967295U },
		{ "0", -EINVAL, 0 },
		{ "0.0", -EINVAL, 0 },
		{ "4294967296", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
		{ "-1", -ERANGE, 0 },
		{ "abc", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "12a", -EINVAL, 0 },
		{ " 12", -EINVAL, 0 },
		{ "+12", -EINVAL, 0 },
		{ "1.", -EINVAL, 0 },
		{ ".1", -EINVAL, 0 },
		{ "1.2.3", -EINVAL, 0 },
		{ "65536.1", -EINVAL, 0 },
		{ "1.65536", -EINVAL, 0 },
	};
	struct lf_err err;
	uint32_t as;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lf_err_clear(&err);
		as = 777;
		assert_int_equal(bgpconf_parse_as(cases[i].s, "--as", &as, &err), cases[i].ret);
		if (cases[i].ret == 0) {
			assert_int_equal(as, cases[i].as);
			assert_int_equal(err.code, 0);
		} else {
			assert_int_equal(as, 777);	/* untouched */
			assert_int_equal(err.code, LF_E_INVALID);
			assert_non_null(strstr(err.msg, "--as: "));
			assert_non_null(strstr(err.msg, "1-4294967295"));
		}
	}
	lf_err_clear(&err);
	assert_int_equal(bgpconf_parse_as("0", NULL, &as, &err), -EINVAL);
	assert_string_equal(err.msg, "AS 0 is invalid: use 1-4294967295");
	assert_int_equal(bgpconf_parse_as(NULL, NULL, &as, NULL), -EINVAL);

	lf_err_clear(&err);
	assert_int_equal(bgpconf_check_as(23456, "--as", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "AS_TRANS"));
	assert_int_equal(bgpconf_check_as(0, NULL, NULL), -EINVAL);
	assert_int_equal(bgpconf_check_as(65000, NULL, NULL), 0);
	assert_int_equal(bgpconf_check_as(4294967295U, NULL, NULL), 0);
}

static void
test_parse_addrs(void **state)
{
	static const char *good[] = { "192.0.2.1", "10.0.0.1", "127.0.0.1", "2001:db8::1",
				      "fd00:1::ff", "223.255.255.254" };
	static const char *bad[] = { "0.0.0.0", "0.1.2.3", "224.0.0.5", "239.1.1.1",
				     "255.255.255.255", "::", "ff02::1", "fe80::1",
				     "::ffff:10.0.0.1", "10.0.0", "10.0.0.1/32", "abc", "",
				     "1.2.3.4.5", "2001:db8::g" };
	struct lf_err err;
	struct ipaddr a;
	struct prefix p;
	char buf[PREFIX_STRLEN];
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(bgpconf_parse_peer_addr(good[i], "peer", &a, NULL), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lf_err_clear(&err);
		assert_int_equal(bgpconf_parse_peer_addr(bad[i], "--neighbor", &a, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "--neighbor"));
	}
	lf_err_clear(&err);
	bgpconf_parse_peer_addr("224.0.0.5", NULL, &a, &err);
	assert_non_null(strstr(err.msg, "multicast"));

	assert_int_equal(bgpconf_parse_router_ip("10.0.0.5/24", NULL, &p, NULL), 0);
	assert_string_equal(prefix_fmt(&p, buf, sizeof(buf)), "10.0.0.5/24");	/* host bits kept */
	assert_int_equal(bgpconf_parse_router_ip("2001:db8::5/64", NULL, &p, NULL), 0);
	assert_int_equal(p.len, 64);
	assert_int_equal(bgpconf_parse_router_ip("10.0.0.5/32", NULL, &p, NULL), 0);
	assert_int_equal(bgpconf_parse_router_ip("2001:db8::5/128", NULL, &p, NULL), 0);
	lf_err_clear(&err);
	assert_int_equal(bgpconf_parse_router_ip("10.0.0.5", "--router-ip", &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "10.0.0.5/24"));	/* the fix */
	assert_int_equal(bgpconf_parse_router_ip("10.0.0.5/33", NULL, &p, NULL), -EINVAL);
	assert_int_equal(bgpconf_parse_router_ip("10.0.0.5/0", NULL, &p, NULL), -EINVAL);
	assert_int_equal(bgpconf_parse_router_ip("10.0.0.5/", NULL, &p, NULL), -EINVAL);
	assert_int_equal(bgpconf_parse_router_ip("10.0.0.5/2x", NULL, &p, NULL), -EINVAL);
	assert_int_equal(bgpconf_parse_router_ip("2001:db8::5/129", NULL, &p, NULL), -EINVAL);
	assert_int_equal(bgpconf_parse_router_ip("0.0.0.0/8", NULL, &p, NULL), -EINVAL);
	assert_int_equal(bgpconf_parse_router_ip("x/24", NULL, &p, NULL), -EINVAL);

	assert_true(bgpconf_node_name_valid("h1"));
	assert_true(bgpconf_node_name_valid("rack1-host.example_2"));
	assert_false(bgpconf_node_name_valid(""));
	assert_false(bgpconf_node_name_valid("-h"));
	assert_false(bgpconf_node_name_valid("a/b"));
	assert_false(bgpconf_node_name_valid(".."));
	assert_false(bgpconf_node_name_valid(NULL));
}

/* ------------------------------------------------------------ config */

static void
test_defaults_and_set(void **state)
{
	struct tmpstore *f = *state;
	struct bgp_config c;
	struct lf_err err = { 0 };

	assert_int_equal(revision(f->s), 0);
	assert_int_equal(bgpconf_get(f->s, &c, NULL), 0);
	assert_int_equal(c.default_node_as, 64511);
	assert_true(c.node_mesh);
	assert_int_equal(c.listen_port, 179);
	assert_int_equal(c.keepalive, 30);
	assert_int_equal(c.hold_time, 90);

	/* setting the default is no change */
	assert_int_equal(bgpconf_set_default_as(f->s, 64511, NULL), 1);
	assert_int_equal(bgpconf_set_mesh(f->s, true, NULL), 1);
	assert_int_equal(revision(f->s), 0);

	assert_int_equal(bgpconf_set_default_as(f->s, 4200000000U, NULL), 0);
	assert_int_equal(revision(f->s), 1);
	assert_int_equal(bgpconf_set_mesh(f->s, false, NULL), 0);
	assert_int_equal(revision(f->s), 2);
	assert_int_equal(bgpconf_set_mesh(f->s, false, NULL), 1);
	assert_int_equal(revision(f->s), 2);
	assert_int_equal(bgpconf_get(f->s, &c, NULL), 0);
	assert_int_equal(c.default_node_as, 4200000000U);
	assert_false(c.node_mesh);
	assert_int_equal(c.listen_port, 179);

	assert_int_equal(bgpconf_set_default_as(f->s, 0, &err), -EINVAL);
	assert_int_equal(bgpconf_set_default_as(f->s, 23456, NULL), -EINVAL);
	assert_int_equal(revision(f->s), 2);
	assert_int_equal(bgpconf_get(f->s, &c, NULL), 0);
	assert_int_equal(c.default_node_as, 4200000000U);

	/* a damaged document is reported by key, not silently defaulted */
	assert_int_equal(store_put(f->s, "bgp/config", "{\"default_node_as\": \"x\"}", NULL), 0);
	lf_err_clear(&err);
	assert_int_equal(bgpconf_get(f->s, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "bgp/config.default_node_as"));
	/* missing members default */
	assert_int_equal(store_put(f->s, "bgp/config", "{\"node_mesh\": false}", NULL), 0);
	assert_int_equal(bgpconf_get(f->s, &c, NULL), 0);
	assert_int_equal(c.default_node_as, 64511);
	assert_false(c.node_mesh);
}

/* ------------------------------------------------------------ peers */

static void
test_global_peers(void **state)
{
	struct tmpstore *f = *state;
	struct bgp_peer p, *list = NULL;
	struct lf_err err = { 0 };
	struct ipaddr a;
	size_t n = 99;

	assert_int_equal(bgpconf_peer_list(f->s, NULL, &list, &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_null(list);

	p = peer("192.0.2.20", 65020, NULL);
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, NULL), 0);
	p = peer("2001:db8::1", 65001, "s3cret");
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, NULL), 0);
	p = peer("192.0.2.3", 4200000000U, NULL);
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, NULL), 0);
	p = peer("10.0.0.1", 65000, NULL);
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, NULL), 0);
	assert_int_equal(revision(f->s), 4);

	/* same again: no change; other AS or password: refused, named */
	p = peer("192.0.2.20", 65020, NULL);
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, NULL), 1);
	p = peer("2001:db8:0::1", 65001, "s3cret");	/* other spelling */
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, NULL), 1);
	p = peer("192.0.2.20", 65021, NULL);
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "192.0.2.20"));
	assert_non_null(strstr(err.msg, "65020"));
	p = peer("2001:db8::1", 65001, "other");
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, NULL), -EEXIST);
	p = peer("224.0.0.1", 65001, NULL);
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, NULL), -EINVAL);
	p = peer("192.0.2.99", 0, NULL);
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, NULL), -EINVAL);
	assert_int_equal(revision(f->s), 4);

	/* sorted: IPv4 by address, then IPv6 */
	assert_int_equal(bgpconf_peer_list(f->s, NULL, &list, &n, NULL), 0);
	assert_int_equal(n, 4);
	assert_peer(&list[0], "10.0.0.1", 65000);
	assert_peer(&list[1], "192.0.2.3", 4200000000U);
	assert_peer(&list[2], "192.0.2.20", 65020);
	assert_peer(&list[3], "2001:db8::1", 65001);
	assert_string_equal(list[3].password, "s3cret");
	assert_string_equal(list[0].password, "");
	assert_true(list[0].created > 0);
	free(list);

	assert_int_equal(ipaddr_parse("192.0.2.3", &a), 0);
	assert_int_equal(bgpconf_peer_remove(f->s, NULL, &a, NULL), 0);
	assert_int_equal(revision(f->s), 5);
	lf_err_clear(&err);
	assert_int_equal(bgpconf_peer_remove(f->s, NULL, &a, &err), -ENOENT);
	assert_string_equal(err.msg, "192.0.2.3 is not a global BGP peer");
	assert_int_equal(revision(f->s), 5);
	assert_int_equal(ipaddr_parse("2001:db8::1", &a), 0);
	assert_int_equal(bgpconf_peer_remove(f->s, NULL, &a, NULL), 0);
	assert_int_equal(bgpconf_peer_list(f->s, NULL, &list, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_peer(&list[1], "192.0.2.20", 65020);
	free(list);
}

static void
test_node_peers(void **state)
{
	struct tmpstore *f = *state;
	struct bgp_peer p, *list = NULL;
	struct bgp_node node, *nodes = NULL;
	struct lf_err err = { 0 };
	struct ipaddr a;
	size_t n = 0;

	assert_int_equal(bgpconf_node_get(f->s, "h1", &node, &err), -ENOENT);
	assert_int_equal(err.code, LF_E_NOT_FOUND);
	assert_non_null(strstr(err.msg, "h1"));
	assert_int_equal(bgpconf_peer_list(f->s, "h1", &list, &n, NULL), 0);
	assert_int_equal(n, 0);

	p = peer("fd00::2", 65002, NULL);
	assert_int_equal(bgpconf_peer_add(f->s, "h1", &p, NULL), 0);
	p = peer("172.16.0.1", 65001, "pw");
	assert_int_equal(bgpconf_peer_add(f->s, "h1", &p, NULL), 0);
	p = peer("172.16.0.1", 65001, "pw");
	assert_int_equal(bgpconf_peer_add(f->s, "h1", &p, NULL), 1);
	p = peer("172.16.0.1", 65009, "pw");
	assert_int_equal(bgpconf_peer_add(f->s, "h1", &p, NULL), -EEXIST);
	p = peer("172.16.0.1", 65001, NULL);
	assert_int_equal(bgpconf_peer_add(f->s, "h2", &p, NULL), 0);	/* other node: fine */
	p = peer("172.16.0.9", 65001, NULL);
	assert_int_equal(bgpconf_peer_add(f->s, "bad/name", &p, NULL), -EINVAL);
	assert_int_equal(revision(f->s), 3);

	/* one address is global or node-specific, not both */
	lf_err_clear(&err);
	p = peer("172.16.0.1", 65001, NULL);
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "node h1"));
	p = peer("198.51.100.1", 65100, NULL);
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, NULL), 0);
	lf_err_clear(&err);
	assert_int_equal(bgpconf_peer_add(f->s, "h1", &p, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "global"));

	assert_int_equal(bgpconf_peer_list(f->s, "h1", &list, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_peer(&list[0], "172.16.0.1", 65001);
	assert_string_equal(list[0].password, "pw");
	assert_peer(&list[1], "fd00::2", 65002);
	free(list);

	assert_int_equal(bgpconf_node_get(f->s, "h1", &node, NULL), 0);
	assert_string_equal(node.name, "h1");
	assert_int_equal(node.as, 0);
	assert_int_equal(node.router_ip4.addr.family, 0);
	assert_int_equal(node.n_peers, 2);
	bgpconf_node_done(&node);
	bgpconf_node_done(NULL);

	assert_int_equal(bgpconf_node_list(f->s, &nodes, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(nodes[0].name, "h1");
	assert_string_equal(nodes[1].name, "h2");
	assert_int_equal(nodes[1].n_peers, 1);
	bgpconf_nodes_free(nodes, n);
	bgpconf_nodes_free(NULL, 0);

	assert_int_equal(ipaddr_parse("fd00::2", &a), 0);
	assert_int_equal(bgpconf_peer_remove(f->s, "h1", &a, NULL), 0);
	lf_err_clear(&err);
	assert_int_equal(bgpconf_peer_remove(f->s, "h1", &a, &err), -ENOENT);
	assert_string_equal(err.msg, "fd00::2 is not a BGP peer of node h1");
	lf_err_clear(&err);
	assert_int_equal(bgpconf_peer_remove(f->s, "h9", &a, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "node h9"));
	assert_int_equal(bgpconf_peer_list(f->s, "h1", &list, &n, NULL), 0);
	assert_int_equal(n, 1);
	free(list);
}

/* ---------------------------------------------------- route reflector */

static void
test_node_rr(void **state)
{
	struct tmpstore *f = *state;
	struct bgp_node_set_req set = { .node = "rr1" };
	struct bgp_node node;
	struct lf_err err = { 0 };
	struct ipaddr cid, zero = { 0 }, v6;
	char buf[IPADDR_STRLEN], *text = NULL;
	uint64_t rev;

	assert_int_equal(bgpconf_parse_router_ip("10.0.0.1/24", NULL, &set.router_ip4, NULL), 0);
	assert_int_equal(bgpconf_node_set(f->s, &set, NULL), 0);
	/* a record without the members reads as no reflector */
	assert_int_equal(bgpconf_node_get(f->s, "rr1", &node, NULL), 0);
	assert_false(node.rr);
	assert_int_equal(node.cluster_id.family, 0);
	bgpconf_node_done(&node);
	assert_int_equal(store_get(f->s, "nodes/rr1", &text, NULL), 0);
	assert_null(strstr(text, "\"rr\""));		/* plain nodes: left out */
	free(text);

	rev = revision(f->s);
	assert_int_equal(bgpconf_node_rr(f->s, "rr1", true, NULL, NULL), 0);
	assert_int_equal(revision(f->s), rev + 1);
	assert_int_equal(bgpconf_node_rr(f->s, "rr1", true, &zero, NULL), 1);	/* already */
	assert_int_equal(revision(f->s), rev + 1);
	assert_int_equal(bgpconf_node_get(f->s, "rr1", &node, NULL), 0);
	assert_true(node.rr);
	assert_int_equal(node.cluster_id.family, 0);	/* the router id */
	assert_string_equal(ipaddr_fmt(&node.router_ip4.addr, buf, sizeof(buf)), "10.0.0.1");
	bgpconf_node_done(&node);

	assert_int_equal(ipaddr_parse("244.0.0.1", &cid), 0);
	assert_int_equal(bgpconf_node_rr(f->s, "rr1", true, &cid, NULL), 0);
	assert_int_equal(bgpconf_node_get(f->s, "rr1", &node, NULL), 0);
	assert_true(node.rr);
	assert_string_equal(ipaddr_fmt(&node.cluster_id, buf, sizeof(buf)), "244.0.0.1");
	bgpconf_node_done(&node);
	assert_int_equal(store_get(f->s, "nodes/rr1", &text, NULL), 0);
	assert_non_null(strstr(text, "\"cluster_id\""));
	free(text);

	/* a new node: the record is made */
	assert_int_equal(bgpconf_node_rr(f->s, "rr2", true, &cid, NULL), 0);
	assert_int_equal(bgpconf_node_get(f->s, "rr2", &node, NULL), 0);
	assert_true(node.rr);
	bgpconf_node_done(&node);

	/* refusals, nothing written */
	rev = revision(f->s);
	assert_int_equal(ipaddr_parse("fd00::1", &v6), 0);
	assert_int_equal(bgpconf_node_rr(f->s, "rr1", true, &v6, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "IPv4"));
	lf_err_clear(&err);
	assert_int_equal(ipaddr_parse("0.0.0.0", &zero), 0);
	assert_int_equal(bgpconf_node_rr(f->s, "rr1", true, &zero, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "--cluster-id"));
	lf_err_clear(&err);
	assert_int_equal(bgpconf_node_rr(f->s, "rr1", false, &cid, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'on'"));
	assert_int_equal(bgpconf_node_rr(f->s, "bad/name", true, NULL, NULL), -EINVAL);
	assert_int_equal(revision(f->s), rev);

	/* off forgets the cluster id, keeps the rest */
	assert_int_equal(bgpconf_node_rr(f->s, "rr1", false, NULL, NULL), 0);
	assert_int_equal(bgpconf_node_rr(f->s, "rr1", false, NULL, NULL), 1);
	assert_int_equal(bgpconf_node_get(f->s, "rr1", &node, NULL), 0);
	assert_false(node.rr);
	assert_int_equal(node.cluster_id.family, 0);
	assert_int_equal(node.router_ip4.addr.family, AF_INET);
	bgpconf_node_done(&node);

	/* a damaged cluster id names the key */
	assert_int_equal(store_put(f->s, "nodes/rr3",
				   "{\"name\":\"rr3\",\"rr\":true,\"cluster_id\":\"fd00::1\"}",
				   NULL), 0);
	lf_err_clear(&err);
	assert_true(bgpconf_node_get(f->s, "rr3", &node, &err) < 0);
	assert_non_null(strstr(err.msg, "nodes/rr3.cluster_id"));
}

/* ------------------------------------------------------------ create */

static struct bgp_create_req
create_req(const char *node, uint32_t as, const char *rip, const char *nb, uint32_t nb_as)
{
	struct bgp_create_req r;

	memset(&r, 0, sizeof(r));
	r.node = node;
	r.as = as;
	assert_int_equal(bgpconf_parse_router_ip(rip, NULL, &r.router_ip, NULL), 0);
	r.neighbor = peer(nb, nb_as, NULL);
	return r;
}

static void
test_create_bgp(void **state)
{
	struct tmpstore *f = *state;
	struct bgp_create_req req;
	struct bgp_node node;
	struct lf_err err = { 0 };
	char buf[PREFIX_STRLEN], *before, *after;

	req = create_req("h1", 65001, "10.0.0.1/24", "10.0.0.254", 65000);
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, NULL), 0);
	assert_int_equal(revision(f->s), 1);
	assert_int_equal(bgpconf_node_get(f->s, "h1", &node, NULL), 0);
	assert_int_equal(node.as, 65001);
	assert_string_equal(prefix_fmt(&node.router_ip4, buf, sizeof(buf)), "10.0.0.1/24");
	assert_int_equal(node.router_ip6.addr.family, 0);
	assert_int_equal(node.n_peers, 1);
	assert_peer(&node.peers[0], "10.0.0.254", 65000);
	bgpconf_node_done(&node);

	/* the same again: nothing changes, no revision */
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, NULL), 1);
	assert_int_equal(revision(f->s), 1);

	/* IPv6 side added to the same node; the v4 router IP stays */
	req = create_req("h1", 65001, "2001:db8::1/64", "2001:db8::fe", 65000);
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, NULL), 0);
	assert_int_equal(bgpconf_node_get(f->s, "h1", &node, NULL), 0);
	assert_string_equal(prefix_fmt(&node.router_ip4, buf, sizeof(buf)), "10.0.0.1/24");
	assert_string_equal(prefix_fmt(&node.router_ip6, buf, sizeof(buf)), "2001:db8::1/64");
	assert_int_equal(node.n_peers, 2);
	bgpconf_node_done(&node);
	assert_int_equal(revision(f->s), 2);

	/* atomicity: every bad request leaves the stored record as it was */
	assert_int_equal(store_get(f->s, "nodes/h1", &before, NULL), 0);
	req = create_req("h1", 65099, "10.9.9.9/24", "10.0.0.254", 65000);
	req.neighbor.addr.family = AF_INET;
	memcpy(req.neighbor.addr.u.b, "\xff\xff\xff\xff", 4);	/* bad --neighbor */
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "--neighbor"));
	req = create_req("h1", 65099, "10.9.9.9/24", "10.0.0.254", 0);	/* bad --neighbor-as */
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, NULL), -EINVAL);
	req = create_req("h1", 23456, "10.9.9.9/24", "10.0.0.254", 65000);	/* AS_TRANS */
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, NULL), -EINVAL);
	/* conflicting neighbor AS: found only under the lock */
	req = create_req("h1", 65099, "10.9.9.9/24", "10.0.0.254", 65123);
	lf_err_clear(&err);
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "10.0.0.254"));
	assert_int_equal(store_get(f->s, "nodes/h1", &after, NULL), 0);
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_int_equal(revision(f->s), 2);

	/* a bad request for a new node creates no record */
	req = create_req("h2", 0, "10.0.1.1/24", "10.0.1.254", 65000);
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, NULL), -EINVAL);
	assert_int_equal(bgpconf_node_get(f->s, "h2", &node, NULL), -ENOENT);
	req.node = "no/slash";
	req.as = 65002;
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, NULL), -EINVAL);
	assert_int_equal(revision(f->s), 2);
}

/* ------------------------------------------------------------ concurrency */

#define NPROC 12

static void
test_concurrent_adds(void **state)
{
	struct tmpstore *f = *state;
	struct bgp_peer *list = NULL;
	pid_t pids[NPROC];
	size_t n = 0;
	int i, st;

	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct store *s = NULL;
			struct bgp_peer p;
			char ip[32];
			int r;

			if (store_open(&f->conf, &s, NULL) < 0)
				_exit(2);
			memset(&p, 0, sizeof(p));
			snprintf(ip, sizeof(ip), "10.1.0.%d", i + 1);
			(void)ipaddr_parse(ip, &p.addr);
			p.as = 65000 + (uint32_t)i;
			/* half on one node record (read-modify-write races),
			 * half global */
			r = bgpconf_peer_add(s, i % 2 ? "h1" : NULL, &p, NULL);
			store_free(s);
			_exit(r == 0 ? 0 : 1);
		}
	}
	for (i = 0; i < NPROC; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_int_equal(bgpconf_peer_list(f->s, "h1", &list, &n, NULL), 0);
	assert_int_equal(n, NPROC / 2);
	free(list);
	assert_int_equal(bgpconf_peer_list(f->s, NULL, &list, &n, NULL), 0);
	assert_int_equal(n, NPROC / 2);
	free(list);
	assert_int_equal(revision(f->s), NPROC);
}

/* ------------------------------------------------------------ options */

static void
test_parse_options(void **state)
{
	static const struct {
		const char *s; int ret; uint32_t n; bool warn; uint16_t min; const char *fmt;
	} mp[] = {
		{ "1000", 0, 1000, false, 5, "1000" },
		{ "1", 0, 1, false, 5, "1" },
		{ "4294967295", 0, 4294967295U, false, 5, "4294967295" },
		{ "10,warning", 0, 10, true, 0, "10,warning" },
		{ "10,restart=1", 0, 10, false, 1, "10,restart=1" },
		{ "10,restart=5", 0, 10, false, 5, "10" },
		{ "10,restart=65535", 0, 10, false, 65535, "10,restart=65535" },
		{ "0", -EINVAL, 0, 0, 0, NULL },
		{ "", -EINVAL, 0, 0, 0, NULL },
		{ "-1", -EINVAL, 0, 0, 0, NULL },
		{ "4294967296", -EINVAL, 0, 0, 0, NULL },
		{ "10,", -EINVAL, 0, 0, 0, NULL },
		{ "10,warn", -EINVAL, 0, 0, 0, NULL },
		{ "10,restart=0", -EINVAL, 0, 0, 0, NULL },
		{ "10,restart=65536", -EINVAL, 0, 0, 0, NULL },
		{ "10,restart=", -EINVAL, 0, 0, 0, NULL },
		{ "10,warning,restart=3", -EINVAL, 0, 0, 0, NULL },
		{ "abc", -EINVAL, 0, 0, 0, NULL },
	};
	char buf[BGPCONF_MAXPFX_STRLEN], opts[160];
	enum bgpconf_import imp;
	struct lf_err err;
	struct bgp_peer p;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(mp) / sizeof(mp[0]); i++) {
		memset(&p, 0, sizeof(p));
		lf_err_clear(&err);
		assert_int_equal(bgpconf_parse_max_prefix(mp[i].s, "--max-prefix", &p, &err),
				 mp[i].ret);
		if (mp[i].ret < 0) {
			assert_int_equal(err.code, LF_E_INVALID);
			assert_non_null(strstr(err.msg, "--max-prefix: "));
			assert_int_equal(p.max_prefix, 0);	/* untouched */
			continue;
		}
		assert_int_equal(p.max_prefix, mp[i].n);
		assert_int_equal(p.max_prefix_warning, mp[i].warn);
		assert_int_equal(p.max_prefix_restart, mp[i].min);
		assert_string_equal(bgpconf_max_prefix_fmt(&p, buf, sizeof(buf)), mp[i].fmt);
	}
	memset(&p, 0, sizeof(p));
	assert_string_equal(bgpconf_max_prefix_fmt(&p, buf, sizeof(buf)), "");
	assert_string_equal(bgpconf_peer_opts_fmt(&p, opts, sizeof(opts)), "");
	snprintf(p.password, sizeof(p.password), "x");
	p.ttl_security = true;
	p.import = BGPCONF_IMPORT_DEFAULT;
	assert_int_equal(bgpconf_parse_max_prefix("7,warning", NULL, &p, NULL), 0);
	assert_string_equal(bgpconf_peer_opts_fmt(&p, opts, sizeof(opts)),
			    "md5 ttl-security max-prefix=7,warning import=default");

	assert_int_equal(bgpconf_parse_import("default", false, NULL, &imp, NULL), 0);
	assert_int_equal(imp, BGPCONF_IMPORT_DEFAULT);
	assert_int_equal(bgpconf_parse_import("all", false, NULL, &imp, NULL), 0);
	assert_int_equal(imp, BGPCONF_IMPORT_ALL);
	assert_int_equal(bgpconf_parse_import("none", false, NULL, &imp, NULL), 0);
	assert_int_equal(imp, BGPCONF_IMPORT_NONE);
	assert_int_equal(bgpconf_parse_import("inherit", true, NULL, &imp, NULL), 0);
	assert_int_equal(imp, BGPCONF_IMPORT_UNSET);
	lf_err_clear(&err);
	assert_int_equal(bgpconf_parse_import("inherit", false, "bgp import", &imp, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "bgp import: 'inherit' is not an import policy"));
	lf_err_clear(&err);
	assert_int_equal(bgpconf_parse_import("Default", true, "--import", &imp, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "--import: 'Default'"));
	assert_non_null(strstr(err.msg, "inherit"));
	assert_int_equal(bgpconf_parse_import(NULL, true, NULL, &imp, NULL), -EINVAL);

	/* per peer > global (store) > config file > all */
	assert_int_equal(bgpconf_import_resolve(BGPCONF_IMPORT_NONE, BGPCONF_IMPORT_DEFAULT,
						"all"), BGPCONF_IMPORT_NONE);
	assert_int_equal(bgpconf_import_resolve(BGPCONF_IMPORT_UNSET, BGPCONF_IMPORT_DEFAULT,
						"none"), BGPCONF_IMPORT_DEFAULT);
	assert_int_equal(bgpconf_import_resolve(BGPCONF_IMPORT_UNSET, BGPCONF_IMPORT_UNSET,
						"none"), BGPCONF_IMPORT_NONE);
	assert_int_equal(bgpconf_import_resolve(BGPCONF_IMPORT_UNSET, BGPCONF_IMPORT_UNSET,
						"default"), BGPCONF_IMPORT_DEFAULT);
	assert_int_equal(bgpconf_import_resolve(BGPCONF_IMPORT_UNSET, BGPCONF_IMPORT_UNSET,
						NULL), BGPCONF_IMPORT_ALL);
	assert_int_equal(bgpconf_import_resolve(BGPCONF_IMPORT_UNSET, BGPCONF_IMPORT_UNSET,
						"bogus"), BGPCONF_IMPORT_ALL);
}

static void
test_global_import(void **state)
{
	struct tmpstore *f = *state;
	struct bgp_config c;
	struct lf_err err = { 0 };
	char *text = NULL;

	assert_int_equal(bgpconf_get(f->s, &c, NULL), 0);
	assert_int_equal(c.import, BGPCONF_IMPORT_UNSET);
	assert_int_equal(bgpconf_set_import(f->s, BGPCONF_IMPORT_DEFAULT, NULL), 0);
	assert_int_equal(revision(f->s), 1);
	assert_int_equal(bgpconf_set_import(f->s, BGPCONF_IMPORT_DEFAULT, NULL), 1);
	assert_int_equal(revision(f->s), 1);
	assert_int_equal(bgpconf_set_import(f->s, BGPCONF_IMPORT_UNSET, &err), -EINVAL);
	assert_int_equal(err.code, LF_E_INVALID);
	assert_int_equal(revision(f->s), 1);
	/* other global changes keep it */
	assert_int_equal(bgpconf_set_default_as(f->s, 65000, NULL), 0);
	assert_int_equal(bgpconf_set_mesh(f->s, false, NULL), 0);
	assert_int_equal(bgpconf_get(f->s, &c, NULL), 0);
	assert_int_equal(c.import, BGPCONF_IMPORT_DEFAULT);
	assert_int_equal(c.default_node_as, 65000);
	assert_int_equal(store_get(f->s, "bgp/config", &text, NULL), 0);
	assert_non_null(strstr(text, "\"import\":\"default\""));
	free(text);
	assert_int_equal(bgpconf_set_import(f->s, BGPCONF_IMPORT_ALL, NULL), 0);
	assert_int_equal(bgpconf_get(f->s, &c, NULL), 0);
	assert_int_equal(c.import, BGPCONF_IMPORT_ALL);

	/* a record from before: no "import"; a bad one is damaged */
	assert_int_equal(store_put(f->s, "bgp/config",
				   "{\"default_node_as\": 65001, \"node_mesh\": true}", NULL), 0);
	assert_int_equal(bgpconf_get(f->s, &c, NULL), 0);
	assert_int_equal(c.import, BGPCONF_IMPORT_UNSET);
	assert_int_equal(c.default_node_as, 65001);
	assert_int_equal(store_put(f->s, "bgp/config", "{\"import\": \"some\"}", NULL), 0);
	lf_err_clear(&err);
	assert_int_equal(bgpconf_get(f->s, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "bgp/config.import: 'some'"));
	/* writing it anew repairs it */
	assert_int_equal(bgpconf_set_import(f->s, BGPCONF_IMPORT_NONE, NULL), 0);
	assert_int_equal(bgpconf_get(f->s, &c, NULL), 0);
	assert_int_equal(c.import, BGPCONF_IMPORT_NONE);
}

static void
test_peer_options(void **state)
{
	struct tmpstore *f = *state;
	struct bgp_peer p, q, *list = NULL;
	struct lf_err err = { 0 };
	char *text = NULL;
	size_t n = 0;
	uint64_t rev;

	/* a new peer with every option */
	p = peer("192.0.2.1", 65001, "k1");
	p.ttl_security = true;
	p.import = BGPCONF_IMPORT_DEFAULT;
	assert_int_equal(bgpconf_parse_max_prefix("100,restart=7", NULL, &p, NULL), 0);
	assert_int_equal(bgpconf_peer_set(f->s, NULL, &p, BGPCONF_SET_ALL, NULL), 0);
	assert_int_equal(store_get(f->s, "bgp/peers/192.0.2.1", &text, NULL), 0);
	assert_non_null(strstr(text, "\"ttl_security\":true"));
	assert_non_null(strstr(text, "\"max_prefix\":100"));
	assert_non_null(strstr(text, "\"max_prefix_action\":\"restart\""));
	assert_non_null(strstr(text, "\"max_prefix_restart\":7"));
	assert_non_null(strstr(text, "\"import\":\"default\""));
	free(text);
	assert_int_equal(bgpconf_peer_list(f->s, NULL, &list, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_true(list[0].ttl_security);
	assert_int_equal(list[0].max_prefix, 100);
	assert_false(list[0].max_prefix_warning);
	assert_int_equal(list[0].max_prefix_restart, 7);
	assert_int_equal(list[0].import, BGPCONF_IMPORT_DEFAULT);
	assert_string_equal(list[0].password, "k1");
	free(list);
	rev = revision(f->s);

	/* the same again: nothing changes; strict add agrees */
	assert_int_equal(bgpconf_peer_set(f->s, NULL, &p, BGPCONF_SET_ALL, NULL), 1);
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, NULL), 1);
	/* naming no option: nothing changes, whatever q holds */
	q = peer("192.0.2.1", 65001, NULL);
	assert_int_equal(bgpconf_peer_set(f->s, NULL, &q, 0, NULL), 1);
	assert_int_equal(revision(f->s), rev);
	/* strict add with other options: refused */
	lf_err_clear(&err);
	q = p;
	q.ttl_security = false;
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &q, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "other options"));

	/* change one option: the others stay */
	q = peer("192.0.2.1", 65001, NULL);
	q.import = BGPCONF_IMPORT_NONE;
	assert_int_equal(bgpconf_peer_set(f->s, NULL, &q, BGPCONF_SET_IMPORT, NULL), 2);
	assert_int_equal(revision(f->s), rev + 1);
	q = peer("192.0.2.1", 65001, NULL);
	assert_int_equal(bgpconf_parse_max_prefix("5,warning", NULL, &q, NULL), 0);
	assert_int_equal(bgpconf_peer_set(f->s, NULL, &q, BGPCONF_SET_MAX_PREFIX |
					  BGPCONF_SET_TTL, NULL), 2);
	assert_int_equal(bgpconf_peer_list(f->s, NULL, &list, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_false(list[0].ttl_security);
	assert_int_equal(list[0].max_prefix, 5);
	assert_true(list[0].max_prefix_warning);
	assert_int_equal(list[0].import, BGPCONF_IMPORT_NONE);
	assert_string_equal(list[0].password, "k1");	/* not named: kept */
	assert_true(list[0].created > 0);
	free(list);
	/* password and import off again */
	q = peer("192.0.2.1", 65001, NULL);
	assert_int_equal(bgpconf_peer_set(f->s, NULL, &q, BGPCONF_SET_PASSWORD |
					  BGPCONF_SET_IMPORT | BGPCONF_SET_MAX_PREFIX, NULL), 2);
	assert_int_equal(store_get(f->s, "bgp/peers/192.0.2.1", &text, NULL), 0);
	assert_null(strstr(text, "password"));
	assert_null(strstr(text, "import"));
	assert_null(strstr(text, "max_prefix"));
	assert_null(strstr(text, "ttl_security"));
	free(text);
	/* another AS: refused, nothing written */
	rev = revision(f->s);
	lf_err_clear(&err);
	q = peer("192.0.2.1", 65009, NULL);
	assert_int_equal(bgpconf_peer_set(f->s, NULL, &q, BGPCONF_SET_ALL, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "with AS 65001 (not 65009)"));
	assert_int_equal(revision(f->s), rev);

	/* node peers: the same rules, inside the node record */
	p = peer("10.0.0.254", 500, NULL);
	p.ttl_security = true;
	assert_int_equal(bgpconf_peer_set(f->s, "h1", &p, BGPCONF_SET_ALL, NULL), 0);
	assert_int_equal(bgpconf_peer_set(f->s, "h1", &p, BGPCONF_SET_ALL, NULL), 1);
	q = peer("10.0.0.254", 500, "md5key");
	assert_int_equal(bgpconf_peer_set(f->s, "h1", &q, BGPCONF_SET_PASSWORD, NULL), 2);
	assert_int_equal(bgpconf_peer_list(f->s, "h1", &list, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_true(list[0].ttl_security);
	assert_string_equal(list[0].password, "md5key");
	free(list);
	q = peer("10.0.0.254", 501, NULL);
	assert_int_equal(bgpconf_peer_set(f->s, "h1", &q, BGPCONF_SET_ALL, NULL), -EEXIST);
	/* a global peer cannot become a node peer this way either */
	q = peer("192.0.2.1", 65001, NULL);
	assert_int_equal(bgpconf_peer_set(f->s, "h1", &q, 0, NULL), -EEXIST);
}

static void
test_create_options(void **state)
{
	struct tmpstore *f = *state;
	struct bgp_create_req req;
	struct bgp_peer *list = NULL;
	size_t n = 0;

	memset(&req, 0, sizeof(req));
	req.node = "h1";
	req.as = 65001;
	assert_int_equal(bgpconf_parse_router_ip("10.0.0.1/24", NULL, &req.router_ip, NULL), 0);
	req.neighbor = peer("10.0.0.254", 500, NULL);
	req.neighbor.import = BGPCONF_IMPORT_DEFAULT;
	req.set = BGPCONF_SET_IMPORT;
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, NULL), 0);
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, NULL), 1);
	/* again with another option named: changed, import kept */
	req.neighbor = peer("10.0.0.254", 500, NULL);
	req.neighbor.ttl_security = true;
	req.set = BGPCONF_SET_TTL;
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, NULL), 0);
	assert_int_equal(bgpconf_peer_list(f->s, "h1", &list, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_true(list[0].ttl_security);
	assert_int_equal(list[0].import, BGPCONF_IMPORT_DEFAULT);
	free(list);
	/* a password not named stays */
	req.neighbor = peer("10.0.0.254", 500, "pw");
	req.set = BGPCONF_SET_PASSWORD;
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, NULL), 0);
	req.neighbor = peer("10.0.0.254", 500, NULL);
	req.set = 0;
	assert_int_equal(bgpconf_node_create_bgp(f->s, &req, NULL), 1);
	assert_int_equal(bgpconf_peer_list(f->s, "h1", &list, &n, NULL), 0);
	assert_string_equal(list[0].password, "pw");
	free(list);
}

/* Records as older leafnet wrote them, and damaged options. */
static void
test_option_records(void **state)
{
	struct tmpstore *f = *state;
	struct bgp_peer *list = NULL;
	struct bgp_node node;
	char **bad = NULL;
	size_t n = 0, n_bad = 0, i;

	assert_int_equal(store_put(f->s, "bgp/peers/192.0.2.1",
				   "{\"ip\": \"192.0.2.1\", \"as\": 65001, \"password\": \"x\", "
				   "\"created\": 1700000000}", NULL), 0);
	assert_int_equal(store_put(f->s, "bgp/peers/192.0.2.2",
				   "{\"ip\": \"192.0.2.2\", \"as\": 65002, \"max_prefix\": 50}",
				   NULL), 0);
	assert_int_equal(store_put(f->s, "bgp/peers/192.0.2.3",
				   "{\"ip\": \"192.0.2.3\", \"as\": 65003, \"import\": \"most\"}",
				   NULL), 0);
	assert_int_equal(store_put(f->s, "bgp/peers/192.0.2.4",
				   "{\"ip\": \"192.0.2.4\", \"as\": 65004, \"max_prefix\": 5, "
				   "\"max_prefix_action\": \"shrug\"}", NULL), 0);
	assert_int_equal(store_put(f->s, "bgp/peers/192.0.2.5",
				   "{\"ip\": \"192.0.2.5\", \"as\": 65005, \"max_prefix\": 5, "
				   "\"max_prefix_restart\": 0}", NULL), 0);
	assert_int_equal(store_put(f->s, "bgp/peers/192.0.2.6",
				   "{\"ip\": \"192.0.2.6\", \"as\": 65006, \"ttl_security\": 1}",
				   NULL), 0);
	assert_int_equal(store_put(f->s, "nodes/h1",
				   "{\"name\": \"h1\", \"as\": 0, \"peers\": [{\"ip\": "
				   "\"10.0.0.254\", \"as\": 500, \"ttl_security\": true, "
				   "\"max_prefix\": 9, \"max_prefix_action\": \"warning\"}]}",
				   NULL), 0);

	assert_int_equal(bgpconf_peer_list(f->s, NULL, &list, &n, NULL), 0);
	assert_int_equal(n, 2);		/* 3, 4, 5 and 6 are damaged: skipped */
	assert_peer(&list[0], "192.0.2.1", 65001);
	assert_false(list[0].ttl_security);
	assert_int_equal(list[0].max_prefix, 0);
	assert_int_equal(list[0].import, BGPCONF_IMPORT_UNSET);
	assert_string_equal(list[0].password, "x");
	assert_peer(&list[1], "192.0.2.2", 65002);
	assert_int_equal(list[1].max_prefix, 50);	/* action, minutes: defaults */
	assert_false(list[1].max_prefix_warning);
	assert_int_equal(list[1].max_prefix_restart, BGPCONF_MAXPFX_RESTART_DEFAULT);
	free(list);
	assert_int_equal(bgpconf_damaged(f->s, &bad, &n_bad, NULL), 0);
	assert_int_equal(n_bad, 4);
	for (i = 0; i < n_bad; i++)
		assert_non_null(strstr(bad[i], "bgp/peers/192.0.2."));
	assert_non_null(strstr(bad[0], "import: 'most'"));
	assert_non_null(strstr(bad[1], "max_prefix_action: 'shrug'"));
	assert_non_null(strstr(bad[2], "max_prefix_restart"));
	assert_non_null(strstr(bad[3], "ttl_security"));
	store_names_free(bad, n_bad);

	assert_int_equal(bgpconf_node_get(f->s, "h1", &node, NULL), 0);
	assert_int_equal(node.n_peers, 1);
	assert_true(node.peers[0].ttl_security);
	assert_int_equal(node.peers[0].max_prefix, 9);
	assert_true(node.peers[0].max_prefix_warning);
	assert_int_equal(node.peers[0].max_prefix_restart, 0);
	bgpconf_node_done(&node);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_as),
		cmocka_unit_test(test_parse_addrs),
		cmocka_unit_test_setup_teardown(test_defaults_and_set, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_global_peers, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_node_peers, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_node_rr, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_create_bgp, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_adds, setup, tmpstore_teardown),
		cmocka_unit_test(test_parse_options),
		cmocka_unit_test_setup_teardown(test_global_import, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_peer_options, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_create_options, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_option_records, setup, tmpstore_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
