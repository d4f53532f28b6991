/* leafnetd.h — what leafnetd's two sides share, and the BGP side's
 * interface to the orchestrator (daemon.c, config.c, control.c).
 *
 *   the local side  (daemon.c, config.c, control.c, listener.c, kroute.c,
 *                    rib.c, nat.c): configuration from the store, the
 *                    control socket, the kernel (our workload routes in,
 *                    learned routes out) and the local RIB with aggregation;
 *   the BGP side    (session.c, bgp_fsm.c, peer.c, rde.c, rde_out.c and
 *                    bgp_msg.h's codec): peers, the RFC 4271 FSM,
 *                    Adj-RIB-In/Out, best path;
 *   loop.c          the event loop both register with (a leaf).
 *
 * Routes cross between the sides only as messages (msg.h), never as
 * calls: the local side tells the BGP side what to advertise, the BGP side
 * tells the local side what to install.  The code that parses untrusted
 * BGP input never calls netlink (OpenBGPD's boundary, so far without its
 * processes).  Configuration (bgp_configure) and status (bgp_peer_status)
 * are still calls from the orchestrator; in a process split they become a
 * config message stream (one message per peer_conf, then a commit, as
 * OpenBGPD's IMSG_RECONF_*) and a status request answered by one message
 * per peer_status (both structs are already flat).
 */
#ifndef LEAFNETD_H
#define LEAFNETD_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "conf.h"
#include "loop.h"
#include "prefix.h"

struct ld;			/* the daemon: one per process */
struct bgp;			/* the BGP side: one instance per daemon */
struct msgq;			/* msg.h */
struct ld_msg;

/* ---- config.c: what the daemon runs with -------------------------------- */

enum peer_type {
	PEER_TYPE_MESH,			/* automatic node-to-node iBGP mesh */
	PEER_TYPE_GLOBAL,		/* `netctl bgp peer add` */
	PEER_TYPE_NODE,			/* `netctl node bgp peer add` / bgp create */
	PEER_TYPE_RR,			/* automatic iBGP session of a route reflector
					 * node (`netctl node rr`) and a node of its AS:
					 * its client (rr_client) or another reflector */
};

enum peer_import {
	PEER_IMPORT_ALL,		/* install every route learned (mesh) */
	PEER_IMPORT_DEFAULT,		/* "downward default": only 0/0 and ::/0 */
	PEER_IMPORT_NONE,
};

struct peer_conf {
	struct ipaddr addr;		/* neighbour address */
	uint32_t remote_as;
	uint16_t port;			/* 179 */
	enum peer_type type;
	enum peer_import import;
	bool passive;			/* never connect, only accept */
	bool rr_client;			/* we reflect to it: our client (RFC 4456) */
	char password[81];		/* TCP MD5 (RFC 2385), "" = none */
	uint16_t hold_time;		/* proposed; 0 = none, else >= 3 (90) */
	uint16_t connect_retry;		/* seconds (default 5 for a DC fabric) */
	uint32_t max_prefix;		/* 0 = unlimited */
	char name[LEAFNET_NAME_MAX];	/* mesh: the other node's name */
	bool ttl_security;		/* GTSM (RFC 5082): TTL 255 out, >= 255 in */
	bool max_prefix_warning;	/* past max_prefix: log, keep the session */
	uint16_t max_prefix_restart;	/* else minutes down after the Cease (5) */
};

struct ld_conf {
	struct leafnet_conf base;	/* the config file */
	uint32_t local_as;		/* node AS or the default node AS */
	struct ipaddr router_id;	/* IPv4; the node's router IP */
	struct ipaddr nexthop4;		/* next hop we advertise for IPv4 */
	struct ipaddr nexthop6;		/* ... for IPv6 (global) */
	struct ipaddr listen_addr;	/* family 0: any (v6 socket, dual) */
	uint16_t listen_port;		/* 179 */
	bool node_mesh;
	bool rr;			/* a route reflector (RFC 4456) */
	struct ipaddr cluster_id;	/* IPv4: the configured one or router_id */
	size_t n_peers;
	struct peer_conf *peers;	/* malloc'd */
	uint64_t revision;		/* bgp/revision seen when loaded */
};

/* ---- rib.c: the local RIB (workload routes, aggregates) ---------------- */

/* What the local side asks the BGP side to advertise for one prefix. */
struct ld_export {
	int      family;
	bool     aggregate;		/* a whole per-host block, not a /32 */
	size_t   n_communities;
	uint32_t communities[8];	/* the network's, for non-routable pools */
};

/* ---- the BGP side, called by the orchestrator --------------------------- */

/* A BGP instance on loop l: it sends to_local messages and handles the
 * ones the local side sends it (bgp_msg, from the to_bgp queue). */
struct bgp *bgp_new(struct ld_loop *l, struct msgq *to_local);
/* Cease every session (NOTIFICATION 6/2 Administrative Shutdown) first
 * with bgp_shutdown(); frees the instance.  NULL-safe. */
void bgp_free(struct bgp *b);
/* One message from the local side (msgq_drain() callback; arg: the bgp). */
void bgp_msg(const struct ld_msg *m, void *arg);
/* End of a loop turn: send what is queued. */
void bgp_flush(struct bgp *b);

/* (Re)configure: create, update in place, restart or delete peers so they
 * match conf->peers.  A peer whose config did not change keeps its session. */
int  bgp_configure(struct bgp *b, const struct ld_conf *conf);
/* A connection accepted on the BGP listener. */
void bgp_accept(struct bgp *b, int fd, const struct ipaddr *from, uint16_t from_port);
/* The BGP listener (fd >= 0; -1 when it closes): the BGP side installs
 * the TCP MD5 keys (RFC 2385) of peers with a password on it now and on
 * every bgp_configure().  Call after bind(), before or after listen(). */
int  bgp_listener_keys(struct bgp *b, int fd);
/* Run due timers; returns the next due time (0 = none). */
uint64_t bgp_timers(struct bgp *b, uint64_t now);
/* Cease every session (NOTIFICATION 6/2 Administrative Shutdown). */
void bgp_shutdown(struct bgp *b, const char *reason);

/* For `netctl status` and tests. */
struct peer_status {
	struct ipaddr addr;
	enum peer_type type;
	bool rr_client;			/* peer_conf.rr_client */
	uint32_t remote_as;
	const char *state;		/* "Idle", "Connect", ..., "Established" */
	bool up;			/* Established */
	time_t since;			/* wall clock of the last state change */
	uint64_t since_ms;		/* wall clock ms it last went Established; 0 when not up */
	char info[128];			/* last error, e.g. "Hold Timer Expired" */
	uint64_t prefixes_received, prefixes_sent;	/* accepted (Adj-RIB-In), Adj-RIB-Out */
	uint64_t prefixes_unusable;	/* received, next hop not usable (ours, unresolvable) */
	/* for the metrics */
	uint64_t uptime_ms;		/* Established for; 0 when not */
	uint64_t nlri_in;		/* prefixes announced to us, before import policy */
	uint64_t updates_in, updates_out;
	uint64_t flaps;			/* Established -> down transitions */
	char last_error[128];		/* "" = none yet */
	/* its options, as running */
	enum peer_import import;
	bool password_set, ttl_security;
	uint32_t max_prefix;		/* 0 = none */
	bool max_prefix_warning;
	uint16_t max_prefix_restart;	/* minutes */
	time_t down_until;		/* wall clock end of a max-prefix hold-down; 0 = none */
	/* graceful restart (RFC 4724) */
	bool gr;			/* the peer advertised the capability */
	uint16_t gr_time;		/* its restart time, s */
	bool gr_restarting;		/* its last OPEN had the R bit */
	uint64_t gr_stale;		/* its routes we keep as stale */
	uint64_t gr_stale_ms;		/* ... at most this much longer */
};
size_t bgp_peer_count(const struct bgp *b);
int    bgp_peer_status(const struct bgp *b, size_t i, struct peer_status *ret);
/* Our own restart: route selection deferred (restarting), the learned
 * routes the kernel kept, the deferral time left. */
void   bgp_gr_status(const struct bgp *b, bool *ret_restarting, uint64_t *ret_kept,
		     uint64_t *ret_left_ms);

#endif
