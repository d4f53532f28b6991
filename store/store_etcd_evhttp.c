/* store_etcd_evhttp.c — the etcd backend's transport for http:// endpoints:
 * libevent's HTTP client (evhttp), one event base per store and one
 * keep-alive evhttp_connection per endpoint, driven to the end of one
 * request at a time by etcd_ev_post() with e->mu held (so no libevent
 * threading support is needed: a base is never used by two threads at
 * once).  Failover, the deadline, the fast-fail and the error texts are
 * store_etcd_http.c's, common to both transports; this file reports one
 * request to one endpoint as a struct etcd_try.
 *
 * Why not libcurl here: a CNI plugin is a process per ADD, and loading
 * libcurl.so.4 (32 shared objects: TLS, Kerberos, LDAP, SSH, ...) costs it
 * 8-12 ms plus ~1 ms of curl_global_init, against ~2 ms for a whole ADD on
 * the file store.  libevent-2.1.so.7 needs only libc and loads in ~0.45 ms
 * (bench/etcd_bench).  It has no TLS of its own, so https:// stays on curl.
 *
 * libevent is dlopen()ed, like libcurl, the first time an etcd store with
 * an http:// endpoint is opened: binaries that never open one (the file
 * store) do not pay for it.  The headers give the types; the entry points
 * go through the table below.
 *
 * What evhttp reports, and how it is read (libevent 2.1's http.c):
 *  - a connect that fails calls the request's callback with the request
 *    and response code 0, or (unreachable, a name that does not resolve)
 *    the error callback; neither says whether the socket was connected, so
 *    this file tracks it: a kept-alive socket with a peer when the request
 *    starts, or the connection's close callback (evhttp calls it only for
 *    a connection that was established), or an answer;
 *  - evhttp's own timeout is an idle timeout per read/write (and for the
 *    connect), so the budgets are two timers here: the connect one
 *    (connect_ms, cancelled if the socket is connected by then) and the
 *    whole request's (left_ms); evhttp's is set past both;
 *  - a request sent on a kept-alive connection that the server had closed
 *    (etcd restarted) ends in EOF before any answer: sent once more on a
 *    fresh connection, as libcurl does.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>

#include "clock.h"
#include "log.h"
#include "store_etcd.h"

#define ETCD_LIBEVENT	"libevent-2.1.so.7"	/* libevent-2.1-7: core + extra (evhttp) */
#define EV_HEADERS_MAX	65536			/* an answer's header block */
#define EV_SLACK_MS	250			/* evhttp's own timeout past ours */

/* The entry points, typed from the headers. */
#define EVFN(name) __typeof__(name) *name
static struct {
	EVFN(event_set_log_callback);
	EVFN(event_base_new);
	EVFN(event_base_free);
	EVFN(event_base_loop);
	EVFN(event_new);
	EVFN(event_free);
	EVFN(event_add);
	EVFN(event_del);
	EVFN(evbuffer_add);
	EVFN(evbuffer_get_length);
	EVFN(evbuffer_pullup);
	EVFN(bufferevent_getfd);
	EVFN(bufferevent_socket_get_dns_error);
	EVFN(evutil_gai_strerror);
	EVFN(evhttp_uri_parse);
	EVFN(evhttp_uri_free);
	EVFN(evhttp_uri_get_scheme);
	EVFN(evhttp_uri_get_host);
	EVFN(evhttp_uri_get_port);
	EVFN(evhttp_uri_get_path);
	EVFN(evhttp_connection_base_new);
	EVFN(evhttp_connection_free);
	EVFN(evhttp_connection_set_timeout_tv);
	EVFN(evhttp_connection_set_max_body_size);
	EVFN(evhttp_connection_set_max_headers_size);
	EVFN(evhttp_connection_set_closecb);
	EVFN(evhttp_connection_get_bufferevent);
	EVFN(evhttp_request_new);
	EVFN(evhttp_request_set_error_cb);
	EVFN(evhttp_request_get_output_headers);
	EVFN(evhttp_request_get_output_buffer);
	EVFN(evhttp_request_get_input_buffer);
	EVFN(evhttp_request_get_response_code);
	EVFN(evhttp_add_header);
	EVFN(evhttp_make_request);
	EVFN(evhttp_cancel_request);
} le;
#undef EVFN

static pthread_once_t ev_load_guard = PTHREAD_ONCE_INIT;
static int ev_load_rc = -ELIBACC;

/* libevent's own warnings ("connection to ... failed") go to stderr unless
 * told otherwise: a CNI plugin's stderr is the runtime's log.  Ours says
 * it better, with the request; keep theirs for debugging. */
static void
ev_log(int severity, const char *msg)
{
	(void)severity;
	log_debug("etcd: libevent: %s", msg);
}

static void
ev_load_once(void)
{
#define SYM(name) { #name, (void **)&le.name }
	static const struct { const char *name; void **fn; } syms[] = {
		SYM(event_set_log_callback), SYM(event_base_new), SYM(event_base_free),
		SYM(event_base_loop), SYM(event_new), SYM(event_free), SYM(event_add),
		SYM(event_del), SYM(evbuffer_add), SYM(evbuffer_get_length),
		SYM(evbuffer_pullup), SYM(bufferevent_getfd),
		SYM(bufferevent_socket_get_dns_error), SYM(evutil_gai_strerror),
		SYM(evhttp_uri_parse), SYM(evhttp_uri_free), SYM(evhttp_uri_get_scheme),
		SYM(evhttp_uri_get_host), SYM(evhttp_uri_get_port), SYM(evhttp_uri_get_path),
		SYM(evhttp_connection_base_new), SYM(evhttp_connection_free),
		SYM(evhttp_connection_set_timeout_tv), SYM(evhttp_connection_set_max_body_size),
		SYM(evhttp_connection_set_max_headers_size), SYM(evhttp_connection_set_closecb),
		SYM(evhttp_connection_get_bufferevent), SYM(evhttp_request_new),
		SYM(evhttp_request_set_error_cb), SYM(evhttp_request_get_output_headers),
		SYM(evhttp_request_get_output_buffer), SYM(evhttp_request_get_input_buffer),
		SYM(evhttp_request_get_response_code), SYM(evhttp_add_header),
		SYM(evhttp_make_request), SYM(evhttp_cancel_request),
	};
#undef SYM
	void *h = dlopen(ETCD_LIBEVENT, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		log_debug("etcd: %s", dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].fn = dlsym(h, syms[i].name);
		if (*syms[i].fn == NULL) {
			log_debug("etcd: %s: no %s", ETCD_LIBEVENT, syms[i].name);
			return;		/* keep the handle: nothing to gain from closing */
		}
	}
	le.event_set_log_callback(ev_log);
	ev_load_rc = 0;
}

int
etcd_ev_load(void)
{
	(void)pthread_once(&ev_load_guard, ev_load_once);
	return ev_load_rc;
}

/* ---- per store ---------------------------------------------------------- */

struct ev_call;

struct ev_ep {
	struct evhttp_connection *conn;	/* made on first use */
	char   host[264];		/* to connect to: no [] around IPv6 */
	char   hosthdr[272];		/* the Host header: as in the URL */
	char   prefix[264];		/* the URL's path, no trailing '/' */
	int    port;
	bool   parsed;			/* false: the URL did not parse (err says) */
	struct ev_call *call;		/* the request in flight */
};

struct etcd_ev {
	struct event_base *base;
	struct event *conn_timer, *total_timer;
	struct ev_call *call;		/* the request in flight */
	struct ev_ep ep[ETCD_MAX_EPS];
};

/* One request on one endpoint, as the callbacks saw it. */
struct ev_call {
	struct etcd_store *e;
	struct ev_ep *ep;
	struct evhttp_request *req;	/* evhttp's until it calls back */
	bool   done;
	bool   connected;		/* the socket reached the endpoint */
	bool   conn_timeout, timeout;	/* ours: the connect, the whole request */
	bool   connect_failed;		/* the callback with code 0 */
	bool   got_error;
	enum evhttp_request_error error;
	int    oserr;			/* errno when evhttp called back */
	int    dns_error;		/* EVUTIL_EAI_* or 0 */
	long   status;
	int    copy_err;
};

static bool
ev_sock_connected(struct evhttp_connection *conn)
{
	struct bufferevent *bev = le.evhttp_connection_get_bufferevent(conn);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	evutil_socket_t fd = bev != NULL ? le.bufferevent_getfd(bev) : -1;

	return fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

static void
ev_dns_error(struct ev_call *c)
{
	struct bufferevent *bev = le.evhttp_connection_get_bufferevent(c->ep->conn);

	if (bev != NULL)
		c->dns_error = le.bufferevent_socket_get_dns_error(bev);
}

/* The answer (req with a status), a failed connect (req, code 0) or, after
 * the error callback, NULL. */
static void
ev_done_cb(struct evhttp_request *req, void *arg)
{
	struct ev_call *c = arg;
	int oserr = errno;
	struct evbuffer *in;
	size_t n;

	if (c->done)
		return;
	c->done = true;
	c->req = NULL;
	if (req == NULL)
		return;
	c->status = le.evhttp_request_get_response_code(req);
	if (c->status == 0) {
		c->connect_failed = true;
		c->oserr = oserr;
		ev_dns_error(c);
		return;
	}
	c->connected = true;
	in = le.evhttp_request_get_input_buffer(req);
	n = in != NULL ? le.evbuffer_get_length(in) : 0;
	if (n > 0 && dbuf_append(&c->e->resp, le.evbuffer_pullup(in, -1), n) < 0)
		c->copy_err = -ENOMEM;
}

static void
ev_error_cb(enum evhttp_request_error error, void *arg)
{
	struct ev_call *c = arg;
	int oserr = errno;	/* evhttp restores the socket's error for us */

	if (c->done)
		return;
	c->done = true;
	c->req = NULL;
	c->got_error = true;
	c->error = error;
	c->oserr = oserr;
	ev_dns_error(c);
}

/* evhttp calls this only when an established connection is reset. */
static void
ev_close_cb(struct evhttp_connection *conn, void *arg)
{
	struct ev_ep *ep = arg;
	(void)conn;

	if (ep->call != NULL)
		ep->call->connected = true;
}

static void
ev_cancel(struct ev_call *c)
{
	struct evhttp_request *req = c->req;

	c->done = true;
	c->req = NULL;
	if (req != NULL)
		le.evhttp_cancel_request(req);	/* frees it; resets the connection */
}

static void
ev_conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct etcd_ev *ev = arg;
	struct ev_call *c = ev->call;
	(void)fd;
	(void)what;

	if (c == NULL || c->done || c->connected || ev_sock_connected(c->ep->conn))
		return;
	c->conn_timeout = true;
	ev_cancel(c);
}

static void
ev_total_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct etcd_ev *ev = arg;
	struct ev_call *c = ev->call;
	(void)fd;
	(void)what;

	if (c == NULL || c->done)
		return;
	c->timeout = true;
	if (!c->connected)
		c->connected = ev_sock_connected(c->ep->conn);
	ev_cancel(c);
}

static void
ms_tv(long ms, struct timeval *tv)
{
	if (ms < 0)
		ms = 0;
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

/* An endpoint's URL: http://host[:port][/prefix]. */
static void
ev_parse_ep(struct ev_ep *ep, const char *url)
{
	struct evhttp_uri *u = le.evhttp_uri_parse(url);
	const char *scheme, *host, *path;
	size_t hlen;

	if (u == NULL)
		return;
	scheme = le.evhttp_uri_get_scheme(u);
	host = le.evhttp_uri_get_host(u);
	path = le.evhttp_uri_get_path(u);
	if (scheme == NULL || strcasecmp(scheme, "http") != 0 || host == NULL ||
	    *host == '\0' || (hlen = strlen(host)) >= sizeof(ep->host))
		goto out;
	ep->port = le.evhttp_uri_get_port(u);
	if (ep->port < 0)
		ep->port = 80;
	if (ep->port == 0 || ep->port > 65535)
		goto out;
	if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']')
		snprintf(ep->host, sizeof(ep->host), "%.*s", (int)(hlen - 2), host + 1);
	else
		snprintf(ep->host, sizeof(ep->host), "%s", host);
	if (strchr(host, ':') != NULL && host[0] != '[')
		snprintf(ep->hosthdr, sizeof(ep->hosthdr), "[%s]:%d", host, ep->port);
	else
		snprintf(ep->hosthdr, sizeof(ep->hosthdr), "%s:%d", host, ep->port);
	snprintf(ep->prefix, sizeof(ep->prefix), "%s", path != NULL ? path : "");
	for (size_t n = strlen(ep->prefix); n > 0 && ep->prefix[n - 1] == '/'; n--)
		ep->prefix[n - 1] = '\0';
	ep->parsed = true;
out:
	le.evhttp_uri_free(u);
}

int
etcd_ev_open(struct etcd_store *e)
{
	struct etcd_ev *ev;

	if (etcd_ev_load() < 0)
		return -ELIBACC;
	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return -ENOMEM;
	e->ev = ev;
	ev->base = le.event_base_new();
	if (ev->base == NULL)
		return -ENOMEM;
	ev->conn_timer = le.event_new(ev->base, -1, 0, ev_conn_timer_cb, ev);
	ev->total_timer = le.event_new(ev->base, -1, 0, ev_total_timer_cb, ev);
	if (ev->conn_timer == NULL || ev->total_timer == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_eps; i++)
		if (e->via[i] == ETCD_VIA_EVHTTP)
			ev_parse_ep(&ev->ep[i], e->eps[i]);
	return 0;
}

/* Undoes etcd_ev_open, also a partial one. */
void
etcd_ev_close(struct etcd_store *e)
{
	struct etcd_ev *ev = e->ev;

	if (ev == NULL)
		return;
	for (size_t i = 0; i < ETCD_MAX_EPS; i++)
		if (ev->ep[i].conn != NULL)
			le.evhttp_connection_free(ev->ep[i].conn);
	if (ev->conn_timer != NULL)
		le.event_free(ev->conn_timer);
	if (ev->total_timer != NULL)
		le.event_free(ev->total_timer);
	if (ev->base != NULL)
		le.event_base_free(ev->base);
	free(ev);
	e->ev = NULL;
}

/* ---- one request -------------------------------------------------------- */

static struct evhttp_connection *
ev_conn(struct etcd_ev *ev, struct ev_ep *ep)
{
	if (ep->conn != NULL)
		return ep->conn;
	ep->conn = le.evhttp_connection_base_new(ev->base, NULL, ep->host, (unsigned short)ep->port);
	if (ep->conn == NULL)
		return NULL;
	le.evhttp_connection_set_max_body_size(ep->conn, (ev_ssize_t)ETCD_RESP_MAX);
	le.evhttp_connection_set_max_headers_size(ep->conn, EV_HEADERS_MAX);
	le.evhttp_connection_set_closecb(ep->conn, ev_close_cb, ep);
	return ep->conn;
}

/* An errno a failed connect can have; anything else (evhttp's clean-up
 * ran syscalls after it: shutdown() of the refused socket leaves ENOTCONN)
 * is read as refused, the only failure evhttp reports that way. */
static int
ev_connect_errno(int oserr)
{
	switch (oserr) {
	case ECONNREFUSED: case ENETUNREACH: case EHOSTUNREACH: case EADDRNOTAVAIL:
	case EACCES: case EPERM: case EAFNOSUPPORT: case ETIMEDOUT: case ENETDOWN:
	case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM:
		return -oserr;
	default:
		return -ECONNREFUSED;
	}
}

/* One try; *ret_eof: the connection ended before any answer. */
static void
ev_once(struct etcd_store *e, size_t i, const char *path, const char *body,
	long left_ms, long connect_ms, struct etcd_try *t, bool *ret_reused, bool *ret_eof)
{
	struct etcd_ev *ev = e->ev;
	struct ev_ep *ep = &ev->ep[i];
	struct ev_call c = { .e = e, .ep = ep };
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	struct evkeyvalq *hdrs;
	struct timeval tv;
	char uri[600];

	*ret_reused = *ret_eof = false;
	e->resp.len = 0;
	if (e->resp.data != NULL)
		e->resp.data[0] = '\0';
	if ((conn = ev_conn(ev, ep)) == NULL ||
	    (req = le.evhttp_request_new(ev_done_cb, &c)) == NULL) {
		t->r = -ENOMEM;
		t->not_sent = true;
		snprintf(t->err, sizeof(t->err), "%s", strerror(ENOMEM));
		return;
	}
	c.connected = *ret_reused = ev_sock_connected(conn);
	le.evhttp_request_set_error_cb(req, ev_error_cb);
	hdrs = le.evhttp_request_get_output_headers(req);
	snprintf(uri, sizeof(uri), "%s%s", ep->prefix, path);
	if (le.evhttp_add_header(hdrs, "Host", ep->hosthdr) < 0 ||
	    le.evhttp_add_header(hdrs, "Content-Type", "application/json") < 0 ||
	    le.evbuffer_add(le.evhttp_request_get_output_buffer(req), body, strlen(body)) < 0) {
		/* never handed to evhttp_make_request: cancel frees it */
		le.evhttp_cancel_request(req);
		t->r = -ENOMEM;
		t->not_sent = true;
		snprintf(t->err, sizeof(t->err), "%s", strerror(ENOMEM));
		return;
	}
	ms_tv(left_ms + EV_SLACK_MS, &tv);
	le.evhttp_connection_set_timeout_tv(conn, &tv);
	c.req = req;
	ev->call = &c;
	ep->call = &c;
	if (!c.connected) {
		ms_tv(connect_ms < left_ms ? connect_ms : left_ms, &tv);
		(void)le.event_add(ev->conn_timer, &tv);
	}
	ms_tv(left_ms, &tv);
	(void)le.event_add(ev->total_timer, &tv);
	/* a connect that fails at once calls back from in here */
	if (le.evhttp_make_request(conn, req, EVHTTP_REQ_POST, uri) < 0 && !c.done) {
		/* evhttp could not start a connect (it keeps req: a small
		 * leak on a path that means the process is out of fds or
		 * memory) */
		c.done = c.connect_failed = true;
		c.oserr = errno;
		c.req = NULL;
	}
	while (!c.done) {
		if (le.event_base_loop(ev->base, EVLOOP_ONCE) != 0 && !c.done) {
			/* nothing left to wait for: cannot happen while the
			 * timer is pending, but never spin */
			c.timeout = true;
			ev_cancel(&c);
		}
	}
	(void)le.event_del(ev->conn_timer);
	(void)le.event_del(ev->total_timer);
	ev->call = NULL;
	ep->call = NULL;

	if (c.timeout || c.conn_timeout) {
		t->r = -ETIMEDOUT;
		t->not_sent = c.conn_timeout || !c.connected;
		t->no_answer = true;
		snprintf(t->err, sizeof(t->err), "%s", strerror(ETIMEDOUT));
	} else if (c.connect_failed || (c.got_error && !c.connected)) {
		/* never connected: another endpoint may take it */
		t->not_sent = true;
		t->no_answer = true;
		if (c.dns_error != 0) {
			t->r = -EHOSTUNREACH;
			snprintf(t->err, sizeof(t->err), "%s: %s", ep->host,
				 le.evutil_gai_strerror(c.dns_error));
		} else {
			t->r = ev_connect_errno(c.oserr);
			snprintf(t->err, sizeof(t->err), "%s", strerror(-t->r));
		}
	} else if (c.got_error) {
		switch (c.error) {
		case EVREQ_HTTP_TIMEOUT:
			t->r = -ETIMEDOUT;
			t->no_answer = true;
			snprintf(t->err, sizeof(t->err), "%s", strerror(ETIMEDOUT));
			break;
		case EVREQ_HTTP_DATA_TOO_LONG:
			t->r = -EFBIG;
			snprintf(t->err, sizeof(t->err), "the answer is larger than %u MiB",
				 ETCD_RESP_MAX >> 20);
			break;
		case EVREQ_HTTP_INVALID_HEADER:
			t->r = -EPROTO;
			snprintf(t->err, sizeof(t->err), "the answer is not HTTP "
				 "(is this etcd's client URL?)");
			break;
		case EVREQ_HTTP_EOF:
			*ret_eof = true;
			t->r = -EIO;
			t->no_answer = true;
			snprintf(t->err, sizeof(t->err), "the connection closed before a "
				 "whole answer%s%s", c.oserr == ECONNRESET ? ": " : "",
				 c.oserr == ECONNRESET ? strerror(ECONNRESET) : "");
			break;
		default:	/* EVREQ_HTTP_BUFFER_ERROR: a send or receive failed */
			t->r = -EIO;
			t->no_answer = true;
			snprintf(t->err, sizeof(t->err), "send or receive failed: %s",
				 c.oserr > 0 ? strerror(c.oserr) : "socket error");
			break;
		}
	} else if (c.copy_err < 0) {
		t->r = c.copy_err;
		snprintf(t->err, sizeof(t->err), "%s", strerror(-c.copy_err));
	} else {
		t->r = 0;
		t->status = c.status;
	}
}

void
etcd_ev_post(struct etcd_store *e, size_t i, const char *path, const char *body,
	     long left_ms, long connect_ms, struct etcd_try *t)
{
	uint64_t start = clock_now_ms();
	bool reused, eof;

	memset(t, 0, sizeof(*t));
	if (!e->ev->ep[i].parsed) {
		t->r = -EINVAL;
		t->not_sent = true;
		snprintf(t->err, sizeof(t->err), "not an http://host:port URL");
		return;
	}
	ev_once(e, i, path, body, left_ms, connect_ms, t, &reused, &eof);
	if (t->r < 0 && reused && eof) {
		long left = left_ms - (long)(clock_now_ms() - start);

		/* etcd closed the kept-alive connection (restart): like
		 * libcurl, once more on a fresh one */
		log_debug("etcd %s: kept-alive connection closed, reconnecting", e->eps[i]);
		if (left > 0) {
			memset(t, 0, sizeof(*t));
			ev_once(e, i, path, body, left, connect_ms, t, &reused, &eof);
		}
	}
}
