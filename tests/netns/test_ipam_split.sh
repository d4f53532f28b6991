#!/bin/bash
# Nested blocks (ipam/ipam_split.c): a nearly full pool stays aggregated.
# Three hosts, each its own leafnetd and AS, eBGP to a BIRD ToR that
# forwards (its FIB gets every route) and sends every route back down; one
# shared state dir.  A fourth node name ("hostD") only allocates, through
# leafnet-ipam, so that every /26 block of the /24 pool is claimed:
#
#     hostA 10.0.0.1 (AS 65001)  hostB 10.0.0.2 (65002)  hostC 10.0.0.3 (65003)
#              \                         |                        /
#               +---- br0 10.0.0.254 (ToR netns, BIRD AS 500, forwarding) ----+
#
# Blocks: A .0/26 (1 used), B .64/26 (full) and .192/26 (30 used), D .128/26
# (40 used).  hostC has none and none is left: its ADDs get a nested block,
# the free upper half of A's block (.32/27, the block with most free space).
# Checks: hostC's pods are in .32/27, not borrowed; the ToR holds the /27
# via hostC and no /32 for them; pings between hostC's pod and hostA's pod
# in the parent block, and hostB's; hostA's kernel has the /27 via hostC
# (learned), so the more specific route wins over hostA's own /26; hostA's
# next 30 allocations never land in the lent range; 20 concurrent ADDs on
# hostA and 20 on hostC: all distinct, hostC's in its nested blocks.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
t_require "$BIN/leafnet" "$BIN/leafnet-ipam" "$BIN/netctl" "$BIN/leafnetd" bird birdc ping

TOR=10.0.0.254
TOR_AS=500
NET=192.168.50

# ------------------------------------------------------------- topology
mkns FAB
ip -n "$FAB" link add br0 type bridge && ip -n "$FAB" link set br0 up &&
ip -n "$FAB" addr add "$TOR/24" dev br0 || bail "bridge in $FAB"
ip netns exec "$FAB" sysctl -qw net.ipv4.ip_forward=1 || bail "ip_forward in $FAB"
bird_init tor "$FAB" "$TOR"
bird_kernel tor fib

declare -A HOSTNS CONF RIP
host() {
	local l=$1 n=$2 hns
	mkhost hns "10.255.$n.1" "fd00:ff::$n"
	HOSTNS[$l]=$hns
	RIP[$l]=10.0.0.$n
	ip link add ls-h$n-$$ netns "$hns" type veth peer name ls-f$n-$$ netns "$FAB" || bail "veth host$l"
	ip -n "$hns" link set "ls-h$n-$$" name uplink && ip -n "$FAB" link set "ls-f$n-$$" name "port$n" &&
	ip -n "$FAB" link set "port$n" master br0 && ip -n "$FAB" link set "port$n" up &&
	ip -n "$hns" addr add "10.0.0.$n/24" dev uplink && ip -n "$hns" link set uplink up ||
		bail "host$l link"
	CONF[$l]=$T_TMP/host$l.conf
	ld_conf "${CONF[$l]}" "host$l" "$T_TMP/state"
	bird_peer tor "host$l" "$TOR" "$TOR_AS" "10.0.0.$n" "6500$n" all
}
host A 1
host B 2
host C 3
HOSTS="A B C"
CONF[D]=$T_TMP/hostD.conf
ld_conf "${CONF[D]}" hostD "$T_TMP/state"
bird_start tor

hctl() { local l=$1; shift; T_CONF=${CONF[$l]} nctl_ok "$@"; }

hctl A "network pool (/24, /26 blocks)" network create pool --subnet=$NET.0/24
hctl A "node-mesh off" bgp node-mesh off
for l in $HOSTS; do
	n=${RIP[$l]##*.}
	hctl $l "bgp create host$l" bgp create "host$l" --router-ip="${RIP[$l]}/24" --as="6500$n" \
		--neighbor-as=$TOR_AS --neighbor=$TOR
done
for l in $HOSTS; do ld_start $l "${HOSTNS[$l]}" "${CONF[$l]}"; done
for l in $HOSTS; do
	if ld_wait_established $l "$TOR" 20; then ok "host$l: the ToR Established"
	else notok "host$l: the ToR Established" "$(ld_status $l | grep -F "$TOR" | xargs)"; fi
done

# ------------------------------------------------------------- helpers
ip_of() { jqv "$CNI_OUT" '.ips[0].address | sub("/.*"; "")'; }
# ipam_add NODE CID: one leafnet-ipam ADD as NODE (no interface); prints
# the address, "" on failure.
mkcontainer DUMMY
ipam_add() {
	local out
	out=$(CNI_PLUGIN=$BIN/leafnet-ipam T_CONF=${CONF[$1]} cni_conf_ipam;
	      CNI_PLUGIN=$BIN/leafnet-ipam T_CONF=${CONF[$1]} cni "${HOSTNS[A]}" ADD "$2" \
			"$(nspath "$DUMMY")" eth0; printf '%s' "$CNI_OUT")
	jqv "$out" '.ips[0].address | sub("/.*"; "")'
}
cni_conf_ipam() {
	CNI_CONF=$(jq -nc '{cniVersion: "1.1.0", name: "pool", type: "leafnet-ipam",
		ipam: {type: "leafnet-ipam", network: "pool"}}')
}
# in_prefix ADDR PREFIX (IPv4): 0 when inside.
ip4_num() { local IFS=.; set -- $1; echo $(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 )); }
in_prefix() {
	local a p=${2%/*} l=${2#*/}
	[ -n "$1" ] || return 1
	a=$(ip4_num "$1"); p=$(ip4_num "$p")
	[ $(( (a ^ p) >> (32 - l) )) -eq 0 ]
}
blocks_json() { T_CONF=${CONF[A]} nctl network inspect pool -o json; printf '%s' "$NCTL_OUT"; }
node_blocks() { blocks_json | jq -r --arg n "$1" '.blocks[] | select(.node == $n) | .cidr' | xargs; }

# ------------------------------------------------------ fill the pool
declare -A CT ADDR
add_pod() {	# add_pod HOST TAG
	local c
	mkcontainer c
	CT[$2]=$c
	cni_conf pool 1.1.0
	T_CONF=${CONF[$1]} cni_add "${HOSTNS[$1]}" "ctr-split-$2" "$c" eth0
	cni_expect_ok "ADD pod $2 on host$1" || bail "ADD $2" "$(tail -c 300 "$CNI_ERR")"
	ADDR[$2]=$(ip_of)
}
add_pod A a1
add_pod B b1
FAILS=0
for i in $(seq 1 40); do [ -n "$(ipam_add D fill-d$i)" ] || FAILS=$((FAILS + 1)); done
for i in $(seq 1 63); do [ -n "$(ipam_add B fill-b$i)" ] || FAILS=$((FAILS + 1)); done
for i in $(seq 1 29); do [ -n "$(ipam_add B fill-bb$i)" ] || FAILS=$((FAILS + 1)); done
assert_eq "filling allocations all succeeded" 0 "$FAILS"
diag "a1 ${ADDR[a1]} b1 ${ADDR[b1]}; blocks: $(blocks_json | jq -r '[.blocks[] | "\(.cidr)=\(.node)"] | join(" ")')"
assert_eq "hostA holds $NET.0/26" "$NET.0/26" "$(node_blocks hostA)"
assert_eq "hostB holds $NET.64/26 and $NET.192/26" "$NET.64/26 $NET.192/26" "$(node_blocks hostB)"
assert_eq "hostD holds $NET.128/26" "$NET.128/26" "$(node_blocks hostD)"

# ------------------------------------------------ hostC: nested block
add_pod C c1
add_pod C c2
diag "c1 ${ADDR[c1]} c2 ${ADDR[c2]}"
assert_eq "hostC's blocks: the nested $NET.32/27 only" "$NET.32/27" "$(node_blocks hostC)"
for t in c1 c2; do
	if in_prefix "${ADDR[$t]}" "$NET.32/27"; then ok "$t ${ADDR[$t]} is in hostC's nested block"
	else notok "$t ${ADDR[$t]} is in hostC's nested block" "not in $NET.32/27"; fi
done
T_CONF=${CONF[C]} nctl ipam show pool -o json
assert_eq "netctl ipam show: hostC borrowed nothing" 0 \
	"$(jqv "$NCTL_OUT" '[.. | objects | select(.node? == "hostC" and has("allocated")) | .borrowed][0]')"
assert_bird_route "ToR: the nested /27 via hostC" tor "$NET.32/27" "${RIP[C]}" 5
assert_bird_route "ToR: hostA's /26 via hostA" tor "$NET.0/26" "${RIP[A]}" 5
sleep 1
assert_eq "ToR: no /32 for hostC's pods" "" \
	"$(birdq tor show route | grep -E "^$NET\.[0-9]+/32" | xargs)"
assert_eq "ToR: longest match for c1 is the /27" "$NET.32/27" "$(bird_route_for tor "${ADDR[c1]}")"
assert_eq "ToR: longest match for a1 is the /26" "$NET.0/26" "$(bird_route_for tor "${ADDR[a1]}")"
if assert_eventually "hostA's kernel: the /27 learned (proto 77)" 1 \
	count_lines ip -n "${HOSTNS[A]}" -4 route show proto 77 exact "$NET.32/27"; then :; else
	diag "hostA routes: $(ip -n "${HOSTNS[A]}" -4 route | xargs)"
fi
ping_ok "pod in the nested block (c1) -> pod in its parent block (a1)" "${CT[c1]}" "${ADDR[a1]}"
ping_ok "pod in the parent block (a1) -> pod in the nested block (c2)" "${CT[a1]}" "${ADDR[c2]}"
ping_ok "c1 -> b1 on hostB" "${CT[c1]}" "${ADDR[b1]}"
ping_ok "b1 -> c2" "${CT[b1]}" "${ADDR[c2]}"

# ------------------------------------- the owner keeps out of the lent range
BAD=
for i in $(seq 1 30); do
	a=$(ipam_add A own-a$i)
	[ -n "$a" ] || { BAD+=" (failed)"; continue; }
	in_prefix "$a" "$NET.32/27" && BAD+=" $a"
done
assert_eq "hostA's next 30 allocations: none in the lent $NET.32/27" "" "$BAD"
diag "hostA's blocks now: $(node_blocks hostA)"

# ------------------------------------------- concurrent on owner and borrower
CONC=$T_TMP/conc
mkdir -p "$CONC"
cni_conf_ipam
PIDS=()
for i in $(seq 1 20); do
	for l in A C; do
		( T_CONF=${CONF[$l]} cni_call "$CONC/$l.$i" "$BIN/leafnet-ipam" "${HOSTNS[$l]}" ADD \
			"conc-$l-$i" "$(nspath "$DUMMY")" eth0 ) &
		PIDS+=($!)
	done
done
wait "${PIDS[@]}"	# not a bare wait: the leafnetds are children too
NOK=0
: >"$CONC/addrs"
for f in "$CONC"/*.rc; do
	p=${f%.rc}
	if [ "$(cat "$f")" = 0 ]; then
		NOK=$((NOK + 1))
		jq -r '.ips[0].address | sub("/.*"; "")' "$p.out" >>"$CONC/addrs"
	else
		diag "$(basename "$p"): $(tail -c 200 "$p.err")"
	fi
	grep -qE "$SAN_PATTERN" "$p.err" && notok "sanitizer clean: $(basename "$p")" "$p.err"
done
assert_eq "40 concurrent ADDs (20 on hostA, 20 on hostC) succeeded" 40 "$NOK"
assert_eq "their 40 addresses are distinct" 40 "$(sort -u "$CONC/addrs" | grep -c .)"
ALL=$(blocks_json | jq -r '.allocations[] | .address // .addr')
assert_eq "no address allocated twice in the pool" "$(grep -c . <<<"$ALL")" \
	"$(sort -u <<<"$ALL" | grep -c .)"
CBLK=$(node_blocks hostC)
OUT=
for i in $(seq 1 20); do
	a=$(jq -r '.ips[0].address | sub("/.*"; "")' "$CONC/C.$i.out" 2>/dev/null)
	inside=
	for b in $CBLK; do in_prefix "$a" "$b" && inside=1; done
	[ -n "$inside" ] || OUT+=" $a"
done
diag "hostC's blocks: $CBLK"
assert_eq "hostC's concurrent addresses all lie in its own (nested) blocks" "" "$OUT"
OUT=
for i in $(seq 1 20); do
	a=$(jq -r '.ips[0].address | sub("/.*"; "")' "$CONC/A.$i.out" 2>/dev/null)
	for b in $CBLK; do in_prefix "$a" "$b" && OUT+=" $a"; done
done
assert_eq "none of hostA's concurrent addresses in hostC's blocks" "" "$OUT"
T_CONF=${CONF[A]} nctl ipam show pool
diag "$(head -20 <<<"$NCTL_OUT")"

# --------------------------------------------------------------- teardown
for l in $HOSTS; do
	ld_stop $l
	assert_eq "host$l: leafnetd exits 0 on SIGTERM" 0 "$?"
done
bird_stop_all
t_done
