#!/bin/bash
# leafnetd against a real BGP speaker: one node (a host netns running
# leafnetd, AS 65002) and a BIRD 2 ToR (its own netns, AS 500) joined by a
# veth carrying 10.0.0.0/24 and fd00:100::/64.  One eBGP session over IPv4
# carries IPv4 and IPv6 unicast (MP-BGP); the ToR hands out only a default
# route ("downward default").
#
# Checks: netctl status shows the peer Established; the default from the
# ToR lands in the node's kernel as proto 77; a container's /32 and /128
# reach the ToR with AS_PATH 65002 and the node as next hop, and leave on
# DEL; a per-host block is advertised as its /26 aggregate; a non-routable
# network's route carries 64511:100; BIRD restarted and leafnetd restarted
# (SIGTERM = Cease) both heal with the routes re-advertised.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" "$BIN/leafnetd" bird birdc ping

NODE_AS=65002
TOR_AS=500

# ------------------------------------------------------------- topology
mkhost H
mkns TOR
mkcontainer C1
mkcontainer C2
mkcontainer C3
ip link add lt-n$$ netns "$H" type veth peer name lt-t$$ netns "$TOR" || bail "veth node <-> ToR"
ip -n "$H" link set lt-n$$ name uplink && ip -n "$TOR" link set lt-t$$ name down1 || bail "rename veths"
ip -n "$H" addr add 10.0.0.1/24 dev uplink && ip -n "$H" addr add fd00:100::1/64 dev uplink nodad &&
ip -n "$TOR" addr add 10.0.0.254/24 dev down1 && ip -n "$TOR" addr add fd00:100::254/64 dev down1 nodad &&
ip -n "$H" link set uplink up && ip -n "$TOR" link set down1 up || bail "veth addresses"
ip netns exec "$TOR" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$TOR" sysctl -qw net.ipv6.conf.all.forwarding=1

# ------------------------------------------------------------ the ToR
bird_init tor "$TOR" 10.0.0.254
bird_kernel tor fib
bird_default_route tor
BIRD_V6_EXTRA='next hop address fd00:100::254;' \
	bird_peer tor node1 10.0.0.254 "$TOR_AS" 10.0.0.1 "$NODE_AS" default default
bird_start tor

# --------------------------------------------------------- leafnet side
nctl_ok "network pub (dual stack, /32s)" network create pub --subnet=192.168.1.0/24 \
	--subnet=fd00:1::/64 --gateway=192.168.1.254 --no-aggregate
nctl_ok "network agg (aggregated blocks)" network create agg --subnet=192.168.2.0/24
nctl_ok "network priv (non-routable)" network create priv --subnet=192.168.3.0/24 \
	--non-routable --no-aggregate
nctl_ok "bgp create (IPv4 router IP)" bgp create node1 --router-ip=10.0.0.1/24 --as=$NODE_AS \
	--neighbor-as=$TOR_AS --neighbor=10.0.0.254
nctl_ok "bgp create (IPv6 router IP, same neighbor)" bgp create node1 --router-ip=fd00:100::1/64 \
	--as=$NODE_AS --neighbor-as=$TOR_AS --neighbor=10.0.0.254
nctl_ok "node-mesh off" bgp node-mesh off

ld_start n1 "$H" "$T_CONF"

# -------------------------------------------------------------- session
if ld_wait_established n1 10.0.0.254 10; then
	ok "netctl status: peer 10.0.0.254 Established within 10 s"
else
	notok "netctl status: peer 10.0.0.254 Established within 10 s" \
		"got: $(ld_status n1 | xargs | cut -c1-300)"
	bird_diag tor
fi
STATUS=$(ld_status n1)
assert_contains "netctl status says leafnetd is running" "$STATUS" "leafnetd process is running."
assert_match "status row: node specific peer, up" "$(grep -F 10.0.0.254 <<<"$STATUS")" '[Nn]ode.specific.*up'
SJSON=$(ld_status n1 -o json)
if [ -n "$SJSON" ] && jq -e 'type == "object" or type == "array"' >/dev/null 2>&1 <<<"$SJSON"; then
	ok "netctl status -o json is JSON"
else
	notok "netctl status -o json is JSON" "exit $NCTL_RC: $(echo $SJSON $NCTL_ERR | cut -c1-200)"
fi
assert_eq "status JSON: the peer's state is Established" Established "$(ld_peer_state n1 10.0.0.254)"
assert_bird_established "BIRD sees the session Established" tor node1 5

# Downward default: only 0/0 and ::/0 from the ToR, into the kernel as 77 (leafnet-bgp).
assert_eventually "downward default in the node's kernel (proto 77)" 1 \
	count_lines ip -n "$H" -4 route show proto 77 default via 10.0.0.254
assert_eventually "IPv6 downward default in the node's kernel (proto 77)" 1 \
	count_lines ip -n "$H" -6 route show proto 77 default
assert_eq "nothing but the defaults learned (proto 77)" 2 \
	"$(( $(count_lines ip -n "$H" -4 route show proto 77) + $(count_lines ip -n "$H" -6 route show proto 77) ))"

# ------------------------------------------------------ CNI ADD / DEL
v4_of() { jqv "$CNI_OUT" '[.ips[]?.address | select(contains(":") | not)][0] // empty | sub("/.*"; "")'; }
v6_of() { jqv "$CNI_OUT" '[.ips[]?.address | select(contains(":"))][0] // empty | sub("/.*"; "")'; }

cni_conf pub 1.1.0
cni_add "$H" ctr-bgp-1 "$C1" eth0
cni_expect_ok "ADD c1 on pub" || bail "ADD c1" "nothing else can be tested"
A1=$(v4_of); A1_6=$(v6_of)
diag "c1: $A1 $A1_6"
assert_bird_route "c1 /32 on the ToR via the node" tor "$A1/32" 10.0.0.1 2
assert_eq "c1 /32 AS_PATH is the node's AS" "$NODE_AS" "$(bird_attr tor "$A1/32" BGP.as_path)"
assert_eq "c1 /32 BGP.next_hop is the node's router IP" 10.0.0.1 "$(bird_attr tor "$A1/32" BGP.next_hop)"
assert_eq "c1 /32 origin IGP" IGP "$(bird_attr tor "$A1/32" BGP.origin)"
assert_eq "no community on a routable network's route" "" "$(bird_attr tor "$A1/32" BGP.community)"
assert_bird_route "c1 /128 on the ToR through MP-BGP" tor "$A1_6/128" "" 2
assert_contains "c1 /128 next hop is the node's IPv6 router IP" \
	"$(bird_attr tor "$A1_6/128" BGP.next_hop)" fd00:100::1
assert_eq "c1 /128 AS_PATH is the node's AS" "$NODE_AS" "$(bird_attr tor "$A1_6/128" BGP.as_path)"
ping_ok "ToR -> c1 over IPv4 (the ToR's FIB route works)" "$TOR" "$A1"
ping_ok "ToR -> c1 over IPv6" "$TOR" "$A1_6"

cni_del "$H" ctr-bgp-1 "$C1" eth0
cni_expect_ok "DEL c1"
assert_bird_absent "DEL c1 -> /32 withdrawn from the ToR" tor "$A1/32" 2
assert_bird_absent "DEL c1 -> /128 withdrawn from the ToR" tor "$A1_6/128" 2

# ------------------------------------------------------------ aggregate
cni_conf agg 1.1.0
cni_add "$H" ctr-bgp-2 "$C2" eth0
cni_expect_ok "ADD c2 on agg (aggregation on)" || bail "ADD c2"
A2=$(v4_of)
sleep 0.5
BEST=$(bird_route_for tor "$A2")
assert_match "ToR holds c2's /26 block, not the /32" "$BEST" '^192\.168\.2\.[0-9]+/26$'
assert_eq "no /32 for c2 on the ToR" "" "$(bird_route tor "$A2/32")"
assert_eq "c2's block next hop is the node" 10.0.0.1 "$(bird_for_nexthops tor "$A2")"
ping_ok "ToR -> c2 through the aggregate" "$TOR" "$A2"

# --------------------------------------------------------- non-routable
cni_conf priv 1.1.0
cni_add "$H" ctr-bgp-3 "$C3" eth0
cni_expect_ok "ADD c3 on priv (non-routable)" || bail "ADD c3"
A3=$(v4_of)
assert_bird_route "c3 /32 on the ToR" tor "$A3/32" 10.0.0.1 2
assert_contains "c3 carries the non-routable community 64511:100" \
	"$(bird_attr tor "$A3/32" BGP.community)" "(64511,100)"

# ------------------------------------------------------ BIRD restarted
bird_restart tor
assert_bird_established "BIRD restarted -> session back" tor node1 10
assert_bird_route "BIRD restarted -> c3 /32 re-advertised" tor "$A3/32" 10.0.0.1 3
assert_eq "BIRD restarted -> c2 block re-advertised" 10.0.0.1 "$(sleep 0.5; bird_for_nexthops tor "$A2")"
if ld_wait_established n1 10.0.0.254 10; then ok "netctl status Established again after BIRD restart"
else notok "netctl status Established again after BIRD restart" "$(ld_status n1 | grep -F 10.0.0.254)"; fi

# -------------------------------------------------- leafnetd restarted
ld_stop n1
assert_eq "leafnetd exits 0 on SIGTERM" 0 "$?"
assert_bird_absent "leafnetd stopped -> c3 /32 withdrawn" tor "$A3/32" 3
assert_match "BIRD got a Cease (administrative shutdown)" \
	"$(grep -i 'node1' "$(bird_log tor)" | grep -iE 'received.*(shutdown|cease)' | tail -1)" '.'
nctl status
assert_not_contains "netctl status does not claim a stopped leafnetd runs" \
	"$NCTL_OUT" "leafnetd process is running."
ld_start n1 "$H" "$T_CONF"
assert_bird_established "leafnetd restarted -> session back" tor node1 10
assert_bird_route "leafnetd restarted -> c3 /32 re-advertised (kernel dump)" tor "$A3/32" 10.0.0.1 3
assert_eq "leafnetd restarted -> c2 block re-advertised" 10.0.0.1 "$(sleep 0.5; bird_for_nexthops tor "$A2")"
assert_eventually "leafnetd restarted -> default back in the kernel" 1 \
	count_lines ip -n "$H" -4 route show proto 77 default

# --------------------------------------------------------------- teardown
cni_conf agg 1.1.0
cni_del "$H" ctr-bgp-2 "$C2" eth0
cni_expect_ok "DEL c2"
cni_conf priv 1.1.0
cni_del "$H" ctr-bgp-3 "$C3" eth0
cni_expect_ok "DEL c3"
assert_bird_absent "DEL c3 -> withdrawn" tor "$A3/32" 2
sleep 0.5
assert_eq "ToR holds no container /32 at the end" "" \
	"$(birdq tor show route | grep -E '^192\.168\.[0-9.]+/32' | xargs)"
diag "ToR's 192.168 routes at the end (empty blocks): $(birdq tor show route | grep -E '^192\.168\.' | awk '{print $1}' | xargs)"
ld_stop n1
assert_eq "leafnetd exits 0 on SIGTERM at the end" 0 "$?"
bird_stop_all
t_done
