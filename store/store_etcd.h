/* store_etcd.h — private to the etcd backend: store_etcd.c (the mapping of
 * the store onto etcd keys, transactions and leases) and the transport:
 * store_etcd_http.c (endpoints, failover, timeouts, errors; libcurl for
 * https://), store_etcd_evhttp.c (libevent's HTTP client for http://),
 * store_etcd_json.c (the JSON gateway's encoding, base64).
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

/* Which library carries an endpoint's requests (store_etcd_http.c says why
 * there are two). */
enum etcd_via {
	ETCD_VIA_EVHTTP,		/* http://: libevent's evhttp client */
	ETCD_VIA_CURL,			/* https:// (or LEAFNET_ETCD_TRANSPORT=curl) */
};

struct etcd_ev;				/* store_etcd_evhttp.c */

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
 * byte of the answer parsed, so the handles, the answer buffer and curl's
 * error buffer belong to one request at a time.  Error text never stays
 * here: it goes to the caller's reterr. */
struct etcd_store {
	pthread_mutex_t mu;		/* guards everything below */
	CURL  *curl;			/* NULL unless an endpoint goes through curl */
	struct curl_slist *hdrs;
	struct etcd_ev *ev;		/* NULL unless an endpoint goes through evhttp */
	char  *eps[ETCD_MAX_EPS];
	enum etcd_via via[ETCD_MAX_EPS];
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
/* The connection: endpoints from conf, the library each needs (loaded
 * here, the first time).  -ELIBACC when neither libevent-2.1.so.7 nor
 * libcurl.so.4 can carry an endpoint (the text in reterr->details). */
int   etcd_conn_init(struct etcd_store *e, const struct leafnet_conf *conf,
		     struct lf_err *reterr);
void  etcd_conn_done(struct etcd_store *e);

/* One request to one endpoint, as a transport reports it to etcd_post(). */
struct etcd_try {
	int   r;		/* 0: an HTTP answer (status, body in e->resp); else -errno */
	long  status;		/* the HTTP status when r == 0 */
	bool  not_sent;		/* r < 0 and not one byte reached the endpoint:
				 * another endpoint may take the request */
	bool  no_answer;	/* r < 0 and nothing came back (refused, unreachable,
				 * timed out, closed): the store fails fast a while */
	char  err[CURL_ERROR_SIZE + 64]; /* r < 0: what happened, without the endpoint */
};
/* store_etcd_evhttp.c: loads libevent-2.1.so.7 (once per process): 0 or
 * -ELIBACC.  etcd_ev_open/close: e's per-endpoint connections. */
int   etcd_ev_load(void);
int   etcd_ev_open(struct etcd_store *e);
void  etcd_ev_close(struct etcd_store *e);
/* POST body to e->eps[ep] + path in at most left_ms (its connect in at most
 * connect_ms); the answer's body goes to e->resp.  Fills *t; e->mu held. */
void  etcd_ev_post(struct etcd_store *e, size_t ep, const char *path, const char *body,
		   long left_ms, long connect_ms, struct etcd_try *t);
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
