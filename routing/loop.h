/* loop.h — leafnetd's event loop: one poll() over registered fds, the
 * signal self-pipe, wakeups and one-shot millisecond timers.  A leaf: it
 * knows no role of the daemon.  Every side (the BGP sessions, the kernel
 * monitor, the control socket) registers its fds here; the orchestrator
 * (daemon.c) runs one turn at a time with loop_turn() and does its
 * per-turn work (timers, message queues, flush) between turns.
 *
 * In a privilege-separated leafnetd each process would run its own loop
 * (the same code), with the message socketpair as one more fd.
 */
#ifndef LEAFNET_LOOP_H
#define LEAFNET_LOOP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ld_loop;

/* The loop's clock: CLOCK_MONOTONIC milliseconds (clock_now_ms() + 1, so
 * a valid due time is never 0).  One function, so unit tests can run the
 * BGP side on a fake clock. */
uint64_t ld_now_ms(void);

struct ld_timer {
	uint64_t due;			/* ld_now_ms() value; 0 = stopped */
};
void timer_set(struct ld_timer *t, uint64_t in_ms);
void timer_stop(struct ld_timer *t);
bool timer_running(const struct ld_timer *t);
bool timer_expired(const struct ld_timer *t, uint64_t now);

typedef void (*loop_io_cb)(int fd, short revents, void *arg);

struct ld_loop *loop_new(void);
void loop_free(struct ld_loop *l);		/* NULL-safe; closes the signal pipe */

/* Watch fd for events (POLLIN/POLLOUT); one registration per fd. */
int  loop_io_add(struct ld_loop *l, int fd, short events, loop_io_cb cb, void *arg);
void loop_io_events(struct ld_loop *l, int fd, short events);	/* change the mask */
void loop_io_del(struct ld_loop *l, int fd);
/* Make the next loop_turn() return no later than `due` (ld_now_ms() scale). */
void loop_wakeup_at(struct ld_loop *l, uint64_t due);

/* SIGTERM/SIGINT/SIGHUP set flags and poke a self-pipe (registered here);
 * SIGPIPE is ignored. */
int  loop_signals(struct ld_loop *l);
/* The terminating signal received (0: none). */
int  loop_quit_signal(void);
/* True once per SIGHUP. */
bool loop_take_hup(void);

/* One turn: poll until an fd is ready, `due` (0: none) or a wakeup passes,
 * and run the callbacks of the ready fds.  0 or -errno. */
int  loop_turn(struct ld_loop *l, uint64_t due);

#endif
