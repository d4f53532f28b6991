/* attach_detach.c — detach_workload(): the host veth down at once (its
 * routes go with it), the addresses released, leafnetd told, and the veth
 * itself deleted — here, or by the caller off its own clock
 * (DETACH_F_DEFER_DELETE: then the workload side is first renamed to a
 * tombstone, so the workload's ifname is free when detach returns).
 * attach_tomb_reap() deletes every tombstone left behind.  This library
 * never forks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "attach_private.h"
#include "ctl.h"
#include "dbuf.h"
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
detach_tombs_delete(int ifindex)
{
	struct nl nl;
	int r;

	r = nl_open(&nl);
	if (r < 0)
		return r;
	/* every pair on its way out in one unregistration (many DELs at once
	 * then cost the kernel one set of RCU grace periods, not one each);
	 * then ours by index, should it not be in the group */
	r = link_del_group(&nl, LEAFNET_TOMB_GROUP);
	if (r == 0 || r == -ENODEV || r == -EOPNOTSUPP || r == -EINVAL)
		r = ifindex > 0 ? link_del(&nl, NULL, ifindex) : 0;
	nl_close(&nl);
	return r == -ENODEV ? 0 : r;
}

bool
attach_is_tomb(const struct link_info *li)
{
	return (strncmp(li->ifname, LEAFNET_TOMB_PREFIX, strlen(LEAFNET_TOMB_PREFIX)) == 0 ||
		li->group == LEAFNET_TOMB_GROUP) &&
	       strncmp(li->alias, ATTACH_ALIAS_TAG, strlen(ATTACH_ALIAS_TAG)) == 0;
}

/* Rename ifindex to `name`, down.  Kernels before 6.4 rename no link that
 * is up (-EBUSY): then down first. */
static int
tomb_rename(struct nl *nl, int ifindex, const char *name, const char *alias)
{
	struct link_change ch = { .ifname = name, .down = true, .alias = alias };
	int r;

	r = link_change(nl, ifindex, NULL, &ch);
	if (r != -EBUSY)
		return r;
	ch.ifname = NULL;
	ch.alias = NULL;
	r = link_change(nl, ifindex, NULL, &ch);
	if (r < 0)
		return r;
	ch.ifname = name;
	ch.alias = alias;
	ch.down = false;
	return link_change(nl, ifindex, NULL, &ch);
}

/* The workload side of the pair whose host side is host, through cont (a
 * socket in the peer's netns, or the host's for a Docker-mode peer): only
 * if it is host's peer — a netns path naming some other netns must not
 * rename whatever has that index there.  -ENODEV when it is not there. */
static int
tomb_rename_peer(struct nl *cont, const struct link_info *host, const char *name,
		 const char *alias)
{
	struct link_info li;
	int r;

	r = link_get(cont, NULL, host->peer_ifindex, &li);
	if (r < 0)
		return r;
	if (li.peer_ifindex != host->ifindex || strcmp(li.kind, "veth") != 0)
		return -ENODEV;
	return tomb_rename(cont, li.ifindex, name, alias);
}

/* Free the workload's ifname: rename the workload side of the pair whose
 * host side is li to LEAFNET_TOMB_PREFIX + the host ifindex (unique while
 * the pair lives), down (its routes in the container go with it) and with
 * the owner's alias (a veth killed before its alias was set has none yet:
 * a tombstone is the prefix and the alias tag together, attach_is_tomb()).
 * Then the host side down, under its own name, into LEAFNET_TOMB_GROUP
 * (the deleters delete the group at once): our host routes go at once.
 * Renaming costs the kernel ~0.15 ms (sysfs, the per-device sysctl tables
 * of both families are made again), a down ~0.05 ms; deleting a veth
 * 10-30 ms of RCU teardown.  The host name stays taken until the caller's
 * deleter runs: an ADD of the same container and ifname that comes first
 * renames that (down) side to a tombstone itself (attach.c), and a DEL
 * killed before the host side went down leaves it up under its name, so
 * the retried DEL finds it and renames the peer again (a no-op).  The peer
 * is reached through a socket opened in its netns (IFLA_TARGET_NETNSID on
 * a RTM_NEWLINK would move the link, not address it).  -ENXIO: the peer
 * is alive in a netns we cannot open (none given): the caller deletes the
 * pair instead. */
static int
detach_tombstone(struct nl *nl, const struct link_info *li, const char *netns,
		 const char *alias, struct lf_err *reterr)
{
	struct link_change ch = { .down = true, .alias = alias, .group = LEAFNET_TOMB_GROUP };
	char tomb[IFNAMSIZ];
	struct nl cont;
	int r;

	snprintf(tomb, sizeof(tomb), LEAFNET_TOMB_PREFIX "%x", (unsigned)li->ifindex);
	/* The host side goes down only once the workload side is renamed:
	 * whenever that cannot be done the caller deletes the pair (-ENXIO). */
	if (li->peer_ifindex <= 0)
		return -ENXIO;
	if (li->peer_netnsid < 0) {
		r = tomb_rename_peer(nl, li, tomb, alias);	/* Docker mode: here */
		if (r < 0)
			return -ENXIO;
	} else {
		if (!netns[0])
			return -ENXIO;
		r = nl_open_netns(&cont, netns);
		if (r == -ENOENT || r == -EINVAL)
			return -ENXIO;
		if (r < 0)
			return lf_err_set(reterr, LF_E_KERNEL, r,
					  "opening a netlink socket in %s: %s", netns,
					  strerror(-r));
		r = tomb_rename_peer(&cont, li, tomb, alias);
		if (r < 0 && r != -ENODEV)
			nl_fail(&cont, reterr, r, "container %s: renaming the workload side "
				"of %s to %s", netns, li->ifname, tomb);
		nl_close(&cont);
		if (r == -ENODEV)
			return -ENXIO;	/* not in that netns */
		if (r < 0)
			return r;
	}
	r = link_change(nl, li->ifindex, NULL, &ch);
	if (r < 0 && r != -ENODEV)
		return nl_fail(nl, reterr, r, "taking veth %s down", li->ifname);
	return 0;
}

struct tomb_list {
	int *v;
	size_t n, cap;
};

static int
tomb_cb(const struct link_info *li, void *arg)
{
	struct tomb_list *l = arg;

	if (!attach_is_tomb(li) || strcmp(li->kind, "veth") != 0)
		return 0;
	if (GROW(l->v, l->cap, l->n + 1) < 0)
		return -ENOMEM;
	l->v[l->n++] = li->ifindex;
	return 0;
}

int
attach_tomb_reap(struct nl *nl)
{
	struct tomb_list l = { 0 };
	int r, tries = 0, removed = 0;

	do {
		l.n = 0;
		r = link_dump(nl, tomb_cb, &l);
	} while (r == -EINTR && ++tries < 5);	/* links changed under the dump */
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		int rd = link_del(nl, NULL, l.v[i]);

		if (rd == 0)
			removed++;
		else if (rd != -ENODEV)	/* a concurrent reaper got there first */
			r = rd;
	}
	free(l.v);
	return r < 0 ? r : removed;
}

int
detach_workload(struct store *s, const struct detach_req *req, struct lf_err *reterr)
{
	struct ipaddr held[IPAM_MAX_ADDRS];
	char host_ifname[IFNAMSIZ], alias[LINK_ALIAS_MAX];
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
	if (r == -ENODEV) {
		li.ifindex = 0;		/* already gone: fine */
	} else if (r == 0 && (req->flags & DETACH_F_DEFER_DELETE) &&
		   (req->flags & DETACH_F_NO_TOMBSTONE)) {
		r = link_set_down(&nl, li.ifindex);
	} else if (r == 0 && (req->flags & DETACH_F_DEFER_DELETE)) {
		if (attach_alias(req->network, req->ifname, req->container_id,
				 alias, sizeof(alias)) < 0)
			snprintf(alias, sizeof(alias), "%s", ATTACH_ALIAS_TAG);
		r = detach_tombstone(&nl, &li, req->netns, alias, reterr);
		if (r < 0) {
			/* the names must be free when we return: delete now */
			int rd = link_del(&nl, NULL, li.ifindex);

			if (rd == 0 || rd == -ENODEV) {
				lf_err_clear(reterr);
				li.ifindex = 0;
				r = 0;
			}
		}
		if (r < 0) {
			nl_close(&nl);
			return r;
		}
	} else if (r == 0) {
		r = link_set_down(&nl, li.ifindex);
	}
	if (r < 0 && r != -ENODEV) {
		nl_fail(&nl, reterr, r, "taking veth %s down", host_ifname);
		nl_close(&nl);
		return r;
	}
	r = 0;
	/* the addresses released, for leafnetd's notice (IPv4 routes vanish
	 * with the link without a netlink event of their own) */
	if (!req->external_ipam && req->network[0]) {
		r = ipam_release_ex(s, req->network, req->container_id, req->ifname, held,
				    req->ctl_socket[0] ? IPAM_MAX_ADDRS : 0, &n_held, reterr);
		if (r == -ENOENT) {
			/* the network is gone: nothing can be allocated in it */
			lf_err_clear(reterr);
			r = 0;
		}
		if (r > 0)
			r = 0;		/* the number released */
	}
	for (size_t i = 0; i < n_held; i++) {
		struct prefix p;

		prefix_from_addr(&held[i], &p);
		(void)ctl_notify(req->ctl_socket, "del", &p, NULL, false);
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
