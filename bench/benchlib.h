/* benchlib.h — what the bench/ drivers share: a monotonic clock,
 * percentiles, reading files, number options, and a CNI plugin started with
 * posix_spawn (config on stdin, output into memfds) and waited for.
 *
 * Not a layer: it is linked into each bench/ binary only (Makefile).  Every
 * failure here ends the process with "<bench_prog>: <message>", since a
 * figure over a failed run means nothing.
 */
#ifndef LEAFNET_BENCHLIB_H
#define LEAFNET_BENCHLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define BENCH_MAX_ENV	8	/* K=V a plugin gets beyond the CNI_* ones */

/* The program's name in bench_die's messages ("cnibench"). */
extern const char *bench_prog;

_Noreturn void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *bench_calloc(size_t n, size_t size);	/* dies when out of memory */

double bench_now_ms(void);			/* CLOCK_MONOTONIC, milliseconds */

/* An unsigned option value: all digits, within [lo, hi], else dies naming
 * the option. */
unsigned bench_uint(const char *opt, const char *arg, unsigned lo, unsigned hi);

/* A file's whole text, NUL-terminated, malloc'd (dies when unreadable). */
char *bench_slurp(const char *path);
char *bench_slurp_fd(int fd);			/* from offset 0, whatever the position */

/* ---- percentiles: nearest rank (the ceil(p * n)-th smallest) ---------- */
struct bench_stats {
	double p50, p99, max, mean;
	bool valid;			/* n > 0 */
};

void bench_sort(double *v, size_t n);
double bench_pct(const double *sorted, size_t n, double p);	/* 0 when n == 0 */
struct bench_stats bench_stats(double *v, size_t n);		/* sorts v */

/* ---- one CNI plugin process --------------------------------------------- */
struct bench_cni {			/* what is started */
	const char *bin;
	const char *conf;		/* network config text, its stdin */
	const char *cni_path;		/* CNI_PATH (NULL: /usr/lib/cni) */
	const char *env[BENCH_MAX_ENV];	/* more K=V */
	size_t n_env;
	bool err_to_out;		/* stderr into the stdout memfd */
};

struct bench_call {			/* one run of it */
	pid_t pid;
	int fd_in, fd_out, fd_err;
	int status;
	double t0, t1;			/* spawned, reaped (bench_now_ms) */
};

void bench_cni_env(struct bench_cni *p, const char *kv);	/* append one K=V */
/* memfd with text (NULL: empty), offset 0 */
int bench_memfd(const char *name, const char *text);
/* The memfds (not timed), then the spawn (t0 just before it).  The plugin
 * gets PATH, CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME=eth0,
 * CNI_PATH, then p->env; it runs in the caller's network namespace. */
void bench_call_prepare(struct bench_call *c, const struct bench_cni *p);
void bench_call_spawn(struct bench_call *c, const struct bench_cni *p, const char *cmd,
		      const char *cid, const char *netns);
void bench_call_wait(struct bench_call *c);	/* waitpid(c->pid); t1 */
/* waitpid(-1): the index of the call in calls[0..n) that ended (its status
 * and t1 set, pid cleared), or -1 for a child that is none of them. */
int bench_call_reap(struct bench_call *calls, size_t n);
bool bench_call_ok(const struct bench_call *c);	/* exited 0 */
/* "<prog>: <what> failed (status 0x..)", its stdout and stderr; exits 1 */
_Noreturn void bench_call_fail(const struct bench_call *c, const char *what);
void bench_call_close(struct bench_call *c);
/* prepare + spawn + wait; dies (bench_call_fail) unless it exited 0; ms */
double bench_cni_invoke(const struct bench_cni *p, const char *label, const char *cmd,
			const char *cid, const char *netns);

#endif
