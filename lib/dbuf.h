/* dbuf.h — growable memory: one way to grow an array, one byte buffer.
 *
 *	struct peer_conf *v = NULL; size_t n = 0, cap = 0;
 *	if (GROW(v, cap, n + 1) < 0) return -ENOMEM;
 *	v[n++] = pc;
 *
 *	struct dbuf b = DBUF_INIT;
 *	r = dbuf_read_fd(&b, fd, 1 << 20);	// all of fd, at most 1 MiB
 *	... b.data[0 .. b.len), always NUL-terminated ...
 *	dbuf_free(&b);
 */
#ifndef LEAFNET_DBUF_H
#define LEAFNET_DBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Make *arr (elements of elsize bytes) hold at least need elements; the
 * capacity at least doubles, so n appends cost O(n).  0 or -ENOMEM (also on
 * size overflow); on failure *arr and *cap are untouched. */
int grow_array(void **arr, size_t *cap, size_t need, size_t elsize);
#define GROW(arr, cap, need) grow_array((void **)&(arr), &(cap), (need), sizeof(*(arr)))

struct dbuf {
	char *data;			/* NUL-terminated when non-NULL */
	size_t len, cap;
};
#define DBUF_INIT { NULL, 0, 0 }

/* Room for n more bytes (plus the NUL).  0 or -ENOMEM. */
int  dbuf_reserve(struct dbuf *b, size_t n);
int  dbuf_append(struct dbuf *b, const void *p, size_t n);
int  dbuf_printf(struct dbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Read fd to EOF (retrying EINTR; EAGAIN ends it, for non-blocking fds)
 * appending to b.  -EFBIG when b would pass max bytes, else 0 or -errno.
 * Returns the bytes read (>= 0) on success. */
long dbuf_read_fd(struct dbuf *b, int fd, size_t max);
/* Hand the data over (the caller frees it); b is empty after.  Never NULL
 * unless out of memory: an empty buffer gives "". */
char *dbuf_steal(struct dbuf *b);
void dbuf_free(struct dbuf *b);		/* NULL-safe; b is empty after */

#endif
