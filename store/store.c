/* store.c — the datastore, `file` backend.
 *
 * Layout under conf->state_dir (mode 0700):
 *   <key>                      one file per key, the value verbatim
 *   <dir>/.tmp.<pid>.<n>       in-flight writes (never valid key names)
 *   locks/<name>.lock          flock(2) targets ("locks/" is reserved)
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
 * Backend `etcd` lives in store_etcd.c: store_open() picks the backend and
 * every public function below hands an etcd store over before touching
 * the file system (one pointer test on the file path).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "store_private.h"

#define STORE_TMP_PREFIX ".tmp."
#define STORE_DIR_MODE   0755
#define STORE_FILE_MODE  0644

struct store {
	int  rootfd;
	bool fsync;
	char dir[PATH_MAX];
	struct etcd_store *etcd;	/* not NULL: the etcd backend */
};

struct store_lock {
	int fd;
	struct etcd_lock *etcd;		/* not NULL: an etcd lease lock */
};

static unsigned store_tmp_seq;

static bool
key_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	       c == '@' || c == '-';
}

/* Components of [A-Za-z0-9._:@-] joined by '/'; none empty, none starting
 * with '.' (so ".", "..", and our ".tmp." files can never be named). */
static int
key_check(const char *key)
{
	size_t len, comp = 0;

	if (key == NULL)
		return -EINVAL;
	len = strlen(key);
	if (len == 0 || len > STORE_KEY_MAX)
		return -EINVAL;
	for (size_t i = 0; i <= len; i++) {
		if (key[i] == '/' || key[i] == '\0') {
			if (comp == 0)
				return -EINVAL;
			if (comp > NAME_MAX - 16)
				return -ENAMETOOLONG;
			comp = 0;
			continue;
		}
		if (!key_char_ok(key[i]) || (comp == 0 && key[i] == '.'))
			return -EINVAL;
		comp++;
	}
	return 0;
}

/* A key for data: valid, and not inside the reserved lock directory. */
static int
key_check_data(const char *key)
{
	int r = key_check(key);
	size_t n = strlen(STORE_LOCK_DIR);

	if (r < 0)
		return r;
	if (strncmp(key, STORE_LOCK_DIR, n) == 0 &&
	    (key[n] == '/' || key[n] == '\0'))
		return -EINVAL;
	return 0;
}

int
store_key_check(const char *key)
{
	return key_check(key);
}

int
store_key_check_data(const char *key)
{
	return key_check_data(key);
}

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

int
store_open(const struct leafnet_conf *conf, struct store **ret)
{
	struct store *s;
	int fd, r;

	if (conf == NULL)
		return -EINVAL;
	if (strcmp(conf->datastore, "etcd") == 0) {
		struct etcd_store *e;

		if ((r = etcd_store_open(conf, &e)) < 0)
			return r;
		if ((s = calloc(1, sizeof(*s))) == NULL) {
			etcd_store_free(e);
			return -ENOMEM;
		}
		s->rootfd = -1;
		s->etcd = e;
		*ret = s;
		return 0;
	}
	if (conf->state_dir[0] != '/')
		return -EINVAL;
	if (conf->datastore[0] != '\0' && strcmp(conf->datastore, "file") != 0)
		return -EOPNOTSUPP;

	fd = open(conf->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		r = mkdir_p(AT_FDCWD, conf->state_dir, 0700, conf->fsync);
		if (r < 0)
			return r;
		fd = open(conf->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		(void)close(fd);
		return -ENOMEM;
	}
	s->rootfd = fd;
	s->fsync = conf->fsync;
	snprintf(s->dir, sizeof(s->dir), "%s", conf->state_dir);
	*ret = s;
	return 0;
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	if (s->etcd != NULL)
		etcd_store_free(s->etcd);
	else
		(void)close(s->rootfd);
	free(s);
}

const char *
store_error(struct store *s)
{
	if (s == NULL || s->etcd == NULL)
		return "";
	return etcd_store_error(s->etcd);
}

int
store_err_set(struct store *s, struct lf_err *reterr, int code, int ret,
	      const char *fmt, ...)
{
	const char *detail = store_error(s);
	char what[LF_ERR_MSG_MAX];
	va_list ap;

	if (reterr == NULL || reterr->code != 0)
		return ret;
	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	(void)lf_err_set(reterr, code, ret, "%s: %s", what, strerror(-ret));
	if (detail[0] != '\0')
		lf_err_details(reterr, "%s", detail);
	return ret;
}

/* Open the directory holding `key` (creating it if asked); *ret_leaf
 * points into key.  The caller closes *ret_fd. */
static int
open_parent(struct store *s, const char *key, bool create, int *ret_fd,
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

/* Write val to a fresh temp file in dirfd; its name goes to tmp. */
static int
write_tmp(bool sync, int dirfd, const char *val, char *tmp, size_t size)
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
	}
	r = write_all(fd, val, strlen(val));
	if (r == 0 && sync && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(dirfd, tmp, 0);
	return r;
}

int
store_put(struct store *s, const char *key, const char *val)
{
	return store_put_ex(s, key, val, 0);
}

/* fsync the directory holding key (making a new entry in it durable). */
static int
sync_parent(struct store *s, const char *key)
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
static int
put_inplace(struct store *s, const char *key, const char *val, bool sync)
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
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out_close;
	}
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

int
store_put_ex(struct store *s, const char *key, const char *val, unsigned flags)
{
	bool sync = s->fsync && !(flags & STORE_F_VOLATILE);
	char tmp[64];
	const char *leaf;
	int dirfd, r;

	if (s->etcd != NULL)	/* flags are hints etcd has no use for */
		return val == NULL ? -EINVAL : etcd_store_put(s->etcd, key, val);
	if (val == NULL)
		return -EINVAL;
	if ((r = key_check_data(key)) < 0)
		return r;
	if (flags & STORE_F_INPLACE) {
		r = put_inplace(s, key, val, sync);
		if (r < 0)
			log_debug("store: put %s in place: %s", key, strerror(-r));
		return r;
	}
	if ((r = open_parent(s, key, true, &dirfd, &leaf)) < 0)
		return r;
	r = write_tmp(sync, dirfd, val, tmp, sizeof(tmp));
	if (r < 0)
		goto out_close_dir;
	if (renameat(dirfd, tmp, dirfd, leaf) < 0) {
		r = -errno;
		(void)unlinkat(dirfd, tmp, 0);
		goto out_close_dir;
	}
	if (sync && fsync(dirfd) < 0)
		r = -errno;
out_close_dir:
	(void)close(dirfd);
	if (r < 0)
		log_debug("store: put %s: %s", key, strerror(-r));
	return r;
}

int
store_create(struct store *s, const char *key, const char *val)
{
	return store_create_ex(s, key, val, 0);
}

int
store_create_ex(struct store *s, const char *key, const char *val, unsigned flags)
{
	bool sync = s->fsync && !(flags & STORE_F_VOLATILE);
	char tmp[64];
	const char *leaf;
	int dirfd, r;

	if (s->etcd != NULL)
		return val == NULL ? -EINVAL :
		       etcd_store_create_many(s->etcd, &key, 1, val, NULL);
	if (val == NULL)
		return -EINVAL;
	if ((r = key_check_data(key)) < 0)
		return r;
	if ((r = open_parent(s, key, true, &dirfd, &leaf)) < 0)
		return r;
	r = write_tmp(sync, dirfd, val, tmp, sizeof(tmp));
	if (r < 0)
		goto out_close_dir;
	/* link(2) never replaces: exactly one creator wins, and readers
	 * never see a partly written value. */
	if (linkat(dirfd, tmp, dirfd, leaf, 0) < 0)
		r = -errno;
	(void)unlinkat(dirfd, tmp, 0);
	if (r == 0 && sync && fsync(dirfd) < 0)
		r = -errno;
out_close_dir:
	(void)close(dirfd);
	return r;
}

/* Link the file `tmp` in dirfd under key (relative to the root), making
 * the key's directory when it is missing. */
static int
link_key(struct store *s, int dirfd, const char *tmp, const char *key)
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

int
store_create_many(struct store *s, const char *const *keys, size_t n,
		  const char *val, unsigned flags, size_t *ret_existing)
{
	bool sync = s->fsync && !(flags & STORE_F_VOLATILE);
	char tmp[64];
	const char *leaf;
	size_t done = 0;
	int dirfd, r;

	if (val == NULL || keys == NULL || n == 0)
		return -EINVAL;
	if (s->etcd != NULL)
		return etcd_store_create_many(s->etcd, keys, n, val, ret_existing);
	for (size_t i = 0; i < n; i++)
		if ((r = key_check_data(keys[i])) < 0)
			return r;
	/* The file is written once, next to the first key, then linked: like
	 * store_create, no key ever shows a partly written value. */
	if ((r = open_parent(s, keys[0], true, &dirfd, &leaf)) < 0)
		return r;
	r = write_tmp(sync, dirfd, val, tmp, sizeof(tmp));
	if (r < 0)
		goto out_close_dir;
	for (; done < n; done++)
		if ((r = link_key(s, dirfd, tmp, keys[done])) < 0)
			break;
	(void)unlinkat(dirfd, tmp, 0);
	for (size_t i = 0; r == 0 && sync && i < n; i++)
		r = sync_parent(s, keys[i]);
	if (r < 0) {
		for (size_t i = 0; i < done; i++)
			(void)unlinkat(s->rootfd, keys[i], 0);
		if (r == -EEXIST && ret_existing != NULL)
			*ret_existing = done;
	}
out_close_dir:
	(void)close(dirfd);
	if (r < 0 && r != -EEXIST)
		log_debug("store: create %s (+%zu keys): %s", keys[0], n - 1, strerror(-r));
	return r;
}

int
store_get(struct store *s, const char *key, char **ret_val)
{
	struct stat st;
	size_t len = 0, cap;
	char *buf;
	int fd, r;

	if (s->etcd != NULL)
		return etcd_store_get(s->etcd, key, ret_val);
	if ((r = key_check_data(key)) < 0)
		return r;
	fd = openat(s->rootfd, key, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out_close;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (buf == NULL) {
		r = -ENOMEM;
		goto out_close;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {	/* grew since fstat: make room */
			char *nb = realloc(buf, cap * 2);

			if (nb == NULL) {
				r = -ENOMEM;
				goto out_free;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out_free;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret_val = buf;
	r = 0;
	goto out_close;
out_free:
	free(buf);
out_close:
	(void)close(fd);
	return r;
}

int
store_delete(struct store *s, const char *key)
{
	return store_delete_ex(s, key, 0);
}

int
store_delete_ex(struct store *s, const char *key, unsigned flags)
{
	const char *leaf;
	int dirfd, r;

	if (s->etcd != NULL)
		return etcd_store_delete(s->etcd, key);
	if ((r = key_check_data(key)) < 0)
		return r;
	if (!s->fsync || (flags & STORE_F_VOLATILE)) {
		if (unlinkat(s->rootfd, key, 0) == 0)
			return 0;
		return errno == ENOTDIR ? -ENOENT : -errno;
	}
	r = open_parent(s, key, false, &dirfd, &leaf);
	if (r < 0)
		return r == -ENOTDIR ? -ENOENT : r;
	if (unlinkat(dirfd, leaf, 0) < 0)
		r = errno == ENOTDIR ? -ENOENT : -errno;
	else if (fsync(dirfd) < 0)
		r = -errno;
	(void)close(dirfd);
	return r;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
store_names_free(char **names, size_t n)
{
	if (names == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int
list_entries(struct store *s, const char *dir, bool want_dirs,
	     char ***ret_names, size_t *ret_n)
{
	bool root = dir == NULL || dir[0] == '\0';
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	if (s->etcd != NULL)
		return etcd_store_list(s->etcd, dir, want_dirs, ret_names, ret_n);
	if (!root && (r = key_check_data(dir)) < 0)
		return r;
	fd = openat(s->rootfd, root ? "." : dir,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
		if (nm[0] == '.' || key_check(nm) < 0)
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
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nn = realloc(names, ncap * sizeof(*names));

			if (nn == NULL) {
				r = -ENOMEM;
				goto out_free;
			}
			names = nn;
			cap = ncap;
		}
		names[n] = strdup(nm);
		if (names[n] == NULL) {
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
		qsort(names, n, sizeof(*names), name_cmp);
	*ret_names = names;
	*ret_n = n;
	return 0;
out_free:
	store_names_free(names, n);
	(void)closedir(d);
	return r;
}

int
store_list(struct store *s, const char *dir, char ***ret_names, size_t *ret_n)
{
	return list_entries(s, dir, false, ret_names, ret_n);
}

int
store_list_dirs(struct store *s, const char *dir, char ***ret_names,
		size_t *ret_n)
{
	return list_entries(s, dir, true, ret_names, ret_n);
}

int
store_lock(struct store *s, const char *name, struct store_lock **ret)
{
	char path[STORE_KEY_MAX + sizeof(STORE_LOCK_DIR "/.lock")];
	struct store_lock *l;
	int fd, r;

	if (s->etcd != NULL) {
		struct etcd_lock *el;

		if ((l = calloc(1, sizeof(*l))) == NULL)
			return -ENOMEM;
		if ((r = etcd_store_lock(s->etcd, name, &el)) < 0) {
			free(l);
			return r;
		}
		l->fd = -1;
		l->etcd = el;
		*ret = l;
		return 0;
	}
	if ((r = key_check(name)) < 0)
		return r;
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
	l = malloc(sizeof(*l));
	if (l == NULL) {
		(void)close(fd);	/* closing drops the lock */
		return -ENOMEM;
	}
	l->fd = fd;
	l->etcd = NULL;
	*ret = l;
	return 0;
}

void
store_unlock(struct store_lock *l)
{
	if (l == NULL)
		return;
	if (l->etcd != NULL) {
		etcd_store_unlock(l->etcd);
		free(l);
		return;
	}
	/* Explicit unlock: a forked child may still hold a copy of the fd. */
	(void)flock(l->fd, LOCK_UN);
	(void)close(l->fd);
	free(l);
}
