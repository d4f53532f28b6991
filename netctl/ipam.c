/* ipam.c — netctl ipam check | repair: find and remove damaged records.
 *
 * A record that cannot be read (not JSON, cut short, a directory where it
 * belongs, a read error) never frees its address by itself: `check` lists
 * every such key with what it held, `repair KEY...` (or --all) removes the
 * damaged ones, which frees their addresses.  A damaged allocation whose
 * owner is known is freed by that owner's DEL anyway; repair is for the
 * rest, once the operator knows the workload is gone.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>

#include "err.h"
#include "ipam.h"
#include "network.h"
#include "store.h"
#include "netctl.h"

const char ipam_repair_help[] =
	"  KEY...   damaged records to remove, as `netctl ipam check` lists them\n"
	"  --all    remove every damaged record check finds (frees their addresses)\n";

static int
print_broken(const struct netctl *ctx, const struct ipam_broken *b, size_t n)
{
	struct table *t;
	int r = 0;

	if (ctx->output == NETCTL_OUT_JSON) {
		cJSON *arr = cJSON_CreateArray();

		for (size_t i = 0; arr && i < n; i++) {
			cJSON *o = cJSON_CreateObject();

			if (!o || !cJSON_AddStringToObject(o, "key", b[i].key) ||
			    !cJSON_AddStringToObject(o, "problem", strerror(-b[i].err)) ||
			    !cJSON_AddStringToObject(o, "what", b[i].what)) {
				cJSON_Delete(o);
				cJSON_Delete(arr);
				arr = NULL;
				break;
			}
			cJSON_AddItemToArray(arr, o);
		}
		return out_json_done(arr);
	}
	if (n == 0) {
		printf("no damaged records\n");
		return NETCTL_EXIT_OK;
	}
	t = table_new(3, "KEY", "PROBLEM", "WHAT");
	for (size_t i = 0; t && r == 0 && i < n; i++)
		r = table_add(t, b[i].key, b[i].err == -EINVAL ? "damaged (not a valid record)" :
			      strerror(-b[i].err), b[i].what);
	return table_done(t, r);
}

int
ipam_cmd_check(struct netctl *ctx, int argc, char **argv)
{
	struct ipam_broken *b = NULL;
	struct lf_err err = { 0 };
	const char *net = NULL;
	struct store *s;
	size_t n = 0;
	int r, ret = 0;

	if (netctl_parse_common(ctx, argc, argv, &ret))
		return ret;
	if (optind < argc)
		net = argv[optind++];
	if (optind < argc)
		return out_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	if (net && !network_name_valid(net))
		return out_usage_error(ctx, "'%s' is not a valid network name", net);
	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	r = ipam_check(s, net, &b, &n, &err);
	if (r < 0)
		return out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, "cannot check the records");
	ret = print_broken(ctx, b, n);
	if (ret == NETCTL_EXIT_OK && n > 0) {
		fprintf(stderr, "netctl: %zu damaged record%s; remove %s with `netctl ipam "
			"repair KEY...` (or --all) once the workloads are gone\n", n,
			n == 1 ? "" : "s", n == 1 ? "it" : "them");
		ret = NETCTL_EXIT_RUNTIME;
	}
	free(b);
	return ret;
}

int
ipam_cmd_repair(struct netctl *ctx, int argc, char **argv)
{
	enum { OPT_ALL = 0x100 };
	static const struct option opts[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		NETCTL_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct ipam_broken *b = NULL;
	bool all = false;
	struct store *s;
	size_t n = 0;
	int c, r, ret = 0, failed = 0;

	optind = 1;
	while ((c = getopt_long_only(argc, argv, NETCTL_COMMON_SHORT, opts, NULL)) != -1) {
		if (c == OPT_ALL)
			all = true;
		else if (netctl_opt_common(ctx, c, argv, &ret))
			return ret;
	}
	if (all == (optind < argc))
		return out_usage_error(ctx, "give the damaged records' KEYs (see `netctl ipam "
				       "check`) or --all");
	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	if (all) {
		struct lf_err err = { 0 };

		r = ipam_check(s, NULL, &b, &n, &err);
		if (r < 0)
			return out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, "cannot check the records");
	}
	for (size_t i = 0; i < (all ? n : (size_t)(argc - optind)); i++) {
		const char *key = all ? b[i].key : argv[optind + (int)i];
		struct lf_err err = { 0 };

		r = ipam_repair(s, key, &err);
		if (r < 0) {
			(void)out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, key);
			failed++;
			continue;
		}
		printf("removed %s\n", key);
	}
	free(b);
	if (all && n == 0)
		printf("no damaged records\n");
	return failed ? NETCTL_EXIT_RUNTIME : NETCTL_EXIT_OK;
}
