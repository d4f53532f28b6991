/* node.c — `netctl node ls|show|set|rr`: the node records (AS, router IPs,
 * route reflector role and node-specific BGP peers).  `netctl node bgp peer ...` lives in bgp.c
 * with the other peer commands. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cJSON.h>
#include "err.h"
#include "json.h"
#include "prefix.h"
#include "store.h"
#include "bgpconf.h"
#include "netctl.h"

/* Node AS for people: the configured one, or the default marked so. */
static const char *
fmt_as(const struct bgp_node *n, const struct bgp_config *c, char *buf, size_t size)
{
	if (n->as)
		snprintf(buf, size, "%u", n->as);
	else
		snprintf(buf, size, "%u (default)", c->default_node_as);
	return buf;
}

static const char *
fmt_router_ip(const struct prefix *p, char *buf, size_t size)
{
	return p->addr.family ? prefix_fmt(p, buf, size) : NULL;
}

/* A reflector's cluster id: the one configured, else its router id;
 * NULL for a node that is no reflector. */
static const char *
fmt_rr(const struct bgp_node *n, char *buf, size_t size)
{
	if (!n->rr)
		return NULL;
	if (n->cluster_id.family == AF_INET)
		return ipaddr_fmt(&n->cluster_id, buf, size);
	if (n->router_ip4.addr.family == AF_INET)
		return ipaddr_fmt(&n->router_ip4.addr, buf, size);
	snprintf(buf, size, "its router id");
	return buf;
}

static char *
fmt_peers(const struct bgp_node *n)
{
	char a[IPADDR_STRLEN], *buf;
	size_t i, off = 0, size = n->n_peers * (IPADDR_STRLEN + 1) + 1;

	buf = malloc(size);
	if (!buf)
		return NULL;
	buf[0] = '\0';
	for (i = 0; i < n->n_peers; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? "," : "",
					ipaddr_fmt(&n->peers[i].addr, a, sizeof(a)));
	return buf;
}

static cJSON *
node_json(const struct bgp_node *n, const struct bgp_config *c)
{
	char tm[32], cid[IPADDR_STRLEN + 16];
	cJSON *o, *arr, *po;
	size_t i;

	o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "name", n->name) ||
	    !cJSON_AddNumberToObject(o, "as", n->as) ||
	    !cJSON_AddNumberToObject(o, "effective_as", n->as ? n->as : c->default_node_as) ||
	    !(n->router_ip4.addr.family
	      ? json_add_prefix(o, "router_ip4", &n->router_ip4)
	      : cJSON_AddNullToObject(o, "router_ip4")) ||
	    !(n->router_ip6.addr.family
	      ? json_add_prefix(o, "router_ip6", &n->router_ip6)
	      : cJSON_AddNullToObject(o, "router_ip6")) ||
	    !cJSON_AddStringToObject(o, "created", out_time(n->created, tm, sizeof(tm))) ||
	    !cJSON_AddBoolToObject(o, "rr", n->rr) ||
	    !(n->rr && (n->cluster_id.family || n->router_ip4.addr.family)
	      ? cJSON_AddStringToObject(o, "cluster_id", fmt_rr(n, cid, sizeof(cid)))
	      : cJSON_AddNullToObject(o, "cluster_id")) ||
	    !(arr = cJSON_AddArrayToObject(o, "peers")))
		goto out_delete;
	for (i = 0; i < n->n_peers; i++) {
		const struct bgp_peer *pr = &n->peers[i];

		po = cJSON_CreateObject();
		if (!po || !cJSON_AddItemToArray(arr, po) ||
		    !json_add_addr(po, "ip", &pr->addr) ||
		    !cJSON_AddNumberToObject(po, "as", pr->as) ||
		    !cJSON_AddStringToObject(po, "family",
					     pr->addr.family == AF_INET ? "ipv4" : "ipv6") ||
		    !cJSON_AddBoolToObject(po, "password_set", pr->password[0] != '\0') ||
		    !cJSON_AddStringToObject(po, "created", out_time(pr->created, tm, sizeof(tm))))
			goto out_delete;
	}
	return o;

out_delete:
	cJSON_Delete(o);
	return NULL;
}

/* The operands of node ls (want 0) and node show (want 1: NAME).  Returns
 * true when the handler must stop and return *ret_exit (a usage error, or
 * --help, which exits 0). */
static bool
node_args(struct netctl *ctx, int argc, char **argv, int want, const char **ret_name,
	  int *ret_exit)
{
	if (netctl_parse_common(ctx, argc, argv, ret_exit))
		return true;
	if (want && optind >= argc) {
		*ret_exit = out_usage_error(ctx, "missing the node NAME; 'netctl node ls' lists them");
		return true;
	}
	if (optind + want < argc) {
		*ret_exit = out_usage_error(ctx, "unexpected argument '%s'", argv[optind + want]);
		return true;
	}
	if (want) {
		if (!bgpconf_node_name_valid(argv[optind])) {
			*ret_exit = out_usage_error(ctx, "'%s' is not a valid node name: use 1-%d "
						    "letters, digits, '.', '_' or '-', starting "
						    "with a letter or digit", argv[optind],
						    LEAFNET_NAME_MAX - 1);
			return true;
		}
		*ret_name = argv[optind];
	}
	return false;
}

int
node_cmd_ls(struct netctl *ctx, int argc, char **argv)
{
	char as[32], p4[PREFIX_STRLEN], p6[PREFIX_STRLEN], *peers;
	struct lf_err err = { 0 };
	struct bgp_node *nodes = NULL;
	struct bgp_config c;
	struct store *s;
	struct table *t;
	cJSON *arr, *o;
	size_t n = 0, i;
	int r, ret, damaged;

	if (node_args(ctx, argc, argv, 0, NULL, &ret))
		return ret;
	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	r = bgpconf_get(s, &c, &err);
	if (bgpconf_damaged_err(r)) {	/* reported below */
		bgpconf_defaults(&c);
		lf_err_clear(&err);
		r = 0;
	}
	if (r == 0)
		r = bgpconf_node_list(s, &nodes, &n, &err);
	if (r < 0)
		return out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, "cannot list the nodes");
	damaged = netctl_bgp_damaged(s);

	if (ctx->output == NETCTL_OUT_JSON) {
		arr = cJSON_CreateArray();
		for (i = 0; arr && i < n; i++) {
			o = node_json(&nodes[i], &c);
			if (!o || !cJSON_AddItemToArray(arr, o)) {
				cJSON_Delete(o);
				cJSON_Delete(arr);
				arr = NULL;
			}
		}
		bgpconf_nodes_free(nodes, n);
		ret = out_json_done(arr);
		return ret == NETCTL_EXIT_OK && damaged ? NETCTL_EXIT_RUNTIME : ret;
	}
	t = table_new(5, "NAME", "AS", "ROUTER-IPv4", "ROUTER-IPv6", "PEERS");
	for (i = 0; t && r == 0 && i < n; i++) {
		peers = fmt_peers(&nodes[i]);
		r = peers ? table_add(t, nodes[i].name, fmt_as(&nodes[i], &c, as, sizeof(as)),
				      fmt_router_ip(&nodes[i].router_ip4, p4, sizeof(p4)),
				      fmt_router_ip(&nodes[i].router_ip6, p6, sizeof(p6)),
				      peers[0] ? peers : NULL) : -ENOMEM;
		free(peers);
	}
	bgpconf_nodes_free(nodes, n);
	ret = table_done(t, r);
	return ret == NETCTL_EXIT_OK && damaged ? NETCTL_EXIT_RUNTIME : ret;
}

int
netctl_bgp_damaged(struct store *s)
{
	char **lines = NULL;
	size_t n = 0;

	if (bgpconf_damaged(s, &lines, &n, NULL) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "netctl: damaged BGP record %s\n", lines[i]);
	store_names_free(lines, n);
	return (int)n;
}

int
node_cmd_rm(struct netctl *ctx, int argc, char **argv)
{
	struct lf_err err = { 0 };
	const char *name = NULL;
	struct store *s;
	int r, ret;

	if (node_args(ctx, argc, argv, 1, &name, &ret))
		return ret;
	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	r = bgpconf_node_remove(s, name, &err);
	if (r < 0)
		return out_lf_fail(&err, r, "cannot remove the node");
	printf("removed node %s (its AS, router IPs and node-specific peers)\n", name);
	return NETCTL_EXIT_OK;
}

static int
print_node(const struct bgp_node *n, const struct bgp_config *c)
{
	char as[32], p[PREFIX_STRLEN], a[IPADDR_STRLEN], tm[32], cid[IPADDR_STRLEN + 16];
	struct table *t;
	size_t i;
	int r = 0;

	printf("Name:          %s\n", n->name);
	printf("AS:            %s\n", fmt_as(n, c, as, sizeof(as)));
	printf("Router IPv4:   %s\n", n->router_ip4.addr.family
	       ? prefix_fmt(&n->router_ip4, p, sizeof(p)) : "-");
	printf("Router IPv6:   %s\n", n->router_ip6.addr.family
	       ? prefix_fmt(&n->router_ip6, p, sizeof(p)) : "-");
	printf("Node mesh:     %s\n", c->node_mesh ? "on" : "off");
	if (n->rr)
		printf("Reflector:     yes, cluster id %s\n", fmt_rr(n, cid, sizeof(cid)));
	else
		printf("Reflector:     no\n");
	printf("Created:       %s\n", out_time(n->created, tm, sizeof(tm)));
	printf("\nNode specific BGP peers: %zu\n", n->n_peers);
	if (n->n_peers == 0)
		return NETCTL_EXIT_OK;
	t = table_new(4, "PEER", "AS", "MD5", "CREATED");
	for (i = 0; t && r == 0 && i < n->n_peers; i++) {
		snprintf(as, sizeof(as), "%u", n->peers[i].as);
		r = table_add(t, ipaddr_fmt(&n->peers[i].addr, a, sizeof(a)), as,
			      n->peers[i].password[0] ? "yes" : "no",
			      out_time(n->peers[i].created, tm, sizeof(tm)));
	}
	return table_done(t, r);
}

int
node_cmd_show(struct netctl *ctx, int argc, char **argv)
{
	struct lf_err err = { 0 };
	struct bgp_config c;
	struct bgp_node n;
	struct store *s;
	const char *name = NULL;
	int r, ret;

	if (node_args(ctx, argc, argv, 1, &name, &ret))
		return ret;
	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	r = bgpconf_get(s, &c, &err);
	if (r == 0)
		r = bgpconf_node_get(s, name, &n, &err);
	if (r == -ENOENT) {
		out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, name);
		fprintf(stderr, "  'netctl node ls' lists the nodes\n");
		return NETCTL_EXIT_RUNTIME;
	}
	if (r < 0)
		return out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, name);
	if (ctx->output == NETCTL_OUT_JSON) {
		ret = out_json_done(node_json(&n, &c));
	} else {
		ret = print_node(&n, &c);
	}
	bgpconf_node_done(&n);
	return ret;
}

const char node_set_help[] =
	"Flags (at least one):\n"
	"  --router-ip=IP/LEN   the node's own address on the fabric and its prefix length;\n"
	"                       once per family (IPv4 and/or IPv6)\n"
	"  --as=N               the node's AS (1-4294967295 or asdot X.Y); 'default' goes\n"
	"                       back to the default node AS\n"
	"\nSets a node's router IP and AS without adding a peer: enough for the\n"
	"node-to-node mesh (every node with a router IP peers with every other) or\n"
	"for a route reflector added with 'netctl bgp peer add'.  Example:\n"
	"  netctl node set host1 --router-ip=10.0.0.1/24 --as=64511\n";

enum { OPT_SET_ROUTER_IP = 0x100, OPT_SET_AS };

static int
set_router_ip(struct netctl *ctx, struct bgp_node_set_req *req, const char *arg)
{
	struct lf_err err = { 0 };
	struct prefix p, *slot;

	if (bgpconf_parse_router_ip(arg, "--router-ip", &p, &err) < 0)
		return out_usage_error(ctx, "%s", err.msg);
	slot = p.addr.family == AF_INET ? &req->router_ip4 : &req->router_ip6;
	if (slot->addr.family)
		return out_usage_error(ctx, "--router-ip %s: a second IPv%d router IP; give "
				       "one per family", arg, p.addr.family == AF_INET ? 4 : 6);
	*slot = p;
	return 0;
}

static const struct netctl_operand set_operand = {
	"NAME", "node", bgpconf_node_name_valid,
	"the node NAME, e.g. netctl node set host1 --router-ip=10.0.0.1/24",
};

int
node_cmd_set(struct netctl *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "router-ip", required_argument, NULL, OPT_SET_ROUTER_IP },
		{ "as",        required_argument, NULL, OPT_SET_AS },
		NETCTL_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	char p4[PREFIX_STRLEN] = "-", p6[PREFIX_STRLEN] = "-", as[32];
	struct bgp_node_set_req req;
	struct lf_err err = { 0 };
	struct bgp_config c;
	struct bgp_node n;
	struct store *s;
	int opt, r, ret = 0;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	optind = 0;
	while ((opt = getopt_long_only(argc, argv, NETCTL_COMMON_SHORT, opts, NULL)) != -1) {
		switch (opt) {
		case OPT_SET_ROUTER_IP:
			if (set_router_ip(ctx, &req, optarg))
				return NETCTL_EXIT_USAGE;
			break;
		case OPT_SET_AS:
			req.set_as = true;
			if (strcmp(optarg, "default") == 0) {
				req.as = 0;
			} else if (bgpconf_parse_as(optarg, "--as", &req.as, &err) < 0 ||
				   bgpconf_check_as(req.as, "--as", &err) < 0) {
				return out_usage_error(ctx, "%s", err.msg);
			}
			break;
		default:
			if (netctl_opt_common(ctx, opt, argv, &ret))
				return ret;
		}
	}
	if ((ret = netctl_one_operand(ctx, argc, argv, &set_operand, &req.node)) != 0)
		return ret;
	if (!req.set_as && !req.router_ip4.addr.family && !req.router_ip6.addr.family)
		return out_usage_error(ctx, "nothing to set: give --router-ip=IP/LEN and/or "
				       "--as=N, e.g. netctl node set %s --router-ip=10.0.0.1/24",
				       req.node);

	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	r = bgpconf_node_set(s, &req, &err);
	if (r < 0)
		return out_lf_fail(&err, r, "node set");
	ret = r;
	r = bgpconf_get(s, &c, &err);
	if (r == 0)
		r = bgpconf_node_get(s, req.node, &n, &err);
	if (r < 0)
		return out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, req.node);
	if (ctx->output == NETCTL_OUT_JSON) {
		cJSON *o = node_json(&n, &c);

		if (o && !cJSON_AddBoolToObject(o, "changed", ret == 0)) {
			cJSON_Delete(o);
			o = NULL;
		}
		ret = out_json_done(o);
	} else {
		if (n.router_ip4.addr.family)
			prefix_fmt(&n.router_ip4, p4, sizeof(p4));
		if (n.router_ip6.addr.family)
			prefix_fmt(&n.router_ip6, p6, sizeof(p6));
		printf("node %s: AS %s, router IPv4 %s, router IPv6 %s%s\n", n.name,
		       fmt_as(&n, &c, as, sizeof(as)), p4, p6, ret == 1 ? " (already so)" : "");
		ret = NETCTL_EXIT_OK;
	}
	bgpconf_node_done(&n);
	return ret;
}

/* ------------------------------------------------------------ node rr */

const char node_rr_help[] =
	"Flags:\n"
	"  --cluster-id=IP      the reflector's CLUSTER_ID (RFC 4456), a non-zero IPv4\n"
	"                       address; default: the node's router id.  Give every\n"
	"                       reflector of one cluster the same id\n"
	"\nMakes NAME a BGP route reflector (on) or a plain node again (off).  Once an\n"
	"AS has a reflector node, its nodes stop meshing with each other: every other\n"
	"node of that AS peers with each of its reflectors (as their client), the\n"
	"reflectors peer with every node of the AS and with each other, whether\n"
	"'netctl bgp node-mesh' is on or off.  A reflector passes what one client\n"
	"advertises to the other clients and to its other iBGP peers, next hop\n"
	"unchanged, with ORIGINATOR_ID and CLUSTER_LIST.  Example, two reflectors:\n"
	"  netctl node rr host1 on --cluster-id=244.0.0.1\n"
	"  netctl node rr host2 on --cluster-id=244.0.0.1\n";

enum { OPT_RR_CLUSTER_ID = 0x100 };

int
node_cmd_rr(struct netctl *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cluster-id", required_argument, NULL, OPT_RR_CLUSTER_ID },
		NETCTL_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	char cid[IPADDR_STRLEN + 16];
	struct ipaddr cluster = { 0 };
	struct lf_err err = { 0 };
	struct bgp_config c;
	struct bgp_node n;
	struct store *s;
	const char *name, *val;
	bool on;
	int opt, r, ret = 0;

	opterr = 0;
	optind = 0;
	while ((opt = getopt_long_only(argc, argv, NETCTL_COMMON_SHORT, opts, NULL)) != -1) {
		switch (opt) {
		case OPT_RR_CLUSTER_ID:
			if (ipaddr_parse(optarg, &cluster) < 0 || cluster.family != AF_INET)
				return out_usage_error(ctx, "--cluster-id=%s: give an IPv4 address, "
						       "e.g. --cluster-id=10.0.0.1", optarg);
			break;
		default:
			if (netctl_opt_common(ctx, opt, argv, &ret))
				return ret;
		}
	}
	if (optind >= argc)
		return out_usage_error(ctx, "missing the node NAME and on|off, e.g. "
				       "netctl node rr host1 on");
	name = argv[optind];
	if (!bgpconf_node_name_valid(name))
		return out_usage_error(ctx, "'%s' is not a valid node name: use 1-%d letters, "
				       "digits, '.', '_' or '-', starting with a letter or digit",
				       name, LEAFNET_NAME_MAX - 1);
	if (optind + 1 >= argc)
		return out_usage_error(ctx, "missing on or off, e.g. netctl node rr %s on", name);
	if (optind + 2 < argc)
		return out_usage_error(ctx, "unexpected argument '%s'", argv[optind + 2]);
	val = argv[optind + 1];
	if (strcmp(val, "on") == 0)
		on = true;
	else if (strcmp(val, "off") == 0)
		on = false;
	else
		return out_usage_error(ctx, "node rr %s %s: expected on or off", name, val);
	if (!on && cluster.family)
		return out_usage_error(ctx, "--cluster-id goes with 'on': a node that is no "
				       "route reflector has no cluster id");

	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	r = bgpconf_node_rr(s, name, on, &cluster, &err);
	if (r < 0)
		return out_lf_fail(&err, r, "node rr");
	ret = r;
	r = bgpconf_get(s, &c, &err);
	if (bgpconf_damaged_err(r)) {
		bgpconf_defaults(&c);
		lf_err_clear(&err);
		r = 0;
	}
	if (r == 0)
		r = bgpconf_node_get(s, name, &n, &err);
	if (r < 0)
		return out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, name);
	if (ctx->output == NETCTL_OUT_JSON) {
		cJSON *o = node_json(&n, &c);

		if (o && !cJSON_AddBoolToObject(o, "changed", ret == 0)) {
			cJSON_Delete(o);
			o = NULL;
		}
		ret = out_json_done(o);
	} else {
		if (n.rr)
			printf("node %s is %sa route reflector, cluster id %s\n", n.name,
			       ret == 1 ? "already " : "", fmt_rr(&n, cid, sizeof(cid)));
		else
			printf("node %s is %sno route reflector\n", n.name,
			       ret == 1 ? "already " : "");
		ret = NETCTL_EXIT_OK;
	}
	bgpconf_node_done(&n);
	return ret;
}
