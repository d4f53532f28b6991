/* control.c — leafnetd's control socket (unix stream, mode 0600).
 *
 * Protocol: one JSON object per line each way (requests: ctl/ctl_proto.h).
 *   {"cmd":"status"}  -> {"running":true,"node":..,"as":..,"router_id":..,
 *                         "routes":N,"advertised":N,"resyncs":N,
 *                         "store_reads":{"sources":N,"allocations":N,
 *                         "skipped":N},
 *                         "graceful_restart":{"restarting","kept_routes",
 *                         "deferral_left_ms","stale_learned"},"peers":[{..,
 *                         "flaps","graceful_restart":{"capable",
 *                         "restart_time","restarting","stale_routes",
 *                         "stale_expires_ms"}}]}
 *   {"cmd":"reload"}  -> {"ok":true,"revision":N} | {"error":".."}
 *   {"cmd":"routes"}  -> {"local":[{"prefix","network","kernel","advertised",
 *                         "aggregate","communities"}],"learned":[{"prefix","nexthops"}]}
 *   {"cmd":"notify","op":"add"|"del","prefix":"10.0.0.5/32"[,"block":..,
 *    "borrowed":bool]}
 *                     -> {"ok":true,"present":bool}   (the plugins' fast path:
 *                        a targeted look at the kernel route; idempotent with
 *                        the route monitor; the block tells the RIB of a block
 *                        claimed a moment ago, rib_note_block())
 *   {"cmd":"op","plugin":"cni","verb":"ADD","result":"ok","ms":2.3}
 *                     -> no answer (a plugin's report for the metrics; the
 *                        plugin has hung up already)
 * Any number of clients, all nonblocking; a line longer than CTL_LINE_MAX
 * or a bad request gets {"error":".."} and never hurts the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "ctl_proto.h"
#include "dbuf.h"
#include "err.h"
#include "json.h"
#include "ld_local.h"
#include "log.h"
#include "network.h"
#include "usock.h"

#define CTL_CLIENTS_MAX	512
#define CTL_OUT_HIGH	(4 * 1024 * 1024)	/* stop reading requests above */

struct ctl_client {
	struct ctl_client *next;
	struct ld *d;
	int fd;
	bool eof;			/* peer finished sending */
	bool wait_reload;		/* a "reload" waits for the store worker */
	size_t in_len;
	char in[CTL_LINE_MAX];
	char *out;
	size_t out_len, out_off, out_cap;
};

struct control {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_client *clients;
	size_t n_clients;
};

static void ctl_client_cb(int fd, short revents, void *arg);

static void
ctl_client_free(struct ld *d, struct ctl_client *c)
{
	struct ctl_client **pp;

	for (pp = &d->ctl->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	d->ctl->n_clients--;
	loop_io_del(d->loop, c->fd);
	(void)close(c->fd);
	free(c->out);
	free(c);
}

static int
ctl_out_append(struct ctl_client *c, const char *s)
{
	size_t n = strlen(s);

	if (GROW(c->out, c->out_cap, c->out_len + n + 1) < 0)
		return -ENOMEM;
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
	c->out[c->out_len++] = '\n';
	return 0;
}

static void
ctl_reply(struct ctl_client *c, cJSON *o)
{
	char *text = o ? json_print(o) : NULL;

	if (text == NULL || ctl_out_append(c, text) < 0)
		(void)ctl_out_append(c, "{\"error\":\"out of memory\"}");
	free(text);
	cJSON_Delete(o);
}

static void
ctl_error(struct ctl_client *c, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	if (o)
		cJSON_AddStringToObject(o, "error", msg);
	ctl_reply(c, o);
}

static cJSON *
ctl_status(struct ld *d)
{
	cJSON *o = cJSON_CreateObject(), *peers;
	size_t n = bgp_peer_count(d->bgp);

	if (o == NULL)
		return NULL;
	cJSON_AddBoolToObject(o, "running", true);
	cJSON_AddStringToObject(o, "node", d->conf.base.node_name);
	cJSON_AddNumberToObject(o, "as", d->conf.local_as);
	(void)json_add_addr(o, "router_id", &d->conf.router_id);
	if (d->conf.rr)
		(void)json_add_addr(o, "cluster_id", &d->conf.cluster_id);
	cJSON_AddNumberToObject(o, "revision", (double)d->conf.revision);
	cJSON_AddNumberToObject(o, "routes", (double)rib_count(d->rib));
	cJSON_AddNumberToObject(o, "advertised", (double)rib_exported(d->rib));
	cJSON_AddNumberToObject(o, "resyncs", (double)kroute_resyncs(d));
	{
		cJSON *sr = cJSON_AddObjectToObject(o, "store_reads");
		uint64_t reads, alloc;

		rib_store_reads(&reads, &alloc);
		if (sr != NULL) {	/* networks + blocks; of them with allocations */
			cJSON_AddNumberToObject(sr, "sources", (double)reads);
			cJSON_AddNumberToObject(sr, "allocations", (double)alloc);
			/* other nodes' block changes not read (watch.c) */
			cJSON_AddNumberToObject(sr, "skipped", (double)watch_skipped(d));
		}
	}
	{
		cJSON *gr = cJSON_AddObjectToObject(o, "graceful_restart");
		uint64_t kept, left;
		bool restarting;

		bgp_gr_status(d->bgp, &restarting, &kept, &left);
		if (gr != NULL) {
			cJSON_AddBoolToObject(gr, "restarting", restarting);
			cJSON_AddNumberToObject(gr, "kept_routes", (double)kept);
			cJSON_AddNumberToObject(gr, "deferral_left_ms", (double)left);
			cJSON_AddNumberToObject(gr, "stale_learned",
						(double)kroute_stale_count(d));
		}
	}
	peers = cJSON_AddArrayToObject(o, "peers");
	for (size_t i = 0; peers && i < n; i++) {
		struct peer_status ps;
		cJSON *p;

		memset(&ps, 0, sizeof(ps));
		if (bgp_peer_status(d->bgp, i, &ps) < 0)
			continue;
		p = cJSON_CreateObject();
		if (p == NULL || !cJSON_AddItemToArray(peers, p))
			break;
		(void)json_add_addr(p, "address", &ps.addr);
		cJSON_AddStringToObject(p, "type", ld_peer_type_name(ps.type));
		cJSON_AddStringToObject(p, "role", ld_peer_role_name(ps.type, ps.rr_client));
		cJSON_AddNumberToObject(p, "as", ps.remote_as);
		cJSON_AddStringToObject(p, "state", ps.state ? ps.state : "Idle");
		cJSON_AddBoolToObject(p, "up", ps.up);
		cJSON_AddNumberToObject(p, "since", (double)ps.since);
		/* ms since the epoch: benchmarks compare it across hosts */
		cJSON_AddNumberToObject(p, "since_ms", (double)ps.since_ms);
		cJSON_AddStringToObject(p, "info", ps.info);
		cJSON_AddNumberToObject(p, "received", (double)ps.prefixes_received);
		cJSON_AddNumberToObject(p, "unusable", (double)ps.prefixes_unusable);
		cJSON_AddNumberToObject(p, "sent", (double)ps.prefixes_sent);
		cJSON_AddNumberToObject(p, "updates_received", (double)ps.updates_in);
		cJSON_AddNumberToObject(p, "updates_sent", (double)ps.updates_out);
		/* the options it runs with (never the password itself) */
		cJSON_AddStringToObject(p, "import", ld_peer_import_name(ps.import));
		cJSON_AddBoolToObject(p, "password_set", ps.password_set);
		cJSON_AddBoolToObject(p, "ttl_security", ps.ttl_security);
		cJSON_AddNumberToObject(p, "max_prefix", ps.max_prefix);
		if (ps.max_prefix) {
			cJSON_AddStringToObject(p, "max_prefix_action",
						ps.max_prefix_warning ? "warning" : "restart");
			if (!ps.max_prefix_warning)
				cJSON_AddNumberToObject(p, "max_prefix_restart",
							ps.max_prefix_restart);
		}
		if (ps.down_until)
			cJSON_AddNumberToObject(p, "down_until", (double)ps.down_until);
		cJSON_AddNumberToObject(p, "flaps", (double)ps.flaps);
		{
			cJSON *gr = cJSON_AddObjectToObject(p, "graceful_restart");

			if (gr == NULL)
				continue;
			cJSON_AddBoolToObject(gr, "capable", ps.gr);
			cJSON_AddNumberToObject(gr, "restart_time", ps.gr_time);
			cJSON_AddBoolToObject(gr, "restarting", ps.gr_restarting);
			cJSON_AddNumberToObject(gr, "stale_routes", (double)ps.gr_stale);
			cJSON_AddNumberToObject(gr, "stale_expires_ms", (double)ps.gr_stale_ms);
		}
	}
	return o;
}

static void
routes_local_cb(const struct rib_route *rr, void *arg)
{
	cJSON *arr = arg, *o = cJSON_CreateObject(), *comms;
	char buf[PREFIX_STRLEN];

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return;
	}
	cJSON_AddStringToObject(o, "prefix", prefix_fmt(&rr->prefix, buf, sizeof(buf)));
	if (rr->network)
		cJSON_AddStringToObject(o, "network", rr->network);
	else
		cJSON_AddNullToObject(o, "network");
	cJSON_AddBoolToObject(o, "kernel", rr->kernel);
	cJSON_AddBoolToObject(o, "advertised", rr->advertised);
	cJSON_AddBoolToObject(o, "aggregate", rr->exp.aggregate);
	if (rr->ifindex)
		cJSON_AddNumberToObject(o, "ifindex", rr->ifindex);
	comms = cJSON_AddArrayToObject(o, "communities");
	for (size_t i = 0; comms && i < rr->exp.n_communities; i++)
		cJSON_AddItemToArray(comms, cJSON_CreateString(
			community_fmt(rr->exp.communities[i], buf, sizeof(buf))));
}

static void
routes_learned_cb(const struct prefix *p, const struct ipaddr *nh, size_t n, void *arg)
{
	cJSON *arr = arg, *o = cJSON_CreateObject(), *hops;
	char buf[PREFIX_STRLEN];

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return;
	}
	cJSON_AddStringToObject(o, "prefix", prefix_fmt(p, buf, sizeof(buf)));
	hops = cJSON_AddArrayToObject(o, "nexthops");
	for (size_t i = 0; hops && i < n; i++)
		cJSON_AddItemToArray(hops, cJSON_CreateString(ipaddr_fmt(&nh[i], buf, sizeof(buf))));
}

static cJSON *
ctl_routes(struct ld *d)
{
	cJSON *o = cJSON_CreateObject(), *local, *learned;

	if (o == NULL)
		return NULL;
	local = cJSON_AddArrayToObject(o, "local");
	learned = cJSON_AddArrayToObject(o, "learned");
	if (local)
		rib_walk_all(d->rib, routes_local_cb, local);
	if (learned)
		kroute_learned_walk(d, routes_learned_cb, learned);
	return o;
}

static void
ctl_notify(struct ld *d, struct ctl_client *c, const struct ctl_req *req)
{
	char pfx[PREFIX_STRLEN], msg[256];
	cJSON *o;
	int r;

	/* the block first: the route, found in the kernel next, is then
	 * placed in it at once (rib.c: a block this node just claimed), or,
	 * borrowed, goes out as is without the RIB's wait for the store */
	if (req->add && req->has_block)
		rib_note_block(d->rib, &req->prefix, &req->block, req->borrowed);
	/* whatever op says, the kernel decides */
	r = kroute_check(d, &req->prefix);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "looking up %s in the kernel: %s",
			 prefix_fmt(&req->prefix, pfx, sizeof(pfx)), strerror(-r));
		ctl_error(c, msg);
		return;
	}
	/* this node's allocations changed: the pool usage (watch.c) */
	watch_want(d, WATCH_POOLS);
	o = cJSON_CreateObject();
	if (o) {
		cJSON_AddBoolToObject(o, "ok", true);
		cJSON_AddBoolToObject(o, "present", rib_has_kernel(d->rib, &req->prefix));
	}
	ctl_reply(c, o);
}

static void
ctl_request(struct ld *d, struct ctl_client *c, const char *line)
{
	struct lf_err e = { 0 };
	struct ctl_req req;
	char err[512];
	cJSON *o;

	if (ctl_req_parse(line, &req, &e) < 0) {
		ctl_error(c, e.msg);
		return;
	}
	switch (req.cmd) {
	case CTL_CMD_STATUS:
		ctl_reply(c, ctl_status(d));
		break;
	case CTL_CMD_ROUTES:
		ctl_reply(c, ctl_routes(d));
		break;
	case CTL_CMD_NOTIFY:
		ctl_notify(d, c, &req);
		break;
	case CTL_CMD_OP:
		metrics_op(d, req.plugin, req.verb, req.ok, req.ms);
		break;
	case CTL_CMD_RELOAD:
		log_info("control: reload requested");
		if (d->watch != NULL) {
			/* answered by control_reload_done(); the store is read
			 * off the loop, and this client's next requests wait */
			c->wait_reload = true;
			watch_want(d, WATCH_CONF | WATCH_FORCE | WATCH_REPLY | WATCH_NETS);
		} else if (ld_conf_check(d, true, err, sizeof(err)) < 0) {
			ctl_error(c, err);
		} else if ((o = cJSON_CreateObject()) != NULL) {
			cJSON_AddBoolToObject(o, "ok", true);
			cJSON_AddNumberToObject(o, "revision", (double)d->conf.revision);
			ctl_reply(c, o);
		}
		break;
	}
}

/* Write what is pending; false when the client is gone. */
static bool
ctl_flush(struct ld *d, struct ctl_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return false;
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->out_cap > 65536) {	/* give a big "routes" answer back */
			free(c->out);
			c->out = NULL;
			c->out_cap = 0;
		}
	}
	if (c->eof && c->out_len == 0 && !c->wait_reload)
		return false;
	loop_io_events(d->loop, c->fd, (short)((c->out_len ? POLLOUT : 0) |
				       (c->eof || c->out_len > CTL_OUT_HIGH ? 0 : POLLIN)));
	return true;
}

/* The complete request lines received, in order; stops at a reload that
 * waits for its answer. */
static void
ctl_lines(struct ld *d, struct ctl_client *c)
{
	char *nl;

	while (!c->wait_reload && (nl = memchr(c->in, '\n', c->in_len)) != NULL) {
		size_t len = (size_t)(nl - c->in);

		*nl = '\0';
		if (len > 0)
			ctl_request(d, c, c->in);
		memmove(c->in, nl + 1, c->in_len - len - 1);
		c->in_len -= len + 1;
	}
}

void
control_reload_done(struct ld *d, int r, const char *err)
{
	struct ctl_client *c, *next;
	cJSON *o;

	if (d->ctl == NULL)
		return;
	for (c = d->ctl->clients; c != NULL; c = next) {
		next = c->next;
		if (!c->wait_reload)
			continue;
		c->wait_reload = false;
		if (r < 0) {
			ctl_error(c, err && *err ? err : strerror(-r));
		} else if ((o = cJSON_CreateObject()) != NULL) {
			cJSON_AddBoolToObject(o, "ok", true);
			cJSON_AddNumberToObject(o, "revision", (double)d->conf.revision);
			ctl_reply(c, o);
		}
		ctl_lines(d, c);
		if (!ctl_flush(d, c))
			ctl_client_free(d, c);
	}
}

static void
ctl_read(struct ld *d, struct ctl_client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
				 MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			c->eof = true;
			return;
		}
		c->in_len += (size_t)n;
		ctl_lines(d, c);
		if (c->wait_reload)
			return;
		if (c->in_len == sizeof(c->in)) {
			ctl_error(c, "request line too long (limit 8192 bytes)");
			c->eof = true;		/* answer, then hang up */
			c->in_len = 0;
			return;
		}
		if (c->out_len > CTL_OUT_HIGH)
			return;
	}
}

static void
ctl_client_cb(int fd, short revents, void *arg)
{
	struct ctl_client *c = arg;
	struct ld *d = c->d;

	(void)fd;
	if ((revents & POLLIN) && !c->eof)
		ctl_read(d, c);
	else if (revents & (POLLHUP | POLLERR | POLLNVAL))
		c->eof = true;
	if (!ctl_flush(d, c))
		ctl_client_free(d, c);
}

static void
ctl_accept_cb(int fd, short revents, void *arg)
{
	struct ld *d = arg;

	(void)revents;
	for (int i = 0; i < 64; i++) {
		struct ctl_client *c;
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("control socket: accept");
			return;
		}
		if (d->ctl->n_clients >= CTL_CLIENTS_MAX ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			(void)close(cfd);
			continue;
		}
		c->fd = cfd;
		c->d = d;
		if (loop_io_add(d->loop, cfd, POLLIN, ctl_client_cb, c) < 0) {
			(void)close(cfd);
			free(c);
			continue;
		}
		c->next = d->ctl->clients;
		d->ctl->clients = c;
		d->ctl->n_clients++;
	}
}

int
control_open(struct ld *d, const char *path)
{
	const char *why = "";
	int fd, r;

	fd = usock_listen(path, 0600, 512, SOCK_NONBLOCK | SOCK_CLOEXEC, &why);
	if (fd == -EADDRINUSE) {
		log_warnx("control socket %s: another leafnetd is running (stop it, or give "
			  "this one its own control_socket)", path);
		return fd;
	}
	if (fd < 0) {
		log_warnx("control socket %s (control_socket in the config): %s: %s", path, why,
			  strerror(-fd));
		return fd;
	}
	d->ctl = calloc(1, sizeof(*d->ctl));
	if (d->ctl == NULL) {
		(void)close(fd);
		return -ENOMEM;
	}
	d->ctl->fd = fd;
	snprintf(d->ctl->path, sizeof(d->ctl->path), "%s", path);
	r = loop_io_add(d->loop, fd, POLLIN, ctl_accept_cb, d);
	if (r < 0) {
		(void)close(fd);
		(void)unlink(path);
		free(d->ctl);
		d->ctl = NULL;
		return r;
	}
	log_info("control socket %s", path);
	return 0;
}

void
control_close(struct ld *d)
{
	if (d->ctl == NULL)
		return;
	while (d->ctl->clients)
		ctl_client_free(d, d->ctl->clients);
	loop_io_del(d->loop, d->ctl->fd);
	(void)close(d->ctl->fd);
	(void)unlink(d->ctl->path);
	free(d->ctl);
	d->ctl = NULL;
}
