/* leafnetd.h — leafnetd's private interfaces, grouped by the file that
 * implements them.  Two halves meet here:
 *
 *   the local side  (daemon.c, timer.c, config.c, control.c, kroute.c,
 *                    rib.c): the poll loop, configuration from the store,
 *                    the control socket, the kernel (our workload routes in,
 *                    learned routes out) and the local RIB with aggregation;
 *   the BGP side    (session.c, bgp_fsm.c, rde.c, and bgp_msg.h's codec):
 *                    peers, the RFC 4271 FSM, Adj-RIB-In/Out, best path.
 *
 * They talk only through the functions below: the local side tells the BGP
 * side what to advertise (bgp_local_changed, and bgp_local_walk for a full
 * table), the BGP side tells the local side what to install (kroute_learned_set).
 * The code that parses untrusted BGP input never calls netlink itself
 * (OpenBGPD's boundary, without its processes).
 */
#ifndef LEAFNETD_H
#define LEAFNETD_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "conf.h"
#include "prefix.h"

struct ld;			/* the daemon: one per process */
struct peer;			/* one BGP neighbour (session.c) */

/* ---- timer.c ---------------------------------------------------------- */

uint64_t ld_now_ms(void);		/* CLOCK_MONOTONIC, milliseconds */

struct ld_timer {
	uint64_t due;			/* ld_now_ms() value; 0 = stopped */
};
void timer_set(struct ld_timer *t, uint64_t in_ms);
void timer_stop(struct ld_timer *t);
bool timer_running(const struct ld_timer *t);
bool timer_expired(const struct ld_timer *t, uint64_t now);

/* ---- daemon.c: the single-threaded poll loop ---------------------------- */

typedef void (*ld_io_cb)(struct ld *d, int fd, short revents, void *arg);

/* Watch fd for events (POLLIN/POLLOUT); one registration per fd. */
int  ld_io_add(struct ld *d, int fd, short events, ld_io_cb cb, void *arg);
void ld_io_events(struct ld *d, int fd, short events);	/* change the mask */
void ld_io_del(struct ld *d, int fd);
/* Ask the loop to run ld_timers() no later than `due` (ld_now_ms() scale). */
void ld_wakeup_at(struct ld *d, uint64_t due);

/* ---- config.c: what the daemon runs with -------------------------------- */

enum peer_type {
	PEER_TYPE_MESH,			/* automatic node-to-node iBGP mesh */
	PEER_TYPE_GLOBAL,		/* `netctl bgp peer add` */
	PEER_TYPE_NODE,			/* `netctl node bgp peer add` / bgp create */
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
	bool rr_client;			/* we reflect to it (route reflector) */
	char password[81];		/* TCP MD5 (RFC 2385), "" = none */
	uint16_t hold_time;		/* proposed; 0 = none, else >= 3 (90) */
	uint16_t connect_retry;		/* seconds (default 5 for a DC fabric) */
	uint32_t max_prefix;		/* 0 = unlimited */
	char name[LEAFNET_NAME_MAX];	/* mesh: the other node's name */
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

/* Call cb for every prefix currently to be advertised (for a peer that
 * just became Established, or a route refresh). */
void bgp_local_walk(struct ld *d,
		    void (*cb)(const struct prefix *p, const struct ld_export *e, void *arg),
		    void *arg);

/* ---- BGP side, called by the local side -------------------------------- */

/* A prefix to advertise appeared or changed (e != NULL) or went (e == NULL).
 * Called once per change, immediately (event-driven, no scan timer); the
 * BGP side batches into UPDATEs as it sees fit (e.g. end of the loop turn:
 * bgp_flush()). */
void bgp_local_changed(struct ld *d, const struct prefix *p, const struct ld_export *e);
/* End of a loop turn: send what is queued. */
void bgp_flush(struct ld *d);

/* (Re)configure: create, update in place, restart or delete peers so they
 * match conf->peers.  A peer whose config did not change keeps its session. */
int  bgp_configure(struct ld *d, const struct ld_conf *conf);
/* A connection accepted on the BGP listener. */
void bgp_accept(struct ld *d, int fd, const struct ipaddr *from, uint16_t from_port);
/* The BGP listener (fd >= 0; -1 when it closes): the BGP side installs
 * the TCP MD5 keys (RFC 2385) of peers with a password on it now and on
 * every bgp_configure().  Call after bind(), before or after listen(). */
int  bgp_listener_keys(struct ld *d, int fd);
/* Run due timers; returns the next due time (0 = none). */
uint64_t bgp_timers(struct ld *d, uint64_t now);
/* Cease every session (NOTIFICATION 6/2 Administrative Shutdown) and free. */
void bgp_shutdown(struct ld *d, const char *reason);

/* For `netctl status` and tests. */
struct peer_status {
	struct ipaddr addr;
	enum peer_type type;
	uint32_t remote_as;
	const char *state;		/* "Idle", "Connect", ..., "Established" */
	bool up;			/* Established */
	time_t since;			/* wall clock of the last state change */
	char info[128];			/* last error, e.g. "Hold Timer Expired" */
	uint64_t prefixes_received, prefixes_sent;
};
size_t bgp_peer_count(struct ld *d);
int    bgp_peer_status(struct ld *d, size_t i, struct peer_status *ret);

/* ---- kroute.c: learned routes into the kernel -------------------------- */

/* Make the kernel route for p be exactly these next hops (ECMP when > 1;
 * none = remove).  Installed with rtm_protocol RTPROT_BGP (186) so they are
 * never mistaken for our workload routes (LEAFNET_RTPROT). */
int kroute_learned_set(struct ld *d, const struct prefix *p,
		       const struct ipaddr *nexthops, size_t n);

#endif
