#!/bin/bash
# CNI STATUS and leafnetd: 51 "limited connectivity" only when BGP is
# configured for this node (a global peer, a peer of this node, the
# node-to-node mesh with another node that has a router IP, or route
# reflection with a reflector node of its AS) and leafnetd
# does not answer on its control socket, or answers with no session
# Established.  Without BGP configuration STATUS is 0 whether or not
# leafnetd runs.  A BIRD ToR brings a session up: 0 again.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" "$BIN/leafnetd" bird birdc

SOCK=$(jq -r .control_socket "$T_CONF")

mkhost H
mkns TOR
ip link add lt-n$$ netns "$H" type veth peer name lt-t$$ netns "$TOR" || bail "veth node <-> ToR"
ip -n "$H" link set lt-n$$ name uplink && ip -n "$TOR" link set lt-t$$ name down1 || bail "rename veths"
ip -n "$H" addr add 10.0.0.1/24 dev uplink && ip -n "$TOR" addr add 10.0.0.254/24 dev down1 &&
ip -n "$H" link set uplink up && ip -n "$TOR" link set down1 up || bail "veth addresses"

nctl_ok "network create" network create public --subnet=192.168.1.0/24
cni_conf public 1.1.0

status() { cni "$H" STATUS - - -; }
# status_51 WHAT REGEX: STATUS answers 51 and the message matches.
status_51() { status; cni_expect_error "$1" 51 "$2"; }
status_0() {
	status
	cni_expect_ok "$1"
	assert_eq "$1: no output" "" "$CNI_OUT"
}

# ------------------------------------------------------- no BGP at all
status_0 "no BGP configuration, no leafnetd: STATUS 0"

# ------------------------------------------- a global peer, no leafnetd
nctl_ok "bgp peer add 192.0.2.1" bgp peer add 192.0.2.1 as 65000
status_51 "global peer, no leafnetd: STATUS 51" "leafnetd is not answering on $SOCK"
assert_match "the message says what to do" "$(jqv "$CNI_OUT" .msg)" 'not advertised; start leafnetd'
assert_match "details name the socket error" "$(jqv "$CNI_OUT" .details)" "$SOCK: (No such file|Connection refused)"

# ----------------------------------- leafnetd runs, peer cannot come up
ld_start n1 "$H" "$T_CONF"
status_51 "leafnetd up, peer not Established: STATUS 51" "no BGP session is established \(peers: 192\.0\.2\.1 "
assert_match "the message points at netctl status" "$(jqv "$CNI_OUT" .msg)" 'netctl status'

# A hung leafnetd (SIGSTOP): STATUS gives up after ~200 ms.
kill -STOP "${LD_PID[n1]}"
T0=$(date +%s%N)
status_51 "leafnetd hung: STATUS 51" "leafnetd is not answering on $SOCK"
MS=$((($(date +%s%N) - T0) / 1000000))
if [ "$MS" -lt 2000 ]; then ok "STATUS with a hung leafnetd returns in ${MS} ms"
else notok "STATUS with a hung leafnetd returns quickly" "took ${MS} ms"; fi
assert_match "details say it timed out" "$(jqv "$CNI_OUT" .details)" 'timed out|200 ms'
kill -CONT "${LD_PID[n1]}"

# ------------------------------------------- a BIRD ToR: session comes up
bird_init tor "$TOR" 10.0.0.254
bird_peer tor node1 10.0.0.254 500 10.0.0.1 64511 none
bird_start tor
nctl_ok "bgp peer add 10.0.0.254 (the ToR)" bgp peer add 10.0.0.254 as 500
if ld_wait_established n1 10.0.0.254 15; then
	ok "leafnetd: peer 10.0.0.254 Established"
	status_0 "one of two peers Established: STATUS 0"
else
	notok "leafnetd: peer 10.0.0.254 Established" "$(ld_status n1 | xargs | cut -c1-300)"
	bird_diag tor
fi

# ------------------------------------------- leafnetd gone: 51 again
ld_stop n1 || notok "leafnetd exits cleanly" "exit status $?"
status_51 "leafnetd stopped with peers configured: STATUS 51" "leafnetd is not answering"
bird_stop_all

# Peers removed: BGP is not in use, leafnetd is not needed.
nctl_ok "bgp peer remove 192.0.2.1" bgp peer remove 192.0.2.1
nctl_ok "bgp peer remove 10.0.0.254" bgp peer remove 10.0.0.254
status_0 "no peers left (no leafnetd): STATUS 0"

# ----------------------------------------------------- this node's peer
nctl_ok "node bgp peer add" node bgp peer add 192.0.2.9 as 65009
status_51 "a peer of this node, no leafnetd: STATUS 51" "leafnetd is not answering on $SOCK"
nctl_ok "node bgp peer remove" node bgp peer remove 192.0.2.9
status_0 "the node's peer removed: STATUS 0"

# Another node's peer is not ours; with the mesh off it does not matter.
nctl_ok "node-mesh off" bgp node-mesh off
nctl_ok "bgp create node2 (router IP, own peer)" bgp create node2 --router-ip=10.0.0.2/24 \
	--as=65003 --neighbor-as=500 --neighbor=10.0.0.254
status_0 "mesh off, only another node's peer: STATUS 0"

# ------------------------------------------------ node-to-node mesh
nctl_ok "node-mesh on" bgp node-mesh on
status_51 "mesh on, node2 has a router IP, no leafnetd: STATUS 51" "leafnetd is not answering"
nctl_ok "node-mesh off again" bgp node-mesh off
status_0 "mesh off again: STATUS 0"

# ------------------------------------------------ route reflector nodes
# node3, in this node's AS (the default): as a reflector, node1 peers with
# it whether the mesh is on or off.
nctl_ok "node set node3" node set node3 --router-ip=10.0.0.3/24
status_0 "mesh off, node3 a plain node: STATUS 0"
nctl_ok "node rr node3 on" node rr node3 on
status_51 "mesh off, node3 a reflector of this node's AS, no leafnetd: STATUS 51" \
	"leafnetd is not answering"
nctl_ok "node rr node3 off" node rr node3 off
nctl_ok "node rr node2 on" node rr node2 on
status_0 "mesh off, only a reflector of another AS (node2): STATUS 0"
nctl_ok "node rr node2 off" node rr node2 off
nctl_ok "node rr node1 on" node rr node1 on
status_51 "this node a reflector, node3 of its AS its client, no leafnetd: STATUS 51" \
	"leafnetd is not answering"
nctl_ok "node rr node1 off" node rr node1 off
status_0 "no reflector left, mesh off: STATUS 0"

t_done
