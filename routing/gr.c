/* gr.c — BGP graceful restart (RFC 4724), both roles.
 *
 * Restarting speaker.  A killed or restarted leafnetd leaves its learned
 * routes (protocol 77) in the kernel; the local side (kroute.c) finds them
 * at start, marks them stale and tells us how many (LD_MSG_GR_KEPT).  Then
 * we are "restarting": our OPENs carry the R bit, and route selection is
 * deferred (§4.1): UPDATEs fill the Adj-RIB-In, but nothing reaches the
 * kernel or the peers until every peer sent End-of-RIB for each family it
 * negotiated (peers without the capability or with their own R bit set are
 * not waited for) and the local side answered for every next hop, or
 * BGP_GR_DEFER_S passed.  Then rde_decide_all() selects
 * every prefix once -- a KR_CHANGE whose next hops are what the kernel
 * already has changes nothing there -- and LD_MSG_KR_SWEEP removes the
 * kernel's stale routes nobody re-advertised.  Only then are our own table
 * and End-of-RIB sent.  Our OPENs always set the F bit for both families:
 * what we advertise is forwarded by the workload routes (protocol 76, the
 * plugins' own) and nothing of ours is lost when leafnetd dies.
 *
 * Receiving speaker (helper, §4.2).  When the session of a peer that
 * advertised the capability (restart time > 0) ends with its TCP
 * connection failing, with our hold timer expiring, or by a valid OPEN on
 * a new connection (the peer restarted), its paths of the families it
 * listed stay in the Adj-RIB-In, marked stale, and keep being used; the
 * others go.  The restart timer (its restart time, capped at
 * BGP_GR_RESTART_MAX_S) bounds the wait for its return.  When it is back,
 * a family its new OPEN does not list with the F bit loses its stale
 * paths at once; the rest are replaced by its UPDATEs (an identical one
 * only clears the mark: nothing changes in the kernel), and what is still
 * stale goes at its End-of-RIB for that family, or after BGP_GR_STALE_S.
 * A NOTIFICATION either way ends the session the RFC 4271 way: we do not
 * advertise the N bit (RFC 8538).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "rde_priv.h"

static uint8_t
af_bit(uint16_t afi, uint8_t safi)
{
	if (safi != BGP_SAFI_UNICAST)
		return 0;
	return afi == BGP_AFI_IPV4 ? GR_AF_V4 : afi == BGP_AFI_IPV6 ?
	    GR_AF_V6 : 0;
}

static int
af_family(uint8_t bit)
{
	return bit == GR_AF_V4 ? AF_INET : AF_INET6;
}

static const char *
af_name(uint8_t bit)
{
	return bit == GR_AF_V4 ? "IPv4 unicast" : "IPv6 unicast";
}

/* The families negotiated on the current session. */
static uint8_t
af_negotiated(const struct peer *p)
{
	return (p->af_v4 ? GR_AF_V4 : 0) | (p->af_v6 ? GR_AF_V6 : 0);
}

void
gr_open_caps(const struct bgp *b, struct bgp_caps *c)
{
	c->flags |= BGP_CAPS_F_GR;
	c->gr_flags = b->gr_restarting ? BGP_GR_F_RESTART : 0;
	c->gr_time = BGP_GR_TIME;
	c->n_gr = 2;
	c->gr[0] = (struct bgp_gr_af){ BGP_AFI_IPV4, BGP_SAFI_UNICAST,
	    BGP_GR_AF_F_FORWARDING };
	c->gr[1] = (struct bgp_gr_af){ BGP_AFI_IPV6, BGP_SAFI_UNICAST,
	    BGP_GR_AF_F_FORWARDING };
}

void
gr_open_negotiate(struct peer *p, const struct bgp_open *o)
{
	uint8_t i, bit;

	p->gr = (o->caps.flags & BGP_CAPS_F_GR) != 0;
	p->gr_time = p->gr ? o->caps.gr_time : 0;
	p->gr_flags = p->gr ? o->caps.gr_flags : 0;
	p->gr_af = p->gr_fwd = 0;
	for (i = 0; p->gr && i < o->caps.n_gr && i < BGP_CAPS_GR_MAX; i++) {
		bit = af_bit(o->caps.gr[i].afi, o->caps.gr[i].safi);
		p->gr_af |= bit;
		if (o->caps.gr[i].flags & BGP_GR_AF_F_FORWARDING)
			p->gr_fwd |= bit;
	}
}

bool
gr_retain(const struct peer *p, enum bgp_event ev)
{
	if (!p->gr || p->gr_time == 0 || p->gr_af == 0)
		return false;
	switch (ev) {
	case BGP_EV_HOLD_TIMER:		/* a silent peer: it may be rebooting */
		return true;
	case BGP_EV_TCP_FAILS:		/* closed or reset, no NOTIFICATION */
	case BGP_EV_OPEN:		/* a new connection's OPEN replaced it */
		return !p->conn.notified;
	default:
		return false;
	}
}

/* Remove p's stale paths of the families in bits; log what went. */
static void
stale_flush(struct peer *p, uint8_t bits, const char *why)
{
	size_t n;

	for (uint8_t bit = GR_AF_V4; bit <= GR_AF_V6; bit <<= 1) {
		if (!(bits & bit & p->gr_stale_af))
			continue;
		p->gr_stale_af &= (uint8_t)~bit;
		n = rde_peer_flush(p, af_family(bit), true);
		if (n > 0)
			log_info("neighbor %s: graceful restart: %s: removed %zu "
			    "stale %s routes", peer_addr(p), why, n,
			    af_name(bit));
	}
	if (p->gr_stale_af == 0)
		timer_stop(&p->gr_timer);
}

void
gr_peer_down(struct peer *p)
{
	struct rde *r = p->bgp->rde;
	struct rde_prefix *rp;
	struct rde_path *x;
	struct hnode *hn, *nx;
	uint8_t keep = p->gr_af, bit;
	uint32_t s = p->gr_time < BGP_GR_RESTART_MAX_S ? p->gr_time :
	    BGP_GR_RESTART_MAX_S;
	size_t i;

	/* families it did not list go now, as without graceful restart */
	for (bit = GR_AF_V4; bit <= GR_AF_V6; bit <<= 1)
		if (!(keep & bit))
			(void)rde_peer_flush(p, af_family(bit), false);
	HTAB_FOR_EACH_SAFE(&r->ptab, i, hn, nx) {
		rp = HTAB_ENTRY(hn, struct rde_prefix, hn);
		for (x = rp->paths; x != NULL; x = x->next)
			if (x->peer == p && !x->stale) {
				x->stale = true;
				p->gr_stale++;
			}
	}
	p->gr_stale_af |= keep;
	p->gr_eor = 0;
	peer_timer_set(p, &p->gr_timer, s * 1000ULL);
	log_info("neighbor %s: graceful restart: keeping its %llu routes as "
	    "stale for up to %u s", peer_addr(p),
	    (unsigned long long)p->gr_stale, s);
}

void
gr_peer_up(struct peer *p)
{
	uint8_t keep;

	p->gr_eor = 0;
	if (p->gr_stale_af != 0) {
		/* §4.2: what the new OPEN does not preserve goes at once */
		keep = p->gr ? p->gr_af & p->gr_fwd & af_negotiated(p) : 0;
		stale_flush(p, (uint8_t)~keep, "forwarding state not "
		    "preserved (no F bit)");
		if (p->gr_stale_af != 0) {
			peer_timer_set(p, &p->gr_timer,
			    BGP_GR_STALE_S * 1000ULL);
			log_info("neighbor %s: graceful restart: back; %llu "
			    "stale routes wait for its End-of-RIB", peer_addr(p),
			    (unsigned long long)p->gr_stale);
		}
	}
	gr_check_deferral(p->bgp);
}

void
gr_eor(struct peer *p, uint16_t afi, uint8_t safi)
{
	uint8_t bit = af_bit(afi, safi);

	if (bit == 0)
		return;
	p->gr_eor |= bit;
	stale_flush(p, bit, "End-of-RIB");
	gr_check_deferral(p->bgp);
}

void
gr_stop(struct peer *p)
{
	timer_stop(&p->gr_timer);
	if (p->gr_stale_af != 0)
		stale_flush(p, GR_AF_V4 | GR_AF_V6, "peer stopped");
}

/* ---- restarting speaker: the selection deferral ---- */

bool
gr_deferring(const struct bgp *b)
{
	return b->gr_restarting;
}

static void
defer_end(struct bgp *b, const char *why)
{
	if (!b->gr_restarting)
		return;
	b->gr_restarting = false;
	timer_stop(&b->gr_defer);
	log_info("bgp: graceful restart: %s; selecting routes, removing the "
	    "kernel's stale ones, sending our tables", why);
	rde_decide_all(b);
	if (msgq_put_ctl(b->to_local, LD_MSG_KR_SWEEP, 0) < 0)
		log_warnx("bgp: graceful restart: out of memory; the stale "
		    "learned routes stay until the next restart");
}

void
gr_check_deferral(struct bgp *b)
{
	const struct peer *p;
	struct hnode *hn, *nx;
	uint8_t need;
	size_t i;

	if (!b->gr_restarting)
		return;
	for (p = b->peers; p != NULL; p = p->next) {
		if (p->deleted)
			continue;
		if (p->state != BGP_STATE_ESTABLISHED)
			return;
		/* §4.1: not waited for: no capability, or restarting too */
		if (!p->gr || (p->gr_flags & BGP_GR_F_RESTART))
			continue;
		need = af_negotiated(p);
		if ((p->gr_eor & need) != need)
			return;
	}
	/* and the local side answered for every next hop (an unanswered
	 * one is not usable: its routes would be swept, then come back) */
	HTAB_FOR_EACH_SAFE(&b->rde->ntab, i, hn, nx)
		if (HTAB_ENTRY(hn, struct rde_nexthop, hn)->state ==
		    LD_NH_UNKNOWN)
			return;		/* NH_STATE calls us again */
	defer_end(b, "every peer sent End-of-RIB");
}

void
gr_local_msg(struct bgp *b, const struct ld_msg *m)
{
	if (m->type != LD_MSG_GR_KEPT || m->id == 0 || b->gr_restarting)
		return;
	b->gr_restarting = true;
	b->gr_kept = m->id;
	timer_set(&b->gr_defer, BGP_GR_DEFER_S * 1000ULL);
	loop_wakeup_at(b->loop, b->gr_defer.due);
	log_info("bgp: graceful restart: the kernel kept %u learned routes; "
	    "route selection waits for the peers' End-of-RIB (at most %u s)",
	    m->id, BGP_GR_DEFER_S);
	gr_check_deferral(b);
}

uint64_t
gr_timers(struct bgp *b, uint64_t now, uint64_t next)
{
	struct peer *p;

	if (timer_expired(&b->gr_defer, now))
		defer_end(b, "no End-of-RIB from every peer within the "
		    "deferral time");
	for (p = b->peers; p != NULL; p = p->next) {
		if (!timer_expired(&p->gr_timer, now))
			continue;
		timer_stop(&p->gr_timer);
		stale_flush(p, GR_AF_V4 | GR_AF_V6,
		    p->state == BGP_STATE_ESTABLISHED ?
		    "no End-of-RIB in time" : "restart time expired");
	}
	for (p = b->peers; p != NULL; p = p->next)
		if (timer_running(&p->gr_timer) &&
		    (next == 0 || p->gr_timer.due < next))
			next = p->gr_timer.due;
	if (timer_running(&b->gr_defer) &&
	    (next == 0 || b->gr_defer.due < next))
		next = b->gr_defer.due;
	return next;
}
