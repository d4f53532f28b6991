/* store_file_watch.c — store_watch() for the `file` backend: inotify.
 *
 * Every watched dir (made if missing, as a write would make it) and every
 * directory below it gets an inotify watch; a directory that appears later
 * gets one as soon as its creation is seen, and what was put into it
 * before that is reported from a scan.  Writes show up as a rename onto
 * the key (put), a link(2) (create), a close after writing (an in-place
 * put) or an unlink (delete); the writers' temp files (".tmp.*") are never
 * reported.  A full inotify queue (IN_Q_OVERFLOW: the kernel dropped
 * events) ends the watch with -EOVERFLOW, so the caller reads everything
 * again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "dbuf.h"
#include "err.h"
#include "store.h"
#include "store_backend.h"

#define FW_MASK (IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | \
		 IN_DONT_FOLLOW | IN_EXCL_UNLINK)
#define FW_DEPTH_MAX 8
#define FW_TMP_PREFIX ".tmp."

struct fw_dir {
	int wd;
	char *rel;			/* the directory's key */
};

struct fw {
	int rootfd, ifd;
	struct fw_dir *dirs;
	size_t n, cap;
	const struct store_watch *w;
};

static const char *
fw_rel(const struct fw *f, int wd)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->dirs[i].wd == wd)
			return f->dirs[i].rel;
	return NULL;
}

static void
fw_forget(struct fw *f, int wd)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->dirs[i].wd == wd) {
			free(f->dirs[i].rel);
			f->dirs[i] = f->dirs[--f->n];
			return;
		}
}

static void
fw_report(struct fw *f, enum store_ev_type type, const char *key)
{
	if (store_watch_match(f->w, key))
		f->w->cb(&(struct store_event){ .type = type, .key = key }, f->w->arg);
}

/* Watch directory rel and everything below it; with report, every entry
 * found is reported as put (it may have come before the watch). */
static int
fw_add(struct fw *f, const char *rel, bool report, int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int wd, fd;

	if (depth > FW_DEPTH_MAX)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", f->rootfd, rel);
	wd = inotify_add_watch(f->ifd, path, FW_MASK | IN_ONLYDIR);
	if (wd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	if (fw_rel(f, wd) == NULL) {
		char *r = strdup(rel);

		if (r == NULL || GROW(f->dirs, f->cap, f->n + 1) < 0) {
			free(r);
			return -ENOMEM;
		}
		f->dirs[f->n].wd = wd;
		f->dirs[f->n++].rel = r;
	}
	fd = openat(f->rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;		/* gone again: its IN_IGNORED follows */
	if ((dir = fdopendir(fd)) == NULL) {
		(void)close(fd);
		return -errno;
	}
	while ((de = readdir(dir)) != NULL) {
		char sub[PATH_MAX];
		int r;

		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0') ||
		    strncmp(de->d_name, FW_TMP_PREFIX, strlen(FW_TMP_PREFIX)) == 0))
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name) >= (int)sizeof(sub))
			continue;
		if (de->d_type == DT_DIR) {
			if ((r = fw_add(f, sub, report, depth + 1)) < 0) {
				closedir(dir);
				return r;
			}
		} else if (report) {
			fw_report(f, STORE_EV_PUT, sub);
		}
	}
	closedir(dir);
	return 0;
}

/* mkdir -p of a watched dir, so that it can be watched before the first
 * write makes it. */
static void
fw_mkdirs(int rootfd, const char *rel)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", rel);
	for (char *p = buf; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			(void)mkdirat(rootfd, buf, 0755);
			*p = c;
			if (c == '\0')
				break;
		}
	}
}

static int
fw_events(struct fw *f)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(f->ifd, buf, sizeof(buf));

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		for (char *p = buf; p < buf + n; ) {
			const struct inotify_event *ev = (const void *)p;
			char key[PATH_MAX];
			const char *rel;
			int r;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW)
				return -EOVERFLOW;
			if (ev->mask & IN_IGNORED) {
				fw_forget(f, ev->wd);
				continue;
			}
			rel = fw_rel(f, ev->wd);
			if (rel == NULL || ev->len == 0 || ev->name[0] == '\0' ||
			    strncmp(ev->name, FW_TMP_PREFIX, strlen(FW_TMP_PREFIX)) == 0)
				continue;
			if (snprintf(key, sizeof(key), "%s/%s", rel, ev->name) >= (int)sizeof(key))
				continue;
			if (ev->mask & IN_ISDIR) {
				if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
				    (r = fw_add(f, key, true, 1)) < 0)
					return r;
				fw_report(f, ev->mask & (IN_CREATE | IN_MOVED_TO) ?
					  STORE_EV_PUT : STORE_EV_DEL, key);
				continue;
			}
			fw_report(f, ev->mask & (IN_DELETE | IN_MOVED_FROM) ? STORE_EV_DEL :
				  STORE_EV_PUT, key);
		}
	}
}

int
store_file_watch(void *be, const struct store_watch *w, struct lf_err *reterr)
{
	struct fw f = { .rootfd = store_file_rootfd(be), .w = w };
	int r = 0;

	f.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f.ifd < 0) {
		r = -errno;
		lf_err_details(reterr, "inotify: %s (fs.inotify.max_user_instances?)",
			       strerror(errno));
		return r;
	}
	for (size_t i = 0; i < w->n_dirs && r == 0; i++) {
		fw_mkdirs(f.rootfd, w->dirs[i]);
		r = fw_add(&f, w->dirs[i], false, 0);
	}
	if (r < 0) {
		lf_err_details(reterr, "inotify: %s (fs.inotify.max_user_watches?)",
			       strerror(-r));
		goto out;
	}
	w->cb(&(struct store_event){ .type = STORE_EV_READY }, w->arg);
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = w->stop_fd, .events = POLLIN },
			{ .fd = f.ifd, .events = POLLIN },
		};

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (pfd[0].revents)
			break;
		if ((r = fw_events(&f)) < 0) {
			lf_err_details(reterr, "inotify: %s", r == -EOVERFLOW ?
				       "queue overflow: events were lost" : strerror(-r));
			break;
		}
	}
out:
	for (size_t i = 0; i < f.n; i++)
		free(f.dirs[i].rel);
	free(f.dirs);
	(void)close(f.ifd);
	return r;
}
