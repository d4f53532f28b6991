/* fuzz_store_rec.c — libFuzzer target for what the datastore hands back:
 * etcd's answers as the etcd backend reads them (store/store_etcd.c over a
 * fake transport that replays the fuzzer's bytes instead of HTTP), and the
 * records themselves as the layers above parse them, from any backend
 * (networks, BGP config, node records, IPAM allocation and owner records
 * through the in-memory store).
 *
 * Input: byte 0 picks the operation; the rest is a list of etcd answers
 * separated by NUL bytes (for the etcd operations) or one record (for the
 * record operations).  Every failure must be an error with a text; nothing
 * may crash, leak or read past a buffer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgpconf.h"
#include "bgpconf_private.h"
#include "conf.h"
#include "err.h"
#include "ipam.h"
#include "network.h"
#include "store.h"
#include "store_backend.h"
#include "store_etcd.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

/* ---- the fake transport: answers come from the input ---------------- */

static const char *fz_next;		/* the next answer; NULL: none left */
static const char *fz_end;

int
etcd_conn_init(struct etcd_store *e, const struct leafnet_conf *conf, struct lf_err *reterr)
{
	(void)conf;
	(void)reterr;
	e->eps[0] = strdup("http://fuzz:2379");
	if (e->eps[0] == NULL)
		return -ENOMEM;
	e->n_eps = 1;
	return 0;
}

void
etcd_conn_done(struct etcd_store *e)
{
	for (size_t i = 0; i < e->n_eps; i++)
		free(e->eps[i]);
	e->n_eps = 0;
	dbuf_free(&e->resp);
}

int
etcd_post(struct etcd_store *e, const char *path, const char *body, const char *what,
	  cJSON **ret, struct lf_err *reterr)
{
	const char *a = fz_next;
	cJSON *resp;

	(void)e;
	(void)body;
	if (a == NULL || a >= fz_end) {
		lf_err_details(reterr, "etcd http://fuzz:2379: Connection refused (%s)", what);
		return -ECONNREFUSED;
	}
	fz_next = a + strlen(a) + 1;
	resp = cJSON_Parse(a);
	if (resp == NULL || cJSON_GetObjectItemCaseSensitive(resp, "error") != NULL) {
		lf_err_details(reterr, "etcd http://fuzz:2379%s: bad answer (%s)", path, what);
		cJSON_Delete(resp);
		return -EPROTO;
	}
	*ret = resp;
	return 0;
}


/* ---- the target ------------------------------------------------------ */

static void
check_fail(int r, const struct lf_err *e)
{
	CHECK(r < 0);
	CHECK(e == NULL || e->code == 0 || e->msg[0] != '\0');
}

static void
parse_records(const char *text)
{
	struct network n;
	struct bgp_config c;
	struct bgp_node node;
	struct lf_err e = { 0 };
	int r;

	r = network_from_json(text, &n, &e);
	if (r < 0)
		check_fail(r, &e);
	else
		CHECK(network_name_valid(n.name) || n.name[0] == '\0');
	memset(&e, 0, sizeof(e));
	if ((r = bgpconf_config_from_json(text, &c, &e)) < 0)
		check_fail(r, &e);
	memset(&e, 0, sizeof(e));
	if ((r = bgpconf_node_from_json(text, "nodes/n1", &node, &e)) < 0)
		check_fail(r, &e);
	else
		bgpconf_node_done(&node);
}

static void
etcd_ops(int op, const char *answers, size_t len)
{
	static const char *const keys[] = { "alloc/public/10.0.0.5", "owners/public/x-eth0",
					    "networks/public" };
	struct leafnet_conf conf;
	struct lf_err e = { 0 };
	struct store *s = NULL;
	char *val = NULL, **names = NULL;
	size_t n = 0;
	int r;

	conf_defaults(&conf);
	snprintf(conf.datastore, sizeof(conf.datastore), "etcd");
	if (store_open_ops(&store_etcd_ops, &conf, &s, NULL) < 0)
		return;
	fz_next = answers;
	fz_end = answers + len;
	switch (op) {
	case 0:
		r = store_get(s, "networks/public", &val, &e);
		if (r == 0) {
			parse_records(val);
			free(val);
		}
		break;
	case 1:
		r = store_list(s, "alloc/public", &names, &n, &e);
		if (r == 0) {
			for (size_t i = 0; i < n; i++)
				CHECK(names[i] != NULL && strchr(names[i], '/') == NULL);
			store_names_free(names, n);
		}
		break;
	case 2:
		r = store_list_dirs(s, "", &names, &n, &e);
		if (r == 0)
			store_names_free(names, n);
		break;
	case 3:
		r = store_create_many(s, keys, 3, "{}", 0, NULL, &e);
		break;
	case 4:
		r = store_delete(s, "alloc/public/10.0.0.5", &e);
		break;
	default:
		r = store_put(s, "bgp/config", "{}", &e);
		break;
	}
	if (r < 0)
		check_fail(r, &e);
	store_free(s);
}

/* A record as the file or etcd store would return it, read through the
 * layers that use it: IPAM's allocation and owner records, networks. */
static void
mem_ops(int op, const char *rec)
{
	static const char *const where[] = {
		"networks/public", "alloc/public/10.0.0.5", "bgp/config", "nodes/n1",
	};
	struct leafnet_conf conf;
	struct ipam_addr held[IPAM_MAX_ADDRS];
	struct network *nets = NULL;
	struct lf_err e = { 0 };
	struct store *s = NULL;
	size_t n = 0;
	int r;

	conf_defaults(&conf);
	if (store_open_ops(&store_mem_ops, &conf, &s, NULL) < 0)
		return;
	if (store_put(s, where[op % 4], rec, NULL) == 0 &&
	    (op % 4 != 0 && store_put(s, "networks/public",
		"{\"name\":\"public\",\"subnets\":[{\"cidr\":\"10.0.0.0/24\"}]}", NULL) < 0))
		goto out;
	r = network_list(s, &nets, &n, &e);
	if (r < 0)
		check_fail(r, &e);
	free(nets);
	memset(&e, 0, sizeof(e));
	r = ipam_lookup(s, "public", "x", "eth0", held, IPAM_MAX_ADDRS, &n);
	(void)r;
	parse_records(rec);
out:
	store_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	int op;

	if (size < 1 || size > 64 * 1024)
		return 0;
	op = data[0] % 10;
	buf = malloc(size);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	if (op < 6)
		etcd_ops(op, buf, size - 1);
	else
		mem_ops(op - 6, buf);
	free(buf);
	return 0;
}
