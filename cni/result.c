/* result.c — CNI results and errors, read and written per spec version.
 *
 * 0.3.x / 0.4.0: ips carry "version": "4" | "6".
 * 1.0.0: no "version"; routes may carry mtu and advmss.
 * 1.1.0: interfaces may carry mtu, socketPath, pciID; routes priority,
 *        table, scope.
 * Reading accepts all of these whatever the version, so a prevResult or an
 * IPAM plugin's answer of any supported version works.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "err.h"
#include "json.h"

/* ---- reading ------------------------------------------------------------ */

static int
addr_field(const cJSON *obj, const char *key, bool required, const char *ctx,
	   struct ipaddr *ret, struct lf_err *reterr)
{
	char buf[IPADDR_STRLEN + 8];
	int r;

	r = json_get_str(obj, key, buf, sizeof(buf), required, ctx, reterr);
	if (r < 0)
		return r;
	if (ipaddr_parse(buf, ret) < 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s: \"%s\" is not an IP address", ctx, key, buf);
	return 0;
}

static int
prefix_field(const cJSON *obj, const char *key, const char *ctx,
	     struct prefix *ret, struct lf_err *reterr)
{
	char buf[PREFIX_STRLEN + 8];
	int r;

	r = json_get_str(obj, key, buf, sizeof(buf), true, ctx, reterr);
	if (r < 0)
		return -EINVAL;
	if (prefix_parse(buf, PREFIX_F_HOST_BITS, ret) < 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s: \"%s\" is not an address/length", ctx, key, buf);
	return 0;
}

/* Iterate an optional array member; too many entries is an error. */
static int
array_field(const cJSON *obj, const char *key, const char *ctx, size_t max,
	    const cJSON **ret, struct lf_err *reterr)
{
	int r = json_get_arr(obj, key, ret, false, ctx, reterr);

	if (r < 0)
		return r;
	if ((size_t)cJSON_GetArraySize(*ret) > max)
		return lf_err_set(reterr, LF_E_INVALID, -E2BIG,
				  "%s%s: more than %zu entries", ctx, key, max);
	return 0;
}

static int
ifaces_read(const cJSON *obj, const char *ctx, struct cni_result *res,
	    struct lf_err *reterr)
{
	const cJSON *arr, *it;
	char sub[96];
	int r;

	r = array_field(obj, "interfaces", ctx, CNI_MAX_IFACES, &arr, reterr);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	cJSON_ArrayForEach(it, arr) {
		struct cni_iface *f = &res->ifaces[res->n_ifaces];

		snprintf(sub, sizeof(sub), "%sinterfaces[%zu].", ctx, res->n_ifaces);
		if (json_get_str(it, "name", f->name, sizeof(f->name), true, sub, reterr) < 0 ||
		    json_get_str(it, "mac", f->mac, sizeof(f->mac), false, sub, reterr) == -EINVAL ||
		    json_get_str(it, "sandbox", f->sandbox, sizeof(f->sandbox), false, sub, reterr) == -EINVAL ||
		    json_get_u32(it, "mtu", &f->mtu, false, sub, reterr) == -EINVAL ||
		    json_get_str(it, "socketPath", f->socket_path, sizeof(f->socket_path), false, sub, reterr) == -EINVAL ||
		    json_get_str(it, "pciID", f->pci_id, sizeof(f->pci_id), false, sub, reterr) == -EINVAL)
			return -EINVAL;
		res->n_ifaces++;
	}
	return 0;
}

static int
ips_read(const cJSON *obj, const char *ctx, struct cni_result *res,
	 struct lf_err *reterr)
{
	const cJSON *arr, *it;
	char sub[96];
	int r;

	r = array_field(obj, "ips", ctx, CNI_MAX_IPS, &arr, reterr);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	cJSON_ArrayForEach(it, arr) {
		struct cni_ip *ip = &res->ips[res->n_ips];
		char ver[4] = "";
		uint32_t idx;

		snprintf(sub, sizeof(sub), "%sips[%zu].", ctx, res->n_ips);
		ip->iface = -1;
		if (prefix_field(it, "address", sub, &ip->address, reterr) < 0 ||
		    addr_field(it, "gateway", false, sub, &ip->gateway, reterr) == -EINVAL ||
		    json_get_str(it, "version", ver, sizeof(ver), false, sub, reterr) == -EINVAL)
			return -EINVAL;
		if (ver[0] != '\0' &&
		    strcmp(ver, ip->address.addr.family == AF_INET ? "4" : "6") != 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%sversion: \"%s\" does not match the address", sub, ver);
		r = json_get_u32(it, "interface", &idx, false, sub, reterr);
		if (r == -EINVAL)
			return r;
		if (r == 0) {
			if (idx >= CNI_MAX_IFACES)
				return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
						  "%sinterface: index %u out of range", sub, idx);
			ip->iface = (int)idx;
		}
		res->n_ips++;
	}
	return 0;
}

static int
routes_read(const cJSON *obj, const char *ctx, struct cni_result *res,
	    struct lf_err *reterr)
{
	static const struct { const char *key; unsigned flag; size_t off; } opt[] = {
		{ "mtu", CNI_ROUTE_HAS_MTU, offsetof(struct cni_route, mtu) },
		{ "advmss", CNI_ROUTE_HAS_ADVMSS, offsetof(struct cni_route, advmss) },
		{ "priority", CNI_ROUTE_HAS_PRIORITY, offsetof(struct cni_route, priority) },
		{ "table", CNI_ROUTE_HAS_TABLE, offsetof(struct cni_route, table) },
		{ "scope", CNI_ROUTE_HAS_SCOPE, offsetof(struct cni_route, scope) },
	};
	const cJSON *arr, *it;
	char sub[96];
	int r;

	r = array_field(obj, "routes", ctx, CNI_MAX_ROUTES, &arr, reterr);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	cJSON_ArrayForEach(it, arr) {
		struct cni_route *rt = &res->routes[res->n_routes];

		snprintf(sub, sizeof(sub), "%sroutes[%zu].", ctx, res->n_routes);
		if (prefix_field(it, "dst", sub, &rt->dst, reterr) < 0 ||
		    addr_field(it, "gw", false, sub, &rt->gw, reterr) == -EINVAL)
			return -EINVAL;
		for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
			r = json_get_u32(it, opt[i].key,
					 (uint32_t *)((char *)rt + opt[i].off), false, sub, reterr);
			if (r == -EINVAL)
				return r;
			if (r == 0)
				rt->flags |= opt[i].flag;
		}
		res->n_routes++;
	}
	return 0;
}

static int
strings_read(const cJSON *dns, const char *key, const char *ctx, size_t width,
	     char *buf, size_t *ret_n, struct lf_err *reterr)
{
	const cJSON *arr, *it;
	int r;

	r = array_field(dns, key, ctx, CNI_MAX_DNS, &arr, reterr);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || strlen(it->valuestring) >= width)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%s%s[%zu]: expected a string (at most %zu characters)",
					  ctx, key, *ret_n, width - 1);
		memcpy(buf + *ret_n * width, it->valuestring, strlen(it->valuestring) + 1);
		(*ret_n)++;
	}
	return 0;
}

static int
dns_read(const cJSON *obj, const char *ctx, struct cni_dns *d, struct lf_err *reterr)
{
	const cJSON *dns;
	char sub[96];
	int r;

	r = json_get_obj(obj, "dns", &dns, false, ctx, reterr);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	snprintf(sub, sizeof(sub), "%sdns.", ctx);
	if (strings_read(dns, "nameservers", sub, IPADDR_STRLEN, &d->nameservers[0][0],
			 &d->n_nameservers, reterr) < 0 ||
	    json_get_str(dns, "domain", d->domain, sizeof(d->domain), false, sub, reterr) == -EINVAL ||
	    strings_read(dns, "search", sub, CNI_STR_MAX, &d->search[0][0], &d->n_search, reterr) < 0 ||
	    strings_read(dns, "options", sub, CNI_STR_MAX, &d->options[0][0], &d->n_options, reterr) < 0)
		return -EINVAL;
	return 0;
}

int
cni_result_from_json(const cJSON *obj, const char *ctx, struct cni_result *ret,
		     struct lf_err *reterr)
{
	struct cni_result *res;
	int r;

	if (!cJSON_IsObject(obj))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s: expected an object", ctx);
	res = calloc(1, sizeof(*res));
	if (res == NULL)
		return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
	if ((r = ifaces_read(obj, ctx, res, reterr)) < 0 ||
	    (r = ips_read(obj, ctx, res, reterr)) < 0 ||
	    (r = routes_read(obj, ctx, res, reterr)) < 0 ||
	    (r = dns_read(obj, ctx, &res->dns, reterr)) < 0)
		goto out_free;
	for (size_t i = 0; i < res->n_ips; i++)
		if (res->ips[i].iface >= (int)res->n_ifaces) {
			r = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				       "%sips[%zu].interface: index %d, but there are %zu interfaces",
				       ctx, i, res->ips[i].iface, res->n_ifaces);
			goto out_free;
		}
	*ret = *res;
out_free:
	free(res);
	return r;
}

int
cni_result_append(struct cni_result *dst, const struct cni_result *src,
		  struct lf_err *reterr)
{
	size_t shift = dst->n_ifaces;

	if (dst->n_ifaces + src->n_ifaces > CNI_MAX_IFACES ||
	    dst->n_ips + src->n_ips > CNI_MAX_IPS ||
	    dst->n_routes + src->n_routes > CNI_MAX_ROUTES)
		return lf_err_set(reterr, LF_E_INVALID, -E2BIG,
				  "prevResult: too many interfaces, ips or routes to add ours");
	memcpy(&dst->ifaces[dst->n_ifaces], src->ifaces, src->n_ifaces * sizeof(src->ifaces[0]));
	dst->n_ifaces += src->n_ifaces;
	for (size_t i = 0; i < src->n_ips; i++) {
		struct cni_ip ip = src->ips[i];

		if (ip.iface >= 0)
			ip.iface += (int)shift;
		dst->ips[dst->n_ips++] = ip;
	}
	memcpy(&dst->routes[dst->n_routes], src->routes, src->n_routes * sizeof(src->routes[0]));
	dst->n_routes += src->n_routes;
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

static bool
add_str(cJSON *obj, const char *key, const char *s)
{
	return cJSON_AddStringToObject(obj, key, s) != NULL;
}

static bool
render_ifaces(cJSON *root, const struct cni_result *r, enum cni_version v)
{
	cJSON *arr;

	if (r->n_ifaces == 0)
		return true;
	if ((arr = cJSON_AddArrayToObject(root, "interfaces")) == NULL)
		return false;
	for (size_t i = 0; i < r->n_ifaces; i++) {
		const struct cni_iface *f = &r->ifaces[i];
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(arr, o) || !add_str(o, "name", f->name))
			return false;
		if (f->mac[0] != '\0' && !add_str(o, "mac", f->mac))
			return false;
		if (v >= CNI_V_1_1_0 && f->mtu != 0 &&
		    cJSON_AddNumberToObject(o, "mtu", f->mtu) == NULL)
			return false;
		if (f->sandbox[0] != '\0' && !add_str(o, "sandbox", f->sandbox))
			return false;
		if (v >= CNI_V_1_1_0 && f->socket_path[0] != '\0' &&
		    !add_str(o, "socketPath", f->socket_path))
			return false;
		if (v >= CNI_V_1_1_0 && f->pci_id[0] != '\0' && !add_str(o, "pciID", f->pci_id))
			return false;
	}
	return true;
}

static bool
render_ips(cJSON *root, const struct cni_result *r, enum cni_version v)
{
	cJSON *arr;

	if (r->n_ips == 0)
		return true;
	if ((arr = cJSON_AddArrayToObject(root, "ips")) == NULL)
		return false;
	for (size_t i = 0; i < r->n_ips; i++) {
		const struct cni_ip *ip = &r->ips[i];
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(arr, o))
			return false;
		if (v < CNI_V_1_0_0 &&
		    !add_str(o, "version", ip->address.addr.family == AF_INET ? "4" : "6"))
			return false;
		if (!json_add_prefix(o, "address", &ip->address))
			return false;
		if (ipaddr_is_set(&ip->gateway) &&
		    !json_add_addr(o, "gateway", &ip->gateway))
			return false;
		if (ip->iface >= 0 && cJSON_AddNumberToObject(o, "interface", ip->iface) == NULL)
			return false;
	}
	return true;
}

static bool
render_routes(cJSON *root, const struct cni_result *r, enum cni_version v)
{
	static const struct { const char *key; unsigned flag; size_t off;
			      enum cni_version since; } opt[] = {
		{ "mtu", CNI_ROUTE_HAS_MTU, offsetof(struct cni_route, mtu), CNI_V_1_0_0 },
		{ "advmss", CNI_ROUTE_HAS_ADVMSS, offsetof(struct cni_route, advmss), CNI_V_1_0_0 },
		{ "priority", CNI_ROUTE_HAS_PRIORITY, offsetof(struct cni_route, priority), CNI_V_1_1_0 },
		{ "table", CNI_ROUTE_HAS_TABLE, offsetof(struct cni_route, table), CNI_V_1_1_0 },
		{ "scope", CNI_ROUTE_HAS_SCOPE, offsetof(struct cni_route, scope), CNI_V_1_1_0 },
	};
	cJSON *arr;

	if (r->n_routes == 0)
		return true;
	if ((arr = cJSON_AddArrayToObject(root, "routes")) == NULL)
		return false;
	for (size_t i = 0; i < r->n_routes; i++) {
		const struct cni_route *rt = &r->routes[i];
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(arr, o) ||
		    !json_add_prefix(o, "dst", &rt->dst))
			return false;
		if (ipaddr_is_set(&rt->gw) &&
		    !json_add_addr(o, "gw", &rt->gw))
			return false;
		for (size_t j = 0; j < sizeof(opt) / sizeof(opt[0]); j++) {
			const uint32_t *val = (const uint32_t *)((const char *)rt + opt[j].off);

			if ((rt->flags & opt[j].flag) && v >= opt[j].since &&
			    cJSON_AddNumberToObject(o, opt[j].key, *val) == NULL)
				return false;
		}
	}
	return true;
}

static bool
render_strings(cJSON *obj, const char *key, const char *base, size_t width, size_t n)
{
	cJSON *arr;

	if (n == 0)
		return true;
	if ((arr = cJSON_AddArrayToObject(obj, key)) == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		cJSON *s = cJSON_CreateString(base + i * width);

		if (s == NULL || !cJSON_AddItemToArray(arr, s))
			return false;
	}
	return true;
}

static bool
render_dns(cJSON *root, const struct cni_dns *d)
{
	cJSON *o = cJSON_AddObjectToObject(root, "dns");

	return o != NULL &&
	       render_strings(o, "nameservers", &d->nameservers[0][0], IPADDR_STRLEN,
			      d->n_nameservers) &&
	       (d->domain[0] == '\0' || add_str(o, "domain", d->domain)) &&
	       render_strings(o, "search", &d->search[0][0], CNI_STR_MAX, d->n_search) &&
	       render_strings(o, "options", &d->options[0][0], CNI_STR_MAX, d->n_options);
}

char *
cni_result_render(const struct cni_result *r, enum cni_version v)
{
	cJSON *root = cJSON_CreateObject();
	char *out = NULL;

	if (root == NULL)
		return NULL;
	if (add_str(root, "cniVersion", cni_version_name(v)) &&
	    render_ifaces(root, r, v) && render_ips(root, r, v) &&
	    render_routes(root, r, v) && render_dns(root, &r->dns))
		out = json_print(root);
	cJSON_Delete(root);
	return out;
}

static int
print_json(cJSON *root)
{
	char *out = root != NULL ? json_print(root) : NULL;
	int r = 0;

	if (out == NULL) {
		/* Out of memory: still tell the runtime something it can read. */
		fputs("{\"code\":999,\"msg\":\"out of memory\"}\n", stdout);
		r = -ENOMEM;
	} else {
		puts(out);
	}
	free(out);
	cJSON_Delete(root);
	if (fflush(stdout) != 0)
		r = -EIO;
	return r;
}

/* ---- errors --------------------------------------------------------------- */

const char *
cni_field_var(enum lf_field field)
{
	switch (field) {
	case LF_F_COMMAND:	return "CNI_COMMAND";
	case LF_F_CONTAINER_ID:	return "CNI_CONTAINERID";
	case LF_F_NETNS:	return "CNI_NETNS";
	case LF_F_IFNAME:	return "CNI_IFNAME";
	case LF_F_ARGS:		return "CNI_ARGS";
	case LF_F_PATH:		return "CNI_PATH";
	default:		return NULL;	/* in the network configuration */
	}
}

int
cni_err_code(const struct lf_err *e)
{
	if (e == NULL)
		return CNI_E_INTERNAL;
	if (e->ext_code > 0)
		return e->ext_code;
	switch (e->code) {
	case LF_E_INVALID:
		/* a bad environment variable is the spec's 4, the rest is config */
		return cni_field_var(e->field) != NULL ? CNI_E_INVALID_ENV
						       : CNI_E_INVALID_CONFIG;
	case LF_E_DECODE:		return CNI_E_DECODE;
	case LF_E_UNSUPPORTED:
		return e->field == LF_F_VERSION ? CNI_E_INCOMPATIBLE_VERSION
						: CNI_E_UNSUPPORTED_FIELD;
	case LF_E_NOT_FOUND:
		return e->field == LF_F_CONTAINER_ID ? CNI_E_UNKNOWN_CONTAINER
						     : CNI_E_NOT_FOUND;
	case LF_E_EXISTS:		return CNI_E_INVALID_CONFIG;
	case LF_E_ADDR_IN_USE:		return CNI_E_ADDR_IN_USE;
	case LF_E_POOL_EXHAUSTED:	return CNI_E_POOL_EXHAUSTED;
	case LF_E_BUSY:			return CNI_E_BUSY;
	case LF_E_AGAIN:		return CNI_E_TRY_AGAIN;
	case LF_E_UNAVAILABLE:		return CNI_E_PLUGIN_NOT_AVAILABLE;
	case LF_E_DEGRADED:		return CNI_E_LIMITED_CONNECTIVITY;
	case LF_E_KERNEL:		return CNI_E_KERNEL;
	case LF_E_IO:			return CNI_E_IO;
	case LF_E_CHECK_FAILED:		return CNI_E_CHECK_FAILED;
	case LF_E_NONE:
	case LF_E_INTERNAL:
	default:			return CNI_E_INTERNAL;
	}
}

int
cni_err_set_foreign(struct lf_err *e, int cni_code, int ret, const char *fmt, ...)
{
	static const struct { int cni; enum lf_code code; enum lf_field field; } map[] = {
		{ CNI_E_INCOMPATIBLE_VERSION, LF_E_UNSUPPORTED,    LF_F_VERSION },
		{ CNI_E_UNSUPPORTED_FIELD,    LF_E_UNSUPPORTED,    LF_F_NONE },
		{ CNI_E_UNKNOWN_CONTAINER,    LF_E_NOT_FOUND,      LF_F_CONTAINER_ID },
		{ CNI_E_INVALID_ENV,          LF_E_INVALID,        LF_F_ARGS },
		{ CNI_E_IO,                   LF_E_IO,             LF_F_NONE },
		{ CNI_E_DECODE,               LF_E_DECODE,         LF_F_NONE },
		{ CNI_E_INVALID_CONFIG,       LF_E_INVALID,        LF_F_NONE },
		{ CNI_E_TRY_AGAIN,            LF_E_AGAIN,          LF_F_NONE },
		{ CNI_E_PLUGIN_NOT_AVAILABLE, LF_E_UNAVAILABLE,    LF_F_NONE },
		{ CNI_E_LIMITED_CONNECTIVITY, LF_E_DEGRADED,       LF_F_NONE },
	};
	enum lf_code code = LF_E_IO;
	enum lf_field field = LF_F_NONE;
	va_list ap;

	if (e == NULL || e->code != LF_E_NONE)
		return ret;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].cni == cni_code) {
			code = map[i].code;
			field = map[i].field;
		}
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->code = code;
	e->field = field;
	e->ext_code = cni_code;
	return ret;
}

int
cni_err_msg(const struct lf_err *e, char *buf, size_t size)
{
	const char *msg = e != NULL && e->msg[0] != '\0' ? e->msg : "internal error";
	const char *var = e != NULL ? cni_field_var(e->field) : NULL;

	/* Point at the variable the runtime set, unless the text already does
	 * (or another plugin wrote it). */
	if (var != NULL && e->ext_code == 0 && strstr(msg, var) == NULL)
		return snprintf(buf, size, "%s (%s)", msg, var);
	return snprintf(buf, size, "%s", msg);
}

int
cni_error(const struct lf_err *e, enum cni_version v)
{
	cJSON *root = cJSON_CreateObject();
	char msg[LF_ERR_MSG_MAX + 32];

	(void)cni_err_msg(e, msg, sizeof(msg));
	if (v == CNI_V_NONE)
		v = CNI_V_LATEST;
	if (root != NULL &&
	    (!add_str(root, "cniVersion", cni_version_name(v)) ||
	     cJSON_AddNumberToObject(root, "code", cni_err_code(e)) == NULL ||
	     !add_str(root, "msg", msg) ||
	     (e != NULL && e->details[0] != '\0' && !add_str(root, "details", e->details)))) {
		cJSON_Delete(root);
		root = NULL;
	}
	(void)print_json(root);
	return 1;
}

int
cni_version_reply(void)
{
	cJSON *root = cJSON_CreateObject(), *arr;

	if (root != NULL && add_str(root, "cniVersion", CNI_VERSION_LATEST) &&
	    (arr = cJSON_AddArrayToObject(root, "supportedVersions")) != NULL) {
		for (enum cni_version v = CNI_V_0_3_0; v <= CNI_V_LATEST; v++) {
			cJSON *s = cJSON_CreateString(cni_version_name(v));

			if (s == NULL || !cJSON_AddItemToArray(arr, s)) {
				cJSON_Delete(root);
				root = NULL;
				break;
			}
		}
	} else {
		cJSON_Delete(root);
		root = NULL;
	}
	return print_json(root) < 0 ? 1 : 0;
}
