/* handlers.c — the route table: every method of the plugin handshake, the
 * remote network driver and the remote IPAM driver, and the small methods
 * that need no state.  Anything else is answered 404 by http.c, which is
 * how libnetwork learns a method is not implemented. */
#include <errno.h>
#include <string.h>

#include "dp.h"
#include "err.h"

static int
add_str(cJSON *o, const char *k, const char *v, struct lf_err *reterr)
{
	if (!cJSON_AddStringToObject(o, k, v))
		return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
	return 0;
}

static int
h_activate(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	cJSON *impl = cJSON_AddArrayToObject(resp, "Implements");

	(void)d;
	(void)req;
	if (!impl)
		return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
	cJSON_AddItemToArray(impl, cJSON_CreateString("NetworkDriver"));
	cJSON_AddItemToArray(impl, cJSON_CreateString("IpamDriver"));
	return 0;
}

static int
h_net_caps(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	(void)d;
	(void)req;
	/* Workloads are reachable by routing, not by a shared segment: local
	 * scope; addresses come from per-host blocks of a shared pool. */
	if (add_str(resp, "Scope", "local", reterr) < 0)
		return -ENOMEM;
	return add_str(resp, "ConnectivityScope", "local", reterr);
}

static int
h_discover(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	(void)d;
	(void)resp;
	/* Node discovery means nothing to a routed network (BGP learns the
	 * peers' routes); check the shape and accept. */
	if (req != NULL && !cJSON_IsObject(req))
		return lf_err_set(reterr, LF_E_DECODE, -EINVAL,
				  "request body must be a JSON object");
	return 0;
}

static int
h_ipam_caps(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	(void)d;
	(void)req;
	if (!cJSON_AddBoolToObject(resp, "RequiresMACAddress", false) ||
	    !cJSON_AddBoolToObject(resp, "RequiresRequestReplay", false))
		return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
	return 0;
}

static int
h_ipam_spaces(struct dp *d, const cJSON *req, cJSON *resp, struct lf_err *reterr)
{
	(void)d;
	(void)req;
	if (add_str(resp, "LocalDefaultAddressSpace", DP_SPACE_LOCAL, reterr) < 0)
		return -ENOMEM;
	return add_str(resp, "GlobalDefaultAddressSpace", DP_SPACE_GLOBAL, reterr);
}

static const struct dp_route dp_routes[] = {
	{ "/Plugin.Activate",                           DP_API_PLUGIN, h_activate },
	{ "/NetworkDriver.GetCapabilities",             DP_API_NET,    h_net_caps },
	{ "/NetworkDriver.CreateNetwork",               DP_API_NET,    dp_create_network },
	{ "/NetworkDriver.DeleteNetwork",               DP_API_NET,    dp_delete_network },
	{ "/NetworkDriver.CreateEndpoint",              DP_API_NET,    dp_create_endpoint },
	{ "/NetworkDriver.EndpointOperInfo",            DP_API_NET,    dp_endpoint_info },
	{ "/NetworkDriver.DeleteEndpoint",              DP_API_NET,    dp_delete_endpoint },
	{ "/NetworkDriver.Join",                        DP_API_NET,    dp_join },
	{ "/NetworkDriver.Leave",                       DP_API_NET,    dp_leave },
	{ "/NetworkDriver.DiscoverNew",                 DP_API_NET,    h_discover },
	{ "/NetworkDriver.DiscoverDelete",              DP_API_NET,    h_discover },
	{ "/NetworkDriver.ProgramExternalConnectivity", DP_API_NET,    dp_program_ext },
	{ "/NetworkDriver.RevokeExternalConnectivity",  DP_API_NET,    dp_program_ext },
	{ "/IpamDriver.GetCapabilities",                DP_API_IPAM,   h_ipam_caps },
	{ "/IpamDriver.GetDefaultAddressSpaces",        DP_API_IPAM,   h_ipam_spaces },
	{ "/IpamDriver.RequestPool",                    DP_API_IPAM,   dp_request_pool },
	{ "/IpamDriver.ReleasePool",                    DP_API_IPAM,   dp_release_pool },
	{ "/IpamDriver.RequestAddress",                 DP_API_IPAM,   dp_request_address },
	{ "/IpamDriver.ReleaseAddress",                 DP_API_IPAM,   dp_release_address },
};

const struct dp_route *
dp_route_find(const char *path)
{
	for (size_t i = 0; i < sizeof(dp_routes) / sizeof(dp_routes[0]); i++)
		if (!strcmp(dp_routes[i].path, path))
			return &dp_routes[i];
	return NULL;
}
