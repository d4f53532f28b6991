/* store_etcd_http.c — the etcd backend's transport: POSTs of JSON to
 * etcd's v3 gateway, endpoint failover, timeouts, the deadline and the
 * fast-fail, errors as -errno plus a text naming the endpoint (written to
 * the caller's reterr, never kept here).  The JSON and base64 of requests
 * and answers are store_etcd_json.c's; what is sent where is
 * store_etcd.c's business (the mapping is described there).
 *
 * Two HTTP clients carry the requests, chosen per endpoint by its scheme:
 *   http://   libevent's evhttp (store_etcd_evhttp.c): a CNI plugin is a
 *             process per ADD, and libcurl costs it 8-12 ms to load (32
 *             shared objects) where libevent costs ~0.45 ms;
 *   https://  libcurl, one easy handle per store (keep-alive), here: TLS
 *             and whatever else libcurl's defaults give.
 * LEAFNET_ETCD_TRANSPORT=curl in the environment sends every endpoint
 * through libcurl (tests compare the two; a way back if evhttp
 * misbehaves somewhere); =evhttp or unset is the choice above.  When
 * libevent cannot be loaded, http:// endpoints fall back to libcurl.
 * The store's watch (store_etcd_watch.c, leafnetd only) stays on libcurl.
 *
 * Neither library is linked: each is loaded with dlopen() when the first
 * etcd store that needs it is opened.  Linked, libcurl drags ~30 shared
 * libraries (TLS, Kerberos, LDAP, ...) into every binary, and the dynamic
 * loader then cost each CNI plugin exec ~5 ms — more than the whole ADD —
 * on hosts that use the file store; libevent would cost them less, but
 * still something, for nothing.  <curl/curl.h> still gives us the types
 * and constants; the nine entry points we call go through the table below.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "err.h"
#include "log.h"
#include "store_etcd.h"

#define ETCD_LIBCURL "libcurl.so.4"

static struct {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
} lc;

static pthread_once_t etcd_curl_once = PTHREAD_ONCE_INIT;
static CURLcode etcd_curl_init_rc = CURLE_FAILED_INIT;

static void
etcd_curl_init(void)
{
	static const struct { const char *name; void **fn; } syms[] = {
		{ "curl_global_init",	(void **)&lc.global_init },
		{ "curl_easy_init",	(void **)&lc.easy_init },
		{ "curl_easy_setopt",	(void **)&lc.easy_setopt },
		{ "curl_easy_perform",	(void **)&lc.easy_perform },
		{ "curl_easy_getinfo",	(void **)&lc.easy_getinfo },
		{ "curl_easy_cleanup",	(void **)&lc.easy_cleanup },
		{ "curl_easy_strerror",	(void **)&lc.easy_strerror },
		{ "curl_slist_append",	(void **)&lc.slist_append },
		{ "curl_slist_free_all", (void **)&lc.slist_free_all },
	};
	void *h = dlopen(ETCD_LIBCURL, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		log_debug("etcd: %s", dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].fn = dlsym(h, syms[i].name);
		if (*syms[i].fn == NULL) {
			log_debug("etcd: %s: no %s", ETCD_LIBCURL, syms[i].name);
			return;		/* keep the handle: nothing to gain from closing */
		}
	}
	etcd_curl_init_rc = lc.global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- requests ----------------------------------------------------------- */

static size_t
etcd_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct etcd_store *e = arg;
	size_t n = size * nmemb;

	if (e->resp.len + n > ETCD_RESP_MAX || dbuf_append(&e->resp, data, n) < 0)
		return 0;	/* curl fails the transfer */
	return n;
}

/* Did the request never reach this endpoint (so another may take it)?
 * A timeout counts only when not one byte of the request went out (a
 * connect that hung); after that the request may have been applied. */
static bool
curl_not_connected(struct etcd_store *e, CURLcode rc)
{
	long sent = 0;

	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		return true;
	if (rc != CURLE_OPERATION_TIMEDOUT)
		return false;
	(void)lc.easy_getinfo(e->curl, CURLINFO_REQUEST_SIZE, &sent);
	return sent == 0;
}

static int
curl_errno(struct etcd_store *e, CURLcode rc)
{
	long oserr = 0;

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		(void)lc.easy_getinfo(e->curl, CURLINFO_OS_ERRNO, &oserr);
		return oserr > 0 ? -(int)oserr : -ECONNREFUSED;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EINVAL;
	case CURLE_WRITE_ERROR:
		return -EFBIG;
	default:
		return -EIO;
	}
}

/* gRPC status (in the gateway's error body) -> errno. */
static int
grpc_errno(long long code)
{
	switch (code) {
	case 3:  return -EINVAL;	/* InvalidArgument: bad key, too large */
	case 4:  return -ETIMEDOUT;	/* DeadlineExceeded */
	case 5:  return -ENOENT;	/* NotFound: e.g. the lease */
	case 7:					/* PermissionDenied */
	case 16: return -EACCES;	/* Unauthenticated */
	case 8:  return -ENOSPC;	/* ResourceExhausted: quota */
	case 14: return -EAGAIN;	/* Unavailable: no leader */
	default: return -EIO;
	}
}

/* Did etcd not answer at all (so the next requests of this store should not
 * wait for it again)? */
static bool
curl_no_answer(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	       rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING ||
	       rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR;
}

/* Every endpoint, for a message that names them. */
static void
eps_list(const struct etcd_store *e, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < e->n_eps && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
					e->eps[i]);
}

/* May a request go out now?  -ETIMEDOUT past the deadline, down_err while
 * etcd is known not to answer; *ret_budget: how long it may take. */
static int
etcd_may_send(struct etcd_store *e, const char *what, long *ret_budget,
	      struct lf_err *reterr)
{
	uint64_t now = clock_now_ms();
	long budget = ETCD_TOTAL_MS;
	char eps[256];

	if (e->down_until_ms != 0 && now < e->down_until_ms) {
		lf_err_details(reterr, "%s; not sent: %.70s", e->down_msg, what);
		return e->down_err;
	}
	if (e->deadline_ms != 0) {
		if (now >= e->deadline_ms) {
			eps_list(e, eps, sizeof(eps));
			lf_err_details(reterr, "etcd %s: the time for this call ran out "
				       "waiting for etcd (%.70s not sent)", eps, what);
			return -ETIMEDOUT;
		}
		if ((long)(e->deadline_ms - now) < budget)
			budget = (long)(e->deadline_ms - now);
	}
	*ret_budget = budget;
	return 0;
}

/* One request to endpoint i through libcurl. */
static void
curl_try(struct etcd_store *e, size_t i, const char *path, const char *body,
	 long left, long connect_ms, struct etcd_try *t)
{
	char url[512];
	CURLcode rc;
	int r;

	snprintf(url, sizeof(url), "%s%s", e->eps[i], path);
	e->resp.len = 0;
	e->curl_err[0] = '\0';
	(void)lc.easy_setopt(e->curl, CURLOPT_URL, url);
	(void)lc.easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
	(void)lc.easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, left);
	(void)lc.easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	rc = lc.easy_perform(e->curl);
	if (rc == CURLE_OK) {
		t->r = 0;
		(void)lc.easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &t->status);
		return;
	}
	t->r = r = curl_errno(e, rc);
	t->not_sent = curl_not_connected(e, rc);
	t->no_answer = curl_no_answer(rc);
	snprintf(t->err, sizeof(t->err), "%s", r != -EIO && r != -EFBIG ? strerror(-r) :
		 e->curl_err[0] ? e->curl_err : lc.easy_strerror(rc));
}

/* POST body to path on the endpoints in turn; the answer's JSON goes to
 * *ret.  Called with e->mu held.  The whole request (every endpoint tried)
 * takes at most ETCD_TOTAL_MS (or what is left before the deadline); when
 * it got no answer, the store fails further requests at once for
 * ETCD_DOWN_MS. */
int
etcd_post(struct etcd_store *e, const char *path, const char *body, const char *what,
	  cJSON **ret, struct lf_err *reterr)
{
	char msg[LF_ERR_DETAILS_MAX - 120];
	size_t tried = 0, msglen = 0;
	long budget = 0;
	uint64_t start;
	struct etcd_try t = { .r = -EIO };
	cJSON *resp;
	int r = -EIO;

	if ((r = etcd_may_send(e, what, &budget, reterr)) < 0)
		return r;
	start = clock_now_ms();
	msg[0] = '\0';
	for (; tried < e->n_eps; tried++) {
		size_t i = (e->cur + tried) % e->n_eps;
		long left = budget - (long)(clock_now_ms() - start);
		long connect_ms = left < ETCD_CONNECT_MS ? left : ETCD_CONNECT_MS;

		memset(&t, 0, sizeof(t));
		if (left <= 0) {
			t.r = -ETIMEDOUT;
			t.no_answer = true;
			break;
		}
		if (e->via[i] == ETCD_VIA_CURL)
			curl_try(e, i, path, body, left, connect_ms, &t);
		else
			etcd_ev_post(e, i, path, body, left, connect_ms, &t);
		if (t.r == 0) {
			e->cur = i;
			break;
		}
		if (msglen < sizeof(msg))
			msglen += (size_t)snprintf(msg + msglen, sizeof(msg) - msglen,
						   "%setcd %s: %s", msglen ? "; " : "", e->eps[i],
						   t.err);
		if (!t.not_sent)
			break;
	}
	if (t.r < 0) {
		r = t.r;
		if (msglen == 0)
			eps_list(e, msg, sizeof(msg));
		if (t.no_answer) {
			e->down_until_ms = clock_now_ms() + ETCD_DOWN_MS;
			e->down_err = r;
			snprintf(e->down_msg, sizeof(e->down_msg), "%.*s (%.70s)",
				 (int)(sizeof(e->down_msg) - 80), msg, what);
		}
		log_debug("store: %s %s: %s", what, path, msg);
		lf_err_details(reterr, "%s (%.70s)", msg, what);
		return r;
	}
	e->down_until_ms = 0;
	resp = e->resp.len ? cJSON_Parse(e->resp.data) : NULL;
	if (t.status != 200 || resp == NULL || cJSON_GetObjectItemCaseSensitive(resp, "error")) {
		const cJSON *emsg = cJSON_GetObjectItemCaseSensitive(resp, "error");

		r = resp != NULL && cJSON_IsString(emsg) ?
		    grpc_errno(etcd_json_int(resp, "code")) : -EPROTO;
		snprintf(msg, sizeof(msg), "etcd %s%s: %s (HTTP %ld)", e->eps[e->cur], path,
			 cJSON_IsString(emsg) ? emsg->valuestring :
			 resp == NULL ? "answer is not JSON (is this etcd's client URL?)" :
			 "unexpected answer", t.status);
		log_debug("store: %s: %s", what, msg);
		lf_err_details(reterr, "%s (%.70s)", msg, what);
		cJSON_Delete(resp);
		return r;
	}
	*ret = resp;
	return 0;
}


/* ---- open / free -------------------------------------------------------- */

static int
parse_endpoints(struct etcd_store *e, const char *list)
{
	const char *p = list;

	while (*p != '\0') {
		size_t len;

		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' ||
				   p[len - 1] == '/'))
			len--;
		if (len == 0 || len > 256 || e->n_eps == ETCD_MAX_EPS)
			return -EINVAL;
		if ((e->eps[e->n_eps] = strndup(p, len)) == NULL)
			return -ENOMEM;
		e->n_eps++;
		p += strcspn(p, ",");
	}
	return e->n_eps > 0 ? 0 : -EINVAL;
}

/* LEAFNET_ETCD_TRANSPORT: "curl" sends every endpoint through libcurl. */
static int
transport_forced_curl(bool *ret, struct lf_err *reterr)
{
	const char *v = getenv("LEAFNET_ETCD_TRANSPORT");

	*ret = v != NULL && strcmp(v, "curl") == 0;
	if (v == NULL || *v == '\0' || *ret || strcmp(v, "evhttp") == 0)
		return 0;
	/* logged too: a caller may put its own words over reterr's */
	log_warnx("etcd: LEAFNET_ETCD_TRANSPORT=\"%.40s\": not curl or evhttp", v);
	lf_err_details(reterr, "LEAFNET_ETCD_TRANSPORT=\"%.40s\": not curl or evhttp", v);
	return -EINVAL;
}

int
etcd_conn_init(struct etcd_store *e, const struct leafnet_conf *conf, struct lf_err *reterr)
{
	bool force_curl, need_curl = false, need_ev = false;
	int r;

	if ((r = transport_forced_curl(&force_curl, reterr)) < 0)
		return r;
	if ((r = parse_endpoints(e, conf->etcd_endpoints)) < 0) {
		lf_err_details(reterr, "etcd_endpoints \"%.200s\": not a list of URLs",
			       conf->etcd_endpoints);
		return r;
	}
	for (size_t i = 0; i < e->n_eps; i++) {
		e->via[i] = !force_curl && strncasecmp(e->eps[i], "http://", 7) == 0 ?
			    ETCD_VIA_EVHTTP : ETCD_VIA_CURL;
		need_ev |= e->via[i] == ETCD_VIA_EVHTTP;
	}
	if (need_ev && etcd_ev_load() < 0) {
		log_debug("etcd: cannot load libevent-2.1.so.7: http:// endpoints through %s",
			  ETCD_LIBCURL);
		for (size_t i = 0; i < e->n_eps; i++)
			e->via[i] = ETCD_VIA_CURL;
		need_ev = false;
	}
	for (size_t i = 0; i < e->n_eps; i++)
		need_curl |= e->via[i] == ETCD_VIA_CURL;
	if (need_ev && (r = etcd_ev_open(e)) < 0)
		return r;
	if (!need_curl)
		return 0;
	(void)pthread_once(&etcd_curl_once, etcd_curl_init);
	if (etcd_curl_init_rc != CURLE_OK) {
		lf_err_details(reterr, "cannot load %s (install libcurl4)%s", ETCD_LIBCURL,
			       force_curl ? "" : ": needed for https:// endpoints, "
			       "and for http:// ones without libevent-2.1.so.7 (libevent-2.1-7)");
		return -ELIBACC;
	}
	e->hdrs = lc.slist_append(NULL, "Content-Type: application/json");
	e->curl = lc.easy_init();
	if (e->hdrs == NULL || e->curl == NULL)
		return -ENOMEM;
	(void)lc.easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
	(void)lc.easy_setopt(e->curl, CURLOPT_HTTPHEADER, e->hdrs);
	(void)lc.easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, ETCD_CONNECT_MS);
	(void)lc.easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, ETCD_TOTAL_MS);	/* per request: etcd_post */
	(void)lc.easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, etcd_write_cb);
	(void)lc.easy_setopt(e->curl, CURLOPT_WRITEDATA, e);
	(void)lc.easy_setopt(e->curl, CURLOPT_ERRORBUFFER, e->curl_err);
	(void)lc.easy_setopt(e->curl, CURLOPT_TCP_NODELAY, 1L);
	(void)lc.easy_setopt(e->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	/* never ask a proxy from the environment: etcd is talked to directly */
	(void)lc.easy_setopt(e->curl, CURLOPT_NOPROXY, "*");
	return 0;
}

/* Undoes etcd_conn_init, also a partial one (e zeroed before it). */
void
etcd_conn_done(struct etcd_store *e)
{
	if (e->curl != NULL)
		lc.easy_cleanup(e->curl);
	if (e->hdrs != NULL)
		lc.slist_free_all(e->hdrs);
	etcd_ev_close(e);
	for (size_t i = 0; i < e->n_eps; i++)
		free(e->eps[i]);
	dbuf_free(&e->resp);
}
