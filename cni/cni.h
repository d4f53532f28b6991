/* cni.h — the CNI front ends (leafnet, leafnet-ipam).
 *
 * The CNI protocol is parsed at the edge: the environment and the network
 * configuration on stdin become a `struct cni_cmd` made of plain, owned
 * structs (cni.c); JSON does not travel further.  Each command is one
 * function (cmd_*.c for leafnet, cmd_ipam.c for leafnet-ipam); result.c
 * turns a `struct cni_result` into the JSON of the version the runtime asked
 * for, and reads results (prevResult, a delegated IPAM plugin's output) in
 * any supported version.  delegate.c runs an external IPAM plugin.
 */
#ifndef LEAFNET_CNI_H
#define LEAFNET_CNI_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

#include "conf.h"
#include "err.h"
#include "ipam.h"
#include "prefix.h"

struct attach_req;
struct store;

enum cni_command {
	CNI_CMD_NONE = 0,
	CNI_CMD_ADD,
	CNI_CMD_DEL,
	CNI_CMD_CHECK,
	CNI_CMD_VERSION,
	CNI_CMD_STATUS,
	CNI_CMD_GC,
};

/* Ordered: comparisons mean "older/newer". */
enum cni_version {
	CNI_V_NONE = 0,
	CNI_V_0_3_0,
	CNI_V_0_3_1,
	CNI_V_0_4_0,
	CNI_V_1_0_0,
	CNI_V_1_1_0,
};
/* The spec's error codes (1-99), then leafnet's own (100+), kept as they
 * were when leafnet's codes were CNI's: runtimes and scripts match them. */
enum cni_code {
	CNI_E_INCOMPATIBLE_VERSION = 1,
	CNI_E_UNSUPPORTED_FIELD    = 2,
	CNI_E_UNKNOWN_CONTAINER    = 3,
	CNI_E_INVALID_ENV          = 4,
	CNI_E_IO                   = 5,
	CNI_E_DECODE               = 6,
	CNI_E_INVALID_CONFIG       = 7,
	CNI_E_TRY_AGAIN            = 11,
	CNI_E_PLUGIN_NOT_AVAILABLE = 50,
	CNI_E_LIMITED_CONNECTIVITY = 51,
	CNI_E_POOL_EXHAUSTED       = 100,
	CNI_E_ADDR_IN_USE          = 101,
	CNI_E_KERNEL               = 102,
	CNI_E_NOT_FOUND            = 103,
	CNI_E_CHECK_FAILED         = 104,
	CNI_E_BUSY                 = 105,
	CNI_E_INTERNAL             = 999,
};

#define CNI_V_LATEST       CNI_V_1_1_0
#define CNI_VERSION_LATEST "1.1.0"

#define CNI_MAX_IFACES   16
#define CNI_MAX_IPS      16
#define CNI_MAX_ROUTES   32
#define CNI_STORE_DEADLINE_MS 2000	/* a call's total wait for the datastore */
#define CNI_MAX_DNS      8
#define CNI_STR_MAX      256
/* Sized for what they hold, not PATH_MAX each: a result has 16 interfaces
 * and the plugin zeroes and copies results, so 5 KB per interface cost ADD
 * ~70 page faults.  Longer values are refused with an error naming them. */
#define CNI_MAC_MAX      64	/* 20-byte (InfiniBand) hardware addresses: 59 */
#define CNI_PCI_ID_MAX   64	/* "0000:00:1f.6" */
#define CNI_SANDBOX_MAX  1024	/* netns paths: /var/run/netns/cni-<uuid>, /proc/<pid>/ns/net */
#define CNI_TYPE_MAX     128
#define CNI_STDIN_MAX    (16u << 20)	/* GC lists can be long */

/* ---- results ------------------------------------------------------------ */

struct cni_iface {
	char name[CNI_STR_MAX];
	char mac[CNI_MAC_MAX];
	char sandbox[CNI_SANDBOX_MAX];	/* "" for host interfaces */
	uint32_t mtu;			/* 0: not given (1.1.0+) */
	char socket_path[CNI_STR_MAX];	/* 1.1.0+ */
	char pci_id[CNI_PCI_ID_MAX];	/* 1.1.0+ */
};

struct cni_ip {
	struct prefix address;		/* host bits kept: "10.0.0.5/24" */
	struct ipaddr gateway;		/* family 0: none */
	int iface;			/* index into interfaces, -1: none */
};

#define CNI_ROUTE_HAS_MTU      (1U << 0)
#define CNI_ROUTE_HAS_ADVMSS   (1U << 1)
#define CNI_ROUTE_HAS_PRIORITY (1U << 2)
#define CNI_ROUTE_HAS_TABLE    (1U << 3)
#define CNI_ROUTE_HAS_SCOPE    (1U << 4)

struct cni_route {
	struct prefix dst;
	struct ipaddr gw;		/* family 0: none */
	unsigned flags;			/* CNI_ROUTE_HAS_* */
	uint32_t mtu, advmss, priority, table, scope;
};

struct cni_dns {
	size_t n_nameservers, n_search, n_options;
	char nameservers[CNI_MAX_DNS][IPADDR_STRLEN];
	char domain[CNI_STR_MAX];
	char search[CNI_MAX_DNS][CNI_STR_MAX];
	char options[CNI_MAX_DNS][CNI_STR_MAX];
};

struct cni_result {
	size_t n_ifaces, n_ips, n_routes;
	struct cni_iface ifaces[CNI_MAX_IFACES];
	struct cni_ip ips[CNI_MAX_IPS];
	struct cni_route routes[CNI_MAX_ROUTES];
	struct cni_dns dns;
};

/* ---- the request ---------------------------------------------------------- */

struct cni_attachment {			/* one entry of cni.dev/valid-attachments */
	char container_id[IPAM_ID_MAX];
	char ifname[IFNAMSIZ];
};

struct cni_env {
	char container_id[IPAM_ID_MAX];
	char netns[CNI_SANDBOX_MAX];	/* becomes the result's sandbox */
	char ifname[IFNAMSIZ];
	char path[4 * PATH_MAX];	/* CNI_PATH, ':' separated */
	/* CNI_ARGS */
	bool ignore_unknown;
	char k8s_namespace[CNI_STR_MAX];
	char k8s_pod[CNI_STR_MAX];
	char k8s_infra_id[CNI_STR_MAX];
	char k8s_uid[CNI_STR_MAX];
	size_t n_ip_args;
	struct ipaddr ip_args[IPAM_MAX_ADDRS];
	char mac_arg[CNI_MAC_MAX];	/* MAC=, as given (checked by cni_conf_parse) */
};

struct cni_conf {
	enum cni_version version;
	char cni_version[16];
	char name[CNI_STR_MAX];
	char type[CNI_TYPE_MAX];
	char network[LEAFNET_NAME_MAX];	/* leafnet network: "network", ipam.network, name */
	uint32_t mtu;			/* 0: default */
	char leafnet_conf[PATH_MAX];	/* "" : $LEAFNET_CONF / default */
	/* ipam: absent or leafnet-ipam -> in process; otherwise delegated */
	bool ipam_delegate;
	char ipam_type[CNI_TYPE_MAX];
	/* requested addresses: runtimeConfig.ips, args.cni.ips, CNI_ARGS IP= */
	size_t n_statics;
	struct ipaddr statics[IPAM_MAX_ADDRS];
	/* the container interface's MAC (ADD, CHECK; not leafnet-ipam): the
	 * `mac` capability runtimeConfig.mac, else args.cni.mac, else CNI_ARGS
	 * MAC=; each one given must be "aa:bb:cc:dd:ee:ff" and unicast */
	bool has_mac;
	uint8_t mac[6];
	/* chained invocation; malloc'd (a result is ~34 KB: only a chained
	 * call pays for one), NULL without a prevResult */
	bool has_prev_result;
	struct cni_result *prev_result;
	/* GC */
	bool has_valid_attachments;
	size_t n_valid;
	struct cni_attachment *valid;	/* malloc'd */
};

struct cni_cmd {
	enum cni_command command;
	const char *progname;
	bool ipam_plugin;		/* running as leafnet-ipam */
	struct cni_env env;
	struct cni_conf conf;
	struct leafnet_conf lconf;
	char *stdin_text;		/* raw config (handed to a delegate) */
	size_t stdin_len;
	char handle[IPAM_HANDLE_MAX];	/* "k8s:<ns>/<pod>" or "" */
};

/* What a binary implements; NULL entries answer "not supported". */
struct cni_plugin {
	const char *name;
	bool ipam_plugin;
	int (*add)(struct cni_cmd *cmd, struct lf_err *reterr);
	int (*del)(struct cni_cmd *cmd, struct lf_err *reterr);
	int (*check)(struct cni_cmd *cmd, struct lf_err *reterr);
	int (*gc)(struct cni_cmd *cmd, struct lf_err *reterr);
	int (*status)(struct cni_cmd *cmd, struct lf_err *reterr);
};

/* cni.c: pure parsing (no I/O other than getenv), unit tested */
enum cni_command cni_command_parse(const char *s);
const char *cni_command_name(enum cni_command c);
enum cni_version cni_version_parse(const char *s);
const char *cni_version_name(enum cni_version v);
/* The environment for `command`: mandatory variables per command (code 4
 * naming the variable), CNI_ARGS keys (code 2 for unknown ones without
 * IgnoreUnknown). */
int cni_env_parse(enum cni_command command, struct cni_env *ret, struct lf_err *reterr);
/* The network configuration for `command`, as plugin `ipam_plugin` or not.
 * env supplies CNI_ARGS IP= (merged into statics). */
int cni_conf_parse(const char *text, enum cni_command command, bool ipam_plugin,
		   const struct cni_env *env, struct cni_conf *ret, struct lf_err *reterr);
/* "aa:bb:cc:dd:ee:ff" (either case) into ret: 0, -EINVAL when it is not
 * six colon-separated octets, -EADDRNOTAVAIL when it is multicast or zero. */
int cni_mac_parse(const char *s, uint8_t ret[6]);
/* Only the cniVersion (for error replies when the rest is broken). */
enum cni_version cni_conf_peek_version(const char *text);
void cni_conf_done(struct cni_conf *c);
/* "k8s:<ns>/<pod>" from CNI_ARGS, "" when not under Kubernetes. */
void cni_handle(const struct cni_env *env, char *buf, size_t size);
bool cni_attachment_valid(const struct cni_conf *c, const char *container_id,
			  const char *ifname);

/* result.c */
int cni_result_from_json(const cJSON *obj, const char *ctx, struct cni_result *ret,
			 struct lf_err *reterr);
/* malloc'd JSON text of r as version v (IPAM plugins: no interfaces). */
char *cni_result_render(const struct cni_result *r, enum cni_version v);
/* Append src to dst, shifting src's interface indices. -E2BIG when full. */
int cni_result_append(struct cni_result *dst, const struct cni_result *src,
		      struct lf_err *reterr);
/* leafnet's neutral error as the spec's code, and its message naming the
 * CNI_* variable behind a bad field. */
int cni_err_code(const struct lf_err *e);
int cni_err_msg(const struct lf_err *e, char *buf, size_t size);
/* Record a CNI code another plugin reported (first wins, like lf_err_set):
 * leafnet's nearest code, and the number itself for cni_err_code. */
int cni_err_set_foreign(struct lf_err *e, int cni_code, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The environment variable that carries field, or NULL (configuration). */
const char *cni_field_var(enum lf_field field);
/* Print the spec's error JSON on stdout; returns the exit status (1). */
int cni_error(const struct lf_err *e, enum cni_version v);
/* Print the VERSION reply. */
int cni_version_reply(void);

/* run.c: read env + stdin, load leafnet.conf, dispatch, print. */
int cni_main(const struct cni_plugin *plugin, int argc, char **argv);
/* Open the store named by cmd->lconf; errors are LF_E_IO naming the dir. */
int cni_store_open(const struct cni_cmd *cmd, struct store **ret, struct lf_err *reterr);
/* Print a result for cmd's version; 0 or -ENOMEM / -EIO. */
int cni_print_result(const struct cni_cmd *cmd, const struct cni_result *r,
		     struct lf_err *reterr);
/* cni_store_open(), then check the config's network exists: a missing one
 * is cni_network_missing()'s error.  On failure nothing is left open. */
int cni_open_network(const struct cni_cmd *cmd, struct store **ret, struct lf_err *reterr);
/* What leafnet's IPAM holds for the container and interface in the config's
 * network (CHECK): 0 with *ret_n > 0, or the error — LF_E_NOT_FOUND on
 * LF_F_CONTAINER_ID when it holds nothing. */
int cni_held_addrs(const struct cni_cmd *cmd, struct ipam_addr *ret, size_t max,
		   size_t *ret_n, struct lf_err *reterr);
/* The network missing: LF_E_INVALID with the netctl hint. */
int cni_network_missing(const char *network, int ret, struct lf_err *reterr);
/* Capacity check used by STATUS: 0 when every subnet has a free address. */
int cni_network_usable(struct store *s, const char *network, struct lf_err *reterr);
/* The node this host is (conf node_name). */
const char *cni_node(const struct cni_cmd *cmd);

/* delegate.c: run the IPAM plugin cmd->conf.ipam_type with cmd's stdin and
 * environment, CNI_COMMAND = command.  ADD parses the result into *ret
 * (others pass ret NULL).  An error reply is passed through in reterr. */
int cni_delegate(const struct cni_cmd *cmd, enum cni_command command,
		 struct cni_result *ret, struct lf_err *reterr);

/* GC and STATUS came with 1.1.0: an IPAM plugin that predates them answers
 * "incompatible version" (code 1), which means it has nothing to do. */
int cni_delegate_newer(const struct cni_cmd *cmd, enum cni_command command,
		       struct lf_err *reterr);

/* cmd_add.c: shared with CHECK */
void cni_attach_req_init(const struct cni_cmd *cmd, struct attach_req *req);

/* cmd_gc.c: ipam_gc() callback, arg = struct cni_conf: keep the records
 * of other networks and those of a valid attachment. */
bool cni_gc_keep_record(const struct ipam_record *rec, void *arg);
/* run.c: log every damaged IPAM record (after a GC: what it could not free). */
void cni_log_damaged(struct store *s);

/* cmd_*.c (leafnet) and cmd_ipam.c (leafnet-ipam) */
int cmd_add(struct cni_cmd *cmd, struct lf_err *reterr);
int cmd_del(struct cni_cmd *cmd, struct lf_err *reterr);
int cmd_check(struct cni_cmd *cmd, struct lf_err *reterr);
int cmd_gc(struct cni_cmd *cmd, struct lf_err *reterr);
int cmd_status(struct cni_cmd *cmd, struct lf_err *reterr);
int cmd_ipam_add(struct cni_cmd *cmd, struct lf_err *reterr);
int cmd_ipam_del(struct cni_cmd *cmd, struct lf_err *reterr);
int cmd_ipam_check(struct cni_cmd *cmd, struct lf_err *reterr);
int cmd_ipam_gc(struct cni_cmd *cmd, struct lf_err *reterr);
int cmd_ipam_status(struct cni_cmd *cmd, struct lf_err *reterr);

#endif
