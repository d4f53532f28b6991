/* bgp_msg.c — BGP header, OPEN, KEEPALIVE, NOTIFICATION and ROUTE-REFRESH
 * codec, error bookkeeping and name tables.  UPDATE lives in
 * bgp_update.c / bgp_attr.c. */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "bgp_msg.h"
#include "bgp_msg_priv.h"

/* ---- errors ---- */

void
bgp_err_clear(struct bgp_err *err)
{
	err->action = BGP_ERR_NONE;
	err->code = 0;
	err->subcode = 0;
	err->afi = 0;
	err->safi = 0;
	err->attr_type = 0;
	err->reason = NULL;
	err->data_len = 0;
}

bool
bgp_err_raise(struct bgp_err *err, enum bgp_err_action action, uint8_t code,
    uint8_t subcode, const char *reason, const void *data, size_t data_len)
{
	if (action <= err->action)
		return false;
	err->action = action;
	err->code = code;
	err->subcode = subcode;
	err->reason = reason;
	if (data_len > sizeof(err->data))
		data_len = sizeof(err->data);
	if (data_len > 0)
		memcpy(err->data, data, data_len);
	err->data_len = data_len;
	return true;
}

static int
reset(struct bgp_err *err, uint8_t code, uint8_t subcode, const char *reason,
    const void *data, size_t data_len)
{
	(void)bgp_err_raise(err, BGP_ERR_SESSION_RESET, code, subcode, reason,
	    data, data_len);
	return -EBADMSG;
}

/* ---- header ---- */

static int
hdr_min_len(uint8_t type, uint16_t len)
{
	switch (type) {
	case BGP_MSG_OPEN:
		return len >= BGP_OPEN_MIN_LEN;
	case BGP_MSG_UPDATE:
		return len >= BGP_UPDATE_MIN_LEN;
	case BGP_MSG_NOTIFICATION:
		return len >= BGP_NOTIF_MIN_LEN;
	case BGP_MSG_KEEPALIVE:
		return len == BGP_HDR_LEN;
	case BGP_MSG_ROUTE_REFRESH:
		return len == BGP_RREFRESH_LEN;
	}
	return 0;
}

int
bgp_hdr_decode(const uint8_t *p, size_t len, struct bgp_hdr *ret,
    struct bgp_err *err)
{
	struct buf_reader r;
	uint16_t mlen;
	uint8_t type;
	size_t i;

	bgp_err_clear(err);
	if (p == NULL || len < BGP_HDR_LEN)
		return -ENODATA;
	for (i = 0; i < BGP_MARKER_LEN; i++)
		if (p[i] != 0xff)
			return reset(err, BGP_ERRC_HEADER, BGP_ERRS_HDR_SYNC,
			    "marker is not all ones", NULL, 0);
	buf_reader_init(&r, p + BGP_MARKER_LEN, len - BGP_MARKER_LEN);
	if (buf_get_u16(&r, &mlen) == -1 || buf_get_u8(&r, &type) == -1)
		return -ENODATA;
	if (mlen < BGP_HDR_LEN || mlen > BGP_MSG_MAX)
		return reset(err, BGP_ERRC_HEADER, BGP_ERRS_HDR_LEN,
		    "message length is outside 19..4096",
		    p + BGP_MARKER_LEN, 2);
	if (type < BGP_MSG_OPEN || type > BGP_MSG_ROUTE_REFRESH)
		return reset(err, BGP_ERRC_HEADER, BGP_ERRS_HDR_TYPE,
		    "unknown message type", p + BGP_MARKER_LEN + 2, 1);
	if (!hdr_min_len(type, mlen))
		return reset(err, BGP_ERRC_HEADER, BGP_ERRS_HDR_LEN,
		    "message length is wrong for its type",
		    p + BGP_MARKER_LEN, 2);
	ret->len = mlen;
	ret->type = type;
	return 0;
}

int
bgp_msg_open_body(const uint8_t *msg, size_t len, uint8_t type,
    struct buf_reader *body, struct bgp_err *err)
{
	struct bgp_hdr h;
	int rc;

	if ((rc = bgp_hdr_decode(msg, len, &h, err)) < 0)
		return rc;
	if (h.type != type)
		return -EINVAL;		/* the caller dispatched wrongly */
	if (len < h.len)
		return -ENODATA;
	buf_reader_init(body, msg + BGP_HDR_LEN, h.len - BGP_HDR_LEN);
	return 0;
}

void
bgp_msg_begin(struct buf_writer *w, uint8_t *buf, size_t size, uint8_t type,
    int *errs)
{
	uint8_t marker[BGP_MARKER_LEN];

	if (size > BGP_MSG_MAX)
		size = BGP_MSG_MAX;
	memset(marker, 0xff, sizeof(marker));
	buf_writer_init(w, buf, size);
	*errs += buf_add_bytes(w, marker, sizeof(marker));
	*errs += buf_add_u16(w, 0);		/* patched by bgp_msg_finish */
	*errs += buf_add_u8(w, type);
}

int
bgp_msg_finish(struct buf_writer *w, int errs)
{
	if (errs != 0 || w->full)
		return -EMSGSIZE;
	if (buf_set_u16_at(w, BGP_MARKER_LEN, (uint16_t)w->len) == -1)
		return -EMSGSIZE;
	return (int)w->len;
}

/* ---- OPEN ---- */

static const uint8_t bgp_version_data[2] = { 0, BGP_VERSION };

static void
caps_add_mp(struct bgp_caps *c, uint16_t afi, uint8_t safi)
{
	uint8_t i;

	for (i = 0; i < c->n_mp; i++)
		if (c->mp[i].afi == afi && c->mp[i].safi == safi)
			return;
	if (c->n_mp < BGP_CAPS_MP_MAX) {
		c->mp[c->n_mp].afi = afi;
		c->mp[c->n_mp].safi = safi;
		c->n_mp++;
	}
	c->flags |= BGP_CAPS_F_MP;
}

static int
cap_decode(uint8_t code, struct buf_reader *v, struct bgp_caps *c,
    struct bgp_err *err)
{
	uint16_t afi, w;
	uint8_t safi, res, fl;
	uint32_t as;
	size_t len = buf_left(v);

	switch (code) {
	case BGP_CAP_MP:
		if (len != 4 || buf_get_u16(v, &afi) == -1 ||
		    buf_get_u8(v, &res) == -1 || buf_get_u8(v, &safi) == -1)
			return reset(err, BGP_ERRC_OPEN, BGP_ERRS_UNSPECIFIC,
			    "multiprotocol capability length is not 4",
			    NULL, 0);
		caps_add_mp(c, afi, safi);
		return 0;
	case BGP_CAP_ROUTE_REFRESH:
		if (len != 0)
			return reset(err, BGP_ERRC_OPEN, BGP_ERRS_UNSPECIFIC,
			    "route refresh capability length is not 0",
			    NULL, 0);
		c->flags |= BGP_CAPS_F_RR;
		return 0;
	case BGP_CAP_AS4:
		if (len != 4 || buf_get_u32(v, &as) == -1)
			return reset(err, BGP_ERRC_OPEN, BGP_ERRS_UNSPECIFIC,
			    "4-octet AS capability length is not 4", NULL, 0);
		if (as == 0)
			return reset(err, BGP_ERRC_OPEN, BGP_ERRS_OPEN_PEER_AS,
			    "4-octet AS capability carries AS 0", NULL, 0);
		if (!(c->flags & BGP_CAPS_F_AS4)) {
			c->as4 = as;
			c->flags |= BGP_CAPS_F_AS4;
		}
		return 0;
	case BGP_CAP_GR:
		if (len < 2 || (len - 2) % 4 != 0 || buf_get_u16(v, &w) == -1)
			return reset(err, BGP_ERRC_OPEN, BGP_ERRS_UNSPECIFIC,
			    "graceful restart capability length is not 2 + 4n",
			    NULL, 0);
		if (c->flags & BGP_CAPS_F_GR)
			return 0;	/* the first one counts */
		c->flags |= BGP_CAPS_F_GR;
		c->gr_flags = w >> 12;
		c->gr_time = w & BGP_GR_TIME_MAX;
		while (buf_get_u16(v, &afi) == 0 && buf_get_u8(v, &safi) == 0 &&
		    buf_get_u8(v, &fl) == 0) {
			if (c->n_gr >= BGP_CAPS_GR_MAX)
				continue;
			c->gr[c->n_gr].afi = afi;
			c->gr[c->n_gr].safi = safi;
			c->gr[c->n_gr].flags = fl;
			c->n_gr++;
		}
		return 0;
	default:
		if (c->n_unknown < BGP_CAPS_UNKNOWN_MAX) {
			c->unknown[c->n_unknown].code = code;
			c->unknown[c->n_unknown].len = (uint8_t)len;
			c->n_unknown++;
		}
		return 0;
	}
}

static int
caps_decode(struct buf_reader *r, struct bgp_caps *c, struct bgp_err *err)
{
	struct buf_reader v;
	uint8_t code, len;
	int rc;

	while (buf_left(r) > 0) {
		if (buf_get_u8(r, &code) == -1 || buf_get_u8(r, &len) == -1 ||
		    buf_sub(r, len, &v) == -1)
			return reset(err, BGP_ERRC_OPEN, BGP_ERRS_UNSPECIFIC,
			    "capability overruns its optional parameter",
			    NULL, 0);
		if ((rc = cap_decode(code, &v, c, err)) < 0)
			return rc;
	}
	return 0;
}

int
bgp_open_decode(const uint8_t *msg, size_t len, struct bgp_open *ret,
    struct bgp_err *err)
{
	struct buf_reader r, params, v;
	struct bgp_open o;
	uint8_t optlen8, ptype, first, plen8;
	uint16_t optlen, plen;
	int rc;

	if ((rc = bgp_msg_open_body(msg, len, BGP_MSG_OPEN, &r, err)) < 0)
		return rc;
	memset(&o, 0, sizeof(o));
	if (buf_get_u8(&r, &o.version) == -1 ||
	    buf_get_u16(&r, &o.my_as) == -1 ||
	    buf_get_u16(&r, &o.holdtime) == -1 ||
	    buf_get_u32(&r, &o.bgpid) == -1 || buf_get_u8(&r, &optlen8) == -1)
		return reset(err, BGP_ERRC_HEADER, BGP_ERRS_HDR_LEN,
		    "OPEN is too short", msg + BGP_MARKER_LEN, 2);
	if (o.version != BGP_VERSION)
		return reset(err, BGP_ERRC_OPEN, BGP_ERRS_OPEN_VERSION,
		    "unsupported BGP version (only 4)", bgp_version_data, 2);
	if (o.my_as == 0)
		return reset(err, BGP_ERRC_OPEN, BGP_ERRS_OPEN_PEER_AS,
		    "my AS is 0", NULL, 0);
	if (o.holdtime > 0 && o.holdtime < BGP_HOLD_MIN)
		return reset(err, BGP_ERRC_OPEN, BGP_ERRS_OPEN_HOLDTIME,
		    "hold time is 1 or 2 seconds (must be 0 or >= 3)", NULL, 0);
	if (o.bgpid == 0)
		return reset(err, BGP_ERRC_OPEN, BGP_ERRS_OPEN_BGPID,
		    "BGP identifier is 0", NULL, 0);

	optlen = optlen8;
	/* RFC 9072: a first parameter type of 255 announces a 2-octet
	 * length for the whole area and for every parameter. */
	if (optlen8 > 0 && buf_peek_u8(&r, &first) == 0 && first == 255) {
		o.ext_params = true;
		if (buf_skip(&r, 1) == -1 || buf_get_u16(&r, &optlen) == -1)
			return reset(err, BGP_ERRC_OPEN, BGP_ERRS_UNSPECIFIC,
			    "extended optional parameters length is missing",
			    NULL, 0);
	}
	if (buf_sub(&r, optlen, &params) == -1 || buf_left(&r) != 0)
		return reset(err, BGP_ERRC_OPEN, BGP_ERRS_UNSPECIFIC,
		    "optional parameters length disagrees with the message "
		    "length", NULL, 0);
	while (buf_left(&params) > 0) {
		if (buf_get_u8(&params, &ptype) == -1)
			break;
		if (o.ext_params)
			rc = buf_get_u16(&params, &plen);
		else {
			rc = buf_get_u8(&params, &plen8);
			plen = plen8;
		}
		if (rc == -1 || buf_sub(&params, plen, &v) == -1)
			return reset(err, BGP_ERRC_OPEN, BGP_ERRS_UNSPECIFIC,
			    "optional parameter overruns the parameter area",
			    NULL, 0);
		if (ptype != 2)
			return reset(err, BGP_ERRC_OPEN, BGP_ERRS_OPEN_OPTPARAM,
			    "unsupported optional parameter (only "
			    "capabilities, type 2)", NULL, 0);
		if ((rc = caps_decode(&v, &o.caps, err)) < 0)
			return rc;
	}
	o.as = (o.caps.flags & BGP_CAPS_F_AS4) ? o.caps.as4 : o.my_as;
	*ret = o;
	return 0;
}

int
bgp_open_check_peer_as(const struct bgp_open *o, uint32_t expected,
    struct bgp_err *err)
{
	bgp_err_clear(err);
	if ((o->caps.flags & BGP_CAPS_F_AS4) && o->my_as != BGP_AS_TRANS &&
	    o->my_as != o->caps.as4)
		return reset(err, BGP_ERRC_OPEN, BGP_ERRS_OPEN_PEER_AS,
		    "my AS disagrees with the 4-octet AS capability", NULL, 0);
	if (o->as != expected)
		return reset(err, BGP_ERRC_OPEN, BGP_ERRS_OPEN_PEER_AS,
		    "peer AS is not the configured remote AS", NULL, 0);
	return 0;
}

static void
caps_encode(struct buf_writer *w, const struct bgp_caps *c, int *errs)
{
	uint8_t i;

	if (c->flags & BGP_CAPS_F_MP) {
		for (i = 0; i < c->n_mp && i < BGP_CAPS_MP_MAX; i++) {
			*errs += buf_add_u8(w, BGP_CAP_MP);
			*errs += buf_add_u8(w, 4);
			*errs += buf_add_u16(w, c->mp[i].afi);
			*errs += buf_add_u8(w, 0);
			*errs += buf_add_u8(w, c->mp[i].safi);
		}
	}
	if (c->flags & BGP_CAPS_F_RR) {
		*errs += buf_add_u8(w, BGP_CAP_ROUTE_REFRESH);
		*errs += buf_add_u8(w, 0);
	}
	if (c->flags & BGP_CAPS_F_GR) {
		uint8_t n = c->n_gr < BGP_CAPS_GR_MAX ? c->n_gr : BGP_CAPS_GR_MAX;

		*errs += buf_add_u8(w, BGP_CAP_GR);
		*errs += buf_add_u8(w, 2 + 4 * n);
		*errs += buf_add_u16(w, (uint16_t)((c->gr_flags & 0xf) << 12 |
		    (c->gr_time & BGP_GR_TIME_MAX)));
		for (i = 0; i < n; i++) {
			*errs += buf_add_u16(w, c->gr[i].afi);
			*errs += buf_add_u8(w, c->gr[i].safi);
			*errs += buf_add_u8(w, c->gr[i].flags);
		}
	}
	if (c->flags & BGP_CAPS_F_AS4) {
		*errs += buf_add_u8(w, BGP_CAP_AS4);
		*errs += buf_add_u8(w, 4);
		*errs += buf_add_u32(w, c->as4);
	}
}

int
bgp_open_encode(const struct bgp_open *o, uint8_t *buf, size_t size)
{
	struct buf_writer w;
	size_t optlen_off, plen_off, start;
	uint16_t my_as = o->my_as;
	int errs = 0;

	if (my_as == 0 && (o->caps.flags & BGP_CAPS_F_AS4))
		my_as = o->caps.as4 > 0xffff ? BGP_AS_TRANS :
		    (uint16_t)o->caps.as4;
	bgp_msg_begin(&w, buf, size, BGP_MSG_OPEN, &errs);
	errs += buf_add_u8(&w, BGP_VERSION);
	errs += buf_add_u16(&w, my_as);
	errs += buf_add_u16(&w, o->holdtime);
	errs += buf_add_u32(&w, o->bgpid);
	optlen_off = w.len;
	errs += buf_add_u8(&w, 0);
	if (o->caps.flags != 0) {
		/* all capabilities in one parameter (RFC 5492 §4) */
		errs += buf_add_u8(&w, 2);
		plen_off = w.len;
		errs += buf_add_u8(&w, 0);
		start = w.len;
		caps_encode(&w, &o->caps, &errs);
		if (errs == 0 && w.len - start > 253)
			return -EMSGSIZE;	/* would need RFC 9072 */
		errs += buf_set_u8_at(&w, plen_off, (uint8_t)(w.len - start));
		errs += buf_set_u8_at(&w, optlen_off,
		    (uint8_t)(w.len - optlen_off - 1));
	}
	return bgp_msg_finish(&w, errs);
}

/* ---- KEEPALIVE ---- */

int
bgp_keepalive_decode(const uint8_t *msg, size_t len, struct bgp_err *err)
{
	struct buf_reader r;

	return bgp_msg_open_body(msg, len, BGP_MSG_KEEPALIVE, &r, err);
}

int
bgp_keepalive_encode(uint8_t *buf, size_t size)
{
	struct buf_writer w;
	int errs = 0;

	bgp_msg_begin(&w, buf, size, BGP_MSG_KEEPALIVE, &errs);
	return bgp_msg_finish(&w, errs);
}

/* ---- NOTIFICATION ---- */

int
bgp_notification_decode(const uint8_t *msg, size_t len,
    struct bgp_notification *ret, struct bgp_err *err)
{
	struct buf_reader r;
	struct bgp_notification n;
	int rc;

	if ((rc = bgp_msg_open_body(msg, len, BGP_MSG_NOTIFICATION, &r,
	    err)) < 0)
		return rc;
	if (buf_get_u8(&r, &n.code) == -1 || buf_get_u8(&r, &n.subcode) == -1)
		return reset(err, BGP_ERRC_HEADER, BGP_ERRS_HDR_LEN,
		    "NOTIFICATION is too short", msg + BGP_MARKER_LEN, 2);
	n.data = buf_cur(&r);
	n.data_len = buf_left(&r);
	*ret = n;
	return 0;
}

int
bgp_notification_encode(const struct bgp_notification *n, uint8_t *buf,
    size_t size)
{
	struct buf_writer w;
	int errs = 0;

	if (n->data_len > BGP_ERR_DATA_MAX)
		return -EMSGSIZE;
	bgp_msg_begin(&w, buf, size, BGP_MSG_NOTIFICATION, &errs);
	errs += buf_add_u8(&w, n->code);
	errs += buf_add_u8(&w, n->subcode);
	errs += buf_add_bytes(&w, n->data, n->data_len);
	return bgp_msg_finish(&w, errs);
}

int
bgp_notification_from_err(const struct bgp_err *err, uint8_t *buf,
    size_t size)
{
	struct bgp_notification n = {
		.code = err->code,
		.subcode = err->subcode,
		.data = err->data,
		.data_len = err->data_len,
	};

	return bgp_notification_encode(&n, buf, size);
}

int
bgp_notification_shutdown_text(const struct bgp_notification *n, char *buf,
    size_t size)
{
	size_t len, i;

	if (n->code != BGP_ERRC_CEASE || (n->subcode != BGP_ERRS_CEASE_SHUTDOWN &&
	    n->subcode != BGP_ERRS_CEASE_RESET) || n->data_len == 0 ||
	    n->data[0] == 0)
		return -ENOENT;
	len = n->data[0];
	if (1 + len > n->data_len)
		return -EBADMSG;
	if (size == 0)
		return -ENOSPC;
	if (len > size - 1)
		len = size - 1;
	/* keep it safe for one log line: no control characters */
	for (i = 0; i < len; i++) {
		uint8_t c = n->data[1 + i];

		buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	buf[len] = '\0';
	return (int)len;
}

int
bgp_notification_shutdown_data(const char *text, uint8_t *buf, size_t size)
{
	size_t len = strlen(text);

	if (len > 255) {
		len = 255;
		/* do not cut a UTF-8 sequence */
		while (len > 0 && ((uint8_t)text[len] & 0xc0) == 0x80)
			len--;
	}
	if (size < 1 + len)
		return -EMSGSIZE;
	buf[0] = (uint8_t)len;
	memcpy(buf + 1, text, len);
	return (int)(1 + len);
}

/* ---- ROUTE-REFRESH ---- */

int
bgp_rr_decode(const uint8_t *msg, size_t len, struct bgp_route_refresh *ret,
    struct bgp_err *err)
{
	struct buf_reader r;
	struct bgp_route_refresh rr;
	int rc;

	/* RFC 2918: the header check already refused a length != 23 (1/2). */
	if ((rc = bgp_msg_open_body(msg, len, BGP_MSG_ROUTE_REFRESH, &r,
	    err)) < 0)
		return rc;
	if (buf_get_u16(&r, &rr.afi) == -1 || buf_get_u8(&r, &rr.subtype) == -1 ||
	    buf_get_u8(&r, &rr.safi) == -1)
		return reset(err, BGP_ERRC_HEADER, BGP_ERRS_HDR_LEN,
		    "ROUTE-REFRESH is too short", msg + BGP_MARKER_LEN, 2);
	*ret = rr;
	return 0;
}

int
bgp_rr_encode(const struct bgp_route_refresh *rr, uint8_t *buf, size_t size)
{
	struct buf_writer w;
	int errs = 0;

	bgp_msg_begin(&w, buf, size, BGP_MSG_ROUTE_REFRESH, &errs);
	errs += buf_add_u16(&w, rr->afi);
	errs += buf_add_u8(&w, rr->subtype);
	errs += buf_add_u8(&w, rr->safi);
	return bgp_msg_finish(&w, errs);
}

/* ---- names ---- */

#define NAME(tab, i) \
	((i) < sizeof(tab) / sizeof((tab)[0]) && (tab)[i] != NULL ? \
	    (tab)[i] : "unknown")

static const char *const msg_names[] = {
	[BGP_MSG_OPEN] = "OPEN",
	[BGP_MSG_UPDATE] = "UPDATE",
	[BGP_MSG_NOTIFICATION] = "NOTIFICATION",
	[BGP_MSG_KEEPALIVE] = "KEEPALIVE",
	[BGP_MSG_ROUTE_REFRESH] = "ROUTE-REFRESH",
};

static const char *const err_names[] = {
	[BGP_ERRC_HEADER] = "Message Header Error",
	[BGP_ERRC_OPEN] = "OPEN Message Error",
	[BGP_ERRC_UPDATE] = "UPDATE Message Error",
	[BGP_ERRC_HOLD] = "Hold Timer Expired",
	[BGP_ERRC_FSM] = "Finite State Machine Error",
	[BGP_ERRC_CEASE] = "Cease",
	[BGP_ERRC_RREFRESH] = "ROUTE-REFRESH Message Error",
};

static const char *const hdr_sub[] = {
	[0] = "Unspecific",
	[BGP_ERRS_HDR_SYNC] = "Connection Not Synchronized",
	[BGP_ERRS_HDR_LEN] = "Bad Message Length",
	[BGP_ERRS_HDR_TYPE] = "Bad Message Type",
};

static const char *const open_sub[] = {
	[0] = "Unspecific",
	[BGP_ERRS_OPEN_VERSION] = "Unsupported Version Number",
	[BGP_ERRS_OPEN_PEER_AS] = "Bad Peer AS",
	[BGP_ERRS_OPEN_BGPID] = "Bad BGP Identifier",
	[BGP_ERRS_OPEN_OPTPARAM] = "Unsupported Optional Parameter",
	[5] = "Authentication Failure (deprecated)",
	[BGP_ERRS_OPEN_HOLDTIME] = "Unacceptable Hold Time",
	[BGP_ERRS_OPEN_CAPA] = "Unsupported Capability",
};

static const char *const upd_sub[] = {
	[0] = "Unspecific",
	[BGP_ERRS_UPD_ATTRLIST] = "Malformed Attribute List",
	[BGP_ERRS_UPD_UNKWN_WK] = "Unrecognized Well-known Attribute",
	[BGP_ERRS_UPD_MISSING_WK] = "Missing Well-known Attribute",
	[BGP_ERRS_UPD_ATTRFLAGS] = "Attribute Flags Error",
	[BGP_ERRS_UPD_ATTRLEN] = "Attribute Length Error",
	[BGP_ERRS_UPD_ORIGIN] = "Invalid ORIGIN Attribute",
	[7] = "AS Routing Loop (deprecated)",
	[BGP_ERRS_UPD_NEXTHOP] = "Invalid NEXT_HOP Attribute",
	[BGP_ERRS_UPD_OPTATTR] = "Optional Attribute Error",
	[BGP_ERRS_UPD_NETWORK] = "Invalid Network Field",
	[BGP_ERRS_UPD_ASPATH] = "Malformed AS_PATH",
};

static const char *const fsm_sub[] = {
	[0] = "Unspecified Error",
	[BGP_ERRS_FSM_OPENSENT] = "Unexpected Message in OpenSent State",
	[BGP_ERRS_FSM_OPENCONFIRM] = "Unexpected Message in OpenConfirm State",
	[BGP_ERRS_FSM_ESTABLISHED] = "Unexpected Message in Established State",
};

static const char *const cease_sub[] = {
	[0] = "Unspecific",
	[BGP_ERRS_CEASE_MAXPFX] = "Maximum Number of Prefixes Reached",
	[BGP_ERRS_CEASE_SHUTDOWN] = "Administrative Shutdown",
	[BGP_ERRS_CEASE_DECONFIG] = "Peer De-configured",
	[BGP_ERRS_CEASE_RESET] = "Administrative Reset",
	[BGP_ERRS_CEASE_REJECTED] = "Connection Rejected",
	[BGP_ERRS_CEASE_CONFCHANGE] = "Other Configuration Change",
	[BGP_ERRS_CEASE_COLLISION] = "Connection Collision Resolution",
	[BGP_ERRS_CEASE_RESOURCES] = "Out of Resources",
	[BGP_ERRS_CEASE_HARDRESET] = "Hard Reset",
};

static const char *const rr_sub[] = {
	[0] = "Reserved",
	[BGP_ERRS_RR_LEN] = "Invalid Message Length",
};

static const char *const state_names[] = {
	[BGP_STATE_IDLE] = "Idle",
	[BGP_STATE_CONNECT] = "Connect",
	[BGP_STATE_ACTIVE] = "Active",
	[BGP_STATE_OPENSENT] = "OpenSent",
	[BGP_STATE_OPENCONFIRM] = "OpenConfirm",
	[BGP_STATE_ESTABLISHED] = "Established",
};

static const char *const attr_names[] = {
	[BGP_ATTR_ORIGIN] = "ORIGIN",
	[BGP_ATTR_AS_PATH] = "AS_PATH",
	[BGP_ATTR_NEXT_HOP] = "NEXT_HOP",
	[BGP_ATTR_MED] = "MULTI_EXIT_DISC",
	[BGP_ATTR_LOCAL_PREF] = "LOCAL_PREF",
	[BGP_ATTR_ATOMIC_AGGREGATE] = "ATOMIC_AGGREGATE",
	[BGP_ATTR_AGGREGATOR] = "AGGREGATOR",
	[BGP_ATTR_COMMUNITIES] = "COMMUNITIES",
	[BGP_ATTR_ORIGINATOR_ID] = "ORIGINATOR_ID",
	[BGP_ATTR_CLUSTER_LIST] = "CLUSTER_LIST",
	[BGP_ATTR_MP_REACH_NLRI] = "MP_REACH_NLRI",
	[BGP_ATTR_MP_UNREACH_NLRI] = "MP_UNREACH_NLRI",
	[16] = "EXTENDED_COMMUNITIES",
	[BGP_ATTR_AS4_PATH] = "AS4_PATH",
	[BGP_ATTR_AS4_AGGREGATOR] = "AS4_AGGREGATOR",
	[BGP_ATTR_LARGE_COMMUNITY] = "LARGE_COMMUNITY",
};

static const char *const cap_names[] = {
	[BGP_CAP_MP] = "multiprotocol",
	[BGP_CAP_ROUTE_REFRESH] = "route refresh",
	[BGP_CAP_EXT_NEXTHOP] = "extended next hop",
	[BGP_CAP_EXT_MSG] = "extended message",
	[BGP_CAP_GR] = "graceful restart",
	[BGP_CAP_AS4] = "4-octet AS",
	[BGP_CAP_ADD_PATH] = "add-path",
	[BGP_CAP_ENH_RR] = "enhanced route refresh",
	[71] = "long-lived graceful restart",
	[73] = "FQDN",
	[128] = "route refresh (Cisco)",
};

static const char *const action_names[] = {
	[BGP_ERR_NONE] = "none",
	[BGP_ERR_ATTR_DISCARD] = "attribute discard",
	[BGP_ERR_TREAT_AS_WITHDRAW] = "treat-as-withdraw",
	[BGP_ERR_AFISAFI_DISABLE] = "AFI/SAFI disable",
	[BGP_ERR_SESSION_RESET] = "session reset",
};

const char *
bgp_msg_type_name(unsigned type)
{
	return NAME(msg_names, type);
}

const char *
bgp_err_name(unsigned code)
{
	return NAME(err_names, code);
}

const char *
bgp_suberr_name(unsigned code, unsigned subcode)
{
	switch (code) {
	case BGP_ERRC_HEADER:
		return NAME(hdr_sub, subcode);
	case BGP_ERRC_OPEN:
		return NAME(open_sub, subcode);
	case BGP_ERRC_UPDATE:
		return NAME(upd_sub, subcode);
	case BGP_ERRC_HOLD:
		return subcode == 0 ? "Unspecific" : "unknown";
	case BGP_ERRC_FSM:
		return NAME(fsm_sub, subcode);
	case BGP_ERRC_CEASE:
		return NAME(cease_sub, subcode);
	case BGP_ERRC_RREFRESH:
		return NAME(rr_sub, subcode);
	}
	return "unknown";
}

const char *
bgp_state_name(unsigned state)
{
	return NAME(state_names, state);
}

const char *
bgp_attr_name(unsigned type)
{
	return NAME(attr_names, type);
}

const char *
bgp_cap_name(unsigned code)
{
	return NAME(cap_names, code);
}

const char *
bgp_afi_name(unsigned afi, unsigned safi)
{
	if (afi == BGP_AFI_IPV4 && safi == BGP_SAFI_UNICAST)
		return "IPv4 unicast";
	if (afi == BGP_AFI_IPV6 && safi == BGP_SAFI_UNICAST)
		return "IPv6 unicast";
	if (afi == BGP_AFI_IPV4 && safi == 2)
		return "IPv4 multicast";
	if (afi == BGP_AFI_IPV6 && safi == 2)
		return "IPv6 multicast";
	return "unknown AFI/SAFI";
}

const char *
bgp_err_action_name(unsigned action)
{
	return NAME(action_names, action);
}
