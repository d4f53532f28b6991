/* ld_local.h — the local side of leafnetd: struct ld and the prototypes
 * its files share (daemon.c, config.c, listener.c, control.c, kroute.c,
 * rib.c, nat.c).  The BGP side sees none of this; it meets us in msg.h
 * (routes) and leafnetd.h (the orchestrator's calls).
 */
#ifndef LD_LOCAL_H
#define LD_LOCAL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "leafnetd.h"
#include "msg.h"

struct store;
struct rib;
struct kroute;
struct control;
struct nat;
struct metrics;
struct watch;

#define LD_CONF_CHECK_MS	1000	/* bgp/revision poll */
#define LD_NAT_CHECK_MS		10000	/* the NAT table still there? */

struct ld {
	const char *config_path;	/* --config; NULL: $LEAFNET_CONF, default */
	bool debug;			/* -d: log level stays debug */
	struct ld_conf conf;		/* the running configuration */
	struct store *store;

	struct ld_loop *loop;		/* loop.c */
	bool reload_wanted;		/* SIGHUP */
	struct bgp *bgp;		/* the BGP side (bgp_new) */
	struct msgq to_bgp;		/* local side -> BGP side */
	struct msgq to_local;		/* BGP side -> local side */
	struct ld_timer t_conf;		/* bgp/revision check (no store worker) */
	struct watch *watch;		/* watch.c: the store worker; NULL: none */
	struct ld_timer t_nat;		/* NAT table check (with the worker) */
	uint64_t bad_revision;		/* refused; not retried until it moves */
	bool bgp_on;			/* bgp_configure() was called */

	int listen_fd;			/* listener.c, -1 = none */
	struct ipaddr listen_addr;	/* what it is bound to */
	uint16_t listen_port;

	struct rib *rib;
	struct kroute *kr;
	struct control *ctl;
	struct nat *nat;		/* nat.c; NULL until nat_start() */
	struct metrics *metrics;	/* metrics.c; NULL when metrics_listen is "" */
};

/* daemon.c */
int  ld_run(const char *config_path, bool debug);

/* config.c */
/* Build a complete, validated configuration.  The base config file is read
 * from path; the BGP part from store.  On error *ret is untouched and err
 * says what is wrong and how to fix it. */
int  ld_conf_build(const char *path, struct store *store, struct ld_conf *ret,
		   char *err, size_t errsize);
void ld_conf_done(struct ld_conf *c);			/* NULL-safe */
/* The normalized config as JSON text (malloc'd), for -n. */
char *ld_conf_to_json(const struct ld_conf *c);
const char *ld_peer_type_name(enum peer_type t);	/* "node-to-node mesh" ... */
const char *ld_peer_import_name(enum peer_import i);	/* "all", "default", "none" */
/* What the peer is to us: "rr-client" (we reflect to it), "rr" (a route
 * reflector node), "mesh", "tor" (a configured global or node peer). */
const char *ld_peer_role_name(enum peer_type t, bool rr_client);
/* Reload if forced or bgp/revision moved; keeps the running config on
 * error (-EINVAL, err says why; err may be NULL).  1 when reloaded. */
int  ld_conf_check(struct ld *d, bool force, char *err, size_t errsize);
/* Run with nc (built by ld_conf_build(), e.g. in the store worker): hand
 * it to the BGP side, reopen the listener if it moved.  Takes nc over (also
 * on failure, when the running configuration stays).  1 when applied. */
int  ld_conf_apply(struct ld *d, struct ld_conf *nc, char *err, size_t errsize);

/* watch.c — the store worker: follows the store (store_watch()) and reads
 * it in threads of its own; the loop gets the results through an eventfd
 * and never waits for the store. */
#define WATCH_NETS	(1U << 0)	/* networks and blocks: the RIB's sources */
#define WATCH_POOLS	(1U << 1)	/* allocations: pool usage (metrics) only */
#define WATCH_CONF	(1U << 2)	/* the BGP configuration */
#define WATCH_FORCE	(1U << 3)	/* ... rebuilt even if bgp/revision stayed */
#define WATCH_REPLY	(1U << 4)	/* ... and control_reload_done() told */
#define WATCH_URGENT	(1U << 5)	/* NETS at once (a route waits for it) */
/* After a successful ld_start(): 0, or -errno when the threads could not
 * be started (leafnetd then reads on the loop as before). */
int  watch_start(struct ld *d);
void watch_stop(struct ld *d);				/* NULL-safe, joins */
void watch_want(struct ld *d, unsigned what);		/* WATCH_* */
/* Each turn: pass the RIB's requests on. */
void watch_turn(struct ld *d);
/* Changes of other nodes' blocks the store worker did not read. */
uint64_t watch_skipped(struct ld *d);

/* listener.c */
int  listener_open(struct ld *d, const struct ipaddr *addr, uint16_t port);
void listener_close(struct ld *d);

/* control.c */
int  control_open(struct ld *d, const char *path);
void control_close(struct ld *d);
/* The answer to the "reload" requests waiting (r < 0: err says why). */
void control_reload_done(struct ld *d, int r, const char *err);

/* rib.c — the local RIB */
/* Changes of what is to be advertised go to d->to_bgp as LOCAL_ADV /
 * LOCAL_WD messages, as they happen (event-driven, no scan timer). */
struct rib *rib_new(struct ld *d);
void rib_free(struct rib *r);				/* NULL-safe */
/* A kernel workload route is present (dev ifindex) / gone.  gen tags it
 * for rib_sweep() after a full dump. */
int  rib_kernel_add(struct rib *r, const struct prefix *p, int ifindex, uint32_t gen);
void rib_kernel_del(struct rib *r, const struct prefix *p);
/* Every route through ifindex is gone (link down or deleted: IPv4 routes
 * go without a RTM_DELROUTE). */
void rib_kernel_link_down(struct rib *r, int ifindex);
/* Drop every kernel route not seen with generation gen. */
size_t rib_sweep(struct rib *r, uint32_t gen);
bool rib_has_kernel(const struct rib *r, const struct prefix *p);
size_t rib_count(const struct rib *r);			/* kernel routes */
size_t rib_exported(const struct rib *r);		/* prefixes advertised */
/* Re-read networks and this node's blocks from the store (rate-limited
 * unless force) and re-evaluate what is advertised. */
void rib_refresh(struct rib *r, bool force);
/* Due time of the deferred refresh or of the pending routes' placement
 * (0 = none); run it when due (now 0: only peek). */
uint64_t rib_timers(struct rib *r, uint64_t now);
/* The store worker (watch.c) reads for the RIB from now on: rib_refresh()
 * only asks (rib_take_want() says whether it did since the last call), no
 * periodic re-read, and a route the RIB cannot place (no known network or
 * block) waits up to RIB_PLACE_WAIT_MS for the read instead of going out
 * as a /32 at once. */
void rib_set_async(struct rib *r, bool on);
/* nat_sync() with the networks the RIB has (no store read): puts back a
 * table someone flushed (daemon.c, every LD_NAT_CHECK_MS). */
void rib_nat_recheck(struct rib *r);
bool rib_take_want(struct rib *r);
/* This node's attach core allocated addr (a /32, /128) in block, another
 * node's when borrowed (the control "notify"): a block of ours the RIB
 * does not know yet aggregates at once, until a store read confirms or
 * denies it; a borrowed address is advertised as is without waiting for
 * a read.  Call it before the route is looked up. */
void rib_note_block(struct rib *r, const struct prefix *addr, const struct prefix *block,
		    bool borrowed);
/* A store read for the RIB: networks, blocks, and with alloc the pool
 * usage (the allocations; without, the pools keep the last counts read).
 * Thread-safe (touches no RIB): the store worker calls it; NULL and
 * *ret_err on failure (networks or a network's blocks unreadable); when
 * only the allocations failed, the sources without them and *ret_err.
 * rib_src_apply() takes it over on the loop (and re-syncs the outbound
 * NAT table with the networks). */
struct rib_src;
struct rib_src *rib_src_read(struct store *s, const char *node, bool alloc, int *ret_err);
/* Reads rib_src_read() made so far, and how many read allocations. */
void rib_store_reads(uint64_t *ret_reads, uint64_t *ret_alloc);
void rib_src_apply(struct rib *r, struct rib_src *src);
void rib_src_free(struct rib_src *src);			/* NULL-safe */
/* This node's blocks in src (of networks that aggregate): a malloc'd
 * copy, for the store worker's watch filter (watch.c); -ENOMEM. */
int  rib_src_mine(const struct rib_src *src, struct prefix **ret, size_t *ret_n);

/* Answer LD_MSG_LOCAL_DUMP_REQ id: one LOCAL_ADV per prefix currently
 * advertised, then LOCAL_DUMP_END, all tagged id, onto d->to_bgp. */
void rib_dump(struct rib *r, uint32_t id);

/* Pool usage per network and subnet, cached from the RIB's last store
 * read (rib_refresh()), for the metrics: never a store read of its own. */
struct rib_pool {
	char network[LEAFNET_NAME_MAX];
	int family;			/* AF_INET, AF_INET6 */
	double size;			/* addresses it can hand out */
	uint64_t allocated;		/* held, by any node */
	uint32_t blocks;		/* blocks claimed, by any node */
	uint32_t node_blocks;		/* ... by this node */
};
void rib_pools(const struct rib *r, const struct rib_pool **ret, size_t *ret_n);

/* Every route in the local RIB, for the control socket. */
struct rib_route {
	struct prefix prefix;
	const char *network;		/* NULL: in no known network */
	bool kernel;			/* a kernel workload route (else a block) */
	bool advertised;
	int ifindex;
	struct ld_export exp;
};
void rib_walk_all(struct rib *r, void (*cb)(const struct rib_route *rr, void *arg),
		  void *arg);

/* rib_agg.c-free test hook: the networks and blocks a RIB uses, set
 * directly instead of read from the store (unit tests). */
struct network;
struct ipam_block;
void rib_set_sources(struct rib *r, const struct network *nets, size_t n_nets,
		     const struct ipam_block *blocks, size_t n_blocks, const char *node);
/* ... or as the store worker would hand them over (rib_src_apply()), as
 * if read from a store read begun at started (ld_now_ms()); no pools. */
struct rib_src *rib_src_make(const struct network *nets, size_t n_nets,
			     const struct ipam_block *blocks, size_t n_blocks,
			     const char *node, uint64_t started);

/* kroute.c */
int  kroute_open(struct ld *d);
/* Learned routes a previous run left (protocol 77) are kept, stale, and
 * announced to the BGP side (LD_MSG_GR_KEPT on d->to_bgp). */
void kroute_close(struct ld *d);		/* removes our learned routes */
/* Targeted check of one prefix (the control "notify" fast path). */
int  kroute_check(struct ld *d, const struct prefix *p);
size_t kroute_resyncs(const struct ld *d);
size_t kroute_learned_count(const struct ld *d);	/* learned routes installed */
/* A KR_CHANGE / KR_DELETE message from the BGP side: staged for this
 * turn's kernel batch. */
void kroute_learned_msg(struct ld *d, const struct ld_msg *m);
/* A NH_TRACK / NH_UNTRACK message: watch a next hop (answered at once
 * with NH_STATE, then again whenever its state changes) or stop. */
void kroute_nh_msg(struct ld *d, const struct ld_msg *m);
/* LD_MSG_KR_SWEEP: stage the removal of every learned route still stale
 * (graceful restart: a previous run's, not advertised again). */
void kroute_sweep(struct ld *d);
size_t kroute_stale_count(const struct ld *d);		/* stale learned routes */
/* Send the staged batch (one netlink batch per turn, N requests then N
 * ACKs, extack of each failure logged), then what that and the kernel's
 * changes lead to: next hops re-resolved (NH_STATE to the BGP side),
 * routes moved to their new hops, refused ones retried when due. */
void kroute_commit(struct ld *d);
/* Learned routes installed, for the control socket. */
void kroute_learned_walk(struct ld *d,
			 void (*cb)(const struct prefix *p, const struct ipaddr *nh,
				    size_t n, void *arg), void *arg);

/* metrics.c — Prometheus metrics on metrics_listen (libmicrohttpd, run
 * from this loop: no thread).  A listener that cannot be opened is logged
 * and leafnetd runs on without it. */
int  metrics_open(struct ld *d, const char *listen);
void metrics_close(struct ld *d);			/* NULL-safe */
/* After each loop turn: libmicrohttpd's timeouts and pending work. */
void metrics_turn(struct ld *d);
/* A plugin operation reported over the control socket ("op"). */
void metrics_op(struct ld *d, const char *plugin, const char *verb, bool ok, double ms);

/* nat.c — outbound SNAT of nat-outgoing networks: the nftables table
 * "inet leafnet", owned by leafnetd and replaced as a whole. */
struct network;
/* After a successful startup: read the networks and install the table
 * (removing one a crashed leafnetd left when nothing is to be NATed).
 * Before it, nat_sync() does nothing, so a leafnetd that fails to start
 * (another one running) never touches the running one's table. */
void nat_start(struct ld *d);
/* Make the table match nets (called whenever the networks list is
 * (re)loaded); touches nftables only when the ruleset changed.  Errors
 * are logged, never fatal; the next call tries again. */
void nat_sync(struct ld *d, const struct network *nets, size_t n);
/* Remove the table (clean shutdown) and free the state; NULL-safe. */
void nat_close(struct ld *d);
/* The ruleset for nets as one nftables transaction (malloc'd), "" when no
 * network has nat-outgoing; NULL on OOM. */
char *nat_ruleset(const struct network *nets, size_t n);

#endif
