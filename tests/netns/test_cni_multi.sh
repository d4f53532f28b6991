#!/bin/bash
# Secondary interfaces (Multus-style CNI_IFNAME=net1, or two leafnet
# networks in one pod), dual stack: the first interface owns the default
# route; a later one gets a route to its network's subnets via its gateway
# (onlink), so traffic to that network leaves through it.  Container C1:
# eth0 on network A, net1 on network B.  Container C2: eth0 and net1 both on
# A (two allocations).  Pings to workloads WA (in A) and WB (in B), `ip
# route get` naming the interface, CHECK for each, DEL of either interface
# leaving the other working, nothing left at the end.
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" ping

mkhost H
mkcontainer C1
mkcontainer C2
mkcontainer WA
mkcontainer WB

nctl_ok "network A" network create neta --subnet=192.168.10.0/24 \
	--subnet=fd00:10::/64 --gateway=192.168.10.254
nctl_ok "network B" network create netb --subnet=192.168.20.0/24 --subnet=fd00:20::/64

# addr_of FAMILY: the address (no length) of that family in $CNI_OUT.
addr_of() {
	if [ "$1" = 6 ]; then
		jqv "$CNI_OUT" '[.ips[]?.address | select(contains(":"))][0] // empty | sub("/.*"; "")'
	else
		jqv "$CNI_OUT" '[.ips[]?.address | select(contains(":") | not)][0] // empty | sub("/.*"; "")'
	fi
}
host_if_of() { jqv "$CNI_OUT" '[.interfaces[]? | select((.sandbox // "") == "")][0].name // empty'; }
# route_dev NS DEST: the interface `ip route get DEST` picks in NS.
route_dev() {
	ip -n "$1" route get "$2" 2>&1 | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }'
}
# add NETWORK CID NS IFNAME WHAT: ADD that must work (bails otherwise).
add() {
	cni_conf "$1" 1.1.0
	cni_add "$H" "$2" "$3" "$4"
	cni_expect_ok "$5" || bail "$5" "nothing else can be tested"
}
# check NETWORK CID NS IFNAME RESULT WHAT: CHECK with RESULT as prevResult.
check() {
	cni_conf "$1" 1.1.0
	CNI_OUT=$5
	cni_with_prev
	cni_check "$H" "$2" "$3" "$4"
	cni_expect_ok "$6"
}
del() {
	cni_conf "$1" 1.1.0
	cni_del "$H" "$2" "$3" "$4"
	cni_expect_ok "$5"
}

# ------------------------------------------------------ the ping targets
add neta ctr-wa "$WA" eth0 "ADD workload WA (network A)"
WA4=$(addr_of 4); WA6=$(addr_of 6)
add netb ctr-wb "$WB" eth0 "ADD workload WB (network B)"
WB4=$(addr_of 4); WB6=$(addr_of 6)

# ------------------------------------------- C1: eth0 on A, net1 on B
add neta ctr-c1 "$C1" eth0 "C1: ADD eth0 on A"
R1E=$CNI_OUT; C1E4=$(addr_of 4); C1E6=$(addr_of 6); HIF1E=$(host_if_of)
add netb ctr-c1 "$C1" net1 "C1: ADD net1 on B (container already has default routes)"
R1N=$CNI_OUT; C1N4=$(addr_of 4); C1N6=$(addr_of 6); HIF1N=$(host_if_of)
diag "C1 eth0 $C1E4 $C1E6 ($HIF1E), net1 $C1N4 $C1N6 ($HIF1N); WA $WA4 WB $WB4"

assert_match "C1 net1 address in B" "$C1N4" '^192\.168\.20\.[0-9]+$'
assert_ne "C1's two interfaces have two host veths" "$HIF1E" "$HIF1N"
assert_match "C1 v4 default route via 192.168.10.254 dev eth0" \
	"$(ip -n "$C1" -4 route show default)" '^default via 192\.168\.10\.254 dev eth0 .*onlink'
assert_eq "C1 has exactly one v4 default route" 1 "$(count_lines ip -n "$C1" -4 route show default)"
assert_eq "C1 has exactly one v6 default route" 1 "$(count_lines ip -n "$C1" -6 route show default)"
assert_match "C1 v6 default route via fe80::1 dev eth0" \
	"$(ip -n "$C1" -6 route show default)" '^default via fe80::1 dev eth0'
assert_match "C1 route to B's v4 subnet via 169.254.1.1 dev net1 onlink" \
	"$(ip -n "$C1" -4 route show 192.168.20.0/24)" '^192\.168\.20\.0/24 via 169\.254\.1\.1 dev net1 .*onlink'
assert_match "C1 route to B's v6 subnet via fe80::1 dev net1" \
	"$(ip -n "$C1" -6 route show fd00:20::/64)" '^fd00:20::/64 via fe80::1 dev net1'
assert_contains "C1 net1 has its /32" "$(ip -n "$C1" -o addr show dev net1)" "inet $C1N4/32 "
assert_match "C1 permanent neighbour for the gateway on net1" \
	"$(ip -n "$C1" neigh show dev net1 169.254.1.1)" 'PERMANENT'
assert_eq "net1's result: routes are B's subnets, no default" \
	"192.168.20.0/24 169.254.1.1,fd00:20::/64 fe80::1" \
	"$(jqv "$R1N" '[.routes[] | "\(.dst) \(.gw)"] | join(",")')"
assert_eq "eth0's result: default routes" "0.0.0.0/0 192.168.10.254,::/0 fe80::1" \
	"$(jqv "$R1E" '[.routes[] | "\(.dst) \(.gw)"] | join(",")')"
ROUTES=$(host_routes "$H")
assert_contains "host route for C1 net1 v4 (proto 76)" "$ROUTES" "$C1N4 $HIF1N"
assert_contains "host route for C1 net1 v6 (proto 76)" "$ROUTES" "$C1N6 $HIF1N"
assert_eq "net1's host veth alias" "leafnet:netb:net1:ctr-c1" \
	"$(ip -n "$H" -d link show "$HIF1N" | sed -n 's/^ *alias //p')"
assert_eq "proxy_arp on net1's host veth" 1 \
	"$(ip netns exec "$H" cat /proc/sys/net/ipv4/conf/"$HIF1N"/proxy_arp 2>&1)"

assert_eq "C1: route get WB (v4) leaves via net1" net1 "$(route_dev "$C1" "$WB4")"
assert_eq "C1: route get WB (v6) leaves via net1" net1 "$(route_dev "$C1" "$WB6")"
assert_eq "C1: route get WA (v4) leaves via eth0" eth0 "$(route_dev "$C1" "$WA4")"
assert_eq "C1: route get WA (v6) leaves via eth0" eth0 "$(route_dev "$C1" "$WA6")"
assert_eq "C1: route get host leaves via eth0" eth0 "$(route_dev "$C1" 10.255.0.1)"
ping_ok "C1 -> WB over IPv4 (net1)" "$C1" "$WB4"
ping_ok "C1 -> WB over IPv6 (net1)" "$C1" "$WB6"
ping_ok "C1 -> WA over IPv4 (eth0)" "$C1" "$WA4"
ping_ok "C1 -> WA over IPv6 (eth0)" "$C1" "$WA6"
ping_ok "WB -> C1 net1 over IPv4" "$WB" "$C1N4"
ping_ok "WA -> C1 eth0 over IPv4" "$WA" "$C1E4"
ping_ok "C1 -> host over IPv4" "$C1" 10.255.0.1

check neta ctr-c1 "$C1" eth0 "$R1E" "C1: CHECK eth0 passes"
check netb ctr-c1 "$C1" net1 "$R1N" "C1: CHECK net1 passes"

# CHECK notices the secondary's subnet route gone, and is happy once it is back.
ip -n "$C1" route del 192.168.20.0/24 || notok "delete net1's route by hand" "ip route del failed"
cni_conf netb 1.1.0; CNI_OUT=$R1N; cni_with_prev
cni_check "$H" ctr-c1 "$C1" net1
if [ "$CNI_RC" != 0 ]; then ok "C1: CHECK net1 fails without its subnet route"; else notok "C1: CHECK net1 fails without its subnet route" "exit 0"; fi
assert_match "CHECK error names the subnet route" "$(jqv "$CNI_OUT" '"\(.msg) \(.details // "")"')" \
	'route to 192\.168\.20\.0/24 via 169\.254\.1\.1 dev net1'
ip -n "$C1" route add 192.168.20.0/24 via 169.254.1.1 dev net1 onlink || notok "put net1's route back" "ip route add failed"
check netb ctr-c1 "$C1" net1 "$R1N" "C1: CHECK net1 passes again with the route back"

# DEL net1: eth0 goes on working (B is still reached through the host).
del netb ctr-c1 "$C1" net1 "C1: DEL net1"
assert_eventually "C1: net1 gone" "" ip -n "$C1" link show net1
assert_eventually "C1: net1's host veth gone" "" ip -n "$H" link show "$HIF1N"
assert_not_contains "C1: net1's allocation released" "$(allocs_of netb)" "ctr-c1"
assert_contains "C1: eth0's allocation kept" "$(allocs_of neta)" "$C1E4 ctr-c1 eth0"
assert_eq "C1: route get WB now leaves via eth0" eth0 "$(route_dev "$C1" "$WB4")"
ping_ok "C1 -> WA over IPv4 after DEL net1" "$C1" "$WA4"
ping_ok "C1 -> WB over IPv4 after DEL net1 (via eth0)" "$C1" "$WB4"
check neta ctr-c1 "$C1" eth0 "$R1E" "C1: CHECK eth0 passes after DEL net1"

# ADD net1 again, then DEL eth0: net1 goes on working.
add netb ctr-c1 "$C1" net1 "C1: ADD net1 again"
R1N=$CNI_OUT; C1N4=$(addr_of 4); HIF1N=$(host_if_of)
assert_eq "C1: net1 is secondary again (route to B via net1)" net1 "$(route_dev "$C1" "$WB4")"
del neta ctr-c1 "$C1" eth0 "C1: DEL eth0"
assert_eventually "C1: eth0 gone" "" ip -n "$C1" link show eth0
assert_eq "C1: no default route left" "" "$(ip -n "$C1" -4 route show default)"
assert_eq "C1: route get WB leaves via net1" net1 "$(route_dev "$C1" "$WB4")"
ping_ok "C1 -> WB over IPv4 after DEL eth0" "$C1" "$WB4"
ping_ok "C1 -> WB over IPv6 after DEL eth0" "$C1" "$WB6"
ping_ok "WB -> C1 net1 after DEL eth0" "$WB" "$C1N4"
check netb ctr-c1 "$C1" net1 "$R1N" "C1: CHECK net1 passes after DEL eth0"
del netb ctr-c1 "$C1" net1 "C1: DEL net1"
assert_eventually "C1: no interface but lo left" "lo" \
	sh -c "ip -n '$C1' -o link show | awk -F': ' '{ sub(/@.*/, \"\", \$2); print \$2 }'"
assert_not_contains "C1: no allocation left in A" "$(allocs_of neta)" "ctr-c1"
assert_not_contains "C1: no allocation left in B" "$(allocs_of netb)" "ctr-c1"

# -------------------------------------------- C2: eth0 and net1 both on A
add neta ctr-c2 "$C2" eth0 "C2: ADD eth0 on A"
R2E=$CNI_OUT; C2E4=$(addr_of 4); HIF2E=$(host_if_of)
add neta ctr-c2 "$C2" net1 "C2: ADD net1 on A too"
R2N=$CNI_OUT; C2N4=$(addr_of 4); C2N6=$(addr_of 6); HIF2N=$(host_if_of)
assert_ne "C2: two addresses in A, one per interface" "$C2E4" "$C2N4"
ALLOCS=$(allocs_of neta)
assert_contains "C2: eth0's allocation" "$ALLOCS" "$C2E4 ctr-c2 eth0"
assert_contains "C2: net1's allocation" "$ALLOCS" "$C2N4 ctr-c2 net1"
assert_ne "C2: two host veths" "$HIF2E" "$HIF2N"
assert_match "C2: default via eth0" "$(ip -n "$C2" -4 route show default)" 'dev eth0'
assert_match "C2: A's subnet via 192.168.10.254 dev net1 onlink" \
	"$(ip -n "$C2" -4 route show 192.168.10.0/24)" '^192\.168\.10\.0/24 via 192\.168\.10\.254 dev net1 .*onlink'
assert_eq "C2: route get WA leaves via net1" net1 "$(route_dev "$C2" "$WA4")"
ping_ok "C2 -> WA over IPv4 (net1)" "$C2" "$WA4"
ping_ok "C2 -> WA over IPv6 (net1)" "$C2" "$WA6"
ping_ok "C2 -> WB over IPv4 (eth0 default)" "$C2" "$WB4"
ping_ok "WA -> C2 net1" "$WA" "$C2N4"
ping_ok "WA -> C2 net1 over IPv6" "$WA" "$C2N6"
check neta ctr-c2 "$C2" eth0 "$R2E" "C2: CHECK eth0 passes"
check neta ctr-c2 "$C2" net1 "$R2N" "C2: CHECK net1 passes"
del neta ctr-c2 "$C2" eth0 "C2: DEL eth0"
ping_ok "C2 -> WA via net1 after DEL eth0" "$C2" "$WA4"
check neta ctr-c2 "$C2" net1 "$R2N" "C2: CHECK net1 passes after DEL eth0"
del neta ctr-c2 "$C2" net1 "C2: DEL net1"
del neta ctr-c2 "$C2" net1 "C2: repeated DEL net1 is a no-op"

# ----------------------------------------------------------- nothing left
del neta ctr-wa "$WA" eth0 "DEL WA"
del netb ctr-wb "$WB" eth0 "DEL WB"
assert_eq "no proto 76 route left" "" "$(host_routes "$H")"
assert_eventually "no lfn veth left" "" host_veths "$H"
assert_eq "no allocation left in A" 0 "$(alloc_count neta)"
assert_eq "no allocation left in B" 0 "$(alloc_count netb)"
assert_eq "C2: no route left in the container" "" "$(ip -n "$C2" route show; ip -n "$C2" -6 route show | grep -v '^multicast')"

t_done
