#!/bin/bash
# Fabric model "AS per rack": the hosts of a rack share their ToR's AS
# (rack 1: AS 65001, rack 2: AS 65002) and peer over iBGP with the ToR,
# which reflects routes between its hosts (RFC 4456, hosts as clients) and
# peers over eBGP with the spine (BIRD, AS 65000).  Two racks of two hosts,
# topology in tests/fabric.sh.  The ToRs are BIRD here; the same test runs
# with FRR (test_fabric_as_per_rack_frr.sh) and GoBGP
# (test_fabric_as_per_rack_gobgp.sh) as ToRs, FABRIC_TOR=bird|frr|gobgp.
#
# Next hops: the ToR sends its hosts the spine's routes with itself as
# next hop (BIRD `next hop self ebgp`, FRR `next-hop-self`, GoBGP
# `set-next-hop = "self"` for external routes): iBGP would otherwise keep
# the spine's address, which is not on the hosts' subnet.  Routes reflected
# between the hosts of a rack keep the host as next hop, so traffic inside
# a rack goes host to host over the rack's segment.
#
# Checks: the operator's netctl commands (the README's, verbatim), the ToR
# configs (the README's, verbatim), every host's `netctl status` shows its
# ToR Established; each ToR's table holds exactly the 4 hosts' blocks (one
# /26 per host, two containers on host11 still one route), its own hosts
# as next hops and the spine for the other rack; each host learned exactly
# 3 routes (proto 77); a container in rack 1 pings one in rack 2 across the
# spine (TTL 59) and one in its own rack host to host (TTL 62).
#
# GoBGP programs no kernel by itself.  Its zebra client (gobgpd 3.10, the
# Debian 12 package) was tried with Debian 12's FRR 8.4 zebra and panics
# decoding zebra's interface messages (ZAPI 6 of FRR 8.4 is newer than the
# "frr8.2" dialect it knows), so real forwarding through zebra is not
# available with these packages.  Instead the test reads GoBGP's RIB
# (`gobgp global rib -j`, best paths) and installs exactly those routes in
# the ToR's kernel (proto bgp), as a FIB agent would: the RIB is asserted
# first, the data path then follows what GoBGP chose.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
. "$(dirname "$0")/../fabric.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" "$BIN/leafnetd" bird birdc ping
TOR=${FABRIC_TOR:-bird}
MODEL=as-per-rack

# ------------------------------------------------- what the operator types
NETCTL='
netctl network create public --subnet=10.100.0.0/16
netctl bgp node-mesh off
netctl node set host11 --router-ip=10.1.0.1/24 --as=65001
netctl node set host12 --router-ip=10.1.0.2/24 --as=65001
netctl node set host21 --router-ip=10.2.0.1/24 --as=65002
netctl node set host22 --router-ip=10.2.0.2/24 --as=65002
netctl node bgp peer add 10.1.0.254 as 65001 --node host11
netctl node bgp peer add 10.1.0.254 as 65001 --node host12
netctl node bgp peer add 10.2.0.254 as 65002 --node host21
netctl node bgp peer add 10.2.0.254 as 65002 --node host22'
fab_assert_readme netctl-as-per-rack "${NETCTL#?}"
case $TOR in
bird)  fab_assert_readme bird-tor-as-per-rack "$(fab_bird_tor_conf $MODEL 1)" ;;
frr)   fab_assert_readme frr-tor-as-per-rack "$(fab_frr_tor_conf $MODEL 1)" ;;
gobgp) fab_assert_readme gobgp-tor-as-per-rack "$(fab_gobgp_tor_conf 1)" ;;
esac
fab_assert_readme bird-spine "$(fab_bird_spine_conf $MODEL)"

fab_topology
fab_spine_start $MODEL
fab_tor_start $MODEL 1 "$TOR"
fab_tor_start $MODEL 2 "$TOR"
fab_netctl "$NETCTL"
fab_leafnetd_start
fab_assert_established 30
fab_containers

# --------------------------------------------------------- the ToRs' tables
B11=$(fab_block "${FAB_CADDR[host11]}")
B12=$(fab_block "${FAB_CADDR[host12]}")
B21=$(fab_block "${FAB_CADDR[host21]}")
B22=$(fab_block "${FAB_CADDR[host22]}")
assert_eq "host11's two containers are in one block" "$B11" "$(fab_block "${FAB_CADDR[host11b]}")"
assert_eq "four hosts, four blocks" 4 "$(printf '%s\n' "$B11" "$B12" "$B21" "$B22" | sort -u | grep -c .)"

for r in 1 2; do
	if fab_wait_tor $r 4 30; then
		ok "tor$r ($TOR): 4 routes in its table, one block per host"
	else
		notok "tor$r ($TOR): 4 routes in its table, one block per host" \
			"$(fab_tor_count $r) routes: $(fab_tor_routes $r | xargs)"
	fi
done
# own hosts as next hops, the spine for the other rack
assert_eq "tor1: own hosts direct, rack 2 via the spine" \
	"$(printf '%s\n' "$B11 10.1.0.1" "$B12 10.1.0.2" "$B21 10.0.1.1" "$B22 10.0.1.1" | sort)" \
	"$(fab_tor_routes 1)"
assert_eq "tor2: own hosts direct, rack 1 via the spine" \
	"$(printf '%s\n' "$B21 10.2.0.1" "$B22 10.2.0.2" "$B11 10.0.2.1" "$B12 10.0.2.1" | sort)" \
	"$(fab_tor_routes 2)"
assert_eq "spine: the 4 blocks, each via its rack's ToR" \
	"$(printf '%s\n' "$B11 10.0.1.2" "$B12 10.0.1.2" "$B21 10.0.2.2" "$B22 10.0.2.2" | sort)" \
	"$(birdq spine show route primary table master4 | awk '$1 ~ /\// { p = $1 } $1 == "via" { print p, $2 }' | sort)"
if [ "$TOR" = bird ]; then
	assert_eq "tor1: host11's block came over iBGP (no AS in the path)" "" \
		"$(bird_attr tor1 "$B11" BGP.as_path | xargs)"
	assert_eq "tor1: rack 2's block came from the spine (65000 65002)" "65000 65002" \
		"$(bird_attr tor1 "$B21" BGP.as_path | xargs)"
fi

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
if [ "$TOR" = gobgp ]; then
	for r in 1 2; do
		gobgp_fib_sync tor$r
		assert_eq "tor$r: GoBGP's 4 best paths are in its kernel" 4 \
			"$(count_lines ip -n "${FAB_NS[tor$r]}" -4 route show proto bgp)"
	done
fi
fab_assert_ping "rack 1 -> rack 2: host11's container pings host21's across the spine (TTL 59)" \
	host11 host21 59
fab_assert_ping "rack 2 -> rack 1: host22's container pings host12's (TTL 59)" host22 host12 59
fab_assert_ping "inside rack 1: host11b's container pings host12's host to host (TTL 62)" \
	host11b host12 62

fab_stop_all
t_done
