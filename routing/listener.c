/* listener.c — the BGP listener: a nonblocking TCP socket on the
 * configured address, or a dual-stack IPv6 socket on any; every accepted
 * connection goes to the BGP side (bgp_accept), which owns it from then on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "ld_local.h"
#include "log.h"

static void
listener_cb(int fd, short revents, void *arg)
{
	struct ld *d = arg;

	if (!(revents & POLLIN))
		return;
	/* a bounded batch per turn so a SYN flood cannot starve the rest */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct ipaddr from = { 0 };
		uint16_t port = 0;
		int cfd;

		cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("BGP listener: accept");
			return;
		}
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)&ss;

			from.family = AF_INET;
			from.u.v4 = sin->sin_addr;
			port = ntohs(sin->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const void *)&ss;

			port = ntohs(sin6->sin6_port);
			if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
				from.family = AF_INET;
				memcpy(&from.u.v4, &sin6->sin6_addr.s6_addr[12], 4);
			} else {
				from.family = AF_INET6;
				from.u.v6 = sin6->sin6_addr;
			}
		} else {
			(void)close(cfd);
			continue;
		}
		bgp_accept(d->bgp, cfd, &from, port);
	}
}

int
listener_open(struct ld *d, const struct ipaddr *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char a[IPADDR_STRLEN];
	int fd, one = 1, zero = 0, family, r;

	memset(&ss, 0, sizeof(ss));
	family = addr->family == AF_INET ? AF_INET : AF_INET6;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (void *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = addr->u.v4;
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = addr->family ? addr->u.v6 : in6addr_any;
		sl = sizeof(*sin6);
	}
	snprintf(a, sizeof(a), "%s", addr->family ? "" : "any");
	if (addr->family)
		ipaddr_fmt(addr, a, sizeof(a));

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		log_warn("BGP listener socket");
		return r;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* keep each connection's SYN: GTSM checks the TTL it came with
	 * (session_accept_ok), since the shared listener cannot have one
	 * peer's minimum TTL */
	if (setsockopt(fd, IPPROTO_TCP, TCP_SAVE_SYN, &one, sizeof(one)) < 0)
		log_debug("BGP listener: TCP_SAVE_SYN: %s (GTSM then relies on "
			  "the minimum TTL set after accept)", strerror(errno));
	/* any: one socket for both families */
	if (family == AF_INET6 && !addr->family)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		r = -errno;
		log_warn("BGP listener on [%s]:%u (bgp_listen_address, bgp_port in %s)",
			 a, port, d->conf.base.path[0] ? d->conf.base.path : "the config");
		(void)close(fd);
		return r;
	}
	/* TCP MD5 keys of the peers with a password (the BGP side keeps
	 * them current on every reconfiguration) */
	(void)bgp_listener_keys(d->bgp, fd);
	r = loop_io_add(d->loop, fd, POLLIN, listener_cb, d);
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	d->listen_fd = fd;
	d->listen_addr = *addr;
	d->listen_port = port;
	log_info("BGP listening on [%s]:%u", a, port);
	return 0;
}

void
listener_close(struct ld *d)
{
	if (d->listen_fd < 0)
		return;
	(void)bgp_listener_keys(d->bgp, -1);
	loop_io_del(d->loop, d->listen_fd);
	(void)close(d->listen_fd);
	d->listen_fd = -1;
}
