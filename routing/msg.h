/* msg.h — the messages the BGP side and the local (kernel) side of
 * leafnetd exchange, and the queues that carry them.
 *
 *   BGP side  (session.c bgp_fsm.c peer.c rde.c rde_out.c + the codec)
 *        |  to_local: LD_MSG_KR_CHANGE / KR_DELETE  (install / remove a
 *        |            learned route), LD_MSG_LOCAL_DUMP_REQ (send me the
 *        |            whole table: a peer came up or asked for a refresh),
 *        |            LD_MSG_NH_TRACK / NH_UNTRACK (watch a next hop),
 *        v            LD_MSG_KR_SWEEP (graceful restart: drop the stale rest)
 *   local side (kroute.c nexthop.c rib.c nat.c config.c control.c)
 *        |  to_bgp:   LD_MSG_LOCAL_ADV / LOCAL_WD (advertise / withdraw a
 *        |            local prefix; id 0: a change for every peer, id N:
 *        |            part of the answer to dump N), LD_MSG_LOCAL_DUMP_END,
 *        |            LD_MSG_NH_STATE (a watched next hop is usable or not),
 *        v            LD_MSG_GR_KEPT (the kernel kept id learned routes)
 *   BGP side
 *
 * Neither side calls the other.  A message is a flat struct with no
 * pointers into the sender's memory, queued by value; the daemon's loop
 * drains both queues once per turn (daemon.c).  To split leafnetd into an
 * unprivileged BGP process and a privileged parent, a queue becomes one
 * end of a socketpair: msgq_put() writes the same bytes (imsg framing: the
 * header is type + length) and msgq_drain() reads them from the socket;
 * no file outside msg.c changes.
 */
#ifndef LEAFNET_MSG_H
#define LEAFNET_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbuf.h"
#include "leafnetd.h"

#define LD_MSG_NH_MAX	16		/* ECMP next hops per route */

enum ld_msg_type {
	LD_MSG_KR_CHANGE = 1,		/* BGP -> local: p via u.kr.nh[0..n) */
	LD_MSG_KR_DELETE,		/* BGP -> local: no learned route for p */
	LD_MSG_LOCAL_DUMP_REQ,		/* BGP -> local: dump id, please */
	LD_MSG_LOCAL_ADV,		/* local -> BGP: advertise p with u.adv */
	LD_MSG_LOCAL_WD,		/* local -> BGP: withdraw p */
	LD_MSG_LOCAL_DUMP_END,		/* local -> BGP: dump id is complete */
	LD_MSG_NH_TRACK,		/* BGP -> local: is next hop p.addr usable? */
	LD_MSG_NH_UNTRACK,		/* BGP -> local: p.addr is no longer used */
	LD_MSG_NH_STATE,		/* local -> BGP: p.addr is u.nh.state (an
					 * answer to NH_TRACK, then every change) */
	/* graceful restart (RFC 4724) as the restarting speaker */
	LD_MSG_GR_KEPT,			/* local -> BGP: id learned routes of a
					 * previous run are still in the
					 * kernel, marked stale */
	LD_MSG_KR_SWEEP,		/* BGP -> local: route selection is
					 * done; remove the learned routes
					 * still stale */
};

/* What the local side says of a next hop (RFC 4271 §5.1.3, §9.1.2.1). */
enum ld_nh_state {
	LD_NH_UNKNOWN = 0,		/* not answered yet: not usable */
	LD_NH_USABLE,			/* resolvable: on a connected network or
					 * through a route */
	LD_NH_LOCAL,			/* one of this node's own addresses */
	LD_NH_UNREACHABLE,		/* no route resolves it */
};

struct ld_msg {
	uint16_t type;			/* enum ld_msg_type */
	uint16_t len;			/* bytes of this record (header included) */
	uint32_t id;			/* dump id; 0 = none */
	struct prefix p;
	union {
		struct ld_export adv;	/* LOCAL_ADV */
		struct {		/* KR_CHANGE */
			uint32_t n;
			struct ipaddr nh[LD_MSG_NH_MAX];
		} kr;
		struct {		/* NH_STATE */
			uint32_t state;	/* enum ld_nh_state */
		} nh;
	} u;
};

/* A FIFO of messages, stored as the bytes a socket would carry (each
 * record only as long as its payload: a KR_CHANGE with one next hop does
 * not carry sixteen, a LOCAL_ADV without communities carries none: a turn
 * that learns 100,000 workload routes queues ~5 MB, not 30). */
struct msgq {
	struct dbuf buf;
	size_t n;			/* messages queued */
	size_t n_total;			/* ever queued, for tests and status */
};
#define MSGQ_INIT { DBUF_INIT, 0, 0 }

/* Queue a copy of m (m->len is set here).  0 or -ENOMEM (m is dropped). */
int    msgq_put(struct msgq *q, struct ld_msg *m);
/* Shorthands for the messages above. */
int    msgq_put_kr(struct msgq *q, const struct prefix *p, const struct ipaddr *nh, size_t n);
int    msgq_put_local(struct msgq *q, uint32_t id, const struct prefix *p,
		      const struct ld_export *e);	/* e NULL: withdraw */
int    msgq_put_ctl(struct msgq *q, enum ld_msg_type type, uint32_t id);
/* NH_TRACK / NH_UNTRACK (state ignored) or NH_STATE for next hop a. */
int    msgq_put_nh(struct msgq *q, enum ld_msg_type type, const struct ipaddr *a,
		   enum ld_nh_state state);
/* Call fn for every message queued, oldest first, and empty the queue.
 * Messages fn queues on q itself wait for the next drain.  Returns how
 * many were handled. */
size_t msgq_drain(struct msgq *q, void (*fn)(const struct ld_msg *m, void *arg), void *arg);
bool   msgq_empty(const struct msgq *q);
void   msgq_done(struct msgq *q);		/* drops what is queued */

#endif
