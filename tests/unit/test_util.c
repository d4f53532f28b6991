/* test_util.c — lib/hash (FNV, htab), lib/dbuf (GROW, dbuf), lib/clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <cmocka.h>

#include "clock.h"
#include "dbuf.h"
#include "hash.h"

static void
test_fnv_vectors(void **state)
{
	(void)state;
	/* published FNV-1a test vectors */
	assert_int_equal(hash_fnv1a32(HASH_FNV32_INIT, "", 0), 0x811c9dc5U);
	assert_int_equal(hash_fnv1a32(HASH_FNV32_INIT, "a", 1), 0xe40c292cU);
	assert_int_equal(hash_fnv1a32(HASH_FNV32_INIT, "foobar", 6), 0xbf9cf968U);
	assert_true(hash_fnv1a64(HASH_FNV64_INIT, "a", 1) == 0xaf63dc4c8601ec8cULL);
	assert_true(hash_fnv1a64(HASH_FNV64_INIT, "foobar", 6) == 0x85944171f73967e8ULL);
	/* chaining == hashing the concatenation */
	assert_int_equal(hash_fnv1a32(hash_fnv1a32(HASH_FNV32_INIT, "foo", 3), "bar", 3),
			 0xbf9cf968U);
}

struct elem {
	struct hnode hn;
	int key;
};

static struct elem *
find(struct htab *t, int key)
{
	uint32_t h = hash_finish32(hash_fnv1a32(HASH_FNV32_INIT, &key, sizeof(key)));
	struct hnode *n;

	HTAB_FOR_EACH_HASH(t, h, n) {
		struct elem *e = HTAB_ENTRY(n, struct elem, hn);

		if (e->key == key)
			return e;
	}
	return NULL;
}

static void
test_htab(void **state)
{
	enum { N = 5000 };
	struct elem *v = calloc(N, sizeof(*v));
	struct hnode *n, *nx;
	struct htab t;
	size_t i, seen = 0;

	(void)state;
	assert_non_null(v);
	assert_int_equal(htab_init(&t, 0), 0);
	assert_null(find(&t, 1));		/* empty, no buckets */
	htab_prefetch(&t, 1);			/* a hint, even with no buckets */
	for (i = 0; i < N; i++) {
		v[i].key = (int)i * 7;
		v[i].hn.user = (uint32_t)i ^ 0xa5a5a5a5U;
		assert_int_equal(htab_insert(&t, &v[i].hn, hash_finish32(hash_fnv1a32(
			HASH_FNV32_INIT, &v[i].key, sizeof(v[i].key)))), 0);
	}
	assert_int_equal(t.count, N);
	assert_true(t.size >= N);		/* grew */
	htab_prefetch(&t, UINT32_MAX);
	for (i = 0; i < N; i++)
		assert_ptr_equal(find(&t, (int)i * 7), &v[i]);
	assert_null(find(&t, 3));
	for (i = 0; i < N; i += 2)
		htab_remove(&t, &v[i].hn);
	assert_int_equal(t.count, N / 2);
	/* hn.user is the element's: inserts, growth, removal leave it alone */
	for (i = 0; i < N; i++)
		assert_int_equal(v[i].hn.user, (uint32_t)i ^ 0xa5a5a5a5U);
	assert_null(find(&t, 0));
	assert_ptr_equal(find(&t, 7), &v[1]);
	HTAB_FOR_EACH_SAFE(&t, i, n, nx) {
		htab_remove(&t, n);		/* removal while walking */
		seen++;
	}
	assert_int_equal(seen, N / 2);
	assert_int_equal(t.count, 0);
	htab_done(&t);
	free(v);
}

static void
test_grow(void **state)
{
	uint64_t *v = NULL;
	size_t cap = 0;

	(void)state;
	for (size_t i = 0; i < 1000; i++) {
		assert_int_equal(GROW(v, cap, i + 1), 0);
		assert_true(cap >= i + 1);
		v[i] = i;
	}
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(v[i], i);
	/* overflow is refused, and leaves the array alone */
	{
		uint64_t *keep = v;
		size_t kcap = cap;

		assert_int_equal(GROW(v, cap, SIZE_MAX / 4), -ENOMEM);
		assert_ptr_equal(v, keep);
		assert_int_equal(cap, kcap);
	}
	free(v);
}

static void
test_dbuf(void **state)
{
	struct dbuf b = DBUF_INIT;
	int p[2];
	char *s;

	(void)state;
	assert_int_equal(dbuf_append(&b, "ab", 2), 0);
	assert_int_equal(dbuf_printf(&b, "%d-%s", 42, "x"), 0);
	assert_string_equal(b.data, "ab42-x");
	assert_int_equal(b.len, 6);
	dbuf_free(&b);

	/* read a pipe to EOF, and the size limit */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "hello world", 11), 11);
	close(p[1]);
	assert_int_equal(dbuf_read_fd(&b, p[0], 100), 11);
	assert_string_equal(b.data, "hello world");
	close(p[0]);
	s = dbuf_steal(&b);
	assert_string_equal(s, "hello world");
	assert_null(b.data);
	free(s);

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "0123456789", 10), 10);
	close(p[1]);
	assert_int_equal(dbuf_read_fd(&b, p[0], 10), 10);	/* exactly max: fine */
	close(p[0]);
	dbuf_free(&b);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "0123456789x", 11), 11);
	close(p[1]);
	assert_int_equal(dbuf_read_fd(&b, p[0], 10), -EFBIG);
	close(p[0]);
	dbuf_free(&b);
	s = dbuf_steal(&b);			/* empty gives "" */
	assert_string_equal(s, "");
	free(s);
}

static void
test_clock(void **state)
{
	uint64_t a = clock_now_ns(), b;

	(void)state;
	usleep(2000);
	b = clock_now_ns();
	assert_true(b - a >= 2000000ULL);
	assert_true(clock_now_ms() >= a / 1000000ULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fnv_vectors),
		cmocka_unit_test(test_htab),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_dbuf),
		cmocka_unit_test(test_clock),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
