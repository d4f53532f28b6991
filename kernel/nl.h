/* nl.h — one rtnetlink socket (libmnl), bound to the netns it was opened in.
 *
 * Requests are built by the caller in a zeroed buffer of NL_MSG_SIZE on its
 * own stack (nl_msg() fills the header; zeroed, because libmnl leaves the
 * padding after an attribute as it finds it, and the kernel is sent every
 * byte: valgrind rightly calls that uninitialised); nl_talk() sends one request
 * and reads its ACK, nl_dump() runs a dump through a callback.  Both return
 * >= 0 or -errno.  With extended ACK on, the kernel's explanation of the
 * last failure is kept in nl->ext ("" when it gave none) so the caller can
 * put it into its error text with nl_fail().
 */
#ifndef LEAFNET_NL_H
#define LEAFNET_NL_H

#include <stdint.h>

struct mnl_socket;
struct nlmsghdr;
struct lf_err;

#define NL_EXT_MAX 200
#define NL_MSG_SIZE 8192	/* one request (MNL_SOCKET_BUFFER_SIZE's upper bound) */

struct nl {
	struct mnl_socket *sock;
	unsigned portid;
	uint32_t seq;
	char ext[NL_EXT_MAX];		/* kernel extack text of the last failure */
};

/* Open a NETLINK_ROUTE socket in the current netns. */
int  nl_open(struct nl *ret);
/* Open it inside the netns at path / behind fd: setns in, open, setns back.
 * The socket keeps talking to the target netns.  -ENOENT: no such netns. */
int  nl_open_netns(struct nl *ret, const char *path);
int  nl_open_netns_fd(struct nl *ret, int nsfd);
/* NULL-safe; closing a closed or zeroed struct nl is a no-op. */
void nl_close(struct nl *nl);

/* Put a request header (type, flags | NLM_F_REQUEST, next seq) at buf, which
 * must be NL_MSG_SIZE zeroed bytes. */
struct nlmsghdr *nl_msg(struct nl *nl, void *buf, uint16_t type, uint16_t flags);

/* Send nlh (NLM_F_ACK is added) and wait for its ACK.  If cb is given it is
 * called for every non-control answer (e.g. the reply of an RTM_GETLINK). */
typedef int (*nl_cb)(const struct nlmsghdr *nlh, void *arg);
int  nl_talk(struct nl *nl, struct nlmsghdr *nlh);
int  nl_talk_cb(struct nl *nl, struct nlmsghdr *nlh, nl_cb cb, void *arg);
/* Send a dump request (NLM_F_DUMP is added) and call cb for each message;
 * cb returns MNL_CB_OK, MNL_CB_STOP or MNL_CB_ERROR (with errno set).
 * -EINTR when the kernel flagged the dump inconsistent (retry it). */
int  nl_dump(struct nl *nl, struct nlmsghdr *nlh, nl_cb cb, void *arg);

/* Send the n requests built back to back in buf (len bytes, each with
 * nl_msg(), so their seqs are consecutive) in one sendmsg, then read the
 * answers up to the last request's ACK (only it asks for one: the kernel
 * answers the others only when they fail).  done(i, err, arg) runs once for each
 * request i (err 0 or -errno; nl->ext holds the kernel's text for that
 * failure while done runs).  n <= NL_BATCH_MAX.  Returns 0, or -errno
 * when the socket failed (then done() got that error for every request
 * not yet answered). */
#define NL_BATCH_MAX 256
int  nl_talk_batch(struct nl *nl, void *buf, size_t len, size_t n,
		   void (*done)(size_t i, int err, void *arg), void *arg);
/* The same; cb (when not NULL) is also called for every other answer to
 * one of the n requests before its ACK (an NLM_F_ECHO reply); what it
 * returns is ignored. */
int  nl_talk_batch_cb(struct nl *nl, void *buf, size_t len, size_t n,
		      void (*done)(size_t i, int err, void *arg), nl_cb cb, void *arg);

/* A few dependent requests of one operation in one round trip (the attach
 * core's: a veth and its alias, the container side's address, neighbour
 * and route).  The kernel runs them in order, each on its own: a failed
 * one does not stop the next.  Build each request with a *_put() function
 * of link/addr/neigh/route (nl_batch_buf() gives it the zeroed place for
 * one request of at most NL_BATCH_MSG_MAX bytes; nl_msg() numbers it), then
 * nl_batch_send().  Lives on the caller's stack (~16 KiB). */
#define NL_BATCH_REQS    24
#define NL_BATCH_MSG_MAX 1024
struct nl_batch {
	struct nl *nl;
	nl_cb cb;			/* answers other than ACKs (NLM_F_ECHO); may be
					 * NULL; its return value is ignored */
	void *arg;
	size_t len, n;
	void *pending;			/* the request being built */
	int err[NL_BATCH_REQS];		/* after nl_batch_send(): 0 or -errno each */
	int failed;			/* the first failed request's index, or -1 */
	_Alignas(8) char buf[NL_BATCH_REQS * 640];
};
void nl_batch_init(struct nl_batch *b, struct nl *nl, nl_cb cb, void *arg);
/* The zeroed room for the next request, or NULL when the batch is full. */
void *nl_batch_buf(struct nl_batch *b);
/* Send every request built and read all their ACKs: 0 when each
 * succeeded, else the first failure's -errno (its index in b->failed, the
 * kernel's text for it in nl->ext), or the socket's error for all.  The
 * batch is empty again afterwards (b->err stays readable). */
int  nl_batch_send(struct nl_batch *b);

/* Record a LF_E_KERNEL error "<what>: <strerror(-ret)> (kernel: <ext>)"
 * and return ret. */
int  nl_fail(struct nl *nl, struct lf_err *reterr, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
