/* usock.c — see usock.h. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "usock.h"

int
usock_mkdir_p(const char *dir, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0)
		return 0;
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int
step(const char **ret_step, const char *what, int r)
{
	if (ret_step != NULL)
		*ret_step = what;
	return r;
}

int
usock_listen(const char *path, mode_t mode, int backlog, int flags, const char **ret_step)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)], *slash;
	size_t n = strlen(path);
	mode_t old;
	int fd, r;

	if (n == 0 || n >= sizeof(sun.sun_path))
		return step(ret_step, "socket path", n == 0 ? -EINVAL : -ENAMETOOLONG);
	memcpy(sun.sun_path, path, n + 1);
	memcpy(dir, path, n + 1);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		r = usock_mkdir_p(dir, 0755);
		if (r < 0)
			return step(ret_step, "creating its directory", r);
	}

	/* a socket file someone still answers on belongs to a live daemon */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return step(ret_step, "socket", -errno);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		(void)close(fd);
		return step(ret_step, "another process listens there", -EADDRINUSE);
	}
	r = errno;
	(void)close(fd);
	if (r == ECONNREFUSED && unlink(path) < 0 && errno != ENOENT)
		return step(ret_step, "removing the stale socket", -errno);

	fd = socket(AF_UNIX, SOCK_STREAM | flags, 0);
	if (fd < 0)
		return step(ret_step, "socket", -errno);
	old = umask(~mode & 0777);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0) {
		r = -errno;
		(void)close(fd);
		return step(ret_step, "bind", r);
	}
	/* umask can only take bits away; chmod gives the exact mode */
	if (chmod(path, mode) < 0 || listen(fd, backlog) < 0) {
		r = -errno;
		(void)close(fd);
		(void)unlink(path);
		return step(ret_step, "chmod/listen", r);
	}
	return fd;
}
