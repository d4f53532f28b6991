/* rde_nexthop.c — the BGP side's view of next hops (RFC 4271 §5.1.3,
 * §6.3, §9.1.2).
 *
 * Every attribute set holds a reference to its next hop; a new next hop
 * is sent to the local side as LD_MSG_NH_TRACK, and the last reference
 * going as LD_MSG_NH_UNTRACK.  The local side answers with NH_STATE,
 * resolving the address against the kernel's routes, the node's addresses
 * and the learned routes installed (nexthop.c), and sends NH_STATE again
 * whenever that answer changes.  Until it has answered, a next hop is not
 * usable.  Our router id and the next hops we advertise are never usable,
 * whatever the local side says.
 *
 * A path whose next hop is not usable stays in the Adj-RIB-In (a later
 * NH_STATE can make it usable) but never takes part in the decision, so
 * it can neither be the best path nor join the ECMP set: another peer's
 * usable path for the same prefix is chosen as if it were not there.
 * Each next hop keeps the list of its paths, so a change of its state
 * decides again exactly the prefixes it concerns.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rde_priv.h"

static uint32_t
nh_hash(const struct ipaddr *a)
{
	uint32_t h = hash_fnv1a32(HASH_FNV32_INIT, &a->family, sizeof(a->family));

	return hash_finish32(hash_fnv1a32(h, a->u.b, ipaddr_len(a->family)));
}

static bool
nh_is_self(const struct bgp *b, const struct ipaddr *a)
{
	return ipaddr_eq(a, &b->router_id) || ipaddr_eq(a, &b->nexthop4) ||
	    ipaddr_eq(a, &b->nexthop6);
}

void
rde_nh_init(struct rde *r)
{
	(void)htab_init(&r->ntab, 0);
}

void
rde_nh_done(struct rde *r)
{
	if (r->ntab.count)
		log_warnx("rde: leak at exit: %zu next hops", r->ntab.count);
	htab_done(&r->ntab);
}

struct rde_nexthop *
rde_nh_get(struct rde *r, const struct ipaddr *a)
{
	uint32_t h = nh_hash(a);
	struct rde_nexthop *nh;
	struct hnode *hn;
	char s[IPADDR_STRLEN];

	HTAB_FOR_EACH_HASH(&r->ntab, h, hn) {
		nh = HTAB_ENTRY(hn, struct rde_nexthop, hn);
		if (ipaddr_eq(&nh->addr, a)) {
			nh->refcnt++;
			return nh;
		}
	}
	if ((nh = calloc(1, sizeof(*nh))) == NULL)
		return NULL;
	nh->addr = *a;
	nh->refcnt = 1;
	nh->state = LD_NH_UNKNOWN;
	nh->self = nh_is_self(r->bgp, a);
	if (htab_insert(&r->ntab, &nh->hn, h) < 0) {
		free(nh);
		return NULL;
	}
	if (nh->self)
		log_info("rde: next hop %s is our own address: its routes are "
		    "not used", ipaddr_fmt(a, s, sizeof(s)));
	if (msgq_put_nh(r->bgp->to_local, LD_MSG_NH_TRACK, a, 0) < 0)
		log_warnx("rde: next hop %s: out of memory asking about it",
		    ipaddr_fmt(a, s, sizeof(s)));
	return nh;
}

void
rde_nh_put(struct rde *r, struct rde_nexthop *nh)
{
	if (nh == NULL || --nh->refcnt > 0)
		return;
	(void)msgq_put_nh(r->bgp->to_local, LD_MSG_NH_UNTRACK, &nh->addr, 0);
	htab_remove(&r->ntab, &nh->hn);
	free(nh);
}

void
rde_nh_link(struct rde_path *x)
{
	struct rde_nexthop *nh = x->a->nh;

	x->nh_next = nh->paths;
	x->nh_pprev = &nh->paths;
	if (nh->paths != NULL)
		nh->paths->nh_pprev = &x->nh_next;
	nh->paths = x;
	if (!rde_nh_usable(nh))
		x->peer->prefixes_unusable++;
}

void
rde_nh_unlink(struct rde_path *x)
{
	if (x->nh_pprev == NULL)
		return;
	*x->nh_pprev = x->nh_next;
	if (x->nh_next != NULL)
		x->nh_next->nh_pprev = x->nh_pprev;
	x->nh_next = NULL;
	x->nh_pprev = NULL;
	if (!rde_nh_usable(x->a->nh) && x->peer->prefixes_unusable > 0)
		x->peer->prefixes_unusable--;
}

/* nh's usability went from was to what it is now: count and decide again
 * every prefix it has a path to. */
static void
nh_changed(struct bgp *b, struct rde_nexthop *nh, bool was)
{
	bool now = rde_nh_usable(nh);
	struct rde_path *x;
	size_t n = 0;
	char s[IPADDR_STRLEN];

	if (was == now)
		return;
	for (x = nh->paths; x != NULL; x = x->nh_next) {
		if (now && x->peer->prefixes_unusable > 0)
			x->peer->prefixes_unusable--;
		else if (!now)
			x->peer->prefixes_unusable++;
		n++;
	}
	/* rde_decide never takes a path off a prefix (nor frees one that
	 * has a path), so the list holds */
	for (x = nh->paths; x != NULL; x = x->nh_next)
		rde_decide(b, x->rp);
	log_debug("rde: next hop %s %s: %zu paths decided again",
	    ipaddr_fmt(&nh->addr, s, sizeof(s)), now ? "usable" : "not usable",
	    n);
}

void
rde_nh_state(struct bgp *b, const struct ld_msg *m)
{
	struct rde *r = b->rde;
	uint32_t h = nh_hash(&m->p.addr);
	struct rde_nexthop *nh;
	struct hnode *hn;

	if (r == NULL)
		return;
	HTAB_FOR_EACH_HASH(&r->ntab, h, hn) {
		nh = HTAB_ENTRY(hn, struct rde_nexthop, hn);
		if (ipaddr_eq(&nh->addr, &m->p.addr)) {
			bool was = rde_nh_usable(nh);

			nh->state = m->u.nh.state;
			nh_changed(b, nh, was);
			return;
		}
	}
	/* an answer about a next hop dropped since: nothing uses it */
}

void
rde_nh_reconf(struct bgp *b)
{
	struct rde *r = b->rde;
	struct hnode *hn, *nx;
	size_t i;

	if (r == NULL)
		return;
	HTAB_FOR_EACH_SAFE(&r->ntab, i, hn, nx) {
		struct rde_nexthop *nh = HTAB_ENTRY(hn, struct rde_nexthop, hn);
		bool was = rde_nh_usable(nh);

		nh->self = nh_is_self(b, &nh->addr);
		nh_changed(b, nh, was);
	}
}
