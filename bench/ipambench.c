/* ipambench.c — ipam_alloc / ipam_release timed directly, in-process, on a
 * file store: the IPAM and store part of a CNI ADD and DEL without process
 * start or netlink (bench/ipam_bench runs it beside the same loop built
 * from a reference tree, in one run).
 *
 *	ipambench DIR [N] [LIVE]
 *
 * DIR: an empty directory for the state (on the file system the real state
 * dir is on: creating a file under /tmp costs much more than under /var/lib
 * here).  One network (10.100.0.0/16, /26 blocks), one node; N ADDs (200),
 * each releasing the ADD LIVE (20) before it, so the node holds LIVE
 * containers throughout (steady state, round robin through its blocks), then
 * the LIVE left are released.  fsync on, as the CNI plugin's default.
 * Prints one line: "alloc p50 P p99 P release p50 P p99 P" in ms.
 * Only calls that exist in every tree it is built against (the public
 * store/ipam/network API). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "err.h"
#include "ipam.h"
#include "network.h"
#include "prefix.h"
#include "store.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return n ? v[i < n ? i : n - 1] : 0;
}

static void
cid(char *buf, size_t size, unsigned i)
{
	snprintf(buf, size, "bench%064u", i);	/* CNI ids are 64 hex digits */
}

static void
die(const char *what, const struct lf_err *e)
{
	fprintf(stderr, "ipambench: %s: %s\n", what, e->msg);
	exit(1);
}

int
main(int argc, char **argv)
{
	unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 200;
	unsigned live = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 20;
	struct leafnet_conf conf;
	struct network net;
	struct store *s;
	struct lf_err e = { 0 };
	double *ta, *tr;
	size_t na = 0, nr = 0;

	if (argc < 2 || n == 0) {
		fprintf(stderr, "usage: ipambench DIR [N] [LIVE]\n");
		return 2;
	}
	conf_defaults(&conf);
	snprintf(conf.state_dir, sizeof(conf.state_dir), "%s", argv[1]);
	snprintf(conf.node_name, sizeof(conf.node_name), "h1");
	if (store_open(&conf, &s, &e) < 0)
		die("store_open", &e);
	network_init(&net);
	snprintf(net.name, sizeof(net.name), "b");
	if (prefix_parse("10.100.0.0/16", 0, &net.subnets[0].cidr) < 0)
		return 1;
	net.n_subnets = 1;
	net.block_size4 = 26;
	if (network_create(s, &net, &e) < 0)
		die("network_create", &e);
	ta = calloc(n, sizeof(*ta));
	tr = calloc(n + live, sizeof(*tr));
	if (!ta || !tr)
		return 1;
	for (unsigned i = 0; i < n + live; i++) {
		char id[IPAM_ID_MAX];
		double t0;

		if (i < n) {
			struct ipam_req req;
			struct ipam_addr a[2];
			size_t got = 0;

			memset(&req, 0, sizeof(req));
			req.network = "b";
			req.node = "h1";
			cid(req.owner.container_id, sizeof(req.owner.container_id), i);
			snprintf(req.owner.ifname, sizeof(req.owner.ifname), "eth0");
			snprintf(req.owner.handle, sizeof(req.owner.handle), "bench");
			t0 = now_ms();
			if (ipam_alloc(s, &req, a, 2, &got, &e) < 0 || got != 1)
				die("ipam_alloc", &e);
			ta[na++] = now_ms() - t0;
		}
		if (i >= live) {
			cid(id, sizeof(id), i - live);
			t0 = now_ms();
			if (ipam_release(s, "b", id, "eth0", &e) != 1)
				die("ipam_release", &e);
			tr[nr++] = now_ms() - t0;
		}
	}
	qsort(ta, na, sizeof(*ta), cmp_d);
	qsort(tr, nr, sizeof(*tr), cmp_d);
	printf("alloc p50 %.3f p99 %.3f release p50 %.3f p99 %.3f\n",
	       pct(ta, na, 0.5), pct(ta, na, 0.99), pct(tr, nr, 0.5), pct(tr, nr, 0.99));
	free(ta);
	free(tr);
	store_free(s);
	return 0;
}
