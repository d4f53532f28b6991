#!/bin/bash
# Fabric model "downward default": all hosts are one AS (64512), all ToRs
# another (65001), the spine a third (BIRD, AS 65000).  Each ToR sends its
# hosts nothing but a default route, and leafnetd accepts nothing but the
# default from it (the import policy `default`); the spine, which holds
# every rack's routes, sends the ToRs everything, but a ToR keeps only its
# own rack's routes and the spine's default: the other ToR's routes carry
# the ToRs' shared AS and are dropped as AS-path loops.  So a host holds
# one learned route, a ToR its own rack plus the default, and only the
# spine the whole fabric.  Two racks of two hosts, topology in
# tests/fabric.sh.
#
# Checks: the operator's netctl commands and the ToR and spine configs (the
# README's, verbatim); every host's `netctl status` shows its ToR
# Established; ToR tables: exactly 3 routes (own 2 blocks, the default via
# the spine), exported to each host: the default only; the spine: the 4
# blocks and its default; every host: only the default via its ToR (proto
# 77); a container in rack 1 pings one in rack 2 (TTL 59: host, ToR, spine,
# ToR, host), one in its own rack through the ToR (TTL 61).  Then (BIRD
# ToRs) ToR 1 goes wrong the way ToRs do (exports everything and its connected uplink
# network): host11 and host12 still install only the default, the import
# policy (`netctl bgp import default`) drops the rest; with `--import=all`
# on host11's ToR peer the uplink network shows up in host11's kernel, and
# back to the global policy (`--import=inherit`) it goes.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
. "$(dirname "$0")/../fabric.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" "$BIN/leafnetd" bird birdc ping curl
TOR=${FABRIC_TOR:-bird}
MODEL=downward-default

# ------------------------------------------------- what the operator types
NETCTL='
netctl network create public --subnet=10.100.0.0/16
netctl bgp node-mesh off
netctl bgp default-node-as 64512
netctl node set host11 --router-ip=10.1.0.1/24
netctl node set host12 --router-ip=10.1.0.2/24
netctl node set host21 --router-ip=10.2.0.1/24
netctl node set host22 --router-ip=10.2.0.2/24
netctl node bgp peer add 10.1.0.254 as 65001 --node host11
netctl node bgp peer add 10.1.0.254 as 65001 --node host12
netctl node bgp peer add 10.2.0.254 as 65001 --node host21
netctl node bgp peer add 10.2.0.254 as 65001 --node host22
netctl bgp import default'
fab_assert_readme netctl-downward-default "${NETCTL#?}"
case $TOR in
bird) fab_assert_readme bird-tor-downward-default "$(fab_bird_tor_conf $MODEL 1)" ;;
frr)  fab_assert_readme frr-tor-downward-default "$(fab_frr_tor_conf $MODEL 1)" ;;
esac
fab_assert_readme bird-spine-downward-default "$(fab_bird_spine_conf $MODEL)"

fab_topology
fab_spine_start $MODEL
fab_tor_start $MODEL 1 "$TOR"
fab_tor_start $MODEL 2 "$TOR"
fab_netctl "$NETCTL"
T_CONF=${FAB_CONF[host22]} nctl bgp import
assert_eq "netctl bgp import: default (seen from another host)" default "$NCTL_OUT"
fab_leafnetd_start
fab_assert_established 30
fab_containers

# --------------------------------------------------------- the ToRs' tables
B11=$(fab_block "${FAB_CADDR[host11]}")
B12=$(fab_block "${FAB_CADDR[host12]}")
B21=$(fab_block "${FAB_CADDR[host21]}")
B22=$(fab_block "${FAB_CADDR[host22]}")
assert_eq "four hosts, four blocks (host11's two containers share one)" 4 \
	"$(printf '%s\n' "$B11" "$B12" "$B21" "$B22" "$(fab_block "${FAB_CADDR[host11b]}")" | sort -u | grep -c .)"
for r in 1 2; do
	if fab_wait_tor $r 3 30; then
		ok "tor$r: 3 routes in its table: its 2 hosts' blocks and the default"
	else
		notok "tor$r: 3 routes in its table: its 2 hosts' blocks and the default" \
			"$(fab_tor_count $r) routes: $(fab_tor_routes $r | xargs)"
	fi
done
assert_eq "tor1: own hosts direct, the default via the spine, nothing of rack 2" \
	"$(printf '%s\n' "$B11 10.1.0.1" "$B12 10.1.0.2" "0.0.0.0/0 10.0.1.1" | sort)" \
	"$(fab_tor_routes 1)"
assert_eq "tor2: own hosts direct, the default via the spine, nothing of rack 1" \
	"$(printf '%s\n' "$B21 10.2.0.1" "$B22 10.2.0.2" "0.0.0.0/0 10.0.2.1" | sort)" \
	"$(fab_tor_routes 2)"
for h in $FAB_HOSTS; do
	r=$(fab_rack "$h")
	# the table above is settled, the export may not be yet: FRR fills a
	# neighbour's adj-out on its update group's timer (seen empty in a
	# loaded run, the table already right)
	for _ in $(seq 1 50); do
		[ "$(fab_tor_exported $r "$h" | xargs)" = 0.0.0.0/0 ] && break
		sleep 0.2
	done
	assert_eq "tor$r ($TOR): exports exactly one route to $h: the default" "0.0.0.0/0" \
		"$(fab_tor_exported $r "$h" | xargs)"
done
# (the ToRs pass the blocks on to the spine after their own table settled:
# an FRR ToR under load takes seconds more)
for _ in $(seq 1 300); do
	[ "$(bird_count spine master4)" = 5 ] && break
	sleep 0.1
done
assert_eq "spine: the 4 blocks (via their ToRs) and its own default" \
	"$(printf '%s\n' "$B11 10.0.1.2" "$B12 10.0.1.2" "$B21 10.0.2.2" "$B22 10.0.2.2" | sort)" \
	"$(birdq spine show route primary table master4 | awk '$1 ~ /\// { p = $1 } $1 == "via" { print p, $2 }' | sort)"
assert_eq "spine: 5 routes in its table" 5 "$(bird_count spine master4)"

# --------------------------------------------------------- the hosts' tables
for h in $FAB_HOSTS; do
	fab_assert_learned "$h: learned only the default, via its ToR" \
		"$h" "default $(fab_tor_ip "$(fab_rack "$h")")" 20
done

# ---------------------------------------------------------------- traffic
fab_assert_ping "rack 1 -> rack 2: host11's container pings host21's through ToR, spine, ToR (TTL 59)" \
	host11 host21 59
fab_assert_ping "rack 2 -> rack 1: host22's container pings host12's (TTL 59)" host22 host12 59
fab_assert_ping "inside rack 1: host11b's container pings host12's through the ToR (TTL 61)" \
	host11b host12 61

# ------------------------------------------- a ToR that sends too much
if [ "$TOR" != bird ]; then
	fab_stop_all
	t_done
fi
# ToR 1 misconfigured: its hosts get everything it has, and its connected
# uplink network (10.0.1.0/30) too.  Only leafnetd's import policy stands
# between that and the hosts' kernels.
# nlri_in HOST: prefixes HOST's leafnetd was sent by its ToR, before the
# import policy (leafnet_bgp_peer_prefixes_received_total, its metrics)
nlri_in() {
	ip netns exec "${FAB_NS[$1]}" curl -s --max-time 2 http://127.0.0.1:9474/metrics |
		awk '/^leafnet_bgp_peer_prefixes_received_total\{/ { print $NF }'
}
declare -A N0
for h in host11 host12; do N0[$h]=$(nlri_in $h); done
diag "prefixes sent to host11, host12 before: ${N0[host11]}, ${N0[host12]}"
{ printf 'log "%s" all;\n' "$(bird_log tor1)"
  fab_bird_tor_conf $MODEL 1 | sed 's/export where net = 0.0.0.0\/0;/export all;/'
  printf 'protocol direct uplink { ipv4; interface "spine"; }\n'; } >"$(bird_conf tor1)"
assert_match "tor1 reconfigured (export all, its uplink network)" \
	"$(birdq tor1 configure)" 'Reconfigured'
for i in $(seq 1 50); do
	n=$(fab_tor_exported 1 host11 | xargs)
	[ "$n" = "$(printf '%s\n' 0.0.0.0/0 10.0.1.0/30 "$B12" | sort | xargs)" ] && break
	sleep 0.1
done
assert_eq "tor1 now exports to host11: the default, its uplink, host12's block" \
	"$(printf '%s\n' 0.0.0.0/0 10.0.1.0/30 "$B12" | sort | xargs)" "$n"
for h in host11 host12; do
	for i in $(seq 1 100); do
		[ "$(nlri_in $h)" -gt "${N0[$h]}" ] 2>/dev/null && break
		sleep 0.1
	done
	assert_eq "$h has been sent more than the default now (metrics: prefixes received before the import policy)" \
		yes "$([ "$(nlri_in $h)" -gt "${N0[$h]}" ] 2>/dev/null && echo yes || echo "no: ${N0[$h]} -> $(nlri_in $h)")"
done
sleep 0.5	# a route accepted by mistake would be in the kernel by now (same turn)
for h in host11 host12; do
	assert_eq "$h (import default): still only the default in the kernel" \
		"default 10.1.0.254" "$(fab_learned "$h")"
done
# per peer, as an operator would for one host: the ToR peer's own --import
T_CONF=${FAB_CONF[host11]} nctl_ok "host11's ToR peer --import=all" \
	node bgp peer add 10.1.0.254 as 65001 --node host11 --import=all
T_CONF=${FAB_CONF[host11]} nctl node bgp peer show --node host11 -o json
assert_eq "node bgp peer show: host11's ToR peer imports all" all "$(jqv "$NCTL_OUT" '.[0].import')"
# (a wider policy: leafnetd asks the ToR for its routes again, ROUTE-REFRESH;
# BIRD answers within a few seconds)
fab_assert_learned "host11 with import all: the uplink network shows up (host12's block is an AS-path loop)" \
	host11 "$(printf '%s\n' "default 10.1.0.254" "10.0.1.0/30 10.1.0.254" | sort)" 20
T_CONF=${FAB_CONF[host11]} nctl_ok "host11's ToR peer --import=inherit" \
	node bgp peer add 10.1.0.254 as 65001 --node host11 --import=inherit
fab_assert_learned "host11 back to the global import default: only the default again" \
	host11 "default 10.1.0.254" 20
assert_eq "host12 never saw more than the default" "default 10.1.0.254" "$(fab_learned host12)"
if ld_wait_established host11 10.1.0.254 30; then
	ok "host11: session with ToR 1 Established again"
else
	notok "host11: session with ToR 1 Established again" "$(ld_status host11 | xargs | cut -c1-300)"
fi
fab_assert_ping "after all that, host11's container still reaches host21's (TTL 59)" host11 host21 59

fab_stop_all
t_done
