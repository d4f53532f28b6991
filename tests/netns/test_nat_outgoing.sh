#!/bin/bash
# test_nat_outgoing.sh — leafnetd's node-side outbound SNAT (nat-outgoing).
#
#   OUT (192.0.2.2, 2001:db8::2; no route back to any pool)
#    |  veth
#   H  (192.0.2.1, 2001:db8::1; leafnetd, forwarding on)
#    |-- CA  network A 10.90.0.0/24 + fd00:90::/64, non-routable, nat-outgoing
#    `-- CB  network B 10.91.0.0/24, no NAT
#
# A reaches OUT over IPv4 and IPv6 only because H masquerades it (OUT sees
# H's address); B's packets reach OUT with their own source and get no
# answer; A and B talk with their real addresses.  The table "inet leafnet"
# holds the right pools, follows the networks list (periodic reload,
# SIGHUP), comes back after a "flush", and goes on SIGTERM.  The root
# namespace never gets a table.
#
# $LEAFNETD overrides the daemon binary (default $BIN/leafnetd).
. "$(dirname "$0")/../lib.sh"
t_init
LEAFNETD=${LEAFNETD:-$BIN/leafnetd}
t_require "$LEAFNETD" "$BIN/leafnet" "$BIN/netctl" nft ping

jq '. + {fsync: false, bgp_port: 1179}' "$T_CONF" >"$T_CONF.new" && mv "$T_CONF.new" "$T_CONF"
SOCK=$(jq -r .control_socket "$T_CONF")
LD_PID=

# The machine's own namespace: read only, before and after.
root_tables() { nft list tables 2>/dev/null | grep -c 'leafnet' ; }
ROOT_BEFORE=$(root_tables)

mkhost H
mkns OUT
mkcontainer CA
mkcontainer CB

# ---- the outside, joined to H by a veth; it knows no pool
ip -n "$H" link add lfx-out type veth peer name lfx-in netns "$OUT" || bail "veth H-OUT"
ip -n "$H" addr add 192.0.2.1/24 dev lfx-out || bail "H v4 on the outside link"
ip -n "$H" addr add 2001:db8::1/64 dev lfx-out nodad || bail "H v6 on the outside link"
ip -n "$H" link set lfx-out up || bail "lfx-out up"
ip -n "$OUT" addr add 192.0.2.2/24 dev lfx-in || bail "OUT v4"
ip -n "$OUT" addr add 2001:db8::2/64 dev lfx-in nodad || bail "OUT v6"
ip -n "$OUT" link set lfx-in up || bail "lfx-in up"

# What reaches OUT, by source: named counters read back as JSON.
ip netns exec "$OUT" nft -f - <<'EOF' || bail "counters in OUT"
table inet lftcount {
	counter from_host4 { }
	counter from_host6 { }
	counter from_poolA4 { }
	counter from_poolA6 { }
	counter from_poolB4 { }
	chain input {
		type filter hook input priority filter; policy accept;
		ip saddr 192.0.2.1 icmp type echo-request counter name from_host4
		ip6 saddr 2001:db8::1 icmpv6 type echo-request counter name from_host6
		ip saddr 10.90.0.0/24 counter name from_poolA4
		ip6 saddr fd00:90::/64 counter name from_poolA6
		ip saddr 10.91.0.0/24 counter name from_poolB4
	}
}
EOF
count() {	# NS COUNTER -> packets
	ip netns exec "$1" nft -j list counter inet lftcount "$2" 2>/dev/null |
		jq -r '.nftables[] | select(.counter) | .counter.packets'
}

ld_start() {	# leafnetd in $H, its log in $T_TMP/leafnetd.N.log
	T_CALLS=$((T_CALLS + 1))
	LD_LOG=$T_TMP/leafnetd.$T_CALLS.log
	ip netns exec "$H" "$LEAFNETD" --config "$T_CONF" -d >"$LD_LOG" 2>&1 &
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

has_table()  { ip netns exec "$H" nft list table inet leafnet >/dev/null 2>&1; }
no_table()   { ! has_table; }
set_of()     { ip netns exec "$H" nft list set inet leafnet "$1" 2>&1 | grep 'elements'; }

# wait_until WHAT TIMEOUT_MS CMD...: CMD succeeds within the time
wait_until() {
	local what=$1 limit=$2 t0 now
	shift 2
	t0=$(date +%s%N)
	while :; do
		if "$@" >/dev/null 2>&1; then
			now=$(date +%s%N)
			ok "$what ($(((now - t0) / 1000000)) ms)"
			return 0
		fi
		now=$(date +%s%N)
		if [ $(((now - t0) / 1000000)) -gt "$limit" ]; then
			notok "$what" "not within $limit ms"
			return 1
		fi
		sleep 0.05
	done
}

nctl_ok "network A (nat-outgoing)" network create A --subnet=10.90.0.0/24 \
	--subnet=fd00:90::/64 --non-routable --nat-outgoing
nctl_ok "network B (no NAT)" network create B --subnet=10.91.0.0/24

ld_start
assert_cmd "table inet leafnet installed at start" has_table
assert_contains "the start is logged" "$(cat "$LD_LOG")" \
	"outbound NAT: table inet leafnet installed: masquerading A"

# ---- the table's content
assert_match "allpools4 holds both networks" "$(set_of allpools4)" \
	'10\.90\.0\.0/24, 10\.91\.0\.0/24|10\.91\.0\.0/24, 10\.90\.0\.0/24'
assert_eq "natpools4 holds network A only" "elements = { 10.90.0.0/24 }" "$(set_of natpools4 | xargs)"
assert_eq "allpools6 holds fd00:90::/64" "elements = { fd00:90::/64 }" "$(set_of allpools6 | xargs)"
assert_eq "natpools6 holds fd00:90::/64" "elements = { fd00:90::/64 }" "$(set_of natpools6 | xargs)"
CHAIN=$(ip netns exec "$H" nft list chain inet leafnet postrouting 2>&1)
assert_match "postrouting is a srcnat nat chain" "$CHAIN" 'type nat hook postrouting priority srcnat'
assert_contains "traffic to local workloads is left alone" "$CHAIN" 'oifname "lfn*" return'
assert_match "IPv4 masquerade rule" "$CHAIN" 'ip saddr @natpools4 ip daddr != @allpools4 counter .*masquerade'
assert_match "IPv6 masquerade rule" "$CHAIN" 'ip6 saddr @natpools6 ip6 daddr != @allpools6 counter .*masquerade'

# ---- workloads
cni_conf A
cni_add "$H" ctr-nat-a "$CA" eth0
cni_expect_ok "ADD a container in A" || bail "ADD A" "nothing else can be tested"
A4=$(jqv "$CNI_OUT" '[.ips[].address | select(contains(":") | not)][0] | sub("/.*"; "")')
A6=$(jqv "$CNI_OUT" '[.ips[].address | select(contains(":"))][0] | sub("/.*"; "")')
cni_conf B
cni_add "$H" ctr-nat-b "$CB" eth0
cni_expect_ok "ADD a container in B" || bail "ADD B" "nothing else can be tested"
B4=$(jqv "$CNI_OUT" '[.ips[].address | select(contains(":") | not)][0] | sub("/.*"; "")')
diag "A: $A4 $A6, B: $B4"

ping_ok "A pings the outside over IPv4 (needs SNAT: no route back)" "$CA" 192.0.2.2
ping_ok "A pings the outside over IPv6 (needs SNAT: no route back)" "$CA" 2001:db8::2
assert_match "the outside saw H's IPv4 address as the source" "$(count "$OUT" from_host4)" '^[1-9]'
assert_match "the outside saw H's IPv6 address as the source" "$(count "$OUT" from_host6)" '^[1-9]'
assert_eq "the outside never saw pool A's IPv4 addresses" 0 "$(count "$OUT" from_poolA4)"
assert_eq "the outside never saw pool A's IPv6 addresses" 0 "$(count "$OUT" from_poolA6)"
assert_match "H's masquerade counters moved" \
	"$(ip netns exec "$H" nft list chain inet leafnet postrouting)" 'counter packets [1-9]'

assert_fails "B (no nat-outgoing) gets no answer from the outside" \
	ip netns exec "$CB" ping -c 2 -W 1 -w 2 192.0.2.2
assert_match "B's packets reached the outside with B's own address" \
	"$(count "$OUT" from_poolB4)" '^[1-9]'

# ---- between pools: never NATed
ip netns exec "$CB" nft -f - <<EOF || bail "counter in CB"
table inet lftcount {
	counter from_a { }
	chain input {
		type filter hook input priority filter; policy accept;
		ip saddr $A4 icmp type echo-request counter name from_a
	}
}
EOF
ping_ok "A reaches B" "$CA" "$B4"
ping_ok "B reaches A" "$CB" "$A4"
assert_match "B saw A's real address" "$(count "$CB" from_a)" '^[1-9]'

# ---- the table follows the networks list
cni_conf A
cni_del "$H" ctr-nat-a "$CA" eth0
cni_expect_ok "DEL A's container"
nctl_ok "remove network A" network rm A --force
wait_until "no nat-outgoing network left: the table goes (periodic reload)" 12000 no_table
assert_contains "the removal is logged" "$(cat "$LD_LOG")" \
	"no network has nat-outgoing; table inet leafnet removed"

nctl_ok "network C (nat-outgoing)" network create C --subnet=10.92.0.0/24 --nat-outgoing
kill -HUP "$LD_PID"
wait_until "SIGHUP: the table for C is there at once" 2000 has_table
assert_eq "natpools4 holds network C" "elements = { 10.92.0.0/24 }" "$(set_of natpools4 | xargs)"
assert_match "allpools4 holds B and C" "$(set_of allpools4)" '10\.91\.0\.0/24, 10\.92\.0\.0/24'
assert_eq "no IPv6 set without an IPv6 nat pool" "" "$(set_of natpools6)"

# someone flushes the ruleset (a firewall reload): leafnetd puts it back
ip netns exec "$H" nft flush ruleset
wait_until "a flushed table comes back on the next reload" 12000 has_table
assert_contains "the repair is logged" "$(cat "$LD_LOG")" "vanished"

ld_stop
assert_eq "leafnetd exits 0 on SIGTERM" 0 "$LD_RC"
assert_cmd "SIGTERM removes the table" no_table

# ---- a table left by a crashed leafnetd goes when nothing is to be NATed
nctl_ok "remove network C" network rm C
ip netns exec "$H" nft add table inet leafnet || bail "stale table"
ld_start
assert_cmd "a stale table is removed at start" no_table
ld_stop
assert_eq "leafnetd exits 0 again" 0 "$LD_RC"

cni_conf B
cni_del "$H" ctr-nat-b "$CB" eth0
cni_expect_ok "DEL B's container"

assert_eq "the root namespace got no leafnet table" "$ROOT_BEFORE" "$(root_tables)"
t_done
