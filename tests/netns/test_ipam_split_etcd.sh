#!/bin/bash
# Nested blocks on a real etcd: tests/unit/test_ipam_split's store cases
# (a node without a free block gets nested blocks, the owner keeps out of
# them; the split claim's txn loses to an overlapping claim or an
# allocation inside, and marks the parent "lent") run against an etcd
# (Debian etcd-server) in its own namespace, on loopback there.
. "$(dirname "$0")/../lib.sh"
t_init
t_require etcd curl
UNIT=${LEAFNET_TEST_IPAM_SPLIT:-$BIN/../tests/test_ipam_split}
[ -x "$UNIT" ] || bail "unit test_ipam_split" "$UNIT not built (make check)"

PORT=$((20000 + RANDOM % 20000))
PEER_PORT=$((PORT + 1))
LOCAL=http://127.0.0.1:$PORT
mkns E
ip netns exec "$E" etcd --name lfs --data-dir "$T_TMP/etcd" \
	--listen-client-urls "$LOCAL" --advertise-client-urls "$LOCAL" \
	--listen-peer-urls "http://127.0.0.1:$PEER_PORT" \
	--initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
	--initial-cluster "lfs=http://127.0.0.1:$PEER_PORT" >"$T_TMP/etcd.out" 2>&1 &
ETCD_PID=$!
t_register_pid "$ETCD_PID"
for _ in $(seq 1 100); do
	ip netns exec "$E" curl -sf -m 1 "$LOCAL/health" >/dev/null 2>&1 && break
	kill -0 "$ETCD_PID" 2>/dev/null || bail "etcd start" "exited: $(tail -3 "$T_TMP/etcd.out")"
	sleep 0.1
done
ip netns exec "$E" curl -sf -m 1 "$LOCAL/health" >/dev/null || bail "etcd start" "not healthy after 10 s"

log=$T_TMP/calls/test_ipam_split.out
ip netns exec "$E" env CMOCKA_MESSAGE_OUTPUT=stdout LEAFNET_TEST_ETCD="$LOCAL" \
	ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
	timeout -k 5 180 "$UNIT" >"$log" 2>&1
rc=$?
sed -n '/Running 6 test/,$p' "$log" >"$log.etcd"
for name in test_split_alloc test_claim_races test_claim_marked test_owner_vs_splits \
	test_borrow_nested test_blocks_many; do
	if grep -qF "[       OK ] $name" "$log.etcd"; then
		ok "on etcd: $name"
	else
		notok "on etcd: $name" "$(grep -A3 -F "$name" "$log.etcd" | grep -iE 'fail|error' | head -2 | tr '\n' ' ')"
	fi
done
assert_eq "unit test_ipam_split exits 0 (file store and etcd)" 0 "$rc"
grep -qE "$SAN_PATTERN" "$log" && notok "no sanitizer report" "$log"
kill -TERM "$ETCD_PID" 2>/dev/null
wait "$ETCD_PID" 2>/dev/null
t_done
