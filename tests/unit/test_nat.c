/* test_nat.c — the outbound NAT ruleset leafnetd hands to libnftables
 * (routing/nat.c: nat_ruleset).  Applying it needs root and a namespace:
 * tests/netns/test_nat_outgoing.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ld_local.h"
#include "network.h"

static void
net(struct network *n, const char *name, bool nat, const char *s1, const char *s2)
{
	network_init(n);
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->nat_outgoing = nat;
	assert_int_equal(prefix_parse(s1, 0, &n->subnets[n->n_subnets++].cidr), 0);
	if (s2 != NULL)
		assert_int_equal(prefix_parse(s2, 0, &n->subnets[n->n_subnets++].cidr), 0);
}

/* The "elements = { ... }" line of set name in text. */
static char *
elements(const char *text, const char *name)
{
	static char buf[512];
	char key[64];
	const char *p, *e, *nl;

	snprintf(key, sizeof(key), "set %s {", name);
	p = strstr(text, key);
	if (p == NULL)
		return NULL;
	e = strstr(p, "elements = { ");
	assert_non_null(e);
	e += strlen("elements = { ");
	nl = strstr(e, " }\n");
	assert_non_null(nl);
	snprintf(buf, sizeof(buf), "%.*s", (int)(nl - e), e);
	return buf;
}

static void
test_nothing_to_nat(void **state)
{
	struct network n[2];
	char *t;

	(void)state;
	t = nat_ruleset(NULL, 0);
	assert_string_equal(t, "");
	free(t);
	net(&n[0], "a", false, "10.1.0.0/16", "fd00:1::/64");
	net(&n[1], "b", false, "10.2.0.0/16", NULL);
	t = nat_ruleset(n, 2);
	assert_string_equal(t, "");		/* no table at all */
	free(t);
}

static void
test_v4_only(void **state)
{
	struct network n[3];
	char *t;

	(void)state;
	net(&n[0], "a", true, "10.90.0.0/24", NULL);
	net(&n[1], "b", false, "10.91.0.0/24", "fd00:91::/64");
	net(&n[2], "c", true, "10.92.0.0/24", NULL);
	n[2].subnets[0].cidr.addr.u.b[3] = 5;		/* host bits: masked */
	t = nat_ruleset(n, 3);
	/* one transaction that replaces the table whether or not it exists */
	assert_true(strncmp(t, "table inet leafnet\ndelete table inet leafnet\n"
			    "table inet leafnet {\n", 66) == 0);
	assert_string_equal(elements(t, "allpools4"), "10.90.0.0/24, 10.91.0.0/24, 10.92.0.0/24");
	assert_string_equal(elements(t, "natpools4"), "10.90.0.0/24, 10.92.0.0/24");
	/* no IPv6 nat pool: no IPv6 sets, no IPv6 rule */
	assert_null(elements(t, "allpools6"));
	assert_null(elements(t, "natpools6"));
	assert_null(strstr(t, "ip6 saddr"));
	assert_non_null(strstr(t, "type nat hook postrouting priority srcnat; policy accept;"));
	assert_non_null(strstr(t, "oifname \"lfn*\" return"));
	assert_non_null(strstr(t, "oifname \"lfd*\" return"));
	assert_non_null(strstr(t, "ip saddr @natpools4 ip daddr != @allpools4 counter masquerade\n"));
	/* local workloads first */
	assert_true(strstr(t, "oifname \"lfn*\"") < strstr(t, "masquerade"));
	free(t);
}

static void
test_dual_stack(void **state)
{
	struct network n[2];
	char *t, *t2;

	(void)state;
	net(&n[0], "a", true, "10.90.0.0/24", "fd00:90::/64");
	net(&n[1], "b", false, "10.91.0.0/24", "fd00:91::/64");
	t = nat_ruleset(n, 2);
	assert_string_equal(elements(t, "allpools6"), "fd00:90::/64, fd00:91::/64");
	assert_string_equal(elements(t, "natpools6"), "fd00:90::/64");
	assert_non_null(strstr(t, "ip6 saddr @natpools6 ip6 daddr != @allpools6 counter masquerade\n"));
	/* deterministic: the same list gives the same text (no kernel work) */
	t2 = nat_ruleset(n, 2);
	assert_string_equal(t, t2);
	free(t2);
	/* v6-only nat: only the IPv6 rule */
	n[0].n_subnets = 1;
	assert_int_equal(prefix_parse("fd00:90::/64", 0, &n[0].subnets[0].cidr), 0);
	t2 = nat_ruleset(n, 2);
	assert_null(strstr(t2, "ip saddr"));
	assert_null(elements(t2, "natpools4"));
	assert_string_equal(elements(t2, "natpools6"), "fd00:90::/64");
	free(t2);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_to_nat),
		cmocka_unit_test(test_v4_only),
		cmocka_unit_test(test_dual_stack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
