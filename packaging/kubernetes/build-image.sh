#!/bin/sh
# packaging/kubernetes/build-image.sh — build leafnet's node image offline.
#
#   packaging/kubernetes/build-image.sh [--bin DIR | --deb FILE] [--context DIR]
#                                       [--tag NAME] [--context-only]
#
# Collects the binaries (from --bin, default build/bin, or from a .deb made
# by `make deb`) and every shared library they need (ldd; plus libcurl.so.4
# and what it needs, which the etcd store dlopen()s, and glibc's NSS
# modules for host names) into CONTEXT/rootfs, puts the Dockerfile beside
# it and runs `docker build` (FROM scratch: nothing is pulled).  The image
# is tagged NAME:VERSION and NAME:latest (NAME default "leafnet").
# $DOCKER is the docker command (default "docker"; e.g. "docker -H unix:///x").
#
# Layout in the image: /usr/bin/{leafnetd,netctl,leafnet-install-cni},
# /usr/lib/cni/{leafnet,leafnet-ipam}, /etc/leafnet/{leafnet.conf,
# 10-leafnet.conflist} (defaults from this folder), the libraries at the
# paths ldd names, empty /var/lib/leafnet, /run/leafnet, /var/log/leafnet.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BIN=$TOP/build/bin
DEB=
CTX=
TAG=leafnet
ONLY=0
DOCKER=${DOCKER:-docker}

die() { echo "build-image: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--bin) BIN=$2; shift 2 ;;
	--deb) DEB=$2; shift 2 ;;
	--context) CTX=$2; shift 2 ;;
	--tag) TAG=$2; shift 2 ;;
	--context-only) ONLY=1; shift ;;
	-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done

if [ -z "$CTX" ]; then
	CTX=$(mktemp -d "${TMPDIR:-/tmp}/leafnet-image.XXXXXX")
	[ "$ONLY" = 1 ] || trap 'rm -rf "$CTX"' EXIT
fi
ROOT=$CTX/rootfs
rm -rf "$ROOT"
mkdir -p "$ROOT/usr/bin" "$ROOT/usr/lib/cni" "$ROOT/etc/leafnet" "$ROOT/etc/ssl/certs" \
	"$ROOT/var/lib/leafnet" "$ROOT/run/leafnet" "$ROOT/var/log/leafnet" "$ROOT/tmp"
chmod 1777 "$ROOT/tmp"

if [ -n "$DEB" ]; then
	[ -f "$DEB" ] || die "--deb $DEB: no such file"
	command -v dpkg-deb >/dev/null || die "dpkg-deb not found"
	DEBROOT=$CTX/deb
	rm -rf "$DEBROOT" && mkdir -p "$DEBROOT"
	dpkg-deb -x "$DEB" "$DEBROOT" || die "dpkg-deb -x $DEB failed"
fi

# find NAME: the binary, from the .deb (usr/bin, usr/sbin, usr/lib/cni) or --bin
find_bin() {
	if [ -n "$DEB" ]; then
		for d in usr/bin usr/sbin usr/lib/cni usr/libexec/cni opt/cni/bin; do
			[ -x "$DEBROOT/$d/$1" ] && { echo "$DEBROOT/$d/$1"; return 0; }
		done
		die "$DEB holds no $1"
	fi
	[ -x "$BIN/$1" ] || die "$BIN/$1 not found (run make, or pass --bin DIR)"
	echo "$BIN/$1"
}

# copy_libs FILE: every library ldd names for FILE (and the loader), at its path
copy_libs() {
	ldd "$1" 2>/dev/null | awk '
		/=> \// { print $3; next }
		/^[ \t]*\// { print $1 }' | while read -r lib; do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
}

for b in leafnetd netctl leafnet-install-cni; do
	cp "$(find_bin $b)" "$ROOT/usr/bin/$b"
done
for b in leafnet leafnet-ipam; do
	cp "$(find_bin $b)" "$ROOT/usr/lib/cni/$b"
done
for b in "$ROOT"/usr/bin/* "$ROOT"/usr/lib/cni/*; do
	chmod 0755 "$b"
	ldd "$b" 2>&1 | grep -q 'not found' && die "$b: a library is missing: $(ldd "$b" | grep 'not found')"
	copy_libs "$b"
done

# Loaded at run time, so ldd does not name them: libcurl and libevent (etcd datastore)
# and glibc's NSS modules (etcd endpoints given by host name).
LIBDIR=$(dirname "$(ldd "$ROOT/usr/bin/leafnetd" | awk '/libc\.so/ { print $3 }')")
for l in libcurl.so.4 libevent-2.1.so.7 libnss_files.so.2 libnss_dns.so.2; do
	[ -e "$LIBDIR/$l" ] || { echo "build-image: note: $LIBDIR/$l not found, not in the image" >&2; continue; }
	mkdir -p "$ROOT$LIBDIR"
	cp -L "$LIBDIR/$l" "$ROOT$LIBDIR/$l"
	copy_libs "$LIBDIR/$l"
done
[ -f /etc/ssl/certs/ca-certificates.crt ] &&
	cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/"
printf 'hosts: files dns\n' >"$ROOT/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$ROOT/etc/hosts"
printf 'root:x:0:0:root:/:/usr/bin/leafnetd\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"
cp "$HERE/leafnet.conf" "$HERE/10-leafnet.conflist" "$ROOT/etc/leafnet/"
cp "$HERE/Dockerfile" "$CTX/Dockerfile"

VERSION=$("$ROOT/usr/bin/netctl" version 2>/dev/null | awk '{ print $2 }')
[ -n "$VERSION" ] || VERSION=unknown
echo "build-image: context $CTX ($(du -sh "$ROOT" | cut -f1), version $VERSION)"
[ "$ONLY" = 1 ] && exit 0

# The classic builder: FROM scratch needs nothing from a registry, and
# BuildKit is not always there (Debian's docker.io 20.10).
DOCKER_BUILDKIT=0 $DOCKER build --build-arg VERSION="$VERSION" \
	-t "$TAG:$VERSION" -t "$TAG:latest" "$CTX"
echo "build-image: built $TAG:$VERSION and $TAG:latest"
