/* sysctl.h — writes under /proc/sys.
 *
 * /proc/sys/net shows the netns of the process at open() time: these write
 * the current thread's netns.  For another netns, enter it first
 * (netns_enter / netns_leave).
 */
#ifndef LEAFNET_SYSCTL_H
#define LEAFNET_SYSCTL_H

/* Write value to /proc/sys/<key>, key with '/' separators
 * ("net/ipv6/conf/lfn0123/proxy_ndp").  -ENOENT when there is no such key. */
int sysctl_write(const char *key, const char *value);
/* net.<proto>.conf.<ifname>.<name> = value, proto "ipv4" or "ipv6". */
int sysctl_net_if(const char *proto, const char *ifname, const char *name,
		  const char *value);

#endif
