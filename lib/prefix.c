/* prefix.c — IPv4/IPv6 addresses and prefixes.
 *
 * Arithmetic works on a 128-bit integer made of two uint64_t halves, so
 * IPv4 and IPv6 share one code path and every carry and overflow is
 * explicit.  An IPv4 address is the value 0 .. 2^32-1 in the low half.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "prefix.h"

struct u128 {
	uint64_t hi, lo;
};

size_t
ipaddr_len(int family)
{
	switch (family) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	default:
		return 0;
	}
}

unsigned
prefix_maxlen(int family)
{
	return (unsigned)ipaddr_len(family) * 8;
}

static uint64_t
be64_get(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

static void
be64_put(uint8_t *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
}

static struct u128
u128_from_addr(const struct ipaddr *a)
{
	struct u128 v = { 0, 0 };

	if (a->family == AF_INET)
		v.lo = ((uint64_t)a->u.b[0] << 24) | ((uint64_t)a->u.b[1] << 16) |
		       ((uint64_t)a->u.b[2] << 8) | a->u.b[3];
	else if (a->family == AF_INET6) {
		v.hi = be64_get(a->u.b);
		v.lo = be64_get(a->u.b + 8);
	}
	return v;
}

static void
u128_to_addr(struct u128 v, int family, struct ipaddr *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->family = family;
	if (family == AF_INET) {
		ret->u.b[0] = (uint8_t)(v.lo >> 24);
		ret->u.b[1] = (uint8_t)(v.lo >> 16);
		ret->u.b[2] = (uint8_t)(v.lo >> 8);
		ret->u.b[3] = (uint8_t)v.lo;
	} else if (family == AF_INET6) {
		be64_put(ret->u.b, v.hi);
		be64_put(ret->u.b + 8, v.lo);
	}
}

/* The low `bits` bits set (bits <= 128). */
static struct u128
u128_low_mask(unsigned bits)
{
	struct u128 m;

	if (bits >= 128)
		return (struct u128){ UINT64_MAX, UINT64_MAX };
	if (bits >= 64) {
		m.lo = UINT64_MAX;
		m.hi = bits == 64 ? 0 : UINT64_MAX >> (128 - bits);
	} else {
		m.hi = 0;
		m.lo = bits == 0 ? 0 : UINT64_MAX >> (64 - bits);
	}
	return m;
}

/* v << n for n < 128; bits shifted out are lost (callers check first). */
static struct u128
u128_shl(uint64_t v, unsigned n)
{
	if (n == 0)
		return (struct u128){ 0, v };
	if (n < 64)
		return (struct u128){ v >> (64 - n), v << n };
	return (struct u128){ v << (n - 64), 0 };
}

/* a + b; false on overflow past the family's last address. */
static bool
u128_add(struct u128 a, struct u128 b, int family, struct u128 *ret)
{
	struct u128 r;
	uint64_t carry;

	r.lo = a.lo + b.lo;
	carry = r.lo < a.lo;
	r.hi = a.hi + b.hi;
	if (r.hi < a.hi)
		return false;
	if (carry && r.hi == UINT64_MAX)
		return false;
	r.hi += carry;
	if (family == AF_INET && (r.hi != 0 || r.lo > UINT32_MAX))
		return false;
	*ret = r;
	return true;
}

int
ipaddr_parse(const char *s, struct ipaddr *ret)
{
	struct ipaddr a;

	if (s == NULL)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	/* inet_pton(AF_INET) takes only the four-part dotted quad, so
	 * "1.2.3", "010.1.1.1"-style shortcuts of inet_aton never pass. */
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, &a.u.v6) != 1)
			return -EINVAL;
		a.family = AF_INET6;
	} else {
		if (inet_pton(AF_INET, s, &a.u.v4) != 1)
			return -EINVAL;
		a.family = AF_INET;
	}
	*ret = a;
	return 0;
}

const char *
ipaddr_fmt(const struct ipaddr *a, char *buf, size_t size)
{
	if (buf == NULL || size == 0)
		return "";
	buf[0] = '\0';
	if (a == NULL || ipaddr_len(a->family) == 0)
		return buf;
	if (inet_ntop(a->family, a->u.b, buf, (socklen_t)size) == NULL)
		buf[0] = '\0';
	return buf;
}

int
ipaddr_cmp(const struct ipaddr *a, const struct ipaddr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->u.b, b->u.b, ipaddr_len(a->family));
}

bool
ipaddr_eq(const struct ipaddr *a, const struct ipaddr *b)
{
	return ipaddr_cmp(a, b) == 0;
}

bool
ipaddr_is_set(const struct ipaddr *a)
{
	return a != NULL && ipaddr_len(a->family) != 0;
}

int
ipaddr_add(const struct ipaddr *a, uint64_t off, struct ipaddr *ret)
{
	struct u128 r;

	if (ipaddr_len(a->family) == 0)
		return -EINVAL;
	if (!u128_add(u128_from_addr(a), (struct u128){ 0, off }, a->family, &r))
		return -ERANGE;
	u128_to_addr(r, a->family, ret);
	return 0;
}

/* Strict decimal prefix length: 1-3 digits, no sign, no leading zero. */
static int
parse_len(const char *s, unsigned max, uint8_t *ret)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*ret = (uint8_t)v;
	return 0;
}

int
prefix_parse(const char *s, unsigned flags, struct prefix *ret)
{
	char buf[IPADDR_STRLEN];
	const char *slash;
	struct prefix p;
	size_t alen;
	int r;

	if (s == NULL)
		return -EINVAL;
	memset(&p, 0, sizeof(p));
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	r = ipaddr_parse(buf, &p.addr);
	if (r < 0)
		return r;
	if (slash == NULL) {
		if (!(flags & PREFIX_F_NO_LEN))
			return -EINVAL;
		p.len = (uint8_t)prefix_maxlen(p.addr.family);
	} else {
		r = parse_len(slash + 1, prefix_maxlen(p.addr.family), &p.len);
		if (r < 0)
			return r;
	}
	if (!(flags & PREFIX_F_HOST_BITS)) {
		struct prefix m = p;

		prefix_mask(&m);
		if (!ipaddr_eq(&m.addr, &p.addr))
			return -EINVAL;
	}
	*ret = p;
	return 0;
}

const char *
prefix_fmt(const struct prefix *p, char *buf, size_t size)
{
	char a[IPADDR_STRLEN];

	if (buf == NULL || size == 0)
		return "";
	buf[0] = '\0';
	if (p == NULL || ipaddr_len(p->addr.family) == 0)
		return buf;
	if (snprintf(buf, size, "%s/%u", ipaddr_fmt(&p->addr, a, sizeof(a)),
		     p->len) >= (int)size)
		buf[0] = '\0';		/* never hand out a truncated prefix */
	return buf;
}

/* Clear the bits below `len` of an address, in place. */
static void
addr_mask(struct ipaddr *a, unsigned len)
{
	size_t n = ipaddr_len(a->family);

	for (size_t i = 0; i < n; i++) {
		if (len >= 8) {
			len -= 8;
			continue;
		}
		a->u.b[i] &= (uint8_t)(0xff00u >> len);
		len = 0;
	}
}

void
prefix_mask(struct prefix *p)
{
	if (p->len > prefix_maxlen(p->addr.family))
		p->len = (uint8_t)prefix_maxlen(p->addr.family);
	addr_mask(&p->addr, p->len);
}

bool
prefix_contains(const struct prefix *p, const struct ipaddr *a)
{
	struct ipaddr x = *a, n = p->addr;

	if (a->family != p->addr.family || ipaddr_len(a->family) == 0)
		return false;
	addr_mask(&x, p->len);
	addr_mask(&n, p->len);
	return ipaddr_eq(&x, &n);
}

bool
prefix_contains_prefix(const struct prefix *outer, const struct prefix *inner)
{
	return inner->len >= outer->len && prefix_contains(outer, &inner->addr);
}

bool
prefix_overlaps(const struct prefix *a, const struct prefix *b)
{
	return prefix_contains_prefix(a, b) || prefix_contains_prefix(b, a);
}

bool
prefix_eq(const struct prefix *a, const struct prefix *b)
{
	return a->len == b->len && ipaddr_eq(&a->addr, &b->addr);
}

static unsigned
host_bits(const struct prefix *p)
{
	unsigned max = prefix_maxlen(p->addr.family);

	return p->len >= max ? 0 : max - p->len;
}

uint64_t
prefix_size(const struct prefix *p)
{
	unsigned hb = host_bits(p);

	if (ipaddr_len(p->addr.family) == 0)
		return 0;
	return hb >= 64 ? UINT64_MAX : (uint64_t)1 << hb;
}

static struct u128
network_of(const struct prefix *p)
{
	struct ipaddr n = p->addr;

	addr_mask(&n, p->len);
	return u128_from_addr(&n);
}

int
prefix_nth(const struct prefix *p, uint64_t n, struct ipaddr *ret)
{
	unsigned hb = host_bits(p);
	struct u128 r;

	if (ipaddr_len(p->addr.family) == 0)
		return -EINVAL;
	if (hb < 64 && n >> hb != 0)
		return -ERANGE;
	if (!u128_add(network_of(p), (struct u128){ 0, n }, p->addr.family, &r))
		return -ERANGE;		/* cannot happen with a masked network */
	u128_to_addr(r, p->addr.family, ret);
	return 0;
}

int
prefix_offset(const struct prefix *p, const struct ipaddr *a, uint64_t *ret)
{
	struct u128 v, m;

	if (!prefix_contains(p, a))
		return -ERANGE;
	v = u128_from_addr(a);
	m = u128_low_mask(host_bits(p));
	if ((v.hi & m.hi) != 0)
		return -ERANGE;		/* offset needs more than 64 bits */
	*ret = v.lo & m.lo;
	return 0;
}

int
prefix_subnet(const struct prefix *p, unsigned newlen, uint64_t idx,
	      struct prefix *ret)
{
	unsigned max = prefix_maxlen(p->addr.family), bits;
	struct u128 r;
	struct prefix s;

	if (max == 0 || newlen > max || newlen < p->len)
		return -EINVAL;
	bits = newlen - p->len;		/* how many subnets: 2^bits */
	if (bits < 64 && idx >> bits != 0)
		return -ERANGE;
	if (newlen == 0) {
		s = *p;
		prefix_mask(&s);
		*ret = s;
		return 0;
	}
	if (!u128_add(network_of(p), u128_shl(idx, max - newlen),
		      p->addr.family, &r))
		return -ERANGE;
	memset(&s, 0, sizeof(s));
	u128_to_addr(r, p->addr.family, &s.addr);
	s.len = (uint8_t)newlen;
	*ret = s;
	return 0;
}

void
prefix_last(const struct prefix *p, struct ipaddr *ret)
{
	struct u128 n = network_of(p), m = u128_low_mask(host_bits(p));

	n.hi |= m.hi;
	n.lo |= m.lo;
	u128_to_addr(n, p->addr.family, ret);
}

void
prefix_from_addr(const struct ipaddr *a, struct prefix *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->addr = *a;
	ret->len = (uint8_t)prefix_maxlen(a->family);
}
