/* test_metrics.c — routing/metrics_text.c: the operation table and the
 * Prometheus text exposition of hand-made snapshots (HELP/TYPE once per
 * family, label escaping, per-state gauges, cumulative histogram buckets
 * with +Inf = _count, pool free = size - allocated, the series limit) and
 * ctl_proto's "op" request the plugins send. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ctl_proto.h"
#include "dbuf.h"
#include "err.h"
#include "ld_local.h"
#include "metrics.h"

static char *
render(const struct mx_snap *s)
{
	struct dbuf b = DBUF_INIT;

	assert_int_equal(mx_render(s, &b), 0);
	assert_non_null(b.data);
	return dbuf_steal(&b);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static struct peer_status
peer(const char *addr, const char *state)
{
	struct peer_status ps;

	memset(&ps, 0, sizeof(ps));
	assert_int_equal(ipaddr_parse(addr, &ps.addr), 0);
	ps.type = PEER_TYPE_GLOBAL;
	ps.remote_as = 500;
	ps.state = state;
	ps.up = strcmp(state, "Established") == 0;
	return ps;
}

static void
test_empty(void **state)
{
	struct mx_snap s = { .version = "9.8.7", .node = "n1" };
	char *t;

	(void)state;
	t = render(&s);
	assert_non_null(strstr(t, "# HELP leafnetd_build_info "));
	assert_non_null(strstr(t, "# TYPE leafnetd_build_info gauge\n"
			       "leafnetd_build_info{version=\"9.8.7\",node=\"n1\"} 1\n"));
	assert_non_null(strstr(t, "\nleafnet_rib_local_routes 0\n"));
	assert_non_null(strstr(t, "\nleafnet_plugin_operations_dropped_total 0\n"));
	/* every family is announced once, even with no samples */
	assert_int_equal(count(t, "# TYPE leafnet_bgp_peer_state gauge\n"), 1);
	assert_int_equal(count(t, "# TYPE leafnet_plugin_operation_duration_seconds histogram\n"), 1);
	assert_int_equal(count(t, "# HELP "), count(t, "# TYPE "));
	assert_int_equal(t[strlen(t) - 1], '\n');
	free(t);
}

static void
test_peers(void **state)
{
	struct peer_status ps[2] = { peer("10.0.0.254", "Established"), peer("fd00::2", "Active") };
	struct mx_snap s = { .peers = ps, .n_peers = 2, .rib_local = 3, .rib_advertised = 2,
			     .rib_learned = 1, .resyncs = 4 };
	char *t;

	(void)state;
	ps[0].uptime_ms = 12999;
	ps[0].prefixes_received = 1;
	ps[0].prefixes_sent = 2;
	ps[0].nlri_in = 5;
	ps[0].updates_in = 6;
	ps[0].updates_out = 7;
	ps[0].flaps = 1;
	snprintf(ps[0].last_error, sizeof(ps[0].last_error), "received \"Cease\"\\x\nend");
	ps[1].type = PEER_TYPE_MESH;
	t = render(&s);
	assert_non_null(strstr(t, "leafnet_bgp_peer_state{peer=\"10.0.0.254\",type=\"global\","
			       "remote_as=\"500\",state=\"Established\"} 1\n"));
	assert_non_null(strstr(t, "leafnet_bgp_peer_state{peer=\"10.0.0.254\",type=\"global\","
			       "remote_as=\"500\",state=\"Idle\"} 0\n"));
	assert_non_null(strstr(t, "leafnet_bgp_peer_state{peer=\"fd00::2\",type=\"mesh\","
			       "remote_as=\"500\",state=\"Active\"} 1\n"));
	/* six states per peer, exactly one of them 1 */
	assert_int_equal(count(t, "\nleafnet_bgp_peer_state{"), 12);
	assert_int_equal(count(t, "\"} 1\nleafnet_bgp_peer_state{") +
			 count(t, "\"} 1\n# HELP leafnet_bgp_peer_up"), 2);
	assert_non_null(strstr(t, "leafnet_bgp_peer_up{peer=\"10.0.0.254\",type=\"global\","
			       "remote_as=\"500\"} 1\n"));
	assert_non_null(strstr(t, "leafnet_bgp_peer_up{peer=\"fd00::2\",type=\"mesh\","
			       "remote_as=\"500\"} 0\n"));
	assert_non_null(strstr(t, "leafnet_bgp_peer_uptime_seconds{peer=\"10.0.0.254\","
			       "type=\"global\",remote_as=\"500\"} 12\n"));
	assert_non_null(strstr(t, "# TYPE leafnet_bgp_peer_prefixes_received_total counter\n"
			       "leafnet_bgp_peer_prefixes_received_total{peer=\"10.0.0.254\","
			       "type=\"global\",remote_as=\"500\"} 5\n"));
	assert_non_null(strstr(t, "leafnet_bgp_peer_prefixes_accepted{peer=\"10.0.0.254\","
			       "type=\"global\",remote_as=\"500\"} 1\n"));
	assert_non_null(strstr(t, "leafnet_bgp_peer_prefixes_advertised{peer=\"10.0.0.254\","
			       "type=\"global\",remote_as=\"500\"} 2\n"));
	assert_non_null(strstr(t, "leafnet_bgp_peer_updates_received_total{peer=\"10.0.0.254\","
			       "type=\"global\",remote_as=\"500\"} 6\n"));
	assert_non_null(strstr(t, "leafnet_bgp_peer_updates_sent_total{peer=\"10.0.0.254\","
			       "type=\"global\",remote_as=\"500\"} 7\n"));
	assert_non_null(strstr(t, "leafnet_bgp_peer_flaps_total{peer=\"10.0.0.254\","
			       "type=\"global\",remote_as=\"500\"} 1\n"));
	/* quote, backslash and newline escaped in a label value */
	assert_non_null(strstr(t, "leafnet_bgp_peer_last_error_info{peer=\"10.0.0.254\","
			       "type=\"global\",remote_as=\"500\","
			       "error=\"received \\\"Cease\\\"\\\\x\\nend\"} 1\n"));
	assert_non_null(strstr(t, "error=\"\"} 1\n"));
	assert_non_null(strstr(t, "\nleafnet_rib_local_routes 3\n"));
	assert_non_null(strstr(t, "\nleafnet_rib_advertised_prefixes 2\n"));
	assert_non_null(strstr(t, "\nleafnet_rib_learned_routes 1\n"));
	assert_non_null(strstr(t, "# TYPE leafnet_route_monitor_resyncs_total counter\n"
			       "leafnet_route_monitor_resyncs_total 4\n"));
	free(t);
}

static void
test_pools(void **state)
{
	struct rib_pool p[2];
	struct mx_snap s = { .pools = p, .n_pools = 2 };
	char *t;

	(void)state;
	memset(p, 0, sizeof(p));
	snprintf(p[0].network, sizeof(p[0].network), "pub");
	p[0].family = AF_INET;
	p[0].size = 254;
	p[0].allocated = 3;
	p[0].blocks = 2;
	p[0].node_blocks = 1;
	snprintf(p[1].network, sizeof(p[1].network), "pub");
	p[1].family = AF_INET6;
	p[1].size = 18446744073709551615.0;	/* a /64 */
	p[1].allocated = 3;
	t = render(&s);
	assert_non_null(strstr(t, "leafnet_network_addresses_allocated{network=\"pub\","
			       "family=\"ipv4\"} 3\n"));
	assert_non_null(strstr(t, "leafnet_network_addresses_free{network=\"pub\","
			       "family=\"ipv4\"} 251\n"));
	assert_non_null(strstr(t, "leafnet_network_addresses_free{network=\"pub\","
			       "family=\"ipv6\"} 1.8446744073709552e+19\n"));
	assert_non_null(strstr(t, "leafnet_network_blocks_claimed{network=\"pub\","
			       "family=\"ipv4\"} 2\n"));
	assert_non_null(strstr(t, "leafnet_network_node_blocks_claimed{network=\"pub\","
			       "family=\"ipv4\"} 1\n"));
	free(t);
}

static void
test_ops(void **state)
{
	struct mx_ops o = { 0 };
	struct mx_snap s = { .ops = &o };
	char *t;

	(void)state;
	assert_int_equal(mx_ops_add(&o, "cni", "ADD", true, 2.0), 0);	/* le 0.0025 */
	assert_int_equal(mx_ops_add(&o, "cni", "ADD", true, 7.0), 0);	/* le 0.01 */
	assert_int_equal(mx_ops_add(&o, "cni", "ADD", true, 60000), 0);	/* over 30 s */
	assert_int_equal(mx_ops_add(&o, "cni", "ADD", false, 1.0), 0);
	assert_int_equal(mx_ops_add(&o, "docker", "NetworkDriver.Join", true, 0), 0);
	assert_int_equal(o.n, 3);
	t = render(&s);
	assert_non_null(strstr(t, "leafnet_plugin_operations_total{plugin=\"cni\",verb=\"ADD\","
			       "result=\"ok\"} 3\n"));
	assert_non_null(strstr(t, "leafnet_plugin_operations_total{plugin=\"cni\",verb=\"ADD\","
			       "result=\"error\"} 1\n"));
	assert_non_null(strstr(t, "leafnet_plugin_operations_total{plugin=\"docker\","
			       "verb=\"NetworkDriver.Join\",result=\"ok\"} 1\n"));
#define B(le, n) "leafnet_plugin_operation_duration_seconds_bucket{plugin=\"cni\",verb=\"ADD\"," \
		 "result=\"ok\",le=\"" le "\"} " #n "\n"
	assert_non_null(strstr(t, B("0.001", 0) B("0.0025", 1) B("0.005", 1) B("0.01", 2)
			       B("0.025", 2)));
	assert_non_null(strstr(t, B("30", 2) B("+Inf", 3)
			       "leafnet_plugin_operation_duration_seconds_sum{plugin=\"cni\","
			       "verb=\"ADD\",result=\"ok\"} 60.009"));
	assert_non_null(strstr(t, "leafnet_plugin_operation_duration_seconds_count{plugin=\"cni\","
			       "verb=\"ADD\",result=\"ok\"} 3\n"));
#undef B
	assert_int_equal(count(t, "le=\"+Inf\""), 3);
	free(t);
	/* the series limit: counted as dropped, never grows past it */
	for (int i = 0; i < MX_OPS_MAX + 10; i++) {
		char verb[16];

		snprintf(verb, sizeof(verb), "V%d", i);
		(void)mx_ops_add(&o, "cni", verb, true, 1);
	}
	assert_int_equal(o.n, MX_OPS_MAX);
	assert_int_equal(o.dropped, 13);
	t = render(&s);
	assert_non_null(strstr(t, "\nleafnet_plugin_operations_dropped_total 13\n"));
	free(t);
	mx_ops_done(&o);
	mx_ops_done(NULL);
}

static void
test_op_request(void **state)
{
	struct ctl_req r, back;
	struct lf_err e = { 0 };
	char *text;

	(void)state;
	assert_int_equal(ctl_req_parse("{\"cmd\":\"op\",\"plugin\":\"cni\",\"verb\":\"ADD\","
				       "\"result\":\"ok\",\"ms\":2.5}", &r, &e), 0);
	assert_int_equal(r.cmd, CTL_CMD_OP);
	assert_string_equal(r.plugin, "cni");
	assert_string_equal(r.verb, "ADD");
	assert_true(r.ok);
	assert_true(r.ms == 2.5);
	text = ctl_req_format(&r);
	assert_non_null(text);
	assert_int_equal(ctl_req_parse(text, &back, &e), 0);
	assert_string_equal(back.verb, "ADD");
	assert_true(back.ms == 2.5 && back.ok);
	free(text);

	static const char *const bad[] = {
		"{\"cmd\":\"op\",\"plugin\":\"rkt\",\"verb\":\"ADD\",\"result\":\"ok\",\"ms\":1}",
		"{\"cmd\":\"op\",\"plugin\":\"cni\",\"verb\":\"A D\",\"result\":\"ok\",\"ms\":1}",
		"{\"cmd\":\"op\",\"plugin\":\"cni\",\"verb\":\"\",\"result\":\"ok\",\"ms\":1}",
		"{\"cmd\":\"op\",\"plugin\":\"cni\",\"verb\":\"ADD\",\"result\":\"maybe\",\"ms\":1}",
		"{\"cmd\":\"op\",\"plugin\":\"cni\",\"verb\":\"ADD\",\"result\":\"ok\",\"ms\":-1}",
		"{\"cmd\":\"op\",\"plugin\":\"cni\",\"verb\":\"ADD\",\"result\":\"ok\",\"ms\":\"1\"}",
		"{\"cmd\":\"op\",\"plugin\":\"cni\",\"verb\":\"ADD\",\"result\":\"ok\"}",
		"{\"cmd\":\"op\",\"plugin\":\"cni\",\"result\":\"ok\",\"ms\":1}",
		"{\"cmd\":\"op\",\"plugin\":\"cni\",\"verb\":\"ADD\",\"result\":\"ok\",\"ms\":1e12}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_true(ctl_req_parse(bad[i], &r, &e) < 0);
		assert_true(e.msg[0] != '\0');
	}
}

/* The ADD notice with its block (ctl_proto.h): parsed, formatted back;
 * without one as older plugins send it; a block not holding the prefix
 * refused. */
static void
test_notify_request(void **state)
{
	struct ctl_req r, back;
	struct lf_err e = { 0 };
	char pfx[PREFIX_STRLEN], *text;

	(void)state;
	assert_int_equal(ctl_req_parse("{\"cmd\":\"notify\",\"op\":\"add\",\"prefix\":"
				       "\"10.0.0.5/32\",\"block\":\"10.0.0.0/26\","
				       "\"borrowed\":true}", &r, &e), 0);
	assert_int_equal(r.cmd, CTL_CMD_NOTIFY);
	assert_true(r.add && r.has_block && r.borrowed);
	assert_string_equal(prefix_fmt(&r.block, pfx, sizeof(pfx)), "10.0.0.0/26");
	text = ctl_req_format(&r);
	assert_non_null(text);
	assert_int_equal(ctl_req_parse(text, &back, &e), 0);
	assert_true(back.has_block && back.borrowed);
	assert_true(prefix_eq(&back.block, &r.block));
	free(text);
	assert_int_equal(ctl_req_parse("{\"cmd\":\"notify\",\"op\":\"add\",\"prefix\":"
				       "\"10.0.0.5/32\"}", &r, &e), 0);
	assert_false(r.has_block);
	text = ctl_req_format(&r);
	assert_non_null(text);
	assert_null(strstr(text, "block"));
	free(text);

	static const char *const bad[] = {
		"{\"cmd\":\"notify\",\"op\":\"add\",\"prefix\":\"10.0.0.5/32\",\"block\":\"10.0.1.0/26\"}",
		"{\"cmd\":\"notify\",\"op\":\"add\",\"prefix\":\"10.0.0.5/32\",\"block\":\"fd00::/64\"}",
		"{\"cmd\":\"notify\",\"op\":\"add\",\"prefix\":\"10.0.0.5/32\",\"block\":\"x\"}",
		"{\"cmd\":\"notify\",\"op\":\"add\",\"prefix\":\"10.0.0.5/32\",\"block\":\"10.0.0.0/26\","
		"\"borrowed\":\"yes\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_true(ctl_req_parse(bad[i], &r, &e) < 0);
		assert_true(e.msg[0] != '\0');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_peers),
		cmocka_unit_test(test_pools),
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_op_request),
		cmocka_unit_test(test_notify_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
