/* err.h — error codes and the optional text a caller may want back.
 *
 * lib/ functions return >= 0 on success and -errno on failure.  When the
 * caller needs words (a CNI "msg"/"details", a Docker "Err"), it passes a
 * struct lf_err; the first failure to be recorded wins, so the innermost,
 * most precise text (e.g. the kernel's extack string) reaches the user.
 */
#ifndef LEAFNET_ERR_H
#define LEAFNET_ERR_H

/* Codes follow the CNI specification's numbering (they are general enough
 * for every front end); 100+ are leafnet's own. */
#define LF_E_INCOMPATIBLE_VERSION   1
#define LF_E_UNSUPPORTED_FIELD      2
#define LF_E_UNKNOWN_CONTAINER      3
#define LF_E_INVALID_ENV            4
#define LF_E_IO                     5
#define LF_E_DECODE                 6
#define LF_E_INVALID_CONFIG         7
#define LF_E_TRY_AGAIN             11
#define LF_E_PLUGIN_NOT_AVAILABLE  50
#define LF_E_LIMITED_CONNECTIVITY  51
#define LF_E_POOL_EXHAUSTED       100	/* no free address in the network */
#define LF_E_ADDR_IN_USE          101	/* a requested static address is taken */
#define LF_E_KERNEL               102	/* netlink / sysctl failure */
#define LF_E_NOT_FOUND            103	/* network, allocation, interface unknown */
#define LF_E_CHECK_FAILED         104	/* CHECK found the state differs */
#define LF_E_BUSY                 105	/* e.g. network has live allocations */
#define LF_E_INTERNAL             999

#define LF_ERR_MSG_MAX     256
#define LF_ERR_DETAILS_MAX 512

struct lf_err {
	int  code;			/* 0: nothing recorded yet */
	char msg[LF_ERR_MSG_MAX];
	char details[LF_ERR_DETAILS_MAX];
};

/* Record an error unless one is already recorded (first wins). NULL-safe.
 * Returns `ret` (a negative errno) so callers can write
 *     return lf_err_set(reterr, LF_E_INVALID_CONFIG, -EINVAL, "bad %s", x);
 */
int lf_err_set(struct lf_err *e, int code, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Set the details string (only if empty). NULL-safe. */
void lf_err_details(struct lf_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void lf_err_clear(struct lf_err *e);

#endif
