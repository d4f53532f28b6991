# tests/docker.sh — leafnet-docker helpers for the network-namespace tests.
# Source after tests/lib.sh and t_init:
#
#	dp_start HOSTNS [SOCKET]     plugin in HOSTNS (default socket under $T_TMP)
#	dpost METHOD JSON            POST to the plugin -> $DP_CODE, $DP_OUT
#	dp_expect_ok WHAT            last call: HTTP 200 and no Err/Error
#	dp_expect_err WHAT REGEX     last call: HTTP 200 with Err/Error matching REGEX
#	dp_stop                      SIGTERM (the sanitizer's leak check runs), wait
#
# The plugin's stderr goes to $T_TMP/calls/leafnet-docker.N.err, which
# t_done sweeps for sanitizer reports.

DP_PID=
DP_SOCK=
DP_NS=
DP_CODE=
DP_OUT=
DP_RUNS=0

dp_start() {
	local ns=$1 n
	DP_NS=$ns
	DP_SOCK=${2:-$T_TMP/leafnet-docker.sock}
	DP_RUNS=$((DP_RUNS + 1))
	t_require "$BIN/leafnet-docker" curl
	ip netns exec "$ns" env ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
		"$BIN/leafnet-docker" --config "$T_CONF" --socket "$DP_SOCK" -d \
		2>"$T_TMP/calls/leafnet-docker.$DP_RUNS.err" &
	DP_PID=$!
	t_register_pid "$DP_PID"
	for n in $(seq 1 100); do
		[ -S "$DP_SOCK" ] && return 0
		kill -0 "$DP_PID" 2>/dev/null || break
		sleep 0.05
	done
	bail "leafnet-docker starts" "no socket $DP_SOCK: $(tail -5 "$T_TMP/calls/leafnet-docker.$DP_RUNS.err")"
}

dp_stop() {
	[ -n "$DP_PID" ] || return 0
	kill -TERM "$DP_PID" 2>/dev/null
	wait "$DP_PID" 2>/dev/null
	DP_PID=
}

# dpost METHOD [JSON|@FILE]: METHOD is e.g. NetworkDriver.Join.
dpost() {
	local f
	T_CALLS=$((T_CALLS + 1))
	f=$T_TMP/calls/dpost.$BASHPID.$T_CALLS
	if [ $# -ge 2 ]; then
		DP_CODE=$(curl -s -o "$f" -w '%{http_code}' --max-time 20 --unix-socket "$DP_SOCK" \
			-H 'Content-Type: application/json' --data-binary "$2" "http://plugin/$1")
	else
		DP_CODE=$(curl -s -o "$f" -w '%{http_code}' --max-time 20 --unix-socket "$DP_SOCK" \
			-X POST "http://plugin/$1")
	fi
	DP_OUT=$(cat "$f" 2>/dev/null)
}

dp_err_text() { jq -r '(.Err // .Error // empty)' <<<"$DP_OUT" 2>/dev/null; }

dp_expect_ok() {
	if [ "$DP_CODE" = 200 ] && [ -z "$(dp_err_text)" ] && jq -e . >/dev/null 2>&1 <<<"$DP_OUT"; then
		ok "$1"
		return 0
	fi
	notok "$1" "HTTP $DP_CODE: $(echo $DP_OUT | cut -c1-300)"
	return 1
}

# dp_expect_err WHAT REGEX [CODE]: an error answer (HTTP CODE, default 200)
# whose Err/Error mentions REGEX.
dp_expect_err() {
	local msg
	msg=$(dp_err_text)
	if [ "$DP_CODE" != "${3:-200}" ]; then
		notok "$1" "expected HTTP ${3:-200}, got $DP_CODE: $(echo $DP_OUT | cut -c1-300)"
		return 1
	fi
	if [ -z "$msg" ]; then
		notok "$1" "expected an error, got: $(echo $DP_OUT | cut -c1-300)"
		return 1
	fi
	if ! grep -qiE -- "$2" <<<"$msg"; then
		notok "$1" "error does not mention /$2/: $msg"
		return 1
	fi
	ok "$1"
}

dpj() { jq -r "$@" <<<"$DP_OUT" 2>/dev/null; }

# Every docker/* record the plugin keeps (relative to the state dir).
dp_records() {
	(cd "$T_TMP/state" 2>/dev/null && find docker -type f 2>/dev/null | sort)
}

# dockerd_start HOSTNS: a dockerd of the test's own inside HOSTNS: its own
# --data-root/--exec-root/--pidfile under $DK_DIR and socket $DK_SOCK (set
# both first, and dk()), no iptables, no bridge, vfs; log $T_TMP/dockerd.log.
# Sets DK_PID (registered for the cleanup) and waits up to 30 s for it to
# answer.  0 when it does, 1 when not (the caller bails or skips).
dockerd_start() {
	mkdir -p "$DK_DIR" || return 1
	t_cgroup2 || diag "no cgroup hierarchy and none could be mounted: dockerd may not start"
	nsenter --net="$(nspath "$1")" "$DOCKERD" --data-root "$DK_DIR/data" \
		--exec-root "$DK_DIR/exec" --pidfile "$DK_DIR/docker.pid" -H "unix://$DK_SOCK" \
		--iptables=false --ip6tables=false --ip-masq=false --bridge=none \
		--storage-driver=vfs >"$T_TMP/dockerd.log" 2>&1 &
	DK_PID=$!
	t_register_pid "$DK_PID"
	for _ in $(seq 1 150); do
		dk version >/dev/null 2>&1 && return 0
		kill -0 "$DK_PID" 2>/dev/null || break
		sleep 0.2
	done
	dk version >/dev/null 2>&1
}
