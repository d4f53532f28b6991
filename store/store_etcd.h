/* store_etcd.h — private to the etcd backend: store_etcd.c (the mapping of
 * the store onto etcd keys, transactions and leases) and store_etcd_http.c
 * (the transport: libcurl, the JSON gateway, base64, endpoints).
 */
#ifndef LEAFNET_STORE_ETCD_H
#define LEAFNET_STORE_ETCD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>
#include <curl/curl.h>

#define ETCD_ROOT        "/leafnet/"
#define ETCD_LOCK_TTL    10		/* seconds */
#define ETCD_CONNECT_MS  2000L
#define ETCD_TOTAL_MS    5000L
#define ETCD_RESP_MAX    (64u << 20)	/* refuse answers larger than this */
#define ETCD_PAGE        512		/* keys per range page when listing */
#define ETCD_TXN_MAX     128		/* etcd's default --max-txn-ops */
#define ETCD_MAX_EPS     16

struct etcd_lock {
	struct etcd_store *e;
	struct etcd_lock  *next;	/* e->held */
	char   lease[24];		/* int64 as etcd writes it */
	long   renewed_ms;		/* last grant/keepalive (monotonic) */
	bool   lost;
	char   name[];
};

struct etcd_store {
	pthread_mutex_t mu;		/* guards everything below */
	CURL  *curl;
	struct curl_slist *hdrs;
	char  *eps[ETCD_MAX_EPS];
	size_t n_eps, cur;		/* cur: the endpoint that last answered */
	char  *resp;			/* the current answer */
	size_t resp_len, resp_cap;
	char   curl_err[CURL_ERROR_SIZE];
	char   errmsg[512];
	char   holder[96];		/* lock value: "pid@host" */
	struct etcd_lock *held;
};

/* store_etcd_http.c */
long  etcd_now_ms(void);
char *etcd_b64_encode(const char *src, size_t len);
int   etcd_b64_decode(const char *src, char **ret, size_t *ret_len);
long long etcd_json_int(const cJSON *obj, const char *name);
bool  etcd_json_add_b64(cJSON *obj, const char *name, const char *buf, size_t len);
/* POST to path on the endpoints in turn (e->mu held); the answer's JSON
 * goes to *ret.  Fills e->errmsg on failure. */
int   etcd_post(struct etcd_store *e, const char *path, const char *body, cJSON **ret);
int   etcd_post_json(struct etcd_store *e, const char *path, cJSON *req, cJSON **ret);

#endif
