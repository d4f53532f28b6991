/* metrics.c — leafnetd's Prometheus endpoint: GET /metrics on
 * metrics_listen (default 127.0.0.1:9474), plus GET /healthz ("ok").
 *
 * Thread model: none of its own.  libmicrohttpd runs in external polling
 * mode with epoll (MHD_USE_EPOLL, no internal thread): its one epoll fd is
 * registered with leafnetd's poll loop, MHD_run() is called when that fd
 * is readable and when MHD's own timeout (MHD_get_timeout(), checked by
 * metrics_turn() after every turn) is due.  So a scrape is answered on
 * the loop thread, between two turns, from the daemon's live state:
 * nothing is copied under a lock, and nothing a scrape reads can change
 * while it renders.  A scrape costs no store read (pool usage is the
 * RIB's cached copy) and no netlink call; what it renders is small (a few
 * kB per peer and network), so it never holds the loop up noticeably.
 * Slow clients cannot either: sockets are nonblocking, at most
 * METRICS_CONN_MAX connections, idle ones closed after 10 s.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <microhttpd.h>

#include "conf.h"
#include "dbuf.h"
#include "ld_local.h"
#include "log.h"
#include "metrics.h"

#define METRICS_CONN_MAX	32
#define METRICS_IDLE_S		10
#define METRICS_CTYPE		"text/plain; version=0.0.4; charset=utf-8"

struct metrics {
	struct ld *d;
	struct MHD_Daemon *mhd;
	int listen_fd;
	int epoll_fd;
	uint64_t due;			/* MHD's timeout (ld_now_ms scale); 0 = none */
	uint64_t scrapes;
	struct mx_ops ops;
};

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];

	(void)cls;
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_info("metrics: %s", buf);
}

/* The snapshot of this moment, rendered. */
static char *
metrics_text(struct metrics *m, size_t *ret_len)
{
	struct ld *d = m->d;
	struct peer_status *peers = NULL;
	struct dbuf out = DBUF_INIT;
	struct mx_snap s = {
		.version = LEAFNET_VERSION,
		.node = d->conf.base.node_name,
		.rib_local = rib_count(d->rib),
		.rib_advertised = rib_exported(d->rib),
		.rib_learned = kroute_learned_count(d),
		.resyncs = kroute_resyncs(d),
		.ops = &m->ops,
		.scrapes = m->scrapes,
	};
	size_t n = bgp_peer_count(d->bgp), cap = 0;

	if (n > 0 && GROW(peers, cap, n) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (bgp_peer_status(d->bgp, i, &peers[s.n_peers]) == 0)
			s.n_peers++;
	s.peers = peers;
	rib_pools(d->rib, &s.pools, &s.n_pools);
	if (mx_render(&s, &out) < 0 || out.data == NULL) {
		dbuf_free(&out);
		free(peers);
		return NULL;
	}
	free(peers);
	*ret_len = out.len;
	return dbuf_steal(&out);
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *ctype, char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	char *body = strdup(text);

	if (body == NULL)
		return MHD_NO;
	return reply(conn, status, "text/plain; charset=utf-8", body, strlen(body));
}

static enum MHD_Result
metrics_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	       const char *version, const char *upload_data, size_t *upload_data_size,
	       void **con_cls)
{
	struct metrics *m = cls;
	size_t len = 0;
	char *body;

	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {		/* headers only: answer on the next call */
		*con_cls = m;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {	/* a body we do not want: discard */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET\n");
	if (strcmp(url, "/healthz") == 0)
		return reply_text(conn, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/") == 0)
		return reply_text(conn, MHD_HTTP_OK, "leafnetd: metrics at /metrics\n");
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found (try /metrics)\n");
	body = metrics_text(m, &len);
	if (body == NULL)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	m->scrapes++;
	return reply(conn, MHD_HTTP_OK, METRICS_CTYPE, body, len);
}

/* Let MHD work, then note when it wants to run next. */
static void
metrics_run(struct metrics *m)
{
	MHD_UNSIGNED_LONG_LONG t = 0;

	for (int i = 0; i < 8; i++) {
		(void)MHD_run(m->mhd);
		if (MHD_get_timeout(m->mhd, &t) != MHD_YES) {
			m->due = 0;
			return;
		}
		if (t > 0)
			break;
	}
	m->due = ld_now_ms() + (t > 0 ? t : 1);
	loop_wakeup_at(m->d->loop, m->due);
}

static void
metrics_io_cb(int fd, short revents, void *arg)
{
	(void)fd;
	(void)revents;
	metrics_run(arg);
}

void
metrics_turn(struct ld *d)
{
	struct metrics *m = d->metrics;

	if (m == NULL)
		return;
	if (m->due != 0 && ld_now_ms() >= m->due)
		metrics_run(m);
	else if (m->due != 0)
		loop_wakeup_at(d->loop, m->due);
}

void
metrics_op(struct ld *d, const char *plugin, const char *verb, bool ok, double ms)
{
	if (d->metrics != NULL)
		(void)mx_ops_add(&d->metrics->ops, plugin, verb, ok, ms);
}

/* Our own nonblocking listening socket, so a bind error says what it is. */
static int
metrics_listen_fd(const char *addr, bool *ret_v6)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (conf_hostport_parse(addr, &ss) < 0)
		return -EINVAL;
	*ret_v6 = ss.ss_family == AF_INET6;
	len = *ret_v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (*ret_v6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
		int r = -errno;

		(void)close(fd);
		return r;
	}
	return fd;
}

int
metrics_open(struct ld *d, const char *listen)
{
	const union MHD_DaemonInfo *info;
	struct metrics *m;
	bool v6 = false;
	int fd, r;

	if (listen == NULL || listen[0] == '\0') {
		log_info("metrics: off (metrics_listen is \"\")");
		return 0;
	}
	fd = metrics_listen_fd(listen, &v6);
	if (fd < 0) {
		log_warnx("metrics_listen %s: %s; running without metrics%s", listen,
			  strerror(-fd), fd == -EADDRINUSE ? " (another leafnetd, or give this "
			  "one its own metrics_listen)" : "");
		return fd;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		(void)close(fd);
		return -ENOMEM;
	}
	m->d = d;
	m->listen_fd = fd;
	m->epoll_fd = -1;
	m->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0),
				  0, NULL, NULL, metrics_access, m,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONN_MAX,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_IDLE_S,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				  MHD_OPTION_END);
	info = m->mhd ? MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (info == NULL || info->epoll_fd < 0) {
		log_warnx("metrics_listen %s: cannot start the HTTP server; running without "
			  "metrics", listen);
		r = -EIO;
		goto out_free;
	}
	m->epoll_fd = info->epoll_fd;
	r = loop_io_add(d->loop, m->epoll_fd, POLLIN, metrics_io_cb, m);
	if (r < 0)
		goto out_free;
	d->metrics = m;
	metrics_run(m);
	log_info("metrics on http://%s/metrics", listen);
	return 0;
out_free:
	if (m->mhd) {
		(void)MHD_quiesce_daemon(m->mhd);	/* the listen socket stays ours */
		MHD_stop_daemon(m->mhd);
	}
	(void)close(fd);
	free(m);
	return r;
}

void
metrics_close(struct ld *d)
{
	struct metrics *m = d->metrics;

	if (m == NULL)
		return;
	loop_io_del(d->loop, m->epoll_fd);
	(void)MHD_quiesce_daemon(m->mhd);	/* the listen socket stays ours */
	MHD_stop_daemon(m->mhd);
	(void)close(m->listen_fd);
	mx_ops_done(&m->ops);
	free(m);
	d->metrics = NULL;
}
