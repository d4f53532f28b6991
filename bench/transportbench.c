/* transportbench — CNI ADD/DEL of one leafnet binary (or several) under
 * several environments, interleaved in one run: the file store against
 * the etcd store through libevent's evhttp and through libcurl
 * (bench/etcd_transport_bench sets it up).
 *
 *   transportbench --conf CNI.json --netns-prefix NAME --netns-count N
 *                  [--iterations N] --variant 'LABEL|BIN|K=V,K=V' ...
 *
 * Each iteration runs ADD then DEL of every variant in turn (round robin,
 * so a burst of load on this shared machine hits them all alike), timing
 * fork/exec + the plugin's work + exit with CLOCK_MONOTONIC; then VERSION
 * (process start alone) the same way.  The first variant is the reference
 * of the ratio column.  Every invocation must succeed: one failure stops
 * the run with the plugin's output.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "benchlib.h"

#define WARMUP		5
#define MAX_VARIANTS	6

struct variant {
	char *label;
	struct bench_cni cni;
	double *add, *del, *version;
};

static struct variant vs[MAX_VARIANTS];
static size_t n_vs;
static const char *conf_text, *ns_prefix;
static unsigned ns_count = 8, iterations = 200;

/* One timed invocation of v's binary; milliseconds. */
static double
invoke(const struct variant *v, const char *cmd, const char *cid, const char *netns)
{
	return bench_cni_invoke(&v->cni, v->label, cmd, cid, netns);
}

/* "LABEL|BIN|K=V,K=V" */
static void
parse_variant(char *spec)
{
	struct variant *v;
	char *bin, *env, *tok, *save = NULL;

	if (n_vs == MAX_VARIANTS)
		bench_die("at most %d variants", MAX_VARIANTS);
	v = &vs[n_vs++];
	v->label = spec;
	if ((bin = strchr(spec, '|')) == NULL)
		bench_die("--variant %s: LABEL|BIN|K=V,...", spec);
	*bin++ = '\0';
	v->cni.bin = bin;
	if ((env = strchr(bin, '|')) != NULL) {
		*env++ = '\0';
		for (tok = strtok_r(env, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			bench_cni_env(&v->cni, tok);
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "netns-prefix", required_argument, NULL, 'n' },
		{ "netns-count", required_argument, NULL, 'N' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "variant", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	char cid[96], ns[256];
	struct utsname u;
	double ref_add = 0;
	int c;

	bench_prog = "transportbench";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_text = bench_slurp(optarg); break;
		case 'n': ns_prefix = optarg; break;
		case 'N': ns_count = bench_uint("netns-count", optarg, 1, 1000000); break;
		case 'i': iterations = bench_uint("iterations", optarg, 1, 100000000); break;
		case 'v': parse_variant(optarg); break;
		default:
			fprintf(stderr, "usage: transportbench --conf CNI.json --netns-prefix NAME "
				"[--netns-count N] [--iterations N] --variant 'LABEL|BIN|K=V,...' ...\n");
			return 2;
		}
	}
	if (!conf_text || !ns_prefix || n_vs == 0 || iterations == 0 || ns_count == 0)
		bench_die("--conf, --netns-prefix and a --variant are needed (--help)");
	for (size_t k = 0; k < n_vs; k++) {
		vs[k].cni.conf = conf_text;	/* --conf may come after --variant */
		vs[k].add = bench_calloc(iterations, sizeof(double));
		vs[k].del = bench_calloc(iterations, sizeof(double));
		vs[k].version = bench_calloc(iterations, sizeof(double));
	}
	fprintf(stderr, "# %u ADD+DEL per variant (+%u warm-up), interleaved\n", iterations, WARMUP);
	for (unsigned i = 0; i < WARMUP + iterations; i++) {
		snprintf(ns, sizeof(ns), "/run/netns/%s-%u", ns_prefix, i % ns_count + 1);
		for (size_t k = 0; k < n_vs; k++) {
			double a, d;

			snprintf(cid, sizeof(cid), "tb-%zu-%u", k, i);
			a = invoke(&vs[k], "ADD", cid, ns);
			d = invoke(&vs[k], "DEL", cid, ns);
			if (i >= WARMUP) {
				vs[k].add[i - WARMUP] = a;
				vs[k].del[i - WARMUP] = d;
			}
		}
	}
	for (unsigned i = 0; i < WARMUP + iterations; i++)
		for (size_t k = 0; k < n_vs; k++) {
			double t = invoke(&vs[k], "VERSION", "tb-version", "/dev/null");

			if (i >= WARMUP)
				vs[k].version[i - WARMUP] = t;
		}

	uname(&u);
	printf("\nleafnet CNI ADD by datastore transport: %u iterations each, interleaved, "
	       "kernel %s, %ld CPUs\n\n", iterations, u.release, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  %-26s %9s %9s %9s %9s %13s %12s\n", "milliseconds", "ADD p50", "ADD p99",
	       "DEL p50", "DEL p99", "VERSION p50", "ADD p50 / 1st");
	for (size_t k = 0; k < n_vs; k++) {
		struct bench_stats a = bench_stats(vs[k].add, iterations);
		struct bench_stats d = bench_stats(vs[k].del, iterations);
		struct bench_stats v = bench_stats(vs[k].version, iterations);
		double a50 = a.p50, a99 = a.p99, d50 = d.p50, d99 = d.p99, v50 = v.p50;

		if (k == 0)
			ref_add = a50;
		printf("  %-26s %9.3f %9.3f %9.3f %9.3f %13.3f %12.2f\n", vs[k].label, a50, a99,
		       d50, d99, v50, ref_add > 0 ? a50 / ref_add : 0);
	}
	return 0;
}
