/* bgpconf_private.h — what bgpconf.c (values, JSON) and bgpconf_store.c
 * (locked store access) share.  Not for other modules. */
#ifndef LEAFNET_BGPCONF_PRIVATE_H
#define LEAFNET_BGPCONF_PRIVATE_H

#include "json.h"	/* cJSON */

#define KEY_CONFIG	"bgp/config"
#define KEY_REVISION	"bgp/revision"
#define DIR_PEERS	"bgp/peers"
#define DIR_NODES	"nodes"
#define KEY_MAX		(sizeof(DIR_NODES) + LEAFNET_NAME_MAX + IPADDR_STRLEN + 16)

struct bgp_config;
struct bgp_peer;
struct bgp_node;
struct lf_err;

/* bgpconf.c */
int   bgpconf_oom(struct lf_err *reterr);
int   bgpconf_check_node_name(const char *name, struct lf_err *reterr);
/* Address, AS and password of a peer about to be stored. */
int   bgpconf_check_peer(const struct bgp_peer *p, struct lf_err *reterr);
int   bgpconf_peer_cmp(const void *a, const void *b);	/* qsort: by address */
/* Encoders return malloc'd text, NULL on OOM.  Decoders name the key
 * (ctx ends with '.') of a damaged document. */
char *bgpconf_config_to_json(const struct bgp_config *c);
int   bgpconf_config_from_json(const char *text, struct bgp_config *ret,
			       struct lf_err *reterr);
char *bgpconf_peer_to_text(const struct bgp_peer *p);
int   bgpconf_peer_from_json(const cJSON *o, const char *ctx,
			     struct bgp_peer *ret, struct lf_err *reterr);
char *bgpconf_node_to_json(const struct bgp_node *n);
int   bgpconf_node_from_json(const char *text, const char *key,
			     struct bgp_node *ret, struct lf_err *reterr);

#endif
