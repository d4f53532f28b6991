#!/bin/bash
# 50 ADDs at once, then 50 DELs at once: no duplicate address, every veth
# and host route made, and nothing left afterwards.
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl"

N=${LEAFNET_CONCURRENT:-50}
mkhost H
t_datastore "$H"	# LEAFNET_TEST_DATASTORE=etcd: test_cni_concurrent_etcd.sh
declare -a C
for i in $(seq 1 "$N"); do
	mkcontainer "C[$i]"
done

nctl_ok "network create" network create public --subnet=10.10.0.0/16 --subnet=fd00:10::/64
cni_conf public 1.1.0

P=$T_TMP/calls/conc
# ---------------------------------------------------------- 50 ADDs
pids=()
for i in $(seq 1 "$N"); do
	cni_call "$P-add-$i" "$BIN/leafnet" "$H" ADD "ctr-conc-$i" "$(nspath "${C[$i]}")" eth0 &
	pids+=($!)
done
t_register_pid "${pids[@]}"
wait "${pids[@]}"

fails=0
: >"$T_TMP/addrs"
for i in $(seq 1 "$N"); do
	cni_load "$P-add-$i"
	if [ "$CNI_RC" != 0 ]; then
		fails=$((fails + 1))
		[ "$fails" -le 3 ] && diag "ADD $i exit $CNI_RC: $CNI_OUT $(tail -c 300 "$CNI_ERR")"
		continue
	fi
	jqv "$CNI_OUT" '.ips[]?.address | sub("/.*"; "")' >>"$T_TMP/addrs"
done
assert_eq "$N concurrent ADDs all exit 0" 0 "$fails"
assert_eq "$N distinct IPv4 addresses" "$N" "$(grep -v : "$T_TMP/addrs" | sort -u | grep -c .)"
assert_eq "$N distinct IPv6 addresses" "$N" "$(grep : "$T_TMP/addrs" | sort -u | grep -c .)"
assert_eq "no address handed out twice" "" "$(sort "$T_TMP/addrs" | uniq -d)"

ROUTES=$(host_routes "$H")
assert_eq "$((2 * N)) host routes with proto 76" "$((2 * N))" "$(grep -c . <<<"$ROUTES")"
assert_eq "$N lfn veths on the host" "$N" "$(host_veths "$H" | grep -c .)"
assert_eq "$N distinct veths carry the routes" "$N" "$(awk '{print $2}' <<<"$ROUTES" | sort -u | grep -c .)"
assert_eq "netctl shows $((2 * N)) allocations" "$((2 * N))" "$(alloc_count public)"

missing=0
for i in $(seq 1 "$N"); do
	a=$(ip -n "${C[$i]}" -4 -o addr show dev eth0 2>/dev/null | awk '$4 ~ /\/32$/ {sub(/\/.*/, "", $4); print $4}')
	grep -qxF "$a" "$T_TMP/addrs" || missing=$((missing + 1))
done
assert_eq "every container has its result's address on eth0" 0 "$missing"

# A sample of reachability across the set (all 50 pairs would be slow).
A1=$(ip -n "${C[1]}" -4 -o addr show dev eth0 | awk '{sub(/\/.*/, "", $4); print $4}')
AN=$(ip -n "${C[$N]}" -4 -o addr show dev eth0 | awk '{sub(/\/.*/, "", $4); print $4}')
ping_ok "container 1 -> container $N" "${C[1]}" "$AN"
ping_ok "container $N -> container 1" "${C[$N]}" "$A1"

# ---------------------------------------------------------- 50 DELs
pids=()
for i in $(seq 1 "$N"); do
	cni_call "$P-del-$i" "$BIN/leafnet" "$H" DEL "ctr-conc-$i" "$(nspath "${C[$i]}")" eth0 &
	pids+=($!)
done
t_register_pid "${pids[@]}"
wait "${pids[@]}"
fails=0
for i in $(seq 1 "$N"); do
	cni_load "$P-del-$i"
	if [ "$CNI_RC" != 0 ]; then
		fails=$((fails + 1))
		[ "$fails" -le 3 ] && diag "DEL $i exit $CNI_RC: $CNI_OUT $(tail -c 300 "$CNI_ERR")"
	fi
done
assert_eq "$N concurrent DELs all exit 0" 0 "$fails"
assert_eventually "no lfn interface left" "" host_veths "$H"
assert_eq "no proto 76 route left" "" "$(host_routes "$H")"
assert_eq "no allocation left" 0 "$(alloc_count public)"
eth0_left() {
	local i left=0
	for i in $(seq 1 "$N"); do
		ip -n "${C[$i]}" link show eth0 >/dev/null 2>&1 && left=$((left + 1))
	done
	echo "$left"
}
assert_eventually "no container keeps an eth0" 0 eth0_left

t_done
