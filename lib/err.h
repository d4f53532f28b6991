/* err.h — error codes and the optional text a caller may want back.
 *
 * lib/ functions return >= 0 on success and -errno on failure.  When the
 * caller needs words (a CNI "msg"/"details", a Docker "Err"), it passes a
 * struct cn_err; the first failure to be recorded wins, so the innermost,
 * most precise text (e.g. the kernel's extack string) reaches the user.
 */
#ifndef LEAFNET_ERR_H
#define LEAFNET_ERR_H

/* Codes follow the CNI specification's numbering (they are general enough
 * for every front end); 100+ are leafnet's own. */
#define CN_E_INCOMPATIBLE_VERSION   1
#define CN_E_UNSUPPORTED_FIELD      2
#define CN_E_UNKNOWN_CONTAINER      3
#define CN_E_INVALID_ENV            4
#define CN_E_IO                     5
#define CN_E_DECODE                 6
#define CN_E_INVALID_CONFIG         7
#define CN_E_TRY_AGAIN             11
#define CN_E_PLUGIN_NOT_AVAILABLE  50
#define CN_E_LIMITED_CONNECTIVITY  51
#define CN_E_POOL_EXHAUSTED       100	/* no free address in the network */
#define CN_E_ADDR_IN_USE          101	/* a requested static address is taken */
#define CN_E_KERNEL               102	/* netlink / sysctl failure */
#define CN_E_NOT_FOUND            103	/* network, allocation, interface unknown */
#define CN_E_CHECK_FAILED         104	/* CHECK found the state differs */
#define CN_E_BUSY                 105	/* e.g. network has live allocations */
#define CN_E_INTERNAL             999

#define CN_ERR_MSG_MAX     256
#define CN_ERR_DETAILS_MAX 512

struct cn_err {
	int  code;			/* 0: nothing recorded yet */
	char msg[CN_ERR_MSG_MAX];
	char details[CN_ERR_DETAILS_MAX];
};

/* Record an error unless one is already recorded (first wins). NULL-safe.
 * Returns `ret` (a negative errno) so callers can write
 *     return cn_err_set(reterr, CN_E_INVALID_CONFIG, -EINVAL, "bad %s", x);
 */
int cn_err_set(struct cn_err *e, int code, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Set the details string (only if empty). NULL-safe. */
void cn_err_details(struct cn_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cn_err_clear(struct cn_err *e);

#endif
