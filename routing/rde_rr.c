/* rde_rr.c — route reflection (RFC 4456): what a reflector node passes
 * on of what it learned over iBGP, as an export policy on the Adj-RIB-Out
 * queues of rde_out.c.
 *
 * Only a node that is a reflector (`netctl node rr NAME on`; b->rr) does
 * any of this; every other node stays a leaf that advertises only its own
 * routes.  For each prefix the reflector reflects its one best path when
 * that path was learned over iBGP:
 *
 *   from a client (rr_client)      to every other iBGP peer: the other
 *                                  clients and the non-clients;
 *   from a non-client iBGP peer    to the clients only;
 *   from an eBGP peer              to nobody (a node is no transit);
 *
 * never back to the peer it came from, nor to a peer whose router id is
 * the route's ORIGINATOR_ID (its originator: a client with sessions for
 * both families, or a route that came round through another reflector).
 * eBGP peers get no reflected route.  The reflected route keeps its
 * attributes and its next hop (RFC 4456 §10: a reflector does not change
 * the next hop); ORIGINATOR_ID is set to the router id of the peer it came
 * from unless it carries one, and our cluster id is prepended to its
 * CLUSTER_LIST.  The receiving side (rde.c path_unusable) drops routes with
 * our router id as ORIGINATOR_ID or our cluster id in the CLUSTER_LIST, so
 * two reflectors of one cluster ignore each other's reflections of their
 * common clients' routes and keep only their own.
 *
 * A prefix the node originates itself (a local route, from rib.c) is not
 * reflected: the local route is what its peers get, and when it goes the
 * learned best path is reflected in its place.
 *
 * What was reflected for a prefix is remembered in the prefix (rr_from,
 * rr_a, rr_orig, rr_client: enough to tell, for any peer, whether it got
 * the route), so a change of the best path sends each peer exactly the
 * announcement or withdraw it needs, without a per-peer copy of the table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "rde_priv.h"

/* A prefix of the local RIB (what rib.c advertises), by LOCAL_ADV/WD id 0. */
struct rde_local {
	struct hnode	 hn;		/* in rde.ltab */
	struct prefix	 p;
};

void
rr_init(struct rde *r)
{
	(void)htab_init(&r->ltab, 0);
}

void
rr_done(struct rde *r)
{
	struct hnode *hn, *nx;
	size_t i;

	HTAB_FOR_EACH_SAFE(&r->ltab, i, hn, nx) {
		htab_remove(&r->ltab, hn);
		free(HTAB_ENTRY(hn, struct rde_local, hn));
	}
	htab_done(&r->ltab);
}

static struct rde_local *
local_find(struct rde *r, const struct prefix *p)
{
	struct hnode *hn;
	struct rde_local *l;

	HTAB_FOR_EACH_HASH(&r->ltab, prefix_hash(p), hn) {
		l = HTAB_ENTRY(hn, struct rde_local, hn);
		if (pfx_eq(&l->p, p))
			return l;
	}
	return NULL;
}

/* Does peer t get a route reflected from `from` (a client or not) with
 * ORIGINATOR_ID orig? */
static bool
rr_to(const struct peer *t, const struct peer *from, bool from_client,
    uint32_t orig)
{
	if (from == NULL || t == from || t->ebgp ||
	    t->state != BGP_STATE_ESTABLISHED)
		return false;
	if (!from_client && !t->conf.rr_client)
		return false;		/* a non-client's route: clients only */
	return t->remote_id != orig;	/* not back to its originator */
}

/* Can best be reflected at all? */
static bool
rr_reflectable(const struct rde_prefix *rp, const struct rde_path *best)
{
	const struct ipaddr *nh = &best->a->nexthop;

	if (best->peer->ebgp)
		return false;
	if (best->a->n_cluster >= BGP_CLUSTER_MAX)
		return false;		/* no room to prepend our cluster id */
	/* a link-local next hop means nothing to the other peers */
	if (rp->p.addr.family == AF_INET6 && (nh->family != AF_INET6 ||
	    (nh->u.b[0] == 0xfe && (nh->u.b[1] & 0xc0) == 0x80)))
		return false;
	return true;
}

static void
rr_set_state(struct rde *r, struct rde_prefix *rp, struct peer *from,
    struct rde_aset *a, uint32_t orig, bool client)
{
	if (a != NULL)
		a->refcnt++;
	aset_put(r, rp->rr_a);
	rp->rr_from = from;
	rp->rr_a = a;
	rp->rr_orig = orig;
	rp->rr_client = client;
}

void
rr_decide(struct bgp *b, struct rde_prefix *rp, const struct rde_path *best)
{
	struct rde *r = b->rde;
	struct peer *from = NULL, *t;
	struct rde_aset *a = NULL;
	uint32_t orig = 0;
	bool client = false, was, now;

	if (b->rr && best != NULL && rr_reflectable(rp, best) &&
	    local_find(r, &rp->p) == NULL) {
		from = best->peer;
		a = best->a;
		orig = (a->flags & ASET_F_ORIG) ? a->originator_id :
		    from->remote_id;
		client = from->conf.rr_client;
	}
	if (from == rp->rr_from && a == rp->rr_a && orig == rp->rr_orig &&
	    client == rp->rr_client)
		return;
	for (t = b->peers; t != NULL; t = t->next) {
		was = rr_to(t, rp->rr_from, rp->rr_client, rp->rr_orig);
		now = rr_to(t, from, client, orig);
		if (now)
			rde_out_set(t, &rp->p, NULL, a, orig);
		else if (was)
			rde_out_set(t, &rp->p, NULL, NULL, 0);
	}
	rr_set_state(r, rp, from, a, orig, client);
}

void
rr_local(struct bgp *b, const struct prefix *p, bool present)
{
	struct rde *r = b->rde;
	struct rde_local *l = local_find(r, p);
	struct rde_prefix *rp = NULL;
	struct hnode *hn;

	if (present) {
		if (l == NULL) {
			if ((l = calloc(1, sizeof(*l))) == NULL ||
			    htab_insert(&r->ltab, &l->hn, prefix_hash(p)) < 0) {
				free(l);
				log_warnx("rde: out of memory noting a local "
				    "prefix; it may also be reflected");
				return;
			}
			l->p = *p;
		}
		/* the local route, queued for every peer, replaced what was
		 * reflected: forget it without a withdraw */
		HTAB_FOR_EACH_HASH(&r->ptab, prefix_hash(p), hn) {
			rp = HTAB_ENTRY(hn, struct rde_prefix, hn);
			if (pfx_eq(&rp->p, p))
				break;
			rp = NULL;
		}
		if (rp != NULL && rp->rr_from != NULL)
			rr_set_state(r, rp, NULL, NULL, 0, false);
		return;
	}
	if (l == NULL)
		return;
	htab_remove(&r->ltab, &l->hn);
	free(l);
	/* its withdraw is queued for every peer; the learned best path, if
	 * any, takes its place where it is reflected */
	rde_decide_prefix(b, p);
}

void
rr_peer_dump(struct peer *peer)
{
	struct bgp *b = peer->bgp;
	struct rde_prefix *rp;
	struct hnode *hn, *nx;
	size_t i;

	if (!b->rr || peer->ebgp)
		return;
	HTAB_FOR_EACH_SAFE(&b->rde->ptab, i, hn, nx) {
		rp = HTAB_ENTRY(hn, struct rde_prefix, hn);
		if (rr_to(peer, rp->rr_from, rp->rr_client, rp->rr_orig))
			rde_out_set(peer, &rp->p, NULL, rp->rr_a, rp->rr_orig);
	}
}

const struct bgp_attrs *
rr_export_attrs(struct peer *peer, const struct rde_aset *a, uint32_t orig)
{
	struct bgp *b = peer->bgp;
	struct bgp_attrs *at = b->rde->scratch;
	const uint32_t *w = a->w;
	size_t i, off = a->nsegs;

	bgp_attrs_init(at);
	at->present = BGP_ATTR_BIT(BGP_ATTR_ORIGIN) |
	    BGP_ATTR_BIT(BGP_ATTR_AS_PATH) |
	    BGP_ATTR_BIT(BGP_ATTR_LOCAL_PREF) |
	    BGP_ATTR_BIT(BGP_ATTR_ORIGINATOR_ID) |
	    BGP_ATTR_BIT(BGP_ATTR_CLUSTER_LIST);
	at->origin = a->origin;
	for (i = 0; i < a->nsegs; i++) {
		uint8_t type = (uint8_t)(w[i] >> 8), len = (uint8_t)w[i];

		if (len == 0 || off + len > (size_t)a->nsegs + a->nasns)
			break;
		(void)bgp_aspath_append(&at->aspath, type, &w[off], len);
		off += len;
	}
	off = (size_t)a->nsegs + a->nasns;
	at->local_pref = (a->flags & ASET_F_LP) ? a->local_pref :
	    BGP_LOCAL_PREF_DEF;
	if (a->flags & ASET_F_MED) {
		at->present |= BGP_ATTR_BIT(BGP_ATTR_MED);
		at->med = a->med;
	}
	at->originator_id = orig;
	at->cluster[at->n_cluster++] = bgp_cluster_id(b);
	for (i = 0; i < a->n_cluster && at->n_cluster < BGP_CLUSTER_MAX; i++)
		at->cluster[at->n_cluster++] = w[off + i];
	off += a->n_cluster;
	if (a->n_comm > 0) {
		at->present |= BGP_ATTR_BIT(BGP_ATTR_COMMUNITIES);
		for (i = 0; i < a->n_comm && i < BGP_COMM_MAX; i++)
			at->comm[at->n_comm++] = w[off + i];
	}
	off += a->n_comm;
	if (a->n_lcomm > 0) {
		at->present |= BGP_ATTR_BIT(BGP_ATTR_LARGE_COMMUNITY);
		for (i = 0; i < a->n_lcomm && i < BGP_LCOMM_MAX; i++) {
			at->lcomm[at->n_lcomm].global = w[off + 3 * i];
			at->lcomm[at->n_lcomm].local1 = w[off + 3 * i + 1];
			at->lcomm[at->n_lcomm].local2 = w[off + 3 * i + 2];
			at->n_lcomm++;
		}
	}
	if (a->nexthop.family == AF_INET) {
		at->present |= BGP_ATTR_BIT(BGP_ATTR_NEXT_HOP);
		at->nexthop = a->nexthop.u.v4;
	}
	return at;
}
