#!/bin/bash
# When DEL returns, the workload's interface name is free in its netns: an
# ADD of the same ifname into the same netns — by leafnet (a runtime
# re-attaching: podman network disconnect + connect) or by Debian's ptp —
# succeeds at once, also with 50 DEL+ADD pairs at once on a loaded machine.
# What DEL leaves behind (a tombstoned veth, deleted off DEL's clock) is
# never a workload, and the next DEL and GC remove any left over.
. "$(dirname "$0")/../lib.sh"
t_init
PTP=${LEAFNET_PTP:-/usr/lib/cni/ptp}
t_require "$BIN/leafnet" "$BIN/netctl" "$PTP" "$(dirname "$PTP")/host-local"

N=${LEAFNET_CONCURRENT:-50}
mkhost H
declare -a C
for i in $(seq 1 "$N"); do
	mkcontainer "C[$i]"
done
nctl_ok "network create" network create public --subnet=10.30.0.0/16
cni_conf public 1.1.0
LN_CONF=$CNI_CONF
PTP_CONF=$(jq -nc --arg d "$T_TMP/host-local" '{cniVersion: "1.0.0", name: "ptpnet",
	type: "ptp", ipMasq: false, mtu: 1500,
	ipam: {type: "host-local", ranges: [[{subnet: "10.31.0.0/16"}]],
	       routes: [{dst: "0.0.0.0/0"}], dataDir: $d}}')
PTP_PATH="$(dirname "$PTP"):$BIN"

tombs() { ip -n "$1" -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^lfx' || true; }
up_veths() { ip -n "$1" -o link show up 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^lfn' || true; }
cont_if() { ip -n "$1" -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep -v '^lo$' || true; }

# ------------------------------------------------ one container, in turn
C1=${C[1]}
cni_add "$H" ctr-r1 "$C1" eth0
cni_expect_ok "leafnet ADD" || bail "first ADD"
A1=$(jqv "$CNI_OUT" '.ips[0].address' | sed 's|/.*||')
cni_del "$H" ctr-r1 "$C1" eth0
cni_expect_ok "leafnet DEL"
assert_eq "eth0 is gone from the container when DEL returns" "" "$(ip -n "$C1" -o link show eth0 2>/dev/null)"
assert_eq "no host route for the deleted workload when DEL returns" "" "$(host_routes "$H")"
# the host side keeps its name, down, until DEL's deleter has run (a rename
# would cost every DEL ~0.15 ms); an ADD of the same container first renames it
assert_eq "no lfn veth up when DEL returns" "" "$(up_veths "$H")"
# nothing in between: the same container attached again at once
cni_add "$H" ctr-r1 "$C1" eth0
cni_expect_ok "leafnet ADD of the same container+ifname right after DEL"
assert_contains "re-attached container has its address" \
	"$(ip -n "$C1" -o addr show dev eth0 2>&1)" "inet $(jqv "$CNI_OUT" '.ips[0].address')"
assert_eq "re-attached container has one default route, on eth0" "default via 169.254.1.1 dev eth0 onlink" \
	"$(ip -n "$C1" route show default | sed 's/ *$//')"
assert_eq "one lfn veth after the re-attach" 1 "$(host_veths "$H" | grep -c .)"
assert_eq "... and it is up" 1 "$(up_veths "$H" | grep -c .)"
diag "first address $A1, after re-attach $(jqv "$CNI_OUT" '.ips[0].address')"
cni_check "$H" ctr-r1 "$C1" eth0
cni_expect_ok "CHECK of the re-attached container"
ping_ok "re-attached container reaches the host" "$C1" 10.255.0.1

cni_del "$H" ctr-r1 "$C1" eth0
cni_expect_ok "leafnet DEL again"
CNI_CONF=$PTP_CONF CNI_PATH_DIR=$PTP_PATH CNI_PLUGIN=$PTP cni_add "$H" ctr-r1 "$C1" eth0
cni_expect_ok "ptp ADD of eth0 right after leafnet's DEL"
assert_match "ptp's eth0 has its address" "$(ip -n "$C1" -o -4 addr show dev eth0 2>&1)" 'inet 10\.31\.'
CNI_CONF=$PTP_CONF CNI_PATH_DIR=$PTP_PATH CNI_PLUGIN=$PTP cni_del "$H" ctr-r1 "$C1" eth0
cni_expect_ok "ptp DEL"
cni_add "$H" ctr-r1 "$C1" eth0
cni_expect_ok "leafnet ADD after ptp's DEL"
cni_del "$H" ctr-r1 "$C1" eth0
cni_expect_ok "leafnet DEL after that"
assert_eventually "the tombstones are deleted soon after" "" tombs "$H"
assert_eq "no tombstone in the container either" "" "$(cont_if "$C1")"

# ------------------------------------------------- 50 pairs, loaded host
# every container attached by leafnet first
P=$T_TMP/calls/pair
pids=()
for i in $(seq 1 "$N"); do
	cni_call "$P-add0-$i" "$BIN/leafnet" "$H" ADD "ctr-p-$i" "$(nspath "${C[$i]}")" eth0 &
	pids+=($!)
done
t_register_pid "${pids[@]}"
wait "${pids[@]}"
fails=0
for i in $(seq 1 "$N"); do cni_load "$P-add0-$i"; [ "$CNI_RC" = 0 ] || fails=$((fails + 1)); done
assert_eq "$N first ADDs succeed" 0 "$fails"

# a loaded machine: two CPU burners beside the plugins
load=()
for k in 1 2; do
	( while :; do :; done ) &
	load+=($!)
done
t_register_pid "${load[@]}"

# pair i: DEL, then at once ADD of the same ifname — by leafnet (same
# container: a re-attach) for even i, by ptp for odd i
pair() {
	local i=$1 ns
	ns=$(nspath "${C[$i]}")
	CNI_CONF=$LN_CONF cni_call "$P-del-$i" "$BIN/leafnet" "$H" DEL "ctr-p-$i" "$ns" eth0
	if [ $((i % 2)) = 0 ]; then
		CNI_CONF=$LN_CONF cni_call "$P-add-$i" "$BIN/leafnet" "$H" ADD "ctr-p-$i" "$ns" eth0
	else
		CNI_CONF=$PTP_CONF CNI_PATH_DIR=$PTP_PATH \
			cni_call "$P-add-$i" "$PTP" "$H" ADD "ctr-p-$i" "$ns" eth0
	fi
}
pids=()
for i in $(seq 1 "$N"); do
	pair "$i" &
	pids+=($!)
done
t_register_pid "${pids[@]}"
wait "${pids[@]}"
kill -KILL "${load[@]}" 2>/dev/null
wait "${load[@]}" 2>/dev/null

dfail=0 afail=0 lnok=0 ptpok=0
for i in $(seq 1 "$N"); do
	cni_load "$P-del-$i"
	if [ "$CNI_RC" != 0 ]; then
		dfail=$((dfail + 1))
		[ "$dfail" -le 3 ] && diag "DEL $i exit $CNI_RC: $CNI_OUT"
	fi
	cni_load "$P-add-$i"
	if [ "$CNI_RC" != 0 ]; then
		afail=$((afail + 1))
		[ "$afail" -le 3 ] && diag "ADD $i exit $CNI_RC: $CNI_OUT $(tail -c 300 "$CNI_ERR")"
		continue
	fi
	if [ $((i % 2)) = 0 ]; then
		ip -n "${C[$i]}" -o -4 addr show dev eth0 2>/dev/null | grep -q 'inet 10\.30\.' && lnok=$((lnok + 1))
	else
		ip -n "${C[$i]}" -o -4 addr show dev eth0 2>/dev/null | grep -q 'inet 10\.31\.' && ptpok=$((ptpok + 1))
	fi
done
assert_eq "$N concurrent DELs succeed" 0 "$dfail"
assert_eq "$N ADDs right after their DEL succeed (leafnet and ptp)" 0 "$afail"
assert_eq "every leafnet re-attach has its address on eth0" $((N / 2)) "$lnok"
assert_eq "every ptp ADD has its address on eth0" $((N - N / 2)) "$ptpok"
assert_eq "leafnet holds $((N / 2)) allocations" $((N / 2)) "$(alloc_count public)"
assert_eq "$((N / 2)) host routes with proto 76" $((N / 2)) "$(host_routes "$H" | grep -c .)"
assert_eventually "every tombstone deleted" "" tombs "$H"

# --------------------------------------------------- leftovers: GC reaps
# A tombstone whose deleter was killed (made by hand the way DEL leaves
# one), and an lfx link that is not ours (no leafnet alias): DEL deletes
# only its own tombstone (a sweep of every link on every DEL costs a
# 1,000-pod node a link dump per DEL); CNI GC deletes the leftover and
# leaves the foreign link alone.
mk_tomb() {
	ip -n "$H" link add "$1" type veth peer name "$1" netns "$2" || bail "make tombstone $1"
	ip -n "$H" link set "$1" alias "leafnet:public:eth0:$3"
}
mk_tomb lfx7fff0001 "${C[1]}" ghost-1
ip -n "$H" link add lfxforeign type veth peer name lfxforeignp || bail "foreign lfx link"
CNI_CONF=$PTP_CONF CNI_PATH_DIR=$PTP_PATH CNI_PLUGIN=$PTP cni_del "$H" ctr-p-1 "${C[1]}" eth0
cni_del "$H" ctr-p-2 "${C[2]}" eth0
cni_expect_ok "DEL with a leftover tombstone around"
assert_eq "an lfx link without our alias is left alone" 1 "$(ip -n "$H" -o link show lfxforeign | grep -c .)"

mk_tomb lfx7fff0002 "${C[2]}" ctr-p-2
VALID=$(for i in $(seq 3 "$N"); do [ $((i % 2)) = 0 ] && printf '{"containerID":"ctr-p-%s","ifname":"eth0"}\n' "$i"; done
	printf '{"containerID":"ctr-p-2","ifname":"eth0"}\n' | cat)
cni_conf public 1.1.0 ".\"cni.dev/valid-attachments\" = $(jq -sc . <<<"$VALID")"
cni_gc "$H"
cni_expect_ok "GC"
assert_eq "GC deleted the tombstone, though its owner is in valid-attachments" "" \
	"$(ip -n "$H" -o link show lfx7fff0002 2>/dev/null)"
assert_eq "GC deleted the killed deleter's tombstone" "" \
	"$(ip -n "$H" -o link show lfx7fff0001 2>/dev/null)"
assert_eq "the container side went with it" "" "$(cont_if "${C[1]}")"
assert_eq "GC kept every live leafnet workload" $((N / 2 - 1)) "$(host_veths "$H" | grep -c .)"
assert_eq "an lfx link without our alias survives GC" 1 "$(ip -n "$H" -o link show lfxforeign | grep -c .)"
ip -n "$H" link del lfxforeign
assert_eq "(the foreign pair removed again)" "" "$(ip -n "$H" -o link show lfxforeignp 2>/dev/null)"

# ---------------------------------------------------------- tear down
cni_conf public 1.1.0
for i in $(seq 3 "$N"); do
	if [ $((i % 2)) = 0 ]; then
		cni_del "$H" "ctr-p-$i" "${C[$i]}" eth0
	else
		CNI_CONF=$PTP_CONF CNI_PATH_DIR=$PTP_PATH CNI_PLUGIN=$PTP cni_del "$H" "ctr-p-$i" "${C[$i]}" eth0
	fi
	[ "$CNI_RC" = 0 ] || notok "DEL ctr-p-$i" "exit $CNI_RC: $CNI_OUT"
done
assert_eventually "nothing left: no lfn or lfx veth" "" eval "host_veths '$H'; tombs '$H'"
assert_eq "nothing left: no proto 76 route" "" "$(host_routes "$H")"
assert_eq "nothing left: no allocation" 0 "$(alloc_count public)"

t_done
