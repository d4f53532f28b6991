#!/bin/bash
# CNI GC on a network that also serves Docker.  One leafnet network, made
# with netctl, gets one workload through CNI ADD and one through
# leafnet-docker (the sequence dockerd sends for `docker network create
# --ipam-opt network=public` and `docker run`).  A CNI GC with an EMPTY
# cni.dev/valid-attachments list must remove the CNI workload (veth, host
# route, allocation) and leave the Docker endpoint alone: its host veth, its
# proto 76 host route, its allocation and its traffic.  The CNI runtime's
# list speaks only for CNI attachments (cni/cmd_gc.c: handles "docker...",
# workload ifnames "lfd...").  Then Docker tears its side down with its own
# sequence and nothing is left.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../docker.sh"
t_init
t_require "$BIN/leafnet" "$BIN/leafnet-docker" "$BIN/netctl" curl ping

mkhost H
mkcontainer C1		# the CNI workload
mkcontainer C2		# the Docker workload

N=9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c
E=ed0ced0ced0ced0ced0ced0ced0ced0ced0ced0ced0ced0ced0ced0ced0ced0c
DOPTS='"Options":{"com.docker.network.endpoint.exposedports":[],"com.docker.network.portmap":[]}'

nctl_ok "network create public" network create public --subnet=10.66.0.0/24 --gateway=10.66.0.1
dp_start "$H"

# ------------------------------------------------------------ CNI ADD
cni_conf public 1.1.0
cni_add "$H" ctr-cni "$C1" eth0
cni_expect_ok "CNI ADD ctr-cni" || bail "CNI ADD" "nothing else can be tested"
A_CNI=$(jqv "$CNI_OUT" '.ips[0].address | sub("/.*"; "")')
HV_CNI=$(jqv "$CNI_OUT" '[.interfaces[]? | select((.sandbox // "") == "")][0].name // empty')
assert_match "CNI workload has an address of public" "$A_CNI" '^10\.66\.0\.[0-9]+$'
assert_match "CNI host veth is lfn..." "$HV_CNI" '^lfn[0-9a-f]{11}$'

# ------------------------------------ docker network create (adopt public)
dpost IpamDriver.RequestPool '{"AddressSpace":"leafnet-local","Pool":"","SubPool":"","Options":{"network":"public"},"V6":false}'
dp_expect_ok "RequestPool --ipam-opt network=public" || bail "RequestPool" "$DP_OUT"
P=$(dpj .PoolID)
assert_eq "the pool is public's subnet" 10.66.0.0/24 "$(dpj .Pool)"
dpost IpamDriver.RequestAddress "{\"PoolID\":\"$P\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}"
dp_expect_ok "RequestAddress (gateway)"
assert_eq "the gateway is public's" 10.66.0.1/24 "$(dpj .Address)"
dpost NetworkDriver.CreateNetwork "{\"NetworkID\":\"$N\",\"Options\":{\"com.docker.network.generic\":{}},\"IPv4Data\":[{\"AddressSpace\":\"leafnet-local\",\"Pool\":\"10.66.0.0/24\",\"Gateway\":\"10.66.0.1/24\"}]}"
dp_expect_ok "CreateNetwork adopts public" || bail "CreateNetwork" "$DP_OUT"
nctl network ls -o json
assert_eq "one leafnet network serves both plugins" public "$(jq -r '[.[].name] | join(" ")' <<<"$NCTL_OUT")"

# ---------------------------------------------------------- docker run
dpost IpamDriver.RequestAddress "{\"PoolID\":\"$P\",\"Address\":\"\",\"Options\":null}"
dp_expect_ok "RequestAddress for the Docker workload" || bail "RequestAddress" "$DP_OUT"
A_D=$(dpj .Address)
A_D=${A_D%/*}
assert_ne "Docker and CNI workloads get different addresses" "$A_CNI" "$A_D"
dpost NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$N\",\"EndpointID\":\"$E\",\"Interface\":{\"Address\":\"$A_D/32\",\"AddressIPv6\":\"\",\"MacAddress\":\"\"},$DOPTS}"
dp_expect_ok "CreateEndpoint" || bail "CreateEndpoint" "$DP_OUT"
dpost NetworkDriver.Join "{\"NetworkID\":\"$N\",\"EndpointID\":\"$E\",\"SandboxKey\":\"/var/run/docker/netns/gc\",$DOPTS}"
dp_expect_ok "Join" || bail "Join" "$DP_OUT"
SRC=$(dpj .InterfaceName.SrcName)
assert_match "SrcName is lfd..." "$SRC" '^lfd'
HV_D=$(host_routes "$H" | awk -v a="$A_D" '$1 == a { print $2 }')
assert_match "Docker host veth is lfn..." "$HV_D" '^lfn[0-9a-f]{11}$'
# what libnetwork does with Join's answer
ip -n "$H" link set "$SRC" netns "$C2" && ip -n "$C2" link set "$SRC" name eth0 &&
ip -n "$C2" addr add "$A_D/32" dev eth0 && ip -n "$C2" link set eth0 up &&
ip -n "$C2" route add 10.66.0.1/32 dev eth0 scope link &&
ip -n "$C2" route add default via 10.66.0.1 dev eth0 ||
	bail "configure the Docker workload as Docker would" "ip failed"

ping_ok "Docker workload -> CNI workload" "$C2" "$A_CNI"
ping_ok "CNI workload -> Docker workload" "$C1" "$A_D"
assert_eq "two host routes before GC" 2 "$(host_routes "$H" | grep -c .)"
assert_eq "two veths before GC" 2 "$(host_veths "$H" | grep -c .)"
assert_eq "two allocations before GC" 2 "$(alloc_count public)"

# ------------------------------------- CNI GC, empty valid-attachments
cni_conf public 1.1.0 '."cni.dev/valid-attachments" = []'
cni_gc "$H"
cni_expect_ok "CNI GC with an empty valid-attachments list"

# the CNI workload is gone ...
assert_eventually "GC removed the CNI host veth $HV_CNI" "" ip -n "$H" -o link show dev "$HV_CNI"
assert_eventually "... and the CNI workload's eth0 with it" "" ip -n "$C1" -o link show dev eth0
assert_not_contains "GC removed the CNI host route $A_CNI" "$(host_routes "$H")" "$A_CNI "
assert_not_contains "GC released the CNI allocation $A_CNI" "$(allocs_of public)" "$A_CNI "
# ... the Docker endpoint is not
assert_cmd "the Docker host veth $HV_D survives" ip -n "$H" link show dev "$HV_D"
assert_contains "the Docker host route (proto 76) survives" "$(host_routes "$H")" "$A_D $HV_D"
assert_contains "the Docker allocation survives" "$(allocs_of public)" "$A_D "
assert_eq "exactly one allocation left" 1 "$(alloc_count public)"
assert_contains "gateway /32 still on $HV_D" "$(ip -n "$H" -4 -o addr show dev "$HV_D")" "10.66.0.1/32"
ping_ok "the Docker workload still reaches its gateway" "$C2" 10.66.0.1
ping_ok "the Docker workload still reaches the host" "$C2" 10.255.0.1
dpost NetworkDriver.EndpointOperInfo "{\"NetworkID\":\"$N\",\"EndpointID\":\"$E\"}"
assert_eq "the plugin still knows the endpoint on $HV_D" "$HV_D" "$(dpj '.Value["leafnet.host_ifname"]')"
cni_gc "$H"
cni_expect_ok "a second GC succeeds"
assert_contains "... and still leaves the Docker route" "$(host_routes "$H")" "$A_D $HV_D"
assert_eq "... and the Docker allocation" 1 "$(alloc_count public)"

# --------------------------------------- docker stop / rm, network rm
dpost NetworkDriver.RevokeExternalConnectivity "{\"NetworkID\":\"$N\",\"EndpointID\":\"$E\"}"
dp_expect_ok "RevokeExternalConnectivity"
dpost NetworkDriver.Leave "{\"NetworkID\":\"$N\",\"EndpointID\":\"$E\"}"
dp_expect_ok "Leave"
dpost NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$N\",\"EndpointID\":\"$E\"}"
dp_expect_ok "DeleteEndpoint"
dpost IpamDriver.ReleaseAddress "{\"PoolID\":\"$P\",\"Address\":\"$A_D\"}"
dp_expect_ok "ReleaseAddress $A_D"
dpost IpamDriver.ReleaseAddress "{\"PoolID\":\"$P\",\"Address\":\"10.66.0.1\"}"
dp_expect_ok "ReleaseAddress (gateway)"
dpost IpamDriver.ReleasePool "{\"PoolID\":\"$P\"}"
dp_expect_ok "ReleasePool"
dpost NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$N\"}"
dp_expect_ok "DeleteNetwork"

assert_eq "no host route left" "" "$(host_routes "$H")"
assert_eventually "no veth left" "" host_veths "$H"
assert_eq "no lfd interface left" "" "$(ip -n "$H" -o link show | grep -o 'lfd[0-9a-f]*' || true)"
assert_eq "no allocation left" 0 "$(alloc_count public)"
assert_eq "no docker records left" "" "$(dp_records)"
nctl network inspect public
assert_eq "public (made with netctl) survives Docker's network rm" 0 "$NCTL_RC"
dp_stop
t_done
