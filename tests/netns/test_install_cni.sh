#!/bin/bash
# leafnet-install-cni (the DaemonSet's init container) against scratch root
# directories, never the machine's own /opt/cni/bin or /etc/cni/net.d:
#
# - an empty root, twice: the first run writes the two plugins, leafnet.conf
#   and the conflist (marked "leafnet-installed": true, otherwise the input);
#   the second says "nothing changed" and no file's inode or mtime moved;
#   no temp file is left behind
# - a changed conflist or an outdated plugin on the host: only that file is
#   rewritten (a new inode: temp + rename), the rest stays
# - a foreign 10-leafnet.conflist (no marker; also a symlink): exit 3, a
#   message naming it, the file and the whole root untouched, --uninstall
#   refuses too; --name 20-leafnet.conflist installs beside it and warns
#   that the foreign one sorts first
# - bad input (not a conflist, a broken leafnet.conf, a missing plugin):
#   exit 1 and nothing written; usage errors exit 2
# - --uninstall removes what it wrote
# - the installed files work together: a CNI ADD by the installed plugin
#   with the installed conflist's plugin entry uses the installed
#   leafnet.conf ("leafnet_conf"), DEL cleans up.
. "$(dirname "$0")/../lib.sh"
t_init
INST=$BIN/leafnet-install-cni
t_require "$INST" "$BIN/leafnet" "$BIN/leafnet-ipam" "$BIN/netctl" stat cmp
CONFLIST=$T_ROOT/packaging/kubernetes/10-leafnet.conflist
[ -f "$CONFLIST" ] || bail "packaging/kubernetes/10-leafnet.conflist"

# inst ROOT ARGS...: run the installer -> $I_RC, $I_OUT (stdout), $I_ERR
inst() {
	local root=$1 f
	shift
	T_CALLS=$((T_CALLS + 1))
	f=$T_TMP/calls/install-cni.$T_CALLS
	timeout -k 2 30 "$INST" --source "$BIN" --root "$root" "$@" >"$f.out" 2>"$f.err"
	I_RC=$?
	I_OUT=$(cat "$f.out")
	I_ERR=$(cat "$f.err")
}
# stamps ROOT: "path inode mtime(ns) mode" of every file under ROOT
stamps() { (cd "$1" && find . -type f -o -type l | sort | xargs -r stat -c '%n %i %.9Y %a'); }
tmp_left() { find "$1" -name '.*.leafnet-tmp.*' | wc -l; }

FILES="opt/cni/bin/leafnet opt/cni/bin/leafnet-ipam etc/cni/net.d/leafnet/leafnet.conf
	etc/cni/net.d/10-leafnet.conflist"

# ---------------------------------------------------------- empty root
R=$T_TMP/root1
mkdir -p "$R"
inst "$R" --conflist "$CONFLIST" --leafnet-conf "$T_CONF"
assert_eq "first run into an empty root exits 0" 0 "$I_RC" || diag "$I_ERR"
assert_contains "first run: 4 files written" "$I_OUT" "4 files written, 0 up to date"
for f in $FILES; do
	[ -f "$R/$f" ] && ok "installed $f" || notok "installed $f" "missing"
done
assert_cmd "opt/cni/bin/leafnet is the source plugin" cmp -s "$BIN/leafnet" "$R/opt/cni/bin/leafnet"
assert_cmd "opt/cni/bin/leafnet-ipam is the source plugin" \
	cmp -s "$BIN/leafnet-ipam" "$R/opt/cni/bin/leafnet-ipam"
assert_eq "plugins are mode 755" "755 755" \
	"$(stat -c %a "$R/opt/cni/bin/leafnet" "$R/opt/cni/bin/leafnet-ipam" | xargs)"
assert_cmd "leafnet.conf is the one given" cmp -s "$T_CONF" "$R/etc/cni/net.d/leafnet/leafnet.conf"
C=$R/etc/cni/net.d/10-leafnet.conflist
assert_eq "conflist carries \"leafnet-installed\": true" true "$(jq '."leafnet-installed"' "$C")"
assert_eq "conflist is otherwise the input" "$(jq -S . "$CONFLIST")" \
	"$(jq -S 'del(."leafnet-installed")' "$C")"
assert_eq "conflist is mode 644" 644 "$(stat -c %a "$C")"
assert_eq "no temp file left" 0 "$(tmp_left "$R")"

BEFORE=$(stamps "$R")
sleep 0.05	# a rewrite would get a later mtime
inst "$R" --conflist "$CONFLIST" --leafnet-conf "$T_CONF"
assert_eq "second run exits 0" 0 "$I_RC" || diag "$I_ERR"
assert_contains "second run reports nothing changed" "$I_OUT" \
	"nothing changed (4 files up to date)"
assert_not_contains "second run wrote nothing" "$I_OUT" "wrote "
assert_eq "second run: same inodes, mtimes and modes" "$BEFORE" "$(stamps "$R")"

# ------------------------------------------------ something to update
jq '.plugins[0].mtu = 9000' "$CONFLIST" >"$T_TMP/mtu.conflist"
inst "$R" --conflist "$T_TMP/mtu.conflist" --name 10-leafnet.conflist --leafnet-conf "$T_CONF"
assert_eq "changed conflist: exit 0" 0 "$I_RC" || diag "$I_ERR"
assert_contains "changed conflist: 1 file written" "$I_OUT" "1 files written, 3 up to date"
assert_eq "the new conflist is in place" 9000 "$(jq '.plugins[0].mtu' "$C")"
assert_ne "conflist replaced by rename (new inode)" \
	"$(grep 10-leafnet.conflist <<<"$BEFORE" | cut -d' ' -f2)" "$(stat -c %i "$C")"
assert_eq "plugins untouched" "$(grep opt/cni/bin <<<"$BEFORE")" \
	"$(stamps "$R" | grep opt/cni/bin)"

printf 'an older leafnet\n' >"$R/opt/cni/bin/leafnet"
chmod 700 "$R/opt/cni/bin/leafnet-ipam"
inst "$R" --conflist "$T_TMP/mtu.conflist" --name 10-leafnet.conflist --leafnet-conf "$T_CONF"
assert_contains "outdated plugin and wrong mode: both rewritten" "$I_OUT" \
	"2 files written, 2 up to date"
assert_cmd "leafnet replaced by the source" cmp -s "$BIN/leafnet" "$R/opt/cni/bin/leafnet"
assert_eq "leafnet-ipam back to 755" 755 "$(stat -c %a "$R/opt/cni/bin/leafnet-ipam")"
assert_eq "no temp file left" 0 "$(tmp_left "$R")"

# ------------------------------------------------------ foreign conflist
R2=$T_TMP/root2
mkdir -p "$R2/etc/cni/net.d"
F=$R2/etc/cni/net.d/10-leafnet.conflist
printf '{"cniVersion":"1.0.0","name":"theirs","plugins":[{"type":"bridge"}]}\n' >"$F"
touch -d '2001-02-03 04:05:06' "$F"
BEFORE=$(stamps "$R2")
inst "$R2" --conflist "$CONFLIST"
assert_eq "foreign conflist: exit 3" 3 "$I_RC"
assert_match "foreign conflist: the message names it and why" "$I_ERR" \
	"10-leafnet.conflist exists and was not written by leafnet-install-cni.*left alone"
assert_eq "foreign conflist: content and mtime untouched, nothing else written" \
	"$BEFORE" "$(stamps "$R2")"
[ -e "$R2/opt/cni/bin/leafnet" ] && notok "no plugin copied next to a foreign conflist" "found" ||
	ok "no plugin copied next to a foreign conflist"
inst "$R2" --conflist "$CONFLIST" --uninstall
assert_eq "--uninstall over a foreign conflist: exit 3, kept" "3 $BEFORE" "$I_RC $(stamps "$R2")"

inst "$R2" --conflist "$CONFLIST" --name 20-leafnet.conflist
assert_eq "--name 20-leafnet.conflist beside it: exit 0" 0 "$I_RC" || diag "$I_ERR"
assert_eq "... written, marked" true "$(jq '."leafnet-installed"' "$R2/etc/cni/net.d/20-leafnet.conflist")"
assert_contains "... with a warning that the foreign one sorts first" "$I_ERR" \
	"10-leafnet.conflist sorts before 20-leafnet.conflist"
assert_eq "... the foreign one still untouched" "$(grep 10-leafnet <<<"$BEFORE")" \
	"$(stamps "$R2" | grep 10-leafnet)"

R3=$T_TMP/root3
mkdir -p "$R3/etc/cni/net.d"
printf '{"leafnet-installed": true}\n' >"$T_TMP/marked-elsewhere"
ln -s "$T_TMP/marked-elsewhere" "$R3/etc/cni/net.d/10-leafnet.conflist"
inst "$R3" --conflist "$CONFLIST"
assert_eq "a symlink in its place is foreign (not followed): exit 3" 3 "$I_RC"
assert_eq "... left a symlink" "$T_TMP/marked-elsewhere" \
	"$(readlink "$R3/etc/cni/net.d/10-leafnet.conflist")"

# ------------------------------------------------------------ bad input
R4=$T_TMP/root4
printf '{"cniVersion":"1.1.0","name":"x","type":"leafnet"}\n' >"$T_TMP/single.conf"
inst "$R4" --conflist "$T_TMP/single.conf"
assert_eq "a single-plugin .conf is refused: exit 1" 1 "$I_RC"
assert_contains "... saying what a conflist is" "$I_ERR" "not a CNI network configuration list"
printf '{"state_dir": "/x", "no_such_key": 1}\n' >"$T_TMP/bad.conf"
inst "$R4" --conflist "$CONFLIST" --leafnet-conf "$T_TMP/bad.conf"
assert_eq "a broken --leafnet-conf is refused: exit 1" 1 "$I_RC"
assert_contains "... naming the key" "$I_ERR" "no_such_key"
timeout 10 "$INST" --source "$T_TMP/nowhere" --root "$R4" --conflist "$CONFLIST" \
	>/dev/null 2>"$T_TMP/nosrc.err"
assert_eq "a missing plugin source: exit 1" 1 "$?"
assert_contains "... naming the plugin" "$(cat "$T_TMP/nosrc.err")" "no plugin leafnet there"
assert_eq "nothing written by refused runs" "" "$(find "$R4" -type f 2>/dev/null)"
inst "$R4" --conflist "$CONFLIST" --bogus
assert_eq "unknown option: exit 2" 2 "$I_RC"
inst "$R4" --conflist "$CONFLIST" --name ../x.conflist
assert_eq "--name with a slash: exit 2" 2 "$I_RC"

# -------------------------------------------- the installed files at work
mkhost H
mkcontainer C1
R5=$T_TMP/root5
jq --arg d "$T_TMP/state5" '.state_dir = $d' "$T_CONF" >"$T_TMP/node.conf"
mkdir -p "$T_TMP/state5"
jq --arg c "$R5/etc/cni/net.d/leafnet/leafnet.conf" '.plugins[0].leafnet_conf = $c' \
	"$CONFLIST" >"$T_TMP/k8s.conflist"
inst "$R5" --conflist "$T_TMP/k8s.conflist" --name 10-leafnet.conflist --leafnet-conf "$T_TMP/node.conf"
assert_eq "install for the ADD: exit 0" 0 "$I_RC" || diag "$I_ERR"
LEAFNET_CONF=$R5/etc/cni/net.d/leafnet/leafnet.conf "$BIN/netctl" network create public \
	--subnet=10.77.0.0/24 >/dev/null 2>"$T_TMP/nc.err" || bail "network create" "$(cat "$T_TMP/nc.err")"
# what a runtime passes a plugin of a conflist: the entry plus name and cniVersion
CNI_CONF=$(jq -c '.plugins[0] + {name, cniVersion}' "$R5/etc/cni/net.d/10-leafnet.conflist")
CNI_PLUGIN=$R5/opt/cni/bin/leafnet CNI_PATH_DIR=$R5/opt/cni/bin cni_add "$H" k8s1 "$C1" eth0
cni_expect_ok "ADD by the installed plugin with the installed conflist (leafnet + leafnet-ipam)"
assert_match "... an address from public" "$(jq -r '.ips[0].address' <<<"$CNI_OUT" 2>/dev/null)" \
	'^10\.77\.0\.[0-9]+/32$'
assert_contains "... recorded in the installed leafnet.conf's state dir" \
	"$(LEAFNET_CONF=$R5/etc/cni/net.d/leafnet/leafnet.conf "$BIN/netctl" -o json network inspect public)" "k8s1"
cni_with_prev
CNI_PLUGIN=$R5/opt/cni/bin/leafnet CNI_PATH_DIR=$R5/opt/cni/bin cni_del "$H" k8s1 "$C1" eth0
cni_expect_ok "DEL by the installed plugin"
assert_eventually "... no veth left (DEL's deleter runs after it)" "" host_veths "$H"

# ------------------------------------------------------------ uninstall
inst "$R" --conflist "$T_TMP/mtu.conflist" --name 10-leafnet.conflist --uninstall
assert_eq "--uninstall: exit 0" 0 "$I_RC" || diag "$I_ERR"
assert_eq "--uninstall removed every file it wrote" "" "$(find "$R" -type f)"
inst "$R" --conflist "$CONFLIST" --uninstall
assert_contains "--uninstall again: nothing to remove" "$I_OUT" "nothing to remove"

t_done
