#!/bin/bash
# Fabric model "AS per compute server": every host is its own AS, a 4-octet
# private one (RFC 6996: 4200000000-4294967294; host RJ is 42000000RJ), and
# peers over eBGP with its ToR (rack 1 AS 65001, rack 2 AS 65002), the
# ToRs over eBGP with the spine (BIRD, AS 65000).  Two racks of two hosts,
# topology in tests/fabric.sh.  The ToRs are BIRD, or FRR with
# FABRIC_TOR=frr (test_fabric_as_per_server_frr.sh).
#
# Checks: the operator's netctl commands and the ToR and spine configs (the
# README's, verbatim); netctl takes the 4-octet ASes and leafnetd runs with
# them (`netctl status -o json`); on the wire leafnetd's OPEN carries
# AS_TRANS (23456) in its 2-octet "my AS" field and the real AS in the
# 4-octet AS capability (BIRD's packet log, FRR's neighbor-events log),
# and the ToR sees the right AS for every host; every host's `netctl status` shows its ToR Established; each
# ToR's table holds exactly the 4 blocks (own hosts with AS_PATH = the
# host's AS, the other rack's via the spine with the whole 4-octet path);
# every host learned exactly the 3 other blocks; a container in rack 1 pings
# one in rack 2 across the spine (TTL 59); inside a rack the ToR passes its
# hosts each other's routes with the host as next hop (same segment: BIRD
# and FRR keep such a next hop on eBGP), so traffic goes host to host (TTL 62).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
. "$(dirname "$0")/../fabric.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" "$BIN/leafnetd" bird birdc ping
TOR=${FABRIC_TOR:-bird}
MODEL=as-per-server

# ------------------------------------------------- what the operator types
NETCTL='
netctl network create public --subnet=10.100.0.0/16
netctl bgp node-mesh off
netctl bgp create host11 --router-ip=10.1.0.1/24 --as=4200000011 --neighbor=10.1.0.254 --neighbor-as=65001
netctl bgp create host12 --router-ip=10.1.0.2/24 --as=4200000012 --neighbor=10.1.0.254 --neighbor-as=65001
netctl bgp create host21 --router-ip=10.2.0.1/24 --as=4200000021 --neighbor=10.2.0.254 --neighbor-as=65002
netctl bgp create host22 --router-ip=10.2.0.2/24 --as=4200000022 --neighbor=10.2.0.254 --neighbor-as=65002'
fab_assert_readme netctl-as-per-server "${NETCTL#?}"
case $TOR in
bird) fab_assert_readme bird-tor-as-per-server "$(fab_bird_tor_conf $MODEL 1)" ;;
frr)  fab_assert_readme frr-tor-as-per-server "$(fab_frr_tor_conf $MODEL 1)" ;;
esac
fab_assert_readme bird-spine "$(fab_bird_spine_conf $MODEL)"

fab_topology
fab_spine_start $MODEL
fab_tor_start $MODEL 1 "$TOR"
fab_tor_start $MODEL 2 "$TOR"
# the ToRs log the OPENs they receive
for r in 1 2; do
	case $TOR in
	bird) for h in $(fab_hosts_of $r); do birdq "tor$r" debug "$h" "{ packets }" >/dev/null; done ;;
	frr)  frr_vtysh "tor$r" 'debug bgp neighbor-events' >/dev/null ;;
	esac
done
# open_log R HOST: the ToR's log lines about HOST's OPEN, as
# "as=N" (BIRD: "Got OPEN(as=N,", FRR: "rcv OPEN, ... remote-as (in open) N")
open_log() {
	case $TOR in
	bird) sed -n "s/.*$2: Got OPEN(as=\([0-9]*\),.*/as=\1/p" "$(bird_log "tor$1")" ;;
	frr)  sed -n "s/.*$(fab_host_ip "$2") rcv OPEN.*remote-as (in open) \([0-9]*\),.*/as=\1/p" \
		"${FRR_DIR[tor$1]}/bgpd.log" ;;
	esac | sort -u
}
fab_netctl "$NETCTL"

for h in $FAB_HOSTS; do
	T_CONF=${FAB_CONF[$h]} nctl node show "$h" -o json
	assert_eq "netctl node show $h: AS $(fab_host_as $MODEL $h)" "$(fab_host_as $MODEL $h)" \
		"$(jqv "$NCTL_OUT" '.as')"
done
fab_leafnetd_start
fab_assert_established 30
for h in $FAB_HOSTS; do
	r=$(fab_rack "$h")
	as=$(fab_host_as $MODEL "$h")
	assert_eq "$h: leafnetd runs as AS $as (netctl status -o json)" "$as" \
		"$(jqv "$(fab_status_json "$h")" '.as')"
	assert_eq "tor$r ($TOR): $h's session is up in AS $as" "$as" "$(fab_tor_peer_as $r "$h")"
	assert_eq "tor$r: $h's OPEN says AS 23456 (AS_TRANS) in the 2-octet field" "as=23456" \
		"$(open_log $r "$h")"
	case $TOR in
	bird)
		assert_match "tor$r: $h announced the 4-octet AS capability" \
			"$(birdq "tor$r" show protocols all "$h" | sed -n '/Neighbor capabilities/,/Session:/p')" \
			'4-octet AS numbers'
		assert_match "tor$r: the session with $h runs with 4-octet ASes (BIRD: AS4)" \
			"$(birdq "tor$r" show protocols all "$h")" 'Session:[[:space:]]+external AS4' ;;
	frr)
		assert_eq "tor$r: $h and FRR both have the 4-octet AS capability" advertisedAndReceived \
			"$(frr_vtysh "tor$r" "show bgp neighbors $(fab_host_ip "$h") json" |
			   jq -r '.[].neighborCapabilities["4byteAs"]' 2>/dev/null)" ;;
	esac
done
fab_containers

# --------------------------------------------------------- the ToRs' tables
B11=$(fab_block "${FAB_CADDR[host11]}")
B12=$(fab_block "${FAB_CADDR[host12]}")
B21=$(fab_block "${FAB_CADDR[host21]}")
B22=$(fab_block "${FAB_CADDR[host22]}")
assert_eq "four hosts, four blocks (host11's two containers share one)" 4 \
	"$(printf '%s\n' "$B11" "$B12" "$B21" "$B22" "$(fab_block "${FAB_CADDR[host11b]}")" | sort -u | grep -c .)"
for r in 1 2; do
	if fab_wait_tor $r 4 30; then
		ok "tor$r: 4 routes in its table, one block per host"
	else
		notok "tor$r: 4 routes in its table, one block per host" \
			"$(fab_tor_count $r) routes: $(fab_tor_routes $r | xargs)"
	fi
done
assert_eq "tor1: own hosts direct, rack 2 via the spine" \
	"$(printf '%s\n' "$B11 10.1.0.1" "$B12 10.1.0.2" "$B21 10.0.1.1" "$B22 10.0.1.1" | sort)" \
	"$(fab_tor_routes 1)"
assert_eq "tor2: own hosts direct, rack 1 via the spine" \
	"$(printf '%s\n' "$B21 10.2.0.1" "$B22 10.2.0.2" "$B11 10.0.2.1" "$B12 10.0.2.1" | sort)" \
	"$(fab_tor_routes 2)"
assert_eq "tor1: host11's block has AS_PATH 4200000011" 4200000011 "$(fab_tor_as_path 1 "$B11")"
assert_eq "tor1: host22's block has AS_PATH 65000 65002 4200000022" "65000 65002 4200000022" \
	"$(fab_tor_as_path 1 "$B22")"
assert_eq "spine: 4 routes" 4 "$(bird_count spine master4)"

# --------------------------------------------------------- the hosts' tables
for h in $FAB_HOSTS; do
	r=$(fab_rack "$h")
	case $h in
	host11) exp="$B12 10.1.0.2|$B21 10.1.0.254|$B22 10.1.0.254" ;;
	host12) exp="$B11 10.1.0.1|$B21 10.1.0.254|$B22 10.1.0.254" ;;
	host21) exp="$B22 10.2.0.2|$B11 10.2.0.254|$B12 10.2.0.254" ;;
	host22) exp="$B21 10.2.0.1|$B11 10.2.0.254|$B12 10.2.0.254" ;;
	esac
	exp=$(tr '|' '\n' <<<"$exp" | sort)
	fab_assert_learned "$h: learned the 3 other blocks (rack mate direct, other rack via tor$r)" \
		"$h" "$exp" 20
done

# ---------------------------------------------------------------- traffic
fab_assert_ping "rack 1 -> rack 2: host11's container pings host21's across the spine (TTL 59)" \
	host11 host21 59
fab_assert_ping "rack 2 -> rack 1: host22's container pings host12's (TTL 59)" host22 host12 59
fab_assert_ping "inside rack 1: host11b's container pings host12's host to host (TTL 62)" \
	host11b host12 62

fab_stop_all
t_done
