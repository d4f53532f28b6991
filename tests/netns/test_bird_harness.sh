#!/bin/bash
# The BIRD harness (tests/bird.sh) checked against itself, without
# leafnetd: a BIRD "node" (AS 65010) and a BIRD ToR (AS 500) in two
# namespaces joined by a veth.  The node advertises a static /32 and /128,
# a kernel route with protocol 76 it learns (Calico's way), with a
# community; the ToR hands out only a default route.  Proves that config
# generation, start/stop, the birdc parsers and the waits work, so a
# failure in test_bgp_*.sh points at leafnetd, not at the harness.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
t_require bird birdc

mkns TOR
mkhost NODE
ip link add hb-n$$ netns "$NODE" type veth peer name hb-t$$ netns "$TOR" || bail "veth"
ip -n "$NODE" link set hb-n$$ name uplink && ip -n "$TOR" link set hb-t$$ name down1 || bail "rename"
ip -n "$NODE" addr add 10.0.0.1/24 dev uplink && ip -n "$NODE" addr add fd00:100::1/64 dev uplink nodad &&
ip -n "$TOR" addr add 10.0.0.254/24 dev down1 && ip -n "$TOR" addr add fd00:100::254/64 dev down1 nodad &&
ip -n "$NODE" link set uplink up && ip -n "$TOR" link set down1 up || bail "addresses"
ip -n "$NODE" link add dummy0 type veth peer name dummy1 && ip -n "$NODE" link set dummy0 up && ip -n "$NODE" link set dummy1 up || bail "dummy0 (a veth pair: no dummy module here)"
ip -n "$NODE" route add 192.0.2.76/32 dev dummy0 proto 76 || bail "proto 76 route"

bird_init tor "$TOR" 10.0.0.254
bird_kernel tor fib
bird_default_route tor
bird_peer tor node1 10.0.0.254 500 10.0.0.1 65010 default default
bird_start tor

bird_init node "$NODE" 10.0.0.1
bird_kernel node all "krt_source = 76"
bird_static node work4 4 192.0.2.1/32
bird_static node work6 6 2001:db8::1/128
BIRD_V6_EXTRA='next hop address fd00:100::1;' \
BIRD_PEER_EXTRA='' bird_peer node tor 10.0.0.1 65010 10.0.0.254 500 all all
# Tag everything with the non-routable community, as leafnetd would.
sed -i 's/ipv4 { import all; export all; }/ipv4 { import all; export filter { bgp_community.add((64511,100)); accept; }; }/' \
	"$(bird_conf node)"
bird_start node

assert_bird_established "ToR session to the node Established" tor node1 10
assert_eq "bird_proto_state on the node side" Established "$(bird_proto_state node tor)"
assert_bird_route "static /32 on the ToR via the node" tor 192.0.2.1/32 10.0.0.1 5
assert_eq "AS path is the node's AS" 65010 "$(bird_attr tor 192.0.2.1/32 BGP.as_path)"
assert_eq "next hop attribute is the node" 10.0.0.1 "$(bird_attr tor 192.0.2.1/32 BGP.next_hop)"
assert_contains "community visible in show route all" "$(bird_attr tor 192.0.2.1/32 BGP.community)" "(64511,100)"
assert_bird_route "kernel-learned proto 76 /32 on the ToR" tor 192.0.2.76/32 10.0.0.1 5
assert_bird_route "IPv6 /128 over the IPv4 session (MP-BGP)" tor 2001:db8::1/128 fd00:100::1 5
assert_eq "longest match for an address" 192.0.2.1/32 "$(bird_route_for tor 192.0.2.1)"
assert_eq "wait_for_route uses the first instance" 0 "$(wait_for_route 192.0.2.1/32 10.0.0.1 1; echo $?)"
assert_match "ToR FIB has the /32 (kernel export)" "$(ip -n "$TOR" route show 192.0.2.1/32)" 'via 10\.0\.0\.1'
assert_eq "ToR FIB has no default (it is only handed out)" "" "$(ip -n "$TOR" route show default)"
assert_bird_route "node learned the downward default" node 0.0.0.0/0 10.0.0.254 5
assert_match "default in the node's kernel (proto bird)" "$(ip -n "$NODE" route show default)" 'via 10\.0\.0\.254 .*proto bird'
assert_match "count parser" "$(bird_count tor master4)" '^[0-9]+$'

ip -n "$NODE" route del 192.0.2.76/32 dev dummy0 proto 76
assert_bird_absent "kernel route removed -> withdrawn on the ToR" tor 192.0.2.76/32 5
birdq node disable work4 >/dev/null
assert_bird_absent "static disabled -> withdrawn (route_absent)" tor 192.0.2.1/32 5
assert_eq "route_absent on the default instance" 0 "$(route_absent 192.0.2.1/32 1; echo $?)"
birdq node enable work4 >/dev/null

bird_restart tor
assert_bird_established "ToR restarted -> session back" tor node1 10
assert_bird_route "ToR restarted -> /32 re-advertised" tor 192.0.2.1/32 10.0.0.1 5
bird_stop node
assert_bird_absent "node stopped -> its routes gone from the ToR" tor 192.0.2.1/32 5
assert_ne "ToR session down once the node is gone" Established "$(bird_proto_state tor node1)"
bird_stop_all
t_done
