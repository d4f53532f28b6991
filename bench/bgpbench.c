/* bgpbench — the measuring half of bench/bgp_bench: when does a route that
 * appeared in a node's kernel reach the ToR's FIB?
 *
 *   bgpbench latency --tor NETNS --node NETNS --range A.B.C.D/LEN --count N
 *            ( --route-dev IFNAME
 *            | --cni PLUGIN --cni-conf FILE --cni-path DIR
 *              [--cni-env K=V]... --container-prefix NAME )
 *   bgpbench wait --tor NETNS --range A.B.C.D/LEN --count N
 *            [--timeout SEC] -- CMD [ARG...]
 *
 * The ToR (BIRD) exports its BGP routes into its own kernel table, so a
 * netlink socket in the ToR's namespace subscribed to RTMGRP_IPV4_ROUTE
 * sees each route the moment BIRD has it (BIRD writes its kernel table
 * synchronously when its RIB changes): the arrival is timestamped with
 * CLOCK_MONOTONIC as it is read, while the other event of the sample (the
 * plugin's exit, seen through a pidfd; the netlink ACK of our own route
 * add) sits in the same poll() — neither waits for the other, so neither
 * is late.  Polling birdc would add a fork and a CLI round trip (several
 * ms) to every sample.
 *
 * latency: N samples, one at a time.  --route-dev: add A+i/32 dev IFNAME
 *   proto 76 scope link in the node's namespace (what the CNI plugin's host
 *   route looks like) and time from the kernel's ACK.  --cni: run the
 *   plugin's ADD for container NAME-<i> (/run/netns/NAME-<i>) inside the
 *   node's namespace and time from its exit (the "CNI ADD
 *   returning"); a route that reached the ToR before the plugin exited
 *   counts as 0.  Prints one line:
 *     latency n=N lost=L p50=MS p90=MS p99=MS max=MS mean=MS
 *             s50=MS s99=MS early=E resyncs=R
 *   where s50/s99 are measured from the start of the operation (the
 *   plugin's fork, the route request) and early counts the samples that
 *   reached the ToR before the operation returned.
 * wait: start CMD (e.g. ip -batch, birdc enable), then wait until N /32s
 *   of the range are in the ToR's FIB.  Prints one line:
 *     wait n=N seen=S first=MS all=MS cmd=MS resyncs=R
 *   (all=-1 on timeout).  A monitor overflow (ENOBUFS) is repaired with a
 *   dump at once and counted in resyncs.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MON_RCVBUF	(512 * 1024 * 1024)
#define SAMPLE_TIMEOUT_MS 5000.0
#define MAX_ENV		16

struct mon {
	struct mnl_socket *ev;		/* RTMGRP_IPV4_ROUTE, in the ToR netns */
	struct mnl_socket *dump;	/* requests, in the ToR netns */
	uint32_t base, size;		/* the range, host order */
	uint8_t *seen;			/* one byte per address of the range */
	uint32_t n_seen;
	double last_new;		/* when n_seen last grew */
	double first_new;		/* when n_seen first grew; 0 = not yet */
	unsigned resyncs;
	double now;			/* the current recv's timestamp */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bgpbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void enter_netns(const char *name)
{
	char path[256];
	int fd;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s (does the namespace exist?)", path, strerror(errno));
	if (setns(fd, CLONE_NEWNET) < 0)
		die("setns %s: %s", path, strerror(errno));
	close(fd);
}

static void parse_range(const char *s, uint32_t *base, uint32_t *size)
{
	char buf[64], *slash;
	struct in_addr a;
	long len;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (!slash)
		die("--range %s: expected A.B.C.D/LEN", s);
	*slash = '\0';
	len = strtol(slash + 1, NULL, 10);
	if (inet_pton(AF_INET, buf, &a) != 1 || len < 8 || len > 32)
		die("--range %s: expected A.B.C.D/LEN with LEN 8-32", s);
	*base = ntohl(a.s_addr);
	*size = len == 32 ? 1 : 1u << (32 - len);
}

/* ------------------------------------------------------------- monitor */

static int mon_route_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct mon *m = arg;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	uint32_t table = rtm->rtm_table, dst = 0, i;
	bool have_dst = false;

	if (nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE)
		return MNL_CB_OK;
	if (rtm->rtm_family != AF_INET || rtm->rtm_dst_len != 32)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		if (mnl_attr_get_type(a) == RTA_DST && mnl_attr_get_payload_len(a) == 4) {
			memcpy(&dst, mnl_attr_get_payload(a), 4);
			have_dst = true;
		} else if (mnl_attr_get_type(a) == RTA_TABLE) {
			table = mnl_attr_get_u32(a);
		}
	}
	if (!have_dst || table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	i = ntohl(dst) - m->base;
	if (ntohl(dst) < m->base || i >= m->size)
		return MNL_CB_OK;
	if (nlh->nlmsg_type == RTM_NEWROUTE && !m->seen[i]) {
		m->seen[i] = 1;
		m->n_seen++;
		m->last_new = m->now;
		if (m->first_new == 0)
			m->first_new = m->now;
	} else if (nlh->nlmsg_type == RTM_DELROUTE && m->seen[i]) {
		m->seen[i] = 0;
		m->n_seen--;
	}
	return MNL_CB_OK;
}

/* Read the whole FIB again (after an overflow, and at the start). */
static void mon_dump(struct mon *m)
{
	static char buf[1 << 16];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	uint32_t seq = (uint32_t)time(NULL), port = mnl_socket_get_portid(m->dump);
	ssize_t n;
	int ret;

	memset(m->seen, 0, m->size);
	m->n_seen = 0;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	if (mnl_socket_sendto(m->dump, nlh, nlh->nlmsg_len) < 0)
		die("route dump: %s", strerror(errno));
	m->now = now_ms();
	for (;;) {
		n = mnl_socket_recvfrom(m->dump, buf, sizeof(buf));
		if (n < 0)
			die("route dump: %s", strerror(errno));
		ret = mnl_cb_run(buf, (size_t)n, seq, port, mon_route_cb, m);
		if (ret < 0)
			die("route dump: %s", strerror(errno));
		if (ret == MNL_CB_STOP)
			break;
	}
}

static void mon_open(struct mon *m, const char *tor, const char *range)
{
	int rcv = MON_RCVBUF;

	memset(m, 0, sizeof(*m));
	parse_range(range, &m->base, &m->size);
	m->seen = calloc(m->size, 1);
	if (!m->seen)
		die("out of memory for a %u-address range", m->size);
	enter_netns(tor);
	m->ev = mnl_socket_open(NETLINK_ROUTE);
	m->dump = mnl_socket_open(NETLINK_ROUTE);
	if (!m->ev || !m->dump)
		die("netlink socket: %s", strerror(errno));
	if (setsockopt(mnl_socket_get_fd(m->ev), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(mnl_socket_get_fd(m->ev), SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (mnl_socket_bind(m->ev, RTMGRP_IPV4_ROUTE, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_bind(m->dump, 0, MNL_SOCKET_AUTOPID) < 0)
		die("netlink bind: %s", strerror(errno));
	mon_dump(m);
	m->first_new = 0;
}

/* Drain what the ToR's kernel reported; resync at once on overflow. */
static void mon_read(struct mon *m)
{
	static char buf[1 << 18];
	ssize_t n;

	for (;;) {
		n = recv(mnl_socket_get_fd(m->ev), buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			m->resyncs++;
			mon_dump(m);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0)
			die("route monitor: %s", strerror(errno));
		m->now = now_ms();
		mnl_cb_run(buf, (size_t)n, 0, 0, mon_route_cb, m);
	}
}

/* ------------------------------------------------------------ processes */

static int pidfd_of(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0)
		die("pidfd_open: %s (needs Linux 5.3)", strerror(errno));
	return fd;
}

/* fork/exec argv with envp (NULL: inherit), stdin from in_path (NULL:
 * /dev/null), stdout and stderr to err_path (NULL: /dev/null). */
static pid_t spawn(char *const argv[], char *const envp[], const char *in_path,
		   const char *err_path)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	fd = open(in_path ? in_path : "/dev/null", O_RDONLY);
	if (fd >= 0)
		dup2(fd, 0);
	fd = open(err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (envp)
		execve(argv[0], argv, envp);
	else
		execvp(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ----------------------------------------------------------- node side */

static void route_add(struct mnl_socket *nl, uint32_t addr, unsigned ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	uint32_t dst = htonl(addr), seq = addr;
	ssize_t n;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = 76;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_DST, dst);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		die("route add: %s", strerror(errno));
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0 || mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
		die("route add %u.%u.%u.%u/32: %s", addr >> 24, (addr >> 16) & 255,
		    (addr >> 8) & 255, addr & 255, strerror(errno));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, unsigned n, double p)
{
	unsigned i = (unsigned)(p * (n - 1) + 0.5);

	return n ? v[i < n ? i : n - 1] : -1;
}

struct latency_opts {
	const char *tor, *node, *range, *dev;
	const char *cni, *cni_conf, *cni_path, *prefix;
	const char *env[MAX_ENV];
	unsigned n_env, count;
};

static void run_latency(const struct latency_opts *o)
{
	struct mon m;
	struct mnl_socket *nl = NULL;
	unsigned ifindex = 0, i, got = 0, lost = 0;
	double *lat, *lat_s, sum = 0;
	unsigned early = 0;
	char errfile[] = "/tmp/bgpbench-cni.XXXXXX";

	mon_open(&m, o->tor, o->range);
	if (o->count > m.size)
		die("--count %u does not fit --range %s", o->count, o->range);
	enter_netns(o->node);
	if (o->dev) {
		ifindex = if_nametoindex(o->dev);
		if (!ifindex)
			die("--route-dev %s: no such interface in %s", o->dev, o->node);
		nl = mnl_socket_open(NETLINK_ROUTE);
		if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
			die("netlink socket: %s", strerror(errno));
	} else {
		int fd = mkstemp(errfile);

		if (fd < 0)
			die("mkstemp: %s", strerror(errno));
		close(fd);
	}
	lat = calloc(o->count, sizeof(*lat));
	lat_s = calloc(o->count, sizeof(*lat_s));
	if (!lat || !lat_s)
		die("out of memory");

	for (i = 0; i < o->count; i++) {
		uint32_t before = m.n_seen;
		double t0 = 0, ts, deadline;
		int pfd = -1;
		pid_t pid = 0;

		mon_read(&m);
		before = m.n_seen;
		ts = now_ms();
		if (nl) {
			route_add(nl, m.base + 1 + i, ifindex);
			t0 = now_ms();
		} else {
			char cid[64], netns[256], cmd[] = "CNI_COMMAND=ADD", ifn[] = "CNI_IFNAME=eth0";
			char e_cid[96], e_ns[300], e_path[4200];
			char *envp[MAX_ENV + 8], *argv[] = { (char *)o->cni, NULL };
			unsigned k = 0, j;

			snprintf(cid, sizeof(cid), "%s-%u", o->prefix, i + 1);
			snprintf(netns, sizeof(netns), "/run/netns/%s-%u", o->prefix, i + 1);
			snprintf(e_cid, sizeof(e_cid), "CNI_CONTAINERID=%s", cid);
			snprintf(e_ns, sizeof(e_ns), "CNI_NETNS=%s", netns);
			snprintf(e_path, sizeof(e_path), "CNI_PATH=%s", o->cni_path);
			envp[k++] = cmd;
			envp[k++] = e_cid;
			envp[k++] = e_ns;
			envp[k++] = ifn;
			envp[k++] = e_path;
			for (j = 0; j < o->n_env; j++)
				envp[k++] = (char *)o->env[j];
			envp[k] = NULL;
			pid = spawn(argv, envp, o->cni_conf, errfile);
			pfd = pidfd_of(pid);
		}
		deadline = now_ms() + SAMPLE_TIMEOUT_MS;
		for (;;) {
			struct pollfd p[2] = {
				{ .fd = mnl_socket_get_fd(m.ev), .events = POLLIN },
				{ .fd = pfd, .events = POLLIN },
			};
			double left = deadline - now_ms();

			if ((pfd < 0 || pid == 0) && m.n_seen > before)
				break;
			if (left <= 0)
				break;
			if (poll(p, pfd >= 0 ? 2 : 1, (int)left + 1) < 0 && errno != EINTR)
				die("poll: %s", strerror(errno));
			if (p[0].revents)
				mon_read(&m);
			if (pfd >= 0 && p[1].revents) {
				int rc;

				t0 = now_ms();
				rc = reap(pid);
				close(pfd);
				pfd = -1;
				pid = 0;
				if (rc != 0) {
					char line[512];
					FILE *f = fopen(errfile, "r");

					fprintf(stderr, "bgpbench: %s ADD %s-%u exited %d:\n", o->cni, o->prefix, i + 1, rc);
					while (f && fgets(line, sizeof(line), f))
						fputs(line, stderr);
					if (f)
						fclose(f);
					exit(1);
				}
			}
		}
		if (pfd >= 0)
			die("CNI ADD %s-%u did not finish within %.0f ms", o->prefix, i + 1, SAMPLE_TIMEOUT_MS);
		if (m.n_seen > before) {
			double l = m.last_new - t0;

			lat_s[got] = m.last_new - ts;
			lat[got++] = l > 0 ? l : 0;
			sum += l > 0 ? l : 0;
			early += l <= 0;
		} else {
			lost++;
		}
		usleep(5000);
	}
	if (!nl)
		unlink(errfile);
	qsort(lat, got, sizeof(*lat), cmp_double);
	qsort(lat_s, got, sizeof(*lat_s), cmp_double);
	printf("latency n=%u lost=%u p50=%.3f p90=%.3f p99=%.3f max=%.3f mean=%.3f "
	       "s50=%.3f s99=%.3f early=%u resyncs=%u\n",
	       got, lost, pct(lat, got, 0.50), pct(lat, got, 0.90), pct(lat, got, 0.99),
	       got ? lat[got - 1] : -1, got ? sum / got : -1,
	       pct(lat_s, got, 0.50), pct(lat_s, got, 0.99), early, m.resyncs);
	free(lat);
	free(lat_s);
	if (nl)
		mnl_socket_close(nl);
}

static void run_wait(const char *tor, const char *range, unsigned count, double timeout_s,
		     char *const argv[])
{
	struct mon m;
	double t0, deadline, cmd_done = -1;
	pid_t pid;
	int pfd;

	mon_open(&m, tor, range);
	if (count > m.size)
		die("--count %u does not fit --range %s", count, range);
	if (m.n_seen)
		fprintf(stderr, "bgpbench: note: %u routes of %s already in the ToR's FIB\n", m.n_seen, range);
	t0 = now_ms();
	pid = spawn(argv, NULL, NULL, NULL);
	pfd = pidfd_of(pid);
	deadline = t0 + timeout_s * 1e3;
	while (m.n_seen < count && now_ms() < deadline) {
		struct pollfd p[2] = {
			{ .fd = mnl_socket_get_fd(m.ev), .events = POLLIN },
			{ .fd = pfd, .events = POLLIN },
		};

		if (poll(p, pfd >= 0 ? 2 : 1, 100) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (p[0].revents)
			mon_read(&m);
		if (pfd >= 0 && p[1].revents) {
			int rc;

			cmd_done = now_ms() - t0;
			rc = reap(pid);
			close(pfd);
			pfd = -1;
			if (rc != 0)
				die("%s exited %d", argv[0], rc);
		}
	}
	if (pfd >= 0) {
		cmd_done = now_ms() - t0;
		if (reap(pid) != 0)
			die("%s failed", argv[0]);
	}
	printf("wait n=%u seen=%u first=%.1f all=%.1f cmd=%.1f resyncs=%u\n", count, m.n_seen,
	       m.first_new ? m.first_new - t0 : -1, m.n_seen >= count ? m.last_new - t0 : -1,
	       cmd_done, m.resyncs);
}

static void usage(int code)
{
	fputs("usage: bgpbench latency --tor NS --node NS --range A.B.C.D/LEN --count N\n"
	      "                 (--route-dev IF | --cni PLUGIN --cni-conf FILE --cni-path DIR\n"
	      "                  [--cni-env K=V]... --container-prefix NAME)\n"
	      "       bgpbench wait --tor NS --range A.B.C.D/LEN --count N [--timeout S] -- CMD...\n",
	      code ? stderr : stdout);
	exit(code);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tor", required_argument, NULL, 't' },
		{ "node", required_argument, NULL, 'n' },
		{ "range", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "route-dev", required_argument, NULL, 'd' },
		{ "cni", required_argument, NULL, 'p' },
		{ "cni-conf", required_argument, NULL, 'f' },
		{ "cni-path", required_argument, NULL, 'P' },
		{ "cni-env", required_argument, NULL, 'e' },
		{ "container-prefix", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct latency_opts o = { 0 };
	double timeout_s = 60;
	const char *mode;
	int c;

	if (argc < 2)
		usage(2);
	mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 't': o.tor = optarg; break;
		case 'n': o.node = optarg; break;
		case 'r': o.range = optarg; break;
		case 'c': o.count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': timeout_s = strtod(optarg, NULL); break;
		case 'd': o.dev = optarg; break;
		case 'p': o.cni = optarg; break;
		case 'f': o.cni_conf = optarg; break;
		case 'P': o.cni_path = optarg; break;
		case 'e':
			if (o.n_env == MAX_ENV)
				die("--cni-env: at most %d", MAX_ENV);
			o.env[o.n_env++] = optarg;
			break;
		case 'x': o.prefix = optarg; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!o.tor || !o.range || o.count == 0)
		die("--tor, --range and --count (> 0) are required (see --help)");
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(mode, "latency") == 0) {
		if (!o.node)
			die("latency: --node is required");
		if (!o.dev && !(o.cni && o.cni_conf && o.cni_path && o.prefix))
			die("latency: give --route-dev IF, or --cni, --cni-conf, --cni-path and --container-prefix");
		run_latency(&o);
	} else if (strcmp(mode, "wait") == 0) {
		if (optind >= argc)
			die("wait: the command to run goes after --");
		run_wait(o.tor, o.range, o.count, timeout_s, argv + optind);
	} else {
		die("unknown mode '%s': latency or wait", mode);
	}
	fflush(stdout);
	return 0;
}
