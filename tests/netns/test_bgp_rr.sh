#!/bin/bash
# Nodes as iBGP clients of a route reflector: BIRD 2 (AS 64511, `rr client`
# on each session) on the fabric bridge, three hosts in AS 64511 with only
# a router IP (`netctl node set`), node-mesh off, and the reflector as
# their one global peer (`netctl bgp peer add 10.0.0.254 as 64511`).
#
#     hostA 10.0.0.1      hostB 10.0.0.2      hostC 10.0.0.3
#           \                  |                  /
#            +-- br0 10.0.0.254 (fabric netns, BIRD RR, no forwarding) --+
#
# Each host has its own leafnetd and config on one shared state dir.  The
# reflector only moves routes: it forwards no packets (ip_forward off, no
# kernel protocol), so a working ping proves the hosts use each other as
# next hops.
#
# Checks: every node's status shows the reflector Established and no mesh
# peer; a container's /32 (and an aggregated network's /26) reaches the RR
# from its node and is reflected to the two others, which install it as
# proto 77 via the originating node (BIRD keeps the next hop, leafnetd
# accepts ORIGINATOR_ID/CLUSTER_LIST); the originator does not get its own
# route back; containers ping across (TTL 62); DEL withdraws everywhere;
# a reflector restart heals; leafnetd restarted relearns.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" "$BIN/leafnetd" bird birdc ping

AS=64511
RR=10.0.0.254

# ------------------------------------------------------------- topology
mkns FAB
ip -n "$FAB" link add br0 type bridge && ip -n "$FAB" link set br0 up &&
ip -n "$FAB" addr add "$RR/24" dev br0 || bail "bridge in $FAB"
ip netns exec "$FAB" sysctl -qw net.ipv4.ip_forward=0 || bail "ip_forward off in $FAB"
bird_init rr "$FAB" "$RR"

declare -A HOSTNS CONF RIP
host() {
	local l=$1 n=$2 hns
	mkhost hns "10.255.$n.1" "fd00:ff::$n"
	HOSTNS[$l]=$hns
	RIP[$l]=10.0.0.$n
	ip link add lr-h$n-$$ netns "$hns" type veth peer name lr-f$n-$$ netns "$FAB" || bail "veth host$l"
	ip -n "$hns" link set "lr-h$n-$$" name uplink && ip -n "$FAB" link set "lr-f$n-$$" name "port$n" &&
	ip -n "$FAB" link set "port$n" master br0 && ip -n "$FAB" link set "port$n" up &&
	ip -n "$hns" addr add "10.0.0.$n/24" dev uplink && ip -n "$hns" link set uplink up ||
		bail "host$l link"
	CONF[$l]=$T_TMP/host$l.conf
	ld_conf "${CONF[$l]}" "host$l" "$T_TMP/state"
	bird_rr_client rr "host$l" "$RR" "$AS" "10.0.0.$n"
}
host A 1
host B 2
host C 3
HOSTS="A B C"
bird_start rr

hctl() { local l=$1; shift; T_CONF=${CONF[$l]} nctl_ok "$@"; }

hctl A "network flat (/32s)" network create flat --subnet=192.168.1.0/24 --no-aggregate
hctl A "network agg (/26 blocks)" network create agg --subnet=192.168.2.0/24
hctl A "node-mesh off" bgp node-mesh off
hctl A "the reflector as global peer" bgp peer add "$RR" as "$AS"
for l in $HOSTS; do
	hctl $l "node set host$l" node set "host$l" --router-ip="${RIP[$l]}/24"
done
for l in $HOSTS; do ld_start $l "${HOSTNS[$l]}" "${CONF[$l]}"; done

# ------------------------------------------------------------- helpers
learned() {
	ip -n "$1" -4 route show proto 77 exact "$2" 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }' | sort -u | xargs
}
n_learned() { count_lines ip -n "$1" -4 route show proto 77; }
# block_of NS ADDR: the proto 77 192.168.2.x/26 route covering ADDR, "" if none.
block_of() {
	ip -n "$1" -4 route show proto 77 match "$2" 2>/dev/null |
		awk '$1 ~ /^192\.168\.2\.[0-9]+\/26$/ { print $1; exit }'
}
wait_eq() {
	local t=$1 exp=$2 i
	shift 2
	for i in $(seq 1 $((t * 10))); do
		[ "$("$@" 2>/dev/null)" = "$exp" ] && return 0
		sleep 0.1
	done
	return 1
}
assert_wait() {
	local what=$1 t=$2 exp=$3
	shift 3
	if wait_eq "$t" "$exp" "$@"; then ok "$what"; return 0; fi
	notok "$what" "expected '$exp' within $t s, got '$("$@" 2>/dev/null | xargs | cut -c1-300)'"
	return 1
}
rr_sessions() {
	local why=$1 l
	for l in $HOSTS; do
		if ld_wait_established $l "$RR" 15; then
			ok "host$l: the reflector Established ($why)"
		else
			notok "host$l: the reflector Established ($why)" "$(ld_status $l | grep -F "$RR" | xargs)"
		fi
		assert_bird_established "RR: session to host$l Established ($why)" rr "host$l" 5
	done
}

# ------------------------------------------------------------ sessions
rr_sessions start
for l in $HOSTS; do
	SJ=$(ld_status $l -o json)
	assert_eq "host$l: the reflector is its only peer, a global one" "$RR global" \
		"$(jqv "$SJ" '[.peers[] | "\(.address) \(.type)"] | join(",")')"
done

# --------------------------------------------------------- reflection
declare -A ADDR CT
cni_conf flat 1.1.0
for l in $HOSTS; do
	mkcontainer c
	CT[$l]=$c
	T_CONF=${CONF[$l]} cni_add "${HOSTNS[$l]}" "ctr-rr-$l" "$c" eth0
	cni_expect_ok "ADD a container on host$l (flat)" || bail "ADD on host$l" "nothing else can be tested"
	ADDR[$l]=$(jqv "$CNI_OUT" '.ips[0].address | sub("/.*"; "")')
done
diag "flat: A ${ADDR[A]} B ${ADDR[B]} C ${ADDR[C]}"

assert_bird_route "RR holds hostA's /32 via hostA" rr "${ADDR[A]}/32" 10.0.0.1 3
assert_eq "RR: hostA's /32 next hop attribute is hostA" 10.0.0.1 \
	"$(bird_attr rr "${ADDR[A]}/32" BGP.next_hop)"
assert_eq "RR: hostA's /32 has an empty AS_PATH (iBGP)" "" \
	"$(bird_attr rr "${ADDR[A]}/32" BGP.as_path)"
assert_eq "RR: hostA's /32 LOCAL_PREF 100" 100 "$(bird_attr rr "${ADDR[A]}/32" BGP.local_pref)"
for l in $HOSTS; do
	for o in $HOSTS; do
		[ "$o" = "$l" ] && continue
		if ! assert_wait "host$o's kernel: host$l's /32 reflected, via ${RIP[$l]} (proto 77)" \
			3 "${RIP[$l]}" learned "${HOSTNS[$o]}" "${ADDR[$l]}/32"; then
			bird_diag rr "${ADDR[$l]}"
			tail -5 "$T_TMP/host$o.log" | sed 's/^/#   /' >&2
		fi
	done
	assert_eq "host$l did not get its own /32 back" "" "$(learned "${HOSTNS[$l]}" "${ADDR[$l]}/32")"
	assert_eq "host$l learned exactly the two other /32s" 2 "$(n_learned "${HOSTNS[$l]}")"
done
ping_ok "container on hostA -> container on hostB" "${CT[A]}" "${ADDR[B]}"
ping_ok "container on hostC -> container on hostA" "${CT[C]}" "${ADDR[A]}"
assert_match "hostA -> hostB is direct, not through the reflector (TTL 62)" \
	"$(ip netns exec "${CT[A]}" ping -c 1 -W 1 "${ADDR[B]}" 2>&1)" 'ttl=62'

# ---------------------------------------------------------- aggregate
cni_conf agg 1.1.0
mkcontainer CAG
T_CONF=${CONF[A]} cni_add "${HOSTNS[A]}" ctr-rr-agg "$CAG" eth0
cni_expect_ok "ADD a container on hostA (agg)" || bail "ADD agg"
AGG=$(jqv "$CNI_OUT" '.ips[0].address | sub("/.*"; "")')
assert_wait "hostB's kernel: hostA's agg container covered by a reflected /26" 3 1 \
	count_lines block_of "${HOSTNS[B]}" "$AGG"
BLK=$(block_of "${HOSTNS[B]}" "$AGG")
assert_eq "hostB's kernel: the block via hostA" 10.0.0.1 "$(learned "${HOSTNS[B]}" "$BLK")"
assert_eq "hostC's kernel: the block via hostA" 10.0.0.1 "$(learned "${HOSTNS[C]}" "$BLK")"
assert_eq "hostA did not get its own block back" "" "$(learned "${HOSTNS[A]}" "$BLK")"
ping_ok "container on hostB -> hostA's agg container through the block" "${CT[B]}" "$AGG"

# ---------------------------------------------------------------- DEL
cni_conf flat 1.1.0
T_CONF=${CONF[A]} cni_del "${HOSTNS[A]}" ctr-rr-A "${CT[A]}" eth0
cni_expect_ok "DEL the flat container on hostA"
assert_bird_absent "DEL -> hostA's /32 withdrawn from the RR" rr "${ADDR[A]}/32" 3
for o in B C; do
	assert_wait "DEL -> hostA's /32 withdrawn from host$o's kernel" 3 "" \
		learned "${HOSTNS[$o]}" "${ADDR[A]}/32"
done
cni_conf agg 1.1.0
T_CONF=${CONF[A]} cni_del "${HOSTNS[A]}" ctr-rr-agg "$CAG" eth0
cni_expect_ok "DEL hostA's agg container"
for o in B C; do
	assert_wait "DEL -> hostA's block withdrawn from host$o's kernel (no workload left)" 3 "" \
		learned "${HOSTNS[$o]}" "$BLK"
done

# ------------------------------------------------- reflector restarted
bird_restart rr
rr_sessions "RR restarted"
for o in A C; do
	assert_wait "RR restarted -> host$o relearned hostB's /32 via hostB" 5 10.0.0.2 \
		learned "${HOSTNS[$o]}" "${ADDR[B]}/32"
done
ping_ok "RR restarted -> container on hostC -> container on hostB" "${CT[C]}" "${ADDR[B]}"

# ------------------------------------------------ leafnetd restarted
ld_stop C
assert_eq "hostC's leafnetd exits 0 on SIGTERM" 0 "$?"
assert_bird_absent "hostC stopped -> its /32 withdrawn from the RR" rr "${ADDR[C]}/32" 3
assert_wait "hostC stopped -> hostB no longer has its /32" 3 "" learned "${HOSTNS[B]}" "${ADDR[C]}/32"
ld_start C "${HOSTNS[C]}" "${CONF[C]}"
assert_bird_established "hostC restarted -> RR session back" rr hostC 15
assert_wait "hostC restarted -> hostB relearned its /32" 5 10.0.0.3 learned "${HOSTNS[B]}" "${ADDR[C]}/32"
assert_wait "hostC restarted -> it relearned hostB's /32" 5 10.0.0.2 learned "${HOSTNS[C]}" "${ADDR[B]}/32"
ping_ok "hostC restarted -> container on hostB -> container on hostC" "${CT[B]}" "${ADDR[C]}"

# ----------------------------------------------------------- teardown
cni_conf flat 1.1.0
for l in B C; do
	T_CONF=${CONF[$l]} cni_del "${HOSTNS[$l]}" "ctr-rr-$l" "${CT[$l]}" eth0
	cni_expect_ok "DEL the flat container on host$l"
done
for l in $HOSTS; do
	assert_wait "host$l: nothing learned at the end" 3 0 n_learned "${HOSTNS[$l]}"
done
assert_eq "RR holds no container route at the end" "" \
	"$(birdq rr show route | grep -E '^192\.168\.' | xargs)"
for l in $HOSTS; do
	ld_stop $l
	assert_eq "host$l: leafnetd exits 0 on SIGTERM" 0 "$?"
done
bird_stop_all
t_done
