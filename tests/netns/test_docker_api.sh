#!/bin/bash
# leafnet-docker's HTTP API over its unix socket, driven with curl in the
# exact sequences Docker 20.10 sends (recorded from a real dockerd):
#
#   network create: RequestPool -> RequestAddress(gateway) -> CreateNetwork
#   run:            RequestAddress -> CreateEndpoint -> Join ->
#                   ProgramExternalConnectivity -> EndpointOperInfo
#   stop / rm:      RevokeExternalConnectivity -> Leave -> DeleteEndpoint ->
#                   ReleaseAddress
#   network rm:     ReleaseAddress(gateway) -> ReleasePool -> DeleteNetwork
#                   (and the order the issue gives: DeleteNetwork first)
#
# The kernel is checked after each step: after Join SrcName exists in the
# host namespace unconfigured and the host side has its route; the test then
# does what Docker does (moves SrcName into a container netns, renames it,
# configures the address, the static route and the gateway) and pings; after
# Leave the interface and the route are gone.  The plugin is restarted in the
# middle (state must survive).  Then adoption of a netctl network, driver
# options, concurrency, and every kind of bad input.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../docker.sh"
t_init
t_require "$BIN/leafnet-docker" "$BIN/netctl" curl ping

mkhost H
mkcontainer C1
mkcontainer C2
dp_start "$H"

N1=1111111111111111111111111111111111111111111111111111111111111111
E1=e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1
E2=e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2
LNET=docker-${N1:0:12}
DOPTS='"Options":{"com.docker.network.endpoint.exposedports":[],"com.docker.network.portmap":[]}'

# ------------------------------------------------------------- handshake
dpost Plugin.Activate
dp_expect_ok "Plugin.Activate"
assert_eq "Implements NetworkDriver and IpamDriver" '["NetworkDriver","IpamDriver"]' "$(dpj -c .Implements)"
dpost NetworkDriver.GetCapabilities
assert_eq "GetCapabilities: Scope local" local "$(dpj .Scope)"
assert_eq "GetCapabilities: ConnectivityScope local" local "$(dpj .ConnectivityScope)"
dpost IpamDriver.GetCapabilities
dp_expect_ok "IpamDriver.GetCapabilities"
assert_eq "RequiresMACAddress false" false "$(dpj .RequiresMACAddress)"
dpost IpamDriver.GetDefaultAddressSpaces
assert_eq "local address space" leafnet-local "$(dpj .LocalDefaultAddressSpace)"
SOCKMODE=$(stat -c %a "$DP_SOCK")
assert_match "socket mode 0660 or tighter ($SOCKMODE)" "$SOCKMODE" '^[0-6][0-6]0$'

# ------------------------------------------------ docker network create
dpost IpamDriver.RequestPool '{"AddressSpace":"leafnet-local","Pool":"10.77.0.0/24","SubPool":"","Options":{},"V6":false}'
dp_expect_ok "RequestPool 10.77.0.0/24"
P4=$(dpj .PoolID)
assert_eq "pool answered" 10.77.0.0/24 "$(dpj .Pool)"
dpost IpamDriver.RequestPool '{"AddressSpace":"leafnet-local","Pool":"fd00:77::/64","SubPool":"","Options":{},"V6":true}'
dp_expect_ok "RequestPool fd00:77::/64 (V6)"
P6=$(dpj .PoolID)
dpost IpamDriver.RequestAddress "{\"PoolID\":\"$P4\",\"Address\":\"10.77.0.1\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}"
assert_eq "gateway request answers --gateway with the pool length" 10.77.0.1/24 "$(dpj .Address)"
dpost IpamDriver.RequestAddress "{\"PoolID\":\"$P6\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}"
assert_eq "v6 gateway without --gateway: first address" fd00:77::1/64 "$(dpj .Address)"
assert_eq "no allocation for gateways" "" "$(allocs_of "$LNET" 2>/dev/null | grep -v INSPECT)"
dpost NetworkDriver.CreateNetwork "{\"NetworkID\":\"$N1\",\"Options\":{\"com.docker.network.enable_ipv6\":true,\"com.docker.network.generic\":{}},\"IPv4Data\":[{\"AddressSpace\":\"leafnet-local\",\"Gateway\":\"10.77.0.1/24\",\"Pool\":\"10.77.0.0/24\"}],\"IPv6Data\":[{\"AddressSpace\":\"leafnet-local\",\"Gateway\":\"fd00:77::1/64\",\"Pool\":\"fd00:77::/64\"}]}"
dp_expect_ok "CreateNetwork (dual stack)"
nctl network inspect "$LNET" -o json
assert_eq "netctl shows the Docker network as $LNET" 0 "$NCTL_RC"
assert_eq "its subnets and gateways" "10.77.0.0/24 10.77.0.1 fd00:77::/64 fd00:77::1" \
	"$(jq -r '[.subnets[] | .cidr, .gateway] | join(" ")' <<<"$NCTL_OUT")"
assert_eq "created_by docker" docker "$(jq -r .created_by <<<"$NCTL_OUT")"

# ------------------------------------------------------------ docker run
# attach E (endpoint) I (index) CONTAINER-NS: the run sequence, then what
# Docker does with the answer.  Sets A_<I>, A6_<I>, SRC_<I>.
attach() {
	local ep=$1 i=$2 cns=$3 a a6 src gw
	dpost IpamDriver.RequestAddress "{\"PoolID\":\"$P4\",\"Address\":\"\",\"Options\":null}"
	dp_expect_ok "RequestAddress v4 for c$i"
	a=$(dpj .Address)
	assert_match "c$i address is a /32 of the pool" "$a" '^10\.77\.0\.[0-9]+/32$'
	dpost IpamDriver.RequestAddress "{\"PoolID\":\"$P6\",\"Address\":\"\",\"Options\":null}"
	a6=$(dpj .Address)
	assert_match "c$i v6 address is a /128" "$a6" '^fd00:77::[0-9a-f:]+/128$'
	dpost NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$ep\",\"Interface\":{\"Address\":\"$a\",\"AddressIPv6\":\"$a6\",\"MacAddress\":\"\"},$DOPTS}"
	dp_expect_ok "CreateEndpoint c$i"
	assert_eq "CreateEndpoint leaves Interface out (Docker gave it)" null "$(dpj .Interface)"
	dpost NetworkDriver.Join "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$ep\",\"SandboxKey\":\"/var/run/docker/netns/x$i\",$DOPTS}"
	dp_expect_ok "Join c$i"
	src=$(dpj .InterfaceName.SrcName)
	assert_eq "Join: DstPrefix eth" eth "$(dpj .InterfaceName.DstPrefix)"
	assert_eq "Join: Gateway" 10.77.0.1 "$(dpj .Gateway)"
	assert_eq "Join: GatewayIPv6" fd00:77::1 "$(dpj .GatewayIPv6)"
	assert_eq "Join: connected routes to the gateways" \
		'[{"Destination":"10.77.0.1/32","RouteType":1},{"Destination":"fd00:77::1/128","RouteType":1}]' \
		"$(dpj -c .StaticRoutes)"
	# kernel after Join
	assert_cmd "SrcName $src exists in the host namespace" ip -n "$H" link show "$src"
	assert_eq "SrcName carries no address (Docker configures it)" "" \
		"$(ip -n "$H" -o addr show dev "$src" scope global 2>/dev/null)"
	assert_contains "host route ${a%/*} proto 76" "$(host_routes "$H")" "${a%/*} "
	assert_contains "host route ${a6%/*} proto 76" "$(host_routes "$H")" "${a6%/*} "
	HV=$(host_routes "$H" | awk -v a="${a%/*}" '$1 == a { print $2 }')
	assert_contains "gateway /32 on the host veth $HV" "$(ip -n "$H" -4 -o addr show dev "$HV")" "10.77.0.1/32"
	assert_eq "proxy_arp on $HV" 1 "$(ip netns exec "$H" cat /proc/sys/net/ipv4/conf/$HV/proxy_arp)"
	dpost NetworkDriver.ProgramExternalConnectivity "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$ep\",$DOPTS}"
	dp_expect_ok "ProgramExternalConnectivity c$i"
	dpost NetworkDriver.EndpointOperInfo "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$ep\"}"
	dp_expect_ok "EndpointOperInfo c$i"
	assert_eq "EndpointOperInfo names the host veth" "$HV" "$(dpj '.Value["leafnet.host_ifname"]')"
	# what libnetwork does next: move, rename, address, routes, gateway
	ip -n "$H" link set "$src" netns "$cns" && ip -n "$cns" link set "$src" name eth0 &&
	ip -n "$cns" addr add "$a" dev eth0 && ip -n "$cns" addr add "$a6" dev eth0 nodad &&
	ip -n "$cns" link set eth0 up && ip -n "$cns" route add 10.77.0.1/32 dev eth0 scope link &&
	ip -n "$cns" route add default via 10.77.0.1 dev eth0 &&
	ip -n "$cns" -6 route add fd00:77::1/128 dev eth0 &&
	ip -n "$cns" -6 route add default via fd00:77::1 dev eth0 ||
		notok "configure c$i as Docker would" "ip failed"
	printf -v "A_$i" '%s' "${a%/*}"
	printf -v "A6_$i" '%s' "${a6%/*}"
	printf -v "SRC_$i" '%s' "$src"
}

attach "$E1" 1 "$C1"
attach "$E2" 2 "$C2"
assert_ne "two distinct addresses" "$A_1" "$A_2"
ping_ok "c1 -> gateway 10.77.0.1 (the host answers ARP and ICMP)" "$C1" 10.77.0.1
ping_ok "c1 -> c2 over IPv4" "$C1" "$A_2"
ping_ok "c2 -> c1 over IPv4" "$C2" "$A_1"
ping_ok "c1 -> c2 over IPv6 (proxy NDP for the gateway)" "$C1" "$A6_2"
ping_ok "c1 -> the host's loopback address" "$C1" 10.255.0.1
assert_eq "2 v4 + 2 v6 allocations in $LNET" 4 "$(alloc_count "$LNET")"

# ----------------------------------------------------- plugin restart
dp_stop
dp_start "$H"
dpost NetworkDriver.EndpointOperInfo "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$E1\"}"
assert_eq "after a restart the endpoint is still known" "$LNET" "$(dpj '.Value["leafnet.network"]')"

# ------------------------------------------------------- stop and rm c1
HV1=$(host_routes "$H" | awk -v a="$A_1" '$1 == a { print $2 }')
dpost NetworkDriver.RevokeExternalConnectivity "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$E1\"}"
dp_expect_ok "RevokeExternalConnectivity c1"
dpost NetworkDriver.Leave "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$E1\"}"
dp_expect_ok "Leave c1 (after the plugin restarted)"
assert_not_contains "Leave: host route of c1 gone at once" "$(host_routes "$H")" "$A_1 "
assert_eventually "Leave: host veth $HV1 gone" "" ip -n "$H" -o link show dev "$HV1"
assert_eventually "Leave: c1's eth0 gone with it" "" ip -n "$C1" -o link show dev eth0
ping_ok "c2 still reaches the gateway" "$C2" 10.77.0.1
dpost NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$E1\"}"
dp_expect_ok "DeleteEndpoint c1"
dpost IpamDriver.ReleaseAddress "{\"PoolID\":\"$P4\",\"Address\":\"$A_1\"}"
dp_expect_ok "ReleaseAddress $A_1"
dpost IpamDriver.ReleaseAddress "{\"PoolID\":\"$P6\",\"Address\":\"$A6_1\"}"
dp_expect_ok "ReleaseAddress $A6_1"
assert_eq "c1's allocations released" 2 "$(alloc_count "$LNET")"
dpost NetworkDriver.Leave "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$E1\"}"
dp_expect_ok "a repeated Leave is success"
dpost NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$E1\"}"
dp_expect_ok "a repeated DeleteEndpoint is success"

# ---------------------------------------------- concurrent containers
CONC=8
PIDS=()
for i in $(seq 1 $CONC); do
	(
		ep=$(printf 'c%063d' "$i")
		dpost IpamDriver.RequestAddress "{\"PoolID\":\"$P4\",\"Address\":\"\",\"Options\":null}"
		a=$(dpj .Address)
		dpost NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$ep\",\"Interface\":{\"Address\":\"$a\",\"AddressIPv6\":\"\",\"MacAddress\":\"\"},$DOPTS}"
		dpost NetworkDriver.Join "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$ep\",\"SandboxKey\":\"/x\",$DOPTS}"
		echo "$DP_CODE $(dp_err_text) $a" >"$T_TMP/conc.$i"
	) &
	PIDS+=($!)
done
wait "${PIDS[@]}"	# not a bare wait: the plugin is a child too
PIDS=()
assert_eq "$CONC concurrent RequestAddress+CreateEndpoint+Join all answer 200 without Err" "$CONC" \
	"$(cat "$T_TMP"/conc.* | grep -cE '^200  10\.77\.0\.[0-9]+/32$')"
assert_eq "$CONC distinct addresses" "$CONC" "$(cat "$T_TMP"/conc.* | awk '{print $2}' | sort -u | grep -c .)"
assert_eq "$CONC + 1 host v4 routes" $((CONC + 1)) "$(host_routes "$H" | grep -c '^10\.77\.')"
for i in $(seq 1 $CONC); do
	(
		ep=$(printf 'c%063d' "$i")
		a=$(awk '{print $2}' "$T_TMP/conc.$i")
		dpost NetworkDriver.Leave "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$ep\"}"
		r1=$DP_CODE$(dp_err_text)
		dpost NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$ep\"}"
		r2=$DP_CODE$(dp_err_text)
		dpost IpamDriver.ReleaseAddress "{\"PoolID\":\"$P4\",\"Address\":\"${a%/*}\"}"
		echo "$r1 $r2 $DP_CODE$(dp_err_text)" >"$T_TMP/concdel.$i"
	) &
	PIDS+=($!)
done
wait "${PIDS[@]}"
assert_eq "$CONC concurrent Leave+DeleteEndpoint+ReleaseAddress succeed" "$CONC" \
	"$(cat "$T_TMP"/concdel.* | grep -c '^200 200 200$')"
assert_eq "only c2's host route is left" 1 "$(host_routes "$H" | grep -c '^10\.77\.')"

# -------------------------------------------- adopting a netctl network
nctl_ok "netctl network create public" network create public --subnet=10.88.0.0/24 \
	--gateway=10.88.0.254 --non-routable
N2=2222222222222222222222222222222222222222222222222222222222222222
dpost IpamDriver.RequestPool '{"AddressSpace":"leafnet-local","Pool":"","SubPool":"","Options":{"network":"public"},"V6":false}'
dp_expect_ok "RequestPool --ipam-opt network=public (no --subnet)"
PP=$(dpj .PoolID)
assert_eq "adopted pool is public's subnet" 10.88.0.0/24 "$(dpj .Pool)"
assert_eq "pool Data carries public's gateway" 10.88.0.254/24 "$(dpj '.Data["com.docker.network.gateway"]')"
dpost IpamDriver.RequestPool '{"AddressSpace":"leafnet-local","Pool":"10.88.0.0/24","SubPool":"","Options":{},"V6":false}'
assert_eq "a repeated RequestPool (by subnet) gives the same PoolID" "$PP" "$(dpj .PoolID)"
dpost IpamDriver.RequestAddress "{\"PoolID\":\"$PP\",\"Address\":\"10.88.0.1\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}"
dp_expect_err "--gateway differing from public's is refused" "gateway is 10\.88\.0\.254"
dpost NetworkDriver.CreateNetwork "{\"NetworkID\":\"$N2\",\"Options\":{\"com.docker.network.generic\":{\"routable\":\"true\"}},\"IPv4Data\":[{\"Pool\":\"10.88.0.0/24\",\"Gateway\":\"10.88.0.254/24\"}]}"
dp_expect_err "-o routable=true on non-routable public is refused" "non-routable"
dpost NetworkDriver.CreateNetwork "{\"NetworkID\":\"$N2\",\"Options\":{\"com.docker.network.generic\":{}},\"IPv4Data\":[{\"Pool\":\"10.88.0.0/24\",\"Gateway\":\"10.88.0.254/24\"}]}"
dp_expect_ok "CreateNetwork adopts public"
nctl network ls -o json
assert_eq "no second leafnet network for the adopted one" "$LNET public" \
	"$(jq -r '[.[].name] | sort | join(" ")' <<<"$NCTL_OUT")"
dpost IpamDriver.RequestAddress "{\"PoolID\":\"$PP\",\"Address\":\"10.88.0.50\",\"Options\":null}"
assert_eq "a specific address is honoured" 10.88.0.50/32 "$(dpj .Address)"
dpost IpamDriver.RequestAddress "{\"PoolID\":\"$PP\",\"Address\":\"10.88.0.50\",\"Options\":null}"
dp_expect_err "the same specific address again is refused" "10\.88\.0\.50"
dpost IpamDriver.RequestAddress "{\"PoolID\":\"$PP\",\"Address\":\"10.99.0.5\",\"Options\":null}"
dp_expect_err "an address outside the pool is refused" "10\.99\.0\.5|outside|subnet"
dpost IpamDriver.ReleaseAddress "{\"PoolID\":\"$PP\",\"Address\":\"10.88.0.50\"}"
dp_expect_ok "ReleaseAddress 10.88.0.50"
dpost NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$N2\"}"
dp_expect_ok "DeleteNetwork of the adopted network"
dpost IpamDriver.ReleasePool "{\"PoolID\":\"$PP\"}"
dpost IpamDriver.ReleasePool "{\"PoolID\":\"$PP\"}"
dp_expect_ok "ReleasePool twice (two references)"
dpost IpamDriver.ReleasePool "{\"PoolID\":\"$PP\"}"
dp_expect_err "a third ReleasePool: no such pool" "no such pool"
nctl network inspect public -o json
assert_eq "public survives Docker's network rm" 0 "$NCTL_RC"
assert_eq "public has no allocations left" 0 "$(alloc_count public)"

# ------------------------------------------- driver options on create
N3=3333333333333333333333333333333333333333333333333333333333333333
dpost IpamDriver.RequestPool '{"AddressSpace":"leafnet-local","Pool":"10.99.0.0/24","SubPool":"","Options":{},"V6":false}'
P3=$(dpj .PoolID)
dpost NetworkDriver.CreateNetwork "{\"NetworkID\":\"$N3\",\"Options\":{\"com.docker.network.generic\":{\"network\":\"priv\",\"routable\":\"false\",\"nat-outgoing\":\"true\"}},\"IPv4Data\":[{\"Pool\":\"10.99.0.0/24\",\"Gateway\":\"10.99.0.1/24\"}]}"
dp_expect_ok "CreateNetwork -o network=priv -o routable=false -o nat-outgoing=true"
nctl network inspect priv -o json
assert_eq "priv is non-routable with nat-outgoing" "false true" \
	"$(jq -r '"\(.routable) \(.nat_outgoing)"' <<<"$NCTL_OUT")"
# the issue's order: DeleteNetwork, then the gateway, then the pool
dpost NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$N3\"}"
dp_expect_ok "DeleteNetwork priv"
dpost IpamDriver.ReleaseAddress "{\"PoolID\":\"$P3\",\"Address\":\"10.99.0.1\"}"
dp_expect_ok "ReleaseAddress(gateway) after DeleteNetwork"
dpost IpamDriver.ReleasePool "{\"PoolID\":\"$P3\"}"
dp_expect_ok "ReleasePool after DeleteNetwork"
nctl network inspect priv
assert_ne "priv (made by Docker) is gone" 0 "$NCTL_RC"

# a pool named by --ipam-opt network=NAME that does not exist yet
N4=4444444444444444444444444444444444444444444444444444444444444444
dpost IpamDriver.RequestPool '{"AddressSpace":"leafnet-local","Pool":"10.97.0.0/24","SubPool":"","Options":{"network":"newnet"},"V6":false}'
P7=$(dpj .PoolID)
dpost NetworkDriver.CreateNetwork "{\"NetworkID\":\"$N4\",\"Options\":{},\"IPv4Data\":[{\"AddressSpace\":\"leafnet-local\",\"Pool\":\"10.97.0.0/24\",\"Gateway\":\"10.97.0.1/24\"}]}"
dp_expect_ok "CreateNetwork for a pool of --ipam-opt network=newnet"
nctl network inspect newnet -o json
assert_eq "the network is made under the --ipam-opt name" "10.97.0.0/24 10.97.0.1" \
	"$(jq -r '.subnets[0] | "\(.cidr) \(.gateway)"' <<<"$NCTL_OUT")"
dpost NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$N4\"}"
dpost IpamDriver.ReleasePool "{\"PoolID\":\"$P7\"}"
dp_expect_ok "newnet torn down"
nctl network inspect newnet
assert_ne "newnet is gone" 0 "$NCTL_RC"

# ------------------------------------------------------------ bad input
dpost NetworkDriver.CreateNetwork '{"NetworkID":"n6","IPv4Data":[{"AddressSpace":"LocalDefault","Pool":"172.18.0.0/16","Gateway":"172.18.0.1/16"}]}'
dp_expect_err "CreateNetwork with Docker's default IPAM is refused" "ipam-driver"

for m in NetworkDriver.CreateNetwork NetworkDriver.DeleteNetwork NetworkDriver.CreateEndpoint \
	 NetworkDriver.DeleteEndpoint NetworkDriver.Join NetworkDriver.Leave \
	 NetworkDriver.ProgramExternalConnectivity NetworkDriver.RevokeExternalConnectivity \
	 NetworkDriver.DiscoverNew NetworkDriver.DiscoverDelete; do
	dpost "$m" '{"NetworkID": [garbage'
	dp_expect_err "$m: malformed JSON -> 400 with Err" "." 400
	if [ "$(jq 'has("Err")' <<<"$DP_OUT")" != true ]; then notok "$m: uses Err" "$DP_OUT"; fi
done
for m in IpamDriver.RequestPool IpamDriver.ReleasePool IpamDriver.RequestAddress IpamDriver.ReleaseAddress; do
	dpost "$m" 'garbage'
	dp_expect_err "$m: malformed JSON -> 400 with Error" "." 400
	if [ "$(jq 'has("Error")' <<<"$DP_OUT")" != true ]; then notok "$m: uses Error" "$DP_OUT"; fi
	dpost "$m" '[1,2]'
	dp_expect_err "$m: not an object" "object|PoolID|Pool"
done
dpost NetworkDriver.EndpointOperInfo 'garbage'
assert_eq "EndpointOperInfo with garbage is still not a 404" 400 "$DP_CODE"
dpost NetworkDriver.EndpointOperInfo '{"NetworkID":"x","EndpointID":"nope"}'
dp_expect_ok "EndpointOperInfo for an unknown endpoint answers 200"
assert_eq "... with an empty Value" '{}' "$(dpj -c .Value)"
dpost NetworkDriver.CreateNetwork '{}'
dp_expect_err "CreateNetwork without NetworkID" "NetworkID"
dpost NetworkDriver.CreateNetwork '{"NetworkID":"n4"}'
dp_expect_err "CreateNetwork without pools (new network)" "subnet|IPv4Data"
dpost NetworkDriver.CreateNetwork '{"NetworkID":"../../etc/passwd"}'
dp_expect_err "CreateNetwork with a path as ID" "not a valid ID"
dpost NetworkDriver.CreateNetwork '{"NetworkID":"n5","Options":{"com.docker.network.generic":{"colour":"blue"}},"IPv4Data":[{"Pool":"10.98.0.0/24"}]}'
dp_expect_err "CreateNetwork with an unknown driver option" "unknown option \"colour\""
dpost NetworkDriver.CreateEndpoint '{"NetworkID":"unknown","EndpointID":"e9","Interface":{"Address":"10.77.0.9/32"}}'
dp_expect_err "CreateEndpoint on an unknown network" "unknown network"
dpost NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$N1\"}"
dp_expect_err "CreateEndpoint without EndpointID" "EndpointID"
dpost NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$N1\",\"EndpointID\":\"e9\",\"Interface\":{\"Address\":\"10.77.0.9\"}}"
dp_expect_err "CreateEndpoint with an address without length" "Interface.Address"
dpost NetworkDriver.Join "{\"NetworkID\":\"$N1\",\"EndpointID\":\"unknown\"}"
dp_expect_err "Join of an unknown endpoint" "unknown endpoint"
dpost NetworkDriver.Join "{\"NetworkID\":\"other\",\"EndpointID\":\"$E2\"}"
dp_expect_err "Join with the wrong network" "belongs to network"
dpost NetworkDriver.Leave '{"NetworkID":"x"}'
dp_expect_err "Leave without EndpointID" "EndpointID"
dpost IpamDriver.RequestPool '{"Pool":"","SubPool":"10.1.0.0/25","V6":false}'
dp_expect_err "RequestPool: SubPool without Pool" "without Pool"
dpost IpamDriver.RequestPool '{"Pool":"10.77.0.0/24","SubPool":"10.77.0.0/25","V6":false}'
dp_expect_err "RequestPool: --ip-range refused clearly" "ip-range"
dpost IpamDriver.RequestPool '{"Pool":"","V6":false,"Options":{}}'
dp_expect_err "RequestPool without pool or network" "subnet"
dpost IpamDriver.RequestPool '{"Pool":"","V6":false,"Options":{"network":"nosuch"}}'
dp_expect_err "RequestPool for an unknown leafnet network" "nosuch.*does not exist"
dpost IpamDriver.RequestPool '{"Pool":"10.77.0.128/25","V6":false}'
dp_expect_err "RequestPool overlapping a network" "overlaps"
dpost IpamDriver.RequestPool '{"AddressSpace":"LocalDefault","Pool":"10.60.0.0/24","V6":false}'
dp_expect_err "RequestPool in a foreign address space" "AddressSpace"
dpost IpamDriver.RequestAddress '{"PoolID":"10.5.5.0_24","Address":""}'
dp_expect_err "RequestAddress from an unknown pool" "no such pool"
dpost IpamDriver.RequestAddress "{\"PoolID\":\"$P4\",\"Address\":\"not-an-ip\"}"
dp_expect_err "RequestAddress with garbage address" "Address"
dpost IpamDriver.ReleaseAddress "{\"PoolID\":\"$P4\"}"
dp_expect_err "ReleaseAddress without Address" "Address"
dpost IpamDriver.ReleasePool '{}'
dp_expect_err "ReleasePool without PoolID" "PoolID"
dpost NetworkDriver.Frobnicate '{}'
assert_eq "an unknown method is 404" 404 "$DP_CODE"
dpost IpamDriver.Frobnicate '{}'
assert_eq "an unknown IPAM method is 404" 404 "$DP_CODE"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$T_TMP/big.json"
dpost NetworkDriver.CreateNetwork "@$T_TMP/big.json"
dp_expect_err "a 2 MiB body is refused (413)" "too large" 413
DP_CODE=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$DP_SOCK" http://plugin/Plugin.Activate)
assert_eq "GET is refused (405)" 405 "$DP_CODE"
dpost NetworkDriver.GetCapabilities
assert_eq "the plugin still answers after all that" local "$(dpj .Scope)"

# ------------------------------------------------ docker network rm N1
dpost NetworkDriver.RevokeExternalConnectivity "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$E2\"}"
dpost NetworkDriver.Leave "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$E2\"}"
dp_expect_ok "Leave c2"
dpost NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$E2\"}"
dp_expect_ok "DeleteEndpoint c2"
dpost IpamDriver.ReleaseAddress "{\"PoolID\":\"$P4\",\"Address\":\"$A_2\"}"
dpost IpamDriver.ReleaseAddress "{\"PoolID\":\"$P6\",\"Address\":\"$A6_2\"}"
dp_expect_ok "ReleaseAddress c2"
dpost IpamDriver.ReleaseAddress "{\"PoolID\":\"$P4\",\"Address\":\"10.77.0.1\"}"
dp_expect_ok "ReleaseAddress(gateway)"
dpost IpamDriver.ReleaseAddress "{\"PoolID\":\"$P6\",\"Address\":\"fd00:77::1\"}"
dpost IpamDriver.ReleasePool "{\"PoolID\":\"$P4\"}"
dp_expect_ok "ReleasePool v4"
dpost IpamDriver.ReleasePool "{\"PoolID\":\"$P6\"}"
dp_expect_ok "ReleasePool v6"
dpost NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$N1\"}"
dp_expect_ok "DeleteNetwork"
dpost NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$N1\"}"
dp_expect_ok "a repeated DeleteNetwork is success"
nctl network inspect "$LNET"
assert_ne "$LNET is gone" 0 "$NCTL_RC"
assert_eq "no host route left" "" "$(host_routes "$H")"
assert_eventually "no veth left" "" host_veths "$H"
assert_eventually "no local route for the gateway left (table local)" "" \
	ip -n "$H" route show table local 10.77.0.1
assert_eq "no lfd interface left" "" "$(ip -n "$H" -o link show | grep -o 'lfd[0-9a-f]*' || true)"
assert_eq "no docker records left" "" "$(dp_records)"
dp_stop
assert_eq "the socket is removed on exit" no "$([ -e "$DP_SOCK" ] && echo yes || echo no)"

# ------------------------- started before dockerd: no /run/docker at all
# (the order leafnet-docker.socket is for): the plugin makes its directory.
NODIR=$T_TMP/run-$$
dp_start "$H" "$NODIR/docker/plugins/leafnet.sock"
assert_eq "socket made under a missing /run/docker/plugins" yes \
	"$([ -S "$NODIR/docker/plugins/leafnet.sock" ] && echo yes || echo no)"
assert_eq "its directory is 0755" 755 "$(stat -c %a "$NODIR/docker/plugins")"
assert_eq "socket mode 0660" 660 "$(stat -c %a "$DP_SOCK")"
dpost NetworkDriver.GetCapabilities
assert_eq "it answers" local "$(dpj .Scope)"
DP_FIRST=$DP_PID
timeout 10 ip netns exec "$H" "$BIN/leafnet-docker" --config "$T_CONF" --socket "$DP_SOCK" \
	>"$T_TMP/dp2.out" 2>&1
assert_ne "a second instance on a live socket fails" 0 "$?"
assert_match "and says why" "$(cat "$T_TMP/dp2.out")" "already listening"
assert_eq "the first instance is still alive" yes \
	"$(kill -0 "$DP_FIRST" 2>/dev/null && echo yes || echo no)"
dp_stop
t_done
