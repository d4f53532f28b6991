/* test_store_watch.c — store_watch(): READY first, then every change under
 * the watched dirs (and nothing outside them), from the watcher's own
 * thread, until the stop fd is readable; a lost watch returns -errno.
 *
 * The same cases run on the in-memory fake and the file backend (inotify),
 * then, when $LEAFNET_TEST_ETCD names a throwaway etcd (tests/netns/
 * test_etcd_watch.sh starts one), on the etcd backend (its /v3/watch
 * stream). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "err.h"
#include "store.h"
#include "store_backend.h"

static char tmpdir[] = "/tmp/leafnet-test-watch.XXXXXX";
static struct leafnet_conf conf;
static enum { BE_FILE, BE_MEM, BE_ETCD } kind;
static struct store *st;

/* ---- a watcher thread and what it saw ---------------------------------- */

#define MAX_EVS 256

struct seen {
	enum store_ev_type type;
	char key[128];
};

struct watcher {
	pthread_t th;
	int stop[2];
	const char *dirs[4];
	size_t n_dirs;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct seen evs[MAX_EVS];
	size_t n;
	bool done;
	int ret;
	struct lf_err err;
};

static void
on_event(const struct store_event *ev, void *arg)
{
	struct watcher *w = arg;

	pthread_mutex_lock(&w->mu);
	if (w->n < MAX_EVS) {
		w->evs[w->n].type = ev->type;
		snprintf(w->evs[w->n].key, sizeof(w->evs[w->n].key), "%s",
			 ev->key ? ev->key : "");
		w->n++;
	}
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void *
watch_main(void *arg)
{
	struct watcher *w = arg;
	struct store_watch sw = {
		.dirs = w->dirs, .n_dirs = w->n_dirs, .stop_fd = w->stop[0],
		.cb = on_event, .arg = w,
	};
	int r = store_watch(st, &sw, &w->err);

	pthread_mutex_lock(&w->mu);
	w->ret = r;
	w->done = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void
deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Wait (up to ms) for an event of type on key (NULL: any key); true when
 * it came.  From index *from on; *from moves past it. */
static bool
wait_for(struct watcher *w, enum store_ev_type type, const char *key, long ms)
{
	struct timespec ts;
	bool found = false;

	deadline_in(&ts, ms);
	pthread_mutex_lock(&w->mu);
	for (;;) {
		for (size_t i = 0; i < w->n && !found; i++)
			found = w->evs[i].type == type &&
				(key == NULL || strcmp(w->evs[i].key, key) == 0);
		if (found || w->done || pthread_cond_timedwait(&w->cv, &w->mu, &ts) != 0)
			break;
	}
	pthread_mutex_unlock(&w->mu);
	return found;
}

static bool
saw_key_prefix(struct watcher *w, const char *prefix)
{
	bool found = false;

	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->n; i++)
		found |= strncmp(w->evs[i].key, prefix, strlen(prefix)) == 0;
	pthread_mutex_unlock(&w->mu);
	return found;
}

static void
watcher_start(struct watcher *w, const char *d1, const char *d2)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->dirs[w->n_dirs++] = d1;
	if (d2)
		w->dirs[w->n_dirs++] = d2;
	assert_int_equal(pipe2(w->stop, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&w->th, NULL, watch_main, w), 0);
}

/* Stop it; what store_watch() returned. */
static int
watcher_stop(struct watcher *w)
{
	struct timespec ts;
	bool done;

	(void)!write(w->stop[1], "x", 1);
	deadline_in(&ts, 2000);
	pthread_mutex_lock(&w->mu);
	while (!w->done && pthread_cond_timedwait(&w->cv, &w->mu, &ts) == 0)
		;
	done = w->done;
	pthread_mutex_unlock(&w->mu);
	assert_true(done);		/* within 2 s of the stop */
	pthread_join(w->th, NULL);
	close(w->stop[0]);
	close(w->stop[1]);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	return w->ret;
}

/* ---- fixtures ------------------------------------------------------------ */

static int
rm_entry(const char *p, const struct stat *s, int flag, struct FTW *ftw)
{
	(void)s; (void)flag; (void)ftw;
	return remove(p);
}

static int
setup_file(void **state)
{
	(void)state;
	kind = BE_FILE;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	conf_defaults(&conf);
	snprintf(conf.state_dir, sizeof(conf.state_dir), "%s/state", tmpdir);
	conf.fsync = false;
	return store_open(&conf, &st, NULL) < 0 ? -1 : 0;
}

static int
setup_mem(void **state)
{
	(void)state;
	kind = BE_MEM;
	conf_defaults(&conf);
	return store_open_ops(&store_mem_ops, &conf, &st, NULL) < 0 ? -1 : 0;
}

static void
wipe(const char *dir)
{
	char **names = NULL, key[512];
	size_t n = 0;

	if (store_list_dirs(st, dir, &names, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "%s%s%s", dir, *dir ? "/" : "", names[i]);
			wipe(key);
		}
		store_names_free(names, n);
	}
	if (store_list(st, dir, &names, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "%s%s%s", dir, *dir ? "/" : "", names[i]);
			(void)store_delete(st, key, NULL);
		}
		store_names_free(names, n);
	}
}

static int
setup_etcd(void **state)
{
	(void)state;
	kind = BE_ETCD;
	conf_defaults(&conf);
	snprintf(conf.datastore, sizeof(conf.datastore), "etcd");
	snprintf(conf.etcd_endpoints, sizeof(conf.etcd_endpoints), "%s",
		 getenv("LEAFNET_TEST_ETCD"));
	if (store_open(&conf, &st, NULL) < 0)
		return -1;
	wipe("");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (kind == BE_ETCD)
		wipe("");
	store_free(st);
	st = NULL;
	if (kind == BE_FILE)
		return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- cases ----------------------------------------------------------------- */

static void
test_watch_events(void **state)
{
	static const char *const many[] = { "blocks/n1/10.0.0.64_26", "blocks/n1/10.0.0.128_26" };
	struct watcher w;
	(void)state;

	assert_int_equal(store_put(st, "networks/before", "{}", NULL), 0);
	watcher_start(&w, "networks", "blocks");
	assert_true(wait_for(&w, STORE_EV_READY, NULL, 3000));
	assert_false(saw_key_prefix(&w, "networks/before"));	/* only changes */

	assert_int_equal(store_put(st, "networks/a", "{\"x\":1}", NULL), 0);
	assert_true(wait_for(&w, STORE_EV_PUT, "networks/a", 2000));
	assert_int_equal(store_put(st, "networks/a", "{\"x\":2}", NULL), 0);
	/* a new sub-directory (the file backend watches it from now on) */
	assert_int_equal(store_create(st, "blocks/n1/10.0.0.0_26", "{\"node\":\"h1\"}", NULL), 0);
	assert_true(wait_for(&w, STORE_EV_PUT, "blocks/n1/10.0.0.0_26", 2000));
	assert_int_equal(store_put(st, "blocks/n1/10.0.0.0_26", "{\"node\":\"h2\"}", NULL), 0);
	assert_int_equal(store_create_many(st, many, 2, "{}", 0, NULL, NULL), 0);
	assert_true(wait_for(&w, STORE_EV_PUT, many[0], 2000));
	assert_true(wait_for(&w, STORE_EV_PUT, many[1], 2000));
	/* outside the dirs: never reported ("networksx" is not "networks") */
	assert_int_equal(store_put(st, "other/x", "1", NULL), 0);
	assert_int_equal(store_put(st, "networksx", "1", NULL), 0);
	assert_int_equal(store_delete(st, "networks/a", NULL), 0);
	assert_true(wait_for(&w, STORE_EV_DEL, "networks/a", 2000));
	assert_int_equal(store_delete(st, "blocks/n1/10.0.0.0_26", NULL), 0);
	assert_true(wait_for(&w, STORE_EV_DEL, "blocks/n1/10.0.0.0_26", 2000));
	/* in-place writes are changes too */
	assert_int_equal(store_put_ex(st, "networks/hint", "7", STORE_F_INPLACE, NULL), 0);
	assert_true(wait_for(&w, STORE_EV_PUT, "networks/hint", 2000));
	assert_int_equal(store_put_ex(st, "networks/hint", "8", STORE_F_INPLACE, NULL), 0);
	assert_int_equal(store_put(st, "networks/last", "{}", NULL), 0);
	assert_true(wait_for(&w, STORE_EV_PUT, "networks/last", 2000));
	assert_int_equal(watcher_stop(&w), 0);
	assert_false(saw_key_prefix(&w, "other"));
	assert_false(saw_key_prefix(&w, "networksx"));
	assert_false(saw_key_prefix(&w, "networks/.tmp"));
	assert_false(saw_key_prefix(&w, "blocks/n1/.tmp"));
	for (size_t i = 0; i < w.n; i++)
		assert_true(w.evs[i].type == STORE_EV_READY ? i == 0 :
			    strncmp(w.evs[i].key, "networks", 8) == 0 ||
			    strncmp(w.evs[i].key, "blocks", 6) == 0);
}

/* Stopped at once (before any change) and started again: each run has its
 * own READY and sees the changes made while it runs. */
static void
test_watch_restart(void **state)
{
	struct watcher w;
	(void)state;

	watcher_start(&w, "bgp", NULL);
	assert_true(wait_for(&w, STORE_EV_READY, NULL, 3000));
	assert_int_equal(watcher_stop(&w), 0);
	assert_int_equal(store_put(st, "bgp/revision", "1", NULL), 0);	/* unseen */
	watcher_start(&w, "bgp", NULL);
	assert_true(wait_for(&w, STORE_EV_READY, NULL, 3000));
	assert_int_equal(store_put(st, "bgp/nodes/h1", "{}", NULL), 0);
	assert_true(wait_for(&w, STORE_EV_PUT, "bgp/nodes/h1", 2000));
	assert_int_equal(watcher_stop(&w), 0);
	assert_false(saw_key_prefix(&w, "bgp/revision"));
}

static void
test_watch_refused(void **state)
{
	static const char *const bad[] = { "locks" };
	static const char *const dots[] = { "../x" };
	struct store_watch sw = { .dirs = bad, .n_dirs = 1, .stop_fd = 0, .cb = on_event };
	struct lf_err e = { 0 };
	(void)state;

	assert_int_equal(store_watch(st, &sw, &e), -EINVAL);
	assert_non_null(strstr(e.details, "locks"));
	sw.dirs = dots;
	assert_int_equal(store_watch(st, &sw, NULL), -EINVAL);
	sw.n_dirs = 0;
	assert_int_equal(store_watch(st, &sw, NULL), -EINVAL);
}

/* The fake's injected failure ends a running watch, as a lost stream. */
static void
test_watch_mem_lost(void **state)
{
	struct watcher w;
	(void)state;

	watcher_start(&w, "networks", NULL);
	assert_true(wait_for(&w, STORE_EV_READY, NULL, 3000));
	store_mem_fail(store_backend_of(st, &store_mem_ops), "networks", -ECONNRESET, "gone");
	assert_int_equal(store_put(st, "blocks/x", "1", NULL), 0);	/* wakes it */
	assert_false(wait_for(&w, STORE_EV_DEL, "never", 2000));	/* returns when done */
	assert_true(w.done);
	assert_int_equal(watcher_stop(&w), -ECONNRESET);
	assert_string_equal(w.err.details, "gone");
	store_mem_fail(store_backend_of(st, &store_mem_ops), NULL, 0, NULL);
}

/* A dir that is missing when the watch starts is made and followed. */
static void
test_watch_file_missing_dir(void **state)
{
	struct watcher w;
	char path[sizeof(conf.state_dir) + 16];
	(void)state;

	watcher_start(&w, "fresh/deep", NULL);
	assert_true(wait_for(&w, STORE_EV_READY, NULL, 3000));
	snprintf(path, sizeof(path), "%s/fresh/deep", conf.state_dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(store_put(st, "fresh/deep/a/b/c", "1", NULL), 0);
	assert_true(wait_for(&w, STORE_EV_PUT, "fresh/deep/a/b/c", 2000));
	assert_int_equal(watcher_stop(&w), 0);
}

/* Nothing listens at the only endpoint: the watch fails at once. */
static void
test_watch_etcd_dead(void **state)
{
	struct leafnet_conf c = conf;
	struct store *s = NULL;
	static const char *const dirs[] = { "networks" };
	struct store_watch sw = { .dirs = dirs, .n_dirs = 1, .cb = on_event };
	struct lf_err e = { 0 };
	int pfd[2];
	(void)state;

	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	sw.stop_fd = pfd[0];
	snprintf(c.etcd_endpoints, sizeof(c.etcd_endpoints), "http://127.0.0.1:1");
	assert_int_equal(store_open(&c, &s, NULL), 0);
	assert_int_equal(store_watch(s, &sw, &e), -ECONNREFUSED);
	assert_non_null(strstr(e.details, "127.0.0.1:1"));
	store_free(s);
	close(pfd[0]);
	close(pfd[1]);
}

int
main(void)
{
	const struct CMUnitTest mem_tests[] = {
		cmocka_unit_test(test_watch_events),
		cmocka_unit_test(test_watch_restart),
		cmocka_unit_test(test_watch_refused),
		cmocka_unit_test(test_watch_mem_lost),
	};
	const struct CMUnitTest file_tests[] = {
		cmocka_unit_test(test_watch_events),
		cmocka_unit_test(test_watch_restart),
		cmocka_unit_test(test_watch_refused),
		cmocka_unit_test(test_watch_file_missing_dir),
	};
	const struct CMUnitTest etcd_tests[] = {
		cmocka_unit_test(test_watch_events),
		cmocka_unit_test(test_watch_restart),
		cmocka_unit_test(test_watch_refused),
		cmocka_unit_test(test_watch_etcd_dead),
	};
	int r;

	r = cmocka_run_group_tests_name("store_watch_mem", mem_tests, setup_mem, teardown);
	r += cmocka_run_group_tests_name("store_watch_file", file_tests, setup_file, teardown);
	if (getenv("LEAFNET_TEST_ETCD") == NULL || !*getenv("LEAFNET_TEST_ETCD")) {
		printf("# store_watch_etcd: skipped (set LEAFNET_TEST_ETCD to a throwaway "
		       "etcd's client URL)\n");
		return r;
	}
	return r + cmocka_run_group_tests_name("store_watch_etcd", etcd_tests, setup_etcd,
					       teardown);
}
