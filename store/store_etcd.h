/* store_etcd.h — private to the etcd backend: store_etcd.c (the mapping of
 * the store onto etcd keys, transactions and leases) and store_etcd_http.c
 * (the transport: libcurl, the JSON gateway, base64, endpoints).
 */
#ifndef LEAFNET_STORE_ETCD_H
#define LEAFNET_STORE_ETCD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <stdint.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "dbuf.h"
#include "err.h"
#include "store_backend.h"

struct leafnet_conf;
struct lf_err;

#define ETCD_ROOT        "/leafnet/"
#define ETCD_LOCK_TTL    10		/* seconds */
#define ETCD_CONNECT_MS  1000L		/* per endpoint: TCP (+TLS) connect */
#define ETCD_TOTAL_MS    1500L		/* per request, over every endpoint tried */
#define ETCD_DOWN_MS     3000L		/* after a request got no answer: fail at once */
#define ETCD_REVOKE_MS   300L		/* unlock past the deadline: a short try */
#define ETCD_RESP_MAX    (64u << 20)	/* refuse answers larger than this */
#define ETCD_PAGE        512		/* keys per range page when listing */
#define ETCD_TXN_MAX     128		/* etcd's default --max-txn-ops */
#define ETCD_MAX_EPS     16

struct etcd_lock {
	struct store_lock base;		/* first: store_unlock() dispatches on it */
	struct etcd_store *e;
	struct etcd_lock  *next;	/* e->held */
	char   lease[24];		/* int64 as etcd writes it */
	uint64_t renewed_ms;		/* last grant/keepalive (clock_now_ms) */
	bool   lost;
	char   name[];
};

/* One per struct store.  The mutex makes it safe to share between
 * threads: every request holds it from the first byte sent to the last
 * byte of the answer parsed, so the handle, the answer buffer and curl's
 * error buffer belong to one request at a time.  Error text never stays
 * here: it goes to the caller's reterr. */
struct etcd_store {
	pthread_mutex_t mu;		/* guards everything below */
	CURL  *curl;
	struct curl_slist *hdrs;
	char  *eps[ETCD_MAX_EPS];
	size_t n_eps, cur;		/* cur: the endpoint that last answered */
	struct dbuf resp;		/* the current answer */
	char   curl_err[CURL_ERROR_SIZE];
	char   holder[96];		/* lock value: "pid@host" */
	struct etcd_lock *held;
	/* store_set_deadline(): 0 or the clock_now_ms() after which no
	 * request is sent (time spent waiting for a lock someone else holds
	 * moves it on: the deadline bounds waiting for etcd, not for peers) */
	uint64_t deadline_ms;
	/* the last request got no answer (refused, unreachable, timed out):
	 * until down_until_ms every request fails at once with down_err and
	 * down_msg, so one plugin call pays for an outage once, not per request */
	uint64_t down_until_ms;
	int    down_err;
	char   down_msg[LF_ERR_DETAILS_MAX - 120];
};

/* store_etcd_http.c */
/* The connection: endpoints from conf, the curl handle.  -ELIBACC when
 * libcurl.so.4 cannot be loaded (the text in reterr->details). */
int   etcd_conn_init(struct etcd_store *e, const struct leafnet_conf *conf,
		     struct lf_err *reterr);
void  etcd_conn_done(struct etcd_store *e);
/* store_etcd_json.c */
int   etcd_b64_decode(const char *src, char **ret, size_t *ret_len);
long long etcd_json_int(const cJSON *obj, const char *name);
bool  etcd_json_add_b64(cJSON *obj, const char *name, const char *buf, size_t len);
/* store_etcd_json.c: etcd_post_json() prints req and calls etcd_post().
 * store_etcd_http.c: POST to path on the endpoints in turn (e->mu held); the answer's JSON
 * goes to *ret.  On failure reterr->details (reterr may be NULL) says what
 * etcd or the network said, naming the endpoint(s), and `what` (the
 * request: "get networks/a"). */
int   etcd_post(struct etcd_store *e, const char *path, const char *body, const char *what,
		cJSON **ret, struct lf_err *reterr);
int   etcd_post_json(struct etcd_store *e, const char *path, cJSON *req, const char *what,
		     cJSON **ret, struct lf_err *reterr);

#endif
