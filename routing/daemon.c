/* daemon.c — leafnetd's orchestrator: start, stop, reload, and the turn.
 *
 * The only file that knows every role.  It makes the loop (loop.c), the
 * local RIB, the BGP instance and the kernel side, and runs turns:
 *
 *   loop_turn()       poll; fd callbacks (peer sockets -> FSM -> RDE,
 *                     route monitor -> RIB, control socket, listener)
 *   timers            RIB placement deadline, BGP timers (the store is
 *                     followed by the store worker, watch.c: its results
 *                     arrive as one more fd callback)
 *   ld_exchange()     to_local drained (learned routes staged, dumps
 *                     answered), to_bgp drained (advertise/withdraw),
 *                     kroute_commit(): the turn's one netlink batch
 *   bgp_flush()       UPDATEs packed and written
 *
 * so all the changes one turn made leave in as few UPDATEs and as few
 * netlink round trips as they can.
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

/* ---- the message boundary: both queues, once per turn ---------------- */

/* A message from the BGP side. */
static void
ld_local_msg(const struct ld_msg *m, void *arg)
{
	struct ld *d = arg;

	switch (m->type) {
	case LD_MSG_KR_CHANGE:
	case LD_MSG_KR_DELETE:
		kroute_learned_msg(d, m);
		break;
	case LD_MSG_NH_TRACK:
	case LD_MSG_NH_UNTRACK:
		kroute_nh_msg(d, m);
		break;
	case LD_MSG_KR_SWEEP:
		kroute_sweep(d);
		break;
	case LD_MSG_LOCAL_DUMP_REQ:
		if (d->rib != NULL)
			rib_dump(d->rib, m->id);
		else
			(void)msgq_put_ctl(&d->to_bgp, LD_MSG_LOCAL_DUMP_END, m->id);
		break;
	default:
		log_warnx("leafnetd: unexpected message %u from the BGP side", m->type);
		break;
	}
}

/* Deliver what each side queued for the other this turn.  The local side
 * first: a dump it answers lands behind the changes already queued for
 * the BGP side, so the BGP side sees them in the order they happened.
 * Then the kernel gets this turn's learned routes in one batch; what
 * that changes of the next hops' states goes to the BGP side, and round
 * again.  What is left after that waits for an immediate next turn. */
static void
ld_exchange(struct ld *d)
{
	for (int i = 0; i < 8; i++) {
		(void)msgq_drain(&d->to_local, ld_local_msg, d);
		if (d->bgp != NULL)
			(void)msgq_drain(&d->to_bgp, bgp_msg, d->bgp);
		if (!msgq_empty(&d->to_local) || !msgq_empty(&d->to_bgp))
			continue;
		kroute_commit(d);
		if (msgq_empty(&d->to_local) && msgq_empty(&d->to_bgp))
			return;
	}
	kroute_commit(d);
	if (!msgq_empty(&d->to_local) || !msgq_empty(&d->to_bgp))
		loop_wakeup_at(d->loop, ld_now_ms());
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
	d->bgp = bgp_new(d->loop, &d->to_local);
	if (d->rib == NULL || d->bgp == NULL)
		return -ENOMEM;
	if ((r = loop_signals(d->loop)) < 0) {
		log_warnx("signal setup: %s", strerror(-r));
		return r;
	}
	if ((r = control_open(d, d->conf.base.control_socket)) < 0)
		return r;
	/* Listen before connecting: two nodes started together then never
	 * both find the other's port closed (at least one connect() finds
	 * the other listening), so neither waits out a retry.  A connection
	 * accepted before bgp_configure() is only taken in the first turn. */
	if ((r = listener_open(d, &d->conf.listen_addr, d->conf.listen_port)) < 0)
		return r;
	r = bgp_configure(d->bgp, &d->conf);
	if (r < 0) {
		log_warnx("BGP configuration refused: %s", strerror(-r));
		return r;
	}
	/* Last: the dump announces every workload route there is. */
	if ((r = kroute_open(d)) < 0)
		return r;
	nat_start(d);			/* outbound SNAT; never fatal */
	(void)metrics_open(d, d->conf.base.metrics_listen);	/* never fatal */
	/* From here on the store is read by the store worker, off the loop;
	 * without it (no threads), on a timer as before. */
	if (watch_start(d) < 0)
		timer_set(&d->t_conf, LD_CONF_CHECK_MS);
	else
		timer_set(&d->t_nat, LD_NAT_CHECK_MS);	/* the re-reads did it before */
	return 0;
}

static void
ld_stop(struct ld *d, const char *reason)
{
	watch_stop(d);			/* before the store and the loop go */
	if (d->bgp != NULL)
		bgp_shutdown(d->bgp, reason);
	/* what the sessions' end withdrew goes with kroute_close() */
	msgq_done(&d->to_local);
	kroute_close(d);
	metrics_close(d);
	nat_close(d);
	listener_close(d);
	control_close(d);
	bgp_free(d->bgp);
	d->bgp = NULL;
	msgq_done(&d->to_bgp);
	msgq_done(&d->to_local);
	rib_free(d->rib);
	d->rib = NULL;
	store_free(d->store);
	d->store = NULL;
	ld_conf_done(&d->conf);
	loop_free(d->loop);
	d->loop = NULL;
}

/* The earliest due time of the orchestrator's timers (0 = none). */
static uint64_t
ld_next_due(struct ld *d, uint64_t bgp_next)
{
	uint64_t due = d->t_conf.due;
	uint64_t r = rib_timers(d->rib, 0);	/* peek */

	if (d->t_nat.due && (due == 0 || d->t_nat.due < due))
		due = d->t_nat.due;
	if (bgp_next && (due == 0 || bgp_next < due))
		due = bgp_next;
	if (r && (due == 0 || r < due))
		due = r;
	return due;
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
	d.debug = debug;
	d.loop = loop_new();
	if (d.loop == NULL)
		return -ENOMEM;

	r = ld_start(&d);
	if (r < 0) {
		ld_stop(&d, "startup failed");
		return r;
	}
	/* the first dump's routes, and LD_MSG_GR_KEPT (kroute_open()): the
	 * BGP side knows it is restarting before any OPEN goes out, as every
	 * connection completes in a loop turn */
	ld_exchange(&d);
	log_info("leafnetd running: node %s, AS %u, %zu peers, %zu workload routes",
		 d.conf.base.node_name, d.conf.local_as, d.conf.n_peers, rib_count(d.rib));

	while (!loop_quit_signal()) {
		uint64_t now;

		r = loop_turn(d.loop, ld_next_due(&d, bgp_next));
		if (r < 0) {
			log_warnx("poll: %s", strerror(-r));
			break;
		}
		now = ld_now_ms();
		if (loop_take_hup()) {
			log_info("SIGHUP: reloading the configuration");
			d.reload_wanted = true;
		}
		if (d.watch != NULL && d.reload_wanted) {
			d.reload_wanted = false;
			watch_want(&d, WATCH_CONF | WATCH_FORCE | WATCH_NETS);
		} else if (d.reload_wanted || timer_expired(&d.t_conf, now)) {
			bool force = d.reload_wanted;

			d.reload_wanted = false;
			(void)ld_conf_check(&d, force, NULL, 0);
			timer_set(&d.t_conf, LD_CONF_CHECK_MS);
		}
		(void)rib_timers(d.rib, now);
		if (timer_expired(&d.t_nat, now)) {
			rib_nat_recheck(d.rib);
			timer_set(&d.t_nat, LD_NAT_CHECK_MS);
		}
		watch_turn(&d);
		bgp_next = bgp_timers(d.bgp, now);
		ld_exchange(&d);
		bgp_flush(d.bgp);
		metrics_turn(&d);
	}
	log_info("%s: shutting down", loop_quit_signal() == SIGINT ? "SIGINT" :
		 loop_quit_signal() == SIGTERM ? "SIGTERM" : "stopping");
	ld_stop(&d, "leafnetd shutting down");
	return 0;
}
