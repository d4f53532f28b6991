/* store_etcd_json.c — what the etcd backend's requests and answers are
 * made of, apart from the transport (so the answer side can be fuzzed
 * without an etcd): base64 for keys and values (RFC 4648 with padding,
 * libresolv's b64_ntop/b64_pton) and etcd's int64-as-string fields.
 */
#include <errno.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "store_etcd.h"

/* ---- base64 (RFC 4648, with padding) ------------------------------------ */

static char *
b64_encode(const char *src, size_t len)
{
	size_t size = (len + 2) / 3 * 4 + 1;
	char *out = malloc(size);

	if (out != NULL && b64_ntop((const unsigned char *)src, len, out, size) < 0) {
		free(out);
		out = NULL;
	}
	return out;
}

/* Decode into a malloc'd NUL-terminated buffer; -EBADMSG on bad input. */
int
etcd_b64_decode(const char *src, char **ret, size_t *ret_len)
{
	size_t size = strlen(src) / 4 * 3 + 3;
	char *out;
	int n;

	if ((out = malloc(size + 1)) == NULL)
		return -ENOMEM;
	n = b64_pton(src, (unsigned char *)out, size);
	if (n < 0) {
		free(out);
		return -EBADMSG;
	}
	out[n] = '\0';
	*ret = out;
	if (ret_len != NULL)
		*ret_len = (size_t)n;
	return 0;
}

/* ---- JSON helpers ------------------------------------------------------- */

/* int64 fields come as strings ("12"), absent when zero.  A number that
 * does not fit (or is not one: NaN) reads as 0, like an absent field: an
 * answer is input, and converting it must not be undefined behaviour
 * (found by fuzz_store_rec). */
long long
etcd_json_int(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (cJSON_IsString(it))
		return strtoll(it->valuestring, NULL, 10);
	if (cJSON_IsNumber(it) && it->valuedouble >= -9.2e18 && it->valuedouble <= 9.2e18)
		return (long long)it->valuedouble;
	return 0;
}

/* Add name: base64(buf[0..len)) to obj; false on OOM. */
bool
etcd_json_add_b64(cJSON *obj, const char *name, const char *buf, size_t len)
{
	char *b = b64_encode(buf, len);
	bool ok = b != NULL && cJSON_AddStringToObject(obj, name, b) != NULL;

	free(b);
	return ok;
}

/* The request object as the POST body (etcd_post is the transport). */
int
etcd_post_json(struct etcd_store *e, const char *path, cJSON *req, const char *what,
	       cJSON **ret, struct lf_err *reterr)
{
	char *body = cJSON_PrintUnformatted(req);
	int r;

	if (body == NULL)
		return -ENOMEM;
	r = etcd_post(e, path, body, what, ret, reterr);
	free(body);
	return r;
}
