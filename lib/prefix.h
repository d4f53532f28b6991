/* prefix.h — IPv4/IPv6 addresses and prefixes: parse, format, compare,
 * contain, iterate.  No allocation, no logging. */
#ifndef LEAFNET_PREFIX_H
#define LEAFNET_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct ipaddr {
	int family;			/* AF_INET, AF_INET6, 0 = none */
	union {
		struct in_addr  v4;
		struct in6_addr v6;
		uint8_t         b[16];	/* network byte order; v4 uses b[0..3] */
	} u;
};

struct prefix {
	struct ipaddr addr;
	uint8_t len;
};

#define IPADDR_STRLEN  46	/* INET6_ADDRSTRLEN */
#define PREFIX_STRLEN  (IPADDR_STRLEN + 4)

/* flags for prefix_parse() */
#define PREFIX_F_HOST_BITS  (1U << 0)	/* accept host bits set ("10.0.0.5/24") */
#define PREFIX_F_NO_LEN     (1U << 1)	/* accept a bare address as /32 or /128 */

size_t ipaddr_len(int family);			/* 4, 16, 0 */
int  ipaddr_parse(const char *s, struct ipaddr *ret);	/* -EINVAL */
const char *ipaddr_fmt(const struct ipaddr *a, char *buf, size_t size);
int  ipaddr_cmp(const struct ipaddr *a, const struct ipaddr *b);
bool ipaddr_eq(const struct ipaddr *a, const struct ipaddr *b);
bool ipaddr_is_set(const struct ipaddr *a);
/* a + off; -ERANGE when it wraps past the family's last address. */
int  ipaddr_add(const struct ipaddr *a, uint64_t off, struct ipaddr *ret);

/* Without PREFIX_F_HOST_BITS, "10.0.0.5/24" is -EINVAL (host bits set). */
int  prefix_parse(const char *s, unsigned flags, struct prefix *ret);
const char *prefix_fmt(const struct prefix *p, char *buf, size_t size);
void prefix_mask(struct prefix *p);		/* clear host bits */
bool prefix_contains(const struct prefix *p, const struct ipaddr *a);
bool prefix_contains_prefix(const struct prefix *outer, const struct prefix *inner);
bool prefix_overlaps(const struct prefix *a, const struct prefix *b);
bool prefix_eq(const struct prefix *a, const struct prefix *b);
unsigned prefix_maxlen(int family);		/* 32, 128 */
/* Number of addresses, saturating at UINT64_MAX. */
uint64_t prefix_size(const struct prefix *p);
/* n-th address (0 = network address); -ERANGE if outside. */
int  prefix_nth(const struct prefix *p, uint64_t n, struct ipaddr *ret);
/* Offset of a inside p; -ERANGE if not inside or not representable. */
int  prefix_offset(const struct prefix *p, const struct ipaddr *a, uint64_t *ret);
/* The idx-th sub-prefix of length newlen inside p; -ERANGE / -EINVAL. */
int  prefix_subnet(const struct prefix *p, unsigned newlen, uint64_t idx, struct prefix *ret);
/* Last address of p (IPv4 broadcast). */
void prefix_last(const struct prefix *p, struct ipaddr *ret);
/* Host prefix (/32, /128) for an address. */
void prefix_from_addr(const struct ipaddr *a, struct prefix *ret);

#endif
