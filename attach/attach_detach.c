/* attach_detach.c — detach_workload(): the host veth down at once (its
 * routes go with it), the addresses released, leafnetd told, and the veth
 * itself deleted — here, or by the caller off its own clock
 * (DETACH_F_DEFER_DELETE).  This library never forks. */
#include <errno.h>
#include <string.h>

#include "attach.h"
#include "attach_private.h"
#include "ctl.h"
#include "err.h"
#include "ipam.h"
#include "link.h"
#include "log.h"
#include "nl.h"

int
detach_link_delete(int ifindex)
{
	struct nl nl;
	int r;

	if (ifindex <= 0)
		return 0;
	r = nl_open(&nl);
	if (r < 0)
		return r;
	r = link_del(&nl, NULL, ifindex);
	nl_close(&nl);
	return r == -ENODEV ? 0 : r;
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
	 * if the netns still exists — is deleted afterwards, by ifindex (never
	 * by name: a later ADD may have re-created the name).  The netns itself
	 * need not be entered. */
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
	/* Hand the deletion to the caller only when all else went well: an
	 * error return carries no ifindex, so then it happens here. */
	if (li.ifindex > 0 && r == 0 && (req->flags & DETACH_F_DEFER_DELETE)) {
		nl_close(&nl);
		return li.ifindex;
	}
	if (li.ifindex > 0) {
		/* As before the deletion was deferred: the veth is down and
		 * its addresses released, so a failure here leaves only a
		 * dead link that GC (or the next ADD's leftover check)
		 * removes; it does not fail the detach. */
		int rd = link_del(&nl, NULL, li.ifindex);

		if (rd < 0 && rd != -ENODEV)
			log_debug("detach: deleting veth %s: %s", host_ifname, strerror(-rd));
	}
	nl_close(&nl);
	return r < 0 ? r : 0;
}
