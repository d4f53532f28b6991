/* bgp.c — `netctl bgp default-node-as|node-mesh|peer|create` and
 * `netctl node bgp peer` (a node's own peers).
 *
 * Values are checked here first (usage errors, exit 2, naming the flag or
 * word and the fix); bgpconf/ then changes the store under its lock,
 * all or nothing.  Peer tables are boxed like calicoctl's. */
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
#include "bgpconf.h"
#include "netctl.h"

enum {
	OPT_PASSWORD = 0x100,
	OPT_NODE,
	OPT_ROUTER_IP,
	OPT_AS,
	OPT_NEIGHBOR_AS,
	OPT_NEIGHBOR,
	OPT_IMPORT,
	OPT_NO_PASSWORD,
	OPT_TTL_SECURITY,
	OPT_NO_TTL_SECURITY,
	OPT_MAX_PREFIX,
	OPT_NO_MAX_PREFIX,
};

/* The per-peer option flags of `bgp peer add`, `node bgp peer add` and
 * `bgp create` (for its neighbor). */
#define PEER_OPTS \
	{ "password",        required_argument, NULL, OPT_PASSWORD }, \
	{ "no-password",     no_argument,       NULL, OPT_NO_PASSWORD }, \
	{ "ttl-security",    no_argument,       NULL, OPT_TTL_SECURITY }, \
	{ "no-ttl-security", no_argument,       NULL, OPT_NO_TTL_SECURITY }, \
	{ "max-prefix",      required_argument, NULL, OPT_MAX_PREFIX }, \
	{ "no-max-prefix",   no_argument,       NULL, OPT_NO_MAX_PREFIX }, \
	{ "import",          required_argument, NULL, OPT_IMPORT }

struct peer_opts {
	const char *password;
	bool no_password;
	int ttl;			/* -1 not given, 0 off, 1 on */
	const char *max_prefix;
	bool no_max_prefix;
	const char *import;
	const char *first;		/* the first option flag given, for errors */
	const char *clash;		/* "--x and --no-x" */
};

#define PEER_OPTS_HELP \
	"  --password=KEY       TCP MD5 key (RFC 2385), at most 80 characters\n" \
	"  --no-password        drop the TCP MD5 key\n" \
	"  --ttl-security       GTSM (RFC 5082): a directly connected peer; TTL 255 out,\n" \
	"                       only TTL 255 accepted in (the peer must do the same)\n" \
	"  --no-ttl-security    turn GTSM off\n" \
	"  --max-prefix=N[,warning|restart=MIN]\n" \
	"                       more than N routes accepted from the peer: Cease (RFC 4486),\n" \
	"                       its routes removed, down for MIN minutes (default 5);\n" \
	"                       ',warning': log it and keep the session\n" \
	"  --no-max-prefix      no limit (the default)\n" \
	"  --import=POLICY      what this peer's routes may be: default (only 0/0, ::/0),\n" \
	"                       all, none, or inherit ('netctl bgp import', the default)\n"

const char bgp_peer_help[] =
	"Verbs:\n"
	"  add IP as N [FLAGS]   peer with IP (IPv4 or IPv6) in AS N (decimal or asdot X.Y);\n"
	"                        adding a peer again changes the options given, keeps the rest\n"
	"  remove IP             stop peering with IP\n"
	"  show                  list the peers, IPv4 and IPv6 tables\n"
	"\nFlags of 'add':\n"
	PEER_OPTS_HELP
	"\nGlobal peers are peers of every node; 'netctl node bgp peer' manages the\n"
	"peers of one node.\n";

const char bgp_import_help[] =
	"  default   install only the default routes (0.0.0.0/0, ::/0) the peers send:\n"
	"            the \"downward default\" fabric model\n"
	"  all       install every route (the default)\n"
	"  none      install nothing\n"
	"\nApplies to global and node-specific peers (the node mesh always takes\n"
	"everything).  A peer's own --import wins; without this setting leafnetd uses\n"
	"bgp_import from its config file.  Without a value: show it.\n";

const char node_bgp_help[] =
	"Flags:\n"
	"  --node NAME          the node (default: node_name from the config, else the hostname)\n"
	"\nFlags of 'peer add' (adding a peer again changes the options given):\n"
	PEER_OPTS_HELP
	"\nExamples:\n"
	"  netctl node bgp peer add 10.0.0.254 as 65000\n"
	"  netctl node bgp peer remove 10.0.0.254 --node h2\n"
	"  netctl node bgp peer show\n";

const char bgp_create_help[] =
	"Flags (these four required):\n"
	"  --router-ip=IP/LEN   the node's own address on the fabric and its prefix length\n"
	"  --as=N               the node's AS (1-4294967295 or asdot X.Y)\n"
	"  --neighbor=IP        the ToR (or other router) to peer with\n"
	"  --neighbor-as=N      the neighbor's AS\n"
	"The neighbor's options (on a neighbor already there: the ones given change):\n"
	PEER_OPTS_HELP
	"\nSets the node's AS and router IP and adds the neighbor as a peer of that node,\n"
	"all at once or not at all.  Example:\n"
	"  netctl bgp create host1 --router-ip=10.0.0.1/24 --as=65001 \\\n"
	"      --neighbor=10.0.0.254 --neighbor-as=65000\n";


static int
parse_as(struct netctl *ctx, const char *s, const char *what, uint32_t *ret)
{
	struct lf_err err = { 0 };

	if (bgpconf_parse_as(s, what, ret, &err) < 0 || bgpconf_check_as(*ret, what, &err) < 0)
		return out_usage_error(ctx, "%s", err.msg);
	return 0;
}

/* The option flags into p and the BGPCONF_SET_* bits they name; 0 or the
 * exit status of a usage error. */
static int
peer_opts_apply(struct netctl *ctx, const struct peer_opts *o, struct bgp_peer *p,
		unsigned *ret_set)
{
	struct lf_err err = { 0 };
	unsigned set = 0;

	if (o->clash)
		return out_usage_error(ctx, "%s: give one of them", o->clash);
	if (o->no_password) {
		p->password[0] = '\0';
		set |= BGPCONF_SET_PASSWORD;
	}
	if (o->password) {
		if (o->password[0] == '\0')
			return out_usage_error(ctx, "--password is empty; leave it out for no "
					       "TCP MD5 key");
		if (strlen(o->password) > BGPCONF_PASSWORD_MAX)
			return out_usage_error(ctx, "--password: at most %d characters (the TCP "
					       "MD5 key limit)", BGPCONF_PASSWORD_MAX);
		snprintf(p->password, sizeof(p->password), "%s", o->password);
		set |= BGPCONF_SET_PASSWORD;
	}
	if (o->import) {
		if (bgpconf_parse_import(o->import, true, "--import", &p->import, &err) < 0)
			return out_usage_error(ctx, "%s", err.msg);
		set |= BGPCONF_SET_IMPORT;
	}
	if (o->ttl >= 0) {
		p->ttl_security = o->ttl == 1;
		set |= BGPCONF_SET_TTL;
	}
	if (o->max_prefix) {
		if (bgpconf_parse_max_prefix(o->max_prefix, "--max-prefix", p, &err) < 0)
			return out_usage_error(ctx, "%s", err.msg);
		set |= BGPCONF_SET_MAX_PREFIX;
	}
	if (o->no_max_prefix) {
		p->max_prefix = 0;
		p->max_prefix_warning = false;
		p->max_prefix_restart = 0;
		set |= BGPCONF_SET_MAX_PREFIX;
	}
	*ret_set = set;
	return 0;
}

/* A peer option flag: 1 when c was one (stored in o), else 0. */
static int
peer_opt(int c, struct peer_opts *o)
{
	static const struct { int c; const char *name; } names[] = {
		{ OPT_PASSWORD, "--password" }, { OPT_NO_PASSWORD, "--no-password" },
		{ OPT_TTL_SECURITY, "--ttl-security" },
		{ OPT_NO_TTL_SECURITY, "--no-ttl-security" },
		{ OPT_MAX_PREFIX, "--max-prefix" }, { OPT_NO_MAX_PREFIX, "--no-max-prefix" },
		{ OPT_IMPORT, "--import" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && names[i].c != c; i++)
		;
	if (i == sizeof(names) / sizeof(names[0]))
		return 0;
	if (!o->first)
		o->first = names[i].name;
	switch (c) {
	case OPT_PASSWORD:	o->password = optarg; break;
	case OPT_NO_PASSWORD:	o->no_password = true; break;
	case OPT_TTL_SECURITY:
	case OPT_NO_TTL_SECURITY:
		if (o->ttl >= 0 && o->ttl != (c == OPT_TTL_SECURITY))
			o->clash = "--ttl-security and --no-ttl-security";
		o->ttl = c == OPT_TTL_SECURITY;
		break;
	case OPT_MAX_PREFIX:	o->max_prefix = optarg; break;
	case OPT_NO_MAX_PREFIX:	o->no_max_prefix = true; break;
	case OPT_IMPORT:	o->import = optarg; break;
	}
	if (o->password && o->no_password)
		o->clash = "--password and --no-password";
	if (o->max_prefix && o->no_max_prefix)
		o->clash = "--max-prefix and --no-max-prefix";
	return 1;
}

static bool
peer_opts_given(const struct peer_opts *o)
{
	return o->first != NULL;
}

/* ------------------------------------------------------------ peer tables */

#define OPTS_STRLEN 160

/* A calicoctl-style boxed table of two columns, and a third (w3 > 0). */
static void
box_rule(size_t w1, size_t w2, size_t w3)
{
	static const char dashes[] =
		"--------------------------------------------------------------------------------"
		"--------------------------------------------------------------------------------";

	printf("+%.*s+%.*s+", (int)w1 + 2, dashes, (int)w2 + 2, dashes);
	if (w3)
		printf("%.*s+", (int)w3 + 2, dashes);
	printf("\n");
}

/* The Options column (md5, ttl-security, max-prefix, import) only when a
 * peer of the table has one: without, the table is calicoctl's. */
static void
box_peers(const char *heading, const struct bgp_peer *peers, size_t n, int family)
{
	char a[IPADDR_STRLEN], as[BGPCONF_AS_STRLEN], o[OPTS_STRLEN];
	size_t i, w1 = strlen(heading), w2 = strlen("AS Num"), w3 = 0;

	for (i = 0; i < n; i++) {
		if (peers[i].addr.family != family)
			continue;
		if (strlen(ipaddr_fmt(&peers[i].addr, a, sizeof(a))) > w1)
			w1 = strlen(a);
		if (strlen(bgpconf_as_fmt(peers[i].as, as, sizeof(as))) > w2)
			w2 = strlen(as);
		if (strlen(bgpconf_peer_opts_fmt(&peers[i], o, sizeof(o))) > w3)
			w3 = strlen(o);
	}
	if (w3 && w3 < strlen("Options"))
		w3 = strlen("Options");
	box_rule(w1, w2, w3);
	printf("| %-*s | %-*s |", (int)w1, heading, (int)w2, "AS Num");
	if (w3)
		printf(" %-*s |", (int)w3, "Options");
	printf("\n");
	box_rule(w1, w2, w3);
	for (i = 0; i < n; i++) {
		if (peers[i].addr.family != family)
			continue;
		printf("| %-*s | %-*s |", (int)w1, ipaddr_fmt(&peers[i].addr, a, sizeof(a)),
		       (int)w2, bgpconf_as_fmt(peers[i].as, as, sizeof(as)));
		if (w3)
			printf(" %-*s |", (int)w3, bgpconf_peer_opts_fmt(&peers[i], o, sizeof(o)));
		printf("\n");
	}
	box_rule(w1, w2, w3);
}

static void
print_peer_tables(const char *node, const struct bgp_peer *peers, size_t n)
{
	static const int families[2] = { AF_INET, AF_INET6 };
	char heading[64];
	size_t i, k, count;

	for (k = 0; k < 2; k++) {
		int v = families[k] == AF_INET ? 4 : 6;

		for (count = 0, i = 0; i < n; i++)
			count += peers[i].addr.family == families[k];
		if (k)
			printf("\n");
		if (count == 0) {
			if (node)
				printf("No node specific IPv%d BGP peers defined for node %s.\n",
				       v, node);
			else
				printf("No global IPv%d BGP peers defined.\n", v);
			continue;
		}
		snprintf(heading, sizeof(heading), "%s IPv%d BGP Peer",
			 node ? "Node specific" : "Global", v);
		box_peers(heading, peers, n, families[k]);
	}
}

static cJSON *
peer_json(const struct bgp_peer *p, const char *node)
{
	char a[IPADDR_STRLEN], tm[32];
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddStringToObject(o, "ip", ipaddr_fmt(&p->addr, a, sizeof(a))) ||
	    !cJSON_AddNumberToObject(o, "as", p->as) ||
	    !cJSON_AddStringToObject(o, "family", p->addr.family == AF_INET ? "ipv4" : "ipv6") ||
	    !cJSON_AddBoolToObject(o, "password_set", p->password[0] != '\0') ||
	    !(p->import != BGPCONF_IMPORT_UNSET
	      ? cJSON_AddStringToObject(o, "import", bgpconf_import_name(p->import))
	      : cJSON_AddNullToObject(o, "import")) ||
	    !cJSON_AddBoolToObject(o, "ttl_security", p->ttl_security) ||
	    !cJSON_AddNumberToObject(o, "max_prefix", p->max_prefix) ||
	    !(p->max_prefix
	      ? cJSON_AddStringToObject(o, "max_prefix_action",
					p->max_prefix_warning ? "warning" : "restart")
	      : cJSON_AddNullToObject(o, "max_prefix_action")) ||
	    !(p->max_prefix && !p->max_prefix_warning
	      ? cJSON_AddNumberToObject(o, "max_prefix_restart", p->max_prefix_restart ?
					p->max_prefix_restart : BGPCONF_MAXPFX_RESTART_DEFAULT)
	      : cJSON_AddNullToObject(o, "max_prefix_restart")) ||
	    !(node ? cJSON_AddStringToObject(o, "node", node)
		   : cJSON_AddNullToObject(o, "node")) ||
	    !cJSON_AddStringToObject(o, "created", out_time(p->created, tm, sizeof(tm)))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int
peer_show(struct netctl *ctx, struct store *s, const char *node)
{
	struct lf_err err = { 0 };
	struct bgp_peer *peers = NULL;
	size_t n = 0, i;
	cJSON *arr, *o;
	int r, damaged;

	r = bgpconf_peer_list(s, node, &peers, &n, &err);
	if (r < 0)
		return out_lf_fail(&err, r, "cannot list the BGP peers");
	damaged = netctl_bgp_damaged(s);
	if (ctx->output == NETCTL_OUT_TABLE) {
		print_peer_tables(node, peers, n);
		free(peers);
		return damaged ? NETCTL_EXIT_RUNTIME : NETCTL_EXIT_OK;
	}
	arr = cJSON_CreateArray();
	for (i = 0; arr && i < n; i++) {
		o = peer_json(&peers[i], node);
		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			cJSON_Delete(arr);
			arr = NULL;
		}
	}
	free(peers);
	r = out_json_done(arr);
	return r == NETCTL_EXIT_OK && damaged ? NETCTL_EXIT_RUNTIME : r;
}

/* ------------------------------------------------------------ peer add/remove */

/* What a `peer` command line holds once parsed. */
struct peer_args {
	const char *words[8];	/* positionals: peer? add IP as N */
	size_t n_words;
	struct peer_opts opts;
	const char *node;
};

static bool
negative_number(const char *s)
{
	return s[0] == '-' && s[1] >= '0' && s[1] <= '9';
}

/* getopt would take "-1" in "as -1" for a flag: say what is wrong with it. */
static int
check_negative_as(struct netctl *ctx, int argc, char **argv)
{
	int i;

	for (i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "as") == 0 && negative_number(argv[i + 1])) {
			uint32_t as;

			return parse_as(ctx, argv[i + 1], NULL, &as);
		}
	return 0;
}

static int
parse_peer_args(struct netctl *ctx, int argc, char **argv, bool node_form,
		struct peer_args *ret, int *ret_exit)
{
	static const struct option opts[] = {
		PEER_OPTS,
		{ "node",     required_argument, NULL, OPT_NODE },
		NETCTL_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct peer_args a = { .opts.ttl = -1 };
	int c;

	*ret_exit = check_negative_as(ctx, argc, argv);
	if (*ret_exit)
		return -1;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long_only(argc, argv, NETCTL_COMMON_SHORT, opts, NULL)) != -1) {
		if (peer_opt(c, &a.opts))
			continue;
		switch (c) {
		case OPT_NODE:
			if (!node_form) {
				*ret_exit = out_usage_error(ctx, "--node belongs to 'netctl node bgp "
							    "peer ...'; 'netctl bgp peer' manages "
							    "the global peers");
				return -1;
			}
			a.node = optarg;
			break;
		default:
			if (netctl_opt_common(ctx, c, argv, ret_exit))
				return -1;
		}
	}
	for (; optind < argc; optind++) {
		if (a.n_words == sizeof(a.words) / sizeof(a.words[0])) {
			*ret_exit = out_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
			return -1;
		}
		a.words[a.n_words++] = argv[optind];
	}
	*ret = a;
	return 0;
}

static int
peer_add(struct netctl *ctx, struct store *s, const char *node, const struct peer_args *a,
	 const char *const *w, size_t nw)
{
	const char *scope = node ? "node-specific" : "global";
	char ab[IPADDR_STRLEN], as[BGPCONF_AS_STRLEN], opts[OPTS_STRLEN];
	struct lf_err err = { 0 };
	struct bgp_peer p;
	unsigned set = 0;
	cJSON *root;
	int r;

	memset(&p, 0, sizeof(p));
	if (nw < 2)
		return out_usage_error(ctx, "missing the peer address: peer add IP as N, e.g. "
				       "peer add 192.0.2.1 as 65000");
	if (bgpconf_parse_peer_addr(w[1], "peer", &p.addr, &err) < 0)
		return out_usage_error(ctx, "%s", err.msg);
	if (nw < 4 || strcmp(w[2], "as") != 0)
		return out_usage_error(ctx, "missing the peer's AS: peer add %s as N, e.g. "
				       "peer add %s as 65000", w[1], w[1]);
	if (nw > 4)
		return out_usage_error(ctx, "unexpected argument '%s'", w[4]);
	if (parse_as(ctx, w[3], NULL, &p.as))
		return NETCTL_EXIT_USAGE;
	if ((r = peer_opts_apply(ctx, &a->opts, &p, &set)) != 0)
		return r;
	r = bgpconf_peer_set(s, node, &p, set, &err);
	if (r < 0)
		return out_lf_fail(&err, r, "cannot add the BGP peer");
	if (r == 2) {
		/* what is stored now, to show it */
		struct bgp_peer *peers = NULL;
		size_t n = 0;

		if (bgpconf_peer_list(s, node, &peers, &n, NULL) == 0)
			for (size_t i = 0; i < n; i++)
				if (ipaddr_eq(&peers[i].addr, &p.addr))
					p = peers[i];
		free(peers);
	}
	ipaddr_fmt(&p.addr, ab, sizeof(ab));
	bgpconf_as_fmt(p.as, as, sizeof(as));
	if (ctx->output == NETCTL_OUT_JSON) {
		root = peer_json(&p, node);
		if (root && !cJSON_AddBoolToObject(root, "changed", r != 1)) {
			cJSON_Delete(root);
			root = NULL;
		}
		if (root)
			cJSON_DeleteItemFromObject(root, "created");
		return out_json_done(root);
	}
	if (r == 1)
		printf("%s BGP peer %s (AS %s)%s%s is already configured\n", scope, ab, as,
		       node ? " of node " : "", node ? node : "");
	else if (r == 2)
		printf("changed %s BGP peer %s (AS %s)%s%s: options now %s\n", scope, ab, as,
		       node ? " of node " : "", node ? node : "",
		       bgpconf_peer_opts_fmt(&p, opts, sizeof(opts))[0] ? opts : "none");
	else
		printf("added %s BGP peer %s (AS %s)%s%s\n", scope, ab, as,
		       node ? " to node " : "", node ? node : "");
	return NETCTL_EXIT_OK;
}

static int
peer_remove(struct netctl *ctx, struct store *s, const char *node, const char *const *w,
	    size_t nw)
{
	char ab[IPADDR_STRLEN];
	struct lf_err err = { 0 };
	struct ipaddr addr;
	cJSON *root;
	int r;

	if (nw < 2)
		return out_usage_error(ctx, "missing the peer address: peer remove IP");
	if (nw > 2)
		return out_usage_error(ctx, "unexpected argument '%s' (peer remove takes one IP)",
				       w[2]);
	if (strchr(w[1], '/') || ipaddr_parse(w[1], &addr) < 0)
		return out_usage_error(ctx, "'%s' is not an IPv4 or IPv6 address; 'peer show' "
				       "lists the peers", w[1]);
	r = bgpconf_peer_remove(s, node, &addr, &err);
	if (r == -ENOENT) {
		out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, w[1]);
		fprintf(stderr, "  'netctl %speer show' lists them\n", node ? "node bgp " : "bgp ");
		return NETCTL_EXIT_RUNTIME;
	}
	if (r < 0)
		return out_lf_fail(&err, r, "cannot remove the BGP peer");
	ipaddr_fmt(&addr, ab, sizeof(ab));
	if (ctx->output == NETCTL_OUT_JSON) {
		root = cJSON_CreateObject();
		if (root && (!cJSON_AddStringToObject(root, "ip", ab) ||
			     !(node ? cJSON_AddStringToObject(root, "node", node)
				    : cJSON_AddNullToObject(root, "node")) ||
			     !cJSON_AddBoolToObject(root, "removed", 1))) {
			cJSON_Delete(root);
			root = NULL;
		}
		return out_json_done(root);
	}
	printf("removed %s BGP peer %s%s%s\n", node ? "node-specific" : "global", ab,
	       node ? " from node " : "", node ? node : "");
	return NETCTL_EXIT_OK;
}

/* w[0] is the peer verb: add, remove or show. */
static int
peer_run(struct netctl *ctx, const char *node, const struct peer_args *a,
	 const char *const *w, size_t nw)
{
	struct store *s;
	int ret = 0;

	if (nw == 0)
		return out_usage_error(ctx, "missing the verb: peer add IP as N | peer remove IP | "
				       "peer show");
	if (strcmp(w[0], "add") && strcmp(w[0], "remove") && strcmp(w[0], "show"))
		return out_usage_error(ctx, "unknown peer verb '%s': use add, remove or show", w[0]);
	if (peer_opts_given(&a->opts) && strcmp(w[0], "add") != 0)
		return out_usage_error(ctx, "%s goes with 'peer add'", a->opts.first);
	if (strcmp(w[0], "show") == 0 && nw > 1)
		return out_usage_error(ctx, "unexpected argument '%s' (peer show takes none)", w[1]);
	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	if (strcmp(w[0], "add") == 0)
		return peer_add(ctx, s, node, a, w, nw);
	if (strcmp(w[0], "remove") == 0)
		return peer_remove(ctx, s, node, w, nw);
	return peer_show(ctx, s, node);
}

/* netctl bgp peer add|remove|show ... */
int
bgp_cmd_peer(struct netctl *ctx, int argc, char **argv)
{
	struct peer_args a;
	int ret;

	if (parse_peer_args(ctx, argc, argv, false, &a, &ret) < 0)
		return ret;
	return peer_run(ctx, NULL, &a, a.words, a.n_words);
}

/* netctl node bgp [--node NAME] peer add|remove|show ... */
int
node_cmd_bgp(struct netctl *ctx, int argc, char **argv)
{
	struct peer_args a;
	struct store *s;
	const char *node;
	int ret = 0;

	if (parse_peer_args(ctx, argc, argv, true, &a, &ret) < 0)
		return ret;
	if (a.n_words == 0 || strcmp(a.words[0], "peer") != 0)
		return out_usage_error(ctx, "expected 'peer': netctl node bgp peer add IP as N | "
				       "remove IP | show");
	node = a.node;
	if (!node) {
		/* the default comes from the config */
		if (netctl_store(ctx, &s, &ret) < 0)
			return ret;
		node = ctx->conf.node_name;
	}
	if (!bgpconf_node_name_valid(node))
		return out_usage_error(ctx, "%s '%s' is not a valid node name: use 1-%d letters, "
				       "digits, '.', '_' or '-'%s", a.node ? "--node" : "node_name",
				       node, LEAFNET_NAME_MAX - 1,
				       a.node ? "" : "; set \"node_name\" in the config or give --node");
	return peer_run(ctx, node, &a, a.words + 1, a.n_words - 1);
}

/* ------------------------------------------------------------ global config */

/* The optional single value of default-node-as / node-mesh.  A negative
 * number ("-1") is a (bad) value, not a flag. */
static int
one_value(struct netctl *ctx, int argc, char **argv, const char **ret, int *ret_exit)
{
	const char *vals[2] = { NULL, NULL };
	size_t n_vals = 0;
	char **av;
	int i, ac = 0, r = -1;

	*ret_exit = 0;
	av = calloc((size_t)argc + 1, sizeof(*av));
	if (!av) {
		*ret_exit = out_error("out of memory");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (i > 0 && negative_number(argv[i]) && !(ac > 0 && (strcmp(av[ac - 1], "-o") == 0 ||
			    strcmp(av[ac - 1], "--output") == 0 || strcmp(av[ac - 1], "--config") == 0))) {
			if (n_vals < 2)
				vals[n_vals] = argv[i];
			n_vals++;
			continue;
		}
		av[ac++] = argv[i];
	}
	if (netctl_parse_common(ctx, ac, av, ret_exit))
		goto out_free;
	for (; optind < ac; optind++) {
		if (n_vals < 2)
			vals[n_vals] = av[optind];
		n_vals++;
	}
	if (n_vals > 1) {
		*ret_exit = out_usage_error(ctx, "unexpected argument '%s' (one value at most)",
					    vals[1]);
		goto out_free;
	}
	*ret = vals[0];
	r = 0;
out_free:
	free(av);
	return r;	/* -1: stop and return *ret_exit (--help exits 0) */
}

int
bgp_cmd_default_node_as(struct netctl *ctx, int argc, char **argv)
{
	struct lf_err err = { 0 };
	struct bgp_config c;
	struct store *s;
	const char *val;
	cJSON *root;
	uint32_t as = 0;
	int r, ret;

	if (one_value(ctx, argc, argv, &val, &ret) < 0)
		return ret;
	if (val && parse_as(ctx, val, "default-node-as", &as))
		return NETCTL_EXIT_USAGE;
	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	r = val ? bgpconf_set_default_as(s, as, &err) : 0;
	if (r >= 0 && !val)
		r = bgpconf_get(s, &c, &err);
	if (r < 0)
		return out_lf_fail(&err, r, "default node AS");
	if (val)
		c.default_node_as = as;
	if (ctx->output == NETCTL_OUT_TABLE) {
		if (!val)
			printf("%u\n", c.default_node_as);
		else
			printf("default node AS %s %u\n", r == 1 ? "is already" : "set to", as);
		return NETCTL_EXIT_OK;
	}
	root = cJSON_CreateObject();
	if (root && (!cJSON_AddNumberToObject(root, "default_node_as", c.default_node_as) ||
		     (val && !cJSON_AddBoolToObject(root, "changed", r == 0)))) {
		cJSON_Delete(root);
		root = NULL;
	}
	return out_json_done(root);
}

int
bgp_cmd_node_mesh(struct netctl *ctx, int argc, char **argv)
{
	struct lf_err err = { 0 };
	struct bgp_config c;
	struct store *s;
	const char *val;
	cJSON *root;
	bool on = true;
	int r, ret;

	if (one_value(ctx, argc, argv, &val, &ret) < 0)
		return ret;
	if (val) {
		if (strcmp(val, "on") == 0)
			on = true;
		else if (strcmp(val, "off") == 0)
			on = false;
		else
			return out_usage_error(ctx, "node-mesh %s: expected on or off", val);
	}
	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	r = val ? bgpconf_set_mesh(s, on, &err) : bgpconf_get(s, &c, &err);
	if (r < 0)
		return out_lf_fail(&err, r, "node mesh");
	if (!val)
		on = c.node_mesh;
	if (ctx->output == NETCTL_OUT_TABLE) {
		if (!val)
			printf("%s\n", on ? "on" : "off");
		else
			printf("node-to-node mesh %s %s\n", r == 1 ? "is already" : "turned",
			       on ? "on" : "off");
		return NETCTL_EXIT_OK;
	}
	root = cJSON_CreateObject();
	if (root && (!cJSON_AddBoolToObject(root, "node_mesh", on) ||
		     (val && !cJSON_AddBoolToObject(root, "changed", r == 0)))) {
		cJSON_Delete(root);
		root = NULL;
	}
	return out_json_done(root);
}

/* netctl bgp import [default|all|none] */
int
bgp_cmd_import(struct netctl *ctx, int argc, char **argv)
{
	struct lf_err err = { 0 };
	enum bgpconf_import imp = BGPCONF_IMPORT_UNSET, eff;
	struct bgp_config c;
	struct store *s;
	const char *val;
	cJSON *root;
	int r, ret;

	if (one_value(ctx, argc, argv, &val, &ret) < 0)
		return ret;
	if (val && bgpconf_parse_import(val, false, "bgp import", &imp, &err) < 0)
		return out_usage_error(ctx, "%s", err.msg);
	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	r = val ? bgpconf_set_import(s, imp, &err) : bgpconf_get(s, &c, &err);
	if (r < 0)
		return out_lf_fail(&err, r, "BGP import policy");
	if (val)
		c.import = imp;
	eff = bgpconf_import_resolve(BGPCONF_IMPORT_UNSET, c.import, ctx->conf.bgp_import);
	if (ctx->output == NETCTL_OUT_TABLE) {
		if (val)
			printf("BGP import policy %s %s\n", r == 1 ? "is already" : "set to",
			       bgpconf_import_name(imp));
		else if (c.import != BGPCONF_IMPORT_UNSET)
			printf("%s\n", bgpconf_import_name(c.import));
		else
			printf("%s (not set: leafnetd uses bgp_import from its config file, "
			       "\"%s\" in %s)\n", bgpconf_import_name(eff), ctx->conf.bgp_import,
			       ctx->conf.path[0] ? ctx->conf.path : "the built-in defaults");
		return NETCTL_EXIT_OK;
	}
	root = cJSON_CreateObject();
	if (root && (!cJSON_AddStringToObject(root, "import", bgpconf_import_name(eff)) ||
		     !(c.import != BGPCONF_IMPORT_UNSET
		       ? cJSON_AddStringToObject(root, "stored", bgpconf_import_name(c.import))
		       : cJSON_AddNullToObject(root, "stored")) ||
		     !cJSON_AddStringToObject(root, "config_file", ctx->conf.bgp_import) ||
		     (val && !cJSON_AddBoolToObject(root, "changed", r == 0)))) {
		cJSON_Delete(root);
		root = NULL;
	}
	return out_json_done(root);
}

/* ------------------------------------------------------------ create */

static const struct netctl_operand host_operand = {
	"HOST", "host", bgpconf_node_name_valid,
	"the HOST, e.g. netctl bgp create host1 --router-ip=10.0.0.1/24 --as=65001 "
	"--neighbor=10.0.0.254 --neighbor-as=65000",
};

int
bgp_cmd_create(struct netctl *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "router-ip",   required_argument, NULL, OPT_ROUTER_IP },
		{ "as",          required_argument, NULL, OPT_AS },
		{ "neighbor-as", required_argument, NULL, OPT_NEIGHBOR_AS },
		{ "neighbor",    required_argument, NULL, OPT_NEIGHBOR },
		PEER_OPTS,
		NETCTL_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *rip = NULL, *as = NULL, *nas = NULL, *nb = NULL;
	struct peer_opts po = { .ttl = -1 };
	char p[PREFIX_STRLEN], a[IPADDR_STRLEN];
	struct bgp_create_req req;
	struct lf_err err = { 0 };
	struct store *s;
	cJSON *root;
	int c, r, ret = 0;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long_only(argc, argv, NETCTL_COMMON_SHORT, opts, NULL)) != -1) {
		if (peer_opt(c, &po))
			continue;
		switch (c) {
		case OPT_ROUTER_IP: rip = optarg; break;
		case OPT_AS:        as = optarg; break;
		case OPT_NEIGHBOR_AS: nas = optarg; break;
		case OPT_NEIGHBOR:  nb = optarg; break;
		default:
			if (netctl_opt_common(ctx, c, argv, &ret))
				return ret;
		}
	}
	memset(&req, 0, sizeof(req));
	if ((ret = netctl_one_operand(ctx, argc, argv, &host_operand, &req.node)) != 0)
		return ret;
	if (!rip || !as || !nb || !nas)
		return out_usage_error(ctx, "missing %s; bgp create needs --router-ip, --as, "
				       "--neighbor and --neighbor-as",
				       !rip ? "--router-ip=IP/LEN" : !as ? "--as=N"
				       : !nb ? "--neighbor=IP" : "--neighbor-as=N");
	if (bgpconf_parse_router_ip(rip, "--router-ip", &req.router_ip, &err) < 0 ||
	    bgpconf_parse_peer_addr(nb, "--neighbor", &req.neighbor.addr, &err) < 0)
		return out_usage_error(ctx, "%s", err.msg);
	if (parse_as(ctx, as, "--as", &req.as) || parse_as(ctx, nas, "--neighbor-as",
							    &req.neighbor.as))
		return NETCTL_EXIT_USAGE;
	if (po.password && (!po.password[0] || strlen(po.password) > BGPCONF_PASSWORD_MAX))
		return out_usage_error(ctx, "--password: give 1-%d characters",
				       BGPCONF_PASSWORD_MAX);
	if ((ret = peer_opts_apply(ctx, &po, &req.neighbor, &req.set)) != 0)
		return ret;

	if (netctl_store(ctx, &s, &ret) < 0)
		return ret;
	r = bgpconf_node_create_bgp(s, &req, &err);
	if (r < 0)
		return out_lf_fail(&err, r, "bgp create");
	prefix_fmt(&req.router_ip, p, sizeof(p));
	ipaddr_fmt(&req.neighbor.addr, a, sizeof(a));
	if (ctx->output == NETCTL_OUT_JSON) {
		root = cJSON_CreateObject();
		if (root && (!cJSON_AddStringToObject(root, "node", req.node) ||
			     !cJSON_AddNumberToObject(root, "as", req.as) ||
			     !cJSON_AddStringToObject(root, "router_ip", p) ||
			     !cJSON_AddStringToObject(root, "neighbor", a) ||
			     !cJSON_AddNumberToObject(root, "neighbor_as", req.neighbor.as) ||
			     !cJSON_AddBoolToObject(root, "changed", r == 0))) {
			cJSON_Delete(root);
			root = NULL;
		}
		return out_json_done(root);
	}
	printf("node %s: AS %u, router IP %s, peer %s (AS %u)%s\n", req.node, req.as, p, a,
	       req.neighbor.as, r == 1 ? " (already so)" : "");
	return NETCTL_EXIT_OK;
}
