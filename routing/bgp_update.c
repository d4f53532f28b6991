/* bgp_update.c — UPDATE framing: withdrawn routes, NLRI, MP_REACH /
 * MP_UNREACH encoding, End-of-RIB, and the packer that fills UPDATEs up
 * to the message size limit.  Path attributes are in bgp_attr.c. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "bgp_msg.h"
#include "bgp_msg_priv.h"

int
bgp_family_of(uint16_t afi, uint8_t safi)
{
	if (safi != BGP_SAFI_UNICAST)
		return 0;
	if (afi == BGP_AFI_IPV4)
		return AF_INET;
	if (afi == BGP_AFI_IPV6)
		return AF_INET6;
	return 0;
}

/* ---- NLRI ---- */

/* The one NLRI walker (RFC 4271 §4.3): the next <length, prefix> of r as
 * a prefix of family.  1 and *ret, 0 at the end, -1 when malformed (a
 * length past the family's, or fewer octets than it needs); then r is
 * left where it was. */
static int
nlri_get(struct buf_reader *r, int family, struct prefix *ret)
{
	size_t off = r->off, nbytes;
	struct prefix p;
	uint8_t plen;

	if (buf_left(r) == 0)
		return 0;
	(void)buf_get_u8(r, &plen);
	nbytes = (plen + 7u) / 8;
	memset(&p, 0, sizeof(p));
	if (plen > (family == AF_INET ? 32 : 128) ||
	    buf_get_bytes(r, p.addr.u.b, nbytes) == -1) {
		r->off = off;
		return -1;
	}
	if (plen % 8 != 0)
		p.addr.u.b[nbytes - 1] &= (uint8_t)(0xff << (8 - plen % 8));
	p.addr.family = family;
	p.len = plen;
	*ret = p;
	return 1;
}

long
bgp_nlri_check(const uint8_t *p, size_t len, int family)
{
	struct buf_reader r;
	struct prefix pfx;
	long n = 0;
	int rc;

	buf_reader_init(&r, p, len);
	while ((rc = nlri_get(&r, family, &pfx)) == 1)
		n++;
	return rc < 0 ? -1 : n;
}

void
bgp_nlri_iter_init(const struct bgp_nlri *n, struct bgp_nlri_iter *it)
{
	it->r.p = n->raw;
	it->r.len = n->raw != NULL ? n->raw_len : 0;
	it->r.off = 0;
	it->family = bgp_family_of(n->afi, n->safi);
}

int
bgp_nlri_next(struct bgp_nlri_iter *it, struct prefix *ret)
{
	struct buf_reader r = { it->r.p, it->r.len, it->r.off };

	if (it->family == 0)
		return 0;
	/* not validated: stop rather than overrun */
	if (nlri_get(&r, it->family, ret) != 1)
		return 0;
	it->r.off = r.off;
	return 1;
}

static int
nlri_add_prefix(struct buf_writer *w, const struct prefix *p)
{
	uint8_t b[16];
	size_t nbytes = (p->len + 7u) / 8;
	int errs = 0;

	memcpy(b, p->addr.u.b, nbytes);
	if (p->len % 8 != 0)
		b[nbytes - 1] &= (uint8_t)(0xff << (8 - p->len % 8));
	errs += buf_add_u8(w, p->len);
	errs += buf_add_bytes(w, b, nbytes);
	return errs;
}

static bool
prefix_ok(const struct prefix *p, int family)
{
	return p->addr.family == family && p->len <= prefix_maxlen(family);
}

int
bgp_nlri_encode(struct buf_writer *w, const struct bgp_nlri *n, int family)
{
	size_t i;
	int errs = 0;

	if (n->pfx == NULL)
		return buf_add_bytes(w, n->raw, n->raw != NULL ? n->raw_len : 0);
	for (i = 0; i < n->npfx; i++) {
		if (!prefix_ok(&n->pfx[i], family))
			return -EINVAL;
		errs += nlri_add_prefix(w, &n->pfx[i]);
	}
	return errs;
}

bool
bgp_nlri_eq(const struct bgp_nlri *a, const struct bgp_nlri *b)
{
	struct bgp_nlri_iter ia, ib;
	struct prefix pa, pb;
	size_t i = 0, j = 0;
	int ra, rb;

	if (a->afi != b->afi || a->safi != b->safi)
		return false;
	if (bgp_family_of(a->afi, a->safi) == 0)	/* carried opaque */
		return a->pfx == NULL && b->pfx == NULL &&
		    a->raw_len == b->raw_len && (a->raw_len == 0 ||
		    memcmp(a->raw, b->raw, a->raw_len) == 0);
	bgp_nlri_iter_init(a, &ia);
	bgp_nlri_iter_init(b, &ib);
	for (;;) {
		if (a->pfx != NULL)
			ra = i < a->npfx ? (pa = a->pfx[i++], 1) : 0;
		else
			ra = bgp_nlri_next(&ia, &pa);
		if (b->pfx != NULL)
			rb = j < b->npfx ? (pb = b->pfx[j++], 1) : 0;
		else
			rb = bgp_nlri_next(&ib, &pb);
		if (ra != rb)
			return false;
		if (ra == 0)
			return true;
		prefix_mask(&pa);
		prefix_mask(&pb);
		if (!prefix_eq(&pa, &pb))
			return false;
	}
}

/* ---- decode ---- */

static int
reset_upd(struct bgp_err *err, const char *reason)
{
	(void)bgp_err_raise(err, BGP_ERR_SESSION_RESET, BGP_ERRC_UPDATE,
	    BGP_ERRS_UPD_ATTRLIST, reason, NULL, 0);
	return -EBADMSG;
}

static int
nlri_section(struct buf_reader *r, uint16_t afi, struct bgp_nlri *n,
    const char *reason, struct bgp_err *err)
{
	long cnt;

	memset(n, 0, sizeof(*n));
	n->afi = afi;
	n->safi = BGP_SAFI_UNICAST;
	n->raw = buf_cur(r);
	n->raw_len = buf_left(r);
	cnt = bgp_nlri_check(n->raw, n->raw_len, AF_INET);
	if (cnt < 0) {
		/* RFC 7606 §5.3: an unparseable NLRI field resets */
		n->raw_len = 0;
		(void)bgp_err_raise(err, BGP_ERR_SESSION_RESET, BGP_ERRC_UPDATE,
		    BGP_ERRS_UPD_NETWORK, reason, NULL, 0);
		return -EBADMSG;
	}
	n->count = (size_t)cnt;
	return 0;
}

static const uint8_t *
missing_wk(const struct bgp_update *u)
{
	static const uint8_t origin = BGP_ATTR_ORIGIN, aspath = BGP_ATTR_AS_PATH,
	    nexthop = BGP_ATTR_NEXT_HOP;
	uint64_t have = u->attrs.present;

	if (!(have & BGP_ATTR_BIT(BGP_ATTR_ORIGIN)))
		return &origin;
	if (!(have & BGP_ATTR_BIT(BGP_ATTR_AS_PATH)))
		return &aspath;
	/* RFC 4760 §3: NEXT_HOP is needed only for IPv4 NLRI */
	if (u->nlri.count > 0 && !(have & BGP_ATTR_BIT(BGP_ATTR_NEXT_HOP)))
		return &nexthop;
	return NULL;
}

int
bgp_update_decode(const uint8_t *msg, size_t len, unsigned flags,
    struct bgp_update *ret, struct bgp_err *err)
{
	struct buf_reader r, wd, attrs;
	struct bgp_attr_scan scan;
	uint16_t wd_len, attr_len;
	const uint8_t *miss;
	int rc;

	if ((rc = bgp_msg_open_body(msg, len, BGP_MSG_UPDATE, &r, err)) < 0)
		return rc;
	ret->flags = 0;
	ret->eor_afi = 0;
	ret->eor_safi = 0;
	memset(&ret->mp_reach, 0, sizeof(ret->mp_reach));
	memset(&ret->mp_unreach, 0, sizeof(ret->mp_unreach));
	memset(&ret->nlri, 0, sizeof(ret->nlri));
	memset(&ret->withdrawn, 0, sizeof(ret->withdrawn));
	bgp_attrs_init(&ret->attrs);

	if (buf_get_u16(&r, &wd_len) == -1 || buf_sub(&r, wd_len, &wd) == -1)
		return reset_upd(err, "withdrawn routes length overruns the "
		    "message");
	if (buf_get_u16(&r, &attr_len) == -1 ||
	    buf_sub(&r, attr_len, &attrs) == -1)
		return reset_upd(err, "total path attribute length overruns "
		    "the message");
	if ((rc = nlri_section(&wd, BGP_AFI_IPV4, &ret->withdrawn,
	    "withdrawn routes field is malformed", err)) < 0)
		return rc;
	if ((rc = nlri_section(&r, BGP_AFI_IPV4, &ret->nlri,
	    "NLRI field is malformed", err)) < 0)
		return rc;

	if (wd_len == 0 && attr_len == 0 && ret->nlri.raw_len == 0) {
		ret->flags |= BGP_UPD_F_EOR;
		ret->eor_afi = BGP_AFI_IPV4;
		ret->eor_safi = BGP_SAFI_UNICAST;
		return 0;
	}

	scan.ipv4_nlri = ret->nlri.count > 0;
	if ((rc = bgp_attrs_decode(&attrs, flags, &scan, ret, err)) < 0)
		return rc;

	if (ret->nlri.count > 0 || ((ret->flags & BGP_UPD_F_MP_REACH) &&
	    ret->mp_reach.nlri.count > 0)) {
		if ((miss = missing_wk(ret)) != NULL)
			(void)bgp_err_raise(err, BGP_ERR_TREAT_AS_WITHDRAW,
			    BGP_ERRC_UPDATE,
			    BGP_ERRS_UPD_MISSING_WK,
			    "a well-known mandatory attribute is missing",
			    miss, 1);
	}

	/* RFC 4724 §2: an UPDATE whose only content is an empty MP_UNREACH */
	if (ret->attrs.present == BGP_ATTR_BIT(BGP_ATTR_MP_UNREACH_NLRI) &&
	    ret->attrs.n_unknown == 0 && wd_len == 0 &&
	    ret->nlri.raw_len == 0 && ret->mp_unreach.raw_len == 0) {
		/* reported in one form whichever way it was sent */
		ret->flags = BGP_UPD_F_EOR;
		ret->eor_afi = ret->mp_unreach.afi;
		ret->eor_safi = ret->mp_unreach.safi;
		ret->attrs.present = 0;
	}
	return 0;
}

/* ---- encode ---- */

static void
mp_reach_encode(struct buf_writer *w, const struct bgp_mp_reach *m,
    int *errs)
{
	int family = bgp_family_of(m->nlri.afi, m->nlri.safi);
	size_t start;
	int rc;

	start = bgp_attr_begin(w, BGP_ATTR_F_OPTIONAL, BGP_ATTR_MP_REACH_NLRI,
	    errs);
	*errs += buf_add_u16(w, m->nlri.afi);
	*errs += buf_add_u8(w, m->nlri.safi);
	if (family == AF_INET) {
		*errs += buf_add_u8(w, 4);
		*errs += buf_add_bytes(w, m->nh.u.b, 4);
	} else if (ipaddr_is_set(&m->nh_ll)) {
		*errs += buf_add_u8(w, 32);
		*errs += buf_add_bytes(w, m->nh.u.b, 16);
		*errs += buf_add_bytes(w, m->nh_ll.u.b, 16);
	} else {
		*errs += buf_add_u8(w, 16);
		*errs += buf_add_bytes(w, m->nh.u.b, 16);
	}
	*errs += buf_add_u8(w, 0);	/* reserved */
	rc = bgp_nlri_encode(w, &m->nlri, family);
	*errs += rc < 0 ? 1 : rc;
	bgp_attr_end(w, start, errs);
}

static void
mp_unreach_encode(struct buf_writer *w, const struct bgp_nlri *n, int *errs)
{
	size_t start;
	int rc;

	start = bgp_attr_begin(w, BGP_ATTR_F_OPTIONAL, BGP_ATTR_MP_UNREACH_NLRI,
	    errs);
	*errs += buf_add_u16(w, n->afi);
	*errs += buf_add_u8(w, n->safi);
	rc = bgp_nlri_encode(w, n, bgp_family_of(n->afi, n->safi));
	*errs += rc < 0 ? 1 : rc;
	bgp_attr_end(w, start, errs);
}

static bool
nlri_valid(const struct bgp_nlri *n, int family)
{
	size_t i;

	if (n->pfx == NULL)
		return true;
	for (i = 0; i < n->npfx; i++)
		if (!prefix_ok(&n->pfx[i], family))
			return false;
	return true;
}

int
bgp_eor_encode(uint16_t afi, uint8_t safi, uint8_t *buf, size_t size)
{
	struct buf_writer w;
	size_t start;
	int errs = 0;

	bgp_msg_begin(&w, buf, size, BGP_MSG_UPDATE, &errs);
	errs += buf_add_u16(&w, 0);
	if (afi == BGP_AFI_IPV4 && safi == BGP_SAFI_UNICAST) {
		errs += buf_add_u16(&w, 0);
		return bgp_msg_finish(&w, errs);
	}
	errs += buf_add_u16(&w, 6);
	start = bgp_attr_begin(&w, BGP_ATTR_F_OPTIONAL,
	    BGP_ATTR_MP_UNREACH_NLRI, &errs);
	errs += buf_add_u16(&w, afi);
	errs += buf_add_u8(&w, safi);
	bgp_attr_end(&w, start, &errs);
	return bgp_msg_finish(&w, errs);
}

int
bgp_update_encode(const struct bgp_update *u, unsigned flags, uint8_t *buf,
    size_t size)
{
	struct buf_writer w;
	size_t len_off, start;
	int errs = 0, rc;

	if (u->flags & BGP_UPD_F_EOR)
		return bgp_eor_encode(u->eor_afi, u->eor_safi, buf, size);
	if (!nlri_valid(&u->withdrawn, AF_INET) ||
	    !nlri_valid(&u->nlri, AF_INET) ||
	    ((u->flags & BGP_UPD_F_MP_REACH) && !nlri_valid(&u->mp_reach.nlri,
	    bgp_family_of(u->mp_reach.nlri.afi, u->mp_reach.nlri.safi))) ||
	    ((u->flags & BGP_UPD_F_MP_UNREACH) && !nlri_valid(&u->mp_unreach,
	    bgp_family_of(u->mp_unreach.afi, u->mp_unreach.safi))))
		return -EINVAL;

	bgp_msg_begin(&w, buf, size, BGP_MSG_UPDATE, &errs);
	len_off = w.len;
	errs += buf_add_u16(&w, 0);
	start = w.len;
	rc = bgp_nlri_encode(&w, &u->withdrawn, AF_INET);
	errs += rc < 0 ? 1 : rc;
	errs += buf_set_u16_at(&w, len_off, (uint16_t)(w.len - start));

	len_off = w.len;
	errs += buf_add_u16(&w, 0);
	start = w.len;
	if (u->flags & BGP_UPD_F_MP_REACH)
		mp_reach_encode(&w, &u->mp_reach, &errs);
	if (u->flags & BGP_UPD_F_MP_UNREACH)
		mp_unreach_encode(&w, &u->mp_unreach, &errs);
	rc = bgp_attrs_encode(&w, &u->attrs, flags);
	errs += rc < 0 ? 1 : rc;
	errs += buf_set_u16_at(&w, len_off, (uint16_t)(w.len - start));
	rc = bgp_nlri_encode(&w, &u->nlri, AF_INET);
	errs += rc < 0 ? 1 : rc;
	/* an UPDATE with nothing in it is the IPv4 End-of-RIB marker: only
	 * send that when asked to (BGP_UPD_F_EOR) */
	if (errs == 0 && w.len == BGP_UPDATE_MIN_LEN)
		return -ENODATA;
	return bgp_msg_finish(&w, errs);
}

/* ---- packing ---- */

/* Write the part of one packed UPDATE that precedes the prefixes and
 * leave the writer where they go.  *patch_wd is the withdrawn routes
 * length; for IPv6 *patch_attr and *patch_mp are the total path attribute
 * and MP attribute lengths to fill in once the prefixes are known. */
static int
pack_begin(const struct bgp_pack *pk, int family, struct buf_writer *w,
    uint8_t *buf, size_t max, size_t *patch_wd, size_t *patch_attr,
    size_t *patch_mp, size_t *attr_start)
{
	int errs = 0, rc;

	*patch_wd = *patch_attr = *patch_mp = 0;
	bgp_msg_begin(w, buf, max, BGP_MSG_UPDATE, &errs);
	*patch_wd = w->len;
	errs += buf_add_u16(w, 0);
	if (family == AF_INET) {
		errs += buf_add_u16(w, 0);
		*attr_start = w->len;
		if (pk->attrs != NULL) {
			rc = bgp_attrs_encode(w, pk->attrs, pk->flags);
			errs += rc < 0 ? 1 : rc;
			errs += buf_set_u16_at(w, *patch_wd + 2,
			    (uint16_t)(w->len - *attr_start));
		}
		return errs ? -EMSGSIZE : 0;
	}
	*patch_attr = w->len;
	errs += buf_add_u16(w, 0);
	*attr_start = w->len;
	/* the MP attribute goes first and always uses a 2-octet length so
	 * it can grow past 255 while prefixes are added */
	errs += buf_add_u8(w, BGP_ATTR_F_OPTIONAL | BGP_ATTR_F_EXTLEN);
	errs += buf_add_u8(w, pk->attrs != NULL ? BGP_ATTR_MP_REACH_NLRI :
	    BGP_ATTR_MP_UNREACH_NLRI);
	*patch_mp = w->len;
	errs += buf_add_u16(w, 0);
	errs += buf_add_u16(w, BGP_AFI_IPV6);
	errs += buf_add_u8(w, BGP_SAFI_UNICAST);
	if (pk->attrs != NULL) {
		bool ll = ipaddr_is_set(&pk->mp_nh_ll);

		errs += buf_add_u8(w, ll ? 32 : 16);
		errs += buf_add_bytes(w, pk->mp_nh.u.b, 16);
		if (ll)
			errs += buf_add_bytes(w, pk->mp_nh_ll.u.b, 16);
		errs += buf_add_u8(w, 0);
	}
	return errs ? -EMSGSIZE : 0;
}

int
bgp_update_pack(const struct bgp_pack *pk, int family,
    const struct prefix *pfx, size_t npfx)
{
	uint8_t buf[BGP_MSG_MAX], tail[BGP_MSG_MAX];
	struct buf_writer w, t;
	size_t max = pk->max != 0 ? pk->max : BGP_MSG_MAX;
	size_t patch_wd, patch_attr, patch_mp, attr_start, mp_end, fixed;
	size_t i = 0, tail_len = 0;
	int msgs = 0, rc, errs;

	if (max > BGP_MSG_MAX || max < BGP_UPDATE_MIN_LEN)
		return -EINVAL;
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	for (i = 0; i < npfx; i++)
		if (!prefix_ok(&pfx[i], family))
			return -EINVAL;
	/* IPv6 announcements carry the other attributes after MP_REACH:
	 * encode them once, append them to each message. */
	if (family == AF_INET6 && pk->attrs != NULL) {
		buf_writer_init(&t, tail, sizeof(tail));
		if ((rc = bgp_attrs_encode(&t, pk->attrs,
		    pk->flags | BGP_MSG_F_NO_NEXTHOP)) != 0)
			return rc < 0 ? rc : -EMSGSIZE;
		tail_len = t.len;
	}
	i = 0;
	while (i < npfx) {
		if ((rc = pack_begin(pk, family, &w, buf, max, &patch_wd,
		    &patch_attr, &patch_mp, &attr_start)) < 0)
			return rc;
		fixed = w.len;
		while (i < npfx) {
			size_t need = 1 + (pfx[i].len + 7u) / 8;

			if (w.len + need + tail_len > max)
				break;
			errs = nlri_add_prefix(&w, &pfx[i]);
			if (errs != 0)
				return -EMSGSIZE;
			i++;
		}
		if (w.len == fixed)
			return -EMSGSIZE;	/* attributes leave no room */
		errs = 0;
		if (family == AF_INET && pk->attrs == NULL) {
			/* the prefixes went where NLRI goes: move them into
			 * the withdrawn routes field */
			size_t n = w.len - fixed;

			memmove(buf + patch_wd + 2, buf + fixed, n);
			w.len = patch_wd + 2 + n;
			errs += buf_set_u16_at(&w, patch_wd, (uint16_t)n);
			errs += buf_add_u16(&w, 0);
		} else if (family == AF_INET6) {
			mp_end = w.len;
			errs += buf_set_u16_at(&w, patch_mp,
			    (uint16_t)(mp_end - patch_mp - 2));
			errs += buf_add_bytes(&w, tail, tail_len);
			errs += buf_set_u16_at(&w, patch_attr,
			    (uint16_t)(w.len - attr_start));
		}
		if ((rc = bgp_msg_finish(&w, errs)) < 0)
			return rc;
		msgs++;
		if ((rc = pk->emit(buf, w.len, pk->arg)) != 0)
			return rc;
	}
	return msgs;
}
