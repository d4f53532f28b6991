/* test_store_sweep.c — store_sweep() on the file backend: a temp file whose
 * writer is dead (no lock) goes, one a live writer holds (its OFD lock)
 * stays, keys and lock files are never touched, and writes keep working
 * beside a sweep that looks at their temp names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "err.h"
#include "store.h"
#include "tmpstore.h"

static int
setup(void **state)
{
	return tmpstore_setup(state, "store-sweep");
}

static bool
exists(const struct tmpstore *f, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", f->dir, rel);
	return access(p, F_OK) == 0;
}

static int
mk(const struct tmpstore *f, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", f->dir, rel);
	return open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
}

static void
test_sweep(void **state)
{
	struct tmpstore *f = *state;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct lf_err err = { 0 };
	char *v = NULL;
	int dead, live, dead2;

	assert_int_equal(store_put(f->s, "alloc/net1/10.0.0.1", "x", &err), 0);
	assert_int_equal(store_put(f->s, "networks/net1", "y", &err), 0);
	/* a writer killed mid-put: its temp file, unlocked */
	dead = mk(f, "alloc/net1/.tmp.4242.7");
	assert_true(dead >= 0);
	close(dead);
	dead2 = mk(f, ".tmp.4243.1");		/* at the root too */
	assert_true(dead2 >= 0);
	close(dead2);
	/* a writer alive: the lock it takes on its temp file */
	live = mk(f, "networks/.tmp.4244.2");
	assert_true(live >= 0);
	assert_int_equal(fcntl(live, F_OFD_SETLK, &fl), 0);

	assert_int_equal(store_sweep(f->s, &err), 2);
	assert_false(exists(f, "alloc/net1/.tmp.4242.7"));
	assert_false(exists(f, ".tmp.4243.1"));
	assert_true(exists(f, "networks/.tmp.4244.2"));
	assert_int_equal(store_get(f->s, "alloc/net1/10.0.0.1", &v, &err), 0);
	assert_string_equal(v, "x");
	free(v);
	v = NULL;
	assert_int_equal(store_get(f->s, "networks/net1", &v, &err), 0);
	free(v);

	/* the writer is gone: its lock with it */
	close(live);
	assert_int_equal(store_sweep(f->s, &err), 1);
	assert_false(exists(f, "networks/.tmp.4244.2"));
	assert_int_equal(store_sweep(f->s, &err), 0);
}

/* Writers and sweepers at once: no write fails, nothing is left. */
static void
test_sweep_beside_writers(void **state)
{
	struct tmpstore *f = *state;
	struct lf_err err = { 0 };
	pid_t kids[4];

	for (int k = 0; k < 4; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			struct store *s = NULL;
			char key[64];
			int bad = 0;

			if (store_open(&f->conf, &s, NULL) < 0)
				_exit(2);
			for (int i = 0; i < 300; i++) {
				if (k % 2) {
					int r = store_sweep(s, NULL);

					if (r < 0) {
						fprintf(stderr, "sweep: %s\n", strerror(-r));
						bad++;
					}
					continue;
				}
				snprintf(key, sizeof(key), "alloc/net1/k%d-%d", k, i % 10);
				int r = store_put(s, key, "value", NULL);

				if (r < 0) {
					fprintf(stderr, "put: %s\n", strerror(-r));
					bad++;
				}
			}
			store_free(s);
			_exit(bad ? 1 : 0);
		}
	}
	for (int k = 0; k < 4; k++) {
		int st;

		assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_int_equal(store_sweep(f->s, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sweep, setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_sweep_beside_writers, setup,
						tmpstore_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
