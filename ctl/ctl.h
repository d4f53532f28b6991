/* ctl.h — the client side of leafnetd's control socket (one JSON object
 * per line each way; see routing/control.c for the commands). */
#ifndef LEAFNET_CTL_H
#define LEAFNET_CTL_H

#include <stdbool.h>

struct prefix;

/* Send one request line (request_json, without the newline) and read one
 * answer line into *ret_response (malloc'd, NUL-terminated, no newline).
 * Gives up after timeout_ms in total: -ETIMEDOUT.  -ENOENT / -ECONNREFUSED
 * when no leafnetd listens on sockpath. */
int ctl_request(const char *sockpath, const char *request_json,
		char **ret_response, int timeout_ms);

/* Tell leafnetd that the host route for p was added (op "add") or removed
 * ("del"), so it looks at the kernel now instead of waiting for the route
 * monitor.  Best effort: never blocks (nonblocking connect and send, no
 * answer awaited), does nothing when sockpath is empty or leafnetd is not
 * running.  Returns 0 when the notice was handed over, else -errno. */
int ctl_notify(const char *sockpath, const char *op, const struct prefix *p,
	       const struct prefix *block, bool borrowed);
/* block (NULL: unknown) is the IPAM block p's address came from and
 * borrowed whether it is another node's: leafnetd's RIB then knows a block
 * this node just claimed before its store read says so (ctl_proto.h). */

/* Report one finished plugin operation to leafnetd's metrics (the "op"
 * request of ctl_proto.h): plugin "cni" | "cni-ipam" | "docker", verb as
 * the plugin names it, ok or not, and how long it took.  Best effort
 * exactly like ctl_notify(): never blocks, no answer awaited, nothing
 * happens when leafnetd is not running.  0 or -errno. */
int ctl_report_op(const char *sockpath, const char *plugin, const char *verb, bool ok,
		  double ms);

#endif
