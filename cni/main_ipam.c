/* main_ipam.c — `leafnet-ipam`, leafnet's allocator as a CNI IPAM plugin
 * (for use under ptp, bridge, macvlan ... like host-local). */
#include "cni.h"

static const struct cni_plugin leafnet_ipam_plugin = {
	.name = "leafnet-ipam",
	.ipam_plugin = true,
	.add = cmd_ipam_add,
	.del = cmd_ipam_del,
	.check = cmd_ipam_check,
	.gc = cmd_ipam_gc,
	.status = cmd_ipam_status,
};

int
main(int argc, char **argv)
{
	return cni_main(&leafnet_ipam_plugin, argc, argv);
}
