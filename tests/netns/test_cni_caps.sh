#!/bin/bash
# Runtime capabilities: the CNI `mac` capability (runtimeConfig.mac,
# args.cni.mac, CNI_ARGS MAC=) sets the container interface's MAC, shown in
# the result and in `ip link`, verified by CHECK, kept by a repeated ADD, a
# bad one refused with code 7 naming the field; and a CNI workload pings its
# gateway (169.254.1.1, a network's --gateway, fe80::1): the host answers.
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" ping jq

mkhost H
for i in 1 2 3 4 5 6 7 8; do mkcontainer "C$i"; done
nctl_ok "network create public" network create public --subnet=10.60.0.0/24 --subnet=fd00:60::/64
nctl_ok "network create gwnet" network create gwnet --subnet=192.168.61.0/24 --gateway=192.168.61.254

cont_mac() { jqv "$CNI_OUT" "[.interfaces[]? | select((.sandbox // \"\") != \"\" and .name == \"${1:-eth0}\")][0].mac // empty"; }
host_if() { jqv "$CNI_OUT" '[.interfaces[]? | select((.sandbox // "") == "")][0].name // empty'; }
link_mac() { ip -n "$1" -j link show dev "${2:-eth0}" 2>/dev/null | jq -r '.[0].address // empty'; }
v4_of() { jqv "$CNI_OUT" '[.ips[]?.address | select(contains(":") | not)][0] // empty | sub("/.*"; "")'; }

# ----------------------------------------------------------- gateway ping
cni_conf public 1.1.0
cni_add "$H" ctr-caps-gw1 "$C1" eth0
cni_expect_ok "ADD c1 on public (default gateways)" || bail "ADD c1" "nothing else can be tested"
HIF1=$(host_if); A1=$(v4_of)
cni_add "$H" ctr-caps-gw3 "$C3" eth0
cni_expect_ok "ADD c3 on public"
HIF3=$(host_if)

assert_contains "host veth of c1 holds 169.254.1.1/32 scope host" \
	"$(ip -n "$H" -4 -o addr show dev "$HIF1")" "inet 169.254.1.1/32 scope host"
ping_ok "c1 pings its gateway 169.254.1.1" "$C1" 169.254.1.1
ping_ok "c3 pings the same gateway 169.254.1.1 (shared by two veths)" "$C3" 169.254.1.1
ping_ok "c1 pings its gateway fe80::1 over IPv6" "$C1" "fe80::1%eth0"
ping_ok "c3 pings fe80::1 over IPv6" "$C3" "fe80::1%eth0"
ping_ok "c1 still pings the host's own address" "$C1" 10.255.0.1
# the gateway is scope host: the host keeps talking to workloads from its own address
assert_contains "host -> c1 still sourced from the host's address" \
	"$(ip -n "$H" route get "$A1" 2>&1)" "src 10.255.0.1"
ping_ok "host pings c1" "$H" "$A1"
cni_check "$H" ctr-caps-gw1 "$C1" eth0
cni_expect_ok "CHECK c1 passes with the gateway on its veth"

cni_conf gwnet 1.1.0
cni_add "$H" ctr-caps-gw2 "$C2" eth0
cni_expect_ok "ADD c2 on gwnet (--gateway=192.168.61.254)"
HIF2=$(host_if)
assert_eq "c2's result names gateway 192.168.61.254" 192.168.61.254 "$(jqv "$CNI_OUT" '.ips[0].gateway')"
ping_ok "c2 pings its configured gateway 192.168.61.254" "$C2" 192.168.61.254
assert_fails "the gateway answer is the host's, not a route elsewhere: c2 cannot ping 192.168.61.253" \
	ip netns exec "$C2" ping -c 1 -W 1 192.168.61.253

cni_conf public 1.1.0
cni_del "$H" ctr-caps-gw1 "$C1" eth0
cni_expect_ok "DEL c1"
assert_eq "c1's veth gone from its name at once" "" "$(ip -n "$H" link show "$HIF1" 2>/dev/null)"
ping_ok "c3 still pings 169.254.1.1 after c1's DEL" "$C3" 169.254.1.1

# ----------------------------------------------------- mac: runtimeConfig
MAC1=02:aa:bb:cc:dd:01
cni_conf public 1.1.0 ".capabilities = {\"mac\": true} | .runtimeConfig = {\"mac\": \"02:AA:bb:CC:dd:01\"}"
cni_add "$H" ctr-caps-mac1 "$C4" eth0
cni_expect_ok "ADD with runtimeConfig.mac (mixed case)"
RES4=$CNI_OUT
assert_eq "result reports the requested MAC" "$MAC1" "$(cont_mac)"
assert_eq "ip link in the container shows it" "$MAC1" "$(link_mac "$C4")"
ping_ok "c4 with its own MAC pings its gateway" "$C4" 169.254.1.1
ping_ok "host pings c4" "$H" "$(v4_of)"
cni_with_prev
cni_check "$H" ctr-caps-mac1 "$C4" eth0
cni_expect_ok "CHECK with runtimeConfig.mac and the ADD's prevResult"

CNI_OUT=$RES4
cni_conf public 1.1.0 ".runtimeConfig = {\"mac\": \"$MAC1\"}"
cni_add "$H" ctr-caps-mac1 "$C4" eth0
cni_expect_ok "repeated ADD with the same runtimeConfig.mac"
assert_eq "repeated ADD: result keeps the MAC" "$MAC1" "$(cont_mac)"
assert_eq "repeated ADD: ip link keeps the MAC" "$MAC1" "$(link_mac "$C4")"
assert_eq "repeated ADD: one eth0 in the container" 1 "$(ip -n "$C4" -o link show | grep -c ': eth0@')"
RES4=$CNI_OUT

cni_conf public 1.1.0 '.runtimeConfig = {"mac": "02:aa:bb:cc:dd:99"}'
cni_check "$H" ctr-caps-mac1 "$C4" eth0
cni_expect_error "CHECK with another runtimeConfig.mac fails naming both MACs" 104 \
	"MAC address 02:aa:bb:cc:dd:01, expected 02:aa:bb:cc:dd:99"
# the prevResult's MACs are checked too (the latest ADD's result)
cni_conf public 1.1.0
CNI_OUT=$(jq -c '(.interfaces[] | select(.name == "eth0") | .mac) = "02:00:00:00:00:42"' <<<"$RES4")
cni_with_prev
cni_check "$H" ctr-caps-mac1 "$C4" eth0
cni_expect_error "CHECK with a prevResult naming another MAC fails" 104 "expected 02:00:00:00:00:42"
CNI_OUT=$(jq -c '(.interfaces[] | select(.name | startswith("lfn")) | .mac) = "02:00:00:00:00:43"' <<<"$RES4")
cni_conf public 1.1.0
cni_with_prev
cni_check "$H" ctr-caps-mac1 "$C4" eth0
cni_expect_error "CHECK with a prevResult naming another host veth MAC fails" 104 \
	"host veth lfn[0-9a-f]+ has MAC address .*expected 02:00:00:00:00:43"

# DEL never looks at the MAC
cni_conf public 1.1.0 '.runtimeConfig = {"mac": "not-a-mac"}'
cni_del "$H" ctr-caps-mac1 "$C4" eth0
cni_expect_ok "DEL with a bad runtimeConfig.mac still succeeds"
assert_eq "DEL: c4's eth0 gone" "" "$(ip -n "$C4" link show eth0 2>/dev/null)"

# ---------------------------------------------------- mac: CNI_ARGS MAC=
MAC2=02:aa:bb:cc:dd:02
cni_conf public 1.1.0
cni_add "$H" ctr-caps-mac2 "$C5" eth0 CNI_ARGS="MAC=$MAC2"
cni_expect_ok "ADD with CNI_ARGS MAC= (no IgnoreUnknown needed)"
assert_eq "CNI_ARGS MAC: result reports it" "$MAC2" "$(cont_mac)"
assert_eq "CNI_ARGS MAC: ip link shows it" "$MAC2" "$(link_mac "$C5")"
cni_check "$H" ctr-caps-mac2 "$C5" eth0 CNI_ARGS="IgnoreUnknown=1;MAC=$MAC2"
cni_expect_ok "CHECK with CNI_ARGS MAC="
cni_check "$H" ctr-caps-mac2 "$C5" eth0 CNI_ARGS="MAC=02:aa:bb:cc:dd:03"
cni_expect_error "CHECK with another CNI_ARGS MAC fails" 104 "expected 02:aa:bb:cc:dd:03"

# runtimeConfig.mac wins over args.cni.mac, which wins over CNI_ARGS
cni_conf public 1.1.0 '.args = {"cni": {"mac": "02:aa:bb:cc:dd:05"}}'
cni_add "$H" ctr-caps-mac3 "$C6" eth0 CNI_ARGS="IgnoreUnknown=1;MAC=02:aa:bb:cc:dd:04"
cni_expect_ok "ADD with args.cni.mac and CNI_ARGS MAC"
assert_eq "args.cni.mac wins over CNI_ARGS MAC" 02:aa:bb:cc:dd:05 "$(link_mac "$C6")"
cni_conf public 1.1.0 '.args = {"cni": {"mac": "02:aa:bb:cc:dd:05"}} | .runtimeConfig = {"mac": "02:aa:bb:cc:dd:06"}'
cni_add "$H" ctr-caps-mac4 "$C7" eth0 CNI_ARGS="MAC=02:aa:bb:cc:dd:04"
cni_expect_ok "ADD with all three MAC sources"
assert_eq "runtimeConfig.mac wins" 02:aa:bb:cc:dd:06 "$(link_mac "$C7")"
cni_conf public 1.1.0 '.runtimeConfig = {"mac": ""}'
cni_add "$H" ctr-caps-mac5 "$C8" eth0
cni_expect_ok "ADD with runtimeConfig.mac \"\" (not asked for)"
assert_match "empty mac: a random locally administered unicast MAC" "$(link_mac "$C8")" '^[0-9a-f][26ae]:'

# ----------------------------------------------------------- bad MACs
ALLOCS=$(alloc_count public)
bad_mac() {	# WHAT JQ-RUNTIMECONFIG-MAC NEEDLE
	cni_conf public 1.1.0 ".runtimeConfig = {\"mac\": $2}"
	cni_add "$H" ctr-caps-bad "$C1" eth0
	cni_expect_error "$1 refused with code 7" 7 "$3"
}
bad_mac "multicast runtimeConfig.mac" '"01:00:5e:00:00:01"' 'runtimeConfig\.mac: "01:00:5e:00:00:01" is not a unicast'
bad_mac "broadcast runtimeConfig.mac" '"ff:ff:ff:ff:ff:ff"' 'runtimeConfig\.mac.*not a unicast'
bad_mac "all-zero runtimeConfig.mac" '"00:00:00:00:00:00"' 'runtimeConfig\.mac.*not a unicast'
bad_mac "five-octet runtimeConfig.mac" '"02:aa:bb:cc:dd"' 'runtimeConfig\.mac.*six hex octets'
bad_mac "dash-separated runtimeConfig.mac" '"02-aa-bb-cc-dd-ee"' 'runtimeConfig\.mac.*not a MAC address'
bad_mac "20-byte runtimeConfig.mac" '"02:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc"' 'runtimeConfig\.mac'
bad_mac "numeric runtimeConfig.mac" '5' 'runtimeConfig\.mac: expected a MAC address string'
cni_conf public 1.1.0 '.args = {"cni": {"mac": "02:aa:bb:cc:dd:gg"}}'
cni_add "$H" ctr-caps-bad "$C1" eth0
cni_expect_error "bad args.cni.mac refused with code 7" 7 'args\.cni\.mac'
cni_conf public 1.1.0
cni_add "$H" ctr-caps-bad "$C1" eth0 CNI_ARGS="IgnoreUnknown=1;MAC=03:00:00:00:00:01"
cni_expect_error "multicast CNI_ARGS MAC refused with code 7" 7 'CNI_ARGS MAC: "03:00:00:00:00:01"'
cni_add "$H" ctr-caps-bad "$C1" eth0 CNI_ARGS="MAC=zz"
cni_expect_error "malformed CNI_ARGS MAC refused with code 7" 7 'CNI_ARGS MAC: "zz"'
assert_eq "refused ADDs left no interface in c1" "" "$(ip -n "$C1" link show eth0 2>/dev/null)"
assert_eq "refused ADDs allocated nothing" "$ALLOCS" "$(alloc_count public)"

# ------------------------------------------------------------- cleanup
cni_conf public 1.1.0
for c in "ctr-caps-gw3 $C3" "ctr-caps-mac2 $C5" "ctr-caps-mac3 $C6" "ctr-caps-mac4 $C7" "ctr-caps-mac5 $C8"; do
	set -- $c
	cni_del "$H" "$1" "$2" eth0
	cni_expect_ok "DEL $1"
done
cni_conf gwnet 1.1.0
cni_del "$H" ctr-caps-gw2 "$C2" eth0
cni_expect_ok "DEL ctr-caps-gw2"
gw_addrs() { ip -n "$H" -4 -o addr show | grep -cE '169\.254\.1\.1|192\.168\.61\.254'; }
assert_eventually "no leafnet veth left (DEL's deleter runs after it)" "" host_veths "$H"
assert_eventually "no gateway address left in the host (it goes with the veths)" 0 gw_addrs
assert_eq "no allocation left on public" 0 "$(alloc_count public)"
t_done
