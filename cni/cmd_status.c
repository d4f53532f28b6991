/* cmd_status.c — leafnet STATUS (CNI 1.1.0): can an ADD succeed now?
 * 0 and no output when yes; 50 "plugin not available" naming why not;
 * 51 "limited connectivity" is kept for when leafnetd is down. */
#include <errno.h>
#include <string.h>

#include "cni.h"
#include "err.h"
#include "store.h"

/* TODO(leafnetd): once the BGP speaker exists, ask it over
 * cmd->lconf.control_socket whether it runs and has established sessions;
 * when it does not, workloads get addresses but nobody outside this host
 * learns their routes: return CN_E_LIMITED_CONNECTIVITY (51) naming the
 * socket. */
static int
status_leafnetd(const struct cni_cmd *cmd, struct cn_err *reterr)
{
	(void)cmd;
	(void)reterr;
	return 0;
}

int
cmd_status(struct cni_cmd *cmd, struct cn_err *reterr)
{
	struct store *s = NULL;
	int r;

	if (cmd->conf.ipam_delegate) {
		r = cni_delegate_newer(cmd, CNI_CMD_STATUS, reterr);
		if (r < 0)
			return r;
	} else {
		r = store_open(&cmd->lconf, &s);
		if (r < 0)
			return cn_err_set(reterr, CN_E_PLUGIN_NOT_AVAILABLE, r,
					  "state directory %s: %s", cmd->lconf.state_dir,
					  strerror(-r));
		r = cni_network_usable(s, cmd->conf.network, reterr);
		store_free(s);
		if (r < 0)
			return r;
	}
	return status_leafnetd(cmd, reterr);
}
