/* bgp_fsm.c — the BGP-4 finite state machine (RFC 4271 §8).
 *
 * One entry point, bgp_fsm(peer, event): a switch on the state, then on the
 * event.  Every transition goes through change_state(), which logs it with
 * the names from the codec's tables and does what entering or leaving a
 * state implies (Adj-RIB-In flush on leaving Established, the full table
 * on entering it).
 *
 * Deviations from the RFC text, on purpose:
 *  - automatic start is the only start: after an error the peer waits in
 *    Idle for a back-off (IdleHoldTimer: connect_retry seconds, doubled on
 *    each failure up to 120 s, jittered, reset when Established) and then
 *    starts again;
 *  - a connection that fails (refused, reset before the OPEN: the peer is
 *    not up yet, or restarting) is tried again after BGP_QUICK_RETRY_MS,
 *    up to BGP_QUICK_TRIES times since the last Established, and only
 *    then on the back-off; so is a session the peer ended on purpose
 *    (Cease: administrative shutdown or reset, deconfigured, other
 *    configuration change, collision).  A refused SYN costs nothing, and
 *    a peer that comes back is connected within a second instead of after
 *    its own connect delay (BIRD's is at least 1 s);
 *  - while that back-off runs, an incoming connection is accepted (as if
 *    the start had happened), so a restarted peer reconnects at once;
 *  - collision detection (§6.8) runs between our connection in Connect,
 *    OpenSent or OpenConfirm and a second connection from the peer: both
 *    are kept until the OPEN on the peer's one gives its BGP identifier,
 *    and the connection opened by the higher identifier stays on both
 *    ends (in Connect, an OPEN the peer's connection loses with is held
 *    until our connect() settles, bgp_collision_hold(); our connection
 *    failing first hands over to the peer's, fsm_take_coll()).  A
 *    connection arriving in Established is
 *    closed with Cease/7 -- unless the peer negotiated graceful restart:
 *    then it may have restarted without its old connection's FIN or RST
 *    reaching us (a host reboot).  The new connection is held as the
 *    second one, and only a valid OPEN on it replaces the session (RFC
 *    4724 §4.2, bgp_collision()): a bare TCP connection from the peer's
 *    address never touches it.  The old session's routes stay, stale,
 *    until the new one's End-of-RIB (gr.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "clock.h"
#include "log.h"
#include "bgp.h"

static const char *const event_names[BGP_EV_COUNT] = {
	[BGP_EV_START]		 = "Start",
	[BGP_EV_STOP]		 = "Stop",
	[BGP_EV_CONNRETRY_TIMER] = "ConnectRetryTimer_Expires",
	[BGP_EV_HOLD_TIMER]	 = "HoldTimer_Expires",
	[BGP_EV_KEEPALIVE_TIMER] = "KeepaliveTimer_Expires",
	[BGP_EV_IDLEHOLD_TIMER]	 = "IdleHoldTimer_Expires",
	[BGP_EV_TCP_ACKED]	 = "Tcp_CR_Acked",
	[BGP_EV_TCP_CONFIRMED]	 = "TcpConnectionConfirmed",
	[BGP_EV_TCP_FAILS]	 = "TcpConnectionFails",
	[BGP_EV_OPEN]		 = "BGPOpen",
	[BGP_EV_HDR_ERR]	 = "BGPHeaderErr",
	[BGP_EV_OPEN_ERR]	 = "BGPOpenMsgErr",
	[BGP_EV_NOTIFICATION]	 = "NotifMsg",
	[BGP_EV_KEEPALIVE]	 = "KeepAliveMsg",
	[BGP_EV_UPDATE]		 = "UpdateMsg",
	[BGP_EV_UPDATE_ERR]	 = "UpdateMsgErr",
	[BGP_EV_RREFRESH]	 = "RouteRefreshMsg",
};

const char *
bgp_event_name(enum bgp_event ev)
{
	if ((unsigned)ev >= BGP_EV_COUNT || event_names[ev] == NULL)
		return "unknown event";
	return event_names[ev];
}

static void
change_state(struct peer *p, enum bgp_state state, enum bgp_event ev)
{
	enum bgp_state old = p->state;

	if (old == state)
		return;
	log_info("neighbor %s: %s -> %s (%s)", peer_addr(p),
	    bgp_state_name(old), bgp_state_name(state), bgp_event_name(ev));
	p->state = state;
	p->since = time(NULL);
	if (p->info[0] != '\0' && strcmp(p->info, "Established") != 0)
		(void)snprintf(p->last_error, sizeof(p->last_error), "%s", p->info);
	if (old == BGP_STATE_ESTABLISHED) {
		p->flaps++;
		rde_out_clear(p);
		if (gr_retain(p, ev))
			gr_peer_down(p);	/* keep its routes, stale */
		else
			rde_peer_down(p);
	}
	if (state == BGP_STATE_ESTABLISHED) {
		p->retry_s = p->conf.connect_retry;
		p->quick_tries = 0;
		p->up_ms = ld_now_ms();
		p->up_wall_ms = clock_wall_ms();
		(void)snprintf(p->info, sizeof(p->info), "Established");
		rde_peer_up(p);
		gr_peer_up(p);
	}
}

static void
timers_stop(struct peer *p)
{
	timer_stop(&p->connretry);
	timer_stop(&p->hold);
	timer_stop(&p->keepalive);
	timer_stop(&p->idlehold);
}

/* The next back-off interval in ms; doubles the following one. */
static uint64_t
backoff(struct peer *p)
{
	uint32_t s = p->retry_s ? p->retry_s : 1;

	p->retry_s = s * 2 > BGP_RETRY_MAX_S ? BGP_RETRY_MAX_S : s * 2;
	if (p->retry_s < s)
		p->retry_s = s;		/* a configured value above the cap */
	return bgp_jitter(p->bgp, s * 1000U);
}

/* The wait before trying again after a failed connection: quick first
 * (see the top of this file), then the back-off. */
static uint64_t
retry_wait(struct peer *p)
{
	if (p->quick_tries < BGP_QUICK_TRIES) {
		p->quick_tries++;
		return bgp_jitter(p->bgp, BGP_QUICK_RETRY_MS);
	}
	return backoff(p);
}

/* Before Established, our connection is gone (refused, reset, timed out,
 * ended by the peer -- with Cease/7 when the peer settled a collision in
 * favour of its own connection) while the peer's second connection is
 * open with our OPEN on it: carry on with that one, in OpenSent, instead
 * of dropping both and starting over after a retry.  An OPEN that
 * arrived on it meanwhile (held, bgp_collision_hold()) is handled now. */
static bool
fsm_take_coll(struct peer *p, enum bgp_event ev)
{
	struct bgp_conn tmp;

	if (p->coll.fd < 0 || !p->coll.open_sent || p->coll.restart)
		return false;
	log_info("neighbor %s: our connection is gone (%s); carrying on with "
	    "the peer's", peer_addr(p), bgp_event_name(ev));
	session_close(p, &p->conn);
	tmp = p->conn;			/* swap: buffers stay allocated */
	p->conn = p->coll;
	p->coll = tmp;
	timer_stop(&p->conn.timer);
	timers_stop(p);
	peer_timer_set(p, &p->hold, BGP_HOLD_OPENSENT_S * 1000ULL);
	change_state(p, BGP_STATE_OPENSENT, ev);
	session_resume(p, &p->conn);
	return true;
}

/* Drop the session: Idle, then start again after the back-off (quick:
 * after retry_wait()).  An Established session that dies while a
 * graceful-restart peer's new connection waits for its OPEN (bgp_accept())
 * hands over to it: that is the restarted peer, and our OPEN is already
 * on its way.  Before Established, a second connection takes over
 * (fsm_take_coll()). */
static void
fsm_down_after(struct peer *p, enum bgp_event ev, bool quick)
{
	bool handover = p->state == BGP_STATE_ESTABLISHED &&
	    p->coll.fd >= 0 && p->coll.open_sent && p->coll.restart &&
	    (ev == BGP_EV_TCP_FAILS || ev == BGP_EV_HOLD_TIMER);
	struct bgp_conn tmp;

	if (p->state != BGP_STATE_ESTABLISHED && p->state != BGP_STATE_IDLE &&
	    fsm_take_coll(p, ev))
		return;
	session_close(p, &p->conn);
	if (!handover)
		session_close(p, &p->coll);
	timers_stop(p);
	change_state(p, BGP_STATE_IDLE, ev);
	if (!handover) {
		peer_timer_set(p, &p->idlehold, quick ? retry_wait(p) :
		    backoff(p));
		return;
	}
	log_info("neighbor %s: the new connection takes over", peer_addr(p));
	tmp = p->conn;			/* swap: buffers stay allocated */
	p->conn = p->coll;
	p->coll = tmp;
	timer_stop(&p->conn.timer);
	peer_timer_set(p, &p->hold, BGP_HOLD_OPENSENT_S * 1000ULL);
	change_state(p, BGP_STATE_OPENSENT, BGP_EV_TCP_CONFIRMED);
}

static void
fsm_down(struct peer *p, enum bgp_event ev)
{
	fsm_down_after(p, ev, false);
}

static void
fsm_error(struct peer *p, enum bgp_event ev, uint8_t code, uint8_t subcode,
    const uint8_t *data, size_t len)
{
	session_send_notification(p, &p->conn, code, subcode, data, len);
	fsm_down(p, ev);
}

static void
fsm_err_notify(struct peer *p, enum bgp_event ev)
{
	if (p->err.reason != NULL)
		log_warnx("neighbor %s: %s", peer_addr(p), p->err.reason);
	fsm_error(p, ev, p->err.code, p->err.subcode, p->err.data,
	    p->err.data_len);
}

static void
fsm_connect(struct peer *p, enum bgp_event ev)
{
	int rc;

	peer_timer_set(p, &p->connretry, retry_wait(p));
	if (p->conf.passive) {
		timer_stop(&p->connretry);
		change_state(p, BGP_STATE_ACTIVE, ev);
		return;
	}
	if ((rc = session_connect(p)) < 0) {
		(void)snprintf(p->info, sizeof(p->info), "connect: %s",
		    strerror(-rc));
		log_info("neighbor %s: connect: %s", peer_addr(p),
		    strerror(-rc));
		change_state(p, BGP_STATE_ACTIVE, ev);
		return;
	}
	change_state(p, BGP_STATE_CONNECT, ev);
}

/* The TCP connection is up (either direction): send our OPEN. */
static void
fsm_tcp_up(struct peer *p, enum bgp_event ev)
{
	timer_stop(&p->connretry);
	timer_stop(&p->idlehold);
	if (session_send_open(p, &p->conn) < 0) {
		fsm_down(p, ev);
		return;
	}
	peer_timer_set(p, &p->hold, BGP_HOLD_OPENSENT_S * 1000ULL);
	change_state(p, BGP_STATE_OPENSENT, ev);
}

static bool
caps_has_mp(const struct bgp_caps *c, uint16_t afi)
{
	uint8_t i;

	if (!(c->flags & BGP_CAPS_F_MP))
		return afi == BGP_AFI_IPV4;	/* RFC 4760 §8: implied */
	for (i = 0; i < c->n_mp && i < BGP_CAPS_MP_MAX; i++)
		if (c->mp[i].afi == afi && c->mp[i].safi == BGP_SAFI_UNICAST)
			return true;
	return false;
}

/* Check the OPEN in p->msg and take what it negotiates.  On error p->err
 * holds the NOTIFICATION. */
static int
recv_open(struct peer *p, struct bgp_open *o)
{
	if (bgp_open_decode(p->msg, p->msg_len, o, &p->err) < 0)
		return -EBADMSG;
	if (bgp_open_check_peer_as(o, p->conf.remote_as, &p->err) < 0) {
		log_warnx("neighbor %s: OPEN says AS %u, configured AS %u",
		    peer_addr(p), o->as, p->conf.remote_as);
		return -EBADMSG;
	}
	if (!p->ebgp && o->bgpid == bgp_router_id(p->bgp)) {
		memset(&p->err, 0, sizeof(p->err));
		p->err.action = BGP_ERR_SESSION_RESET;
		p->err.code = BGP_ERRC_OPEN;
		p->err.subcode = BGP_ERRS_OPEN_BGPID;
		p->err.reason = "iBGP peer uses our own BGP identifier";
		return -EBADMSG;
	}
	return 0;
}

static void
open_negotiate(struct peer *p, const struct bgp_open *o)
{
	uint16_t h = p->conf.hold_time;

	p->remote_id = o->bgpid;
	p->remote_as = o->as;
	if (h == 0 || o->holdtime == 0)
		h = 0;
	else if (o->holdtime < h)
		h = o->holdtime;
	p->holdtime = h;
	p->keepalive_s = h / 3;
	p->as4 = (o->caps.flags & BGP_CAPS_F_AS4) != 0;
	p->rrefresh = (o->caps.flags & BGP_CAPS_F_RR) != 0;
	gr_open_negotiate(p, o);
	p->af_v4 = caps_has_mp(&o->caps, BGP_AFI_IPV4);
	p->af_v6 = caps_has_mp(&o->caps, BGP_AFI_IPV6);
	log_info("neighbor %s: OPEN AS %u id %s hold %u s (negotiated %u), "
	    "%s%s%s%s%s%s", peer_addr(p), o->as,
	    inet_ntoa((struct in_addr){ htonl(o->bgpid) }), o->holdtime, h,
	    p->af_v4 ? "ipv4 " : "", p->af_v6 ? "ipv6 " : "",
	    p->as4 ? "as4 " : "", p->rrefresh ? "route-refresh " : "",
	    p->gr ? "graceful-restart" : "",
	    p->gr_flags & BGP_GR_F_RESTART ? " (restarting)" : "");
}

static void
hold_restart(struct peer *p)
{
	if (p->holdtime > 0)
		peer_timer_set(p, &p->hold, p->holdtime * 1000ULL);
	else
		timer_stop(&p->hold);
}

static void
fsm_hold_expired(struct peer *p, enum bgp_event ev)
{
	(void)snprintf(p->info, sizeof(p->info), "Hold Timer Expired");
	fsm_error(p, ev, BGP_ERRC_HOLD, 0, NULL, 0);
}

/* A KEEPALIVE in OpenConfirm or Established: restart the hold timer, or
 * drop the session if it is malformed. */
static int
recv_keepalive(struct peer *p)
{
	if (bgp_keepalive_decode(p->msg, p->msg_len, &p->err) < 0) {
		fsm_err_notify(p, BGP_EV_HDR_ERR);
		return -EBADMSG;
	}
	hold_restart(p);
	return 0;
}

static void
fsm_open(struct peer *p, enum bgp_event ev)
{
	struct bgp_open o;

	if (recv_open(p, &o) < 0) {
		fsm_err_notify(p, BGP_EV_OPEN_ERR);
		return;
	}
	open_negotiate(p, &o);
	timer_stop(&p->connretry);
	session_send_keepalive(p);	/* also starts the keepalive timer */
	hold_restart(p);
	change_state(p, BGP_STATE_OPENCONFIRM, ev);
}

static void
recv_notification(struct peer *p, enum bgp_event ev)
{
	struct bgp_notification n;
	char text[256];
	bool quick = false;

	if (bgp_notification_decode(p->msg, p->msg_len, &n, &p->err) < 0) {
		log_warnx("neighbor %s: malformed NOTIFICATION received",
		    peer_addr(p));
		(void)snprintf(p->info, sizeof(p->info),
		    "received a malformed NOTIFICATION");
	} else {
		text[0] = '\0';
		(void)bgp_notification_shutdown_text(&n, text, sizeof(text));
		log_warnx("neighbor %s: received NOTIFICATION %u/%u (%s, %s)%s%s",
		    peer_addr(p), n.code, n.subcode, bgp_err_name(n.code),
		    bgp_suberr_name(n.code, n.subcode), text[0] ? ": " : "",
		    text);
		(void)snprintf(p->info, sizeof(p->info), "received %s: %s",
		    bgp_err_name(n.code), bgp_suberr_name(n.code, n.subcode));
		/* ended on purpose: it will be back, try again soon */
		quick = n.code == BGP_ERRC_CEASE &&
		    (n.subcode == BGP_ERRS_CEASE_SHUTDOWN ||
		     n.subcode == BGP_ERRS_CEASE_DECONFIG ||
		     n.subcode == BGP_ERRS_CEASE_RESET ||
		     n.subcode == BGP_ERRS_CEASE_CONFCHANGE ||
		     n.subcode == BGP_ERRS_CEASE_COLLISION);
	}
	fsm_down_after(p, ev, quick);
}

static void
recv_update(struct peer *p)
{
	static struct bgp_update u;	/* ~20 KB: not on the stack */
	int rc;

	rc = bgp_update_decode(p->msg, p->msg_len, p->as4 ? BGP_MSG_F_AS4 : 0,
	    &u, &p->err);
	if (rc < 0) {
		fsm_err_notify(p, BGP_EV_UPDATE_ERR);
		return;
	}
	if (p->err.action != BGP_ERR_NONE)
		log_warnx("neighbor %s: UPDATE error %u/%u (%s): %s: %s",
		    peer_addr(p), p->err.code, p->err.subcode,
		    bgp_suberr_name(p->err.code, p->err.subcode),
		    p->err.reason ? p->err.reason : "",
		    bgp_err_action_name(p->err.action));
	if (rde_update(p, &u, &p->err) < 0) {
		session_maxpfx_exceeded(p);	/* Cease/1, hold-down */
		return;
	}
	if (u.flags & BGP_UPD_F_EOR)
		gr_eor(p, u.eor_afi, u.eor_safi);
}

static void
recv_rrefresh(struct peer *p)
{
	struct bgp_route_refresh rr;

	if (bgp_rr_decode(p->msg, p->msg_len, &rr, &p->err) < 0) {
		fsm_err_notify(p, BGP_EV_UPDATE_ERR);
		return;
	}
	if (rr.subtype != BGP_RR_NORMAL)
		return;		/* BoRR/EoRR markers need no answer */
	log_info("neighbor %s: ROUTE-REFRESH for %s: re-sending the table",
	    peer_addr(p), bgp_afi_name(rr.afi, rr.safi));
	rde_peer_refresh(p);
}

/* A message that is not allowed in this state (RFC 6608 subcodes). */
static void
fsm_unexpected(struct peer *p, enum bgp_event ev)
{
	uint8_t sub = p->state == BGP_STATE_OPENSENT ? BGP_ERRS_FSM_OPENSENT :
	    p->state == BGP_STATE_OPENCONFIRM ? BGP_ERRS_FSM_OPENCONFIRM :
	    p->state == BGP_STATE_ESTABLISHED ? BGP_ERRS_FSM_ESTABLISHED : 0;
	uint8_t type = p->msg_len > 18 ? p->msg[18] : 0;

	log_warnx("neighbor %s: %s in state %s", peer_addr(p),
	    bgp_event_name(ev), bgp_state_name(p->state));
	fsm_error(p, ev, BGP_ERRC_FSM, sub, &type, type ? 1 : 0);
}

void
bgp_fsm(struct peer *p, enum bgp_event ev)
{
	if (ev == BGP_EV_STOP) {
		session_close(p, &p->conn);
		session_close(p, &p->coll);
		timers_stop(p);
		change_state(p, BGP_STATE_IDLE, ev);
		gr_stop(p);
		return;
	}
	if (ev == BGP_EV_HDR_ERR || ev == BGP_EV_OPEN_ERR ||
	    ev == BGP_EV_UPDATE_ERR) {
		fsm_err_notify(p, ev);
		return;
	}

	switch (p->state) {
	case BGP_STATE_IDLE:
		switch (ev) {
		case BGP_EV_START:
			p->retry_s = p->conf.connect_retry;
			/* FALLTHROUGH */
		case BGP_EV_IDLEHOLD_TIMER:
			fsm_connect(p, ev);
			break;
		case BGP_EV_TCP_CONFIRMED:
			fsm_tcp_up(p, ev);
			break;
		default:
			break;	/* RFC 4271: other events are ignored */
		}
		break;
	case BGP_STATE_CONNECT:
		switch (ev) {
		case BGP_EV_CONNRETRY_TIMER:
			if (fsm_take_coll(p, ev))
				break;
			session_close(p, &p->conn);
			fsm_connect(p, ev);
			break;
		case BGP_EV_TCP_ACKED:
		case BGP_EV_TCP_CONFIRMED:
			fsm_tcp_up(p, ev);
			/* the peer's connection, accepted while ours was in
			 * progress, may hold its OPEN: settle it now that
			 * ours has our OPEN too */
			if (p->state == BGP_STATE_OPENSENT && p->coll.held)
				session_resume(p, &p->coll);
			break;
		case BGP_EV_TCP_FAILS:
			if (fsm_take_coll(p, ev))
				break;
			session_close(p, &p->conn);
			change_state(p, BGP_STATE_ACTIVE, ev);
			break;
		case BGP_EV_START:
			break;
		default:
			fsm_down(p, ev);
			break;
		}
		break;
	case BGP_STATE_ACTIVE:
		switch (ev) {
		case BGP_EV_CONNRETRY_TIMER:
			fsm_connect(p, ev);
			break;
		case BGP_EV_TCP_ACKED:
		case BGP_EV_TCP_CONFIRMED:
			fsm_tcp_up(p, ev);
			break;
		case BGP_EV_TCP_FAILS:
			session_close(p, &p->conn);
			break;
		case BGP_EV_START:
			break;
		default:
			fsm_down(p, ev);
			break;
		}
		break;
	case BGP_STATE_OPENSENT:
		switch (ev) {
		case BGP_EV_OPEN:
			fsm_open(p, ev);
			break;
		case BGP_EV_HOLD_TIMER:
			fsm_hold_expired(p, ev);
			break;
		case BGP_EV_TCP_FAILS:
			if (fsm_take_coll(p, ev))
				break;
			/* RFC 4271 §8.2.2: back to Active, retry later */
			session_close(p, &p->conn);
			timer_stop(&p->hold);
			peer_timer_set(p, &p->connretry, retry_wait(p));
			change_state(p, BGP_STATE_ACTIVE, ev);
			break;
		case BGP_EV_NOTIFICATION:
			recv_notification(p, ev);
			break;
		case BGP_EV_KEEPALIVE:
		case BGP_EV_UPDATE:
		case BGP_EV_RREFRESH:
			fsm_unexpected(p, ev);
			break;
		default:
			break;
		}
		break;
	case BGP_STATE_OPENCONFIRM:
		switch (ev) {
		case BGP_EV_KEEPALIVE:
			if (recv_keepalive(p) == 0)
				change_state(p, BGP_STATE_ESTABLISHED, ev);
			break;
		case BGP_EV_KEEPALIVE_TIMER:
			session_send_keepalive(p);
			break;
		case BGP_EV_HOLD_TIMER:
			fsm_hold_expired(p, ev);
			break;
		case BGP_EV_TCP_FAILS:
			fsm_down(p, ev);
			break;
		case BGP_EV_NOTIFICATION:
			recv_notification(p, ev);
			break;
		case BGP_EV_OPEN:
		case BGP_EV_UPDATE:
		case BGP_EV_RREFRESH:
			fsm_unexpected(p, ev);
			break;
		default:
			break;
		}
		break;
	case BGP_STATE_ESTABLISHED:
		switch (ev) {
		case BGP_EV_UPDATE:
			hold_restart(p);
			recv_update(p);
			break;
		case BGP_EV_KEEPALIVE:
			(void)recv_keepalive(p);
			break;
		case BGP_EV_RREFRESH:
			hold_restart(p);
			recv_rrefresh(p);
			break;
		case BGP_EV_KEEPALIVE_TIMER:
			session_send_keepalive(p);
			break;
		case BGP_EV_HOLD_TIMER:
			fsm_hold_expired(p, ev);
			break;
		case BGP_EV_TCP_FAILS:
			fsm_down(p, ev);
			break;
		case BGP_EV_NOTIFICATION:
			recv_notification(p, ev);
			break;
		case BGP_EV_OPEN:
			fsm_unexpected(p, ev);
			break;
		default:
			break;
		}
		break;
	}
}

/* A valid OPEN on a second connection while Established.  A peer that
 * negotiated graceful restart has restarted (RFC 4724 §4.2): the old
 * session is closed without a NOTIFICATION (its other end is gone), its
 * routes stay as stale (gr_retain() on BGP_EV_OPEN), and the new
 * connection carries on from OpenSent with this OPEN.  Anyone else gets
 * Cease/7 on the new connection (RFC 4271 §6.8). */
static void
fsm_replace(struct peer *p)
{
	struct bgp_conn tmp;

	if (!p->gr) {
		log_info("neighbor %s: OPEN on a second connection while "
		    "Established: Cease/Connection Collision Resolution",
		    peer_addr(p));
		session_send_notification(p, &p->coll, BGP_ERRC_CEASE,
		    BGP_ERRS_CEASE_COLLISION, NULL, 0);
		session_close(p, &p->coll);
		return;
	}
	log_info("neighbor %s: valid OPEN on a new connection while "
	    "Established: the peer restarted (graceful restart); replacing "
	    "the old session", peer_addr(p));
	(void)snprintf(p->info, sizeof(p->info), "peer restarted");
	session_close(p, &p->conn);
	timers_stop(p);
	change_state(p, BGP_STATE_IDLE, BGP_EV_OPEN);
	tmp = p->conn;			/* swap: buffers stay allocated */
	p->conn = p->coll;
	p->coll = tmp;
	timer_stop(&p->conn.timer);
	peer_timer_set(p, &p->hold, BGP_HOLD_OPENSENT_S * 1000ULL);
	change_state(p, BGP_STATE_OPENSENT, BGP_EV_TCP_CONFIRMED);
	bgp_fsm(p, BGP_EV_OPEN);	/* p->msg is still this OPEN */
}

/* RFC 4271 §6.8: the connection the peer opened wins when its BGP
 * identifier is the higher one (RFC 6286 §2.3: equal identifiers, eBGP
 * only, the larger AS). */
static bool
collision_remote_wins(const struct peer *p, const struct bgp_open *o)
{
	uint32_t local = bgp_router_id(p->bgp);

	if (o->bgpid != local)
		return o->bgpid > local;
	return o->as > p->bgp->local_as;
}

/* An OPEN on the second connection while our own connect() is still in
 * progress (Connect).  If the peer's connection wins, bgp_collision()
 * settles it at once.  If ours wins, ours is not up yet: the OPEN is held
 * (true: left unread) until it is -- then bgp_collision() refuses the
 * peer's connection with Cease/7 -- or until it fails, and then the
 * peer's connection carries the session (fsm_take_coll()).  Deciding
 * either way here on our own would not be the peer's decision, and
 * refusing the peer's connection before ours is up could leave none. */
bool
bgp_collision_hold(struct peer *p)
{
	struct bgp_open o;
	struct bgp_err err;

	if (p->state != BGP_STATE_CONNECT || p->conn.fd < 0 ||
	    !p->conn.connecting)
		return false;
	if (bgp_open_decode(p->msg, p->msg_len, &o, &err) < 0)
		return false;		/* bgp_collision() answers it */
	if (collision_remote_wins(p, &o))
		return false;
	if (!p->coll.held)
		log_info("neighbor %s: collision: our id is higher, holding "
		    "the OPEN on the peer's connection until ours is up",
		    peer_addr(p));
	return true;
}

/* RFC 4271 §6.8: an OPEN arrived on the second connection (p->coll).  The
 * connection opened by the speaker with the higher BGP identifier stays;
 * the other one gets Cease/Connection Collision Resolution.  Both ends
 * decide alike, so exactly one connection survives. */
void
bgp_collision(struct peer *p)
{
	struct bgp_open o;
	struct bgp_conn tmp;
	bool remote_wins;

	if (recv_open(p, &o) < 0) {
		session_send_notification(p, &p->coll, p->err.code,
		    p->err.subcode, p->err.data, p->err.data_len);
		session_close(p, &p->coll);
		return;
	}
	remote_wins = collision_remote_wins(p, &o);
	if (p->state == BGP_STATE_ESTABLISHED) {
		if (p->coll.restart) {	/* accepted while Established */
			fsm_replace(p);
			return;
		}
		/* accepted during the OPEN exchange: the peer confirmed our
		 * session with its KEEPALIVE, so it settled the collision
		 * for this one (RFC 4271 §6.8: Established stays) */
		log_info("neighbor %s: collision: keeping the Established "
		    "connection", peer_addr(p));
		session_send_notification(p, &p->coll, BGP_ERRC_CEASE,
		    BGP_ERRS_CEASE_COLLISION, NULL, 0);
		session_close(p, &p->coll);
		return;
	}
	/* the second connection is always the one the peer opened; it only
	 * replaces ours if ours was opened by us and the peer wins -- or
	 * if ours is gone */
	if (p->conn.fd >= 0 && (!remote_wins || !p->conn.outgoing)) {
		log_info("neighbor %s: collision: keeping the %s connection",
		    peer_addr(p), p->conn.outgoing ? "outgoing" : "first");
		session_send_notification(p, &p->coll, BGP_ERRC_CEASE,
		    BGP_ERRS_CEASE_COLLISION, NULL, 0);
		session_close(p, &p->coll);
		return;
	}
	log_info("neighbor %s: collision: %s, keeping its connection",
	    peer_addr(p), p->conn.fd < 0 ? "ours is gone" :
	    "the peer's id is higher");
	/* (no NOTIFICATION on a connect() still in progress) */
	session_send_notification(p, &p->conn, BGP_ERRC_CEASE,
	    BGP_ERRS_CEASE_COLLISION, NULL, 0);
	session_close(p, &p->conn);
	tmp = p->conn;			/* swap: buffers stay allocated */
	p->conn = p->coll;
	p->coll = tmp;
	timer_stop(&p->conn.timer);
	timers_stop(p);
	peer_timer_set(p, &p->hold, BGP_HOLD_OPENSENT_S * 1000ULL);
	change_state(p, BGP_STATE_OPENSENT, BGP_EV_TCP_CONFIRMED);
	bgp_fsm(p, BGP_EV_OPEN);	/* p->msg is still this OPEN */
}
