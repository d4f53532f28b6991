/* store_mem.c — the datastore, `memory` backend: a fake for unit tests.
 *
 * Keys and values live in one process's memory and die with the store;
 * locks are a mutex and a condition variable, so threads of one process
 * exclude each other (nothing across processes).  Like etcd, a key may be a
 * value and a directory at once.  store_mem_fail() makes calls fail with a
 * chosen errno and text, to test what callers do with a store error.
 *
 * Not in store_open()'s table: only a program that names store_mem_ops
 * (store_open_ops()) links this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbuf.h"
#include "err.h"
#include "store.h"
#include "store_backend.h"

struct mem_kv {
	char *key, *val;
	unsigned long long rev;		/* m->rev when last written */
};

struct mem_store {
	pthread_mutex_t mu;		/* guards everything below */
	pthread_cond_t  unlocked;
	struct mem_kv  *kv;		/* unsorted; a fake needs no index */
	unsigned long long rev;		/* writes so far: the version tokens */
	size_t n, cap;
	char **held;			/* names of the locks held */
	size_t n_held, cap_held;
	char  *fail_prefix;		/* NULL: no failures */
	int    fail_err;
	char   fail_text[LF_ERR_DETAILS_MAX];
	/* store_watch(): the changes since the oldest watcher started, and a
	 * pipe per watcher to wake it */
	struct mem_ev  *evs;
	size_t n_evs, cap_evs;
	struct mem_watcher *watchers;
};

struct mem_ev {
	enum store_ev_type type;
	char *key;
};

struct mem_watcher {
	struct mem_watcher *next;
	int wake[2];			/* a byte per batch of changes */
	size_t pos;			/* the next of m->evs to report */
};

struct mem_lock {
	struct store_lock base;
	struct mem_store *m;
	char name[];
};

/* m->mu held.  The injected failure for key, or 0. */
static int
mem_failing(struct mem_store *m, const char *key, struct lf_err *reterr)
{
	if (m->fail_prefix == NULL ||
	    strncmp(key, m->fail_prefix, strlen(m->fail_prefix)) != 0)
		return 0;
	lf_err_details(reterr, "%s", m->fail_text);
	return m->fail_err;
}

/* m->mu held: a change for the watchers (none: nothing kept). */
static void
mem_note(struct mem_store *m, enum store_ev_type type, const char *key)
{
	char *k;

	if (m->watchers == NULL || GROW(m->evs, m->cap_evs, m->n_evs + 1) < 0 ||
	    (k = strdup(key)) == NULL)
		return;
	m->evs[m->n_evs].type = type;
	m->evs[m->n_evs++].key = k;
	for (struct mem_watcher *w = m->watchers; w != NULL; w = w->next)
		(void)!write(w->wake[1], "", 1);
}

static void
mem_evs_clear(struct mem_store *m)
{
	for (size_t i = 0; i < m->n_evs; i++)
		free(m->evs[i].key);
	m->n_evs = 0;
}

static struct mem_kv *
mem_find(struct mem_store *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->kv[i].key, key) == 0)
			return &m->kv[i];
	return NULL;
}

static int
mem_open(const struct leafnet_conf *conf, void **ret_be, struct lf_err *reterr)
{
	struct mem_store *m;

	(void)conf;
	(void)reterr;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->unlocked, NULL);
	*ret_be = m;
	return 0;
}

static void
mem_free(void *be)
{
	struct mem_store *m = be;

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->kv[i].key);
		free(m->kv[i].val);
	}
	free(m->kv);
	mem_evs_clear(m);
	free(m->evs);
	store_names_free(m->held, m->n_held);	/* locks still held die too */
	free(m->fail_prefix);
	pthread_cond_destroy(&m->unlocked);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void
store_mem_fail(void *be, const char *key_prefix, int err, const char *text)
{
	struct mem_store *m = be;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	free(m->fail_prefix);
	m->fail_prefix = NULL;
	if (err < 0 && key_prefix != NULL) {
		m->fail_prefix = strdup(key_prefix);
		m->fail_err = err;
		snprintf(m->fail_text, sizeof(m->fail_text), "%s", text ? text : "");
	}
	pthread_mutex_unlock(&m->mu);
}

static int
mem_get(void *be, const char *key, char **ret_val, struct lf_err *reterr)
{
	struct mem_store *m = be;
	struct mem_kv *kv;
	int r;

	pthread_mutex_lock(&m->mu);
	if ((r = mem_failing(m, key, reterr)) == 0) {
		if ((kv = mem_find(m, key)) == NULL)
			r = -ENOENT;
		else if ((*ret_val = strdup(kv->val)) == NULL)
			r = -ENOMEM;
	}
	pthread_mutex_unlock(&m->mu);
	return r;
}

/* m->mu held: set key to val, adding it when new (and allowed). */
static int
mem_set(struct mem_store *m, const char *key, const char *val, bool create)
{
	struct mem_kv *kv = mem_find(m, key);
	char *v = strdup(val), *k = NULL;

	if (v == NULL)
		return -ENOMEM;
	if (kv != NULL) {
		free(kv->val);
		kv->val = v;
		kv->rev = ++m->rev;
		mem_note(m, STORE_EV_PUT, key);
		return 0;
	}
	if (!create || (k = strdup(key)) == NULL || GROW(m->kv, m->cap, m->n + 1) < 0) {
		free(k);
		free(v);
		return create ? -ENOMEM : -ENOENT;
	}
	m->kv[m->n].key = k;
	m->kv[m->n].val = v;
	m->kv[m->n].rev = ++m->rev;
	m->n++;
	mem_note(m, STORE_EV_PUT, key);
	return 0;
}

static void
mem_remove(struct mem_store *m, struct mem_kv *kv)
{
	mem_note(m, STORE_EV_DEL, kv->key);
	free(kv->key);
	free(kv->val);
	*kv = m->kv[--m->n];
}

static int
mem_put(void *be, const char *key, const char *val, unsigned flags, struct lf_err *reterr)
{
	struct mem_store *m = be;
	int r;

	(void)flags;
	pthread_mutex_lock(&m->mu);
	if ((r = mem_failing(m, key, reterr)) == 0)
		r = mem_set(m, key, val, true);
	pthread_mutex_unlock(&m->mu);
	return r;
}

static int
mem_create_many(void *be, const char *const *keys, size_t n, const char *val,
		unsigned flags, size_t *ret_existing, struct lf_err *reterr)
{
	struct mem_store *m = be;
	size_t done = 0;
	int r = 0;

	(void)flags;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < n && r == 0; i++) {
		if ((r = mem_failing(m, keys[i], reterr)) == 0 && mem_find(m, keys[i]) != NULL) {
			r = -EEXIST;
			if (ret_existing != NULL)
				*ret_existing = i;
		}
	}
	for (; r == 0 && done < n; done++)
		r = mem_set(m, keys[done], val, true);
	if (r < 0 && r != -EEXIST)		/* out of memory part way: all or none */
		for (size_t i = 0; i + 1 < done; i++)
			mem_remove(m, mem_find(m, keys[i]));
	pthread_mutex_unlock(&m->mu);
	return r;
}

static int
mem_del(void *be, const char *key, unsigned flags, struct lf_err *reterr)
{
	struct mem_store *m = be;
	struct mem_kv *kv;
	int r;

	(void)flags;
	pthread_mutex_lock(&m->mu);
	if ((r = mem_failing(m, key, reterr)) == 0) {
		if ((kv = mem_find(m, key)) == NULL)
			r = -ENOENT;
		else
			mem_remove(m, kv);
	}
	pthread_mutex_unlock(&m->mu);
	return r;
}

static int
mem_list(void *be, const char *dir, bool want_dirs, char ***ret_names, size_t *ret_n,
	 struct lf_err *reterr)
{
	struct mem_store *m = be;
	size_t plen = strlen(dir), n = 0, cap = 0;
	char **names = NULL;
	int r;

	pthread_mutex_lock(&m->mu);
	if ((r = mem_failing(m, dir, reterr)) < 0)
		goto out_unlock;
	for (size_t i = 0; i < m->n; i++) {
		const char *rest = m->kv[i].key, *slash;
		size_t len;
		bool dup = false;

		if (plen > 0) {
			if (strncmp(rest, dir, plen) != 0 || rest[plen] != '/')
				continue;
			rest += plen + 1;
		}
		slash = strchr(rest, '/');
		if ((slash != NULL) != want_dirs)
			continue;
		len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
		for (size_t j = 0; j < n && !dup; j++)
			dup = strlen(names[j]) == len && memcmp(names[j], rest, len) == 0;
		if (dup)
			continue;
		if (GROW(names, cap, n + 1) < 0 || (names[n] = strndup(rest, len)) == NULL) {
			r = -ENOMEM;
			goto out_unlock;
		}
		n++;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), store_name_cmp);
	*ret_names = names;
	*ret_n = n;
	names = NULL;
	n = 0;
out_unlock:
	pthread_mutex_unlock(&m->mu);
	store_names_free(names, n);
	return r;
}

/* m->mu held: the index of name in m->held, or m->n_held. */
static size_t
mem_held(struct mem_store *m, const char *name)
{
	size_t i = 0;

	while (i < m->n_held && strcmp(m->held[i], name) != 0)
		i++;
	return i;
}

static int
mem_lock(void *be, const char *name, struct store_lock **ret, struct lf_err *reterr)
{
	struct mem_store *m = be;
	struct mem_lock *l;
	char *copy = NULL;
	int r;

	if ((l = calloc(1, sizeof(*l) + strlen(name) + 1)) == NULL)
		return -ENOMEM;
	strcpy(l->name, name);
	l->base.ops = &store_mem_ops;
	l->m = m;
	pthread_mutex_lock(&m->mu);
	if ((r = mem_failing(m, name, reterr)) < 0)
		goto out_unlock;
	while (mem_held(m, name) < m->n_held)
		pthread_cond_wait(&m->unlocked, &m->mu);
	if ((copy = strdup(name)) == NULL || GROW(m->held, m->cap_held, m->n_held + 1) < 0) {
		r = -ENOMEM;
		goto out_unlock;
	}
	m->held[m->n_held++] = copy;
	copy = NULL;
	*ret = &l->base;
	l = NULL;
out_unlock:
	pthread_mutex_unlock(&m->mu);
	free(copy);
	free(l);
	return r;
}

static void
mem_unlock(struct store_lock *base)
{
	struct mem_lock *l = (struct mem_lock *)base;
	struct mem_store *m = l->m;
	size_t i;

	pthread_mutex_lock(&m->mu);
	if ((i = mem_held(m, l->name)) < m->n_held) {
		free(m->held[i]);
		m->held[i] = m->held[--m->n_held];
		pthread_cond_broadcast(&m->unlocked);
	}
	pthread_mutex_unlock(&m->mu);
	free(l);
}

/* ---- watch ------------------------------------------------------------ */

/* The changes made through this store, reported from the watcher's own
 * thread; an injected failure (store_mem_fail()) on a watched dir ends the
 * watch with it, as a lost etcd stream would. */
static int
mem_watch(void *be, const struct store_watch *sw, struct lf_err *reterr)
{
	struct mem_store *m = be;
	struct mem_watcher w = { .wake = { -1, -1 } };
	int r = 0;

	if (pipe2(w.wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < sw->n_dirs && r == 0; i++)
		r = mem_failing(m, sw->dirs[i], reterr);
	if (r == 0) {
		w.pos = m->n_evs;
		w.next = m->watchers;
		m->watchers = &w;
	}
	pthread_mutex_unlock(&m->mu);
	if (r < 0)
		goto out_close;
	sw->cb(&(struct store_event){ .type = STORE_EV_READY }, sw->arg);
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = sw->stop_fd, .events = POLLIN },
			{ .fd = w.wake[0], .events = POLLIN },
		};
		char buf[64];

		if (poll(pfd, 2, -1) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (pfd[0].revents)
			break;
		while (read(w.wake[0], buf, sizeof(buf)) > 0)
			;
		pthread_mutex_lock(&m->mu);
		for (size_t i = 0; i < sw->n_dirs && r == 0; i++)
			r = mem_failing(m, sw->dirs[i], reterr);
		while (r == 0 && w.pos < m->n_evs) {
			struct mem_ev ev = m->evs[w.pos++];
			char *key = strdup(ev.key);

			if (key == NULL) {
				r = -ENOMEM;
				break;
			}
			/* the callback may use the store: not under m->mu */
			pthread_mutex_unlock(&m->mu);
			if (store_watch_match(sw, key))
				sw->cb(&(struct store_event){ .type = ev.type, .key = key },
				       sw->arg);
			free(key);
			pthread_mutex_lock(&m->mu);
		}
		pthread_mutex_unlock(&m->mu);
		if (r < 0)
			break;
	}
	pthread_mutex_lock(&m->mu);
	for (struct mem_watcher **pp = &m->watchers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == &w) {
			*pp = w.next;
			break;
		}
	if (m->watchers == NULL)
		mem_evs_clear(m);
	pthread_mutex_unlock(&m->mu);
out_close:
	(void)close(w.wake[0]);
	(void)close(w.wake[1]);
	return r;
}

/* m->mu held: key's value and version into kv (absent: NULL, ""). */
static int
mem_read_kv(struct mem_store *m, struct store_kv *kv)
{
	struct mem_kv *x = mem_find(m, kv->key);

	kv->val = NULL;
	kv->ver[0] = '\0';
	if (x == NULL)
		return 0;
	if ((kv->val = strdup(x->val)) == NULL)
		return -ENOMEM;
	snprintf(kv->ver, sizeof(kv->ver), "%llu", x->rev);
	return 0;
}

static int
mem_get_many(void *be, struct store_kv *kvs, size_t n, struct lf_err *reterr)
{
	struct mem_store *m = be;
	int r = 0;

	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < n && r == 0; i++)
		if ((r = mem_failing(m, kvs[i].key, reterr)) == 0)
			r = mem_read_kv(m, &kvs[i]);
	pthread_mutex_unlock(&m->mu);
	return r;
}

static int
mem_txn(void *be, const struct store_cmp *cmp, size_t n_cmp, const struct store_op *ops,
	size_t n_ops, unsigned flags, struct store_kv *cur, struct lf_err *reterr)
{
	struct mem_store *m = be;
	bool ok = true;
	int r = 0;

	(void)flags;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < n_cmp && r == 0; i++) {
		struct mem_kv *x = mem_find(m, cmp[i].key);
		char ver[STORE_VER_MAX] = "";

		if ((r = mem_failing(m, cmp[i].key, reterr)) < 0)
			break;
		if (x != NULL)
			snprintf(ver, sizeof(ver), "%llu", x->rev);
		if (strcmp(ver, cmp[i].ver ? cmp[i].ver : "") != 0)
			ok = false;
	}
	for (size_t i = 0; i < n_ops && r == 0; i++)
		r = mem_failing(m, ops[i].key, reterr);
	if (r == 0 && !ok) {
		r = -EAGAIN;
		for (size_t i = 0; cur != NULL && i < n_cmp; i++)
			if ((cur[i].key = cmp[i].key, mem_read_kv(m, &cur[i])) < 0)
				r = -ENOMEM;
	}
	/* a fake: out of memory part way is not undone */
	for (size_t i = 0; r == 0 && i < n_ops; i++) {
		struct mem_kv *x;

		if (ops[i].val != NULL)
			r = mem_set(m, ops[i].key, ops[i].val, true);
		else if ((x = mem_find(m, ops[i].key)) != NULL)
			mem_remove(m, x);
	}
	pthread_mutex_unlock(&m->mu);
	return r;
}

const struct store_ops store_mem_ops = {
	.name		= "memory",
	.open		= mem_open,
	.free		= mem_free,
	.get		= mem_get,
	.put		= mem_put,
	.create_many	= mem_create_many,
	.del		= mem_del,
	.list		= mem_list,
	.lock		= mem_lock,
	.unlock		= mem_unlock,
	.get_many	= mem_get_many,
	.txn		= mem_txn,
	.watch		= mem_watch,
};
