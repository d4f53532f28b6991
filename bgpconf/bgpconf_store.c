/* bgpconf_store.c — BGP configuration in the datastore: the locked
 * read-modify-write of each change followed by a revision bump.  Layout:
 * see bgpconf.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "err.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "dbuf.h"
#include "bgpconf.h"
#include "bgpconf_private.h"

/* ------------------------------------------------------------ store */

static int
lock_conf(struct store *s, struct store_lock **ret, struct lf_err *reterr)
{
	int r = store_lock(s, BGPCONF_LOCK, ret, reterr);

	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "cannot lock the BGP configuration");
	return 0;
}

/* -ENOENT without a message: the caller decides what absence means. */
static int
read_key(struct store *s, const char *key, char **ret, struct lf_err *reterr)
{
	int r = store_get(s, key, ret, reterr);

	if (r < 0 && r != -ENOENT)
		return store_err_set(reterr, LF_E_IO, r, "reading %s from the store", key);
	return r;
}

bool
bgpconf_damaged_err(int r)
{
	return r < 0 && r != -ENOENT && r != -ENOMEM && !store_err_transient(r);
}

int
bgpconf_revision(struct store *s, uint64_t *ret, struct lf_err *reterr)
{
	const cJSON *it;
	cJSON *o;
	char *text;
	int r;

	r = read_key(s, KEY_REVISION, &text, reterr);
	if (r == -ENOENT) {
		*ret = 0;
		return 0;
	}
	if (r < 0)
		return r;
	r = json_parse(text, &o, reterr);
	free(text);
	if (r < 0)
		return r;
	it = cJSON_GetObjectItemCaseSensitive(o, "revision");
	if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 9007199254740992.0 ||
	    (double)(uint64_t)it->valuedouble != it->valuedouble) {
		cJSON_Delete(o);
		return lf_err_set(reterr, LF_E_DECODE, -EINVAL, KEY_REVISION
				  ".revision: expected a whole number >= 0");
	}
	*ret = (uint64_t)it->valuedouble;
	cJSON_Delete(o);
	return 0;
}

/* Under the lock.  Readers compare revisions for inequality only, so a
 * damaged counter restarts from a value no earlier one can have had. */
static int
revision_bump(struct store *s, struct lf_err *reterr)
{
	uint64_t rev;
	cJSON *o;
	char *text = NULL;
	int r;

	if (bgpconf_revision(s, &rev, NULL) < 0) {
		log_debug("bgpconf: %s unreadable, restarting it", KEY_REVISION);
		rev = (uint64_t)time(NULL) * 1000;
	}
	o = cJSON_CreateObject();
	if (o && cJSON_AddNumberToObject(o, "revision", (double)(rev + 1)) &&
	    cJSON_AddNumberToObject(o, "changed", (double)time(NULL)))
		text = json_print(o);
	cJSON_Delete(o);
	if (!text)
		return bgpconf_oom(reterr);
	r = store_put(s, KEY_REVISION, text, reterr);
	free(text);
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "writing %s", KEY_REVISION);
	return 0;
}

/* Under the lock: write val to key (NULL: delete it), then bump the
 * revision; when the bump fails, put the old value back (NULL: absent). */
static int
commit(struct store *s, const char *key, const char *val, const char *old,
       struct lf_err *reterr)
{
	int r;

	r = val ? store_put(s, key, val, reterr) : store_delete(s, key, reterr);
	/* a damaged key that is a directory: removed, then written */
	if (val && r == -EISDIR && store_delete(s, key, NULL) == 0) {
		old = NULL;
		r = store_put(s, key, val, reterr);
	}
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "writing %s", key);
	r = revision_bump(s, reterr);
	if (r < 0)
		(void)(old ? store_put(s, key, old, NULL) : store_delete(s, key, NULL));
	return r;
}

int
bgpconf_get(struct store *s, struct bgp_config *ret, struct lf_err *reterr)
{
	char *text;
	int r;

	r = read_key(s, KEY_CONFIG, &text, reterr);
	if (r == -ENOENT) {
		bgpconf_defaults(ret);
		return 0;
	}
	if (r < 0)
		return r;
	r = bgpconf_config_from_json(text, ret, reterr);
	free(text);
	return r;
}

/* Apply one change to the global config under the lock; 1 when it was
 * already so. */
static int
config_change(struct store *s, const uint32_t *as, const bool *mesh,
	      const enum bgpconf_import *imp, struct lf_err *reterr)
{
	struct bgp_config old, c;
	struct store_lock *lock;
	char *old_text = NULL, *text;
	bool damaged = false;
	int r;

	r = lock_conf(s, &lock, reterr);
	if (r < 0)
		return r;
	r = read_key(s, KEY_CONFIG, &old_text, NULL);
	if (r == 0) {
		struct lf_err pe = { 0 };

		r = bgpconf_config_from_json(old_text, &old, &pe);
	}
	if (r == -ENOENT || bgpconf_damaged_err(r)) {
		/* absent, or damaged: this change writes it anew from the
		 * defaults (what leafnetd uses while it is damaged) */
		damaged = r != -ENOENT;
		bgpconf_defaults(&old);
		free(old_text);
		old_text = NULL;
		r = 0;
	}
	if (r < 0) {
		(void)store_err_set(reterr, LF_E_IO, r, "reading %s from the store", KEY_CONFIG);
		goto out_unlock;
	}
	c = old;
	if (as)
		c.default_node_as = *as;
	if (mesh)
		c.node_mesh = *mesh;
	if (imp)
		c.import = *imp;
	if (!damaged && c.default_node_as == old.default_node_as &&
	    c.node_mesh == old.node_mesh && c.import == old.import) {
		r = 1;
		goto out_unlock;
	}
	text = bgpconf_config_to_json(&c);
	if (!text) {
		r = bgpconf_oom(reterr);
		goto out_unlock;
	}
	r = commit(s, KEY_CONFIG, text, old_text, reterr);
	free(text);
out_unlock:
	free(old_text);
	store_unlock(lock);
	return r;
}

int
bgpconf_set_default_as(struct store *s, uint32_t as, struct lf_err *reterr)
{
	int r = bgpconf_check_as(as, "default node AS", reterr);

	return r < 0 ? r : config_change(s, &as, NULL, NULL, reterr);
}

int
bgpconf_set_mesh(struct store *s, bool on, struct lf_err *reterr)
{
	return config_change(s, NULL, &on, NULL, reterr);
}

int
bgpconf_set_import(struct store *s, enum bgpconf_import imp, struct lf_err *reterr)
{
	if (imp != BGPCONF_IMPORT_ALL && imp != BGPCONF_IMPORT_DEFAULT &&
	    imp != BGPCONF_IMPORT_NONE)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "import: use default, all or none");
	return config_change(s, NULL, NULL, &imp, reterr);
}

/* ------------------------------------------------------------ nodes */

static void
node_key(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, DIR_NODES "/%s", name);
}

/* Reads and parses a node record; *ret_text (may be NULL) gets its text. */
static int
node_load(struct store *s, const char *name, struct bgp_node *ret,
	  char **ret_text, struct lf_err *reterr)
{
	char key[KEY_MAX], *text;
	int r;

	node_key(name, key, sizeof(key));
	r = read_key(s, key, &text, reterr);
	if (r < 0)
		return r;
	r = bgpconf_node_from_json(text, key, ret, reterr);
	if (r == 0 && ret_text)
		*ret_text = text;
	else
		free(text);
	return r;
}

static void
node_new(const char *name, struct bgp_node *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->name, sizeof(ret->name), "%s", name);
	ret->created = (long long)time(NULL);
}

/* Write n if it differs from old_text; 1 when it does not. */
static int
node_commit(struct store *s, const struct bgp_node *n, const char *old_text,
	    struct lf_err *reterr)
{
	char key[KEY_MAX], *text;
	int r;

	text = bgpconf_node_to_json(n);
	if (!text)
		return bgpconf_oom(reterr);
	node_key(n->name, key, sizeof(key));
	if (old_text && strcmp(old_text, text) == 0)
		r = 1;
	else
		r = commit(s, key, text, old_text, reterr);
	free(text);
	return r;
}

/* Load node `name` (a new, empty one when absent and `create`), let fn
 * change it, and write it back when fn returned 0 and it differs.  Returns
 * fn's error or its value > 0 (nothing written), or node_commit()'s. */
static int
node_update(struct store *s, const char *name, bool create,
	    int (*fn)(struct store *s, struct bgp_node *n, const void *arg,
		      struct lf_err *reterr),
	    const void *arg, struct lf_err *reterr)
{
	struct bgp_node n;
	char *old_text = NULL;
	int r;

	r = node_load(s, name, &n, &old_text, reterr);
	if (r == -ENOENT && create) {
		node_new(name, &n);
		r = 0;
	}
	if (r < 0)
		return r;
	r = fn(s, &n, arg, reterr);
	if (r == 0)
		r = node_commit(s, &n, old_text, reterr);
	free(old_text);
	bgpconf_node_done(&n);
	return r;
}

int
bgpconf_node_get(struct store *s, const char *name, struct bgp_node *ret,
		 struct lf_err *reterr)
{
	int r = bgpconf_check_node_name(name, reterr);

	if (r < 0)
		return r;
	r = node_load(s, name, ret, NULL, reterr);
	if (r == -ENOENT)
		return lf_err_set(reterr, LF_E_NOT_FOUND, -ENOENT,
				  "node %s is unknown: it has no BGP settings "
				  "or peers", name);
	return r;
}

int
bgpconf_node_list(struct store *s, struct bgp_node **ret, size_t *ret_n,
		  struct lf_err *reterr)
{
	struct bgp_node *nodes = NULL;
	char **names = NULL;
	size_t n_names = 0, i, n = 0;
	int r;

	r = store_list(s, DIR_NODES, &names, &n_names, reterr);
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "listing the nodes");
	if (n_names) {
		nodes = calloc(n_names, sizeof(*nodes));
		if (!nodes) {
			r = bgpconf_oom(reterr);
			goto out_free_names;
		}
	}
	for (i = 0; i < n_names; i++) {
		r = node_load(s, names[i], &nodes[n], NULL, NULL);
		if (r == -ENOENT)	/* removed since the listing */
			continue;
		if (bgpconf_damaged_err(r))
			continue;	/* bgpconf_damaged() reports it */
		if (r < 0)
			r = node_load(s, names[i], &nodes[n], NULL, reterr);	/* the text */
		if (r < 0) {
			bgpconf_nodes_free(nodes, n);
			goto out_free_names;
		}
		n++;
	}
	r = 0;
	*ret = nodes;
	*ret_n = n;
out_free_names:
	store_names_free(names, n_names);
	return r;
}

/* ------------------------------------------------------------ peers */

static void
peer_key(const struct ipaddr *a, char *buf, size_t size)
{
	char ab[IPADDR_STRLEN];

	snprintf(buf, size, DIR_PEERS "/%s", ipaddr_fmt(a, ab, sizeof(ab)));
}

static int
peer_load(struct store *s, const struct ipaddr *a, struct bgp_peer *ret,
	  char **ret_text, struct lf_err *reterr)
{
	char key[KEY_MAX], ctx[KEY_MAX + 2], *text;
	cJSON *o;
	int r;

	peer_key(a, key, sizeof(key));
	r = read_key(s, key, &text, reterr);
	if (r < 0)
		return r;
	snprintf(ctx, sizeof(ctx), "%s.", key);
	r = json_parse(text, &o, reterr);
	if (r == 0) {
		r = bgpconf_peer_from_json(o, ctx, ret, reterr);
		cJSON_Delete(o);
	}
	if (r == 0 && ret_text)
		*ret_text = text;
	else
		free(text);
	return r;
}

static bool
peer_opts_eq(const struct bgp_peer *a, const struct bgp_peer *b)
{
	uint16_t ra = a->max_prefix_restart, rb = b->max_prefix_restart;

	if (a->max_prefix && !a->max_prefix_warning && ra == 0)
		ra = BGPCONF_MAXPFX_RESTART_DEFAULT;
	if (b->max_prefix && !b->max_prefix_warning && rb == 0)
		rb = BGPCONF_MAXPFX_RESTART_DEFAULT;
	return strcmp(a->password, b->password) == 0 &&
	       a->ttl_security == b->ttl_security && a->max_prefix == b->max_prefix &&
	       (a->max_prefix == 0 || (a->max_prefix_warning == b->max_prefix_warning &&
				       ra == rb)) &&
	       a->import == b->import;
}

/* 1: the same peer is there; -EEXIST: another one with that address. */
static int
peer_same(const struct bgp_peer *old, const struct bgp_peer *p, const char *where,
	  struct lf_err *reterr)
{
	char a[IPADDR_STRLEN];

	ipaddr_fmt(&p->addr, a, sizeof(a));
	if (old->as != p->as)
		return lf_err_set(reterr, LF_E_INVALID, -EEXIST,
				  "%s is already a %s BGP peer with AS %u (not "
				  "%u): remove it first to change it", a, where,
				  old->as, p->as);
	if (strcmp(old->password, p->password) != 0)
		return lf_err_set(reterr, LF_E_INVALID, -EEXIST,
				  "%s is already a %s BGP peer with %s: remove "
				  "it first to change it", a, where,
				  old->password[0] ? "a different password"
						   : "no password");
	if (!peer_opts_eq(old, p))
		return lf_err_set(reterr, LF_E_INVALID, -EEXIST,
				  "%s is already a %s BGP peer with other options: "
				  "remove it first to change it", a, where);
	return 1;
}

/* old with the options `set` names taken from p. */
static void
peer_merge(const struct bgp_peer *old, const struct bgp_peer *p, unsigned set,
	   struct bgp_peer *ret)
{
	*ret = *old;
	if (set & BGPCONF_SET_PASSWORD)
		memcpy(ret->password, p->password, sizeof(ret->password));
	if (set & BGPCONF_SET_TTL)
		ret->ttl_security = p->ttl_security;
	if (set & BGPCONF_SET_MAX_PREFIX) {
		ret->max_prefix = p->max_prefix;
		ret->max_prefix_warning = p->max_prefix_warning;
		ret->max_prefix_restart = p->max_prefix_restart;
	}
	if (set & BGPCONF_SET_IMPORT)
		ret->import = p->import;
}

static const struct bgp_peer *
peer_find(const struct bgp_node *n, const struct ipaddr *a)
{
	size_t i;

	for (i = 0; i < n->n_peers; i++)
		if (ipaddr_eq(&n->peers[i].addr, a))
			return &n->peers[i];
	return NULL;
}

/* A node peer that is also a global peer would be one session twice. */
static int
check_not_global(struct store *s, const struct ipaddr *a, struct lf_err *reterr)
{
	char ab[IPADDR_STRLEN];
	struct bgp_peer g;
	int r;

	r = peer_load(s, a, &g, NULL, reterr);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return lf_err_set(reterr, LF_E_INVALID, -EEXIST,
			  "%s is already a global BGP peer (AS %u), which "
			  "every node peers with: remove the global peer "
			  "first to make it node-specific",
			  ipaddr_fmt(a, ab, sizeof(ab)), g.as);
}

static int
check_not_node_peer(struct store *s, const struct ipaddr *a, struct lf_err *reterr)
{
	const struct bgp_peer *p;
	char ab[IPADDR_STRLEN];
	struct bgp_node *nodes = NULL;
	size_t n = 0, i;
	int r;

	r = bgpconf_node_list(s, &nodes, &n, reterr);
	if (r < 0)
		return r;
	for (i = 0; i < n && r == 0; i++)
		if ((p = peer_find(&nodes[i], a)))
			r = lf_err_set(reterr, LF_E_INVALID, -EEXIST,
				       "%s is already a BGP peer of node %s "
				       "(AS %u): remove that node peer first to "
				       "make it global",
				       ipaddr_fmt(a, ab, sizeof(ab)),
				       nodes[i].name, p->as);
	bgpconf_nodes_free(nodes, n);
	return r;
}

/* Insert (or find the same) p in n; 1 when already there. */
static int
node_peer_insert(struct bgp_node *n, const struct bgp_peer *p, struct lf_err *reterr)
{
	const struct bgp_peer *old = peer_find(n, &p->addr);
	struct bgp_peer *peers;
	size_t i, cap;

	if (old)
		return peer_same(old, p, "node-specific", reterr);
	if (n->n_peers >= BGPCONF_NODE_PEERS_MAX)
		return lf_err_set(reterr, LF_E_INVALID, -ENOSPC,
				  "node %s already has %d BGP peers, the most "
				  "it can have", n->name, BGPCONF_NODE_PEERS_MAX);
	cap = n->n_peers;	/* the decoder allocates exactly n_peers */
	if (GROW(n->peers, cap, n->n_peers + 1) < 0)
		return bgpconf_oom(reterr);
	peers = n->peers;
	for (i = n->n_peers; i > 0 && ipaddr_cmp(&peers[i - 1].addr, &p->addr) > 0; i--)
		peers[i] = peers[i - 1];
	peers[i] = *p;
	n->n_peers++;
	return 0;
}

/* Insert p in n, or change the options `set` names of the peer already
 * there with p's AS (*existed = true); 1 when that changes nothing. */
static int
node_peer_upsert(struct bgp_node *n, const struct bgp_peer *p, unsigned set,
		 bool *existed, struct lf_err *reterr)
{
	struct bgp_peer *old = (struct bgp_peer *)peer_find(n, &p->addr), merged;

	*existed = old != NULL;
	if (!old)
		return node_peer_insert(n, p, reterr);
	if (old->as != p->as)
		return peer_same(old, p, "node-specific", reterr);
	peer_merge(old, p, set, &merged);
	if (peer_opts_eq(old, &merged))
		return 1;
	*old = merged;
	return 0;
}

/* A global peer: strict (bgpconf_peer_add) or set (bgpconf_peer_set). */
static int
global_peer_put_locked(struct store *s, const struct bgp_peer *p, bool strict,
		       unsigned set, struct lf_err *reterr)
{
	struct bgp_peer old, merged;
	char key[KEY_MAX], *text, *old_text = NULL;
	int r;

	r = peer_load(s, &p->addr, &old, &old_text, reterr);
	if (r == 0 && (strict || old.as != p->as)) {
		free(old_text);
		return peer_same(&old, p, "global", reterr);
	}
	if (r == 0) {
		peer_merge(&old, p, set, &merged);
		if (peer_opts_eq(&old, &merged)) {
			free(old_text);
			return 1;
		}
		p = &merged;
	} else if (r != -ENOENT) {
		return r;
	} else if ((r = check_not_node_peer(s, &p->addr, reterr)) < 0) {
		return r;
	}
	text = bgpconf_peer_to_text(p);
	if (!text) {
		free(old_text);
		return bgpconf_oom(reterr);
	}
	peer_key(&p->addr, key, sizeof(key));
	r = commit(s, key, text, old_text, reterr);
	free(text);
	if (r == 0 && old_text)
		r = 2;
	free(old_text);
	return r;
}

struct node_peer_arg {
	const struct bgp_peer *p;
	bool strict;
	unsigned set;
	bool existed;
};

static int
node_peer_add_fn(struct store *s, struct bgp_node *n, const void *arg, struct lf_err *reterr)
{
	struct node_peer_arg *a = (struct node_peer_arg *)arg;
	int r;

	r = check_not_global(s, &a->p->addr, reterr);
	if (r == 0 && a->strict)
		r = node_peer_insert(n, a->p, reterr);
	else if (r == 0)
		r = node_peer_upsert(n, a->p, a->set, &a->existed, reterr);
	return r;
}

static int
node_peer_put_locked(struct store *s, const char *node, const struct bgp_peer *p,
		     bool strict, unsigned set, struct lf_err *reterr)
{
	struct node_peer_arg a = { p, strict, set, false };
	int r;

	r = node_update(s, node, true, node_peer_add_fn, &a, reterr);
	return r == 0 && a.existed ? 2 : r;
}

static int
peer_put(struct store *s, const char *node, const struct bgp_peer *p, bool strict,
	 unsigned set, struct lf_err *reterr)
{
	struct store_lock *lock;
	struct bgp_peer v = *p;
	int r;

	r = bgpconf_check_peer(&v, reterr);
	if (r == 0 && node)
		r = bgpconf_check_node_name(node, reterr);
	if (r < 0)
		return r;
	if (v.created == 0)
		v.created = (long long)time(NULL);
	r = lock_conf(s, &lock, reterr);
	if (r < 0)
		return r;
	if (node)
		r = node_peer_put_locked(s, node, &v, strict, set, reterr);
	else
		r = global_peer_put_locked(s, &v, strict, set, reterr);
	store_unlock(lock);
	return r;
}

int
bgpconf_peer_add(struct store *s, const char *node, const struct bgp_peer *p,
		 struct lf_err *reterr)
{
	return peer_put(s, node, p, true, BGPCONF_SET_ALL, reterr);
}

int
bgpconf_peer_set(struct store *s, const char *node, const struct bgp_peer *p,
		 unsigned set, struct lf_err *reterr)
{
	return peer_put(s, node, p, false, set, reterr);
}

static int
no_such_peer(const struct ipaddr *a, const char *node, struct lf_err *reterr)
{
	char ab[IPADDR_STRLEN];

	ipaddr_fmt(a, ab, sizeof(ab));
	if (node)
		return lf_err_set(reterr, LF_E_NOT_FOUND, -ENOENT,
				  "%s is not a BGP peer of node %s", ab, node);
	return lf_err_set(reterr, LF_E_NOT_FOUND, -ENOENT,
			  "%s is not a global BGP peer", ab);
}

struct peer_remove_arg {
	const char *node;
	const struct ipaddr *a;
};

static int
peer_remove_fn(struct store *s, struct bgp_node *n, const void *arg, struct lf_err *reterr)
{
	const struct peer_remove_arg *pr = arg;
	size_t i;

	(void)s;
	for (i = 0; i < n->n_peers && !ipaddr_eq(&n->peers[i].addr, pr->a); i++)
		;
	if (i == n->n_peers)
		return no_such_peer(pr->a, pr->node, reterr);
	memmove(&n->peers[i], &n->peers[i + 1], (n->n_peers - i - 1) * sizeof(n->peers[0]));
	n->n_peers--;
	return 0;
}

static int
peer_remove_locked(struct store *s, const char *node, const struct ipaddr *a,
		   struct lf_err *reterr)
{
	const struct peer_remove_arg pr = { node, a };
	char key[KEY_MAX], *old_text = NULL;
	struct bgp_peer old;
	int r;

	if (!node) {
		r = peer_load(s, a, &old, &old_text, NULL);
		if (r == -ENOENT)
			return no_such_peer(a, NULL, reterr);
		if (r < 0 && !bgpconf_damaged_err(r))
			return peer_load(s, a, &old, &old_text, reterr);
		/* a damaged record goes all the same: removing it is the fix */
		peer_key(a, key, sizeof(key));
		r = commit(s, key, NULL, old_text, reterr);
		free(old_text);
		return r;
	}
	r = node_update(s, node, false, peer_remove_fn, &pr, reterr);
	if (bgpconf_damaged_err(r) && r != -EINVAL) {
		node_key(node, key, sizeof(key));
		lf_err_details(reterr, "record %s is damaged; remove the node's record "
			       "with `netctl node rm %s` and add its peers again", key, node);
	}
	return r == -ENOENT ? no_such_peer(a, node, reterr) : r;
}

int
bgpconf_peer_remove(struct store *s, const char *node, const struct ipaddr *a,
		    struct lf_err *reterr)
{
	struct store_lock *lock;
	int r;

	if (node && (r = bgpconf_check_node_name(node, reterr)) < 0)
		return r;
	if (!ipaddr_is_set(a))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "no peer address given");
	r = lock_conf(s, &lock, reterr);
	if (r < 0)
		return r;
	r = peer_remove_locked(s, node, a, reterr);
	store_unlock(lock);
	return r;
}

static int
global_peer_list(struct store *s, struct bgp_peer **ret, size_t *ret_n,
		 struct lf_err *reterr)
{
	struct bgp_peer *peers = NULL;
	char **names = NULL;
	size_t n_names = 0, i, n = 0;
	struct ipaddr a;
	int r;

	r = store_list(s, DIR_PEERS, &names, &n_names, reterr);
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "listing the BGP peers");
	if (n_names && !(peers = calloc(n_names, sizeof(*peers)))) {
		r = bgpconf_oom(reterr);
		goto out_free_names;
	}
	for (i = 0; i < n_names; i++) {
		if (ipaddr_parse(names[i], &a) < 0) {
			log_debug("bgpconf: ignoring %s/%s: not an address",
				  DIR_PEERS, names[i]);
			continue;
		}
		r = peer_load(s, &a, &peers[n], NULL, NULL);
		if (r == -ENOENT || bgpconf_damaged_err(r))
			continue;	/* damaged: bgpconf_damaged() reports it */
		if (r < 0) {
			(void)peer_load(s, &a, &peers[n], NULL, reterr);	/* the text */
			free(peers);
			goto out_free_names;
		}
		n++;
	}
	r = 0;
	if (n == 0) {
		free(peers);
		peers = NULL;
	} else {
		qsort(peers, n, sizeof(*peers), bgpconf_peer_cmp);
	}
	*ret = peers;
	*ret_n = n;
out_free_names:
	store_names_free(names, n_names);
	return r;
}

int
bgpconf_peer_list(struct store *s, const char *node, struct bgp_peer **ret,
		  size_t *ret_n, struct lf_err *reterr)
{
	struct bgp_node n;
	int r;

	if (!node)
		return global_peer_list(s, ret, ret_n, reterr);
	r = bgpconf_check_node_name(node, reterr);
	if (r < 0)
		return r;
	r = node_load(s, node, &n, NULL, reterr);
	if (r == -ENOENT) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (r < 0)
		return r;
	*ret = n.peers;
	*ret_n = n.n_peers;
	return 0;
}

/* ------------------------------------------------------------ create */

struct create_bgp_arg {
	const struct bgp_create_req *req;
	const struct bgp_peer *nb;
};

static int
create_bgp_fn(struct store *s, struct bgp_node *n, const void *arg, struct lf_err *reterr)
{
	const struct create_bgp_arg *cb = arg;
	bool existed;
	int r;

	n->as = cb->req->as;
	if (cb->req->router_ip.addr.family == AF_INET)
		n->router_ip4 = cb->req->router_ip;
	else
		n->router_ip6 = cb->req->router_ip;
	r = check_not_global(s, &cb->nb->addr, reterr);
	if (r == 0)
		r = node_peer_upsert(n, cb->nb, cb->req->set, &existed, reterr);
	return r == 1 ? 0 : r;		/* the same neighbor: fine */
}

int
bgpconf_node_create_bgp(struct store *s, const struct bgp_create_req *req,
			struct lf_err *reterr)
{
	struct bgp_peer nb = req->neighbor;
	const struct create_bgp_arg cb = { req, &nb };
	struct store_lock *lock;
	int r;

	r = bgpconf_check_node_name(req->node, reterr);
	if (r == 0)
		r = bgpconf_check_as(req->as, "--as", reterr);
	if (r == 0 && (!ipaddr_is_set(&req->router_ip.addr) || req->router_ip.len == 0 ||
		       req->router_ip.len > prefix_maxlen(req->router_ip.addr.family)))
		r = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
			       "--router-ip: give the node's address and prefix "
			       "length, e.g. --router-ip=10.0.0.1/24");
	if (r == 0)
		r = bgpconf_check_peer_addr(&req->router_ip.addr, "--router-ip", reterr);
	if (r == 0)
		r = bgpconf_check_peer_addr(&nb.addr, "--neighbor", reterr);
	if (r == 0)
		r = bgpconf_check_as(nb.as, "--neighbor-as", reterr);
	if (r == 0)
		r = bgpconf_check_peer(&nb, reterr);
	if (r < 0)
		return r;
	if (nb.created == 0)
		nb.created = (long long)time(NULL);

	r = lock_conf(s, &lock, reterr);
	if (r < 0)
		return r;
	r = node_update(s, req->node, true, create_bgp_fn, &cb, reterr);
	store_unlock(lock);
	return r;
}

static int
check_router_ip(const struct prefix *p, int family, struct lf_err *reterr)
{
	if (!p->addr.family)
		return 0;
	if (p->addr.family != family || p->len == 0 || p->len > prefix_maxlen(family))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "--router-ip: give the node's IPv%d address and prefix "
				  "length, e.g. --router-ip=%s", family == AF_INET ? 4 : 6,
				  family == AF_INET ? "10.0.0.1/24" : "fd00::1/64");
	return bgpconf_check_peer_addr(&p->addr, "--router-ip", reterr);
}

static int
node_set_fn(struct store *s, struct bgp_node *n, const void *arg, struct lf_err *reterr)
{
	const struct bgp_node_set_req *req = arg;

	(void)s;
	(void)reterr;
	if (req->set_as)
		n->as = req->as;
	if (req->router_ip4.addr.family)
		n->router_ip4 = req->router_ip4;
	if (req->router_ip6.addr.family)
		n->router_ip6 = req->router_ip6;
	return 0;
}

int
bgpconf_node_set(struct store *s, const struct bgp_node_set_req *req,
		 struct lf_err *reterr)
{
	struct store_lock *lock;
	int r;

	r = bgpconf_check_node_name(req->node, reterr);
	if (r == 0 && !req->set_as && !req->router_ip4.addr.family &&
	    !req->router_ip6.addr.family)
		r = lf_err_set(reterr, LF_E_INVALID, -EINVAL,
			       "nothing to set: give --router-ip=IP/LEN and/or --as=N");
	if (r == 0 && req->set_as && req->as != 0)
		r = bgpconf_check_as(req->as, "--as", reterr);
	if (r == 0)
		r = check_router_ip(&req->router_ip4, AF_INET, reterr);
	if (r == 0)
		r = check_router_ip(&req->router_ip6, AF_INET6, reterr);
	if (r < 0)
		return r;

	r = lock_conf(s, &lock, reterr);
	if (r < 0)
		return r;
	r = node_update(s, req->node, true, node_set_fn, req, reterr);
	store_unlock(lock);
	return r;
}

struct node_rr_req {
	bool on;
	struct ipaddr cluster_id;
};

static int
node_rr_fn(struct store *s, struct bgp_node *n, const void *arg, struct lf_err *reterr)
{
	const struct node_rr_req *req = arg;

	(void)s;
	(void)reterr;
	n->rr = req->on;
	n->cluster_id = req->on ? req->cluster_id : (struct ipaddr){ 0 };
	return 0;
}

int
bgpconf_node_rr(struct store *s, const char *node, bool on, const struct ipaddr *cluster_id,
		struct lf_err *reterr)
{
	struct node_rr_req req = { .on = on };
	struct store_lock *lock;
	int r;

	if ((r = bgpconf_check_node_name(node, reterr)) < 0)
		return r;
	if (cluster_id && cluster_id->family) {
		if (!on)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "--cluster-id goes with 'on': a node that is no route "
					  "reflector has no cluster id");
		if (cluster_id->family != AF_INET)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "--cluster-id: give an IPv4 address (a 32-bit id, "
					  "e.g. --cluster-id=10.0.0.1)");
		/* a 32-bit number written as an address: anything but 0 */
		if (cluster_id->u.v4.s_addr == 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "--cluster-id: 0.0.0.0 is not a cluster id; give a "
					  "non-zero IPv4 address, e.g. --cluster-id=10.0.0.1");
		req.cluster_id = *cluster_id;
	}
	if ((r = lock_conf(s, &lock, reterr)) < 0)
		return r;
	r = node_update(s, node, true, node_rr_fn, &req, reterr);
	store_unlock(lock);
	return r;
}

/* ------------------------------------------------------------ damage */

int
bgpconf_node_remove(struct store *s, const char *name, struct lf_err *reterr)
{
	struct store_lock *lock;
	char key[KEY_MAX], *old_text = NULL;
	int r;

	if ((r = bgpconf_check_node_name(name, reterr)) < 0)
		return r;
	if ((r = lock_conf(s, &lock, reterr)) < 0)
		return r;
	node_key(name, key, sizeof(key));
	r = store_get(s, key, &old_text, NULL);	/* to put back if the bump fails */
	if (r == -ENOENT)
		r = lf_err_set(reterr, LF_E_NOT_FOUND, -ENOENT, "node %s has no record (%s)",
			       name, key);
	else
		r = commit(s, key, NULL, r == 0 ? old_text : NULL, reterr);
	free(old_text);
	store_unlock(lock);
	return r;
}

static int
damaged_add(char ***v, size_t *n, size_t *cap, const char *key, const struct lf_err *e,
	    int r, const char *fix)
{
	char *line;

	if (asprintf(&line, "%s: %s; %s", key, e->msg[0] ? e->msg : strerror(-r), fix) < 0)
		return -ENOMEM;
	if (GROW(*v, *cap, *n + 1) < 0) {
		free(line);
		return -ENOMEM;
	}
	(*v)[(*n)++] = line;
	return 0;
}

int
bgpconf_damaged(struct store *s, char ***ret_lines, size_t *ret_n, struct lf_err *reterr)
{
	char **v = NULL, **names = NULL, key[KEY_MAX], fix[KEY_MAX + 96];
	size_t n = 0, cap = 0, n_names = 0;
	struct bgp_config c;
	struct bgp_node node;
	struct bgp_peer peer;
	struct ipaddr a;
	struct lf_err e = { 0 };
	int r;

	r = bgpconf_get(s, &c, &e);
	if (bgpconf_damaged_err(r) &&
	    (r = damaged_add(&v, &n, &cap, KEY_CONFIG, &e, r, "using the defaults; "
			     "`netctl bgp default-node-as N` or `netctl bgp node-mesh on|off` "
			     "writes it anew")) < 0)
		goto out_free;
	if (r < 0)
		goto out_io;
	if ((r = store_list_all(s, DIR_PEERS, &names, &n_names, NULL)) < 0)
		goto out_io;
	for (size_t i = 0; i < n_names; i++) {
		if (ipaddr_parse(names[i], &a) < 0)
			continue;
		lf_err_clear(&e);
		r = peer_load(s, &a, &peer, NULL, &e);
		if (!bgpconf_damaged_err(r))
			continue;
		snprintf(key, sizeof(key), DIR_PEERS "/%s", names[i]);
		snprintf(fix, sizeof(fix), "skipped; remove it with `netctl bgp peer remove %s`",
			 names[i]);
		if ((r = damaged_add(&v, &n, &cap, key, &e, r, fix)) < 0)
			goto out_free;
	}
	store_names_free(names, n_names);
	names = NULL;
	n_names = 0;
	if ((r = store_list_all(s, DIR_NODES, &names, &n_names, NULL)) < 0)
		goto out_io;
	for (size_t i = 0; i < n_names; i++) {
		if (!bgpconf_node_name_valid(names[i]))
			continue;
		lf_err_clear(&e);
		r = node_load(s, names[i], &node, NULL, &e);
		if (r == 0)
			bgpconf_node_done(&node);
		if (!bgpconf_damaged_err(r))
			continue;
		snprintf(key, sizeof(key), DIR_NODES "/%s", names[i]);
		snprintf(fix, sizeof(fix), "skipped; remove it with `netctl node rm %s`",
			 names[i]);
		if ((r = damaged_add(&v, &n, &cap, key, &e, r, fix)) < 0)
			goto out_free;
	}
	*ret_lines = v;
	*ret_n = n;
	v = NULL;
	n = 0;
	r = 0;
	goto out_free;
out_io:
	(void)store_err_set(reterr, LF_E_IO, r, "checking the BGP records");
out_free:
	store_names_free(v, n);
	store_names_free(names, n_names);
	return r;
}
