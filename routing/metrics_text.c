/* metrics_text.c — the plugin operation table and the Prometheus text
 * exposition (format 0.0.4) of a snapshot; see metrics.h.
 *
 * Every family is written once, # HELP and # TYPE first, then its samples,
 * so the output passes `promtool check metrics`.  Label values are
 * escaped (backslash, double quote, newline); metric and label names are
 * constants here.  Units follow Prometheus' conventions: seconds, _total
 * for counters, _info for an info gauge.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "dbuf.h"
#include "ld_local.h"
#include "metrics.h"

/* 1 ms ... 10 s: a CNI ADD takes a few ms, an etcd lock wait seconds */
const double mx_op_bounds[MX_OP_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};

/* ---- operations ------------------------------------------------------- */

int
mx_ops_add(struct mx_ops *o, const char *plugin, const char *verb, bool ok, double ms)
{
	struct mx_op *op = NULL;
	double s = (isfinite(ms) && ms > 0 ? ms : 0) / 1000.0;

	for (size_t i = 0; i < o->n && op == NULL; i++)
		if (o->v[i].ok == ok && strcmp(o->v[i].plugin, plugin) == 0 &&
		    strcmp(o->v[i].verb, verb) == 0)
			op = &o->v[i];
	if (op == NULL) {
		if (o->n >= MX_OPS_MAX) {
			o->dropped++;
			return -ENOSPC;
		}
		if (GROW(o->v, o->cap, o->n + 1) < 0)
			return -ENOMEM;
		op = &o->v[o->n++];
		memset(op, 0, sizeof(*op));
		(void)snprintf(op->plugin, sizeof(op->plugin), "%s", plugin);
		(void)snprintf(op->verb, sizeof(op->verb), "%s", verb);
		op->ok = ok;
	}
	op->count++;
	op->sum_s += s;
	for (size_t i = 0; i < MX_OP_BUCKETS; i++)
		if (s <= mx_op_bounds[i]) {
			op->bucket[i]++;
			break;
		}
	return 0;
}

void
mx_ops_done(struct mx_ops *o)
{
	if (o == NULL)
		return;
	free(o->v);
	memset(o, 0, sizeof(*o));
}

/* ---- the writer ------------------------------------------------------- */

struct mx_w {
	struct dbuf *out;
	int err;
};

static void
w_printf(struct mx_w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
w_printf(struct mx_w *w, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	if (w->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		w->err = -EOVERFLOW;
		return;
	}
	if (dbuf_append(w->out, buf, (size_t)n) < 0)
		w->err = -ENOMEM;
}

static void
w_family(struct mx_w *w, const char *name, const char *type, const char *help)
{
	w_printf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the format wants. */
static void
w_value(struct mx_w *w, const char *v)
{
	for (; !w->err && *v; v++) {
		const char *esc = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : *v == '\n' ? "\\n" : NULL;

		if (esc != NULL)
			w_printf(w, "%s", esc);
		else if (dbuf_append(w->out, v, 1) < 0)
			w->err = -ENOMEM;
	}
}

/* name{k1="v1",k2="v2",...} value; labels: NULL-terminated k, v pairs. */
static void
w_sample(struct mx_w *w, const char *name, const char *const *labels, const char *extra_k,
	 const char *extra_v, double value)
{
	bool first = true;

	w_printf(w, "%s", name);
	for (size_t i = 0; labels && labels[i]; i += 2) {
		w_printf(w, "%s%s=\"", first ? "{" : ",", labels[i]);
		w_value(w, labels[i + 1]);
		w_printf(w, "\"");
		first = false;
	}
	if (extra_k) {
		w_printf(w, "%s%s=\"", first ? "{" : ",", extra_k);
		w_value(w, extra_v);
		w_printf(w, "\"");
		first = false;
	}
	if (!first)
		w_printf(w, "}");
	if (!isfinite(value))
		w_printf(w, " %s\n", isnan(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf");
	else if (value > -9e15 && value < 9e15 && value == (double)(int64_t)value)
		w_printf(w, " %lld\n", (long long)value);
	else
		w_printf(w, " %.17g\n", value);
}

/* ---- the families ------------------------------------------------------ */

static const char *const bgp_states[] = {
	"Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established",
};

static const char *
peer_type_label(enum peer_type t)
{
	switch (t) {
	case PEER_TYPE_MESH:	return "mesh";
	case PEER_TYPE_GLOBAL:	return "global";
	case PEER_TYPE_NODE:	return "node";
	case PEER_TYPE_RR:	return "rr";
	}
	return "unknown";
}

struct peer_labels {
	char addr[INET6_ADDRSTRLEN];
	char as[16];
	const char *kv[7];
};

static void
peer_labels(const struct peer_status *ps, struct peer_labels *pl)
{
	(void)ipaddr_fmt(&ps->addr, pl->addr, sizeof(pl->addr));
	(void)snprintf(pl->as, sizeof(pl->as), "%u", ps->remote_as);
	pl->kv[0] = "peer";
	pl->kv[1] = pl->addr;
	pl->kv[2] = "type";
	pl->kv[3] = peer_type_label(ps->type);
	pl->kv[4] = "remote_as";
	pl->kv[5] = pl->as;
	pl->kv[6] = NULL;
}

enum peer_field {
	PF_UP, PF_UPTIME, PF_NLRI_IN, PF_ACCEPTED, PF_ADVERTISED, PF_UPD_IN, PF_UPD_OUT,
	PF_FLAPS,
};

static const struct {
	const char *name, *type, *help;
} peer_fields[] = {
	[PF_UP]		= { "leafnet_bgp_peer_up", "gauge",
			    "1 while the BGP session is Established." },
	[PF_UPTIME]	= { "leafnet_bgp_peer_uptime_seconds", "gauge",
			    "How long the session has been Established (0 when it is not)." },
	[PF_NLRI_IN]	= { "leafnet_bgp_peer_prefixes_received_total", "counter",
			    "Prefixes the peer announced, before the import policy." },
	[PF_ACCEPTED]	= { "leafnet_bgp_peer_prefixes_accepted", "gauge",
			    "Prefixes from the peer held after the import policy (Adj-RIB-In)." },
	[PF_ADVERTISED]	= { "leafnet_bgp_peer_prefixes_advertised", "gauge",
			    "Prefixes advertised to the peer (Adj-RIB-Out)." },
	[PF_UPD_IN]	= { "leafnet_bgp_peer_updates_received_total", "counter",
			    "UPDATE messages received from the peer." },
	[PF_UPD_OUT]	= { "leafnet_bgp_peer_updates_sent_total", "counter",
			    "UPDATE messages sent to the peer." },
	[PF_FLAPS]	= { "leafnet_bgp_peer_flaps_total", "counter",
			    "Times the session left Established." },
};

static double
peer_value(const struct peer_status *ps, enum peer_field f)
{
	switch (f) {
	case PF_UP:		return ps->up ? 1 : 0;
	case PF_UPTIME:		return (double)(ps->uptime_ms / 1000);
	case PF_NLRI_IN:	return (double)ps->nlri_in;
	case PF_ACCEPTED:	return (double)ps->prefixes_received;
	case PF_ADVERTISED:	return (double)ps->prefixes_sent;
	case PF_UPD_IN:		return (double)ps->updates_in;
	case PF_UPD_OUT:	return (double)ps->updates_out;
	case PF_FLAPS:		return (double)ps->flaps;
	}
	return 0;
}

static void
render_peers(struct mx_w *w, const struct mx_snap *s)
{
	struct peer_labels pl;

	w_family(w, "leafnet_bgp_peer_state", "gauge",
		 "BGP session state of each peer: 1 for the current state, 0 for the others.");
	for (size_t i = 0; i < s->n_peers; i++) {
		const char *cur = s->peers[i].state ? s->peers[i].state : "Idle";

		peer_labels(&s->peers[i], &pl);
		for (size_t k = 0; k < sizeof(bgp_states) / sizeof(bgp_states[0]); k++)
			w_sample(w, "leafnet_bgp_peer_state", pl.kv, "state", bgp_states[k],
				 strcmp(cur, bgp_states[k]) == 0 ? 1 : 0);
	}
	for (size_t f = 0; f < sizeof(peer_fields) / sizeof(peer_fields[0]); f++) {
		w_family(w, peer_fields[f].name, peer_fields[f].type, peer_fields[f].help);
		for (size_t i = 0; i < s->n_peers; i++) {
			peer_labels(&s->peers[i], &pl);
			w_sample(w, peer_fields[f].name, pl.kv, NULL, NULL,
				 peer_value(&s->peers[i], (enum peer_field)f));
		}
	}
	w_family(w, "leafnet_bgp_peer_last_error_info", "gauge",
		 "The last error of each peer's session (error=\"\" when there was none).");
	for (size_t i = 0; i < s->n_peers; i++) {
		peer_labels(&s->peers[i], &pl);
		w_sample(w, "leafnet_bgp_peer_last_error_info", pl.kv, "error",
			 s->peers[i].last_error, 1);
	}
}

static void
render_rib(struct mx_w *w, const struct mx_snap *s)
{
	w_family(w, "leafnet_rib_local_routes", "gauge",
		 "Workload routes (protocol 76) in the local RIB.");
	w_sample(w, "leafnet_rib_local_routes", NULL, NULL, NULL, (double)s->rib_local);
	w_family(w, "leafnet_rib_advertised_prefixes", "gauge",
		 "Prefixes the local RIB advertises (routes and block aggregates).");
	w_sample(w, "leafnet_rib_advertised_prefixes", NULL, NULL, NULL,
		 (double)s->rib_advertised);
	w_family(w, "leafnet_rib_learned_routes", "gauge",
		 "Routes learned over BGP installed in the kernel (protocol 77).");
	w_sample(w, "leafnet_rib_learned_routes", NULL, NULL, NULL, (double)s->rib_learned);
	w_family(w, "leafnet_route_monitor_resyncs_total", "counter",
		 "Full kernel route dumps after the route monitor lost events.");
	w_sample(w, "leafnet_route_monitor_resyncs_total", NULL, NULL, NULL, (double)s->resyncs);
}

static void
render_pools(struct mx_w *w, const struct mx_snap *s)
{
	static const struct {
		const char *name, *help;
	} f[] = {
		{ "leafnet_network_addresses_allocated",
		  "Addresses allocated in the network's subnet, by every node." },
		{ "leafnet_network_addresses_free",
		  "Addresses of the subnet still free (network, broadcast and gateway excluded)." },
		{ "leafnet_network_blocks_claimed",
		  "Per-host blocks of the subnet claimed, by every node." },
		{ "leafnet_network_node_blocks_claimed",
		  "Per-host blocks of the subnet claimed by this node." },
	};

	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		w_family(w, f[k].name, "gauge", f[k].help);
		for (size_t i = 0; i < s->n_pools; i++) {
			const struct rib_pool *p = &s->pools[i];
			const char *kv[] = { "network", p->network, "family",
					     p->family == AF_INET6 ? "ipv6" : "ipv4", NULL };
			double v;

			switch (k) {
			case 0:  v = (double)p->allocated; break;
			case 1:  v = p->size > (double)p->allocated ? p->size - (double)p->allocated
								   : 0; break;
			case 2:  v = p->blocks; break;
			default: v = p->node_blocks; break;
			}
			w_sample(w, f[k].name, kv, NULL, NULL, v);
		}
	}
}

static void
render_ops(struct mx_w *w, const struct mx_snap *s)
{
	const struct mx_ops *o = s->ops;
	size_t n = o ? o->n : 0;

	w_family(w, "leafnet_plugin_operations_total", "counter",
		 "Operations the CNI and Docker plugins reported, by verb and result.");
	for (size_t i = 0; i < n; i++) {
		const char *kv[] = { "plugin", o->v[i].plugin, "verb", o->v[i].verb,
				     "result", o->v[i].ok ? "ok" : "error", NULL };

		w_sample(w, "leafnet_plugin_operations_total", kv, NULL, NULL,
			 (double)o->v[i].count);
	}
	w_family(w, "leafnet_plugin_operation_duration_seconds", "histogram",
		 "How long the plugins' operations took, by verb and result.");
	for (size_t i = 0; i < n; i++) {
		const char *kv[] = { "plugin", o->v[i].plugin, "verb", o->v[i].verb,
				     "result", o->v[i].ok ? "ok" : "error", NULL };
		uint64_t cum = 0;
		char le[32];

		for (size_t b = 0; b < MX_OP_BUCKETS; b++) {
			cum += o->v[i].bucket[b];
			(void)snprintf(le, sizeof(le), "%g", mx_op_bounds[b]);
			w_sample(w, "leafnet_plugin_operation_duration_seconds_bucket", kv,
				 "le", le, (double)cum);
		}
		w_sample(w, "leafnet_plugin_operation_duration_seconds_bucket", kv, "le", "+Inf",
			 (double)o->v[i].count);
		w_sample(w, "leafnet_plugin_operation_duration_seconds_sum", kv, NULL, NULL,
			 o->v[i].sum_s);
		w_sample(w, "leafnet_plugin_operation_duration_seconds_count", kv, NULL, NULL,
			 (double)o->v[i].count);
	}
	w_family(w, "leafnet_plugin_operations_dropped_total", "counter",
		 "Operation reports not counted: too many distinct verbs.");
	w_sample(w, "leafnet_plugin_operations_dropped_total", NULL, NULL, NULL,
		 (double)(o ? o->dropped : 0));
}

int
mx_render(const struct mx_snap *s, struct dbuf *out)
{
	struct mx_w w = { .out = out };
	const char *bi[] = { "version", s->version ? s->version : LEAFNET_VERSION,
			     "node", s->node ? s->node : "", NULL };

	w_family(&w, "leafnetd_build_info", "gauge", "leafnetd's version, always 1.");
	w_sample(&w, "leafnetd_build_info", bi, NULL, NULL, 1);
	render_peers(&w, s);
	render_rib(&w, s);
	render_pools(&w, s);
	render_ops(&w, s);
	w_family(&w, "leafnetd_metrics_scrapes_total", "counter",
		 "Scrapes of this endpoint answered before this one.");
	w_sample(&w, "leafnetd_metrics_scrapes_total", NULL, NULL, NULL, (double)s->scrapes);
	return w.err;
}
