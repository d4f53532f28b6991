#!/bin/bash
# Per-peer session security and import policy, leafnetd (AS 65002, host
# netns H) against BIRD 2 peers, each in its own netns on its own link:
#
#   T1   10.0.0.254 / fd00:100::254  AS 500  directly connected, GTSM both
#        ends (BIRD `ttl security on`), graceful restart on; IPv4 and
#        IPv6 sessions
#   FAR  10.0.2.1  AS 502  two hops away: H -- R (a router netns) -- FAR,
#        so its packets arrive with TTL 254
#   PFX  10.0.3.254  AS 503  announces 5 routes, then a 6th
#   WARN 10.0.4.254  AS 504  announces 6 routes
#   IMP  10.0.5.254  AS 505  announces a default and 3 routes
#
# Checks: GTSM with the direct peer works (v4 and v6), and a TTL-1 (hop
# limit 1) TCP connection from the peer's own address, even one that sends
# a valid OPEN, is closed at once and leaves the Established session (a
# graceful-restart one, which a new connection could otherwise replace)
# untouched; the peer two hops away works without GTSM and is refused once
# --ttl-security is set (a live change), and works again without it.
# max-prefix 5: the 6th route brings Cease/1 (BIRD's last error says so),
# its routes leave the node's kernel, and it stays down (refused) until its
# limit is raised; the ,warning form keeps the session and all 6 routes and
# logs.  Import policy: default installs only the default route, none
# nothing, all everything, inherit follows `netctl bgp import`, each change
# applied without resetting the session.  netctl status -o json shows each
# session's options.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
t_require "$BIN/netctl" "$BIN/leafnetd" bird birdc sysctl

NODE_AS=65002
LDLOG=$T_TMP/leafnetd-n1.log

# link NS1 IF1 ADDR1 NS2 IF2 ADDR2 [ADDR1-6 ADDR2-6]: a veth between two
# namespaces (created inside them, so the names never meet the root ns).
LINKS=0
link() {
	LINKS=$((LINKS + 1))
	local a=lsa$LINKS-$$ b=lsb$LINKS-$$
	ip link add "$a" netns "$1" type veth peer name "$b" netns "$4" || bail "veth $2 <-> $5"
	ip -n "$1" link set "$a" name "$2" && ip -n "$4" link set "$b" name "$5" || bail "rename $2 $5"
	ip -n "$1" addr add "$3" dev "$2" && ip -n "$4" addr add "$6" dev "$5" || bail "addresses $3 $6"
	if [ -n "${7:-}" ]; then
		ip -n "$1" addr add "$7" dev "$2" nodad && ip -n "$4" addr add "$8" dev "$5" nodad ||
			bail "addresses $7 $8"
	fi
	ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up || bail "links up $2 $5"
}

# ------------------------------------------------------------- topology
mkhost H
mkns T1; mkns R; mkns FAR; mkns PFX; mkns WARN; mkns IMP
link "$H" up0 10.0.0.1/24 "$T1" down1 10.0.0.254/24 fd00:100::1/64 fd00:100::254/64
link "$H" up1 10.0.1.1/24 "$R" left 10.0.1.254/24
link "$R" right 10.0.2.254/24 "$FAR" up0 10.0.2.1/24
link "$H" up3 10.0.3.1/24 "$PFX" down1 10.0.3.254/24
link "$H" up4 10.0.4.1/24 "$WARN" down1 10.0.4.254/24
link "$H" up5 10.0.5.1/24 "$IMP" down1 10.0.5.254/24
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 || bail "forwarding in R"
ip -n "$H" route add 10.0.2.0/24 via 10.0.1.254 && ip -n "$FAR" route add 10.0.1.0/24 via 10.0.2.254 ||
	bail "routes through R"
ping_ok "H reaches FAR through the router (two hops)" "$H" 10.0.2.1

# ------------------------------------------------------------ the BIRDs
bird_init t1 "$T1" 10.0.0.254
BIRD_PEER_EXTRA='ttl security on; graceful restart on;' \
	bird_peer t1 node1 10.0.0.254 500 10.0.0.1 "$NODE_AS" none
BIRD_PEER_EXTRA='ttl security on; graceful restart on;' \
	bird_peer t1 node1v6 fd00:100::254 500 fd00:100::1 "$NODE_AS" none none
bird_start t1

bird_init far "$FAR" 10.0.2.1
# GTSM on BIRD's side with multihop 2: it sends 255 and takes >= 254, so
# only leafnetd's check can refuse the session
BIRD_PEER_EXTRA='multihop 2; ttl security on;' \
	bird_peer far node1 10.0.2.1 502 10.0.1.1 "$NODE_AS" none
bird_start far

bird_init pfx "$PFX" 10.0.3.254
bird_static pfx five 4 10.98.0.0/24 10.98.1.0/24 10.98.2.0/24 10.98.3.0/24 10.98.4.0/24
bird_raw pfx 'protocol static sixth { disabled; ipv4; route 10.98.5.0/24 blackhole; }'
bird_peer pfx node1 10.0.3.254 503 10.0.3.1 "$NODE_AS" all
bird_start pfx

bird_init warn "$WARN" 10.0.4.254
bird_static warn six 4 10.97.0.0/24 10.97.1.0/24 10.97.2.0/24 10.97.3.0/24 10.97.4.0/24 10.97.5.0/24
bird_peer warn node1 10.0.4.254 504 10.0.4.1 "$NODE_AS" all
bird_start warn

bird_init imp "$IMP" 10.0.5.254
bird_raw imp 'protocol static default4 { ipv4; route 0.0.0.0/0 blackhole; }'
bird_static imp three 4 10.96.0.0/24 10.96.1.0/24 10.96.2.0/24
bird_peer imp node1 10.0.5.254 505 10.0.5.1 "$NODE_AS" all
bird_start imp

# --------------------------------------------------------- leafnet side
nctl_ok "bgp create with --ttl-security (T1)" bgp create node1 --router-ip=10.0.0.1/24 \
	--as=$NODE_AS --neighbor-as=500 --neighbor=10.0.0.254 --ttl-security
nctl_ok "IPv6 GTSM peer" node bgp peer add fd00:100::254 as 500 --ttl-security
nctl_ok "FAR, no GTSM yet" node bgp peer add 10.0.2.1 as 502
nctl_ok "PFX --max-prefix=5" node bgp peer add 10.0.3.254 as 503 --max-prefix=5
nctl_ok "WARN --max-prefix=5,warning" node bgp peer add 10.0.4.254 as 504 --max-prefix=5,warning
nctl_ok "IMP --import=default" node bgp peer add 10.0.5.254 as 505 --import=default
nctl_ok "node-mesh off" bgp node-mesh off
ld_start n1 "$H" "$T_CONF"

# peer_json PEER FILTER: one value of PEER's row in netctl status -o json.
peer_json() {
	jq -r --arg p "$1" "[.peers[] | select(.address == \$p)][0] | $2" \
		<<<"$(ld_status n1 -o json)" 2>/dev/null
}
# routes_via NEXTHOP: proto 77 routes in H's kernel through NEXTHOP.
routes_via() { ip -n "$H" -4 route show proto 77 | grep -c "via $1 " ; }
# bird_since NAME PROTO: the protocol's "since" column.
bird_since() { birdq "$1" show protocols "$2" | awk -v p="$2" '$1 == p { print $5 }'; }
# never_up PEER SECONDS: PEER is never Established during SECONDS.
never_up() {
	local i
	for i in $(seq 1 $(($2 * 5))); do
		[ "$(ld_peer_state n1 "$1")" = Established ] && return 1
		sleep 0.2
	done
	return 0
}
# eventually SECONDS WHAT EXPECTED CMD...: as assert_eventually, longer:
# what a peer sends after a ROUTE-REFRESH can take BIRD a few seconds.
eventually() {
	local secs=$1 what=$2 exp=$3 got n
	shift 3
	for n in $(seq 1 $((secs * 10))); do
		got=$("$@" 2>/dev/null)
		if [ "$got" = "$exp" ]; then ok "$what"; return 0; fi
		sleep 0.1
	done
	notok "$what" "expected '$exp' within $secs s, got '$(echo $got | cut -c1-200)'"
	return 1
}
wait_up() {
	if ld_wait_established n1 "$1" "$3"; then ok "$2"; return 0; fi
	notok "$2" "got: $(ld_status n1 | grep -F -- "$1" | xargs)"
	return 1
}

# ------------------------------------------------------------- GTSM, direct
wait_up 10.0.0.254 "GTSM peer (directly connected, BIRD ttl security) Established" 15
wait_up fd00:100::254 "IPv6 GTSM peer Established" 15
assert_bird_established "BIRD takes our TTL 255 (ttl security on)" t1 node1 5
assert_bird_established "BIRD takes our hop limit 255 over IPv6" t1 node1v6 5
assert_eq "status json: ttl_security" "true true" \
	"$(peer_json 10.0.0.254 .ttl_security) $(peer_json fd00:100::254 .ttl_security)"
assert_contains "graceful restart negotiated with T1" "$(grep 'neighbor 10.0.0.254: OPEN' "$LDLOG")" \
	graceful-restart

# A TTL-1 connection from T1's own address, with a valid OPEN (AS 500, its
# BGP id), more than BGP_RESTART_GUARD_MS after the session came up.
OPEN='\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x2f\x01'
OPEN+='\x04\x01\xf4\x00\x5a\x0a\x00\x00\xfe\x12\x02\x10\x01\x04\x00\x01\x00\x01'
OPEN+='\x41\x04\x00\x00\x01\xf4\x40\x02\x00\x78'
sleep 4
SINCE=$(peer_json 10.0.0.254 .since)
SINCE6=$(peer_json fd00:100::254 .since)
BSINCE=$(bird_since t1 node1)
# low_ttl_connect SYSCTL DST: a TCP connection to DST:179 with TTL (hop
# limit) 1 from T1, sending the OPEN; prints what came back (bytes).
low_ttl_connect() {
	ip netns exec "$T1" bash -c '
		trap "" PIPE
		sysctl -qw "$1=1" || exit 9
		exec 3<>"/dev/tcp/$2/179" || exit 8
		printf "%b" "$3" >&3 2>/dev/null
		sleep 1
		n=$(timeout 2 cat <&3 2>/dev/null | wc -c)
		sysctl -qw "$1=$4"
		echo "$n"' _ "$1" "$2" "$OPEN" "$3"
}
GOT=$(low_ttl_connect net.ipv4.ip_default_ttl 10.0.0.1 64)
assert_eq "the TTL-1 connection got nothing back (closed, no OPEN)" 0 "$GOT"
GOT6=$(low_ttl_connect net.ipv6.conf.down1.hop_limit fd00:100::1 64)
assert_eq "the hop-limit-1 connection got nothing back" 0 "$GOT6"
sleep 1
assert_match "leafnetd refused it: SYN TTL 1 (GTSM)" "$(cat "$LDLOG")" \
	'neighbor 10\.0\.0\.254: connection refused: its SYN arrived with TTL 1, GTSM'
assert_match "leafnetd refused the IPv6 one: hop limit 1" "$(cat "$LDLOG")" \
	'neighbor fd00:100::254: connection refused: its SYN arrived with TTL 1, GTSM'
assert_eq "the Established session is untouched (same since)" "Established $SINCE" \
	"$(ld_peer_state n1 10.0.0.254) $(peer_json 10.0.0.254 .since)"
assert_eq "the IPv6 session too" "Established $SINCE6" \
	"$(ld_peer_state n1 fd00:100::254) $(peer_json fd00:100::254 .since)"
assert_eq "BIRD's session untouched (same since)" "Established $BSINCE" \
	"$(bird_proto_state t1 node1) $(bird_since t1 node1)"
assert_not_contains "no second connection, no replacement logged" \
	"$(grep 'neighbor 10.0.0.254:' "$LDLOG")" "replacing the old session"

# ------------------------------------------------------------ GTSM, 2 hops
wait_up 10.0.2.1 "peer two hops away Established without GTSM (TTL 254 is fine)" 15
nctl_ok "--ttl-security on the peer two hops away (live)" node bgp peer add 10.0.2.1 as 502 --ttl-security
eventually 5 "leafnetd picks the change up (status json: ttl_security)" true peer_json 10.0.2.1 .ttl_security
if never_up 10.0.2.1 12; then
	ok "with GTSM the peer two hops away never comes up (12 s)"
else
	notok "with GTSM the peer two hops away never comes up (12 s)" "$(ld_status n1 | grep 10.0.2.1)"
fi
assert_match "its connections are refused: TTL 254" "$(cat "$LDLOG")" \
	'neighbor 10\.0\.2\.1: connection refused: its SYN arrived with TTL 254, GTSM'
assert_ne "BIRD on FAR is not Established either" Established "$(bird_proto_state far node1)"
nctl_ok "--no-ttl-security again" node bgp peer add 10.0.2.1 as 502 --no-ttl-security
wait_up 10.0.2.1 "without GTSM it comes back" 20

# ------------------------------------------------------------ max-prefix
wait_up 10.0.3.254 "PFX (max-prefix 5) Established" 15
assert_eventually "its 5 routes in the node's kernel" 5 routes_via 10.0.3.254
assert_eq "status json: max-prefix 5, restart after 5 min" "5 restart 5" \
	"$(peer_json 10.0.3.254 '"\(.max_prefix) \(.max_prefix_action) \(.max_prefix_restart)"')"
birdq pfx enable sixth >/dev/null
for i in $(seq 1 50); do
	[ "$(ld_peer_state n1 10.0.3.254)" != Established ] && break
	sleep 0.1
done
assert_ne "the 6th route tears the session down" Established "$(ld_peer_state n1 10.0.3.254)"
assert_contains "leafnetd says why" "$(peer_json 10.0.3.254 .info)" \
	"Maximum Number of Prefixes Reached (5); down for 5 min"
DOWN=$(peer_json 10.0.3.254 .down_until)
NOW=$(date +%s)
if [ -n "$DOWN" ] && [ "$DOWN" != null ] && [ "$DOWN" -ge $((NOW + 280)) ] && [ "$DOWN" -le $((NOW + 301)) ]; then
	ok "status json: down_until about 5 minutes ahead"
else
	notok "status json: down_until about 5 minutes ahead" "down_until '$DOWN', now $NOW"
fi
sleep 1
# (its "Last error" soon says the refused reconnects instead: the log)
assert_match "BIRD got Cease/1 with AFI 1, SAFI 1, limit 5 (RFC 4486)" "$(cat "$(bird_log pfx)")" \
	'node1: Received: Maximum number of prefixes reached: 00010100000005'
assert_eq "its routes left the node's kernel" 0 "$(routes_via 10.0.3.254)"
if never_up 10.0.3.254 12; then
	ok "it stays down (12 s, BIRD retrying every few seconds)"
else
	notok "it stays down (12 s, BIRD retrying every few seconds)" "$(ld_status n1 | grep 10.0.3.254)"
fi
assert_match "BIRD's reconnects are refused during the hold-down" "$(cat "$LDLOG")" \
	'neighbor 10\.0\.3\.254: connection refused: down for max-prefix for [0-9]+ more s'
assert_eq "still no routes of it" 0 "$(routes_via 10.0.3.254)"
nctl_ok "a higher limit (a change of the peer ends the hold-down)" \
	node bgp peer add 10.0.3.254 as 503 --max-prefix=10
wait_up 10.0.3.254 "PFX back with max-prefix 10" 20
eventually 10 "all 6 routes installed now" 6 routes_via 10.0.3.254
assert_eq "no hold-down shown any more" null "$(peer_json 10.0.3.254 .down_until)"

wait_up 10.0.4.254 "WARN (max-prefix 5,warning) Established" 15
assert_eventually "all 6 of its routes installed" 6 routes_via 10.0.4.254
assert_match "leafnetd logs the warning" "$(cat "$LDLOG")" \
	'neighbor 10\.0\.4\.254: 6 routes, more than max-prefix 5 \(warning only: the session stays\)'
WSINCE=$(peer_json 10.0.4.254 .since)
sleep 3
assert_eq "the session stays (same since)" "Established $WSINCE" \
	"$(ld_peer_state n1 10.0.4.254) $(peer_json 10.0.4.254 .since)"
assert_eq "status json: warning" "5 warning" "$(peer_json 10.0.4.254 '"\(.max_prefix) \(.max_prefix_action)"')"
assert_bird_established "BIRD WARN still Established" warn node1 1

# ------------------------------------------------------------ import policy
wait_up 10.0.5.254 "IMP Established" 15
default_via() { ip -n "$H" -4 route show proto 77 default | grep -c "via $1 " ; }
assert_eventually "--import=default: the default route installed" 1 default_via 10.0.5.254
sleep 1
assert_eq "--import=default: nothing else" 1 "$(routes_via 10.0.5.254)"
assert_eq "status json: import default" default "$(peer_json 10.0.5.254 .import)"
ISINCE=$(peer_json 10.0.5.254 .since)
nctl_ok "--import=none (live)" node bgp peer add 10.0.5.254 as 505 --import=none
eventually 5 "--import=none: nothing installed" 0 routes_via 10.0.5.254
nctl_ok "--import=all (live)" node bgp peer add 10.0.5.254 as 505 --import=all
eventually 15 "--import=all: the default and the 3 routes" 4 routes_via 10.0.5.254
assert_contains "it asked for the routes again (route refresh)" "$(cat "$LDLOG")" \
	"neighbor 10.0.5.254: wider import policy: asking for its routes again"
nctl_ok "netctl bgp import default" bgp import default
nctl_ok "--import=inherit: the global policy" node bgp peer add 10.0.5.254 as 505 --import=inherit
eventually 5 "inherit + bgp import default: only the default" 1 routes_via 10.0.5.254
assert_eq "status json: import default (inherited)" default "$(peer_json 10.0.5.254 .import)"
nctl_ok "netctl bgp import none" bgp import none
eventually 5 "bgp import none: nothing" 0 routes_via 10.0.5.254
nctl_ok "the peer's own --import=all wins over bgp import none" \
	node bgp peer add 10.0.5.254 as 505 --import=all
eventually 15 "4 routes again" 4 routes_via 10.0.5.254
assert_eq "no import change reset the session (same since)" "Established $ISINCE" \
	"$(ld_peer_state n1 10.0.5.254) $(peer_json 10.0.5.254 .since)"
# bgp import none also holds for the other peers that inherit
eventually 5 "bgp import none reaches WARN (inherit): its routes go" 0 routes_via 10.0.4.254
nctl_ok "bgp import all" bgp import all
eventually 15 "WARN's 6 routes back" 6 routes_via 10.0.4.254

# ------------------------------------------------------------ the end
assert_eq "T1 untouched all along" "Established $SINCE" \
	"$(ld_peer_state n1 10.0.0.254) $(peer_json 10.0.0.254 .since)"
if ld_stop n1; then ok "leafnetd stops cleanly (exit 0)"; else notok "leafnetd stops cleanly" "exit $?"; fi
bird_stop_all
t_done
