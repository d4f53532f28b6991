/* test_attach.c — the pure parts of the attach core: host veth names,
 * the ownership alias GC reads back, request validation before any kernel
 * work, and the no-op test hook.  Kernel behaviour is covered by
 * tests/netns/. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attach.h"
#include "attach_private.h"
#include "clock.h"
#include "err.h"

static void
test_host_ifname(void **state)
{
	char a[IFNAMSIZ], b[IFNAMSIZ], c[IFNAMSIZ], d[IFNAMSIZ];

	(void)state;
	attach_host_ifname("0123456789abcdef", "eth0", a);
	attach_host_ifname("0123456789abcdef", "eth0", b);
	attach_host_ifname("0123456789abcdef", "eth1", c);
	/* the NUL between the two keeps ("ab","c") apart from ("a","bc") */
	attach_host_ifname("ab", "c", d);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 14);
	assert_memory_equal(a, LEAFNET_IFPREFIX, 3);
	for (size_t i = 3; i < strlen(a); i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	attach_host_ifname("0123456789abcdef", "eth1", c);
	assert_string_not_equal(a, c);
	attach_host_ifname("a", "bc", b);
	assert_string_not_equal(b, d);
}

static void
test_alias_roundtrip(void **state)
{
	char buf[256], net[LEAFNET_NAME_MAX], ifn[IFNAMSIZ];
	const char *cid;

	(void)state;
	assert_int_equal(attach_alias("public", "eth0", "k8s:abc:def", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "leafnet:public:eth0:k8s:abc:def");
	assert_int_equal(attach_alias_parse(buf, net, sizeof(net), ifn, sizeof(ifn), &cid), 0);
	assert_string_equal(net, "public");
	assert_string_equal(ifn, "eth0");
	assert_string_equal(cid, "k8s:abc:def");
	/* external IPAM: empty network */
	assert_int_equal(attach_alias("", "net1", "c1", buf, sizeof(buf)), 0);
	assert_int_equal(attach_alias_parse(buf, net, sizeof(net), ifn, sizeof(ifn), &cid), 0);
	assert_string_equal(net, "");
	assert_string_equal(cid, "c1");
	/* not ours */
	assert_int_equal(attach_alias_parse("uplink to rack 3", net, sizeof(net), ifn,
					    sizeof(ifn), &cid), -EINVAL);
	assert_int_equal(attach_alias_parse("leafnet:x", net, sizeof(net), ifn,
					    sizeof(ifn), &cid), -EINVAL);
	assert_int_equal(attach_alias_parse("leafnet:x::c", net, sizeof(net), ifn,
					    sizeof(ifn), &cid), -EINVAL);
	assert_int_equal(attach_alias_parse("leafnet:x:eth0:", net, sizeof(net), ifn,
					    sizeof(ifn), &cid), -EINVAL);
	/* too long */
	assert_int_equal(attach_alias("n", "eth0", "0123456789", buf, 20), -ENAMETOOLONG);
}

static void
test_ifname_valid(void **state)
{
	(void)state;
	assert_true(attach_ifname_valid("eth0"));
	assert_true(attach_ifname_valid("net1.100"));
	assert_true(attach_ifname_valid("abcdefghijklmno"));
	assert_false(attach_ifname_valid("abcdefghijklmnop"));
	assert_false(attach_ifname_valid(""));
	assert_false(attach_ifname_valid(NULL));
	assert_false(attach_ifname_valid("."));
	assert_false(attach_ifname_valid(".."));
	assert_false(attach_ifname_valid("a/b"));
	assert_false(attach_ifname_valid("a:b"));
	assert_false(attach_ifname_valid("a b"));
}

static void
test_validate_before_kernel(void **state)
{
	struct attach_req *req = calloc(1, sizeof(*req));
	struct attach_result res;
	struct lf_err e = { 0 };

	(void)state;
	assert_non_null(req);
	strcpy(req->netns, "/nonexistent/netns");
	strcpy(req->ifname, "eth0");
	strcpy(req->network, "public");
	assert_int_equal(attach_workload(NULL, req, &res, &e), -EINVAL);
	/* neutral: the field, not a front end's variable name */
	assert_int_equal(e.code, LF_E_INVALID);
	assert_int_equal(e.field, LF_F_CONTAINER_ID);
	assert_null(strstr(e.msg, "CNI_"));
	assert_non_null(strstr(e.msg, "container id"));

	lf_err_clear(&e);
	strcpy(req->container_id, "c1");
	strcpy(req->ifname, "bad/name");
	assert_int_equal(attach_workload(NULL, req, &res, &e), -EINVAL);
	assert_int_equal(e.field, LF_F_IFNAME);
	assert_null(strstr(e.msg, "CNI_"));
	assert_non_null(strstr(e.msg, "bad/name"));

	lf_err_clear(&e);
	strcpy(req->ifname, "eth0");
	req->mtu = 20;
	assert_int_equal(attach_workload(NULL, req, &res, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "mtu"));

	lf_err_clear(&e);
	req->mtu = 0;
	memset(req->container_id, 'x', sizeof(req->container_id) - 1);
	assert_int_equal(attach_workload(NULL, req, &res, &e), -ENAMETOOLONG);
	assert_non_null(strstr(e.msg, "too long"));

	lf_err_clear(&e);
	strcpy(req->container_id, "c1");
	assert_int_equal(attach_workload(NULL, req, &res, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/nonexistent/netns"));
	free(req);
}

/* The hook reads its settings once, at the first call: set them first. */
static void
test_pause_noop(void **state)
{
	uint64_t t0;

	(void)state;
	setenv("LEAFNET_TEST_PAUSE", "after-veth", 1);
	setenv("LEAFNET_TEST_PAUSE_MS", "60", 1);
	t0 = clock_now_ms();
	attach_test_pause("after-ipam");	/* other step: no pause */
	assert_true(clock_now_ms() - t0 < 50);
	t0 = clock_now_ms();
	attach_test_pause("after-veth");	/* 60 ms */
	assert_true(clock_now_ms() - t0 >= 60);
	/* read once: a later change of the environment is not seen */
	unsetenv("LEAFNET_TEST_PAUSE");
	unsetenv("LEAFNET_TEST_PAUSE_MS");
	t0 = clock_now_ms();
	attach_test_pause("after-veth");
	assert_true(clock_now_ms() - t0 >= 60);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_ifname),
		cmocka_unit_test(test_alias_roundtrip),
		cmocka_unit_test(test_ifname_valid),
		cmocka_unit_test(test_validate_before_kernel),
		cmocka_unit_test(test_pause_noop),
	};

	return cmocka_run_group_tests_name("attach", tests, NULL, NULL);
}
