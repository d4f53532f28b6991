/* rde_out.c — the Adj-RIB-Out: per-peer queues of pending prefixes,
 * coalesced by prefix, each pointing to an interned export attribute set
 * (or NULL: withdraw), packed into UPDATEs grouped by attributes at the end
 * of each loop turn.  See rde.c for the export policy (a leaf, not a
 * transit) and rde_rr.c for what a route reflector adds: queue entries
 * that point to a received attribute set instead of a local export.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "log.h"
#include "rde_priv.h"

/* ---- export: interned ld_export ---- */

static uint32_t
xattr_hash(const struct ld_export *e)
{
	uint32_t h = HASH_FNV32_INIT;
	size_t n = e->n_communities < 8 ? e->n_communities : 8;

	h = hash_fnv1a32(h, &e->family, sizeof(e->family));
	h = hash_fnv1a32(h, &e->aggregate, sizeof(e->aggregate));
	h = hash_fnv1a32(h, &n, sizeof(n));
	return hash_finish32(hash_fnv1a32(h, e->communities,
	    n * sizeof(e->communities[0])));
}

static bool
xattr_eq(const struct ld_export *a, const struct ld_export *b)
{
	return a->family == b->family && a->aggregate == b->aggregate &&
	    a->n_communities == b->n_communities &&
	    memcmp(a->communities, b->communities,
	    a->n_communities * sizeof(a->communities[0])) == 0;
}

static struct rde_xattr *
xattr_get(struct rde *r, const struct ld_export *e)
{
	struct ld_export k;
	struct rde_xattr *x;
	struct hnode *hn;
	uint32_t h;

	memset(&k, 0, sizeof(k));
	k.family = e->family;
	k.aggregate = e->aggregate;
	k.n_communities = e->n_communities < 8 ? e->n_communities : 8;
	memcpy(k.communities, e->communities,
	    k.n_communities * sizeof(k.communities[0]));
	h = xattr_hash(&k);
	HTAB_FOR_EACH_HASH(&r->xtab, h, hn) {
		x = HTAB_ENTRY(hn, struct rde_xattr, hn);
		if (xattr_eq(&x->e, &k)) {
			x->refcnt++;
			return x;
		}
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->e = k;
	x->refcnt = 1;
	if (htab_insert(&r->xtab, &x->hn, h) < 0) {
		free(x);
		return NULL;
	}
	return x;
}

static void
xattr_put(struct rde *r, struct rde_xattr *x)
{
	if (x == NULL || --x->refcnt > 0)
		return;
	htab_remove(&r->xtab, &x->hn);
	free(x);
}

/* ---- Adj-RIB-Out queue ---- */

int
rde_peer_new(struct peer *peer)
{
	struct rde_peer *rp = calloc(1, sizeof(*rp));

	if (rp == NULL)
		return -ENOMEM;
	(void)htab_init(&rp->out, 0);
	peer->rde = rp;
	return 0;
}

void
rde_peer_free(struct peer *peer)
{
	if (peer->rde == NULL)
		return;
	rde_out_clear(peer);
	htab_done(&peer->rde->out);
	free(peer->rde);
	peer->rde = NULL;
}

static bool
export_family_ok(const struct peer *peer, int family)
{
	return family == AF_INET ? peer->af_v4 :
	    family == AF_INET6 ? peer->af_v6 : false;
}

/* Take the oldest change off the queue (the only one ever taken: a
 * pending change is updated in place, so the queue is singly linked). */
static struct rde_out *
out_pop(struct rde_peer *rp)
{
	struct rde_out *o = rp->head;

	if (o == NULL)
		return NULL;
	htab_remove(&rp->out, &o->hn);
	rp->head = o->next;
	if (rp->head == NULL)
		rp->tail = NULL;
	return o;
}

static void
out_free(struct rde *r, struct rde_out *o)
{
	xattr_put(r, o->x);
	aset_put(r, o->ra);
	free(o);
}

static void
out_refs(struct rde_out *o, struct rde_xattr *x, struct rde_aset *ra,
    uint32_t orig)
{
	if (x) {
		x->refcnt++;
		ra = NULL;		/* a local route wins */
	}
	if (ra)
		ra->refcnt++;
	o->x = x;
	o->ra = ra;
	o->ra_orig = ra ? orig : 0;
}

/* Queue p for peer, replacing a change still pending for it. */
void
rde_out_set(struct peer *peer, const struct prefix *p, struct rde_xattr *x,
    struct rde_aset *ra, uint32_t orig)
{
	struct rde *r = peer->bgp->rde;
	struct rde_peer *rp = peer->rde;
	struct rde_out *o;
	struct hnode *hn;
	uint32_t h = prefix_hash(p);

	if (!export_family_ok(peer, p->addr.family))
		return;
	HTAB_FOR_EACH_HASH(&rp->out, h, hn) {
		o = HTAB_ENTRY(hn, struct rde_out, hn);
		if (pfx_eq(&o->p, p)) {
			struct rde_xattr *ox = o->x;
			struct rde_aset *oa = o->ra;

			out_refs(o, x, ra, orig);
			xattr_put(r, ox);
			aset_put(r, oa);
			return;
		}
	}
	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    htab_insert(&rp->out, &o->hn, h) < 0) {
		free(o);
		log_warnx("neighbor %s: out of memory queueing an UPDATE; "
		    "resetting the session", peer_addr(peer));
		peer->reset_pending = true;	/* done by bgp_flush() */
		return;
	}
	o->p = *p;
	out_refs(o, x, ra, orig);
	if (rp->tail)
		rp->tail->next = o;
	else
		rp->head = o;
	rp->tail = o;
}

void
rde_out_clear(struct peer *peer)
{
	struct rde *r = peer->bgp->rde;
	struct rde_peer *rp = peer->rde;
	struct rde_out *o;

	while ((o = out_pop(rp)) != NULL)
		out_free(r, o);
	rp->eor_pending = false;
	rp->dump_id = 0;
}

static void
out_enqueue(struct peer *peer, const struct prefix *p, struct rde_xattr *x)
{
	rde_out_set(peer, p, x, NULL, 0);
}

static struct peer *
peer_by_dump(struct bgp *b, uint32_t id)
{
	struct peer *peer;

	for (peer = b->peers; peer != NULL; peer = peer->next)
		if (peer->rde->dump_id == id &&
		    peer->state == BGP_STATE_ESTABLISHED)
			return peer;
	return NULL;
}

/* A message from the local side: what to advertise. */
void
bgp_msg(const struct ld_msg *m, void *arg)
{
	struct bgp *b = arg;
	struct rde_xattr *x = NULL;
	struct peer *peer;

	switch (m->type) {
	case LD_MSG_LOCAL_ADV:
	case LD_MSG_LOCAL_WD:
		if (m->type == LD_MSG_LOCAL_ADV &&
		    (x = xattr_get(b->rde, &m->u.adv)) == NULL) {
			log_warnx("rde: out of memory for an export");
			return;
		}
		if (m->id != 0) {		/* part of a dump for one peer */
			if ((peer = peer_by_dump(b, m->id)) != NULL)
				out_enqueue(peer, &m->p, x);
		} else {
			for (peer = b->peers; peer != NULL; peer = peer->next)
				if (peer->state == BGP_STATE_ESTABLISHED)
					out_enqueue(peer, &m->p, x);
			rr_local(b, &m->p, x != NULL);
		}
		xattr_put(b->rde, x);
		break;
	case LD_MSG_LOCAL_DUMP_END:
		if ((peer = peer_by_dump(b, m->id)) != NULL)
			peer->rde->dump_id = 0;	/* End-of-RIB may go */
		break;
	case LD_MSG_NH_STATE:
		rde_nh_state(b, m);
		gr_check_deferral(b);	/* it may wait for this answer */
		break;
	case LD_MSG_GR_KEPT:
		gr_local_msg(b, m);
		break;
	default:
		log_warnx("rde: unexpected message %u from the local side",
		    m->type);
		break;
	}
}

/* Ask the local side for the whole table for peer; it answers with
 * LOCAL_ADV messages tagged with the dump id, then LOCAL_DUMP_END. */
void
rde_peer_refresh(struct peer *peer)
{
	struct bgp *b = peer->bgp;

	if (++b->dump_seq == 0)
		b->dump_seq = 1;
	peer->rde->dump_id = b->dump_seq;
	if (msgq_put_ctl(b->to_local, LD_MSG_LOCAL_DUMP_REQ,
	    b->dump_seq) < 0) {
		log_warnx("neighbor %s: out of memory asking for the table; "
		    "resetting the session", peer_addr(peer));
		peer->rde->dump_id = 0;
		peer->reset_pending = true;
		return;
	}
	rr_peer_dump(peer);
}

void
rde_peer_up(struct peer *peer)
{
	peer->prefixes_sent = 0;
	rde_peer_refresh(peer);
	peer->rde->eor_pending = true;
}

/* ---- UPDATE out ---- */

/* The attributes we send for x to peer (next-hop self, RFC 4271 §5.1). */
static const struct bgp_attrs *
export_attrs(struct peer *peer, const struct rde_xattr *x, int family)
{
	struct bgp *b = peer->bgp;
	struct bgp_attrs *a = b->rde->scratch;
	size_t i;

	bgp_attrs_init(a);
	a->present = BGP_ATTR_BIT(BGP_ATTR_ORIGIN) |
	    BGP_ATTR_BIT(BGP_ATTR_AS_PATH);
	a->origin = BGP_ORIGIN_IGP;
	if (peer->ebgp)
		(void)bgp_aspath_append(&a->aspath, BGP_ASSEG_SEQUENCE,
		    &b->local_as, 1);
	else {
		a->present |= BGP_ATTR_BIT(BGP_ATTR_LOCAL_PREF);
		a->local_pref = BGP_LOCAL_PREF_DEF;
	}
	if (family == AF_INET) {
		a->present |= BGP_ATTR_BIT(BGP_ATTR_NEXT_HOP);
		a->nexthop = b->nexthop4.family == AF_INET ? b->nexthop4.u.v4 :
		    b->router_id.u.v4;
	}
	if (x->e.n_communities > 0) {
		a->present |= BGP_ATTR_BIT(BGP_ATTR_COMMUNITIES);
		for (i = 0; i < x->e.n_communities && i < 8; i++)
			a->comm[a->n_comm++] = x->e.communities[i];
	}
	return a;
}

static int
emit_cb(const uint8_t *msg, size_t len, void *arg)
{
	struct peer *peer = arg;

	return session_send(peer, &peer->conn, msg, len);
}

static int
out_cmp(const void *a, const void *b)
{
	const struct rde_out *x = *(struct rde_out *const *)a;
	const struct rde_out *y = *(struct rde_out *const *)b;
	uintptr_t px = (uintptr_t)x->x, py = (uintptr_t)y->x;
	uintptr_t ax = (uintptr_t)x->ra, ay = (uintptr_t)y->ra;

	if (x->p.addr.family != y->p.addr.family)
		return x->p.addr.family < y->p.addr.family ? -1 : 1;
	if (px != py)
		return px < py ? -1 : 1;
	if (ax != ay)
		return ax < ay ? -1 : 1;
	if (x->ra_orig != y->ra_orig)
		return x->ra_orig < y->ra_orig ? -1 : 1;
	return 0;
}

static int
send_run(struct peer *peer, struct rde_out **run, size_t n)
{
	struct bgp *b = peer->bgp;
	struct rde *r = b->rde;
	int family = run[0]->p.addr.family;
	struct bgp_pack pk;
	size_t i;
	int rc;

	memset(&pk, 0, sizeof(pk));
	pk.flags = peer->as4 ? BGP_MSG_F_AS4 : 0;
	pk.emit = emit_cb;
	pk.arg = peer;
	if (run[0]->ra != NULL) {		/* reflected: next hop unchanged */
		pk.attrs = rr_export_attrs(peer, run[0]->ra, run[0]->ra_orig);
		if (family == AF_INET6)
			pk.mp_nh = run[0]->ra->nexthop;
	} else if (run[0]->x != NULL) {
		if (family == AF_INET6 && b->nexthop6.family != AF_INET6) {
			if (!r->warned_nh6)
				log_warnx("bgp: no IPv6 next hop configured "
				    "(the node's IPv6 router address); IPv6 "
				    "routes are not advertised");
			r->warned_nh6 = true;
			return 0;
		}
		pk.attrs = export_attrs(peer, run[0]->x, family);
		pk.mp_nh = b->nexthop6;
	}
	for (i = 0; i < n; i++)
		r->pfx[i] = run[i]->p;
	rc = bgp_update_pack(&pk, family, r->pfx, n);
	if (rc < 0)
		return rc;
	if (run[0]->x != NULL || run[0]->ra != NULL)
		peer->prefixes_sent += n;
	else
		peer->prefixes_sent -= n < peer->prefixes_sent ? n :
		    peer->prefixes_sent;
	return 0;
}

void
rde_flush_peer(struct peer *peer)
{
	struct rde *r = peer->bgp->rde;
	struct rde_peer *rp = peer->rde;
	struct rde_out *o;
	uint8_t buf[BGP_UPDATE_MIN_LEN + 8];
	size_t n, i, j;
	int rc, len;
	bool sent = false;

	if (peer->state != BGP_STATE_ESTABLISHED || r == NULL)
		return;
	if (gr_deferring(peer->bgp))
		return;		/* our table waits for route selection */
again:
	while (rp->head != NULL &&
	    session_wpending(&peer->conn) < BGP_WBUF_HIWAT) {
		for (n = 0; n < RDE_BATCH && (o = out_pop(rp)) != NULL;
		    n++) {
			r->batch[n] = o;
		}
		qsort(r->batch, n, sizeof(r->batch[0]), out_cmp);
		rc = 0;
		for (i = 0; i < n && rc == 0; i = j) {
			for (j = i + 1; j < n && out_cmp(&r->batch[i],
			    &r->batch[j]) == 0; j++)
				;
			rc = send_run(peer, &r->batch[i], j - i);
		}
		for (i = 0; i < n; i++)
			out_free(r, r->batch[i]);
		sent = true;
		if (rc < 0) {
			log_warnx("neighbor %s: cannot send UPDATE: %s; "
			    "resetting the session", peer_addr(peer),
			    strerror(-rc));
			rde_out_clear(peer);
			peer->reset_pending = true;
			return;
		}
	}
	if (rp->head != NULL) {
		/* the socket took everything: pack more now, since nothing
		 * else may wake the loop; otherwise POLLOUT brings us back */
		session_flush_conn(peer, &peer->conn);
		if (session_wpending(&peer->conn) == 0 &&
		    peer->conn.fd >= 0)
			goto again;
	}
	if (rp->head == NULL && rp->eor_pending && rp->dump_id == 0) {
		rp->eor_pending = false;
		if (peer->af_v4 && (len = bgp_eor_encode(BGP_AFI_IPV4,
		    BGP_SAFI_UNICAST, buf, sizeof(buf))) > 0)
			(void)session_send(peer, &peer->conn, buf, (size_t)len);
		if (peer->af_v6 && (len = bgp_eor_encode(BGP_AFI_IPV6,
		    BGP_SAFI_UNICAST, buf, sizeof(buf))) > 0)
			(void)session_send(peer, &peer->conn, buf, (size_t)len);
		sent = true;
	}
	if (sent) {
		if (peer->keepalive_s > 0)	/* an UPDATE is a keepalive */
			peer_timer_set(peer, &peer->keepalive,
			    peer->keepalive_s * 1000ULL);
		session_flush_conn(peer, &peer->conn);
	}
}
