#!/bin/sh
# scripts/install-deps.sh — install what building and testing leafnet needs
# on Debian 12 (bookworm) or a close relative.  Idempotent: when every
# package is already installed it does nothing (no apt-get update), so
# running it before every test run costs a fraction of a second.
#
#   ./scripts/install-deps.sh          as root (or with sudo available)
#   LEAFNET_DEPS_EXTRA="gdb strace" ./scripts/install-deps.sh
set -eu

PACKAGES="
	build-essential make gcc pkg-config
	libmnl-dev libcjson-dev libcmocka-dev libnftables-dev nftables
	iproute2 iputils-ping procps jq python3
	containernetworking-plugins bird2 frr gobgpd
	ca-certificates clang libclang-rt-14-dev valgrind
	libmicrohttpd-dev curl docker.io busybox-static
	libcurl4-openssl-dev libevent-dev etcd-server etcd-client prometheus
	debhelper scdoc lintian debootstrap man-db git
	${LEAFNET_DEPS_EXTRA:-}
"
# kubectl for test_k8s: Debian's kubernetes-client, unless some kubectl is
# already there (another package's /usr/bin/kubectl would conflict with it)
command -v kubectl >/dev/null 2>&1 || PACKAGES="$PACKAGES kubernetes-client"

missing=
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" = 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	SUDO=sudo
else
	echo "install-deps: missing:$missing" >&2
	echo "install-deps: run this script as root (or install sudo)" >&2
	exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: apt-get not found; install these with your package manager:$missing" >&2
	exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086  # word splitting of the package list is wanted
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
# The tests run FRR's daemons in their own namespaces; the package's
# system service (zebra in the machine's own namespace) is not wanted.
case " $missing " in
*" frr "*)
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		$SUDO systemctl disable --now frr.service >/dev/null 2>&1 || true
	fi ;;
esac
echo "install-deps: done"
