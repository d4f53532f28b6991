/* test_conf.c — config lookup order, defaults and validation messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "conf.h"
#include "err.h"
#include "log.h"

static char tmpdir[] = "/tmp/leafnet-test-conf.XXXXXX";
static char path[PATH_MAX];

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/leafnet.conf", tmpdir);
	unsetenv("LEAFNET_CONF");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)unlink(path);
	return rmdir(tmpdir);
}

static void
write_conf(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
test_defaults(void **state)
{
	struct leafnet_conf c;
	char host[256] = "";
	(void)state;

	conf_defaults(&c);
	assert_string_equal(c.path, "");
	assert_string_equal(c.state_dir, LEAFNET_STATE_DIR_DEFAULT);
	assert_string_equal(c.datastore, "file");
	assert_string_equal(c.control_socket, LEAFNET_CTL_SOCK_DEFAULT);
	assert_string_equal(c.log_file, "");
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_true(c.fsync);
	assert_false(c.bgp_nexthop_onlink);
	assert_string_equal(c.metrics_listen, "127.0.0.1:9474");
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	if (strlen(host) < sizeof(c.node_name))
		assert_string_equal(c.node_name, host);
}

static void
test_full(void **state)
{
	struct leafnet_conf c;
	struct lf_err e = { 0 };
	(void)state;

	write_conf("{ \"state_dir\": \"/tmp/x/state/\", \"datastore\": \"etcd\",\n"
		   "  \"etcd_endpoints\": \"http://10.0.0.1:2379,http://10.0.0.2:2379\",\n"
		   "  \"control_socket\": \"/run/lf/ctl.sock\", \"node_name\": \"node-1\",\n"
		   "  \"log_file\": \"/var/log/leafnet.log\", \"log_level\": \"debug\",\n"
		   "  \"fsync\": false, \"bgp_nexthop_onlink\": true }\n");
	assert_int_equal(conf_load(path, &c, &e), 0);
	assert_int_equal(e.code, 0);
	assert_string_equal(c.path, path);
	assert_string_equal(c.state_dir, "/tmp/x/state");	/* slash dropped */
	assert_string_equal(c.datastore, "etcd");
	assert_string_equal(c.etcd_endpoints, "http://10.0.0.1:2379,http://10.0.0.2:2379");
	assert_string_equal(c.control_socket, "/run/lf/ctl.sock");
	assert_string_equal(c.node_name, "node-1");
	assert_string_equal(c.log_file, "/var/log/leafnet.log");
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_false(c.fsync);
	assert_true(c.bgp_nexthop_onlink);
}

static void
test_lookup_order(void **state)
{
	struct leafnet_conf c;
	struct lf_err e = { 0 };
	char other[PATH_MAX];
	(void)state;

	write_conf("{\"node_name\": \"from-env\"}");
	setenv("LEAFNET_CONF", path, 1);
	assert_int_equal(conf_load(NULL, &c, &e), 0);
	assert_string_equal(c.node_name, "from-env");
	assert_int_equal(conf_load("", &c, &e), 0);
	assert_string_equal(c.node_name, "from-env");

	/* the explicit path beats the environment; a missing one is an error */
	snprintf(other, sizeof(other), "%s/missing.conf", tmpdir);
	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(conf_load(other, &c, &e), -ENOENT);
	assert_int_equal(e.code, LF_E_INVALID);
	assert_non_null(strstr(e.msg, "missing.conf"));
	assert_int_equal((unsigned char)c.state_dir[0], 0x5a);	/* untouched */
	lf_err_clear(&e);

	/* a missing file named by the environment is an error too */
	setenv("LEAFNET_CONF", other, 1);
	assert_int_equal(conf_load(NULL, &c, &e), -ENOENT);
	lf_err_clear(&e);
	unsetenv("LEAFNET_CONF");

	/* a directory is not a config file */
	assert_int_equal(conf_load(tmpdir, &c, &e), -EISDIR);
	lf_err_clear(&e);
	/* nor is a device (it used to be reported as "Is a directory") */
	assert_int_equal(conf_load("/dev/null", &c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "/dev/null: not a regular file"));
	lf_err_clear(&e);
	/* an empty object is all defaults */
	write_conf("{}");
	assert_int_equal(conf_load(path, &c, &e), 0);
	assert_string_equal(c.state_dir, LEAFNET_STATE_DIR_DEFAULT);
	assert_true(c.fsync);

	/* no file at the default place: built-in defaults, path "" */
	if (access(LEAFNET_CONF_DEFAULT, F_OK) < 0 && errno == ENOENT) {
		assert_int_equal(conf_load(NULL, &c, &e), 0);
		assert_string_equal(c.path, "");
		assert_string_equal(c.state_dir, LEAFNET_STATE_DIR_DEFAULT);
	}
}

struct bad_case {
	const char *text;
	const char *want;	/* substring of the message */
};

static void
test_bad(void **state)
{
	static const struct bad_case cases[] = {
		{ "{\"state_dri\": \"/x\"}", "unknown key \"state_dri\"" },
		{ "{\"fsync\": true, \"fsync\": false}", "\"fsync\" appears twice" },
		{ "{\"log_level\": \"verbose\"}", "log_level: \"verbose\"" },
		{ "{\"log_level\": 3}", "log_level: expected a string" },
		{ "{\"bgp_nexthop_onlink\": \"yes\"}", "bgp_nexthop_onlink" },
		{ "{\"datastore\": \"redis\"}", "datastore: \"redis\"" },
		{ "{\"datastore\": \"etcd\", \"etcd_endpoints\": \"\"}", "etcd_endpoints" },
		{ "{\"state_dir\": \"\"}", "state_dir: must not be empty" },
		{ "{\"state_dir\": \"var/lib\"}", "state_dir: \"var/lib\" is not an absolute path" },
		{ "{\"control_socket\": \"ctl.sock\"}", "control_socket" },
		{ "{\"log_file\": \"rel.log\"}", "log_file" },
		{ "{\"node_name\": \"\"}", "node_name: empty" },
		{ "{\"node_name\": \"a/b\"}", "node_name: \"a/b\"" },
		{ "{\"node_name\": \".hidden\"}", "node_name" },
		{ "{\"fsync\": \"yes\"}", "fsync: expected true or false" },
		{ "[1, 2]", "must be a JSON object" },
		{ "{\"state_dir\": \"/x\",}", "invalid JSON at byte" },
		{ "{} junk", "invalid JSON at byte 3" },
		{ "", "empty input" },
		{ "{\"metrics_listen\": \"9474\"}", "metrics_listen: \"9474\" is not ADDRESS:PORT" },
		{ "{\"metrics_listen\": \"::1:9474\"}", "metrics_listen" },
		{ "{\"metrics_listen\": \"127.0.0.1:0\"}", "metrics_listen" },
		{ "{\"metrics_listen\": \"127.0.0.1:65536\"}", "metrics_listen" },
		{ "{\"metrics_listen\": \"localhost:9474\"}", "metrics_listen" },
		{ "{\"metrics_listen\": \"[::1]9474\"}", "metrics_listen" },
		{ "{\"metrics_listen\": \"[10.0.0.1]:9474\"}", "metrics_listen" },
		{ "{\"metrics_listen\": \"10.0.0.1:94x\"}", "metrics_listen" },
		{ "{\"metrics_listen\": 9474}", "metrics_listen" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct leafnet_conf c;
		struct lf_err e = { 0 };
		int r;

		write_conf(cases[i].text);
		r = conf_load(path, &c, &e);
		if (r >= 0 || e.code == 0 || strstr(e.msg, cases[i].want) == NULL ||
		    strstr(e.msg, path) == NULL)
			fail_msg("%s: r=%d code=%d msg=\"%s\", want \"%s\"",
				 cases[i].text, r, e.code, e.msg, cases[i].want);
	}
}

static void
test_long_socket(void **state)
{
	struct leafnet_conf c;
	struct lf_err e = { 0 };
	char text[400];
	(void)state;

	snprintf(text, sizeof(text), "{\"control_socket\": \"/%0120d\"}", 0);
	write_conf(text);
	assert_int_equal(conf_load(path, &c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "control_socket: longer than"));
}

static void
test_metrics_listen(void **state)
{
	static const struct {
		const char *text;
		int family;
		unsigned port;
	} good[] = {
		{ "{\"metrics_listen\": \"0.0.0.0:9100\"}", AF_INET, 9100 },
		{ "{\"metrics_listen\": \"[::1]:9474\"}", AF_INET6, 9474 },
		{ "{\"metrics_listen\": \"[fd00::1]:65535\"}", AF_INET6, 65535 },
		{ "{\"metrics_listen\": \"\"}", 0, 0 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		struct leafnet_conf c;
		struct sockaddr_storage ss;
		struct lf_err e = { 0 };

		write_conf(good[i].text);
		if (conf_load(path, &c, &e) < 0)
			fail_msg("%s: %s", good[i].text, e.msg);
		if (good[i].family == 0) {
			assert_string_equal(c.metrics_listen, "");
			continue;
		}
		assert_int_equal(conf_hostport_parse(c.metrics_listen, &ss), 0);
		assert_int_equal(ss.ss_family, good[i].family);
		assert_int_equal(ntohs(good[i].family == AF_INET ?
				       ((struct sockaddr_in *)&ss)->sin_port :
				       ((struct sockaddr_in6 *)&ss)->sin6_port), good[i].port);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_lookup_order),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_long_socket),
		cmocka_unit_test(test_metrics_listen),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
