/* ctl_proto.c — see ctl_proto.h. */
#include <errno.h>
#include <string.h>

#include "ctl_proto.h"
#include "err.h"
#include "json.h"

static const char *const cmd_names[] = {
	[CTL_CMD_STATUS] = "status",
	[CTL_CMD_ROUTES] = "routes",
	[CTL_CMD_RELOAD] = "reload",
	[CTL_CMD_NOTIFY] = "notify",
};

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
			       "unknown cmd \"%s\" (status, routes, reload, notify)", cmd);
		goto out;
	}
	if (r.cmd == CTL_CMD_NOTIFY && (e = notify_parse(o, &r, reterr)) < 0)
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
	text = json_print(o);
out:
	cJSON_Delete(o);
	return text;
}
