#!/bin/bash
# test_deb.sh — the Debian package, end to end.
#
# Builds leafnet_<version>_<arch>.deb with `make deb` (dpkg-buildpackage -us
# -uc -b in a copy of the tracked tree, unit tests included), runs lintian
# on it (no E: or W: line), renders every man page in it with man -l (no
# warning) and checks that the pages cover what the binaries offer (every
# netctl command and every flag of its verbs' --help, every config key,
# every leafnetd / leafnet-docker / leafnet-install-cni option), and that
# packaging/kubernetes/build-image.sh --deb finds the image's binaries in
# it.  Then, in a fresh Debian 12 root (debootstrap --variant=minbase,
# cached as a tarball under /var/cache/leafnet-test/): apt-get install
# ./leafnet_*.deb, every file where it belongs (dpkg -L, conffiles, the
# units' ExecStart), netctl version and the CNI plugins' VERSION answer,
# netctl works with the installed config, leafnet-install-cni installs the
# packaged plugins and example conflist into a scratch directory (and
# uninstalls), then apt-get purge leaves nothing of leafnet behind (and,
# with autoremove, nothing at all but dpkg's and apt's own records).
#
# The root lives in /var/tmp; every command in it runs under chroot in its
# own mount and PID namespaces (/proc, /dev, /dev/pts, /run mounted there
# only, so nothing stays mounted whatever way the test ends), with the
# machine's network: it touches no interface, address or route.
#
# Plain pass only (packaging does not change under the sanitizers); skipped
# with an ok line when debootstrap is missing.  Environment:
#   LEAFNET_DEB_CACHE   tarball cache directory (default /var/cache/leafnet-test)
#   LEAFNET_DEB_MIRROR  Debian mirror for debootstrap when the machine's apt
#                       sources name none (default http://deb.debian.org/debian)
. "$(dirname "$0")/../lib.sh"

case ${BIN%/} in
*-san/bin|*-san)
	echo "ok - $T_NAME: skipped: the package is tested in the plain pass only ($BIN)"
	exit 0 ;;
esac
if ! command -v debootstrap >/dev/null 2>&1; then
	echo "ok - $T_NAME: skipped: debootstrap is not installed (scripts/install-deps.sh installs it)"
	exit 0
fi

SUITE=bookworm
CACHE_DIR=${LEAFNET_DEB_CACHE:-/var/cache/leafnet-test}
TARBALL=$CACHE_DIR/$SUITE-minbase.tar
ROOTFS=
ROOT_PATH=/usr/sbin:/usr/bin:/sbin:/bin

t_init
t_require dpkg-buildpackage dh scdoc lintian man groff git unshare setpriv chroot \
	tar flock findmnt timeout

# The chroot is big: remove it whatever happens (the lib keeps $T_TMP of a
# failed run for its logs; the root is not worth keeping).
deb_cleanup() {
	if [ -n "$ROOTFS" ] && [ -d "$ROOTFS" ]; then
		if findmnt -rn -o TARGET | awk -v r="$ROOTFS/" 'index($0 "/", r) == 1 { f = 1 } END { exit !f }'; then
			diag "mounts left under $ROOTFS; not removing it"
		else
			rm -rf --one-file-system "$ROOTFS"
		fi
	fi
}
trap 'deb_cleanup; t_cleanup' EXIT
trap 'deb_cleanup; t_on_signal INT' INT
trap 'deb_cleanup; t_on_signal TERM' TERM

# in_root CMD...: run CMD in the root as root, in a private mount + PID
# namespace that dies with this script (pdeathsig) and takes every process
# CMD started with it.
in_root() {
	setpriv --pdeathsig KILL \
	unshare --mount --pid --fork --kill-child=SIGKILL --propagation private \
	/bin/bash -c '
		R=$1; shift
		mount --bind "$R" "$R" &&
		mount -t proc -o nosuid,nodev,noexec proc "$R/proc" &&
		mount --bind /dev "$R/dev" &&
		mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$R/dev/pts" &&
		mount --bind "$R/dev/pts/ptmx" "$R/dev/ptmx" &&
		mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs "$R/run" || exit 125
		exec chroot "$R" /usr/bin/env -i HOME=/root PATH='"$ROOT_PATH"' LANG=C.UTF-8 \
			DEBIAN_FRONTEND=noninteractive "$@"' sh "$ROOTFS" "$@"
}

# The machine's Debian apt sources file (fresh-root.sh does the same).
apt_sources_file() {
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		echo /etc/apt/sources.list.d/debian.sources
	elif [ -f /etc/apt/sources.list ] && grep -q "^deb .* $SUITE " /etc/apt/sources.list; then
		echo /etc/apt/sources.list
	fi
}

# The pristine root, built once (flock: parallel runs wait for one build).
build_cache() {
	local b
	mkdir -p "$CACHE_DIR" || return 1
	exec 8>"$CACHE_DIR/.lock"
	flock 8
	if [ ! -s "$TARBALL" ]; then
		diag "building $TARBALL (debootstrap --variant=minbase $SUITE; once)"
		b=$(mktemp -d "$CACHE_DIR/build.XXXXXX") || return 1
		if ! timeout 900 unshare --mount --propagation private \
			debootstrap --variant=minbase --components=main "$SUITE" "$b/root" \
			"${LEAFNET_DEB_MIRROR:-http://deb.debian.org/debian}" >"$b/log" 2>&1; then
			tail -20 "$b/log" | sed 's/^/# /' >&2
			rm -rf --one-file-system "$b"
			exec 8>&-
			return 1
		fi
		rm -f "$b/root/var/cache/apt/archives/"*.deb "$b/root/var/cache/apt/"*.bin
		find "$b/root/var/lib/apt/lists" -mindepth 1 -maxdepth 1 -type f ! -name lock -delete
		rm -f "$b/root/etc/apt/sources.list"
		: >"$b/root/etc/resolv.conf"
		tar --numeric-owner -C "$b/root" -cf "$TARBALL.tmp" . && mv -f "$TARBALL.tmp" "$TARBALL"
		rm -rf --one-file-system "$b"
	fi
	exec 8>&-
	[ -s "$TARBALL" ]
}

# Everything in the root but what changes under any apt run.
snapshot() {
	(cd "$ROOTFS" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run \
		-o -path ./tmp -o -path ./var/lib/apt -o -path ./var/cache -o -path ./var/log \
		-o -path ./var/lib/dpkg \) -prune -o -print) | sort
}

# Plain text of a man page: no hyphenation, no fill breaks, no formatting.
man_text() {
	zcat -f "$1" | groff -t -man -Tutf8 -rLL=2000n -rHY=0 -P-cbou 2>/dev/null | tr -s ' \n' ' '
}

# ------------------------------------------------------------- the build
VER=$(cd "$T_ROOT" && dpkg-parsechangelog -S Version)
ARCH=$(dpkg --print-architecture)
DEB=$T_TMP/deb/leafnet_${VER}_${ARCH}.deb
if timeout -k 10 600 make -C "$T_ROOT" --no-print-directory deb DEB_OUT="$T_TMP/deb" \
	>"$T_TMP/make-deb.log" 2>&1 && [ -f "$DEB" ]; then
	ok "make deb builds $(basename "$DEB") (dpkg-buildpackage -us -uc -b)"
else
	tail -30 "$T_TMP/make-deb.log" | sed 's/^/# /' >&2
	bail "make deb" "no $DEB (log: $T_TMP/make-deb.log)"
fi
units=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$T_TMP/make-deb.log" | tail -1)
assert_match "the package build ran the unit tests (dh_auto_test): $units" "$units" '^[1-9][0-9]* passed, 0 failed$'
assert_eq "dpkg-deb: Package" leafnet "$(dpkg-deb -f "$DEB" Package)"
assert_eq "dpkg-deb: Version from debian/changelog" "$VER" "$(dpkg-deb -f "$DEB" Version)"

# ---------------------------------------------------------------- lintian
lintian --no-tag-display-limit "$DEB" >"$T_TMP/lintian.txt" 2>"$T_TMP/lintian.err"
lrc=$?
errs=$(grep -E '^E: ' "$T_TMP/lintian.txt")
if [ -z "$errs" ] && [ "$lrc" -le 1 ] && ! grep -qE '^(E|internal error)' "$T_TMP/lintian.err"; then
	ok "lintian: no errors ($(grep -c '^W: ' "$T_TMP/lintian.txt") warnings)"
else
	notok "lintian: no errors" "exit $lrc: $(echo $errs $(cat "$T_TMP/lintian.err") | cut -c1-400)"
fi
assert_eq "lintian: no warnings" "" "$(grep -E '^W: ' "$T_TMP/lintian.txt" | tr '\n' ' ')"

# -------------------------------------------------------------- man pages
X=$T_TMP/x
mkdir -p "$X" && dpkg-deb -x "$DEB" "$X" || bail "dpkg-deb -x"
for page in man8/netctl.8 man8/leafnetd.8 man8/leafnet-docker.8 man8/leafnet.8 \
	    man8/leafnet-ipam.8 man8/leafnet-install-cni.8 man5/leafnet.conf.5; do
	f=$X/usr/share/man/$page.gz
	if [ ! -e "$f" ]; then
		notok "man page $page" "not in the package"
		continue
	fi
	warn=$(cd "$X/usr/share/man" && MANWIDTH=80 man -l --warnings=all "$f" 2>&1 >/dev/null)
	assert_eq "man -l --warnings=all $page: no warnings" "" "$warn"
	out=$(cd "$X/usr/share/man" && MANWIDTH=80 man -l "$f" 2>/dev/null)
	name=$(basename "$page"); name=${name%.*}
	assert_match "man -l $page renders NAME and SYNOPSIS" "$(grep -E '^(NAME|SYNOPSIS)$' <<<"$out" | tr '\n' ' ')" '^NAME SYNOPSIS $'
	assert_contains "man -l $page names $name" "$(sed -n '/^NAME$/,/^SYNOPSIS$/p' <<<"$out")" "$name"
done
assert_eq "leafnet-ipam(8) is leafnet(8)" leafnet.8.gz "$(readlink "$X/usr/share/man/man8/leafnet-ipam.8.gz")"

# The pages say what the programs do: every command in netctl's table ...
page=$(man_text "$X/usr/share/man/man8/netctl.8.gz")
missing=
while IFS= read -r line; do
	cmd=$(echo "${line:2:7} ${line:10:15}" | xargs)
	[ -n "$cmd" ] && ! grep -qF -- "$cmd" <<<"$page" && missing="$missing '$cmd'"
done < <("$BIN/netctl" --help | sed -n '/^Commands:/,/^$/p' | grep '^  ')
assert_eq "netctl(8) describes every command of netctl --help" "" "$missing"
for flag in --config --output --version; do
	assert_contains "netctl(8) describes $flag" "$page" "$flag"
done
# ... every flag a verb's --help names (netctl NOUN VERB --help) ...
missing=
nflags=0
while IFS= read -r line; do
	cmd=$(echo "${line:2:7} ${line:10:15}" | xargs)
	[ -n "$cmd" ] || continue
	# shellcheck disable=SC2086 # the noun and verb are two words
	for f in $("$BIN/netctl" $cmd --help 2>&1 | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
		nflags=$((nflags + 1))
		grep -qF -- "$f" <<<"$page" || missing="$missing '$cmd $f'"
	done
done < <("$BIN/netctl" --help | sed -n '/^Commands:/,/^$/p' | grep '^  ')
assert_ne "the verbs' --help name flags" 0 "$nflags"
assert_eq "netctl(8) describes every flag of every verb's --help ($nflags)" "" "$missing"
# ... every config key (from the config parser's own list) ...
echo '{"lft_no_such_key": 1}' >"$T_TMP/badkey.conf"
keys=$("$BIN/leafnetd" -n --config "$T_TMP/badkey.conf" 2>&1 | sed -n 's/.*(known: \([^)]*\)).*/\1/p' | tr -d ',')
page=$(man_text "$X/usr/share/man/man5/leafnet.conf.5.gz")
missing=
for k in $keys; do
	grep -qF -- "$k (" <<<"$page" || missing="$missing $k"
done
assert_ne "the config parser lists its keys" "" "$keys"
assert_eq "leafnet.conf(5) describes every key ($(echo $keys | wc -w))" "" "$missing"
# ... and every option of the daemons and of the installer.
for prog in leafnetd leafnet-docker leafnet-install-cni; do
	page=$(man_text "$X/usr/share/man/man8/$prog.8.gz")
	opts=$("$BIN/$prog" --help 2>&1 | grep -oE '(^|[[ ])--?[a-z][a-z-]*' | tr -d '[ ' | sort -u)
	missing=
	for o in $opts; do
		grep -qF -- "$o" <<<"$page" || missing="$missing $o"
	done
	assert_ne "$prog --help names options" "" "$opts"
	assert_eq "$prog(8) describes every option of $prog --help ($(echo $opts))" "" "$missing"
done
# ... and the installer's exit codes and its marker.
page=$(man_text "$X/usr/share/man/man8/leafnet-install-cni.8.gz")
for s in '"leafnet-installed": true' 'EXIT STATUS' ' 3 ' --uninstall /usr/lib/cni /opt/cni/bin \
	 /etc/cni/net.d; do
	assert_contains "leafnet-install-cni(8) mentions $s" "$page" "$s"
done
page=$(man_text "$X/usr/share/man/man8/leafnetd.8.gz")
for s in metrics_listen /metrics /healthz 'protocol 76' 77 rt_protos.d; do
	assert_contains "leafnetd(8) mentions $s" "$page" "$s"
done

# The Kubernetes image takes its binaries from the package where the
# DaemonSet and the Dockerfile expect them (build-image.sh --deb).
ctx=$T_TMP/image
if sh "$T_ROOT/packaging/kubernetes/build-image.sh" --deb "$DEB" --context "$ctx" --context-only \
	>"$T_TMP/build-image.log" 2>&1; then
	missing=
	for f in usr/bin/leafnetd usr/bin/netctl usr/bin/leafnet-install-cni \
		 usr/lib/cni/leafnet usr/lib/cni/leafnet-ipam; do
		cmp -s "$X/$f" "$ctx/rootfs/$f" || missing="$missing /$f"
	done
	assert_eq "build-image.sh --deb: the image's binaries are the package's" "" "$missing"
	assert_contains "the DaemonSet's init container runs the packaged installer's path" \
		"$(cat "$T_ROOT/packaging/kubernetes/daemonset.yaml")" "- /usr/bin/leafnet-install-cni"
else
	tail -10 "$T_TMP/build-image.log" | sed 's/^/# /' >&2
	notok "build-image.sh --deb $(basename "$DEB") --context-only" "failed (log above)"
fi
rm -rf "$ctx"

# ---------------------------------------------------- a fresh Debian root
build_cache || bail "debootstrap $SUITE into $TARBALL"
ROOTFS=$(mktemp -d /var/tmp/lft-deb-root.XXXXXX) || bail "mktemp"
tar --numeric-owner -xpf "$TARBALL" -C "$ROOTFS" || bail "unpack $TARBALL"
src=$(apt_sources_file)
mkdir -p "$ROOTFS/etc/apt/sources.list.d" "$ROOTFS/etc/apt/apt.conf.d"
if [ -n "$src" ]; then
	cp "$src" "$ROOTFS/${src#/}"
else
	echo "deb ${LEAFNET_DEB_MIRROR:-http://deb.debian.org/debian} $SUITE main" \
		>"$ROOTFS/etc/apt/sources.list"
fi
apt-config dump 2>/dev/null | grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy|Retries) ' \
	>"$ROOTFS/etc/apt/apt.conf.d/99lft-host" || rm -f "$ROOTFS/etc/apt/apt.conf.d/99lft-host"
cat /etc/resolv.conf >"$ROOTFS/etc/resolv.conf"
# no service starts inside
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"
cp "$DEB" "$ROOTFS/tmp/" || bail "copy the .deb"

if ! in_root timeout 300 apt-get update -q >"$T_TMP/apt-update.log" 2>&1; then
	tail -10 "$T_TMP/apt-update.log" | sed 's/^/# /' >&2
	bail "apt-get update in the fresh root"
fi
# What the package pulls in comes first, so that install + purge of
# leafnet itself can be compared against the root just before it.
deps=$(dpkg-deb -f "$DEB" Depends Recommends | sed 's/^[A-Za-z]*: //' | tr ',' '\n' |
	sed 's/(.*)//; s/|.*//' | xargs)
if ! in_root timeout 300 apt-get install -y -q --no-install-recommends $deps \
	>"$T_TMP/apt-deps.log" 2>&1; then
	tail -20 "$T_TMP/apt-deps.log" | sed 's/^/# /' >&2
	bail "apt-get install the package's dependencies ($deps)"
fi
before=$(snapshot)
pkgs_before=$(in_root dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort)

if in_root /bin/sh -c "cd /tmp && timeout 300 apt-get install -y -q ./$(basename "$DEB")" \
	>"$T_TMP/apt-install.log" 2>&1; then
	ok "apt-get install -y ./$(basename "$DEB") in a fresh Debian 12 root"
else
	tail -20 "$T_TMP/apt-install.log" | sed 's/^/# /' >&2
	bail "apt-get install ./$(basename "$DEB")" "failed (log above)"
fi
assert_eq "dpkg: leafnet installed" "ii $VER" "$(in_root dpkg-query -W -f '${db:Status-Abbrev}${Version}' leafnet | tr -s ' ')"

listed=$(in_root dpkg -L leafnet)
for f in /usr/bin/leafnetd /usr/bin/leafnet-docker /usr/bin/netctl /usr/bin/leafnet-install-cni \
	 /usr/lib/cni/leafnet /usr/lib/cni/leafnet-ipam; do
	if grep -qxF "$f" <<<"$listed" && [ -f "$ROOTFS$f" ] && [ -x "$ROOTFS$f" ]; then
		ok "binary $f installed, executable, listed by dpkg -L"
	else
		notok "binary $f" "missing, not executable or not in dpkg -L"
	fi
done
for f in /lib/systemd/system/leafnetd.service /lib/systemd/system/leafnet-docker.socket \
	 /lib/systemd/system/leafnet-docker.service \
	 /etc/leafnet/leafnet.conf /etc/iproute2/rt_protos.d/leafnet.conf \
	 /usr/share/man/man8/netctl.8.gz /usr/share/man/man8/leafnetd.8.gz \
	 /usr/share/man/man8/leafnet-docker.8.gz /usr/share/man/man8/leafnet.8.gz \
	 /usr/share/man/man8/leafnet-ipam.8.gz /usr/share/man/man8/leafnet-install-cni.8.gz \
	 /usr/share/man/man5/leafnet.conf.5.gz \
	 /usr/share/doc/leafnet/README.Debian /usr/share/doc/leafnet/copyright \
	 /usr/share/doc/leafnet/changelog.gz /usr/share/doc/leafnet/examples/10-leafnet.conflist \
	 /usr/share/doc/leafnet/examples/grafana/leafnet.json; do
	if grep -qxF "$f" <<<"$listed" && [ -e "$ROOTFS$f" ]; then
		ok "$f installed, listed by dpkg -L"
	else
		notok "$f" "missing or not in dpkg -L"
	fi
done
conffiles=$(in_root dpkg-query -W -f '${Conffiles}\n' leafnet)
assert_contains "conffile /etc/leafnet/leafnet.conf" "$conffiles" " /etc/leafnet/leafnet.conf "
assert_contains "conffile /etc/iproute2/rt_protos.d/leafnet.conf" "$conffiles" " /etc/iproute2/rt_protos.d/leafnet.conf "
outside=$(grep -vE '^(/\.|/etc|/etc/leafnet(/leafnet\.conf)?|/etc/iproute2(/rt_protos\.d(/leafnet\.conf)?)?)$' <<<"$listed" |
	grep -vE '^/lib(/systemd(/system(/leafnet[a-z-]*\.(service|socket))?)?)?$' |
	grep -vE '^/usr(/bin(/(leafnetd|leafnet-docker|netctl|leafnet-install-cni))?|/lib(/cni(/leafnet(-ipam)?)?)?)?$' |
	grep -vE '^/usr/share(/doc(/leafnet(/.*)?)?|/man(/man[58](/[a-z0-9.-]+\.gz)?)?)?$')
assert_eq "dpkg -L: nothing outside the binaries, units, config, docs and man pages" "" \
	"$(echo $outside)"
for u in leafnetd.service leafnet-docker.service; do
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$ROOTFS/lib/systemd/system/$u")
	if [ -n "$exe" ] && [ -x "$ROOTFS$exe" ]; then
		ok "$u: ExecStart=$exe is the installed binary"
	else
		notok "$u: ExecStart" "'$exe' is not an executable in the package"
	fi
done
assert_contains "leafnet-docker.socket listens on /run/docker/plugins/leafnet.sock" \
	"$(cat "$ROOTFS/lib/systemd/system/leafnet-docker.socket")" "ListenStream=/run/docker/plugins/leafnet.sock"
assert_contains "systemd: leafnetd.service enabled by the package" \
	"$(ls "$ROOTFS/etc/systemd/system/multi-user.target.wants/" 2>/dev/null)" "leafnetd.service"

# The programs answer.
assert_eq "netctl version in the root" "netctl $VER" "$(in_root netctl version 2>&1)"
for p in leafnet leafnet-ipam; do
	out=$(in_root /usr/bin/env CNI_COMMAND=VERSION /usr/lib/cni/$p </dev/null 2>&1)
	assert_eq "$p: CNI_COMMAND=VERSION answers 1.1.0 (0.3.0 ... 1.1.0)" "1.1.0 true true" \
		"$(jq -r '[.cniVersion, (.supportedVersions | any(. == "0.3.0")),
		          (.supportedVersions | any(. == "1.1.0"))] | join(" ")' <<<"$out" 2>&1)"
done
for p in leafnetd leafnet-docker leafnet-install-cni; do
	out=$(in_root "$p" --help 2>&1)
	assert_contains "$p --help prints its usage" "$out" "usage: $p"
done
assert_cmd "the Grafana dashboard is JSON with panels" \
	jq -e '.panels | length > 0' "$ROOTFS/usr/share/doc/leafnet/examples/grafana/leafnet.json"
# The installer with its defaults (--source /usr/lib/cni: the package's
# plugins) and the packaged example conflist, into a scratch root in /tmp.
ex=/usr/share/doc/leafnet/examples/10-leafnet.conflist
out=$(in_root leafnet-install-cni --root=/tmp/lic --conflist=$ex 2>&1)
assert_eq "leafnet-install-cni --root --conflist=$ex: exit 0" 0 $? || diag "$out"
for p in leafnet leafnet-ipam; do
	assert_cmd "leafnet-install-cni copied $p into /opt/cni/bin (the package's, mode 0755)" \
		cmp "$ROOTFS/usr/lib/cni/$p" "$ROOTFS/tmp/lic/opt/cni/bin/$p"
done
assert_eq "leafnet-install-cni: the conflist with the marker" "public true" \
	"$(jq -r '"\(.name) \(."leafnet-installed")"' "$ROOTFS/tmp/lic/etc/cni/net.d/10-leafnet.conflist" 2>&1)"
assert_match "leafnet-install-cni again: nothing changed" \
	"$(in_root leafnet-install-cni --root=/tmp/lic --conflist=$ex 2>&1)" 'nothing changed'
echo '{"cniVersion": "1.1.0", "name": "x", "plugins": [{"type": "bridge"}]}' \
	>"$ROOTFS/tmp/lic/etc/cni/net.d/10-leafnet.conflist"
in_root leafnet-install-cni --root=/tmp/lic --conflist=$ex >/dev/null 2>&1
assert_eq "leafnet-install-cni: a foreign conflist is left alone (exit 3)" 3 $?
rm -f "$ROOTFS/tmp/lic/etc/cni/net.d/10-leafnet.conflist"
in_root leafnet-install-cni --root=/tmp/lic --conflist=$ex -q >/dev/null 2>&1
out=$(in_root leafnet-install-cni --root=/tmp/lic --uninstall 2>&1)
assert_eq "leafnet-install-cni --uninstall: exit 0" 0 $? || diag "$out"
assert_eq "leafnet-install-cni --uninstall: nothing left" "" \
	"$(cd "$ROOTFS/tmp/lic" && find . -type f)"
rm -rf "$ROOTFS/tmp/lic"
out=$(in_root netctl network create lft-deb --subnet=10.99.0.0/24 2>&1)
assert_eq "netctl network create with the installed config" 0 $?
assert_eq "netctl network ls -o json sees it" lft-deb \
	"$(in_root netctl -o json network ls 2>/dev/null | jq -r '.[0].name' 2>&1)"
assert_cmd "the network is in the default state_dir /var/lib/leafnet" \
	test -n "$(ls -A "$ROOTFS/var/lib/leafnet" 2>/dev/null)"
assert_match "leafnetd -n reads the installed config" \
	"$(in_root leafnetd -n 2>&1 | jq -r .state_dir 2>&1)" \
	'^/var/lib/leafnet$'

# ------------------------------------------------------------------ purge
# the log file the daemons write with the installed config (log_file)
in_root /bin/sh -c 'echo "leafnetd: test line" >>/var/log/leafnet.log'
if in_root timeout 300 apt-get purge -y -q leafnet >"$T_TMP/apt-purge.log" 2>&1; then
	ok "apt-get purge -y leafnet"
else
	tail -20 "$T_TMP/apt-purge.log" | sed 's/^/# /' >&2
	notok "apt-get purge -y leafnet" "failed (log above)"
fi
assert_eq "dpkg: leafnet gone (not even config-files)" "" \
	"$(in_root dpkg-query -W -f '${db:Status-Abbrev}' leafnet 2>/dev/null | grep -v '^un' )"
left=
while IFS= read -r f; do
	[ -n "$f" ] && [ "$f" != /. ] || continue
	[ -e "$ROOTFS$f" ] || [ -L "$ROOTFS$f" ] || continue
	# left: only a directory that was there before the install
	real=$(readlink -f "$ROOTFS$f")
	if [ ! -d "$ROOTFS$f" ] || ! grep -qxF ".${real#"$(readlink -f "$ROOTFS")"}" <<<"$before"; then
		left="$left $f"
	fi
done <<<"$listed"
assert_eq "purge: every path of dpkg -L gone but directories that were there before" "" "$left"
for d in /etc/leafnet /var/lib/leafnet /usr/lib/cni /var/log/leafnet.log; do
	assert_cmd "purge: $d gone" test ! -e "$ROOTFS$d"
done
assert_eq "purge: the packages of before the install, no more, no less" "$pkgs_before" \
	"$(in_root dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort)"
after=$(snapshot)
assert_eq "purge: no file left that was not there before the install" "" \
	"$(comm -13 <(echo "$before") <(echo "$after") | head -20 | tr '\n' ' ')"
assert_eq "purge: no file of before the install removed" "" \
	"$(comm -23 <(echo "$before") <(echo "$after") | head -20 | tr '\n' ' ')"

deb_cleanup
ROOTFS=
t_done
