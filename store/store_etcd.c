/* store_etcd.c — the datastore, `etcd` backend: etcd v3 through its
 * JSON/HTTP gateway (grpc-gateway, etcd 3.4+), over libcurl.  This file is
 * the mapping below; store_etcd_http.c is the transport (requests,
 * endpoints, timeouts, errors, base64).
 *
 * Mapping (every key lives under ETCD_ROOT, "/leafnet/"; keys and values
 * travel base64-encoded in the JSON, int64 fields as decimal strings):
 *   store_get(k)          POST /v3/kv/range {key}            none -> -ENOENT
 *   store_put(k, v)       POST /v3/kv/put {key, value}
 *   store_create(k, v)    POST /v3/kv/txn: compare create_revision(k) == 0,
 *                         success put(k, v); compare failed -> -EEXIST
 *   store_create_many     one txn: every key's create_revision == 0 -> put
 *                         them all (all or none, atomically); on failure the
 *                         failure branch ranges every key (count_only) so
 *                         *ret_existing names the first key that exists
 *   store_delete(k)       POST /v3/kv/deleterange {key}      deleted 0 -> -ENOENT
 *   store_list(dir)       ranges over "dir/" (keys_only, in pages), keeps
 *                         the direct leaves, jumps over each sub-directory
 *                         ("dir/sub/" .. "dir/sub0") instead of reading it
 *   store_list_dirs(dir)  the same walk, keeping the distinct next
 *                         components that have deeper keys
 *   store_lock(name)      grant a lease (ETCD_LOCK_TTL s); txn: create
 *                         "locks/<name>" (with '/' -> '_', as the file
 *                         backend) attached to the lease if absent; else
 *                         poll (serializable range, 1 ms doubling to 50 ms)
 *                         until the key is gone, then try again
 *   store_unlock          revoke the lease (etcd deletes the key with it)
 *   store_get_many        one txn without compares whose success branch
 *                         ranges every key; ver = mod_revision
 *   store_txn             one txn: compare MOD revision == ver (or CREATE
 *                         revision == 0 for absent), success the puts and
 *                         deleteranges, failure ranges the compared keys
 *                         (the caller's retry needs no read)
 * STORE_F_VOLATILE and STORE_F_INPLACE are hints without meaning here:
 * every write is durable (raft + WAL fsync) and atomic.
 *
 * Differences from the file backend, none of which a caller relies on: a
 * key may be a value and a directory at once ("a" and "a/b"), so get of a
 * directory is -ENOENT (not -EISDIR) and put under a value's name works.
 *
 * Locks and crashes.  A process killed while holding a lock cannot unlock;
 * its key goes when its lease expires, ETCD_LOCK_TTL seconds after its last
 * keepalive.  So a killed CNI plugin blocks that network's allocations on
 * every host for up to that long: the TTL is short (10 s), and the next
 * ADD waits for the lease to run out (at most ETCD_LOCK_TTL s) and then
 * succeeds.  A clean exit (store_unlock, store_free) revokes the lease at
 * once, also when the call ran out of time (ETCD_REVOKE_MS of grace).  A holder renews
 * the lease itself, on any request it makes through this store once a third
 * of the TTL has passed, and while it waits for a lock.  A holder that
 * stalls longer than the TTL without touching the store (SIGSTOP, swap
 * storm) loses the lock; the first request after that finds the lease gone
 * and fails with -ENOLCK, instead of writing without the lock.
 *
 * Connections.  One CURL easy handle per struct store, so requests reuse
 * one keep-alive connection; a mutex serialises them, so a store may be
 * shared by threads (store.h).  etcd_endpoints is a comma-separated list: a request
 * that cannot connect to one (refused, unreachable, no answer within
 * ETCD_CONNECT_MS) tries the next, and the one that answered is tried first
 * from then on.  Once a request was sent it is not repeated elsewhere: a
 * create that may have been applied must not come back as -EEXIST.  Every
 * request gives up after ETCD_TOTAL_MS over all the endpoints it tries
 * (each connect after ETCD_CONNECT_MS).  A request that got no answer
 * (refused, unreachable, timed out: etcd down, hung or cut off) makes the
 * store fail every request at once for ETCD_DOWN_MS with the same text, so
 * a call pays for an outage once: a CNI ADD or DEL with etcd down or hung
 * fails within ETCD_TOTAL_MS, not per request (rollback, unlock).
 * store_set_deadline() bounds a whole call (the CNI plugin: 2 s): no
 * request goes out after it and each waits at most what is left; the
 * time spent waiting for a lock another live holder has is not counted
 * (etcd answered; the holder's lease bounds that wait).  A failure's text (etcd's own, or
 * the network's, naming the endpoint(s) and the request) goes to the
 * caller's reterr->details; nothing of it stays in the store, so threads
 * sharing one store never see each other's errors.  TLS (https://) works as far as libcurl's defaults go;
 * client certificates are not configured.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "err.h"
#include "store.h"
#include "store_etcd.h"

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Renew the lease of l; marks it lost when etcd no longer knows it. */
static int
lease_keepalive(struct etcd_store *e, struct etcd_lock *l, struct lf_err *reterr)
{
	char body[64];
	cJSON *resp = NULL;
	int r;

	snprintf(body, sizeof(body), "{\"ID\":\"%s\"}", l->lease);
	if ((r = etcd_post(e, "/v3/lease/keepalive", body, "lease keepalive", &resp,
			   reterr)) < 0)
		return r;
	if (etcd_json_int(cJSON_GetObjectItemCaseSensitive(resp, "result"), "TTL") <= 0)
		l->lost = true;
	else
		l->renewed_ms = clock_now_ms();
	cJSON_Delete(resp);
	return 0;
}

/* Before a request: renew the leases of the locks this store holds once a
 * third of the TTL has passed; -ENOLCK when one of them expired. */
static int
etcd_refresh(struct etcd_store *e, struct lf_err *reterr)
{
	uint64_t now = clock_now_ms();

	for (struct etcd_lock *l = e->held; l != NULL; l = l->next) {
		if (!l->lost && now - l->renewed_ms >= ETCD_LOCK_TTL * 1000 / 3)
			(void)lease_keepalive(e, l, NULL);	/* errors: the request says */
		if (l->lost) {
			lf_err_details(reterr,
				       "etcd: lock \"%.200s\" was lost (its lease expired: more "
				       "than %d s without a keepalive); release it and retry",
				       l->name, ETCD_LOCK_TTL);
			return -ENOLCK;
		}
	}
	return 0;
}

/* One data request: refresh held locks, post, all under the mutex.  what
 * names the request for the error text ("get networks/a"). */
static int
etcd_call(struct etcd_store *e, const char *path, cJSON *req, const char *what,
	  cJSON **ret, struct lf_err *reterr)
{
	int r;

	pthread_mutex_lock(&e->mu);
	r = etcd_refresh(e, reterr);
	if (r == 0)
		r = etcd_post_json(e, path, req, what, ret, reterr);
	pthread_mutex_unlock(&e->mu);
	return r;
}

/* ---- keys and values ---------------------------------------------------- */

/* ETCD_ROOT + key, malloc'd. */
static char *
full_key(const char *key)
{
	char *k;

	if (asprintf(&k, ETCD_ROOT "%s", key) < 0)
		return NULL;
	return k;
}

/* A request object {name_key: base64(ETCD_ROOT key)} to add to. */
static cJSON *
key_req(const char *key)
{
	cJSON *req = cJSON_CreateObject();
	char *k = full_key(key);

	if (req == NULL || k == NULL || !etcd_json_add_b64(req, "key", k, strlen(k))) {
		cJSON_Delete(req);
		req = NULL;
	}
	free(k);
	return req;
}

/* "get networks/a" for the error text */
static void
what_key(char *buf, size_t size, const char *op, const char *key)
{
	snprintf(buf, size, "%s %.60s%s", op, key, strlen(key) > 60 ? "..." : "");
}

static int
etcd_get(void *be, const char *key, char **ret_val, struct lf_err *reterr)
{
	struct etcd_store *e = be;
	cJSON *req, *resp = NULL;
	const cJSON *kv, *val;
	char what[80], *out;
	int r;

	if ((req = key_req(key)) == NULL)
		return -ENOMEM;
	what_key(what, sizeof(what), "get", key);
	r = etcd_call(e, "/v3/kv/range", req, what, &resp, reterr);
	cJSON_Delete(req);
	if (r < 0)
		return r;
	kv = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(resp, "kvs"), 0);
	if (kv == NULL) {
		r = -ENOENT;
	} else {
		/* an empty value is left out of the answer */
		val = cJSON_GetObjectItemCaseSensitive(kv, "value");
		r = etcd_b64_decode(cJSON_IsString(val) ? val->valuestring : "", &out, NULL);
		if (r == 0)
			*ret_val = out;
	}
	cJSON_Delete(resp);
	return r;
}

/* STORE_F_* are hints etcd has no use for: every write is durable and
 * atomic. */
static int
etcd_put(void *be, const char *key, const char *val, unsigned flags, struct lf_err *reterr)
{
	struct etcd_store *e = be;
	cJSON *req, *resp = NULL;
	char what[80];
	int r;

	(void)flags;
	if ((req = key_req(key)) == NULL)
		return -ENOMEM;
	if (!etcd_json_add_b64(req, "value", val, strlen(val))) {
		cJSON_Delete(req);
		return -ENOMEM;
	}
	what_key(what, sizeof(what), "put", key);
	r = etcd_call(e, "/v3/kv/put", req, what, &resp, reterr);
	cJSON_Delete(req);
	cJSON_Delete(resp);
	return r;
}

/* Append {target: "CREATE", create_revision 0} compare, put and range ops
 * for key to a txn's arrays; lease may be NULL. */
static bool
txn_add_create(cJSON *cmp, cJSON *succ, cJSON *fail, const char *fullkey,
	       const char *val, const char *lease)
{
	cJSON *c = cJSON_CreateObject(), *op = cJSON_CreateObject(), *put, *rng;
	size_t klen = strlen(fullkey);
	bool ok = c != NULL && op != NULL;

	ok = ok && etcd_json_add_b64(c, "key", fullkey, klen) &&
	     cJSON_AddStringToObject(c, "result", "EQUAL") &&
	     cJSON_AddStringToObject(c, "target", "CREATE") &&
	     cJSON_AddStringToObject(c, "create_revision", "0");
	ok = ok && (put = cJSON_AddObjectToObject(op, "request_put")) != NULL &&
	     etcd_json_add_b64(put, "key", fullkey, klen) &&
	     etcd_json_add_b64(put, "value", val, strlen(val)) &&
	     (lease == NULL || cJSON_AddStringToObject(put, "lease", lease));
	if (ok) {
		cJSON_AddItemToArray(cmp, c);
		cJSON_AddItemToArray(succ, op);
		c = op = NULL;
	}
	if (ok && fail != NULL) {
		cJSON *f = cJSON_CreateObject();

		ok = f != NULL && (rng = cJSON_AddObjectToObject(f, "request_range")) &&
		     etcd_json_add_b64(rng, "key", fullkey, klen) &&
		     cJSON_AddTrueToObject(rng, "count_only");
		if (ok)
			cJSON_AddItemToArray(fail, f);
		else
			cJSON_Delete(f);
	}
	cJSON_Delete(c);
	cJSON_Delete(op);
	return ok;
}

/* Which key of a failed create txn exists: the first failure-branch range
 * with a count. */
static size_t
txn_first_existing(const cJSON *resp, size_t n)
{
	const cJSON *rs = cJSON_GetObjectItemCaseSensitive(resp, "responses");
	size_t i = 0;

	for (const cJSON *it = rs ? rs->child : NULL; it && i < n; it = it->next, i++) {
		const cJSON *rr = cJSON_GetObjectItemCaseSensitive(it, "response_range");

		if (etcd_json_int(rr, "count") > 0)
			return i;
	}
	return 0;
}

static int
etcd_create_many(void *be, const char *const *keys, size_t n, const char *val,
		 unsigned flags, size_t *ret_existing, struct lf_err *reterr)
{
	struct etcd_store *e = be;
	cJSON *req, *cmp, *succ, *fail, *resp = NULL;
	char what[80];
	int r;

	(void)flags;
	if (n > ETCD_TXN_MAX) {
		lf_err_details(reterr, "etcd: %zu keys in one create, at most %d", n,
			       ETCD_TXN_MAX);
		return -E2BIG;
	}
	req = cJSON_CreateObject();
	cmp = cJSON_AddArrayToObject(req, "compare");
	succ = cJSON_AddArrayToObject(req, "success");
	fail = cJSON_AddArrayToObject(req, "failure");
	if (req == NULL || cmp == NULL || succ == NULL || fail == NULL) {
		r = -ENOMEM;
		goto out_free_req;
	}
	for (size_t i = 0; i < n; i++) {
		char *k = full_key(keys[i]);
		bool ok = k != NULL && txn_add_create(cmp, succ, n > 1 ? fail : NULL,
						      k, val, NULL);

		free(k);
		if (!ok) {
			r = -ENOMEM;
			goto out_free_req;
		}
	}
	what_key(what, sizeof(what), "create", keys[0]);
	if ((r = etcd_call(e, "/v3/kv/txn", req, what, &resp, reterr)) < 0)
		goto out_free_req;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "succeeded"))) {
		r = -EEXIST;
		if (ret_existing != NULL)
			*ret_existing = n > 1 ? txn_first_existing(resp, n) : 0;
	}
	cJSON_Delete(resp);
out_free_req:
	cJSON_Delete(req);
	return r;
}

static int
etcd_del(void *be, const char *key, unsigned flags, struct lf_err *reterr)
{
	struct etcd_store *e = be;
	cJSON *req, *resp = NULL;
	char what[80];
	int r;

	(void)flags;
	if ((req = key_req(key)) == NULL)
		return -ENOMEM;
	what_key(what, sizeof(what), "delete", key);
	r = etcd_call(e, "/v3/kv/deleterange", req, what, &resp, reterr);
	cJSON_Delete(req);
	if (r == 0 && etcd_json_int(resp, "deleted") == 0)
		r = -ENOENT;
	cJSON_Delete(resp);
	return r;
}

/* ---- get_many, txn ------------------------------------------------------- */

/* Append {"request_range": {key}} for key. */
static bool
txn_add_range(cJSON *arr, const char *key)
{
	cJSON *op = cJSON_CreateObject(), *rng;
	char *k = full_key(key);
	bool ok = op != NULL && k != NULL &&
		  (rng = cJSON_AddObjectToObject(op, "request_range")) != NULL &&
		  etcd_json_add_b64(rng, "key", k, strlen(k));

	free(k);
	if (ok)
		cJSON_AddItemToArray(arr, op);
	else
		cJSON_Delete(op);
	return ok;
}

/* The range answers of a txn's taken branch into kvs[0..n). */
static int
txn_ranges(const cJSON *resp, struct store_kv *kvs, size_t n)
{
	const cJSON *rs = cJSON_GetObjectItemCaseSensitive(resp, "responses");
	const cJSON *it = rs ? rs->child : NULL;

	for (size_t i = 0; i < n; i++, it = it ? it->next : NULL) {
		const cJSON *rr = cJSON_GetObjectItemCaseSensitive(it, "response_range");
		const cJSON *kv = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rr, "kvs"), 0);
		const cJSON *val;
		int r;

		kvs[i].val = NULL;
		kvs[i].ver[0] = '\0';
		if (kv == NULL)
			continue;
		val = cJSON_GetObjectItemCaseSensitive(kv, "value");
		r = etcd_b64_decode(cJSON_IsString(val) ? val->valuestring : "", &kvs[i].val, NULL);
		if (r < 0)
			return r;
		snprintf(kvs[i].ver, sizeof(kvs[i].ver), "%lld",
			 etcd_json_int(kv, "mod_revision"));
	}
	return 0;
}

static int
etcd_get_many(void *be, struct store_kv *kvs, size_t n, struct lf_err *reterr)
{
	struct etcd_store *e = be;
	cJSON *req = cJSON_CreateObject(), *succ, *resp = NULL;
	char what[80];
	int r = -ENOMEM;

	if (req == NULL || (succ = cJSON_AddArrayToObject(req, "success")) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (!txn_add_range(succ, kvs[i].key))
			goto out;
	what_key(what, sizeof(what), "get", kvs[0].key);
	if ((r = etcd_call(e, "/v3/kv/txn", req, what, &resp, reterr)) < 0)
		goto out;
	r = txn_ranges(resp, kvs, n);
out:
	cJSON_Delete(resp);
	cJSON_Delete(req);
	return r;
}

static bool
txn_add_cmp(cJSON *arr, const struct store_cmp *c)
{
	cJSON *o = cJSON_CreateObject();
	char *k = full_key(c->key);
	bool absent = c->ver == NULL || c->ver[0] == '\0';
	bool ok = o != NULL && k != NULL && etcd_json_add_b64(o, "key", k, strlen(k)) &&
		  cJSON_AddStringToObject(o, "result", "EQUAL") &&
		  cJSON_AddStringToObject(o, "target", absent ? "CREATE" : "MOD") &&
		  cJSON_AddStringToObject(o, absent ? "create_revision" : "mod_revision",
					  absent ? "0" : c->ver);

	free(k);
	if (ok)
		cJSON_AddItemToArray(arr, o);
	else
		cJSON_Delete(o);
	return ok;
}

static bool
txn_add_op(cJSON *arr, const struct store_op *op)
{
	cJSON *o = cJSON_CreateObject(), *x;
	char *k = full_key(op->key);
	bool ok = o != NULL && k != NULL &&
		  (x = cJSON_AddObjectToObject(o, op->val ? "request_put"
							  : "request_delete_range")) != NULL &&
		  etcd_json_add_b64(x, "key", k, strlen(k)) &&
		  (op->val == NULL || etcd_json_add_b64(x, "value", op->val, strlen(op->val)));

	free(k);
	if (ok)
		cJSON_AddItemToArray(arr, o);
	else
		cJSON_Delete(o);
	return ok;
}

static int
etcd_txn(void *be, const struct store_cmp *cmp, size_t n_cmp, const struct store_op *ops,
	 size_t n_ops, unsigned flags, struct store_kv *cur, struct lf_err *reterr)
{
	struct etcd_store *e = be;
	cJSON *req = cJSON_CreateObject(), *c, *succ, *fail, *resp = NULL;
	char what[80];
	int r = -ENOMEM;

	(void)flags;
	if (req == NULL || (c = cJSON_AddArrayToObject(req, "compare")) == NULL ||
	    (succ = cJSON_AddArrayToObject(req, "success")) == NULL ||
	    (fail = cJSON_AddArrayToObject(req, "failure")) == NULL)
		goto out;
	for (size_t i = 0; i < n_cmp; i++)
		if (!txn_add_cmp(c, &cmp[i]) || (cur != NULL && !txn_add_range(fail, cmp[i].key)))
			goto out;
	for (size_t i = 0; i < n_ops; i++)
		if (!txn_add_op(succ, &ops[i]))
			goto out;
	what_key(what, sizeof(what), "txn", n_ops ? ops[0].key : cmp[0].key);
	if ((r = etcd_call(e, "/v3/kv/txn", req, what, &resp, reterr)) < 0)
		goto out;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "succeeded"))) {
		r = cur != NULL ? txn_ranges(resp, cur, n_cmp) : 0;
		if (r == 0)
			r = -EAGAIN;
	}
out:
	cJSON_Delete(resp);
	cJSON_Delete(req);
	return r;
}

/* ---- listing ------------------------------------------------------------ */

struct names {
	char **v;
	size_t n, cap;
};

static int
names_add(struct names *nm, const char *s, size_t len)
{
	if (GROW(nm->v, nm->cap, nm->n + 1) < 0)
		return -ENOMEM;
	if ((nm->v[nm->n] = strndup(s, len)) == NULL)
		return -ENOMEM;
	nm->n++;
	return 0;
}

/* One page of keys_only range from [start, start_len) to end. */
static int
range_page(struct etcd_store *e, const char *start, size_t start_len,
	   const char *end, const char *what, cJSON **ret, struct lf_err *reterr)
{
	cJSON *req = cJSON_CreateObject();
	int r = -ENOMEM;

	if (req != NULL && etcd_json_add_b64(req, "key", start, start_len) &&
	    etcd_json_add_b64(req, "range_end", end, strlen(end)) &&
	    cJSON_AddNumberToObject(req, "limit", ETCD_PAGE) &&
	    cJSON_AddTrueToObject(req, "keys_only"))
		r = etcd_call(e, "/v3/kv/range", req, what, ret, reterr);
	cJSON_Delete(req);
	return r;
}

static int
etcd_list(void *be, const char *dir, bool want_dirs, char ***ret_names, size_t *ret_n,
	  struct lf_err *reterr)
{
	struct etcd_store *e = be;
	bool root = dir[0] == '\0';
	struct names nm = { 0 };
	char *prefix = NULL, *end = NULL, *start = NULL, what[80];
	size_t plen, start_len;
	bool more = true;
	int r;

	what_key(what, sizeof(what), "list", root ? "/" : dir);
	if (asprintf(&prefix, ETCD_ROOT "%s%s", root ? "" : dir, root ? "" : "/") < 0)
		return -ENOMEM;
	plen = strlen(prefix);
	/* start: the prefix plus room for a component, a '0' or a NUL */
	start = malloc(plen + STORE_KEY_MAX + 2);
	end = strdup(prefix);
	if (start == NULL || end == NULL) {
		r = -ENOMEM;
		goto out_free;
	}
	end[plen - 1]++;			/* "dir/" .. "dir0" */
	memcpy(start, prefix, plen);
	start_len = plen;
	r = 0;
	while (more && r == 0) {
		cJSON *resp = NULL;
		const cJSON *kvs, *kv;
		size_t dlen = 0;	/* start[plen..plen+dlen) + '/': the
					 * sub-directory being skipped */

		if ((r = range_page(e, start, start_len, end, what, &resp, reterr)) < 0)
			break;
		more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "more"));
		kvs = cJSON_GetObjectItemCaseSensitive(resp, "kvs");
		for (kv = kvs ? kvs->child : NULL; kv != NULL && r == 0; kv = kv->next) {
			const cJSON *k = cJSON_GetObjectItemCaseSensitive(kv, "key");
			char *key = NULL, *rest, *slash;
			size_t klen = 0;

			if (!cJSON_IsString(k) || etcd_b64_decode(k->valuestring, &key, &klen) < 0)
				continue;
			if (klen <= plen || klen > plen + STORE_KEY_MAX ||
			    strlen(key) != klen || memcmp(key, prefix, plen) != 0 ||
			    (dlen > 0 && klen > plen + dlen &&
			     memcmp(key + plen, start + plen, dlen) == 0 &&
			     key[plen + dlen] == '/')) {
				free(key);	/* not ours, or inside a skipped dir */
				continue;
			}
			rest = key + plen;
			slash = strchr(rest, '/');
			if (slash == NULL) {
				/* a leaf: the next page starts just after it */
				if (!want_dirs && store_key_check(rest) == 0)
					r = names_add(&nm, rest, strlen(rest));
				memcpy(start + plen, rest, klen - plen + 1);
				start_len = klen + 1;	/* the key and a NUL */
				dlen = 0;
			} else {
				/* a directory: report it once; the next page
				 * starts after everything inside it */
				dlen = (size_t)(slash - rest);
				*slash = '\0';
				if (want_dirs && store_key_check(rest) == 0 &&
				    !(root && strcmp(rest, STORE_LOCK_DIR) == 0))
					r = names_add(&nm, rest, dlen);
				memcpy(start + plen, rest, dlen);
				start[plen + dlen] = '/' + 1;
				start_len = plen + dlen + 1;
			}
			free(key);
		}
		cJSON_Delete(resp);
	}
	if (r < 0)
		goto out_free;
	if (nm.n > 1)
		qsort(nm.v, nm.n, sizeof(*nm.v), store_name_cmp);
	*ret_names = nm.v;
	*ret_n = nm.n;
	nm.v = NULL;
	nm.n = 0;
out_free:
	store_names_free(nm.v, nm.n);
	free(start);
	free(end);
	free(prefix);
	return r;
}

/* ---- locks -------------------------------------------------------------- */

static int
lease_grant(struct etcd_store *e, char *ret_id, size_t size, struct lf_err *reterr)
{
	char body[32];
	cJSON *resp = NULL;
	const cJSON *id;
	int r;

	snprintf(body, sizeof(body), "{\"TTL\":%d}", ETCD_LOCK_TTL);
	if ((r = etcd_post(e, "/v3/lease/grant", body, "lease grant", &resp, reterr)) < 0)
		return r;
	id = cJSON_GetObjectItemCaseSensitive(resp, "ID");
	if (cJSON_IsString(id) && strlen(id->valuestring) < size)
		snprintf(ret_id, size, "%s", id->valuestring);
	else
		r = -EPROTO;
	cJSON_Delete(resp);
	return r;
}

/* Release a lease at once.  Past the deadline it still gets a short try of
 * its own (a clean exit frees the lock now rather than in ETCD_LOCK_TTL s),
 * but not while etcd is known not to answer. */
static void
lease_revoke(struct etcd_store *e, const char *id)
{
	uint64_t deadline = e->deadline_ms, now = clock_now_ms();
	char body[64];
	cJSON *resp = NULL;

	if (deadline != 0 && deadline < now + ETCD_REVOKE_MS)
		e->deadline_ms = now + ETCD_REVOKE_MS;
	snprintf(body, sizeof(body), "{\"ID\":\"%s\"}", id);
	if (etcd_post(e, "/v3/lease/revoke", body, "lease revoke", &resp, NULL) == 0)
		cJSON_Delete(resp);
	/* else: the lease runs out by itself within ETCD_LOCK_TTL */
	e->deadline_ms = deadline;
}

/* One attempt: create the lock key with our lease. 1: held, 0: taken. */
static int
lock_try(struct etcd_store *e, const char *fullkey, struct etcd_lock *l,
	 const char *what, struct lf_err *reterr)
{
	cJSON *req = cJSON_CreateObject(), *resp = NULL, *cmp, *succ;
	int r = -ENOMEM;

	cmp = cJSON_AddArrayToObject(req, "compare");
	succ = cJSON_AddArrayToObject(req, "success");
	if (cmp != NULL && succ != NULL &&
	    txn_add_create(cmp, succ, NULL, fullkey, e->holder, l->lease))
		r = etcd_post_json(e, "/v3/kv/txn", req, what, &resp, reterr);
	cJSON_Delete(req);
	if (r < 0)
		return r;
	r = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "succeeded")) ? 1 : 0;
	cJSON_Delete(resp);
	return r;
}

/* Is the lock key there?  A serializable read: cheap, and only a hint (the
 * txn decides). */
static int
lock_present(struct etcd_store *e, const char *fullkey, const char *what,
	     struct lf_err *reterr)
{
	cJSON *req = cJSON_CreateObject(), *resp = NULL;
	int r = -ENOMEM;

	if (req != NULL && etcd_json_add_b64(req, "key", fullkey, strlen(fullkey)) &&
	    cJSON_AddTrueToObject(req, "count_only") &&
	    cJSON_AddTrueToObject(req, "serializable"))
		r = etcd_post_json(e, "/v3/kv/range", req, what, &resp, reterr);
	cJSON_Delete(req);
	if (r < 0)
		return r;
	r = etcd_json_int(resp, "count") > 0;
	cJSON_Delete(resp);
	return r;
}

static int
etcd_lock(void *be, const char *name, struct store_lock **ret, struct lf_err *reterr)
{
	struct etcd_store *e = be;
	struct etcd_lock *l;
	char *fullkey = NULL, what[80];
	long backoff = 1;
	int r;

	if ((l = calloc(1, sizeof(*l) + strlen(name) + 1)) == NULL)
		return -ENOMEM;
	strcpy(l->name, name);
	l->base.ops = &store_etcd_ops;
	l->e = e;
	what_key(what, sizeof(what), "lock", name);
	if (asprintf(&fullkey, ETCD_ROOT STORE_LOCK_DIR "/%s", name) < 0) {
		free(l);
		return -ENOMEM;
	}
	/* "net/a" and "net_a" are one lock, as in the file backend */
	for (char *p = fullkey + strlen(ETCD_ROOT STORE_LOCK_DIR "/"); *p; p++)
		if (*p == '/')
			*p = '_';

	pthread_mutex_lock(&e->mu);
	if ((r = lease_grant(e, l->lease, sizeof(l->lease), reterr)) < 0)
		goto out_unlock;
	l->renewed_ms = clock_now_ms();
	for (;;) {
		if ((r = lock_try(e, fullkey, l, what, reterr)) != 0)
			break;
		/* Wait for the key to go (unlock, or the holder's lease
		 * expiring), without holding the mutex while asleep. */
		do {
			uint64_t wait_start = clock_now_ms();

			pthread_mutex_unlock(&e->mu);
			sleep_ms(backoff);
			backoff = backoff * 2 > 50 ? 50 : backoff * 2;
			pthread_mutex_lock(&e->mu);
			/* keep our lease and those of the locks we already
			 * hold (nested locks) alive while we wait */
			if (clock_now_ms() - l->renewed_ms >= ETCD_LOCK_TTL * 1000 / 3) {
				if ((r = lease_keepalive(e, l, reterr)) == 0 && l->lost) {
					lf_err_details(reterr, "etcd: the lease for lock \"%.200s\" "
						       "expired while waiting for it", name);
					r = -ENOLCK;	/* we were stalled > TTL */
				}
				if (r < 0)
					goto out_revoke;
			}
			if ((r = etcd_refresh(e, reterr)) < 0)
				goto out_revoke;
			r = lock_present(e, fullkey, what, reterr);
			/* etcd answered: this was waiting for the holder, which
			 * the call's deadline does not count */
			if (r >= 0 && e->deadline_ms != 0)
				e->deadline_ms += clock_now_ms() - wait_start;
		} while (r > 0);
		if (r < 0)
			goto out_revoke;
	}
	if (r < 0)
		goto out_revoke;
	l->next = e->held;
	e->held = l;
	pthread_mutex_unlock(&e->mu);
	free(fullkey);
	*ret = &l->base;
	return 0;
out_revoke:
	lease_revoke(e, l->lease);
out_unlock:
	pthread_mutex_unlock(&e->mu);
	free(fullkey);
	free(l);
	return r;
}

static void
etcd_unlock(struct store_lock *base)
{
	struct etcd_lock *l = (struct etcd_lock *)base;
	struct etcd_store *e = l->e;

	pthread_mutex_lock(&e->mu);
	for (struct etcd_lock **pp = &e->held; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	/* revoking the lease deletes the lock key with it; a failure is
	 * cleanup the lease's expiry does */
	lease_revoke(e, l->lease);
	pthread_mutex_unlock(&e->mu);
	free(l);
}

/* ---- open / free -------------------------------------------------------- */

static void
etcd_free(void *be)
{
	struct etcd_store *e = be;

	if (e == NULL)
		return;
	while (e->held != NULL)		/* the caller forgot: drop them now */
		etcd_unlock(&e->held->base);
	etcd_conn_done(e);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

static void
etcd_deadline(void *be, unsigned ms)
{
	struct etcd_store *e = be;

	pthread_mutex_lock(&e->mu);
	e->deadline_ms = ms ? clock_now_ms() + ms : 0;
	pthread_mutex_unlock(&e->mu);
}

static int
etcd_open(const struct leafnet_conf *conf, void **ret_be, struct lf_err *reterr)
{
	struct etcd_store *e;
	char host[64] = "";
	int r;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -ENOMEM;
	pthread_mutex_init(&e->mu, NULL);
	(void)gethostname(host, sizeof(host) - 1);
	snprintf(e->holder, sizeof(e->holder), "%ld@%s", (long)getpid(), host);
	if ((r = etcd_conn_init(e, conf, reterr)) < 0) {
		etcd_free(e);
		return r;
	}
	*ret_be = e;
	return 0;
}

const struct store_ops store_etcd_ops = {
	.name		= "etcd",
	.open		= etcd_open,
	.free		= etcd_free,
	.get		= etcd_get,
	.put		= etcd_put,
	.create_many	= etcd_create_many,
	.del		= etcd_del,
	.list		= etcd_list,
	.lock		= etcd_lock,
	.unlock		= etcd_unlock,
	.get_many	= etcd_get_many,
	.txn		= etcd_txn,
	.deadline	= etcd_deadline,
	.watch		= store_etcd_watch,
};
