#!/bin/bash
# bench/cluster_bench cannot rot: run it in quick mode (3 hosts on one
# etcd, 2 pods a host, the three topologies: node mesh, two BIRD route
# reflectors, two leafnetd reflectors; 4 pods a host for the ToR-side
# counts) and check that its figures are sane, not fast:
#
#   - every topology: every host's sessions Established (mesh 2 a host,
#     reflector clients 2, each leafnetd reflector the 2 others), at most
#     as late as the poll saw them, no flap,
#     every host routing every other host's pods via their owner, no ADD
#     failed for good, 3/3 leafnetd alive, RSS and CPU plausible, etcd's
#     idle request rate a number;
#   - the reflector's table: the aggregated network is one route per host
#     (3 blocks for 12 pods), --no-aggregate one per pod (12), and the
#     pool of one /26 block shared by 3 hosts shows borrowed /32s;
#   - the table is printed, and the bench left nothing behind: none of
#     its namespaces, no process under its temp dir.
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" "$BIN/leafnetd" "$(dirname "$BIN")/bench/nodebench" \
	etcd bird birdc curl

OUT=$T_TMP/bench.out
bash "$T_ROOT/bench/cluster_bench" --quick --build "$(dirname "$BIN")" >"$OUT" 2>"$T_TMP/bench.err" &
BPID=$!
t_register_pid "$BPID"
wait "$BPID"
RC=$?
assert_eq "cluster_bench --quick exits 0" 0 "$RC"
if [ "$RC" != 0 ]; then
	tail -15 "$T_TMP/bench.err" | sed 's/^/#   /' >&2
	grep '^not ok' "$OUT" | head -5 | sed 's/^/#   /' >&2
fi
BTMP=$(sed -n 's/^# cluster_bench: temp dir //p' "$T_TMP/bench.err" | head -1)

# val TOPO KEY: KEY's value in the "# result" line of TOPO (tor: the ToR line)
val() {
	local sel="topo=$1 "
	[ "$1" = tor ] && sel="tor=1 "
	grep '^# result ' "$OUT" | grep -F -- "$sel" | head -1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
# in_range WHAT VALUE LO HI: LO <= VALUE <= HI (decimals allowed)
in_range() {
	if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v ~ /^[0-9.]+$/ && v + 0 >= lo && v + 0 <= hi) }'; then
		ok "$1 ($2)"
	else
		notok "$1" "'$2' not within [$3, $4]"
	fi
}

for topo in mesh bird ldrr; do
	assert_ne "$topo: a result line" "" "$(val "$topo" n)"
	assert_eq "$topo: 3 hosts" 3 "$(val "$topo" n)"
	assert_eq "$topo: every host's sessions Established" 3 "$(val "$topo" est_reached)"
	in_range "$topo: time to Established (ms) measured" "$(val "$topo" est_ms)" 0 60000
	# leafnetd's own Established moment is before the poll that saw it
	in_range "$topo: ... at most the polled figure (poll - since_ms, ms)" \
		"$(awk -v e="$(val "$topo" est_ms)" -v p="$(val "$topo" est_poll_ms)" \
			'BEGIN { if (e ~ /^[0-9]+$/ && p ~ /^[0-9]+$/) print p - e; else print "none" }')" 0 60000
	assert_eq "$topo: every host routes every other host's pods" 3 "$(val "$topo" conv_reached)"
	in_range "$topo: first ADD -> routes everywhere (ms) measured" "$(val "$topo" conv_ms)" 1 60000
	in_range "$topo: ADD wall (ms) measured" "$(val "$topo" add_ms)" 1 60000
	assert_eq "$topo: no host's ADDs failed for good" 0 "$(val "$topo" add_failed)"
	in_range "$topo: ADD retries counted" "$(val "$topo" add_retried)" 0 60
	assert_eq "$topo: 2 sessions a host on average" 2.0 "$(val "$topo" sess_mean)"
	assert_eq "$topo: no session flapped" 0 "$(val "$topo" flaps)"
	assert_eq "$topo: every leafnetd alive at the end" 3 "$(val "$topo" alive)"
	in_range "$topo: leafnetd RSS (MB)" "$(val "$topo" rss_max_mb)" 1 500
	in_range "$topo: leafnetd CPU (s)" "$(val "$topo" cpu_max_s)" 0 120
	in_range "$topo: etcd idle requests/s" "$(val "$topo" etcd_rps)" 0 10000
done
# conv_ms counts from the first ADD: never before the ADDs returned
c=$(val mesh conv_ms); a=$(val mesh add_ms)
in_range "mesh: routes everywhere no earlier than the last ADD returned" "$((c - a))" 0 60000

assert_eq "ToR: 4 pods a host" 4 "$(val tor pods_per_host)"
assert_eq "ToR: aggregated -> one route per host (3 blocks)" 3 "$(val tor agg_routes)"
assert_eq "ToR: --no-aggregate -> one route per pod (12)" 12 "$(val tor noagg_routes)"
tp=$(val tor tight_pods_per_host)
in_range "ToR: the tight pool got pods" "$tp" 1 64
in_range "ToR: tight pool (one /26 for 3 hosts) -> borrowed /32s" "$(val tor tight_32s)" 1 $((3 * tp))
in_range "ToR: ... and at most one route per pod in it" "$(val tor tight_routes)" "$(val tor tight_32s)" $((3 * tp))
assert_eq "ToR: no ADD failed for good" "0 0" "$(val tor flat_failed) $(val tor tight_failed)"
in_range "ToR: the roomy pool's ADDs (the tight pool's reference) were timed" "$(val tor roomy_add_ms)" 1 600000

assert_match "the table's header" "$(cat "$OUT")" 'estab s +ADDs s +retries'
assert_match "the table: a mesh row for N=3" "$(cat "$OUT")" $'\n3 +mesh +[0-9.]+ '
assert_match "the ToR table: a row for N=3" "$(cat "$OUT")" $'\n3 +3 +12 +4x '

assert_ne "the bench named its temp dir" "" "$BTMP"
assert_eq "no namespace of the bench left" "" \
	"$(ip netns list | awk '{ print $1 }' | grep -E "^(lft-cluster_bench-$BPID-|lfcb-$BPID-)" | head -3 | xargs)"
[ -n "$BTMP" ] && assert_eq "no process of the bench left (etcd, BIRD, leafnetd)" "" \
	"$(pgrep -f "$BTMP/" | xargs)"
t_done
