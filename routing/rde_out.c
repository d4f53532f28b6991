/* rde_out.c — the Adj-RIB-Out: per-peer queues of pending prefixes,
 * coalesced by prefix, each pointing to an interned export attribute set
 * (or NULL: withdraw), packed into UPDATEs grouped by attributes at the end
 * of each loop turn.  See rde.c for the export policy (a leaf, not a
 * transit).
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
	uint32_t h = 2166136261U;
	size_t n = e->n_communities < 8 ? e->n_communities : 8;

	h = fnv(h, &e->family, sizeof(e->family));
	h = fnv(h, &e->aggregate, sizeof(e->aggregate));
	h = fnv(h, &n, sizeof(n));
	return fnv(h, e->communities, n * sizeof(e->communities[0]));
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
	uint32_t h;

	memset(&k, 0, sizeof(k));
	k.family = e->family;
	k.aggregate = e->aggregate;
	k.n_communities = e->n_communities < 8 ? e->n_communities : 8;
	memcpy(k.communities, e->communities,
	    k.n_communities * sizeof(k.communities[0]));
	h = xattr_hash(&k);
	if (r->xtab_size > 0)
		for (x = r->xtab[h & (r->xtab_size - 1)]; x; x = x->next)
			if (x->hash == h && xattr_eq(&x->e, &k)) {
				x->refcnt++;
				return x;
			}
	if (r->nxattr >= r->xtab_size)
		TAB_GROW(r->xtab, r->xtab_size, struct rde_xattr, SET_HASHOF);
	if (r->xtab_size == 0 || (x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->e = k;
	x->hash = h;
	x->refcnt = 1;
	x->next = r->xtab[h & (r->xtab_size - 1)];
	r->xtab[h & (r->xtab_size - 1)] = x;
	r->nxattr++;
	return x;
}

static void
xattr_put(struct rde *r, struct rde_xattr *x)
{
	struct rde_xattr **pp;

	if (x == NULL || --x->refcnt > 0)
		return;
	for (pp = &r->xtab[x->hash & (r->xtab_size - 1)]; *pp;
	    pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	r->nxattr--;
	free(x);
}

/* ---- Adj-RIB-Out queue ---- */

static bool
export_family_ok(const struct peer *peer, int family)
{
	return family == AF_INET ? peer->af_v4 :
	    family == AF_INET6 ? peer->af_v6 : false;
}

static void
out_unlink(struct peer *peer, struct rde_out *o)
{
	struct rde_out **pp;

	for (pp = &peer->out_tab[prefix_hash(&o->p) &
	    (peer->out_tab_size - 1)]; *pp; pp = &(*pp)->hnext)
		if (*pp == o) {
			*pp = o->hnext;
			break;
		}
	if (o->prev)
		o->prev->next = o->next;
	else
		peer->out_head = o->next;
	if (o->next)
		o->next->prev = o->prev;
	else
		peer->out_tail = o->prev;
	peer->out_count--;
}

static void
out_grow(struct peer *peer)
{
	size_t ns = peer->out_tab_size ? peer->out_tab_size * 2 : 1024, i;
	struct rde_out **nt = calloc(ns, sizeof(*nt)), *o, *n;

	if (nt == NULL)
		return;
	for (i = 0; i < peer->out_tab_size; i++)
		for (o = peer->out_tab[i]; o != NULL; o = n) {
			n = o->hnext;
			o->hnext = nt[prefix_hash(&o->p) & (ns - 1)];
			nt[prefix_hash(&o->p) & (ns - 1)] = o;
		}
	free(peer->out_tab);
	peer->out_tab = nt;
	peer->out_tab_size = ns;
}

/* Queue p for peer, replacing a change still pending for it. */
static void
out_enqueue(struct peer *peer, const struct prefix *p, struct rde_xattr *x)
{
	struct rde *r = peer->bgp->rde;
	struct rde_out *o;
	uint32_t h = prefix_hash(p);

	if (!export_family_ok(peer, p->addr.family))
		return;
	if (peer->out_tab_size > 0)
		for (o = peer->out_tab[h & (peer->out_tab_size - 1)]; o;
		    o = o->hnext)
			if (pfx_eq(&o->p, p)) {
				if (x)
					x->refcnt++;
				xattr_put(r, o->x);
				o->x = x;
				return;
			}
	if (peer->out_count >= peer->out_tab_size)
		out_grow(peer);
	if (peer->out_tab_size == 0 || (o = calloc(1, sizeof(*o))) == NULL) {
		log_warnx("neighbor %s: out of memory queueing an UPDATE; "
		    "resetting the session", peer_addr(peer));
		peer->reset_pending = true;	/* done by bgp_flush() */
		return;
	}
	o->p = *p;
	if (x)
		x->refcnt++;
	o->x = x;
	o->hnext = peer->out_tab[h & (peer->out_tab_size - 1)];
	peer->out_tab[h & (peer->out_tab_size - 1)] = o;
	o->prev = peer->out_tail;
	if (peer->out_tail)
		peer->out_tail->next = o;
	else
		peer->out_head = o;
	peer->out_tail = o;
	peer->out_count++;
}

void
rde_out_clear(struct peer *peer)
{
	struct rde *r = peer->bgp->rde;
	struct rde_out *o;

	while ((o = peer->out_head) != NULL) {
		out_unlink(peer, o);
		xattr_put(r, o->x);
		free(o);
	}
	peer->eor_pending = false;
}

void
bgp_local_changed(struct ld *d, const struct prefix *p,
    const struct ld_export *e)
{
	struct bgp *b = bgp_get(d, false);
	struct rde_xattr *x = NULL;
	struct peer *peer;

	if (b == NULL || b->rde == NULL)
		return;
	if (e != NULL && (x = xattr_get(b->rde, e)) == NULL) {
		log_warnx("rde: out of memory for an export");
		return;
	}
	for (peer = b->peers; peer != NULL; peer = peer->next)
		if (peer->state == BGP_STATE_ESTABLISHED)
			out_enqueue(peer, p, x);
	xattr_put(b->rde, x);
}

static void
walk_cb(const struct prefix *p, const struct ld_export *e, void *arg)
{
	struct peer *peer = arg;
	struct rde_xattr *x;

	if (e == NULL || (x = xattr_get(peer->bgp->rde, e)) == NULL)
		return;
	out_enqueue(peer, p, x);
	xattr_put(peer->bgp->rde, x);
}

void
rde_peer_refresh(struct peer *peer)
{
	bgp_local_walk(peer->bgp->d, walk_cb, peer);
}

void
rde_peer_up(struct peer *peer)
{
	peer->prefixes_sent = 0;
	rde_peer_refresh(peer);
	peer->eor_pending = true;
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

	if (x->p.addr.family != y->p.addr.family)
		return x->p.addr.family < y->p.addr.family ? -1 : 1;
	if (px != py)
		return px < py ? -1 : 1;
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
	if (run[0]->x != NULL) {
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
	if (run[0]->x != NULL)
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
	struct rde_out *o;
	uint8_t buf[BGP_UPDATE_MIN_LEN + 8];
	size_t n, i, j;
	int rc, len;
	bool sent = false;

	if (peer->state != BGP_STATE_ESTABLISHED || r == NULL)
		return;
again:
	while (peer->out_head != NULL &&
	    session_wpending(&peer->conn) < BGP_WBUF_HIWAT) {
		for (n = 0; n < RDE_BATCH && (o = peer->out_head) != NULL;
		    n++) {
			out_unlink(peer, o);
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
		for (i = 0; i < n; i++) {
			xattr_put(r, r->batch[i]->x);
			free(r->batch[i]);
		}
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
	if (peer->out_head != NULL) {
		/* the socket took everything: pack more now, since nothing
		 * else may wake the loop; otherwise POLLOUT brings us back */
		session_flush_conn(peer, &peer->conn);
		if (session_wpending(&peer->conn) == 0 &&
		    peer->conn.fd >= 0)
			goto again;
	}
	if (peer->out_head == NULL && peer->eor_pending) {
		peer->eor_pending = false;
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
