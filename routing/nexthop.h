/* nexthop.h — next-hop resolution for learned routes (the local side).
 *
 * RFC 4271 §9.1.2.1: a route is used only when the address in its
 * NEXT_HOP is resolvable: the longest match for it in the routing table
 * is a route that is itself resolvable and not resolved, directly or
 * through others, via the route being resolved.  A NEXT_HOP that is one
 * of our own addresses is never used (§5.1.3, §6.3).
 *
 * struct nh_table mirrors what that needs of the kernel's main table, fed
 * by kroute.c (its dump and route monitor):
 *   - the node's addresses, on any interface: "ours";
 *   - every kernel route that is not leafnet's own: connected subnets
 *     (the kernel's routes for an address's prefix), static and other
 *     daemons' routes, any type (a blackhole resolves nothing).  Workload
 *     routes (protocol 76) are not connected networks and resolve nothing;
 *   - the learned routes installed (protocol 77) with their BGP next hops,
 *     so one learned route resolves another, recursively: a learned route
 *     resolves through its own next hops' resolution, never through
 *     itself or a route on the way there (depth NH_DEPTH_MAX).
 * A longest match that is a connected route gives the next hop itself on
 * that device; one with a gateway gives that gateway, device and onlink
 * flag (the route is installed "resolved"); with NH_F_ONLINK a resolved
 * next hop is installed as "via NEXT_HOP dev DEVICE onlink" instead.  A
 * link-local IPv6 next hop must match one device only.
 *
 * The BGP side asks about each next hop its paths use (nh_track); the
 * answer is cached, and nh_eval() re-resolves every tracked next hop after
 * the table changed and reports the ones whose answer did.  Pure: no
 * netlink, no logging, no allocation beyond the table's own.
 */
#ifndef LEAFNET_NEXTHOP_H
#define LEAFNET_NEXTHOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "prefix.h"
#include "route.h"

#define NH_HOPS_MAX	16		/* ROUTE_NH_MAX, LD_MSG_NH_MAX */
#define NH_VIA_MAX	8		/* learned routes one answer remembers */
#define NH_DEPTH_MAX	8		/* learned routes resolving learned routes */

#define NH_F_ONLINK	(1U << 0)	/* resolved next hops go "onlink" */

/* The answer for one next hop. */
struct nh_res {
	enum ld_nh_state state;		/* USABLE, LOCAL or UNREACHABLE */
	bool recursive;			/* through a route with a gateway or a
					 * learned route (not a connected one) */
	uint8_t n;			/* hops, >= 1 when USABLE */
	struct route_nh hop[NH_HOPS_MAX];	/* sorted */
	uint8_t n_via;			/* learned routes it went through */
	bool via_more;			/* ... more than NH_VIA_MAX */
	struct prefix via[NH_VIA_MAX];
};

struct nh_table;

struct nh_table *nh_table_new(void);
void nh_table_free(struct nh_table *t);			/* NULL-safe */
/* NH_F_* (marks the table changed when they do). */
void nh_set_flags(struct nh_table *t, unsigned flags);

/* This node's addresses. */
int  nh_addr_add(struct nh_table *t, const struct ipaddr *a, int ifindex);
void nh_addr_del(struct nh_table *t, const struct ipaddr *a, int ifindex);
bool nh_is_local(const struct nh_table *t, const struct ipaddr *a);

/* Kernel routes of the main table (any protocol but 76 and 77), one per
 * destination, metric and device: adding the same again replaces it.
 * replace: the kernel replaced the route with this destination and
 * metric (NLM_F_REPLACE), so every other hop of it goes first. */
int  nh_kernel_add(struct nh_table *t, const struct route *rt, bool replace);
void nh_kernel_del(struct nh_table *t, const struct route *rt);
/* A route of ours replaced the kernel's with rt's destination and metric. */
void nh_kernel_replaced(struct nh_table *t, const struct route *rt);
/* The kernel dropped every route through ifindex (link down). */
void nh_kernel_link_down(struct nh_table *t, int ifindex);
/* Forget every kernel route and address (before a fresh dump). */
void nh_kernel_clear(struct nh_table *t);

/* A learned route is installed via BGP next hops nh[0..n) (n 0: gone). */
int  nh_learned_set(struct nh_table *t, const struct prefix *p,
		    const struct ipaddr *nh, size_t n);

/* Resolve a for a route to self (NULL: for none), into *ret. */
void nh_resolve(const struct nh_table *t, const struct ipaddr *a,
		const struct prefix *self, struct nh_res *ret);
/* The hops to install for p via BGP next hops nh[0..n): the usable ones'
 * hops (the tracked answer, unless it went through p), deduplicated and
 * sorted, at most max.  0: none is usable. */
size_t nh_route_hops(const struct nh_table *t, const struct prefix *p,
		     const struct ipaddr *nh, size_t n, struct route_nh *ret, size_t max);

/* Start watching a (resolved now; idempotent) / stop.  The cached answer
 * of a tracked next hop, NULL when it is not tracked. */
const struct nh_res *nh_track(struct nh_table *t, const struct ipaddr *a);
void nh_untrack(struct nh_table *t, const struct ipaddr *a);
const struct nh_res *nh_tracked(const struct nh_table *t, const struct ipaddr *a);
size_t nh_tracked_count(const struct nh_table *t);

/* Did anything change since the last nh_eval()? */
bool nh_dirty(const struct nh_table *t);
/* Re-resolve every tracked next hop; cb(a, old, res) for each whose answer
 * changed (state, hops or the routes it went through).  Returns how many
 * changed. */
size_t nh_eval(struct nh_table *t,
	       void (*cb)(const struct ipaddr *a, const struct nh_res *old,
			  const struct nh_res *res, void *arg), void *arg);

bool nh_res_eq(const struct nh_res *a, const struct nh_res *b);
bool route_nh_eq(const struct route_nh *a, const struct route_nh *b);
int  route_nh_cmp(const struct route_nh *a, const struct route_nh *b);
const char *nh_state_name(enum ld_nh_state s);	/* "usable", "our own address", ... */

#endif
