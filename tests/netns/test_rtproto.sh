#!/bin/bash
# leafnetd's own routing protocol for learned routes, and nobody else's.
# One node (a host netns, leafnetd AS 65002) and a BIRD 2 ToR (AS 500)
# that exports two /24s and a default.  Before leafnetd starts, the host
# holds a proto 186 route (RTPROT_BGP: what FRR's zebra would have put
# there) and a stale proto 77 route (what a killed leafnetd left).
#
# Checks: the stale 77 route is kept at start (graceful restart: a killed
# leafnetd's routes keep forwarding) and removed at the ToR's End-of-RIB,
# since the ToR does not advertise it; the 186 route survives leafnetd's
# start, its learning routes (as proto 77, ECMP-free, via the ToR) and its
# stop; at stop every proto 77 route goes and 186 stays.  The packaged
# rt_protos.d file names 76 and 77 the way iproute2 reads it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
t_require "$BIN/netctl" "$BIN/leafnetd" bird birdc

NODE_AS=65002
TOR_AS=500
RTP=$(cd "$(dirname "$0")/../.." && pwd)/packaging/rt_protos.d/leafnet.conf

# ------------------------------------------------------ the packaged names
assert_eq "rt_protos.d: 76 is leafnet" leafnet "$(awk '$1 == 76 { print $2 }' "$RTP")"
assert_eq "rt_protos.d: 77 is leafnet-bgp" leafnet-bgp "$(awk '$1 == 77 { print $2 }' "$RTP")"
assert_eq "rt_protos.d: nothing else (comments aside)" 2 "$(grep -cvE '^[[:space:]]*(#|$)' "$RTP")"

# ------------------------------------------------------------- topology
mkhost H
mkns TOR
ip link add lr-n$$ netns "$H" type veth peer name lr-t$$ netns "$TOR" || bail "veth node <-> ToR"
ip -n "$H" link set lr-n$$ name uplink && ip -n "$TOR" link set lr-t$$ name down1 || bail "rename veths"
ip -n "$H" addr add 10.0.0.1/24 dev uplink && ip -n "$TOR" addr add 10.0.0.254/24 dev down1 &&
ip -n "$H" link set uplink up && ip -n "$TOR" link set down1 up || bail "veth addresses"

bird_init tor "$TOR" 10.0.0.254
bird_kernel tor none
bird_default_route tor
bird_static tor nets4 4 10.99.1.0/24 10.99.2.0/24
bird_peer tor node1 10.0.0.254 "$TOR_AS" 10.0.0.1 "$NODE_AS" all
bird_start tor

# another daemon's route (proto 186) and a stale one of ours (proto 77)
ip -n "$H" route add 10.98.0.0/24 via 10.0.0.254 proto 186 || bail "proto 186 route"
ip -n "$H" route add 10.97.0.0/24 via 10.0.0.254 proto 77 || bail "stale proto 77 route"
ip -n "$H" route add 10.96.0.0/24 dev uplink proto 186 metric 7 || bail "second proto 186 route"
n186() { count_lines ip -n "$H" -4 route show proto 186; }
n77() { count_lines ip -n "$H" -4 route show proto 77; }
assert_eq "before leafnetd: two proto 186 routes" 2 "$(n186)"
assert_eq "before leafnetd: one proto 77 route" 1 "$(n77)"

nctl_ok "bgp create" bgp create node1 --router-ip=10.0.0.1/24 --as=$NODE_AS \
	--neighbor-as=$TOR_AS --neighbor=10.0.0.254
nctl_ok "node-mesh off" bgp node-mesh off

# ------------------------------------------------------------ start, learn
ld_start n1 "$H" "$T_CONF"
# the kernel side logs it once it has dumped the table, which may be after
# the control socket is up (ld_start's wait): seen under SAN in a loaded run
for _ in $(seq 1 50); do
	grep -q 'learned routes (protocol 77) of a previous run kept' "$T_TMP/leafnetd-n1.log" && break
	sleep 0.1
done
assert_match "start: the stale proto 77 route is kept, stale (graceful restart)" \
	"$(cat "$T_TMP/leafnetd-n1.log")" '1 learned routes \(protocol 77\) of a previous run kept'
if ld_wait_established n1 10.0.0.254 10; then
	ok "session with the ToR Established"
else
	notok "session with the ToR Established" "$(ld_status n1 | xargs | cut -c1-300)"
	bird_diag tor
fi
assert_eventually "the ToR's End-of-RIB: the stale proto 77 route nobody advertises is gone" 0 \
	count_lines ip -n "$H" -4 route show proto 77 exact 10.97.0.0/24
assert_eq "start: the proto 186 routes are left alone" 2 "$(n186)"
assert_match "start: leafnetd says what it removed" \
	"$(cat "$T_TMP/leafnetd-n1.log")" 'removing 1 stale learned routes \(protocol 77\)'
assert_eq "status JSON: no stale learned route left" 0 \
	"$(jqv "$(ld_status n1 -o json)" '.graceful_restart.stale_learned')"
assert_eventually "learned: 10.99.1.0/24 via the ToR as proto 77" 1 \
	count_lines ip -n "$H" -4 route show proto 77 exact 10.99.1.0/24 via 10.0.0.254
assert_eventually "learned: the default as proto 77" 1 \
	count_lines ip -n "$H" -4 route show proto 77 exact 0.0.0.0/0 via 10.0.0.254
assert_eventually "learned: three routes, all proto 77" 3 n77
assert_eq "learned: not one as proto 186 (BIRD's RTPROT_BGP)" 2 "$(n186)"
assert_match "the learned route's protocol in the kernel is 77" \
	"$(ip -n "$H" -4 -d route show exact 10.99.2.0/24)" 'proto (77|leafnet-bgp) '

# a withdraw on the ToR removes exactly that route
birdq tor disable nets4 >/dev/null
assert_eventually "ToR withdraws its /24s -> gone from the kernel" 1 n77
assert_eq "... and the proto 186 routes are still there" 2 "$(n186)"
birdq tor enable nets4 >/dev/null
assert_eventually "ToR announces them again -> back as proto 77" 3 n77

# ------------------------------------------------------------------ stop
ld_stop n1
assert_eq "leafnetd exits 0 on SIGTERM" 0 "$?"
assert_eq "stop: every proto 77 route removed" 0 "$(n77)"
assert_eq "stop: both proto 186 routes survive" 2 "$(n186)"
assert_eq "stop: the 186 route is unchanged" 1 \
	"$(count_lines ip -n "$H" -4 route show proto 186 exact 10.98.0.0/24 via 10.0.0.254)"

bird_stop_all
t_done
