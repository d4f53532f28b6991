/* json.c — cJSON behind validating, field-naming getters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "prefix.h"

/* Show a short, printable excerpt of the text around byte `off`. */
static void
json_error_context(const char *text, size_t len, size_t off,
		   struct lf_err *reterr)
{
	char snip[48];
	size_t start = off > 16 ? off - 16 : 0, n = 0;

	for (size_t i = start; i < len && n < 32; i++, n++) {
		unsigned char c = (unsigned char)text[i];

		snip[n] = (c < 0x20 || c >= 0x7f) ? ' ' : (char)c;
	}
	snip[n] = '\0';
	lf_err_details(reterr, "near \"%s\"", snip);
}

int
json_parse(const char *text, cJSON **ret, struct lf_err *reterr)
{
	const char *end = NULL;
	size_t len, off, line = 1, col = 1;
	cJSON *root;

	if (text == NULL)
		return lf_err_set(reterr, LF_E_DECODE, -EINVAL,
				  "invalid JSON: no input");
	len = strlen(text);
	if (strspn(text, " \t\r\n") == len)
		return lf_err_set(reterr, LF_E_DECODE, -EINVAL,
				  "invalid JSON: empty input");
	/* require_null_terminated: anything after the value but whitespace
	 * ("{} x", "{}{}") is an error, reported where the junk starts. */
	root = cJSON_ParseWithOpts(text, &end, 1);
	if (root != NULL) {
		*ret = root;
		return 0;
	}
	if (end == NULL)
		end = cJSON_GetErrorPtr();
	off = (end != NULL && end >= text && end <= text + len) ?
		(size_t)(end - text) : len;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	lf_err_set(reterr, LF_E_DECODE, -EINVAL,
		   "invalid JSON at byte %zu (line %zu, column %zu)",
		   off, line, col);
	json_error_context(text, len, off, reterr);
	return -EINVAL;
}

static const char *
nz(const char *ctx)
{
	return ctx ? ctx : "";
}

/* Common lookup: -ENOENT (absent or null), 0 with *ret_item. */
static int
json_lookup(const cJSON *obj, const char *key, bool required,
	    const char *ctx, struct lf_err *reterr, const cJSON **ret_item)
{
	const cJSON *it = NULL;

	if (obj != NULL && cJSON_IsObject(obj))
		it = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (it == NULL || cJSON_IsNull(it)) {
		if (required)
			lf_err_set(reterr, LF_E_INVALID, -ENOENT,
				   "%s%s: missing (required)", nz(ctx), key);
		return -ENOENT;
	}
	*ret_item = it;
	return 0;
}

int
json_get_str(const cJSON *obj, const char *key, char *buf, size_t size,
	     bool required, const char *ctx, struct lf_err *reterr)
{
	const cJSON *it;
	size_t len;
	int r;

	r = json_lookup(obj, key, required, ctx, reterr, &it);
	if (r < 0)
		return r;
	if (!cJSON_IsString(it) || it->valuestring == NULL)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s: expected a string", nz(ctx), key);
	len = strlen(it->valuestring);
	if (size == 0 || len >= size)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s: too long (%zu characters, at most %zu)",
				  nz(ctx), key, len, size ? size - 1 : 0);
	memcpy(buf, it->valuestring, len + 1);
	return 0;
}

int
json_get_u32(const cJSON *obj, const char *key, uint32_t *ret,
	     bool required, const char *ctx, struct lf_err *reterr)
{
	const cJSON *it;
	double v;
	int r;

	r = json_lookup(obj, key, required, ctx, reterr, &it);
	if (r < 0)
		return r;
	if (!cJSON_IsNumber(it))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s: expected a number", nz(ctx), key);
	v = it->valuedouble;
	/* v != v: NaN.  The range check comes before the cast (UB otherwise). */
	if (v != v || v < 0 || v > (double)UINT32_MAX)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s: %g is out of range (0 to %u)",
				  nz(ctx), key, v, UINT32_MAX);
	if ((double)(uint32_t)v != v)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s: expected a whole number, got %g",
				  nz(ctx), key, v);
	*ret = (uint32_t)v;
	return 0;
}

int
json_get_bool(const cJSON *obj, const char *key, bool *ret,
	      bool required, const char *ctx, struct lf_err *reterr)
{
	const cJSON *it;
	int r;

	r = json_lookup(obj, key, required, ctx, reterr, &it);
	if (r < 0)
		return r;
	if (!cJSON_IsBool(it))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s: expected true or false", nz(ctx), key);
	*ret = cJSON_IsTrue(it);
	return 0;
}

/* An object or an array member: *ret points into obj. */
static int
get_member(const cJSON *obj, const char *key, const cJSON **ret, bool required,
	   const char *ctx, struct lf_err *reterr, cJSON_bool (*is)(const cJSON *),
	   const char *what)
{
	const cJSON *it;
	int r;

	r = json_lookup(obj, key, required, ctx, reterr, &it);
	if (r < 0)
		return r;
	if (!is(it))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s: expected %s", nz(ctx), key, what);
	*ret = it;
	return 0;
}

int
json_get_obj(const cJSON *obj, const char *key, const cJSON **ret,
	     bool required, const char *ctx, struct lf_err *reterr)
{
	return get_member(obj, key, ret, required, ctx, reterr, cJSON_IsObject, "an object");
}

int
json_get_arr(const cJSON *obj, const char *key, const cJSON **ret,
	     bool required, const char *ctx, struct lf_err *reterr)
{
	return get_member(obj, key, ret, required, ctx, reterr, cJSON_IsArray, "an array");
}

cJSON *
json_add_addr(cJSON *obj, const char *key, const struct ipaddr *a)
{
	char buf[IPADDR_STRLEN];

	if (a->family == 0)
		return cJSON_AddNullToObject(obj, key);
	return cJSON_AddStringToObject(obj, key, ipaddr_fmt(a, buf, sizeof(buf)));
}

cJSON *
json_add_prefix(cJSON *obj, const char *key, const struct prefix *p)
{
	char buf[PREFIX_STRLEN];

	return cJSON_AddStringToObject(obj, key, prefix_fmt(p, buf, sizeof(buf)));
}

char *
json_print(const cJSON *obj)
{
	if (obj == NULL)
		return strdup("null");
	return cJSON_PrintUnformatted(obj);
}
