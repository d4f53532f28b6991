/* ipam_show.c — `netctl ipam show [NETWORK]`: pool usage per network, per
 * node and per block (ipam_usage()): addresses used and free, percent,
 * addresses borrowed outside the node's own blocks. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>

#include "err.h"
#include "ipam.h"
#include "network.h"
#include "store.h"
#include "netctl.h"

static void
fmt_u64(uint64_t v, char *buf, size_t size)
{
	if (v == UINT64_MAX)
		snprintf(buf, size, ">=2^64");
	else
		snprintf(buf, size, "%" PRIu64, v);
}

static double
percent(uint64_t used, uint64_t size)
{
	return size ? 100.0 * (double)used / (double)size : 0.0;
}

static void
fmt_pct(uint64_t used, uint64_t size, char *buf, size_t size_buf)
{
	if (size == 0)
		snprintf(buf, size_buf, "-");
	else
		snprintf(buf, size_buf, "%.1f%%", percent(used, size));
}

static uint64_t
sub0(uint64_t a, uint64_t b)
{
	return a == UINT64_MAX ? a : a > b ? a - b : 0;
}

static bool
add_counts(cJSON *o, uint64_t size, uint64_t used)
{
	return cJSON_AddNumberToObject(o, "size", (double)size) &&
	       cJSON_AddNumberToObject(o, "used", (double)used) &&
	       cJSON_AddNumberToObject(o, "free", (double)sub0(size, used)) &&
	       cJSON_AddNumberToObject(o, "percent", (double)((long long)(percent(used, size) * 10 + 0.5)) / 10);
}

static cJSON *
usage_json(const struct network *n, const struct ipam_usage *u)
{
	char buf[PREFIX_STRLEN];
	cJSON *o = cJSON_CreateObject(), *arr, *x;

	if (!o || !cJSON_AddStringToObject(o, "network", n->name) ||
	    !(arr = cJSON_AddArrayToObject(o, "subnets")))
		goto fail;
	for (size_t i = 0; i < n->n_subnets; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(
				prefix_fmt(&n->subnets[i].cidr, buf, sizeof(buf)))))
			goto fail;
	if (!add_counts(o, u->size, u->used) ||
	    !cJSON_AddNumberToObject(o, "claimed", (double)u->claimed) ||
	    !cJSON_AddNumberToObject(o, "blocks_claimed", (double)u->n_blocks) ||
	    !cJSON_AddNumberToObject(o, "borrowed", (double)u->borrowed) ||
	    !cJSON_AddNumberToObject(o, "damaged", (double)u->damaged) ||
	    !(arr = cJSON_AddArrayToObject(o, "nodes")))
		goto fail;
	for (size_t i = 0; i < u->n_nodes; i++) {
		const struct ipam_usage_node *nd = &u->nodes[i];

		if (!(x = cJSON_CreateObject()) || !cJSON_AddItemToArray(arr, x) ||
		    !cJSON_AddStringToObject(x, "node", nd->node) ||
		    !cJSON_AddNumberToObject(x, "blocks", (double)nd->n_blocks) ||
		    !add_counts(x, nd->size, nd->used) ||
		    !cJSON_AddNumberToObject(x, "allocated", (double)nd->allocated) ||
		    !cJSON_AddNumberToObject(x, "borrowed", (double)nd->borrowed))
			goto fail;
	}
	if (!(arr = cJSON_AddArrayToObject(o, "blocks")))
		goto fail;
	for (size_t i = 0; i < u->n_blocks; i++) {
		const struct ipam_usage_block *b = &u->blocks[i];

		if (!(x = cJSON_CreateObject()) || !cJSON_AddItemToArray(arr, x) ||
		    !cJSON_AddStringToObject(x, "cidr", prefix_fmt(&b->cidr, buf, sizeof(buf))) ||
		    !cJSON_AddStringToObject(x, "node", b->node) || !add_counts(x, b->size, b->used))
			goto fail;
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

static int
usage_print(const struct network *n, const struct ipam_usage *u, bool first)
{
	char sz[24], used[24], fr[24], pct[16], nb[24], al[24], bo[24], subs[128], p[PREFIX_STRLEN];
	struct table *t;
	size_t off = 0;
	int r = 0;

	subs[0] = '\0';
	for (size_t i = 0; i < n->n_subnets && off < sizeof(subs); i++)
		off += (size_t)snprintf(subs + off, sizeof(subs) - off, "%s%s", i ? ", " : "",
					prefix_fmt(&n->subnets[i].cidr, p, sizeof(p)));
	fmt_u64(u->size, sz, sizeof(sz));
	fmt_u64(sub0(u->size, u->used), fr, sizeof(fr));
	fmt_pct(u->used, u->size, pct, sizeof(pct));
	printf("%sNetwork %s (%s): %" PRIu64 " used of %s, %s free (%s); %zu block%s "
	       "claimed, %" PRIu64 " borrowed%s\n", first ? "" : "\n", n->name, subs, u->used, sz,
	       fr, pct, u->n_blocks, u->n_blocks == 1 ? "" : "s", u->borrowed,
	       u->damaged ? " (damaged records: see netctl ipam check)" : "");
	if (u->n_nodes == 0)
		return NETCTL_EXIT_OK;
	t = table_new(8, "NODE", "BLOCKS", "SIZE", "USED", "FREE", "PERCENT", "ALLOCATED",
		      "BORROWED");
	for (size_t i = 0; t && r == 0 && i < u->n_nodes; i++) {
		const struct ipam_usage_node *nd = &u->nodes[i];

		snprintf(nb, sizeof(nb), "%zu", nd->n_blocks);
		fmt_u64(nd->size, sz, sizeof(sz));
		fmt_u64(nd->used, used, sizeof(used));
		fmt_u64(sub0(nd->size, nd->used), fr, sizeof(fr));
		fmt_pct(nd->used, nd->size, pct, sizeof(pct));
		fmt_u64(nd->allocated, al, sizeof(al));
		fmt_u64(nd->borrowed, bo, sizeof(bo));
		r = table_add(t, nd->node, nb, sz, used, fr, pct, al, bo);
	}
	if (table_done(t, r) != NETCTL_EXIT_OK)
		return NETCTL_EXIT_RUNTIME;
	if (u->n_blocks == 0)
		return NETCTL_EXIT_OK;
	printf("\n");
	t = table_new(6, "BLOCK", "NODE", "SIZE", "USED", "FREE", "PERCENT");
	for (size_t i = 0; t && r == 0 && i < u->n_blocks; i++) {
		const struct ipam_usage_block *b = &u->blocks[i];

		fmt_u64(b->size, sz, sizeof(sz));
		fmt_u64(b->used, used, sizeof(used));
		fmt_u64(sub0(b->size, b->used), fr, sizeof(fr));
		fmt_pct(b->used, b->size, pct, sizeof(pct));
		r = table_add(t, prefix_fmt(&b->cidr, p, sizeof(p)), b->node, sz, used, fr, pct);
	}
	return table_done(t, r);
}

int
ipam_cmd_show(struct netctl *ctx, int argc, char **argv)
{
	struct lf_err err = { 0 };
	struct network *nets = NULL, one;
	struct store *s;
	size_t n_nets = 0;
	cJSON *arr = NULL;
	int r, ret = 0;

	if (netctl_parse_common(ctx, argc, argv, &ret))
		return ret;
	if (optind + 1 < argc)
		return out_usage_error(ctx, "unexpected argument '%s' (at most one NETWORK)",
				       argv[optind + 1]);
	if (optind < argc && !network_name_valid(argv[optind]))
		return out_usage_error(ctx, "'%s' is not a valid network name; 'netctl network ls' "
				       "lists the networks", argv[optind]);
	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	if (optind < argc) {
		r = network_get(s, argv[optind], &one, &err);
		if (r < 0)
			return out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, argv[optind]);
		if (!(nets = malloc(sizeof(*nets))))
			return out_error("out of memory");
		nets[0] = one;
		n_nets = 1;
	} else if ((r = network_list(s, &nets, &n_nets, &err)) < 0) {
		(void)store_err_set(&err, LF_E_IO, r, "cannot list networks");
		return out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, "cannot list networks");
	}
	if (ctx->output == NETCTL_OUT_JSON && !(arr = cJSON_CreateArray())) {
		free(nets);
		return out_error("out of memory");
	}
	if (n_nets == 0 && ctx->output == NETCTL_OUT_TABLE)
		printf("No networks; create one with 'netctl network create NAME --subnet=CIDR'.\n");
	for (size_t i = 0; i < n_nets && ret == 0; i++) {
		struct ipam_usage u;
		cJSON *o;

		r = ipam_usage(s, &nets[i], &u);
		if (r < 0) {
			ret = out_error("cannot read the usage of network %s: %s", nets[i].name,
					strerror(-r));
			break;
		}
		if (arr) {
			o = usage_json(&nets[i], &u);
			if (!o || !cJSON_AddItemToArray(arr, o)) {
				cJSON_Delete(o);
				ret = out_error("out of memory");
			}
		} else {
			ret = usage_print(&nets[i], &u, i == 0);
		}
		ipam_usage_done(&u);
	}
	free(nets);
	if (arr) {
		if (ret == 0)
			return out_json_done(arr);
		cJSON_Delete(arr);
	}
	return ret;
}
