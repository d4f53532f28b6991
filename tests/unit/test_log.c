/* test_log.c — line format, levels, errno handling, fatal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

static char tmpdir[] = "/tmp/leafnet-test-log.XXXXXX";
static char path[PATH_MAX];

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/log", tmpdir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	log_init("test_log", LOG_LVL_INFO, NULL);	/* closes the file */
	(void)unlink(path);
	return rmdir(tmpdir);
}

/* Read the whole log file and truncate it. */
static char *
slurp(void)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_int_equal(truncate(path, 0), 0);
	return buf;
}

static void
test_format_levels(void **state)
{
	char want[128];
	(void)state;

	log_init("lftest", LOG_LVL_INFO, path);
	log_info("hello %d", 42);
	log_debug("invisible");
	log_warnx("careful");
	snprintf(want, sizeof(want), "lftest[%ld]: info: hello 42\n"
		 "lftest[%ld]: warning: careful\n", (long)getpid(), (long)getpid());
	assert_string_equal(slurp(), want);

	log_set_level(LOG_LVL_DEBUG);
	log_debug("now visible");
	snprintf(want, sizeof(want), "lftest[%ld]: debug: now visible\n",
		 (long)getpid());
	assert_string_equal(slurp(), want);

	log_set_level(LOG_LVL_ERR);
	log_info("quiet");
	log_warnx("quiet");
	assert_string_equal(slurp(), "");
	log_set_level(LOG_LVL_INFO);

	/* embedded newlines cannot forge extra lines */
	log_info("a\nb");
	snprintf(want, sizeof(want), "lftest[%ld]: info: a b\n", (long)getpid());
	assert_string_equal(slurp(), want);
}

static void
test_warn_errno(void **state)
{
	char want[128];
	(void)state;

	log_init("lftest", LOG_LVL_INFO, path);
	errno = ENOENT;
	log_warn("open %s", "/x");
	assert_int_equal(errno, ENOENT);
	snprintf(want, sizeof(want), "lftest[%ld]: warning: open /x: %s\n",
		 (long)getpid(), strerror(ENOENT));
	assert_string_equal(slurp(), want);
	errno = EPERM;
	log_info("x");
	log_debug("y");
	assert_int_equal(errno, EPERM);
	(void)slurp();
}

static void
test_long_line(void **state)
{
	char big[5000];
	char *out;
	(void)state;

	log_init("lftest", LOG_LVL_INFO, path);
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	out = slurp();
	assert_true(strlen(out) > 1000);
	assert_int_equal(out[strlen(out) - 1], '\n');
	assert_true(strchr(out, '\n') == out + strlen(out) - 1);	/* one line */
}

static void
test_level_parse(void **state)
{
	(void)state;
	assert_int_equal(log_level_parse("error"), LOG_LVL_ERR);
	assert_int_equal(log_level_parse("warn"), LOG_LVL_WARN);
	assert_int_equal(log_level_parse("warning"), LOG_LVL_WARN);
	assert_int_equal(log_level_parse("info"), LOG_LVL_INFO);
	assert_int_equal(log_level_parse("DEBUG"), LOG_LVL_DEBUG);
	assert_int_equal(log_level_parse("verbose"), -EINVAL);
	assert_int_equal(log_level_parse(""), -EINVAL);
	assert_int_equal(log_level_parse(NULL), -EINVAL);
}

static void
test_fatal(void **state)
{
	int status;
	pid_t pid;
	char want[128], *out;
	(void)state;

	log_init("lftest", LOG_LVL_ERR, path);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		errno = EACCES;
		fatal("cannot %s", "go on");
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	snprintf(want, sizeof(want), "lftest[%ld]: fatal: cannot go on: %s\n",
		 (long)pid, strerror(EACCES));
	out = slurp();
	assert_string_equal(out, want);

	pid = fork();
	if (pid == 0)
		fatalx("bad invariant");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 1);
	snprintf(want, sizeof(want), "lftest[%ld]: fatal: bad invariant\n", (long)pid);
	assert_string_equal(slurp(), want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_levels),
		cmocka_unit_test(test_warn_errno),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_level_parse),
		cmocka_unit_test(test_fatal),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
