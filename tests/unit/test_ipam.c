/* test_ipam.c — allocation on a real file store: idempotency, release,
 * reserved addresses, exhaustion, statics, dual stack, per-node blocks,
 * borrowing, GC, and 30 processes allocating at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
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
	return tmpstore_setup(state, "ipam");
}

/* Create a network: cidr6 and gw may be NULL, block 0 = default. */
static void
mknet(struct tmpstore *f, const char *name, const char *cidr, const char *gw,
      const char *cidr6, unsigned block4)
{
	struct lf_err e = { 0 };
	struct network n;

	network_init(&n);
	snprintf(n.name, sizeof(n.name), "%s", name);
	if (cidr) {
		assert_int_equal(prefix_parse(cidr, 0, &n.subnets[n.n_subnets].cidr), 0);
		if (gw)
			assert_int_equal(ipaddr_parse(gw, &n.subnets[n.n_subnets].gateway), 0);
		n.n_subnets++;
	}
	if (cidr6) {
		assert_int_equal(prefix_parse(cidr6, 0, &n.subnets[n.n_subnets].cidr), 0);
		n.n_subnets++;
	}
	if (block4)
		n.block_size4 = (uint8_t)block4;
	if (network_create(f->s, &n, &e) < 0)
		fail_msg("network_create %s: %s", name, e.msg);
}

static void
mkreq(struct ipam_req *req, const char *net, const char *node, const char *cid)
{
	memset(req, 0, sizeof(*req));
	req->network = net;
	req->node = node;
	snprintf(req->owner.container_id, sizeof(req->owner.container_id), "%s", cid);
	snprintf(req->owner.ifname, sizeof(req->owner.ifname), "eth0");
	snprintf(req->owner.handle, sizeof(req->owner.handle), "test:%s", cid);
}

static const char *
fmt(const struct ipaddr *a)
{
	static char buf[4][IPADDR_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return ipaddr_fmt(a, buf[i], sizeof(buf[i]));
}

/* Allocate one address for cid on node; returns it formatted. */
static const char *
alloc1(struct tmpstore *f, const char *net, const char *node, const char *cid,
       struct ipam_addr *ret)
{
	struct ipam_addr out[IPAM_MAX_ADDRS];
	struct lf_err e = { 0 };
	struct ipam_req req;
	size_t n = 0;
	int r;

	mkreq(&req, net, node, cid);
	r = ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e);
	if (r < 0)
		fail_msg("ipam_alloc %s/%s: %d %s", net, cid, r, e.msg);
	assert_int_equal(n, 1);
	if (ret)
		*ret = out[0];
	return fmt(&out[0].addr);
}

static void
test_idempotent_and_release(void **state)
{
	struct tmpstore *f = *state;
	struct ipam_addr a, b, look[IPAM_MAX_ADDRS];
	char first[IPADDR_STRLEN];
	size_t n;

	mknet(f, "public", "10.1.0.0/24", "10.1.0.1", NULL, 0);
	snprintf(first, sizeof(first), "%s", alloc1(f, "public", "n1", "c1", &a));
	assert_string_equal(first, "10.1.0.2");	/* .0 network, .1 gateway */
	assert_false(a.borrowed);
	assert_string_equal(fmt(&a.gateway), "10.1.0.1");
	char pbuf[PREFIX_STRLEN];
	assert_string_equal(prefix_fmt(&a.subnet, pbuf, sizeof(pbuf)), "10.1.0.0/24");
	assert_string_equal(prefix_fmt(&a.block, pbuf, sizeof(pbuf)), "10.1.0.0/26");

	/* the same ADD again: the same answer, nothing new */
	assert_string_equal(alloc1(f, "public", "n1", "c1", &b), first);
	assert_int_equal(ipam_lookup(f->s, "public", "c1", "eth0", look, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(fmt(&look[0].addr), first);

	/* another interface of the same container is another owner */
	struct ipam_req req;
	struct ipam_addr out[IPAM_MAX_ADDRS];
	mkreq(&req, "public", "n1", "c1");
	snprintf(req.owner.ifname, sizeof(req.owner.ifname), "net1");
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, NULL), 0);
	assert_string_equal(fmt(&out[0].addr), "10.1.0.3");

	assert_int_equal(ipam_release(f->s, "public", "c1", "eth0", NULL), 1);
	assert_int_equal(ipam_release(f->s, "public", "c1", "eth0", NULL), 0);
	assert_int_equal(ipam_release(f->s, "public", "never", "eth0", NULL), 0);
	assert_int_equal(ipam_lookup(f->s, "public", "c1", "eth0", look, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ipam_lookup(f->s, "public", "c1", "net1", look, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 1);

	/* round robin: the address just released is not handed out again
	 * while others are free */
	assert_string_equal(alloc1(f, "public", "n1", "c2", NULL), "10.1.0.4");
	assert_string_equal(alloc1(f, "public", "n1", "c3", NULL), "10.1.0.5");

	/* unknown network */
	struct lf_err e = { 0 };
	mkreq(&req, "nope", "n1", "c9");
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e), -ENOENT);
	assert_int_equal(e.code, LF_E_NOT_FOUND);
}

static void
test_reserved_and_exhaustion(void **state)
{
	struct tmpstore *f = *state;
	struct ipam_addr out[IPAM_MAX_ADDRS];
	struct lf_err e = { 0 };
	struct ipam_req req;
	char seen[8] = { 0 };
	size_t n;

	mknet(f, "tiny", "10.2.0.0/29", "10.2.0.3", NULL, 0);
	for (int i = 0; i < 5; i++) {
		char cid[16];
		struct ipaddr a;

		snprintf(cid, sizeof(cid), "c%d", i);
		assert_int_equal(ipaddr_parse(alloc1(f, "tiny", "n1", cid, NULL), &a), 0);
		assert_int_equal(a.u.b[0], 10);
		assert_int_equal(a.u.b[2], 0);
		assert_true(a.u.b[3] < 8);
		assert_false(seen[a.u.b[3]]);
		seen[a.u.b[3]] = 1;
	}
	/* exactly .1 .2 .4 .5 .6: never .0, .3 (gateway) or .7 (broadcast) */
	assert_memory_equal(seen, ((char[8]){ 0, 1, 1, 0, 1, 1, 1, 0 }), 8);

	mkreq(&req, "tiny", "n1", "c-last");
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e), -ENOSPC);
	assert_int_equal(e.code, LF_E_POOL_EXHAUSTED);
	assert_non_null(strstr(e.msg, "network tiny"));
	assert_non_null(strstr(e.msg, "10.2.0.0/29"));
	/* the failed call left nothing behind */
	assert_int_equal(ipam_lookup(f->s, "tiny", "c-last", "eth0", out, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 0);

	/* freeing one makes room again */
	assert_int_equal(ipam_release(f->s, "tiny", "c2", "eth0", NULL), 1);
	lf_err_clear(&e);
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e), 0);
}

static void
test_static(void **state)
{
	struct tmpstore *f = *state;
	struct ipam_addr out[IPAM_MAX_ADDRS];
	struct lf_err e = { 0 };
	struct ipam_req req;
	size_t n;

	mknet(f, "public", "10.3.0.0/24", "10.3.0.1", NULL, 0);
	mkreq(&req, "public", "n1", "c1");
	req.n_static = 1;
	assert_int_equal(ipaddr_parse("10.3.0.200", &req.statics[0]), 0);
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(fmt(&out[0].addr), "10.3.0.200");
	assert_true(out[0].borrowed);		/* in no block of this node */
	/* repeated: same */
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e), 0);
	assert_string_equal(fmt(&out[0].addr), "10.3.0.200");

	/* taken by someone else */
	mkreq(&req, "public", "n1", "c2");
	req.n_static = 1;
	assert_int_equal(ipaddr_parse("10.3.0.200", &req.statics[0]), 0);
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e), -EADDRINUSE);
	assert_int_equal(e.code, LF_E_ADDR_IN_USE);
	assert_non_null(strstr(e.msg, "10.3.0.200"));
	assert_non_null(strstr(e.msg, "c1"));

	/* outside the subnet, and reserved ones */
	static const char *const bad[] = { "10.4.0.5", "10.3.0.0", "10.3.0.255", "10.3.0.1" };
	static const char *const why[] = { "not inside network public", "network address",
					   "broadcast address", "gateway" };
	for (size_t i = 0; i < 4; i++) {
		lf_err_clear(&e);
		assert_int_equal(ipaddr_parse(bad[i], &req.statics[0]), 0);
		assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e), -EINVAL);
		assert_int_equal(e.code, LF_E_INVALID);
		if (!strstr(e.msg, why[i]) || !strstr(e.msg, bad[i]))
			fail_msg("%s: \"%s\"", bad[i], e.msg);
	}
	/* nothing was left allocated by the failures */
	assert_int_equal(ipam_lookup(f->s, "public", "c2", "eth0", out, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 0);

	/* a static address inside this node's block is not borrowed */
	assert_string_equal(alloc1(f, "public", "n1", "c3", NULL), "10.3.0.2");
	mkreq(&req, "public", "n1", "c4");
	req.n_static = 1;
	assert_int_equal(ipaddr_parse("10.3.0.10", &req.statics[0]), 0);
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, NULL), 0);
	assert_false(out[0].borrowed);
	/* and the dynamic allocator steps over it */
	for (int i = 3; i < 10; i++) {
		char cid[16];
		snprintf(cid, sizeof(cid), "d%d", i);
		(void)alloc1(f, "public", "n1", cid, NULL);
	}
	assert_string_equal(alloc1(f, "public", "n1", "d10", NULL), "10.3.0.11");
}

static void
test_dual_stack(void **state)
{
	struct tmpstore *f = *state;
	struct ipam_addr out[IPAM_MAX_ADDRS];
	struct lf_err e = { 0 };
	struct ipam_req req;
	size_t n;

	mknet(f, "dual", "10.5.0.0/24", NULL, "fd00:5::/64", 0);
	mknet(f, "v4only", "10.6.0.0/24", NULL, NULL, 0);
	mkreq(&req, "dual", "n1", "c1");
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(fmt(&out[0].addr), "10.5.0.1");
	assert_string_equal(fmt(&out[1].addr), "fd00:5::1");
	char pbuf[PREFIX_STRLEN];
	assert_string_equal(prefix_fmt(&out[1].block, pbuf, sizeof(pbuf)), "fd00:5::/122");
	assert_false(out[1].borrowed);
	/* one file for the owner: linked as both allocations and the index */
	char path[sizeof(f->dir) + 64];
	struct stat st;
	snprintf(path, sizeof(path), "%s/alloc/dual/fd00:5::1", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_nlink, 3);
	/* a release leaves the other links' content alone */
	struct ipaddr a4;
	assert_int_equal(ipaddr_parse("10.5.0.1", &a4), 0);
	assert_int_equal(ipam_release_addr(f->s, "dual", &a4, NULL), 1);
	assert_int_equal(ipam_lookup(f->s, "dual", "c1", "eth0", out, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(fmt(&out[0].addr), "fd00:5::1");
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e), 0);
	assert_int_equal(n, 2);		/* a repeated ADD mends what is missing */
	assert_string_equal(fmt(&out[0].addr), "10.5.0.2");
	assert_string_equal(fmt(&out[1].addr), "fd00:5::1");

	mkreq(&req, "dual", "n1", "c2");
	req.families = IPAM_F_V6;
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(fmt(&out[0].addr), "fd00:5::2");

	/* v4 static, v6 dynamic */
	mkreq(&req, "dual", "n1", "c3");
	req.n_static = 1;
	assert_int_equal(ipaddr_parse("10.5.0.77", &req.statics[0]), 0);
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(fmt(&out[0].addr), "10.5.0.77");
	assert_string_equal(fmt(&out[1].addr), "fd00:5::3");
	assert_int_equal(ipam_release(f->s, "dual", "c3", "eth0", NULL), 2);

	mkreq(&req, "v4only", "n1", "c1");
	req.families = IPAM_F_V6;
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e), -EINVAL);
	assert_int_equal(e.code, LF_E_INVALID);
	assert_non_null(strstr(e.msg, "network v4only has no IPv6 subnet"));
}

static void
test_blocks_per_node(void **state)
{
	struct tmpstore *f = *state;
	struct ipam_block *blocks;
	struct ipam_addr a, b;
	char pbuf[PREFIX_STRLEN];
	size_t n;

	mknet(f, "public", "10.7.0.0/24", NULL, NULL, 0);
	(void)alloc1(f, "public", "node-a", "a1", &a);
	(void)alloc1(f, "public", "node-b", "b1", &b);
	(void)alloc1(f, "public", "node-a", "a2", NULL);
	assert_string_equal(fmt(&a.addr), "10.7.0.1");
	assert_string_equal(fmt(&b.addr), "10.7.0.64");	/* a block's first address is usable */
	assert_false(prefix_overlaps(&a.block, &b.block));
	assert_false(a.borrowed);
	assert_false(b.borrowed);

	assert_int_equal(ipam_blocks(f->s, "public", &blocks, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(prefix_fmt(&blocks[0].cidr, pbuf, sizeof(pbuf)), "10.7.0.0/26");
	assert_string_equal(blocks[0].node, "node-a");
	assert_int_equal(blocks[0].n_used, 2);
	assert_string_equal(prefix_fmt(&blocks[1].cidr, pbuf, sizeof(pbuf)), "10.7.0.64/26");
	assert_string_equal(blocks[1].node, "node-b");
	assert_int_equal(blocks[1].n_used, 1);
	free(blocks);

	/* a release keeps the block: it is the node's affinity */
	assert_int_equal(ipam_release(f->s, "public", "b1", "eth0", NULL), 1);
	assert_int_equal(ipam_blocks(f->s, "public", &blocks, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(blocks[1].n_used, 0);
	free(blocks);
}

static void
test_borrow(void **state)
{
	struct tmpstore *f = *state;
	struct ipam_block *blocks;
	struct ipam_addr a;
	char pbuf[PREFIX_STRLEN];
	size_t n;

	/* a /28 in /30 blocks: 4 blocks; .0 and .15 are reserved */
	mknet(f, "small", "10.8.0.0/28", NULL, NULL, 30);
	(void)alloc1(f, "small", "n1", "x1", &a);
	assert_string_equal(fmt(&a.addr), "10.8.0.1");
	(void)alloc1(f, "small", "n2", "y1", &a);
	assert_string_equal(fmt(&a.addr), "10.8.0.4");
	(void)alloc1(f, "small", "n3", "z1", &a);
	assert_string_equal(fmt(&a.addr), "10.8.0.8");
	(void)alloc1(f, "small", "n4", "w1", &a);
	assert_string_equal(fmt(&a.addr), "10.8.0.12");
	/* n1 fills its block, then has to borrow: every block is claimed */
	(void)alloc1(f, "small", "n1", "x2", &a);
	assert_string_equal(fmt(&a.addr), "10.8.0.2");
	(void)alloc1(f, "small", "n1", "x3", &a);
	assert_string_equal(fmt(&a.addr), "10.8.0.3");
	/* borrowed from the top of the next block down, away from its
	 * owner's next address (.5) */
	(void)alloc1(f, "small", "n1", "x4", &a);
	assert_true(a.borrowed);
	assert_string_equal(fmt(&a.addr), "10.8.0.7");
	assert_string_equal(prefix_fmt(&a.block, pbuf, sizeof(pbuf)), "10.8.0.4/30");
	/* a fifth node has no block at all and still gets an address */
	(void)alloc1(f, "small", "n5", "v1", &a);
	assert_true(a.borrowed);
	assert_int_equal(ipam_blocks(f->s, "small", &blocks, &n), 0);
	assert_int_equal(n, 4);
	free(blocks);

	/* own block of another size: a network whose node fills a block
	 * claims the next one */
	mknet(f, "grow", "10.9.0.0/24", NULL, NULL, 30);
	for (int i = 0; i < 4; i++) {
		char cid[8];
		snprintf(cid, sizeof(cid), "g%d", i);
		(void)alloc1(f, "grow", "n1", cid, &a);
	}
	assert_string_equal(fmt(&a.addr), "10.9.0.4");
	assert_false(a.borrowed);
	assert_string_equal(prefix_fmt(&a.block, pbuf, sizeof(pbuf)), "10.9.0.4/30");
}

/* /32 blocks: one address each, the subnet's network address is a block
 * holding nothing assignable and is stepped over. */
static void
test_host_blocks(void **state)
{
	struct tmpstore *f = *state;
	struct ipam_addr a;
	char pbuf[PREFIX_STRLEN];

	mknet(f, "pt", "10.15.0.0/29", NULL, NULL, 32);
	(void)alloc1(f, "pt", "n1", "a", &a);
	assert_string_equal(fmt(&a.addr), "10.15.0.1");
	assert_false(a.borrowed);
	assert_string_equal(prefix_fmt(&a.block, pbuf, sizeof(pbuf)), "10.15.0.1/32");
	(void)alloc1(f, "pt", "n2", "b", &a);
	assert_string_equal(fmt(&a.addr), "10.15.0.2");
	assert_false(a.borrowed);
}

/* FNV-1a as ipam_rec.c computes the owner key, to fake a collision. */
static void
owner_key(char *buf, size_t size, const char *net, const char *cid, const char *ifname)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i <= strlen(cid); i++)
		h = (h ^ (unsigned char)cid[i]) * 0x100000001b3ULL;
	for (size_t i = 0; i < strlen(ifname); i++)
		h = (h ^ (unsigned char)ifname[i]) * 0x100000001b3ULL;
	snprintf(buf, size, "owners/%s/%016llx-%s", net, (unsigned long long)h, ifname);
}

/* An owner index under our key that names someone else (a hash collision)
 * never hands their addresses to us, nor lets us release them. */
static void
test_owner_collision(void **state)
{
	struct tmpstore *f = *state;
	struct ipam_addr out[IPAM_MAX_ADDRS];
	struct lf_err e = { 0 };
	struct ipam_req req;
	char key[256], mine[256], *text;
	size_t n;

	mknet(f, "public", "10.16.0.0/24", NULL, NULL, 0);
	(void)alloc1(f, "public", "n1", "intruder", NULL);
	owner_key(key, sizeof(key), "public", "intruder", "eth0");
	assert_int_equal(store_get(f->s, key, &text, NULL), 0);	/* our key scheme */
	owner_key(mine, sizeof(mine), "public", "victim", "eth0");
	assert_int_equal(store_put(f->s, mine, text, NULL), 0);
	free(text);

	assert_int_equal(ipam_lookup(f->s, "public", "victim", "eth0", out, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ipam_release(f->s, "public", "victim", "eth0", NULL), 0);
	mkreq(&req, "public", "n1", "victim");
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, &e), -ENOTUNIQ);
	assert_int_equal(e.code, LF_E_INTERNAL);
	/* the intruder still holds its address */
	assert_int_equal(ipam_lookup(f->s, "public", "intruder", "eth0", out, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(fmt(&out[0].addr), "10.16.0.1");
}

struct keep_arg {
	const char *drop[4];
	int calls;
};

static bool
keep_cb(const struct ipam_record *r, void *arg)
{
	struct keep_arg *k = arg;

	k->calls++;
	for (size_t i = 0; i < 4 && k->drop[i]; i++)
		if (strcmp(r->owner.container_id, k->drop[i]) == 0)
			return false;
	return true;
}

static void
test_gc(void **state)
{
	struct tmpstore *f = *state;
	struct keep_arg k = { .drop = { "c2", "c4" } };
	struct ipam_addr out[IPAM_MAX_ADDRS];
	struct ipam_record *recs;
	char **names;
	size_t n;

	mknet(f, "public", "10.10.0.0/24", NULL, NULL, 0);
	mknet(f, "other", "10.11.0.0/24", NULL, NULL, 0);
	(void)alloc1(f, "public", "n1", "c1", NULL);
	(void)alloc1(f, "public", "n1", "c2", NULL);
	(void)alloc1(f, "public", "n1", "c3", NULL);
	(void)alloc1(f, "public", "n2", "c4", NULL);
	(void)alloc1(f, "other", "n1", "c2", NULL);

	assert_int_equal(ipam_list(f->s, NULL, &recs, &n), 0);
	assert_int_equal(n, 5);
	assert_string_equal(recs[0].network, "other");
	assert_string_equal(recs[1].network, "public");
	assert_string_equal(recs[1].owner.container_id, "c1");
	assert_string_equal(recs[1].owner.handle, "test:c1");
	assert_string_equal(recs[1].node, "n1");
	assert_true(recs[1].created > 0);
	free(recs);

	/* only node n1's allocations are judged: c2 twice, c4 (n2) stays */
	assert_int_equal(ipam_gc(f->s, "n1", keep_cb, &k, NULL), 2);
	assert_int_equal(k.calls, 4);
	assert_int_equal(ipam_lookup(f->s, "public", "c2", "eth0", out, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ipam_lookup(f->s, "public", "c4", "eth0", out, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ipam_list(f->s, "public", &recs, &n), 0);
	assert_int_equal(n, 3);
	free(recs);

	/* any node */
	assert_int_equal(ipam_gc(f->s, NULL, keep_cb, &k, NULL), 1);
	assert_int_equal(ipam_list(f->s, NULL, &recs, &n), 0);
	assert_int_equal(n, 2);
	free(recs);

	/* an owner index whose allocation vanished is dropped */
	assert_int_equal(store_list(f->s, "owners/public", &names, &n, NULL), 0);
	store_names_free(names, n);
	assert_int_equal(n, 2);
	assert_int_equal(store_delete(f->s, "alloc/public/10.10.0.1", NULL), 0);
	assert_int_equal(ipam_gc(f->s, NULL, keep_cb, &k, NULL), 0);
	assert_int_equal(store_list(f->s, "owners/public", &names, &n, NULL), 0);
	store_names_free(names, n);
	assert_int_equal(n, 1);

	/* an allocation whose owner index is gone (a crash between the two
	 * writes) is found by GC */
	assert_int_equal(store_list(f->s, "owners/public", &names, &n, NULL), 0);
	assert_int_equal(n, 1);
	char key[256];
	snprintf(key, sizeof(key), "owners/public/%s", names[0]);
	store_names_free(names, n);
	assert_int_equal(store_delete(f->s, key, NULL), 0);
	k.drop[0] = "c3";
	assert_int_equal(ipam_gc(f->s, NULL, keep_cb, &k, NULL), 1);
	assert_int_equal(ipam_list(f->s, NULL, &recs, &n), 0);
	assert_int_equal(n, 0);
	free(recs);
	assert_int_equal(ipam_gc(f->s, NULL, NULL, NULL, NULL), -EINVAL);
}

/* An ADD killed after it wrote an allocation but before its owner index,
 * then retried, took another address: the first allocation names a live
 * container but its index does not list it.  GC frees it, keeps the live
 * one, and judges the same the second time. */
static void
test_gc_orphan(void **state)
{
	struct tmpstore *f = *state;
	struct keep_arg k = { .drop = { NULL } };
	struct ipam_addr out[IPAM_MAX_ADDRS];
	char *text;
	size_t n;

	mknet(f, "public", "10.17.0.0/24", NULL, NULL, 0);
	(void)alloc1(f, "public", "n1", "c1", NULL);
	assert_int_equal(store_get(f->s, "alloc/public/10.17.0.1", &text, NULL), 0);
	assert_int_equal(store_put(f->s, "alloc/public/10.17.0.9", text, NULL), 0);
	free(text);
	assert_int_equal(ipam_gc(f->s, "n1", keep_cb, &k, NULL), 1);
	assert_int_equal(store_get(f->s, "alloc/public/10.17.0.9", &text, NULL), -ENOENT);
	assert_int_equal(ipam_lookup(f->s, "public", "c1", "eth0", out, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(fmt(&out[0].addr), "10.17.0.1");
	assert_int_equal(ipam_gc(f->s, "n1", keep_cb, &k, NULL), 0);
	assert_int_equal(ipam_lookup(f->s, "public", "c1", "eth0", out, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 1);
}

static void
test_release_addr(void **state)
{
	struct tmpstore *f = *state;
	struct ipam_addr out[IPAM_MAX_ADDRS];
	struct ipam_req req;
	size_t n;

	mknet(f, "dual", "10.12.0.0/24", NULL, "fd00:12::/64", 0);
	mkreq(&req, "dual", "n1", "c1");
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, NULL), 0);
	assert_int_equal(n, 2);
	struct ipaddr v6 = out[1].addr;
	assert_int_equal(ipam_release_addr(f->s, "dual", &out[0].addr, NULL), 1);
	assert_int_equal(ipam_release_addr(f->s, "dual", &out[0].addr, NULL), 0);
	assert_int_equal(ipam_lookup(f->s, "dual", "c1", "eth0", out, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 1);
	assert_true(ipaddr_eq(&out[0].addr, &v6));
	/* a repeated ADD fills the missing family again, keeps the v6 one */
	assert_int_equal(ipam_alloc(f->s, &req, out, IPAM_MAX_ADDRS, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].addr.family, AF_INET);
	assert_true(ipaddr_eq(&out[1].addr, &v6));

	assert_int_equal(ipam_purge_network(f->s, "dual"), 2);
	assert_int_equal(ipam_lookup(f->s, "dual", "c1", "eth0", out, IPAM_MAX_ADDRS, &n), 0);
	assert_int_equal(n, 0);
}

#define NPROC 30

static void
test_concurrent(void **state)
{
	struct tmpstore *f = *state;
	struct ipam_record *recs;
	pid_t pids[NPROC];
	int fds[2];
	size_t n;

	mknet(f, "busy", "10.13.0.0/24", NULL, NULL, 0);
	assert_int_equal(pipe(fds), 0);
	for (int i = 0; i < NPROC; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct ipam_addr out[IPAM_MAX_ADDRS];
			struct ipam_req req;
			struct store *s;
			char cid[16], line[64];
			int len;

			close(fds[0]);
			if (store_open(&f->conf, &s, NULL) < 0)
				_exit(2);
			snprintf(cid, sizeof(cid), "p%d", i);
			mkreq(&req, "busy", i % 2 ? "n1" : "n2", cid);
			if (ipam_alloc(s, &req, out, IPAM_MAX_ADDRS, &n, NULL) < 0 || n != 1)
				_exit(3);
			len = snprintf(line, sizeof(line), "%-20s\n", fmt(&out[0].addr));
			if (write(fds[1], line, (size_t)len) != len)	/* < PIPE_BUF: atomic */
				_exit(4);
			store_free(s);
			_exit(0);
		}
	}
	close(fds[1]);
	for (int i = 0; i < NPROC; i++) {
		int st;
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	char all[NPROC][21];	/* "%-20s\n" */
	ssize_t got = 0, r;
	while ((r = read(fds[0], (char *)all + got, sizeof(all) - (size_t)got)) > 0)
		got += r;
	close(fds[0]);
	assert_int_equal(got, sizeof(all));
	for (int i = 0; i < NPROC; i++)
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(all[i], all[j], sizeof(all[i]));
	assert_int_equal(ipam_list(f->s, "busy", &recs, &n), 0);
	assert_int_equal(n, NPROC);
	free(recs);
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Not a benchmark, a guard: an ADD must not get slower as the network
 * fills (no whole-directory listing on the hot path).  Absolute times are
 * the file system's (three small file writes per ADD); TMPDIR=/dev/shm
 * shows the IPAM's own cost. */
static void
test_speed(void **state)
{
	struct tmpstore *f = *state;
	struct timespec t0;
	double first = 0, last = 0;
	int count = 400, batch = 100;

	mknet(f, "big", "10.14.0.0/20", NULL, NULL, 0);
	for (int i = 0; i < count; i++) {
		char cid[16];

		if (i % batch == 0)
			clock_gettime(CLOCK_MONOTONIC, &t0);
		snprintf(cid, sizeof(cid), "s%d", i);
		(void)alloc1(f, "big", "n1", cid, NULL);
		if (i == batch - 1)
			first = ms_since(&t0) / batch;
		if (i == count - 1)
			last = ms_since(&t0) / batch;
	}
	print_message("ADD: %.3f ms each for the first %d, %.3f ms with %d allocated "
		      "(fsync off, %s)\n", first, batch, last, count - batch,
		      getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_true(last < 8 * first + 1.0);	/* loose: disks are noisy */
	assert_true(last < 50.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idempotent_and_release, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_reserved_and_exhaustion, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_static, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_dual_stack, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_blocks_per_node, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_borrow, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_host_blocks, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_owner_collision, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_gc_orphan, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_gc, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_release_addr, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_speed, setup, tmpstore_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
