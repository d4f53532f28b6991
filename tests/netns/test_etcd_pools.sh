#!/bin/bash
# test_etcd_pools.sh — pod ADDs on one host cost the other hosts' leafnetd
# no read of the allocations (alloc/ is not watched, routing/watch.c), and
# the pool usage metric still follows this host's own ADDs and DELs.
#
#   etcd (namespace E, Debian etcd-server) ── veth ── A: leafnetd (node a, metrics) + CNI
#                                          └─ veth ── B: leafnetd (node b)
#
# Each leafnetd says in its status how often it read the store for its
# RIB ("store_reads": sources = networks + blocks, allocations = those that
# also listed alloc/; "skipped": other nodes' block changes not read).
# Checks: both idle: etcd serves no request in 3 s; A's first ADD claims a
# block: A reads it, B reads nothing (another node's block, away from
# B's: watch.c block_matters()) and counts it skipped; A's next ADDs,
# inside that block: B reads nothing at all; B's own first ADD: B reads
# its claim, A skips it; A's metric leafnet_network_addresses_allocated
# follows A's ADDs and a DEL (within WATCH_POOLS_MIN_MS, 10 s, plus slack).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../etcd.sh"
. "$(dirname "$0")/../bird.sh"

t_init
t_require etcd curl jq "$BIN/netctl" "$BIN/leafnet" "$BIN/leafnetd"
etcd_ns_init
MPORT=$((PORT + 2))

mkhost HA 10.255.0.1 fd00:ff::1
mkhost HB 10.255.0.2 fd00:ff::2
mkcontainer C1
mkcontainer C2
mkcontainer C3
mkcontainer C4

etcd_wire "$HA" 1
etcd_wire "$HB" 2
etcd_ns_start lfp
# unary gRPC requests etcd has handled (the JSON gateway's kv/txn/lease calls)
etcd_requests() { etcd_grpc_total; }

# netctl runs inside a host namespace: etcd's addresses exist only there
NCTL_NS=$HA
nctl() {
	local f
	T_CALLS=$((T_CALLS + 1))
	f=$T_TMP/calls/netctl.$BASHPID.$T_CALLS
	mkdir -p "$T_TMP/calls"
	ip netns exec "$NCTL_NS" env LEAFNET_CONF="$T_CONF" timeout -k 2 20 "$BIN/netctl" "$@" \
		>"$f.out" 2>"$f.err"
	NCTL_RC=$?
	NCTL_OUT=$(cat "$f.out")
	NCTL_ERR=$(cat "$f.err")
	return 0
}
mkconf() {	# mkconf FILE NODE ETCD-URL
	ld_conf "$1" "$2" "$T_TMP/state-$2"
	jq --arg ep "$3" '.datastore = "etcd" | .etcd_endpoints = $ep' "$1" >"$1.new" &&
		mv "$1.new" "$1" || bail "config $1"
}
C_A=$T_TMP/a.conf
C_B=$T_TMP/b.conf
mkconf "$C_A" a "$URL1"
mkconf "$C_B" b "$URL2"
jq --arg m "127.0.0.1:$MPORT" '.metrics_listen = $m' "$C_A" >"$C_A.new" && mv "$C_A.new" "$C_A" ||
	bail "metrics_listen"
T_CONF=$C_A

nctl_ok "network agg (/26 blocks)" network create agg --subnet=192.168.2.0/24
ld_start a "$HA" "$C_A"
NCTL_NS=$HB ld_start b "$HB" "$C_B"

# reads KIND HOST: store_reads.KIND from HOST's leafnetd status
reads() {
	local ns=$HA tag=a
	[ "$2" = b ] && ns=$HB tag=b
	NCTL_NS=$ns ld_status "$tag" -o json | jq -r ".store_reads.$1 // \"none\""
}
# A's pool metric for agg (IPv4): addresses allocated
allocated() {
	ip netns exec "$HA" curl -sS --max-time 5 "http://127.0.0.1:$MPORT/metrics" |
		awk '/^leafnet_network_addresses_allocated\{/ && /network="agg"/ && /ipv4/ && !n++ { print $2 }'
}
wait_allocated() {	# wait_allocated N: A's metric shows N within 15 s
	local i
	for i in $(seq 1 150); do
		[ "$(allocated)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

sleep 2			# both started: their first reads and the watch's READY
assert_match "A's status counts its store reads" "$(reads sources a)" '^[0-9]+$'
assert_match "B's status counts its store reads" "$(reads sources b)" '^[0-9]+$'
before=$(etcd_requests)
sleep 3
after=$(etcd_requests)
assert_eq "idle, two leafnetd: no etcd request in 3 s ($before -> $after)" "$before" "$after"
assert_eq "A's pool metric: nothing allocated yet" 0 "$(allocated)"

bs0=$(reads sources b); ba0=$(reads allocations b); aa0=$(reads allocations a)
as0=$(reads sources a); bk0=$(reads skipped b)
cni_conf agg 1.1.0
cni_add "$HA" ctr1 "$C1" eth0
cni_expect_ok "ADD 1 on A (claims a block)" || bail "ADD 1"
t0=$(date +%s%N)
if wait_allocated 1; then
	ok "A's pool metric follows A's first ADD (1 after $(( ($(date +%s%N) - t0) / 1000000 )) ms)"
else
	notok "A's pool metric follows A's first ADD" "allocated: $(allocated)"
fi
sleep 0.5	# the claim's watch events have reached B
bs1=$(reads sources b); ba1=$(reads allocations b); as1=$(reads sources a)
n=$((as1 - as0))
if [ "$n" -ge 1 ] && [ "$n" -le 3 ]; then
	ok "the block claim on A: A read networks and blocks $n time(s)"
else
	notok "the block claim on A: A read networks and blocks once or twice" "$as0 -> $as1"
fi
assert_eq "the block claim on A: B read nothing (not its block)" "$bs0" "$bs1"
bk1=$(reads skipped b)
assert_cmd "... and counted it skipped ($bk0 -> $bk1)" [ "$bk1" -gt "$bk0" ]
assert_eq "... and never the allocations" "$ba0" "$ba1"

cni_add "$HA" ctr2 "$C2" eth0
cni_expect_ok "ADD 2 on A (inside its block)"
cni_add "$HA" ctr3 "$C3" eth0
cni_expect_ok "ADD 3 on A (inside its block)"
t0=$(date +%s%N)
if wait_allocated 3; then
	ok "A's pool metric follows A's ADDs (3 after $(( ($(date +%s%N) - t0) / 1000000 )) ms)"
else
	notok "A's pool metric follows A's ADDs" "allocated: $(allocated)"
fi
assert_eq "ADDs inside A's block: B read nothing at all" "$bs1" "$(reads sources b)"
assert_eq "... and no allocations" "$ba0" "$(reads allocations b)"

cni_del "$HA" ctr3 "$C3" eth0
cni_expect_ok "DEL 3 on A"
t0=$(date +%s%N)
if wait_allocated 2; then
	ok "A's pool metric follows A's DEL (2 after $(( ($(date +%s%N) - t0) / 1000000 )) ms)"
else
	notok "A's pool metric follows A's DEL" "allocated: $(allocated)"
fi
aa1=$(reads allocations a)
n=$((aa1 - aa0))
if [ "$n" -ge 1 ] && [ "$n" -le 4 ]; then
	ok "A read its allocations $n time(s) for 3 ADDs and a DEL (at most every 10 s)"
else
	notok "A read its allocations a few times, not per ADD" "$aa0 -> $aa1"
fi
assert_eq "B never read the allocations" "$ba0" "$(reads allocations b)"

# B's own first ADD: its claim is B's to read, A's to skip
as2=$(reads sources a); ak2=$(reads skipped a); bs2=$(reads sources b)
T_CONF=$C_B cni_add "$HB" ctrb "$C4" eth0
cni_expect_ok "ADD on B (claims a block of B's)"
sleep 0.5
assert_cmd "B read its own block claim ($bs2 -> $(reads sources b))" \
	[ "$(reads sources b)" -gt "$bs2" ]
assert_eq "A read nothing for B's claim" "$as2" "$(reads sources a)"
assert_cmd "... and counted it skipped ($ak2 -> $(reads skipped a))" \
	[ "$(reads skipped a)" -gt "$ak2" ]
T_CONF=$C_B cni_del "$HB" ctrb "$C4" eth0

sleep 1
before=$(etcd_requests)
sleep 3
after=$(etcd_requests)
assert_eq "idle again: no etcd request in 3 s ($before -> $after)" "$before" "$after"

cni_del "$HA" ctr1 "$C1" eth0
cni_del "$HA" ctr2 "$C2" eth0
ld_stop a
ld_stop b
t_done
