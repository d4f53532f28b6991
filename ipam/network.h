/* network.h — leafnet networks: the pools workloads get addresses from.
 *
 * Stored as JSON under "networks/<name>".  A network has up to one IPv4 and
 * one IPv6 subnet (more later), an optional gateway per family (169.254.1.1
 * / fe80::1 on-link when none is given — see attach.h), a class (routable or
 * non-routable), nat-outgoing, per-host block sizes and BGP communities.
 */
#ifndef LEAFNET_NETWORK_H
#define LEAFNET_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "prefix.h"
#include "conf.h"

struct store;
struct lf_err;

#define NETWORK_MAX_SUBNETS     4
#define NETWORK_MAX_COMMUNITIES 8
#define NETWORK_BLOCK4_DEFAULT  26
#define NETWORK_BLOCK6_DEFAULT  122
#define NETWORK_NONROUTABLE_COMMUNITY ((64511u << 16) | 100u)	/* 64511:100 */

struct network_subnet {
	struct prefix  cidr;
	struct ipaddr  gateway;		/* family 0: none given */
};

struct network {
	char     name[LEAFNET_NAME_MAX];
	size_t   n_subnets;
	struct network_subnet subnets[NETWORK_MAX_SUBNETS];
	bool     routable;		/* default true */
	bool     nat_outgoing;		/* default false */
	bool     aggregate;		/* advertise whole local blocks; default true */
	uint8_t  block_size4;		/* default 26 */
	uint8_t  block_size6;		/* default 122 */
	size_t   n_communities;
	uint32_t communities[NETWORK_MAX_COMMUNITIES];	/* (A << 16) | B */
	char     created_by[16];	/* "netctl", "docker", ... informational */
	char     encap[8];		/* "", "vlan", "routed": what the creator asked
					 * for (Contiv's --encap), informational: leafnet
					 * always routes natively */
};

/* What `netctl network update` may change: the fields marked in `set`. */
#define NETWORK_UPD_NAT         (1U << 0)
#define NETWORK_UPD_ROUTABLE    (1U << 1)
#define NETWORK_UPD_AGGREGATE   (1U << 2)
#define NETWORK_UPD_COMMUNITIES (1U << 3)	/* replace the list (n == 0: clear) */

struct network_update {
	unsigned set;			/* NETWORK_UPD_* */
	bool     nat_outgoing;
	bool     routable;
	bool     aggregate;
	size_t   n_communities;
	uint32_t communities[NETWORK_MAX_COMMUNITIES];
};

/* Names: [A-Za-z0-9][A-Za-z0-9_.-]{0,62}. */
bool network_name_valid(const char *name);
void network_init(struct network *n);		/* defaults, no subnets */
/* Check and complete: subnet sizes vs block sizes, gateway inside its
 * subnet, families not repeated, a non-routable network without communities
 * gets NETWORK_NONROUTABLE_COMMUNITY.  Errors name the field (--subnet,
 * --gateway, --block-size, --community) and the fix. LF_E_INVALID. */
int  network_validate(struct network *n, struct lf_err *reterr);

int  network_create(struct store *s, const struct network *n, struct lf_err *reterr); /* -EEXIST */
int  network_get(struct store *s, const char *name, struct network *ret, struct lf_err *reterr); /* -ENOENT, LF_E_NOT_FOUND */
/* Sorted by name; *ret is malloc'd (free()). */
int  network_list(struct store *s, struct network **ret, size_t *ret_n,
		   struct lf_err *reterr);
/* The same, and the names of the networks whose record is damaged (not
 * JSON, wrong shape, a directory, unreadable), sorted: *ret_broken malloc'd,
 * free with store_names_free().  network_list() skips those silently. */
int  network_list_ex(struct store *s, struct network **ret, size_t *ret_n,
		     char ***ret_broken, size_t *ret_n_broken, struct lf_err *reterr);
/* Change what u marks, under the network's lock, in one write (all or
 * nothing); subnets, gateways and block sizes never change.  A network
 * turned non-routable without communities gets NETWORK_NONROUTABLE_COMMUNITY;
 * one turned routable drops that default (but keeps communities given).
 * *ret (may be NULL) is the network as stored.  0 changed, 1 nothing to
 * change; -ENOENT / LF_E_NOT_FOUND, LF_E_INVALID. */
int  network_update(struct store *s, const char *name, const struct network_update *u,
		    struct network *ret, struct lf_err *reterr);
/* "" / "vlan" / "routed" (native routing): 0; an overlay or anything else:
 * -EINVAL with a message naming what to use instead. */
int  network_encap_check(const char *encap, struct lf_err *reterr);

/* Refused with -EBUSY / LF_E_BUSY while allocations exist unless force
 * (then the allocations and block claims go too). */
int  network_delete(struct store *s, const char *name, bool force, struct lf_err *reterr);

/* JSON form shared by the store, `netctl -o json` and the Docker plugin:
 * {"name","subnets":[{"cidr","gateway"}],"routable","nat_outgoing",
 *  "aggregate","block_size4","block_size6","communities":["A:B"],"created_by"}
 * and "encap" when one was given. */
char *network_to_json(const struct network *n);		/* malloc'd */
int   network_from_json(const char *text, struct network *ret, struct lf_err *reterr);

/* "A:B" with A, B in 0..65535. */
int  community_parse(const char *s, uint32_t *ret);
const char *community_fmt(uint32_t c, char *buf, size_t size);

/* The gateway a workload of family routes through: gw when it is set and of
 * that family (a network's --gateway), else leafnet's on-link default
 * (LEAFNET_GW4_DEFAULT / LEAFNET_GW6_DEFAULT).  gw may be NULL. */
void network_gateway(int family, const struct ipaddr *gw, struct ipaddr *ret);

/* The subnet of the given family, or NULL. */
const struct network_subnet *network_subnet_for(const struct network *n, int family);

#endif
