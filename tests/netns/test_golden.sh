#!/bin/bash
# Golden tests of `leafnetd -n`: for each tests/golden/leafnetd/NAME.in (a
# leafnet.conf fragment plus netctl commands run against a fresh state dir,
# format in tests/golden/leafnetd/README) the normalized configuration
# leafnetd prints must equal NAME.ok (stdout only, the temp dir replaced by
# @DIR@); a difference is shown as a unified diff.  Cases marked "fail: yes"
# must be refused, with stderr matching their "stderr:" pattern.
#
# GOLDEN_UPDATE=1 (`make golden-update`) rewrites the .ok files instead.
#
# No network namespace of ours is needed: leafnetd -n runs under
# `unshare -n` (an empty, anonymous one) only so that the router-ID and
# next-hop fallbacks find no host address, whatever the machine has.
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/leafnetd" "$BIN/netctl" unshare diff

GOLDEN_DIR=$T_ROOT/tests/golden/leafnetd
UPDATE=${GOLDEN_UPDATE:-0}

# golden_case IN: run one scenario.
golden_case() {
	local in=$1 name dir key val line conf='{}' fail=no rc out err
	local -a stderr_res=() lacks=() cmds=() records=()

	name=$(basename "$in" .in)
	dir=$T_TMP/cases/$name
	mkdir -p "$dir/state" || bail "$name: mkdir $dir"
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in ''|'#'*) continue ;; esac
		key=${line%%:*}
		val=${line#*:}
		val=${val# }
		case $key in
		conf)         conf=$val ;;
		netctl)       cmds+=("$val") ;;
		store)        records+=("$val") ;;
		fail)         fail=$val ;;
		stderr)       stderr_res+=("$val") ;;
		stdout-lacks) lacks+=("$val") ;;
		*)            notok "$name" "$in: unknown directive '$key' (see $GOLDEN_DIR/README)"
			      return ;;
		esac
	done <"$in"

	if ! jq -n --arg dir "$dir/state" --argjson c "$conf" \
		'{state_dir: $dir, node_name: "node1", fsync: false} + $c' \
		>"$dir/leafnet.conf" 2>"$dir/jq.err"; then
		notok "$name" "conf: is not a JSON object: $(cat "$dir/jq.err")"
		return
	fi
	for line in "${cmds[@]}"; do
		T_CALLS=$((T_CALLS + 1))
		err=$T_TMP/calls/netctl.$name.$T_CALLS.err
		# shellcheck disable=SC2086  # the case file's words, on purpose
		LEAFNET_CONF=$dir/leafnet.conf timeout -k 2 20 "$BIN/netctl" $line \
			>"$dir/netctl.out" 2>"$err"
		rc=$?
		if [ "$rc" != 0 ]; then
			notok "$name" "setup 'netctl $line' exited $rc: $(cat "$err")"
			return
		fi
	done
	for line in "${records[@]}"; do
		key=${line%% *}
		if ! mkdir -p "$(dirname "$dir/state/$key")" ||
		   ! printf '%s\n' "${line#* }" >"$dir/state/$key"; then
			bail "$name" "cannot write store record $key"
		fi
	done

	err=$T_TMP/calls/leafnetd.$name.err
	timeout -k 2 20 unshare -n "$BIN/leafnetd" -n --config "$dir/leafnet.conf" \
		>"$dir/raw.out" 2>"$err"
	rc=$?
	sed "s|$dir|@DIR@|g" "$dir/raw.out" >"$dir/out"
	out=$(cat "$dir/out")

	if [ "$fail" = yes ]; then
		if [ "$rc" = 0 ]; then
			notok "$name: refused" "leafnetd -n exited 0; stdout: $out"
		else
			ok "$name: refused (exit $rc)"
		fi
		[ -e "$GOLDEN_DIR/$name.ok" ] &&
			notok "$name: no .ok" "a 'fail: yes' case has no golden output; remove $name.ok"
	elif [ "$rc" != 0 ]; then
		notok "$name: leafnetd -n" "exited $rc: $(cat "$err")"
		return
	elif [ "$UPDATE" = 1 ]; then
		cp "$dir/out" "$GOLDEN_DIR/$name.ok" || bail "$name" "cannot write $name.ok"
		ok "$name: $name.ok updated"
	elif [ ! -f "$GOLDEN_DIR/$name.ok" ]; then
		notok "$name: golden" "$name.ok missing (make golden-update, then review it)"
	elif diff -u --label "$name.ok" --label "leafnetd -n" \
		"$GOLDEN_DIR/$name.ok" "$dir/out" >"$dir/diff"; then
		ok "$name: output matches $name.ok"
	else
		notok "$name: golden" "output differs from $name.ok (diff below; make golden-update if intended)"
		sed 's/^/# /' "$dir/diff" >&2
	fi

	for line in "${stderr_res[@]}"; do
		if grep -qE -- "$line" "$err"; then
			ok "$name: stderr matches /$line/"
		else
			notok "$name: stderr" "no match for /$line/ in: $(cat "$err")"
		fi
	done
	for line in "${lacks[@]}"; do
		if grep -qF -- "$line" "$dir/raw.out" "$err"; then
			notok "$name: '$line' nowhere in stdout/stderr" "leafnetd printed it"
		else
			ok "$name: '$line' nowhere in stdout/stderr"
		fi
	done
}

shopt -s nullglob
cases=("$GOLDEN_DIR"/*.in)
[ ${#cases[@]} -gt 0 ] || bail "golden cases" "none in $GOLDEN_DIR"
for c in "${cases[@]}"; do
	golden_case "$c"
done
t_done
