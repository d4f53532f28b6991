/* test_store.c — the store: semantics, validation, and real multi-process
 * races (locked counter, exclusive create).
 *
 * The suite runs against the file backend, then, when $LEAFNET_TEST_ETCD
 * names an etcd client URL (or a comma-separated list), once more against
 * the etcd backend there, plus etcd-only cases (endpoint failover, a killed
 * lock holder, lease keepalive).  The etcd run deletes every key under
 * /leafnet/ first and last: point it at a throwaway etcd only
 * (tests/netns/test_etcd.sh starts one).  Checks of the file layout itself
 * (inodes, links, temp files, directory-vs-value) are file-only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <cmocka.h>

#include "conf.h"
#include "store.h"

#define NPROC 20
#define NINCR 25

static char tmpdir[] = "/tmp/leafnet-test-store.XXXXXX";
static struct leafnet_conf conf;
static bool etcd_mode;

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	conf_defaults(&conf);
	snprintf(conf.state_dir, sizeof(conf.state_dir), "%s/state/sub", tmpdir);
	conf.fsync = true;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Delete every key under dir (the etcd run's clean slate). */
static void
wipe(struct store *s, const char *dir)
{
	char **names = NULL, key[1100];
	size_t n = 0;

	if (store_list_dirs(s, dir, &names, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "%s%s%s", dir, *dir ? "/" : "", names[i]);
			wipe(s, key);
		}
		store_names_free(names, n);
	}
	if (store_list(s, dir, &names, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "%s%s%s", dir, *dir ? "/" : "", names[i]);
			(void)store_delete(s, key);
		}
		store_names_free(names, n);
	}
}

static int
setup_etcd(void **state)
{
	struct store *s = NULL;
	char **names = NULL;
	size_t n = 1;
	(void)state;

	conf_defaults(&conf);
	etcd_mode = true;
	snprintf(conf.datastore, sizeof(conf.datastore), "etcd");
	snprintf(conf.etcd_endpoints, sizeof(conf.etcd_endpoints), "%s",
		 getenv("LEAFNET_TEST_ETCD"));
	if (store_open(&conf, &s) < 0)
		return -1;
	wipe(s, "");
	if (store_list_dirs(s, "", &names, &n) < 0 || n != 0) {
		fprintf(stderr, "etcd at %s: cannot reach it or clear /leafnet/: %s\n",
			conf.etcd_endpoints, store_error(s));
		store_names_free(names, n);
		store_free(s);
		return -1;
	}
	store_free(s);
	return 0;
}

static int
teardown_etcd(void **state)
{
	struct store *s = NULL;
	(void)state;

	if (store_open(&conf, &s) < 0)
		return -1;
	wipe(s, "");
	store_free(s);
	return 0;
}

static struct store *
open_store(void)
{
	struct store *s = NULL;

	assert_int_equal(store_open(&conf, &s), 0);
	assert_non_null(s);
	return s;
}

static void
test_open(void **state)
{
	struct leafnet_conf bad = conf;
	struct store *s;
	struct stat st;
	(void)state;

	s = open_store();
	if (!etcd_mode) {
		assert_int_equal(stat(conf.state_dir, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0700);
	}
	assert_string_equal(store_error(s), "");
	store_free(s);
	store_free(NULL);
	s = open_store();	/* existing dir */
	store_free(s);

	snprintf(bad.datastore, sizeof(bad.datastore), "consul");
	assert_int_equal(store_open(&bad, &s), -EOPNOTSUPP);
	bad = conf;
	snprintf(bad.datastore, sizeof(bad.datastore), "etcd");
	snprintf(bad.etcd_endpoints, sizeof(bad.etcd_endpoints), " , ");
	assert_int_equal(store_open(&bad, &s), -EINVAL);
	/* etcd connects on the first request; a dead endpoint is named */
	snprintf(bad.etcd_endpoints, sizeof(bad.etcd_endpoints),
		 "http://127.0.0.1:1, http://127.0.0.1:2/");
	s = NULL;
	assert_int_equal(store_open(&bad, &s), 0);
	char *v = NULL;
	assert_int_equal(store_get(s, "k", &v), -ECONNREFUSED);
	assert_null(v);
	assert_non_null(strstr(store_error(s), "etcd http://127.0.0.1:1: Connection refused"));
	assert_non_null(strstr(store_error(s), "etcd http://127.0.0.1:2: Connection refused"));
	struct store_lock *l = NULL;
	assert_int_equal(store_lock(s, "x", &l), -ECONNREFUSED);
	assert_null(l);
	store_free(s);
	if (!etcd_mode) {
		bad = conf;
		snprintf(bad.state_dir, sizeof(bad.state_dir), "/proc/version/x");
		assert_true(store_open(&bad, &s) < 0);
	}
}

static void
test_crud(void **state)
{
	struct store *s = open_store();
	char *v = NULL;
	(void)state;

	assert_int_equal(store_get(s, "networks/public", &v), -ENOENT);
	assert_null(v);
	assert_int_equal(store_put(s, "networks/public", "{\"a\":1}"), 0);
	assert_int_equal(store_get(s, "networks/public", &v), 0);
	assert_string_equal(v, "{\"a\":1}");
	free(v);
	assert_int_equal(store_put(s, "networks/public", "{\"a\":2}"), 0);
	assert_int_equal(store_get(s, "networks/public", &v), 0);
	assert_string_equal(v, "{\"a\":2}");
	free(v);
	/* empty value round-trips */
	assert_int_equal(store_put(s, "top", ""), 0);
	assert_int_equal(store_get(s, "top", &v), 0);
	assert_string_equal(v, "");
	free(v);

	assert_int_equal(store_create(s, "networks/public", "x"), -EEXIST);
	assert_int_equal(store_create(s, "a/b/c/d:e@f-g_h.i", "deep"), 0);
	assert_int_equal(store_get(s, "a/b/c/d:e@f-g_h.i", &v), 0);
	assert_string_equal(v, "deep");
	free(v);

	/* a directory is not a value; a file is not a directory (etcd:
	 * a key may be both, "a/b" is simply absent) */
	assert_int_equal(store_get(s, "a/b", &v), etcd_mode ? -ENOENT : -EISDIR);
	assert_int_equal(store_get(s, "top/x", &v), -ENOENT);
	assert_int_equal(store_delete(s, "top/x"), -ENOENT);
	if (!etcd_mode)
		assert_true(store_put(s, "top/x", "y") < 0);

	assert_int_equal(store_delete(s, "networks/public"), 0);
	assert_int_equal(store_delete(s, "networks/public"), -ENOENT);
	assert_int_equal(store_delete(s, "nothere/at/all"), -ENOENT);
	assert_int_equal(store_get(s, "networks/public", &v), -ENOENT);
	assert_int_equal(store_create(s, "networks/public", "again"), 0);

	/* a larger value */
	char *big = malloc(300000);
	assert_non_null(big);
	memset(big, 'z', 299999);
	big[299999] = '\0';
	assert_int_equal(store_put(s, "big", big), 0);
	assert_int_equal(store_get(s, "big", &v), 0);
	assert_string_equal(v, big);
	free(v);
	free(big);

	/* fsync off takes the same paths */
	store_free(s);
	conf.fsync = false;
	s = open_store();
	assert_int_equal(store_put(s, "nofsync/k", "1"), 0);
	assert_int_equal(store_create(s, "nofsync/k", "1"), -EEXIST);
	assert_int_equal(store_delete(s, "nofsync/k"), 0);
	assert_int_equal(store_delete(s, "nofsync/k"), -ENOENT);
	conf.fsync = true;
	store_free(s);
}

static void
test_keys(void **state)
{
	static const char *const bad[] = {
		"", "/abs", "trailing/", "a//b", ".", "..", "a/../b", "a/./b",
		".hidden", "a/.tmp.1.2", "sp ace", "tab\t", "a\\b", "x*", "10.0.0.0/26x/",
		"locks", "locks/x", "ümlaut",
	};
	struct store *s = open_store();
	struct store_lock *l = NULL;
	char *v = NULL, **names = NULL;
	char longc[300];
	size_t n;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (store_put(s, bad[i], "x") != -EINVAL ||
		    store_create(s, bad[i], "x") != -EINVAL ||
		    store_get(s, bad[i], &v) != -EINVAL ||
		    store_delete(s, bad[i]) != -EINVAL)
			fail_msg("key \"%s\" was accepted", bad[i]);
	}
	assert_int_equal(store_put(s, NULL, "x"), -EINVAL);
	assert_int_equal(store_put(s, "ok", NULL), -EINVAL);
	assert_int_equal(store_list(s, "../x", &names, &n), -EINVAL);
	assert_int_equal(store_lock(s, "../x", &l), -EINVAL);
	memset(longc, 'a', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	assert_int_equal(store_put(s, longc, "x"), -ENAMETOOLONG);
	/* names that look like prefixes, MACs, IPv6 with ':' are fine */
	assert_int_equal(store_put(s, "blocks/net-1/10.0.0.0_26", "n1"), 0);
	assert_int_equal(store_put(s, "blocks/net-1/2001:db8::_122", "n1"), 0);
	assert_int_equal(store_put(s, "x..y", "ok"), 0);
	store_free(s);
}

static void
test_list(void **state)
{
	struct store *s = open_store();
	char **names = NULL;
	size_t n = 99;
	int fd;
	(void)state;

	assert_int_equal(store_list(s, "alloc/none", &names, &n), 0);
	assert_int_equal(n, 0);
	store_names_free(names, n);

	assert_int_equal(store_put(s, "alloc/net/10.0.0.3", "c"), 0);
	assert_int_equal(store_put(s, "alloc/net/10.0.0.1", "a"), 0);
	assert_int_equal(store_put(s, "alloc/net/10.0.0.2", "b"), 0);
	assert_int_equal(store_put(s, "alloc/net/sub/deeper", "d"), 0);
	assert_int_equal(store_put(s, "alloc/other/x", "d"), 0);
	/* a stale temp file (crash between write and rename) is invisible */
	if (!etcd_mode) {
		char p[PATH_MAX + 64];

		snprintf(p, sizeof(p), "%s/alloc/net/.tmp.1.1", conf.state_dir);
		fd = open(p, O_WRONLY | O_CREAT, 0644);
		assert_true(fd >= 0);
		close(fd);
	}

	assert_int_equal(store_list(s, "alloc/net", &names, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "10.0.0.1");
	assert_string_equal(names[1], "10.0.0.2");
	assert_string_equal(names[2], "10.0.0.3");
	store_names_free(names, n);

	assert_int_equal(store_list_dirs(s, "alloc/net", &names, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "sub");
	store_names_free(names, n);

	assert_int_equal(store_list_dirs(s, "alloc", &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "net");
	assert_string_equal(names[1], "other");
	store_names_free(names, n);
	assert_int_equal(store_list(s, "alloc", &names, &n), 0);
	assert_int_equal(n, 0);
	store_names_free(names, n);

	/* the root: "locks" is internal and never listed */
	struct store_lock *l;
	assert_int_equal(store_lock(s, "root-lock", &l), 0);
	store_unlock(l);
	assert_int_equal(store_list_dirs(s, "", &names, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(names[i], "locks");
	store_names_free(names, n);
	assert_int_equal(store_list_dirs(s, NULL, &names, &n), 0);
	assert_true(n >= 1);
	store_names_free(names, n);
	/* a key used as a dir: empty list */
	assert_int_equal(store_list(s, "alloc/net/10.0.0.1", &names, &n), 0);
	assert_int_equal(n, 0);
	store_names_free(names, n);
	store_names_free(NULL, 0);

	/* many entries stay sorted */
	for (int i = 0; i < 200; i++) {
		char k[64];

		snprintf(k, sizeof(k), "many/k%03d", (i * 37) % 200);
		assert_int_equal(store_put(s, k, "v"), 0);
	}
	assert_int_equal(store_list(s, "many", &names, &n), 0);
	assert_int_equal(n, 200);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(names[i - 1], names[i]) < 0);
	store_names_free(names, n);
	store_free(s);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_lock_excludes(void **state)
{
	struct store *s = open_store();
	struct store_lock *l = NULL;
	int pfd[2], status;
	pid_t pid;
	long t0;
	char c;
	(void)state;

	assert_int_equal(store_lock(s, "net/a", &l), 0);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *cs = NULL;
		struct store_lock *cl = NULL;

		close(pfd[0]);
		if (store_open(&conf, &cs) < 0 || store_lock(cs, "net/a", &cl) < 0)
			_exit(2);
		(void)!write(pfd[1], "x", 1);
		store_unlock(cl);
		store_free(cs);
		_exit(0);
	}
	close(pfd[1]);
	/* the child must block while we hold the lock */
	t0 = now_ms();
	usleep(200 * 1000);
	{
		int fl = fcntl(pfd[0], F_GETFL);
		fcntl(pfd[0], F_SETFL, fl | O_NONBLOCK);
		assert_int_equal(read(pfd[0], &c, 1), -1);
		fcntl(pfd[0], F_SETFL, fl);
	}
	store_unlock(l);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	assert_true(now_ms() - t0 >= 200);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(pfd[0]);

	/* "net/a" and "net_a" share a lock file by design (/ -> _) */
	assert_int_equal(store_lock(s, "net/a", &l), 0);
	store_unlock(l);
	store_unlock(NULL);
	store_free(s);
}

static void
wait_all(pid_t *pids, int n)
{
	for (int i = 0; i < n; i++) {
		int status;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("child %d failed (status 0x%x)", i, status);
	}
}

static void
test_concurrent_counter(void **state)
{
	struct store *s = open_store();
	pid_t pids[NPROC];
	char *v = NULL;
	(void)state;

	assert_int_equal(store_put(s, "counter/value", "0"), 0);
	for (int i = 0; i < NPROC; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] != 0)
			continue;
		struct store *cs = NULL;

		if (store_open(&conf, &cs) < 0)
			_exit(2);
		for (int k = 0; k < NINCR; k++) {
			struct store_lock *l = NULL;
			char *cur = NULL, buf[32];

			if (store_lock(cs, "counter", &l) < 0 ||
			    store_get(cs, "counter/value", &cur) < 0)
				_exit(3);
			snprintf(buf, sizeof(buf), "%ld", strtol(cur, NULL, 10) + 1);
			free(cur);
			if (store_put(cs, "counter/value", buf) < 0)
				_exit(4);
			store_unlock(l);
		}
		store_free(cs);
		_exit(0);
	}
	wait_all(pids, NPROC);
	assert_int_equal(store_get(s, "counter/value", &v), 0);
	assert_int_equal(strtol(v, NULL, 10), NPROC * NINCR);
	free(v);

	if (etcd_mode) {
		store_free(s);
		return;
	}
	/* no temp files left behind */
	char **names = NULL;
	size_t n;
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/counter", conf.state_dir);
	assert_int_equal(store_list(s, "counter", &names, &n), 0);
	assert_int_equal(n, 1);
	store_names_free(names, n);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_nlink, 2);	/* no sub-dirs */
	store_free(s);
}

static void
test_create_race(void **state)
{
	struct store *s = open_store();
	pid_t pids[NPROC];
	int pfd[2], wins = 0, losses = 0;
	char *v = NULL;
	(void)state;

	for (int round = 0; round < 5; round++) {
		char key[64];

		snprintf(key, sizeof(key), "race/r%d/claim", round);
		assert_int_equal(pipe(pfd), 0);
		for (int i = 0; i < NPROC; i++) {
			pids[i] = fork();
			assert_true(pids[i] >= 0);
			if (pids[i] != 0)
				continue;
			struct store *cs = NULL;
			char val[32], res;
			int r;

			close(pfd[1]);
			if (store_open(&conf, &cs) < 0)
				_exit(2);
			/* start line: all children block until the pipe closes */
			(void)!read(pfd[0], &res, 1);
			snprintf(val, sizeof(val), "winner-%d", i);
			r = store_create(cs, key, val);
			store_free(cs);
			_exit(r == 0 ? 0 : r == -EEXIST ? 10 : 3);
		}
		close(pfd[0]);
		close(pfd[1]);
		int round_wins = 0, winner = -1;
		for (int i = 0; i < NPROC; i++) {
			int status;

			assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
			assert_true(WIFEXITED(status));
			if (WEXITSTATUS(status) == 0) {
				round_wins++;
				winner = i;
			} else if (WEXITSTATUS(status) == 10) {
				losses++;
			} else {
				fail_msg("child %d: exit %d", i, WEXITSTATUS(status));
			}
		}
		assert_int_equal(round_wins, 1);
		wins += round_wins;
		char want[32];
		snprintf(want, sizeof(want), "winner-%d", winner);
		assert_int_equal(store_get(s, key, &v), 0);
		assert_string_equal(v, want);
		free(v);
	}
	assert_int_equal(wins, 5);
	assert_int_equal(losses, 5 * (NPROC - 1));
	store_free(s);
}

/* One value under several keys: all or none, and each key lives on alone. */
static void
test_create_many(void **state)
{
	const char *keys[] = { "cm/a/1", "cm/b/2", "cm/c/3" };
	const char *clash[] = { "cm/x/1", "cm/b/2", "cm/y/3" };
	struct store *s = open_store();
	size_t existing = 99;
	struct stat st;
	char path[PATH_MAX + 32], *v;
	(void)state;

	for (int sync = 1; sync >= 0; sync--) {
		unsigned fl = sync ? 0 : STORE_F_VOLATILE;

		assert_int_equal(store_create_many(s, keys, 3, "{\"o\":1}", fl, NULL), 0);
		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(store_get(s, keys[i], &v), 0);
			assert_string_equal(v, "{\"o\":1}");
			free(v);
		}
		/* one file (the cost saved), linked under every key */
		snprintf(path, sizeof(path), "%s/cm/c/3", conf.state_dir);
		if (!etcd_mode) {
			assert_int_equal(stat(path, &st), 0);
			assert_int_equal(st.st_nlink, 3);
		}

		/* an existing key: nothing of this call stays, its index said */
		assert_int_equal(store_create_many(s, clash, 3, "z", fl, &existing), -EEXIST);
		assert_int_equal(existing, 1);
		assert_int_equal(store_get(s, "cm/x/1", &v), -ENOENT);
		assert_int_equal(store_get(s, "cm/y/3", &v), -ENOENT);

		/* put replaces one key only; delete drops one key only */
		assert_int_equal(store_put_ex(s, keys[0], "new", fl), 0);
		assert_int_equal(store_get(s, keys[1], &v), 0);
		assert_string_equal(v, "{\"o\":1}");
		free(v);
		assert_int_equal(store_delete_ex(s, keys[1], fl), 0);
		assert_int_equal(store_get(s, keys[2], &v), 0);
		assert_string_equal(v, "{\"o\":1}");
		free(v);
		for (size_t i = 0; i < 3; i++)
			(void)store_delete(s, keys[i]);
	}
	assert_int_equal(store_create_many(s, keys, 0, "x", 0, NULL), -EINVAL);
	assert_int_equal(store_create_many(s, clash, 1, NULL, 0, NULL), -EINVAL);
	const char *bad[] = { "ok/key", "../escape" };
	assert_int_equal(store_create_many(s, bad, 2, "x", 0, NULL), -EINVAL);
	assert_int_equal(store_get(s, "ok/key", &v), -ENOENT);
	store_free(s);
}

/* STORE_F_INPLACE: same file rewritten, shorter values cut, parents made. */
static void
test_put_inplace(void **state)
{
	struct store *s = open_store();
	struct stat st1, st2;
	char path[PATH_MAX + 32], *v;
	(void)state;

	assert_int_equal(store_put_ex(s, "hint/n/x", "0123456789", STORE_F_INPLACE), 0);
	snprintf(path, sizeof(path), "%s/hint/n/x", conf.state_dir);
	if (!etcd_mode)
		assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(store_put_ex(s, "hint/n/x", "abc",
				      STORE_F_INPLACE | STORE_F_VOLATILE), 0);
	if (!etcd_mode) {
		assert_int_equal(stat(path, &st2), 0);
		assert_int_equal(st1.st_ino, st2.st_ino);	/* not replaced */
	}
	assert_int_equal(store_get(s, "hint/n/x", &v), 0);
	assert_string_equal(v, "abc");
	free(v);
	assert_int_equal(store_put_ex(s, "hint/n/x", "abcdefghijklmnop", STORE_F_INPLACE), 0);
	assert_int_equal(store_get(s, "hint/n/x", &v), 0);
	assert_string_equal(v, "abcdefghijklmnop");
	free(v);
	if (!etcd_mode)
		assert_int_equal(store_put_ex(s, "hint/n", "x", STORE_F_INPLACE), -EISDIR);
	assert_int_equal(store_put_ex(s, "../x", "x", STORE_F_INPLACE), -EINVAL);
	store_free(s);
}

/* etcd: a dead endpoint first in the list is skipped, and the one that
 * answered stays first; a list of only dead ones names each. */
static void
test_etcd_failover(void **state)
{
	struct leafnet_conf c = conf;
	struct store *s = NULL;
	char *v = NULL;
	(void)state;

	assert_true(strlen(conf.etcd_endpoints) < sizeof(c.etcd_endpoints) - 20);
	snprintf(c.etcd_endpoints, sizeof(c.etcd_endpoints), "http://127.0.0.1:1,%.490s",
		 conf.etcd_endpoints);
	assert_int_equal(store_open(&c, &s), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_put(s, "fo/k", "v"), 0);
		assert_int_equal(store_get(s, "fo/k", &v), 0);
		assert_string_equal(v, "v");
		free(v);
	}
	assert_int_equal(store_delete(s, "fo/k"), 0);
	store_free(s);
}

/* etcd: a lock holder killed with SIGKILL frees the lock when its lease
 * runs out (~10 s), not before. */
static void
test_etcd_lock_killed(void **state)
{
	struct store *s = open_store();
	struct store_lock *l = NULL;
	int pfd[2], status;
	long t0, waited;
	pid_t pid;
	char c;
	(void)state;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *cs = NULL;
		struct store_lock *cl = NULL;

		close(pfd[0]);
		if (store_open(&conf, &cs) < 0 || store_lock(cs, "killed", &cl) < 0)
			_exit(2);
		(void)!write(pfd[1], "x", 1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	close(pfd[0]);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	t0 = now_ms();
	assert_int_equal(store_lock(s, "killed", &l), 0);
	waited = now_ms() - t0;
	print_message("lock of a killed holder free after %ld ms\n", waited);
	assert_true(waited >= 5000 && waited <= 14000);
	store_unlock(l);
	store_free(s);
}

/* etcd: a holder that keeps using the store keeps its lock past the TTL. */
static void
test_etcd_lock_keepalive(void **state)
{
	struct store *s = open_store();
	struct store_lock *l = NULL;
	int pfd[2], status;
	pid_t pid;
	char c, *v;
	(void)state;

	assert_int_equal(store_lock(s, "kept", &l), 0);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *cs = NULL;
		struct store_lock *cl = NULL;

		close(pfd[0]);
		if (store_open(&conf, &cs) < 0 || store_lock(cs, "kept", &cl) < 0)
			_exit(2);
		(void)!write(pfd[1], "x", 1);
		store_unlock(cl);
		store_free(cs);
		_exit(0);
	}
	close(pfd[1]);
	{
		int fl = fcntl(pfd[0], F_GETFL);
		fcntl(pfd[0], F_SETFL, fl | O_NONBLOCK);
		for (int i = 0; i < 13; i++) {	/* 13 s > the 10 s TTL */
			assert_int_equal(store_put(s, "kept/v", "1"), 0);
			sleep(1);
			assert_int_equal(read(pfd[0], &c, 1), -1);
		}
		fcntl(pfd[0], F_SETFL, fl);
	}
	assert_int_equal(store_get(s, "kept/v", &v), 0);
	free(v);
	store_unlock(l);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(pfd[0]);
	store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_crud),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_lock_excludes),
		cmocka_unit_test(test_concurrent_counter),
		cmocka_unit_test(test_create_race),
		cmocka_unit_test(test_create_many),
		cmocka_unit_test(test_put_inplace),
	};
	const struct CMUnitTest etcd_tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_crud),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_lock_excludes),
		cmocka_unit_test(test_concurrent_counter),
		cmocka_unit_test(test_create_race),
		cmocka_unit_test(test_create_many),
		cmocka_unit_test(test_put_inplace),
		cmocka_unit_test(test_etcd_failover),
		cmocka_unit_test(test_etcd_lock_killed),
		cmocka_unit_test(test_etcd_lock_keepalive),
	};
	const char *ep = getenv("LEAFNET_TEST_ETCD");
	int r;

	r = cmocka_run_group_tests_name("store_file", tests, setup, teardown);
	if (ep == NULL || *ep == '\0') {
		printf("# store_etcd: skipped (set LEAFNET_TEST_ETCD to a throwaway "
		       "etcd's client URL to run it)\n");
		return r;
	}
	return r + cmocka_run_group_tests_name("store_etcd", etcd_tests, setup_etcd,
					       teardown_etcd);
}
