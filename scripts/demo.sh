#!/bin/bash
# scripts/demo.sh — leafnet end to end, in network namespaces (needs root).
#
#   ./scripts/demo.sh            install dependencies, build, run the demo
#   ./scripts/demo.sh --no-build skip install-deps and make (use build/bin)
#   ./scripts/demo.sh --keep     leave the namespaces up until Enter is pressed
#
# What it does: a "host" namespace (forwarding on) and two "container"
# namespaces; `netctl network create public` (dual stack); the CNI plugin
# ADDs both containers exactly as a container runtime would; prints the CNI
# results, `netctl network inspect public` and the host's leafnet routes
# (`ip route show proto 76`); pings container1 -> container2 over IPv4 and
# IPv6; then DELs both and removes everything (also on failure or Ctrl-C).
#
# Nothing touches the machine's own network namespace.  Stages are plain
# functions run in order from STAGES, so a ToR (BIRD) and leafnetd can be
# added as stages of their own.

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
	-h|--help)  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*)          echo "demo: unknown option '$a' (see --help)" >&2; exit 2 ;;
	esac
done

TAG=lfdemo-$$
HOST=$TAG-host
CONTAINERS=(c1 c2)
NETWORK=public
SUBNET4=192.168.1.0/24
GATEWAY4=192.168.1.254
SUBNET6=fd00:1::/64
TMP=
NAMESPACES=()
PIDS=()
declare -A ADDR4 ADDR6

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
	for ns in "${NAMESPACES[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null && echo "deleted netns $ns"
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo; die "interrupted"' INT TERM

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
	for f in leafnet netctl; do
		[ -x "$BIN/$f" ] || die "$BIN/$f missing: run make"
	done
	command -v jq >/dev/null || die "jq missing: scripts/install-deps.sh installs it"
}

stage_config() {
	step "leafnet config: state in a temporary directory"
	TMP=$(mktemp -d /tmp/lfdemo.XXXXXX) || die "mktemp failed"
	export LEAFNET_CONF=$TMP/leafnet.conf
	jq -n --arg dir "$TMP/state" --arg sock "$TMP/leafnetd.sock" \
		'{state_dir: $dir, control_socket: $sock, node_name: "host1", log_level: "info"}' \
		>"$LEAFNET_CONF"
	echo "LEAFNET_CONF=$LEAFNET_CONF"
	cat "$LEAFNET_CONF"
}

mkns() {
	run ip netns add "$1" || die "cannot create netns $1"
	NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}

stage_namespaces() {
	step "namespaces: host $HOST and containers ${CONTAINERS[*]}"
	mkns "$HOST"
	run ip netns exec "$HOST" sysctl -qw net.ipv4.ip_forward=1
	run ip netns exec "$HOST" sysctl -qw net.ipv6.conf.all.forwarding=1
	for c in "${CONTAINERS[@]}"; do
		mkns "$TAG-$c"
	done
}

stage_network() {
	step "creating the leafnet network '$NETWORK'"
	run "$BIN/netctl" network create "$NETWORK" --subnet="$SUBNET4" --gateway="$GATEWAY4" \
		--subnet="$SUBNET6" || die "netctl network create failed"
	run "$BIN/netctl" network ls
}

# cni CMD CONTAINER: the plugin runs in the host namespace, config on stdin.
cni() {
	local conf
	conf=$(jq -nc --arg n "$NETWORK" '{cniVersion: "1.1.0", name: $n, type: "leafnet", network: $n, mtu: 1500}')
	printf '%s$ echo '\''%s'\'' |\n    ip netns exec %s env CNI_COMMAND=%s CNI_CONTAINERID=%s CNI_NETNS=/run/netns/%s CNI_IFNAME=eth0 CNI_PATH=%s %s/leafnet%s\n' \
		"$G" "$conf" "$HOST" "$1" "$TAG-$2" "$TAG-$2" "$BIN" "$BIN" "$N" >&2
	printf '%s' "$conf" | ip netns exec "$HOST" env CNI_COMMAND="$1" CNI_CONTAINERID="$TAG-$2" \
		CNI_NETNS="/run/netns/$TAG-$2" CNI_IFNAME=eth0 CNI_PATH="$BIN" "$BIN/leafnet"
}

stage_add() {
	local c out
	for c in "${CONTAINERS[@]}"; do
		step "CNI ADD for container $c"
		out=$(cni ADD "$c") || { echo "$out"; die "CNI ADD for $c failed"; }
		printf '%s\n' "$out" | jq .
		ADDR4[$c]=$(jq -r '[.ips[].address | select(contains(":") | not)][0] | sub("/.*"; "")' <<<"$out")
		ADDR6[$c]=$(jq -r '[.ips[].address | select(contains(":"))][0] // empty | sub("/.*"; "")' <<<"$out")
		echo "container $c: ${ADDR4[$c]} ${ADDR6[$c]}"
	done
}

stage_show() {
	step "netctl network inspect $NETWORK"
	run "$BIN/netctl" network inspect "$NETWORK"
	step "the host's leafnet routes (protocol 76)"
	run ip -n "$HOST" route show proto 76
	run ip -n "$HOST" -6 route show proto 76
	step "inside container c1"
	run ip -n "$TAG-c1" addr show dev eth0
	run ip -n "$TAG-c1" route show
	run ip -n "$TAG-c1" -6 route show default
}

stage_ping() {
	step "ping c1 -> c2"
	run ip netns exec "$TAG-c1" ping -c 3 -i 0.2 -W 1 "${ADDR4[c2]}" || die "IPv4 ping c1 -> c2 failed"
	if [ -n "${ADDR6[c2]}" ]; then
		run ip netns exec "$TAG-c1" ping -c 3 -i 0.2 -W 1 "${ADDR6[c2]}" || die "IPv6 ping c1 -> c2 failed"
	fi
}

stage_del() {
	local c
	[ "$KEEP" = 1 ] && { step "namespaces kept; press Enter to tear down"; read -r _; }
	for c in "${CONTAINERS[@]}"; do
		step "CNI DEL for container $c"
		cni DEL "$c" || die "CNI DEL for $c failed"
	done
	run ip -n "$HOST" route show proto 76
	run "$BIN/netctl" network inspect "$NETWORK"
}

STAGES=(stage_build stage_check stage_config stage_namespaces stage_network
	stage_add stage_show stage_ping stage_del)

for s in "${STAGES[@]}"; do
	"$s"
done
step "${G}demo finished: both containers attached, routed and pinged; now removing everything"
