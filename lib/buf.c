/* buf.c — bounds-checked readers and writers for wire formats. */
#include <string.h>

#include "buf.h"

void
buf_reader_init(struct buf_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p != NULL ? len : 0;
	r->off = 0;
}

size_t
buf_left(const struct buf_reader *r)
{
	return r->len - r->off;
}

const uint8_t *
buf_cur(const struct buf_reader *r)
{
	return r->p + r->off;
}

int
buf_get_u8(struct buf_reader *r, uint8_t *ret)
{
	if (buf_left(r) < 1)
		return -1;
	*ret = r->p[r->off++];
	return 0;
}

int
buf_get_u16(struct buf_reader *r, uint16_t *ret)
{
	if (buf_left(r) < 2)
		return -1;
	*ret = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
	r->off += 2;
	return 0;
}

int
buf_get_u32(struct buf_reader *r, uint32_t *ret)
{
	const uint8_t *q;

	if (buf_left(r) < 4)
		return -1;
	q = r->p + r->off;
	*ret = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
	    (uint32_t)q[2] << 8 | q[3];
	r->off += 4;
	return 0;
}

int
buf_get_bytes(struct buf_reader *r, void *ret, size_t n)
{
	if (buf_left(r) < n)
		return -1;
	if (n > 0)
		memcpy(ret, r->p + r->off, n);
	r->off += n;
	return 0;
}

int
buf_peek_u8(const struct buf_reader *r, uint8_t *ret)
{
	if (buf_left(r) < 1)
		return -1;
	*ret = r->p[r->off];
	return 0;
}

int
buf_skip(struct buf_reader *r, size_t n)
{
	if (buf_left(r) < n)
		return -1;
	r->off += n;
	return 0;
}

int
buf_sub(struct buf_reader *r, size_t n, struct buf_reader *ret)
{
	if (buf_left(r) < n)
		return -1;
	ret->p = r->p + r->off;
	ret->len = n;
	ret->off = 0;
	r->off += n;
	return 0;
}

void
buf_writer_init(struct buf_writer *w, void *p, size_t size)
{
	w->p = p;
	w->size = p != NULL ? size : 0;
	w->len = 0;
	w->full = false;
}

size_t
buf_writer_len(const struct buf_writer *w)
{
	return w->len;
}

size_t
buf_writer_room(const struct buf_writer *w)
{
	return w->full ? 0 : w->size - w->len;
}

/* Reserve n bytes at the end; NULL (and the writer marked full) if they do
 * not fit. */
static uint8_t *
buf_extend(struct buf_writer *w, size_t n)
{
	uint8_t *q;

	if (w->full || w->size - w->len < n) {
		w->full = true;
		return NULL;
	}
	q = w->p + w->len;
	w->len += n;
	return q;
}

int
buf_add_u8(struct buf_writer *w, uint8_t v)
{
	uint8_t *q = buf_extend(w, 1);

	if (q == NULL)
		return -1;
	q[0] = v;
	return 0;
}

int
buf_add_u16(struct buf_writer *w, uint16_t v)
{
	uint8_t *q = buf_extend(w, 2);

	if (q == NULL)
		return -1;
	q[0] = v >> 8;
	q[1] = v & 0xff;
	return 0;
}

int
buf_add_u32(struct buf_writer *w, uint32_t v)
{
	uint8_t *q = buf_extend(w, 4);

	if (q == NULL)
		return -1;
	q[0] = v >> 24;
	q[1] = (v >> 16) & 0xff;
	q[2] = (v >> 8) & 0xff;
	q[3] = v & 0xff;
	return 0;
}

int
buf_add_bytes(struct buf_writer *w, const void *p, size_t n)
{
	uint8_t *q = buf_extend(w, n);

	if (q == NULL)
		return -1;
	if (n > 0)
		memcpy(q, p, n);
	return 0;
}

int
buf_add_zero(struct buf_writer *w, size_t n)
{
	uint8_t *q = buf_extend(w, n);

	if (q == NULL)
		return -1;
	if (n > 0)
		memset(q, 0, n);
	return 0;
}

int
buf_set_u8_at(struct buf_writer *w, size_t off, uint8_t v)
{
	if (off >= w->len)
		return -1;
	w->p[off] = v;
	return 0;
}

int
buf_set_u16_at(struct buf_writer *w, size_t off, uint16_t v)
{
	if (off > w->len || w->len - off < 2)
		return -1;
	w->p[off] = v >> 8;
	w->p[off + 1] = v & 0xff;
	return 0;
}

int
buf_get_u8_at(const struct buf_writer *w, size_t off, uint8_t *ret)
{
	if (off >= w->len)
		return -1;
	*ret = w->p[off];
	return 0;
}

int
buf_cut(struct buf_writer *w, size_t off, size_t n)
{
	if (off > w->len || n > w->len - off)
		return -1;
	memmove(w->p + off, w->p + off + n, w->len - off - n);
	w->len -= n;
	return 0;
}

int
buf_truncate(struct buf_writer *w, size_t off)
{
	if (off > w->len)
		return -1;
	w->len = off;
	w->full = false;
	return 0;
}
