#!/bin/bash
# leafnet-ipam as the IPAM plugin of Debian's ptp plugin (the way it is used
# under any other CNI plugin): ADD, reachability, the allocation is visible
# in netctl, CHECK, DEL releases it.  Then leafnet-ipam on its own.
. "$(dirname "$0")/../lib.sh"
t_init
PTP=${LEAFNET_PTP:-/usr/lib/cni/ptp}
t_require "$BIN/leafnet-ipam" "$BIN/netctl" "$PTP"

mkhost H
mkcontainer C1
mkcontainer C2
nctl_ok "network create" network create public --subnet=10.60.0.0/24 --gateway=10.60.0.1
nctl_ok "network create nogw" network create nogw --subnet=10.61.0.0/24

# A CNI_PATH like a real node's: our IPAM plugin beside Debian's plugins.
mkdir -p "$T_TMP/cni-bin"
ln -s "$BIN/leafnet-ipam" "$T_TMP/cni-bin/leafnet-ipam"
CNI_PATH_DIR=$T_TMP/cni-bin:$(dirname "$PTP")
CNI_PLUGIN=$PTP

CNI_CONF=$(jq -nc '{cniVersion: "1.0.0", name: "ptpnet", type: "ptp", ipMasq: false, mtu: 1500,
	ipam: {type: "leafnet-ipam", network: "public"}}')

cni_add "$H" ctr-ptp-1 "$C1" eth0
cni_expect_ok "ptp ADD with leafnet-ipam" || bail "ptp ADD" "$(tail -c 400 "$CNI_ERR")"
ADDR=$(jqv "$CNI_OUT" '.ips[0].address' | sed 's|/.*||')
assert_match "address comes from the leafnet network" "$ADDR" '^10\.60\.0\.[0-9]+$'
assert_contains "netctl shows the allocation for ctr-ptp-1" "$(allocs_of public)" "$ADDR ctr-ptp-1 eth0"
assert_contains "address on the container" "$(ip -n "$C1" -o addr show dev eth0)" "inet $ADDR/"
ping_ok "container reaches the host" "$C1" 10.255.0.1
ping_ok "host reaches the container" "$H" "$ADDR"

cni_add "$H" ctr-ptp-2 "$C2" eth0
cni_expect_ok "second ptp ADD"
ADDR2=$(jqv "$CNI_OUT" '.ips[0].address' | sed 's|/.*||')
assert_ne "second container gets another address" "$ADDR" "$ADDR2"
ping_ok "container 1 reaches container 2" "$C1" "$ADDR2"

cni_with_prev	# CHECK carries the ADD result as prevResult
cni_check "$H" ctr-ptp-2 "$C2" eth0
cni_expect_ok "ptp CHECK (calls leafnet-ipam CHECK)"

CNI_CONF=$(jq -nc '{cniVersion: "1.0.0", name: "ptpnet", type: "ptp", ipMasq: false, mtu: 1500,
	ipam: {type: "leafnet-ipam", network: "public"}}')
cni_del "$H" ctr-ptp-1 "$C1" eth0
cni_expect_ok "ptp DEL"
assert_not_contains "DEL released the allocation" "$(allocs_of public)" "ctr-ptp-1"
assert_eq "container interface gone" "" "$(ip -n "$C1" link show eth0 2>/dev/null)"
cni_del "$H" ctr-ptp-2 "$C2" eth0
cni_expect_ok "ptp DEL 2"
assert_eq "no allocation left" 0 "$(alloc_count public)"

# A network without --gateway: leafnet-ipam reports leafnet's on-link
# default 169.254.1.1 as the gateway (ptp puts it on its host veth and routes
# the subnet via it) but, by design (cni/cmd_ipam.c), no default route: ptp
# adds result routes before the gateway is reachable.  So: the subnet works.
CNI_CONF=$(jq -nc '{cniVersion: "1.0.0", name: "ptpnogw", type: "ptp", ipMasq: false, mtu: 1500,
	ipam: {type: "leafnet-ipam", network: "nogw"}}')
cni_add "$H" ctr-ptp-nogw1 "$C1" eth0
cni_expect_ok "ptp ADD on a network without a gateway"
assert_eq "IPAM result gateway defaults to 169.254.1.1" 169.254.1.1 "$(jqv "$CNI_OUT" '.ips[0].gateway')"
cni_add "$H" ctr-ptp-nogw2 "$C2" eth0
cni_expect_ok "second ptp ADD on the network without a gateway"
N2=$(jqv "$CNI_OUT" '.ips[0].address' | sed 's|/.*||')
ping_ok "gateway-less network: container 1 reaches container 2 via the host" "$C1" "$N2"
cni_del "$H" ctr-ptp-nogw1 "$C1" eth0
cni_expect_ok "ptp DEL on the network without a gateway"
cni_del "$H" ctr-ptp-nogw2 "$C2" eth0
cni_expect_ok "ptp DEL 2 on the network without a gateway"
assert_eq "nogw: no allocation left" 0 "$(alloc_count nogw)"

# ------------------------------------------------ leafnet-ipam on its own
CNI_PLUGIN=$BIN/leafnet-ipam
CNI_CONF=$(jq -nc '{cniVersion: "1.1.0", name: "x", type: "some-plugin",
	ipam: {type: "leafnet-ipam", network: "public"}}')
cni_add "$H" ctr-ipam-only "$C1" eth0
cni_expect_ok "leafnet-ipam ADD directly"
A=$(jqv "$CNI_OUT" '.ips[0].address' | sed 's|/.*||')
assert_match "IPAM result has an address" "$A" '^10\.60\.0\.'
assert_eq "IPAM result has no interfaces" "0" "$(jqv "$CNI_OUT" '.interfaces // [] | length')"
assert_eq "IPAM ADD touches no interface" "" "$(host_veths "$H")"
cni_add "$H" ctr-ipam-only "$C1" eth0
assert_eq "repeated IPAM ADD returns the same address" "$A" "$(jqv "$CNI_OUT" '.ips[0].address' | sed 's|/.*||')"
cni_del "$H" ctr-ipam-only "$C1" eth0
cni_expect_ok "leafnet-ipam DEL"
assert_eq "IPAM DEL released it" 0 "$(alloc_count public)"
cni_del "$H" ctr-ipam-only "$C1" eth0
cni_expect_ok "repeated leafnet-ipam DEL"
# a network that does not exist: the ADD's own first read finds it
# missing (no separate read before it) and says how to create it
CNI_CONF=$(jq -nc '{cniVersion: "1.1.0", name: "x", type: "some-plugin",
	ipam: {type: "leafnet-ipam", network: "nosuch"}}')
cni_add "$H" ctr-ipam-none "$C1" eth0
cni_expect_error "leafnet-ipam ADD, missing network: code 7" 7 \
	'leafnet network "nosuch" does not exist; create it with: netctl network create nosuch'
assert_eq "... nothing allocated" 0 "$(alloc_count public)"

t_done
