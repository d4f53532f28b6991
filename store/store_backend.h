/* store_backend.h — between the store front (store.c) and its backends
 * (store_file.c, store_etcd.c, store_mem.c).  Nothing outside store/ but
 * the unit tests includes this.
 *
 * The front validates every key and lock name once (store_key.c) and then
 * calls the backend through its const struct store_ops: a backend is
 * handed only valid keys, never calls the front, and knows nothing of the
 * other backends.  A backend that fails and has words to add (etcd's own
 * text, the endpoint, the key) puts them in reterr->details with
 * lf_err_details(); reterr is NULL when the caller asked for no text or
 * already has an error recorded.  Backends never set reterr's code or msg:
 * the caller knows what the call was for (store.h).
 */
#ifndef LEAFNET_STORE_BACKEND_H
#define LEAFNET_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

struct leafnet_conf;
struct lf_err;
struct store;
struct store_watch;
struct store_kv;
struct store_cmp;
struct store_op;

#define STORE_KEY_MAX    1024
#define STORE_LOCK_DIR   "locks"	/* reserved first component */
#define STORE_TXN_MAX    64		/* keys in one store_txn / store_get_many */

/* Every backend's lock starts with this; store_unlock() dispatches on it. */
struct store_lock {
	const struct store_ops *ops;
};

struct store_ops {
	const char *name;			/* conf->datastore */
	int  (*open)(const struct leafnet_conf *conf, void **ret_be, struct lf_err *reterr);
	void (*free)(void *be);
	/* -ENOENT when absent; *ret_val malloc'd, NUL-terminated */
	int  (*get)(void *be, const char *key, char **ret_val, struct lf_err *reterr);
	/* create or replace (STORE_F_* flags) */
	int  (*put)(void *be, const char *key, const char *val, unsigned flags,
		    struct lf_err *reterr);
	/* each key exclusively, all or none (n >= 1); -EEXIST and
	 * *ret_existing (when not NULL) the index of a key that exists */
	int  (*create_many)(void *be, const char *const *keys, size_t n, const char *val,
			    unsigned flags, size_t *ret_existing, struct lf_err *reterr);
	/* -ENOENT when absent */
	int  (*del)(void *be, const char *key, unsigned flags, struct lf_err *reterr);
	/* sorted names of the leaves (or, dirs, sub-directories) directly
	 * under dir ("" is the root, where STORE_LOCK_DIR is never listed) */
	int  (*list)(void *be, const char *dir, bool dirs, char ***ret_names, size_t *ret_n,
		     struct lf_err *reterr);
	/* blocks until held; the lock's ops point back at this table */
	int  (*lock)(void *be, const char *name, struct store_lock **ret,
		     struct lf_err *reterr);
	void (*unlock)(struct store_lock *l);
	/* optional: remove what killed writers left (temp files); the number
	 * removed */
	int  (*sweep)(void *be, struct lf_err *reterr);
	/* optional (NULL: never): 1 when keys a and b are one stored record
	 * (store_create_many's links), 0 when not or when either is absent */
	int  (*same)(void *be, const char *a, const char *b, struct lf_err *reterr);
	/* optional (NULL: nothing to bound): store_set_deadline() */
	void (*deadline)(void *be, unsigned ms);
	/* store_get_many(): every kvs[i].key checked, val NULL and ver ""
	 * on entry */
	int  (*get_many)(void *be, struct store_kv *kvs, size_t n, struct lf_err *reterr);
	/* store_txn(): keys checked; on a failed compare -EAGAIN and (cur
	 * not NULL) cur[i] filled for cmp[i].key, written only after the
	 * compares (it may alias the versions) */
	int  (*txn)(void *be, const struct store_cmp *cmp, size_t n_cmp,
		    const struct store_op *ops, size_t n_ops, unsigned flags,
		    struct store_kv *cur, struct lf_err *reterr);
	/* optional (NULL: -EOPNOTSUPP): store_watch(); w->dirs checked */
	int  (*watch)(void *be, const struct store_watch *w, struct lf_err *reterr);
};

extern const struct store_ops store_file_ops;	/* store_file.c */
extern const struct store_ops store_etcd_ops;	/* store_etcd.c */
extern const struct store_ops store_mem_ops;	/* store_mem.c: unit tests only */

/* Open a store on the backend `ops` (store_open() picks it by
 * conf->datastore; tests pass &store_mem_ops).  Like store_open(). */
int  store_open_ops(const struct store_ops *ops, const struct leafnet_conf *conf,
		    struct store **ret, struct lf_err *reterr);

/* store_key.c: the key rules (store.h), for the front and for backends that
 * filter what they find (a directory entry, an etcd key) by them. */
int  store_key_check(const char *key);		/* any valid key or lock name */
int  store_key_check_data(const char *key);	/* ... and not under "locks" */
int  store_name_cmp(const void *a, const void *b);	/* qsort of char * */

/* The backend object of s when s runs on ops, else NULL (for tests that
 * steer the fake). */
void *store_backend_of(struct store *s, const struct store_ops *ops);

/* store_mem.c: make calls of the fake fail.  Every call whose key (or lock
 * name, or list dir) starts with key_prefix ("" for all) fails with err
 * and puts text in reterr->details, until the next store_mem_fail() (err 0
 * stops failing).  be: store_backend_of(s, &store_mem_ops). */
void store_mem_fail(void *be, const char *key_prefix, int err, const char *text);

/* store_file.c: the directory fd of a file store's be (store_file_watch.c) */
int  store_file_rootfd(void *be);
/* store_file_watch.c, store_etcd_watch.c */
int  store_file_watch(void *be, const struct store_watch *w, struct lf_err *reterr);
int  store_etcd_watch(void *be, const struct store_watch *w, struct lf_err *reterr);

#endif
