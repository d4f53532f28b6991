/* network.c — `netctl network create|ls|inspect|rm`.
 *
 * Every flag is checked here first, so the error names the flag, the value
 * and a fix; network_validate() then applies the library's own rules
 * (block sizes, communities) before anything is written. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cJSON.h>
#include "err.h"
#include "prefix.h"
#include "store.h"
#include "network.h"
#include "ipam.h"
#include "leafnet.h"
#include "ctl.h"
#include "netctl.h"

enum {
	OPT_SUBNET = 0x100,
	OPT_GATEWAY,
	OPT_ROUTABLE,
	OPT_NON_ROUTABLE,
	OPT_NAT_OUTGOING,
	OPT_BLOCK_SIZE,
	OPT_COMMUNITY,
	OPT_NO_AGGREGATE,
	OPT_FORCE,
	OPT_ENCAP,
	OPT_NO_NAT_OUTGOING,
	OPT_AGGREGATE,
	OPT_NO_COMMUNITY,
};

#define MAX_GATEWAYS 4

const char network_create_help[] =
	"Flags:\n"
	"  --subnet=CIDR        the pool, IPv4 and/or IPv6 (give it twice for both families)\n"
	"  --gateway=IP         the workloads' gateway inside the subnet, one per family;\n"
	"                       default " LEAFNET_GW4_DEFAULT " / " LEAFNET_GW6_DEFAULT " on-link (proxy ARP / NDP)\n"
	"  --routable           addresses are reachable from outside the DC (default)\n"
	"  --non-routable       internal: advertised with a community borders filter on\n"
	"                       (64511:100 unless --community is given)\n"
	"  --nat-outgoing       SNAT traffic leaving the node to outside the network\n"
	"  --block-size=N       per-host block prefix length for the one subnet's family,\n"
	"                       or N4,N6 for both (default 26,122)\n"
	"  --community=A:B      BGP community on a non-routable network's routes (repeatable,\n"
	"                       up to 8; replaces 64511:100)\n"
	"  --no-aggregate       advertise every address as /32 (/128), not per-host blocks\n"
	"  --encap=vlan|routed  accepted for Contiv scripts: both mean leafnet's native\n"
	"                       routing (no VLAN, no overlay); vxlan/ipip are refused\n"
	"\nExample:\n"
	"  netctl network create public --subnet=10.1.0.0/16 --gateway=10.1.0.1 \\\n"
	"      --subnet=fd00:1::/64 --block-size=26,122\n";

const char network_update_help[] =
	"Flags (give at least one):\n"
	"  --nat-outgoing | --no-nat-outgoing   SNAT traffic leaving the node, or stop\n"
	"  --routable | --non-routable          the class (non-routable: community 64511:100\n"
	"                                       unless --community is given)\n"
	"  --aggregate | --no-aggregate         one route per host block, or per address\n"
	"  --community=A:B                      replace the communities (repeatable, up to 8)\n"
	"  --no-community                       drop them (a non-routable network keeps 64511:100)\n"
	"\nThe change is written under the network's lock and a running leafnetd here is\n"
	"told to reload at once (leafnetd elsewhere follows it within a second): NAT rules,\n"
	"communities and aggregation of what it advertises follow.  Subnets, gateways\n"
	"and block sizes cannot change (allocations and claimed blocks depend on them).\n"
	"\nExample:\n"
	"  netctl network update public --no-nat-outgoing --community=65000:42\n";

const char network_rm_help[] =
	"Flags:\n"
	"  --force              also release the network's allocations and block claims\n"
	"                       (workloads keep running but lose their address records)\n";

static const char *family_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

static int parse_subnet(struct netctl *ctx, const char *arg, struct prefix *ret)
{
	char addr[IPADDR_STRLEN + 1], buf[PREFIX_STRLEN];
	const char *slash = strchr(arg, '/');
	struct ipaddr a;
	struct prefix p;
	unsigned long len;
	char *end;
	unsigned max;

	if (!slash) {
		if (ipaddr_parse(arg, &a) == 0)
			return out_usage_error(ctx, "--subnet %s: missing the prefix length; example: "
					       "--subnet=%s/%u", arg, arg, a.family == AF_INET ? 24 : 64);
		return out_usage_error(ctx, "--subnet %s: not a CIDR; example: --subnet=10.1.0.0/16 "
				       "or --subnet=fd00:1::/64", arg);
	}
	if ((size_t)(slash - arg) >= sizeof(addr))
		return out_usage_error(ctx, "--subnet %s: not an IPv4 or IPv6 address; example: "
				       "--subnet=10.1.0.0/16", arg);
	memcpy(addr, arg, slash - arg);
	addr[slash - arg] = '\0';
	if (ipaddr_parse(addr, &a) < 0)
		return out_usage_error(ctx, "--subnet %s: '%s' is not an IPv4 or IPv6 address; "
				       "example: --subnet=10.1.0.0/16", arg, addr);
	max = prefix_maxlen(a.family);
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end || errno || len > max)
		return out_usage_error(ctx, "--subnet %s: prefix length must be 0-%u; example: "
				       "--subnet=%s/%u", arg, max, addr, a.family == AF_INET ? 24 : 64);
	if (prefix_parse(arg, 0, &p) < 0) {
		if (prefix_parse(arg, PREFIX_F_HOST_BITS, &p) < 0)
			return out_usage_error(ctx, "--subnet %s: not a valid CIDR; example: "
					       "--subnet=10.1.0.0/16", arg);
		prefix_mask(&p);
		return out_usage_error(ctx, "--subnet %s: host bits are set; did you mean --subnet=%s?",
				       arg, prefix_fmt(&p, buf, sizeof(buf)));
	}
	*ret = p;
	return 0;
}

static int add_subnet(struct netctl *ctx, struct network *n, const char *arg)
{
	char b1[PREFIX_STRLEN], b2[PREFIX_STRLEN];
	struct prefix p;
	size_t i;
	int r;

	r = parse_subnet(ctx, arg, &p);
	if (r)
		return r;
	for (i = 0; i < n->n_subnets; i++)
		if (n->subnets[i].cidr.addr.family == p.addr.family)
			return out_usage_error(ctx, "--subnet given twice for %s (%s and %s); a network has "
					       "one subnet per family", family_name(p.addr.family),
					       prefix_fmt(&n->subnets[i].cidr, b1, sizeof(b1)),
					       prefix_fmt(&p, b2, sizeof(b2)));
	if (n->n_subnets >= NETWORK_MAX_SUBNETS)
		return out_usage_error(ctx, "--subnet: at most %d subnets", NETWORK_MAX_SUBNETS);
	memset(&n->subnets[n->n_subnets], 0, sizeof(n->subnets[0]));
	n->subnets[n->n_subnets++].cidr = p;
	return 0;
}

static int parse_gateway(struct netctl *ctx, const char *arg, struct ipaddr *ret)
{
	if (strchr(arg, '/'))
		return out_usage_error(ctx, "--gateway %s: give the address without a prefix length, "
				       "e.g. --gateway=10.1.0.1", arg);
	if (ipaddr_parse(arg, ret) < 0)
		return out_usage_error(ctx, "--gateway %s: not an IPv4 or IPv6 address; example: "
				       "--gateway=10.1.0.1", arg);
	return 0;
}

/* Put each gateway into the subnet of its family, inside it and not one of
 * its reserved addresses. */
static int apply_gateways(struct netctl *ctx, struct network *n, const struct ipaddr *gws,
			  size_t n_gws)
{
	char ga[IPADDR_STRLEN], sb[PREFIX_STRLEN], ex[IPADDR_STRLEN];
	struct network_subnet *sub;
	struct ipaddr last, first_host;
	size_t i, j;

	for (i = 0; i < n_gws; i++) {
		ipaddr_fmt(&gws[i], ga, sizeof(ga));
		for (sub = NULL, j = 0; j < n->n_subnets; j++)
			if (n->subnets[j].cidr.addr.family == gws[i].family)
				sub = &n->subnets[j];
		if (!sub)
			return out_usage_error(ctx, "--gateway %s: there is no %s --subnet for it; add "
					       "one (e.g. --subnet=%s) or drop this --gateway", ga,
					       family_name(gws[i].family),
					       gws[i].family == AF_INET ? "10.1.0.0/16" : "fd00:1::/64");
		if (ipaddr_is_set(&sub->gateway))
			return out_usage_error(ctx, "--gateway given twice for %s; give one per family",
					       family_name(gws[i].family));
		prefix_fmt(&sub->cidr, sb, sizeof(sb));
		if (prefix_nth(&sub->cidr, 1, &first_host) < 0)
			first_host = sub->cidr.addr;
		ipaddr_fmt(&first_host, ex, sizeof(ex));
		if (!prefix_contains(&sub->cidr, &gws[i]))
			return out_usage_error(ctx, "--gateway %s: outside --subnet %s; use an address "
					       "inside it, e.g. --gateway=%s", ga, sb, ex);
		prefix_last(&sub->cidr, &last);
		if (sub->cidr.len < prefix_maxlen(sub->cidr.addr.family) - 1) {
			if (ipaddr_eq(&gws[i], &sub->cidr.addr))
				return out_usage_error(ctx, "--gateway %s: is the network address of "
						       "--subnet %s; use e.g. --gateway=%s", ga, sb, ex);
			if (gws[i].family == AF_INET && ipaddr_eq(&gws[i], &last))
				return out_usage_error(ctx, "--gateway %s: is the broadcast address of "
						       "--subnet %s; use e.g. --gateway=%s", ga, sb, ex);
		}
		sub->gateway = gws[i];
	}
	return 0;
}

static int parse_block_len(struct netctl *ctx, const char *arg, const char *s, size_t slen,
			   unsigned max, uint8_t *ret)
{
	unsigned long v = 0;
	size_t i;

	if (slen == 0 || slen > 3)
		goto bad;
	for (i = 0; i < slen; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > max)
		return out_usage_error(ctx, "--block-size %s: an %s block length must be 1-%u "
				       "(default %u)", arg, max == 32 ? "IPv4" : "IPv6", max,
				       max == 32 ? NETWORK_BLOCK4_DEFAULT : NETWORK_BLOCK6_DEFAULT);
	*ret = (uint8_t)v;
	return 0;
bad:
	return out_usage_error(ctx, "--block-size %s: expected a prefix length N, or N4,N6 for "
			       "both families; example: --block-size=26 or --block-size=26,122", arg);
}

/* An explicit block size larger than its subnet is a mistake worth
 * reporting (network_validate() quietly shrinks only the defaults). */
static int check_block_fits(struct netctl *ctx, const struct network *n, const char *arg)
{
	char sb[PREFIX_STRLEN];
	size_t i;

	for (i = 0; i < n->n_subnets; i++) {
		const struct prefix *p = &n->subnets[i].cidr;
		unsigned bs = p->addr.family == AF_INET ? n->block_size4 : n->block_size6;

		if (bs < p->len)
			return out_usage_error(ctx, "--block-size %s: a /%u block is larger than "
					       "--subnet %s; use /%u to /%u", arg, bs,
					       prefix_fmt(p, sb, sizeof(sb)), p->len,
					       prefix_maxlen(p->addr.family));
	}
	return 0;
}

static int apply_block_size(struct netctl *ctx, struct network *n, const char *arg)
{
	const char *comma = strchr(arg, ',');
	const char *s = arg[0] == '/' ? arg + 1 : arg;
	int r;

	if (comma) {
		const char *s6 = comma[1] == '/' ? comma + 2 : comma + 1;

		r = parse_block_len(ctx, arg, s, (size_t)(comma - s), 32, &n->block_size4);
		if (!r)
			r = parse_block_len(ctx, arg, s6, strlen(s6), 128, &n->block_size6);
	} else if (n->n_subnets != 1) {
		return out_usage_error(ctx, "--block-size %s: with an IPv4 and an IPv6 subnet give "
				       "both lengths, IPv4 first: --block-size=%s,%u", arg, s,
				       NETWORK_BLOCK6_DEFAULT);
	} else if (n->subnets[0].cidr.addr.family == AF_INET) {
		r = parse_block_len(ctx, arg, s, strlen(s), 32, &n->block_size4);
	} else {
		r = parse_block_len(ctx, arg, s, strlen(s), 128, &n->block_size6);
	}
	return r ? r : check_block_fits(ctx, n, arg);
}

/* The one NAME argument left after the flags. */
static int one_name(struct netctl *ctx, int argc, char **argv, const char **ret)
{
	const struct netctl_cmd *cmd = ctx->cmd;
	char missing[128];
	const struct netctl_operand op = {
		"NAME", "network", network_name_valid, missing,
	};

	snprintf(missing, sizeof(missing), "the network NAME, e.g. netctl %s %s public%s",
		 cmd->noun, cmd->verb,
		 strcmp(cmd->verb, "create") == 0 ? " --subnet=10.1.0.0/16" : "");
	return netctl_one_operand(ctx, argc, argv, &op, ret);
}

static int not_found(const struct lf_err *err, int r, const char *name)
{
	if (r == -ENOENT && !(err->code && err->msg[0]))
		return out_error("network %s does not exist; 'netctl network ls' lists the networks",
				 name);
	return out_lf_error(err, r, NETCTL_EXIT_RUNTIME, name);
}

/* Column helpers for the table views. */
static void fmt_subnets(const struct network *n, char *buf, size_t size)
{
	char p[PREFIX_STRLEN];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n->n_subnets && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? "," : "",
					prefix_fmt(&n->subnets[i].cidr, p, sizeof(p)));
}

static void fmt_gateways(const struct network *n, char *buf, size_t size)
{
	char a[IPADDR_STRLEN];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n->n_subnets && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? "," : "",
					ipaddr_is_set(&n->subnets[i].gateway)
					? ipaddr_fmt(&n->subnets[i].gateway, a, sizeof(a)) : "auto");
}

static void fmt_blocks(const struct network *n, char *buf, size_t size)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n->n_subnets && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s/%u", i ? "," : "",
					n->subnets[i].cidr.addr.family == AF_INET
					? n->block_size4 : n->block_size6);
}

static size_t count_allocs(const struct ipam_record *recs, size_t n_recs, const char *name)
{
	size_t i, count = 0;

	for (i = 0; i < n_recs; i++)
		if (strcmp(recs[i].network, name) == 0)
			count++;
	return count;
}

/* network_to_json() as a cJSON tree (NULL on OOM). */
static cJSON *network_json(const struct network *n)
{
	char *text = network_to_json(n);
	cJSON *obj;

	if (!text)
		return NULL;
	obj = cJSON_Parse(text);
	free(text);
	return obj;
}

static int print_networks(const struct netctl *ctx, const struct network *nets, size_t n_nets,
			  const struct ipam_record *recs, size_t n_recs)
{
	char subnets[NETWORK_MAX_SUBNETS * PREFIX_STRLEN], gws[NETWORK_MAX_SUBNETS * IPADDR_STRLEN];
	char blocks[32], count[24];
	struct table *t;
	cJSON *arr, *obj;
	size_t i;
	int r = 0;

	if (ctx->output == NETCTL_OUT_JSON) {
		arr = cJSON_CreateArray();
		for (i = 0; arr && i < n_nets; i++) {
			obj = network_json(&nets[i]);
			if (!obj || !cJSON_AddNumberToObject(obj, "allocated",
					(double)count_allocs(recs, n_recs, nets[i].name)) ||
			    !cJSON_AddItemToArray(arr, obj)) {
				cJSON_Delete(obj);
				cJSON_Delete(arr);
				arr = NULL;
			}
		}
		return out_json_done(arr);
	}

	t = table_new(7, "NAME", "SUBNETS", "GATEWAYS", "CLASS", "NAT", "BLOCK", "ALLOCATED");
	for (i = 0; t && r == 0 && i < n_nets; i++) {
		fmt_subnets(&nets[i], subnets, sizeof(subnets));
		fmt_gateways(&nets[i], gws, sizeof(gws));
		fmt_blocks(&nets[i], blocks, sizeof(blocks));
		snprintf(count, sizeof(count), "%zu", count_allocs(recs, n_recs, nets[i].name));
		r = table_add(t, nets[i].name, subnets, gws,
			      nets[i].routable ? "routable" : "non-routable",
			      nets[i].nat_outgoing ? "yes" : "no", blocks, count);
	}
	return table_done(t, r);
}

int network_cmd_create(struct netctl *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "subnet",       required_argument, NULL, OPT_SUBNET },
		{ "gateway",      required_argument, NULL, OPT_GATEWAY },
		{ "routable",     no_argument,       NULL, OPT_ROUTABLE },
		{ "non-routable", no_argument,       NULL, OPT_NON_ROUTABLE },
		{ "nat-outgoing", no_argument,       NULL, OPT_NAT_OUTGOING },
		{ "block-size",   required_argument, NULL, OPT_BLOCK_SIZE },
		{ "community",    required_argument, NULL, OPT_COMMUNITY },
		{ "no-aggregate", no_argument,       NULL, OPT_NO_AGGREGATE },
		{ "encap",        required_argument, NULL, OPT_ENCAP },
		NETCTL_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct ipaddr gws[MAX_GATEWAYS];
	struct lf_err err = { 0 };
	struct network n;
	struct store *s;
	const char *name = NULL, *block_size = NULL;
	bool routable = false, non_routable = false;
	size_t n_gws = 0;
	int c, r, ret = 0;

	network_init(&n);
	snprintf(n.created_by, sizeof(n.created_by), "netctl");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long_only(argc, argv, NETCTL_COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case OPT_SUBNET:
			if ((r = add_subnet(ctx, &n, optarg)))
				return r;
			break;
		case OPT_GATEWAY:
			if (n_gws >= MAX_GATEWAYS)
				return out_usage_error(ctx, "--gateway: give one per family");
			if ((r = parse_gateway(ctx, optarg, &gws[n_gws])))
				return r;
			n_gws++;
			break;
		case OPT_ROUTABLE:
			routable = true;
			break;
		case OPT_NON_ROUTABLE:
			non_routable = true;
			break;
		case OPT_NAT_OUTGOING:
			n.nat_outgoing = true;
			break;
		case OPT_BLOCK_SIZE:
			block_size = optarg;
			break;
		case OPT_COMMUNITY:
			if (n.n_communities >= NETWORK_MAX_COMMUNITIES)
				return out_usage_error(ctx, "--community: at most %d communities",
						       NETWORK_MAX_COMMUNITIES);
			if (community_parse(optarg, &n.communities[n.n_communities]) < 0)
				return out_usage_error(ctx, "--community %s: expected A:B with A and B in "
						       "0-65535; example: --community=64511:100", optarg);
			n.n_communities++;
			break;
		case OPT_NO_AGGREGATE:
			n.aggregate = false;
			break;
		case OPT_ENCAP:
			if (network_encap_check(optarg, &err) < 0)
				return out_usage_error(ctx, "%s", err.msg);
			snprintf(n.encap, sizeof(n.encap), "%s", optarg);
			break;
		default:
			if (netctl_opt_common(ctx, c, argv, &ret))
				return ret;
		}
	}
	if ((r = one_name(ctx, argc, argv, &name)))
		return r;
	snprintf(n.name, sizeof(n.name), "%s", name);
	if (routable && non_routable)
		return out_usage_error(ctx, "--routable and --non-routable contradict each other; "
				       "give one");
	n.routable = !non_routable;
	if (n.n_subnets == 0)
		return out_usage_error(ctx, "--subnet is required; example: netctl network create %s "
				       "--subnet=10.1.0.0/16", name);
	if ((r = apply_gateways(ctx, &n, gws, n_gws)))
		return r;
	if (block_size && (r = apply_block_size(ctx, &n, block_size)))
		return r;
	r = network_validate(&n, &err);
	if (r < 0)
		return out_lf_error(&err, r, NETCTL_EXIT_USAGE, "invalid network");

	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	r = network_create(s, &n, &err);
	if (r == -EEXIST)
		return out_error("network %s already exists; pick another name, or remove it first "
				 "with 'netctl network rm %s'", name, name);
	if (r < 0)
		return out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, "cannot create the network");
	if (n.encap[0] && ctx->output == NETCTL_OUT_TABLE)
		printf("--encap=%s: leafnet routes natively (a host route per workload, advertised "
		       "over BGP); no VLAN or overlay is set up\n", n.encap);
	if (n.routable && n.n_communities)
		printf("note: leafnetd attaches communities only on non-routable networks' routes "
		       "(for the borders to filter); %s is routable\n", name);
	return print_networks(ctx, &n, 1, NULL, 0);
}

int network_cmd_ls(struct netctl *ctx, int argc, char **argv)
{
	struct ipam_record *recs = NULL;
	struct network *nets = NULL;
	size_t n_nets = 0, n_recs = 0, n_broken = 0;
	char **broken = NULL;
	struct lf_err err = { 0 };
	struct store *s;
	int r, ret = 0;

	if (netctl_parse_common(ctx, argc, argv, &ret))
		return ret;
	if (optind < argc)
		return out_usage_error(ctx, "unexpected argument '%s'; 'network ls' takes none",
				       argv[optind]);
	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;

	r = network_list_ex(s, &nets, &n_nets, &broken, &n_broken, &err);
	if (r < 0) {
		(void)store_err_set(&err, LF_E_IO, r, "cannot list networks");
		return out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, "cannot list networks");
	}
	r = ipam_list(s, NULL, &recs, &n_recs);
	if (r < 0) {
		free(nets);
		store_names_free(broken, n_broken);
		(void)store_err_set(&err, LF_E_IO, r, "cannot list allocations");
		return out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, "cannot list allocations");
	}
	ret = print_networks(ctx, nets, n_nets, recs, n_recs);
	/* a network whose record cannot be read is not hidden */
	for (size_t i = 0; i < n_broken; i++) {
		struct lf_err e = { 0 };
		struct network dummy;

		(void)network_get(s, broken[i], &dummy, &e);
		fprintf(stderr, "netctl: %s\n", e.msg[0] ? e.msg :
			"a network record is damaged; see netctl ipam check");
		ret = NETCTL_EXIT_RUNTIME;
	}
	store_names_free(broken, n_broken);
	free(recs);
	free(nets);
	return ret;
}

static void print_details(const struct network *n)
{
	char a[IPADDR_STRLEN], p[PREFIX_STRLEN], cm[16];
	size_t i;

	printf("Name:          %s\n", n->name);
	for (i = 0; i < n->n_subnets; i++) {
		const struct network_subnet *sub = &n->subnets[i];
		bool v4 = sub->cidr.addr.family == AF_INET;

		printf("Subnet:        %-20s gateway %s\n", prefix_fmt(&sub->cidr, p, sizeof(p)),
		       ipaddr_is_set(&sub->gateway) ? ipaddr_fmt(&sub->gateway, a, sizeof(a))
		       : v4 ? LEAFNET_GW4_DEFAULT " (default, on-link)"
			    : LEAFNET_GW6_DEFAULT " (default, on-link)");
	}
	printf("Class:         %s\n", n->routable ? "routable" : "non-routable");
	printf("NAT outgoing:  %s\n", n->nat_outgoing ? "yes" : "no");
	printf("Aggregate:     %s\n", n->aggregate ? "yes (one route per host block)"
						   : "no (one route per address)");
	printf("Block size:    ");
	for (i = 0; i < n->n_subnets; i++) {
		bool v4 = n->subnets[i].cidr.addr.family == AF_INET;

		printf("%s/%u (%s)", i ? ", " : "", v4 ? n->block_size4 : n->block_size6,
		       family_name(n->subnets[i].cidr.addr.family));
	}
	printf("\n");
	printf("Communities:   ");
	for (i = 0; i < n->n_communities; i++)
		printf("%s%s", i ? ", " : "", community_fmt(n->communities[i], cm, sizeof(cm)));
	printf("%s\n", n->n_communities ? "" : "none");
	printf("Encap:         routed natively%s%s%s\n", n->encap[0] ? " (created with --encap=" : "",
	       n->encap, n->encap[0] ? ")" : "");
	printf("Created by:    %s\n", n->created_by[0] ? n->created_by : "-");
}

static int print_blocks_allocs(const struct ipam_block *blocks, size_t n_blocks,
			       const struct ipam_record *recs, size_t n_recs)
{
	char p[PREFIX_STRLEN], used[48], a[IPADDR_STRLEN], tm[32];
	struct table *t;
	size_t i;
	int r = 0;

	printf("\nBlocks: %zu\n", n_blocks);
	if (n_blocks) {
		t = table_new(3, "CIDR", "NODE", "USED");
		for (i = 0; t && r == 0 && i < n_blocks; i++) {
			snprintf(used, sizeof(used), "%zu/%llu", blocks[i].n_used,
				 (unsigned long long)prefix_size(&blocks[i].cidr));
			r = table_add(t, prefix_fmt(&blocks[i].cidr, p, sizeof(p)), blocks[i].node, used);
		}
		if (table_done(t, r) != NETCTL_EXIT_OK)
			return NETCTL_EXIT_RUNTIME;
	}

	printf("\nAllocations: %zu\n", n_recs);
	if (n_recs) {
		t = table_new(6, "ADDRESS", "NODE", "CONTAINER", "IFNAME", "HANDLE", "CREATED");
		for (i = 0; t && r == 0 && i < n_recs; i++) {
			const struct ipam_record *rec = &recs[i];

			r = table_add(t, ipaddr_fmt(&rec->addr, a, sizeof(a)), rec->node,
				      rec->owner.container_id, rec->owner.ifname,
				      rec->owner.handle[0] ? rec->owner.handle : NULL,
				      out_time((long long)rec->created, tm, sizeof(tm)));
		}
		return table_done(t, r);
	}
	return NETCTL_EXIT_OK;
}

static cJSON *inspect_json(const struct network *n, const struct ipam_block *blocks,
			   size_t n_blocks, const struct ipam_record *recs, size_t n_recs)
{
	char p[PREFIX_STRLEN], a[IPADDR_STRLEN], tm[32];
	cJSON *root, *arr, *o;
	size_t i;

	root = network_json(n);
	if (!root)
		return NULL;
	arr = cJSON_AddArrayToObject(root, "blocks");
	for (i = 0; arr && i < n_blocks; i++) {
		o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(arr, o) ||
		    !cJSON_AddStringToObject(o, "cidr", prefix_fmt(&blocks[i].cidr, p, sizeof(p))) ||
		    !cJSON_AddStringToObject(o, "node", blocks[i].node) ||
		    !cJSON_AddNumberToObject(o, "used", (double)blocks[i].n_used) ||
		    !cJSON_AddNumberToObject(o, "size", (double)prefix_size(&blocks[i].cidr)))
			goto out_delete;
	}
	if (!arr)
		goto out_delete;
	arr = cJSON_AddArrayToObject(root, "allocations");
	for (i = 0; arr && i < n_recs; i++) {
		const struct ipam_record *rec = &recs[i];

		o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(arr, o) ||
		    !cJSON_AddStringToObject(o, "address", ipaddr_fmt(&rec->addr, a, sizeof(a))) ||
		    !cJSON_AddStringToObject(o, "node", rec->node) ||
		    !cJSON_AddStringToObject(o, "container_id", rec->owner.container_id) ||
		    !cJSON_AddStringToObject(o, "ifname", rec->owner.ifname) ||
		    !cJSON_AddStringToObject(o, "handle", rec->owner.handle) ||
		    !cJSON_AddStringToObject(o, "created",
					     out_time((long long)rec->created, tm, sizeof(tm))))
			goto out_delete;
	}
	if (!arr)
		goto out_delete;
	return root;

out_delete:
	cJSON_Delete(root);
	return NULL;
}

int network_cmd_inspect(struct netctl *ctx, int argc, char **argv)
{
	struct lf_err err = { 0 };
	struct ipam_record *recs = NULL;
	struct ipam_block *blocks = NULL;
	size_t n_recs = 0, n_blocks = 0;
	struct network n;
	struct store *s;
	const char *name;
	int r, ret = 0;

	if (netctl_parse_common(ctx, argc, argv, &ret))
		return ret;
	if ((r = one_name(ctx, argc, argv, &name)))
		return r;
	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;

	r = network_get(s, name, &n, &err);
	if (r < 0)
		return not_found(&err, r, name);
	r = ipam_blocks(s, name, &blocks, &n_blocks);
	if (r < 0) {
		(void)store_err_set(&err, LF_E_IO, r, "cannot list the blocks of %s", name);
		return out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, name);
	}
	r = ipam_list(s, name, &recs, &n_recs);
	if (r < 0) {
		(void)store_err_set(&err, LF_E_IO, r, "cannot list the allocations of %s",
				    name);
		ret = out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, name);
		goto out_free_blocks;
	}

	if (ctx->output == NETCTL_OUT_JSON) {
		ret = out_json_done(inspect_json(&n, blocks, n_blocks, recs, n_recs));
	} else {
		print_details(&n);
		ret = print_blocks_allocs(blocks, n_blocks, recs, n_recs);
	}
	free(recs);
out_free_blocks:
	free(blocks);
	return ret;
}

int network_cmd_rm(struct netctl *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, OPT_FORCE },
		NETCTL_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct lf_err err = { 0 };
	struct ipam_record *recs = NULL;
	size_t n_recs = 0;
	struct store *s;
	const char *name;
	cJSON *root;
	bool force = false;
	int c, r, ret = 0;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long_only(argc, argv, NETCTL_COMMON_SHORT "f", opts, NULL)) != -1) {
		if (c == OPT_FORCE || c == 'f')
			force = true;
		else if (netctl_opt_common(ctx, c, argv, &ret))
			return ret;
	}
	if ((r = one_name(ctx, argc, argv, &name)))
		return r;
	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;

	/* Only for the report: network_delete() decides under its lock. */
	if (ipam_list(s, name, &recs, &n_recs) < 0)
		n_recs = 0;
	free(recs);

	r = network_delete(s, name, force, &err);
	if (r == -EBUSY) {
		(void)out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, name);
		if (!strstr(err.msg, "--force") && !strstr(err.details, "--force"))
			fprintf(stderr, "  'netctl network rm %s --force' releases them and removes "
					"the network anyway\n", name);
		return NETCTL_EXIT_RUNTIME;
	}
	if (r < 0)
		return not_found(&err, r, name);

	if (ctx->output == NETCTL_OUT_JSON) {
		root = cJSON_CreateObject();
		if (!root || !cJSON_AddStringToObject(root, "name", name) ||
		    !cJSON_AddBoolToObject(root, "removed", 1) ||
		    !cJSON_AddNumberToObject(root, "released", force ? (double)n_recs : 0)) {
			cJSON_Delete(root);
			root = NULL;
		}
		return out_json_done(root);
	}
	if (force && n_recs)
		printf("removed network %s (released %zu allocations)\n", name, n_recs);
	else
		printf("removed network %s\n", name);
	return NETCTL_EXIT_OK;
}

/* ------------------------------------------------------------ update */

/* Tell a running leafnetd here to reload; what became of it, for the
 * report: "reloaded", "not running" or the error. */
static const char *
update_notify(struct netctl *ctx, char *buf, size_t size)
{
	char *resp = NULL;
	cJSON *o = NULL;
	const cJSON *e;
	int r;

	r = ctl_request(ctx->conf.control_socket, "{\"cmd\":\"reload\"}", &resp, 5000);
	if (r == -ENOENT || r == -ECONNREFUSED)
		return "not running";
	if (r == -EACCES || r == -EPERM) {
		snprintf(buf, size, "permission denied on %.160s (run netctl as root)",
			 ctx->conf.control_socket);
		return buf;
	}
	if (r < 0) {
		snprintf(buf, size, "no answer on %.160s: %s", ctx->conf.control_socket,
			 strerror(-r));
		return buf;
	}
	o = cJSON_Parse(resp);
	free(resp);
	e = o ? cJSON_GetObjectItemCaseSensitive(o, "error") : NULL;
	if (!o || cJSON_IsString(e))
		snprintf(buf, size, "reload refused: %s", cJSON_IsString(e) ? e->valuestring
			 : "not JSON");
	else
		snprintf(buf, size, "reloaded");
	cJSON_Delete(o);
	return buf;
}

static int
update_refuse(struct netctl *ctx, const char *flag)
{
	if (strcmp(flag, "--block-size") == 0)
		return out_usage_error(ctx, "--block-size cannot change: the blocks nodes have "
				       "claimed have the current size; create a new network with "
				       "the block size wanted and move the workloads to it");
	return out_usage_error(ctx, "%s cannot change: the addresses allocated and the blocks "
			       "claimed lie in the network's subnets and workloads route "
			       "through its gateway; create a new network (netctl network "
			       "create NAME --subnet=...) and move the workloads to it", flag);
}

int network_cmd_update(struct netctl *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nat-outgoing",    no_argument,       NULL, OPT_NAT_OUTGOING },
		{ "no-nat-outgoing", no_argument,       NULL, OPT_NO_NAT_OUTGOING },
		{ "routable",        no_argument,       NULL, OPT_ROUTABLE },
		{ "non-routable",    no_argument,       NULL, OPT_NON_ROUTABLE },
		{ "aggregate",       no_argument,       NULL, OPT_AGGREGATE },
		{ "no-aggregate",    no_argument,       NULL, OPT_NO_AGGREGATE },
		{ "community",       required_argument, NULL, OPT_COMMUNITY },
		{ "no-community",    no_argument,       NULL, OPT_NO_COMMUNITY },
		{ "subnet",          required_argument, NULL, OPT_SUBNET },
		{ "gateway",         required_argument, NULL, OPT_GATEWAY },
		{ "block-size",      required_argument, NULL, OPT_BLOCK_SIZE },
		{ "encap",           required_argument, NULL, OPT_ENCAP },
		NETCTL_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct network_update u;
	struct lf_err err = { 0 };
	struct network n;
	struct store *s;
	const char *name = NULL, *refused = NULL, *live;
	char buf[256];
	unsigned given = 0, twice = 0;
	bool no_comm = false;
	cJSON *root;
	int c, r, ret = 0;

	memset(&u, 0, sizeof(u));
	opterr = 0;
	optind = 0;
	while ((c = getopt_long_only(argc, argv, NETCTL_COMMON_SHORT, opts, NULL)) != -1) {
		unsigned bit = 0;

		switch (c) {
		case OPT_NAT_OUTGOING:
		case OPT_NO_NAT_OUTGOING:
			bit = NETWORK_UPD_NAT;
			u.nat_outgoing = c == OPT_NAT_OUTGOING;
			break;
		case OPT_ROUTABLE:
		case OPT_NON_ROUTABLE:
			bit = NETWORK_UPD_ROUTABLE;
			u.routable = c == OPT_ROUTABLE;
			break;
		case OPT_AGGREGATE:
		case OPT_NO_AGGREGATE:
			bit = NETWORK_UPD_AGGREGATE;
			u.aggregate = c == OPT_AGGREGATE;
			break;
		case OPT_COMMUNITY:
			if (u.n_communities >= NETWORK_MAX_COMMUNITIES)
				return out_usage_error(ctx, "--community: at most %d communities",
						       NETWORK_MAX_COMMUNITIES);
			if (community_parse(optarg, &u.communities[u.n_communities]) < 0)
				return out_usage_error(ctx, "--community %s: expected A:B with A and B in "
						       "0-65535; example: --community=64511:100", optarg);
			u.n_communities++;
			u.set |= NETWORK_UPD_COMMUNITIES;
			given |= NETWORK_UPD_COMMUNITIES;
			break;
		case OPT_NO_COMMUNITY:
			no_comm = true;
			u.set |= NETWORK_UPD_COMMUNITIES;
			given |= NETWORK_UPD_COMMUNITIES;
			break;
		case OPT_SUBNET:
			refused = refused ? refused : "--subnet";
			break;
		case OPT_GATEWAY:
			refused = refused ? refused : "--gateway";
			break;
		case OPT_BLOCK_SIZE:
			refused = refused ? refused : "--block-size";
			break;
		case OPT_ENCAP:
			refused = refused ? refused : "--encap";
			break;
		default:
			if (netctl_opt_common(ctx, c, argv, &ret))
				return ret;
		}
		if (bit) {
			if (given & bit)
				twice |= bit;
			given |= bit;
			u.set |= bit;
		}
	}
	if (refused && strcmp(refused, "--encap") == 0)
		return out_usage_error(ctx, "--encap cannot change and needs not: leafnet routes "
				       "every network natively");
	if (refused)
		return update_refuse(ctx, refused);
	if ((r = one_name(ctx, argc, argv, &name)))
		return r;
	if (twice)
		return out_usage_error(ctx, "%s given twice (or with its opposite); give one",
				       twice & NETWORK_UPD_NAT ? "--nat-outgoing/--no-nat-outgoing"
				       : twice & NETWORK_UPD_ROUTABLE ? "--routable/--non-routable"
				       : "--aggregate/--no-aggregate");
	if (no_comm && u.n_communities)
		return out_usage_error(ctx, "--no-community and --community contradict each other; "
				       "--community=A:B alone replaces the list");
	if (!u.set)
		return out_usage_error(ctx, "nothing to change: give --nat-outgoing, "
				       "--no-nat-outgoing, --routable, --non-routable, --aggregate, "
				       "--no-aggregate, --community=A:B or --no-community; e.g. "
				       "netctl network update %s --no-nat-outgoing", name);

	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	r = network_update(s, name, &u, &n, &err);
	if (r == -ENOENT)
		return not_found(&err, r, name);
	if (r < 0)
		return out_lf_fail(&err, r, name);
	live = r == 1 ? "unchanged" : update_notify(ctx, buf, sizeof(buf));
	if (ctx->output == NETCTL_OUT_JSON) {
		root = network_json(&n);
		if (root && (!cJSON_AddBoolToObject(root, "changed", r == 0) ||
			     !cJSON_AddStringToObject(root, "leafnetd", live))) {
			cJSON_Delete(root);
			root = NULL;
		}
		return out_json_done(root);
	}
	if (r == 1)
		printf("network %s: nothing changed (already so)\n", name);
	else if (strcmp(live, "reloaded") == 0)
		printf("network %s updated; leafnetd reloaded it (live now)\n", name);
	else if (strcmp(live, "not running") == 0)
		printf("network %s updated; leafnetd is not running here: it applies the change "
		       "when it starts (leafnetd on other nodes within a second)\n", name);
	else
		printf("network %s updated; leafnetd here: %s (it rereads networks every 10 s)\n",
		       name, live);
	if (n.routable && n.n_communities)
		printf("note: leafnetd attaches communities only on non-routable networks' routes "
		       "(for the borders to filter); %s is routable\n", name);
	return print_networks(ctx, &n, 1, NULL, 0);
}
