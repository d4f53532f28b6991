#!/bin/bash
# Memcheck over the plugin's whole life: CNI ADD, CHECK, DEL (v4 + v6,
# a second interface, a repeated DEL) under valgrind --leak-check=full:
# no error (uninitialised bytes sent to the kernel count) and no definite
# or indirect leak, in the plugin and in the child DEL forks.
# Runs in the plain pass only (valgrind and ASan do not mix).
. "$(dirname "$0")/../lib.sh"
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
t_done
