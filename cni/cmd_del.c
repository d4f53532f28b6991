/* cmd_del.c — leafnet DEL: idempotent.  A missing netns (or none given),
 * interface, allocation, container or even network is success: the runtime
 * may call DEL any number of times, after a failed ADD, or late. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attach.h"
#include "cni.h"
#include "err.h"
#include "log.h"
#include "store.h"

static void
detach_req_init(const struct cni_cmd *cmd, struct detach_req *req)
{
	memset(req, 0, sizeof(*req));
	snprintf(req->container_id, sizeof(req->container_id), "%s", cmd->env.container_id);
	snprintf(req->netns, sizeof(req->netns), "%s", cmd->env.netns);
	snprintf(req->ifname, sizeof(req->ifname), "%s", cmd->env.ifname);
	snprintf(req->network, sizeof(req->network), "%s", cmd->conf.network);
	req->external_ipam = cmd->conf.ipam_delegate;
	snprintf(req->ctl_socket, sizeof(req->ctl_socket), "%s", cmd->lconf.control_socket);
}

int
cmd_del(struct cni_cmd *cmd, struct lf_err *reterr)
{
	struct lf_err err = { 0 };
	struct detach_req req;
	struct store *s = NULL;
	int r;

	r = cni_store_open(cmd, &s, reterr);
	if (r < 0)
		return r;
	detach_req_init(cmd, &req);
	r = detach_workload(s, &req, &err);
	if (r < 0 && (r == -ENOENT || err.code == LF_E_NOT_FOUND) && !req.external_ipam) {
		/* The network (or its state) is gone: still take the
		 * interfaces down, there is nothing left to release. */
		log_info("DEL %s %s: %s; detaching without releasing",
			 req.container_id, req.ifname, err.msg);
		lf_err_clear(&err);
		req.external_ipam = true;
		r = detach_workload(s, &req, &err);
	}
	if (r < 0 && (r == -ENOENT || err.code == LF_E_NOT_FOUND)) {
		log_debug("DEL %s %s: nothing to do: %s", req.container_id, req.ifname, err.msg);
		r = 0;
	}
	if (r < 0) {
		*reterr = err;
		goto out_store;
	}
	/* The external IPAM releases after the interface is gone, so its
	 * addresses are never in use twice. */
	if (cmd->conf.ipam_delegate)
		r = cni_delegate(cmd, CNI_CMD_DEL, NULL, reterr);
	if (r >= 0)
		log_info("DEL %s %s: done", req.container_id, req.ifname);
out_store:
	store_free(s);
	return r;
}
