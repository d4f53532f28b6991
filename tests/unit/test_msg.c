/* test_msg.c — routing/msg.c: the queues between leafnetd's BGP side and
 * its local side.  Records keep their order and content, carry only the
 * next hops they have, and a handler may queue more while a drain runs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "msg.h"

static struct ld_msg seen[8];
static size_t n_seen;

static void
rec(const struct ld_msg *m, void *arg)
{
	(void)arg;
	if (n_seen < 8)
		seen[n_seen] = *m;
	n_seen++;
}

static struct prefix
P(const char *s)
{
	struct prefix p;

	assert_int_equal(prefix_parse(s, 0, &p), 0);
	return p;
}

static struct ipaddr
A(const char *s)
{
	struct ipaddr a;

	memset(&a, 0, sizeof(a));
	assert_int_equal(ipaddr_parse(s, &a), 0);
	return a;
}

static void
test_roundtrip(void **state)
{
	struct msgq q = MSGQ_INIT;
	struct prefix p1 = P("10.1.0.0/16"), p2 = P("fd00::/64");
	struct ipaddr nh[2] = { A("192.0.2.1"), A("192.0.2.2") };
	struct ld_export e = { .family = AF_INET6, .aggregate = true, .n_communities = 1,
			       .communities = { 64511u << 16 | 100 } };
	size_t one_nh, two_nh;

	(void)state;
	n_seen = 0;
	assert_true(msgq_empty(&q));
	assert_int_equal(msgq_put_kr(&q, &p1, nh, 1), 0);
	one_nh = q.buf.len;
	assert_int_equal(msgq_put_kr(&q, &p1, nh, 2), 0);
	two_nh = q.buf.len - one_nh;
	/* a record is as long as its next hops, not LD_MSG_NH_MAX of them */
	assert_true(two_nh > one_nh && two_nh < sizeof(struct ld_msg));
	assert_int_equal(msgq_put_kr(&q, &p1, NULL, 0), 0);
	assert_int_equal(msgq_put_local(&q, 7, &p2, &e), 0);
	assert_int_equal(msgq_put_local(&q, 0, &p2, NULL), 0);
	assert_int_equal(msgq_put_ctl(&q, LD_MSG_LOCAL_DUMP_END, 7), 0);
	assert_false(msgq_empty(&q));
	assert_int_equal(msgq_drain(&q, rec, NULL), 6);
	assert_true(msgq_empty(&q));
	assert_int_equal(n_seen, 6);
	assert_int_equal(seen[0].type, LD_MSG_KR_CHANGE);
	assert_int_equal(seen[0].u.kr.n, 1);
	assert_true(prefix_eq(&seen[0].p, &p1));
	assert_true(ipaddr_eq(&seen[0].u.kr.nh[0], &nh[0]));
	assert_int_equal(seen[0].u.kr.nh[1].family, 0);		/* not carried */
	assert_int_equal(seen[1].u.kr.n, 2);
	assert_true(ipaddr_eq(&seen[1].u.kr.nh[1], &nh[1]));
	assert_int_equal(seen[2].type, LD_MSG_KR_DELETE);
	assert_int_equal(seen[3].type, LD_MSG_LOCAL_ADV);
	assert_int_equal(seen[3].id, 7);
	assert_true(prefix_eq(&seen[3].p, &p2));
	assert_true(seen[3].u.adv.aggregate);
	assert_int_equal(seen[3].u.adv.communities[0], 64511u << 16 | 100);
	assert_int_equal(seen[4].type, LD_MSG_LOCAL_WD);
	assert_int_equal(seen[5].type, LD_MSG_LOCAL_DUMP_END);
	assert_int_equal(seen[5].id, 7);
	assert_int_equal(q.n_total, 6);
	assert_int_equal(msgq_drain(&q, rec, NULL), 0);
	msgq_done(&q);
}

static struct msgq *requeue;

static void
echo(const struct ld_msg *m, void *arg)
{
	(void)arg;
	rec(m, NULL);
	if (m->type == LD_MSG_LOCAL_DUMP_REQ)
		assert_int_equal(msgq_put_ctl(requeue, LD_MSG_LOCAL_DUMP_END, m->id), 0);
}

/* A handler queueing onto the queue being drained: the new message waits
 * for the next drain. */
static void
test_put_while_draining(void **state)
{
	struct msgq q = MSGQ_INIT;

	(void)state;
	n_seen = 0;
	requeue = &q;
	assert_int_equal(msgq_put_ctl(&q, LD_MSG_LOCAL_DUMP_REQ, 3), 0);
	assert_int_equal(msgq_drain(&q, echo, NULL), 1);
	assert_int_equal(n_seen, 1);
	assert_false(msgq_empty(&q));
	assert_int_equal(msgq_drain(&q, echo, NULL), 1);
	assert_int_equal(seen[1].type, LD_MSG_LOCAL_DUMP_END);
	assert_int_equal(seen[1].id, 3);
	msgq_done(&q);
	msgq_done(NULL);
}

/* A LOCAL_ADV carries only the communities it has. */
static void
test_adv_size(void **state)
{
	struct msgq q = MSGQ_INIT;
	struct prefix p = P("10.0.0.0/26");
	struct ld_export plain = { .family = AF_INET };
	struct ld_export comm = { .family = AF_INET, .n_communities = 2,
				  .communities = { 1, 2, 99 } };
	size_t a, b;

	(void)state;
	n_seen = 0;
	assert_int_equal(msgq_put_local(&q, 0, &p, &plain), 0);
	a = q.buf.len;
	assert_int_equal(msgq_put_local(&q, 0, &p, &comm), 0);
	b = q.buf.len - a;
	assert_true(a < b && b < sizeof(struct ld_msg));
	assert_int_equal(msgq_drain(&q, rec, NULL), 2);
	assert_int_equal(seen[0].u.adv.n_communities, 0);
	assert_int_equal(seen[1].u.adv.n_communities, 2);
	assert_int_equal(seen[1].u.adv.communities[1], 2);
	assert_int_equal(seen[1].u.adv.communities[2], 0);	/* not carried */
	comm.n_communities = 9;
	assert_int_equal(msgq_put_local(&q, 0, &p, &comm), -EINVAL);
	msgq_done(&q);
}

static void
test_too_many_nexthops(void **state)
{
	struct msgq q = MSGQ_INIT;
	struct ld_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = LD_MSG_KR_CHANGE;
	m.u.kr.n = LD_MSG_NH_MAX + 1;
	assert_int_equal(msgq_put(&q, &m), -EINVAL);
	assert_true(msgq_empty(&q));
	msgq_done(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_put_while_draining),
		cmocka_unit_test(test_adv_size),
		cmocka_unit_test(test_too_many_nexthops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
