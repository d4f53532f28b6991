#!/bin/bash
# test_corrupt_records.sh — damaged records in the file store, through the
# real binaries: an allocation or owner record cut short, filled with
# garbage, or replaced by a directory (root reads any file, so "unreadable"
# is a directory where the record belongs; read errors as such are unit
# tests over the fake).  A repeated ADD keeps the address, DEL and CNI GC
# free it, netctl ipam check lists what cannot be told and ipam repair
# removes it; a damaged network is reported by network ls (exit 1) and
# named in CNI errors; leafnetd starts over damaged BGP records, warning
# about each, and netctl removes them.
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/netctl" "$BIN/leafnet" "$BIN/leafnetd"
ST=$T_TMP/state

damage() {	# damage KIND FILE
	case $1 in
	truncated) truncate -s 9 "$2" ;;
	garbage)   printf '\001\377garbage' >"$2" ;;		# in place: links share it
	directory) rm -f "$2" && mkdir "$2" ;;
	esac
}
addr_of() { jqv "$CNI_OUT" '.ips[0].address' | cut -d/ -f1; }
owner_file() { ls -d "$ST"/owners/pub/* 2>/dev/null | head -1; }

mkhost H
nctl network create pub --subnet=10.40.0.0/24
assert_eq "network create" 0 "$NCTL_RC" || diag "$NCTL_ERR"
cni_conf pub 1.1.0
mkcontainer C

for kind in truncated garbage directory; do
	for rec in alloc owner; do
		cni_add "$H" ctr-1 "$C"
		assert_eq "file, $rec $kind: ADD" 0 "$CNI_RC" || { diag "$CNI_OUT"; continue; }
		a=$(addr_of)
		[ "$rec" = alloc ] && f=$ST/alloc/pub/$a || f=$(owner_file)
		damage "$kind" "$f"
		cni_add "$H" ctr-1 "$C"
		assert_eq "file, $rec $kind: ADD again keeps $a" "0 $a" "$CNI_RC $(addr_of)"
		damage "$kind" "$f"
		nctl ipam check pub
		assert_eq "file, $rec $kind: ipam check exits 1" 1 "$NCTL_RC"
		assert_contains "file, $rec $kind: ipam check names the record" "$NCTL_OUT" \
			"${f#$ST/}"
		cni_del "$H" ctr-1 "$C"
		assert_eq "file, $rec $kind: DEL" 0 "$CNI_RC" || diag "$CNI_OUT"
		assert_eq "file, $rec $kind: DEL freed the address and the records" "" \
			"$(ls "$ST/alloc/pub" "$ST/owners/pub" 2>/dev/null | grep -v ':$' | grep .)"
		nctl ipam check
		assert_eq "file, $rec $kind: nothing damaged left" 0 "$NCTL_RC" || diag "$NCTL_OUT"
	done
done

# CNI GC: a dead container's damaged allocation (its owner record, a file
# of its own after a repeated ADD, names it) is freed; the live one stays.
mkcontainer C2
cni_add "$H" ctr-live "$C2"
LIVE=$(addr_of)
cni_add "$H" ctr-dead "$C"
DEAD=$(addr_of)
of=$(grep -l ctr-dead "$ST"/owners/pub/* | head -1)
cp "$of" "$of.x" && mv "$of.x" "$of"			# its own file now
damage garbage "$ST/alloc/pub/$DEAD"
cni_conf pub 1.1.0 '."cni.dev/valid-attachments" = [{"containerID":"ctr-live","ifname":"eth0"}]'
cni_gc "$H"
assert_eq "GC with a damaged allocation" 0 "$CNI_RC" || diag "$CNI_OUT"
assert_eq "GC freed the dead container's damaged allocation" "" "$(ls "$ST/alloc/pub" | grep -Fx "$DEAD")"
assert_eq "GC kept the live one" "$LIVE" "$(ls "$ST/alloc/pub" | grep -Fx "$LIVE")"
# both records of a dead container damaged in place: nobody can tell whose
# it was; GC keeps it, logs it, ipam repair removes it
cni_conf pub 1.1.0
cni_add "$H" ctr-dead2 "$C"
DEAD2=$(addr_of)
damage garbage "$(grep -l ctr-dead2 "$ST"/owners/pub/* | head -1)"
cni_conf pub 1.1.0 '."cni.dev/valid-attachments" = [{"containerID":"ctr-live","ifname":"eth0"}]'
cni_gc "$H"
assert_eq "GC with an allocation nobody can be told of" 0 "$CNI_RC" || diag "$CNI_OUT"
assert_eq "GC keeps it (not lost, not given away)" "$DEAD2" "$(ls "$ST/alloc/pub" | grep -Fx "$DEAD2")"
assert_contains "GC logs it with the key" "$(cat "$T_TMP/leafnet.log")" "alloc/pub/$DEAD2"
nctl ipam check
assert_eq "ipam check lists it" 1 "$NCTL_RC"
nctl ipam repair --all
assert_eq "ipam repair --all" 0 "$NCTL_RC" || diag "$NCTL_ERR"
assert_contains "ipam repair says what it removed" "$NCTL_OUT" "alloc/pub/$DEAD2"
assert_eq "the address is free again" "" "$(ls "$ST/alloc/pub" | grep -Fx "$DEAD2")"
cni_conf pub 1.1.0
cni_del "$H" ctr-live "$C2"
cni_del "$H" ctr-dead2 "$C"

# a damaged network record
for kind in truncated garbage directory; do
	nctl network create bad --subnet=10.41.0.0/24
	damage "$kind" "$ST/networks/bad"
	nctl network ls
	assert_eq "network record $kind: network ls exits 1" 1 "$NCTL_RC"
	assert_contains "network record $kind: network ls names the key" "$NCTL_ERR" "networks/bad"
	assert_contains "network record $kind: the good network is still listed" "$NCTL_OUT" "pub"
	cni_conf bad 1.1.0
	cni_add "$H" ctr-b "$C"
	assert_contains "network record $kind: the CNI error names the key" \
		"$(jqv "$CNI_OUT" '"\(.msg) \(.details // "")"')" "networks/bad"
	nctl ipam repair networks/bad
	assert_eq "network record $kind: ipam repair removes it" 0 "$NCTL_RC" || diag "$NCTL_ERR"
done
nctl network ls
assert_eq "network ls clean again" 0 "$NCTL_RC"

# damaged BGP records: leafnetd starts, warns, netctl removes them
nctl bgp peer add 10.9.0.1 as 65001
nctl bgp peer add 10.9.0.2 as 65002
nctl node set node9 --as=65009
for kind in truncated garbage directory; do
	damage "$kind" "$ST/bgp/peers/10.9.0.1"
	damage "$kind" "$ST/nodes/node9"
	ip netns exec "$H" env LEAFNET_CONF="$T_CONF" ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" timeout 20 "$BIN/leafnetd" -n \
		>"$T_TMP/ldn.out" 2>"$T_TMP/ldn.err"
	assert_eq "BGP records $kind: leafnetd -n loads the rest" 0 "$?" || diag "$(tail -3 "$T_TMP/ldn.err")"
	assert_contains "BGP records $kind: leafnetd keeps the good peer" "$(cat "$T_TMP/ldn.out")" "10.9.0.2"
	assert_contains "BGP records $kind: leafnetd warns naming the peer record" \
		"$(cat "$T_TMP/ldn.err" "$T_TMP/leafnet.log" 2>/dev/null)" "bgp/peers/10.9.0.1"
	nctl bgp peer show
	assert_eq "BGP records $kind: peer show exits 1" 1 "$NCTL_RC"
	assert_contains "BGP records $kind: peer show names it" "$NCTL_ERR" "bgp/peers/10.9.0.1"
	nctl node ls
	assert_eq "BGP records $kind: node ls exits 1" 1 "$NCTL_RC"
	assert_contains "BGP records $kind: node ls names the node record" "$NCTL_ERR" "nodes/node9"
	nctl bgp peer remove 10.9.0.1
	assert_eq "BGP records $kind: bgp peer remove" 0 "$NCTL_RC" || diag "$NCTL_ERR"
	nctl node rm node9
	assert_eq "BGP records $kind: node rm" 0 "$NCTL_RC" || diag "$NCTL_ERR"
	nctl bgp peer show
	assert_eq "BGP records $kind: peer show clean" 0 "$NCTL_RC" || diag "$NCTL_ERR"
	nctl bgp peer add 10.9.0.1 as 65001
	nctl node set node9 --as=65009
done
t_done
