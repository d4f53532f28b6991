/* tmpstore.h — the unit tests' fixture: a file store in a fresh temporary
 * directory ($TMPDIR or /tmp), fsync off, removed again by the teardown.
 *
 *	cmocka_unit_test_setup_teardown(test_x, setup, tmpstore_teardown)
 *	static int setup(void **state) { return tmpstore_setup(state, "ipam"); }
 *
 * *state is a struct tmpstore; tests read f->s, f->conf (to open a second
 * store, e.g. in a child process) and f->dir (== conf.state_dir).
 * Header only: every test binary is one .c file. */
#ifndef LEAFNET_TEST_TMPSTORE_H
#define LEAFNET_TEST_TMPSTORE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "conf.h"
#include "store.h"

struct tmpstore {
	char dir[256];
	struct leafnet_conf conf;
	struct store *s;
};

static inline int
tmpstore_rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(p);
}

/* "<tmp>/leafnet-test-<name>.XXXXXX" with a store in it. */
static inline int
tmpstore_setup(void **state, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	struct tmpstore *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/leafnet-test-%s.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", name);
	if (!mkdtemp(f->dir))
		goto out_free;
	conf_defaults(&f->conf);
	snprintf(f->conf.state_dir, sizeof(f->conf.state_dir), "%s", f->dir);
	f->conf.fsync = false;
	if (store_open(&f->conf, &f->s, NULL) < 0)
		goto out_rmdir;
	*state = f;
	return 0;

out_rmdir:
	(void)nftw(f->dir, tmpstore_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
out_free:
	free(f);
	return -1;
}

static inline int
tmpstore_teardown(void **state)
{
	struct tmpstore *f = *state;

	store_free(f->s);
	(void)nftw(f->dir, tmpstore_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

#endif
