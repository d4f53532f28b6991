/* buf.h — bounds-checked readers and writers for wire formats.
 *
 * A reader walks a byte range it does not own; every get either succeeds
 * completely or returns -1 and leaves the reader and the out-parameter
 * untouched, so a short field can never be read past the end.  A writer
 * fills a caller-supplied array; once an add does not fit, the writer is
 * marked full and every later add fails too, so encoders accumulate
 *     errs += buf_add_u16(w, v);
 * and check once at the end.  Multi-octet values are big-endian on the wire
 * and host order in the API.  No allocation, no logging.
 */
#ifndef LEAFNET_BUF_H
#define LEAFNET_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf_reader {
	const uint8_t	*p;
	size_t		 len;		/* bytes in p */
	size_t		 off;		/* next byte to read */
};

struct buf_writer {
	uint8_t		*p;
	size_t		 size;		/* capacity of p */
	size_t		 len;		/* bytes written */
	bool		 full;		/* an add did not fit: the output is void */
};

void	 buf_reader_init(struct buf_reader *r, const void *p, size_t len);
size_t	 buf_left(const struct buf_reader *r);
/* Pointer to the next unread byte (valid for buf_left() bytes). */
const uint8_t *buf_cur(const struct buf_reader *r);

int	 buf_get_u8(struct buf_reader *r, uint8_t *ret);
int	 buf_get_u16(struct buf_reader *r, uint16_t *ret);
int	 buf_get_u32(struct buf_reader *r, uint32_t *ret);
int	 buf_get_bytes(struct buf_reader *r, void *ret, size_t n);
/* Look at the next octet without consuming it. */
int	 buf_peek_u8(const struct buf_reader *r, uint8_t *ret);
int	 buf_skip(struct buf_reader *r, size_t n);
/* Carve the next n bytes off into their own reader and skip them here. */
int	 buf_sub(struct buf_reader *r, size_t n, struct buf_reader *ret);

void	 buf_writer_init(struct buf_writer *w, void *p, size_t size);
size_t	 buf_writer_len(const struct buf_writer *w);
size_t	 buf_writer_room(const struct buf_writer *w);

int	 buf_add_u8(struct buf_writer *w, uint8_t v);
int	 buf_add_u16(struct buf_writer *w, uint16_t v);
int	 buf_add_u32(struct buf_writer *w, uint32_t v);
int	 buf_add_bytes(struct buf_writer *w, const void *p, size_t n);
int	 buf_add_zero(struct buf_writer *w, size_t n);
/* Patch already written bytes (length fields): -1 if [off, off+n) was not
 * written yet. */
int	 buf_set_u8_at(struct buf_writer *w, size_t off, uint8_t v);
int	 buf_set_u16_at(struct buf_writer *w, size_t off, uint16_t v);
/* Read back an octet already written: -1 if off was not written yet. */
int	 buf_get_u8_at(const struct buf_writer *w, size_t off, uint8_t *ret);
/* Remove the n written bytes at off, moving what follows down (a length
 * field that turned out shorter): -1 if [off, off+n) was not written. */
int	 buf_cut(struct buf_writer *w, size_t off, size_t n);
/* Drop everything after off (undo a partial element); -1 if off > len.
 * Clears the full mark: the caller decided what to keep. */
int	 buf_truncate(struct buf_writer *w, size_t off);

#endif
