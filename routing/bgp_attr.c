/* bgp_attr.c — UPDATE path attributes: decoding with the RFC 7606 error
 * actions, RFC 6793 AS4_PATH / AS4_AGGREGATOR merging and splitting, and
 * encoding. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "buf.h"
#include "bgp_msg.h"
#include "bgp_msg_priv.h"

#define OT_MASK		(BGP_ATTR_F_OPTIONAL | BGP_ATTR_F_TRANSITIVE)
#define WK		BGP_ATTR_F_TRANSITIVE
#define OPT		BGP_ATTR_F_OPTIONAL
#define OPT_T		(BGP_ATTR_F_OPTIONAL | BGP_ATTR_F_TRANSITIVE)
#define UNKNOWN		0xff

/* Optional and transitive bits each known attribute must carry. */
static const uint8_t attr_expect[256] = {
	[0] = UNKNOWN,
	[BGP_ATTR_ORIGIN] = WK,
	[BGP_ATTR_AS_PATH] = WK,
	[BGP_ATTR_NEXT_HOP] = WK,
	[BGP_ATTR_MED] = OPT,
	[BGP_ATTR_LOCAL_PREF] = WK,
	[BGP_ATTR_ATOMIC_AGGREGATE] = WK,
	[BGP_ATTR_AGGREGATOR] = OPT_T,
	[BGP_ATTR_COMMUNITIES] = OPT_T,
	[BGP_ATTR_ORIGINATOR_ID] = OPT,
	[BGP_ATTR_CLUSTER_LIST] = OPT,
	[11 ... 13] = UNKNOWN,
	[BGP_ATTR_MP_REACH_NLRI] = OPT,
	[BGP_ATTR_MP_UNREACH_NLRI] = OPT,
	[16] = UNKNOWN,
	[BGP_ATTR_AS4_PATH] = OPT_T,
	[BGP_ATTR_AS4_AGGREGATOR] = OPT_T,
	[19 ... 31] = UNKNOWN,
	[BGP_ATTR_LARGE_COMMUNITY] = OPT_T,
	[33 ... 255] = UNKNOWN,
};

/* RFC 7606 §7: what a malformed instance of each attribute costs. */
static enum bgp_err_action
malformed_action(uint8_t type)
{
	switch (type) {
	case BGP_ATTR_ATOMIC_AGGREGATE:
	case BGP_ATTR_AGGREGATOR:
	case BGP_ATTR_AS4_PATH:
	case BGP_ATTR_AS4_AGGREGATOR:
		return BGP_ERR_ATTR_DISCARD;
	case BGP_ATTR_MP_REACH_NLRI:
	case BGP_ATTR_MP_UNREACH_NLRI:
		return BGP_ERR_SESSION_RESET;
	}
	return BGP_ERR_TREAT_AS_WITHDRAW;
}

struct actx {
	struct bgp_update *u;
	struct bgp_err	*err;
	bool		 as4;
	uint8_t		 seen[32];	/* bitmap of attribute types */
	const uint8_t	*attr;		/* the whole attribute, for err data */
	size_t		 attr_len;
	uint8_t		 aflags, type;
	/* RFC 6793 §4.2.3, 2-octet sessions only */
	const uint8_t	*as4_path;
	size_t		 as4_path_len;
	unsigned	 as4_path_count;
	bool		 have_as4_path, have_as4_aggr;
	uint32_t	 as4_aggr_as;
	struct in_addr	 as4_aggr_id;
};

/* Record an error about the current attribute.  Returns -EBADMSG for a
 * session reset, 1 otherwise (the attribute is not used). */
static int
attr_fail(struct actx *c, enum bgp_err_action action, uint8_t subcode,
    const char *reason)
{
	if (bgp_err_raise(c->err, action, BGP_ERRC_UPDATE, subcode, reason,
	    c->attr, c->attr_len))
		c->err->attr_type = c->type;
	return action == BGP_ERR_SESSION_RESET ? -EBADMSG : 1;
}

static int
len_fail(struct actx *c, const char *reason)
{
	return attr_fail(c, malformed_action(c->type), BGP_ERRS_UPD_ATTRLEN,
	    reason);
}

/* ---- AS paths ---- */

void
bgp_attrs_init(struct bgp_attrs *a)
{
	a->present = 0;
	a->origin = 0;
	a->aspath.nsegs = 0;
	a->aspath.nasns = 0;
	a->nexthop.s_addr = 0;
	a->med = 0;
	a->local_pref = 0;
	a->aggr_as = 0;
	a->aggr_id.s_addr = 0;
	a->originator_id = 0;
	a->n_cluster = 0;
	a->n_comm = 0;
	a->n_lcomm = 0;
	a->n_unknown = 0;
}

int
bgp_aspath_append(struct bgp_aspath *p, uint8_t type, const uint32_t *asns,
    size_t n)
{
	if (n == 0 || n > 255)
		return -EINVAL;
	if (p->nsegs >= BGP_ASPATH_SEGS_MAX ||
	    p->nasns + n > BGP_ASPATH_ASNS_MAX)
		return -ENOSPC;
	p->seg[p->nsegs].type = type;
	p->seg[p->nsegs].len = (uint8_t)n;
	p->seg[p->nsegs].off = p->nasns;
	memcpy(&p->asn[p->nasns], asns, n * sizeof(*asns));
	p->nsegs++;
	p->nasns += (uint16_t)n;
	return 0;
}

unsigned
bgp_aspath_count(const struct bgp_aspath *p)
{
	unsigned n = 0;
	uint16_t i;

	for (i = 0; i < p->nsegs; i++) {
		if (p->seg[i].type == BGP_ASSEG_SEQUENCE)
			n += p->seg[i].len;
		else if (p->seg[i].type == BGP_ASSEG_SET)
			n++;
	}
	return n;
}

bool
bgp_aspath_eq(const struct bgp_aspath *a, const struct bgp_aspath *b)
{
	uint16_t i;

	if (a->nsegs != b->nsegs || a->nasns != b->nasns)
		return false;
	for (i = 0; i < a->nsegs; i++)
		if (a->seg[i].type != b->seg[i].type ||
		    a->seg[i].len != b->seg[i].len ||
		    a->seg[i].off != b->seg[i].off)
			return false;
	return memcmp(a->asn, b->asn, a->nasns * sizeof(a->asn[0])) == 0;
}

/* Validate (and with out != NULL, append) a wire AS path.  NULL or the
 * reason it is malformed (RFC 7606 §7.2, RFC 7607, RFC 5065). */
static const char *
aspath_parse(const uint8_t *p, size_t len, unsigned asn_size, bool as4_attr,
    struct bgp_aspath *out, unsigned *ret_count)
{
	uint32_t asns[255];
	struct buf_reader r;
	bool plain_seen = false;
	unsigned count = 0;
	uint8_t type, n, i;
	uint16_t a16;

	buf_reader_init(&r, p, len);
	while (buf_left(&r) > 0) {
		if (buf_get_u8(&r, &type) == -1 || buf_get_u8(&r, &n) == -1)
			return "AS path segment header is truncated";
		if (type < BGP_ASSEG_SET || type > BGP_ASSEG_CONFED_SET)
			return "AS path segment type is unknown";
		if (n == 0)
			return "AS path segment has length 0";
		if (type >= BGP_ASSEG_CONFED_SEQUENCE) {
			if (as4_attr)
				return "AS4_PATH carries a confederation segment";
			if (plain_seen)
				return "confederation segment follows an "
				    "AS_SEQUENCE or AS_SET";
		} else
			plain_seen = true;
		if (buf_left(&r) < (size_t)n * asn_size)
			return "AS path segment overruns the attribute";
		for (i = 0; i < n; i++) {
			if (asn_size == 4)
				(void)buf_get_u32(&r, &asns[i]);
			else {
				(void)buf_get_u16(&r, &a16);
				asns[i] = a16;
			}
			if (asns[i] == 0)
				return "AS path contains AS 0";
		}
		count += type == BGP_ASSEG_SEQUENCE ? n :
		    type == BGP_ASSEG_SET ? 1 : 0;
		if (out != NULL && bgp_aspath_append(out, type, asns, n) < 0)
			return "AS path is too long";
	}
	if (ret_count != NULL)
		*ret_count = count;
	return NULL;
}

/* RFC 6793 §4.2.3: rebuild the real path and aggregator of a route that
 * crossed 2-octet speakers. */
static void
as4_merge(struct actx *c)
{
	struct bgp_attrs *a = &c->u->attrs;
	struct bgp_aspath *p = &a->aspath;
	uint16_t i, nsegs0 = p->nsegs, nasns0 = p->nasns;
	uint8_t len0 = 0;
	unsigned n, keep;

	if (c->have_as4_aggr && (a->present &
	    BGP_ATTR_BIT(BGP_ATTR_AGGREGATOR))) {
		if (a->aggr_as != BGP_AS_TRANS)
			return;		/* ignore AS4_AGGREGATOR and AS4_PATH */
		a->aggr_as = c->as4_aggr_as;
		a->aggr_id = c->as4_aggr_id;
	}
	if (!c->have_as4_path || !(a->present & BGP_ATTR_BIT(BGP_ATTR_AS_PATH)))
		return;
	n = bgp_aspath_count(p);
	if (n < c->as4_path_count)
		return;			/* AS4_PATH is ignored */
	keep = n - c->as4_path_count;
	for (i = 0; i < p->nsegs; i++) {
		struct bgp_aspath_seg *s = &p->seg[i];

		if (s->type >= BGP_ASSEG_CONFED_SEQUENCE)
			continue;
		if (keep == 0)
			break;
		if (s->type == BGP_ASSEG_SET)
			keep--;
		else if (s->len <= keep)
			keep -= s->len;
		else {
			len0 = s->len;
			s->len = (uint8_t)keep;
			keep = 0;
			i++;
			break;
		}
	}
	p->nsegs = i;
	p->nasns = i > 0 ? p->seg[i - 1].off + p->seg[i - 1].len : 0;
	if (aspath_parse(c->as4_path, c->as4_path_len, 4, true, p, NULL) !=
	    NULL) {
		/* cannot happen within the size limits; keep AS_PATH */
		p->nsegs = nsegs0;
		p->nasns = nasns0;
		if (len0 != 0)
			p->seg[i - 1].len = len0;
	}
}

/* ---- one attribute each ---- */

static bool
nexthop_valid(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	/* 0/8, 127/8, multicast, class E and broadcast are no next hops */
	return (h >> 24) != 0 && (h >> 24) != 127 && (h >> 28) < 14;
}

static int
attr_mp_reach(struct actx *c, struct buf_reader *v)
{
	struct bgp_mp_reach *m = &c->u->mp_reach;
	uint16_t afi;
	uint8_t safi, nhlen, res;
	struct buf_reader nh;
	int family;
	long cnt;

	if (buf_get_u16(v, &afi) == -1 || buf_get_u8(v, &safi) == -1 ||
	    buf_get_u8(v, &nhlen) == -1 || buf_sub(v, nhlen, &nh) == -1 ||
	    buf_get_u8(v, &res) == -1)
		return attr_fail(c, BGP_ERR_SESSION_RESET, BGP_ERRS_UPD_OPTATTR,
		    "MP_REACH_NLRI is truncated");
	family = bgp_family_of(afi, safi);
	if (family == 0)
		return 1;	/* not negotiable here: ignored */
	cnt = bgp_nlri_check(buf_cur(v), buf_left(v), family);
	if (cnt < 0)
		return attr_fail(c, BGP_ERR_SESSION_RESET, BGP_ERRS_UPD_OPTATTR,
		    "MP_REACH_NLRI carries malformed NLRI");
	memset(m, 0, sizeof(*m));
	m->nlri.afi = afi;
	m->nlri.safi = safi;
	m->nlri.raw = buf_cur(v);
	m->nlri.raw_len = buf_left(v);
	m->nlri.count = (size_t)cnt;
	m->nh_len = nhlen;
	c->u->flags |= BGP_UPD_F_MP_REACH;
	c->u->attrs.present |= BGP_ATTR_BIT(BGP_ATTR_MP_REACH_NLRI);
	if ((family == AF_INET && nhlen != 4) ||
	    (family == AF_INET6 && nhlen != 16 && nhlen != 32)) {
		/* RFC 7606 §7.11: the NLRI is intact, the family is not */
		if (bgp_err_raise(c->err, BGP_ERR_AFISAFI_DISABLE,
		    BGP_ERRC_UPDATE, BGP_ERRS_UPD_OPTATTR,
		    "MP_REACH_NLRI next hop length is wrong for the AFI",
		    c->attr, c->attr_len)) {
			c->err->afi = afi;
			c->err->safi = safi;
			c->err->attr_type = c->type;
		}
		m->nh_len = 0;
		return 0;
	}
	m->nh.family = family;
	(void)buf_get_bytes(&nh, m->nh.u.b, family == AF_INET ? 4 : 16);
	if (nhlen == 32) {
		m->nh_ll.family = AF_INET6;
		(void)buf_get_bytes(&nh, m->nh_ll.u.b, 16);
	}
	return 0;
}

static int
attr_mp_unreach(struct actx *c, struct buf_reader *v)
{
	struct bgp_nlri *n = &c->u->mp_unreach;
	uint16_t afi;
	uint8_t safi;
	int family;
	long cnt = 0;

	if (buf_get_u16(v, &afi) == -1 || buf_get_u8(v, &safi) == -1)
		return attr_fail(c, BGP_ERR_SESSION_RESET, BGP_ERRS_UPD_OPTATTR,
		    "MP_UNREACH_NLRI is truncated");
	family = bgp_family_of(afi, safi);
	if (family != 0 &&
	    (cnt = bgp_nlri_check(buf_cur(v), buf_left(v), family)) < 0)
		return attr_fail(c, BGP_ERR_SESSION_RESET, BGP_ERRS_UPD_OPTATTR,
		    "MP_UNREACH_NLRI carries malformed NLRI");
	memset(n, 0, sizeof(*n));
	n->afi = afi;
	n->safi = safi;
	n->raw = buf_cur(v);
	n->raw_len = buf_left(v);
	n->count = (size_t)cnt;	/* 0 for a family we do not parse */
	c->u->flags |= BGP_UPD_F_MP_UNREACH;
	c->u->attrs.present |= BGP_ATTR_BIT(BGP_ATTR_MP_UNREACH_NLRI);
	return 0;
}

static int
attr_unknown(struct actx *c, struct buf_reader *v)
{
	struct bgp_attrs *a = &c->u->attrs;
	struct bgp_attr_raw *x;

	if (!(c->aflags & BGP_ATTR_F_OPTIONAL))
		return attr_fail(c, BGP_ERR_SESSION_RESET,
		    BGP_ERRS_UPD_UNKWN_WK,
		    "unrecognized well-known attribute");
	if (!(c->aflags & BGP_ATTR_F_TRANSITIVE))
		return 1;	/* optional non-transitive: quietly ignored */
	if (a->n_unknown >= BGP_UNKNOWN_ATTRS_MAX)
		return attr_fail(c, BGP_ERR_ATTR_DISCARD, BGP_ERRS_UPD_OPTATTR,
		    "too many unrecognized attributes");
	x = &a->unknown[a->n_unknown++];
	/* RFC 4271 §5: passed on with the Partial bit set */
	x->flags = (c->aflags & (OT_MASK | BGP_ATTR_F_PARTIAL)) |
	    BGP_ATTR_F_PARTIAL;
	x->type = c->type;
	x->len = (uint16_t)buf_left(v);
	x->data = buf_cur(v);
	return 0;
}

static int
attr_known(struct actx *c, struct buf_reader *v)
{
	struct bgp_attrs *a = &c->u->attrs;
	size_t len = buf_left(v), i, j;
	const char *why;
	uint16_t as16;
	uint32_t as;
	struct bgp_lcomm lc;

	switch (c->type) {
	case BGP_ATTR_ORIGIN:
		if (len != 1)
			return len_fail(c, "ORIGIN length is not 1");
		(void)buf_get_u8(v, &a->origin);
		if (a->origin > BGP_ORIGIN_INCOMPLETE)
			return attr_fail(c, BGP_ERR_TREAT_AS_WITHDRAW,
			    BGP_ERRS_UPD_ORIGIN, "ORIGIN value is undefined");
		break;
	case BGP_ATTR_AS_PATH:
		if ((why = aspath_parse(buf_cur(v), len, c->as4 ? 4 : 2, false,
		    &a->aspath, NULL)) != NULL) {
			a->aspath.nsegs = a->aspath.nasns = 0;
			return attr_fail(c, BGP_ERR_TREAT_AS_WITHDRAW,
			    BGP_ERRS_UPD_ASPATH, why);
		}
		break;
	case BGP_ATTR_NEXT_HOP:
		if (len != 4)
			return len_fail(c, "NEXT_HOP length is not 4");
		(void)buf_get_bytes(v, &a->nexthop, 4);
		if (!nexthop_valid(a->nexthop))
			return attr_fail(c, BGP_ERR_TREAT_AS_WITHDRAW,
			    BGP_ERRS_UPD_NEXTHOP,
			    "NEXT_HOP is not a unicast host address");
		break;
	case BGP_ATTR_MED:
		if (len != 4)
			return len_fail(c, "MULTI_EXIT_DISC length is not 4");
		(void)buf_get_u32(v, &a->med);
		break;
	case BGP_ATTR_LOCAL_PREF:
		if (len != 4)
			return len_fail(c, "LOCAL_PREF length is not 4");
		(void)buf_get_u32(v, &a->local_pref);
		break;
	case BGP_ATTR_ATOMIC_AGGREGATE:
		if (len != 0)
			return len_fail(c, "ATOMIC_AGGREGATE length is not 0");
		break;
	case BGP_ATTR_AGGREGATOR:
		if (len != (c->as4 ? 8u : 6u))
			return len_fail(c, c->as4 ? "AGGREGATOR length is not 8"
			    : "AGGREGATOR length is not 6");
		if (c->as4)
			(void)buf_get_u32(v, &as);
		else {
			(void)buf_get_u16(v, &as16);
			as = as16;
		}
		if (as == 0)
			return attr_fail(c, BGP_ERR_ATTR_DISCARD,
			    BGP_ERRS_UPD_OPTATTR, "AGGREGATOR carries AS 0");
		a->aggr_as = as;
		(void)buf_get_bytes(v, &a->aggr_id, 4);
		break;
	case BGP_ATTR_COMMUNITIES:
		if (len == 0 || len % 4 != 0)
			return len_fail(c, "COMMUNITIES length is not a "
			    "non-zero multiple of 4");
		for (a->n_comm = 0; buf_get_u32(v, &as) == 0 &&
		    a->n_comm < BGP_COMM_MAX;)
			a->comm[a->n_comm++] = as;
		break;
	case BGP_ATTR_ORIGINATOR_ID:
		if (len != 4)
			return len_fail(c, "ORIGINATOR_ID length is not 4");
		(void)buf_get_u32(v, &a->originator_id);
		break;
	case BGP_ATTR_CLUSTER_LIST:
		if (len == 0 || len % 4 != 0)
			return len_fail(c, "CLUSTER_LIST length is not a "
			    "non-zero multiple of 4");
		for (a->n_cluster = 0; buf_get_u32(v, &as) == 0 &&
		    a->n_cluster < BGP_CLUSTER_MAX;)
			a->cluster[a->n_cluster++] = as;
		break;
	case BGP_ATTR_MP_REACH_NLRI:
		return attr_mp_reach(c, v);
	case BGP_ATTR_MP_UNREACH_NLRI:
		return attr_mp_unreach(c, v);
	case BGP_ATTR_AS4_PATH:
		if (c->as4)
			return attr_fail(c, BGP_ERR_ATTR_DISCARD,
			    BGP_ERRS_UPD_OPTATTR,
			    "AS4_PATH on a 4-octet AS session ignored");
		if ((why = aspath_parse(buf_cur(v), len, 4, true, NULL,
		    &c->as4_path_count)) != NULL)
			return attr_fail(c, BGP_ERR_ATTR_DISCARD,
			    BGP_ERRS_UPD_OPTATTR, why);
		c->as4_path = buf_cur(v);
		c->as4_path_len = len;
		c->have_as4_path = true;
		return 0;	/* merged later, never "present" */
	case BGP_ATTR_AS4_AGGREGATOR:
		if (c->as4)
			return attr_fail(c, BGP_ERR_ATTR_DISCARD,
			    BGP_ERRS_UPD_OPTATTR,
			    "AS4_AGGREGATOR on a 4-octet AS session ignored");
		if (len != 8)
			return len_fail(c, "AS4_AGGREGATOR length is not 8");
		(void)buf_get_u32(v, &c->as4_aggr_as);
		(void)buf_get_bytes(v, &c->as4_aggr_id, 4);
		if (c->as4_aggr_as == 0)
			return attr_fail(c, BGP_ERR_ATTR_DISCARD,
			    BGP_ERRS_UPD_OPTATTR, "AS4_AGGREGATOR carries AS 0");
		c->have_as4_aggr = true;
		return 0;
	case BGP_ATTR_LARGE_COMMUNITY:
		if (len == 0 || len % 12 != 0)
			return len_fail(c, "LARGE_COMMUNITY length is not a "
			    "non-zero multiple of 12");
		a->n_lcomm = 0;
		while (buf_get_u32(v, &lc.global) == 0 &&
		    buf_get_u32(v, &lc.local1) == 0 &&
		    buf_get_u32(v, &lc.local2) == 0) {
			/* RFC 8092 §5: duplicates are removed */
			for (i = 0, j = a->n_lcomm; i < a->n_lcomm; i++)
				if (memcmp(&a->lcomm[i], &lc, sizeof(lc)) == 0)
					break;
			if (i == j && a->n_lcomm < BGP_LCOMM_MAX)
				a->lcomm[a->n_lcomm++] = lc;
		}
		break;
	default:
		return attr_unknown(c, v);
	}
	a->present |= BGP_ATTR_BIT(c->type);
	return 0;
}

/* ---- the attribute list ---- */

int
bgp_attrs_decode(struct buf_reader *r, unsigned flags,
    const struct bgp_attr_scan *scan, struct bgp_update *u,
    struct bgp_err *err)
{
	struct actx c;
	struct buf_reader v;
	const uint8_t *start;
	uint8_t len8;
	uint16_t len;
	int rc;

	memset(&c, 0, sizeof(c));
	c.u = u;
	c.err = err;
	c.as4 = (flags & BGP_MSG_F_AS4) != 0;

	while (buf_left(r) > 0) {
		start = buf_cur(r);
		if (buf_get_u8(r, &c.aflags) == -1 ||
		    buf_get_u8(r, &c.type) == -1)
			goto overrun;
		if (c.aflags & BGP_ATTR_F_EXTLEN)
			rc = buf_get_u16(r, &len);
		else {
			rc = buf_get_u8(r, &len8);
			len = len8;
		}
		if (rc == -1 || buf_sub(r, len, &v) == -1)
			goto overrun;
		c.attr = start;
		c.attr_len = (size_t)(buf_cur(r) - start);

		if (c.seen[c.type / 8] & (1u << (c.type % 8))) {
			if (c.type == BGP_ATTR_MP_REACH_NLRI ||
			    c.type == BGP_ATTR_MP_UNREACH_NLRI)
				rc = attr_fail(&c, BGP_ERR_SESSION_RESET,
				    BGP_ERRS_UPD_ATTRLIST,
				    "MP_REACH_NLRI or MP_UNREACH_NLRI appears "
				    "twice");
			else
				rc = attr_fail(&c, BGP_ERR_ATTR_DISCARD,
				    BGP_ERRS_UPD_ATTRLIST,
				    "duplicate attribute ignored");
			if (rc < 0)
				return rc;
			continue;
		}
		c.seen[c.type / 8] |= 1u << (c.type % 8);

		if (attr_expect[c.type] != UNKNOWN &&
		    (c.aflags & OT_MASK) != attr_expect[c.type]) {
			if ((rc = attr_fail(&c, malformed_action(c.type),
			    BGP_ERRS_UPD_ATTRFLAGS,
			    "attribute flags conflict with the type")) < 0)
				return rc;
			continue;
		}
		if ((rc = attr_known(&c, &v)) < 0)
			return rc;
	}
	if (!c.as4)
		as4_merge(&c);
	return 0;

overrun:
	/* RFC 7606 §4: treat-as-withdraw, relying on the total length to
	 * find the NLRI -- unless the part we cannot read may hide the MP
	 * attributes that say what to withdraw. */
	if (scan->ipv4_nlri || (u->flags &
	    (BGP_UPD_F_MP_REACH | BGP_UPD_F_MP_UNREACH))) {
		(void)bgp_err_raise(err, BGP_ERR_TREAT_AS_WITHDRAW,
		    BGP_ERRC_UPDATE, BGP_ERRS_UPD_ATTRLIST,
		    "attribute overruns the path attribute field", NULL, 0);
		if (!c.as4)
			as4_merge(&c);
		return 0;
	}
	(void)bgp_err_raise(err, BGP_ERR_SESSION_RESET, BGP_ERRC_UPDATE,
	    BGP_ERRS_UPD_ATTRLIST,
	    "attribute overruns the path attribute field", NULL, 0);
	return -EBADMSG;
}

/* ---- encoding ---- */

size_t
bgp_attr_begin(struct buf_writer *w, uint8_t aflags, uint8_t type, int *errs)
{
	size_t start = w->len;

	*errs += buf_add_u8(w, (aflags & ~BGP_ATTR_F_EXTLEN) |
	    BGP_ATTR_F_EXTLEN);
	*errs += buf_add_u8(w, type);
	*errs += buf_add_u16(w, 0);
	return start;
}

void
bgp_attr_end(struct buf_writer *w, size_t start, int *errs)
{
	size_t vlen;

	if (*errs != 0 || w->full || w->len < start + 4) {
		(*errs)++;
		return;
	}
	vlen = w->len - start - 4;
	if (vlen > 0xffff) {
		(*errs)++;
		return;
	}
	if (vlen > 255) {
		*errs += buf_set_u16_at(w, start + 2, (uint16_t)vlen);
		return;
	}
	/* the short form: one length octet */
	{
		uint8_t flags = 0;

		*errs += buf_get_u8_at(w, start, &flags);
		*errs += buf_set_u8_at(w, start, flags & (uint8_t)~BGP_ATTR_F_EXTLEN);
		*errs += buf_cut(w, start + 2, 1);
		*errs += buf_set_u8_at(w, start + 2, (uint8_t)vlen);
	}
}

static bool
aspath_needs_as4(const struct bgp_aspath *p)
{
	uint16_t i, k;

	for (i = 0; i < p->nsegs; i++) {
		if (p->seg[i].type >= BGP_ASSEG_CONFED_SEQUENCE)
			continue;
		for (k = 0; k < p->seg[i].len; k++)
			if (p->asn[p->seg[i].off + k] > 0xffff)
				return true;
	}
	return false;
}

static void
aspath_write(struct buf_writer *w, const struct bgp_aspath *p, bool as4,
    bool skip_confed, int *errs)
{
	uint16_t i, k;
	uint32_t asn;

	for (i = 0; i < p->nsegs; i++) {
		const struct bgp_aspath_seg *s = &p->seg[i];

		if (skip_confed && s->type >= BGP_ASSEG_CONFED_SEQUENCE)
			continue;
		if ((size_t)s->off + s->len > BGP_ASPATH_ASNS_MAX) {
			(*errs)++;
			return;
		}
		*errs += buf_add_u8(w, s->type);
		*errs += buf_add_u8(w, s->len);
		for (k = 0; k < s->len; k++) {
			asn = p->asn[s->off + k];
			if (as4)
				*errs += buf_add_u32(w, asn);
			else
				*errs += buf_add_u16(w, asn > 0xffff ?
				    BGP_AS_TRANS : (uint16_t)asn);
		}
	}
}

#define HAS(a, t)	(((a)->present & BGP_ATTR_BIT(t)) != 0)

int
bgp_attrs_encode(struct buf_writer *w, const struct bgp_attrs *a,
    unsigned flags)
{
	bool as4 = (flags & BGP_MSG_F_AS4) != 0;
	size_t s;
	uint16_t i;
	int errs = 0;

	if (HAS(a, BGP_ATTR_ORIGIN)) {
		s = bgp_attr_begin(w, WK, BGP_ATTR_ORIGIN, &errs);
		errs += buf_add_u8(w, a->origin);
		bgp_attr_end(w, s, &errs);
	}
	if (HAS(a, BGP_ATTR_AS_PATH)) {
		s = bgp_attr_begin(w, WK, BGP_ATTR_AS_PATH, &errs);
		aspath_write(w, &a->aspath, as4, false, &errs);
		bgp_attr_end(w, s, &errs);
	}
	if (HAS(a, BGP_ATTR_NEXT_HOP) && !(flags & BGP_MSG_F_NO_NEXTHOP)) {
		s = bgp_attr_begin(w, WK, BGP_ATTR_NEXT_HOP, &errs);
		errs += buf_add_bytes(w, &a->nexthop, 4);
		bgp_attr_end(w, s, &errs);
	}
	if (HAS(a, BGP_ATTR_MED)) {
		s = bgp_attr_begin(w, OPT, BGP_ATTR_MED, &errs);
		errs += buf_add_u32(w, a->med);
		bgp_attr_end(w, s, &errs);
	}
	if (HAS(a, BGP_ATTR_LOCAL_PREF)) {
		s = bgp_attr_begin(w, WK, BGP_ATTR_LOCAL_PREF, &errs);
		errs += buf_add_u32(w, a->local_pref);
		bgp_attr_end(w, s, &errs);
	}
	if (HAS(a, BGP_ATTR_ATOMIC_AGGREGATE)) {
		s = bgp_attr_begin(w, WK, BGP_ATTR_ATOMIC_AGGREGATE, &errs);
		bgp_attr_end(w, s, &errs);
	}
	if (HAS(a, BGP_ATTR_AGGREGATOR)) {
		s = bgp_attr_begin(w, OPT_T, BGP_ATTR_AGGREGATOR, &errs);
		if (as4)
			errs += buf_add_u32(w, a->aggr_as);
		else
			errs += buf_add_u16(w, a->aggr_as > 0xffff ?
			    BGP_AS_TRANS : (uint16_t)a->aggr_as);
		errs += buf_add_bytes(w, &a->aggr_id, 4);
		bgp_attr_end(w, s, &errs);
	}
	if (HAS(a, BGP_ATTR_COMMUNITIES) && a->n_comm > 0) {
		s = bgp_attr_begin(w, OPT_T, BGP_ATTR_COMMUNITIES, &errs);
		for (i = 0; i < a->n_comm && i < BGP_COMM_MAX; i++)
			errs += buf_add_u32(w, a->comm[i]);
		bgp_attr_end(w, s, &errs);
	}
	if (HAS(a, BGP_ATTR_ORIGINATOR_ID)) {
		s = bgp_attr_begin(w, OPT, BGP_ATTR_ORIGINATOR_ID, &errs);
		errs += buf_add_u32(w, a->originator_id);
		bgp_attr_end(w, s, &errs);
	}
	if (HAS(a, BGP_ATTR_CLUSTER_LIST) && a->n_cluster > 0) {
		s = bgp_attr_begin(w, OPT, BGP_ATTR_CLUSTER_LIST, &errs);
		for (i = 0; i < a->n_cluster && i < BGP_CLUSTER_MAX; i++)
			errs += buf_add_u32(w, a->cluster[i]);
		bgp_attr_end(w, s, &errs);
	}
	/* RFC 6793 §4.2.2: a 2-octet peer gets the real path on the side */
	if (!as4 && HAS(a, BGP_ATTR_AS_PATH) && aspath_needs_as4(&a->aspath)) {
		s = bgp_attr_begin(w, OPT_T, BGP_ATTR_AS4_PATH, &errs);
		aspath_write(w, &a->aspath, true, true, &errs);
		bgp_attr_end(w, s, &errs);
	}
	if (!as4 && HAS(a, BGP_ATTR_AGGREGATOR) && a->aggr_as > 0xffff) {
		s = bgp_attr_begin(w, OPT_T, BGP_ATTR_AS4_AGGREGATOR, &errs);
		errs += buf_add_u32(w, a->aggr_as);
		errs += buf_add_bytes(w, &a->aggr_id, 4);
		bgp_attr_end(w, s, &errs);
	}
	if (HAS(a, BGP_ATTR_LARGE_COMMUNITY) && a->n_lcomm > 0) {
		s = bgp_attr_begin(w, OPT_T, BGP_ATTR_LARGE_COMMUNITY, &errs);
		for (i = 0; i < a->n_lcomm && i < BGP_LCOMM_MAX; i++) {
			errs += buf_add_u32(w, a->lcomm[i].global);
			errs += buf_add_u32(w, a->lcomm[i].local1);
			errs += buf_add_u32(w, a->lcomm[i].local2);
		}
		bgp_attr_end(w, s, &errs);
	}
	for (i = 0; i < a->n_unknown && i < BGP_UNKNOWN_ATTRS_MAX; i++) {
		const struct bgp_attr_raw *x = &a->unknown[i];

		s = bgp_attr_begin(w, x->flags, x->type, &errs);
		errs += buf_add_bytes(w, x->data, x->len);
		bgp_attr_end(w, s, &errs);
	}
	return errs;
}

bool
bgp_attrs_eq(const struct bgp_attrs *a, const struct bgp_attrs *b)
{
	uint8_t i;

	if (a->present != b->present)
		return false;
	if ((HAS(a, BGP_ATTR_ORIGIN) && a->origin != b->origin) ||
	    (HAS(a, BGP_ATTR_AS_PATH) && !bgp_aspath_eq(&a->aspath,
	    &b->aspath)) ||
	    (HAS(a, BGP_ATTR_NEXT_HOP) &&
	    a->nexthop.s_addr != b->nexthop.s_addr) ||
	    (HAS(a, BGP_ATTR_MED) && a->med != b->med) ||
	    (HAS(a, BGP_ATTR_LOCAL_PREF) && a->local_pref != b->local_pref) ||
	    (HAS(a, BGP_ATTR_AGGREGATOR) && (a->aggr_as != b->aggr_as ||
	    a->aggr_id.s_addr != b->aggr_id.s_addr)) ||
	    (HAS(a, BGP_ATTR_ORIGINATOR_ID) &&
	    a->originator_id != b->originator_id))
		return false;
	if (HAS(a, BGP_ATTR_COMMUNITIES) && (a->n_comm != b->n_comm ||
	    memcmp(a->comm, b->comm, a->n_comm * sizeof(a->comm[0])) != 0))
		return false;
	if (HAS(a, BGP_ATTR_CLUSTER_LIST) && (a->n_cluster != b->n_cluster ||
	    memcmp(a->cluster, b->cluster,
	    a->n_cluster * sizeof(a->cluster[0])) != 0))
		return false;
	if (HAS(a, BGP_ATTR_LARGE_COMMUNITY) && (a->n_lcomm != b->n_lcomm ||
	    memcmp(a->lcomm, b->lcomm, a->n_lcomm * sizeof(a->lcomm[0])) != 0))
		return false;
	if (a->n_unknown != b->n_unknown)
		return false;
	for (i = 0; i < a->n_unknown; i++)
		if (a->unknown[i].flags != b->unknown[i].flags ||
		    a->unknown[i].type != b->unknown[i].type ||
		    a->unknown[i].len != b->unknown[i].len ||
		    (a->unknown[i].len > 0 && memcmp(a->unknown[i].data,
		    b->unknown[i].data, a->unknown[i].len) != 0))
			return false;
	return true;
}
