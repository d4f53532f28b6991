/* store_etcd_http.c — the etcd backend's transport: one libcurl easy handle
 * per store (keep-alive), POSTs of JSON to etcd's v3 gateway, endpoint
 * failover, timeouts, errors as -errno plus a text naming the endpoint;
 * base64 for keys and values.  What is sent where is store_etcd.c's
 * business (the mapping is described there).
 *
 * libcurl is not linked but loaded with dlopen() when the first etcd store
 * is opened.  Linked, it drags ~30 shared libraries (TLS, Kerberos, LDAP,
 * ...) into every binary, and the dynamic loader then cost each CNI plugin
 * exec ~5 ms — more than the whole ADD — on hosts that use the file store.
 * <curl/curl.h> still gives us the types and constants; the nine entry
 * points we call go through the table below.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "store_private.h"
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

long
etcd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- base64 (RFC 4648, with padding) ------------------------------------ */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
etcd_b64_encode(const char *src, size_t len)
{
	const unsigned char *p = (const unsigned char *)src;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = b64_alphabet[v >> 18 & 63];
		*o++ = b64_alphabet[v >> 12 & 63];
		*o++ = i + 1 < len ? b64_alphabet[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode into a malloc'd NUL-terminated buffer; -EBADMSG on bad input. */
int
etcd_b64_decode(const char *src, char **ret, size_t *ret_len)
{
	size_t len = strlen(src), n = 0;
	uint32_t acc = 0;
	int bits = 0;
	char *out;

	while (len > 0 && src[len - 1] == '=')
		len--;
	if ((out = malloc(len / 4 * 3 + 3)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(src[i]);

		if (v < 0) {
			free(out);
			return -EBADMSG;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)(acc >> bits & 0xff);
		}
	}
	out[n] = '\0';
	*ret = out;
	if (ret_len != NULL)
		*ret_len = n;
	return 0;
}

/* ---- JSON helpers ------------------------------------------------------- */

/* int64 fields come as strings ("12"), absent when zero. */
long long
etcd_json_int(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (cJSON_IsString(it))
		return strtoll(it->valuestring, NULL, 10);
	if (cJSON_IsNumber(it))
		return (long long)it->valuedouble;
	return 0;
}

/* Add name: base64(buf[0..len)) to obj; false on OOM. */
bool
etcd_json_add_b64(cJSON *obj, const char *name, const char *buf, size_t len)
{
	char *b = etcd_b64_encode(buf, len);
	bool ok = b != NULL && cJSON_AddStringToObject(obj, name, b) != NULL;

	free(b);
	return ok;
}

/* ---- requests ----------------------------------------------------------- */

static size_t
etcd_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct etcd_store *e = arg;
	size_t n = size * nmemb;

	if (e->resp_len + n + 1 > e->resp_cap) {
		size_t cap = e->resp_cap ? e->resp_cap : 4096;
		char *nb;

		while (cap < e->resp_len + n + 1)
			cap *= 2;
		if (cap > ETCD_RESP_MAX || (nb = realloc(e->resp, cap)) == NULL)
			return 0;	/* curl fails the transfer */
		e->resp = nb;
		e->resp_cap = cap;
	}
	memcpy(e->resp + e->resp_len, data, n);
	e->resp_len += n;
	e->resp[e->resp_len] = '\0';
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

/* POST body to path on the endpoints in turn; the answer's JSON goes to
 * *ret.  Called with e->mu held. */
int
etcd_post(struct etcd_store *e, const char *path, const char *body, cJSON **ret)
{
	size_t tried = 0, msglen = 0;
	long status = 0;
	CURLcode rc = CURLE_OK;
	cJSON *resp;
	int r = -EIO;

	e->errmsg[0] = '\0';
	for (; tried < e->n_eps; tried++) {
		size_t i = (e->cur + tried) % e->n_eps;
		char url[512];

		snprintf(url, sizeof(url), "%s%s", e->eps[i], path);
		e->resp_len = 0;
		e->curl_err[0] = '\0';
		(void)lc.easy_setopt(e->curl, CURLOPT_URL, url);
		(void)lc.easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
		rc = lc.easy_perform(e->curl);
		if (rc == CURLE_OK) {
			e->cur = i;
			break;
		}
		r = curl_errno(e, rc);
		if (msglen < sizeof(e->errmsg))
			msglen += (size_t)snprintf(e->errmsg + msglen, sizeof(e->errmsg) - msglen,
						   "%setcd %s: %s", msglen ? "; " : "", e->eps[i],
						   r != -EIO && r != -EFBIG ? strerror(-r) :
						   e->curl_err[0] ? e->curl_err : lc.easy_strerror(rc));
		if (!curl_not_connected(e, rc))
			break;
	}
	if (rc != CURLE_OK) {
		log_debug("store: %s: %s", path, e->errmsg);
		return r;
	}
	(void)lc.easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
	resp = e->resp_len ? cJSON_Parse(e->resp) : NULL;
	if (status != 200 || resp == NULL || cJSON_GetObjectItemCaseSensitive(resp, "error")) {
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(resp, "error");

		r = resp != NULL && cJSON_IsString(msg) ?
		    grpc_errno(etcd_json_int(resp, "code")) : -EPROTO;
		snprintf(e->errmsg, sizeof(e->errmsg), "etcd %s%s: %s (HTTP %ld)",
			 e->eps[e->cur], path,
			 cJSON_IsString(msg) ? msg->valuestring :
			 resp == NULL ? "answer is not JSON (is this etcd's client URL?)" :
			 "unexpected answer", status);
		log_debug("store: %s", e->errmsg);
		cJSON_Delete(resp);
		return r;
	}
	*ret = resp;
	return 0;
}

int
etcd_post_json(struct etcd_store *e, const char *path, cJSON *req, cJSON **ret)
{
	char *body = cJSON_PrintUnformatted(req);
	int r;

	if (body == NULL)
		return -ENOMEM;
	r = etcd_post(e, path, body, ret);
	free(body);
	return r;
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

int
etcd_store_open(const struct leafnet_conf *conf, struct etcd_store **ret)
{
	struct etcd_store *e;
	char host[64] = "";
	int r;

	(void)pthread_once(&etcd_curl_once, etcd_curl_init);
	if (etcd_curl_init_rc != CURLE_OK)
		return -ELIBACC;	/* libcurl.so.4 missing or unusable: install libcurl4 */
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -ENOMEM;
	pthread_mutex_init(&e->mu, NULL);
	if ((r = parse_endpoints(e, conf->etcd_endpoints)) < 0)
		goto out_free;
	(void)gethostname(host, sizeof(host) - 1);
	snprintf(e->holder, sizeof(e->holder), "%ld@%s", (long)getpid(), host);
	e->hdrs = lc.slist_append(NULL, "Content-Type: application/json");
	e->curl = lc.easy_init();
	if (e->hdrs == NULL || e->curl == NULL) {
		r = -ENOMEM;
		goto out_free;
	}
	(void)lc.easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
	(void)lc.easy_setopt(e->curl, CURLOPT_HTTPHEADER, e->hdrs);
	(void)lc.easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, ETCD_CONNECT_MS);
	(void)lc.easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, ETCD_TOTAL_MS);
	(void)lc.easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, etcd_write_cb);
	(void)lc.easy_setopt(e->curl, CURLOPT_WRITEDATA, e);
	(void)lc.easy_setopt(e->curl, CURLOPT_ERRORBUFFER, e->curl_err);
	(void)lc.easy_setopt(e->curl, CURLOPT_TCP_NODELAY, 1L);
	(void)lc.easy_setopt(e->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	/* never ask a proxy from the environment: etcd is talked to directly */
	(void)lc.easy_setopt(e->curl, CURLOPT_NOPROXY, "*");
	*ret = e;
	return 0;
out_free:
	etcd_store_free(e);
	return r;
}

void
etcd_store_free(struct etcd_store *e)
{
	if (e == NULL)
		return;
	while (e->held != NULL)		/* the caller forgot: drop them now */
		etcd_store_unlock(e->held);
	if (e->curl != NULL)
		lc.easy_cleanup(e->curl);
	lc.slist_free_all(e->hdrs);
	for (size_t i = 0; i < e->n_eps; i++)
		free(e->eps[i]);
	free(e->resp);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

const char *
etcd_store_error(struct etcd_store *e)
{
	return e->errmsg;
}
