/* cmd_del.c — leafnet DEL: idempotent.  A missing netns (or none given),
 * interface, allocation, container or even network is success: the runtime
 * may call DEL any number of times, after a failed ADD, or late. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "cni.h"
#include "err.h"
#include "log.h"
#include "store.h"

/* Delete the detached veth (detach_workload() renamed the workload side to
 * a tombstone and took both sides down: the ifname is free already) from a
 * detached child, so DEL does not wait for the kernel's teardown of a veth
 * (RCU grace periods, 10-30 ms) that no one needs to see finish: its
 * routes are gone and its addresses released.  A veth whose deleter was
 * killed is left to CNI GC (attach_gc reaps every lfx veth with our alias
 * and every lfn veth whose owner is gone): sweeping all links here would
 * cost a node with many pods a full link dump per DEL.  The child has no
 * descriptors of ours — above all not the runtime's stdout pipe, which the
 * runtime reads to EOF — and deletes by ifindex, never by name, so it
 * cannot hit a veth a later ADD re-created under the same name; first it
 * deletes every pair on its way out (LEAFNET_TOMB_GROUP) in one request, so
 * a node's many concurrent DELs cost the kernel one teardown, not one
 * each, and the later deleters find nothing left to do.  One fork,
 * not two: the runtime waits for this process and its pipes, not for its
 * children; once we exit the child is reparented (to init or the nearest
 * subreaper) and reaped there, as a grandchild would be, and the second
 * fork and wait cost DEL ~0.2 ms.  Its own session, so a signal to our
 * process group spares it.  If fork fails the delete happens here.  This
 * binary is single-threaded, so forking is safe; leafnet-docker, which is
 * not, lets detach_workload() delete synchronously. */
static void
delete_link_later(int ifindex)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0) {
		(void)detach_tombs_delete(ifindex);
		return;
	}
	if (pid > 0)
		return;
	(void)setsid();
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
	}
	(void)close_range(3, ~0U, 0);
	(void)detach_tombs_delete(ifindex);
	_exit(0);
}

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
	req->flags = DETACH_F_DEFER_DELETE;
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
	if (r > 0)
		delete_link_later(r);
	r = 0;
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
