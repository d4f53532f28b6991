/* test_bgp_msg.c — BGP message codec: every message type encoded and
 * compared with byte arrays written from the RFC layouts, decoded back,
 * and the UPDATE packer.  With BGP_CORPUS_DIR set, every message built
 * here is also written there as a fuzzer seed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "bgp_msg.h"

#define M16 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

static uint8_t buf[BGP_MSG_MAX];
static struct bgp_update upd, upd2;
static struct bgp_err err;

static void
corpus_save(const char *name, const uint8_t *msg, size_t len)
{
	const char *dir = getenv("BGP_CORPUS_DIR");
	char path[512];
	FILE *f;

	if (dir == NULL || *dir == '\0')
		return;
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	(void)fwrite(msg, 1, len, f);
	(void)fclose(f);
}

static struct prefix
pfx(const char *s)
{
	struct prefix p;

	assert_int_equal(prefix_parse(s, 0, &p), 0);
	return p;
}

static struct in_addr
v4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static void
expect_prefixes(const struct bgp_nlri *n, const char *const *want, size_t nw)
{
	struct bgp_nlri_iter it;
	struct prefix p;
	char s[PREFIX_STRLEN];
	size_t i = 0;

	assert_int_equal(n->count, nw);
	bgp_nlri_iter_init(n, &it);
	while (bgp_nlri_next(&it, &p) == 1) {
		assert_true(i < nw);
		assert_string_equal(prefix_fmt(&p, s, sizeof(s)), want[i]);
		i++;
	}
	assert_int_equal(i, nw);
}

/* ---- KEEPALIVE, NOTIFICATION, ROUTE-REFRESH ---- */

static void
test_keepalive(void **state)
{
	static const uint8_t want[] = { M16, 0x00, 0x13, 0x04 };
	int len;

	(void)state;
	len = bgp_keepalive_encode(buf, sizeof(buf));
	assert_int_equal(len, 19);
	assert_memory_equal(buf, want, sizeof(want));
	corpus_save("keepalive", buf, (size_t)len);
	assert_int_equal(bgp_keepalive_decode(want, sizeof(want), &err), 0);
	assert_int_equal(bgp_keepalive_encode(buf, 18), -EMSGSIZE);
}

static void
test_header_partial(void **state)
{
	static const uint8_t ka[] = { M16, 0x00, 0x13, 0x04 };
	struct bgp_hdr h;

	(void)state;
	assert_int_equal(bgp_hdr_decode(ka, 18, &h, &err), -ENODATA);
	assert_int_equal(bgp_hdr_decode(ka, 19, &h, &err), 0);
	assert_int_equal(h.len, 19);
	assert_int_equal(h.type, BGP_MSG_KEEPALIVE);
}

static void
test_notification(void **state)
{
	static const uint8_t want[] = { M16, 0x00, 0x15, 0x03, 0x04, 0x00 };
	static const uint8_t want_sd[] = { M16, 0x00, 0x1b, 0x03, 0x06, 0x02,
	    0x05, 'm', 'a', 'i', 'n', 't' };
	struct bgp_notification n = { .code = BGP_ERRC_HOLD }, d;
	uint8_t data[256];
	char text[64];
	int len, dl;

	(void)state;
	len = bgp_notification_encode(&n, buf, sizeof(buf));
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	corpus_save("notification_hold", buf, (size_t)len);
	assert_int_equal(bgp_notification_decode(want, sizeof(want), &d, &err),
	    0);
	assert_int_equal(d.code, 4);
	assert_int_equal(d.subcode, 0);
	assert_int_equal(d.data_len, 0);
	assert_string_equal(bgp_err_name(d.code), "Hold Timer Expired");

	/* RFC 9003 shutdown communication */
	dl = bgp_notification_shutdown_data("maint", data, sizeof(data));
	assert_int_equal(dl, 6);
	n.code = BGP_ERRC_CEASE;
	n.subcode = BGP_ERRS_CEASE_SHUTDOWN;
	n.data = data;
	n.data_len = (size_t)dl;
	len = bgp_notification_encode(&n, buf, sizeof(buf));
	assert_int_equal(len, sizeof(want_sd));
	assert_memory_equal(buf, want_sd, sizeof(want_sd));
	corpus_save("notification_shutdown", buf, (size_t)len);
	assert_int_equal(bgp_notification_decode(buf, (size_t)len, &d, &err),
	    0);
	assert_int_equal(bgp_notification_shutdown_text(&d, text,
	    sizeof(text)), 5);
	assert_string_equal(text, "maint");
	assert_string_equal(bgp_suberr_name(d.code, d.subcode),
	    "Administrative Shutdown");
	/* a length octet that overruns the data */
	data[0] = 9;
	assert_int_equal(bgp_notification_shutdown_text(&n, text,
	    sizeof(text)), -EBADMSG);
}

static void
test_shutdown_utf8_cut(void **state)
{
	char text[300];
	uint8_t data[300];
	int dl;

	(void)state;
	/* 254 ASCII then a 2-octet character straddling octet 255 */
	memset(text, 'a', 254);
	text[254] = (char)0xc3;
	text[255] = (char)0xa9;
	text[256] = '\0';
	dl = bgp_notification_shutdown_data(text, data, sizeof(data));
	assert_int_equal(dl, 1 + 254);
	assert_int_equal(data[0], 254);
}

static void
test_route_refresh(void **state)
{
	static const uint8_t want[] = { M16, 0x00, 0x17, 0x05, 0x00, 0x02,
	    0x00, 0x01 };
	struct bgp_route_refresh rr = { .afi = BGP_AFI_IPV6,
	    .safi = BGP_SAFI_UNICAST }, d;
	int len;

	(void)state;
	len = bgp_rr_encode(&rr, buf, sizeof(buf));
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	corpus_save("route_refresh", buf, (size_t)len);
	assert_int_equal(bgp_rr_decode(want, sizeof(want), &d, &err), 0);
	assert_int_equal(d.afi, 2);
	assert_int_equal(d.safi, 1);
	assert_int_equal(d.subtype, 0);
}

/* ---- OPEN ---- */

static const uint8_t open_want[] = {
	M16, 0x00, 0x3b, 0x01,
	0x04, 0xfb, 0xff, 0x00, 0x5a, 0x0a, 0x00, 0x00, 0x01,
	30,				/* optional parameters length */
	0x02, 28,			/* capabilities */
	0x01, 0x04, 0x00, 0x01, 0x00, 0x01,	/* MP IPv4 unicast */
	0x01, 0x04, 0x00, 0x02, 0x00, 0x01,	/* MP IPv6 unicast */
	0x02, 0x00,				/* route refresh */
	0x40, 0x06, 0x80, 0x78, 0x00, 0x01, 0x01, 0x80,	/* GR R, 120 s */
	0x41, 0x04, 0x00, 0x00, 0xfb, 0xff,	/* 4-octet AS 64511 */
};

static void
fill_open(struct bgp_open *o, uint32_t as)
{
	memset(o, 0, sizeof(*o));
	o->holdtime = 90;
	o->bgpid = 0x0a000001;
	o->caps.flags = BGP_CAPS_F_MP | BGP_CAPS_F_RR | BGP_CAPS_F_GR |
	    BGP_CAPS_F_AS4;
	o->caps.n_mp = 2;
	o->caps.mp[0] = (struct bgp_afisafi){ BGP_AFI_IPV4, BGP_SAFI_UNICAST };
	o->caps.mp[1] = (struct bgp_afisafi){ BGP_AFI_IPV6, BGP_SAFI_UNICAST };
	o->caps.gr_flags = BGP_GR_F_RESTART;
	o->caps.gr_time = 120;
	o->caps.n_gr = 1;
	o->caps.gr[0] = (struct bgp_gr_af){ BGP_AFI_IPV4, BGP_SAFI_UNICAST,
	    BGP_GR_AF_F_FORWARDING };
	o->caps.as4 = as;
}

static void
test_open(void **state)
{
	struct bgp_open o, d;
	int len;

	(void)state;
	fill_open(&o, 64511);
	len = bgp_open_encode(&o, buf, sizeof(buf));
	assert_int_equal(len, sizeof(open_want));
	assert_memory_equal(buf, open_want, sizeof(open_want));
	corpus_save("open", buf, (size_t)len);

	assert_int_equal(bgp_open_decode(open_want, sizeof(open_want), &d,
	    &err), 0);
	assert_int_equal(d.version, 4);
	assert_int_equal(d.my_as, 64511);
	assert_int_equal(d.as, 64511);
	assert_int_equal(d.holdtime, 90);
	assert_int_equal(d.bgpid, 0x0a000001);
	assert_int_equal(d.caps.flags, o.caps.flags);
	assert_int_equal(d.caps.n_mp, 2);
	assert_int_equal(d.caps.mp[1].afi, BGP_AFI_IPV6);
	assert_int_equal(d.caps.gr_flags, BGP_GR_F_RESTART);
	assert_int_equal(d.caps.gr_time, 120);
	assert_int_equal(d.caps.n_gr, 1);
	assert_int_equal(d.caps.gr[0].flags, BGP_GR_AF_F_FORWARDING);
	assert_int_equal(bgp_open_check_peer_as(&d, 64511, &err), 0);
	assert_int_equal(bgp_open_check_peer_as(&d, 64512, &err), -EBADMSG);
	assert_int_equal(err.code, 2);
	assert_int_equal(err.subcode, 2);
}

static void
test_open_as4(void **state)
{
	struct bgp_open o, d;
	int len;

	(void)state;
	fill_open(&o, 4200000000u);
	len = bgp_open_encode(&o, buf, sizeof(buf));
	assert_true(len > 0);
	/* my AS is AS_TRANS on the wire */
	assert_int_equal(buf[20], 0x5b);
	assert_int_equal(buf[21], 0xa0);
	corpus_save("open_as4", buf, (size_t)len);
	assert_int_equal(bgp_open_decode(buf, (size_t)len, &d, &err), 0);
	assert_int_equal(d.my_as, BGP_AS_TRANS);
	assert_int_equal(d.as, 4200000000u);
	assert_int_equal(bgp_open_check_peer_as(&d, 4200000000u, &err), 0);
	/* a 2-octet AS field that disagrees with the capability */
	d.my_as = 65000;
	assert_int_equal(bgp_open_check_peer_as(&d, 4200000000u, &err),
	    -EBADMSG);
	assert_int_equal(err.subcode, BGP_ERRS_OPEN_PEER_AS);
}

/* RFC 9072: extended optional parameters, unknown capabilities kept aside */
static void
test_open_ext_params(void **state)
{
	static const uint8_t msg[] = {
		M16, 0x00, 0x2c, 0x01,
		0x04, 0xfd, 0xe8, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
		0xff,			/* non-ext OP len */
		0xff,			/* non-ext OP type: extended */
		0x00, 0x0c,		/* extended OP length */
		0x02, 0x00, 0x09,	/* capabilities, 2-octet length */
		0x41, 0x04, 0x00, 0x00, 0xfd, 0xe8,	/* AS4 65000 */
		0x06, 0x00,		/* extended message: ignored */
		0x45,			/* add-path (truncated value) */
	};
	struct bgp_open d;

	(void)state;
	/* the last capability has a code but no length octet */
	assert_int_equal(bgp_open_decode(msg, sizeof(msg), &d, &err),
	    -EBADMSG);
	assert_int_equal(err.code, 2);
	assert_int_equal(err.subcode, 0);

	{
		static const uint8_t ok[] = {
			M16, 0x00, 0x2b, 0x01,
			0x04, 0xfd, 0xe8, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
			0xff, 0xff, 0x00, 0x0b,
			0x02, 0x00, 0x08,
			0x41, 0x04, 0x00, 0x00, 0xfd, 0xe8,
			0x06, 0x00,
		};

		corpus_save("open_ext_params", ok, sizeof(ok));
		assert_int_equal(bgp_open_decode(ok, sizeof(ok), &d, &err), 0);
		assert_true(d.ext_params);
		assert_int_equal(d.as, 65000);
		assert_int_equal(d.holdtime, 0);
		assert_int_equal(d.caps.flags, BGP_CAPS_F_AS4);
		assert_int_equal(d.caps.n_unknown, 1);
		assert_int_equal(d.caps.unknown[0].code, BGP_CAP_EXT_MSG);
		assert_string_equal(bgp_cap_name(d.caps.unknown[0].code),
		    "extended message");
	}
}

/* ---- UPDATE ---- */

static const uint8_t upd_v4_want[] = {
	M16, 0x00, 0x5a, 0x02,
	0x00, 0x00,			/* withdrawn routes length */
	0x00, 0x3c,			/* total path attribute length */
	0x40, 0x01, 0x01, 0x00,		/* ORIGIN IGP */
	0x40, 0x02, 0x0a, 0x02, 0x02, 0x00, 0x00, 0xfb, 0xff,
	0x00, 0x00, 0xfd, 0xe9,		/* AS_PATH 64511 65001 */
	0x40, 0x03, 0x04, 0xc0, 0x00, 0x02, 0x01,	/* NEXT_HOP */
	0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x0a,	/* MED 10 */
	0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0x64,	/* LOCAL_PREF 100 */
	0xc0, 0x08, 0x04, 0xfb, 0xff, 0x00, 0x64,	/* 64511:100 */
	0xc0, 0x20, 0x0c, 0x00, 0x00, 0xfb, 0xff, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x02,				/* 64511:1:2 */
	0x10, 0x0a, 0x01,		/* 10.1.0.0/16 */
	0x18, 0x0a, 0x02, 0x03,		/* 10.2.3.0/24 */
};

static void
fill_attrs(struct bgp_attrs *a, const uint32_t *path, size_t n)
{
	bgp_attrs_init(a);
	a->present = BGP_ATTR_BIT(BGP_ATTR_ORIGIN) |
	    BGP_ATTR_BIT(BGP_ATTR_AS_PATH) | BGP_ATTR_BIT(BGP_ATTR_NEXT_HOP);
	a->origin = BGP_ORIGIN_IGP;
	if (n > 0)
		assert_int_equal(bgp_aspath_append(&a->aspath,
		    BGP_ASSEG_SEQUENCE, path, n), 0);
	a->nexthop = v4("192.0.2.1");
}

static void
test_update_v4(void **state)
{
	static const uint32_t path[] = { 64511, 65001 };
	static const char *const want_nlri[] = { "10.1.0.0/16", "10.2.3.0/24" };
	struct prefix p[2] = { pfx("10.1.0.0/16"), pfx("10.2.3.0/24") };
	int len;

	(void)state;
	memset(&upd, 0, sizeof(upd));
	fill_attrs(&upd.attrs, path, 2);
	upd.attrs.present |= BGP_ATTR_BIT(BGP_ATTR_MED) |
	    BGP_ATTR_BIT(BGP_ATTR_LOCAL_PREF) |
	    BGP_ATTR_BIT(BGP_ATTR_COMMUNITIES) |
	    BGP_ATTR_BIT(BGP_ATTR_LARGE_COMMUNITY);
	upd.attrs.med = 10;
	upd.attrs.local_pref = 100;
	upd.attrs.n_comm = 1;
	upd.attrs.comm[0] = 64511u << 16 | 100;
	upd.attrs.n_lcomm = 1;
	upd.attrs.lcomm[0] = (struct bgp_lcomm){ 64511, 1, 2 };
	upd.nlri = (struct bgp_nlri){ .afi = 1, .safi = 1, .pfx = p,
	    .npfx = 2 };
	len = bgp_update_encode(&upd, BGP_MSG_F_AS4, buf, sizeof(buf));
	assert_int_equal(len, sizeof(upd_v4_want));
	assert_memory_equal(buf, upd_v4_want, sizeof(upd_v4_want));
	corpus_save("update_v4", buf, (size_t)len);

	assert_int_equal(bgp_update_decode(upd_v4_want, sizeof(upd_v4_want),
	    BGP_MSG_F_AS4, &upd2, &err), 0);
	assert_int_equal(err.action, BGP_ERR_NONE);
	assert_true(bgp_attrs_eq(&upd.attrs, &upd2.attrs));
	assert_int_equal(upd2.attrs.aspath.nsegs, 1);
	assert_int_equal(upd2.attrs.aspath.asn[1], 65001);
	assert_int_equal(bgp_aspath_count(&upd2.attrs.aspath), 2);
	expect_prefixes(&upd2.nlri, want_nlri, 2);
	assert_true(bgp_nlri_eq(&upd.nlri, &upd2.nlri));
	assert_int_equal(upd2.withdrawn.count, 0);
	assert_false(upd2.flags & BGP_UPD_F_EOR);
}

/* RFC 6793: a 4-octet ASN toward a 2-octet peer */
static const uint8_t upd_as2_want[] = {
	M16, 0x00, 0x3c, 0x02,
	0x00, 0x00, 0x00, 0x21,
	0x40, 0x01, 0x01, 0x00,
	0x40, 0x02, 0x06, 0x02, 0x02, 0xfd, 0xe9, 0x5b, 0xa0,	/* AS_TRANS */
	0x40, 0x03, 0x04, 0xc0, 0x00, 0x02, 0x01,
	0xc0, 0x11, 0x0a, 0x02, 0x02, 0x00, 0x00, 0xfd, 0xe9,
	0xfa, 0x56, 0xea, 0x00,		/* AS4_PATH 65001 4200000000 */
	0x18, 0xc6, 0x33, 0x64,		/* 198.51.100.0/24 */
};

static void
test_update_as2(void **state)
{
	static const uint32_t path[] = { 65001, 4200000000u };
	struct prefix p = pfx("198.51.100.0/24");
	int len;

	(void)state;
	memset(&upd, 0, sizeof(upd));
	fill_attrs(&upd.attrs, path, 2);
	upd.nlri = (struct bgp_nlri){ .afi = 1, .safi = 1, .pfx = &p,
	    .npfx = 1 };
	len = bgp_update_encode(&upd, 0, buf, sizeof(buf));
	assert_int_equal(len, sizeof(upd_as2_want));
	assert_memory_equal(buf, upd_as2_want, sizeof(upd_as2_want));
	corpus_save("update_as2", buf, (size_t)len);

	assert_int_equal(bgp_update_decode(upd_as2_want, sizeof(upd_as2_want),
	    0, &upd2, &err), 0);
	assert_int_equal(err.action, BGP_ERR_NONE);
	assert_true(bgp_attrs_eq(&upd.attrs, &upd2.attrs));
	assert_int_equal(upd2.attrs.aspath.asn[1], 4200000000u);
	assert_false(upd2.attrs.present & BGP_ATTR_BIT(BGP_ATTR_AS4_PATH));
}

/* RFC 6793 §4.2.3: the AS_PATH is longer than AS4_PATH (a 2-octet
 * speaker prepended), and AGGREGATOR / AS4_AGGREGATOR */
static void
test_update_as4_merge(void **state)
{
	static const uint8_t msg[] = {
		M16, 0x00, 0x60, 0x02,
		0x00, 0x00, 0x00, 0x47,
		0x40, 0x01, 0x01, 0x02,
		/* AS_PATH: SEQ 100 200 AS_TRANS, SET 7 8 */
		0x40, 0x02, 0x0e, 0x02, 0x03, 0x00, 0x64, 0x00, 0xc8, 0x5b, 0xa0,
		0x01, 0x02, 0x00, 0x07, 0x00, 0x08,
		0x40, 0x03, 0x04, 0x0a, 0x00, 0x00, 0x01,
		0xc0, 0x07, 0x06, 0x5b, 0xa0, 0x0a, 0x00, 0x00, 0x09,
		/* AS4_PATH: SEQ 200 70000, SET 7 8 -- count 3, AS_PATH 4 */
		0xc0, 0x11, 0x14, 0x02, 0x02, 0x00, 0x00, 0x00, 0xc8,
		0x00, 0x01, 0x11, 0x70,
		0x01, 0x02, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08,
		0xc0, 0x12, 0x08, 0x00, 0x01, 0x11, 0x71, 0x0a, 0x00, 0x00, 0x09,
		0x08, 0x0a,
	};
	const struct bgp_aspath *p = &upd2.attrs.aspath;

	(void)state;
	assert_int_equal(sizeof(msg), 0x60);
	corpus_save("update_as4_merge", msg, sizeof(msg));
	assert_int_equal(bgp_update_decode(msg, sizeof(msg), 0, &upd2, &err),
	    0);
	assert_int_equal(err.action, BGP_ERR_NONE);
	/* 100 kept from AS_PATH, then AS4_PATH */
	assert_int_equal(p->nsegs, 3);
	assert_int_equal(p->seg[0].type, BGP_ASSEG_SEQUENCE);
	assert_int_equal(p->seg[0].len, 1);
	assert_int_equal(p->asn[0], 100);
	assert_int_equal(p->seg[1].len, 2);
	assert_int_equal(p->asn[1], 200);
	assert_int_equal(p->asn[2], 70000);
	assert_int_equal(p->seg[2].type, BGP_ASSEG_SET);
	assert_int_equal(p->nasns, 5);
	assert_int_equal(upd2.attrs.aggr_as, 70001);
	assert_int_equal(upd2.attrs.origin, BGP_ORIGIN_INCOMPLETE);

	/* round trip through a 2-octet encoding gives the same path */
	assert_true(bgp_update_encode(&upd2, 0, buf, sizeof(buf)) > 0);
	assert_int_equal(bgp_update_decode(buf, sizeof(buf), 0, &upd, &err), 0);
	assert_true(bgp_attrs_eq(&upd.attrs, &upd2.attrs));
	/* and through a 4-octet one */
	assert_true(bgp_update_encode(&upd2, BGP_MSG_F_AS4, buf,
	    sizeof(buf)) > 0);
	assert_int_equal(bgp_update_decode(buf, sizeof(buf), BGP_MSG_F_AS4,
	    &upd, &err), 0);
	assert_true(bgp_attrs_eq(&upd.attrs, &upd2.attrs));
}

static const uint8_t upd_v6_want[] = {
	M16, 0x00, 0x53, 0x02,
	0x00, 0x00, 0x00, 0x3c,
	0x80, 0x0e, 0x2c, 0x00, 0x02, 0x01, 0x20,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x00,
	0x30, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01,	/* 2001:db8:1::/48 */
	0x40, 0x01, 0x01, 0x00,
	0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfb, 0xff,
};

static void
test_update_v6(void **state)
{
	static const uint32_t path[] = { 64511 };
	static const char *const want[] = { "2001:db8:1::/48" };
	struct prefix p = pfx("2001:db8:1::/48");
	int len;

	(void)state;
	memset(&upd, 0, sizeof(upd));
	fill_attrs(&upd.attrs, path, 1);
	upd.attrs.present &= ~BGP_ATTR_BIT(BGP_ATTR_NEXT_HOP);
	upd.flags = BGP_UPD_F_MP_REACH;
	upd.mp_reach.nlri = (struct bgp_nlri){ .afi = 2, .safi = 1, .pfx = &p,
	    .npfx = 1 };
	assert_int_equal(ipaddr_parse("2001:db8::1", &upd.mp_reach.nh), 0);
	assert_int_equal(ipaddr_parse("fe80::1", &upd.mp_reach.nh_ll), 0);
	len = bgp_update_encode(&upd, BGP_MSG_F_AS4, buf, sizeof(buf));
	assert_int_equal(len, sizeof(upd_v6_want));
	assert_memory_equal(buf, upd_v6_want, sizeof(upd_v6_want));
	corpus_save("update_v6", buf, (size_t)len);

	assert_int_equal(bgp_update_decode(upd_v6_want, sizeof(upd_v6_want),
	    BGP_MSG_F_AS4, &upd2, &err), 0);
	assert_int_equal(err.action, BGP_ERR_NONE);
	assert_true(upd2.flags & BGP_UPD_F_MP_REACH);
	assert_int_equal(upd2.mp_reach.nh_len, 32);
	assert_true(ipaddr_eq(&upd2.mp_reach.nh, &upd.mp_reach.nh));
	assert_true(ipaddr_eq(&upd2.mp_reach.nh_ll, &upd.mp_reach.nh_ll));
	expect_prefixes(&upd2.mp_reach.nlri, want, 1);
	assert_int_equal(upd2.nlri.count, 0);
	/* NEXT_HOP is not needed without IPv4 NLRI (RFC 4760 §3) */
	assert_false(upd2.attrs.present & BGP_ATTR_BIT(BGP_ATTR_NEXT_HOP));
}

static void
test_withdraw_and_eor(void **state)
{
	static const uint8_t wd_want[] = { M16, 0x00, 0x1b, 0x02, 0x00, 0x04,
	    0x18, 0x0a, 0x02, 0x03, 0x00, 0x00 };
	static const uint8_t eor4[] = { M16, 0x00, 0x17, 0x02, 0, 0, 0, 0 };
	static const uint8_t eor6[] = { M16, 0x00, 0x1d, 0x02, 0x00, 0x00,
	    0x00, 0x06, 0x80, 0x0f, 0x03, 0x00, 0x02, 0x01 };
	static const uint8_t unreach6[] = { M16, 0x00, 0x26, 0x02, 0x00, 0x00,
	    0x00, 0x0f, 0x80, 0x0f, 0x0c, 0x00, 0x02, 0x01,
	    0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x07 };
	static const char *const want[] = { "10.2.3.0/24" };
	static const char *const want6[] = { "2001:db8:0:7::/64" };
	struct prefix p = pfx("10.2.3.0/24");
	int len;

	(void)state;
	memset(&upd, 0, sizeof(upd));
	upd.withdrawn = (struct bgp_nlri){ .afi = 1, .safi = 1, .pfx = &p,
	    .npfx = 1 };
	len = bgp_update_encode(&upd, BGP_MSG_F_AS4, buf, sizeof(buf));
	assert_int_equal(len, sizeof(wd_want));
	assert_memory_equal(buf, wd_want, sizeof(wd_want));
	corpus_save("update_withdraw", buf, (size_t)len);
	assert_int_equal(bgp_update_decode(wd_want, sizeof(wd_want), 0, &upd2,
	    &err), 0);
	expect_prefixes(&upd2.withdrawn, want, 1);
	assert_false(upd2.flags & BGP_UPD_F_EOR);

	len = bgp_eor_encode(1, 1, buf, sizeof(buf));
	assert_int_equal(len, sizeof(eor4));
	assert_memory_equal(buf, eor4, sizeof(eor4));
	corpus_save("update_eor4", buf, (size_t)len);
	assert_int_equal(bgp_update_decode(eor4, sizeof(eor4), 0, &upd2, &err),
	    0);
	assert_true(upd2.flags & BGP_UPD_F_EOR);
	assert_int_equal(upd2.eor_afi, 1);

	len = bgp_eor_encode(2, 1, buf, sizeof(buf));
	assert_int_equal(len, sizeof(eor6));
	assert_memory_equal(buf, eor6, sizeof(eor6));
	corpus_save("update_eor6", buf, (size_t)len);
	assert_int_equal(bgp_update_decode(eor6, sizeof(eor6), 0, &upd2, &err),
	    0);
	assert_true(upd2.flags & BGP_UPD_F_EOR);
	assert_int_equal(upd2.eor_afi, 2);
	assert_int_equal(upd2.eor_safi, 1);

	corpus_save("update_unreach6", unreach6, sizeof(unreach6));
	assert_int_equal(bgp_update_decode(unreach6, sizeof(unreach6), 0,
	    &upd2, &err), 0);
	assert_false(upd2.flags & BGP_UPD_F_EOR);
	assert_true(upd2.flags & BGP_UPD_F_MP_UNREACH);
	expect_prefixes(&upd2.mp_unreach, want6, 1);
}

/* Unknown optional transitive attributes are passed on with Partial set;
 * unknown optional non-transitive ones are dropped. */
static void
test_update_unknown_attr(void **state)
{
	static const uint8_t msg[] = {
		M16, 0x00, 0x34, 0x02,
		0x00, 0x00, 0x00, 0x1b,
		0x40, 0x01, 0x01, 0x00,
		0x40, 0x02, 0x00,
		0x40, 0x03, 0x04, 0x0a, 0x00, 0x00, 0x01,
		0xc0, 0x63, 0x02, 0xab, 0xcd,	/* type 99 opt. transitive */
		0x80, 0x64, 0x01, 0xee,		/* type 100 opt. non-trans. */
		0x90, 0x65, 0x00, 0x00,		/* type 101 opt., ext. len */
		0x08, 0x0a,
	};
	int len;

	(void)state;
	assert_int_equal(sizeof(msg), 0x34);
	corpus_save("update_unknown_attr", msg, sizeof(msg));
	assert_int_equal(bgp_update_decode(msg, sizeof(msg), BGP_MSG_F_AS4,
	    &upd2, &err), 0);
	assert_int_equal(err.action, BGP_ERR_NONE);
	assert_int_equal(upd2.attrs.n_unknown, 1);
	assert_int_equal(upd2.attrs.unknown[0].type, 99);
	assert_int_equal(upd2.attrs.unknown[0].flags, 0xe0);
	assert_int_equal(upd2.attrs.aspath.nsegs, 0);
	assert_true(upd2.attrs.present & BGP_ATTR_BIT(BGP_ATTR_AS_PATH));
	len = bgp_update_encode(&upd2, BGP_MSG_F_AS4, buf, sizeof(buf));
	assert_true(len > 0);
	/* re-advertised: 0xe0 99 2 ab cd right before the NLRI */
	assert_int_equal(buf[len - 7], 0xe0);
	assert_int_equal(buf[len - 6], 99);
	assert_int_equal(buf[len - 3], 0xcd);
}

static void
test_long_attr_extlen(void **state)
{
	int len;
	struct prefix p = pfx("10.0.0.0/8");
	uint16_t i;

	(void)state;
	memset(&upd, 0, sizeof(upd));
	fill_attrs(&upd.attrs, (const uint32_t[]){ 65000 }, 1);
	upd.attrs.present |= BGP_ATTR_BIT(BGP_ATTR_COMMUNITIES);
	upd.attrs.n_comm = 100;		/* 400 octets: extended length */
	for (i = 0; i < 100; i++)
		upd.attrs.comm[i] = 65000u << 16 | i;
	upd.nlri = (struct bgp_nlri){ .afi = 1, .safi = 1, .pfx = &p,
	    .npfx = 1 };
	len = bgp_update_encode(&upd, BGP_MSG_F_AS4, buf, sizeof(buf));
	assert_true(len > 400);
	corpus_save("update_extlen", buf, (size_t)len);
	assert_int_equal(bgp_update_decode(buf, (size_t)len, BGP_MSG_F_AS4,
	    &upd2, &err), 0);
	assert_int_equal(err.action, BGP_ERR_NONE);
	assert_true(bgp_attrs_eq(&upd.attrs, &upd2.attrs));
	/* too big for the buffer */
	assert_int_equal(bgp_update_encode(&upd, BGP_MSG_F_AS4, buf, 200),
	    -EMSGSIZE);
}

/* ---- packing ---- */

struct collect {
	size_t msgs, prefixes, max_len;
	size_t counts[256];
	unsigned flags;
	int family;
	bool withdraw;
	const struct prefix *want;
};

static int
collect_emit(const uint8_t *msg, size_t len, void *arg)
{
	struct collect *c = arg;
	const struct bgp_nlri *n;
	struct bgp_nlri_iter it;
	struct prefix p;

	assert_true(len <= BGP_MSG_MAX);
	if (len > c->max_len)
		c->max_len = len;
	if (c->msgs == 0)
		corpus_save(c->family == AF_INET ? (c->withdraw ?
		    "pack_wd4" : "pack_v4") : (c->withdraw ? "pack_wd6" :
		    "pack_v6"), msg, len);
	assert_int_equal(bgp_update_decode(msg, len, c->flags, &upd2, &err), 0);
	assert_int_equal(err.action, BGP_ERR_NONE);
	if (c->family == AF_INET)
		n = c->withdraw ? &upd2.withdrawn : &upd2.nlri;
	else
		n = c->withdraw ? &upd2.mp_unreach : &upd2.mp_reach.nlri;
	assert_true(n->count > 0);
	assert_true(c->msgs < 256);
	c->counts[c->msgs] = n->count;
	bgp_nlri_iter_init(n, &it);
	while (bgp_nlri_next(&it, &p) == 1) {
		assert_true(prefix_eq(&p, &c->want[c->prefixes]));
		c->prefixes++;
	}
	if (!c->withdraw) {
		assert_true(upd2.attrs.present &
		    BGP_ATTR_BIT(BGP_ATTR_AS_PATH));
		assert_int_equal(upd2.attrs.aspath.asn[1], 4200000000u);
		assert_int_equal(upd2.attrs.n_comm, 3);
		/* NEXT_HOP only with IPv4 NLRI (RFC 4760 §3) */
		assert_int_equal(!!(upd2.attrs.present &
		    BGP_ATTR_BIT(BGP_ATTR_NEXT_HOP)), c->family == AF_INET);
	}
	c->msgs++;
	return 0;
}

static struct prefix many[6000];

static void
pack_run(int family, bool withdraw, size_t n, unsigned plen)
{
	static const uint32_t path[] = { 64511, 4200000000u };
	static struct bgp_attrs a;
	struct bgp_pack pk = { 0 };
	struct collect c = { .family = family, .withdraw = withdraw,
	    .want = many, .flags = 0 };
	size_t i, per, pfx_bytes = 1 + (plen + 7) / 8;
	int rc;

	for (i = 0; i < n; i++) {
		memset(&many[i], 0, sizeof(many[i]));
		many[i].addr.family = family;
		many[i].len = (uint8_t)plen;
		if (family == AF_INET) {
			uint32_t v = htonl(0x0a000000u | (uint32_t)i << 8);

			memcpy(many[i].addr.u.b, &v, 4);
		} else {
			many[i].addr.u.b[0] = 0x20;
			many[i].addr.u.b[1] = 0x01;
			many[i].addr.u.b[2] = 0x0d;
			many[i].addr.u.b[3] = 0xb8;
			many[i].addr.u.b[4] = (uint8_t)(i >> 8);
			many[i].addr.u.b[5] = (uint8_t)i;
		}
	}
	fill_attrs(&a, path, 2);
	a.present |= BGP_ATTR_BIT(BGP_ATTR_COMMUNITIES);
	a.n_comm = 3;
	a.comm[0] = BGP_COMM_NO_EXPORT;
	a.comm[1] = 1;
	a.comm[2] = 2;
	pk.attrs = withdraw ? NULL : &a;
	pk.emit = collect_emit;
	pk.arg = &c;
	pk.flags = 0;			/* 2-octet: AS4_PATH too */
	assert_int_equal(ipaddr_parse("2001:db8::1", &pk.mp_nh), 0);
	rc = bgp_update_pack(&pk, family, many, n);
	assert_true(rc > 0);
	assert_int_equal((size_t)rc, c.msgs);
	assert_int_equal(c.prefixes, n);
	assert_true(c.max_len <= BGP_MSG_MAX);
	if (c.msgs > 1) {
		/* full messages: no room was left for one more prefix */
		assert_true(c.max_len + pfx_bytes > BGP_MSG_MAX);
		/* all but the last carry the same number, so the count of
		 * messages is the minimum */
		per = c.counts[0];
		for (i = 0; i + 1 < c.msgs; i++)
			assert_int_equal(c.counts[i], per);
		assert_true(c.counts[c.msgs - 1] <= per);
		assert_int_equal(c.msgs, (n + per - 1) / per);
	}
}

static void
test_pack_v4(void **state)
{
	(void)state;
	pack_run(AF_INET, false, 3000, 24);
	pack_run(AF_INET, true, 5000, 24);
	pack_run(AF_INET, false, 1, 32);
}

static void
test_pack_v6(void **state)
{
	(void)state;
	pack_run(AF_INET6, false, 2000, 64);
	pack_run(AF_INET6, true, 2000, 48);
}

static int
count_emit(const uint8_t *msg, size_t len, void *arg)
{
	(void)msg;
	(void)len;
	return ++*(int *)arg == 2 ? -ECANCELED : 0;
}

static void
test_pack_errors(void **state)
{
	struct bgp_pack pk = { .emit = count_emit };
	struct prefix p[3] = { pfx("10.0.0.0/8"), pfx("2001:db8::/32"),
	    pfx("10.1.0.0/16") };
	int n = 0;

	(void)state;
	pk.arg = &n;
	/* a prefix of the other family */
	assert_int_equal(bgp_update_pack(&pk, AF_INET, p, 2), -EINVAL);
	assert_int_equal(n, 0);
	/* emit stops the run */
	pk.max = 28;			/* one /8 or /16 per message */
	p[1] = pfx("10.2.0.0/16");
	assert_int_equal(bgp_update_pack(&pk, AF_INET, p, 3), -ECANCELED);
	assert_int_equal(n, 2);
	pk.max = 10;
	assert_int_equal(bgp_update_pack(&pk, AF_INET, p, 1), -EINVAL);
}

/* ---- names ---- */

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(bgp_msg_type_name(BGP_MSG_UPDATE), "UPDATE");
	assert_string_equal(bgp_msg_type_name(9), "unknown");
	assert_string_equal(bgp_err_name(BGP_ERRC_HOLD), "Hold Timer Expired");
	assert_string_equal(bgp_err_name(0), "unknown");
	assert_string_equal(bgp_suberr_name(1, 1),
	    "Connection Not Synchronized");
	assert_string_equal(bgp_suberr_name(2, 6), "Unacceptable Hold Time");
	assert_string_equal(bgp_suberr_name(3, 11), "Malformed AS_PATH");
	assert_string_equal(bgp_suberr_name(3, 200), "unknown");
	assert_string_equal(bgp_suberr_name(6, 7),
	    "Connection Collision Resolution");
	assert_string_equal(bgp_state_name(BGP_STATE_OPENCONFIRM),
	    "OpenConfirm");
	assert_string_equal(bgp_state_name(42), "unknown");
	assert_string_equal(bgp_attr_name(BGP_ATTR_LARGE_COMMUNITY),
	    "LARGE_COMMUNITY");
	assert_string_equal(bgp_cap_name(BGP_CAP_AS4), "4-octet AS");
	assert_string_equal(bgp_afi_name(2, 1), "IPv6 unicast");
	assert_string_equal(bgp_err_action_name(BGP_ERR_TREAT_AS_WITHDRAW),
	    "treat-as-withdraw");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_header_partial),
		cmocka_unit_test(test_notification),
		cmocka_unit_test(test_shutdown_utf8_cut),
		cmocka_unit_test(test_route_refresh),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_open_as4),
		cmocka_unit_test(test_open_ext_params),
		cmocka_unit_test(test_update_v4),
		cmocka_unit_test(test_update_as2),
		cmocka_unit_test(test_update_as4_merge),
		cmocka_unit_test(test_update_v6),
		cmocka_unit_test(test_withdraw_and_eor),
		cmocka_unit_test(test_update_unknown_attr),
		cmocka_unit_test(test_long_attr_extlen),
		cmocka_unit_test(test_pack_v4),
		cmocka_unit_test(test_pack_v6),
		cmocka_unit_test(test_pack_errors),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("bgp_msg", tests, NULL, NULL);
}
