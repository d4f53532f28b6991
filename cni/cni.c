/* cni.c — the CNI environment and network configuration -> struct cni_cmd.
 *
 * Pure parsing: getenv() is the only outside world this file touches, so
 * tests/unit/test_cni_parse.c includes it whole.  Every error names the
 * variable or the field and says what was expected.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cni.h"
#include "err.h"
#include "json.h"
#include "network.h"

static const char *const cni_command_names[] = {
	[CNI_CMD_NONE] = "", [CNI_CMD_ADD] = "ADD", [CNI_CMD_DEL] = "DEL",
	[CNI_CMD_CHECK] = "CHECK", [CNI_CMD_VERSION] = "VERSION",
	[CNI_CMD_STATUS] = "STATUS", [CNI_CMD_GC] = "GC",
};

static const char *const cni_version_names[] = {
	[CNI_V_NONE] = "", [CNI_V_0_3_0] = "0.3.0", [CNI_V_0_3_1] = "0.3.1",
	[CNI_V_0_4_0] = "0.4.0", [CNI_V_1_0_0] = "1.0.0", [CNI_V_1_1_0] = "1.1.0",
};

enum cni_command
cni_command_parse(const char *s)
{
	for (size_t i = 1; s != NULL && i < sizeof(cni_command_names) / sizeof(cni_command_names[0]); i++)
		if (strcmp(s, cni_command_names[i]) == 0)
			return (enum cni_command)i;
	return CNI_CMD_NONE;
}

const char *
cni_command_name(enum cni_command c)
{
	if ((size_t)c >= sizeof(cni_command_names) / sizeof(cni_command_names[0]))
		return "";
	return cni_command_names[c];
}

enum cni_version
cni_version_parse(const char *s)
{
	for (size_t i = 1; s != NULL && i < sizeof(cni_version_names) / sizeof(cni_version_names[0]); i++)
		if (strcmp(s, cni_version_names[i]) == 0)
			return (enum cni_version)i;
	return CNI_V_NONE;
}

const char *
cni_version_name(enum cni_version v)
{
	if ((size_t)v >= sizeof(cni_version_names) / sizeof(cni_version_names[0]))
		return "";
	return cni_version_names[v];
}

/* ---- environment ------------------------------------------------------- */

/* Copy $name into buf.  Absent or empty is -ENOENT (an error only when
 * required); too long is code 4. */
static int
env_get(enum lf_field field, char *buf, size_t size, bool required,
	enum cni_command command, struct lf_err *reterr)
{
	const char *name = cni_field_var(field);
	const char *v = getenv(name);
	size_t len;

	if (v == NULL || v[0] == '\0') {
		if (required)
			return lf_err_set_field(reterr, LF_E_INVALID, field, -EINVAL,
						"%s is required for %s", name,
						cni_command_name(command));
		return -ENOENT;
	}
	len = strlen(v);
	if (len >= size)
		return lf_err_set_field(reterr, LF_E_INVALID, field, -EINVAL,
					"%s: too long (%zu characters, at most %zu)",
					name, len, size - 1);
	memcpy(buf, v, len + 1);
	return 0;
}

/* The spec: alphanumerics plus '_', '.', '-', starting alphanumeric. */
static int
container_id_check(const char *id, struct lf_err *reterr)
{
	if (!isalnum((unsigned char)id[0]))
		goto bad;
	for (const char *p = id; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			goto bad;
	return 0;
bad:
	return lf_err_set_field(reterr, LF_E_INVALID, LF_F_CONTAINER_ID, -EINVAL,
				"CNI_CONTAINERID: \"%s\" has invalid characters (letters, "
				"digits, '_', '.', '-', starting with a letter or digit)",
				id);
}

/* What the kernel accepts as a link name. */
static int
ifname_check(const char *name, struct lf_err *reterr)
{
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		goto bad;
	for (const char *p = name; *p != '\0'; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) ||
		    !isprint((unsigned char)*p))
			goto bad;
	return 0;
bad:
	return lf_err_set_field(reterr, LF_E_INVALID, LF_F_IFNAME, -EINVAL,
				"CNI_IFNAME: \"%s\" is not a valid interface name "
				"(at most %d characters, no '/', ':' or spaces)",
				name, IFNAMSIZ - 1);
}

static bool
bool_word(const char *v, bool *ret)
{
	if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0) {
		*ret = true;
		return true;
	}
	if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0) {
		*ret = false;
		return true;
	}
	return false;
}

static int
ip_arg_parse(char *v, struct cni_env *env, struct lf_err *reterr)
{
	char *save = NULL;

	for (char *tok = strtok_r(v, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		struct prefix p;

		if (env->n_ip_args >= IPAM_MAX_ADDRS)
			return lf_err_set_field(reterr, LF_E_INVALID, LF_F_ARGS, -EINVAL,
					  "CNI_ARGS IP: more than %d addresses",
					  IPAM_MAX_ADDRS);
		if (prefix_parse(tok, PREFIX_F_HOST_BITS | PREFIX_F_NO_LEN, &p) < 0)
			return lf_err_set_field(reterr, LF_E_INVALID, LF_F_ARGS, -EINVAL,
					  "CNI_ARGS IP: \"%s\" is not an IP address", tok);
		env->ip_args[env->n_ip_args++] = p.addr;
	}
	return 0;
}

static int
k8s_arg(const char *key, const char *v, char *buf, size_t size, struct lf_err *reterr)
{
	if (strlen(v) >= size)
		return lf_err_set_field(reterr, LF_E_INVALID, LF_F_ARGS, -EINVAL,
				  "CNI_ARGS %s: too long", key);
	snprintf(buf, size, "%s", v);
	return 0;
}

/* "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;IP=10.0.0.5,fd00::5" */
static int
cni_args_parse(const char *args, struct cni_env *env, struct lf_err *reterr)
{
	char *copy, *save = NULL;
	int r = 0;

	copy = strdup(args);
	if (copy == NULL)
		return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
	/* IgnoreUnknown may come anywhere in the list: look for it first. */
	for (char *kv = strtok_r(copy, ";", &save); kv != NULL;
	     kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');

		if (eq == NULL || eq == kv) {
			r = lf_err_set_field(reterr, LF_E_INVALID, LF_F_ARGS, -EINVAL,
				       "CNI_ARGS: \"%s\" is not KEY=VALUE", kv);
			goto out_free;
		}
		if (strncmp(kv, "IgnoreUnknown=", 14) == 0 &&
		    !bool_word(eq + 1, &env->ignore_unknown)) {
			r = lf_err_set_field(reterr, LF_E_INVALID, LF_F_ARGS, -EINVAL,
				       "CNI_ARGS IgnoreUnknown: expected 1, 0, true or false, got \"%s\"",
				       eq + 1);
			goto out_free;
		}
	}
	strcpy(copy, args);
	save = NULL;
	for (char *kv = strtok_r(copy, ";", &save); kv != NULL && r == 0;
	     kv = strtok_r(NULL, ";", &save)) {
		char *key = kv, *v = strchr(kv, '=');

		*v++ = '\0';
		if (strcmp(key, "IgnoreUnknown") == 0)
			continue;
		else if (strcmp(key, "IP") == 0)
			r = ip_arg_parse(v, env, reterr);
		else if (strcmp(key, "MAC") == 0)	/* too long stays invalid */
			snprintf(env->mac_arg, sizeof(env->mac_arg), "%s", v);
		else if (strcmp(key, "K8S_POD_NAMESPACE") == 0)
			r = k8s_arg(key, v, env->k8s_namespace, sizeof(env->k8s_namespace), reterr);
		else if (strcmp(key, "K8S_POD_NAME") == 0)
			r = k8s_arg(key, v, env->k8s_pod, sizeof(env->k8s_pod), reterr);
		else if (strcmp(key, "K8S_POD_INFRA_CONTAINER_ID") == 0)
			r = k8s_arg(key, v, env->k8s_infra_id, sizeof(env->k8s_infra_id), reterr);
		else if (strcmp(key, "K8S_POD_UID") == 0)
			r = k8s_arg(key, v, env->k8s_uid, sizeof(env->k8s_uid), reterr);
		else if (!env->ignore_unknown)
			r = lf_err_set_field(reterr, LF_E_UNSUPPORTED, LF_F_ARGS, -EINVAL,
				       "CNI_ARGS: unknown key \"%s\" (add IgnoreUnknown=1 to ignore it)",
				       key);
	}
out_free:
	free(copy);
	return r;
}

int
cni_env_parse(enum cni_command command, struct cni_env *ret, struct lf_err *reterr)
{
	struct cni_env env;
	bool needs_id, needs_netns, needs_ifname;
	const char *args;
	int r;

	memset(&env, 0, sizeof(env));
	needs_id = command == CNI_CMD_ADD || command == CNI_CMD_DEL || command == CNI_CMD_CHECK;
	/* DEL may come after the namespace is gone: CNI_NETNS may be empty. */
	needs_netns = command == CNI_CMD_ADD || command == CNI_CMD_CHECK;
	needs_ifname = needs_id;

	r = env_get(LF_F_CONTAINER_ID, env.container_id, sizeof(env.container_id),
		    needs_id, command, reterr);
	if (r == -EINVAL || (r == -ENOENT && needs_id))
		return -EINVAL;
	if (r == 0 && needs_id && container_id_check(env.container_id, reterr) < 0)
		return -EINVAL;
	r = env_get(LF_F_NETNS, env.netns, sizeof(env.netns), needs_netns, command, reterr);
	if (r == -EINVAL || (r == -ENOENT && needs_netns))
		return -EINVAL;
	r = env_get(LF_F_IFNAME, env.ifname, sizeof(env.ifname), needs_ifname, command, reterr);
	if (r == -EINVAL || (r == -ENOENT && needs_ifname))
		return -EINVAL;
	if (r == 0 && needs_ifname && ifname_check(env.ifname, reterr) < 0)
		return -EINVAL;
	/* Only needed to find a delegated IPAM plugin; checked there. */
	r = env_get(LF_F_PATH, env.path, sizeof(env.path), false, command, reterr);
	if (r == -EINVAL)
		return r;
	args = getenv("CNI_ARGS");
	if (args != NULL && args[0] != '\0' && command != CNI_CMD_VERSION) {
		r = cni_args_parse(args, &env, reterr);
		if (r < 0)
			return r;
	}
	*ret = env;
	return 0;
}

void
cni_handle(const struct cni_env *env, char *buf, size_t size)
{
	int n;

	if (size == 0)
		return;
	buf[0] = '\0';
	if (env->k8s_namespace[0] == '\0' || env->k8s_pod[0] == '\0')
		return;
	/* Informational; Kubernetes names fit (namespace <= 63, pod <= 253). */
	n = snprintf(buf, size, "k8s:%s/%s", env->k8s_namespace, env->k8s_pod);
	if (n < 0)
		buf[0] = '\0';
}

/* ---- network configuration -------------------------------------------- */

static int
static_add(struct cni_conf *c, const struct ipaddr *a, const char *where,
	   struct lf_err *reterr)
{
	for (size_t i = 0; i < c->n_statics; i++)
		if (ipaddr_eq(&c->statics[i], a))
			return 0;
	if (c->n_statics >= IPAM_MAX_ADDRS)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s: more than %d requested addresses",
				  where, IPAM_MAX_ADDRS);
	c->statics[c->n_statics++] = *a;
	return 0;
}

/* ["10.0.0.5/24", "fd00::5"]: the address counts, a length is allowed. */
static int
ips_parse(const cJSON *arr, const char *where, struct cni_conf *c, struct lf_err *reterr)
{
	const cJSON *it;
	int i = 0, r;

	if (!cJSON_IsArray(arr))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s: expected an array of IP addresses", where);
	cJSON_ArrayForEach(it, arr) {
		struct prefix p;

		if (!cJSON_IsString(it) ||
		    prefix_parse(it->valuestring, PREFIX_F_HOST_BITS | PREFIX_F_NO_LEN, &p) < 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%s[%d]: expected an IP address like \"10.0.0.5\" or \"10.0.0.5/24\"",
					  where, i);
		r = static_add(c, &p.addr, where, reterr);
		if (r < 0)
			return r;
		i++;
	}
	return 0;
}

static int
mtu_parse(const cJSON *root, struct cni_conf *c, struct lf_err *reterr)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "mtu");
	double v;

	if (it == NULL || cJSON_IsNull(it))
		return 0;
	v = cJSON_IsNumber(it) ? it->valuedouble : -1;
	if (v != v || v < 68 || v > 65535 || (double)(uint32_t)v != v)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "mtu: expected a number between 68 and 65535");
	c->mtu = (uint32_t)v;
	return 0;
}

/* "ipam": absent / {"type":"leafnet-ipam","network":"x"} / anything else. */
static int
ipam_parse(const cJSON *root, bool ipam_plugin, struct cni_conf *c,
	   char *ipam_network, size_t size, struct lf_err *reterr)
{
	const cJSON *ipam = NULL;
	int r;

	r = json_get_obj(root, "ipam", &ipam, false, NULL, reterr);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = json_get_str(ipam, "type", c->ipam_type, sizeof(c->ipam_type), true,
			 "ipam.", reterr);
	if (r < 0)
		return -EINVAL;
	if (strcmp(c->ipam_type, "leafnet-ipam") != 0) {
		if (ipam_plugin)	/* we were called as someone else */
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "ipam.type: \"%s\", but this is leafnet-ipam",
					  c->ipam_type);
		if (strchr(c->ipam_type, '/') != NULL || c->ipam_type[0] == '.')
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "ipam.type: \"%s\" must be a plugin name, not a path",
					  c->ipam_type);
		c->ipam_delegate = true;
		return 0;
	}
	r = json_get_str(ipam, "network", ipam_network, size, false, "ipam.", reterr);
	return r == -EINVAL ? r : 0;
}

static int
attachments_parse(const cJSON *root, const char *key, struct cni_conf *c,
		  struct lf_err *reterr)
{
	const cJSON *arr = NULL, *it;
	struct cni_attachment *v;
	size_t n;
	int i = 0, r;

	r = json_get_arr(root, key, &arr, false, NULL, reterr);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	c->has_valid_attachments = true;
	n = (size_t)cJSON_GetArraySize(arr);
	if (n == 0)
		return 0;
	v = reallocarray(c->valid, c->n_valid + n, sizeof(*v));
	if (v == NULL)
		return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
	c->valid = v;
	cJSON_ArrayForEach(it, arr) {
		struct cni_attachment *a = &c->valid[c->n_valid];
		char ctx[64];

		snprintf(ctx, sizeof(ctx), "%s[%d].", key, i++);
		if (!cJSON_IsObject(it))
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "%s[%d]: expected an object {\"containerID\",\"ifname\"}",
					  key, i - 1);
		memset(a, 0, sizeof(*a));
		if (json_get_str(it, "containerID", a->container_id,
				 sizeof(a->container_id), true, ctx, reterr) < 0 ||
		    json_get_str(it, "ifname", a->ifname, sizeof(a->ifname),
				 true, ctx, reterr) < 0)
			return -EINVAL;
		c->n_valid++;
	}
	return 0;
}

bool
cni_attachment_valid(const struct cni_conf *c, const char *container_id,
		     const char *ifname)
{
	for (size_t i = 0; i < c->n_valid; i++)
		if (strcmp(c->valid[i].container_id, container_id) == 0 &&
		    strcmp(c->valid[i].ifname, ifname) == 0)
			return true;
	return false;
}

static int
version_parse(const cJSON *root, enum cni_command command, struct cni_conf *c,
	      struct lf_err *reterr)
{
	if (json_get_str(root, "cniVersion", c->cni_version, sizeof(c->cni_version),
			 true, NULL, reterr) < 0)
		return -EINVAL;
	c->version = cni_version_parse(c->cni_version);
	if (c->version == CNI_V_NONE)
		return lf_err_set_field(reterr, LF_E_UNSUPPORTED, LF_F_VERSION, -EINVAL,
				  "cniVersion \"%s\" is not supported "
				  "(supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)",
				  c->cni_version);
	if (command == CNI_CMD_CHECK && c->version < CNI_V_0_4_0)
		return lf_err_set_field(reterr, LF_E_UNSUPPORTED, LF_F_VERSION, -EINVAL,
				  "CHECK was introduced in CNI 0.4.0; the config has cniVersion %s",
				  c->cni_version);
	if ((command == CNI_CMD_GC || command == CNI_CMD_STATUS) && c->version < CNI_V_1_1_0)
		return lf_err_set_field(reterr, LF_E_UNSUPPORTED, LF_F_VERSION, -EINVAL,
				  "%s was introduced in CNI 1.1.0; the config has cniVersion %s",
				  cni_command_name(command), c->cni_version);
	return 0;
}

/* The statics: runtimeConfig.ips (the `ips` capability), args.cni.ips,
 * CNI_ARGS IP=.  The union, without repeats. */
static int
statics_parse(const cJSON *root, const struct cni_env *env, struct cni_conf *c,
	      struct lf_err *reterr)
{
	const cJSON *rc = NULL, *args = NULL, *cni = NULL, *ips;
	int r;

	r = json_get_obj(root, "runtimeConfig", &rc, false, NULL, reterr);
	if (r == -EINVAL)
		return r;
	/* Keys of runtimeConfig we do not know are someone else's capability. */
	if (rc != NULL && (ips = cJSON_GetObjectItemCaseSensitive(rc, "ips")) != NULL &&
	    !cJSON_IsNull(ips) && (r = ips_parse(ips, "runtimeConfig.ips", c, reterr)) < 0)
		return r;
	/* "args" is free-form by the spec: only args.cni.ips is ours. */
	args = cJSON_GetObjectItemCaseSensitive(root, "args");
	if (cJSON_IsObject(args))
		cni = cJSON_GetObjectItemCaseSensitive(args, "cni");
	if (cJSON_IsObject(cni) && (ips = cJSON_GetObjectItemCaseSensitive(cni, "ips")) != NULL &&
	    !cJSON_IsNull(ips) && (r = ips_parse(ips, "args.cni.ips", c, reterr)) < 0)
		return r;
	for (size_t i = 0; env != NULL && i < env->n_ip_args; i++)
		if ((r = static_add(c, &env->ip_args[i], "CNI_ARGS IP", reterr)) < 0)
			return r;
	return 0;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)tolower((unsigned char)ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int
cni_mac_parse(const char *s, uint8_t ret[6])
{
	uint8_t mac[6];

	if (s == NULL || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if ((mac[0] & 0x01) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -EADDRNOTAVAIL;
	memcpy(ret, mac, 6);
	return 0;
}

/* One source of the MAC, `where` naming it in a refusal (code 7). */
static int
mac_take(const char *v, const char *where, struct cni_conf *c, struct lf_err *reterr)
{
	int r = cni_mac_parse(v, c->mac);

	if (r == -EADDRNOTAVAIL)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s: \"%s\" is not a unicast MAC address (the first octet's "
				  "lowest bit must be 0, and not all zero)", where, v);
	if (r < 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s: \"%.40s\" is not a MAC address like \"02:42:0a:00:00:05\" "
				  "(six hex octets separated by ':')", where, v);
	c->has_mac = true;
	return 0;
}

static int
mac_take_json(const cJSON *it, const char *where, struct cni_conf *c, struct lf_err *reterr)
{
	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsString(it))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s: expected a MAC address string like \"02:42:0a:00:00:05\"",
				  where);
	if (it->valuestring[0] == '\0')
		return 0;		/* "": not asked for (runtimes send that) */
	return mac_take(it->valuestring, where, c, reterr);
}

/* The `mac` capability: CNI_ARGS MAC=, then args.cni.mac, then
 * runtimeConfig.mac, the later winning (as the reference plugins do). */
static int
mac_parse(const cJSON *root, const struct cni_env *env, struct cni_conf *c,
	  struct lf_err *reterr)
{
	const cJSON *rc, *args, *cni = NULL;
	int r;

	if (env != NULL && env->mac_arg[0] != '\0' &&
	    (r = mac_take(env->mac_arg, "CNI_ARGS MAC", c, reterr)) < 0)
		return r;
	args = cJSON_GetObjectItemCaseSensitive(root, "args");
	if (cJSON_IsObject(args))
		cni = cJSON_GetObjectItemCaseSensitive(args, "cni");
	if (cJSON_IsObject(cni) &&
	    (r = mac_take_json(cJSON_GetObjectItemCaseSensitive(cni, "mac"), "args.cni.mac", c,
			       reterr)) < 0)
		return r;
	rc = cJSON_GetObjectItemCaseSensitive(root, "runtimeConfig");
	if (cJSON_IsObject(rc) &&
	    (r = mac_take_json(cJSON_GetObjectItemCaseSensitive(rc, "mac"), "runtimeConfig.mac",
			       c, reterr)) < 0)
		return r;
	return 0;
}

static int
conf_parse_root(const cJSON *root, enum cni_command command, bool ipam_plugin,
		const struct cni_env *env, struct cni_conf *c, struct lf_err *reterr)
{
	char ipam_network[LEAFNET_NAME_MAX] = "", net[CNI_STR_MAX] = "";
	const cJSON *prev = NULL;
	const char *net_field;
	int r;

	if (!cJSON_IsObject(root))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "network configuration: expected a JSON object");
	if ((r = version_parse(root, command, c, reterr)) < 0)
		return r;
	if (json_get_str(root, "name", c->name, sizeof(c->name), true, NULL, reterr) < 0 ||
	    json_get_str(root, "type", c->type, sizeof(c->type), false, NULL, reterr) == -EINVAL ||
	    json_get_str(root, "network", net, sizeof(net), false, NULL, reterr) == -EINVAL)
		return -EINVAL;
	/* For runtimes that do not pass the environment ($LEAFNET_CONF)
	 * through to plugins, the network config may name the leafnet
	 * config file itself. */
	if (json_get_str(root, "leafnet_conf", c->leafnet_conf, sizeof(c->leafnet_conf),
			 false, NULL, reterr) == -EINVAL)
		return -EINVAL;
	if (!ipam_plugin && (r = mtu_parse(root, c, reterr)) < 0)
		return r;
	if ((r = ipam_parse(root, ipam_plugin, c, ipam_network, sizeof(ipam_network),
			    reterr)) < 0)
		return r;

	/* The leafnet network: "network", else ipam.network, else name. */
	net_field = "network";
	if (ipam_plugin || net[0] == '\0') {
		if (ipam_network[0] != '\0') {
			snprintf(net, sizeof(net), "%s", ipam_network);
			net_field = "ipam.network";
		} else if (net[0] == '\0') {
			snprintf(net, sizeof(net), "%s", c->name);
			net_field = "name";
		}
	}
	if (!network_name_valid(net))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s: \"%s\" is not a valid leafnet network name "
				  "(letters, digits, '_', '.', '-', at most %d characters)",
				  net_field, net, LEAFNET_NAME_MAX - 1);
	memcpy(c->network, net, strlen(net) + 1);	/* valid: it fits */

	if ((r = statics_parse(root, env, c, reterr)) < 0)
		return r;
	/* DEL and GC must work whatever the MAC says; leafnet-ipam has no
	 * interface to give it */
	if (!ipam_plugin && (command == CNI_CMD_ADD || command == CNI_CMD_CHECK) &&
	    (r = mac_parse(root, env, c, reterr)) < 0)
		return r;

	r = json_get_obj(root, "prevResult", &prev, false, NULL, reterr);
	if (r == -EINVAL)
		return r;
	if (r == 0) {
		c->prev_result = malloc(sizeof(*c->prev_result));
		if (c->prev_result == NULL)
			return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
		r = cni_result_from_json(prev, "prevResult.", c->prev_result, reterr);
		if (r < 0)
			return r;
		c->has_prev_result = true;
	}

	if (command == CNI_CMD_GC) {
		/* 1.1.0 names it valid-attachments; early drafts said
		 * attachments.  Both count (their union). */
		if ((r = attachments_parse(root, "cni.dev/valid-attachments", c, reterr)) < 0 ||
		    (r = attachments_parse(root, "cni.dev/attachments", c, reterr)) < 0)
			return r;
		if (!c->has_valid_attachments)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "cni.dev/valid-attachments: missing (required for GC; "
					  "an empty list releases every attachment of the network)");
	}
	return 0;
}

int
cni_conf_parse(const char *text, enum cni_command command, bool ipam_plugin,
	       const struct cni_env *env, struct cni_conf *ret, struct lf_err *reterr)
{
	struct cni_conf c;
	cJSON *root = NULL;
	int r;

	memset(&c, 0, sizeof(c));
	r = json_parse(text, &root, reterr);
	if (r < 0)
		return r;
	r = conf_parse_root(root, command, ipam_plugin, env, &c, reterr);
	cJSON_Delete(root);
	if (r < 0) {
		cni_conf_done(&c);
		return r;
	}
	*ret = c;
	return 0;
}

enum cni_version
cni_conf_peek_version(const char *text)
{
	enum cni_version v = CNI_V_NONE;
	const cJSON *it;
	cJSON *root;

	if (text == NULL || (root = cJSON_Parse(text)) == NULL)
		return CNI_V_NONE;
	it = cJSON_GetObjectItemCaseSensitive(root, "cniVersion");
	if (cJSON_IsString(it))
		v = cni_version_parse(it->valuestring);
	cJSON_Delete(root);
	return v;
}

void
cni_conf_done(struct cni_conf *c)
{
	if (c == NULL)
		return;
	free(c->valid);
	c->valid = NULL;
	c->n_valid = 0;
	free(c->prev_result);
	c->prev_result = NULL;
	c->has_prev_result = false;
}
