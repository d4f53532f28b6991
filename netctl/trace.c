/* trace.c — `netctl trace ADDR`: one address end to end.
 *
 *   network     the leafnet network whose subnet holds it
 *   block       the per-host block holding it, and its node
 *   allocation  the allocation record: node, container, ifname, handle
 *   host route  (on its node) ADDR/32 proto 76 in the main table, by netlink
 *   veth        the route's device: a leafnet host veth, up
 *   leafnetd    its local RIB: the /32, or the block aggregate covering it
 *   peers       the Established BGP peers it goes to (leafnetd sends its
 *               advertised local RIB to every Established peer)
 *
 * Each step is ok, or the first one that fails with the fix; the steps
 * after it are not checked.  Steps that belong to another node are
 * skipped with where to run it.  Exit 0 when every step checked is ok. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>
#include <cJSON.h>

#include "ctl.h"
#include "err.h"
#include "ipam.h"
#include "json.h"
#include "leafnet.h"
#include "link.h"
#include "network.h"
#include "nl.h"
#include "prefix.h"
#include "route.h"
#include "store.h"
#include "netctl.h"

#define TRACE_STEPS_MAX 8
#define TRACE_CTL_TIMEOUT_MS 5000

const char trace_help[] =
	"Steps: network, block, allocation, host route, veth (on the node that owns\n"
	"the address; skipped elsewhere), leafnetd (local RIB: the /32 or the\n"
	"aggregate covering it), peers (the Established BGP peers it is sent to).\n"
	"Each is ok or fails with the fix; checking stops at the first failure.\n"
	"Exit status: 0 every step ok, 1 a step failed, 2 usage error.\n"
	"\nExample:\n"
	"  netctl trace 10.1.0.5\n";

enum trace_status { TRACE_OK, TRACE_FAIL, TRACE_SKIP };

struct trace_step {
	const char *name;
	enum trace_status status;
	char detail[320];
	char fix[320];
};

struct trace {
	struct netctl *ctx;
	struct ipaddr addr;
	char a[IPADDR_STRLEN];
	struct prefix host;		/* addr/32 (/128) */
	size_t n;
	struct trace_step steps[TRACE_STEPS_MAX];
	bool failed;
	/* what the steps found */
	struct network net;
	struct ipam_block block;
	bool have_block;
	struct ipam_record rec;
	bool local;			/* the allocation is this node's */
	struct route rt;
};

static struct trace_step *
step(struct trace *t, const char *name, enum trace_status st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct trace_step *
step(struct trace *t, const char *name, enum trace_status st, const char *fmt, ...)
{
	struct trace_step *s = &t->steps[t->n < TRACE_STEPS_MAX ? t->n++ : TRACE_STEPS_MAX - 1];
	va_list ap;

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->status = st;
	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
	if (st == TRACE_FAIL)
		t->failed = true;
	return s;
}

static bool
fail(struct trace *t, const char *name, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool
fail(struct trace *t, const char *name, const char *fix, const char *fmt, ...)
{
	struct trace_step *s = step(t, name, TRACE_FAIL, "%s", "");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
	snprintf(s->fix, sizeof(s->fix), "%s", fix);
	return false;
}

/* ---- store steps ---- */

static bool
trace_network(struct trace *t, struct store *s)
{
	char p[PREFIX_STRLEN];
	struct network *nets = NULL;
	struct lf_err err = { 0 };
	size_t n = 0;
	bool found = false;

	if (network_list(s, &nets, &n, &err) < 0)
		return fail(t, "network", "check the datastore (state_dir / etcd_endpoints "
			    "in the config)", "cannot list the networks: %s",
			    err.msg[0] ? err.msg : "store error");
	for (size_t i = 0; i < n && !found; i++)
		for (size_t k = 0; k < nets[i].n_subnets && !found; k++)
			if (prefix_contains(&nets[i].subnets[k].cidr, &t->addr)) {
				t->net = nets[i];
				found = true;
				step(t, "network", TRACE_OK, "%s, subnet %s (%s%s)", nets[i].name,
				     prefix_fmt(&nets[i].subnets[k].cidr, p, sizeof(p)),
				     nets[i].routable ? "routable" : "non-routable",
				     nets[i].nat_outgoing ? ", nat-outgoing" : "");
			}
	free(nets);
	if (!found)
		return fail(t, "network", "'netctl network ls' lists the networks and their subnets",
			    "%s is in no leafnet network's subnet", t->a);
	return true;
}

static bool
trace_block(struct trace *t, struct store *s)
{
	char p[PREFIX_STRLEN];
	struct ipam_block *b = NULL;
	size_t n = 0;

	if (ipam_blocks(s, t->net.name, &b, &n) < 0)
		return fail(t, "block", "check the datastore; 'netctl ipam check'",
			    "cannot read the blocks of %s", t->net.name);
	for (size_t i = 0; i < n; i++)
		if (prefix_contains(&b[i].cidr, &t->addr)) {
			t->block = b[i];
			t->have_block = true;
		}
	free(b);
	if (t->have_block)
		step(t, "block", TRACE_OK, "%s, claimed by node %s (%zu used)",
		     prefix_fmt(&t->block.cidr, p, sizeof(p)), t->block.node, t->block.n_used);
	else
		step(t, "block", TRACE_OK, "in no claimed block (an address outside the "
		     "blocks is advertised as a /%u)", prefix_maxlen(t->addr.family));
	return true;
}

static bool
trace_alloc(struct trace *t, struct store *s)
{
	struct ipam_record *recs = NULL;
	const char *me = t->ctx->conf.node_name;
	size_t n = 0;
	bool found = false;
	char tm[32];

	if (ipam_list(s, t->net.name, &recs, &n) < 0)
		return fail(t, "allocation", "check the datastore; 'netctl ipam check'",
			    "cannot read the allocations of %s", t->net.name);
	for (size_t i = 0; i < n && !found; i++)
		if (ipaddr_eq(&recs[i].addr, &t->addr)) {
			t->rec = recs[i];
			found = true;
		}
	free(recs);
	if (!found)
		return fail(t, "allocation", "no workload holds it: start the workload, or look "
			    "for the address with 'netctl network inspect' on its network",
			    "%s is not allocated in network %s", t->a, t->net.name);
	if (t->rec.broken)
		return fail(t, "allocation", "'netctl ipam check' lists the damaged record, "
			    "'netctl ipam repair KEY' removes it once the workload is gone",
			    "the allocation record of %s cannot be read (%s)", t->a,
			    strerror(-t->rec.broken));
	t->local = strcmp(t->rec.node, me) == 0;
	step(t, "allocation", TRACE_OK, "node %s, container %s, ifname %s, handle %s, "
	     "created %s%s", t->rec.node, t->rec.owner.container_id, t->rec.owner.ifname,
	     t->rec.owner.handle[0] ? t->rec.owner.handle : "-",
	     out_time((long long)t->rec.created, tm, sizeof(tm)),
	     t->have_block && strcmp(t->block.node, t->rec.node) != 0 ?
	     " (borrowed from another node's block)" : "");
	return true;
}

/* ---- kernel steps (this node) ---- */

struct route_find {
	const struct prefix *dst;
	struct route rt;
	bool found;
};

static int
route_find_cb(const struct route *rt, void *arg)
{
	struct route_find *f = arg;

	if (!f->found && prefix_eq(&rt->dst, f->dst)) {
		f->rt = *rt;
		f->found = true;
	}
	return 0;
}

static bool
trace_kernel(struct trace *t)
{
	char p[PREFIX_STRLEN], fix[256];
	struct route_find f = { .dst = &t->host };
	struct link_info li;
	struct nl nl;
	int r;

	if (!t->local) {
		step(t, "host route", TRACE_SKIP, "on node %s: run 'netctl trace %s' there",
		     t->rec.node, t->a);
		step(t, "veth", TRACE_SKIP, "on node %s", t->rec.node);
		return true;
	}
	prefix_fmt(&t->host, p, sizeof(p));
	r = nl_open(&nl);
	if (r < 0)
		return fail(t, "host route", "run netctl as root on the node",
			    "cannot open a netlink socket: %s", strerror(-r));
	r = route_dump(&nl, t->addr.family, 0, LEAFNET_RTPROT, route_find_cb, &f);
	if (r < 0) {
		nl_close(&nl);
		return fail(t, "host route", "run netctl as root on the node",
			    "cannot read the routing table: %s", strerror(-r));
	}
	if (!f.found) {
		nl_close(&nl);
		snprintf(fix, sizeof(fix), "the workload's attach did not finish or its veth "
			 "is gone: restart container %.64s (its runtime runs ADD again)",
			 t->rec.owner.container_id);
		return fail(t, "host route", fix, "no route %s proto %d (leafnet) in the main "
			    "table", p, LEAFNET_RTPROT);
	}
	t->rt = f.rt;
	memset(&li, 0, sizeof(li));
	r = f.rt.oif > 0 ? link_get(&nl, NULL, f.rt.oif, &li) : -ENODEV;
	nl_close(&nl);
	if (r < 0)
		return fail(t, "host route", "restart the workload (its runtime runs ADD again)",
			    "route %s proto %d points to interface %d, which is gone", p,
			    LEAFNET_RTPROT, f.rt.oif);
	step(t, "host route", TRACE_OK, "%s dev %s proto %d (leafnet)", p, li.ifname,
	     LEAFNET_RTPROT);
	if (strncmp(li.alias, LEAFNET_ALIAS_TAG, strlen(LEAFNET_ALIAS_TAG)) != 0 &&
	    strncmp(li.ifname, LEAFNET_IFPREFIX, strlen(LEAFNET_IFPREFIX)) != 0)
		return fail(t, "veth", "another program owns this route or renamed the "
			    "device; restart the workload", "%s is not a leafnet host veth "
			    "(no " LEAFNET_ALIAS_TAG " alias)", li.ifname);
	if (!(li.flags & IFF_UP)) {
		snprintf(fix, sizeof(fix), "ip link set %s up, or restart the workload",
			 li.ifname);
		return fail(t, "veth", fix, "%s is down", li.ifname);
	}
	step(t, "veth", TRACE_OK, "%s (ifindex %d) up, mtu %u%s%s", li.ifname, li.ifindex,
	     li.mtu, li.alias[0] ? ", alias " : "", li.alias);
	return true;
}

/* ---- leafnetd ---- */

static int
ctl_json(struct netctl *ctx, const char *req, cJSON **ret)
{
	char *resp = NULL;
	int r;

	r = ctl_request(ctx->conf.control_socket, req, &resp, TRACE_CTL_TIMEOUT_MS);
	if (r < 0)
		return r;
	*ret = cJSON_Parse(resp);
	free(resp);
	return *ret ? 0 : -EBADMSG;
}

static const char *
js(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static bool
jb(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void
fmt_comms(const cJSON *o, char *buf, size_t size)
{
	const cJSON *c;
	size_t off = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "communities"))
		if (cJSON_IsString(c) && off < size)
			off += (size_t)snprintf(buf + off, size - off, "%s%s",
						off ? " " : ", communities ", c->valuestring);
}

/* The local RIB entry that carries addr: the /32 advertised, or the
 * advertised prefix (aggregate) covering it; else the /32 held. */
static const cJSON *
rib_find(const cJSON *local, const struct trace *t, bool *ret_adv)
{
	const cJSON *e, *best = NULL, *held = NULL;
	struct prefix p;

	cJSON_ArrayForEach(e, local) {
		if (prefix_parse(js(e, "prefix"), 0, &p) < 0 || !prefix_contains(&p, &t->addr))
			continue;
		if (!jb(e, "advertised")) {
			if (prefix_eq(&p, &t->host))
				held = e;
			continue;
		}
		best = e;
		if (prefix_eq(&p, &t->host))
			break;
	}
	*ret_adv = best != NULL;
	return best ? best : held;
}

static bool
trace_leafnetd(struct trace *t)
{
	char comms[160], fix[256], peers[256];
	cJSON *st = NULL, *rt = NULL;
	const cJSON *e, *p;
	size_t off = 0, n_up = 0, n_peers = 0;
	bool adv = false, ok = false;
	int r;

	r = ctl_json(t->ctx, "{\"cmd\":\"status\"}", &st);
	if (r == -EACCES || r == -EPERM)
		return fail(t, "leafnetd", "run netctl as root (the control socket is mode 0600)",
			    "permission denied on %s", t->ctx->conf.control_socket);
	if (r < 0) {
		snprintf(fix, sizeof(fix), "start leafnetd on this node (systemctl start "
			 "leafnetd), or point control_socket in the config at it");
		return fail(t, "leafnetd", fix, "not running (no answer on %s: %s)",
			    t->ctx->conf.control_socket, strerror(-r));
	}
	r = ctl_json(t->ctx, "{\"cmd\":\"routes\"}", &rt);
	if (r < 0) {
		fail(t, "leafnetd", "see leafnetd's log", "no answer to \"routes\": %s",
		     strerror(-r));
		goto out;
	}
	if (!t->local) {
		/* another node's address: is it learned here? */
		const cJSON *l;
		struct prefix lp;

		cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(rt, "learned"))
			if (prefix_parse(js(l, "prefix"), 0, &lp) == 0 &&
			    prefix_contains(&lp, &t->addr) && lp.len > 0) {
				step(t, "leafnetd", TRACE_OK, "learned here as %s (from node %s)",
				     js(l, "prefix"), t->rec.node);
				ok = true;
				break;
			}
		if (!ok)
			step(t, "leafnetd", TRACE_SKIP, "not learned here (no node-to-node route; "
			     "the fabric carries it): run 'netctl trace %s' on node %s", t->a,
			     t->rec.node);
		ok = true;
		goto out;
	}
	e = rib_find(cJSON_GetObjectItemCaseSensitive(rt, "local"), t, &adv);
	if (!e) {
		fail(t, "leafnetd", "the route monitor missed it: 'netctl status' shows resyncs; "
		     "reload leafnetd (systemctl reload leafnetd) or restart it",
		     "%s is not in leafnetd's local RIB", t->a);
		goto out;
	}
	fmt_comms(e, comms, sizeof(comms));
	if (!adv) {
		fail(t, "leafnetd", "leafnetd cannot place it; check the network's blocks with "
		     "'netctl ipam show' and leafnetd's log", "%s is in the RIB but not "
		     "advertised", js(e, "prefix"));
		goto out;
	}
	if (strcmp(js(e, "prefix"), "") != 0 && jb(e, "aggregate"))
		step(t, "leafnetd", TRACE_OK, "advertised as the aggregate %s (network %s)%s",
		     js(e, "prefix"), js(e, "network")[0] ? js(e, "network") : "-", comms);
	else
		step(t, "leafnetd", TRACE_OK, "advertised as %s (network %s)%s", js(e, "prefix"),
		     js(e, "network")[0] ? js(e, "network") : "-", comms);

	peers[0] = '\0';
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(st, "peers")) {
		const cJSON *as = cJSON_GetObjectItemCaseSensitive(p, "as");

		n_peers++;
		if (!jb(p, "up") && strcmp(js(p, "state"), "Established") != 0)
			continue;
		n_up++;
		if (off < sizeof(peers))
			off += (size_t)snprintf(peers + off, sizeof(peers) - off, "%s%s (AS %.0f)",
						n_up > 1 ? ", " : "", js(p, "address"),
						cJSON_IsNumber(as) ? as->valuedouble : 0);
	}
	if (n_up == 0 && n_peers) {
		fail(t, "peers", "'netctl status' shows why the sessions are down",
		     "none of %zu BGP peers is Established", n_peers);
		goto out;
	}
	if (n_up == 0) {
		fail(t, "peers", "configure a peer: 'netctl bgp create' or 'netctl node bgp peer "
		     "add', or turn the node mesh on", "leafnetd has no BGP peers");
		goto out;
	}
	step(t, "peers", TRACE_OK, "sent to every Established peer: %s", peers);
	ok = true;
out:
	cJSON_Delete(st);
	cJSON_Delete(rt);
	return ok;
}

/* ---- output ---- */

static const char *
status_name(enum trace_status s)
{
	return s == TRACE_OK ? "ok" : s == TRACE_FAIL ? "FAIL" : "skip";
}

static int
trace_print(const struct trace *t)
{
	struct table *tb;
	int r = 0;

	if (t->ctx->output == NETCTL_OUT_JSON) {
		cJSON *o = cJSON_CreateObject(), *arr, *x;

		if (!o || !cJSON_AddStringToObject(o, "address", t->a) ||
		    !cJSON_AddBoolToObject(o, "ok", !t->failed) ||
		    !(arr = cJSON_AddArrayToObject(o, "steps")))
			goto oom;
		for (size_t i = 0; i < t->n; i++) {
			const struct trace_step *s = &t->steps[i];

			if (!(x = cJSON_CreateObject()) || !cJSON_AddItemToArray(arr, x) ||
			    !cJSON_AddStringToObject(x, "step", s->name) ||
			    !cJSON_AddStringToObject(x, "status", s->status == TRACE_FAIL ? "fail"
						     : status_name(s->status)) ||
			    !cJSON_AddStringToObject(x, "detail", s->detail) ||
			    (s->fix[0] && !cJSON_AddStringToObject(x, "fix", s->fix)))
				goto oom;
		}
		r = out_json_done(o);
		return r ? r : t->failed ? NETCTL_EXIT_RUNTIME : NETCTL_EXIT_OK;
oom:
		cJSON_Delete(o);
		return out_json_done(NULL);
	}
	tb = table_new(3, "STEP", "STATUS", "DETAIL");
	for (size_t i = 0; tb && r == 0 && i < t->n; i++)
		r = table_add(tb, t->steps[i].name, status_name(t->steps[i].status),
			      t->steps[i].detail);
	if (table_done(tb, r) != NETCTL_EXIT_OK)
		return NETCTL_EXIT_RUNTIME;
	for (size_t i = 0; i < t->n; i++)
		if (t->steps[i].status == TRACE_FAIL)
			printf("\n%s: %s\n  fix: %s\n", t->steps[i].name, t->steps[i].detail,
			       t->steps[i].fix);
	return t->failed ? NETCTL_EXIT_RUNTIME : NETCTL_EXIT_OK;
}

int
trace_cmd(struct netctl *ctx, int argc, char **argv)
{
	struct trace *t;
	struct store *s;
	const char *arg, *slash;
	char buf[IPADDR_STRLEN + 8];
	int ret = 0;

	if (netctl_parse_common(ctx, argc, argv, &ret))
		return ret;
	if (optind >= argc)
		return out_usage_error(ctx, "missing the address, e.g. netctl trace 10.1.0.5");
	if (optind + 1 < argc)
		return out_usage_error(ctx, "unexpected argument '%s' (only one ADDR)",
				       argv[optind + 1]);
	arg = argv[optind];
	t = calloc(1, sizeof(*t));
	if (!t)
		return out_error("out of memory");
	t->ctx = ctx;
	/* "10.1.0.5/32" is the same address */
	slash = strchr(arg, '/');
	snprintf(buf, sizeof(buf), "%.*s", slash ? (int)(slash - arg) : (int)strlen(arg), arg);
	if (strlen(arg) >= sizeof(buf) || ipaddr_parse(buf, &t->addr) < 0 ||
	    (slash && (unsigned)atoi(slash + 1) != prefix_maxlen(t->addr.family))) {
		free(t);
		return out_usage_error(ctx, "'%s' is not an IP address; e.g. netctl trace 10.1.0.5",
				       arg);
	}
	ipaddr_fmt(&t->addr, t->a, sizeof(t->a));
	prefix_from_addr(&t->addr, &t->host);
	if (netctl_store(ctx, &s, &ret) < 0) {
		free(t);
		return ret;
	}
	if (trace_network(t, s) && trace_block(t, s) && trace_alloc(t, s) && trace_kernel(t))
		(void)trace_leafnetd(t);
	ret = trace_print(t);
	free(t);
	return ret;
}
