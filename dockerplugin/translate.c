/* translate.c — libnetwork's remote driver / remote IPAM JSON <-> plain
 * structs.  Pure: no I/O, no store, no kernel; every error names the field
 * as Docker spells it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attach.h"
#include "dp.h"
#include "err.h"
#include "json.h"

bool
dp_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= DP_ID_MAX || id[0] == '.' || id[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' || c == ':'))
			return false;
	}
	return true;
}

static int
need_object(const cJSON *o, const char *what, struct lf_err *reterr)
{
	if (!cJSON_IsObject(o))
		return lf_err_set(reterr, LF_E_DECODE, -EINVAL,
				  "%s: the request body must be a JSON object", what);
	return 0;
}

static int
get_id(const cJSON *o, const char *key, char *buf, bool required, struct lf_err *reterr)
{
	int r = json_get_str(o, key, buf, DP_ID_MAX, required, NULL, reterr);

	if (r < 0)
		return r;
	if (!dp_id_valid(buf))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s: \"%s\" is not a valid ID ([A-Za-z0-9_.:-], at most %d "
				  "characters)", key, buf, DP_ID_MAX - 1);
	return 0;
}

static int
parse_bool_opt(const char *key, const char *v, int *ret, struct lf_err *reterr)
{
	if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on")) {
		*ret = 1;
		return 0;
	}
	if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no") ||
	    !strcasecmp(v, "off")) {
		*ret = 0;
		return 0;
	}
	return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
			  "option %s=%s: expected true or false", key, v);
}

/* -o / --ipam-opt: string values (Docker's map[string]string).  Unknown
 * keys are refused, so a typo does not silently make a routable network;
 * Docker's own "com.docker.*" keys are let through. */
int
dp_parse_opts(const cJSON *generic, const char *ctx, struct dp_opts *ret,
	      struct lf_err *reterr)
{
	struct dp_opts o = { .routable = -1, .nat_outgoing = -1 };
	const cJSON *it;
	int r;

	if (generic != NULL && !cJSON_IsNull(generic)) {
		if (!cJSON_IsObject(generic))
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%s: expected an object of options", ctx);
		cJSON_ArrayForEach(it, generic) {
			const char *k = it->string, *v;
			char num[32];

			if (!cJSON_IsString(it) || it->valuestring == NULL) {
				if (!strncmp(k, "com.docker.", 11))
					continue;
				return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
						  "%s.%s: expected a string", ctx, k);
			}
			v = it->valuestring;
			if (!strcmp(k, "network")) {
				if (strlen(v) >= sizeof(o.network) || !v[0])
					return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
							  "option network=%s: expected a leafnet "
							  "network name (1-%zu characters)", v,
							  sizeof(o.network) - 1);
				snprintf(o.network, sizeof(o.network), "%s", v);
			} else if (!strcmp(k, "routable")) {
				r = parse_bool_opt(k, v, &o.routable, reterr);
				if (r < 0)
					return r;
			} else if (!strcmp(k, "nat-outgoing") || !strcmp(k, "nat_outgoing")) {
				r = parse_bool_opt(k, v, &o.nat_outgoing, reterr);
				if (r < 0)
					return r;
			} else if (!strcmp(k, "mtu") || !strcmp(k, DP_OPT_MTU)) {
				char *end;
				unsigned long m;

				snprintf(num, sizeof(num), "%s", v);
				errno = 0;
				m = strtoul(num, &end, 10);
				if (errno || end == num || *end || m < 68 || m > 65535)
					return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
							  "option %s=%s: expected an MTU of "
							  "68-65535", k, v);
				o.mtu = (unsigned)m;
			} else if (strncmp(k, "com.docker.", 11) != 0) {
				return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
						  "unknown option \"%s\" (leafnet knows network, "
						  "routable, nat-outgoing, mtu)", k);
			}
		}
	}
	*ret = o;
	return 0;
}

/* Gateway: libnetwork sends "10.0.0.1/24"; a bare address is accepted too. */
static int
parse_gateway(const char *s, struct ipaddr *ret)
{
	struct prefix p;

	if (prefix_parse(s, PREFIX_F_HOST_BITS | PREFIX_F_NO_LEN, &p) < 0)
		return -EINVAL;
	*ret = p.addr;
	return 0;
}

static int
parse_ipdata(const cJSON *arr, const char *key, int family, struct dp_create_network *n,
	     struct lf_err *reterr)
{
	const cJSON *it;
	size_t i = 0;

	if (arr == NULL || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s: expected an array", key);
	cJSON_ArrayForEach(it, arr) {
		struct dp_ipdata *d;
		char ctx[32], buf[PREFIX_STRLEN + 8];
		int r;

		snprintf(ctx, sizeof(ctx), "%s[%zu].", key, i++);
		if (!cJSON_IsObject(it))
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%s: expected an object", ctx);
		if (n->n_ip >= DP_MAX_POOLS)
			return lf_err_set(reterr, LF_E_INVALID, -E2BIG,
					  "%s: at most %d pools per network", key, DP_MAX_POOLS);
		d = &n->ip[n->n_ip];
		memset(d, 0, sizeof(*d));
		r = json_get_str(it, "AddressSpace", d->space, sizeof(d->space), false, ctx,
				 reterr);
		if (r < 0 && r != -ENOENT)
			return r;
		r = json_get_str(it, "Pool", buf, sizeof(buf), true, ctx, reterr);
		if (r < 0)
			return r;
		if (prefix_parse(buf, 0, &d->pool) < 0 || d->pool.addr.family != family)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%sPool: \"%s\" is not an IPv%c prefix without host bits",
					  ctx, buf, family == AF_INET ? '4' : '6');
		r = json_get_str(it, "Gateway", buf, sizeof(buf), false, ctx, reterr);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0 && buf[0] &&
		    (parse_gateway(buf, &d->gateway) < 0 || d->gateway.family != family))
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%sGateway: \"%s\" is not an IPv%c address", ctx, buf,
					  family == AF_INET ? '4' : '6');
		n->n_ip++;
	}
	return 0;
}

int
dp_parse_create_network(const cJSON *o, struct dp_create_network *ret, struct lf_err *reterr)
{
	struct dp_create_network n;
	const cJSON *opts = NULL, *generic = NULL, *v6 = NULL;
	int r;

	memset(&n, 0, sizeof(n));
	if ((r = need_object(o, "CreateNetwork", reterr)) < 0)
		return r;
	if ((r = get_id(o, "NetworkID", n.netid, true, reterr)) < 0)
		return r;
	r = json_get_obj(o, "Options", &opts, false, NULL, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	if (opts) {
		generic = cJSON_GetObjectItemCaseSensitive(opts, DP_OPT_GENERIC);
		v6 = cJSON_GetObjectItemCaseSensitive(opts, DP_OPT_IPV6);
		/* a bool, or the string form some versions send */
		if (cJSON_IsTrue(v6) ||
		    (cJSON_IsString(v6) && !strcasecmp(v6->valuestring, "true")))
			n.enable_ipv6 = true;
	}
	r = dp_parse_opts(generic, "Options." DP_OPT_GENERIC, &n.opts, reterr);
	if (r < 0)
		return r;
	r = parse_ipdata(cJSON_GetObjectItemCaseSensitive(o, "IPv4Data"), "IPv4Data", AF_INET,
			 &n, reterr);
	if (r < 0)
		return r;
	r = parse_ipdata(cJSON_GetObjectItemCaseSensitive(o, "IPv6Data"), "IPv6Data", AF_INET6,
			 &n, reterr);
	if (r < 0)
		return r;
	*ret = n;
	return 0;
}

int
dp_parse_ids(const cJSON *o, bool need_endpoint, struct dp_ids *ret, struct lf_err *reterr)
{
	struct dp_ids ids;
	int r;

	memset(&ids, 0, sizeof(ids));
	if ((r = need_object(o, "request", reterr)) < 0)
		return r;
	if ((r = get_id(o, "NetworkID", ids.netid, true, reterr)) < 0)
		return r;
	if (need_endpoint && (r = get_id(o, "EndpointID", ids.epid, true, reterr)) < 0)
		return r;
	r = json_get_str(o, "SandboxKey", ids.sandbox, sizeof(ids.sandbox), false, NULL, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	*ret = ids;
	return 0;
}

static int
parse_iface_addr(const cJSON *iface, const char *key, int family, struct prefix *ret,
		 struct lf_err *reterr)
{
	char buf[PREFIX_STRLEN + 8];
	int r;

	r = json_get_str(iface, key, buf, sizeof(buf), false, "Interface.", reterr);
	if (r == -ENOENT || (r == 0 && !buf[0]))
		return 0;
	if (r < 0)
		return r;
	if (prefix_parse(buf, PREFIX_F_HOST_BITS, ret) < 0 || ret->addr.family != family)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "Interface.%s: \"%s\" is not an IPv%c address/length", key, buf,
				  family == AF_INET ? '4' : '6');
	return 0;
}

int
dp_parse_create_endpoint(const cJSON *o, struct dp_create_endpoint *ret,
			 struct lf_err *reterr)
{
	struct dp_create_endpoint e;
	const cJSON *iface = NULL;
	int r;

	memset(&e, 0, sizeof(e));
	if ((r = need_object(o, "CreateEndpoint", reterr)) < 0)
		return r;
	if ((r = get_id(o, "NetworkID", e.netid, true, reterr)) < 0)
		return r;
	if ((r = get_id(o, "EndpointID", e.epid, true, reterr)) < 0)
		return r;
	r = json_get_obj(o, "Interface", &iface, false, NULL, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	if (iface) {
		if ((r = parse_iface_addr(iface, "Address", AF_INET, &e.addr4, reterr)) < 0)
			return r;
		if ((r = parse_iface_addr(iface, "AddressIPv6", AF_INET6, &e.addr6, reterr)) < 0)
			return r;
		r = json_get_str(iface, "MacAddress", e.mac, sizeof(e.mac), false, "Interface.",
				 reterr);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	*ret = e;
	return 0;
}

int
dp_parse_request_pool(const cJSON *o, struct dp_pool_req *ret, struct lf_err *reterr)
{
	struct dp_pool_req p;
	char buf[PREFIX_STRLEN + 8];
	int r;

	memset(&p, 0, sizeof(p));
	if ((r = need_object(o, "RequestPool", reterr)) < 0)
		return r;
	r = json_get_str(o, "AddressSpace", p.space, sizeof(p.space), false, NULL, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	r = json_get_bool(o, "V6", &p.v6, false, NULL, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	r = json_get_str(o, "Pool", buf, sizeof(buf), false, NULL, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0 && buf[0]) {
		if (prefix_parse(buf, 0, &p.pool) < 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "Pool: \"%s\" is not a prefix without host bits "
					  "(--subnet)", buf);
		if ((p.pool.addr.family == AF_INET6) != p.v6)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "Pool: \"%s\" is IPv%c but V6 is %s", buf,
					  p.v6 ? '4' : '6', p.v6 ? "true" : "false");
	}
	r = json_get_str(o, "SubPool", buf, sizeof(buf), false, NULL, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0 && buf[0]) {
		if (prefix_parse(buf, 0, &p.subpool) < 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "SubPool: \"%s\" is not a prefix without host bits "
					  "(--ip-range)", buf);
		if (p.pool.addr.family == 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "SubPool %s given without Pool: --ip-range needs "
					  "--subnet", buf);
		if (!prefix_contains_prefix(&p.pool, &p.subpool))
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "SubPool %s is not inside Pool (--ip-range must lie in "
					  "--subnet)", buf);
	}
	r = dp_parse_opts(cJSON_GetObjectItemCaseSensitive(o, "Options"), "Options", &p.opts,
			  reterr);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}

int
dp_parse_pool_id(const cJSON *o, char *ret, size_t size, struct lf_err *reterr)
{
	char id[DP_ID_MAX];
	int r;

	if ((r = need_object(o, "request", reterr)) < 0)
		return r;
	if ((r = get_id(o, "PoolID", id, true, reterr)) < 0)
		return r;
	snprintf(ret, size, "%s", id);
	return 0;
}

int
dp_parse_addr_req(const cJSON *o, bool release, struct dp_addr_req *ret,
		  struct lf_err *reterr)
{
	struct dp_addr_req a;
	char buf[PREFIX_STRLEN + 8];
	const cJSON *opts, *type;
	int r;

	memset(&a, 0, sizeof(a));
	if ((r = need_object(o, release ? "ReleaseAddress" : "RequestAddress", reterr)) < 0)
		return r;
	if ((r = get_id(o, "PoolID", a.poolid, true, reterr)) < 0)
		return r;
	r = json_get_str(o, "Address", buf, sizeof(buf), release, NULL, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0 && buf[0]) {
		if (parse_gateway(buf, &a.addr) < 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "Address: \"%s\" is not an IP address", buf);
	} else if (release) {
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "Address: empty; ReleaseAddress needs the address");
	}
	opts = cJSON_GetObjectItemCaseSensitive(o, "Options");
	if (opts != NULL && !cJSON_IsNull(opts) && !cJSON_IsObject(opts))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "Options: expected an object");
	type = opts ? cJSON_GetObjectItemCaseSensitive(opts, DP_OPT_ADDRTYPE) : NULL;
	if (cJSON_IsString(type) && !strcmp(type->valuestring, DP_OPT_GATEWAY))
		a.gateway = true;
	*ret = a;
	return 0;
}

/* Pool IDs are the pool itself, '/' written '_' (store key safe). */
void
dp_pool_id(const struct prefix *p, char *buf, size_t size)
{
	char s[PREFIX_STRLEN];
	char *slash;

	prefix_fmt(p, s, sizeof(s));
	slash = strchr(s, '/');
	if (slash)
		*slash = '_';
	snprintf(buf, size, "%s", s);
}

int
dp_pool_id_parse(const char *id, struct prefix *ret)
{
	char s[PREFIX_STRLEN];
	char *us;

	if (strlen(id) >= sizeof(s))
		return -EINVAL;
	snprintf(s, sizeof(s), "%s", id);
	us = strrchr(s, '_');
	if (!us)
		return -EINVAL;
	*us = '/';
	return prefix_parse(s, 0, ret);
}

/* The workload side's name until Docker moves it: "lfd" + 11 hex digits,
 * stable for an endpoint (a retried Join finds and replaces its leftover). */
void
dp_src_name(const char *epid, char ret[IFNAMSIZ])
{
	attach_host_ifname(epid, "docker", ret);
	memcpy(ret, DP_SRC_PREFIX, strlen(DP_SRC_PREFIX));
}

const char *
dp_cidr_fmt(const struct ipaddr *a, unsigned len, char *buf, size_t size)
{
	char s[IPADDR_STRLEN];

	snprintf(buf, size, "%s/%u", ipaddr_fmt(a, s, sizeof(s)), len);
	return buf;
}

/* InterfaceName for Docker to move; per family the gateway, and a
 * connected /32 (/128) route to it so it is on-link whatever the address's
 * prefix (IPv6 link-local gateways are on-link by nature). */
cJSON *
dp_join_response(const char *src_name, const struct attach_result *ar)
{
	cJSON *resp, *ifn, *routes;
	bool done4 = false, done6 = false;

	resp = cJSON_CreateObject();
	if (!resp)
		return NULL;
	ifn = cJSON_AddObjectToObject(resp, "InterfaceName");
	routes = cJSON_AddArrayToObject(resp, "StaticRoutes");
	if (!ifn || !routes || !cJSON_AddStringToObject(ifn, "SrcName", src_name) ||
	    !cJSON_AddStringToObject(ifn, "DstPrefix", DP_DST_PREFIX))
		goto out_free;
	for (size_t i = 0; i < ar->n_ips; i++) {
		const struct ipaddr *gw = &ar->ips[i].gateway;
		bool v4 = gw->family == AF_INET;
		char s[IPADDR_STRLEN], cidr[PREFIX_STRLEN];
		cJSON *rt;

		if (!ipaddr_is_set(gw) || (v4 ? done4 : done6))
			continue;
		if (v4)
			done4 = true;
		else
			done6 = true;
		if (!cJSON_AddStringToObject(resp, v4 ? "Gateway" : "GatewayIPv6",
					     ipaddr_fmt(gw, s, sizeof(s))))
			goto out_free;
		if (!v4 && gw->u.b[0] == 0xfe && (gw->u.b[1] & 0xc0) == 0x80)
			continue;
		rt = cJSON_CreateObject();
		if (!rt)
			goto out_free;
		cJSON_AddItemToArray(routes, rt);
		if (!cJSON_AddStringToObject(rt, "Destination",
					     dp_cidr_fmt(gw, v4 ? 32 : 128, cidr, sizeof(cidr))) ||
		    !cJSON_AddNumberToObject(rt, "RouteType", 1))
			goto out_free;
	}
	return resp;

out_free:
	cJSON_Delete(resp);
	return NULL;
}

void
dp_err_text(const struct lf_err *e, int r, char *buf, size_t size)
{
	if (e == NULL || e->msg[0] == '\0')
		(void)snprintf(buf, size, "%s", strerror(r < 0 ? -r : EIO));
	else if (e->details[0] != '\0')
		(void)snprintf(buf, size, "%s: %s", e->msg, e->details);
	else
		(void)snprintf(buf, size, "%s", e->msg);
}
