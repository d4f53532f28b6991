/* bgp.h — the BGP side's private declarations, shared by session.c
 * (sockets, buffers), peer.c (the set of peers), bgp_fsm.c (the RFC 4271
 * §8 state machine), rde.c (Adj-RIB-In, best path), rde_out.c
 * (Adj-RIB-Out queues) and gr.c (graceful restart).  Nothing outside those files includes this; the
 * local side sees leafnetd.h and msg.h only.
 */
#ifndef LEAFNET_BGP_H
#define LEAFNET_BGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "leafnetd.h"
#include "loop.h"
#include "msg.h"
#include "bgp_msg.h"

#define BGP_RBUF_SIZE		(16 * BGP_MSG_MAX)	/* one read(2) */
#define BGP_WBUF_HIWAT		(256 * 1024)	/* stop packing UPDATEs */
#define BGP_WBUF_MAX		(4 * 1024 * 1024) /* hard cap: reset */
#define BGP_RETRY_MAX_S		120		/* connect-retry back-off cap */
#define BGP_QUICK_RETRY_MS	1000		/* after a failed connect ... */
#define BGP_QUICK_TRIES		30		/* ... this many times, then back off */
#define BGP_HOLD_OPENSENT_S	240		/* RFC 4271 §8: "large" */
#define BGP_GR_TIME		120		/* restart time advertised */
/* Graceful restart (RFC 4724, gr.c).  As the restarting speaker: route
 * selection waits at most this long for the peers' End-of-RIB (seconds,
 * never minutes: a dead peer must not freeze a restarted node).  As the
 * helper: a peer's stale routes live at most its restart time, capped
 * here, while it is down, and at most BGP_GR_STALE_S for its End-of-RIB
 * once it is back. */
#define BGP_GR_DEFER_S		10
#define BGP_GR_RESTART_MAX_S	BGP_GR_TIME
#define BGP_GR_STALE_S		60
#define GR_AF_V4		0x1	/* family bits of the gr_* fields */
#define GR_AF_V6		0x2
#define BGP_LOCAL_PREF_DEF	100
#define BGP_PEER_CONNECT_MS	30000		/* a connect(2) may take */
/* A connection from a graceful-restart peer while Established is held as
 * a second connection, and its valid OPEN replaces the session (RFC 4724
 * §4.2; a bare TCP connection never does), only once the session is older
 * than this: a younger one may still see the tail of an OPEN collision
 * (RFC 4271 §6.8), not a restart, and is refused with Cease/7. */
#define BGP_RESTART_GUARD_MS	3000
/* GTSM (RFC 5082) for a directly connected peer (TrustRadius 0): we send
 * with TTL / hop limit 255 and accept nothing that arrives lower, so no
 * packet from beyond the link (where it would have lost at least one)
 * gets in.  A peer one router away arrives with 254: refused. */
#define BGP_GTSM_TTL		255
#define BGP_MAXPFX_RESTART_MIN	5	/* minutes down, when the config says none */

/* RFC 4271 §8.1 events, the ones this speaker uses.  Mandatory events
 * keep their RFC numbers in the comments. */
enum bgp_event {
	BGP_EV_START,			/*  1/3 Manual/AutomaticStart */
	BGP_EV_STOP,			/*  2   ManualStop */
	BGP_EV_CONNRETRY_TIMER,		/*  9   ConnectRetryTimer_Expires */
	BGP_EV_HOLD_TIMER,		/* 10   HoldTimer_Expires */
	BGP_EV_KEEPALIVE_TIMER,		/* 11   KeepaliveTimer_Expires */
	BGP_EV_IDLEHOLD_TIMER,		/* 13   IdleHoldTimer_Expires */
	BGP_EV_TCP_ACKED,		/* 16   Tcp_CR_Acked (we connected) */
	BGP_EV_TCP_CONFIRMED,		/* 17   TcpConnectionConfirmed */
	BGP_EV_TCP_FAILS,		/* 18   TcpConnectionFails */
	BGP_EV_OPEN,			/* 19   BGPOpen */
	BGP_EV_HDR_ERR,			/* 21   BGPHeaderErr */
	BGP_EV_OPEN_ERR,		/* 22   BGPOpenMsgErr */
	BGP_EV_NOTIFICATION,		/* 25   NotifMsg */
	BGP_EV_KEEPALIVE,		/* 26   KeepAliveMsg */
	BGP_EV_UPDATE,			/* 27   UpdateMsg */
	BGP_EV_UPDATE_ERR,		/* 28   UpdateMsgErr */
	BGP_EV_RREFRESH,		/*      ROUTE-REFRESH (RFC 2918) */
	BGP_EV_COUNT
};

/* One TCP connection.  A peer has its main connection and, during an
 * OPEN exchange, possibly a second one the other side opened (collision,
 * RFC 4271 §6.8). */
struct bgp_conn {
	int		 fd;		/* -1: none */
	bool		 outgoing;	/* we called connect() */
	bool		 connecting;	/* connect() in progress */
	bool		 open_sent;
	bool		 notified;	/* we sent a NOTIFICATION on it (kept
					 * by session_close, reset on attach) */
	bool		 pollout;	/* POLLOUT currently requested */
	bool		 restart;	/* second connection accepted while
					 * Established: a graceful-restart
					 * candidate, not an OPEN collision */
	bool		 held;		/* its OPEN waits in rbuf until our own
					 * connect() settles (bgp_collision_hold) */
	uint8_t		*rbuf;		/* BGP_RBUF_SIZE */
	size_t		 rlen;
	uint8_t		*wbuf;		/* grows up to BGP_WBUF_MAX */
	size_t		 wlen, woff, wcap;
	struct ld_timer	 timer;		/* connect or OPEN wait deadline */
};

struct rde_peer;			/* rde_out.c: Adj-RIB-Out of one peer */

struct bgp;

struct peer {
	struct peer	*next;
	struct bgp	*bgp;
	struct peer_conf conf;
	bool		 ebgp;
	bool		 deleted;

	enum bgp_state	 state;
	struct bgp_conn	 conn;		/* the FSM's connection */
	struct bgp_conn	 coll;		/* a colliding incoming connection */

	struct ld_timer	 connretry;
	struct ld_timer	 hold;
	struct ld_timer	 keepalive;
	struct ld_timer	 idlehold;	/* back-off before restarting */
	uint32_t	 retry_s;	/* current back-off, seconds */
	uint32_t	 quick_tries;	/* quick retries since the last Established */

	/* the message being handled by bgp_fsm() */
	const uint8_t	*msg;
	size_t		 msg_len;
	struct bgp_err	 err;		/* for *_ERR events */

	/* negotiated with the remote OPEN */
	uint32_t	 remote_id;	/* host order */
	uint32_t	 remote_as;
	uint16_t	 holdtime;	/* 0 = no hold timer */
	uint16_t	 keepalive_s;
	bool		 as4;
	bool		 rrefresh;
	bool		 gr;		/* it advertised graceful restart */
	uint64_t	 up_ms;		/* ld_now_ms() when Established */
	uint64_t	 up_wall_ms;	/* clock_wall_ms() then, for status: a
					 * moment to compare across hosts */
	bool		 af_v4, af_v6;	/* unicast negotiated */

	/* status */
	time_t		 since;
	char		 info[128];
	uint64_t	 prefixes_received;
	uint64_t	 prefixes_unusable;	/* ... whose next hop is not usable */
	uint64_t	 prefixes_sent;
	uint64_t	 msgs_in, msgs_out;
	uint64_t	 updates_in, updates_out;
	uint64_t	 nlri_in;	/* prefixes announced to us, before policy */
	uint64_t	 flaps;		/* Established -> anything else */
	char		 last_error[128];	/* the last info that was not "Established" */

	/* graceful restart (RFC 4724, gr.c), from its last OPEN */
	uint16_t	 gr_time;	/* its restart time, s */
	uint8_t		 gr_flags;	/* its R and N bits (BGP_GR_F_*) */
	uint8_t		 gr_af;		/* families in its capability (GR_AF_*) */
	uint8_t		 gr_fwd;	/* ... with forwarding state kept (F) */
	uint8_t		 gr_eor;	/* End-of-RIB received this session */
	uint8_t		 gr_stale_af;	/* families whose stale paths we keep */
	uint64_t	 gr_stale;	/* stale paths in the Adj-RIB-In */
	struct ld_timer	 gr_timer;	/* down: restart time; up: End-of-RIB */

	struct rde_peer	*rde;		/* the RDE's per-peer state (rde_out.c) */
	bool		 reset_pending;	/* out of resources: Cease/8 */

	/* max-prefix (session.c, rde.c) */
	uint64_t	 maxpfx_until;	/* ld_now_ms() the hold-down ends; 0 = none */
	int		 maxpfx_family;	/* of the route that went past the limit */
	bool		 maxpfx_warned;	/* the warning form said so already */
};

struct rde;

struct bgp {
	struct ld_loop	*loop;		/* where our sockets and timers live */
	struct msgq	*to_local;	/* messages to the local side (msg.h) */
	uint32_t	 dump_seq;	/* last LOCAL_DUMP_REQ id */
	uint32_t	 local_as;
	struct ipaddr	 router_id;
	struct ipaddr	 nexthop4, nexthop6;
	struct ipaddr	 listen_addr;
	uint16_t	 listen_port;
	bool		 rr;		/* a route reflector (rde_rr.c) */
	uint32_t	 cluster_id;	/* host order; with rr */
	int		 listener_fd;	/* for TCP MD5 keys; -1 = unknown */
	struct peer	*peers;
	struct rde	*rde;
	uint32_t	 rng;

	/* graceful restart as the restarting speaker (gr.c) */
	bool		 gr_restarting;	/* R bit sent; route selection deferred */
	uint64_t	 gr_kept;	/* learned routes the kernel kept for us */
	struct ld_timer	 gr_defer;	/* Selection_Deferral_Timer */
};

/* session.c */
int		 session_attach(struct peer *p, struct bgp_conn *c, int fd,
		    bool outgoing);
/* TCP_NODELAY; TTL 255 for eBGP and GTSM peers; IP_MINTTL /
 * IPV6_MINHOPCOUNT 255 for GTSM peers (before connect() or right after
 * accept()). */
void		 session_sockopts(struct peer *p, int fd);
/* A connection accepted from p's address, before it may touch p's
 * session: false (close it) while a max-prefix hold-down runs, or when p
 * uses GTSM and the connection's SYN arrived with a TTL below 255. */
bool		 session_accept_ok(struct peer *p, int fd);
/* More routes than p's max-prefix (restart form): Cease/1 (RFC 4486),
 * routes removed, and no session for max_prefix_restart minutes. */
void		 session_maxpfx_exceeded(struct peer *p);
/* Take the options an Established session can change without a reset
 * (import policy, max-prefix) from pc: 0, or -1 when it needs a reset
 * after all (a wider import policy and a peer without route refresh). */
int		 session_reconf(struct peer *p, const struct peer_conf *pc);
/* TCP MD5 key for addr on fd ("" removes it). */
int		 session_md5(int fd, const struct ipaddr *addr,
		    const char *password);
void		 session_conn_free(struct peer *p, struct bgp_conn *c);
/* The connection failed (EOF, error, connect timeout). */
void		 session_failed(struct peer *p, struct bgp_conn *c,
		    const char *why);
uint32_t	 bgp_router_id(const struct bgp *b);	/* host order */
/* Ours in a CLUSTER_LIST (RFC 4456 §8): the cluster id of a reflector,
 * else the router id.  Host order. */
uint32_t	 bgp_cluster_id(const struct bgp *b);
int		 session_connect(struct peer *p);
void		 session_close(struct peer *p, struct bgp_conn *c);
int		 session_send(struct peer *p, struct bgp_conn *c,
		    const uint8_t *msg, size_t len);
int		 session_send_open(struct peer *p, struct bgp_conn *c);
void		 session_send_keepalive(struct peer *p);
void		 session_send_notification(struct peer *p, struct bgp_conn *c,
		    uint8_t code, uint8_t subcode, const uint8_t *data,
		    size_t data_len);
void		 peer_timer_set(struct peer *p, struct ld_timer *t,
		    uint64_t in_ms);
size_t		 session_wpending(const struct bgp_conn *c);
void		 session_flush_conn(struct peer *p, struct bgp_conn *c);
/* Carry out a reset rde.c asked for (it cannot re-enter the FSM). */
void		 session_check_reset(struct peer *p);
const char	*peer_addr(const struct peer *p);	/* static buffer */
uint32_t	 bgp_jitter(struct bgp *b, uint32_t ms);	/* ms * [0.75,1] */

/* bgp_fsm.c */
void		 bgp_fsm(struct peer *p, enum bgp_event ev);
const char	*bgp_event_name(enum bgp_event ev);
/* An OPEN on the colliding connection: settle which one stays. */
void		 bgp_collision(struct peer *p);
bool		 bgp_collision_hold(struct peer *p);
void		 session_resume(struct peer *p, struct bgp_conn *c);

/* gr.c: graceful restart (RFC 4724), both roles */
/* Our capability for an OPEN: restart time, R while deferring, F for
 * both families (the workload routes are the kernel's, and the learned
 * ones outlive us). */
void		 gr_open_caps(const struct bgp *b, struct bgp_caps *c);
/* Take what the peer's OPEN says about graceful restart. */
void		 gr_open_negotiate(struct peer *p, const struct bgp_open *o);
/* Leaving Established on ev: keep the peer's routes as stale? */
bool		 gr_retain(const struct peer *p, enum bgp_event ev);
/* The session went down and gr_retain() said so: mark its routes stale,
 * start the restart timer. */
void		 gr_peer_down(struct peer *p);
/* The session is Established: drop what the new OPEN does not preserve,
 * wait for End-of-RIB for the rest. */
void		 gr_peer_up(struct peer *p);
/* End-of-RIB for afi/safi from p. */
void		 gr_eor(struct peer *p, uint16_t afi, uint8_t safi);
/* The peer stops (deconfigured, config change, shutdown): no stale
 * routes survive it. */
void		 gr_stop(struct peer *p);
/* Run due restart / stale-path timers and the deferral timer; returns
 * the earlier of next and their next due time (0 = none). */
uint64_t	 gr_timers(struct bgp *b, uint64_t now, uint64_t next);
/* LD_MSG_GR_KEPT from the local side. */
void		 gr_local_msg(struct bgp *b, const struct ld_msg *m);
/* Route selection is waiting for End-of-RIB (RFC 4724 §4.1). */
bool		 gr_deferring(const struct bgp *b);
/* Re-check whether the deferral can end (a peer came up or left). */
void		 gr_check_deferral(struct bgp *b);

/* rde.c */
int		 rde_init(struct bgp *b);
void		 rde_free(struct bgp *b);
/* Handle the UPDATE in p->msg (already decoded into u with err). */
int		 rde_update(struct peer *p, const struct bgp_update *u,
		    const struct bgp_err *err);
/* The session went down: forget what it told us, fix the kernel. */
void		 rde_peer_down(struct peer *p);
/* Remove p's paths of family (0: all), or only its stale ones; returns
 * how many went. */
size_t		 rde_peer_flush(struct peer *p, int family, bool stale_only);
/* Route selection for every prefix (the deferral is over). */
void		 rde_decide_all(struct bgp *b);
/* The session came up or asked for a refresh: queue the whole table. */
void		 rde_peer_up(struct peer *p);
void		 rde_peer_refresh(struct peer *p);
/* The import policy changed: drop the routes it no longer accepts. */
void		 rde_peer_reimport(struct peer *p);
int		 rde_peer_new(struct peer *p);
void		 rde_peer_free(struct peer *p);		/* NULL-safe */
void		 rde_out_clear(struct peer *p);
/* Pack and write what is queued for p, up to the write high-water mark. */
void		 rde_flush_peer(struct peer *p);
/* rde_nexthop.c: NH_STATE from the local side; the router id or our
 * advertised next hops changed (bgp_configure). */
void		 rde_nh_state(struct bgp *b, const struct ld_msg *m);
void		 rde_nh_reconf(struct bgp *b);
/* For tests and status: table sizes (any pointer may be NULL). */
void		 rde_stats(const struct bgp *b, size_t *prefixes,
		    size_t *asets, size_t *xattrs);

#endif
