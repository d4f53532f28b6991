/* store_private.h — between the store front (store.c: key rules, the `file`
 * backend, dispatch) and the `etcd` backend (store_etcd.c).  Nothing else
 * includes this.
 *
 * store.c validates nothing on behalf of the etcd backend: each etcd_*
 * entry point checks its keys with store_key_check*() itself, so both
 * backends accept and refuse exactly the same keys.
 */
#ifndef LEAFNET_STORE_PRIVATE_H
#define LEAFNET_STORE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

struct leafnet_conf;
struct etcd_store;
struct etcd_lock;

#define STORE_KEY_MAX    1024
#define STORE_LOCK_DIR   "locks"	/* reserved first component */

/* store.c */
int  store_key_check(const char *key);		/* any valid key or lock name */
int  store_key_check_data(const char *key);	/* ... and not under "locks" */

/* store_etcd.c */
int  etcd_store_open(const struct leafnet_conf *conf, struct etcd_store **ret);
void etcd_store_free(struct etcd_store *e);
int  etcd_store_get(struct etcd_store *e, const char *key, char **ret_val);
int  etcd_store_put(struct etcd_store *e, const char *key, const char *val);
int  etcd_store_create_many(struct etcd_store *e, const char *const *keys, size_t n,
			    const char *val, size_t *ret_existing);
int  etcd_store_delete(struct etcd_store *e, const char *key);
int  etcd_store_list(struct etcd_store *e, const char *dir, bool want_dirs,
		     char ***ret_names, size_t *ret_n);
int  etcd_store_lock(struct etcd_store *e, const char *name, struct etcd_lock **ret);
void etcd_store_unlock(struct etcd_lock *l);
const char *etcd_store_error(struct etcd_store *e);

#endif
