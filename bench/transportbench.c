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
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP		5
#define MAX_VARIANTS	6
#define MAX_VENV	6

struct variant {
	char *label, *bin;
	char *env[MAX_VENV];
	size_t n_env;
	double *add, *del, *version;
};

static struct variant vs[MAX_VARIANTS];
static size_t n_vs;
static const char *conf_text, *ns_prefix;
static unsigned ns_count = 8, iterations = 200;

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "transportbench: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
memfd_with(const char *text)
{
	int fd = memfd_create("io", MFD_CLOEXEC);
	size_t len = text ? strlen(text) : 0, off = 0;

	if (fd < 0)
		die("memfd_create: %s", strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0)
			die("write: %s", strerror(errno));
		off += (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static void
dump(const char *what, int fd)
{
	char buf[4096];
	ssize_t r;

	lseek(fd, 0, SEEK_SET);
	fprintf(stderr, "--- %s ---\n", what);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)r, stderr);
	fputc('\n', stderr);
}

/* One timed invocation of v's binary; milliseconds. */
static double
invoke(const struct variant *v, const char *cmd, const char *cid, const char *netns)
{
	char e_cmd[64], e_cid[128], e_ns[256];
	char *envp[8 + MAX_VENV], *argv[] = { v->bin, NULL };
	int in = memfd_with(conf_text), out = memfd_with(NULL), err = memfd_with(NULL);
	posix_spawn_file_actions_t fa;
	size_t n = 0;
	double t0, t1;
	int status, e;
	pid_t pid;

	snprintf(e_cmd, sizeof(e_cmd), "CNI_COMMAND=%s", cmd);
	snprintf(e_cid, sizeof(e_cid), "CNI_CONTAINERID=%s", cid);
	snprintf(e_ns, sizeof(e_ns), "CNI_NETNS=%s", netns);
	envp[n++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	envp[n++] = e_cmd;
	envp[n++] = e_cid;
	envp[n++] = e_ns;
	envp[n++] = "CNI_IFNAME=eth0";
	envp[n++] = "CNI_PATH=/usr/lib/cni";
	for (size_t i = 0; i < v->n_env; i++)
		envp[n++] = v->env[i];
	envp[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	t0 = now_ms();
	e = posix_spawn(&pid, v->bin, &fa, NULL, argv, envp);
	if (e)
		die("posix_spawn: %s", strerror(e));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	t1 = now_ms();
	posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "transportbench: %s %s %s failed (status 0x%x)\n",
			v->label, cmd, cid, status);
		dump("stdout", out);
		dump("stderr", err);
		exit(1);
	}
	close(in);
	close(out);
	close(err);
	return t1 - t0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
pct(double *v, size_t n, double p)
{
	size_t i = (size_t)ceil(p * (double)n);

	qsort(v, n, sizeof(*v), cmp_double);
	return v[i > 0 ? i - 1 : 0];
}

/* "LABEL|BIN|K=V,K=V" */
static void
parse_variant(char *spec)
{
	struct variant *v;
	char *env, *tok, *save = NULL;

	if (n_vs == MAX_VARIANTS)
		die("at most %s variants", "6");
	v = &vs[n_vs++];
	v->label = spec;
	if ((v->bin = strchr(spec, '|')) == NULL)
		die("--variant %s: LABEL|BIN|K=V,...", spec);
	*v->bin++ = '\0';
	if ((env = strchr(v->bin, '|')) != NULL) {
		*env++ = '\0';
		for (tok = strtok_r(env, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (v->n_env == MAX_VENV)
				die("--variant %s: too many K=V", v->label);
			v->env[v->n_env++] = tok;
		}
	}
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (!f)
		die("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
		die("cannot read %s", path);
	fclose(f);
	return buf;
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

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_text = slurp(optarg); break;
		case 'n': ns_prefix = optarg; break;
		case 'N': ns_count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'i': iterations = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'v': parse_variant(optarg); break;
		default:
			fprintf(stderr, "usage: transportbench --conf CNI.json --netns-prefix NAME "
				"[--netns-count N] [--iterations N] --variant 'LABEL|BIN|K=V,...' ...\n");
			return 2;
		}
	}
	if (!conf_text || !ns_prefix || n_vs == 0 || iterations == 0 || ns_count == 0)
		die("%s", "--conf, --netns-prefix and a --variant are needed (--help)");
	for (size_t k = 0; k < n_vs; k++) {
		vs[k].add = calloc(iterations, sizeof(double));
		vs[k].del = calloc(iterations, sizeof(double));
		vs[k].version = calloc(iterations, sizeof(double));
		if (!vs[k].add || !vs[k].del || !vs[k].version)
			die("%s", "out of memory");
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
		double a50 = pct(vs[k].add, iterations, 0.5), a99 = pct(vs[k].add, iterations, 0.99);
		double d50 = pct(vs[k].del, iterations, 0.5), d99 = pct(vs[k].del, iterations, 0.99);
		double v50 = pct(vs[k].version, iterations, 0.5);

		if (k == 0)
			ref_add = a50;
		printf("  %-26s %9.3f %9.3f %9.3f %9.3f %13.3f %12.2f\n", vs[k].label, a50, a99,
		       d50, d99, v50, ref_add > 0 ? a50 / ref_add : 0);
	}
	return 0;
}
