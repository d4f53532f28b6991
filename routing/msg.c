/* msg.c — message queues between the BGP side and the local side (msg.h).
 * Records are appended to a byte buffer as they would be written to a
 * socket; draining takes the buffer over first, so a handler may queue
 * more without disturbing the walk. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

#define MSG_ALIGN(n)	(((n) + 7u) & ~(size_t)7u)

static size_t
msg_size(const struct ld_msg *m)
{
	switch (m->type) {
	case LD_MSG_KR_CHANGE:
		return offsetof(struct ld_msg, u.kr.nh) + m->u.kr.n * sizeof(m->u.kr.nh[0]);
	case LD_MSG_LOCAL_ADV:	/* only the communities it has */
		return offsetof(struct ld_msg, u.adv.communities) +
		    (m->u.adv.n_communities < 8 ? m->u.adv.n_communities : 8) *
		    sizeof(m->u.adv.communities[0]);
	case LD_MSG_NH_STATE:
		return offsetof(struct ld_msg, u) + sizeof(m->u.nh);
	default:
		return offsetof(struct ld_msg, u);
	}
}

int
msgq_put(struct msgq *q, struct ld_msg *m)
{
	static const uint8_t zero[8];
	size_t len;
	int r;

	if ((m->type == LD_MSG_KR_CHANGE && m->u.kr.n > LD_MSG_NH_MAX) ||
	    (m->type == LD_MSG_LOCAL_ADV && m->u.adv.n_communities > 8))
		return -EINVAL;
	len = msg_size(m);
	m->len = (uint16_t)len;
	r = dbuf_reserve(&q->buf, MSG_ALIGN(len));
	if (r < 0)
		return r;
	(void)dbuf_append(&q->buf, m, len);
	(void)dbuf_append(&q->buf, zero, MSG_ALIGN(len) - len);
	q->n++;
	q->n_total++;
	return 0;
}

int
msgq_put_kr(struct msgq *q, const struct prefix *p, const struct ipaddr *nh, size_t n)
{
	struct ld_msg m;

	if (n > LD_MSG_NH_MAX)
		n = LD_MSG_NH_MAX;
	memset(&m, 0, offsetof(struct ld_msg, u.kr.nh));
	m.type = n ? LD_MSG_KR_CHANGE : LD_MSG_KR_DELETE;
	m.p = *p;
	m.u.kr.n = (uint32_t)n;
	if (n)
		memcpy(m.u.kr.nh, nh, n * sizeof(nh[0]));
	return msgq_put(q, &m);
}

int
msgq_put_local(struct msgq *q, uint32_t id, const struct prefix *p, const struct ld_export *e)
{
	struct ld_msg m;

	memset(&m, 0, sizeof(m));
	m.type = e ? LD_MSG_LOCAL_ADV : LD_MSG_LOCAL_WD;
	m.id = id;
	m.p = *p;
	if (e)
		m.u.adv = *e;
	return msgq_put(q, &m);
}

int
msgq_put_ctl(struct msgq *q, enum ld_msg_type type, uint32_t id)
{
	struct ld_msg m;

	memset(&m, 0, offsetof(struct ld_msg, u));
	m.type = (uint16_t)type;
	m.id = id;
	return msgq_put(q, &m);
}

int
msgq_put_nh(struct msgq *q, enum ld_msg_type type, const struct ipaddr *a,
	    enum ld_nh_state state)
{
	struct ld_msg m;

	memset(&m, 0, offsetof(struct ld_msg, u) + sizeof(m.u.nh));
	m.type = (uint16_t)type;
	m.p.addr = *a;
	m.p.len = (uint8_t)prefix_maxlen(a->family);
	m.u.nh.state = (uint32_t)state;
	return msgq_put(q, &m);
}

size_t
msgq_drain(struct msgq *q, void (*fn)(const struct ld_msg *m, void *arg), void *arg)
{
	struct dbuf b = q->buf;
	size_t off = 0, n = 0;
	struct ld_msg m;

	if (q->n == 0)
		return 0;
	q->buf = (struct dbuf)DBUF_INIT;
	q->n = 0;
	while (off + offsetof(struct ld_msg, u) <= b.len) {
		uint16_t len;

		memcpy(&len, b.data + off + offsetof(struct ld_msg, len), sizeof(len));
		if (len < offsetof(struct ld_msg, u) || len > sizeof(m) || off + len > b.len)
			break;		/* cannot happen: we wrote it */
		memset(&m, 0, sizeof(m));
		memcpy(&m, b.data + off, len);
		fn(&m, arg);
		n++;
		off += MSG_ALIGN(len);
	}
	dbuf_free(&b);
	return n;
}

bool
msgq_empty(const struct msgq *q)
{
	return q->n == 0;
}

void
msgq_done(struct msgq *q)
{
	if (q == NULL)
		return;
	dbuf_free(&q->buf);
	q->n = 0;
}
