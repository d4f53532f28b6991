#!/bin/bash
# test_etcd_claim.sh — many hosts' first ADDs at once on a real etcd: every
# one of them claims a block in the same transaction as its address, and
# they all see the same lowest free block.  The losers retry; a retry
# starts at hash(node, attempt) among the blocks (ipam/ipam.c
# spread_seed()), so the losers scatter instead of all losing again on the
# next block together.  Asserts: all HOSTS ADDs succeed, distinct
# addresses, one block per host (none borrowed, none split), and etcd
# committed < 100 write txns for them (raft proposals; with the spread
# ~50-70, before it 319-462 Txn and 2,600 Range, and in one run 10 of 24
# failed, ipam.c's CAS retries running out).  leafnet-ipam alone, each
# "host" its own config and node name, all inside etcd's namespace (on
# its loopback).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../etcd.sh"

t_init
t_require etcd etcdctl curl jq "$BIN/netctl" "$BIN/leafnet-ipam"
HOSTS=${LEAFNET_TEST_CLAIM_HOSTS:-24}
TXN_MAX=100

etcd_ns_init
etcd_ns_start lfclaim
ectl() { ip netns exec "$E" etcdctl --endpoints "$LOCAL" "$@"; }

for h in $(seq 1 "$HOSTS"); do etcd_node_conf "$T_TMP/host$h.conf" "claim$h"; done
ip netns exec "$E" env LEAFNET_CONF="$T_TMP/host1.conf" timeout -k 2 60 \
	"$BIN/netctl" network create claim --subnet=10.70.0.0/20 --block-size=26 \
	>"$T_TMP/create.out" 2>&1
assert_eq "network create (64 /26 blocks)" 0 "$?" || bail "network create" "$(cat "$T_TMP/create.out")"

etcd_ipam_only claim
# write txns: raft proposals (a read-only txn, store_get_many's, is
# served without one; a txn whose compare failed is one too)
proposals() {
	ip netns exec "$E" curl -sf -m 5 "$LOCAL/metrics" |
		awk '/^etcd_server_proposals_committed_total / { print $2 }'
}
p0=$(proposals)
m0=$(etcd_grpc_counts)
pids=()
for h in $(seq 1 "$HOSTS"); do
	T_CONF=$T_TMP/host$h.conf cni_call "$T_TMP/add$h" "$CNI_PLUGIN" "$E" ADD \
		"ctr-claim-$h" "$(nspath "$C")" eth0 &
	pids+=($!)
done
wait "${pids[@]}"
m1=$(etcd_grpc_counts)
p1=$(proposals)
writes=$(awk -v a="$p0" -v b="$p1" 'BEGIN { printf "%d\n", b - a }')
txn=$(etcd_delta "$m0" "$m1" Txn)
range=$(etcd_delta "$m0" "$m1" Range)

failed=0
: >"$T_TMP/addrs"
for h in $(seq 1 "$HOSTS"); do
	cni_load "$T_TMP/add$h"
	if [ "$CNI_RC" = 0 ]; then
		jqv "$CNI_OUT" '.ips[0].address' | cut -d/ -f1 >>"$T_TMP/addrs"
	else
		failed=$((failed + 1))
		diag "host $h: exit $CNI_RC $(echo $CNI_OUT | head -c 300)"
	fi
done
diag "$HOSTS first ADDs at once: $txn Txn ($writes writes), $range Range, $failed failed"
assert_eq "all $HOSTS first ADDs succeed" 0 "$failed"
assert_eq "$HOSTS distinct addresses" "$HOSTS" "$(sort -u "$T_TMP/addrs" | grep -c .)"
assert_eq "$HOSTS allocation keys in etcd" "$HOSTS" \
	"$(ectl get --prefix /leafnet/alloc/claim/ --keys-only | grep -c .)"
blocks=$(ectl get --prefix /leafnet/blocks/claim/ --print-value-only)
assert_eq "$HOSTS blocks, all /26 (none split)" "$HOSTS" \
	"$(jq -r 'select(.cidr | endswith("/26")) | .node' <<<"$blocks" | grep -c .)"
assert_eq "one block per host" "$HOSTS" "$(jq -r .node <<<"$blocks" | sort -u | grep -c .)"
# each host's address lies in its own block: nothing borrowed
borrowed=0
for h in $(seq 1 "$HOSTS"); do
	cni_load "$T_TMP/add$h"
	[ "$CNI_RC" = 0 ] || continue
	a=$(jqv "$CNI_OUT" '.ips[0].address' | cut -d/ -f1)
	cidr=$(jq -r --arg n "claim$h" 'select(.node == $n) | .cidr' <<<"$blocks")
	net=${cidr%/*}
	last=${net##*.}
	[ "${a%.*}" = "${net%.*}" ] && [ "${a##*.}" -ge "$last" ] && [ "${a##*.}" -lt $((last + 64)) ] ||
		borrowed=$((borrowed + 1))
done
assert_eq "every host's address in its own block" 0 "$borrowed"
assert_cmd "etcd committed < $TXN_MAX write txns for the $HOSTS ADDs ($writes)" \
	[ "${writes:-999}" -lt "$TXN_MAX" ]

kill -TERM "$ETCD_PID" 2>/dev/null
wait "$ETCD_PID" 2>/dev/null
t_done
