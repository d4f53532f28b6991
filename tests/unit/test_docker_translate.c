/* test_docker_translate.c — leafnet-docker's request parsers and Join
 * renderer (dockerplugin/translate.c) on the bodies Docker 20.10 sends,
 * and on garbage, missing fields and wrong types. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attach.h"
#include "dp.h"
#include "err.h"
#include "json.h"

#define NETID "15f4c3f7e907c4e1f10eab6ac78d60014502e5e5ce4cae0c90fd63099202c572"
#define EPID  "a40467a97b19a9b34ad6bd2dc193e9ff190cfea9c52799aaa06eae88962607b4"

static cJSON *
J(const char *text)
{
	cJSON *o = cJSON_Parse(text);

	assert_non_null(o);
	return o;
}

static void
test_create_network(void **state)
{
	struct dp_create_network n;
	struct lf_err e = { 0 };
	char s[PREFIX_STRLEN];
	cJSON *o;
	(void)state;

	o = J("{\"NetworkID\":\"" NETID "\",\"Options\":{\"com.docker.network.enable_ipv6\":true,"
	      "\"com.docker.network.generic\":{\"network\":\"public\",\"routable\":\"false\","
	      "\"nat-outgoing\":\"true\",\"com.docker.network.driver.mtu\":\"1400\"}},"
	      "\"IPv4Data\":[{\"AddressSpace\":\"leafnet-local\",\"Gateway\":\"10.77.0.1/24\","
	      "\"Pool\":\"10.77.0.0/24\"}],\"IPv6Data\":[{\"Pool\":\"fd00:77::/64\","
	      "\"Gateway\":\"fd00:77::1\"}]}");
	assert_int_equal(dp_parse_create_network(o, &n, &e), 0);
	assert_string_equal(n.netid, NETID);
	assert_true(n.enable_ipv6);
	assert_string_equal(n.opts.network, "public");
	assert_int_equal(n.opts.routable, 0);
	assert_int_equal(n.opts.nat_outgoing, 1);
	assert_int_equal(n.opts.mtu, 1400);
	assert_int_equal(n.n_ip, 2);
	assert_string_equal(prefix_fmt(&n.ip[0].pool, s, sizeof(s)), "10.77.0.0/24");
	assert_string_equal(ipaddr_fmt(&n.ip[0].gateway, s, sizeof(s)), "10.77.0.1");
	assert_string_equal(n.ip[0].space, "leafnet-local");
	assert_string_equal(ipaddr_fmt(&n.ip[1].gateway, s, sizeof(s)), "fd00:77::1");
	cJSON_Delete(o);

	/* what Docker sends with no options and no IPv6 */
	o = J("{\"NetworkID\":\"" NETID "\",\"Options\":{\"com.docker.network.enable_ipv6\":false,"
	      "\"com.docker.network.generic\":{}},\"IPv4Data\":[{\"AddressSpace\":\"x\","
	      "\"Gateway\":\"10.77.0.1/24\",\"Pool\":\"10.77.0.0/24\"}],\"IPv6Data\":[]}");
	assert_int_equal(dp_parse_create_network(o, &n, &e), 0);
	assert_false(n.enable_ipv6);
	assert_int_equal(n.opts.routable, -1);
	assert_int_equal(n.opts.nat_outgoing, -1);
	assert_int_equal(n.n_ip, 1);
	cJSON_Delete(o);
}

static void
expect_cn_fail(const char *text, const char *needle)
{
	struct dp_create_network n;
	struct lf_err e = { 0 };
	cJSON *o = J(text);

	assert_true(dp_parse_create_network(o, &n, &e) < 0);
	if (!strstr(e.msg, needle))
		fail_msg("message \"%s\" does not mention \"%s\"", e.msg, needle);
	cJSON_Delete(o);
}

static void
test_create_network_bad(void **state)
{
	(void)state;
	expect_cn_fail("[]", "JSON object");
	expect_cn_fail("{}", "NetworkID");
	expect_cn_fail("{\"NetworkID\":5}", "NetworkID");
	expect_cn_fail("{\"NetworkID\":\"../etc\"}", "not a valid ID");
	expect_cn_fail("{\"NetworkID\":\"n1\",\"IPv4Data\":{}}", "IPv4Data");
	expect_cn_fail("{\"NetworkID\":\"n1\",\"IPv4Data\":[{}]}", "IPv4Data[0].Pool");
	expect_cn_fail("{\"NetworkID\":\"n1\",\"IPv4Data\":[{\"Pool\":\"10.0.0.1/24\"}]}",
		       "IPv4Data[0].Pool");
	expect_cn_fail("{\"NetworkID\":\"n1\",\"IPv4Data\":[{\"Pool\":\"fd00::/64\"}]}",
		       "not an IPv4 prefix");
	expect_cn_fail("{\"NetworkID\":\"n1\",\"IPv4Data\":[{\"Pool\":\"10.0.0.0/24\","
		       "\"Gateway\":\"nope\"}]}", "IPv4Data[0].Gateway");
	expect_cn_fail("{\"NetworkID\":\"n1\",\"Options\":{\"com.docker.network.generic\":"
		       "{\"routabel\":\"false\"}}}", "unknown option \"routabel\"");
	expect_cn_fail("{\"NetworkID\":\"n1\",\"Options\":{\"com.docker.network.generic\":"
		       "{\"routable\":\"maybe\"}}}", "routable=maybe");
	expect_cn_fail("{\"NetworkID\":\"n1\",\"Options\":{\"com.docker.network.generic\":"
		       "{\"mtu\":\"9\"}}}", "mtu=9");
	expect_cn_fail("{\"NetworkID\":\"n1\",\"Options\":{\"com.docker.network.generic\":"
		       "\"x\"}}", "expected an object");
}

static void
test_endpoint_and_ids(void **state)
{
	struct dp_create_endpoint ce;
	struct dp_ids ids;
	struct lf_err e = { 0 };
	char s[PREFIX_STRLEN];
	cJSON *o;
	(void)state;

	o = J("{\"NetworkID\":\"" NETID "\",\"EndpointID\":\"" EPID "\",\"Interface\":"
	      "{\"Address\":\"10.77.0.2/32\",\"AddressIPv6\":\"\",\"MacAddress\":\"\"},"
	      "\"Options\":{\"com.docker.network.endpoint.exposedports\":[],"
	      "\"com.docker.network.portmap\":[]}}");
	assert_int_equal(dp_parse_create_endpoint(o, &ce, &e), 0);
	assert_string_equal(ce.epid, EPID);
	assert_string_equal(prefix_fmt(&ce.addr4, s, sizeof(s)), "10.77.0.2/32");
	assert_int_equal(ce.addr6.addr.family, 0);
	cJSON_Delete(o);

	o = J("{\"NetworkID\":\"n\",\"EndpointID\":\"e\",\"Interface\":{\"Address\":\"x\"}}");
	assert_true(dp_parse_create_endpoint(o, &ce, &e) < 0);
	assert_non_null(strstr(e.msg, "Interface.Address"));
	cJSON_Delete(o);
	lf_err_clear(&e);

	o = J("{\"NetworkID\":\"" NETID "\",\"EndpointID\":\"" EPID "\",\"SandboxKey\":"
	      "\"/var/run/docker/netns/91a5ea46b1b3\",\"Options\":{}}");
	assert_int_equal(dp_parse_ids(o, true, &ids, &e), 0);
	assert_string_equal(ids.sandbox, "/var/run/docker/netns/91a5ea46b1b3");
	cJSON_Delete(o);

	o = J("{\"NetworkID\":\"" NETID "\"}");
	assert_int_equal(dp_parse_ids(o, false, &ids, &e), 0);
	assert_true(dp_parse_ids(o, true, &ids, &e) < 0);
	assert_non_null(strstr(e.msg, "EndpointID"));
	cJSON_Delete(o);
	assert_true(dp_parse_ids(NULL, false, &ids, NULL) < 0);
}

static void
test_ipam_requests(void **state)
{
	struct dp_pool_req pr;
	struct dp_addr_req ar;
	struct lf_err e = { 0 };
	struct prefix p;
	char s[PREFIX_STRLEN];
	cJSON *o;
	(void)state;

	o = J("{\"AddressSpace\":\"leafnet-local\",\"Pool\":\"10.77.0.0/24\",\"SubPool\":\"\","
	      "\"Options\":{},\"V6\":false}");
	assert_int_equal(dp_parse_request_pool(o, &pr, &e), 0);
	assert_string_equal(prefix_fmt(&pr.pool, s, sizeof(s)), "10.77.0.0/24");
	assert_int_equal(pr.subpool.addr.family, 0);
	cJSON_Delete(o);

	o = J("{\"Pool\":\"\",\"SubPool\":\"10.0.0.0/25\",\"V6\":false}");
	assert_true(dp_parse_request_pool(o, &pr, &e) < 0);
	assert_non_null(strstr(e.msg, "without Pool"));
	cJSON_Delete(o);
	lf_err_clear(&e);

	o = J("{\"Pool\":\"10.0.0.0/24\",\"V6\":true}");
	assert_true(dp_parse_request_pool(o, &pr, &e) < 0);
	cJSON_Delete(o);
	lf_err_clear(&e);

	o = J("{\"Pool\":\"\",\"V6\":false,\"Options\":{\"network\":\"public\"}}");
	assert_int_equal(dp_parse_request_pool(o, &pr, &e), 0);
	assert_string_equal(pr.opts.network, "public");
	cJSON_Delete(o);

	o = J("{\"PoolID\":\"10.77.0.0_24\",\"Address\":\"10.77.0.1\",\"Options\":"
	      "{\"RequestAddressType\":\"com.docker.network.gateway\"}}");
	assert_int_equal(dp_parse_addr_req(o, false, &ar, &e), 0);
	assert_true(ar.gateway);
	assert_string_equal(ipaddr_fmt(&ar.addr, s, sizeof(s)), "10.77.0.1");
	cJSON_Delete(o);

	o = J("{\"PoolID\":\"10.77.0.0_24\",\"Address\":\"\",\"Options\":null}");
	assert_int_equal(dp_parse_addr_req(o, false, &ar, &e), 0);
	assert_false(ar.gateway);
	assert_int_equal(ar.addr.family, 0);
	assert_true(dp_parse_addr_req(o, true, &ar, &e) < 0);	/* release needs one */
	cJSON_Delete(o);

	dp_pool_id_parse("fd00:77::_64", &p);
	dp_pool_id(&p, s, sizeof(s));
	assert_string_equal(s, "fd00:77::_64");
	assert_true(dp_pool_id_parse("garbage", &p) < 0);
}

static void
test_join_response(void **state)
{
	struct attach_result ar;
	char src[IFNAMSIZ], *text;
	cJSON *j;
	(void)state;

	memset(&ar, 0, sizeof(ar));
	ar.n_ips = 2;
	prefix_parse("10.77.0.2/32", 0, &ar.ips[0].addr);
	ipaddr_parse("10.77.0.1", &ar.ips[0].gateway);
	prefix_parse("fd00:77::2/128", 0, &ar.ips[1].addr);
	ipaddr_parse("fe80::1", &ar.ips[1].gateway);
	dp_src_name(EPID, src);
	assert_int_equal(strncmp(src, "lfd", 3), 0);
	assert_int_equal(strlen(src), 14);
	j = dp_join_response(src, &ar);
	assert_non_null(j);
	text = json_print(j);
	assert_non_null(strstr(text, "\"SrcName\":\"lfd"));
	assert_non_null(strstr(text, "\"DstPrefix\":\"eth\""));
	assert_non_null(strstr(text, "\"Gateway\":\"10.77.0.1\""));
	assert_non_null(strstr(text, "\"GatewayIPv6\":\"fe80::1\""));
	/* on-link route for the v4 gateway only: fe80::1 is link-local */
	assert_non_null(strstr(text, "[{\"Destination\":\"10.77.0.1/32\",\"RouteType\":1}]"));
	free(text);
	cJSON_Delete(j);
}

static void
test_err_text(void **state)
{
	struct lf_err e = { 0 };
	char buf[LF_ERR_MSG_MAX + LF_ERR_DETAILS_MAX + 4];

	(void)state;
	dp_err_text(&e, -ENOENT, buf, sizeof(buf));
	assert_string_equal(buf, strerror(ENOENT));
	lf_err_set_field(&e, LF_E_INVALID, LF_F_IFNAME, -EINVAL, "interface name \"x/y\" is bad");
	dp_err_text(&e, -EINVAL, buf, sizeof(buf));
	assert_string_equal(buf, "interface name \"x/y\" is bad");	/* no CNI_* hint */
	lf_err_details(&e, "kernel says no");
	dp_err_text(&e, -EINVAL, buf, sizeof(buf));
	assert_string_equal(buf, "interface name \"x/y\" is bad: kernel says no");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_network),
		cmocka_unit_test(test_create_network_bad),
		cmocka_unit_test(test_endpoint_and_ids),
		cmocka_unit_test(test_ipam_requests),
		cmocka_unit_test(test_join_response),
		cmocka_unit_test(test_err_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
