/* test_store.c — the store: semantics, validation, errors in the caller's
 * struct lf_err, and real multi-process races (locked counter, exclusive
 * create).
 *
 * One table of cases runs through the same interface against the file
 * backend and the in-memory fake (store_mem.c; the multi-process cases
 * are not for it, it lives in one process), then, when $LEAFNET_TEST_ETCD
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
#include <pthread.h>
#include <cmocka.h>

#include "conf.h"
#include "err.h"
#include "network.h"
#include "store.h"
#include "store_backend.h"

#define NPROC 20
#define NINCR 25

static char tmpdir[] = "/tmp/leafnet-test-store.XXXXXX";
static struct leafnet_conf conf;
static enum { BE_FILE, BE_MEM, BE_ETCD } kind;
#define file_mode (kind == BE_FILE)

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
	kind = BE_FILE;
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

static int
setup_mem(void **state)
{
	(void)state;
	kind = BE_MEM;
	conf_defaults(&conf);
	return 0;
}

/* Delete every key under dir (the etcd run's clean slate). */
static void
wipe(struct store *s, const char *dir)
{
	char **names = NULL, key[1100];
	size_t n = 0;

	if (store_list_dirs(s, dir, &names, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "%s%s%s", dir, *dir ? "/" : "", names[i]);
			wipe(s, key);
		}
		store_names_free(names, n);
	}
	if (store_list(s, dir, &names, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "%s%s%s", dir, *dir ? "/" : "", names[i]);
			(void)store_delete(s, key, NULL);
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
	kind = BE_ETCD;
	snprintf(conf.datastore, sizeof(conf.datastore), "etcd");
	snprintf(conf.etcd_endpoints, sizeof(conf.etcd_endpoints), "%s",
		 getenv("LEAFNET_TEST_ETCD"));
	struct lf_err e = { 0 };

	if (store_open(&conf, &s, NULL) < 0)
		return -1;
	wipe(s, "");
	if (store_list_dirs(s, "", &names, &n, &e) < 0 || n != 0) {
		fprintf(stderr, "etcd at %s: cannot reach it or clear /leafnet/: %s\n",
			conf.etcd_endpoints, e.details);
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

	if (store_open(&conf, &s, NULL) < 0)
		return -1;
	wipe(s, "");
	store_free(s);
	return 0;
}

static struct store *
open_store(void)
{
	struct store *s = NULL;

	if (kind == BE_MEM)
		assert_int_equal(store_open_ops(&store_mem_ops, &conf, &s, NULL), 0);
	else
		assert_int_equal(store_open(&conf, &s, NULL), 0);
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

	struct lf_err e = { 0 };

	s = open_store();
	if (file_mode) {
		assert_int_equal(stat(conf.state_dir, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0700);
	}
	store_free(s);
	store_free(NULL);
	s = open_store();	/* existing dir */
	store_free(s);

	snprintf(bad.datastore, sizeof(bad.datastore), "consul");
	assert_int_equal(store_open(&bad, &s, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.details, "\"consul\""));
	lf_err_clear(&e);
	/* the fake is for tests: not a datastore a config may name */
	snprintf(bad.datastore, sizeof(bad.datastore), "memory");
	assert_int_equal(store_open(&bad, &s, NULL), -EOPNOTSUPP);
	bad = conf;
	snprintf(bad.datastore, sizeof(bad.datastore), "etcd");
	snprintf(bad.etcd_endpoints, sizeof(bad.etcd_endpoints), " , ");
	assert_int_equal(store_open(&bad, &s, NULL), -EINVAL);
	/* etcd connects on the first request; a dead endpoint is named */
	snprintf(bad.etcd_endpoints, sizeof(bad.etcd_endpoints),
		 "http://127.0.0.1:1, http://127.0.0.1:2/");
	s = NULL;
	assert_int_equal(store_open(&bad, &s, NULL), 0);
	char *v = NULL;
	/* the text lands in the caller's struct, naming the endpoints and
	 * the request; code and msg are left to the caller */
	assert_int_equal(store_get(s, "k", &v, &e), -ECONNREFUSED);
	assert_null(v);
	assert_int_equal(e.code, 0);
	assert_non_null(strstr(e.details, "etcd http://127.0.0.1:1: Connection refused"));
	assert_non_null(strstr(e.details, "etcd http://127.0.0.1:2: Connection refused"));
	assert_non_null(strstr(e.details, "get k"));
	struct store_lock *l = NULL;
	assert_int_equal(store_lock(s, "x", &l, &e), -ECONNREFUSED);
	assert_null(l);
	assert_non_null(strstr(e.details, "etcd http://127.0.0.1:2: Connection refused"));
	assert_int_equal(store_put(s, "k", "v", NULL), -ECONNREFUSED);	/* no text wanted */
	store_free(s);
	if (file_mode) {
		bad = conf;
		snprintf(bad.state_dir, sizeof(bad.state_dir), "/proc/version/x");
		assert_true(store_open(&bad, &s, NULL) < 0);
	}
}

static void
test_crud(void **state)
{
	struct store *s = open_store();
	char *v = NULL;
	(void)state;

	assert_int_equal(store_get(s, "networks/public", &v, NULL), -ENOENT);
	assert_null(v);
	assert_int_equal(store_put(s, "networks/public", "{\"a\":1}", NULL), 0);
	assert_int_equal(store_get(s, "networks/public", &v, NULL), 0);
	assert_string_equal(v, "{\"a\":1}");
	free(v);
	assert_int_equal(store_put(s, "networks/public", "{\"a\":2}", NULL), 0);
	assert_int_equal(store_get(s, "networks/public", &v, NULL), 0);
	assert_string_equal(v, "{\"a\":2}");
	free(v);
	/* empty value round-trips */
	assert_int_equal(store_put(s, "top", "", NULL), 0);
	assert_int_equal(store_get(s, "top", &v, NULL), 0);
	assert_string_equal(v, "");
	free(v);

	assert_int_equal(store_create(s, "networks/public", "x", NULL), -EEXIST);
	assert_int_equal(store_create(s, "a/b/c/d:e@f-g_h.i", "deep", NULL), 0);
	assert_int_equal(store_get(s, "a/b/c/d:e@f-g_h.i", &v, NULL), 0);
	assert_string_equal(v, "deep");
	free(v);

	/* a directory is not a value; a file is not a directory (etcd:
	 * a key may be both, "a/b" is simply absent) */
	assert_int_equal(store_get(s, "a/b", &v, NULL), file_mode ? -EISDIR : -ENOENT);
	assert_int_equal(store_get(s, "top/x", &v, NULL), -ENOENT);
	assert_int_equal(store_delete(s, "top/x", NULL), -ENOENT);
	if (file_mode)
		assert_true(store_put(s, "top/x", "y", NULL) < 0);

	assert_int_equal(store_delete(s, "networks/public", NULL), 0);
	assert_int_equal(store_delete(s, "networks/public", NULL), -ENOENT);
	assert_int_equal(store_delete(s, "nothere/at/all", NULL), -ENOENT);
	assert_int_equal(store_get(s, "networks/public", &v, NULL), -ENOENT);
	assert_int_equal(store_create(s, "networks/public", "again", NULL), 0);

	/* a larger value */
	char *big = malloc(300000);
	assert_non_null(big);
	memset(big, 'z', 299999);
	big[299999] = '\0';
	assert_int_equal(store_put(s, "big", big, NULL), 0);
	assert_int_equal(store_get(s, "big", &v, NULL), 0);
	assert_string_equal(v, big);
	free(v);
	free(big);

	/* fsync off takes the same paths */
	store_free(s);
	conf.fsync = false;
	s = open_store();
	assert_int_equal(store_put(s, "nofsync/k", "1", NULL), 0);
	assert_int_equal(store_create(s, "nofsync/k", "1", NULL), -EEXIST);
	assert_int_equal(store_delete(s, "nofsync/k", NULL), 0);
	assert_int_equal(store_delete(s, "nofsync/k", NULL), -ENOENT);
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
		if (store_put(s, bad[i], "x", NULL) != -EINVAL ||
		    store_create(s, bad[i], "x", NULL) != -EINVAL ||
		    store_get(s, bad[i], &v, NULL) != -EINVAL ||
		    store_delete(s, bad[i], NULL) != -EINVAL)
			fail_msg("key \"%s\" was accepted", bad[i]);
	}
	assert_int_equal(store_put(s, NULL, "x", NULL), -EINVAL);
	assert_int_equal(store_put(s, "ok", NULL, NULL), -EINVAL);
	assert_int_equal(store_list(s, "../x", &names, &n, NULL), -EINVAL);
	assert_int_equal(store_lock(s, "../x", &l, NULL), -EINVAL);
	memset(longc, 'a', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	assert_int_equal(store_put(s, longc, "x", NULL), -ENAMETOOLONG);
	/* names that look like prefixes, MACs, IPv6 with ':' are fine */
	assert_int_equal(store_put(s, "blocks/net-1/10.0.0.0_26", "n1", NULL), 0);
	assert_int_equal(store_put(s, "blocks/net-1/2001:db8::_122", "n1", NULL), 0);
	assert_int_equal(store_put(s, "x..y", "ok", NULL), 0);
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

	assert_int_equal(store_list(s, "alloc/none", &names, &n, NULL), 0);
	assert_int_equal(n, 0);
	store_names_free(names, n);

	assert_int_equal(store_put(s, "alloc/net/10.0.0.3", "c", NULL), 0);
	assert_int_equal(store_put(s, "alloc/net/10.0.0.1", "a", NULL), 0);
	assert_int_equal(store_put(s, "alloc/net/10.0.0.2", "b", NULL), 0);
	assert_int_equal(store_put(s, "alloc/net/sub/deeper", "d", NULL), 0);
	assert_int_equal(store_put(s, "alloc/other/x", "d", NULL), 0);
	/* a stale temp file (crash between write and rename) is invisible */
	if (file_mode) {
		char p[PATH_MAX + 64];

		snprintf(p, sizeof(p), "%s/alloc/net/.tmp.1.1", conf.state_dir);
		fd = open(p, O_WRONLY | O_CREAT, 0644);
		assert_true(fd >= 0);
		close(fd);
	}

	assert_int_equal(store_list(s, "alloc/net", &names, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "10.0.0.1");
	assert_string_equal(names[1], "10.0.0.2");
	assert_string_equal(names[2], "10.0.0.3");
	store_names_free(names, n);

	assert_int_equal(store_list_dirs(s, "alloc/net", &names, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "sub");
	store_names_free(names, n);

	assert_int_equal(store_list_dirs(s, "alloc", &names, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "net");
	assert_string_equal(names[1], "other");
	store_names_free(names, n);
	assert_int_equal(store_list(s, "alloc", &names, &n, NULL), 0);
	assert_int_equal(n, 0);
	store_names_free(names, n);

	/* the root: "locks" is internal and never listed */
	struct store_lock *l;
	assert_int_equal(store_lock(s, "root-lock", &l, NULL), 0);
	store_unlock(l);
	assert_int_equal(store_list_dirs(s, "", &names, &n, NULL), 0);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(names[i], "locks");
	store_names_free(names, n);
	assert_int_equal(store_list_dirs(s, NULL, &names, &n, NULL), 0);
	assert_true(n >= 1);
	store_names_free(names, n);
	/* a key used as a dir: empty list */
	assert_int_equal(store_list(s, "alloc/net/10.0.0.1", &names, &n, NULL), 0);
	assert_int_equal(n, 0);
	store_names_free(names, n);
	store_names_free(NULL, 0);

	/* many entries stay sorted */
	for (int i = 0; i < 200; i++) {
		char k[64];

		snprintf(k, sizeof(k), "many/k%03d", (i * 37) % 200);
		assert_int_equal(store_put(s, k, "v", NULL), 0);
	}
	assert_int_equal(store_list(s, "many", &names, &n, NULL), 0);
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

	assert_int_equal(store_lock(s, "net/a", &l, NULL), 0);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *cs = NULL;
		struct store_lock *cl = NULL;

		close(pfd[0]);
		if (store_open(&conf, &cs, NULL) < 0 || store_lock(cs, "net/a", &cl, NULL) < 0)
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
	assert_int_equal(store_lock(s, "net/a", &l, NULL), 0);
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

	assert_int_equal(store_put(s, "counter/value", "0", NULL), 0);
	for (int i = 0; i < NPROC; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] != 0)
			continue;
		struct store *cs = NULL;

		if (store_open(&conf, &cs, NULL) < 0)
			_exit(2);
		for (int k = 0; k < NINCR; k++) {
			struct store_lock *l = NULL;
			char *cur = NULL, buf[32];

			if (store_lock(cs, "counter", &l, NULL) < 0 ||
			    store_get(cs, "counter/value", &cur, NULL) < 0)
				_exit(3);
			snprintf(buf, sizeof(buf), "%ld", strtol(cur, NULL, 10) + 1);
			free(cur);
			if (store_put(cs, "counter/value", buf, NULL) < 0)
				_exit(4);
			store_unlock(l);
		}
		store_free(cs);
		_exit(0);
	}
	wait_all(pids, NPROC);
	assert_int_equal(store_get(s, "counter/value", &v, NULL), 0);
	assert_int_equal(strtol(v, NULL, 10), NPROC * NINCR);
	free(v);

	if (!file_mode) {
		store_free(s);
		return;
	}
	/* no temp files left behind */
	char **names = NULL;
	size_t n;
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/counter", conf.state_dir);
	assert_int_equal(store_list(s, "counter", &names, &n, NULL), 0);
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
			if (store_open(&conf, &cs, NULL) < 0)
				_exit(2);
			/* start line: all children block until the pipe closes */
			(void)!read(pfd[0], &res, 1);
			snprintf(val, sizeof(val), "winner-%d", i);
			r = store_create(cs, key, val, NULL);
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
		assert_int_equal(store_get(s, key, &v, NULL), 0);
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

		assert_int_equal(store_create_many(s, keys, 3, "{\"o\":1}", fl, NULL, NULL), 0);
		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(store_get(s, keys[i], &v, NULL), 0);
			assert_string_equal(v, "{\"o\":1}");
			free(v);
		}
		/* one file (the cost saved), linked under every key */
		snprintf(path, sizeof(path), "%s/cm/c/3", conf.state_dir);
		if (file_mode) {
			assert_int_equal(stat(path, &st), 0);
			assert_int_equal(st.st_nlink, 3);
		}

		/* an existing key: nothing of this call stays, its index said */
		assert_int_equal(store_create_many(s, clash, 3, "z", fl, &existing, NULL), -EEXIST);
		assert_int_equal(existing, 1);
		assert_int_equal(store_get(s, "cm/x/1", &v, NULL), -ENOENT);
		assert_int_equal(store_get(s, "cm/y/3", &v, NULL), -ENOENT);

		/* put replaces one key only; delete drops one key only */
		assert_int_equal(store_put_ex(s, keys[0], "new", fl, NULL), 0);
		assert_int_equal(store_get(s, keys[1], &v, NULL), 0);
		assert_string_equal(v, "{\"o\":1}");
		free(v);
		assert_int_equal(store_delete_ex(s, keys[1], fl, NULL), 0);
		assert_int_equal(store_get(s, keys[2], &v, NULL), 0);
		assert_string_equal(v, "{\"o\":1}");
		free(v);
		for (size_t i = 0; i < 3; i++)
			(void)store_delete(s, keys[i], NULL);
	}
	assert_int_equal(store_create_many(s, keys, 0, "x", 0, NULL, NULL), -EINVAL);
	assert_int_equal(store_create_many(s, clash, 1, NULL, 0, NULL, NULL), -EINVAL);
	const char *bad[] = { "ok/key", "../escape" };
	assert_int_equal(store_create_many(s, bad, 2, "x", 0, NULL, NULL), -EINVAL);
	assert_int_equal(store_get(s, "ok/key", &v, NULL), -ENOENT);
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

	assert_int_equal(store_put_ex(s, "hint/n/x", "0123456789", STORE_F_INPLACE, NULL), 0);
	snprintf(path, sizeof(path), "%s/hint/n/x", conf.state_dir);
	if (file_mode)
		assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(store_put_ex(s, "hint/n/x", "abc",
				      STORE_F_INPLACE | STORE_F_VOLATILE, NULL), 0);
	if (file_mode) {
		assert_int_equal(stat(path, &st2), 0);
		assert_int_equal(st1.st_ino, st2.st_ino);	/* not replaced */
	}
	assert_int_equal(store_get(s, "hint/n/x", &v, NULL), 0);
	assert_string_equal(v, "abc");
	free(v);
	assert_int_equal(store_put_ex(s, "hint/n/x", "abcdefghijklmnop", STORE_F_INPLACE, NULL), 0);
	assert_int_equal(store_get(s, "hint/n/x", &v, NULL), 0);
	assert_string_equal(v, "abcdefghijklmnop");
	free(v);
	if (file_mode)
		assert_int_equal(store_put_ex(s, "hint/n", "x", STORE_F_INPLACE, NULL), -EISDIR);
	assert_int_equal(store_put_ex(s, "../x", "x", STORE_F_INPLACE, NULL), -EINVAL);
	store_free(s);
}

/* What a failed call has to say lands in the caller's struct lf_err, in
 * details; code and msg are the caller's (store_err_set). */
static void
test_errors(void **state)
{
	struct store *s = open_store();
	struct store_lock *l = NULL;
	struct lf_err e = { 0 };
	char *v = NULL;
	(void)state;

	/* a bad key: the text names it */
	assert_int_equal(store_get(s, "../x", &v, &e), -EINVAL);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "");
	assert_non_null(strstr(e.details, "\"../x\""));
	assert_int_equal(store_err_set(&e, LF_E_IO, -EINVAL, "reading %s", "x"), -EINVAL);
	assert_int_equal(e.code, LF_E_IO);
	assert_string_equal(e.msg, "reading x: Invalid argument");
	assert_non_null(strstr(e.details, "\"../x\""));
	/* once an error is recorded, later store calls leave it alone */
	assert_int_equal(store_put(s, "a/../b", "v", &e), -EINVAL);
	assert_int_equal(store_err_set(&e, LF_E_INTERNAL, -EINVAL, "other"), -EINVAL);
	assert_string_equal(e.msg, "reading x: Invalid argument");
	assert_non_null(strstr(e.details, "\"../x\""));
	assert_null(strstr(e.details, "a/../b"));
	store_err_set(NULL, LF_E_IO, -EIO, "NULL-safe");

	/* the next store call clears what a failed one left */
	lf_err_clear(&e);
	assert_int_equal(store_lock(s, "bad name", &l, &e), -EINVAL);
	assert_null(l);
	assert_non_null(strstr(e.details, "lock name \"bad name\""));
	assert_int_equal(store_put(s, "errs/k", "v", &e), 0);
	assert_string_equal(e.details, "");
	assert_int_equal(e.code, 0);
	/* not found has nothing to add */
	assert_int_equal(store_get(s, "errs/none", &v, &e), -ENOENT);
	assert_string_equal(e.details, "");
	assert_int_equal(store_create(s, "errs/k", "v", &e), -EEXIST);
	assert_string_equal(e.details, "");
	assert_int_equal(store_list(s, "errs/../x", NULL, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.details, "directory \"errs/../x\""));
	assert_int_equal(store_delete(s, "errs/k", NULL), 0);
	store_free(s);
}

/* Threads of one process exclude each other on a lock. */
struct lock_arg {
	struct store *s;
	volatile int got;
};

static void *
lock_thread(void *p)
{
	struct lock_arg *a = p;
	struct store_lock *l = NULL;

	if (store_lock(a->s, "thr/a", &l, NULL) == 0) {
		__atomic_store_n(&a->got, 1, __ATOMIC_SEQ_CST);
		store_unlock(l);
	}
	return NULL;
}

static void
test_lock_threads(void **state)
{
	struct lock_arg a = { open_store(), 0 };
	struct store_lock *l = NULL;
	pthread_t t;
	(void)state;

	assert_int_equal(store_lock(a.s, "thr/a", &l, NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, lock_thread, &a), 0);
	usleep(100 * 1000);
	assert_int_equal(__atomic_load_n(&a.got, __ATOMIC_SEQ_CST), 0);
	store_unlock(l);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(a.got, 1);
	/* and a second lock of another name does not wait */
	assert_int_equal(store_lock(a.s, "thr/a", &l, NULL), 0);
	struct store_lock *l2 = NULL;
	assert_int_equal(store_lock(a.s, "thr/b", &l2, NULL), 0);
	store_unlock(l2);
	store_unlock(l);
	store_free(a.s);
}

/* The fake's failures: every kind of call, its text in the caller's
 * struct, and through a caller (network_get) to the message a user sees. */
static void
test_mem_fail(void **state)
{
	static const char text[] = "fake: disk on fire (get networks/a)";
	const char *keys[] = { "networks/b", "x/y" };
	struct store *s = open_store();
	void *m = store_backend_of(s, &store_mem_ops);
	struct store_lock *l = NULL;
	struct lf_err e = { 0 };
	struct network net;
	char *v = NULL, **names = NULL;
	size_t n = 0, existing = 99;
	(void)state;

	assert_non_null(m);
	assert_null(store_backend_of(s, &store_file_ops));
	assert_null(store_backend_of(NULL, &store_mem_ops));
	assert_int_equal(store_put(s, "networks/a", "{}", NULL), 0);
	store_mem_fail(m, "networks/", -EIO, text);

	assert_int_equal(store_get(s, "networks/a", &v, &e), -EIO);
	assert_null(v);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.details, text);
	assert_int_equal(store_err_set(&e, LF_E_IO, -EIO, "reading network %s", "a"), -EIO);
	assert_string_equal(e.msg, "reading network a: Input/output error");
	assert_string_equal(e.details, text);

	lf_err_clear(&e);
	assert_int_equal(store_put(s, "networks/a", "{}", &e), -EIO);
	assert_string_equal(e.details, text);
	assert_int_equal(store_create_many(s, keys, 2, "v", 0, &existing, NULL), -EIO);
	assert_int_equal(store_get(s, "x/y", &v, NULL), -ENOENT);	/* all or none */
	assert_int_equal(store_delete(s, "networks/a", NULL), -EIO);
	assert_int_equal(store_list(s, "networks", &names, &n, NULL), 0);	/* "networks" */
	store_names_free(names, n);
	assert_int_equal(store_lock(s, "networks/a", &l, NULL), -EIO);
	assert_null(l);
	assert_int_equal(store_get(s, "other", &v, &e), -ENOENT);	/* others work */
	assert_string_equal(e.details, "");

	/* a caller names what it did, the store's text rides along */
	lf_err_clear(&e);
	store_mem_fail(m, "", -ECONNREFUSED, text);
	assert_int_equal(network_get(s, "a", &net, &e), -ECONNREFUSED);
	assert_int_equal(e.code, LF_E_AGAIN);	/* unreachable: try again later */
	assert_non_null(strstr(e.msg, "reading network a"));
	assert_non_null(strstr(e.msg, "Connection refused"));
	assert_string_equal(e.details, text);

	store_mem_fail(m, NULL, 0, NULL);
	assert_int_equal(store_get(s, "networks/a", &v, NULL), 0);
	assert_string_equal(v, "{}");
	free(v);
	store_free(s);
}

/* Two threads on one store, one failing, one not: neither sees the other's
 * error (the shared last-error text this replaced let them). */
struct err_arg {
	struct store *s;
	const char *key;
	int want;
	const char *text;
	int bad;
};

static void *
err_thread(void *p)
{
	struct err_arg *a = p;

	for (int i = 0; i < 2000; i++) {
		struct lf_err e = { 0 };
		char *v = NULL;
		int r;

		snprintf(e.details, sizeof(e.details), "stale");
		r = store_get(a->s, a->key, &v, &e);
		free(v);
		if (r != a->want || strcmp(e.details, a->text) != 0)
			a->bad++;
	}
	return NULL;
}

static void
test_err_threads(void **state)
{
	struct store *s = open_store();
	struct err_arg good = { s, "good/k", 0, "", 0 };
	struct err_arg bad = { s, "bad/k", -EIO, "fake: bad/k is bad", 0 };
	pthread_t t1, t2;
	(void)state;

	assert_int_equal(store_put(s, "good/k", "v", NULL), 0);
	store_mem_fail(store_backend_of(s, &store_mem_ops), "bad/", -EIO, "fake: bad/k is bad");
	assert_int_equal(pthread_create(&t1, NULL, err_thread, &good), 0);
	assert_int_equal(pthread_create(&t2, NULL, err_thread, &bad), 0);
	assert_int_equal(pthread_join(t1, NULL), 0);
	assert_int_equal(pthread_join(t2, NULL), 0);
	assert_int_equal(good.bad, 0);
	assert_int_equal(bad.bad, 0);
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
	assert_int_equal(store_open(&c, &s, NULL), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_put(s, "fo/k", "v", NULL), 0);
		assert_int_equal(store_get(s, "fo/k", &v, NULL), 0);
		assert_string_equal(v, "v");
		free(v);
	}
	assert_int_equal(store_delete(s, "fo/k", NULL), 0);
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
		if (store_open(&conf, &cs, NULL) < 0 || store_lock(cs, "killed", &cl, NULL) < 0)
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
	assert_int_equal(store_lock(s, "killed", &l, NULL), 0);
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

	assert_int_equal(store_lock(s, "kept", &l, NULL), 0);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *cs = NULL;
		struct store_lock *cl = NULL;

		close(pfd[0]);
		if (store_open(&conf, &cs, NULL) < 0 || store_lock(cs, "kept", &cl, NULL) < 0)
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
			assert_int_equal(store_put(s, "kept/v", "1", NULL), 0);
			sleep(1);
			assert_int_equal(read(pfd[0], &c, 1), -1);
		}
		fcntl(pfd[0], F_SETFL, fl);
	}
	assert_int_equal(store_get(s, "kept/v", &v, NULL), 0);
	free(v);
	store_unlock(l);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(pfd[0]);
	store_free(s);
}

/* store_get_many and store_txn: versions, compare-and-swap, a conflict
 * returning the current values, absence compares, deletes, retry. */
static void
test_txn(void **state)
{
	struct store *s = open_store();
	struct store_kv kv[3] = { { .key = "t/a" }, { .key = "t/b" }, { .key = "t/c" } };
	struct store_kv cur[2];
	char *v;
	(void)state;

	(void)store_delete(s, "t/a", NULL);
	(void)store_delete(s, "t/b", NULL);
	(void)store_delete(s, "t/c", NULL);
	assert_int_equal(store_put(s, "t/a", "1", NULL), 0);
	assert_int_equal(store_get_many(s, kv, 3, NULL), 0);
	assert_string_equal(kv[0].val, "1");
	assert_string_not_equal(kv[0].ver, "");
	assert_null(kv[1].val);
	assert_string_equal(kv[1].ver, "");
	assert_null(kv[2].val);

	/* CAS on a's version and b absent: applied */
	struct store_cmp c1[2] = { { "t/a", kv[0].ver }, { "t/b", "" } };
	struct store_op o1[3] = { { "t/a", "2" }, { "t/b", "x" }, { "t/c", "same" } };
	assert_int_equal(store_txn(s, c1, 2, o1, 3, STORE_F_VOLATILE, cur, NULL), 0);
	assert_int_equal(store_get(s, "t/a", &v, NULL), 0);
	assert_string_equal(v, "2");
	free(v);
	assert_int_equal(store_get(s, "t/b", &v, NULL), 0);
	assert_string_equal(v, "x");
	free(v);

	/* the same again: a's version moved, b exists: -EAGAIN, nothing
	 * written, the current values returned */
	struct store_op o2[2] = { { "t/a", "3" }, { "t/c", NULL } };
	assert_int_equal(store_txn(s, c1, 2, o2, 2, 0, cur, NULL), -EAGAIN);
	assert_string_equal(cur[0].val, "2");
	assert_string_not_equal(cur[0].ver, kv[0].ver);
	assert_string_equal(cur[1].val, "x");
	assert_int_equal(store_get(s, "t/a", &v, NULL), 0);
	assert_string_equal(v, "2");
	free(v);
	assert_int_equal(store_get(s, "t/c", &v, NULL), 0);
	free(v);

	/* retry with what the conflict returned, no read: applied, c deleted */
	struct store_cmp c2[2] = { { "t/a", cur[0].ver }, { "t/b", cur[1].ver } };
	assert_int_equal(store_txn(s, c2, 2, o2, 2, 0, NULL, NULL), 0);
	store_kv_free(cur, 2);
	assert_int_equal(store_get(s, "t/a", &v, NULL), 0);
	assert_string_equal(v, "3");
	free(v);
	assert_int_equal(store_get(s, "t/c", &v, NULL), -ENOENT);
	/* a stale version after the write fails; deleting an absent key in a
	 * txn is no error */
	struct store_op o3[2] = { { "t/a", "4" }, { "t/zz", NULL } };
	assert_int_equal(store_txn(s, c2, 1, o3, 1, 0, NULL, NULL), -EAGAIN);
	assert_int_equal(store_txn(s, NULL, 0, &o3[1], 1, 0, NULL, NULL), 0);
	store_kv_free(kv, 3);
	/* bad keys are refused before the backend sees them */
	struct store_op bad = { "locks/x", "1" };
	assert_int_equal(store_txn(s, NULL, 0, &bad, 1, 0, NULL, NULL), -EINVAL);
	store_free(s);
}

/* Many processes (threads for the fake) increment one counter by CAS
 * only, retrying on conflict with the values the conflict returned: no
 * increment is lost. */
#define TXN_WORKERS 8
#define TXN_INCR    25
static void
txn_worker(struct store *shared)
{
	struct store *s = shared ? shared : open_store();
	struct store_kv kv = { .key = "t/ctr" };

	assert_int_equal(store_get_many(s, &kv, 1, NULL), 0);
	for (int i = 0; i < TXN_INCR; i++) {
		for (;;) {
			char buf[32];
			struct store_cmp c = { kv.key, kv.ver };
			struct store_op o = { kv.key, buf };
			int r;

			snprintf(buf, sizeof(buf), "%ld", kv.val ? strtol(kv.val, NULL, 10) + 1 : 1);
			store_kv_free(&kv, 1);
			r = store_txn(s, &c, 1, &o, 1, STORE_F_VOLATILE, &kv, NULL);
			if (r == 0) {
				assert_int_equal(store_get_many(s, &kv, 1, NULL), 0);
				break;
			}
			assert_int_equal(r, -EAGAIN);
		}
	}
	store_kv_free(&kv, 1);
	if (!shared)
		store_free(s);
}

/* the fake lives in one store object: the threads share it */
static void *
txn_thread(void *arg)
{
	txn_worker(arg);
	return NULL;
}

static void
test_txn_counter(void **state)
{
	struct store *s = open_store();
	char *v;
	(void)state;

	(void)store_delete(s, "t/ctr", NULL);
	if (kind == BE_MEM) {
		pthread_t th[TXN_WORKERS];

		for (int i = 0; i < TXN_WORKERS; i++)
			assert_int_equal(pthread_create(&th[i], NULL, txn_thread, s), 0);
		for (int i = 0; i < TXN_WORKERS; i++)
			pthread_join(th[i], NULL);
	} else {
		pid_t pids[TXN_WORKERS];

		for (int i = 0; i < TXN_WORKERS; i++) {
			pids[i] = fork();
			assert_true(pids[i] >= 0);
			if (pids[i] == 0) {
				txn_worker(NULL);
				_exit(0);
			}
		}
		for (int i = 0; i < TXN_WORKERS; i++) {
			int st;

			assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
			assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		}
	}
	assert_int_equal(store_get(s, "t/ctr", &v, NULL), 0);
	assert_int_equal(strtol(v, NULL, 10), TXN_WORKERS * TXN_INCR);
	free(v);
	store_free(s);
}

/* File backend: puts of one value that expect absence are one file
 * (hard links), and a damaged key (a directory) is never "absent". */
static void
test_txn_file(void **state)
{
	struct store *s = open_store();
	const char *val = "{}";
	struct store_cmp c[2] = { { "t/l1", "" }, { "t/l2", "" } };
	struct store_op o[2] = { { "t/l1", val }, { "t/l2", val } };
	char path[PATH_MAX + 16];
	(void)state;

	assert_int_equal(store_txn(s, c, 2, o, 2, 0, NULL, NULL), 0);
	assert_int_equal(store_same_record(s, "t/l1", "t/l2", NULL), 1);
	snprintf(path, sizeof(path), "%s/t/dmg", conf.state_dir);
	assert_int_equal(mkdir(path, 0755), 0);
	struct store_cmp cd = { "t/dmg", "" };
	struct store_op od = { "t/dmg", "v" };
	struct store_kv cur;
	assert_int_equal(store_txn(s, &cd, 1, &od, 1, 0, &cur, NULL), -EAGAIN);
	assert_null(cur.val);
	assert_string_equal(cur.ver, "dir");
	assert_int_equal(rmdir(path), 0);

	/* one txn lock per directory: deleting keys by txn makes no lock
	 * file per key; a key deleted and made again (maybe on the same
	 * inode, in the same jiffy) never shows its old version: the
	 * directory's generation moved */
	struct store_kv kv[2] = { { .key = "t/l1" }, { .key = "t/l2" } };
	assert_int_equal(store_get_many(s, kv, 2, NULL), 0);
	struct store_cmp cdel[2] = { { "t/l1", kv[0].ver }, { "t/l2", kv[1].ver } };
	struct store_op odel[2] = { { "t/l1", NULL }, { "t/l2", NULL } };
	assert_int_equal(store_txn(s, cdel, 2, odel, 2, 0, NULL, NULL), 0);
	char lpath[PATH_MAX + 64];
	snprintf(lpath, sizeof(lpath), "%s/locks/txn/t.lock", conf.state_dir);
	assert_int_equal(access(lpath, F_OK), 0);
	snprintf(lpath, sizeof(lpath), "%s/locks/txn/t_l1.lock", conf.state_dir);
	assert_int_equal(access(lpath, F_OK), -1);
	assert_int_equal(store_create(s, "t/l1", val, NULL), 0);
	struct store_op oput = { "t/l1", "again" };
	assert_int_equal(store_txn(s, cdel, 1, &oput, 1, 0, NULL, NULL), -EAGAIN);
	store_kv_free(kv, 2);
	assert_int_equal(store_get_many(s, kv, 1, NULL), 0);
	cdel[0].ver = kv[0].ver;
	assert_int_equal(store_txn(s, cdel, 1, &oput, 1, 0, NULL, NULL), 0);
	store_kv_free(kv, 2);
	store_free(s);
}

int
main(void)
{
	/* the same cases, through the same interface, on file and the fake */
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
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_lock_threads),
		cmocka_unit_test(test_txn),
		cmocka_unit_test(test_txn_counter),
		cmocka_unit_test(test_txn_file),
	};
	const struct CMUnitTest mem_tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_crud),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_create_many),
		cmocka_unit_test(test_put_inplace),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_lock_threads),
		cmocka_unit_test(test_mem_fail),
		cmocka_unit_test(test_err_threads),
		cmocka_unit_test(test_txn),
		cmocka_unit_test(test_txn_counter),
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
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_etcd_failover),
		cmocka_unit_test(test_etcd_lock_killed),
		cmocka_unit_test(test_etcd_lock_keepalive),
		cmocka_unit_test(test_txn),
		cmocka_unit_test(test_txn_counter),
	};
	const char *ep = getenv("LEAFNET_TEST_ETCD");
	int r;

	r = cmocka_run_group_tests_name("store_file", tests, setup, teardown);
	r += cmocka_run_group_tests_name("store_mem", mem_tests, setup_mem, NULL);
	if (ep == NULL || *ep == '\0') {
		printf("# store_etcd: skipped (set LEAFNET_TEST_ETCD to a throwaway "
		       "etcd's client URL to run it)\n");
		return r;
	}
	return r + cmocka_run_group_tests_name("store_etcd", etcd_tests, setup_etcd,
					       teardown_etcd);
}
