/* netns.h — network namespace handles.
 *
 * Code that must act inside another netns does it through a netlink socket
 * opened there (nl_open_netns); code that must switch itself pairs
 * netns_enter() with netns_leave(), which always switches back.
 * setns(2) changes only the calling thread, so threaded callers are safe.
 */
#ifndef LEAFNET_NETNS_H
#define LEAFNET_NETNS_H

/* Open a netns handle (O_RDONLY|O_CLOEXEC) and check that it is one.
 * -ENOENT when the path is gone, -EINVAL when it is not a net namespace. */
int  netns_open(const char *path);
/* Enter nsfd; *ret_orig gets a handle on the netns we came from. */
int  netns_enter(int nsfd, int *ret_orig);
/* Go back to orig and close it.  Returns -errno if that failed, which
 * leaves the thread in the wrong namespace: callers treat it as fatal. */
int  netns_leave(int orig);

#endif
