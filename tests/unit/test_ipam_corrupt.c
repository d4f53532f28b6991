/* test_ipam_corrupt.c — damaged records on a real file store (and the
 * memory fake for read errors): every damage (cut short, garbage, a
 * directory where the record belongs, a read error) of an allocation, an
 * owner record, a network record and BGP records.  Nothing is lost: DEL
 * frees what the record held, a repeated ADD keeps its address, GC frees a
 * dead owner's damaged allocation, errors name the key, check/repair find
 * and remove the rest. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bgpconf.h"
#include "conf.h"
#include "err.h"
#include "ipam.h"
#include "network.h"
#include "prefix.h"
#include "store.h"
#include "store_backend.h"
#include "tmpstore.h"

enum damage { D_TRUNCATE, D_GARBAGE, D_DIR, D_GARBAGE_NEWFILE };
static const char *const damage_name[] = { "truncated", "garbage", "directory",
					   "garbage (own file)" };

static int
setup(void **state)
{
	return tmpstore_setup(state, "corrupt");
}

/* Damage the record under key in place (the links share it), or replace
 * it by a directory / by a file of its own. */
static void
damage(struct tmpstore *f, const char *key, enum damage d)
{
	char path[512], tmp[520];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", f->dir, key);
	switch (d) {
	case D_TRUNCATE:
		assert_int_equal(truncate(path, 7), 0);		/* cut short: `{"conta` */
		break;
	case D_GARBAGE:
		fd = open(path, O_WRONLY | O_TRUNC);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "\x01\xffgarbage\n", 10), 10);
		close(fd);
		break;
	case D_DIR:
		assert_int_equal(unlink(path), 0);
		assert_int_equal(mkdir(path, 0700), 0);
		break;
	case D_GARBAGE_NEWFILE:
		snprintf(tmp, sizeof(tmp), "%s.x", path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "not json", 8), 8);
		close(fd);
		assert_int_equal(rename(tmp, path), 0);
		break;
	}
}

static void
mknet(struct tmpstore *f, const char *name, const char *cidr)
{
	struct lf_err e = { 0 };
	struct network n;

	network_init(&n);
	snprintf(n.name, sizeof(n.name), "%s", name);
	assert_int_equal(prefix_parse(cidr, 0, &n.subnets[0].cidr), 0);
	n.n_subnets = 1;
	if (network_create(f->s, &n, &e) < 0)
		fail_msg("network_create %s: %s", name, e.msg);
}

static int
alloc(struct store *s, const char *net, const char *cid, char *ret, struct lf_err *e)
{
	struct ipam_addr out[IPAM_MAX_ADDRS];
	struct ipam_req req;
	size_t n = 0;
	int r;

	memset(&req, 0, sizeof(req));
	req.network = net;
	req.node = "n1";
	snprintf(req.owner.container_id, sizeof(req.owner.container_id), "%s", cid);
	snprintf(req.owner.ifname, sizeof(req.owner.ifname), "eth0");
	r = ipam_alloc(s, &req, out, IPAM_MAX_ADDRS, &n, e);
	if (r == 0) {
		assert_int_equal(n, 1);
		ipaddr_fmt(&out[0].addr, ret, IPADDR_STRLEN);
	}
	return r;
}

static size_t
n_alloc(struct store *s, const char *net)
{
	struct ipam_record *v = NULL;
	size_t n = 0;

	assert_int_equal(ipam_list(s, net, &v, &n), 0);
	free(v);
	return n;
}

static void
owner_key(struct store *s, const char *net, char *ret, size_t size)
{
	char dir[128], **names;
	size_t n;

	snprintf(dir, sizeof(dir), "owners/%s", net);
	assert_int_equal(store_list(s, dir, &names, &n, NULL), 0);
	if (n == 0)	/* a directory now */
		assert_int_equal(store_list_dirs(s, dir, &names, &n, NULL), 0);
	assert_int_equal(n, 1);
	snprintf(ret, size, "%s/%s", dir, names[0]);
	store_names_free(names, n);
}

/* An allocation record damaged: ADD keeps the address and mends it; DEL
 * frees it; ipam_check saw it in between. */
static void
test_alloc_damaged(void **state)
{
	struct tmpstore *f = *state;

	mknet(f, "pub", "10.20.0.0/24");
	for (int d = D_TRUNCATE; d <= D_GARBAGE_NEWFILE; d++) {
		char a[IPADDR_STRLEN], b[IPADDR_STRLEN], key[128], okey[256];
		struct ipam_broken *bad = NULL;
		struct lf_err e = { 0 };
		size_t n_bad = 0;

		/* the owner record replaced by a put (a repeated ADD that
		 * changed it) has a file of its own: damage only the alloc */
		assert_int_equal(alloc(f->s, "pub", "c1", a, &e), 0);
		snprintf(key, sizeof(key), "alloc/pub/%s", a);
		owner_key(f->s, "pub", okey, sizeof(okey));
		if (d == D_TRUNCATE || d == D_GARBAGE) {
			char *t;

			assert_int_equal(store_get(f->s, okey, &t, NULL), 0);
			assert_int_equal(store_put(f->s, okey, t, NULL), 0);	/* unlink */
			free(t);
		}
		damage(f, key, (enum damage)d);
		assert_int_equal(ipam_check(f->s, "pub", &bad, &n_bad, NULL), 0);
		assert_int_equal(n_bad, 1);
		assert_string_equal(bad[0].key, key);
		assert_non_null(strstr(bad[0].what, "c1/eth0"));
		free(bad);

		/* ADD again: the same address, the record mended */
		assert_int_equal(alloc(f->s, "pub", "c1", b, &e), 0);
		assert_string_equal(a, b);
		assert_int_equal(ipam_check(f->s, "pub", &bad, &n_bad, NULL), 0);
		assert_int_equal(n_bad, 0);
		free(bad);

		/* damaged again: another container never gets it, DEL frees it */
		damage(f, key, d == D_DIR ? D_DIR : D_GARBAGE_NEWFILE);
		assert_int_equal(alloc(f->s, "pub", "c2", b, &e), 0);
		assert_string_not_equal(a, b);
		assert_int_equal(ipam_release(f->s, "pub", "c1", "eth0", &e), 1);
		assert_int_equal(ipam_release(f->s, "pub", "c2", "eth0", &e), 1);
		assert_int_equal(n_alloc(f->s, "pub"), 0);
		print_message("alloc record %s: kept by ADD, freed by DEL\n", damage_name[d]);
	}
}

/* The owner record damaged: in place, the allocation (same file) is
 * damaged with it; as a file of its own (etcd's case) it is not. */
static void
test_owner_damaged(void **state)
{
	struct tmpstore *f = *state;

	mknet(f, "pub", "10.21.0.0/24");
	for (int d = D_TRUNCATE; d <= D_GARBAGE_NEWFILE; d++) {
		char a[IPADDR_STRLEN], b[IPADDR_STRLEN], okey[256];
		struct ipam_addr look[IPAM_MAX_ADDRS];
		struct lf_err e = { 0 };
		size_t n = 0;

		assert_int_equal(alloc(f->s, "pub", "c1", a, &e), 0);
		owner_key(f->s, "pub", okey, sizeof(okey));
		damage(f, okey, (enum damage)d);
		/* CHECK's lookup still finds it when the record can tell */
		assert_int_equal(ipam_lookup(f->s, "pub", "c1", "eth0", look, IPAM_MAX_ADDRS,
					     &n), 0);
		assert_int_equal(n, 1);
		/* ADD again keeps the address */
		assert_int_equal(alloc(f->s, "pub", "c1", b, &e), 0);
		assert_string_equal(a, b);
		/* DEL frees all of it */
		damage(f, okey, d == D_DIR ? D_DIR : (enum damage)d);
		assert_true(ipam_release(f->s, "pub", "c1", "eth0", &e) >= 1);
		assert_int_equal(n_alloc(f->s, "pub"), 0);
		print_message("owner record %s: ADD kept the address, DEL freed it\n",
			      damage_name[d]);
	}
}

static bool
keep_none(const struct ipam_record *r, void *arg)
{
	(void)r;
	(void)arg;
	return false;
}

/* GC on one node frees a damaged allocation its owner record names; one
 * nobody names is reported and kept until repaired. */
static void
test_gc_and_repair(void **state)
{
	struct tmpstore *f = *state;
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN], key[128], okey[256], *t;
	struct ipam_broken *bad = NULL;
	struct lf_err e = { 0 };
	size_t n_bad = 0;

	mknet(f, "pub", "10.22.0.0/24");
	assert_int_equal(alloc(f->s, "pub", "c1", a, &e), 0);
	owner_key(f->s, "pub", okey, sizeof(okey));
	assert_int_equal(store_get(f->s, okey, &t, NULL), 0);
	assert_int_equal(store_put(f->s, okey, t, NULL), 0);
	free(t);
	snprintf(key, sizeof(key), "alloc/pub/%s", a);
	damage(f, key, D_GARBAGE);
	assert_int_equal(ipam_gc(f->s, "n1", keep_none, NULL, &e), 1);
	assert_int_equal(n_alloc(f->s, "pub"), 0);

	/* both damaged in place: nobody can be told; kept, reported */
	assert_int_equal(alloc(f->s, "pub", "c2", b, &e), 0);
	owner_key(f->s, "pub", okey, sizeof(okey));
	damage(f, okey, D_GARBAGE);		/* the allocation too: one file */
	assert_int_equal(ipam_gc(f->s, "n1", keep_none, NULL, &e), 0);
	assert_int_equal(n_alloc(f->s, "pub"), 1);
	assert_int_equal(ipam_check(f->s, NULL, &bad, &n_bad, NULL), 0);
	assert_int_equal(n_bad, 2);
	snprintf(key, sizeof(key), "alloc/pub/%s", b);
	assert_string_equal(bad[0].key, key);
	assert_string_equal(bad[1].key, okey);
	free(bad);
	assert_int_equal(ipam_repair(f->s, "networks/pub", &e), -EBUSY);	/* reads fine */
	lf_err_clear(&e);
	assert_int_equal(ipam_repair(f->s, key, &e), 0);
	assert_int_equal(ipam_repair(f->s, okey, &e), 0);
	assert_int_equal(ipam_repair(f->s, okey, &e), -ENOENT);
	assert_int_equal(n_alloc(f->s, "pub"), 0);
	assert_int_equal(ipam_check(f->s, NULL, &bad, &n_bad, NULL), 0);
	assert_int_equal(n_bad, 0);
	free(bad);
}

/* A damaged network record: named in every error, listed as damaged. */
static void
test_network_damaged(void **state)
{
	struct tmpstore *f = *state;

	mknet(f, "good", "10.23.0.0/24");
	for (int d = D_TRUNCATE; d <= D_DIR; d++) {
		struct network *v = NULL, n;
		struct lf_err e = { 0 };
		char **bad = NULL, a[IPADDR_STRLEN];
		size_t nv = 0, nb = 0;

		mknet(f, "bad", "10.24.0.0/24");
		damage(f, "networks/bad", (enum damage)d);
		assert_true(network_get(f->s, "bad", &n, &e) < 0);
		assert_non_null(strstr(e.msg, "networks/bad"));
		lf_err_clear(&e);
		assert_true(alloc(f->s, "bad", "c1", a, &e) < 0);
		assert_non_null(strstr(e.msg, "networks/bad"));
		assert_int_equal(network_list_ex(f->s, &v, &nv, &bad, &nb, NULL), 0);
		assert_int_equal(nv, 1);
		assert_string_equal(v[0].name, "good");
		assert_int_equal(nb, 1);
		assert_string_equal(bad[0], "bad");
		free(v);
		store_names_free(bad, nb);
		assert_int_equal(ipam_repair(f->s, "networks/bad", &e), 0);
		print_message("network record %s: error names networks/bad\n", damage_name[d]);
	}
}

/* Read errors (EIO, EACCES) through the memory fake: never freed by
 * accident, the error names the key. */
static void
test_read_errors(void **state)
{
	struct leafnet_conf conf = { 0 };
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN], key[128];
	struct lf_err e = { 0 };
	struct network net;
	struct store *s;
	void *m;

	(void)state;
	assert_int_equal(store_open_ops(&store_mem_ops, &conf, &s, NULL), 0);
	m = store_backend_of(s, &store_mem_ops);
	network_init(&net);
	snprintf(net.name, sizeof(net.name), "pub");
	assert_int_equal(prefix_parse("10.25.0.0/24", 0, &net.subnets[0].cidr), 0);
	net.n_subnets = 1;
	assert_int_equal(network_create(s, &net, NULL), 0);
	assert_int_equal(alloc(s, "pub", "c1", a, &e), 0);
	snprintf(key, sizeof(key), "alloc/pub/%s", a);
	for (int err = EIO; err; err = err == EIO ? EACCES : 0) {
		store_mem_fail(m, key, -err, "injected");
		/* another ADD never takes it */
		assert_int_equal(alloc(s, "pub", "c2", b, &e), 0);
		assert_string_not_equal(a, b);
		assert_int_equal(ipam_release(s, "pub", "c2", "eth0", &e), 1);
		/* DEL cannot delete it: fails, naming the key */
		lf_err_clear(&e);
		assert_int_equal(ipam_release(s, "pub", "c1", "eth0", &e), -err);
		assert_non_null(strstr(e.msg, key));
		lf_err_clear(&e);
	}
	/* once readable again, DEL frees it */
	store_mem_fail(m, NULL, 0, NULL);
	assert_int_equal(ipam_release(s, "pub", "c1", "eth0", &e), 1);
	assert_int_equal(n_alloc(s, "pub"), 0);
	/* a network record that cannot be read: named */
	store_mem_fail(m, "networks/pub", -EIO, "injected");
	assert_true(network_get(s, "pub", &net, &e) < 0);
	assert_non_null(strstr(e.msg, "networks/pub"));
	store_mem_fail(m, NULL, 0, NULL);
	store_free(s);
}

/* BGP: a damaged peer / node / config record is skipped by the lists,
 * listed by bgpconf_damaged(), and can be removed. */
static void
test_bgp_damaged(void **state)
{
	struct tmpstore *f = *state;
	struct bgp_peer p = { 0 }, *peers = NULL;
	struct bgp_node *nodes = NULL;
	struct bgp_node_set_req nr = { 0 };
	struct bgp_config c;
	struct lf_err e = { 0 };
	char **lines = NULL;
	size_t n = 0;

	assert_int_equal(ipaddr_parse("10.9.0.1", &p.addr), 0);
	p.as = 65001;
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, &e), 0);
	assert_int_equal(ipaddr_parse("10.9.0.2", &p.addr), 0);
	assert_int_equal(bgpconf_peer_add(f->s, NULL, &p, &e), 0);
	assert_int_equal(ipaddr_parse("10.9.0.3", &p.addr), 0);
	assert_int_equal(bgpconf_peer_add(f->s, "n1", &p, &e), 0);
	nr.node = "n2";
	nr.set_as = true;
	nr.as = 65002;
	assert_int_equal(bgpconf_node_set(f->s, &nr, &e), 0);
	assert_int_equal(bgpconf_set_mesh(f->s, false, &e), 0);

	damage(f, "bgp/peers/10.9.0.1", D_GARBAGE);
	damage(f, "nodes/n1", D_TRUNCATE);
	damage(f, "bgp/config", D_DIR);
	assert_int_equal(bgpconf_peer_list(f->s, NULL, &peers, &n, &e), 0);
	assert_int_equal(n, 1);		/* 10.9.0.2 */
	free(peers);
	assert_int_equal(bgpconf_node_list(f->s, &nodes, &n, &e), 0);
	assert_int_equal(n, 1);		/* n2 */
	bgpconf_nodes_free(nodes, n);
	assert_int_equal(bgpconf_damaged(f->s, &lines, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_non_null(strstr(lines[0], "bgp/config"));
	assert_non_null(strstr(lines[1], "bgp/peers/10.9.0.1"));
	assert_non_null(strstr(lines[2], "nodes/n1"));
	store_names_free(lines, n);

	/* each can be removed or rewritten */
	assert_int_equal(ipaddr_parse("10.9.0.1", &p.addr), 0);
	assert_int_equal(bgpconf_peer_remove(f->s, NULL, &p.addr, &e), 0);
	assert_int_equal(bgpconf_node_remove(f->s, "n1", &e), 0);
	assert_int_equal(bgpconf_set_mesh(f->s, true, &e), 0);
	assert_int_equal(bgpconf_get(f->s, &c, &e), 0);
	assert_true(c.node_mesh);
	assert_int_equal(bgpconf_damaged(f->s, &lines, &n, &e), 0);
	assert_int_equal(n, 0);
	store_names_free(lines, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alloc_damaged, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_owner_damaged, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_gc_and_repair, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_network_damaged, setup, tmpstore_teardown),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test_setup_teardown(test_bgp_damaged, setup, tmpstore_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
