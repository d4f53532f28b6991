/* netctl — the leafnet command line: networks now; BGP, nodes and status
 * slot into the table below as more nouns. */
#include <stdio.h>
#include <stdlib.h>
#include "log.h"
#include "netctl.h"

const struct netctl_cmd netctl_cmds[] = {
	{ "network", "create", network_cmd_create,
	  "NAME --subnet=CIDR [--subnet=CIDR6] [--gateway=IP]... [--routable|--non-routable]\n"
	  "        [--nat-outgoing] [--block-size=N[,N6]] [--community=A:B]... [--no-aggregate]",
	  "create a network (an address pool)", network_create_help },
	{ "network", "ls", network_cmd_ls, "",
	  "list networks with their allocation counts", NULL },
	{ "network", "inspect", network_cmd_inspect, "NAME",
	  "show a network, its per-host blocks and its allocations", NULL },
	{ "network", "rm", network_cmd_rm, "NAME [--force]",
	  "remove a network (refused while it has allocations, unless --force)", network_rm_help },
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
