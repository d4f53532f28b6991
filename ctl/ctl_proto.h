/* ctl_proto.h — the requests of leafnetd's control socket, shared by the
 * client (ctl.c, netctl, the plugins) and the server (routing/control.c),
 * so both sides speak one definition.  One JSON object per line:
 *
 *   {"cmd":"status"}   {"cmd":"routes"}   {"cmd":"reload"}
 *   {"cmd":"notify","op":"add"|"del","prefix":"10.0.0.5/32"
 *    [,"block":"10.0.0.0/26","borrowed":false]}
 *       (the block: on "add", the block the attach core allocated the
 *        address in, and whether that block is another node's, so
 *        leafnetd's RIB aggregates a block it claimed a moment ago at once;
 *        optional, leafnetd reads the store when it is missing)
 *   {"cmd":"op","plugin":"cni","verb":"ADD","result":"ok","ms":2.3}
 *       (a plugin reports one finished operation, for leafnetd's metrics;
 *        plugin "cni" | "cni-ipam" | "docker", verb [A-Za-z0-9_.-]{1,47},
 *        result "ok" | "error", ms 0 ... 1e9; no answer is awaited)
 *
 * The answers are documented in routing/control.c.
 */
#ifndef LEAFNET_CTL_PROTO_H
#define LEAFNET_CTL_PROTO_H

#include <stdbool.h>
#include "prefix.h"

struct lf_err;

#define CTL_LINE_MAX 8192		/* a request line, newline included */

enum ctl_cmd {
	CTL_CMD_STATUS = 1,
	CTL_CMD_ROUTES,
	CTL_CMD_RELOAD,
	CTL_CMD_NOTIFY,
	CTL_CMD_OP,
};

#define CTL_OP_VERB_MAX 48		/* incl. NUL */

struct ctl_req {
	enum ctl_cmd cmd;
	bool add;			/* notify: "add" (else "del") */
	struct prefix prefix;		/* notify */
	bool has_block;			/* notify: block and borrowed given */
	struct prefix block;
	bool borrowed;
	char plugin[16];		/* op: "cni", "cni-ipam", "docker" */
	char verb[CTL_OP_VERB_MAX];	/* op: "ADD", "NetworkDriver.Join", ... */
	bool ok;			/* op: result "ok" (else "error") */
	double ms;			/* op: how long it took */
};

/* Parse one request line (no newline).  0, or -EINVAL with LF_E_DECODE /
 * LF_E_INVALID and a message naming the field; *ret untouched then. */
int  ctl_req_parse(const char *line, struct ctl_req *ret, struct lf_err *reterr);
/* The request as one line of JSON, without the newline (malloc'd; NULL on
 * OOM or an impossible request). */
char *ctl_req_format(const struct ctl_req *r);
const char *ctl_cmd_name(enum ctl_cmd c);	/* "status", ...; NULL if unknown */

#endif
