/* rde.c — the route decision engine: Adj-RIB-In, best path and ECMP into
 * the kernel (LD_MSG_KR_CHANGE / KR_DELETE messages to the local side,
 * which installs them in one netlink batch per loop turn), and the
 * per-peer Adj-RIB-Out queues (rde_out.c) that bgp_flush() packs into
 * UPDATEs.
 *
 * Adj-RIB-In: one hash table of prefixes, each with a short list of paths
 * (one per peer).  A path points to an interned attribute set (hash-consed,
 * refcounted): the routes of one UPDATE, and usually all the routes of one
 * peer, share one set, so a path costs a few dozen octets, never a struct
 * bgp_attrs.  Only prefixes the peer's import policy accepts are stored,
 * so a peer flooding rejected prefixes costs nothing, and max-prefix bounds
 * the rest.
 *
 * Next hops (rde_nexthop.c): every attribute set holds its next hop, whose
 * state the local side resolves and reports (NH_TRACK / NH_STATE); paths
 * through a next hop that is not usable stay here but are left out of
 * the decision, and a change of its state decides its prefixes again.
 *
 * Export: a node is a leaf, not a transit: it advertises its own workload
 * routes (the local RIB, from rib.c) and nothing it learned.  eBGP-learned
 * routes are never re-exported; iBGP-learned routes are not re-advertised
 * to iBGP peers, except by a route reflector node (RFC 4456, rde_rr.c),
 * which reflects the best iBGP path of each prefix between its clients
 * (rr_client peers) and its other iBGP peers.
 *
 * Adj-RIB-Out: per peer, a queue of pending prefixes coalesced by prefix
 * (a prefix changed ten times before the flush is sent once), each pointing
 * to an interned export attribute set or NULL for a withdraw.  The queue
 * holds at most one entry per prefix of the local RIB, so it is bounded by
 * the table, not by the churn; encoded bytes only exist for what the
 * socket is about to take (BGP_WBUF_HIWAT).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "log.h"
#include "rde_priv.h"

int
rde_init(struct bgp *b)
{
	struct rde *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	if ((r->scratch = malloc(sizeof(*r->scratch))) == NULL) {
		free(r);
		return -ENOMEM;
	}
	(void)htab_init(&r->ptab, 0);
	(void)htab_init(&r->atab, 0);
	(void)htab_init(&r->xtab, 0);
	rr_init(r);
	rde_nh_init(r);
	r->bgp = b;
	b->rde = r;
	return 0;
}

void
rde_free(struct bgp *b)
{
	struct rde *r = b->rde;

	if (r == NULL)
		return;
	/* peers are gone, so every prefix, set and export set is too */
	if (r->ptab.count || r->atab.count || r->xtab.count)
		log_warnx("rde: leak at exit: %zu prefixes, %zu attribute sets, "
		    "%zu export sets", r->ptab.count, r->atab.count,
		    r->xtab.count);
	htab_done(&r->ptab);
	htab_done(&r->atab);
	htab_done(&r->xtab);
	rr_done(r);
	rde_nh_done(r);
	free(r->scratch);
	free(r);
	b->rde = NULL;
}

void
rde_stats(const struct bgp *b, size_t *prefixes, size_t *asets,
    size_t *xattrs)
{
	const struct rde *r = b->rde;

	if (prefixes)
		*prefixes = r ? r->ptab.count : 0;
	if (asets)
		*asets = r ? r->atab.count : 0;
	if (xattrs)
		*xattrs = r ? r->xtab.count : 0;
}

/* ---- attribute sets ---- */

static struct rde_aset *
aset_get(struct rde *r, const struct bgp_attrs *a, const struct ipaddr *nh)
{
	struct rde_aset key, *s;
	struct hnode *hn;
	size_t i, nwords, k = 0;
	uint32_t h;
	uint32_t *w;

	memset(&key, 0, sizeof(key));
	key.nexthop = *nh;
	key.origin = a->origin;
	if (a->present & BGP_ATTR_BIT(BGP_ATTR_MED)) {
		key.flags |= ASET_F_MED;
		key.med = a->med;
	}
	if (a->present & BGP_ATTR_BIT(BGP_ATTR_LOCAL_PREF)) {
		key.flags |= ASET_F_LP;
		key.local_pref = a->local_pref;
	}
	if (a->present & BGP_ATTR_BIT(BGP_ATTR_ORIGINATOR_ID)) {
		key.flags |= ASET_F_ORIG;
		key.originator_id = a->originator_id;
	}
	key.pathlen = (uint16_t)bgp_aspath_count(&a->aspath);
	if (a->aspath.nsegs > 0 && a->aspath.seg[0].len > 0)
		key.first_as = a->aspath.asn[a->aspath.seg[0].off];
	key.nsegs = a->aspath.nsegs;
	key.nasns = a->aspath.nasns;
	key.n_cluster = a->n_cluster;
	key.n_comm = a->n_comm;
	key.n_lcomm = a->n_lcomm;
	nwords = (size_t)key.nsegs + key.nasns + key.n_cluster + key.n_comm +
	    3 * (size_t)key.n_lcomm;
	key.nwords = (uint32_t)nwords;

	if ((w = malloc((nwords ? nwords : 1) * sizeof(*w))) == NULL)
		return NULL;
	for (i = 0; i < key.nsegs; i++)
		w[k++] = (uint32_t)a->aspath.seg[i].type << 8 |
		    a->aspath.seg[i].len;
	for (i = 0; i < key.nasns; i++)
		w[k++] = a->aspath.asn[i];
	for (i = 0; i < key.n_cluster; i++)
		w[k++] = a->cluster[i];
	for (i = 0; i < key.n_comm; i++)
		w[k++] = a->comm[i];
	for (i = 0; i < key.n_lcomm; i++) {
		w[k++] = a->lcomm[i].global;
		w[k++] = a->lcomm[i].local1;
		w[k++] = a->lcomm[i].local2;
	}
	h = hash_fnv1a32(HASH_FNV32_INIT, (uint8_t *)&key + ASET_KEY_OFF,
	    ASET_KEY_LEN);
	h = hash_finish32(hash_fnv1a32(h, w, nwords * sizeof(*w)));

	HTAB_FOR_EACH_HASH(&r->atab, h, hn) {
		s = HTAB_ENTRY(hn, struct rde_aset, hn);
		if (s->nwords == key.nwords &&
		    memcmp((uint8_t *)s + ASET_KEY_OFF,
		    (uint8_t *)&key + ASET_KEY_OFF, ASET_KEY_LEN) == 0 &&
		    memcmp(s->w, w, nwords * sizeof(*w)) == 0) {
			s->refcnt++;
			free(w);
			return s;
		}
	}
	if ((s = malloc(sizeof(*s) + nwords * sizeof(*w))) == NULL) {
		free(w);
		return NULL;
	}
	memcpy(s, &key, sizeof(key));
	memcpy(s->w, w, nwords * sizeof(*w));
	free(w);
	s->refcnt = 1;
	if ((s->nh = rde_nh_get(r, nh)) == NULL) {
		free(s);
		return NULL;
	}
	if (htab_insert(&r->atab, &s->hn, h) < 0) {
		rde_nh_put(r, s->nh);
		free(s);
		return NULL;
	}
	return s;
}

void
aset_put(struct rde *r, struct rde_aset *s)
{
	if (s == NULL || --s->refcnt > 0)
		return;
	htab_remove(&r->atab, &s->hn);
	rde_nh_put(r, s->nh);
	free(s);
}

/* ---- best path ---- */

static uint32_t
path_lp(const struct rde_path *x)
{
	return (x->a->flags & ASET_F_LP) && !x->peer->ebgp ?
	    x->a->local_pref : BGP_LOCAL_PREF_DEF;
}

/* < 0: a is better.  With `ecmp`, stop before the tie-breakers, so 0
 * means "as good: share the load". */
static int
path_cmp(const struct rde_path *a, const struct rde_path *b, bool ecmp)
{
	uint32_t ia, ib;
	int c;

	if (path_lp(a) != path_lp(b))
		return path_lp(a) > path_lp(b) ? -1 : 1;
	if (a->a->pathlen != b->a->pathlen)
		return a->a->pathlen < b->a->pathlen ? -1 : 1;
	if (a->a->origin != b->a->origin)
		return a->a->origin < b->a->origin ? -1 : 1;
	if (a->a->first_as == b->a->first_as) {
		uint32_t ma = (a->a->flags & ASET_F_MED) ? a->a->med : 0;
		uint32_t mb = (b->a->flags & ASET_F_MED) ? b->a->med : 0;

		if (ma != mb)
			return ma < mb ? -1 : 1;
	}
	if (a->peer->ebgp != b->peer->ebgp)
		return a->peer->ebgp ? -1 : 1;
	if (ecmp)
		return 0;
	ia = (a->a->flags & ASET_F_ORIG) ? a->a->originator_id :
	    a->peer->remote_id;
	ib = (b->a->flags & ASET_F_ORIG) ? b->a->originator_id :
	    b->peer->remote_id;
	if (ia != ib)
		return ia < ib ? -1 : 1;
	if (a->a->n_cluster != b->a->n_cluster)		/* RFC 4456 §9 */
		return a->a->n_cluster < b->a->n_cluster ? -1 : 1;
	c = ipaddr_cmp(&a->peer->conf.addr, &b->peer->conf.addr);
	return c;
}

static int
nh_cmp(const void *a, const void *b)
{
	return ipaddr_cmp(a, b);
}

/* Recompute the best paths of rp and tell the local side (a KR_CHANGE or
 * KR_DELETE message) when the next-hop set changed.  Only paths whose
 * next hop is usable take part (rde_nexthop.c).  Frees rp when no path
 * is left. */
static void
prefix_decide(struct bgp *b, struct rde_prefix *rp)
{
	struct rde *r = b->rde;
	struct ipaddr nh[RDE_ECMP_MAX];
	const struct rde_path *best = NULL, *x;
	size_t n = 0, i;
	uint32_t h = HASH_FNV32_INIT;
	char s[PREFIX_STRLEN];
	int rc;

	if (gr_deferring(b)) {
		/* RFC 4724 §4.1: no selection before the peers' End-of-RIB;
		 * rde_decide_all() runs it for every prefix then */
		if (rp->paths == NULL) {
			htab_remove(&r->ptab, &rp->hn);
			free(rp);
		}
		return;
	}
	for (x = rp->paths; x != NULL; x = x->next)
		if (rde_nh_usable(x->a->nh) &&
		    (best == NULL || path_cmp(x, best, false) < 0))
			best = x;
	for (x = rp->paths; x != NULL && best != NULL; x = x->next) {
		if (!rde_nh_usable(x->a->nh) || path_cmp(x, best, true) != 0)
			continue;
		for (i = 0; i < n; i++)
			if (ipaddr_eq(&nh[i], &x->a->nexthop))
				break;
		if (i == n && n < RDE_ECMP_MAX)
			nh[n++] = x->a->nexthop;
	}
	qsort(nh, n, sizeof(nh[0]), nh_cmp);
	for (i = 0; i < n; i++)
		h = hash_fnv1a32(h, nh[i].u.b, 16);
	if (n != rp->nh_n || (n > 0 && h != rp->nh_hash)) {
		rc = msgq_put_kr(b->to_local, &rp->p, nh, n);
		if (rc < 0)
			log_warnx("rde: kernel route for %s: %s",
			    prefix_fmt(&rp->p, s, sizeof(s)), strerror(-rc));
		rp->nh_n = (uint8_t)n;
		rp->nh_hash = h;
	}
	rr_decide(b, rp, best);
	if (rp->paths == NULL) {
		htab_remove(&r->ptab, &rp->hn);
		free(rp);
	}
}

void
rde_decide(struct bgp *b, struct rde_prefix *rp)
{
	prefix_decide(b, rp);
}

static struct rde_prefix *
prefix_lookup(struct rde *r, const struct prefix *p, bool create)
{
	struct rde_prefix *rp;
	struct hnode *hn;
	uint32_t h = prefix_hash(p);

	HTAB_FOR_EACH_HASH(&r->ptab, h, hn) {
		rp = HTAB_ENTRY(hn, struct rde_prefix, hn);
		if (pfx_eq(&rp->p, p))
			return rp;
	}
	if (!create || (rp = calloc(1, sizeof(*rp))) == NULL)
		return NULL;
	rp->p = *p;
	if (htab_insert(&r->ptab, &rp->hn, h) < 0) {
		free(rp);
		return NULL;
	}
	return rp;
}

void
rde_decide_prefix(struct bgp *b, const struct prefix *p)
{
	struct rde_prefix *rp = prefix_lookup(b->rde, p, false);

	if (rp != NULL)
		prefix_decide(b, rp);
}

/* Set (a != NULL) or remove the path of peer for p. */
static int
path_set(struct peer *peer, const struct prefix *p, struct rde_aset *a)
{
	struct rde *r = peer->bgp->rde;
	struct rde_prefix *rp = prefix_lookup(r, p, a != NULL);
	struct rde_path **pp, *x;

	if (rp == NULL)
		return a != NULL ? -ENOMEM : 0;
	for (pp = &rp->paths; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->peer == peer)
			break;
	x = *pp;
	if (a == NULL) {
		if (x == NULL)
			return 0;
		*pp = x->next;
		rde_nh_unlink(x);
		if (x->stale)
			peer->gr_stale--;
		aset_put(r, x->a);
		free(x);
		peer->prefixes_received--;
	} else if (x != NULL) {
		if (x->stale) {		/* refreshed after a restart */
			x->stale = false;
			peer->gr_stale--;
		}
		if (x->a == a)
			return 0;	/* the same route again */
		rde_nh_unlink(x);
		a->refcnt++;
		aset_put(r, x->a);
		x->a = a;
		rde_nh_link(x);
	} else {
		if ((x = malloc(sizeof(*x))) == NULL) {
			if (rp->paths == NULL)
				prefix_decide(peer->bgp, rp);
			return -ENOMEM;
		}
		a->refcnt++;
		x->a = a;
		x->peer = peer;
		x->rp = rp;
		x->stale = false;
		x->next = rp->paths;
		rp->paths = x;
		rde_nh_link(x);
		peer->prefixes_received++;
	}
	prefix_decide(peer->bgp, rp);
	return 0;
}

/* ---- UPDATE in ---- */

static bool
import_ok(const struct peer *peer, const struct prefix *p)
{
	switch (peer->conf.import) {
	case PEER_IMPORT_ALL:
		return true;
	case PEER_IMPORT_DEFAULT:
		return p->len == 0;
	case PEER_IMPORT_NONE:
		break;
	}
	return false;
}

static void
withdraw_nlri(struct peer *peer, const struct bgp_nlri *n)
{
	struct bgp_nlri_iter it;
	struct prefix p;

	if (n->raw == NULL && n->pfx == NULL)
		return;
	bgp_nlri_iter_init(n, &it);
	while (bgp_nlri_next(&it, &p) == 1)
		(void)path_set(peer, &p, NULL);
}

static int
announce_nlri(struct peer *peer, const struct bgp_nlri *n,
    struct rde_aset *a)
{
	struct bgp_nlri_iter it;
	struct prefix p;

	if (n->raw == NULL && n->pfx == NULL)
		return 0;
	bgp_nlri_iter_init(n, &it);
	while (bgp_nlri_next(&it, &p) == 1) {
		peer->nlri_in++;
		if (a == NULL || !import_ok(peer, &p)) {
			(void)path_set(peer, &p, NULL);
			continue;
		}
		if (path_set(peer, &p, a) < 0) {
			log_warnx("neighbor %s: out of memory storing a route",
			    peer_addr(peer));
			return -ENOMEM;
		}
		if (peer->conf.max_prefix == 0)
			continue;
		if (peer->prefixes_received <= peer->conf.max_prefix) {
			peer->maxpfx_warned = false;	/* below again: re-arm */
			continue;
		}
		if (!peer->conf.max_prefix_warning) {
			peer->maxpfx_family = p.addr.family;
			return -ERANGE;		/* session_maxpfx_exceeded() */
		}
		if (!peer->maxpfx_warned)
			log_warnx("neighbor %s: %llu routes, more than max-prefix "
			    "%u (warning only: the session stays)",
			    peer_addr(peer),
			    (unsigned long long)peer->prefixes_received,
			    peer->conf.max_prefix);
		peer->maxpfx_warned = true;
	}
	return 0;
}

/* Loops and routes that must not be used (RFC 4271 §9.1.2, RFC 4456 §8). */
static const char *
path_unusable(const struct peer *peer, const struct bgp_attrs *a)
{
	const struct bgp *b = peer->bgp;
	uint16_t i;

	if (peer->ebgp) {
		for (i = 0; i < a->aspath.nasns; i++)
			if (a->aspath.asn[i] == b->local_as)
				return "our AS in the AS_PATH";
		return NULL;
	}
	if ((a->present & BGP_ATTR_BIT(BGP_ATTR_ORIGINATOR_ID)) &&
	    a->originator_id == bgp_router_id(b))
		return "ORIGINATOR_ID is our router id";
	for (i = 0; i < a->n_cluster; i++)
		if (a->cluster[i] == bgp_cluster_id(b))
			return "our cluster id in the CLUSTER_LIST";
	return NULL;
}

static void
withdraw_all(struct peer *peer, const struct bgp_update *u)
{
	withdraw_nlri(peer, &u->withdrawn);
	withdraw_nlri(peer, &u->nlri);
	withdraw_nlri(peer, &u->mp_reach.nlri);
	withdraw_nlri(peer, &u->mp_unreach);
}


int
rde_update(struct peer *peer, const struct bgp_update *u,
    const struct bgp_err *err)
{
	struct rde *r = peer->bgp->rde;
	struct rde_aset *a4 = NULL, *a6 = NULL;
	const char *why;
	struct ipaddr nh;
	int rc = 0;

	if (u->flags & BGP_UPD_F_EOR) {
		log_info("neighbor %s: End-of-RIB for %s", peer_addr(peer),
		    bgp_afi_name(u->eor_afi, u->eor_safi));
		return 0;
	}
	if (err->action == BGP_ERR_AFISAFI_DISABLE) {
		(void)rde_peer_flush(peer, err->afi == BGP_AFI_IPV6 ?
		    AF_INET6 : AF_INET, false);
		return 0;
	}
	if (err->action == BGP_ERR_TREAT_AS_WITHDRAW) {
		withdraw_all(peer, u);
		return 0;
	}
	withdraw_nlri(peer, &u->withdrawn);
	if (u->flags & BGP_UPD_F_MP_UNREACH)
		withdraw_nlri(peer, &u->mp_unreach);
	if ((why = path_unusable(peer, &u->attrs)) != NULL) {
		log_debug("neighbor %s: routes ignored: %s", peer_addr(peer),
		    why);
		withdraw_nlri(peer, &u->nlri);
		withdraw_nlri(peer, &u->mp_reach.nlri);
		return 0;
	}
	if (u->nlri.count > 0 &&
	    (u->attrs.present & BGP_ATTR_BIT(BGP_ATTR_NEXT_HOP))) {
		memset(&nh, 0, sizeof(nh));
		nh.family = AF_INET;
		nh.u.v4 = u->attrs.nexthop;
		if ((a4 = aset_get(r, &u->attrs, &nh)) == NULL)
			rc = -ENOMEM;
		else
			rc = announce_nlri(peer, &u->nlri, a4);
	}
	if (rc == 0 && (u->flags & BGP_UPD_F_MP_REACH) &&
	    u->mp_reach.nlri.count > 0) {
		nh = ipaddr_is_set(&u->mp_reach.nh) ? u->mp_reach.nh :
		    u->mp_reach.nh_ll;
		if ((a6 = aset_get(r, &u->attrs, &nh)) == NULL)
			rc = -ENOMEM;
		else
			rc = announce_nlri(peer, &u->mp_reach.nlri, a6);
	}
	/* the paths hold their own references now */
	aset_put(r, a4);
	aset_put(r, a6);
	return rc == -ERANGE ? -1 : 0;
}

size_t
rde_peer_flush(struct peer *peer, int family, bool stale_only)
{
	struct rde *r = peer->bgp->rde;
	struct rde_prefix *rp;
	struct rde_path *x;
	struct hnode *hn, *nx;
	size_t i, n = 0;

	/* prefix_decide may free the entry, never the chain's next one */
	HTAB_FOR_EACH_SAFE(&r->ptab, i, hn, nx) {
		rp = HTAB_ENTRY(hn, struct rde_prefix, hn);
		if (family != 0 && rp->p.addr.family != family)
			continue;
		for (x = rp->paths; x != NULL; x = x->next)
			if (x->peer == peer)
				break;
		if (x == NULL || (stale_only && !x->stale))
			continue;
		(void)path_set(peer, &rp->p, NULL);
		n++;
	}
	return n;
}

void
rde_decide_all(struct bgp *b)
{
	struct hnode *hn, *nx;
	size_t i;

	HTAB_FOR_EACH_SAFE(&b->rde->ptab, i, hn, nx)
		prefix_decide(b, HTAB_ENTRY(hn, struct rde_prefix, hn));
}

void
rde_peer_reimport(struct peer *peer)
{
	struct rde *r = peer->bgp->rde;
	struct rde_prefix *rp;
	struct hnode *hn, *nx;
	size_t i;

	HTAB_FOR_EACH_SAFE(&r->ptab, i, hn, nx) {
		rp = HTAB_ENTRY(hn, struct rde_prefix, hn);
		if (!import_ok(peer, &rp->p))
			(void)path_set(peer, &rp->p, NULL);
	}
}

void
rde_peer_down(struct peer *peer)
{
	if (peer->bgp->rde == NULL)
		return;
	if (peer->prefixes_received > 0)
		log_info("neighbor %s: withdrawing %llu learned routes",
		    peer_addr(peer),
		    (unsigned long long)peer->prefixes_received);
	(void)rde_peer_flush(peer, 0, false);
	peer->prefixes_received = 0;
	peer->prefixes_unusable = 0;
	peer->gr_stale = 0;
}
