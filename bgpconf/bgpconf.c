/* bgpconf.c — BGP configuration values and their checks (AS numbers,
 * peer and router addresses, node names) and the JSON documents they are
 * stored as.  bgpconf_store.c does the locked reads and writes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "err.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "bgpconf.h"
#include "bgpconf_private.h"


static const char *
nz(const char *what)
{
	return what ? what : "";
}

static const char *
sep(const char *what)
{
	return what && what[0] ? ": " : "";
}

/* ------------------------------------------------------------ values */

void
bgpconf_defaults(struct bgp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->default_node_as = BGPCONF_AS_DEFAULT;
	c->node_mesh = true;
	c->listen_port = BGPCONF_PORT_DEFAULT;
	c->keepalive = BGPCONF_KEEPALIVE_DEFAULT;
	c->hold_time = BGPCONF_HOLD_DEFAULT;
}

/* Digits only, value <= max; -ERANGE past max (no overflow: we stop). */
static int
parse_digits(const char *s, size_t len, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return -ERANGE;
	}
	*ret = v;
	return 0;
}

int
bgpconf_parse_as(const char *s, const char *what, uint32_t *ret,
		 struct lf_err *reterr)
{
	const char *dot;
	uint64_t hi, lo, v;
	int r;

	if (s == NULL || s[0] == '\0')
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%sthe AS number is empty: use 1-4294967295 "
				  "or asdot X.Y", nz(what), sep(what));
	if (s[0] == '-' && s[1] >= '0' && s[1] <= '9')
		return lf_err_set(reterr, LF_E_INVALID, -ERANGE,
				  "%s%sAS %s is invalid: use 1-4294967295",
				  nz(what), sep(what), s);
	dot = strchr(s, '.');
	if (dot != NULL) {
		/* asdot (RFC 5396): high and low 16 bits */
		if (parse_digits(s, (size_t)(dot - s), 65535, &hi) < 0 ||
		    parse_digits(dot + 1, strlen(dot + 1), 65535, &lo) < 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%s%sAS %s is not valid asdot: use X.Y "
					  "with X and Y in 0-65535 (e.g. 1.10), "
					  "or decimal 1-4294967295",
					  nz(what), sep(what), s);
		v = hi << 16 | lo;
	} else {
		r = parse_digits(s, strlen(s), UINT32_MAX, &v);
		if (r == -ERANGE)
			return lf_err_set(reterr, LF_E_INVALID, -ERANGE,
					  "%s%sAS %s is out of range: use "
					  "1-4294967295", nz(what), sep(what), s);
		if (r < 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%s%sAS '%s' is not a number: use "
					  "1-4294967295 or asdot X.Y (e.g. 1.10)",
					  nz(what), sep(what), s);
	}
	if (v == 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%sAS 0 is invalid: use 1-4294967295",
				  nz(what), sep(what));
	*ret = (uint32_t)v;
	return 0;
}

int
bgpconf_check_as(uint32_t as, const char *what, struct lf_err *reterr)
{
	if (as == 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%sAS 0 is invalid: use 1-4294967295",
				  nz(what), sep(what));
	if (as == BGPCONF_AS_TRANS)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%sAS 23456 is AS_TRANS (RFC 6793), which "
				  "stands in for 4-octet ASes on old speakers and "
				  "is nobody's own AS: use the real AS number",
				  nz(what), sep(what));
	return 0;
}

const char *
bgpconf_as_fmt(uint32_t as, char *buf, size_t size)
{
	snprintf(buf, size, "%u", as);
	return buf;
}

int
bgpconf_check_peer_addr(const struct ipaddr *a, const char *what,
			struct lf_err *reterr)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t zero[16];
	char buf[IPADDR_STRLEN];
	const char *why = NULL;

	if (!ipaddr_is_set(a))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%sno address given", nz(what), sep(what));
	ipaddr_fmt(a, buf, sizeof(buf));
	if (a->family == AF_INET) {
		if (a->u.b[0] == 0)
			why = "is in 0.0.0.0/8 (\"this network\")";
		else if (a->u.b[0] >= 224 && a->u.b[0] <= 239)
			why = "is multicast";
		else if (memcmp(a->u.b, "\xff\xff\xff\xff", 4) == 0)
			why = "is the broadcast address";
	} else {
		if (memcmp(a->u.b, zero, 16) == 0)
			why = "is the unspecified address";
		else if (a->u.b[0] == 0xff)
			why = "is multicast";
		else if (memcmp(a->u.b, v4mapped, 12) == 0)
			why = "is IPv4-mapped: give the plain IPv4 address";
		else if (a->u.b[0] == 0xfe && (a->u.b[1] & 0xc0) == 0x80)
			why = "is link-local, which needs an interface: use a "
			      "global or unique-local address";
	}
	if (why)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s%s %s; a BGP peer needs a unicast address",
				  nz(what), sep(what), buf, why);
	return 0;
}

int
bgpconf_parse_peer_addr(const char *s, const char *what, struct ipaddr *ret,
			struct lf_err *reterr)
{
	struct ipaddr a;
	int r;

	if (s && strchr(s, '/'))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s%s: give the peer address without a "
				  "prefix length (e.g. 192.0.2.1)",
				  nz(what), sep(what), s);
	if (s == NULL || ipaddr_parse(s, &a) < 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s'%s' is not an IPv4 or IPv6 address "
				  "(e.g. 192.0.2.1 or 2001:db8::1)",
				  nz(what), sep(what), s ? s : "");
	r = bgpconf_check_peer_addr(&a, what, reterr);
	if (r < 0)
		return r;
	*ret = a;
	return 0;
}

int
bgpconf_parse_router_ip(const char *s, const char *what, struct prefix *ret,
			struct lf_err *reterr)
{
	char addr[IPADDR_STRLEN + 1];
	const char *slash = s ? strchr(s, '/') : NULL;
	struct prefix p;
	struct ipaddr a;
	uint64_t len;
	unsigned max;
	int r;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr)) {
		if (s && ipaddr_parse(s, &a) == 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%s%s%s: add the prefix length of the "
					  "node's subnet, e.g. %s/%u", nz(what),
					  sep(what), s, s,
					  a.family == AF_INET ? 24 : 64);
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s'%s' is not IP/LEN (e.g. 10.0.0.1/24 or "
				  "2001:db8::1/64)", nz(what), sep(what),
				  s ? s : "");
	}
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (ipaddr_parse(addr, &a) < 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s%s: '%s' is not an IPv4 or IPv6 address "
				  "(e.g. 10.0.0.1/24)", nz(what), sep(what), s,
				  addr);
	max = prefix_maxlen(a.family);
	if (parse_digits(slash + 1, strlen(slash + 1), 255, &len) < 0 ||
	    len < 1 || len > max)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s%s: the prefix length must be 1-%u "
				  "(e.g. %s/%u)", nz(what), sep(what), s, max,
				  addr, a.family == AF_INET ? 24 : 64);
	r = bgpconf_check_peer_addr(&a, what, reterr);
	if (r < 0)
		return r;
	memset(&p, 0, sizeof(p));
	p.addr = a;
	p.len = (uint8_t)len;
	*ret = p;
	return 0;
}

bool
bgpconf_node_name_valid(const char *name)
{
	size_t i, len = name ? strlen(name) : 0;

	if (len == 0 || len >= LEAFNET_NAME_MAX)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	      (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (i = 1; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int
bgpconf_check_node_name(const char *name, struct lf_err *reterr)
{
	if (!bgpconf_node_name_valid(name))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "'%s' is not a valid node name: use 1-%d "
				  "letters, digits, '.', '_' or '-', starting "
				  "with a letter or digit", name ? name : "",
				  LEAFNET_NAME_MAX - 1);
	return 0;
}

const char *
bgpconf_import_name(enum bgpconf_import i)
{
	switch (i) {
	case BGPCONF_IMPORT_ALL:	return "all";
	case BGPCONF_IMPORT_DEFAULT:	return "default";
	case BGPCONF_IMPORT_NONE:	return "none";
	case BGPCONF_IMPORT_UNSET:	break;
	}
	return "inherit";
}

int
bgpconf_parse_import(const char *s, bool allow_inherit, const char *what,
		     enum bgpconf_import *ret, struct lf_err *reterr)
{
	static const enum bgpconf_import all[] = {
		BGPCONF_IMPORT_ALL, BGPCONF_IMPORT_DEFAULT, BGPCONF_IMPORT_NONE,
		BGPCONF_IMPORT_UNSET,
	};
	size_t i;

	for (i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, bgpconf_import_name(all[i])) == 0 &&
		    (all[i] != BGPCONF_IMPORT_UNSET || allow_inherit)) {
			*ret = all[i];
			return 0;
		}
	return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
			  "%s%s'%s' is not an import policy: use default (only the "
			  "default routes), all or none%s", nz(what), sep(what),
			  s ? s : "", allow_inherit ? ", or inherit for the global "
			  "policy (netctl bgp import)" : "");
}

enum bgpconf_import
bgpconf_import_resolve(enum bgpconf_import peer, enum bgpconf_import global,
		       const char *file_key)
{
	if (peer != BGPCONF_IMPORT_UNSET)
		return peer;
	if (global != BGPCONF_IMPORT_UNSET)
		return global;
	if (file_key && strcmp(file_key, "default") == 0)
		return BGPCONF_IMPORT_DEFAULT;
	if (file_key && strcmp(file_key, "none") == 0)
		return BGPCONF_IMPORT_NONE;
	return BGPCONF_IMPORT_ALL;
}

int
bgpconf_parse_max_prefix(const char *s, const char *what, struct bgp_peer *ret,
			 struct lf_err *reterr)
{
	const char *comma = s ? strchr(s, ',') : NULL;
	uint64_t n, min = BGPCONF_MAXPFX_RESTART_DEFAULT;
	bool warning = false;
	size_t len;

	if (s == NULL || s[0] == '\0')
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%sgive the most routes the peer may send, "
				  "N[,warning|restart=MIN] (e.g. 1000)", nz(what), sep(what));
	len = comma ? (size_t)(comma - s) : strlen(s);
	if (len == 1 && s[0] == '0')
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s0 would refuse every route: give 1-4294967295 "
				  "(no limit is the default)", nz(what), sep(what));
	if (parse_digits(s, len, UINT32_MAX, &n) < 0 || n == 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s'%.*s' is not a route count: use 1-4294967295, "
				  "as in N[,warning|restart=MIN] (e.g. 1000)", nz(what),
				  sep(what), (int)len, s);
	if (comma && strcmp(comma + 1, "warning") == 0) {
		warning = true;
	} else if (comma && strncmp(comma + 1, "restart=", 8) == 0) {
		if (parse_digits(comma + 9, strlen(comma + 9), BGPCONF_MAXPFX_RESTART_MAX,
				 &min) < 0 || min == 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%s%s'%s': restart=MIN takes the minutes the "
					  "session stays down, 1-%d (e.g. %llu,restart=10)",
					  nz(what), sep(what), s, BGPCONF_MAXPFX_RESTART_MAX,
					  (unsigned long long)n);
	} else if (comma) {
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s'%s': after the count comes 'warning' (log and "
				  "keep the session) or 'restart=MIN' (tear down, stay "
				  "down MIN minutes; the default, 5)", nz(what), sep(what), s);
	}
	ret->max_prefix = (uint32_t)n;
	ret->max_prefix_warning = warning;
	ret->max_prefix_restart = warning ? 0 : (uint16_t)min;
	return 0;
}

const char *
bgpconf_max_prefix_fmt(const struct bgp_peer *p, char *buf, size_t size)
{
	if (p->max_prefix == 0)
		snprintf(buf, size, "%s", "");
	else if (p->max_prefix_warning)
		snprintf(buf, size, "%u,warning", p->max_prefix);
	else if (p->max_prefix_restart != 0 &&
		 p->max_prefix_restart != BGPCONF_MAXPFX_RESTART_DEFAULT)
		snprintf(buf, size, "%u,restart=%u", p->max_prefix, p->max_prefix_restart);
	else
		snprintf(buf, size, "%u", p->max_prefix);
	return buf;
}

const char *
bgpconf_peer_opts_fmt(const struct bgp_peer *p, char *buf, size_t size)
{
	char mp[BGPCONF_MAXPFX_STRLEN];

	bgpconf_max_prefix_fmt(p, mp, sizeof(mp));
	snprintf(buf, size, "%s%s%s%s%s%s", p->password[0] ? " md5" : "",
		 p->ttl_security ? " ttl-security" : "", mp[0] ? " max-prefix=" : "", mp,
		 p->import != BGPCONF_IMPORT_UNSET ? " import=" : "",
		 p->import != BGPCONF_IMPORT_UNSET ? bgpconf_import_name(p->import) : "");
	if (buf[0] == ' ')
		memmove(buf, buf + 1, strlen(buf));
	return buf;
}

int
bgpconf_check_peer(const struct bgp_peer *p, struct lf_err *reterr)
{
	size_t i, len;
	int r;

	r = bgpconf_check_peer_addr(&p->addr, "peer", reterr);
	if (r == 0)
		r = bgpconf_check_as(p->as, "peer AS", reterr);
	if (r < 0)
		return r;
	len = strnlen(p->password, sizeof(p->password));
	if (len > BGPCONF_PASSWORD_MAX)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--password: at most %d characters (the TCP "
				  "MD5 key limit)", BGPCONF_PASSWORD_MAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)p->password[i] < 0x20 ||
		    (unsigned char)p->password[i] == 0x7f)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "--password: control characters are "
					  "not allowed");
	if (p->import > BGPCONF_IMPORT_NONE)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--import: not default, all, none or inherit");
	if (p->max_prefix && p->max_prefix_warning && p->max_prefix_restart)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--max-prefix: warning and restart=MIN exclude each other");
	return 0;
}

/* ------------------------------------------------------------ JSON */

int
bgpconf_oom(struct lf_err *reterr)
{
	return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
}

char *
bgpconf_config_to_json(const struct bgp_config *c)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	if (o && cJSON_AddNumberToObject(o, "default_node_as", c->default_node_as) &&
	    cJSON_AddBoolToObject(o, "node_mesh", c->node_mesh) &&
	    cJSON_AddNumberToObject(o, "listen_port", c->listen_port) &&
	    cJSON_AddNumberToObject(o, "keepalive", c->keepalive) &&
	    cJSON_AddNumberToObject(o, "hold_time", c->hold_time) &&
	    (c->import == BGPCONF_IMPORT_UNSET ||
	     cJSON_AddStringToObject(o, "import", bgpconf_import_name(c->import))))
		text = json_print(o);
	cJSON_Delete(o);
	return text;
}

static int
get_u16(const cJSON *o, const char *key, uint16_t *ret, const char *ctx,
	struct lf_err *reterr)
{
	uint32_t v;
	int r;

	r = json_get_u32(o, key, &v, false, ctx, reterr);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (v > 65535)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s%s: %u is out of range (0-65535)", ctx, key, v);
	*ret = (uint16_t)v;
	return 0;
}

/* An optional "import" member: absent is UNSET. */
static int
get_import(const cJSON *o, const char *ctx, enum bgpconf_import *ret,
	   struct lf_err *reterr)
{
	char buf[16];
	int r;

	r = json_get_str(o, "import", buf, sizeof(buf), false, ctx, reterr);
	if (r == -ENOENT)
		return 0;
	if (r == 0 && (bgpconf_parse_import(buf, false, NULL, ret, NULL) < 0))
		r = lf_err_set(reterr, LF_E_DECODE, -EINVAL,
			       "%simport: '%s' is not all, default or none", ctx, buf);
	return r;
}

int
bgpconf_config_from_json(const char *text, struct bgp_config *ret, struct lf_err *reterr)
{
	static const char ctx[] = KEY_CONFIG ".";
	struct bgp_config c;
	cJSON *o;
	int r;

	bgpconf_defaults(&c);
	r = json_parse(text, &o, reterr);
	if (r < 0)
		return r;
	if (!cJSON_IsObject(o)) {
		r = lf_err_set(reterr, LF_E_DECODE, -EINVAL,
			       KEY_CONFIG ": expected a JSON object");
		goto out_delete;
	}
	r = json_get_u32(o, "default_node_as", &c.default_node_as, false, ctx, reterr);
	if (r == 0)
		r = bgpconf_check_as(c.default_node_as, KEY_CONFIG ".default_node_as", reterr);
	if (r == -ENOENT)
		r = 0;
	if (r == 0)
		r = json_get_bool(o, "node_mesh", &c.node_mesh, false, ctx, reterr);
	if (r == -ENOENT)
		r = 0;
	if (r == 0)
		r = get_u16(o, "listen_port", &c.listen_port, ctx, reterr);
	if (r == 0)
		r = get_u16(o, "keepalive", &c.keepalive, ctx, reterr);
	if (r == 0)
		r = get_u16(o, "hold_time", &c.hold_time, ctx, reterr);
	if (r == 0)
		r = get_import(o, ctx, &c.import, reterr);
	if (r == 0)
		*ret = c;
out_delete:
	cJSON_Delete(o);
	return r;
}

static cJSON *
peer_to_json(const struct bgp_peer *p)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !json_add_addr(o, "ip", &p->addr) ||
	    !cJSON_AddNumberToObject(o, "as", p->as) ||
	    (p->password[0] && !cJSON_AddStringToObject(o, "password", p->password)) ||
	    (p->ttl_security && !cJSON_AddBoolToObject(o, "ttl_security", 1)) ||
	    (p->max_prefix &&
	     (!cJSON_AddNumberToObject(o, "max_prefix", p->max_prefix) ||
	      !cJSON_AddStringToObject(o, "max_prefix_action",
				       p->max_prefix_warning ? "warning" : "restart") ||
	      (!p->max_prefix_warning &&
	       !cJSON_AddNumberToObject(o, "max_prefix_restart", p->max_prefix_restart ?
					p->max_prefix_restart : BGPCONF_MAXPFX_RESTART_DEFAULT)))) ||
	    (p->import != BGPCONF_IMPORT_UNSET &&
	     !cJSON_AddStringToObject(o, "import", bgpconf_import_name(p->import))) ||
	    !cJSON_AddNumberToObject(o, "created", (double)p->created)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The options of a peer record; absent ones stay off (older records). */
static int
peer_opts_from_json(const cJSON *o, const char *ctx, struct bgp_peer *p,
		    struct lf_err *reterr)
{
	char action[16] = "restart";
	uint16_t min = BGPCONF_MAXPFX_RESTART_DEFAULT;
	int r;

	r = json_get_bool(o, "ttl_security", &p->ttl_security, false, ctx, reterr);
	if (r == -ENOENT)
		r = 0;
	if (r == 0)
		r = json_get_u32(o, "max_prefix", &p->max_prefix, false, ctx, reterr);
	if (r == -ENOENT)
		r = 0;
	if (r == 0)
		r = json_get_str(o, "max_prefix_action", action, sizeof(action), false,
				 ctx, reterr);
	if (r == -ENOENT)
		r = 0;
	if (r == 0 && strcmp(action, "restart") != 0 && strcmp(action, "warning") != 0)
		r = lf_err_set(reterr, LF_E_DECODE, -EINVAL,
			       "%smax_prefix_action: '%s' is not restart or warning", ctx,
			       action);
	if (r == 0)
		r = get_u16(o, "max_prefix_restart", &min, ctx, reterr);
	if (r == 0 && min == 0)
		r = lf_err_set(reterr, LF_E_DECODE, -EINVAL,
			       "%smax_prefix_restart: 0 is out of range (1-%d minutes)",
			       ctx, BGPCONF_MAXPFX_RESTART_MAX);
	if (r == 0)
		r = get_import(o, ctx, &p->import, reterr);
	if (r < 0)
		return r;
	if (p->max_prefix) {
		p->max_prefix_warning = strcmp(action, "warning") == 0;
		p->max_prefix_restart = p->max_prefix_warning ? 0 : min;
	}
	return 0;
}

int
bgpconf_peer_from_json(const cJSON *o, const char *ctx, struct bgp_peer *ret,
	       struct lf_err *reterr)
{
	char a[IPADDR_STRLEN + 1];
	struct bgp_peer p;
	const cJSON *it;
	int r;

	memset(&p, 0, sizeof(p));
	if (!cJSON_IsObject(o))
		return lf_err_set(reterr, LF_E_DECODE, -EINVAL,
				  "%s: expected a JSON object", ctx);
	r = json_get_str(o, "ip", a, sizeof(a), true, ctx, reterr);
	if (r == 0 && ipaddr_parse(a, &p.addr) < 0)
		r = lf_err_set(reterr, LF_E_DECODE, -EINVAL,
			       "%sip: '%s' is not an IP address", ctx, a);
	if (r == 0)
		r = json_get_u32(o, "as", &p.as, true, ctx, reterr);
	if (r == 0) {
		r = json_get_str(o, "password", p.password, sizeof(p.password),
				 false, ctx, reterr);
		if (r == -ENOENT)
			r = 0;
	}
	if (r == 0)
		r = peer_opts_from_json(o, ctx, &p, reterr);
	if (r < 0)
		return r;
	it = cJSON_GetObjectItemCaseSensitive(o, "created");
	if (cJSON_IsNumber(it) && it->valuedouble > 0 && it->valuedouble < 1e15)
		p.created = (long long)it->valuedouble;
	*ret = p;
	return 0;
}

char *
bgpconf_peer_to_text(const struct bgp_peer *p)
{
	cJSON *o = peer_to_json(p);
	char *text = o ? json_print(o) : NULL;

	cJSON_Delete(o);
	return text;
}

int
bgpconf_peer_cmp(const void *a, const void *b)
{
	return ipaddr_cmp(&((const struct bgp_peer *)a)->addr,
			  &((const struct bgp_peer *)b)->addr);
}

char *
bgpconf_node_to_json(const struct bgp_node *n)
{
	char p4[PREFIX_STRLEN] = "", p6[PREFIX_STRLEN] = "";
	cJSON *o, *arr = NULL, *po;
	char *text = NULL;
	size_t i;

	if (n->router_ip4.addr.family)
		prefix_fmt(&n->router_ip4, p4, sizeof(p4));
	if (n->router_ip6.addr.family)
		prefix_fmt(&n->router_ip6, p6, sizeof(p6));
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "name", n->name) ||
	    !cJSON_AddNumberToObject(o, "as", n->as) ||
	    !cJSON_AddStringToObject(o, "router_ip4", p4) ||
	    !cJSON_AddStringToObject(o, "router_ip6", p6) ||
	    !cJSON_AddNumberToObject(o, "created", (double)n->created) ||
	    (n->rr && !cJSON_AddBoolToObject(o, "rr", true)) ||
	    (n->rr && n->cluster_id.family == AF_INET &&
	     !json_add_addr(o, "cluster_id", &n->cluster_id)) ||
	    !(arr = cJSON_AddArrayToObject(o, "peers")))
		goto out_delete;
	for (i = 0; i < n->n_peers; i++) {
		po = peer_to_json(&n->peers[i]);
		if (!po || !cJSON_AddItemToArray(arr, po)) {
			cJSON_Delete(po);
			goto out_delete;
		}
	}
	text = json_print(o);
out_delete:
	cJSON_Delete(o);
	return text;
}

static int
router_ip_from_json(const cJSON *o, const char *key, int family, const char *ctx,
		    struct prefix *ret, struct lf_err *reterr)
{
	char buf[PREFIX_STRLEN + 1];
	struct prefix p;
	int r;

	r = json_get_str(o, key, buf, sizeof(buf), false, ctx, reterr);
	if (r == -ENOENT || (r == 0 && buf[0] == '\0'))
		return 0;
	if (r < 0)
		return r;
	if (prefix_parse(buf, PREFIX_F_HOST_BITS, &p) < 0 || p.addr.family != family)
		return lf_err_set(reterr, LF_E_DECODE, -EINVAL,
				  "%s%s: '%s' is not an IPv%d IP/LEN", ctx, key,
				  buf, family == AF_INET ? 4 : 6);
	*ret = p;
	return 0;
}

/* "rr" (optional bool) and "cluster_id" (optional IPv4 text). */
static int
rr_from_json(const cJSON *o, const char *ctx, struct bgp_node *n, struct lf_err *reterr)
{
	char buf[IPADDR_STRLEN + 1];
	int r;

	r = json_get_bool(o, "rr", &n->rr, false, ctx, reterr);
	if (r == -ENOENT)
		r = 0;
	if (r == 0)
		r = json_get_str(o, "cluster_id", buf, sizeof(buf), false, ctx, reterr);
	if (r == -ENOENT || (r == 0 && buf[0] == '\0'))
		return 0;
	if (r < 0)
		return r;
	if (ipaddr_parse(buf, &n->cluster_id) < 0 || n->cluster_id.family != AF_INET) {
		memset(&n->cluster_id, 0, sizeof(n->cluster_id));
		return lf_err_set(reterr, LF_E_DECODE, -EINVAL,
				  "%scluster_id: '%s' is not an IPv4 address", ctx, buf);
	}
	return 0;
}

int
bgpconf_node_from_json(const char *text, const char *key, struct bgp_node *ret,
	       struct lf_err *reterr)
{
	char ctx[KEY_MAX + 2], pctx[KEY_MAX + 32];
	const cJSON *arr = NULL, *it;
	struct bgp_node n;
	cJSON *o;
	size_t i = 0;
	int r;

	memset(&n, 0, sizeof(n));
	snprintf(ctx, sizeof(ctx), "%s.", key);
	r = json_parse(text, &o, reterr);
	if (r < 0)
		return r;
	if (!cJSON_IsObject(o)) {
		r = lf_err_set(reterr, LF_E_DECODE, -EINVAL,
			       "%s: expected a JSON object", key);
		goto out_delete;
	}
	r = json_get_str(o, "name", n.name, sizeof(n.name), true, ctx, reterr);
	if (r == 0)
		r = json_get_u32(o, "as", &n.as, false, ctx, reterr);
	if (r == -ENOENT)
		r = 0;
	if (r == 0)
		r = router_ip_from_json(o, "router_ip4", AF_INET, ctx, &n.router_ip4, reterr);
	if (r == 0)
		r = router_ip_from_json(o, "router_ip6", AF_INET6, ctx, &n.router_ip6, reterr);
	if (r == 0)
		r = rr_from_json(o, ctx, &n, reterr);
	if (r == 0)
		r = json_get_arr(o, "peers", &arr, false, ctx, reterr);
	if (r == -ENOENT)
		r = 0;
	if (r < 0)
		goto out_delete;
	it = cJSON_GetObjectItemCaseSensitive(o, "created");
	if (cJSON_IsNumber(it) && it->valuedouble > 0 && it->valuedouble < 1e15)
		n.created = (long long)it->valuedouble;
	if (arr && cJSON_GetArraySize(arr) > 0) {
		n.peers = calloc((size_t)cJSON_GetArraySize(arr), sizeof(*n.peers));
		if (!n.peers) {
			r = bgpconf_oom(reterr);
			goto out_delete;
		}
		cJSON_ArrayForEach(it, arr) {
			snprintf(pctx, sizeof(pctx), "%speers[%zu].", ctx, i);
			r = bgpconf_peer_from_json(it, pctx, &n.peers[i], reterr);
			if (r < 0) {
				free(n.peers);
				goto out_delete;
			}
			i++;
		}
		n.n_peers = i;
		qsort(n.peers, n.n_peers, sizeof(*n.peers), bgpconf_peer_cmp);
	}
	*ret = n;
out_delete:
	cJSON_Delete(o);
	return r;
}

void
bgpconf_node_done(struct bgp_node *n)
{
	if (!n)
		return;
	free(n->peers);
	n->peers = NULL;
	n->n_peers = 0;
}

void
bgpconf_nodes_free(struct bgp_node *nodes, size_t n)
{
	size_t i;

	if (!nodes)
		return;
	for (i = 0; i < n; i++)
		bgpconf_node_done(&nodes[i]);
	free(nodes);
}

