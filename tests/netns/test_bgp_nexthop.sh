#!/bin/bash
# Next hops of learned routes are checked and resolved (RFC 4271 §5.1.3,
# §6.3, §9.1.2.1).  One node (leafnetd, AS 65002) with two uplinks, each
# to a BIRD ToR (AS 500); behind both ToRs a "far" netns holds 10.99.0.1.
# The ToRs' export filters set the NEXT_HOPs (bgp_next_hop = X):
#
#   prefix         ToR1 (10.0.1.254)       ToR2 (10.0.2.254)
#   10.99.0.0/24   itself                  10.77.0.1 (resolvable later, by a route)
#   10.98.0.0/24   -                       10.78.0.1 (resolvable later, by an address)
#   10.97.0.0/24   10.0.1.5 (the node's)   -
#   10.96.0.0/24   10.255.0.1 (the node's, on lo)
#   10.95.0.0/24   itself                  10.79.0.1 (a "scope global" dev route:
#                                                    the kernel refuses it; sent
#                                                    from part (d) on)
#
# Checks: (a) a next hop that is the node's own address is not installed,
# and counts as unusable in `netctl status -o json`; (b) an unresolvable
# one is not installed until an address (a connected network) or a route
# makes it resolvable, then it is, resolved (`ip route` shows the resolving
# route's gateway, or the next hop onlink with bgp_nexthop_onlink), and it
# goes again when they go; (c) ToR2's unusable path never costs ToR1's
# path of the same prefix its kernel route (ping across), and once usable
# both are used (ECMP); (d) the kernel refusing the ECMP route keeps the
# good hop, and the refused one is retried (back-off) and installed once
# the kernel takes it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
t_require "$BIN/netctl" "$BIN/leafnetd" bird birdc ping

NODE_AS=65002
TOR_AS=500

# ------------------------------------------------------------- topology
mkhost H
mkns TOR1
mkns TOR2
mkns FAR
link() {	# link NS1 IF1 ADDR1 NS2 IF2 ADDR2
	ip link add ln-a$$ netns "$1" type veth peer name ln-b$$ netns "$4" || bail "veth $2 <-> $5"
	ip -n "$1" link set ln-a$$ name "$2" && ip -n "$4" link set ln-b$$ name "$5" &&
	ip -n "$1" addr add "$3" dev "$2" && ip -n "$4" addr add "$6" dev "$5" &&
	ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up || bail "veth $2 <-> $5 addresses"
}
link "$H" uplink1 10.0.1.1/24 "$TOR1" down1 10.0.1.254/24
link "$H" uplink2 10.0.2.1/24 "$TOR2" down1 10.0.2.254/24
link "$TOR1" far 10.0.11.1/24 "$FAR" in1 10.0.11.2/24
link "$TOR2" far 10.0.12.1/24 "$FAR" in2 10.0.12.2/24
ip -n "$TOR2" addr add 10.78.0.1/24 dev down1 || bail "ToR2's second address"
# a second address of the node's on uplink1 (BIRD never sends a next hop
# that is the session's own address; leafnetd's router id check covers that)
ip -n "$H" addr add 10.0.1.5/24 dev uplink1 || bail "node's second address"
ip -n "$FAR" addr add 10.99.0.1/32 dev lo || bail "far address"
ip -n "$FAR" route add 10.0.1.0/24 via 10.0.11.1 && ip -n "$FAR" route add 10.0.2.0/24 via 10.0.12.1 &&
ip -n "$TOR1" route add 10.99.0.0/24 via 10.0.11.2 && ip -n "$TOR2" route add 10.99.0.0/24 via 10.0.12.2 ||
	bail "static routes to and from far"
for ns in "$H" "$TOR1" "$TOR2" "$FAR"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.default.rp_filter=0
done
# the operator's static route the kernel will not resolve a gateway through
ip -n "$H" route add 10.79.0.0/24 dev uplink2 scope global || bail "scope global dev route"

# ------------------------------------------------------------ the ToRs
tor() {		# tor NAME NS ADDR NODE-ADDR FILTER-BODY STATIC-ROUTES
	bird_init "$1" "$2" "$3"
	bird_raw "$1" "
protocol static routes4 { ipv4; $6 }
protocol bgp node1 {
	local $3 as $TOR_AS;
	neighbor $4 as $NODE_AS;
	$BIRD_TIMERS
	ipv4 { import none; export filter { $5 accept; }; };
}"
	bird_start "$1"
}
tor tor1 "$TOR1" 10.0.1.254 10.0.1.1 "
		if net = 10.97.0.0/24 then bgp_next_hop = 10.0.1.5;
		if net = 10.96.0.0/24 then bgp_next_hop = 10.255.0.1;" \
	"route 10.99.0.0/24 via 10.0.11.2; route 10.97.0.0/24 blackhole;
	 route 10.96.0.0/24 blackhole; }
	protocol static routes95 { disabled; ipv4; route 10.95.0.0/24 blackhole;"
tor tor2 "$TOR2" 10.0.2.254 10.0.2.1 "
		if net = 10.99.0.0/24 then bgp_next_hop = 10.77.0.1;
		if net = 10.98.0.0/24 then bgp_next_hop = 10.78.0.1;
		if net = 10.95.0.0/24 then bgp_next_hop = 10.79.0.1;" \
	"route 10.99.0.0/24 via 10.0.12.2; route 10.98.0.0/24 blackhole; }
	protocol static routes95 { disabled; ipv4; route 10.95.0.0/24 blackhole;"

# --------------------------------------------------------- leafnet side
nctl_ok "bgp create (ToR1)" bgp create node1 --router-ip=10.0.1.1/24 --as=$NODE_AS \
	--neighbor-as=$TOR_AS --neighbor=10.0.1.254
nctl_ok "node bgp peer add (ToR2)" node bgp peer add 10.0.2.254 as $TOR_AS
nctl_ok "node-mesh off" bgp node-mesh off
ld_start n1 "$H" "$T_CONF"
LOG=$T_TMP/leafnetd-n1.log
for p in 10.0.1.254 10.0.2.254; do
	if ld_wait_established n1 $p 10; then
		ok "peer $p Established"
	else
		notok "peer $p Established" "$(ld_status n1 | xargs | cut -c1-300)"
	fi
done
assert_bird_established "ToR2 sees its session Established" tor2 node1 5

# gateways (and onlink) of a proto 77 route, sorted: "10.0.1.254 10.0.2.254"
hops() {
	ip -n "$H" -4 route show proto 77 exact "$1" |
		grep -oE 'via [0-9.]+( dev [a-z0-9]+)?( weight [0-9]+)?( onlink)?' |
		sed -E 's/ weight [0-9]+//; s/ dev [a-z0-9]+//' | awk '{ $1 = ""; print substr($0, 2) }' |
		sort | xargs
}
peer_json() { jq -r --arg p "$1" "[.peers[] | select(.address == \$p) | .$2][0]" \
	<<<"$(ld_status n1 -o json)" 2>/dev/null; }

# ----------------------------------------------- (c) the good path stays
assert_eventually "(c) ToR2 sent 2 routes (10.95 comes later)" 2 peer_json 10.0.2.254 received
assert_eventually "(a) ToR1 sent 3 routes, all kept" 3 peer_json 10.0.1.254 received
assert_eventually "(c) 10.99.0.0/24 installed via ToR1 only (ToR2's next hop unresolvable)" \
	10.0.1.254 hops 10.99.0.0/24
ping_ok "(c) node -> far through ToR1" "$H" 10.99.0.1
assert_eq "(b) status: 2 of ToR2's routes unusable (10.99, 10.98)" 2 "$(peer_json 10.0.2.254 unusable)"

# ----------------------------------------------------- (a) our addresses
assert_eq "(a) next hop = the node's (second) uplink address: not installed" "" "$(hops 10.97.0.0/24)"
assert_eq "(a) next hop = the node's lo address: not installed" "" "$(hops 10.96.0.0/24)"
assert_eq "(a) status: ToR1's 2 routes via our addresses unusable" 2 "$(peer_json 10.0.1.254 unusable)"
assert_match "(a) leafnetd says why" "$(cat "$LOG")" 'next hop 10\.0\.1\.5: our own address'
assert_eq "(b) 10.98.0.0/24: next hop unresolvable, not installed" "" "$(hops 10.98.0.0/24)"

# ----------------------------------- (b)(c) a route makes it resolvable
ip -n "$H" route add 10.77.0.0/24 via 10.0.2.254 dev uplink2 || bail "route to 10.77.0.0/24"
assert_eventually "(b) a route to 10.77.0.1 appears: ECMP via ToR1 and the resolved gateway" \
	"10.0.1.254 10.0.2.254" hops 10.99.0.0/24
assert_not_contains "(b) installed resolved, not via 10.77.0.1" \
	"$(ip -n "$H" route show exact 10.99.0.0/24)" 10.77.0.1
ping_ok "(c) node -> far with both paths" "$H" 10.99.0.1
assert_eq "(c) status: 1 of ToR2's routes unusable now" 1 "$(peer_json 10.0.2.254 unusable)"

# the operator wants next hops onlink: SIGHUP picks the config up
jq '.bgp_nexthop_onlink = true' "$T_CONF" >"$T_CONF.new" && mv "$T_CONF.new" "$T_CONF"
kill -HUP "${LD_PID[n1]}"
assert_eventually "(b) bgp_nexthop_onlink: via 10.77.0.1 onlink (on the resolving route's device)" \
	"10.0.1.254 10.77.0.1 onlink" hops 10.99.0.0/24
assert_contains "(b) ... on uplink2" "$(ip -n "$H" route show exact 10.99.0.0/24)" \
	"via 10.77.0.1 dev uplink2 weight 1 onlink"
jq '.bgp_nexthop_onlink = false' "$T_CONF" >"$T_CONF.new" && mv "$T_CONF.new" "$T_CONF"
kill -HUP "${LD_PID[n1]}"
assert_eventually "(b) bgp_nexthop_onlink off again: the resolved gateway" \
	"10.0.1.254 10.0.2.254" hops 10.99.0.0/24

ip -n "$H" route del 10.77.0.0/24 via 10.0.2.254 dev uplink2
assert_eventually "(b) the resolving route goes: ToR2's path leaves the kernel" \
	10.0.1.254 hops 10.99.0.0/24
ping_ok "(c) node -> far through ToR1 again" "$H" 10.99.0.1

# -------------------------------------- (b) an address makes it resolvable
ip -n "$H" addr add 10.78.0.2/24 dev uplink2 || bail "address on 10.78.0.0/24"
assert_eventually "(b) an address on 10.78.0.0/24: 10.98.0.0/24 via 10.78.0.1" \
	10.78.0.1 hops 10.98.0.0/24
assert_contains "(b) ... on uplink2" "$(ip -n "$H" route show exact 10.98.0.0/24)" \
	"via 10.78.0.1 dev uplink2"
ip -n "$H" addr del 10.78.0.2/24 dev uplink2
assert_eventually "(b) the address goes: 10.98.0.0/24 withdrawn from the kernel" "" hops 10.98.0.0/24

# ------------------------------------------ (d) the kernel refuses a hop
birdq tor2 enable routes95 >/dev/null
birdq tor1 enable routes95 >/dev/null
refusals() { grep -c 'kernel route 10\.95\.0\.0/24 .*Nexthop has invalid gateway' "$LOG"; }
refused() { [ "$(refusals)" -gt 0 ] && echo yes; }
assert_eventually "(d) the kernel refuses 10.95.0.0/24 via 10.79.0.1" yes refused
assert_eventually "(d) 10.95.0.0/24: the good hop installed alone" \
	10.0.1.254 hops 10.95.0.0/24
assert_match "(d) leafnetd logged the refusal, with the kernel's words" "$(cat "$LOG")" \
	'kernel route 10\.95\.0\.0/24 .*Nexthop has invalid gateway; (tried again later|trying each)'
n1=$(refusals)
sleep 4
n2=$(refusals)
# retries at 1, 2, 4 ... s: each is the ECMP route refused, then the hop alone
if [ "$n2" -gt "$n1" ] && [ "$n2" -lt $((n1 + 10)) ]; then
	ok "(d) the refused hop is retried, with a back-off ($n1 -> $n2 refusals in 4 s)"
else
	notok "(d) the refused hop is retried, with a back-off" "$n1 -> $n2 refusals in 4 s"
fi
assert_match "(d) a retry tries the hop alone" "$(cat "$LOG")" \
	'kernel route 10\.95\.0\.0/24 via 10\.79\.0\.1 alone .*left out, tried again later'
assert_eq "(d) the good hop stayed through the retries" 10.0.1.254 "$(hops 10.95.0.0/24)"
ip -n "$H" route replace 10.79.0.0/24 dev uplink2 scope link || bail "scope link"
assert_eventually "(d) the kernel takes it now: both hops" "10.0.1.254 10.79.0.1" hops 10.95.0.0/24

# ToR2 goes: its paths go, ToR1's stay
bird_stop tor2
assert_eventually "ToR2 stopped: 10.95.0.0/24 via ToR1 only" 10.0.1.254 hops 10.95.0.0/24
assert_eq "ToR2 stopped: 10.99.0.0/24 via ToR1" 10.0.1.254 "$(hops 10.99.0.0/24)"

# ----------------------------------------------------------------- stop
ld_stop n1
assert_eq "leafnetd exits 0 on SIGTERM" 0 "$?"
assert_eq "stop: no proto 77 route left" 0 "$(count_lines ip -n "$H" -4 route show proto 77)"
bird_stop_all
t_done
