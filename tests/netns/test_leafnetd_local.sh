#!/bin/bash
# test_leafnetd_local.sh — leafnetd's local side: the kernel route monitor,
# the local RIB (aggregation, communities), the control socket, netctl
# status, reload, and no lost route events in a 10,000-route burst, even
# when the kernel overflows the monitor socket (forced with a tiny
# receive buffer: LEAFNETD_TEST_RCVBUF).
#
# $LEAFNETD overrides the daemon binary (default $BIN/leafnetd).
. "$(dirname "$0")/../lib.sh"
t_init
LEAFNETD=${LEAFNETD:-$BIN/leafnetd}
t_require "$LEAFNETD" "$BIN/leafnet" "$BIN/netctl"

# fast state writes, BGP on an unprivileged port, nothing to connect to
jq '. + {fsync: false, bgp_port: 1179}' "$T_CONF" >"$T_CONF.new" && mv "$T_CONF.new" "$T_CONF"
SOCK=$(jq -r .control_socket "$T_CONF")
LD_PID=

mkhost H
mkcontainer C1
mkcontainer C2

ld_start() {	# [VAR=value...]: leafnetd in $H, its log in $T_TMP/leafnetd.N.log
	T_CALLS=$((T_CALLS + 1))
	LD_LOG=$T_TMP/leafnetd.$T_CALLS.log
	ip netns exec "$H" env "$@" "$LEAFNETD" --config "$T_CONF" -d >"$LD_LOG" 2>&1 &
	LD_PID=$!
	t_register_pid "$LD_PID"
	for _ in $(seq 1 100); do
		[ -S "$SOCK" ] && ip netns exec "$H" "$BIN/netctl" --config "$T_CONF" status \
			>/dev/null 2>&1 && return 0
		sleep 0.05
	done
	bail "leafnetd starts" "no answer on $SOCK: $(tail -5 "$LD_LOG")"
}

ld_stop() {	# -> $LD_RC
	kill -TERM "$LD_PID" 2>/dev/null
	wait "$LD_PID"
	LD_RC=$?
}

# routes [JQ]: the RIB as JSON lines {"prefix",..} (jq filter on each)
routes() {
	LEAFNET_CONF=$T_CONF "$BIN/netctl" status --routes -o json 2>/dev/null |
		jq -c ".local[] | ${1:-.}"
}
route_field() {	# PREFIX FIELD
	routes | jq -r --arg p "$1" "select(.prefix == \$p) | .$2"
}
status_field() {
	LEAFNET_CONF=$T_CONF "$BIN/netctl" status -o json 2>/dev/null | jq -r ".$1"
}

# wait_for WHAT TIMEOUT_MS CMD...: CMD succeeds within the time; prints ms
wait_for() {
	local what=$1 limit=$2 t0 now
	shift 2
	t0=$(date +%s%N)
	while :; do
		if "$@" >/dev/null 2>&1; then
			now=$(date +%s%N)
			WAIT_MS=$(((now - t0) / 1000000))
			ok "$what (${WAIT_MS} ms)"
			return 0
		fi
		now=$(date +%s%N)
		if [ $(((now - t0) / 1000000)) -gt "$limit" ]; then
			notok "$what" "not within $limit ms"
			return 1
		fi
		sleep 0.002
	done
}
has_route()     { [ "$(route_field "$1" advertised)" = "$2" ]; }
no_route()      { [ -z "$(route_field "$1" prefix)" ]; }
count_is()      { [ "$(status_field routes)" = "$1" ]; }

nctl_ok "network agg" network create agg --subnet=10.10.0.0/16
nctl_ok "network flat" network create flat --subnet=10.20.0.0/16 --non-routable --no-aggregate
nctl_ok "global peer" bgp peer add 192.0.2.1 as 65000

# ---- -n: the normalized configuration
out=$(ip netns exec "$H" "$LEAFNETD" --config "$T_CONF" -n 2>&1)
assert_eq "-n: node" node1 "$(jq -r .node <<<"$out" 2>/dev/null)"
assert_eq "-n: default node AS" 64511 "$(jq -r .as <<<"$out" 2>/dev/null)"
assert_eq "-n: router id from the host's first global address" 10.255.0.1 \
	"$(jq -r .router_id <<<"$out" 2>/dev/null)"
assert_eq "-n: global peer" "192.0.2.1 global 65000" \
	"$(jq -r '.peers[0] | "\(.address) \(.type) \(.as)"' <<<"$out" 2>/dev/null)"
assert_eq "-n: listen port from the config file" 1179 "$(jq -r .listen_port <<<"$out" 2>/dev/null)"

# ---- not running
nctl status
assert_eq "status without leafnetd exits 1" 1 "$NCTL_RC"
assert_contains "status says it is not running" "$NCTL_OUT" "leafnetd is not running (no answer on $SOCK"

ld_start
assert_eq "control socket mode 0600" 600 "$(stat -c %a "$SOCK")"

# ---- status table
nctl status
assert_eq "status exits 0" 0 "$NCTL_RC"
assert_contains "status: running" "$NCTL_OUT" "leafnetd process is running."
assert_contains "status: IPv4 table" "$NCTL_OUT" "IPv4 BGP status"
assert_match "status: header" "$NCTL_OUT" '\| PEER ADDRESS \| +PEER TYPE +\| STATE \| +SINCE +\| +INFO +\|'
assert_match "status: the global peer's row" "$NCTL_OUT" '\| 192\.0\.2\.1 +\| global +\| (start|up) +\|'
assert_contains "status: IPv6 table" "$NCTL_OUT" "IPv6 BGP status"

# ---- a user who may not use the socket is told so, not "not running"
PUBCONF=$(mktemp /tmp/lft-conf.XXXXXX)
cp "$T_CONF" "$PUBCONF" && chmod 644 "$PUBCONF"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/netctl" --config "$PUBCONF" \
	status 2>&1)
rc=$?
rm -f "$PUBCONF"
assert_eq "status as nobody exits 1" 1 "$rc"
assert_contains "status as nobody: permission denied, and what to do" "$out" \
	"permission denied on leafnetd's control socket"
assert_eq "status as nobody does not claim leafnetd is down" "" \
	"$(grep -o 'not running' <<<"$out" || true)"

# ---- CNI ADD: the workload route is in the RIB within milliseconds
cni_conf flat
cni_add "$H" ctr1 "$C1" eth0
cni_expect_ok "ADD ctr1 (flat: non-routable, no aggregation)"
A1=$(jq -r '.ips[0].address' <<<"$CNI_OUT" | cut -d/ -f1)
wait_for "ctr1's /32 in the RIB after ADD" 1000 has_route "$A1/32" true
assert_eq "ctr1's /32 carries the non-routable community" '["64511:100"]' \
	"$(route_field "$A1/32" communities | jq -c .)"

cni_conf agg
cni_add "$H" ctr2 "$C2" eth0
cni_expect_ok "ADD ctr2 (agg: block aggregation)"
A2=$(jq -r '.ips[0].address' <<<"$CNI_OUT" | cut -d/ -f1)
BLOCK=$(jq -r '.blocks[0].cidr // empty' <<<"$(LEAFNET_CONF=$T_CONF "$BIN/netctl" network inspect agg -o json)")
[ -n "$BLOCK" ] || BLOCK=10.10.0.0/26
wait_for "ctr2's block $BLOCK advertised as an aggregate" 1000 has_route "$BLOCK" true
assert_eq "the block is flagged aggregate" true "$(route_field "$BLOCK" aggregate)"
assert_eq "ctr2's /32 is in the RIB but not advertised (inside the block)" false \
	"$(route_field "$A2/32" advertised)"

# ---- DEL: gone
cni_conf flat
cni_del "$H" ctr1 "$C1" eth0
cni_expect_ok "DEL ctr1"
wait_for "ctr1's /32 gone after DEL" 1000 no_route "$A1/32"
cni_conf agg
cni_del "$H" ctr2 "$C2" eth0
cni_expect_ok "DEL ctr2"
wait_for "the block withdrawn with its last workload" 1000 no_route "$BLOCK"

# ---- the route monitor alone (no notify): a route added and removed by hand
ip -n "$H" link add lfn-t0 type veth peer name lfn-t1 || bail "veth"
ip -n "$H" link set lfn-t0 up && ip -n "$H" link set lfn-t1 up
ip -n "$H" route add 192.168.50.1/32 dev lfn-t0 proto 76
ip -n "$H" -6 route add fd00:50::1/128 dev lfn-t0 proto 76
wait_for "monitor: a hand-made IPv4 route" 1000 has_route 192.168.50.1/32 true
wait_for "monitor: a hand-made IPv6 route" 1000 has_route fd00:50::1/128 true
ip -n "$H" link set lfn-t0 down
wait_for "monitor: link down removes its IPv4 route (no RTM_DELROUTE)" 1000 no_route 192.168.50.1/32
wait_for "monitor: ... and its IPv6 route" 1000 no_route fd00:50::1/128
ip -n "$H" route add 192.168.50.2/32 dev lo proto 186
sleep 0.1
assert_eq "routes of another protocol are ignored" "" "$(route_field 192.168.50.2/32 prefix)"

# ---- reload: a new peer in the store reaches the running daemon
nctl_ok "second global peer" bgp peer add 192.0.2.2 as 65001
wait_for "reload on bgp/revision change (1 s check)" 3000 \
	bash -c "LEAFNET_CONF=$T_CONF $BIN/netctl status -o json | jq -e '.peers | length == 2'"
kill -HUP "$LD_PID"
sleep 0.2
assert_cmd "SIGHUP: still running" kill -0 "$LD_PID"

# ---- a burst of 10,000 routes at once
burst() {	# OP COUNT
	local i
	for ((i = 0; i < $2; i++)); do
		printf 'route %s 172.16.%d.%d/32 dev lo proto 76\n' "$1" $((i / 250)) $((i % 250 + 1))
	done >"$T_TMP/burst.$1"
	ip -n "$H" -batch "$T_TMP/burst.$1"
}
burst add 10000
wait_for "10,000 routes in the RIB" 5000 count_is 10000
BURST_MS=$WAIT_MS
burst del 10000
wait_for "10,000 routes withdrawn" 5000 count_is 0
ld_stop
assert_eq "leafnetd exits 0 on SIGTERM" 0 "$LD_RC"
assert_cmd "the control socket is removed" test ! -e "$SOCK"

# ---- the same with a tiny monitor buffer: overflow, resync, nothing lost
# (the daemon is stopped during the burst so the overflow is certain)
ld_start LEAFNETD_TEST_RCVBUF=4096
kill -STOP "$LD_PID"
burst add 10000
kill -CONT "$LD_PID"
wait_for "overflow: 10,000 routes in the RIB" 10000 count_is 10000
OVF_MS=$WAIT_MS
assert_match "overflow: the monitor resynced" "$(status_field resyncs)" '^[1-9]'
assert_contains "overflow: the resync is logged" "$(cat "$LD_LOG")" "resynced"
kill -STOP "$LD_PID"
burst del 10000
kill -CONT "$LD_PID"
wait_for "overflow: 10,000 routes withdrawn" 10000 count_is 0

# ---- a restart finds the routes already in the kernel
burst add 2000
ld_stop
assert_eq "leafnetd exits 0" 0 "$LD_RC"
ld_start
wait_for "restart: the dump loads 2,000 routes" 3000 count_is 2000
ld_stop
assert_eq "leafnetd exits 0 again" 0 "$LD_RC"

diag "burst of 10,000: ${BURST_MS} ms; with forced overflow: ${OVF_MS} ms"
t_done
