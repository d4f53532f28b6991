/* peer.c — the set of BGP peers: (re)configuration that keeps unchanged
 * sessions, passive open (connections from the listener, with collision
 * handling, RFC 4271 §6.8), the timers, shutdown and status.  The
 * connections themselves are in session.c, the FSM in bgp_fsm.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "log.h"
#include "bgp.h"

/* ---- peers and configuration ---- */

static bool
peer_conf_eq(const struct peer_conf *a, const struct peer_conf *b)
{
	return ipaddr_eq(&a->addr, &b->addr) && a->remote_as == b->remote_as &&
	    a->port == b->port && a->type == b->type &&
	    a->import == b->import && a->passive == b->passive &&
	    a->rr_client == b->rr_client &&
	    strcmp(a->password, b->password) == 0 &&
	    a->hold_time == b->hold_time &&
	    a->connect_retry == b->connect_retry &&
	    a->max_prefix == b->max_prefix && strcmp(a->name, b->name) == 0 &&
	    a->ttl_security == b->ttl_security &&
	    a->max_prefix_warning == b->max_prefix_warning &&
	    a->max_prefix_restart == b->max_prefix_restart;
}

/* a and b differ at most in what a running session can take without a
 * reset (session_reconf): the import policy and max-prefix.  A password
 * or GTSM change resets the session: both ends must change together, and
 * a new TCP connection is where the new key and minimum TTL hold from
 * the first segment. */
static bool
peer_conf_soft_eq(const struct peer_conf *a, const struct peer_conf *b)
{
	struct peer_conf t = *b;

	t.import = a->import;
	t.max_prefix = a->max_prefix;
	t.max_prefix_warning = a->max_prefix_warning;
	t.max_prefix_restart = a->max_prefix_restart;
	return peer_conf_eq(a, &t);
}

static struct peer *
peer_find(struct bgp *b, const struct ipaddr *a)
{
	struct peer *p;

	for (p = b->peers; p != NULL; p = p->next)
		if (!p->deleted && ipaddr_eq(&p->conf.addr, a))
			return p;
	return NULL;
}

static void
peer_apply_conf(struct peer *p, const struct peer_conf *pc)
{
	p->conf = *pc;
	p->conf.password[sizeof(p->conf.password) - 1] = '\0';
	p->conf.name[sizeof(p->conf.name) - 1] = '\0';
	if (p->conf.port == 0)
		p->conf.port = BGP_PORT;
	if (p->conf.connect_retry == 0)
		p->conf.connect_retry = 5;
	if (p->conf.hold_time == 1 || p->conf.hold_time == 2)
		p->conf.hold_time = BGP_HOLD_MIN;
	p->ebgp = p->conf.remote_as != p->bgp->local_as;
	p->retry_s = p->conf.connect_retry;
	p->maxpfx_until = 0;		/* a new configuration: try it now */
	p->maxpfx_warned = false;
}

static struct peer *
peer_new(struct bgp *b, const struct peer_conf *pc)
{
	struct peer *p, **pp;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->bgp = b;
	p->conn.fd = p->coll.fd = -1;
	p->state = BGP_STATE_IDLE;
	p->since = time(NULL);
	peer_apply_conf(p, pc);
	if (rde_peer_new(p) < 0) {
		free(p);
		return NULL;
	}
	for (pp = &b->peers; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = p;		/* configuration order, for `netctl status` */
	return p;
}

static void
peer_free(struct peer *p)
{
	struct bgp *b = p->bgp;
	struct peer **pp;

	for (pp = &b->peers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	rde_peer_down(p);
	rde_peer_free(p);
	session_conn_free(p, &p->conn);
	session_conn_free(p, &p->coll);
	free(p);
}

/* Stop a peer with a Cease (unless it had no session) and free it. */
static void
peer_remove(struct peer *p, uint8_t subcode, const char *text)
{
	uint8_t data[256];
	int n = 0;

	if (text != NULL)
		n = bgp_notification_shutdown_data(text, data, sizeof(data));
	if (p->conn.fd >= 0 && p->state >= BGP_STATE_OPENSENT)
		session_send_notification(p, &p->conn, BGP_ERRC_CEASE, subcode,
		    data, n > 0 ? (size_t)n : 0);
	if (p->coll.fd >= 0)
		session_send_notification(p, &p->coll, BGP_ERRC_CEASE, subcode,
		    NULL, 0);
	bgp_fsm(p, BGP_EV_STOP);
	peer_free(p);
}

int
bgp_configure(struct bgp *b, const struct ld_conf *conf)
{
	struct peer *p, *next;
	bool identity, nh_changed;
	size_t i;

	if (conf->local_as == 0) {
		log_warnx("bgp: local AS is 0; set it with `netctl bgp "
		    "default-node-as N` or `netctl bgp create`");
		return -EINVAL;
	}
	if (conf->router_id.family != AF_INET) {
		log_warnx("bgp: the router id must be an IPv4 address "
		    "(the node's router IP, `netctl bgp create "
		    "--router-ip=IP/LEN`)");
		return -EINVAL;
	}
	/* turning route reflection on or off, or a new cluster id, changes
	 * what every iBGP session carries: restart them all, as for a new
	 * identity (rare; the peer set changes with it anyway) */
	identity = b->local_as != conf->local_as ||
	    !ipaddr_eq(&b->router_id, &conf->router_id) ||
	    b->rr != conf->rr || (conf->rr &&
	    b->cluster_id != ntohl(conf->cluster_id.u.v4.s_addr));
	nh_changed = !ipaddr_eq(&b->nexthop4, &conf->nexthop4) ||
	    !ipaddr_eq(&b->nexthop6, &conf->nexthop6);
	b->local_as = conf->local_as;
	b->router_id = conf->router_id;
	b->rr = conf->rr && conf->cluster_id.family == AF_INET;
	b->cluster_id = b->rr ? ntohl(conf->cluster_id.u.v4.s_addr) : 0;
	b->nexthop4 = conf->nexthop4;
	b->nexthop6 = conf->nexthop6;
	b->listen_addr = conf->listen_addr;
	b->listen_port = conf->listen_port;
	if (identity || nh_changed)
		rde_nh_reconf(b);	/* next hops that are ours */

	for (p = b->peers; p != NULL; p = p->next)
		p->deleted = true;
	for (i = 0; i < conf->n_peers; i++) {
		const struct peer_conf *pc = &conf->peers[i];
		char a[IPADDR_STRLEN];

		if (pc->addr.family != AF_INET && pc->addr.family != AF_INET6) {
			log_warnx("bgp: peer %zu has no address; skipped", i);
			continue;
		}
		if (pc->remote_as == 0) {
			log_warnx("bgp: peer %s has AS 0; skipped (set its AS "
			    "with `netctl bgp peer add IP as N`)",
			    ipaddr_fmt(&pc->addr, a, sizeof(a)));
			continue;
		}
		if ((p = peer_find(b, &pc->addr)) == NULL) {
			for (p = b->peers; p != NULL; p = p->next)
				if (p->deleted && ipaddr_eq(&p->conf.addr,
				    &pc->addr))
					break;
		}
		if (p != NULL && !p->deleted) {
			log_warnx("bgp: peer %s configured twice; the first "
			    "one is used", ipaddr_fmt(&pc->addr, a, sizeof(a)));
			continue;
		}
		if (p != NULL) {
			p->deleted = false;
			if (!identity && peer_conf_eq(&p->conf, pc)) {
				/* unchanged: keep the session; the next hops
				 * may have changed, so refresh what we sent */
				if (nh_changed &&
				    p->state == BGP_STATE_ESTABLISHED)
					rde_peer_refresh(p);
				continue;
			}
			if (!identity && peer_conf_soft_eq(&p->conf, pc) &&
			    session_reconf(p, pc) == 0)
				continue;	/* import / max-prefix, live */
			log_info("neighbor %s: configuration changed, "
			    "restarting the session", peer_addr(p));
			if (p->conn.fd >= 0 && p->state >= BGP_STATE_OPENSENT)
				session_send_notification(p, &p->conn,
				    BGP_ERRC_CEASE, BGP_ERRS_CEASE_CONFCHANGE,
				    NULL, 0);
			bgp_fsm(p, BGP_EV_STOP);
			peer_apply_conf(p, pc);
			if (b->listener_fd >= 0)
				(void)session_md5(b->listener_fd, &p->conf.addr,
				    p->conf.password);
			bgp_fsm(p, BGP_EV_START);
			continue;
		}
		if ((p = peer_new(b, pc)) == NULL)
			return -ENOMEM;
		log_info("neighbor %s: added (AS %u, %s)", peer_addr(p),
		    p->conf.remote_as, p->ebgp ? "eBGP" : "iBGP");
		if (b->listener_fd >= 0 && p->conf.password[0] != '\0')
			(void)session_md5(b->listener_fd, &p->conf.addr,
			    p->conf.password);
		bgp_fsm(p, BGP_EV_START);
	}
	for (p = b->peers; p != NULL; p = next) {
		next = p->next;
		if (!p->deleted)
			continue;
		log_info("neighbor %s: removed from the configuration",
		    peer_addr(p));
		if (b->listener_fd >= 0 && p->conf.password[0] != '\0')
			(void)session_md5(b->listener_fd, &p->conf.addr, "");
		peer_remove(p, BGP_ERRS_CEASE_DECONFIG, NULL);
	}
	gr_check_deferral(b);		/* a peer it waited for may be gone */
	return 0;
}

void
bgp_accept(struct bgp *b, int fd, const struct ipaddr *from,
    uint16_t from_port)
{
	struct ipaddr a = *from;
	struct peer *p;
	char s[IPADDR_STRLEN];
	struct bgp_conn *c;

	if (a.family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a.u.v6)) {
		uint8_t v4[4];

		memcpy(v4, &a.u.b[12], 4);
		memset(&a, 0, sizeof(a));
		a.family = AF_INET;
		memcpy(a.u.b, v4, 4);
	}
	if ((p = peer_find(b, &a)) == NULL) {
		log_info("bgp: connection from %s port %u refused: not a "
		    "configured neighbor", ipaddr_fmt(&a, s, sizeof(s)),
		    from_port);
		close(fd);
		return;
	}
	if (!session_accept_ok(p, fd)) {	/* GTSM, max-prefix hold-down */
		close(fd);
		return;
	}
	if (p->state == BGP_STATE_IDLE && !timer_running(&p->idlehold)) {
		log_info("neighbor %s: connection refused: peer is stopped",
		    peer_addr(p));
		close(fd);
		return;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	session_sockopts(p, fd);
	switch (p->state) {
	case BGP_STATE_CONNECT:
		if (p->conn.fd >= 0)
			goto second;
		/* FALLTHROUGH */
	case BGP_STATE_IDLE:
	case BGP_STATE_ACTIVE:
		/* no connection of ours: this one is the session's */
		session_close(p, &p->conn);
		if (session_attach(p, &p->conn, fd, false) < 0)
			goto refuse;
		bgp_fsm(p, BGP_EV_TCP_CONFIRMED);
		return;
	case BGP_STATE_ESTABLISHED:
		if (!p->gr || ld_now_ms() - p->up_ms < BGP_RESTART_GUARD_MS)
			break;
		/* RFC 4724 §4.2: a peer that negotiated graceful restart
		 * and connects while we hold its session may have
		 * restarted without its old connection's FIN or RST
		 * reaching us (a reboot).  Only a valid OPEN on the new
		 * connection says so (bgp_collision()); until then the
		 * session stays as it is. */
		log_info("neighbor %s: new connection while Established; "
		    "waiting for its OPEN (graceful restart)", peer_addr(p));
		/* FALLTHROUGH */
	case BGP_STATE_OPENSENT:
	case BGP_STATE_OPENCONFIRM:
	second:
		/* RFC 4271 §6.8: keep both until the OPEN on this one tells
		 * which one stays (bgp_collision()).  In Connect too: the
		 * peer is connecting to us at the same instant we connect to
		 * it, and its end of our connect() is its second connection:
		 * replacing ours by this one here, as both ends would, lost
		 * both connections.  The BGP identifiers settle it the same
		 * way on both ends. */
		c = &p->coll;
		if (c->fd >= 0) {
			session_send_notification(p, c, BGP_ERRC_CEASE,
			    BGP_ERRS_CEASE_COLLISION, NULL, 0);
			session_close(p, c);
		}
		if (session_attach(p, c, fd, false) < 0)
			goto refuse;
		c->restart = p->state == BGP_STATE_ESTABLISHED;
		if (session_send_open(p, c) < 0) {
			session_close(p, c);
			return;
		}
		peer_timer_set(p, &c->timer, BGP_HOLD_OPENSENT_S * 1000ULL);
		if (p->state != BGP_STATE_ESTABLISHED)
			log_info("neighbor %s: second connection (collision), "
			    "waiting for its OPEN", peer_addr(p));
		return;
	}
	/* Established, no graceful restart (or too young to be one) */
	log_info("neighbor %s: connection while Established: "
	    "Cease/Connection Collision Resolution", peer_addr(p));
	{
		uint8_t buf[BGP_NOTIF_MIN_LEN];
		struct bgp_notification n = {
			.code = BGP_ERRC_CEASE,
			.subcode = BGP_ERRS_CEASE_COLLISION,
		};
		int len = bgp_notification_encode(&n, buf, sizeof(buf));

		if (len > 0)
			(void)send(fd, buf, (size_t)len,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
	}
refuse:
	close(fd);
}

static void
timer_fire(struct peer *p, struct ld_timer *t, uint64_t now,
    enum bgp_event ev)
{
	if (!timer_expired(t, now))
		return;
	timer_stop(t);
	bgp_fsm(p, ev);
}

static uint64_t
next_due(uint64_t next, const struct ld_timer *t)
{
	if (!timer_running(t))
		return next;
	return next == 0 || t->due < next ? t->due : next;
}

uint64_t
bgp_timers(struct bgp *b, uint64_t now)
{
	struct peer *p;
	uint64_t next = 0;

	if (b == NULL)
		return 0;
	for (p = b->peers; p != NULL; p = p->next) {
		if (timer_expired(&p->coll.timer, now)) {
			log_info("neighbor %s: no OPEN on the second "
			    "connection", peer_addr(p));
			session_send_notification(p, &p->coll, BGP_ERRC_HOLD,
			    0, NULL, 0);
			session_close(p, &p->coll);
		}
		if (timer_expired(&p->conn.timer, now)) {
			timer_stop(&p->conn.timer);
			session_failed(p, &p->conn, "connect: timed out");
		}
		timer_fire(p, &p->idlehold, now, BGP_EV_IDLEHOLD_TIMER);
		timer_fire(p, &p->connretry, now, BGP_EV_CONNRETRY_TIMER);
		timer_fire(p, &p->hold, now, BGP_EV_HOLD_TIMER);
		timer_fire(p, &p->keepalive, now, BGP_EV_KEEPALIVE_TIMER);
		next = next_due(next, &p->conn.timer);
		next = next_due(next, &p->coll.timer);
		next = next_due(next, &p->idlehold);
		next = next_due(next, &p->connretry);
		next = next_due(next, &p->hold);
		next = next_due(next, &p->keepalive);
	}
	return gr_timers(b, now, next);
}

void
bgp_flush(struct bgp *b)
{
	struct peer *p;

	if (b == NULL)
		return;
	for (p = b->peers; p != NULL; p = p->next) {
		if (p->state == BGP_STATE_ESTABLISHED)
			rde_flush_peer(p);
		if (session_wpending(&p->conn) > 0)
			session_flush_conn(p, &p->conn);
		session_check_reset(p);
	}
}

void
bgp_shutdown(struct bgp *b, const char *reason)
{

	if (b == NULL)
		return;
	while (b->peers != NULL)
		peer_remove(b->peers, BGP_ERRS_CEASE_SHUTDOWN, reason);
}

size_t
bgp_peer_count(const struct bgp *b)
{
	struct peer *p;
	size_t n = 0;

	if (b == NULL)
		return 0;
	for (p = b->peers; p != NULL; p = p->next)
		n++;
	return n;
}

int
bgp_peer_status(const struct bgp *b, size_t i, struct peer_status *ret)
{
	struct peer *p;

	if (b == NULL)
		return -ENOENT;
	for (p = b->peers; p != NULL && i > 0; p = p->next)
		i--;
	if (p == NULL)
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->addr = p->conf.addr;
	ret->type = p->conf.type;
	ret->rr_client = p->conf.rr_client;
	ret->remote_as = p->conf.remote_as;
	ret->state = bgp_state_name(p->state);
	ret->up = p->state == BGP_STATE_ESTABLISHED;
	ret->since = p->since;
	if (ret->up)
		ret->since_ms = p->up_wall_ms;
	(void)snprintf(ret->info, sizeof(ret->info), "%s", p->info);
	ret->prefixes_received = p->prefixes_received;
	ret->prefixes_unusable = p->prefixes_unusable;
	ret->prefixes_sent = p->prefixes_sent;
	if (ret->up && p->up_ms != 0) {
		uint64_t now = ld_now_ms();

		ret->uptime_ms = now > p->up_ms ? now - p->up_ms : 0;
	}
	ret->nlri_in = p->nlri_in;
	ret->updates_in = p->updates_in;
	ret->updates_out = p->updates_out;
	ret->flaps = p->flaps;
	(void)snprintf(ret->last_error, sizeof(ret->last_error), "%s", p->last_error);
	ret->import = p->conf.import;
	ret->password_set = p->conf.password[0] != '\0';
	ret->ttl_security = p->conf.ttl_security;
	ret->max_prefix = p->conf.max_prefix;
	ret->max_prefix_warning = p->conf.max_prefix_warning;
	ret->max_prefix_restart = p->conf.max_prefix_restart;
	if (p->maxpfx_until != 0) {
		uint64_t now = ld_now_ms();

		if (now < p->maxpfx_until)
			ret->down_until = time(NULL) +
			    (time_t)((p->maxpfx_until - now + 999) / 1000);
	}
	ret->gr = p->gr;
	ret->gr_time = p->gr_time;
	ret->gr_restarting = (p->gr_flags & BGP_GR_F_RESTART) != 0;
	ret->gr_stale = p->gr_stale;
	if (timer_running(&p->gr_timer)) {
		uint64_t now = ld_now_ms();

		ret->gr_stale_ms = p->gr_timer.due > now ?
		    p->gr_timer.due - now : 0;
	}
	return 0;
}

void
bgp_gr_status(const struct bgp *b, bool *ret_restarting, uint64_t *ret_kept,
    uint64_t *ret_left_ms)
{
	uint64_t now = ld_now_ms();

	*ret_restarting = b != NULL && b->gr_restarting;
	*ret_kept = b != NULL ? b->gr_kept : 0;
	*ret_left_ms = *ret_restarting && b->gr_defer.due > now ?
	    b->gr_defer.due - now : 0;
}
