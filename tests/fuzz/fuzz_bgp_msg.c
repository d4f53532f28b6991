/* fuzz_bgp_msg.c — libFuzzer target for the BGP message decoder.
 *
 * Every input is decoded as one message twice, on a 4-octet and on a
 * 2-octet AS session.  Whatever decodes cleanly is encoded again, and the
 * new bytes must decode cleanly to the same thing.  Any difference aborts,
 * so libFuzzer keeps the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp_msg.h"

static uint8_t out[BGP_MSG_MAX];
static struct bgp_update u1, u2;
static struct bgp_err e1, e2;

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static bool
caps_eq(const struct bgp_caps *a, const struct bgp_caps *b)
{
	return a->flags == b->flags && a->as4 == b->as4 &&
	    a->n_mp == b->n_mp &&
	    memcmp(a->mp, b->mp, a->n_mp * sizeof(a->mp[0])) == 0 &&
	    (!(a->flags & BGP_CAPS_F_GR) || (a->gr_flags == b->gr_flags &&
	    a->gr_time == b->gr_time && a->n_gr == b->n_gr &&
	    memcmp(a->gr, b->gr, a->n_gr * sizeof(a->gr[0])) == 0));
}

static void
fuzz_open(const uint8_t *m, size_t len)
{
	struct bgp_open o1, o2;
	int n;

	memset(&o1, 0, sizeof(o1));
	memset(&o2, 0, sizeof(o2));
	if (bgp_open_decode(m, len, &o1, &e1) < 0) {
		CHECK(e1.action == BGP_ERR_SESSION_RESET && e1.reason != NULL);
		CHECK(bgp_notification_from_err(&e1, out, sizeof(out)) > 0);
		return;
	}
	(void)bgp_open_check_peer_as(&o1, o1.as, &e2);
	n = bgp_open_encode(&o1, out, sizeof(out));
	CHECK(n > 0);
	CHECK(bgp_open_decode(out, (size_t)n, &o2, &e2) == 0);
	CHECK(o1.version == o2.version && o1.my_as == o2.my_as &&
	    o1.as == o2.as && o1.holdtime == o2.holdtime &&
	    o1.bgpid == o2.bgpid);
	CHECK(caps_eq(&o1.caps, &o2.caps));
}

static bool
mp_reach_eq(const struct bgp_mp_reach *a, const struct bgp_mp_reach *b)
{
	return bgp_nlri_eq(&a->nlri, &b->nlri) && a->nh_len == b->nh_len &&
	    ipaddr_eq(&a->nh, &b->nh) && ipaddr_eq(&a->nh_ll, &b->nh_ll);
}

static void
walk(const struct bgp_nlri *n)
{
	struct bgp_nlri_iter it;
	struct prefix p;
	size_t cnt = 0;

	bgp_nlri_iter_init(n, &it);
	while (bgp_nlri_next(&it, &p) == 1) {
		CHECK(p.len <= prefix_maxlen(p.addr.family));
		cnt++;
	}
	CHECK(cnt == n->count);
}

static void
fuzz_update(const uint8_t *m, size_t len, unsigned flags)
{
	int rc, n;

	rc = bgp_update_decode(m, len, flags, &u1, &e1);
	if (rc < 0) {
		CHECK(rc == -EBADMSG && e1.action == BGP_ERR_SESSION_RESET);
		CHECK(e1.code == BGP_ERRC_UPDATE && e1.reason != NULL);
		CHECK(bgp_notification_from_err(&e1, out, sizeof(out)) > 0);
		return;
	}
	CHECK(e1.action != BGP_ERR_SESSION_RESET);
	/* whatever is to be withdrawn must be readable */
	walk(&u1.withdrawn);
	walk(&u1.nlri);
	if (u1.flags & BGP_UPD_F_MP_REACH)
		walk(&u1.mp_reach.nlri);
	if (u1.flags & BGP_UPD_F_MP_UNREACH)
		walk(&u1.mp_unreach);
	if (e1.action != BGP_ERR_NONE && e1.action != BGP_ERR_ATTR_DISCARD)
		return;

	n = bgp_update_encode(&u1, flags, out, sizeof(out));
	if (n == -EMSGSIZE)
		return;		/* a merged AS path can outgrow the message */
	if (n == -ENODATA) {
		/* only ignored attributes: nothing to send */
		CHECK(u1.flags == 0 && u1.attrs.present == 0 &&
		    u1.attrs.n_unknown == 0 && u1.withdrawn.count == 0 &&
		    u1.nlri.count == 0);
		return;
	}
	CHECK(n > 0);
	rc = bgp_update_decode(out, (size_t)n, flags, &u2, &e2);
	CHECK(rc == 0 && e2.action == BGP_ERR_NONE);
	CHECK(u1.flags == u2.flags);
	if (u1.flags & BGP_UPD_F_EOR) {
		CHECK(u1.eor_afi == u2.eor_afi && u1.eor_safi == u2.eor_safi);
		return;
	}
	CHECK(bgp_nlri_eq(&u1.withdrawn, &u2.withdrawn));
	CHECK(bgp_nlri_eq(&u1.nlri, &u2.nlri));
	CHECK(bgp_attrs_eq(&u1.attrs, &u2.attrs));
	if (u1.flags & BGP_UPD_F_MP_REACH)
		CHECK(mp_reach_eq(&u1.mp_reach, &u2.mp_reach));
	if (u1.flags & BGP_UPD_F_MP_UNREACH)
		CHECK(bgp_nlri_eq(&u1.mp_unreach, &u2.mp_unreach));
}

static void
fuzz_one(const uint8_t *m, size_t len, unsigned flags)
{
	struct bgp_hdr h;
	struct bgp_notification n1, n2;
	struct bgp_route_refresh r1, r2;
	char text[256];
	int n;

	if (bgp_hdr_decode(m, len, &h, &e1) < 0)
		return;
	CHECK(h.len >= BGP_HDR_LEN && h.len <= BGP_MSG_MAX);
	if (h.len > len)
		return;		/* the rest of the message has not arrived */
	switch (h.type) {
	case BGP_MSG_OPEN:
		fuzz_open(m, len);
		break;
	case BGP_MSG_UPDATE:
		fuzz_update(m, len, flags);
		break;
	case BGP_MSG_NOTIFICATION:
		CHECK(bgp_notification_decode(m, len, &n1, &e1) == 0);
		(void)bgp_notification_shutdown_text(&n1, text, sizeof(text));
		n = bgp_notification_encode(&n1, out, sizeof(out));
		CHECK(n == h.len);
		CHECK(bgp_notification_decode(out, (size_t)n, &n2, &e2) == 0);
		CHECK(n1.code == n2.code && n1.subcode == n2.subcode &&
		    n1.data_len == n2.data_len &&
		    memcmp(n1.data, n2.data, n1.data_len) == 0);
		(void)bgp_suberr_name(n1.code, n1.subcode);
		break;
	case BGP_MSG_KEEPALIVE:
		CHECK(bgp_keepalive_decode(m, len, &e1) == 0);
		break;
	case BGP_MSG_ROUTE_REFRESH:
		CHECK(bgp_rr_decode(m, len, &r1, &e1) == 0);
		n = bgp_rr_encode(&r1, out, sizeof(out));
		CHECK(n == BGP_RREFRESH_LEN);
		CHECK(bgp_rr_decode(out, (size_t)n, &r2, &e2) == 0);
		CHECK(memcmp(&r1, &r2, sizeof(r1)) == 0 ||
		    (r1.afi == r2.afi && r1.safi == r2.safi &&
		    r1.subtype == r2.subtype));
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one(data, size, BGP_MSG_F_AS4);
	fuzz_one(data, size, 0);
	return 0;
}
