/* cmd_gc.c — leafnet GC (CNI 1.1.0): everything of this network on this
 * node that is not in cni.dev/valid-attachments goes — host veths (with
 * their host routes) first, then the allocations. */
#include <stdbool.h>
#include <string.h>

#include "attach.h"
#include "cni.h"
#include "err.h"
#include "ipam.h"
#include "log.h"
#include "store.h"

/* A CNI runtime's valid-attachments list speaks only for what CNI runtimes
 * attached.  A leafnet network may also serve Docker (leafnet-docker): its
 * allocations carry a "docker..." handle (dockerplugin: "docker:<endpoint>",
 * "docker-ipam:<pool>") and its veths a workload side named "lfd..."
 * (DP_SRC_PREFIX), and they are the Docker plugin's to clean up. */
#define GC_DOCKER_HANDLE  "docker"
#define GC_DOCKER_IFNAME LEAFNET_DOCKER_IFPREFIX

static bool
gc_foreign(const char *handle, const char *ifname)
{
	return (handle && strncmp(handle, GC_DOCKER_HANDLE, strlen(GC_DOCKER_HANDLE)) == 0) ||
	       (ifname && strncmp(ifname, GC_DOCKER_IFNAME, strlen(GC_DOCKER_IFNAME)) == 0);
}

bool
cni_gc_keep_record(const struct ipam_record *rec, void *arg)
{
	const struct cni_conf *conf = arg;

	if (strcmp(rec->network, conf->network) != 0)
		return true;		/* another network: not ours to judge */
	if (gc_foreign(rec->owner.handle, rec->owner.ifname))
		return true;
	return cni_attachment_valid(conf, rec->owner.container_id, rec->owner.ifname);
}

static bool
keep_iface(const char *container_id, const char *ifname, void *arg)
{
	if (gc_foreign(NULL, ifname))
		return true;
	return cni_attachment_valid(arg, container_id, ifname);
}

/* A half-made veth (no alias yet) is kept when its name is that of a valid
 * attachment: its ADD may be the one the runtime retries. */
static bool
keep_host(const char *host_ifname, void *arg)
{
	const struct cni_conf *conf = arg;
	char want[IFNAMSIZ];

	for (size_t i = 0; i < conf->n_valid; i++) {
		attach_host_ifname(conf->valid[i].container_id, conf->valid[i].ifname, want);
		if (strcmp(want, host_ifname) == 0)
			return true;
	}
	return false;
}

int
cmd_gc(struct cni_cmd *cmd, struct lf_err *reterr)
{
	struct store *s = NULL;
	int r, n_if, n_addr = 0, n_tmp;

	n_if = attach_gc(cmd->conf.network, keep_iface, keep_host, &cmd->conf, reterr);
	if (n_if < 0)
		return n_if;
	if (cmd->conf.ipam_delegate) {
		/* the IPAM plugin's store is its own to sweep */
		r = cni_delegate_newer(cmd, CNI_CMD_GC, reterr);
		if (r < 0)
			return r;
		n_tmp = 0;
	} else {
		r = cni_store_open(cmd, &s, reterr);
		if (r < 0)
			return r;
		/* what killed plugins left in the store: their writers are gone */
		n_tmp = store_sweep(s, reterr);
		if (n_tmp < 0) {
			r = store_err_set(reterr, LF_E_IO, n_tmp, "removing stale temp files");
			goto out_store;
		}
		n_addr = ipam_gc(s, cni_node(cmd), cni_gc_keep_record, &cmd->conf, reterr);
		if (n_addr < 0) {
			r = n_addr;
			goto out_store;
		}
		cni_log_damaged(s);
	}
	log_info("GC network %s: %d interface(s), %d address(es) released, %d temp file(s) "
		 "removed, %zu attachment(s) kept", cmd->conf.network, n_if, n_addr, n_tmp,
		 cmd->conf.n_valid);
	r = 0;
out_store:
	store_free(s);
	return r;
}
