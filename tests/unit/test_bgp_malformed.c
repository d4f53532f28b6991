/* test_bgp_malformed.c — a table of malformed BGP messages, each with the
 * exact NOTIFICATION code/subcode and RFC 7606 action it must produce.
 * With BGP_CORPUS_DIR set, every message is written there as a fuzzer
 * seed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "bgp_msg.h"

#define M16 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

enum kind {
	RAW,		/* a: the whole message */
	OPEN,		/* a: the OPEN body after the header */
	UPD,		/* a: withdrawn routes, b: attributes, c: NLRI */
};

struct bad {
	const char	*name;
	enum kind	 kind;
	unsigned	 flags;
	const uint8_t	*a, *b, *c;
	size_t		 alen, blen, clen;
	int		 rc;
	enum bgp_err_action action;
	uint8_t		 code, subcode;
	const uint8_t	*data;		/* expected err.data, if checked */
	size_t		 dlen;
	size_t		 nlri;		/* IPv4 prefixes still returned */
};

#define BYTES(...)	(const uint8_t[]){ __VA_ARGS__ }
#define N(...)		sizeof((const uint8_t[]){ __VA_ARGS__ })
#define A(...)		.a = BYTES(__VA_ARGS__), .alen = N(__VA_ARGS__)
#define B(...)		.b = BYTES(__VA_ARGS__), .blen = N(__VA_ARGS__)
#define C(...)		.c = BYTES(__VA_ARGS__), .clen = N(__VA_ARGS__)
#define D(...)		.data = BYTES(__VA_ARGS__), .dlen = N(__VA_ARGS__)
#define RESET(c, s)	.rc = -EBADMSG, .action = BGP_ERR_SESSION_RESET, \
			.code = (c), .subcode = (s)
#define SOFT(a, s)	.rc = 0, .action = (a), .code = 3, .subcode = (s)
#define TAW(s)		SOFT(BGP_ERR_TREAT_AS_WITHDRAW, s)
#define DISCARD(s)	SOFT(BGP_ERR_ATTR_DISCARD, s)
#define AS4		.flags = BGP_MSG_F_AS4

/* building blocks (4-octet AS session unless noted) */
#define ORIGIN		0x40, 0x01, 0x01, 0x00
#define ASPATH		0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfb, 0xff
#define ASPATH2		0x40, 0x02, 0x04, 0x02, 0x01, 0xfb, 0xff
#define NH		0x40, 0x03, 0x04, 0xc0, 0x00, 0x02, 0x01
#define PFX		0x18, 0x0a, 0x02, 0x03
#define OPEN_HEAD	0x04, 0xfb, 0xff, 0x00, 0x5a, 0x0a, 0x00, 0x00, 0x01

static const struct bad bad[] = {
	/* ---- message header (RFC 4271 §6.1) ---- */
	{ "hdr_marker", RAW, A(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x13, 0x04),
	    RESET(1, 1) },
	{ "hdr_len_18", RAW, A(M16, 0x00, 0x12, 0x04), RESET(1, 2),
	    D(0x00, 0x12) },
	{ "hdr_len_4097", RAW, A(M16, 0x10, 0x01, 0x02), RESET(1, 2),
	    D(0x10, 0x01) },
	{ "hdr_type_0", RAW, A(M16, 0x00, 0x13, 0x00), RESET(1, 3), D(0x00) },
	{ "hdr_type_6", RAW, A(M16, 0x00, 0x13, 0x06), RESET(1, 3), D(0x06) },
	{ "keepalive_len_20", RAW, A(M16, 0x00, 0x14, 0x04, 0x00),
	    RESET(1, 2), D(0x00, 0x14) },
	{ "open_len_28", RAW, A(M16, 0x00, 0x1c, 0x01, OPEN_HEAD),
	    RESET(1, 2), D(0x00, 0x1c) },
	{ "update_len_22", RAW, A(M16, 0x00, 0x16, 0x02, 0x00, 0x00, 0x00),
	    RESET(1, 2) },
	{ "notification_len_20", RAW, A(M16, 0x00, 0x14, 0x03, 0x06),
	    RESET(1, 2) },
	{ "route_refresh_len_24", RAW, A(M16, 0x00, 0x18, 0x05, 0x00, 0x01,
	    0x00, 0x01, 0x00), RESET(1, 2), D(0x00, 0x18) },
	{ "route_refresh_len_22", RAW, A(M16, 0x00, 0x16, 0x05, 0x00, 0x01,
	    0x00), RESET(1, 2) },

	/* ---- OPEN (RFC 4271 §6.2, RFC 5492, RFC 6793, RFC 7607) ---- */
	{ "open_version_3", OPEN, A(0x03, 0xfb, 0xff, 0x00, 0x5a, 0x0a, 0x00,
	    0x00, 0x01, 0x00), RESET(2, 1), D(0x00, 0x04) },
	{ "open_hold_1", OPEN, A(0x04, 0xfb, 0xff, 0x00, 0x01, 0x0a, 0x00,
	    0x00, 0x01, 0x00), RESET(2, 6) },
	{ "open_hold_2", OPEN, A(0x04, 0xfb, 0xff, 0x00, 0x02, 0x0a, 0x00,
	    0x00, 0x01, 0x00), RESET(2, 6) },
	{ "open_bgpid_0", OPEN, A(0x04, 0xfb, 0xff, 0x00, 0x5a, 0x00, 0x00,
	    0x00, 0x00, 0x00), RESET(2, 3) },
	{ "open_my_as_0", OPEN, A(0x04, 0x00, 0x00, 0x00, 0x5a, 0x0a, 0x00,
	    0x00, 0x01, 0x00), RESET(2, 2) },
	{ "open_param_auth", OPEN, A(OPEN_HEAD, 0x03, 0x01, 0x01, 0x00),
	    RESET(2, 4) },
	{ "open_optlen_overrun", OPEN, A(OPEN_HEAD, 0x0a, 0x02, 0x02, 0x02,
	    0x00), RESET(2, 0) },
	{ "open_optlen_short", OPEN, A(OPEN_HEAD, 0x02, 0x02, 0x02, 0x02,
	    0x00), RESET(2, 0) },
	{ "open_param_overrun", OPEN, A(OPEN_HEAD, 0x04, 0x02, 0x05, 0x02,
	    0x00), RESET(2, 0) },
	{ "open_cap_overrun", OPEN, A(OPEN_HEAD, 0x04, 0x02, 0x02, 0x41,
	    0x04), RESET(2, 0) },
	{ "open_cap_mp_len_3", OPEN, A(OPEN_HEAD, 0x07, 0x02, 0x05, 0x01,
	    0x03, 0x00, 0x01, 0x00), RESET(2, 0) },
	{ "open_cap_as4_zero", OPEN, A(OPEN_HEAD, 0x08, 0x02, 0x06, 0x41,
	    0x04, 0x00, 0x00, 0x00, 0x00), RESET(2, 2) },
	{ "open_cap_gr_len_3", OPEN, A(OPEN_HEAD, 0x07, 0x02, 0x05, 0x40,
	    0x03, 0x00, 0x78, 0x00), RESET(2, 0) },
	{ "open_cap_rr_len_1", OPEN, A(OPEN_HEAD, 0x05, 0x02, 0x03, 0x02,
	    0x01, 0x00), RESET(2, 0) },
	{ "open_ext_params_truncated", OPEN, A(OPEN_HEAD, 0xff, 0xff, 0x00),
	    RESET(2, 0) },

	/* ---- UPDATE structure (RFC 4271 §6.3, RFC 7606 §4, §5.3) ---- */
	{ "upd_withdrawn_overrun", UPD, A(), B(), C(), AS4, RESET(3, 1) },
	{ "upd_attrlen_overrun", UPD, A(), B(ORIGIN), C(), AS4, RESET(3, 1) },
	{ "upd_nlri_len_33", UPD, A(), B(ORIGIN, ASPATH, NH),
	    C(0x21, 0x0a, 0x00, 0x00, 0x00, 0x00), AS4, RESET(3, 10) },
	{ "upd_nlri_truncated", UPD, A(), B(ORIGIN, ASPATH, NH),
	    C(0x18, 0x0a, 0x00), AS4, RESET(3, 10) },
	{ "upd_withdrawn_truncated", UPD, A(0x20, 0x0a, 0x00), B(), C(), AS4,
	    RESET(3, 10) },
	{ "upd_attr_overrun_nlri", UPD, A(), B(ORIGIN, ASPATH, 0x40, 0x03,
	    0x09, 0xc0, 0x00), C(PFX), AS4,
	    TAW(1), .nlri = 1 },
	{ "upd_attr_overrun_no_nlri", UPD, A(), B(ORIGIN, 0xc0, 0x08, 0x08,
	    0x00, 0x00, 0x00, 0x01), C(), AS4, RESET(3, 1) },
	{ "upd_attr_header_short", UPD, A(), B(ORIGIN, ASPATH, NH, 0x40),
	    C(PFX), AS4, TAW(1), .nlri = 1 },
	{ "upd_attr_extlen_short", UPD, A(), B(ORIGIN, ASPATH, NH, 0x90, 0x08,
	    0x00), C(PFX), AS4, TAW(1), .nlri = 1 },

	/* ---- attributes (RFC 7606 §3, §7) ---- */
	{ "origin_len_2", UPD, A(), B(0x40, 0x01, 0x02, 0x00, 0x00, ASPATH,
	    NH), C(PFX), AS4, TAW(5), D(0x40, 0x01, 0x02, 0x00, 0x00),
	    .nlri = 1 },
	{ "origin_value_3", UPD, A(), B(0x40, 0x01, 0x01, 0x03, ASPATH, NH),
	    C(PFX), AS4, TAW(6), D(0x40, 0x01, 0x01, 0x03), .nlri = 1 },
	{ "origin_flags_optional", UPD, A(), B(0xc0, 0x01, 0x01, 0x00,
	    ASPATH, NH), C(PFX), AS4, TAW(4), .nlri = 1 },
	{ "aspath_seg_len_0", UPD, A(), B(ORIGIN, 0x40, 0x02, 0x02, 0x02,
	    0x00, NH), C(PFX), AS4, TAW(11), .nlri = 1 },
	{ "aspath_seg_type_5", UPD, A(), B(ORIGIN, 0x40, 0x02, 0x06, 0x05,
	    0x01, 0x00, 0x00, 0xfb, 0xff, NH), C(PFX), AS4, TAW(11),
	    .nlri = 1 },
	{ "aspath_seg_overrun", UPD, A(), B(ORIGIN, 0x40, 0x02, 0x06, 0x02,
	    0x02, 0x00, 0x00, 0xfb, 0xff, NH), C(PFX), AS4, TAW(11),
	    .nlri = 1 },
	{ "aspath_2octet_on_as4", UPD, A(), B(ORIGIN, ASPATH2, NH), C(PFX),
	    AS4, TAW(11), .nlri = 1 },
	{ "aspath_as_0", UPD, A(), B(ORIGIN, 0x40, 0x02, 0x06, 0x02, 0x01,
	    0x00, 0x00, 0x00, 0x00, NH), C(PFX), AS4, TAW(11), .nlri = 1 },
	{ "aspath_confed_after_seq", UPD, A(), B(ORIGIN, 0x40, 0x02, 0x0c,
	    0x02, 0x01, 0x00, 0x00, 0xfb, 0xff, 0x03, 0x01, 0x00, 0x00, 0xfc,
	    0x00, NH), C(PFX), AS4, TAW(11), .nlri = 1 },
	{ "aspath_flags_optional", UPD, A(), B(ORIGIN, 0x80, 0x02, 0x06, 0x02,
	    0x01, 0x00, 0x00, 0xfb, 0xff, NH), C(PFX), AS4, TAW(4),
	    .nlri = 1 },
	{ "nexthop_len_5", UPD, A(), B(ORIGIN, ASPATH, 0x40, 0x03, 0x05, 0xc0,
	    0x00, 0x02, 0x01, 0x00), C(PFX), AS4, TAW(5), .nlri = 1 },
	{ "nexthop_zero", UPD, A(), B(ORIGIN, ASPATH, 0x40, 0x03, 0x04, 0x00,
	    0x00, 0x00, 0x00), C(PFX), AS4, TAW(8), .nlri = 1 },
	{ "nexthop_multicast", UPD, A(), B(ORIGIN, ASPATH, 0x40, 0x03, 0x04,
	    0xe0, 0x00, 0x00, 0x01), C(PFX), AS4, TAW(8), .nlri = 1 },
	{ "nexthop_loopback", UPD, A(), B(ORIGIN, ASPATH, 0x40, 0x03, 0x04,
	    0x7f, 0x00, 0x00, 0x01), C(PFX), AS4, TAW(8), .nlri = 1 },
	{ "med_len_3", UPD, A(), B(ORIGIN, ASPATH, NH, 0x80, 0x04, 0x03, 0x00,
	    0x00, 0x00), C(PFX), AS4, TAW(5), .nlri = 1 },
	{ "med_flags_wellknown", UPD, A(), B(ORIGIN, ASPATH, NH, 0x40, 0x04,
	    0x04, 0x00, 0x00, 0x00, 0x00), C(PFX), AS4, TAW(4), .nlri = 1 },
	{ "local_pref_flags_optional", UPD, A(), B(ORIGIN, ASPATH, NH, 0x80,
	    0x05, 0x04, 0x00, 0x00, 0x00, 0x64), C(PFX), AS4, TAW(4),
	    .nlri = 1 },
	{ "local_pref_len_0", UPD, A(), B(ORIGIN, ASPATH, NH, 0x40, 0x05,
	    0x00), C(PFX), AS4, TAW(5), .nlri = 1 },
	{ "atomic_aggregate_len_1", UPD, A(), B(ORIGIN, ASPATH, NH, 0x40, 0x06,
	    0x01, 0x00), C(PFX), AS4, DISCARD(5), D(0x40, 0x06, 0x01, 0x00),
	    .nlri = 1 },
	{ "aggregator_len_6_on_as4", UPD, A(), B(ORIGIN, ASPATH, NH, 0xc0,
	    0x07, 0x06, 0xfb, 0xff, 0x0a, 0x00, 0x00, 0x01), C(PFX), AS4,
	    DISCARD(5), .nlri = 1 },
	{ "aggregator_len_8_on_as2", UPD, A(), B(ORIGIN, ASPATH2, NH, 0xc0,
	    0x07, 0x08, 0x00, 0x00, 0xfb, 0xff, 0x0a, 0x00, 0x00, 0x01),
	    C(PFX), DISCARD(5), .nlri = 1 },
	{ "aggregator_as_0", UPD, A(), B(ORIGIN, ASPATH, NH, 0xc0, 0x07, 0x08,
	    0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01), C(PFX), AS4,
	    DISCARD(9), .nlri = 1 },
	{ "aggregator_flags_wellknown", UPD, A(), B(ORIGIN, ASPATH, NH, 0x40,
	    0x07, 0x08, 0x00, 0x00, 0xfb, 0xff, 0x0a, 0x00, 0x00, 0x01),
	    C(PFX), AS4, DISCARD(4), .nlri = 1 },
	{ "communities_len_3", UPD, A(), B(ORIGIN, ASPATH, NH, 0xc0, 0x08,
	    0x03, 0x00, 0x00, 0x01), C(PFX), AS4, TAW(5), .nlri = 1 },
	{ "communities_len_0", UPD, A(), B(ORIGIN, ASPATH, NH, 0xc0, 0x08,
	    0x00), C(PFX), AS4, TAW(5), .nlri = 1 },
	{ "large_community_len_11", UPD, A(), B(ORIGIN, ASPATH, NH, 0xc0, 0x20,
	    0x0b, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0), C(PFX), AS4, TAW(5),
	    .nlri = 1 },
	{ "originator_id_len_5", UPD, A(), B(ORIGIN, ASPATH, NH, 0x80, 0x09,
	    0x05, 0x0a, 0, 0, 1, 0), C(PFX), AS4, TAW(5), .nlri = 1 },
	{ "cluster_list_len_0", UPD, A(), B(ORIGIN, ASPATH, NH, 0x80, 0x0a,
	    0x00), C(PFX), AS4, TAW(5), .nlri = 1 },
	{ "missing_origin", UPD, A(), B(ASPATH, NH), C(PFX), AS4, TAW(3),
	    D(0x01), .nlri = 1 },
	{ "missing_aspath", UPD, A(), B(ORIGIN, NH), C(PFX), AS4, TAW(3),
	    D(0x02), .nlri = 1 },
	{ "missing_nexthop", UPD, A(), B(ORIGIN, ASPATH), C(PFX), AS4, TAW(3),
	    D(0x03), .nlri = 1 },
	{ "missing_wellknown_mp_reach", UPD, A(), B(0x80, 0x0e, 0x1c, 0x00,
	    0x02, 0x01, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0x01, 0x00, 0x30, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01,
	    ORIGIN), C(), AS4, TAW(3), D(0x02) },
	{ "duplicate_origin", UPD, A(), B(ORIGIN, 0x40, 0x01, 0x01, 0x02,
	    ASPATH, NH), C(PFX), AS4, DISCARD(1), .nlri = 1 },
	{ "unknown_wellknown", UPD, A(), B(ORIGIN, ASPATH, NH, 0x40, 0x63,
	    0x01, 0x00), C(PFX), AS4, RESET(3, 2),
	    D(0x40, 0x63, 0x01, 0x00) },
	{ "as4_path_on_as4_session", UPD, A(), B(ORIGIN, ASPATH, NH, 0xc0,
	    0x11, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfb, 0xff), C(PFX), AS4,
	    DISCARD(9), .nlri = 1 },
	{ "as4_path_confed", UPD, A(), B(ORIGIN, ASPATH2, NH, 0xc0, 0x11, 0x06,
	    0x03, 0x01, 0x00, 0x00, 0xfb, 0xff), C(PFX), DISCARD(9),
	    .nlri = 1 },
	{ "as4_aggregator_len_6", UPD, A(), B(ORIGIN, ASPATH2, NH, 0xc0, 0x12,
	    0x06, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01), C(PFX), DISCARD(5),
	    .nlri = 1 },

	/* ---- MP-BGP (RFC 4760 §7, RFC 7606 §5.3, §7.11) ---- */
	{ "mp_reach_truncated", UPD, A(), B(0x80, 0x0e, 0x02, 0x00, 0x02,
	    ORIGIN, ASPATH), C(), AS4, RESET(3, 9) },
	{ "mp_reach_nh_overrun", UPD, A(), B(0x80, 0x0e, 0x05, 0x00, 0x02,
	    0x01, 0x10, 0x00, ORIGIN, ASPATH), C(), AS4, RESET(3, 9) },
	{ "mp_reach_bad_nlri", UPD, A(), B(0x80, 0x0e, 0x16, 0x00, 0x02, 0x01,
	    0x10, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	    0x00, 0x81, ORIGIN, ASPATH), C(), AS4, RESET(3, 9) },
	{ "mp_reach_nh_len_8", UPD, A(), B(0x80, 0x0e, 0x14, 0x00, 0x02, 0x01,
	    0x08, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0x00, 0x30, 0x20, 0x01,
	    0x0d, 0xb8, 0x00, 0x01, ORIGIN, ASPATH), C(), AS4,
	    SOFT(BGP_ERR_AFISAFI_DISABLE, 9) },
	{ "mp_reach_flags_transitive", UPD, A(), B(0xc0, 0x0e, 0x05, 0x00,
	    0x02, 0x01, 0x00, 0x00, ORIGIN, ASPATH), C(), AS4, RESET(3, 4) },
	{ "mp_reach_twice", UPD, A(), B(0x80, 0x0e, 0x15, 0x00, 0x02, 0x01,
	    0x10, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	    0x00, 0x80, 0x0e, 0x15, 0x00, 0x02, 0x01, 0x10, 0x20, 0x01, 0x0d,
	    0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, ORIGIN, ASPATH),
	    C(), AS4, RESET(3, 1) },
	{ "mp_unreach_truncated", UPD, A(), B(0x80, 0x0f, 0x02, 0x00, 0x02),
	    C(), AS4, RESET(3, 9) },
	{ "mp_unreach_bad_nlri", UPD, A(), B(0x80, 0x0f, 0x05, 0x00, 0x02,
	    0x01, 0x40, 0x20), C(), AS4, RESET(3, 9) },
	{ "mp_unreach_twice", UPD, A(), B(0x80, 0x0f, 0x03, 0x00, 0x02, 0x01,
	    0x80, 0x0f, 0x03, 0x00, 0x02, 0x01), C(), AS4, RESET(3, 1) },
};

static uint8_t msg[BGP_MSG_MAX];
static struct bgp_update upd;
static struct bgp_err err;

static size_t
build(const struct bad *t)
{
	size_t len = 0;

	switch (t->kind) {
	case RAW:
		memcpy(msg, t->a, t->alen);
		return t->alen;
	case OPEN:
		memset(msg, 0xff, 16);
		len = 19 + t->alen;
		msg[18] = BGP_MSG_OPEN;
		memcpy(msg + 19, t->a, t->alen);
		break;
	case UPD:
		memset(msg, 0xff, 16);
		msg[18] = BGP_MSG_UPDATE;
		len = 19;
		/* the "overrun" cases lie about one of the two lengths */
		if (strcmp(t->name, "upd_withdrawn_overrun") == 0) {
			msg[len++] = 0x00;
			msg[len++] = 0x09;
			msg[len++] = 0x00;
			msg[len++] = 0x00;
			break;
		}
		msg[len++] = (uint8_t)(t->alen >> 8);
		msg[len++] = (uint8_t)t->alen;
		memcpy(msg + len, t->a, t->alen);
		len += t->alen;
		if (strcmp(t->name, "upd_attrlen_overrun") == 0) {
			msg[len++] = 0x00;
			msg[len++] = (uint8_t)(t->blen + 1);
		} else {
			msg[len++] = (uint8_t)(t->blen >> 8);
			msg[len++] = (uint8_t)t->blen;
		}
		memcpy(msg + len, t->b, t->blen);
		len += t->blen;
		memcpy(msg + len, t->c, t->clen);
		len += t->clen;
		break;
	}
	msg[16] = (uint8_t)(len >> 8);
	msg[17] = (uint8_t)len;
	return len;
}

static int
decode_any(const uint8_t *m, size_t len, unsigned flags)
{
	struct bgp_hdr h;
	struct bgp_open o;
	struct bgp_notification n;
	struct bgp_route_refresh rr;
	int rc;

	if ((rc = bgp_hdr_decode(m, len, &h, &err)) < 0)
		return rc;
	switch (h.type) {
	case BGP_MSG_OPEN:
		return bgp_open_decode(m, len, &o, &err);
	case BGP_MSG_UPDATE:
		return bgp_update_decode(m, len, flags, &upd, &err);
	case BGP_MSG_NOTIFICATION:
		return bgp_notification_decode(m, len, &n, &err);
	case BGP_MSG_KEEPALIVE:
		return bgp_keepalive_decode(m, len, &err);
	case BGP_MSG_ROUTE_REFRESH:
		return bgp_rr_decode(m, len, &rr, &err);
	}
	return -EINVAL;
}

static void
corpus_save(const char *name, const uint8_t *m, size_t len)
{
	const char *dir = getenv("BGP_CORPUS_DIR");
	char path[512];
	FILE *f;

	if (dir == NULL || *dir == '\0')
		return;
	(void)snprintf(path, sizeof(path), "%s/bad_%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	(void)fwrite(m, 1, len, f);
	(void)fclose(f);
}

static void
test_case(void **state)
{
	const struct bad *t = *state;
	size_t len = build(t);
	int rc;

	corpus_save(t->name, msg, len);
	rc = decode_any(msg, len, t->flags);
	if (rc != t->rc || err.action != t->action || err.code != t->code ||
	    err.subcode != t->subcode)
		fail_msg("%s: got rc %d, %s %u/%u (%s); want rc %d, %s %u/%u",
		    t->name, rc, bgp_err_action_name(err.action), err.code,
		    err.subcode, err.reason ? err.reason : "-", t->rc,
		    bgp_err_action_name(t->action), t->code, t->subcode);
	assert_non_null(err.reason);
	if (t->data != NULL) {
		assert_int_equal(err.data_len, t->dlen);
		assert_memory_equal(err.data, t->data, t->dlen);
	}
	if (t->kind == UPD && t->rc == 0) {
		/* treat-as-withdraw still hands over what to withdraw */
		assert_int_equal(upd.nlri.count, t->nlri);
	}
	if (t->action == BGP_ERR_SESSION_RESET) {
		uint8_t out[BGP_MSG_MAX];
		struct bgp_notification n;
		struct bgp_err e2;
		int l = bgp_notification_from_err(&err, out, sizeof(out));

		assert_true(l >= BGP_NOTIF_MIN_LEN);
		assert_int_equal(bgp_notification_decode(out, (size_t)l, &n,
		    &e2), 0);
		assert_int_equal(n.code, t->code);
		assert_int_equal(n.subcode, t->subcode);
		assert_int_equal(n.data_len, err.data_len);
	}
}

int
main(void)
{
	static struct CMUnitTest tests[sizeof(bad) / sizeof(bad[0])];
	size_t i, n = sizeof(bad) / sizeof(bad[0]);

	for (i = 0; i < n; i++) {
		tests[i].name = bad[i].name;
		tests[i].test_func = test_case;
		tests[i].initial_state = (void *)&bad[i];
	}
	return _cmocka_run_group_tests("bgp_malformed", tests, n, NULL, NULL);
}
