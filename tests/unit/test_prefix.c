/* test_prefix.c — parse, format and 128-bit arithmetic edges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "prefix.h"

static struct prefix
P(const char *s)
{
	struct prefix p;

	assert_int_equal(prefix_parse(s, PREFIX_F_HOST_BITS | PREFIX_F_NO_LEN, &p), 0);
	return p;
}

static struct ipaddr
A(const char *s)
{
	struct ipaddr a;

	assert_int_equal(ipaddr_parse(s, &a), 0);
	return a;
}

static void
assert_addr(const struct ipaddr *a, const char *want)
{
	char buf[IPADDR_STRLEN];

	assert_string_equal(ipaddr_fmt(a, buf, sizeof(buf)), want);
}

static void
assert_pfx(const struct prefix *p, const char *want)
{
	char buf[PREFIX_STRLEN];

	assert_string_equal(prefix_fmt(p, buf, sizeof(buf)), want);
}

static void
test_parse_good(void **state)
{
	struct prefix p;
	(void)state;

	assert_int_equal(prefix_parse("10.0.0.0/8", 0, &p), 0);
	assert_int_equal(p.addr.family, AF_INET);
	assert_int_equal(p.len, 8);
	assert_pfx(&p, "10.0.0.0/8");
	assert_int_equal(prefix_parse("0.0.0.0/0", 0, &p), 0);
	assert_pfx(&p, "0.0.0.0/0");
	assert_int_equal(prefix_parse("192.0.2.7/32", 0, &p), 0);
	assert_pfx(&p, "192.0.2.7/32");
	/* canonical IPv6 output */
	assert_int_equal(prefix_parse("2001:DB8:0:0::/32", 0, &p), 0);
	assert_int_equal(p.addr.family, AF_INET6);
	assert_pfx(&p, "2001:db8::/32");
	assert_int_equal(prefix_parse("::/0", 0, &p), 0);
	assert_pfx(&p, "::/0");
	assert_int_equal(prefix_parse("2001:db8::1/128", 0, &p), 0);
	assert_pfx(&p, "2001:db8::1/128");
	assert_int_equal(prefix_parse("::ffff:10.0.0.0/104", 0, &p), 0);
	assert_int_equal(p.addr.family, AF_INET6);
}

static void
test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "10.0.0.0/", "1.2.3/24", "1.2.3", "/24", "",
		" 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0/8x", "x10.0.0.0/8",
		"10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/08", "10.0.0.0/8/8",
		"10.0.0.256/32", "10.0.0.0//8", "2001:db8::/129", "2001:db8:::/64",
		"2001:db8::/1000", "fe80::1%eth0/64", "10.0.0.0/1234",
		"::/", "abc", "10.0.0.0 /8",
	};
	struct prefix p;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int r = prefix_parse(bad[i], PREFIX_F_HOST_BITS, &p);

		if (r != -EINVAL)
			fail_msg("prefix_parse(\"%s\") = %d, want -EINVAL", bad[i], r);
	}
	assert_int_equal(prefix_parse(NULL, 0, &p), -EINVAL);
}

static void
test_parse_flags(void **state)
{
	struct prefix p;
	(void)state;

	/* host bits */
	assert_int_equal(prefix_parse("10.0.0.5/24", 0, &p), -EINVAL);
	assert_int_equal(prefix_parse("10.0.0.5/24", PREFIX_F_HOST_BITS, &p), 0);
	assert_pfx(&p, "10.0.0.5/24");
	prefix_mask(&p);
	assert_pfx(&p, "10.0.0.0/24");
	assert_int_equal(prefix_parse("2001:db8::1/64", 0, &p), -EINVAL);
	assert_int_equal(prefix_parse("2001:db8::1/64", PREFIX_F_HOST_BITS, &p), 0);
	/* bare addresses */
	assert_int_equal(prefix_parse("10.1.2.3", 0, &p), -EINVAL);
	assert_int_equal(prefix_parse("10.1.2.3", PREFIX_F_NO_LEN, &p), 0);
	assert_pfx(&p, "10.1.2.3/32");
	assert_int_equal(prefix_parse("2001:db8::7", PREFIX_F_NO_LEN, &p), 0);
	assert_pfx(&p, "2001:db8::7/128");
	/* ret untouched on failure */
	p.len = 77;
	assert_int_equal(prefix_parse("10.0.0.0/33", PREFIX_F_NO_LEN, &p), -EINVAL);
	assert_int_equal(p.len, 77);
}

static void
test_addr(void **state)
{
	struct ipaddr a, b, none = { 0 };
	char small[4];
	(void)state;

	assert_int_equal(ipaddr_parse("1.2.3", &a), -EINVAL);
	assert_int_equal(ipaddr_parse("1.2.3.4.5", &a), -EINVAL);
	assert_int_equal(ipaddr_parse("1.2.3.4/32", &a), -EINVAL);
	assert_int_equal(ipaddr_parse("", &a), -EINVAL);
	a = A("192.0.2.1");
	b = A("192.0.2.2");
	assert_true(ipaddr_cmp(&a, &b) < 0);
	assert_true(ipaddr_cmp(&b, &a) > 0);
	assert_false(ipaddr_eq(&a, &b));
	b = A("2001:db8::1");
	assert_true(ipaddr_cmp(&a, &b) != 0);
	assert_true(ipaddr_is_set(&a));
	assert_false(ipaddr_is_set(&none));
	assert_addr(&none, "");
	assert_string_equal(ipaddr_fmt(&b, small, sizeof(small)), "");
	assert_int_equal(ipaddr_len(AF_INET), 4);
	assert_int_equal(ipaddr_len(AF_INET6), 16);
	assert_int_equal(ipaddr_len(0), 0);
	assert_int_equal(prefix_maxlen(AF_INET), 32);
	assert_int_equal(prefix_maxlen(AF_INET6), 128);
}

static void
test_add(void **state)
{
	struct ipaddr a, r;
	(void)state;

	a = A("10.0.0.255");
	assert_int_equal(ipaddr_add(&a, 1, &r), 0);
	assert_addr(&r, "10.0.1.0");
	a = A("10.255.255.255");
	assert_int_equal(ipaddr_add(&a, 1, &r), 0);
	assert_addr(&r, "11.0.0.0");
	a = A("255.255.255.254");
	assert_int_equal(ipaddr_add(&a, 1, &r), 0);
	assert_addr(&r, "255.255.255.255");
	assert_int_equal(ipaddr_add(&a, 2, &r), -ERANGE);
	a = A("0.0.0.0");
	assert_int_equal(ipaddr_add(&a, UINT32_MAX, &r), 0);
	assert_addr(&r, "255.255.255.255");
	assert_int_equal(ipaddr_add(&a, (uint64_t)UINT32_MAX + 1, &r), -ERANGE);
	assert_int_equal(ipaddr_add(&a, UINT64_MAX, &r), -ERANGE);

	/* v6 carry across the 64-bit halves and many bytes */
	a = A("2001:db8::ffff:ffff:ffff:ffff");
	assert_int_equal(ipaddr_add(&a, 1, &r), 0);
	assert_addr(&r, "2001:db8:0:1::");
	a = A("2001:db8::ff");
	assert_int_equal(ipaddr_add(&a, 0x101, &r), 0);
	assert_addr(&r, "2001:db8::200");
	a = A("::1");
	assert_int_equal(ipaddr_add(&a, UINT64_MAX, &r), 0);
	assert_addr(&r, "0:0:0:1::");
	a = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	assert_int_equal(ipaddr_add(&a, 1, &r), 0);
	assert_addr(&r, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(ipaddr_add(&a, 2, &r), -ERANGE);
	a = A("ffff:ffff:ffff:ffff:0:0:0:1");
	assert_int_equal(ipaddr_add(&a, UINT64_MAX, &r), -ERANGE);
	assert_int_equal(ipaddr_add(&a, UINT64_MAX - 1, &r), 0);
	assert_addr(&r, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* in place */
	a = A("10.0.0.1");
	assert_int_equal(ipaddr_add(&a, 1, &a), 0);
	assert_addr(&a, "10.0.0.2");
}

static void
test_contains(void **state)
{
	struct prefix p = P("10.0.0.0/24"), q;
	struct ipaddr a;
	(void)state;

	a = A("10.0.0.255");
	assert_true(prefix_contains(&p, &a));
	a = A("10.0.1.0");
	assert_false(prefix_contains(&p, &a));
	a = A("::a00:1");
	assert_false(prefix_contains(&p, &a));
	q = P("0.0.0.0/0");
	assert_true(prefix_contains(&q, &a) == false);
	a = A("255.255.255.255");
	assert_true(prefix_contains(&q, &a));
	q = P("10.0.0.128/25");
	assert_true(prefix_contains_prefix(&p, &q));
	assert_false(prefix_contains_prefix(&q, &p));
	assert_true(prefix_overlaps(&p, &q));
	assert_true(prefix_overlaps(&q, &p));
	q = P("10.0.1.0/24");
	assert_false(prefix_overlaps(&p, &q));
	q = P("2001:db8::/32");
	assert_false(prefix_overlaps(&p, &q));
	p = P("2001:db8:1::/48");
	assert_true(prefix_contains_prefix(&q, &p));
	a = A("2001:db8:1:ffff:ffff:ffff:ffff:ffff");
	assert_true(prefix_contains(&p, &a));
	a = A("2001:db8:2::");
	assert_false(prefix_contains(&p, &a));
	assert_true(prefix_eq(&p, &p));
	assert_false(prefix_eq(&p, &q));
}

static void
test_size_nth_offset(void **state)
{
	struct prefix p;
	struct ipaddr a;
	uint64_t off;
	(void)state;

	p = P("10.0.0.0/24");
	assert_int_equal(prefix_size(&p), 256);
	assert_int_equal(prefix_nth(&p, 0, &a), 0);
	assert_addr(&a, "10.0.0.0");
	assert_int_equal(prefix_nth(&p, 255, &a), 0);
	assert_addr(&a, "10.0.0.255");
	assert_int_equal(prefix_nth(&p, 256, &a), -ERANGE);
	assert_int_equal(prefix_offset(&p, &a, &off), 0);
	assert_int_equal(off, 255);
	a = A("10.0.1.0");
	assert_int_equal(prefix_offset(&p, &a, &off), -ERANGE);
	prefix_last(&p, &a);
	assert_addr(&a, "10.0.0.255");

	p = P("0.0.0.0/0");
	assert_int_equal(prefix_size(&p), (uint64_t)1 << 32);
	assert_int_equal(prefix_nth(&p, UINT32_MAX, &a), 0);
	assert_addr(&a, "255.255.255.255");
	assert_int_equal(prefix_nth(&p, (uint64_t)1 << 32, &a), -ERANGE);
	prefix_last(&p, &a);
	assert_addr(&a, "255.255.255.255");

	p = P("192.0.2.9/32");
	assert_int_equal(prefix_size(&p), 1);
	assert_int_equal(prefix_nth(&p, 1, &a), -ERANGE);
	assert_int_equal(prefix_nth(&p, 0, &a), 0);
	assert_addr(&a, "192.0.2.9");

	/* host bits in p are ignored by nth/last */
	p = P("10.0.0.77/24");
	assert_int_equal(prefix_nth(&p, 1, &a), 0);
	assert_addr(&a, "10.0.0.1");

	p = P("2001:db8::/64");
	assert_int_equal(prefix_size(&p), UINT64_MAX);	/* 2^64 saturates */
	assert_int_equal(prefix_nth(&p, UINT64_MAX, &a), 0);
	assert_addr(&a, "2001:db8::ffff:ffff:ffff:ffff");
	assert_int_equal(prefix_offset(&p, &a, &off), 0);
	assert_true(off == UINT64_MAX);
	p = P("2001:db8::/65");
	assert_int_equal(prefix_size(&p), (uint64_t)1 << 63);
	p = P("2001:db8::/56");
	assert_int_equal(prefix_size(&p), UINT64_MAX);
	a = A("2001:db8:0:1::5");
	assert_int_equal(prefix_offset(&p, &a, &off), -ERANGE);	/* > 2^64 */
	a = A("2001:db8::5");
	assert_int_equal(prefix_offset(&p, &a, &off), 0);
	assert_int_equal(off, 5);
	prefix_last(&p, &a);
	assert_addr(&a, "2001:db8:0:ff:ffff:ffff:ffff:ffff");
	p = P("::/0");
	assert_int_equal(prefix_size(&p), UINT64_MAX);
	prefix_last(&p, &a);
	assert_addr(&a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	p = P("2001:db8::1/128");
	assert_int_equal(prefix_size(&p), 1);
	assert_int_equal(prefix_nth(&p, 1, &a), -ERANGE);
}

static void
test_subnet(void **state)
{
	struct prefix p, s;
	(void)state;

	p = P("10.0.0.0/24");
	assert_int_equal(prefix_subnet(&p, 26, 0, &s), 0);
	assert_pfx(&s, "10.0.0.0/26");
	assert_int_equal(prefix_subnet(&p, 26, 3, &s), 0);
	assert_pfx(&s, "10.0.0.192/26");
	assert_int_equal(prefix_subnet(&p, 26, 4, &s), -ERANGE);
	assert_int_equal(prefix_subnet(&p, 23, 0, &s), -EINVAL);
	assert_int_equal(prefix_subnet(&p, 33, 0, &s), -EINVAL);
	assert_int_equal(prefix_subnet(&p, 24, 0, &s), 0);
	assert_pfx(&s, "10.0.0.0/24");
	assert_int_equal(prefix_subnet(&p, 24, 1, &s), -ERANGE);
	assert_int_equal(prefix_subnet(&p, 32, 255, &s), 0);
	assert_pfx(&s, "10.0.0.255/32");

	p = P("0.0.0.0/0");
	assert_int_equal(prefix_subnet(&p, 0, 0, &s), 0);
	assert_pfx(&s, "0.0.0.0/0");
	assert_int_equal(prefix_subnet(&p, 1, 1, &s), 0);
	assert_pfx(&s, "128.0.0.0/1");
	assert_int_equal(prefix_subnet(&p, 32, UINT32_MAX, &s), 0);
	assert_pfx(&s, "255.255.255.255/32");
	assert_int_equal(prefix_subnet(&p, 32, (uint64_t)UINT32_MAX + 1, &s), -ERANGE);

	/* v6 /64 -> /122: 2^58 blocks of 64 addresses */
	p = P("2001:db8:0:1::/64");
	assert_int_equal(prefix_subnet(&p, 122, 0, &s), 0);
	assert_pfx(&s, "2001:db8:0:1::/122");
	assert_int_equal(prefix_subnet(&p, 122, 1, &s), 0);
	assert_pfx(&s, "2001:db8:0:1::40/122");
	assert_int_equal(prefix_subnet(&p, 122, ((uint64_t)1 << 58) - 1, &s), 0);
	assert_pfx(&s, "2001:db8:0:1:ffff:ffff:ffff:ffc0/122");
	assert_int_equal(prefix_subnet(&p, 122, (uint64_t)1 << 58, &s), -ERANGE);
	/* shifts across the 64-bit boundary */
	p = P("2001:db8::/32");
	assert_int_equal(prefix_subnet(&p, 48, 0xffff, &s), 0);
	assert_pfx(&s, "2001:db8:ffff::/48");
	assert_int_equal(prefix_subnet(&p, 96, UINT64_MAX, &s), 0);
	assert_pfx(&s, "2001:db8:ffff:ffff:ffff:ffff::/96");
	assert_int_equal(prefix_subnet(&p, 64, 1, &s), 0);
	assert_pfx(&s, "2001:db8:0:1::/64");
	p = P("::/0");
	assert_int_equal(prefix_subnet(&p, 64, UINT64_MAX, &s), 0);
	assert_pfx(&s, "ffff:ffff:ffff:ffff::/64");
	assert_int_equal(prefix_subnet(&p, 128, UINT64_MAX, &s), 0);
	assert_pfx(&s, "::ffff:ffff:ffff:ffff/128");
	assert_int_equal(prefix_subnet(&p, 129, 0, &s), -EINVAL);
	assert_int_equal(prefix_subnet(&p, 0, 1, &s), -ERANGE);
}

static void
test_from_addr_mask(void **state)
{
	struct ipaddr a = A("2001:db8::abcd");
	struct prefix p;
	(void)state;

	prefix_from_addr(&a, &p);
	assert_pfx(&p, "2001:db8::abcd/128");
	p.len = 120;
	prefix_mask(&p);
	assert_pfx(&p, "2001:db8::ab00/120");
	p.len = 0;
	prefix_mask(&p);
	assert_pfx(&p, "::/0");
	p = P("10.255.255.255/9");
	prefix_mask(&p);
	assert_pfx(&p, "10.128.0.0/9");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_flags),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_size_nth_offset),
		cmocka_unit_test(test_subnet),
		cmocka_unit_test(test_from_addr_mask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
