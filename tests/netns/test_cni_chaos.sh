#!/bin/bash
# Chaos: 200 containers, each doing ADD, DEL, ADD at once with the others,
# with ~40% of the plugin processes SIGKILLed after a random delay (not at
# the LEAFNET_TEST_PAUSE points: anywhere — in the IPAM's store writes,
# between creating a veth and setting its alias, in a DEL's renames, in its
# deferred delete), 3 rounds.  Then: no address in two containers, every
# container's address is the one its allocation records, every call that
# was not killed succeeded, and after one CNI GC (valid-attachments = the
# containers whose last ADD exited 0): no leaked allocation, veth,
# tombstone, host route or store temp file.
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" timeout

N=${LEAFNET_CHAOS_N:-200}
ROUNDS=${LEAFNET_CHAOS_ROUNDS:-3}
KILL_PCT=40		# of the calls get a SIGKILL ...
KILL_MAX_MS=300		# ... after 0..KILL_MAX_MS ms
mkhost H
declare -a C
for i in $(seq 1 "$N"); do
	mkcontainer "C[$i]"
done
nctl_ok "network create" network create public --subnet=10.40.0.0/21 --block-size=26
cni_conf public 1.1.0

P=$T_TMP/calls/chaos
# op PREFIX CMD i: one plugin call, SIGKILLed after a random delay with
# probability KILL_PCT.  --foreground: timeout signals the plugin alone and
# waits for it to be gone, as a runtime does (a process SIGKILLed while it
# waits for the RTNL finishes that request first: the next call for the
# same container must not start before).
op() {
	local prefix=$1 cmd=$2 i=$3 t=20
	if [ $((RANDOM % 100)) -lt $KILL_PCT ]; then
		printf -v t '%d.%03d' 0 $((RANDOM % KILL_MAX_MS + 1))
	fi
	cni_call "$prefix" "$BIN/leafnet" "$H" "$cmd" "ctr-$i" "$(nspath "${C[$i]}")" eth0 \
		timeout --foreground -s KILL "$t"
}
# container i's round r: ADD, DEL, ADD
life() {
	local r=$1 i=$2
	op "$P-$r-$i-1" ADD "$i"
	op "$P-$r-$i-2" DEL "$i"
	op "$P-$r-$i-3" ADD "$i"
}

killed=0 unexpected=0
for r in $(seq 1 "$ROUNDS"); do
	pids=()
	for i in $(seq 1 "$N"); do
		{ life "$r" "$i"; } 2>/dev/null &
		pids+=($!)
	done
	t_register_pid "${pids[@]}"
	wait "${pids[@]}"
	rk=0
	for i in $(seq 1 "$N"); do
		for k in 1 2 3; do
			rc=$(cat "$P-$r-$i-$k.rc" 2>/dev/null || echo missing)
			case $rc in
			0) ;;
			137|124) rk=$((rk + 1)) ;;	# killed (124: the kill came as it exited)
			*) unexpected=$((unexpected + 1))
			   [ "$unexpected" -le 5 ] && diag "round $r ctr-$i call $k: exit $rc: $(cat "$P-$r-$i-$k.out") $(tail -c 300 "$P-$r-$i-$k.err")" \
				"container: $(ip -n "${C[$i]}" -d -o link show | grep -v ' lo:' | cut -c1-120)" \
				"host: $(ip -n "$H" -o link show | grep -F "link-netns ${C[$i]}" | cut -c1-60)" ;;
			esac
			grep -qE "$SAN_PATTERN" "$P-$r-$i-$k.err" 2>/dev/null && cni_load "$P-$r-$i-$k"
		done
	done
	killed=$((killed + rk))
	diag "round $r: $rk of $((3 * N)) calls killed"
done
assert_ne "some calls were killed" 0 "$killed"
assert_eq "every call that was not killed succeeded" 0 "$unexpected"

# ------------------------------------------------- no duplicate address
# Addresses a workload can use: on interfaces that are up.  A DEL killed
# after it tombstoned the container side (renamed lfx..., down) but before
# the veth was deleted leaves the old address on that dead link; its
# allocation may already be released and handed out again (a down link
# neither sends nor answers), and CNI GC deletes the tombstone.
ALLOCS=$(allocs_of public)
: >"$T_TMP/held"
: >"$T_TMP/down"
for i in $(seq 1 "$N"); do
	ip -n "${C[$i]}" -4 -o addr show scope global up 2>/dev/null |
		awk -v c="ctr-$i" '{ sub(/\/.*/, "", $4); print $4, c }' >>"$T_TMP/held"
	ip -n "${C[$i]}" -4 -o addr show scope global 2>/dev/null | awk '{ print $2 }' |
		while read -r ifc; do
			ip -n "${C[$i]}" -o link show dev "$ifc" up | grep -q . || echo "$ifc" >>"$T_TMP/down"
		done
done
assert_eq "no address in two containers" "" "$(awk '{print $1}' "$T_TMP/held" | sort | uniq -d)"
assert_eq "an address on a link that is down is on a tombstone (lfx...)" "" \
	"$(grep -v '^lfx' "$T_TMP/down" || true)"
diag "$(grep -c . "$T_TMP/down") tombstones of killed DELs still hold an address before GC"
bad=0
while read -r a c; do
	grep -qxF "$a $c eth0" <<<"$(awk '{ sub(/\/.*/, "", $1); print }' <<<"$ALLOCS")" || {
		bad=$((bad + 1)); [ "$bad" -le 3 ] && diag "$c holds $a, allocations say: $(grep -F "$a" <<<"$ALLOCS")"; }
done <"$T_TMP/held"
assert_eq "every address in a container is allocated to that container" 0 "$bad"
assert_eq "no address allocated twice" "" "$(awk '{ sub(/\/.*/, "", $1); print $1 }' <<<"$ALLOCS" | sort | uniq -d)"

# ------------------------------------------------------------ one GC
valid=()
for i in $(seq 1 "$N"); do
	[ "$(cat "$P-$ROUNDS-$i-3.rc")" = 0 ] && valid+=("$i")
done
NV=${#valid[@]}
diag "$NV containers' last ADD exited 0; $(grep -c . <<<"$ALLOCS") allocations, $(host_veths "$H" | grep -c .) lfn veths, $(find "$T_TMP/state" -name '.tmp.*' | wc -l) temp files before GC"
VALID=$(for i in "${valid[@]}"; do printf '{"containerID":"ctr-%s","ifname":"eth0"}\n' "$i"; done | jq -sc .)
cni_conf public 1.1.0 ".\"cni.dev/valid-attachments\" = $VALID"
cni_gc "$H"
cni_expect_ok "GC"

ALLOCS=$(allocs_of public)
assert_eq "after GC: one allocation per valid attachment" "$NV" "$(grep -c . <<<"$ALLOCS")"
assert_eq "after GC: the allocations are the valid attachments'" \
	"$(for i in "${valid[@]}"; do echo "ctr-$i"; done | sort)" "$(awk '{print $2}' <<<"$ALLOCS" | sort)"
assert_eq "after GC: one lfn veth per valid attachment" "$NV" "$(host_veths "$H" | grep -c .)"
want=$(for i in "${valid[@]}"; do echo "leafnet:public:eth0:ctr-$i"; done | sort)
have=$(ip -n "$H" -j link show 2>/dev/null | jq -r '.[] | select(.ifname | startswith("lfn")) | .ifalias // "none"' | sort)
assert_eq "after GC: the lfn veths are the valid attachments'" "$want" "$have"
assert_eq "after GC: no tombstone on the host" "" \
	"$(ip -n "$H" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^lfx')"
assert_eq "after GC: one host route per valid attachment" "$NV" "$(host_routes "$H" | grep -c .)"
assert_eq "after GC: no store temp file" "" "$(find "$T_TMP/state" -name '.tmp.*')"
stray=0
for i in $(seq 1 "$N"); do
	ifs=$(ip -n "${C[$i]}" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep -v '^lo$' | tr '\n' ' ')
	if [[ " ${valid[*]} " == *" $i "* ]]; then
		[ "$ifs" = "eth0 " ] || { stray=$((stray + 1)); diag "valid ctr-$i has: $ifs"; }
	else
		[ -z "$ifs" ] || { stray=$((stray + 1)); diag "GC'd ctr-$i has: $ifs"; }
	fi
done
assert_eq "after GC: valid containers have eth0 only, the others nothing" 0 "$stray"
if [ "$NV" -gt 0 ]; then
	i=${valid[0]}
	CNI_CONF=$(jq -c 'del(."cni.dev/valid-attachments")' <<<"$CNI_CONF")
	cni_check "$H" "ctr-$i" "${C[$i]}" eth0
	cni_expect_ok "CHECK of a surviving container"
	ping_ok "a surviving container reaches the host" "${C[$i]}" 10.255.0.1
fi

# ---------------------------------------------------------- tear down
cni_conf public 1.1.0
pids=()
for i in $(seq 1 "$N"); do
	cni_call "$P-down-$i" "$BIN/leafnet" "$H" DEL "ctr-$i" "$(nspath "${C[$i]}")" eth0 &
	pids+=($!)
done
wait "${pids[@]}"
dfail=0
for i in $(seq 1 "$N"); do cni_load "$P-down-$i"; [ "$CNI_RC" = 0 ] || dfail=$((dfail + 1)); done
assert_eq "final DELs succeed" 0 "$dfail"
assert_eventually "nothing left: no lfn or lfx veth" "" \
	eval "ip -n '$H' -o link show | awk -F': ' '{ sub(/@.*/, \"\", \$2); print \$2 }' | grep '^lf[nx]'"
assert_eq "nothing left: no proto 76 route" "" "$(host_routes "$H")"
assert_eq "nothing left: no allocation" 0 "$(alloc_count public)"

t_done
