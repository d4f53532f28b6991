#!/bin/bash
# Two containers on one host, dual stack: ADD, reachability, kernel state,
# CHECK (good and broken), DEL, and the late DEL runtimes send after the
# netns is gone.
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" ping

mkhost H
mkcontainer C1
mkcontainer C2

nctl_ok "network create" network create public --subnet=192.168.1.0/24 \
	--subnet=fd00:1::/64 --gateway=192.168.1.254
cni_conf public 1.1.0

# addr_of FAMILY: the address (no length) of that family in $CNI_OUT.
addr_of() {
	if [ "$1" = 6 ]; then
		jqv "$CNI_OUT" '[.ips[]?.address | select(contains(":"))][0] // empty | sub("/.*"; "")'
	else
		jqv "$CNI_OUT" '[.ips[]?.address | select(contains(":") | not)][0] // empty | sub("/.*"; "")'
	fi
}
host_if_of() { jqv "$CNI_OUT" '[.interfaces[]? | select((.sandbox // "") == "")][0].name // empty'; }

# ------------------------------------------------------------------ ADD
cni_add "$H" ctr-basic-1 "$C1" eth0
cni_expect_ok "ADD container 1" || bail "ADD container 1" "nothing else can be tested"
RES1=$CNI_OUT
A1=$(addr_of 4); A1_6=$(addr_of 6); HIF1=$(host_if_of)
cni_add "$H" ctr-basic-2 "$C2" eth0
cni_expect_ok "ADD container 2" || bail "ADD container 2" "nothing else can be tested"

A2=$(addr_of 4); A2_6=$(addr_of 6); HIF2=$(host_if_of)
diag "c1 $A1 $A1_6 via $HIF1, c2 $A2 $A2_6 via $HIF2"

assert_eq "result cniVersion is 1.1.0" 1.1.0 "$(jqv "$RES1" .cniVersion)"
assert_match "c1 v4 address in 192.168.1.0/24" "$A1" '^192\.168\.1\.[0-9]+$'
assert_match "c1 v6 address in fd00:1::/64" "$A1_6" '^fd00:1::[0-9a-f:]+$'
assert_ne "two containers get different v4 addresses" "$A1" "$A2"
assert_ne "two containers get different v6 addresses" "$A1_6" "$A2_6"
assert_ne "gateway 192.168.1.254 is never handed out" "192.168.1.254" "$A1"
assert_match "host veth named lfn + 11 hex" "$HIF1" '^lfn[0-9a-f]{11}$'
assert_eq "v4 gateway in result" 192.168.1.254 \
	"$(jqv "$RES1" '[.ips[] | select(.address | contains(":") | not)][0].gateway')"
assert_eq "v6 gateway in result is fe80::1" fe80::1 \
	"$(jqv "$RES1" '[.ips[] | select(.address | contains(":"))][0].gateway')"
assert_eq "container interface in result is eth0 with the container netns" \
	"eth0 $(nspath "$C1")" "$(jqv "$RES1" '[.interfaces[] | select((.sandbox // "") != "")][0] | "\(.name) \(.sandbox)"')"

# ------------------------------------------------------- kernel state
C1ADDR=$(ip -n "$C1" -o addr show dev eth0 2>&1)
assert_contains "container 1 has its /32 on eth0" "$C1ADDR" "inet $A1/32 "
assert_contains "container 1 has its /128 on eth0" "$C1ADDR" "inet6 $A1_6/128 "
assert_match "container 1 default route via 192.168.1.254 onlink" \
	"$(ip -n "$C1" -4 route show default)" 'default via 192\.168\.1\.254 dev eth0.*onlink'
assert_match "container 1 v6 default route via fe80::1" \
	"$(ip -n "$C1" -6 route show default)" 'default via fe80::1 dev eth0'
assert_match "eth0 is up in container 1" "$(ip -n "$C1" link show eth0)" 'state UP|LOWER_UP'
assert_eq "container 1 eth0 mtu 1500" 1500 "$(ip -n "$C1" -o link show eth0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')"

ROUTES=$(host_routes "$H")
assert_contains "host route $A1 dev $HIF1 proto 76" "$ROUTES" "$A1 $HIF1"
assert_contains "host route $A2 dev $HIF2 proto 76" "$ROUTES" "$A2 $HIF2"
assert_contains "host route $A1_6 dev $HIF1 proto 76" "$ROUTES" "$A1_6 $HIF1"
assert_eq "exactly 4 proto 76 routes" 4 "$(grep -c . <<<"$ROUTES")"
assert_match "host route is scope link" "$(ip -n "$H" route show proto 76 | grep -F "$A1 ")" 'scope link'
assert_eq "host veth alias names network, ifname and container" \
	"leafnet:public:eth0:ctr-basic-1" \
	"$(ip -n "$H" -d link show "$HIF1" | sed -n 's/^ *alias //p')"
assert_eq "proxy_arp on the host veth" 1 \
	"$(ip netns exec "$H" cat /proc/sys/net/ipv4/conf/"$HIF1"/proxy_arp 2>&1)"

# -------------------------------------------------------- reachability
ping_ok "c1 -> c2 over IPv4" "$C1" "$A2"
ping_ok "c2 -> c1 over IPv4" "$C2" "$A1"
ping_ok "c1 -> c2 over IPv6" "$C1" "$A2_6"
ping_ok "c2 -> c1 over IPv6" "$C2" "$A1_6"
ping_ok "c1 -> host over IPv4" "$C1" 10.255.0.1
ping_ok "c1 -> host over IPv6" "$C1" fd00:ff::1
ping_ok "host -> c2 over IPv4" "$H" "$A2"
ping_ok "host -> c2 over IPv6" "$H" "$A2_6"

# --------------------------------------------------------------- CHECK
CNI_OUT=$RES1
cni_with_prev
cni_check "$H" ctr-basic-1 "$C1" eth0
cni_expect_ok "CHECK passes on an intact attachment"

ip -n "$H" route del "$A1/32" dev "$HIF1" proto 76 || notok "delete host route by hand" "ip route del failed"
cni_check "$H" ctr-basic-1 "$C1" eth0
if [ "$CNI_RC" != 0 ]; then ok "CHECK fails once the host route is gone"; else notok "CHECK fails once the host route is gone" "exit 0"; fi
assert_match "CHECK error names the route" "$(jqv "$CNI_OUT" '"\(.msg) \(.details // "")"')" '[Rr]oute'
assert_match "CHECK error has a CNI code" "$(jqv "$CNI_OUT" .code)" '^[0-9]+$'

# ----------------------------------------------------------------- DEL
cni_del "$H" ctr-basic-1 "$C1" eth0
cni_expect_ok "DEL container 1 (with prevResult)"
assert_eventually "host veth $HIF1 gone" "" ip -n "$H" link show "$HIF1"
assert_eventually "eth0 gone from container 1" "" ip -n "$C1" link show eth0
ROUTES=$(host_routes "$H")
assert_not_contains "no route for $A1_6 after DEL" "$ROUTES" "$A1_6 "
assert_eq "only container 2's routes remain" 2 "$(grep -c "$HIF2" <<<"$ROUTES")"
ALLOCS=$(allocs_of public)
assert_not_contains "no allocation for container 1 after DEL" "$ALLOCS" "ctr-basic-1"
assert_contains "container 2 still allocated" "$ALLOCS" "ctr-basic-2"

# The runtime deletes the netns, then sends DEL again with CNI_NETNS="" and
# no prevResult (CNI spec: DEL must tolerate missing resources).
ip netns del "$C1"
cni_conf public 1.1.0
cni_del "$H" ctr-basic-1 "" eth0
cni_expect_ok "second DEL with empty CNI_NETNS after the netns is gone"
assert_eq "second DEL prints nothing" "" "$CNI_OUT"

# Container 2: DEL with the netns still present but no prevResult.
cni_del "$H" ctr-basic-2 "$C2" eth0
cni_expect_ok "DEL container 2 (no prevResult)"
assert_eq "no proto 76 route left" "" "$(host_routes "$H")"
assert_eventually "no lfn veth left" "" host_veths "$H"
assert_eq "no allocation left" 0 "$(alloc_count public)"
cni_del "$H" ctr-basic-2 "$C2" eth0
cni_expect_ok "repeated DEL of container 2 is a no-op"

t_done
