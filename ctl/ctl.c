/* ctl.c — talk to leafnetd over its control socket. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "clock.h"
#include "ctl.h"
#include "ctl_proto.h"
#include "dbuf.h"
#include "hash.h"
#include "json.h"
#include "prefix.h"

static int
ctl_connect(const char *sockpath)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (sockpath == NULL || sockpath[0] == '\0')
		return -EINVAL;
	if (strlen(sockpath) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, sockpath, strlen(sockpath) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a unix connect never waits for the peer: it either queues on the
	 * listener's backlog or fails (EAGAIN when the backlog is full) */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int r = -errno;

		(void)close(fd);
		return r;
	}
	return fd;
}

/* Wait for events on fd until the deadline: 0, or -ETIMEDOUT / -errno. */
static int
ctl_wait(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		long long left = deadline - (long long)clock_now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n > 0)
			return 0;
	}
}

int
ctl_request(const char *sockpath, const char *request_json, char **ret_response,
	    int timeout_ms)
{
	long long deadline = (long long)clock_now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	struct dbuf line = DBUF_INIT, resp = DBUF_INIT;
	size_t off = 0;
	int fd, r;

	fd = ctl_connect(sockpath);
	if (fd < 0)
		return fd;
	if ((r = dbuf_printf(&line, "%s\n", request_json)) < 0)
		goto out;
	while (off < line.len) {
		ssize_t n = send(fd, line.data + off, line.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((r = ctl_wait(fd, POLLOUT, deadline)) < 0)
				goto out;
			continue;
		}
		if (n < 0) {
			r = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	/* one line back */
	for (;;) {
		ssize_t n;
		char *nl;

		if ((r = dbuf_reserve(&resp, 4096)) < 0)
			goto out;
		n = recv(fd, resp.data + resp.len, resp.cap - resp.len - 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((r = ctl_wait(fd, POLLIN, deadline)) < 0)
				goto out;
			continue;
		}
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0) {
			r = -ECONNRESET;	/* closed without a whole answer */
			goto out;
		}
		nl = memchr(resp.data + resp.len, '\n', (size_t)n);
		resp.len += (size_t)n;
		resp.data[resp.len] = '\0';
		if (nl != NULL) {
			*nl = '\0';
			*ret_response = dbuf_steal(&resp);
			r = 0;
			goto out;
		}
	}
out:
	dbuf_free(&resp);
	dbuf_free(&line);
	(void)close(fd);
	return r;
}

/* One request, no answer awaited: nonblocking connect and one send into
 * the fresh socket's empty buffer; it fits or it is dropped. */
/* A leafnetd found absent (no socket, or nobody listening on it) is not
 * tried again for a second: a CNI ADD or DEL sends it two or three
 * one-way notices, and each failed attempt costs a socket, a connect and
 * the request's JSON for nothing.  Per socket path (its hash); atomics,
 * for leafnet-docker's threads. */
#define CTL_ABSENT_NS 1000000000ULL
static _Atomic uint64_t ctl_absent_hash, ctl_absent_until;

static bool
ctl_known_absent(uint64_t h)
{
	return ctl_absent_hash == h && clock_now_ns() < ctl_absent_until;
}

static void
ctl_note_absent(uint64_t h, int err)
{
	if (err != -ENOENT && err != -ECONNREFUSED) {
		if (ctl_absent_hash == h)
			ctl_absent_until = 0;
		return;
	}
	ctl_absent_until = clock_now_ns() + CTL_ABSENT_NS;
	ctl_absent_hash = h;
}

static int
ctl_send_oneway(const char *sockpath, const struct ctl_req *req)
{
	uint64_t h;
	char *text;
	size_t len;
	ssize_t n;
	int fd;

	if (sockpath == NULL || sockpath[0] == '\0')
		return 0;
	h = hash_fnv1a64(HASH_FNV64_INIT, sockpath, strlen(sockpath));
	if (ctl_known_absent(h))
		return -ENOENT;
	text = ctl_req_format(req);
	if (text == NULL)
		return -ENOMEM;
	len = strlen(text);
	text[len++] = '\n';	/* json_print leaves room: it printed a '\0' */
	fd = ctl_connect(sockpath);
	ctl_note_absent(h, fd < 0 ? fd : 0);
	if (fd < 0) {
		free(text);
		return fd;
	}
	n = send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(text);
	(void)close(fd);
	return n == (ssize_t)len ? 0 : -EAGAIN;
}

int
ctl_notify(const char *sockpath, const char *op, const struct prefix *p,
	   const struct prefix *block, bool borrowed)
{
	struct ctl_req req = { .cmd = CTL_CMD_NOTIFY, .add = strcmp(op, "add") == 0,
			       .prefix = *p, .has_block = block != NULL,
			       .borrowed = borrowed };

	if (block != NULL)
		req.block = *block;

	return ctl_send_oneway(sockpath, &req);
}

int
ctl_report_op(const char *sockpath, const char *plugin, const char *verb, bool ok,
	      double ms)
{
	struct ctl_req req = { .cmd = CTL_CMD_OP, .ok = ok, .ms = ms < 0 ? 0 : ms };

	if (plugin == NULL || verb == NULL ||
	    snprintf(req.plugin, sizeof(req.plugin), "%s", plugin) >= (int)sizeof(req.plugin) ||
	    snprintf(req.verb, sizeof(req.verb), "%s", verb) >= (int)sizeof(req.verb))
		return -EINVAL;
	if (req.ms > 1e9)
		req.ms = 1e9;
	return ctl_send_oneway(sockpath, &req);
}
