/* store.h — the datastore: a small key/value store of JSON documents.
 *
 * Keys are relative paths: components of [A-Za-z0-9._:@-] separated by '/',
 * no empty, "." or ".." components (-EINVAL otherwise).  Prefixes in keys
 * write '/' as '_' ("10.0.0.0_26").
 *
 * Backend `file` (embedded default): one file per key under
 * conf->state_dir; writes are temp + fsync + rename (+ fsync of the
 * directory), exclusive creates use link(2) so they are atomic too; locks
 * are flock(2) on "<state_dir>/locks/<name>.lock", so any number of
 * processes are safe and a killed process releases its locks.
 * Backend `etcd` (conf->datastore "etcd", conf->etcd_endpoints): etcd v3
 * through its JSON gateway; create = txn on version 0, create_many = one
 * txn, lock = a key held by a lease (see store/store_etcd.c for the mapping
 * and the trade-offs).  The flags below are hints etcd does not need: its
 * writes are always durable and atomic.
 * Backend `memory` exists only for unit tests (store_backend.h).
 *
 * Errors.  Every call returns -errno.  When the caller passes a struct
 * lf_err with nothing recorded in it yet, a failure the backend has words
 * for (etcd's own text, naming the endpoint and the key; a lost lock) puts
 * them in reterr->details and leaves code and msg alone: the caller knows
 * what the call was for and records that, usually with store_err_set():
 *
 *	r = store_get(s, key, &text, reterr);
 *	if (r < 0 && r != -ENOENT)
 *		return store_err_set(reterr, LF_E_IO, r, "reading network %s", name);
 *
 * gives msg "reading network a: Connection refused", details "etcd
 * http://10.0.0.1:2379: Connection refused (get networks/a)".  Each store
 * call first clears details a failed store call left in such a reterr, so
 * they always belong to the last call.  Nothing is kept in the store
 * object: one store may serve several threads, each with its own reterr.
 *
 * Threads.  A struct store may be used by several threads at once: the
 * file backend keeps no mutable state but an atomic counter, the etcd
 * backend serialises its requests on its connection under a mutex.  A
 * lock is held by the store (process), not by a thread.
 */
#ifndef LEAFNET_STORE_H
#define LEAFNET_STORE_H

#include <stddef.h>

struct lf_err;
struct leafnet_conf;
struct store;
struct store_lock;

/* Picks the backend by conf->datastore ("" or "file", "etcd"; else
 * -EOPNOTSUPP) and opens it: the file backend creates the state directory
 * if needed, the etcd backend connects on the first request. */
int  store_open(const struct leafnet_conf *conf, struct store **ret, struct lf_err *reterr);
void store_free(struct store *s);		/* NULL-safe */

/* *ret_val is malloc'd and NUL-terminated; -ENOENT when absent. */
int  store_get(struct store *s, const char *key, char **ret_val, struct lf_err *reterr);
/* Create or replace, atomically. */
int  store_put(struct store *s, const char *key, const char *val, struct lf_err *reterr);
/* Create only; -EEXIST if the key exists (atomic against other processes). */
int  store_create(struct store *s, const char *key, const char *val, struct lf_err *reterr);
/* -ENOENT when absent.  A damaged key that is an empty directory (where a
 * value should be) is removed too. */
int  store_delete(struct store *s, const char *key, struct lf_err *reterr);
/* Names of the keys (leaves, not sub-directories) directly under dir, sorted.
 * *ret_names is a malloc'd array of malloc'd strings, free with
 * store_names_free().  A missing dir is an empty list. */
int  store_list(struct store *s, const char *dir, char ***ret_names, size_t *ret_n,
		struct lf_err *reterr);
void store_names_free(char **names, size_t n);
/* Sub-directories directly under dir (e.g. the networks having allocations). */
int  store_list_dirs(struct store *s, const char *dir, char ***ret_names, size_t *ret_n,
		     struct lf_err *reterr);
/* Both: the values and then the sub-directories directly under dir (a
 * directory where a value belongs is how a damaged record can look). */
int  store_list_all(struct store *s, const char *dir, char ***ret_names, size_t *ret_n,
		    struct lf_err *reterr);

/* The same with flags.  STORE_F_VOLATILE skips the fsyncs: the write is
 * still atomic against other processes and against a process killed at any
 * point (rename/link), but a power loss may lose it or leave it empty.  Use
 * it only for records that are rebuilt or released anyway after a reboot —
 * workload allocations: every container is gone after a reboot, the runtime
 * re-ADDs them and GC releases what is left, and readers treat an empty or
 * unparsable record as "taken by an unknown owner" (releasable by GC), never
 * as free.  Networks, blocks and BGP config are written durably. */
#define STORE_F_VOLATILE (1U << 0)
/* STORE_F_INPLACE (store_put_ex only) overwrites the value where it is: no
 * temp file and no rename, so no new file per write and no writeback forced
 * by replacing a file (ext4's auto_da_alloc).  It is NOT atomic: a reader
 * not serialised with the writer, or the value after a crash, may be part
 * old and part new.  Only for hints, where garbage costs a retry and nothing
 * else (the IPAM's round-robin start point); a value of the same length as
 * the last one leaves the file's size alone. */
#define STORE_F_INPLACE  (1U << 1)
int  store_put_ex(struct store *s, const char *key, const char *val, unsigned flags,
		  struct lf_err *reterr);
int  store_create_ex(struct store *s, const char *key, const char *val, unsigned flags,
		     struct lf_err *reterr);
int  store_delete_ex(struct store *s, const char *key, unsigned flags, struct lf_err *reterr);

/* Create one value under each of keys[0..n), in that order, each exclusively:
 * on -EEXIST the keys this call created are removed again and
 * *ret_existing (if not NULL) is the index of the key that exists.  A
 * process killed part way leaves a prefix of the keys, each complete.  The
 * keys are one record: in the `file` backend one file, hard-linked under
 * every key, so n keys cost one file creation (creating a file is the
 * expensive part of a write).  Later puts or deletes of one key do not
 * touch the others (put replaces the key's file, never writes through). */
int  store_create_many(struct store *s, const char *const *keys, size_t n,
		       const char *val, unsigned flags, size_t *ret_existing,
		       struct lf_err *reterr);

/* The backend's name (conf->datastore: "file", "etcd", "memory"), for a
 * caller that picks between equivalent ways by cost (the IPAM's hint). */
const char *store_backend_name(const struct store *s);

/* 1 when keys a and b are one record made by one store_create_many() and
 * neither was replaced since (the `file` backend's hard links: it still
 * holds when the record itself is damaged, so a damaged owner record can
 * be matched with its allocations), 0 when not, when either is absent or
 * when the backend keeps keys apart (etcd).  -errno only for bad keys. */
int  store_same_record(struct store *s, const char *a, const char *b, struct lf_err *reterr);

/* Record a failed store call (ret < 0) in reterr as "<fmt...>: <strerror>";
 * the details the store call put there stay.  A transient failure
 * (store_err_transient()) is recorded as LF_E_AGAIN, not as code.  Like lf_err_set(), the first
 * recorded error wins and ret is returned. */
int  store_err_set(struct lf_err *reterr, int code, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Bound the time the calls of s may wait for the datastore from now on to
 * ms (0: no bound; the default).  A request that would go out later fails
 * with -ETIMEDOUT, and each waits at most what is left; waiting for a lock
 * another live process holds does not count.  For short-lived callers (a
 * CNI plugin call); the file backend has nothing to bound. */
void store_set_deadline(struct store *s, unsigned ms);

/* Is a failed store call's ret a datastore that cannot be reached or did
 * not answer in time (retrying later may work)?  store_err_set() records
 * those as LF_E_AGAIN whatever code the caller gave. */
int  store_err_transient(int ret);

/* Reading several keys at once, and compare-and-swap.
 *
 * A version token (ver) names one stored value of a key: it changes with
 * every write of the key, and "" means absent.  etcd: the key's
 * mod_revision; memory: a store-wide write counter; file: the file's
 * inode number and ctime in ns ("<ino>.<sec>.<nsec>"): every write of a
 * file store key makes a new file (temp + rename), so a new inode, and a
 * reused inode number has a later ctime.  (A generation counter inside the
 * value would make the store parse values it treats as opaque; an
 * in-place write, STORE_F_INPLACE, is not for keys used in a txn.)
 *
 * store_get_many() fills kvs[i].val (malloc'd, NULL when absent) and
 * kvs[i].ver for n keys; etcd: one txn of range requests.  A key that is
 * damaged (a directory where a value belongs) reads as absent with ver
 * "dir" on the file backend, so a txn expecting absence fails on it.
 *
 * store_txn(): when every cmp[i] holds (the key's version is cmp[i].ver,
 * "" = absent) do every op (val NULL = delete) at once, all or none, and
 * return 0; otherwise change nothing and return -EAGAIN with, when cur
 * is not NULL, cur[0..n_cmp) filled like store_get_many() for the
 * compared keys (their current values), so the caller can retry without
 * reading again.  cur is written only then (it may be the very array
 * cmp's versions point into), and its vals must be NULL or freed first.  Free cur with store_kv_free().  An op's key need not be
 * compared (a blind write); deleting an absent key is no error.
 *   etcd:   one POST /v3/kv/txn (compares MOD or CREATE revision; the
 *           failure branch ranges the compared keys)
 *   file:   flock on locks/txn/<dir>.lock of every key's directory, taken
 *           in sorted order (no deadlock), compare by stat, then puts by
 *           temp + rename (a put expecting absence by link(2), so it is
 *           exclusive even against writers that do not lock), deletes
 *           last.  A process killed part way leaves a prefix of the ops
 *           done, each complete (rename/link are atomic one by one): ops
 *           are applied in the order given, so the caller puts first what
 *           the rest depend on.  Puts of one val (the same pointer) that
 *           expect absence are one file, hard-linked (store_same_record).
 *   memory: under its mutex. */
#define STORE_VER_MAX 48
struct store_kv {
	const char *key;
	char *val;			/* out: malloc'd, NULL when absent */
	char ver[STORE_VER_MAX];	/* out: "" when absent */
};
struct store_cmp {
	const char *key;
	const char *ver;		/* "" or NULL: must be absent */
};
struct store_op {
	const char *key;
	const char *val;		/* NULL: delete */
};
int  store_get_many(struct store *s, struct store_kv *kvs, size_t n, struct lf_err *reterr);
int  store_txn(struct store *s, const struct store_cmp *cmp, size_t n_cmp,
	       const struct store_op *ops, size_t n_ops, unsigned flags,
	       struct store_kv *cur, struct lf_err *reterr);
void store_kv_free(struct store_kv *kvs, size_t n);	/* frees vals, sets them NULL */

/* A lock that is local to this host whatever the backend: flock(2) on
 * <dir>/<name>.lock, dir being conf->state_dir's "locks" (file backend)
 * or conf->run_dir... see store.c.  For serialising work on one node (the
 * ADDs of one node in one network) without a round trip to etcd; never a
 * substitute for a txn where other hosts write too.  Waiting for it does
 * not count against store_set_deadline(). */
int  store_lock_local(struct store *s, const char *name, struct store_lock **ret,
		      struct lf_err *reterr);

/* A note kept with a local lock, in its lock file (a few hundred bytes at
 * most): what the holder wants the next holder on this host to know before
 * it reads the store (the IPAM keeps its hint there, to read ahead the
 * right keys in its first request).  Never authoritative: anyone may lose
 * it.  -EOPNOTSUPP where the local lock is the backend's own (file,
 * memory: there the store is local anyway).  get: the length read. */
int  store_lock_note_get(struct store_lock *l, char *buf, size_t size);
int  store_lock_note_set(struct store_lock *l, const char *text);

/* Exclusive lock called `name` (a key-like string); blocks until held. */
int  store_lock(struct store *s, const char *name, struct store_lock **ret,
		struct lf_err *reterr);
void store_unlock(struct store_lock *l);	/* NULL-safe */

/* Remove what writers killed mid-write left behind (the file backend's
 * temp files; nothing for etcd, whose writes are single requests).  Safe
 * beside live writers: only the leftovers of dead ones go.  The number
 * removed, or -errno. */
int  store_sweep(struct store *s, struct lf_err *reterr);

/* Following the store.  store_watch() reports every change of a key under
 * one of w->dirs (directory keys: "networks", "bgp"; a key "networks/a"
 * and "networks/x/y" are under "networks") to w->cb, in the calling
 * thread, which it blocks: run it in a thread of its own.  First comes
 * STORE_EV_READY, once the watch is in place: every change made after it
 * is reported, so a caller that (re)reads what it follows after READY
 * misses nothing.  Then one STORE_EV_PUT or STORE_EV_DEL per change, with
 * the key (a backend may also report the directory a change happened in,
 * or a change twice; never fewer).  A PUT carries the value written when
 * the backend has it at no cost (etcd: in the watch message; file and
 * memory: NULL), a hint for deciding whether to read at all: the store is
 * the truth, read it before acting on a value.
 * Returns 0 once w->stop_fd is readable (it is not drained), -errno when
 * the watch is lost (etcd went away or compacted what we had not seen,
 * the kernel's inotify queue overflowed): the caller waits a little,
 * watches again and re-reads on that watch's READY.  -EOPNOTSUPP when the
 * backend cannot watch: the caller polls.
 *   etcd:   one POST /v3/watch stream (a create_request per dir) on a
 *           connection of its own, through the endpoints in turn
 *   file:   inotify on the dirs and every directory below them
 *   memory: the changes made through the same store (unit tests) */
enum store_ev_type {
	STORE_EV_READY,
	STORE_EV_PUT,
	STORE_EV_DEL,
};

struct store_event {
	enum store_ev_type type;
	const char *key;		/* NULL for READY */
	const char *val;		/* a PUT's value, NUL-terminated, or NULL */
};

struct store_watch {
	const char *const *dirs;
	size_t n_dirs;
	int stop_fd;			/* readable: return 0 */
	void (*cb)(const struct store_event *ev, void *arg);
	void *arg;
};

int  store_watch(struct store *s, const struct store_watch *w, struct lf_err *reterr);
/* Is key under one of w's dirs? (for backends that see more than they
 * were asked for) */
int  store_watch_match(const struct store_watch *w, const char *key);

#endif
