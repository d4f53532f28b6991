/* bgpconf.h — the BGP configuration model shared by netctl (which edits it)
 * and leafnetd (which runs it), kept in the datastore.
 *
 * Store layout (every value a JSON document):
 *   "bgp/config"       {"default_node_as": 64511, "node_mesh": true,
 *                       "listen_port": 179, "keepalive": 30, "hold_time": 90,
 *                       "import": "default"}
 *                      absent = all defaults; absent members = their default.
 *                      "import" (`netctl bgp import`) only once set: absent,
 *                      leafnetd uses its config file's bgp_import.
 *   "bgp/revision"     {"revision": N, "changed": UNIX-TIME}
 *                      bumped on every change, after the change is written,
 *                      so a daemon that reads revision N then the config sees
 *                      at least revision N's config.  Absent = 0.
 *   "bgp/peers/<ip>"   a global peer (every node peers with it):
 *                      {"ip": "192.0.2.1", "as": 65000, "password": "...",
 *                       "ttl_security": true, "max_prefix": 1000,
 *                       "max_prefix_action": "restart", "max_prefix_restart": 5,
 *                       "import": "default", "created": UNIX-TIME}
 *                      Every option only when set: "password" (TCP MD5),
 *                      "ttl_security" (GTSM), "max_prefix" with its action
 *                      ("restart": tear down, stay down max_prefix_restart
 *                      minutes; "warning": log only), "import" (else the
 *                      global policy).  Records written before these
 *                      options existed read as "none of them set".
 *   "nodes/<node>"     a node record, its node-specific peers inside it so
 *                      a node's whole BGP setup changes in one atomic write:
 *                      {"name": "h1", "as": 0, "router_ip4": "10.0.0.1/24",
 *                       "router_ip6": "fd00::1/64", "created": UNIX-TIME,
 *                       "peers": [ {peer as above}, ... ]}
 *                      "as" 0 = the default node AS; router IPs "" = unset.
 *                      A route reflector node (`netctl node rr NAME on`)
 *                      also has "rr": true and, when one was given,
 *                      "cluster_id": "10.0.0.1" (RFC 4456 CLUSTER_ID, an
 *                      IPv4 address; absent = the node's router id).  Both
 *                      are left out of other nodes' records.
 * <ip> is the canonical text form (inet_ntop), so "fd00::1" and
 * "fd00:0::1" are the same peer.  Lists come back sorted: IPv4 before
 * IPv6, then by address.  Writers hold the store lock "bgpconf".
 *
 * AS numbers: decimal 1-4294967295 or asdot "X.Y" (RFC 5396, X and Y
 * 0-65535).  AS 23456 (AS_TRANS, RFC 6793) is refused anywhere an AS is
 * configured: no speaker has it as its own AS.
 *
 * Every function returns >= 0 or -errno and fills the optional lf_err with
 * a message naming the offending value and how to fix it; on error nothing
 * in the store changes.
 */
#ifndef LEAFNET_BGPCONF_H
#define LEAFNET_BGPCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conf.h"
#include "prefix.h"

struct store;
struct lf_err;

#define BGPCONF_AS_DEFAULT	64511
#define BGPCONF_AS_TRANS	23456
#define BGPCONF_PORT_DEFAULT	179
#define BGPCONF_KEEPALIVE_DEFAULT 30
#define BGPCONF_HOLD_DEFAULT	90
#define BGPCONF_PASSWORD_MAX	80	/* TCP_MD5SIG_MAXKEYLEN */
#define BGPCONF_NODE_PEERS_MAX	64
#define BGPCONF_AS_STRLEN	16
#define BGPCONF_LOCK		"bgpconf"
#define BGPCONF_MAXPFX_RESTART_DEFAULT	5	/* minutes down after a tear down */
#define BGPCONF_MAXPFX_RESTART_MAX	65535
#define BGPCONF_MAXPFX_STRLEN	40	/* "4294967295,restart=65535" */

/* What leafnetd installs from a global or node-specific peer (the node
 * mesh always takes everything).  Which one holds: the peer's own, else
 * the global one in "bgp/config" (`netctl bgp import`), else the config
 * file's bgp_import on that host, else all: the narrower the scope, the
 * more it wins; the store beats the file because netctl writes it and an
 * operator who just ran `netctl bgp import` expects it to hold
 * everywhere (the file stays for hosts set up before the command). */
enum bgpconf_import {
	BGPCONF_IMPORT_UNSET = 0,	/* the next one in that order */
	BGPCONF_IMPORT_ALL,
	BGPCONF_IMPORT_DEFAULT,		/* only 0.0.0.0/0 and ::/0: "downward default" */
	BGPCONF_IMPORT_NONE,
};

struct bgp_config {
	uint32_t default_node_as;
	bool     node_mesh;
	uint16_t listen_port;
	uint16_t keepalive;		/* seconds */
	uint16_t hold_time;		/* seconds, 0 or >= 3 */
	enum bgpconf_import import;	/* UNSET: the config file's bgp_import */
};

struct bgp_peer {
	struct ipaddr addr;
	uint32_t as;
	char     password[BGPCONF_PASSWORD_MAX + 1];	/* "" = no TCP MD5 */
	long long created;		/* unix time; 0 = unknown */
	/* options (all off by default) */
	bool     ttl_security;		/* GTSM (RFC 5082): TTL 255 both ways */
	uint32_t max_prefix;		/* accepted routes, both families; 0 = no limit */
	bool     max_prefix_warning;	/* past it: log and keep the session */
	uint16_t max_prefix_restart;	/* else tear down, stay down this many
					 * minutes (1-65535; 0 read as 5) */
	enum bgpconf_import import;	/* UNSET: the global policy */
};

/* Which options a change names (bgpconf_peer_set, bgp_create_req.set):
 * those are taken from the request, the others stay as stored. */
#define BGPCONF_SET_PASSWORD	0x01u
#define BGPCONF_SET_TTL		0x02u	/* ttl_security */
#define BGPCONF_SET_MAX_PREFIX	0x04u	/* max_prefix, _warning, _restart */
#define BGPCONF_SET_IMPORT	0x08u
#define BGPCONF_SET_ALL		0x0fu

struct bgp_node {
	char     name[LEAFNET_NAME_MAX];
	uint32_t as;			/* 0: the default node AS */
	struct prefix router_ip4;	/* addr.family 0: unset */
	struct prefix router_ip6;
	long long created;
	struct bgp_peer *peers;		/* node-specific peers, sorted */
	size_t   n_peers;
	bool     rr;			/* a route reflector (RFC 4456) */
	struct ipaddr cluster_id;	/* IPv4; family 0: the router id */
};

/* What `netctl bgp create HOST --router-ip --as --neighbor-as --neighbor`
 * sets in one go. */
struct bgp_create_req {
	const char *node;
	uint32_t as;
	struct prefix router_ip;	/* with its length; host bits kept */
	struct bgp_peer neighbor;
	unsigned set;			/* BGPCONF_SET_*: the neighbor's options
					 * to change when it is already a peer */
};

/* ---- values (no store) ---- */

void bgpconf_defaults(struct bgp_config *c);
/* "65000", "4200000000", "1.10" (asdot).  what (may be NULL) prefixes the
 * message, e.g. "--as".  -EINVAL / -ERANGE. */
int  bgpconf_parse_as(const char *s, const char *what, uint32_t *ret,
		      struct lf_err *reterr);
/* 0 and AS_TRANS refused.  -EINVAL. */
int  bgpconf_check_as(uint32_t as, const char *what, struct lf_err *reterr);
/* Decimal ("asplain"). */
const char *bgpconf_as_fmt(uint32_t as, char *buf, size_t size);
/* A unicast address a BGP session can go to: not unspecified, multicast,
 * IPv4 broadcast or 0.0.0.0/8, IPv4-mapped, or IPv6 link-local (which
 * would need an interface).  -EINVAL. */
int  bgpconf_check_peer_addr(const struct ipaddr *a, const char *what,
			     struct lf_err *reterr);
int  bgpconf_parse_peer_addr(const char *s, const char *what,
			     struct ipaddr *ret, struct lf_err *reterr);
/* "IP/LEN": a unicast address and a length 1-32 (1-128); host bits are the
 * point (it is the node's address), so they are kept.  -EINVAL. */
int  bgpconf_parse_router_ip(const char *s, const char *what,
			     struct prefix *ret, struct lf_err *reterr);
/* 1-63 of [A-Za-z0-9._-], starting with a letter or digit. */
bool bgpconf_node_name_valid(const char *name);
/* "all", "default", "none"; "inherit" for UNSET. */
const char *bgpconf_import_name(enum bgpconf_import i);
/* "all", "default", "none", and with allow_inherit "inherit" (UNSET: a
 * peer follows the global policy).  what names the flag.  -EINVAL. */
int  bgpconf_parse_import(const char *s, bool allow_inherit, const char *what,
			  enum bgpconf_import *ret, struct lf_err *reterr);
/* The policy that holds for a global or node-specific peer (see enum
 * bgpconf_import): the peer's, else the global one, else file_key (the
 * config file's bgp_import: "all", "default", "none"), else ALL. */
enum bgpconf_import bgpconf_import_resolve(enum bgpconf_import peer,
					   enum bgpconf_import global,
					   const char *file_key);
/* "N", "N,warning" or "N,restart=MIN" (N 1-4294967295, MIN 1-65535,
 * default 5) into ret's max_prefix, max_prefix_warning and
 * max_prefix_restart.  what names the flag.  -EINVAL. */
int  bgpconf_parse_max_prefix(const char *s, const char *what, struct bgp_peer *ret,
			      struct lf_err *reterr);
/* The same form back ("" when there is no limit); restart=MIN only when
 * it is not the default. */
const char *bgpconf_max_prefix_fmt(const struct bgp_peer *p, char *buf, size_t size);
/* The options that are set, for people: "md5 ttl-security max-prefix=N
 * import=default" ("" when none). */
const char *bgpconf_peer_opts_fmt(const struct bgp_peer *p, char *buf, size_t size);

/* ---- global config ---- */

/* Defaults when "bgp/config" is absent. */
int  bgpconf_get(struct store *s, struct bgp_config *ret, struct lf_err *reterr);
int  bgpconf_set_default_as(struct store *s, uint32_t as, struct lf_err *reterr);
int  bgpconf_set_mesh(struct store *s, bool on, struct lf_err *reterr);
/* The global import policy (not UNSET: -EINVAL); 1 when it was already so. */
int  bgpconf_set_import(struct store *s, enum bgpconf_import imp, struct lf_err *reterr);
/* 0 when never changed. */
int  bgpconf_revision(struct store *s, uint64_t *ret, struct lf_err *reterr);

/* ---- peers: node NULL = global peers, else that node's peers ---- */

/* 0 added; 1 when the same peer (address, AS, password, options) is
 * already there (nothing changes); -EEXIST when the address is a peer with
 * another AS, password or options.  Adding a node peer creates the node
 * record if needed. */
int  bgpconf_peer_add(struct store *s, const char *node,
		      const struct bgp_peer *p, struct lf_err *reterr);
/* Add p, or change the peer already at p's address: the options `set`
 * names (BGPCONF_SET_*) are taken from p, the others are kept.  Its AS
 * must be p's (-EEXIST otherwise: remove the peer first).  0 added, 1
 * nothing to change, 2 changed. */
int  bgpconf_peer_set(struct store *s, const char *node, const struct bgp_peer *p,
		      unsigned set, struct lf_err *reterr);
/* -ENOENT when no such peer (or no such node). */
int  bgpconf_peer_remove(struct store *s, const char *node,
			 const struct ipaddr *addr, struct lf_err *reterr);
/* *ret is malloc'd (free()), NULL when empty; a node without a record has
 * no peers. */
int  bgpconf_peer_list(struct store *s, const char *node,
		       struct bgp_peer **ret, size_t *ret_n,
		       struct lf_err *reterr);

/* ---- node records ---- */

/* -ENOENT when the node has no record. */
int  bgpconf_node_get(struct store *s, const char *name,
		      struct bgp_node *ret, struct lf_err *reterr);
/* All node records, sorted by name; free with bgpconf_nodes_free(). */
int  bgpconf_node_list(struct store *s, struct bgp_node **ret,
		       size_t *ret_n, struct lf_err *reterr);
void bgpconf_node_done(struct bgp_node *n);		/* NULL-safe */
void bgpconf_nodes_free(struct bgp_node *nodes, size_t n);	/* NULL-safe */
/* Set the node's AS and router IP (of the router IP's family) and add the
 * neighbor as a node-specific peer, under one lock and in one write: all
 * of it or nothing.  The neighbor may already be a peer with the same AS:
 * then the options req->set names change, the others stay.  0 changed, 1
 * nothing to change. */
int  bgpconf_node_create_bgp(struct store *s, const struct bgp_create_req *req,
			     struct lf_err *reterr);

/* Remove a node's record (also a damaged one).  -ENOENT when it has none. */
int  bgpconf_node_remove(struct store *s, const char *name, struct lf_err *reterr);

/* ---- damaged records ---- */

/* r (a failed read) means the record is there but cannot be used: not
 * JSON, wrong shape, a directory, a read error; not absence, not a
 * datastore that cannot be reached. */
bool bgpconf_damaged_err(int r);
/* bgpconf_node_list() and bgpconf_peer_list(NULL) skip damaged records and
 * a damaged global config reads as ... an error from bgpconf_get(); this
 * lists each damaged record as one line "KEY: what is wrong; what leafnet
 * does and how to remove it" (malloc'd, free with store_names_free()). */
int  bgpconf_damaged(struct store *s, char ***ret_lines, size_t *ret_n,
		     struct lf_err *reterr);

/* What `netctl node set NAME [--router-ip=IP/LEN]... [--as=N]` sets: a
 * node's AS and/or router IPs alone, no peer (enough for the node-to-node
 * mesh or a route reflector given as a global peer). */
struct bgp_node_set_req {
	const char *node;
	bool set_as;
	uint32_t as;			/* with set_as; 0 = the default node AS */
	struct prefix router_ip4;	/* addr.family 0: leave as it is */
	struct prefix router_ip6;
};
/* Creates the record when needed; at least one of the three must be given.
 * 0 changed, 1 when the record already said so (nothing written). */
int  bgpconf_node_set(struct store *s, const struct bgp_node_set_req *req,
		      struct lf_err *reterr);

/* `netctl node rr NAME on|off [--cluster-id=IP]`: make the node a route
 * reflector for the other nodes of its AS (on) or a plain node again (off,
 * which also forgets the cluster id).  cluster_id NULL or family 0: the
 * node's router id; else a unicast IPv4 address.  Creates the record when
 * needed.  0 changed, 1 when the record already said so. */
int  bgpconf_node_rr(struct store *s, const char *node, bool on,
		     const struct ipaddr *cluster_id, struct lf_err *reterr);

#endif
