/* nodebench — the measuring half of bench/node_bench: a full node's worth
 * of pods ADDed (then DELed) through a CNI plugin, PARALLEL at a time, the
 * way a kubelet starts many pods at once.
 *
 *   nodebench prep --netns-prefix NAME --count N
 *   nodebench run --plugin BIN --conf FILE [--env K=V]... --path DIR
 *            --netns-prefix NAME --count N [--parallel 50] --cmd ADD|DEL
 *            [--tor NETNS] [--addrs FILE] [--cid-prefix NAME] [--retries N]
 *
 * prep: in each of /run/netns/NAME-1 .. NAME-N (made before with
 *   `ip -batch`, which is fast): IPv6 off for every interface that will be
 *   made there (net.ipv6.conf.{all,default}.disable_ipv6=1) and lo up.
 *   IPv6 is off because the kernel's neighbour tables are shared by every
 *   namespace (gc_thresh3 1024 entries): 2,000 interfaces sending DAD,
 *   MLD and router solicitations fill the IPv6 one with multicast entries
 *   and would make other namespaces' neighbour lookups fail.  Both
 *   plugins get the same namespaces.
 * run: container NAME-i (CNI_CONTAINERID node-<i>, or --cid-prefix's) for i = 1..N, at most
 *   PARALLEL plugin processes at a time (a new one starts as soon as one
 *   exits).  Every call must succeed.  Prints one line
 *     run n=N parallel=P wall=MS p50=MS p99=MS max=MS retried=R
 *         [covered=C late=MS routes=R]
 *   With --tor (ADD only): the moment the last ADD returns, the ToR's IPv4
 *   FIB is read (netlink, inside NETNS) and each address the ADDs returned
 *   is looked up in it (any route but the default covering it, e.g. its
 *   block's aggregate): covered=C of N; if C < N, it is read again every
 *   millisecond until all are (late = ms after the last ADD, -1 after 10 s);
 *   routes = the ToR's non-default routes then.  --addrs writes the
 *   addresses, one a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <cJSON.h>

#include "benchlib.h"
#include "link.h"
#include "netns.h"
#include "nl.h"
#include "route.h"

#define MAX_EXTRA	4
#define LATE_LIMIT_MS	10000.0

static const char *plugin, *conf_text, *cni_path = "/usr/lib/cni", *ns_prefix, *cmd;
/* CNI_CONTAINERID is CID_PREFIX-<i>: several simulated hosts sharing one
 * store (bench/cluster_bench) need container ids of their own */
static const char *cid_prefix = "node";
static struct bench_cni cni;
static unsigned count, parallel = 50;
/* --retries: a failed call is run again (as a kubelet retries a pod's
 * sandbox) up to this many times in all, its latency counted from its first
 * try; 0 (default): the first failure ends the run */
static unsigned retries, retried;

/* Start container i's call in slot c. */
static void
call_start(struct bench_call *c, unsigned i)
{
	char cid[160], ns[300];

	snprintf(cid, sizeof(cid), "%s-%u", cid_prefix, i);
	snprintf(ns, sizeof(ns), "/run/netns/%s-%u", ns_prefix, i);
	bench_call_prepare(c, &cni);
	bench_call_spawn(c, &cni, cmd, cid, ns);
}

/* The first IP address of a CNI result, "" when there is none. */
static void
result_addr(const char *out, char *buf, size_t size)
{
	cJSON *root = cJSON_Parse(out), *ips, *ip, *a;

	buf[0] = '\0';
	ips = cJSON_GetObjectItemCaseSensitive(root, "ips");
	ip = cJSON_IsArray(ips) ? cJSON_GetArrayItem(ips, 0) : NULL;
	a = ip ? cJSON_GetObjectItemCaseSensitive(ip, "address") : NULL;
	if (cJSON_IsString(a)) {
		snprintf(buf, size, "%s", a->valuestring);
		buf[strcspn(buf, "/")] = '\0';
	}
	cJSON_Delete(root);
}

/* ------------------------------------------------------- the ToR's FIB */

struct fib {
	size_t n, cap;
	struct prefix *v;
};

static int
fib_cb(const struct route *rt, void *arg)
{
	struct fib *f = arg;

	if (rt->dst.len == 0)
		return 0;		/* the default covers everything: not ours */
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 256;
		f->v = realloc(f->v, f->cap * sizeof(*f->v));
		if (f->v == NULL)
			return -ENOMEM;
	}
	f->v[f->n++] = rt->dst;
	return 0;
}

static int
fib_read(struct nl *tor, struct fib *f)
{
	int r, tries = 0;

	do {
		f->n = 0;
		r = route_dump(tor, AF_INET, 0, 0, fib_cb, f);
	} while (r == -EINTR && ++tries < 5);
	return r;
}

static unsigned
fib_covered(const struct fib *f, const struct ipaddr *addrs, unsigned n, bool *done)
{
	unsigned c = 0;

	for (unsigned i = 0; i < n; i++) {
		for (size_t k = 0; !done[i] && k < f->n; k++)
			done[i] = prefix_contains(&f->v[k], &addrs[i]);
		c += done[i];
	}
	return c;
}

static void
check_tor(const char *tor_ns, const struct ipaddr *addrs, unsigned n, double t_last)
{
	struct fib f = { 0 };
	bool *done = calloc(n, sizeof(bool));
	unsigned covered, first;
	double late = 0;
	struct nl tor;
	int r;

	if (done == NULL)
		bench_die("out of memory");
	r = nl_open_netns(&tor, tor_ns);
	if (r < 0)
		bench_die("cannot open a netlink socket in the ToR's netns: %s", strerror(-r));
	if ((r = fib_read(&tor, &f)) < 0)
		bench_die("reading the ToR's FIB: %s", strerror(-r));
	first = covered = fib_covered(&f, addrs, n, done);
	while (covered < n) {
		late = bench_now_ms() - t_last;
		if (late > LATE_LIMIT_MS) {
			late = -1;
			break;
		}
		usleep(1000);
		if ((r = fib_read(&tor, &f)) < 0)
			bench_die("reading the ToR's FIB: %s", strerror(-r));
		covered = fib_covered(&f, addrs, n, done);
	}
	printf(" covered=%u late=%.1f routes=%zu", first, late, f.n);
	nl_close(&tor);
	free(f.v);
	free(done);
}

/* ----------------------------------------------------------- the run */

static void
run(const char *tor_ns, const char *addrs_path)
{
	/* slot k: calls[k] runs container idx[k] (pid 0: free), first[k] its first try */
	struct bench_call *calls = bench_calloc(parallel, sizeof(*calls));
	unsigned *idx = bench_calloc(parallel, sizeof(*idx));
	double *first = bench_calloc(parallel, sizeof(*first));
	double *lat = bench_calloc(count, sizeof(double));
	struct ipaddr *addrs = bench_calloc(count, sizeof(*addrs));
	unsigned next = 1, running = 0, finished = 0, n_addrs = 0;
	FILE *af = NULL;
	double t0, t_last;

	if (addrs_path && !(af = fopen(addrs_path, "w")))
		bench_die("cannot write %s", addrs_path);
	t0 = bench_now_ms();
	while (finished < count) {
		struct bench_call *c;
		size_t k;
		int r;

		while (running < parallel && next <= count) {
			for (k = 0; calls[k].pid != 0; k++)
				;
			idx[k] = next++;
			call_start(&calls[k], idx[k]);
			first[k] = calls[k].t0;
			running++;
		}
		if ((r = bench_call_reap(calls, parallel)) < 0)
			continue;	/* not ours (a plugin's own child) */
		k = (size_t)r;
		c = &calls[k];
		if (!bench_call_ok(c) && retried < retries) {
			char *o = bench_slurp_fd(c->fd_out);

			retried++;
			fprintf(stderr, "nodebench: %s %s for %s-%u failed (status 0x%x), retried: %.200s\n",
				plugin, cmd, cid_prefix, idx[k], c->status, o);
			free(o);
			bench_call_close(c);
			call_start(c, idx[k]);
			continue;
		}
		lat[finished++] = c->t1 - first[k];
		if (!bench_call_ok(c)) {
			char what[512];

			snprintf(what, sizeof(what), "%s %s for %s-%u", plugin, cmd, cid_prefix, idx[k]);
			bench_call_fail(c, what);
		}
		if (strcmp(cmd, "ADD") == 0) {
			char *o = bench_slurp_fd(c->fd_out), a[64];

			result_addr(o, a, sizeof(a));
			if (a[0] && ipaddr_parse(a, &addrs[n_addrs]) == 0)
				n_addrs++;
			if (af && a[0])
				fprintf(af, "%s\n", a);
			free(o);
		}
		bench_call_close(c);
		running--;
	}
	t_last = bench_now_ms();
	bench_sort(lat, count);
	printf("run n=%u parallel=%u wall=%.1f p50=%.3f p99=%.3f max=%.3f retried=%u", count,
	       parallel, t_last - t0, bench_pct(lat, count, 0.5), bench_pct(lat, count, 0.99),
	       lat[count - 1], retried);
	if (tor_ns && strcmp(cmd, "ADD") == 0)
		check_tor(tor_ns, addrs, n_addrs, t_last);
	printf("\n");
	if (af)
		fclose(af);
	free(calls);
	free(idx);
	free(first);
	free(lat);
	free(addrs);
}

/* ---------------------------------------------------------- prep */

static void
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		bench_die("cannot write %s", path);
	close(fd);
}

static void
prep(void)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (self < 0)
		bench_die("cannot open our own netns");
	for (unsigned i = 1; i <= count; i++) {
		char path[256];
		struct nl nl;
		int fd, r;

		snprintf(path, sizeof(path), "/run/netns/%s-%u", ns_prefix, i);
		fd = netns_open(path);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			bench_die("cannot enter %s", path);
		close(fd);
		/* /proc/sys/net shows the netns of whoever opens it */
		write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
		write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
		if ((r = nl_open(&nl)) < 0 || (r = link_set_up(&nl, 1)) < 0)
			bench_die("lo up: %s", strerror(-r));
		nl_close(&nl);
		if (setns(self, CLONE_NEWNET) < 0)
			bench_die("cannot return to our netns");
	}
	close(self);
}

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: nodebench prep --netns-prefix NAME --count N\n"
		"       nodebench run --plugin BIN --conf FILE [--env K=V]... --path DIR\n"
		"                 --netns-prefix NAME --count N [--parallel P] --cmd ADD|DEL\n"
		"                 [--tor NETNS] [--addrs FILE] [--cid-prefix NAME]\n"
		"                 [--retries N]\n");
	exit(status);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plugin", required_argument, NULL, 'p' },
		{ "conf", required_argument, NULL, 'c' },
		{ "env", required_argument, NULL, 'e' },
		{ "path", required_argument, NULL, 'P' },
		{ "netns-prefix", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'N' },
		{ "parallel", required_argument, NULL, 'j' },
		{ "cmd", required_argument, NULL, 'C' },
		{ "tor", required_argument, NULL, 't' },
		{ "addrs", required_argument, NULL, 'a' },
		{ "cid-prefix", required_argument, NULL, 'I' },
		{ "retries", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mode, *tor = NULL, *addrs = NULL;
	int c;

	bench_prog = "nodebench";
	if (argc < 2)
		usage(2);
	mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': plugin = optarg; break;
		case 'c': conf_text = bench_slurp(optarg); break;
		case 'e':
			if (cni.n_env == MAX_EXTRA)
				bench_die("too many --env");
			bench_cni_env(&cni, optarg);
			break;
		case 'P': cni_path = optarg; break;
		case 'n': ns_prefix = optarg; break;
		case 'N': count = bench_uint("count", optarg, 1, 10000000); break;
		case 'j': parallel = bench_uint("parallel", optarg, 1, 100000); break;
		case 'C': cmd = optarg; break;
		case 't': tor = optarg; break;
		case 'a': addrs = optarg; break;
		case 'I': cid_prefix = optarg; break;
		case 'R': retries = bench_uint("retries", optarg, 0, 100000000); break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!ns_prefix || count == 0)
		usage(2);
	if (strcmp(mode, "prep") == 0) {
		prep();
		return 0;
	}
	if (strcmp(mode, "run") != 0 || !plugin || !conf_text || !cmd || parallel == 0 ||
	    (strcmp(cmd, "ADD") != 0 && strcmp(cmd, "DEL") != 0))
		usage(2);
	cni.bin = plugin;
	cni.conf = conf_text;
	cni.cni_path = cni_path;
	run(tor, addrs);
	return 0;
}
