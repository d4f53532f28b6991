/* conf.h — the leafnet config file (/etc/leafnet/leafnet.conf, JSON).
 *
 * Every binary takes its state directory / datastore and control socket
 * from here.  Lookup order: the explicit path (--config), then
 * $LEAFNET_CONF, then LEAFNET_CONF_DEFAULT.  A missing *default* file means
 * built-in defaults; a missing explicitly named file is an error.
 *
 * Keys (all optional):
 *   "state_dir":      "/var/lib/leafnet"
 *   "datastore":      "file" | "etcd"
 *   "etcd_endpoints": "http://127.0.0.1:2379"   (comma separated)
 *   "control_socket": "/run/leafnet/leafnetd.sock"
 *   "node_name":      hostname(2) by default
 *   "log_file":       "" (stderr)
 *   "log_level":      "error" | "warn" | "info" | "debug"
 *   "fsync":          true   (fsync state writes; false only for tmpfs/tests)
 *   "bgp_listen_address": ""   leafnetd's BGP listener ("" = any, v4 and v6)
 *   "bgp_port":       179      port leafnetd listens on for BGP
 *   "bgp_import":     "all"    routes installed from global and node-specific
 *                              peers: "all" | "default" (only 0/0, ::/0) | "none";
 *                              `netctl bgp import` (the store) and a peer's own
 *                              --import win over it (bgpconf.h)
 *   "bgp_nexthop_onlink": false  a learned route whose next hop resolves through
 *                              a route (not a connected network) is installed "via
 *                              NEXTHOP dev DEV onlink", not via that route's gateway
 *   "docker_socket":  "/run/docker/plugins/leafnet.sock"  leafnet-docker's socket;
 *                              Docker names the driver after the file ("leafnet")
 *   "metrics_listen": "127.0.0.1:9474"  leafnetd's Prometheus endpoint (/metrics),
 *                              ADDR:PORT or [ADDR6]:PORT; "" turns it off
 * Unknown keys are an error naming the key, so typos do not go unnoticed.
 */
#ifndef LEAFNET_CONF_H
#define LEAFNET_CONF_H

#include <limits.h>
#include <stdbool.h>

struct lf_err;

#define LEAFNET_CONF_DEFAULT      "/etc/leafnet/leafnet.conf"
#define LEAFNET_STATE_DIR_DEFAULT "/var/lib/leafnet"
#define LEAFNET_CTL_SOCK_DEFAULT  "/run/leafnet/leafnetd.sock"
#define LEAFNET_DOCKER_SOCK_DEFAULT "/run/docker/plugins/leafnet.sock"
#define LEAFNET_METRICS_DEFAULT   "127.0.0.1:9474"
#define LEAFNET_NAME_MAX          64	/* networks, nodes: incl. NUL */

struct leafnet_conf {
	char path[PATH_MAX];		/* file it came from; "" = defaults */
	char state_dir[PATH_MAX];
	char datastore[16];
	char etcd_endpoints[512];
	char control_socket[PATH_MAX];
	char node_name[LEAFNET_NAME_MAX];
	char log_file[PATH_MAX];
	int  log_level;			/* enum log_level */
	bool fsync;
	char bgp_listen_address[64];	/* "" = any */
	unsigned bgp_port;		/* 1-65535, default 179 */
	char bgp_import[16];		/* "all", "default", "none" */
	bool bgp_nexthop_onlink;	/* resolved next hops installed onlink */
	char docker_socket[PATH_MAX];	/* leafnet-docker's listening socket */
	char metrics_listen[80];	/* leafnetd's /metrics; "" = off */
};

void conf_defaults(struct leafnet_conf *c);
/* path may be NULL.  On failure *ret is left untouched. */
int  conf_load(const char *path, struct leafnet_conf *ret, struct lf_err *reterr);
/* The same for a config file's text (no file read; ret->path stays ""). */
int  conf_parse(const char *text, struct leafnet_conf *ret, struct lf_err *reterr);

struct sockaddr_storage;
/* "ADDR:PORT" (IPv4) or "[ADDR6]:PORT", numeric only, port 1-65535, into
 * *ret (family AF_INET or AF_INET6).  -EINVAL when it is neither. */
int  conf_hostport_parse(const char *s, struct sockaddr_storage *ret);

#endif
