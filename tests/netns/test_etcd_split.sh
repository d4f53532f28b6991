#!/bin/bash
# test_etcd_split.sh — a node without a block of its own in a pool whose
# blocks are all claimed splits one (a nested block, ipam/ipam_split.c),
# and its next ADDs then take the hot path like an owner's: its lock note
# names the nested block, so the first read fetches that block's record,
# not the parent's, which another node owns (ipam.c hint_block(),
# hint_nested()).  Before, every ADD of a nested block's holder took the
# slow path: it listed the network's blocks (an etcd Range) and read them
# all; at 50 hosts in a 78 % pool (bench/etcd_bench) 8.9 Range per ADD and
# 10-16 s for 800 ADDs, 1.4 and ~5 s with it.  Asserts: the split
# (a /27, the node's, none borrowed), its next ADDS ADDs inside it, none
# borrowed, and at most 2 etcd Range requests more for them than for as
# many ADDs of an owner in its own block (measured: 0 vs 0; 85 before).
# leafnet-ipam alone, each "host" its own config and node name, all
# inside etcd's namespace (on its loopback).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../etcd.sh"

t_init
t_require etcd etcdctl curl jq "$BIN/netctl" "$BIN/leafnet-ipam"
ADDS=10

etcd_ns_init
etcd_ns_start lfsplit
ectl() { ip netns exec "$E" etcdctl --endpoints "$LOCAL" "$@"; }

for h in own1 own2 nest; do etcd_node_conf "$T_TMP/$h.conf" "$h"; done
ip netns exec "$E" env LEAFNET_CONF="$T_TMP/own1.conf" timeout -k 2 60 \
	"$BIN/netctl" network create split --subnet=10.71.0.0/25 --block-size=26 \
	>"$T_TMP/create.out" 2>&1
assert_eq "network create (two /26 blocks)" 0 "$?" || bail "network create" "$(cat "$T_TMP/create.out")"

etcd_ipam_only split
add() {		# add HOST CID: one ADD as HOST, its address in $ADDR
	T_CONF=$T_TMP/$1.conf cni_call "$T_TMP/add-$2" "$CNI_PLUGIN" "$E" ADD "$2" \
		"$(nspath "$C")" eth0
	cni_load "$T_TMP/add-$2"
	ADDR=
	[ "$CNI_RC" = 0 ] && ADDR=$(jqv "$CNI_OUT" '.ips[0].address' | cut -d/ -f1)
	[ "$CNI_RC" = 0 ] || diag "$1 $2: exit $CNI_RC $(echo $CNI_OUT | head -c 300)"
}
in_block() {	# in_block ADDR CIDR (IPv4, the same /24)
	local net=${2%/*} len=${2#*/}
	[ "${1%.*}" = "${net%.*}" ] && [ "${1##*.}" -ge "${net##*.}" ] &&
		[ "${1##*.}" -lt $((${net##*.} + (1 << (32 - len)))) ]
}
bad=0
for i in 1 2 3 4; do
	add own1 "o1-$i"; [ -n "$ADDR" ] || bad=$((bad + 1))
	add own2 "o2-$i"; [ -n "$ADDR" ] || bad=$((bad + 1))
done
assert_eq "the owners' 8 ADDs" 0 "$bad"
add nest n-0
assert_eq "the node without a block: its first ADD" 0 "$CNI_RC"
NB=$(ectl get --prefix /leafnet/blocks/split/ --print-value-only |
	jq -r 'select(.node == "nest") | .cidr')
assert_match "... split a /27 off an owner's block" "$NB" '^10\.71\.0\.(32|96)/27$'
in_block "$ADDR" "$NB" && ok "... its address in it ($ADDR)" ||
	notok "... its address in it" "$ADDR not in $NB"

# the reference: as many ADDs of an owner in its own block
m0=$(etcd_grpc_counts)
for i in $(seq 5 $((ADDS + 4))); do add own1 "o1-$i"; done
own=$(etcd_delta "$m0" "$(etcd_grpc_counts)" Range)

m0=$(etcd_grpc_counts)
outside=0 failed=0
for i in $(seq 1 "$ADDS"); do
	add nest "n-$i"
	[ -n "$ADDR" ] || { failed=$((failed + 1)); continue; }
	in_block "$ADDR" "$NB" || { outside=$((outside + 1)); diag "n-$i: $ADDR outside $NB"; }
done
range=$(etcd_delta "$m0" "$(etcd_grpc_counts)" Range)
diag "$ADDS ADDs: in the nested block ${range:-?} Range, an owner's in its block ${own:-?}"
assert_eq "its next $ADDS ADDs succeed" 0 "$failed"
assert_eq "... all in its nested block (none borrowed)" 0 "$outside"
# own1's block is the one split (most free space, the first of equals):
# its owner's hot path, too, needs no Range (describe() knows the block;
# before, it read the block and its nested keys for every ADD: 10)
assert_cmd "the split block's owner: at most 2 etcd Range for its $ADDS ADDs (${own:-?})" \
	[ "${own:-999}" -le 2 ]
assert_cmd "... at most 2 etcd Range more than an owner's $ADDS (${range:-?} vs ${own:-?}): the hot path" \
	[ "${range:-999}" -le $((${own:-0} + 2)) ]

kill -TERM "$ETCD_PID" 2>/dev/null
wait "$ETCD_PID" 2>/dev/null
t_done
