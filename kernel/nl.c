/* nl.c — rtnetlink requests over libmnl: send, read the ACK, pass up the
 * kernel's extended-ACK text. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "err.h"
#include "log.h"
#include "netns.h"
#include "nl.h"

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif

/* Link dumps carry messages larger than MNL_SOCKET_BUFFER_SIZE. */
#define NL_RECV_SIZE 32768

struct nl_run {
	struct nl *nl;
	nl_cb cb;
	void *arg;
	int intr;			/* NLM_F_DUMP_INTR seen */
	int kerr;			/* -errno the kernel answered with */
};

int
nl_open(struct nl *ret)
{
	struct mnl_socket *sock;
	int one = 1, r;

	sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!sock)
		return -errno;
	/* Extended ACK gives us the kernel's reason; CAP_ACK keeps it from
	 * echoing our whole request back in every error. Both are best effort
	 * (old kernels lack them). */
	(void)mnl_socket_setsockopt(sock, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(sock);
		return r;
	}
	ret->sock = sock;
	ret->portid = mnl_socket_get_portid(sock);
	ret->seq = 0;
	ret->ext[0] = '\0';
	return 0;
}

int
nl_open_netns_fd(struct nl *ret, int nsfd)
{
	struct nl n;
	int orig = -1, r, r2;

	r = netns_enter(nsfd, &orig);
	if (r < 0)
		return r;
	r = nl_open(&n);
	r2 = netns_leave(orig);
	if (r2 < 0) {
		if (r >= 0)
			nl_close(&n);
		return r2;
	}
	if (r < 0)
		return r;
	*ret = n;
	return 0;
}

int
nl_open_netns(struct nl *ret, const char *path)
{
	int fd, r;

	fd = netns_open(path);
	if (fd < 0)
		return fd;
	r = nl_open_netns_fd(ret, fd);
	close(fd);
	return r;
}

void
nl_close(struct nl *nl)
{
	if (!nl || !nl->sock)
		return;
	mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

struct nlmsghdr *
nl_msg(struct nl *nl, void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* Copy NLMSGERR_ATTR_MSG out of an error/done message, if there is one. */
static void
nl_extack(struct nl *nl, const struct nlmsghdr *nlh, size_t off)
{
	const struct nlattr *attr;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (nlh->nlmsg_len < NLMSG_HDRLEN + MNL_ALIGN(off))
		return;
	mnl_attr_for_each(attr, nlh, MNL_ALIGN(off)) {
		if (mnl_attr_get_type(attr) != NLMSGERR_ATTR_MSG)
			continue;
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return;
		snprintf(nl->ext, sizeof(nl->ext), "%s", mnl_attr_get_str(attr));
		/* the kernel's strings end without a period; some end in \n */
		nl->ext[strcspn(nl->ext, "\n")] = '\0';
		return;
	}
}

static int
nl_cb_error(const struct nlmsghdr *nlh, void *data)
{
	struct nl_run *run = data;
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (err->error == 0)
		return MNL_CB_STOP;		/* the ACK */
	/* TLVs follow the error header, after the echoed request unless the
	 * kernel capped it. */
	off = sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	nl_extack(run->nl, nlh, off);
	run->kerr = err->error < 0 ? err->error : -err->error;
	errno = -run->kerr;
	return MNL_CB_ERROR;
}

static int
nl_cb_done(const struct nlmsghdr *nlh, void *data)
{
	struct nl_run *run = data;
	int err = 0;

	if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(int)))
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	if (err < 0) {
		nl_extack(run->nl, nlh, sizeof(int));
		run->kerr = err;
		errno = -err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

static int
nl_cb_data(const struct nlmsghdr *nlh, void *data)
{
	struct nl_run *run = data;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		run->intr = 1;
	if (!run->cb)
		return MNL_CB_OK;
	return run->cb(nlh, run->arg);
}

static mnl_cb_t nl_ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = nl_cb_error,
	[NLMSG_DONE] = nl_cb_done,
};

/* Send nlh and process answers with seq nlh->nlmsg_seq until the ACK, the
 * end of the dump, or an error. */
static int
nl_run(struct nl *nl, struct nlmsghdr *nlh, nl_cb cb, void *arg)
{
	char buf[NL_RECV_SIZE];
	struct nl_run run = { .nl = nl, .cb = cb, .arg = arg };
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int r;

	if (!nl || !nl->sock)
		return -EBADF;
	nl->ext[0] = '\0';
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		r = mnl_cb_run2(buf, (size_t)n, seq, nl->portid, nl_cb_data, &run,
				nl_ctl_cbs, NLMSG_MIN_TYPE);
		if (r == MNL_CB_ERROR) {
			if (run.kerr)
				return run.kerr;
			/* a stale answer to an earlier request (one whose wait
			 * was cut short) does not concern us: skip it */
			if (errno == EPROTO || errno == ESRCH)
				continue;
			return errno ? -errno : -EIO;
		}
		if (r == MNL_CB_STOP)
			break;
	}
	return run.intr ? -EINTR : 0;
}

int
nl_talk_cb(struct nl *nl, struct nlmsghdr *nlh, nl_cb cb, void *arg)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	return nl_run(nl, nlh, cb, arg);
}

int
nl_talk(struct nl *nl, struct nlmsghdr *nlh)
{
	return nl_talk_cb(nl, nlh, NULL, NULL);
}

int
nl_dump(struct nl *nl, struct nlmsghdr *nlh, nl_cb cb, void *arg)
{
	nlh->nlmsg_flags |= NLM_F_DUMP;
	return nl_run(nl, nlh, cb, arg);
}

int
nl_talk_batch(struct nl *nl, void *buf, size_t len, size_t n,
	      void (*done)(size_t i, int err, void *arg), void *arg)
{
	return nl_talk_batch_cb(nl, buf, len, n, done, NULL, arg);
}

int
nl_talk_batch_cb(struct nl *nl, void *buf, size_t len, size_t n,
		 void (*done)(size_t i, int err, void *arg), nl_cb cb, void *arg)
{
	char rbuf[NL_RECV_SIZE];
	bool acked[NL_BATCH_MAX] = { false };
	struct nlmsghdr *nlh = buf;
	int left = (int)len, r = 0;
	uint32_t first;
	size_t k = 0;
	ssize_t rn;

	if (!nl || !nl->sock)
		r = -EBADF;
	else if (n == 0 || n > NL_BATCH_MAX || len > INT_MAX)
		r = -EINVAL;
	if (r < 0)
		goto out_fail_rest;
	/* The kernel runs the requests of one sendmsg in order and answers
	 * one without NLM_F_ACK only when it fails: only the last asks for
	 * its ACK, and once that is read every request not answered has
	 * succeeded.  A batch of 128 is two recvmsg, not 128. */
	first = nlh->nlmsg_seq;
	for (size_t i = 0; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left), i++) {
		if (i + 1 == n)
			nlh->nlmsg_flags |= NLM_F_ACK;
		else
			nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	}
	if (mnl_socket_sendto(nl->sock, buf, len) < 0) {
		r = -errno;
		goto out_fail_rest;
	}
	while (!acked[n - 1]) {
		rn = mnl_socket_recvfrom(nl->sock, rbuf, sizeof(rbuf));
		if (rn < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out_fail_rest;
		}
		left = (int)rn;
		for (nlh = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			size_t i = nlh->nlmsg_seq - first, off;
			int err;

			/* only answers to us; a stale answer to an earlier
			 * request (one whose wait was cut short) is skipped */
			if (nlh->nlmsg_pid != nl->portid || nlh->nlmsg_seq - first >= n ||
			    acked[i])
				continue;
			if (nlh->nlmsg_type != NLMSG_ERROR) {
				if (cb && nlh->nlmsg_type >= NLMSG_MIN_TYPE)
					(void)cb(nlh, arg);
				continue;
			}
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;
			err = e->error < 0 ? e->error : -e->error;
			nl->ext[0] = '\0';
			if (err) {
				off = sizeof(*e);
				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
				nl_extack(nl, nlh, off);
			}
			acked[i] = true;
			done(i, err, arg);
		}
	}
	nl->ext[0] = '\0';
	for (k = 0; k < n; k++)
		if (!acked[k])
			done(k, 0, arg);
	return 0;
out_fail_rest:
	nl->ext[0] = '\0';
	for (; k < n; k++)
		if (k >= NL_BATCH_MAX || !acked[k])
			done(k, r, arg);
	return r;
}

void
nl_batch_init(struct nl_batch *b, struct nl *nl, nl_cb cb, void *arg)
{
	b->nl = nl;
	b->cb = cb;
	b->arg = arg;
	b->len = 0;
	b->n = 0;
	b->pending = NULL;
	b->failed = -1;
	/* buf is zeroed one request's room at a time (nl_batch_buf()): an
	 * ADD builds 5-8 requests, and zeroing all 15 KiB here touched four
	 * stack pages the ADD never used (page faults are a good part of a
	 * short-lived plugin's time: bench/README.md) */
}

/* Count the request built at b->pending, if one was. */
static void
nl_batch_close(struct nl_batch *b)
{
	struct nlmsghdr *nlh = b->pending;

	b->pending = NULL;
	if (nlh == NULL || nlh->nlmsg_len < sizeof(*nlh))
		return;			/* the builder gave up before nl_msg() */
	b->len += MNL_ALIGN(nlh->nlmsg_len);
	b->n++;
}

void *
nl_batch_buf(struct nl_batch *b)
{
	nl_batch_close(b);
	if (b->n >= NL_BATCH_REQS || b->len + NL_BATCH_MSG_MAX > sizeof(b->buf))
		return NULL;
	b->pending = b->buf + b->len;
	memset(b->pending, 0, NL_BATCH_MSG_MAX);
	return b->pending;
}

struct nl_batch_run {
	struct nl_batch *b;
	char ext[NL_EXT_MAX];
};

static void
nl_batch_done(size_t i, int err, void *arg)
{
	struct nl_batch_run *run = arg;
	struct nl_batch *b = run->b;

	if (i >= NL_BATCH_REQS)
		return;
	b->err[i] = err;
	if (err < 0 && (b->failed < 0 || (size_t)b->failed > i)) {
		b->failed = (int)i;
		snprintf(run->ext, sizeof(run->ext), "%s", b->nl->ext);
	}
}

static int
nl_batch_data(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_batch_run *run = arg;

	return run->b->cb ? run->b->cb(nlh, run->b->arg) : MNL_CB_OK;
}

int
nl_batch_send(struct nl_batch *b)
{
	struct nl_batch_run run = { .b = b };
	size_t n;
	int r;

	nl_batch_close(b);
	n = b->n;
	b->failed = -1;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		b->err[i] = 0;
	r = nl_talk_batch_cb(b->nl, b->buf, b->len, n, nl_batch_done, nl_batch_data, &run);
	b->len = 0;
	b->n = 0;
	if (r < 0 && b->failed < 0)
		b->failed = 0;
	snprintf(b->nl->ext, sizeof(b->nl->ext), "%s", run.ext);
	return b->failed >= 0 ? b->err[b->failed] : 0;
}

int
nl_fail(struct nl *nl, struct lf_err *reterr, int ret, const char *fmt, ...)
{
	char what[LF_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (nl && nl->ext[0])
		return lf_err_set(reterr, LF_E_KERNEL, ret, "%s: %s (kernel: %s)",
				  what, strerror(-ret), nl->ext);
	return lf_err_set(reterr, LF_E_KERNEL, ret, "%s: %s", what, strerror(-ret));
}
