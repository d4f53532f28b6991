/* attach_detach.c — detach_workload(): the host veth down at once (its
 * routes go with it), the addresses released, leafnetd told, and the veth
 * itself deleted off the caller's clock. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "attach.h"
#include "attach_private.h"
#include "ctl.h"
#include "err.h"
#include "ipam.h"
#include "link.h"
#include "nl.h"

/* Delete the link with ifindex from a detached grandchild, so the caller
 * does not wait for the kernel's teardown of a veth (RCU grace periods,
 * 10-30 ms) that no one needs to see finish: by the time this is called the
 * link is down (its routes are gone) and its addresses are released.  The
 * grandchild has no open descriptors of ours — above all not the runtime's
 * stdout pipe, which the runtime reads to EOF.  It deletes by ifindex, never
 * by name, so it cannot hit a veth a later ADD re-created under the same
 * name.  If fork fails the delete happens here, synchronously. */
static void
detach_link_later(struct nl *nl, int ifindex)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0) {
		(void)link_del(nl, NULL, ifindex);
		return;
	}
	if (pid > 0) {
		(void)waitpid(pid, NULL, 0);
		return;
	}
	/* first child: hand over to a grandchild that init will reap */
	if (fork() != 0)
		_exit(0);
	(void)setsid();
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
	}
	(void)close_range(3, ~0U, 0);
	{
		struct nl own;

		if (nl_open(&own) == 0) {
			(void)link_del(&own, NULL, ifindex);
			nl_close(&own);
		}
	}
	_exit(0);
}

int
detach_workload(struct store *s, const struct detach_req *req, struct lf_err *reterr)
{
	struct ipam_addr held[IPAM_MAX_ADDRS];
	char host_ifname[IFNAMSIZ];
	struct link_info li;
	size_t n_held = 0;
	struct nl nl;
	int r;

	if (!req->container_id[0])
		return lf_err_set_field(reterr, LF_E_INVALID, LF_F_CONTAINER_ID, -EINVAL,
					"container id is empty");
	if (!attach_ifname_valid(req->ifname))
		return lf_err_set_field(reterr, LF_E_INVALID, LF_F_IFNAME, -EINVAL,
					"interface name \"%s\" is not valid", req->ifname);

	/* Taking the host side down removes our host routes through it at once
	 * (v4 and v6), so the workload is unreachable before its addresses are
	 * released; the veth itself — and with it the peer in the container,
	 * if the netns still exists — is deleted afterwards, off the caller's
	 * clock.  The netns itself need not be entered. */
	attach_host_ifname(req->container_id, req->ifname, host_ifname);
	r = nl_open(&nl);
	if (r < 0)
		return lf_err_set(reterr, LF_E_KERNEL, r, "opening a netlink socket: %s",
				  strerror(-r));
	r = link_get(&nl, host_ifname, 0, &li);
	if (r == -ENODEV)
		li.ifindex = 0;		/* already gone: fine */
	else if (r == 0)
		r = link_set_down(&nl, li.ifindex);
	if (r < 0 && r != -ENODEV) {
		nl_fail(&nl, reterr, r, "taking veth %s down", host_ifname);
		nl_close(&nl);
		return r;
	}
	r = 0;
	/* the addresses, for leafnetd's notice (IPv4 routes vanish with the
	 * link without a netlink event of their own) */
	if (req->ctl_socket[0] && !req->external_ipam && req->network[0] &&
	    ipam_lookup(s, req->network, req->container_id, req->ifname, held,
			IPAM_MAX_ADDRS, &n_held) < 0)
		n_held = 0;
	if (!req->external_ipam && req->network[0]) {
		r = ipam_release(s, req->network, req->container_id, req->ifname, reterr);
		if (r == -ENOENT) {
			/* the network is gone: nothing can be allocated in it */
			lf_err_clear(reterr);
			r = 0;
		}
	}
	for (size_t i = 0; i < n_held; i++) {
		struct prefix p;

		prefix_from_addr(&held[i].addr, &p);
		(void)ctl_notify(req->ctl_socket, "del", &p);
	}
	if (li.ifindex > 0)
		detach_link_later(&nl, li.ifindex);
	nl_close(&nl);
	return r < 0 ? r : 0;
}
