/* watch.c — the store worker: leafnetd follows the store with a watch and
 * reads it off the event loop.
 *
 * Two threads (front ends may have them: ARCHITECTURE.md), both on
 * d->store, which the loop no longer touches once they run:
 *
 *   watcher  store_watch() on networks/, blocks/ and bgp/ (etcd: one
 *            /v3/watch stream; file: inotify).  Each change marks what
 *            has to be read again (WATCH_NETS, _CONF) and wakes the
 *            reader; READY (the first, and every one after the watch was
 *            lost and came back) marks everything.  A lost watch is set
 *            up again after 1, 2, 4, 5, 5 ... s.
 *   reader   waits for marks, reads (rib_src_read(), ld_conf_build()) and
 *            hands the results to the loop: a mutex-guarded mailbox and
 *            an eventfd the loop polls (watch_cb()).  It is the only thread
 *            that waits for the store, so a slow or dead etcd delays
 *            nothing of the loop: keepalives, the control socket, metrics.
 *
 * How often it reads.  An idle cluster: never (and never asks etcd for
 * anything), but for the safety re-read every WATCH_SAFETY_MS: it costs
 * nothing worth counting, and bounds how long a change the watch did not
 * report (a state dir on a network file system, where inotify sees only
 * this host's writes; a file put there by hand with a tool that writes in
 * place elsewhere; a bug) stays unseen.  A lost watch is no such case: its
 * return READY makes everything read again.  While no watch can be had at
 * all (a backend without one, inotify limits), it polls every
 * WATCH_POLL_MS, as leafnetd did before.  Marks coalesce: a burst of
 * changes costs one read per kind, and one more for what came during it.
 * Networks and blocks are read at most every WATCH_NETS_MIN_MS unless the
 * RIB asks (a route it cannot place: rib_take_want()), allocations (pool
 * usage for the metrics only) at most every WATCH_POOLS_MIN_MS.  A failed
 * read is retried after WATCH_RETRY_MS.
 *
 * Allocations are not watched (issue 11: an idle cluster costs etcd ~0).
 * alloc/ changes with every ADD and DEL on every host, and watching it
 * made every leafnetd of a cluster re-read every network's alloc/ tree
 * after every pod ADD anywhere (cluster_bench: 40-967 etcd Range requests
 * per ADD at 10-50 nodes), all for one figure, the pool usage the metrics
 * show.  That figure is now read (rib_src_read() with alloc):
 *   - when this node's own attach core tells leafnetd of an ADD or DEL
 *     (the control socket's "notify": control.c marks WATCH_POOLS), at
 *     most every WATCH_POOLS_MIN_MS, and once more after the last one, so
 *     this node's pods always show within WATCH_POOLS_MIN_MS;
 *   - at start, when the watch comes back (READY), on the safety re-read
 *     and while polling.
 * Other hosts' ADDs show when one of those comes (at worst the safety
 * re-read, WATCH_SAFETY_MS).  Deriving the count instead (+1/-1 per
 * notify) was not chosen: a notify is a hint (a repeated ADD, a DEL of
 * nothing, a lost datagram all look alike), so the count would drift and
 * need the same read to be corrected; a read per WATCH_POOLS_MIN_MS of
 * this node's own activity is cheap and exact.  A networks/blocks read
 * lists blocks/ only (ipam_block_claims()), never alloc/.
 *
 * Other nodes' block claims are not read either (block_matters()).  The
 * RIB needs this node's blocks (its aggregates) and what lies inside
 * them (another node's nested block, ipam_split.c), nothing else: every
 * block claim anywhere made every leafnetd list every block, N reads per
 * claim, and a 50-host cluster's first ADDs cost etcd 80-130 Range
 * requests per pod (cluster_bench).  A change of blocks/ is read when it
 * overlaps one of this node's blocks as last read, when its record names
 * this node (etcd's watch carries the value: store_event.val), or when it
 * cannot be told (no value: the file store; no read yet).  A claim of
 * this node's made elsewhere is thus still read at once; another node's,
 * away from ours, shows in the pool metrics at the next read of any kind
 * (at worst the safety re-read).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "bgpconf.h"
#include "clock.h"
#include "err.h"
#include "ipam.h"
#include "ld_local.h"
#include "log.h"
#include "store.h"

#define WATCH_SAFETY_MS		(5 * 60 * 1000)
#define WATCH_POLL_MS		10000
#define WATCH_NETS_MIN_MS	200
#define WATCH_POOLS_MIN_MS	10000
#define WATCH_RETRY_MS		1000
#define WATCH_BACKOFF_MAX_MS	5000

struct watch {
	struct ld *d;
	char node[LEAFNET_NAME_MAX];	/* this node's name (d->conf is the loop's) */
	pthread_t watcher, reader;
	bool have_watcher, have_reader;
	int stop[2];			/* pipe: readable = stop (store_watch's stop_fd) */
	int efd;			/* eventfd: results for the loop */

	pthread_mutex_t mu;		/* guards everything below */
	pthread_cond_t cv;
	bool stopping;
	unsigned want;			/* WATCH_* to read */
	bool watching;			/* a watch is up (READY seen, not lost) */
	bool had_ready;			/* a READY came (watcher thread only) */
	bool lost_logged;
	uint64_t conf_rev, bad_rev;	/* last built / refused bgp/revision */
	uint64_t nets_last, pools_last, safety_due, poll_due, retry_due;
	/* this node's blocks as last read (block_matters()) */
	struct prefix *mine;
	size_t n_mine;
	bool mine_known;
	uint64_t n_skipped;		/* changes of other nodes' blocks not read */
	/* the mailbox */
	struct rib_src *src;
	bool have_conf;
	struct ld_conf conf;
	bool reply;			/* a control "reload" waits */
	int reply_r;
	char reply_err[512];
};

static uint64_t
min_due(uint64_t a, uint64_t b)
{
	return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

static void
cv_wait_until(struct watch *w, uint64_t due)
{
	struct timespec ts;
	uint64_t now = clock_now_ms();

	if (due == 0) {
		pthread_cond_wait(&w->cv, &w->mu);
		return;
	}
	if (due <= now)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)((due - now) / 1000);
	ts.tv_nsec += (long)((due - now) % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	(void)pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

/* ---- the watcher thread ------------------------------------------------- */

/* Does a change of blocks/ concern this node's RIB?  (the comment at the
 * top).  With w->mu held. */
static bool
block_matters(const struct watch *w, const struct store_event *ev)
{
	char node[LEAFNET_NAME_MAX];
	struct prefix cidr;

	if (!w->mine_known ||
	    ipam_block_event(ev->key, ev->val, &cidr, node, sizeof(node)) < 0)
		return true;
	for (size_t i = 0; i < w->n_mine; i++)
		if (prefix_overlaps(&w->mine[i], &cidr))
			return true;
	if (ev->type != STORE_EV_PUT)
		return false;		/* a block away from ours went */
	return ev->val == NULL || strcmp(node, w->node) == 0;
}

static void
watch_event(const struct store_event *ev, void *arg)
{
	struct watch *w = arg;
	unsigned what = 0;

	if (ev->type == STORE_EV_READY) {
		/* the first: ld_start() read the pool usage a moment ago */
		what = WATCH_NETS | WATCH_CONF | (w->had_ready ? WATCH_POOLS : 0);
		w->had_ready = true;
	} else if (strncmp(ev->key, "bgp", 3) == 0) {
		what = WATCH_CONF;
	} else {
		what = WATCH_NETS;		/* networks/, blocks/ */
	}
	pthread_mutex_lock(&w->mu);
	if (ev->type != STORE_EV_READY && strncmp(ev->key, "blocks/", 7) == 0 &&
	    !block_matters(w, ev)) {
		w->n_skipped++;
		pthread_mutex_unlock(&w->mu);
		return;
	}
	if (ev->type == STORE_EV_READY) {
		if (w->lost_logged)
			log_info("store watch is back: reading the store again");
		w->watching = true;
		w->lost_logged = false;
		w->bad_rev = 0;		/* a refusal may have been the store's */
		w->safety_due = clock_now_ms() + WATCH_SAFETY_MS;
	}
	w->want |= what;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Sleep ms unless stopped; false when stopped. */
static bool
watch_sleep(struct watch *w, uint64_t ms)
{
	uint64_t due = clock_now_ms() + ms;
	bool go;

	pthread_mutex_lock(&w->mu);
	while (!w->stopping && clock_now_ms() < due)
		cv_wait_until(w, due);
	go = !w->stopping;
	pthread_mutex_unlock(&w->mu);
	return go;
}

static void *
watcher_main(void *arg)
{
	static const char *const dirs[] = { "networks", "blocks", "bgp" };
	struct watch *w = arg;
	struct store_watch sw = {
		.dirs = dirs, .n_dirs = sizeof(dirs) / sizeof(dirs[0]),
		.stop_fd = w->stop[0], .cb = watch_event, .arg = w,
	};
	uint64_t backoff = 1000;

	for (;;) {
		struct lf_err e = { 0 };
		uint64_t started = clock_now_ms();
		int r = store_watch(w->d->store, &sw, &e);
		bool first;

		if (r == 0)
			break;			/* stopped */
		pthread_mutex_lock(&w->mu);
		first = !w->lost_logged;
		w->watching = false;
		w->lost_logged = true;
		w->poll_due = clock_now_ms() + WATCH_POLL_MS;
		pthread_mutex_unlock(&w->mu);
		if (r == -EOPNOTSUPP) {
			log_info("store: this datastore cannot be watched; re-reading it "
				 "every %d s", WATCH_POLL_MS / 1000);
			break;
		}
		if (first)
			log_warnx("store watch lost: %s%s%s; trying again, re-reading every "
				  "%d s meanwhile", strerror(-r), e.details[0] ? ": " : "",
				  e.details, WATCH_POLL_MS / 1000);
		if (clock_now_ms() - started > 10000)
			backoff = 1000;		/* it ran a while: start over */
		if (!watch_sleep(w, backoff))
			break;
		backoff = backoff * 2 > WATCH_BACKOFF_MAX_MS ? WATCH_BACKOFF_MAX_MS : backoff * 2;
	}
	return NULL;
}

/* ---- the reader thread -------------------------------------------------- */

/* Post what was read; the loop takes it in watch_cb(). */
static void
post(struct watch *w, struct rib_src *src, struct ld_conf *nc, bool reply, int r,
     const char *err)
{
	uint64_t one = 1;

	pthread_mutex_lock(&w->mu);
	if (src != NULL) {
		rib_src_free(w->src);
		w->src = src;
	}
	if (nc != NULL) {
		if (w->have_conf)
			ld_conf_done(&w->conf);
		w->conf = *nc;
		w->have_conf = true;
	}
	if (reply) {
		w->reply = true;
		w->reply_r = r;
		snprintf(w->reply_err, sizeof(w->reply_err), "%s", err ? err : "");
	}
	pthread_mutex_unlock(&w->mu);
	(void)!write(w->efd, &one, sizeof(one));
}

/* Keep this node's blocks of a read for block_matters(); on no memory
 * the filter is off (everything read) until the next read. */
static void
mine_set(struct watch *w, const struct rib_src *src)
{
	struct prefix *m = NULL;
	size_t n = 0;
	bool ok = rib_src_mine(src, &m, &n) == 0;

	pthread_mutex_lock(&w->mu);
	free(w->mine);
	w->mine = m;
	w->n_mine = n;
	w->mine_known = ok;
	pthread_mutex_unlock(&w->mu);
}

/* Build the configuration when bgp/revision moved (or forced); 0 when
 * done or nothing to do, -errno when the store failed (retry). */
static int
read_conf(struct watch *w, unsigned take)
{
	struct ld *d = w->d;
	bool force = take & WATCH_FORCE, reply = take & WATCH_REPLY;
	struct ld_conf nc;
	char err[512];
	uint64_t rev = 0, cur, bad;
	int r;

	if ((r = bgpconf_revision(d->store, &rev, NULL)) < 0) {
		if (reply)
			post(w, NULL, NULL, true, r, "cannot read the BGP configuration "
			     "revision from the store");
		return reply ? 0 : r;
	}
	pthread_mutex_lock(&w->mu);
	cur = w->conf_rev;
	bad = w->bad_rev;
	pthread_mutex_unlock(&w->mu);
	if (!force && (rev == cur || rev == bad))
		return 0;
	if (!force)
		log_info("BGP configuration revision %llu -> %llu: reloading",
			 (unsigned long long)cur, (unsigned long long)rev);
	r = ld_conf_build(d->config_path, d->store, &nc, err, sizeof(err));
	pthread_mutex_lock(&w->mu);
	if (r < 0)
		w->bad_rev = force ? w->bad_rev : rev;
	else
		w->conf_rev = nc.revision;
	pthread_mutex_unlock(&w->mu);
	if (r < 0) {
		log_warnx("reload refused, keeping the running configuration: %s", err);
		if (reply)
			post(w, NULL, NULL, true, r, err);
		return 0;
	}
	post(w, NULL, &nc, reply, 0, NULL);
	return 0;
}

static void *
reader_main(void *arg)
{
	struct watch *w = arg;
	struct ld *d = w->d;

	pthread_mutex_lock(&w->mu);
	while (!w->stopping) {
		uint64_t now = clock_now_ms(), due = 0;
		unsigned take = 0;
		struct rib_src *src = NULL;
		int r = 0;

		if (w->watching && now >= w->safety_due) {
			w->want |= WATCH_NETS | WATCH_POOLS | WATCH_CONF;
			w->safety_due = now + WATCH_SAFETY_MS;
		}
		if (!w->watching && w->poll_due && now >= w->poll_due) {
			w->want |= WATCH_NETS | WATCH_POOLS | WATCH_CONF;
			w->poll_due = now + WATCH_POLL_MS;
		}
		if (w->retry_due && now < w->retry_due) {
			due = w->retry_due;
		} else {
			bool nets, pools;

			w->retry_due = 0;
			if (w->want & (WATCH_CONF | WATCH_REPLY))
				take |= w->want & (WATCH_CONF | WATCH_FORCE | WATCH_REPLY);
			nets = (w->want & WATCH_URGENT) ||
			       ((w->want & WATCH_NETS) && now >= w->nets_last + WATCH_NETS_MIN_MS);
			pools = (w->want & WATCH_POOLS) && now >= w->pools_last + WATCH_POOLS_MIN_MS;
			/* a pools read reads networks and blocks too */
			if (nets || pools)
				take |= w->want & (WATCH_NETS | WATCH_URGENT);
			if (pools)
				take |= WATCH_POOLS;
			if (!nets && !pools && (w->want & WATCH_NETS))
				due = w->nets_last + WATCH_NETS_MIN_MS;
			if (!pools && (w->want & WATCH_POOLS))
				due = min_due(due, w->pools_last + WATCH_POOLS_MIN_MS);
		}
		if (take == 0) {
			due = min_due(due, w->watching ? w->safety_due : w->poll_due);
			cv_wait_until(w, due);
			continue;
		}
		w->want &= ~take;
		if (take & (WATCH_NETS | WATCH_POOLS | WATCH_URGENT))
			w->nets_last = now;
		if (take & WATCH_POOLS)
			w->pools_last = now;
		pthread_mutex_unlock(&w->mu);

		if (take & (WATCH_NETS | WATCH_POOLS | WATCH_URGENT)) {
			src = rib_src_read(d->store, w->node, take & WATCH_POOLS, &r);
			if (src != NULL) {
				mine_set(w, src);
				post(w, src, NULL, false, 0, NULL);
			}
			if (src != NULL && r < 0) {
				/* networks and blocks read, the allocations not:
				 * those again at their own pace, not in a second */
				log_debug("store: pool usage not read (%s); again in %d s",
					  strerror(-r), WATCH_POOLS_MIN_MS / 1000);
				pthread_mutex_lock(&w->mu);
				w->want |= WATCH_POOLS;
				pthread_mutex_unlock(&w->mu);
				r = 0;
			}
		}
		if (r == 0 && (take & WATCH_CONF))
			r = read_conf(w, take);

		pthread_mutex_lock(&w->mu);
		if (r < 0) {
			/* try again, without the reply: it was answered */
			w->want |= take & ~WATCH_REPLY;
			w->retry_due = clock_now_ms() + WATCH_RETRY_MS;
			log_debug("store read failed (%s); again in %d ms", strerror(-r),
				  WATCH_RETRY_MS);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* ---- the loop side ------------------------------------------------------ */

static void
watch_cb(int fd, short revents, void *arg)
{
	struct ld *d = arg;
	struct watch *w = d->watch;
	struct rib_src *src;
	struct ld_conf nc;
	bool have_conf, reply;
	char err[512];
	uint64_t n;
	int r;

	(void)revents;
	(void)!read(fd, &n, sizeof(n));
	pthread_mutex_lock(&w->mu);
	src = w->src;
	w->src = NULL;
	have_conf = w->have_conf;
	nc = w->conf;
	w->have_conf = false;
	reply = w->reply;
	w->reply = false;
	r = w->reply_r;
	snprintf(err, sizeof(err), "%s", w->reply_err);
	pthread_mutex_unlock(&w->mu);

	if (have_conf) {
		int ar = ld_conf_apply(d, &nc, err, sizeof(err));

		if (reply && r == 0)
			r = ar < 0 ? ar : 0;
	}
	if (src != NULL)
		rib_src_apply(d->rib, src);
	if (reply)
		control_reload_done(d, r, err);
}

void
watch_want(struct ld *d, unsigned what)
{
	struct watch *w = d->watch;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->want |= what;
	if (what & WATCH_FORCE)
		w->retry_due = 0;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

uint64_t
watch_skipped(struct ld *d)
{
	struct watch *w = d->watch;
	uint64_t n;

	if (w == NULL)
		return 0;
	pthread_mutex_lock(&w->mu);
	n = w->n_skipped;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void
watch_turn(struct ld *d)
{
	if (d->watch != NULL && rib_take_want(d->rib))
		watch_want(d, WATCH_NETS | WATCH_URGENT);
}

int
watch_start(struct ld *d)
{
	struct watch *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	int r;

	if (w == NULL)
		return -ENOMEM;
	w->d = d;
	w->stop[0] = w->stop[1] = w->efd = -1;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&w->mu, NULL);
	w->conf_rev = d->conf.revision;
	snprintf(w->node, sizeof(w->node), "%s", d->conf.base.node_name);
	w->nets_last = w->pools_last = clock_now_ms();	/* ld_start() just read them */
	w->safety_due = clock_now_ms() + WATCH_SAFETY_MS;
	if (pipe2(w->stop, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    (w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		r = -errno;
		goto fail;
	}
	d->watch = w;
	if ((r = loop_io_add(d->loop, w->efd, POLLIN, watch_cb, d)) < 0)
		goto fail;
	if ((r = -pthread_create(&w->reader, NULL, reader_main, w)) < 0)
		goto fail;
	w->have_reader = true;
	if ((r = -pthread_create(&w->watcher, NULL, watcher_main, w)) < 0)
		goto fail;
	w->have_watcher = true;
	rib_set_async(d->rib, true);
	return 0;
fail:
	log_warnx("store worker: %s; reading the store on the loop", strerror(-r));
	watch_stop(d);
	return r;
}

void
watch_stop(struct ld *d)
{
	struct watch *w = d->watch;

	if (w == NULL)
		return;
	rib_set_async(d->rib, false);
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->stop[1] >= 0)
		(void)!write(w->stop[1], "x", 1);
	if (w->have_watcher)
		pthread_join(w->watcher, NULL);
	if (w->have_reader)
		pthread_join(w->reader, NULL);
	if (w->efd >= 0) {
		loop_io_del(d->loop, w->efd);
		(void)close(w->efd);
	}
	if (w->stop[0] >= 0) {
		(void)close(w->stop[0]);
		(void)close(w->stop[1]);
	}
	rib_src_free(w->src);
	free(w->mine);
	if (w->have_conf)
		ld_conf_done(&w->conf);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	d->watch = NULL;
}
