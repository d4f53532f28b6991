/* fuzz_docker_req.c — libFuzzer target for leafnet-docker's request
 * bodies: the first byte picks the method's parser (CreateNetwork,
 * CreateEndpoint, Join/Leave/..., RequestPool, ReleasePool, RequestAddress,
 * ReleaseAddress, the -o options), the rest is the HTTP body as Docker
 * would POST it.  A refusal must carry a code and a message; an accepted
 * request must hold only what the handlers rely on (valid ids, bounded
 * counts, prefixes of a known family), and pool ids must round-trip.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dp.h"
#include "err.h"
#include "json.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void
check_err(const struct lf_err *e, int r)
{
	CHECK(r < 0);
	CHECK(e->code != 0 && e->msg[0] != '\0');
}

static void
check_prefix(const struct prefix *p)
{
	CHECK(p->addr.family == 0 || p->addr.family == AF_INET || p->addr.family == AF_INET6);
	CHECK(p->len <= (p->addr.family == AF_INET ? 32 : 128));
}

static void
pool_id_roundtrip(const struct prefix *p)
{
	char id[DP_ID_MAX];
	struct prefix q;

	if (p->addr.family == 0)
		return;
	dp_pool_id(p, id, sizeof(id));
	CHECK(dp_pool_id_parse(id, &q) == 0);
	CHECK(q.len == p->len && q.addr.family == p->addr.family);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lf_err e = { 0 };
	cJSON *o = NULL;
	char *text;
	int r, which;

	if (size < 1 || size > 64 * 1024)
		return 0;
	which = data[0] % 9;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	r = json_parse(text, &o, &e);
	if (r < 0) {
		check_err(&e, r);
		goto out;
	}
	switch (which) {
	case 0: {
		struct dp_create_network cn;

		r = dp_parse_create_network(o, &cn, &e);
		if (r < 0)
			break;
		CHECK(dp_id_valid(cn.netid));
		CHECK(cn.n_ip <= DP_MAX_POOLS);
		for (size_t i = 0; i < cn.n_ip; i++) {
			check_prefix(&cn.ip[i].pool);
			pool_id_roundtrip(&cn.ip[i].pool);
		}
		break;
	}
	case 1: {
		struct dp_create_endpoint ce;

		r = dp_parse_create_endpoint(o, &ce, &e);
		if (r < 0)
			break;
		CHECK(dp_id_valid(ce.netid) && dp_id_valid(ce.epid));
		check_prefix(&ce.addr4);
		check_prefix(&ce.addr6);
		break;
	}
	case 2:
	case 3: {
		struct dp_ids ids;
		char src[IFNAMSIZ];

		r = dp_parse_ids(o, which == 3, &ids, &e);
		if (r < 0)
			break;
		CHECK(dp_id_valid(ids.netid));
		if (which == 3) {
			CHECK(dp_id_valid(ids.epid));
			dp_src_name(ids.epid, src);
			CHECK(strlen(src) < IFNAMSIZ);
		}
		break;
	}
	case 4: {
		struct dp_pool_req pr;

		r = dp_parse_request_pool(o, &pr, &e);
		if (r < 0)
			break;
		check_prefix(&pr.pool);
		check_prefix(&pr.subpool);
		pool_id_roundtrip(&pr.pool);
		break;
	}
	case 5: {
		char id[DP_ID_MAX];
		struct prefix p;

		r = dp_parse_pool_id(o, id, sizeof(id), &e);
		if (r == 0 && dp_pool_id_parse(id, &p) == 0)
			check_prefix(&p);
		break;
	}
	case 6:
	case 7: {
		struct dp_addr_req ar;

		r = dp_parse_addr_req(o, which == 7, &ar, &e);
		break;
	}
	default: {
		struct dp_opts op;

		r = dp_parse_opts(cJSON_GetObjectItemCaseSensitive(o, "Options"), "Options",
				  &op, &e);
		if (r == 0)
			CHECK(op.routable >= -1 && op.routable <= 1 &&
			      op.nat_outgoing >= -1 && op.nat_outgoing <= 1);
		break;
	}
	}
	if (r < 0)
		check_err(&e, r);
out:
	cJSON_Delete(o);
	free(text);
	return 0;
}
