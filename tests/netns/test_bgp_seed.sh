#!/bin/bash
# The seed scenario end to end: two hosts behind one BIRD ToR (AS 500).
#
#        hostA (AS 65002)                      hostB (AS 65002)
#   ca -- leafnet -- leafnetd            ca -- leafnet -- leafnetd
#              10.0.1.1 \                      / 10.0.2.1
#                 10.0.1.254  [ BIRD ToR ]  10.0.2.254
#
# Each host is a namespace with its own leafnetd and its own config file
# (node_name hostA / hostB, own control socket and log).  Both configs
# point at ONE state directory: the file store is safe across processes,
# so `netctl network create public` is made once and the two hosts claim
# different per-host blocks of it — two separate stores would hand out the
# same addresses on both hosts.
#
# Both hosts are AS 65002, as in the issue's `netctl bgp create` lines.
# The ToR re-advertising host B's routes to host A would carry 65002 in the
# AS_PATH and host A would drop them (loop detection), so this uses the
# "downward default" fabric model: the ToR sends each host only a default
# route (installed as proto 77), and the ToR itself holds every host's
# routes.  node-mesh is off.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" "$BIN/leafnetd" bird birdc ping

mkns TOR
ip netns exec "$TOR" sysctl -qw net.ipv4.ip_forward=1
bird_init tor "$TOR" 10.0.0.254
bird_kernel tor fib
bird_default_route tor

# host LETTER N: namespace, uplink 10.0.N.1/24 <-> ToR 10.0.N.254/24, a
# config of its own on the shared state dir, a ToR protocol.
declare -A HOSTNS CONF
host() {
	local l=$1 n=$2 hns
	mkhost hns "10.255.$n.1" "fd00:ff::$n"
	HOSTNS[$l]=$hns
	ip link add ls-h$n-$$ netns "$hns" type veth peer name ls-t$n-$$ netns "$TOR" || bail "veth host$l"
	ip -n "$hns" link set "ls-h$n-$$" name uplink && ip -n "$TOR" link set "ls-t$n-$$" name "down$n" &&
	ip -n "$hns" addr add "10.0.$n.1/24" dev uplink && ip -n "$TOR" addr add "10.0.$n.254/24" dev "down$n" &&
	ip -n "$hns" link set uplink up && ip -n "$TOR" link set "down$n" up || bail "host$l link"
	CONF[$l]=$T_TMP/host$l.conf
	ld_conf "${CONF[$l]}" "host$l" "$T_TMP/state"
	bird_peer tor "host$l" "10.0.$n.254" 500 "10.0.$n.1" 65002 default
}
host A 1
host B 2
bird_start tor

# netctl as a given host (its config: node name, control socket).
hctl() { local l=$1; shift; T_CONF=${CONF[$l]} nctl_ok "$@"; }

hctl A "network create public (once, shared store)" network create public \
	--subnet=192.168.1.0/24 --gateway=192.168.1.254
hctl A "bgp create hostA" bgp create hostA --router-ip=10.0.1.1/24 --as=65002 \
	--neighbor-as=500 --neighbor=10.0.1.254
hctl B "bgp create hostB" bgp create hostB --router-ip=10.0.2.1/24 --as=65002 \
	--neighbor-as=500 --neighbor=10.0.2.254
hctl A "node-mesh off" bgp node-mesh off

ld_start A "${HOSTNS[A]}" "${CONF[A]}"
ld_start B "${HOSTNS[B]}" "${CONF[B]}"

for l in A B; do
	n=$([ $l = A ] && echo 1 || echo 2)
	if ld_wait_established $l "10.0.$n.254" 10; then
		ok "host$l: netctl status shows the ToR Established"
	else
		notok "host$l: netctl status shows the ToR Established" "$(ld_status $l | xargs | cut -c1-300)"
	fi
	assert_bird_established "ToR: session to host$l Established" tor "host$l" 5
	assert_eventually "host$l: default via the ToR in its kernel (proto 77)" 1 \
		count_lines ip -n "${HOSTNS[$l]}" route show proto 77 default via "10.0.$n.254"
done
assert_not_contains "hostA's status lists only its own peer" "$(ld_status A)" 10.0.2.254

# ---------------------------------------------------------- containers
declare -A ADDR
cni_conf public 1.1.0
for l in A B; do
	mkcontainer c
	T_CONF=${CONF[$l]} cni_add "${HOSTNS[$l]}" "ctr-seed-$l" "$c" eth0
	cni_expect_ok "ADD a container on host$l" || bail "ADD on host$l" "nothing else can be tested"
	ADDR[$l]=$(jqv "$CNI_OUT" '.ips[0].address | sub("/.*"; "")')
	eval "C$l=\$c"
done
diag "container on hostA: ${ADDR[A]}, on hostB: ${ADDR[B]}"
assert_ne "the two hosts hand out different addresses" "${ADDR[A]}" "${ADDR[B]}"

# The ToR: a route covering each container, the /32 or (aggregation on by
# default) the host's /26 block, with that host as next hop.
for l in A B; do
	n=$([ $l = A ] && echo 1 || echo 2)
	for i in $(seq 1 40); do
		[ "$(bird_for_nexthops tor "${ADDR[$l]}")" = "10.0.$n.1" ] && break
		sleep 0.05
	done
	P=$(bird_route_for tor "${ADDR[$l]}")
	diag "ToR's route for ${ADDR[$l]}: $P"
	assert_match "ToR: route for host$l's container is its /32 or block" "$P" '^192\.168\.1\.[0-9]+/(32|2[6-9]|3[01])$'
	assert_eq "ToR: next hop for host$l's container is host$l" "10.0.$n.1" "$(bird_for_nexthops tor "${ADDR[$l]}")"
	assert_eq "ToR: AS_PATH for host$l's route is 65002" 65002 "$(bird_attr tor "$P" BGP.as_path)"
done
diag "ToR's table:"
birdq tor show route | sed 's/^/#   /' >&2

ping_ok "container on hostA -> container on hostB through the ToR" "$CA" "${ADDR[B]}"
ping_ok "container on hostB -> container on hostA through the ToR" "$CB" "${ADDR[A]}"
assert_match "the path crosses the ToR (TTL 61: hostA, ToR, hostB)" \
	"$(ip netns exec "$CA" ping -c 1 -W 1 "${ADDR[B]}" 2>&1)" 'ttl=61'

# ----------------------------------------------------------- teardown
for l in A B; do
	c=C$l
	T_CONF=${CONF[$l]} cni_del "${HOSTNS[$l]}" "ctr-seed-$l" "${!c}" eth0
	cni_expect_ok "DEL the container on host$l"
done
# Withdrawn: nothing routes the addresses to the hosts any more (the /32
# or the block went; only the ToR's own blackhole default still matches).
for l in A B; do
	for i in $(seq 1 40); do
		[ -z "$(bird_for_nexthops tor "${ADDR[$l]}")" ] && break
		sleep 0.05
	done
	assert_eq "ToR: host$l's route withdrawn after DEL" "" "$(bird_for_nexthops tor "${ADDR[$l]}")"
done
for l in A B; do
	ld_stop $l
	assert_eq "host$l: leafnetd exits 0 on SIGTERM" 0 "$?"
done
bird_stop_all
t_done
