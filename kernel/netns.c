/* netns.c — enter and leave network namespaces. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "log.h"
#include "netns.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int
netns_open(const char *path)
{
	struct statfs sfs;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* /proc/PID/ns/net and bind mounts of it live on nsfs (proc on old
	 * kernels); anything else is a plain file someone passed by mistake. */
	if (fstatfs(fd, &sfs) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	if (sfs.f_type != NSFS_MAGIC && sfs.f_type != PROC_SUPER_MAGIC) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int
netns_enter(int nsfd, int *ret_orig)
{
	int orig;

	orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		int r = -errno;
		close(orig);
		return r;
	}
	*ret_orig = orig;
	return 0;
}

int
netns_leave(int orig)
{
	int r = 0;

	if (setns(orig, CLONE_NEWNET) < 0) {
		r = -errno;
		log_debug("netns: cannot return to the original netns: %s", strerror(-r));
	}
	close(orig);
	return r;
}
