/* store.c — the datastore's front: picks the backend, checks every key and
 * lock name once (store_key.c), and calls the backend through its table
 * (store_backend.h).  Nothing here knows how a backend keeps its data:
 *   store_file.c   `file`, the embedded default (a directory)
 *   store_etcd.c   `etcd` (store_etcd_http.c is its transport)
 *   store_mem.c    `memory`, a fake for unit tests (store_open_ops only)
 * Errors travel in the caller's struct lf_err (store.h); the store object
 * keeps no error state. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conf.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "store_backend.h"

struct store {
	const struct store_ops *ops;
	void *be;
	char local_dir[PATH_MAX];	/* store_lock_local(): conf->state_dir */
	uint64_t deadline_end_ms;	/* store_set_deadline(): 0 none */
};

/* The backends conf->datastore may name; "" is the first. */
static const struct store_ops *const store_backends[] = {
	&store_file_ops,
	&store_etcd_ops,
};

/* What a backend may write to: reterr when the caller wants text and has
 * none recorded yet, with the details of an earlier store call cleared. */
static struct lf_err *
be_err(struct lf_err *reterr)
{
	if (reterr == NULL || reterr->code != 0)
		return NULL;
	reterr->details[0] = '\0';
	return reterr;
}

static int
bad_key(struct lf_err *e, int r, const char *what, const char *key)
{
	lf_err_details(e, "invalid store %s \"%.200s\"", what, key ? key : "(null)");
	return r;
}

int
store_open_ops(const struct store_ops *ops, const struct leafnet_conf *conf,
	       struct store **ret, struct lf_err *reterr)
{
	struct lf_err *e = be_err(reterr);
	struct store *s;
	void *be = NULL;
	int r;

	if (ops == NULL || conf == NULL || ret == NULL)
		return -EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	if ((r = ops->open(conf, &be, e)) < 0) {
		log_debug("store: open %s: %s", ops->name, strerror(-r));
		free(s);
		return r;
	}
	s->ops = ops;
	s->be = be;
	snprintf(s->local_dir, sizeof(s->local_dir), "%s", conf->state_dir);
	*ret = s;
	return 0;
}

int
store_open(const struct leafnet_conf *conf, struct store **ret, struct lf_err *reterr)
{
	const char *name;

	if (conf == NULL)
		return -EINVAL;
	name = conf->datastore[0] != '\0' ? conf->datastore : store_backends[0]->name;
	for (size_t i = 0; i < sizeof(store_backends) / sizeof(store_backends[0]); i++)
		if (strcmp(name, store_backends[i]->name) == 0)
			return store_open_ops(store_backends[i], conf, ret, reterr);
	lf_err_details(be_err(reterr), "unknown datastore \"%s\" (file or etcd)", name);
	return -EOPNOTSUPP;
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->free(s->be);
	free(s);
}

void *
store_backend_of(struct store *s, const struct store_ops *ops)
{
	return s != NULL && s->ops == ops ? s->be : NULL;
}

int
store_err_transient(int ret)
{
	switch (ret) {
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -ETIMEDOUT:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -EHOSTDOWN:
	case -EAGAIN:
	case -ENOLCK:		/* a lock lost to a stall: release and retry */
		return 1;
	default:
		return 0;
	}
}

void
store_set_deadline(struct store *s, unsigned ms)
{
	if (s != NULL && s->ops->deadline != NULL) {
		s->deadline_end_ms = ms ? clock_now_ms() + ms : 0;
		s->ops->deadline(s->be, ms);
	}
}

int
store_err_set(struct lf_err *reterr, int code, int ret, const char *fmt, ...)
{
	char what[LF_ERR_MSG_MAX];
	va_list ap;

	if (reterr == NULL || reterr->code != 0)
		return ret;
	if (store_err_transient(ret))
		code = LF_E_AGAIN;
	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return lf_err_set(reterr, code, ret, "%s: %s", what, strerror(-ret));
}

int
store_get(struct store *s, const char *key, char **ret_val, struct lf_err *reterr)
{
	struct lf_err *e = be_err(reterr);
	int r;

	if ((r = store_key_check_data(key)) < 0)
		return bad_key(e, r, "key", key);
	if (ret_val == NULL)
		return -EINVAL;
	return s->ops->get(s->be, key, ret_val, e);
}

int
store_put(struct store *s, const char *key, const char *val, struct lf_err *reterr)
{
	return store_put_ex(s, key, val, 0, reterr);
}

int
store_put_ex(struct store *s, const char *key, const char *val, unsigned flags,
	     struct lf_err *reterr)
{
	struct lf_err *e = be_err(reterr);
	int r;

	if ((r = store_key_check_data(key)) < 0)
		return bad_key(e, r, "key", key);
	if (val == NULL)
		return -EINVAL;
	r = s->ops->put(s->be, key, val, flags, e);
	if (r < 0)
		log_debug("store: put %s: %s", key, strerror(-r));
	return r;
}

int
store_create(struct store *s, const char *key, const char *val, struct lf_err *reterr)
{
	return store_create_many(s, &key, 1, val, 0, NULL, reterr);
}

int
store_create_ex(struct store *s, const char *key, const char *val, unsigned flags,
		struct lf_err *reterr)
{
	return store_create_many(s, &key, 1, val, flags, NULL, reterr);
}

int
store_create_many(struct store *s, const char *const *keys, size_t n,
		  const char *val, unsigned flags, size_t *ret_existing,
		  struct lf_err *reterr)
{
	struct lf_err *e = be_err(reterr);
	int r;

	if (val == NULL || keys == NULL || n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((r = store_key_check_data(keys[i])) < 0)
			return bad_key(e, r, "key", keys[i]);
	r = s->ops->create_many(s->be, keys, n, val, flags, ret_existing, e);
	if (r < 0 && r != -EEXIST)
		log_debug("store: create %s (+%zu keys): %s", keys[0], n - 1, strerror(-r));
	return r;
}

int
store_delete(struct store *s, const char *key, struct lf_err *reterr)
{
	return store_delete_ex(s, key, 0, reterr);
}

int
store_delete_ex(struct store *s, const char *key, unsigned flags, struct lf_err *reterr)
{
	struct lf_err *e = be_err(reterr);
	int r;

	if ((r = store_key_check_data(key)) < 0)
		return bad_key(e, r, "key", key);
	r = s->ops->del(s->be, key, flags, e);
	if (r < 0 && r != -ENOENT)
		log_debug("store: delete %s: %s", key, strerror(-r));
	return r;
}

const char *
store_backend_name(const struct store *s)
{
	return s->ops->name;
}

int
store_same_record(struct store *s, const char *a, const char *b, struct lf_err *reterr)
{
	struct lf_err *e = be_err(reterr);
	int r;

	if ((r = store_key_check_data(a)) < 0)
		return bad_key(e, r, "key", a);
	if ((r = store_key_check_data(b)) < 0)
		return bad_key(e, r, "key", b);
	if (s->ops->same == NULL)
		return 0;
	return s->ops->same(s->be, a, b, e);
}

static int
list(struct store *s, const char *dir, bool dirs, char ***ret_names, size_t *ret_n,
     struct lf_err *reterr)
{
	struct lf_err *e = be_err(reterr);
	int r;

	if (dir == NULL)
		dir = "";
	if (dir[0] != '\0' && (r = store_key_check_data(dir)) < 0)
		return bad_key(e, r, "directory", dir);
	if (ret_names == NULL || ret_n == NULL)
		return -EINVAL;
	return s->ops->list(s->be, dir, dirs, ret_names, ret_n, e);
}

int
store_list(struct store *s, const char *dir, char ***ret_names, size_t *ret_n,
	   struct lf_err *reterr)
{
	return list(s, dir, false, ret_names, ret_n, reterr);
}

int
store_list_dirs(struct store *s, const char *dir, char ***ret_names, size_t *ret_n,
		struct lf_err *reterr)
{
	return list(s, dir, true, ret_names, ret_n, reterr);
}

int
store_list_all(struct store *s, const char *dir, char ***ret_names, size_t *ret_n,
	       struct lf_err *reterr)
{
	char **a, **d;
	size_t na, nd;
	int r;

	if ((r = store_list(s, dir, &a, &na, reterr)) < 0)
		return r;
	if ((r = store_list_dirs(s, dir, &d, &nd, reterr)) < 0) {
		store_names_free(a, na);
		return r;
	}
	if (nd > 0) {
		char **m = realloc(a, (na + nd) * sizeof(*m));

		if (m == NULL) {
			store_names_free(a, na);
			store_names_free(d, nd);
			return -ENOMEM;
		}
		memcpy(m + na, d, nd * sizeof(*m));
		a = m;
		na += nd;
		free(d);
	} else {
		store_names_free(d, nd);
	}
	*ret_names = a;
	*ret_n = na;
	return 0;
}

int
store_lock(struct store *s, const char *name, struct store_lock **ret,
	   struct lf_err *reterr)
{
	struct lf_err *e = be_err(reterr);
	int r;

	if ((r = store_key_check(name)) < 0)
		return bad_key(e, r, "lock name", name);
	if (ret == NULL)
		return -EINVAL;
	return s->ops->lock(s->be, name, ret, e);
}

int
store_sweep(struct store *s, struct lf_err *reterr)
{
	if (s->ops->sweep == NULL)
		return 0;
	return s->ops->sweep(s->be, be_err(reterr));
}

void
store_unlock(struct store_lock *l)
{
	if (l != NULL)
		l->ops->unlock(l);
}

int
store_watch_match(const struct store_watch *w, const char *key)
{
	for (size_t i = 0; i < w->n_dirs; i++) {
		size_t len = strlen(w->dirs[i]);

		if (strncmp(key, w->dirs[i], len) == 0 && (key[len] == '/' || key[len] == '\0'))
			return 1;
	}
	return 0;
}

int
store_watch(struct store *s, const struct store_watch *w, struct lf_err *reterr)
{
	if (w->n_dirs == 0 || w->cb == NULL || w->stop_fd < 0)
		return -EINVAL;
	for (size_t i = 0; i < w->n_dirs; i++) {
		int r = store_key_check_data(w->dirs[i]);

		if (r < 0) {
			lf_err_details(be_err(reterr), "cannot watch \"%.100s\": not a key",
				       w->dirs[i]);
			return r;
		}
	}
	if (s->ops->watch == NULL)
		return -EOPNOTSUPP;
	return s->ops->watch(s->be, w, be_err(reterr));
}

/* ---- get_many, txn ------------------------------------------------------- */

void
store_kv_free(struct store_kv *kvs, size_t n)
{
	for (size_t i = 0; kvs != NULL && i < n; i++) {
		free(kvs[i].val);
		kvs[i].val = NULL;
	}
}

int
store_get_many(struct store *s, struct store_kv *kvs, size_t n, struct lf_err *reterr)
{
	struct lf_err *e = be_err(reterr);
	int r;

	if (n == 0)
		return 0;
	if (kvs == NULL || n > STORE_TXN_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if ((r = store_key_check_data(kvs[i].key)) < 0)
			return bad_key(e, r, "key", kvs[i].key);
		kvs[i].val = NULL;
		kvs[i].ver[0] = '\0';
	}
	r = s->ops->get_many(s->be, kvs, n, e);
	if (r < 0) {
		store_kv_free(kvs, n);
		log_debug("store: get %s (+%zu keys): %s", kvs[0].key, n - 1, strerror(-r));
	}
	return r;
}

int
store_txn(struct store *s, const struct store_cmp *cmp, size_t n_cmp,
	  const struct store_op *ops, size_t n_ops, unsigned flags,
	  struct store_kv *cur, struct lf_err *reterr)
{
	struct lf_err *e = be_err(reterr);
	int r;

	if ((n_cmp > 0 && cmp == NULL) || (n_ops > 0 && ops == NULL) ||
	    n_cmp + n_ops == 0 || n_cmp + n_ops > STORE_TXN_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n_cmp; i++) {
		if ((r = store_key_check_data(cmp[i].key)) < 0)
			return bad_key(e, r, "key", cmp[i].key);
		if (cmp[i].ver != NULL && strlen(cmp[i].ver) >= STORE_VER_MAX)
			return -EINVAL;
	}
	for (size_t i = 0; i < n_ops; i++)
		if ((r = store_key_check_data(ops[i].key)) < 0)
			return bad_key(e, r, "key", ops[i].key);
	r = s->ops->txn(s->be, cmp, n_cmp, ops, n_ops, flags, cur, e);
	if (r < 0 && r != -EAGAIN) {
		log_debug("store: txn %s (+%zu keys): %s",
			  n_ops ? ops[0].key : cmp[0].key, n_cmp + n_ops - 1, strerror(-r));
	}
	return r;
}

/* ---- host-local locks ---------------------------------------------------- */

struct local_lock {
	struct store_lock base;
	int fd;
};

static void
local_unlock(struct store_lock *base)
{
	struct local_lock *l = (struct local_lock *)base;

	(void)flock(l->fd, LOCK_UN);
	(void)close(l->fd);
	free(l);
}

/* Only its unlock is ever called through this table. */
static const struct store_ops local_lock_ops = {
	.name	= "local-lock",
	.unlock	= local_unlock,
};

int
store_lock_note_get(struct store_lock *base, char *buf, size_t size)
{
	struct local_lock *l = (struct local_lock *)base;
	ssize_t n;

	if (base == NULL || base->ops != &local_lock_ops || size == 0)
		return -EOPNOTSUPP;
	n = pread(l->fd, buf, size - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

int
store_lock_note_set(struct store_lock *base, const char *text)
{
	struct local_lock *l = (struct local_lock *)base;
	size_t len = strlen(text);

	if (base == NULL || base->ops != &local_lock_ops)
		return -EOPNOTSUPP;
	if (pwrite(l->fd, text, len, 0) != (ssize_t)len || ftruncate(l->fd, (off_t)len) < 0)
		return -errno;
	return 0;
}

/* The file backend's own locks are flock(2) already, and the memory
 * backend's are local to the process anyway:
 * use them.  Other backends get a flock on <state_dir>/locks/<name>.lock
 * ('/' written '_'), the directory made when missing. */
int
store_lock_local(struct store *s, const char *name, struct store_lock **ret,
		 struct lf_err *reterr)
{
	struct lf_err *e = be_err(reterr);
	char path[PATH_MAX + STORE_KEY_MAX];
	struct local_lock *l;
	size_t off;
	int fd, r;

	if ((r = store_key_check(name)) < 0)
		return bad_key(e, r, "lock name", name);
	if (ret == NULL)
		return -EINVAL;
	if (s->ops != &store_etcd_ops)
		return s->ops->lock(s->be, name, ret, e);
	if (s->local_dir[0] == '\0')
		return -ENOENT;
	off = (size_t)snprintf(path, sizeof(path), "%s/" STORE_LOCK_DIR, s->local_dir);
	if (off >= sizeof(path) - 8 - strlen(name))
		return -ENAMETOOLONG;
	(void)mkdir(s->local_dir, 0700);
	(void)mkdir(path, 0700);
	snprintf(path + off, sizeof(path) - off, "/%s.lock", name);
	for (char *p = path + off + 1; *p; p++)
		if (*p == '/')
			*p = '_';
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		lf_err_details(e, "cannot open local lock %.200s: %s", path, strerror(-r));
		return r;
	}
	{
		uint64_t t0 = clock_now_ms(), t1;

		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				r = -errno;
				(void)close(fd);
				return r;
			}
		}
		/* waiting for a lock another live process holds does not
		 * count against the deadline (as for store_lock()) */
		t1 = clock_now_ms();
		if (s->deadline_end_ms && t1 > t0) {
			s->deadline_end_ms += t1 - t0;
			s->ops->deadline(s->be, s->deadline_end_ms > t1 ?
					 (unsigned)(s->deadline_end_ms - t1) : 1);
		}
	}
	if ((l = malloc(sizeof(*l))) == NULL) {
		(void)close(fd);
		return -ENOMEM;
	}
	l->base.ops = &local_lock_ops;
	l->fd = fd;
	*ret = &l->base;
	return 0;
}
