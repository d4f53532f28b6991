/* daemon.c — leafnetd's single-threaded poll() loop.
 *
 * Everything that can wake the daemon is a registered fd (the signal
 * self-pipe, the kernel route monitor, the control socket and its clients,
 * the BGP listener and the BGP side's peer sockets) or a due time (BGP
 * timers, the 1 s bgp/revision check, the RIB's deferred refresh,
 * ld_wakeup_at()).  Signal handlers only set flags and poke the pipe.
 * Every turn ends with bgp_flush(), so all the changes one turn made
 * leave in as few UPDATEs as the BGP side can pack them into.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "ld_local.h"
#include "log.h"
#include "store.h"

struct ld_io {
	int fd;
	short events;
	ld_io_cb cb;
	void *arg;
	uint64_t gen;			/* changes when the slot is reused */
};

static volatile sig_atomic_t sig_quit, sig_hup;
static int sig_wfd = -1;

static void
ld_sig_handler(int sig)
{
	int saved = errno;

	if (sig == SIGHUP)
		sig_hup = 1;
	else
		sig_quit = sig;
	if (sig_wfd >= 0)
		(void)!write(sig_wfd, "", 1);
	errno = saved;
}

static struct ld_io *
ld_io_find(struct ld *d, int fd)
{
	for (size_t i = 0; i < d->n_io; i++)
		if (d->io[i].fd == fd)
			return &d->io[i];
	return NULL;
}

int
ld_io_add(struct ld *d, int fd, short events, ld_io_cb cb, void *arg)
{
	struct ld_io *io;

	if (fd < 0 || cb == NULL)
		return -EINVAL;
	if (ld_io_find(d, fd) != NULL)
		return -EEXIST;
	if (d->n_io == d->cap_io) {
		size_t cap = d->cap_io ? d->cap_io * 2 : 16;

		io = realloc(d->io, cap * sizeof(*io));
		if (io == NULL)
			return -ENOMEM;
		d->io = io;
		d->cap_io = cap;
	}
	io = &d->io[d->n_io++];
	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->arg = arg;
	io->gen = ++d->io_gen;
	return 0;
}

void
ld_io_events(struct ld *d, int fd, short events)
{
	struct ld_io *io = ld_io_find(d, fd);

	if (io != NULL)
		io->events = events;
}

void
ld_io_del(struct ld *d, int fd)
{
	struct ld_io *io = ld_io_find(d, fd);

	if (io == NULL)
		return;
	*io = d->io[--d->n_io];
}

void
ld_wakeup_at(struct ld *d, uint64_t due)
{
	if (due != 0 && (d->wakeup == 0 || due < d->wakeup))
		d->wakeup = due;
}

void
ld_reload_request(struct ld *d)
{
	d->reload_wanted = true;
}

static void
ld_sigpipe_cb(struct ld *d, int fd, short revents, void *arg)
{
	char buf[64];

	(void)d;
	(void)revents;
	(void)arg;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int
ld_signals(struct ld *d)
{
	struct sigaction sa;

	if (pipe2(d->sigpipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	sig_wfd = d->sigpipe[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ld_sig_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		return -errno;
	/* peers and control clients vanish: EPIPE, not death */
	(void)signal(SIGPIPE, SIG_IGN);
	return ld_io_add(d, d->sigpipe[0], POLLIN, ld_sigpipe_cb, NULL);
}

/* The earliest due time of everything, as a poll() timeout. */
static int
ld_timeout(struct ld *d, uint64_t bgp_next, uint64_t now)
{
	uint64_t due = d->t_conf.due;

	if (bgp_next && (due == 0 || bgp_next < due))
		due = bgp_next;
	if (d->wakeup && (due == 0 || d->wakeup < due))
		due = d->wakeup;
	{
		uint64_t r = rib_timers(d->rib, 0);	/* peek */

		if (r && (due == 0 || r < due))
			due = r;
	}
	if (due == 0)
		return -1;
	if (due <= now)
		return 0;
	return due - now > 60000 ? 60000 : (int)(due - now);
}

static int
ld_poll_once(struct ld *d, int timeout)
{
	size_t n = d->n_io;
	int r;

	if (n > d->cap_pfds) {
		struct pollfd *p = realloc(d->pfds, n * sizeof(*p));
		uint64_t *g;

		if (p == NULL)
			return -ENOMEM;
		d->pfds = p;
		g = realloc(d->pgen, n * sizeof(*g));
		if (g == NULL)
			return -ENOMEM;
		d->pgen = g;
		d->cap_pfds = n;
	}
	for (size_t i = 0; i < n; i++) {
		d->pfds[i].fd = d->io[i].fd;
		d->pfds[i].events = d->io[i].events;
		d->pfds[i].revents = 0;
		d->pgen[i] = d->io[i].gen;
	}
	r = poll(d->pfds, n, timeout);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	for (size_t i = 0; i < n && r > 0; i++) {
		struct ld_io *io;

		if (d->pfds[i].revents == 0)
			continue;
		r--;
		/* a callback earlier in this turn may have removed it, or
		 * removed it and registered the same fd number again */
		io = ld_io_find(d, d->pfds[i].fd);
		if (io == NULL || io->gen != d->pgen[i])
			continue;
		io->cb(d, io->fd, d->pfds[i].revents, io->arg);
	}
	return 0;
}

static int
ld_start(struct ld *d)
{
	char err[512];
	struct leafnet_conf base;
	struct lf_err e = { 0 };
	int r;

	r = conf_load(d->config_path, &base, &e);
	if (r < 0) {
		log_warnx("%s", e.msg);
		return r;
	}
	r = store_open(&base, &d->store, NULL);
	if (r < 0) {
		log_warnx("opening the store in %s: %s", strcmp(base.datastore, "etcd") == 0
			  ? base.etcd_endpoints : base.state_dir, strerror(-r));
		return r;
	}
	r = ld_conf_build(d->config_path, d->store, &d->conf, err, sizeof(err));
	if (r < 0) {
		log_warnx("configuration: %s", err);
		return r;
	}
	if (!d->debug)
		log_set_level(d->conf.base.log_level);
	d->rib = rib_new(d);
	if (d->rib == NULL)
		return -ENOMEM;
	if ((r = ld_signals(d)) < 0) {
		log_warnx("signal setup: %s", strerror(-r));
		return r;
	}
	if ((r = control_open(d, d->conf.base.control_socket)) < 0)
		return r;
	d->bgp_on = true;
	r = bgp_configure(d, &d->conf);
	if (r < 0) {
		log_warnx("BGP configuration refused: %s", strerror(-r));
		return r;
	}
	if ((r = listener_open(d, &d->conf.listen_addr, d->conf.listen_port)) < 0)
		return r;
	/* Last: the dump announces every workload route there is. */
	if ((r = kroute_open(d)) < 0)
		return r;
	nat_start(d);			/* outbound SNAT; never fatal */
	timer_set(&d->t_conf, LD_CONF_CHECK_MS);
	return 0;
}

static void
ld_stop(struct ld *d, const char *reason)
{
	if (d->bgp_on)
		bgp_shutdown(d, reason);
	kroute_close(d);
	nat_close(d);
	listener_close(d);
	control_close(d);
	rib_free(d->rib);
	d->rib = NULL;
	store_free(d->store);
	d->store = NULL;
	ld_conf_done(&d->conf);
	if (d->sigpipe[0] >= 0) {
		sig_wfd = -1;
		(void)close(d->sigpipe[0]);
		(void)close(d->sigpipe[1]);
	}
	free(d->io);
	free(d->pfds);
	free(d->pgen);
}

int
ld_run(const char *config_path, bool debug)
{
	struct ld d;
	uint64_t bgp_next = 0;
	int r;

	memset(&d, 0, sizeof(d));
	d.config_path = config_path;
	d.listen_fd = -1;
	d.sigpipe[0] = d.sigpipe[1] = -1;
	d.debug = debug;

	r = ld_start(&d);
	if (r < 0) {
		ld_stop(&d, "startup failed");
		return r;
	}
	log_info("leafnetd running: node %s, AS %u, %zu peers, %zu workload routes",
		 d.conf.base.node_name, d.conf.local_as, d.conf.n_peers, rib_count(d.rib));

	while (!sig_quit) {
		uint64_t now = ld_now_ms();

		r = ld_poll_once(&d, ld_timeout(&d, bgp_next, now));
		if (r < 0) {
			log_warnx("poll: %s", strerror(-r));
			break;
		}
		now = ld_now_ms();
		if (d.wakeup && d.wakeup <= now)
			d.wakeup = 0;
		if (sig_hup) {
			sig_hup = 0;
			log_info("SIGHUP: reloading the configuration");
			d.reload_wanted = true;
		}
		if (d.reload_wanted || timer_expired(&d.t_conf, now)) {
			bool force = d.reload_wanted;

			d.reload_wanted = false;
			(void)ld_conf_check(&d, force, NULL, 0);
			timer_set(&d.t_conf, LD_CONF_CHECK_MS);
		}
		(void)rib_timers(d.rib, now);
		bgp_next = bgp_timers(&d, now);
		bgp_flush(&d);
	}
	log_info("%s: shutting down", sig_quit == SIGINT ? "SIGINT" :
		 sig_quit == SIGTERM ? "SIGTERM" : "stopping");
	ld_stop(&d, "leafnetd shutting down");
	return 0;
}
