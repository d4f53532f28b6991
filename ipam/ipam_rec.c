/* ipam_rec.c — store keys and JSON records of the IPAM (see ipam_private.h
 * for the layout). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>

#include "err.h"
#include "hash.h"
#include "json.h"
#include "store.h"
#include "network.h"
#include "ipam.h"
#include "ipam_private.h"

int
ipam_name_check(const char *name, struct lf_err *reterr)
{
	if (!name || !network_name_valid(name))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "network name \"%s\" is invalid: use 1-63 characters "
				  "[A-Za-z0-9_.-] starting with a letter or digit",
				  name ? name : "");
	return 0;
}

int
ipam_lock(struct store *s, const char *net, struct store_lock **ret,
	  struct lf_err *reterr)
{
	char name[IPAM_KEY_MAX];
	int r;

	if (snprintf(name, sizeof(name), "ipam-%s", net) >= (int)sizeof(name))
		return lf_err_set(reterr, LF_E_IO, -ENAMETOOLONG, "cannot lock network %s: %s",
				  net, strerror(ENAMETOOLONG));
	r = store_lock(s, name, ret, reterr);
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "cannot lock network %s", net);
	return r;
}

int
ipam_lock_local(struct store *s, const char *net, struct store_lock **ret,
		struct lf_err *reterr)
{
	char name[IPAM_KEY_MAX];
	int r;

	/* not "ipam-<net>": on the file backend local locks and store locks
	 * share one directory, and this one must not exclude GC and admin */
	if (snprintf(name, sizeof(name), "ipam-local-%s", net) >= (int)sizeof(name))
		return lf_err_set(reterr, LF_E_IO, -ENAMETOOLONG, "cannot lock network %s: %s",
				  net, strerror(ENAMETOOLONG));
	r = store_lock_local(s, name, ret, reterr);
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "cannot lock network %s on this host",
				     net);
	return r;
}

int
ipam_key_alloc(char *buf, size_t size, const char *net, const struct ipaddr *a)
{
	char abuf[IPADDR_STRLEN];

	if (!ipaddr_fmt(a, abuf, sizeof(abuf)))
		return -EINVAL;
	if (snprintf(buf, size, "alloc/%s/%s", net, abuf) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

int
ipam_key_block(char *buf, size_t size, const char *net, const struct prefix *p)
{
	char pbuf[PREFIX_STRLEN];
	char *slash;

	if (!prefix_fmt(p, pbuf, sizeof(pbuf)))
		return -EINVAL;
	slash = strchr(pbuf, '/');
	if (slash)
		*slash = '_';
	if (snprintf(buf, size, "blocks/%s/%s", net, pbuf) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

int
ipam_list_names(struct store *s, const char *kind, const char *net, char ***ret,
		size_t *ret_n)
{
	char dir[IPAM_KEY_MAX];

	if (snprintf(dir, sizeof(dir), "%s/%s", kind, net) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	return store_list(s, dir, ret, ret_n, NULL);
}

/* "<16 hex digits>-<ifname>": bounded, filesystem safe, and still readable
 * by a person looking at the state directory. */
int
ipam_key_owner(char *buf, size_t size, const char *net, const char *cid,
	       const char *ifname)
{
	char safe[IPAM_IFNAME_MAX];
	uint64_t h = HASH_FNV64_INIT;
	size_t i;

	h = hash_fnv1a64(h, cid, strlen(cid) + 1);	/* with the NUL separator */
	h = hash_fnv1a64(h, ifname, strlen(ifname));
	for (i = 0; ifname[i] && i < sizeof(safe) - 1; i++) {
		unsigned char c = (unsigned char)ifname[i];
		safe[i] = (isalnum(c) || c == '.' || c == '_' || c == '-') ? (char)c : '_';
	}
	safe[i] = '\0';
	if (snprintf(buf, size, "owners/%s/%016" PRIx64 "-%s", net, h, safe) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

bool
ipam_rec_broken(int r)
{
	return r < 0 && r != -ENOENT && r != -ENOMEM && r != -ENOTUNIQ &&
	       r != -ENAMETOOLONG && !store_err_transient(r);
}

static int
names_merge(char ***a, size_t *na, char **b, size_t nb)
{
	char **v;

	if (nb == 0)
		return 0;
	v = realloc(*a, (*na + nb) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	memcpy(v + *na, b, nb * sizeof(*v));
	*a = v;
	*na += nb;
	free(b);
	return 0;
}

int
ipam_alloc_names(struct store *s, const char *net, char ***ret, size_t *ret_n)
{
	char dir[IPAM_KEY_MAX], **names, **dirs;
	size_t n, n_dirs;
	int r;

	if (snprintf(dir, sizeof(dir), "alloc/%s", net) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if ((r = store_list(s, dir, &names, &n, NULL)) < 0)
		return r;
	if ((r = store_list_dirs(s, dir, &dirs, &n_dirs, NULL)) < 0) {
		store_names_free(names, n);
		return r;
	}
	if ((r = names_merge(&names, &n, dirs, n_dirs)) < 0) {
		store_names_free(names, n);
		store_names_free(dirs, n_dirs);
		return r;
	}
	*ret = names;
	*ret_n = n;
	return 0;
}

int
ipam_owner_recover(struct store *s, const char *net, const char *cid, const char *ifname,
		   struct ipaddr *ret, bool *ret_broken, size_t max, size_t *ret_n)
{
	char okey[IPAM_KEY_MAX], akey[IPAM_KEY_MAX];
	struct ipam_record rec;
	struct ipaddr a;
	char **names;
	size_t n_names, n = 0;
	int r;

	if ((r = ipam_key_owner(okey, sizeof(okey), net, cid, ifname)) < 0)
		return r;
	if ((r = ipam_alloc_names(s, net, &names, &n_names)) < 0)
		return r;
	for (size_t i = 0; i < n_names && n < max; i++) {
		if (ipaddr_parse(names[i], &a) < 0)
			continue;
		r = ipam_record_get(s, net, &a, &rec);
		if (r == 0 && ipam_owner_is(&rec.owner, cid, ifname)) {
			ret_broken[n] = false;
			ret[n++] = a;
		} else if (ipam_rec_broken(r)) {
			if (ipam_key_alloc(akey, sizeof(akey), net, &a) == 0 &&
			    store_same_record(s, akey, okey, NULL) == 1) {
				ret_broken[n] = true;
				ret[n++] = a;
			}
		} else if (r < 0 && r != -ENOENT) {
			store_names_free(names, n_names);
			return r;
		}
	}
	store_names_free(names, n_names);
	*ret_n = n;
	return 0;
}

bool
ipam_owner_is(const struct ipam_owner *o, const char *cid, const char *ifname)
{
	return strcmp(o->container_id, cid) == 0 && strcmp(o->ifname, ifname) == 0;
}

static int
owner_from_json(const cJSON *o, struct ipam_owner *ret)
{
	int r;

	r = json_get_str(o, "container_id", ret->container_id,
			 sizeof(ret->container_id), true, NULL, NULL);
	if (r < 0)
		return -EINVAL;
	r = json_get_str(o, "ifname", ret->ifname, sizeof(ret->ifname), true, NULL, NULL);
	if (r < 0)
		return -EINVAL;
	r = json_get_str(o, "handle", ret->handle, sizeof(ret->handle), false, NULL, NULL);
	if (r < 0 && r != -ENOENT)
		return -EINVAL;
	return 0;
}

/* The JSON record under key: -ENOENT when absent, -EINVAL when unreadable. */
static int
record_json_load(struct store *s, const char *key, cJSON **ret)
{
	char *text;
	int r;

	r = store_get(s, key, &text, NULL);
	if (r < 0)
		return r;
	r = json_parse(text, ret, NULL);
	free(text);
	return r < 0 ? -EINVAL : 0;
}

/* "created" in seconds, 0 when absent or not a positive number. */
static time_t
record_created(const cJSON *o)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "created");

	return cJSON_IsNumber(c) && c->valuedouble > 0 ? (time_t)c->valuedouble : 0;
}

/* The parts of a record both parsers share; o is the parsed JSON. */
static int
record_from_json(const cJSON *o, const char *net, const struct ipaddr *a,
		 struct ipam_record *ret)
{
	struct ipam_record rec;
	int r;

	memset(&rec, 0, sizeof(rec));
	rec.addr = *a;
	snprintf(rec.network, sizeof(rec.network), "%s", net);
	r = owner_from_json(o, &rec.owner);
	if (r == 0 && json_get_str(o, "node", rec.node, sizeof(rec.node), false, NULL, NULL) == -EINVAL)
		r = -EINVAL;
	rec.created = record_created(o);
	if (r < 0)
		return r;
	*ret = rec;
	return 0;
}

int
ipam_record_parse(const char *text, const char *net, const struct ipaddr *a,
		  struct ipam_record *ret)
{
	cJSON *o;
	int r;

	if (json_parse(text, &o, NULL) < 0)
		return -EINVAL;
	r = record_from_json(o, net, a, ret);
	cJSON_Delete(o);
	return r;
}

int
ipam_record_get(struct store *s, const char *net, const struct ipaddr *a,
		struct ipam_record *ret)
{
	char key[IPAM_KEY_MAX];
	cJSON *o;
	int r;

	r = ipam_key_alloc(key, sizeof(key), net, a);
	if (r < 0)
		return r;
	r = record_json_load(s, key, &o);
	if (r < 0)
		return r;
	r = record_from_json(o, net, a, ret);
	cJSON_Delete(o);
	return r;
}

static int
index_from_json(const cJSON *o, struct ipam_index *ret)
{
	struct ipam_index x;
	const cJSON *arr, *it;
	int r;

	memset(&x, 0, sizeof(x));
	r = owner_from_json(o, &x.owner);
	if (r < 0)
		return r;
	(void)json_get_str(o, "node", x.node, sizeof(x.node), false, NULL, NULL);
	x.created = record_created(o);
	r = json_get_arr(o, "addrs", &arr, true, NULL, NULL);
	if (r < 0)
		return -EINVAL;
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || x.n_addrs == IPAM_MAX_ADDRS ||
		    ipaddr_parse(it->valuestring, &x.addrs[x.n_addrs]) < 0)
			continue;
		x.n_addrs++;
	}
	*ret = x;
	return 0;
}

int
ipam_index_parse(const char *text, struct ipam_index *ret)
{
	cJSON *o;
	int r;

	if (json_parse(text, &o, NULL) < 0)
		return -EINVAL;
	r = index_from_json(o, ret);
	cJSON_Delete(o);
	return r;
}

int
ipam_index_read(struct store *s, const char *key, struct ipam_index *ret)
{
	cJSON *o;
	int r;

	r = record_json_load(s, key, &o);
	if (r < 0)
		return r;
	r = index_from_json(o, ret);
	cJSON_Delete(o);
	return r;
}

int
ipam_get_ver(struct store *s, const char *key, char **ret_text, char *ret_ver)
{
	struct store_kv kv = { .key = key };
	int r;

	r = store_get_many(s, &kv, 1, NULL);
	if (r < 0)
		return r;
	snprintf(ret_ver, STORE_VER_MAX, "%s", kv.ver);
	if (!kv.val)
		return kv.ver[0] ? -EISDIR : -ENOENT;
	*ret_text = kv.val;
	return 0;
}

int
ipam_delete_cas(struct store *s, const char *key, const char *ver)
{
	const struct store_cmp cmp = { .key = key, .ver = ver };
	const struct store_op op = { .key = key, .val = NULL };

	return store_txn(s, &cmp, 1, &op, 1, STORE_F_VOLATILE, NULL, NULL);
}

int
ipam_index_get(struct store *s, const char *net, const char *cid,
	       const char *ifname, struct ipam_index *ret)
{
	char key[IPAM_KEY_MAX];
	struct ipam_index x;
	int r;

	r = ipam_key_owner(key, sizeof(key), net, cid, ifname);
	if (r < 0)
		return r;
	r = ipam_index_read(s, key, &x);
	if (r < 0)
		return r;
	if (!ipam_owner_is(&x.owner, cid, ifname))
		return -ENOTUNIQ;	/* hash collision: not ours */
	*ret = x;
	return 0;
}

char *
ipam_index_to_json(const struct ipam_index *x)
{
	char abuf[IPADDR_STRLEN];
	cJSON *o, *arr = NULL;
	char *text = NULL;
	bool ok;

	o = cJSON_CreateObject();
	if (!o)
		return NULL;
	ok = cJSON_AddStringToObject(o, "container_id", x->owner.container_id) &&
	     cJSON_AddStringToObject(o, "ifname", x->owner.ifname) &&
	     cJSON_AddStringToObject(o, "handle", x->owner.handle) &&
	     cJSON_AddStringToObject(o, "node", x->node) &&
	     (x->created == 0 || cJSON_AddNumberToObject(o, "created", (double)x->created)) &&
	     (arr = cJSON_AddArrayToObject(o, "addrs"));
	for (size_t i = 0; ok && i < x->n_addrs; i++) {
		cJSON *v = cJSON_CreateString(ipaddr_fmt(&x->addrs[i], abuf, sizeof(abuf)));
		ok = v && cJSON_AddItemToArray(arr, v);
	}
	if (ok)
		text = json_print(o);
	cJSON_Delete(o);
	return text;
}

int
ipam_index_put(struct store *s, const char *net, const struct ipam_index *x)
{
	char key[IPAM_KEY_MAX];
	char *text;
	int r;

	r = ipam_key_owner(key, sizeof(key), net, x->owner.container_id, x->owner.ifname);
	if (r < 0)
		return r;
	if (x->n_addrs == 0) {
		r = store_delete_ex(s, key, STORE_F_VOLATILE, NULL);
		return r == -ENOENT ? 0 : r;
	}
	text = ipam_index_to_json(x);
	if (!text)
		return -ENOMEM;
	r = store_put_ex(s, key, text, STORE_F_VOLATILE, NULL);
	free(text);
	return r;
}

static int
block_cmp(const void *a, const void *b)
{
	const struct ipam_block *x = a, *y = b;
	int c = ipaddr_cmp(&x->cidr.addr, &y->cidr.addr);

	return c ? c : (int)x->cidr.len - (int)y->cidr.len;
}

_Static_assert(sizeof(((struct ipam_block *)0)->ver) == STORE_VER_MAX,
	       "struct ipam_block's ver holds a store version");

void
ipam_block_parse(const char *text, const struct prefix *cidr, struct ipam_block *ret)
{
	cJSON *o;

	memset(ret, 0, sizeof(*ret));
	ret->cidr = *cidr;
	if (json_parse(text, &o, NULL) == 0) {
		(void)json_get_str(o, "node", ret->node, sizeof(ret->node), false, NULL, NULL);
		ret->lent = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "lent"));
		cJSON_Delete(o);
	}
}

/* The claim record of block cidr under key. */
static int
block_read(struct store *s, const char *key, const struct prefix *cidr,
	   struct ipam_block *ret)
{
	char *text;
	int r;

	r = store_get(s, key, &text, NULL);
	if (r < 0)
		return r;
	ipam_block_parse(text, cidr, ret);
	free(text);
	return 0;
}

/* A block's name under blocks/<net>/ ("10.0.0.0_26") back to its prefix. */
static int
block_name_parse(const char *name, struct prefix *ret)
{
	char pbuf[PREFIX_STRLEN];
	char *us;

	if (snprintf(pbuf, sizeof(pbuf), "%s", name) >= (int)sizeof(pbuf))
		return -EINVAL;
	us = strrchr(pbuf, '_');
	if (!us)
		return -EINVAL;
	*us = '/';
	return prefix_parse(pbuf, 0, ret) < 0 ? -EINVAL : 0;
}

int
ipam_block_event(const char *key, const char *val, struct prefix *ret_cidr, char *ret_node,
		 size_t node_size)
{
	const char *name;
	struct ipam_block b;

	if (strncmp(key, "blocks/", 7) != 0 || (name = strrchr(key + 7, '/')) == NULL ||
	    block_name_parse(name + 1, ret_cidr) < 0)
		return -EINVAL;
	ipam_block_parse(val ? val : "", ret_cidr, &b);
	snprintf(ret_node, node_size, "%s", b.node);
	return 0;
}

/* Claims read per store_get_many(): etcd's default limit is 128
 * operations per txn, the store's own STORE_TXN_MAX (64). */
#define BLOCKS_PER_READ 64

/* The names listed once, then the claims BLOCKS_PER_READ at a time: etcd
 * two requests for up to 64 blocks, not one per block (leafnetd lists
 * every network's blocks after every claim anywhere; with a get per block
 * a 50-host cluster's first ADDs cost etcd 80-130 Range requests per pod,
 * cluster_bench). */
int
ipam_blocks_load(struct store *s, const char *net, struct ipam_block **ret, size_t *ret_n)
{
	char (*keys)[IPAM_KEY_MAX] = NULL;
	struct store_kv kv[BLOCKS_PER_READ];
	struct ipam_block *v = NULL;
	struct prefix *cidrs = NULL;
	char **names;
	size_t n_names, n = 0, n_keys = 0;
	int r;

	r = ipam_list_names(s, "blocks", net, &names, &n_names);
	if (r < 0)
		return r;
	if (n_names > 0) {
		v = calloc(n_names, sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			goto out_free_names;
		}
	}
	if (n_names > 0) {
		keys = calloc(n_names, sizeof(*keys));
		cidrs = calloc(n_names, sizeof(*cidrs));
		if (!keys || !cidrs) {
			r = -ENOMEM;
			goto out_free_blocks;
		}
	}
	for (size_t i = 0; i < n_names; i++) {
		if (block_name_parse(names[i], &cidrs[n_keys]) < 0 ||
		    snprintf(keys[n_keys], IPAM_KEY_MAX, "blocks/%s/%s", net, names[i]) >=
		    IPAM_KEY_MAX)
			continue;
		n_keys++;
	}
	for (size_t i = 0; i < n_keys; i += BLOCKS_PER_READ) {
		size_t m = n_keys - i < BLOCKS_PER_READ ? n_keys - i : BLOCKS_PER_READ;

		memset(kv, 0, sizeof(kv));
		for (size_t j = 0; j < m; j++)
			kv[j].key = keys[i + j];
		r = store_get_many(s, kv, m, NULL);
		if (r < 0)
			goto out_free_blocks;
		for (size_t j = 0; j < m; j++)
			if (kv[j].val) {	/* released since the listing: gone */
				ipam_block_parse(kv[j].val, &cidrs[i + j], &v[n]);
				memcpy(v[n++].ver, kv[j].ver, sizeof(v[0].ver));
			}
		store_kv_free(kv, m);
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), block_cmp);
	*ret = v;
	*ret_n = n;
	v = NULL;
	r = 0;
out_free_blocks:
	free(v);
	free(keys);
	free(cidrs);
out_free_names:
	store_names_free(names, n_names);
	return r;
}

long
ipam_block_find(const struct ipam_block *b, size_t n, const struct ipaddr *a)
{
	size_t lo = 0, hi = n;

	/* last block starting at or before a */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ipaddr_cmp(&b[mid].cidr.addr, a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Walking back, the first block holding a is the innermost (nested
	 * blocks sort after their parent).  A parent holding a holds every
	 * block between it and a, and a block holds at most
	 * 2^IPAM_SPLIT_DEPTH nested ones (ipam_split.c): so few steps. */
	for (size_t i = lo, steps = 0; i-- > 0 && steps <= (1U << IPAM_SPLIT_DEPTH); steps++)
		if (prefix_contains(&b[i].cidr, a))
			return (long)i;
	return -1;
}

static int
addr_cmp(const void *a, const void *b)
{
	return ipaddr_cmp(a, b);
}

int
ipam_used_load(struct store *s, const char *net, struct ipaddr **ret, size_t *ret_n)
{
	struct ipaddr *v = NULL;
	char **names;
	size_t n_names, n = 0;
	int r;

	r = ipam_alloc_names(s, net, &names, &n_names);
	if (r < 0)
		return r;
	if (n_names > 0) {
		v = calloc(n_names, sizeof(*v));
		if (!v) {
			store_names_free(names, n_names);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < n_names; i++)
		if (ipaddr_parse(names[i], &v[n]) == 0)
			n++;
	store_names_free(names, n_names);
	if (n > 1)
		qsort(v, n, sizeof(*v), addr_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

bool
ipam_used_has(const struct ipaddr *used, size_t n, const struct ipaddr *a)
{
	return n > 0 && bsearch(a, used, n, sizeof(*used), addr_cmp) != NULL;
}

unsigned
ipam_block_len(const struct network *n, const struct network_subnet *sn)
{
	int fam = sn->cidr.addr.family;
	unsigned len = fam == AF_INET6 ? n->block_size6 : n->block_size4;

	/* a subnet smaller than a block is a single block */
	if (len < sn->cidr.len)
		len = sn->cidr.len;
	if (len > prefix_maxlen(fam))
		len = prefix_maxlen(fam);
	return len;
}

int
ipam_nested_get(struct store *s, const char *net, const struct prefix *top,
	   const struct ipaddr *a, struct ipam_block *ret)
{
	char keys[IPAM_SPLIT_DEPTH + 1][IPAM_KEY_MAX];
	struct store_kv kv[IPAM_SPLIT_DEPTH + 1];
	int n, r;

	n = ipam_nested_keys(net, top, a, ipam_split_min_len(top->len, a->family),
			     keys, IPAM_SPLIT_DEPTH + 1);
	if (n <= 0)
		return n;
	memset(kv, 0, sizeof(kv));
	for (int i = 0; i < n; i++)
		kv[i].key = keys[i];
	r = store_get_many(s, kv, (size_t)n, NULL);
	if (r < 0)
		return r;
	for (int i = n; i-- > 0;) {	/* the longest is the innermost */
		cJSON *o;

		if (!kv[i].val && !kv[i].ver[0])
			continue;	/* absent ("dir": damaged, counts as taken) */
		memset(ret, 0, sizeof(*ret));
		ret->cidr.addr = *a;
		ret->cidr.len = (uint8_t)(top->len + 1 + i);
		prefix_mask(&ret->cidr);
		if (kv[i].val && json_parse(kv[i].val, &o, NULL) == 0) {
			(void)json_get_str(o, "node", ret->node, sizeof(ret->node), false,
					   NULL, NULL);
			cJSON_Delete(o);
		}
		store_kv_free(kv, (size_t)n);
		return 1;
	}
	store_kv_free(kv, (size_t)n);
	return 0;
}

int
ipam_block_get(struct store *s, const struct network *n, const struct ipaddr *a,
	       struct ipam_block *ret)
{
	char key[IPAM_KEY_MAX];
	const struct network_subnet *sn = NULL;
	struct prefix p;
	int r;

	for (size_t i = 0; i < n->n_subnets && !sn; i++)
		if (prefix_contains(&n->subnets[i].cidr, a))
			sn = &n->subnets[i];
	if (!sn)
		return -ENOENT;
	p.addr = *a;
	p.len = (uint8_t)ipam_block_len(n, sn);
	prefix_mask(&p);
	r = ipam_key_block(key, sizeof(key), n->name, &p);
	if (r < 0)
		return -EINVAL;
	r = block_read(s, key, &p, ret);
	if (r < 0 || !ret->lent)
		return r;	/* nothing nested in it: one read, as before */
	r = ipam_nested_get(s, n->name, &p, a, ret);
	return r < 0 ? r : 0;
}

int
ipam_addr_describe(struct store *s, const struct network *n, const char *node,
		   const struct ipaddr *a, struct ipam_addr *ret)
{
	const struct network_subnet *sn = network_subnet_for(n, a->family);
	struct ipam_block b;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->addr = *a;
	if (sn) {
		ret->subnet = sn->cidr;
		ret->gateway = sn->gateway;
	}
	r = ipam_block_get(s, n, a, &b);
	if (r == 0) {
		ret->block = b.cidr;
		ret->borrowed = strcmp(b.node, node) != 0;
		return 0;
	}
	/* in no claimed block (a static address): a host route */
	prefix_from_addr(a, &ret->block);
	ret->borrowed = true;
	return r == -ENOENT || r == -EINVAL ? 0 : r;
}

int
ipam_delete_broken(struct store *s, const char *net, const struct ipaddr *a)
{
	char key[IPAM_KEY_MAX], ver[STORE_VER_MAX], *text;
	struct ipam_record rec;
	int r;

	if ((r = ipam_key_alloc(key, sizeof(key), net, a)) < 0)
		return r;
	r = ipam_get_ver(s, key, &text, ver);
	if (r == 0) {
		r = ipam_record_parse(text, net, a, &rec);
		free(text);
		if (r == 0)
			return -EAGAIN;	/* readable now: a new allocation */
	} else if (r != -EISDIR) {
		return r;
	}
	if (strcmp(ver, "dir") == 0)	/* a directory: no version to keep */
		return store_delete_ex(s, key, STORE_F_VOLATILE, NULL);
	return ipam_delete_cas(s, key, ver);
}

int
ipam_release_locked(struct store *s, const char *net, const struct ipam_record *r)
{
	char key[IPAM_KEY_MAX], okey[IPAM_KEY_MAX], ver[STORE_VER_MAX];
	struct ipam_record cur;
	struct ipam_index x;
	size_t j = 0;
	char *text;
	int ret;

	/* ADDs and DELs take no network lock (ipam.c): what was read is
	 * deleted only if it is still that value (compare-and-delete), so an
	 * address released and handed out again meanwhile stays allocated */
	ret = ipam_key_alloc(key, sizeof(key), net, &r->addr);
	if (ret < 0)
		return ret;
	ret = ipam_get_ver(s, key, &text, ver);
	if (ret == -ENOENT)
		return 0;
	if (ret == 0) {
		ret = ipam_record_parse(text, net, &r->addr, &cur);
		free(text);
		if (ret == 0 && (!ipam_owner_is(&cur.owner, r->owner.container_id,
						r->owner.ifname) || cur.created != r->created))
			return 0;	/* handed to someone else meanwhile */
	} else if (ret != -EISDIR) {
		return ret;
	}
	ret = ipam_delete_cas(s, key, ver);
	if (ret == -EAGAIN)
		return 0;		/* changed since: not the one judged */
	if (ret < 0)
		return ret;

	/* the owner record, compared too: the owner's own ADD may rewrite it */
	if (ipam_key_owner(okey, sizeof(okey), net, r->owner.container_id, r->owner.ifname) == 0 &&
	    ipam_get_ver(s, okey, &text, ver) == 0) {
		if (ipam_index_parse(text, &x) == 0 &&
		    ipam_owner_is(&x.owner, r->owner.container_id, r->owner.ifname)) {
			for (size_t i = 0; i < x.n_addrs; i++)
				if (!ipaddr_eq(&x.addrs[i], &r->addr))
					x.addrs[j++] = x.addrs[i];
			if (j != x.n_addrs) {
				const struct store_cmp cmp = { okey, ver };
				struct store_op op = { okey, NULL };
				char *nt = NULL;

				x.n_addrs = j;
				if (j > 0 && (nt = ipam_index_to_json(&x)) == NULL)
					goto out;
				op.val = nt;
				/* a conflict: GC mends it otherwise */
				(void)store_txn(s, &cmp, 1, &op, 1, STORE_F_VOLATILE, NULL, NULL);
				free(nt);
			}
		}
out:
		free(text);
	}
	return 1;
}

static int
delete_dir(struct store *s, const char *dir, size_t *ret_n)
{
	char key[IPAM_KEY_MAX];
	char **names;
	size_t n;
	int r;

	r = store_list(s, dir, &names, &n, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (snprintf(key, sizeof(key), "%s/%s", dir, names[i]) >= (int)sizeof(key))
			continue;
		r = store_delete(s, key, NULL);
		if (r < 0 && r != -ENOENT)
			break;
		r = 0;
	}
	store_names_free(names, n);
	if (ret_n)
		*ret_n = n;
	return r;
}

int
ipam_purge_locked(struct store *s, const char *net)
{
	static const char *const dirs[] = { "alloc", "owners", "blocks", "hints" };
	char dir[IPAM_KEY_MAX];
	size_t n_alloc = 0;
	int r;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", dirs[i], net);
		r = delete_dir(s, dir, i == 0 ? &n_alloc : NULL);
		if (r < 0)
			return r;
	}
	return (int)n_alloc;
}

int
ipam_count_locked(struct store *s, const char *net, size_t *ret_n)
{
	char **names;
	size_t n;
	int r;

	r = ipam_alloc_names(s, net, &names, &n);
	if (r < 0)
		return r;
	store_names_free(names, n);
	*ret_n = n;
	return 0;
}
