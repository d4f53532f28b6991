/* store_etcd_watch.c — store_watch() for the `etcd` backend.
 *
 * One POST /v3/watch on the JSON gateway, a connection of its own (not the
 * store's keep-alive handle: the stream never ends, and the store's mutex
 * is never held while it runs, so the store's other requests go on beside
 * it).  The body holds one create_request per watched dir (newline
 * separated: the gateway reads a stream of requests); the answer is a
 * stream of JSON messages, one per line:
 *   {"result":{"header":..,"created":true}}             one per create_request:
 *                                                       READY after the last
 *   {"result":{..,"events":[{"type":"DELETE"?,"kv":{"key":b64,..}}]}}
 *   {"result":{..,"canceled":true,"compact_revision":N}} -> -ESTALE (lost)
 *   {"error":{..}}                                      -> -EIO (lost)
 * curl's multi interface runs it, polling stop_fd beside the socket.  The
 * endpoints are tried in turn for the connection; once the stream has
 * started, its end is the end of the watch (the caller watches again, on
 * whichever endpoint answers, and re-reads on READY).  TCP keepalives find
 * a peer that vanished without a FIN.
 *
 * libcurl is dlopen()ed as in store_etcd_http.c; the multi entry points
 * are looked up here, only by a process that watches (leafnetd).
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dbuf.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "store_etcd.h"

#define EW_LIBCURL	"libcurl.so.4"
#define EW_LINE_MAX	(64u << 20)

static struct {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	void (*easy_cleanup)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_perform)(CURLM *m, int *running);
	CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd *extra, unsigned n, int ms,
				int *ret);
	CURLMsg *(*multi_info_read)(CURLM *m, int *left);
	CURLMcode (*multi_cleanup)(CURLM *m);
} ew;

static pthread_once_t ew_once = PTHREAD_ONCE_INIT;
static int ew_init_rc = -ELIBACC;

static void
ew_init(void)
{
	static const struct { const char *name; void **fn; } syms[] = {
		{ "curl_global_init",		(void **)&ew.global_init },
		{ "curl_easy_init",		(void **)&ew.easy_init },
		{ "curl_easy_setopt",		(void **)&ew.easy_setopt },
		{ "curl_easy_cleanup",		(void **)&ew.easy_cleanup },
		{ "curl_easy_getinfo",		(void **)&ew.easy_getinfo },
		{ "curl_easy_strerror",		(void **)&ew.easy_strerror },
		{ "curl_slist_append",		(void **)&ew.slist_append },
		{ "curl_slist_free_all",	(void **)&ew.slist_free_all },
		{ "curl_multi_init",		(void **)&ew.multi_init },
		{ "curl_multi_add_handle",	(void **)&ew.multi_add_handle },
		{ "curl_multi_remove_handle",	(void **)&ew.multi_remove_handle },
		{ "curl_multi_perform",		(void **)&ew.multi_perform },
		{ "curl_multi_poll",		(void **)&ew.multi_poll },
		{ "curl_multi_info_read",	(void **)&ew.multi_info_read },
		{ "curl_multi_cleanup",		(void **)&ew.multi_cleanup },
	};
	void *h = dlopen(EW_LIBCURL, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL)
		return;
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		if ((*syms[i].fn = dlsym(h, syms[i].name)) == NULL)
			return;
	ew_init_rc = ew.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ELIBACC;
}

struct ew_stream {
	const struct store_watch *w;
	struct dbuf line;		/* the message being received */
	size_t created;			/* create_requests confirmed */
	bool ready, got_bytes;
	int err;			/* what ended the stream (0: nothing yet) */
	char text[256];
};

static void
ew_fail(struct ew_stream *st, int err, const char *fmt, const char *arg)
{
	if (st->err != 0)
		return;
	st->err = err;
	snprintf(st->text, sizeof(st->text), fmt, arg);
}

static void
ew_events(struct ew_stream *st, const cJSON *events)
{
	const cJSON *ev;

	cJSON_ArrayForEach(ev, events) {
		const cJSON *kv = cJSON_GetObjectItemCaseSensitive(ev, "kv");
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(kv, "key");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(kv, "value");
		bool del = cJSON_IsString(type) && strcmp(type->valuestring, "DELETE") == 0;
		char *key = NULL, *val = NULL;
		size_t len = 0;

		if (!cJSON_IsString(k) || etcd_b64_decode(k->valuestring, &key, &len) < 0)
			continue;
		/* the value, when it came (a watcher may skip a read with it);
		 * one that does not decode is passed as unknown */
		if (!del && cJSON_IsString(v) && etcd_b64_decode(v->valuestring, &val, NULL) < 0)
			val = NULL;
		if (len > strlen(ETCD_ROOT) && strncmp(key, ETCD_ROOT, strlen(ETCD_ROOT)) == 0 &&
		    store_watch_match(st->w, key + strlen(ETCD_ROOT)))
			st->w->cb(&(struct store_event){
				.type = del ? STORE_EV_DEL : STORE_EV_PUT,
				.key = key + strlen(ETCD_ROOT), .val = val }, st->w->arg);
		free(val);
		free(key);
	}
}

/* One message of the stream. */
static void
ew_message(struct ew_stream *st, const char *text)
{
	cJSON *o = cJSON_Parse(text);
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "result");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(o, "error");

	if (o == NULL) {
		ew_fail(st, -EPROTO, "watch: an answer that is not JSON: %.80s", text);
	} else if (err != NULL || !cJSON_IsObject(res)) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(err, "message");

		ew_fail(st, -EIO, "watch: %.200s", cJSON_IsString(m) ? m->valuestring :
			"unexpected answer");
	} else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "canceled"))) {
		const cJSON *cr = cJSON_GetObjectItemCaseSensitive(res, "compact_revision");

		ew_fail(st, -ESTALE, "watch canceled by etcd%s", cr ? " (compacted)" : "");
	} else {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "created")) &&
		    ++st->created == st->w->n_dirs && !st->ready) {
			st->ready = true;
			st->w->cb(&(struct store_event){ .type = STORE_EV_READY }, st->w->arg);
		}
		ew_events(st, cJSON_GetObjectItemCaseSensitive(res, "events"));
	}
	cJSON_Delete(o);
}

static size_t
ew_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct ew_stream *st = arg;
	size_t n = size * nmemb;
	char *nl;

	st->got_bytes = true;
	if (st->line.len + n > EW_LINE_MAX || dbuf_append(&st->line, data, n) < 0) {
		ew_fail(st, -EFBIG, "watch: a message larger than %s", "64 MiB");
		return 0;
	}
	/* dbuf_append keeps it NUL-terminated */
	while ((nl = memchr(st->line.data, '\n', st->line.len)) != NULL) {
		size_t len = (size_t)(nl - st->line.data);

		*nl = '\0';
		if (len > 0)
			ew_message(st, st->line.data);
		memmove(st->line.data, nl + 1, st->line.len - len - 1);
		st->line.len -= len + 1;
		st->line.data[st->line.len] = '\0';
		if (st->err != 0)
			return 0;
	}
	return n;
}

/* The request body: a create_request per dir. */
static char *
ew_body(const struct store_watch *w)
{
	struct dbuf b = { 0 };
	int bad = 0;

	for (size_t i = 0; i < w->n_dirs && !bad; i++) {
		cJSON *o = cJSON_CreateObject(), *cr = cJSON_AddObjectToObject(o, "create_request");
		char *from = NULL, *to = NULL, *text = NULL;

		bad = cr == NULL || asprintf(&from, ETCD_ROOT "%s/", w->dirs[i]) < 0 ||
		      asprintf(&to, ETCD_ROOT "%s0", w->dirs[i]) < 0 ||	/* '/' + 1 */
		      !etcd_json_add_b64(cr, "key", from, strlen(from)) ||
		      !etcd_json_add_b64(cr, "range_end", to, strlen(to)) ||
		      (text = cJSON_PrintUnformatted(o)) == NULL ||
		      dbuf_append(&b, text, strlen(text)) < 0 || dbuf_append(&b, "\n", 1) < 0;
		free(from);
		free(to);
		free(text);
		cJSON_Delete(o);
	}
	if (bad || b.data == NULL) {
		dbuf_free(&b);
		return NULL;
	}
	return b.data;		/* NUL-terminated; the caller frees it */
}

/* Run the stream on endpoint url until it ends or stop_fd is readable. */
static int
ew_run(const char *url, const char *body, struct curl_slist *hdrs, struct ew_stream *st,
       CURLcode *ret_rc)
{
	CURLM *m = ew.multi_init();
	CURL *h = ew.easy_init();
	CURLMsg *msg;
	int running = 1, left, r = 0;

	*ret_rc = CURLE_OK;
	if (m == NULL || h == NULL) {
		r = -ENOMEM;
		goto out;
	}
	(void)ew.easy_setopt(h, CURLOPT_URL, url);
	(void)ew.easy_setopt(h, CURLOPT_POSTFIELDS, body);
	(void)ew.easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	(void)ew.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	(void)ew.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ETCD_CONNECT_MS);
	(void)ew.easy_setopt(h, CURLOPT_WRITEFUNCTION, ew_write_cb);
	(void)ew.easy_setopt(h, CURLOPT_WRITEDATA, st);
	(void)ew.easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	(void)ew.easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	(void)ew.easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 10L);
	(void)ew.easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 5L);
	(void)ew.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)ew.easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (ew.multi_add_handle(m, h) != CURLM_OK) {
		r = -ENOMEM;
		goto out;
	}
	while (running) {
		struct curl_waitfd stop = { .fd = st->w->stop_fd, .events = CURL_WAIT_POLLIN };
		int n = 0;

		if (ew.multi_perform(m, &running) != CURLM_OK) {
			r = -EIO;
			break;
		}
		if (!running)
			break;
		if (ew.multi_poll(m, &stop, 1, 1000, &n) != CURLM_OK) {
			r = -EIO;
			break;
		}
		if (stop.revents) {
			r = 1;		/* stopped */
			break;
		}
	}
	while ((msg = ew.multi_info_read(m, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE)
			*ret_rc = msg->data.result;
	(void)ew.multi_remove_handle(m, h);
out:
	if (h != NULL)
		ew.easy_cleanup(h);
	if (m != NULL)
		(void)ew.multi_cleanup(m);
	return r;
}

int
store_etcd_watch(void *be, const struct store_watch *w, struct lf_err *reterr)
{
	struct etcd_store *e = be;
	struct curl_slist *hdrs = NULL;
	char *eps[ETCD_MAX_EPS], *body = NULL;
	size_t n_eps, cur;
	int r = -ECONNREFUSED;

	(void)pthread_once(&ew_once, ew_init);
	if (ew_init_rc < 0) {
		lf_err_details(reterr, "cannot load %s with curl_multi_poll (libcurl4 >= 7.66)",
			       EW_LIBCURL);
		return ew_init_rc;
	}
	pthread_mutex_lock(&e->mu);
	n_eps = e->n_eps;
	cur = e->cur;
	for (size_t i = 0; i < n_eps; i++)
		eps[i] = strdup(e->eps[i]);
	pthread_mutex_unlock(&e->mu);
	for (size_t i = 0; i < n_eps; i++)
		if (eps[i] == NULL)
			r = -ENOMEM;
	body = ew_body(w);
	hdrs = ew.slist_append(NULL, "Content-Type: application/json");
	if (body == NULL || hdrs == NULL)
		r = -ENOMEM;
	for (size_t t = 0; r != -ENOMEM && t < n_eps; t++) {
		const char *ep = eps[(cur + t) % n_eps];
		struct ew_stream st = { .w = w };
		char url[512];
		CURLcode rc;

		snprintf(url, sizeof(url), "%s/v3/watch", ep);
		r = ew_run(url, body, hdrs, &st, &rc);
		dbuf_free(&st.line);
		if (r == 1) {
			r = 0;
			break;
		}
		if (r < 0) {
			lf_err_details(reterr, "etcd %s: watch: %s", ep, strerror(-r));
			break;
		}
		if (st.err != 0) {
			r = st.err;
			lf_err_details(reterr, "etcd %s: %s", ep, st.text);
			break;
		}
		if (!st.got_bytes && (rc == CURLE_COULDNT_CONNECT ||
				      rc == CURLE_COULDNT_RESOLVE_HOST ||
				      rc == CURLE_OPERATION_TIMEDOUT)) {
			r = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
			lf_err_details(reterr, "etcd %s: watch: %s", ep, ew.easy_strerror(rc));
			continue;	/* the next endpoint */
		}
		/* the stream ended: etcd went away (or closed it) */
		r = -ECONNRESET;
		lf_err_details(reterr, "etcd %s: watch stream ended: %s", ep,
			       rc == CURLE_OK ? "closed by etcd" : ew.easy_strerror(rc));
		break;
	}
	if (hdrs != NULL)
		ew.slist_free_all(hdrs);
	free(body);
	for (size_t i = 0; i < n_eps; i++)
		free(eps[i]);
	return r;
}
