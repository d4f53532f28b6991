/* ctl_proto.c — see ctl_proto.h. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ctl_proto.h"
#include "err.h"
#include "json.h"

static const char *const cmd_names[] = {
	[CTL_CMD_STATUS] = "status",
	[CTL_CMD_ROUTES] = "routes",
	[CTL_CMD_RELOAD] = "reload",
	[CTL_CMD_NOTIFY] = "notify",
	[CTL_CMD_OP]     = "op",
};

static const char *const op_plugins[] = { "cni", "cni-ipam", "docker" };

const char *
ctl_cmd_name(enum ctl_cmd c)
{
	if ((unsigned)c >= sizeof(cmd_names) / sizeof(cmd_names[0]))
		return NULL;
	return cmd_names[c];
}

static int
notify_parse(const cJSON *o, struct ctl_req *r, struct lf_err *reterr)
{
	char op[8], pfx[PREFIX_STRLEN + 8];
	int ret;

	if ((ret = json_get_str(o, "op", op, sizeof(op), true, NULL, reterr)) < 0 ||
	    (ret = json_get_str(o, "prefix", pfx, sizeof(pfx), true, NULL, reterr)) < 0)
		return ret;
	if (strcmp(op, "add") != 0 && strcmp(op, "del") != 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "op: \"%s\" is not \"add\" or \"del\"", op);
	r->add = op[0] == 'a';
	if (prefix_parse(pfx, PREFIX_F_NO_LEN, &r->prefix) < 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "prefix: \"%s\" is not a prefix like 10.0.0.5/32", pfx);
	ret = json_get_str(o, "block", pfx, sizeof(pfx), false, NULL, reterr);
	if (ret == -ENOENT)
		return 0;		/* an older plugin: leafnetd reads the store */
	if (ret < 0)
		return ret;
	if (prefix_parse(pfx, 0, &r->block) < 0 ||
	    r->block.addr.family != r->prefix.addr.family ||
	    !prefix_contains_prefix(&r->block, &r->prefix))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "block: \"%s\" is not a prefix holding the notice's prefix",
				  pfx);
	if ((ret = json_get_bool(o, "borrowed", &r->borrowed, false, NULL, reterr)) < 0 &&
	    ret != -ENOENT)
		return ret;
	r->has_block = true;
	return 0;
}

static bool
op_verb_valid(const char *v)
{
	size_t n = strlen(v);

	return n > 0 && n < CTL_OP_VERB_MAX &&
	       strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_.-") == n;
}

static int
op_parse(const cJSON *o, struct ctl_req *r, struct lf_err *reterr)
{
	char result[16];
	const cJSON *ms;
	bool known = false;
	int ret;

	if ((ret = json_get_str(o, "plugin", r->plugin, sizeof(r->plugin), true, NULL,
				reterr)) < 0 ||
	    (ret = json_get_str(o, "verb", r->verb, sizeof(r->verb), true, NULL, reterr)) < 0 ||
	    (ret = json_get_str(o, "result", result, sizeof(result), true, NULL, reterr)) < 0)
		return ret;
	for (size_t i = 0; i < sizeof(op_plugins) / sizeof(op_plugins[0]); i++)
		known = known || strcmp(r->plugin, op_plugins[i]) == 0;
	if (!known)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "plugin: \"%s\" is not \"cni\", \"cni-ipam\" or \"docker\"",
				  r->plugin);
	if (!op_verb_valid(r->verb))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "verb: \"%s\" must be 1-%d letters, digits, _ . -",
				  r->verb, CTL_OP_VERB_MAX - 1);
	if (strcmp(result, "ok") != 0 && strcmp(result, "error") != 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "result: \"%s\" is not \"ok\" or \"error\"", result);
	r->ok = result[0] == 'o';
	ms = cJSON_GetObjectItemCaseSensitive(o, "ms");
	if (!cJSON_IsNumber(ms) || !isfinite(ms->valuedouble) || ms->valuedouble < 0 ||
	    ms->valuedouble > 1e9)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "ms: must be a number of milliseconds, 0 to 1e9");
	r->ms = ms->valuedouble;
	return 0;
}

int
ctl_req_parse(const char *line, struct ctl_req *ret, struct lf_err *reterr)
{
	struct ctl_req r = { 0 };
	cJSON *o = NULL;
	char cmd[32];
	int e;

	e = json_parse(line, &o, reterr);
	if (e < 0)
		return e;
	if (!cJSON_IsObject(o)) {
		e = lf_err_set(reterr, LF_E_DECODE, -EINVAL,
			       "expected a JSON object with \"cmd\"");
		goto out;
	}
	e = json_get_str(o, "cmd", cmd, sizeof(cmd), true, NULL, reterr);
	if (e < 0)
		goto out;
	for (size_t i = 1; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
		if (strcmp(cmd, cmd_names[i]) == 0)
			r.cmd = (enum ctl_cmd)i;
	if (r.cmd == 0) {
		e = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
			       "unknown cmd \"%s\" (status, routes, reload, notify, op)", cmd);
		goto out;
	}
	if (r.cmd == CTL_CMD_NOTIFY && (e = notify_parse(o, &r, reterr)) < 0)
		goto out;
	if (r.cmd == CTL_CMD_OP && (e = op_parse(o, &r, reterr)) < 0)
		goto out;
	*ret = r;
	e = 0;
out:
	cJSON_Delete(o);
	return e;
}

char *
ctl_req_format(const struct ctl_req *r)
{
	const char *name = ctl_cmd_name(r->cmd);
	cJSON *o;
	char *text = NULL;

	if (name == NULL)
		return NULL;
	o = cJSON_CreateObject();
	if (o == NULL || !cJSON_AddStringToObject(o, "cmd", name))
		goto out;
	if (r->cmd == CTL_CMD_NOTIFY &&
	    (!cJSON_AddStringToObject(o, "op", r->add ? "add" : "del") ||
	     !json_add_prefix(o, "prefix", &r->prefix)))
		goto out;
	if (r->cmd == CTL_CMD_NOTIFY && r->has_block &&
	    (!json_add_prefix(o, "block", &r->block) ||
	     !cJSON_AddBoolToObject(o, "borrowed", r->borrowed)))
		goto out;
	if (r->cmd == CTL_CMD_OP &&
	    (!cJSON_AddStringToObject(o, "plugin", r->plugin) ||
	     !cJSON_AddStringToObject(o, "verb", r->verb) ||
	     !cJSON_AddStringToObject(o, "result", r->ok ? "ok" : "error") ||
	     !cJSON_AddNumberToObject(o, "ms", r->ms)))
		goto out;
	text = json_print(o);
out:
	cJSON_Delete(o);
	return text;
}
