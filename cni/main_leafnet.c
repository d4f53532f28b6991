/* main_leafnet.c — `leafnet`, the CNI plugin: routed veth attachments.
 * Everything happens in run.c (protocol) and cmd_*.c (one file per verb). */
#include "cni.h"

static const struct cni_plugin leafnet_plugin = {
	.name = "leafnet",
	.ipam_plugin = false,
	.add = cmd_add,
	.del = cmd_del,
	.check = cmd_check,
	.gc = cmd_gc,
	.status = cmd_status,
};

int
main(int argc, char **argv)
{
	return cni_main(&leafnet_plugin, argc, argv);
}
