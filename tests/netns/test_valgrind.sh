#!/bin/bash
# Memcheck over the plugin's whole life: CNI ADD, CHECK, DEL (v4 + v6,
# a second interface, a repeated DEL) under valgrind --leak-check=full:
# no error (uninitialised bytes sent to the kernel count) and no definite
# or indirect leak, in the plugin and in the child DEL forks.  Then
# leafnetd under memcheck holding a session with a BIRD ToR that sends it
# 10,000 routes (installed in the kernel, withdrawn, installed again),
# advertising a workload route, and stopped with SIGTERM.
# Runs in the plain pass only (valgrind and ASan do not mix).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
case $BIN in
*-san/*) ok "skipped in the sanitizer pass (valgrind runs in the plain one)"; t_done ;;
esac
t_require "$BIN/leafnet" "$BIN/netctl" valgrind

mkhost H
mkcontainer C1
nctl_ok "network" network create public --subnet=10.61.0.0/24 --subnet=fd00:61::/64
cni_conf public

VG=$T_TMP/vg-leafnet
cat >"$VG" <<EOS
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect --track-origins=yes --child-silent-after-fork=no \
	--log-file=$T_TMP/calls/valgrind.%p.log -q $BIN/leafnet "\$@"
EOS
chmod +x "$VG"
export CNI_PLUGIN=$VG

vg_clean() {
	local logs
	logs=$(grep -l . "$T_TMP"/calls/valgrind.*.log 2>/dev/null)
	if [ -z "$logs" ]; then
		ok "$1: memcheck clean"
	else
		notok "$1: memcheck clean" "reports in $(echo $logs)"
		head -40 $logs | sed 's/^/# /' >&2
		rm -f $logs
	fi
}

cni_add "$H" vg1 "$C1" eth0
assert_eq "ADD under valgrind exits 0" 0 "$CNI_RC"
assert_eq "ADD gave two addresses" 2 "$(jq '.ips | length' <<<"$CNI_OUT" 2>/dev/null)"
vg_clean ADD
cni_add "$H" vg1 "$C1" net1
assert_eq "ADD of a second interface exits 0" 0 "$CNI_RC"
vg_clean "second ADD"
CNI_CONF=$(jq -c --argjson prev "$CNI_OUT" '. + {prevResult: $prev}' <<<"$CNI_CONF")
cni_check "$H" vg1 "$C1" net1
assert_eq "CHECK under valgrind exits 0" 0 "$CNI_RC"
vg_clean CHECK
cni_conf public
cni_del "$H" vg1 "$C1" net1
assert_eq "DEL net1 exits 0" 0 "$CNI_RC"
cni_del "$H" vg1 "$C1" eth0
assert_eq "DEL eth0 exits 0" 0 "$CNI_RC"
cni_del "$H" vg1 "$C1" eth0
assert_eq "a repeated DEL exits 0" 0 "$CNI_RC"
assert_eventually "no veth left" "" host_veths "$H"
vg_clean DEL
cni_conf public 1.1.0
cni "$H" STATUS - - -
assert_eq "STATUS exits 0" 0 "$CNI_RC"
vg_clean STATUS
unset CNI_PLUGIN

# ------------------------------------------- leafnetd with 10,000 routes
t_require "$BIN/leafnetd" bird birdc
mkns TOR
ip link add lv-n$$ netns "$H" type veth peer name lv-t$$ netns "$TOR" || bail "veth node <-> ToR"
ip -n "$H" link set lv-n$$ name uplink && ip -n "$TOR" link set lv-t$$ name down1 || bail "rename"
ip -n "$H" addr add 10.0.0.1/24 dev uplink && ip -n "$TOR" addr add 10.0.0.254/24 dev down1 &&
ip -n "$H" link set uplink up && ip -n "$TOR" link set down1 up || bail "veth addresses"
bird_init tor "$TOR" 10.0.0.254
bird_kernel tor none
mapfile -t R10K < <(for i in $(seq 0 9999); do echo "10.$((100 + i / 250)).$((i % 250)).0/24"; done)
bird_static tor many 4 "${R10K[@]}"
bird_peer tor node1 10.0.0.254 500 10.0.0.1 65002 all
bird_start tor
nctl_ok "bgp create" bgp create node1 --router-ip=10.0.0.1/24 --as=65002 \
	--neighbor-as=500 --neighbor=10.0.0.254
nctl_ok "node-mesh off" bgp node-mesh off

REAL_BIN=$BIN
VGBIN=$T_TMP/vgbin
mkdir -p "$VGBIN"
ln -s "$REAL_BIN/netctl" "$VGBIN/netctl"
cat >"$VGBIN/leafnetd" <<EOS
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect --log-file=$T_TMP/calls/valgrind-leafnetd.%p.log \
	-q $REAL_BIN/leafnetd "\$@"
EOS
chmod +x "$VGBIN/leafnetd"
BIN=$VGBIN ld_start n1 "$H" "$T_CONF"
n_learned() { count_lines ip -n "$H" -4 route show proto 77; }
ld_wait_established n1 10.0.0.254 60 && ok "session Established under valgrind" ||
	notok "session Established under valgrind" "$(ld_status n1 | xargs | cut -c1-300)"
assert_eventually_long() {
	local what=$1 exp=$2 got n
	shift 2
	for n in $(seq 1 120); do
		got=$("$@" 2>/dev/null)
		[ "$got" = "$exp" ] && { ok "$what"; return 0; }
		sleep 0.5
	done
	notok "$what" "expected '$exp', got '$got'"
}
assert_eventually_long "10,000 learned routes in the kernel" 10000 n_learned
cni_add "$H" vg2 "$C1" eth0
assert_eq "a workload ADD while leafnetd runs" 0 "$CNI_RC"
birdq tor disable many >/dev/null
assert_eventually_long "ToR withdraws them: all gone from the kernel" 0 n_learned
birdq tor enable many >/dev/null
assert_eventually_long "... and back" 10000 n_learned
cni_del "$H" vg2 "$C1" eth0
LDPID=${LD_PID[n1]}
kill -TERM "$LDPID"
for i in $(seq 1 600); do kill -0 "$LDPID" 2>/dev/null || break; sleep 0.1; done
wait "$LDPID"
assert_eq "leafnetd under valgrind exits 0 on SIGTERM (no memcheck error)" 0 "$?"
LD_PID[n1]=
assert_eq "stop removed its learned routes" 0 "$(n_learned)"
logs=$(grep -l . "$T_TMP"/calls/valgrind-leafnetd.*.log 2>/dev/null)
if [ -z "$logs" ]; then
	ok "leafnetd: memcheck clean (no errors, no definite or indirect leaks)"
else
	notok "leafnetd: memcheck clean" "reports in $(echo $logs)"
	head -60 $logs | sed 's/^/# /' >&2
fi
t_done
