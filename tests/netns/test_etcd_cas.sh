#!/bin/bash
# test_etcd_cas.sh — IPAM on etcd without the network lock: one real etcd in
# a namespace of its own, two "host" namespaces wired to it by veths, each
# with its own config (datastore etcd, own node_name).  Counted from etcd's
# own /metrics (grpc_server_handled_total of unary methods): requests per
# hot-path ADD (after each host's first, which claims a block) <= 3, of
# them Txn <= 2, and no lease (a lock) taken; 20+20 concurrent ADDs from
# the two hosts, all distinct, no lock key; a DEL then an ADD; a network
# deleted (--force) while ADDs run leaves no allocation, owner or block.
# etcd listens only inside its namespace (loopback and its veth ends).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../etcd.sh"

t_init
t_require etcd etcdctl curl "$BIN/netctl" "$BIN/leafnet"
PER_HOST=20
HOT=6

etcd_ns_init
mkhost H1 10.255.0.1 fd00:ff::1
mkhost H2 10.255.0.2 fd00:ff::2
etcd_wire "$H1" 1
etcd_wire "$H2" 2
etcd_ns_start lfc

ectl() { ip netns exec "$E" etcdctl --endpoints "$LOCAL" "$@"; }
# metrics: "METHOD COUNT" lines, unary calls handled so far
metrics() { etcd_grpc_counts; }
delta() { etcd_delta "$@"; }

CONF1=$T_TMP/host1.conf
CONF2=$T_TMP/host2.conf
etcd_node_conf "$CONF1" host1 "$URL1"
etcd_node_conf "$CONF2" host2 "$URL2"

hctl() {	# hctl HOSTNS CONF ARGS...
	local h=$1 c=$2 f
	shift 2
	T_CALLS=$((T_CALLS + 1))
	f=$T_TMP/calls/netctl.$BASHPID.$T_CALLS
	ip netns exec "$h" env LEAFNET_CONF="$c" ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" timeout -k 2 60 "$BIN/netctl" "$@" \
		>"$f.out" 2>"$f.err"
	NCTL_RC=$?
	NCTL_OUT=$(cat "$f.out")
	NCTL_ERR=$(cat "$f.err")
}

hctl "$H1" "$CONF1" network create public --subnet=10.0.0.0/22
assert_eq "network create" 0 "$NCTL_RC" || diag "$NCTL_ERR"
cni_conf public 1.1.0

# ------------------------------------------ 1. requests per hot-path ADD

declare -A ADDR
add_one() {	# add_one HOSTNUM NAME: a sequential ADD, its address in ADDR[NAME]
	local hv=H$1 cv=CONF$1
	mkcontainer "C_$2"
	local cn=C_$2
	T_CONF=${!cv} cni_add "${!hv}" "ctr-$2" "${!cn}" eth0
	ADDR[$2]=$(jqv "$CNI_OUT" '.ips[0].address' | cut -d/ -f1)
	[ "$CNI_RC" = 0 ] || diag "ADD $2 on host$1: exit $CNI_RC $CNI_OUT"
}
add_one 1 first1
add_one 2 first2
assert_ne "first ADD on each host succeeds" "" "${ADDR[first1]:-}${ADDR[first2]:-}"
worst=0 worst_txn=0 leases=0 total=0
for i in $(seq 1 $HOT); do
	for h in 1 2; do
		m0=$(metrics)
		add_one "$h" "hot${h}_$i"
		m1=$(metrics)
		n=$(delta "$m0" "$m1")
		t=$(delta "$m0" "$m1" Txn)
		l=$(delta "$m0" "$m1" LeaseGrant)
		total=$((total + n))
		[ "$n" -gt "$worst" ] && worst=$n
		[ "$t" -gt "$worst_txn" ] && worst_txn=$t
		leases=$((leases + l))
		diag "hot ADD host$h #$i: $n requests ($t Txn, $(delta "$m0" "$m1" Range) Range, $l LeaseGrant) -> ${ADDR[hot${h}_$i]}"
	done
done
diag "hot-path ADDs: $total requests for $((2 * HOT)) ADDs (worst $worst, worst Txn $worst_txn)"
assert_cmd "every hot-path ADD made <= 3 etcd requests (worst $worst)" [ "$worst" -le 3 ]
assert_cmd "every hot-path ADD made <= 2 Txn (worst $worst_txn)" [ "$worst_txn" -le 2 ]
assert_eq "no hot-path ADD took a lease (no lock)" 0 "$leases"
m0=$(metrics)
T_CONF=$CONF1 cni_del "$H1" ctr-hot1_1 "$C_hot1_1" eth0
m1=$(metrics)
cni_expect_ok "DEL of a hot-path container"
diag "DEL: $(delta "$m0" "$m1") requests ($(delta "$m0" "$m1" Txn) Txn, $(delta "$m0" "$m1" LeaseGrant) LeaseGrant)"
assert_cmd "the DEL made <= 3 etcd requests" [ "$(delta "$m0" "$m1")" -le 3 ]
assert_eq "the DEL freed its allocation key" "" \
	"$(ectl get "/leafnet/alloc/public/${ADDR[hot1_1]}" --keys-only)"

# a DEL then an ADD: the same container again gets an address nobody holds
add_one 1 hot1_1
held=$(ectl get --prefix /leafnet/alloc/public/ --keys-only | grep -c .)
assert_eq "after DEL + ADD: $((2 + 2 * HOT)) allocations" "$((2 + 2 * HOT))" "$held"
assert_eq "after DEL + ADD: all distinct" "$((2 + 2 * HOT))" \
	"$(printf '%s\n' "${ADDR[@]}" | sort -u | grep -c .)"

# ------------------------------------------- 2. 20 + 20 concurrent ADDs

for h in 1 2; do
	for i in $(seq 1 $PER_HOST); do
		mkcontainer "C_${h}_$i"
	done
done
m0=$(metrics)
pids=()
for h in 1 2; do
	hv=H$h cv=CONF$h
	for i in $(seq 1 $PER_HOST); do
		cn="C_${h}_$i"
		T_CONF=${!cv} cni_call "$T_TMP/calls/add.$h.$i" "$BIN/leafnet" "${!hv}" ADD \
			"ctr-$h-$i" "$(nspath "${!cn}")" eth0 &
		pids+=($!)
	done
done
wait "${pids[@]}"
m1=$(metrics)
fails=0 addrs=()
for h in 1 2; do
	for i in $(seq 1 $PER_HOST); do
		cni_load "$T_TMP/calls/add.$h.$i"
		if [ "$CNI_RC" != 0 ]; then
			fails=$((fails + 1))
			diag "ADD host$h #$i: exit $CNI_RC $CNI_OUT"
			continue
		fi
		addrs+=("$(jqv "$CNI_OUT" '.ips[0].address' | cut -d/ -f1)")
	done
done
diag "concurrent: $(delta "$m0" "$m1") requests for $((2 * PER_HOST)) ADDs ($(delta "$m0" "$m1" Txn) Txn, $(delta "$m0" "$m1" LeaseGrant) LeaseGrant)"
assert_eq "$((2 * PER_HOST)) concurrent ADDs from two hosts succeed" 0 "$fails"
assert_eq "$((2 * PER_HOST)) addresses, none given twice" "$((2 * PER_HOST))" \
	"$(printf '%s\n' "${addrs[@]}" "${ADDR[@]}" | sort -u | grep -c . | awk -v n=${#ADDR[@]} '{print $1 - n}')"
assert_eq "no lease taken by the concurrent ADDs (no lock)" 0 "$(delta "$m0" "$m1" LeaseGrant)"
assert_eq "no lock key in etcd" "" "$(ectl get --prefix /leafnet/locks/ --keys-only)"
total=$((2 + 2 * HOT + 2 * PER_HOST))
assert_eq "etcd holds $total allocation keys, one per address handed out" "$total" \
	"$(ectl get --prefix /leafnet/alloc/public/ --keys-only | grep -c .)"

# ------------------------------- 3. the network deleted while ADDs run

hctl "$H1" "$CONF1" network create race --subnet=10.9.0.0/22
assert_eq "network create race" 0 "$NCTL_RC" || diag "$NCTL_ERR"
cni_conf race 1.1.0
for i in $(seq 1 12); do mkcontainer "R_$i"; done
pids=()
for i in $(seq 1 12); do
	h=$(( (i % 2) + 1 )) hv=H$(( (i % 2) + 1 )) cv=CONF$(( (i % 2) + 1 ))
	cn="R_$i"
	T_CONF=${!cv} cni_call "$T_TMP/calls/race.$i" "$BIN/leafnet" "${!hv}" ADD \
		"race-$i" "$(nspath "${!cn}")" eth0 &
	pids+=($!)
	[ "$i" = 6 ] && { hctl "$H1" "$CONF1" network rm race --force; RM_RC=$NCTL_RC; RM_ERR=$NCTL_ERR; }
done
wait "${pids[@]}"
assert_eq "network rm --force while ADDs run" 0 "$RM_RC" || diag "$RM_ERR"
okc=0 failc=0
for i in $(seq 1 12); do
	cni_load "$T_TMP/calls/race.$i"
	if [ "$CNI_RC" = 0 ]; then okc=$((okc + 1)); else failc=$((failc + 1)); fi
done
diag "racing ADDs: $okc succeeded (before the rm), $failc failed"
assert_eq "the deleted network left no alloc, owner, block or hint key" "" \
	"$(for d in alloc owners blocks hints; do ectl get --prefix /leafnet/$d/race/ --keys-only; done)"
assert_eq "the network record is gone" "" "$(ectl get /leafnet/networks/race --keys-only)"

# ------------------------------------------------------------- 4. DELs

cni_conf public 1.1.0
pids=()
for h in 1 2; do
	hv=H$h cv=CONF$h
	for i in $(seq 1 $PER_HOST); do
		cn="C_${h}_$i"
		T_CONF=${!cv} cni_call "$T_TMP/calls/del.$h.$i" "$BIN/leafnet" "${!hv}" DEL \
			"ctr-$h-$i" "$(nspath "${!cn}")" eth0 &
		pids+=($!)
	done
done
wait "${pids[@]}"
fails=0
for h in 1 2; do
	for i in $(seq 1 $PER_HOST); do
		cni_load "$T_TMP/calls/del.$h.$i"
		[ "$CNI_RC" = 0 ] || { fails=$((fails + 1)); diag "DEL host$h #$i: $CNI_OUT"; }
	done
done
assert_eq "$((2 * PER_HOST)) concurrent DELs from two hosts succeed" 0 "$fails"
assert_eq "what is left: the sequential ADDs' $((2 + 2 * HOT)) allocations" "$((2 + 2 * HOT))" \
	"$(ectl get --prefix /leafnet/alloc/public/ --keys-only | grep -c .)"
assert_eq "no lock key in etcd" "" "$(ectl get --prefix /leafnet/locks/ --keys-only)"

t_done
