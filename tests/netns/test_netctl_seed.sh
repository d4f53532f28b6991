#!/bin/bash
# test_netctl_seed.sh — the seed documents' commands, verbatim, as Contiv
# and Calico users type them (Go-style single-dash long flags, quoted
# values, --encap), against a running leafnetd in a host netns; then what
# they stored, and the refusals (an overlay encap, a Go-style typo).
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/netctl" "$BIN/leafnetd" jq

mkhost H
jq '. + {node_name: "Contiv1", bgp_port: 1179}' "$T_CONF" >"$T_CONF.new" && mv "$T_CONF.new" "$T_CONF"
. "$(dirname "$0")/../bird.sh"

netctl() { nctl "$@"; }	# the commands below are the documents' lines

seed() {	# WHAT: the last netctl exited 0
	if [ "$NCTL_RC" = 0 ]; then ok "$1"
	else notok "$1" "exit $NCTL_RC: $(echo "$NCTL_ERR" | head -2 | xargs | cut -c1-300)"; fi
}

# --- Contiv (netctl)
netctl bgp create Contiv1 -router-ip="50.1.1.1/24" --as="65002" --neighbor-as="500" --neighbor="50.1.1.2"
seed "Contiv: netctl bgp create Contiv1 -router-ip=... --as=... --neighbor-as=... --neighbor=..."
netctl network create public --encap="vlan" --subnet=192.168.1.0/24 --gateway=192.168.1.254
seed "Contiv: netctl network create public --encap=\"vlan\" --subnet=... --gateway=..."
assert_contains "--encap=vlan: one line says leafnet routes natively" "$NCTL_OUT" "leafnet routes natively"
# --- Calico (calicoctl)
netctl bgp default-node-as 64511
seed "Calico: netctl bgp default-node-as 64511"
netctl bgp node-mesh off
seed "Calico: netctl bgp node-mesh off"
netctl bgp peer add 192.0.2.1 as 65000
seed "Calico: netctl bgp peer add 192.0.2.1 as 65000"
netctl node bgp peer add 192.0.2.2 as 65001
seed "Calico: netctl node bgp peer add 192.0.2.2 as 65001"

ld_start h "$H" "$T_CONF"
netctl status
seed "netctl status (leafnetd running)"
assert_contains "status: the global peer is listed" "$NCTL_OUT" "192.0.2.1"
assert_contains "status: the node's own peers are listed" "$NCTL_OUT" "50.1.1.2"

# --- what they stored
netctl node show Contiv1 -o json
assert_eq "node Contiv1: AS 65002" 65002 "$(jqv "$NCTL_OUT" .as)"
assert_contains "node Contiv1: router IP 50.1.1.1/24" "$NCTL_OUT" "50.1.1.1/24"
netctl node bgp peer show -o json
assert_eq "node Contiv1's peers: 50.1.1.2 AS 500 and 192.0.2.2 AS 65001" "192.0.2.2:65001 50.1.1.2:500" \
	"$(jqv "$NCTL_OUT" '[.[] | "\(.ip):\(.as)"] | sort | join(" ")')"
netctl bgp peer show -o json
assert_eq "global peer 192.0.2.1 AS 65000" "192.0.2.1:65000" "$(jqv "$NCTL_OUT" '[.[] | "\(.ip):\(.as)"] | join(" ")')"
netctl bgp node-mesh
assert_contains "node-mesh is off" "$NCTL_OUT" "off"
netctl bgp default-node-as
assert_contains "default-node-as 64511" "$NCTL_OUT" "64511"
netctl network inspect public
assert_contains "inspect says the network is routed natively (--encap=vlan)" "$NCTL_OUT" \
	"routed natively (created with --encap=vlan)"
netctl network inspect public -o json
assert_eq "inspect -o json: encap vlan, informational" vlan "$(jqv "$NCTL_OUT" .encap)"
assert_eq "inspect -o json: gateway 192.168.1.254" 192.168.1.254 "$(jqv "$NCTL_OUT" '.subnets[0].gateway')"

# --- the same flags in every spelling, and -o still short
netctl network create routed1 -encap=routed -subnet=10.61.0.0/24 -gateway 10.61.0.1 -o json
seed "single-dash long flags on network create, -o json still works"
assert_eq "  ... JSON output" routed "$(jqv "$NCTL_OUT" '.[0].encap')"
netctl network update routed1 -nat-outgoing -o=json
seed "single-dash long flags on network update"
netctl network rm routed1 -f
seed "-f still short on network rm"
netctl -output json status
seed "global -output json"

# --- refusals
for enc in vxlan ipip; do
	netctl network create ov --encap="$enc" --subnet=10.62.0.0/24
	assert_eq "--encap=$enc refused with exit 2" 2 "$NCTL_RC"
	assert_contains "--encap=$enc: leafnet routes natively, what to use instead" "$NCTL_ERR" \
		"routes each workload address natively"
	assert_contains "--encap=$enc: names --encap=routed" "$NCTL_ERR" "--encap=routed"
done
netctl network ls -o json
assert_eq "no network ov was made" 0 "$(jqv "$NCTL_OUT" '[.[] | select(.name=="ov")] | length')"
netctl bgp create Contiv2 -router-ipp="50.1.1.3/24" --as=65002 --neighbor-as=500 --neighbor=50.1.1.2
assert_eq "a Go-style typo is refused, exit 2" 2 "$NCTL_RC"
assert_contains "  ... naming the flag as typed" "$NCTL_ERR" "unknown flag -router-ipp"
netctl network create x -routable=yes --subnet=10.63.0.0/24
assert_eq "-routable=yes: exit 2" 2 "$NCTL_RC"
assert_contains "  ... takes no value" "$NCTL_ERR" "takes no value"

ld_stop h
t_done
