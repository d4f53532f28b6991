/* dbuf.c — see dbuf.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbuf.h"

int
grow_array(void **arr, size_t *cap, size_t need, size_t elsize)
{
	size_t nc;
	void *p;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap : 8;
	while (nc < need) {
		if (nc > SIZE_MAX / 2)
			return -ENOMEM;
		nc *= 2;
	}
	if (elsize != 0 && nc > SIZE_MAX / elsize)
		return -ENOMEM;
	p = realloc(*arr, nc * elsize);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = nc;
	return 0;
}

int
dbuf_reserve(struct dbuf *b, size_t n)
{
	void *p = b->data;
	int r;

	if (n > SIZE_MAX - b->len - 1)
		return -ENOMEM;
	r = grow_array(&p, &b->cap, b->len + n + 1, 1);
	if (r < 0)
		return r;
	b->data = p;
	b->data[b->len] = '\0';
	return 0;
}

int
dbuf_append(struct dbuf *b, const void *p, size_t n)
{
	int r = dbuf_reserve(b, n);

	if (r < 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
dbuf_printf(struct dbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((r = dbuf_reserve(b, (size_t)n)) < 0)
		return r;
	va_start(ap, fmt);
	(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

long
dbuf_read_fd(struct dbuf *b, int fd, size_t max)
{
	size_t start = b->len;
	ssize_t n;
	int r;

	for (;;) {
		size_t room;

		if (b->len >= max)  {
			/* full: one byte more means too big */
			char c;

			n = read(fd, &c, 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
				break;
			return n < 0 ? -errno : -EFBIG;
		}
		room = b->cap > b->len + 1 ? b->cap - b->len - 1 : 0;
		if (room < 4096) {
			if ((r = dbuf_reserve(b, b->cap > 4096 ? b->cap : 4096)) < 0)
				return r;
			room = b->cap - b->len - 1;
		}
		if (room > max - b->len)
			room = max - b->len;
		n = read(fd, b->data + b->len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	}
	return (long)(b->len - start);
}

char *
dbuf_steal(struct dbuf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
dbuf_free(struct dbuf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
