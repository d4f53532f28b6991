/* usock.h — a listening unix stream socket, the way both daemons need it
 * (leafnetd's control socket, leafnet-docker's plugin socket).
 */
#ifndef LEAFNET_USOCK_H
#define LEAFNET_USOCK_H

#include <sys/types.h>

/* Create every missing parent directory of path (mode 0755: /run/docker
 * may not exist yet when the plugin starts before dockerd), replace a
 * stale socket file (one nobody answers on) but never a live one, bind
 * with the final mode already in force (no window in which the socket has
 * the umask's looser mode), and listen.  flags: SOCK_NONBLOCK and/or
 * SOCK_CLOEXEC for socket(2).  Returns the fd, or -errno: -EADDRINUSE when
 * another process is listening there, -ENAMETOOLONG for a path that does
 * not fit sun_path.  On failure *ret_step names what failed ("mkdir",
 * "bind", ...) for the caller's message (ret_step may be NULL). */
int usock_listen(const char *path, mode_t mode, int backlog, int flags,
		 const char **ret_step);

/* mkdir -p: every component of dir, mode for the new ones.  0 or -errno. */
int usock_mkdir_p(const char *dir, mode_t mode);

#endif
