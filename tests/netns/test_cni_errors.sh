#!/bin/bash
# Every refusal is a CNI error object with the spec's code, and its message
# names the field at fault.  A failed ADD leaves nothing behind.
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl"

mkhost H
mkcontainer C1
mkcontainer C2
mkcontainer C3
nctl_ok "network create public" network create public --subnet=10.40.0.0/24 --subnet=fd00:40::/64
nctl_ok "network create tiny" network create tiny --subnet=10.41.0.0/30 --block-size=30

nothing_left() {
	assert_eventually "$1: no lfn veth left" "" host_veths "$H"
	assert_eq "$1: no proto 76 route left" "" "$(host_routes "$H")"
	assert_eq "$1: no allocation left in public" 0 "$(alloc_count public)"
	assert_eventually "$1: container has no eth0" "" ip -n "$C1" link show eth0
}

# -------------------------------------------------------------- decode (6)
CNI_CONF='{"cniVersion": "1.1.0", "name": "public", '
cni_add "$H" ctr-err "$C1" eth0
cni_expect_error "truncated JSON config -> 6" 6 'json|parse|decode'
CNI_CONF=''
cni_add "$H" ctr-err "$C1" eth0
cni_expect_error "empty stdin on ADD -> 6" 6 'json|parse|decode|empty|stdin'
CNI_CONF='{"cniVersion": "1.1.0", "name": "public", "type": "leafnet", "network": 42}'
cni_add "$H" ctr-err "$C1" eth0
case $(jqv "$CNI_OUT" .code) in
6|7) ok "network of the wrong JSON type -> code 6 or 7" ;;
*)   notok "network of the wrong JSON type -> code 6 or 7" "exit $CNI_RC: $CNI_OUT" ;;
esac
assert_match "wrong JSON type: message names network" "$(jqv "$CNI_OUT" .msg)" 'network'

# ------------------------------------------------------ invalid config (7)
cni_conf nosuchnet 1.1.0
cni_add "$H" ctr-err "$C1" eth0
cni_expect_error "unknown network -> 7" 7 'nosuchnet'

cni_conf public 1.1.0 '.runtimeConfig.ips = ["10.40.0.300/24"]'
cni_add "$H" ctr-err "$C1" eth0
cni_expect_error "bad address in runtimeConfig.ips -> 7" 7 'ips|10\.40\.0\.300'

cni_conf public 1.1.0 '.runtimeConfig.ips = ["10.99.0.5/24"]'
cni_add "$H" ctr-err "$C1" eth0
cni_expect_error "runtimeConfig.ips outside every subnet -> 7" 7 '10\.99\.0\.5'

# IP= travels in an environment variable (CNI_ARGS): the spec's code 4.
cni_conf public 1.1.0
cni_add "$H" ctr-err "$C1" eth0 CNI_ARGS='IP=10.40.0.999'
cni_expect_error "bad IP= in CNI_ARGS -> 4" 4 'CNI_ARGS.*IP|10\.40\.0\.999'

cni_conf public 1.1.0 '.mtu = 100000'
cni_add "$H" ctr-err "$C1" eth0
cni_expect_error "mtu 100000 -> 7" 7 'mtu'
cni_conf public 1.1.0 '.mtu = 10'
cni_add "$H" ctr-err "$C1" eth0
cni_expect_error "mtu 10 -> 7" 7 'mtu'

# --------------------------------------------------- unsupported field (2)
cni_conf public 1.1.0
cni_add "$H" ctr-err "$C1" eth0 CNI_ARGS='FOO=bar'
cni_expect_error "unknown CNI_ARGS key without IgnoreUnknown -> 2" 2 'FOO'

# ----------------------------------------------------------- bad env (4)
cni_conf public 1.1.0
cni "$H" ADD - "$(nspath "$C1")" eth0
cni_expect_error "missing CNI_CONTAINERID -> 4" 4 'CNI_CONTAINERID'
cni "$H" ADD ctr-err - eth0
cni_expect_error "missing CNI_NETNS on ADD -> 4" 4 'CNI_NETNS'
cni "$H" ADD ctr-err "$(nspath "$C1")" -
cni_expect_error "missing CNI_IFNAME -> 4" 4 'CNI_IFNAME'
cni "$H" - ctr-err "$(nspath "$C1")" eth0
cni_expect_error "missing CNI_COMMAND -> 4" 4 'CNI_COMMAND'
cni "$H" FROB ctr-err "$(nspath "$C1")" eth0
cni_expect_error "unknown CNI_COMMAND -> 4" 4 'CNI_COMMAND|FROB'
cni "$H" ADD ctr-err "$(nspath "$C1")" 'this-name-is-far-too-long'
cni_expect_error "CNI_IFNAME longer than 15 chars -> 4" 4 'CNI_IFNAME|ifname|interface'

# --------------------------------------------- incompatible version (1)
cni_conf public 0.2.0
cni_add "$H" ctr-err "$C1" eth0
cni_expect_error "cniVersion 0.2.0 -> 1" 1 'cniVersion|0\.2\.0|version'
cni_conf public 9.9.9
cni_add "$H" ctr-err "$C1" eth0
cni_expect_error "cniVersion 9.9.9 -> 1" 1 'cniVersion|9\.9\.9|version'
cni_conf public 0.3.1
cni_check "$H" ctr-err "$C1" eth0
cni_expect_error "CHECK with cniVersion 0.3.1 -> 1" 1 'CHECK|0\.3\.1|version'

nothing_left "after the refused ADDs"

# --------------------------------------------------- netns that is gone
cni_conf public 1.1.0
cni "$H" ADD ctr-err /run/netns/lft-no-such-netns-$$ eth0
if [ "$CNI_RC" != 0 ] && [ -n "$(jqv "$CNI_OUT" .code)" ]; then
	ok "ADD into a missing netns fails with code $(jqv "$CNI_OUT" .code)"
else
	notok "ADD into a missing netns fails with an error object" "exit $CNI_RC: $CNI_OUT"
fi
assert_match "missing netns error names the netns" "$(jqv "$CNI_OUT" '"\(.msg) \(.details // "")"')" \
	'netns|namespace|lft-no-such-netns'
nothing_left "after ADD into a missing netns"

# ------------------------------------------------- pool exhaustion (100)
cni_conf tiny 1.1.0
cni_add "$H" ctr-tiny-1 "$C1" eth0
cni_expect_ok "tiny /30: first ADD"
cni_add "$H" ctr-tiny-2 "$C2" eth0
cni_expect_ok "tiny /30: second ADD"
cni_add "$H" ctr-tiny-3 "$C3" eth0
cni_expect_error "tiny /30: third ADD -> 100 pool exhausted" 100 'tiny|exhaust|no free'
assert_eventually "tiny /30: failed ADD leaves no veth" 2 count_lines host_veths "$H"
assert_eq "tiny /30: failed ADD leaves no eth0" "" "$(ip -n "$C3" link show eth0 2>/dev/null)"
assert_eq "tiny /30: two allocations" 2 "$(alloc_count tiny)"
ADDRS=$(allocs_of tiny | awk '{sub(/\/.*/, "", $1); print $1}' | sort | tr '\n' ' ')
assert_eq "tiny /30: network and broadcast never handed out" "10.41.0.1 10.41.0.2 " "$ADDRS"

# Static address already taken -> 101 naming it.
cni_conf tiny 1.1.0 '.runtimeConfig.ips = ["10.41.0.1/30"]'
cni_add "$H" ctr-tiny-3 "$C3" eth0
if [ "$(jqv "$CNI_OUT" .code)" = 101 ] || [ "$(jqv "$CNI_OUT" .code)" = 7 ]; then
	ok "taken static address refused ($(jqv "$CNI_OUT" .code))"
else
	notok "taken static address refused with 101" "exit $CNI_RC: $CNI_OUT"
fi
assert_match "taken static address: message names it" "$(jqv "$CNI_OUT" .msg)" '10\.41\.0\.1'

cni_conf tiny 1.1.0
for i in 1 2; do
	n=C$i
	cni_del "$H" ctr-tiny-$i "${!n}" eth0
	cni_expect_ok "tiny /30: DEL $i"
done
assert_eq "tiny /30: no allocation left" 0 "$(alloc_count tiny)"
nothing_left "at the end"

t_done
