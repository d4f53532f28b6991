/* test_buf.c — bounds-checked reader and writer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"

static void
test_reader_values(void **state)
{
	static const uint8_t in[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	    0x08, 0x09, 0x0a };
	struct buf_reader r;
	uint8_t v8, b[3];
	uint16_t v16;
	uint32_t v32;

	(void)state;
	buf_reader_init(&r, in, sizeof(in));
	assert_int_equal(buf_left(&r), 10);
	assert_int_equal(buf_peek_u8(&r, &v8), 0);
	assert_int_equal(v8, 0x01);
	assert_int_equal(buf_get_u8(&r, &v8), 0);
	assert_int_equal(v8, 0x01);
	assert_int_equal(buf_get_u16(&r, &v16), 0);
	assert_int_equal(v16, 0x0203);
	assert_int_equal(buf_get_u32(&r, &v32), 0);
	assert_int_equal(v32, 0x04050607);
	assert_ptr_equal(buf_cur(&r), in + 7);
	assert_int_equal(buf_get_bytes(&r, b, 3), 0);
	assert_memory_equal(b, in + 7, 3);
	assert_int_equal(buf_left(&r), 0);
	assert_int_equal(buf_get_u8(&r, &v8), -1);
	assert_int_equal(buf_peek_u8(&r, &v8), -1);
	assert_int_equal(buf_skip(&r, 0), 0);
	assert_int_equal(buf_skip(&r, 1), -1);
}

/* A short read fails, and neither the reader nor the output moves. */
static void
test_reader_short(void **state)
{
	static const uint8_t in[] = { 0xaa, 0xbb, 0xcc };
	struct buf_reader r;
	uint32_t v32 = 0x12345678;
	uint16_t v16 = 0x1234;
	uint8_t b[4] = { 0 };

	(void)state;
	buf_reader_init(&r, in, sizeof(in));
	assert_int_equal(buf_get_u32(&r, &v32), -1);
	assert_int_equal(v32, 0x12345678);
	assert_int_equal(buf_get_bytes(&r, b, 4), -1);
	assert_int_equal(b[0], 0);
	assert_int_equal(buf_left(&r), 3);
	assert_int_equal(buf_skip(&r, 2), 0);
	assert_int_equal(buf_get_u16(&r, &v16), -1);
	assert_int_equal(v16, 0x1234);
	assert_int_equal(buf_get_u8(&r, b), 0);
	assert_int_equal(b[0], 0xcc);

	/* SIZE_MAX must not wrap the bounds check */
	buf_reader_init(&r, in, sizeof(in));
	assert_int_equal(buf_skip(&r, SIZE_MAX), -1);
	assert_int_equal(buf_left(&r), 3);

	buf_reader_init(&r, NULL, 10);
	assert_int_equal(buf_left(&r), 0);
	assert_int_equal(buf_get_u8(&r, b), -1);
}

static void
test_reader_sub(void **state)
{
	static const uint8_t in[] = { 2, 0x11, 0x22, 0x33 };
	struct buf_reader r, s;
	uint8_t n, v;

	(void)state;
	buf_reader_init(&r, in, sizeof(in));
	assert_int_equal(buf_get_u8(&r, &n), 0);
	assert_int_equal(buf_sub(&r, n, &s), 0);
	assert_int_equal(buf_left(&s), 2);
	assert_int_equal(buf_left(&r), 1);
	assert_int_equal(buf_get_u8(&s, &v), 0);
	assert_int_equal(v, 0x11);
	assert_int_equal(buf_get_u8(&s, &v), 0);
	assert_int_equal(v, 0x22);
	/* the sub-reader stops at its own end, not the parent's */
	assert_int_equal(buf_get_u8(&s, &v), -1);
	assert_int_equal(buf_sub(&r, 2, &s), -1);
	assert_int_equal(buf_left(&r), 1);
}

static void
test_writer(void **state)
{
	static const uint8_t want[] = { 0xab, 0x12, 0x34, 0xde, 0xad, 0xbe,
	    0xef, 'x', 'y', 0, 0 };
	uint8_t out[11];
	struct buf_writer w;
	int errs = 0;

	(void)state;
	buf_writer_init(&w, out, sizeof(out));
	errs += buf_add_u8(&w, 0xab);
	errs += buf_add_u16(&w, 0);
	errs += buf_add_u32(&w, 0xdeadbeef);
	errs += buf_add_bytes(&w, "xy", 2);
	errs += buf_add_zero(&w, 2);
	errs += buf_set_u16_at(&w, 1, 0x1234);
	assert_int_equal(errs, 0);
	assert_int_equal(buf_writer_len(&w), sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(buf_writer_room(&w), 0);
	/* patching beyond what was written fails */
	assert_int_equal(buf_set_u16_at(&w, 10, 1), -1);
	assert_int_equal(buf_set_u8_at(&w, 11, 1), -1);
	assert_int_equal(buf_set_u8_at(&w, 10, 7), 0);
	assert_int_equal(out[10], 7);
}

/* Reading back and cutting written bytes (an attribute's length field
 * rewritten to its short form). */
static void
test_writer_cut(void **state)
{
	uint8_t out[8];
	struct buf_writer w;
	uint8_t v = 0;

	(void)state;
	buf_writer_init(&w, out, sizeof(out));
	assert_int_equal(buf_add_bytes(&w, "\x90\x08\x00\x03" "abc", 7), 0);
	assert_int_equal(buf_get_u8_at(&w, 0, &v), 0);
	assert_int_equal(v, 0x90);
	assert_int_equal(buf_get_u8_at(&w, 7, &v), -1);	/* not written */
	assert_int_equal(v, 0x90);
	assert_int_equal(buf_cut(&w, 2, 1), 0);
	assert_int_equal(buf_writer_len(&w), 6);
	assert_memory_equal(out, "\x90\x08\x03" "abc", 6);
	assert_int_equal(buf_cut(&w, 5, 2), -1);		/* past the end */
	assert_int_equal(buf_cut(&w, 7, 0), -1);
	assert_int_equal(buf_cut(&w, 6, 0), 0);
	assert_int_equal(buf_cut(&w, 0, 6), 0);
	assert_int_equal(buf_writer_len(&w), 0);
}

/* Once an add does not fit, the writer stays full: a later smaller add
 * cannot produce a message with a hole in it. */
static void
test_writer_full_sticky(void **state)
{
	uint8_t out[5];
	struct buf_writer w;
	int errs = 0;

	(void)state;
	memset(out, 0x55, sizeof(out));
	buf_writer_init(&w, out, 4);
	errs += buf_add_u16(&w, 0x0102);
	errs += buf_add_u32(&w, 0x03040506);
	assert_int_equal(errs, -1);
	assert_true(w.full);
	assert_int_equal(buf_add_u8(&w, 1), -1);
	assert_int_equal(buf_writer_len(&w), 2);
	assert_int_equal(out[2], 0x55);
	assert_int_equal(out[4], 0x55);
	assert_int_equal(buf_writer_room(&w), 0);
	assert_int_equal(buf_add_bytes(&w, "abc", SIZE_MAX), -1);
	/* truncate clears it: the caller chose what to keep */
	assert_int_equal(buf_truncate(&w, 1), 0);
	assert_false(w.full);
	assert_int_equal(buf_add_u16(&w, 0xaabb), 0);
	assert_int_equal(buf_writer_len(&w), 3);
	assert_int_equal(buf_truncate(&w, 4), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_values),
		cmocka_unit_test(test_reader_short),
		cmocka_unit_test(test_reader_sub),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_writer_cut),
		cmocka_unit_test(test_writer_full_sticky),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
