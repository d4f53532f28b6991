/* sysctl.c — /proc/sys reads and writes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include "sysctl.h"

static int
sysctl_path(const char *key, char *buf, size_t size)
{
	int n;

	if (!key || !*key || key[0] == '/')
		return -EINVAL;
	n = snprintf(buf, size, "/proc/sys/%s", key);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

int
sysctl_write(const char *key, const char *value)
{
	char path[PATH_MAX];
	size_t len = strlen(value);
	ssize_t n;
	int fd, r;

	r = sysctl_path(key, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	r = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int
sysctl_net_if(const char *proto, const char *ifname, const char *name,
	      const char *value)
{
	char key[128];

	/* /proc/sys names the directory exactly as the interface ("eth0.100";
	 * only sysctl(8) spells its dots as slashes) */
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ ||
	    strchr(ifname, '/') || !strcmp(ifname, ".") || !strcmp(ifname, "..") ||
	    strchr(name, '/'))
		return -EINVAL;
	snprintf(key, sizeof(key), "net/%s/conf/%s/%s", proto, ifname, name);
	return sysctl_write(key, value);
}
