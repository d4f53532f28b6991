/* test_cni_parse.c — the CNI environment/config parser and result renderer,
 * golden: every malformed input maps to its spec error code and a message
 * naming the field; every version renders exactly its result shape.
 *
 * The parser lives in cni/ (not libleafnet.a); like wireguard-tools' fuzzers
 * we include it whole, so this test links with libleafnet.a alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../cni/cni.c"
#include "../../cni/result.c"

static void
env_clear(void)
{
	static const char *const vars[] = {
		"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME",
		"CNI_ARGS", "CNI_PATH",
	};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static void
env_add(void)
{
	env_clear();
	setenv("CNI_CONTAINERID", "abc123", 1);
	setenv("CNI_NETNS", "/var/run/netns/x", 1);
	setenv("CNI_IFNAME", "eth0", 1);
	setenv("CNI_PATH", "/opt/cni/bin:/usr/lib/cni", 1);
}

/* ---- environment ---------------------------------------------------------- */

struct env_case {
	enum cni_command cmd;
	const char *unset;		/* variable removed from a full ADD env */
	const char *args;		/* CNI_ARGS */
	int code;
	const char *msg;		/* substring */
};

static const struct env_case env_cases[] = {
	{ CNI_CMD_ADD, "CNI_IFNAME", NULL, 4, "CNI_IFNAME is required for ADD" },
	{ CNI_CMD_ADD, "CNI_NETNS", NULL, 4, "CNI_NETNS is required for ADD" },
	{ CNI_CMD_ADD, "CNI_CONTAINERID", NULL, 4, "CNI_CONTAINERID is required for ADD" },
	{ CNI_CMD_CHECK, "CNI_NETNS", NULL, 4, "CNI_NETNS is required for CHECK" },
	{ CNI_CMD_DEL, "CNI_NETNS", NULL, 0, NULL },	/* late DEL: no netns */
	{ CNI_CMD_DEL, "CNI_IFNAME", NULL, 4, "CNI_IFNAME is required for DEL" },
	{ CNI_CMD_GC, "CNI_CONTAINERID", NULL, 0, NULL },
	{ CNI_CMD_ADD, NULL, "FOO=bar", 2, "unknown key \"FOO\"" },
	{ CNI_CMD_ADD, NULL, "FOO=bar;IgnoreUnknown=1", 0, NULL },
	{ CNI_CMD_ADD, NULL, "IgnoreUnknown=true;FOO=bar", 0, NULL },
	{ CNI_CMD_ADD, NULL, "IgnoreUnknown=maybe", 4, "IgnoreUnknown" },
	{ CNI_CMD_ADD, NULL, "novalue", 4, "is not KEY=VALUE" },
	{ CNI_CMD_ADD, NULL, "IP=10.0.0.500", 4, "CNI_ARGS IP: \"10.0.0.500\"" },
	{ CNI_CMD_ADD, NULL, "IP=10.0.0.5,fd00::5;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p", 0, NULL },
	{ CNI_CMD_ADD, NULL, "MAC=02:00:00:00:00:01", 0, NULL },
};

static void
test_env_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++) {
		const struct env_case *c = &env_cases[i];
		struct lf_err err = { 0 };
		struct cni_env env;
		int r;

		env_add();
		if (c->unset)
			unsetenv(c->unset);
		if (c->args)
			setenv("CNI_ARGS", c->args, 1);
		r = cni_env_parse(c->cmd, &env, &err);
		if (c->code == 0) {
			if (r != 0)
				fail_msg("case %zu: unexpected error %d %s", i, cni_err_code(&err), err.msg);
			continue;
		}
		assert_true(r < 0);
		if (cni_err_code(&err) != c->code || strstr(err.msg, c->msg) == NULL)
			fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, cni_err_code(&err),
				 err.msg, c->code, c->msg);
	}
	env_clear();
}

static void
test_env_values(void **state)
{
	struct lf_err err = { 0 };
	struct cni_env env;
	char handle[IPAM_HANDLE_MAX];
	char buf[IPADDR_STRLEN];

	(void)state;
	env_add();
	setenv("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-1;"
	       "K8S_POD_INFRA_CONTAINER_ID=abc;IP=10.0.0.5,fd00::5;X=y", 1);
	assert_int_equal(cni_env_parse(CNI_CMD_ADD, &env, &err), 0);
	assert_string_equal(env.container_id, "abc123");
	assert_string_equal(env.ifname, "eth0");
	assert_int_equal(env.n_ip_args, 2);
	assert_string_equal(ipaddr_fmt(&env.ip_args[1], buf, sizeof(buf)), "fd00::5");
	cni_handle(&env, handle, sizeof(handle));
	assert_string_equal(handle, "k8s:prod/web-1");

	setenv("CNI_CONTAINERID", "bad/id", 1);
	assert_true(cni_env_parse(CNI_CMD_ADD, &env, &err) < 0);
	assert_int_equal(cni_err_code(&err), 4);
	assert_non_null(strstr(err.msg, "CNI_CONTAINERID"));

	lf_err_clear(&err);
	setenv("CNI_CONTAINERID", "ok", 1);
	setenv("CNI_IFNAME", "this-name-is-way-too-long", 1);
	assert_true(cni_env_parse(CNI_CMD_ADD, &env, &err) < 0);
	assert_int_equal(cni_err_code(&err), 4);
	assert_non_null(strstr(err.msg, "CNI_IFNAME"));
	env_clear();
}

/* ---- configuration -------------------------------------------------------- */

struct conf_case {
	enum cni_command cmd;
	const char *text;
	int code;
	const char *msg;
};

static const struct conf_case conf_cases[] = {
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"x\"", 6, "invalid JSON at byte 32" },
	{ CNI_CMD_ADD, "[1,2]", 7, "expected a JSON object" },
	{ CNI_CMD_ADD, "{\"name\":\"x\"}", 7, "cniVersion: missing" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"0.2.0\",\"name\":\"x\"}", 1, "cniVersion \"0.2.0\" is not supported" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"2.0.0\",\"name\":\"x\"}", 1, "not supported" },
	{ CNI_CMD_CHECK, "{\"cniVersion\":\"0.3.1\",\"name\":\"x\"}", 1, "CHECK was introduced in CNI 0.4.0" },
	{ CNI_CMD_GC, "{\"cniVersion\":\"1.0.0\",\"name\":\"x\"}", 1, "GC was introduced in CNI 1.1.0" },
	{ CNI_CMD_STATUS, "{\"cniVersion\":\"0.4.0\",\"name\":\"x\"}", 1, "STATUS was introduced in CNI 1.1.0" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\"}", 7, "name: missing" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":5}", 7, "name: expected a string" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"mtu\":\"9000\"}", 7, "mtu: expected a number between 68 and 65535" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"mtu\":67}", 7, "mtu: expected a number between 68 and 65535" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"mtu\":65536}", 7, "mtu:" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"mtu\":1500.5}", 7, "mtu:" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x y\"}", 7, "name: \"x y\" is not a valid leafnet network name" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"network\":\"a/b\"}", 7, "network: \"a/b\"" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"ipam\":[]}", 7, "ipam: expected an object" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"ipam\":{}}", 7, "ipam.type: missing" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"ipam\":{\"type\":\"../x\"}}", 7, "ipam.type" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"ipam\":{\"type\":\"leafnet-ipam\",\"network\":7}}", 7, "ipam.network: expected a string" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"runtimeConfig\":{\"ips\":[\"nope\"]}}", 7, "runtimeConfig.ips[0]" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"runtimeConfig\":{\"ips\":\"10.0.0.1\"}}", 7, "runtimeConfig.ips: expected an array" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"args\":{\"cni\":{\"ips\":[1]}}}", 7, "args.cni.ips[0]" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"runtimeConfig\":{\"ips\":[\"10.0.0.1\",\"10.0.0.2\",\"10.0.0.3\",\"10.0.0.4\",\"10.0.0.5\"]}}", 7, "more than 4" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"prevResult\":{\"ips\":[{\"address\":\"10.0.0.1\"}]}}", 7, "prevResult.ips[0].address" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"prevResult\":{\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":3}]}}", 7, "prevResult.ips[0].interface" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"0.4.0\",\"name\":\"x\",\"prevResult\":{\"ips\":[{\"version\":\"6\",\"address\":\"10.0.0.1/24\"}]}}", 7, "prevResult.ips[0].version" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"prevResult\":{\"interfaces\":[{\"mac\":\"x\"}]}}", 7, "prevResult.interfaces[0].name: missing" },
	{ CNI_CMD_GC, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\"}", 7, "cni.dev/valid-attachments: missing" },
	{ CNI_CMD_GC, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"cni.dev/valid-attachments\":[{\"containerID\":\"a\"}]}", 7, "cni.dev/valid-attachments[0].ifname: missing" },
	{ CNI_CMD_GC, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"cni.dev/attachments\":{}}", 7, "cni.dev/attachments: expected an array" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"leafnet_conf\":false}", 7, "leafnet_conf: expected a string" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"runtimeConfig\":{\"mac\":\"01:00:5e:00:00:01\"}}", 7, "runtimeConfig.mac: \"01:00:5e:00:00:01\" is not a unicast" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"runtimeConfig\":{\"mac\":\"00:00:00:00:00:00\"}}", 7, "runtimeConfig.mac: \"00:00:00:00:00:00\" is not a unicast" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"runtimeConfig\":{\"mac\":\"02:00:00:00:00\"}}", 7, "runtimeConfig.mac: \"02:00:00:00:00\" is not a MAC address" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"runtimeConfig\":{\"mac\":\"02:00:00:00:00:0g\"}}", 7, "runtimeConfig.mac:" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"runtimeConfig\":{\"mac\":\"02:00:00:00:00-01\"}}", 7, "runtimeConfig.mac:" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"runtimeConfig\":{\"mac\":\"020000000001\"}}", 7, "runtimeConfig.mac:" },
	{ CNI_CMD_CHECK, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"runtimeConfig\":{\"mac\":[]}}", 7, "runtimeConfig.mac: expected a MAC address string" },
	{ CNI_CMD_ADD, "{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"args\":{\"cni\":{\"mac\":\"ff:ff:ff:ff:ff:ff\"}}}", 7, "args.cni.mac: \"ff:ff:ff:ff:ff:ff\" is not a unicast" },
};

static void
test_conf_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(conf_cases) / sizeof(conf_cases[0]); i++) {
		const struct conf_case *c = &conf_cases[i];
		struct lf_err err = { 0 };
		struct cni_conf conf;
		int r;

		r = cni_conf_parse(c->text, c->cmd, false, NULL, &conf, &err);
		if (r == 0) {
			cni_conf_done(&conf);
			fail_msg("case %zu: parsed, want %d \"%s\"", i, c->code, c->msg);
		}
		if (cni_err_code(&err) != c->code || strstr(err.msg, c->msg) == NULL)
			fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, cni_err_code(&err),
				 err.msg, c->code, c->msg);
	}
}

static void
test_conf_full(void **state)
{
	const char *text =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"k8s-pod-network\",\"type\":\"leafnet\","
		"\"network\":\"public\",\"mtu\":1450,\"unknownKey\":{\"x\":1},"
		"\"leafnet_conf\":\"/etc/leafnet/other.conf\","
		"\"ipam\":{\"type\":\"leafnet-ipam\"},"
		"\"runtimeConfig\":{\"ips\":[\"10.0.0.5/24\"],\"portMappings\":[]},"
		"\"args\":{\"cni\":{\"ips\":[\"fd00::5\",\"10.0.0.5\"]},\"labels\":{}}}";
	struct lf_err err = { 0 };
	struct cni_conf conf;
	struct cni_env env;
	char buf[IPADDR_STRLEN];

	(void)state;
	memset(&env, 0, sizeof(env));
	assert_int_equal(ipaddr_parse("10.0.0.6", &env.ip_args[0]), 0);
	env.n_ip_args = 1;
	assert_int_equal(cni_conf_parse(text, CNI_CMD_ADD, false, &env, &conf, &err), 0);
	assert_int_equal(conf.version, CNI_V_1_1_0);
	assert_string_equal(conf.network, "public");
	assert_int_equal(conf.mtu, 1450);
	assert_false(conf.ipam_delegate);
	assert_string_equal(conf.leafnet_conf, "/etc/leafnet/other.conf");
	assert_int_equal(conf.n_statics, 3);	/* 10.0.0.5 once, fd00::5, 10.0.0.6 */
	assert_string_equal(ipaddr_fmt(&conf.statics[1], buf, sizeof(buf)), "fd00::5");
	cni_conf_done(&conf);

	/* network defaults to ipam.network, then name; other IPAMs delegate */
	assert_int_equal(cni_conf_parse("{\"cniVersion\":\"0.3.0\",\"name\":\"n1\"}",
					CNI_CMD_ADD, false, NULL, &conf, &err), 0);
	assert_string_equal(conf.network, "n1");
	assert_int_equal(cni_conf_parse("{\"cniVersion\":\"0.3.0\",\"name\":\"n1\","
					"\"ipam\":{\"type\":\"leafnet-ipam\",\"network\":\"n2\"}}",
					CNI_CMD_ADD, true, NULL, &conf, &err), 0);
	assert_string_equal(conf.network, "n2");
	assert_int_equal(cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n1\","
					"\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.1.0.0/16\"}}",
					CNI_CMD_DEL, false, NULL, &conf, &err), 0);
	assert_true(conf.ipam_delegate);
	assert_string_equal(conf.ipam_type, "host-local");
	/* leafnet-ipam refuses to be someone else */
	assert_true(cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n1\","
				   "\"ipam\":{\"type\":\"host-local\"}}",
				   CNI_CMD_ADD, true, NULL, &conf, &err) < 0);
	assert_int_equal(cni_err_code(&err), 7);
}

static void
test_conf_mac(void **state)
{
	static const uint8_t want[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };
	struct lf_err err = { 0 };
	struct cni_conf conf;
	struct cni_env env;
	uint8_t mac[6];

	(void)state;
	assert_int_equal(cni_mac_parse("02:AA:bb:Cc:dd:01", mac), 0);
	assert_memory_equal(mac, want, 6);
	assert_int_equal(cni_mac_parse("00:11:22:33:44:55", mac), 0);	/* global unicast */
	assert_int_equal(cni_mac_parse("03:11:22:33:44:55", mac), -EADDRNOTAVAIL);
	assert_int_equal(cni_mac_parse("02:11:22:33:44:5", mac), -EINVAL);
	assert_int_equal(cni_mac_parse("02:11:22:33:44:555", mac), -EINVAL);
	assert_int_equal(cni_mac_parse(" 2:11:22:33:44:55", mac), -EINVAL);
	assert_int_equal(cni_mac_parse(NULL, mac), -EINVAL);

	/* CNI_ARGS MAC= is a known key; the value is judged by the config
	 * parser (leafnet-ipam, DEL and GC never look at it) */
	env_add();
	setenv("CNI_ARGS", "MAC=02:aa:bb:cc:dd:03", 1);
	assert_int_equal(cni_env_parse(CNI_CMD_ADD, &env, &err), 0);
	assert_string_equal(env.mac_arg, "02:aa:bb:cc:dd:03");
	assert_int_equal(cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}",
					CNI_CMD_ADD, false, &env, &conf, &err), 0);
	assert_true(conf.has_mac);
	assert_int_equal(conf.mac[5], 0x03);
	/* args.cni.mac beats CNI_ARGS, runtimeConfig.mac beats both; "" is unset */
	assert_int_equal(cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\","
					"\"args\":{\"cni\":{\"mac\":\"02:aa:bb:cc:dd:02\"}}}",
					CNI_CMD_ADD, false, &env, &conf, &err), 0);
	assert_int_equal(conf.mac[5], 0x02);
	assert_int_equal(cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\","
					"\"args\":{\"cni\":{\"mac\":\"02:aa:bb:cc:dd:02\"}},"
					"\"runtimeConfig\":{\"mac\":\"02:aa:bb:cc:dd:01\"}}",
					CNI_CMD_CHECK, false, &env, &conf, &err), 0);
	assert_memory_equal(conf.mac, want, 6);
	assert_int_equal(cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\","
					"\"runtimeConfig\":{\"mac\":\"\"}}",
					CNI_CMD_ADD, false, NULL, &conf, &err), 0);
	assert_false(conf.has_mac);

	setenv("CNI_ARGS", "IgnoreUnknown=1;MAC=zz", 1);
	assert_int_equal(cni_env_parse(CNI_CMD_ADD, &env, &err), 0);
	assert_true(cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}",
				   CNI_CMD_ADD, false, &env, &conf, &err) < 0);
	assert_int_equal(cni_err_code(&err), 7);
	assert_non_null(strstr(err.msg, "CNI_ARGS MAC: \"zz\""));
	lf_err_clear(&err);
	for (enum cni_command cmd = CNI_CMD_DEL; cmd <= CNI_CMD_GC; cmd++) {
		const char *text = cmd == CNI_CMD_GC
			? "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"runtimeConfig\":{\"mac\":5},"
			  "\"cni.dev/valid-attachments\":[]}"
			: "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"runtimeConfig\":{\"mac\":5}}";

		if (cmd == CNI_CMD_CHECK || cmd == CNI_CMD_VERSION)
			continue;
		if (cni_conf_parse(text, cmd, false, &env, &conf, &err) != 0)
			fail_msg("%s: a bad MAC refused: %s", cni_command_name(cmd), err.msg);
		cni_conf_done(&conf);
	}
	/* leafnet-ipam ignores it */
	assert_int_equal(cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\","
					"\"runtimeConfig\":{\"mac\":\"bad\"}}",
					CNI_CMD_ADD, true, &env, &conf, &err), 0);
	assert_false(conf.has_mac);
	env_clear();
}

static void
test_conf_gc(void **state)
{
	const char *text =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"n\","
		"\"cni.dev/valid-attachments\":[{\"containerID\":\"a\",\"ifname\":\"eth0\"}],"
		"\"cni.dev/attachments\":[{\"containerID\":\"b\",\"ifname\":\"eth1\"}]}";
	struct lf_err err = { 0 };
	struct cni_conf conf;

	(void)state;
	assert_int_equal(cni_conf_parse(text, CNI_CMD_GC, false, NULL, &conf, &err), 0);
	assert_int_equal(conf.n_valid, 2);
	assert_true(cni_attachment_valid(&conf, "a", "eth0"));
	assert_true(cni_attachment_valid(&conf, "b", "eth1"));
	assert_false(cni_attachment_valid(&conf, "a", "eth1"));
	cni_conf_done(&conf);
	/* an empty list is a valid answer: nothing is in use */
	assert_int_equal(cni_conf_parse("{\"cniVersion\":\"1.1.0\",\"name\":\"n\","
					"\"cni.dev/valid-attachments\":[]}",
					CNI_CMD_GC, false, NULL, &conf, &err), 0);
	assert_true(conf.has_valid_attachments);
	assert_int_equal(conf.n_valid, 0);
	cni_conf_done(&conf);
}

/* ---- results -------------------------------------------------------------- */

static void
sample_result(struct cni_result *r)
{
	memset(r, 0, sizeof(*r));
	r->n_ifaces = 2;
	strcpy(r->ifaces[0].name, "lfn0123456789a");
	strcpy(r->ifaces[0].mac, "aa:bb:cc:dd:ee:01");
	strcpy(r->ifaces[1].name, "eth0");
	strcpy(r->ifaces[1].mac, "aa:bb:cc:dd:ee:02");
	strcpy(r->ifaces[1].sandbox, "/var/run/netns/x");
	r->n_ips = 2;
	assert_int_equal(prefix_parse("10.0.0.5/32", 0, &r->ips[0].address), 0);
	assert_int_equal(ipaddr_parse("169.254.1.1", &r->ips[0].gateway), 0);
	r->ips[0].iface = 1;
	assert_int_equal(prefix_parse("fd00::5/128", 0, &r->ips[1].address), 0);
	assert_int_equal(ipaddr_parse("fe80::1", &r->ips[1].gateway), 0);
	r->ips[1].iface = 1;
	r->n_routes = 2;
	assert_int_equal(prefix_parse("0.0.0.0/0", 0, &r->routes[0].dst), 0);
	r->routes[0].gw = r->ips[0].gateway;
	assert_int_equal(prefix_parse("::/0", 0, &r->routes[1].dst), 0);
	r->routes[1].gw = r->ips[1].gateway;
}

static void
test_render_versions(void **state)
{
	static const char ifs[] =
		"\"interfaces\":[{\"name\":\"lfn0123456789a\",\"mac\":\"aa:bb:cc:dd:ee:01\"},"
		"{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:02\",\"sandbox\":\"/var/run/netns/x\"}],";
	static const char routes[] =
		"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"169.254.1.1\"},"
		"{\"dst\":\"::/0\",\"gw\":\"fe80::1\"}],\"dns\":{}}";
	struct cni_result r;
	char want[2048], *out;

	(void)state;
	sample_result(&r);
	out = cni_result_render(&r, CNI_V_0_3_1);
	snprintf(want, sizeof(want), "{\"cniVersion\":\"0.3.1\",%s\"ips\":["
		 "{\"version\":\"4\",\"address\":\"10.0.0.5/32\",\"gateway\":\"169.254.1.1\",\"interface\":1},"
		 "{\"version\":\"6\",\"address\":\"fd00::5/128\",\"gateway\":\"fe80::1\",\"interface\":1}],%s",
		 ifs, routes);
	assert_string_equal(out, want);
	free(out);
	out = cni_result_render(&r, CNI_V_1_1_0);
	snprintf(want, sizeof(want), "{\"cniVersion\":\"1.1.0\",%s\"ips\":["
		 "{\"address\":\"10.0.0.5/32\",\"gateway\":\"169.254.1.1\",\"interface\":1},"
		 "{\"address\":\"fd00::5/128\",\"gateway\":\"fe80::1\",\"interface\":1}],%s",
		 ifs, routes);
	assert_string_equal(out, want);
	free(out);
}

static void
test_result_roundtrip_append(void **state)
{
	const char *prev =
		"{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"br0\"}],"
		"\"ips\":[{\"version\":\"4\",\"address\":\"192.0.2.7/24\",\"interface\":0}],"
		"\"routes\":[{\"dst\":\"198.51.100.0/24\",\"gw\":\"192.0.2.1\",\"mtu\":1400}],"
		"\"dns\":{\"nameservers\":[\"192.0.2.53\"],\"domain\":\"example\",\"search\":[\"a\",\"b\"]}}";
	struct cni_result *p = calloc(1, sizeof(*p)), *ours = calloc(1, sizeof(*ours));
	struct lf_err err = { 0 };
	cJSON *root = cJSON_Parse(prev);
	char *out;

	(void)state;
	assert_non_null(root);
	assert_int_equal(cni_result_from_json(root, "prevResult.", p, &err), 0);
	cJSON_Delete(root);
	sample_result(ours);
	ours->n_routes = 0;
	ours->n_ips = 1;
	assert_int_equal(cni_result_append(p, ours, &err), 0);
	out = cni_result_render(p, CNI_V_1_0_0);
	assert_string_equal(out,
		"{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"br0\"},"
		"{\"name\":\"lfn0123456789a\",\"mac\":\"aa:bb:cc:dd:ee:01\"},"
		"{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:02\",\"sandbox\":\"/var/run/netns/x\"}],"
		"\"ips\":[{\"address\":\"192.0.2.7/24\",\"interface\":0},"
		"{\"address\":\"10.0.0.5/32\",\"gateway\":\"169.254.1.1\",\"interface\":2}],"
		"\"routes\":[{\"dst\":\"198.51.100.0/24\",\"gw\":\"192.0.2.1\",\"mtu\":1400}],"
		"\"dns\":{\"nameservers\":[\"192.0.2.53\"],\"domain\":\"example\",\"search\":[\"a\",\"b\"]}}");
	free(out);
	free(p);
	free(ours);
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(cni_command_parse("ADD"), CNI_CMD_ADD);
	assert_int_equal(cni_command_parse("add"), CNI_CMD_NONE);
	assert_int_equal(cni_command_parse("GC"), CNI_CMD_GC);
	assert_int_equal(cni_version_parse("0.4.0"), CNI_V_0_4_0);
	assert_int_equal(cni_version_parse("0.1.0"), CNI_V_NONE);
	assert_string_equal(cni_version_name(CNI_V_LATEST), "1.1.0");
	assert_int_equal(cni_conf_peek_version("{\"cniVersion\":\"0.3.1\",\"x\":"), CNI_V_NONE);
	assert_int_equal(cni_conf_peek_version("{\"cniVersion\":\"0.3.1\"}"), CNI_V_0_3_1);
}

/* leafnet's neutral errors become the spec's codes here, and a field the
 * runtime passed in the environment gets its CNI_* name. */
static void
test_error_mapping(void **state)
{
	static const struct { enum lf_code code; enum lf_field field; int cni; } cases[] = {
		{ LF_E_INVALID,        LF_F_NONE,         7 },
		{ LF_E_INVALID,        LF_F_NETWORK,      7 },
		{ LF_E_INVALID,        LF_F_IFNAME,       4 },
		{ LF_E_INVALID,        LF_F_NETNS,        4 },
		{ LF_E_INVALID,        LF_F_ARGS,         4 },
		{ LF_E_DECODE,         LF_F_NONE,         6 },
		{ LF_E_UNSUPPORTED,    LF_F_VERSION,      1 },
		{ LF_E_UNSUPPORTED,    LF_F_ARGS,         2 },
		{ LF_E_NOT_FOUND,      LF_F_CONTAINER_ID, 3 },
		{ LF_E_NOT_FOUND,      LF_F_NONE,         103 },
		{ LF_E_EXISTS,         LF_F_IFNAME,       7 },
		{ LF_E_IO,             LF_F_NONE,         5 },
		{ LF_E_AGAIN,          LF_F_NONE,         11 },
		{ LF_E_UNAVAILABLE,    LF_F_NONE,         50 },
		{ LF_E_DEGRADED,       LF_F_NONE,         51 },
		{ LF_E_POOL_EXHAUSTED, LF_F_NONE,         100 },
		{ LF_E_ADDR_IN_USE,    LF_F_NONE,         101 },
		{ LF_E_KERNEL,         LF_F_NONE,         102 },
		{ LF_E_CHECK_FAILED,   LF_F_NONE,         104 },
		{ LF_E_BUSY,           LF_F_NONE,         105 },
		{ LF_E_INTERNAL,       LF_F_NONE,         999 },
	};
	struct lf_err e = { 0 };
	char msg[LF_ERR_MSG_MAX + 32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lf_err_clear(&e);
		lf_err_set_field(&e, cases[i].code, cases[i].field, -EINVAL, "x");
		if (cni_err_code(&e) != cases[i].cni)
			fail_msg("case %zu: %s/%d -> %d, want %d", i,
				 lf_err_code_name(cases[i].code), cases[i].field,
				 cni_err_code(&e), cases[i].cni);
	}
	assert_int_equal(cni_err_code(NULL), 999);

	lf_err_clear(&e);
	lf_err_set_field(&e, LF_E_INVALID, LF_F_IFNAME, -EINVAL, "interface name \"a/b\" is bad");
	cni_err_msg(&e, msg, sizeof(msg));
	assert_string_equal(msg, "interface name \"a/b\" is bad (CNI_IFNAME)");
	lf_err_clear(&e);
	lf_err_set_field(&e, LF_E_INVALID, LF_F_IFNAME, -EINVAL, "CNI_IFNAME: too long");
	cni_err_msg(&e, msg, sizeof(msg));
	assert_string_equal(msg, "CNI_IFNAME: too long");	/* no second hint */
	lf_err_clear(&e);
	lf_err_set_field(&e, LF_E_INVALID, LF_F_MTU, -EINVAL, "mtu 10 is out of range");
	cni_err_msg(&e, msg, sizeof(msg));
	assert_string_equal(msg, "mtu 10 is out of range");

	/* a delegated plugin's own code passes through, whatever it is */
	lf_err_clear(&e);
	assert_int_equal(cni_err_set_foreign(&e, 42, -EIO, "ipam x: %s", "odd"), -EIO);
	assert_int_equal(cni_err_code(&e), 42);
	assert_int_equal(e.code, LF_E_IO);
	lf_err_clear(&e);
	cni_err_set_foreign(&e, 1, -EIO, "ipam x: old");
	assert_int_equal(e.code, LF_E_UNSUPPORTED);
	assert_int_equal(e.field, LF_F_VERSION);
	assert_int_equal(cni_err_code(&e), 1);
	cni_err_set_foreign(&e, 7, -EIO, "second");	/* first wins */
	assert_int_equal(cni_err_code(&e), 1);
	assert_string_equal(e.msg, "ipam x: old");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_cases),
		cmocka_unit_test(test_env_values),
		cmocka_unit_test(test_conf_cases),
		cmocka_unit_test(test_conf_full),
		cmocka_unit_test(test_conf_mac),
		cmocka_unit_test(test_conf_gc),
		cmocka_unit_test(test_render_versions),
		cmocka_unit_test(test_result_roundtrip_append),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_error_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
