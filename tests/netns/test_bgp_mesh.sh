#!/bin/bash
# The automatic node-to-node iBGP mesh, with no ToR and no route reflector:
# three hosts on one L2 segment, all in the default node AS 64511, each
# with only a router IP (`netctl node set`), node-mesh on (the default).
#
#     hostA 10.0.0.1      hostB 10.0.0.2      hostC 10.0.0.3
#          \ uplink            | uplink            / uplink
#           +------------ [ br0 in the fabric netns ] ------+
#
# Each host is a namespace with its own leafnetd and config (node_name
# hostA/B/C, own control socket and log); the three configs share one
# state directory, so the hosts see each other's node records and claim
# different blocks.  The bridge lives in its own "fabric" namespace.
#
# Checks: every node's `netctl status` shows its two mesh peers
# Established; workload routes (/32s with --no-aggregate, else the /26
# blocks) land in the other nodes' kernels as proto 77 via the owning
# node, learned from that node only (iBGP routes are not re-advertised);
# containers on different nodes ping each other directly (TTL 62: no
# third hop); DEL withdraws everywhere; `node-mesh off` tears the sessions
# and the learned routes down, `on` brings them back; a leafnetd restart
# (SIGTERM = Cease) heals with the routes relearned.  Each Established
# peer's status "since_ms" (the wall-clock ms it went Established, what
# bench/cluster_bench measures with) lies between the daemons' start and
# the check, stays put while the session does, and is 0 for a peer down.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" "$BIN/leafnetd" ping

MESH="node-to-node mesh"

# ------------------------------------------------------------- topology
mkns FAB
ip -n "$FAB" link add br0 type bridge && ip -n "$FAB" link set br0 up || bail "bridge in $FAB"

declare -A HOSTNS CONF RIP
host() {
	local l=$1 n=$2 hns
	mkhost hns "10.255.$n.1" "fd00:ff::$n"
	HOSTNS[$l]=$hns
	RIP[$l]=10.0.0.$n
	ip link add lm-h$n-$$ netns "$hns" type veth peer name lm-f$n-$$ netns "$FAB" || bail "veth host$l"
	ip -n "$hns" link set "lm-h$n-$$" name uplink && ip -n "$FAB" link set "lm-f$n-$$" name "port$n" &&
	ip -n "$FAB" link set "port$n" master br0 && ip -n "$FAB" link set "port$n" up &&
	ip -n "$hns" addr add "10.0.0.$n/24" dev uplink && ip -n "$hns" link set uplink up ||
		bail "host$l link"
	CONF[$l]=$T_TMP/host$l.conf
	ld_conf "${CONF[$l]}" "host$l" "$T_TMP/state"
}
host A 1
host B 2
host C 3
HOSTS="A B C"

hctl() { local l=$1; shift; T_CONF=${CONF[$l]} nctl_ok "$@"; }

hctl A "network flat (/32s)" network create flat --subnet=192.168.1.0/24 --no-aggregate
hctl A "network agg (/26 blocks)" network create agg --subnet=192.168.2.0/24
for l in $HOSTS; do
	hctl $l "node set host$l" node set "host$l" --router-ip="${RIP[$l]}/24"
done
# node set refusals: exit 2, naming the flag, nothing written
T_CONF=${CONF[A]} nctl node set hostB
assert_eq "node set without a flag: usage error" 2 "$NCTL_RC"
assert_contains "... naming what to give" "$NCTL_ERR" "--router-ip=IP/LEN"
T_CONF=${CONF[A]} nctl node set hostB --router-ip=10.0.0.9/24 --router-ip=10.0.0.8/24
assert_eq "node set with two IPv4 router IPs: usage error" 2 "$NCTL_RC"
T_CONF=${CONF[A]} nctl node set hostB --router-ip=10.0.0.9/24 --as=23456
assert_eq "node set --as=23456 (AS_TRANS): usage error" 2 "$NCTL_RC"
T_CONF=${CONF[A]} nctl node set hostB --router-ip=10.0.0.2/24
assert_contains "node set again: already so" "$NCTL_OUT" "(already so)"
T_CONF=${CONF[A]} nctl bgp node-mesh
assert_eq "node-mesh is on by default" on "$NCTL_OUT"
T_CONF=${CONF[A]} nctl node show hostB -o json
assert_eq "node set: hostB's router IP in its record" "10.0.0.2/24" "$(jqv "$NCTL_OUT" .router_ip4)"
assert_eq "node set: hostB's AS is the default node AS" 64511 "$(jqv "$NCTL_OUT" .effective_as)"

T0_MS=$(date +%s%3N)
for l in $HOSTS; do ld_start $l "${HOSTNS[$l]}" "${CONF[$l]}"; done

# ------------------------------------------------------------- helpers

# mesh_up TAG: the IPv4 mesh peers Established in TAG's `netctl status`.
mesh_up() {
	jq -r --arg t "$MESH" '[(.peers // [])[] | select(.type == $t and .state == "Established"
		and (.address | contains(":") | not)) | .address] | sort | join(" ")' \
		<<<"$(ld_status "$1" -o json)" 2>/dev/null
}
# mesh_rows TAG: how many mesh peers (any state) TAG's status lists.
mesh_rows() {
	jq -r --arg t "$MESH" '[(.peers // [])[] | select(.type == $t)] | length' \
		<<<"$(ld_status "$1" -o json)" 2>/dev/null
}
# others TAG: the router IPs of the other two hosts, sorted.
others() {
	local l out=
	for l in $HOSTS; do [ "$l" != "$1" ] && out+="${RIP[$l]} "; done
	echo $out
}
# learned NS PREFIX: gateways of the proto 77 route for exactly PREFIX.
learned() {
	ip -n "$1" -4 route show proto 77 exact "$2" 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }' | sort -u | xargs
}
n_learned() { count_lines ip -n "$1" -4 route show proto 77; }
# new_session TAG PEER SINCE: "yes" when PEER is Established in a session
# younger than SINCE (status JSON "since", unix seconds).
new_session() {
	jq -r --arg p "$2" --argjson t "$3" '[.peers[] | select(.address == $p and
		.state == "Established" and .since > $t)] | if length == 1 then "yes" else "no" end' \
		<<<"$(ld_status "$1" -o json)" 2>/dev/null
}
# est_ms TAG: "ADDRESS=since_ms" of TAG's Established IPv4 mesh peers,
# sorted ("ADDRESS=?" when since_ms is not a number).
est_ms() {
	jq -r --arg t "$MESH" '[(.peers // [])[] | select(.type == $t and .state == "Established"
		and (.address | contains(":") | not)) |
		"\(.address)=\(if (.since_ms | type) == "number" then .since_ms else "?" end)"] |
		sort | join(" ")' <<<"$(ld_status "$1" -o json)" 2>/dev/null
}
# est_in T0 T1 LIST: the entries of est_ms's LIST whose since_ms is not
# within [T0, T1], "" when all are.
est_in() {
	local e v out=
	for e in $3; do
		v=${e#*=}
		[[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge "$1" ] && [ "$v" -le "$2" ] || out+="$e "
	done
	echo $out
}
# status_rc TAG: netctl status's exit status (1: leafnetd does not answer).
status_rc() { T_CONF=${CONF[$1]} nctl status; echo "$NCTL_RC"; }

# wait_eq TIMEOUT EXPECTED CMD...: CMD's output becomes EXPECTED.
wait_eq() {
	local t=$1 exp=$2 i
	shift 2
	for i in $(seq 1 $((t * 10))); do
		[ "$("$@" 2>/dev/null)" = "$exp" ] && return 0
		sleep 0.1
	done
	return 1
}
# assert_wait WHAT TIMEOUT EXPECTED CMD...
assert_wait() {
	local what=$1 t=$2 exp=$3
	shift 3
	if wait_eq "$t" "$exp" "$@"; then ok "$what"; return 0; fi
	notok "$what" "expected '$exp' within $t s, got '$("$@" 2>/dev/null | xargs | cut -c1-300)'"
	return 1
}

check_mesh() {
	local why=$1 l
	for l in $HOSTS; do
		if ! assert_wait "host$l: both mesh peers Established ($why)" 20 "$(others $l)" mesh_up $l; then
			ld_status $l | sed 's/^/#   /' >&2
		fi
	done
}

# ---------------------------------------------------------------- mesh
check_mesh "start"
STATUS=$(ld_status A)
assert_match "hostA's status rows say node-to-node mesh, up" \
	"$(grep -F 10.0.0.2 <<<"$STATUS")" "$MESH.*up.*Established"
assert_eq "hostA's status has exactly two mesh peers (not itself)" 2 "$(mesh_rows A)"
declare -A EST
for l in $HOSTS; do
	EST[$l]=$(est_ms $l)
	now=$(date +%s%3N)
	assert_eq "host$l: both Established mesh peers have a since_ms" 2 \
		"$(grep -o '=[0-9][0-9]*' <<<"${EST[$l]}" | grep -c .)"
	assert_eq "host$l: since_ms within [daemons' start $T0_MS, now $now]" "" \
		"$(est_in "$T0_MS" "$now" "${EST[$l]}")"
done

# ---------------------------------------------------- /32s (no aggregate)
declare -A ADDR CT
cni_conf flat 1.1.0
for l in $HOSTS; do
	mkcontainer c
	CT[$l]=$c
	T_CONF=${CONF[$l]} cni_add "${HOSTNS[$l]}" "ctr-mesh-$l" "$c" eth0
	cni_expect_ok "ADD a container on host$l (flat)" || bail "ADD on host$l" "nothing else can be tested"
	ADDR[$l]=$(jqv "$CNI_OUT" '.ips[0].address | sub("/.*"; "")')
done
diag "flat: A ${ADDR[A]} B ${ADDR[B]} C ${ADDR[C]}"

for l in $HOSTS; do
	for o in $HOSTS; do
		[ "$o" = "$l" ] && continue
		assert_wait "host$o's kernel: host$l's /32 via ${RIP[$l]} (proto 77), learned from host$l only" \
			3 "${RIP[$l]}" learned "${HOSTNS[$o]}" "${ADDR[$l]}/32"
	done
done
assert_eq "hostA learned exactly the two other /32s" 2 "$(n_learned "${HOSTNS[A]}")"
ping_ok "container on hostA -> container on hostB" "${CT[A]}" "${ADDR[B]}"
ping_ok "container on hostB -> container on hostC" "${CT[B]}" "${ADDR[C]}"
ping_ok "container on hostC -> container on hostA" "${CT[C]}" "${ADDR[A]}"
assert_match "hostA -> hostB is direct (TTL 62: hostB, hostA, no third hop)" \
	"$(ip netns exec "${CT[A]}" ping -c 1 -W 1 "${ADDR[B]}" 2>&1)" 'ttl=62'

# ------------------------------------------------------------ aggregates
declare -A AGG ACT
cni_conf agg 1.1.0
for l in A B; do
	mkcontainer c
	ACT[$l]=$c
	T_CONF=${CONF[$l]} cni_add "${HOSTNS[$l]}" "ctr-agg-$l" "$c" eth0
	cni_expect_ok "ADD a container on host$l (agg)" || bail "ADD agg on host$l"
	AGG[$l]=$(jqv "$CNI_OUT" '.ips[0].address | sub("/.*"; "")')
done
diag "agg: A ${AGG[A]} B ${AGG[B]}"
for l in A B; do
	blk=$(ip -n "${HOSTNS[C]}" -4 route show proto 77 match "${AGG[$l]}" 2>/dev/null |
		awk '$1 ~ /^192\.168\.2\./ { print $1 }' | head -1)
	for i in $(seq 1 30); do
		[ -n "$blk" ] && break
		sleep 0.1
		blk=$(ip -n "${HOSTNS[C]}" -4 route show proto 77 match "${AGG[$l]}" 2>/dev/null |
			awk '$1 ~ /^192\.168\.2\./ { print $1 }' | head -1)
	done
	assert_match "hostC's kernel: host$l's agg container covered by a /26 block" "$blk" \
		'^192\.168\.2\.[0-9]+/26$'
	assert_eq "hostC's kernel: that block via host$l" "${RIP[$l]}" "$(learned "${HOSTNS[C]}" "$blk")"
	assert_eq "hostC's kernel: no /32 for host$l's agg container" "" \
		"$(learned "${HOSTNS[C]}" "${AGG[$l]}/32")"
done
ping_ok "agg: container on hostA -> container on hostB through the blocks" "${ACT[A]}" "${AGG[B]}"
ping_ok "agg: container on hostB -> container on hostA" "${ACT[B]}" "${AGG[A]}"

# A network of two /26 blocks: hostA and hostB claim them, hostC finds no
# free block and splits one of them (ipam_split.c): it claims the free
# upper /27 of one as a nested block of its own and advertises that /27,
# which the block's owner and the third node must prefer to the /26
# (longest match).  Then hostC takes a static address inside hostB's
# block, outside every block of its own: a borrowed address, advertised as
# a /32 that wins over both.
hctl A "network small (2 blocks)" network create small --subnet=192.168.3.0/25 --block-size=26
declare -A SML SCT
cni_conf small 1.1.0
for l in A B C; do
	mkcontainer c
	SCT[$l]=$c
	T_CONF=${CONF[$l]} cni_add "${HOSTNS[$l]}" "ctr-small-$l" "$c" eth0
	cni_expect_ok "ADD a container on host$l (small)" || bail "ADD small on host$l"
	SML[$l]=$(jqv "$CNI_OUT" '.ips[0].address | sub("/.*"; "")')
done
# the /27 holding hostC's address
NEST=${SML[C]%.*}.$(( ${SML[C]##*.} & ~31 ))/27
diag "small: A ${SML[A]} B ${SML[B]} C ${SML[C]} (nested block $NEST)"
assert_match "hostC's address lies in the upper /27 of a /26 (a split, not a borrow)" \
	"$NEST" '^192\.168\.3\.(32|96)/27$'
for o in A B; do
	assert_wait "host$o's kernel: hostC's nested $NEST via hostC" 3 10.0.0.3 \
		learned "${HOSTNS[$o]}" "$NEST"
	assert_eq "host$o's kernel: no /32 for hostC's nested-block container" "" \
		"$(learned "${HOSTNS[$o]}" "${SML[C]}/32")"
done
ping_ok "nested: container on hostC -> container on hostA" "${SCT[C]}" "${SML[A]}"
ping_ok "nested: container on hostA -> container on hostC" "${SCT[A]}" "${SML[C]}"
ping_ok "nested: container on hostB -> container on hostC" "${SCT[B]}" "${SML[C]}"

# borrowed: a static address in hostB's block (the second after its first)
BOR=${SML[B]%.*}.$(( ${SML[B]##*.} + 2 ))
mkcontainer c
SCT[Cb]=$c
T_CONF=${CONF[C]} cni_add "${HOSTNS[C]}" ctr-small-Cb "$c" eth0 CNI_ARGS="IP=$BOR"
cni_expect_ok "ADD a container on hostC with a static address in hostB's block" ||
	bail "static ADD on hostC"
assert_eq "hostC's static container has $BOR" "$BOR" \
	"$(jqv "$CNI_OUT" '.ips[0].address | sub("/.*"; "")')"
for o in A B; do
	assert_wait "host$o's kernel: hostC's borrowed /32 via hostC" 3 10.0.0.3 \
		learned "${HOSTNS[$o]}" "$BOR/32"
done
ping_ok "borrowed: container on hostB -> hostC's borrowed address" "${SCT[B]}" "$BOR"
ping_ok "borrowed: hostC's borrowed address -> container on hostA" "${SCT[Cb]}" "${SML[A]}"
T_CONF=${CONF[C]} cni_del "${HOSTNS[C]}" ctr-small-Cb "${SCT[Cb]}" eth0
cni_expect_ok "DEL hostC's static container"
for o in A B; do
	assert_wait "DEL -> hostC's borrowed /32 gone from host$o's kernel" 3 "" \
		learned "${HOSTNS[$o]}" "$BOR/32"
done
for l in A B C; do
	T_CONF=${CONF[$l]} cni_del "${HOSTNS[$l]}" "ctr-small-$l" "${SCT[$l]}" eth0
	cni_expect_ok "DEL the small container on host$l"
done
for o in A B; do
	assert_wait "DEL -> hostC's nested block gone from host$o's kernel (no pod left in it)" 3 "" \
		learned "${HOSTNS[$o]}" "$NEST"
done

# --------------------------------------------------------------- DEL
cni_conf flat 1.1.0
T_CONF=${CONF[A]} cni_del "${HOSTNS[A]}" ctr-mesh-A "${CT[A]}" eth0
cni_expect_ok "DEL the flat container on hostA"
for o in B C; do
	assert_wait "DEL on hostA -> its /32 gone from host$o's kernel" 3 "" \
		learned "${HOSTNS[$o]}" "${ADDR[A]}/32"
done
assert_eq "hostB still has hostC's /32" 10.0.0.3 "$(learned "${HOSTNS[B]}" "${ADDR[C]}/32")"

# the sessions stayed up through all of the above: since_ms unchanged
for l in $HOSTS; do
	assert_eq "host$l: since_ms unchanged while the sessions stayed up" "${EST[$l]}" "$(est_ms $l)"
done

# --------------------------------------------------- node-mesh off / on
hctl B "node-mesh off" bgp node-mesh off
for l in $HOSTS; do
	if ! assert_wait "node-mesh off -> host$l's status lists no mesh peer" 5 0 mesh_rows $l; then
		ld_status $l | sed 's/^/#   /' >&2
	fi
	assert_wait "node-mesh off -> host$l's learned routes gone" 3 0 n_learned "${HOSTNS[$l]}"
done
assert_fails "node-mesh off -> hostB cannot reach hostC's container" \
	ip netns exec "${CT[B]}" ping -c 1 -W 1 "${ADDR[C]}"

hctl C "node-mesh on" bgp node-mesh on
check_mesh "node-mesh on again"
assert_wait "node-mesh on -> hostB relearned hostC's /32" 5 10.0.0.3 \
	learned "${HOSTNS[B]}" "${ADDR[C]}/32"
assert_wait "node-mesh on -> hostA relearned hostB's agg block" 5 10.0.0.2 \
	learned "${HOSTNS[A]}" "$(ip -n "${HOSTNS[C]}" -4 route show proto 77 match "${AGG[B]}" |
		awk '$1 ~ /^192\.168\.2\./ { print $1 }' | head -1)"
ping_ok "node-mesh on -> container on hostB -> container on hostC" "${CT[B]}" "${ADDR[C]}"

# ---------------------------------------------------- leafnetd restarted
ld_stop B
assert_eq "hostB's leafnetd exits 0 on SIGTERM" 0 "$?"
for o in A C; do
	assert_wait "hostB stopped -> its /32 gone from host$o's kernel" 3 "" \
		learned "${HOSTNS[$o]}" "${ADDR[B]}/32"
done
assert_eq "hostB stopped -> its learned routes left its kernel" 0 "$(n_learned "${HOSTNS[B]}")"
assert_match "hostA saw hostB's Cease" "$(ld_status A | grep -F 10.0.0.2)" '.'
assert_eq "hostB stopped -> hostA's peer hostB not up, since_ms 0" "false 0" \
	"$(jq -r '[.peers[] | select(.address == "10.0.0.2") | "\(.up) \(.since_ms)"][0]' \
		<<<"$(ld_status A -o json)")"
ld_start B "${HOSTNS[B]}" "${CONF[B]}"
check_mesh "hostB restarted"
for o in A C; do
	assert_wait "hostB restarted -> host$o relearned its /32" 5 10.0.0.2 \
		learned "${HOSTNS[$o]}" "${ADDR[B]}/32"
done
assert_wait "hostB restarted -> it relearned hostC's /32" 5 10.0.0.3 \
	learned "${HOSTNS[B]}" "${ADDR[C]}/32"
ping_ok "hostB restarted -> container on hostC -> container on hostB" "${CT[C]}" "${ADDR[B]}"

# ------------------------------------- hostC "rebooted": no FIN, no RST
# Its old connections die silently (an nft rule in hostC drops every packet
# of them, as a host that lost power sends nothing), leafnetd is SIGKILLed
# and started again.  hostA and hostB still hold Established sessions; the
# new connections' OPENs must replace them at once (the peers negotiated
# graceful restart, RFC 4724 §4.2), not wait for a 90 s hold timer.  The
# sessions are older than leafnetd's 3 s collision guard by then.
sleep 3
CNS=${HOSTNS[C]}
ip netns exec "$CNS" nft add table inet lftmesh &&
ip netns exec "$CNS" nft add chain inet lftmesh out '{ type filter hook output priority 0; }' ||
	bail "nft table in hostC"
OLD=$(ip netns exec "$CNS" ss -Htn state established '( sport = :179 or dport = :179 )' |
	awk '{ n = split($3, l, ":"); m = split($4, r, ":"); print l[n], r[m] }')
while read -r lp rp; do
	ip netns exec "$CNS" nft add rule inet lftmesh out tcp sport "$lp" tcp dport "$rp" drop ||
		bail "nft rule for $lp -> $rp"
done <<<"$OLD"
assert_eq "hostC had two BGP connections to silence" 2 "$(grep -c . <<<"$OLD")"
declare -A SINCE
for l in A B; do
	SINCE[$l]=$(jq -r '.peers[] | select(.address == "10.0.0.3") | .since' <<<"$(ld_status $l -o json)")
done
kill -KILL "${LD_PID[C]}"
wait "${LD_PID[C]}" 2>/dev/null
LD_PID[C]=
assert_eq "hostA still believes in hostC's session (no FIN reached it)" Established \
	"$(ld_peer_state A 10.0.0.3)"
assert_ne "the killed leafnetd left its learned routes in hostC's kernel" 0 "$(n_learned "$CNS")"
ld_start C "${HOSTNS[C]}" "${CONF[C]}"
assert_wait "restarted over those routes, hostC's leafnetd answers netctl status" 3 0 status_rc C ||
	bail "hostC's leafnetd" "hung at start; nothing after this can pass"
for l in A B; do
	if ! assert_wait "hostC rebooted -> host$l's session to it replaced by a new one within 5 s" \
		5 yes new_session $l 10.0.0.3 "${SINCE[$l]}"; then
		ld_status $l | sed 's/^/#   /' >&2
		tail -4 "$T_TMP/leafnetd-$l.log" | sed 's/^/#   /' >&2
	fi
done
assert_wait "hostC rebooted -> its own mesh back" 5 "$(others C)" mesh_up C
assert_wait "hostC rebooted -> hostA relearned its /32" 3 10.0.0.3 learned "${HOSTNS[A]}" "${ADDR[C]}/32"
assert_wait "hostC rebooted -> it relearned hostB's /32" 3 10.0.0.2 learned "$CNS" "${ADDR[B]}/32"
ping_ok "hostC rebooted -> container on hostB -> container on hostC" "${CT[B]}" "${ADDR[C]}"
ip netns exec "$CNS" nft delete table inet lftmesh

# ----------------------------------------------------------- teardown
cni_conf flat 1.1.0
for l in B C; do
	T_CONF=${CONF[$l]} cni_del "${HOSTNS[$l]}" "ctr-mesh-$l" "${CT[$l]}" eth0
	cni_expect_ok "DEL the flat container on host$l"
done
cni_conf agg 1.1.0
for l in A B; do
	T_CONF=${CONF[$l]} cni_del "${HOSTNS[$l]}" "ctr-agg-$l" "${ACT[$l]}" eth0
	cni_expect_ok "DEL the agg container on host$l"
done
for l in $HOSTS; do
	assert_wait "host$l: nothing learned once every container is gone" 3 0 n_learned "${HOSTNS[$l]}"
done
for l in $HOSTS; do
	ld_stop $l
	assert_eq "host$l: leafnetd exits 0 on SIGTERM" 0 "$?"
done
t_done
