/* reaper.c — leafnet-docker's one other thread: it deletes the veths that
 * Leave / DeleteEndpoint took down.
 *
 * A veth delete waits for the kernel's teardown (RCU grace periods,
 * 10-30 ms) that nobody needs to see finish: the host side is down, so its
 * routes are gone, and the addresses are released.  The CNI binary hands
 * that wait to a forked grandchild; this process is threaded (the HTTP
 * thread) and must not fork, so it hands the ifindex to this thread, which
 * deletes it by index (never by name) from a netlink socket of its own
 * (detach_link_delete()).  It touches nothing else: no store, no request
 * state, no log but debug.  On a clean stop the queue is drained before
 * the process exits; a crash leaves downed veths, as a killed CNI DEL
 * does, which the next leafnet-docker start does not collect (CNI GC
 * leaves Docker's veths alone) — the cost is a dead link, not an address.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "attach.h"
#include "dbuf.h"
#include "dp.h"
#include "log.h"

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool running, stop;
	int *q;
	size_t n, cap;
} rp = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *
reaper_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&rp.mu);
	for (;;) {
		while (rp.n == 0 && !rp.stop)
			pthread_cond_wait(&rp.cv, &rp.mu);
		if (rp.n == 0)
			break;		/* stop, and nothing left */
		int ifindex = rp.q[--rp.n];
		int r;

		pthread_mutex_unlock(&rp.mu);
		r = detach_link_delete(ifindex);
		if (r < 0)
			log_debug("reaper: deleting link %d: %d", ifindex, r);
		pthread_mutex_lock(&rp.mu);
	}
	pthread_mutex_unlock(&rp.mu);
	return NULL;
}

int
dp_reaper_start(void)
{
	sigset_t all, old;
	int r;

	if (rp.running)
		return 0;
	/* signals stay with the main thread's sigwait() */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&rp.thread, NULL, reaper_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -r;
	rp.running = true;
	return 0;
}

void
dp_reaper_delete(int ifindex)
{
	bool queued = false;

	if (ifindex <= 0)
		return;
	pthread_mutex_lock(&rp.mu);
	if (rp.running && !rp.stop && GROW(rp.q, rp.cap, rp.n + 1) == 0) {
		rp.q[rp.n++] = ifindex;
		queued = true;
		pthread_cond_signal(&rp.cv);
	}
	pthread_mutex_unlock(&rp.mu);
	if (!queued)
		(void)detach_link_delete(ifindex);	/* no thread: here and now */
}

void
dp_reaper_stop(void)
{
	if (!rp.running)
		return;
	pthread_mutex_lock(&rp.mu);
	rp.stop = true;
	pthread_cond_signal(&rp.cv);
	pthread_mutex_unlock(&rp.mu);
	(void)pthread_join(rp.thread, NULL);
	rp.running = false;
	free(rp.q);
	rp.q = NULL;
	rp.n = rp.cap = 0;
}
