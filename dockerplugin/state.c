/* state.c — leafnet-docker's own records in the store, so that a restarted
 * plugin still knows what Docker's IDs mean when Docker comes back with
 * Leave / DeleteEndpoint / ReleaseAddress / ReleasePool:
 *
 *   docker/pools/<poolid>     {"cidr","network","gateway","refs"}
 *   docker/networks/<netid>   {"network","created","mtu"}
 *   docker/endpoints/<epid>   {"netid","network","src_name","addrs":[..],
 *                              "allocated","mtu"}
 *
 * Pool and network records change under the store lock "docker"
 * (dp_lock); an endpoint record is written once (exclusive create) and
 * deleted once, and Docker serialises the calls for one endpoint. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"
#include "err.h"
#include "json.h"
#include "store.h"

#define DP_KEY_MAX 160

static void
key_of(char *buf, size_t size, const char *dir, const char *id)
{
	snprintf(buf, size, "docker/%s/%s", dir, id);
}

int
dp_lock(struct dp *d, struct store_lock **ret, struct lf_err *reterr)
{
	int r = store_lock(d->s, "docker", ret, reterr);

	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r,
				     "cannot lock the docker mapping in %s", d->conf.state_dir);
	return 0;
}

/* Read and parse one record; -ENOENT when absent, -EINVAL when unreadable. */
static int
rec_get(struct dp *d, const char *dir, const char *id, cJSON **ret)
{
	char key[DP_KEY_MAX], *text = NULL;
	int r;

	if (!dp_id_valid(id))
		return -EINVAL;
	key_of(key, sizeof(key), dir, id);
	r = store_get(d->s, key, &text, NULL);
	if (r < 0)
		return r;
	*ret = cJSON_Parse(text);
	free(text);
	return *ret ? 0 : -EINVAL;
}

static int
rec_put(struct dp *d, const char *dir, const char *id, cJSON *o, bool create)
{
	char key[DP_KEY_MAX], *text;
	int r;

	if (!o)
		return -ENOMEM;
	text = json_print(o);
	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	key_of(key, sizeof(key), dir, id);
	r = create ? store_create(d->s, key, text, NULL) : store_put(d->s, key, text, NULL);
	free(text);
	return r;
}

static int
rec_del(struct dp *d, const char *dir, const char *id)
{
	char key[DP_KEY_MAX];

	if (!dp_id_valid(id))
		return -EINVAL;
	key_of(key, sizeof(key), dir, id);
	return store_delete(d->s, key, NULL);
}

static void
get_s(const cJSON *o, const char *k, char *buf, size_t size)
{
	if (json_get_str(o, k, buf, size, false, NULL, NULL) < 0)
		buf[0] = '\0';
}

static unsigned
get_u(const cJSON *o, const char *k)
{
	uint32_t v = 0;

	(void)json_get_u32(o, k, &v, false, NULL, NULL);
	return v;
}

static bool
get_b(const cJSON *o, const char *k)
{
	bool v = false;

	(void)json_get_bool(o, k, &v, false, NULL, NULL);
	return v;
}

int
dp_pool_get(struct dp *d, const char *poolid, struct dp_pool_rec *ret)
{
	struct dp_pool_rec p;
	char buf[PREFIX_STRLEN];
	cJSON *o;
	int r;

	if ((r = rec_get(d, "pools", poolid, &o)) < 0)
		return r;
	memset(&p, 0, sizeof(p));
	get_s(o, "cidr", buf, sizeof(buf));
	r = prefix_parse(buf, 0, &p.cidr);
	get_s(o, "network", p.network, sizeof(p.network));
	get_s(o, "gateway", buf, sizeof(buf));
	if (buf[0] && ipaddr_parse(buf, &p.gateway) < 0)
		r = -EINVAL;
	p.refs = get_u(o, "refs");
	cJSON_Delete(o);
	if (r < 0)
		return -EINVAL;
	*ret = p;
	return 0;
}

int
dp_pool_put(struct dp *d, const char *poolid, const struct dp_pool_rec *p)
{
	char g[IPADDR_STRLEN] = "";
	cJSON *o = cJSON_CreateObject();

	if (ipaddr_is_set(&p->gateway))
		ipaddr_fmt(&p->gateway, g, sizeof(g));
	if (o && (!json_add_prefix(o, "cidr", &p->cidr) ||
		  !cJSON_AddStringToObject(o, "network", p->network) ||
		  !cJSON_AddStringToObject(o, "gateway", g) ||
		  !cJSON_AddNumberToObject(o, "refs", p->refs))) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return rec_put(d, "pools", poolid, o, false);
}

int
dp_pool_del(struct dp *d, const char *poolid)
{
	return rec_del(d, "pools", poolid);
}

int
dp_net_get(struct dp *d, const char *netid, struct dp_net_rec *ret)
{
	struct dp_net_rec n;
	cJSON *o;
	int r;

	if ((r = rec_get(d, "networks", netid, &o)) < 0)
		return r;
	memset(&n, 0, sizeof(n));
	get_s(o, "network", n.network, sizeof(n.network));
	n.created = get_b(o, "created");
	n.mtu = get_u(o, "mtu");
	cJSON_Delete(o);
	if (!n.network[0])
		return -EINVAL;
	*ret = n;
	return 0;
}

int
dp_net_put(struct dp *d, const char *netid, const struct dp_net_rec *n)
{
	cJSON *o = cJSON_CreateObject();

	if (o && (!cJSON_AddStringToObject(o, "network", n->network) ||
		  !cJSON_AddBoolToObject(o, "created", n->created) ||
		  !cJSON_AddNumberToObject(o, "mtu", n->mtu))) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return rec_put(d, "networks", netid, o, false);
}

int
dp_net_del(struct dp *d, const char *netid)
{
	return rec_del(d, "networks", netid);
}

int
dp_net_users(struct dp *d, const char *network, const char *except_netid, size_t *ret_n)
{
	char **names = NULL;
	size_t n = 0, users = 0;
	int r;

	r = store_list(d->s, "docker/networks", &names, &n, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct dp_net_rec rec;

		if (except_netid && !strcmp(names[i], except_netid))
			continue;
		if (dp_net_get(d, names[i], &rec) == 0 && !strcmp(rec.network, network))
			users++;
	}
	store_names_free(names, n);
	*ret_n = users;
	return 0;
}

int
dp_ep_get(struct dp *d, const char *epid, struct dp_ep_rec *ret)
{
	struct dp_ep_rec e;
	const cJSON *arr = NULL, *it;
	cJSON *o;
	int r;

	if ((r = rec_get(d, "endpoints", epid, &o)) < 0)
		return r;
	memset(&e, 0, sizeof(e));
	get_s(o, "netid", e.netid, sizeof(e.netid));
	get_s(o, "network", e.network, sizeof(e.network));
	get_s(o, "src_name", e.src_name, sizeof(e.src_name));
	e.allocated = get_b(o, "allocated");
	e.mtu = get_u(o, "mtu");
	r = 0;
	if (json_get_arr(o, "addrs", &arr, false, NULL, NULL) == 0) {
		cJSON_ArrayForEach(it, arr) {
			if (e.n_addrs >= 2 || !cJSON_IsString(it) ||
			    prefix_parse(it->valuestring, PREFIX_F_HOST_BITS,
					 &e.addrs[e.n_addrs]) < 0) {
				r = -EINVAL;
				break;
			}
			e.n_addrs++;
		}
	}
	cJSON_Delete(o);
	if (r < 0 || !e.network[0] || !e.src_name[0])
		return -EINVAL;
	*ret = e;
	return 0;
}

int
dp_ep_create(struct dp *d, const char *epid, const struct dp_ep_rec *e)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	char s[PREFIX_STRLEN];

	if (!o)
		return -ENOMEM;
	arr = cJSON_AddArrayToObject(o, "addrs");
	if (!arr || !cJSON_AddStringToObject(o, "netid", e->netid) ||
	    !cJSON_AddStringToObject(o, "network", e->network) ||
	    !cJSON_AddStringToObject(o, "src_name", e->src_name) ||
	    !cJSON_AddBoolToObject(o, "allocated", e->allocated) ||
	    !cJSON_AddNumberToObject(o, "mtu", e->mtu))
		goto out_free;
	for (size_t i = 0; i < e->n_addrs; i++) {
		cJSON *str = cJSON_CreateString(prefix_fmt(&e->addrs[i], s, sizeof(s)));

		if (!str)
			goto out_free;
		cJSON_AddItemToArray(arr, str);
	}
	return rec_put(d, "endpoints", epid, o, true);

out_free:
	cJSON_Delete(o);
	return -ENOMEM;
}

int
dp_ep_del(struct dp *d, const char *epid)
{
	return rec_del(d, "endpoints", epid);
}
