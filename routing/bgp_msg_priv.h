/* bgp_msg_priv.h — helpers shared by bgp_msg.c, bgp_attr.c and
 * bgp_update.c.  Not for use outside the codec. */
#ifndef LEAFNET_BGP_MSG_PRIV_H
#define LEAFNET_BGP_MSG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "bgp_msg.h"

/* bgp_msg.c */
void	 bgp_err_clear(struct bgp_err *err);
/* Record an error if it is more severe than the one recorded (the first
 * of a severity wins).  Returns true if it was recorded. */
bool	 bgp_err_raise(struct bgp_err *err, enum bgp_err_action action,
	    uint8_t code, uint8_t subcode, const char *reason,
	    const void *data, size_t data_len);
/* Header of a message of `type`; body is set to what follows it. */
int	 bgp_msg_open_body(const uint8_t *msg, size_t len, uint8_t type,
	    struct buf_reader *body, struct bgp_err *err);
void	 bgp_msg_begin(struct buf_writer *w, uint8_t *buf, size_t size,
	    uint8_t type, int *errs);
/* Patch the length; the message length or -EMSGSIZE. */
int	 bgp_msg_finish(struct buf_writer *w, int errs);

/* Internal encode flag: leave NEXT_HOP out (RFC 4760 §3: an UPDATE
 * without IPv4 NLRI should not carry it). */
#define BGP_MSG_F_NO_NEXTHOP	(1U << 31)

/* bgp_attr.c */
struct bgp_attr_scan {
	bool	 ipv4_nlri;		/* the UPDATE has IPv4 NLRI */
};
/* Parse the path attribute field into u->attrs / u->mp_*; returns 0 or
 * -EBADMSG (session reset). */
int	 bgp_attrs_decode(struct buf_reader *r, unsigned flags,
	    const struct bgp_attr_scan *scan, struct bgp_update *u,
	    struct bgp_err *err);
/* Append the non-MP attributes of a. */
int	 bgp_attrs_encode(struct buf_writer *w, const struct bgp_attrs *a,
	    unsigned flags);
/* Start an attribute with a 2-octet length; bgp_attr_end() patches it and
 * moves to a 1-octet length when the value fits. */
size_t	 bgp_attr_begin(struct buf_writer *w, uint8_t aflags, uint8_t type,
	    int *errs);
void	 bgp_attr_end(struct buf_writer *w, size_t start, int *errs);

/* bgp_update.c */
int	 bgp_family_of(uint16_t afi, uint8_t safi);	/* AF_*, 0 */
/* Validate wire NLRI of a family; the number of prefixes or -1. */
long	 bgp_nlri_check(const uint8_t *p, size_t len, int family);
int	 bgp_nlri_encode(struct buf_writer *w, const struct bgp_nlri *n,
	    int family);

#endif
