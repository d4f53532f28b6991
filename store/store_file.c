/* store_file.c — the datastore, `file` backend (the embedded default).
 *
 * Layout under conf->state_dir (mode 0700):
 *   <key>                      one file per key, the value verbatim
 *   <dir>/.tmp.<pid>.<n>       in-flight writes (never valid key names),
 *                              locked by their writer until renamed;
 *                              store_sweep() removes those of dead writers
 *   locks/<name>.lock          flock(2) targets ("locks/" is reserved)
 *   locks/txn/<dir_>.lock      store_txn()'s locks, one per directory of
 *                              keys; its size is the write generation
 *                              of the keys in that directory (part of
 *                              their version tokens: an inode number
 *                              alone may be reused, and ctime is
 *                              jiffy-coarse)
 *
 * Every path is resolved relative to one directory fd opened at
 * store_open(), so a request costs a handful of syscalls: put is
 * open(dir) + open(tmp) + write + rename (+ two fsyncs), get is
 * open + fstat + read.  Parent directories are made only when the first
 * open says ENOENT.
 *
 * What costs on a real disk file system is not the syscalls but making a
 * file (ext4: ~0.15 ms for the inode, more while many were just freed) and
 * replacing one by rename (ext4's auto_da_alloc writes the new file back at
 * once).  Hence store_create_many (one file, hard-linked under several
 * keys: a link is ~0.01 ms) and STORE_F_INPLACE (an overwrite) for the
 * IPAM's per-ADD writes.
 *
 * Keys arrive checked (store.c).  errno says everything about a failure
 * here, so this backend adds no text to reterr.  Nothing in struct
 * file_store changes after open, and the temp file counter is atomic: any
 * number of threads may share one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "dbuf.h"
#include "store.h"
#include "store_backend.h"

#define STORE_TMP_PREFIX ".tmp."
#define STORE_DIR_MODE   0755
#define STORE_FILE_MODE  0644

struct file_store {
	int  rootfd;
	bool fsync;
};

struct file_lock {
	struct store_lock base;
	int fd;
};

static unsigned store_tmp_seq;

/* mkdir -p of a relative path under rootfd (or an absolute one with
 * rootfd == AT_FDCWD); the last component gets `mode`. */
static int
mkdir_p(int rootfd, const char *path, mode_t mode, bool do_fsync)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		bool last = i == len;

		if (!last && buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdirat(rootfd, buf, last ? mode : STORE_DIR_MODE) == 0) {
			if (do_fsync) {
				/* make the new entry durable in its parent */
				char *slash = strrchr(buf, '/');
				int pfd;

				if (slash == NULL)
					pfd = openat(rootfd, ".", O_RDONLY |
						     O_DIRECTORY | O_CLOEXEC);
				else if (slash == buf)
					pfd = open("/", O_RDONLY | O_DIRECTORY |
						   O_CLOEXEC);
				else {
					*slash = '\0';
					pfd = openat(rootfd, buf, O_RDONLY |
						     O_DIRECTORY | O_CLOEXEC);
					*slash = '/';
				}
				if (pfd >= 0) {
					(void)fsync(pfd);
					(void)close(pfd);
				}
			}
		} else if (errno != EEXIST) {
			return -errno;
		}
		if (!last)
			buf[i] = '/';
	}
	return 0;
}

static int
file_open(const struct leafnet_conf *conf, void **ret_be, struct lf_err *reterr)
{
	struct file_store *s;
	int fd, r;

	(void)reterr;
	if (conf->state_dir[0] != '/')
		return -EINVAL;
	fd = open(conf->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		r = mkdir_p(AT_FDCWD, conf->state_dir, 0700, conf->fsync);
		if (r < 0)
			return r;
		fd = open(conf->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		(void)close(fd);
		return -ENOMEM;
	}
	s->rootfd = fd;
	s->fsync = conf->fsync;
	*ret_be = s;
	return 0;
}

static void
file_free(void *be)
{
	struct file_store *s = be;

	if (s == NULL)
		return;
	(void)close(s->rootfd);
	free(s);
}

/* Open the directory holding `key` (creating it if asked); *ret_leaf
 * points into key.  The caller closes *ret_fd. */
static int
open_parent(struct file_store *s, const char *key, bool create, int *ret_fd,
	    const char **ret_leaf)
{
	char dir[STORE_KEY_MAX + 1];
	const char *slash = strrchr(key, '/');
	size_t n;
	int fd, r;

	if (slash == NULL) {
		fd = openat(s->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		*ret_fd = fd;
		*ret_leaf = key;
		return 0;
	}
	n = (size_t)(slash - key);
	memcpy(dir, key, n);
	dir[n] = '\0';
	fd = openat(s->rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		r = mkdir_p(s->rootfd, dir, STORE_DIR_MODE, s->fsync);
		if (r < 0)
			return r;
		fd = openat(s->rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	*ret_leaf = slash + 1;
	return 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Take the temp file's lock: an open file description lock (F_OFD_SETLK),
 * held from just after the file is made until its name is gone, and let go
 * by the kernel when its writer dies however it dies.  file_sweep() removes
 * only temp files whose lock it can take.  -EAGAIN: a sweeper looked at
 * this name between our open and this lock — it will remove the file, we
 * take another name. */
static int
tmp_lock(int fd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return errno == EACCES ? -EAGAIN : -errno;
}

/* Is dirfd/name (still) the file open as fd? */
static bool
same_file(int fd, int dirfd, const char *name)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* Write val to a fresh temp file in dirfd; its name goes to tmp and its fd,
 * locked (tmp_lock()), to *ret_fd: the caller closes it once the temp name
 * is gone (renamed or unlinked). */
static int
write_tmp(bool sync, int dirfd, const char *val, char *tmp, size_t size, int *ret_fd)
{
	int fd = -1, r;

	for (int tries = 0; fd < 0; tries++) {
		unsigned seq = __atomic_fetch_add(&store_tmp_seq, 1,
						  __ATOMIC_RELAXED);

		snprintf(tmp, size, STORE_TMP_PREFIX "%ld.%u", (long)getpid(),
			 seq);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			    STORE_FILE_MODE);
		/* EEXIST: a leftover of a crashed process that had our pid */
		if (fd < 0 && (errno != EEXIST || tries > 100))
			return -errno;
		if (fd < 0)
			continue;
		r = tmp_lock(fd, F_WRLCK);
		/* a sweeper that looked before our lock may have unlinked the
		 * name already: once we hold the lock, no sweeper can */
		if (r == 0 && !same_file(fd, dirfd, tmp))
			r = -EAGAIN;
		if (r < 0) {
			(void)close(fd);
			fd = -1;
			if (r != -EAGAIN || tries > 100)
				return r;
		}
	}
	r = write_all(fd, val, strlen(val));
	if (r == 0 && sync && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlinkat(dirfd, tmp, 0);
		(void)close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* fsync the directory holding key (making a new entry in it durable). */
static int
sync_parent(struct file_store *s, const char *key)
{
	const char *leaf;
	int dirfd, r = 0;

	if ((r = open_parent(s, key, false, &dirfd, &leaf)) < 0)
		return r;
	if (fsync(dirfd) < 0)
		r = -errno;
	(void)close(dirfd);
	return r;
}

/* STORE_F_INPLACE: open (creating if needed), pwrite at 0, cut what is left
 * of a longer old value.  One open/pwrite/close on the same file: no inode
 * is created, none is freed, and no rename forces writeback. */
/* fstat an opened record: a regular file, else -EISDIR (a directory
 * where a record belongs: damaged) or -EINVAL. */
static int
stat_regular(int fd, struct stat *ret)
{
	if (fstat(fd, ret) < 0)
		return -errno;
	if (!S_ISREG(ret->st_mode))
		return S_ISDIR(ret->st_mode) ? -EISDIR : -EINVAL;
	return 0;
}

static int
put_inplace(struct file_store *s, const char *key, const char *val, bool sync)
{
	size_t len = strlen(val), off = 0;
	struct stat st;
	const char *leaf;
	int fd, dirfd, r = 0;

	fd = openat(s->rootfd, key, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		    STORE_FILE_MODE);
	if (fd < 0 && errno == ENOENT) {
		if ((r = open_parent(s, key, true, &dirfd, &leaf)) < 0)
			return r;
		fd = openat(dirfd, leaf, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			    STORE_FILE_MODE);
		(void)close(dirfd);
	}
	if (fd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	if ((r = stat_regular(fd, &st)) < 0)
		goto out_close;
	while (off < len) {
		ssize_t n = pwrite(fd, val + off, len - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out_close;
		}
		off += (size_t)n;
	}
	if ((size_t)st.st_size > len && ftruncate(fd, (off_t)len) < 0)
		r = -errno;
	if (r == 0 && sync && fsync(fd) < 0)
		r = -errno;
out_close:
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && sync)
		r = sync_parent(s, key);
	return r;
}

static int
file_put(void *be, const char *key, const char *val, unsigned flags, struct lf_err *reterr)
{
	struct file_store *s = be;
	bool sync = s->fsync && !(flags & STORE_F_VOLATILE);
	char tmp[64];
	const char *leaf;
	int dirfd, fd, r;

	(void)reterr;
	if (flags & STORE_F_INPLACE)
		return put_inplace(s, key, val, sync);
	if ((r = open_parent(s, key, true, &dirfd, &leaf)) < 0)
		return r;
	r = write_tmp(sync, dirfd, val, tmp, sizeof(tmp), &fd);
	if (r < 0)
		goto out_close_dir;
	if (renameat(dirfd, tmp, dirfd, leaf) < 0) {
		r = -errno;
		(void)unlinkat(dirfd, tmp, 0);
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && sync && fsync(dirfd) < 0)
		r = -errno;
out_close_dir:
	(void)close(dirfd);
	return r;
}

/* Link the file `tmp` in dirfd under key (relative to the root), making
 * the key's directory when it is missing. */
static int
link_key(struct file_store *s, int dirfd, const char *tmp, const char *key)
{
	const char *slash;
	char dir[STORE_KEY_MAX + 1];
	int r;

	if (linkat(dirfd, tmp, s->rootfd, key, 0) == 0)
		return 0;
	if (errno != ENOENT || (slash = strrchr(key, '/')) == NULL)
		return -errno;
	memcpy(dir, key, (size_t)(slash - key));
	dir[slash - key] = '\0';
	if ((r = mkdir_p(s->rootfd, dir, STORE_DIR_MODE, s->fsync)) < 0)
		return r;
	return linkat(dirfd, tmp, s->rootfd, key, 0) == 0 ? 0 : -errno;
}

/* The file is written once, next to the first key, then linked under each
 * key: link(2) never replaces, so exactly one creator of a key wins, and no
 * key ever shows a partly written value. */
static int
file_create_many(void *be, const char *const *keys, size_t n, const char *val,
		 unsigned flags, size_t *ret_existing, struct lf_err *reterr)
{
	struct file_store *s = be;
	bool sync = s->fsync && !(flags & STORE_F_VOLATILE);
	char tmp[64];
	const char *leaf;
	size_t done = 0;
	int dirfd, fd, r;

	(void)reterr;
	if ((r = open_parent(s, keys[0], true, &dirfd, &leaf)) < 0)
		return r;
	r = write_tmp(sync, dirfd, val, tmp, sizeof(tmp), &fd);
	if (r < 0)
		goto out_close_dir;
	if (n == 1) {		/* the common case: no path walk from the root */
		if (linkat(dirfd, tmp, dirfd, leaf, 0) < 0)
			r = -errno;
		else
			done = 1;
	} else {
		for (; done < n; done++)
			if ((r = link_key(s, dirfd, tmp, keys[done])) < 0)
				break;
	}
	(void)unlinkat(dirfd, tmp, 0);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && sync && n == 1 && fsync(dirfd) < 0)
		r = -errno;
	for (size_t i = 0; r == 0 && sync && n > 1 && i < n; i++)
		r = sync_parent(s, keys[i]);
	if (r < 0) {
		for (size_t i = 0; i < done; i++)
			(void)unlinkat(s->rootfd, keys[i], 0);
		if (r == -EEXIST && ret_existing != NULL)
			*ret_existing = done;
	}
out_close_dir:
	(void)close(dirfd);
	return r;
}

static int
file_get(void *be, const char *key, char **ret_val, struct lf_err *reterr)
{
	struct file_store *s = be;
	struct dbuf b = DBUF_INIT;
	struct stat st;
	long n;
	int fd, r;

	(void)reterr;
	fd = openat(s->rootfd, key, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	if ((r = stat_regular(fd, &st)) < 0)
		goto out_close;
	/* room for what fstat said and a little growth: one read, one EOF */
	if ((r = dbuf_reserve(&b, (size_t)st.st_size + 4096)) < 0)
		goto out_close;
	n = dbuf_read_fd(&b, fd, SIZE_MAX);
	if (n < 0) {
		r = (int)n;
		goto out_free;
	}
	if ((*ret_val = dbuf_steal(&b)) == NULL)
		r = -ENOMEM;
out_free:
	dbuf_free(&b);
out_close:
	(void)close(fd);
	return r;
}

static int
file_del(void *be, const char *key, unsigned flags, struct lf_err *reterr)
{
	struct file_store *s = be;
	const char *leaf;
	int dirfd, r;

	(void)reterr;
	if (!s->fsync || (flags & STORE_F_VOLATILE)) {
		if (unlinkat(s->rootfd, key, 0) == 0)
			return 0;
		/* a damaged key: an (empty) directory where a value belongs */
		if (errno == EISDIR && unlinkat(s->rootfd, key, AT_REMOVEDIR) == 0)
			return 0;
		return errno == ENOTDIR ? -ENOENT : -errno;
	}
	r = open_parent(s, key, false, &dirfd, &leaf);
	if (r < 0)
		return r == -ENOTDIR ? -ENOENT : r;
	if (unlinkat(dirfd, leaf, 0) < 0 &&
	    (errno != EISDIR || unlinkat(dirfd, leaf, AT_REMOVEDIR) < 0))
		r = errno == ENOTDIR ? -ENOENT : -errno;
	else if (fsync(dirfd) < 0)
		r = -errno;
	(void)close(dirfd);
	return r;
}

/* One inode under both keys: the links store_create_many made. */
static int
file_same(void *be, const char *a, const char *b, struct lf_err *reterr)
{
	struct file_store *s = be;
	struct stat sa, sb;

	(void)reterr;
	if (fstatat(s->rootfd, a, &sa, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fstatat(s->rootfd, b, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return S_ISREG(sa.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int
file_list(void *be, const char *dir, bool want_dirs, char ***ret_names, size_t *ret_n,
	  struct lf_err *reterr)
{
	struct file_store *s = be;
	bool root = dir[0] == '\0';
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	(void)reterr;
	fd = openat(s->rootfd, root ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		*ret_names = NULL;	/* a missing dir is an empty list */
		*ret_n = 0;
		return 0;
	}
	d = fdopendir(fd);
	if (d == NULL) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		bool is_dir;

		/* skips ".", "..", temp files and anything not a key */
		if (nm[0] == '.' || store_key_check(nm) < 0)
			continue;
		if (root && strcmp(nm, STORE_LOCK_DIR) == 0)
			continue;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;	/* deleted meanwhile */
			is_dir = S_ISDIR(st.st_mode);
			if (!is_dir && !S_ISREG(st.st_mode))
				continue;
		} else if (de->d_type == DT_DIR) {
			is_dir = true;
		} else if (de->d_type == DT_REG) {
			is_dir = false;
		} else {
			continue;
		}
		if (is_dir != want_dirs)
			continue;
		if (GROW(names, cap, n + 1) < 0) {
			r = -ENOMEM;
			goto out_free;
		}
		if ((names[n] = strdup(nm)) == NULL) {
			r = -ENOMEM;
			goto out_free;
		}
		n++;
	}
	if (errno != 0) {
		r = -errno;
		goto out_free;
	}
	(void)closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), store_name_cmp);
	*ret_names = names;
	*ret_n = n;
	return 0;
out_free:
	store_names_free(names, n);
	(void)closedir(d);
	return r;
}

static int
file_lock(void *be, const char *name, struct store_lock **ret, struct lf_err *reterr)
{
	struct file_store *s = be;
	char path[STORE_KEY_MAX + sizeof(STORE_LOCK_DIR "/.lock")];
	struct file_lock *l;
	int fd, r;

	(void)reterr;
	snprintf(path, sizeof(path), STORE_LOCK_DIR "/%s.lock", name);
	for (char *p = path + strlen(STORE_LOCK_DIR) + 1; *p; p++)
		if (*p == '/')
			*p = '_';
	if (strlen(path) - strlen(STORE_LOCK_DIR) - 1 > NAME_MAX)
		return -ENAMETOOLONG;

	fd = openat(s->rootfd, path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT) {
		r = mkdir_p(s->rootfd, STORE_LOCK_DIR, 0700, s->fsync);
		if (r < 0)
			return r;
		fd = openat(s->rootfd, path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			r = -errno;
			(void)close(fd);
			return r;
		}
	}
	if ((l = malloc(sizeof(*l))) == NULL) {
		(void)close(fd);	/* closing drops the lock */
		return -ENOMEM;
	}
	l->base.ops = &store_file_ops;
	l->fd = fd;
	*ret = &l->base;
	return 0;
}

static void
file_unlock(struct store_lock *base)
{
	struct file_lock *l = (struct file_lock *)base;

	/* Explicit unlock: a forked child may still hold a copy of the fd. */
	(void)flock(l->fd, LOCK_UN);
	(void)close(l->fd);
	free(l);
}

/* ---- temp files a killed writer left ---- */

#define SWEEP_DEPTH_MAX 8	/* keys are a few levels deep (store.h) */

/* Remove dirfd/name if it is a temp file no writer holds: its lock
 * (tmp_lock()) can be taken, and the name still is the file we locked (a
 * writer that just finished renamed or unlinked it).  The unlink happens
 * only while we hold the lock; a writer checks its name once it holds its
 * own (write_tmp()), so it never writes to a file we unlinked.  1 removed,
 * 0 not. */
static int
sweep_tmp(int dirfd, const char *name)
{
	int fd, r = 0;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (tmp_lock(fd, F_RDLCK) < 0)
		goto out_close;		/* its writer is alive */
	if (!same_file(fd, dirfd, name))
		goto out_close;		/* renamed or unlinked by its writer */
	if (unlinkat(dirfd, name, 0) == 0)
		r = 1;
	else if (errno != ENOENT)
		r = -errno;
out_close:
	(void)close(fd);
	return r;
}

static int
sweep_dir(int dirfd, int depth, bool root)
{
	struct dirent *de;
	int fd, r = 0, removed = 0;
	DIR *d;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	while (r >= 0 && (errno = 0, de = readdir(d)) != NULL) {
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strncmp(de->d_name, STORE_TMP_PREFIX, strlen(STORE_TMP_PREFIX)) == 0) {
			r = sweep_tmp(fd, de->d_name);
			if (r > 0)
				removed += r;
			continue;
		}
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if ((root && !strcmp(de->d_name, STORE_LOCK_DIR)) || depth >= SWEEP_DEPTH_MAX)
			continue;
		sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			if (errno != ENOTDIR && errno != ENOENT)
				r = -errno;
			continue;
		}
		r = sweep_dir(sub, depth + 1, false);
		(void)close(sub);
		if (r > 0) {
			removed += r;
			r = 0;
		}
	}
	if (r >= 0 && errno != 0)
		r = -errno;
	(void)closedir(d);
	return r < 0 ? r : removed;
}

/* Every temp file under the root whose writer is gone: removed.  Judged by
 * the writer's lock, not by age or pid: a pid says nothing across pid
 * namespaces (the runtime's plugins and this GC need not share one) or
 * after reuse, and any age is either too short for a writer stuck in fsync
 * on a sick disk or leaves the garbage for that long. */
static int
file_sweep(void *be, struct lf_err *reterr)
{
	struct file_store *s = be;

	(void)reterr;
	return sweep_dir(s->rootfd, 0, true);
}

/* ---- get_many, txn ------------------------------------------------------- */

#define TXN_LOCK_DIR STORE_LOCK_DIR "/txn"

/* "locks/txn/<the key's directory, '/' as '_'>.lock" ("_.lock" for a key
 * at the top).  One lock and one write generation per directory, not per
 * key: the keys the IPAM writes per workload (alloc/<net>/<addr>,
 * owners/<net>/<id>) are unbounded, and a lock file per key cost a file
 * creation (the dearest thing here, ~0.1 ms) on the first txn of each key
 * — every DEL — and left one file behind per container ever deleted.  A
 * directory's keys share a generation, so a write of one changes the
 * version token of its siblings: a txn comparing a sibling read before
 * fails (-EAGAIN) and its caller reads again.  That costs a retry at worst,
 * and only when two writers of one directory interleave, which the IPAM's
 * host-local lock keeps rare (only GC and admin commands write beside it).
 * Two directories may map to one name ("a_b", "a/b"): they then share a
 * lock and a generation, the same spurious conflict at worst. */
static int
txn_lock_path(char *buf, size_t size, const char *key)
{
	size_t off = strlen(TXN_LOCK_DIR) + 1;
	const char *slash = strrchr(key, '/');
	int dlen = slash ? (int)(slash - key) : 1;

	if (dlen > NAME_MAX - 5 ||
	    snprintf(buf, size, TXN_LOCK_DIR "/%.*s.lock", dlen, slash ? key : "_") >= (int)size)
		return -ENAMETOOLONG;
	for (char *p = buf + off; *p; p++)
		if (*p == '/')
			*p = '_';
	return 0;
}

/* A directory's write generation is its txn lock file's size: a bump is
 * one ftruncate() one byte longer (a sparse file, no data block ever
 * written), and reading it without the lock is one fstatat() of the
 * path, where a number written into the file cost an open, a read and a
 * close per key read (get_many reads the version of every key).  Sizes
 * only grow; ext4 allows 2^44 bytes: one bump a microsecond for six
 * months of writes of one directory. */
static unsigned long long
gen_read(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 ? (unsigned long long)st.st_size : 0;
}

static unsigned long long
gen_read_path(struct file_store *s, const char *lpath)
{
	struct stat st;

	return fstatat(s->rootfd, lpath, &st, 0) == 0 ? (unsigned long long)st.st_size : 0;
}

static void
gen_bump(int fd)
{
	if (fd < 0)		/* no lock taken (a key made by link(2)) */
		return;
	(void)!ftruncate(fd, (off_t)gen_read(fd) + 1);
}

/* Value and version of kv->key; lfd is its txn lock (open) or -1. */
static int
read_kv(struct file_store *s, struct store_kv *kv, int lfd)
{
	char lpath[NAME_MAX + 32];
	struct stat st;
	unsigned long long gen = 0;
	int fd, r;

	kv->val = NULL;
	kv->ver[0] = '\0';
	fd = openat(s->rootfd, kv->key, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	if ((r = stat_regular(fd, &st)) < 0) {
		(void)close(fd);
		if (r != -EISDIR)
			return r;
		snprintf(kv->ver, sizeof(kv->ver), "dir");	/* damaged: not absent */
		return 0;
	}
	{
		struct dbuf b = DBUF_INIT;
		long n;

		if ((r = dbuf_reserve(&b, (size_t)st.st_size + 4096)) == 0 &&
		    (n = dbuf_read_fd(&b, fd, SIZE_MAX)) < 0)
			r = (int)n;
		if (r == 0 && (kv->val = dbuf_steal(&b)) == NULL)
			r = -ENOMEM;
		dbuf_free(&b);
	}
	(void)close(fd);
	if (r < 0)
		return r;
	if (lfd >= 0)
		gen = gen_read(lfd);
	else if (txn_lock_path(lpath, sizeof(lpath), kv->key) == 0)
		gen = gen_read_path(s, lpath);
	snprintf(kv->ver, sizeof(kv->ver), "%llx.%llx.%lx.%llu",
		 (unsigned long long)st.st_ino, (unsigned long long)st.st_ctim.tv_sec,
		 (long)st.st_ctim.tv_nsec, gen);
	return 0;
}

/* Only the version of key, as read_kv() would say it, into ver: what a
 * txn compares, without opening and reading the value (one fstatat). */
static int
read_ver(struct file_store *s, const char *key, int lfd, char *ver, size_t size)
{
	struct stat st;

	ver[0] = '\0';
	if (fstatat(s->rootfd, key, &st, 0) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		snprintf(ver, size, "dir");	/* damaged: not absent */
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	snprintf(ver, size, "%llx.%llx.%lx.%llu",
		 (unsigned long long)st.st_ino, (unsigned long long)st.st_ctim.tv_sec,
		 (long)st.st_ctim.tv_nsec, gen_read(lfd));
	return 0;
}

static int
file_get_many(void *be, struct store_kv *kvs, size_t n, struct lf_err *reterr)
{
	struct file_store *s = be;
	int r = 0;

	(void)reterr;
	for (size_t i = 0; i < n && r == 0; i++)
		r = read_kv(s, &kvs[i], -1);
	return r;
}

struct txn_lock {
	char path[NAME_MAX + 32];
	int fd;
	bool ex;		/* a key of it is written: LOCK_EX, else LOCK_SH */
};

static int
txn_lock_cmp(const void *a, const void *b)
{
	return strcmp(((const struct txn_lock *)a)->path, ((const struct txn_lock *)b)->path);
}

/* The lock fd of key among the n taken. */
static int
txn_lock_fd(const struct txn_lock *l, size_t n, const char *key)
{
	struct txn_lock k;

	if (txn_lock_path(k.path, sizeof(k.path), key) < 0)
		return -1;
	const struct txn_lock *x = bsearch(&k, l, n, sizeof(*l), txn_lock_cmp);
	return x ? x->fd : -1;
}

static int
txn_lock_take(struct file_store *s, struct txn_lock *l)
{
	int r;

	l->fd = openat(s->rootfd, l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (l->fd < 0 && errno == ENOENT) {
		if ((r = mkdir_p(s->rootfd, TXN_LOCK_DIR, 0700, s->fsync)) < 0)
			return r;
		l->fd = openat(s->rootfd, l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	if (l->fd < 0)
		return -errno;
	while (flock(l->fd, l->ex ? LOCK_EX : LOCK_SH) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static bool
cmp_absent(const struct store_cmp *cmp, size_t n_cmp, const char *key)
{
	for (size_t i = 0; i < n_cmp; i++)
		if (strcmp(cmp[i].key, key) == 0)
			return cmp[i].ver == NULL || cmp[i].ver[0] == '\0';
	return false;
}

/* Is key put (not deleted) by one of ops, and by no delete? */
static bool
put_of(const struct store_op *ops, size_t n_ops, const char *key)
{
	bool put = false;

	for (size_t i = 0; i < n_ops; i++)
		if (strcmp(ops[i].key, key) == 0) {
			if (ops[i].val == NULL)
				return false;
			put = true;
		}
	return put;
}

struct txn_tmp {
	const char *val;
	int dirfd, fd;
	char name[64];
};

/* The puts expected absent, exclusively (link(2)); one temp file per
 * distinct val.  -EEXIST: one exists after all (a writer that takes no
 * txn lock); the ones made here are removed again. */
static int
txn_creates(struct file_store *s, const struct store_cmp *cmp, size_t n_cmp,
	    const struct store_op *ops, size_t n_ops, bool sync, bool *created)
{
	struct txn_tmp tmps[STORE_TXN_MAX];
	size_t n_tmps = 0;
	int r = 0;

	for (size_t i = 0; i < n_ops && r == 0; i++) {
		struct txn_tmp *t = NULL;
		const char *leaf;

		created[i] = false;
		if (ops[i].val == NULL || !cmp_absent(cmp, n_cmp, ops[i].key))
			continue;
		for (size_t k = 0; k < n_tmps && !t; k++)
			if (tmps[k].val == ops[i].val)
				t = &tmps[k];
		if (t == NULL) {
			t = &tmps[n_tmps];
			t->val = ops[i].val;
			if ((r = open_parent(s, ops[i].key, true, &t->dirfd, &leaf)) < 0)
				break;
			if ((r = write_tmp(sync, t->dirfd, t->val, t->name, sizeof(t->name),
					   &t->fd)) < 0) {
				(void)close(t->dirfd);
				break;
			}
			n_tmps++;
		}
		if ((r = link_key(s, t->dirfd, t->name, ops[i].key)) == 0)
			created[i] = true;
	}
	for (size_t k = 0; k < n_tmps; k++) {
		(void)unlinkat(tmps[k].dirfd, tmps[k].name, 0);
		(void)close(tmps[k].fd);
		(void)close(tmps[k].dirfd);
	}
	for (size_t i = 0; r == 0 && sync && i < n_ops; i++)
		if (created[i])
			r = sync_parent(s, ops[i].key);
	if (r < 0)
		for (size_t i = 0; i < n_ops; i++)
			if (created[i])
				(void)unlinkat(s->rootfd, ops[i].key, 0);
	return r;
}

static int
file_txn(void *be, const struct store_cmp *cmp, size_t n_cmp, const struct store_op *ops,
	 size_t n_ops, unsigned flags, struct store_kv *cur, struct lf_err *reterr)
{
	struct file_store *s = be;
	struct txn_lock locks[2 * STORE_TXN_MAX];
	bool created[STORE_TXN_MAX] = { false }, ok = true;
	size_t n_locks = 0, k;
	int r = 0;

	/* Why these locks stay when the caller holds a host-local lock (the
	 * IPAM's "ipam-local-<net>", and this store is host-local too): that
	 * lock serialises only the ADDs and DELs of one network, while
	 * netctl (network update and delete, ipam repair and purge), leafnetd's
	 * GC and the docker plugin's ReleaseAddress write the same networks,
	 * blocks and allocations without it.  Without the txn lock a network
	 * delete could land between an ADD's compare and its link and leave an
	 * allocation in a deleted network.  What was dear is gone instead:
	 * the locks are per directory (bounded, never created per key) and
	 * shared where only compared.
	 *
	 * every key's directory's lock, deduplicated, in sorted order, a key
	 * expected absent and put included: link(2) alone makes its compare
	 * and write one step, but not the txn's — without the lock two txns
	 * that each compare absent a key the other creates both commit (write
	 * skew: a split's nested block claimed over an address its block's
	 * owner allocated at the same time, tests/unit/test_ipam_split.c
	 * test_owner_vs_splits).  The lock is the directory's, taken
	 * exclusive: one lock file per directory, never one per key. */
	for (size_t i = 0; i < n_cmp + n_ops; i++) {
		const char *key = i < n_cmp ? cmp[i].key : ops[i - n_cmp].key;

		if ((r = txn_lock_path(locks[n_locks].path, sizeof(locks[0].path), key)) < 0)
			return r;
		locks[n_locks].ex = i >= n_cmp;
		locks[n_locks++].fd = -1;
	}
	/* a directory only compared is locked shared: writers of it (LOCK_EX)
	 * are kept out all the same, and txns that only compare it — the
	 * ADDs of every network and node, comparing "networks/<net>" and
	 * their block — do not wait for each other */
	qsort(locks, n_locks, sizeof(locks[0]), txn_lock_cmp);
	for (size_t i = k = 0; i < n_locks; i++)
		if (k == 0 || strcmp(locks[k - 1].path, locks[i].path) != 0)
			locks[k++] = locks[i];
		else
			locks[k - 1].ex |= locks[i].ex;
	n_locks = k;
	for (k = 0; k < n_locks && r == 0; k++)
		r = txn_lock_take(s, &locks[k]);
	if (r < 0)
		goto out_unlock;

	/* compare by stat (the value is not needed); a key expected absent
	 * and put is compared by its link(2) in txn_creates() instead */
	for (size_t i = 0; i < n_cmp && r == 0 && ok; i++) {
		char ver[STORE_VER_MAX];

		if (cmp_absent(cmp, n_cmp, cmp[i].key) && put_of(ops, n_ops, cmp[i].key))
			continue;
		r = read_ver(s, cmp[i].key, txn_lock_fd(locks, n_locks, cmp[i].key), ver,
			     sizeof(ver));
		ok = r == 0 && strcmp(ver, cmp[i].ver ? cmp[i].ver : "") == 0;
	}
	if (r == 0 && ok) {
		bool sync = s->fsync && !(flags & STORE_F_VOLATILE);

		r = txn_creates(s, cmp, n_cmp, ops, n_ops, sync, created);
		if (r == -EEXIST)
			ok = false, r = 0;
		/* then the replacing puts, then the deletes */
		for (size_t i = 0; r == 0 && ok && i < n_ops; i++)
			if (ops[i].val != NULL && !created[i])
				r = file_put(s, ops[i].key, ops[i].val, flags & ~STORE_F_INPLACE,
					     reterr);
		for (size_t i = 0; r == 0 && ok && i < n_ops; i++)
			if (ops[i].val == NULL) {
				r = file_del(s, ops[i].key, flags, reterr);
				if (r == -ENOENT)
					r = 0;
			}
		/* a replace or delete changes the generation; a create by
		 * link(2) needs not (its key was absent: no token to reuse; its
		 * directory's lock is held all the same, see above) */
		for (size_t i = 0; ok && i < n_ops; i++)
			if (!created[i])
				gen_bump(txn_lock_fd(locks, n_locks, ops[i].key));
	}
	if (r == 0 && !ok) {
		r = -EAGAIN;
		for (size_t i = 0; cur != NULL && i < n_cmp; i++) {
			int x;

			cur[i].key = cmp[i].key;
			x = read_kv(s, &cur[i], txn_lock_fd(locks, n_locks, cmp[i].key));

			if (x < 0)
				r = x;
		}
	}
out_unlock:
	for (size_t i = 0; i < n_locks; i++)
		if (locks[i].fd >= 0) {
			(void)flock(locks[i].fd, LOCK_UN);
			(void)close(locks[i].fd);
		}
	return r;
}

int
store_file_rootfd(void *be)
{
	return ((struct file_store *)be)->rootfd;
}

const struct store_ops store_file_ops = {
	.name		= "file",
	.open		= file_open,
	.free		= file_free,
	.get		= file_get,
	.put		= file_put,
	.create_many	= file_create_many,
	.del		= file_del,
	.list		= file_list,
	.lock		= file_lock,
	.unlock		= file_unlock,
	.get_many	= file_get_many,
	.txn		= file_txn,
	.sweep		= file_sweep,
	.same		= file_same,
	.watch		= store_file_watch,
};
