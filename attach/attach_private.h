/* attach_private.h — shared between attach.c and attach_check.c. */
#ifndef LEAFNET_ATTACH_PRIVATE_H
#define LEAFNET_ATTACH_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "leafnet.h"

#define ATTACH_ALIAS_TAG LEAFNET_ALIAS_TAG

/* "leafnet:<network>:<ifname>:<container id>"; -ENAMETOOLONG if it does not
 * fit. */
int  attach_alias(const char *network, const char *ifname, const char *container_id,
		  char *buf, size_t size);
/* Split an alias; *ret_container_id points into alias.  -EINVAL if it is
 * not one of ours. */
int  attach_alias_parse(const char *alias, char *network, size_t network_size,
			char *ifname, size_t ifname_size, const char **ret_container_id);
bool attach_ifname_valid(const char *ifname);

struct link_info;
struct nl;
/* A tombstone (attach_detach.c): LEAFNET_TOMB_PREFIX and our alias tag. */
bool attach_is_tomb(const struct link_info *li);
/* Delete every tombstoned veth of nl's netns; the number deleted or -errno. */
int  attach_tomb_reap(struct nl *nl);

#endif
