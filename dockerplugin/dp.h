/* dp.h — leafnet-docker, the libnetwork remote NetworkDriver + IpamDriver.
 *
 * http.c     libmicrohttpd on a unix socket: bodies (bounded), JSON in and
 *            out, the route table lookup, status codes
 * handlers.c the route table and the small methods (capabilities, discovery)
 * netdrv.c   NetworkDriver.* : networks, endpoints, Join/Leave -> attach core
 * ipamdrv.c  IpamDriver.*    : pools and addresses -> leafnet IPAM
 * state.c    the mapping records in the store (docker/networks/<id>,
 *            docker/endpoints/<id>, docker/pools/<id>)
 * translate.c Docker's JSON <-> plain structs (pure, unit tested)
 *
 * Docker never tells a driver the name a user gave a network.  A Docker
 * network maps to a leafnet network (a) named by the driver option
 * `-o network=NAME` or the IPAM option `--ipam-opt network=NAME`, else (b)
 * the leafnet network whose subnet is the pool Docker gives, else (c) a new
 * leafnet network "docker-<first 12 characters of the network ID>" holding
 * Docker's pools, deleted again with the last Docker network using it.
 * Pool IDs are the pool's CIDR ("10.0.0.0_24"), so a repeated RequestPool
 * gives the same answer; each pool record counts its references.
 */
#ifndef LEAFNET_DP_H
#define LEAFNET_DP_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>

#include "conf.h"
#include "prefix.h"

struct attach_result;
struct lf_err;
struct store;
struct store_lock;

#define DP_ID_MAX        80	/* Docker IDs are 64 hex digits */
#define DP_SPACE_MAX     64
#define DP_BODY_MAX      (1u << 20)	/* larger request bodies are refused (413) */
#define DP_MAX_POOLS     4
#define DP_SPACE_LOCAL   "leafnet-local"
#define DP_SPACE_GLOBAL  "leafnet-global"
#define DP_SRC_PREFIX LEAFNET_DOCKER_IFPREFIX		/* SrcName: workload side before Docker moves it */
#define DP_DST_PREFIX    "eth"

/* Docker's option keys */
#define DP_OPT_GENERIC   "com.docker.network.generic"
#define DP_OPT_IPV6      "com.docker.network.enable_ipv6"
#define DP_OPT_GATEWAY   "com.docker.network.gateway"	/* RequestAddressType, pool Data */
#define DP_OPT_MTU       "com.docker.network.driver.mtu"
#define DP_OPT_ADDRTYPE  "RequestAddressType"

enum dp_api { DP_API_PLUGIN, DP_API_NET, DP_API_IPAM };

struct dp {
	struct leafnet_conf conf;
	struct store *s;
};

/* Driver options (-o / --ipam-opt) leafnet understands. */
struct dp_opts {
	char network[LEAFNET_NAME_MAX];	/* "" : not given */
	int  routable;			/* -1 not given, 0, 1 */
	int  nat_outgoing;		/* -1 not given, 0, 1 */
	unsigned mtu;			/* 0: not given */
};

struct dp_ipdata {			/* one IPv4Data / IPv6Data entry */
	char space[DP_SPACE_MAX];
	struct prefix pool;
	struct ipaddr gateway;		/* family 0: none */
};

struct dp_create_network {
	char netid[DP_ID_MAX];
	size_t n_ip;
	struct dp_ipdata ip[DP_MAX_POOLS];
	bool enable_ipv6;
	struct dp_opts opts;
};

struct dp_ids {				/* Join, Leave, DeleteEndpoint, ... */
	char netid[DP_ID_MAX];
	char epid[DP_ID_MAX];
	char sandbox[PATH_MAX];		/* Join's SandboxKey */
};

struct dp_create_endpoint {
	char netid[DP_ID_MAX];
	char epid[DP_ID_MAX];
	struct prefix addr4, addr6;	/* host bits kept; family 0: not given */
	char mac[32];
};

struct dp_pool_req {
	char space[DP_SPACE_MAX];
	struct prefix pool;		/* family 0: "any" */
	struct prefix subpool;		/* family 0: none */
	bool v6;
	struct dp_opts opts;
};

struct dp_addr_req {			/* RequestAddress / ReleaseAddress */
	char poolid[DP_ID_MAX];
	struct ipaddr addr;		/* family 0: any */
	bool gateway;			/* RequestAddressType = gateway */
};

/* ---- translate.c (pure) ---- */
bool dp_id_valid(const char *id);
int  dp_parse_opts(const cJSON *generic, const char *ctx, struct dp_opts *ret,
		   struct lf_err *reterr);
int  dp_parse_create_network(const cJSON *o, struct dp_create_network *ret,
			     struct lf_err *reterr);
int  dp_parse_ids(const cJSON *o, bool need_endpoint, struct dp_ids *ret,
		  struct lf_err *reterr);
int  dp_parse_create_endpoint(const cJSON *o, struct dp_create_endpoint *ret,
			      struct lf_err *reterr);
int  dp_parse_request_pool(const cJSON *o, struct dp_pool_req *ret, struct lf_err *reterr);
int  dp_parse_pool_id(const cJSON *o, char *ret, size_t size, struct lf_err *reterr);
int  dp_parse_addr_req(const cJSON *o, bool release, struct dp_addr_req *ret,
		       struct lf_err *reterr);
void dp_pool_id(const struct prefix *p, char *buf, size_t size);
int  dp_pool_id_parse(const char *id, struct prefix *ret);
/* The Err/Error text for a failed method: leafnet's message and details
 * (or strerror(-r) when nothing was recorded).  Codes and fields carry no
 * text of their own here: libnetwork shows Err to the user as it is. */
void dp_err_text(const struct lf_err *e, int r, char *buf, size_t size);
void dp_src_name(const char *epid, char ret[IFNAMSIZ]);
/* Join's answer for what attach_workload() made. */
cJSON *dp_join_response(const char *src_name, const struct attach_result *ar);
/* "a.b.c.d/len" with host bits (Docker's CIDR form of an address). */
const char *dp_cidr_fmt(const struct ipaddr *a, unsigned len, char *buf, size_t size);

/* ---- handlers.c ---- */
struct dp_route {
	const char *path;
	enum dp_api api;
	int (*fn)(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr);
};
const struct dp_route *dp_route_find(const char *path);

/* ---- netdrv.c ---- */
int dp_create_network(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr);
int dp_delete_network(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr);
int dp_create_endpoint(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr);
int dp_delete_endpoint(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr);
int dp_endpoint_info(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr);
int dp_join(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr);
int dp_leave(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr);
int dp_program_ext(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr);

/* ---- ipamdrv.c ---- */
int dp_request_pool(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr);
int dp_release_pool(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr);
int dp_request_address(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr);
int dp_release_address(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr);

/* ---- state.c ---- */
struct dp_pool_rec {
	struct prefix cidr;
	char network[LEAFNET_NAME_MAX];	/* leafnet network; "" until CreateNetwork */
	struct ipaddr gateway;		/* family 0: none known yet */
	unsigned refs;
};

struct dp_net_rec {
	char network[LEAFNET_NAME_MAX];
	bool created;			/* we created the leafnet network */
	unsigned mtu;
};

struct dp_ep_rec {
	char netid[DP_ID_MAX];
	char network[LEAFNET_NAME_MAX];
	char src_name[IFNAMSIZ];
	size_t n_addrs;
	struct prefix addrs[2];		/* as Docker configures them (host bits kept) */
	bool allocated;			/* addresses are ours (Docker gave none) */
	unsigned mtu;
};

/* The "docker" store lock guards pool and network records. */
int  dp_lock(struct dp *d, struct store_lock **ret, struct lf_err *reterr);
int  dp_pool_get(struct dp *d, const char *poolid, struct dp_pool_rec *ret);
int  dp_pool_put(struct dp *d, const char *poolid, const struct dp_pool_rec *p);
int  dp_pool_del(struct dp *d, const char *poolid);
int  dp_net_get(struct dp *d, const char *netid, struct dp_net_rec *ret);
int  dp_net_put(struct dp *d, const char *netid, const struct dp_net_rec *n);
int  dp_net_del(struct dp *d, const char *netid);
/* Docker networks (other than except_netid) mapped to leafnet network name. */
int  dp_net_users(struct dp *d, const char *network, const char *except_netid,
		  size_t *ret_n);
int  dp_ep_get(struct dp *d, const char *epid, struct dp_ep_rec *ret);
int  dp_ep_create(struct dp *d, const char *epid, const struct dp_ep_rec *e);
int  dp_ep_del(struct dp *d, const char *epid);

/* ---- http.c ---- */
int dp_serve(struct dp *d, const char *sock_path);

/* ---- reaper.c: the veth-deleting thread ---- */
int  dp_reaper_start(void);		/* 0 or -errno */
/* Delete link ifindex off the request's clock (here and now when the
 * thread is not running). */
void dp_reaper_delete(int ifindex);
void dp_reaper_stop(void);		/* drains the queue, joins */

#endif
