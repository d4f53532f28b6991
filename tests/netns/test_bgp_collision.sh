#!/bin/bash
# test_bgp_collision.sh — connection collisions (RFC 4271 §6.8) when mesh
# nodes start at the same instant, many times over.
#
#     hostA 10.0.0.1   hostB 10.0.0.2   hostC 10.0.0.3   hostD 10.0.0.4
#          \______________ [ br0, fabric netns ] ______________/    (AS 64511, node mesh)
#
# Each round starts the four leafnetd together (each waits on one go file,
# then execs leafnetd: they start within a few ms, so pairs of nodes
# connect to each other at the same moment and each accepts the other's
# connection while its own connect() is in progress: the race that lost
# both connections and cost a ~1 s retry).  In every round:
#  - every node has its three mesh peers Established;
#  - no node's log shows a ConnectRetryTimer or IdleHoldTimer expiring
#    (a retry) for a neighbour -- unless its connect to that neighbour was
#    refused, the peer not listening yet (start-up skew on a loaded
#    machine, counted apart);
#  - no session went down (no "-> Idle", 0 flaps) and no NOTIFICATION
#    but Cease/7 (Connection Collision Resolution) was sent or received;
#  - a moment later every session is still Established.
# The collisions resolved are counted and printed.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
t_require "$BIN/netctl" "$BIN/leafnetd"

MESH="node-to-node mesh"
ROUNDS=${LEAFNET_COLL_ROUNDS:-20}
HOSTS="A B C D"
mkns FAB
ip -n "$FAB" link add br0 type bridge && ip -n "$FAB" link set br0 up || bail "bridge in $FAB"
declare -A HOSTNS CONF
n=0
for l in $HOSTS; do
	n=$((n + 1))
	mkhost hns "10.255.$n.1" "fd00:ff::$n"
	HOSTNS[$l]=$hns
	ip link add lc-h$n-$$ netns "$hns" type veth peer name lc-f$n-$$ netns "$FAB" || bail "veth $l"
	ip -n "$hns" link set "lc-h$n-$$" name uplink && ip -n "$FAB" link set "lc-f$n-$$" name "port$n" &&
	ip -n "$FAB" link set "port$n" master br0 && ip -n "$FAB" link set "port$n" up &&
	ip -n "$hns" addr add "10.0.0.$n/24" dev uplink && ip -n "$hns" link set uplink up ||
		bail "host$l link"
	CONF[$l]=$T_TMP/host$l.conf
	ld_conf "${CONF[$l]}" "host$l" "$T_TMP/state"
	T_CONF=${CONF[$l]} nctl_ok "node set host$l" node set "host$l" --router-ip="10.0.0.$n/24"
done
# permanent neighbour entries: the kernel's table is shared by every namespace
declare -A MAC
for l in $HOSTS; do MAC[$l]=$(ip netns exec "${HOSTNS[$l]}" cat /sys/class/net/uplink/address); done
n=0
for l in $HOSTS; do
	n=$((n + 1)); m=0
	for k in $HOSTS; do
		m=$((m + 1))
		[ "$k" = "$l" ] && continue
		ip -n "${HOSTNS[$k]}" neigh replace "10.0.0.$n" lladdr "${MAC[$l]}" \
			dev uplink nud permanent || bail "neighbour 10.0.0.$n on host$k"
	done
done

# all_up: every node has 3 mesh peers Established
n_up() {
	jq -r --arg t "$MESH" '[(.peers // [])[] | select(.type == $t and
		.state == "Established")] | length' <<<"$(ld_status "$1" -o json)" 2>/dev/null
}
all_up() {
	local l
	for l in $HOSTS; do [ "$(n_up $l)" = 3 ] || return 1; done
}
flaps() {
	jq -r --arg t "$MESH" '[(.peers // [])[] | select(.type == $t) | .flaps] | add // 0' \
		<<<"$(ld_status "$1" -o json)" 2>/dev/null
}

times= colls=0 skew=0 bad_rounds=0
for round in $(seq 1 "$ROUNDS"); do
	go=$T_TMP/go.$round
	for l in $HOSTS; do
		[ -s "$T_TMP/leafnetd-$l.log" ] && cat "$T_TMP/leafnetd-$l.log" >>"$T_TMP/all-$l.log"
		: >"$T_TMP/leafnetd-$l.log"
		rm -f "$T_TMP/host$l.sock"
		ip netns exec "${HOSTNS[$l]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
			GO="$go" BIN="$BIN" CONF="${CONF[$l]}" \
			sh -c 'while [ ! -e "$GO" ]; do sleep 0.005; done; exec "$BIN/leafnetd" --config "$CONF" -d' \
			>>"$T_TMP/leafnetd-$l.log" 2>&1 &
		LD_PID[$l]=$!
		LD_START[$l]=$(t_pid_start $!)
		LD_NS[$l]=${HOSTNS[$l]}
		LD_CONF[$l]=${CONF[$l]}
		t_register_pid "$!"
	done
	sleep 0.2
	t0=$(date +%s%N)
	touch "$go"
	up=0
	for _ in $(seq 1 300); do
		all_up && { up=1; break; }
		sleep 0.05
	done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	fail=0
	if [ "$up" = 1 ]; then
		times="$times $ms"
	else
		fail=1
		notok "round $round: every mesh session Established within 15 s" \
			"$(for l in $HOSTS; do echo "host$l $(n_up $l)/3"; done | xargs)"
	fi
	sleep 0.5		# anything late (a Cease, a collision's tail) shows now
	for l in $HOSTS; do
		[ "$(n_up $l)" = 3 ] || { fail=1; notok "round $round, host$l: all 3 sessions still Established 0.5 s later" "$(n_up $l)/3"; }
		f=$(flaps $l)
		[ "$f" = 0 ] || { fail=1; notok "round $round, host$l: no session flapped" "flaps $f"; }
		log=$(cat "$T_TMP/leafnetd-$l.log")
		if grep -q -- "-> Idle" <<<"$log"; then
			fail=1
			notok "round $round, host$l: no session went down" "$(grep -m3 -- '-> Idle' <<<"$log" | xargs | cut -c1-300)"
		fi
		bad=$(grep -E "NOTIFICATION [0-9]+/[0-9]+" <<<"$log" | grep -v "NOTIFICATION 6/7 " || true)
		if [ -n "$bad" ]; then
			fail=1
			notok "round $round, host$l: no NOTIFICATION but Cease/7" "$(head -3 <<<"$bad" | xargs | cut -c1-300)"
		fi
		# per neighbour: a retry is fair only towards a peer that refused
		# our first connect (it was not listening yet: start-up skew)
		for m in 1 2 3 4; do
			nb="neighbor 10.0.0.$m:"
			if grep -q "$nb.*Connection refused" <<<"$log"; then
				skew=$((skew + 1))
			elif grep -q "$nb.*Timer_Expires" <<<"$log"; then
				fail=1
				notok "round $round, host$l: no connect retry or idle hold towards 10.0.0.$m" \
					"$(grep -m3 "$nb.*Timer_Expires" <<<"$log" | xargs | cut -c1-300)"
			fi
		done
		colls=$((colls + $(grep -c "collision: keeping\|collision: our id is higher\|collision: ours is gone" <<<"$log" || true)))
	done
	[ "$fail" = 0 ] && ok "round $round: 6 sessions Established after $ms ms, no retry, no flap, only Cease/7" ||
		bad_rounds=$((bad_rounds + 1))
	for l in $HOSTS; do ld_stop "$l" & done
	wait
	for l in $HOSTS; do LD_PID[$l]=; done
done
assert_eq "rounds with a lost session or a retry" 0 "$bad_rounds"
echo "# $ROUNDS rounds x 6 sessions; times to all Established (ms):$times"
echo "# collisions resolved (log lines, both ends): $colls; refused first connects (start-up skew): $skew"
t_done
