/* http.c — the plugin's HTTP side: libmicrohttpd on a unix socket (made
 * here, or handed over by systemd socket activation).
 *
 * Thread model.  leafnet-docker runs every request on ONE thread:
 * libmicrohttpd's internal polling thread, without a thread pool, reads
 * and answers any number of connections, but calls the handlers one at a
 * time, each to completion.  The main thread only waits for signals
 * (dp_serve).  So struct dp, its struct store (and the etcd backend's curl
 * handle), the attach core's netlink sockets and the log are used by one
 * thread only.  One more thread, reaper.c's, deletes the veths Leave and
 * DeleteEndpoint took down (by ifindex, from its own netlink socket, and
 * nothing else), so those answer without waiting for the kernel's veth
 * teardown; nothing in this process forks.  Nothing is lost by it: Docker
 * sends one request at a time per operation, and the handlers that change
 * state take the store's "docker" lock anyway, which serialised them
 * before.  The price: a request that waits (an etcd lock held elsewhere,
 * at most the lock TTL) holds up the others, which Docker retries or times
 * out like any slow plugin.  Should a pool come back, the store is ready
 * for it (store.h: a store may be shared, errors travel in each request's
 * own struct lf_err); the attach core too, as each call opens its own
 * netlink sockets.
 *
 * Every request is a POST of a JSON object (or nothing).  Bodies over
 * DP_BODY_MAX are refused with 413 and never parsed; malformed JSON gets
 * 400; unknown paths 404 (libnetwork's "not implemented").  A method that
 * fails answers 200 with {"Err": ...} (network driver, handshake) or
 * {"Error": ...} (IPAM driver), as libnetwork expects. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <microhttpd.h>

#include "clock.h"
#include "ctl.h"
#include "dbuf.h"
#include "dp.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "usock.h"

#define DP_CONTENT     "application/vnd.docker.plugins.v1.2+json"

struct dp_conn {			/* one request's body */
	struct dbuf body;
	bool too_big;
	uint64_t t0;			/* headers in (clock_now_ns) */
	const struct dp_route *rt;	/* handled: reported to leafnetd when done */
	bool ok;
};

static int
conn_append(struct dp_conn *c, const char *data, size_t n)
{
	if (c->too_big || c->body.len + n > DP_BODY_MAX) {
		c->too_big = true;
		return 0;
	}
	return dbuf_append(&c->body, data, n);
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, char *body)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!body)
		return MHD_NO;		/* out of memory: drop the connection */
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, DP_CONTENT);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static char *
error_body(enum dp_api api, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	if (o && cJSON_AddStringToObject(o, api == DP_API_IPAM ? "Error" : "Err", msg))
		text = json_print(o);
	cJSON_Delete(o);
	return text;
}

/* Parse, dispatch, render: the status and the malloc'd body. */
static unsigned
dp_handle(struct dp *d, const struct dp_route *rt, struct dp_conn *c, char **ret_body)
{
	struct lf_err err = { 0 };
	cJSON *req = NULL, *resp;
	int r;

	c->rt = rt;			/* reported as an error unless it succeeds */
	c->ok = false;
	if (c->too_big) {
		log_warnx("%s: request body over %u bytes refused", rt->path, DP_BODY_MAX);
		*ret_body = error_body(rt->api, "request body too large");
		return MHD_HTTP_CONTENT_TOO_LARGE;
	}
	if (c->body.len > 0 && json_parse(c->body.data, &req, &err) < 0) {
		log_warnx("%s: %s", rt->path, err.msg);
		*ret_body = error_body(rt->api, err.msg[0] ? err.msg : "malformed JSON");
		return MHD_HTTP_BAD_REQUEST;
	}
	log_debug("%s %.*s", rt->path, c->body.len > 2000 ? 2000 : (int)c->body.len,
		  c->body.data ? c->body.data : "");
	resp = cJSON_CreateObject();
	if (!resp) {
		cJSON_Delete(req);
		*ret_body = NULL;
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	r = rt->fn(d, req, resp, &err);
	cJSON_Delete(req);
	c->ok = r >= 0;
	if (r < 0) {
		char text[LF_ERR_MSG_MAX + LF_ERR_DETAILS_MAX + 4];

		dp_err_text(&err, r, text, sizeof(text));
		log_warnx("%s failed (%s): %s", rt->path, lf_err_code_name(err.code), text);
		cJSON_Delete(resp);
		*ret_body = error_body(rt->api, text);
		return MHD_HTTP_OK;
	}
	*ret_body = json_print(resp);
	log_debug("%s -> %s", rt->path, *ret_body ? *ret_body : "(oom)");
	cJSON_Delete(resp);
	return MHD_HTTP_OK;
}

static enum MHD_Result
dp_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	  const char *version, const char *upload_data, size_t *upload_data_size,
	  void **con_cls)
{
	struct dp *d = cls;
	struct dp_conn *c = *con_cls;
	const struct dp_route *rt;
	unsigned status;
	char *body = NULL;

	(void)version;
	if (c == NULL) {		/* headers only: set up for the body */
		c = calloc(1, sizeof(*c));
		if (!c)
			return MHD_NO;
		c->t0 = clock_now_ns();
		*con_cls = c;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (conn_append(c, upload_data, *upload_data_size) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	rt = dp_route_find(url);
	if (!rt) {
		log_info("%s %s: not implemented (404)", method, url);
		return reply(conn, MHD_HTTP_NOT_FOUND, error_body(DP_API_NET, "not implemented"));
	}
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			     error_body(rt->api, "use POST"));
	status = dp_handle(d, rt, c, &body);
	return reply(conn, status, body);
}

static void
dp_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct dp *d = cls;
	struct dp_conn *c = *con_cls;

	(void)conn;
	(void)toe;
	/* The answer is out: one report per handled request to leafnetd's
	 * metrics, nonblocking and best effort (leafnetd may be down). */
	if (c && c->rt)
		(void)ctl_report_op(d->conf.control_socket, "docker", c->rt->path + 1, c->ok,
				    (double)(clock_now_ns() - c->t0) / 1e6);
	if (c) {
		dbuf_free(&c->body);
		free(c);
		*con_cls = NULL;
	}
}

/* The listening socket: systemd's (LISTEN_FDS), else our own at path,
 * mode 0660, replacing a stale socket file but never a live one. */
static int
dp_listen(const char *path, bool *ret_owned)
{
	const char *pid_s = getenv("LISTEN_PID"), *fds_s = getenv("LISTEN_FDS");
	const char *why = "";
	int fd;

	if (pid_s && fds_s && atol(pid_s) == (long)getpid() && atoi(fds_s) >= 1) {
		*ret_owned = false;
		(void)fcntl(3, F_SETFD, FD_CLOEXEC);
		log_info("listening on the socket systemd passed (fd 3)");
		return 3;
	}
	fd = usock_listen(path, 0660, 128, SOCK_CLOEXEC, &why);
	if (fd == -EADDRINUSE) {
		log_warnx("%s: another leafnet-docker is already listening there", path);
		return fd;
	}
	if (fd < 0) {
		log_warnx("listening on %s (--socket / docker_socket): %s: %s", path, why,
			  strerror(-fd));
		return fd;
	}
	*ret_owned = true;
	return fd;
}

int
dp_serve(struct dp *d, const char *sock_path)
{
	struct MHD_Daemon *mhd;
	sigset_t set;
	bool owned = false;
	int fd, sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* blocked before the server thread starts, so only sigwait() sees them */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	fd = dp_listen(sock_path, &owned);
	if (fd < 0)
		return fd;
	if (dp_reaper_start() < 0)
		log_warnx("cannot start the veth reaper thread: Leave and DeleteEndpoint "
			  "will delete veths themselves");
	/* one internal thread and no pool: the thread model above */
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG,
			       0,
			       NULL, NULL, dp_access, d,
			       MHD_OPTION_LISTEN_SOCKET, fd,
			       MHD_OPTION_NOTIFY_COMPLETED, dp_completed, d,
			       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
			       MHD_OPTION_END);
	if (!mhd) {
		log_warnx("cannot start the HTTP server on %s", sock_path);
		if (owned)
			(void)unlink(sock_path);
		close(fd);
		return -EIO;
	}
	log_info("serving NetworkDriver and IpamDriver on %s (state %s, node %s)", sock_path,
		 d->conf.state_dir, d->conf.node_name);
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		log_info("SIGHUP: nothing to reload (the state lives in the store)");
	log_info("signal %d: stopping", sig);
	(void)MHD_quiesce_daemon(mhd);
	MHD_stop_daemon(mhd);
	dp_reaper_stop();
	if (owned)
		(void)unlink(sock_path);
	close(fd);
	return 0;
}
