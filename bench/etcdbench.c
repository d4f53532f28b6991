/* etcdbench — the measuring half of bench/etcd_bench: CNI ADDs (or DELs)
 * from several simulated hosts at once, every one of them started at the
 * same moment, the way kubelets on several nodes start pods together.
 *
 *   etcdbench --plugin BIN --conf CNI.json [--path DIR] --cmd ADD|DEL
 *             --host 'NETNS|LEAFNET_CONF|PODNS_PREFIX|CID_PREFIX|COUNT'...
 *             [--retries N] [--addrs FILE]
 *
 * For each host, COUNT calls: container CID_PREFIX-k in /run/netns/
 * PODNS_PREFIX-k (k = 1..COUNT), the plugin started inside the host's
 * network namespace NETNS (/run/netns/NETNS, entered with setns before
 * each posix_spawn) with LEAFNET_CONF=LEAFNET_CONF.  Every call of every
 * host is started before the first is waited for (hosts taken in turn, so
 * none is ahead); latency is spawn to reap.  A failed call is run again,
 * up to --retries times in all (as a kubelet retries a sandbox), its
 * latency counted from its first try; one that still fails is counted in
 * failed= and its output printed.
 *
 * Prints one line:
 *   run cmd=ADD hosts=H n=N wall=MS p50=MS p99=MS max=MS retried=R failed=F
 *       [addrs=A unique=U dups=D]
 * With ADD: every result's first IP address, over all hosts: A of them,
 * U distinct, D = A - U duplicates (each duplicate named on stderr: two
 * containers were given one address, an IPAM bug).  --addrs writes
 * "ADDRESS HOSTNETNS CID" lines.  A sanitizer report in any call's stderr
 * is copied to our stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cJSON.h>

#include "benchlib.h"

#define MAX_HOSTS	64

struct host {
	char *netns, *conf_env, *pod_prefix, *cid_prefix;
	unsigned count;
	int nsfd;
	struct bench_cni cni;
};

struct slot {				/* calls[i] is slot i's process */
	unsigned host, k, tries;
	double first_t0;
};

static struct host hosts[MAX_HOSTS];
static struct bench_call *calls;
static unsigned n_hosts, retries = 1;
static const char *plugin, *conf_text, *cni_path = "/usr/lib/cni", *cmd, *addrs_path;
static char san_env[2][512];

/* 'NETNS|LEAFNET_CONF|PODNS_PREFIX|CID_PREFIX|COUNT' */
static void
parse_host(char *spec)
{
	struct host *h;
	char *f[5], *save = NULL;
	size_t n = 0;

	if (n_hosts == MAX_HOSTS)
		bench_die("at most %d --host", MAX_HOSTS);
	for (char *t = strtok_r(spec, "|", &save); t && n < 5; t = strtok_r(NULL, "|", &save))
		f[n++] = t;
	if (n != 5)
		bench_die("--host %s: expected NETNS|LEAFNET_CONF|PODNS_PREFIX|CID_PREFIX|COUNT", spec);
	h = &hosts[n_hosts++];
	h->netns = f[0];
	if (asprintf(&h->conf_env, "LEAFNET_CONF=%s", f[1]) < 0)
		bench_die("out of memory");
	h->pod_prefix = f[2];
	h->cid_prefix = f[3];
	h->count = bench_uint("host COUNT", f[4], 1, 100000);
}

static void
slot_start(struct slot *s, struct bench_call *call, int self_ns)
{
	const struct host *h = &hosts[s->host];
	char cid[160], ns[300];

	snprintf(cid, sizeof(cid), "%s-%u", h->cid_prefix, s->k);
	snprintf(ns, sizeof(ns), "/run/netns/%s-%u", h->pod_prefix, s->k);
	if (setns(h->nsfd, CLONE_NEWNET) < 0)
		bench_die("setns into %s: %s", h->netns, strerror(errno));
	bench_call_prepare(call, &h->cni);
	bench_call_spawn(call, &h->cni, cmd, cid, ns);
	if (setns(self_ns, CLONE_NEWNET) < 0)
		bench_die("setns back: %s", strerror(errno));
	s->tries++;
}

/* The first IP address of a CNI result, without its prefix length. */
static char *
result_addr(const char *out)
{
	cJSON *root = cJSON_Parse(out), *ips, *ip, *a;
	char *r = NULL;

	ips = cJSON_GetObjectItemCaseSensitive(root, "ips");
	ip = cJSON_IsArray(ips) ? cJSON_GetArrayItem(ips, 0) : NULL;
	a = ip ? cJSON_GetObjectItemCaseSensitive(ip, "address") : NULL;
	if (cJSON_IsString(a)) {
		r = strdup(a->valuestring);
		if (r)
			r[strcspn(r, "/")] = '\0';
	}
	cJSON_Delete(root);
	return r;
}

static void
san_copy(const struct slot *s, const struct bench_call *call)
{
	char *e = bench_slurp_fd(call->fd_err);

	if (strstr(e, "Sanitizer") || strstr(e, "runtime error:"))
		fprintf(stderr, "%s: sanitizer report from %s %s-%u:\n%s\n", bench_prog, cmd,
			hosts[s->host].cid_prefix, s->k, e);
	free(e);
}

struct addr_rec {
	char *addr;
	unsigned host, k;
};

static int
cmp_rec(const void *a, const void *b)
{
	return strcmp(((const struct addr_rec *)a)->addr, ((const struct addr_rec *)b)->addr);
}

static int
run(void)
{
	unsigned total = 0, failed = 0, retried = 0, n_lat = 0, n_addr = 0;
	struct slot *slots;
	struct addr_rec *recs;
	double *lat, t0, t_end;
	int self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	unsigned running = 0;
	bool add = strcmp(cmd, "ADD") == 0;

	if (self_ns < 0)
		bench_die("cannot open our netns: %s", strerror(errno));
	for (unsigned i = 0; i < n_hosts; i++) {
		char path[300];

		snprintf(path, sizeof(path), "/run/netns/%s", hosts[i].netns);
		hosts[i].nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (hosts[i].nsfd < 0)
			bench_die("cannot open %s: %s", path, strerror(errno));
		hosts[i].cni = (struct bench_cni){ .bin = plugin, .conf = conf_text, .cni_path = cni_path };
		bench_cni_env(&hosts[i].cni, hosts[i].conf_env);
		for (size_t k = 0; k < 2; k++)
			if (san_env[k][0])
				bench_cni_env(&hosts[i].cni, san_env[k]);
		total += hosts[i].count;
	}
	slots = bench_calloc(total, sizeof(*slots));
	calls = bench_calloc(total, sizeof(*calls));
	lat = bench_calloc(total, sizeof(double));
	recs = bench_calloc(total, sizeof(*recs));
	/* hosts in turn: k = 1 of every host, then k = 2, ... */
	for (unsigned k = 1, n = 0; n < total; k++)
		for (unsigned i = 0; i < n_hosts; i++)
			if (k <= hosts[i].count) {
				slots[n].host = i;
				slots[n++].k = k;
			}
	t0 = bench_now_ms();
	for (unsigned n = 0; n < total; n++) {
		slot_start(&slots[n], &calls[n], self_ns);
		slots[n].first_t0 = calls[n].t0;
		running++;
	}
	while (running > 0) {
		struct bench_call *call;
		struct slot *s;
		int idx = bench_call_reap(calls, total);

		if (idx < 0)
			continue;	/* a plugin's own child (DEL's deleter), reparented */
		s = &slots[idx];
		call = &calls[idx];
		san_copy(s, call);
		if (!bench_call_ok(call) && s->tries < retries) {
			char *o = bench_slurp_fd(call->fd_out);

			retried++;
			fprintf(stderr, "%s: %s %s-%u failed (status 0x%x), retried: %.300s\n", bench_prog,
				cmd, hosts[s->host].cid_prefix, s->k, call->status, o);
			free(o);
			bench_call_close(call);
			slot_start(s, call, self_ns);
			continue;
		}
		running--;
		lat[n_lat++] = call->t1 - s->first_t0;
		if (!bench_call_ok(call)) {
			char *o = bench_slurp_fd(call->fd_out), *e = bench_slurp_fd(call->fd_err);

			failed++;
			fprintf(stderr, "%s: %s %s-%u failed for good (status 0x%x)\n--- stdout ---\n%s\n"
				"--- stderr ---\n%.2000s\n", bench_prog, cmd, hosts[s->host].cid_prefix, s->k,
				call->status, o, e);
			free(o);
			free(e);
		} else if (add) {
			char *o = bench_slurp_fd(call->fd_out), *a = result_addr(o);

			if (a) {
				recs[n_addr].addr = a;
				recs[n_addr].host = s->host;
				recs[n_addr++].k = s->k;
			} else {
				fprintf(stderr, "%s: ADD %s-%u: no address in its result: %.300s\n",
					bench_prog, hosts[s->host].cid_prefix, s->k, o);
			}
			free(o);
		}
		bench_call_close(call);
	}
	t_end = bench_now_ms();
	bench_sort(lat, n_lat);
	printf("run cmd=%s hosts=%u n=%u wall=%.1f p50=%.3f p99=%.3f max=%.3f retried=%u failed=%u",
	       cmd, n_hosts, total, t_end - t0, bench_pct(lat, n_lat, 0.5), bench_pct(lat, n_lat, 0.99),
	       n_lat ? lat[n_lat - 1] : 0, retried, failed);
	if (add) {
		unsigned dups = 0;
		FILE *af = NULL;

		if (addrs_path && !(af = fopen(addrs_path, "w")))
			bench_die("cannot write %s: %s", addrs_path, strerror(errno));
		qsort(recs, n_addr, sizeof(*recs), cmp_rec);
		for (unsigned i = 0; i < n_addr; i++) {
			if (af)
				fprintf(af, "%s %s %s-%u\n", recs[i].addr, hosts[recs[i].host].netns,
					hosts[recs[i].host].cid_prefix, recs[i].k);
			if (i > 0 && strcmp(recs[i].addr, recs[i - 1].addr) == 0) {
				dups++;
				fprintf(stderr, "%s: DUPLICATE address %s: %s-%u (%s) and %s-%u (%s)\n",
					bench_prog, recs[i].addr, hosts[recs[i - 1].host].cid_prefix,
					recs[i - 1].k, hosts[recs[i - 1].host].netns,
					hosts[recs[i].host].cid_prefix, recs[i].k, hosts[recs[i].host].netns);
			}
		}
		if (af)
			fclose(af);
		printf(" addrs=%u unique=%u dups=%u", n_addr, n_addr - dups, dups);
	}
	printf("\n");
	for (unsigned i = 0; i < n_addr; i++)
		free(recs[i].addr);
	free(recs);
	free(lat);
	free(slots);
	free(calls);
	close(self_ns);
	return failed ? 1 : 0;
}

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: etcdbench --plugin BIN --conf CNI.json [--path DIR] --cmd ADD|DEL\n"
		"                 --host 'NETNS|LEAFNET_CONF|PODNS_PREFIX|CID_PREFIX|COUNT'...\n"
		"                 [--retries N] [--addrs FILE]\n");
	exit(status);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plugin", required_argument, NULL, 'p' },
		{ "conf", required_argument, NULL, 'c' },
		{ "path", required_argument, NULL, 'P' },
		{ "cmd", required_argument, NULL, 'C' },
		{ "host", required_argument, NULL, 'H' },
		{ "retries", required_argument, NULL, 'R' },
		{ "addrs", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *san[2] = { "ASAN_OPTIONS", "UBSAN_OPTIONS" };
	int c;

	bench_prog = "etcdbench";
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': plugin = optarg; break;
		case 'c': conf_text = bench_slurp(optarg); break;
		case 'P': cni_path = optarg; break;
		case 'C': cmd = optarg; break;
		case 'H': parse_host(optarg); break;
		case 'R': retries = bench_uint("retries", optarg, 1, 1000000); break;
		case 'a': addrs_path = optarg; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!plugin || !conf_text || !cmd || n_hosts == 0 ||
	    (strcmp(cmd, "ADD") != 0 && strcmp(cmd, "DEL") != 0))
		usage(2);
	/* a sanitizer build's options reach the plugins, as tests/lib.sh passes them */
	for (size_t k = 0; k < 2; k++) {
		const char *v = getenv(san[k]);

		if (v && *v)
			snprintf(san_env[k], sizeof(san_env[k]), "%s=%s", san[k], v);
	}
	return run();
}
