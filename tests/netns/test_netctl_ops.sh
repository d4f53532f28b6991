#!/bin/bash
# test_netctl_ops.sh — the operator's commands against a live node: one host
# netns running leafnetd (AS 65002), a BIRD ToR (AS 500), one container.
#
#   network update   communities, class, aggregation and nat-outgoing
#                    changed on a running network: the ToR's route gains and
#                    loses the community, /26 <-> /32, `inet leafnet` gains
#                    and loses the network's SNAT set, each within 3 s (not
#                    the 10 s periodic reload: netctl tells leafnetd);
#                    subnets, gateways, block size refused (exit 2)
#   ipam show        per network / node / block counts, table and JSON
#   trace            every step ok (exit 0); a deleted host route, a downed
#                    veth, a stopped leafnetd, a free address: the failing
#                    step named with its fix (exit 1)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" "$BIN/leafnetd" bird birdc nft jq

mkhost H
mkns TOR
mkcontainer C1
ip link add lo-n$$ netns "$H" type veth peer name lo-t$$ netns "$TOR" || bail "veth node <-> ToR"
ip -n "$H" link set lo-n$$ name uplink && ip -n "$TOR" link set lo-t$$ name down1 || bail "rename"
ip -n "$H" addr add 10.0.0.1/24 dev uplink && ip -n "$TOR" addr add 10.0.0.254/24 dev down1 &&
ip -n "$H" link set uplink up && ip -n "$TOR" link set down1 up || bail "veth addresses"

bird_init tor "$TOR" 10.0.0.254
bird_peer tor node1 10.0.0.254 500 10.0.0.1 65002 default
bird_start tor

jq '. + {node_name: "node1"}' "$T_CONF" >"$T_CONF.new" && mv "$T_CONF.new" "$T_CONF"
nctl_ok "network ops" network create ops --subnet=192.168.7.0/24 --gateway=192.168.7.1
nctl_ok "bgp create" bgp create node1 --router-ip=10.0.0.1/24 --as=65002 --neighbor-as=500 \
	--neighbor=10.0.0.254
nctl_ok "node-mesh off" bgp node-mesh off
ld_start n1 "$H" "$T_CONF"
ld_wait_established n1 10.0.0.254 10 || bail "session Established" "$(ld_status n1 | xargs)"

cni_conf ops 1.1.0
cni_add "$H" ctr-ops-1 "$C1" eth0
cni_expect_ok "ADD c1" || bail "ADD c1"
A1=$(jqv "$CNI_OUT" '.ips[0].address | sub("/.*"; "")')
for _ in $(seq 1 60); do
	[[ $(bird_route_for tor "$A1") == */26 ]] && break
	sleep 0.05
done
BLOCK=$(bird_route_for tor "$A1")
assert_match "ToR holds c1's /26 block" "$BLOCK" '^192\.168\.7\.[0-9]+/26$'
comm() { bird_attr tor "$1" BGP.community; }
assert_eq "no community at first" "" "$(comm "$BLOCK")"

# ------------------------------------------------------ network update
nctl network update ops --non-routable
assert_eq "update --non-routable: exit 0" 0 "$NCTL_RC"
assert_contains "update says leafnetd reloaded it" "$NCTL_OUT" "leafnetd reloaded"
assert_eventually "--non-routable: the ToR's block route gains 64511:100 within 3 s" \
	"(64511,100)" comm "$BLOCK"
nctl network update ops --community=65000:42
assert_eventually "--community=65000:42: the ToR's route carries it instead" "(65000,42)" comm "$BLOCK"
nctl network inspect ops -o json
assert_eq "stored: communities [65000:42]" '["65000:42"]' "$(jqv "$NCTL_OUT" '.communities | tostring')"
nctl network update ops -no-community -o json
assert_eq "update -no-community (Go-style flag) -o json: changed" true "$(jqv "$NCTL_OUT" .changed)"
assert_eq "JSON says leafnetd reloaded" reloaded "$(jqv "$NCTL_OUT" .leafnetd)"
assert_eventually "-no-community: back to the default 64511:100" "(64511,100)" comm "$BLOCK"
nctl network update ops --routable
assert_eventually "--routable: the community goes from the ToR" "" comm "$BLOCK"
nctl network update ops --community=65000:9
assert_contains "--community on a routable network: netctl says it is not advertised" \
	"$NCTL_OUT" "only on non-routable"
sleep 0.5
assert_eq "... and the ToR's route has none" "" "$(comm "$BLOCK")"
nctl_ok "clear it again" network update ops --no-community

nctl network update ops --no-aggregate
assert_eventually "--no-aggregate: the ToR has c1's /32" "$A1/32" bird_route_for tor "$A1"
assert_eventually "--no-aggregate: the /26 is withdrawn" "" bird_route tor "$BLOCK"
nctl network update ops --aggregate
assert_eventually "--aggregate: the /26 is back" "$BLOCK" bird_route_for tor "$A1"
assert_eventually "--aggregate: the /32 is withdrawn" "" bird_route tor "$A1/32"

has_nat() { ip netns exec "$H" nft list set inet leafnet natpools4 2>/dev/null | grep -c '192.168.7.0/24'; }
assert_eq "no nat table before --nat-outgoing" 0 "$(has_nat)"
nctl network update ops --nat-outgoing
assert_eq "update --nat-outgoing: exit 0" 0 "$NCTL_RC"
assert_eventually "--nat-outgoing: inet leafnet masquerades 192.168.7.0/24 within 3 s" 1 has_nat
nctl network update ops --nat-outgoing
assert_contains "the same again: nothing changed" "$NCTL_OUT" "nothing changed"
nctl network update ops --no-nat-outgoing
assert_eventually "--no-nat-outgoing: the SNAT set entry goes within 3 s" 0 has_nat
assert_eventually "--no-nat-outgoing: the table goes (no NAT network left)" 0 \
	count_lines ip netns exec "$H" nft list table inet leafnet

for f in "--subnet=192.168.8.0/24" "--gateway=192.168.7.2" "--block-size=28"; do
	nctl network update ops "$f"
	assert_eq "update $f refused with exit 2" 2 "$NCTL_RC"
	assert_contains "update $f: says it cannot change" "$NCTL_ERR" "cannot change"
done
nctl network update ops
assert_eq "update with nothing to change: exit 2" 2 "$NCTL_RC"
nctl network update ops --nat-outgoing --no-nat-outgoing
assert_eq "update --nat-outgoing --no-nat-outgoing: exit 2" 2 "$NCTL_RC"
nctl network update nosuch --nat-outgoing
assert_eq "update of an unknown network: exit 1" 1 "$NCTL_RC"
assert_contains "update of an unknown network names it" "$NCTL_ERR" "nosuch"

# ------------------------------------------------------------ ipam show
nctl ipam show ops
assert_eq "ipam show: exit 0" 0 "$NCTL_RC"
assert_match "ipam show: the network line" "$NCTL_OUT" 'Network ops \(192\.168\.7\.0/24\): 1 used of 253'
assert_match "ipam show: node1's row (1 block, 1 used)" "$(grep '^node1' <<<"$NCTL_OUT")" \
	'^node1 +1 +6[1-3] +1 +6[0-2] +1\.6%'
assert_contains "ipam show: the block row" "$NCTL_OUT" "$BLOCK"
nctl ipam show -o json
assert_eq "ipam show -o json: used 1" 1 "$(jqv "$NCTL_OUT" '.[] | select(.network=="ops") | .used')"
assert_eq "ipam show -o json: node1 allocated 1, borrowed 0" "1 0" \
	"$(jqv "$NCTL_OUT" '.[] | select(.network=="ops") | .nodes[0] | "\(.allocated) \(.borrowed)"')"
assert_eq "ipam show -o json: block cidr" "$BLOCK" \
	"$(jqv "$NCTL_OUT" '.[] | select(.network=="ops") | .blocks[0].cidr')"
nctl ipam show nosuch
assert_eq "ipam show of an unknown network: exit 1" 1 "$NCTL_RC"

# ---------------------------------------------------------------- trace
trace() { T_CONF=$T_CONF nctl_in_host trace "$@"; }
nctl_in_host() {	# netctl inside H (netlink of the node)
	local f
	T_CALLS=$((T_CALLS + 1))
	f=$T_TMP/calls/netctl.$BASHPID.$T_CALLS
	ip netns exec "$H" env LEAFNET_CONF="$T_CONF" ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" timeout -k 2 20 "$BIN/netctl" "$@" >"$f.out" 2>"$f.err"
	NCTL_RC=$?
	NCTL_OUT=$(cat "$f.out")
	NCTL_ERR=$(cat "$f.err")
}
VETH=$(ip -n "$H" route show proto 76 "$A1/32" | awk '{ print $3 }')
trace "$A1"
diag "$NCTL_OUT"
assert_eq "trace: exit 0 when every step is ok" 0 "$NCTL_RC"
assert_eq "trace: seven steps ok" 7 "$(grep -c ' ok ' <<<"$NCTL_OUT")"
assert_contains "trace: network and subnet" "$(grep ^network <<<"$NCTL_OUT")" "ops, subnet 192.168.7.0/24"
assert_contains "trace: the block and its node" "$(grep ^block <<<"$NCTL_OUT")" "$BLOCK, claimed by node node1"
assert_contains "trace: the owner" "$(grep ^allocation <<<"$NCTL_OUT")" "container ctr-ops-1, ifname eth0"
assert_contains "trace: the host route and veth" "$(grep '^host route' <<<"$NCTL_OUT")" "$A1/32 dev $VETH proto 76"
assert_contains "trace: advertised as the aggregate" "$(grep ^leafnetd <<<"$NCTL_OUT")" "aggregate $BLOCK"
assert_contains "trace: sent to the ToR" "$(grep ^peers <<<"$NCTL_OUT")" "10.0.0.254 (AS 500)"
trace "$A1/32" -o json
assert_eq "trace -o json: ok true" true "$(jqv "$NCTL_OUT" .ok)"
assert_eq "trace -o json: step names" "network block allocation host route veth leafnetd peers" \
	"$(jqv "$NCTL_OUT" '[.steps[].step] | join(" ")')"

nctl network update ops --no-aggregate >/dev/null
assert_eventually "(no aggregation: the ToR has the /32)" "$A1/32" bird_route_for tor "$A1"
trace "$A1"
assert_contains "trace without aggregation: advertised as the /32" "$(grep ^leafnetd <<<"$NCTL_OUT")" \
	"advertised as $A1/32"

trace 192.168.7.200
assert_eq "trace of a free address: exit 1" 1 "$NCTL_RC"
assert_match "trace of a free address: allocation FAIL" "$(grep ^allocation <<<"$NCTL_OUT")" 'FAIL.*not allocated'
trace 172.31.9.9
assert_eq "trace of an address in no network: exit 1" 1 "$NCTL_RC"
assert_contains "trace names the fix" "$NCTL_OUT" "fix: 'netctl network ls'"
trace not-an-ip
assert_eq "trace of garbage: exit 2" 2 "$NCTL_RC"

ip -n "$H" link set "$VETH" down
trace "$A1"
assert_eq "trace with the veth down: exit 1" 1 "$NCTL_RC"
# a down veth loses its host route: either step may be the first wrong one
assert_match "trace with the veth down: the route or veth step fails" "$NCTL_OUT" '(host route|veth) +FAIL'
assert_contains "trace with the veth down: a fix is given" "$NCTL_OUT" "fix:"
ip -n "$H" link set "$VETH" up
ip -n "$H" route replace "$A1/32" dev "$VETH" scope link proto 76 2>/dev/null
trace "$A1"
assert_eq "trace after repair: exit 0" 0 "$NCTL_RC"

ip -n "$H" route del "$A1/32" dev "$VETH" proto 76
trace "$A1"
assert_eq "trace without the host route: exit 1" 1 "$NCTL_RC"
assert_match "trace: host route FAIL" "$(grep '^host route' <<<"$NCTL_OUT")" 'FAIL.*no route'
assert_contains "trace: the fix names the container" "$NCTL_OUT" "restart container ctr-ops-1"
assert_not_contains "trace stops at the first failure" "$NCTL_OUT" "peers "
ip -n "$H" route replace "$A1/32" dev "$VETH" scope link proto 76

ld_stop n1
trace "$A1"
assert_eq "trace with leafnetd stopped: exit 1" 1 "$NCTL_RC"
assert_match "trace: leafnetd FAIL, not running" "$(grep ^leafnetd <<<"$NCTL_OUT")" 'FAIL.*not running'
assert_contains "trace: the fix starts leafnetd" "$NCTL_OUT" "start leafnetd"
nctl network update ops --community=65000:7
assert_contains "update with leafnetd stopped: applies on start" "$NCTL_OUT" "not running"

cni_del "$H" ctr-ops-1 "$C1" eth0
cni_expect_ok "DEL c1"
bird_stop_all
t_done
