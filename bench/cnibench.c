/* cnibench — leafnet vs Debian's ptp + host-local vs the bare netlink floor.
 *
 * Run inside a "host" network namespace (bench/run does the set-up):
 *
 *   cnibench --leafnet BIN --leafnet-conf CNI.json --leafnet-env LEAFNET_CONF=/x
 *            --ptp BIN --ptp-conf CNI.json --ptp-path DIR
 *            --netns-prefix NAME --netns-count 50 [--iterations 200]
 *
 * The container namespaces /run/netns/NAME-1 .. NAME-<count> exist before
 * the run; creating them is no part of any measured operation.
 *
 * (a) sequential ADD then DEL, >= 200 times, per plugin: p50/p99 latency of
 *     fork/exec + the plugin's work + exit, with CLOCK_MONOTONIC;
 * (b) <count> ADDs started at once, then <count> DELs: wall time;
 * (c) the floor: the kernel operations leafnet performs for one ADD, done
 *     in-process with libmnl (open netns, netlink socket inside it, veth
 *     pair with the peer in the netns, rename, address, links up, permanent
 *     neighbour, default route onlink, proxy_arp/forwarding, host route
 *     with protocol 76, the gateway as a /32 scope host on the host veth)
 *     and for one DEL (delete the veth).
 *
 * Every plugin invocation must succeed: one failure stops the run with the
 * plugin's output, since a figure over failing runs means nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

#define WARMUP      5

struct plugin {
	const char *name;
	struct bench_cni cni;		/* binary, config, CNI_PATH, extra K=V */
};

static const char *ns_prefix;
static unsigned ns_count = 50;
static unsigned iterations = 200;

static void netns_path(unsigned i, char *buf, size_t size)
{
	snprintf(buf, size, "/run/netns/%s-%u", ns_prefix, i % ns_count + 1);
}

/* One timed invocation; returns milliseconds. */
static double invoke(const struct plugin *p, const char *cmd, const char *cid, const char *netns)
{
	return bench_cni_invoke(&p->cni, p->name, cmd, cid, netns);
}

struct result {
	struct bench_stats add, del, version;
	double conc_add, conc_del;	/* wall ms */
	bool has_conc;
};

/* The cost of starting the plugin at all: VERSION does no I/O but the
 * exec, the dynamic linking and the reply. */
static struct bench_stats bench_version(const struct plugin *p)
{
	double *v = calloc(iterations, sizeof(double));
	struct bench_stats s;
	unsigned i;

	if (!v)
		bench_die("%s", "out of memory");
	for (i = 0; i < WARMUP + iterations; i++) {
		double t = invoke(p, "VERSION", "bench-version", "/dev/null");

		if (i >= WARMUP)
			v[i - WARMUP] = t;
	}
	s = bench_stats(v, iterations);
	free(v);
	return s;
}

static void bench_sequential(const struct plugin *p, struct result *res)
{
	double *add = calloc(iterations, sizeof(double));
	double *del = calloc(iterations, sizeof(double));
	char cid[64], ns[256];
	unsigned i;

	if (!add || !del)
		bench_die("%s", "out of memory");
	fprintf(stderr, "# %s: %u sequential ADD+DEL (+%u warm-up)\n", p->name, iterations, WARMUP);
	for (i = 0; i < WARMUP + iterations; i++) {
		double a, d;

		snprintf(cid, sizeof(cid), "bench-%s-seq-%u", p->name, i);
		netns_path(i, ns, sizeof(ns));
		a = invoke(p, "ADD", cid, ns);
		d = invoke(p, "DEL", cid, ns);
		if (i >= WARMUP) {
			add[i - WARMUP] = a;
			del[i - WARMUP] = d;
		}
	}
	res->add = bench_stats(add, iterations);
	res->del = bench_stats(del, iterations);
	free(add);
	free(del);
	res->version = bench_version(p);
}

static double concurrent(const struct plugin *p, const char *cmd)
{
	struct bench_call *runs = bench_calloc(ns_count, sizeof(*runs));
	char cid[64], ns[256];
	double t0, t1;
	unsigned i;

	for (i = 0; i < ns_count; i++)
		bench_call_prepare(&runs[i], &p->cni);
	t0 = bench_now_ms();
	for (i = 0; i < ns_count; i++) {
		snprintf(cid, sizeof(cid), "bench-%s-conc-%u", p->name, i);
		netns_path(i, ns, sizeof(ns));
		bench_call_spawn(&runs[i], &p->cni, cmd, cid, ns);
	}
	for (i = 0; i < ns_count; i++)
		bench_call_wait(&runs[i]);
	t1 = bench_now_ms();
	for (i = 0; i < ns_count; i++) {
		char what[128];

		snprintf(what, sizeof(what), "%s %s bench-%s-conc-%u", p->name, cmd, p->name, i);
		if (!bench_call_ok(&runs[i]))
			bench_call_fail(&runs[i], what);
		bench_call_close(&runs[i]);
	}
	free(runs);
	return t1 - t0;
}

static void bench_concurrent(const struct plugin *p, struct result *res)
{
	fprintf(stderr, "# %s: %u concurrent ADDs, then DELs\n", p->name, ns_count);
	res->conc_add = concurrent(p, "ADD");
	res->conc_del = concurrent(p, "DEL");
	res->has_conc = true;
}

/* ------------------------------------------------------------------------
 * The netlink floor: what one leafnet ADD/DEL asks of the kernel, with no
 * process start, no config parsing and no IPAM.
 */
#define FLOOR_RTPROT 76
#define FLOOR_MTU    1500

struct nls {
	struct mnl_socket *sock;
	unsigned portid;
	uint32_t seq;
};

struct linkinfo {
	int index;
	uint8_t mac[6];
};

static int host_nsfd = -1;

static int nls_open(struct nls *s)
{
	int err;

	s->sock = mnl_socket_open(NETLINK_ROUTE);
	if (!s->sock)
		return -errno;
	if (mnl_socket_bind(s->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		mnl_socket_close(s->sock);
		s->sock = NULL;
		return err;
	}
	s->portid = mnl_socket_get_portid(s->sock);
	s->seq = (uint32_t)time(NULL);
	return 0;
}

/* A socket that talks to the netns behind nsfd, whatever netns we are in. */
static int nls_open_in(struct nls *s, int nsfd)
{
	int r;

	if (setns(nsfd, CLONE_NEWNET) < 0)
		return -errno;
	r = nls_open(s);
	if (setns(host_nsfd, CLONE_NEWNET) < 0)
		bench_die("cannot return to the host netns: %s", strerror(errno));
	return r;
}

static void nls_close(struct nls *s)
{
	if (s->sock)
		mnl_socket_close(s->sock);
	s->sock = NULL;
}

static struct nlmsghdr *nls_msg(struct nls *s, char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++s->seq;
	return nlh;
}

/* Send one request, read answers up to its ACK. */
static int nls_talk(struct nls *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;
	int r;

	if (mnl_socket_sendto(s->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(s->sock, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, s->portid, cb, data);
	} while (r > 0);
	return r < 0 ? -errno : 0;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct linkinfo *li = data;
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	li->index = ifi->ifi_index;
	mnl_attr_for_each(a, nlh, sizeof(*ifi))
		if (mnl_attr_get_type(a) == IFLA_ADDRESS && mnl_attr_get_payload_len(a) == 6)
			memcpy(li->mac, mnl_attr_get_payload(a), 6);
	return MNL_CB_OK;
}

static int link_get(struct nls *s, const char *name, struct linkinfo *ret)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nls_msg(s, buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nls_talk(s, nlh, link_cb, ret);
}

/* RTM_NEWLINK on an existing link: new name and/or IFF_UP. */
static int link_set(struct nls *s, int index, const char *newname, bool up)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nls_msg(s, buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	if (up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	if (newname)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, newname);
	return nls_talk(s, nlh, NULL, NULL);
}

static int veth_create(struct nls *s, const char *name, const char *peer, int nsfd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nls_msg(s, buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *info, *data, *pe;

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_MTU, FLOOR_MTU);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pe = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	((struct ifinfomsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi)))->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_put_u32(nlh, IFLA_MTU, FLOOR_MTU);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	mnl_attr_nest_end(nlh, pe);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nls_talk(s, nlh, NULL, NULL);
}

static int addr_add(struct nls *s, int index, struct in_addr a, uint8_t scope)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nls_msg(s, buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 32;
	ifa->ifa_index = (uint32_t)index;
	ifa->ifa_scope = scope;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(a), &a);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(a), &a);
	return nls_talk(s, nlh, NULL, NULL);
}

static int neigh_add(struct nls *s, int index, struct in_addr gw, const uint8_t mac[6])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nls_msg(s, buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));

	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = index;
	nd->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, sizeof(gw), &gw);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	return nls_talk(s, nlh, NULL, NULL);
}

/* dst/len via gw (onlink) or, with gw NULL, scope link; out of index. */
static int route_add(struct nls *s, int index, struct in_addr dst, uint8_t len,
		     const struct in_addr *gw, uint8_t proto)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nls_msg(s, buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = proto;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	if (gw) {
		rtm->rtm_flags = RTNH_F_ONLINK;
		mnl_attr_put(nlh, RTA_GATEWAY, sizeof(*gw), gw);
	}
	if (len)
		mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
	return nls_talk(s, nlh, NULL, NULL);
}

static int sysctl_on(const char *ifname, const char *key)
{
	char path[128];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/%s", ifname, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		r = -errno;
	close(fd);
	return r;
}

static void floor_names(unsigned i, char host[16], char peer[16])
{
	snprintf(host, 16, "lfb%011x", i);
	snprintf(peer, 16, "lfp%011x", i);
}

static int floor_init(void)
{
	host_nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return host_nsfd < 0 ? -errno : 0;
}

/* The ADD sequence, in leafnet's order: container side, then host side. */
static int floor_ops(struct nls *host, struct nls *cont, int nsfd, unsigned i)
{
	struct linkinfo hl = { 0 }, cl = { 0 };
	struct in_addr addr, gw, any = { 0 };
	char hname[16], pname[16];
	int r;

	floor_names(i, hname, pname);
	addr.s_addr = htonl((10u << 24) | (222u << 16) | (i & 0xffff));
	inet_pton(AF_INET, "169.254.1.1", &gw);
	if ((r = veth_create(host, hname, pname, nsfd)) < 0 ||
	    (r = link_get(cont, pname, &cl)) < 0 ||
	    (r = link_set(cont, cl.index, "eth0", false)) < 0 ||
	    (r = addr_add(cont, cl.index, addr, RT_SCOPE_UNIVERSE)) < 0 ||
	    (r = link_set(cont, cl.index, NULL, true)) < 0 ||
	    (r = link_get(host, hname, &hl)) < 0 ||
	    (r = neigh_add(cont, cl.index, gw, hl.mac)) < 0 ||
	    (r = route_add(cont, cl.index, any, 0, &gw, RTPROT_BOOT)) < 0 ||
	    (r = link_set(host, hl.index, NULL, true)) < 0 ||
	    (r = sysctl_on(hname, "proxy_arp")) < 0 ||
	    (r = sysctl_on(hname, "forwarding")) < 0 ||
	    (r = route_add(host, hl.index, addr, 32, NULL, FLOOR_RTPROT)) < 0 ||
	    (r = addr_add(host, hl.index, gw, RT_SCOPE_HOST)) < 0)
		return r;
	return 0;
}

static int floor_add(const char *netns, unsigned i)
{
	struct nls host = { 0 }, cont = { 0 };
	int nsfd, r;

	nsfd = open(netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return -errno;
	r = nls_open(&host);
	if (r >= 0)
		r = nls_open_in(&cont, nsfd);
	if (r >= 0)
		r = floor_ops(&host, &cont, nsfd, i);
	nls_close(&cont);
	nls_close(&host);
	close(nsfd);
	return r;
}

static int floor_del(unsigned i)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], hname[16], pname[16];
	struct nls host = { 0 };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int r;

	floor_names(i, hname, pname);
	if ((r = nls_open(&host)) < 0)
		return r;
	nlh = nls_msg(&host, buf, RTM_DELLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, hname);
	r = nls_talk(&host, nlh, NULL, NULL);
	nls_close(&host);
	return r;
}

static void bench_floor(struct result *res)
{
	double *add = calloc(iterations, sizeof(double));
	double *del = calloc(iterations, sizeof(double));
	char ns[256];
	unsigned i;
	int r;

	if (!add || !del)
		bench_die("%s", "out of memory");
	fprintf(stderr, "# netlink floor: %u sequential ADD+DEL (+%u warm-up)\n", iterations, WARMUP);
	for (i = 0; i < WARMUP + iterations; i++) {
		double t0, t1, t2;

		netns_path(i, ns, sizeof(ns));
		t0 = bench_now_ms();
		r = floor_add(ns, i);
		t1 = bench_now_ms();
		if (r < 0)
			bench_die("floor ADD failed: %s", strerror(-r));
		r = floor_del(i);
		t2 = bench_now_ms();
		if (r < 0)
			bench_die("floor DEL failed: %s", strerror(-r));
		if (i >= WARMUP) {
			add[i - WARMUP] = t1 - t0;
			del[i - WARMUP] = t2 - t1;
		}
	}
	res->add = bench_stats(add, iterations);
	res->del = bench_stats(del, iterations);
	free(add);
	free(del);
}

static void print_ratio(const char *what, double num, double den, double target)
{
	double r = den > 0 ? num / den : 0;

	printf("  %-34s %8.3f   <= %-6.2f  %s\n", what, r, target,
	       den <= 0 ? "n/a" : r <= target ? "met" : "NOT MET");
}

static void print_report(const struct result *ln, const struct result *ptp,
			 const struct result *fl)
{
	struct utsname u;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	uname(&u);
	printf("\nleafnet CNI benchmark: %u sequential iterations, %u concurrent, "
	       "kernel %s, %ld CPUs\n\n", iterations, ns_count, u.release, cpus);
	printf("  %-28s %12s %16s %14s\n", "milliseconds", "leafnet", "ptp+host-local", "netlink floor");
	printf("  %-28s %12.3f %16.3f %14.3f\n", "ADD p50", ln->add.p50, ptp->add.p50, fl->add.p50);
	printf("  %-28s %12.3f %16.3f %14.3f\n", "ADD p99", ln->add.p99, ptp->add.p99, fl->add.p99);
	printf("  %-28s %12.3f %16.3f %14.3f\n", "DEL p50", ln->del.p50, ptp->del.p50, fl->del.p50);
	printf("  %-28s %12.3f %16.3f %14.3f\n", "DEL p99", ln->del.p99, ptp->del.p99, fl->del.p99);
	printf("  %-28s %12.3f %16.3f %14s\n", "VERSION p50 (process start)",
	       ln->version.p50, ptp->version.p50, "-");
	printf("  %-28s %12.1f %16.1f %14s\n", "concurrent ADDs, wall", ln->conc_add, ptp->conc_add, "-");
	printf("  %-28s %12.1f %16.1f %14s\n", "concurrent DELs, wall", ln->conc_del, ptp->conc_del, "-");
	printf("\n  %-34s %8s   %-9s %s\n", "ratio", "value", "target", "");
	print_ratio("leafnet/ptp ADD p50", ln->add.p50, ptp->add.p50, 0.2);
	print_ratio("leafnet/ptp DEL p50", ln->del.p50, ptp->del.p50, 0.2);
	print_ratio("leafnet/ptp concurrent ADD wall", ln->conc_add, ptp->conc_add, 1.0 / 3);
	print_ratio("leafnet/ptp concurrent DEL wall", ln->conc_del, ptp->conc_del, 1.0 / 3);
	print_ratio("leafnet ADD p50 / floor ADD p50", ln->add.p50, fl->add.p50, 2.0);
	print_ratio("leafnet DEL p50 / floor DEL p50", ln->del.p50, fl->del.p50, 2.0);
	printf("\n  floor DEL is one RTM_DELLINK of the host veth, waiting for the kernel's\n"
	       "  ACK, which comes only after the pair is unregistered (RCU grace periods).\n");
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: cnibench --leafnet BIN --leafnet-conf FILE [--leafnet-env K=V]\n"
		"                [--leafnet-path DIR] --ptp BIN --ptp-conf FILE --ptp-path DIR\n"
		"                --netns-prefix NAME [--netns-count N] [--iterations N]\n"
		"Run as root inside the host netns; namespaces NAME-1..NAME-N must exist.\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "leafnet", required_argument, NULL, 'l' },
		{ "leafnet-conf", required_argument, NULL, 'L' },
		{ "leafnet-env", required_argument, NULL, 'e' },
		{ "leafnet-path", required_argument, NULL, 'P' },
		{ "ptp", required_argument, NULL, 'p' },
		{ "ptp-conf", required_argument, NULL, 'c' },
		{ "ptp-path", required_argument, NULL, 'q' },
		{ "netns-prefix", required_argument, NULL, 'n' },
		{ "netns-count", required_argument, NULL, 'N' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct plugin ln = { .name = "leafnet", .cni = { .cni_path = "/usr/lib/cni" } };
	struct plugin ptp = { .name = "ptp", .cni = { .cni_path = "/usr/lib/cni" } };
	struct result r_ln = { 0 }, r_ptp = { 0 }, r_floor = { 0 };
	int c;

	bench_prog = "cnibench";
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': ln.cni.bin = optarg; break;
		case 'L': ln.cni.conf = bench_slurp(optarg); break;
		case 'e': bench_cni_env(&ln.cni, optarg); break;
		case 'P': ln.cni.cni_path = optarg; break;
		case 'p': ptp.cni.bin = optarg; break;
		case 'c': ptp.cni.conf = bench_slurp(optarg); break;
		case 'q': ptp.cni.cni_path = optarg; break;
		case 'n': ns_prefix = optarg; break;
		case 'N': ns_count = bench_uint("netns-count", optarg, 1, 1000000); break;
		case 'i': iterations = bench_uint("iterations", optarg, 1, 100000000); break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!ln.cni.bin || !ln.cni.conf || !ptp.cni.bin || !ptp.cni.conf || !ns_prefix || ns_count == 0 ||
	    iterations == 0)
		usage(2);
	if (floor_init() < 0)
		bench_die("%s", "cannot open a netlink socket (root? inside the host netns?)");

	bench_sequential(&ln, &r_ln);
	bench_sequential(&ptp, &r_ptp);
	bench_floor(&r_floor);
	bench_concurrent(&ln, &r_ln);
	bench_concurrent(&ptp, &r_ptp);
	print_report(&r_ln, &r_ptp, &r_floor);
	free((char *)ln.cni.conf);
	free((char *)ptp.cni.conf);
	return 0;
}
