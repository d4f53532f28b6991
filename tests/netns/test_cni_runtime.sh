#!/bin/bash
# What real runtimes (containerd/CRI-O via libcni, podman, kubelet) send:
# VERSION with dummy variables, Kubernetes CNI_ARGS, IP=, runtimeConfig
# with capabilities the plugin does not declare, a prevResult in a chain,
# and every cniVersion from 0.3.0 to 1.1.0.
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl"

mkhost H
for i in 1 2 3 4 5 6 7 8 9; do mkcontainer "C$i"; done
nctl_ok "network create" network create public --subnet=10.50.0.0/24 --subnet=fd00:50::/64

ALL_VERSIONS="0.3.0 0.3.1 0.4.0 1.0.0 1.1.0"

# ------------------------------------------------------------- VERSION
# libcni sends dummy CNI_CONTAINERID/NETNS/IFNAME and {"cniVersion":...} or nothing.
CNI_CONF=''
cni "$H" VERSION dummy dummy dummy
cni_expect_ok "VERSION with dummy variables and empty stdin"
for v in $ALL_VERSIONS; do
	assert_eq "VERSION lists $v" "$v" "$(jqv "$CNI_OUT" ".supportedVersions[] | select(. == \"$v\")")"
done
assert_eq "VERSION answers with cniVersion 1.1.0" 1.1.0 "$(jqv "$CNI_OUT" .cniVersion)"
CNI_CONF='{"cniVersion":"0.4.0"}'
cni "$H" VERSION - - -
cni_expect_ok "VERSION with {cniVersion: 0.4.0} and no other variable"
assert_match "VERSION still lists the supported versions" "$(jqv "$CNI_OUT" '.supportedVersions | join(",")')" '1\.1\.0'

cni_conf public 1.1.0
cni "$H" STATUS - - -
cni_expect_ok "STATUS (1.1.0) with the network present"

# ---------------------------------------------------- Kubernetes CNI_ARGS
K8S_ARGS='IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=ctr-rt-k8s;K8S_POD_UID=6f1c2a0e-1111-2222-3333-444455556666'
cni_add "$H" ctr-rt-k8s "$C1" eth0 CNI_ARGS="$K8S_ARGS"
cni_expect_ok "ADD with kubelet's CNI_ARGS"
assert_contains "allocation handle records the pod" \
	"$(nctl network inspect public -o json; jqv "$NCTL_OUT" '.allocations[] | select(.container_id == "ctr-rt-k8s") | .handle')" \
	"prod/web-0"
cni_add "$H" ctr-rt-k8s2 "$C2" eth0 CNI_ARGS='IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;SOMETHING_NEW=x'
cni_expect_ok "ADD with an unknown CNI_ARGS key under IgnoreUnknown=1"

# ------------------------------------------------------------------- IP=
cni_add "$H" ctr-rt-static "$C3" eth0 CNI_ARGS='IgnoreUnknown=1;IP=10.50.0.77'
cni_expect_ok "ADD with CNI_ARGS IP=10.50.0.77"
assert_contains "IP= address in the result" "$(jqv "$CNI_OUT" '[.ips[].address] | join(" ")')" "10.50.0.77/"
assert_contains "IP= address on the container" "$(ip -n "$C3" -o addr show dev eth0)" "inet 10.50.0.77/32"
assert_contains "host route for the IP= address" "$(host_routes "$H")" "10.50.0.77 "

cni_add "$H" ctr-rt-static2 "$C4" eth0 CNI_ARGS='IP=10.50.0.77'
if [ "$CNI_RC" != 0 ] && [ -n "$(jqv "$CNI_OUT" .code)" ]; then
	ok "taken IP= address refused (code $(jqv "$CNI_OUT" .code))"
else
	notok "taken IP= address refused" "exit $CNI_RC: $CNI_OUT"
fi
assert_match "taken address: message names the address" "$(jqv "$CNI_OUT" '"\(.msg) \(.details // "")"')" '10\.50\.0\.77'
assert_eq "taken address: C4 got no interface" "" "$(ip -n "$C4" link show eth0 2>/dev/null)"
assert_eq "taken address: still owned by the first container" "ctr-rt-static" \
	"$(allocs_of public | awk '$1 ~ /^10\.50\.0\.77(\/|$)/ {print $2}')"

cni_conf public 1.1.0 '.runtimeConfig.ips = ["10.50.0.88/24"]'
cni_add "$H" ctr-rt-rtips "$C5" eth0
cni_expect_ok "ADD with runtimeConfig.ips"
assert_contains "runtimeConfig.ips address on the container" "$(ip -n "$C5" -o addr show dev eth0)" "inet 10.50.0.88/32"

# ------------------------------------------ undeclared runtimeConfig keys
cni_conf public 1.1.0 '.capabilities = {"portMappings": true, "bandwidth": true} |
	.runtimeConfig = {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}],
	                  "bandwidth": {"ingressRate": 1000000, "egressRate": 1000000},
	                  "io.kubernetes.cri.pod-annotations": {"a": "b"}}'
cni_add "$H" ctr-rt-caps "$C6" eth0
cni_expect_ok "ADD with portMappings/bandwidth in runtimeConfig (not declared)"

# ------------------------------------------------------------- chaining
PREV='{"cniVersion":"1.1.0","interfaces":[{"name":"dummy0","mac":"02:00:00:00:00:01"}],
       "ips":[{"address":"10.77.0.5/24","interface":0}],"dns":{"nameservers":["10.0.0.53"]}}'
cni_conf public 1.1.0 ".prevResult = $PREV"
cni_add "$H" ctr-rt-chain "$C7" eth0
cni_expect_ok "ADD with a prevResult (chained)"
assert_contains "prevResult interface kept" "$(jqv "$CNI_OUT" '[.interfaces[].name] | join(" ")')" "dummy0"
assert_contains "prevResult address kept" "$(jqv "$CNI_OUT" '[.ips[].address] | join(" ")')" "10.77.0.5/24"
assert_contains "prevResult dns kept" "$(jqv "$CNI_OUT" '.dns.nameservers | join(" ")')" "10.0.0.53"
assert_match "leafnet's own address added" "$(jqv "$CNI_OUT" '[.ips[].address] | join(" ")')" '10\.50\.0\.'
assert_eq "our ips point at existing interfaces" "" \
	"$(jqv "$CNI_OUT" '. as $r | .ips[] | select(.interface != null and .interface >= ($r.interfaces | length)) | .address')"

# ------------------------------------------------------ every cniVersion
for v in $ALL_VERSIONS; do
	cni_conf public "$v"
	cni_add "$H" "ctr-rt-v$v" "$C8" eth0
	cni_expect_ok "ADD with cniVersion $v" || continue
	assert_eq "$v: result cniVersion" "$v" "$(jqv "$CNI_OUT" .cniVersion)"
	vers=$(jqv "$CNI_OUT" '[.ips[] | .version // "none"] | sort | join(",")')
	case $v in
	0.*) assert_eq "$v: ips carry version 4 and 6" "4,6" "$vers" ;;
	*)   assert_eq "$v: ips carry no version field" "none,none" "$vers" ;;
	esac
	assert_eq "$v: one container interface" 1 \
		"$(jqv "$CNI_OUT" '[.interfaces[] | select((.sandbox // "") != "")] | length')"
	if [ "$v" != 0.3.0 ] && [ "$v" != 0.3.1 ]; then
		cni_with_prev
		cni_check "$H" "ctr-rt-v$v" "$C8" eth0
		cni_expect_ok "$v: CHECK with the result as prevResult"
	fi
	cni_del "$H" "ctr-rt-v$v" "$C8" eth0
	cni_expect_ok "$v: DEL"
	assert_eventually "$v: eth0 gone" "" ip -n "$C8" link show eth0
done

# ------------------------------------------------------------ tear down
cni_conf public 1.1.0
for pair in ctr-rt-k8s:C1 ctr-rt-k8s2:C2 ctr-rt-static:C3 ctr-rt-rtips:C5 ctr-rt-caps:C6 ctr-rt-chain:C7; do
	cid=${pair%%:*}
	ns=${pair#*:}
	cni_del "$H" "$cid" "${!ns}" eth0
	[ "$CNI_RC" = 0 ] || notok "DEL $cid" "exit $CNI_RC: $CNI_OUT"
done
assert_eventually "no lfn veth left" "" host_veths "$H"
assert_eq "no proto 76 route left" "" "$(host_routes "$H")"
assert_eq "no allocation left" 0 "$(alloc_count public)"

t_done
