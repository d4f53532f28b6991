#!/bin/bash
# bench/etcd_bench cannot rot: run it in quick mode (4 hosts on one etcd,
# 5 ADDs a host at once, 20 on the file store; a one-/26 pool 78 % full)
# and check that its output is well formed and its correctness figures
# hold, not that it is fast:
#
#   - every phase (etcd ADD, file ADD, etcd DEL, file DEL, the tight
#     pool's ADD) has a result line with its call count, a wall time and
#     latencies, no call failed for good;
#   - 0 duplicate addresses (the ADD results of every host, and the
#     allocations in the store), 0 lock keys left in etcd, every allocation
#     gone from etcd after the DELs;
#   - etcd's requests per ADD and per DEL were counted (some Txn or Put),
#     and those of single calls alone (claiming a block, inside it, a DEL),
#     the ratio and its PASS/FAIL printed, the borrowed share a percentage;
#   - the table is printed, and the bench left nothing behind: none of its
#     namespaces, no etcd under its temp dir.
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" "$(dirname "$BIN")/bench/etcdbench" \
	"$(dirname "$BIN")/bench/nodebench" etcd etcdctl curl

OUT=$T_TMP/bench.out
bash "$T_ROOT/bench/etcd_bench" --quick --build "$(dirname "$BIN")" >"$OUT" 2>"$T_TMP/bench.err" &
BPID=$!
t_register_pid "$BPID"
wait "$BPID"
RC=$?
assert_eq "etcd_bench --quick exits 0" 0 "$RC"
if [ "$RC" != 0 ]; then
	tail -15 "$T_TMP/bench.err" | sed 's/^/#   /' >&2
	grep '^not ok' "$OUT" | head -5 | sed 's/^/#   /' >&2
fi
BTMP=$(sed -n 's/^# etcd_bench: temp dir //p' "$T_TMP/bench.err" | head -1)

# val SEL KEY: KEY's value in the first "# result" line holding SEL
val() {
	grep '^# result ' "$OUT" | grep -F -- "$1 " | head -1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
in_range() {
	if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v ~ /^[0-9.]+$/ && v + 0 >= lo && v + 0 <= hi) }'; then
		ok "$1 ($2)"
	else
		notok "$1" "'$2' not within [$3, $4]"
	fi
}

for p in c.add:1:1 s.add:1:1 s.del:1:1 c.del:1:1 e.add:4:20 f.add:1:20 e.del:4:20 f.del:1:20 t.add:4:48; do
	IFS=: read -r ph hosts n <<<"$p"
	assert_ne "$ph: a result line" "" "$(val "phase=$ph" cmd)"
	assert_eq "$ph: $hosts host(s)" "$hosts" "$(val "phase=$ph" hosts)"
	assert_eq "$ph: $n calls" "$n" "$(val "phase=$ph" n)"
	in_range "$ph: wall (ms) measured" "$(val "phase=$ph" wall)" 0.1 120000
	in_range "$ph: p50 (ms) measured" "$(val "phase=$ph" p50)" 0.1 120000
	in_range "$ph: p99 >= p50" "$(awk -v a="$(val "phase=$ph" p99)" -v b="$(val "phase=$ph" p50)" 'BEGIN { print a - b }')" 0 120000
	assert_eq "$ph: no call failed for good" 0 "$(val "phase=$ph" failed)"
done
for ph in e.add f.add t.add; do
	n=$(val "phase=$ph" n)
	assert_eq "$ph: an address from every ADD" "$n" "$(val "phase=$ph" addrs)"
	assert_eq "$ph: no duplicate address" 0 "$(val "phase=$ph" dups)"
done
assert_eq "summary: 0 duplicates (results and store)" 0 "$(val summary=1 dups)"
assert_eq "summary: 0 lock keys left in etcd" 0 "$(val summary=1 locks_left)"
assert_eq "summary: etcd holds one allocation per ADD" 20 "$(val summary=1 store_allocs)"
assert_eq "summary: ... all distinct" 20 "$(val summary=1 store_distinct)"
assert_eq "summary: the DELs freed every allocation" 0 "$(val summary=1 left_after_del)"
in_range "summary: etcd/file wall ratio" "$(val summary=1 ratio_wall)" 0.01 100000
assert_match "summary: a verdict" "$(val summary=1 verdict)" '^(PASS|FAIL)$'
assert_eq "tight: a /26 pool" /26 "$(val summary=1 tight_pool)"
assert_eq "tight: 48 pods in it" 48 "$(val summary=1 tight_used)"
in_range "tight: borrowed share (%)" "$(val summary=1 tight_borrowed_pct)" 0 100
in_range "tight: pool ~78 % full" "$(val summary=1 tight_fill_pct)" 70 85
in_range "etcd requests per ADD (total)" "$(val per_add total)" 1 100000
in_range "etcd writes per ADD (Txn + Put)" "$(awk -v a="$(val per_add Txn)" -v b="$(val per_add Put)" 'BEGIN { print a + b }')" 0.5 100000
in_range "etcd requests per DEL (total)" "$(val per_del total)" 1 100000
in_range "etcd requests of one ADD alone, in its block (total)" "$(val alone_per_add total)" 1 1000
in_range "etcd requests of one ADD claiming a block (total)" "$(val claim_per_add total)" 1 1000
in_range "etcd requests of one DEL alone (total)" "$(val alone_per_del total)" 1 1000
assert_match "the uncontended lines" "$(cat "$OUT")" 'one ADD alone \(h1, no contention\), in its block: .*total='


assert_match "the table: the header" "$(cat "$OUT")" 'etcd \(4 hosts\) +file \(1 host\) +etcd/file'
assert_match "the table: ADD wall row" "$(cat "$OUT")" 'ADD wall ms +[0-9.]+ +[0-9.]+ +[0-9.]+'
assert_match "the table: duplicates row" "$(cat "$OUT")" 'duplicate addresses \(must be 0\) +0 +0'
assert_match "the ratio line" "$(cat "$OUT")" 'etcd/file ADD wall: [0-9.]+ \(target <= 2\): (PASS|FAIL)'
assert_match "the borrowed line" "$(cat "$OUT")" 'borrowed \(advertised as /32\): [0-9]+ of 48 pods = [0-9.]+ % \(target <= 10 %\): (PASS|FAIL)'
grep -qE "$SAN_PATTERN" "$T_TMP/bench.err" && notok "no sanitizer report in the bench's output" "see $T_TMP/bench.err"

# The duplicate check itself can fail: a stand-in plugin (a script, not
# leafnet) that gives every container the same address, 3 calls from 2
# hosts -> etcdbench counts 2 duplicates and names them.
mkns FH1; mkns FH2
cat >"$T_TMP/sameaddr" <<'EOS'
#!/bin/sh
cat >/dev/null
printf '{"cniVersion":"1.0.0","ips":[{"address":"10.77.0.1/32"}]}\n'
EOS
chmod +x "$T_TMP/sameaddr"
echo '{}' >"$T_TMP/empty.json"
"$(dirname "$BIN")/bench/etcdbench" --plugin "$T_TMP/sameaddr" --conf "$T_TMP/empty.json" --cmd ADD \
	--host "$FH1|/nonexistent|none|a|2" --host "$FH2|/nonexistent|none|b|1" \
	>"$T_TMP/dup.out" 2>"$T_TMP/dup.err"
assert_match "etcdbench counts duplicate addresses (stand-in plugin: one address for all)" \
	"$(cat "$T_TMP/dup.out")" 'n=3 .* addrs=3 unique=1 dups=2$'
assert_match "... and names them" "$(cat "$T_TMP/dup.err")" 'DUPLICATE address 10\.77\.0\.1: '

assert_ne "the bench named its temp dir" "" "$BTMP"
assert_eq "no namespace of the bench left" "" \
	"$(ip netns list | awk '{ print $1 }' | grep -E "^(lft-etcd_bench-$BPID-|lfeb-$BPID-)" | head -3 | xargs)"
[ -n "$BTMP" ] && assert_eq "no process of the bench left (etcd)" "" "$(pgrep -f "$BTMP/" | xargs)"
t_done
