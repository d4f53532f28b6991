#!/bin/bash
# test_etcd_transport.sh — the etcd store's two HTTP clients: libevent's
# evhttp (http:// endpoints, the default) and libcurl (https://, or
# LEAFNET_ETCD_TRANSPORT=curl), each against a real etcd and against
# servers that misbehave, all inside one namespace of the test's own:
#
#  1. which library a process loads (LD_DEBUG): libevent and not libcurl
#     for http://, libcurl when forced; a bad LEAFNET_ETCD_TRANSPORT is
#     refused naming it;
#  2. per transport, netctl against: a dead first endpoint (refused) and a
#     black-holed one (no ARP answer on a veth: the connect timeout)
#     before the live etcd: the request falls over and succeeds; only a
#     dead endpoint: "Connection refused" naming it and the request; a
#     listener that accepts and never answers: fails after the request's
#     budget (ETCD_TOTAL_MS, 1.5 s), "timed out", not sooner, not much
#     later; an answer declaring 70 MiB (ETCD_RESP_MAX is 64): refused, no
#     crash; garbage instead of HTTP: a clear error naming the endpoint;
#  3. test_store's etcd group through libcurl (test_etcd.sh runs it through
#     the default, evhttp).
. "$(dirname "$0")/../lib.sh"

t_init
t_require etcd curl python3 "$BIN/netctl"
UNIT=${LEAFNET_TEST_STORE:-$BIN/../tests/test_store}
PORT=$((20000 + RANDOM % 20000))
PEER_PORT=$((PORT + 1))
SILENT_PORT=$((PORT + 2))
BIG_PORT=$((PORT + 3))
GARBAGE_PORT=$((PORT + 4))
DEAD_PORT=$((PORT + 5))

mkns E
LOCAL=http://127.0.0.1:$PORT
ip netns exec "$E" etcd --name lftx --data-dir "$T_TMP/etcd" \
	--listen-client-urls "$LOCAL" --advertise-client-urls "$LOCAL" \
	--listen-peer-urls "http://127.0.0.1:$PEER_PORT" \
	--initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
	--initial-cluster "lftx=http://127.0.0.1:$PEER_PORT" \
	>"$T_TMP/etcd.out" 2>&1 &
ETCD_PID=$!
t_register_pid "$ETCD_PID"

# the misbehaving servers: one python process each, on loopback in E
cat >"$T_TMP/fake.py" <<'EOF'
import socket, sys, threading
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
def serve(c):
    try:
        if mode == "silent":          # read the request, never answer
            while c.recv(65536):
                pass
            return
        c.recv(65536)
        if mode == "garbage":
            c.sendall(b"\x00\x01<html>this is not an HTTP answer\r\n\r\n")
        elif mode == "big":           # declares 70 MiB and sends it
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % (70 << 20))
            chunk = b" " * 65536
            for _ in range(70 * 16):
                c.sendall(chunk)
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
for m in silent:$SILENT_PORT big:$BIG_PORT garbage:$GARBAGE_PORT; do
	ip netns exec "$E" python3 "$T_TMP/fake.py" "${m%%:*}" "${m#*:}" \
		>"$T_TMP/fake.${m%%:*}.out" 2>&1 &
	t_register_pid $!
done
# 10.253.0.2 is on a veth whose other end (in B) has no address: nobody
# answers ARP, the SYN never leaves, the connect hangs (the neighbour
# entry fails after ~3 s, later than ETCD_CONNECT_MS)
mkns B
BH_A=lfbh$$ BH_B=lfbb$$
BH_A=${BH_A:0:15} BH_B=${BH_B:0:15}
ip -n "$E" link add "$BH_A" type veth peer name "$BH_B" netns "$B" || bail "veth to the black hole"
ip -n "$E" addr add 10.253.0.1/24 dev "$BH_A" || bail "black hole address"
ip -n "$E" link set "$BH_A" up && ip -n "$B" link set "$BH_B" up || bail "black hole up"
BLACKHOLE=http://10.253.0.2:$PORT

for _ in $(seq 1 100); do
	ip netns exec "$E" curl -sf -m 1 "$LOCAL/health" >/dev/null 2>&1 && break
	kill -0 "$ETCD_PID" 2>/dev/null || bail "etcd start" "exited: $(tail -3 "$T_TMP/etcd.out")"
	sleep 0.1
done
ip netns exec "$E" curl -sf -m 1 "$LOCAL/health" >/dev/null || bail "etcd start" "not healthy after 10 s"
for p in $SILENT_PORT $BIG_PORT $GARBAGE_PORT; do
	for _ in $(seq 1 50); do
		[ -n "$(ip netns exec "$E" ss -ltnH "sport = :$p")" ] && break
		sleep 0.1
	done
	[ -n "$(ip netns exec "$E" ss -ltnH "sport = :$p")" ] || bail "fake server on $p" "not listening"
done
ok "etcd and the fake servers up in $E (port $PORT)"

# econf FILE ENDPOINTS
econf() {
	jq --arg ep "$2" '.datastore = "etcd" | .etcd_endpoints = $ep' "$T_CONF" >"$1" || bail "config $1"
}
# tctl TRANSPORT ENDPOINTS ARGS...: netctl in E; NCTL_RC/OUT/ERR, NCTL_MS
tctl() {
	local tr=$1 ep=$2 f t0
	shift 2
	T_CALLS=$((T_CALLS + 1))
	f=$T_TMP/calls/netctl.$T_CALLS
	econf "$f.conf" "$ep"
	t0=$(date +%s%N)
	ip netns exec "$E" env LEAFNET_CONF="$f.conf" LEAFNET_ETCD_TRANSPORT="$tr" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
		timeout -k 2 30 "$BIN/netctl" "$@" >"$f.out" 2>"$f.err"
	NCTL_RC=$?
	NCTL_MS=$((($(date +%s%N) - t0) / 1000000))
	NCTL_OUT=$(cat "$f.out")
	NCTL_ERR=$(cat "$f.err")
}

# ------------------------------------------------ 1. which library is loaded

tctl "" "$LOCAL" network create tnet --subnet=10.77.0.0/24
assert_eq "network create through the default transport" 0 "$NCTL_RC" || diag "$NCTL_ERR"
libs() {	# libs TRANSPORT: the shared objects netctl dlopen()s
	econf "$T_TMP/ld.conf" "$LOCAL"
	ip netns exec "$E" env LEAFNET_CONF="$T_TMP/ld.conf" LEAFNET_ETCD_TRANSPORT="$1" \
		LD_DEBUG=files ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
		"$BIN/netctl" network ls 2>&1 >/dev/null |
		sed -n 's/.*file=\([^ ]*\) .*dynamically loaded.*/\1/p' | sort -u | tr '\n' ' '
}
L=$(libs "")
assert_contains "http:// endpoint: libevent is loaded" "$L" "libevent-2.1.so.7"
assert_not_contains "http:// endpoint: libcurl is not loaded" "$L" "libcurl"
L=$(libs curl)
assert_contains "LEAFNET_ETCD_TRANSPORT=curl: libcurl is loaded" "$L" "libcurl.so.4"
assert_not_contains "LEAFNET_ETCD_TRANSPORT=curl: libevent is not loaded" "$L" "libevent"
tctl bogus "$LOCAL" network ls
assert_ne "LEAFNET_ETCD_TRANSPORT=bogus is refused" 0 "$NCTL_RC"
assert_contains "... naming it (stderr or the log)" "$NCTL_ERR $(cat "$T_TMP/leafnet.log" 2>/dev/null)" \
	"LEAFNET_ETCD_TRANSPORT=\"bogus\""

# ------------------------------------------------ 2. each transport

for tr in evhttp curl; do
	tctl "$tr" "http://127.0.0.1:$DEAD_PORT, $LOCAL" network ls -o json
	assert_eq "$tr: refused first endpoint: the next one answers" "tnet" \
		"$(jqv "$NCTL_OUT" '.[].name' | tr '\n' ' ' | sed 's/ $//')" || diag "$NCTL_ERR"

	# a neighbour entry left FAILED by the last try would make the
	# connect fail at once (unreachable) instead of hanging
	ip -n "$E" neigh flush dev "$BH_A" 2>/dev/null
	tctl "$tr" "$BLACKHOLE, $LOCAL" network ls -o json
	assert_eq "$tr: black-holed first endpoint: the next one answers" "tnet" \
		"$(jqv "$NCTL_OUT" '.[].name' | tr '\n' ' ' | sed 's/ $//')" || diag "$NCTL_ERR"
	# the connect gives up after ETCD_CONNECT_MS (1 s); the process's
	# start and the second request are milliseconds
	assert_match "$tr: ... after the connect timeout (~1 s: ${NCTL_MS} ms)" "$NCTL_MS" \
		'^(9[0-9][0-9]|1[0-9][0-9][0-9]|2[0-9][0-9][0-9])$'

	tctl "$tr" "http://127.0.0.1:$DEAD_PORT" network ls
	assert_ne "$tr: only a dead endpoint: fails" 0 "$NCTL_RC"
	assert_contains "$tr: ... Connection refused, naming the endpoint" "$NCTL_ERR" \
		"etcd http://127.0.0.1:$DEAD_PORT: Connection refused"
	assert_match "$tr: ... and the request" "$NCTL_ERR" '\((list|get) [^)]*\)'

	tctl "$tr" "http://127.0.0.1:$SILENT_PORT" network ls
	assert_ne "$tr: a listener that never answers: fails" 0 "$NCTL_RC"
	assert_contains "$tr: ... timed out, naming the endpoint" "$NCTL_ERR" \
		"etcd http://127.0.0.1:$SILENT_PORT: Connection timed out"
	# the request's budget is ETCD_TOTAL_MS (1.5 s); the fast-fail keeps
	# the rest of the command from waiting again
	assert_match "$tr: ... after the request's 1.5 s budget, once (${NCTL_MS} ms)" "$NCTL_MS" \
		'^(1[4-9][0-9][0-9]|2[0-9][0-9][0-9]|3[0-4][0-9][0-9])$'

	tctl "$tr" "http://127.0.0.1:$BIG_PORT" network ls
	assert_match "$tr: a 70 MiB answer is refused (exit 1, no crash)" "$NCTL_RC" '^1$'
	assert_contains "$tr: ... naming the endpoint" "$NCTL_ERR" "etcd http://127.0.0.1:$BIG_PORT:"
	if [ "$tr" = evhttp ]; then
		assert_contains "$tr: ... as too large" "$NCTL_ERR" "larger than 64 MiB"
	else
		assert_match "$tr: ... as too large (curl: a write refused)" "$NCTL_ERR" \
			'[Ff]ailure writing|[Ww]rite'
	fi

	tctl "$tr" "http://127.0.0.1:$GARBAGE_PORT" network ls
	assert_match "$tr: garbage instead of HTTP: fails (exit 1, no crash)" "$NCTL_RC" '^1$'
	assert_contains "$tr: ... naming the endpoint" "$NCTL_ERR" "etcd http://127.0.0.1:$GARBAGE_PORT:"
	diag "$tr garbage: $NCTL_ERR"
	[ "$tr" = evhttp ] && assert_contains "$tr: ... saying it is not HTTP" "$NCTL_ERR" "not HTTP"

	# the fake servers did not keep etcd from working afterwards
	tctl "$tr" "$LOCAL" network inspect tnet -o json
	assert_eq "$tr: inspect through the live etcd" "tnet" "$(jqv "$NCTL_OUT" .name)" || diag "$NCTL_ERR"
done

# ------------------------------------------------ 3. the unit suite via curl

if [ -x "$UNIT" ]; then
	log=$T_TMP/calls/test_store_curl.err
	ip netns exec "$E" env CMOCKA_MESSAGE_OUTPUT=stdout LEAFNET_TEST_ETCD="$LOCAL" \
		LEAFNET_ETCD_TRANSPORT=curl \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
		timeout -k 5 180 "$UNIT" >"$log" 2>&1
	rc=$?
	assert_eq "unit test_store (etcd group included) through libcurl exits 0" 0 "$rc" ||
		diag "$(grep -E 'FAILED|fail' "$log" | head -5)"
	assert_contains "... the etcd group ran" "$(cat "$log")" "[       OK ] test_etcd_failover"
else
	notok "unit test_store" "$UNIT not built (make)"
fi

t_done
