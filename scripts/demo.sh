#!/bin/bash
# scripts/demo.sh — leafnet end to end, in network namespaces (needs root).
#
#   ./scripts/demo.sh            install dependencies, build, run the demo
#   ./scripts/demo.sh --no-build skip install-deps and make (use build/bin)
#   ./scripts/demo.sh --keep     leave the namespaces up until Enter is pressed
#
# The seed scenario: two hosts behind one top-of-rack router.
#
#     c1, c2 ── host1 (AS 65002) ── 10.0.1.0/24 ──┐
#                                                 ToR (BIRD 2, AS 500)
#         c3 ── host2 (AS 65002) ── 10.0.2.0/24 ──┘
#
# Each host is a namespace with its own leafnet config and its own leafnetd
# (both configs share one state directory, the way hosts share a datastore,
# so the two hosts claim different address blocks of the same network).
# `netctl network create public` (dual stack); `netctl bgp create` for each
# host (its AS, router IP and the ToR as its neighbor); the CNI plugin ADDs
# the containers exactly as a container runtime would; leafnetd advertises
# their routes to the ToR, which hands each host back only a default route
# ("downward default").  Shown: the CNI results, `netctl network inspect`,
# the host's leafnet routes (proto 76) and learned default (proto 186),
# `netctl status` (the BGP peer table), the ToR's routing table (birdc);
# pings c1 -> c2 on host1 (IPv4 and IPv6) and c1 -> c3 across the ToR; then
# DELs everything and removes it all (also on failure or Ctrl-C).
#
# Nothing touches the machine's own network namespace.  Stages are plain
# functions run in order from STAGES.

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
BIN=$ROOT/build/bin
DO_BUILD=1
KEEP=0
for a in "$@"; do
	case $a in
	--no-build) DO_BUILD=0 ;;
	--keep)     KEEP=1 ;;
	-h|--help)  sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*)          echo "demo: unknown option '$a' (see --help)" >&2; exit 2 ;;
	esac
done

TAG=lfdemo-$$
TOR=$TAG-tor
HOSTS=(host1 host2)
declare -A HOSTOF=([c1]=host1 [c2]=host1 [c3]=host2)
declare -A HOSTNUM=([host1]=1 [host2]=2)
CONTAINERS=(c1 c2 c3)
NETWORK=public
SUBNET4=192.168.1.0/24
GATEWAY4=192.168.1.254
SUBNET6=fd00:1::/64
NODE_AS=65002
TOR_AS=500
TMP=
NAMESPACES=()
PIDS=()
declare -A ADDR4 ADDR6 LDPID

if [ -t 1 ]; then B=$'\e[1m'; G=$'\e[32m'; R=$'\e[31m'; N=$'\e[0m'; else B=; G=; R=; N=; fi
step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
run()  { printf '%s$ %s%s\n' "$G" "$*" "$N"; "$@"; }
die()  { printf '%sdemo: %s%s\n' "$R" "$*" "$N" >&2; exit 1; }

cleanup() {
	local ns p
	trap - EXIT INT TERM
	[ ${#NAMESPACES[@]} -gt 0 ] || { [ -n "$TMP" ] && rm -rf "$TMP"; return; }
	step "cleaning up"
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for ns in "${NAMESPACES[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null && echo "deleted netns $ns"
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo; die "interrupted"' INT TERM

ns_of()   { printf '%s-%s' "$TAG" "$1"; }
conf_of() { printf '%s/%s.conf' "$TMP" "$1"; }
# as HOST CMD...: run CMD with that host's leafnet config.
as()      { local h=$1; shift; LEAFNET_CONF=$(conf_of "$h") "$@"; }
birdc_()  { birdc -s "$TMP/tor.ctl" "$@"; }

# ------------------------------------------------------------------ stages

stage_build() {
	[ "$DO_BUILD" = 1 ] || return 0
	step "installing dependencies (scripts/install-deps.sh)"
	./scripts/install-deps.sh || die "install-deps failed"
	step "building (make)"
	make -j"$(nproc)" || die "build failed"
}

stage_check() {
	[ "$(id -u)" = 0 ] || die "needs root (it creates network namespaces): sudo $0"
	for f in leafnet netctl leafnetd; do
		[ -x "$BIN/$f" ] || die "$BIN/$f missing: run make"
	done
	for c in jq bird birdc; do
		command -v $c >/dev/null || die "$c missing: scripts/install-deps.sh installs it"
	done
}

stage_config() {
	local h
	step "leafnet configs: one per host, one shared state directory (the datastore)"
	TMP=$(mktemp -d /tmp/lfdemo.XXXXXX) || die "mktemp failed"
	for h in "${HOSTS[@]}"; do
		jq -n --arg dir "$TMP/state" --arg sock "$TMP/$h.sock" --arg log "$TMP/$h.log" \
			--arg node "$h" \
			'{state_dir: $dir, control_socket: $sock, node_name: $node, log_file: $log,
			  log_level: "info"}' >"$(conf_of "$h")"
		echo "$(conf_of "$h"):"
		sed 's/^/    /' "$(conf_of "$h")"
	done
}

mkns() {
	run ip netns add "$1" || die "cannot create netns $1"
	NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}

stage_namespaces() {
	local h n ns c
	step "namespaces: the ToR, ${HOSTS[*]} (forwarding on) and containers ${CONTAINERS[*]}"
	mkns "$TOR"
	ip netns exec "$TOR" sysctl -qw net.ipv4.ip_forward=1
	for h in "${HOSTS[@]}"; do
		n=${HOSTNUM[$h]}
		ns=$(ns_of "$h")
		mkns "$ns"
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
		run ip link add "$TAG-u$n" netns "$ns" type veth peer name "$TAG-d$n" netns "$TOR" ||
			die "veth $h <-> ToR failed"
		ip -n "$ns" link set "$TAG-u$n" name uplink
		ip -n "$TOR" link set "$TAG-d$n" name "down$n"
		run ip -n "$ns" addr add "10.0.$n.1/24" dev uplink
		run ip -n "$TOR" addr add "10.0.$n.254/24" dev "down$n"
		ip -n "$ns" link set uplink up
		ip -n "$TOR" link set "down$n" up
	done
	for c in "${CONTAINERS[@]}"; do
		mkns "$(ns_of "$c")"
	done
}

stage_network() {
	step "creating the leafnet network '$NETWORK' (once: the hosts share the datastore)"
	run as host1 "$BIN/netctl" network create "$NETWORK" --subnet="$SUBNET4" --gateway="$GATEWAY4" \
		--subnet="$SUBNET6" || die "netctl network create failed"
	run as host1 "$BIN/netctl" network ls
}

stage_tor() {
	local h n
	step "the ToR: BIRD 2, AS $TOR_AS, one eBGP session per host, hands out only a default route"
	{
		echo "log \"$TMP/tor.log\" all;"
		echo "router id 10.0.0.254;"
		echo "protocol device { }"
		echo "protocol kernel { ipv4 { import none; export where net != 0.0.0.0/0; }; merge paths on; }"
		echo "protocol static default4 { ipv4; route 0.0.0.0/0 blackhole; }"
		for h in "${HOSTS[@]}"; do
			n=${HOSTNUM[$h]}
			echo "protocol bgp $h {"
			echo "	local 10.0.$n.254 as $TOR_AS; neighbor 10.0.$n.1 as $NODE_AS;"
			echo "	connect delay time 1; connect retry time 2; error wait time 1, 4;"
			echo "	ipv4 { import all; export where net = 0.0.0.0/0; };"
			echo "}"
		done
	} >"$TMP/tor.conf"
	sed 's/^/    /' "$TMP/tor.conf"
	bird -p -c "$TMP/tor.conf" || die "BIRD refused the generated config"
	printf '%s$ ip netns exec %s bird -f -c %s -s %s &%s\n' "$G" "$TOR" "$TMP/tor.conf" "$TMP/tor.ctl" "$N"
	ip netns exec "$TOR" bird -f -c "$TMP/tor.conf" -s "$TMP/tor.ctl" -P "$TMP/tor.pid" \
		>"$TMP/tor.out" 2>&1 &
	PIDS+=("$!")
	disown "$!"
	for _ in $(seq 1 50); do birdc_ show status >/dev/null 2>&1 && return 0; sleep 0.1; done
	die "BIRD did not start: $(tail -3 "$TMP/tor.out")"
}

stage_bgp() {
	local h n
	step "BGP for each host: its AS, router IP and the ToR as neighbor (netctl bgp create)"
	for h in "${HOSTS[@]}"; do
		n=${HOSTNUM[$h]}
		run as "$h" "$BIN/netctl" bgp create "$h" --router-ip="10.0.$n.1/24" --as=$NODE_AS \
			--neighbor-as=$TOR_AS --neighbor="10.0.$n.254" || die "netctl bgp create $h failed"
	done
	run as host1 "$BIN/netctl" bgp node-mesh off || die "netctl bgp node-mesh off failed"
	run as host1 "$BIN/netctl" node bgp peer show
}

stage_leafnetd() {
	local h
	step "starting leafnetd on each host"
	for h in "${HOSTS[@]}"; do
		printf '%s$ ip netns exec %s leafnetd --config %s &%s\n' "$G" "$(ns_of "$h")" "$(conf_of "$h")" "$N"
		ip netns exec "$(ns_of "$h")" "$BIN/leafnetd" --config "$(conf_of "$h")" \
			>"$TMP/leafnetd-$h.out" 2>&1 &
		LDPID[$h]=$!
		PIDS+=("$!")
		disown "$!"
	done
}

stage_status() {
	local h i
	for h in "${HOSTS[@]}"; do
		for i in $(seq 1 50); do
			as "$h" "$BIN/netctl" status 2>/dev/null | grep -qw Established && break
			sleep 0.2
		done
		step "netctl status on $h"
		run as "$h" "$BIN/netctl" status ||
			die "leafnetd on $h is not answering: $(tail -3 "$TMP/leafnetd-$h.out")"
	done
	step "the hosts learned the ToR's default route (protocol 186 = bgp)"
	for h in "${HOSTS[@]}"; do
		run ip -n "$(ns_of "$h")" route show proto 186
	done
}

# cni CMD CONTAINER: the plugin runs in the container's host namespace with
# that host's config, the network config on stdin.
cni() {
	local cmd=$1 c=$2 h=${HOSTOF[$2]} conf
	conf=$(jq -nc --arg n "$NETWORK" '{cniVersion: "1.1.0", name: $n, type: "leafnet", network: $n, mtu: 1500}')
	printf '%s$ echo '\''%s'\'' |\n    ip netns exec %s env LEAFNET_CONF=%s CNI_COMMAND=%s CNI_CONTAINERID=%s CNI_NETNS=/run/netns/%s CNI_IFNAME=eth0 CNI_PATH=%s %s/leafnet%s\n' \
		"$G" "$conf" "$(ns_of "$h")" "$(conf_of "$h")" "$cmd" "$TAG-$c" "$(ns_of "$c")" "$BIN" "$BIN" "$N" >&2
	printf '%s' "$conf" | ip netns exec "$(ns_of "$h")" env LEAFNET_CONF="$(conf_of "$h")" \
		CNI_COMMAND="$cmd" CNI_CONTAINERID="$TAG-$c" CNI_NETNS="/run/netns/$(ns_of "$c")" \
		CNI_IFNAME=eth0 CNI_PATH="$BIN" "$BIN/leafnet"
}

stage_add() {
	local c out
	for c in "${CONTAINERS[@]}"; do
		step "CNI ADD for container $c on ${HOSTOF[$c]}"
		out=$(cni ADD "$c") || { echo "$out"; die "CNI ADD for $c failed"; }
		printf '%s\n' "$out" | jq .
		ADDR4[$c]=$(jq -r '[.ips[].address | select(contains(":") | not)][0] | sub("/.*"; "")' <<<"$out")
		ADDR6[$c]=$(jq -r '[.ips[].address | select(contains(":"))][0] // empty | sub("/.*"; "")' <<<"$out")
		echo "container $c: ${ADDR4[$c]} ${ADDR6[$c]}"
	done
}

stage_show() {
	step "netctl network inspect $NETWORK"
	run as host1 "$BIN/netctl" network inspect "$NETWORK"
	step "host1's leafnet routes (protocol 76)"
	run ip -n "$(ns_of host1)" route show proto 76
	run ip -n "$(ns_of host1)" -6 route show proto 76
	step "inside container c1"
	run ip -n "$(ns_of c1)" addr show dev eth0
	run ip -n "$(ns_of c1)" route show
}

stage_tor_table() {
	local c i
	# Wait (briefly) until the ToR routes every container's address to its host.
	for c in "${CONTAINERS[@]}"; do
		for i in $(seq 1 40); do
			birdc_ show route for "${ADDR4[$c]}" | grep -q "via 10.0.${HOSTNUM[${HOSTOF[$c]}]}.1" && break
			sleep 0.05
		done
	done
	step "the ToR's BGP table: each host's block (or /32s) with that host as next hop"
	run birdc -s "$TMP/tor.ctl" show route
	run birdc -s "$TMP/tor.ctl" show route for "${ADDR4[c3]}" all
	step "the ToR's kernel routing table"
	run ip -n "$TOR" route show
}

stage_ping() {
	step "ping c1 -> c2 (both on host1)"
	run ip netns exec "$(ns_of c1)" ping -c 3 -i 0.2 -W 1 "${ADDR4[c2]}" || die "IPv4 ping c1 -> c2 failed"
	if [ -n "${ADDR6[c2]}" ]; then
		run ip netns exec "$(ns_of c1)" ping -c 3 -i 0.2 -W 1 "${ADDR6[c2]}" || die "IPv6 ping c1 -> c2 failed"
	fi
	step "ping c1 (host1) -> c3 (host2) across the ToR, and the path it takes"
	run ip netns exec "$(ns_of c1)" ping -c 3 -i 0.2 -W 1 "${ADDR4[c3]}" || die "IPv4 ping c1 -> c3 failed"
	run ip netns exec "$(ns_of c3)" ping -c 3 -i 0.2 -W 1 "${ADDR4[c1]}" || die "IPv4 ping c3 -> c1 failed"
	if command -v traceroute >/dev/null; then
		run ip netns exec "$(ns_of c1)" traceroute -n -q 1 -w 1 "${ADDR4[c3]}"
	fi
}

stage_del() {
	local c h
	[ "$KEEP" = 1 ] && { step "namespaces kept; press Enter to tear down"; read -r _; }
	for c in "${CONTAINERS[@]}"; do
		step "CNI DEL for container $c"
		cni DEL "$c" || die "CNI DEL for $c failed"
	done
	run ip -n "$(ns_of host1)" route show proto 76
	run as host1 "$BIN/netctl" network inspect "$NETWORK"
	sleep 0.3
	step "the ToR no longer routes the containers' addresses (withdrawn)"
	run birdc -s "$TMP/tor.ctl" show route
	step "stopping leafnetd (SIGTERM: it tells the ToR with a BGP Cease)"
	for h in "${HOSTS[@]}"; do
		run kill -TERM "${LDPID[$h]}"
	done
}

STAGES=(stage_build stage_check stage_config stage_namespaces stage_network
	stage_tor stage_bgp stage_leafnetd stage_status stage_add stage_show
	stage_tor_table stage_ping stage_del)

for s in "${STAGES[@]}"; do
	"$s"
done
step "${G}demo finished: three containers on two hosts, routed through a BGP ToR, pinged; now removing everything"
