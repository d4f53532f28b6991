/* test_json.c — parse errors with offsets, typed getters, lf_err. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "json.h"
#include "prefix.h"

static void
test_err_first_wins(void **state)
{
	struct lf_err e = { 0 };
	(void)state;

	assert_int_equal(lf_err_set(&e, LF_E_KERNEL, -EEXIST, "inner %d", 1), -EEXIST);
	assert_int_equal(lf_err_set(&e, LF_E_INTERNAL, -EIO, "outer"), -EIO);
	assert_int_equal(e.code, LF_E_KERNEL);
	assert_string_equal(e.msg, "inner 1");
	lf_err_details(&e, "d1");
	lf_err_details(&e, "d2");
	assert_string_equal(e.details, "d1");
	lf_err_clear(&e);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "");
	/* code 0 still counts as recorded */
	lf_err_set(&e, 0, -EIO, "zero");
	assert_int_equal(e.code, LF_E_INTERNAL);
	/* NULL-safe */
	assert_int_equal(lf_err_set(NULL, 1, -EINVAL, "x"), -EINVAL);
	lf_err_details(NULL, "x");
	lf_err_clear(NULL);
	/* long messages are truncated, not overflowed */
	lf_err_clear(&e);
	char big[1000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	lf_err_set(&e, 7, -EINVAL, "%s", big);
	assert_int_equal(strlen(e.msg), LF_ERR_MSG_MAX - 1);
}

static void
test_parse(void **state)
{
	struct lf_err e = { 0 };
	cJSON *j = NULL;
	(void)state;

	assert_int_equal(json_parse("{\"a\": 1}", &j, &e), 0);
	assert_non_null(j);
	assert_int_equal(e.code, 0);
	cJSON_Delete(j);
	assert_int_equal(json_parse("  [1,2]\n ", &j, &e), 0);
	cJSON_Delete(j);

	j = NULL;
	assert_int_equal(json_parse("{\"a\": 1} x", &j, &e), -EINVAL);
	assert_null(j);
	assert_int_equal(e.code, LF_E_DECODE);
	assert_non_null(strstr(e.msg, "byte 9"));
	lf_err_clear(&e);

	assert_int_equal(json_parse("{}{}", &j, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "byte 2"));
	lf_err_clear(&e);

	assert_int_equal(json_parse("{\"a\":\n  tru}", &j, &e), -EINVAL);
	assert_int_equal(e.code, LF_E_DECODE);
	assert_non_null(strstr(e.msg, "line 2"));
	assert_non_null(strstr(e.details, "near"));
	lf_err_clear(&e);

	assert_int_equal(json_parse("", &j, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "empty"));
	lf_err_clear(&e);
	assert_int_equal(json_parse(" \n", &j, NULL), -EINVAL);
	assert_int_equal(json_parse(NULL, &j, NULL), -EINVAL);
	assert_int_equal(json_parse("{\"a\":", &j, NULL), -EINVAL);
	assert_int_equal(json_parse("[1,]", &j, NULL), -EINVAL);
}

static cJSON *
doc(void)
{
	cJSON *j = NULL;

	assert_int_equal(json_parse(
		"{\"s\":\"hello\",\"n\":42,\"neg\":-1,\"frac\":1.5,"
		"\"big\":4294967296,\"max\":4294967295,\"exp\":1e3,\"zero\":0,"
		"\"t\":true,\"f\":false,\"nul\":null,\"o\":{\"x\":1},"
		"\"a\":[1,2],\"huge\":1e400}", &j, NULL), 0);
	return j;
}

static void
test_get_str(void **state)
{
	struct lf_err e = { 0 };
	cJSON *j = doc();
	char buf[6], tiny[5];
	(void)state;

	assert_int_equal(json_get_str(j, "s", buf, sizeof(buf), true, NULL, &e), 0);
	assert_string_equal(buf, "hello");
	strcpy(tiny, "keep");
	assert_int_equal(json_get_str(j, "s", tiny, sizeof(tiny), true, "ipam.", &e), -EINVAL);
	assert_string_equal(tiny, "keep");
	assert_int_equal(e.code, LF_E_INVALID);
	assert_non_null(strstr(e.msg, "ipam.s: too long"));
	lf_err_clear(&e);
	assert_int_equal(json_get_str(j, "n", buf, sizeof(buf), false, "ipam.", &e), -EINVAL);
	assert_string_equal(e.msg, "ipam.n: expected a string");
	lf_err_clear(&e);
	/* absent and null: -ENOENT, error only when required */
	assert_int_equal(json_get_str(j, "nope", buf, sizeof(buf), false, NULL, &e), -ENOENT);
	assert_int_equal(e.code, 0);
	assert_int_equal(json_get_str(j, "nul", buf, sizeof(buf), false, NULL, &e), -ENOENT);
	assert_int_equal(e.code, 0);
	assert_int_equal(json_get_str(j, "nope", buf, sizeof(buf), true, "cfg.", &e), -ENOENT);
	assert_int_equal(e.code, LF_E_INVALID);
	assert_non_null(strstr(e.msg, "cfg.nope"));
	/* case-sensitive keys; NULL object is "absent" */
	assert_int_equal(json_get_str(j, "S", buf, sizeof(buf), false, NULL, NULL), -ENOENT);
	assert_int_equal(json_get_str(NULL, "s", buf, sizeof(buf), false, NULL, NULL), -ENOENT);
	cJSON_Delete(j);
}

static void
test_get_u32(void **state)
{
	struct lf_err e = { 0 };
	cJSON *j = doc();
	uint32_t v = 7;
	(void)state;

	assert_int_equal(json_get_u32(j, "n", &v, true, NULL, &e), 0);
	assert_int_equal(v, 42);
	assert_int_equal(json_get_u32(j, "max", &v, true, NULL, &e), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(json_get_u32(j, "exp", &v, true, NULL, &e), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(json_get_u32(j, "zero", &v, true, NULL, &e), 0);
	assert_int_equal(v, 0);
	v = 7;
	assert_int_equal(json_get_u32(j, "neg", &v, true, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "neg: -1 is out of range"));
	lf_err_clear(&e);
	assert_int_equal(json_get_u32(j, "frac", &v, true, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "whole number"));
	lf_err_clear(&e);
	assert_int_equal(json_get_u32(j, "big", &v, true, NULL, &e), -EINVAL);
	lf_err_clear(&e);
	assert_int_equal(json_get_u32(j, "huge", &v, true, NULL, &e), -EINVAL);
	lf_err_clear(&e);
	assert_int_equal(json_get_u32(j, "s", &v, true, "x.", &e), -EINVAL);
	assert_string_equal(e.msg, "x.s: expected a number");
	assert_int_equal(json_get_u32(j, "nul", &v, false, NULL, NULL), -ENOENT);
	assert_int_equal(v, 7);
	cJSON_Delete(j);
}

static void
test_get_bool_obj_arr(void **state)
{
	struct lf_err e = { 0 };
	cJSON *j = doc();
	const cJSON *o = NULL;
	bool b = false;
	(void)state;

	assert_int_equal(json_get_bool(j, "t", &b, true, NULL, &e), 0);
	assert_true(b);
	assert_int_equal(json_get_bool(j, "f", &b, true, NULL, &e), 0);
	assert_false(b);
	assert_int_equal(json_get_bool(j, "zero", &b, true, NULL, &e), -EINVAL);
	assert_string_equal(e.msg, "zero: expected true or false");
	lf_err_clear(&e);

	assert_int_equal(json_get_obj(j, "o", &o, true, NULL, &e), 0);
	assert_non_null(cJSON_GetObjectItem(o, "x"));
	assert_int_equal(json_get_obj(j, "a", &o, true, NULL, &e), -EINVAL);
	assert_string_equal(e.msg, "a: expected an object");
	lf_err_clear(&e);
	assert_int_equal(json_get_arr(j, "a", &o, true, NULL, &e), 0);
	assert_int_equal(cJSON_GetArraySize(o), 2);
	assert_int_equal(json_get_arr(j, "o", &o, true, "p.", &e), -EINVAL);
	assert_string_equal(e.msg, "p.o: expected an array");
	assert_int_equal(json_get_arr(j, "missing", &o, false, NULL, NULL), -ENOENT);
	cJSON_Delete(j);
}

static void
test_print(void **state)
{
	cJSON *j = NULL;
	char *s;
	(void)state;

	assert_int_equal(json_parse("{ \"a\" : [ 1, \"x\" ] }", &j, NULL), 0);
	s = json_print(j);
	assert_string_equal(s, "{\"a\":[1,\"x\"]}");
	free(s);
	cJSON_Delete(j);
	s = json_print(NULL);
	assert_string_equal(s, "null");
	free(s);
}

static void
test_add_addr_prefix(void **state)
{
	cJSON *o = cJSON_CreateObject();
	struct prefix p;
	char *text;

	(void)state;
	assert_non_null(o);
	assert_int_equal(prefix_parse("10.1.2.0/24", 0, &p), 0);
	assert_non_null(json_add_prefix(o, "cidr", &p));
	assert_int_equal(prefix_parse("fd00::5", PREFIX_F_HOST_BITS | PREFIX_F_NO_LEN, &p), 0);
	assert_non_null(json_add_addr(o, "gw", &p.addr));
	text = json_print(o);
	assert_string_equal(text, "{\"cidr\":\"10.1.2.0/24\",\"gw\":\"fd00::5\"}");
	free(text);
	cJSON_Delete(o);
}

/* The field travels with the code; the first error wins both. */
static void
test_err_field(void **state)
{
	struct lf_err e = { 0 };

	(void)state;
	assert_int_equal(lf_err_set_field(&e, LF_E_INVALID, LF_F_NETNS, -EINVAL, "netns %s", "x"),
			 -EINVAL);
	assert_int_equal(e.code, LF_E_INVALID);
	assert_int_equal(e.field, LF_F_NETNS);
	assert_string_equal(e.msg, "netns x");
	lf_err_set_field(&e, LF_E_KERNEL, LF_F_IFNAME, -EIO, "later");
	assert_int_equal(e.code, LF_E_INVALID);
	assert_int_equal(e.field, LF_F_NETNS);
	assert_string_equal(lf_err_code_name(LF_E_AGAIN), "try again");
	assert_string_equal(lf_err_code_name((enum lf_code)999), "unknown");
	lf_err_clear(&e);
	lf_err_set(&e, LF_E_NONE, -EIO, "no code given");	/* never stored as "none" */
	assert_int_equal(e.code, LF_E_INTERNAL);
	assert_int_equal(e.field, LF_F_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_first_wins),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_get_str),
		cmocka_unit_test(test_get_u32),
		cmocka_unit_test(test_get_bool_obj_arr),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_add_addr_prefix),
		cmocka_unit_test(test_err_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
