/* bgp_msg.h — BGP-4 message codec (RFC 4271 §4, §6; RFC 7606 revised
 * UPDATE error handling; RFC 4760 MP-BGP; RFC 6793 4-octet AS; RFC 2918
 * route refresh; RFC 4724 graceful restart; RFC 1997 / RFC 8092
 * communities; RFC 9072 extended OPEN optional parameters).
 *
 * Every decoder takes a whole message, header included, and checks the
 * header again.  Decoders fill a struct bgp_err with the NOTIFICATION the
 * session should send (or, for UPDATE errors that RFC 7606 softens, the
 * code that is only logged) and the action to take.  Encoders write into a
 * caller-supplied buffer and return the message length or -EMSGSIZE.
 * Nothing here allocates or logs.
 *
 * Lifetimes: a decoded UPDATE points into the message it came from (NLRI
 * sections, unknown attributes, NOTIFICATION data).  Copy what you keep.
 *
 * Limits: a message is at most BGP_MSG_MAX (4096) octets (RFC 8654 extended
 * messages are not negotiated), so the fixed arrays below are sized to hold
 * anything a 4096-octet message can carry: no valid message is refused for
 * size.  The only truncating limits are the capability lists (BGP_CAPS_*,
 * extra entries are ignored) and BGP_UNKNOWN_ATTRS_MAX (extra unknown
 * transitive attributes are discarded, reported as BGP_ERR_ATTR_DISCARD).
 */
#ifndef LEAFNET_BGP_MSG_H
#define LEAFNET_BGP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "prefix.h"

#define BGP_PORT		179
#define BGP_VERSION		4
#define BGP_MARKER_LEN		16
#define BGP_HDR_LEN		19
#define BGP_MSG_MAX		4096
#define BGP_OPEN_MIN_LEN	29
#define BGP_NOTIF_MIN_LEN	21
#define BGP_RREFRESH_LEN	23
#define BGP_UPDATE_MIN_LEN	23
#define BGP_AS_TRANS		23456
#define BGP_HOLD_MIN		3	/* a hold time of 1 or 2 s is refused */

enum bgp_msg_type {
	BGP_MSG_OPEN = 1,
	BGP_MSG_UPDATE = 2,
	BGP_MSG_NOTIFICATION = 3,
	BGP_MSG_KEEPALIVE = 4,
	BGP_MSG_ROUTE_REFRESH = 5,
};

/* NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313) and subcodes. */
enum bgp_err_code {
	BGP_ERRC_HEADER = 1,
	BGP_ERRC_OPEN = 2,
	BGP_ERRC_UPDATE = 3,
	BGP_ERRC_HOLD = 4,
	BGP_ERRC_FSM = 5,
	BGP_ERRC_CEASE = 6,
	BGP_ERRC_RREFRESH = 7,
};
#define BGP_ERRS_UNSPECIFIC		0
/* 1: Message Header Error */
#define BGP_ERRS_HDR_SYNC		1	/* Connection Not Synchronized */
#define BGP_ERRS_HDR_LEN		2	/* Bad Message Length */
#define BGP_ERRS_HDR_TYPE		3	/* Bad Message Type */
/* 2: OPEN Message Error */
#define BGP_ERRS_OPEN_VERSION		1
#define BGP_ERRS_OPEN_PEER_AS		2
#define BGP_ERRS_OPEN_BGPID		3
#define BGP_ERRS_OPEN_OPTPARAM		4
#define BGP_ERRS_OPEN_HOLDTIME		6
#define BGP_ERRS_OPEN_CAPA		7	/* RFC 5492 */
/* 3: UPDATE Message Error */
#define BGP_ERRS_UPD_ATTRLIST		1	/* Malformed Attribute List */
#define BGP_ERRS_UPD_UNKWN_WK		2	/* Unrecognized Well-known Attribute */
#define BGP_ERRS_UPD_MISSING_WK		3	/* Missing Well-known Attribute */
#define BGP_ERRS_UPD_ATTRFLAGS		4
#define BGP_ERRS_UPD_ATTRLEN		5
#define BGP_ERRS_UPD_ORIGIN		6
#define BGP_ERRS_UPD_NEXTHOP		8
#define BGP_ERRS_UPD_OPTATTR		9
#define BGP_ERRS_UPD_NETWORK		10
#define BGP_ERRS_UPD_ASPATH		11
/* 5: Finite State Machine Error (RFC 6608) */
#define BGP_ERRS_FSM_OPENSENT		1
#define BGP_ERRS_FSM_OPENCONFIRM	2
#define BGP_ERRS_FSM_ESTABLISHED	3
/* 6: Cease (RFC 4486, RFC 8538) */
#define BGP_ERRS_CEASE_MAXPFX		1
#define BGP_ERRS_CEASE_SHUTDOWN		2
#define BGP_ERRS_CEASE_DECONFIG		3
#define BGP_ERRS_CEASE_RESET		4
#define BGP_ERRS_CEASE_REJECTED		5
#define BGP_ERRS_CEASE_CONFCHANGE	6
#define BGP_ERRS_CEASE_COLLISION	7
#define BGP_ERRS_CEASE_RESOURCES	8
#define BGP_ERRS_CEASE_HARDRESET	9
/* 7: ROUTE-REFRESH Message Error (RFC 7313) */
#define BGP_ERRS_RR_LEN			1

/* What the receiver of a bad message must do (RFC 7606 §2), least to most
 * severe.  Only SESSION_RESET sends the NOTIFICATION in code/subcode/data;
 * for the others the code is for the log. */
enum bgp_err_action {
	BGP_ERR_NONE = 0,
	BGP_ERR_ATTR_DISCARD,		/* attribute(s) dropped, UPDATE used */
	BGP_ERR_TREAT_AS_WITHDRAW,	/* withdraw every prefix in the UPDATE */
	BGP_ERR_AFISAFI_DISABLE,	/* drop routes of err.afi/err.safi */
	BGP_ERR_SESSION_RESET,		/* send the NOTIFICATION, close */
};

#define BGP_ERR_DATA_MAX	(BGP_MSG_MAX - BGP_NOTIF_MIN_LEN)

struct bgp_err {
	enum bgp_err_action action;
	uint8_t		 code, subcode;
	uint16_t	 afi;		/* for BGP_ERR_AFISAFI_DISABLE */
	uint8_t		 safi;
	uint8_t		 attr_type;	/* offending attribute, 0 if none */
	const char	*reason;	/* static text naming the field, for logs */
	size_t		 data_len;
	uint8_t		 data[BGP_ERR_DATA_MAX];
};

/* Address families (RFC 4760). */
#define BGP_AFI_IPV4		1
#define BGP_AFI_IPV6		2
#define BGP_SAFI_UNICAST	1

/* ---- header ---- */

struct bgp_hdr {
	uint16_t	 len;		/* whole message, header included */
	uint8_t		 type;		/* enum bgp_msg_type */
};

/* -ENODATA if fewer than BGP_HDR_LEN bytes are given (read more);
 * -EBADMSG with err set (1/1, 1/2, 1/3, and per-type length checks:
 * OPEN >= 29, UPDATE >= 23, NOTIFICATION >= 21, KEEPALIVE == 19,
 * ROUTE-REFRESH == 23). */
int	 bgp_hdr_decode(const uint8_t *p, size_t len, struct bgp_hdr *ret,
	    struct bgp_err *err);

/* ---- OPEN ---- */

#define BGP_CAP_MP		1
#define BGP_CAP_ROUTE_REFRESH	2
#define BGP_CAP_EXT_NEXTHOP	5
#define BGP_CAP_EXT_MSG		6
#define BGP_CAP_GR		64
#define BGP_CAP_AS4		65
#define BGP_CAP_ADD_PATH	69
#define BGP_CAP_ENH_RR		70

#define BGP_CAPS_F_MP		(1U << 0)
#define BGP_CAPS_F_RR		(1U << 1)
#define BGP_CAPS_F_AS4		(1U << 2)
#define BGP_CAPS_F_GR		(1U << 3)

#define BGP_CAPS_MP_MAX		8
#define BGP_CAPS_GR_MAX		8
#define BGP_CAPS_UNKNOWN_MAX	16

#define BGP_GR_F_RESTART	0x8	/* R: the sender restarted */
#define BGP_GR_F_NOTIFICATION	0x4	/* N: RFC 8538 */
#define BGP_GR_AF_F_FORWARDING	0x80	/* F: forwarding state kept */
#define BGP_GR_TIME_MAX		4095

struct bgp_afisafi {
	uint16_t	 afi;
	uint8_t		 safi;
};

struct bgp_gr_af {
	uint16_t	 afi;
	uint8_t		 safi;
	uint8_t		 flags;		/* BGP_GR_AF_F_* */
};

struct bgp_caps {
	uint32_t	 flags;		/* BGP_CAPS_F_* */
	uint32_t	 as4;		/* the 4-octet AS capability's AS */
	uint8_t		 n_mp;
	struct bgp_afisafi mp[BGP_CAPS_MP_MAX];	/* deduplicated */
	uint8_t		 gr_flags;	/* BGP_GR_F_* (the high nibble >> 4) */
	uint16_t	 gr_time;	/* restart time, 12 bits */
	uint8_t		 n_gr;
	struct bgp_gr_af gr[BGP_CAPS_GR_MAX];
	/* recognised but not supported (extended message, add-path,
	 * enhanced route refresh, ...) or unknown: recorded, ignored */
	uint8_t		 n_unknown;
	struct {
		uint8_t	 code;
		uint8_t	 len;
	} unknown[BGP_CAPS_UNKNOWN_MAX];
};

struct bgp_open {
	uint8_t		 version;
	uint16_t	 my_as;		/* the 2-octet field as sent */
	uint32_t	 as;		/* the real AS: the AS4 capability's if
					 * present, else my_as (decode only) */
	uint16_t	 holdtime;
	uint32_t	 bgpid;		/* host order */
	bool		 ext_params;	/* RFC 9072 encoding was used */
	struct bgp_caps	 caps;
};

/* Checks version (2/1, data = 0x0004), my AS and the AS4 capability
 * (AS 0 -> 2/2, RFC 7607), hold time (2/6), BGP identifier (2/3), optional
 * parameters (2/4 for a non-capability parameter, 2/0 malformed).  Returns
 * 0 or -EBADMSG with err set (always SESSION_RESET). */
int	 bgp_open_decode(const uint8_t *msg, size_t len, struct bgp_open *ret,
	    struct bgp_err *err);
/* The caller's half of 2/2: the peer's real AS must be `expected`, and a
 * 2-octet my_as must agree with the AS4 capability (RFC 6793 §4.2.1).
 * 0 or -EBADMSG with err set. */
int	 bgp_open_check_peer_as(const struct bgp_open *o, uint32_t expected,
	    struct bgp_err *err);
/* Fills my_as from o->caps.as4 when the AS4 capability is set (AS_TRANS
 * above 65535), so callers only set caps.as4. */
int	 bgp_open_encode(const struct bgp_open *o, uint8_t *buf, size_t size);

/* ---- KEEPALIVE, NOTIFICATION, ROUTE-REFRESH ---- */

int	 bgp_keepalive_decode(const uint8_t *msg, size_t len,
	    struct bgp_err *err);
int	 bgp_keepalive_encode(uint8_t *buf, size_t size);

struct bgp_notification {
	uint8_t		 code, subcode;
	const uint8_t	*data;		/* points into the message */
	size_t		 data_len;
};

int	 bgp_notification_decode(const uint8_t *msg, size_t len,
	    struct bgp_notification *ret, struct bgp_err *err);
int	 bgp_notification_encode(const struct bgp_notification *n,
	    uint8_t *buf, size_t size);
/* The NOTIFICATION to send for a decode error. */
int	 bgp_notification_from_err(const struct bgp_err *err,
	    uint8_t *buf, size_t size);
/* RFC 9003 shutdown communication of a Cease/2 or Cease/4: copies the text
 * (NUL-terminated, at most 255 octets) into buf; -ENOENT if none,
 * -EBADMSG if the length octet overruns the data. */
int	 bgp_notification_shutdown_text(const struct bgp_notification *n,
	    char *buf, size_t size);
/* Build Cease/2 or Cease/4 data with a shutdown communication (truncated
 * to 255 octets at a UTF-8 boundary). */
int	 bgp_notification_shutdown_data(const char *text, uint8_t *buf,
	    size_t size);

#define BGP_RR_NORMAL		0	/* subtype (RFC 7313): plain request */
#define BGP_RR_BORR		1
#define BGP_RR_EORR		2

struct bgp_route_refresh {
	uint16_t	 afi;
	uint8_t		 subtype;	/* reserved octet (RFC 2918: 0) */
	uint8_t		 safi;
};

int	 bgp_rr_decode(const uint8_t *msg, size_t len,
	    struct bgp_route_refresh *ret, struct bgp_err *err);
int	 bgp_rr_encode(const struct bgp_route_refresh *rr, uint8_t *buf,
	    size_t size);

/* ---- UPDATE ---- */

/* Path attribute type codes. */
#define BGP_ATTR_ORIGIN			1
#define BGP_ATTR_AS_PATH		2
#define BGP_ATTR_NEXT_HOP		3
#define BGP_ATTR_MED			4
#define BGP_ATTR_LOCAL_PREF		5
#define BGP_ATTR_ATOMIC_AGGREGATE	6
#define BGP_ATTR_AGGREGATOR		7
#define BGP_ATTR_COMMUNITIES		8
#define BGP_ATTR_ORIGINATOR_ID		9
#define BGP_ATTR_CLUSTER_LIST		10
#define BGP_ATTR_MP_REACH_NLRI		14
#define BGP_ATTR_MP_UNREACH_NLRI	15
#define BGP_ATTR_AS4_PATH		17
#define BGP_ATTR_AS4_AGGREGATOR		18
#define BGP_ATTR_LARGE_COMMUNITY	32
#define BGP_ATTR_BIT(t)			(1ULL << (t))

/* Attribute flags. */
#define BGP_ATTR_F_OPTIONAL	0x80
#define BGP_ATTR_F_TRANSITIVE	0x40
#define BGP_ATTR_F_PARTIAL	0x20
#define BGP_ATTR_F_EXTLEN	0x10

#define BGP_ORIGIN_IGP		0
#define BGP_ORIGIN_EGP		1
#define BGP_ORIGIN_INCOMPLETE	2

#define BGP_ASSEG_SET		1
#define BGP_ASSEG_SEQUENCE	2
#define BGP_ASSEG_CONFED_SEQUENCE 3	/* RFC 5065 */
#define BGP_ASSEG_CONFED_SET	4

/* Sized for the largest path a 4096-octet UPDATE can carry (2-octet ASNs,
 * one per segment), so a valid path is never refused for size. */
#define BGP_ASPATH_SEGS_MAX	1024
#define BGP_ASPATH_ASNS_MAX	2048
#define BGP_COMM_MAX		1024
#define BGP_LCOMM_MAX		340
#define BGP_CLUSTER_MAX		1024
#define BGP_UNKNOWN_ATTRS_MAX	32

/* Well-known communities (RFC 1997, RFC 7999, RFC 8326). */
#define BGP_COMM_GRACEFUL_SHUTDOWN	0xffff0000U
#define BGP_COMM_BLACKHOLE		0xffff029aU
#define BGP_COMM_NO_EXPORT		0xffffff01U
#define BGP_COMM_NO_ADVERTISE		0xffffff02U
#define BGP_COMM_NO_EXPORT_SUBCONFED	0xffffff03U

struct bgp_aspath_seg {
	uint8_t		 type;		/* BGP_ASSEG_* */
	uint8_t		 len;		/* ASNs, 1..255 */
	uint16_t	 off;		/* index of the first in asn[] */
};

struct bgp_aspath {
	uint16_t	 nsegs;
	uint16_t	 nasns;
	struct bgp_aspath_seg seg[BGP_ASPATH_SEGS_MAX];
	uint32_t	 asn[BGP_ASPATH_ASNS_MAX];
};

struct bgp_lcomm {
	uint32_t	 global, local1, local2;
};

struct bgp_attr_raw {
	uint8_t		 flags;		/* without EXTLEN; PARTIAL set */
	uint8_t		 type;
	uint16_t	 len;
	const uint8_t	*data;		/* points into the message */
};

/* A path attribute set.  `present` has BGP_ATTR_BIT(type) for each known
 * attribute carried.  AS4_PATH / AS4_AGGREGATOR never appear here: on a
 * 2-octet session the decoder merges them into aspath / aggr_as (RFC 6793
 * §4.2.3) and the encoder splits them out again. */
struct bgp_attrs {
	uint64_t	 present;
	uint8_t		 origin;
	struct bgp_aspath aspath;
	struct in_addr	 nexthop;
	uint32_t	 med;
	uint32_t	 local_pref;
	uint32_t	 aggr_as;
	struct in_addr	 aggr_id;
	uint32_t	 originator_id;
	uint16_t	 n_cluster;
	uint32_t	 cluster[BGP_CLUSTER_MAX];
	uint16_t	 n_comm;
	uint32_t	 comm[BGP_COMM_MAX];
	uint16_t	 n_lcomm;
	struct bgp_lcomm lcomm[BGP_LCOMM_MAX];	/* duplicates removed */
	uint8_t		 n_unknown;		/* optional transitive only */
	struct bgp_attr_raw unknown[BGP_UNKNOWN_ATTRS_MAX];
};

/* A run of prefixes of one family.  Decoded: raw/raw_len are the wire
 * bytes (already validated) and count the number of prefixes; read them
 * with bgp_nlri_next().  To encode: either set pfx/npfx (used when pfx is
 * not NULL) or raw/raw_len. */
struct bgp_nlri {
	uint16_t	 afi;
	uint8_t		 safi;
	const uint8_t	*raw;
	size_t		 raw_len;
	size_t		 count;
	const struct prefix *pfx;
	size_t		 npfx;
};

struct bgp_nlri_iter {
	struct {
		const uint8_t *p;
		size_t	 len, off;
	} r;
	int		 family;
};

struct bgp_mp_reach {
	struct bgp_nlri	 nlri;		/* afi/safi live here */
	uint8_t		 nh_len;	/* 4, 16 or 32 for the known AFIs */
	struct ipaddr	 nh;		/* IPv4, or IPv6 global */
	struct ipaddr	 nh_ll;		/* IPv6 link-local (nh_len 32), else 0 */
};

#define BGP_UPD_F_MP_REACH	(1U << 0)
#define BGP_UPD_F_MP_UNREACH	(1U << 1)
#define BGP_UPD_F_EOR		(1U << 2)

struct bgp_update {
	unsigned	 flags;		/* BGP_UPD_F_* */
	struct bgp_nlri	 withdrawn;	/* IPv4 unicast */
	struct bgp_attrs attrs;
	struct bgp_nlri	 nlri;		/* IPv4 unicast */
	struct bgp_mp_reach mp_reach;
	struct bgp_nlri	 mp_unreach;
	/* End-of-RIB (RFC 4724 §2): set with BGP_UPD_F_EOR */
	uint16_t	 eor_afi;
	uint8_t		 eor_safi;
};

/* Decode options. */
#define BGP_MSG_F_AS4		(1U << 0)	/* 4-octet AS negotiated */

/* Returns 0 (check err->action: NONE, ATTR_DISCARD, TREAT_AS_WITHDRAW,
 * AFISAFI_DISABLE) or -EBADMSG for SESSION_RESET.  With TREAT_AS_WITHDRAW,
 * ret->withdrawn, ret->nlri, ret->mp_reach.nlri and ret->mp_unreach are
 * all valid and every prefix in them must be withdrawn; ret->attrs is not
 * to be used.  With ATTR_DISCARD, the bad attributes are simply absent. */
int	 bgp_update_decode(const uint8_t *msg, size_t len, unsigned flags,
	    struct bgp_update *ret, struct bgp_err *err);
/* MP_REACH/MP_UNREACH go first (RFC 7606 §5.1); on a 2-octet session
 * AS_PATH is written with AS_TRANS and AS4_PATH / AS4_AGGREGATOR added
 * when needed.  -EMSGSIZE if it does not fit, -EINVAL for a prefix of the
 * wrong family or length, -ENODATA if u holds nothing (an empty UPDATE
 * would be an End-of-RIB: set BGP_UPD_F_EOR for that). */
int	 bgp_update_encode(const struct bgp_update *u, unsigned flags,
	    uint8_t *buf, size_t size);
/* End-of-RIB marker for afi/safi. */
int	 bgp_eor_encode(uint16_t afi, uint8_t safi, uint8_t *buf, size_t size);

/* 1 and the next prefix, 0 at the end.  Only for NLRI a decoder
 * validated, or that the caller built. */
void	 bgp_nlri_iter_init(const struct bgp_nlri *n, struct bgp_nlri_iter *it);
int	 bgp_nlri_next(struct bgp_nlri_iter *it, struct prefix *ret);

/* Packing: announce (npfx > 0, attrs != NULL) or withdraw (attrs NULL)
 * the prefixes of one family, all with the same attributes, in as few
 * UPDATEs of at most `max` (<= BGP_MSG_MAX) octets as possible.  Each
 * message is built in a BGP_MSG_MAX buffer and handed to emit(); a
 * non-zero return from emit stops and is returned.  IPv6 goes in
 * MP_REACH (next hop from mp_nh / mp_nh_ll) or MP_UNREACH.  Returns the
 * number of messages or -errno. */
struct bgp_pack {
	const struct bgp_attrs *attrs;	/* NULL: withdraw */
	struct ipaddr	 mp_nh;		/* IPv6 global next hop */
	struct ipaddr	 mp_nh_ll;	/* optional link-local */
	unsigned	 flags;		/* BGP_MSG_F_* */
	size_t		 max;		/* 0: BGP_MSG_MAX */
	int		(*emit)(const uint8_t *msg, size_t len, void *arg);
	void		*arg;
};
int	 bgp_update_pack(const struct bgp_pack *pk, int family,
	    const struct prefix *pfx, size_t npfx);

/* Attribute helpers (bgp_attr.c). */
void	 bgp_attrs_init(struct bgp_attrs *a);
bool	 bgp_attrs_eq(const struct bgp_attrs *a, const struct bgp_attrs *b);
bool	 bgp_aspath_eq(const struct bgp_aspath *a, const struct bgp_aspath *b);
/* Append a segment; -ENOSPC if it does not fit, -EINVAL if n is 0 or > 255. */
int	 bgp_aspath_append(struct bgp_aspath *p, uint8_t type,
	    const uint32_t *asns, size_t n);
/* Path length for best-path selection: a set counts 1, confed segments 0. */
unsigned bgp_aspath_count(const struct bgp_aspath *p);
/* Compare NLRI sections prefix by prefix (raw or pfx form). */
bool	 bgp_nlri_eq(const struct bgp_nlri *a, const struct bgp_nlri *b);

/* ---- names, for logs ---- */

enum bgp_state {
	BGP_STATE_IDLE = 0,
	BGP_STATE_CONNECT,
	BGP_STATE_ACTIVE,
	BGP_STATE_OPENSENT,
	BGP_STATE_OPENCONFIRM,
	BGP_STATE_ESTABLISHED,
};

const char *bgp_msg_type_name(unsigned type);
const char *bgp_err_name(unsigned code);
const char *bgp_suberr_name(unsigned code, unsigned subcode);
const char *bgp_state_name(unsigned state);
const char *bgp_attr_name(unsigned type);
const char *bgp_cap_name(unsigned code);
const char *bgp_afi_name(unsigned afi, unsigned safi);
const char *bgp_err_action_name(unsigned action);

#endif
