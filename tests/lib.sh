# tests/lib.sh — shared helpers for the network-namespace tests.
#
# Sourced by every tests/netns/*.sh.  A test script:
#
#	. "$(dirname "$0")/../lib.sh"
#	t_init                        # temp dir, leafnet.conf, cleanup trap
#	mkhost H                      # $H = "lft-<test>-<pid>-<n>", forwarding on
#	mkcontainer C1                # $C1 = a fresh netns, lo up
#	nctl network create public --subnet=192.168.1.0/24
#	cni_conf public               # $CNI_CONF = the plugin's stdin
#	cni_add "$H" ctr1 "$C1"       # -> $CNI_RC, $CNI_OUT (stdout), $CNI_ERR (file)
#	assert_eq "ADD exits 0" 0 "$CNI_RC"
#	t_done                        # sanitizer sweep, exit status
#
# Output is TAP-like: one "ok - <test>: <what>" or "not ok - <test>: <what>:
# <why>" line per assertion; tests/run counts them.  Diagnostics go to
# stderr prefixed with "# ".
#
# Environment:
#	LEAFNET_BIN   directory holding leafnet, leafnet-ipam, netctl
#	              (default: <repo>/build/bin)
#	LEAFNET_KEEP  1: keep the temp dir even when everything passed
#
# Every namespace made with mkhost/mkcontainer/mkns, every PID passed to
# t_register_pid and every process still running inside those namespaces
# is removed by the EXIT/INT/TERM trap, whatever way the script ends.

set -u

T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LEAFNET_BIN:-$T_ROOT/build/bin}
T_NAME=$(basename "$0" .sh)
T_NAME=${T_NAME#test_}
[ "${LEAFNET_TEST_DATASTORE:-file}" = etcd ] && T_NAME=${T_NAME}_etcd
T_PASS=0
T_FAIL=0
T_NS=()
T_PIDS=()
T_NSCOUNT=0
T_CALLS=0
T_TMP=
T_CONF=
CNI_CONF=
CNI_RC=
CNI_OUT=
CNI_ERR=
NCTL_RC=
NCTL_OUT=
NCTL_ERR=

SAN_PATTERN='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|AddressSanitizer:DEADLYSIGNAL'

diag() { printf '# %s\n' "$*" >&2; }

ok() {
	T_PASS=$((T_PASS + 1))
	printf 'ok - %s: %s\n' "$T_NAME" "$1"
}

notok() {
	T_FAIL=$((T_FAIL + 1))
	printf 'not ok - %s: %s: %s\n' "$T_NAME" "$1" "${2:-failed}"
}

# Stop right here (a setup step failed and nothing after it can mean
# anything).  The trap still cleans up.
bail() {
	notok "$1" "${2:-setup failed}"
	exit 1
}

t_require() {
	local f
	for f in "$@"; do
		if [ ! -x "$f" ] && ! command -v "$f" >/dev/null 2>&1; then
			bail "prerequisite $f" "not found (build with make, install with scripts/install-deps.sh)"
		fi
	done
}

# t_cgroup2: make sure a cgroup hierarchy is mounted on /sys/fs/cgroup, as
# dockerd needs one.  Every booted Debian has it (systemd mounts cgroup2);
# a bare root entered with chroot (a fresh debootstrap, CI's fresh-root
# tool) has none.  Then mount cgroup2 there for the test and unmount it in
# the cleanup.  0 when a hierarchy is there (or now is).
T_CGROUP_MOUNTED=
t_cgroup2() {
	[ -e /sys/fs/cgroup/cgroup.controllers ] && return 0
	grep -qE ' /sys/fs/cgroup(/[^ ]*)? cgroup2? ' /proc/self/mounts && return 0
	mkdir -p /sys/fs/cgroup 2>/dev/null
	mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || return 1
	T_CGROUP_MOUNTED=1
	diag "no cgroup hierarchy was mounted: mounted cgroup2 on /sys/fs/cgroup for this test"
	return 0
}

# ---------------------------------------------------------------- cleanup

# A PID is remembered with its process's start time (field 22 of
# /proc/PID/stat): the cleanup kills it only while that same process lives.
# A stopped daemon's PID stays registered, and with many tests at once the
# kernel hands the number to someone else's process soon (pid_max is often
# 32768); killing by number alone would kill that one.
t_pid_start() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	set -- $st
	printf '%s' "${20}"
}

t_register_pid() {
	local p
	for p in "$@"; do T_PIDS+=("$p:$(t_pid_start "$p")"); done
}

# t_pid_ours ENTRY: the registered process (PID:START) is still running.
t_pid_ours() {
	local pid=${1%%:*} st=${1#*:}
	[ -n "$st" ] && [ "$(t_pid_start "$pid")" = "$st" ]
}

t_cleanup() {
	local pid ns p
	trap - EXIT INT TERM
	for pid in "${T_PIDS[@]}"; do
		t_pid_ours "$pid" && kill -KILL "${pid%%:*}" 2>/dev/null
	done
	for ns in "${T_NS[@]}"; do
		# Anything still running inside a namespace we made is ours
		# (a paused plugin, a ping): end it by PID.
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
	done
	for pid in "${T_PIDS[@]}"; do
		wait "${pid%%:*}" 2>/dev/null
	done
	for ns in "${T_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "${T_CGROUP_MOUNTED:-}" ] && umount /sys/fs/cgroup 2>/dev/null
	if [ -n "$T_TMP" ] && [ -d "$T_TMP" ]; then
		if [ "$T_FAIL" -eq 0 ] && [ "${LEAFNET_KEEP:-0}" != 1 ]; then
			rm -rf "$T_TMP"
		else
			diag "kept $T_TMP (logs, plugin stdout/stderr, state)"
		fi
	fi
}

t_on_signal() {
	notok "interrupted" "caught signal $1"
	t_cleanup
	exit 130
}

# Make the temp dir and the leafnet config; install the trap.
t_init() {
	[ "$(id -u)" = 0 ] || { echo "not ok - $T_NAME: needs root (network namespaces)"; exit 1; }
	t_require ip jq
	trap t_cleanup EXIT
	trap 't_on_signal INT' INT
	trap 't_on_signal TERM' TERM
	T_TMP=$(mktemp -d "/var/tmp/lft-$T_NAME.XXXXXX") || bail "mktemp"
	mkdir -p "$T_TMP/state" "$T_TMP/calls"
	T_CONF=$T_TMP/leafnet.conf
	jq -n --arg dir "$T_TMP/state" --arg sock "$T_TMP/leafnetd.sock" \
	      --arg log "$T_TMP/leafnet.log" --arg node "${T_NODE:-node1}" \
	      '{state_dir: $dir, control_socket: $sock, node_name: $node,
	        log_file: $log, log_level: "debug", fsync: true}' >"$T_CONF" \
		|| bail "write $T_CONF"
}

# Report the sanitizer sweep and exit with the script's status.
t_done() {
	local hits
	hits=$(grep -lE "$SAN_PATTERN" "$T_TMP"/calls/*.err "$T_TMP"/*.log 2>/dev/null)
	if [ -n "$hits" ]; then
		notok "no sanitizer reports" "found in: $(echo $hits)"
		grep -hE -A12 "$SAN_PATTERN" $hits | head -40 | sed 's/^/# /' >&2
	else
		ok "no sanitizer reports in any plugin/netctl stderr"
	fi
	diag "$T_NAME: $T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ] && exit 0
	exit 1
}

# ------------------------------------------------------------- namespaces

# mkns VAR: a new netns with lo up; its name goes into $VAR.
mkns() {
	local name
	T_NSCOUNT=$((T_NSCOUNT + 1))
	name="lft-$T_NAME-$$-$T_NSCOUNT"
	ip netns add "$name" || bail "ip netns add $name"
	T_NS+=("$name")
	ip -n "$name" link set lo up || bail "lo up in $name"
	printf -v "$1" '%s' "$name"
}

# mkhost VAR [V4ADDR V6ADDR]: a "host" namespace with IPv4 and IPv6
# forwarding on and an address on lo the containers can ping (default
# 10.255.0.1 and fd00:ff::1).
mkhost() {
	local ns
	mkns "$1"
	ns=${!1}
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 || bail "ip_forward in $ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1 || bail "v6 forwarding in $ns"
	ip -n "$ns" addr add "${2:-10.255.0.1}/32" dev lo || bail "host v4 address"
	ip -n "$ns" addr add "${3:-fd00:ff::1}/128" dev lo nodad || bail "host v6 address"
}

mkcontainer() { mkns "$1"; }

# t_datastore HOSTNS: when LEAFNET_TEST_DATASTORE=etcd, a real etcd
# (etcd-server) listening only on HOSTNS's loopback, and the test's config
# ($T_CONF) switched to it; netctl (nctl) then runs inside HOSTNS too.  For
# scripts whose body runs on either store (their _etcd twin sets the
# variable).  Otherwise nothing.
t_datastore() {
	local h=$1 port url
	[ "${LEAFNET_TEST_DATASTORE:-file}" = etcd ] || return 0
	t_require etcd curl
	port=$((20000 + RANDOM % 20000))
	url=http://127.0.0.1:$port
	ip netns exec "$h" etcd --name lft --data-dir "$T_TMP/etcd" \
		--listen-client-urls "$url" --advertise-client-urls "$url" \
		--listen-peer-urls "http://127.0.0.1:$((port + 1))" \
		--initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
		--initial-cluster "lft=http://127.0.0.1:$((port + 1))" \
		>"$T_TMP/etcd.out" 2>&1 &
	T_ETCD_PID=$!
	t_register_pid "$T_ETCD_PID"
	for _ in $(seq 1 150); do
		ip netns exec "$h" curl -sf -m 1 "$url/health" >/dev/null 2>&1 && break
		kill -0 "$T_ETCD_PID" 2>/dev/null || bail "etcd start" "exited: $(tail -3 "$T_TMP/etcd.out")"
		sleep 0.1
	done
	ip netns exec "$h" curl -sf -m 1 "$url/health" >/dev/null || bail "etcd start" "not healthy"
	jq --arg ep "$url" '.datastore = "etcd" | .etcd_endpoints = $ep' "$T_CONF" \
		>"$T_CONF.etcd" && mv "$T_CONF.etcd" "$T_CONF" || bail "etcd config"
	T_NCTL_NS=$h
	T_ETCD_URL=$url
	ok "datastore: etcd on $h's loopback, port $port"
}

nspath() { printf '/run/netns/%s' "$1"; }

# ---------------------------------------------------------------- netctl

# nctl ARGS...: run netctl with the test's config.  Sets NCTL_RC,
# NCTL_OUT (stdout) and NCTL_ERR (stderr text).
nctl() {
	local f
	T_CALLS=$((T_CALLS + 1))
	f=$T_TMP/calls/netctl.$BASHPID.$T_CALLS
	${T_NCTL_NS:+ip netns exec "$T_NCTL_NS"} env LEAFNET_CONF="$T_CONF" \
		timeout -k 2 20 "$BIN/netctl" "$@" >"$f.out" 2>"$f.err"
	NCTL_RC=$?
	NCTL_OUT=$(cat "$f.out")
	NCTL_ERR=$(cat "$f.err")
	return 0
}

# nctl_ok WHAT ARGS...: netctl must succeed (bails otherwise: setup step).
nctl_ok() {
	local what=$1
	shift
	nctl "$@"
	[ "$NCTL_RC" = 0 ] || bail "$what" "netctl $* exited $NCTL_RC: $NCTL_ERR"
}

# Allocations of a network as "addr container ifname" lines, read from
# `netctl network inspect NAME -o json` (key "allocations").
allocs_of() {
	nctl network inspect "$1" -o json
	if [ "$NCTL_RC" != 0 ]; then
		echo "INSPECT-FAILED"
		return 1
	fi
	printf '%s' "$NCTL_OUT" | jq -r '(.allocations // [])[] |
		"\(.address // .addr) \(.container_id // .containerID // "") \(.ifname // "")"'
}

alloc_count() { allocs_of "$1" | grep -c . ; }

# ------------------------------------------------------------------- CNI

# cni_conf NETWORK [VERSION] [JQ-EXPR]: set $CNI_CONF, optionally edited by
# a jq expression, e.g. cni_conf public 1.1.0 '.runtimeConfig.ips=["10.1.0.5/24"]'
cni_conf() {
	CNI_CONF=$(jq -nc --arg net "$1" --arg ver "${2:-1.1.0}" \
		'{cniVersion: $ver, name: $net, type: "leafnet", network: $net, mtu: 1500}' |
		jq -c "${3:-.}") || bail "cni_conf $*"
}

# cni_call PREFIX PLUGIN HOSTNS CMD CID NETNS IFNAME [VAR=value ...]
# The plugin runs inside HOSTNS with a clean environment, $CNI_CONF on stdin;
# writes PREFIX.out, PREFIX.err, PREFIX.rc.  Safe to run in the background.
cni_call() {
	local prefix=$1 plugin=$2 host=$3 cmd=$4 cid=$5 netns=$6 ifname=$7
	local -a envs=()
	shift 7
	# "-" leaves a variable out altogether; "" passes it empty (as libcni does).
	[ "$cmd" != - ] && envs+=("CNI_COMMAND=$cmd")
	[ "$cid" != - ] && envs+=("CNI_CONTAINERID=$cid")
	[ "$netns" != - ] && envs+=("CNI_NETNS=$netns")
	[ "$ifname" != - ] && envs+=("CNI_IFNAME=$ifname")
	printf '%s' "$CNI_CONF" | ip netns exec "$host" env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		LEAFNET_CONF="$T_CONF" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
		CNI_PATH="${CNI_PATH_DIR:-$BIN}" "${envs[@]}" \
		"$@" "$plugin" >"$prefix.out" 2>"$prefix.err"
	echo $? >"$prefix.rc"
}

# cni_load PREFIX: read back a cni_call into CNI_RC / CNI_OUT / CNI_ERR.
cni_load() {
	CNI_RC=$(cat "$1.rc" 2>/dev/null || echo missing)
	CNI_OUT=$(cat "$1.out" 2>/dev/null)
	CNI_ERR=$1.err
	if grep -qE "$SAN_PATTERN" "$1.err" 2>/dev/null; then
		notok "sanitizer clean: $(basename "$1")" "report in $1.err"
		grep -E -A8 "$SAN_PATTERN" "$1.err" | head -20 | sed 's/^/# /' >&2
	fi
}


# cni HOSTNS CMD CID NETNS [IFNAME] [VAR=value ...] — the leafnet plugin
# ($CNI_PLUGIN overrides).  CID/NETNS/IFNAME "-": not set at all.
cni() {
	local host=$1 cmd=$2 cid=$3 netns=$4 ifname=${5-eth0} p
	shift 4
	[ $# -gt 0 ] && shift
	# $BASHPID keeps calls made in $(...) subshells apart.
	T_CALLS=$((T_CALLS + 1))
	p=$T_TMP/calls/${cmd//[^A-Za-z0-9]/_}.$BASHPID.$T_CALLS
	cni_call "$p" "${CNI_PLUGIN:-$BIN/leafnet}" "$host" "$cmd" "$cid" "$netns" "$ifname" "$@"
	cni_load "$p"
}

# cni_add HOSTNS CID CONTAINER-NS [IFNAME] [VAR=value ...]
cni_add()   { local h=$1 c=$2 n=$3; shift 3; cni "$h" ADD "$c" "$(nspath "$n")" "$@"; }
cni_check() { local h=$1 c=$2 n=$3; shift 3; cni "$h" CHECK "$c" "$(nspath "$n")" "$@"; }
# cni_del HOSTNS CID NETNS-NAME-OR-EMPTY [IFNAME] [VAR=value ...]
cni_del() {
	local h=$1 c=$2 n=$3
	shift 3
	[ -n "$n" ] && n=$(nspath "$n")
	cni "$h" DEL "$c" "$n" "$@"
}
# cni_gc HOSTNS — $CNI_CONF must carry "cni.dev/valid-attachments".
cni_gc()    { cni "$1" GC - - -; }

# cni_prev_conf: put the last ADD result into $CNI_CONF as prevResult
# (what runtimes do for CHECK and DEL).
cni_with_prev() {
	CNI_CONF=$(jq -c --argjson prev "$CNI_OUT" '. + {prevResult: $prev}' <<<"$CNI_CONF") \
		|| bail "prevResult" "last ADD output is not JSON: $CNI_OUT"
}

# cni_expect_ok WHAT: the last plugin call exited 0.
cni_expect_ok() {
	if [ "$CNI_RC" = 0 ]; then
		ok "$1"
		return 0
	fi
	notok "$1" "exit $CNI_RC, stdout: $(echo $CNI_OUT) stderr: $(tail -c 300 "$CNI_ERR" 2>/dev/null)"
	return 1
}

# cni_expect_error WHAT CODE NEEDLE: the last call failed with exit status
# non-zero, a CNI error object on stdout whose code is CODE and whose msg
# (or details) mentions NEEDLE (case-insensitive, a grep -E pattern).
cni_expect_error() {
	local what=$1 code=$2 needle=$3 got msg
	if [ "$CNI_RC" = 0 ]; then
		notok "$what" "expected error code $code, plugin exited 0: $(echo $CNI_OUT)"
		return 1
	fi
	got=$(jq -r '.code // empty' <<<"$CNI_OUT" 2>/dev/null)
	msg=$(jq -r '"\(.msg // "") \(.details // "")"' <<<"$CNI_OUT" 2>/dev/null)
	if [ "$got" != "$code" ]; then
		notok "$what" "expected code $code, got '${got:-none}' (exit $CNI_RC, stdout: $(echo $CNI_OUT))"
		return 1
	fi
	if [ "$(jq -r '.cniVersion // empty' <<<"$CNI_OUT")" = "" ]; then
		notok "$what" "error object has no cniVersion: $CNI_OUT"
		return 1
	fi
	if ! grep -qiE -- "$needle" <<<"$msg"; then
		notok "$what" "code $code ok but message does not mention /$needle/: $msg"
		return 1
	fi
	ok "$what"
}

# ------------------------------------------------------------ assertions

assert_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; return 0; fi
	notok "$1" "expected '$2', got '$3'"
	return 1
}

assert_ne() {
	if [ "$2" != "$3" ]; then ok "$1"; return 0; fi
	notok "$1" "expected anything but '$2'"
	return 1
}

# assert_contains WHAT HAYSTACK NEEDLE (fixed string)
assert_contains() {
	if grep -qF -- "$3" <<<"$2"; then ok "$1"; return 0; fi
	notok "$1" "'$3' not found in: $(echo $2 | cut -c1-300)"
	return 1
}

assert_not_contains() {
	if ! grep -qF -- "$3" <<<"$2"; then ok "$1"; return 0; fi
	notok "$1" "'$3' unexpectedly found in: $(echo $2 | cut -c1-300)"
	return 1
}

# assert_match WHAT STRING ERE
assert_match() {
	if grep -qE -- "$3" <<<"$2"; then ok "$1"; return 0; fi
	notok "$1" "/$3/ does not match: $(echo $2 | cut -c1-300)"
	return 1
}

# assert_cmd WHAT CMD...: the command succeeds.
assert_cmd() {
	local what=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = 0 ]; then ok "$what"; return 0; fi
	notok "$what" "'$*' exited $rc: $(echo $out | cut -c1-300)"
	return 1
}

# assert_fails WHAT CMD...: the command fails.
assert_fails() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		notok "$what" "'$*' succeeded but should not: $(echo $out | cut -c1-200)"
		return 1
	fi
	ok "$what"
}

# assert_eventually WHAT EXPECTED CMD...: CMD's output becomes EXPECTED within
# 3 s.  For interfaces after DEL/GC: leafnet takes the veth down (its routes
# go at once) and lets the kernel's slow veth teardown finish after exiting.
assert_eventually() {
	local what=$1 exp=$2 got n
	shift 2
	for n in $(seq 1 30); do
		got=$("$@" 2>/dev/null)
		if [ "$got" = "$exp" ]; then ok "$what"; return 0; fi
		sleep 0.1
	done
	notok "$what" "expected '$exp' within 3s, got '$(echo $got | cut -c1-300)'"
	return 1
}

# count_lines CMD...: number of non-empty output lines.
count_lines() { "$@" 2>/dev/null | grep -c . ; }

# jqv JSON FILTER: jq -r, empty output on bad JSON.
jqv() { jq -r "$2" <<<"$1" 2>/dev/null; }

# ping_ok WHAT NS DEST: one of three pings within 1s each gets an answer.
ping_ok() {
	assert_cmd "$1" ip netns exec "$2" ping -c 1 -W 1 -w 3 "$3"
}

# --------------------------------------------------------- kernel state

# Host routes leafnet made (proto 76) as "addr dev" lines.
host_routes() {
	{ ip -n "$1" -4 route show proto 76; ip -n "$1" -6 route show proto 76; } 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "dev") print $1, $(i + 1) }'
}

host_veths() {
	ip -n "$1" -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
		grep '^lfn' || true
}
