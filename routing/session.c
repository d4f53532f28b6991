/* session.c — BGP peers: configuration, TCP connections (active and
 * passive open, socket options, TCP MD5, GTSM), bounded read and write
 * buffers, message framing, timers and status; the max-prefix tear down
 * and hold-down, and the options a running session takes without a reset
 * (session_reconf).  What a message means is decided in bgp_fsm.c;
 * routes are handled in rde.c.
 *
 * Memory per peer is bounded: one BGP_RBUF_SIZE read buffer (messages are
 * at most 4096 octets, a read never takes more than fits) and a write
 * buffer that UPDATE packing stops filling at BGP_WBUF_HIWAT; a peer that
 * does not read past BGP_WBUF_MAX is reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "dbuf.h"
#include "log.h"
#include "bgp.h"

struct bgp *
bgp_new(struct ld_loop *l, struct msgq *to_local)
{
	struct bgp *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->loop = l;
	b->to_local = to_local;
	b->listener_fd = -1;
	b->rng = (uint32_t)ld_now_ms() ^ (uint32_t)getpid() ^ 0x9e3779b9U;
	if (b->rng == 0)
		b->rng = 1;
	if (rde_init(b) < 0) {
		free(b);
		return NULL;
	}
	return b;
}

void
bgp_free(struct bgp *b)
{
	if (b == NULL)
		return;
	bgp_shutdown(b, NULL);
	rde_free(b);
	free(b);
}

uint32_t
bgp_router_id(const struct bgp *b)
{
	return ntohl(b->router_id.u.v4.s_addr);
}

uint32_t
bgp_cluster_id(const struct bgp *b)
{
	return b->rr ? b->cluster_id : bgp_router_id(b);
}

uint32_t
bgp_jitter(struct bgp *b, uint32_t ms)
{
	uint32_t x = b->rng;

	/* xorshift32: RFC 4271 §10 asks for 75-100 % of the interval */
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	b->rng = x;
	return ms - (uint32_t)((uint64_t)ms * (x % 251) / 1000);
}

const char *
peer_addr(const struct peer *p)
{
	static char buf[IPADDR_STRLEN];

	return ipaddr_fmt(&p->conf.addr, buf, sizeof(buf));
}

void
peer_timer_set(struct peer *p, struct ld_timer *t, uint64_t in_ms)
{
	timer_set(t, in_ms);
	loop_wakeup_at(p->bgp->loop, t->due);
}

/* ---- sockets ---- */

static socklen_t
sockaddr_from(const struct ipaddr *a, uint16_t port, bool v6sock,
    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET && !v6sock) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->u.v4;
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	if (a->family == AF_INET) {	/* v4-mapped on a dual-stack socket */
		sin6->sin6_addr.s6_addr[10] = 0xff;
		sin6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin6->sin6_addr.s6_addr[12], a->u.b, 4);
	} else {
		sin6->sin6_addr = a->u.v6;
	}
	return sizeof(*sin6);
}

/* TCP MD5 (RFC 2385) key for one neighbour on fd; password "" removes it. */
int
session_md5(int fd, const struct ipaddr *addr, const char *password)
{
	struct tcp_md5sig md5;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	size_t n = strlen(password);
	bool v6sock;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	v6sock = ss.ss_family == AF_INET6;
	if (n > TCP_MD5SIG_MAXKEYLEN)
		return -EINVAL;
	memset(&md5, 0, sizeof(md5));
	(void)sockaddr_from(addr, 0, v6sock, &md5.tcpm_addr);
	md5.tcpm_keylen = (uint16_t)n;
	memcpy(md5.tcpm_key, password, n);
	if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &md5, sizeof(md5)) < 0)
		return -errno;
	return 0;
}

int
bgp_listener_keys(struct bgp *b, int fd)
{
	struct peer *p;
	int rc, ret = 0;

	b->listener_fd = fd;
	if (fd < 0)
		return 0;
	for (p = b->peers; p != NULL; p = p->next) {
		if (p->conf.password[0] == '\0')
			continue;
		if ((rc = session_md5(fd, &p->conf.addr, p->conf.password)) < 0) {
			log_warnx("neighbor %s: TCP MD5 key on the listener: %s "
			    "(is CONFIG_TCP_MD5SIG enabled in the kernel?)",
			    peer_addr(p), strerror(-rc));
			ret = rc;
		}
	}
	return ret;
}

/* GTSM's receive side on one socket: nothing below TTL (hop limit) 255
 * reaches it.  An IPv4 peer may sit on a dual-stack IPv6 socket (v4-mapped:
 * IPv4 packets, IP_MINTTL still applies), so the option follows the
 * peer's family, not the socket's. */
static int
gtsm_minttl(struct peer *p, int fd)
{
	int v = BGP_GTSM_TTL;

	if (p->conf.addr.family == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_MINTTL, &v, sizeof(v));
	return setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &v, sizeof(v));
}

void
session_sockopts(struct peer *p, int fd)
{
	int one = 1, ttl = BGP_GTSM_TTL;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		log_debug("neighbor %s: TCP_NODELAY: %s", peer_addr(p),
		    strerror(errno));
	if (!p->ebgp && !p->conf.ttl_security)
		return;
	/* a directly connected eBGP peer: send with TTL 255 so a peer
	 * using GTSM (RFC 5082) accepts our packets */
	if (p->conf.addr.family == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	else
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl,
		    sizeof(ttl));
	if (p->conf.ttl_security && gtsm_minttl(p, fd) < 0)
		log_warnx("neighbor %s: GTSM: cannot set the minimum TTL: %s",
		    peer_addr(p), strerror(errno));
}

/* The TTL (hop limit) the connection's SYN arrived with, from the copy
 * the listener keeps (TCP_SAVE_SYN, listener.c): the IP header first.
 * -1 when there is none (a SYN cookie, an old kernel). */
static int
saved_syn_ttl(int fd)
{
	uint8_t syn[512];
	socklen_t len = sizeof(syn);

	if (getsockopt(fd, IPPROTO_TCP, TCP_SAVED_SYN, syn, &len) < 0 || len < 20)
		return -1;
	if ((syn[0] >> 4) == 4)
		return syn[8];
	if ((syn[0] >> 4) == 6 && len >= 40)
		return syn[7];
	return -1;
}

bool
session_accept_ok(struct peer *p, int fd)
{
	uint64_t now = ld_now_ms();
	int ttl;

	/* read (and so free) the saved SYN of every connection */
	ttl = saved_syn_ttl(fd);
	if (p->maxpfx_until != 0 && now < p->maxpfx_until) {
		log_info("neighbor %s: connection refused: down for max-prefix "
		    "for %llu more s", peer_addr(p),
		    (unsigned long long)(p->maxpfx_until - now + 999) / 1000);
		return false;
	}
	if (!p->conf.ttl_security)
		return true;
	/* The listener is shared by every peer, so it has no minimum TTL of
	 * its own: GTSM is checked here, on the SYN that opened this
	 * connection, before the connection can collide with or replace
	 * the session; then the socket gets the minimum TTL at once, so
	 * nothing later on it (an OPEN, a RST) can come from further
	 * away either. */
	if (ttl >= 0 && ttl < BGP_GTSM_TTL) {
		log_warnx("neighbor %s: connection refused: its SYN arrived with "
		    "TTL %d, GTSM (RFC 5082) wants %d (a directly connected "
		    "peer sending with 255)", peer_addr(p), ttl, BGP_GTSM_TTL);
		return false;
	}
	if (ttl < 0)
		log_debug("neighbor %s: no saved SYN (a SYN cookie?): GTSM "
		    "relies on the socket's minimum TTL alone", peer_addr(p));
	if (gtsm_minttl(p, fd) < 0) {
		log_warnx("neighbor %s: connection refused: GTSM: cannot set "
		    "the minimum TTL: %s", peer_addr(p), strerror(errno));
		return false;
	}
	return true;
}

static void conn_io(int fd, short revents, void *arg);

static int
conn_buffers(struct bgp_conn *c)
{
	if (c->rbuf == NULL && (c->rbuf = malloc(BGP_RBUF_SIZE)) == NULL)
		return -ENOMEM;
	return 0;
}

int
session_attach(struct peer *p, struct bgp_conn *c, int fd, bool outgoing)
{
	int rc;

	if ((rc = conn_buffers(c)) < 0)
		return rc;
	c->fd = fd;
	c->outgoing = outgoing;
	c->connecting = false;
	c->open_sent = false;
	c->notified = false;
	c->restart = c->held = false;
	c->rlen = 0;
	c->wlen = c->woff = 0;
	c->pollout = outgoing;
	timer_stop(&c->timer);
	if ((rc = loop_io_add(p->bgp->loop, fd, outgoing ? POLLOUT : POLLIN,
	    conn_io, p)) < 0) {
		c->fd = -1;
		return rc;
	}
	return 0;
}

int
session_connect(struct peer *p)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, rc;

	fd = socket(p->conf.addr.family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	session_sockopts(p, fd);
	if (p->bgp->listen_addr.family == p->conf.addr.family) {
		sl = sockaddr_from(&p->bgp->listen_addr, 0, false, &ss);
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
			log_debug("neighbor %s: bind to the listen address: %s",
			    peer_addr(p), strerror(errno));
	}
	if (p->conf.password[0] != '\0' &&
	    (rc = session_md5(fd, &p->conf.addr, p->conf.password)) < 0) {
		log_warnx("neighbor %s: cannot set the TCP MD5 key: %s "
		    "(is CONFIG_TCP_MD5SIG enabled in the kernel?)",
		    peer_addr(p), strerror(-rc));
		goto close_fd;
	}
	sl = sockaddr_from(&p->conf.addr, p->conf.port, false, &ss);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 &&
	    errno != EINPROGRESS) {
		rc = -errno;
		goto close_fd;
	}
	if ((rc = session_attach(p, &p->conn, fd, true)) < 0)
		goto close_fd;
	p->conn.connecting = true;
	peer_timer_set(p, &p->conn.timer, BGP_PEER_CONNECT_MS);
	return 0;

close_fd:
	close(fd);
	return rc;
}

void
session_close(struct peer *p, struct bgp_conn *c)
{
	if (c->fd < 0)
		return;
	loop_io_del(p->bgp->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->rlen = 0;
	c->wlen = c->woff = 0;
	c->connecting = c->open_sent = c->pollout = false;
	c->restart = c->held = false;
	timer_stop(&c->timer);
}

void
session_conn_free(struct peer *p, struct bgp_conn *c)
{
	session_close(p, c);
	free(c->rbuf);
	free(c->wbuf);
	c->rbuf = c->wbuf = NULL;
	c->wcap = 0;
}

size_t
session_wpending(const struct bgp_conn *c)
{
	return c->wlen - c->woff;
}

static void
conn_pollout(struct peer *p, struct bgp_conn *c, bool on)
{
	if (c->pollout == on || c->fd < 0)
		return;
	c->pollout = on;
	loop_io_events(p->bgp->loop, c->fd, on ? POLLIN | POLLOUT : POLLIN);
}

/* Write what we can without blocking. */
void
session_flush_conn(struct peer *p, struct bgp_conn *c)
{
	ssize_t n;

	if (c->fd < 0 || c->connecting)
		return;
	while (c->woff < c->wlen) {
		n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* the read side will see the error and fail the
			 * connection; drop what cannot be written */
			log_debug("neighbor %s: send: %s", peer_addr(p),
			    strerror(errno));
			c->wlen = c->woff = 0;
			break;
		}
		c->woff += (size_t)n;
	}
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	conn_pollout(p, c, c->wlen > 0);
}

int
session_send(struct peer *p, struct bgp_conn *c, const uint8_t *msg,
    size_t len)
{
	size_t need;

	if (c->fd < 0)
		return -ENOTCONN;
	if (c->woff > 0 && c->woff == c->wlen)
		c->woff = c->wlen = 0;
	need = c->wlen + len;
	if (need > BGP_WBUF_MAX)
		return -ENOBUFS;
	if (need > c->wcap) {
		if (c->woff > 0) {	/* compact first */
			memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
			c->wlen -= c->woff;
			c->woff = 0;
			need = c->wlen + len;
		}
		if (GROW(c->wbuf, c->wcap, need < 16384 ? 16384 : need) < 0)
			return -ENOMEM;
	}
	memcpy(c->wbuf + c->wlen, msg, len);
	c->wlen += len;
	p->msgs_out++;
	if (len > BGP_HDR_LEN - 1 && msg[BGP_HDR_LEN - 1] == BGP_MSG_UPDATE)
		p->updates_out++;
	return 0;
}

int
session_send_open(struct peer *p, struct bgp_conn *c)
{
	struct bgp_open o;
	uint8_t buf[BGP_MSG_MAX];
	int len;

	memset(&o, 0, sizeof(o));
	o.version = BGP_VERSION;
	o.holdtime = p->conf.hold_time;
	o.bgpid = bgp_router_id(p->bgp);
	o.caps.flags = BGP_CAPS_F_MP | BGP_CAPS_F_RR | BGP_CAPS_F_AS4;
	o.caps.as4 = p->bgp->local_as;
	o.caps.n_mp = 2;
	o.caps.mp[0] = (struct bgp_afisafi){ BGP_AFI_IPV4, BGP_SAFI_UNICAST };
	o.caps.mp[1] = (struct bgp_afisafi){ BGP_AFI_IPV6, BGP_SAFI_UNICAST };
	gr_open_caps(p->bgp, &o.caps);	/* graceful restart (RFC 4724) */
	if ((len = bgp_open_encode(&o, buf, sizeof(buf))) < 0)
		return len;
	c->open_sent = true;
	if (session_send(p, c, buf, (size_t)len) < 0)
		return -ENOBUFS;
	session_flush_conn(p, c);
	return 0;
}

void
session_send_keepalive(struct peer *p)
{
	uint8_t buf[BGP_HDR_LEN];
	int len;

	if ((len = bgp_keepalive_encode(buf, sizeof(buf))) < 0)
		return;
	if (session_send(p, &p->conn, buf, (size_t)len) == 0)
		session_flush_conn(p, &p->conn);
	if (p->keepalive_s > 0)
		peer_timer_set(p, &p->keepalive, p->keepalive_s * 1000ULL);
}

void
session_send_notification(struct peer *p, struct bgp_conn *c, uint8_t code,
    uint8_t subcode, const uint8_t *data, size_t data_len)
{
	struct bgp_notification n = {
		.code = code, .subcode = subcode,
		.data = data, .data_len = data_len,
	};
	uint8_t buf[BGP_MSG_MAX];
	int len;

	if (c->fd < 0 || c->connecting)
		return;
	log_warnx("neighbor %s: sending NOTIFICATION %u/%u (%s, %s)",
	    peer_addr(p), code, subcode, bgp_err_name(code),
	    bgp_suberr_name(code, subcode));
	if (c == &p->conn)
		(void)snprintf(p->info, sizeof(p->info), "sent %s: %s",
		    bgp_err_name(code), bgp_suberr_name(code, subcode));
	if ((len = bgp_notification_encode(&n, buf, sizeof(buf))) < 0)
		return;
	c->notified = true;
	/* a NOTIFICATION goes out even past the high-water mark; if even
	 * the hard cap is hit, the session is being dropped anyway */
	if (session_send(p, c, buf, (size_t)len) == 0)
		session_flush_conn(p, c);
}

void
session_check_reset(struct peer *p)
{
	if (!p->reset_pending)
		return;
	p->reset_pending = false;
	if (p->state != BGP_STATE_ESTABLISHED)
		return;
	(void)snprintf(p->info, sizeof(p->info), "out of resources");
	session_send_notification(p, &p->conn, BGP_ERRC_CEASE,
	    BGP_ERRS_CEASE_RESOURCES, NULL, 0);
	bgp_fsm(p, BGP_EV_TCP_FAILS);
}

void
session_maxpfx_exceeded(struct peer *p)
{
	uint16_t afi = p->maxpfx_family == AF_INET6 ? BGP_AFI_IPV6 :
	    BGP_AFI_IPV4;
	uint32_t lim = p->conf.max_prefix;
	uint32_t min = p->conf.max_prefix_restart ? p->conf.max_prefix_restart :
	    BGP_MAXPFX_RESTART_MIN;
	uint8_t data[7], junk[4096];
	int i;

	log_warnx("neighbor %s: more than max-prefix %u routes: Cease, routes "
	    "removed, no session for %u min", peer_addr(p), lim, min);
	/* RFC 4486 §4: AFI, SAFI and the upper bound */
	data[0] = (uint8_t)(afi >> 8);
	data[1] = (uint8_t)afi;
	data[2] = BGP_SAFI_UNICAST;
	data[3] = (uint8_t)(lim >> 24);
	data[4] = (uint8_t)(lim >> 16);
	data[5] = (uint8_t)(lim >> 8);
	data[6] = (uint8_t)lim;
	session_send_notification(p, &p->conn, BGP_ERRC_CEASE,
	    BGP_ERRS_CEASE_MAXPFX, data, sizeof(data));
	/* what it sent since, unread, would turn our close into a RST that
	 * can overtake the NOTIFICATION: read it away first (bounded) */
	for (i = 0; p->conn.fd >= 0 && i < 64; i++)
		if (recv(p->conn.fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
			break;
	/* a Stop, not a TCP failure: the routes go now and are never kept
	 * as a graceful-restart peer's stale ones */
	bgp_fsm(p, BGP_EV_STOP);
	p->maxpfx_until = ld_now_ms() + min * 60000ULL;
	peer_timer_set(p, &p->idlehold, min * 60000ULL);
	(void)snprintf(p->info, sizeof(p->info), "sent Cease: Maximum Number "
	    "of Prefixes Reached (%u); down for %u min", lim, min);
}

/* ALL > DEFAULT > NONE */
static int
import_rank(enum peer_import i)
{
	return i == PEER_IMPORT_ALL ? 2 : i == PEER_IMPORT_DEFAULT ? 1 : 0;
}

static void
send_route_refresh(struct peer *p)
{
	struct bgp_route_refresh rr = { .subtype = BGP_RR_NORMAL,
	    .safi = BGP_SAFI_UNICAST };
	uint8_t buf[64];
	int len;

	for (int k = 0; k < 2; k++) {
		if (!(k == 0 ? p->af_v4 : p->af_v6))
			continue;
		rr.afi = k == 0 ? BGP_AFI_IPV4 : BGP_AFI_IPV6;
		if ((len = bgp_rr_encode(&rr, buf, sizeof(buf))) > 0)
			(void)session_send(p, &p->conn, buf, (size_t)len);
	}
	session_flush_conn(p, &p->conn);
}

int
session_reconf(struct peer *p, const struct peer_conf *pc)
{
	enum peer_import old = p->conf.import;
	bool wider = import_rank(pc->import) > import_rank(old);

	if (p->state != BGP_STATE_ESTABLISHED || (wider && !p->rrefresh))
		return -1;
	p->conf.import = pc->import;
	p->conf.max_prefix = pc->max_prefix;
	p->conf.max_prefix_warning = pc->max_prefix_warning;
	p->conf.max_prefix_restart = pc->max_prefix_restart;
	p->maxpfx_warned = false;
	log_info("neighbor %s: import %s, max-prefix %u%s: applied to the "
	    "running session", peer_addr(p),
	    pc->import == PEER_IMPORT_ALL ? "all" :
	    pc->import == PEER_IMPORT_DEFAULT ? "default" : "none",
	    pc->max_prefix, pc->max_prefix && pc->max_prefix_warning ?
	    " (warning)" : "");
	if (pc->import != old) {
		rde_peer_reimport(p);
		if (wider) {
			/* what the old policy refused was never kept: ask
			 * for the table again (RFC 2918) */
			log_info("neighbor %s: wider import policy: asking "
			    "for its routes again (ROUTE-REFRESH)", peer_addr(p));
			send_route_refresh(p);
		}
	}
	if (p->conf.max_prefix > 0 &&
	    p->prefixes_received > p->conf.max_prefix) {
		if (!p->conf.max_prefix_warning)
			session_maxpfx_exceeded(p);
		else {
			log_warnx("neighbor %s: %llu routes, more than "
			    "max-prefix %u (warning only: the session stays)",
			    peer_addr(p),
			    (unsigned long long)p->prefixes_received,
			    p->conf.max_prefix);
			p->maxpfx_warned = true;
		}
	}
	return 0;
}

/* ---- reading ---- */

static struct bgp_conn *
conn_by_fd(struct peer *p, int fd)
{
	if (fd < 0)
		return NULL;
	if (p->conn.fd == fd)
		return &p->conn;
	if (p->coll.fd == fd)
		return &p->coll;
	return NULL;
}

static enum bgp_event
msg_event(uint8_t type)
{
	switch (type) {
	case BGP_MSG_OPEN:		return BGP_EV_OPEN;
	case BGP_MSG_UPDATE:		return BGP_EV_UPDATE;
	case BGP_MSG_NOTIFICATION:	return BGP_EV_NOTIFICATION;
	case BGP_MSG_KEEPALIVE:		return BGP_EV_KEEPALIVE;
	default:			return BGP_EV_RREFRESH;
	}
}

/* A message on the colliding connection: only its OPEN matters. */
static void
coll_msg(struct peer *p, uint8_t type)
{
	struct bgp_notification n;

	switch (type) {
	case BGP_MSG_OPEN:
		bgp_collision(p);
		return;
	case BGP_MSG_NOTIFICATION:
		if (bgp_notification_decode(p->msg, p->msg_len, &n,
		    &p->err) == 0)
			log_info("neighbor %s: second connection closed by "
			    "NOTIFICATION %u/%u (%s)", peer_addr(p), n.code,
			    n.subcode, bgp_suberr_name(n.code, n.subcode));
		session_close(p, &p->coll);
		return;
	default:
		session_send_notification(p, &p->coll, BGP_ERRC_FSM,
		    BGP_ERRS_FSM_OPENSENT, NULL, 0);
		session_close(p, &p->coll);
	}
}

/* Frame and dispatch every whole message in the read buffer.  Handling a
 * message may close or swap connections, so the connection is looked up
 * again by fd after each one. */
static void
conn_input(struct peer *p, int fd)
{
	struct bgp_conn *c = conn_by_fd(p, fd);
	struct bgp_hdr h;
	size_t off = 0;
	int rc;

	while (c != NULL && c->rlen - off >= BGP_HDR_LEN) {
		rc = bgp_hdr_decode(c->rbuf + off, c->rlen - off, &h, &p->err);
		if (rc == -ENODATA)
			break;
		if (rc < 0) {
			if (c == &p->coll) {
				session_send_notification(p, c, p->err.code,
				    p->err.subcode, p->err.data,
				    p->err.data_len);
				session_close(p, c);
			} else {
				bgp_fsm(p, BGP_EV_HDR_ERR);
			}
			return;
		}
		if (h.len > c->rlen - off)
			break;
		p->msg = c->rbuf + off;
		p->msg_len = h.len;
		if (c == &p->coll && h.type == BGP_MSG_OPEN &&
		    bgp_collision_hold(p)) {
			/* left in the buffer, unread, until our connect()
			 * settles: session_resume() */
			c->held = true;
			p->msg = NULL;
			p->msg_len = 0;
			break;
		}
		p->msgs_in++;
		if (h.type == BGP_MSG_UPDATE && c == &p->conn)
			p->updates_in++;
		off += h.len;
		if (c == &p->coll)
			coll_msg(p, h.type);
		else
			bgp_fsm(p, msg_event(h.type));
		p->msg = NULL;
		p->msg_len = 0;
		c = conn_by_fd(p, fd);
	}
	if (c == NULL)
		return;
	if (off > 0 && off < c->rlen)
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

/* Handle what waits in c's read buffer (an OPEN held by
 * bgp_collision_hold(), now that the connection it waited for settled). */
void
session_resume(struct peer *p, struct bgp_conn *c)
{
	if (c->fd < 0 || c->rlen == 0)
		return;
	c->held = false;
	conn_input(p, c->fd);
}

void
session_failed(struct peer *p, struct bgp_conn *c, const char *why)
{
	if (c == &p->coll) {
		log_debug("neighbor %s: second connection: %s", peer_addr(p),
		    why);
		session_close(p, c);
		return;
	}
	(void)snprintf(p->info, sizeof(p->info), "%s", why);
	log_info("neighbor %s: connection %s", peer_addr(p), why);
	bgp_fsm(p, BGP_EV_TCP_FAILS);
}

static void
conn_io(int fd, short revents, void *arg)
{
	struct peer *p = arg;
	struct bgp_conn *c = conn_by_fd(p, fd);
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	ssize_t n;

	if (c == NULL)
		return;
	if (c->connecting) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr != 0) {
			char why[96];

			(void)snprintf(why, sizeof(why), "connect: %s",
			    strerror(soerr));
			session_failed(p, c, why);
			return;
		}
		c->connecting = false;
		c->pollout = false;
		timer_stop(&c->timer);
		loop_io_events(p->bgp->loop, fd, POLLIN);
		bgp_fsm(p, BGP_EV_TCP_ACKED);
		return;
	}
	if (revents & POLLOUT) {
		session_flush_conn(p, c);
		if (c == &p->conn && p->state == BGP_STATE_ESTABLISHED &&
		    session_wpending(c) < BGP_WBUF_HIWAT) {
			rde_flush_peer(p);
			session_check_reset(p);
		}
		if ((c = conn_by_fd(p, fd)) == NULL)
			return;
	}
	if (!(revents & (POLLIN | POLLERR | POLLHUP)))
		return;
	if (c->rlen == BGP_RBUF_SIZE) {	/* a held OPEN and a full buffer */
		session_failed(p, c, "too much data before its OPEN was "
		    "handled");
		return;
	}
	n = read(fd, c->rbuf + c->rlen, BGP_RBUF_SIZE - c->rlen);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		session_failed(p, c, strerror(errno));
		return;
	}
	if (n == 0) {
		session_failed(p, c, "closed by the peer");
		return;
	}
	c->rlen += (size_t)n;
	conn_input(p, fd);
}
