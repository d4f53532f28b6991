/* err.h — leafnet's error codes and the optional text a caller may want back.
 *
 * lib/ functions return >= 0 on success and -errno on failure.  When the
 * caller needs words (a CNI "msg"/"details", a Docker "Err", a netctl exit
 * status), it passes a struct lf_err; the first failure to be recorded wins,
 * so the innermost, most precise text (e.g. the kernel's extack string)
 * reaches the user.
 *
 * The codes are leafnet's own and say nothing about any front end: cni/
 * maps them to the CNI specification's numbers (and names the CNI_*
 * variable behind a bad field), dockerplugin/ to libnetwork's Err text,
 * netctl/ to its exit status.  Messages written below the front ends name
 * what was wrong in leafnet's words ("interface name"), and say which
 * request field it was in `field`, so each front end can point at its own
 * spelling of it (CNI_IFNAME, a Docker option, a netctl flag).
 */
#ifndef LEAFNET_ERR_H
#define LEAFNET_ERR_H

enum lf_code {
	LF_E_NONE = 0,		/* nothing recorded yet */
	LF_E_INVALID,		/* bad input; `field` says which, if known */
	LF_E_DECODE,		/* input not well-formed (JSON syntax, wrong shape) */
	LF_E_UNSUPPORTED,	/* a version, option or key leafnet does not implement */
	LF_E_NOT_FOUND,		/* network, allocation, container, interface unknown */
	LF_E_EXISTS,		/* the thing to create is already there */
	LF_E_ADDR_IN_USE,	/* a requested static address is taken */
	LF_E_POOL_EXHAUSTED,	/* no free address in the network */
	LF_E_BUSY,		/* in use: e.g. a network with live allocations */
	LF_E_AGAIN,		/* transient (lost a race, datastore unreachable): retry */
	LF_E_UNAVAILABLE,	/* not ready to serve (no network, no free address) */
	LF_E_DEGRADED,		/* works, but not fully (daemon down, route not advertised) */
	LF_E_KERNEL,		/* netlink / sysctl failure */
	LF_E_IO,		/* file, socket or datastore I/O failure */
	LF_E_CHECK_FAILED,	/* CHECK found the state differs */
	LF_E_INTERNAL,		/* out of memory, a bug */
};

/* The request field an error is about (LF_F_NONE: the configuration, or not
 * said).  These are the fields of the attach request and of the invocation
 * around it; a front end maps them to its own names. */
enum lf_field {
	LF_F_NONE = 0,
	LF_F_COMMAND,		/* the verb asked for */
	LF_F_CONTAINER_ID,
	LF_F_NETNS,
	LF_F_IFNAME,
	LF_F_ARGS,		/* runtime arguments (key=value pairs) */
	LF_F_PATH,		/* where to find delegated plugins */
	LF_F_VERSION,		/* the protocol / config version */
	LF_F_NETWORK,
	LF_F_ADDRESS,
	LF_F_MTU,
};

#define LF_ERR_MSG_MAX     512	/* conf's unknown-key message lists every key */
#define LF_ERR_DETAILS_MAX 512

struct lf_err {
	enum lf_code  code;		/* LF_E_NONE: nothing recorded yet */
	enum lf_field field;
	/* A code an external program (e.g. a delegated CNI plugin) reported,
	 * for the front end that speaks its protocol to pass on verbatim;
	 * 0: none.  `code` holds leafnet's nearest meaning of it. */
	int  ext_code;
	char msg[LF_ERR_MSG_MAX];
	char details[LF_ERR_DETAILS_MAX];
};

/* Record an error unless one is already recorded (first wins). NULL-safe.
 * Returns `ret` (a negative errno) so callers can write
 *     return lf_err_set(reterr, LF_E_INVALID, -EINVAL, "bad %s", x);
 */
int lf_err_set(struct lf_err *e, enum lf_code code, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same, naming the request field at fault. */
int lf_err_set_field(struct lf_err *e, enum lf_code code, enum lf_field field, int ret,
		     const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Set the details string (only if empty). NULL-safe. */
void lf_err_details(struct lf_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void lf_err_clear(struct lf_err *e);
/* "invalid", "not found", ...: for logs and tests. */
const char *lf_err_code_name(enum lf_code code);

#endif
