/* netctl — the leafnet command line: one table row per noun + verb. */
#include <stdio.h>
#include <stdlib.h>
#include "log.h"
#include "netctl.h"

const struct netctl_cmd netctl_cmds[] = {
	{ "network", "create", network_cmd_create,
	  "NAME --subnet=CIDR [--subnet=CIDR6] [--gateway=IP]... [--routable|--non-routable]\n"
	  "        [--nat-outgoing] [--block-size=N[,N6]] [--community=A:B]... [--no-aggregate]\n"
	  "        [--encap=routed|vlan]",
	  "create a network (an address pool)", network_create_help },
	{ "network", "update", network_cmd_update,
	  "NAME [--nat-outgoing|--no-nat-outgoing] [--routable|--non-routable]\n"
	  "        [--aggregate|--no-aggregate] [--community=A:B]... [--no-community]",
	  "change a network's NAT, class, aggregation or communities, live",
	  network_update_help },
	{ "network", "ls", network_cmd_ls, "",
	  "list networks with their allocation counts", NULL },
	{ "network", "inspect", network_cmd_inspect, "NAME",
	  "show a network, its per-host blocks and its allocations", NULL },
	{ "network", "rm", network_cmd_rm, "NAME [--force]",
	  "remove a network (refused while it has allocations, unless --force)", network_rm_help },
	{ "ipam", "show", ipam_cmd_show, "[NETWORK]",
	  "pool usage per network, node and block: used, free, percent, borrowed", NULL },
	{ "ipam", "check", ipam_cmd_check, "[NETWORK]",
	  "list damaged records (allocations, owners, networks) and what they hold", NULL },
	{ "ipam", "repair", ipam_cmd_repair, "KEY... | --all",
	  "remove damaged records, freeing what they held", ipam_repair_help },
	{ "bgp", "create", bgp_cmd_create,
	  "HOST --router-ip=IP/LEN --as=N --neighbor-as=N --neighbor=IP [--password=KEY]\n"
	  "        [--ttl-security] [--max-prefix=N[,warning|restart=MIN]]\n"
	  "        [--import=default|all|none|inherit]",
	  "set a node's AS and router IP and peer it with its ToR", bgp_create_help },
	{ "bgp", "default-node-as", bgp_cmd_default_node_as, "[N]",
	  "show or set the AS of nodes without their own (default 64511)", NULL },
	{ "bgp", "node-mesh", bgp_cmd_node_mesh, "[on|off]",
	  "show or set the full node-to-node iBGP mesh (default on)", NULL },
	{ "bgp", "import", bgp_cmd_import, "[default|all|none]",
	  "show or set what leafnetd installs from global and node peers (default all)",
	  bgp_import_help },
	{ "bgp", "peer", bgp_cmd_peer,
	  "add IP as N [--password=KEY] [--ttl-security] [--max-prefix=N[,warning|restart=MIN]]\n"
	  "        [--import=POLICY] | remove IP | show",
	  "manage the global BGP peers (peers of every node)", bgp_peer_help },
	{ "node", "ls", node_cmd_ls, "",
	  "list the nodes: AS, router IPs, node-specific peers", NULL },
	{ "node", "show", node_cmd_show, "NAME",
	  "show one node and its BGP peers", NULL },
	{ "node", "rm", node_cmd_rm, "NAME",
	  "remove a node's record (AS, router IPs, own peers), also a damaged one", NULL },
	{ "node", "set", node_cmd_set, "NAME [--router-ip=IP/LEN]... [--as=N|default]",
	  "set a node's router IP and AS (no peer; for the mesh or a reflector)",
	  node_set_help },
	{ "node", "rr", node_cmd_rr, "NAME on|off [--cluster-id=IP]",
	  "make a node a BGP route reflector for the nodes of its AS (or not)",
	  node_rr_help },
	{ "node", "bgp", node_cmd_bgp,
	  "peer add IP as N [--password=KEY] [--ttl-security] [--max-prefix=N[,...]]\n"
	  "        [--import=POLICY] | peer remove IP | peer show  [--node NAME]",
	  "manage this node's (or --node NAME's) own BGP peers", node_bgp_help },
	{ "trace", NULL, trace_cmd, "ADDR",
	  "explain an address end to end: network, block, owner, veth, route, BGP",
	  trace_help },
	{ "status", NULL, status_cmd, "[--routes]",
	  "is leafnetd running, and the state of its BGP peers", status_help },
	{ "version", NULL, netctl_cmd_version, "",
	  "print the version", NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	struct netctl ctx;
	int first, ret;

	log_init("netctl", LOG_LVL_WARN, NULL);
	netctl_init(&ctx);

	first = netctl_parse_global(&ctx, argc, argv, &ret);
	if (first >= 0)
		ret = netctl_dispatch(&ctx, argc - first, argv + first);

	netctl_done(&ctx);
	return ret;
}
