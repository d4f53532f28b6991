#!/bin/bash
# ADD killed with SIGKILL at each pause point (after-ipam, after-veth,
# after-addr): the address stays owned by the killed container only, a
# retried ADD repairs the attachment, GC removes what nobody claims, and in
# the end nothing is left.
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl"

STEPS="after-ipam after-veth after-addr"
mkhost H
t_datastore "$H"	# LEAFNET_TEST_DATASTORE=etcd: test_cni_kill_etcd.sh
declare -A C
for s in $STEPS; do
	mkcontainer "C[kill-$s]"
	mkcontainer "C[other-$s]"
	mkcontainer "C[gc-$s]"
done

# A small v4-only subnet so reuse of a leaked address would show quickly.
nctl_ok "network create" network create public --subnet=10.20.0.0/27 --block-size=28
cni_conf public 1.1.0

LEAFNET_REAL=$(readlink -f "$BIN/leafnet")

# The PID of the leafnet process working for container id $1.
plugin_pid() {
	local p
	for p in $(ip netns pids "$H" 2>/dev/null); do
		[ "$(readlink -f /proc/"$p"/exe 2>/dev/null)" = "$LEAFNET_REAL" ] || continue
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "CNI_CONTAINERID=$1" || continue
		echo "$p"
		return 0
	done
	return 1
}

# reached STEP CID NS: has the ADD got as far as STEP?
reached() {
	case $1 in
	after-ipam) allocs_of public | grep -qF " $2 " ;;
	after-veth) ip -n "$H" -d link show 2>/dev/null | grep -qF "alias leafnet:public:eth0:$2" ;;
	after-addr) ip -n "$3" -o addr show scope global 2>/dev/null | grep -q 'inet ' ;;
	esac
}

# kill_mid_add STEP CID NS: start ADD paused at STEP, SIGKILL it there.
kill_mid_add() {
	local step=$1 cid=$2 ns=$3 job pid n
	# (stderr of the job itself off: bash would report "Killed")
	{ cni_call "$T_TMP/calls/kill-$cid" "$BIN/leafnet" "$H" ADD "$cid" "$(nspath "$ns")" eth0 \
		LEAFNET_TEST_PAUSE="$step" LEAFNET_TEST_PAUSE_MS=30000; } 2>/dev/null &
	job=$!
	t_register_pid "$job"
	pid=
	for n in $(seq 1 150); do
		pid=$(plugin_pid "$cid") && reached "$step" "$cid" "$ns" && break
		pid=
		sleep 0.1
	done
	if [ -z "$pid" ]; then
		notok "ADD of $cid reaches $step" "not seen within 15s (is LEAFNET_TEST_PAUSE implemented?)"
		kill -KILL "$(plugin_pid "$cid")" 2>/dev/null
		wait "$job" 2>/dev/null
		return 1
	fi
	sleep 0.2	# inside the pause now
	kill -KILL "$pid"
	wait "$job" 2>/dev/null
	assert_eq "ADD of $cid killed at $step" 137 "$(cat "$T_TMP/calls/kill-$cid.rc")"
}

addrs_of_cid() { allocs_of public | awk -v c="$1" '$2 == c { print $1 }' | sed 's|/.*||'; }

for s in $STEPS; do
	kcid=ctr-kill-$s
	kill_mid_add "$s" "$kcid" "${C[kill-$s]}" || continue
	KADDR=$(addrs_of_cid "$kcid")
	diag "$s: killed container holds '${KADDR}'"
	assert_match "$s: killed ADD's allocation survives the kill" "$KADDR" '^10\.20\.0\.'

	# Another container must never get the address the killed one holds.
	cni_add "$H" "ctr-other-$s" "${C[other-$s]}" eth0
	cni_expect_ok "$s: ADD of another container after the kill"
	OADDR=$(jqv "$CNI_OUT" '.ips[0].address' | sed 's|/.*||')
	assert_ne "$s: other container does not get the killed one's address" "$KADDR" "$OADDR"

	# The runtime retries the killed ADD: same address, half-made veth replaced.
	cni_add "$H" "$kcid" "${C[kill-$s]}" eth0
	cni_expect_ok "$s: retried ADD of the killed container succeeds"
	RADDR=$(jqv "$CNI_OUT" '.ips[0].address' | sed 's|/.*||')
	assert_eq "$s: retried ADD keeps the allocated address" "$KADDR" "$RADDR"
	assert_eq "$s: exactly one veth for the killed container" 1 \
		"$(ip -n "$H" -d link show | grep -cF "alias leafnet:public:eth0:$kcid")"
	assert_contains "$s: host route for the retried container" "$(host_routes "$H")" "$RADDR "
	assert_contains "$s: retried container has its address" \
		"$(ip -n "${C[kill-$s]}" -o addr show dev eth0 2>&1)" "inet $RADDR/32"
	assert_eq "$s: one allocation for the killed container" 1 "$(addrs_of_cid "$kcid" | grep -c .)"
	ping_ok "$s: retried container reaches the other one" "${C[kill-$s]}" "$OADDR"
done

# ------------------------------------------------------------------- GC
# Leave one killed ADD at every step, then GC with valid-attachments naming
# only the healthy containers.
for s in $STEPS; do
	kill_mid_add "$s" "ctr-gc-$s" "${C[gc-$s]}"
done
GCADDRS=$(for s in $STEPS; do addrs_of_cid "ctr-gc-$s"; done)
assert_eq "3 abandoned allocations before GC" 3 "$(grep -c . <<<"$GCADDRS")"

VALID=$(for s in $STEPS; do printf '{"containerID":"ctr-kill-%s","ifname":"eth0"}\n{"containerID":"ctr-other-%s","ifname":"eth0"}\n' "$s" "$s"; done | jq -sc .)
cni_conf public 1.1.0 ".\"cni.dev/valid-attachments\" = $VALID"
cni_gc "$H"
cni_expect_ok "GC with valid-attachments"
for s in $STEPS; do
	assert_eventually "GC removed ctr-gc-$s's veth" 0 \
		count_lines eval "ip -n '$H' -d link show | grep -F 'alias leafnet:public:eth0:ctr-gc-$s'"
	assert_eq "GC released ctr-gc-$s's allocation" "" "$(addrs_of_cid "ctr-gc-$s")"
	assert_eq "GC kept ctr-kill-$s" 1 "$(addrs_of_cid "ctr-kill-$s" | grep -c .)"
	assert_eq "GC kept ctr-other-$s" 1 "$(addrs_of_cid "ctr-other-$s" | grep -c .)"
done
assert_eventually "6 veths after GC" 6 count_lines host_veths "$H"
assert_eq "6 host routes after GC" 6 "$(host_routes "$H" | grep -c .)"
for a in $GCADDRS; do
	assert_not_contains "no host route for GC'd $a" "$(host_routes "$H")" "$a "
done

# ---------------------------------------------------------- tear down
cni_conf public 1.1.0
for s in $STEPS; do
	for k in kill other gc; do
		cni_del "$H" "ctr-$k-$s" "${C[$k-$s]}" eth0
		[ "$CNI_RC" = 0 ] || notok "DEL ctr-$k-$s" "exit $CNI_RC: $CNI_OUT"
	done
done
assert_eventually "nothing left: no lfn veth" "" host_veths "$H"
assert_eq "nothing left: no proto 76 route" "" "$(host_routes "$H")"
assert_eq "nothing left: no allocation" 0 "$(alloc_count public)"

t_done
