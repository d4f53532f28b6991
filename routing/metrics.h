/* metrics.h — leafnetd's Prometheus metrics, the part without a server:
 * the plugin operation table (counts and latency histograms) and the
 * renderer of the text exposition format 0.0.4 from a flat snapshot.
 * metrics.c fills the snapshot from the daemon on every scrape and serves
 * it; tests/unit/test_metrics.c renders hand-made snapshots.
 */
#ifndef LEAFNET_METRICS_H
#define LEAFNET_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leafnetd.h"

struct dbuf;
struct rib_pool;

#ifndef LEAFNET_VERSION
#define LEAFNET_VERSION "0.1.0"
#endif

#define MX_OP_BUCKETS	14		/* finite histogram bounds */
#define MX_OPS_MAX	256		/* distinct (plugin, verb, result) series */
extern const double mx_op_bounds[MX_OP_BUCKETS];	/* seconds, ascending */

struct mx_op {
	char plugin[16];
	char verb[48];
	bool ok;
	uint64_t count;
	double sum_s;
	uint64_t bucket[MX_OP_BUCKETS];	/* not cumulative: bound i only */
};

struct mx_ops {
	struct mx_op *v;
	size_t n, cap;
	uint64_t dropped;		/* reports past MX_OPS_MAX series */
};

/* Count one operation of ms milliseconds.  0, -ENOSPC when the series
 * limit is reached (counted in dropped), -ENOMEM. */
int  mx_ops_add(struct mx_ops *o, const char *plugin, const char *verb, bool ok, double ms);
void mx_ops_done(struct mx_ops *o);		/* NULL-safe */

/* Everything one scrape shows. */
struct mx_snap {
	const char *version;
	const char *node;
	const struct peer_status *peers;
	size_t n_peers;
	size_t rib_local;		/* kernel workload routes */
	size_t rib_advertised;		/* prefixes advertised */
	size_t rib_learned;		/* learned routes installed */
	uint64_t resyncs;		/* route monitor resyncs */
	const struct rib_pool *pools;
	size_t n_pools;
	const struct mx_ops *ops;	/* may be NULL */
	uint64_t scrapes;		/* answered before this one */
};

/* The text exposition (format 0.0.4) of s, appended to out.  0, -ENOMEM. */
int  mx_render(const struct mx_snap *s, struct dbuf *out);

#endif
