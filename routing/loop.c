/* loop.c — leafnetd's single-threaded poll() loop (loop.h).
 *
 * Registered fds live in a dense array; a turn copies them into a pollfd
 * array with their generation, so a callback that removes an fd (or
 * removes it and registers the same number again) never gets another's
 * events.  Signal handlers only set flags and poke the self-pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "dbuf.h"
#include "loop.h"

struct ld_io {
	int fd;
	short events;
	loop_io_cb cb;
	void *arg;
	uint64_t gen;			/* changes when the slot is reused */
};

struct ld_loop {
	struct ld_io *io;		/* registered fds, dense */
	size_t n_io, cap_io;
	struct pollfd *pfds;
	uint64_t *pgen;			/* generation of io[i] when polled */
	size_t cap_pfds, cap_pgen;
	uint64_t io_gen;
	uint64_t wakeup;		/* loop_wakeup_at(); 0 = none */
	int sigpipe[2];
};

static volatile sig_atomic_t sig_quit, sig_hup;
static int sig_wfd = -1;

uint64_t
ld_now_ms(void)
{
	return clock_now_ms() + 1;
}

void
timer_set(struct ld_timer *t, uint64_t in_ms)
{
	t->due = ld_now_ms() + in_ms;
}

void
timer_stop(struct ld_timer *t)
{
	t->due = 0;
}

bool
timer_running(const struct ld_timer *t)
{
	return t->due != 0;
}

bool
timer_expired(const struct ld_timer *t, uint64_t now)
{
	return t->due != 0 && t->due <= now;
}

struct ld_loop *
loop_new(void)
{
	struct ld_loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->sigpipe[0] = l->sigpipe[1] = -1;
	return l;
}

void
loop_free(struct ld_loop *l)
{
	if (l == NULL)
		return;
	if (l->sigpipe[0] >= 0) {
		sig_wfd = -1;
		(void)close(l->sigpipe[0]);
		(void)close(l->sigpipe[1]);
	}
	free(l->io);
	free(l->pfds);
	free(l->pgen);
	free(l);
}

static struct ld_io *
loop_io_find(struct ld_loop *l, int fd)
{
	for (size_t i = 0; i < l->n_io; i++)
		if (l->io[i].fd == fd)
			return &l->io[i];
	return NULL;
}

int
loop_io_add(struct ld_loop *l, int fd, short events, loop_io_cb cb, void *arg)
{
	struct ld_io *io;

	if (fd < 0 || cb == NULL)
		return -EINVAL;
	if (loop_io_find(l, fd) != NULL)
		return -EEXIST;
	if (GROW(l->io, l->cap_io, l->n_io + 1) < 0)
		return -ENOMEM;
	io = &l->io[l->n_io++];
	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->arg = arg;
	io->gen = ++l->io_gen;
	return 0;
}

void
loop_io_events(struct ld_loop *l, int fd, short events)
{
	struct ld_io *io = loop_io_find(l, fd);

	if (io != NULL)
		io->events = events;
}

void
loop_io_del(struct ld_loop *l, int fd)
{
	struct ld_io *io = loop_io_find(l, fd);

	if (io == NULL)
		return;
	*io = l->io[--l->n_io];
}

void
loop_wakeup_at(struct ld_loop *l, uint64_t due)
{
	if (due != 0 && (l->wakeup == 0 || due < l->wakeup))
		l->wakeup = due;
}

static void
loop_sig_handler(int sig)
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

static void
loop_sigpipe_cb(int fd, short revents, void *arg)
{
	char buf[64];

	(void)revents;
	(void)arg;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int
loop_signals(struct ld_loop *l)
{
	struct sigaction sa;

	if (pipe2(l->sigpipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	sig_wfd = l->sigpipe[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = loop_sig_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		return -errno;
	/* peers and control clients vanish: EPIPE, not death */
	(void)signal(SIGPIPE, SIG_IGN);
	return loop_io_add(l, l->sigpipe[0], POLLIN, loop_sigpipe_cb, NULL);
}

int
loop_quit_signal(void)
{
	return sig_quit;
}

bool
loop_take_hup(void)
{
	if (!sig_hup)
		return false;
	sig_hup = 0;
	return true;
}

/* The earliest of due and the wakeup, as a poll() timeout. */
static int
loop_timeout(struct ld_loop *l, uint64_t due, uint64_t now)
{
	if (l->wakeup && (due == 0 || l->wakeup < due))
		due = l->wakeup;
	if (due == 0)
		return -1;
	if (due <= now)
		return 0;
	return due - now > 60000 ? 60000 : (int)(due - now);
}

int
loop_turn(struct ld_loop *l, uint64_t due)
{
	size_t n = l->n_io;
	int timeout = loop_timeout(l, due, ld_now_ms());
	int r;

	if (GROW(l->pfds, l->cap_pfds, n) < 0 || GROW(l->pgen, l->cap_pgen, n) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		l->pfds[i].fd = l->io[i].fd;
		l->pfds[i].events = l->io[i].events;
		l->pfds[i].revents = 0;
		l->pgen[i] = l->io[i].gen;
	}
	r = poll(l->pfds, n, timeout);
	if (l->wakeup && l->wakeup <= ld_now_ms())
		l->wakeup = 0;
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	for (size_t i = 0; i < n && r > 0; i++) {
		struct ld_io *io;

		if (l->pfds[i].revents == 0)
			continue;
		r--;
		/* a callback earlier in this turn may have removed it, or
		 * removed it and registered the same fd number again */
		io = loop_io_find(l, l->pfds[i].fd);
		if (io == NULL || io->gen != l->pgen[i])
			continue;
		io->cb(io->fd, l->pfds[i].revents, io->arg);
	}
	return 0;
}
