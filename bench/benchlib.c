/* benchlib.c — the helpers every bench/ driver had a copy of (benchlib.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

const char *bench_prog = "bench";

void
bench_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", bench_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void *
bench_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		bench_die("out of memory");
	return p;
}

double
bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

unsigned
bench_uint(const char *opt, const char *arg, unsigned lo, unsigned hi)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno || v < lo || v > hi)
		bench_die("--%s %s: expected a number from %u to %u", opt, arg, lo, hi);
	return (unsigned)v;
}

char *
bench_slurp_fd(int fd)
{
	off_t len = lseek(fd, 0, SEEK_END);
	char *buf;

	if (len < 0)
		len = 0;
	buf = bench_calloc(1, (size_t)len + 1);
	if (len > 0 && pread(fd, buf, (size_t)len, 0) != len)
		bench_die("cannot read back an output file: %s", strerror(errno));
	return buf;
}

char *
bench_slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *s;

	if (fd < 0)
		bench_die("cannot open %s: %s", path, strerror(errno));
	s = bench_slurp_fd(fd);
	close(fd);
	return s;
}

/* ---- percentiles ---------------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void
bench_sort(double *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_double);
}

double
bench_pct(const double *sorted, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)ceil(p * (double)n);
	return sorted[i > 0 ? (i > n ? n : i) - 1 : 0];
}

struct bench_stats
bench_stats(double *v, size_t n)
{
	struct bench_stats s = { 0 };
	double sum = 0;

	if (n == 0)
		return s;
	bench_sort(v, n);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	s.p50 = bench_pct(v, n, 0.5);
	s.p99 = bench_pct(v, n, 0.99);
	s.max = v[n - 1];
	s.mean = sum / (double)n;
	s.valid = true;
	return s;
}

/* ---- a CNI plugin process ------------------------------------------------- */

void
bench_cni_env(struct bench_cni *p, const char *kv)
{
	if (p->n_env == BENCH_MAX_ENV)
		bench_die("more than %d extra environment variables for %s", BENCH_MAX_ENV, p->bin);
	p->env[p->n_env++] = kv;
}

int
bench_memfd(const char *name, const char *text)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	size_t len = text ? strlen(text) : 0, off = 0;

	if (fd < 0)
		bench_die("memfd_create: %s", strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0)
			bench_die("memfd write: %s", strerror(errno));
		off += (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

void
bench_call_prepare(struct bench_call *c, const struct bench_cni *p)
{
	c->pid = 0;
	c->status = 0;
	c->fd_in = bench_memfd("stdin", p->conf);
	c->fd_out = bench_memfd("stdout", NULL);
	c->fd_err = p->err_to_out ? -1 : bench_memfd("stderr", NULL);
}

void
bench_call_spawn(struct bench_call *c, const struct bench_cni *p, const char *cmd,
		 const char *cid, const char *netns)
{
	char e_cmd[64], e_cid[160], e_ns[300], e_path[1024];
	char *envp[8 + BENCH_MAX_ENV], *argv[] = { (char *)p->bin, NULL };
	posix_spawn_file_actions_t fa;
	size_t n = 0;
	int err;

	snprintf(e_cmd, sizeof(e_cmd), "CNI_COMMAND=%s", cmd);
	snprintf(e_cid, sizeof(e_cid), "CNI_CONTAINERID=%s", cid);
	snprintf(e_ns, sizeof(e_ns), "CNI_NETNS=%s", netns);
	snprintf(e_path, sizeof(e_path), "CNI_PATH=%s", p->cni_path ? p->cni_path : "/usr/lib/cni");
	envp[n++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	envp[n++] = e_cmd;
	envp[n++] = e_cid;
	envp[n++] = e_ns;
	envp[n++] = "CNI_IFNAME=eth0";
	envp[n++] = e_path;
	for (size_t k = 0; k < p->n_env; k++)
		envp[n++] = (char *)p->env[k];
	envp[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, c->fd_in, 0);
	posix_spawn_file_actions_adddup2(&fa, c->fd_out, 1);
	posix_spawn_file_actions_adddup2(&fa, c->fd_err >= 0 ? c->fd_err : c->fd_out, 2);
	c->t0 = bench_now_ms();
	err = posix_spawn(&c->pid, p->bin, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (err)
		bench_die("posix_spawn %s: %s", p->bin, strerror(err));
}

void
bench_call_wait(struct bench_call *c)
{
	while (waitpid(c->pid, &c->status, 0) < 0)
		if (errno != EINTR)
			bench_die("waitpid: %s", strerror(errno));
	c->t1 = bench_now_ms();
	c->pid = 0;
}

int
bench_call_reap(struct bench_call *calls, size_t n)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, 0)) < 0)
		if (errno != EINTR)
			bench_die("waitpid: %s", strerror(errno));
	for (size_t k = 0; k < n; k++)
		if (calls[k].pid == pid) {
			calls[k].status = status;
			calls[k].t1 = bench_now_ms();
			calls[k].pid = 0;
			return (int)k;
		}
	return -1;		/* not ours (a plugin's own child, reparented) */
}

bool
bench_call_ok(const struct bench_call *c)
{
	return WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0;
}

static void
dump_fd(const char *what, int fd)
{
	char *s;

	if (fd < 0)
		return;
	s = bench_slurp_fd(fd);
	fprintf(stderr, "--- %s ---\n%s\n", what, s);
	free(s);
}

void
bench_call_fail(const struct bench_call *c, const char *what)
{
	fprintf(stderr, "%s: %s failed (status 0x%x)\n", bench_prog, what, c->status);
	dump_fd("stdout", c->fd_out);
	dump_fd("stderr", c->fd_err);
	exit(1);
}

void
bench_call_close(struct bench_call *c)
{
	close(c->fd_in);
	close(c->fd_out);
	if (c->fd_err >= 0)
		close(c->fd_err);
	c->fd_in = c->fd_out = c->fd_err = -1;
}

double
bench_cni_invoke(const struct bench_cni *p, const char *label, const char *cmd,
		 const char *cid, const char *netns)
{
	struct bench_call c;

	bench_call_prepare(&c, p);
	bench_call_spawn(&c, p, cmd, cid, netns);
	bench_call_wait(&c);
	if (!bench_call_ok(&c)) {
		char what[512];

		snprintf(what, sizeof(what), "%s %s %s", label, cmd, cid);
		bench_call_fail(&c, what);
	}
	bench_call_close(&c);
	return c.t1 - c.t0;
}
